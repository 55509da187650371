/* stored.c — weights kept in the checkpoint's dtype (llama.md §5, issue 15 item 5).
 *
 * Llama-family models hold their matrices exactly as the file stores them (F32, F16 or
 * BF16; HF layout [out, in]) and widen them to float32 when a GEMM needs them: a layer at a
 * time in the forward, a block of vocabulary rows at a time for the logits. Compute and
 * accumulation are float32, so a BF16 file gives the same numbers as an F32 file holding
 * the same values (the widening is exact).
 *
 * TransformerLens's processing is applied while widening, never to the stored values:
 * fold_ln multiplies column m of W_Q/W_K/W_V (gate/up, unembed) by the norm weight m, the
 * same single float32 product TL's folded weight holds; center_unembed subtracts mu[m],
 * the mean over the vocabulary of the folded W_U[m, :] (computed once at load);
 * fold_value_biases changes only b_O (small, float32). hs_model_weight() materialises
 * the processed TL weights from these on request. */
#include "model/model_internal.h"
#include "model/model_access.h"
#include <stdlib.h>
#include <string.h>

static inline float widen1(const hs_stored *s, size_t i) {
    switch (s->dtype) {
    case HS_BF16: return hs_bf16_to_f32(((const uint16_t *)s->data)[i]);
    case HS_F16: return hs_f16_to_f32(((const uint16_t *)s->data)[i]);
    default: return ((const float *)s->data)[i];
    }
}

void hs_stored_widen(const hs_stored *s, int64_t r0, int64_t nr, const float *scale, const float *sub, float *dst) {
    const int64_t C = s->cols;
    #pragma omp parallel for schedule(static) if (nr * C >= (1 << 16))
    for (int64_t r = 0; r < nr; r++) {
        const size_t base = (size_t)(r0 + r) * (size_t)C;
        float *o = dst + (size_t)r * (size_t)C;
        if (s->dtype == HS_BF16) {   /* widened, scaled and shifted in one pass (the same products) */
            const uint16_t *p = (const uint16_t *)s->data + base;
            if (scale && sub)
                for (int64_t c = 0; c < C; c++) o[c] = hs_bf16_to_f32(p[c]) * scale[c] - sub[c];
            else if (scale)
                for (int64_t c = 0; c < C; c++) o[c] = hs_bf16_to_f32(p[c]) * scale[c];
            else if (sub)
                for (int64_t c = 0; c < C; c++) o[c] = hs_bf16_to_f32(p[c]) - sub[c];
            else
                for (int64_t c = 0; c < C; c++) o[c] = hs_bf16_to_f32(p[c]);
            continue;
        }
        if (s->dtype == HS_F16)
            for (int64_t c = 0; c < C; c++) o[c] = widen1(s, base + (size_t)c);
        else memcpy(o, (const float *)s->data + base, sizeof(float) * (size_t)C);
        if (scale) for (int64_t c = 0; c < C; c++) o[c] *= scale[c];
        if (sub) for (int64_t c = 0; c < C; c++) o[c] -= sub[c];
    }
}

const hs_stored *hs_stored_unembed(const hs_model *m) { return m->st->head.data ? &m->st->head : &m->st->embed; }

hs_status hs_process_stored(hs_model *m) {
    const hs_model_config *c = &m->cfg;
    hs_weights *w = &m->w;
    const int M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, V = c->d_vocab, G = H / KV;
    const bool fold = m->params.fold_ln;
    /* center_unembed: W_U[m, v] -= mean_v W_U[m, v] of the (folded) unembedding, in double */
    memset(m->st->mu, 0, sizeof(float) * (size_t)M);
    if (m->params.center_unembed) {
        const hs_stored *U = hs_stored_unembed(m);
        double *acc = hs_calloc((size_t)M, sizeof(double));
        const int64_t RB = 1024;
        float *blk = hs_malloc(sizeof(float) * (size_t)RB * M);
        if (!acc || !blk) { free(acc); free(blk); return HS_ERR_NOMEM; }
        for (int64_t v0 = 0; v0 < V; v0 += RB) {
            int64_t n = V - v0 < RB ? V - v0 : RB;
            hs_stored_widen(U, v0, n, fold ? w->lnf_w : NULL, NULL, blk);
            for (int64_t r = 0; r < n; r++)
                for (int k = 0; k < M; k++) acc[k] += blk[(size_t)r * M + k];
        }
        for (int k = 0; k < M; k++) m->st->mu[k] = (float)(acc[k] / V);
        free(acc);
        free(blk);
        double s = 0;   /* b_U is zero for these models; centred all the same */
        for (int v = 0; v < V; v++) s += w->b_U[v];
        float mean = (float)(s / V);
        for (int v = 0; v < V; v++) w->b_U[v] -= mean;
    }
    /* fold_value_biases: b_O[m] += Σ_h Σ_e b_V[h / G, e] · W_O[h, e, m] (W_O[h, e, m] = o_proj[m, h·D + e]) */
    if (m->params.fold_value_biases) {
        float *row = hs_malloc(sizeof(float) * (size_t)H * D);
        if (!row) return HS_ERR_NOMEM;
        for (int l = 0; l < c->n_layers; l++) {
            hs_layer *L = &w->layers[l];
            const hs_stored *O = &m->st->layers[(size_t)l * ST_PER_LAYER + ST_O];
            for (int mm = 0; mm < M; mm++) {
                hs_stored_widen(O, mm, 1, NULL, NULL, row);
                double acc = 0;
                for (int h = 0; h < H; h++)
                    for (int e = 0; e < D; e++) acc += (double)L->b_V[(h / G) * D + e] * row[h * D + e];
                L->b_O[mm] += (float)acc;
            }
            memset(L->b_V, 0, sizeof(float) * (size_t)KV * D);
        }
        free(row);
    }
    return HS_OK;
}

/* ------------------------------------------------------------------ materialised TL weights */
/* TL layout from HF [G·D, M] rows: out[g, m, e] = W[g·D + e, m] · scale[m], groups repeated
 * per query head when rep > 1 (out head h reads group h / rep). */
static float *heads_from_rows(const hs_stored *s, int G, int M, int D, int rep, const float *scale) {
    float *rows = hs_malloc(sizeof(float) * (size_t)G * D * M);
    float *out = rows ? hs_aligned_alloc(sizeof(float) * (size_t)G * rep * M * D) : NULL;
    if (!out) { free(rows); return NULL; }
    hs_stored_widen(s, 0, (int64_t)G * D, scale, NULL, rows);
    for (int h = 0; h < G * rep; h++) {
        int g = h / rep;
        for (int mm = 0; mm < M; mm++)
            for (int e = 0; e < D; e++) out[((size_t)h * M + mm) * D + e] = rows[((size_t)g * D + e) * M + mm];
    }
    free(rows);
    return out;
}

/* out[c, r] = widen(s)[r, c] (· scale[c] − sub[c]): the transpose, in row blocks. */
static float *transposed(const hs_stored *s, const float *scale, const float *sub) {
    const int64_t R = s->rows, C = s->cols, RB = 1024;
    float *out = hs_aligned_alloc(sizeof(float) * (size_t)R * C);
    float *blk = out ? hs_malloc(sizeof(float) * (size_t)RB * C) : NULL;
    if (!blk) { hs_aligned_free(out); return NULL; }
    for (int64_t r0 = 0; r0 < R; r0 += RB) {
        int64_t n = R - r0 < RB ? R - r0 : RB;
        hs_stored_widen(s, r0, n, scale, sub, blk);
        #pragma omp parallel for schedule(static)
        for (int64_t cc = 0; cc < C; cc++)
            for (int64_t r = 0; r < n; r++) out[cc * R + r0 + r] = blk[r * C + cc];
    }
    free(blk);
    return out;
}

static float *materialise(const hs_model *m, const char *name, int *ndim, int64_t *shape) {
    const hs_model_config *c = &m->cfg;
    const int M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    const bool fold = m->params.fold_ln;
    *ndim = 0;   /* stays 0 unless name is a big weight */
    if (!strcmp(name, "W_E")) {
        float *o = hs_aligned_alloc(sizeof(float) * (size_t)V * M);
        if (o) hs_stored_widen(&m->st->embed, 0, V, NULL, NULL, o);
        *ndim = 2; shape[0] = V; shape[1] = M;
        return o;
    }
    if (!strcmp(name, "W_U")) {
        *ndim = 2; shape[0] = M; shape[1] = V;
        return transposed(hs_stored_unembed(m), fold ? m->w.lnf_w : NULL, m->st->mu);
    }
    int l, n = 0;
    char rest[64];
    if (sscanf(name, "blocks.%d.%63s%n", &l, rest, &n) != 2 || name[n] || l < 0 || l >= c->n_layers) return NULL;
    const hs_stored *S = &m->st->layers[(size_t)l * ST_PER_LAYER];
    const hs_layer *L = &m->w.layers[l];
    const float *s1 = fold ? L->ln1_w : NULL, *s2 = fold ? L->ln2_w : NULL;
    struct { const char *n; int which, groups, rep; } heads[] = {
        {"attn.W_Q", ST_Q, H, 1}, {"attn._W_K", ST_K, KV, 1}, {"attn._W_V", ST_V, KV, 1},
        {"attn.W_K", ST_K, KV, H / KV}, {"attn.W_V", ST_V, KV, H / KV}};
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
        if (!strcmp(rest, heads[i].n)) {
            *ndim = 3; shape[0] = (int64_t)heads[i].groups * heads[i].rep; shape[1] = M; shape[2] = D;
            return heads_from_rows(&S[heads[i].which], heads[i].groups, M, D, heads[i].rep, s1);
        }
    if (!strcmp(rest, "attn.W_O")) { *ndim = 3; shape[0] = H; shape[1] = D; shape[2] = M; return transposed(&S[ST_O], NULL, NULL); }
    if (!strcmp(rest, "mlp.W_gate")) { *ndim = 2; shape[0] = M; shape[1] = F; return transposed(&S[ST_GATE], s2, NULL); }
    if (!strcmp(rest, "mlp.W_in")) { *ndim = 2; shape[0] = M; shape[1] = F; return transposed(&S[ST_UP], s2, NULL); }
    if (!strcmp(rest, "mlp.W_out")) { *ndim = 2; shape[0] = F; shape[1] = M; return transposed(&S[ST_DOWN], NULL, NULL); }
    return NULL;
}

/* The materialised copy of name kept with the model, if any. */
static float *cached(const hs_model *m, const char *name, int *ndim, int64_t *shape) {
    struct hs_rep_cache *rc = m->rep_lock;
    float *out = NULL;
    pthread_mutex_lock(&rc->mu);
    for (int i = 0; i < rc->n_mat && !out; i++)
        if (!strcmp(rc->mat[i].name, name)) {
            out = rc->mat[i].data;
            *ndim = rc->mat[i].ndim;
            memcpy(shape, rc->mat[i].shape, sizeof rc->mat[i].shape);
        }
    pthread_mutex_unlock(&rc->mu);
    return out;
}

hs_status hs_stored_weight(const hs_model *m, const char *name, float **out, int *ndim, int64_t *shape) {
    struct hs_rep_cache *rc = m->rep_lock;
    if ((*out = cached(m, name, ndim, shape))) return HS_OK;
    if (strlen(name) >= sizeof rc->mat[0].name) return HS_ERR_NOT_FOUND;
    float *data = materialise(m, name, ndim, shape);
    if (!data) return *ndim ? hs_errorf(HS_ERR_NOMEM, "%s: out of memory materialising %s", m->dir, name) : HS_ERR_NOT_FOUND;
    hs_status s = HS_OK;
    pthread_mutex_lock(&rc->mu);
    if (rc->n_mat == rc->cap_mat) {
        int cap = rc->cap_mat ? 2 * rc->cap_mat : 16;
        struct hs_mat_entry *e = realloc(rc->mat, sizeof *e * (size_t)cap);
        if (!e) s = HS_ERR_NOMEM;
        else { rc->mat = e; rc->cap_mat = cap; }
    }
    if (!s) {
        struct hs_mat_entry *e = &rc->mat[rc->n_mat++];
        snprintf(e->name, sizeof e->name, "%s", name);
        e->data = data;
        e->ndim = *ndim;
        memcpy(e->shape, shape, sizeof e->shape);
        *out = data;
    } else hs_aligned_free(data);
    pthread_mutex_unlock(&rc->mu);
    return s;
}

/* ------------------------------------------------------------------ access without copies */
bool hs_model_stored(const hs_model *m) { return m->st != NULL; }

void hs_model_vocab_rows(const hs_model *m, bool unembed, int64_t v0, int64_t n, float *dst) {
    const int64_t M = m->cfg.d_model, V = m->cfg.d_vocab;
    if (m->st) {   /* the widening transposed() and materialise() apply */
        if (unembed) hs_stored_widen(hs_stored_unembed(m), v0, n, m->params.fold_ln ? m->w.lnf_w : NULL, m->st->mu, dst);
        else hs_stored_widen(&m->st->embed, v0, n, NULL, NULL, dst);
    } else if (unembed) {
        for (int64_t k = 0; k < M; k++)
            for (int64_t r = 0; r < n; r++) dst[r * M + k] = m->w.W_U[k * V + v0 + r];
    } else memcpy(dst, m->w.W_E + v0 * M, sizeof(float) * (size_t)(n * M));
}

hs_status hs_model_weight_tmp(const hs_model *m, const char *name, hs_array *v, float **owned) {
    *owned = NULL;
    if (m->st) {
        int nd = 0;
        int64_t shp[3] = {0, 0, 0};
        float *data = cached(m, name, &nd, shp);
        if (!data && (data = materialise(m, name, &nd, shp))) *owned = data;
        if (data) {
            memset(v, 0, sizeof *v);
            v->dtype = HS_F32;
            v->ndim = nd;
            memcpy(v->shape, shp, sizeof shp);
            v->data = data;
            return HS_OK;
        }
        if (nd) return hs_errorf(HS_ERR_NOMEM, "%s: out of memory materialising %s", m->dir, name);
    }
    return hs_model_weight(m, name, v);
}
