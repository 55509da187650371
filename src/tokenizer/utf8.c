/* utf8.c — strict UTF-8 validation and lossy replacement (each maximal invalid subpart
 * becomes one U+FFFD, as Rust's String::from_utf8_lossy and Python's errors="replace"). */
#include "tokenizer/tok_internal.h"
#include <string.h>
#include <stdlib.h>

int hs_utf8_put(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int hs_utf8_check(const uint8_t *s, size_t n, size_t *bad) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    int need;
    uint8_t lo = 0x80, hi = 0xBF;   /* allowed range of the second byte (Unicode Table 3-7) */
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) { need = 3; if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 4; if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F; }
    else { *bad = 1; return 0; }
    size_t k = 1;
    for (; k < (size_t)need; k++) {
        if (k >= n) break;
        uint8_t b = s[k];
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (k == (size_t)need) return need;
    *bad = k;
    return 0;
}

size_t hs_utf8_first_invalid(const uint8_t *s, size_t n) {
    size_t i = 0, bad;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        int k = hs_utf8_check(s + i, n - i, &bad);
        if (!k) return i;
        i += (size_t)k;
    }
    return n;
}

hs_status hs_utf8_replace(const uint8_t *s, size_t n, uint8_t **out, size_t *out_len) {
    /* each invalid byte grows to at most 3 bytes */
    size_t cap;
    if (hs_mul_overflow(n, 3, &cap)) return hs_errorf(HS_ERR_NOMEM, "text too large (%zu bytes)", n);
    uint8_t *o = hs_malloc(cap + 1);
    if (!o) return HS_ERR_NOMEM;
    size_t i = 0, j = 0, bad;
    while (i < n) {
        int k = hs_utf8_check(s + i, n - i, &bad);
        if (k) { memcpy(o + j, s + i, (size_t)k); i += (size_t)k; j += (size_t)k; }
        else { o[j++] = 0xEF; o[j++] = 0xBF; o[j++] = 0xBD; i += bad; }
    }
    o[j] = 0;
    *out = o;
    *out_len = j;
    return HS_OK;
}

size_t hs_utf8_validate(const char *s, size_t n) { return hs_utf8_first_invalid((const uint8_t *)s, n); }

hs_status hs_utf8_replace_invalid(const char *s, size_t n, char **out, size_t *out_len) {
    uint8_t *o;
    size_t len;
    hs_status st = hs_utf8_replace((const uint8_t *)s, n, &o, &len);
    if (st) return st;
    *out = (char *)o;
    if (out_len) *out_len = len;
    return HS_OK;
}
