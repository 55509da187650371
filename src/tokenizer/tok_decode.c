/* tok_decode.c — HF's decoder chain (Tokenizer::decode, special tokens kept): each id's token
 * string (added tokens first), then the decoder steps over the list of strings, then joined.
 * Steps: ByteLevel (all tokens -> their bytes -> one lossy UTF-8 string), Replace, ByteFallback
 * (runs of <0xNN> -> their bytes if valid UTF-8, else one U+FFFD per token), Fuse, Strip,
 * Metaspace; no decoder joins the tokens with " ". (ByteLevel alone takes the per-id fast path in
 * tokenizer.c.) */
#define _GNU_SOURCE
#include "tokenizer/tok_struct.h"
#include <stdlib.h>
#include <string.h>

/* token i = buf[off[i] .. off[i + 1]) */
typedef struct { uint8_t *buf; size_t len, cap, *off, n, ncap; } toklist;

static void tl_free(toklist *l) { free(l->buf); free(l->off); memset(l, 0, sizeof *l); }

static hs_status tl_bytes(toklist *l, const void *p, size_t n) {
    if (l->len + n + 1 > l->cap) {
        size_t nc = l->cap ? l->cap : 256;
        while (nc < l->len + n + 1) nc *= 2;
        uint8_t *b = realloc(l->buf, nc);
        if (!b) return hs_errorf(HS_ERR_NOMEM, "out of memory decoding");
        l->buf = b;
        l->cap = nc;
    }
    if (n) memcpy(l->buf + l->len, p, n);
    l->len += n;
    return HS_OK;
}

/* Ends the token being written (its bytes were appended since the previous end). */
static hs_status tl_end(toklist *l) {
    if (!l->buf) {   /* buf exists once a token does, even an empty one */
        hs_status s = tl_bytes(l, NULL, 0);
        if (s) return s;
    }
    if (l->n + 2 > l->ncap) {
        size_t nc = l->ncap ? 2 * l->ncap : 64;
        size_t *o = realloc(l->off, nc * sizeof *o);
        if (!o) return hs_errorf(HS_ERR_NOMEM, "out of memory decoding");
        l->off = o;
        l->ncap = nc;
    }
    if (l->n == 0) l->off[0] = 0;
    l->off[++l->n] = l->len;
    return HS_OK;
}

static hs_status tl_push(toklist *l, const void *p, size_t n) {
    hs_status s = tl_bytes(l, p, n);
    return s ? s : tl_end(l);
}

#define TOK(l, i) ((l)->buf + (l)->off[i])
#define TLEN(l, i) ((l)->off[(i) + 1] - (l)->off[i])

static const char FFFD[] = "\xEF\xBF\xBD";

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

/* "<0xNN>" -> NN (u8::from_str_radix of the two characters, which also takes "+N"), else -1 */
static int byte_token(const uint8_t *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    if (s[3] == '+') return hexval(s[4]);
    int hi = hexval(s[3]), lo = hexval(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static hs_status flush_bytes(toklist *o, uint8_t *bytes, size_t *nb) {
    hs_status s = HS_OK;
    if (!*nb) return s;
    if (hs_utf8_first_invalid(bytes, *nb) == *nb) s = tl_push(o, bytes, *nb);
    else
        for (size_t k = 0; k < *nb && !s; k++) s = tl_push(o, FFFD, 3);
    *nb = 0;
    return s;
}

static hs_status step(const hs_tokenizer *t, const dec_step *d, const toklist *in, toklist *o) {
    hs_status s = HS_OK;
    switch (d->kind) {
    case DEC_BYTELEVEL: {
        uint32_t map[256], inv[0x144];
        hs_tok_byte_map(map);
        for (int i = 0; i < 0x144; i++) inv[i] = 0xFFFF;
        for (int b = 0; b < 256; b++) inv[map[b]] = (uint32_t)b;
        for (size_t i = 0; i < in->n && !s; i++) {
            const uint8_t *p = TOK(in, i);
            size_t n = TLEN(in, i), start = o->len;
            for (size_t j = 0; j < n && !s;) {
                int len;
                uint32_t cp = hs_utf8_next(p + j, &len);
                if (cp >= 0x144 || inv[cp] > 255) {   /* not all byte symbols: the token's own text */
                    o->len = start;
                    s = tl_bytes(o, p, n);
                    break;
                }
                uint8_t b = (uint8_t)inv[cp];
                s = tl_bytes(o, &b, 1);
                j += (size_t)len;
            }
        }
        if (s) return s;
        if (hs_utf8_first_invalid(o->buf ? o->buf : (uint8_t *)"", o->len) != o->len) {
            uint8_t *fixed;
            size_t fl;
            if ((s = hs_utf8_replace(o->buf, o->len, &fixed, &fl))) return s;
            o->len = 0;
            s = tl_bytes(o, fixed, fl);
            free(fixed);
            if (s) return s;
        }
        return tl_end(o);
    }
    case DEC_BYTEFALLBACK: {
        uint8_t *bytes = hs_malloc(in->n + 1);
        size_t nb = 0;
        if (!bytes) return HS_ERR_NOMEM;
        for (size_t i = 0; i < in->n && !s; i++) {
            int b = byte_token(TOK(in, i), TLEN(in, i));
            if (b >= 0) { bytes[nb++] = (uint8_t)b; continue; }
            s = flush_bytes(o, bytes, &nb);
            if (!s) s = tl_push(o, TOK(in, i), TLEN(in, i));
        }
        if (!s) s = flush_bytes(o, bytes, &nb);
        free(bytes);
        return s;
    }
    case DEC_FUSE:
        if (in->n) s = tl_bytes(o, TOK(in, 0), in->len - in->off[0]);
        return s ? s : tl_end(o);
    default:
        break;
    }
    for (size_t i = 0; i < in->n && !s; i++) {
        const uint8_t *p = TOK(in, i);
        size_t n = TLEN(in, i);
        if (d->kind == DEC_REPLACE) {
            uint8_t *r;
            size_t rl;
            if ((s = hs_tok_replace_all(p, n, d->a, d->alen, d->b, d->blen, 0, &r, &rl))) return s;
            s = tl_push(o, r, rl);
            free(r);
        } else if (d->kind == DEC_STRIP) {
            /* up to `start` leading and `stop` trailing content characters */
            size_t a = 0, b = n;
            for (int k = 0; k < d->start && a < n; k++) {
                int len;
                if (hs_utf8_next(p + a, &len) != d->content) break;
                a += (size_t)len;
            }
            for (int k = 0; k < d->stop && b > 0; k++) {
                size_t q = b;
                do q--; while (q > 0 && (p[q] & 0xC0) == 0x80);
                int len;
                if (hs_utf8_next(p + q, &len) != d->content) break;
                b = q;
            }
            s = tl_push(o, p + a, b > a ? b - a : 0);
        } else {   /* DEC_METASPACE: replacement -> " ", dropped in the first token unless "never" */
            for (size_t j = 0; j < n && !s;) {
                int len;
                uint32_t cp = hs_utf8_next(p + j, &len);
                if (cp != d->repl) s = tl_bytes(o, p + j, (size_t)len);
                else if (!(i == 0 && d->scheme != SCHEME_NEVER)) s = tl_bytes(o, " ", 1);
                j += (size_t)len;
            }
            if (!s) s = tl_end(o);
        }
    }
    return s;
}

hs_status hs_tok_decode_chain(const hs_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *out_len) {
    toklist a = {0}, b = {0};
    hs_status s = HS_OK;
    for (size_t i = 0; i < n && !s; i++)
        if (ids[i] < t->n_ids && t->tok_str[ids[i]]) s = tl_push(&a, t->tok_str[ids[i]], t->tok_len[ids[i]]);
    for (size_t k = 0; k < t->n_dec && !s; k++) {
        s = step(t, &t->dec[k], &a, &b);
        tl_free(&a);
        a = b;
        memset(&b, 0, sizeof b);
    }
    /* join (no decoder: with " ") */
    for (size_t i = 0; i < a.n && !s; i++) {
        if (i && !t->n_dec) s = tl_bytes(&b, " ", 1);
        if (!s) s = tl_bytes(&b, TOK(&a, i), TLEN(&a, i));
    }
    if (!s) s = tl_bytes(&b, "", 1);   /* the NUL (room is there: tl_bytes keeps one spare byte) */
    tl_free(&a);
    if (s) { tl_free(&b); return s; }
    *out = (char *)b.buf;
    *out_len = b.len - 1;
    free(b.off);
    return HS_OK;
}
