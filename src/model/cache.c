/* cache.c — hs_cache: a hook callback that copies the requested activations
 * (run_with_cache for callers who want one). Patterns are exact hook names or "*". */
#include "model/model_internal.h"
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry { char *name; hs_array a; } cache_entry;

struct hs_cache {
    char **patterns;
    int n_patterns;
    cache_entry *entries;
    int n, cap;
    bool failed;
};

hs_status hs_cache_create(const char *const *patterns, int n_patterns, hs_cache **out) {
    *out = NULL;
    hs_cache *c = hs_calloc(1, sizeof *c);
    if (!c) return HS_ERR_NOMEM;
    c->patterns = hs_calloc((size_t)(n_patterns > 0 ? n_patterns : 1), sizeof *c->patterns);
    if (!c->patterns) { free(c); return HS_ERR_NOMEM; }
    for (int i = 0; i < n_patterns; i++) {
        if (!(c->patterns[i] = hs_strdup(patterns[i]))) { hs_cache_free(c); return HS_ERR_NOMEM; }
        c->n_patterns++;
    }
    *out = c;
    return HS_OK;
}

static bool matches(const hs_cache *c, const char *name) {
    if (!strcmp(name, "logits")) return false;
    for (int i = 0; i < c->n_patterns; i++)
        if (!strcmp(c->patterns[i], "*") || !strcmp(c->patterns[i], name)) return true;
    return false;
}

bool hs_cache_hook(const hs_hook_tensor *t, bool ask, void *user) {
    hs_cache *c = user;
    if (ask) return matches(c, t->name);
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        cache_entry *e = realloc(c->entries, sizeof *e * (size_t)cap);
        if (!e) { c->failed = true; hs_errorf(HS_ERR_NOMEM, "cache: out of memory"); return false; }
        c->entries = e;
        c->cap = cap;
    }
    cache_entry *e = &c->entries[c->n];
    memset(e, 0, sizeof *e);
    e->a.dtype = HS_F32;
    e->a.ndim = t->ndim;
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) { e->a.shape[i] = t->shape[i]; n *= (size_t)t->shape[i]; }
    e->name = hs_strdup(t->name);
    e->a.data = hs_malloc(n * sizeof(float));
    if (!e->name || !e->a.data) {
        free(e->name);
        free(e->a.data);
        c->failed = true;
        return false;
    }
    memcpy(e->a.data, t->data, n * sizeof(float));
    /* a re-run replaces an older entry of the same name */
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->entries[i].name, e->name)) {
            free(c->entries[i].name);
            free(c->entries[i].a.data);
            c->entries[i] = *e;
            return true;
        }
    c->n++;
    return true;
}

const hs_array *hs_cache_get(const hs_cache *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->entries[i].name, name)) return &c->entries[i].a;
    return NULL;
}

int hs_cache_count(const hs_cache *c) { return c->n; }
const char *hs_cache_name(const hs_cache *c, int i) { return i >= 0 && i < c->n ? c->entries[i].name : NULL; }

void hs_cache_free(hs_cache *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) { free(c->entries[i].name); free(c->entries[i].a.data); }
    free(c->entries);
    for (int i = 0; i < c->n_patterns; i++) free(c->patterns[i]);
    free(c->patterns);
    free(c);
}
