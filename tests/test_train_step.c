/* test_train_step.c — one and two full training steps of the C trainer against the
 * torch reference (tests/reference/train_ref.py → tests/golden/train/).
 *
 * Tolerances come from the reference's own float32-vs-float64 errors (meta.json
 * "f32_err"): torch in float32 differs from the float64 truth by at most e32 per
 * tensor; the C trainer is also float32 with a different reduction order, so we allow
 * 20 * max(e32) + 1e-7 on gradients (a real bug — a missing term, a wrong sign or
 * layout — is off by ~1e-2, the size of the gradients themselves).
 * AdamW is checked on the reference's own gradients (so Adam's sign-like first step
 * cannot amplify gradient rounding): params agree to float32 rounding, 1e-6 (1 + |p|).
 * The end-to-end step (C gradients → C clip → C AdamW) is compared where the float64
 * gradient is not ~0 (|g| > 1e-4): for gradients that vanish mathematically (e.g. the
 * key bias outside the rotary dims, softmax-invariant), Adam's first update is
 * lr * g / (|g| + eps) and float32 noise in g decides its sign in torch too.
 */
#include "test.h"
#include "train/train_internal.h"
#include <cjson/cJSON.h>

#define GOLD HS_SOURCE_DIR "/tests/golden/train/"

static double jnum(cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valuedouble; }

/* copy a flat array in reference order (no padding) into / out of the C layout */
static void to_layout(const tr_model *m, const double *src, float *dst) {
    size_t k = 0;
    for (int i = 0; i < m->n_tensors; i++)
        for (size_t j = 0; j < m->t[i].n; j++) dst[m->t[i].off + j] = (float)src[k++];
}

int main(void) {
    hs_set_num_threads(2);
    char *js;
    CHECK_OK(hs_read_file(GOLD "meta.json", 0, &js, NULL));
    cJSON *meta = cJSON_Parse(js);
    free(js);
    CHECK(meta != NULL, "meta.json parses");
    if (!meta) return test_report("test_train_step");
    tr_config c = { .L = (int)jnum(meta, "L"), .M = (int)jnum(meta, "M"), .H = (int)jnum(meta, "H"),
                    .F = (int)jnum(meta, "d_mlp"), .V = (int)jnum(meta, "V"), .T = (int)jnum(meta, "T"),
                    .rot_base = jnum(meta, "rotary_base"), .eps = jnum(meta, "eps") };
    c.D = c.M / c.H;
    c.R = (int)lround(jnum(meta, "rotary_pct") * c.D);
    int B = (int)jnum(meta, "B");
    tr_model m;
    CHECK_OK(tr_model_init(&m, &c));
    /* the reference's tensor names and order are the C layout's */
    cJSON *tl = cJSON_GetObjectItem(meta, "tensors");
    CHECK(cJSON_GetArraySize(tl) == m.n_tensors, "tensor count %d vs %d", cJSON_GetArraySize(tl), m.n_tensors);
    for (int i = 0; i < m.n_tensors && i < cJSON_GetArraySize(tl); i++) {
        cJSON *t = cJSON_GetArrayItem(tl, i);
        CHECK(!strcmp(cJSON_GetObjectItem(t, "name")->valuestring, m.t[i].name), "tensor %d name %s", i, m.t[i].name);
        CHECK((cJSON_IsTrue(cJSON_GetObjectItem(t, "decay")) ? 1 : 0) == m.t[i].decay, "decay flag of %s", m.t[i].name);
    }
    hs_array p0, tok, g1, g2, p1, p2;
    CHECK_OK(hs_npy_read(GOLD "params0.npy", &p0));
    CHECK_OK(hs_npy_read(GOLD "tokens.npy", &tok));
    CHECK_OK(hs_npy_read(GOLD "grads1.npy", &g1));
    CHECK_OK(hs_npy_read(GOLD "grads2.npy", &g2));
    CHECK_OK(hs_npy_read(GOLD "params1.npy", &p1));
    CHECK_OK(hs_npy_read(GOLD "params2.npy", &p2));
    size_t total = 0;
    for (int i = 0; i < m.n_tensors; i++) total += m.t[i].n;
    CHECK((size_t)hs_array_numel(&p0) == total && (size_t)hs_array_numel(&g1) == total, "golden sizes");
    const int T = c.T;
    int32_t *in = malloc(sizeof(int32_t) * B * T), *tg = malloc(sizeof(int32_t) * B * T);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            in[b * T + t] = ((int32_t *)tok.data)[b * (T + 1) + t];
            tg[b * T + t] = ((int32_t *)tok.data)[b * (T + 1) + t + 1];
        }
    double *tmp = malloc(total * sizeof(double));
    for (size_t i = 0; i < total; i++) tmp[i] = ((float *)p0.data)[i];
    to_layout(&m, tmp, m.p);
    float *p_init = malloc(m.n_params * sizeof(float));
    memcpy(p_init, m.p, m.n_params * sizeof(float));

    double e32 = 0;
    cJSON *eg = cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "f32_err"), "grads1");
    for (int i = 0; i < cJSON_GetArraySize(eg); i++) e32 = fmax(e32, cJSON_GetArrayItem(eg, i)->valuedouble);
    const double gtol = 20 * e32 + 1e-7;

    tr_acts a;
    CHECK_OK(tr_acts_alloc(&a, &c, B, T));
    float *G = calloc(m.n_params, sizeof(float)), *Gref = calloc(m.n_params, sizeof(float));
    double loss = tr_forward(&m, &a, in, tg);
    tr_backward(&m, &a, in, G);
    CHECK(fabs(loss - jnum(meta, "loss1")) < 20 * jnum(meta, "loss1_f32_err") + 1e-6, "loss %.8f vs %.8f", loss, jnum(meta, "loss1"));
    to_layout(&m, g1.data, Gref);
    for (int i = 0; i < m.n_tensors; i++) {
        double worst = 0;
        for (size_t j = 0; j < m.t[i].n; j++) worst = fmax(worst, fabs(G[m.t[i].off + j] - Gref[m.t[i].off + j]));
        CHECK(worst <= gtol, "grad %s differs by %.3g (tolerance %.3g)", m.t[i].name, worst, gtol);
    }
    double norm = tr_clip_grads(G, m.n_params, jnum(meta, "max_norm"));
    CHECK(fabs(norm - jnum(meta, "norm1")) < 1e-5 * jnum(meta, "norm1"), "grad norm %.7f vs %.7f", norm, jnum(meta, "norm1"));

    /* AdamW on the reference gradients: steps 1 and 2 */
    tr_adamw opt = { .lr = jnum(meta, "lr"), .beta1 = jnum(meta, "beta1"), .beta2 = jnum(meta, "beta2"),
                     .eps = jnum(meta, "adam_eps"), .wd = jnum(meta, "weight_decay") };
    opt.m = calloc(m.n_params, sizeof(float));
    opt.v = calloc(m.n_params, sizeof(float));
    const hs_array *gs[2] = { &g1, &g2 }, *ps[2] = { &p1, &p2 };
    float *want = calloc(m.n_params, sizeof(float));
    for (int step = 0; step < 2; step++) {
        to_layout(&m, gs[step]->data, Gref);
        tr_clip_grads(Gref, m.n_params, jnum(meta, "max_norm"));
        tr_adamw_step(&m, &opt, m.p, Gref);
        to_layout(&m, ps[step]->data, want);
        int bad = 0;
        double worst = 0;
        for (size_t j = 0; j < m.n_params; j++) {
            double d = fabs(m.p[j] - want[j]);
            if (d > 1e-6 * (1 + fabs(want[j]))) bad++;
            worst = fmax(worst, d);
        }
        CHECK(bad == 0, "AdamW step %d on reference gradients: %d params differ (worst %.3g)", step + 1, bad, worst);
    }

    /* end to end: C gradients, C clip, C AdamW, from params0 */
    memcpy(m.p, p_init, m.n_params * sizeof(float));
    memset(opt.m, 0, m.n_params * sizeof(float));
    memset(opt.v, 0, m.n_params * sizeof(float));
    opt.t = 0;
    tr_forward(&m, &a, in, tg);
    tr_backward(&m, &a, in, G);
    tr_clip_grads(G, m.n_params, jnum(meta, "max_norm"));
    tr_adamw_step(&m, &opt, m.p, G);
    to_layout(&m, g1.data, Gref);
    to_layout(&m, p1.data, want);
    int bad = 0, counted = 0;
    for (size_t j = 0; j < m.n_params; j++) {
        if (fabs(Gref[j]) <= 1e-4) continue;
        counted++;
        if (fabs(m.p[j] - want[j]) > 1e-5 * (1 + fabs(want[j]))) bad++;
    }
    CHECK(counted > (int)(total / 2), "most parameters have non-vanishing gradients (%d)", counted);
    CHECK(bad == 0, "end-to-end step: %d of %d params differ from the reference", bad, counted);
    /* the step changed the loss the way the reference did */
    double loss2 = tr_forward(&m, &a, in, tg);
    CHECK(fabs(loss2 - jnum(meta, "loss2")) < 1e-3, "loss after one step %.6f vs %.6f", loss2, jnum(meta, "loss2"));

    hs_array *arrs[] = { &p0, &tok, &g1, &g2, &p1, &p2 };
    for (int i = 0; i < 6; i++) hs_array_free(arrs[i]);
    free(in); free(tg); free(tmp); free(p_init); free(G); free(Gref); free(want); free(opt.m); free(opt.v);
    tr_acts_free(&a);
    tr_model_free(&m);
    cJSON_Delete(meta);
    return test_report("test_train_step");
}
