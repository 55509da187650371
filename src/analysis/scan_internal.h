/* scan_internal.h — pieces shared between the files of src/analysis (not public). */
#ifndef HS_SCAN_INTERNAL_H
#define HS_SCAN_INTERNAL_H
#include "core/internal.h"
#include "headscan/scan.h"

/* Σ|λ| behind the eigenvalue scores, [L·H] each; either may be NULL. */
typedef struct hs_copying_abs { float *resid, *vocab; } hs_copying_abs;
/* eigenvalue scores and frac_copy_argmax in one pass over the heads (A and B once per
 * head); any output (and abs) may be NULL. *t_frac accumulates the seconds spent in the argmax. */
hs_status hs_copying_all(const hs_model *m, float *eig_resid, float *eig_vocab, float *frac, int64_t *count,
                         const hs_copying_abs *abs, hs_scan_progress_fn progress, void *puser, double *t_frac);
#endif
