/* bench/parquet.c — single-thread speed of Parquet text decoding (hs_parquet reader):
 * MB of `text` values produced per second for the largest fixtures, best of R passes
 * each (open + read the whole column, touching every byte). Baseline in the same run:
 * cJSON parsing dev.jsonl (the same 322 documents as JSON text), best of R passes.
 *
 *   build/bench/bench_parquet [shared-dir] [passes]     (default ../shared, 5) */
#include "data/parquet.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile unsigned sink;

/* One pass: returns text bytes read, or -1 on error. */
static double read_text(const char *path) {
    hs_parquet *pq;
    if (hs_parquet_open(path, &pq)) return -1;
    int col;
    hs_pq_reader *r;
    if (hs_parquet_text_column(pq, "text", &col) || hs_parquet_reader_open(pq, col, HS_PQ_NULLS_SKIP, &r)) {
        hs_parquet_close(pq);
        return -1;
    }
    double bytes = 0;
    hs_pq_value v;
    bool eof;
    unsigned h = 0;
    hs_status st;
    while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) {
        /* touch the bytes as a consumer (tokenizer) would: one load per 64-byte line + ends */
        for (size_t i = 0; i < v.len; i += 64) h += (unsigned char)v.data[i];
        if (v.len) h += (unsigned char)v.data[v.len - 1];
        bytes += (double)v.len;
    }
    sink += h;
    hs_parquet_reader_free(r);
    hs_parquet_close(pq);
    return st ? -1 : bytes;
}

static double parse_jsonl(const char *path) {
    char *data;
    size_t len;
    if (hs_read_file(path, 0, &data, &len)) return -1;
    double bytes = 0;
    char *p = data, *end = data + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = 0;
        cJSON *j = cJSON_Parse(p);
        const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "text") : NULL;
        if (t && cJSON_IsString(t)) bytes += (double)strlen(t->valuestring);
        cJSON_Delete(j);
        p = nl + 1;
    }
    free(data);
    return bytes;
}

int main(int argc, char **argv) {
    const char *shared = argc > 1 ? argv[1] : HS_SOURCE_DIR "/../shared";
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    if (passes < 1) passes = 1;
    static const char *files[] = {
        "pile10k-shaped.parquet", "dev.snappy.parquet", "dev.uncompressed.parquet", "dev.zstd.v2.parquet",
        "dev.gzip.rg64.p64k.parquet", "dev.snappy.rg7.p8k.parquet", "dict-lines.snappy.parquet",
        "dev.hyparquet.snappy.parquet", "delta-byte-array.v2.parquet", "brotli.parquet", "lz4raw.parquet",
    };
    char path[4096];
    snprintf(path, sizeof path, "%s/data/corpus/dev.jsonl", shared);
    double best = 1e30, bytes = 0;
    for (int i = 0; i < passes; i++) {
        double t0 = now();
        bytes = parse_jsonl(path);
        double t = now() - t0;
        if (t < best) best = t;
    }
    if (bytes < 0) { fprintf(stderr, "%s: %s\n", path, hs_last_error()); return 1; }
    double base = bytes / best / 1e6;
    printf("baseline: cJSON parse of dev.jsonl: %.2f MB text in %.2f ms = %.0f MB/s\n", bytes / 1e6, best * 1e3, base);
    printf("%-34s %9s %9s %9s %8s\n", "file (text column)", "text MB", "ms/pass", "MB/s", "x base");
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        snprintf(path, sizeof path, "%s/data/parquet/%s", shared, files[f]);
        best = 1e30;
        for (int i = 0; i < passes; i++) {
            double t0 = now();
            bytes = read_text(path);
            double t = now() - t0;
            if (bytes < 0) break;
            if (t < best) best = t;
        }
        if (bytes < 0) { fprintf(stderr, "%s\n", hs_last_error()); return 1; }
        printf("%-34s %9.2f %9.2f %9.0f %8.1f\n", files[f], bytes / 1e6, best * 1e3, bytes / best / 1e6, bytes / best / 1e6 / base);
    }
    return 0;
}
