/* dataset.c — bench_dataset: how fast datasets become token matrices.
 *
 *   1. Parquet text decoding (MB of text per second): the bare column reader, and
 *      the document source on top (adds UTF-8 validation), on the dev corpus
 *      fixtures (uncompressed, snappy+dictionary, zstd v2, gzip).
 *   2. documents -> token matrix (transformerlens mode) on dev.jsonl with 1 and 2
 *      threads: MB of text/s and tokens/s; the baseline for the ratios below is
 *      the 1-thread run of this same process.
 *   3. A pile-10k-sized input (~60 MB of text) written to a temp dir: dev.jsonl's
 *      documents repeated, copy k with its ASCII letters Caesar-shifted by k mod 26
 *      so that copies do not just hit the tokenizer's word cache (gibberish words
 *      split into more pieces than real text: a pessimistic stand-in). Full pipeline
 *      time (read JSONL, count pass, tokenize on all threads, shuffle, write .npy).
 *
 * usage: bench_dataset [SHARED_DIR] [--quick]   (SHARED_DIR default: <source>/../shared)
 */
#define _GNU_SOURCE
#include "headscan/headscan.h"
#include "data/data_internal.h"
#include "data/parquet.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/resource.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds of the whole process (all threads): with the wall time, shows how much
 * CPU the machine actually gave the run (other jobs share the cores). */
static double cpu_s(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + (double)r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6;
}

static double loadavg(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) { if (fscanf(f, "%lf", &l) != 1) l = -1; fclose(f); }
    return l;
}

static void die(const char *what) {
    fprintf(stderr, "bench_dataset: %s: %s\n", what, hs_last_error());
    exit(1);
}

/* Bare Parquet column decode: returns text bytes. */
static double pq_decode(const char *path, int64_t *bytes_out) {
    double t0 = now();
    hs_parquet *pq;
    if (hs_parquet_open(path, &pq)) die(path);
    int col;
    if (hs_parquet_text_column(pq, "text", &col)) die(path);
    hs_pq_reader *r;
    if (hs_parquet_reader_open(pq, col, HS_PQ_NULLS_SKIP, &r)) die(path);
    int64_t bytes = 0;
    hs_pq_value v;
    bool eof;
    while (!hs_parquet_reader_next(r, &v, &eof) && !eof) bytes += (int64_t)v.len;
    hs_parquet_reader_free(r);
    hs_parquet_close(pq);
    *bytes_out = bytes;
    return now() - t0;
}

static double docs_read(const char *path, int64_t *bytes_out) {
    double t0 = now();
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *d;
    if (hs_docs_open(path, &dp, &d)) die(path);
    hs_doc doc;
    bool eof;
    int64_t bytes = 0;
    while (!hs_docs_next(d, &doc, &eof) && !eof) bytes += (int64_t)doc.len;
    hs_docs_close(d);
    *bytes_out = bytes;
    return now() - t0;
}

static double build(const hs_tokenizer *tok, const char *path, int threads, hs_tokens_stats *st, const char *save) {
    hs_docs_params dp = hs_docs_default_params();
    hs_tokens_params tp = hs_tokens_default_params();
    tp.threads = threads;
    double t0 = now();
    hs_docs *d;
    if (hs_docs_open(path, &dp, &d)) die(path);
    hs_array a;
    if (hs_tokens_build(tok, d, &tp, &a, st)) die("build");
    if (save && hs_npy_write(save, HS_I64, 2, a.shape, a.data)) die(save);
    double t = now() - t0;
    hs_array_free(&a);
    hs_docs_close(d);
    return t;
}

/* Writes ~target bytes of text as JSONL from dev.jsonl's documents (see header). */
static int64_t synthesize(const char *dev, const char *out, int64_t target, int64_t *docs_out) {
    hs_docs_params dp = hs_docs_default_params();
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); exit(1); }
    int64_t total = 0, docs = 0;
    char *buf = NULL;
    size_t cap = 0;
    for (int k = 0; total < target; k++) {
        hs_docs *d;
        if (hs_docs_open(dev, &dp, &d)) die(dev);
        hs_doc doc;
        bool eof;
        while (total < target && !hs_docs_next(d, &doc, &eof) && !eof) {
            /* JSON-escape, shifting ASCII letters by k mod 26 */
            if (cap < doc.len * 6 + 16) { cap = doc.len * 6 + 16; buf = realloc(buf, cap); }
            size_t n = 0;
            for (size_t i = 0; i < doc.len; i++) {
                unsigned char c = (unsigned char)doc.text[i];
                if (c >= 'a' && c <= 'z') c = (unsigned char)('a' + (c - 'a' + k) % 26);
                else if (c >= 'A' && c <= 'Z') c = (unsigned char)('A' + (c - 'A' + k) % 26);
                if (c == '"' || c == '\\') { buf[n++] = '\\'; buf[n++] = (char)c; }
                else if (c < 0x20) n += (size_t)sprintf(buf + n, "\\u%04x", c);
                else buf[n++] = (char)c;
            }
            fputs("{\"text\": \"", f);
            fwrite(buf, 1, n, f);
            fputs("\"}\n", f);
            total += (int64_t)doc.len;
            docs++;
        }
        hs_docs_close(d);
    }
    free(buf);
    fclose(f);
    *docs_out = docs;
    return total;
}

int main(int argc, char **argv) {
    const char *shared = HS_SOURCE_DIR "/../shared";
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else shared = argv[i];
    }
    char path[1024], dev[1024], tokpath[1024];
    snprintf(dev, sizeof dev, "%s/data/corpus/dev.jsonl", shared);
    snprintf(tokpath, sizeof tokpath, "%s/data/tokenizers/gpt-neox-20b.tokenizer.json", shared);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_dataset: %d cores, headscan %s, load average %.2f at start\n\n", cores, hs_version(), loadavg());

    /* 1. Parquet decoding */
    /* pile10k-shaped: the real file's layout (SNAPPY, dictionary); the ratio below uses it */
    static const char *files[] = {"pile10k-shaped.parquet", "dev.uncompressed.parquet", "dev.snappy.parquet",
                                  "dev.zstd.v2.parquet", "dev.gzip.rg64.p64k.parquet"};
    printf("1. Parquet text decoding (best of 5), MB = 1e6 bytes of text\n");
    double pq_mbs_min = 1e30, pq_mbs_pile = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/data/parquet/%s", shared, files[i]);
        double best = 1e30, bestd = 1e30;
        int64_t bytes = 0, b2 = 0;
        for (int r = 0; r < 5; r++) {
            double t = pq_decode(path, &bytes);
            if (t < best) best = t;
            t = docs_read(path, &b2);
            if (t < bestd) bestd = t;
        }
        double mbs = (double)b2 / 1e6 / bestd;
        if (mbs < pq_mbs_min) pq_mbs_min = mbs;
        if (i == 0) pq_mbs_pile = mbs;
        printf("   %-28s column reader %7.0f MB/s   document source (+UTF-8 check) %7.0f MB/s\n", files[i],
               (double)bytes / 1e6 / best, mbs);
    }
    int64_t jb;
    double tj = docs_read(dev, &jb);
    printf("   %-28s JSONL document source %7.0f MB/s\n\n", "dev.jsonl", (double)jb / 1e6 / tj);

    /* 2. docs -> tokens */
    hs_tokenizer *tok = NULL;
    printf("2. dev.jsonl -> token matrix (transformerlens, n_ctx 256, shuffle 42), best of 3,\n"
           "   each with a freshly loaded tokenizer (cold word caches, as in one `headscan tokens` run)\n");
    double base = 0, tok_mbs1 = 0;
    for (int threads = 1; threads <= 2; threads++) {
        double best = 1e30, best_cpu = 0;
        hs_tokens_stats st;
        for (int r = 0; r < 3; r++) {
            hs_tokenizer_free(tok);
            if (hs_tokenizer_load(tokpath, &tok)) die(tokpath);
            double c0 = cpu_s();
            double t = build(tok, dev, threads, &st, NULL);
            if (t < best) { best = t; best_cpu = cpu_s() - c0; }
        }
        if (threads == 1) { base = best; tok_mbs1 = (double)jb / 1e6 / best; }
        printf("   %d thread%s: %.3f s (CPU %.3f s)  %6.2f MB/s  %5.2f M tokens/s  speed-up vs 1 thread %.2fx\n", threads,
               threads > 1 ? "s" : " ", best, best_cpu, (double)jb / 1e6 / best, (double)st.tokens / 1e6 / best, base / best);
    }
    printf("   Parquet decoding / tokenization (1 thread), MB/s ratio: %.1fx for pile10k-shaped (SNAPPY),"
           " %.1fx for the slowest fixture\n\n", pq_mbs_pile / tok_mbs1, pq_mbs_min / tok_mbs1);

    /* 3. pile-10k-sized input */
    char dir[] = "/tmp/hs_bench_dataset.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(path, sizeof path, "%s/pile10k-like.jsonl", dir);
    int64_t docs;
    int64_t target = quick ? 6000000 : 60000000;
    int64_t bytes = synthesize(dev, path, target, &docs);
    char out[1200];
    snprintf(out, sizeof out, "%s/tokens.npy", dir);
    hs_tokens_stats st;
    double c0 = cpu_s();
    double t = build(tok, path, 0, &st, out);
    double c = cpu_s() - c0;
    printf("3. %s: %lld documents, %.1f MB of text -> %lld x 256 tokens (%.1f M tokens)\n", quick ? "quick (6 MB)" : "pile-10k-sized",
           (long long)docs, (double)bytes / 1e6, (long long)st.rows, (double)st.tokens / 1e6);
    printf("   full pipeline on %d threads (read, count, tokenize, shuffle, write .npy): %.1f s, CPU %.1f s (%.2f MB/s)\n",
           hs_get_num_threads(), t, c, (double)bytes / 1e6 / t);
    printf("   load average at the end %.2f\n", loadavg());
    unlink(out);
    unlink(path);
    rmdir(dir);
    hs_tokenizer_free(tok);
    return 0;
}
