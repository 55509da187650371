/* model_internal.h — the model's weights in TransformerLens's shapes, and the
 * per-architecture hooks that fill them (internal).
 *
 * Architecture-specific code is only: reading config.json fields, converting HF
 * tensors to TL-shaped weights, and a few flags the forward pass reads
 * (parallel residual, rotary vs learned positions, activation). Everything
 * downstream (processing, forward, analysis) sees the same hs_weights.
 */
#ifndef HS_MODEL_INTERNAL_H
#define HS_MODEL_INTERNAL_H

#include "headscan/model.h"
#include "core/internal.h"
#include "io/safetensors.h"
#include <cjson/cJSON.h>
#include <pthread.h>

typedef struct hs_layer {
    float *W_Q;                 /* [H, M, D] */
    float *W_K, *W_V;           /* [KV, M, D] (TL's _W_K, _W_V; KV = H without grouped-query attention) */
    float *b_Q;                 /* [H, D] */
    float *b_K, *b_V;           /* [KV, D] */
    float *W_O;                 /* [H, D, M] */
    float *b_O;                 /* [M] */
    float *W_gate;              /* [M, F] gated MLP only, else NULL */
    float *b_gate;              /* [F] (HF gate_proj bias; zeros unless mlp_bias) */
    float *W_in;                /* [M, F] */
    float *b_in;                /* [F] */
    float *W_out;               /* [F, M] */
    float *b_out;               /* [M] */
    float *ln1_w, *ln1_b;       /* [M]; unused once fold_ln has run */
    float *ln2_w, *ln2_b;       /* [M] */
} hs_layer;

typedef struct hs_weights {
    float *W_E;                 /* [V, M] */
    float *W_pos;               /* [n_ctx, M] or NULL (rotary) */
    float *W_U;                 /* [M, V] */
    float *b_U;                 /* [V] */
    float *lnf_w, *lnf_b;       /* [M] */
    hs_layer *layers;           /* [n_layers] */
} hs_weights;

/* A set of safetensors files (one, or the shards of an index) searched by name. */
typedef struct hs_tensor_source {
    hs_safetensors *files;
    int n_files;
} hs_tensor_source;

/* Finds `name` and checks its shape; error names the file and tensor. */
hs_status hs_source_get(const hs_tensor_source *src, const char *name, int ndim, const int64_t *shape,
                        const hs_safetensors **file, const hs_st_tensor **t);
/* Finds `name`, checks its shape and converts it to float32 into dst. */
hs_status hs_source_read(const hs_tensor_source *src, const char *name, int ndim, const int64_t *shape, float *dst);

typedef struct hs_arch_ops {
    const char *model_type;
    hs_arch arch;
    hs_status (*parse_config)(const cJSON *root, const char *path, hs_model_config *cfg);
    /* Fills every TL weight (LN weights included) from the HF tensors. */
    hs_status (*convert)(const hs_tensor_source *src, const hs_model_config *cfg, hs_weights *w);
    /* Tensor-name suffixes that are known buffers, ignored. */
    bool (*is_ignored)(const char *name);
} hs_arch_ops;

extern const hs_arch_ops hs_arch_gpt_neox;
extern const hs_arch_ops hs_arch_gpt2;
extern const hs_arch_ops hs_arch_llama, hs_arch_mistral, hs_arch_qwen2;

/* Per layer, W_Q|W_K|W_V packed as one [M, (H + 2·KV)·D] matrix (columns: q heads, k
 * groups, v groups, each h·D + d) and its bias, built from the processed weights for one GEMM. */
/* A matrix kept in the checkpoint's dtype (F32, F16 or BF16), HF layout [rows = out, cols = in]. */
typedef struct hs_stored { hs_dtype dtype; void *data; int64_t rows, cols; } hs_stored;
enum { ST_Q, ST_K, ST_V, ST_O, ST_GATE, ST_UP, ST_DOWN, ST_PER_LAYER };

/* Llama-family models keep their big matrices as stored (stored.c): the f32 arena holds only
 * norms and biases (b_Q, b_K, b_V contiguous: the packed q|k|v bias); weights are widened to
 * float32, with fold_ln's norm weight applied per column, a block or a layer at a time. */
typedef struct hs_stored_model {
    hs_stored embed, head;      /* head.data == NULL when tied (embed unembeds) */
    hs_stored *layers;          /* [n_layers · ST_PER_LAYER] */
    float *mu;                  /* [M] center_unembed's mean over the vocabulary of W_U[m, :] (0 when off) */
    size_t bytes;               /* held in memory */
} hs_stored_model;

/* dst[r, c] = float(s[r0 + r, c]) · (scale ? scale[c] : 1) − (sub ? sub[c] : 0), for nr rows. */
void hs_stored_widen(const hs_stored *s, int64_t r0, int64_t nr, const float *scale, const float *sub, float *dst);
/* The unembedding's stored rows (lm_head, or embed_tokens when tied). */
const hs_stored *hs_stored_unembed(const hs_model *m);
/* Loader for stored models: small tensors into w (carved from a small arena), the rest kept. */
hs_status hs_llama_load_stored(const hs_tensor_source *src, hs_model *m);
/* TL processing for stored models (llama.md §5), on the small weights and mu. */
hs_status hs_process_stored(hs_model *m);
/* A processed TL weight of a stored model, materialised in float32 (NULL if not a big weight). */
hs_status hs_stored_weight(const hs_model *m, const char *name, float **out, int *ndim, int64_t *shape);

/* Longest context the rotary tables are built for (a forward refuses longer ones). */
#define HS_ROTARY_MAX_POS 16384

typedef struct hs_qkv_packed { float *W, *b; } hs_qkv_packed;

struct hs_rep_cache {
    pthread_mutex_t mu;
    float **rep;                /* [n_layers · 4] */
    struct hs_mat_entry { char name[64]; float *data; int ndim; int64_t shape[3]; } *mat;   /* stored models: materialised weights */
    int n_mat, cap_mat;
    struct hs_bf16_weights *bf16;   /* bf16 compute's weights, made on first use */
};

/* bf16 compute (gemm_bf16.c, oneDNN): a forward's GEMM context (primitives cached per shape,
 * the activations' bf16 buffer, the scratchpad) over the model's bf16 weights (made once per
 * model on first use, kept in rep_lock->bf16 under its mutex). Errors of the GEMM calls (which
 * return nothing, as the float32 ones) are kept for hs_bf16_gemm_status. */
typedef struct hs_bf16_gemm hs_bf16_gemm;
struct hs_bf16_weights;
/* HS_ERR_UNSUPPORTED when the CPU has neither AVX512_BF16 nor AMX. max_act: R·K floats of the
 * largest GEMM input. */
hs_status hs_bf16_gemm_create(const hs_model *m, size_t max_act, hs_bf16_gemm **out);
void hs_bf16_gemm_free(hs_bf16_gemm *g);
/* The first error since the last call (and resets it). */
hs_status hs_bf16_gemm_status(hs_bf16_gemm *g);
/* The oneDNN implementation of the last primitive made ("brg:avx512_core_bf16"). */
const char *hs_bf16_gemm_impl(const hs_bf16_gemm *g);
/* What ran the weight GEMMs of f's last pass: "OpenBLAS sgemm" or hs_bf16_gemm_impl's name. */
const char *hs_forward_gemm_impl(const hs_forward *f);
/* y[r, :] = x[r, :] @ W [K, N] + b, W one of the model's float32 weights (its bf16 copy is used). */
void hs_bf16_linear(hs_bf16_gemm *g, const float *x, int R, int K, const float *W, const float *b, int N, float *y);
/* y [R, ΣN_i] = (x ⊙ scale) @ [S_0; ..; S_{n-1}]ᵀ + b (stored matrices as bf16, scale may be NULL). */
void hs_bf16_linear_stored(hs_bf16_gemm *g, const hs_stored *S, int n, const float *scale, const float *x, int R,
                           const float *b, float *y);
/* logits [T, V] of a stored model: (x ⊙ lnf) @ Uᵀ + b_U − x·mu (fold_ln, center_unembed). */
void hs_bf16_unembed_stored(hs_bf16_gemm *g, const float *x, int T, float *lg);
void hs_bf16_weights_free(struct hs_bf16_weights *w);

struct hs_model {
    hs_model_config cfg;
    hs_model_params params;
    char *dir;
    hs_weights w;
    float *arena;               /* one allocation holding every weight */
    size_t arena_bytes;
    float *rot_sin, *rot_cos;   /* [rot_n, rotary_dim] or NULL */
    int rot_n;                  /* positions in the rotary tables (≤ n_ctx) */
    hs_qkv_packed *qkv;         /* [n_layers] */
    hs_stored_model *st;        /* Llama family: weights kept as stored; NULL otherwise */
    struct hs_rep_cache *rep_lock; /* W_K, W_V, b_K, b_V repeated per query head, made on request */
    float *qkv_arena;
    char err[HS_ERRMSG_MAX];
};

/* Llama-family RoPE sin/cos tables [n_pos, rotary_dim] for a forward over seq_len tokens
 * (seq_len matters only for "dynamic" scaling beyond max_position_embeddings). */
void hs_rope_tables(const hs_model_config *c, int n_pos, int seq_len, float *sin_t, float *cos_t);

/* TransformerLens weight processing (model.md §4), in its order. */
void hs_process_weights(const hs_model_config *cfg, const hs_model_params *p, hs_weights *w);
/* Number of floats the arena needs for cfg. */
size_t hs_weights_floats(const hs_model_config *cfg);
/* Carves the arena into w's pointers. */
void hs_weights_carve(const hs_model_config *cfg, float *arena, hs_weights *w);

/* config.json helpers */
hs_status hs_json_int(const cJSON *root, const char *path, const char *key, int *out, bool required);
hs_status hs_json_float(const cJSON *root, const char *path, const char *key, float *out, bool required);

#endif
