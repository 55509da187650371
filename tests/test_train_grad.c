/* test_train_grad.c — every backward kernel of the trainer against central finite
 * differences, then the whole model (per-tensor directional derivatives).
 *
 * Tolerances (float32 kernels, loss L = sum(out * r) accumulated in double): a central
 * difference with step h has truncation error h^2/6 |L'''| and rounding error about
 * u * S / h, where u = 2^-24 and S = sum |out * r| (each output is rounded once, the
 * errors add up to ~u*S in the worst case). With h = 1e-2 and S <= ~50 on these shapes
 * that is <= 1e-4 * |L'''| + 3e-4; we allow 2e-3 + 1e-2 |g|. A wrong formula (a missing
 * term, a sign, a transposed index) gives errors of order |g| and fails.
 */
#include "test.h"
#include "train/train_internal.h"

static tr_rng rng = { 12345 };
static void fill(float *x, size_t n, double s) { for (size_t i = 0; i < n; i++) x[i] = (float)(s * tr_rng_normal(&rng)); }
static double dot(const float *a, const float *b, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i]; return s; }
static double sabs(const float *a, const float *b, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += fabs((double)a[i] * b[i]); return s; }

#define H_FD 1e-2
static int close_enough(double g, double fd) { return fabs(g - fd) <= 2e-3 + 1e-2 * fabs(g); }

/* check d(loss)/d(x[i]) == g[i] for every i, with loss() re-evaluated from x */
#define FD_CHECK(label, x, n, g, loss_expr) do { \
    int bad_ = 0; double worst_ = 0; \
    for (size_t i_ = 0; i_ < (size_t)(n); i_++) { \
        float keep_ = (x)[i_]; \
        (x)[i_] = keep_ + (float)H_FD; double lp_ = (loss_expr); \
        (x)[i_] = keep_ - (float)H_FD; double lm_ = (loss_expr); \
        (x)[i_] = keep_; \
        double fd_ = (lp_ - lm_) / (2 * H_FD); \
        if (!close_enough((g)[i_], fd_)) bad_++; \
        if (fabs((g)[i_] - fd_) > worst_) worst_ = fabs((g)[i_] - fd_); \
    } \
    CHECK(bad_ == 0, "%s: %d of %zu gradients differ from finite differences (worst %.3g)", label, bad_, (size_t)(n), worst_); \
} while (0)

/* ---- LayerNorm ---- */
enum { LN_N = 3, LN_M = 7 };
static float ln_x[LN_N * LN_M], ln_w[LN_M], ln_b[LN_M], ln_r[LN_N * LN_M];
static double ln_loss(void) {
    float y[LN_N * LN_M], xh[LN_N * LN_M], rs[LN_N];
    tr_layernorm_fwd(ln_x, ln_w, ln_b, y, xh, rs, LN_N, LN_M, 1e-5f);
    return dot(y, ln_r, LN_N * LN_M);
}
static void test_layernorm(void) {
    fill(ln_x, LN_N * LN_M, 1.5); fill(ln_w, LN_M, 1.0); fill(ln_b, LN_M, 1.0); fill(ln_r, LN_N * LN_M, 1.0);
    for (int i = 0; i < LN_M; i++) ln_x[i] += 3.0f;   /* non-zero mean rows */
    float y[LN_N * LN_M], xh[LN_N * LN_M], rs[LN_N], dx[LN_N * LN_M] = {0}, dw[LN_M] = {0}, db[LN_M] = {0};
    tr_layernorm_fwd(ln_x, ln_w, ln_b, y, xh, rs, LN_N, LN_M, 1e-5f);
    tr_layernorm_bwd(ln_r, xh, rs, ln_w, dx, dw, db, LN_N, LN_M);
    CHECK(sabs(y, ln_r, LN_N * LN_M) < 50, "layernorm: test loss scale too large for the tolerance");
    FD_CHECK("layernorm dx", ln_x, LN_N * LN_M, dx, ln_loss());
    FD_CHECK("layernorm dw", ln_w, LN_M, dw, ln_loss());
    FD_CHECK("layernorm db", ln_b, LN_M, db, ln_loss());
}

/* ---- Linear (matmul + bias) ---- */
enum { LI_N = 3, LI_K = 5, LI_O = 4 };
static float li_x[LI_N * LI_K], li_W[LI_O * LI_K], li_b[LI_O], li_r[LI_N * LI_O];
static double li_loss(void) { float y[LI_N * LI_O]; tr_linear_fwd(li_x, li_W, li_b, y, LI_N, LI_K, LI_O); return dot(y, li_r, LI_N * LI_O); }
static void test_linear(void) {
    fill(li_x, LI_N * LI_K, 1); fill(li_W, LI_O * LI_K, 1); fill(li_b, LI_O, 1); fill(li_r, LI_N * LI_O, 1);
    float dx[LI_N * LI_K], dW[LI_O * LI_K] = {0}, db[LI_O] = {0};
    for (int i = 0; i < LI_N * LI_K; i++) dx[i] = 100.0f;     /* beta = 0 must overwrite */
    tr_linear_bwd(li_r, li_x, li_W, dx, 0.0f, dW, db, LI_N, LI_K, LI_O);
    FD_CHECK("linear dx", li_x, LI_N * LI_K, dx, li_loss());
    FD_CHECK("linear dW", li_W, LI_O * LI_K, dW, li_loss());
    FD_CHECK("linear db", li_b, LI_O, db, li_loss());
}

/* ---- GELU ---- */
enum { GE_N = 40 };
static float ge_x[GE_N], ge_r[GE_N];
static double ge_loss(void) { float y[GE_N]; tr_gelu_fwd(ge_x, y, GE_N); return dot(y, ge_r, GE_N); }
static void test_gelu(void) {
    fill(ge_r, GE_N, 1);
    for (int i = 0; i < GE_N; i++) ge_x[i] = -4.0f + 8.0f * i / (GE_N - 1) + 0.01f;
    float dx[GE_N];
    tr_gelu_bwd(ge_x, ge_r, dx, GE_N);
    FD_CHECK("gelu", ge_x, GE_N, dx, ge_loss());
    /* exact-erf GELU, not the tanh form: gelu(1) = 0.8413447 (tanh form gives 0.8411920) */
    float one = 1.0f, g1;
    tr_gelu_fwd(&one, &g1, 1);
    CHECK(fabsf(g1 - 0.8413447f) < 2e-7f, "gelu(1) = %.7f", g1);
}

/* ---- Attention with partial rotary, causal softmax ---- */
enum { AT_B = 2, AT_T = 5, AT_H = 2, AT_D = 6, AT_M = AT_H * AT_D };
static tr_config at_c = { .L = 1, .M = AT_M, .H = AT_H, .D = AT_D, .F = 1, .V = 1, .T = AT_T, .R = 4 };
static float at_qkv[AT_B * AT_T * 3 * AT_M], at_r[AT_B * AT_T * AT_M], at_cos[AT_T * 2], at_sin[AT_T * 2];
static float at_q[AT_B * AT_H * AT_T * AT_D], at_k[sizeof at_q / 4], at_v[sizeof at_q / 4], at_p[AT_B * AT_H * AT_T * AT_T];
static double at_loss(void) {
    float ctx[AT_B * AT_T * AT_M];
    tr_attention_fwd(&at_c, AT_B, AT_T, at_qkv, at_cos, at_sin, at_q, at_k, at_v, at_p, ctx);
    return dot(ctx, at_r, AT_B * AT_T * AT_M);
}
static void test_attention(void) {
    fill(at_qkv, sizeof at_qkv / 4, 1); fill(at_r, sizeof at_r / 4, 1);
    tr_rotary_tables(AT_T, 4, 10.0, at_cos, at_sin);     /* base 10: large angles at T = 5 */
    float ctx[AT_B * AT_T * AT_M], dqkv[sizeof at_qkv / 4];
    tr_attention_fwd(&at_c, AT_B, AT_T, at_qkv, at_cos, at_sin, at_q, at_k, at_v, at_p, ctx);
    /* the pattern is causal and rows sum to 1 */
    double worst = 0;
    for (int bh = 0; bh < AT_B * AT_H; bh++)
        for (int i = 0; i < AT_T; i++) {
            double s = 0;
            for (int j = 0; j < AT_T; j++) { s += at_p[(bh * AT_T + i) * AT_T + j]; if (j > i) worst += fabs(at_p[(bh * AT_T + i) * AT_T + j]); }
            worst += fabs(s - 1);
        }
    CHECK(worst < 1e-5, "attention pattern not causal/normalised (%g)", worst);
    /* rotate-half: position 0 is not rotated, so q at t=0 equals the input */
    CHECK(fabsf(at_q[0] - at_qkv[0]) < 1e-7f && fabsf(at_q[2] - at_qkv[2]) < 1e-7f, "rotary at position 0 is not identity");
    /* position 1, pair (0, 2) rotated by angle 1 rad (inv_freq[0] = 1): q0' = q0 cos1 - q2 sin1 */
    {
        const float *src = at_qkv + 3 * AT_M;     /* b = 0, t = 1, head 0 */
        float want0 = src[0] * cosf(1.0f) - src[2] * sinf(1.0f), want2 = src[2] * cosf(1.0f) + src[0] * sinf(1.0f);
        CHECK(fabsf(at_q[AT_D] - want0) < 1e-5f && fabsf(at_q[AT_D + 2] - want2) < 1e-5f, "rotate-half convention");
        CHECK(at_q[AT_D + 4] == src[4] && at_q[AT_D + 5] == src[5], "dims past rotary_dim must pass through");
    }
    size_t need = tr_attention_scratch(AT_T, AT_D);
    float *sc = calloc(need * 64, sizeof(float));      /* enough for up to 64 threads */
    tr_attention_bwd(&at_c, AT_B, AT_T, at_r, at_q, at_k, at_v, at_p, at_cos, at_sin, dqkv, sc);
    free(sc);
    FD_CHECK("attention dqkv", at_qkv, sizeof at_qkv / 4, dqkv, at_loss());
}

/* ---- cross-entropy (mean over counted rows; target -1 ignored) ---- */
enum { CE_N = 4, CE_V = 6 };
static float ce_x[CE_N * CE_V];
static const int32_t ce_t[CE_N] = { 2, 0, -1, 5 };
static double ce_loss(void) { float l[CE_N * CE_V], rl[CE_N]; memcpy(l, ce_x, sizeof l); return tr_xent_fwd_bwd(l, ce_t, rl, CE_N, CE_V); }
static void test_xent(void) {
    fill(ce_x, CE_N * CE_V, 2);
    float g[CE_N * CE_V], rl[CE_N];
    memcpy(g, ce_x, sizeof g);
    double loss = tr_xent_fwd_bwd(g, ce_t, rl, CE_N, CE_V);
    /* direct value: mean over rows 0, 1, 3 of logsumexp - logit[target] */
    double want = 0;
    for (int n = 0; n < CE_N; n++) {
        if (ce_t[n] < 0) continue;
        double s = 0;
        for (int j = 0; j < CE_V; j++) s += exp(ce_x[n * CE_V + j]);
        want += log(s) - ce_x[n * CE_V + ce_t[n]];
    }
    CHECK(fabs(loss - want / 3) < 1e-5, "cross-entropy %.7f vs %.7f", loss, want / 3);
    FD_CHECK("cross-entropy dlogits", ce_x, CE_N * CE_V, g, ce_loss());
}

/* ---- embedding ---- */
static void test_embed(void) {
    enum { N = 5, M = 3, V = 4 };
    float E[V * M], h[N * M], r[N * M], dE[V * M] = {0};
    const int32_t tok[N] = { 1, 3, 1, 0, 1 };
    fill(E, V * M, 1); fill(r, N * M, 1);
    tr_embed_fwd(E, tok, h, N, M);
    tr_embed_bwd(r, tok, dE, N, M);
#define EMB_LOSS() (tr_embed_fwd(E, tok, h, N, M), dot(h, r, N * M))
    FD_CHECK("embedding dE", E, V * M, dE, EMB_LOSS());
    CHECK(dE[2 * M] == 0.0f, "unused row must get no gradient");
}

/* ---- the whole model: per-tensor directional derivatives ---- */
static void test_model(void) {
    tr_config c = { .L = 2, .M = 8, .H = 2, .D = 4, .F = 16, .V = 11, .T = 6, .R = 2, .rot_base = 10.0, .eps = 1e-5 };
    tr_model m;
    CHECK_OK(tr_model_init(&m, &c));
    tr_model_randomize(&m, 7, 0.4, 0.0);
    /* give LayerNorms and biases non-trivial values too */
    for (int i = 0; i < m.n_tensors; i++)
        if (m.t[i].ndim == 1) for (size_t j = 0; j < m.t[i].n; j++) m.p[m.t[i].off + j] += (float)(0.3 * tr_rng_normal(&rng));
    enum { B = 2, T = 6 };
    int32_t tok[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++) { tok[i] = (int32_t)(tr_rng_next(&rng) % c.V); tgt[i] = (int32_t)(tr_rng_next(&rng) % c.V); }
    tr_acts a;
    CHECK_OK(tr_acts_alloc(&a, &c, B, T));
    float *g = calloc(m.n_params, sizeof(float)), *dir = calloc(m.n_params, sizeof(float));
    double loss0 = tr_forward(&m, &a, tok, tgt);
    tr_backward(&m, &a, tok, g);
    CHECK(loss0 > 0 && isfinite(loss0), "loss %g", loss0);
    const double h = 1e-2;
    for (int i = 0; i < m.n_tensors; i++) {
        const tr_tensor *t = &m.t[i];
        /* unit random direction inside this tensor only */
        double nn = 0;
        for (size_t j = 0; j < t->n; j++) { dir[t->off + j] = (float)tr_rng_normal(&rng); nn += (double)dir[t->off + j] * dir[t->off + j]; }
        for (size_t j = 0; j < t->n; j++) dir[t->off + j] /= (float)sqrt(nn);
        double gd = dot(g + t->off, dir + t->off, t->n);
        float *p = m.p + t->off;
        float *keep = malloc(t->n * sizeof(float));
        memcpy(keep, p, t->n * sizeof(float));
        for (size_t j = 0; j < t->n; j++) p[j] = keep[j] + (float)(h * dir[t->off + j]);
        double lp = tr_forward(&m, &a, tok, tgt);
        for (size_t j = 0; j < t->n; j++) p[j] = keep[j] - (float)(h * dir[t->off + j]);
        double lm = tr_forward(&m, &a, tok, tgt);
        memcpy(p, keep, t->n * sizeof(float));
        free(keep);
        double fd = (lp - lm) / (2 * h);
        /* L ~ 2.5, rounding noise of the whole float32 forward ~ 1e-6 * L, / h -> ~3e-4 */
        CHECK(fabs(fd - gd) <= 1e-3 + 1e-2 * fabs(gd), "model %s: backprop %.6g vs finite difference %.6g", t->name, gd, fd);
    }
    free(g); free(dir);
    tr_acts_free(&a);
    tr_model_free(&m);
}

/* ---- init: --qkv-bias-std draws the query/key/value biases from N(0, s^2) on a
 * stream of their own (every other tensor is bit-identical to s = 0, where they are 0).
 * Each layer's 3 x 128 = 384 draws: the sample std's relative standard error is
 * 1/sqrt(2 * 384) = 3.6%, the mean's s/sqrt(384) = 5.1% of s; 5 standard errors each. */
static void test_init_bias(void) {
    tr_config c = { .L = 2, .M = 128, .H = 4, .D = 32, .F = 8, .V = 16, .T = 4, .R = 16, .rot_base = 1e4, .eps = 1e-5 };
    tr_model a, b;
    CHECK_OK(tr_model_init(&a, &c));
    CHECK_OK(tr_model_init(&b, &c));
    tr_model_randomize(&a, 3, 0.02, 0.0);
    tr_model_randomize(&b, 3, 0.02, 0.5);
    for (int i = 0; i < a.n_tensors; i++) {
        const tr_tensor *t = &a.t[i];
        const float *pa = a.p + t->off, *pb = b.p + t->off;
        if (strstr(t->name, "query_key_value.bias")) {
            double s1 = 0, s2 = 0; int zero = 1;
            for (size_t j = 0; j < t->n; j++) { s1 += pb[j]; s2 += (double)pb[j] * pb[j]; zero &= pa[j] == 0.0f; }
            double mean = s1 / (double)t->n, sd = sqrt(s2 / (double)t->n - mean * mean);
            CHECK(zero, "%s: must be 0 without --qkv-bias-std", t->name);
            CHECK(fabs(mean) <= 5 * 0.5 / sqrt((double)t->n), "%s: mean %.4f", t->name, mean);
            CHECK(fabs(sd / 0.5 - 1) <= 5 / sqrt(2.0 * (double)t->n), "%s: std %.4f (want 0.5)", t->name, sd);
        } else {
            CHECK(memcmp(pa, pb, t->n * sizeof(float)) == 0, "%s changed with the bias init", t->name);
        }
    }
    tr_model_free(&a);
    tr_model_free(&b);
}

int main(void) {
    hs_set_num_threads(2);
    test_init_bias();
    test_layernorm();
    test_linear();
    test_gelu();
    test_attention();
    test_xent();
    test_embed();
    test_model();
    return test_report("test_train_grad");
}
