/* test_model_errors.c — every bad model input the runtime issue lists gives a clear
 * error naming the file and the reason (never a crash): missing or unreadable
 * folders and files, unsupported model_type, bad config values, missing tensors,
 * wrong shapes, truncated files, bad shard indexes, pytorch_model.bin only; and
 * forward-pass misuse (T > n_ctx, ids outside the vocabulary, B or T of zero). */
#include "test.h"
#include "headscan/headscan.h"
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static const char *CONFIG =
    "{\"model_type\": \"gpt_neox\", \"architectures\": [\"GPTNeoXForCausalLM\"], \"hidden_size\": 8,"
    " \"num_attention_heads\": 2, \"num_hidden_layers\": 1, \"intermediate_size\": 16,"
    " \"max_position_embeddings\": 8, \"vocab_size\": 16, \"rotary_pct\": 0.5, \"layer_norm_eps\": 1e-5,"
    " \"hidden_act\": \"gelu\", \"use_parallel_residual\": true, \"tie_word_embeddings\": false}";

typedef struct { const char *name; int64_t a, b; } spec;
/* every tensor of the 1-layer model above: [a] or [a, b] */
static const spec TENSORS[] = {
    {"gpt_neox.embed_in.weight", 16, 8}, {"embed_out.weight", 16, 8},
    {"gpt_neox.final_layer_norm.weight", 8, 0}, {"gpt_neox.final_layer_norm.bias", 8, 0},
    {"gpt_neox.layers.0.input_layernorm.weight", 8, 0}, {"gpt_neox.layers.0.input_layernorm.bias", 8, 0},
    {"gpt_neox.layers.0.post_attention_layernorm.weight", 8, 0}, {"gpt_neox.layers.0.post_attention_layernorm.bias", 8, 0},
    {"gpt_neox.layers.0.attention.query_key_value.weight", 24, 8}, {"gpt_neox.layers.0.attention.query_key_value.bias", 24, 0},
    {"gpt_neox.layers.0.attention.dense.weight", 8, 8}, {"gpt_neox.layers.0.attention.dense.bias", 8, 0},
    {"gpt_neox.layers.0.mlp.dense_h_to_4h.weight", 16, 8}, {"gpt_neox.layers.0.mlp.dense_h_to_4h.bias", 16, 0},
    {"gpt_neox.layers.0.mlp.dense_4h_to_h.weight", 8, 16}, {"gpt_neox.layers.0.mlp.dense_4h_to_h.bias", 8, 0},
};
#define NT ((int)(sizeof TENSORS / sizeof *TENSORS))

static void put(const char *dir, const char *file, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
}

/* Writes model.safetensors (F32, small deterministic values) with tensor `skip`
 * left out and tensor `bad` given a wrong first dimension; truncate > 0 cuts the file. */
static void write_model(const char *dir, const char *file, int skip, int bad, long truncate_to) {
    char json[8192] = "{";
    size_t off = 0;
    for (int i = 0; i < NT; i++) {
        if (i == skip) continue;
        int64_t a = TENSORS[i].a + (i == bad), b = TENSORS[i].b;
        size_t n = (size_t)a * (size_t)(b ? b : 1) * 4;
        char e[300];
        if (b) snprintf(e, sizeof e, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%zu,%zu]}",
                        strlen(json) > 1 ? "," : "", TENSORS[i].name, (long long)a, (long long)b, off, off + n);
        else snprintf(e, sizeof e, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%zu,%zu]}",
                      strlen(json) > 1 ? "," : "", TENSORS[i].name, (long long)a, off, off + n);
        strcat(json, e);
        off += n;
    }
    strcat(json, "}");
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "wb");
    uint64_t hl = strlen(json);
    fwrite(&hl, 8, 1, f);
    fwrite(json, 1, hl, f);
    for (size_t i = 0; i < off / 4; i++) {
        float v = (float)((i * 37) % 17) / 17.0f - 0.4f;
        fwrite(&v, 4, 1, f);
    }
    fclose(f);
    if (truncate_to > 0 && truncate(p, truncate_to) != 0) perror("truncate");
}

static char *mkmodel(const char *name) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0700);
    return dir;
}

static void expect(const char *what, const char *dir, hs_status want, const char *needle) {
    hs_model *m = NULL;
    hs_model_params mp = hs_model_default_params();
    hs_status s = hs_model_load(dir, &mp, &m);
    CHECK(s != HS_OK && m == NULL, "%s: load should fail", what);
    if (want != HS_OK) CHECK(s == want, "%s: status %s, expected %s (%s)", what, hs_status_str(s), hs_status_str(want), hs_last_error());
    CHECK(strstr(hs_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", what, hs_last_error(), needle);
    hs_model_free(m);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/hs_test_model_errors_%d", (int)getpid());
    mkdir(root, 0700);
    char *d;

    /* a good model first, so the failures below are about what each one changes */
    d = mkmodel("good");
    put(d, "config.json", CONFIG);
    write_model(d, "model.safetensors", -1, -1, 0);
    hs_model *m = NULL;
    hs_model_params mp = hs_model_default_params();
    CHECK_OK(hs_model_load(d, &mp, &m));

    expect("missing folder", "/nonexistent/model", HS_ERR_IO, "/nonexistent/model");
    d = mkmodel("noconfig");
    expect("no config.json", d, HS_ERR_IO, "config.json");
    put(d, "config.json", "{\"model_type\": ");
    expect("config not JSON", d, HS_ERR_FORMAT, "config.json");
    put(d, "config.json", "{\"model_type\": \"t5\", \"hidden_size\": 8}");
    expect("unsupported model_type", d, HS_ERR_UNSUPPORTED, "\"t5\"");
    put(d, "config.json", "{\"hidden_size\": 8}");
    expect("no model_type", d, HS_ERR_FORMAT, "model_type");
    d = mkmodel("badheads");
    put(d, "config.json", "{\"model_type\": \"gpt_neox\", \"hidden_size\": 10, \"num_attention_heads\": 3, \"num_hidden_layers\": 1,"
                          " \"intermediate_size\": 16, \"max_position_embeddings\": 8, \"vocab_size\": 16}");
    expect("hidden not a multiple of heads", d, HS_ERR_FORMAT, "multiple");
    d = mkmodel("missingfield");
    put(d, "config.json", "{\"model_type\": \"gpt_neox\", \"hidden_size\": 8, \"num_attention_heads\": 2}");
    expect("missing field", d, HS_ERR_FORMAT, "num_hidden_layers");
    d = mkmodel("badact");
    {
        char cfg[2048];
        snprintf(cfg, sizeof cfg, "%s", CONFIG);
        char *p = strstr(cfg, "\"gelu\"");
        memcpy(p, "\"relu\"", 6);
        put(d, "config.json", cfg);
    }
    write_model(d, "model.safetensors", -1, -1, 0);
    expect("unsupported activation", d, HS_ERR_UNSUPPORTED, "relu");

    d = mkmodel("noweights");
    put(d, "config.json", CONFIG);
    expect("no safetensors", d, HS_ERR_NOT_FOUND, "model.safetensors");
    put(d, "pytorch_model.bin", "PK");
    expect("only pytorch_model.bin", d, HS_ERR_UNSUPPORTED, "pytorch_model.bin");

    d = mkmodel("missingtensor");
    put(d, "config.json", CONFIG);
    write_model(d, "model.safetensors", 9, -1, 0);
    expect("missing tensor", d, HS_ERR_FORMAT, "attention.query_key_value.bias");
    d = mkmodel("wrongshape");
    put(d, "config.json", CONFIG);
    write_model(d, "model.safetensors", -1, 12, 0);
    expect("wrong shape", d, HS_ERR_FORMAT, "mlp.dense_h_to_4h.weight' has shape [17, 8]");
    d = mkmodel("truncated");
    put(d, "config.json", CONFIG);
    write_model(d, "model.safetensors", -1, -1, 900);
    expect("truncated file", d, HS_ERR_FORMAT, "model.safetensors");

    d = mkmodel("shards");
    put(d, "config.json", CONFIG);
    write_model(d, "model-00001-of-00002.safetensors", -1, -1, 0);
    put(d, "model.safetensors.index.json", "{\"metadata\": {}, \"weight_map\": {\"embed_out.weight\": \"model-00002-of-00002.safetensors\"}}");
    expect("index names a missing shard", d, HS_ERR_IO, "model-00002-of-00002.safetensors");
    put(d, "model.safetensors.index.json", "{\"metadata\": {}, \"weight_map\": {\"embed_out.weight\": \"../x.safetensors\"}}");
    expect("index escapes the folder", d, HS_ERR_FORMAT, "weight_map");
    put(d, "model.safetensors.index.json", "{\"metadata\": {}, \"weight_map\": {\"nope\": \"model-00001-of-00002.safetensors\"}}");
    expect("index names a tensor the shard lacks", d, HS_ERR_FORMAT, "'nope'");
    put(d, "model.safetensors.index.json", "{\"metadata\": {}, \"weight_map\": {\"embed_out.weight\": \"model-00001-of-00002.safetensors\"}}");
    hs_model *m2 = NULL;
    CHECK_OK(hs_model_load(d, &mp, &m2));
    hs_model_free(m2);

    /* forward-pass misuse */
    if (m) {
        hs_forward *f = NULL;
        CHECK(hs_forward_create(m, 1, 9, &f) == HS_ERR_INVALID_ARG && strstr(hs_last_error(), "max_position_embeddings"),
              "T > n_ctx: %s", hs_last_error());
        CHECK(hs_forward_create(m, 0, 4, &f) == HS_ERR_INVALID_ARG, "B = 0 refused");
        CHECK(hs_forward_create(m, 2, 0, &f) == HS_ERR_INVALID_ARG, "T = 0 refused");
        CHECK_OK(hs_forward_create(m, 2, 8, &f));
        int32_t tok[8] = {0, 1, 2, 3, 15, 5, 6, 7};
        hs_forward_params fp = hs_forward_default_params();
        CHECK_OK(hs_forward_run(f, tok, 1, 8, &fp));
        tok[3] = 16;
        CHECK(hs_forward_run(f, tok, 1, 8, &fp) == HS_ERR_INVALID_ARG && strstr(hs_last_error(), "token id 16"),
              "id >= vocab: %s", hs_last_error());
        CHECK(strstr(hs_forward_error(f), "token id 16") != NULL, "error retrievable from the handle");
        tok[3] = -1;
        CHECK(hs_forward_run(f, tok, 1, 8, &fp) == HS_ERR_INVALID_ARG, "negative id refused");
        tok[3] = 3;
        CHECK(hs_forward_run(f, tok, 1, 0, &fp) == HS_ERR_INVALID_ARG, "T = 0 refused at run");
        CHECK(hs_forward_run(f, tok, 3, 2, &fp) == HS_ERR_INVALID_ARG, "B above the workspace refused");
        hs_forward_free(f);
    }
    hs_model_free(m);
    /* Llama family: config values headscan does not implement are refused naming the field */
    static const struct { const char *label, *extra; hs_status want; const char *needle; } llama_bad[] = {
        {"rope yarn", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}", HS_ERR_UNSUPPORTED, "rope_scaling.rope_type \"yarn\""},
        {"v5 longrope", "\"rope_parameters\": {\"rope_type\": \"longrope\", \"rope_theta\": 10000.0, \"factor\": 2.0}", HS_ERR_UNSUPPORTED,
         "rope_parameters.rope_type \"longrope\""},
        {"llama3 incomplete", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}",
         HS_ERR_FORMAT, "original_max_position_embeddings"},
        {"linear factor < 1", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 0.5}", HS_ERR_UNSUPPORTED, "rope_scaling.factor"},
        {"yarn parameter", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0, \"beta_fast\": 32}", HS_ERR_UNSUPPORTED, "beta_fast"},
        {"gelu", "\"hidden_act\": \"gelu\"", HS_ERR_UNSUPPORTED, "hidden_act 'gelu'"},
        {"kv heads", "\"num_key_value_heads\": 3", HS_ERR_FORMAT, "num_key_value_heads 3"},
        {"odd head_dim", "\"head_dim\": 7", HS_ERR_FORMAT, "head_dim 7"},
        {"partial rotary", "\"partial_rotary_factor\": 0.5", HS_ERR_UNSUPPORTED, "partial_rotary_factor"},
        {"llama sliding window", "\"sliding_window\": 8", HS_ERR_UNSUPPORTED, "sliding_window"},
        {"layer types", "\"layer_types\": [\"full_attention\", \"sliding_attention\"]", HS_ERR_UNSUPPORTED, "layer_types entry 'sliding_attention'"},
        {"quantized", "\"quantization_config\": {\"quant_method\": \"awq\"}", HS_ERR_UNSUPPORTED, "quantization_config"},
    };
    for (size_t i = 0; i < sizeof llama_bad / sizeof *llama_bad; i++) {
        char cfg[1024];
        snprintf(cfg, sizeof cfg, "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 2, "
                 "\"intermediate_size\": 160, \"max_position_embeddings\": 64, \"vocab_size\": 512, %s}",
                 llama_bad[i].extra);
        d = mkmodel("llama_bad");
        put(d, "config.json", cfg);
        expect(llama_bad[i].label, d, llama_bad[i].want, llama_bad[i].needle);
    }
    d = mkmodel("qwen2_window");
    put(d, "config.json", "{\"model_type\": \"qwen2\", \"hidden_size\": 48, \"num_attention_heads\": 6, \"num_hidden_layers\": 2, "
                          "\"intermediate_size\": 128, \"max_position_embeddings\": 128, \"vocab_size\": 512, \"num_key_value_heads\": 2, "
                          "\"use_sliding_window\": true, \"sliding_window\": 4}");
    expect("qwen2 use_sliding_window", d, HS_ERR_UNSUPPORTED, "use_sliding_window");
    d = mkmodel("gemma");
    put(d, "config.json", "{\"model_type\": \"gemma2\"}");
    expect("gemma", d, HS_ERR_UNSUPPORTED, "Gemma is a different family");
    /* untied config over a checkpoint without lm_head.weight (llama3-tied-f32's tensors) */
    d = mkmodel("untied");
    {
        FILE *cf = fopen(HS_SOURCE_DIR "/tests/fixtures/llama3-tied-f32/config.json", "rb");
        char cfg[4096] = "";
        size_t n = cf ? fread(cfg, 1, sizeof cfg - 1, cf) : 0;
        if (cf) fclose(cf);
        cfg[n] = 0;
        char *t = strstr(cfg, "\"tie_word_embeddings\": true");
        CHECK(t != NULL, "llama3-tied-f32/config.json has tie_word_embeddings true");
        if (t) memcpy(t, "\"tie_word_embeddings\":false", 27);
        put(d, "config.json", cfg);
        char link[600];
        snprintf(link, sizeof link, "%s/model.safetensors", d);
        CHECK(symlink(HS_SOURCE_DIR "/tests/fixtures/llama3-tied-f32/model.safetensors", link) == 0, "symlink");
        expect("untied without lm_head", d, HS_ERR_FORMAT, "'lm_head.weight' is missing");
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return test_report("test_model_errors");
}
