/* scan_write.c — writes a scan's outputs into a folder, all or nothing.
 *
 * Every file is first written completely (and fsynced) under a hidden temporary name
 * ".<name>.tmp.<pid>" in the output folder; only when all of them succeeded are they
 * renamed to their final names. Any failure (unwritable folder, full disk) removes
 * the temporaries, so no file of this scan appears under a final name.
 */
#define _GNU_SOURCE
#include "analysis/scan_internal.h"
#include "data/data_internal.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 32

typedef struct out_set {
    const char *dir;
    int n;
    char *final[MAX_FILES], *tmp[MAX_FILES];
    bool keep[MAX_FILES];   /* a caller's file: its temporary stays when the write fails */
} out_set;

static hs_status add_name(out_set *o, const char *name, char **tmp_out) {
    char tname[256];
    snprintf(tname, sizeof tname, ".%s.tmp.%ld", name, (long)getpid());
    o->final[o->n] = hs_path_join(o->dir, name);
    o->tmp[o->n] = hs_path_join(o->dir, tname);
    if (!o->final[o->n] || !o->tmp[o->n]) {
        free(o->final[o->n]);
        free(o->tmp[o->n]);
        return HS_ERR_NOMEM;
    }
    *tmp_out = o->tmp[o->n++];
    return HS_OK;
}

static hs_status put_npy(out_set *o, const char *name, hs_dtype dt, int ndim, const int64_t *shape, const void *data) {
    char *tmp;
    hs_status s = add_name(o, name, &tmp);
    if (s) return s;
    s = hs_npy_write(tmp, dt, ndim, shape, data);
    return s ? hs_error_prefix(s, "writing %s", name) : HS_OK;
}

static hs_status put_text(out_set *o, const char *name, const char *text) {
    char *tmp;
    hs_status s = add_name(o, name, &tmp);
    if (s) return s;
    s = hs_write_file_atomic(tmp, text, strlen(text));
    return s ? hs_error_prefix(s, "writing %s", name) : HS_OK;
}

static void cleanup(out_set *o, bool remove_tmp) {
    for (int i = 0; i < o->n; i++) {
        if (remove_tmp && !o->keep[i]) unlink(o->tmp[i]);
        free(o->final[i]);
        free(o->tmp[i]);
    }
    o->n = 0;
}

/* JSON number, or null for NaN/inf (JSON has neither). */
static cJSON *num(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }

static char *fmt_g9(char *buf, size_t n, float x) {
    if (isnan(x)) snprintf(buf, n, "nan");
    else if (isinf(x)) snprintf(buf, n, x > 0 ? "inf" : "-inf");
    else snprintf(buf, n, "%.9g", (double)x);
    return buf;
}

static char *table_csv(const hs_scan_result *r) {
    const int G = r->L * r->H;
    size_t cap = (size_t)(G + 1) * HS_SCAN_NCOLS * 24 + 256, len = 0;
    char *s = hs_malloc(cap);
    if (!s) return NULL;
    for (int i = 0; i < HS_SCAN_NCOLS; i++) len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", hs_scan_column_name(i));
    len += (size_t)snprintf(s + len, cap - len, "\n");
    for (int k = 0; k < G; k++) {
        int g = r->order[k];
        len += (size_t)snprintf(s + len, cap - len, "L%dH%d,%d,%d", g / r->H, g % r->H, g / r->H, g % r->H);
        for (int c = 0; c < HS_SCAN_NMETRICS; c++) {
            char b[32];
            len += (size_t)snprintf(s + len, cap - len, ",%s", fmt_g9(b, sizeof b, r->table[(size_t)g * HS_SCAN_NMETRICS + c]));
        }
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    return s;
}

static char *table_json(const hs_scan_result *r) {
    const int G = r->L * r->H;
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < G; k++) {
        int g = r->order[k];
        cJSON *o = cJSON_CreateObject();
        char lab[32];
        snprintf(lab, sizeof lab, "L%dH%d", g / r->H, g % r->H);
        cJSON_AddStringToObject(o, "label", lab);
        cJSON_AddNumberToObject(o, "L", g / r->H);
        cJSON_AddNumberToObject(o, "H", g % r->H);
        for (int c = 0; c < HS_SCAN_NMETRICS; c++)
            cJSON_AddItemToObject(o, hs_scan_column_name(3 + c), num(r->table[(size_t)g * HS_SCAN_NMETRICS + c]));
        cJSON_AddItemToArray(arr, o);
    }
    char *s = cJSON_Print(arr);
    cJSON_Delete(arr);
    return s;
}

static char *quantiles_json(const hs_scan_result *r) {
    const int G = r->L * r->H;
    cJSON *root = cJSON_CreateObject();
    cJSON *labels = cJSON_CreateArray();
    for (int g = 0; g < G; g++) {
        char lab[32];
        snprintf(lab, sizeof lab, "L%dH%d", g / r->H, g % r->H);
        cJSON_AddItemToArray(labels, cJSON_CreateString(lab));
    }
    cJSON_AddItemToObject(root, "heads", labels);
    cJSON_AddStringToObject(root, "note", "each table: levels [k] (float32) and values [k][heads] = torch.quantile of the "
                                          "flat [L*H, N*(T-1)] arrays (c = b*(T-1) + p); *_noind keep columns with "
                                          "induction_mask false; ratio = mover_dla / head_dla elementwise");
    cJSON_AddNumberToObject(root, "non_induction_columns", (double)r->non_induction_cols);
    cJSON *tabs = cJSON_CreateObject();
    for (int i = 0; i < r->n_quantiles; i++) {
        const hs_scan_quantiles *q = r->quantiles + i;
        cJSON *t = cJSON_CreateObject();
        cJSON *lv = cJSON_CreateArray(), *vals = cJSON_CreateArray();
        for (int k = 0; k < q->k; k++) {
            cJSON_AddItemToArray(lv, cJSON_CreateNumber(q->levels[k]));
            cJSON *row = cJSON_CreateArray();
            for (int g = 0; g < G; g++) cJSON_AddItemToArray(row, num(q->values[(size_t)k * G + g]));
            cJSON_AddItemToArray(vals, row);
        }
        cJSON_AddItemToObject(t, "levels", lv);
        cJSON_AddItemToObject(t, "values", vals);
        cJSON_AddItemToObject(tabs, q->name, t);
    }
    cJSON_AddItemToObject(root, "tables", tabs);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

cJSON *hs_scan_model_json(const char *model_dir) {
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "path", model_dir);
    char cfgp[4096], hex[65];
    const char *files[] = {"config.json", "model.safetensors", "model.safetensors.index.json", "tokenizer.json"};
    cJSON *hashes = cJSON_AddObjectToObject(model, "sha256");
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(cfgp, sizeof cfgp, "%s/%s", model_dir, files[i]);
        if (access(cfgp, R_OK) == 0 && hs_data_sha256_file(cfgp, hex) == HS_OK) cJSON_AddStringToObject(hashes, files[i], hex);
        else hs_error_clear();
    }
    return model;
}

static char *manifest_json(const hs_scan_result *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "headscan_version", hs_version());
    cJSON_AddItemToObject(root, "model", hs_scan_model_json(r->model_dir));
    char hex[65];
    cJSON *ds = cJSON_AddObjectToObject(root, "tokens");
    cJSON_AddNumberToObject(ds, "prompts", r->N);
    cJSON_AddNumberToObject(ds, "n_ctx", r->T);
    cJSON_AddNumberToObject(ds, "prompts_asked", (double)r->prompts_asked);
    cJSON_AddBoolToObject(ds, "prompts_short", r->prompts_short);
    if (!r->tokens.data && r->tokens_sha256[0]) cJSON_AddStringToObject(ds, "sha256_int64_le", r->tokens_sha256);
    else if (r->tokens.data && hs_data_sha256(r->tokens.data, sizeof(int64_t) * (size_t)r->N * r->T, hex) == HS_OK)
        cJSON_AddStringToObject(ds, "sha256_int64_le", hex);
    cJSON *ind = cJSON_AddObjectToObject(root, "induction");
    cJSON_AddBoolToObject(ind, "replayed", r->ind_replayed);
    if (!r->ind_replayed) {
        cJSON_AddNumberToObject(ind, "seed", (double)r->ind_seed);
        cJSON_AddStringToObject(ind, "generator", "SplitMix64(seed), Lemire unbiased bounded ints, row-major");
    }
    if (r->ind_tokens.ndim == 2) {
        cJSON_AddNumberToObject(ind, "batch", (double)r->ind_tokens.shape[0]);
        cJSON_AddNumberToObject(ind, "seq_len", (double)((r->ind_tokens.shape[1] - 1) / 2));
    }
    cJSON *st = cJSON_AddObjectToObject(root, "statistics");
    cJSON_AddNumberToObject(st, "movable_positions", (double)r->movable);
    cJSON_AddNumberToObject(st, "mean_is_movable", r->mean_is_movable);
    cJSON_AddNumberToObject(st, "mean_not_induction", r->mean_not_induction);
    cJSON_AddNumberToObject(st, "non_induction_columns", (double)r->non_induction_cols);
    cJSON *fc = cJSON_AddArrayToObject(st, "frac_copy_argmax_count");
    for (int g = 0; g < r->L * r->H; g++) cJSON_AddItemToArray(fc, cJSON_CreateNumber((double)r->frac_copy_count[g]));
    cJSON *ec = cJSON_AddObjectToObject(root, "eigenvalue_conditioning");
    cJSON_AddStringToObject(ec, "rule", "a score Σλ/Σ|λ| is ill-conditioned (rounding noise) when its Σ|λ| "
                                        "(head table *_abs_sum) < rel × the median head's Σ|λ| (lower middle value)");
    cJSON_AddNumberToObject(ec, "rel", HS_EIG_ILL_REL);
    const struct { const char *name; const float *abs; double thr; } eg[2] = {
        {"eigenvals_resid", r->eig_resid_abs, r->eig_resid_ill_below}, {"eigenvals_vocab", r->eig_vocab_abs, r->eig_vocab_ill_below}};
    for (int e = 0; e < 2; e++) {
        cJSON *o = cJSON_AddObjectToObject(ec, eg[e].name);
        cJSON_AddItemToObject(o, "threshold", num(eg[e].thr));
        cJSON *ill = cJSON_AddArrayToObject(o, "ill_conditioned");
        for (int g = 0; g < r->L * r->H; g++)
            if ((double)eg[e].abs[g] < eg[e].thr) {
                char lab[32];
                snprintf(lab, sizeof lab, "L%dH%d", g / r->H, g % r->H);
                cJSON_AddItemToArray(ill, cJSON_CreateString(lab));
            }
    }
    cJSON_AddStringToObject(root, "sort", r->sort_col >= 0 ? hs_scan_column_name(r->sort_col) : "none");
    cJSON *tm = cJSON_AddObjectToObject(root, "timings_s");
    cJSON_AddNumberToObject(tm, "forward_metrics", r->t_forward);
    cJSON_AddNumberToObject(tm, "quantiles", r->t_quantiles);
    cJSON_AddNumberToObject(tm, "induction", r->t_induction);
    cJSON_AddNumberToObject(tm, "eigenvalues", r->t_eigen);
    cJSON_AddNumberToObject(tm, "frac_copy_argmax", r->t_frac);
    cJSON_AddNumberToObject(tm, "total", r->t_total);
    cJSON_AddNumberToObject(root, "peak_rss_bytes", (double)r->peak_rss);
    cJSON_AddNumberToObject(root, "threads", hs_get_num_threads());
    if (r->manifest_extra) {
        cJSON *ex = cJSON_Parse(r->manifest_extra);
        if (ex && cJSON_IsObject(ex)) {
            cJSON *it = ex->child;
            while (it) {
                cJSON *next = it->next;
                cJSON_DetachItemViaPointer(ex, it);
                cJSON_DeleteItemFromObject(root, it->string);
                cJSON_AddItemToObject(root, it->string, it);
                it = next;
            }
        }
        cJSON_Delete(ex);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

hs_status hs_scan_write(const hs_scan_result *r, const char *dir) { return hs_scan_write_ex(r, dir, NULL, 0); }

hs_status hs_scan_write_ex(const hs_scan_result *r, const char *dir, const hs_scan_publish *extra, int n_extra) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return hs_errorf(HS_ERR_IO, "%s: cannot create the output folder: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return hs_errorf(HS_ERR_IO, "%s: not a folder", dir);
    if (access(dir, W_OK) != 0) return hs_errorf(HS_ERR_IO, "%s: the output folder is not writable: %s", dir, strerror(errno));
    out_set o = {.dir = dir};
    const int64_t L = r->L, H = r->H, N = r->N, P = r->T - 1;
    const int64_t s4[4] = {L, H, N, P}, s2[2] = {N, P}, sg[2] = {L, H};
    hs_status s = HS_OK;
    char *csv = table_csv(r), *tj = table_json(r), *qj = quantiles_json(r), *mj = manifest_json(r);
    if (!csv || !tj || !qj || !mj) s = hs_errorf(HS_ERR_NOMEM, "out of memory formatting the outputs");
    for (int i = 0; !s && i < n_extra && o.n < MAX_FILES; i++) {   /* finished by the caller (a streaming scan's arrays) */
        o.final[o.n] = hs_strdup(extra[i].final);
        o.tmp[o.n] = hs_strdup(extra[i].tmp);
        o.keep[o.n++] = true;
        if (!o.final[o.n - 1] || !o.tmp[o.n - 1]) s = HS_ERR_NOMEM;
    }
    /* per-token arrays held in memory (a streaming scan's are among the extra files) */
    if (!s && r->head_dla) s = put_npy(&o, "head_dla.npy", HS_F32, 4, s4, r->head_dla);
    if (!s && r->mover_attn) s = put_npy(&o, "mover_attn.npy", HS_F32, 4, s4, r->mover_attn);
    if (!s && r->mover_dla) s = put_npy(&o, "mover_dla.npy", HS_F32, 4, s4, r->mover_dla);
    if (!s && r->loss) s = put_npy(&o, "loss.npy", HS_F32, 2, s2, r->loss);
    if (!s && r->num_copies) s = put_npy(&o, "num_copies.npy", HS_I64, 2, s2, r->num_copies);
    if (!s && r->induction_mask) s = put_npy(&o, "induction_mask.npy", HS_BOOL, 2, s2, r->induction_mask);
    if (!s) s = put_npy(&o, "induction_scores.npy", HS_F32, 2, sg, r->induction);
    if (!s) s = put_npy(&o, "eigenvals_vocab.npy", HS_F32, 2, sg, r->eig_vocab);
    if (!s) s = put_npy(&o, "eigenvals_resid.npy", HS_F32, 2, sg, r->eig_resid);
    if (!s) s = put_npy(&o, "frac_copy_argmax.npy", HS_F32, 2, sg, r->frac_copy_argmax);
    if (!s) s = put_npy(&o, "frac_copy_argmax_count.npy", HS_I64, 2, sg, r->frac_copy_count);
    if (!s && r->ind_tokens.ndim == 2) s = put_npy(&o, "ind_tokens.npy", HS_I64, 2, r->ind_tokens.shape, r->ind_tokens.data);
    if (!s && r->tokens.data) s = put_npy(&o, "tokens.npy", HS_I64, 2, r->tokens.shape, r->tokens.data);
    if (!s) s = put_text(&o, "quantiles.json", qj);
    if (!s) s = put_text(&o, "manifest.json", mj);
    if (!s) s = put_text(&o, "head_table.json", tj);
    if (!s) s = put_text(&o, "head_table.csv", csv);
    free(csv); free(tj); free(qj); free(mj);
    if (s) {
        cleanup(&o, true);
        return s;
    }
    /* all complete: publish (the head table last, so its presence means a whole scan); a
     * signal waits until every file is in place */
    hs_signals_defer();
    for (int i = 0; i < o.n; i++)
        if (rename(o.tmp[i], o.final[i]) != 0) {
            s = hs_errorf(HS_ERR_IO, "%s: cannot rename into place: %s", o.final[i], strerror(errno));
            for (int k = 0; k < i; k++) unlink(o.final[k]);
            break;
        }
    hs_signals_resume();
    cleanup(&o, s != HS_OK);
    return s;
}

hs_status hs_scan_manifest_json(const hs_scan_result *r, char **out) {
    if (!r || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_scan_manifest_json: NULL argument");
    *out = manifest_json(r);
    return *out ? HS_OK : hs_errorf(HS_ERR_NOMEM, "out of memory formatting the manifest");
}
