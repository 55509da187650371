/* test_shuffle.c — hs_shuffle_permutation against numpy's
 * default_rng(seed).permutation(n): the spec's test vectors (shared/spec/data.md §5)
 * and fixtures written by numpy itself (tests/reference/make_shuffle_fixtures.py). */
#include "headscan/headscan.h"
#include "data/data_internal.h"
#include "test.h"
#include "data_test_util.h"

static int64_t *perm(uint64_t seed, int64_t n) {
    int64_t *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    CHECK_OK(hs_shuffle_permutation(seed, n, p));
    return p;
}

int main(void) {
    /* spec test vectors (numpy 1.24.2) */
    static const int64_t p10[10] = {5, 6, 0, 7, 3, 2, 4, 9, 1, 8};
    int64_t *p = perm(42, 10);
    CHECK(!memcmp(p, p10, sizeof p10), "permutation(10) seed 42");
    free(p);
    static const int64_t first32[32] = {27043, 13151, 58169, 15436, 31040, 7381, 32046, 42314,
        55205, 51276, 1410, 36108, 742, 34643, 9643, 19865, 50759, 26458, 33153, 41622, 35459,
        35562, 52081, 2955, 37798, 8722, 29366, 19212, 35816, 13515, 41441, 48357};
    p = perm(42, 60194);
    CHECK(!memcmp(p, first32, sizeof first32), "permutation(60194)[0:32]");
    CHECK(p[117] == 9925, "perm[117] = %lld", (long long)p[117]);
    CHECK(p[287] == 20895, "perm[287] = %lld", (long long)p[287]);
    CHECK(p[60193] == 9864, "perm[60193] = %lld", (long long)p[60193]);
    /* it is a permutation */
    char *seen = calloc(60194, 1);
    int ok = 1;
    for (int64_t i = 0; i < 60194; i++) {
        if (p[i] < 0 || p[i] >= 60194 || seen[p[i]]) ok = 0;
        else seen[p[i]] = 1;
    }
    CHECK(ok, "permutation(60194) is a permutation");
    free(seen);
    free(p);

    /* numpy-written fixtures: perm_s<seed>_n<n>.npy */
    static const struct { uint64_t seed; int64_t n; } small[] = {
        {0, 1}, {42, 2}, {42, 10}, {1, 17}, {7, 100}, {4294967301ull, 50},
        {18446744073709551615ull, 33}, {12345, 1000}};
    for (size_t k = 0; k < sizeof small / sizeof *small; k++) {
        char path[512];
        snprintf(path, sizeof path, HS_SOURCE_DIR "/tests/data/shuffle/perm_s%llu_n%lld.npy",
                 (unsigned long long)small[k].seed, (long long)small[k].n);
        hs_array a;
        CHECK_OK(hs_npy_read(path, &a));
        if (!a.data) continue;
        CHECK(a.dtype == HS_I64 && a.ndim == 1 && a.shape[0] == small[k].n, "%s shape", path);
        p = perm(small[k].seed, small[k].n);
        CHECK(!memcmp(p, a.data, (size_t)small[k].n * 8), "seed %llu n %lld differs from numpy",
              (unsigned long long)small[k].seed, (long long)small[k].n);
        free(p);
        hs_array_free(&a);
    }
    /* numpy hashes of large permutations */
    FILE *f = fopen(HS_SOURCE_DIR "/tests/data/shuffle/hashes.txt", "r");
    CHECK(f != NULL, "hashes.txt");
    char line[256];
    int nh = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long seed;
        long long n;
        char hex[80], got[65];
        if (line[0] == '#' || sscanf(line, "%llu %lld %79s", &seed, &n, hex) != 3) continue;
        p = perm(seed, n);
        CHECK_OK(hs_data_sha256(p, (size_t)n * 8, got));
        CHECK(!strcmp(got, hex), "seed %llu n %lld: sha256 %s, numpy %s", seed, n, got, hex);
        free(p);
        nh++;
    }
    if (f) fclose(f);
    CHECK(nh == 4, "4 hashed cases, got %d", nh);

    /* edge cases */
    CHECK_OK(hs_shuffle_permutation(42, 0, NULL));
    CHECK(hs_shuffle_permutation(42, -1, NULL) == HS_ERR_INVALID_ARG, "negative n refused");
    return test_report("test_shuffle");
}
