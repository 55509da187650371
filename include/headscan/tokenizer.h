/* headscan/tokenizer.h — HuggingFace tokenizer.json byte-level BPE.
 *
 * Encodes and decodes exactly as the HuggingFace `tokenizers` library does for
 * byte-level BPE files (GPT-NeoX/Pythia, GPT-2). A loaded tokenizer is immutable
 * apart from an internal, thread-safe cache: one handle may encode on many threads.
 */
#ifndef HEADSCAN_TOKENIZER_H
#define HEADSCAN_TOKENIZER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_tokenizer hs_tokenizer;

/* A growable list of token ids. Zero-initialise, append with encode, free with hs_ids_free. */
typedef struct hs_ids {
    int32_t *data;
    size_t len, cap;
} hs_ids;
HS_API void hs_ids_free(hs_ids *ids);

typedef enum { HS_UTF8_STRICT = 0, HS_UTF8_REPLACE = 1 } hs_utf8_errors;

HS_API hs_status hs_tokenizer_load(const char *path, hs_tokenizer **out);
HS_API void hs_tokenizer_free(hs_tokenizer *tok);
HS_API const char *hs_tokenizer_error(const hs_tokenizer *tok);

/* Encodes UTF-8 text (no BOS added) and APPENDS the ids to *out.
 * Invalid UTF-8 is an error (HS_ERR_FORMAT, naming the byte offset) unless
 * `errors` is HS_UTF8_REPLACE. */
HS_API hs_status hs_tokenizer_encode(const hs_tokenizer *tok, const char *text, size_t len,
                                     hs_utf8_errors errors, hs_ids *out);

/* Whole-sequence decode (tokenizer.decode, special tokens kept, lossy UTF-8).
 * *out is malloc'd and NUL-terminated; *out_len excludes the NUL. */
HS_API hs_status hs_tokenizer_decode(const hs_tokenizer *tok, const int32_t *ids, size_t n,
                                     char **out, size_t *out_len);

/* Number of ids the tokenizer knows (vocab + added tokens), e.g. 50277 for Pythia. */
HS_API int32_t hs_tokenizer_size(const hs_tokenizer *tok);
/* Id of a token string (vocab or added token), or -1. */
HS_API int32_t hs_tokenizer_token_to_id(const hs_tokenizer *tok, const char *token);
/* BOS/EOS as TransformerLens sees them: the id of "<|endoftext|>" (0 for Pythia, 50256 for GPT-2). */
HS_API int32_t hs_tokenizer_bos_id(const hs_tokenizer *tok);

#ifdef __cplusplus
}
#endif
#endif
