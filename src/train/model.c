/* model.c — the trainer's GPT-NeoX: parameter layout, init, forward, backward, AdamW.
 *
 * Forward per layer (model.md §2, parallel residual):
 *   a = LN1(h); qkv = a Wqkv^T + b; rotary(q, k); ctx = softmax(q k^T / sqrt(D), causal) v;
 *   attn = ctx Wd^T + bd; m = LN2(h); mlp = gelu(m W1^T + b1) W2^T + b2; h += attn + mlp.
 * logits = LNf(h) Wout^T; loss = mean next-token cross-entropy.
 */
#define _GNU_SOURCE
#include "train/train_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- RNG: splitmix64, Box-Muller ---- */
uint64_t tr_rng_next(tr_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
double tr_rng_uniform(tr_rng *r) { return (tr_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }
double tr_rng_normal(tr_rng *r) {
    double u1 = tr_rng_uniform(r), u2 = tr_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---- layout ---- */
enum { T_LN1W, T_LN1B, T_LN2W, T_LN2B, T_QKVW, T_QKVB, T_DW, T_DB, T_F1W, T_F1B, T_F2W, T_F2B, T_PER_LAYER };

static void add_tensor(tr_model *m, size_t *off, const char *name, int ndim, int64_t a, int64_t b, int decay) {
    tr_tensor *t = &m->t[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = a;
    t->shape[1] = ndim == 2 ? b : 1;
    t->n = (size_t)a * (size_t)t->shape[1];
    t->off = *off;
    t->decay = decay;
    *off += (t->n + 15) & ~(size_t)15;     /* 64-byte aligned starts */
}

hs_status tr_model_init(tr_model *m, const tr_config *c) {
    memset(m, 0, sizeof *m);
    m->c = *c;
    m->t = hs_calloc((size_t)c->L * T_PER_LAYER + 4, sizeof *m->t);
    if (!m->t) return HS_ERR_NOMEM;
    size_t off = 0;
    char nm[80];
    const int M = c->M, F = c->F, V = c->V;
    add_tensor(m, &off, "gpt_neox.embed_in.weight", 2, V, M, 0);
    for (int l = 0; l < c->L; l++) {
#define LT(suffix, nd, a, b, dec) do { snprintf(nm, sizeof nm, "gpt_neox.layers.%d.%s", l, suffix); \
        add_tensor(m, &off, nm, nd, a, b, dec); } while (0)
        LT("input_layernorm.weight", 1, M, 0, 0);
        LT("input_layernorm.bias", 1, M, 0, 0);
        LT("post_attention_layernorm.weight", 1, M, 0, 0);
        LT("post_attention_layernorm.bias", 1, M, 0, 0);
        LT("attention.query_key_value.weight", 2, 3 * M, M, 1);
        LT("attention.query_key_value.bias", 1, 3 * M, 0, 0);
        LT("attention.dense.weight", 2, M, M, 1);
        LT("attention.dense.bias", 1, M, 0, 0);
        LT("mlp.dense_h_to_4h.weight", 2, F, M, 1);
        LT("mlp.dense_h_to_4h.bias", 1, F, 0, 0);
        LT("mlp.dense_4h_to_h.weight", 2, M, F, 1);
        LT("mlp.dense_4h_to_h.bias", 1, M, 0, 0);
#undef LT
    }
    add_tensor(m, &off, "gpt_neox.final_layer_norm.weight", 1, M, 0, 0);
    add_tensor(m, &off, "gpt_neox.final_layer_norm.bias", 1, M, 0, 0);
    add_tensor(m, &off, "embed_out.weight", 2, V, M, 1);
    m->n_params = off;
    m->p = hs_aligned_alloc(off * sizeof(float));
    int half = c->R / 2 > 0 ? c->R / 2 : 1;
    m->cos_t = hs_aligned_alloc((size_t)c->T * half * sizeof(float));
    m->sin_t = hs_aligned_alloc((size_t)c->T * half * sizeof(float));
    if (!m->p || !m->cos_t || !m->sin_t) { tr_model_free(m); return HS_ERR_NOMEM; }
    tr_rotary_tables(c->T, c->R, c->rot_base, m->cos_t, m->sin_t);
    return HS_OK;
}

void tr_model_free(tr_model *m) {
    free(m->t);
    hs_aligned_free(m->p);
    hs_aligned_free(m->cos_t);
    hs_aligned_free(m->sin_t);
    memset(m, 0, sizeof *m);
}

void tr_layer_view(const tr_model *m, float *base, int l, tr_layer *o) {
    const tr_tensor *t = m->t + 1 + (size_t)l * T_PER_LAYER;
    o->ln1_w = base + t[T_LN1W].off; o->ln1_b = base + t[T_LN1B].off;
    o->ln2_w = base + t[T_LN2W].off; o->ln2_b = base + t[T_LN2B].off;
    o->qkv_w = base + t[T_QKVW].off; o->qkv_b = base + t[T_QKVB].off;
    o->dense_w = base + t[T_DW].off; o->dense_b = base + t[T_DB].off;
    o->fc1_w = base + t[T_F1W].off; o->fc1_b = base + t[T_F1B].off;
    o->fc2_w = base + t[T_F2W].off; o->fc2_b = base + t[T_F2B].off;
}
float *tr_embed_in(const tr_model *m, float *base) { return base + m->t[0].off; }
float *tr_lnf_w(const tr_model *m, float *base) { return base + m->t[m->n_tensors - 3].off; }
float *tr_lnf_b(const tr_model *m, float *base) { return base + m->t[m->n_tensors - 2].off; }
float *tr_embed_out(const tr_model *m, float *base) { return base + m->t[m->n_tensors - 1].off; }

void tr_model_randomize(tr_model *m, uint64_t seed, double std, double qkv_bias_std) {
    tr_rng r = { seed * 0x2545F4914F6CDD1Dull + 1 };
    tr_rng rb = { seed * 0x2545F4914F6CDD1Dull + 0x9E3779B97F4A7C15ull };   /* biases: their own stream,
                                                                          so the rest is unchanged */
    memset(m->p, 0, m->n_params * sizeof(float));
    double out_std = std / sqrt(2.0 * (m->c.L > 0 ? m->c.L : 1));
    for (int i = 0; i < m->n_tensors; i++) {
        tr_tensor *t = &m->t[i];
        float *p = m->p + t->off;
        size_t len = strlen(t->name);
        if (t->ndim == 2) {
            int is_out = strstr(t->name, "attention.dense.weight") || strstr(t->name, "dense_4h_to_h.weight");
            double s = is_out ? out_std : std;
            for (size_t j = 0; j < t->n; j++) p[j] = (float)(s * tr_rng_normal(&r));
        } else if (len > 16 && strcmp(t->name + len - 16, "layernorm.weight") == 0) {
            for (size_t j = 0; j < t->n; j++) p[j] = 1.0f;
        } else if (strstr(t->name, "final_layer_norm.weight")) {
            for (size_t j = 0; j < t->n; j++) p[j] = 1.0f;
        } else if (qkv_bias_std > 0 && strstr(t->name, "query_key_value.bias")) {
            for (size_t j = 0; j < t->n; j++) p[j] = (float)(qkv_bias_std * tr_rng_normal(&rb));
        }
    }
}

void tr_model_freeze_mlp(tr_model *m) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strstr(m->t[i].name, ".mlp.")) {
            m->t[i].frozen = 1;
            memset(m->p + m->t[i].off, 0, m->t[i].n * sizeof(float));
        }
}

/* ---- activations ---- */
hs_status tr_acts_alloc(tr_acts *a, const tr_config *c, int B, int T) {
    memset(a, 0, sizeof *a);
    a->B = B; a->T = T;
    size_t N = (size_t)B * T, L = c->L, M = c->M, F = c->F, H = c->H, D = c->D;
#ifdef _OPENMP
    a->n_threads = omp_get_max_threads();
#else
    a->n_threads = 1;
#endif
    struct { float **p; size_t n; } list[] = {
        { &a->h, (L + 1) * N * M }, { &a->xhat1, L * N * M }, { &a->rstd1, L * N }, { &a->ain, L * N * M },
        { &a->xhat2, L * N * M }, { &a->rstd2, L * N }, { &a->min, L * N * M },
        { &a->q, L * B * H * T * D }, { &a->k, L * B * H * T * D }, { &a->v, L * B * H * T * D },
        { &a->pat, L * B * H * (size_t)T * T }, { &a->ctx, L * N * M },
        { &a->pre, L * N * F }, { &a->post, L * N * F },
        { &a->xhatf, N * M }, { &a->rstdf, N }, { &a->fin, N * M }, { &a->logits, N * (size_t)c->V },
        { &a->qkv, N * 3 * M }, { &a->rowloss, N },
        { &a->dh, N * M }, { &a->dtmp, N * M }, { &a->dqkv, N * 3 * M }, { &a->dF, N * (F > M ? F : M) },
        { &a->dctx, N * M },
        { &a->att_scratch, (size_t)a->n_threads * tr_attention_scratch(T, c->D) },
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        *list[i].p = hs_aligned_alloc((list[i].n ? list[i].n : 1) * sizeof(float));
        if (!*list[i].p) { tr_acts_free(a); return HS_ERR_NOMEM; }
    }
    return HS_OK;
}

void tr_acts_free(tr_acts *a) {
    float *ps[] = { a->h, a->xhat1, a->rstd1, a->ain, a->xhat2, a->rstd2, a->min, a->q, a->k, a->v,
                    a->pat, a->ctx, a->pre, a->post, a->xhatf, a->rstdf, a->fin, a->logits, a->qkv,
                    a->rowloss, a->dh, a->dtmp, a->dqkv, a->dF, a->dctx, a->att_scratch };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) hs_aligned_free(ps[i]);
    memset(a, 0, sizeof *a);
}

/* ---- forward / backward ---- */
double tr_forward(const tr_model *m, tr_acts *a, const int32_t *tokens, const int32_t *targets) {
    const tr_config *c = &m->c;
    const int B = a->B, T = a->T, N = B * T, M = c->M, F = c->F, H = c->H, D = c->D;
    const size_t NM = (size_t)N * M, NF = (size_t)N * F, BHTD = (size_t)B * H * T * D;
    float *P = m->p;
    tr_embed_fwd(tr_embed_in(m, P), tokens, a->h, N, M);
    for (int l = 0; l < c->L; l++) {
        tr_layer w;
        tr_layer_view(m, P, l, &w);
        float *h = a->h + l * NM, *hn = h + NM;
        float *ctx = a->ctx + l * NM, *pre = a->pre + l * NF, *post = a->post + l * NF;
        tr_layernorm_fwd(h, w.ln1_w, w.ln1_b, a->ain + l * NM, a->xhat1 + l * NM, a->rstd1 + (size_t)l * N, N, M, (float)c->eps);
        tr_linear_fwd(a->ain + l * NM, w.qkv_w, w.qkv_b, a->qkv, N, M, 3 * M);
        tr_attention_fwd(c, B, T, a->qkv, m->cos_t, m->sin_t, a->q + l * BHTD, a->k + l * BHTD,
                         a->v + l * BHTD, a->pat + (size_t)l * B * H * T * T, ctx);
        tr_linear_fwd(ctx, w.dense_w, w.dense_b, hn, N, M, M);          /* attn_out -> hn */
        tr_layernorm_fwd(h, w.ln2_w, w.ln2_b, a->min + l * NM, a->xhat2 + l * NM, a->rstd2 + (size_t)l * N, N, M, (float)c->eps);
        tr_linear_fwd(a->min + l * NM, w.fc1_w, w.fc1_b, pre, N, M, F);
        tr_gelu_fwd(pre, post, NF);
        tr_linear_fwd(post, w.fc2_w, w.fc2_b, a->dtmp, N, F, M);        /* mlp_out */
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < NM; i++) hn[i] += h[i] + a->dtmp[i];
    }
    tr_layernorm_fwd(a->h + (size_t)c->L * NM, tr_lnf_w(m, P), tr_lnf_b(m, P), a->fin, a->xhatf, a->rstdf, N, M, (float)c->eps);
    tr_linear_fwd(a->fin, tr_embed_out(m, P), NULL, a->logits, N, M, c->V);
    if (!targets) return 0.0;
    return tr_xent_fwd_bwd(a->logits, targets, a->rowloss, N, c->V);
}

void tr_backward(const tr_model *m, tr_acts *a, const int32_t *tokens, float *G) {
    const tr_config *c = &m->c;
    const int B = a->B, T = a->T, N = B * T, M = c->M, F = c->F, H = c->H, D = c->D;
    const size_t NM = (size_t)N * M, NF = (size_t)N * F, BHTD = (size_t)B * H * T * D;
    float *P = m->p;
    memset(G, 0, m->n_params * sizeof(float));
    /* logits -> fin -> residual */
    memset(a->dtmp, 0, NM * sizeof(float));
    tr_linear_bwd(a->logits, a->fin, tr_embed_out(m, P), a->dtmp, 0.0f, tr_embed_out(m, G), NULL, N, M, c->V);
    memset(a->dh, 0, NM * sizeof(float));
    tr_layernorm_bwd(a->dtmp, a->xhatf, a->rstdf, tr_lnf_w(m, P), a->dh, tr_lnf_w(m, G), tr_lnf_b(m, G), N, M);
    for (int l = c->L - 1; l >= 0; l--) {
        tr_layer w, g;
        tr_layer_view(m, P, l, &w);
        tr_layer_view(m, G, l, &g);
        /* dh is the gradient of h_{l+1} = h_l + attn + mlp: it flows to all three. */
        /* MLP branch */
        tr_linear_bwd(a->dh, a->post + l * NF, w.fc2_w, a->dF, 0.0f, g.fc2_w, g.fc2_b, N, F, M);
        tr_gelu_bwd(a->pre + l * NF, a->dF, a->dF, NF);
        tr_linear_bwd(a->dF, a->min + l * NM, w.fc1_w, a->dtmp, 0.0f, g.fc1_w, g.fc1_b, N, M, F);
        /* attention branch */
        tr_linear_bwd(a->dh, a->ctx + l * NM, w.dense_w, a->dctx, 0.0f, g.dense_w, g.dense_b, N, M, M);
        tr_attention_bwd(c, B, T, a->dctx, a->q + l * BHTD, a->k + l * BHTD, a->v + l * BHTD,
                         a->pat + (size_t)l * B * H * T * T, m->cos_t, m->sin_t, a->dqkv, a->att_scratch);
        /* both LayerNorms read h_l: accumulate into dh (which already holds the skip path) */
        tr_layernorm_bwd(a->dtmp, a->xhat2 + l * NM, a->rstd2 + (size_t)l * N, w.ln2_w, a->dh, g.ln2_w, g.ln2_b, N, M);
        tr_linear_bwd(a->dqkv, a->ain + l * NM, w.qkv_w, a->dtmp, 0.0f, g.qkv_w, g.qkv_b, N, M, 3 * M);
        tr_layernorm_bwd(a->dtmp, a->xhat1 + l * NM, a->rstd1 + (size_t)l * N, w.ln1_w, a->dh, g.ln1_w, g.ln1_b, N, M);
    }
    tr_embed_bwd(a->dh, tokens, tr_embed_in(m, G), N, M);
}

/* ---- optimiser ---- */
double tr_clip_grads(float *g, size_t n, double max_norm) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        /* torch: clip_coef = max_norm / (total_norm + 1e-6), applied when < 1 */
        float coef = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < n; i++) g[i] *= coef;
    }
    return norm;
}

void tr_adamw_step(const tr_model *m, tr_adamw *o, float *params, const float *grads) {
    o->t++;
    const double bc1 = 1.0 - pow(o->beta1, (double)o->t), bc2 = 1.0 - pow(o->beta2, (double)o->t);
    const float step = (float)(o->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
    for (int i = 0; i < m->n_tensors; i++) {
        const tr_tensor *t = &m->t[i];
        if (t->frozen) continue;
        float *p = params + t->off, *mm = o->m + t->off, *vv = o->v + t->off;
        const float *g = grads + t->off;
        const float decay = t->decay ? (float)(1.0 - o->lr * o->wd) : 1.0f;
        #pragma omp parallel for schedule(static)
        for (size_t j = 0; j < t->n; j++) {
            p[j] *= decay;
            mm[j] += (1.0f - b1) * (g[j] - mm[j]);          /* torch exp_avg.lerp_(g, 1-b1) */
            vv[j] = vv[j] * b2 + (1.0f - b2) * g[j] * g[j];
            float denom = sqrtf(vv[j]) / bc2_sqrt + eps;
            p[j] -= step * (mm[j] / denom);
        }
    }
}

/* ---- induction score ---- */
hs_status tr_induction_scores(const tr_model *m, int n_seq, int len, int32_t lo, int32_t hi,
                              uint64_t seed, float *scores) {
    const tr_config *c = &m->c;
    int T = 1 + 2 * len;
    if (T > c->T || lo < 0 || hi <= lo || hi > c->V)
        return hs_errorf(HS_ERR_INVALID_ARG, "induction: bad sequence length %d or token range [%d, %d)", len, lo, hi);
    tr_acts a;
    hs_status s = tr_acts_alloc(&a, c, n_seq, T);
    if (s) return s;
    int32_t *tok = hs_malloc((size_t)n_seq * T * sizeof *tok);
    if (!tok) { tr_acts_free(&a); return HS_ERR_NOMEM; }
    tr_rng r = { seed ^ 0x1d2c3b4a59687f00ull };
    for (int b = 0; b < n_seq; b++) {
        int32_t *row = tok + (size_t)b * T;
        row[0] = 0;
        for (int i = 0; i < len; i++) row[1 + i] = row[1 + len + i] = lo + (int32_t)(tr_rng_uniform(&r) * (hi - lo));
    }
    tr_forward(m, &a, tok, NULL);
    for (int l = 0; l < c->L; l++)
        for (int h = 0; h < c->H; h++) {
            double s_ = 0;
            for (int b = 0; b < n_seq; b++) {
                const float *P = a.pat + (((size_t)l * n_seq + b) * c->H + h) * T * T;
                for (int i = 0; i + len - 1 < T; i++) s_ += P[(size_t)(i + len - 1) * T + i];
            }
            scores[l * c->H + h] = (float)(s_ / ((double)n_seq * (T - len + 1)));
        }
    free(tok);
    tr_acts_free(&a);
    return HS_OK;
}
