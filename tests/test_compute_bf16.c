/* test_compute_bf16.c — the opt-in bf16 compute (hs_forward_params.compute, oneDNN) and its
 * error paths. float32 stays the default; the TL-equality tests never use bf16.
 *
 * Tolerances (u = 2^-9: bf16 keeps 8 significant bits, so rounding to nearest changes a
 * value by at most a relative 2^-9):
 *
 * (A) Each weight GEMM, given its own input. y = x·W + b over K terms is computed as
 *     Σ_k bf16(x_k)·bf16(w_k) accumulated in float32. Each product is off by at most
 *     (2u + u²)·|x_k w_k| (two roundings), and float32 accumulation of K terms adds at most
 *     K·2^-24·Σ|x_k w_k| (first-order bound, γ_K), so
 *         |y_bf16 − y| ≤ (2u + u² + K·2^-24)·Σ_k |x_k||w_k| + 2^-23·|y|
 *     where y is the exact (double) product of the pass's own float32 input (its hook) and
 *     the model's TL weights (hs_model_weight; tested against TransformerLens elsewhere).
 *     Checked for every layer's q (the q|k|v GEMM), attn_out, mlp_out and for the logits.
 *     For stored Llama-family models fold_ln's norm weight scales the activation instead of
 *     the weight column (the same product; x·s in float32 adds 2^-24 relative, covered by the
 *     K·2^-24 term); center_unembed is off in (A), as the bound needs the uncentred W_U.
 *     A transposed, wrongly mapped or fp16-rounded weight breaks this bound by orders of
 *     magnitude; a pass that silently stayed float32 fails the "bf16 really ran" check.
 *
 * (B) End to end against TransformerLens's golden logits and losses (default processing,
 *     centring included). The first-order error of the logits is the sum of every GEMM's
 *     rounding carried to the logits; with LayerNorm/RMSNorm renormalising the residual
 *     stream, each of the G = 4·n_layers + 1 GEMMs contributes at most its bound (A)
 *     relative to its output scale, which we carry as 2u·S per GEMM with S = max over (t, v)
 *     of Σ_m |x_tm||W_U[m, v]| (the logits' own magnitude scale): tol = κ·G·2u·S with κ = 4
 *     for the amplification through softmax and the MLP nonlinearity (a stated allowance,
 *     not a proof; the observed ratio is printed with HS_TEST_VERBOSE). The loss at a
 *     position then moves by at most 2·max_v |Δlogit| (logsumexp and the target logit each
 *     move by at most that much): rigorous given the logits, checked as such. */
#include "test.h"
#include "headscan/headscan.h"
#include <float.h>

static char golden_root[1024], fixture_root[1024];
static const double U = 1.0 / 512;   /* 2^-9 */

static const float *hook(hs_cache *c, const char *name) {
    const hs_array *a = hs_cache_get(c, name);
    CHECK(a != NULL, "hook %s missing", name);
    return a ? a->data : NULL;
}

/* (A): y [R, N] against x [R, K] @ W [K, N] + b, exact in double; returns max |Δ| / tol. */
static double check_gemm(const char *what, const float *x, const float *W, const float *b, const float *y, int R, int K, int N) {
    if (!x || !W || !y) return 0;
    double worst = 0;
    const double rel = 2 * U + U * U + K * 0x1p-24;
    for (int r = 0; r < R; r++)
        for (int n = 0; n < N; n++) {
            double s = b ? b[n] : 0, a = 0;
            for (int k = 0; k < K; k++) {
                double p = (double)x[(size_t)r * K + k] * W[(size_t)k * N + n];
                s += p;
                a += fabs(p);
            }
            double tol = rel * a + 0x1p-23 * fabs(s) + 1e-30;
            double q = fabs(y[(size_t)r * N + n] - s) / tol;
            if (q > worst) worst = q;
        }
    CHECK(worst <= 1, "%s: bf16 deviation %.3g x the derived bound", what, worst);
    return worst;
}

static float *weight(hs_model *m, const char *name) {
    hs_array a;
    hs_status s = hs_model_weight(m, name, &a);
    CHECK(s == HS_OK, "weight %s: %s", name, hs_last_error());
    return s ? NULL : a.data;
}

static int32_t *golden_tokens(const char *golden, int *B, int *T) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/tokens.npy", golden_root, golden);
    hs_array tok = {0};
    CHECK_OK(hs_npy_read(path, &tok));
    if (!tok.data) return NULL;
    *B = (int)tok.shape[0];
    *T = (int)tok.shape[1];
    int32_t *ids = malloc(sizeof *ids * (size_t)*B * *T);
    for (int i = 0; i < *B * *T; i++) ids[i] = (int32_t)((int64_t *)tok.data)[i];
    hs_array_free(&tok);
    return ids;
}

/* (A) for every weight GEMM of the fixture's pass. */
static void per_gemm(const char *fixture) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", fixture_root, fixture);
    hs_model_params mp = hs_model_default_params();
    mp.center_unembed = false;
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    int B = 0, T = 0;
    int32_t *ids = golden_tokens(fixture, &B, &T);
    if (!m || !ids) { hs_model_free(m); free(ids); return; }
    const hs_model_config *c = hs_model_get_config(m);
    const int M = c->d_model, H = c->n_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab, R = B * T;
    const char *all[] = {"*"};
    hs_cache *cache = NULL;
    hs_forward *f = NULL;
    CHECK_OK(hs_cache_create(all, 1, &cache));
    CHECK_OK(hs_forward_create(m, B, T, &f));
    float *lg = malloc(sizeof(float) * (size_t)R * V), *lg32 = malloc(sizeof(float) * (size_t)R * V);
    hs_forward_params fp = hs_forward_default_params();
    fp.logits = lg32;
    CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
    fp.hook = hs_cache_hook;
    fp.hook_user = cache;
    fp.logits = lg;
    fp.compute = HS_COMPUTE_BF16;
    CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
    /* bf16 really ran: the logits differ from float32's somewhere */
    double d = 0;
    for (size_t i = 0; i < (size_t)R * V; i++) d = fmax(d, fabs(lg[i] - lg32[i]));
    CHECK(d > 0, "%s: bf16 logits equal float32's: the bf16 GEMMs did not run", fixture);
    double worst = 0;
    char name[128], wname[128], what[256];
    for (int l = 0; l < c->n_layers; l++) {
        /* q: ln1.hook_normalized @ W_Q [H, M, D] (as [M, H·D] after a transpose) + b_Q */
        snprintf(wname, sizeof wname, "blocks.%d.attn.W_Q", l);
        const float *WQ = weight(m, wname);
        snprintf(wname, sizeof wname, "blocks.%d.attn.b_Q", l);
        const float *bQ = weight(m, wname);
        float *Wq = malloc(sizeof(float) * (size_t)M * H * D);
        for (int h = 0; WQ && h < H; h++)
            for (int mm = 0; mm < M; mm++)
                for (int e = 0; e < D; e++) Wq[(size_t)mm * H * D + h * D + e] = WQ[((size_t)h * M + mm) * D + e];
        snprintf(name, sizeof name, "blocks.%d.ln1.hook_normalized", l);
        const float *x = hook(cache, name);
        snprintf(name, sizeof name, "blocks.%d.attn.hook_q", l);
        snprintf(what, sizeof what, "%s layer %d q", fixture, l);
        worst = fmax(worst, check_gemm(what, x, WQ ? Wq : NULL, bQ, hook(cache, name), R, M, H * D));
        free(Wq);
        /* attn_out: hook_z [.., H·D] @ W_O [H·D, M] + b_O */
        snprintf(wname, sizeof wname, "blocks.%d.attn.W_O", l);
        const float *WO = weight(m, wname);
        snprintf(wname, sizeof wname, "blocks.%d.attn.b_O", l);
        const float *bO = weight(m, wname);
        snprintf(name, sizeof name, "blocks.%d.attn.hook_z", l);
        x = hook(cache, name);
        snprintf(name, sizeof name, "blocks.%d.hook_attn_out", l);
        snprintf(what, sizeof what, "%s layer %d attn_out", fixture, l);
        worst = fmax(worst, check_gemm(what, x, WO, bO, hook(cache, name), R, H * D, M));
        /* mlp_out: mlp.hook_post @ W_out [F, M] + b_out */
        snprintf(wname, sizeof wname, "blocks.%d.mlp.W_out", l);
        const float *Wout = weight(m, wname);
        snprintf(wname, sizeof wname, "blocks.%d.mlp.b_out", l);
        const float *bout = weight(m, wname);
        snprintf(name, sizeof name, "blocks.%d.mlp.hook_post", l);
        x = hook(cache, name);
        snprintf(name, sizeof name, "blocks.%d.hook_mlp_out", l);
        snprintf(what, sizeof what, "%s layer %d mlp_out", fixture, l);
        worst = fmax(worst, check_gemm(what, x, Wout, bout, hook(cache, name), R, F, M));
    }
    /* logits: ln_final.hook_normalized @ W_U + b_U */
    snprintf(what, sizeof what, "%s logits", fixture);
    worst = fmax(worst, check_gemm(what, hook(cache, "ln_final.hook_normalized"), weight(m, "W_U"), weight(m, "b_U"), lg, R, M, V));
    if (getenv("HS_TEST_VERBOSE")) printf("  %-18s (A) worst GEMM deviation %.3f of its bound\n", fixture, worst);
    free(lg);
    free(lg32);
    free(ids);
    hs_cache_free(cache);
    hs_forward_free(f);
    hs_model_free(m);
}

static hs_status load_golden(const char *golden, const char *file, hs_array *a) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s", golden_root, golden, file);
    return hs_npy_read(path, a);
}

/* (B) bf16 logits and loss against TransformerLens's golden ones. */
static void end_to_end(const char *fixture) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", fixture_root, fixture);
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    int B = 0, T = 0;
    int32_t *ids = golden_tokens(fixture, &B, &T);
    hs_array gl = {0}, gs = {0};
    CHECK_OK(load_golden(fixture, "logits.npy", &gl));
    CHECK_OK(load_golden(fixture, "loss.npy", &gs));
    if (!m || !ids || !gl.data || !gs.data) { hs_model_free(m); free(ids); hs_array_free(&gl); hs_array_free(&gs); return; }
    const hs_model_config *c = hs_model_get_config(m);
    const int M = c->d_model, V = c->d_vocab, R = B * T;
    const char *lnf[] = {"ln_final.hook_normalized"};
    hs_cache *cache = NULL;
    hs_forward *f = NULL;
    CHECK_OK(hs_cache_create(lnf, 1, &cache));
    CHECK_OK(hs_forward_create(m, B, T, &f));
    float *lg = malloc(sizeof(float) * (size_t)R * V), *loss = malloc(sizeof(float) * (size_t)B * (T - 1));
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = hs_cache_hook;
    fp.hook_user = cache;
    fp.logits = lg;
    fp.loss = loss;
    fp.compute = HS_COMPUTE_BF16;
    CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
    const float *x = hook(cache, "ln_final.hook_normalized"), *WU = weight(m, "W_U");
    double S = 0;   /* max over (t, v) of Σ_m |x_tm||W_U[m, v]| */
    for (int r = 0; x && WU && r < R; r++)
        for (int v = 0; v < V; v++) {
            double a = 0;
            for (int k = 0; k < M; k++) a += fabs((double)x[(size_t)r * M + k] * WU[(size_t)k * V + v]);
            S = fmax(S, a);
        }
    const int G = 4 * c->n_layers + 1;
    const double tol = 4.0 * G * 2 * U * S;
    const float *ref = gl.data, *refl = gs.data;
    double dmax = 0;
    int bad_loss = 0;
    for (int r = 0; r < R; r++) {
        double dr = 0;
        for (int v = 0; v < V; v++) dr = fmax(dr, fabs((double)lg[(size_t)r * V + v] - ref[(size_t)r * V + v]));
        dmax = fmax(dmax, dr);
        int b = r / T, t = r % T;
        /* the golden loss's own float32 error: a few ulps of the loss and of the logits' scale */
        if (t + 1 < T && fabs((double)loss[b * (T - 1) + t] - refl[b * (T - 1) + t]) > 2 * dr + 1e-5) bad_loss++;
    }
    CHECK(dmax <= tol, "%s: max |bf16 logit - TL| %.3g > tol %.3g (S %.3g, G %d)", fixture, dmax, tol, S, G);
    CHECK(bad_loss == 0, "%s: %d losses moved by more than 2 max|dlogit| of their position", fixture, bad_loss);
    if (getenv("HS_TEST_VERBOSE"))
        printf("  %-18s (B) max |dlogit| %.3g, tol %.3g (%.2f of it)\n", fixture, dmax, tol, dmax / tol);
    free(lg);
    free(loss);
    free(ids);
    hs_array_free(&gl);
    hs_array_free(&gs);
    hs_cache_free(cache);
    hs_forward_free(f);
    hs_model_free(m);
}

/* hs_compute_compare: the deviation summary matches a direct comparison's figures. */
static void compare_api(void) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/neox-tiny-f32", fixture_root);
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    int B = 0, T = 0;
    int32_t *ids = golden_tokens("neox-tiny-f32", &B, &T);
    if (!m || !ids) { hs_model_free(m); free(ids); return; }
    hs_compute_deviation d;
    CHECK_OK(hs_compute_compare(m, ids, B, T, HS_COMPUTE_BF16, &d));
    CHECK(d.sequences == B && d.tokens == T, "compare: %d x %d compared", d.sequences, d.tokens);
    CHECK(d.max_abs_logit > 0 && d.max_abs_logit < 0.05 * d.max_logit, "compare: max |dlogit| %.3g of max |logit| %.3g",
          d.max_abs_logit, d.max_logit);
    CHECK(d.rel_logit > 0 && d.rel_logit < 16 * U, "compare: relative logit error %.3g", d.rel_logit);
    CHECK(d.max_abs_loss <= 2 * d.max_abs_logit && d.mean_abs_loss <= d.max_abs_loss, "compare: loss deviations %.3g / %.3g",
          d.max_abs_loss, d.mean_abs_loss);
    CHECK(strstr(d.impl, "bf16") || strstr(d.impl, "amx"), "compare: oneDNN ran '%s', not a native bf16 kernel", d.impl);
    CHECK_OK(hs_compute_compare(m, ids, 1, T, HS_COMPUTE_F32, &d));
    CHECK(d.max_abs_logit == 0 && d.max_abs_loss == 0, "compare: float32 against itself differs (%.3g)", d.max_abs_logit);
    CHECK(hs_compute_compare(m, ids, 0, T, HS_COMPUTE_BF16, &d) == HS_ERR_INVALID_ARG, "compare: 0 sequences refused");
    free(ids);
    hs_model_free(m);
}

/* Unknown modes are refused; on a CPU without AVX512_BF16/AMX bf16 is refused, saying why. */
static bool errors_and_support(void) {
    hs_compute cm = HS_COMPUTE_F32;
    CHECK(hs_compute_parse("bf16", &cm) == HS_OK && cm == HS_COMPUTE_BF16, "parse bf16");
    CHECK(hs_compute_parse("f32", &cm) == HS_OK && cm == HS_COMPUTE_F32, "parse f32");
    const char *bad[] = {"fp16", "BF16", "", "bf16 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(hs_compute_parse(bad[i], &cm) == HS_ERR_INVALID_ARG && strstr(hs_last_error(), "expected f32 or bf16"),
              "parse '%s' refused", bad[i]);
    CHECK(hs_compute_parse(NULL, &cm) == HS_ERR_INVALID_ARG, "parse NULL refused");
    CHECK(!strcmp(hs_compute_name(HS_COMPUTE_BF16), "bf16") && !strcmp(hs_compute_name(HS_COMPUTE_F32), "f32"), "names");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/neox-tiny-f32", fixture_root);
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    hs_forward *f = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    if (m) CHECK_OK(hs_forward_create(m, 1, 4, &f));
    if (!f) { hs_model_free(m); return false; }
    int32_t tok[4] = {1, 2, 3, 4};
    hs_forward_params fp = hs_forward_default_params();
    CHECK(fp.compute == HS_COMPUTE_F32, "float32 is the default");
    fp.compute = (hs_compute)7;
    CHECK(hs_forward_run(f, tok, 1, 4, &fp) == HS_ERR_INVALID_ARG && strstr(hs_forward_error(f), "compute 7"),
          "an unknown compute mode is refused: %s", hs_forward_error(f));
    fp.compute = HS_COMPUTE_BF16;
    hs_status s = hs_forward_run(f, tok, 1, 4, &fp);
    bool supported = s == HS_OK;
    CHECK(hs_compute_check(HS_COMPUTE_BF16) == s, "hs_compute_check agrees with the forward (%s)", hs_status_str(s));
    CHECK(hs_compute_check(HS_COMPUTE_F32) == HS_OK && hs_compute_check((hs_compute)7) == HS_ERR_INVALID_ARG, "hs_compute_check");
    if (!supported)
        CHECK(s == HS_ERR_UNSUPPORTED && strstr(hs_forward_error(f), "AVX512_BF16 or AMX") && strstr(hs_forward_error(f), "--compute f32"),
              "bf16 on this CPU: %s: %s", hs_status_str(s), hs_forward_error(f));
    fp.compute = HS_COMPUTE_F32;
    CHECK_OK(hs_forward_run(f, tok, 1, 4, &fp));   /* float32 still runs after either */
    hs_forward_free(f);
    hs_model_free(m);
    return supported;
}

int main(int argc, char **argv) {
    const char *g = getenv("HS_GOLDEN_ROOT"), *fx = getenv("HS_FIXTURE_ROOT");
    snprintf(golden_root, sizeof golden_root, "%s", g ? g : HS_SOURCE_DIR "/tests/golden");
    snprintf(fixture_root, sizeof fixture_root, "%s", fx ? fx : HS_SOURCE_DIR "/tests/fixtures");
    bool supported = errors_and_support();
    /* test_compute_bf16_unsupported: run with ONEDNN_MAX_CPU_ISA=AVX512_CORE, bf16 must be refused */
    if (argc > 1 && !strcmp(argv[1], "--expect-unsupported")) {
        CHECK(!supported, "bf16 accepted below AVX512_BF16");
        return test_report("test_compute_bf16 (unsupported)");
    }
    if (!supported) {
        printf("test_compute_bf16: this CPU has no AVX512_BF16/AMX: error path checked, numeric checks skipped\n");
        return test_failures ? 1 : 77;
    }
    static const char *const fixtures[] = {"neox-tiny-f32", "gpt2-tiny-f32", "llama-tiny-f32", "llama-tiny-bf16", "qwen2-tiny-f32"};
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        per_gemm(fixtures[i]);
        end_to_end(fixtures[i]);
    }
    compare_api();
    return test_report("test_compute_bf16");
}
