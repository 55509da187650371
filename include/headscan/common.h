/* headscan/common.h — status codes, errors, logging, arrays and .npy files.
 *
 * Every fallible call in headscan returns an hs_status. HS_OK is 0. On failure the
 * library records a message naming the file and what is wrong; read it with
 * hs_last_error() (per thread) or with the handle's own accessor
 * (hs_model_error(), hs_tokenizer_error(), ...). The library never prints or
 * exits; it logs only through a callback set with hs_set_log_callback().
 */
#ifndef HEADSCAN_COMMON_H
#define HEADSCAN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HS_API __declspec(dllexport)
#else
#define HS_API __attribute__((visibility("default")))
#endif

#define HS_VERSION_STRING "0.1.0"

typedef enum hs_status {
    HS_OK = 0,
    HS_ERR_INVALID_ARG,   /* a caller passed something out of range */
    HS_ERR_IO,            /* a file could not be opened, read or written */
    HS_ERR_FORMAT,        /* a file's contents are malformed */
    HS_ERR_UNSUPPORTED,   /* well formed, but not something headscan handles */
    HS_ERR_NOMEM,         /* an allocation failed or would exceed a limit */
    HS_ERR_NOT_FOUND,     /* a named thing (tensor, file, hook, token) is absent */
    HS_ERR_NETWORK,       /* transfer failed */
    HS_ERR_AUTH,          /* 401/403 from a server */
    HS_ERR_CANCELLED,     /* a callback asked to stop, or a signal arrived */
    HS_ERR_INTERNAL       /* a bug in headscan */
} hs_status;

HS_API const char *hs_status_str(hs_status s);
/* Detailed message for the last failure on this thread ("" when none). */
HS_API const char *hs_last_error(void);
HS_API const char *hs_version(void);

/* Log levels for the optional callback. */
typedef enum { HS_LOG_DEBUG = 0, HS_LOG_INFO, HS_LOG_WARN } hs_log_level;
typedef void (*hs_log_fn)(hs_log_level level, const char *msg, void *user);
HS_API void hs_set_log_callback(hs_log_fn fn, void *user);

/* ---------------------------------------------------------------------------
 * Arrays (.npy compatible). Data is C order, little-endian.
 */
typedef enum hs_dtype {
    HS_F32 = 0, HS_F64, HS_I32, HS_I64, HS_U8, HS_BOOL, HS_F16, HS_BF16
} hs_dtype;

#define HS_MAX_DIMS 8
typedef struct hs_array {
    hs_dtype dtype;
    int ndim;
    int64_t shape[HS_MAX_DIMS];
    void *data;          /* owned when read with hs_npy_read; free with hs_array_free */
} hs_array;

HS_API size_t hs_dtype_size(hs_dtype t);
HS_API int64_t hs_array_numel(const hs_array *a);
HS_API void hs_array_free(hs_array *a);
/* Reads a .npy file (f4, f8, i4, i8, u1, b1; C order; little-endian or native). */
HS_API hs_status hs_npy_read(const char *path, hs_array *out);
/* Reads only the header of a .npy file: dtype, ndim and shape into *meta (data NULL). */
HS_API hs_status hs_npy_read_header(const char *path, hs_array *meta);
/* Writes a .npy file atomically (temporary name in the same folder, then rename). */
HS_API hs_status hs_npy_write(const char *path, hs_dtype dtype, int ndim,
                              const int64_t *shape, const void *data);

/* Writes `len` bytes to `path` atomically: nothing appears under `path` unless the
 * whole content was written and flushed. */
HS_API hs_status hs_write_file_atomic(const char *path, const void *data, size_t len);

/* Number of worker threads the library uses (default: all cores). */
/* For programs: on SIGINT, SIGTERM or SIGHUP, remove the temporary files of outputs not
 * yet complete, then die of the signal. Outputs already under their final name (a
 * previous run's) are left as they are; a signal the caller ignores stays ignored. */
HS_API void hs_cleanup_on_signals(void);

HS_API void hs_set_num_threads(int n);
HS_API int hs_get_num_threads(void);

/* The BLAS headscan's matrix products run on. headscan links OpenBLAS (its OpenMP
 * build). Debian's OpenBLAS 0.3.21 does not recognise some newer x86-64 CPUs and falls
 * back to its generic SSE3 "Prescott" kernels (about 4x slower). When
 * OPENBLAS_CORETYPE is not set and OpenBLAS chose such a generic core on a CPU with
 * AVX2+FMA (AVX-512), headscan switches it to "Haswell" ("SkylakeX") when the library
 * is loaded. The kernels differ only in float32 summation order. A user's
 * OPENBLAS_CORETYPE is respected; HS_BLAS_KEEP_KERNEL=1 keeps OpenBLAS's own choice. */
typedef struct hs_blas_info {
    char library[160];   /* the BLAS's build string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... USE_OPENMP ..." */
    char kernel[32];     /* the kernel set in use, e.g. "SkylakeX" */
    char detected[32];   /* the one OpenBLAS chose by itself */
    int threads;         /* threads a BLAS call uses */
    int switched;        /* 1 when headscan replaced `detected` with `kernel` */
    int env_forced;      /* 1 when OPENBLAS_CORETYPE was set by the user */
    char cpu_kernel[32]; /* the OpenBLAS core for this CPU's ISA level ("SkylakeX" for AVX-512,
                            "Haswell" for AVX2+FMA, "" below); differs from `kernel` in level
                            only when OPENBLAS_CORETYPE forces a slower core (below_cpu) */
    int below_cpu;       /* 1 when the kernel in use is below this CPU's ISA level */
} hs_blas_info;
HS_API hs_status hs_blas_get_info(hs_blas_info *out);

#ifdef __cplusplus
}
#endif
#endif
