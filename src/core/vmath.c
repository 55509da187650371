/* vmath.c — the vector loops over hs_expf: Σ exp(x - m) and in-place softmax numerators.
 * Written with GCC/Clang vector extensions (8 lanes) because a bit-cast inside the
 * scalar hs_expf stops the auto-vectoriser; same polynomial and constants, so the
 * results equal hs_expf lane by lane. */
#include "core/vmath.h"
#include "core/internal.h"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* lane-wise (mask ? a : b); GCC's C front end has no vector ?: */
static inline v8f vsel(v8i mask, v8f a, v8f b) { return (v8f)((mask & (v8i)a) | (~mask & (v8i)b)); }

static inline v8f vexp(v8f x) {
    const v8f lo = {-87.33654f, -87.33654f, -87.33654f, -87.33654f, -87.33654f, -87.33654f, -87.33654f, -87.33654f};
    const v8f hi = lo * 0 + 88.3762626647949f;
    x = vsel(x < lo, lo, x);
    x = vsel(x > hi, hi, x);
    v8f t = x * 1.44269504088896341f + 0.5f;
    v8i n = __builtin_convertvector(t, v8i);          /* truncation toward zero */
    v8f fx = __builtin_convertvector(n, v8f);
    v8i adj = fx > t;                                  /* -1 where truncation rounded up (t < 0) */
    n = n + adj;
    fx = __builtin_convertvector(n, v8f);              /* = floorf(t) */
    v8f r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    v8f z = r * r;
    v8f y = r * 1.9875691500e-4f + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    v8i e = (n + 127) << 23;
    return y * (v8f)e;
}

static inline v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
static inline void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

double hs_sum_exp(const float *x, int n, float m) {
    double total = 0;
    int j = 0;
    /* float partial sums over blocks of 256, added in double: the relative error stays ~1e-7 */
    for (; j + 256 <= n; j += 256) {
        v8f acc = {0};
        for (int k = 0; k < 256; k += 8) acc += vexp(load8(x + j + k) - m);
        float s = 0;
        for (int l = 0; l < 8; l++) s += acc[l];
        total += s;
    }
    for (; j < n; j++) total += hs_expf(x[j] - m);
    return total;
}

float hs_exp_inplace(float *x, int n, float m) {
    v8f acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f e = vexp(load8(x + j) - m);
        store8(x + j, e);
        acc += e;
    }
    float s = 0;
    for (int l = 0; l < 8; l++) s += acc[l];
    for (; j < n; j++) { x[j] = hs_expf(x[j] - m); s += x[j]; }
    return s;
}

float hs_max(const float *x, int n) {
    float m = x[0];
    int j = 0;
    if (n >= 8) {
        v8f acc = load8(x);
        for (j = 8; j + 8 <= n; j += 8) {
            v8f v = load8(x + j);
            acc = vsel(v > acc, v, acc);
        }
        m = acc[0];
        for (int l = 1; l < 8; l++) m = acc[l] > m ? acc[l] : m;
    }
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* TL gelu_new, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³) and
 * tanh(u) = 1 − 2/(exp(2u) + 1): absolute error ~1e-7, no cancellation problem for
 * the (1 + tanh) that follows. */
void hs_gelu_new(const float *x, float *y, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f v = load8(x + j);
        v8f u = 0.7978845608028654f * (v + 0.044715f * (v * v * v));
        v8f t = 1.0f - 2.0f / (vexp(2.0f * u) + 1.0f);
        store8(y + j, 0.5f * v * (1.0f + t));
    }
    for (; j < n; j++) {
        float v = x[j], u = 0.7978845608028654f * (v + 0.044715f * (v * v * v));
        float t = 1.0f - 2.0f / (hs_expf(2.0f * u) + 1.0f);
        y[j] = 0.5f * v * (1.0f + t);
    }
}
