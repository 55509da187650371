/* test_blas.c — the BLAS report and the correction of OpenBLAS's generic fallback
 * (src/core/blas.c): the choice table; then, live, OpenBLAS re-initialised with the
 * generic "Prescott" core (what Debian's 0.3.21 falls back to on CPUs it does not know)
 * and switched back by the library's own choice — the environment is left as it was,
 * and every kernel gives the same products up to float32 summation order. */
#include "headscan/headscan.h"
#include "core/internal.h"
#include "test.h"
#include <cblas.h>
#include <strings.h>

enum { MM = 67, NN = 131, KK = 300 };

static void product(const float *a, const float *b, float *c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, MM, NN, KK, 1.0f, a, KK, b, NN, 0.0f, c, NN);
}

/* |c - c_exact| <= γ_K Σ_k |a_ik||b_kj| for any summation order (γ_K = K·u/(1 − K·u),
 * u = 2^-24); two kernels differ by at most twice that. abs_ab = Σ|a||b| in double. */
static int same_up_to_order(const float *c0, const float *c1, const double *abs_ab) {
    const double u = 5.9604644775390625e-08, g = KK * u / (1 - KK * u);
    for (int i = 0; i < MM * NN; i++)
        if (fabs((double)c0[i] - c1[i]) > 2 * g * abs_ab[i]) return 0;
    return 1;
}

static const char *corename(void) {
    static hs_blas_info b;
    hs_blas_get_info(&b);
    return b.kernel;
}

int main(void) {
    /* the choice: a core below the CPU's level is replaced by that level's core */
    CHECK(!strcmp(hs__blas_choice("Prescott", 3), "SkylakeX"), "Prescott on AVX-512");
    CHECK(!strcmp(hs__blas_choice("Prescott", 2), "Haswell"), "Prescott on AVX2");
    CHECK(!strcmp(hs__blas_choice("Nehalem", 2), "Haswell"), "Nehalem on AVX2");
    CHECK(!strcmp(hs__blas_choice("Sandybridge", 3), "SkylakeX"), "Sandybridge on AVX-512");
    CHECK(!strcmp(hs__blas_choice("Haswell", 3), "SkylakeX"), "AVX2 kernels on AVX-512");
    CHECK(!strcmp(hs__blas_choice("Zen", 3), "SkylakeX"), "Zen kernels on AVX-512");
    CHECK(hs__blas_choice("Haswell", 2) == NULL, "an AVX2 core on an AVX2 CPU is kept");
    CHECK(hs__blas_choice("Zen", 2) == NULL, "Zen on an AVX2 CPU is kept");
    CHECK(hs__blas_choice("Cooperlake", 3) == NULL, "Cooperlake is kept");
    CHECK(hs__blas_choice("SkylakeX", 2) == NULL, "kept");
    CHECK(hs__blas_choice("Prescott", 1) == NULL, "no AVX2: nothing better to pick");
    CHECK(hs__blas_choice("Prescott", 0) == NULL, "old CPU");
    CHECK(hs__blas_choice(NULL, 3) == NULL, "no OpenBLAS");

    hs_blas_info bi;
    CHECK_OK(hs_blas_get_info(&bi));
    CHECK(hs_blas_get_info(NULL) == HS_ERR_INVALID_ARG, "NULL rejected");
    printf("blas: %s | kernel %s (OpenBLAS chose %s)%s | %d threads | cpu level %d\n", bi.library, bi.kernel, bi.detected,
           bi.switched ? " switched" : "", bi.threads, hs__cpu_isa_level());
    CHECK(strstr(bi.library, "OpenBLAS") != NULL, "OpenBLAS is linked: %s", bi.library);
    CHECK(bi.kernel[0] && bi.detected[0], "kernel names");
    CHECK(bi.threads >= 1, "threads %d", bi.threads);
    const char *env = getenv("OPENBLAS_CORETYPE");
    int lvl = hs__cpu_isa_level();
    CHECK(!strcmp(bi.cpu_kernel, lvl >= 3 ? "SkylakeX" : lvl == 2 ? "Haswell" : ""), "cpu_kernel %s at level %d", bi.cpu_kernel, lvl);
    /* below the CPU's level only when the environment forces it: headscan never leaves it so */
    if (!env && !getenv("HS_BLAS_KEEP_KERNEL")) CHECK(!bi.below_cpu, "%s below level %d without OPENBLAS_CORETYPE", bi.kernel, lvl);
    if (env && !strcasecmp(env, "Prescott")) CHECK(bi.below_cpu == (lvl >= 2), "forced Prescott at level %d: below_cpu %d", lvl, bi.below_cpu);
    CHECK(bi.env_forced == (env != NULL), "env_forced");
    /* at load: switched exactly when OpenBLAS's own choice is below the CPU's level */
    const char *want = env ? NULL : hs__blas_choice(bi.detected, hs__cpu_isa_level());
    CHECK(bi.switched == (want != NULL), "switched %d, expected %d", bi.switched, want != NULL);
    if (want) CHECK(!strcasecmp(bi.kernel, want), "in use %s, expected %s", bi.kernel, want);
    else CHECK(!strcasecmp(bi.kernel, bi.detected), "kept %s (detected %s)", bi.kernel, bi.detected);

    /* live: simulate the fallback, correct it, restore; products agree to reduction order */
    float *a = malloc(sizeof(float) * MM * KK), *b = malloc(sizeof(float) * KK * NN), *c[3];
    double *abs_ab = calloc(MM * NN, sizeof(double));
    for (int i = 0; i < 3; i++) c[i] = malloc(sizeof(float) * MM * NN);
    uint32_t x = 12345;
    for (int i = 0; i < MM * KK; i++) { x = x * 1664525u + 1013904223u; a[i] = (float)((int)(x >> 8) % 2001 - 1000) / 997.0f; }
    for (int i = 0; i < KK * NN; i++) { x = x * 1664525u + 1013904223u; b[i] = (float)((int)(x >> 8) % 2001 - 1000) / 991.0f; }
    for (int i = 0; i < MM; i++)
        for (int j = 0; j < NN; j++)
            for (int k = 0; k < KK; k++) abs_ab[i * NN + j] += fabs((double)a[i * KK + k] * b[k * NN + j]);
    char orig[32];
    snprintf(orig, sizeof orig, "%s", bi.kernel);
    product(a, b, c[0]);
    CHECK(hs__blas_reselect("Prescott") == 0, "re-initialised with Prescott");
    CHECK(!strcasecmp(corename(), "Prescott"), "now %s", corename());
    CHECK((getenv("OPENBLAS_CORETYPE") == NULL) == (env == NULL), "environment restored");
    if (env) CHECK(!strcmp(getenv("OPENBLAS_CORETYPE"), env), "environment restored");
    product(a, b, c[1]);
    CHECK(same_up_to_order(c[0], c[1], abs_ab), "Prescott vs %s", orig);
    const char *fix = hs__blas_choice("Prescott", hs__cpu_isa_level());
    if (fix) {
        CHECK(hs__blas_reselect(fix) == 0, "switched to %s", fix);
        CHECK(!strcasecmp(corename(), fix), "now %s", corename());
        product(a, b, c[2]);
        CHECK(same_up_to_order(c[0], c[2], abs_ab), "%s vs %s", fix, orig);
    }
    CHECK(hs__blas_reselect(orig) == 0, "restored %s", orig);
    CHECK(!strcasecmp(corename(), orig), "restored: %s", corename());
    product(a, b, c[2]);
    CHECK(!memcmp(c[0], c[2], sizeof(float) * MM * NN), "same kernel, same bits");
    for (int i = 0; i < 3; i++) free(c[i]);
    free(a); free(b); free(abs_ab);
    return test_report("test_blas");
}
