/* tokenizer.c — HuggingFace tokenizer.json byte-level BPE: loading, encoding, decoding.
 *
 * Encoding follows HF tokenizers (spec: shared/spec/tokenizer.md §2):
 *   1. split out non-normalized added tokens (leftmost-longest) on the raw text;
 *   2. NFC (Unicode 9.0 tables, nfc.c) each remaining piece, then split out the normalized
 *      added tokens the same way;
 *   3. pre-tokenize with the GPT-2 regex (pretok.c);
 *   4. byte-level map + BPE merges by rank (lowest first, leftmost on ties) per pre-token,
 *      cached per thread.
 * A loaded tokenizer is immutable; the only mutable state is a per-thread cache keyed by the
 * tokenizer's unique id, so one handle can encode on many threads at once.
 */
#define _GNU_SOURCE
#include "tokenizer/tok_internal.h"
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---------------------------------------------------------------------------------------
 * Hash maps: token string -> id (load and token_to_id), (left, right) -> (rank, merged id).
 */
static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xC2B2AE3D27D4EB4Full;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 32;
    h *= 0x165667B19E3779F9ull;
    return h ^ (h >> 29);
}

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

typedef struct { uint64_t key; uint32_t rank; int32_t merged; } merge_slot;   /* key = left<<32 | right */
#define MERGE_EMPTY UINT64_MAX

typedef struct { const char *s; uint32_t len; int32_t id; } str_slot;

struct hs_tokenizer {
    uint64_t uid;
    char *path;
    /* id -> token string (NUL-terminated, may be NULL for ids without a token) */
    int32_t n_ids;                /* max id + 1 */
    char *arena;                  /* all token strings, NUL-separated */
    char **tok_str;
    uint32_t *tok_len;
    uint8_t *is_added;
    /* id -> decoded bytes (ByteLevel decoder), offsets into dec_bytes */
    uint8_t *dec_bytes;
    size_t *dec_off;              /* n_ids + 1 */
    /* vocab lookup: string -> id (model vocab; added tokens override) */
    str_slot *vocab_tab;
    size_t vocab_mask;
    /* merges */
    merge_slot *merge_tab;
    size_t merge_mask;
    size_t n_merges;
    int32_t byte_id[256];
    /* added tokens: byte tries (first child / next sibling), one per normalization kind */
    struct trie { int32_t *child, *sibling, *tid; uint8_t *byte; size_t n, cap; uint8_t first[256]; } tries[2];
    bool nfc;
    int32_t bos;
};

/* Unique ids for tokenizers, so per-thread caches never serve a freed handle's entries. */
static atomic_uint_fast64_t next_uid = 1;

static bool vocab_insert(hs_tokenizer *t, const char *s, uint32_t len, int32_t id, bool overwrite) {
    size_t i = hash_bytes((const uint8_t *)s, len) & t->vocab_mask;
    for (;;) {
        str_slot *e = &t->vocab_tab[i];
        if (!e->s) { e->s = s; e->len = len; e->id = id; return true; }
        if (e->len == len && memcmp(e->s, s, len) == 0) {
            if (overwrite) { e->s = s; e->id = id; }
            return false;
        }
        i = (i + 1) & t->vocab_mask;
    }
}

static int32_t vocab_find(const hs_tokenizer *t, const char *s, size_t len) {
    size_t i = hash_bytes((const uint8_t *)s, len) & t->vocab_mask;
    for (;;) {
        const str_slot *e = &t->vocab_tab[i];
        if (!e->s) return -1;
        if (e->len == len && memcmp(e->s, s, len) == 0) return e->id;
        i = (i + 1) & t->vocab_mask;
    }
}

static inline const merge_slot *merge_find(const hs_tokenizer *t, int32_t a, int32_t b) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = mix64(key) & t->merge_mask;
    for (;;) {
        const merge_slot *e = &t->merge_tab[i];
        if (e->key == key) return e;
        if (e->key == MERGE_EMPTY) return NULL;
        i = (i + 1) & t->merge_mask;
    }
}

static void merge_insert(hs_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = mix64(key) & t->merge_mask;
    for (;;) {
        merge_slot *e = &t->merge_tab[i];
        /* a repeated pair keeps the LAST rank, as HF's HashMap collect does */
        if (e->key == key || e->key == MERGE_EMPTY) { e->key = key; e->rank = rank; e->merged = merged; return; }
        i = (i + 1) & t->merge_mask;
    }
}

/* ---------------------------------------------------------------------------------------
 * Byte-level map (GPT-2 bytes_to_unicode): printable bytes map to themselves, the other 68
 * (0x00-0x20, 0x7F-0xA0, 0xAD) to U+0100 + n in increasing byte order.
 */
static void byte_map(uint32_t map[256]) {
    int n = 0;
    for (int b = 0; b < 256; b++) {
        bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        map[b] = keep ? (uint32_t)b : 0x100u + (uint32_t)n++;
    }
}

/* ---------------------------------------------------------------------------------------
 * Added-token tries.
 */
static int trie_node(struct trie *tr) {
    if (tr->n == tr->cap) {
        size_t nc = tr->cap ? tr->cap * 2 : 64;
        /* each array keeps its old contents if a later one fails; cap grows only on success */
#define TRIE_GROW(f) do { void *q_ = realloc(tr->f, nc * sizeof *tr->f); if (!q_) goto oom; tr->f = q_; } while (0)
        TRIE_GROW(child);
        TRIE_GROW(sibling);
        TRIE_GROW(tid);
        TRIE_GROW(byte);
#undef TRIE_GROW
        tr->cap = nc;
    }
    size_t k = tr->n++;
    tr->child[k] = tr->sibling[k] = tr->tid[k] = -1;
    tr->byte[k] = 0;
    return (int)k;
oom:
    hs_errorf(HS_ERR_NOMEM, "out of memory building the added-token trie");
    return -1;
}

static hs_status trie_add(struct trie *tr, const uint8_t *s, size_t n, int32_t id) {
    if (tr->n == 0 && trie_node(tr) < 0) return HS_ERR_NOMEM;
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = tr->child[node];
        while (c >= 0 && tr->byte[c] != s[i]) c = tr->sibling[c];
        if (c < 0) {
            int k = trie_node(tr);
            if (k < 0) return HS_ERR_NOMEM;
            tr->byte[k] = s[i];
            tr->sibling[k] = tr->child[node];
            tr->child[node] = k;
            c = k;
        }
        node = c;
    }
    if (tr->tid[node] < 0) tr->tid[node] = id;   /* first added token with this content wins */
    tr->first[s[0]] = 1;
    return HS_OK;
}

/* Longest added token starting at s; returns its byte length (0 = none) and id. */
static size_t trie_match(const struct trie *tr, const uint8_t *s, size_t n, int32_t *id) {
    int32_t node = 0;
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = tr->child[node];
        while (c >= 0 && tr->byte[c] != s[i]) c = tr->sibling[c];
        if (c < 0) break;
        node = c;
        if (tr->tid[node] >= 0) { best = i + 1; *id = tr->tid[node]; }
    }
    return best;
}

static void trie_free(struct trie *tr) {
    free(tr->child);
    free(tr->sibling);
    free(tr->tid);
    free(tr->byte);
}

/* ---------------------------------------------------------------------------------------
 * Loading.
 */
static const char *type_of(const cJSON *obj) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static bool is_absent_or_null(const cJSON *o) { return !o || cJSON_IsNull(o); }
static bool is_true(const cJSON *o) { return o && cJSON_IsTrue(o); }
static bool is_nonempty_string(const cJSON *o) { return cJSON_IsString(o) && o->valuestring[0]; }

static hs_status check_supported(const char *path, const cJSON *root) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) return hs_errorf(HS_ERR_FORMAT, "%s: no \"model\" object", path);
    const char *mt = type_of(model);
    if (mt && strcmp(mt, "BPE") != 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.type \"%s\" is not supported (only byte-level BPE)", path, mt);
    if (!mt && !cJSON_GetObjectItemCaseSensitive(model, "merges"))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model has no type and no merges (only byte-level BPE is supported)", path);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (!is_absent_or_null(d) && !(cJSON_IsNumber(d) && d->valuedouble == 0.0))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.dropout is not supported (must be null)", path);
    if (is_nonempty_string(cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.continuing_subword_prefix is not supported (must be null or \"\")", path);
    if (is_nonempty_string(cJSON_GetObjectItemCaseSensitive(model, "end_of_word_suffix")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.end_of_word_suffix is not supported (must be null or \"\")", path);
    if (is_true(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.byte_fallback=true is not supported", path);
    if (is_true(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.ignore_merges=true is not supported", path);

    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (!is_absent_or_null(norm)) {
        const char *nt = type_of(norm);
        if (!nt || strcmp(nt, "NFC") != 0)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: normalizer.type \"%s\" is not supported (only NFC or none)", path,
                             nt ? nt : "?");
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const char *pt = is_absent_or_null(pre) ? NULL : type_of(pre);
    if (!pt || strcmp(pt, "ByteLevel") != 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: pre_tokenizer.type \"%s\" is not supported (only ByteLevel)", path,
                         pt ? pt : "null");
    if (is_true(cJSON_GetObjectItemCaseSensitive(pre, "add_prefix_space")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: pre_tokenizer.add_prefix_space=true is not supported", path);
    const cJSON *ur = cJSON_GetObjectItemCaseSensitive(pre, "use_regex");
    if (ur && cJSON_IsFalse(ur))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: pre_tokenizer.use_regex=false is not supported", path);
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    const char *dt = is_absent_or_null(dec) ? NULL : type_of(dec);
    if (!dt || strcmp(dt, "ByteLevel") != 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: decoder.type \"%s\" is not supported (only ByteLevel)", path,
                         dt ? dt : "null");
    if (!is_absent_or_null(cJSON_GetObjectItemCaseSensitive(root, "truncation")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: truncation is not supported (must be null)", path);
    if (!is_absent_or_null(cJSON_GetObjectItemCaseSensitive(root, "padding")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: padding is not supported (must be null)", path);
    return HS_OK;
}

static bool json_int(const cJSON *o, int64_t lo, int64_t hi, int64_t *v) {
    if (!cJSON_IsNumber(o)) return false;
    double d = o->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) return false;
    *v = (int64_t)d;
    return true;
}

/* ByteLevel decoder for one token: the bytes its characters stand for when every character
 * is in the byte map, else the token's own UTF-8. */
static size_t decode_token_bytes(const uint32_t inv[0x144], const char *s, size_t n, uint8_t *out) {
    size_t k = 0;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        int len;
        uint32_t cp = hs_utf8_next(p + i, &len);
        if (cp >= 0x144 || inv[cp] > 255) { memcpy(out, s, n); return n; }
        out[k++] = (uint8_t)inv[cp];
        i += (size_t)len;
    }
    return k;
}

static hs_status load_json(hs_tokenizer *t, const char *path, cJSON *root) {
    hs_status s = check_supported(path, root);
    if (s) return s;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab is not an object", path);
    if (!cJSON_IsArray(merges)) return hs_errorf(HS_ERR_FORMAT, "%s: model.merges is not an array", path);
    if (!is_absent_or_null(added) && !cJSON_IsArray(added))
        return hs_errorf(HS_ERR_FORMAT, "%s: added_tokens is not an array", path);
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    t->nfc = !is_absent_or_null(norm);

    /* ids: find the largest */
    int64_t max_id = -1, v = 0;
    size_t n_vocab = 0, n_added = 0;
    for (const cJSON *e = vocab->child; e; e = e->next, n_vocab++) {
        if (!json_int(e, 0, INT32_MAX - 1, &v))
            return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab[\"%s\"] is not a token id", path, e->string);
        if (v > max_id) max_id = v;
    }
    if (cJSON_IsArray(added)) {
        for (const cJSON *a = added->child; a; a = a->next, n_added++) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
            if (!json_int(id, 0, INT32_MAX - 1, &v) || !cJSON_IsString(content) || !content->valuestring[0])
                return hs_errorf(HS_ERR_FORMAT, "%s: added_tokens[%zu] needs an integer \"id\" and a non-empty \"content\"",
                                 path, n_added);
            static const char *const unsupported[] = {"lstrip", "rstrip", "single_word"};
            for (int k = 0; k < 3; k++)
                if (is_true(cJSON_GetObjectItemCaseSensitive(a, unsupported[k])))
                    return hs_errorf(HS_ERR_UNSUPPORTED, "%s: added_tokens[%zu].%s=true is not supported", path,
                                     n_added, unsupported[k]);
            if (v > max_id) max_id = v;
        }
    }
    if (max_id < 0) return hs_errorf(HS_ERR_FORMAT, "%s: the vocabulary is empty", path);
    /* per-id tables are dense: refuse id spaces far larger than the token count */
    if (max_id >= 16 * (int64_t)(n_vocab + n_added) + 1024)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: token id %lld is far beyond the %zu tokens (sparse ids are not supported)",
                         path, (long long)max_id, n_vocab + n_added);
    t->n_ids = (int32_t)(max_id + 1);
    size_t nid = (size_t)t->n_ids;
    size_t cap = 16;
    while (cap < 2 * (n_vocab + n_added) + 16) cap *= 2;
    t->vocab_tab = hs_calloc(cap, sizeof *t->vocab_tab);
    t->vocab_mask = cap - 1;
    t->tok_str = hs_calloc(nid, sizeof *t->tok_str);
    t->tok_len = hs_calloc(nid, sizeof *t->tok_len);
    t->is_added = hs_calloc(nid, 1);
    t->dec_off = hs_calloc(nid + 1, sizeof *t->dec_off);
    if (!t->vocab_tab || !t->tok_str || !t->tok_len || !t->is_added || !t->dec_off) return HS_ERR_NOMEM;

    size_t arena_size = 1;
    for (const cJSON *e = vocab->child; e; e = e->next) arena_size += strlen(e->string) + 1;
    if (cJSON_IsArray(added))
        for (const cJSON *a = added->child; a; a = a->next)
            arena_size += strlen(cJSON_GetObjectItemCaseSensitive(a, "content")->valuestring) + 1;
    if (!(t->arena = hs_malloc(arena_size))) return HS_ERR_NOMEM;
    size_t arena_used = 0;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        json_int(e, 0, INT32_MAX - 1, &v);
        if (t->tok_str[v])
            return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab gives id %lld to both \"%s\" and \"%s\"", path,
                             (long long)v, t->tok_str[v], e->string);
        size_t l = strlen(e->string);
        t->tok_str[v] = memcpy(t->arena + arena_used, e->string, l + 1);
        arena_used += l + 1;
        t->tok_len[v] = (uint32_t)l;
        if (!vocab_insert(t, t->tok_str[v], t->tok_len[v], (int32_t)v, false))
            return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab lists \"%s\" twice", path, e->string);
    }

    /* byte symbols */
    uint32_t map[256], inv[0x144];
    byte_map(map);
    for (int i = 0; i < 0x144; i++) inv[i] = 0xFFFF;
    for (int b = 0; b < 256; b++) {
        inv[map[b]] = (uint32_t)b;
        uint8_t u[4];
        int k = hs_utf8_put(map[b], u);
        t->byte_id[b] = vocab_find(t, (const char *)u, (size_t)k);
        /* 0xC0, 0xC1 and 0xF5..0xFF never occur in UTF-8 text (NeoX's vocab omits them) */
        if (t->byte_id[b] < 0 && b != 0xC0 && b != 0xC1 && b < 0xF5)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.vocab lacks the byte-level symbol for byte 0x%02X "
                             "(not a byte-level BPE vocabulary)", path, b);
    }

    /* merges */
    size_t n_merges = (size_t)cJSON_GetArraySize(merges);
    cap = 16;
    while (cap < 2 * n_merges + 16) cap *= 2;
    t->merge_tab = hs_malloc(cap * sizeof *t->merge_tab);
    if (!t->merge_tab) return HS_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++) t->merge_tab[i].key = MERGE_EMPTY;
    t->merge_mask = cap - 1;
    t->n_merges = n_merges;
    char *buf = NULL;
    size_t bufcap = 0, rank = 0;
    for (const cJSON *m = merges->child; m; m = m->next, rank++) {
        const char *a, *b;
        size_t la, lb;
        if (cJSON_IsString(m)) {
            const char *sp = strchr(m->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' ') || sp == m->valuestring || !sp[1]) {
                free(buf);
                return hs_errorf(HS_ERR_FORMAT, "%s: model.merges[%zu] \"%s\" is not two tokens separated by one space",
                                 path, rank, m->valuestring);
            }
            a = m->valuestring; la = (size_t)(sp - a);
            b = sp + 1; lb = strlen(b);
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
                   cJSON_IsString(m->child->next)) {
            a = m->child->valuestring; la = strlen(a);
            b = m->child->next->valuestring; lb = strlen(b);
        } else {
            free(buf);
            return hs_errorf(HS_ERR_FORMAT, "%s: model.merges[%zu] is neither \"A B\" nor [\"A\", \"B\"]", path, rank);
        }
        int32_t ia = vocab_find(t, a, la), ib = vocab_find(t, b, lb);
        if (la + lb + 1 > bufcap) {
            bufcap = 2 * (la + lb + 1);
            char *nb = realloc(buf, bufcap);
            if (!nb) { free(buf); return hs_errorf(HS_ERR_NOMEM, "out of memory"); }
            buf = nb;
        }
        memcpy(buf, a, la);
        memcpy(buf + la, b, lb);
        int32_t im = vocab_find(t, buf, la + lb);
        if (ia < 0 || ib < 0 || im < 0) {
            free(buf);
            return hs_errorf(HS_ERR_FORMAT, "%s: model.merges[%zu]: %s is not in model.vocab", path, rank,
                             ia < 0 ? "its first token" : ib < 0 ? "its second token" : "the merged token");
        }
        merge_insert(t, ia, ib, (uint32_t)rank, im);
    }
    free(buf);

    /* added tokens: they override the model's id -> token and token -> id */
    if (cJSON_IsArray(added)) {
        size_t k = 0;
        for (const cJSON *a = added->child; a; a = a->next, k++) {
            json_int(cJSON_GetObjectItemCaseSensitive(a, "id"), 0, INT32_MAX - 1, &v);
            const char *content = cJSON_GetObjectItemCaseSensitive(a, "content")->valuestring;
            int32_t in_vocab = vocab_find(t, content, strlen(content));
            if (in_vocab >= 0 && in_vocab != v)
                return hs_errorf(HS_ERR_FORMAT, "%s: added_tokens[%zu] \"%s\" has id %lld but model.vocab gives it %d",
                                 path, k, content, (long long)v, in_vocab);
            if (t->is_added[v])
                return hs_errorf(HS_ERR_FORMAT, "%s: added_tokens[%zu] reuses id %lld", path, k, (long long)v);
            /* the added token's content is what id v decodes to (HF looks added tokens up first) */
            size_t l = strlen(content);
            t->tok_str[v] = memcpy(t->arena + arena_used, content, l + 1);
            arena_used += l + 1;
            t->tok_len[v] = (uint32_t)l;
            t->is_added[v] = 1;
            vocab_insert(t, t->tok_str[v], t->tok_len[v], (int32_t)v, true);
            bool normalized = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "normalized"));
            /* a normalized token is matched in normalized text, so its pattern is normalized too */
            uint8_t *pat = (uint8_t *)content;
            size_t plen = strlen(content);
            uint8_t *tmp = NULL;
            if (normalized && t->nfc && !hs_nfc_quick(pat, plen)) {
                if ((s = hs_nfc(pat, plen, &tmp, &plen))) return s;
                pat = tmp;
            }
            s = trie_add(&t->tries[normalized ? 1 : 0], pat, plen, (int32_t)v);
            free(tmp);
            if (s) return s;
        }
    }

    /* decoded bytes per id */
    size_t total = 0;
    for (size_t i = 0; i < nid; i++) total += t->tok_len[i];
    t->dec_bytes = hs_malloc(total + 1);
    if (!t->dec_bytes) return HS_ERR_NOMEM;
    size_t off = 0;
    for (size_t i = 0; i < nid; i++) {
        t->dec_off[i] = off;
        if (t->tok_str[i]) off += decode_token_bytes(inv, t->tok_str[i], t->tok_len[i], t->dec_bytes + off);
    }
    t->dec_off[nid] = off;
    t->bos = vocab_find(t, "<|endoftext|>", 13);
    return HS_OK;
}

hs_status hs_tokenizer_load(const char *path, hs_tokenizer **out) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    hs_status s = hs_read_file(path, (size_t)1 << 31, &text, &len);
    if (s) return s;
    /* JSON text is UTF-8 (HF's serde_json refuses anything else), and every token string
     * is later walked code point by code point (NFC tables, byte decoding) assuming it */
    size_t bad = hs_utf8_first_invalid((const uint8_t *)text, len);
    if (bad < len) {
        unsigned byte = (unsigned char)text[bad];
        free(text);
        return hs_errorf(HS_ERR_FORMAT, "%s: not valid UTF-8 (byte 0x%02X at offset %zu)", path, byte, bad);
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *where = cJSON_GetErrorPtr();
        size_t off = where && where >= text && where <= text + len ? (size_t)(where - text) : 0;
        free(text);
        return hs_errorf(HS_ERR_FORMAT, "%s: not valid JSON (near byte %zu)", path, off);
    }
    free(text);
    hs_tokenizer *t = hs_calloc(1, sizeof *t);
    if (!t) { cJSON_Delete(root); return HS_ERR_NOMEM; }
    t->uid = atomic_fetch_add(&next_uid, 1);
    t->path = hs_strdup(path);
    s = t->path ? load_json(t, path, root) : HS_ERR_NOMEM;
    cJSON_Delete(root);
    if (s) { hs_tokenizer_free(t); return s; }
    *out = t;
    return HS_OK;
}

static void cache_drop_for(uint64_t uid);

void hs_tokenizer_free(hs_tokenizer *t) {
    if (!t) return;
    cache_drop_for(t->uid);
    free(t->arena);
    free(t->tok_str);
    free(t->tok_len);
    free(t->is_added);
    free(t->dec_bytes);
    free(t->dec_off);
    free(t->vocab_tab);
    free(t->merge_tab);
    trie_free(&t->tries[0]);
    trie_free(&t->tries[1]);
    free(t->path);
    free(t);
}

/* The handle is shared between threads, so errors are per thread (hs_last_error). */
const char *hs_tokenizer_error(const hs_tokenizer *tok) { (void)tok; return hs_last_error(); }
int32_t hs_tokenizer_size(const hs_tokenizer *tok) { return tok->n_ids; }
int32_t hs_tokenizer_bos_id(const hs_tokenizer *tok) { return tok->bos; }
int32_t hs_tokenizer_token_to_id(const hs_tokenizer *tok, const char *token) {
    return vocab_find(tok, token, strlen(token));
}
const char *hs_tokenizer_id_to_token(const hs_tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->n_ids ? tok->tok_str[id] : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Output buffers.
 */
void hs_ids_free(hs_ids *ids) {
    if (!ids) return;
    free(ids->data);
    ids->data = NULL;
    ids->len = ids->cap = 0;
}

hs_status hs_ids_reserve(hs_ids *o, size_t extra) {
    if (o->len + extra <= o->cap) return HS_OK;
    size_t nc = o->cap ? o->cap : 64;
    while (nc < o->len + extra) nc *= 2;
    int32_t *d = realloc(o->data, nc * sizeof *d);
    if (!d) return hs_errorf(HS_ERR_NOMEM, "out of memory growing a token list to %zu ids", nc);
    o->data = d;
    o->cap = nc;
    return HS_OK;
}

/* ---------------------------------------------------------------------------------------
 * BPE on one pre-token (its UTF-8 bytes). Appends the ids to o (room reserved by caller).
 */
int hs_tok_bpe_heap_threshold = 48;   /* words longer than this use the O(n log n) heap path */

typedef struct { uint32_t rank; uint32_t pos; int32_t merged; } heap_item;

static inline bool heap_less(const heap_item *a, const heap_item *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(heap_item *h, size_t *n, heap_item x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static heap_item heap_pop(heap_item *h, size_t *n) {
    heap_item top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(&h[c + 1], &h[c])) c++;
        if (!heap_less(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* Scratch for long words: symbols as a doubly linked list plus a min-heap of candidate merges
 * ordered by (rank, position), stale entries skipped — HF's algorithm, same result. */
static hs_status bpe_long(const hs_tokenizer *t, const uint8_t *w, size_t n, int32_t *out, size_t *out_n) {
    int32_t *sym = hs_malloc(n * sizeof *sym);
    int32_t *prev = hs_malloc(n * sizeof *prev), *next = hs_malloc(n * sizeof *next);
    uint8_t *alive = hs_malloc(n);
    heap_item *heap = hs_malloc(3 * n * sizeof *heap);
    if (!sym || !prev || !next || !alive || !heap) {
        free(sym); free(prev); free(next); free(alive); free(heap);
        return HS_ERR_NOMEM;
    }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
        alive[i] = 1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        const merge_slot *m = merge_find(t, sym[i], sym[i + 1]);
        if (m) heap_push(heap, &hn, (heap_item){m->rank, (uint32_t)i, m->merged});
    }
    /* heap bound: n-1 initial entries plus at most 2 per merge, and at most n-1 merges */
    while (hn) {
        heap_item top = heap_pop(heap, &hn);
        uint32_t p = top.pos;
        if (!alive[p] || next[p] < 0) continue;
        int32_t q = next[p];
        const merge_slot *m = merge_find(t, sym[p], sym[q]);
        if (!m || m->merged != top.merged) continue;   /* stale: the pair changed */
        sym[p] = top.merged;
        alive[q] = 0;
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = (int32_t)p;
        if (prev[p] >= 0) {
            const merge_slot *l = merge_find(t, sym[prev[p]], sym[p]);
            if (l) heap_push(heap, &hn, (heap_item){l->rank, (uint32_t)prev[p], l->merged});
        }
        if (next[p] >= 0) {
            const merge_slot *r = merge_find(t, sym[p], sym[next[p]]);
            if (r) heap_push(heap, &hn, (heap_item){r->rank, p, r->merged});
        }
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) out[k++] = sym[i];
    *out_n = k;
    free(sym); free(prev); free(next); free(alive); free(heap);
    return HS_OK;
}

/* Short words: arrays, repeatedly merge the lowest (rank, position) pair. out has room n. */
static size_t bpe_short(const hs_tokenizer *t, const uint8_t *w, size_t n, int32_t *sym) {
    uint32_t rank[64];
    int32_t merged[64];
    for (size_t i = 0; i < n; i++) sym[i] = t->byte_id[w[i]];
    for (size_t i = 0; i + 1 < n; i++) {
        const merge_slot *m = merge_find(t, sym[i], sym[i + 1]);
        rank[i] = m ? m->rank : UINT32_MAX;
        merged[i] = m ? m->merged : -1;
    }
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == UINT32_MAX) break;
        sym[best] = merged[best];
        /* remove symbol best+1 and pair slot best+1 */
        for (size_t i = best + 1; i + 1 < n; i++) sym[i] = sym[i + 1];
        for (size_t i = best + 1; i + 2 < n; i++) { rank[i] = rank[i + 1]; merged[i] = merged[i + 1]; }
        n--;
        if (best > 0) {
            const merge_slot *m = merge_find(t, sym[best - 1], sym[best]);
            rank[best - 1] = m ? m->rank : UINT32_MAX;
            merged[best - 1] = m ? m->merged : -1;
        }
        if (best + 1 < n) {
            const merge_slot *m = merge_find(t, sym[best], sym[best + 1]);
            rank[best] = m ? m->rank : UINT32_MAX;
            merged[best] = m ? m->merged : -1;
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------------------
 * Per-thread word cache: open addressing on (hash, bytes) -> ids, keyed to one tokenizer uid.
 * Cleared when full; has no effect on results.
 */
#define CACHE_SLOTS (1u << 17)
#define CACHE_MAX_WORD 64
#define CACHE_KEY_BYTES (1u << 20)
#define CACHE_ID_SLOTS (1u << 18)

typedef struct { uint64_t hash; uint32_t key_off, ids_off; uint16_t key_len, n_ids; } cache_entry;

typedef struct word_cache {
    uint64_t uid;
    size_t used, key_used, ids_used;
    cache_entry *tab;
    uint8_t *keys;
    int32_t *ids;
} word_cache;

static _Thread_local word_cache *tls_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_destroy(void *p) {
    word_cache *c = p;
    if (!c) return;
    free(c->tab);
    free(c->keys);
    free(c->ids);
    free(c);
}

static void cache_key_init(void) { (void)pthread_key_create(&cache_key, cache_destroy); }

static void cache_clear(word_cache *c, uint64_t uid) {
    memset(c->tab, 0, CACHE_SLOTS * sizeof *c->tab);
    c->uid = uid;
    c->used = c->key_used = c->ids_used = 0;
}

static word_cache *cache_get(uint64_t uid) {
    word_cache *c = tls_cache;
    if (!c) {
        pthread_once(&cache_once, cache_key_init);
        c = calloc(1, sizeof *c);
        if (!c) return NULL;
        c->tab = calloc(CACHE_SLOTS, sizeof *c->tab);
        c->keys = malloc(CACHE_KEY_BYTES);
        c->ids = malloc(CACHE_ID_SLOTS * sizeof *c->ids);
        if (!c->tab || !c->keys || !c->ids) { cache_destroy(c); return NULL; }
        c->uid = uid;
        tls_cache = c;
        (void)pthread_setspecific(cache_key, c);
    }
    if (c->uid != uid) cache_clear(c, uid);
    return c;
}

/* Frees this thread's cache if it belongs to the tokenizer being freed (other threads'
 * caches are invalidated by the uid check and freed when those threads exit). */
static void cache_drop_for(uint64_t uid) {
    word_cache *c = tls_cache;
    if (c && c->uid == uid) {
        tls_cache = NULL;
        pthread_setspecific(cache_key, NULL);
        cache_destroy(c);
    }
}

/* BPE of one pre-token, through the cache. */
static hs_status encode_word(const hs_tokenizer *t, word_cache *c, const uint8_t *w, size_t n, hs_ids *o) {
    if (n == 1) {
        hs_status s = hs_ids_reserve(o, 1);
        if (s) return s;
        o->data[o->len++] = t->byte_id[w[0]];
        return HS_OK;
    }
    uint64_t h = 0;
    size_t slot = 0;
    if (c && n <= CACHE_MAX_WORD) {
        h = hash_bytes(w, n) | 1;   /* 0 marks an empty slot */
        slot = h & (CACHE_SLOTS - 1);
        for (;;) {
            cache_entry *e = &c->tab[slot];
            if (!e->hash) break;
            if (e->hash == h && e->key_len == n && memcmp(c->keys + e->key_off, w, n) == 0) {
                hs_status s = hs_ids_reserve(o, e->n_ids);
                if (s) return s;
                memcpy(o->data + o->len, c->ids + e->ids_off, e->n_ids * sizeof(int32_t));
                o->len += e->n_ids;
                return HS_OK;
            }
            slot = (slot + 1) & (CACHE_SLOTS - 1);
        }
    }
    hs_status s = hs_ids_reserve(o, n);
    if (s) return s;
    int32_t *dst = o->data + o->len;
    size_t k;
    if (n <= (size_t)hs_tok_bpe_heap_threshold && n <= 64) k = bpe_short(t, w, n, dst);
    else if ((s = bpe_long(t, w, n, dst, &k))) return s;
    o->len += k;
    if (c && n <= CACHE_MAX_WORD) {
        if (c->used * 2 >= CACHE_SLOTS || c->key_used + n > CACHE_KEY_BYTES || c->ids_used + k > CACHE_ID_SLOTS) {
            cache_clear(c, c->uid);
            slot = h & (CACHE_SLOTS - 1);
        }
        cache_entry *e = &c->tab[slot];
        e->hash = h;
        e->key_off = (uint32_t)c->key_used;
        e->key_len = (uint16_t)n;
        e->ids_off = (uint32_t)c->ids_used;
        e->n_ids = (uint16_t)k;
        memcpy(c->keys + c->key_used, w, n);
        memcpy(c->ids + c->ids_used, dst, k * sizeof(int32_t));
        c->key_used += n;
        c->ids_used += k;
        c->used++;
    }
    return HS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Encoding pipeline.
 */
static hs_status encode_pretokens(const hs_tokenizer *t, word_cache *c, const uint8_t *s, size_t n, hs_ids *o) {
    size_t i = 0;
    while (i < n) {
        size_t k = hs_pretok_next(s + i, n - i);
        hs_status st = encode_word(t, c, s + i, k, o);
        if (st) return st;
        i += k;
    }
    return HS_OK;
}

/* Splits s by the added tokens of trie `which` (leftmost-longest, non-overlapping); the text
 * between matches goes to the next stage. */
static hs_status encode_normalized(const hs_tokenizer *t, word_cache *c, const uint8_t *s, size_t n, hs_ids *o);

static hs_status split_added(const hs_tokenizer *t, word_cache *c, int which, const uint8_t *s, size_t n, hs_ids *o) {
    const struct trie *tr = &t->tries[which];
    size_t start = 0, i = 0;
    hs_status st;
    if (tr->n)
        while (i < n) {
            if (!tr->first[s[i]]) { i++; continue; }
            int32_t id;
            size_t m = trie_match(tr, s + i, n - i, &id);
            if (!m) { i++; continue; }
            if (i > start) {
                st = which == 0 ? encode_normalized(t, c, s + start, i - start, o)
                                : encode_pretokens(t, c, s + start, i - start, o);
                if (st) return st;
            }
            if ((st = hs_ids_reserve(o, 1))) return st;
            o->data[o->len++] = id;
            i += m;
            start = i;
        }
    if (n > start)
        return which == 0 ? encode_normalized(t, c, s + start, n - start, o)
                          : encode_pretokens(t, c, s + start, n - start, o);
    return HS_OK;
}

static hs_status encode_normalized(const hs_tokenizer *t, word_cache *c, const uint8_t *s, size_t n, hs_ids *o) {
    if (!t->nfc || hs_nfc_quick(s, n)) return split_added(t, c, 1, s, n, o);
    uint8_t *norm;
    size_t nn;
    hs_status st = hs_nfc(s, n, &norm, &nn);
    if (st) return st;
    st = split_added(t, c, 1, norm, nn, o);
    free(norm);
    return st;
}

hs_status hs_tokenizer_encode(const hs_tokenizer *tok, const char *text, size_t len, hs_utf8_errors errors,
                              hs_ids *out) {
    if (!tok || !out || (!text && len)) return hs_errorf(HS_ERR_INVALID_ARG, "hs_tokenizer_encode: NULL argument");
    const uint8_t *s = (const uint8_t *)text;
    size_t bad = hs_utf8_first_invalid(s, len);
    uint8_t *fixed = NULL;
    if (bad < len) {
        if (errors != HS_UTF8_REPLACE)
            return hs_errorf(HS_ERR_FORMAT, "invalid UTF-8 at byte offset %zu (byte 0x%02X)", bad, s[bad]);
        hs_status st = hs_utf8_replace(s, len, &fixed, &len);
        if (st) return st;
        s = fixed;
    }
    word_cache *c = cache_get(tok->uid);   /* NULL (no cache) if out of memory: still correct */
    size_t before = out->len;
    hs_status st = split_added(tok, c, 0, s, len, out);
    if (st) out->len = before;
    free(fixed);
    return st;
}

hs_status hs_tokenizer_to_tokens(const hs_tokenizer *tok, const char *text, size_t len, bool prepend_bos,
                                 hs_utf8_errors errors, hs_ids *out) {
    size_t before = out->len;
    if (prepend_bos) {
        if (tok->bos < 0)
            return hs_errorf(HS_ERR_NOT_FOUND, "%s: no <|endoftext|> token to use as BOS", tok->path);
        hs_status st = hs_ids_reserve(out, 1);
        if (st) return st;
        out->data[out->len++] = tok->bos;
    }
    hs_status st = hs_tokenizer_encode(tok, text, len, errors, out);
    if (st) out->len = before;
    return st;
}

hs_status hs_tokenizer_encode_batch(const hs_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                                    hs_utf8_errors errors, hs_ids *outs) {
    size_t first_bad = SIZE_MAX;
    hs_status first_status = HS_OK;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(hs_get_num_threads())
#endif
    for (size_t i = 0; i < n; i++) {
        hs_status st = hs_tokenizer_encode(tok, texts[i], lens[i], errors, &outs[i]);
        if (st) {
#ifdef _OPENMP
#pragma omp critical(hs_tok_batch)
#endif
            if (i < first_bad) { first_bad = i; first_status = st; }
        }
    }
    if (first_bad == SIZE_MAX) return HS_OK;
    /* the message was recorded on a worker thread: rebuild it on this one */
    hs_ids tmp = {0};
    hs_status st = hs_tokenizer_encode(tok, texts[first_bad], lens[first_bad], errors, &tmp);
    hs_ids_free(&tmp);
    if (st == HS_OK) st = first_status;
    return hs_error_prefix(st, "text %zu", first_bad);
}

/* ---------------------------------------------------------------------------------------
 * Decoding.
 */
static hs_status finish_lossy(uint8_t *raw, size_t n, char **out, size_t *out_len) {
    if (hs_utf8_first_invalid(raw, n) == n) {
        raw[n] = 0;
        *out = (char *)raw;
        *out_len = n;
        return HS_OK;
    }
    uint8_t *fixed;
    hs_status st = hs_utf8_replace(raw, n, &fixed, out_len);
    free(raw);
    if (st) return st;
    *out = (char *)fixed;
    return HS_OK;
}

hs_status hs_tokenizer_decode(const hs_tokenizer *tok, const int32_t *ids, size_t n, char **out, size_t *out_len) {
    *out = NULL;
    if (out_len) *out_len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0) return hs_errorf(HS_ERR_INVALID_ARG, "token id %d (position %zu) is negative", ids[i], i);
        if (ids[i] < tok->n_ids) total += tok->dec_off[ids[i] + 1] - tok->dec_off[ids[i]];
    }
    uint8_t *raw = hs_malloc(total + 1);
    if (!raw) return HS_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= tok->n_ids) continue;   /* ids without a token are dropped, as HF does */
        size_t a = tok->dec_off[ids[i]], b = tok->dec_off[ids[i] + 1];
        memcpy(raw + k, tok->dec_bytes + a, b - a);
        k += b - a;
    }
    size_t dummy;
    return finish_lossy(raw, k, out, out_len ? out_len : &dummy);
}

hs_status hs_tokenizer_token_str(const hs_tokenizer *tok, int32_t id, char **out, size_t *out_len) {
    return hs_tokenizer_decode(tok, &id, 1, out, out_len);
}

hs_status hs_token_display(const char *s, size_t len, char **out, size_t *out_len) {
    /* " " -> "·" (2 bytes), "\n" -> "↩\n" (4 bytes), "\t" -> "→" (3 bytes) */
    size_t cap;
    if (hs_mul_overflow(len, 4, &cap)) return hs_errorf(HS_ERR_NOMEM, "string too long");
    char *o = hs_malloc(cap + 1);
    if (!o) return HS_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') { memcpy(o + k, "\xC2\xB7", 2); k += 2; }
        else if (s[i] == '\n') { memcpy(o + k, "\xE2\x86\xA9\n", 4); k += 4; }
        else if (s[i] == '\t') { memcpy(o + k, "\xE2\x86\x92", 3); k += 3; }
        else o[k++] = s[i];
    }
    o[k] = 0;
    *out = o;
    if (out_len) *out_len = k;
    return HS_OK;
}
