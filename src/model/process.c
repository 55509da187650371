/* process.c — TransformerLens weight processing (model.md §4), in TL's order:
 * fold_ln, center_writing_weights, center_unembed, fold_value_biases.
 * Sums are accumulated in double and rounded once (TL sums in float32; the
 * difference is within reduction-order error). */
#include "model/model_internal.h"
#include <stdlib.h>
#include <string.h>

/* W[h, m, d] (H blocks of [M, K]): b[h, k] += Σ_m W[h,m,k]·lb[m]; W *= lw[m]; centre each column over m. */
static void fold_into(float *W, float *b, const float *lw, const float *lb, int H, int M, int K, bool center) {
    double *acc = malloc(sizeof(double) * (size_t)K);
    if (!acc) return; /* cannot happen for sane sizes; leaves weights unfolded */
    for (int h = 0; h < H; h++) {
        float *Wh = W + (size_t)h * M * K;
        for (int k = 0; k < K; k++) acc[k] = 0;
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) acc[k] += (double)Wh[(size_t)m * K + k] * lb[m];
        for (int k = 0; k < K; k++) b[(size_t)h * K + k] += (float)acc[k];
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) Wh[(size_t)m * K + k] *= lw[m];
        if (!center) continue;
        for (int k = 0; k < K; k++) acc[k] = 0;
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) acc[k] += Wh[(size_t)m * K + k];
        for (int k = 0; k < K; k++) acc[k] /= M;
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) Wh[(size_t)m * K + k] -= (float)acc[k];
    }
    free(acc);
}

/* Subtract each row's mean (rows of length n). */
static void center_rows(float *X, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        float *x = X + r * n;
        double s = 0;
        for (size_t i = 0; i < n; i++) s += x[i];
        float mean = (float)(s / (double)n);
        for (size_t i = 0; i < n; i++) x[i] -= mean;
    }
}

/* fold_value_biases: b_O[m] += Σ_h Σ_e b_V[h / G, e]·W_O[h, e, m] with G = H / KV (query
 * head h reads value group h / G; KV = H for models without grouped heads), then b_V = 0. */
static void fold_value_biases(const hs_model_config *c, hs_weights *w, int KV) {
    const int M = c->d_model, H = c->n_heads, D = c->d_head, G = H / KV;
    for (int l = 0; l < c->n_layers; l++) {
        hs_layer *L = &w->layers[l];
        for (int m = 0; m < M; m++) {
            double acc = 0;
            for (int h = 0; h < H; h++)
                for (int e = 0; e < D; e++) acc += (double)L->b_V[(h / G) * D + e] * L->W_O[((size_t)h * D + e) * M + m];
            L->b_O[m] += (float)acc;
        }
        memset(L->b_V, 0, sizeof(float) * (size_t)KV * D);
    }
}

/* RMSNorm models (llama.md §5): fold_ln scales the reading weights' rows by the norm
 * weight (no biases, no centring); center_writing_weights does not apply; center_unembed
 * does; value biases fold through the grouped heads (query head h reads group h / G). */
static void process_rms(const hs_model_config *c, const hs_model_params *p, hs_weights *w) {
    const int M = c->d_model, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    if (p->fold_ln) {
        for (int l = 0; l < c->n_layers; l++) {
            hs_layer *L = &w->layers[l];
            fold_into(L->W_Q, L->b_Q, L->ln1_w, L->ln1_b, H, M, D, false);
            fold_into(L->W_K, L->b_K, L->ln1_w, L->ln1_b, KV, M, D, false);
            fold_into(L->W_V, L->b_V, L->ln1_w, L->ln1_b, KV, M, D, false);
            fold_into(L->W_gate, L->b_gate, L->ln2_w, L->ln2_b, 1, M, F, false);
            fold_into(L->W_in, L->b_in, L->ln2_w, L->ln2_b, 1, M, F, false);
        }
        fold_into(w->W_U, w->b_U, w->lnf_w, w->lnf_b, 1, M, V, false);
    }
    if (p->center_unembed) {
        center_rows(w->W_U, (size_t)c->d_model, (size_t)c->d_vocab);
        center_rows(w->b_U, 1, (size_t)c->d_vocab);
    }
    if (p->fold_value_biases) fold_value_biases(c, w, c->n_kv_heads);
}

void hs_process_weights(const hs_model_config *c, const hs_model_params *p, hs_weights *w) {
    const int M = c->d_model, H = c->n_heads, D = c->d_head, F = c->d_mlp, V = c->d_vocab;
    if (c->rms_norm) { process_rms(c, p, w); return; }
    if (p->fold_ln) {
        for (int l = 0; l < c->n_layers; l++) {
            hs_layer *L = &w->layers[l];
            fold_into(L->W_Q, L->b_Q, L->ln1_w, L->ln1_b, H, M, D, true);
            fold_into(L->W_K, L->b_K, L->ln1_w, L->ln1_b, H, M, D, true);
            fold_into(L->W_V, L->b_V, L->ln1_w, L->ln1_b, H, M, D, true);
            fold_into(L->W_in, L->b_in, L->ln2_w, L->ln2_b, 1, M, F, true);
        }
        fold_into(w->W_U, w->b_U, w->lnf_w, w->lnf_b, 1, M, V, true);
    }
    if (p->center_writing_weights) {
        center_rows(w->W_E, (size_t)V, (size_t)M);
        if (w->W_pos) center_rows(w->W_pos, (size_t)c->n_ctx, (size_t)M);
        for (int l = 0; l < c->n_layers; l++) {
            hs_layer *L = &w->layers[l];
            center_rows(L->W_O, (size_t)H * D, (size_t)M);
            center_rows(L->b_O, 1, (size_t)M);
            center_rows(L->W_out, (size_t)F, (size_t)M);
            center_rows(L->b_out, 1, (size_t)M);
        }
    }
    if (p->center_unembed) {
        center_rows(w->W_U, (size_t)c->d_model, (size_t)c->d_vocab);
        center_rows(w->b_U, 1, (size_t)c->d_vocab);
    }
    if (p->fold_value_biases) fold_value_biases(c, w, c->n_heads);
}
