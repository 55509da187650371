/* vmath.c — the vector loops over hs_expf: Σ exp(x - m) and in-place softmax numerators.
 * Written with GCC/Clang vector extensions (16 lanes) because a bit-cast inside the
 * scalar hs_expf stops the auto-vectoriser; same polynomial and constants, so the
 * results equal hs_expf lane by lane. */
#include "core/vmath.h"
#include "core/internal.h"

/* 16 lanes (one AVX-512 register; two AVX2 ones elsewhere) */
#define VL 16
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));

/* lane-wise (mask ? a : b); GCC's C front end has no vector ?: */
static inline vf vsel(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
static inline vf vsplat(float x) { return (vf){0} + x; }

static inline vf vexp(vf x) {
    const vf lo = vsplat(-87.33654f), hi = vsplat(88.3762626647949f);
    x = vsel(x < lo, lo, x);
    x = vsel(x > hi, hi, x);
    vf t = x * 1.44269504088896341f + 0.5f;
    vi n = __builtin_convertvector(t, vi);            /* truncation toward zero */
    vf fx = __builtin_convertvector(n, vf);
    vi adj = fx > t;                                   /* -1 where truncation rounded up (t < 0) */
    n = n + adj;
    fx = __builtin_convertvector(n, vf);               /* = floorf(t) */
    vf r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    vf z = r * r;
    vf y = r * 1.9875691500e-4f + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    vi e = (n + 127) << 23;
    return y * (vf)e;
}

static inline vf loadv(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void storev(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline float hsum(vf v) {
    float s = 0;
    for (int l = 0; l < VL; l++) s += v[l];
    return s;
}

double hs_sum_exp(const float *x, int n, float m) {
    double total = 0;
    int j = 0;
    /* float partial sums over blocks of 256 (two accumulators), added in double: the relative error stays ~1e-7 */
    for (; j + 256 <= n; j += 256) {
        vf a0 = {0}, a1 = {0};
        for (int k = 0; k < 256; k += 2 * VL) {
            a0 += vexp(loadv(x + j + k) - m);
            a1 += vexp(loadv(x + j + k + VL) - m);
        }
        total += hsum(a0 + a1);
    }
    for (; j < n; j++) total += hs_expf(x[j] - m);
    return total;
}

float hs_exp_inplace(float *x, int n, float m) {
    vf acc = {0};
    int j = 0;
    for (; j + VL <= n; j += VL) {
        vf e = vexp(loadv(x + j) - m);
        storev(x + j, e);
        acc += e;
    }
    if (j < n) {   /* the last n - j < VL lanes; the others stay out of the sum */
        size_t k = (size_t)(n - j);
        vf t = vsplat(m), e;
        memcpy(&t, x + j, k * sizeof(float));
        e = vexp(t - m);
        memcpy(x + j, &e, k * sizeof(float));
        for (size_t l = k; l < VL; l++) e[l] = 0.0f;
        acc += e;
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

typedef double vd __attribute__((vector_size(VL / 2 * sizeof(double))));
typedef float vh __attribute__((vector_size(VL / 2 * sizeof(float))));

static inline vd widen(const float *p) { vh h; memcpy(&h, p, sizeof h); return __builtin_convertvector(h, vd); }
static inline double hsumd(vd v) {
    double s = 0;
    for (int l = 0; l < VL / 2; l++) s += v[l];
    return s;
}

double hs_sum_f64(const float *x, int n) {
    const int W = VL / 2;
    vd a0 = {0}, a1 = {0};
    int j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
        a0 += widen(x + j);
        a1 += widen(x + j + W);
    }
    double s = hsumd(a0 + a1);
    for (; j < n; j++) s += x[j];
    return s;
}

double hs_sumsq_f64(const float *x, int n, float c) {
    const int W = VL / 2;
    const vh cv = (vh){0} + c;
    vd a0 = {0}, a1 = {0};
    int j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
        vh h0, h1;
        memcpy(&h0, x + j, sizeof h0);
        memcpy(&h1, x + j + W, sizeof h1);
        vd d0 = __builtin_convertvector(h0 - cv, vd), d1 = __builtin_convertvector(h1 - cv, vd);
        a0 += d0 * d0;
        a1 += d1 * d1;
    }
    double s = hsumd(a0 + a1);
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
