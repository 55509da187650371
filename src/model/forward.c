/* forward.c — the TransformerLens forward pass with ask-then-receive hooks (model.md §5).
 *
 * One hs_forward holds every activation buffer for batches up to max_batch x max_ctx
 * (sized at creation: nothing is allocated per batch). Layouts are TL's:
 *   resid/ln/attn_out/mlp_out [B, T, M]; q k v z [B, T, H, D]; pattern [B, H, T, T];
 *   mlp pre/post [B, T, F]; scales [B, T]. When the logits are asked for (hook or
 *   params.logits) they are produced one sequence at a time ([T, V]) and reduced to the
 *   loss at once; when only the loss is, a vocabulary block at a time for the whole batch
 *   ([T, n] per thread, loss_blocked), with the same bits. The [B, T, V] tensor never
 *   exists unless the caller asks for it.
 * Matrix products go to BLAS (sgemm); attention runs per (batch, head) in parallel
 * (OpenMP), where the OpenMP build of OpenBLAS keeps each sgemm single-threaded; each
 * head's scores, softmax and pattern @ v run while its [T, T] block is in cache, over
 * the causal part only. Memory-bound steps share passes: resid + the next norm, q/k/v
 * read in place from the q|k|v product (copied only for hook consumers).
 */
#include "model/model_internal.h"
#include "core/vmath.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define IGNORE_SCORE (-100000.0f)   /* TL 1.6.1's IGNORE for masked attention scores */

/* Masked attention score in hook_attn_scores: TL 1.6.1's -1e5 (GPT-NeoX, GPT-2), TL 2.x's
 * -inf for the Llama family (llama.md follows TL 2.x). */
static float masked_score(const hs_model_config *c) { return c->arch == HS_ARCH_LLAMA ? -INFINITY : IGNORE_SCORE; }

enum {   /* per-block hooks, in the order TL runs them */
    HK_RESID_PRE, HK_LN1_SCALE, HK_LN1_NORM, HK_Q, HK_K, HK_V, HK_ROT_Q, HK_ROT_K, HK_SCORES, HK_PATTERN, HK_Z,
    HK_ATTN_OUT, HK_RESID_MID, HK_LN2_SCALE, HK_LN2_NORM, HK_MLP_PRE, HK_MLP_PRE_LINEAR, HK_MLP_POST, HK_MLP_OUT, HK_RESID_POST,
    HK_COUNT
};
static const char *const block_hook_names[HK_COUNT] = {
    "hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
    "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z",
    "hook_attn_out", "hook_resid_mid", "ln2.hook_scale", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_pre_linear", "mlp.hook_post",
    "hook_mlp_out", "hook_resid_post"};
enum { GH_EMBED, GH_POS_EMBED, GH_LNF_SCALE, GH_LNF_NORM, GH_LOGITS, GH_COUNT };
static const char *const global_hook_names[GH_COUNT] = {"hook_embed", "hook_pos_embed", "ln_final.hook_scale",
                                                         "ln_final.hook_normalized", "logits"};

typedef struct { float mx; double s; } lse_acc;   /* a row's max so far and Σ exp(x - mx) (loss_rows, loss_blocked) */

struct hs_forward {
    const hs_model *m;
    int max_B, max_T;
    float *resid, *ln1, *ln2, *attn_out, *mlp_out, *resid_mid;   /* [B,T,M] */
    float *q, *rq, *z;                                            /* [B,T,H,D] */
    float *k, *v, *rk;                                            /* [B,T,KV,D] */
    float *pattern;                                               /* [B,H,T,T] */
    float *pre, *post;                                            /* [B,T,F] */
    float *pre_lin;                                               /* [B,T,F] gated MLP only */
    float *scale1, *scale2, *scalef;                              /* [B,T] */
    float *logits;                                                /* [T,V] one sequence */
    lse_acc *lse;                                                 /* [B,T] the loss's log-sum-exp by vocabulary blocks */
    float *target;                                                /* [B,T] logit of the next token */
    float *rot_sin, *rot_cos;   /* [max_T, R] when max_T exceeds the model's tables (Llama family) */
    float *wbuf;                /* weights kept as stored: one matrix (or q|k|v) widened to float32 */
    const float *cur_sin, *cur_cos;   /* the tables this pass uses */
    hs_bf16_gemm *bf16;         /* bf16 compute (gemm_bf16.c): made on the first bf16 pass */
    bool ran_bf16;              /* the last pass's weight GEMMs were bf16 */
    bool want_block[HK_COUNT];  /* scratch per layer */
    char err[HS_ERRMSG_MAX];
};

#define UNEMBED_ROWS 4096   /* vocabulary rows widened at a time for the logits */

/* Floats of f->wbuf: the largest of q|k|v, o, gate/up, down and a block of unembedding rows. */
static size_t stored_scratch(const hs_model_config *c) {
    size_t M = (size_t)c->d_model, HD = (size_t)c->n_heads * c->d_head, F = (size_t)c->d_mlp;
    size_t n = (HD + 2 * (size_t)c->n_kv_heads * c->d_head) * M, u = (size_t)(c->d_vocab < UNEMBED_ROWS ? c->d_vocab : UNEMBED_ROWS) * M;
    if (F * M > n) n = F * M;
    if (HD * M > n) n = HD * M;
    return n > u ? n : u;
}

hs_forward_params hs_forward_default_params(void) { return (hs_forward_params){0}; }
const char *hs_forward_error(const hs_forward *f) { return f ? f->err : hs_last_error(); }

void hs_forward_free(hs_forward *f) {
    if (!f) return;
    float *bufs[] = {f->resid, f->ln1, f->ln2, f->attn_out, f->mlp_out, f->resid_mid, f->q, f->k, f->v, f->rq, f->rk,
                     f->z, f->pattern, f->pre, f->post, f->pre_lin, f->scale1, f->scale2, f->scalef, f->logits, f->rot_sin, f->rot_cos, f->wbuf, f->target};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) hs_aligned_free(bufs[i]);
    hs_bf16_gemm_free(f->bf16);
    hs_aligned_free(f->lse);
    free(f);
}

hs_status hs_forward_create(const hs_model *m, int max_batch, int max_ctx, hs_forward **out) {
    *out = NULL;
    const hs_model_config *c = &m->cfg;
    if (max_batch < 1 || max_ctx < 1)
        return hs_errorf(HS_ERR_INVALID_ARG, "batch size and context length must be positive (got %d x %d)", max_batch, max_ctx);
    /* Llama-family models (rotary only) run past max_position_embeddings as HF does */
    if (max_ctx > c->n_ctx && !(c->arch == HS_ARCH_LLAMA && max_ctx <= HS_ROTARY_MAX_POS))
        return hs_errorf(HS_ERR_INVALID_ARG, "%s: context length %d exceeds the model's max_position_embeddings %d", m->dir, max_ctx, c->n_ctx);
    /* refuse up front what cannot fit, with the numbers, rather than fail (or be killed) mid-way */
    char what[160];
    snprintf(what, sizeof what, "%s: forward workspace for a batch of %d x %d", m->dir, max_batch, max_ctx);
    hs_status ms = hs_memory_check(hs_model_estimate_memory(c, max_batch, max_ctx).workspace, what);
    if (ms) return ms;
    hs_forward *f = hs_calloc(1, sizeof *f);
    if (!f) return HS_ERR_NOMEM;
    f->m = m;
    f->max_B = max_batch;
    f->max_T = max_ctx;
    size_t BT = (size_t)max_batch * max_ctx, M = (size_t)c->d_model, F = (size_t)c->d_mlp;
    size_t HD = (size_t)c->n_heads * c->d_head, KD = (size_t)c->n_kv_heads * c->d_head, QKV = HD + 2 * KD;
    bool ok = true;
#define ALLOC(p, n) ok = ok && (p = hs_aligned_alloc((n) * sizeof(float))) != NULL
    ALLOC(f->resid, BT * M); ALLOC(f->ln1, BT * M); ALLOC(f->ln2, BT * M); ALLOC(f->attn_out, BT * M);
    ALLOC(f->mlp_out, BT * M); ALLOC(f->resid_mid, BT * M);
    ALLOC(f->q, BT * HD); ALLOC(f->k, BT * KD); ALLOC(f->v, BT * KD); ALLOC(f->rq, BT * HD); ALLOC(f->rk, BT * KD);
    ALLOC(f->z, BT * HD);
    ALLOC(f->pattern, (size_t)max_batch * c->n_heads * max_ctx * max_ctx);
    ALLOC(f->pre, BT * (F > QKV ? F : QKV)); ALLOC(f->post, BT * F);  /* pre doubles as the fused qkv output */
    if (c->gated_mlp) ALLOC(f->pre_lin, BT * F);
    ALLOC(f->scale1, BT); ALLOC(f->scale2, BT); ALLOC(f->scalef, BT);
    ALLOC(f->logits, (size_t)max_ctx * c->d_vocab);
    ALLOC(f->target, BT);
    ok = ok && (f->lse = hs_aligned_alloc(BT * sizeof(lse_acc))) != NULL;
    if (m->st) ALLOC(f->wbuf, stored_scratch(c));
    if (c->rotary_dim && max_ctx > m->rot_n) {
        ALLOC(f->rot_sin, (size_t)max_ctx * c->rotary_dim);
        ALLOC(f->rot_cos, (size_t)max_ctx * c->rotary_dim);
    }
#undef ALLOC
    if (!ok) {
        hs_forward_free(f);
        return hs_error_prefix(HS_ERR_NOMEM, "forward workspace for %d x %d", max_batch, max_ctx);
    }
    *out = f;
    return HS_OK;
}

/* ------------------------------------------------------------------ hook plumbing */
typedef struct hook_ctx {
    const hs_forward_params *p;
    char name[96];
    bool stopped;
} hook_ctx;

static bool hook_ask(hook_ctx *h, int layer, const char *suffix, int ndim, const int64_t *shape) {
    if (!h->p->hook) return false;
    if (layer >= 0) snprintf(h->name, sizeof h->name, "blocks.%d.%s", layer, suffix);
    else snprintf(h->name, sizeof h->name, "%s", suffix);
    hs_hook_tensor t = {.name = h->name, .layer = layer, .ndim = ndim};
    memcpy(t.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return h->p->hook(&t, true, h->p->hook_user);
}

static void hook_give(hook_ctx *h, int layer, const char *suffix, int ndim, const int64_t *shape, const float *data, int64_t b0) {
    if (layer >= 0) snprintf(h->name, sizeof h->name, "blocks.%d.%s", layer, suffix);
    else snprintf(h->name, sizeof h->name, "%s", suffix);
    hs_hook_tensor t = {.name = h->name, .layer = layer, .ndim = ndim, .data = data, .batch_offset = b0};
    memcpy(t.shape, shape, sizeof(int64_t) * (size_t)ndim);
    if (!h->p->hook(&t, false, h->p->hook_user)) h->stopped = true;
}

/* ------------------------------------------------------------------ kernels */
/* The weight GEMMs below run in bf16 through oneDNN (gemm_bf16.c) when this thread's pass
 * asked for it (hs_forward_params.compute): the pass sets this before its first GEMM. */
static _Thread_local hs_bf16_gemm *tl_bf16;

const char *hs_forward_gemm_impl(const hs_forward *f) { return f->ran_bf16 ? hs_bf16_gemm_impl(f->bf16) : "OpenBLAS sgemm"; }

/* y[r, :] = x[r, :] @ W [K, N] + b, for R rows (row-major). */
static void linear(const float *x, int R, int K, const float *W, const float *b, int N, float *y) {
    if (tl_bf16) { hs_bf16_linear(tl_bf16, x, R, K, W, b, N, y); return; }
    if (b) {
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++) memcpy(y + (size_t)r * N, b, sizeof(float) * (size_t)N);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, N, K, 1.0f, x, K, W, N, b ? 1.0f : 0.0f, y, N);
}

/* Weights kept as stored (stored.c): y[r, :] = x[r, :] @ Wᵀ + b where W [N, K] is n consecutive
 * stored matrices (q|k|v) widened into f->wbuf, each column k scaled by scale[k] (fold_ln). */
static void linear_stored(hs_forward *f, const hs_stored *S, int n, const float *scale, const float *x, int R, const float *b, float *y) {
    if (tl_bf16) { hs_bf16_linear_stored(tl_bf16, S, n, scale, x, R, b, y); return; }
    const int K = (int)S[0].cols;
    int N = 0;
    for (int i = 0; i < n; i++) {
        hs_stored_widen(&S[i], 0, S[i].rows, scale, NULL, f->wbuf + (size_t)N * K);
        N += (int)S[i].rows;
    }
    if (b) {
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++) memcpy(y + (size_t)r * N, b, sizeof(float) * (size_t)N);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, N, K, 1.0f, x, K, f->wbuf, K, b ? 1.0f : 0.0f, y, N);
}

/* logits [T, V] = x [T, M] @ W_U + b_U for a stored model: W_U's columns are the unembedding
 * rows widened with ln_final's weight (fold_ln) and less mu (center_unembed), a block at a time. */
static void unembed_stored(hs_forward *f, const float *x, int T, float *lg) {
    const hs_model *m = f->m;
    const int M = m->cfg.d_model, V = m->cfg.d_vocab;
    const hs_stored *U = hs_stored_unembed(m);
    if (tl_bf16) { hs_bf16_unembed_stored(tl_bf16, x, T, lg); return; }
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < T; r++) memcpy(lg + (size_t)r * V, m->w.b_U, sizeof(float) * (size_t)V);
    for (int v0 = 0; v0 < V; v0 += UNEMBED_ROWS) {
        int n = V - v0 < UNEMBED_ROWS ? V - v0 : UNEMBED_ROWS;
        hs_stored_widen(U, v0, n, m->params.fold_ln ? m->w.lnf_w : NULL, m->st->mu, f->wbuf);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, M, 1.0f, x, M, f->wbuf, M, 1.0f, lg + v0, V);
    }
}

/* One row of the block's norm (M = d_model), into o; returns the scale (TL hook_scale, the divisor).
 * TL LayerNormPre (or LayerNorm when w != NULL): x' = x - mean; scale = sqrt(mean(x'^2) + eps);
 * out = x'/scale (· w + b). TL RMSNormPre (llama.md §6): scale = sqrt(mean(x^2) + eps);
 * out = x / scale (hook_normalized; the weight, when not folded, is applied afterwards by apply_weight). */
static float norm_row(const hs_model_config *c, const float *xr, const float *w, const float *b, float *o) {
    const int M = c->d_model;
    if (c->rms_norm) {
        float sc = sqrtf((float)(hs_sumsq_f64(xr, M, 0.0f) / M) + c->ln_eps);
        for (int i = 0; i < M; i++) o[i] = xr[i] / sc;
        return sc;
    }
    float mean = (float)(hs_sum_f64(xr, M) / M);
    float sc = sqrtf((float)(hs_sumsq_f64(xr, M, mean) / M) + c->ln_eps);
    if (w) for (int i = 0; i < M; i++) o[i] = (xr[i] - mean) / sc * w[i] + b[i];
    else for (int i = 0; i < M; i++) o[i] = (xr[i] - mean) / sc;
    return sc;
}

/* The block's norm of R rows x [R, M] into out, scale per row. */
static void norm(const hs_model_config *c, const float *x, int R, const float *w, const float *b, float *out, float *scale) {
    const size_t M = (size_t)c->d_model;
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) scale[r] = norm_row(c, x + r * M, w, b, out + r * M);
}

/* sum = x0 + x1 (+ x2, added left to right as TL does), then its norm into out, scale: one pass
 * while each row is in cache. sum may be x0. */
static void add_norm(const hs_model_config *c, const float *x0, const float *x1, const float *x2, int R, float *sum, const float *w,
                     const float *b, float *out, float *scale) {
    const size_t M = (size_t)c->d_model;
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        const float *a = x0 + r * M, *d = x1 + r * M;
        float *y = sum + r * M;
        if (x2) {
            const float *e = x2 + r * M;
            for (size_t i = 0; i < M; i++) y[i] = (a[i] + d[i]) + e[i];
        } else {
            for (size_t i = 0; i < M; i++) y[i] = a[i] + d[i];
        }
        scale[r] = norm_row(c, y, w, b, out + r * M);
    }
}

/* x[r, :] *= w (TL RMSNorm's weight, after hook_normalized). */
static void apply_weight(float *x, int R, int M, const float *w) {
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++)
        for (int i = 0; i < M; i++) x[(size_t)r * M + i] *= w[i];
}

/* Partial rotary (rotate-half) on the first R dims of each of n heads of one token: x (head h at
 * x + h·D) → out [n, D]. */
static void rotary_heads(const float *x, float *out, int n, int D, int R, const float *cs, const float *sn) {
    const int half = R / 2;
    for (int h = 0; h < n; h++) {
        const float *xi = x + (size_t)h * D;
        float *o = out + (size_t)h * D;
        for (int j = 0; j < R; j++) {
            float flip = j < half ? -xi[j + half] : xi[j - half];
            o[j] = xi[j] * cs[j] + flip * sn[j];
        }
        memcpy(o + R, xi + R, sizeof(float) * (size_t)(D - R));
    }
}

/* rq [BT, H, D] and rk [BT, KV, D] from the fused q|k|v rows qkv [BT, (H + 2·KV)·D]. */
static void rotary(const hs_forward *f, const float *qkv, int B, int T) {
    const hs_model_config *c = &f->m->cfg;
    const int D = c->d_head, R = c->rotary_dim, H = c->n_heads, KV = c->n_kv_heads, QKV = (H + 2 * KV) * D;
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < B * T; bt++) {
        int p = bt % T;
        const float *cs = f->cur_cos + (size_t)p * R, *sn = f->cur_sin + (size_t)p * R, *row = qkv + (size_t)bt * QKV;
        rotary_heads(row, f->rq + (size_t)bt * H * D, H, D, R, cs, sn);
        rotary_heads(row + (size_t)H * D, f->rk + (size_t)bt * KV * D, KV, D, R, cs, sn);
    }
}

#define ATT_RB 64   /* query rows per block: scores and pattern @ v multiply only the causal part */

/* 1/sqrt(D) when sqrt(D) is a power of two (D = 4^k: 16, 64, 256), else 0. Scaling by a power
 * of two is exact (outside float32's subnormal range), so sgemm's alpha = 1/sqrt(D) gives the bits of
 * TL's (q·k) / sqrt(D). */
static float exact_inv_scale(int D) {
    int e;
    const float s = sqrtf((float)D);
    return s * s == (float)D && frexpf(s, &e) == 0.5f ? 1.0f / s : 0.0f;
}

/* Rows [r0, r1) of one (batch, head)'s scores into S [T, T]: q_i·k_j / sqrt(D) for the visible
 * keys (j <= i, inside the sliding window), `masked` elsewhere up to column `upto` (T when the
 * whole row is handed over; r1 when only the causal block is read). */
static void score_rows(const hs_model_config *c, const float *Q, int ldq, const float *K, int ldk, int T, int r0, int r1,
                       float masked, int upto, float *S) {
    const int D = c->d_head, W = c->sliding_window;   /* key j visible from query i iff i - W < j (0: no window) */
    const float attn_scale = sqrtf((float)D), inv = exact_inv_scale(D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1, D, inv > 0.0f ? inv : 1.0f, Q + (size_t)r0 * ldq, ldq, K,
                ldk, 0.0f, S + (size_t)r0 * T, T);
    for (int i = r0; i < r1; i++) {
        float *s = S + (size_t)i * T;
        int j0 = W > 0 && i - W + 1 > 0 ? i - W + 1 : 0;
        for (int j = 0; j < j0; j++) s[j] = masked;
        if (inv == 0.0f)
            for (int j = j0; j <= i; j++) s[j] /= attn_scale;
        for (int j = i + 1; j < upto; j++) s[j] = masked;
    }
}

/* Softmax of rows [r0, r1) over their visible keys (the pattern, zeros elsewhere up to `upto`),
 * then Z = pattern @ V for those rows over keys 0..r1 (the rest of their pattern is zero). */
static void softmax_pv_rows(const hs_model_config *c, float *S, int T, int r0, int r1, int upto, const float *V, int ldv,
                            float *Z, int ldz) {
    const int D = c->d_head, W = c->sliding_window;
    for (int i = r0; i < r1; i++) {
        float *s = S + (size_t)i * T;
        int j0 = W > 0 && i - W + 1 > 0 ? i - W + 1 : 0;
        float mx = hs_max(s + j0, i + 1 - j0);
        float sum = hs_exp_inplace(s + j0, i + 1 - j0, mx);
        for (int j = 0; j < j0; j++) s[j] = 0.0f;
        for (int j = j0; j <= i; j++) s[j] /= sum;
        for (int j = i + 1; j < upto; j++) s[j] = 0.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, D, r1, 1.0f, S + (size_t)r0 * T, T, V, ldv, 0.0f,
                Z + (size_t)r0 * ldz, ldz);
}

/* Attention per (batch, head) in parallel; query head h reads KV group h / G; ATT_RB query rows
 * at a time, each block multiplying only keys 0..r1. Without a hook_attn_scores consumer each
 * block goes straight through scores, softmax and pattern @ v while it is in cache (and, with
 * no hook_pattern either, only its causal columns are written); with one, all scores are handed
 * over first. Every order runs the same arithmetic, so the results do not depend on the hooks
 * asked for. */
static void attention(const hs_model *m, hs_forward *f, int B, int T, hook_ctx *hc, int layer, bool want_scores, bool want_pattern) {
    const hs_model_config *c = &m->cfg;
    const int H = c->n_heads, D = c->d_head, HD = H * D, KD = c->n_kv_heads * D, G = H / c->n_kv_heads;
    /* q, k, v read in place from the q|k|v GEMM's rows (f->pre), or q, k from the rotated copies */
    const int QKV = HD + 2 * KD, ldq = c->rotary_dim ? HD : QKV, ldk = c->rotary_dim ? KD : QKV;
    const float *Q = c->rotary_dim ? f->rq : f->pre, *K = c->rotary_dim ? f->rk : f->pre + HD, *V = f->pre + HD + KD;
    const float masked = masked_score(c);
    #pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < B * H; bh++) {
        const int b = bh / H, h = bh % H;
        float *S = f->pattern + (size_t)bh * T * T;
        const float *q = Q + (size_t)b * T * ldq + h * D, *k = K + (size_t)b * T * ldk + (h / G) * D,
                    *v = V + (size_t)b * T * QKV + (h / G) * D;
        float *z = f->z + (size_t)b * T * HD + h * D;
        for (int r0 = 0; r0 < T; r0 += ATT_RB) {
            const int r1 = r0 + ATT_RB < T ? r0 + ATT_RB : T;
            score_rows(c, q, ldq, k, ldk, T, r0, r1, masked, want_scores ? T : r1, S);
            if (!want_scores) softmax_pv_rows(c, S, T, r0, r1, want_pattern ? T : r1, v, QKV, z, HD);
        }
    }
    if (!want_scores) return;
    int64_t shp[4] = {B, H, T, T};
    hook_give(hc, layer, block_hook_names[HK_SCORES], 4, shp, f->pattern, 0);
    #pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < B * H; bh++) {
        const int b = bh / H, h = bh % H;
        for (int r0 = 0; r0 < T; r0 += ATT_RB)
            softmax_pv_rows(c, f->pattern + (size_t)bh * T * T, T, r0, r0 + ATT_RB < T ? r0 + ATT_RB : T, T,
                            V + (size_t)b * T * QKV + (h / G) * D, QKV, f->z + (size_t)b * T * HD + h * D, HD);
    }
}

static inline float gelu_exact(float x) { return 0.5f * x * (1.0f + hs_erff(x * 0.70710678118654752440f)); }

/* The loss, loss[p] = logsumexp(logits[p]) - logits[p][tok[p+1]] for p < T-1, is reduced a
 * vocabulary block [v0, v0 + n) at a time (n = vocab_block): the block's max and Σ exp(x - max)
 * (vmath), blocks combined in double. The same blocks whether the logits are whole rows
 * (loss_rows) or made a block at a time for every sequence (loss_blocked), so both give the
 * same bits; with one block (V <= vocab_block) it is the plain max / Σ exp / log. */
static int vocab_block(const hs_model_config *c) {
    int n = ((1 << 20) / c->d_model) & ~63;   /* a [M, n] block of W_U is <= 4 MB: it stays in cache across the batch */
    if (n < 64) n = 64;
    if (n > UNEMBED_ROWS) n = UNEMBED_ROWS;     /* f->wbuf's rows for a stored model */
    return n < c->d_vocab ? n : c->d_vocab;
}

static void lse_add(lse_acc *a, const float *x, int n, bool first) {
    float m = hs_max(x, n);
    double s = hs_sum_exp(x, n, m);
    if (first) { a->mx = m; a->s = s; }
    else if (m > a->mx) { a->s = a->s * exp((double)a->mx - m) + s; a->mx = m; }
    else a->s += s * exp((double)m - a->mx);
}

static float lse_loss(const lse_acc *a, float target) { return (float)((double)a->mx + log(a->s) - (double)target); }

static void loss_rows(const hs_model_config *c, const float *logits, int T, const int32_t *tok, float *loss) {
    const int V = c->d_vocab, VB = vocab_block(c);
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < T - 1; p++) {
        const float *x = logits + (size_t)p * V;
        lse_acc a = {0};
        for (int v0 = 0; v0 < V; v0 += VB) lse_add(&a, x + v0, V - v0 < VB ? V - v0 : VB, v0 == 0);
        loss[p] = lse_loss(&a, x[tok[p + 1]]);
    }
}

/* The weight GEMMs' arithmetic for this pass (tl_bf16), the bf16 context made on first use. */
static hs_status gemm_setup(hs_forward *f, hs_compute compute) {
    const hs_model_config *c = &f->m->cfg;
    hs_status s = HS_OK;
    tl_bf16 = NULL;
    f->ran_bf16 = false;
    if (compute != HS_COMPUTE_F32 && compute != HS_COMPUTE_BF16)
        s = hs_compute_check(compute);   /* the error naming the choices */
    else if (compute == HS_COMPUTE_BF16 && !f->bf16) {
        size_t K = (size_t)c->d_model, HD = (size_t)c->n_heads * c->d_head;
        if ((size_t)c->d_mlp > K) K = (size_t)c->d_mlp;
        if (HD > K) K = HD;
        s = hs_bf16_gemm_create(f->m, (size_t)f->max_B * f->max_T * K, &f->bf16);
    }
    if (s) { hs_error_copy(f->err, sizeof f->err); return s; }
    if (compute == HS_COMPUTE_BF16) {
        hs_bf16_gemm_status(f->bf16);   /* clear what a cancelled pass left */
        tl_bf16 = f->bf16;
        f->ran_bf16 = true;
    }
    return HS_OK;
}

/* The loss of B sequences without their [T, V] logits: for each vocabulary block, its W_U
 * columns (widened once per pass for a stored model) times every sequence's ln_final rows,
 * one sequence per thread into its own [T, n] slice of f->logits, each reduced while in
 * cache. The products are unembed_stored's / linear's (bias copied, then added to by sgemm). */
static void loss_blocked(hs_forward *f, const float *x, int B, int T, const int32_t *tok, float *loss, int nthr) {
    const hs_model *m = f->m;
    const int M = m->cfg.d_model, V = m->cfg.d_vocab, VB = vocab_block(&m->cfg);
    /* an all-zero b_U (GPT-NeoX, Llama) is left out: sgemm's C = 0 + Σ equals C = Σ bit for bit */
    const float *bU = m->w.b_U;
    bool zero = true;
    for (int v = 0; bU && v < V && zero; v++) zero = bU[v] == 0.0f;
    if (zero) bU = NULL;
    for (int v0 = 0; v0 < V; v0 += VB) {
        const int n = V - v0 < VB ? V - v0 : VB;
        const float *W = m->st ? f->wbuf : m->w.W_U + v0;
        if (m->st) hs_stored_widen(hs_stored_unembed(m), v0, n, m->params.fold_ln ? m->w.lnf_w : NULL, m->st->mu, f->wbuf);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nthr)
        for (int b = 0; b < B; b++) {
#ifdef _OPENMP
            float *lg = f->logits + (size_t)omp_get_thread_num() * T * n;
#else
            float *lg = f->logits;
#endif
            if (bU)
                for (int r = 0; r < T; r++) memcpy(lg + (size_t)r * n, bU + v0, sizeof(float) * (size_t)n);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, m->st ? CblasTrans : CblasNoTrans, T, n, M, 1.0f, x + (size_t)b * T * M, M, W,
                        m->st ? M : V, bU ? 1.0f : 0.0f, lg, n);
            lse_acc *acc = f->lse + (size_t)b * T;
            for (int p = 0; p < T - 1; p++) {
                const float *row = lg + (size_t)p * n;
                lse_add(&acc[p], row, n, v0 == 0);
                int t = tok[(size_t)b * T + p + 1];
                if (t >= v0 && t < v0 + n) f->target[(size_t)b * T + p] = row[t - v0];
            }
        }
    }
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < B * T; i++)
        if (i % T < T - 1) loss[(size_t)(i / T) * (T - 1) + i % T] = lse_loss(&f->lse[i], f->target[i]);
}

/* ------------------------------------------------------------------ the pass */
hs_status hs_forward_run(hs_forward *f, const int32_t *tokens, int B, int T, const hs_forward_params *params) {
    const hs_model *m = f->m;
    const hs_model_config *c = &m->cfg;
    const hs_weights *w = &m->w;
    hs_forward_params defaults = hs_forward_default_params();
    const hs_forward_params *p = params ? params : &defaults;
    f->err[0] = 0;
    if (B < 1 || T < 1) {
        hs_errorf(HS_ERR_INVALID_ARG, "batch size and sequence length must be positive (got B=%d, T=%d)", B, T);
        hs_error_copy(f->err, sizeof f->err);
        return HS_ERR_INVALID_ARG;
    }
    if (B > f->max_B || T > f->max_T) {
        hs_errorf(HS_ERR_INVALID_ARG, "batch %d x %d is larger than the workspace (%d x %d)", B, T, f->max_B, f->max_T);
        hs_error_copy(f->err, sizeof f->err);
        return HS_ERR_INVALID_ARG;
    }
    for (int64_t i = 0; i < (int64_t)B * T; i++)
        if (tokens[i] < 0 || tokens[i] >= c->d_vocab) {
            hs_errorf(HS_ERR_INVALID_ARG, "token id %d at [%lld, %lld] is outside the model's vocabulary (0..%d)", tokens[i],
                      (long long)(i / T), (long long)(i % T), c->d_vocab - 1);
            hs_error_copy(f->err, sizeof f->err);
            return HS_ERR_INVALID_ARG;
        }
    const int M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab, HD = H * D,
              KD = KV * D, QKV = HD + 2 * KD;
    const int BT = B * T;
    const bool ln_w = !m->params.fold_ln;
    hs_status gs = gemm_setup(f, p->compute);
    if (gs) return gs;
    hook_ctx hc = {.p = p};
    f->cur_sin = m->rot_sin;
    f->cur_cos = m->rot_cos;
    if (c->rotary_dim && T > m->rot_n) {   /* past the model's tables: this length's own (dynamic RoPE depends on it) */
        hs_rope_tables(c, T, T, f->rot_sin, f->rot_cos);
        f->cur_sin = f->rot_sin;
        f->cur_cos = f->rot_cos;
    }
    int64_t sh_btm[3] = {B, T, M}, sh_bt1[3] = {B, T, 1}, sh_bthd[4] = {B, T, H, D}, sh_btkd[4] = {B, T, KV, D},
            sh_bhtt[4] = {B, H, T, T}, sh_btf[3] = {B, T, F};

    /* embeddings */
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < BT; i++) {
        if (m->st) hs_stored_widen(&m->st->embed, tokens[i], 1, NULL, NULL, f->resid + (size_t)i * M);
        else memcpy(f->resid + (size_t)i * M, w->W_E + (size_t)tokens[i] * M, sizeof(float) * (size_t)M);
    }
    if (hook_ask(&hc, -1, global_hook_names[GH_EMBED], 3, sh_btm)) hook_give(&hc, -1, global_hook_names[GH_EMBED], 3, sh_btm, f->resid, 0);
    if (w->W_pos) {
        if (hook_ask(&hc, -1, global_hook_names[GH_POS_EMBED], 3, sh_btm)) {   /* [B, T, M] through ln1's buffer as scratch */
            #pragma omp parallel for schedule(static)
            for (int i = 0; i < BT; i++) memcpy(f->ln1 + (size_t)i * M, w->W_pos + (size_t)(i % T) * M, sizeof(float) * (size_t)M);
            hook_give(&hc, -1, global_hook_names[GH_POS_EMBED], 3, sh_btm, f->ln1, 0);
        }
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < BT; i++) {
            float *x = f->resid + (size_t)i * M;
            const float *pe = w->W_pos + (size_t)(i % T) * M;
            for (int j = 0; j < M; j++) x[j] += pe[j];
        }
    }

    for (int l = 0; l < c->n_layers && !hc.stopped; l++) {
        const hs_layer *L = &w->layers[l];
        bool *want = f->want_block;
        static const int ndims[HK_COUNT] = {3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3};
        for (int k = 0; k < HK_COUNT; k++) {
            const int64_t *shape = ndims[k] == 4 ? (k == HK_SCORES || k == HK_PATTERN ? sh_bhtt
                                                    : k == HK_K || k == HK_V || k == HK_ROT_K ? sh_btkd : sh_bthd)
                                   : (k == HK_LN1_SCALE || k == HK_LN2_SCALE) ? sh_bt1
                                   : (k == HK_MLP_PRE || k == HK_MLP_PRE_LINEAR || k == HK_MLP_POST) ? sh_btf : sh_btm;
            bool exists = !((k == HK_ROT_Q || k == HK_ROT_K) && !c->rotary_dim) && !(k == HK_RESID_MID && c->parallel_residual) &&
                          !(k == HK_MLP_PRE_LINEAR && !c->gated_mlp);
            want[k] = exists && hook_ask(&hc, l, block_hook_names[k], ndims[k], shape);
        }
#define GIVE(k, nd, shp, data) do { if (want[k] && !hc.stopped) hook_give(&hc, l, block_hook_names[k], nd, shp, data, 0); } while (0)
        GIVE(HK_RESID_PRE, 3, sh_btm, f->resid);
        if (l == 0) norm(c, f->resid, BT, ln_w ? L->ln1_w : NULL, ln_w ? L->ln1_b : NULL, f->ln1, f->scale1);   /* later layers': add_norm below */
        GIVE(HK_LN1_SCALE, 3, sh_bt1, f->scale1);
        GIVE(HK_LN1_NORM, 3, sh_btm, f->ln1);
        if (c->rms_norm && ln_w) apply_weight(f->ln1, BT, M, L->ln1_w);
        /* q, k, v: one GEMM with the packed [M, (H + 2·KV)·D] matrix, then split into [B, T, H|KV, D] */
        const hs_stored *S = m->st ? &m->st->layers[(size_t)l * ST_PER_LAYER] : NULL;
        const float *s1 = m->params.fold_ln ? L->ln1_w : NULL, *s2 = m->params.fold_ln ? L->ln2_w : NULL;
        if (S) linear_stored(f, S + ST_Q, 3, s1, f->ln1, BT, L->b_Q, f->pre);   /* b_Q|b_K|b_V are contiguous */
        else linear(f->ln1, BT, M, m->qkv[l].W, m->qkv[l].b, QKV, f->pre);
        /* hook_q/k/v: [B, T, H|KV, D] copies of the q|k|v rows, made only for a consumer (attention reads f->pre) */
        if (want[HK_Q] || want[HK_K] || want[HK_V]) {
            #pragma omp parallel for schedule(static)
            for (int r = 0; r < BT; r++) {
                const float *row = f->pre + (size_t)r * QKV;
                if (want[HK_Q]) memcpy(f->q + (size_t)r * HD, row, sizeof(float) * (size_t)HD);
                if (want[HK_K]) memcpy(f->k + (size_t)r * KD, row + HD, sizeof(float) * (size_t)KD);
                if (want[HK_V]) memcpy(f->v + (size_t)r * KD, row + HD + KD, sizeof(float) * (size_t)KD);
            }
        }
        GIVE(HK_Q, 4, sh_bthd, f->q);
        GIVE(HK_K, 4, sh_btkd, f->k);
        GIVE(HK_V, 4, sh_btkd, f->v);
        if (c->rotary_dim) {
            rotary(f, f->pre, B, T);
            GIVE(HK_ROT_Q, 4, sh_bthd, f->rq);
            GIVE(HK_ROT_K, 4, sh_btkd, f->rk);
        }
        if (hc.stopped) break;
        attention(m, f, B, T, &hc, l, want[HK_SCORES], want[HK_PATTERN]);
        GIVE(HK_PATTERN, 4, sh_bhtt, f->pattern);
        GIVE(HK_Z, 4, sh_bthd, f->z);
        if (hc.stopped) break;
        /* attn_out = z [BT, H*D] @ W_O [H*D, M] + b_O */
        if (S) linear_stored(f, S + ST_O, 1, NULL, f->z, BT, L->b_O, f->attn_out);
        else linear(f->z, BT, HD, L->W_O, L->b_O, M, f->attn_out);
        GIVE(HK_ATTN_OUT, 3, sh_btm, f->attn_out);
        if (c->parallel_residual) norm(c, f->resid, BT, ln_w ? L->ln2_w : NULL, ln_w ? L->ln2_b : NULL, f->ln2, f->scale2);
        else {   /* resid_mid = resid_pre + attn_out and its ln2 in one pass */
            add_norm(c, f->resid, f->attn_out, NULL, BT, f->resid_mid, ln_w ? L->ln2_w : NULL, ln_w ? L->ln2_b : NULL, f->ln2, f->scale2);
            GIVE(HK_RESID_MID, 3, sh_btm, f->resid_mid);
        }
        GIVE(HK_LN2_SCALE, 3, sh_bt1, f->scale2);
        GIVE(HK_LN2_NORM, 3, sh_btm, f->ln2);
        if (c->rms_norm && ln_w) apply_weight(f->ln2, BT, M, L->ln2_w);
        if (c->gated_mlp) {
            /* hook_pre = x W_gate (+ b_gate), hook_pre_linear = x W_in (+ b_in), post = silu(pre) * pre_linear */
            if (S) linear_stored(f, S + ST_GATE, 1, s2, f->ln2, BT, L->b_gate, f->pre);
            else linear(f->ln2, BT, M, L->W_gate, L->b_gate, F, f->pre);
            GIVE(HK_MLP_PRE, 3, sh_btf, f->pre);
            if (S) linear_stored(f, S + ST_UP, 1, s2, f->ln2, BT, L->b_in, f->pre_lin);
            else linear(f->ln2, BT, M, L->W_in, L->b_in, F, f->pre_lin);
            GIVE(HK_MLP_PRE_LINEAR, 3, sh_btf, f->pre_lin);
        } else {
            linear(f->ln2, BT, M, L->W_in, L->b_in, F, f->pre);
            GIVE(HK_MLP_PRE, 3, sh_btf, f->pre);
        }
        if (c->gated_mlp) {
            #pragma omp parallel for schedule(static)
            for (int r = 0; r < BT; r++)
                hs_silu_mul(f->pre + (size_t)r * F, f->pre_lin + (size_t)r * F, f->post + (size_t)r * F, (size_t)F);
        } else if (c->act == HS_ACT_GELU_NEW) {
            #pragma omp parallel for schedule(static)
            for (int r = 0; r < BT; r++) hs_gelu_new(f->pre + (size_t)r * F, f->post + (size_t)r * F, (size_t)F);
        } else {
            #pragma omp parallel for schedule(static)
            for (size_t i = 0; i < (size_t)BT * F; i++) f->post[i] = gelu_exact(f->pre[i]);
        }
        GIVE(HK_MLP_POST, 3, sh_btf, f->post);
        if (S) linear_stored(f, S + ST_DOWN, 1, NULL, f->post, BT, L->b_out, f->mlp_out);
        else linear(f->post, BT, F, L->W_out, L->b_out, M, f->mlp_out);
        GIVE(HK_MLP_OUT, 3, sh_btm, f->mlp_out);
        /* TL: resid_post = resid_pre + attn_out + mlp_out (left to right), or resid_mid + mlp_out; with
           it, in the same pass, the next block's ln1 (into ln1, scale1) or ln_final (into ln1, scalef) */
        const bool last = l + 1 == c->n_layers;
        const float *nw = last ? w->lnf_w : w->layers[l + 1].ln1_w, *nb = last ? w->lnf_b : w->layers[l + 1].ln1_b;
        add_norm(c, c->parallel_residual ? f->resid : f->resid_mid, c->parallel_residual ? f->attn_out : f->mlp_out,
                 c->parallel_residual ? f->mlp_out : NULL, BT, f->resid, ln_w ? nw : NULL, ln_w ? nb : NULL, f->ln1,
                 last ? f->scalef : f->scale1);
        GIVE(HK_RESID_POST, 3, sh_btm, f->resid);
#undef GIVE
    }
    if (hc.stopped) {
        hs_errorf(HS_ERR_CANCELLED, "forward pass stopped by the hook callback at %s", hc.name);
        hs_error_copy(f->err, sizeof f->err);
        return HS_ERR_CANCELLED;
    }
    /* final LN (computed with the last resid_post, in the ln1 buffer) and unembed */
    if (hook_ask(&hc, -1, global_hook_names[GH_LNF_SCALE], 3, sh_bt1)) hook_give(&hc, -1, global_hook_names[GH_LNF_SCALE], 3, sh_bt1, f->scalef, 0);
    if (!hc.stopped && hook_ask(&hc, -1, global_hook_names[GH_LNF_NORM], 3, sh_btm))
        hook_give(&hc, -1, global_hook_names[GH_LNF_NORM], 3, sh_btm, f->ln1, 0);
    if (c->rms_norm && ln_w) apply_weight(f->ln1, BT, M, w->lnf_w);
    int64_t sh_logits[3] = {1, T, V};
    bool want_logits = !hc.stopped && hook_ask(&hc, -1, global_hook_names[GH_LOGITS], 3, sh_logits);
    const int nthr = hs_get_num_threads();
    /* float32 only: loss_blocked calls sgemm directly; a bf16 pass unembeds through the helpers */
    if (!hc.stopped && !tl_bf16 && !want_logits && !p->logits && p->loss && T > 1 && B >= nthr && (size_t)nthr * vocab_block(c) <= (size_t)V) {
        loss_blocked(f, f->ln1, B, T, tokens, p->loss, nthr);
    } else if (!hc.stopped && (want_logits || p->loss || p->logits)) {
        for (int b = 0; b < B && !hc.stopped; b++) {
            float *lg = p->logits ? p->logits + (size_t)b * T * V : f->logits;
            if (m->st) unembed_stored(f, f->ln1 + (size_t)b * T * M, T, lg);
            else linear(f->ln1 + (size_t)b * T * M, T, M, w->W_U, w->b_U, V, lg);
            if (p->loss && T > 1) loss_rows(c, lg, T, tokens + (size_t)b * T, p->loss + (size_t)b * (T - 1));
            if (want_logits) hook_give(&hc, -1, global_hook_names[GH_LOGITS], 3, sh_logits, lg, b);
        }
    }
    if (hc.stopped) {
        hs_errorf(HS_ERR_CANCELLED, "forward pass stopped by the hook callback at %s", hc.name);
        hs_error_copy(f->err, sizeof f->err);
        return HS_ERR_CANCELLED;
    }
    if (tl_bf16 && (gs = hs_bf16_gemm_status(tl_bf16))) hs_error_copy(f->err, sizeof f->err);
    return gs;
}
