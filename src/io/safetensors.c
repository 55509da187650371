/* safetensors.c — see safetensors.h. */
#include "io/safetensors.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

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
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

void hs_st_close(hs_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    free(st->path);
    hs_mmap_close(&st->map);
    memset(st, 0, sizeof *st);
}

hs_status hs_st_open(const char *path, hs_safetensors *st) {
    memset(st, 0, sizeof *st);
    hs_status s = hs_mmap_open(path, &st->map);
    if (s) return s;
    st->path = hs_strdup(path);
    if (!st->path) { hs_st_close(st); return HS_ERR_NOMEM; }
    const uint8_t *d = st->map.data;
    size_t size = st->map.size;
    if (size < 8) { hs_st_close(st); return hs_errorf(HS_ERR_FORMAT, "%s: truncated: %zu bytes, no header length", path, size); }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | d[i];
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
    cJSON *root = cJSON_ParseWithLength((const char *)d + 8, (size_t)n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        hs_st_close(st);
        return hs_errorf(HS_ERR_FORMAT, "%s: header is not a JSON object", path);
    }
    const uint8_t *base = d + 8 + n;
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
        t->data = base + ub;
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
                if (a->nbytes && b->nbytes && a->data + a->nbytes > b->data)
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
    const uint8_t *p = t->data;
    int64_t n = t->numel;
    if (!t->known_dtype || (t->dtype != HS_F32 && t->dtype != HS_F16 && t->dtype != HS_BF16 && t->dtype != HS_F64))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s cannot be used as float weights (F32, F16, BF16, F64)",
                         st->path, t->name, t->dtype_str);
    switch (t->dtype) {
    case HS_F32: memcpy(dst, p, (size_t)n * 4); break;
    case HS_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = hs_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case HS_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = hs_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case HS_F64:
        for (int64_t i = 0; i < n; i++) { double v; memcpy(&v, p + 8 * i, 8); dst[i] = (float)v; }
        break;
    default: break;
    }
    return HS_OK;
}
