/* util.c — checked allocation, whole-file reads, mmap, atomic output, f16/bf16. */
#define _GNU_SOURCE
#include "core/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdatomic.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

bool hs_mul_overflow(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out); }

void *hs_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) hs_errorf(HS_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *hs_calloc(size_t count, size_t size) {
    size_t n;
    if (hs_mul_overflow(count, size, &n)) {
        hs_errorf(HS_ERR_NOMEM, "allocation size overflows (%zu x %zu)", count, size);
        return NULL;
    }
    void *p = calloc(n ? count : 1, n ? size : 1);
    if (!p) hs_errorf(HS_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *hs_aligned_alloc(size_t n) {
    void *p = NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n || posix_memalign(&p, 64, rounded ? rounded : 64) != 0) {
        hs_errorf(HS_ERR_NOMEM, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void hs_aligned_free(void *p) { free(p); }

char *hs_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = hs_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *hs_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = hs_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

hs_status hs_read_file(const char *path, size_t limit, char **data, size_t *len) {
    *data = NULL;
    if (len) *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hs_errorf(HS_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (limit && size > limit) {
        close(fd);
        return hs_errorf(HS_ERR_FORMAT, "%s: file is %zu bytes, more than the limit of %zu", path, size, limit);
    }
    char *buf = hs_malloc(size + 1);
    if (!buf) { close(fd); return hs_error_prefix(HS_ERR_NOMEM, "%s", path); }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(buf);
            close(fd);
            return hs_errorf(HS_ERR_IO, "%s: read failed after %zu of %zu bytes", path, got, size);
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = 0;
    *data = buf;
    if (len) *len = size;
    return HS_OK;
}

hs_status hs_mmap_open(const char *path, hs_mmap *m) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hs_errorf(HS_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return hs_errorf(HS_ERR_FORMAT, "%s: file is empty", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return hs_errorf(HS_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    m->data = p;
    m->size = (size_t)st.st_size;
    return HS_OK;
}

void hs_mmap_close(hs_mmap *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

static atomic_uint tmp_counter;

hs_status hs_atomic_open(const char *path, hs_atomic_file *af) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path) + 64;
    af->path = hs_strdup(path);
    af->tmp = hs_malloc(n);
    if (!af->path || !af->tmp) {
        free(af->path);
        free(af->tmp);
        return HS_ERR_NOMEM;
    }
    snprintf(af->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
    hs_temp_register(af->tmp);   /* before it exists, so a signal cannot miss it */
    af->fp = fopen(af->tmp, "wbx");
    if (!af->fp) {
        hs_status s = hs_errorf(HS_ERR_IO, "%s: cannot create: %s", af->tmp, strerror(errno));
        hs_temp_unregister(af->tmp);
        free(af->path);
        free(af->tmp);
        memset(af, 0, sizeof *af);
        return s;
    }
    af->fd = fileno(af->fp);
    af->fp = hs_fault_wrap(af->fp);   /* HS_FAULT_WRITE_AFTER (tests) */
    return HS_OK;
}

void hs_atomic_abort(hs_atomic_file *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp) {
        unlink(af->tmp);
        hs_temp_unregister(af->tmp);
    }
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
}

hs_status hs_atomic_finish(hs_atomic_file *af) {
    hs_status s = HS_OK;
    /* fflush retries what is still buffered, so after an earlier failed write errno says
     * why (ENOSPC for a full disk) */
    errno = 0;
    bool bad = fflush(af->fp) != 0;
    int e = hs_write_errno();
    bad = bad || ferror(af->fp);
    if (!bad && fsync(af->fd) != 0) { bad = true; e = errno; }
    if (bad) s = hs_errorf(HS_ERR_IO, "%s: write failed: %s", af->path, strerror(e ? e : EIO));
    if (fclose(af->fp) != 0 && s == HS_OK)
        s = hs_errorf(HS_ERR_IO, "%s: write failed: %s", af->path, strerror(errno));
    af->fp = NULL;
    if (s) hs_atomic_abort(af);
    return s;
}

hs_status hs_atomic_publish(hs_atomic_file *af) {
    hs_fault_commit_delay();
    return hs_atomic_rename(af);
}

hs_status hs_atomic_rename(hs_atomic_file *af) {
    hs_status s = HS_OK;
    if (rename(af->tmp, af->path) != 0) {
        s = hs_errorf(HS_ERR_IO, "%s: cannot rename into place: %s", af->path, strerror(errno));
        unlink(af->tmp);
    }
    hs_temp_unregister(af->tmp);   /* after the rename: until then a signal removes it */
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
    return s;
}

hs_status hs_atomic_commit(hs_atomic_file *af) {
    hs_status s = hs_atomic_finish(af);
    return s ? s : hs_atomic_publish(af);
}

hs_status hs_write_file_prepared(const char *path, const void *data, size_t len, hs_atomic_file *af) {
    hs_status s = hs_atomic_open(path, af);
    if (s) return s;
    if (len && fwrite(data, 1, len, af->fp) != len) {
        s = hs_errorf(HS_ERR_IO, "%s: write failed: %s", path, strerror(hs_write_errno()));
        hs_atomic_abort(af);
        return s;
    }
    return hs_atomic_finish(af);
}

hs_status hs_write_file_atomic(const char *path, const void *data, size_t len) {
    hs_atomic_file af;
    hs_status s = hs_write_file_prepared(path, data, len, &af);
    return s ? s : hs_atomic_publish(&af);
}

float hs_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: value = man * 2^-24, exact in f32 */
            float v = (float)man * 0x1p-24f;
            memcpy(&bits, &v, 4);
            bits |= sign;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t hs_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0);
    if (ax >= 0x477ff000u) return sign | 0x7c00; /* rounds to inf */
    if (ax < 0x38800000u) { /* subnormal or zero in f16 */
        float a;
        memcpy(&a, &ax, 4);
        float scaled = a * 0x1p24f; /* exact */
        uint32_t m = (uint32_t)lrintf(scaled); /* round half to even (default mode) */
        return sign | (uint16_t)m;
    }
    uint32_t man = ax & 0x7fffff, exp = (ax >> 23) - 112;
    uint32_t h = (exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return sign | (uint16_t)h;
}

static int num_threads_setting;

void hs_set_num_threads(int n) {
    num_threads_setting = n > 0 ? n : 0;
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#endif
}

int hs_get_num_threads(void) {
#ifdef _OPENMP
    return num_threads_setting ? num_threads_setting : omp_get_max_threads();
#else
    return 1;
#endif
}
