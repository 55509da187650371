/* test_tokenizer_corpus.c — the tokenizer against the HF tokenizers oracle on the whole dev
 * corpus (../shared/data/corpus/dev.jsonl; dev.tokens.jsonl holds the oracle's ids for
 * GPT-NeoX-20B and GPT-2), through every code path:
 *   - single thread, cached (normal path) and again with the per-thread cache warm;
 *   - every word through the heap BPE (hs_tok_bpe_heap_threshold = 0);
 *   - 2 and 4 pthreads sharing one handle, each encoding all documents in a different order;
 *   - hs_tokenizer_encode_batch on 2 threads;
 *   - decode(encode(text)) == text for GPT-2 (no normalizer: byte-level BPE round-trips)
 *     and == text for the NeoX documents NFC leaves unchanged.
 */
#include "test.h"
#include "tokenizer/test_jsonl.h"
#include "tokenizer/tok_internal.h"
#include "headscan/tokenizer.h"
#include <pthread.h>

static const char *names[2] = {"gpt-neox-20b", "gpt2"};
static const char *fields[2] = {"neox", "gpt2"};

typedef struct {
    const hs_tokenizer *tok;
    jsonl_file *docs;
    hs_ids *want;
    size_t start, step;
    int mismatches, errors;
} worker_arg;

static void *worker(void *p) {
    worker_arg *w = p;
    size_t n = w->docs->n;
    for (size_t k = 0; k < n; k++) {
        size_t i = (w->start + k * w->step) % n;   /* step is coprime with n: a permutation */
        size_t len = 0;
        const char *text = jsonl_str(w->docs->rows[i], "text", &len);
        hs_ids got = {0};
        if (hs_tokenizer_encode(w->tok, text, len, HS_UTF8_STRICT, &got) != HS_OK) w->errors++;
        else if (!ids_equal(&got, &w->want[i])) w->mismatches++;
        hs_ids_free(&got);
    }
    return NULL;
}

static size_t coprime_step(size_t n, size_t s) {
    while (1) {
        size_t a = n, b = s;
        while (b) { size_t t = a % b; a = b; b = t; }
        if (a == 1) return s;
        s++;
    }
}

int main(void) {
    jsonl_file docs = jsonl_load(HS_SHARED_DIR "/data/corpus/dev.jsonl");
    jsonl_file ref = jsonl_load(HS_SHARED_DIR "/data/corpus/dev.tokens.jsonl");
    CHECK(docs.n == 322 && ref.n == 322, "dev corpus: %zu docs, %zu token rows", docs.n, ref.n);
    if (docs.n != ref.n || !docs.n) return test_report("test_tokenizer_corpus");

    for (int t = 0; t < 2; t++) {
        char path[512];
        snprintf(path, sizeof path, HS_SHARED_DIR "/data/tokenizers/%s.tokenizer.json", names[t]);
        hs_tokenizer *tok = NULL;
        CHECK_OK(hs_tokenizer_load(path, &tok));
        if (!tok) continue;
        hs_ids *want = calloc(docs.n, sizeof *want);
        for (size_t i = 0; i < docs.n; i++) CHECK(jsonl_ids(ref.rows[i], fields[t], &want[i]), "doc %zu: no %s ids", i, fields[t]);

        /* single thread, twice (cold and warm cache), then with the heap BPE everywhere on a
         * fresh handle (a new handle starts with an empty word cache) */
        hs_tokenizer *fresh = NULL;
        CHECK_OK(hs_tokenizer_load(path, &fresh));
        for (int pass = 0; pass < 3 && fresh; pass++) {
            hs_tok_bpe_heap_threshold = pass == 2 ? 0 : 48;
            const hs_tokenizer *use = pass == 2 ? fresh : tok;
            int bad = 0;
            size_t total = 0;
            for (size_t i = 0; i < docs.n; i++) {
                size_t len = 0;
                const char *text = jsonl_str(docs.rows[i], "text", &len);
                hs_ids got = {0};
                CHECK_OK(hs_tokenizer_encode(use, text, len, HS_UTF8_STRICT, &got));
                total += got.len;
                if (!ids_equal(&got, &want[i])) {
                    if (bad++ < 5)
                        CHECK(0, "%s pass %d doc %zu: %zu ids vs oracle %zu, first difference at %zu", names[t], pass,
                              i, got.len, want[i].len, ids_diff_at(&got, &want[i]));
                }
                /* decode round trip */
                if (pass == 0) {
                    char *dec;
                    size_t dlen;
                    CHECK_OK(hs_tokenizer_decode(tok, got.data, got.len, &dec, &dlen));
                    int nfc_stable = t == 1 || hs_nfc_quick((const uint8_t *)text, len);
                    if (nfc_stable) CHECK(dlen == len && memcmp(dec, text, len) == 0, "%s doc %zu: decode(encode(text)) != text", names[t], i);
                    free(dec);
                }
                hs_ids_free(&got);
            }
            CHECK(bad == 0, "%s pass %d: %d of %zu documents differ from the oracle", names[t], pass, bad, docs.n);
            printf("%s pass %d: %zu documents, %zu tokens, %d differ\n", names[t], pass, docs.n, total, bad);
        }
        hs_tok_bpe_heap_threshold = 48;
        hs_tokenizer_free(fresh);

        /* pthreads sharing the handle */
        for (int nt = 2; nt <= 4; nt += 2) {
            pthread_t th[4];
            worker_arg args[4];
            for (int k = 0; k < nt; k++) {
                args[k] = (worker_arg){tok, &docs, want, (size_t)k * 97, coprime_step(docs.n, 1 + 2 * (size_t)k), 0, 0};
                CHECK(pthread_create(&th[k], NULL, worker, &args[k]) == 0, "pthread_create");
            }
            for (int k = 0; k < nt; k++) {
                pthread_join(th[k], NULL);
                CHECK(args[k].errors == 0 && args[k].mismatches == 0, "%s, %d threads, thread %d: %d errors, %d mismatches",
                      names[t], nt, k, args[k].errors, args[k].mismatches);
            }
        }

        /* batch API on 2 threads */
        const char **texts = malloc(docs.n * sizeof *texts);
        size_t *lens = malloc(docs.n * sizeof *lens);
        hs_ids *outs = calloc(docs.n, sizeof *outs);
        for (size_t i = 0; i < docs.n; i++) texts[i] = jsonl_str(docs.rows[i], "text", &lens[i]);
        hs_set_num_threads(2);
        CHECK_OK(hs_tokenizer_encode_batch(tok, texts, lens, docs.n, HS_UTF8_STRICT, outs));
        int bad = 0;
        for (size_t i = 0; i < docs.n; i++) {
            bad += !ids_equal(&outs[i], &want[i]);
            hs_ids_free(&outs[i]);
        }
        CHECK(bad == 0, "%s: encode_batch on 2 threads: %d documents differ", names[t], bad);
        free(texts);
        free(lens);
        free(outs);
        for (size_t i = 0; i < docs.n; i++) hs_ids_free(&want[i]);
        free(want);
        hs_tokenizer_free(tok);
    }
    jsonl_free(&docs);
    jsonl_free(&ref);
    return test_report("test_tokenizer_corpus");
}
