/* tok_internal.h — private pieces of the byte-level BPE tokenizer (src/tokenizer/):
 * UTF-8 helpers, Unicode 9 NFC, the GPT-2 pre-tokenizer (hand-written matcher and the
 * Oniguruma reference), shared by tokenizer.c and the tests. */
#ifndef HS_TOK_INTERNAL_H
#define HS_TOK_INTERNAL_H
#include "core/internal.h"
#include "headscan/tokenizer.h"
#include <stddef.h>
#include <stdint.h>

/* Decodes one scalar value from VALID UTF-8 at s (s < end); *len gets its byte length. */
static inline uint32_t hs_utf8_next(const uint8_t *s, int *len) {
    uint8_t c = s[0];
    if (c < 0x80) { *len = 1; return c; }
    if (c < 0xE0) { *len = 2; return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F); }
    if (c < 0xF0) { *len = 3; return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
    *len = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}
/* Writes cp as UTF-8 into out (room for 4); returns the byte count. */
int hs_utf8_put(uint32_t cp, uint8_t *out);
/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when invalid; on 0, *bad gets
 * the length of the maximal subpart to replace by one U+FFFD (>= 1, Unicode practice). */
int hs_utf8_check(const uint8_t *s, size_t n, size_t *bad);
/* Offset of the first invalid byte in s[0..n), or n when all valid. */
size_t hs_utf8_first_invalid(const uint8_t *s, size_t n);
/* Copy of s with each maximal invalid subpart replaced by U+FFFD (malloc'd). */
hs_status hs_utf8_replace(const uint8_t *s, size_t n, uint8_t **out, size_t *out_len);

/* NFC with HuggingFace's Unicode 9.0 tables. hs_nfc_quick returns 1 when s (valid UTF-8)
 * is certainly unchanged by NFC. hs_nfc writes the normalized text into a malloc'd buffer. */
int hs_nfc_quick(const uint8_t *s, size_t n);
hs_status hs_nfc(const uint8_t *s, size_t n, uint8_t **out, size_t *out_len);

/* GPT-2 pre-tokenizer: length in bytes of the pre-token starting at s[0] (valid UTF-8,
 * n > 0), as Oniguruma finds leftmost-first matches of
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Pre-tokens tile the text (every character is matched by some alternative). */
size_t hs_pretok_next(const uint8_t *s, size_t n);

/* The Llama 3 (max_digits 3) / Qwen2 (max_digits 1) Split regex, same contract:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
size_t hs_pretok_split_next(const uint8_t *s, size_t n, int max_digits);

/* Oniguruma regexes (Ruby syntax, UTF-8), as HF's SysRegex. A compile error is
 * HS_ERR_UNSUPPORTED with Oniguruma's message in err. Searches are thread-safe. */
typedef struct hs_regex hs_regex;
hs_status hs_regex_new(const char *pat, size_t len, hs_regex **out, char *err, size_t errlen);
void hs_regex_free(hs_regex *r);
/* Leftmost match in s[from..n) (look-behind sees s[0..from)): 1 and [*ms, *me), 0 none, -1 error. */
int hs_regex_search(const hs_regex *r, const uint8_t *s, size_t n, size_t from, size_t *ms, size_t *me);
/* 1 when the regex matches at s + at exactly (anchored there). */
int hs_regex_match_at(const hs_regex *r, const uint8_t *s, size_t n, size_t at);

/* Words longer than this many bytes go through the O(n log n) heap BPE instead of the
 * quadratic array loop (both give HF's result; tests set it to 0 to check the heap path). */
extern int hs_tok_bpe_heap_threshold;

/* Reference implementation with Debian's Oniguruma (tests only; Unicode 14 tables, so it
 * differs from HF on letters/digits added in Unicode 15 and 16). */
typedef struct hs_pretok_onig hs_pretok_onig;
hs_status hs_pretok_onig_new(hs_pretok_onig **out);
void hs_pretok_onig_free(hs_pretok_onig *r);
/* Same contract as hs_pretok_next; returns 0 on an engine error. */
size_t hs_pretok_onig_next(hs_pretok_onig *r, const uint8_t *s, size_t n);
/* Makes room for `extra` more ids in *o (doubling); the one growth rule for hs_ids. */
hs_status hs_ids_reserve(hs_ids *o, size_t extra);

#endif
