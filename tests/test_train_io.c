/* test_train_io.c — hs_train end to end on a tiny model: checkpoint files (config.json
 * keys, safetensors header/offsets/values in F32 and F16), determinism for a fixed seed
 * and thread count, attention-only MLPs staying zero, and bad inputs (clear error,
 * nothing written).
 */
#define _GNU_SOURCE
#include "test.h"
#include "train/train_internal.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static char *path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_text(const char *p, const char *s) { FILE *f = fopen(p, "w"); fputs(s, f); fclose(f); }

static const char *TOK =
    "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<|endoftext|>\",\"special\":true}],"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"<|endoftext|>\":0,"
    "\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12},\"merges\":[]}}";

static hs_train_params tiny(const char *out) {
    hs_train_params p = hs_train_default_params();
    p.data_path = path("tokens.npy");
    p.tokenizer_path = path("tokenizer.json");
    p.out_dir = out;
    p.n_layers = 2; p.d_model = 16; p.n_heads = 2; p.d_mlp = 24; p.n_ctx = 16;
    p.steps = 6; p.batch = 3; p.warmup = 2; p.lr = 1e-2;
    return p;
}

/* reads a safetensors file: header JSON and data pointer */
static cJSON *st_header(const char *file, char **raw, size_t *len, const uint8_t **data) {
    if (hs_read_file(file, 0, raw, len)) return NULL;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)(uint8_t)(*raw)[i] << (8 * i);
    CHECK(n % 8 == 0 && 8 + n <= *len, "header length %llu", (unsigned long long)n);
    char *h = strndup(*raw + 8, n);
    cJSON *j = cJSON_Parse(h);
    free(h);
    *data = (const uint8_t *)*raw + 8 + n;
    return j;
}

static int count_files(const char *d) {
    DIR *dd = opendir(d);
    if (!dd) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd))) if (e->d_name[0] != '.') n++;
    closedir(dd);
    return n;
}

int main(void) {
    hs_set_num_threads(2);
    snprintf(dir, sizeof dir, "%s/test_train_io.XXXXXX", HS_BINARY_DIR);
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    write_text(path("tokenizer.json"), TOK);
    /* 10 rows of 17 ids with a repeated pattern */
    int32_t toks[10 * 17];
    for (int r = 0; r < 10; r++) {
        toks[r * 17] = 0;
        for (int j = 1; j < 17; j++) toks[r * 17 + j] = 1 + (r * 3 + j * (j % 4 + 1)) % 12;
    }
    int64_t shape[2] = { 10, 17 };
    CHECK_OK(hs_npy_write(path("tokens.npy"), HS_I32, 2, shape, toks));

    /* ---- F32 checkpoint: config and tensors ---- */
    hs_train_params p = tiny(path("m32"));
    p.dtype = HS_F32;
    hs_train_result r;
    CHECK_OK(hs_train(&p, NULL, NULL, &r));
    CHECK(r.final_loss > 0 && r.final_loss < 4, "final loss %g", r.final_loss);
    CHECK(count_files(path("m32")) == 3, "checkpoint has exactly config.json, model.safetensors, tokenizer.json (%d)", count_files(path("m32")));
    char *js;
    CHECK_OK(hs_read_file(path("m32/config.json"), 0, &js, NULL));
    cJSON *cfg = cJSON_Parse(js);
    free(js);
    CHECK(cfg != NULL, "config.json parses");
    if (cfg) {
        CHECK(!strcmp(cJSON_GetObjectItem(cfg, "model_type")->valuestring, "gpt_neox"), "model_type");
        CHECK(!strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "architectures"), 0)->valuestring, "GPTNeoXForCausalLM"), "architectures");
        CHECK(cJSON_GetObjectItem(cfg, "hidden_size")->valueint == 16, "hidden_size");
        CHECK(cJSON_GetObjectItem(cfg, "num_attention_heads")->valueint == 2, "heads");
        CHECK(cJSON_GetObjectItem(cfg, "num_hidden_layers")->valueint == 2, "layers");
        CHECK(cJSON_GetObjectItem(cfg, "intermediate_size")->valueint == 24, "intermediate_size");
        CHECK(cJSON_GetObjectItem(cfg, "max_position_embeddings")->valueint == 16, "n_ctx");
        CHECK(cJSON_GetObjectItem(cfg, "vocab_size")->valueint == 16, "vocab rounded up to 8: %d", cJSON_GetObjectItem(cfg, "vocab_size")->valueint);
        CHECK(!strcmp(cJSON_GetObjectItem(cfg, "hidden_act")->valuestring, "gelu"), "gelu");
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cfg, "use_parallel_residual")), "parallel residual");
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cfg, "tie_word_embeddings")), "untied");
        CHECK(cJSON_GetObjectItem(cfg, "rotary_pct")->valuedouble == 0.25, "rotary_pct");
        CHECK(cJSON_GetObjectItem(cfg, "layer_norm_eps")->valuedouble == 1e-5, "eps");
        CHECK(cJSON_GetObjectItem(cfg, "bos_token_id")->valueint == 0 && cJSON_GetObjectItem(cfg, "eos_token_id")->valueint == 0, "bos/eos");
        CHECK(!strcmp(cJSON_GetObjectItem(cfg, "torch_dtype")->valuestring, "float32"), "torch_dtype");
        cJSON_Delete(cfg);
    }
    char *tk;
    CHECK_OK(hs_read_file(path("m32/tokenizer.json"), 0, &tk, NULL));
    CHECK(tk && !strcmp(tk, TOK), "tokenizer.json copied unchanged");
    free(tk);
    char *raw32, *raw16;
    size_t len32, len16;
    const uint8_t *d32, *d16;
    cJSON *h32 = st_header(path("m32/model.safetensors"), &raw32, &len32, &d32);
    CHECK(h32 != NULL, "safetensors header parses");
    static const char *names[] = { "gpt_neox.embed_in.weight", "gpt_neox.layers.1.attention.query_key_value.weight",
        "gpt_neox.layers.0.mlp.dense_4h_to_h.bias", "gpt_neox.final_layer_norm.weight", "embed_out.weight" };
    static const int64_t shapes[][2] = { {16, 16}, {48, 16}, {16, 0}, {16, 0}, {16, 16} };
    size_t total = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, h32) {
        if (!strcmp(e->string, "__metadata__")) continue;
        cJSON *o = cJSON_GetObjectItem(e, "data_offsets");
        total = (size_t)fmax((double)total, cJSON_GetArrayItem(o, 1)->valuedouble);
    }
    CHECK(h32 && cJSON_GetArraySize(h32) == 1 + 1 + 2 * 12 + 3, "tensor count %d", cJSON_GetArraySize(h32));
    CHECK(h32 && (size_t)(d32 - (const uint8_t *)raw32) + total == len32, "file ends at the last tensor");
    for (int i = 0; h32 && i < 5; i++) {
        cJSON *t = cJSON_GetObjectItem(h32, names[i]);
        CHECK(t != NULL, "tensor %s present", names[i]);
        if (!t) continue;
        CHECK(!strcmp(cJSON_GetObjectItem(t, "dtype")->valuestring, "F32"), "dtype F32");
        cJSON *sh = cJSON_GetObjectItem(t, "shape");
        CHECK(cJSON_GetArrayItem(sh, 0)->valueint == shapes[i][0] &&
              (shapes[i][1] == 0 ? cJSON_GetArraySize(sh) == 1 : cJSON_GetArrayItem(sh, 1)->valueint == shapes[i][1]),
              "shape of %s", names[i]);
    }
    /* the final LayerNorm weight moved away from its init (1) but stays near it */
    if (h32) {
        cJSON *t = cJSON_GetObjectItem(h32, "gpt_neox.final_layer_norm.weight");
        size_t b = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(t, "data_offsets"), 0)->valuedouble;
        float w0;
        memcpy(&w0, d32 + b, 4);
        CHECK(w0 != 1.0f && fabsf(w0 - 1.0f) < 0.2f, "lnf weight %g", w0);
    }

    /* ---- determinism and F16: same seed -> the same weights; F16 = rounded F32 ---- */
    p = tiny(path("m16"));
    CHECK_OK(hs_train(&p, NULL, NULL, NULL));
    cJSON *h16 = st_header(path("m16/model.safetensors"), &raw16, &len16, &d16);
    int mism = 0, checked = 0;
    cJSON_ArrayForEach(e, h32) {
        if (!strcmp(e->string, "__metadata__")) continue;
        cJSON *f = cJSON_GetObjectItem(h16, e->string);
        CHECK(f && !strcmp(cJSON_GetObjectItem(f, "dtype")->valuestring, "F16"), "F16 %s", e->string);
        if (!f) continue;
        size_t b32 = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(e, "data_offsets"), 0)->valuedouble;
        size_t e32 = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(e, "data_offsets"), 1)->valuedouble;
        size_t b16 = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(f, "data_offsets"), 0)->valuedouble;
        for (size_t k = 0; k < (e32 - b32) / 4; k++) {
            float x; uint16_t y;
            memcpy(&x, d32 + b32 + 4 * k, 4);
            memcpy(&y, d16 + b16 + 2 * k, 2);
            mism += y != hs_f32_to_f16(x);
            checked++;
        }
    }
    CHECK(checked > 1000 && mism == 0, "F16 run equals the F32 run rounded (%d of %d differ)", mism, checked);
    cJSON_Delete(h16); free(raw16);

    /* ---- attention-only: MLP tensors zero in the checkpoint ---- */
    p = tiny(path("mattn"));
    p.attn_only = true; p.d_mlp = 8; p.dtype = HS_F32;
    CHECK_OK(hs_train(&p, NULL, NULL, NULL));
    cJSON *ha = st_header(path("mattn/model.safetensors"), &raw16, &len16, &d16);
    int nonzero = 0;
    cJSON_ArrayForEach(e, ha) {
        if (!strstr(e->string, ".mlp.")) continue;
        size_t b = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(e, "data_offsets"), 0)->valuedouble;
        size_t en = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(e, "data_offsets"), 1)->valuedouble;
        for (size_t k = b; k < en; k++) nonzero += d16[k] != 0;
    }
    CHECK(ha && nonzero == 0, "attention-only MLP bytes non-zero: %d", nonzero);
    cJSON_Delete(ha); free(raw16);
    cJSON_Delete(h32); free(raw32);

    /* ---- tied embeddings for every step: both matrices written, equal; rows in file
     * order give a different (but valid) run than the shuffled one ---- */
    p = tiny(path("mtied"));
    p.tie_steps = p.steps; p.in_order = true; p.dtype = HS_F32;
    CHECK_OK(hs_train(&p, NULL, NULL, NULL));
    cJSON *ht = st_header(path("mtied/model.safetensors"), &raw16, &len16, &d16);
    if (ht) {
        cJSON *ei = cJSON_GetObjectItem(ht, "gpt_neox.embed_in.weight"), *eo = cJSON_GetObjectItem(ht, "embed_out.weight");
        size_t bi = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(ei, "data_offsets"), 0)->valuedouble;
        size_t bo = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(eo, "data_offsets"), 0)->valuedouble;
        CHECK(memcmp(d16 + bi, d16 + bo, 16 * 16 * 4) == 0, "tied run: embed_in == embed_out");
    }
    CHECK(ht != NULL, "tied checkpoint parses");
    cJSON_Delete(ht); free(raw16);

    /* ---- bad inputs: an error naming the file, and no output directory ---- */
    struct { const char *what, *expect; } cases[] = {
        { "missing data", "nope.npy" }, { "bad tokenizer", "badtok.json" }, { "id out of range", "oob.npy" },
        { "float data", "float.npy" }, { "heads", "multiple" }, { "not BPE", "wp.json" },
    };
    write_text(path("badtok.json"), "{\"model\": ");
    write_text(path("wp.json"), "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}");
    toks[5] = 13;
    CHECK_OK(hs_npy_write(path("oob.npy"), HS_I32, 2, shape, toks));
    float fl[4] = {0};
    int64_t fs[1] = { 4 };
    CHECK_OK(hs_npy_write(path("float.npy"), HS_F32, 1, fs, fl));
    for (int i = 0; i < 6; i++) {
        p = tiny(path("bad"));
        if (i == 0) p.data_path = path("nope.npy");
        if (i == 1) p.tokenizer_path = path("badtok.json");
        if (i == 2) p.data_path = path("oob.npy");
        if (i == 3) p.data_path = path("float.npy");
        if (i == 4) p.n_heads = 3;
        if (i == 5) p.tokenizer_path = path("wp.json");
        hs_status s = hs_train(&p, NULL, NULL, NULL);
        CHECK(s != HS_OK, "%s: accepted", cases[i].what);
        CHECK(strstr(hs_last_error(), cases[i].expect) != NULL, "%s: message '%s' lacks '%s'", cases[i].what, hs_last_error(), cases[i].expect);
        struct stat st;
        CHECK(stat(path("bad"), &st) != 0, "%s: output directory was created", cases[i].what);
    }
    /* cancellation from the progress callback */
    p = tiny(path("cancel"));
    int calls = 0;
    int cancel_cb(const hs_train_progress *pr, void *u);
    CHECK(hs_train(&p, cancel_cb, &calls, NULL) == HS_ERR_CANCELLED, "cancel");
    CHECK(calls == 2, "progress called until cancelled (%d)", calls);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_report("test_train_io");
}

int cancel_cb(const hs_train_progress *pr, void *u) { (void)pr; return ++*(int *)u >= 2; }
