/* nfc.c — Unicode NFC with the Unicode 9.0 data HuggingFace tokenizers uses
 * (unicode-normalization-alignments): code points assigned after 9.0 have no decomposition,
 * combining class 0 and compose with nothing (tables: unicode_tables.c). Algorithm: UAX #15
 * — full canonical decomposition (Hangul algorithmic), canonical ordering of non-starter runs
 * (stable by combining class), then canonical composition with blocking. */
#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode_tables.h"
#include <stdlib.h>
#include <string.h>

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7,
       LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

int hs_nfc_quick(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0xCC) { i += s[i] < 0x80 ? 1 : 2; continue; }   /* < U+0300: never affected */
        int len;
        uint32_t cp = hs_utf8_next(s + i, &len);
        if (hs_uc_nfc_slow(cp)) return 0;
        i += (size_t)len;
    }
    return 1;
}

static const hs_uc_decomp *find_decomp(uint32_t cp) {
    size_t lo = 0, hi = hs_uc_decomp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (hs_uc_decomp_index[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < hs_uc_decomp_count && hs_uc_decomp_index[lo].cp == cp ? &hs_uc_decomp_index[lo] : NULL;
}

static uint32_t find_comp(uint32_t a, uint32_t b) {
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    size_t lo = 0, hi = hs_uc_comp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const hs_uc_comp *p = &hs_uc_comp_pairs[mid];
        if (p->first < a || (p->first == a && p->second < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < hs_uc_comp_count && hs_uc_comp_pairs[lo].first == a && hs_uc_comp_pairs[lo].second == b)
        return hs_uc_comp_pairs[lo].composite;
    return 0;
}

hs_status hs_nfc(const uint8_t *s, size_t n, uint8_t **out, size_t *out_len) {
    /* Bound: a full canonical decomposition has at most 4 code points (Hangul: 3) and every
     * input code point takes at least one byte, so n*4 code points always suffice. */
    size_t cap;
    if (hs_mul_overflow(n, 4, &cap) || hs_mul_overflow(cap, sizeof(uint32_t), &cap))
        return hs_errorf(HS_ERR_NOMEM, "text too large for NFC (%zu bytes)", n);
    uint32_t *cps = hs_malloc(cap);
    if (!cps) return HS_ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        int len;
        uint32_t cp = hs_utf8_next(s + i, &len);
        i += (size_t)len;
        if (cp >= SBASE && cp < SBASE + SCOUNT) {
            uint32_t si = cp - SBASE;
            cps[m++] = LBASE + si / NCOUNT;
            cps[m++] = VBASE + (si % NCOUNT) / TCOUNT;
            if (si % TCOUNT) cps[m++] = TBASE + si % TCOUNT;
            continue;
        }
        const hs_uc_decomp *d = cp >= 0xC0 ? find_decomp(cp) : NULL;
        if (d) for (int k = 0; k < d->len; k++) cps[m++] = hs_uc_decomp_pool[d->offset + k];
        else cps[m++] = cp;
    }
    /* canonical ordering: insertion sort inside each run of non-starters (stable) */
    for (size_t i = 1; i < m; i++) {
        int c = hs_uc_ccc(cps[i]);
        if (!c) continue;
        size_t j = i;
        uint32_t x = cps[i];
        while (j > 0) {
            int p = hs_uc_ccc(cps[j - 1]);
            if (p <= c) break;   /* p == 0 (starter) also stops */
            cps[j] = cps[j - 1];
            j--;
        }
        cps[j] = x;
    }
    /* canonical composition */
    size_t w = 0;          /* write index */
    size_t starter = (size_t)-1;
    int last_ccc = -1;     /* ccc of the last character kept after the starter */
    for (size_t i = 0; i < m; i++) {
        uint32_t cp = cps[i];
        int c = hs_uc_ccc(cp);
        if (starter != (size_t)-1) {
            /* blocked when a kept character between has ccc 0, or ccc >= c */
            int blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= c);
            if (!blocked) {
                uint32_t comp = find_comp(cps[starter], cp);
                if (comp) { cps[starter] = comp; continue; }
            }
        }
        if (c == 0) { starter = w; last_ccc = -1; }
        else last_ccc = c;
        cps[w++] = cp;
    }
    uint8_t *o = hs_malloc(w * 4 + 1);
    if (!o) { free(cps); return HS_ERR_NOMEM; }
    size_t j = 0;
    for (size_t i = 0; i < w; i++) j += (size_t)hs_utf8_put(cps[i], o + j);
    o[j] = 0;
    free(cps);
    *out = o;
    *out_len = j;
    return HS_OK;
}
