/* quantile.c — torch.quantile (linear interpolation) on float32 rows, bit for bit
 * (analysis.md §6): NaN sorts last, float32 rank, torch's two-sided float32 lerp. Also the
 * median behind hs_eig_ill_threshold. */
#include "core/internal.h"
#include "headscan/scan.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Order-preserving map float → uint32 (NaN canonicalised to the largest key). */
static inline uint32_t f2key(float f) {
    uint32_t u;
    if (isnan(f)) return 0xFFFFFFFFu;
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline float key2f(uint32_t k) {
    if (k == 0xFFFFFFFFu) return NAN;
    uint32_t u = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* LSD radix sort on the keys (4 passes of 8 bits); O(n), stable. */
void hs_quantile_sort(float *x, int64_t n) {
    if (n < 2) return;
    if (n < 64) {   /* insertion sort on keys for short rows */
        for (int64_t i = 1; i < n; i++) {
            uint32_t k = f2key(x[i]);
            float v = x[i];
            int64_t j = i;
            while (j > 0 && f2key(x[j - 1]) > k) { x[j] = x[j - 1]; j--; }
            x[j] = v;
        }
        for (int64_t i = 0; i < n; i++) if (isnan(x[i])) x[i] = NAN;
        return;
    }
    uint32_t *a = malloc(sizeof(uint32_t) * (size_t)n), *b = malloc(sizeof(uint32_t) * (size_t)n);
    if (!a || !b) {   /* fall back to the slow path rather than fail */
        free(a); free(b);
        for (int64_t i = 1; i < n; i++) {
            uint32_t k = f2key(x[i]); float v = x[i]; int64_t j = i;
            while (j > 0 && f2key(x[j - 1]) > k) { x[j] = x[j - 1]; j--; }
            x[j] = v;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) a[i] = f2key(x[i]);
    for (int pass = 0; pass < 4; pass++) {
        int sh = pass * 8;
        int64_t cnt[257] = {0};
        for (int64_t i = 0; i < n; i++) cnt[((a[i] >> sh) & 255) + 1]++;
        if (cnt[((a[0] >> sh) & 255) + 1] == n) continue;   /* all equal in this digit */
        for (int d = 0; d < 256; d++) cnt[d + 1] += cnt[d];
        for (int64_t i = 0; i < n; i++) b[cnt[(a[i] >> sh) & 255]++] = a[i];
        uint32_t *t = a; a = b; b = t;
    }
    for (int64_t i = 0; i < n; i++) x[i] = key2f(a[i]);
    free(a);
    free(b);
}

/* torch's float32 lerp as its CPU kernel computes it (aten/src/ATen/native/cpu/LerpKernel.cpp,
 * torch 1.13 built for AVX2: vec::fmadd): w < 0.5 ? fma(w, b − a, a) : fma(w − 1, b − a, b).
 * The spec's unfused a + w·(b − a) / b − (b − a)·(1 − w) differs in the last bit on some
 * inputs; tests/golden/quantile (real torch output) settles it. */
static inline float torch_lerp(float a, float b, float w) {
    float d = b - a;
    return w < 0.5f ? fmaf(w, d, a) : fmaf(w - 1.0f, d, b);
}

void hs_quantile_sorted_f32(const float *sorted, int64_t n, const float *q, int nq, float *out) {
    const float last = (float)(n - 1);
    const bool has_nan = isnan(sorted[n - 1]);
    for (int i = 0; i < nq; i++) {
        volatile float rank = q[i] * last;   /* float32 product, as torch's q * (n - 1) */
        float r = has_nan ? last : rank;
        int64_t lo = (int64_t)r, hi = (int64_t)ceilf(r);
        float w = r - (float)lo;
        out[i] = torch_lerp(sorted[lo], sorted[hi], w);
    }
}

hs_status hs_quantile_f32(const float *x, int64_t n, const float *q, int nq, float *out, float *scratch) {
    if (n < 1) return hs_errorf(HS_ERR_INVALID_ARG, "quantile of an empty row");
    if (n > ((int64_t)1 << 24)) return hs_errorf(HS_ERR_INVALID_ARG, "quantile: row of %lld values is longer than 2^24 (torch.quantile's limit)", (long long)n);
    for (int i = 0; i < nq; i++)
        if (!(q[i] >= 0.0f && q[i] <= 1.0f)) return hs_errorf(HS_ERR_INVALID_ARG, "quantile level %g is not in [0, 1]", (double)q[i]);
    float *s = scratch ? scratch : hs_malloc(sizeof(float) * (size_t)n);
    if (!s) return HS_ERR_NOMEM;
    memcpy(s, x, sizeof(float) * (size_t)n);
    hs_quantile_sort(s, n);
    hs_quantile_sorted_f32(s, n, q, nq, out);
    if (!scratch) free(s);
    return HS_OK;
}

/* ------------------------------------------------------------------ eigenvalue conditioning */
hs_status hs_eig_ill_threshold(const float *abs_sum, int64_t n, double *threshold) {
    *threshold = NAN;
    if (n < 0 || (n > 0 && !abs_sum)) return hs_errorf(HS_ERR_INVALID_ARG, "hs_eig_ill_threshold: bad arguments");
    float *v = hs_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!v) return HS_ERR_NOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) if (isfinite(abs_sum[i])) v[k++] = abs_sum[i];
    if (k > 0) {
        hs_quantile_sort(v, k);
        *threshold = HS_EIG_ILL_REL * (double)v[(k - 1) / 2];   /* torch.median: the lower middle value */
    }
    free(v);
    return HS_OK;
}
