/* test_tokenizer_golden.c — the tokenizer against HF tokenizers outputs that do not come from
 * the dev corpus:
 *   - tests/tokenizer/adversarial.jsonl (our own inputs) vs golden/adversarial.<tok>.jsonl
 *     (ids and decode(ids) from the oracle, tests/tokenizer/make-goldens.sh), both tokenizers;
 *   - the verified vectors of shared/spec/tokenizer.md §2-§4 (oracle values quoted there);
 *   - TransformerLens conveniences: to_tokens/prepend_bos, per-token strings, display form;
 *   - bad input: invalid UTF-8 (strict error with offset / replacement as Python's
 *     errors="replace"), unsupported or malformed tokenizer.json files.
 */
#include "test.h"
#include "tokenizer/test_jsonl.h"
#include "headscan/tokenizer.h"
#include <unistd.h>

#define TOKDIR HS_SHARED_DIR "/data/tokenizers/"

static hs_tokenizer *load(const char *name) {
    hs_tokenizer *t = NULL;
    char path[512];
    snprintf(path, sizeof path, TOKDIR "%s.tokenizer.json", name);
    CHECK_OK(hs_tokenizer_load(path, &t));
    return t;
}

static void check_vec(const hs_tokenizer *t, const char *text, size_t len, const int32_t *want, size_t n) {
    hs_ids got = {0};
    CHECK_OK(hs_tokenizer_encode(t, text, len, HS_UTF8_STRICT, &got));
    hs_ids w = {(int32_t *)want, n, n};
    CHECK(ids_equal(&got, &w), "vector \"%.*s\": %zu ids, first difference at %zu", (int)len, text, got.len,
          ids_diff_at(&got, &w));
    hs_ids_free(&got);
}
#define VEC(t, s, ...) do { static const int32_t w_[] = {__VA_ARGS__}; \
    check_vec(t, s, sizeof s - 1, w_, sizeof w_ / sizeof *w_); } while (0)

static void adversarial(const char *name) {
    hs_tokenizer *t = load(name);
    if (!t) return;
    char path[512];
    snprintf(path, sizeof path, HS_SOURCE_DIR "/tests/tokenizer/golden/adversarial.%s.jsonl", name);
    jsonl_file in = jsonl_load(HS_SOURCE_DIR "/tests/tokenizer/adversarial.jsonl"), gold = jsonl_load(path);
    CHECK(in.n > 400 && in.n == gold.n, "%s: %zu inputs, %zu goldens", name, in.n, gold.n);
    int bad = 0, bad_dec = 0;
    for (size_t i = 0; i < in.n && i < gold.n; i++) {
        size_t len, dlen_want, nlen;
        const char *text = jsonl_str(in.rows[i], "text", &len);
        const char *dname = jsonl_str(in.rows[i], "name", &nlen);
        const char *dec_want = jsonl_str(gold.rows[i], "decoded", &dlen_want);
        hs_ids want, got = {0};
        jsonl_ids(gold.rows[i], "ids", &want);
        CHECK_OK(hs_tokenizer_encode(t, text, len, HS_UTF8_STRICT, &got));
        if (!ids_equal(&got, &want) && bad++ < 10)
            CHECK(0, "%s %s: %zu ids vs oracle %zu, first difference at %zu", name, dname, got.len, want.len,
                  ids_diff_at(&got, &want));
        char *dec;
        size_t dlen;
        CHECK_OK(hs_tokenizer_decode(t, want.data, want.len, &dec, &dlen));
        if (!(dec && dlen == dlen_want && memcmp(dec, dec_want, dlen) == 0) && bad_dec++ < 10)
            CHECK(0, "%s %s: decode differs from the oracle's", name, dname);
        free(dec);
        hs_ids_free(&want);
        hs_ids_free(&got);
    }
    CHECK(bad == 0 && bad_dec == 0, "%s: %d encodings and %d decodings of %zu differ", name, bad, bad_dec, in.n);
    printf("%s: %zu adversarial documents checked\n", name, in.n);
    jsonl_free(&in);
    jsonl_free(&gold);
    hs_tokenizer_free(t);
}

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    fputs(s, f);
    fclose(f);
}

/* A tokenizer.json variant must be rejected with `status` and a message containing `needle`. */
static void expect_reject(const char *json, hs_status status, const char *needle) {
    char path[] = "/tmp/hs_tok_bad_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, json);
    hs_tokenizer *t = NULL;
    hs_status s = hs_tokenizer_load(path, &t);
    CHECK(s == status && !t, "%s: got status %s", needle, hs_status_str(s));
    CHECK(strstr(hs_last_error(), needle) && strstr(hs_last_error(), path), "message \"%s\" lacks \"%s\" or the path",
          hs_last_error(), needle);
    hs_tokenizer_free(t);
    unlink(path);
}

static void bad_files(void) {
    /* head + TAIL is the file; each must be rejected naming the offending field */
#define BPE "\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}"
#define BL "\"pre_tokenizer\":{\"type\":\"ByteLevel\"}"
#define BPE_A "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}"   /* char-level, no pre-tokenizer */
#define TAIL ",\"decoder\":{\"type\":\"ByteLevel\"},\"added_tokens\":[]}"
    static const struct { const char *head; hs_status st; const char *needle; } cases[] = {
        {"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}," BL, HS_ERR_UNSUPPORTED, "model.type \"WordPiece\""},
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}," BL, HS_ERR_UNSUPPORTED, "model.type \"Unigram\""},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Whitespace\"}", HS_ERR_UNSUPPORTED, "pre_tokenizer.type \"Whitespace\""},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Sequence\"}", HS_ERR_UNSUPPORTED, "pre_tokenizer.type \"Sequence\""},
        {"{\"normalizer\":{\"type\":\"NFKC\"}," BPE "," BL, HS_ERR_UNSUPPORTED, "normalizer.type \"NFKC\""},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],\"dropout\":0.1}," BL, HS_ERR_UNSUPPORTED, "model.dropout"},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true}", HS_ERR_UNSUPPORTED,
         "pre_tokenizer.add_prefix_space"},
        {"{" BPE "," BL ",\"decoder\":{\"type\":\"WordPiece\"}}", HS_ERR_UNSUPPORTED, "decoder.type \"WordPiece\""},
        /* byte-level BPE needs every byte symbol: a 2-entry vocab must fail */
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[]}," BL, HS_ERR_UNSUPPORTED,
         "byte-level symbol"},
        /* Llama-family pipeline parts headscan does not implement: errors name the JSON path */
        {"{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"x\"},"
         "{\"type\":\"NFKC\"}]}," BPE "," BL, HS_ERR_UNSUPPORTED, "normalizer.normalizers[1].type \"NFKC\""},
        {"{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" +\"},\"content\":\"x\"}," BPE "," BL,
         HS_ERR_UNSUPPORTED, "normalizer.pattern"},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
         "{\"Regex\":\"(\"},\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\"}]}", HS_ERR_UNSUPPORTED,
         "pre_tokenizer.pretokenizers[0].pattern.Regex"},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\"x\"},\"behavior\":\"Sideways\"}",
         HS_ERR_UNSUPPORTED, "pre_tokenizer.behavior \"Sideways\""},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"ByteLevel\"},{\"type\":\"Metaspace\","
         "\"replacement\":\"_\"}]}", HS_ERR_UNSUPPORTED, "pre_tokenizer.pretokenizers[1]: a pre-tokenizer after ByteLevel"},
        {"{" BPE ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"sometimes\"}",
         HS_ERR_UNSUPPORTED, "pre_tokenizer.prepend_scheme \"sometimes\""},
        {"{" BPE_A ",\"post_processor\":{\"type\":\"Sequence\",\"processors\":[{\"type\":\"RobertaProcessing\"}]}",
         HS_ERR_UNSUPPORTED, "post_processor.processors[0].type \"RobertaProcessing\""},
        {"{" BPE_A ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
         "{\"id\":\"<s>\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{}}", HS_ERR_FORMAT, "post_processor.single[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":\"<unk>\"}", HS_ERR_FORMAT,
         "model.unk_token \"<unk>\""},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"zero\"},\"merges\":[]}," BL, HS_ERR_FORMAT,
         "model.vocab[\"a\"]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2000000000},\"merges\":[]}," BL, HS_ERR_UNSUPPORTED,
         "sparse ids"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{}", HS_ERR_FORMAT, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[2048];
        /* the truncated-JSON case has no tail: it must stay broken */
        snprintf(buf, sizeof buf, "%s%s", cases[i].head, cases[i].st == HS_ERR_FORMAT && i + 1 == sizeof cases / sizeof *cases ? "" : TAIL);
        expect_reject(buf, cases[i].st, cases[i].needle);
    }
    hs_tokenizer *t = NULL;
    CHECK(hs_tokenizer_load("/nonexistent/tokenizer.json", &t) == HS_ERR_IO && !t, "missing file");
    CHECK(strstr(hs_last_error(), "/nonexistent/tokenizer.json") != NULL, "message names the file: %s", hs_last_error());
}

/* Newer tokenizer.json files write merges as ["A", "B"] pairs: rewriting NeoX's "A B" merges
 * as pairs must give the same tokenizer (same ids on the adversarial set). */
static void merges_as_pairs(void) {
    json_error_t err;
    json_t *root = json_load_file(TOKDIR "gpt-neox-20b.tokenizer.json", 0, &err);
    CHECK(root != NULL, "jansson: %s", err.text);
    if (!root) return;
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    size_t i;
    json_t *m;
    json_array_foreach(merges, i, m) {
        const char *str = json_string_value(m), *sp = strchr(str, ' ');
        json_t *pair = json_pack("[s#s]", str, (int)(sp - str), sp + 1);
        json_array_set_new(merges, i, pair);
    }
    char path[] = "/tmp/hs_tok_pairs_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(json_dump_file(root, path, JSON_COMPACT) == 0, "dump");
    json_decref(root);
    hs_tokenizer *a = load("gpt-neox-20b"), *b = NULL;
    CHECK_OK(hs_tokenizer_load(path, &b));
    unlink(path);
    jsonl_file in = jsonl_load(HS_SOURCE_DIR "/tests/tokenizer/adversarial.jsonl");
    int bad = 0;
    for (size_t k = 0; a && b && k < in.n; k++) {
        size_t len;
        const char *text = jsonl_str(in.rows[k], "text", &len);
        hs_ids x = {0}, y = {0};
        CHECK_OK(hs_tokenizer_encode(a, text, len, HS_UTF8_STRICT, &x));
        CHECK_OK(hs_tokenizer_encode(b, text, len, HS_UTF8_STRICT, &y));
        bad += !ids_equal(&x, &y);
        hs_ids_free(&x);
        hs_ids_free(&y);
    }
    CHECK(bad == 0, "merges as pairs: %d documents differ", bad);
    jsonl_free(&in);
    hs_tokenizer_free(a);
    hs_tokenizer_free(b);
}

int main(void) {
    adversarial("gpt-neox-20b");
    adversarial("gpt2");
    bad_files();
    merges_as_pairs();

    hs_tokenizer *t = load("gpt-neox-20b");
    if (!t) return test_report("test_tokenizer_golden");
    /* shared/spec/tokenizer.md §2, verified vectors (tokenizers 0.22 oracle) */
    VEC(t, "When John and Mary went to the store, John gave the bag to his friend",
        3039, 2516, 285, 6393, 2427, 281, 253, 4657, 13, 2516, 3534, 253, 7351, 281, 521, 3331);
    VEC(t, " Mary", 6393);
    VEC(t, "Hello world", 12092, 1533);
    VEC(t, "a   b", 66, 50275, 67);
    VEC(t, "x<|endof", 89, 29, 93, 423, 1171);
    VEC(t, "<|endoftext|>x", 0, 89);
    VEC(t, "e\xcc\x81t\xc3\xa9", 39929);
    VEC(t, "it's It'S", 262, 434, 733, 8, 52);
    VEC(t, "\t\tfoo  \n", 186, 186, 12110, 50276, 187);
    VEC(t, "12345 3.14", 42594, 495, 15, 1047);
    VEC(t, "<|padding|><PAD>", 1, 29, 41420, 31);
    VEC(t, "                         x", 50254, 1269);   /* 25 spaces + x (§2 step 2) */
    VEC(t, "\n            next", 187, 50266, 8384);
    hs_ids e = {0};
    CHECK_OK(hs_tokenizer_encode(t, "", 0, HS_UTF8_STRICT, &e));
    CHECK(e.len == 0, "\"\" -> %zu ids", e.len);

    /* sizes and lookups (§1) */
    CHECK(hs_tokenizer_size(t) == 50277, "size %d", hs_tokenizer_size(t));
    CHECK(hs_tokenizer_bos_id(t) == 0, "bos %d", hs_tokenizer_bos_id(t));
    CHECK(hs_tokenizer_token_to_id(t, "<|padding|>") == 1, "<|padding|>");
    CHECK(hs_tokenizer_token_to_id(t, "\xc4\xa0Mary") == 6393, "Ġ Mary");
    CHECK(hs_tokenizer_token_to_id(t, "no such token here") == -1, "absent token");
    CHECK(hs_tokenizer_id_to_token(t, 50254) && strlen(hs_tokenizer_id_to_token(t, 50254)) == 24, "50254 is 24 spaces");
    CHECK(hs_tokenizer_id_to_token(t, 50277) == NULL && hs_tokenizer_id_to_token(t, -1) == NULL, "out of range ids");

    /* to_tokens (§4): prepend_bos puts 0 first; a literal <|endoftext|> is id 0 either way */
    hs_ids a = {0};
    CHECK_OK(hs_tokenizer_to_tokens(t, "Hello world", 11, true, HS_UTF8_STRICT, &a));
    CHECK(a.len == 3 && a.data[0] == 0 && a.data[1] == 12092 && a.data[2] == 1533, "to_tokens prepend_bos");
    a.len = 0;
    CHECK_OK(hs_tokenizer_to_tokens(t, "Hello world", 11, false, HS_UTF8_STRICT, &a));
    CHECK(a.len == 2 && a.data[0] == 12092, "to_tokens prepend_bos=False");
    /* encode APPENDS */
    CHECK_OK(hs_tokenizer_encode(t, "<|endoftext|>", 13, HS_UTF8_STRICT, &a));
    CHECK(a.len == 3 && a.data[2] == 0, "encode appends; <|endoftext|> -> 0");
    hs_ids_free(&a);

    /* decoding (§3): whole sequence vs per token; unknown ids dropped; special tokens kept */
    char *s;
    size_t n;
    CHECK_OK(hs_tokenizer_token_str(t, 220, &s, &n));
    CHECK(n == 3 && !memcmp(s, "\xef\xbf\xbd", 3), "220 -> U+FFFD");
    free(s);
    CHECK_OK(hs_tokenizer_token_str(t, 35973, &s, &n));
    CHECK(n == 6 && !memcmp(s, "\xef\xbf\xbd\xef\xbf\xbd", 6), "35973 -> U+FFFD U+FFFD");
    free(s);
    /* an emoji with a skin tone: split into byte fragments, whole decode gives it back */
    const char emo[] = "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd";
    hs_ids ee = {0};
    CHECK_OK(hs_tokenizer_encode(t, emo, sizeof emo - 1, HS_UTF8_STRICT, &ee));
    int fragments = 0;
    for (size_t i = 0; i < ee.len; i++) {
        CHECK_OK(hs_tokenizer_token_str(t, ee.data[i], &s, &n));
        fragments += strstr(s, "\xef\xbf\xbd") != NULL;
        free(s);
    }
    CHECK(fragments > 0, "per-token strings of an emoji show U+FFFD");
    CHECK_OK(hs_tokenizer_decode(t, ee.data, ee.len, &s, &n));
    CHECK(n == sizeof emo - 1 && !memcmp(s, emo, n), "whole decode of the emoji: %s", s);
    free(s);
    hs_ids_free(&ee);
    int32_t mix[] = {0, 12092, 50300, 1533, 50254};
    CHECK_OK(hs_tokenizer_decode(t, mix, 5, &s, &n));
    CHECK(n == 13 + 11 + 24 && !memcmp(s, "<|endoftext|>Hello world", 24), "decode keeps specials, drops 50300: %s", s);
    free(s);
    int32_t neg = -5;
    CHECK(hs_tokenizer_decode(t, &neg, 1, &s, &n) == HS_ERR_INVALID_ARG, "negative id rejected");

    /* display form (§6 process_token) */
    CHECK_OK(hs_token_display(" a\n\tb", 5, &s, &n));
    CHECK(!strcmp(s, "\xc2\xb7" "a" "\xe2\x86\xa9\n" "\xe2\x86\x92" "b"), "display: %s", s);
    free(s);

    /* invalid UTF-8: strict names the offset; replace = Python's errors="replace":
     * b"ab\xff\xe2\x82 x\xf0\x9f\x98".decode(errors="replace") == "ab\ufffd\ufffd x\ufffd" */
    const char bad[] = "ab\xff\xe2\x82 x\xf0\x9f\x98";
    hs_ids r = {0}, w = {0};
    CHECK(hs_tokenizer_encode(t, bad, sizeof bad - 1, HS_UTF8_STRICT, &r) == HS_ERR_FORMAT && r.len == 0, "strict rejects");
    CHECK(strstr(hs_last_error(), "byte offset 2") != NULL, "message: %s", hs_last_error());
    CHECK_OK(hs_tokenizer_encode(t, bad, sizeof bad - 1, HS_UTF8_REPLACE, &r));
    const char fixed[] = "ab\xef\xbf\xbd\xef\xbf\xbd x\xef\xbf\xbd";
    CHECK_OK(hs_tokenizer_encode(t, fixed, sizeof fixed - 1, HS_UTF8_STRICT, &w));
    CHECK(ids_equal(&r, &w) && r.len > 0, "replace == encoding of the replaced text");
    CHECK(hs_utf8_validate(bad, sizeof bad - 1) == 2, "hs_utf8_validate");
    /* surrogates and overlongs are invalid too */
    CHECK(hs_utf8_validate("\xed\xa0\x80", 3) == 0 && hs_utf8_validate("\xc0\xaf", 2) == 0 &&
          hs_utf8_validate("\xf4\x90\x80\x80", 4) == 0, "surrogate / overlong / > U+10FFFF");
    hs_ids_free(&r);
    hs_ids_free(&w);
    hs_tokenizer_free(t);

    /* GPT-2: <|endoftext|> is 50256 and is the BOS */
    t = load("gpt2");
    if (t) {
        CHECK(hs_tokenizer_size(t) == 50257 && hs_tokenizer_bos_id(t) == 50256, "gpt2 size %d bos %d",
              hs_tokenizer_size(t), hs_tokenizer_bos_id(t));
        hs_ids g = {0};
        CHECK_OK(hs_tokenizer_to_tokens(t, "x<|endoftext|>", 14, true, HS_UTF8_STRICT, &g));
        CHECK(g.len == 3 && g.data[0] == 50256 && g.data[2] == 50256, "gpt2 to_tokens");
        hs_ids_free(&g);
        hs_tokenizer_free(t);
    }
    return test_report("test_tokenizer_golden");
}
