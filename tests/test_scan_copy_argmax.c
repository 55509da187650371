/* test_scan_copy_argmax.c — the pruned, exact frac_copy_argmax core (hs_copy_argmax_count)
 * against brute force: every entry S[i, j] = fmaf-chain over k (the definition in scan.h),
 * argmax with the first index on ties, on random small shapes, including adversarial
 * ones: duplicated columns (exact ties before and after the diagonal), zero rows, rows
 * whose diagonal barely wins, huge-norm columns, D not a multiple of the SIMD width,
 * V not a multiple of the tile, values whose products underflow (the screen's absolute
 * slack) and values whose |a|·|b| is too large for the BLAS screen (the tile fallback).
 * All three paths are run: the BLAS-screened default, the SIMD tile kernel and the
 * scalar one (HS_COPY_ARGMAX_TILES, HS_NO_SIMD). The answer must be identical (no tolerance). */
#include "headscan/headscan.h"
#include "test.h"

static uint64_t rs = 88172645463325252ull;
static double urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (double)(rs >> 11) / 9007199254740992.0; }
static float nrand(void) { double u = urand() + 1e-300, v = urand(); return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v)); }

static int64_t brute(const float *A, const float *Bt, int64_t V, int D) {
    int64_t cnt = 0;
    for (int64_t i = 0; i < V; i++) {
        int64_t am = 0;
        float best = 0;
        for (int64_t j = 0; j < V; j++) {
            float acc = 0.0f;
            for (int k = 0; k < D; k++) acc = fmaf(A[i * D + k], Bt[j * D + k], acc);
            if (j == 0 || acc > best) { best = acc; am = j; }
        }
        cnt += am == i;
    }
    return cnt;
}

int main(void) {
    int cases = 0;
    for (int trial = 0; trial < 42; trial++) {
        const int64_t V = 1 + (int64_t)(urand() * 700);
        const int D = 1 + (int)(urand() * 70);
        const int kind = trial % 7;
        float *A = malloc(sizeof(float) * V * D), *Bt = malloc(sizeof(float) * V * D);
        for (int64_t i = 0; i < V * D; i++) { A[i] = nrand(); Bt[i] = nrand(); }
        for (int64_t i = 0; i < V; i++) {
            double nb = kind == 1 ? 1.0 + 0.05 * urand() : 0.2 + 3 * urand();   /* spread of column norms */
            for (int k = 0; k < D; k++) Bt[i * D + k] *= (float)nb;
        }
        if (kind == 1) {   /* copying-like: A[i] ≈ c·Bt[i] (many hits, diagonal near the max) */
            for (int64_t i = 0; i < V; i++)
                for (int k = 0; k < D; k++) A[i * D + k] = Bt[i * D + k] * 2.0f + 0.3f * A[i * D + k];
        } else if (kind == 2) {   /* exact ties: duplicated columns, zero rows */
            for (int64_t i = 0; i + 1 < V; i += 3) memcpy(Bt + (i + 1) * D, Bt + i * D, sizeof(float) * D);
            for (int64_t i = 0; i < V; i += 7) memset(A + i * D, 0, sizeof(float) * D);
            for (int64_t i = 0; i < V; i += 3) memcpy(A + i * D, Bt + i * D, sizeof(float) * D);
        } else if (kind == 3) {   /* all columns identical: only row 0 can win (first index) */
            for (int64_t i = 1; i < V; i++) memcpy(Bt + i * D, Bt, sizeof(float) * D);
        } else if (kind == 4) {   /* integer data: many exact ties in S */
            for (int64_t i = 0; i < V * D; i++) { A[i] = (float)(int)(nrand() * 2); Bt[i] = (float)(int)(nrand() * 2); }
        } else if (kind == 5 || kind == 6) {   /* copying-like, scaled: products ~1e36 (tile fallback) or ~1e-40 (subnormal) */
            const float sc = kind == 5 ? 1e18f : 1e-20f;
            for (int64_t i = 0; i < V; i++)
                for (int k = 0; k < D; k++) {
                    A[i * D + k] = (Bt[i * D + k] + 0.5f * A[i * D + k]) * sc;
                    Bt[i * D + k] *= sc;
                }
        }
        int64_t want = brute(A, Bt, V, D), got = -1, got_tile = -1, got_scalar = -1, got_dense = -1;
        CHECK_OK(hs_copy_argmax_count(A, Bt, V, D, false, &got));
        setenv("HS_COPY_ARGMAX_TILES", "1", 1);
        CHECK_OK(hs_copy_argmax_count(A, Bt, V, D, false, &got_tile));
        setenv("HS_NO_SIMD", "1", 1);
        CHECK_OK(hs_copy_argmax_count(A, Bt, V, D, false, &got_scalar));
        unsetenv("HS_NO_SIMD");
        unsetenv("HS_COPY_ARGMAX_TILES");
        CHECK(got_tile == want, "trial %d tile kernel: %lld vs %lld", trial, (long long)got_tile, (long long)want);
        CHECK_OK(hs_copy_argmax_count(A, Bt, V, D, true, &got_dense));
        CHECK(got == want, "trial %d (kind %d, V=%lld, D=%d): pruned %lld, brute force %lld", trial, kind, (long long)V, D,
              (long long)got, (long long)want);
        CHECK(got_scalar == want, "trial %d scalar kernel: %lld vs %lld", trial, (long long)got_scalar, (long long)want);
        /* the dense sgemm baseline sums in another order: equal here except on exact/near ties */
        if (kind == 0) CHECK(got_dense == want, "trial %d dense baseline: %lld vs %lld", trial, (long long)got_dense, (long long)want);
        if ((kind == 1 || kind == 5 || kind == 6) && D >= 16) CHECK(want > V / 4, "copying-like case should have many hits (%lld of %lld)", (long long)want, (long long)V);
        if (kind == 3) CHECK(want == 1, "identical columns: only row 0 (got %lld)", (long long)want);
        cases++;
        free(A);
        free(Bt);
    }
    /* bad shapes */
    int64_t c;
    float x = 1;
    CHECK(hs_copy_argmax_count(&x, &x, 0, 1, false, &c) == HS_ERR_INVALID_ARG, "V = 0 rejected");
    CHECK(cases == 42, "ran %d cases", cases);
    return test_report("test_scan_copy_argmax");
}
