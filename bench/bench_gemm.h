/* bench_gemm.h — timing helpers shared by the benchmarks (header only). */
#ifndef HS_BENCH_GEMM_H
#define HS_BENCH_GEMM_H
#include <cblas.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds for `reps` sgemms of one [m,k]x[k,n] shape: best of 2 after a warm-up. */
static inline double bench_gemm_time(int m, int n, int k, int reps) {
    float *a = calloc((size_t)m * k, sizeof(float)), *b = calloc((size_t)k * n, sizeof(float)), *c = calloc((size_t)m * n, sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double best = 1e30;
    for (int t = 0; t < 2; t++) {
        double t0 = bench_now();
        for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        double dt = bench_now() - t0;
        if (dt < best) best = dt;
    }
    free(a); free(b); free(c);
    return best;
}

/* Seconds for `reps` sgemms of one [m,k]x[k,n] shape, as some timer measures them. */
typedef double (*bench_gemm_fn)(int m, int n, int k, int reps);

/* The GEMM-bound ideal of one forward pass of B sequences of T tokens: the pass's own
 * matrix products (QKV, O, MLP in/out per layer; the unembedding per sequence), each
 * shape timed alone by `time`. */
static inline double bench_forward_ideal_with(bench_gemm_fn time, int B, int T, int n_layers, int d_model, int d_mlp, int hd,
                                              int qkv, int mlp_in, int d_vocab) {
    int BT = B * T;
    return n_layers * (time(BT, qkv, d_model, 1) + time(BT, d_model, hd, 1) + time(BT, d_mlp, d_model, mlp_in) +
                       time(BT, d_model, d_mlp, 1)) +
           time(T, d_vocab, d_model, B);
}
static inline double bench_forward_ideal(int B, int T, int n_layers, int d_model, int d_mlp, int hd, int d_vocab) {
    return bench_forward_ideal_with(bench_gemm_time, B, T, n_layers, d_model, d_mlp, hd, 3 * hd, 1, d_vocab);
}

#ifdef HEADSCAN_MODEL_H
/* The same for any architecture: q|k|v width (H + 2·KV)·D (grouped-query attention), two MLP
 * input products when gated (gate, up); bench_gemm_time's best-of-2 timing, or `time`'s. */
static inline double bench_forward_ideal_cfg_with(bench_gemm_fn time, const hs_model_config *c, int B, int T) {
    int hd = c->n_heads * c->d_head, kv = c->n_kv_heads ? c->n_kv_heads : c->n_heads;
    return bench_forward_ideal_with(time, B, T, c->n_layers, c->d_model, c->d_mlp, hd, (c->n_heads + 2 * kv) * c->d_head,
                                    c->gated_mlp ? 2 : 1, c->d_vocab);
}
static inline double bench_forward_ideal_cfg(const hs_model_config *c, int B, int T) {
    return bench_forward_ideal_cfg_with(bench_gemm_time, c, B, T);
}
/* Matrix-product FLOPs of one forward of B x T tokens: attention counted causally (the work
 * the pass does), or in full (T x T scores and pattern @ v, as TransformerLens computes them and
 * as issue 19 counts pythia-70m's 6.81 TFLOP). */
static inline double bench_forward_flops_attn(const hs_model_config *c, int B, int T, int full) {
    double M = c->d_model, F = c->d_mlp, HD = (double)c->n_heads * c->d_head, V = c->d_vocab;
    double QKV = ((double)c->n_heads + 2.0 * (c->n_kv_heads ? c->n_kv_heads : c->n_heads)) * c->d_head;
    double per_tok = c->n_layers * 2.0 * (QKV * M + HD * M + (c->gated_mlp ? 3 : 2) * M * F) + 2.0 * M * V;
    double attn = c->n_layers * 2.0 * 2.0 * HD * (full ? T : (T + 1) / 2.0);
    return (per_tok + attn) * B * T;
}
static inline double bench_forward_flops(const hs_model_config *c, int B, int T) { return bench_forward_flops_attn(c, B, T, 0); }
#endif
#endif
