/* report.c — one self-contained HTML page from a `headscan scan` folder: the data as
 * JSON in <script id="hs-data">, the page script/stylesheet (page.js/page.css, embedded
 * at build time) and plotly.js (embedded from a file, or linked from its CDN). */
#define _GNU_SOURCE
#include "headscan/report.h"
#include "headscan/scan.h"
#include "report/strbuf.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char hs_report_page_js[], hs_report_page_css[];
extern const size_t hs_report_page_js_len, hs_report_page_css_len;

hs_report_params hs_report_default_params(void) {
    return (hs_report_params){.title = "headscan report", .examples = 10, .context = 30, .subsample = 1000,
                              .seed = 0, .subsample_threshold = 0.05f, .max_subsample_heads = 8,
                              .image_prompts = 20, .loss_prompts = 2};
}

/* ------------------------------------------------------------------ inputs */
typedef struct scan_in {
    const char *dir;
    cJSON *table, *quantiles, *manifest;
    hs_array head_dla, mover_dla, loss, num_copies, ind_mask, tokens, induction, eig_vocab, eig_resid, frac;
    int L, H, N, P, T;
} scan_in;

static hs_status read_json(const char *dir, const char *name, cJSON **out) {
    char *path = hs_path_join(dir, name), *text = NULL;
    size_t len;
    if (!path) return HS_ERR_NOMEM;
    hs_status s = hs_read_file(path, 0, &text, &len);
    if (s) { free(path); return hs_error_prefix(s, "report: scan folder %s", dir); }
    *out = cJSON_ParseWithLength(text, len);
    free(text);
    if (!*out) s = hs_errorf(HS_ERR_FORMAT, "report: %s: not valid JSON", path);
    free(path);
    return s;
}

static hs_status read_npy(const char *dir, const char *name, hs_dtype want, int ndim, hs_array *a) {
    char *path = hs_path_join(dir, name);
    if (!path) return HS_ERR_NOMEM;
    hs_status s = hs_npy_read(path, a);
    if (s) { free(path); return hs_error_prefix(s, "report: scan folder %s", dir); }
    bool ok = a->ndim == ndim && (a->dtype == want || (want == HS_U8 && a->dtype == HS_BOOL));
    if (!ok) s = hs_errorf(HS_ERR_FORMAT, "report: %s: expected a %d-D %s array", path, ndim, want == HS_F32 ? "float32" : want == HS_I64 ? "int64" : "bool");
    free(path);
    return s;
}

static void scan_in_free(scan_in *in) {
    cJSON_Delete(in->table);
    cJSON_Delete(in->quantiles);
    cJSON_Delete(in->manifest);
    hs_array *arrs[] = {&in->head_dla, &in->mover_dla, &in->loss, &in->num_copies, &in->ind_mask, &in->tokens,
                        &in->induction, &in->eig_vocab, &in->eig_resid, &in->frac};
    for (size_t i = 0; i < sizeof arrs / sizeof *arrs; i++) hs_array_free(arrs[i]);
}

static hs_status scan_in_load(const char *dir, scan_in *in) {
    hs_status s;
    in->dir = dir;
    if ((s = read_json(dir, "head_table.json", &in->table)) || (s = read_json(dir, "quantiles.json", &in->quantiles)) ||
        (s = read_json(dir, "manifest.json", &in->manifest)))
        return s;
    if ((s = read_npy(dir, "head_dla.npy", HS_F32, 4, &in->head_dla)) || (s = read_npy(dir, "mover_dla.npy", HS_F32, 4, &in->mover_dla)) ||
        (s = read_npy(dir, "loss.npy", HS_F32, 2, &in->loss)) || (s = read_npy(dir, "num_copies.npy", HS_I64, 2, &in->num_copies)) ||
        (s = read_npy(dir, "induction_mask.npy", HS_U8, 2, &in->ind_mask)) || (s = read_npy(dir, "tokens.npy", HS_I64, 2, &in->tokens)) ||
        (s = read_npy(dir, "induction_scores.npy", HS_F32, 2, &in->induction)) ||
        (s = read_npy(dir, "eigenvals_vocab.npy", HS_F32, 2, &in->eig_vocab)) ||
        (s = read_npy(dir, "eigenvals_resid.npy", HS_F32, 2, &in->eig_resid)) ||
        (s = read_npy(dir, "frac_copy_argmax.npy", HS_F32, 2, &in->frac)))
        return s;
    in->L = (int)in->head_dla.shape[0];
    in->H = (int)in->head_dla.shape[1];
    in->N = (int)in->head_dla.shape[2];
    in->P = (int)in->head_dla.shape[3];
    in->T = in->P + 1;
    const int64_t *a = in->head_dla.shape, *b = in->mover_dla.shape;
    bool ok = a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && in->N > 0 && in->P > 0;
    const hs_array *np2[] = {&in->loss, &in->num_copies, &in->ind_mask};
    for (int i = 0; i < 3; i++) ok = ok && np2[i]->shape[0] == in->N && np2[i]->shape[1] == in->P;
    ok = ok && in->tokens.shape[0] == in->N && in->tokens.shape[1] == in->T;
    const hs_array *lh[] = {&in->induction, &in->eig_vocab, &in->eig_resid, &in->frac};
    for (int i = 0; i < 4; i++) ok = ok && lh[i]->shape[0] == in->L && lh[i]->shape[1] == in->H;
    if (!ok) return hs_errorf(HS_ERR_FORMAT, "report: %s: the arrays' shapes disagree (head_dla is [%lld, %lld, %lld, %lld])", dir,
                              (long long)a[0], (long long)a[1], (long long)a[2], (long long)a[3]);
    if (!cJSON_IsArray(in->table) || cJSON_GetArraySize(in->table) != in->L * in->H)
        return hs_errorf(HS_ERR_FORMAT, "report: %s/head_table.json: expected an array of %d heads", dir, in->L * in->H);
    if (!cJSON_IsObject(cJSON_GetObjectItem(in->quantiles, "tables")))
        return hs_errorf(HS_ERR_FORMAT, "report: %s/quantiles.json: no \"tables\" object", dir);
    return HS_OK;
}

/* ------------------------------------------------------------------ JSON helpers */
static cJSON *jnum(double x) {
    if (!isfinite(x)) return cJSON_CreateNull();
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", x);   /* float32 precision is all there is */
    return cJSON_CreateRaw(buf);
}
static cJSON *jfloats(const float *x, int64_t n) {
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, jnum(x[i]));
    return a;
}

/* Token strings for display: to_str_tokens via the tokenizer, else "#id". */
static char *tok_str(const hs_tokenizer *tk, int64_t id) {
    char *s = NULL;
    size_t n;
    if (tk && id >= 0 && id <= INT32_MAX && hs_tokenizer_token_str(tk, (int32_t)id, &s, &n) == HS_OK) return s;
    char buf[32];
    snprintf(buf, sizeof buf, "#%lld", (long long)id);
    return hs_strdup(buf);
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Coloured tokens of one prompt window [a, b): value of token j = vals[j − 1] (the metric for
 * predicting token j from position j − 1; token 0 gets 0). */
static hs_status window_html(const scan_in *in, const hs_tokenizer *tk, int row, int a, int b, const float *vals,
                             long highlight, char **out) {
    int n = b - a;
    char **strs = hs_calloc((size_t)n, sizeof *strs);
    float *v = hs_calloc((size_t)n, sizeof *v);
    hs_status s = HS_OK;
    if (!strs || !v) { s = HS_ERR_NOMEM; goto done; }
    const int64_t *tok = (const int64_t *)in->tokens.data + (size_t)row * in->T;
    for (int j = a; j < b; j++) {
        if (!(strs[j - a] = tok_str(tk, tok[j]))) { s = HS_ERR_NOMEM; goto done; }
        v[j - a] = j >= 1 ? vals[(size_t)row * in->P + (size_t)(j - 1)] : 0.0f;
    }
    s = hs_tokens_html((const char *const *)strs, v, (size_t)n, 0.5f, highlight, out);
done:
    if (strs)
        for (int j = 0; j < n; j++) free(strs[j]);
    free(strs);
    free(v);
    return s;
}

static hs_status build_data(const scan_in *in, const hs_report_params *p, bool embedded, cJSON *root, hs_report_info *info) {
    const int L = in->L, H = in->H, G = L * H, N = in->N, P = in->P;
    hs_status s = HS_OK;
    /* meta */
    cJSON *meta = cJSON_AddObjectToObject(root, "meta");
    cJSON *man = in->manifest, *model = cJSON_GetObjectItem(man, "model"), *input = cJSON_GetObjectItem(man, "input"),
          *opts = cJSON_GetObjectItem(man, "options");
    const char *mpath = cJSON_GetStringValue(cJSON_GetObjectItem(model, "path"));
    const char *ipath = cJSON_GetStringValue(cJSON_GetObjectItem(input, "path"));
    const char *ikind = cJSON_GetStringValue(cJSON_GetObjectItem(input, "kind"));
    char dataset[1200];
    snprintf(dataset, sizeof dataset, "%s%s%s", ikind ? ikind : "", ikind ? ": " : "", ipath ? ipath : "(unknown)");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    cJSON_AddStringToObject(meta, "title", p->title ? p->title : "headscan report");
    cJSON_AddStringToObject(meta, "model", mpath ? mpath : "(unknown)");
    cJSON_AddStringToObject(meta, "dataset", dataset);
    cJSON_AddNumberToObject(meta, "prompts", N);
    cJSON_AddNumberToObject(meta, "n_ctx", in->T);
    cJSON_AddNumberToObject(meta, "positions", (double)N * P);
    cJSON *st = cJSON_GetObjectItem(man, "statistics");
    cJSON *nic = cJSON_GetObjectItem(st, "non_induction_columns");
    cJSON_AddNumberToObject(meta, "non_induction", cJSON_IsNumber(nic) ? nic->valuedouble : -1);
    cJSON_AddStringToObject(meta, "generated", date);
    const char *ver = cJSON_GetStringValue(cJSON_GetObjectItem(man, "headscan_version"));
    char vbuf[96];
    snprintf(vbuf, sizeof vbuf, "%s (scan), %s (report)", ver ? ver : "?", hs_version());
    cJSON_AddStringToObject(meta, "version", vbuf);
    cJSON_AddStringToObject(meta, "plotly", embedded ? HS_PLOTLY_VERSION " (embedded)" : HS_PLOTLY_VERSION " (linked from its CDN)");
    cJSON *q = cJSON_GetObjectItem(opts, "quantile"), *qn = cJSON_GetObjectItem(opts, "no_ind_quantile");
    cJSON_AddNumberToObject(meta, "quantile", cJSON_IsNumber(q) ? q->valuedouble : 0.9);
    cJSON_AddNumberToObject(meta, "no_ind_quantile", cJSON_IsNumber(qn) ? qn->valuedouble : 0.95);
    cJSON_AddItemToObject(meta, "options", opts ? cJSON_Duplicate(opts, true) : cJSON_CreateObject());
    cJSON_AddItemToObject(root, "manifest", cJSON_Duplicate(man, true));

    /* heads and the table (file order; columns as hs_scan_column_name) */
    cJSON_AddNumberToObject(root, "L", L);
    cJSON_AddNumberToObject(root, "H", H);
    cJSON *labels = cJSON_AddArrayToObject(root, "labels");
    for (int g = 0; g < G; g++) {
        char lab[32];
        snprintf(lab, sizeof lab, "L%dH%d", g / H, g % H);
        cJSON_AddItemToArray(labels, cJSON_CreateString(lab));
    }
    cJSON *cols = cJSON_AddArrayToObject(root, "columns"), *table = cJSON_AddArrayToObject(root, "table");
    for (int c = 0; c < HS_SCAN_NCOLS; c++) cJSON_AddItemToArray(cols, cJSON_CreateString(hs_scan_column_name(c)));
    float *col_md = hs_malloc(sizeof(float) * (size_t)G), *col_mdni = hs_malloc(sizeof(float) * (size_t)G);
    if (!col_md || !col_mdni) { free(col_md); free(col_mdni); return HS_ERR_NOMEM; }
    for (int g = 0; g < G; g++) col_md[g] = col_mdni[g] = NAN;
    cJSON *row;
    int r = 0;
    cJSON_ArrayForEach(row, in->table) {
        cJSON *out = cJSON_CreateArray();
        cJSON *l = cJSON_GetObjectItem(row, "L"), *h = cJSON_GetObjectItem(row, "H");
        if (!cJSON_IsNumber(l) || !cJSON_IsNumber(h) || l->valueint < 0 || l->valueint >= L || h->valueint < 0 || h->valueint >= H) {
            cJSON_Delete(out);
            free(col_md);
            free(col_mdni);
            return hs_errorf(HS_ERR_FORMAT, "report: %s/head_table.json: row %d has no valid L/H", in->dir, r);
        }
        int g = l->valueint * H + h->valueint;
        for (int c = 0; c < HS_SCAN_NCOLS; c++) {
            cJSON *v = cJSON_GetObjectItem(row, hs_scan_column_name(c));
            if (c == 0) cJSON_AddItemToArray(out, cJSON_CreateString(cJSON_IsString(v) ? v->valuestring : "?"));
            else cJSON_AddItemToArray(out, cJSON_IsNumber(v) ? jnum(v->valuedouble) : cJSON_CreateNull());
            double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
            if (!strcmp(hs_scan_column_name(c), "mover_dla")) col_md[g] = (float)x;
            if (!strcmp(hs_scan_column_name(c), "mover_dla_no_ind")) col_mdni[g] = (float)x;
        }
        cJSON_AddItemToArray(table, out);
        r++;
    }
    cJSON_AddItemToObject(root, "quantiles", cJSON_Duplicate(cJSON_GetObjectItem(in->quantiles, "tables"), true));

    /* layer x head maps */
    cJSON *heat = cJSON_AddObjectToObject(root, "heat");
    cJSON_AddItemToObject(heat, "induction", jfloats(in->induction.data, G));
    cJSON_AddItemToObject(heat, "eigenvals_vocab", jfloats(in->eig_vocab.data, G));
    cJSON_AddItemToObject(heat, "eigenvals_resid", jfloats(in->eig_resid.data, G));
    cJSON_AddItemToObject(heat, "frac_copy_argmax", jfloats(in->frac.data, G));

    /* is_movable / num_copies images */
    int ni = p->image_prompts < N ? p->image_prompts : N;
    cJSON *im = cJSON_AddObjectToObject(root, "images"), *mov = cJSON_AddArrayToObject(im, "is_movable"),
          *cop = cJSON_AddArrayToObject(im, "num_copies");
    cJSON_AddNumberToObject(im, "prompts", ni);
    for (int b = 0; b < ni; b++) {
        cJSON *a1 = cJSON_CreateArray(), *a2 = cJSON_CreateArray();
        for (int j = 0; j < P; j++) {
            int64_t c = ((const int64_t *)in->num_copies.data)[(size_t)b * P + j];
            cJSON_AddItemToArray(a1, cJSON_CreateNumber(c > 0));
            cJSON_AddItemToArray(a2, cJSON_CreateNumber((double)c));
        }
        cJSON_AddItemToArray(mov, a1);
        cJSON_AddItemToArray(cop, a2);
    }

    /* per-head subsample scatters: heads by mover_dla descending, above the threshold */
    int *heads = hs_malloc(sizeof(int) * (size_t)G), nh = 0;
    if (!heads) { free(col_md); free(col_mdni); return HS_ERR_NOMEM; }
    for (int k = 0; k < G && nh < p->max_subsample_heads; k++) {
        int best = -1;
        for (int g = 0; g < G; g++) {
            bool used = false;
            for (int i = 0; i < nh; i++) used |= heads[i] == g;
            if (used || isnan(col_md[g])) continue;
            if (best < 0 || col_md[g] > col_md[best]) best = g;
        }
        if (best < 0 || (nh > 0 && !(col_md[best] > p->subsample_threshold))) break;
        heads[nh++] = best;
    }
    cJSON_AddNumberToObject(root, "subsample_threshold", p->subsample_threshold);
    cJSON_AddNumberToObject(root, "subsample_n", p->subsample);
    cJSON_AddNumberToObject(root, "subsample_seed", (double)p->seed);
    cJSON *subs = cJSON_AddArrayToObject(root, "subsample");
    const int64_t n = (int64_t)N * P;
    int64_t *perm = hs_malloc(sizeof(int64_t) * (size_t)n);
    if (!perm) { free(heads); free(col_md); free(col_mdni); return HS_ERR_NOMEM; }
    for (int i = 0; i < nh; i++) {
        int g = heads[i];
        int64_t k = p->subsample < n ? p->subsample : n;
        uint64_t x = p->seed ^ (0x5851F42D4C957F2DULL * (uint64_t)(g + 1));
        for (int64_t j = 0; j < n; j++) perm[j] = j;
        for (int64_t j = 0; j < k; j++) {   /* partial Fisher–Yates */
            int64_t t = j + (int64_t)(splitmix(&x) % (uint64_t)(n - j)), tmp = perm[j];
            perm[j] = perm[t];
            perm[t] = tmp;
        }
        const float *hd = (const float *)in->head_dla.data + (size_t)g * n, *md = (const float *)in->mover_dla.data + (size_t)g * n;
        cJSON *o = cJSON_CreateObject(), *xs = cJSON_AddArrayToObject(o, "x"), *ys = cJSON_AddArrayToObject(o, "y"),
              *wh = cJSON_AddArrayToObject(o, "where");
        char lab[32];
        snprintf(lab, sizeof lab, "L%dH%d", g / H, g % H);
        cJSON_AddStringToObject(o, "head", lab);
        cJSON_AddNumberToObject(o, "total", (double)n);
        for (int64_t j = 0; j < k; j++) {
            cJSON_AddItemToArray(xs, jnum(hd[perm[j]]));
            cJSON_AddItemToArray(ys, jnum(md[perm[j]]));
            char w[48];
            snprintf(w, sizeof w, "row %lld pos %lld", (long long)(perm[j] / P), (long long)(perm[j] % P));
            cJSON_AddItemToArray(wh, cJSON_CreateString(w));
        }
        cJSON_AddItemToArray(subs, o);
    }
    free(perm);
    free(heads);

    /* top examples for the head with the highest mover_dla_no_ind */
    int eg = -1;
    for (int g = 0; g < G; g++)
        if (!isnan(col_mdni[g]) && (eg < 0 || col_mdni[g] > col_mdni[eg])) eg = g;
    if (eg < 0) eg = 0;
    free(col_md);
    free(col_mdni);
    cJSON *ex = cJSON_AddObjectToObject(root, "examples"), *items = cJSON_AddArrayToObject(ex, "items");
    char elab[32];
    snprintf(elab, sizeof elab, "L%dH%d", eg / H, eg % H);
    if (info) snprintf(info->example_head, sizeof info->example_head, "%s", elab);
    cJSON_AddStringToObject(ex, "head", elab);
    cJSON_AddStringToObject(ex, "metric", "mover_dla");
    cJSON_AddStringToObject(ex, "rank_by", "mover_dla_no_ind");
    cJSON_AddBoolToObject(ex, "exclude_induction", true);
    const float *md = (const float *)in->mover_dla.data + (size_t)eg * n;
    int K = p->examples > 0 ? p->examples : 0, got = 0;
    int64_t *idx = hs_malloc(sizeof(int64_t) * (size_t)(K ? K : 1));
    if (!idx) return HS_ERR_NOMEM;
    if ((s = hs_top_positions(md, N, P, in->ind_mask.data, K, idx, &got))) { free(idx); return s; }
    for (int i = 0; i < got; i++) {
        if (!(md[idx[i]] > 0)) break;   /* 0 where nothing was moved: not an example */
        int b = (int)(idx[i] / P), pos = (int)(idx[i] % P);
        int a = pos + 1 - p->context > 0 ? pos + 1 - p->context : 0, e = pos + 5 < in->T ? pos + 5 : in->T;
        char *html = NULL;
        if ((s = window_html(in, p->tokenizer, b, a, e, md, pos + 1 - a, &html))) { free(idx); return s; }
        const int64_t *tok = (const int64_t *)in->tokens.data + (size_t)b * in->T;
        cJSON *o = cJSON_CreateObject(), *copies = cJSON_AddArrayToObject(o, "copies");
        cJSON_AddNumberToObject(o, "row", b);
        cJSON_AddNumberToObject(o, "pos", pos);
        cJSON_AddItemToObject(o, "value", jnum(md[idx[i]]));
        char *ts = tok_str(p->tokenizer, tok[pos + 1]), *disp = NULL;
        size_t dl;
        if (ts && hs_token_display(ts, strlen(ts), &disp, &dl) == HS_OK) cJSON_AddStringToObject(o, "token", disp);
        else cJSON_AddStringToObject(o, "token", ts ? ts : "?");
        free(ts);
        free(disp);
        for (int j = 0; j <= pos; j++)
            if (tok[j] == tok[pos + 1]) cJSON_AddItemToArray(copies, cJSON_CreateNumber(j));
        cJSON_AddStringToObject(o, "html", html);
        free(html);
        cJSON_AddItemToArray(items, o);
    }
    free(idx);

    /* per-token loss of the first prompts */
    cJSON *lo = cJSON_AddArrayToObject(root, "loss");
    int nl = p->loss_prompts < N ? p->loss_prompts : N;
    for (int b = 0; b < nl; b++) {
        char *html = NULL;
        if ((s = window_html(in, p->tokenizer, b, 1, in->T, in->loss.data, -1, &html))) return s;
        double sum = 0;
        for (int j = 0; j < P; j++) sum += ((const float *)in->loss.data)[(size_t)b * P + j];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "row", b);
        cJSON_AddItemToObject(o, "mean", jnum(sum / P));
        cJSON_AddStringToObject(o, "html", html);
        free(html);
        cJSON_AddItemToArray(lo, o);
    }
    return HS_OK;
}

/* Appends script text so that nothing in it can end or re-mode the <script> element:
 * "</script" → "<\/script", "<!--" → "<\!--" (both mean the same in JS strings and regexps). */
static void add_script_text(hs_sb *b, const char *s, size_t n) {
    size_t run = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '<') continue;
        if ((s[i + 1] == '/' && i + 8 <= n && !strncasecmp(s + i + 2, "script", 6)) || (i + 4 <= n && !memcmp(s + i, "<!--", 4))) {
            hs_sb_add(b, s + run, i + 1 - run);
            hs_sb_str(b, "\\");
            run = i + 1;
        }
    }
    hs_sb_add(b, s + run, n - run);
}

hs_status hs_report_write(const char *scan_dir, const hs_report_params *params, const char *out_path, hs_report_info *info) {
    if (!scan_dir || !out_path) return hs_errorf(HS_ERR_INVALID_ARG, "hs_report_write: NULL argument");
    hs_report_params p = params ? *params : hs_report_default_params();
    if (p.subsample < 0 || p.examples < 0 || p.context < 0 || p.image_prompts < 0 || p.loss_prompts < 0 || p.max_subsample_heads < 1)
        return hs_errorf(HS_ERR_INVALID_ARG, "report: counts must be non-negative (and at least one subsample head)");
    if (info) memset(info, 0, sizeof *info);
    scan_in in = {0};
    hs_status s = scan_in_load(scan_dir, &in);
    char *plotly = NULL, *json = NULL;
    size_t plotly_len = 0;
    cJSON *root = NULL;
    hs_sb b = {0};
    if (s) goto done;
    if (p.plotly_js && (s = hs_read_file(p.plotly_js, 0, &plotly, &plotly_len))) {
        s = hs_error_prefix(s, "report: reading plotly.js");
        goto done;
    }
    root = cJSON_CreateObject();
    if (!root) { s = HS_ERR_NOMEM; goto done; }
    if ((s = build_data(&in, &p, plotly != NULL, root, info))) goto done;
    json = cJSON_PrintUnformatted(root);
    if (!json) { s = hs_errorf(HS_ERR_NOMEM, "report: out of memory printing the data"); goto done; }

    const char *title = p.title ? p.title : "headscan report";
    hs_sb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    hs_sb_html(&b, title, strlen(title), false);
    hs_sb_str(&b, "</title>\n<style>\n");
    hs_sb_add(&b, hs_report_page_css, hs_report_page_css_len);
    hs_sb_str(&b, "</style>\n");
    if (plotly) {
        hs_sb_str(&b, "<script>\n");
        add_script_text(&b, plotly, plotly_len);
        hs_sb_str(&b, "\n</script>\n");
    } else {
        hs_sb_str(&b, "<script src=\"" HS_PLOTLY_CDN_URL "\" charset=\"utf-8\"></script>\n");
    }
    hs_sb_str(&b, "</head>\n<body>\n<header><h1 id=\"hs-title\"></h1><dl id=\"hs-facts\"></dl><div id=\"hs-options\"></div></header>\n"
                  "<div id=\"hs-warning\"></div>\n<nav id=\"hs-nav\"></nav>\n<main id=\"hs-main\"></main>\n"
                  "<footer>made by headscan " HS_VERSION_STRING " — a self-contained page: data and code are embedded</footer>\n"
                  "<script id=\"hs-data\" type=\"application/json\">");
    /* '<' occurs only inside JSON strings: \u003c keeps "</script" and "<!--" out of the element */
    for (const char *c = json, *run = json;; c++) {
        if (*c == '<' || !*c) {
            hs_sb_add(&b, run, (size_t)(c - run));
            if (!*c) break;
            hs_sb_str(&b, "\\u003c");
            run = c + 1;
        }
    }
    hs_sb_str(&b, "</script>\n<script>\n");
    add_script_text(&b, hs_report_page_js, hs_report_page_js_len);
    hs_sb_str(&b, "</script>\n</body>\n</html>\n");
    if (b.oom) { s = hs_errorf(HS_ERR_NOMEM, "report: out of memory building the page"); goto done; }
    if ((s = hs_write_file_atomic(out_path, b.s, b.len))) { s = hs_error_prefix(s, "report: writing %s", out_path); goto done; }
    if (info) {
        info->bytes = b.len;
        info->plotly_embedded = plotly != NULL;
        info->subsample_heads = cJSON_GetArraySize(cJSON_GetObjectItem(root, "subsample"));
    }
done:
    hs_sb_free(&b);
    free(json);
    cJSON_Delete(root);
    free(plotly);
    scan_in_free(&in);
    return s;
}
