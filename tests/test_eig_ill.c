/* test_eig_ill.c — ill-conditioned eigenvalue copying scores (issue 20) on
 * tests/fixtures/gpt2-nilpotent-f32, whose L0H0 OV circuit is nilpotent by design
 * (tests/reference/nilpotent_ref.py: W_O[0,0] @ W_V[0,0] = 0 and the vocab circuit = 0 in
 * exact arithmetic on the processed weights, so what is left is rounding noise).
 *
 * hs_scan_run's Σ|λ| per head (eig_resid_abs, eig_vocab_abs) and the scores of the
 * well-conditioned heads are compared with the torch goldens (tests/golden/gpt2-nilpotent-f32/
 * eigen/) within 4·max_abs_err (eigen/errors.json, float32 vs float64) + 1e-4·max|ref| + 1e-7,
 * the rule of test_scan_golden.c part B for the same quantities. The ill-conditioned head's
 * score is noise by construction, so only its flag is checked: the thresholds
 * (HS_EIG_ILL_REL × the median head's Σ|λ|) must match the golden ill_conditioned.json
 * (relative 1e-4: the median head is a well-conditioned one, its Σ|λ| within that tolerance)
 * and exactly L0H0 must be flagged, for both scores. Also hs_eig_ill_threshold's edge cases
 * (even count → lower middle value, NaN ignored, nothing finite → NaN) from its definition. */
#include "headscan/headscan.h"
#include "test.h"
#include <cjson/cJSON.h>

#define FX "gpt2-nilpotent-f32"

static hs_array load(const char *rel) {
    char p[1024];
    hs_array a = {0};
    snprintf(p, sizeof p, "%s/tests/golden/%s", HS_SOURCE_DIR, rel);
    if (hs_npy_read(p, &a) != HS_OK) { fprintf(stderr, "cannot read %s: %s\n", p, hs_last_error()); exit(1); }
    return a;
}

static cJSON *load_json(const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/golden/%s", HS_SOURCE_DIR, rel);
    FILE *f = fopen(p, "rb");
    if (!f) { fprintf(stderr, "cannot read %s\n", p); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = calloc(1, (size_t)n + 1);
    if (!t || fread(t, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", p); exit(1); }
    fclose(f);
    cJSON *j = cJSON_Parse(t);
    free(t);
    if (!j) { fprintf(stderr, "%s: bad JSON\n", p); exit(1); }
    return j;
}

static double max_abs_err(cJSON *errs, const char *k) {
    cJSON *e = cJSON_GetObjectItem(errs, k);
    cJSON *v = e ? cJSON_GetObjectItem(e, "max_abs_err") : NULL;
    CHECK(cJSON_IsNumber(v), "errors.json has %s", k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void threshold_edges(void) {
    double t;
    const float four[4] = {4, 1, NAN, 3};   /* finite 1, 3, 4 → median 3 */
    CHECK_OK(hs_eig_ill_threshold(four, 4, &t));
    CHECK(fabs(t - 3e-3) < 1e-15, "median of {4, 1, NaN, 3}: threshold %g, want 3e-3", t);
    const float even[4] = {8, 2, 6, 4};      /* lower middle of 2 4 6 8 = 4 */
    CHECK_OK(hs_eig_ill_threshold(even, 4, &t));
    CHECK(fabs(t - 4e-3) < 1e-15, "even count takes the lower middle value: %g, want 4e-3", t);
    const float none[2] = {NAN, INFINITY};
    CHECK_OK(hs_eig_ill_threshold(none, 2, &t));
    CHECK(isnan(t), "nothing finite: threshold NaN (%g)", t);
    CHECK(hs_eig_ill_threshold(NULL, 3, &t) == HS_ERR_INVALID_ARG, "NULL input rejected");
}

int main(void) {
    threshold_edges();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", HS_SOURCE_DIR, FX);
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    hs_array tok = load("gpt2-tiny-f32/tokens.npy");   /* any ids < 511 do: the scores are weight-only */
    hs_scan_params sp = hs_scan_default_params();
    sp.prompts = 0;
    sp.skip = HS_SKIP_INDUCTION | HS_SKIP_FRAC_COPY_ARGMAX;
    hs_scan_result *r = NULL;
    if (m) CHECK_OK(hs_scan_run(m, &tok, &sp, &r));
    if (!r) return test_report("test_eig_ill");
    const int G = r->L * r->H;
    cJSON *errs = load_json(FX "/eigen/errors.json"), *info = load_json(FX "/eigen/ill_conditioned.json");
    struct { const char *name; const float *score, *abs; double thr; } e[2] = {
        {"eigenvals_resid", r->eig_resid, r->eig_resid_abs, r->eig_resid_ill_below},
        {"eigenvals_vocab", r->eig_vocab, r->eig_vocab_abs, r->eig_vocab_ill_below}};
    for (int k = 0; k < 2; k++) {
        char rel[256], key[96];
        snprintf(rel, sizeof rel, FX "/eigen/%s.npy", e[k].name);
        hs_array sc = load(rel);
        snprintf(rel, sizeof rel, FX "/eigen/%s_abs_sum.npy", e[k].name);
        hs_array ab = load(rel);
        const float *rs = sc.data, *ra = ab.data;
        double amax_a = 0, amax_s = 0;
        for (int g = 0; g < G; g++) { amax_a = fmax(amax_a, fabs(ra[g])); amax_s = fmax(amax_s, fabs(rs[g])); }
        snprintf(key, sizeof key, "%s_abs_sum", e[k].name);
        const double tol_a = 4 * max_abs_err(errs, key) + 1e-4 * amax_a + 1e-7;
        const double tol_s = 4 * max_abs_err(errs, e[k].name) + 1e-4 * amax_s + 1e-7;
        cJSON *ji = cJSON_GetObjectItem(info, e[k].name);
        cJSON *jt = ji ? cJSON_GetObjectItem(ji, "threshold") : NULL;
        double thr = cJSON_IsNumber(jt) ? jt->valuedouble : NAN;
        CHECK(fabs(e[k].thr - thr) <= 1e-4 * thr, "%s: threshold %g, reference %g", e[k].name, e[k].thr, thr);
        int nill = 0;
        for (int g = 0; g < G; g++) {
            CHECK(fabs(e[k].abs[g] - ra[g]) <= tol_a, "%s Σ|λ| L%dH%d: %g vs reference %g (tol %g)", e[k].name, g / r->H,
                  g % r->H, (double)e[k].abs[g], (double)ra[g], tol_a);
            bool ill = (double)e[k].abs[g] < e[k].thr;
            nill += ill;
            CHECK(ill == (g == 0), "%s L%dH%d: ill-conditioned %d (Σ|λ| %g, threshold %g)", e[k].name, g / r->H, g % r->H,
                  ill, (double)e[k].abs[g], e[k].thr);
            if (!ill)   /* the ill head's score is rounding noise: nothing to compare */
                CHECK(fabs(e[k].score[g] - rs[g]) <= tol_s, "%s L%dH%d: %g vs reference %g (tol %g)", e[k].name, g / r->H,
                      g % r->H, (double)e[k].score[g], (double)rs[g], tol_s);
            /* the head table carries the sums (columns eigenvals_*_abs_sum) */
            CHECK(r->table[(size_t)g * HS_SCAN_NMETRICS + 12 + k] == e[k].abs[g], "table column %s", key);
        }
        CHECK(!strcmp(hs_scan_column_name(15 + k), key), "column %d is %s", 15 + k, key);
        printf("%s: L0H0 score %g (reference %g), Σ|λ| %.3g (reference %.3g), threshold %.4g; %d flagged\n", e[k].name,
               (double)e[k].score[0], (double)rs[0], (double)e[k].abs[0], (double)ra[0], e[k].thr, nill);
        hs_array_free(&sc);
        hs_array_free(&ab);
    }
    cJSON_Delete(errs);
    cJSON_Delete(info);
    hs_scan_result_free(r);
    /* skipped eigenvalues: no sums, no flags */
    sp.skip |= HS_SKIP_EIGENVALUES;
    CHECK_OK(hs_scan_run(m, &tok, &sp, &r));
    if (r) {
        CHECK(isnan(r->eig_resid_abs[0]) && isnan(r->eig_resid_ill_below) && isnan(r->eig_vocab_ill_below),
              "skipped eigenvalues leave NaN sums and thresholds");
        hs_scan_result_free(r);
    }
    hs_array_free(&tok);
    hs_model_free(m);
    return test_report("test_eig_ill");
}
