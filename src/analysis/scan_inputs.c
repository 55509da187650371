/* scan_inputs.c — what a scan ran on, recorded in its manifest (the "input", "options"
 * and "timings_load_s" objects), and the default induction length for a model. */
#include "analysis/scan_internal.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int hs_scan_default_induction_len(const hs_model_config *cfg) {
    const int study = 200;   /* analysis.md §8: [BOS, R, R] with R of 200 tokens */
    return 1 + 2 * study > cfg->n_ctx ? (cfg->n_ctx - 1) / 2 : study;
}

/* The shortest decimal that reads back as the same float (0.9f -> 0.9, not 0.899999976). */
static double short_float(float x) {
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)x);
        if (strtof(buf, NULL) == x) break;
    }
    return strtod(buf, NULL);
}

hs_status hs_scan_inputs_json(const hs_scan_params *sp, const hs_scan_inputs *in, int n_ctx, char **out) {
    if (!sp || !in || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_scan_inputs_json: NULL argument");
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *ip = cJSON_AddObjectToObject(root, "input");
    const bool ds = !in->tokens_path && in->dataset;
    cJSON_AddStringToObject(ip, "kind", in->tokens_path ? "tokens" : ds ? "dataset" : "array");
    cJSON_AddStringToObject(ip, "path", in->tokens_path ? in->tokens_path : ds ? in->dataset : "");
    cJSON_AddStringToObject(ip, "field", ds && in->field ? in->field : "");
    if (ds) cJSON_AddBoolToObject(ip, "shuffle", in->shuffle);
    else cJSON_AddNullToObject(ip, "shuffle");
    cJSON_AddNumberToObject(ip, "shuffle_seed", (double)in->shuffle_seed);
    cJSON_AddStringToObject(ip, "induction_tokens", in->ind_tokens_path ? in->ind_tokens_path : "");
    cJSON_AddStringToObject(ip, "tokenizer", in->tokenizer_path ? in->tokenizer_path : "");
    cJSON *op = cJSON_AddObjectToObject(root, "options");
    cJSON_AddNumberToObject(op, "prompts", (double)sp->prompts);
    cJSON_AddNumberToObject(op, "batch", sp->batch);
    cJSON_AddNumberToObject(op, "n_ctx", n_ctx);
    cJSON_AddNumberToObject(op, "quantile", short_float(sp->quantile));
    cJSON_AddNumberToObject(op, "no_ind_quantile", short_float(sp->no_ind_quantile));
    cJSON_AddStringToObject(op, "sort", sp->sort ? sp->sort : "mover_dla_no_ind");
    char skip[128];
    snprintf(skip, sizeof skip, "%s%s%s", sp->skip & HS_SKIP_FRAC_COPY_ARGMAX ? "frac_copy_argmax " : "",
             sp->skip & HS_SKIP_EIGENVALUES ? "eigenvalues " : "", sp->skip & HS_SKIP_INDUCTION ? "induction" : "");
    cJSON_AddStringToObject(op, "skip", skip);
    cJSON_AddNumberToObject(op, "induction_seed", (double)sp->ind_seed);
    cJSON_AddNumberToObject(op, "induction_batch", sp->ind_batch);
    cJSON_AddNumberToObject(op, "induction_len", sp->ind_seq_len);
    cJSON_AddStringToObject(op, "compute", hs_compute_name(sp->compute));
    if (in->deviation) {   /* how far the non-float32 compute is from TransformerLens's float32 */
        const hs_compute_deviation *d = in->deviation;
        cJSON *dv = cJSON_AddObjectToObject(root, "compute_deviation");
        cJSON_AddStringToObject(dv, "compute", hs_compute_name(sp->compute));
        cJSON_AddStringToObject(dv, "implementation", d->impl);
        cJSON_AddNumberToObject(dv, "sequences", d->sequences);
        cJSON_AddNumberToObject(dv, "tokens", d->tokens);
        cJSON_AddNumberToObject(dv, "max_abs_logit", d->max_abs_logit);
        cJSON_AddNumberToObject(dv, "max_logit", d->max_logit);
        cJSON_AddNumberToObject(dv, "rel_logit", d->rel_logit);
        cJSON_AddNumberToObject(dv, "max_abs_loss", d->max_abs_loss);
        cJSON_AddNumberToObject(dv, "mean_abs_loss", d->mean_abs_loss);
    }
    cJSON *tl = cJSON_AddObjectToObject(root, "timings_load_s");
    cJSON_AddNumberToObject(tl, "model", round(in->t_load_model * 1e3) / 1e3);   /* ms */
    cJSON_AddNumberToObject(tl, "tokens", round(in->t_load_tokens * 1e3) / 1e3);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return hs_errorf(HS_ERR_NOMEM, "out of memory recording the scan's inputs");
    *out = text;
    return HS_OK;
}

hs_status hs_scan_compute_deviation(const hs_model *m, const hs_array *tokens, const char *tokens_path, int n_ctx,
                                   const hs_scan_params *sp, hs_compute_deviation *out) {
    if (!m || !sp || !out || (!tokens && !tokens_path)) return hs_errorf(HS_ERR_INVALID_ARG, "hs_scan_compute_deviation: NULL argument");
    hs_array meta = {0};
    size_t off = 0;
    hs_status s = tokens ? HS_OK : hs_npy_header_read(tokens_path, &meta, &off);
    const hs_array *a = tokens ? tokens : &meta;
    const char *what = tokens ? "the token array" : tokens_path;
    if (s) return s;
    if (a->ndim != 2 || (a->dtype != HS_I64 && a->dtype != HS_I32) || a->shape[0] < 1)
        return hs_errorf(HS_ERR_FORMAT, "%s: expected a non-empty int64 or int32 [rows, n_ctx] token matrix", what);
    const int64_t W = a->shape[1], es = a->dtype == HS_I64 ? 8 : 4;
    const int T = n_ctx > 0 ? n_ctx : (int)W;
    int64_t B = sp->batch > 0 ? sp->batch : 1;
    if (sp->prompts > 0 && sp->prompts < B) B = sp->prompts;
    if (a->shape[0] < B) B = a->shape[0];
    if (T > W) return hs_errorf(HS_ERR_INVALID_ARG, "%s: %d columns asked of rows of %lld", what, T, (long long)W);
    char *raw = tokens ? NULL : hs_malloc((size_t)(B * W * es));
    int32_t *ids = hs_malloc(sizeof(int32_t) * (size_t)(B * T));
    if (!ids || (!tokens && !raw)) { free(raw); free(ids); return HS_ERR_NOMEM; }
    if (!tokens) {
        FILE *fp = fopen(tokens_path, "rb");
        if (!fp || fseek(fp, (long)off, SEEK_SET) || fread(raw, (size_t)es, (size_t)(B * W), fp) != (size_t)(B * W))
            s = hs_errorf(HS_ERR_IO, "%s: cannot read its first %lld rows", tokens_path, (long long)B);
        if (fp) fclose(fp);
    }
    const char *src = tokens ? (const char *)tokens->data : raw;
    for (int64_t r = 0; !s && r < B; r++)
        for (int c = 0; c < T; c++) {   /* ids outside int32 become −1: hs_forward_run refuses them */
            int64_t v = es == 8 ? ((const int64_t *)src)[r * W + c] : ((const int32_t *)src)[r * W + c];
            ids[r * T + c] = v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
        }
    if (!s) s = hs_compute_compare(m, ids, (int)B, T, sp->compute, out);
    free(raw);
    free(ids);
    return s;
}

hs_status hs_scan_record_inputs(hs_scan_result *r, const hs_scan_params *sp, const hs_scan_inputs *in) {
    if (!r || !sp || !in) return hs_errorf(HS_ERR_INVALID_ARG, "hs_scan_record_inputs: NULL argument");
    char *text;
    hs_status s = hs_scan_inputs_json(sp, in, r->T, &text);
    if (s) return s;
    s = hs_scan_set_manifest_extra(r, text);
    free(text);
    return s;
}
