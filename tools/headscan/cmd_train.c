/* cmd_train.c — `headscan train`: train a small GPT-NeoX model on CPU (hs_train). */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
    fprintf(f,
"usage: headscan train --data TOKENS.npy --tokenizer tokenizer.json --out DIR\n"
"                      [--layers N] [--d-model D] [--heads H] [--d-mlp M | --attn-only]\n"
"                      [--n-ctx 256] [--steps S] [--batch B] [--lr 1e-3] [--seed 0] ...\n\n"
"Trains a GPT-NeoX model (parallel residual, partial rotary, LayerNorm, exact GELU)\n"
"on CPU and writes a HuggingFace checkpoint: DIR/config.json, model.safetensors,\n"
"tokenizer.json. Deterministic for a given seed and thread count.\n\n"
"data: .npy of token ids, int32 or int64: 2-D [rows, len] (each row one sequence,\n"
"      normally BOS first; the first n_ctx+1 ids are used) or 1-D (cut into rows).\n\n"
"  --layers N          layers (2)                --d-model D       width (128)\n"
"  --heads H           heads (4)                 --d-mlp M         MLP width (512)\n"
"  --attn-only         no MLP: HF GPT-NeoX has no attention-only form, so the model\n"
"                      keeps a --d-mlp (default 8) MLP fixed at zero (output exactly 0)\n"
"  --n-ctx T           context length (256)      --rotary-pct P    rotary fraction (0.25)\n"
"  --vocab-size V      embedding rows (tokenizer size rounded up to 8)\n"
"  --steps S           optimiser steps (1000)    --batch B         sequences per step (8)\n"
"  --lr X              peak learning rate (1e-3) --min-lr-frac F   cosine floor (0.1)\n"
"  --warmup N          warm-up steps (100)       --weight-decay W  AdamW decay (0.1)\n"
"  --beta1 X --beta2 X AdamW betas (0.9, 0.95)   --grad-clip X     global norm (1.0, 0 = off)\n"
"  --seed N            init and batch order (0)  --threads N       worker threads\n"
"  --dtype f16|f32     weights file type (f16)   --save-every N    extra checkpoints\n"
"  --qkv-bias-std X    std of the query/key/value biases at init (0, as HF)\n"
"  --tie-steps N       share embed_in/embed_out for the first N steps (0); the\n"
"                      checkpoint is untied either way\n"
"  --short-ctx T --short-steps N   train the first N steps on the first T tokens of\n"
"                      each row (more rows per step, same tokens): a context curriculum\n"
"  --ctx-ramp          with --short-ctx: T, 2T, 4T, ... each for --short-steps steps\n"
"  --in-order          take the rows in file order (a curriculum), not shuffled\n"
"  --quiet             no progress output\n");
}

/* the long name of option value c (the table's order need not follow the values) */
static const char *opt_name(const struct option *o, int c) {
    for (; o->name; o++)
        if (o->val == c) return o->name;
    return "?";
}

typedef struct { int tty, quiet; double last; } prog_state;

static int on_progress(const hs_train_progress *p, void *user) {
    prog_state *st = user;
    if (st->quiet) return 0;
    int last = p->step == p->steps;
    double eta = p->elapsed_s / p->step * (p->steps - p->step);
    if (st->tty) {
        if (!last && p->elapsed_s - st->last < 0.2) return 0;
        int w = 30, fill = (int)((double)p->step / p->steps * w);
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        fprintf(stderr, "\r[%s] %lld/%lld loss %.3f (avg %.3f) lr %.1e %.0f tok/s ETA %.0fs   ",
                bar, (long long)p->step, (long long)p->steps, p->loss, p->loss_avg, p->lr, p->tokens_per_s, eta);
        if (last) fputc('\n', stderr);
    } else {
        if (!last && p->step != 1 && p->elapsed_s - st->last < 10.0) return 0;
        fprintf(stderr, "step %lld/%lld loss %.4f avg %.4f lr %.2e %.0f tok/s elapsed %.0fs ETA %.0fs\n",
                (long long)p->step, (long long)p->steps, p->loss, p->loss_avg, p->lr, p->tokens_per_s,
                p->elapsed_s, eta);
    }
    st->last = p->elapsed_s;
    fflush(stderr);
    return 0;
}

static int parse_num(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        cli_usage_error(cmd, "%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_train(int argc, char **argv) {
    hs_train_params p = hs_train_default_params();
    int threads = 0, dmlp_set = 0, quiet = 0;
    enum { O_DATA = 256, O_TOK, O_OUT, O_LAYERS, O_DMODEL, O_HEADS, O_DMLP, O_ATTN, O_NCTX, O_ROT, O_VOCAB,
           O_STEPS, O_BATCH, O_LR, O_MINLR, O_WARM, O_WD, O_B1, O_B2, O_CLIP, O_QKVB, O_SEED, O_THREADS,
           O_DTYPE, O_SAVE, O_QUIET, O_HELP, O_TIE, O_ORDER, O_SHORTC, O_SHORTS, O_RAMP };
    static const struct option opts[] = {
        {"data", 1, 0, O_DATA}, {"tokenizer", 1, 0, O_TOK}, {"out", 1, 0, O_OUT},
        {"layers", 1, 0, O_LAYERS}, {"d-model", 1, 0, O_DMODEL}, {"heads", 1, 0, O_HEADS},
        {"d-mlp", 1, 0, O_DMLP}, {"attn-only", 0, 0, O_ATTN}, {"n-ctx", 1, 0, O_NCTX},
        {"rotary-pct", 1, 0, O_ROT}, {"vocab-size", 1, 0, O_VOCAB}, {"steps", 1, 0, O_STEPS},
        {"batch", 1, 0, O_BATCH}, {"lr", 1, 0, O_LR}, {"min-lr-frac", 1, 0, O_MINLR},
        {"warmup", 1, 0, O_WARM}, {"weight-decay", 1, 0, O_WD}, {"qkv-bias-std", 1, 0, O_QKVB}, {"beta1", 1, 0, O_B1},
        {"beta2", 1, 0, O_B2}, {"grad-clip", 1, 0, O_CLIP}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"dtype", 1, 0, O_DTYPE}, {"save-every", 1, 0, O_SAVE},
        {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, O_HELP}, {"tie-steps", 1, 0, O_TIE}, {"in-order", 0, 0, O_ORDER},
        {"short-ctx", 1, 0, O_SHORTC}, {"short-steps", 1, 0, O_SHORTS},
        {"ctx-ramp", 0, 0, O_RAMP}, {0, 0, 0, 0}};
    const char *cmd = argv[0];
    optind = 1;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: p.data_path = optarg; break;
        case O_TOK: p.tokenizer_path = optarg; break;
        case O_OUT: p.out_dir = optarg; break;
#define NUM(lo, hi, dst) do { if (parse_num(cmd, opt_name(opts, c), optarg, lo, hi, &v)) return 2; dst; } while (0)
        case O_LAYERS: NUM(1, 64, p.n_layers = (int)v); break;
        case O_DMODEL: NUM(2, 8192, p.d_model = (int)v); break;
        case O_HEADS: NUM(1, 1024, p.n_heads = (int)v); break;
        case O_DMLP: NUM(1, 65536, p.d_mlp = (int)v); dmlp_set = 1; break;
        case O_ATTN: p.attn_only = true; break;
        case O_NCTX: NUM(2, 8192, p.n_ctx = (int)v); break;
        case O_ROT: NUM(0, 1, p.rotary_pct = v); break;
        case O_VOCAB: NUM(1, 1 << 24, p.vocab_size = (int)v); break;
        case O_STEPS: NUM(1, 1e9, p.steps = (int64_t)v); break;
        case O_BATCH: NUM(1, 4096, p.batch = (int)v); break;
        case O_LR: NUM(1e-12, 10, p.lr = v); break;
        case O_MINLR: NUM(0, 1, p.min_lr_frac = v); break;
        case O_WARM: NUM(0, 1e9, p.warmup = (int64_t)v); break;
        case O_WD: NUM(0, 10, p.weight_decay = v); break;
        case O_QKVB: NUM(0, 10, p.qkv_bias_init_std = v); break;
        case O_B1: NUM(0, 0.999999, p.beta1 = v); break;
        case O_B2: NUM(0, 0.999999, p.beta2 = v); break;
        case O_CLIP: NUM(0, 1e9, p.grad_clip = v); break;
        case O_SEED: NUM(0, 9007199254740992.0, p.seed = (uint64_t)v); break;
        case O_THREADS: NUM(1, 1024, threads = (int)v); break;
        case O_SAVE: NUM(0, 1e9, p.save_every = (int64_t)v); break;
        case O_TIE: NUM(0, 1e9, p.tie_steps = (int64_t)v); break;
        case O_ORDER: p.in_order = true; break;
        case O_SHORTC: NUM(2, 8192, p.short_ctx = (int)v); break;
        case O_SHORTS: NUM(0, 1e9, p.short_steps = (int64_t)v); break;
        case O_RAMP: p.ctx_ramp = true; break;
#undef NUM
        case O_DTYPE:
            if (!strcmp(optarg, "f16") || !strcmp(optarg, "F16")) p.dtype = HS_F16;
            else if (!strcmp(optarg, "f32") || !strcmp(optarg, "F32")) p.dtype = HS_F32;
            else return cli_usage_error(cmd, "--dtype must be f16 or f32, not '%s'", optarg);
            break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: help(stdout); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!p.data_path) return cli_usage_error(cmd, "--data is required");
    if (!p.tokenizer_path) return cli_usage_error(cmd, "--tokenizer is required");
    if (!p.out_dir) return cli_usage_error(cmd, "--out is required");
    if (p.d_model % p.n_heads) return cli_usage_error(cmd, "--d-model %d is not a multiple of --heads %d", p.d_model, p.n_heads);
    if (p.attn_only && !dmlp_set) p.d_mlp = 8;
    if (threads) hs_set_num_threads(threads);
    prog_state st = { cli_stderr_tty(), quiet, -1e9 };
    hs_train_result r;
    hs_status s = hs_train(&p, on_progress, &st, &r);
    if (s) return cli_fail(s, "train");
    printf("wrote %s: %lld parameters, final loss %.4f, %.0f tokens/s, %.1f s\n", p.out_dir,
           (long long)r.n_params, r.final_loss, r.tokens_per_s, r.elapsed_s);
    if (!isnan(r.induction_best))
        printf("induction score (repeated random tokens): best L%dH%d = %.3f\n", r.induction_layer,
               r.induction_head, r.induction_best);
    return 0;
}
