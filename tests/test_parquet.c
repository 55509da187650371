/* test_parquet.c — the Parquet column reader against independent truth:
 *  1. apache/parquet-testing files vs apache/expected/<name>.jsonl (rows as read by
 *     hyparquet): every flat column whose expected values are strings, {"$hex": …},
 *     integers or null is read and compared value by value;
 *  2. our npm-written fixtures (parquet-wasm / hyparquet-writer) vs the dev.jsonl
 *     documents they were made from (recipes in shared/tools/make-fixtures.sh):
 *     `text` and, where it is a struct, `meta.pile_set_name`; null positions and the
 *     three null policies;
 *  3. API behaviour: column lookup errors, refusing nested/boolean columns. */
#include "data/parquet.h"
#include "test.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define PQDIR HS_SHARED_DIR "/data/parquet"

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

/* Splits a file into lines (in place); returns the count. */
static int split_lines(char *data, size_t len, char ***lines) {
    int n = 0, cap = 1024;
    *lines = malloc(sizeof(char *) * (size_t)cap);
    char *p = data, *end = data + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = 0;
        if (nl > p) {
            if (n == cap) *lines = realloc(*lines, sizeof(char *) * (size_t)(cap *= 2));
            (*lines)[n++] = p;
        }
        p = nl + 1;
    }
    return n;
}

/* ---- values as expected ---------------------------------------------------- */

typedef struct expect_val { bool is_null; char *data; size_t len; } expect_val;

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* JSON value → expected bytes: string (UTF-8), {"$hex": ...}, integer (little-endian
 * `width` bytes), null. Returns false when the value is of another kind. */
static bool to_expect(const cJSON *v, int width, expect_val *e) {
    memset(e, 0, sizeof *e);
    if (!v || cJSON_IsNull(v)) { e->is_null = true; return true; }
    if (cJSON_IsString(v) && width == 0) {
        e->len = strlen(v->valuestring);
        e->data = malloc(e->len + 1);
        memcpy(e->data, v->valuestring, e->len);
        return true;
    }
    const cJSON *hex = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "$hex") : NULL;
    if (hex && cJSON_IsString(hex) && width == 0) {
        const char *h = hex->valuestring;
        e->len = strlen(h) / 2;
        e->data = malloc(e->len + 1);
        for (size_t i = 0; i < e->len; i++) e->data[i] = (char)(hexval(h[2 * i]) * 16 + hexval(h[2 * i + 1]));
        return true;
    }
    if (cJSON_IsNumber(v) && (width == 4 || width == 8)) {
        double d = v->valuedouble;
        if (d != (double)(int64_t)d || d > 9007199254740992.0 || d < -9007199254740992.0) return false;  /* exact in a double */
        int64_t x = (int64_t)d;
        e->len = (size_t)width;
        e->data = malloc(8);
        for (int i = 0; i < width; i++) e->data[i] = (char)((uint64_t)x >> (8 * i));
        return true;
    }
    return false;
}

/* Reads column `col` and compares with exp[0..n). Returns the number of mismatches. */
static int compare_column(hs_parquet *pq, int col, const expect_val *exp, int64_t n, const char *what) {
    hs_pq_reader *r;
    hs_status st = hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r);
    CHECK_OK(st);
    if (st) return 1;
    int bad = 0;
    int64_t i = 0, nulls = 0;
    for (;; i++) {
        hs_pq_value v;
        bool eof;
        st = hs_parquet_reader_next(r, &v, &eof);
        if (st) { CHECK(0, "%s: row %lld: %s", what, (long long)i, hs_last_error()); bad++; break; }
        if (eof) break;
        if (i >= n) { CHECK(0, "%s: more than %lld rows", what, (long long)n); bad++; break; }
        nulls += v.is_null;
        bool same = v.row == i && v.is_null == exp[i].is_null &&
                    (v.is_null || (v.len == exp[i].len && memcmp(v.data, exp[i].data, v.len) == 0));
        if (!same && bad++ < 3)
            CHECK(0, "%s: row %lld differs (got %s, %zu bytes; want %s, %zu bytes)", what, (long long)i,
                  v.is_null ? "null" : "value", v.len, exp[i].is_null ? "null" : "value", exp[i].len);
    }
    if (!st && i != n) { CHECK(0, "%s: %lld rows, want %lld", what, (long long)i, (long long)n); bad++; }
    int64_t want_nulls = 0;
    for (int64_t k = 0; k < n; k++) want_nulls += exp[k].is_null;
    if (!st) CHECK(hs_parquet_reader_nulls(r) == want_nulls && nulls == want_nulls, "%s: null count", what);
    hs_parquet_reader_free(r);
    test_checks++;
    if (bad) test_failures++;
    return bad;
}

/* Reads the column one row group at a time (as parallel readers would) and checks the
 * pieces tile the expected rows. */
static void compare_groups(hs_parquet *pq, int col, const expect_val *exp, int64_t n, const char *what) {
    int64_t next = 0;
    int bad = 0;
    for (int g = 0; g < hs_parquet_num_row_groups(pq); g++) {
        hs_pq_reader *r;
        CHECK_OK(hs_parquet_reader_open_groups(pq, col, HS_PQ_NULLS_RETURN, g, 1, &r));
        if (!r) return;
        hs_pq_value v;
        bool eof;
        hs_status st;
        while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) {
            bad += v.row != next || next >= n || v.is_null != exp[next].is_null ||
                   (!v.is_null && (v.len != exp[next].len || memcmp(v.data, exp[next].data, v.len) != 0));
            next++;
        }
        CHECK_OK(st);
        hs_parquet_reader_free(r);
    }
    CHECK(bad == 0 && next == n, "%s: by row group: %d bad, %lld of %lld rows", what, bad, (long long)next, (long long)n);
    hs_pq_reader *r;
    CHECK(hs_parquet_reader_open_groups(pq, col, HS_PQ_NULLS_RETURN, 1, hs_parquet_num_row_groups(pq), &r) == HS_ERR_INVALID_ARG,
          "%s: range past the last group accepted", what);
}

/* ---- 1. apache/parquet-testing ----------------------------------------------- */

static void test_apache(void) {
    const char *dir = PQDIR "/apache/expected";
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    if (!d) return;
    struct dirent *de;
    int files = 0, columns = 0;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 7 || strcmp(de->d_name + nl - 6, ".jsonl") != 0) continue;
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(nl - 6), de->d_name);
        char pqname[300];
        snprintf(pqname, sizeof pqname, "%s.parquet", base);
        char *jpath = join(dir, de->d_name), *ppath = join(PQDIR "/apache", pqname);
        char *text;
        size_t tlen;
        CHECK_OK(hs_read_file(jpath, 0, &text, &tlen));
        char **lines;
        int nrows = split_lines(text, tlen, &lines);
        cJSON **rows = calloc((size_t)nrows + 1, sizeof *rows);
        for (int i = 0; i < nrows; i++) {
            rows[i] = cJSON_Parse(lines[i]);
            CHECK(rows[i] != NULL, "%s line %d: bad JSON", jpath, i + 1);
        }
        hs_parquet *pq;
        hs_status st = hs_parquet_open(ppath, &pq);
        CHECK_OK(st);
        int compared = 0;
        if (!st && nrows > 0 && rows[0]) {
            CHECK(hs_parquet_num_rows(pq) == nrows, "%s: %lld rows, expected %d", ppath, (long long)hs_parquet_num_rows(pq), nrows);
            for (const cJSON *key = rows[0]->child; key; key = key->next) {
                int col;
                if (hs_parquet_column_find(pq, key->string, &col) != HS_OK) continue;   /* struct/list: not flat */
                const hs_pq_column_info *ci = hs_parquet_column(pq, col);
                if (ci->max_rep > 0 || ci->physical_type == HS_PQ_BOOLEAN) continue;
                /* 0: bytes (strings, $hex); 4/8: integers; -1: other types, nulls only */
                int width = ci->physical_type == HS_PQ_INT32 ? 4 : ci->physical_type == HS_PQ_INT64 ? 8
                          : ci->physical_type == HS_PQ_BYTE_ARRAY ? 0 : -1;
                expect_val *exp = calloc((size_t)nrows, sizeof *exp);
                bool ok = true;
                for (int i = 0; i < nrows && ok; i++)
                    ok = rows[i] && to_expect(cJSON_GetObjectItemCaseSensitive(rows[i], key->string), width, &exp[i]);
                if (ok) {
                    char what[400];
                    snprintf(what, sizeof what, "%s column %s", pqname, key->string);
                    compare_column(pq, col, exp, nrows, what);
                    compared++;
                }
                for (int i = 0; i < nrows; i++) free(exp[i].data);
                free(exp);
            }
            hs_parquet_close(pq);
        }
        /* only nulls.snappy.parquet (a struct) has no flat string/integer column */
        CHECK(compared > 0 || strcmp(base, "nulls.snappy") == 0, "%s: no column compared", pqname);
        printf("  %-48s %d columns\n", pqname, compared);
        columns += compared;
        files++;
        for (int i = 0; i < nrows; i++) cJSON_Delete(rows[i]);
        free(rows);
        free(lines);
        free(text);
        free(jpath);
        free(ppath);
    }
    closedir(d);
    CHECK(files >= 20, "only %d expected files", files);
    printf("apache: %d files, %d columns compared\n", files, columns);
}

/* ---- 2. npm-written fixtures vs dev.jsonl ------------------------------------- */

/* Decodes the JSON string starting at s (just after the opening quote) into out;
 * unlike cJSON it keeps \u0000. Returns the length. */
static size_t json_string(const char *s, char *out) {
    size_t k = 0;
    while (*s && *s != '"') {
        if (*s != '\\') { out[k++] = *s++; continue; }
        s++;
        char c = *s++;
        if (c != 'u') { out[k++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c; continue; }
        unsigned cp = 0;
        for (int i = 0; i < 4; i++) cp = cp * 16 + (unsigned)hexval(*s++);
        if (cp >= 0xd800 && cp < 0xdc00 && s[0] == '\\' && s[1] == 'u') {
            unsigned lo = 0;
            for (int i = 0; i < 4; i++) lo = lo * 16 + (unsigned)hexval(s[2 + i]);
            if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); s += 6; }
        }
        if (cp < 0x80) out[k++] = (char)cp;
        else if (cp < 0x800) { out[k++] = (char)(0xc0 | cp >> 6); out[k++] = (char)(0x80 | (cp & 63)); }
        else if (cp < 0x10000) { out[k++] = (char)(0xe0 | cp >> 12); out[k++] = (char)(0x80 | (cp >> 6 & 63)); out[k++] = (char)(0x80 | (cp & 63)); }
        else { out[k++] = (char)(0xf0 | cp >> 18); out[k++] = (char)(0x80 | (cp >> 12 & 63)); out[k++] = (char)(0x80 | (cp >> 6 & 63)); out[k++] = (char)(0x80 | (cp & 63)); }
    }
    return k;
}

typedef struct doc { char *text; size_t len; char *pile_set_name; } doc;

/* How each fixture was made (shared/tools/make-fixtures.sh). */
typedef struct recipe { const char *file; int skip, limit; bool lines; int null_every; } recipe;
static const recipe recipes[] = {
    { "dev.uncompressed.parquet", 0, -1, false, 0 },
    { "dev.snappy.parquet", 0, -1, false, 0 },
    { "dev.gzip.rg64.p64k.parquet", 0, -1, false, 0 },
    { "dev.zstd.v2.parquet", 0, -1, false, 0 },
    { "dev.snappy.rg7.p8k.parquet", 0, 120, false, 0 },
    { "dict-lines.snappy.parquet", 0, 60, true, 0 },
    { "dict-fallback.parquet", 0, 60, false, 0 },
    { "nulls.snappy.parquet", 0, 80, false, 5 },
    { "nulls.hyparquet.gzip.parquet", 80, 40, false, 4 },
    { "pile10k-shaped.parquet", 0, -1, false, 0 },
    { "pile10k-shaped.meta-string.parquet", 0, 100, false, 0 },
    { "dev.hyparquet.snappy.parquet", 0, 100, false, 0 },
    { "delta-length.zstd.v2.parquet", 0, 40, false, 0 },
    { "delta-byte-array.v2.parquet", 0, 40, false, 0 },
    { "brotli.parquet", 0, 30, false, 0 },
    { "lz4raw.parquet", 0, 30, false, 0 },
    { "empty.parquet", 0, 0, false, 0 },
};

static void test_null_policies(const char *path, const expect_val *exp, int64_t n) {
    hs_parquet *pq;
    if (hs_parquet_open(path, &pq)) return;
    int col;
    CHECK_OK(hs_parquet_text_column(pq, "text", &col));
    hs_pq_reader *r;
    /* SKIP: exactly the non-null rows, with their row numbers */
    CHECK_OK(hs_parquet_reader_open(pq, col, HS_PQ_NULLS_SKIP, &r));
    int64_t want = 0, bad = 0, got = 0, first_null = -1;
    for (int64_t i = 0; i < n; i++) if (exp[i].is_null && first_null < 0) first_null = i;
    hs_pq_value v;
    bool eof;
    for (int64_t i = 0; i < n; i++) {
        if (exp[i].is_null) continue;
        want++;
        if (hs_parquet_reader_next(r, &v, &eof) || eof) { bad++; break; }
        got++;
        bad += v.is_null || v.row != i || v.len != exp[i].len || memcmp(v.data, exp[i].data, v.len) != 0;
    }
    CHECK(!hs_parquet_reader_next(r, &v, &eof) && eof, "%s: SKIP: extra rows", path);
    CHECK(bad == 0 && got == want, "%s: SKIP: %lld bad, %lld of %lld rows", path, (long long)bad, (long long)got, (long long)want);
    CHECK(hs_parquet_reader_nulls(r) == n - want, "%s: SKIP counted %lld nulls", path, (long long)hs_parquet_reader_nulls(r));
    hs_parquet_reader_free(r);
    /* ERROR: fails at the first null, naming its row */
    CHECK_OK(hs_parquet_reader_open(pq, col, HS_PQ_NULLS_ERROR, &r));
    hs_status st = HS_OK;
    int64_t rows = 0;
    while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) rows++;
    char want_msg[64];
    snprintf(want_msg, sizeof want_msg, "row %lld is null", (long long)first_null);
    CHECK(st == HS_ERR_FORMAT && rows == first_null && strstr(hs_last_error(), want_msg), "%s: ERROR policy: %s", path, hs_last_error());
    /* the reader stays failed */
    CHECK(hs_parquet_reader_next(r, &v, &eof) == HS_ERR_FORMAT, "%s: reader did not stay failed", path);
    hs_parquet_reader_free(r);
    hs_parquet_close(pq);
}

static void test_fixtures(void) {
    /* the corpus: one document per line, `text` decoded by hand (cJSON stops at \u0000) */
    char *data;
    size_t len;
    CHECK_OK(hs_read_file(HS_SHARED_DIR "/data/corpus/dev.jsonl", 0, &data, &len));
    char **lines;
    int ndocs = split_lines(data, len, &lines);
    doc *docs = calloc((size_t)ndocs, sizeof *docs);
    for (int i = 0; i < ndocs; i++) {
        const char *pre = "{\"text\": \"";
        CHECK(strncmp(lines[i], pre, strlen(pre)) == 0, "dev.jsonl line %d does not start with the text", i + 1);
        docs[i].text = malloc(strlen(lines[i]) + 1);
        docs[i].len = json_string(lines[i] + strlen(pre), docs[i].text);
        cJSON *j = cJSON_Parse(lines[i]);
        const cJSON *m = j ? cJSON_GetObjectItemCaseSensitive(j, "meta") : NULL;
        const cJSON *p = m ? cJSON_GetObjectItemCaseSensitive(m, "pile_set_name") : NULL;
        if (p && cJSON_IsString(p)) docs[i].pile_set_name = strdup(p->valuestring);
        cJSON_Delete(j);
    }
    CHECK(ndocs == 322, "dev.jsonl has %d documents", ndocs);

    char *man;
    size_t mlen;
    CHECK_OK(hs_read_file(PQDIR "/MANIFEST.jsonl", 0, &man, &mlen));
    char **mlines;
    int nman = split_lines(man, mlen, &mlines);
    int done = 0;
    for (int f = 0; f < nman; f++) {
        cJSON *m = cJSON_Parse(mlines[f]);
        const cJSON *jf = cJSON_GetObjectItemCaseSensitive(m, "file"), *jr = cJSON_GetObjectItemCaseSensitive(m, "rows");
        CHECK(jf && jr, "MANIFEST line %d", f + 1);
        if (!jf || !jr) { cJSON_Delete(m); continue; }
        const recipe *rc = NULL;
        for (size_t k = 0; k < sizeof recipes / sizeof *recipes; k++)
            if (strcmp(recipes[k].file, jf->valuestring) == 0) rc = &recipes[k];
        CHECK(rc != NULL, "no recipe for %s", jf->valuestring);
        if (!rc) { cJSON_Delete(m); continue; }
        /* expected rows, as make-parquet.mjs builds them */
        int end = rc->limit < 0 ? ndocs : rc->skip + rc->limit;
        int64_t cap = 0;
        for (int i = rc->skip; i < end; i++) {
            if (!rc->lines) { cap++; continue; }
            for (size_t k = 0; k < docs[i].len; k++) cap += docs[i].text[k] == '\n';
            cap++;
        }
        expect_val *text = calloc((size_t)cap + 1, sizeof *text), *meta = calloc((size_t)cap + 1, sizeof *meta);
        int64_t n = 0;
        for (int i = rc->skip; i < end; i++) {
            if (!rc->lines) {
                text[n].data = docs[i].text;
                text[n].len = docs[i].len;
                meta[n].data = docs[i].pile_set_name;
                meta[n].len = docs[i].pile_set_name ? strlen(docs[i].pile_set_name) : 0;
                meta[n].is_null = !docs[i].pile_set_name;
                n++;
                continue;
            }
            const char *s = docs[i].text, *e = s + docs[i].len;
            for (;;) {
                const char *nl = memchr(s, '\n', (size_t)(e - s));
                text[n].data = (char *)s;
                text[n].len = (size_t)((nl ? nl : e) - s);
                meta[n].data = docs[i].pile_set_name;
                meta[n].len = docs[i].pile_set_name ? strlen(docs[i].pile_set_name) : 0;
                n++;
                if (!nl) break;
                s = nl + 1;
            }
        }
        if (rc->null_every)
            for (int64_t i = 0; i < n; i++) if ((i + 1) % rc->null_every == 0) text[i] = (expect_val){ true, NULL, 0 };
        CHECK(n == (int64_t)jr->valuedouble, "%s: recipe gives %lld rows, MANIFEST %g", rc->file, (long long)n, jr->valuedouble);

        char *path = join(PQDIR, rc->file);
        hs_parquet *pq;
        hs_status st = hs_parquet_open(path, &pq);
        CHECK_OK(st);
        if (!st) {
            CHECK(hs_parquet_num_rows(pq) == n, "%s: %lld rows", rc->file, (long long)hs_parquet_num_rows(pq));
            int col;
            st = hs_parquet_text_column(pq, "text", &col);
            CHECK_OK(st);
            if (!st) compare_column(pq, col, text, n, rc->file);
            if (!st && hs_parquet_num_row_groups(pq) > 1) compare_groups(pq, col, text, n, rc->file);
            if (hs_parquet_column_find(pq, "meta.pile_set_name", &col) == HS_OK) {
                char what[300];
                snprintf(what, sizeof what, "%s meta.pile_set_name", rc->file);
                compare_column(pq, col, meta, n, what);
            }
            hs_parquet_close(pq);
            if (rc->null_every) test_null_policies(path, text, n);
            done++;
        }
        free(path);
        free(text);
        free(meta);
        cJSON_Delete(m);
    }
    CHECK(done == 17, "%d of 17 fixtures read", done);
    printf("fixtures: %d files compared with dev.jsonl\n", done);
    for (int i = 0; i < ndocs; i++) { free(docs[i].text); free(docs[i].pile_set_name); }
    free(docs);
    free(lines);
    free(data);
    free(mlines);
    free(man);
}

/* ---- 3. API errors ------------------------------------------------------------ */

static void test_api(void) {
    hs_parquet *pq;
    CHECK_OK(hs_parquet_open(PQDIR "/pile10k-shaped.parquet", &pq));
    if (!pq) return;
    int col;
    CHECK(hs_parquet_text_column(pq, "meta", &col) == HS_ERR_NOT_FOUND && strstr(hs_last_error(), "nested") &&
          strstr(hs_last_error(), "text (BYTE_ARRAY string)"), "meta: %s", hs_last_error());
    CHECK(hs_parquet_text_column(pq, "nope", &col) == HS_ERR_NOT_FOUND && strstr(hs_last_error(), "pile10k-shaped.parquet") &&
          strstr(hs_last_error(), "meta.pile_set_name"), "nope: %s", hs_last_error());
    CHECK_OK(hs_parquet_text_column(pq, "meta.pile_set_name", &col));
    hs_parquet_close(pq);

    CHECK_OK(hs_parquet_open(PQDIR "/dict-lines.snappy.parquet", &pq));
    if (!pq) return;
    CHECK(hs_parquet_text_column(pq, "doc", &col) == HS_ERR_UNSUPPORTED && strstr(hs_last_error(), "INT64"), "doc: %s", hs_last_error());
    hs_parquet_close(pq);

    CHECK_OK(hs_parquet_open(PQDIR "/apache/datapage_v2.snappy.parquet", &pq));
    if (!pq) return;
    hs_pq_reader *r;
    CHECK(hs_parquet_column_find(pq, "e.list.element", &col) == HS_OK || hs_parquet_column_find(pq, "e.list.item", &col) == HS_OK,
          "list column: %s", hs_last_error());
    CHECK(hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r) == HS_ERR_UNSUPPORTED && strstr(hs_last_error(), "repeated"),
          "list column: %s", hs_last_error());
    CHECK(hs_parquet_column_find(pq, "d", &col) == HS_OK, "d");
    CHECK(hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r) == HS_ERR_UNSUPPORTED, "boolean column");
    hs_parquet_close(pq);

    CHECK(hs_parquet_open(PQDIR "/missing.parquet", &pq) == HS_ERR_IO && strstr(hs_last_error(), "missing.parquet"), "missing file");
    CHECK(hs_parquet_open(HS_SHARED_DIR "/data/corpus/dev.jsonl", &pq) == HS_ERR_FORMAT && strstr(hs_last_error(), "PAR1"),
          "not parquet: %s", hs_last_error());
}

int main(void) {
    test_apache();
    test_fixtures();
    test_api();
    return test_report("test_parquet");
}
