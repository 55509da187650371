/* scan_internal.h — pieces shared between the files of src/analysis (not public). */
#ifndef HS_SCAN_INTERNAL_H
#define HS_SCAN_INTERNAL_H
#include "core/internal.h"
#include "headscan/scan.h"
#include <math.h>
#include <string.h>

/* Order-preserving map float → uint32 (NaN canonicalised to the largest key). */
static inline uint32_t hs_qkey(float f) {
    uint32_t u;
    if (isnan(f)) return 0xFFFFFFFFu;
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline float hs_qkey_float(uint32_t k) {
    if (k == 0xFFFFFFFFu) return NAN;
    uint32_t u = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
    float f;
    memcpy(&f, &u, 4);
    return f;
}


/* Σ|λ| behind the eigenvalue scores, [L·H] each; either may be NULL. */
typedef struct hs_copying_abs { float *resid, *vocab; } hs_copying_abs;
/* eigenvalue scores and frac_copy_argmax in one pass over the heads (A and B once per
 * head); any output (and abs) may be NULL. *t_frac accumulates the seconds spent in the argmax. */
hs_status hs_copying_all(const hs_model *m, float *eig_resid, float *eig_vocab, float *frac, int64_t *count,
                         const hs_copying_abs *abs, hs_scan_progress_fn progress, void *puser, double *t_frac);

/* quantile.c: torch.quantile's rank of level q in n values (NaN anywhere ⇒ n − 1):
 * the lower and upper order statistics and the weight, and torch's float32 lerp. */
void hs_quantile_pos(int64_t n, bool has_nan, float q, int64_t *lo, int64_t *hi, float *w);
float hs_quantile_lerp(float a, float b, float w);

/* ---- scan.c, shared by the in-memory scan, the streaming scan and merge */
typedef struct hs_scan_plan {
    int L, H, T, P, V, B, sort_col;
    int64_t rows, N;      /* rows of the token set; rows scanned */
    hs_compute compute;   /* the forward's weight GEMMs */
} hs_scan_plan;
/* Validates the params against the model and a token set of rows x T (p->sort defaulted). */
hs_status hs_scan_plan_make(const hs_model *m, int64_t rows, int64_t T, hs_scan_params *p, hs_scan_plan *pl);
/* Every id of nrows x T tokens (rows row0.. of the set) is in the vocabulary. */
hs_status hs_scan_check_ids(const hs_scan_plan *pl, const int64_t *tok, int64_t nrows, int64_t row0);
/* A result with the per-head outputs allocated (NaN / −1) and no per-token array. m may be NULL. */
hs_status hs_scan_result_new(const hs_model *m, const hs_scan_plan *pl, const hs_scan_params *p, hs_scan_result **out);
/* Induction and copying scores into r (per p->skip). */
hs_status hs_scan_head_metrics(const hs_model *m, const hs_scan_params *p, hs_scan_result *r);
/* movable, non_induction_cols and their means over the r->N x (r->T − 1) positions. */
void hs_scan_set_statistics(hs_scan_result *r, int64_t movable, int64_t non_induction);
/* The 25 quantile tables' names, levels and storage. */
hs_status hs_scan_quantiles_init(hs_scan_result *r, const hs_scan_params *p);
/* The order statistics (ranks into the ascending, NaN-last order of n values) the tables
 * of one selection (noind or all) read: at most 36, into ranks. */
#define HS_SCAN_MAX_RANKS 36
int hs_scan_quantile_ranks(const hs_scan_result *r, bool noind, int64_t n, bool has_nan, int64_t *ranks);
/* Fills the tables of array a (0 head_dla, 1 mover_attn, 2 mover_dla, 3 ratio), head g, one
 * selection, given the k-th order statistic of its n values (n = 0: NaN). */
typedef float (*hs_order_stat)(int64_t k, void *ctx);
void hs_scan_quantiles_fill(hs_scan_result *r, int a, int g, bool noind, int64_t n, bool has_nan, hs_order_stat at, void *ctx);
/* mover_over_head, the eigenvalue conditioning thresholds, then the head table and its order. */
hs_status hs_scan_finish_table(hs_scan_result *r);
size_t hs_scan_peak_rss(void);
double hs_scan_now(void);

/* One batch's per-token outputs: head h's row b at base + h·head_stride + b·P. */
typedef struct hs_scan_batch_out {
    float *head_dla, *mover_attn, *mover_dla;
    size_t head_stride;
    float *loss;
    int64_t *num_copies;
    uint8_t *induction_mask;
} hs_scan_batch_out;
typedef struct hs_scanner hs_scanner;   /* forward pass + hooks for batches of up to pl->B rows */
hs_status hs_scanner_new(const hs_model *m, const hs_scan_plan *pl, hs_scanner **out);
hs_status hs_scanner_run(hs_scanner *sc, const int64_t *tok, int rows, const hs_scan_batch_out *o);
void hs_scanner_free(hs_scanner *sc);

/* scan_write.c: the small outputs (tables, quantiles, manifest, per-head arrays, and the
 * arrays r holds in memory) written as temporaries into dir, plus `extra` finished files
 * (temporary → final name) to publish with them; all renamed into place at once, the head
 * table last. */
typedef struct hs_scan_publish { const char *tmp, *final; } hs_scan_publish;
/* {"path": dir, "sha256": {file: hex}} of a model folder (cJSON, caller deletes). */
struct cJSON;
struct cJSON *hs_scan_model_json(const char *model_dir);
hs_status hs_scan_write_ex(const hs_scan_result *r, const char *dir, const hs_scan_publish *extra, int n_extra);
#endif
