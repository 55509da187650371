/* test_vmath.c — accuracy of the vectorisable exp and erf against double libm. */
#include "test.h"
#include "core/vmath.h"
#include <float.h>

int main(void) {
    double worst_exp_ulp = 0, worst_erf = 0;
    float wx = 0, we = 0;
    for (float x = -87.0f; x <= 88.0f; x = nextafterf(x, 100.0f) + 1e-4f * fabsf(x) + 1e-7f) {
        double ref = exp((double)x);
        double ulp = ldexp(1.0, ilogb(ref) - 23);
        double e = fabs((double)hs_expf(x) - ref) / ulp;
        if (e > worst_exp_ulp) { worst_exp_ulp = e; wx = x; }
    }
    for (float x = -6.0f; x <= 6.0f; x += 1.0f / 4096) {
        double e = fabs((double)hs_erff(x) - erf((double)x));
        if (e > worst_erf) { worst_erf = e; we = x; }
    }
    CHECK(worst_exp_ulp <= 2.0, "exp: %.2f ulp at %g", worst_exp_ulp, wx);
    CHECK(worst_erf <= 4e-7, "erf: %.3g absolute at %g", worst_erf, we);
    CHECK(hs_expf(-1000.0f) < 1e-37f && hs_expf(0.0f) == 1.0f, "exp limits");
    /* a NaN logit gives a NaN sum and a NaN lane, in the vector loops (clamps keep NaN) and the
       scalar tail alike; ±inf clamp to the ends */
    {
        float z[300];
        const int ats[] = {0, 13, 200, 290};   /* vector blocks of sum_exp (256) and exp_inplace (16), and their tails */
        for (int a = 0; a < 4; a++) {
            const int at = ats[a];
            for (int i = 0; i < 300; i++) z[i] = (float)i / 300.0f;
            z[at] = NAN;
            CHECK(isnan(hs_sum_exp(z, 300, 1.0f)), "sum_exp with a NaN at %d is not NaN", at);
            float t = hs_exp_inplace(z, 300, 1.0f);
            CHECK(isnan(t) && isnan(z[at]) && !isnan(z[at ? 0 : 1]), "exp_inplace with a NaN at %d", at);
        }
        CHECK(isnan(hs_expf(NAN)) && hs_expf(INFINITY) == hs_expf(88.3762626647949f) && hs_expf(-INFINITY) == hs_expf(-87.33654f),
              "exp of NaN / inf");
        for (int i = 0; i < 40; i++) z[i] = i % 2 ? INFINITY : -INFINITY;
        hs_exp_inplace(z, 40, 0.0f);
        int ends = 1;
        for (int i = 0; i < 40; i++) ends &= z[i] == hs_expf(i % 2 ? 88.3762626647949f : -87.33654f);
        CHECK(ends, "exp_inplace of ±inf clamps to the ends");
    }
    /* the vector loops equal the scalar function lane by lane, and the sums are accurate */
    enum { N = 1000 };
    float x[N], y[N];
    double ref = 0, refs = 0;
    for (int i = 0; i < N; i++) { x[i] = (float)((i * 7919) % 2000) / 100.0f - 15.0f; y[i] = x[i]; }
    float mx = hs_max(x, N);
    CHECK(mx == 4.99f, "max %g", mx);
    for (int i = 0; i < N; i++) { ref += exp((double)x[i] - mx); refs += hs_expf(x[i] - mx); }
    double s = hs_sum_exp(x, N, mx);
    CHECK(fabs(s - ref) <= 1e-6 * ref, "sum_exp %.9g vs %.9g", s, ref);
    float s2 = hs_exp_inplace(y, N, mx);
    int same = 1;
    for (int i = 0; i < N; i++) same &= y[i] == hs_expf(x[i] - mx);
    CHECK(same, "exp_inplace equals hs_expf lane by lane");
    CHECK(fabs(s2 - refs) <= 1e-6 * refs, "exp_inplace sum");
    /* every length through the vector bodies and their tails (softmax rows are 1..T long) */
    int lens_ok = 1, sums_ok = 1;
    for (int n = 1; n <= 100; n++) {
        float z[100], ref_max = x[0];
        for (int i = 0; i < n; i++) { z[i] = x[i]; ref_max = x[i] > ref_max ? x[i] : ref_max; }
        lens_ok &= hs_max(x, n) == ref_max;
        float sn = hs_exp_inplace(z, n, ref_max);
        double rs = 0, r1 = 0, r2 = 0;
        for (int i = 0; i < n; i++) {
            lens_ok &= z[i] == hs_expf(x[i] - ref_max);
            rs += z[i];
            r1 += x[i];
            r2 += (double)(x[i] - 0.5f) * (x[i] - 0.5f);
        }
        lens_ok &= fabs(sn - rs) <= 1e-6 * rs;
        sums_ok &= fabs(hs_sum_f64(x, n) - r1) <= 1e-12 * (1 + fabs(r1)) && fabs(hs_sumsq_f64(x, n, 0.5f) - r2) <= 1e-12 * r2;
    }
    CHECK(lens_ok, "max / exp_inplace at every length 1..100");
    /* The sums' order is defined over 16 logical lanes (vmath.c), whatever the register width
       the build targets: the same bits as this scalar model of it, on every CPU. */
    {
        int order_ok = 1;
        for (int n = 1; n <= N; n += 37) {
            double tot = 0;
            int j = 0;
            for (; j + 256 <= n; j += 256) {
                float a0[16] = {0}, a1[16] = {0}, t = 0;
                for (int k = 0; k < 256; k += 32)
                    for (int l = 0; l < 16; l++) { a0[l] += hs_expf(x[j + k + l] - mx); a1[l] += hs_expf(x[j + k + 16 + l] - mx); }
                for (int l = 0; l < 16; l++) t += a0[l] + a1[l];
                tot += t;
            }
            for (; j < n; j++) tot += hs_expf(x[j] - mx);
            order_ok &= hs_sum_exp(x, n, mx) == tot;
            float z[N], acc[16] = {0}, t = 0;
            memcpy(z, x, sizeof(float) * (size_t)n);
            for (int i = 0; i < n; i++) acc[i % 16] += hs_expf(x[i] - mx);
            for (int l = 0; l < 16; l++) t += acc[l];
            order_ok &= hs_exp_inplace(z, n, mx) == t;
            double d0[8] = {0}, d1[8] = {0}, q0[8] = {0}, q1[8] = {0}, s1 = 0, s2 = 0;
            int i = 0;
            for (; i + 16 <= n; i += 16)
                for (int l = 0; l < 8; l++) {
                    double u = x[i + l] - 0.5f, w = x[i + 8 + l] - 0.5f;
                    d0[l] += x[i + l]; d1[l] += x[i + 8 + l];
                    q0[l] += u * u; q1[l] += w * w;
                }
            for (int l = 0; l < 8; l++) { s1 += d0[l] + d1[l]; s2 += q0[l] + q1[l]; }
            for (; i < n; i++) { s1 += x[i]; s2 += (double)(x[i] - 0.5f) * (x[i] - 0.5f); }
            order_ok &= hs_sum_f64(x, n) == s1 && hs_sumsq_f64(x, n, 0.5f) == s2;
        }
        CHECK(order_ok, "sum_exp / exp_inplace / sum_f64 / sumsq_f64 add in their documented 16/8-lane order");
    }
    CHECK(sums_ok, "sum_f64 / sumsq_f64 equal the double loops (to 1e-12)");
    /* gelu_new against the double-precision formula: absolute error below 4e-7·(1 + |x|) */
    enum { G = 4001 };
    static float gx[G], gy[G];
    for (int i = 0; i < G; i++) gx[i] = -10.0f + 20.0f * i / (G - 1);
    hs_gelu_new(gx, gy, G);
    double gworst = 0;
    for (int i = 0; i < G; i++) {
        double v = gx[i], ref = 0.5 * v * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
        double e = fabs(gy[i] - ref) / (1 + fabs(v));
        if (e > gworst) gworst = e;
    }
    CHECK(gworst <= 4e-7, "gelu_new: %.3g relative to 1 + |x|", gworst);
    /* silu(g)·u against the double-precision formula: exp within 1 ulp, then an add, a divide
       and a multiply, each rounded: 5 units of 2^-24 relative, so 1e-6 of |silu(g)·u| (g in
       [-30, 30], where exp(-g) is not clamped); lane by lane the scalar tail's formula; y may
       alias u; far below the clamp the result is ~0 */
    static float sg[G], su[G], sy[G], sz[G];
    for (int i = 0; i < G; i++) { sg[i] = -30.0f + 60.0f * i / (G - 1); su[i] = 0.5f + (float)(i % 7); sz[i] = su[i]; }
    hs_silu_mul(sg, su, sy, G);
    hs_silu_mul(sg, sz, sz, G);
    double sworst = 0;
    int slanes = 1;
    for (int i = 0; i < G; i++) {
        double v = sg[i], ref = v / (1.0 + exp(-v)) * su[i];
        double e = fabs(sy[i] - ref) / fabs(ref);
        if (e > sworst) sworst = e;
        slanes &= sy[i] == sg[i] / (hs_expf(-sg[i]) + 1.0f) * su[i] && sz[i] == sy[i];
    }
    CHECK(sworst <= 1e-6, "silu_mul: %.3g relative", sworst);
    CHECK(slanes, "silu_mul equals its scalar formula lane by lane, in place too");
    float far[20], one[20], fy[20];
    for (int i = 0; i < 20; i++) { far[i] = -100.0f - i; one[i] = 1.0f; }
    hs_silu_mul(far, one, fy, 20);
    int tiny = 1;
    for (int i = 0; i < 20; i++) tiny &= fabsf(fy[i]) < 1e-30f && fy[i] <= 0.0f;
    CHECK(tiny, "silu_mul far below zero is ~0");
    printf("exp max %.2f ulp, erf max %.3g, silu_mul max %.3g relative\n", worst_exp_ulp, worst_erf, sworst);
    return test_report("test_vmath");
}
