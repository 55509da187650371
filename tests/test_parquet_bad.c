/* test_parquet_bad.c — malformed Parquet must give a clean error, never a crash, hang
 * or leak (run it under -DHS_SANITIZE=ON too):
 *  1. apache/parquet-testing's bad_data files (apache/bad/): each must fail;
 *  2. variants of every fixture made in memory with a fixed-seed PRNG: truncated files,
 *     truncated data with the footer re-attached, truncated footers with valid framing,
 *     bit flips and random bytes in the footer and anywhere. Each variant is opened and
 *     every flat column read to the end; the outcome must be HS_OK or an error status
 *     with a message naming the file. Values are read byte by byte so that an
 *     out-of-bounds pointer shows up under AddressSanitizer (buffers are exact-size). */
#include "data/parquet_impl.h"   /* column chunk extents */
#include "test.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define PQDIR HS_SHARED_DIR "/data/parquet"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {   /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static double scale = 1;   /* HS_PQ_FUZZ_SCALE: more variants for a long manual run */
static unsigned checksum;   /* keeps the byte reads from being optimised away */
static char first_msg[1024]; /* message of read_all's first error */

typedef struct outcome { int ok, failed; } outcome;

/* Opens and reads every readable column. Returns the first error status (or HS_OK). */
static hs_status read_all(const uint8_t *data, size_t size, const char *name) {
    hs_parquet *pq;
    hs_status st = hs_parquet_open_memory(data, size, name, &pq);
    if (st) { snprintf(first_msg, sizeof first_msg, "%s", hs_last_error()); return st; }
    hs_status first = HS_OK;
    for (int c = 0; c < hs_parquet_num_columns(pq); c++) {
        hs_pq_reader *r;
        st = hs_parquet_reader_open(pq, c, HS_PQ_NULLS_RETURN, &r);
        if (st) {   /* repeated / BOOLEAN columns are refused: not a failure of the file */
            const hs_pq_column_info *ci = hs_parquet_column(pq, c);
            CHECK(ci->max_rep > 0 || ci->physical_type == HS_PQ_BOOLEAN, "%s: reader_open: %s", name, hs_last_error());
            continue;
        }
        int64_t rows = 0;
        hs_pq_value v;
        bool eof;
        while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) {
            for (size_t i = 0; i < v.len; i++) checksum += (unsigned char)v.data[i];
            rows++;
        }
        if (!st) CHECK(rows == hs_parquet_num_rows(pq), "%s: %lld rows read of %lld", name, (long long)rows, (long long)hs_parquet_num_rows(pq));
        if (st && !first) { first = st; snprintf(first_msg, sizeof first_msg, "%s", hs_last_error()); }
        if (st) {
            CHECK(st == HS_ERR_FORMAT || st == HS_ERR_UNSUPPORTED || st == HS_ERR_NOMEM, "%s: status %s", name, hs_status_str(st));
            CHECK(strstr(hs_last_error(), name) != NULL, "%s: message does not name the file: %s", name, hs_last_error());
        }
        hs_parquet_reader_free(r);
    }
    hs_parquet_close(pq);
    return first;
}

static hs_status run_variant(uint8_t *buf, size_t n, const char *name, outcome *o) {
    /* copy into an exact-size allocation so that any overread is caught by ASan */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    hs_status st = read_all(exact, n, name);
    if (st) {
        o->failed++;
        CHECK(st != HS_ERR_INTERNAL && strstr(first_msg, name) != NULL, "%s: %s: %s", name, hs_status_str(st), first_msg);
    } else {
        o->ok++;
    }
    free(exact);
    return st;
}

static void put_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* all_flat: every column is read (our fixtures), so cutting any data must fail */
static void fuzz_file(const char *path, const char *name, bool all_flat, outcome *o) {
    char *data;
    size_t size;
    CHECK_OK(hs_read_file(path, 0, &data, &size));
    if (!data) return;
    const uint8_t *d = (const uint8_t *)data;
    /* the original must read */
    CHECK(read_all(d, size, name) == HS_OK, "%s: original fails: %s", name, hs_last_error());
    size_t flen = size >= 12 ? (size_t)(d[size - 8] | d[size - 7] << 8 | d[size - 6] << 16 | (size_t)d[size - 5] << 24) : 0;
    if (flen > size - 12) flen = 0;
    size_t fstart = size - 8 - flen;
    /* end of the last column chunk: page indexes may lie between it and the footer */
    int64_t data_end = 0, starts[64];
    int nstarts = 0;
    hs_parquet *pq;
    if (hs_parquet_open_memory(d, size, name, &pq) == HS_OK) {
        for (int64_t i = 0; i < (int64_t)pq->nrg * pq->ncols; i++) {
            const pq_chunk *k = &pq->chunks[i];
            int64_t start = k->has_dict_offset && k->dict_page_offset > 0 && k->dict_page_offset < k->data_page_offset
                          ? k->dict_page_offset : k->data_page_offset;
            if (start + k->total_compressed_size > data_end) data_end = start + k->total_compressed_size;
            if (nstarts < 64 && start >= 4 && (size_t)start < size) starts[nstarts++] = start;
        }
        hs_parquet_close(pq);
    }
    /* variant budget: ~64 MB of input per file, at least 24 and at most 1500 variants */
    size_t nvar = (size_t)(64000000.0 * scale / (double)(size + 1));
    nvar = nvar < 28 ? 28 : nvar > (size_t)(1500 * scale) ? (size_t)(1500 * scale) : nvar;
    uint8_t *buf = malloc(size + 16);
    char vname[512];
    for (size_t v = 0; v < nvar; v++) {
        size_t n = size;
        memcpy(buf, d, size);
        int kind = (int)(v % 7);
        if (kind == 0) {                       /* plain truncation */
            n = rnd_below(size);
            snprintf(vname, sizeof vname, "%s[truncated at %zu]", name, n);
        } else if (kind == 1) {                /* data cut short, footer re-attached */
            size_t k = rnd_below(fstart);
            memmove(buf + k, d + fstart, size - fstart);
            n = k + (size - fstart);
            snprintf(vname, sizeof vname, "%s[data cut at %zu]", name, k);
        } else if (kind == 2) {                /* footer cut short, framing kept valid */
            size_t j = rnd_below(flen);
            n = fstart + j + 8;
            put_le32(buf + fstart + j, (uint32_t)j);
            memcpy(buf + fstart + j + 4, "PAR1", 4);
            snprintf(vname, sizeof vname, "%s[footer cut at %zu]", name, j);
        } else if (kind == 3) {                /* one bit flipped in the footer */
            size_t pos = fstart + rnd_below(flen);
            buf[pos] ^= (uint8_t)(1u << rnd_below(8));
            snprintf(vname, sizeof vname, "%s[footer bit flip at %zu]", name, pos);
        } else if (kind == 4) {                /* 1-3 bit flips anywhere, biased to page headers */
            int k = 1 + (int)rnd_below(3);
            size_t pos = 0;
            for (int i = 0; i < k; i++) {
                pos = rnd() & 1 ? rnd_below(size) : rnd_below(size < 4096 ? size : 4096);
                buf[pos] ^= (uint8_t)(1u << rnd_below(8));
            }
            snprintf(vname, sizeof vname, "%s[%d bit flips, last at %zu]", name, k, pos);
        } else if (kind == 6 && nstarts > 0) { /* 1-2 flips in the first page header of a chunk */
            size_t st0 = (size_t)starts[rnd_below((size_t)nstarts)], pos = st0;
            for (int i = 0, k = 1 + (int)rnd_below(2); i < k; i++) {
                pos = st0 + rnd_below(40);
                if (pos < size) buf[pos] ^= (uint8_t)(1u << rnd_below(8));
            }
            snprintf(vname, sizeof vname, "%s[page header flip at %zu]", name, pos);
        } else {                               /* a random byte in the footer or data */
            size_t pos = rnd() & 1 ? fstart + rnd_below(flen) : rnd_below(size);
            buf[pos] = (uint8_t)rnd();
            snprintf(vname, sizeof vname, "%s[byte set at %zu]", name, pos);
        }
        hs_status st = run_variant(buf, n, vname, o);
        /* a truncated file or footer can never be read; cut data only when every column is read */
        if (kind == 0 || kind == 2 || (kind == 1 && all_flat && (int64_t)n - (int64_t)(size - fstart) < data_end)) CHECK(st != HS_OK, "%s: read without error", vname);
    }
    free(buf);
    free(data);
}

static void test_bad_files(void) {
    const char *dir = PQDIR "/apache/bad";
    DIR *dd = opendir(dir);
    CHECK(dd != NULL, "cannot open %s", dir);
    if (!dd) return;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dd))) {
        if (!strstr(de->d_name, ".parquet")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *data;
        size_t size;
        CHECK_OK(hs_read_file(path, 0, &data, &size));
        hs_status st = read_all((const uint8_t *)data, size, de->d_name);
        /* a file whose only damaged column is a list is refused at reader_open; count it */
        hs_parquet *pq;
        bool has_list = false;
        if (hs_parquet_open_memory(data, size, de->d_name, &pq) == HS_OK) {
            for (int c = 0; c < hs_parquet_num_columns(pq); c++) has_list |= hs_parquet_column(pq, c)->max_rep > 0;
            hs_parquet_close(pq);
        }
        printf("  bad/%-36s %s%s %s\n", de->d_name, st ? hs_status_str(st) : "read OK", has_list && !st ? " (list column refused)" : "", st ? first_msg : "");
        CHECK(st != HS_OK || has_list, "%s: read without error", de->d_name);
        free(data);
        n++;
    }
    closedir(dd);
    CHECK(n == 6, "%d bad files", n);
}

static void fuzz_dir(const char *dir, bool all_flat, outcome *o, int *files) {
    DIR *dd = opendir(dir);
    CHECK(dd != NULL, "cannot open %s", dir);
    if (!dd) return;
    struct dirent *de;
    while ((de = readdir(dd))) {
        size_t l = strlen(de->d_name);
        if (l < 9 || strcmp(de->d_name + l - 8, ".parquet") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        fuzz_file(path, de->d_name, all_flat, o);
        (*files)++;
    }
    closedir(dd);
}

int main(void) {
    /* HS_PQ_FUZZ_SEED / HS_PQ_FUZZ_SCALE: other seeds and more variants, for manual runs */
    const char *e = getenv("HS_PQ_FUZZ_SEED");
    if (e && *e) rng_state = strtoull(e, NULL, 10) * 2654435761ull + 1;
    e = getenv("HS_PQ_FUZZ_SCALE");
    if (e && atof(e) > 0) scale = atof(e);
    test_bad_files();
    outcome o = { 0, 0 };
    int files = 0;
    fuzz_dir(PQDIR, true, &o, &files);
    fuzz_dir(PQDIR "/apache", false, &o, &files);
    printf("variants of %d files: %d read OK, %d failed cleanly (checksum %u)\n", files, o.ok, o.failed, checksum);
    CHECK(files >= 37, "%d files", files);
    return test_report("test_parquet_bad");
}
