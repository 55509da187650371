/* bench/train.c — training-step throughput of the bundled toy configuration.
 *
 * Reports tokens/s of a full step (forward + backward + AdamW) on random tokens, the
 * model FLOPs per token (matrix products only, 6 * params-in-matmuls + attention), the
 * achieved GFLOP/s, and its fraction of an sgemm GFLOP/s measured in the same run on
 * the step's largest product (the unembedding, [B*T, d_model] x [d_model, vocab]).
 * Default: models/toy's configuration (2 layers, d_model 128, 4 heads, attention-only,
 * vocab 2048, n_ctx 256, rotary_pct 0.5, batch 8). d_mlp > 8 on the command line gives
 * a model with MLPs instead.
 * usage: bench_train [steps=5] [threads=hs default] [layers d_model heads d_mlp vocab batch]
 */
#include "train/train_internal.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 5;
    if (argc > 2 && atoi(argv[2]) > 0) hs_set_num_threads(atoi(argv[2]));
    tr_config c = { .L = 2, .M = 128, .H = 4, .F = 8, .V = 2048, .T = 256, .rot_base = 10000, .eps = 1e-5 };
    int B = 8;
    if (argc > 8) { c.L = atoi(argv[3]); c.M = atoi(argv[4]); c.H = atoi(argv[5]); c.F = atoi(argv[6]); c.V = atoi(argv[7]); B = atoi(argv[8]); }
    c.D = c.M / c.H;
    c.R = (c.D / 2) & ~1;            /* rotary_pct 0.5, as models/toy */
    const int attn_only = c.F <= 8;  /* as `headscan train --attn-only`: a frozen zero MLP */
    tr_model m;
    tr_acts a;
    if (tr_model_init(&m, &c) || tr_acts_alloc(&a, &c, B, c.T)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
    tr_model_randomize(&m, 1, 0.02, 0.0);
    if (attn_only) tr_model_freeze_mlp(&m);
    float *g = hs_aligned_alloc(m.n_params * 4);
    tr_adamw opt = { .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .wd = 0.1 };
    opt.m = hs_aligned_alloc(m.n_params * 4);
    opt.v = hs_aligned_alloc(m.n_params * 4);
    size_t N = (size_t)B * c.T;
    int32_t *tok = malloc(N * 4), *tgt = malloc(N * 4);
    tr_rng r = { 5 };
    for (size_t i = 0; i < N; i++) { tok[i] = (int32_t)(tr_rng_next(&r) % c.V); tgt[i] = (int32_t)(tr_rng_next(&r) % c.V); }
    /* warm-up step, then timed steps with a per-phase breakdown */
    tr_forward(&m, &a, tok, tgt); tr_backward(&m, &a, tok, g);
    double tf = 0, tb = 0, to = 0;
    for (int s = 0; s < steps; s++) {
        double t0 = now();
        tr_forward(&m, &a, tok, tgt);
        double t1 = now();
        tr_backward(&m, &a, tok, g);
        double t2 = now();
        tr_clip_grads(g, m.n_params, 1.0);
        tr_adamw_step(&m, &opt, m.p, g);
        double t3 = now();
        tf += t1 - t0; tb += t2 - t1; to += t3 - t2;
    }
    double step_s = (tf + tb + to) / steps, tps = N / step_s;
    /* matmul FLOPs per token: 2 per multiply-add; backward = 2x forward */
    double per_layer = 2.0 * (3.0 * c.M * c.M + c.M * c.M + (attn_only ? 0.0 : 2.0 * c.M * c.F));
    double attn = 2.0 * 2.0 * c.T * c.M;            /* scores + mixing, full T x T products as computed */
    double fwd = c.L * (per_layer + attn) + 2.0 * c.M * c.V;
    double flops_tok = 3.0 * fwd;
    /* same-run sgemm rate on the unembedding product */
    float *A = hs_aligned_alloc(N * c.M * 4), *W = hs_aligned_alloc((size_t)c.V * c.M * 4), *C = hs_aligned_alloc(N * c.V * 4);
    for (size_t i = 0; i < N * c.M; i++) A[i] = 0.01f * (float)(i % 97);
    for (size_t i = 0; i < (size_t)c.V * c.M; i++) W[i] = 0.01f * (float)(i % 89);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, c.V, c.M, 1, A, c.M, W, c.M, 0, C, c.V);
    int reps = 5;
    double t0 = now();
    for (int i = 0; i < reps; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, c.V, c.M, 1, A, c.M, W, c.M, 0, C, c.V);
    double gemm = 2.0 * N * c.V * c.M * reps / (now() - t0) / 1e9;
    double achieved = flops_tok * tps / 1e9;
    printf("config: L=%d d_model=%d heads=%d %s d_mlp=%d vocab=%d n_ctx=%d rotary_dim=%d batch=%d threads=%d params=%zu\n",
           c.L, c.M, c.H, attn_only ? "attn-only" : "with MLP", c.F, c.V, c.T, c.R, B, hs_get_num_threads(), m.n_params);
    printf("step: %.3f s (forward %.3f, backward %.3f, clip+adamw %.3f)\n", step_s, tf / steps, tb / steps, to / steps);
    printf("train tokens/s: %.0f\n", tps);
    printf("matmul work: %.2f MFLOP/token (forward + backward), achieved %.2f GFLOP/s\n", flops_tok / 1e6, achieved);
    printf("same-run sgemm [%zu x %d] x [%d x %d]: %.2f GFLOP/s\n", N, c.M, c.M, c.V, gemm);
    printf("fraction of sgemm rate: %.3f\n", achieved / gemm);
    return 0;
}
