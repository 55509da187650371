/* bench/scan.c — the study's workload end to end (`hs_scan_run` on N x T tokens, every
 * metric) with its per-stage breakdown, plus:
 *   - frac_copy_argmax: the pruned exact version for every head against the dense
 *     baseline (sgemm of the full [V, V] matrix in row blocks + row argmax) timed on
 *     --dense-heads heads and extrapolated to all heads; counts compared;
 *   - the forward's GEMM-bound ideal: the pass's own matrix products (every shape of
 *     the forward, each timed alone, bench_gemm.h) for all the batches of the scan;
 *   - the study's GEMM-bound ideal: that plus the products the other stages cannot avoid
 *     (the induction forward, post-MLP embeddings and their Gram matrix, frac_copy_argmax's
 *     factors), each shape timed alone as the library runs it; total / it says how close the
 *     whole study is to its own floor, total / the forward's ideal what the issue asks.
 * With --interleave the forward's products are also timed between the scan's batches (from its
 * progress callback, each shape once per batch, the callback's time taken out of the scan's): a
 * baseline under the same load as the batches it is compared with, where the before / after one
 * is minutes away from them on a shared machine.
 * usage: bench_scan MODEL_DIR TOKENS.npy [--prompts 288] [--batch 32] [--dense-heads 2]
 *                   [--skip-scan] [--interleave] [--json OUT.json]
 * Run it with `nice`; bench/scan.sh runs it beside the torch reference. */
#include "headscan/headscan.h"
#include "bench_gemm.h"
#include "core/vmath.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* VmHWM of this process in bytes (0 where /proc is absent). */
static size_t vm_hwm(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtoull(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb * 1024;
}

/* Peak RSS of the scan's stages: once induction is done (the last forward), the peak so far
 * is the per-token and induction stages'; VmHWM is then reset (/proc/self/clear_refs) so
 * the peak at the end is the model-level stages' (eigenvalues, frac_copy_argmax). */
static size_t peak_forward;

/* --interleave: the forward's products timed after each batch of the scan (inter_*). */
static struct {
    const hs_model_config *c;
    int T, on;
    int64_t done;             /* sequences of the forward stage seen so far */
    double ideal, spent;      /* summed per-batch ideal; seconds the callback took */
    float *a, *b, *out;       /* operands, grown to the largest shape met */
    size_t na, nb, nout, bytes;
} inter;

/* `*p` holding at least n floats (zeroed when grown); false when out of memory. */
static bool inter_grow(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    free(*p);
    *p = calloc(n, sizeof(float));
    inter.bytes += sizeof(float) * (n - *cap);
    *cap = *p ? n : 0;
    return *p != NULL;
}

/* Seconds of `reps` sgemms [m,k]x[k,n] on inter's buffers, timed once (no warm-up: the
 * forward's own GEMMs run just as cold); a bench_gemm_fn. */
static double inter_gemm(int m, int n, int k, int reps) {
    if (!inter_grow(&inter.a, &inter.na, (size_t)m * k) || !inter_grow(&inter.b, &inter.nb, (size_t)k * n) ||
        !inter_grow(&inter.out, &inter.nout, (size_t)m * n))
        return NAN;
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, inter.a, k, inter.b, n, 0.0f, inter.out, n);
    return now_s() - t0;
}

static int progress(const char *stage, int64_t done, int64_t total, void *u) {
    (void)u;
    fprintf(stderr, "  [%s %lld/%lld]\n", stage, (long long)done, (long long)total);
    if (inter.on && !strcmp(stage, "forward")) {
        const double t0 = now_s();
        inter.ideal += bench_forward_ideal_cfg_with(inter_gemm, inter.c, (int)(done - inter.done), inter.T);
        inter.done = done;
        inter.spent += now_s() - t0;
    }
    if (!strcmp(stage, "induction") && done == total) {
        peak_forward = vm_hwm();
        FILE *f = fopen("/proc/self/clear_refs", "w");
        if (f) { fputs("5", f); fclose(f); }
    }
    return 0;
}

/* Bytes of the model folder's *.safetensors files. */
static double model_file_bytes(const char *dir) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "du -cb '%s'/*.safetensors 2>/dev/null | tail -1", dir);
    FILE *p = popen(cmd, "r");
    double b = 0;
    if (p) { if (fscanf(p, "%lf", &b) != 1) b = 0; pclose(p); }
    return b;
}

/* The forward's GEMM-bound ideal for n sequences of T tokens in batches of `batch` (full
 * batches, then the remainder). */
static double scan_ideal(const hs_model_config *c, int n, int batch, int T) {
    return (n / batch) * bench_forward_ideal_cfg(c, batch, T) + (n % batch ? bench_forward_ideal_cfg(c, n % batch, T) : 0.0);
}

/* Seconds for one [m,k]x[k,n] dgemm: best of 2 after a warm-up. */
static double dgemm_time(int m, int n, int k) {
    double *a = calloc((size_t)m * k, sizeof(double)), *b = calloc((size_t)k * n, sizeof(double)), *c = calloc((size_t)m * n, sizeof(double));
    double best = 1e30;
    for (int t = 0; t < 3; t++) {
        double t0 = now_s();
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
        if (t && now_s() - t0 < best) best = now_s() - t0;
    }
    free(a); free(b); free(c);
    return best;
}

/* The GEMM-bound ideal of the study's products beyond the scan's forward, each shape timed
 * alone as the library runs it (src/analysis/induction.c, copying.c: row chunks of 1024
 * induction tokens, 512 post-MLP embedding rows, 1024-row Gram blocks in double, 4096-row
 * factor blocks): ind = the induction forward's weight products (all layers to the last
 * one's q|k|v, where it stops); eig = post-MLP embeddings + G = W_U·pme; frac = A = pme·W_V
 * and Bᵀ = (W_O·W_U)ᵀ for every layer. */
static void other_ideal(const hs_model_config *c, int ind_b, int ind_t, double *ind, double *eig, double *frac) {
    const int L = c->n_layers, M = c->d_model, F = c->d_mlp, D = c->d_head, H = c->n_heads, V = c->d_vocab;
    const int KV = c->n_kv_heads ? c->n_kv_heads : H, QKV = (H + 2 * KV) * D, HD = H * D, gated = c->gated_mlp ? 2 : 1;
    const int chunk = ind_t >= 1024 ? 1 : (ind_b < 1024 / ind_t ? ind_b : 1024 / ind_t);
    *ind = 0;
    for (int b0 = 0; b0 < ind_b; b0 += chunk) {
        const int R = (ind_b - b0 < chunk ? ind_b - b0 : chunk) * ind_t;
        const double qkv = bench_gemm_time(R, QKV, M, 1);
        *ind += L * qkv + (L - 1) * (bench_gemm_time(R, M, HD, 1) + bench_gemm_time(R, F, M, gated) + bench_gemm_time(R, M, F, 1));
    }
    const double chunks = V / 512.0, blocks = V / 1024.0, fblocks = V / 4096.0;
    *eig = chunks * (bench_gemm_time(512, F, M, gated) + bench_gemm_time(512, M, F, 1)) + blocks * dgemm_time(M, M, 1024);
    int hb = (int)(((int64_t)256 << 20) / ((int64_t)sizeof(float) * V * D));
    hb = hb < 1 ? 1 : hb > H ? H : hb;
    *frac = L * fblocks * (bench_gemm_time(4096, KV * D, M, 1) + (H / hb) * bench_gemm_time(4096, hb * D, M, 1) +
                           (H % hb ? bench_gemm_time(4096, (H % hb) * D, M, 1) : 0.0));
}

/* Work of the forward that no GEMM-bound ideal counts, timed alone for one batch of B x T as
 * the library runs it (src/model/forward.c): attention's own products (per batch and head,
 * 64-row causal blocks of q·kᵀ and pattern @ v, single-threaded, the heads shared by the
 * threads; one layer timed, times the layers) and the loss's log-sum-exp (max, then Σexp,
 * over vocabulary blocks of the library's width, T − 1 rows per sequence, on a block already
 * in cache as the library's is). */
static void unideal_work(const hs_model_config *c, int B, int T, double *attn, double *lse) {
    const int H = c->n_heads, D = c->d_head, HD = H * D, KV = c->n_kv_heads ? c->n_kv_heads : H, QKV = HD + 2 * KV * D;
    const int V = c->d_vocab, RB = 64, nt = hs_get_num_threads() > 0 ? hs_get_num_threads() : 1;
    int VB = ((1 << 20) / c->d_model) & ~63;
    VB = VB < 64 ? 64 : VB > 4096 ? 4096 : VB;
    VB = VB < V ? VB : V;
    float *pre = calloc((size_t)B * T * QKV, sizeof(float)), *S = calloc((size_t)nt * T * T, sizeof(float)),
          *Z = calloc((size_t)B * T * HD, sizeof(float)), *lg = malloc(sizeof(float) * (size_t)nt * T * VB);
    *attn = *lse = NAN;
    if (pre && S && Z && lg) {
        for (size_t i = 0; i < (size_t)nt * T * VB; i++) lg[i] = (float)(i % 977) * 0.01f - 4.0f;
        double best = 1e30;
        for (int rep = 0; rep < 2; rep++) {
            double t0 = now_s();
            #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
            for (int bh = 0; bh < B * H; bh++) {
#ifdef _OPENMP
                float *s = S + (size_t)omp_get_thread_num() * T * T;
#else
                float *s = S;
#endif
                const int b = bh / H, h = bh % H, g = h / (H / KV);
                const float *q = pre + (size_t)b * T * QKV + h * D, *k = pre + (size_t)b * T * QKV + HD + g * D,
                            *v = pre + (size_t)b * T * QKV + HD + KV * D + g * D;
                for (int r0 = 0; r0 < T; r0 += RB) {
                    const int r1 = r0 + RB < T ? r0 + RB : T;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1, D, 1.0f, q + (size_t)r0 * QKV, QKV, k, QKV, 0.0f,
                                s + (size_t)r0 * T, T);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, D, r1, 1.0f, s + (size_t)r0 * T, T, v, QKV, 0.0f,
                                Z + ((size_t)b * T + r0) * HD + h * D, HD);
                }
            }
            const double dt = now_s() - t0;
            best = dt < best ? dt : best;
        }
        *attn = c->n_layers * best;
        double sink = 0, t0 = now_s();
        for (int v0 = 0; v0 < V; v0 += VB) {
            const int n = V - v0 < VB ? V - v0 : VB;
            #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) reduction(+ : sink)
            for (int b = 0; b < B; b++) {
#ifdef _OPENMP
                const float *x = lg + (size_t)omp_get_thread_num() * T * VB;
#else
                const float *x = lg;
#endif
                for (int p = 0; p < T - 1; p++) sink += hs_sum_exp(x + (size_t)p * n, n, hs_max(x + (size_t)p * n, n));
            }
        }
        *lse = now_s() - t0 + (sink < 0 ? 1e-300 : 0.0);   /* sink keeps the sums */
    }
    free(pre); free(S); free(Z); free(lg);
}

static double sgemm_rate(void) {   /* GFLOP/s of a 2048^3 sgemm, best of 3 */
    const int n = 2048;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = now_s() - t;
        double g = 2.0 * n * n * (double)n / t / 1e9;
        if (g > best) best = g;
    }
    free(a); free(b); free(c);
    return best;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_scan MODEL_DIR TOKENS.npy [--prompts 288] [--batch 32] [--dense-heads 2] [--skip-scan] [--interleave] [--json OUT]\n");
        return 2;
    }
    const char *model = argv[1], *tokpath = argv[2], *json = NULL;
    long prompts = 288;
    int batch = 32, dense_heads = 2, skip_scan = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--prompts") && i + 1 < argc) prompts = atol(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dense-heads") && i + 1 < argc) dense_heads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--skip-scan")) skip_scan = 1;
        else if (!strcmp(argv[i], "--interleave")) inter.on = 1;
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    }
    hs_model_params mp = hs_model_default_params();
    hs_model *m;
    double t = now_s();
    if (hs_model_load(model, &mp, &m)) { fprintf(stderr, "load: %s\n", hs_last_error()); return 1; }
    double t_load = now_s() - t;
    const hs_model_config *c = hs_model_get_config(m);
    hs_array tokens;
    if (hs_tokens_load(tokpath, &tokens)) { fprintf(stderr, "tokens: %s\n", hs_last_error()); return 1; }
    const int L = c->n_layers, H = c->n_heads, D = c->d_head, M = c->d_model, V = c->d_vocab;
    const int G = L * H;
    printf("model %s: L=%d H=%d D=%d M=%d V=%d; tokens %s [%lld, %lld]; threads %d\n", model, L, H, D, M, V, tokpath,
           (long long)tokens.shape[0], (long long)tokens.shape[1], hs_get_num_threads());
    double rate = sgemm_rate();
    printf("sgemm 2048^3: %.1f GFLOP/s\n", rate);

    hs_scan_result *r = NULL;
    /* the forward's GEMM-bound ideal is measured before and after the scan: on a shared
       machine the two differ, and the spread shows how far the ratios below can be trusted */
    double ideal_before = 0;
    if (!skip_scan) {
        const int n0 = (int)(prompts < tokens.shape[0] ? prompts : tokens.shape[0]), T0 = (int)tokens.shape[1];
        ideal_before = scan_ideal(c, n0, batch < n0 ? batch : n0, T0);
    }
    if (!skip_scan) {
        inter.c = c;
        inter.T = (int)tokens.shape[1];
        hs_scan_params sp = hs_scan_default_params();
        sp.prompts = prompts;
        sp.batch = batch;
        sp.progress = progress;
        t = now_s();
        if (hs_scan_run(m, &tokens, &sp, &r)) { fprintf(stderr, "scan: %s\n", hs_last_error()); return 1; }
        double tt = now_s() - t - inter.spent;   /* the interleaved timing is not the scan's */
        r->t_forward -= inter.spent;
        const double T = (double)r->T, N = r->N;
        /* forward matrix-product FLOPs per sequence (sgemm work the runtime does) */
        double fwd_flop = bench_forward_flops(c, (int)N, r->T);
        const double ideal_after = scan_ideal(c, r->N, batch, r->T);
        const double ideal = 0.5 * (ideal_before + ideal_after);
        printf("\nscan of %d x %d tokens (load %.2fs, not included):\n", r->N, r->T, t_load);
        printf("  forward GEMM-bound ideal measured before / after the scan: %.2f / %.2f s (the ratios use their mean;"
               " their spread is the machine's noise)\n", ideal_before, ideal_after);
        printf("  forward + per-token metrics  %8.2f s   = %.0f tokens/s (forward GEMM work %.2f TFLOP; GEMM-bound ideal %.2f s"
               " = %.0f tokens/s => %.0f%% of ideal)\n",
               r->t_forward, N * T / r->t_forward, fwd_flop / 1e12, ideal, N * T / ideal, 100.0 * ideal / r->t_forward);
        if (inter.on)
            printf("  forward GEMM-bound ideal timed between the batches (--interleave, each shape once per batch): %.2f s"
                   " => forward + per-token metrics at %.0f%% of it, total / it = %.2f\n", inter.ideal,
                   100.0 * inter.ideal / r->t_forward, tt / inter.ideal);
        printf("  quantile tables              %8.2f s\n", r->t_quantiles);
        printf("  induction scores             %8.2f s\n", r->t_induction);
        printf("  eigenvalue scores            %8.2f s\n", r->t_eigen);
        printf("  frac_copy_argmax (%d heads)  %8.2f s\n", G, r->t_frac);
        /* the reset after induction also resets getrusage's maximum (r->peak_rss): the whole
         * scan's peak is the larger of the two parts' */
        const double fb = model_file_bytes(model), pm = (double)vm_hwm();
        const double peak = peak_forward > r->peak_rss ? (double)peak_forward : (double)r->peak_rss;
        printf("  total                        %8.2f s   peak RSS %.0f MB\n", tt, peak / 1048576.0);
        if (fb > 0 && peak_forward > 0)
            printf("  peak RSS - model file size (%.0f MB): whole scan %+.0f MB; forward + induction stages %+.0f MB;"
                   " eigenvalues + frac_copy_argmax stages %+.0f MB (goal <= +1536 MB)%s\n", fb / 1048576.0,
                   (peak - fb) / 1048576.0, (peak_forward - fb) / 1048576.0, (pm - fb) / 1048576.0,
                   inter.on ? "; these include up to the bench's own --interleave operands" : "");
        if (inter.on) printf("  --interleave's operands: %.0f MB\n", inter.bytes / 1048576.0);
        printf("  total / forward GEMM-bound ideal = %.2f (goal <= 1.2); shares of the total: forward %.0f%%, quantiles %.1f%%,"
               " induction %.1f%%, eigenvalues %.1f%%, frac_copy_argmax %.1f%%, other %.1f%%\n",
               tt / ideal, 100 * r->t_forward / tt, 100 * r->t_quantiles / tt, 100 * r->t_induction / tt, 100 * r->t_eigen / tt,
               100 * r->t_frac / tt, 100 * (tt - r->t_forward - r->t_quantiles - r->t_induction - r->t_eigen - r->t_frac) / tt);
        /* the issue's own measure: the forward's matrix-product FLOPs with attention counted in
           full at this run's sgemm 2048^3 rate */
        const double fwd_flop_full = bench_forward_flops_attn(c, (int)N, r->T, 1), issue_ideal = fwd_flop_full / (rate * 1e9);
        printf("  the issue's measure: forward work %.2f TFLOP (attention in full) at sgemm 2048^3's %.0f GFLOP/s = %.2f s;"
               " total / it = %.2f\n", fwd_flop_full / 1e12, rate, issue_ideal, tt / issue_ideal);
        double oi_ind = 0, oi_eig = 0, oi_frac = 0;
        if (r->ind_tokens.ndim == 2) other_ideal(c, (int)r->ind_tokens.shape[0], (int)r->ind_tokens.shape[1], &oi_ind, &oi_eig, &oi_frac);
        const double study_ideal = ideal + oi_ind + oi_eig + oi_frac;
        printf("  the study's other products, each shape timed alone: induction forward %.2f s, post-MLP embeddings + Gram %.2f s,"
               " frac_copy_argmax factors %.2f s (%.0f%% on top of the forward's ideal)\n", oi_ind, oi_eig, oi_frac,
               100 * (study_ideal / ideal - 1));
        printf("  total / the study's GEMM-bound ideal (forward + those) = %.2f; stage / its own products: induction %.2f,"
               " eigenvalues %.2f, frac_copy_argmax %.2f\n", tt / study_ideal, oi_ind > 0 ? r->t_induction / oi_ind : NAN,
               oi_eig > 0 ? r->t_eigen / oi_eig : NAN, oi_frac > 0 ? r->t_frac / oi_frac : NAN);
        double ua, ul;
        unideal_work(c, batch < r->N ? batch : r->N, r->T, &ua, &ul);
        const double nb = (double)r->N / (batch < r->N ? batch : r->N), unideal = nb * (ua + ul) + r->t_quantiles;
        printf("  work no ideal counts, timed alone: attention's own products %.2f s, the loss's log-sum-exp %.2f s, quantiles"
               " %.2f s; total / (the study's ideal + those) = %.2f\n", nb * ua, nb * ul, r->t_quantiles, tt / (study_ideal + unideal));
        hs_blas_info bi;
        if (hs_blas_get_info(&bi) == HS_OK)
            printf("  BLAS: kernel %s%s%s%s%s, %d threads\n", bi.kernel, bi.switched ? " (set by headscan)" : "",
                   bi.below_cpu ? " (forced by OPENBLAS_CORETYPE below this CPU's " : "", bi.below_cpu ? bi.cpu_kernel : "",
                   bi.below_cpu ? ")" : "", bi.threads);
        if (json) {
            FILE *f = fopen(json, "w");
            if (f) {
                fprintf(f, "{\"forward\": %.4f, \"quantiles\": %.4f, \"induction\": %.4f, \"eigen\": %.4f, \"frac\": %.4f, \"total\": %.4f,"
                           " \"peak_rss\": %zu, \"study_ideal\": %.4f, \"fwd_ideal\": %.4f, \"fwd_ideal_before\": %.4f, \"fwd_ideal_after\": %.4f, \"sgemm_gflops\": %.2f, \"issue_ideal\": %.4f, \"fwd_ideal_interleaved\": %.4f, \"load\": %.4f, \"tokens\": %.0f}\n",
                        r->t_forward, r->t_quantiles, r->t_induction, r->t_eigen, r->t_frac, tt,
                        peak_forward > r->peak_rss ? peak_forward : r->peak_rss, study_ideal, ideal, ideal_before, ideal_after, rate, issue_ideal, inter.on ? inter.ideal : 0.0, t_load, N * T);
                fclose(f);
            }
        }
    }
    /* frac_copy_argmax: pruned vs dense on the first dense_heads heads of layer 3 (or 0) */
    if (dense_heads > 0) {
        float *pme;
        if (hs_post_mlp_embed(m, &pme)) { fprintf(stderr, "pme: %s\n", hs_last_error()); return 1; }
        hs_array WU, WV, WO;
        int l = L > 3 ? 3 : 0;
        char name[64];
        hs_model_weight(m, "W_U", &WU);
        snprintf(name, sizeof name, "blocks.%d.attn.W_V", l);
        hs_model_weight(m, name, &WV);
        snprintf(name, sizeof name, "blocks.%d.attn.W_O", l);
        hs_model_weight(m, name, &WO);
        float *A = malloc(sizeof(float) * (size_t)V * D), *Bt = malloc(sizeof(float) * (size_t)V * D);
        double td = 0, tp = 0;
        int n = dense_heads < H ? dense_heads : H;
        printf("\nfrac_copy_argmax, layer %d heads 0..%d: pruned vs dense (sgemm [V,V] in row blocks + argmax)\n", l, n - 1);
        for (int h = 0; h < n; h++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, V, D, M, 1.0f, pme, M, (float *)WV.data + (size_t)h * M * D, D, 0.0f, A, D);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, V, D, M, 1.0f, WU.data, V, (float *)WO.data + (size_t)h * D * M, M, 0.0f, Bt, D);
            int64_t cp, cd;
            t = now_s();
            hs_copy_argmax_count(A, Bt, V, D, false, &cp);
            double a = now_s() - t;
            t = now_s();
            hs_copy_argmax_count(A, Bt, V, D, true, &cd);
            double b = now_s() - t;
            tp += a; td += b;
            printf("  L%dH%d: pruned %lld rows in %.3f s, dense %lld rows in %.2f s (%.0fx)%s\n", l, h, (long long)cp, a,
                   (long long)cd, b, b / a, cp == cd ? "" : "  [counts differ: near-tied rows, BLAS vs fma-chain entries]");
        }
        double dense_all = td / n * G;
        printf("  dense extrapolated to %d heads: %.1f s", G, dense_all);
        if (r) printf("; pruned (all %d heads, in the scan): %.2f s => %.0fx", G, r->t_frac, dense_all / r->t_frac);
        printf("\n");
        free(A); free(Bt); free(pme);
    }
    hs_scan_result_free(r);
    hs_array_free(&tokens);
    hs_model_free(m);
    free(inter.a); free(inter.b); free(inter.out);
    return 0;
}
