/* npy.c — NumPy .npy files (format 1.0/2.0/3.0), C order.
 * Reading accepts <f4 <f8 <i4 <i8 |u1 |b1 (and '=' / native); Fortran order is refused. */
#include "core/internal.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

size_t hs_dtype_size(hs_dtype t) {
    switch (t) {
    case HS_F32: case HS_I32: return 4;
    case HS_F64: case HS_I64: return 8;
    case HS_U8: case HS_BOOL: return 1;
    case HS_F16: case HS_BF16: return 2;
    }
    return 0;
}

/* A zero dimension makes the array empty however large the others are (a .npy shape
 * like (2, 5e18, 0) is valid and holds nothing), so it is looked for first; a product
 * that does not fit int64 (not from a checked reader) gives -1. */
int64_t hs_array_numel(const hs_array *a) {
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] < 0 || __builtin_mul_overflow(n, a->shape[i], &n)) return -1;
    return n;
}

void hs_array_free(hs_array *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}

static const char *descr_of(hs_dtype t) {
    switch (t) {
    case HS_F32: return "<f4";
    case HS_F64: return "<f8";
    case HS_I32: return "<i4";
    case HS_I64: return "<i8";
    case HS_U8: return "|u1";
    case HS_BOOL: return "|b1";
    case HS_F16: return "<f2";
    default: return NULL;
    }
}

/* The .npy v1 header (magic, version, length, dict, padding to 64 bytes) of an array. */
hs_status hs_npy_header(const char *path, hs_dtype dtype, int ndim, const int64_t *shape, char *out, size_t cap, size_t *len) {
    const char *descr = descr_of(dtype);
    if (!descr) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: dtype cannot be written to .npy", path);
    if (ndim < 0 || ndim > HS_MAX_DIMS) return hs_errorf(HS_ERR_INVALID_ARG, "%s: bad ndim %d", path, ndim);
    if (ndim > 0 && !shape) return hs_errorf(HS_ERR_INVALID_ARG, "%s: no shape given", path);
    char hdr[512];
    int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return hs_errorf(HS_ERR_INVALID_ARG, "%s: negative dimension", path);
        k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%lld,%s", (long long)shape[i],
                      (ndim > 1 && i == ndim - 1) ? "" : (i == ndim - 1 ? "" : " "));
        if (hs_mul_overflow(n, (size_t)shape[i], &n)) return hs_errorf(HS_ERR_INVALID_ARG, "%s: size overflow", path);
    }
    if (ndim > 1) {  /* numpy writes "(2, 3)"; a single dim is "(5,)" */
        k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
        for (int i = 0; i < ndim; i++)
            k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%lld%s", (long long)shape[i], i + 1 < ndim ? ", " : "");
    }
    k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
    /* pad so that 10 + header length is a multiple of 64, ending with '\n' */
    size_t total = 10 + (size_t)k + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)k + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    if (10 + hlen > cap) return hs_errorf(HS_ERR_INVALID_ARG, "%s: header too long", path);
    memcpy(out, pre, 10);
    memcpy(out + 10, hdr, (size_t)k);
    memset(out + 10 + k, ' ', pad);
    out[10 + hlen - 1] = '\n';
    *len = 10 + hlen;
    return HS_OK;
}

hs_status hs_npy_write(const char *path, hs_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    hs_atomic_file af;
    hs_status s = hs_npy_write_prepared(path, dtype, ndim, shape, data, &af);
    return s ? s : hs_atomic_publish(&af);
}

hs_status hs_npy_write_prepared(const char *path, hs_dtype dtype, int ndim, const int64_t *shape, const void *data,
                                hs_atomic_file *out) {
    char head[640];
    size_t hl;
    hs_status s = hs_npy_header(path, dtype, ndim, shape, head, sizeof head, &hl);
    if (s) return s;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) hs_mul_overflow(n, (size_t)shape[i], &n);
    hs_atomic_file af;
    memset(out, 0, sizeof *out);
    if ((s = hs_atomic_open(path, &af))) return s;
    fwrite(head, 1, hl, af.fp);
    size_t bytes;
    if (hs_mul_overflow(n, hs_dtype_size(dtype), &bytes)) {
        hs_atomic_abort(&af);
        return hs_errorf(HS_ERR_INVALID_ARG, "%s: size overflow", path);
    }
    if (bytes && !data) {
        hs_atomic_abort(&af);
        return hs_errorf(HS_ERR_INVALID_ARG, "%s: no data given", path);
    }
    if (bytes && fwrite(data, 1, bytes, af.fp) != bytes) {
        int e = hs_write_errno();
        hs_atomic_abort(&af);
        return hs_errorf(HS_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    if ((s = hs_atomic_finish(&af))) return s;
    *out = af;
    return HS_OK;
}

static const char *find_key(const char *h, const char *key) {
    const char *p = strstr(h, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

/* Reads the header first, then the data straight into the array's buffer, so a
 * large matrix is held once (not file copy + array copy). */
static hs_status npy_open(const char *path, hs_array *out, FILE **fp, size_t *data_off) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return hs_errorf(HS_ERR_IO, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    unsigned char u[12];
    if (len < 10 || fread(u, 1, 10, f) != 10 || memcmp(u, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return hs_errorf(HS_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    }
    size_t hlen, off;
    if (u[6] == 1) { hlen = u[8] | (size_t)u[9] << 8; off = 10; }
    else if (u[6] == 2 || u[6] == 3) {
        if (len < 12 || fread(u + 10, 1, 2, f) != 2) { fclose(f); return hs_errorf(HS_ERR_FORMAT, "%s: truncated header", path); }
        hlen = u[8] | (size_t)u[9] << 8 | (size_t)u[10] << 16 | (size_t)u[11] << 24;
        off = 12;
    } else { int v = u[6]; fclose(f); return hs_errorf(HS_ERR_UNSUPPORTED, "%s: .npy version %d", path, v); }
    if (hlen > len - off) { fclose(f); return hs_errorf(HS_ERR_FORMAT, "%s: header longer than the file", path); }
    char *h = hs_malloc(hlen + 1);
    if (!h) { fclose(f); return HS_ERR_NOMEM; }
    if (fread(h, 1, hlen, f) != hlen) { free(h); fclose(f); return hs_errorf(HS_ERR_IO, "%s: read failed", path); }
    h[hlen] = 0;
    if (memchr(h, 0, hlen)) { free(h); fclose(f); return hs_errorf(HS_ERR_FORMAT, "%s: malformed header (NUL byte)", path); }
    const char *d = find_key(h, "'descr'"), *fo = find_key(h, "'fortran_order'"), *sh = find_key(h, "'shape'");
    hs_status s = HS_OK;
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') s = hs_errorf(HS_ERR_FORMAT, "%s: malformed header", path);
    else if (strncmp(fo, "False", 5) != 0) s = hs_errorf(HS_ERR_UNSUPPORTED, "%s: Fortran-order arrays are not supported", path);
    if (!s) {
        char descr[8] = {0};
        const char *e = strchr(d + 1, '\'');
        if (!e || e - d - 1 >= (long)sizeof descr) s = hs_errorf(HS_ERR_FORMAT, "%s: malformed descr", path);
        else {
            memcpy(descr, d + 1, (size_t)(e - d - 1));
            if (descr[0] == '=' || descr[0] == '<') descr[0] = '<';
            if (!strcmp(descr, "<f4")) out->dtype = HS_F32;
            else if (!strcmp(descr, "<f8")) out->dtype = HS_F64;
            else if (!strcmp(descr, "<i4")) out->dtype = HS_I32;
            else if (!strcmp(descr, "<i8")) out->dtype = HS_I64;
            else if (!strcmp(descr, "|u1")) out->dtype = HS_U8;
            else if (!strcmp(descr, "|b1")) out->dtype = HS_BOOL;
            else if (!strcmp(descr, "<f2")) out->dtype = HS_F16;
            else s = hs_errorf(HS_ERR_UNSUPPORTED, "%s: dtype '%s' is not supported (<f4 <f8 <i4 <i8 |u1 |b1 <f2)", path, descr);
        }
    }
    size_t n = 1;
    int64_t nz = 1;   /* product of the non-zero dimensions: must fit int64 (hs_array_numel) */
    if (!s) {
        const char *p = sh + 1;
        out->ndim = 0;
        for (;;) {
            while (*p == ' ' || *p == ',') p++;
            if (*p == ')') break;
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 0 || errno || out->ndim >= HS_MAX_DIMS) { s = hs_errorf(HS_ERR_FORMAT, "%s: malformed shape", path); break; }
            out->shape[out->ndim++] = v;
            if (hs_mul_overflow(n, (size_t)v, &n) || (v && __builtin_mul_overflow(nz, (int64_t)v, &nz))) {
                s = hs_errorf(HS_ERR_FORMAT, "%s: shape overflows", path);
                break;
            }
            p = end;
        }
    }
    free(h);
    size_t bytes = 0;
    if (!s && (hs_mul_overflow(n, hs_dtype_size(out->dtype), &bytes) || bytes != len - off - hlen))
        s = hs_errorf(HS_ERR_FORMAT, "%s: data is %zu bytes, the header's shape needs %zu", path, len - off - hlen, bytes);
    if (s) { fclose(f); memset(out, 0, sizeof *out); return s; }
    *fp = f;
    *data_off = off + hlen;
    return HS_OK;
}

hs_status hs_npy_header_read(const char *path, hs_array *meta, size_t *data_offset) {
    FILE *f;
    hs_status s = npy_open(path, meta, &f, data_offset);
    if (!s) fclose(f);
    return s;
}

hs_status hs_npy_read_header(const char *path, hs_array *meta) {
    size_t off;
    hs_status s = hs_npy_header_read(path, meta, &off);
    if (!s) meta->data = NULL;
    return s;
}

hs_status hs_npy_read(const char *path, hs_array *out) {
    FILE *f;
    size_t off;
    hs_status s = npy_open(path, out, &f, &off);
    if (s) return s;
    size_t bytes = (size_t)hs_array_numel(out) * hs_dtype_size(out->dtype);
    {
        out->data = hs_malloc(bytes);
        if (!out->data) s = HS_ERR_NOMEM;
        else if (bytes && fread(out->data, 1, bytes, f) != bytes) s = hs_errorf(HS_ERR_IO, "%s: read failed", path);
    }
    fclose(f);
    if (s) { free(out->data); memset(out, 0, sizeof *out); }
    return s;
}
