/* test_tokens.c — the token matrix with the real GPT-NeoX tokenizer, byte for byte:
 *  - dev.jsonl, as JSONL and as every Parquet variant written from all of it, against
 *    shared/data/corpus/dev.tl-n256-shuffle42.npy (the steering side's matrix from the
 *    real HF tokenizers + numpy) AND against the hash our Python reference
 *    (tests/reference/tokens_ref.py, HF tokenizers oracle) produced — tokens_golden.txt;
 *  - the Parquet subsets (rows limited / nulls skipped) against the reference's hashes
 *    for the same dev.jsonl rows; no-shuffle, another n_ctx and seed, plain mode;
 *  - GPT-2's tokenizer (pad = eos = bos = 50256), both modes;
 *  - the per-batch accounting against the shared sidecar (pad/EOS dropped, tails);
 *  - 1 and 2 threads give the same bytes. */
#include "headscan/headscan.h"
#include "data/data_internal.h"
#include "test.h"
#include "data_test_util.h"
#include <cjson/cJSON.h>
#include <unistd.h>

#define SHARED HS_SHARED_DIR "/data/"
#define GOLDEN HS_SOURCE_DIR "/tests/data/tokens_golden.txt"

static hs_tokenizer *tok;

static int build(const char *path, const hs_tokens_params *tp, hs_array *out, hs_tokens_stats *st) {
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *d;
    hs_status s = hs_docs_open(path, &dp, &d);
    if (!s) s = hs_tokens_build(tok, d, tp, out, st);
    if (d && !s) {
        /* save + reload round trip through the sidecar writer */
        char npy[256];
        snprintf(npy, sizeof npy, "/tmp/hs_test_tokens.%d.npy", (int)getpid());
        s = hs_tokens_save(npy, out, d, SHARED "tokenizers/gpt-neox-20b.tokenizer.json", tp, st);
        hs_array back;
        if (!s) s = hs_tokens_load(npy, &back);
        if (!s) {
            CHECK(back.shape[0] == out->shape[0] && !memcmp(back.data, out->data, (size_t)hs_array_numel(out) * 8), "reload");
            hs_array_free(&back);
        }
        remove(npy);
        strcat(npy, ".json");
        remove(npy);
    }
    hs_docs_close(d);
    if (s) fprintf(stderr, "%s: %s\n", path, hs_last_error());
    return s == HS_OK;
}

static void check_case(const char *path, const char *gcase, const hs_tokens_params *tp, const hs_array *shared) {
    long long rows = -1;
    char want[65] = "", got[65] = "";
    CHECK(golden_lookup(GOLDEN, gcase, &rows, want), "golden %s", gcase);
    hs_array a;
    hs_tokens_stats st;
    if (!build(path, tp, &a, &st)) { CHECK(0, "%s: build failed", path); return; }
    CHECK(a.ndim == 2 && a.shape[0] == rows && a.shape[1] == tp->n_ctx, "%s (%s): %lld rows, want %lld", path, gcase,
          (long long)a.shape[0], rows);
    hs_data_sha256(a.data, (size_t)hs_array_numel(&a) * 8, got);
    CHECK(!strcmp(got, want), "%s (%s): differs from the Python reference", path, gcase);
    if (shared)
        CHECK(a.shape[0] == shared->shape[0] && !memcmp(a.data, shared->data, (size_t)hs_array_numel(shared) * 8),
              "%s: differs from shared dev.tl-n256-shuffle42.npy", path);
    hs_array_free(&a);
}

int main(void) {
    CHECK_OK(hs_tokenizer_load(SHARED "tokenizers/gpt-neox-20b.tokenizer.json", &tok));
    if (!tok) return test_report("test_tokens");
    hs_array shared;
    CHECK_OK(hs_tokens_load(SHARED "corpus/dev.tl-n256-shuffle42.npy", &shared));
    hs_tokens_params tp = hs_tokens_default_params();

    /* the study's settings on dev.jsonl and every full Parquet copy of it */
    static const char *full[] = {"corpus/dev.jsonl", "parquet/dev.uncompressed.parquet", "parquet/dev.snappy.parquet",
        "parquet/dev.gzip.rg64.p64k.parquet", "parquet/dev.zstd.v2.parquet", "parquet/pile10k-shaped.parquet"};
    for (size_t i = 0; i < sizeof full / sizeof *full; i++) {
        char path[512];
        snprintf(path, sizeof path, SHARED "%s", full[i]);
        for (int threads = 1; threads <= (i == 0 ? 2 : 1); threads++) {
            hs_tokens_params p = tp;
            p.threads = threads;
            check_case(path, "tl_dev", &p, shared.data ? &shared : NULL);
        }
    }
    /* accounting agrees with the shared sidecar's per-batch figures */
    {
        char *js;
        size_t n;
        CHECK_OK(hs_read_file(SHARED "corpus/dev.tl-n256-shuffle42.npy.json", 0, &js, &n));
        cJSON *j = js ? cJSON_Parse(js) : NULL;
        long long pad = 0, tail = 0, kept = 0;
        cJSON *b, *batches = cJSON_GetObjectItem(j, "batches");
        cJSON_ArrayForEach(b, batches) {
            pad += (long long)cJSON_GetObjectItem(b, "pad_eos_dropped")->valuedouble;
            tail += (long long)cJSON_GetObjectItem(b, "tail_tokens_dropped")->valuedouble;
            kept += (long long)cJSON_GetObjectItem(b, "tokens_kept")->valuedouble;
        }
        hs_array a;
        hs_tokens_stats st;
        if (build(SHARED "corpus/dev.jsonl", &tp, &a, &st)) {
            CHECK(st.pad_removed == pad && st.tail_dropped == tail && st.tokens - st.pad_removed == kept &&
                  st.batches == cJSON_GetArraySize(batches),
                  "stats pad %lld/%lld tail %lld/%lld kept %lld/%lld", (long long)st.pad_removed, pad,
                  (long long)st.tail_dropped, tail, (long long)(st.tokens - st.pad_removed), kept);
            hs_array_free(&a);
        }
        cJSON_Delete(j);
        free(js);
    }
    /* Parquet subsets of dev.jsonl vs the reference on the same rows */
    static const struct { const char *file, *gcase; } sub[] = {
        {"parquet/dev.snappy.rg7.p8k.parquet", "tl_first120"}, {"parquet/pile10k-shaped.meta-string.parquet", "tl_first100"},
        {"parquet/dev.hyparquet.snappy.parquet", "tl_first100"}, {"parquet/dict-fallback.parquet", "tl_first60"},
        {"parquet/delta-length.zstd.v2.parquet", "tl_first40"}, {"parquet/delta-byte-array.v2.parquet", "tl_first40"},
        {"parquet/brotli.parquet", "tl_first30"}, {"parquet/lz4raw.parquet", "tl_first30"},
        {"parquet/nulls.snappy.parquet", "tl_nulls5_first80"}, {"parquet/nulls.hyparquet.gzip.parquet", "tl_nulls4_80_40"}};
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        char path[512];
        snprintf(path, sizeof path, SHARED "%s", sub[i].file);
        check_case(path, sub[i].gcase, &tp, NULL);
    }
    /* other settings */
    hs_tokens_params p = tp;
    p.shuffle = false;
    check_case(SHARED "corpus/dev.jsonl", "tl_dev_noshuffle", &p, NULL);
    p = tp;
    p.n_ctx = 64;
    p.seed = 1;
    check_case(SHARED "corpus/dev.jsonl", "tl_dev_n64_seed1", &p, NULL);
    p = tp;
    p.mode = HS_TOKENS_PLAIN;
    p.threads = 2;
    check_case(SHARED "parquet/dev.snappy.parquet", "plain_dev", &p, NULL);

    /* GPT-2: pad = eos = bos = 50256 */
    hs_tokenizer *neox = tok;
    CHECK_OK(hs_tokenizer_load(SHARED "tokenizers/gpt2.tokenizer.json", &tok));
    if (tok) {
        check_case(SHARED "corpus/dev.jsonl", "tl_dev_gpt2", &tp, NULL);
        p = tp;
        p.mode = HS_TOKENS_PLAIN;
        p.n_ctx = 128;
        check_case(SHARED "corpus/dev.jsonl", "plain_dev_gpt2", &p, NULL);
        hs_tokenizer_free(tok);
    }
    tok = neox;

    /* Llama family (llama.md §8): chunks encoded with add_special_tokens, so Llama-2/-3's
     * post-processor BOS starts every chunk inside the rows; pad = the model's EOS (removed,
     * and its string joins documents); BOS column 1 / 128000; Qwen2 has no BOS column */
    static const struct { const char *file, *gcase; int32_t eos; bool col; } fam[] = {
        {"llama3", "tl_first60_llama3", 128001, true}, {"llama2", "tl_first60_llama2", 2, true},
        {"qwen2", "tl_first60_qwen2", 151643, false}};
    for (size_t i = 0; i < sizeof fam / sizeof *fam; i++) {
        char path[512];
        snprintf(path, sizeof path, SHARED "tokenizers/%s.tokenizer.json", fam[i].file);
        CHECK_OK(hs_tokenizer_load(path, &tok));
        if (!tok) continue;
        p = tp;
        p.eos_id = fam[i].eos;
        p.bos_column = fam[i].col;
        check_case(SHARED "parquet/dict-fallback.parquet", fam[i].gcase, &p, NULL);
        hs_tokenizer_free(tok);
    }
    tok = neox;

    hs_array_free(&shared);
    hs_tokenizer_free(tok);
    return test_report("test_tokens");
}
