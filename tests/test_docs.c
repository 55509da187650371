/* test_docs.c — document sources: dev.jsonl and every Parquet fixture written from
 * it read back as exactly the documents Python's json module reads (hashes from
 * tests/reference/docs_ref.py, tests/data/docs_golden.txt), plus the edge cases
 * and bad inputs of the issue on small files written here. */
#define _GNU_SOURCE
#include "headscan/headscan.h"
#include "data/data_internal.h"
#include "test.h"
#include "data_test_util.h"
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#define SHARED HS_SHARED_DIR "/data/"
#define GOLDEN HS_SOURCE_DIR "/tests/data/docs_golden.txt"

static char tmpdir[256];

static void tpath(char *b, size_t cap, const char *name) { snprintf(b, cap, "%s/%s", tmpdir, name); }

static void put(const char *name, const void *d, size_t n) {
    char p[512];
    tpath(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    if (f) { fwrite(d, 1, n, f); fclose(f); }
}
static void puts_file(const char *name, const char *s) { put(name, s, strlen(s)); }

/* Reads every document; returns count (-1 on error, message in hs_last_error)
 * and the hash docs_ref.py computes. */
static long long read_all(const char *path, const hs_docs_params *p, char hex[65], hs_docs_stats *st) {
    hs_docs *d;
    if (hs_docs_open(path, p, &d)) return -1;
    unsigned char *acc = NULL;
    size_t len = 0, cap = 0;
    long long n = 0;
    for (;;) {
        hs_doc doc;
        bool eof;
        if (hs_docs_next(d, &doc, &eof)) { n = -1; break; }
        if (eof) break;
        if (len + doc.len + 8 > cap) { cap = (len + doc.len + 8) * 2; acc = realloc(acc, cap); }
        uint64_t l = doc.len;
        memcpy(acc + len, &l, 8);  /* little-endian host (x86-64/aarch64) */
        memcpy(acc + len + 8, doc.text, doc.len);
        len += 8 + doc.len;
        n++;
    }
    if (n >= 0 && hex) hs_data_sha256(acc ? (void *)acc : (void *)"", len, hex);
    if (st) *st = hs_docs_get_stats(d);
    free(acc);
    hs_docs_close(d);
    return n;
}

static void check_golden(const char *path, const char *gcase, long long want_nulls) {
    long long want = -2;
    char ghex[65] = "", hex[65] = "";
    CHECK(golden_lookup(GOLDEN, gcase, &want, ghex), "golden case %s", gcase);
    hs_docs_stats st;
    hs_docs_params p = hs_docs_default_params();
    long long n = read_all(path, &p, hex, &st);
    CHECK(n == want, "%s: %lld documents, want %lld (%s)", path, n, want, n < 0 ? hs_last_error() : "");
    if (n == want) CHECK(!strcmp(hex, ghex), "%s: documents differ from Python's reading (%s)", path, gcase);
    if (n >= 0) CHECK(st.nulls == want_nulls, "%s: %lld nulls, want %lld", path, (long long)st.nulls, want_nulls);
}

/* Expects opening+reading `name` (in tmpdir) to fail with a message holding all needles. */
static void expect_fail(const char *name, const hs_docs_params *p, const char *n1, const char *n2) {
    char path[512];
    tpath(path, sizeof path, name);
    long long n = read_all(path, p, NULL, NULL);
    CHECK(n == -1, "%s: read %lld documents, expected an error", name, n);
    const char *m = hs_last_error();
    CHECK(strstr(m, name) != NULL, "%s: message names the file: %s", name, m);
    if (n1) CHECK(strstr(m, n1) != NULL, "%s: message '%s' lacks '%s'", name, m, n1);
    if (n2) CHECK(strstr(m, n2) != NULL, "%s: message '%s' lacks '%s'", name, m, n2);
}

/* Collects up to 16 documents of a file in tmpdir. */
typedef struct { int n; char *t[16]; size_t l[16]; int64_t row[16]; } docs_out;
static hs_status collect(const char *name, const hs_docs_params *p, docs_out *o) {
    char path[512];
    memset(o, 0, sizeof *o);
    tpath(path, sizeof path, name);
    hs_docs *d;
    hs_status s = hs_docs_open(path, p, &d);
    if (s) return s;
    for (;;) {
        hs_doc doc;
        bool eof;
        if ((s = hs_docs_next(d, &doc, &eof)) || eof) break;
        if (o->n < 16) {
            o->t[o->n] = malloc(doc.len + 1);
            memcpy(o->t[o->n], doc.text, doc.len);
            o->l[o->n] = doc.len;
            o->row[o->n] = doc.row;
        }
        o->n++;
    }
    hs_docs_close(d);
    return s;
}
static void free_out(docs_out *o) { for (int i = 0; i < o->n && i < 16; i++) free(o->t[i]); }
#define DOC_IS(o, i, lit) ((o).n > (i) && (o).l[i] == sizeof(lit) - 1 && !memcmp((o).t[i], lit, sizeof(lit) - 1))

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hs_test_docs.%d", (int)getpid());
    mkdir(tmpdir, 0700);

    /* ---- the dev corpus, as JSONL and as every Parquet variant ---- */
    check_golden(SHARED "corpus/dev.jsonl", "dev_all", 0);
    static const struct { const char *file, *gcase; long long nulls; } pq[] = {
        {"dev.uncompressed.parquet", "dev_all", 0}, {"dev.snappy.parquet", "dev_all", 0},
        {"dev.gzip.rg64.p64k.parquet", "dev_all", 0}, {"dev.zstd.v2.parquet", "dev_all", 0},
        {"pile10k-shaped.parquet", "dev_all", 0}, {"dev.snappy.rg7.p8k.parquet", "first120", 0},
        {"pile10k-shaped.meta-string.parquet", "first100", 0}, {"dev.hyparquet.snappy.parquet", "first100", 0},
        {"dict-fallback.parquet", "first60", 0}, {"delta-length.zstd.v2.parquet", "first40", 0},
        {"delta-byte-array.v2.parquet", "first40", 0}, {"brotli.parquet", "first30", 0},
        {"lz4raw.parquet", "first30", 0}, {"nulls.snappy.parquet", "nulls5_first80", 16},
        {"nulls.hyparquet.gzip.parquet", "nulls4_80_40", 10},
    };
    for (size_t i = 0; i < sizeof pq / sizeof *pq; i++) {
        char path[512];
        snprintf(path, sizeof path, SHARED "parquet/%s", pq[i].file);
        check_golden(path, pq[i].gcase, pq[i].nulls);
    }
    hs_docs_params p = hs_docs_default_params();
    {
        hs_docs_stats st;
        CHECK(read_all(SHARED "parquet/empty.parquet", &p, NULL, &st) == 0, "empty.parquet: 0 documents");
        CHECK(read_all(SHARED "parquet/dict-lines.snappy.parquet", &p, NULL, &st) == 16175, "dict-lines: 16175 rows");
        /* nulls rejected on request, naming file and row */
        p.nulls = HS_NULLS_ERROR;
        CHECK(read_all(SHARED "parquet/nulls.snappy.parquet", &p, NULL, NULL) == -1, "nulls rejected");
        CHECK(strstr(hs_last_error(), "nulls.snappy.parquet") && strstr(hs_last_error(), "row 4"), "null message: %s", hs_last_error());
        p = hs_docs_default_params();
        p.field = "meta.pile_set_name";
        CHECK(read_all(SHARED "parquet/dev.snappy.parquet", &p, NULL, NULL) == 322, "struct child column by dotted path");
        p.field = "nope";
        CHECK(read_all(SHARED "parquet/dev.snappy.parquet", &p, NULL, NULL) == -1 && strstr(hs_last_error(), "nope"),
              "missing Parquet column: %s", hs_last_error());
        p = hs_docs_default_params();
    }
    /* a directory of Parquet files and a glob, in sorted order; rewind repeats the pass */
    {
        hs_docs *d;
        CHECK_OK(hs_docs_open(SHARED "parquet/dev.*.parquet", &p, &d));
        if (d) {
            CHECK(hs_docs_num_files(d) == 6, "glob lists 6 files, got %d", hs_docs_num_files(d));
            for (int i = 1; i < hs_docs_num_files(d); i++)
                CHECK(strcmp(hs_docs_file(d, i - 1), hs_docs_file(d, i)) < 0, "sorted");
            for (int pass = 0; pass < 2; pass++) {
                int64_t n = 0;
                hs_doc doc;
                bool eof = false;
                while (!hs_docs_next(d, &doc, &eof) && !eof) n++;
                CHECK(n == 322 * 4 + 120 + 100, "glob pass %d: %lld docs", pass, (long long)n);
                CHECK(hs_docs_file_stats(d, 0).docs == 322, "per-file stats");
                hs_docs_rewind(d);
            }
            hs_docs_close(d);
        }
    }

    /* ---- JSONL edge cases ---- */
    puts_file("edge.jsonl",
              "\xEF\xBB\xBF{\"text\": \"a\\u0000b\", \"meta\": {\"x\": [1, 2.5e-3, true, null, {\"y\": \"z\"}]}}\r\n"
              "\n   \n"
              "{\"meta\": null, \"text\": \"\\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\"}\n"
              "{\"text\": null}\n"
              "{\"text\": \"first\", \"text\": \"last\"}\n"
              "{\"text\": \"\", \"n\": -0.5E+2, \"m\": NaN}\n"
              "{\"text\": \"raw \xc3\xa9 \xf0\x9f\x98\x80\"}");
    {
        docs_out o;
        CHECK_OK(collect("edge.jsonl", &p, &o));
        CHECK(o.n == 5, "edge.jsonl: %d docs", o.n);
        CHECK(DOC_IS(o, 0, "a\0b"), "NUL kept");
        CHECK(DOC_IS(o, 1, "\xf0\x9f\x98\x80 \"q\" \\ / \b\f\n\r\t \xc3\xa9"), "escapes and surrogate pair");
        CHECK(DOC_IS(o, 2, "last"), "duplicate key: last wins");
        CHECK(DOC_IS(o, 3, ""), "empty document kept");
        CHECK(DOC_IS(o, 4, "raw \xc3\xa9 \xf0\x9f\x98\x80"), "raw UTF-8, no final newline");
        CHECK(o.n == 5 && o.row[0] == 0 && o.row[1] == 3 && o.row[4] == 7, "rows are line numbers");
        free_out(&o);
        hs_docs_stats st;
        char path[512];
        tpath(path, sizeof path, "edge.jsonl");
        read_all(path, &p, NULL, &st);
        CHECK(st.nulls == 1 && st.docs == 5, "null counted: %lld", (long long)st.nulls);
    }
    /* bad inputs: clear errors naming file and line */
    static const struct { const char *name, *content, *n1, *n2; } bad[] = {
        {"missing.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n",
         "line 2", "no field \"text\""},
        {"number.jsonl", "{\"text\": 12}\n",
         "line 1", "a number, not a string"},
        {"object.jsonl", "{\"text\": {\"a\": 1}}\n",
         "line 1", "an object"},
        {"badjson.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"x\",}\n",
         "line 2", "invalid JSON"},
        {"trailing.jsonl", "{\"text\": \"x\"} {}\n",
         "line 1", "extra characters"},
        {"unterminated.jsonl", "{\"text\": \"abc\n",
         "line 1", "unterminated"},
        {"ctrl.jsonl", "{\"text\": \"a\tb\"}\n",
         "line 1", "control character"},
        {"lone.jsonl", "{\"text\": \"a\\ud800b\"}\n",
         "line 1", "surrogate"},
        {"lone2.jsonl", "{\"text\": \"a\\udc00\"}\n",
         "line 1", "surrogate"},
        {"array.jsonl", "[\"text\"]\n",
         "line 1", "not a JSON object"},
        {"badutf8.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"a\xff\xc3(b\xed\xa0\x80z\xf0\x9f\x98\"}\n",
         "line 2", "invalid UTF-8 at byte 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        puts_file(bad[i].name, bad[i].content);
        expect_fail(bad[i].name, &p, bad[i].n1, bad[i].n2);
    }
    {   /* replace: one U+FFFD per maximal invalid subpart, as Python's errors="replace" */
        hs_docs_params pr = p;
        pr.utf8 = HS_UTF8_REPLACE;
        docs_out o;
        CHECK_OK(collect("badutf8.jsonl", &pr, &o));
        /* Python: b"a\xff\xc3(b\xed\xa0\x80z\xf0\x9f\x98".decode("utf-8","replace")
         * == "a\ufffd\ufffd(b\ufffd\ufffd\ufffdz\ufffd" */
        CHECK(DOC_IS(o, 1, "a\xef\xbf\xbd\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd"), "replacement");
        free_out(&o);
    }
    {   /* nesting far deeper than the limit: an error, not a stack overflow */
        size_t n = 100000;
        char *s = malloc(2 * n + 32);
        size_t k = (size_t)sprintf(s, "{\"text\": \"x\", \"a\": ");
        memset(s + k, '[', n);
        memset(s + k + n, ']', n);
        s[k + 2 * n] = '}';
        put("deep.jsonl", s, k + 2 * n + 1);
        free(s);
        expect_fail("deep.jsonl", &p, "line 1", "nested too deeply");
    }
    {   /* one huge line (24 MiB document) after a normal one */
        size_t n = 24u << 20;
        char *s = malloc(n + 64);
        size_t k = (size_t)sprintf(s, "{\"text\": \"small\"}\n{\"text\": \"");
        for (size_t i = 0; i < n; i++) s[k + i] = (char)('a' + i % 26);
        k += n;
        k += (size_t)sprintf(s + k, "\"}\n");
        put("huge.jsonl", s, k);
        free(s);
        char path[512];
        tpath(path, sizeof path, "huge.jsonl");
        hs_docs *d;
        CHECK_OK(hs_docs_open(path, &p, &d));
        hs_doc doc;
        bool eof;
        CHECK_OK(hs_docs_next(d, &doc, &eof));
        CHECK_OK(hs_docs_next(d, &doc, &eof));
        CHECK(!eof && doc.len == n && doc.text[n - 1] == (char)('a' + (n - 1) % 26), "huge line read whole");
        CHECK_OK(hs_docs_next(d, &doc, &eof));
        CHECK(eof, "then the end");
        hs_docs_close(d);
    }
    {   /* gzip-compressed JSONL, and a custom field */
        char path[512];
        tpath(path, sizeof path, "zipped.jsonl.gz");
        gzFile g = gzopen(path, "wb");
        gzputs(g, "{\"body\": \"one\"}\n{\"body\": \"two\"}\n");
        gzclose(g);
        hs_docs_params pb = p;
        pb.field = "body";
        docs_out o;
        CHECK_OK(collect("zipped.jsonl.gz", &pb, &o));
        CHECK(o.n == 2 && DOC_IS(o, 0, "one") && DOC_IS(o, 1, "two"), "gzip JSONL");
        free_out(&o);
    }

    {   /* zstd-compressed JSONL (The Pile's format): two frames back to back; then truncated */
        const char *f1 = "{\"text\": \"one\"}\n", *f2 = "{\"text\": \"two\"}\n{\"text\": \"three\"}\n";
        size_t cap = ZSTD_compressBound(64) * 2;
        char *z = malloc(cap);
        size_t n1 = ZSTD_compress(z, cap, f1, strlen(f1), 3);
        size_t n2 = ZSTD_compress(z + n1, cap - n1, f2, strlen(f2), 3);
        put("zst.jsonl.zst", z, n1 + n2);
        docs_out o;
        CHECK_OK(collect("zst.jsonl.zst", &p, &o));
        CHECK(o.n == 3 && DOC_IS(o, 0, "one") && DOC_IS(o, 2, "three"), "zstd JSONL: %d docs", o.n);
        free_out(&o);
        put("cut.jsonl.zst", z, n1 + n2 - 3);
        expect_fail("cut.jsonl.zst", &p, "zstd", NULL);
        free(z);
    }

    /* ---- plain text ---- */
    puts_file("lines.txt", "a\r\nb\n\nc \xc3\xa9");
    {
        hs_docs_params pl = p;
        pl.text_mode = HS_TEXT_PER_LINE;
        docs_out o;
        CHECK_OK(collect("lines.txt", &pl, &o));
        CHECK(o.n == 4 && DOC_IS(o, 0, "a") && DOC_IS(o, 1, "b") && DOC_IS(o, 2, "") && DOC_IS(o, 3, "c \xc3\xa9"),
              "per-line: %d docs", o.n);
        free_out(&o);
        CHECK_OK(collect("lines.txt", &p, &o));
        CHECK(o.n == 1 && DOC_IS(o, 0, "a\r\nb\n\nc \xc3\xa9"), "per-file");
        free_out(&o);
        puts_file("empty.txt", "");
        CHECK_OK(collect("empty.txt", &p, &o));
        CHECK(o.n == 1 && DOC_IS(o, 0, ""), "empty file = one empty document");
        free_out(&o);
        CHECK_OK(collect("empty.txt", &pl, &o));
        CHECK(o.n == 0, "empty file per line = no documents");
        free_out(&o);
        put("badutf8.txt", "ok\nbad \xc0\xaf\n", 11);
        expect_fail("badutf8.txt", &pl, "line 2", "invalid UTF-8");
    }

    /* ---- directories and globs ---- */
    {
        char dir[512], path[600];
        tpath(dir, sizeof dir, "corpus");
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/b.jsonl", dir);
        FILE *f = fopen(path, "w"); fputs("{\"text\": \"b1\"}\n{\"text\": \"b2\"}\n", f); fclose(f);
        snprintf(path, sizeof path, "%s/a.txt", dir);
        f = fopen(path, "w"); fputs("a-doc", f); fclose(f);
        snprintf(path, sizeof path, "%s/.hidden.jsonl", dir);
        f = fopen(path, "w"); fputs("{\"text\": \"hidden\"}\n", f); fclose(f);
        snprintf(path, sizeof path, "%s/notes.md", dir);
        f = fopen(path, "w"); fputs("ignored", f); fclose(f);
        snprintf(path, sizeof path, "%s/dataset_infos.json", dir);
        f = fopen(path, "w"); fputs("{\n  \"ignored\": true\n}\n", f); fclose(f);
        docs_out o;
        CHECK_OK(collect("corpus", &p, &o));
        CHECK(o.n == 3 && DOC_IS(o, 0, "a-doc") && DOC_IS(o, 1, "b1") && DOC_IS(o, 2, "b2"), "directory: %d docs", o.n);
        free_out(&o);
        CHECK_OK(collect("corpus/*.jsonl", &p, &o));
        CHECK(o.n == 2, "glob");
        free_out(&o);
        /* an HF-style snapshot: nothing at the top, files in data/ */
        char hf[512];
        tpath(hf, sizeof hf, "hf");
        mkdir(hf, 0700);
        snprintf(path, sizeof path, "%s/README.md", hf);
        f = fopen(path, "w"); fputs("# card", f); fclose(f);
        snprintf(path, sizeof path, "%s/data", hf);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/data/train-00000-of-00001.jsonl", hf);
        f = fopen(path, "w"); fputs("{\"text\": \"t\"}\n", f); fclose(f);
        CHECK_OK(collect("hf", &p, &o));
        CHECK(o.n == 1 && DOC_IS(o, 0, "t"), "data/ folder of a dataset snapshot");
        free_out(&o);
        mkdir(strcat(dir, "/sub"), 0700);
        hs_docs *d;
        CHECK(hs_docs_open(dir, &p, &d) == HS_ERR_NOT_FOUND && strstr(hs_last_error(), "no dataset files"), "empty dir");
        CHECK(hs_docs_open("/nonexistent/x.jsonl", &p, &d) == HS_ERR_IO && strstr(hs_last_error(), "/nonexistent/x.jsonl"), "missing file");
        CHECK(hs_docs_open("/nonexistent/*.jsonl", &p, &d) == HS_ERR_NOT_FOUND, "glob matching nothing");
    }
    /* a broken Parquet file fails cleanly through the source too */
    CHECK(read_all(SHARED "parquet/apache/bad/PARQUET-1481.parquet", &p, NULL, NULL) == -1 &&
          strstr(hs_last_error(), "PARQUET-1481.parquet"), "bad Parquet: %s", hs_last_error());

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_report("test_docs");
}
