/* scan_select.h — exact quantiles of per-token arrays in files (not public). */
#ifndef HS_SCAN_SELECT_H
#define HS_SCAN_SELECT_H
#include "analysis/scan_internal.h"

/* Rows of the per-token arrays in files: fd/off (data offset) of head_dla, mover_attn,
 * mover_dla (float32 [L, H, rows, P]), induction_mask (bool [rows, P]) and num_copies
 * (int64 [rows, P]); name[] for messages. A scan is one segment, a merge one per shard. */
typedef struct hs_scan_seg {
    int fd[5];
    int64_t off[5];
    const char *name[5];
    int64_t rows;
} hs_scan_seg;

/* Every quantile table of r (hs_scan_quantiles_init done) from the segments' values. */
hs_status hs_scan_select_quantiles(hs_scan_result *r, const hs_scan_seg *seg, int nseg, int64_t non_induction);
/* Positions with num_copies > 0, and without the induction mask. */
hs_status hs_scan_count_positions(const hs_scan_seg *seg, int nseg, int P, int64_t *movable, int64_t *non_induction);
#endif
