/* vmath.c — the vector loops over hs_expf: Σ exp(x - m) and in-place softmax numerators.
 * Written with GCC/Clang vector extensions (16 lanes) because a bit-cast inside the
 * scalar hs_expf stops the auto-vectoriser; same polynomial and constants, so the
 * results equal hs_expf lane by lane. */
#include "core/vmath.h"
#include "core/internal.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* The sums are defined over 16 logical lanes (LL): accumulator lane l gathers the elements
 * ≡ l (mod 16) of its stream and lanes are added 0..15 at the end. Each logical vector is
 * held as NV physical vectors of VL lanes, VL the target's register width: 16-lane vector
 * types on an AVX2 target are lowered piecewise by GCC (converts scalarised, ~4x slower
 * exp sums, ~20x slower max on Zen 3). The lanes and their order are the same for every
 * VL, so the results are bit-identical across targets. */
#define LL 16
#if defined(__AVX512F__)
#define VL 16
#elif defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif
#define NV (LL / VL)
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));

/* lane-wise (mask ? a : b); GCC's C front end has no vector ?: */
static inline vf vsel(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
static inline vf vsplat(float x) { return (vf){0} + x; }

/* a·b + c lane-wise, fused where the target has FMA (as HS_MADD in hs_expf) */
static inline vf vmadd(vf a, vf b, vf c) {
#if VL == 16
    return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif VL == 8 && defined(__FMA__)
    return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif VL == 4 && defined(__FMA__)
    return (vf)_mm_fmadd_ps((__m128)a, (__m128)b, (__m128)c);
#else
    return a * b + c;
#endif
}

/* floor lane-wise (|t| < 2^23 here): one rounding instruction where there is one */
static inline vf vfloor(vf t) {
#if VL == 16
    return (vf)_mm512_roundscale_ps((__m512)t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
#elif VL == 8
    return (vf)_mm256_round_ps((__m256)t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
#elif defined(__SSE4_1__)
    return (vf)_mm_round_ps((__m128)t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
#else
    vi n = __builtin_convertvector(t, vi);            /* truncation toward zero */
    vf fx = __builtin_convertvector(n, vf);
    vi adj = fx > t;                                   /* -1 where truncation rounded up (t < 0) */
    return __builtin_convertvector(n + adj, vf);
#endif
}

/* x clamped to [lo, hi] lane-wise, NaN kept (x86 min/max return their second operand
 * when either is NaN), as the compare-and-select below it does */
static inline vf vclamp(vf x, vf lo, vf hi) {
#if VL == 16
    return (vf)_mm512_min_ps((__m512)hi, _mm512_max_ps((__m512)lo, (__m512)x));
#elif VL == 8
    return (vf)_mm256_min_ps((__m256)hi, _mm256_max_ps((__m256)lo, (__m256)x));
#elif defined(__SSE__)
    return (vf)_mm_min_ps((__m128)hi, _mm_max_ps((__m128)lo, (__m128)x));
#else
    x = vsel(x < lo, lo, x);
    return vsel(x > hi, hi, x);
#endif
}

static inline vf vexp(vf x) {
    x = vclamp(x, vsplat(-87.33654f), vsplat(88.3762626647949f));
    vf fx = vfloor(vmadd(x, vsplat(1.44269504088896341f), vsplat(0.5f)));
    vi n = __builtin_convertvector(fx, vi);           /* exact: fx is integral */
    vf r = vmadd(fx, vsplat(-0.693359375f), x);
    r = vmadd(fx, vsplat(2.12194440e-4f), r);
    vf z = r * r;
    vf y = vmadd(r, vsplat(1.9875691500e-4f), vsplat(1.3981999507e-3f));
    y = vmadd(y, r, vsplat(8.3334519073e-3f));
    y = vmadd(y, r, vsplat(4.1665795894e-2f));
    y = vmadd(y, r, vsplat(1.6666665459e-1f));
    y = vmadd(y, r, vsplat(5.0000001201e-1f));
    y = vmadd(y, z, r) + 1.0f;
    vi e = (n + 127) << 23;
    return y * (vf)e;
}

static inline vf loadv(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void storev(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* Σ of the 16 logical lanes of a (NV vectors), lane 0 first */
static inline float hsum(const vf *a) {
    float s = 0;
    for (int v = 0; v < NV; v++)
        for (int l = 0; l < VL; l++) s += a[v][l];
    return s;
}

double hs_sum_exp(const float *x, int n, float m) {
    double total = 0;
    int j = 0;
    /* float partial sums over blocks of 256 (two 16-lane accumulators), added in double: the relative error stays ~1e-7 */
    for (; j + 256 <= n; j += 256) {
        vf a0[NV], a1[NV], t[NV];
        for (int v = 0; v < NV; v++) a0[v] = a1[v] = vsplat(0.0f);
        for (int k = 0; k < 256; k += 2 * LL)
            for (int v = 0; v < NV; v++) {
                a0[v] += vexp(loadv(x + j + k + v * VL) - m);
                a1[v] += vexp(loadv(x + j + k + LL + v * VL) - m);
            }
        for (int v = 0; v < NV; v++) t[v] = a0[v] + a1[v];
        total += hsum(t);
    }
    for (; j < n; j++) total += hs_expf(x[j] - m);
    return total;
}

float hs_exp_inplace(float *x, int n, float m) {
    vf acc[NV];
    for (int v = 0; v < NV; v++) acc[v] = vsplat(0.0f);
    int j = 0;
    for (; j + LL <= n; j += LL)
        for (int v = 0; v < NV; v++) {
            vf e = vexp(loadv(x + j + v * VL) - m);
            storev(x + j + v * VL, e);
            acc[v] += e;
        }
    if (j < n) {   /* the last n - j < 16 lanes; the others stay out of the sum */
        const int k = n - j;
        float t[LL];
        for (int l = 0; l < LL; l++) t[l] = l < k ? x[j + l] : m;
        for (int v = 0; v < NV; v++) {
            vf e = vexp(loadv(t + v * VL) - m);
            storev(t + v * VL, e);
        }
        for (int l = 0; l < LL; l++) {
            if (l < k) x[j + l] = t[l];
            else t[l] = 0.0f;
        }
        for (int v = 0; v < NV; v++) acc[v] += loadv(t + v * VL);
    }
    return hsum(acc);
}

static inline vf vmax(vf a, vf b) { return vsel(b > a, b, a); }

float hs_max(const float *x, int n) {
    float m = x[0];
    int j = 0;
    if (n >= VL) {   /* up to four independent accumulators: max is exact in any order */
        vf a0 = loadv(x), a1 = a0, a2 = a0, a3 = a0;
        for (j = VL; j + 4 * VL <= n; j += 4 * VL) {
            a0 = vmax(a0, loadv(x + j));
            a1 = vmax(a1, loadv(x + j + VL));
            a2 = vmax(a2, loadv(x + j + 2 * VL));
            a3 = vmax(a3, loadv(x + j + 3 * VL));
        }
        for (; j + VL <= n; j += VL) a0 = vmax(a0, loadv(x + j));
        vf a = vmax(vmax(a0, a1), vmax(a2, a3));
        m = a[0];
        for (int l = 1; l < VL; l++) m = a[l] > m ? a[l] : m;
    }
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* Double sums: two accumulators of 8 logical double lanes (LD), each held as ND physical
 * vectors of VD lanes, lanes added 0..7 at the end (the same order for every VD). */
#define LD 8
#define VD (VL / 2 < LD ? VL / 2 : LD)
#define ND (LD / VD)
typedef double vd __attribute__((vector_size(VD * sizeof(double))));
typedef float vh __attribute__((vector_size(VD * sizeof(float))));

static inline vd widen(const float *p) { vh h; memcpy(&h, p, sizeof h); return __builtin_convertvector(h, vd); }
static inline double hsumd(const vd *a) {
    double s = 0;
    for (int v = 0; v < ND; v++)
        for (int l = 0; l < VD; l++) s += a[v][l];
    return s;
}

double hs_sum_f64(const float *x, int n) {
    vd a0[ND], a1[ND], t[ND];
    for (int v = 0; v < ND; v++) a0[v] = a1[v] = (vd){0};
    int j = 0;
    for (; j + 2 * LD <= n; j += 2 * LD)
        for (int v = 0; v < ND; v++) {
            a0[v] += widen(x + j + v * VD);
            a1[v] += widen(x + j + LD + v * VD);
        }
    for (int v = 0; v < ND; v++) t[v] = a0[v] + a1[v];
    double s = hsumd(t);
    for (; j < n; j++) s += x[j];
    return s;
}

double hs_sumsq_f64(const float *x, int n, float c) {
    const vh cv = (vh){0} + c;
    vd a0[ND], a1[ND], t[ND];
    for (int v = 0; v < ND; v++) a0[v] = a1[v] = (vd){0};
    int j = 0;
    for (; j + 2 * LD <= n; j += 2 * LD)
        for (int v = 0; v < ND; v++) {
            vh h0, h1;
            memcpy(&h0, x + j + v * VD, sizeof h0);
            memcpy(&h1, x + j + LD + v * VD, sizeof h1);
            vd d0 = __builtin_convertvector(h0 - cv, vd), d1 = __builtin_convertvector(h1 - cv, vd);
            a0[v] += d0 * d0;
            a1[v] += d1 * d1;
        }
    for (int v = 0; v < ND; v++) t[v] = a0[v] + a1[v];
    double s = hsumd(t);
    for (; j < n; j++) {
        double d = x[j] - c;
        s += d * d;
    }
    return s;
}

/* TL gelu_new, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³) and
 * tanh(u) = 1 − 2/(exp(2u) + 1): absolute error ~1e-7, no cancellation problem for
 * the (1 + tanh) that follows. */
void hs_gelu_new(const float *x, float *y, size_t n) {
    size_t j = 0;
    for (; j + VL <= n; j += VL) {
        vf v = loadv(x + j);
        vf u = 0.7978845608028654f * (v + 0.044715f * (v * v * v));
        vf t = 1.0f - 2.0f / (vexp(2.0f * u) + 1.0f);
        storev(y + j, 0.5f * v * (1.0f + t));
    }
    for (; j < n; j++) {
        float v = x[j], u = 0.7978845608028654f * (v + 0.044715f * (v * v * v));
        float t = 1.0f - 2.0f / (hs_expf(2.0f * u) + 1.0f);
        y[j] = 0.5f * v * (1.0f + t);
    }
}

void hs_silu_mul(const float *g, const float *u, float *y, size_t n) {
    size_t j = 0;
    for (; j + VL <= n; j += VL) {
        vf v = loadv(g + j);
        storev(y + j, v / (vexp(-v) + 1.0f) * loadv(u + j));
    }
    for (; j < n; j++) y[j] = g[j] / (hs_expf(-g[j]) + 1.0f) * u[j];
}
