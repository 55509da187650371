/* parquet.c — Parquet footer: Thrift compact decoder, schema flattening into leaf
 * columns (dotted paths, definition/repetition levels), row groups and column chunks.
 * Field ids and enum values follow parquet.thrift (apache/parquet-format). */
#include "data/parquet_impl.h"
#include <stdlib.h>
#include <string.h>

/* ---- Thrift compact protocol ------------------------------------------------ */

bool tc_fail(tc_reader *c, const char *msg) {
    if (!c->err) c->err = msg;
    c->p = c->end;
    return false;
}

bool tc_varint(tc_reader *c, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->err) return false;
        if (c->p >= c->end) return tc_fail(c, "truncated varint");
        uint8_t b = *c->p++;
        if (shift == 63 && (b & 0x7e)) return tc_fail(c, "varint overflows 64 bits");
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return true; }
    }
    return tc_fail(c, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

bool tc_i64(tc_reader *c, int64_t *v) {
    uint64_t u;
    if (!tc_varint(c, &u)) return false;
    *v = unzigzag(u);
    return true;
}

bool tc_i32(tc_reader *c, int32_t *v) {
    int64_t x;
    if (!tc_i64(c, &x)) return false;
    if (x < INT32_MIN || x > INT32_MAX) return tc_fail(c, "i32 value out of range");
    *v = (int32_t)x;
    return true;
}

bool tc_binary(tc_reader *c, const uint8_t **s, size_t *n) {
    uint64_t len;
    if (!tc_varint(c, &len)) return false;
    if (len > (uint64_t)(c->end - c->p)) return tc_fail(c, "string longer than the bytes left");
    *s = c->p;
    *n = (size_t)len;
    c->p += len;
    return true;
}

bool tc_field(tc_reader *c, int *last, int *type, int *id) {
    if (c->err) return false;
    if (c->p >= c->end) return tc_fail(c, "truncated struct");
    uint8_t b = *c->p++;
    *type = b & 0x0f;
    if (*type == TC_STOP) { *id = 0; return true; }
    if (*type > TC_STRUCT) return tc_fail(c, "invalid Thrift field type");
    int delta = b >> 4;
    if (delta) {
        *id = *last + delta;
    } else {
        int32_t x;
        if (!tc_i32(c, &x)) return false;
        if (x < INT16_MIN || x > INT16_MAX) return tc_fail(c, "field id out of range");
        *id = x;
    }
    *last = *id;
    return true;
}

bool tc_field_i32(tc_reader *c, int type, int32_t *v) {
    if (type != TC_I32 && type != TC_I16 && type != TC_BYTE) return tc_fail(c, "expected an integer field");
    if (type == TC_BYTE) {
        if (c->p >= c->end) return tc_fail(c, "truncated byte");
        *v = (int8_t)*c->p++;
        return true;
    }
    return tc_i32(c, v);
}

bool tc_field_i64(tc_reader *c, int type, int64_t *v) {
    if (type == TC_I64) return tc_i64(c, v);
    int32_t x;
    if (!tc_field_i32(c, type, &x)) return tc_fail(c, "expected an i64 field");
    *v = x;
    return true;
}

bool tc_field_bool(tc_reader *c, int type, bool *v) {
    if (type != TC_TRUE && type != TC_FALSE) return tc_fail(c, "expected a bool field");
    *v = type == TC_TRUE;
    return true;
}

bool tc_list_begin(tc_reader *c, int *elem_type, uint32_t *count) {
    if (c->err) return false;
    if (c->p >= c->end) return tc_fail(c, "truncated list header");
    uint8_t b = *c->p++;
    *elem_type = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15 && !tc_varint(c, &n)) return false;
    if (*elem_type == TC_STOP || *elem_type > TC_STRUCT) return tc_fail(c, "invalid list element type");
    /* every element takes at least one byte: bounds any allocation by the input size */
    if (n > (uint64_t)(c->end - c->p)) return tc_fail(c, "list longer than the bytes left");
    *count = (uint32_t)n;
    return true;
}

bool tc_struct_begin(tc_reader *c) {
    if (c->err) return false;
    if (++c->depth > HS_PQ_MAX_DEPTH) return tc_fail(c, "Thrift structs nested too deeply");
    return true;
}

void tc_struct_end(tc_reader *c) { c->depth--; }

static bool tc_advance(tc_reader *c, size_t n) {
    if (n > (size_t)(c->end - c->p)) return tc_fail(c, "truncated value");
    c->p += n;
    return true;
}

/* Recursion depth is bounded by HS_PQ_MAX_DEPTH via tc_struct_begin. */
bool tc_skip(tc_reader *c, int type) {
    uint64_t u;
    const uint8_t *s;
    size_t n;
    switch (type) {
    case TC_TRUE: case TC_FALSE: return !c->err;
    case TC_BYTE: return tc_advance(c, 1);
    case TC_I16: case TC_I32: case TC_I64: return tc_varint(c, &u);
    case TC_DOUBLE: return tc_advance(c, 8);
    case TC_BINARY: return tc_binary(c, &s, &n);
    case TC_LIST: case TC_SET: {
        int et;
        uint32_t cnt;
        if (!tc_list_begin(c, &et, &cnt) || !tc_struct_begin(c)) return false;
        for (uint32_t i = 0; i < cnt; i++) {
            /* bool list elements are one byte each */
            if (et == TC_TRUE || et == TC_FALSE) { if (!tc_advance(c, 1)) return false; }
            else if (!tc_skip(c, et)) return false;
        }
        tc_struct_end(c);
        return !c->err;
    }
    case TC_MAP: {
        uint64_t cnt;
        if (!tc_varint(c, &cnt)) return false;
        if (cnt == 0) return true;
        if (cnt > (uint64_t)(c->end - c->p)) return tc_fail(c, "map longer than the bytes left");
        if (c->p >= c->end) return tc_fail(c, "truncated map");
        uint8_t kv = *c->p++;
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == TC_STOP || kt > TC_STRUCT || vt == TC_STOP || vt > TC_STRUCT) return tc_fail(c, "invalid map types");
        if (!tc_struct_begin(c)) return false;
        for (uint64_t i = 0; i < cnt; i++) {
            for (int k = 0; k < 2; k++) {
                int t = k ? vt : kt;
                if (t == TC_TRUE || t == TC_FALSE) { if (!tc_advance(c, 1)) return false; }
                else if (!tc_skip(c, t)) return false;
            }
        }
        tc_struct_end(c);
        return !c->err;
    }
    case TC_STRUCT: {
        if (!tc_struct_begin(c)) return false;
        int last = 0, t, id;
        while (tc_field(c, &last, &t, &id) && t != TC_STOP)
            if (!tc_skip(c, t)) return false;
        tc_struct_end(c);
        return !c->err;
    }
    default:
        return tc_fail(c, "invalid Thrift type");
    }
}

/* ---- schema ------------------------------------------------------------------ */

typedef struct schema_el {
    bool has_type, has_children;
    int32_t type, type_length, repetition, num_children, converted;
    bool string_logical;
    const uint8_t *name;
    size_t name_len;
} schema_el;

static bool parse_logical_type(tc_reader *c, bool *is_string) {
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        if (id == 1 || id == 4 || id == 12) *is_string = true;   /* STRING, ENUM, JSON */
        if (!tc_skip(c, t)) return false;
    }
    tc_struct_end(c);
    return !c->err;
}

static bool parse_schema_el(tc_reader *c, schema_el *e) {
    memset(e, 0, sizeof *e);
    e->converted = -1;
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        switch (id) {
        case 1: ok = tc_field_i32(c, t, &e->type); e->has_type = true; break;
        case 2: ok = tc_field_i32(c, t, &e->type_length); break;
        case 3: ok = tc_field_i32(c, t, &e->repetition); break;
        case 4: ok = t == TC_BINARY ? tc_binary(c, &e->name, &e->name_len) : tc_fail(c, "schema name is not a string"); break;
        case 5: ok = tc_field_i32(c, t, &e->num_children); e->has_children = true; break;
        case 6: ok = tc_field_i32(c, t, &e->converted); break;
        case 10: ok = t == TC_STRUCT ? parse_logical_type(c, &e->string_logical) : tc_fail(c, "logicalType is not a struct"); break;
        default: ok = tc_skip(c, t);
        }
        if (!ok) return false;
    }
    tc_struct_end(c);
    if (c->err) return false;
    if (e->has_type && (e->type < 0 || e->type > HS_PQ_FIXED_LEN_BYTE_ARRAY)) return tc_fail(c, "invalid physical type in schema");
    if (e->repetition < 0 || e->repetition > 2) return tc_fail(c, "invalid repetition type in schema");
    if (e->num_children < 0) return tc_fail(c, "negative num_children in schema");
    if (e->type == HS_PQ_FIXED_LEN_BYTE_ARRAY && e->has_type && !e->has_children && e->type_length <= 0)
        return tc_fail(c, "FIXED_LEN_BYTE_ARRAY without a positive type_length");
    return true;
}

/* Flattens the depth-first schema list into leaf columns. */
static hs_status build_columns(hs_parquet *pq, const schema_el *el, uint32_t n) {
    if (n == 0) return hs_errorf(HS_ERR_FORMAT, "%s: empty schema", pq->name);
    struct frame { int32_t left; int def, rep; size_t pathlen; } st[HS_PQ_MAX_DEPTH];
    char path[HS_PQ_MAX_NAME + 1];
    int sp = 0, nleaves = 0;
    /* count leaves first so one allocation suffices */
    for (uint32_t i = 1; i < n; i++) nleaves += !el[i].has_children;
    if (nleaves > HS_PQ_MAX_COLUMNS) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %d columns (limit %d)", pq->name, nleaves, HS_PQ_MAX_COLUMNS);
    pq->cols = hs_calloc(nleaves ? (size_t)nleaves : 1, sizeof *pq->cols);
    if (!pq->cols) return HS_ERR_NOMEM;
    if (el[0].num_children > 0) st[sp++] = (struct frame){ el[0].num_children, 0, 0, 0 };
    for (uint32_t i = 1; i < n; i++) {
        if (sp == 0) return hs_errorf(HS_ERR_FORMAT, "%s: schema has elements outside the root's children", pq->name);
        struct frame *top = &st[sp - 1];
        top->left--;
        const schema_el *e = &el[i];
        int def = top->def + (e->repetition != 0), rep = top->rep + (e->repetition == 2);
        size_t pl = top->pathlen;
        if (pl + (pl > 0) + e->name_len > HS_PQ_MAX_NAME)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: column path longer than %d bytes", pq->name, HS_PQ_MAX_NAME);
        if (pl) path[pl++] = '.';
        if (e->name_len) memcpy(path + pl, e->name, e->name_len);
        pl += e->name_len;
        path[pl] = 0;
        if (e->has_children) {
            if (e->num_children > 0) {
                if (sp >= HS_PQ_MAX_DEPTH) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: schema nested deeper than %d", pq->name, HS_PQ_MAX_DEPTH);
                st[sp++] = (struct frame){ e->num_children, def, rep, pl };
            }
        } else {
            if (!e->has_type) return hs_errorf(HS_ERR_FORMAT, "%s: schema leaf '%s' has no type", pq->name, path);
            hs_pq_column_info *ci = &pq->cols[pq->ncols++];
            ci->path = hs_strdup(path);
            if (!ci->path) return HS_ERR_NOMEM;
            ci->physical_type = e->type;
            ci->type_length = e->type_length;
            ci->is_string = e->converted == 0 || e->converted == 4 || e->converted == 19 || e->string_logical;
            ci->max_def = def;
            ci->max_rep = rep;
        }
        while (sp > 0 && st[sp - 1].left == 0) sp--;
    }
    if (sp != 0) return hs_errorf(HS_ERR_FORMAT, "%s: schema ends before all children were listed", pq->name);
    return HS_OK;
}

/* ---- row groups ---------------------------------------------------------------- */

static bool parse_column_meta(tc_reader *c, pq_chunk *k) {
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    bool got_type = false, got_codec = false, got_nv = false, got_size = false, got_off = false;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        int32_t x;
        switch (id) {
        case 1: ok = tc_field_i32(c, t, &x); k->type = x; got_type = true; break;
        case 4: ok = tc_field_i32(c, t, &x); k->codec = x; got_codec = true; break;
        case 5: ok = tc_field_i64(c, t, &k->num_values); got_nv = true; break;
        case 7: ok = tc_field_i64(c, t, &k->total_compressed_size); got_size = true; break;
        case 9: ok = tc_field_i64(c, t, &k->data_page_offset); got_off = true; break;
        case 11: ok = tc_field_i64(c, t, &k->dict_page_offset); k->has_dict_offset = true; break;
        default: ok = tc_skip(c, t);
        }
        if (!ok) return false;
    }
    tc_struct_end(c);
    if (c->err) return false;
    if (!got_type || !got_codec || !got_nv || !got_size || !got_off) return tc_fail(c, "column metadata lacks a required field");
    return true;
}

static bool parse_column_chunk(tc_reader *c, pq_chunk *k) {
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        if (id == 1 && t == TC_BINARY) { k->external = true; ok = tc_skip(c, t); }
        else if (id == 3 && t == TC_STRUCT) { ok = parse_column_meta(c, k); k->has_meta = ok; }
        else ok = tc_skip(c, t);
        if (!ok) return false;
    }
    tc_struct_end(c);
    return !c->err;
}

static hs_status parse_row_group(hs_parquet *pq, tc_reader *c, int g) {
    if (!tc_struct_begin(c)) return HS_ERR_FORMAT;
    int last = 0, t, id;
    bool got_rows = false, got_cols = false;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        if (id == 1 && t == TC_LIST) {
            int et;
            uint32_t cnt;
            if (!tc_list_begin(c, &et, &cnt)) return HS_ERR_FORMAT;
            if (et != TC_STRUCT) { tc_fail(c, "row group columns are not structs"); return HS_ERR_FORMAT; }
            if (cnt != (uint32_t)pq->ncols)
                return hs_errorf(HS_ERR_FORMAT, "%s: row group %d has %u column chunks, the schema %d columns",
                                 pq->name, g, cnt, pq->ncols);
            for (uint32_t i = 0; i < cnt; i++)
                if (!parse_column_chunk(c, &pq->chunks[(size_t)g * pq->ncols + i])) return HS_ERR_FORMAT;
            ok = true;
            got_cols = true;
        } else if (id == 3) {
            ok = tc_field_i64(c, t, &pq->rg_rows[g]);
            got_rows = true;
        } else {
            ok = tc_skip(c, t);
        }
        if (!ok) return HS_ERR_FORMAT;
    }
    tc_struct_end(c);
    if (c->err) return HS_ERR_FORMAT;
    if (!got_rows || !got_cols) { tc_fail(c, "row group lacks num_rows or columns"); return HS_ERR_FORMAT; }
    if (pq->rg_rows[g] < 0) return hs_errorf(HS_ERR_FORMAT, "%s: row group %d has a negative row count", pq->name, g);
    return HS_OK;
}

/* ---- FileMetaData ------------------------------------------------------------ */

static hs_status parse_footer(hs_parquet *pq, tc_reader *c) {
    schema_el *els = NULL;
    uint32_t nel = 0;
    bool got_schema = false, got_rows = false, got_rgs = false;
    hs_status st = HS_OK;
    if (!tc_struct_begin(c)) return HS_ERR_FORMAT;
    int last = 0, t, id;
    while (st == HS_OK && tc_field(c, &last, &t, &id) && t != TC_STOP) {
        int et;
        uint32_t cnt;
        if (id == 2 && t == TC_LIST && !got_schema) {
            if (!tc_list_begin(c, &et, &cnt)) break;
            if (et != TC_STRUCT) { tc_fail(c, "schema is not a list of structs"); break; }
            els = hs_calloc(cnt ? cnt : 1, sizeof *els);
            if (!els) { st = HS_ERR_NOMEM; break; }
            for (nel = 0; nel < cnt; nel++)
                if (!parse_schema_el(c, &els[nel])) break;
            if (c->err) break;
            got_schema = true;
            st = build_columns(pq, els, nel);
        } else if (id == 3) {
            if (!tc_field_i64(c, t, &pq->num_rows)) break;
            got_rows = true;
        } else if (id == 4 && t == TC_LIST && got_schema && !got_rgs) {
            if (!tc_list_begin(c, &et, &cnt)) break;
            if (et != TC_STRUCT) { tc_fail(c, "row_groups is not a list of structs"); break; }
            if (cnt > INT32_MAX / 2) { tc_fail(c, "too many row groups"); break; }
            size_t nchunks;
            if (hs_mul_overflow(cnt, (size_t)pq->ncols, &nchunks) || nchunks > (size_t)(c->end - c->p)) {
                tc_fail(c, "more column chunks than the footer can hold");
                break;
            }
            pq->rg_rows = hs_calloc(cnt ? cnt : 1, sizeof *pq->rg_rows);
            pq->rg_first_row = hs_calloc(cnt ? cnt : 1, sizeof *pq->rg_first_row);
            pq->chunks = hs_calloc(nchunks ? nchunks : 1, sizeof *pq->chunks);
            if (!pq->rg_rows || !pq->rg_first_row || !pq->chunks) { st = HS_ERR_NOMEM; break; }
            pq->nrg = (int)cnt;
            for (uint32_t g = 0; g < cnt && st == HS_OK && !c->err; g++) st = parse_row_group(pq, c, (int)g);
            got_rgs = true;
        } else if (id == 6 && t == TC_BINARY) {
            const uint8_t *s;
            size_t n;
            if (!tc_binary(c, &s, &n)) break;
            free(pq->created_by);
            pq->created_by = hs_malloc(n + 1);
            if (!pq->created_by) { st = HS_ERR_NOMEM; break; }
            memcpy(pq->created_by, s, n);
            pq->created_by[n] = 0;
        } else if (!tc_skip(c, t)) {
            break;
        }
    }
    free(els);
    if (st != HS_OK) return st;
    if (c->err) return HS_ERR_FORMAT;
    tc_struct_end(c);
    if (!got_schema || !got_rows) return hs_errorf(HS_ERR_FORMAT, "%s: footer lacks the schema or num_rows", pq->name);
    if (got_rgs && !got_schema) return hs_errorf(HS_ERR_FORMAT, "%s: row groups before the schema", pq->name);
    if (pq->num_rows < 0) return hs_errorf(HS_ERR_FORMAT, "%s: negative num_rows", pq->name);
    int64_t sum = 0;
    for (int g = 0; g < pq->nrg; g++) {
        pq->rg_first_row[g] = sum;
        if (pq->rg_rows[g] > INT64_MAX - sum) return hs_errorf(HS_ERR_FORMAT, "%s: row counts overflow", pq->name);
        sum += pq->rg_rows[g];
    }
    if (sum != pq->num_rows)
        return hs_errorf(HS_ERR_FORMAT, "%s: num_rows is %lld but the row groups hold %lld rows",
                         pq->name, (long long)pq->num_rows, (long long)sum);
    return HS_OK;
}

static hs_status open_common(hs_parquet *pq) {
    const uint8_t *d = pq->data;
    size_t n = pq->size;
    if (n < 12 || memcmp(d, "PAR1", 4) != 0)
        return hs_errorf(HS_ERR_FORMAT, "%s: not a Parquet file (no PAR1 magic at the start)", pq->name);
    if (memcmp(d + n - 4, "PARE", 4) == 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: encrypted Parquet footer is not supported", pq->name);
    if (memcmp(d + n - 4, "PAR1", 4) != 0)
        return hs_errorf(HS_ERR_FORMAT, "%s: no PAR1 magic at the end (truncated file?)", pq->name);
    uint32_t flen = (uint32_t)d[n - 8] | (uint32_t)d[n - 7] << 8 | (uint32_t)d[n - 6] << 16 | (uint32_t)d[n - 5] << 24;
    if (flen > n - 12 || flen > HS_PQ_MAX_FOOTER)
        return hs_errorf(HS_ERR_FORMAT, "%s: footer length %u does not fit in the file (%zu bytes)", pq->name, flen, n);
    pq->footer_start = n - 8 - flen;
    tc_reader c = { d + pq->footer_start, d + n - 8, 0, NULL };
    hs_status st = parse_footer(pq, &c);
    if (c.err)
        return hs_errorf(HS_ERR_FORMAT, "%s: corrupt footer (Thrift metadata) at byte %zu: %s", pq->name,
                         (size_t)(c.p - d), c.err);
    return st;
}

static hs_status finish_open(hs_parquet *pq, hs_status st, hs_parquet **out) {
    if (st != HS_OK) {
        hs_parquet_close(pq);
        return st;
    }
    *out = pq;
    return HS_OK;
}

hs_status hs_parquet_open(const char *path, hs_parquet **out) {
    *out = NULL;
    hs_parquet *pq = hs_calloc(1, sizeof *pq);
    if (!pq) return HS_ERR_NOMEM;
    pq->name = hs_strdup(path);
    if (!pq->name) return finish_open(pq, HS_ERR_NOMEM, out);
    hs_status st = hs_mmap_open(path, &pq->map);
    if (st == HS_OK) {
        pq->data = pq->map.data;
        pq->size = pq->map.size;
        st = open_common(pq);
    }
    return finish_open(pq, st, out);
}

hs_status hs_parquet_open_memory(const void *data, size_t size, const char *name, hs_parquet **out) {
    *out = NULL;
    hs_parquet *pq = hs_calloc(1, sizeof *pq);
    if (!pq) return HS_ERR_NOMEM;
    pq->name = hs_strdup(name ? name : "(memory)");
    if (!pq->name) return finish_open(pq, HS_ERR_NOMEM, out);
    pq->data = data;
    pq->size = size;
    return finish_open(pq, data ? open_common(pq) : hs_errorf(HS_ERR_INVALID_ARG, "%s: no data", pq->name), out);
}

void hs_parquet_close(hs_parquet *pq) {
    if (!pq) return;
    hs_mmap_close(&pq->map);
    for (int i = 0; i < pq->ncols; i++) free((char *)pq->cols[i].path);
    free(pq->cols);
    free(pq->rg_rows);
    free(pq->rg_first_row);
    free(pq->chunks);
    free(pq->created_by);
    free(pq->name);
    free(pq);
}

int64_t hs_parquet_num_rows(const hs_parquet *pq) { return pq->num_rows; }
int hs_parquet_num_row_groups(const hs_parquet *pq) { return pq->nrg; }
int hs_parquet_num_columns(const hs_parquet *pq) { return pq->ncols; }
const char *hs_parquet_created_by(const hs_parquet *pq) { return pq->created_by ? pq->created_by : ""; }

const hs_pq_column_info *hs_parquet_column(const hs_parquet *pq, int col) {
    return col >= 0 && col < pq->ncols ? &pq->cols[col] : NULL;
}

static const char *type_name(int t) {
    static const char *names[] = { "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
    return t >= 0 && t <= 7 ? names[t] : "?";
}

static bool is_text_column(const hs_pq_column_info *c) {
    return c->physical_type == HS_PQ_BYTE_ARRAY && c->max_rep == 0;
}

/* "a (BYTE_ARRAY string), b (INT64), ..." into buf; text_only keeps readable text columns. */
static void list_columns(const hs_parquet *pq, bool text_only, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < pq->ncols && k + 1 < cap; i++) {
        const hs_pq_column_info *c = &pq->cols[i];
        if (text_only && !is_text_column(c)) continue;
        int w = snprintf(buf + k, cap - k, "%s%s (%s%s%s)", k ? ", " : "", c->path, type_name(c->physical_type),
                         c->is_string ? " string" : "", c->max_rep ? ", repeated" : "");
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k == 0) snprintf(buf, cap, "none");
}

hs_status hs_parquet_column_find(const hs_parquet *pq, const char *name, int *col) {
    for (int i = 0; i < pq->ncols; i++)
        if (strcmp(pq->cols[i].path, name) == 0) { *col = i; return HS_OK; }
    char cols[600];
    list_columns(pq, false, cols, sizeof cols);
    return hs_errorf(HS_ERR_NOT_FOUND, "%s: no column '%s'; columns: %s", pq->name, name, cols);
}

hs_status hs_parquet_text_column(const hs_parquet *pq, const char *name, int *col) {
    char cols[600];
    for (int i = 0; i < pq->ncols; i++) {
        if (strcmp(pq->cols[i].path, name) != 0) continue;
        if (is_text_column(&pq->cols[i])) { *col = i; return HS_OK; }
        list_columns(pq, true, cols, sizeof cols);
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: column '%s' is %s%s, not a string column; string columns: %s", pq->name,
                         name, type_name(pq->cols[i].physical_type), pq->cols[i].max_rep ? " inside a list" : "", cols);
    }
    list_columns(pq, true, cols, sizeof cols);
    bool group = false;   /* a struct such as `meta`: its leaves are "meta.x" */
    size_t nl = strlen(name);
    for (int i = 0; i < pq->ncols && !group; i++)
        group = strncmp(pq->cols[i].path, name, nl) == 0 && pq->cols[i].path[nl] == '.';
    return hs_errorf(HS_ERR_NOT_FOUND, "%s: %s '%s'; string columns: %s", pq->name,
                     group ? "cannot read the nested group" : "no column", name, cols);
}
