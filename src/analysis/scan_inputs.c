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
    cJSON *tl = cJSON_AddObjectToObject(root, "timings_load_s");
    cJSON_AddNumberToObject(tl, "model", round(in->t_load_model * 1e3) / 1e3);   /* ms */
    cJSON_AddNumberToObject(tl, "tokens", round(in->t_load_tokens * 1e3) / 1e3);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return hs_errorf(HS_ERR_NOMEM, "out of memory recording the scan's inputs");
    *out = text;
    return HS_OK;
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
