/* cmd_run.c — `headscan run`: one sequence through the model; per position the
 * top-K next tokens (TL's centered logits and probabilities) and the loss; hooks
 * saved as .npy on request. */
#define _GNU_SOURCE
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct top_entry { int32_t id; float logit, prob; } top_entry;

typedef struct run_state {
    int T, K;
    top_entry *top;      /* [T, K] */
    hs_cache *cache;     /* hooks to save, or NULL */
} run_state;

static void top_k_row(const float *x, int V, int K, top_entry *out) {
    float mx = x[0];
    for (int j = 1; j < V; j++) mx = x[j] > mx ? x[j] : mx;
    double s = 0;
    for (int j = 0; j < V; j++) s += exp((double)x[j] - mx);
    double lse = mx + log(s);
    int n = 0;
    for (int j = 0; j < V; j++) {
        /* insertion into a sorted list of K; ties keep the lower id first (as torch.topk on CPU) */
        if (n == K && !(x[j] > out[K - 1].logit)) continue;
        int i = n < K ? n++ : K - 1;
        while (i > 0 && x[j] > out[i - 1].logit) { out[i] = out[i - 1]; i--; }
        out[i] = (top_entry){j, x[j], (float)exp((double)x[j] - lse)};
    }
}

static bool run_hook(const hs_hook_tensor *t, bool ask, void *user) {
    run_state *st = user;
    if (!strcmp(t->name, "logits")) {
        if (ask) return st->K > 0;
        int V = (int)t->shape[2];
        for (int p = 0; p < st->T; p++) top_k_row(t->data + (size_t)p * V, V, st->K, st->top + (size_t)p * st->K);
        return true;
    }
    return st->cache ? hs_cache_hook(t, ask, st->cache) : false;
}

static int save_hooks(const hs_cache *c, const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "headscan: error: %s: cannot create folder: %s\n", dir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < hs_cache_count(c); i++) {
        const char *name = hs_cache_name(c, i);
        const hs_array *a = hs_cache_get(c, name);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.npy", dir, name);
        hs_status s = hs_npy_write(path, HS_F32, a->ndim, a->shape, a->data);
        if (s) return cli_fail(s, "saving hooks");
    }
    fprintf(stderr, "saved %d hook(s) to %s\n", hs_cache_count(c), dir);
    return 0;
}

/* Display form of one token ("·when", "↩"), or its id when there is no tokenizer. */
static void print_token(const hs_tokenizer *tok, int32_t id, int width) {
    char *str = NULL, *disp = NULL;
    size_t n, dn;
    if (tok && hs_tokenizer_token_str(tok, id, &str, &n) == HS_OK && hs_token_display(str, n, &disp, &dn) == HS_OK) {
        for (char *q = disp; *q; q++) if (*q == '\n') *q = ' ';  /* keep one line per position */
        int cols = 0; /* pad by code points, not bytes */
        for (const char *q = disp; *q; q++) cols += ((unsigned char)*q & 0xC0) != 0x80;
        printf("%s%*s", disp, width > cols ? width - cols : 0, "");
    } else printf("%*s", width, "");
    free(str);
    free(disp);
}

static void usage(void) {
    printf("usage: headscan run --model DIR (--tokens 0,3039,2516,... | --text STRING [--no-bos]) [--tokenizer FILE]\n"
           "                    [--top K] [--json]\n"
           "                    [--hooks NAME,...|all] [--save-hooks DIR] [--no-processing] [--threads N]\n"
           "                    [--revision R] [--offline] [--compute f32|bf16]\n"
           "--model is a local HuggingFace folder or a hub name (EleutherAI/pythia-70m, pythia-70m),\n"
           "resolved through the HuggingFace cache (downloaded when missing unless --offline).\n"
           "Runs one sequence: token ids as given (add the BOS id yourself, e.g. 0 for Pythia), or\n"
           "--text encoded with the model's tokenizer.json (or --tokenizer FILE), BOS prepended as\n"
           "TransformerLens's to_tokens does (not for Qwen2: default_prepend_bos = False) unless --no-bos,\n"
           "and prints, per position, the loss of the next token and the top-K next-token\n"
           "predictions with TransformerLens's (centered) logits and probabilities.\n"
           "  --json           one JSON object per line: {\"pos\", \"token\", \"loss\", \"top\": [{id, logit, prob}]}\n"
           "  --hooks LIST     TransformerLens hook names (blocks.0.attn.hook_pattern, ...) or 'all'\n"
           "  --save-hooks DIR write each requested hook as DIR/<hook name>.npy (float32)\n"
           "  --no-processing  no TransformerLens weight processing (logits equal HuggingFace's)\n"
           "  --compute bf16   weight GEMMs in bfloat16 (oneDNN, AVX512_BF16/AMX CPUs), not TransformerLens-exact:\n"
           "                   the sequence is also run in float32 and the deviation printed (stderr). Default f32.\n");
}

int cmd_run(int argc, char **argv) {
    const char *model = NULL, *tokens_arg = NULL, *hooks_arg = NULL, *save_dir = NULL, *text = NULL, *tok_path = NULL;
    const char *revision = NULL;
    int K = 5, json = 0, noproc = 0, threads = 0, no_bos = 0, offline = 0;
    hs_compute compute = HS_COMPUTE_F32;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tokens", required_argument, 0, 't'}, {"top", required_argument, 0, 'k'},
        {"json", no_argument, 0, 'j'}, {"hooks", required_argument, 0, 'H'}, {"save-hooks", required_argument, 0, 'S'},
        {"no-processing", no_argument, 0, 'N'}, {"threads", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'},
        {"revision", required_argument, 0, 'R'}, {"offline", no_argument, 0, 'O'},
        {"text", required_argument, 0, 'x'}, {"tokenizer", required_argument, 0, 'z'}, {"no-bos", no_argument, 0, 'B'},
        {"compute", required_argument, 0, 'C'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "m:t:k:jH:S:NT:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': model = optarg; break;
        case 't': tokens_arg = optarg; break;
        case 'k': K = atoi(optarg); break;
        case 'j': json = 1; break;
        case 'H': hooks_arg = optarg; break;
        case 'S': save_dir = optarg; break;
        case 'N': noproc = 1; break;
        case 'T': threads = atoi(optarg); break;
        case 'R': revision = optarg; break;
        case 'O': offline = 1; break;
        case 'x': text = optarg; break;
        case 'z': tok_path = optarg; break;
        case 'B': no_bos = 1; break;
        case 'C':
            if (hs_compute_parse(optarg, &compute)) return cli_usage_error("run", "--compute: bad value '%s' (f32 or bf16)", optarg);
            break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("run", "bad option");
        }
    }
    if (!model) return cli_usage_error("run", "--model DIR is required");
    if (!tokens_arg == !text) return cli_usage_error("run", "give either --tokens or --text (one is required)");
    if (K < 0 || K > 1000) return cli_usage_error("run", "--top must be in 0..1000");
    if (hs_compute_check(compute)) return cli_fail(HS_ERR_UNSUPPORTED, "--compute");   /* before any work */
    char *model_dir = NULL;
    int rc0 = cli_resolve_model(model, revision, offline, &model_dir);
    if (rc0) return rc0;
    model = model_dir; /* freed at exit (and on the early returns below) */
    if (save_dir && !hooks_arg) hooks_arg = "all";
    if (threads > 0) hs_set_num_threads(threads);
    /* the tokenizer: --tokenizer, else the model's tokenizer.json (required for --text) */
    hs_tokenizer *tk = NULL;
    char default_tok[4096];
    snprintf(default_tok, sizeof default_tok, "%s/tokenizer.json", model);
    if (tok_path || text || access(default_tok, R_OK) == 0) {
        const char *path = tok_path ? tok_path : default_tok;
        hs_status ts = hs_tokenizer_load(path, &tk);
        if (ts) {
            if (!text && !tok_path) tk = NULL; /* display only: go on without strings */
            else {
                free(model_dir);
                return cli_fail(ts, text && !tok_path ? "--text needs the model's tokenizer.json (or --tokenizer FILE)" : "loading the tokenizer");
            }
        }
    }
    int64_t *ids64 = NULL;
    long T;
    if (text) {
        hs_ids enc = {0};
        hs_model_config cfg0;   /* BOS as TL's to_tokens: the model's default_prepend_bos (Qwen2: none) */
        if (!hs_model_read_config(model, &cfg0) && !cfg0.default_prepend_bos) no_bos = 1;
        hs_status ts = hs_tokenizer_to_tokens(tk, text, strlen(text), !no_bos, HS_UTF8_STRICT, &enc);
        if (ts) { hs_tokenizer_free(tk); free(model_dir); return cli_fail(ts, "--text"); }
        T = (long)enc.len;
        ids64 = malloc(sizeof *ids64 * (size_t)(T ? T : 1));
        for (long i = 0; i < T; i++) ids64[i] = enc.data[i];
        hs_ids_free(&enc);
    } else {
        T = cli_parse_int_list(tokens_arg, &ids64);
        if (T < 0) { hs_tokenizer_free(tk); free(model_dir); return cli_usage_error("run", "--tokens must be a comma-separated list of integers"); }
    }
    if (T == 0) { free(ids64); hs_tokenizer_free(tk); free(model_dir); return cli_usage_error("run", "no tokens to run (empty --tokens or --text)"); }

    hs_model_params mp = noproc ? hs_model_no_processing_params() : hs_model_default_params();
    hs_model *m = NULL;
    hs_forward *f = NULL;
    hs_cache *cache = NULL;
    int32_t *ids = malloc(sizeof *ids * (size_t)T);
    float *loss = malloc(sizeof *loss * (size_t)(T > 1 ? T - 1 : 1));
    top_entry *top = calloc((size_t)T * (size_t)(K ? K : 1), sizeof *top);
    int rc = 0;
    hs_status s = HS_OK;
    if (!ids || !loss || !top) { fprintf(stderr, "headscan: out of memory\n"); rc = 1; goto done; }
    if ((s = hs_model_load(model, &mp, &m))) { rc = cli_fail(s, "loading the model"); goto done; }
    const hs_model_config *c = hs_model_get_config(m);
    for (long i = 0; i < T; i++) {
        if (ids64[i] < 0 || ids64[i] >= c->d_vocab) {
            fprintf(stderr, "headscan: error: token id %lld at position %ld is outside the model's vocabulary (0..%d)\n",
                    (long long)ids64[i], i, c->d_vocab - 1);
            rc = 1;
            goto done;
        }
        ids[i] = (int32_t)ids64[i];
    }
    if (T > c->n_ctx) {
        fprintf(stderr, "headscan: error: %ld tokens exceed the model's n_ctx %d\n", T, c->n_ctx);
        rc = 1;
        goto done;
    }
    if (hooks_arg) {
        char *list = strdup(hooks_arg), *save = NULL;
        const char *pats[256];
        int n = 0;
        for (char *tok = strtok_r(list, ",", &save); tok && n < 256; tok = strtok_r(NULL, ",", &save))
            pats[n++] = strcmp(tok, "all") ? tok : "*";
        s = hs_cache_create(pats, n, &cache);
        free(list);
        if (s) { rc = cli_fail(s, "hooks"); goto done; }
    }
    if ((s = hs_forward_create(m, 1, (int)T, &f))) { rc = cli_fail(s, "preparing the forward pass"); goto done; }
    run_state st = {.T = (int)T, .K = K, .top = top, .cache = cache};
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = run_hook;
    fp.hook_user = &st;
    fp.loss = loss;
    fp.compute = compute;
    if ((s = hs_forward_run(f, ids, 1, (int)T, &fp))) { rc = cli_fail(s, "forward pass"); goto done; }
    if (compute != HS_COMPUTE_F32) {   /* how far from TransformerLens's float32 */
        hs_compute_deviation dev;
        if ((s = hs_compute_compare(m, ids, 1, (int)T, compute, &dev))) { rc = cli_fail(s, "--compute"); goto done; }
        cli_print_deviation(stderr, compute, &dev, "this sequence");
    }

    if (!json) {
        printf("model: %s (%s, %d layers, %d heads, vocab %d; TransformerLens processing %s)\n", model, c->model_type,
               c->n_layers, c->n_heads, c->d_vocab, noproc ? "off" : "on");
        printf("tokens run (%ld):", T);
        for (long i = 0; i < T; i++) printf(" %d", ids[i]);
        printf("\n%5s %8s %s%9s   top %d next tokens: id %s(logit, prob)\n", "pos", "token", tk ? "string        " : "", "loss", K,
               tk ? "string " : "");
    }
    for (long p = 0; p < T; p++) {
        const top_entry *tp = top + (size_t)p * (size_t)K;
        if (json) {
            printf("{\"pos\": %ld, \"token\": %d, \"loss\": ", p, ids[p]);
            if (p + 1 < T) printf("%.9g", loss[p]); else printf("null");
            printf(", \"top\": [");
            for (int k = 0; k < K; k++)
                printf("%s{\"id\": %d, \"logit\": %.9g, \"prob\": %.9g}", k ? ", " : "", tp[k].id, tp[k].logit, tp[k].prob);
            printf("]}\n");
        } else {
            printf("%5ld %8d ", p, ids[p]);
            if (tk) print_token(tk, ids[p], 14);
            if (p + 1 < T) printf("%9.4f", loss[p]); else printf("%9s", "-");
            printf("  ");
            for (int k = 0; k < K; k++) {
                printf(" %d ", tp[k].id);
                if (tk) print_token(tk, tp[k].id, 0), printf(" ");
                printf("(%.3f, %.2f%%)", tp[k].logit, 100.0 * tp[k].prob);
            }
            printf("\n");
        }
    }
    if (cache && save_dir) rc = save_hooks(cache, save_dir);
    else if (cache && !json) {
        for (int i = 0; i < hs_cache_count(cache); i++) {
            const hs_array *a = hs_cache_get(cache, hs_cache_name(cache, i));
            printf("hook %s [", hs_cache_name(cache, i));
            for (int d = 0; d < a->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)a->shape[d]);
            printf("]\n");
        }
    }
done:
    hs_tokenizer_free(tk);
    free(model_dir);
    hs_cache_free(cache);
    hs_forward_free(f);
    hs_model_free(m);
    free(ids64);
    free(ids);
    free(loss);
    free(top);
    return rc;
}
