/* cmd_examples.c — `headscan examples SCAN_DIR`: the positions where one head's per-token
 * metric is highest (the study's argsort debugging cell, with the correct flat-index decode
 * (i // (T−1), i % (T−1)), analysis.md §13), each with its context in display form. */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: headscan examples SCAN_DIR --head L3H3 [--metric mover_dla] [--exclude-induction]\n"
           "                         [--top 20] [--context 12] [--tokenizer FILE]\n"
           "Lists the positions (row, pos) where head's per-token metric is largest, with the value\n"
           "and the context: the tokens up to pos, then => the next token (the one predicted).\n"
           "  --metric M           head_dla, mover_attn or mover_dla (the scan's [L,H,N,T-1] arrays)\n"
           "  --exclude-induction  leave out positions whose bigram occurred earlier (induction_mask)\n"
           "  --context N          tokens shown before the next token (default 12)\n"
           "  --tokenizer FILE     token strings (default: the scan model's tokenizer.json; else #id)\n");
}

static int read_arr(const char *dir, const char *name, hs_array *a) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hs_status s = hs_npy_read(path, a);
    return s ? cli_fail(s, "reading the scan") : 0;
}

int cmd_examples(int argc, char **argv) {
    const char *head_s = NULL, *metric = "mover_dla", *tok_path = NULL;
    int excl = 0;
    long top = 20, context = 12;
    static const struct option opts[] = {
        {"head", required_argument, 0, 'H'}, {"metric", required_argument, 0, 'M'}, {"exclude-induction", no_argument, 0, 'x'},
        {"top", required_argument, 0, 'k'}, {"context", required_argument, 0, 'c'}, {"tokenizer", required_argument, 0, 'z'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'H': head_s = optarg; break;
        case 'M': metric = optarg; break;
        case 'x': excl = 1; break;
        case 'k': top = strtol(optarg, &end, 10); if (*end || top < 1 || top > 1000000) return cli_usage_error("examples", "--top must be in 1..1000000"); break;
        case 'c': context = strtol(optarg, &end, 10); if (*end || context < 0 || context > 100000) return cli_usage_error("examples", "--context must be in 0..100000"); break;
        case 'z': tok_path = optarg; break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("examples", "bad option");
        }
    }
    if (argc - optind != 1) return cli_usage_error("examples", "give exactly one SCAN_DIR");
    const char *dir = argv[optind];
    if (!head_s) return cli_usage_error("examples", "--head LxHy is required (e.g. L3H3)");
    int L = -1, H = -1, nc = 0;
    if (sscanf(head_s, "L%dH%d%n", &L, &H, &nc) != 2 || head_s[nc] || L < 0 || H < 0)
        return cli_usage_error("examples", "--head '%s': expected LxHy, e.g. L3H3", head_s);
    if (strcmp(metric, "head_dla") && strcmp(metric, "mover_attn") && strcmp(metric, "mover_dla"))
        return cli_usage_error("examples", "--metric '%s': expected head_dla, mover_attn or mover_dla", metric);
    int rc = 0;
    hs_array vals = {0}, tokens = {0}, mask = {0};
    hs_tokenizer *tk = NULL;
    int64_t *idx = NULL;
    char name[64];
    snprintf(name, sizeof name, "%s.npy", metric);
    if ((rc = read_arr(dir, name, &vals)) || (rc = read_arr(dir, "tokens.npy", &tokens)) ||
        (excl && (rc = read_arr(dir, "induction_mask.npy", &mask))))
        goto done;
    if (vals.dtype != HS_F32 || vals.ndim != 4 || tokens.ndim != 2 || tokens.dtype != HS_I64 || tokens.shape[0] != vals.shape[2] ||
        tokens.shape[1] != vals.shape[3] + 1 || (excl && (mask.ndim != 2 || mask.shape[0] != vals.shape[2] || mask.shape[1] != vals.shape[3]))) {
        fprintf(stderr, "headscan: error: %s: %s, tokens.npy and induction_mask.npy do not fit together\n", dir, name);
        rc = 1;
        goto done;
    }
    if (L >= vals.shape[0] || H >= vals.shape[1]) {
        fprintf(stderr, "headscan: error: %s: the scan has %lld layers x %lld heads: no %s\n", dir, (long long)vals.shape[0],
                (long long)vals.shape[1], head_s);
        rc = 1;
        goto done;
    }
    if (tok_path) {
        hs_status s = hs_tokenizer_load(tok_path, &tk);
        if (s) { rc = cli_fail(s, "loading the tokenizer"); goto done; }
    } else {
        char *tp = cli_scan_tokenizer(dir);
        if (tp && hs_tokenizer_load(tp, &tk) != HS_OK) tk = NULL;
        free(tp);
        if (!tk) fprintf(stderr, "headscan: note: no tokenizer (give --tokenizer FILE): tokens are shown as #id\n");
    }
    const int64_t N = vals.shape[2], P = vals.shape[3], T = P + 1;
    const float *v = (const float *)vals.data + ((size_t)L * vals.shape[1] + H) * (size_t)(N * P);
    idx = malloc(sizeof *idx * (size_t)top);
    int got = 0;
    hs_status s = idx ? hs_top_positions(v, N, P, excl ? mask.data : NULL, (int)top, idx, &got) : HS_ERR_NOMEM;
    if (s) { rc = cli_fail(s, "ranking"); goto done; }
    printf("%s %s%s: top %d of %lld positions\n%5s %6s %5s %12s  %s\n", head_s, metric, excl ? " (induction positions excluded)" : "",
           got, (long long)(N * P), "rank", "row", "pos", "value", "context => next token");
    for (int i = 0; i < got; i++) {
        int64_t b = idx[i] / P, p = idx[i] % P;
        const int64_t *tok = (const int64_t *)tokens.data + (size_t)(b * T);
        printf("%5d %6lld %5lld %12.6g  ", i, (long long)b, (long long)p, (double)v[idx[i]]);
        int64_t a = p + 1 - context > 0 ? p + 1 - context : 0;
        if (a > 0) printf("…");
        for (int64_t j = a; j <= p; j++) {
            char *d = cli_token_string(tk, tok[j], CLI_TOKEN_DISPLAY_LINE);
            printf("%s", d);
            free(d);
        }
        char *d = cli_token_string(tk, tok[p + 1], CLI_TOKEN_DISPLAY_LINE);
        printf("  =>  %s\n", d);
        free(d);
    }
done:
    free(idx);
    hs_array_free(&vals);
    hs_array_free(&tokens);
    hs_array_free(&mask);
    hs_tokenizer_free(tk);
    return rc;
}
