/* pretok_onig.c — the GPT-2 pre-tokenizer regex run by Debian's Oniguruma, the engine HF
 * tokenizers uses (Ruby syntax, UTF-8). The tests use it as the reference for the
 * hand-written matcher in pretok.c (Debian's 6.9.8 has Unicode 14 tables; HF bundles a
 * newer Oniguruma, so characters added in Unicode 15-16 are classified differently). */
#include "tokenizer/tok_internal.h"
#include <stdio.h>
#include <oniguruma.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hs_pretok_onig { regex_t *re; OnigRegion *region; };

static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;
static void onig_init_once(void) {
    OnigEncoding enc = ONIG_ENCODING_UTF8;
    onig_initialize(&enc, 1);
}

hs_status hs_pretok_onig_new(hs_pretok_onig **out) {
    *out = NULL;
    pthread_once(&onig_once, onig_init_once);
    hs_pretok_onig *r = hs_calloc(1, sizeof *r);
    if (!r) return HS_ERR_NOMEM;
    OnigErrorInfo einfo;
    int rc = onig_new(&r->re, (const UChar *)GPT2_PATTERN, (const UChar *)GPT2_PATTERN + sizeof GPT2_PATTERN - 1,
                      ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &einfo);
    if (rc != ONIG_NORMAL) {
        free(r);
        return hs_errorf(HS_ERR_INTERNAL, "Oniguruma rejected the GPT-2 pattern (code %d)", rc);
    }
    r->region = onig_region_new();
    *out = r;
    return HS_OK;
}

void hs_pretok_onig_free(hs_pretok_onig *r) {
    if (!r) return;
    onig_region_free(r->region, 1);
    onig_free(r->re);
    free(r);
}

size_t hs_pretok_onig_next(hs_pretok_onig *r, const uint8_t *s, size_t n) {
    int pos = onig_search(r->re, s, s + n, s, s + n, r->region, ONIG_OPTION_NONE);
    if (pos != 0) return 0;   /* no match, or a match not at the start: not a tiling */
    return (size_t)r->region->end[0];
}

/* ---- general regexes (Split pre-tokenizer patterns, single_word boundaries) ---- */
struct hs_regex { regex_t *re; };

hs_status hs_regex_new(const char *pat, size_t len, hs_regex **out, char *err, size_t errlen) {
    *out = NULL;
    pthread_once(&onig_once, onig_init_once);
    hs_regex *r = hs_calloc(1, sizeof *r);
    if (!r) return HS_ERR_NOMEM;
    OnigErrorInfo einfo;
    int rc = onig_new(&r->re, (const UChar *)pat, (const UChar *)pat + len, ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                      ONIG_SYNTAX_RUBY, &einfo);
    if (rc != ONIG_NORMAL) {
        UChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(msg, rc, &einfo);
        snprintf(err, errlen, "%s", (const char *)msg);
        free(r);
        return HS_ERR_UNSUPPORTED;
    }
    *out = r;
    return HS_OK;
}

void hs_regex_free(hs_regex *r) {
    if (!r) return;
    onig_free(r->re);
    free(r);
}

int hs_regex_search(const hs_regex *r, const uint8_t *s, size_t n, size_t from, size_t *ms, size_t *me) {
    OnigRegion *region = onig_region_new();
    if (!region) return -1;
    int pos = onig_search(r->re, s, s + n, s + from, s + n, region, ONIG_OPTION_NONE);
    int ret = 0;
    if (pos >= 0) {
        *ms = (size_t)region->beg[0];
        *me = (size_t)region->end[0];
        ret = 1;
    } else if (pos != ONIG_MISMATCH) {
        ret = -1;
    }
    onig_region_free(region, 1);
    return ret;
}

int hs_regex_match_at(const hs_regex *r, const uint8_t *s, size_t n, size_t at) {
    return onig_match(r->re, s, s + n, s + at, NULL, ONIG_OPTION_NONE) >= 0;
}
