/* test_scan_quantile.c — hs_quantile_f32 against torch.quantile (torch 1.13 goldens written
 * by tests/reference/quantile_ref.py into tests/golden/quantile/). Tolerance: none — the
 * spec'd algorithm (float32 rank, NaN rule, torch's lerp) must reproduce torch bit for bit
 * (NaN must match NaN; +0 and -0 count as equal). Also: the float32-rank example of
 * analysis.md §6, and the error cases. */
#include "headscan/headscan.h"
#include "test.h"

static bool same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

int main(void) {
    char path[1024];
    int ncases = 0;
    for (int k = 0;; k++) {
        hs_array row, lv, out, sc;
        snprintf(path, sizeof path, "%s/tests/golden/quantile/row_%d.npy", HS_SOURCE_DIR, k);
        if (hs_npy_read(path, &row) != HS_OK) break;
        ncases++;
        snprintf(path, sizeof path, "%s/tests/golden/quantile/levels_%d.npy", HS_SOURCE_DIR, k);
        CHECK_OK(hs_npy_read(path, &lv));
        snprintf(path, sizeof path, "%s/tests/golden/quantile/out_%d.npy", HS_SOURCE_DIR, k);
        CHECK_OK(hs_npy_read(path, &out));
        snprintf(path, sizeof path, "%s/tests/golden/quantile/scalar_%d.npy", HS_SOURCE_DIR, k);
        CHECK_OK(hs_npy_read(path, &sc));
        const int64_t n = row.shape[0];
        const int nq = (int)lv.shape[0];
        float got[64];
        CHECK_OK(hs_quantile_f32(row.data, n, lv.data, nq, got, NULL));
        for (int i = 0; i < nq; i++)
            CHECK(same(got[i], ((float *)out.data)[i]), "case %d (n=%lld) q=%.9g: got %.9g, torch %.9g", k, (long long)n,
                  (double)((float *)lv.data)[i], (double)got[i], (double)((float *)out.data)[i]);
        /* Python-float q: torch converts it to float32 */
        const float q2[2] = {0.9f, 0.95f};
        CHECK_OK(hs_quantile_f32(row.data, n, q2, 2, got, NULL));
        for (int i = 0; i < 2; i++)
            CHECK(same(got[i], ((float *)sc.data)[i]), "case %d scalar q=%g: got %.9g, torch %.9g", k, (double)q2[i], (double)got[i],
                  (double)((float *)sc.data)[i]);
        hs_array_free(&row); hs_array_free(&lv); hs_array_free(&out); hs_array_free(&sc);
    }
    CHECK(ncases >= 10, "expected 10 golden cases, found %d", ncases);

    /* analysis.md §6: n = 73440, q = 0.9 → rank 66095.1015625 (float32), w = 0.1015625 */
    {
        const int64_t n = 73440;
        float *x = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 7919) % n);   /* a permutation of 0..n-1 */
        float q = 0.9f, r;
        CHECK_OK(hs_quantile_f32(x, n, &q, 1, &r, NULL));
        CHECK(r == 66095.1015625f, "rank example: got %.9g", (double)r);
        free(x);
    }
    /* sort: NaN last, -inf first */
    {
        float x[6] = {NAN, 1.0f, -INFINITY, 0.5f, -NAN, 2.0f};
        hs_quantile_sort(x, 6);
        CHECK(x[0] == -INFINITY && x[1] == 0.5f && x[2] == 1.0f && x[3] == 2.0f && isnan(x[4]) && isnan(x[5]), "sort order");
    }
    /* errors */
    {
        float x[2] = {1, 2}, q = 1.5f, r;
        CHECK(hs_quantile_f32(x, 2, &q, 1, &r, NULL) == HS_ERR_INVALID_ARG, "q > 1 rejected");
        q = 0.5f;
        CHECK(hs_quantile_f32(x, 0, &q, 1, &r, NULL) == HS_ERR_INVALID_ARG, "empty row rejected");
        CHECK(hs_quantile_f32(x, ((int64_t)1 << 24) + 1, &q, 1, &r, NULL) == HS_ERR_INVALID_ARG, "row > 2^24 rejected");
    }
    return test_report("test_scan_quantile");
}
