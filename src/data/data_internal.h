/* data_internal.h — private pieces of the datasets code shared by the src/data files,
 * the tests and the benchmark (not public API). */
#ifndef HS_DATA_INTERNAL_H
#define HS_DATA_INTERNAL_H

#include "core/internal.h"
#include "headscan/data.h"

/* SHA-256 (OpenSSL libcrypto) as 64 lowercase hex digits + NUL. */
hs_status hs_data_sha256(const void *data, size_t len, char hex[65]);
hs_status hs_data_sha256_file(const char *path, char hex[65]);
/* Incremental SHA-256: new (NULL when out of memory), update, final (frees). */
typedef struct hs_sha256 hs_sha256;
hs_sha256 *hs_sha256_new(void);
hs_status hs_sha256_update(hs_sha256 *h, const void *data, size_t len);
hs_status hs_sha256_final(hs_sha256 *h, char hex[65]);   /* h may be NULL (error); frees h */

/* Number of code points in valid UTF-8 (Python's len of the str). */
size_t hs_data_utf8_count(const char *s, size_t len);

/* The encoder the token builder calls: appends the ids of text[0..len) to *out.
 * Must be callable from several threads at once. hs_tokens_build uses
 * hs_tokenizer_encode; the tests also plug in a fake one to check the
 * chunking/sharding logic independently of the tokenizer. */
typedef hs_status (*hs_encode_fn)(const void *ctx, const char *text, size_t len, hs_ids *out);

typedef struct hs_encoder {
    hs_encode_fn encode;
    const void *ctx;
    int32_t pad_id;           /* removed in transformerlens mode; = EOS under TransformerLens */
    int32_t bos_id;           /* the first column of every row */
    int32_t eos_id;           /* plain mode's separator */
    const char *eos_text;     /* "<|endoftext|>": the separator TL joins documents with */
} hs_encoder;

hs_status hs_tokens_build_with(const hs_encoder *enc, hs_docs *docs, const hs_tokens_params *params,
                               hs_array *out, hs_tokens_stats *stats);
/* The same, written straight into the .npy file `path` (atomically) in memory that does not
 * grow with the rows: rows are spilled unshuffled to a temporary file beside it. */
hs_status hs_tokens_build_with_npy(const hs_encoder *enc, hs_docs *docs, const hs_tokens_params *params,
                                   const char *path, hs_tokens_stats *stats);

/* The parameters a source was opened with (field points into the source). */
hs_docs_params hs_docs_get_params(const hs_docs *d);

/* Appends n ids to a hs_ids (growing it). */
hs_status hs_data_ids_append(hs_ids *ids, const int32_t *v, size_t n);

#endif
