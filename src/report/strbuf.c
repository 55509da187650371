/* strbuf.c — growable strings and HTML escaping for the report writers. */
#include "report/strbuf.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void hs_sb_add(hs_sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = true; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void hs_sb_str(hs_sb *b, const char *s) { hs_sb_add(b, s, strlen(s)); }

void hs_sb_printf(hs_sb *b, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof buf) { hs_sb_add(b, buf, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = true; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    hs_sb_add(b, big, (size_t)n);
    free(big);
}

hs_status hs_sb_take(hs_sb *b, char **out) {
    if (b->oom) {
        hs_sb_free(b);
        *out = NULL;
        return hs_errorf(HS_ERR_NOMEM, "out of memory building a report string");
    }
    if (!b->s) hs_sb_add(b, "", 0);
    if (b->oom) return hs_sb_take(b, out);
    *out = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return HS_OK;
}

void hs_sb_free(hs_sb *b) {
    free(b->s);
    *b = (hs_sb){0};
}

void hs_sb_html(hs_sb *b, const char *s, size_t n, bool ws) {
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#x27;"; break;
        case '\n': rep = ws ? "<br/>" : NULL; break;
        case '\t': rep = ws ? "&emsp;" : NULL; break;
        case ' ': rep = ws ? "&nbsp;" : NULL; break;
        default: break;
        }
        if (!rep) continue;
        hs_sb_add(b, s + run, i - run);
        hs_sb_str(b, rep);
        run = i + 1;
    }
    hs_sb_add(b, s + run, n - run);
}
