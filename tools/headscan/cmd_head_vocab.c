/* cmd_head_vocab.c — `headscan head-vocab`: the vocabulary one head writes at one
 * position, z · W_OU / final-LN scale (analysis.md §13, the L3H3 debugging cell), as the
 * study's create_vocab_df shows it: token strings and logits, top and bottom. */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: headscan head-vocab --model DIR --layer L --head H\n"
           "                           (--tokens FILE --row R --pos P | --text STRING [--pos P] [--no-bos])\n"
           "                           [--top 20] [--csv] [--tokenizer FILE]\n"
           "Prints the logits head (L, H) writes directly at position P of one sequence:\n"
           "z[P, H] · (W_O[L, H] @ W_U) / ln_final.hook_scale[P] over the whole vocabulary\n"
           "(TransformerLens's processed weights), the --top highest and lowest tokens.\n"
           "  --tokens FILE   int64/int32 .npy [rows, n_ctx] (e.g. a scan's tokens.npy); --row picks the\n"
           "                  sequence, --pos the position (the sequence is cut after it: causal)\n"
           "  --text STRING   encoded with the tokenizer, BOS first unless --no-bos; --pos defaults to\n"
           "                  the last token\n"
           "  --csv           print CSV (rank,id,token,logit) instead of the table; rank < 0 for bottom rows\n"
           "  --tokenizer     default MODEL/tokenizer.json (token strings shown as #id without one)\n");
}

typedef struct { float v; int32_t id; } vi;
static int by_desc(const void *a, const void *b) {
    const vi *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void csv_field(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

int cmd_head_vocab(int argc, char **argv) {
    const char *model = NULL, *tokens_path = NULL, *text = NULL, *tok_path = NULL;
    long layer = -1, head = -1, row = -1, pos = -1, top = 20;
    int csv = 0, no_bos = 0;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"layer", required_argument, 0, 'l'}, {"head", required_argument, 0, 'H'},
        {"tokens", required_argument, 0, 't'}, {"row", required_argument, 0, 'r'}, {"pos", required_argument, 0, 'p'},
        {"text", required_argument, 0, 'x'}, {"top", required_argument, 0, 'k'}, {"csv", no_argument, 0, 'c'},
        {"tokenizer", required_argument, 0, 'z'}, {"no-bos", no_argument, 0, 'B'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    char *end;
#define NUM(var, lo, what) do { var = strtol(optarg, &end, 10); \
        if (*end || end == optarg || var < (lo)) { return cli_usage_error("head-vocab", "%s: bad value '%s'", what, optarg); } } while (0)
    while ((o = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': model = optarg; break;
        case 'l': NUM(layer, 0, "--layer"); break;
        case 'H': NUM(head, 0, "--head"); break;
        case 't': tokens_path = optarg; break;
        case 'r': NUM(row, 0, "--row"); break;
        case 'p': NUM(pos, 0, "--pos"); break;
        case 'x': text = optarg; break;
        case 'k': NUM(top, 1, "--top"); break;
        case 'c': csv = 1; break;
        case 'z': tok_path = optarg; break;
        case 'B': no_bos = 1; break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("head-vocab", "bad option");
        }
    }
#undef NUM
    if (optind < argc) return cli_usage_error("head-vocab", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("head-vocab", "--model DIR is required");
    if (layer < 0 || head < 0) return cli_usage_error("head-vocab", "--layer and --head are required");
    if (!tokens_path == !text) return cli_usage_error("head-vocab", "give either --tokens FILE (with --row, --pos) or --text STRING");
    if (tokens_path && (row < 0 || pos < 0)) return cli_usage_error("head-vocab", "--tokens needs --row and --pos");
    int rc = 0;
    hs_status s;
    hs_model *m = NULL;
    hs_tokenizer *tk = NULL;
    hs_array tokens = {0};
    hs_ids ids = {0};
    int32_t *seq = NULL;
    float *out = NULL;
    vi *all = NULL;
    hs_model_params mp = hs_model_default_params();
    if ((s = hs_model_load(model, &mp, &m))) { rc = cli_fail(s, "loading the model"); goto done; }
    const hs_model_config *cfg = hs_model_get_config(m);
    char deftok[4096];
    snprintf(deftok, sizeof deftok, "%s/tokenizer.json", model);
    if (tok_path || access(deftok, R_OK) == 0) {
        if ((s = hs_tokenizer_load(tok_path ? tok_path : deftok, &tk))) { rc = cli_fail(s, "loading the tokenizer"); goto done; }
    } else if (text) {
        fprintf(stderr, "headscan: error: --text needs a tokenizer: %s has no tokenizer.json (give --tokenizer FILE)\n", model);
        rc = 1;
        goto done;
    }
    int n = 0;
    if (tokens_path) {
        if ((s = hs_tokens_load(tokens_path, &tokens))) { rc = cli_fail(s, "reading --tokens"); goto done; }
        if (row >= tokens.shape[0] || pos >= tokens.shape[1]) {
            fprintf(stderr, "headscan: error: %s is [%lld, %lld]: --row %ld --pos %ld is outside it\n", tokens_path,
                    (long long)tokens.shape[0], (long long)tokens.shape[1], row, pos);
            rc = 1;
            goto done;
        }
        n = (int)pos + 1;
        seq = malloc(sizeof *seq * (size_t)n);
        const int64_t *r = (const int64_t *)tokens.data + (size_t)row * tokens.shape[1];
        for (int i = 0; i < n; i++) seq[i] = r[i] < 0 || r[i] > INT32_MAX ? -1 : (int32_t)r[i];
    } else {
        /* BOS as TL's to_tokens: the model's default_prepend_bos (Qwen2: none) unless --no-bos */
        const bool bos = !no_bos && hs_model_get_config(m)->default_prepend_bos;
        if ((s = hs_tokenizer_to_tokens(tk, text, strlen(text), bos, HS_UTF8_STRICT, &ids))) { rc = cli_fail(s, "--text"); goto done; }
        if (ids.len == 0) { fprintf(stderr, "headscan: error: --text gives no tokens\n"); rc = 1; goto done; }
        if (pos < 0) pos = (long)ids.len - 1;
        if (pos >= (long)ids.len) {
            fprintf(stderr, "headscan: error: --pos %ld: the text has %zu tokens\n", pos, ids.len);
            rc = 1;
            goto done;
        }
        n = (int)pos + 1;
        seq = malloc(sizeof *seq * (size_t)n);
        memcpy(seq, ids.data, sizeof *seq * (size_t)n);
    }
    const int V = cfg->d_vocab;
    out = malloc(sizeof *out * (size_t)V);
    all = malloc(sizeof *all * (size_t)V);
    if (!seq || !out || !all) { fprintf(stderr, "headscan: error: out of memory\n"); rc = 1; goto done; }
    if ((s = hs_head_vocab(m, seq, n, (int)layer, (int)head, (int)pos, out))) { rc = cli_fail(s, "head-vocab"); goto done; }
    for (int v = 0; v < V; v++) all[v] = (vi){out[v], v};
    qsort(all, (size_t)V, sizeof *all, by_desc);
    int K = top < V ? (int)top : V;
    char *cur = cli_token_string(tk, seq[n - 1], CLI_TOKEN_DISPLAY_LINE);
    if (csv) printf("rank,id,token,logit\n");
    else printf("L%ldH%ld at position %ld (current token %s): z · W_OU / scale over %d tokens\n%6s %7s  %-24s %10s\n", layer,
                head, pos, cur, V, "rank", "id", "token", "logit");
    free(cur);
    for (int part = 0; part < 2; part++) {
        if (!csv) printf(part ? "bottom %d:\n" : "top %d:\n", K);
        for (int i = 0; i < K; i++) {
            int j = part ? V - 1 - i : i;
            char *d = cli_token_string(tk, all[j].id, CLI_TOKEN_DISPLAY);
            long rank = part ? -(long)(i + 1) : (long)i;
            if (csv) {
                printf("%ld,%d,", rank, all[j].id);
                csv_field(d);
                printf(",%.9g\n", (double)all[j].v);
            } else {
                for (char *q = d; *q; q++) if (*q == '\n') *q = ' ';
                int cols = 0;
                for (const char *q = d; *q; q++) cols += ((unsigned char)*q & 0xC0) != 0x80;
                printf("%6ld %7d  %s%*s %10.6f\n", rank, all[j].id, d, cols < 24 ? 24 - cols : 0, "", (double)all[j].v);
            }
            free(d);
        }
    }
done:
    free(out);
    free(all);
    free(seq);
    hs_ids_free(&ids);
    hs_array_free(&tokens);
    hs_tokenizer_free(tk);
    hs_model_free(m);
    return rc;
}
