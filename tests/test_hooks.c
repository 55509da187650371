/* test_hooks.c — the ask-then-receive protocol: every hook is asked once per pass
 * with its TL name and shape and no data; only hooks answered "yes" are handed
 * over, with data and the same shape; a "stop" from a hand-over ends the pass with
 * HS_ERR_CANCELLED; and what a pass computes does not depend on which hooks are asked. */
#include "test.h"
#include "headscan/headscan.h"

typedef struct {
    int asked, given, given_unwanted, shape_mismatch, null_on_ask, stop_after;
    char want[64];
    int64_t last_shape[5];
} probe;

static bool hook(const hs_hook_tensor *t, bool ask, void *user) {
    probe *p = user;
    bool want = !strcmp(p->want, "*") || strstr(t->name, p->want) != NULL;
    if (ask) {
        p->asked++;
        if (t->data) p->null_on_ask++;
        memcpy(p->last_shape, t->shape, sizeof p->last_shape);
        return want;
    }
    p->given++;
    if (!want) p->given_unwanted++;
    if (!t->data) p->shape_mismatch++;
    if (p->stop_after && p->given >= p->stop_after) return false;
    return true;
}

/* tests/fixtures/NAME loaded with the default parameters (NULL, and a failed check, if not). */
static hs_model *load_fixture(const char *fixture) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", HS_SOURCE_DIR, fixture);
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    return m;
}

/* Vocabulary-sized models: the loss alone (made a vocabulary block at a time for every
 * sequence, the [T, V] logits never whole) equals, bit for bit, the loss computed from the
 * logits the same pass hands over (hook "logits" and params.logits), on 1 and 2 threads. */
static void loss_paths(const char *fixture) {
    hs_model *m = load_fixture(fixture);
    if (!m) return;
    const hs_model_config *c = hs_model_get_config(m);
    enum { B = 4, T = 12 };
    hs_forward *f = NULL;
    CHECK_OK(hs_forward_create(m, B, T, &f));
    int32_t tok[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)((i * 7919u + 13) % (unsigned)c->d_vocab);
    float loss_only[B * (T - 1)], loss_lg[B * (T - 1)], loss_1[B * (T - 1)];
    float *logits = malloc(sizeof(float) * B * T * (size_t)c->d_vocab);
    hs_forward_params fp = hs_forward_default_params();
    fp.loss = loss_only;
    CHECK_OK(hs_forward_run(f, tok, B, T, &fp));
    fp.loss = loss_lg;
    fp.logits = logits;
    CHECK_OK(hs_forward_run(f, tok, B, T, &fp));
    CHECK(!memcmp(loss_only, loss_lg, sizeof loss_lg), "%s: loss without logits = loss with logits, bit for bit", fixture);
    /* and both are log-softmax of those logits (double precision): 1e-5 relative is float32 rounding of ~11-term sums */
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < T - 1; p++) {
            const float *x = logits + ((size_t)b * T + p) * c->d_vocab;
            double mx = x[0], s = 0;
            for (int v = 1; v < c->d_vocab; v++) mx = x[v] > mx ? x[v] : mx;
            for (int v = 0; v < c->d_vocab; v++) s += exp((double)x[v] - mx);
            double ref = mx + log(s) - x[tok[b * T + p + 1]], e = fabs(loss_only[b * (T - 1) + p] - ref) / (1 + fabs(ref));
            if (e > worst) worst = e;
        }
    CHECK(worst <= 1e-6, "%s: loss vs log-softmax of the logits: %.3g", fixture, worst);
    int threads = hs_get_num_threads();
    hs_set_num_threads(1);
    fp.logits = NULL;
    fp.loss = loss_1;
    CHECK_OK(hs_forward_run(f, tok, B, T, &fp));
    hs_set_num_threads(threads);
    CHECK(!memcmp(loss_only, loss_1, sizeof loss_1), "%s: same loss on 1 thread", fixture);
    free(logits);
    hs_forward_free(f);
    hs_model_free(m);
}

/* Attention runs three ways: every score handed over first (hook_attn_scores), or a row block
 * at a time through softmax and pattern @ v, writing the whole pattern row (hook_pattern) or
 * only its causal columns (neither). The three give the same bits (hook_z of every layer, the
 * loss), on T = 150: two full 64-row blocks and a partial one. Fixtures: d_head 16 (the
 * 1/sqrt(d_head) scale is exact, in sgemm's alpha), 8 with a sliding window of 7 (divided), 24. */
static void attention_paths(const char *fixture) {
    hs_model *m = load_fixture(fixture);
    if (!m) return;
    const hs_model_config *c = hs_model_get_config(m);
    enum { B = 2, T = 150 };
    hs_forward *f = NULL;
    CHECK_OK(hs_forward_create(m, B, T, &f));
    int32_t tok[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)((i * 7919u + 5) % (unsigned)c->d_vocab);
    float loss[3][B * (T - 1)];
    hs_cache *cache[3] = {NULL, NULL, NULL};
    const char *extra[3] = {NULL, "hook_pattern", "hook_attn_scores"};
    const int L = c->n_layers < 8 ? c->n_layers : 8;
    char z_name[8][64];
    for (int l = 0; l < L; l++) snprintf(z_name[l], sizeof z_name[l], "blocks.%d.attn.hook_z", l);
    for (int way = 0; way < 3; way++) {
        char names[8][64];
        const char *pat[16];
        int n = 0;
        for (int l = 0; l < L; l++) {
            pat[n++] = z_name[l];
            if (extra[way]) {
                snprintf(names[l], sizeof names[l], "blocks.%d.attn.%s", l, extra[way]);
                pat[n++] = names[l];
            }
        }
        CHECK_OK(hs_cache_create(pat, n, &cache[way]));
        if (!cache[way]) break;
        hs_forward_params fp = hs_forward_default_params();
        fp.hook = hs_cache_hook;
        fp.hook_user = cache[way];
        fp.loss = loss[way];
        CHECK_OK(hs_forward_run(f, tok, B, T, &fp));
        CHECK(hs_cache_count(cache[way]) == n, "%s: cache holds %d of %d", fixture, hs_cache_count(cache[way]), n);
    }
    for (int way = 1; way < 3 && cache[0] && cache[way]; way++) {
        CHECK(!memcmp(loss[0], loss[way], sizeof loss[0]), "%s: loss with %s = loss without, bit for bit", fixture, extra[way]);
        for (int l = 0; l < L; l++) {
            const hs_array *a = hs_cache_get(cache[0], z_name[l]), *b = hs_cache_get(cache[way], z_name[l]);
            bool same = a && b && a->ndim == 4 && b->ndim == 4 && !memcmp(a->shape, b->shape, sizeof a->shape) &&
                        !memcmp(a->data, b->data, sizeof(float) * (size_t)(a->shape[0] * a->shape[1] * a->shape[2] * a->shape[3]));
            CHECK(same, "%s: blocks.%d hook_z with %s = without, bit for bit", fixture, l, extra[way]);
        }
    }
    for (int way = 0; way < 3; way++) hs_cache_free(cache[way]);
    hs_forward_free(f);
    hs_model_free(m);
}

int main(void) {
    attention_paths("llama-tiny-f32");
    attention_paths("mistral-tiny-f32");
    attention_paths("llama3-tied-f32");
    loss_paths("neox-vocab-f16");     /* weights widened to float32 at load */
    loss_paths("llama-vocab-bf16");   /* weights kept as stored, widened a block at a time */
    hs_model_params mp = hs_model_default_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32", &mp, &m));
    if (!m) return test_report("test_hooks");
    const hs_model_config *c = hs_model_get_config(m);
    hs_forward *f = NULL;
    CHECK_OK(hs_forward_create(m, 2, 10, &f));
    int32_t tok[20];
    for (int i = 0; i < 20; i++) tok[i] = (i * 37) % 500;
    float loss_all[18], loss_none[18];
    int n_hooks = 4 + 18 * c->n_layers; /* embed, ln_final scale/normalized, logits + 18 per block */

    probe p = {0};
    strcpy(p.want, "*");
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = hook;
    fp.hook_user = &p;
    fp.loss = loss_all;
    CHECK_OK(hs_forward_run(f, tok, 2, 10, &fp));
    CHECK(p.asked == n_hooks, "asked %d hooks, expected %d", p.asked, n_hooks);
    CHECK(p.null_on_ask == 0, "data must be NULL when asking");
    /* logits arrive once per sequence */
    CHECK(p.given == n_hooks - 1 + 2, "given %d, expected %d", p.given, n_hooks + 1);
    CHECK(p.shape_mismatch == 0, "handed-over hooks carry data");

    probe q = {0};
    strcpy(q.want, "hook_pattern");
    fp.hook_user = &q;
    fp.loss = loss_none;
    CHECK_OK(hs_forward_run(f, tok, 2, 10, &fp));
    CHECK(q.asked == n_hooks, "asked %d", q.asked);
    CHECK(q.given == c->n_layers && q.given_unwanted == 0, "only the %d patterns handed over (got %d, %d unwanted)",
          c->n_layers, q.given, q.given_unwanted);
    CHECK(!memcmp(loss_all, loss_none, sizeof loss_all), "results do not depend on which hooks were wanted");

    probe r = {0};
    strcpy(r.want, "*");
    r.stop_after = 5;
    fp.hook_user = &r;
    hs_status s = hs_forward_run(f, tok, 2, 10, &fp);
    CHECK(s == HS_ERR_CANCELLED, "a stop from the callback cancels the pass (got %s)", hs_status_str(s));
    CHECK(r.given == 5, "no hook after the stop (%d handed over)", r.given);
    CHECK(strstr(hs_forward_error(f), "stopped") != NULL, "message: %s", hs_forward_error(f));
    /* the workspace is reusable after a cancelled pass */
    fp.hook = NULL;
    CHECK_OK(hs_forward_run(f, tok, 2, 10, &fp));
    CHECK(!memcmp(loss_all, loss_none, sizeof loss_all), "same loss after a cancelled pass");

    /* the cache helper collects exactly the named hooks */
    const char *names[] = {"blocks.1.attn.hook_z", "ln_final.hook_scale"};
    hs_cache *cache;
    CHECK_OK(hs_cache_create(names, 2, &cache));
    fp.hook = hs_cache_hook;
    fp.hook_user = cache;
    CHECK_OK(hs_forward_run(f, tok, 2, 10, &fp));
    CHECK(hs_cache_count(cache) == 2, "cache holds %d", hs_cache_count(cache));
    const hs_array *z = hs_cache_get(cache, "blocks.1.attn.hook_z");
    CHECK(z && z->ndim == 4 && z->shape[0] == 2 && z->shape[1] == 10 && z->shape[2] == c->n_heads && z->shape[3] == c->d_head,
          "hook_z shape [B, T, H, D]");
    const hs_array *sc = hs_cache_get(cache, "ln_final.hook_scale");
    CHECK(sc && sc->ndim == 3 && sc->shape[2] == 1, "hook_scale shape [B, T, 1]");
    CHECK(hs_cache_get(cache, "blocks.0.attn.hook_z") == NULL, "unrequested hook absent");
    hs_cache_free(cache);

    /* the memory estimate is a pure function of (config, B, T) and grows with both */
    hs_memory_estimate a = hs_model_estimate_memory(c, 2, 10), b = hs_model_estimate_memory(c, 4, 10),
                       d = hs_model_estimate_memory(c, 2, 20);
    CHECK(a.weights == b.weights && b.workspace > a.workspace && d.workspace > a.workspace && a.total == a.weights + a.workspace,
          "memory estimate");
    hs_forward_free(f);
    hs_model_free(m);
    return test_report("test_hooks");
}
