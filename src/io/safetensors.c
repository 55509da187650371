/* safetensors.c — see safetensors.h. */
#include "io/safetensors.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool parse_dtype(const char *s, hs_dtype *t) {
    static const struct { const char *name; hs_dtype t; } map[] = {
        {"F32", HS_F32}, {"F16", HS_F16}, {"BF16", HS_BF16}, {"F64", HS_F64},
        {"I64", HS_I64}, {"I32", HS_I32}, {"U8", HS_U8}, {"BOOL", HS_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(s, map[i].name)) { *t = map[i].t; return true; }
    return false;
}

static size_t dtype_bytes_str(const char *s) {
    /* sizes of every dtype the format defines, so unknown-but-valid files still validate */
    static const struct { const char *name; size_t n; } map[] = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2},
        {"F16", 2}, {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(s, map[i].name)) return map[i].n;
    return 0;
}

static int cmp_by_offset(const void *a, const void *b) {
    const hs_st_tensor *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

void hs_st_close(hs_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->path) close(st->fd);   /* path is set only once fd is open */
    free(st->path);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

/* Reads exactly n bytes at off; a short read means the file shrank since it was opened. */
static hs_status read_at(const hs_safetensors *st, void *dst, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(st->fd, (char *)dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return hs_errorf(HS_ERR_IO, "%s: read failed: %s", st->path, strerror(errno));
        if (r == 0)
            return hs_errorf(HS_ERR_FORMAT, "%s: file ended at byte %llu while reading %zu bytes at %llu: truncated "
                             "while being read (is another process rewriting it?)", st->path,
                             (unsigned long long)(off + got), n, (unsigned long long)off);
        got += (size_t)r;
    }
    return HS_OK;
}

/* The file must still be the one parsed at open: same size, same modification time. */
static hs_status check_unchanged(const hs_safetensors *st) {
    struct stat sb;
    if (fstat(st->fd, &sb) != 0) return hs_errorf(HS_ERR_IO, "%s: stat failed: %s", st->path, strerror(errno));
    if ((uint64_t)sb.st_size != st->file_size)
        return hs_errorf(HS_ERR_FORMAT, "%s: file size changed from %llu to %llu bytes since it was opened "
                         "(truncated or rewritten while being read?)", st->path, (unsigned long long)st->file_size,
                         (unsigned long long)sb.st_size);
    if ((int64_t)sb.st_mtim.tv_sec != st->mtime_sec || (int64_t)sb.st_mtim.tv_nsec != st->mtime_nsec)
        return hs_errorf(HS_ERR_FORMAT, "%s: file modified since it was opened (rewritten while being read?)", st->path);
    return HS_OK;
}

hs_status hs_st_open(const char *path, hs_safetensors *st) {
    memset(st, 0, sizeof *st);
    st->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    st->path = hs_strdup(path);
    if (!st->path) { close(st->fd); st->fd = -1; return HS_ERR_NOMEM; }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        hs_st_close(st);
        return hs_errorf(HS_ERR_IO, "%s: not a regular file", path);
    }
    st->file_size = (uint64_t)sb.st_size;
    st->mtime_sec = (int64_t)sb.st_mtim.tv_sec;
    st->mtime_nsec = (int64_t)sb.st_mtim.tv_nsec;
    size_t size = (size_t)sb.st_size;
    if (size == 0) { hs_st_close(st); return hs_errorf(HS_ERR_FORMAT, "%s: file is empty", path); }
    if (size < 8) { hs_st_close(st); return hs_errorf(HS_ERR_FORMAT, "%s: truncated: %zu bytes, no header length", path, size); }
    uint8_t len8[8];
    hs_status s = read_at(st, len8, 8, 0);
    if (s) { hs_st_close(st); return s; }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | len8[i];
    if (n > HS_ST_HEADER_LIMIT) {
        hs_st_close(st);
        return hs_errorf(HS_ERR_FORMAT, "%s: header length %llu exceeds the %u-byte limit (not a safetensors file?)", path,
                         (unsigned long long)n, HS_ST_HEADER_LIMIT);
    }
    if (n > size - 8) {
        hs_st_close(st);
        return hs_errorf(HS_ERR_FORMAT, "%s: header length %llu is beyond the end of the file (%zu bytes): truncated?", path,
                         (unsigned long long)n, size);
    }
    char *hdr = hs_malloc((size_t)n + 1);
    if (!hdr) { hs_st_close(st); return HS_ERR_NOMEM; }
    if ((s = read_at(st, hdr, (size_t)n, 8))) { free(hdr); hs_st_close(st); return s; }
    cJSON *root = cJSON_ParseWithLength(hdr, (size_t)n);
    free(hdr);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        hs_st_close(st);
        return hs_errorf(HS_ERR_FORMAT, "%s: header is not a JSON object", path);
    }
    uint64_t base = 8 + n;
    size_t buf_size = size - 8 - (size_t)n;
    int count = cJSON_GetArraySize(root);
    st->tensors = hs_calloc((size_t)(count > 0 ? count : 1), sizeof *st->tensors);
    if (!st->tensors) { cJSON_Delete(root); hs_st_close(st); return HS_ERR_NOMEM; }
    s = HS_OK;
    for (cJSON *it = root->child; it && !s; it = it->next) {
        const char *name = it->string ? it->string : "?";
        if (!strcmp(name, "__metadata__")) continue;
        if (!cJSON_IsObject(it)) { s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path, name); break; }
        cJSON *jd = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        cJSON *js = cJSON_GetObjectItemCaseSensitive(it, "shape");
        cJSON *jo = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsString(jd) || !cJSON_IsArray(js) || !cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': needs dtype (string), shape (array) and data_offsets ([begin, end])", path, name);
            break;
        }
        hs_st_tensor *t = &st->tensors[st->n_tensors];
        size_t esize = dtype_bytes_str(jd->valuestring);
        if (!esize) { s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path, name, jd->valuestring); break; }
        snprintf(t->dtype_str, sizeof t->dtype_str, "%s", jd->valuestring);
        t->known_dtype = parse_dtype(jd->valuestring, &t->dtype);
        int nd = cJSON_GetArraySize(js);
        if (nd > HS_MAX_DIMS) { s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': %d dimensions (max %d)", path, name, nd, HS_MAX_DIMS); break; }
        size_t numel = 1;
        int k = 0;
        for (cJSON *e = js->child; e; e = e->next, k++) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(v >= 0 && v <= 9.0e15) || v != (double)(int64_t)v) {   /* range before the cast */
                s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': shape entry %d is not a non-negative integer", path, name, k);
                break;
            }
            t->shape[k] = (int64_t)v;
            if (hs_mul_overflow(numel, (size_t)v, &numel)) { s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': shape overflows", path, name); break; }
        }
        if (s) break;
        t->ndim = nd;
        t->numel = (int64_t)numel;
        double b = cJSON_IsNumber(jo->child) ? jo->child->valuedouble : -1;
        double e = cJSON_IsNumber(jo->child->next) ? jo->child->next->valuedouble : -1;
        /* range first (a double beyond uint64 converted to it is undefined); 9e15 < 2^53 keeps
         * every accepted value an exact integer */
        if (!(b >= 0 && b <= 9.0e15) || !(e >= 0 && e <= 9.0e15) || b != (double)(uint64_t)b || e != (double)(uint64_t)e) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': data_offsets must be non-negative integers", path, name);
            break;
        }
        uint64_t ub = (uint64_t)b, ue = (uint64_t)e;
        if (ue < ub) { s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': data_offsets end %llu < begin %llu", path, name, (unsigned long long)ue, (unsigned long long)ub); break; }
        if (ue > buf_size) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] beyond the data buffer (%zu bytes): truncated file?",
                          path, name, (unsigned long long)ub, (unsigned long long)ue, buf_size);
            break;
        }
        size_t want;
        if (hs_mul_overflow(numel, esize, &want) || want != ue - ub) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: tensor '%s': %llu bytes of data but shape x %s needs %zu", path, name,
                          (unsigned long long)(ue - ub), jd->valuestring, numel * esize);
            break;
        }
        t->offset = base + ub;
        t->nbytes = (size_t)(ue - ub);
        t->name = hs_strdup(name);
        if (!t->name) { s = HS_ERR_NOMEM; break; }
        st->n_tensors++;
    }
    cJSON_Delete(root);
    if (!s && st->n_tensors > 1) {
        /* overlap check on a sorted copy */
        hs_st_tensor *sorted = hs_malloc((size_t)st->n_tensors * sizeof *sorted);
        if (!sorted) s = HS_ERR_NOMEM;
        else {
            memcpy(sorted, st->tensors, (size_t)st->n_tensors * sizeof *sorted);
            qsort(sorted, (size_t)st->n_tensors, sizeof *sorted, cmp_by_offset);
            for (int i = 1; i < st->n_tensors && !s; i++) {
                const hs_st_tensor *a = &sorted[i - 1], *b = &sorted[i];
                if (a->nbytes && b->nbytes && a->offset + a->nbytes > b->offset)
                    s = hs_errorf(HS_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data buffer", path, a->name, b->name);
            }
            free(sorted);
        }
    }
    if (s) hs_st_close(st);
    return s;
}

const hs_st_tensor *hs_st_find(const hs_safetensors *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

hs_status hs_st_to_f32(const hs_safetensors *st, const hs_st_tensor *t, float *dst) {
    int64_t n = t->numel;
    if (!t->known_dtype || (t->dtype != HS_F32 && t->dtype != HS_F16 && t->dtype != HS_BF16 && t->dtype != HS_F64))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s cannot be used as float weights (F32, F16, BF16, F64)",
                         st->path, t->name, t->dtype_str);
    hs_status s = check_unchanged(st);
    if (s) return hs_error_prefix(s, "tensor '%s'", t->name);
    if (t->dtype == HS_F32) {
        s = read_at(st, dst, (size_t)n * 4, t->offset);
    } else {
        /* through a bounce buffer, a chunk at a time: 2- or 8-byte elements to float */
        size_t esize = t->dtype == HS_F64 ? 8 : 2, chunk = (size_t)1 << 16;
        uint8_t *buf = hs_malloc(chunk * esize);
        if (!buf) return HS_ERR_NOMEM;
        for (int64_t i0 = 0; i0 < n && !s; i0 += (int64_t)chunk) {
            size_t m = (size_t)(n - i0) < chunk ? (size_t)(n - i0) : chunk;
            if ((s = read_at(st, buf, m * esize, t->offset + (uint64_t)i0 * esize))) break;
            const uint8_t *p = buf;
            float *o = dst + i0;
            switch (t->dtype) {
            case HS_F16:
                for (size_t i = 0; i < m; i++) o[i] = hs_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
                break;
            case HS_BF16:
                for (size_t i = 0; i < m; i++) o[i] = hs_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
                break;
            default:
                for (size_t i = 0; i < m; i++) { double v; memcpy(&v, p + 8 * i, 8); o[i] = (float)v; }
                break;
            }
        }
        free(buf);
    }
    if (!s) s = check_unchanged(st);   /* rewritten (same size) while we read it */
    if (s) return hs_error_prefix(s, "tensor '%s'", t->name);
    return HS_OK;
}

hs_status hs_st_read_raw(const hs_safetensors *st, const hs_st_tensor *t, void *dst) {
    if (!t->known_dtype || (t->dtype != HS_F32 && t->dtype != HS_F16 && t->dtype != HS_BF16))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s cannot be kept as stored float weights (F32, F16, BF16)",
                         st->path, t->name, t->dtype_str);
    hs_status s = check_unchanged(st);
    if (!s) s = read_at(st, dst, t->nbytes, t->offset);
    if (!s) s = check_unchanged(st);
    if (s) return hs_error_prefix(s, "tensor '%s'", t->name);
    return HS_OK;
}
