/* train_internal.h — the trainer's model, kernels and checkpoint writer (private).
 *
 * Parameters live in one float array in HuggingFace GPT-NeoX layout and order
 * (model.md §1): embed_in [V, M]; per layer input_layernorm w/b [M],
 * post_attention_layernorm w/b [M], attention.query_key_value w [3M, M] / b [3M]
 * (per head interleaved q|k|v, model.md §2), attention.dense w [M, M] / b [M],
 * mlp.dense_h_to_4h w [F, M] / b [F], mlp.dense_4h_to_h w [M, F] / b [M];
 * final_layer_norm w/b [M]; embed_out [V, M]. Gradients and Adam moments use the
 * same layout. Activations are row-major [N = B*T, ...].
 */
#ifndef HS_TRAIN_INTERNAL_H
#define HS_TRAIN_INTERNAL_H

#include "core/internal.h"
#include "headscan/train.h"

typedef struct tr_config {
    int L, M, H, D, F, V, T, R;     /* layers, d_model, heads, d_head, d_mlp, vocab, n_ctx, rotary_dim */
    double rot_base, eps;
} tr_config;

typedef struct tr_tensor {
    char name[80];
    int ndim;
    int64_t shape[2];
    size_t off, n;
    int decay;                      /* AdamW weight decay applies */
    int frozen;                     /* never updated (attention-only MLPs) */
} tr_tensor;

typedef struct tr_layer {
    float *ln1_w, *ln1_b, *ln2_w, *ln2_b, *qkv_w, *qkv_b, *dense_w, *dense_b,
          *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} tr_layer;

typedef struct tr_model {
    tr_config c;
    int n_tensors;
    tr_tensor *t;
    size_t n_params;
    float *p;                       /* parameters [n_params] */
    float *cos_t, *sin_t;           /* rotary tables [T, R/2] */
} tr_model;

/* Per-layer and global views of a parameter-shaped array (params or grads). */
void tr_layer_view(const tr_model *m, float *base, int l, tr_layer *out);
float *tr_embed_in(const tr_model *m, float *base);
float *tr_lnf_w(const tr_model *m, float *base);
float *tr_lnf_b(const tr_model *m, float *base);
float *tr_embed_out(const tr_model *m, float *base);

hs_status tr_model_init(tr_model *m, const tr_config *c);   /* layout + zeroed params */
void tr_model_free(tr_model *m);
/* GPT-NeoX style init: N(0, std) matrices, output projections (dense, dense_4h_to_h)
 * scaled by 1/sqrt(2L), zero biases, unit LayerNorm weights; qkv_bias_std > 0 draws the
 * query/key/value biases from N(0, qkv_bias_std^2) on a stream of their own. */
void tr_model_randomize(tr_model *m, uint64_t seed, double std, double qkv_bias_std);
/* Attention-only: every MLP tensor zeroed and frozen (its output is exactly 0). */
void tr_model_freeze_mlp(tr_model *m);

/* Activations of one forward pass for B sequences of T tokens (T <= c.T). */
typedef struct tr_acts {
    int B, T;
    float *h;        /* [L+1, N, M] residual stream: input of each layer, then final */
    float *xhat1, *rstd1, *ain;      /* [L, N, M], [L, N], [L, N, M] */
    float *xhat2, *rstd2, *min;      /* same, for the MLP's LayerNorm */
    float *q, *k, *v;                /* [L, B, H, T, D] rotated q, k and v */
    float *pat;                      /* [L, B, H, T, T] attention pattern */
    float *ctx;                      /* [L, N, M] merged heads */
    float *pre, *post;               /* [L, N, F] */
    float *xhatf, *rstdf, *fin;      /* [N, M], [N], [N, M] */
    float *logits;                   /* [N, V]; after backward, dlogits */
    float *qkv;                      /* scratch [N, 3M] */
    float *rowloss;                  /* [N] */
    /* backward scratch */
    float *dh, *dtmp, *dqkv, *dF, *dctx;
    float *att_scratch;              /* per thread */
    int n_threads;
} tr_acts;

hs_status tr_acts_alloc(tr_acts *a, const tr_config *c, int B, int T);
void tr_acts_free(tr_acts *a);
/* Forward of tokens [B, T]; returns mean cross-entropy of targets [B, T] (ids < 0
 * are ignored) when targets != NULL, and leaves dlogits in a->logits. */
double tr_forward(const tr_model *m, tr_acts *a, const int32_t *tokens, const int32_t *targets);
/* Backward after tr_forward with targets: writes (overwrites) grads [n_params]. */
void tr_backward(const tr_model *m, tr_acts *a, const int32_t *tokens, float *grads);

/* AdamW as torch.optim.AdamW (single-tensor form): p *= 1 - lr*wd (decayed tensors);
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). */
typedef struct tr_adamw { double lr, beta1, beta2, eps, wd; int64_t t; float *m, *v; } tr_adamw;
void tr_adamw_step(const tr_model *m, tr_adamw *opt, float *params, const float *grads);
/* Scales grads so their global L2 norm is at most max_norm (torch clip_grad_norm_);
 * returns the norm before clipping. */
double tr_clip_grads(float *grads, size_t n, double max_norm);

/* ---- kernels (kernels.c); all row-major, N rows ---- */
void tr_layernorm_fwd(const float *x, const float *w, const float *b, float *y, float *xhat,
                      float *rstd, int N, int M, float eps);
/* dx += ...; dw += ...; db += ... */
void tr_layernorm_bwd(const float *dy, const float *xhat, const float *rstd, const float *w,
                      float *dx, float *dw, float *db, int N, int M);
/* y [N, O] = x [N, K] @ W^T (W [O, K]) + b */
void tr_linear_fwd(const float *x, const float *W, const float *b, float *y, int N, int K, int O);
/* dW += dy^T x; db += colsum(dy); dx = dy W (beta 0) or dx += dy W (beta 1); dx may be NULL */
void tr_linear_bwd(const float *dy, const float *x, const float *W, float *dx, float beta,
                   float *dW, float *db, int N, int K, int O);
void tr_gelu_fwd(const float *x, float *y, size_t n);
void tr_gelu_bwd(const float *x, const float *dy, float *dx, size_t n);   /* dx = dy * gelu'(x) */
void tr_rotary_tables(int T, int R, double base, float *cos_t, float *sin_t);
/* qkv [B*T, 3M] (per head q|k|v) -> q, k (rotated), v [B, H, T, D], pattern [B, H, T, T],
 * ctx [B*T, M]. scratch: n_threads * T * T floats. */
void tr_attention_fwd(const tr_config *c, int B, int T, const float *qkv, const float *cos_t,
                      const float *sin_t, float *q, float *k, float *v, float *pat, float *ctx);
/* dctx [B*T, M] -> dqkv [B*T, 3M] (overwritten). scratch: n_threads * (T*T + 4*T*D). */
void tr_attention_bwd(const tr_config *c, int B, int T, const float *dctx, const float *q,
                      const float *k, const float *v, const float *pat, const float *cos_t,
                      const float *sin_t, float *dqkv, float *scratch);
size_t tr_attention_scratch(int T, int D);   /* floats per thread for tr_attention_bwd */
/* logits [N, V] -> per-row losses; overwrites logits with d(mean loss)/dlogits
 * (rows with target < 0 get zero gradient). Returns the mean over counted rows. */
double tr_xent_fwd_bwd(float *logits, const int32_t *targets, float *rowloss, int N, int V);
void tr_embed_fwd(const float *E, const int32_t *tok, float *h, int N, int M);
void tr_embed_bwd(const float *dh, const int32_t *tok, float *dE, int N, int M);   /* dE += */

/* ---- checkpoint (checkpoint.c) ---- */
/* Writes a safetensors file of the named tensors, F32 or F16, atomically. */
typedef struct tr_st_tensor { const char *name; int ndim; const int64_t *shape; const float *data; } tr_st_tensor;
hs_status tr_safetensors_write(const char *path, const tr_st_tensor *t, int n, hs_dtype dtype);
/* Writes out_dir/{config.json, model.safetensors, tokenizer.json}. */
hs_status tr_checkpoint_write(const tr_model *m, const char *out_dir, const char *tokenizer_json,
                              size_t tokenizer_len, hs_dtype dtype, double rotary_pct, int bos_id);

/* Induction score (analysis.md §8 with seq_len = len): mean of the diagonal dest-src =
 * len-1 of the pattern on [BOS, r, r], r uniform in [lo, hi). scores [L*H]. */
hs_status tr_induction_scores(const tr_model *m, int n_seq, int len, int32_t lo, int32_t hi,
                              uint64_t seed, float *scores);

/* Deterministic RNG (splitmix64) */
typedef struct tr_rng { uint64_t s; } tr_rng;
uint64_t tr_rng_next(tr_rng *r);
double tr_rng_uniform(tr_rng *r);     /* [0, 1) */
double tr_rng_normal(tr_rng *r);
#endif
