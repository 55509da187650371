/* test_parquet_synth.c — hand-built Parquet files for cases no fixture has: LZ4 (codec 5)
 * as an LZ4 frame or a bare block, v2 pages stored uncompressed under a codec, empty row
 * groups, and targeted corruptions (absurd counts, deep Thrift nesting, bad levels and
 * indices) that must fail with a specific message. The files are written in memory
 * with a minimal Thrift compact encoder following parquet.thrift; the truth for the
 * readable ones is the list of strings they were built from. */
#include "data/parquet.h"
#include "test.h"
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable byte buffer + Thrift compact encoder ---------------------------- */

typedef struct wb { uint8_t *p; size_t n, cap; int last[32]; int sp; } wb;

static void put(wb *w, const void *d, size_t n) {
    if (n == 0) return;
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}
static void put8(wb *w, unsigned v) { uint8_t b = (uint8_t)v; put(w, &b, 1); }
static void put_le32(wb *w, uint32_t v) { for (int i = 0; i < 4; i++) put8(w, (v >> (8 * i)) & 255); }
static void varint(wb *w, uint64_t v) { while (v >= 128) { put8(w, (unsigned)(v & 127) | 128); v >>= 7; } put8(w, (unsigned)v); }
static void zz(wb *w, int64_t v) { varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

enum { T_TRUE = 1, T_FALSE = 2, T_I32 = 5, T_I64 = 6, T_BIN = 8, T_LIST = 9, T_STRUCT = 12 };

static void fhdr(wb *w, int id, int type) {
    int d = id - w->last[w->sp];
    if (d > 0 && d <= 15) put8(w, (unsigned)(d << 4 | type));
    else { put8(w, (unsigned)type); zz(w, id); }
    w->last[w->sp] = id;
}
static void f_i32(wb *w, int id, int64_t v) { fhdr(w, id, T_I32); zz(w, v); }
static void f_i64(wb *w, int id, int64_t v) { fhdr(w, id, T_I64); zz(w, v); }
static void f_bool(wb *w, int id, bool v) { fhdr(w, id, v ? T_TRUE : T_FALSE); }
static void f_bin(wb *w, int id, const char *s) { fhdr(w, id, T_BIN); varint(w, strlen(s)); put(w, s, strlen(s)); }
static void s_begin(wb *w) { w->last[++w->sp] = 0; }
static void f_struct(wb *w, int id) { fhdr(w, id, T_STRUCT); s_begin(w); }
static void s_end(wb *w) { put8(w, 0); w->sp--; }
static void f_list(wb *w, int id, int elem, unsigned n) {
    fhdr(w, id, T_LIST);
    if (n < 15) put8(w, n << 4 | (unsigned)elem); else { put8(w, 0xf0 | (unsigned)elem); varint(w, n); }
}

/* ---- page and file builders ------------------------------------------------------- */

enum { CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_LZ4 = 5 };

typedef struct page {
    int type;              /* 0 data v1, 2 dictionary, 3 data v2 */
    int encoding, num_values, def_encoding;
    int v2_def_len, v2_nulls;
    bool v2_uncompressed;  /* is_compressed = false */
    const uint8_t *body;   /* stored bytes */
    size_t body_len, usize;
} page;

static void page_header(wb *w, const page *pg) {
    s_begin(w);
    f_i32(w, 1, pg->type);
    f_i32(w, 2, (int64_t)pg->usize);
    f_i32(w, 3, (int64_t)pg->body_len);
    if (pg->type == 0) {
        f_struct(w, 5);
        f_i32(w, 1, pg->num_values); f_i32(w, 2, pg->encoding); f_i32(w, 3, pg->def_encoding); f_i32(w, 4, 3);
        s_end(w);
    } else if (pg->type == 2) {
        f_struct(w, 7);
        f_i32(w, 1, pg->num_values); f_i32(w, 2, pg->encoding);
        s_end(w);
    } else {
        f_struct(w, 8);
        f_i32(w, 1, pg->num_values); f_i32(w, 2, pg->v2_nulls); f_i32(w, 3, pg->num_values); f_i32(w, 4, pg->encoding);
        f_i32(w, 5, pg->v2_def_len); f_i32(w, 6, 0);
        if (pg->v2_uncompressed) f_bool(w, 7, false);
        s_end(w);
    }
    s_end(w);
}

/* One optional or required BYTE_ARRAY column "text"; row group g holds pages
 * [first[g], first[g+1]) and rows[g] rows. */
static wb build_file(bool optional, int codec, const page *pages, const int *first, const int64_t *rows, int nrg) {
    wb w = { 0 };
    put(&w, "PAR1", 4);
    int64_t *start = calloc((size_t)nrg + 1, sizeof *start), *size = calloc((size_t)nrg + 1, sizeof *size);
    int64_t total = 0;
    for (int g = 0; g < nrg; g++) {
        start[g] = (int64_t)w.n;
        for (int i = first[g]; i < first[g + 1]; i++) {
            page_header(&w, &pages[i]);
            put(&w, pages[i].body, pages[i].body_len);
        }
        size[g] = (int64_t)w.n - start[g];
        total += rows[g];
    }
    size_t fstart = w.n;
    s_begin(&w);
    f_i32(&w, 1, 1);
    f_list(&w, 2, T_STRUCT, 2);
    s_begin(&w); f_bin(&w, 4, "schema"); f_i32(&w, 5, 1); s_end(&w);
    s_begin(&w); f_i32(&w, 1, 6); f_i32(&w, 3, optional ? 1 : 0); f_bin(&w, 4, "text"); f_i32(&w, 6, 0); s_end(&w);
    f_i64(&w, 3, total);
    f_list(&w, 4, T_STRUCT, (unsigned)nrg);
    for (int g = 0; g < nrg; g++) {
        s_begin(&w);
        f_list(&w, 1, T_STRUCT, 1);
        s_begin(&w);
        f_i64(&w, 2, start[g]);
        f_struct(&w, 3);
        f_i32(&w, 1, 6);
        f_list(&w, 2, T_I32, 1); zz(&w, 0);
        f_list(&w, 3, T_BIN, 1); varint(&w, 4); put(&w, "text", 4);
        f_i32(&w, 4, codec);
        f_i64(&w, 5, rows[g]);
        f_i64(&w, 6, size[g]);
        f_i64(&w, 7, size[g]);
        f_i64(&w, 9, start[g]);
        s_end(&w);
        s_end(&w);
        f_i64(&w, 2, size[g]);
        f_i64(&w, 3, rows[g]);
        s_end(&w);
    }
    s_end(&w);
    put_le32(&w, (uint32_t)(w.n - fstart));
    put(&w, "PAR1", 4);
    free(start);
    free(size);
    return w;
}

static wb plain_values(const char *const *v, int n) {
    wb w = { 0 };
    for (int i = 0; i < n; i++) { if (!v[i]) continue; put_le32(&w, (uint32_t)strlen(v[i])); put(&w, v[i], strlen(v[i])); }
    return w;
}

/* Reads "text" fully. Returns the status; on success compares with want[] (NULL = null). */
static hs_status read_text(const wb *f, const char *name, const char *const *want, int n) {
    hs_parquet *pq;
    hs_status st = hs_parquet_open_memory(f->p, f->n, name, &pq);
    if (st) return st;
    int col;
    hs_pq_reader *r = NULL;
    if (!(st = hs_parquet_text_column(pq, "text", &col)) && !(st = hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r))) {
        hs_pq_value v;
        bool eof;
        int i = 0;
        while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) {
            if (want) {
                CHECK(i < n, "%s: extra row", name);
                if (i < n) CHECK(v.is_null == !want[i] && (v.is_null || (v.len == strlen(want[i]) && !memcmp(v.data, want[i], v.len))),
                                 "%s: row %d", name, i);
            }
            i++;
        }
        if (!st && want) CHECK(i == n, "%s: %d rows, want %d", name, i, n);
    }
    hs_parquet_reader_free(r);
    hs_parquet_close(pq);
    return st;
}

static void expect_error(const wb *f, const char *name, const char *msg) {
    hs_status st = read_text(f, name, NULL, 0);
    CHECK(st != HS_OK && strstr(hs_last_error(), name) && strstr(hs_last_error(), msg), "%s: want '%s', got %s: %s", name, msg,
          hs_status_str(st), hs_last_error());
}

static const char *const words[] = { "alpha", "", "γάμμα\n", "delta delta delta delta delta delta delta delta" };
enum { NW = 4 };

/* ---- cases ------------------------------------------------------------------------ */

static void test_lz4_variants(void) {
    wb vals = plain_values(words, NW);
    int first[] = { 0, 1 };
    int64_t rows[] = { NW };
    /* LZ4 frame */
    size_t cap = LZ4F_compressFrameBound(vals.n, NULL);
    uint8_t *fr = malloc(cap);
    size_t fl = LZ4F_compressFrame(fr, cap, vals.p, vals.n, NULL);
    CHECK(!LZ4F_isError(fl), "LZ4F_compressFrame");
    page pg = { .type = 0, .encoding = 0, .num_values = NW, .def_encoding = 3, .body = fr, .body_len = fl, .usize = vals.n };
    wb f = build_file(false, CODEC_LZ4, &pg, first, rows, 1);
    CHECK_OK(read_text(&f, "lz4-frame.parquet", words, NW));
    free(f.p);
    /* a bare LZ4 block under codec LZ4 (neither Hadoop framing nor a frame) */
    uint8_t *blk = malloc((size_t)LZ4_compressBound((int)vals.n));
    int bl = LZ4_compress_default((const char *)vals.p, (char *)blk, (int)vals.n, LZ4_compressBound((int)vals.n));
    pg.body = blk;
    pg.body_len = (size_t)bl;
    f = build_file(false, CODEC_LZ4, &pg, first, rows, 1);
    CHECK_OK(read_text(&f, "lz4-block.parquet", words, NW));
    free(f.p);
    /* a page that decompresses to fewer bytes than its header says */
    pg.usize = vals.n + 1;
    f = build_file(false, CODEC_LZ4, &pg, first, rows, 1);
    expect_error(&f, "lz4-short.parquet", "page header says");
    free(f.p);
    free(fr);
    free(blk);
    free(vals.p);
}

/* optional column, v1 pages: def levels [1,0,1,1,0] as one bit-packed group of width 1 */
static void test_levels_and_dictionary(void) {
    const char *const rows5[] = { "x", NULL, "yy", "x", NULL };
    /* 4-byte length 2, then a bit-packed run of one group: 0x0d = levels 1,0,1,1,0,(0,0,0) */
    uint8_t defs[] = { 2, 0, 0, 0, 3, 0x0d };
    /* dictionary ["x", "yy"]; indices 0,1,0 as RLE: bit width 1, bit-packed group */
    wb dict = plain_values((const char *const[]){ "x", "yy" }, 2);
    wb body = { 0 };
    put(&body, defs, sizeof defs);
    put8(&body, 1);          /* index bit width */
    put8(&body, 3);          /* bit-packed, one group of 8 */
    put8(&body, 0x02);       /* indices 0,1,0 */
    page pages[2] = {
        { .type = 2, .encoding = 0, .num_values = 2, .body = dict.p, .body_len = dict.n, .usize = dict.n },
        { .type = 0, .encoding = 8, .num_values = 5, .def_encoding = 3, .body = body.p, .body_len = body.n, .usize = body.n },
    };
    int first[] = { 0, 2 };
    int64_t rows[] = { 5 };
    wb f = build_file(true, CODEC_NONE, pages, first, rows, 1);
    CHECK_OK(read_text(&f, "dict.parquet", rows5, 5));
    free(f.p);

    /* index out of range: dictionary of 1 entry */
    pages[0].num_values = 1;
    pages[0].body_len = pages[0].usize = 5;
    f = build_file(true, CODEC_NONE, pages, first, rows, 1);
    expect_error(&f, "dict-range.parquet", "dictionary index 1 out of range");
    free(f.p);
    pages[0].num_values = 2;
    pages[0].body_len = pages[0].usize = dict.n;

    /* a definition level above the maximum (2 with max 1): RLE run of value... width 1
     * cannot hold 2, so the run value itself is rejected */
    body.n = 0;
    put(&body, (uint8_t[]){ 2, 0, 0, 0, 10, 2 }, 6);   /* RLE run of 5 with value 2 */
    pages[1].body = body.p;
    pages[1].body_len = pages[1].usize = body.n;
    f = build_file(true, CODEC_NONE, pages, first, rows, 1);
    expect_error(&f, "def-wide.parquet", "wider than the bit width");
    free(f.p);

    /* BIT_PACKED (deprecated) definition levels are refused */
    pages[1].def_encoding = 4;
    f = build_file(true, CODEC_NONE, pages, first, rows, 1);
    expect_error(&f, "def-bitpacked.parquet", "definition level encoding 4");
    free(f.p);
    pages[1].def_encoding = 3;

    /* a page claiming 2^31-1 values in a chunk of 5 */
    pages[1].num_values = INT32_MAX;
    f = build_file(true, CODEC_NONE, pages, first, rows, 1);
    expect_error(&f, "huge-count.parquet", "only 5 left in the chunk");
    free(f.p);
    pages[1].num_values = 5;

    /* dictionary page missing */
    f = build_file(true, CODEC_NONE, pages + 1, (int[]){ 0, 1 }, rows, 1);
    expect_error(&f, "no-dict.parquet", "no dictionary page");
    free(f.p);
    free(dict.p);
    free(body.p);
}

/* v2 pages: values stored uncompressed under SNAPPY; an empty row group; a snappy page;
 * required column */
static void test_v2_and_groups(void) {
    wb vals = plain_values(words, NW);
    size_t cl = snappy_max_compressed_length(vals.n);
    uint8_t *comp = malloc(cl);
    CHECK(snappy_compress((const char *)vals.p, vals.n, (char *)comp, &cl) == SNAPPY_OK, "snappy_compress");
    page pages[3] = {
        { .type = 3, .encoding = 0, .num_values = NW, .v2_uncompressed = true, .body = vals.p, .body_len = vals.n, .usize = vals.n },
        { .type = 3, .encoding = 0, .num_values = NW, .body = comp, .body_len = cl, .usize = vals.n },
        { .type = 3, .encoding = 0, .num_values = 0, .body = NULL, .body_len = 0, .usize = 0 },
    };
    /* group 0: page 0; group 1: empty page only (0 rows); group 2: page 1 */
    const int order[] = { 0, 2, 1 };
    page seq[3];
    for (int i = 0; i < 3; i++) seq[i] = pages[order[i]];
    int first[] = { 0, 1, 2, 3 };
    int64_t rows[] = { NW, 0, NW };
    wb f = build_file(false, CODEC_SNAPPY, seq, first, rows, 3);
    const char *want[2 * NW];
    for (int i = 0; i < 2 * NW; i++) want[i] = words[i % NW];
    CHECK_OK(read_text(&f, "v2-groups.parquet", want, 2 * NW));
    free(f.p);

    /* a PLAIN value whose length runs past the page */
    vals.p[0] = 200;
    seq[0].v2_uncompressed = true;
    f = build_file(false, CODEC_SNAPPY, seq, first, rows, 1);
    expect_error(&f, "plain-overrun.parquet", "overruns the page");
    free(f.p);
    free(comp);
    free(vals.p);
}

/* footers: deep nesting, absurd list counts, row count mismatch */
static void test_footers(void) {
    /* FileMetaData whose unknown field 20 nests 10000 structs */
    wb w = { 0 };
    put(&w, "PAR1", 4);
    size_t fs = w.n;
    s_begin(&w);
    f_i32(&w, 1, 1);
    for (int i = 0; i < 10000; i++) { put8(&w, 0x0c | 0x10); }   /* field +1, type struct, repeatedly */
    for (int i = 0; i < 10001; i++) put8(&w, 0);
    put_le32(&w, (uint32_t)(w.n - fs));
    put(&w, "PAR1", 4);
    hs_parquet *pq;
    CHECK(hs_parquet_open_memory(w.p, w.n, "deep.parquet", &pq) == HS_ERR_FORMAT && strstr(hs_last_error(), "nested too deeply"),
          "deep: %s", hs_last_error());
    free(w.p);

    /* schema list claiming 2^32-1 elements */
    w = (wb){ 0 };
    put(&w, "PAR1", 4);
    fs = w.n;
    s_begin(&w);
    f_i32(&w, 1, 1);
    f_list(&w, 2, T_STRUCT, 0xffffffffu);
    s_end(&w);
    put_le32(&w, (uint32_t)(w.n - fs));
    put(&w, "PAR1", 4);
    CHECK(hs_parquet_open_memory(w.p, w.n, "biglist.parquet", &pq) == HS_ERR_FORMAT && strstr(hs_last_error(), "list longer"),
          "biglist: %s", hs_last_error());
    free(w.p);

    /* num_rows disagreeing with the row groups */
    wb vals = plain_values(words, NW);
    page pg = { .type = 0, .encoding = 0, .num_values = NW, .def_encoding = 3, .body = vals.p, .body_len = vals.n, .usize = vals.n };
    int64_t rows[] = { NW };
    wb f = build_file(false, CODEC_NONE, &pg, (int[]){ 0, 1 }, rows, 1);
    CHECK_OK(read_text(&f, "ok.parquet", words, NW));
    /* patch the footer's num_rows (field 3, i64 zigzag 8) to 9 */
    size_t flen = (size_t)f.p[f.n - 8] | (size_t)f.p[f.n - 7] << 8;
    uint8_t *foot = f.p + f.n - 8 - flen;
    uint8_t *hit = NULL;
    for (uint8_t *q = foot; q + 1 < f.p + f.n - 8 && !hit; q++) if (q[0] == 0x16 && q[1] == 2 * NW) hit = q;
    CHECK(hit != NULL, "num_rows field not found");
    if (hit) {
        hit[1] = 18;
        CHECK(hs_parquet_open_memory(f.p, f.n, "rows.parquet", &pq) == HS_ERR_FORMAT && strstr(hs_last_error(), "row groups hold"),
              "rows: %s", hs_last_error());
    }
    free(f.p);
    free(vals.p);
}

int main(void) {
    test_lz4_variants();
    test_levels_and_dictionary();
    test_v2_and_groups();
    test_footers();
    return test_report("test_parquet_synth");
}
