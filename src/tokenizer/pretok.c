/* pretok.c — the GPT-2 / ByteLevel pre-tokenizer regex of HF tokenizers,
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * as a hand-written matcher over the class table of unicode_tables.c (HF's Oniguruma sees
 * Unicode 16.0). Matches tile the text, so the next pre-token always starts at the current
 * position; alternatives are taken in order (leftmost-first, not longest). Checked against
 * Oniguruma (pretok_onig.c) and the HF oracle by the tests. */
#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode_tables.h"

/* Class of the character at s (valid UTF-8); *len gets its byte length. */
static inline int class_at(const uint8_t *s, int *len) {
    if (s[0] < 0x80) { *len = 1; return hs_uc_class_stage2[(size_t)hs_uc_class_stage1[0] * 256 + s[0]]; }
    uint32_t cp = hs_utf8_next(s, len);
    return hs_uc_class(cp);
}

/* End of the run of class k starting at i. */
static inline size_t run_end(const uint8_t *s, size_t n, size_t i, int k) {
    int len;
    while (i < n && class_at(s + i, &len) == k) i += (size_t)len;
    return i;
}

size_t hs_pretok_next(const uint8_t *s, size_t n) {
    uint8_t c0 = s[0];
    if (c0 == '\'' && n >= 2) {     /* contractions, case-sensitive */
        uint8_t c1 = s[1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
        if (n >= 3 && ((c1 == 'r' && s[2] == 'e') || (c1 == 'v' && s[2] == 'e') || (c1 == 'l' && s[2] == 'l')))
            return 3;
    }
    int len0, len1;
    int k0 = class_at(s, &len0);
    if (c0 == ' ' && n > 1) {       /* " ?X+" with the optional space */
        int k1 = class_at(s + 1, &len1);
        if (k1 != HS_UC_SPACE) return run_end(s, n, 1 + (size_t)len1, k1);
    }
    if (k0 != HS_UC_SPACE) return run_end(s, n, (size_t)len0, k0);
    /* whitespace: \s+(?!\S) gives the run minus its last character when a non-space follows
     * (and fails if that leaves nothing); then \s+ takes the single character */
    size_t i = (size_t)len0, last = 0;
    int len;
    while (i < n && class_at(s + i, &len) == HS_UC_SPACE) { last = i; i += (size_t)len; }
    if (i == n || last == 0) return i;
    return last;
}
