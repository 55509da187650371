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
#include "tokenizer/tok_struct.h"
#include "tokenizer/unicode_tables.h"
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

#define MERGE_EMPTY UINT64_MAX
#define META "\xE2\x96\x81"   /* U+2581, SentencePiece's space */

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

static int32_t vocab_find(const hs_tokenizer *t, const char *s, size_t len);
int32_t hs_tok_vocab_find(const hs_tokenizer *t, const char *s, size_t len) { return vocab_find(t, s, len); }

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
void hs_tok_byte_map(uint32_t map[256]) {
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
static bool is_nonempty_string(const cJSON *o) { return cJSON_IsString(o) && o->valuestring[0]; }

static hs_status check_supported(const char *path, const cJSON *root) {
    const cJSON *model = hs_json_get(root, "model");
    if (!cJSON_IsObject(model)) return hs_errorf(HS_ERR_FORMAT, "%s: no \"model\" object", path);
    const char *mt = hs_json_type(model);
    if (mt && strcmp(mt, "BPE") != 0)
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.type \"%s\" is not supported (only BPE)", path, mt);
    if (!mt && !hs_json_get(model, "merges"))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model has no type and no merges (only BPE is supported)", path);
    const cJSON *d = hs_json_get(model, "dropout");
    if (!hs_json_null(d) && !(cJSON_IsNumber(d) && d->valuedouble == 0.0))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.dropout is not supported (must be null)", path);
    if (is_nonempty_string(hs_json_get(model, "continuing_subword_prefix")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.continuing_subword_prefix is not supported (must be null or \"\")", path);
    if (is_nonempty_string(hs_json_get(model, "end_of_word_suffix")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.end_of_word_suffix is not supported (must be null or \"\")", path);
    if (!hs_json_null(hs_json_get(root, "truncation")))
        return hs_errorf(HS_ERR_UNSUPPORTED, "%s: truncation is not supported (must be null)", path);
    if (!hs_json_null(hs_json_get(root, "padding")))
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
    if (s || (s = hs_tok_parse_normalizer(t, path, root)) || (s = hs_tok_parse_pre_tokenizer(t, path, root)) ||
        (s = hs_tok_parse_decoder(t, path, root)))
        return s;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab is not an object", path);
    if (!cJSON_IsArray(merges)) return hs_errorf(HS_ERR_FORMAT, "%s: model.merges is not an array", path);
    if (!hs_json_null(added) && !cJSON_IsArray(added))
        return hs_errorf(HS_ERR_FORMAT, "%s: added_tokens is not an array", path);
    t->byte_fallback = hs_json_true(hs_json_get(model, "byte_fallback"));
    t->fuse_unk = hs_json_true(hs_json_get(model, "fuse_unk"));
    t->ignore_merges = hs_json_true(hs_json_get(model, "ignore_merges"));

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
    t->in_model = hs_calloc(nid, 1);
    t->dec_off = hs_calloc(nid + 1, sizeof *t->dec_off);
    t->added = hs_calloc(n_added + 1, sizeof *t->added);
    if (!t->vocab_tab || !t->tok_str || !t->tok_len || !t->is_added || !t->in_model || !t->dec_off || !t->added)
        return HS_ERR_NOMEM;

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
        t->in_model[v] = 1;
        if (l > t->max_model_len) t->max_model_len = l;
        if (!vocab_insert(t, t->tok_str[v], t->tok_len[v], (int32_t)v, false))
            return hs_errorf(HS_ERR_FORMAT, "%s: model.vocab lists \"%s\" twice", path, e->string);
    }

    /* byte symbols (byte-level), <0xNN> tokens (byte_fallback), one-character tokens (char-level) */
    uint32_t map[256], inv[0x144];
    hs_tok_byte_map(map);
    for (int i = 0; i < 0x144; i++) inv[i] = 0xFFFF;
    for (int b = 0; b < 256; b++) {
        inv[map[b]] = (uint32_t)b;
        uint8_t u[4];
        int k = hs_utf8_put(map[b], u);
        t->byte_id[b] = vocab_find(t, (const char *)u, (size_t)k);
        /* 0xC0, 0xC1 and 0xF5..0xFF never occur in UTF-8 text (NeoX's vocab omits them) */
        if (t->bytelevel && t->byte_id[b] < 0 && b != 0xC0 && b != 0xC1 && b < 0xF5)
            return hs_errorf(HS_ERR_UNSUPPORTED, "%s: model.vocab lacks the byte-level symbol for byte 0x%02X "
                             "(not a byte-level BPE vocabulary)", path, b);
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_tok[b] = t->byte_fallback ? vocab_find(t, name, 6) : -1;
    }
    t->unk_id = -1;
    const cJSON *unk = hs_json_get(model, "unk_token");
    if (!hs_json_null(unk)) {
        if (!cJSON_IsString(unk)) return hs_errorf(HS_ERR_FORMAT, "%s: model.unk_token is not a string", path);
        if ((t->unk_id = vocab_find(t, unk->valuestring, strlen(unk->valuestring))) < 0)
            return hs_errorf(HS_ERR_FORMAT, "%s: model.unk_token \"%s\" is not in model.vocab", path, unk->valuestring);
    }
    if (!t->bytelevel) {
        if (!(t->char_id = hs_malloc(0x10000 * sizeof *t->char_id))) return HS_ERR_NOMEM;
        for (size_t i = 0; i < 0x10000; i++) t->char_id[i] = -1;
        for (int32_t i = 0; i < t->n_ids; i++) {
            if (!t->tok_str[i]) continue;
            int len;
            uint32_t cp = hs_utf8_next((const uint8_t *)t->tok_str[i], &len);
            if ((uint32_t)len == t->tok_len[i] && cp < 0x10000) t->char_id[cp] = i;
        }
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
    int32_t meta_id = vocab_find(t, META, 3);
    bool meta_cut = !t->bytelevel && meta_id >= 0;
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
        /* a merge joining "...x" + "▁..." (x not ▁) forbids cutting words before ▁ */
        if (la >= 1 && lb >= 3 && !memcmp(b, META, 3) && !(la >= 3 && !memcmp(a + la - 3, META, 3))) meta_cut = false;
    }
    free(buf);
    t->meta_cut = meta_cut;

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
            /* HF's AddedToken defaults: normalized = !special, the rest false */
            added_tok *at = &t->added[t->n_added];
            at->id = (int32_t)v;
            at->special = hs_json_true(hs_json_get(a, "special"));
            const cJSON *nz = hs_json_get(a, "normalized");
            at->normalized = nz ? cJSON_IsTrue(nz) : !at->special;
            at->single_word = hs_json_true(hs_json_get(a, "single_word"));
            at->lstrip = hs_json_true(hs_json_get(a, "lstrip"));
            at->rstrip = hs_json_true(hs_json_get(a, "rstrip"));
            /* a normalized token is matched in normalized text, so its pattern is normalized too */
            uint8_t *pat = (uint8_t *)content, *tmp = NULL;
            size_t plen = strlen(content);
            if (at->normalized && t->n_norm) {
                if ((s = hs_tok_normalize(t, pat, plen, &tmp, &plen))) return s;
                pat = tmp;
            }
            s = plen ? trie_add(&t->tries[at->normalized ? 1 : 0], pat, plen, (int32_t)t->n_added) : HS_OK;
            free(tmp);
            if (s) return s;
            t->n_added++;
        }
    }

    if ((s = hs_tok_parse_post_processor(t, path, root))) return s;
    if (!t->dec_bytelevel_only) return HS_OK;
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
    free(t->in_model);
    free(t->char_id);
    free(t->added);
    hs_tok_free_pipeline(t);
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
static hs_status bpe_long(const hs_tokenizer *t, int32_t *sym, size_t n, size_t *out_n) {
    int32_t *prev = hs_malloc(n * sizeof *prev), *next = hs_malloc(n * sizeof *next);
    uint8_t *alive = hs_malloc(n);
    heap_item *heap = hs_malloc(3 * n * sizeof *heap);
    if (!prev || !next || !alive || !heap) {
        free(prev); free(next); free(alive); free(heap);
        return HS_ERR_NOMEM;
    }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
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
    for (int32_t i = 0; i >= 0; i = next[i]) sym[k++] = sym[i];   /* i >= k: compacting in place is safe */
    *out_n = k;
    free(prev); free(next); free(alive); free(heap);
    return HS_OK;
}

/* Short words (n <= 64 symbols, in place): arrays, repeatedly merge the lowest (rank, position) pair. */
static size_t bpe_short(const hs_tokenizer *t, int32_t *sym, size_t n) {
    uint32_t rank[64];
    int32_t merged[64];
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

/* Initial symbols of a char-level word (HF's BPE::merge_word): each character's token, else
 * its bytes as <0xNN> tokens (byte_fallback, when all exist), else unk (runs fused with
 * fuse_unk; a pending unk is only flushed by a character found in the vocab, as HF does).
 * sym has room for n (each character yields at most its byte count). */
static size_t char_symbols(const hs_tokenizer *t, const uint8_t *w, size_t n, int32_t *sym) {
    size_t k = 0;
    bool pending = false;
    for (size_t i = 0; i < n;) {
        int len;
        uint32_t cp = hs_utf8_next(w + i, &len);
        int32_t id = cp < 0x10000 ? t->char_id[cp] : vocab_find(t, (const char *)w + i, (size_t)len);
        if (id >= 0 && !t->in_model[id]) id = -1;
        if (id >= 0) {
            if (pending) { sym[k++] = t->unk_id; pending = false; }
            sym[k++] = id;
        } else {
            bool fb = t->byte_fallback;
            for (int j = 0; fb && j < len; j++) fb = t->byte_tok[w[i + j]] >= 0;
            if (fb) {
                for (int j = 0; j < len; j++) sym[k++] = t->byte_tok[w[i + j]];
            } else if (t->unk_id >= 0) {
                if (pending && !t->fuse_unk) sym[k++] = t->unk_id;
                pending = true;
            }
        }
        i += (size_t)len;
    }
    if (pending) sym[k++] = t->unk_id;
    return k;
}

/* ignore_merges: the word itself (byte-level: its mapped string) as one model token, -1 if it is
 * not one, -2 when out of memory. */
static int32_t whole_word_id(const hs_tokenizer *t, const uint8_t *w, size_t n) {
    int32_t id;
    if (!n || n > t->max_model_len) return -1;   /* longer than every vocab string (mapped bytes are >= 1 each) */
    if (t->bytelevel) {
        char stack[512], *buf = n * 2 <= sizeof stack ? stack : hs_malloc(n * 2);   /* <= 2 bytes per byte */
        if (!buf) return -2;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const char *sym = t->tok_str[t->byte_id[w[i]]];
            uint32_t l = t->tok_len[t->byte_id[w[i]]];
            memcpy(buf + k, sym, l);
            k += l;
        }
        id = vocab_find(t, buf, k);
        if (buf != stack) free(buf);
    } else {
        id = vocab_find(t, (const char *)w, n);
    }
    return id >= 0 && t->in_model[id] ? id : -1;
}

/* BPE of one pre-token, through the cache. */
static hs_status encode_word(const hs_tokenizer *t, word_cache *c, const uint8_t *w, size_t n, hs_ids *o) {
    if (n == 1 && t->bytelevel && !t->ignore_merges) {
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
    size_t k = 0, m;
    int32_t whole = t->ignore_merges ? whole_word_id(t, w, n) : -1;
    if (whole == -2) return HS_ERR_NOMEM;
    if (whole >= 0) {
        dst[0] = whole;
        k = 1;
    } else {
        if (t->bytelevel) {
            for (size_t i = 0; i < n; i++) dst[i] = t->byte_id[w[i]];
            m = n;
        } else {
            m = char_symbols(t, w, n, dst);
        }
        if (m <= (size_t)hs_tok_bpe_heap_threshold && m <= 64) k = bpe_short(t, dst, m);
        else if ((s = bpe_long(t, dst, m, &k))) return s;
    }
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
 * Encoding pipeline: added tokens (raw text) -> normalizer -> added tokens (normalized text)
 * -> pre-tokenizer steps -> model, each piece separately. `at0` = the piece starts at offset 0
 * of the original text (Metaspace's prepend_scheme "first").
 */
typedef struct { const hs_tokenizer *t; word_cache *c; hs_ids *o; } enc;

static hs_status pretok_piece(enc *e, size_t step, const uint8_t *s, size_t n, bool at0);

/* Split behaviors over the (start, end, is_match) spans of a pattern, as HF's
 * NormalizedString::split folds them; pieces go to the next pre-tokenizer step. */
typedef struct {
    enc *e;
    size_t step;
    const uint8_t *s;
    bool at0, have, m, prev_m;
    int behavior;
    size_t a, b;
} folder;

static hs_status fold_emit(folder *f, size_t a, size_t b) {
    return a < b ? pretok_piece(f->e, f->step + 1, f->s + a, b - a, f->at0 && a == 0) : HS_OK;
}

static hs_status fold_flush(folder *f) {
    hs_status st = f->have ? fold_emit(f, f->a, f->b) : HS_OK;
    f->have = false;
    return st;
}

static hs_status fold_span(folder *f, size_t a, size_t b, bool m) {
    hs_status st = HS_OK;
    switch (f->behavior) {
    case SPLIT_ISOLATED: return fold_emit(f, a, b);
    case SPLIT_REMOVED: return m ? HS_OK : fold_emit(f, a, b);
    case SPLIT_CONTIGUOUS:
        if (f->have && m == f->m) { f->b = b; return HS_OK; }
        break;
    case SPLIT_MERGED_PREV: {
        bool extend = m && !f->prev_m && f->have;
        f->prev_m = m;
        if (extend) { f->b = b; return HS_OK; }
        break;
    }
    default:   /* SPLIT_MERGED_NEXT: a match joins the span after it when that one is not a match */
        if (f->have && !m) {
            f->have = false;
            return fold_emit(f, f->a, b);
        }
        if ((st = fold_flush(f))) return st;
        if (!m) return fold_emit(f, a, b);
        break;
    }
    if ((st = fold_flush(f))) return st;
    f->have = true;
    f->a = a;
    f->b = b;
    f->m = m;
    return HS_OK;
}

/* Spans of `st`'s pattern over s, folded by `behavior` (invert flips the match flags). */
static hs_status split_spans(enc *e, size_t step, const pre_step *st, int behavior, const uint8_t *s, size_t n,
                             bool at0) {
    folder f = {.e = e, .step = step, .s = s, .at0 = at0, .behavior = behavior};
    bool inv = st->invert;
    hs_status r = HS_OK;
    size_t i = 0;
    if (st->matcher == MATCH_TIKTOKEN) {
        while (i < n && !r) {
            size_t k = hs_pretok_split_next(s + i, n - i, st->max_digits);
            r = behavior == SPLIT_ISOLATED ? pretok_piece(e, step + 1, s + i, k, at0 && i == 0)
                                           : fold_span(&f, i, i + k, !inv);
            i += k;
        }
    } else if (st->matcher == MATCH_REGEX) {
        /* onig's find_iter: an empty match right after the previous match is skipped */
        size_t from = 0, last_match = SIZE_MAX, ms, me;
        while (!r && from <= n) {
            int found = hs_regex_search(st->re, s, n, from, &ms, &me);
            if (found < 0) return hs_errorf(HS_ERR_INTERNAL, "Oniguruma failed while splitting");
            if (!found) break;
            if (ms == me) {
                size_t step_len = 1;
                if (me < n) { int l; (void)hs_utf8_next(s + me, &l); step_len = (size_t)l; }
                from = me + step_len;
                if (me == last_match) continue;
            } else {
                from = me;
            }
            last_match = me;
            if (i < ms) r = fold_span(&f, i, ms, inv);
            if (!r) r = fold_span(&f, ms, me, !inv);
            i = me;
        }
        if (!r && i < n) r = fold_span(&f, i, n, inv);
    } else {   /* a literal string (Metaspace: its replacement character) */
        const uint8_t *q;
        while (!r && i < n && (q = memmem(s + i, n - i, st->str, st->slen))) {
            size_t ms = (size_t)(q - s);
            if (i < ms) r = fold_span(&f, i, ms, inv);
            if (!r) r = fold_span(&f, ms, ms + st->slen, !inv);
            i = ms + st->slen;
        }
        if (!r && i < n) r = fold_span(&f, i, n, inv);
    }
    return r ? r : fold_flush(&f);
}

static hs_status metaspace(enc *e, size_t step, const pre_step *st, const uint8_t *s, size_t n, bool at0) {
    uint8_t *buf;
    size_t len;
    hs_status r = hs_tok_replace_all(s, n, " ", 1, st->repl, st->rlen, 0, &buf, &len);
    if (r) return r;
    bool prepend = st->scheme == SCHEME_ALWAYS || (st->scheme == SCHEME_FIRST && at0);
    if (prepend && !(len >= st->rlen && !memcmp(buf, st->repl, st->rlen))) {
        uint8_t *b2;
        r = hs_tok_replace_all(buf, len, NULL, 0, NULL, 0, st->rlen, &b2, &len);
        free(buf);
        if (r) return r;
        memcpy(b2, st->repl, st->rlen);
        buf = b2;
    }
    if (!st->split) {
        r = pretok_piece(e, step + 1, buf, len, at0);
    } else {
        pre_step lit = {.matcher = MATCH_STRING, .str = (char *)st->repl, .slen = st->rlen};
        r = split_spans(e, step, &lit, SPLIT_MERGED_NEXT, buf, len, at0);
    }
    free(buf);
    return r;
}

/* Char-level words cut before each ▁ that follows another character: no merge crosses such a
 * cut (checked at load: meta_cut), so the pieces' BPE equals the whole word's, and short pieces hit
 * the word cache. (▁ is in the vocab, so unk runs never span a cut either.) */
static hs_status encode_meta_words(enc *e, const uint8_t *s, size_t n) {
    size_t start = 0;
    bool prev_meta = true;
    for (size_t i = 0; i < n;) {
        bool meta = i + 3 <= n && s[i] == 0xE2 && s[i + 1] == 0x96 && s[i + 2] == 0x81;
        if (meta && !prev_meta) {
            hs_status st = encode_word(e->t, e->c, s + start, i - start, e->o);
            if (st) return st;
            start = i;
        }
        prev_meta = meta;
        i += meta ? 3 : 1;
        while (i < n && (s[i] & 0xC0) == 0x80) i++;
    }
    return encode_word(e->t, e->c, s + start, n - start, e->o);
}

static hs_status pretok_piece(enc *e, size_t step, const uint8_t *s, size_t n, bool at0) {
    const hs_tokenizer *t = e->t;
    if (!n) return HS_OK;
    if (step == t->n_pre) return t->meta_cut ? encode_meta_words(e, s, n) : encode_word(t, e->c, s, n, e->o);
    const pre_step *st = &t->pre[step];
    switch (st->kind) {
    case PRE_BYTELEVEL:
        if (!st->use_regex) return encode_word(t, e->c, s, n, e->o);
        for (size_t i = 0; i < n;) {   /* ByteLevel is the last step */
            size_t k = hs_pretok_next(s + i, n - i);
            hs_status r = encode_word(t, e->c, s + i, k, e->o);
            if (r) return r;
            i += k;
        }
        return HS_OK;
    case PRE_SPLIT: return split_spans(e, step, st, st->behavior, s, n, at0);
    default: return metaspace(e, step, st, s, n, at0);
    }
}

/* ---- added tokens ---- */
static hs_regex *word_re;
static pthread_once_t word_re_once = PTHREAD_ONCE_INIT;
static void word_re_init(void) {
    /* Rust regex's Unicode \w (HF's single_word boundaries) */
    static const char pat[] = "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]";
    char err[128];
    if (hs_regex_new(pat, sizeof pat - 1, &word_re, err, sizeof err)) word_re = NULL;
}

static bool is_word_char(const uint8_t *s, size_t len) {
    pthread_once(&word_re_once, word_re_init);
    if (word_re) return hs_regex_match_at(word_re, s, len, 0);
    int l;
    int k = hs_uc_class(hs_utf8_next(s, &l));
    return k == HS_UC_LETTER || k == HS_UC_NUMBER;
}

static size_t char_start_before(const uint8_t *s, size_t i) {
    do i--; while (i > 0 && (s[i] & 0xC0) == 0x80);
    return i;
}

static bool is_space_at(const uint8_t *s, int *len) { return hs_uc_class(hs_utf8_next(s, len)) == HS_UC_SPACE; }

static hs_status normalize_piece(enc *e, const uint8_t *s, size_t n, bool at0);

/* Splits s by the added tokens of trie `which` (0: raw text, 1: normalized text) as HF's
 * AddedVocabulary::find_matches: leftmost-longest, the search resuming after each match;
 * single_word matches next to word characters are dropped, lstrip/rstrip take the
 * whitespace around. The text between tokens goes to the next stage. */
static hs_status split_added(enc *e, int which, const uint8_t *s, size_t n, bool at0) {
    const hs_tokenizer *t = e->t;
    const struct trie *tr = &t->tries[which];
    size_t start = 0, i = 0;
    hs_status st;
#define NEXT_STAGE(a, b) (which == 0 ? normalize_piece(e, s + (a), (b) - (a), at0 && (a) == 0) \
                                     : pretok_piece(e, 0, s + (a), (b) - (a), at0 && (a) == 0))
    if (tr->n)
        while (i < n) {
            if (!tr->first[s[i]]) { i++; continue; }
            int32_t idx;
            size_t m = trie_match(tr, s + i, n - i, &idx);
            if (!m) { i++; continue; }
            const added_tok *at = &t->added[idx];
            size_t ms = i, me = i + m;
            i = me;
            if (at->single_word) {
                bool word_before = ms > 0 && is_word_char(s + char_start_before(s, ms), ms - char_start_before(s, ms));
                int l = 0;
                if (me < n) (void)hs_utf8_next(s + me, &l);
                bool word_after = me < n && is_word_char(s + me, (size_t)l);
                if (word_before || word_after) continue;
            }
            if (at->lstrip) {
                size_t ns = ms;
                int l;
                while (ns > 0) {
                    size_t p = char_start_before(s, ns);
                    if (!is_space_at(s + p, &l)) break;
                    ns = p;
                }
                ms = ns > start ? ns : start;
            }
            if (at->rstrip) {
                int l;
                while (me < n && is_space_at(s + me, &l)) me += (size_t)l;
            }
            if (start < ms && (st = NEXT_STAGE(start, ms))) return st;
            if ((st = hs_ids_reserve(e->o, 1))) return st;
            e->o->data[e->o->len++] = at->id;
            start = me;
        }
    if (n > start) return NEXT_STAGE(start, n);
#undef NEXT_STAGE
    return HS_OK;
}

static hs_status normalize_piece(enc *e, const uint8_t *s, size_t n, bool at0) {
    const hs_tokenizer *t = e->t;
    if (!n) return HS_OK;
    if (!t->n_norm || (t->n_norm == 1 && t->norm[0].kind == NORM_NFC && hs_nfc_quick(s, n)))
        return split_added(e, 1, s, n, at0);
    uint8_t *norm;
    size_t nn;
    hs_status st = hs_tok_normalize(t, s, n, &norm, &nn);
    if (st) return st;
    st = split_added(e, 1, norm, nn, at0);
    free(norm);
    return st;
}

/* Valid UTF-8 of text (a replaced copy in *fixed when errors = replace). */
static hs_status checked_text(const char *text, size_t *len, hs_utf8_errors errors, const uint8_t **s, uint8_t **fixed) {
    *s = (const uint8_t *)text;
    *fixed = NULL;
    size_t bad = hs_utf8_first_invalid(*s, *len);
    if (bad == *len) return HS_OK;
    if (errors != HS_UTF8_REPLACE)
        return hs_errorf(HS_ERR_FORMAT, "invalid UTF-8 at byte offset %zu (byte 0x%02X)", bad, (*s)[bad]);
    hs_status st = hs_utf8_replace(*s, *len, fixed, len);
    if (!st) *s = *fixed;
    return st;
}

/* Encodes one sequence (no post-processor), appending to out. */
static hs_status encode_seq(const hs_tokenizer *tok, const char *text, size_t len, hs_utf8_errors errors, hs_ids *out) {
    const uint8_t *s;
    uint8_t *fixed;
    hs_status st = checked_text(text, &len, errors, &s, &fixed);
    if (st) return st;
    enc e = {tok, cache_get(tok->uid), out};   /* NULL cache (out of memory): still correct */
    st = split_added(&e, 0, s, len, true);
    free(fixed);
    return st;
}

hs_status hs_tokenizer_encode(const hs_tokenizer *tok, const char *text, size_t len, hs_utf8_errors errors,
                              hs_ids *out) {
    return hs_tokenizer_encode_pair(tok, text, len, NULL, 0, false, errors, out);
}

hs_status hs_tokenizer_encode_special(const hs_tokenizer *tok, const char *text, size_t len, bool add_special_tokens,
                                      hs_utf8_errors errors, hs_ids *out) {
    return hs_tokenizer_encode_pair(tok, text, len, NULL, 0, add_special_tokens, errors, out);
}

hs_status hs_tokenizer_encode_pair(const hs_tokenizer *tok, const char *a, size_t alen, const char *b, size_t blen,
                                   bool add_special_tokens, hs_utf8_errors errors, hs_ids *out) {
    if (!tok || !out || (!a && alen) || (!b && blen))
        return hs_errorf(HS_ERR_INVALID_ARG, "hs_tokenizer_encode: NULL argument");
    size_t before = out->len;
    int w = b ? 1 : 0;
    hs_status st = HS_OK;
    if (!add_special_tokens || !tok->tmpl[w]) {
        st = encode_seq(tok, a, alen, errors, out);
        if (!st && b) st = encode_seq(tok, b, blen, errors, out);
    } else {
        for (size_t i = 0; i < tok->tmpl_n[w] && !st; i++) {
            int32_t x = tok->tmpl[w][i];
            if (x == TMPL_A) st = encode_seq(tok, a, alen, errors, out);
            else if (x == TMPL_B) st = b ? encode_seq(tok, b, blen, errors, out) : HS_OK;
            else if (!(st = hs_ids_reserve(out, 1))) out->data[out->len++] = x;
        }
    }
    if (st) out->len = before;
    return st;
}

bool hs_tokenizer_adds_bos(const hs_tokenizer *tok) { return tok->adds_bos; }

hs_status hs_tokenizer_to_tokens(const hs_tokenizer *tok, const char *text, size_t len, bool prepend_bos,
                                 hs_utf8_errors errors, hs_ids *out) {
    size_t before = out->len;
    if (prepend_bos) {
        if (tok->bos < 0)
            return hs_errorf(HS_ERR_NOT_FOUND, "%s: no BOS token (no <|endoftext|> and no post-processor BOS)", tok->path);
        hs_status st = hs_ids_reserve(out, 1);
        if (st) return st;
        out->data[out->len++] = tok->bos;
    }
    hs_status st = hs_tokenizer_encode(tok, text, len, errors, out);
    if (st) out->len = before;
    return st;
}

hs_status hs_tokenizer_encode_batch_special(const hs_tokenizer *tok, const char *const *texts, const size_t *lens,
                                            size_t n, bool add_special_tokens, hs_utf8_errors errors, hs_ids *outs) {
    size_t first_bad = SIZE_MAX;
    hs_status first_status = HS_OK;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(hs_get_num_threads())
#endif
    for (size_t i = 0; i < n; i++) {
        hs_status st = hs_tokenizer_encode_special(tok, texts[i], lens[i], add_special_tokens, errors, &outs[i]);
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
    hs_status st = hs_tokenizer_encode_special(tok, texts[first_bad], lens[first_bad], add_special_tokens, errors, &tmp);
    hs_ids_free(&tmp);
    if (st == HS_OK) st = first_status;
    return hs_error_prefix(st, "text %zu", first_bad);
}

hs_status hs_tokenizer_encode_batch(const hs_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                                    hs_utf8_errors errors, hs_ids *outs) {
    return hs_tokenizer_encode_batch_special(tok, texts, lens, n, false, errors, outs);
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
    if (!tok->dec_bytelevel_only) {
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0) return hs_errorf(HS_ERR_INVALID_ARG, "token id %d (position %zu) is negative", ids[i], i);
        size_t dummy;
        return hs_tok_decode_chain(tok, ids, n, out, out_len ? out_len : &dummy);
    }
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
