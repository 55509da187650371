/* scan_select.c — exact quantile tables of per-token arrays that live in files (streaming
 * scans and merges), in memory independent of the number of rows.
 *
 * torch.quantile reads two order statistics per level (analysis.md §6); hs_scan_quantile_ranks
 * lists them. Each is found by radix selection on the order-preserving 32-bit key of the
 * value (hs_qkey: NaN largest, -0 before +0, as hs_quantile_sort orders): pass 1 counts
 * the top 11 bits of every key, which fixes the 11-bit prefix of each wanted rank and its
 * rank within that prefix; pass 2 counts the next 11 bits of the keys under those prefixes,
 * pass 3 the last 10. The key found is the exact value the in-memory sort puts at that
 * rank, so the tables are bit-identical to hs_scan_run's. Per head: 8 series (4 arrays x
 * all / non-induction), at most 36 ranks each, 3 reads of the head's values. */
#define _GNU_SOURCE
#include "analysis/scan_select.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NSER = 8, CH = 16384, MAXR = HS_SCAN_MAX_RANKS };
static const int SHIFT[3] = {21, 10, 0}, BITS[3] = {11, 11, 10};

typedef struct series {
    int64_t n, nan;
    int nr;                       /* distinct ranks */
    int64_t rank[MAXR], rem[MAXR];
    uint32_t prefix[MAXR];        /* key bits fixed so far (right-aligned) */
    int nslot;                    /* distinct prefixes at this level */
    uint32_t slot_prefix[MAXR];
    int slot_of[MAXR];            /* rank → slot */
    int16_t first[2048];          /* top 11 bits → a candidate slot (−1 none) */
    uint32_t *hist;               /* [MAXR][2048] */
    float value[MAXR];
} series;

static hs_status pread_all(int fd, void *buf, size_t len, int64_t off, const char *what) {
    char *p = buf;
    while (len) {
        ssize_t k = pread(fd, p, len, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return hs_errorf(HS_ERR_IO, "%s: read failed: %s", what, k < 0 ? strerror(errno) : "file truncated");
        p += k; len -= (size_t)k; off += k;
    }
    return HS_OK;
}

static inline void count(series *S, int level, uint32_t key) {
    if (level == 0) { S->hist[key >> 21]++; return; }
    const int16_t f = S->first[key >> 21];
    if (f < 0) return;
    const uint32_t pre = key >> SHIFT[level - 1];
    for (int s = f; s < S->nslot && (S->slot_prefix[s] >> (level == 1 ? 0 : 11)) == (key >> 21); s++)
        if (S->slot_prefix[s] == pre) { S->hist[(size_t)s * 2048 + ((key >> SHIFT[level]) & ((1u << BITS[level]) - 1))]++; return; }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Slots for this level: the distinct prefixes of the ranks, sorted, with the lookup. */
static void make_slots(series *S, int level) {
    S->nslot = 0;
    if (level == 0) { S->nslot = 1; return; }
    uint32_t tmp[MAXR];
    for (int k = 0; k < S->nr; k++) tmp[k] = S->prefix[k];
    qsort(tmp, (size_t)S->nr, sizeof *tmp, cmp_u32);
    for (int k = 0; k < S->nr; k++)
        if (!S->nslot || tmp[k] != S->slot_prefix[S->nslot - 1]) S->slot_prefix[S->nslot++] = tmp[k];
    for (int i = 0; i < 2048; i++) S->first[i] = -1;
    for (int s = S->nslot - 1; s >= 0; s--) S->first[S->slot_prefix[s] >> (level == 1 ? 0 : 11)] = (int16_t)s;
    for (int k = 0; k < S->nr; k++)
        for (int s = 0; s < S->nslot; s++)
            if (S->slot_prefix[s] == S->prefix[k]) S->slot_of[k] = s;
}

/* After counting a level: each rank's next bits and its rank within the longer prefix. */
static void resolve(series *S, int level) {
    const int nb = 1 << BITS[level];
    for (int k = 0; k < S->nr; k++) {
        const uint32_t *h = S->hist + (size_t)(level ? S->slot_of[k] : 0) * 2048;
        int64_t cum = 0;
        int b = 0;
        while (b < nb - 1 && cum + h[b] <= S->rem[k]) cum += h[b++];
        S->rem[k] -= cum;
        S->prefix[k] = level ? (S->prefix[k] << BITS[level]) | (uint32_t)b : (uint32_t)b;
    }
}

static float series_at(int64_t k, void *ctx) {
    const series *S = ctx;
    for (int i = 0; i < S->nr; i++)
        if (S->rank[i] == k) return S->value[i];
    return NAN;   /* not reached: every rank read was selected */
}

/* One pass over head g's values in every segment: count (level) or NaNs (level −1 = pass 1). */
static hs_status pass(const hs_scan_seg *seg, int nseg, int P, int G, int g, series *ser, int level, float *buf, uint8_t *mk) {
    for (int si = 0; si < nseg; si++) {
        const hs_scan_seg *sg = seg + si;
        const int64_t n = sg->rows * P;
        for (int64_t c0 = 0; c0 < n; c0 += CH) {
            const int64_t m = n - c0 < CH ? n - c0 : CH;
            hs_status s = HS_OK;
            for (int a = 0; a < 3 && !s; a++)
                s = pread_all(sg->fd[a], buf + (size_t)a * CH, sizeof(float) * (size_t)m,
                              sg->off[a] + (int64_t)sizeof(float) * ((int64_t)g * n + c0), sg->name[a]);
            if (!s) s = pread_all(sg->fd[3], mk, (size_t)m, sg->off[3] + c0, sg->name[3]);
            if (s) return s;
            const float *hd = buf, *ma = buf + CH, *md = buf + 2 * CH;
            for (int64_t i = 0; i < m; i++) {
                const float v[4] = {hd[i], ma[i], md[i], md[i] / hd[i]};   /* IEEE: x/0 = ±inf, 0/0 = NaN */
                for (int a = 0; a < 4; a++) {
                    const uint32_t key = hs_qkey(v[a]);
                    series *A = ser + 2 * a;
                    count(A, level, key);
                    if (level == 0) A->nan += key == 0xFFFFFFFFu;
                    if (!mk[i]) {
                        count(A + 1, level, key);
                        if (level == 0) A[1].nan += key == 0xFFFFFFFFu;
                    }
                }
            }
        }
    }
    (void)G;
    return HS_OK;
}

hs_status hs_scan_select_quantiles(hs_scan_result *r, const hs_scan_seg *seg, int nseg, int64_t non_induction) {
    const int G = r->L * r->H, P = r->T - 1;
    int64_t NP = 0;
    for (int i = 0; i < nseg; i++) NP += seg[i].rows * P;
    series *ser = hs_calloc(NSER, sizeof *ser);
    float *buf = hs_malloc(sizeof(float) * 3 * CH);
    uint8_t *mk = hs_malloc(CH);
    uint32_t *hist = hs_malloc(sizeof(uint32_t) * NSER * MAXR * 2048);
    hs_status s = ser && buf && mk && hist ? HS_OK : HS_ERR_NOMEM;
    for (int g = 0; g < G && !s; g++) {
        for (int k = 0; k < NSER; k++) {
            series *S = ser + k;
            memset(S, 0, sizeof *S);
            S->n = k & 1 ? non_induction : NP;
            S->hist = hist + (size_t)k * MAXR * 2048;
            memset(S->hist, 0, sizeof(uint32_t) * 2048);
            make_slots(S, 0);
        }
        if ((s = pass(seg, nseg, P, G, g, ser, 0, buf, mk))) break;
        for (int k = 0; k < NSER; k++) {   /* the ranks the tables read, now that NaN presence is known */
            series *S = ser + k;
            if (!S->n) continue;
            int64_t rk[MAXR];
            const int nr = hs_scan_quantile_ranks(r, k & 1, S->n, S->nan > 0, rk);
            for (int i = 0; i < nr; i++) {
                bool dup = false;
                for (int j = 0; j < S->nr; j++) dup |= S->rank[j] == rk[i];
                if (!dup) { S->rank[S->nr] = rk[i]; S->rem[S->nr++] = rk[i]; }
            }
            resolve(S, 0);
        }
        for (int level = 1; level < 3 && !s; level++) {
            for (int k = 0; k < NSER; k++) {
                make_slots(ser + k, level);
                memset(ser[k].hist, 0, sizeof(uint32_t) * 2048 * (size_t)ser[k].nslot);
            }
            s = pass(seg, nseg, P, G, g, ser, level, buf, mk);
            for (int k = 0; !s && k < NSER; k++) resolve(ser + k, level);
        }
        for (int k = 0; !s && k < NSER; k++) {
            series *S = ser + k;
            for (int i = 0; i < S->nr; i++) S->value[i] = hs_qkey_float(S->prefix[i]);
            hs_scan_quantiles_fill(r, k / 2, g, k & 1, S->n, S->nan > 0, series_at, S);
        }
    }
    free(ser); free(buf); free(mk); free(hist);
    return s;
}

hs_status hs_scan_count_positions(const hs_scan_seg *seg, int nseg, int P, int64_t *movable, int64_t *non_induction) {
    int64_t mov = 0, noind = 0;
    int64_t *nc = hs_malloc(sizeof(int64_t) * CH);
    uint8_t *mk = hs_malloc(CH);
    hs_status s = nc && mk ? HS_OK : HS_ERR_NOMEM;
    for (int si = 0; si < nseg && !s; si++) {
        const int64_t n = seg[si].rows * P;
        for (int64_t c0 = 0; c0 < n && !s; c0 += CH) {
            const int64_t m = n - c0 < CH ? n - c0 : CH;
            s = pread_all(seg[si].fd[4], nc, sizeof(int64_t) * (size_t)m, seg[si].off[4] + 8 * c0, seg[si].name[4]);
            if (!s) s = pread_all(seg[si].fd[3], mk, (size_t)m, seg[si].off[3] + c0, seg[si].name[3]);
            for (int64_t i = 0; !s && i < m; i++) { mov += nc[i] > 0; noind += !mk[i]; }
        }
    }
    free(nc); free(mk);
    *movable = mov;
    *non_induction = noind;
    return s;
}
