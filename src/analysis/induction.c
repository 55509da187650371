/* induction.c — induction scores on repeated random tokens (analysis.md §8): the token
 * pool, our seeded generator for [BOS, R, R], and the pattern stripe mean. */
#include "core/internal.h"
#include "headscan/scan.h"
#include <stdlib.h>
#include <string.h>

hs_status hs_induction_pool(const hs_tokenizer *tok, int vocab, int lo, int hi, int64_t **out, int64_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (lo >= vocab) lo = 1;   /* a small vocabulary: the whole of it but BOS */
    if (lo < 1) lo = 1;
    if (hi > vocab - 1) hi = vocab - 1;
    if (hi < lo) return hs_errorf(HS_ERR_INVALID_ARG, "induction token pool %d..%d is empty for a vocabulary of %d", lo, hi, vocab);
    int64_t *p = hs_malloc(sizeof(int64_t) * (size_t)(hi - lo + 1));
    if (!p) return HS_ERR_NOMEM;
    int64_t n = 0;
    for (int id = lo; id <= hi; id++) {
        if (tok) {
            char *s = NULL;
            size_t len = 0;
            hs_status st = id < hs_tokenizer_size(tok) ? hs_tokenizer_token_str(tok, id, &s, &len) : HS_ERR_NOT_FOUND;
            if (st) {   /* ids the tokenizer does not know decode to "" in TL: keep them */
                hs_error_clear();
                p[n++] = id;
                continue;
            }
            bool dbl = false;
            for (size_t i = 0; i + 1 < len && !dbl; i++) dbl = s[i] == ' ' && s[i + 1] == ' ';
            free(s);
            if (dbl) continue;
        }
        p[n++] = id;
    }
    if (n == 0) { free(p); return hs_errorf(HS_ERR_INVALID_ARG, "induction token pool %d..%d: every id decodes with a double space", lo, hi); }
    *out = p;
    *n_out = n;
    return HS_OK;
}

/* SplitMix64 (Steele, Lea, Flood 2014). */
static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in 0..n-1 (Lemire 2019, unbiased). */
static uint64_t uniform_below(uint64_t *s, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)splitmix64(s) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            m = (unsigned __int128)splitmix64(s) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

hs_status hs_induction_tokens(const int64_t *pool, int64_t n_pool, int batch, int seq_len, uint64_t seed, int64_t bos,
                              hs_array *out) {
    memset(out, 0, sizeof *out);
    if (n_pool < 1 || batch < 1 || seq_len < 1)
        return hs_errorf(HS_ERR_INVALID_ARG, "induction tokens: need a non-empty pool and positive sizes (pool %lld, %d x %d)",
                         (long long)n_pool, batch, seq_len);
    int64_t W = 1 + 2 * (int64_t)seq_len;
    int64_t *t = hs_malloc(sizeof(int64_t) * (size_t)(batch * W));
    if (!t) return HS_ERR_NOMEM;
    uint64_t s = seed;
    for (int b = 0; b < batch; b++) {
        int64_t *row = t + b * W;
        row[0] = bos;
        for (int i = 0; i < seq_len; i++) row[1 + i] = row[1 + seq_len + i] = pool[uniform_below(&s, (uint64_t)n_pool)];
    }
    out->dtype = HS_I64;
    out->ndim = 2;
    out->shape[0] = batch;
    out->shape[1] = W;
    out->data = t;
    return HS_OK;
}

typedef struct ind_ctx {
    int L, H, B, T, off;
    double *sum;   /* [L*H] */
} ind_ctx;

static bool ind_hook(const hs_hook_tensor *t, bool ask, void *user) {
    ind_ctx *c = user;
    if (t->layer < 0 || strcmp(strchr(t->name + 7, '.') + 1, "attn.hook_pattern")) return false;
    if (ask) return true;
    const int B = c->B, H = c->H, T = c->T;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *P = t->data + ((size_t)b * H + h) * T * T;
            double s = 0;
            for (int i = 0; i + c->off < T; i++) s += P[(size_t)(i + c->off) * T + i];
            c->sum[t->layer * H + h] += s;
        }
    return t->layer + 1 < c->L;   /* the last layer's pattern is the last thing needed: stop the pass there */
}

hs_status hs_induction_scores(const hs_model *m, const hs_array *ind, float *out) {
    const hs_model_config *cfg = hs_model_get_config(m);
    if (ind->ndim != 2 || (ind->dtype != HS_I64 && ind->dtype != HS_I32))
        return hs_errorf(HS_ERR_INVALID_ARG, "induction tokens must be a 2-D integer array [batch, 1 + 2*seq_len]");
    int B = (int)ind->shape[0], T = (int)ind->shape[1];
    if (B < 1 || T < 3 || T % 2 == 0)
        return hs_errorf(HS_ERR_INVALID_ARG, "induction tokens [%d, %d]: the width must be 1 + 2*seq_len", B, T);
    if (T > cfg->n_ctx)
        return hs_errorf(HS_ERR_INVALID_ARG, "induction tokens of length %d exceed the model's n_ctx %d", T, cfg->n_ctx);
    int seq = (T - 1) / 2;
    int32_t *tok = hs_malloc(sizeof(int32_t) * (size_t)B * T);
    double *sum = hs_calloc((size_t)cfg->n_layers * cfg->n_heads, sizeof(double));
    hs_forward *f = NULL;
    hs_status s = (!tok || !sum) ? HS_ERR_NOMEM : HS_OK;
    for (int64_t i = 0; !s && i < (int64_t)B * T; i++) {
        int64_t v = ind->dtype == HS_I64 ? ((const int64_t *)ind->data)[i] : ((const int32_t *)ind->data)[i];
        if (v < 0 || v >= cfg->d_vocab)
            s = hs_errorf(HS_ERR_INVALID_ARG, "induction token %lld at [%lld, %lld] is outside the vocabulary (0..%d)", (long long)v,
                          (long long)(i / T), (long long)(i % T), cfg->d_vocab - 1);
        else tok[i] = (int32_t)v;
    }
    /* rows in chunks of at most IND_CHUNK_TOKENS tokens (at least one row): the workspace of
     * [16, 401] at once is a batch of 25 x 256 (1.7 GB at Llama-3.2-1B's shapes); the sums
     * are added in the same row order, so the scores do not depend on the chunking. (Chunks
     * of 8 rows on pythia-70m's shapes measured no faster.) */
    enum { IND_CHUNK_TOKENS = 1024 };
    const int chunk = T >= IND_CHUNK_TOKENS ? 1 : (B < IND_CHUNK_TOKENS / T ? B : IND_CHUNK_TOKENS / T);
    if (!s) s = hs_forward_create(m, chunk, T, &f);
    if (!s) {
        ind_ctx c = {.L = cfg->n_layers, .H = cfg->n_heads, .T = T, .off = seq - 1, .sum = sum};
        hs_forward_params fp = hs_forward_default_params();
        fp.hook = ind_hook;
        fp.hook_user = &c;
        for (int b0 = 0; !s && b0 < B; b0 += chunk) {
            c.B = B - b0 < chunk ? B - b0 : chunk;
            s = hs_forward_run(f, tok + (size_t)b0 * T, c.B, T, &fp);
            if (s == HS_ERR_CANCELLED) {   /* stopped by ind_hook after the last layer's pattern */
                hs_error_clear();
                s = HS_OK;
            }
        }
        /* mean = fl32(sum) * fl32(1/count), count = B * (T - off) diagonal entries */
        float recip = 1.0f / (float)((int64_t)B * (T - c.off));
        for (int g = 0; !s && g < cfg->n_layers * cfg->n_heads; g++) out[g] = (float)sum[g] * recip;
    }
    hs_forward_free(f);
    free(tok);
    free(sum);
    return s;
}
