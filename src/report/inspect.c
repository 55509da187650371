/* inspect.c — the study's debugging helpers (analysis.md §13): TransformerLens's
 * test_prompt, the vocabulary one head writes at one position, top positions. */
#include "headscan/report.h"
#include "report/strbuf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

hs_test_prompt_params hs_test_prompt_default_params(void) {
    return (hs_test_prompt_params){.top_k = 10, .prepend_space_to_answer = true, .prepend_bos = true};
}

/* to_str_tokens: each id decoded alone. strs[i] malloc'd. */
static hs_status str_tokens(const hs_tokenizer *tok, const int32_t *ids, size_t n, char ***out) {
    char **s = hs_calloc(n ? n : 1, sizeof *s);
    if (!s) return HS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        hs_status st = hs_tokenizer_token_str(tok, ids[i], &s[i], &len);
        if (st) {
            for (size_t j = 0; j < i; j++) free(s[j]);
            free(s);
            return st;
        }
    }
    *out = s;
    return HS_OK;
}

static void free_strs(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* Python's format(x, "6.2%"): x·100 in fixed notation with 2 decimals, '%', right-aligned in 6. */
static void pct(char *buf, size_t cap, double x) {
    char t[64];
    snprintf(t, sizeof t, "%.2f%%", x * 100.0);
    snprintf(buf, cap, "%6s", t);
}

typedef struct { float p; int32_t id; } prob_id;
static int by_prob_desc(const void *a, const void *b) {
    const prob_id *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

hs_status hs_test_prompt(const hs_model *m, const hs_tokenizer *tok, const char *prompt, const char *answer,
                         const hs_test_prompt_params *params, char **text) {
    if (!m || !tok || !prompt || !answer || !text) return hs_errorf(HS_ERR_INVALID_ARG, "hs_test_prompt: NULL argument");
    hs_test_prompt_params p = params ? *params : hs_test_prompt_default_params();
    const hs_model_config *cfg = hs_model_get_config(m);
    const int V = cfg->d_vocab;
    if (p.top_k < 0 || p.top_k > V) return hs_errorf(HS_ERR_INVALID_ARG, "test_prompt: top_k %d is not in 0..%d", p.top_k, V);
    *text = NULL;
    hs_status st = HS_OK;
    char *ans = NULL, **pstr = NULL, **astr = NULL, *line = NULL;
    hs_ids all = {0}, pids = {0}, aids = {0};
    float *logits = NULL;
    prob_id *pr = NULL;
    hs_forward *f = NULL;
    hs_sb b = {0};
    size_t alen = strlen(answer);
    ans = hs_malloc(alen + 2);
    if (!ans) return HS_ERR_NOMEM;
    snprintf(ans, alen + 2, "%s%s", p.prepend_space_to_answer && answer[0] != ' ' ? " " : "", answer);
    size_t plen = strlen(prompt), ablen = strlen(ans);
    char *both = hs_malloc(plen + ablen + 1);
    if (!both) { st = HS_ERR_NOMEM; goto done; }
    memcpy(both, prompt, plen);
    memcpy(both + plen, ans, ablen + 1);
    st = hs_tokenizer_to_tokens(tok, both, plen + ablen, p.prepend_bos, HS_UTF8_STRICT, &all);
    free(both);
    if (st) goto done;
    if ((st = hs_tokenizer_to_tokens(tok, prompt, plen, p.prepend_bos, HS_UTF8_STRICT, &pids))) goto done;
    if ((st = hs_tokenizer_to_tokens(tok, ans, ablen, false, HS_UTF8_STRICT, &aids))) goto done;
    const int T = (int)all.len, P = (int)pids.len, A = (int)aids.len;
    if (T < 1 || T > cfg->n_ctx) {
        st = hs_errorf(HS_ERR_INVALID_ARG, "test_prompt: prompt + answer is %d tokens; the model takes 1..%d", T, cfg->n_ctx);
        goto done;
    }
    if (P < 1) { st = hs_errorf(HS_ERR_INVALID_ARG, "test_prompt: the prompt has no tokens (and no BOS)"); goto done; }
    if (P + A > T) {   /* TransformerLens would index past the end of the tokens */
        st = hs_errorf(HS_ERR_INVALID_ARG,
                       "test_prompt: prompt + answer tokenizes to %d tokens, fewer than the prompt's %d plus the answer's %d",
                       T, P, A);
        goto done;
    }
    for (int i = 0; i < T; i++)
        if (all.data[i] < 0 || all.data[i] >= V) {
            st = hs_errorf(HS_ERR_INVALID_ARG, "test_prompt: token id %d is outside the model's vocabulary (%d)", all.data[i], V);
            goto done;
        }
    if ((st = str_tokens(tok, pids.data, pids.len, &pstr))) goto done;
    if ((st = str_tokens(tok, aids.data, aids.len, &astr))) goto done;
    if ((st = hs_py_repr_list((const char *const *)pstr, pids.len, &line))) goto done;
    hs_sb_printf(&b, "Tokenized prompt: %s\n", line);
    free(line);
    line = NULL;
    if ((st = hs_py_repr_list((const char *const *)astr, aids.len, &line))) goto done;
    hs_sb_printf(&b, "Tokenized answer: %s\n", line);
    free(line);
    line = NULL;

    logits = hs_malloc(sizeof(float) * (size_t)T * (size_t)V);
    pr = hs_malloc(sizeof *pr * (size_t)V);
    if (!logits || !pr) { st = HS_ERR_NOMEM; goto done; }
    if ((st = hs_forward_create(m, 1, T, &f))) goto done;
    hs_forward_params fp = hs_forward_default_params();
    fp.logits = logits;
    fp.compute = p.compute;
    if ((st = hs_forward_run(f, all.data, 1, T, &fp))) goto done;
    if (p.compute != HS_COMPUTE_F32 && p.deviation && (st = hs_compute_compare(m, all.data, 1, T, p.compute, p.deviation))) goto done;

    hs_sb ranks = {0};
    hs_sb_str(&ranks, "[");
    for (int index = P; index < P + A; index++) {
        const float *lg = logits + (size_t)(index - 1) * V;
        /* probs = softmax(logits[index - 1]) in float32 (computed in double, rounded) */
        float mx = lg[0];
        for (int v = 1; v < V; v++) mx = lg[v] > mx ? lg[v] : mx;
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp((double)lg[v] - mx);
        for (int v = 0; v < V; v++) pr[v] = (prob_id){(float)(exp((double)lg[v] - mx) / sum), v};
        const int32_t at = all.data[index];
        const float ap = pr[at].p;
        /* rank: position in the descending sort (ties: lower id first) */
        int64_t rank = 0;
        for (int v = 0; v < V; v++) rank += pr[v].p > ap || (pr[v].p == ap && v < at);
        qsort(pr, (size_t)V, sizeof *pr, by_prob_desc);
        const char *as = astr[index - P];
        char pb[64];
        pct(pb, sizeof pb, ap);
        hs_sb_printf(&b, "Performance on answer token:\nRank: %-8lld Logit: %5.2f Prob: %s Token: |%s|\n", (long long)rank,
                     (double)lg[at], pb, as);
        for (int i = 0; i < p.top_k; i++) {
            char *ts = NULL;
            size_t tl;
            if ((st = hs_tokenizer_token_str(tok, pr[i].id, &ts, &tl))) { hs_sb_free(&ranks); goto done; }
            pct(pb, sizeof pb, pr[i].p);
            hs_sb_printf(&b, "Top %dth token. Logit: %5.2f Prob: %s Token: |%s|\n", i, (double)lg[pr[i].id], pb, ts);
            free(ts);
        }
        char *r = NULL;
        if ((st = hs_py_repr(as, strlen(as), &r))) { hs_sb_free(&ranks); goto done; }
        hs_sb_printf(&ranks, "%s(%s, %lld)", index > P ? ", " : "", r, (long long)rank);
        free(r);
    }
    hs_sb_str(&ranks, "]");
    char *rk = NULL;
    if ((st = hs_sb_take(&ranks, &rk))) goto done;
    hs_sb_printf(&b, "Ranks of the answer tokens: %s\n", rk);
    free(rk);
    st = hs_sb_take(&b, text);
done:
    if (st) hs_sb_free(&b);
    free(ans);
    free(line);
    free_strs(pstr, pids.len);
    free_strs(astr, aids.len);
    hs_ids_free(&all);
    hs_ids_free(&pids);
    hs_ids_free(&aids);
    free(logits);
    free(pr);
    hs_forward_free(f);
    return st;
}

hs_status hs_head_vocab(const hs_model *m, const int32_t *tokens, int n_tokens, int layer, int head, int pos,
                        float *out) {
    if (!m || !tokens || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_head_vocab: NULL argument");
    const hs_model_config *c = hs_model_get_config(m);
    if (layer < 0 || layer >= c->n_layers)
        return hs_errorf(HS_ERR_INVALID_ARG, "head_vocab: layer %d is not in 0..%d", layer, c->n_layers - 1);
    if (head < 0 || head >= c->n_heads)
        return hs_errorf(HS_ERR_INVALID_ARG, "head_vocab: head %d is not in 0..%d", head, c->n_heads - 1);
    if (pos < 0 || pos >= n_tokens)
        return hs_errorf(HS_ERR_INVALID_ARG, "head_vocab: position %d is not in 0..%d", pos, n_tokens - 1);
    if (pos + 1 > c->n_ctx)
        return hs_errorf(HS_ERR_INVALID_ARG, "head_vocab: position %d is beyond the model's context (%d)", pos, c->n_ctx);
    for (int i = 0; i <= pos; i++)
        if (tokens[i] < 0 || tokens[i] >= c->d_vocab)
            return hs_errorf(HS_ERR_INVALID_ARG, "head_vocab: token %d (id %d) is outside the vocabulary (%d)", i, tokens[i],
                             c->d_vocab);
    const int T = pos + 1, D = c->d_head, M = c->d_model, V = c->d_vocab;
    char zname[64];
    snprintf(zname, sizeof zname, "blocks.%d.attn.hook_z", layer);
    const char *pats[2] = {zname, "ln_final.hook_scale"};
    hs_array W_O, W_U;
    char wname[64];
    snprintf(wname, sizeof wname, "blocks.%d.attn.W_O", layer);
    hs_status st = hs_model_weight(m, wname, &W_O);
    if (!st) st = hs_model_weight(m, "W_U", &W_U);
    if (st) return st;
    hs_cache *cache = NULL;
    hs_forward *f = NULL;
    double *w = NULL;
    if ((st = hs_cache_create(pats, 2, &cache))) return st;
    if ((st = hs_forward_create(m, 1, T, &f))) goto done;
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = hs_cache_hook;
    fp.hook_user = cache;
    if ((st = hs_forward_run(f, tokens, 1, T, &fp))) goto done;
    const hs_array *z = hs_cache_get(cache, zname), *sc = hs_cache_get(cache, "ln_final.hook_scale");
    if (!z || !sc) { st = hs_errorf(HS_ERR_INTERNAL, "head_vocab: hooks were not delivered"); goto done; }
    /* z [1, T, H, D]; scale [1, T, 1]; W_O [H, D, M]; W_U [M, V] */
    const float *zp = (const float *)z->data + ((size_t)pos * c->n_heads + head) * D;
    const double s = ((const float *)sc->data)[pos];
    const float *wo = (const float *)W_O.data + (size_t)head * D * M, *wu = W_U.data;
    w = hs_calloc((size_t)M, sizeof *w);
    double *acc = hs_calloc((size_t)V, sizeof *acc);
    if (!w || !acc) { free(acc); st = HS_ERR_NOMEM; goto done; }
    /* (z · W_O) · W_U in double: the same sum as z · (W_O @ W_U), reassociated */
    for (int d = 0; d < D; d++)
        for (int mm = 0; mm < M; mm++) w[mm] += (double)zp[d] * wo[(size_t)d * M + mm];
    for (int mm = 0; mm < M; mm++) {
        const float *row = wu + (size_t)mm * V;
        for (int v = 0; v < V; v++) acc[v] += w[mm] * row[v];
    }
    for (int v = 0; v < V; v++) out[v] = (float)(acc[v] / s);
    free(acc);
done:
    free(w);
    hs_forward_free(f);
    hs_cache_free(cache);
    return st;
}

typedef struct { float v; int64_t i; } val_idx;
static int by_val_desc(const void *a, const void *b) {
    const val_idx *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

hs_status hs_top_positions(const float *values, int64_t rows, int64_t cols, const uint8_t *exclude, int k,
                           int64_t *idx_out, int *n_out) {
    if (!values || !idx_out || !n_out || rows < 0 || cols < 0 || k < 0)
        return hs_errorf(HS_ERR_INVALID_ARG, "hs_top_positions: bad argument");
    int64_t n = rows * cols, c = 0;
    val_idx *a = hs_malloc(sizeof *a * (size_t)(n ? n : 1));
    if (!a) return HS_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(values[i]) && !(exclude && exclude[i])) a[c++] = (val_idx){values[i], i};
    qsort(a, (size_t)c, sizeof *a, by_val_desc);
    int K = c < k ? (int)c : k;
    for (int i = 0; i < K; i++) idx_out[i] = a[i].i;
    *n_out = K;
    free(a);
    return HS_OK;
}
