/* blas.c — which BLAS kernel runs, and the correction of OpenBLAS's generic fallback.
 *
 * Debian's OpenBLAS is built with DYNAMIC_ARCH: at load time its constructor reads
 * cpuid and picks a kernel set ("core"). Version 0.3.21 does not know some newer CPUs
 * (e.g. Sapphire Rapids) and then falls back to "Prescott", its SSE3 kernels, about 4x
 * slower on sgemm. Its constructor runs before any of ours (a library's dependencies
 * are initialised first), so setting OPENBLAS_CORETYPE from here would come too late;
 * instead, when the variable is unset and OpenBLAS chose a core below this CPU's
 * ISA level (AVX2+FMA or AVX-512), we ask OpenBLAS to choose again with the right name, through its own
 * re-initialisation entry points (gotoblas_dynamic_quit / gotoblas_dynamic_init,
 * exported by every DYNAMIC_ARCH build; looked up with dlsym, so any other BLAS just
 * reports its name). OPENBLAS_CORETYPE is set only for that call and restored at
 * once, so the process environment is unchanged. This happens in a constructor, at
 * library load, before the caller can have a BLAS call in flight. The kernels compute
 * the same products; only the float32 summation order differs.
 * A user's own OPENBLAS_CORETYPE is always respected. */
#define _GNU_SOURCE
#include "core/internal.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef void (*void_fn)(void);
typedef char *(*str_fn)(void);
typedef int (*int_fn)(void);

static struct {
    char detected[32];   /* OpenBLAS's own choice */
    int switched, env_forced;
} g_blas;

/* The OpenBLAS core names (dynamic.c's corename[]) by the ISA level their kernels need:
 * 3 = AVX-512, 2 = AVX2+FMA, 1 = AVX; everything else is a generic SSE-era fallback. */
static int core_level(const char *name) {
    static const char *const l3[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const l2[] = {"Haswell", "Zen", "Excavator"};
    static const char *const l1[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller"};
    for (size_t i = 0; i < sizeof l3 / sizeof *l3; i++) if (!strcasecmp(name, l3[i])) return 3;
    for (size_t i = 0; i < sizeof l2 / sizeof *l2; i++) if (!strcasecmp(name, l2[i])) return 2;
    for (size_t i = 0; i < sizeof l1 / sizeof *l1; i++) if (!strcasecmp(name, l1[i])) return 1;
    return 0;
}

/* This CPU's level (OS support included: libgcc checks XCR0 for the AVX / AVX-512 state). */
int hs__cpu_isa_level(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
        return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    if (__builtin_cpu_supports("avx")) return 1;
#endif
    return 0;
}

const char *hs__blas_choice(const char *current, int cpu) {
    /* a core below the CPU's ISA level (a generic fallback, or AVX2 kernels on an AVX-512
     * CPU) is corrected; one at the CPU's level (Cooperlake, Zen on AVX2 ...) is kept */
    if (!current || cpu < 2 || core_level(current) >= cpu) return NULL;
    return cpu >= 3 ? "SkylakeX" : "Haswell";
}

static const char *blas_corename(void) {
    str_fn f = (str_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    const char *s = f ? f() : NULL;
    return s ? s : "";
}

int hs__blas_reselect(const char *core) {
    void_fn quit = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void_fn init = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!quit || !init) return -1;
    const char *old = getenv("OPENBLAS_CORETYPE");
    char *saved = old ? strdup(old) : NULL;
    if (old && !saved) return -1;
    setenv("OPENBLAS_CORETYPE", core, 1);
    quit();
    init();
    if (saved) setenv("OPENBLAS_CORETYPE", saved, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    free(saved);
    return strcasecmp(blas_corename(), core) == 0 ? 0 : -1;
}

static void blas_select(void) {
    snprintf(g_blas.detected, sizeof g_blas.detected, "%s", blas_corename());
    g_blas.env_forced = getenv("OPENBLAS_CORETYPE") != NULL;
    if (g_blas.env_forced || getenv("HS_BLAS_KEEP_KERNEL")) return;
    const char *want = hs__blas_choice(g_blas.detected, hs__cpu_isa_level());
    if (want && hs__blas_reselect(want) == 0) g_blas.switched = 1;
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
void hs__blas_init(void) { pthread_once(&blas_once, blas_select); }
__attribute__((constructor)) static void blas_ctor(void) { hs__blas_init(); }

hs_status hs_blas_get_info(hs_blas_info *out) {
    if (!out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_blas_get_info: NULL output");
    hs__blas_init();
    memset(out, 0, sizeof *out);
    str_fn config = (str_fn)dlsym(RTLD_DEFAULT, "openblas_get_config");
    int_fn parallel = (int_fn)dlsym(RTLD_DEFAULT, "openblas_get_parallel");
    int_fn nthreads = (int_fn)dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    const char *cfg = config ? config() : NULL;
    snprintf(out->library, sizeof out->library, "%s", cfg ? cfg : "unknown BLAS (not OpenBLAS)");
    snprintf(out->kernel, sizeof out->kernel, "%s", blas_corename());
    snprintf(out->detected, sizeof out->detected, "%s", g_blas.detected);
    out->switched = g_blas.switched;
    out->env_forced = g_blas.env_forced;
    int cpu = hs__cpu_isa_level();
    snprintf(out->cpu_kernel, sizeof out->cpu_kernel, "%s", cpu >= 3 ? "SkylakeX" : cpu == 2 ? "Haswell" : "");
    out->below_cpu = cfg && cpu >= 2 && core_level(out->kernel) < cpu;
    out->threads = nthreads ? nthreads() : 1;
#ifdef _OPENMP
    if (parallel && parallel() == 2) out->threads = omp_get_max_threads();   /* the OpenMP build follows OpenMP */
#else
    (void)parallel;
#endif
    return HS_OK;
}
