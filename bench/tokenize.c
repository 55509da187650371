/* tokenize.c — bench_tokenize: headscan's encode throughput on a JSONL corpus.
 *   bench_tokenize TOKENIZER_JSON CORPUS.jsonl [PASSES]
 * Single thread: a fresh tokenizer encodes every document in order, PASSES times (first pass =
 * cold word cache). Whole-dataset: hs_tokenizer_encode_batch on 1 and on 2 threads (best of
 * PASSES each). Loading and JSON parsing are outside the timings. Run via bench/tokenize.sh,
 * which measures HF tokenizers in the same run and prints the ratio. */
#include "../tests/tokenizer/test_jsonl.h"
#include "headscan/tokenizer.h"
#include <time.h>

static double clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenize TOKENIZER_JSON CORPUS.jsonl [PASSES]\n");
        return 2;
    }
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    if (passes < 1) passes = 1;
    jsonl_file docs = jsonl_load(argv[2]);
    if (!docs.n) return 1;
    const char **texts = malloc(docs.n * sizeof *texts);
    size_t *lens = malloc(docs.n * sizeof *lens), bytes = 0;
    for (size_t i = 0; i < docs.n; i++) {
        texts[i] = jsonl_str(docs.rows[i], "text", &lens[i]);
        if (!texts[i]) { texts[i] = ""; lens[i] = 0; }
        bytes += lens[i];
    }
    hs_tokenizer *tok;
    if (hs_tokenizer_load(argv[1], &tok) != HS_OK) {
        fprintf(stderr, "bench_tokenize: %s\n", hs_last_error());
        return 1;
    }
    double first = 0, best = 1e30, best_cpu = 1e30;
    size_t tokens = 0;
    hs_ids ids = {0};
    for (int p = 0; p < passes; p++) {
        tokens = 0;
        double t0 = now_ms(), c0 = cpu_ms();
        for (size_t i = 0; i < docs.n; i++) {
            ids.len = 0;
            if (hs_tokenizer_encode(tok, texts[i], lens[i], HS_UTF8_STRICT, &ids) != HS_OK) {
                fprintf(stderr, "bench_tokenize: doc %zu: %s\n", i, hs_last_error());
                return 1;
            }
            tokens += ids.len;
        }
        double ms = now_ms() - t0, cpu = cpu_ms() - c0;
        if (p == 0) first = ms;
        if (ms < best) best = ms;
        if (cpu < best_cpu) best_cpu = cpu;
    }
    hs_ids_free(&ids);
    printf("headscan passes=%d docs=%zu bytes=%zu tokens=%zu first_ms=%.1f best_ms=%.1f best_cpu_ms=%.1f MB_per_s=%.1f\n",
           passes, docs.n, bytes, tokens, first, best, best_cpu, bytes / 1e3 / best);
    /* whole dataset on 1 and 2 threads */
    hs_ids *outs = calloc(docs.n, sizeof *outs);
    /* CPU time (all threads) tells whether the 2-thread run does extra work; wall-clock
     * speed-up also depends on whether a second core is free (the machine may be shared). */
    double bt[3] = {0, 1e30, 1e30}, bc[3] = {0, 1e30, 1e30};
    for (int nt = 1; nt <= 2; nt++) {
        hs_set_num_threads(nt);
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < docs.n; i++) outs[i].len = 0;
            double t0 = now_ms(), c0 = cpu_ms();
            if (hs_tokenizer_encode_batch(tok, texts, lens, docs.n, HS_UTF8_STRICT, outs) != HS_OK) return 1;
            double ms = now_ms() - t0, cpu = cpu_ms() - c0;
            if (ms < bt[nt]) bt[nt] = ms;
            if (cpu < bc[nt]) bc[nt] = cpu;
        }
    }
    printf("headscan batch threads=1 best_ms=%.1f cpu_ms=%.1f threads=2 best_ms=%.1f cpu_ms=%.1f speedup=%.2f\n", bt[1],
           bc[1], bt[2], bc[2], bt[1] / bt[2]);
    for (size_t i = 0; i < docs.n; i++) hs_ids_free(&outs[i]);
    free(outs);
    free(texts);
    free(lens);
    hs_tokenizer_free(tok);
    jsonl_free(&docs);
    return 0;
}
