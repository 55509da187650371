/* test_jsonl.h — JSONL loading for the tokenizer tests (jansson: keeps NULs in strings). */
#ifndef HS_TEST_JSONL_H
#define HS_TEST_JSONL_H
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "headscan/tokenizer.h"

/* Every non-blank line of a JSONL file as a jansson value; NULL if the file is unreadable. */
typedef struct { json_t **rows; size_t n; } jsonl_file;

static inline jsonl_file jsonl_load(const char *path) {
    jsonl_file f = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) { fprintf(stderr, "cannot open %s\n", path); return f; }
    char *line = NULL;
    size_t cap = 0, rcap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        if (len == 1 && line[0] == '\n') continue;
        json_error_t err;
        json_t *v = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &err);
        if (!v) { fprintf(stderr, "%s: bad JSON: %s\n", path, err.text); continue; }
        if (f.n == rcap) { rcap = rcap ? rcap * 2 : 512; f.rows = realloc(f.rows, rcap * sizeof *f.rows); }
        f.rows[f.n++] = v;
    }
    free(line);
    fclose(fp);
    return f;
}

static inline void jsonl_free(jsonl_file *f) {
    for (size_t i = 0; i < f->n; i++) json_decref(f->rows[i]);
    free(f->rows);
    memset(f, 0, sizeof *f);
}

/* String field (pointer into the row, length via *len), or NULL. */
static inline const char *jsonl_str(json_t *row, const char *field, size_t *len) {
    json_t *v = json_object_get(row, field);
    *len = 0;
    if (!json_is_string(v)) return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

/* Integer-array field as hs_ids (caller frees); returns 0 when absent. */
static inline int jsonl_ids(json_t *row, const char *field, hs_ids *out) {
    json_t *a = json_object_get(row, field);
    memset(out, 0, sizeof *out);
    if (!json_is_array(a)) return 0;
    size_t n = json_array_size(a);
    out->data = malloc((n ? n : 1) * sizeof *out->data);
    out->len = out->cap = n;
    for (size_t i = 0; i < n; i++) out->data[i] = (int32_t)json_integer_value(json_array_get(a, i));
    return 1;
}

static inline int ids_equal(const hs_ids *a, const hs_ids *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len * sizeof *a->data) == 0);
}

/* First differing position (for messages). */
static inline size_t ids_diff_at(const hs_ids *a, const hs_ids *b) {
    size_t k = 0;
    while (k < a->len && k < b->len && a->data[k] == b->data[k]) k++;
    return k;
}
#endif
