/* vmath.h — vectorisable float kernels (internal): exp for softmax/log-sum-exp and
 * erf for exact GELU, written as plain arithmetic so the compiler can vectorise
 * the loops that call them (libm's expf/erff are scalar calls).
 * Accuracy (tests/test_vmath.c, against double-precision libm): exp within 2 ulp on
 * [-87, 88]; erf within 4e-7 absolute (7 ulp of 1.0, in the tails). Both are below the float32 reduction error
 * the golden tests allow. */
#ifndef HS_VMATH_H
#define HS_VMATH_H

#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* a·b + c: one fused rounding where the target has FMA (the vector loops in vmath.c fuse the
 * same operations, so hs_expf equals them lane by lane), two roundings elsewhere. */
#if defined(__FMA__)
#define HS_MADD(a, b, c) fmaf(a, b, c)
#else
#define HS_MADD(a, b, c) ((a) * (b) + (c))
#endif

/* Cephes-style expf: x = n·ln2 + r, |r| <= ln2/2, degree-6 polynomial, scale by 2^n. */
static inline float hs_expf(float x) {
    if (x != x) return x;   /* NaN (converting it to an integer below would be undefined) */
    x = x < -87.33654f ? -87.33654f : (x > 88.3762626647949f ? 88.3762626647949f : x);
    float fx = floorf(HS_MADD(x, 1.44269504088896341f, 0.5f));
    float r = HS_MADD(fx, -0.693359375f, x);
    r = HS_MADD(fx, 2.12194440e-4f, r);
    float z = r * r;
    float y = HS_MADD(r, 1.9875691500e-4f, 1.3981999507e-3f);
    y = HS_MADD(y, r, 8.3334519073e-3f);
    y = HS_MADD(y, r, 4.1665795894e-2f);
    y = HS_MADD(y, r, 1.6666665459e-1f);
    y = HS_MADD(y, r, 5.0000001201e-1f);
    y = HS_MADD(y, z, r) + 1.0f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)fx + 127) << 23}; /* 2^fx (a union vectorises; memcpy does not) */
    return y * scale.f;
}

/* erf(x) as a rational function on [-4, 4] (erf(±4) = ±1 in float32). */
static inline float hs_erff(float a) {
    float x = a < -4.0f ? -4.0f : (a > 4.0f ? 4.0f : a);
    float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * x;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

/* Σ_j exp(x[j] - m), accumulated in float blocks then double (vmath.c). */
double hs_sum_exp(const float *x, int n, float m);
/* x[j] = exp(x[j] - m); returns the float sum. */
float hs_exp_inplace(float *x, int n, float m);
/* y = gelu_new(x) (GPT-2's tanh GELU), vectorised. */
void hs_gelu_new(const float *x, float *y, size_t n);
/* y = silu(g) · u = g / (1 + exp(−g)) · u (the gated MLP, llama.md §8), vectorised; y may be g or u. */
void hs_silu_mul(const float *g, const float *u, float *y, size_t n);
/* Σ x[j] and Σ (x[j] - c)² (the difference in float, squares and sums in double), for the norms. */
double hs_sum_f64(const float *x, int n);
double hs_sumsq_f64(const float *x, int n, float c);
/* max of x[0..n), n >= 1 (NaN-free input). */
float hs_max(const float *x, int n);

#endif
