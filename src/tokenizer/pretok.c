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

/* The Llama 3 / Qwen2 Split regex (tiktoken's cl100k pattern; max_digits 3 for Llama 3, 1 for
 * Qwen2's \p{N}):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
 *   |\s*[\r\n]+|\s+(?!\S)|\s+
 * Matches tile the text too. (?i:) folds case with Unicode case folding: 'S and 'ſ (U+017F,
 * folds to s) match 's; no other character folds to t, r, e, v, m, l or d. */
static inline int is_crlf(uint8_t c) { return c == '\r' || c == '\n'; }

/* Length of the contraction at s (s[0] == '\''), or 0. */
static size_t contraction(const uint8_t *s, size_t n) {
    if (n < 2) return 0;
    uint8_t c1 = s[1] | 0x20;   /* ASCII letters only below; | 0x20 lower-cases them */
    if (s[1] == 0xC5 && n >= 3 && s[2] == 0xBF) return 3;   /* 'ſ */
    if (!((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z'))) return 0;
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (n >= 3 && ((s[2] >= 'A' && s[2] <= 'Z') || (s[2] >= 'a' && s[2] <= 'z'))) {
        uint8_t c2 = s[2] | 0x20;
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    }
    return 0;
}

size_t hs_pretok_split_next(const uint8_t *s, size_t n, int max_digits) {
    if (s[0] == '\'') {
        size_t k = contraction(s, n);
        if (k) return k;
    }
    int len0, len1;
    int k0 = class_at(s, &len0);
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (k0 == HS_UC_LETTER) return run_end(s, n, (size_t)len0, HS_UC_LETTER);
    if (k0 != HS_UC_NUMBER && !is_crlf(s[0]) && (size_t)len0 < n &&
        class_at(s + len0, &len1) == HS_UC_LETTER)
        return run_end(s, n, (size_t)(len0 + len1), HS_UC_LETTER);
    /* \p{N}{1,max_digits} */
    if (k0 == HS_UC_NUMBER) {
        size_t i = (size_t)len0;
        for (int d = 1; d < max_digits && i < n && class_at(s + i, &len1) == HS_UC_NUMBER; d++) i += (size_t)len1;
        return i;
    }
    /* " ?[^\s\p{L}\p{N}]+[\r\n]*" */
    size_t start = 0;
    if (s[0] == ' ' && n > 1 && class_at(s + 1, &len1) == HS_UC_OTHER) start = 1;
    if (start || k0 == HS_UC_OTHER) {
        size_t i = run_end(s, n, start ? 1 + (size_t)len1 : (size_t)len0, HS_UC_OTHER);
        while (i < n && is_crlf(s[i])) i++;
        return i;
    }
    /* whitespace (k0 == SPACE): \s*[\r\n]+ ends after the run's last \r or \n */
    size_t i = 0, last = 0, last_nl = 0;
    int len;
    while (i < n && class_at(s + i, &len) == HS_UC_SPACE) {
        if (is_crlf(s[i])) last_nl = i + 1;
        last = i;
        i += (size_t)len;
    }
    if (last_nl) return last_nl;
    /* \s+(?!\S), then \s+ */
    if (i == n || last == 0) return i;
    return last;
}
