/* headscan/model.h — HuggingFace checkpoints run exactly as TransformerLens runs them.
 *
 *   hs_model_params mp = hs_model_default_params();      // TL processing on
 *   hs_model *m;  hs_model_load("pythia-70m/", &mp, &m);  // config.json + safetensors
 *   hs_forward *f; hs_forward_create(m, 32, 256, &f);      // one workspace per batch shape
 *   hs_forward_params fp = hs_forward_default_params();
 *   fp.hook = my_hook; fp.hook_user = me; fp.loss = loss;  // loss: float[B*(T-1)]
 *   hs_forward_run(f, tokens, B, T, &fp);
 *
 * Weights are stored in TransformerLens's shapes after its processing (fold_ln,
 * center_writing_weights, center_unembed, fold_value_biases; each can be off).
 * Hooks carry TransformerLens names ("blocks.3.attn.hook_pattern") and shapes.
 * The hook callback is asked first (ask = true, data = NULL): only hooks it wants
 * are materialised and handed over (ask = false). Returning false from a
 * hand-over stops the pass with HS_ERR_CANCELLED.
 */
#ifndef HEADSCAN_MODEL_H
#define HEADSCAN_MODEL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_model hs_model;
typedef struct hs_forward hs_forward;

typedef enum { HS_ARCH_GPT_NEOX = 0, HS_ARCH_GPT2 = 1, HS_ARCH_LLAMA = 2 } hs_arch;
typedef enum { HS_ACT_GELU = 0, HS_ACT_GELU_NEW = 1, HS_ACT_SILU = 2 } hs_act;
/* RoPE frequency scaling (config.json rope_scaling / rope_parameters; llama.md §4). */
typedef enum { HS_ROPE_DEFAULT = 0, HS_ROPE_LINEAR = 1, HS_ROPE_DYNAMIC = 2, HS_ROPE_LLAMA3 = 3 } hs_rope_type;

typedef struct hs_model_config {
    hs_arch arch;
    char model_type[32];      /* config.json model_type, e.g. "gpt_neox" */
    int n_layers, d_model, n_heads, d_head, d_mlp;
    int d_vocab;              /* embedding rows (50304 for Pythia) */
    int n_ctx;                /* max_position_embeddings */
    int rotary_dim;           /* 0 when the model has learned positions */
    float rotary_base;
    float ln_eps;
    bool parallel_residual;
    hs_act act;
    int bos_id, eos_id;
    /* Llama family (llama, mistral, qwen2); for GPT-NeoX/GPT-2: n_kv_heads = n_heads, the rest 0 */
    int n_kv_heads;           /* num_key_value_heads: query head h reads KV group h / (n_heads / n_kv_heads) */
    bool rms_norm;            /* RMSNorm (no mean, no bias) instead of LayerNorm */
    bool gated_mlp;           /* down(act(gate(x)) * up(x)) */
    bool tied_embeddings;     /* lm_head = embed_tokens */
    bool attn_bias, qkv_bias_only, mlp_bias;   /* attention_bias; Qwen2's q/k/v bias without o bias; mlp_bias */
    int sliding_window;       /* Mistral: key j visible from query i iff i - W < j; 0 = none */
    hs_rope_type rope_type;
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_max_pos; /* llama3: original_max_position_embeddings */
    bool default_prepend_bos; /* TransformerLens's default_prepend_bos (false for Qwen2) */
    hs_dtype file_dtype;      /* dtype of the largest tensors in the checkpoint */
    int64_t n_params;         /* parameters in the checkpoint (weights and biases) */
} hs_model_config;

typedef struct hs_model_params {
    bool fold_ln;
    bool center_writing_weights;
    bool center_unembed;
    bool fold_value_biases;
} hs_model_params;

/* All four processing steps on (TransformerLens from_pretrained). */
HS_API hs_model_params hs_model_default_params(void);
/* All off (from_pretrained_no_processing): logits equal HuggingFace's. */
HS_API hs_model_params hs_model_no_processing_params(void);

/* Reads only config.json from a HuggingFace model folder. */
HS_API hs_status hs_model_read_config(const char *dir, hs_model_config *out);
/* Loads config.json and model.safetensors (or the sharded index) from `dir`. */
HS_API hs_status hs_model_load(const char *dir, const hs_model_params *params, hs_model **out);
HS_API void hs_model_free(hs_model *m);
HS_API const char *hs_model_error(const hs_model *m);
HS_API const hs_model_config *hs_model_get_config(const hs_model *m);
HS_API const char *hs_model_dir(const hs_model *m);

/* A processed weight by TransformerLens name, as a view (data not owned, valid
 * while the model lives): "W_E" [V, M], "W_pos" [n_ctx, M] (GPT-2), "W_U" [M, V],
 * "b_U" [V], "blocks.L.attn.W_Q|W_K|W_V" [H, M, D], "blocks.L.attn.b_Q|b_K|b_V" [H, D],
 * "blocks.L.attn.W_O" [H, D, M], "blocks.L.attn.b_O" [M], "blocks.L.mlp.W_in" [M, F],
 * "blocks.L.mlp.b_in" [F], "blocks.L.mlp.W_out" [F, M], "blocks.L.mlp.b_out" [M],
 * and when fold_ln is off "blocks.L.ln1.w|b", "blocks.L.ln2.w|b", "ln_final.w|b" [M].
 * Llama family: "blocks.L.attn.W_K|W_V" [H, M, D] and "b_K|b_V" [H, D] repeat the KV
 * groups per query head (TL's properties); "blocks.L.attn._W_K|_W_V" [KV, M, D] and
 * "_b_K|_b_V" [KV, D] are the groups as stored; "blocks.L.mlp.W_gate" [M, F], "b_gate",
 * "b_up" [F] (gate_proj / up_proj biases, zero unless mlp_bias; there is no "b_in"); no
 * ".b" norm weights (RMSNorm). */
HS_API hs_status hs_model_weight(const hs_model *m, const char *name, hs_array *view);

/* Memory needed for weights plus one batch of B x T (bytes). */
typedef struct hs_memory_estimate {
    size_t weights;      /* processed float32 weights held in memory */
    size_t workspace;    /* activations for one B x T batch */
    size_t total;
} hs_memory_estimate;
HS_API hs_memory_estimate hs_model_estimate_memory(const hs_model_config *cfg, int B, int T);

/* --------------------------------------------------------------------------- hooks */
typedef struct hs_hook_tensor {
    const char *name;        /* full TL hook name, e.g. "blocks.3.attn.hook_z" */
    int layer;               /* block index, or -1 */
    int ndim;
    int64_t shape[5];        /* TL shape, e.g. [B, T, H, D] */
    const float *data;       /* NULL when asking; valid only during the callback */
    int64_t batch_offset;    /* first batch row of this slice ("logits" arrive one sequence at a time) */
} hs_hook_tensor;

typedef bool (*hs_hook_fn)(const hs_hook_tensor *t, bool ask, void *user);

/* A convenience cache: collects the hooks whose names match one of `patterns`
 * (exact names, or "*" for all; "logits" is never cached — ask hs_forward_params.logits).
 * Use hs_cache_hook as the callback and the cache as its user pointer. */
typedef struct hs_cache hs_cache;
HS_API hs_status hs_cache_create(const char *const *patterns, int n_patterns, hs_cache **out);
HS_API bool hs_cache_hook(const hs_hook_tensor *t, bool ask, void *cache);
HS_API const hs_array *hs_cache_get(const hs_cache *c, const char *name); /* NULL if absent */
HS_API int hs_cache_count(const hs_cache *c);
HS_API const char *hs_cache_name(const hs_cache *c, int i);
HS_API void hs_cache_free(hs_cache *c);

/* ------------------------------------------------------------------------- forward */
/* Arithmetic of the weight GEMMs (q|k|v, W_O, the MLP's and the unembedding; attention's
 * score and value products stay float32).
 *   HS_COMPUTE_F32   float32 through BLAS: TransformerLens's numbers (the default, and the
 *                    only mode the TL-equality tests use).
 *   HS_COMPUTE_BF16  oneDNN matmul on bfloat16 inputs (activations and weights rounded to
 *                    bf16: 8 significant bits, relative rounding ≤ 2^-9 each) with float32
 *                    accumulation and output. Weights are converted once per model (BF16
 *                    checkpoints of the Llama family are used as stored, fold_ln's norm
 *                    weight then scales the activations). Needs a CPU with AVX512_BF16 or
 *                    AMX: elsewhere oneDNN only emulates bf16, slower than float32, and
 *                    hs_forward_run refuses with HS_ERR_UNSUPPORTED (no silent fallback).
 *                    Not TL-exact: measure the deviation with hs_compute_compare. */
typedef enum { HS_COMPUTE_F32 = 0, HS_COMPUTE_BF16 = 1 } hs_compute;
/* "f32" / "bf16" (for command lines); HS_ERR_INVALID_ARG naming the choices otherwise. */
HS_API hs_status hs_compute_parse(const char *s, hs_compute *out);
HS_API const char *hs_compute_name(hs_compute c);
/* HS_OK when this CPU runs `c` (always for float32); else HS_ERR_UNSUPPORTED saying why. */
HS_API hs_status hs_compute_check(hs_compute c);

typedef struct hs_forward_params {
    hs_hook_fn hook;         /* optional */
    void *hook_user;
    float *loss;             /* optional out: [B, T-1] per-token loss (TL loss_fn per_token) */
    float *logits;           /* optional out: [B, T, V] (large) */
    hs_compute compute;      /* default HS_COMPUTE_F32 */
} hs_forward_params;
HS_API hs_forward_params hs_forward_default_params(void);

/* A workspace for batches up to max_batch x max_ctx. */
HS_API hs_status hs_forward_create(const hs_model *m, int max_batch, int max_ctx, hs_forward **out);
HS_API void hs_forward_free(hs_forward *f);
HS_API const char *hs_forward_error(const hs_forward *f);
/* tokens: [B, T] row-major. */
HS_API hs_status hs_forward_run(hs_forward *f, const int32_t *tokens, int B, int T,
                                const hs_forward_params *params);

/* How far `compute` is from float32 on tokens [B, T]: each sequence is run alone (1 x T)
 * in float32 and in `compute`, and its logits and per-token losses compared. */
typedef struct hs_compute_deviation {
    int sequences, tokens;       /* compared: B sequences of T tokens */
    double max_abs_logit;        /* max |logit − logit_f32| */
    double max_logit;            /* max |logit_f32| (the scale of the above) */
    double rel_logit;            /* ‖logits − logits_f32‖₂ / ‖logits_f32‖₂ */
    double max_abs_loss;         /* max |loss − loss_f32| over the B·(T−1) next-token losses */
    double mean_abs_loss;
    char impl[64];               /* the oneDNN implementation that ran, e.g. "brg:avx512_core_bf16" */
} hs_compute_deviation;
HS_API hs_status hs_compute_compare(const hs_model *m, const int32_t *tokens, int B, int T, hs_compute compute,
                                    hs_compute_deviation *out);

#ifdef __cplusplus
}
#endif
#endif
