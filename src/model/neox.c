/* neox.c — GPT-NeoX (Pythia): config.json fields and HF → TransformerLens weights
 * (model.md §1-3). The fused query_key_value is interleaved per head:
 * rows h*3D + [0,D) = q, + [D,2D) = k, + [2D,3D) = v. */
#include "model/model_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hs_status neox_parse_config(const cJSON *root, const char *path, hs_model_config *c) {
    hs_status s;
    if ((s = hs_json_int(root, path, "hidden_size", &c->d_model, true))) return s;
    if ((s = hs_json_int(root, path, "num_attention_heads", &c->n_heads, true))) return s;
    if ((s = hs_json_int(root, path, "num_hidden_layers", &c->n_layers, true))) return s;
    if ((s = hs_json_int(root, path, "intermediate_size", &c->d_mlp, true))) return s;
    if ((s = hs_json_int(root, path, "max_position_embeddings", &c->n_ctx, true))) return s;
    if ((s = hs_json_int(root, path, "vocab_size", &c->d_vocab, true))) return s;
    c->ln_eps = 1e-5f;
    if ((s = hs_json_float(root, path, "layer_norm_eps", &c->ln_eps, false))) return s;
    if (c->n_heads <= 0 || c->d_model <= 0 || c->d_model % c->n_heads)
        return hs_errorf(HS_ERR_FORMAT, "%s: hidden_size %d is not a multiple of num_attention_heads %d", path, c->d_model, c->n_heads);
    c->d_head = c->d_model / c->n_heads;
    float pct = 0.25f;
    if (cJSON_GetObjectItemCaseSensitive(root, "rotary_pct")) {
        if ((s = hs_json_float(root, path, "rotary_pct", &pct, true))) return s;
    } else if ((s = hs_json_float(root, path, "partial_rotary_factor", &pct, false))) return s;
    if (pct <= 0 || pct > 1) return hs_errorf(HS_ERR_FORMAT, "%s: rotary_pct %g is not in (0, 1]", path, pct);
    /* TL: round(rotary_pct * d_head); HF: int(d_head * rotary_pct) — equal for every Pythia. */
    c->rotary_dim = (int)lround((double)pct * c->d_head);
    if (c->rotary_dim % 2 || c->rotary_dim <= 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: rotary dimension %d (rotary_pct x d_head) must be even and positive", path, c->rotary_dim);
    c->rotary_base = 10000.0f;
    if (cJSON_GetObjectItemCaseSensitive(root, "rotary_emb_base")) {
        if ((s = hs_json_float(root, path, "rotary_emb_base", &c->rotary_base, true))) return s;
    } else if ((s = hs_json_float(root, path, "rope_theta", &c->rotary_base, false))) return s;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "gelu")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported for gpt_neox (only \"gelu\")", path,
                         cJSON_IsString(act) ? act->valuestring : "?");
    c->act = HS_ACT_GELU;
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(root, "use_parallel_residual");
    c->parallel_residual = par ? cJSON_IsTrue(par) : true;
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    if (tie && cJSON_IsTrue(tie))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: tie_word_embeddings = true is not supported for gpt_neox", path);
    c->bos_id = 0;
    c->eos_id = 0;
    if ((s = hs_json_int(root, path, "bos_token_id", &c->bos_id, false))) return s;
    if ((s = hs_json_int(root, path, "eos_token_id", &c->eos_id, false))) return s;
    return HS_OK;
}

static bool neox_is_ignored(const char *name) {
    static const char *suffixes[] = {".attention.bias", ".attention.masked_bias", ".attention.rotary_emb.inv_freq",
                                     ".rotary_emb.inv_freq"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && !strcmp(name + n - k, suffixes[i])) return true;
    }
    return false;
}

static hs_status neox_convert(const hs_tensor_source *src, const hs_model_config *c, hs_weights *w) {
    const int64_t M = c->d_model, H = c->n_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    char name[256];
    hs_status s;
    if ((s = hs_source_read(src, "gpt_neox.embed_in.weight", 2, (int64_t[]){V, M}, w->W_E))) return s;
    int64_t tmp_n = V * M;
    if (3 * M * M > tmp_n) tmp_n = 3 * M * M;
    if (F * M > tmp_n) tmp_n = F * M;
    float *tmp = hs_malloc((size_t)tmp_n * sizeof(float));
    if (!tmp) return HS_ERR_NOMEM;
    /* W_U[m, v] = embed_out.weight[v, m] */
    s = hs_source_read(src, "embed_out.weight", 2, (int64_t[]){V, M}, tmp);
    if (!s)
        for (int64_t v = 0; v < V; v++)
            for (int64_t m = 0; m < M; m++) w->W_U[m * V + v] = tmp[v * M + m];
    memset(w->b_U, 0, (size_t)V * sizeof(float));
    if (!s) s = hs_source_read(src, "gpt_neox.final_layer_norm.weight", 1, (int64_t[]){M}, w->lnf_w);
    if (!s) s = hs_source_read(src, "gpt_neox.final_layer_norm.bias", 1, (int64_t[]){M}, w->lnf_b);
    for (int l = 0; l < c->n_layers && !s; l++) {
        hs_layer *L = &w->layers[l];
#define RD(suffix, nd, shp, dst) \
        (snprintf(name, sizeof name, "gpt_neox.layers.%d.%s", l, suffix), hs_source_read(src, name, nd, shp, dst))
        if ((s = RD("input_layernorm.weight", 1, ((int64_t[]){M}), L->ln1_w))) break;
        if ((s = RD("input_layernorm.bias", 1, ((int64_t[]){M}), L->ln1_b))) break;
        if ((s = RD("post_attention_layernorm.weight", 1, ((int64_t[]){M}), L->ln2_w))) break;
        if ((s = RD("post_attention_layernorm.bias", 1, ((int64_t[]){M}), L->ln2_b))) break;
        if ((s = RD("attention.query_key_value.weight", 2, ((int64_t[]){3 * M, M}), tmp))) break;
        for (int64_t h = 0; h < H; h++)
            for (int64_t d = 0; d < D; d++)
                for (int64_t m = 0; m < M; m++) {
                    const float *row = tmp + (h * 3 * D + d) * M;
                    L->W_Q[(h * M + m) * D + d] = row[m];
                    L->W_K[(h * M + m) * D + d] = row[D * M + m];
                    L->W_V[(h * M + m) * D + d] = row[2 * D * M + m];
                }
        if ((s = RD("attention.query_key_value.bias", 1, ((int64_t[]){3 * M}), tmp))) break;
        for (int64_t h = 0; h < H; h++)
            for (int64_t d = 0; d < D; d++) {
                L->b_Q[h * D + d] = tmp[h * 3 * D + d];
                L->b_K[h * D + d] = tmp[h * 3 * D + D + d];
                L->b_V[h * D + d] = tmp[h * 3 * D + 2 * D + d];
            }
        /* W_O[h, d, m] = dense.weight[m, h*D + d] */
        if ((s = RD("attention.dense.weight", 2, ((int64_t[]){M, M}), tmp))) break;
        for (int64_t m = 0; m < M; m++)
            for (int64_t j = 0; j < M; j++) L->W_O[j * M + m] = tmp[m * M + j];
        if ((s = RD("attention.dense.bias", 1, ((int64_t[]){M}), L->b_O))) break;
        if ((s = RD("mlp.dense_h_to_4h.weight", 2, ((int64_t[]){F, M}), tmp))) break;
        for (int64_t j = 0; j < F; j++)
            for (int64_t m = 0; m < M; m++) L->W_in[m * F + j] = tmp[j * M + m];
        if ((s = RD("mlp.dense_h_to_4h.bias", 1, ((int64_t[]){F}), L->b_in))) break;
        if ((s = RD("mlp.dense_4h_to_h.weight", 2, ((int64_t[]){M, F}), tmp))) break;
        for (int64_t m = 0; m < M; m++)
            for (int64_t j = 0; j < F; j++) L->W_out[j * M + m] = tmp[m * F + j];
        if ((s = RD("mlp.dense_4h_to_h.bias", 1, ((int64_t[]){M}), L->b_out))) break;
#undef RD
    }
    free(tmp);
    return s;
}

const hs_arch_ops hs_arch_gpt_neox = {
    .model_type = "gpt_neox",
    .arch = HS_ARCH_GPT_NEOX,
    .parse_config = neox_parse_config,
    .convert = neox_convert,
    .is_ignored = neox_is_ignored,
};
