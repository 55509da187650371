/* headscan/train.h — a CPU trainer for small GPT-NeoX models.
 *
 * Trains the architecture the runtime loads (parallel residual, partial rotary,
 * LayerNorm, exact GELU, untied embeddings) with forward, backward and AdamW in C,
 * and writes checkpoints as HuggingFace directories: config.json, model.safetensors
 * (F32 or F16) and a copy of the tokenizer.json. Deterministic for a given seed and
 * thread count (hs_set_num_threads).
 */
#ifndef HEADSCAN_TRAIN_H
#define HEADSCAN_TRAIN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_train_params {
    /* Inputs and output. data: token ids as .npy (int32/int64; 2-D [rows, len] with
     * len >= n_ctx + 1, each row one training sequence starting with BOS, or 1-D
     * stream cut into rows of n_ctx + 1). tokenizer: a HF tokenizer.json, copied into
     * every checkpoint; its size sets the vocabulary unless vocab_size > 0. */
    const char *data_path;
    const char *tokenizer_path;
    const char *out_dir;
    /* Architecture. d_head = d_model / n_heads; rotary_dim = round(rotary_pct * d_head). */
    int n_layers, d_model, n_heads, d_mlp, n_ctx;
    int vocab_size;                 /* 0 = tokenizer size, rounded up to a multiple of 8 */
    /* HF GPT-NeoX has no attention-only form, so attn_only keeps an MLP of d_mlp
     * units whose weights and biases are zero and never updated: its output is
     * exactly 0 and the checkpoint still loads as a plain GPTNeoXForCausalLM. */
    bool attn_only;
    /* Training aid: for the first tie_steps steps embed_out is held equal to embed_in
     * (one shared matrix, gradients summed, no weight decay), then the two train
     * separately. The checkpoint is always an untied GPT-NeoX (both matrices written).
     * Sharing makes "copy this token" one generic map, so in-context copying (induction)
     * is learned for every token at once instead of token by token. */
    int64_t tie_steps;
    /* Take rows in file order (a curriculum written into the data) instead of a
     * seeded shuffle per epoch. */
    bool in_order;
    /* Context curriculum: the first short_steps steps use only the first short_ctx
     * tokens of each row (and batch * n_ctx / short_ctx rows, the same tokens per
     * step). Early on attention is spread over every earlier position, so short
     * rows give the signal for previous-token and induction heads more weight. */
    int short_ctx;
    int64_t short_steps;
    bool ctx_ramp;                  /* short_ctx, then 2x, 4x, ... (each short_steps steps) up to n_ctx */
    double rotary_pct, rotary_base, ln_eps;
    /* Optimisation: AdamW as torch.optim.AdamW; weight decay on the 2-D weight
     * matrices of the layers and on embed_out (not on embed_in, biases, LayerNorms).
     * Learning rate: linear warm-up over warmup steps, then cosine decay to
     * lr * min_lr_frac at the last step. grad_clip: global L2 norm (0 = off). */
    int64_t steps;
    int batch;
    double lr, min_lr_frac, weight_decay, beta1, beta2, adam_eps, grad_clip, init_std;
    /* Standard deviation of the query/key/value biases at init (HF: 0). Non-zero biases
     * give every head a content-independent query and key from the first step, so
     * position-only patterns (a previous-token head) are not stuck at the zero saddle. */
    double qkv_bias_init_std;
    int64_t warmup;
    uint64_t seed;
    int64_t save_every;             /* also write a checkpoint every N steps (0 = only at the end) */
    hs_dtype dtype;                 /* HS_F16 or HS_F32 weights in model.safetensors */
} hs_train_params;

HS_API hs_train_params hs_train_default_params(void);

typedef struct hs_train_progress {
    int64_t step, steps;            /* step just finished (1-based) */
    double loss;                    /* mean cross-entropy of this step's batch */
    double loss_avg;                /* exponential moving average (0.95) */
    double lr;                      /* learning rate used for this step */
    double tokens_per_s;            /* since the start */
    double elapsed_s;
} hs_train_progress;

/* Return non-zero to stop training (hs_train then writes nothing more and returns
 * HS_ERR_CANCELLED). */
typedef int (*hs_train_progress_fn)(const hs_train_progress *p, void *user);

typedef struct hs_train_result {
    double final_loss;              /* moving average at the last step */
    double tokens_per_s;
    double elapsed_s;
    int64_t n_params;
    /* Induction score on repeated random tokens [BOS, r(len), r(len)] after training
     * (the best head and its layer/head); see analysis.md §8, adapted to n_ctx. */
    double induction_best;
    int induction_layer, induction_head;
} hs_train_result;

/* Trains and writes the final checkpoint into params->out_dir (created if missing).
 * progress may be NULL; result may be NULL. */
HS_API hs_status hs_train(const hs_train_params *params, hs_train_progress_fn progress,
                          void *user, hs_train_result *result);

#ifdef __cplusplus
}
#endif
#endif
