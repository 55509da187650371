/* tok_config.c — the pipeline parts of a tokenizer.json: normalizer, pre_tokenizer, decoder and
 * post_processor, as HF tokenizers deserializes them. Every type or option headscan does not
 * implement is an HS_ERR_UNSUPPORTED error naming the file and the JSON path (e.g.
 * "normalizer.normalizers[2].type \"NFKC\""): never a silently different tokenization. */
#define _GNU_SOURCE
#include "tokenizer/tok_struct.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Llama 3's and Qwen2's Split regexes run on the hand-written matcher (pretok.c). */
static const char TIKTOKEN_RE_HEAD[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}";
static const char TIKTOKEN_RE_TAIL[] = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* Grows a step array by one (zeroed); NULL when out of memory. */
static void *push_step(void **arr, size_t *n, size_t size) {
    char *a = realloc(*arr, (*n + 1) * size);
    if (!a) return NULL;
    *arr = a;
    memset(a + *n * size, 0, size);
    return a + (*n)++ * size;
}

static char *dup_str(const char *s, size_t *len) {
    *len = strlen(s);
    return hs_strdup(s);
}

/* A one-character string (e.g. Metaspace's replacement) as a code point; -1 if not exactly one. */
static int64_t one_char(const cJSON *o) {
    if (!cJSON_IsString(o) || !o->valuestring[0]) return -1;
    int len;
    uint32_t cp = hs_utf8_next((const uint8_t *)o->valuestring, &len);
    return o->valuestring[len] ? -1 : (int64_t)cp;
}

/* pattern {"String": s} -> *str (Regex patterns: *is_regex). */
static hs_status get_pattern(const char *file, const char *jp, const cJSON *o, const char **str, bool *is_regex) {
    const cJSON *pat = hs_json_get(o, "pattern");
    const cJSON *s = hs_json_get(pat, "String"), *r = hs_json_get(pat, "Regex");
    if (cJSON_IsString(s)) { *str = s->valuestring; *is_regex = false; return HS_OK; }
    if (cJSON_IsString(r)) { *str = r->valuestring; *is_regex = true; return HS_OK; }
    return hs_errorf(HS_ERR_FORMAT, "%s: %s.pattern must be {\"String\": ...} or {\"Regex\": ...}", file, jp);
}

static hs_status get_scheme(const char *file, const char *jp, const cJSON *o, int *scheme) {
    const cJSON *ps = hs_json_get(o, "prepend_scheme");
    if (hs_json_null(ps)) {   /* older files: add_prefix_space (default true) */
        const cJSON *aps = hs_json_get(o, "add_prefix_space");
        *scheme = aps && cJSON_IsFalse(aps) ? SCHEME_NEVER : SCHEME_ALWAYS;
        return HS_OK;
    }
    const char *v = cJSON_IsString(ps) ? ps->valuestring : "?";
    if (!strcmp(v, "always")) *scheme = SCHEME_ALWAYS;
    else if (!strcmp(v, "first")) *scheme = SCHEME_FIRST;
    else if (!strcmp(v, "never")) *scheme = SCHEME_NEVER;
    else return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.prepend_scheme \"%s\" is not supported", file, jp, v);
    return HS_OK;
}

/* Replace (normalizer or decoder): {"pattern": {"String": a}, "content": b}. */
static hs_status parse_replace(const char *file, const char *jp, const cJSON *o, char **a, size_t *al, char **b,
                               size_t *bl) {
    const char *pat = "";
    bool is_re = false;
    hs_status s = get_pattern(file, jp, o, &pat, &is_re);
    if (s) return s;
    if (is_re || !pat[0])
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.pattern: only a non-empty String pattern is supported", file, jp);
    const cJSON *c = hs_json_get(o, "content");
    if (!cJSON_IsString(c)) return hs_errorf(HS_ERR_FORMAT, "%s: %s.content is not a string", file, jp);
    *a = dup_str(pat, al);
    *b = dup_str(c->valuestring, bl);
    if (*a && *b) return HS_OK;
    free(*a);
    free(*b);
    *a = *b = NULL;
    return HS_ERR_NOMEM;
}

/* A "Sequence" object: parse each element of its `key` array with fn, naming "jp.key[i]". */
typedef hs_status (*parse_fn)(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, void *ctx);
static hs_status parse_seq(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, const char *key,
                           parse_fn fn, void *ctx) {
    const cJSON *list = hs_json_get(o, key);
    if (!cJSON_IsArray(list) || depth > 8)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.type \"Sequence\" needs a \"%s\" array", file, jp, key);
    size_t i = 0;
    char sub[512];
    for (const cJSON *e = list->child; e; e = e->next, i++) {
        snprintf(sub, sizeof sub, "%.400s.%s[%zu]", jp, key, i);
        hs_status s = fn(t, file, sub, e, depth + 1, ctx);
        if (s) return s;
    }
    return HS_OK;
}

/* ---- normalizer ---- */
static hs_status parse_norm(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, void *ctx) {
    const char *ty = hs_json_type(o);
    if (!ty) return hs_errorf(HS_ERR_FORMAT, "%s: %s has no \"type\"", file, jp);
    if (!strcmp(ty, "Sequence")) return parse_seq(t, file, jp, o, depth, "normalizers", parse_norm, ctx);
    norm_op op = {0};
    if (!strcmp(ty, "NFC")) {
        op.kind = NORM_NFC;
        t->nfc = true;
    } else if (!strcmp(ty, "Prepend")) {
        const cJSON *p = hs_json_get(o, "prepend");
        if (!cJSON_IsString(p)) return hs_errorf(HS_ERR_FORMAT, "%s: %s.prepend is not a string", file, jp);
        op.kind = NORM_PREPEND;
        if (!(op.a = dup_str(p->valuestring, &op.alen))) return HS_ERR_NOMEM;
    } else if (!strcmp(ty, "Replace")) {
        op.kind = NORM_REPLACE;
        hs_status s = parse_replace(file, jp, o, &op.a, &op.alen, &op.b, &op.blen);
        if (s) return s;
    } else {
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported (NFC, Prepend, Replace, Sequence)", file,
                         jp, ty);
    }
    norm_op *slot = push_step((void **)&t->norm, &t->n_norm, sizeof *slot);
    if (!slot) { free(op.a); free(op.b); return HS_ERR_NOMEM; }
    *slot = op;
    return HS_OK;
}

hs_status hs_tok_parse_normalizer(hs_tokenizer *t, const char *path, const cJSON *root) {
    const cJSON *n = hs_json_get(root, "normalizer");
    return hs_json_null(n) ? HS_OK : parse_norm(t, path, "normalizer", n, 0, NULL);
}

/* ---- pre-tokenizer ---- */
static hs_status parse_behavior(const char *file, const char *jp, const cJSON *o, int *b) {
    const cJSON *v = hs_json_get(o, "behavior");
    static const char *const names[] = {"Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    static const int vals[] = {SPLIT_ISOLATED, SPLIT_REMOVED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS};
    for (int i = 0; i < 5; i++)
        if (cJSON_IsString(v) && !strcmp(v->valuestring, names[i])) { *b = vals[i]; return HS_OK; }
    return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.behavior \"%s\" is not supported", file, jp,
                     cJSON_IsString(v) ? v->valuestring : "?");
}

static hs_status parse_split(pre_step *st, const char *file, const char *jp, const cJSON *o) {
    const char *pat = "";
    bool is_re = false;
    hs_status s = get_pattern(file, jp, o, &pat, &is_re);
    if (s || (s = parse_behavior(file, jp, o, &st->behavior))) return s;
    st->kind = PRE_SPLIT;
    st->invert = hs_json_true(hs_json_get(o, "invert"));
    if (!is_re) {
        if (!pat[0]) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.pattern: an empty String is not supported", file, jp);
        st->matcher = MATCH_STRING;
        return (st->str = dup_str(pat, &st->slen)) ? HS_OK : HS_ERR_NOMEM;
    }
    size_t hl = sizeof TIKTOKEN_RE_HEAD - 1, n = strlen(pat);
    if (n > hl && !strncmp(pat, TIKTOKEN_RE_HEAD, hl)) {
        const char *rest = pat + hl;
        int digits = !strcmp(rest, TIKTOKEN_RE_TAIL) ? 1 : !strncmp(rest, "{1,3}", 5) && !strcmp(rest + 5, TIKTOKEN_RE_TAIL) ? 3 : 0;
        if (digits) { st->matcher = MATCH_TIKTOKEN; st->max_digits = digits; return HS_OK; }
    }
    char err[256];
    st->matcher = MATCH_REGEX;
    s = hs_regex_new(pat, n, &st->re, err, sizeof err);
    if (s == HS_ERR_UNSUPPORTED)
        return hs_errorf(s, "%s: %s.pattern.Regex is not a valid Oniguruma regex: %s", file, jp, err);
    return s;
}

static hs_status parse_pre(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, void *ctx) {
    const char *ty = hs_json_type(o);
    if (!ty) return hs_errorf(HS_ERR_FORMAT, "%s: %s has no \"type\"", file, jp);
    if (!strcmp(ty, "Sequence")) return parse_seq(t, file, jp, o, depth, "pretokenizers", parse_pre, ctx);
    if (t->n_pre && t->pre[t->n_pre - 1].kind == PRE_BYTELEVEL)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s: a pre-tokenizer after ByteLevel is not supported", file, jp);
    pre_step st = {0};
    hs_status s = HS_OK;
    if (!strcmp(ty, "ByteLevel")) {
        if (hs_json_true(hs_json_get(o, "add_prefix_space")))
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.add_prefix_space=true is not supported", file, jp);
        const cJSON *ur = hs_json_get(o, "use_regex");
        st.kind = PRE_BYTELEVEL;
        st.use_regex = !(ur && cJSON_IsFalse(ur));
        t->bytelevel = true;
    } else if (!strcmp(ty, "Split")) {
        s = parse_split(&st, file, jp, o);
    } else if (!strcmp(ty, "Metaspace")) {
        int64_t cp = one_char(hs_json_get(o, "replacement"));
        if (cp < 0) return hs_errorf(HS_ERR_FORMAT, "%s: %s.replacement must be one character", file, jp);
        st.kind = PRE_METASPACE;
        st.rlen = (size_t)hs_utf8_put((uint32_t)cp, (uint8_t *)st.repl);
        const cJSON *sp = hs_json_get(o, "split");
        st.split = !(sp && cJSON_IsFalse(sp));
        st.matcher = MATCH_CHAR;
        st.behavior = SPLIT_MERGED_NEXT;
        s = get_scheme(file, jp, o, &st.scheme);
    } else {
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported (ByteLevel, Split, Metaspace, Sequence)",
                         file, jp, ty);
    }
    pre_step *slot = s ? NULL : push_step((void **)&t->pre, &t->n_pre, sizeof *slot);
    if (!slot) {
        hs_regex_free(st.re);
        free(st.str);
        return s ? s : HS_ERR_NOMEM;
    }
    *slot = st;
    return HS_OK;
}

hs_status hs_tok_parse_pre_tokenizer(hs_tokenizer *t, const char *path, const cJSON *root) {
    const cJSON *p = hs_json_get(root, "pre_tokenizer");
    return hs_json_null(p) ? HS_OK : parse_pre(t, path, "pre_tokenizer", p, 0, NULL);
}

/* ---- decoder ---- */
static hs_status parse_dec(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, void *ctx) {
    const char *ty = hs_json_type(o);
    if (!ty) return hs_errorf(HS_ERR_FORMAT, "%s: %s has no \"type\"", file, jp);
    if (!strcmp(ty, "Sequence")) return parse_seq(t, file, jp, o, depth, "decoders", parse_dec, ctx);
    dec_step d = {0};
    if (!strcmp(ty, "ByteLevel")) d.kind = DEC_BYTELEVEL;
    else if (!strcmp(ty, "ByteFallback")) d.kind = DEC_BYTEFALLBACK;
    else if (!strcmp(ty, "Fuse")) d.kind = DEC_FUSE;
    else if (!strcmp(ty, "Replace")) {
        d.kind = DEC_REPLACE;
        hs_status s = parse_replace(file, jp, o, &d.a, &d.alen, &d.b, &d.blen);
        if (s) return s;
    } else if (!strcmp(ty, "Strip")) {
        int64_t cp = one_char(hs_json_get(o, "content"));
        const cJSON *a = hs_json_get(o, "start"), *b = hs_json_get(o, "stop");
        if (cp < 0 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || b->valuedouble < 0 ||
            a->valuedouble > 1e6 || b->valuedouble > 1e6)
            return hs_errorf(HS_ERR_FORMAT, "%s: %s needs a one-character \"content\" and counts \"start\", \"stop\"", file,
                             jp);
        d.kind = DEC_STRIP;
        d.content = (uint32_t)cp;
        d.start = (int)a->valuedouble;
        d.stop = (int)b->valuedouble;
    } else if (!strcmp(ty, "Metaspace")) {
        int64_t cp = one_char(hs_json_get(o, "replacement"));
        if (cp < 0) return hs_errorf(HS_ERR_FORMAT, "%s: %s.replacement must be one character", file, jp);
        d.kind = DEC_METASPACE;
        d.repl = (uint32_t)cp;
        hs_status s = get_scheme(file, jp, o, &d.scheme);
        if (s) return s;
    } else {
        return hs_errorf(HS_ERR_UNSUPPORTED,
                         "%s: %s.type \"%s\" is not supported (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, "
                         "Sequence)", file, jp, ty);
    }
    dec_step *slot = push_step((void **)&t->dec, &t->n_dec, sizeof *slot);
    if (!slot) { free(d.a); free(d.b); return HS_ERR_NOMEM; }
    *slot = d;
    return HS_OK;
}

hs_status hs_tok_parse_decoder(hs_tokenizer *t, const char *path, const cJSON *root) {
    const cJSON *d = hs_json_get(root, "decoder");
    if (hs_json_null(d)) return HS_OK;
    hs_status s = parse_dec(t, path, "decoder", d, 0, NULL);
    t->dec_bytelevel_only = !s && t->n_dec == 1 && t->dec[0].kind == DEC_BYTELEVEL;
    return s;
}

/* ---- post-processor ---- */
static hs_status parse_template(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o) {
    static const char *const which[2] = {"single", "pair"};
    const cJSON *specials = hs_json_get(o, "special_tokens");
    for (int w = 0; w < 2; w++) {
        const cJSON *list = hs_json_get(o, which[w]);
        if (!cJSON_IsArray(list)) return hs_errorf(HS_ERR_FORMAT, "%s: %s.%s is not an array", file, jp, which[w]);
        size_t cap = 0, i = 0;
        for (const cJSON *e = list->child; e; e = e->next) {
            const cJSON *sp = hs_json_get(hs_json_get(e, "SpecialToken"), "id");
            const cJSON *ids = cJSON_IsString(sp) ? hs_json_get(hs_json_get(specials, sp->valuestring), "ids") : NULL;
            cap += cJSON_IsArray(ids) ? (size_t)cJSON_GetArraySize(ids) : 1;
        }
        free(t->tmpl[w]);
        t->tmpl_n[w] = 0;
        if (!(t->tmpl[w] = hs_malloc((cap + 1) * sizeof(int32_t)))) return HS_ERR_NOMEM;
        for (const cJSON *e = list->child; e; e = e->next, i++) {
            const cJSON *sp = hs_json_get(hs_json_get(e, "SpecialToken"), "id");
            const cJSON *seq = hs_json_get(hs_json_get(e, "Sequence"), "id");
            if (cJSON_IsString(seq) && (!strcmp(seq->valuestring, "A") || !strcmp(seq->valuestring, "B"))) {
                t->tmpl[w][t->tmpl_n[w]++] = seq->valuestring[0] == 'A' ? TMPL_A : TMPL_B;
                continue;
            }
            const cJSON *ids = cJSON_IsString(sp) ? hs_json_get(hs_json_get(specials, sp->valuestring), "ids") : NULL;
            if (!cJSON_IsArray(ids))
                return hs_errorf(HS_ERR_FORMAT, "%s: %s.%s[%zu] is neither a Sequence A/B nor a SpecialToken listed in "
                                 "special_tokens", file, jp, which[w], i);
            for (const cJSON *id = ids->child; id; id = id->next) {
                if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= t->n_ids ||
                    id->valuedouble != (double)(int32_t)id->valuedouble)
                    return hs_errorf(HS_ERR_FORMAT, "%s: %s.special_tokens[\"%s\"].ids holds an id that is not a token",
                                     file, jp, sp->valuestring);
                t->tmpl[w][t->tmpl_n[w]++] = (int32_t)id->valuedouble;
            }
        }
    }
    return HS_OK;
}

static hs_status parse_post(hs_tokenizer *t, const char *file, const char *jp, const cJSON *o, int depth, void *ctx) {
    int *n_templates = ctx;
    const char *ty = hs_json_type(o);
    if (!ty) return hs_errorf(HS_ERR_FORMAT, "%s: %s has no \"type\"", file, jp);
    if (!strcmp(ty, "ByteLevel")) return HS_OK;   /* only changes offsets */
    if (!strcmp(ty, "TemplateProcessing")) {
        if ((*n_templates)++)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s: a second TemplateProcessing is not supported", file, jp);
        return parse_template(t, file, jp, o);
    }
    if (!strcmp(ty, "Sequence")) return parse_seq(t, file, jp, o, depth, "processors", parse_post, ctx);
    return hs_errorf(HS_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported (TemplateProcessing, ByteLevel, Sequence)",
                     file, jp, ty);
}

hs_status hs_tok_parse_post_processor(hs_tokenizer *t, const char *path, const cJSON *root) {
    const cJSON *p = hs_json_get(root, "post_processor");
    int n_templates = 0;
    hs_status s = hs_json_null(p) ? HS_OK : parse_post(t, path, "post_processor", p, 0, &n_templates);
    if (s) return s;
    /* BOS: the special token the single template puts first; else <|endoftext|> (TL's GPT-2/NeoX BOS) */
    if (t->tmpl[0] && t->tmpl_n[0] && t->tmpl[0][0] >= 0) {
        t->bos = t->tmpl[0][0];
        t->adds_bos = true;
    } else {
        t->bos = hs_tok_vocab_find(t, "<|endoftext|>", 13);
    }
    return HS_OK;
}

void hs_tok_free_pipeline(hs_tokenizer *t) {
    for (size_t i = 0; i < t->n_norm; i++) { free(t->norm[i].a); free(t->norm[i].b); }
    free(t->norm);
    for (size_t i = 0; i < t->n_pre; i++) { hs_regex_free(t->pre[i].re); free(t->pre[i].str); }
    free(t->pre);
    for (size_t i = 0; i < t->n_dec; i++) { free(t->dec[i].a); free(t->dec[i].b); }
    free(t->dec);
    free(t->tmpl[0]);
    free(t->tmpl[1]);
}

/* ---- normalizing ---- */
hs_status hs_tok_replace_all(const uint8_t *s, size_t n, const char *a, size_t al, const char *b, size_t bl,
                             size_t prefix, uint8_t **out, size_t *out_len) {
    size_t count = 0;
    if (al)
        for (const uint8_t *p = s; (p = memmem(p, (size_t)(s + n - p), a, al)); p += al) count++;
    size_t cap = prefix + n - count * al + count * bl;
    uint8_t *o = hs_malloc(cap + 1), *w = o + prefix;
    if (!o) return HS_ERR_NOMEM;
    const uint8_t *p = s, *q;
    while (al && (q = memmem(p, (size_t)(s + n - p), a, al))) {
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, b, bl);
        w += bl;
        p = q + al;
    }
    memcpy(w, p, (size_t)(s + n - p));
    w += s + n - p;
    *out = o;
    *out_len = (size_t)(w - o);
    return HS_OK;
}

hs_status hs_tok_normalize(const hs_tokenizer *t, const uint8_t *s, size_t n, uint8_t **out, size_t *out_len) {
    uint8_t *cur = hs_malloc(n + 1);
    if (!cur) return HS_ERR_NOMEM;
    memcpy(cur, s, n);
    size_t len = n;
    for (size_t i = 0; i < t->n_norm; i++) {
        const norm_op *op = &t->norm[i];
        uint8_t *next = NULL;
        size_t nl = 0;
        hs_status st = HS_OK;
        if (op->kind == NORM_NFC) {
            if (hs_nfc_quick(cur, len)) continue;
            st = hs_nfc(cur, len, &next, &nl);
        } else if (op->kind == NORM_PREPEND) {
            if (!len) continue;   /* HF prepends to non-empty strings only */
            if (!(st = hs_tok_replace_all(cur, len, NULL, 0, NULL, 0, op->alen, &next, &nl)))
                memcpy(next, op->a, op->alen);
        } else {
            if (!memmem(cur, len, op->a, op->alen)) continue;
            st = hs_tok_replace_all(cur, len, op->a, op->alen, op->b, op->blen, 0, &next, &nl);
        }
        free(cur);
        if (st) return st;
        cur = next;
        len = nl;
    }
    *out = cur;
    *out_len = len;
    return HS_OK;
}
