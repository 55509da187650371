/* model_access.h — the model's big weights a piece at a time, for code outside src/model
 * that must not keep float32 copies of them (the copying scores, the scan's unembedding
 * columns). Llama-family models hold their matrices as stored (stored.c); hs_model_weight
 * materialises and keeps a float32 copy, these do not. */
#ifndef HS_MODEL_ACCESS_H
#define HS_MODEL_ACCESS_H
#include "headscan/model.h"
#include "core/internal.h"

/* True when the model keeps its matrices in the file's dtype (hs_model_weight would
 * materialise them); false when they are float32 in memory (views). */
bool hs_model_stored(const hs_model *m);
/* dst [n, d_model] = rows v0 .. v0+n−1 of the processed W_E (unembed false) or of the
 * processed W_U^T (unembed true: column v of W_U [M, V] is row v), the values
 * hs_model_weight("W_E" / "W_U") holds, bit for bit. */
void hs_model_vocab_rows(const hs_model *m, bool unembed, int64_t v0, int64_t n, float *dst);
/* A weight as hs_model_weight gives it, without keeping what it materialises: *owned is
 * the float32 copy to release with hs_aligned_free once done, or NULL (v is a view). */
hs_status hs_model_weight_tmp(const hs_model *m, const char *name, hs_array *v, float **owned);
#endif
