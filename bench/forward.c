/* bench/forward.c — forward-pass throughput against the same BLAS's GEMM rate.
 *
 *   bench_forward MODEL_DIR [--batch 32] [--n-ctx 256] [--iters 3] [--threads N] [--scaling] [--compute bf16]
 *
 * Prints tokens/s of a full forward with per-token loss (TL processing on),
 * the achieved GFLOP/s (matrix-product FLOPs of the pass, attention counted
 * causally), the single-precision GEMM rate of the same OpenBLAS measured in the
 * same run (the best of a square 2048³ and the pass's own MLP shape), their
 * ratio, and the peak resident memory against the weights. With --compute bf16 the same
 * pass is also timed with bf16 weight GEMMs (oneDNN), each iteration's float32 and bf16 passes
 * back to back (the same load on a shared machine), the speed given as the ratio of the best
 * times, with the deviation of its logits and losses from float32's on the batch.
 * --threads N runs on N threads (default: all cores); --scaling also times the pass on 1 thread, alternating 1 and N
 * threads in the same run, and prints the speed-up. */
#include "headscan/headscan.h"
#include "bench_gemm.h"
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double gemm_rate(int m, int n, int k, int reps) {
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n),
          *c = malloc(sizeof(float) * (size_t)m * n);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n); /* warm-up */
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        double g = 2.0 * m * n * k / (now() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a); free(b); free(c);
    return best;
}

/* oneDNN's bf16 matmul rate (bf16 inputs, float32 output) on m x k @ k x n: the bf16 pass's
 * GEMM baseline, as gemm_rate is float32's. 0 when the primitive cannot be made. */
static double bf16_rate(int m, int n, int k, int reps) {
    dnnl_engine_t eng = NULL;
    dnnl_stream_t st = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = NULL;
    dnnl_memory_desc_t sd, wd, dd;
    dnnl_dims_t ds = {m, k}, dw = {k, n}, dst = {m, n};
    dnnl_matmul_desc_t md;
    uint16_t *a = calloc((size_t)m * k, 2), *b = calloc((size_t)k * n, 2);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    dnnl_memory_t ma = NULL, mb = NULL, mc = NULL;
    double best = 0;
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (uint16_t)(0x3f00 + i % 128);   /* 0.5 .. 1 */
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (uint16_t)(0xbf00 + i % 128);
    if (a && b && c && !dnnl_engine_create(&eng, dnnl_cpu, 0) && !dnnl_stream_create(&st, eng, dnnl_stream_default_flags) &&
        !dnnl_memory_desc_init_by_tag(&sd, 2, ds, dnnl_bf16, dnnl_ab) && !dnnl_memory_desc_init_by_tag(&wd, 2, dw, dnnl_bf16, dnnl_ab) &&
        !dnnl_memory_desc_init_by_tag(&dd, 2, dst, dnnl_f32, dnnl_ab) && !dnnl_matmul_desc_init(&md, &sd, &wd, NULL, &dd) &&
        !dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL) && !dnnl_primitive_create(&p, pd) &&
        !dnnl_memory_create(&ma, &sd, eng, a) && !dnnl_memory_create(&mb, &wd, eng, b) && !dnnl_memory_create(&mc, &dd, eng, c)) {
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
        for (int r = -1; r < reps; r++) {   /* r = -1: warm-up */
            double t0 = now();
            dnnl_primitive_execute(p, st, 3, args);
            dnnl_stream_wait(st);
            double g = 2.0 * m * n * k / (now() - t0) / 1e9;
            if (r >= 0 && g > best) best = g;
        }
    }
    if (ma) dnnl_memory_destroy(ma);
    if (mb) dnnl_memory_destroy(mb);
    if (mc) dnnl_memory_destroy(mc);
    if (p) dnnl_primitive_destroy(p);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st) dnnl_stream_destroy(st);
    if (eng) dnnl_engine_destroy(eng);
    free(a); free(b); free(c);
    return best;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_forward MODEL_DIR [--batch 32] [--n-ctx 256] [--iters 3] [--threads N] [--scaling] [--compute bf16]\n");
        return 2;
    }
    int B = 32, T = 256, iters = 3, threads = 0, scaling = 0;
    hs_compute compute = HS_COMPUTE_F32;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--scaling")) scaling = 1;
        else if (i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", argv[i]); return 2; }
        else if (!strcmp(argv[i], "--batch")) B = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n-ctx")) T = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compute")) { if (hs_compute_parse(argv[++i], &compute)) { fprintf(stderr, "%s\n", hs_last_error()); return 2; } }
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (threads > 0) hs_set_num_threads(threads);
    const int nthreads = hs_get_num_threads();
    hs_model_params mp = hs_model_default_params();
    hs_model *m;
    double t0 = now();
    if (hs_model_load(argv[1], &mp, &m)) { fprintf(stderr, "load: %s\n", hs_last_error()); return 1; }
    double t_load = now() - t0;
    const hs_model_config *c = hs_model_get_config(m);
    hs_forward *f;
    if (hs_forward_create(m, B, T, &f)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
    int32_t *tok = malloc(sizeof *tok * (size_t)B * T);
    for (int i = 0; i < B * T; i++) tok[i] = i % T == 0 ? 0 : (int32_t)(1 + (i * 7919u) % (unsigned)(c->d_vocab - 1));
    float *loss = malloc(sizeof(float) * (size_t)B * (T - 1));
    hs_forward_params fp = hs_forward_default_params();
    fp.loss = loss;
    hs_forward_params fc = fp;   /* the --compute mode's pass, timed interleaved with float32's (same load) */
    fc.compute = compute;
    hs_forward_run(f, tok, B, T, &fp); /* warm-up */
    if (compute != HS_COMPUTE_F32 && hs_forward_run(f, tok, B, T, &fc)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
    /* the GEMM-bound ideal: the pass's own matrix products, each shape timed alone (QKV, O, MLP
       in, MLP out per layer; the unembedding per sequence), timed between the passes and the
       best kept, so that a machine whose load changes during the run affects both alike; a
       --compute pass runs right after each float32 pass (the same load) */
    double best = 1e30, best1 = 1e30, ideal = 1e30, best_c = compute != HS_COMPUTE_F32 ? 1e30 : 0;
    for (int i = 0; i < iters; i++) {
        double id = bench_forward_ideal_cfg(c, B, T);
        if (id < ideal) ideal = id;
        for (int one = 0; one <= scaling; one++) {   /* with --scaling: N threads, then 1, alternating */
            hs_set_num_threads(one ? 1 : nthreads);
            double t1 = now();
            if (hs_forward_run(f, tok, B, T, &fp)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
            double dt = now() - t1;
            if (one && dt < best1) best1 = dt;
            if (!one && dt < best) best = dt;
        }
        hs_set_num_threads(nthreads);
        if (compute != HS_COMPUTE_F32) {
            double t1 = now();
            if (hs_forward_run(f, tok, B, T, &fc)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
            double dt = now() - t1;
            if (dt < best_c) best_c = dt;
        }
    }
    hs_compute_deviation dev = {0};
    if (compute != HS_COMPUTE_F32 && hs_compute_compare(m, tok, B, T, compute, &dev)) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
    double flops = bench_forward_flops(c, B, T);   /* GQA q|k|v width, gated MLP; attention causal */
    double g_fwd = flops / best / 1e9;
    double g_sq = gemm_rate(2048, 2048, 2048, 3), g_mlp = gemm_rate(B * T, c->d_mlp, c->d_model, 3);
    double g_ref = g_sq > g_mlp ? g_sq : g_mlp;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    hs_memory_estimate e = hs_model_estimate_memory(c, B, T);
    printf("model            %s (%d layers, d_model %d, vocab %d)\n", argv[1], c->n_layers, c->d_model, c->d_vocab);
    printf("threads          %d\n", nthreads);
    hs_blas_info bi;
    if (hs_blas_get_info(&bi) == HS_OK)
        printf("blas kernel      %s%s%s%s (%s)\n", bi.kernel, bi.switched ? ", set by headscan" : "",
               bi.below_cpu ? ", forced by OPENBLAS_CORETYPE below this CPU's " : "", bi.below_cpu ? bi.cpu_kernel : "", bi.library);
    printf("load             %.2f s\n", t_load);
    printf("forward          %d x %d tokens in %.3f s (best of %d) = %.0f tokens/s\n", B, T, best, iters, B * T / best);
    if (scaling)
        printf("thread scaling   1 thread %.3f s, %d threads %.3f s: %.2fx (alternated in this run)\n", best1, nthreads, best, best1 / best);
    printf("forward rate     %.1f GFLOP/s (%.1f GFLOP per pass)\n", g_fwd, flops / 1e9);
    if (best_c > 0) {
        printf("%-16s %d x %d tokens in %.3f s (best of %d) = %.0f tokens/s = %.2f x float32 (%s)\n", hs_compute_name(compute),
               B, T, best_c, iters, B * T / best_c, best / best_c, dev.impl);
        printf("%s deviation   %d sequences alone: max |dlogit| %.3g (max |logit| %.3g), rel. logit error %.3g, "
               "max |dloss| %.3g, mean |dloss| %.3g\n", hs_compute_name(compute), dev.sequences, dev.max_abs_logit,
               dev.max_logit, dev.rel_logit, dev.max_abs_loss, dev.mean_abs_loss);
    }
    printf("sgemm rate       %.1f GFLOP/s (2048^3: %.1f, %dx%dx%d: %.1f)\n", g_ref, g_sq, B * T, c->d_mlp, c->d_model, g_mlp);
    printf("ratio            %.2f of the GEMM rate (target >= 0.60)\n", g_fwd / g_ref);
    if (best_c > 0) {
        double g_bf = bf16_rate(B * T, c->d_mlp, c->d_model, 3);
        printf("bf16 matmul rate %.1f GFLOP/s (oneDNN, %dx%dx%d) = %.2f x sgemm's: the bf16 pass's GEMM-bound ceiling; "
               "its forward rate %.1f GFLOP/s\n", g_bf, B * T, c->d_mlp, c->d_model, g_bf / g_mlp, flops / best_c / 1e9);
    }
    printf("GEMM-bound ideal %.3f s (the pass's own products alone, best of %d between the passes): forward at %.2f of it\n", ideal, iters, ideal / best);
    const double flops_full = bench_forward_flops_attn(c, B, T, 1);
    printf("issue's measure  %.3f s (the pass's FLOPs with attention in full, %.1f GFLOP, at sgemm 2048^3's rate): forward at %.2f of it\n",
           flops_full / (g_sq * 1e9), flops_full / 1e9, flops_full / (g_sq * 1e9) / best);
    printf("peak RSS         %.1f MB; weights %.1f MB; RSS - weights = %.1f MB (target < 1536 MB); estimate %.1f MB\n",
           ru.ru_maxrss / 1024.0, e.weights / 1048576.0, ru.ru_maxrss / 1024.0 - e.weights / 1048576.0, e.total / 1048576.0);
    hs_forward_free(f);
    hs_model_free(m);
    free(tok);
    free(loss);
    return 0;
}
