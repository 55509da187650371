/* cmd_tokens_html.c — `headscan tokens-html`: tokens coloured by a per-token value as the
 * study's create_html does (blue positive, red negative, saturation ∝ |value|, the value on
 * hover; the study's negative-saturation bug fixed). */
#define _GNU_SOURCE
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: headscan tokens-html --strings FILE.json --values FILE.json|FILE.npy   (any strings and values)\n"
           "       headscan tokens-html SCAN_DIR --row R [--head L3H3 --metric mover_dla]  (a scan's prompt)\n"
           "       headscan tokens-html --model DIR --text STRING                           (per-token loss)\n"
           "                           [--saturation 0.5] [--tokenizer FILE] [--fragment] [--out FILE]\n"
           "Writes HTML with one coloured <span> per token (create_html): blue for positive, red for\n"
           "negative values, saturation proportional to |value| / max|value|, the value as hover text.\n"
           "  --strings/--values  a JSON list of strings and a JSON list (or 1-D float .npy) of numbers\n"
           "  SCAN_DIR --row R    tokens 1..T-1 of prompt R coloured by the per-token loss, or by a head's\n"
           "                      --metric (head_dla, mover_attn, mover_dla) for predicting each token\n"
           "  --model --text      the text's tokens (BOS first) coloured by their loss under the model\n"
           "  --fragment          only the <div> (default: a whole HTML page)\n"
           "  --out FILE          default: standard output\n");
}

typedef struct tv { char **s; float *v; size_t n; } tv;
static void tv_free(tv *x) {
    for (size_t i = 0; x->s && i < x->n; i++) free(x->s[i]);
    free(x->s);
    free(x->v);
}

static int from_files(const char *sp, const char *vp, tv *out) {
    char *t = cli_read_text(sp);
    cJSON *js = t ? cJSON_Parse(t) : NULL;
    free(t);
    if (!cJSON_IsArray(js)) { cJSON_Delete(js); fprintf(stderr, "headscan: error: --strings %s: not a JSON list of strings\n", sp); return 1; }
    size_t n = (size_t)cJSON_GetArraySize(js);
    out->s = calloc(n ? n : 1, sizeof *out->s);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    out->n = n;
    cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, js) {
        if (!cJSON_IsString(it)) { cJSON_Delete(js); fprintf(stderr, "headscan: error: --strings %s: item %zu is not a string\n", sp, i); return 1; }
        out->s[i++] = strdup(it->valuestring);
    }
    cJSON_Delete(js);
    size_t vl = strlen(vp);
    if (vl > 4 && !strcmp(vp + vl - 4, ".npy")) {
        hs_array a = {0};
        hs_status s = hs_npy_read(vp, &a);
        if (s) return cli_fail(s, "--values");
        if (a.dtype != HS_F32 || hs_array_numel(&a) != (int64_t)n) {
            fprintf(stderr, "headscan: error: --values %s: expected %zu float32 values\n", vp, n);
            hs_array_free(&a);
            return 1;
        }
        memcpy(out->v, a.data, sizeof(float) * n);
        hs_array_free(&a);
        return 0;
    }
    t = cli_read_text(vp);
    js = t ? cJSON_Parse(t) : NULL;
    free(t);
    if (!cJSON_IsArray(js) || (size_t)cJSON_GetArraySize(js) != n) {
        cJSON_Delete(js);
        fprintf(stderr, "headscan: error: --values %s: expected a JSON list of %zu numbers (one per string)\n", vp, n);
        return 1;
    }
    i = 0;
    cJSON_ArrayForEach(it, js) {
        if (!cJSON_IsNumber(it)) { cJSON_Delete(js); fprintf(stderr, "headscan: error: --values %s: item %zu is not a number\n", vp, i); return 1; }
        out->v[i++] = (float)it->valuedouble;
    }
    cJSON_Delete(js);
    return 0;
}

static int from_scan(const char *dir, long row, const char *head, const char *metric, const hs_tokenizer *tk, tv *out) {
    hs_array tok = {0}, val = {0};
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s/tokens.npy", dir);
    hs_status s = hs_npy_read(path, &tok);
    if (s) return cli_fail(s, "reading the scan");
    snprintf(path, sizeof path, "%s/%s.npy", dir, head ? metric : "loss");
    if ((s = hs_npy_read(path, &val))) { hs_array_free(&tok); return cli_fail(s, "reading the scan"); }
    int L = 0, H = 0, nc = 0;
    const int nd = head ? 4 : 2;
    if (tok.ndim != 2 || tok.dtype != HS_I64 || val.ndim != nd || val.dtype != HS_F32 || val.shape[nd - 2] != tok.shape[0] ||
        val.shape[nd - 1] + 1 != tok.shape[1]) {
        fprintf(stderr, "headscan: error: %s: tokens.npy and %s do not fit together\n", dir, path);
        rc = 1;
    } else if (head && (sscanf(head, "L%dH%d%n", &L, &H, &nc) != 2 || head[nc] || L < 0 || H < 0 || L >= val.shape[0] || H >= val.shape[1])) {
        fprintf(stderr, "headscan: error: --head %s: not a head of this scan (%lld layers x %lld heads)\n", head, (long long)val.shape[0],
                (long long)val.shape[1]);
        rc = 1;
    } else if (row < 0 || row >= tok.shape[0]) {
        fprintf(stderr, "headscan: error: --row %ld: the scan has %lld prompts\n", row, (long long)tok.shape[0]);
        rc = 1;
    } else {
        const int64_t T = tok.shape[1], P = T - 1, N = tok.shape[0];
        const float *v = (const float *)val.data + (head ? ((size_t)L * val.shape[1] + H) * (size_t)(N * P) : 0) + (size_t)(row * P);
        out->n = (size_t)P;
        out->s = calloc((size_t)P, sizeof *out->s);
        out->v = malloc(sizeof(float) * (size_t)P);
        for (int64_t j = 1; j < T; j++) {   /* token j coloured by the value for predicting it (position j − 1) */
            out->s[j - 1] = cli_token_string(tk, ((const int64_t *)tok.data)[row * T + j], CLI_TOKEN_RAW);
            out->v[j - 1] = v[j - 1];
        }
    }
    hs_array_free(&tok);
    hs_array_free(&val);
    return rc;
}

static int from_text(const char *model, const char *text, const hs_tokenizer *tk, tv *out) {
    hs_model *m = NULL;
    hs_forward *f = NULL;
    hs_ids ids = {0};
    int rc = 0;
    hs_model_params mp = hs_model_default_params();
    hs_status s = hs_model_load(model, &mp, &m);
    if (s) return cli_fail(s, "loading the model");
    if ((s = hs_tokenizer_to_tokens(tk, text, strlen(text), hs_model_get_config(m)->default_prepend_bos, HS_UTF8_STRICT, &ids))) { rc = cli_fail(s, "--text"); goto done; }
    const int T = (int)ids.len;
    if (T < 2 || T > hs_model_get_config(m)->n_ctx) {
        fprintf(stderr, "headscan: error: --text gives %d tokens with BOS; the model takes 2..%d\n", T, hs_model_get_config(m)->n_ctx);
        rc = 1;
        goto done;
    }
    out->n = (size_t)T - 1;
    out->s = calloc(out->n, sizeof *out->s);
    out->v = malloc(sizeof(float) * out->n);
    if ((s = hs_forward_create(m, 1, T, &f))) { rc = cli_fail(s, "forward"); goto done; }
    hs_forward_params fp = hs_forward_default_params();
    fp.loss = out->v;
    if ((s = hs_forward_run(f, ids.data, 1, T, &fp))) { rc = cli_fail(s, "forward"); goto done; }
    for (int j = 1; j < T; j++) out->s[j - 1] = cli_token_string(tk, ids.data[j], CLI_TOKEN_RAW);
done:
    hs_forward_free(f);
    hs_ids_free(&ids);
    hs_model_free(m);
    return rc;
}

int cmd_tokens_html(int argc, char **argv) {
    const char *strings = NULL, *values = NULL, *head = NULL, *metric = "mover_dla", *model = NULL, *text = NULL, *tok_path = NULL,
               *out = NULL;
    long row = -1;
    float sat = 0.5f;
    int fragment = 0;
    static const struct option opts[] = {
        {"strings", required_argument, 0, 's'}, {"values", required_argument, 0, 'v'}, {"row", required_argument, 0, 'r'},
        {"head", required_argument, 0, 'H'}, {"metric", required_argument, 0, 'M'}, {"model", required_argument, 0, 'm'},
        {"text", required_argument, 0, 'x'}, {"tokenizer", required_argument, 0, 'z'}, {"saturation", required_argument, 0, 'S'},
        {"fragment", no_argument, 0, 'f'}, {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (o) {
        case 's': strings = optarg; break;
        case 'v': values = optarg; break;
        case 'r': row = strtol(optarg, &end, 10); if (*end || row < 0) return cli_usage_error("tokens-html", "--row: bad value '%s'", optarg); break;
        case 'H': head = optarg; break;
        case 'M': metric = optarg; break;
        case 'm': model = optarg; break;
        case 'x': text = optarg; break;
        case 'z': tok_path = optarg; break;
        case 'S': sat = strtof(optarg, &end); if (*end || !(sat > 0 && sat <= 1)) return cli_usage_error("tokens-html", "--saturation must be in (0, 1]"); break;
        case 'f': fragment = 1; break;
        case 'o': out = optarg; break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("tokens-html", "bad option");
        }
    }
    const char *scan = optind < argc ? argv[optind] : NULL;
    if (argc - optind > 1) return cli_usage_error("tokens-html", "unexpected argument '%s'", argv[optind + 1]);
    int modes = (strings || values) + (scan != NULL) + (model || text);
    if (modes != 1) return cli_usage_error("tokens-html", "give one of --strings/--values, SCAN_DIR --row R, or --model/--text");
    if ((strings || values) && !(strings && values)) return cli_usage_error("tokens-html", "--strings and --values go together");
    if (scan && row < 0) return cli_usage_error("tokens-html", "SCAN_DIR needs --row R");
    if ((model || text) && !(model && text)) return cli_usage_error("tokens-html", "--model and --text go together");
    if (head && strcmp(metric, "head_dla") && strcmp(metric, "mover_attn") && strcmp(metric, "mover_dla"))
        return cli_usage_error("tokens-html", "--metric '%s': expected head_dla, mover_attn or mover_dla", metric);
    hs_tokenizer *tk = NULL;
    char deftok[4096] = "";
    if (model) snprintf(deftok, sizeof deftok, "%s/tokenizer.json", model);
    char *scan_tok = scan && !tok_path ? cli_scan_tokenizer(scan) : NULL;
    const char *tp = tok_path ? tok_path : scan_tok ? scan_tok : (*deftok && access(deftok, R_OK) == 0 ? deftok : NULL);
    if (tp) {
        hs_status s = hs_tokenizer_load(tp, &tk);
        free(scan_tok);
        if (s) return cli_fail(s, "loading the tokenizer");
    } else if (model) {
        fprintf(stderr, "headscan: error: --text needs a tokenizer: %s has no tokenizer.json (give --tokenizer FILE)\n", model);
        return 1;
    }
    tv x = {0};
    int rc = strings ? from_files(strings, values, &x) : scan ? from_scan(scan, row, head, metric, tk, &x) : from_text(model, text, tk, &x);
    char *html = NULL;
    if (!rc) {
        hs_status s = hs_tokens_html((const char *const *)x.s, x.v, x.n, sat, -1, &html);
        if (s) rc = cli_fail(s, "colouring");
    }
    if (!rc) {
        const char *pre = fragment ? "" : "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>headscan tokens</title></head><body>\n";
        const char *post = fragment ? "\n" : "\n</body></html>\n";
        size_t n = strlen(pre) + strlen(html) + strlen(post);
        char *doc = malloc(n + 1);
        snprintf(doc, n + 1, "%s%s%s", pre, html, post);
        if (out) {
            hs_status s = hs_write_file_atomic(out, doc, n);
            if (s) rc = cli_fail(s, "--out");
        } else fputs(doc, stdout);
        free(doc);
    }
    free(html);
    tv_free(&x);
    hs_tokenizer_free(tk);
    return rc;
}
