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

/* The GEMM-bound ideal of one forward pass of B sequences of T tokens: the pass's own
 * matrix products (QKV, O, MLP in/out per layer; the unembedding per sequence), each
 * shape timed alone. */
static inline double bench_forward_ideal(int B, int T, int n_layers, int d_model, int d_mlp, int hd, int d_vocab) {
    int BT = B * T;
    return n_layers * (bench_gemm_time(BT, 3 * hd, d_model, 1) + bench_gemm_time(BT, d_model, hd, 1) +
                       bench_gemm_time(BT, d_mlp, d_model, 1) + bench_gemm_time(BT, d_model, d_mlp, 1)) +
           bench_gemm_time(T, d_vocab, d_model, B);
}
#endif
