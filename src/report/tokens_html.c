/* tokens_html.c — the study's create_html token colouring (sign bug fixed) and
 * Python's repr() of strings, as test_prompt prints them (analysis.md §13). */
#include "headscan/report.h"
#include "report/strbuf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* colorsys.hsv_to_rgb, in double as Python computes it. */
static void hsv_to_rgb(double h, double s, double v, double rgb[3]) {
    if (s == 0.0) { rgb[0] = rgb[1] = rgb[2] = v; return; }
    int i = (int)(h * 6.0);
    double f = h * 6.0 - i, p = v * (1.0 - s), q = v * (1.0 - s * f), t = v * (1.0 - s * (1.0 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    rgb[0] = r; rgb[1] = g; rgb[2] = b;
}

void hs_token_colour(float v, float vmax, float saturation, char hex[8]) {
    double s = 0.0;
    if (vmax > 0 && isfinite(v) && isfinite(vmax)) s = (double)v / (double)vmax * (double)saturation;
    double hue = s < 0 ? 0.0 : 0.66, rgb[3];
    /* the study passes the signed s (a bug: channels above 255); the magnitude is meant */
    hsv_to_rgb(hue, fabs(s) > 1.0 ? 1.0 : fabs(s), 1.0, rgb);
    int c[3];
    for (int k = 0; k < 3; k++) {
        double x = rgb[k] * 255.0;
        c[k] = x <= 0 ? 0 : x >= 255 ? 255 : (int)x;
    }
    snprintf(hex, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

hs_status hs_tokens_html(const char *const *strings, const float *values, size_t n, float saturation, long highlight,
                         char **out) {
    if (!out || (n && (!strings || !values))) return hs_errorf(HS_ERR_INVALID_ARG, "hs_tokens_html: NULL argument");
    float mx = -INFINITY, mn = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) continue;
        mx = values[i] > mx ? values[i] : mx;
        mn = values[i] < mn ? values[i] : mn;
    }
    float vmax = n && isfinite(mx) ? (mx > -mn ? mx : -mn) : 0.0f;   /* max(max(values), -min(values)) */
    hs_sb b = {0};
    hs_sb_str(&b, "<div class=\"hs-tokens\">");
    for (size_t i = 0; i < n; i++) {
        char hex[8];
        hs_token_colour(values[i], vmax, saturation, hex);
        hs_sb_printf(&b, "<span class=\"tok%s\" style=\"background-color: %s; border: 1px solid lightgray; font-size: 16px; "
                         "border-radius: 3px;\" title=\"%.4g\">",
                     (long)i == highlight ? " tok-hl" : "", hex, (double)values[i]);
        const char *s = strings[i] ? strings[i] : "";
        hs_sb_html(&b, s, strlen(s), true);
        hs_sb_str(&b, "</span>");
    }
    hs_sb_str(&b, "</div>");
    return hs_sb_take(&b, out);
}

/* str.isprintable() of one code point: false for categories Cc Cf Cs Co Cn Zl Zp Zs
 * (except the ASCII space). */
static bool py_printable(int32_t c) {
    if (c == ' ') return true;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
        return false;
    default: return true;
    }
}

static hs_status repr_into(hs_sb *b, const char *s, size_t len) {
    bool has_sq = memchr(s, '\'', len) != NULL, has_dq = memchr(s, '"', len) != NULL;
    char quote = has_sq && !has_dq ? '"' : '\'';
    hs_sb_add(b, &quote, 1);
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) return hs_errorf(HS_ERR_FORMAT, "repr: invalid UTF-8 at byte %zu", i);
        if (c == quote || c == '\\') { hs_sb_add(b, "\\", 1); hs_sb_add(b, s + i, 1); }
        else if (c == '\n') hs_sb_str(b, "\\n");
        else if (c == '\r') hs_sb_str(b, "\\r");
        else if (c == '\t') hs_sb_str(b, "\\t");
        else if (c < 0x20 || c == 0x7f) hs_sb_printf(b, "\\x%02x", (unsigned)c);
        else if (c < 0x7f || py_printable(c)) hs_sb_add(b, s + i, (size_t)k);
        else if (c <= 0xff) hs_sb_printf(b, "\\x%02x", (unsigned)c);
        else if (c <= 0xffff) hs_sb_printf(b, "\\u%04x", (unsigned)c);
        else hs_sb_printf(b, "\\U%08x", (unsigned)c);
        i += (size_t)k;
    }
    hs_sb_add(b, &quote, 1);
    return HS_OK;
}

hs_status hs_py_repr(const char *s, size_t len, char **out) {
    if (!s || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_py_repr: NULL argument");
    hs_sb b = {0};
    hs_status st = repr_into(&b, s, len);
    if (st) { hs_sb_free(&b); return st; }
    return hs_sb_take(&b, out);
}

hs_status hs_py_repr_list(const char *const *items, size_t n, char **out) {
    if ((n && !items) || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_py_repr_list: NULL argument");
    hs_sb b = {0};
    hs_sb_str(&b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) hs_sb_str(&b, ", ");
        hs_status st = repr_into(&b, items[i], strlen(items[i]));
        if (st) { hs_sb_free(&b); return hs_error_prefix(st, "item %zu", i); }
    }
    hs_sb_str(&b, "]");
    return hs_sb_take(&b, out);
}
