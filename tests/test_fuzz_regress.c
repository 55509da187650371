/* test_fuzz_regress.c — replays every committed fuzz input through the fuzz targets' own
 * entry points (fuzz/<target>.c, compiled here with HS_FUZZ_REGRESS so each becomes
 * fuzz_<target>()): the seeds in fuzz/corpus/<target>/ and every input a fuzzer once
 * crashed on, in fuzz/regress/<target>/. In the sanitizer build (make test-asan) any
 * memory error, undefined behaviour or leak fails the run; in every build a crash does.
 * Each past finding also has a direct check of the fixed behaviour below, so the test
 * fails without sanitizers too if a fix is undone. */
#define _GNU_SOURCE
#define HS_FUZZ_REGRESS
#include "../fuzz/safetensors.c"
#include "../fuzz/config.c"
#include "../fuzz/tokenizer_load.c"
#include "../fuzz/tokenizer_encode.c"
#include "../fuzz/tokenizer_family.c"
#include "../fuzz/parquet.c"
#include "../fuzz/jsonl.c"
#include "../fuzz/npy.c"
#include "../fuzz/hub.c"
#include "test.h"
#include "core/internal.h"
#include <dirent.h>

typedef int (*entry_fn)(const uint8_t *, size_t);
static const struct { const char *name; entry_fn fn; } targets[] = {
    {"safetensors", fuzz_safetensors}, {"config", fuzz_config}, {"tokenizer_load", fuzz_tokenizer_load},
    {"tokenizer_encode", fuzz_tokenizer_encode}, {"tokenizer_family", fuzz_tokenizer_family}, {"parquet", fuzz_parquet}, {"jsonl", fuzz_jsonl},
    {"npy", fuzz_npy}, {"hub", fuzz_hub},
};

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every file of dir through fn; returns how many. */
static int replay(const char *dir, entry_fn fn) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *data;
        size_t len;
        if (hs_read_file(path, 0, &data, &len) == HS_OK) {
            fn((const uint8_t *)data, len);
            free(data);
        } else {
            CHECK(0, "%s: %s", path, hs_last_error());
        }
        free(names[i]);
    }
    return n;
}


/* The fixed behaviours, one check per past finding. */
static void check_findings(void) {
    /* npy: shape (2, 5555000000000000000, 0) — an empty array; its element count used
     * to overflow int64 in hs_array_numel. */
    hs_array a = {.ndim = 3, .shape = {2, 5555000000000000000LL, 0}};
    CHECK(hs_array_numel(&a) == 0, "numel %lld", (long long)hs_array_numel(&a));
    hs_array b = {.ndim = 2, .shape = {5555000000000000000LL, 2}};
    CHECK(hs_array_numel(&b) == -1, "overflowing numel %lld", (long long)hs_array_numel(&b));
    /* ... and a shape whose non-zero dimensions overflow int64 is refused by the reader */
    static const char hdr[] = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4000000000000000000, 0), }";
    uint8_t f[128] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(sizeof hdr - 1), 0};
    memcpy(f + 10, hdr, sizeof hdr - 1);
    const char *p = fuzz_write("overflow.npy", f, 10 + sizeof hdr - 1);
    hs_array c;
    CHECK(hs_npy_read(p, &c) == HS_ERR_FORMAT && strstr(hs_last_error(), "shape overflows"), "%s", hs_last_error());

    /* hub: a status line with no NUL after it ("HTTP/1.1 30" at the end of curl's buffer)
     * was read past its end by strtol; the digits within the line are the status. */
    hub_meta m;
    char *next = NULL;
    static const char resp[] = "HTTP/1.1 307\r\nLocation: /a/b";
    CHECK(hub_parse_head_response("https://h/x/y", resp, sizeof resp - 1, 0, &m, &next) == HS_OK && next &&
              !strcmp(next, "https://h/a/b"), "redirect -> %s", next ? next : "(none)");
    free(next);
    hub_meta_free(&m);
    /* the 11th relative redirect is refused */
    CHECK(hub_parse_head_response("https://h/x/y", resp, sizeof resp - 1, 10, &m, &next) == HS_ERR_NETWORK &&
              strstr(hs_last_error(), "too many redirects"), "%s", hs_last_error());
    hub_meta_free(&m);

    /* config.json: an integer field of 5.1e124 (beyond int) is a clear error, not UB */
    static const char cfg[] = "{\"model_type\": \"gpt_neox\", \"hidden_size\": 5.11111e124}";
    fuzz_write("config.json", (const uint8_t *)cfg, sizeof cfg - 1);
    hs_model_config mc;
    CHECK(hs_model_read_config(fuzz_dir(), &mc) == HS_ERR_FORMAT && strstr(hs_last_error(), "hidden_size"), "%s",
          hs_last_error());
    static const char cfg2[] = "{\"model_type\": \"gpt_neox\", \"hidden_size\": 16, \"num_attention_heads\": 4,"
                               "\"num_hidden_layers\": 1, \"intermediate_size\": 8, \"max_position_embeddings\": 8,"
                               "\"vocab_size\": 8, \"layer_norm_eps\": 1e300}";
    fuzz_write("config.json", (const uint8_t *)cfg2, sizeof cfg2 - 1);
    CHECK(hs_model_read_config(fuzz_dir(), &mc) == HS_ERR_FORMAT && strstr(hs_last_error(), "finite"), "%s",
          hs_last_error());

    /* tokenizer.json: an added token whose content is not UTF-8 (0xF4 0xF4: decoded to a
     * code point beyond U+10FFFF) indexed past the NFC tables; the file is now refused */
    static const char tj[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
                             "\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"},"
                             "\"decoder\": {\"type\": \"ByteLevel\"}, \"added_tokens\": [{\"id\": 1, \"content\": \"x\xf4\xf4\"}]}";
    p = fuzz_write("tokenizer.json", (const uint8_t *)tj, sizeof tj - 1);
    hs_tokenizer *tk = NULL;
    CHECK(hs_tokenizer_load(p, &tk) == HS_ERR_FORMAT && strstr(hs_last_error(), "not valid UTF-8"), "%s", hs_last_error());
    hs_tokenizer_free(tk);

    /* tokenizer.json: a decoder chain whose tokens are all empty (Strip of " ") built a token
     * list with no buffer and offset a NULL pointer (UBSan); decode now gives "" */
    static const char tj2[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\" \": 0}, \"merges\": []},"
                              "\"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Strip\", \"content\": \" \","
                              "\"start\": 1, \"stop\": 0}, {\"type\": \"ByteFallback\"}]}}";
    p = fuzz_write("tokenizer.json", (const uint8_t *)tj2, sizeof tj2 - 1);
    tk = NULL;
    CHECK_OK(hs_tokenizer_load(p, &tk));
    if (tk) {
        int32_t ids[2] = {0, 0};
        char *dec = NULL;
        size_t dn = 9;
        CHECK(hs_tokenizer_decode(tk, ids, 2, &dec, &dn) == HS_OK && dec && dn == 0 && !dec[0], "empty-token decode");
        free(dec);
        hs_tokenizer_free(tk);
    }

    /* safetensors: data_offsets of 2.2e76 (beyond uint64) is a clear error, not UB */
    static const char st[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,2.2e76]}}";
    uint8_t sf[128] = {sizeof st - 1};
    memcpy(sf + 8, st, sizeof st - 1);
    p = fuzz_write("x.safetensors", sf, 8 + sizeof st - 1 + 4);
    hs_safetensors s;
    CHECK(hs_st_open(p, &s) == HS_ERR_FORMAT && strstr(hs_last_error(), "data_offsets"), "%s", hs_last_error());
}

static char *seed(const char *target, const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/fuzz/corpus/%s/%s", HS_SOURCE_DIR, target, name);
    char *d = NULL;
    CHECK_OK(hs_read_file(path, 0, &d, len));
    return d;
}

/* The seeds are what fuzz/make_seeds.py meant to write (else the fuzzers would start
 * from rejected inputs): the valid ones parse, with the values they were built from. */
static void check_seeds(void) {
    static const char *const want[] = {"alpha", "", "gamma delta", "\xc3\xa9t\xc3\xa9"};
    static const char *const pq_files[] = {"plain", "gzip"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *d = seed("parquet", pq_files[k], &len);
        hs_parquet *pq;
        int col = -1, n = 0;
        hs_pq_reader *r;
        if (d && !hs_parquet_open_memory(d, len, pq_files[k], &pq)) {
            if (!hs_parquet_text_column(pq, "text", &col) && !hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r)) {
                hs_pq_value v;
                bool eof;
                while (!hs_parquet_reader_next(r, &v, &eof) && !eof && n < 4) {
                    CHECK(v.len == strlen(want[n]) && !memcmp(v.data, want[n], v.len), "%s value %d", pq_files[k], n);
                    n++;
                }
                hs_parquet_reader_free(r);
            }
            hs_parquet_close(pq);
        }
        CHECK(n == 4, "parquet seed %s: %d values (%s)", pq_files[k], n, hs_last_error());
        free(d);
    }
    size_t len;
    char *d = seed("tokenizer_load", "mini", &len);
    const char *p = fuzz_write("tokenizer.json", (const uint8_t *)d, len);
    free(d);
    hs_tokenizer *tok = NULL;
    CHECK_OK(hs_tokenizer_load(p, &tok));
    if (tok) {
        hs_ids ids = {0};
        CHECK_OK(hs_tokenizer_encode(tok, "hello world", 11, HS_UTF8_STRICT, &ids));
        /* merges: he + ll -> hell, hell + o -> hello; \u0120w + or -> \u0120wor, then "l", "d" */
        CHECK(ids.len == 4, "mini tokenizer: %zu ids", ids.len);
        hs_ids_free(&ids);
        hs_tokenizer_free(tok);
    }
    d = seed("safetensors", "mixed", &len);
    p = fuzz_write("m.safetensors", (const uint8_t *)d, len);
    free(d);
    hs_safetensors st;
    CHECK_OK(hs_st_open(p, &st));
    if (st.path) {
        CHECK(st.n_tensors == 6, "%d tensors", st.n_tensors);
        hs_st_close(&st);
    }
    d = seed("npy", "f4", &len);
    p = fuzz_write("f4.npy", (const uint8_t *)d, len);
    free(d);
    hs_array a;
    CHECK_OK(hs_npy_read(p, &a));
    CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && ((float *)a.data)[5] == 5.0f, "npy seed");
    hs_array_free(&a);
}

int main(void) {
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", HS_SOURCE_DIR, targets[t].name);
        int seeds = replay(dir, targets[t].fn);
        CHECK(seeds > 0, "no seeds in %s", dir);
        snprintf(dir, sizeof dir, "%s/fuzz/regress/%s", HS_SOURCE_DIR, targets[t].name);
        int regress = replay(dir, targets[t].fn);
        printf("%-18s %3d seeds, %3d regression inputs\n", targets[t].name, seeds, regress);
    }
    check_findings();
    check_seeds();
    return test_report("test_fuzz_regress");
}
