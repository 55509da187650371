/* internal.h — helpers shared by every part of the library (not public).
 *
 * Errors: hs_errorf() records a message for the calling thread and returns the
 * status, so failures read `return hs_errorf(HS_ERR_FORMAT, "%s: ...", path);`.
 */
#ifndef HS_INTERNAL_H
#define HS_INTERNAL_H

#include "headscan/common.h"
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#define HS_ERRMSG_MAX 1024

hs_status hs_errorf(hs_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the current thread's message with "context: ". Returns s. */
hs_status hs_error_prefix(hs_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hs_error_clear(void);
/* Copies the thread's last message into a handle's buffer. */
void hs_error_copy(char *dst, size_t cap);
void hs_log(hs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation with overflow checks; failures set an error. */
void *hs_malloc(size_t n);
void *hs_calloc(size_t count, size_t size);
void *hs_aligned_alloc(size_t n);           /* 64-byte aligned, zeroed; free with hs_aligned_free */
void hs_aligned_free(void *p);
bool hs_mul_overflow(size_t a, size_t b, size_t *out);
char *hs_strdup(const char *s);
char *hs_path_join(const char *dir, const char *name);   /* malloc'd */

/* Reads a whole file (NUL-terminated copy). Limit in bytes; 0 = none. */
hs_status hs_read_file(const char *path, size_t limit, char **data, size_t *len);

/* A read-only memory mapping of a whole file. */
typedef struct hs_mmap { const uint8_t *data; size_t size; } hs_mmap;
hs_status hs_mmap_open(const char *path, hs_mmap *m);
void hs_mmap_close(hs_mmap *m);

/* Atomic output: write to "<path>.tmp.<pid>.<n>", then hs_atomic_commit renames. */
typedef struct hs_atomic_file { FILE *fp; char *path; char *tmp; int fd; } hs_atomic_file;
hs_status hs_atomic_open(const char *path, hs_atomic_file *af);
hs_status hs_atomic_commit(hs_atomic_file *af);   /* flush, fsync, rename; closes */
void hs_atomic_abort(hs_atomic_file *af);         /* closes and unlinks the temporary */
/* The two halves of commit, for outputs that go together (a .npy and its sidecar):
 * finish every file first (flush, fsync, close: where a full disk shows), publish them
 * only when all finished, so a failure leaves every previous output as it was.
 * finish aborts on failure; after success, publish renames (or abort drops) it. */
hs_status hs_atomic_finish(hs_atomic_file *af);
hs_status hs_atomic_publish(hs_atomic_file *af);
/* hs_atomic_publish without the injected commit delay (a pair calls the delay once). */
hs_status hs_atomic_rename(hs_atomic_file *af);
/* hs_write_file_atomic / hs_npy_write up to a finished (unpublished) temporary. */
hs_status hs_write_file_prepared(const char *path, const void *data, size_t len, hs_atomic_file *af);
hs_status hs_npy_write_prepared(const char *path, hs_dtype dtype, int ndim, const int64_t *shape, const void *data,
                                hs_atomic_file *af);

/* faults.c: temporaries of unfinished outputs (removed on SIGINT/SIGTERM/SIGHUP once
 * hs_cleanup_on_signals() is called), the HS_FAULT_WRITE_AFTER=N injected full disk (a
 * stream that fails with ENOSPC after N bytes; fp itself when unset), and memory. */
void hs_temp_register(const char *tmp);
void hs_temp_unregister(const char *tmp);
FILE *hs_fault_wrap(FILE *fp);
void hs_fault_commit_delay(void);  /* HS_FAULT_COMMIT_DELAY_MS: a pause before the rename */
void hs_fault_pair_delay(void);    /* HS_FAULT_PAIR_DELAY_MS: a pause between a pair's renames */
void hs_fault_batch(int64_t batch); /* HS_FAULT_BATCH_DELAY_MS, HS_FAULT_CRASH_AT_BATCH (streaming scans) */
bool hs_fault_write_budget(size_t bytes);   /* false once HS_FAULT_WRITE_AFTER bytes are spent */
int hs_write_errno(void);          /* errno of the last failed write (the injected one when set) */
/* A fatal signal between defer and resume (nestable) waits until resume, then acts. */
void hs_signals_defer(void);
void hs_signals_resume(void);

/* blas.c: the kernel correction (runs once, from a constructor; safe to call again). */
void hs__blas_init(void);
/* This CPU's ISA level as the OS enables it: 3 AVX-512 (F/BW/VL/DQ/CD), 2 AVX2+FMA, 1 AVX, 0 older. */
int hs__cpu_isa_level(void);
/* The core to switch to when OpenBLAS chose `current` on a CPU of ISA level `cpu`
 * (3 AVX-512, 2 AVX2+FMA, 1 AVX, 0 older), or NULL to keep it. */
const char *hs__blas_choice(const char *current, int cpu);
/* Re-initialises OpenBLAS with `core` (environment restored); 0 when it took effect. */
int hs__blas_reselect(const char *core);
/* Bytes this process may still allocate: min(MemAvailable, cgroup memory.max - current,
 * RLIMIT_AS - address space in use). */
size_t hs_memory_available(void);
/* HS_ERR_NOMEM "<what> needs N MB, M MB available" when need > hs_memory_available(). */
hs_status hs_memory_check(size_t need, const char *what);

/* npy.c: the v1 header of an array (*len bytes into out); the dtype, shape (data NULL) and
 * data offset of a .npy file whose size matches its header. */
hs_status hs_npy_header(const char *path, hs_dtype dtype, int ndim, const int64_t *shape, char *out, size_t cap, size_t *len);
hs_status hs_npy_header_read(const char *path, hs_array *meta, size_t *data_offset);

/* Exact IEEE conversions. */
float hs_f16_to_f32(uint16_t h);
static inline float hs_bf16_to_f32(uint16_t h) {   /* inline: the widening loops vectorise it */
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
uint16_t hs_f32_to_f16(float f);   /* round to nearest even */


#endif
