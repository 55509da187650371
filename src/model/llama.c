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

/* Reads an optional bias: zeros when absent and not required. */
static hs_status read_bias(const hs_tensor_source *src, const char *name, bool required, int64_t n, float *dst) {
    for (int i = 0; !required && i < src->n_files; i++)
        if (hs_st_find(&src->files[i], name)) required = true;
    if (!required) { memset(dst, 0, sizeof(float) * (size_t)n); return HS_OK; }
    return hs_source_read(src, name, 1, (int64_t[]){n}, dst);
}

/* Keeps tensor `name` [rows, cols] in the file's dtype. */
static hs_status keep(const hs_tensor_source *src, const char *name, int64_t rows, int64_t cols, hs_stored *out, size_t *bytes) {
    const hs_safetensors *f;
    const hs_st_tensor *t;
    hs_status s = hs_source_get(src, name, 2, (int64_t[]){rows, cols}, &f, &t);
    if (s) return s;
    if (t->dtype != HS_F32 && t->dtype != HS_F16 && t->dtype != HS_BF16)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: tensor '%s' is %s: the Llama family is read from F32, F16 or BF16", f->path, name,
                         t->dtype_str);
    out->data = hs_aligned_alloc(t->nbytes ? t->nbytes : 1);
    if (!out->data) return hs_error_prefix(HS_ERR_NOMEM, "%s: %zu MB for tensor '%s'", f->path, t->nbytes >> 20, name);
    out->dtype = t->dtype;
    out->rows = rows;
    out->cols = cols;
    *bytes += t->nbytes;
    return hs_st_read_raw(f, t, out->data);
}

/* Small float32 weights: b_U, ln_final w/b; per layer b_Q|b_K|b_V (contiguous), b_O, b_gate,
 * b_in (up_proj's bias), b_out, ln1 w/b, ln2 w/b. */
static size_t small_floats(const hs_model_config *c) {
    size_t M = (size_t)c->d_model, D = (size_t)c->d_head, F = (size_t)c->d_mlp;
    size_t per = ((size_t)c->n_heads + 2 * (size_t)c->n_kv_heads) * D + 2 * M + 2 * F + 4 * M;
    return (size_t)c->d_vocab + 2 * M + (size_t)c->n_layers * per;
}

static void carve_small(const hs_model_config *c, float *p, hs_weights *w) {
    size_t M = (size_t)c->d_model, D = (size_t)c->d_head, F = (size_t)c->d_mlp, H = (size_t)c->n_heads, KV = (size_t)c->n_kv_heads;
#define TAKE(ptr, n) (ptr = p, p += (n))
    TAKE(w->b_U, (size_t)c->d_vocab);
    TAKE(w->lnf_w, M);
    TAKE(w->lnf_b, M);
    for (int l = 0; l < c->n_layers; l++) {
        hs_layer *L = &w->layers[l];
        memset(L, 0, sizeof *L);
        TAKE(L->b_Q, H * D); TAKE(L->b_K, KV * D); TAKE(L->b_V, KV * D);
        TAKE(L->b_O, M); TAKE(L->b_gate, F); TAKE(L->b_in, F); TAKE(L->b_out, M);
        TAKE(L->ln1_w, M); TAKE(L->ln1_b, M); TAKE(L->ln2_w, M); TAKE(L->ln2_b, M);
    }
#undef TAKE
}

hs_status hs_llama_load_stored(const hs_tensor_source *src, hs_model *m) {
    const hs_model_config *c = &m->cfg;
    const int64_t M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    hs_stored_model *st = m->st;
    m->arena_bytes = small_floats(c) * sizeof(float);
    m->arena = hs_aligned_alloc(m->arena_bytes);
    st->mu = hs_aligned_alloc(sizeof(float) * (size_t)M);
    st->layers = hs_calloc((size_t)c->n_layers * ST_PER_LAYER, sizeof *st->layers);
    if (!m->arena || !st->mu || !st->layers) return HS_ERR_NOMEM;
    memset(m->arena, 0, m->arena_bytes);
    carve_small(c, m->arena, &m->w);
    hs_weights *w = &m->w;
    hs_status s = keep(src, "model.embed_tokens.weight", V, M, &st->embed, &st->bytes);
    if (s) return s;
    bool has_head = false;
    for (int i = 0; i < src->n_files; i++) has_head = has_head || hs_st_find(&src->files[i], "lm_head.weight");
    if (!has_head && !c->tied_embeddings)
        return hs_errorf(HS_ERR_FORMAT, "%s: required tensor 'lm_head.weight' is missing (config.json has tie_word_embeddings = false)",
                         src->n_files ? src->files[0].path : "checkpoint");
    /* tied: HF unembeds with embed_tokens even if the file also holds a copy as lm_head */
    if (has_head && !c->tied_embeddings && (s = keep(src, "lm_head.weight", V, M, &st->head, &st->bytes))) return s;
    if ((s = hs_source_read(src, "model.norm.weight", 1, (int64_t[]){M}, w->lnf_w))) return s;
    char name[256], full[64];
    const bool ab = c->attn_bias, ob = c->attn_bias && !c->qkv_bias_only, mb = c->mlp_bias;
    static const char *const big[ST_PER_LAYER] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                                  "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    const int64_t rows[ST_PER_LAYER] = {H * D, KV * D, KV * D, M, F, F, M}, cols[ST_PER_LAYER] = {M, M, M, H * D, M, M, F};
    for (int l = 0; l < c->n_layers && !s; l++) {
        hs_layer *L = &w->layers[l];
        float *bias[ST_PER_LAYER] = {L->b_Q, L->b_K, L->b_V, L->b_O, L->b_gate, L->b_in, L->b_out};
        const bool has_bias[ST_PER_LAYER] = {ab, ab, ab, ob, mb, mb, mb};
#define NM(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), name)
        if ((s = hs_source_read(src, NM("input_layernorm.weight"), 1, (int64_t[]){M}, L->ln1_w))) break;
        if ((s = hs_source_read(src, NM("post_attention_layernorm.weight"), 1, (int64_t[]){M}, L->ln2_w))) break;
        for (int k = 0; k < ST_PER_LAYER && !s; k++) {
            snprintf(full, sizeof full, "%s.weight", big[k]);
            if ((s = keep(src, NM(full), rows[k], cols[k], &st->layers[(size_t)l * ST_PER_LAYER + k], &st->bytes))) break;
            snprintf(full, sizeof full, "%s.bias", big[k]);
            s = read_bias(src, NM(full), has_bias[k], rows[k], bias[k]);
        }
#undef NM
    }
    return s;
}

#define LLAMA_OPS(type)                                                                                                  \
    {.model_type = type, .arch = HS_ARCH_LLAMA, .parse_config = llama_parse_config, .convert = NULL, \
     .is_ignored = llama_is_ignored}
const hs_arch_ops hs_arch_llama = LLAMA_OPS("llama");
const hs_arch_ops hs_arch_mistral = LLAMA_OPS("mistral");
const hs_arch_ops hs_arch_qwen2 = LLAMA_OPS("qwen2");
