/* cmd_info.c — `headscan info --model DIR [--batch B] [--n-ctx T]`. */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_name(hs_dtype t) {
    switch (t) {
    case HS_F32: return "F32"; case HS_F16: return "F16"; case HS_BF16: return "BF16"; case HS_F64: return "F64";
    default: return "other";
    }
}

static int print_blas(void) {
    hs_blas_info b;
    hs_status s = hs_blas_get_info(&b);
    if (s) return cli_fail(s, "querying the BLAS");
    printf("blas           %s\n", b.library);
    if (b.switched)
        printf("blas kernel    %s (set by headscan: OpenBLAS chose the generic %s on this CPU)\n", b.kernel, b.detected);
    else
        printf("blas kernel    %s (%s)\n", b.kernel[0] ? b.kernel : "unknown",
               b.env_forced ? "OPENBLAS_CORETYPE" : "chosen by the BLAS");
    if (b.below_cpu)
        printf("blas note      %s is below this CPU's level: unset OPENBLAS_CORETYPE (or set it to %s) for faster products\n",
               b.kernel, b.cpu_kernel);
    printf("blas threads   %d\n", b.threads);
    /* --compute bf16: oneDNN's native bf16 kernels, or why not */
    printf("bf16 compute   %s\n", hs_compute_check(HS_COMPUTE_BF16) ? hs_last_error() : "available (oneDNN, AVX512_BF16/AMX)");
    return 0;
}

int cmd_info(int argc, char **argv) {
    const char *model = NULL;
    const char *revision = NULL;
    int batch = 32, n_ctx = 256, offline = 0;
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"batch", required_argument, 0, 'b'},
                                         {"n-ctx", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'},
                                         {"revision", required_argument, 0, 'R'}, {"offline", no_argument, 0, 'O'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "m:b:n:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': model = optarg; break;
        case 'b': batch = atoi(optarg); break;
        case 'n': n_ctx = atoi(optarg); break;
        case 'R': revision = optarg; break;
        case 'O': offline = 1; break;
        case 'h':
            printf("usage: headscan info [--model DIR|NAME] [--batch 32] [--n-ctx 256] [--revision R] [--offline]\n"
                   "Architecture, sizes, checkpoint dtype, parameter count and the memory a\n"
                   "forward pass of --batch x --n-ctx tokens needs (weights + one batch);\n"
                   "then the BLAS library, kernel and threads in use (alone without --model).\n");
            return 0;
        default: return cli_usage_error("info", "bad option");
        }
    }
    if (!model) return print_blas();
    if (batch < 1 || n_ctx < 1) return cli_usage_error("info", "--batch and --n-ctx must be positive");
    char *dir = NULL;
    int rc = cli_resolve_model(model, revision, offline, &dir);
    if (rc) return rc;
    hs_model_params mp = hs_model_no_processing_params();
    hs_model *m;
    hs_status s = hs_model_load(dir, &mp, &m);
    free(dir);
    if (s) return cli_fail(s, "loading the model");
    const hs_model_config *c = hs_model_get_config(m);
    hs_memory_estimate e = hs_model_estimate_memory(c, batch, n_ctx);
    printf("model          %s\n", model);
    printf("architecture   %s (%s residual, %s, %s)\n", c->model_type, c->parallel_residual ? "parallel" : "sequential",
           c->rms_norm ? "RMSNorm" : "LayerNorm",
           c->gated_mlp ? "gated SiLU MLP" : c->act == HS_ACT_GELU ? "exact GELU" : "gelu_new");
    printf("layers         %d\n", c->n_layers);
    printf("d_model        %d\n", c->d_model);
    if (c->n_kv_heads != c->n_heads)
        printf("heads          %d x d_head %d, %d key/value groups (grouped-query attention)\n", c->n_heads, c->d_head, c->n_kv_heads);
    else printf("heads          %d x d_head %d\n", c->n_heads, c->d_head);
    if (c->arch == HS_ARCH_LLAMA)
        printf("biases         %s%s%s\n", c->qkv_bias_only ? "q/k/v" : c->attn_bias ? "attention" : "none",
               c->mlp_bias ? ", mlp" : "", c->tied_embeddings ? "; tied embeddings" : "");
    printf("d_mlp          %d\n", c->d_mlp);
    printf("d_vocab        %d\n", c->d_vocab);
    printf("n_ctx          %d\n", c->n_ctx);
    static const char *const rope_kind[] = {"", ", linear scaling", ", dynamic scaling", ", llama3 scaling"};
    if (c->rotary_dim)
        printf("positions      rotary, %d of %d dims, base %g%s", c->rotary_dim, c->d_head, c->rotary_base, rope_kind[c->rope_type]);
    if (c->rotary_dim && c->rope_type) printf(" (factor %g)", c->rope_factor);
    if (c->rotary_dim) printf("\n");
    if (c->sliding_window) printf("attention      sliding window of %d\n", c->sliding_window);
    if (!c->rotary_dim) printf("positions      learned\n");
    printf("layer norm eps %g\n", c->ln_eps);
    printf("bos / eos      %d / %d%s\n", c->bos_id, c->eos_id, c->default_prepend_bos ? "" : " (no BOS prepended: TL default_prepend_bos = False)");
    printf("dtype          %s (%s)\n", dtype_name(c->file_dtype),
           c->arch == HS_ARCH_LLAMA ? "weights kept as stored, widened to float32 a layer at a time" : "weights are held as float32");
    printf("parameters     %lld (%.1f M)\n", (long long)c->n_params, c->n_params / 1e6);
    printf("memory         %.1f MB weights + %.1f MB workspace for batch %d x %d = %.1f MB\n", e.weights / 1048576.0,
           e.workspace / 1048576.0, batch, n_ctx, e.total / 1048576.0);
    if (n_ctx > c->n_ctx) printf("warning        --n-ctx %d exceeds the model's n_ctx %d\n", n_ctx, c->n_ctx);
    hs_model_free(m);
    return print_blas();
}
