/* scan.c — `headscan scan`: the study's per-token metrics streamed batch by batch
 * from forward hooks, then the quantile tables, induction and copying scores, and
 * the head table (analysis.md §1-§12).
 *
 * Per batch (B prompts of T tokens, P = T − 1 scored positions):
 *   - the next-token ids of the batch are deduplicated (U ≤ B·P) and, per layer,
 *     G[u, h·D + d] = W_OU[l, h, d, t_u] = Σ_m W_O[l, h, d, m] W_U[m, t_u] is formed
 *     from the U gathered unembedding columns ([U, H·D], one sgemm) — W_OU itself
 *     ([L, H, D, V], 618 MB for Pythia-70m) is never built;
 *   - copies[b, p] = { j ≤ p : tok[b, j] == tok[b, p+1] } (CSR) gives num_copies,
 *     the induction mask (some j ≥ 1 in copies with tok[b, j−1] == tok[b, p]) and the
 *     only non-zero terms of the mover sums;
 *   - hook_v is copied (it arrives before hook_pattern); hook_pattern gives
 *     mover_attn = Σ_{j∈copies} pattern[p, j] and the unscaled mover DLA
 *     Σ_d (Σ_{j∈copies} pattern[p, j] v[j, d]) G[u, d]; hook_z gives the unscaled head
 *     DLA Σ_d z[p, d] G[u, d]; both are divided by ln_final.hook_scale when it arrives
 *     after the last layer. Sums run in double, results are rounded to float32.
 */
#include "analysis/scan_internal.h"
#include "model/model_access.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *const col_names[HS_SCAN_NCOLS] = {
    "label", "L", "H", "head_dla", "mover_attn", "mover_dla", "dla_ratio", "induction", "eigenvals_vocab",
    "eigenvals_resid", "frac_copy_argmax", "head_dla_no_ind", "mover_attn_no_ind", "mover_dla_no_ind", "ratio_dla_no_ind",
    "eigenvals_resid_abs_sum", "eigenvals_vocab_abs_sum"};

const char *hs_scan_column_name(int i) { return i >= 0 && i < HS_SCAN_NCOLS ? col_names[i] : NULL; }

hs_scan_params hs_scan_default_params(void) {
    return (hs_scan_params){.prompts = 288, .batch = 32, .quantile = 0.9f, .no_ind_quantile = 0.95f, .ind_seed = 0,
                            .ind_batch = 16, .ind_seq_len = 200, .ind_pool_lo = 1000, .ind_pool_hi = 9999,
                            .sort = "mover_dla_no_ind"};
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ per-batch state */
typedef struct batch_ctx {
    int L, H, D, M, V, HD;
    int KV;                       /* KV groups: query head h reads hook_v's group h / (H / KV) */
    int B, T, P, N;               /* this batch: B rows of T tokens (P scored positions) */
    const int32_t *tok;           /* [B, T] */
    int U;
    int32_t *uniq;                /* [U] token ids: the batch's next tokens, once each */
    int32_t *tidx;                /* [B·T] index into uniq of each token (−1: no next token equals it);
                                     position p's next token is tidx[b·T + p + 1] */
    double *vg;                   /* [B·H, T] v_j · W_OU[:, tok[j]] of layer vg_layer (hook_v) */
    int vg_layer;
    float *WUg;                   /* [U, M] gathered W_U columns */
    float *G;                     /* [U, HD] W_OU columns of the current layer */
    int G_layer;
    int32_t *cp_off, *cp_j;       /* CSR of copies: [B·P + 1], entries */
    double *hd, *md;              /* unscaled head / mover DLA [L, H, B, P] */
    const float *const *WO;       /* [L] → [H·D, M] */
    const hs_model *m;            /* W_U's columns are gathered from it (no float32 W_U is made) */
    hs_scan_batch_out o;          /* where this batch's per-token results go */
    bool scaled;
} batch_ctx;

static void layer_G(batch_ctx *c, int l) {
    if (c->G_layer == l) return;
    /* G [U, HD] = WUg [U, M] @ W_O[l]^T ([HD, M] row-major) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->U, c->HD, c->M, 1.0f, c->WUg, c->M, c->WO[l], c->M, 0.0f, c->G,
                c->HD);
    c->G_layer = l;
}

static const char *hook_suffix(const hs_hook_tensor *t) {
    if (t->layer < 0) return t->name;
    const char *s = strchr(t->name + 7, '.');   /* "blocks.L." */
    return s ? s + 1 : t->name;
}

static bool scan_hook(const hs_hook_tensor *t, bool ask, void *user) {
    batch_ctx *c = user;
    const char *sfx = hook_suffix(t);
    const bool is_v = t->layer >= 0 && !strcmp(sfx, "attn.hook_v");
    const bool is_pat = t->layer >= 0 && !strcmp(sfx, "attn.hook_pattern");
    const bool is_z = t->layer >= 0 && !strcmp(sfx, "attn.hook_z");
    const bool is_scale = t->layer < 0 && !strcmp(sfx, "ln_final.hook_scale");
    if (ask) return is_v || is_pat || is_z || is_scale;
    const int B = c->B, T = c->T, P = c->P, H = c->H, D = c->D, HD = c->HD, l = t->layer;
    const size_t NP = c->o.head_stride;   /* floats from one head's rows to the next head's */
    if (is_v) {
        /* fz · W_OU[:, t] = Σ_j pattern[p, j] · (v_j · W_OU[:, t]) over the copies j of t =
           tok[p+1], and there tok[j] = t: the dot vg[j] = v_j · W_OU[:, tok[j]] depends on j
           alone, so it is made once per key here and each query of the pattern hook sums
           pattern-weighted dots (in double, as fz) */
        layer_G(c, l);
        #pragma omp parallel for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            int b = bh / H, h = bh % H;
            double *vg = c->vg + (size_t)bh * T;
            for (int j = 0; j < P; j++) {
                const int32_t u = c->tidx[b * T + j];
                if (u < 0) continue;
                const float *vj = t->data + ((size_t)(b * T + j) * c->KV + h / (H / c->KV)) * D;
                const float *g = c->G + (size_t)u * HD + h * D;
                double s = 0;
                for (int d = 0; d < D; d++) s += (double)vj[d] * g[d];
                vg[j] = s;
            }
        }
        c->vg_layer = l;
    } else if (is_pat) {
        if (c->vg_layer != l) return false;   /* hook_v of this layer not seen: stop (an internal error below) */
        layer_G(c, l);
        #pragma omp parallel for schedule(dynamic, 1)
        for (int bh = 0; bh < B * H; bh++) {
            int b = bh / H, h = bh % H;
            const float *pat = t->data + (size_t)bh * T * T;
            float *ma = c->o.mover_attn + (size_t)(l * H + h) * NP + (size_t)b * P;
            double *md = c->md + ((size_t)(l * H + h) * B + b) * P;
            const double *vg = c->vg + (size_t)bh * T;
            for (int p = 0; p < P; p++) {
                const int32_t *J = c->cp_j + c->cp_off[b * P + p];
                const int nj = c->cp_off[b * P + p + 1] - c->cp_off[b * P + p];
                double sa = 0, s = 0;
                for (int q = 0; q < nj; q++) {
                    const double w = pat[(size_t)p * T + J[q]];
                    sa += w;
                    s += w * vg[J[q]];
                }
                ma[p] = (float)sa;
                md[p] = s;
            }
        }
    } else if (is_z) {
        layer_G(c, l);
        #pragma omp parallel for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            int b = bh / H, h = bh % H;
            double *hd = c->hd + ((size_t)(l * H + h) * B + b) * P;
            for (int p = 0; p < P; p++) {
                const float *z = t->data + ((size_t)(b * T + p) * H + h) * D;
                const float *g = c->G + (size_t)c->tidx[b * T + p + 1] * HD + h * D;
                double s = 0;
                for (int d = 0; d < D; d++) s += (double)z[d] * g[d];
                hd[p] = s;
            }
        }
    } else if (is_scale) {
        const float *sc = t->data;   /* [B, T, 1] */
        #pragma omp parallel for schedule(static)
        for (int g = 0; g < c->L * H; g++)
            for (int b = 0; b < B; b++) {
                const double *hd = c->hd + ((size_t)g * B + b) * P, *md = c->md + ((size_t)g * B + b) * P;
                float *ho = c->o.head_dla + (size_t)g * NP + (size_t)b * P;
                float *mo = c->o.mover_dla + (size_t)g * NP + (size_t)b * P;
                for (int p = 0; p < P; p++) {
                    const double s = sc[b * T + p];
                    ho[p] = (float)(hd[p] / s);
                    mo[p] = (float)(md[p] / s);
                }
            }
        c->scaled = true;
    }
    return true;
}

/* Dedup of the next tokens, copies CSR, num_copies and the induction mask of one batch. */
static hs_status batch_prepare(batch_ctx *c, int32_t *seen /* [V], all -1 */) {
    const int B = c->B, T = c->T, P = c->P;
    const int32_t *tok = c->tok;
    c->U = 0;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < P; p++) {
            int32_t t = tok[b * T + p + 1];
            if (seen[t] < 0) { seen[t] = c->U; c->uniq[c->U++] = t; }
        }
    for (int i = 0; i < B * T; i++) c->tidx[i] = seen[tok[i]];
    for (int u = 0; u < c->U; u++) seen[c->uniq[u]] = -1;
    /* count, then fill */
    int64_t total = 0;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < P; p++) {
            int32_t t = tok[b * T + p + 1], n = 0;
            for (int j = 0; j <= p; j++) n += tok[b * T + j] == t;
            c->cp_off[b * P + p] = (int32_t)total;
            total += n;
        }
    c->cp_off[B * P] = (int32_t)total;
    if (total > INT32_MAX) return hs_errorf(HS_ERR_NOMEM, "too many repeated tokens in one batch");
    int32_t *cj = hs_malloc(sizeof(int32_t) * (size_t)(total ? total : 1));
    if (!cj) return HS_ERR_NOMEM;
    free(c->cp_j);
    c->cp_j = cj;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < P; p++) {
            const int32_t *row = tok + b * T;
            int32_t t = row[p + 1], k = c->cp_off[b * P + p];
            bool ind = false;
            for (int j = 0; j <= p; j++)
                if (row[j] == t) {
                    cj[k++] = j;
                    /* bigram (row[j-1], row[j]) == (row[p], row[p+1]) with j−1 < p */
                    if (j >= 1 && row[j - 1] == row[p]) ind = true;
                }
            size_t o = (size_t)b * P + p;
            c->o.num_copies[o] = c->cp_off[b * P + p + 1] - c->cp_off[b * P + p];
            c->o.induction_mask[o] = ind;
        }
    /* gathered unembedding columns WUg [U, M] */
    #pragma omp parallel for schedule(static)
    for (int u = 0; u < c->U; u++)
        hs_model_vocab_rows(c->m, true, c->uniq[u], 1, c->WUg + (size_t)u * c->M);
    c->G_layer = -1;
    return HS_OK;
}

/* ------------------------------------------------------------------ result */
void hs_scan_result_free(hs_scan_result *r) {
    if (!r) return;
    hs_array_free(&r->tokens);
    hs_array_free(&r->ind_tokens);
    free(r->head_dla); free(r->mover_attn); free(r->mover_dla); free(r->loss); free(r->num_copies);
    free(r->induction_mask); free(r->induction); free(r->eig_vocab); free(r->eig_resid); free(r->frac_copy_argmax);
    free(r->eig_vocab_abs); free(r->eig_resid_abs);
    free(r->frac_copy_count); free(r->table); free(r->order);
    for (int i = 0; i < r->n_quantiles; i++) free(r->quantiles[i].values);
    free(r->quantiles);
    free(r->model_dir);
    free(r->manifest_extra);
    free(r);
}

hs_status hs_scan_set_manifest_extra(hs_scan_result *r, const char *json_object) {
    char *s = json_object ? hs_strdup(json_object) : NULL;
    if (json_object && !s) return HS_ERR_NOMEM;
    free(r->manifest_extra);
    r->manifest_extra = s;
    return HS_OK;
}

static const float LEVELS13[13] = {0.0f, 1e-3f, 1e-2f, 5e-2f, 1e-1f, 0.25f, 0.5f, 0.75f, 0.9f, 0.95f, 0.99f, 0.999f, 1.0f};
static const float LEVELS4[4] = {0.8f, 0.9f, 0.95f, 0.99f};

/* Names, levels and storage of the quantile tables (analysis.md §7, §11, §12): per array
 * a (head_dla, mover_attn, mover_dla, ratio) six tables at a·6 + {0 q, 1 q_noind, 2 13 all,
 * 3 13 noind, 4 4 all, 5 4 noind}, then mover_over_head. */
hs_status hs_scan_quantiles_init(hs_scan_result *r, const hs_scan_params *p) {
    const int G = r->L * r->H;
    static const char *const names[4] = {"head_dla", "mover_attn", "mover_dla", "ratio"};
    r->n_quantiles = 4 * 6 + 1;
    r->quantiles = hs_calloc((size_t)r->n_quantiles, sizeof *r->quantiles);
    if (!r->quantiles) return HS_ERR_NOMEM;
    for (int a = 0; a < 4; a++) {
        hs_scan_quantiles *t = r->quantiles + a * 6;
        const float *lv[6] = {&p->quantile, &p->no_ind_quantile, LEVELS13, LEVELS13, LEVELS4, LEVELS4};
        const int k[6] = {1, 1, 13, 13, 4, 4};
        for (int i = 0; i < 6; i++) {
            t[i].k = k[i];
            memcpy(t[i].levels, lv[i], sizeof(float) * (size_t)k[i]);
            t[i].values = hs_malloc(sizeof(float) * (size_t)k[i] * G);
            if (!t[i].values) return HS_ERR_NOMEM;
        }
        snprintf(t[0].name, sizeof t[0].name, "q%g_%s", 100.0 * p->quantile, names[a]);
        snprintf(t[1].name, sizeof t[1].name, "q%g_noind_%s", 100.0 * p->no_ind_quantile, names[a]);
        snprintf(t[2].name, sizeof t[2].name, "quantiles13_%s_all", names[a]);
        snprintf(t[3].name, sizeof t[3].name, "quantiles13_%s_noind", names[a]);
        snprintf(t[4].name, sizeof t[4].name, "quantiles4_%s_all", names[a]);
        snprintf(t[5].name, sizeof t[5].name, "quantiles4_%s_noind", names[a]);
    }
    hs_scan_quantiles *mh = r->quantiles + 24;
    snprintf(mh->name, sizeof mh->name, "mover_over_head_q%g", 100.0 * p->quantile);
    mh->k = 1;
    mh->levels[0] = p->quantile;
    mh->values = hs_malloc(sizeof(float) * (size_t)G);
    return mh->values ? HS_OK : HS_ERR_NOMEM;
}

/* The level sets of one selection (all or noind): tables a·6 + sel + {0, 2, 4}. */
int hs_scan_quantile_ranks(const hs_scan_result *r, bool noind, int64_t n, bool has_nan, int64_t *ranks) {
    int k = 0;
    for (int i = noind; i < 6; i += 2) {
        const hs_scan_quantiles *t = r->quantiles + i;
        for (int j = 0; j < t->k; j++) {
            int64_t lo, hi;
            float w;
            hs_quantile_pos(n, has_nan, t->levels[j], &lo, &hi, &w);
            ranks[k++] = lo;
            ranks[k++] = hi;
        }
    }
    return k;
}

void hs_scan_quantiles_fill(hs_scan_result *r, int a, int g, bool noind, int64_t n, bool has_nan, hs_order_stat at, void *ctx) {
    const int G = r->L * r->H;
    for (int i = noind; i < 6; i += 2) {
        hs_scan_quantiles *t = r->quantiles + a * 6 + i;
        for (int j = 0; j < t->k; j++) {
            if (n == 0) { t->values[(size_t)j * G + g] = NAN; continue; }   /* torch.quantile of an empty row fails; we report NaN */
            int64_t lo, hi;
            float w;
            hs_quantile_pos(n, has_nan, t->levels[j], &lo, &hi, &w);
            t->values[(size_t)j * G + g] = hs_quantile_lerp(at(lo, ctx), at(hi, ctx), w);
        }
    }
}

static float sorted_at(int64_t k, void *ctx) { return ((const float *)ctx)[k]; }

/* Quantile tables on the four flat arrays [L·H, N·P] held in memory. */
static hs_status quantile_tables(hs_scan_result *r, const hs_scan_params *p) {
    const int G = r->L * r->H;
    const int64_t NP = (int64_t)r->N * (r->T - 1);
    int64_t nk = 0;
    for (int64_t c = 0; c < NP; c++) nk += !r->induction_mask[c];
    r->non_induction_cols = nk;
    hs_status s = hs_scan_quantiles_init(r, p);
    float *row = hs_malloc(sizeof(float) * (size_t)(NP ? NP : 1)), *sel = hs_malloc(sizeof(float) * (size_t)(NP ? NP : 1));
    if (!s && (!row || !sel)) s = HS_ERR_NOMEM;
    for (int a = 0; a < 4 && !s; a++)
        for (int g = 0; g < G; g++) {
            if (a < 3) {
                const float *src = (a == 0 ? r->head_dla : a == 1 ? r->mover_attn : r->mover_dla) + (size_t)g * NP;
                memcpy(row, src, sizeof(float) * (size_t)NP);
            } else {
                const float *m = r->mover_dla + (size_t)g * NP, *h = r->head_dla + (size_t)g * NP;
                for (int64_t c = 0; c < NP; c++) row[c] = m[c] / h[c];   /* IEEE: x/0 = ±inf, 0/0 = NaN */
            }
            int64_t n = 0;
            for (int64_t c = 0; c < NP; c++) if (!r->induction_mask[c]) sel[n++] = row[c];
            hs_quantile_sort(row, NP);
            hs_scan_quantiles_fill(r, a, g, false, NP, isnan(row[NP - 1]), sorted_at, row);
            if (n > 0) hs_quantile_sort(sel, n);
            hs_scan_quantiles_fill(r, a, g, true, n, n > 0 && isnan(sel[n - 1]), sorted_at, sel);
        }
    free(row);
    free(sel);
    return s;
}

static void build_table(hs_scan_result *r) {
    const int G = r->L * r->H;
    /* quantile table indices: array a (0 head, 1 mover_attn, 2 mover_dla, 3 ratio) × 6 */
    for (int g = 0; g < G; g++) {
        float *t = r->table + (size_t)g * HS_SCAN_NMETRICS;
        for (int a = 0; a < 4; a++) {
            t[a] = r->quantiles[a * 6 + 0].values[g];
            t[8 + a] = r->quantiles[a * 6 + 1].values[g];
        }
        t[4] = r->induction[g];
        t[5] = r->eig_vocab[g];
        t[6] = r->eig_resid[g];
        t[7] = r->frac_copy_argmax[g];
        t[12] = r->eig_resid_abs[g];
        t[13] = r->eig_vocab_abs[g];
    }
    /* stable sort by the key, descending, NaN last (insertion sort: G is small) */
    const int k = r->sort_col - 3;
    for (int g = 0; g < G; g++) r->order[g] = g;
    if (k < 0) return;
    for (int i = 1; i < G; i++) {
        int x = r->order[i], j = i;
        float kx = r->table[(size_t)x * HS_SCAN_NMETRICS + k];
        while (j > 0) {
            float ky = r->table[(size_t)r->order[j - 1] * HS_SCAN_NMETRICS + k];
            bool before = !isnan(kx) && (isnan(ky) || kx > ky);
            if (!before) break;
            r->order[j] = r->order[j - 1];
            j--;
        }
        r->order[j] = x;
    }
}


/* mover_over_head, the eigenvalue scores' conditioning thresholds, then the head table and its order. */
hs_status hs_scan_finish_table(hs_scan_result *r) {
    const int G = r->L * r->H;
    hs_scan_quantiles *mh = r->quantiles + 24;
    for (int g = 0; g < G; g++) mh->values[g] = r->quantiles[12].values[g] / r->quantiles[0].values[g];
    hs_status s = hs_eig_ill_threshold(r->eig_resid_abs, (int64_t)G, &r->eig_resid_ill_below);
    if (!s) s = hs_eig_ill_threshold(r->eig_vocab_abs, (int64_t)G, &r->eig_vocab_ill_below);
    if (!s) build_table(r);
    return s;
}

size_t hs_scan_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024;
}

double hs_scan_now(void) { return now_s(); }

/* ------------------------------------------------------------------ checks */
hs_status hs_scan_plan_make(const hs_model *m, int64_t rows, int64_t T64, hs_scan_params *p, hs_scan_plan *pl) {
    if (!p->sort) p->sort = "mover_dla_no_ind";
    const hs_model_config *cfg = hs_model_get_config(m);
    const int D = cfg->d_head;
    if (rows < 1) return hs_errorf(HS_ERR_INVALID_ARG, "the token set has no rows");
    if (T64 < 2) return hs_errorf(HS_ERR_INVALID_ARG, "sequences of %lld tokens: at least 2 are needed (one scored position)", (long long)T64);
    if (T64 > cfg->n_ctx)
        return hs_errorf(HS_ERR_INVALID_ARG, "n_ctx %lld is larger than the model's maximum context %d", (long long)T64, cfg->n_ctx);
    if (p->batch < 1) return hs_errorf(HS_ERR_INVALID_ARG, "batch size must be positive (got %d)", p->batch);
    if (p->prompts < 0) return hs_errorf(HS_ERR_INVALID_ARG, "number of prompts must be >= 0 (got %lld)", (long long)p->prompts);
    if (!(p->quantile >= 0 && p->quantile <= 1) || !(p->no_ind_quantile >= 0 && p->no_ind_quantile <= 1))
        return hs_errorf(HS_ERR_INVALID_ARG, "quantile levels must be in [0, 1] (got %g and %g)", (double)p->quantile, (double)p->no_ind_quantile);
    if (D > 1024) return hs_errorf(HS_ERR_UNSUPPORTED, "d_head %d > 1024 is not supported by the scan", D);
    if (cfg->n_layers > 64) return hs_errorf(HS_ERR_UNSUPPORTED, "more than 64 layers");
    int sort_col = -1;
    for (int i = 3; i < HS_SCAN_NCOLS; i++) if (!strcmp(p->sort, col_names[i])) sort_col = i;
    if (sort_col < 0 && strcmp(p->sort, "none") && strcmp(p->sort, "head"))
        return hs_errorf(HS_ERR_INVALID_ARG, "unknown sort column '%s' (one of the head-table metric columns, or 'none')", p->sort);
    const int T = (int)T64, P = T - 1;
    const int64_t N = p->prompts == 0 || p->prompts > rows ? rows : p->prompts;
    if ((int64_t)N * P > ((int64_t)1 << 24))
        return hs_errorf(HS_ERR_INVALID_ARG, "%lld x %d scored positions exceed torch.quantile's row limit of 2^24", (long long)N, P);
    /* induction tokens must fit the model: check before any work */
    if (!(p->skip & HS_SKIP_INDUCTION)) {
        int64_t w = p->ind_tokens ? (p->ind_tokens->ndim == 2 ? p->ind_tokens->shape[1] : 0) : 1 + 2 * (int64_t)p->ind_seq_len;
        if (!p->ind_tokens && (p->ind_batch < 1 || p->ind_seq_len < 1))
            return hs_errorf(HS_ERR_INVALID_ARG, "induction batch and length must be positive (got %d x %d)", p->ind_batch, p->ind_seq_len);
        if (w > cfg->n_ctx)
            return hs_errorf(HS_ERR_INVALID_ARG, "induction sequences of %lld tokens (1 + 2 x %lld) exceed the model's maximum context %d: "
                             "use a shorter induction length", (long long)w, (long long)((w - 1) / 2), cfg->n_ctx);
    }
    *pl = (hs_scan_plan){.L = cfg->n_layers, .H = cfg->n_heads, .T = T, .P = P, .V = cfg->d_vocab, .sort_col = sort_col,
                         .rows = rows, .N = N, .B = (int)(p->batch < N ? p->batch : N), .compute = p->compute};
    return HS_OK;
}

hs_status hs_scan_check_ids(const hs_scan_plan *pl, const int64_t *tok, int64_t nrows, int64_t row0) {
    const int T = pl->T;
    for (int64_t i = 0; i < nrows * T; i++)
        if (tok[i] < 0 || tok[i] >= pl->V)
            return hs_errorf(HS_ERR_INVALID_ARG, "token id %lld at row %lld, position %lld is outside the model's vocabulary (0..%d)",
                             (long long)tok[i], (long long)(row0 + i / T), (long long)(i % T), pl->V - 1);
    return HS_OK;
}

hs_status hs_scan_result_new(const hs_model *m, const hs_scan_plan *pl, const hs_scan_params *p, hs_scan_result **out) {
    hs_scan_result *r = hs_calloc(1, sizeof *r);
    if (!r) return HS_ERR_NOMEM;
    const size_t G = (size_t)pl->L * pl->H;
    r->L = pl->L; r->H = pl->H; r->N = (int)pl->N; r->T = pl->T;
    r->prompts_asked = p->prompts;
    r->prompts_short = p->prompts > pl->rows;
    r->sort_col = pl->sort_col;
    r->ind_seed = p->ind_seed;
    r->model_dir = hs_strdup(m && hs_model_dir(m) ? hs_model_dir(m) : "");
    r->induction = hs_malloc(sizeof(float) * G);
    r->eig_vocab = hs_malloc(sizeof(float) * G);
    r->eig_resid = hs_malloc(sizeof(float) * G);
    r->eig_vocab_abs = hs_malloc(sizeof(float) * G);
    r->eig_resid_abs = hs_malloc(sizeof(float) * G);
    r->frac_copy_argmax = hs_malloc(sizeof(float) * G);
    r->frac_copy_count = hs_malloc(sizeof(int64_t) * G);
    r->table = hs_malloc(sizeof(float) * G * HS_SCAN_NMETRICS);
    r->order = hs_malloc(sizeof(int) * G);
    if (!r->model_dir || !r->induction || !r->eig_vocab || !r->eig_resid || !r->frac_copy_argmax || !r->frac_copy_count ||
        !r->eig_vocab_abs || !r->eig_resid_abs || !r->table || !r->order) {
        hs_scan_result_free(r);
        return HS_ERR_NOMEM;
    }
    for (size_t g = 0; g < G; g++) {
        r->induction[g] = r->eig_vocab[g] = r->eig_resid[g] = r->frac_copy_argmax[g] = NAN;
        r->eig_vocab_abs[g] = r->eig_resid_abs[g] = NAN;
        r->frac_copy_count[g] = -1;
    }
    *out = r;
    return HS_OK;
}

/* ------------------------------------------------------------------ the batch loop */
struct hs_scanner {
    batch_ctx c;
    const float *WO[64];
    int32_t *tok32, *seen;
    hs_forward *f;
    int B;
    hs_compute compute;
};

void hs_scanner_free(hs_scanner *sc) {
    if (!sc) return;
    hs_forward_free(sc->f);
    batch_ctx *c = &sc->c;
    free(sc->tok32); free(sc->seen); free(c->uniq); free(c->tidx); free(c->vg); hs_aligned_free(c->WUg); hs_aligned_free(c->G);
    free(c->cp_off); free(c->cp_j); free(c->hd); free(c->md);
    free(sc);
}

hs_status hs_scanner_new(const hs_model *m, const hs_scan_plan *pl, hs_scanner **out) {
    *out = NULL;
    const hs_model_config *cfg = hs_model_get_config(m);
    const int L = cfg->n_layers, H = cfg->n_heads, D = cfg->d_head, M = cfg->d_model, V = cfg->d_vocab, HD = H * D;
    const int B = pl->B, T = pl->T, P = pl->P;
    const size_t G = (size_t)L * H;
    hs_scanner *sc = hs_calloc(1, sizeof *sc);
    if (!sc) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    for (int l = 0; l < L && !s; l++) {
        char name[64];
        hs_array a;
        snprintf(name, sizeof name, "blocks.%d.attn.W_O", l);
        if (!(s = hs_model_weight(m, name, &a))) sc->WO[l] = a.data;
    }
    const size_t Umax = (size_t)B * P < (size_t)V ? (size_t)B * P : (size_t)V;
    batch_ctx *c = &sc->c;
    *c = (batch_ctx){.L = L, .H = H, .KV = cfg->n_kv_heads, .D = D, .M = M, .V = V, .HD = HD, .T = T, .P = P, .N = (int)pl->N, .WO = sc->WO};
    sc->B = B;
    sc->compute = pl->compute;
    sc->tok32 = hs_malloc(sizeof(int32_t) * (size_t)B * T);
    sc->seen = hs_malloc(sizeof(int32_t) * (size_t)V);
    c->uniq = hs_malloc(sizeof(int32_t) * Umax);
    c->tidx = hs_malloc(sizeof(int32_t) * (size_t)B * T);
    c->vg = hs_malloc(sizeof(double) * (size_t)B * H * T);
    c->WUg = hs_aligned_alloc(sizeof(float) * Umax * M);
    c->G = hs_aligned_alloc(sizeof(float) * Umax * HD);
    c->cp_off = hs_malloc(sizeof(int32_t) * ((size_t)B * P + 1));
    c->hd = hs_malloc(sizeof(double) * G * (size_t)B * P);
    c->md = hs_malloc(sizeof(double) * G * (size_t)B * P);
    if (!s && (!sc->tok32 || !sc->seen || !c->uniq || !c->tidx || !c->vg || !c->WUg || !c->G || !c->cp_off || !c->hd || !c->md))
        s = HS_ERR_NOMEM;
    if (!s) {
        c->m = m;
        for (int i = 0; i < V; i++) sc->seen[i] = -1;
        s = hs_forward_create(m, B, T, &sc->f);
    }
    if (s) { hs_scanner_free(sc); return s; }
    *out = sc;
    return HS_OK;
}

hs_status hs_scanner_run(hs_scanner *sc, const int64_t *tok, int Bb, const hs_scan_batch_out *o) {
    batch_ctx *c = &sc->c;
    const int T = c->T;
    for (int64_t i = 0; i < (int64_t)Bb * T; i++) sc->tok32[i] = (int32_t)tok[i];
    c->B = Bb;
    c->tok = sc->tok32;
    c->o = *o;
    c->scaled = false;
    c->vg_layer = -1;
    hs_status s = batch_prepare(c, sc->seen);
    if (s) return s;
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = scan_hook;
    fp.hook_user = c;
    fp.loss = o->loss;
    fp.compute = sc->compute;
    if ((s = hs_forward_run(sc->f, sc->tok32, Bb, T, &fp)))
        return s == HS_ERR_CANCELLED ? hs_errorf(HS_ERR_INTERNAL, "the forward pass gave a layer's attn.hook_pattern before its attn.hook_v") : s;
    if (!c->scaled) return hs_errorf(HS_ERR_INTERNAL, "the forward pass did not deliver ln_final.hook_scale");
    return HS_OK;
}

/* ------------------------------------------------------------------ induction and copying scores */
hs_status hs_scan_head_metrics(const hs_model *m, const hs_scan_params *params, hs_scan_result *r) {
    const hs_scan_params p = *params;
    const hs_model_config *cfg = hs_model_get_config(m);
    const int V = cfg->d_vocab;
    hs_status s = HS_OK;
    double t0;
    /* ---- induction scores */
    if (!(p.skip & HS_SKIP_INDUCTION)) {
        t0 = now_s();
        if (p.ind_tokens) {
            const hs_array *a = p.ind_tokens;
            if (a->ndim != 2 || (a->dtype != HS_I64 && a->dtype != HS_I32))
                s = hs_errorf(HS_ERR_INVALID_ARG, "induction tokens must be a 2-D int64 array [batch, 1 + 2*seq_len]");
            else {
                int64_t n = a->shape[0] * a->shape[1];
                r->ind_tokens = (hs_array){.dtype = HS_I64, .ndim = 2, .shape = {a->shape[0], a->shape[1]}};
                r->ind_tokens.data = hs_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
                if (!r->ind_tokens.data) s = HS_ERR_NOMEM;
                for (int64_t i = 0; !s && i < n; i++)
                    ((int64_t *)r->ind_tokens.data)[i] = a->dtype == HS_I64 ? ((const int64_t *)a->data)[i] : ((const int32_t *)a->data)[i];
                r->ind_replayed = true;
            }
        } else {
            int64_t *pool = NULL, npool = 0;
            s = hs_induction_pool(p.tokenizer, V, p.ind_pool_lo, p.ind_pool_hi, &pool, &npool);
            if (!s) {   /* BOS only in column 0: a small vocabulary's pool is "every id but 0", GPT-2's BOS is the last id */
                int64_t k = 0;
                for (int64_t i = 0; i < npool; i++)
                    if (pool[i] != cfg->bos_id) pool[k++] = pool[i];
                npool = k;
                if (!npool) s = hs_errorf(HS_ERR_INVALID_ARG, "the induction token pool holds only BOS (%d)", cfg->bos_id);
            }
            if (!s) s = hs_induction_tokens(pool, npool, p.ind_batch, p.ind_seq_len, p.ind_seed, cfg->bos_id, &r->ind_tokens);
            free(pool);
        }
        if (!s) s = hs_induction_scores(m, &r->ind_tokens, r->induction);
        if (s) hs_error_prefix(s, "induction scores");
        r->t_induction = now_s() - t0;
        if (!s && p.progress && p.progress("induction", 1, 1, p.progress_user)) s = hs_errorf(HS_ERR_CANCELLED, "scan cancelled");
    }
    /* ---- copying scores */
    const bool eig = !(p.skip & HS_SKIP_EIGENVALUES), frac = !(p.skip & HS_SKIP_FRAC_COPY_ARGMAX);
    if (!s && (eig || frac)) {
        t0 = now_s();
        double tf = 0;
        const hs_copying_abs abs = {r->eig_resid_abs, r->eig_vocab_abs};
        s = hs_copying_all(m, eig ? r->eig_resid : NULL, eig ? r->eig_vocab : NULL, frac ? r->frac_copy_argmax : NULL,
                           frac ? r->frac_copy_count : NULL, eig ? &abs : NULL, p.progress, p.progress_user, &tf);
        r->t_frac = tf;
        r->t_eigen = now_s() - t0 - tf;
    }
    return s;
}

/* ------------------------------------------------------------------ the scan, in memory */
hs_status hs_scan_run(const hs_model *m, const hs_array *tokens, const hs_scan_params *params, hs_scan_result **out) {
    *out = NULL;
    const double t_start = now_s();
    hs_scan_params p = params ? *params : hs_scan_default_params();
    if (tokens->ndim != 2 || (tokens->dtype != HS_I64 && tokens->dtype != HS_I32))
        return hs_errorf(HS_ERR_INVALID_ARG, "tokens must be a 2-D int64 (or int32) array [prompts, n_ctx]");
    hs_scan_plan pl;
    hs_status s = hs_scan_plan_make(m, tokens->shape[0], tokens->shape[1], &p, &pl);
    if (s) return s;
    const int64_t N = pl.N;
    const int T = pl.T, P = pl.P;
    hs_scan_result *r;
    if ((s = hs_scan_result_new(m, &pl, &p, &r))) return s;
    const size_t NP = (size_t)N * P, G = (size_t)pl.L * pl.H;
    r->tokens = (hs_array){.dtype = HS_I64, .ndim = 2, .shape = {N, T}};
    r->tokens.data = hs_malloc(sizeof(int64_t) * (size_t)N * T);
    r->head_dla = hs_malloc(sizeof(float) * G * NP);
    r->mover_attn = hs_malloc(sizeof(float) * G * NP);
    r->mover_dla = hs_malloc(sizeof(float) * G * NP);
    r->loss = hs_malloc(sizeof(float) * NP);
    r->num_copies = hs_malloc(sizeof(int64_t) * NP);
    r->induction_mask = hs_malloc(NP);
    if (!r->tokens.data || !r->head_dla || !r->mover_attn || !r->mover_dla || !r->loss || !r->num_copies || !r->induction_mask) {
        hs_scan_result_free(r);
        return HS_ERR_NOMEM;
    }
    int64_t *tk = r->tokens.data;
    for (int64_t i = 0; i < N * T; i++)
        tk[i] = tokens->dtype == HS_I64 ? ((const int64_t *)tokens->data)[i] : ((const int32_t *)tokens->data)[i];
    /* validate ids up front: bad input fails before any work */
    if ((s = hs_scan_check_ids(&pl, tk, N, 0))) { hs_scan_result_free(r); return s; }

    /* ---- stage 1: forward + per-token metrics, batch by batch */
    double t0 = now_s();
    hs_scanner *sc = NULL;
    s = hs_scanner_new(m, &pl, &sc);
    for (int64_t n0 = 0; n0 < N && !s; n0 += pl.B) {
        const int Bb = (int)(N - n0 < pl.B ? N - n0 : pl.B);
        const size_t o = (size_t)n0 * P;
        hs_scan_batch_out bo = {.head_dla = r->head_dla + o, .mover_attn = r->mover_attn + o, .mover_dla = r->mover_dla + o,
                                .head_stride = NP, .loss = r->loss + o, .num_copies = r->num_copies + o,
                                .induction_mask = r->induction_mask + o};
        if ((s = hs_scanner_run(sc, tk + n0 * T, Bb, &bo))) break;
        if (p.progress && p.progress("forward", n0 + Bb, N, p.progress_user)) s = hs_errorf(HS_ERR_CANCELLED, "scan cancelled");
    }
    hs_scanner_free(sc);
    r->t_forward = now_s() - t0;

    /* ---- stage 2: dataset statistics and quantile tables */
    if (!s) {
        t0 = now_s();
        int64_t mov = 0, noind = 0;
        for (size_t i = 0; i < NP; i++) { mov += r->num_copies[i] > 0; noind += !r->induction_mask[i]; }
        hs_scan_set_statistics(r, mov, noind);
        s = quantile_tables(r, &p);
        r->t_quantiles = now_s() - t0;
    }
    /* ---- stages 3, 4: induction and copying scores */
    if (!s) s = hs_scan_head_metrics(m, &p, r);
    if (!s) s = hs_scan_finish_table(r);
    r->t_total = now_s() - t_start;
    r->peak_rss = hs_scan_peak_rss();
    if (s) {
        hs_scan_result_free(r);
        return s;
    }
    *out = r;
    return HS_OK;
}

void hs_scan_set_statistics(hs_scan_result *r, int64_t movable, int64_t non_induction) {
    const int64_t NP = (int64_t)r->N * (r->T - 1);
    r->movable = movable;
    r->non_induction_cols = non_induction;
    const float recip = 1.0f / (float)NP;   /* mean = fl32(sum) · fl32(1/n) (analysis.md §10) */
    r->mean_is_movable = (float)movable * recip;
    r->mean_not_induction = (float)non_induction * recip;
}
