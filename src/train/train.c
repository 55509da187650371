/* train.c — hs_train: data, training loop, schedule, checkpoints, final evaluation. */
#define _GNU_SOURCE
#include "train/train_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

hs_train_params hs_train_default_params(void) {
    hs_train_params p;
    memset(&p, 0, sizeof p);
    p.n_layers = 2; p.d_model = 128; p.n_heads = 4; p.d_mlp = 512; p.n_ctx = 256;
    p.rotary_pct = 0.25; p.rotary_base = 10000.0; p.ln_eps = 1e-5;
    p.steps = 1000; p.batch = 8;
    p.lr = 1e-3; p.min_lr_frac = 0.1; p.warmup = 100;
    p.weight_decay = 0.1; p.beta1 = 0.9; p.beta2 = 0.95; p.adam_eps = 1e-8;
    p.grad_clip = 1.0; p.init_std = 0.02;
    p.seed = 0; p.save_every = 0; p.dtype = HS_F16;
    return p;
}

/* Vocabulary size (max id + 1 over model.vocab and added_tokens) and the id of
 * <|endoftext|> from a HF tokenizer.json; checks it is a BPE model. */
static hs_status tokenizer_info(const char *path, const char *js, int *size, int *bos) {
    cJSON *root = cJSON_Parse(js);
    if (!root) return hs_errorf(HS_ERR_FORMAT, "%s: not valid JSON", path);
    hs_status s = HS_OK;
    cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE") != 0 || !cJSON_IsObject(vocab)) {
        s = hs_errorf(HS_ERR_FORMAT, "%s: not a BPE tokenizer.json (model.type/model.vocab missing)", path);
        goto done;
    }
    int mx = -1;
    *bos = -1;
    cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e8) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: vocab entry \"%s\" has no valid id", path, e->string);
            goto done;
        }
        if (e->valueint > mx) mx = e->valueint;
        if (strcmp(e->string, "<|endoftext|>") == 0) *bos = e->valueint;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "added_tokens")) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id"), *ct = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 1e8) continue;
        if (id->valueint > mx) mx = id->valueint;
        if (cJSON_IsString(ct) && strcmp(ct->valuestring, "<|endoftext|>") == 0) *bos = id->valueint;
    }
    if (mx < 0) s = hs_errorf(HS_ERR_FORMAT, "%s: empty vocabulary", path);
    *size = mx + 1;
    if (*bos < 0) *bos = 0;
done:
    cJSON_Delete(root);
    return s;
}

/* Token rows [rows, len] as int32, ids checked against V. */
static hs_status load_tokens(const char *path, int n_ctx, int V, int32_t **out, int64_t *rows, int *len) {
    hs_array a;
    hs_status s = hs_npy_read(path, &a);
    if (s) return s;
    if ((a.dtype != HS_I32 && a.dtype != HS_I64) || (a.ndim != 1 && a.ndim != 2)) {
        hs_array_free(&a);
        return hs_errorf(HS_ERR_FORMAT, "%s: expected a 1-D or 2-D int32/int64 array of token ids", path);
    }
    int64_t n = hs_array_numel(&a);
    int64_t R, Lr;
    if (a.ndim == 2) { R = a.shape[0]; Lr = a.shape[1]; }
    else { Lr = n_ctx + 1; R = n / Lr; }
    if (R < 1 || Lr < 2) {
        hs_array_free(&a);
        return hs_errorf(HS_ERR_FORMAT, "%s: too few tokens for one training row of %d", path, n_ctx + 1);
    }
    int use = Lr > n_ctx + 1 ? n_ctx + 1 : (int)Lr;
    int32_t *t = hs_malloc((size_t)R * use * sizeof *t);
    if (!t) { hs_array_free(&a); return HS_ERR_NOMEM; }
    for (int64_t r = 0; r < R; r++)
        for (int j = 0; j < use; j++) {
            int64_t i = r * Lr + j;
            int64_t v = a.dtype == HS_I32 ? ((int32_t *)a.data)[i] : ((int64_t *)a.data)[i];
            if (v < 0 || v >= V) {
                free(t); hs_array_free(&a);
                return hs_errorf(HS_ERR_FORMAT, "%s: token id %lld at row %lld is outside the vocabulary [0, %d)",
                                 path, (long long)v, (long long)r, V);
            }
            t[r * use + j] = (int32_t)v;
        }
    hs_array_free(&a);
    *out = t; *rows = R; *len = use;
    return HS_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double lr_at(const hs_train_params *p, int64_t step) {
    if (p->warmup > 0 && step <= p->warmup) return p->lr * (double)step / (double)p->warmup;
    int64_t span = p->steps - p->warmup;
    double prog = span > 0 ? (double)(step - p->warmup) / (double)span : 1.0;
    if (prog > 1) prog = 1;
    return p->lr * (p->min_lr_frac + (1 - p->min_lr_frac) * 0.5 * (1 + cos(M_PI * prog)));
}

static hs_status check_params(const hs_train_params *p) {
#define BAD(...) return hs_errorf(HS_ERR_INVALID_ARG, __VA_ARGS__)
    if (!p->data_path || !p->tokenizer_path || !p->out_dir) BAD("train: data, tokenizer and output paths are required");
    if (p->n_layers < 1 || p->n_layers > 64) BAD("train: layers must be 1..64 (got %d)", p->n_layers);
    if (p->n_heads < 1 || p->d_model < 2 || p->d_model % p->n_heads) BAD("train: d_model %d is not a multiple of heads %d", p->d_model, p->n_heads);
    if (p->d_model > 8192 || p->d_mlp < 1 || p->d_mlp > 65536) BAD("train: d_model/d_mlp out of range");
    if (p->n_ctx < 2 || p->n_ctx > 8192) BAD("train: n_ctx must be 2..8192 (got %d)", p->n_ctx);
    if (!(p->rotary_pct >= 0 && p->rotary_pct <= 1)) BAD("train: rotary_pct must be in [0, 1]");
    if (p->steps < 1 || p->batch < 1 || p->batch > 4096) BAD("train: steps and batch must be positive");
    if (!(p->lr > 0 && p->lr < 10)) BAD("train: learning rate must be in (0, 10)");
    if (!(p->beta1 >= 0 && p->beta1 < 1 && p->beta2 >= 0 && p->beta2 < 1)) BAD("train: betas must be in [0, 1)");
    if (p->dtype != HS_F16 && p->dtype != HS_F32) BAD("train: dtype must be F16 or F32");
    return HS_OK;
#undef BAD
}

hs_status hs_train(const hs_train_params *p, hs_train_progress_fn progress, void *user, hs_train_result *res) {
    hs_status s = check_params(p);
    if (s) return s;
    char *tok_json = NULL;
    size_t tok_len = 0;
    int tok_size = 0, bos = 0;
    int32_t *data = NULL;
    int64_t rows = 0;
    int row_len = 0;
    tr_model m = {0};
    tr_acts a = {0};
    float *grads = NULL;
    int64_t *perm = NULL;
    int32_t *btok = NULL, *btgt = NULL;
    tr_adamw opt = {0};
    if ((s = hs_read_file(p->tokenizer_path, 64u << 20, &tok_json, &tok_len))) goto out;
    if ((s = tokenizer_info(p->tokenizer_path, tok_json, &tok_size, &bos))) goto out;
    int V = p->vocab_size > 0 ? p->vocab_size : (tok_size + 7) / 8 * 8;
    if (V < tok_size) { s = hs_errorf(HS_ERR_INVALID_ARG, "train: vocab_size %d is smaller than the tokenizer's %d ids", V, tok_size); goto out; }
    if ((s = load_tokens(p->data_path, p->n_ctx, tok_size, &data, &rows, &row_len))) goto out;

    tr_config c = { .L = p->n_layers, .M = p->d_model, .H = p->n_heads, .D = p->d_model / p->n_heads,
                    .F = p->d_mlp, .V = V, .T = p->n_ctx, .rot_base = p->rotary_base, .eps = p->ln_eps };
    c.R = (int)lround(p->rotary_pct * c.D) & ~1;
    const int B = p->batch, T = row_len - 1;
    if ((s = tr_model_init(&m, &c))) goto out;
    tr_model_randomize(&m, p->seed, p->init_std, p->qkv_bias_init_std);
    if (p->attn_only) tr_model_freeze_mlp(&m);
    if ((s = tr_acts_alloc(&a, &c, B, T))) goto out;
    grads = hs_aligned_alloc(m.n_params * sizeof(float));
    opt.m = hs_aligned_alloc(m.n_params * sizeof(float));
    opt.v = hs_aligned_alloc(m.n_params * sizeof(float));
    perm = hs_malloc((size_t)rows * sizeof *perm);
    btok = hs_malloc((size_t)B * T * sizeof *btok);
    btgt = hs_malloc((size_t)B * T * sizeof *btgt);
    if (!grads || !opt.m || !opt.v || !perm || !btok || !btgt) { s = HS_ERR_NOMEM; goto out; }
    opt.beta1 = p->beta1; opt.beta2 = p->beta2; opt.eps = p->adam_eps; opt.wd = p->weight_decay;

    tr_rng rng = { p->seed ^ 0xA5A5A5A5DEADBEEFull };
    int64_t cursor = rows;          /* forces a shuffle on the first batch */
    double t0 = now_s(), ema = 0;
    for (int64_t step = 1; step <= p->steps; step++) {
        /* context curriculum: the first short_steps steps train on the first short_ctx
         * tokens of each row, with proportionally more rows (same tokens per step) */
        int Tb = T, Bb = B;
        if (p->short_ctx > 1 && p->short_ctx < T && p->short_steps > 0) {
            if (p->ctx_ramp) {          /* short_ctx, 2x, 4x, ... each for short_steps steps */
                int64_t k = (step - 1) / p->short_steps;
                int64_t tb = p->short_ctx;
                while (k-- > 0 && tb < T) tb *= 2;
                if (tb < T) { Tb = (int)tb; Bb = B * T / Tb; }
            } else if (step <= p->short_steps) { Tb = p->short_ctx; Bb = B * T / Tb; }
        }
        a.B = Bb; a.T = Tb;
        for (int b = 0; b < Bb; b++) {
            if (cursor >= rows) {       /* new epoch: Fisher-Yates shuffle (or file order) */
                for (int64_t i = 0; i < rows; i++) perm[i] = i;
                for (int64_t i = rows - 1; i > 0 && !p->in_order; i--) {
                    int64_t j = (int64_t)(tr_rng_uniform(&rng) * (double)(i + 1));
                    int64_t t_ = perm[i]; perm[i] = perm[j]; perm[j] = t_;
                }
                cursor = 0;
            }
            const int32_t *r = data + perm[cursor++] * row_len;
            memcpy(btok + (size_t)b * Tb, r, (size_t)Tb * sizeof *btok);
            memcpy(btgt + (size_t)b * Tb, r + 1, (size_t)Tb * sizeof *btgt);
        }
        const int tied = step <= p->tie_steps;
        float *Ein = tr_embed_in(&m, m.p), *Eout = tr_embed_out(&m, m.p);
        if (tied) memcpy(Eout, Ein, (size_t)V * c.M * sizeof(float));
        double loss = tr_forward(&m, &a, btok, btgt);
        if (!isfinite(loss)) { s = hs_errorf(HS_ERR_INTERNAL, "train: loss is not finite at step %lld (lower --lr?)", (long long)step); goto out; }
        tr_backward(&m, &a, btok, grads);
        if (tied) {     /* one shared matrix: its gradient is the sum of both uses */
            float *gi = tr_embed_in(&m, grads), *go = tr_embed_out(&m, grads);
            for (size_t i = 0; i < (size_t)V * c.M; i++) { gi[i] += go[i]; go[i] = 0; }
        }
        tr_clip_grads(grads, m.n_params, p->grad_clip);
        opt.lr = lr_at(p, step);
        tr_adamw_step(&m, &opt, m.p, grads);
        if (step == p->tie_steps) memcpy(Eout, Ein, (size_t)V * c.M * sizeof(float));   /* untie from here on */
        ema = step == 1 ? loss : 0.95 * ema + 0.05 * loss;
        double el = now_s() - t0;
        if (progress) {
            hs_train_progress pr = { step, p->steps, loss, ema, opt.lr, (double)step * B * T / (el > 0 ? el : 1e-9), el };
            (void)Bb;
            if (progress(&pr, user)) { s = hs_errorf(HS_ERR_CANCELLED, "train: cancelled at step %lld", (long long)step); goto out; }
        }
        if (p->save_every > 0 && step % p->save_every == 0 && step < p->steps)
            if ((s = tr_checkpoint_write(&m, p->out_dir, tok_json, tok_len, p->dtype, p->rotary_pct, bos))) goto out;
    }
    double elapsed = now_s() - t0;
    if ((s = tr_checkpoint_write(&m, p->out_dir, tok_json, tok_len, p->dtype, p->rotary_pct, bos))) goto out;
    if (res) {
        memset(res, 0, sizeof *res);
        res->final_loss = ema;
        res->elapsed_s = elapsed;
        res->tokens_per_s = (double)p->steps * B * T / (elapsed > 0 ? elapsed : 1e-9);
        res->n_params = 0;
        for (int i = 0; i < m.n_tensors; i++) res->n_params += (int64_t)m.t[i].n;
        res->induction_best = NAN;
        int len = (c.T - 1) / 2 < 200 ? (c.T - 1) / 2 : 200;
        int32_t lo = tok_size > 2000 ? 1000 : tok_size / 4;
        float *sc = hs_malloc((size_t)c.L * c.H * sizeof *sc);
        if (sc && len >= 2 && tok_size - lo >= 2 &&
            tr_induction_scores(&m, 16, len, lo, tok_size, p->seed, sc) == HS_OK) {
            res->induction_best = -1;
            for (int i = 0; i < c.L * c.H; i++)
                if (sc[i] > res->induction_best) { res->induction_best = sc[i]; res->induction_layer = i / c.H; res->induction_head = i % c.H; }
        }
        free(sc);
    }
out:
    free(tok_json); free(data); free(perm); free(btok); free(btgt);
    hs_aligned_free(grads); hs_aligned_free(opt.m); hs_aligned_free(opt.v);
    tr_acts_free(&a);
    tr_model_free(&m);
    return s;
}
