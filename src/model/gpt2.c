/* gpt2.c — GPT-2 family (gpt2, -medium/-large/-xl, distilgpt2, fine-tunes): config.json
 * fields and HF → TransformerLens weights (model.md §10). Conv1D weights are stored
 * [in, out]; c_attn holds [q (M) | k (M) | v (M)] columns, head h at h·D + d of each.
 * Tensor names may carry a "transformer." prefix; the unembedding is tied to wte. */
#include "model/model_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hs_status gpt2_parse_config(const cJSON *root, const char *path, hs_model_config *c) {
    hs_status s;
    if ((s = hs_json_int(root, path, "n_embd", &c->d_model, true))) return s;
    if ((s = hs_json_int(root, path, "n_head", &c->n_heads, true))) return s;
    if ((s = hs_json_int(root, path, "n_layer", &c->n_layers, true))) return s;
    if ((s = hs_json_int(root, path, "vocab_size", &c->d_vocab, true))) return s;
    c->n_ctx = 0;
    if ((s = hs_json_int(root, path, "n_positions", &c->n_ctx, false))) return s;
    if (!c->n_ctx && (s = hs_json_int(root, path, "n_ctx", &c->n_ctx, true))) return s;
    if (c->n_heads <= 0 || c->d_model <= 0 || c->d_model % c->n_heads)
        return hs_errorf(HS_ERR_FORMAT, "%s: n_embd %d is not a multiple of n_head %d", path, c->d_model, c->n_heads);
    c->d_head = c->d_model / c->n_heads;
    c->d_mlp = 4 * c->d_model;
    if ((s = hs_json_int(root, path, "n_inner", &c->d_mlp, false))) return s;   /* null means 4 x n_embd */
    c->ln_eps = 1e-5f;
    if ((s = hs_json_float(root, path, "layer_norm_epsilon", &c->ln_eps, false))) return s;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "activation_function");
    const char *a = cJSON_IsString(act) ? act->valuestring : "gelu_new";
    if (!strcmp(a, "gelu_new")) c->act = HS_ACT_GELU_NEW;
    else if (!strcmp(a, "gelu")) c->act = HS_ACT_GELU;
    else return hs_errorf(HS_ERR_UNSUPPORTED, "%s: activation_function '%s' is not supported for gpt2 (gelu_new, gelu)", path, a);
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(root, "scale_attn_by_inverse_layer_idx");
    if (inv && cJSON_IsTrue(inv))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: scale_attn_by_inverse_layer_idx = true is not supported", path);
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(root, "reorder_and_upcast_attn");
    if (up && cJSON_IsTrue(up)) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: reorder_and_upcast_attn = true is not supported", path);
    c->rotary_dim = 0;
    c->parallel_residual = false;
    c->bos_id = c->eos_id = 50256;
    if ((s = hs_json_int(root, path, "bos_token_id", &c->bos_id, false))) return s;
    if ((s = hs_json_int(root, path, "eos_token_id", &c->eos_id, false))) return s;
    return HS_OK;
}

static bool gpt2_is_ignored(const char *name) {
    static const char *suffixes[] = {".attn.bias", ".attn.masked_bias", "lm_head.weight"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && !strcmp(name + n - k, suffixes[i])) return true;
    }
    return false;
}

/* Reads `name`, or "transformer." + name when that is what the checkpoint uses. */
static hs_status rd(const hs_tensor_source *src, const char *prefix, const char *name, int nd, const int64_t *shape, float *dst) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return hs_source_read(src, full, nd, shape, dst);
}

static hs_status gpt2_convert(const hs_tensor_source *src, const hs_model_config *c, hs_weights *w) {
    const int64_t M = c->d_model, H = c->n_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab, P = c->n_ctx;
    const char *prefix = "";
    for (int i = 0; i < src->n_files; i++)
        if (hs_st_find(&src->files[i], "transformer.wte.weight")) prefix = "transformer.";
    hs_status s;
    if ((s = rd(src, prefix, "wte.weight", 2, (int64_t[]){V, M}, w->W_E))) return s;
    if ((s = rd(src, prefix, "wpe.weight", 2, (int64_t[]){P, M}, w->W_pos))) return s;
    for (int64_t v = 0; v < V; v++) /* tied: W_U = wte^T */
        for (int64_t m = 0; m < M; m++) w->W_U[m * V + v] = w->W_E[v * M + m];
    memset(w->b_U, 0, (size_t)V * sizeof(float));
    if ((s = rd(src, prefix, "ln_f.weight", 1, (int64_t[]){M}, w->lnf_w))) return s;
    if ((s = rd(src, prefix, "ln_f.bias", 1, (int64_t[]){M}, w->lnf_b))) return s;
    float *tmp = hs_malloc((size_t)(3 * M * M > F * M ? 3 * M * M : F * M) * sizeof(float));
    if (!tmp) return HS_ERR_NOMEM;
    char name[128];
    for (int l = 0; l < c->n_layers && !s; l++) {
        hs_layer *L = &w->layers[l];
#define RD(suffix, nd, shp, dst) (snprintf(name, sizeof name, "h.%d.%s", l, suffix), rd(src, prefix, name, nd, shp, dst))
        if ((s = RD("ln_1.weight", 1, ((int64_t[]){M}), L->ln1_w))) break;
        if ((s = RD("ln_1.bias", 1, ((int64_t[]){M}), L->ln1_b))) break;
        if ((s = RD("ln_2.weight", 1, ((int64_t[]){M}), L->ln2_w))) break;
        if ((s = RD("ln_2.bias", 1, ((int64_t[]){M}), L->ln2_b))) break;
        if ((s = RD("attn.c_attn.weight", 2, ((int64_t[]){M, 3 * M}), tmp))) break;
        float *Wx[3] = {L->W_Q, L->W_K, L->W_V}, *bx[3] = {L->b_Q, L->b_K, L->b_V};
        for (int x = 0; x < 3; x++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t m = 0; m < M; m++)
                    memcpy(Wx[x] + (h * M + m) * D, tmp + m * 3 * M + x * M + h * D, sizeof(float) * (size_t)D);
        if ((s = RD("attn.c_attn.bias", 1, ((int64_t[]){3 * M}), tmp))) break;
        for (int x = 0; x < 3; x++) memcpy(bx[x], tmp + x * M, sizeof(float) * (size_t)M);
        /* W_O[h, d, m] = c_proj.weight[h·D + d, m]: the same memory layout */
        if ((s = RD("attn.c_proj.weight", 2, ((int64_t[]){M, M}), L->W_O))) break;
        if ((s = RD("attn.c_proj.bias", 1, ((int64_t[]){M}), L->b_O))) break;
        if ((s = RD("mlp.c_fc.weight", 2, ((int64_t[]){M, F}), L->W_in))) break;
        if ((s = RD("mlp.c_fc.bias", 1, ((int64_t[]){F}), L->b_in))) break;
        if ((s = RD("mlp.c_proj.weight", 2, ((int64_t[]){F, M}), L->W_out))) break;
        if ((s = RD("mlp.c_proj.bias", 1, ((int64_t[]){M}), L->b_out))) break;
#undef RD
    }
    free(tmp);
    return s;
}

const hs_arch_ops hs_arch_gpt2 = {
    .model_type = "gpt2",
    .arch = HS_ARCH_GPT2,
    .parse_config = gpt2_parse_config,
    .convert = gpt2_convert,
    .is_ignored = gpt2_is_ignored,
};
