/* llama.c — the Llama family (model_type llama, mistral, qwen2): config.json fields
 * and HF → TransformerLens weights (llama.md §1-2).
 *
 * Linear weights are [out, in]: W_Q[h, m, e] = q_proj.weight[h·D + e, m], K and V the
 * same with KV groups, W_O[h, e, m] = o_proj.weight[m, h·D + e], W_gate/W_in/W_out the
 * transposes of gate/up/down_proj. Missing biases are zeros; a tied model (no
 * lm_head.weight) unembeds with embed_tokens. Every config value headscan cannot apply
 * is refused with the field's name. */
#include "model/model_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hs_status json_bool(const cJSON *root, const char *path, const char *key, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return HS_OK;
    if (!cJSON_IsBool(v)) return hs_errorf(HS_ERR_FORMAT, "%s: field \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(v);
    return HS_OK;
}

/* rope_scaling {"type"|"rope_type": kind, factor, ...}, or transformers-v5 rope_parameters
 * {rope_theta, rope_type, ...}: the kind and its parameters (llama.md §1, §4). */
static hs_status parse_rope(const cJSON *root, const char *path, hs_model_config *c) {
    hs_status s;
    c->rotary_base = 10000.0f;
    c->rope_type = HS_ROPE_DEFAULT;
    if ((s = hs_json_float(root, path, "rope_theta", &c->rotary_base, false))) return s;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    const char *field = "rope_scaling";
    if (params && !cJSON_IsNull(params)) {
        if (!cJSON_IsObject(params)) return hs_errorf(HS_ERR_FORMAT, "%s: field \"rope_parameters\" must be an object", path);
        if (cJSON_GetObjectItemCaseSensitive(params, "full_attention") || cJSON_GetObjectItemCaseSensitive(params, "sliding_attention"))
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: per-layer-type \"rope_parameters\" are not supported", path);
        if ((s = hs_json_float(params, path, "rope_theta", &c->rotary_base, false))) return s;
        sc = params;
        field = "rope_parameters";
    }
    if (!(c->rotary_base > 0)) return hs_errorf(HS_ERR_FORMAT, "%s: rope_theta %g must be positive", path, c->rotary_base);
    if (!sc || cJSON_IsNull(sc)) return HS_OK;
    if (!cJSON_IsObject(sc)) return hs_errorf(HS_ERR_FORMAT, "%s: field \"%s\" must be an object or null", path, field);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(sc, "rope_type");
    if (!kind || cJSON_IsNull(kind)) kind = cJSON_GetObjectItemCaseSensitive(sc, "type");
    if (!kind || cJSON_IsNull(kind)) {
        if (params == sc) return HS_OK;   /* rope_parameters with only rope_theta */
        return hs_errorf(HS_ERR_FORMAT, "%s: field \"%s\" has no \"rope_type\" (or \"type\")", path, field);
    }
    if (!cJSON_IsString(kind)) return hs_errorf(HS_ERR_FORMAT, "%s: %s.rope_type must be a string", path, field);
    const char *k = kind->valuestring;
    if (!strcmp(k, "default")) return HS_OK;
    if (!strcmp(k, "linear")) c->rope_type = HS_ROPE_LINEAR;
    else if (!strcmp(k, "dynamic")) c->rope_type = HS_ROPE_DYNAMIC;
    else if (!strcmp(k, "llama3")) c->rope_type = HS_ROPE_LLAMA3;
    else
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.rope_type \"%s\" is not supported (default, linear, dynamic, llama3)", path,
                         field, k);
    char what[64];
    snprintf(what, sizeof what, "%s.factor", field);
    c->rope_factor = 0;
    if ((s = hs_json_float(sc, path, "factor", &c->rope_factor, true))) return hs_error_prefix(s, "%s", what);
    if (!(c->rope_factor >= 1))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s %g must be >= 1", path, what, c->rope_factor);
    if (c->rope_type == HS_ROPE_LLAMA3) {
        if ((s = hs_json_float(sc, path, "low_freq_factor", &c->rope_low_freq_factor, true))) return s;
        if ((s = hs_json_float(sc, path, "high_freq_factor", &c->rope_high_freq_factor, true))) return s;
        if ((s = hs_json_int(sc, path, "original_max_position_embeddings", &c->rope_original_max_pos, true))) return s;
        if (!(c->rope_high_freq_factor > c->rope_low_freq_factor && c->rope_low_freq_factor > 0) || c->rope_original_max_pos < 1)
            return hs_errorf(HS_ERR_FORMAT, "%s: %s: llama3 needs high_freq_factor > low_freq_factor > 0 and original_max_position_embeddings >= 1",
                             path, field);
    }
    /* parameters of other kinds that would change the model if present */
    static const char *const unknown[] = {"attention_factor", "beta_fast", "beta_slow", "short_factor", "long_factor", "mscale",
                                          "mscale_all_dim"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
        if (cJSON_GetObjectItemCaseSensitive(sc, unknown[i]))
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.%s is not supported with rope_type \"%s\"", path, field, unknown[i], k);
    return HS_OK;
}

static hs_status llama_parse_config(const cJSON *root, const char *path, hs_model_config *c) {
    hs_status s;
    const bool qwen2 = !strcmp(c->model_type, "qwen2"), mistral = !strcmp(c->model_type, "mistral");
    if ((s = hs_json_int(root, path, "hidden_size", &c->d_model, true))) return s;
    if ((s = hs_json_int(root, path, "num_attention_heads", &c->n_heads, true))) return s;
    if ((s = hs_json_int(root, path, "num_hidden_layers", &c->n_layers, true))) return s;
    if ((s = hs_json_int(root, path, "intermediate_size", &c->d_mlp, true))) return s;
    if ((s = hs_json_int(root, path, "max_position_embeddings", &c->n_ctx, true))) return s;
    if ((s = hs_json_int(root, path, "vocab_size", &c->d_vocab, true))) return s;
    if (c->n_heads <= 0) return hs_errorf(HS_ERR_FORMAT, "%s: num_attention_heads must be positive", path);
    c->n_kv_heads = c->n_heads;
    if ((s = hs_json_int(root, path, "num_key_value_heads", &c->n_kv_heads, false))) return s;
    if (c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads)
        return hs_errorf(HS_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", path, c->n_heads,
                         c->n_kv_heads);
    c->d_head = c->d_model % c->n_heads ? 0 : c->d_model / c->n_heads;
    if ((s = hs_json_int(root, path, "head_dim", &c->d_head, false))) return s;
    if (c->d_head < 2 || c->d_head % 2)
        return hs_errorf(HS_ERR_FORMAT, "%s: head_dim %d must be even and positive (set \"head_dim\" when hidden_size %% heads != 0)",
                         path, c->d_head);
    c->ln_eps = 1e-6f;
    if ((s = hs_json_float(root, path, "rms_norm_eps", &c->ln_eps, false))) return s;
    if (!(c->ln_eps >= 0)) return hs_errorf(HS_ERR_FORMAT, "%s: rms_norm_eps must be >= 0", path);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (!act) act = cJSON_GetObjectItemCaseSensitive(root, "hidden_activation");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported for %s (only \"silu\")", path,
                         cJSON_IsString(act) ? act->valuestring : "?", c->model_type);
    c->act = HS_ACT_SILU;
    c->rms_norm = c->gated_mlp = true;
    c->rotary_dim = c->d_head;   /* rotary over the whole head, half-split */
    float prf = 1.0f;
    if ((s = hs_json_float(root, path, "partial_rotary_factor", &prf, false))) return s;
    if (prf != 1.0f) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: partial_rotary_factor %g is not supported (only 1)", path, prf);
    if ((s = parse_rope(root, path, c))) return s;
    if ((s = json_bool(root, path, "tie_word_embeddings", &c->tied_embeddings))) return s;
    if (mistral) {
        /* MistralForCausalLM has no biases; attention_bias/mlp_bias are not read by HF */
        c->sliding_window = 0;
        if ((s = hs_json_int(root, path, "sliding_window", &c->sliding_window, false))) return s;
    } else if (qwen2) {
        c->attn_bias = c->qkv_bias_only = true;   /* Qwen2Attention: q/k/v biases, o_proj without */
        bool use_sw = false;
        if ((s = json_bool(root, path, "use_sliding_window", &use_sw))) return s;
        if (use_sw)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: use_sliding_window = true (Qwen2's per-layer sliding window, "
                             "layer_types / max_window_layers) is not supported", path);
    } else {
        if ((s = json_bool(root, path, "attention_bias", &c->attn_bias))) return s;
        if ((s = json_bool(root, path, "mlp_bias", &c->mlp_bias))) return s;
        if (cJSON_GetObjectItemCaseSensitive(root, "sliding_window") &&
            !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "sliding_window")))
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: sliding_window is not supported for model_type llama", path);
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "layer_types")) {
        /* every layer must be full attention (transformers writes this list for Qwen2 too) */
        const cJSON *lt = cJSON_GetObjectItemCaseSensitive(root, "layer_types"), *e;
        if (!cJSON_IsArray(lt)) return hs_errorf(HS_ERR_FORMAT, "%s: field \"layer_types\" must be a list", path);
        cJSON_ArrayForEach(e, lt) if (!cJSON_IsString(e) || strcmp(e->valuestring, "full_attention"))
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: layer_types entry '%s' is not supported (only \"full_attention\")", path,
                             cJSON_IsString(e) ? e->valuestring : "?");
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "quantization_config"))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: quantization_config: quantized checkpoints are not supported", path);
    int tp = 1;
    if ((s = hs_json_int(root, path, "pretraining_tp", &tp, false))) return s;   /* any value: the same model */
    c->parallel_residual = false;
    c->bos_id = qwen2 ? 151643 : 1;
    c->eos_id = qwen2 ? 151643 : 2;
    if ((s = hs_json_int(root, path, "bos_token_id", &c->bos_id, false))) return s;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(root, "eos_token_id");
    if (cJSON_IsArray(eos)) { /* Llama-3 instruct lists several: the first */
        const cJSON *e0 = cJSON_GetArrayItem(eos, 0);
        if (cJSON_IsNumber(e0) && e0->valuedouble >= 0) c->eos_id = (int)e0->valuedouble;
    } else if ((s = hs_json_int(root, path, "eos_token_id", &c->eos_id, false))) return s;
    c->default_prepend_bos = !qwen2;   /* TL: Qwen2 default_prepend_bos = False */
    return HS_OK;
}

static bool llama_is_ignored(const char *name) {
    size_t n = strlen(name), k = strlen(".rotary_emb.inv_freq");
    return n >= k && !strcmp(name + n - k, ".rotary_emb.inv_freq");
}

/* dst[i][o] = src[o][i] for an [O, I] matrix (HF linear weight → TL [in, out]). */
static void transpose(const float *src, int64_t O, int64_t I, float *dst) {
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++) dst[i * O + o] = src[o * I + i];
}

/* [G·D, M] projection rows → TL [G, M, D]. */
static void split_heads(const float *src, int64_t G, int64_t M, int64_t D, float *dst) {
    for (int64_t g = 0; g < G; g++)
        for (int64_t e = 0; e < D; e++)
            for (int64_t m = 0; m < M; m++) dst[(g * M + m) * D + e] = src[(g * D + e) * M + m];
}

/* Reads an optional bias: zeros when absent and not required. */
static hs_status read_bias(const hs_tensor_source *src, const char *name, bool required, int64_t n, float *dst) {
    for (int i = 0; !required && i < src->n_files; i++)
        if (hs_st_find(&src->files[i], name)) required = true;
    if (!required) { memset(dst, 0, sizeof(float) * (size_t)n); return HS_OK; }
    return hs_source_read(src, name, 1, (int64_t[]){n}, dst);
}

static hs_status llama_convert(const hs_tensor_source *src, const hs_model_config *c, hs_weights *w) {
    const int64_t M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    hs_status s;
    if ((s = hs_source_read(src, "model.embed_tokens.weight", 2, (int64_t[]){V, M}, w->W_E))) return s;
    int64_t tmp_n = V * M;
    if (F * M > tmp_n) tmp_n = F * M;
    if (H * D * M > tmp_n) tmp_n = H * D * M;
    float *tmp = hs_malloc((size_t)tmp_n * sizeof(float));
    if (!tmp) return HS_ERR_NOMEM;
    bool has_head = false;
    for (int i = 0; i < src->n_files; i++) has_head = has_head || hs_st_find(&src->files[i], "lm_head.weight");
    if (c->tied_embeddings && has_head) {
        /* HF ties them: the file may still hold a copy; use embed_tokens as HF does */
        has_head = false;
    }
    if (!has_head && !c->tied_embeddings)
        s = hs_errorf(HS_ERR_FORMAT, "%s: required tensor 'lm_head.weight' is missing (config.json has tie_word_embeddings = false)",
                      src->n_files ? src->files[0].path : "checkpoint");
    if (!s && has_head) s = hs_source_read(src, "lm_head.weight", 2, (int64_t[]){V, M}, tmp);
    if (!s) transpose(has_head ? tmp : w->W_E, V, M, w->W_U);
    memset(w->b_U, 0, (size_t)V * sizeof(float));
    if (!s) s = hs_source_read(src, "model.norm.weight", 1, (int64_t[]){M}, w->lnf_w);
    memset(w->lnf_b, 0, sizeof(float) * (size_t)M);
    char name[256];
    const bool ab = c->attn_bias, ob = c->attn_bias && !c->qkv_bias_only, mb = c->mlp_bias;
    for (int l = 0; l < c->n_layers && !s; l++) {
        hs_layer *L = &w->layers[l];
#define NM(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), name)
        if ((s = hs_source_read(src, NM("input_layernorm.weight"), 1, (int64_t[]){M}, L->ln1_w))) break;
        if ((s = hs_source_read(src, NM("post_attention_layernorm.weight"), 1, (int64_t[]){M}, L->ln2_w))) break;
        memset(L->ln1_b, 0, sizeof(float) * (size_t)M);
        memset(L->ln2_b, 0, sizeof(float) * (size_t)M);
        static const char *const proj[3] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"};
        float *Wx[3] = {L->W_Q, L->W_K, L->W_V}, *bx[3] = {L->b_Q, L->b_K, L->b_V};
        const int64_t G[3] = {H, KV, KV};
        char full[64];
        for (int x = 0; x < 3 && !s; x++) {
            snprintf(full, sizeof full, "%s.weight", proj[x]);
            if ((s = hs_source_read(src, NM(full), 2, (int64_t[]){G[x] * D, M}, tmp))) break;
            split_heads(tmp, G[x], M, D, Wx[x]);
            snprintf(full, sizeof full, "%s.bias", proj[x]);
            s = read_bias(src, NM(full), ab, G[x] * D, bx[x]);
        }
        if (s) break;
        /* W_O[h, e, m] = o_proj[m, h·D + e]: the transpose of [M, H·D] */
        if ((s = hs_source_read(src, NM("self_attn.o_proj.weight"), 2, (int64_t[]){M, H * D}, tmp))) break;
        transpose(tmp, M, H * D, L->W_O);
        if ((s = read_bias(src, NM("self_attn.o_proj.bias"), ob, M, L->b_O))) break;
        if ((s = hs_source_read(src, NM("mlp.gate_proj.weight"), 2, (int64_t[]){F, M}, tmp))) break;
        transpose(tmp, F, M, L->W_gate);
        if ((s = read_bias(src, NM("mlp.gate_proj.bias"), mb, F, L->b_gate))) break;
        if ((s = hs_source_read(src, NM("mlp.up_proj.weight"), 2, (int64_t[]){F, M}, tmp))) break;
        transpose(tmp, F, M, L->W_in);
        if ((s = read_bias(src, NM("mlp.up_proj.bias"), mb, F, L->b_in))) break;
        if ((s = hs_source_read(src, NM("mlp.down_proj.weight"), 2, (int64_t[]){M, F}, tmp))) break;
        transpose(tmp, M, F, L->W_out);
        if ((s = read_bias(src, NM("mlp.down_proj.bias"), mb, M, L->b_out))) break;
#undef NM
    }
    free(tmp);
    return s;
}

#define LLAMA_OPS(type)                                                                                                  \
    {.model_type = type, .arch = HS_ARCH_LLAMA, .parse_config = llama_parse_config, .convert = llama_convert, \
     .is_ignored = llama_is_ignored}
const hs_arch_ops hs_arch_llama = LLAMA_OPS("llama");
const hs_arch_ops hs_arch_mistral = LLAMA_OPS("mistral");
const hs_arch_ops hs_arch_qwen2 = LLAMA_OPS("qwen2");
