/* jsonl.c — pulls one string field out of one JSON object (a JSONL line).
 *
 * Why not cJSON: its strings are NUL-terminated, so a document holding "\u0000"
 * (dev.jsonl has one) would be cut short. This is a strict RFC 8259 scanner that
 * decodes only the wanted top-level field (with its length) and validates and skips
 * everything else, iteratively bounded in depth. Python's json module is the
 * model: duplicate keys -> the last wins; NaN/Infinity are accepted in skipped
 * values; unescaped control characters and lone surrogate escapes are errors
 * (the HF tokenizer could not take a lone surrogate either).
 */
#include "data/jsonl.h"
#include "tokenizer/tok_internal.h"
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 512

typedef struct {
    const unsigned char *p, *start, *end;
    const char *err;       /* static message on failure */
} jcur;

static void skip_ws(jcur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static bool sb_reserve(hs_strbuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1) {
        if (nc > SIZE_MAX / 2) return false;
        nc *= 2;
    }
    char *nd = realloc(b->data, nc);
    if (!nd) return false;
    b->data = nd;
    b->cap = nc;
    return true;
}

static int hexval(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static long read_u4(jcur *c) {  /* after "\u" */
    if (c->end - c->p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(c->p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    c->p += 4;
    return v;
}

/* Parses a string at c->p (which is '"'); appends the decoded bytes to out when
 * out != NULL. Returns false (c->err set) on malformed input or out of memory. */
static bool parse_string(jcur *c, hs_strbuf *out) {
    c->p++;
    for (;;) {
        const unsigned char *q = c->p;
        while (q < c->end && *q != '"' && *q != '\\' && *q >= 0x20) q++;
        if (out && q > c->p) {
            if (!sb_reserve(out, (size_t)(q - c->p))) { c->err = "out of memory"; return false; }
            memcpy(out->data + out->len, c->p, (size_t)(q - c->p));
            out->len += (size_t)(q - c->p);
        }
        c->p = q;
        if (q >= c->end) { c->err = "unterminated string"; return false; }
        if (*q == '"') { c->p++; return true; }
        if (*q < 0x20) { c->err = "unescaped control character in a string"; return false; }
        /* escape */
        if (q + 1 >= c->end) { c->err = "unterminated string"; return false; }
        unsigned char e = q[1];
        c->p = q + 2;
        char one = 0;
        switch (e) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': break;
        default: c->err = "invalid escape in a string"; return false;
        }
        if (e != 'u') {
            if (out) {
                if (!sb_reserve(out, 1)) { c->err = "out of memory"; return false; }
                out->data[out->len++] = one;
            }
            continue;
        }
        long cp = read_u4(c);
        if (cp < 0) { c->err = "invalid \\u escape"; return false; }
        if (cp >= 0xDC00 && cp <= 0xDFFF) { c->err = "lone low surrogate \\u escape (not valid Unicode text)"; return false; }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') {
                c->err = "lone high surrogate \\u escape (not valid Unicode text)";
                return false;
            }
            c->p += 2;
            long lo = read_u4(c);
            if (lo < 0xDC00 || lo > 0xDFFF) { c->err = "lone high surrogate \\u escape (not valid Unicode text)"; return false; }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (out) {
            if (!sb_reserve(out, 4)) { c->err = "out of memory"; return false; }
            out->len += (size_t)hs_utf8_put((uint32_t)cp, (uint8_t *)out->data + out->len);
        }
    }
}

static bool match_word(jcur *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return false;
    c->p += n;
    return true;
}

static bool parse_number(jcur *c) {
    const unsigned char *p = c->p;
    if (p < c->end && *p == '-') p++;
    if (p < c->end && *p == 'I') { c->p = p; if (match_word(c, "Infinity")) return true; c->err = "invalid literal"; return false; }
    if (p >= c->end || *p < '0' || *p > '9') { c->err = "invalid value"; return false; }
    if (*p == '0') p++;
    else while (p < c->end && *p >= '0' && *p <= '9') p++;
    if (p < c->end && *p == '.') {
        p++;
        if (p >= c->end || *p < '0' || *p > '9') { c->err = "invalid number"; return false; }
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-')) p++;
        if (p >= c->end || *p < '0' || *p > '9') { c->err = "invalid number"; return false; }
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    c->p = p;
    return true;
}

/* A member's key (decoded into `key` unless NULL) and the ':' after it. */
static bool parse_key(jcur *c, hs_strbuf *key) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') { c->err = "expected a key string"; return false; }
    if (key) key->len = 0;
    if (!parse_string(c, key)) return false;
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':') { c->err = "expected ':'"; return false; }
    c->p++;
    return true;
}

/* Skips one value of any kind, validating it. Containers are tracked with an
 * explicit stack of '{' / '[' so that depth is bounded without recursion. */
static bool skip_value(jcur *c) {
    char stack[JSON_MAX_DEPTH];
    int depth = 0;
    for (;;) {
        skip_ws(c);
        if (c->p >= c->end) { c->err = "unexpected end of line"; return false; }
        unsigned char ch = *c->p;
        if (ch == '"') { if (!parse_string(c, NULL)) return false; }
        else if (ch == '{' || ch == '[') {
            if (depth >= JSON_MAX_DEPTH) { c->err = "nested too deeply"; return false; }
            stack[depth++] = (char)ch;
            c->p++;
            skip_ws(c);
            if (c->p < c->end && *c->p == (ch == '{' ? '}' : ']')) { c->p++; depth--; }
            else {
                if (ch == '{' && !parse_key(c, NULL)) return false;  /* first key */
                continue;
            }
        }
        else if (ch == 't') { if (!match_word(c, "true")) { c->err = "invalid literal"; return false; } }
        else if (ch == 'f') { if (!match_word(c, "false")) { c->err = "invalid literal"; return false; } }
        else if (ch == 'n') { if (!match_word(c, "null")) { c->err = "invalid literal"; return false; } }
        else if (ch == 'N') { if (!match_word(c, "NaN")) { c->err = "invalid literal"; return false; } }
        else if (!parse_number(c)) return false;
        /* after a complete value: close containers or move to the next element */
        for (;;) {
            if (depth == 0) return true;
            skip_ws(c);
            if (c->p >= c->end) { c->err = "unexpected end of line"; return false; }
            char top = stack[depth - 1];
            if (*c->p == ',') {
                c->p++;
                if (top == '{' && !parse_key(c, NULL)) return false;
                break;
            }
            if (*c->p == (top == '{' ? '}' : ']')) { c->p++; depth--; continue; }
            c->err = top == '{' ? "expected ',' or '}'" : "expected ',' or ']'";
            return false;
        }
    }
}

static const char *kind_of(unsigned char ch) {
    switch (ch) {
    case '{': return "an object";
    case '[': return "an array";
    case 't': case 'f': return "a boolean";
    default: return "a number";
    }
}

hs_status hs_jsonl_field(const char *line, size_t len, const char *field, size_t field_len,
                         hs_strbuf *value, hs_strbuf *keybuf, hs_json_kind *kind,
                         const char **what, size_t *col) {
    jcur c = {(const unsigned char *)line, (const unsigned char *)line, (const unsigned char *)line + len, NULL};
    *kind = HS_JSON_MISSING;
    *what = NULL;
    value->len = 0;
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{') { c.err = "not a JSON object"; goto fail; }
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') { c.p++; goto done; }
    for (;;) {
        if (!parse_key(&c, keybuf)) goto fail;
        skip_ws(&c);
        if (c.p >= c.end) { c.err = "unexpected end of line"; goto fail; }
        if (keybuf->len == field_len && memcmp(keybuf->data, field, field_len) == 0) {
            unsigned char ch = *c.p;
            if (ch == '"') {
                value->len = 0;
                if (!parse_string(&c, value)) goto fail;
                *kind = HS_JSON_STRING;
            } else if (ch == 'n' && match_word(&c, "null")) {
                *kind = HS_JSON_NULL;
            } else {
                *kind = HS_JSON_OTHER;
                *what = kind_of(ch);
                if (!skip_value(&c)) goto fail;
            }
        } else if (!skip_value(&c)) goto fail;
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') { c.p++; continue; }
        if (c.p < c.end && *c.p == '}') { c.p++; break; }
        c.err = "expected ',' or '}'";
        goto fail;
    }
done:
    skip_ws(&c);
    if (c.p != c.end) { c.err = "extra characters after the object"; goto fail; }
    if (value->data && sb_reserve(value, 0)) value->data[value->len] = 0;
    return HS_OK;
fail:
    *what = c.err;
    *col = (size_t)(c.p - c.start);
    return strcmp(c.err, "out of memory") == 0 ? HS_ERR_NOMEM : HS_ERR_FORMAT;
}
