/* tokenizer_stub.c — TEMPORARY stand-in for the tokenizer (branch helper/tokenizer)
 * so that the datasets branch links before that branch is merged. Deleted by the
 * merge. Every call fails cleanly. */
#include "core/internal.h"
#include "headscan/tokenizer.h"
#include <stdlib.h>

void hs_ids_free(hs_ids *ids) { if (ids) { free(ids->data); ids->data = NULL; ids->len = ids->cap = 0; } }
hs_status hs_tokenizer_load(const char *path, hs_tokenizer **out) {
    *out = NULL;
    return hs_errorf(HS_ERR_UNSUPPORTED, "%s: the tokenizer is not built in this branch yet", path);
}
void hs_tokenizer_free(hs_tokenizer *tok) { (void)tok; }
const char *hs_tokenizer_error(const hs_tokenizer *tok) { (void)tok; return "tokenizer not built"; }
hs_status hs_tokenizer_encode(const hs_tokenizer *tok, const char *text, size_t len, hs_utf8_errors e, hs_ids *out) {
    (void)tok; (void)text; (void)len; (void)e; (void)out;
    return hs_errorf(HS_ERR_UNSUPPORTED, "tokenizer not built");
}
hs_status hs_tokenizer_decode(const hs_tokenizer *tok, const int32_t *ids, size_t n, char **out, size_t *out_len) {
    (void)tok; (void)ids; (void)n; *out = NULL; *out_len = 0;
    return hs_errorf(HS_ERR_UNSUPPORTED, "tokenizer not built");
}
int32_t hs_tokenizer_size(const hs_tokenizer *tok) { (void)tok; return 0; }
int32_t hs_tokenizer_token_to_id(const hs_tokenizer *tok, const char *t) { (void)tok; (void)t; return -1; }
int32_t hs_tokenizer_bos_id(const hs_tokenizer *tok) { (void)tok; return -1; }
