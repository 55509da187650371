/* headscan/tokenizer.h — HuggingFace tokenizer.json BPE tokenizers.
 *
 * Encodes and decodes exactly as the HuggingFace `tokenizers` library does for BPE files:
 * byte-level (GPT-NeoX/Pythia, GPT-2), SentencePiece-style with byte fallback (Llama 1/2,
 * TinyLlama, Mistral), tiktoken-style (Llama 3) and Qwen2's. Anything else in a tokenizer.json
 * (WordPiece/Unigram models, other normalizers, ...) is refused at load time, naming the JSON
 * path. A loaded tokenizer is immutable apart from an internal, thread-safe cache: one handle
 * may encode on many threads.
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
/* The calling thread's last error message (same as hs_last_error(): one handle may be
 * shared by many threads, so errors are kept per thread, not in the handle). */
HS_API const char *hs_tokenizer_error(const hs_tokenizer *tok);

/* Encodes UTF-8 text (no BOS added: HF's add_special_tokens=False) and APPENDS the ids to *out.
 * Invalid UTF-8 is an error (HS_ERR_FORMAT, naming the byte offset) unless
 * `errors` is HS_UTF8_REPLACE. */
HS_API hs_status hs_tokenizer_encode(const hs_tokenizer *tok, const char *text, size_t len,
                                     hs_utf8_errors errors, hs_ids *out);

/* Whole-sequence decode (tokenizer.decode, special tokens kept, lossy UTF-8).
 * Ids without a token (>= size) are dropped, as HF does; a negative id is HS_ERR_INVALID_ARG.
 * *out is malloc'd and NUL-terminated; *out_len excludes the NUL. */
HS_API hs_status hs_tokenizer_decode(const hs_tokenizer *tok, const int32_t *ids, size_t n,
                                     char **out, size_t *out_len);

/* Number of ids the tokenizer knows (vocab + added tokens; largest id + 1), e.g. 50277 for Pythia. */
HS_API int32_t hs_tokenizer_size(const hs_tokenizer *tok);
/* Id of a token string (vocab or added token), or -1. */
HS_API int32_t hs_tokenizer_token_to_id(const hs_tokenizer *tok, const char *token);
/* BOS as TransformerLens sees it: the special token the post-processor puts in front (Llama-2
 * "<s>" = 1, Llama-3 "<|begin_of_text|>" = 128000), else the id of "<|endoftext|>" (0 for
 * Pythia, 50256 for GPT-2, 151643 for Qwen2), else -1. */
HS_API int32_t hs_tokenizer_bos_id(const hs_tokenizer *tok);
/* True when encoding with add_special_tokens puts hs_tokenizer_bos_id() first (the
 * post-processor's single template starts with a special token: Llama-2, Llama-3; not GPT-2,
 * Pythia or Qwen2). */
HS_API bool hs_tokenizer_adds_bos(const hs_tokenizer *tok);

/* HF's encode(text, add_special_tokens): with add_special_tokens the post-processor's template
 * (TemplateProcessing, e.g. "<s> $A") wraps the ids; without, as hs_tokenizer_encode. APPENDS. */
HS_API hs_status hs_tokenizer_encode_special(const hs_tokenizer *tok, const char *text, size_t len,
                                             bool add_special_tokens, hs_utf8_errors errors, hs_ids *out);
/* HF's encode(a, b, add_special_tokens) for a pair of sequences: the template's pair form
 * ("<s> $A <s> $B" for Llama), or a then b without special tokens. APPENDS. */
HS_API hs_status hs_tokenizer_encode_pair(const hs_tokenizer *tok, const char *a, size_t alen, const char *b,
                                          size_t blen, bool add_special_tokens, hs_utf8_errors errors, hs_ids *out);

/* ---- additions (TransformerLens conveniences, batch encoding, per-token strings) ---- */

/* Number of ids is hs_tokenizer_size(); this is the raw token string of an id (e.g. "Ġworld",
 * or an added token's content), NUL-terminated and owned by the tokenizer, or NULL. */
HS_API const char *hs_tokenizer_id_to_token(const hs_tokenizer *tok, int32_t id);

/* TL's model.to_tokens(text, prepend_bos): [bos] + encode(text) when prepend_bos (the
 * TransformerLens default), else encode(text). APPENDS to *out. */
HS_API hs_status hs_tokenizer_to_tokens(const hs_tokenizer *tok, const char *text, size_t len, bool prepend_bos,
                                        hs_utf8_errors errors, hs_ids *out);

/* Encodes n texts on hs_get_num_threads() threads; outs[i] (zero-initialised by the caller)
 * receives the ids of texts[i]. On failure the error names the first failing text. */
HS_API hs_status hs_tokenizer_encode_batch(const hs_tokenizer *tok, const char *const *texts, const size_t *lens,
                                           size_t n, hs_utf8_errors errors, hs_ids *outs);

/* hs_tokenizer_encode_batch with HF's add_special_tokens (tokenizer(texts) in Python is True). */
HS_API hs_status hs_tokenizer_encode_batch_special(const hs_tokenizer *tok, const char *const *texts,
                                                   const size_t *lens, size_t n, bool add_special_tokens,
                                                   hs_utf8_errors errors, hs_ids *outs);

/* to_string for one id: decode([id]) — what to_str_tokens shows for that token. Byte
 * fragments of a multi-byte character come out as U+FFFD (e.g. "\uFFFD\uFFFD").
 * *out is malloc'd and NUL-terminated. to_string of a sequence is hs_tokenizer_decode. */
HS_API hs_status hs_tokenizer_token_str(const hs_tokenizer *tok, int32_t id, char **out, size_t *out_len);

/* The notebook's display form of a token string (process_token): " " -> "·", "\n" -> "↩\n",
 * "\t" -> "→". *out is malloc'd and NUL-terminated. */
HS_API hs_status hs_token_display(const char *s, size_t len, char **out, size_t *out_len);

/* Byte offset of the first invalid UTF-8 byte in s[0..n), or n when s is valid UTF-8. */
HS_API size_t hs_utf8_validate(const char *s, size_t n);
/* Copy of s with each maximal invalid UTF-8 subpart replaced by U+FFFD (what Python's
 * errors="replace" gives). *out is malloc'd and NUL-terminated. */
HS_API hs_status hs_utf8_replace_invalid(const char *s, size_t n, char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
