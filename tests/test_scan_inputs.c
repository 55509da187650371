/* test_scan_inputs.c — the pieces `headscan scan` and the Python package share: the
 * manifest's input/options record, the default induction length, a dataset -> tokens. */
#include "test.h"
#include "headscan/headscan.h"
#include <cjson/cJSON.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static const cJSON *get(const cJSON *o, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return x && b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static void test_induction_len(void) {
    hs_model_config c = {0};
    int cases[][2] = {{2048, 200}, {401, 200}, {400, 199}, {256, 127}, {20, 9}};
    for (int i = 0; i < 5; i++) {
        c.n_ctx = cases[i][0];
        CHECK(hs_scan_default_induction_len(&c) == cases[i][1], "n_ctx %d: %d", c.n_ctx, hs_scan_default_induction_len(&c));
    }
}

static void test_tokens_from_dataset(void) {
    hs_tokenizer *tok = NULL;
    CHECK_OK(hs_tokenizer_load(HS_SOURCE_DIR "/models/toy/tokenizer.json", &tok));
    if (!tok) return;
    hs_tokens_params tp = hs_tokens_default_params();
    tp.n_ctx = 64;
    hs_hub_params hp = hs_hub_default_params();
    hp.offline = true;
    hs_array a = {0}, b = {0}, g = {0};
    hs_tokens_stats st;
    CHECK_OK(hs_tokens_from_dataset(HS_SOURCE_DIR "/data/toy/toy.jsonl", tok, NULL, &hp, &tp, &a, &st));
    hs_docs *d = NULL;
    CHECK_OK(hs_docs_open(HS_SOURCE_DIR "/data/toy/toy.jsonl", NULL, &d));
    if (d) CHECK_OK(hs_tokens_build(tok, d, &tp, &b, NULL));
    hs_docs_close(d);
    CHECK(a.ndim == 2 && b.ndim == 2 && a.shape[0] == b.shape[0] && a.shape[1] == 64 && st.rows == a.shape[0], "shapes");
    if (a.data && b.data && a.shape[0] == b.shape[0])
        CHECK(!memcmp(a.data, b.data, sizeof(int64_t) * (size_t)hs_array_numel(&a)), "same tokens as hs_docs_open + hs_tokens_build");
    /* a glob is a local source too */
    CHECK_OK(hs_tokens_from_dataset(HS_SOURCE_DIR "/data/toy/toy.json?", tok, NULL, &hp, &tp, &g, NULL));
    CHECK(g.ndim == 2 && g.shape[0] == a.shape[0], "glob");
    /* neither a local path nor a hub id; a hub id offline and not cached */
    hs_array x = {0};
    CHECK(hs_tokens_from_dataset("/no/such/data.jsonl", tok, NULL, &hp, &tp, &x, NULL) != HS_OK, "missing path");
    CHECK(strstr(hs_last_error(), "/no/such/data.jsonl") != NULL, "names the path: %s", hs_last_error());
    setenv("HF_HUB_CACHE", "/nonexistent-hub-cache", 1);
    hp = hs_hub_default_params();
    hp.offline = true;
    CHECK(hs_tokens_from_dataset("nobody/nothing", tok, NULL, &hp, &tp, &x, NULL) == HS_ERR_NOT_FOUND, "offline miss: %s", hs_last_error());
    CHECK(hs_tokens_from_dataset(NULL, tok, NULL, NULL, &tp, &x, NULL) == HS_ERR_INVALID_ARG, "NULL dataset");
    hs_array_free(&a); hs_array_free(&b); hs_array_free(&g);
    hs_tokenizer_free(tok);
}

static void test_record_inputs(void) {
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32", &mp, &m));
    hs_array t = {0};
    CHECK_OK(hs_tokens_load(HS_SOURCE_DIR "/tests/golden/neox-tiny-f32/scan/tokens.npy", &t));
    if (!m || !t.data) { hs_model_free(m); hs_array_free(&t); return; }
    hs_scan_params sp = hs_scan_default_params();
    sp.ind_batch = 2;
    sp.ind_seq_len = hs_scan_default_induction_len(hs_model_get_config(m));
    sp.skip = HS_SKIP_FRAC_COPY_ARGMAX | HS_SKIP_INDUCTION;
    hs_scan_result *r = NULL;
    CHECK_OK(hs_scan_run(m, &t, &sp, &r));
    if (!r) { hs_model_free(m); hs_array_free(&t); return; }
    const char *kinds[3] = {"tokens", "dataset", "array"};
    for (int k = 0; k < 3; k++) {
        hs_scan_inputs in = {.tokens_path = k == 0 ? "t \"q\".npy" : NULL, .dataset = k == 1 ? "NeelNanda/pile-10k" : NULL,
                             .field = "text", .shuffle = true, .shuffle_seed = 42, .t_load_model = 0.12345};
        CHECK_OK(hs_scan_record_inputs(r, &sp, &in));
        char *j = NULL;
        CHECK_OK(hs_scan_manifest_json(r, &j));
        cJSON *root = j ? cJSON_Parse(j) : NULL;
        CHECK(root != NULL, "manifest parses");
        const cJSON *kind = get(root, "input", "kind"), *path = get(root, "input", "path"), *sh = get(root, "input", "shuffle");
        CHECK(cJSON_IsString(kind) && !strcmp(kind->valuestring, kinds[k]), "kind %s", kinds[k]);
        CHECK(cJSON_IsString(path) && !strcmp(path->valuestring, k == 0 ? "t \"q\".npy" : k == 1 ? "NeelNanda/pile-10k" : ""), "path");
        CHECK(k == 1 ? cJSON_IsTrue(sh) : cJSON_IsNull(sh), "shuffle recorded for a dataset only");
        const cJSON *q = get(root, "options", "quantile"), *skip = get(root, "options", "skip"), *il = get(root, "options", "induction_len");
        CHECK(cJSON_IsNumber(q) && q->valuedouble == 0.9, "quantile 0.9 exactly (not 0.899999976)");
        CHECK(cJSON_IsString(skip) && !strcmp(skip->valuestring, "frac_copy_argmax induction"), "skip");
        CHECK(cJSON_IsNumber(il) && il->valueint == 31, "induction_len 31 for n_ctx 64");
        const cJSON *n = get(root, "options", "n_ctx"), *tl = get(root, "timings_load_s", "model");
        CHECK(cJSON_IsNumber(n) && n->valueint == 32, "n_ctx from the scan");
        CHECK(cJSON_IsNumber(tl) && tl->valuedouble == 0.123, "load time in ms precision");
        CHECK(cJSON_IsString(get(root, "headscan_version", NULL)), "the library's own fields stay");
        cJSON_Delete(root);
        if (k == 2) {   /* the text written is the text returned */
            char dir[] = "/tmp/hs_scan_inputs_XXXXXX";
            CHECK(mkdtemp(dir) != NULL, "mkdtemp");
            CHECK_OK(hs_scan_write(r, dir));
            char p[256];
            snprintf(p, sizeof p, "%s/manifest.json", dir);
            char *w = slurp(p);
            CHECK(w && j && !strcmp(w, j), "manifest.json == hs_scan_manifest_json");
            free(w);
            char cmd[300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
            CHECK(system(cmd) == 0, "cleanup");
        }
        free(j);
    }
    CHECK(hs_scan_record_inputs(r, &sp, NULL) == HS_ERR_INVALID_ARG, "NULL inputs");
    hs_scan_result_free(r);
    hs_array_free(&t);
    hs_model_free(m);
}

int main(void) {
    test_induction_len();
    test_tokens_from_dataset();
    test_record_inputs();
    return test_report("test_scan_inputs");
}
