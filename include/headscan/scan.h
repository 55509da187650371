/* headscan/scan.h — the study's metrics for every attention head, streamed over a
 * token set (shared/spec/analysis.md), and the reusable pieces they are built from.
 *
 *   hs_scan_params sp = hs_scan_default_params();   // 288 prompts, batch 32, q 0.9 / 0.95
 *   sp.tokenizer = tok;                              // induction pool filter (or sp.ind_tokens)
 *   hs_scan_result *r;
 *   hs_scan_run(model, &tokens, &sp, &r);            // tokens: int64 [N, T]
 *   hs_scan_write(r, "out/");                        // head_table.csv/json, .npy arrays, quantiles.json, manifest.json
 *   hs_scan_result_free(r);
 *
 * Nothing keeps a full activation cache: per batch the hooks hook_v, hook_pattern,
 * hook_z (each layer) and ln_final.hook_scale are reduced to the per-token metrics,
 * so memory is the forward workspace of one batch plus the [L, H, N, T-1] results.
 */
#ifndef HEADSCAN_SCAN_H
#define HEADSCAN_SCAN_H

#include "common.h"
#include "model.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ torch.quantile */
/* torch.quantile(x, q, interpolation="linear") of one float32 row (analysis.md §6):
 * sort ascending with NaN last; rank = fl32(q · fl32(n−1)) in float32; any NaN in the
 * row ⇒ rank = n−1; lo = trunc(rank), hi = ceil(rank), w = rank − lo;
 * out = torch's float32 lerp(sorted[lo], sorted[hi], w). n ≥ 1 and n ≤ 2^24, q in [0, 1].
 * `scratch` (n floats) may be NULL (then allocated). x is not modified. */
HS_API hs_status hs_quantile_f32(const float *x, int64_t n, const float *q, int nq, float *out, float *scratch);
/* The same on a row already sorted by hs_quantile_sort (NaN last). */
HS_API void hs_quantile_sorted_f32(const float *sorted, int64_t n, const float *q, int nq, float *out);
/* Sorts ascending in place, NaN last (as torch.sort). */
HS_API void hs_quantile_sort(float *x, int64_t n);

/* ------------------------------------------------------------------ induction tokens */
/* The pool R of analysis.md §8: ids lo..hi (inclusive, clipped to 1..vocab−1; when
 * lo ≥ vocab, as for tiny test models, 1..vocab−1) whose
 * decoded string has no "  " (two spaces). tok may be NULL: then no string filter.
 * *out is malloc'd. */
HS_API hs_status hs_induction_pool(const hs_tokenizer *tok, int vocab, int lo, int hi, int64_t **out, int64_t *n_out);
/* [batch, 1 + 2·seq_len] = [BOS, r_1..r_L, r_1..r_L] with r = pool[u], u uniform in
 * 0..n_pool−1 drawn from our seeded generator: SplitMix64(seed) → 64-bit words, u by
 * Lemire's unbiased multiply-shift rejection, row-major order. (The notebook's
 * torch.randint was unseeded, so no generator can reproduce its values.) */
HS_API hs_status hs_induction_tokens(const int64_t *pool, int64_t n_pool, int batch, int seq_len, uint64_t seed,
                                     int64_t bos, hs_array *out);
/* score[l, h] = mean over b and i = 0..seq_len+1 of pattern_l[b, h, i + seq_len − 1, i]
 * on ind_tokens [batch, 1 + 2·seq_len] (mean = fl32(sum) · fl32(1/count)). out: [L·H]. */
HS_API hs_status hs_induction_scores(const hs_model *m, const hs_array *ind_tokens, float *out);

/* ------------------------------------------------------------------ copying scores */
/* post_mlp_embed [V, M] = W_E + MLP_0(LNPre(W_E)) (analysis.md §9); malloc'd into *out. */
HS_API hs_status hs_post_mlp_embed(const hs_model *m, float **out);
/* Re(Σλ / Σ|λ|) of the eigenvalues of W_O[l,h] @ W_V[l,h] (resid) and of
 * (W_O[l,h] @ W_U) @ (post_mlp_embed @ W_V[l,h]) (vocab; the 50304-long contraction in
 * double), via LAPACKE_dgeev. Either output may be NULL. pme may be NULL (computed). */
HS_API hs_status hs_copying_scores(const hs_model *m, const float *pme, float *eig_resid, float *eig_vocab);
/* frac_copy_argmax[l, h]: rows i of S = A @ B (A = pme @ W_V[l,h] [V, D],
 * B = W_O[l,h] @ W_U [D, V], both float32) with argmax_j S[i, j] == i (first index on
 * ties). S[i, j] is the float32 fused-multiply-add chain Σ_{k=0..D−1} A[i,k]·B[k,j]
 * in increasing k (the same value however it is computed). Exact, never materialises
 * S: columns sorted by norm, rows dropped as soon as an entry beats the diagonal, and
 * accepted once Cauchy–Schwarz bounds show no remaining column can reach it.
 * count: [L·H] rows with argmax == i (may be NULL); frac = count · fl32(1/V). */
HS_API hs_status hs_frac_copy_argmax(const hs_model *m, const float *pme, float *frac, int64_t *count);
/* The same for one head given A [V, D] and B [D, V] (row-major). Brute force when
 * `dense` (for tests and benchmarks). */
HS_API hs_status hs_copy_argmax_count(const float *A, const float *B, int64_t V, int D, bool dense, int64_t *count);

/* ------------------------------------------------------------------ the scan */
enum {   /* hs_scan_params.skip bits */
    HS_SKIP_FRAC_COPY_ARGMAX = 1,
    HS_SKIP_EIGENVALUES = 2,
    HS_SKIP_INDUCTION = 4,
};

/* Progress: stage name ("forward", "induction", "eigenvalues", "frac_copy_argmax"),
 * done of total units (prompts, heads...). Return non-zero to cancel. */
typedef int (*hs_scan_progress_fn)(const char *stage, int64_t done, int64_t total, void *user);

typedef struct hs_scan_params {
    int64_t prompts;          /* rows of the token set to scan (first rows); default 288; 0 = all.
                                 Fewer rows available: all are scanned and prompts_short is set. */
    int batch;                /* default 32 */
    float quantile;           /* head table columns 1-4; default 0.9 */
    float no_ind_quantile;    /* the *_no_ind columns; default 0.95 */
    const hs_tokenizer *tokenizer; /* for the induction pool filter; may be NULL (no filter) */
    const hs_array *ind_tokens;    /* replay these [B, 1+2R] induction tokens; else generated */
    uint64_t ind_seed;        /* default 0 */
    int ind_batch, ind_seq_len; /* default 16 x 200 */
    int ind_pool_lo, ind_pool_hi; /* default 1000..9999 */
    unsigned skip;            /* HS_SKIP_* */
    const char *sort;         /* head table sort column (descending); default "mover_dla_no_ind" */
    hs_scan_progress_fn progress;
    void *progress_user;
    hs_compute compute;       /* the scan's forward (DLA, mover, loss): default HS_COMPUTE_F32 (TL's
                                 numbers); HS_COMPUTE_BF16 see hs_compute (induction and copying
                                 scores stay float32) */
} hs_scan_params;
HS_API hs_scan_params hs_scan_default_params(void);

#define HS_SCAN_NCOLS 17
#define HS_SCAN_NMETRICS (HS_SCAN_NCOLS - 3)   /* numeric columns 3..16 of hs_scan_result.table */
/* Head table columns, in order: label, L, H, the 12 metrics of analysis.md §7/§11, then
 * eigenvals_resid_abs_sum and eigenvals_vocab_abs_sum (Σ|λ| behind the two eigenvalue scores). */
HS_API const char *hs_scan_column_name(int i);

/* An eigenvalue copying score Σλ / Σ|λ| is ill-conditioned (rounding noise, e.g. for a head
 * whose OV circuit is nilpotent) when its Σ|λ| is below HS_EIG_ILL_REL × the median head's.
 * *threshold = HS_EIG_ILL_REL × the median of the finite abs_sum[0..n-1] (the lower middle
 * value for an even count, as torch.median); NaN when none is finite (then nothing is flagged:
 * a score is ill-conditioned iff abs_sum < *threshold). The score itself is left as TL computes it. */
#define HS_EIG_ILL_REL 1e-3
HS_API hs_status hs_eig_ill_threshold(const float *abs_sum, int64_t n, double *threshold);

typedef struct hs_scan_quantiles {   /* one labelled table [k, L·H] */
    char name[64];                    /* e.g. "quantiles13_mover_dla_noind" */
    int k;
    float levels[16];
    float *values;                    /* [k, L·H] */
} hs_scan_quantiles;

typedef struct hs_scan_result {
    int L, H, N, T;                   /* P = T − 1 scored positions */
    bool prompts_short;               /* fewer rows than asked for */
    int64_t prompts_asked;
    hs_array tokens;                  /* int64 [N, T] (the exact tokens scanned) */
    float *head_dla, *mover_attn, *mover_dla;   /* [L, H, N, P] */
    float *loss;                      /* [N, P] */
    int64_t *num_copies;              /* [N, P] */
    uint8_t *induction_mask;          /* [N, P] (0/1) */
    hs_array ind_tokens;              /* int64 [B, 1+2R] (empty when skipped) */
    float *induction;                 /* [L·H] (NaN when skipped) */
    float *eig_vocab, *eig_resid;     /* [L·H] (NaN when skipped) */
    float *frac_copy_argmax;          /* [L·H] (NaN when skipped) */
    int64_t *frac_copy_count;         /* [L·H] (−1 when skipped) */
    float *table;                     /* [L·H, HS_SCAN_NMETRICS] per head (columns 3..), g = l·H + h */
    int *order;                       /* [L·H] table rows sorted by `sort` descending (stable) */
    int sort_col;                     /* column index of the sort key */
    int n_quantiles;
    hs_scan_quantiles *quantiles;
    int64_t non_induction_cols;       /* columns kept by ~induction_mask */
    int64_t movable;                  /* positions with num_copies > 0 */
    float mean_is_movable, mean_not_induction;
    uint64_t ind_seed;
    bool ind_replayed;
    double t_forward, t_quantiles, t_induction, t_eigen, t_frac, t_total;  /* seconds */
    size_t peak_rss;                  /* bytes (process peak when the scan ended) */
    char *model_dir;
    char *manifest_extra;             /* JSON object text merged into manifest.json (or NULL) */
    float *eig_vocab_abs, *eig_resid_abs; /* [L·H] Σ|λ| behind eig_vocab / eig_resid (NaN when skipped) */
    double eig_vocab_ill_below, eig_resid_ill_below; /* hs_eig_ill_threshold of those (NaN when skipped):
                                         a score is ill-conditioned iff its Σ|λ| < this */
    /* Scans into a folder (hs_scan_run_dir, hs_scan_merge) stream the per-token arrays to
     * their files: head_dla, mover_attn, mover_dla, loss, num_copies, induction_mask and
     * tokens.data are then NULL (everything else as above). */
    char tokens_sha256[65];           /* of the N x T int64 tokens, when tokens.data is NULL */
} hs_scan_result;

/* Scans `tokens` (int64 [N, T]; T ≤ the model's n_ctx, ids < d_vocab). */
HS_API hs_status hs_scan_run(const hs_model *m, const hs_array *tokens, const hs_scan_params *params,
                             hs_scan_result **out);
HS_API void hs_scan_result_free(hs_scan_result *r);
/* Sets the text of a JSON object (e.g. {"dataset": ...}) to merge into manifest.json. */
HS_API hs_status hs_scan_set_manifest_extra(hs_scan_result *r, const char *json_object);
/* What a scan ran on, for manifest.json's "input", "options" and "timings_load_s" (the
 * command and the Python package record it the same way). Strings may be NULL. */
typedef struct hs_scan_inputs {
    const char *tokens_path;      /* a token matrix file (input.kind "tokens") */
    const char *dataset;          /* else a dataset path or hub name ("dataset"); neither: "array" */
    const char *field;            /* the dataset's text field (recorded only for a dataset) */
    bool shuffle;                 /* dataset rows shuffled (recorded only for a dataset) */
    uint64_t shuffle_seed;
    const char *ind_tokens_path;  /* replayed induction tokens file */
    const char *tokenizer_path;   /* the tokenizer.json used */
    double t_load_model, t_load_tokens;   /* seconds */
    const hs_compute_deviation *deviation;  /* params->compute's deviation from float32 (recorded
                                               as "compute_deviation"); NULL: none */
} hs_scan_inputs;
/* params->compute's deviation from float32 (hs_compute_compare) on the first batch the scan
 * runs: the first min(batch, prompts) rows of tokens, or of the int64/int32 .npy at
 * tokens_path (tokens NULL), their first n_ctx columns (0 = all). */
HS_API hs_status hs_scan_compute_deviation(const hs_model *m, const hs_array *tokens, const char *tokens_path, int n_ctx,
                                           const hs_scan_params *params, hs_compute_deviation *out);
/* Records `in` and the options of `params` (those the scan ran with) in r's manifest. */
HS_API hs_status hs_scan_record_inputs(hs_scan_result *r, const hs_scan_params *params, const hs_scan_inputs *in);
/* The same record as JSON object text (malloc'd into *out), for a scan that has not run yet
 * (hs_scan_dir_params.manifest_extra); n_ctx: the token columns it scans. */
HS_API hs_status hs_scan_inputs_json(const hs_scan_params *params, const hs_scan_inputs *in, int n_ctx, char **out);
/* The induction sequence length the scan uses by default for a model: the study's 200, or
 * (n_ctx − 1) / 2 when the model's context is shorter than 1 + 2·200. */
HS_API int hs_scan_default_induction_len(const hs_model_config *cfg);
/* The text manifest.json would hold (malloc'd). */
HS_API hs_status hs_scan_manifest_json(const hs_scan_result *r, char **out);
/* Writes every output into `dir` (created if missing). Each file is written to a
 * temporary name and renamed only once all of them are complete; on any failure the
 * temporaries are removed and no file appears under its final name. */
HS_API hs_status hs_scan_write(const hs_scan_result *r, const char *dir);

/* ------------------------------------------------------------------ scans into a folder */
/* A scan whose memory does not grow with the number of rows: the per-token arrays stream
 * to their files in dir as batches finish (in dir/.headscan-work until the scan is whole),
 * quantiles are exact (the same numbers as hs_scan_run: torch.quantile's order statistics
 * found by a three-pass radix selection over the files), and progress is checkpointed so
 * an interrupted scan (signal, crash, full disk) continues with `resume`. The outputs are
 * hs_scan_write's; the head table appears last, only when the scan is whole.
 *
 * Shards: nshards > 1 scans batches [shard·nb/nshards, (shard+1)·nb/nshards) of the nb
 * batches (so batch boundaries are those of the whole scan) and writes a partial result
 * (arrays of its rows, shard.json; shard 0 also the per-head scores), which
 * hs_scan_merge combines into exactly the whole scan's outputs. */
typedef struct hs_scan_dir_params {
    const char *tokens_path;    /* read rows from this int64/int32 .npy [rows, W] as they are
                                   scanned (tokens may then be NULL) */
    int n_ctx;                  /* columns of tokens_path's rows to use; 0 = all */
    bool no_arrays;             /* leave the per-token arrays (and tokens.npy) out of the outputs */
    int shard, nshards;         /* default 0 / 1 (the whole token set) */
    bool resume;                /* continue the interrupted scan in dir (its checkpoint) */
    double checkpoint_seconds;  /* checkpoint after this much work; default 60 */
    int checkpoint_batches;     /* > 0: every this many batches instead */
    const char *args_json;      /* JSON object of the caller's settings {"--batch": 32, ...}:
                                   kept in the checkpoint (resume refuses a difference, naming it)
                                   and in a shard's shard.json (merge compares them, except
                                   "path" keys: --model --tokens --dataset --tokenizer ...) */
    const char *manifest_extra; /* as hs_scan_set_manifest_extra */
} hs_scan_dir_params;
HS_API hs_scan_dir_params hs_scan_dir_default_params(void);
/* Scans tokens (or dp->tokens_path) into dir. *out (may be NULL) receives the result
 * without per-token arrays (NULL for a shard). Cancelled through params->progress, the
 * scan checkpoints first; HS_ERR_CANCELLED. */
HS_API hs_status hs_scan_run_dir(const hs_model *m, const hs_array *tokens, const hs_scan_params *params,
                                 const hs_scan_dir_params *dp, const char *dir, hs_scan_result **out);
/* Combines the partial results in parts[0..n) (each a shard folder) into dir: the head
 * table, quantiles, arrays (unless no_arrays) and manifest of the whole scan. Refuses
 * shards of other models, tokens or settings, and missing or duplicate shards. *out may
 * be NULL. progress (may be NULL) sees stage "merge". */
HS_API hs_status hs_scan_merge(const char *const *parts, int n, const char *dir, bool no_arrays,
                               hs_scan_progress_fn progress, void *progress_user, hs_scan_result **out);

#ifdef __cplusplus
}
#endif
#endif
