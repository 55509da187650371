/* tok_struct.h — the loaded tokenizer (private to src/tokenizer/): vocabulary, merges, added
 * tokens and the pipeline read from tokenizer.json (normalizers, pre-tokenizers, model options,
 * decoders, post-processor). tok_config.c parses the pipeline parts, tokenizer.c the rest. */
#ifndef HS_TOK_STRUCT_H
#define HS_TOK_STRUCT_H
#include "tokenizer/tok_internal.h"
#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct { uint64_t key; uint32_t rank; int32_t merged; } merge_slot;   /* key = left<<32 | right */
typedef struct { const char *s; uint32_t len; int32_t id; } str_slot;

/* normalizer steps */
enum { NORM_NFC, NORM_PREPEND, NORM_REPLACE };
typedef struct { int kind; char *a, *b; size_t alen, blen; } norm_op;   /* Prepend a / Replace a -> b */

/* pre-tokenizer steps */
enum { PRE_BYTELEVEL, PRE_SPLIT, PRE_METASPACE };
enum { SPLIT_ISOLATED, SPLIT_REMOVED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { MATCH_TIKTOKEN, MATCH_REGEX, MATCH_STRING, MATCH_CHAR };
enum { SCHEME_ALWAYS, SCHEME_FIRST, SCHEME_NEVER };
typedef struct {
    int kind;
    bool use_regex;                               /* ByteLevel: split with the GPT-2 regex */
    int matcher, max_digits, behavior;            /* Split (and Metaspace's split on the replacement) */
    bool invert;
    hs_regex *re;
    char *str;
    size_t slen;
    char repl[8];                                 /* Metaspace */
    size_t rlen;
    int scheme;
    bool split;
} pre_step;

/* decoder steps */
enum { DEC_BYTELEVEL, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE };
typedef struct {
    int kind;
    char *a, *b;                                  /* Replace a -> b */
    size_t alen, blen;
    uint32_t content;                             /* Strip */
    int start, stop;
    uint32_t repl;                                /* Metaspace */
    int scheme;
} dec_step;

/* one added token (index into hs_tokenizer.added) */
typedef struct { int32_t id; bool single_word, lstrip, rstrip, normalized, special; } added_tok;

struct trie { int32_t *child, *sibling, *tid; uint8_t *byte; size_t n, cap; uint8_t first[256]; };

/* template entries: an id >= 0, or TMPL_A / TMPL_B for the sequences */
enum { TMPL_A = -1, TMPL_B = -2 };

struct hs_tokenizer {
    uint64_t uid;
    char *path;
    /* id -> token string (NUL-terminated, may be NULL for ids without a token) */
    int32_t n_ids;                /* max id + 1 */
    char *arena;                  /* all token strings, NUL-separated */
    char **tok_str;
    uint32_t *tok_len;
    uint8_t *is_added;
    uint8_t *in_model;            /* the id is in model.vocab */
    /* id -> decoded bytes (ByteLevel decoder alone), offsets into dec_bytes */
    uint8_t *dec_bytes;
    size_t *dec_off;              /* n_ids + 1 */
    /* vocab lookup: string -> id (model vocab; added tokens override) */
    str_slot *vocab_tab;
    size_t vocab_mask;
    /* merges */
    merge_slot *merge_tab;
    size_t merge_mask;
    size_t n_merges;
    /* model */
    bool bytelevel;               /* pre-tokenizer ends with ByteLevel: BPE over GPT-2's byte symbols */
    int32_t byte_id[256];         /* byte-level: the symbol of each byte */
    int32_t byte_tok[256];        /* byte_fallback: the id of "<0xNN>", or -1 */
    int32_t *char_id;             /* char-level: id of the one-character token U+0000..U+FFFF, or -1 */
    bool byte_fallback, fuse_unk, ignore_merges;
    bool meta_cut;
    size_t max_model_len;         /* longest model.vocab string, bytes */                /* char-level: words may be cut before U+2581 (encode_meta_words) */
    int32_t unk_id;               /* -1: none */
    /* added tokens: byte tries (first child / next sibling), [0] raw text, [1] normalized text */
    struct trie tries[2];
    added_tok *added;
    size_t n_added;
    /* pipeline */
    norm_op *norm;
    size_t n_norm;
    bool nfc;                     /* some normalizer step is NFC */
    pre_step *pre;
    size_t n_pre;
    dec_step *dec;
    size_t n_dec;
    bool dec_bytelevel_only;      /* decoder is ByteLevel alone: per-id bytes in dec_bytes */
    int32_t *tmpl[2];             /* TemplateProcessing single / pair, NULL = none */
    size_t tmpl_n[2];
    int32_t bos;
    bool adds_bos;
};

/* small cJSON helpers */
static inline const char *hs_json_type(const cJSON *obj) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}
static inline bool hs_json_null(const cJSON *o) { return !o || cJSON_IsNull(o); }
static inline bool hs_json_true(const cJSON *o) { return o && cJSON_IsTrue(o); }
static inline const cJSON *hs_json_get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* tok_config.c: the pipeline parts of tokenizer.json. Errors name the file and JSON path. */
hs_status hs_tok_parse_normalizer(hs_tokenizer *t, const char *path, const cJSON *root);
hs_status hs_tok_parse_pre_tokenizer(hs_tokenizer *t, const char *path, const cJSON *root);
hs_status hs_tok_parse_decoder(hs_tokenizer *t, const char *path, const cJSON *root);
hs_status hs_tok_parse_post_processor(hs_tokenizer *t, const char *path, const cJSON *root);
void hs_tok_free_pipeline(hs_tokenizer *t);
int32_t hs_tok_vocab_find(const hs_tokenizer *t, const char *s, size_t len);

/* Copy of s[0..n) with every occurrence of a (al > 0) replaced by b, after `prefix` bytes left
 * for the caller (a = NULL: plain copy). *out is malloc'd. */
hs_status hs_tok_replace_all(const uint8_t *s, size_t n, const char *a, size_t al, const char *b, size_t bl,
                             size_t prefix, uint8_t **out, size_t *out_len);
/* GPT-2's bytes_to_unicode map (tokenizer.c). */
void hs_tok_byte_map(uint32_t map[256]);

/* Applies the normalizer steps to s (a malloc'd copy, also when nothing changes). */
hs_status hs_tok_normalize(const hs_tokenizer *t, const uint8_t *s, size_t n, uint8_t **out, size_t *out_len);

/* tok_decode.c: HF's decoder chain over the tokens' strings. */
hs_status hs_tok_decode_chain(const hs_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *out_len);

#endif
