/* test_model_golden.c — the C forward pass against the torch reference
 * (tests/reference/neox_ref.py, gpt2_ref.py): processed weights, every hook, logits (top-10
 * ids, their logits and logsumexp for the vocab-sized fixtures), loss, and the unprocessed
 * model against HuggingFace's logits.
 *
 * Tolerance, per array: tol = 4·e32 + 16·ε·max|ref|, where e32 is the reference's
 * own float32-vs-float64 max error for that array (errors.json) and ε = 2^-23.
 * Why: our float32 result and the reference's differ from the exact (float64)
 * value by errors of the same order (same precision, different reduction order),
 * so |ours − ref| ≤ e_ours + e32; the factor 4 allows e_ours to be a few times e32
 * (different summation order), and the ε term covers arrays whose e32 is ~0 but
 * which still pass through a few float32 roundings in a different order. */
#include "test.h"
#include "headscan/headscan.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <float.h>

static char golden_root[1024], fixture_root[1024];
static cJSON *errors;

static double err32(const char *section, const char *name) {
    const cJSON *s;
    if (!strncmp(section, "variants/", 9)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(errors, "variants");
        s = v ? cJSON_GetObjectItemCaseSensitive(v, section + 9) : NULL;
    } else s = cJSON_GetObjectItemCaseSensitive(errors, section);
    const cJSON *e = s ? cJSON_GetObjectItemCaseSensitive(s, name) : NULL;
    const cJSON *v = e ? cJSON_GetObjectItemCaseSensitive(e, "max_abs_err") : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void compare(const char *what, const char *section, const char *name, const float *ours, const int64_t *shape,
                    int ndim, const hs_array *ref) {
    bool shape_ok = ref->ndim == ndim && ref->dtype == HS_F32;
    for (int i = 0; shape_ok && i < ndim; i++) shape_ok = ref->shape[i] == shape[i];
    CHECK(shape_ok, "%s %s: shape differs from the golden", what, name);
    if (!shape_ok) return;
    int64_t n = hs_array_numel(ref);
    const float *r = ref->data;
    double maxref = 0, maxdiff = 0;
    int64_t worst = 0;
    int64_t masked_wrong = 0;
    for (int64_t i = 0; i < n; i++) {
        /* masked attention scores (TL 1.6.1's -1e5, TL 2.x's -inf) must match exactly and stay out of max|ref| */
        if (r[i] == -100000.0f || r[i] == -INFINITY) { masked_wrong += ours[i] != r[i]; continue; }
        if (fabs(r[i]) > maxref) maxref = fabs(r[i]);
        double d = fabs((double)ours[i] - r[i]);
        if (!(d <= maxdiff)) { maxdiff = d; worst = i; }
    }
    CHECK(masked_wrong == 0, "%s %s: %lld masked entries differ from -1e5", what, name, (long long)masked_wrong);
    double e = err32(section, name);
    CHECK(e >= 0, "%s: no error figure for %s in errors.json", what, name);
    double tol = 4 * e + 16 * FLT_EPSILON * maxref;
    CHECK(maxdiff <= tol, "%s %s: max |diff| %.3g at %lld (ours %.9g, ref %.9g) > tol %.3g", what, name, maxdiff,
          (long long)worst, ours[worst], r[worst], tol);
    if (getenv("HS_TEST_VERBOSE")) printf("  %-40s max diff %.3g  tol %.3g\n", name, maxdiff, tol);
}

static hs_status load_golden(const char *fixture, const char *rel, hs_array *a) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s", golden_root, fixture, rel);
    return hs_npy_read(path, a);
}

/* Runs `model_dir` on the golden tokens and compares against golden/<golden>/<prefix>. */
/* Runs the forward on ids [B, T] collecting every hook into *cache, with logits [B, T, V]
 * and loss [B, T-1]; returns the forward (free it and *cache after use). */
static hs_forward *forward_cached(hs_model *m, const int32_t *ids, int B, int T, hs_cache **cache,
                                  float *logits, float *loss) {
    const char *all[] = {"*"};
    CHECK_OK(hs_cache_create(all, 1, cache));
    hs_forward *f = NULL;
    CHECK_OK(hs_forward_create(m, B, T, &f));
    hs_forward_params fp = hs_forward_default_params();
    fp.hook = hs_cache_hook;
    fp.hook_user = *cache;
    fp.logits = logits;
    fp.loss = loss;
    if (f) CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
    return f;
}

static void check_fixture(const char *model_name, const char *golden, bool processing, bool full) {
    char model_dir[2048], path[2048];
    snprintf(model_dir, sizeof model_dir, "%s/%s", fixture_root, model_name);
    char what[256];
    snprintf(what, sizeof what, "%s%s", model_name, processing ? "" : " (no processing)");
    snprintf(path, sizeof path, "%s/%s/errors.json", golden_root, golden);
    FILE *jf = fopen(path, "rb");
    CHECK(jf != NULL, "cannot open %s", path);
    if (!jf) return;
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, jf);
    fclose(jf);
    buf[len] = 0;
    /* Python's json writes NaN (a relative error over an all-zero array): make it JSON null */
    for (char *q = buf; (q = strstr(q, "NaN"));) memcpy(q, "0  ", 3);
    cJSON_Delete(errors);
    errors = cJSON_Parse(buf);

    hs_model_params mp = processing ? hs_model_default_params() : hs_model_no_processing_params();
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(model_dir, &mp, &m));
    if (!m) return;
    const hs_model_config *c = hs_model_get_config(m);
    hs_array tok = {0};
    CHECK_OK(load_golden(golden, "tokens.npy", &tok));
    if (!tok.data) { hs_model_free(m); return; }
    int B = (int)tok.shape[0], T = (int)tok.shape[1], V = c->d_vocab;
    const bool big = V > 4096;   /* *-vocab-f16: goldens hold top-10 and logsumexp, not full logits */
    int32_t *ids = malloc(sizeof *ids * (size_t)B * T);
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)((int64_t *)tok.data)[i];

    /* processed weights */
    if (processing && full) {
        snprintf(path, sizeof path, "%s/%s/weights", golden_root, golden);
        DIR *d = opendir(path);
        CHECK(d != NULL, "no weights folder %s", path);
        int n = 0;
        for (struct dirent *e; d && (e = readdir(d));) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".npy")) continue;
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(l - 4), e->d_name);
            char rel[512];
            snprintf(rel, sizeof rel, "weights/%s", e->d_name);
            hs_array ref = {0}, ours;
            CHECK_OK(load_golden(golden, rel, &ref));
            hs_status s = hs_model_weight(m, name, &ours);
            CHECK(s == HS_OK, "%s: weight %s: %s", what, name, hs_last_error());
            if (s == HS_OK && ref.data) { compare(what, "weights", name, ours.data, ours.shape, ours.ndim, &ref); n++; }
            hs_array_free(&ref);
        }
        if (d) closedir(d);
        /* W_E, W_U, b_U (absent from the *-vocab-f16 goldens: too big), W_pos (GPT-2), 12 per layer
         * (Llama: W_Q b_Q _W_K _W_V _b_K _b_V W_O b_O W_gate W_in W_out b_out, + b_gate b_up with mlp_bias) */
        CHECK(n == (big ? 0 : 3) + (c->rotary_dim ? 0 : 1) + (12 + (c->mlp_bias ? 2 : 0)) * c->n_layers,
              "%s: only %d weights compared", what, n);
    }

    /* every hook, logits, loss */
    hs_cache *cache = NULL;
    float *logits = malloc(sizeof(float) * (size_t)B * T * V), *loss = malloc(sizeof(float) * (size_t)B * (T - 1));
    hs_forward *f = forward_cached(m, ids, B, T, &cache, logits, loss);
    const char *hook_dir = processing ? "hooks" : "no_processing/hooks";
    if (!full) goto outputs;
    const char *section = processing ? "hooks" : "no_processing_hooks";
    snprintf(path, sizeof path, "%s/%s/%s", golden_root, golden, hook_dir);
    DIR *d = opendir(path);
    CHECK(d != NULL, "no hooks folder %s", path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".npy")) continue;
        char name[256], rel[512];
        snprintf(name, sizeof name, "%.*s", (int)(l - 4), e->d_name);
        snprintf(rel, sizeof rel, "%s/%s", hook_dir, e->d_name);
        hs_array ref = {0};
        CHECK_OK(load_golden(golden, rel, &ref));
        const hs_array *ours = hs_cache_get(cache, name);
        CHECK(ours != NULL, "%s: hook %s was not delivered", what, name);
        if (ours && ref.data) { compare(what, section, name, ours->data, ours->shape, ours->ndim, &ref); n++; }
        hs_array_free(&ref);
    }
    if (d) closedir(d);
    CHECK(n == hs_cache_count(cache), "%s: %d golden hooks but the forward delivered %d", what, n, hs_cache_count(cache));
    /* embed, ln_final scale/normalized (+ pos_embed); per block 16 (+ rot_q/rot_k, + resid_mid, + pre_linear) */
    int expect_hooks = 3 + (c->rotary_dim ? 0 : 1) +
                       c->n_layers * (16 + (c->rotary_dim ? 2 : 0) + (c->parallel_residual ? 0 : 1) + (c->gated_mlp ? 1 : 0));
    CHECK(n == expect_hooks, "%s: expected %d hooks, compared %d", what, expect_hooks, n);
outputs:

    if (big && processing) {
        /* top-10 ids exactly: the reference's smallest gap between consecutive sorted logits
         * among its top 11 (errors.json outputs.top10_min_gap) must exceed twice the logit
         * tolerance, so no rank can swap within it; their logits and logsumexp with the usual tol */
        hs_array rid = {0}, rlg = {0}, rlse = {0};
        CHECK_OK(load_golden(golden, "top10.npy", &rid));
        CHECK_OK(load_golden(golden, "top10_logits.npy", &rlg));
        CHECK_OK(load_golden(golden, "logsumexp.npy", &rlse));
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(errors, "outputs");
        const cJSON *gap = o ? cJSON_GetObjectItemCaseSensitive(o, "top10_min_gap") : NULL;
        double tol = 4 * err32("outputs", "logits") + 16 * FLT_EPSILON * 20.0;
        CHECK(cJSON_IsNumber(gap), "%s: top10_min_gap missing", what);
        /* ranks are exact when no two of the reference's top 11 lie within 2 x tol; otherwise each id
         * must hold its rank up to entries within 2 x tol of its logit (a near-tie may swap) */
        const bool exact = cJSON_IsNumber(gap) && gap->valuedouble > 2 * tol;
        float *top = malloc(sizeof(float) * (size_t)B * T * 10), *lse = malloc(sizeof(float) * (size_t)B * T);
        int bad_ids = 0;
        for (int64_t r = 0; rid.data && r < (int64_t)B * T; r++) {
            const float *lg = logits + r * V;
            double mx = lg[0], se = 0;
            for (int v = 1; v < V; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (int v = 0; v < V; v++) se += exp((double)lg[v] - mx);
            lse[r] = (float)(mx + log(se));
            for (int k = 0; k < 10; k++) {
                int64_t id = ((int64_t *)rid.data)[r * 10 + k];
                top[r * 10 + k] = lg[id];
                /* id must be the k-th largest: exactly k entries above it */
                int above = 0, clear_above = 0, near = 0;
                for (int v = 0; v < V; v++) {
                    above += lg[v] > lg[id];
                    clear_above += lg[v] > lg[id] + 2 * tol;
                    near += lg[v] >= lg[id] - 2 * tol;
                }
                bad_ids += exact ? above != k : !(clear_above <= k && near >= k + 1);
            }
        }
        CHECK(bad_ids == 0, "%s: %d top-10 ranks differ from the reference's", what, bad_ids);
        int64_t shp[3] = {B, T, 10}, shl[2] = {B, T};
        if (rlg.data) compare(what, "outputs", "logits", top, shp, 3, &rlg);
        if (rlse.data) compare(what, "outputs", "logsumexp", lse, shl, 2, &rlse);
        free(top); free(lse);
        hs_array_free(&rid); hs_array_free(&rlg); hs_array_free(&rlse);
    }
    if (!big) {
        hs_array ref = {0};
        int64_t shp[3] = {B, T, V};
        if (processing) {
            CHECK_OK(load_golden(golden, "logits.npy", &ref));
            if (ref.data) compare(what, "outputs", "logits", logits, shp, 3, &ref);
            hs_array_free(&ref);
        } else {
            /* with processing off the logits equal HuggingFace's forward */
            CHECK_OK(load_golden(golden, "hf_logits.npy", &ref));
            if (ref.data) compare(what, "outputs", "hf_logits", logits, shp, 3, &ref);
            hs_array_free(&ref);
        }
    }
    if (processing) {
        hs_array ref = {0};
        int64_t shp[2] = {B, T - 1};
        CHECK_OK(load_golden(golden, "loss.npy", &ref));
        if (ref.data) compare(what, "outputs", "loss", loss, shp, 2, &ref);
        hs_array_free(&ref);
    }
    free(logits);
    free(loss);
    free(ids);
    hs_array_free(&tok);
    hs_cache_free(cache);
    hs_forward_free(f);
    hs_model_free(m);
}

/* One processing step off at a time (golden/<fixture>/variants/<name>): the switches
 * of hs_model_params against the reference with the same step skipped. errors.json must
 * already be loaded for the fixture. */
static void check_variant(const char *fixture, const char *name, hs_model_params mp) {
    char dir[2048], rel[512], what[128];
    snprintf(dir, sizeof dir, "%s/%s", fixture_root, fixture);
    snprintf(what, sizeof what, "%s variant %s", fixture, name);
    char section[64];
    snprintf(section, sizeof section, "variants/%s", name);
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(dir, &mp, &m));
    hs_array tok = {0};
    CHECK_OK(load_golden(fixture, "tokens.npy", &tok));
    if (!m || !tok.data) { hs_model_free(m); hs_array_free(&tok); return; }
    int B = (int)tok.shape[0], T = (int)tok.shape[1], V = hs_model_get_config(m)->d_vocab;
    int32_t ids[4096];
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)((int64_t *)tok.data)[i];
    hs_cache *cache = NULL;
    float *logits = malloc(sizeof(float) * (size_t)B * T * V), *loss = malloc(sizeof(float) * (size_t)B * (T - 1));
    hs_forward *f = forward_cached(m, ids, B, T, &cache, logits, loss);
    float *last = malloc(sizeof(float) * (size_t)B * V);
    for (int b = 0; b < B; b++) memcpy(last + (size_t)b * V, logits + ((size_t)b * T + T - 1) * V, sizeof(float) * (size_t)V);
    hs_array ref = {0};
    int64_t shl[2] = {B, V}, shloss[2] = {B, T - 1};
    snprintf(rel, sizeof rel, "variants/%s/logits_last.npy", name);
    CHECK_OK(load_golden(fixture, rel, &ref));
    if (ref.data) compare(what, section, "logits_last", last, shl, 2, &ref);
    hs_array_free(&ref);
    snprintf(rel, sizeof rel, "variants/%s/loss.npy", name);
    CHECK_OK(load_golden(fixture, rel, &ref));
    if (ref.data) compare(what, section, "loss", loss, shloss, 2, &ref);
    hs_array_free(&ref);
    static const char *weights[] = {"b_U", "blocks.0.attn.b_O", "blocks.1.attn.b_O"};
    for (int i = 0; i < 3; i++) {
        hs_array ours;
        char key[128];
        snprintf(rel, sizeof rel, "variants/%s/weights/%s.npy", name, weights[i]);
        snprintf(key, sizeof key, "weights/%s", weights[i]);
        CHECK_OK(load_golden(fixture, rel, &ref));
        CHECK_OK(hs_model_weight(m, weights[i], &ours));
        if (ref.data && ours.data) compare(what, section, key, ours.data, ours.shape, ours.ndim, &ref);
        hs_array_free(&ref);
    }
    static const char *hooks[] = {"blocks.1.attn.hook_v", "blocks.1.hook_attn_out", "blocks.1.hook_resid_post", "ln_final.hook_normalized"};
    for (int i = 0; i < 4; i++) {
        char key[128];
        snprintf(rel, sizeof rel, "variants/%s/hooks/%s.npy", name, hooks[i]);
        snprintf(key, sizeof key, "hooks/%s", hooks[i]);
        CHECK_OK(load_golden(fixture, rel, &ref));
        const hs_array *ours = hs_cache_get(cache, hooks[i]);
        CHECK(ours != NULL, "%s: hook %s missing", what, hooks[i]);
        if (ref.data && ours) compare(what, section, key, ours->data, ours->shape, ours->ndim, &ref);
        hs_array_free(&ref);
    }
    free(logits); free(loss); free(last);
    hs_array_free(&tok);
    hs_cache_free(cache);
    hs_forward_free(f);
    hs_model_free(m);
}

/* A BF16 checkpoint and an F32 one holding the same values give bit-identical logits
 * (weights are widened exactly; the computation never sees the storage type). */
static void check_same_numbers(const char *a, const char *b) {
    char da[2048], db[2048];
    snprintf(da, sizeof da, "%s/%s", fixture_root, a);
    snprintf(db, sizeof db, "%s/%s", fixture_root, b);
    hs_model_params mp = hs_model_default_params();
    hs_model *ma = NULL, *mb = NULL;
    CHECK_OK(hs_model_load(da, &mp, &ma));
    CHECK_OK(hs_model_load(db, &mp, &mb));
    hs_array tok = {0};
    CHECK_OK(load_golden(a, "tokens.npy", &tok));
    if (ma && mb && tok.data) {
        int B = (int)tok.shape[0], T = (int)tok.shape[1], V = hs_model_get_config(ma)->d_vocab;
        int32_t *ids = malloc(sizeof *ids * (size_t)B * T);
        for (int i = 0; i < B * T; i++) ids[i] = (int32_t)((int64_t *)tok.data)[i];
        float *la = malloc(sizeof(float) * (size_t)B * T * V), *lb = malloc(sizeof(float) * (size_t)B * T * V);
        hs_forward *f = NULL;
        hs_forward_params fp = hs_forward_default_params();
        CHECK_OK(hs_forward_create(ma, B, T, &f));
        fp.logits = la;
        if (f) CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
        hs_forward_free(f);
        f = NULL;
        CHECK_OK(hs_forward_create(mb, B, T, &f));
        fp.logits = lb;
        if (f) CHECK_OK(hs_forward_run(f, ids, B, T, &fp));
        hs_forward_free(f);
        CHECK(!memcmp(la, lb, sizeof(float) * (size_t)B * T * V), "%s and %s: logits are not bit-identical", a, b);
        free(la); free(lb); free(ids);
    }
    hs_array_free(&tok);
    hs_model_free(ma);
    hs_model_free(mb);
}

int main(void) {
    const char *g = getenv("HS_GOLDEN_ROOT"), *fx = getenv("HS_FIXTURE_ROOT");
    snprintf(golden_root, sizeof golden_root, "%s", g ? g : HS_SOURCE_DIR "/tests/golden");
    snprintf(fixture_root, sizeof fixture_root, "%s", fx ? fx : HS_SOURCE_DIR "/tests/fixtures");
    /* full: weights and every hook too; the F16 fixture's goldens hold logits and loss only */
    check_fixture("neox-tiny-f32", "neox-tiny-f32", true, true);
    check_fixture("neox-tiny-f32", "neox-tiny-f32", false, true);
    hs_model_params v = hs_model_default_params();
    v.fold_ln = false;
    check_variant("neox-tiny-f32", "no_fold_ln", v);
    v = hs_model_default_params();
    v.center_writing_weights = false;
    check_variant("neox-tiny-f32", "no_center_writing", v);
    v = hs_model_default_params();
    v.center_unembed = false;
    check_variant("neox-tiny-f32", "no_center_unembed", v);
    v = hs_model_default_params();
    v.fold_value_biases = false;
    check_variant("neox-tiny-f32", "no_fold_value_biases", v);
    check_fixture("neox-tiny-sharded", "neox-tiny-f32", true, true);
    check_fixture("neox-tiny-f16", "neox-tiny-f16", true, false);
    check_fixture("neox-tiny-f16", "neox-tiny-f16", false, false);
    check_fixture("gpt2-tiny-f32", "gpt2-tiny-f32", true, true);
    check_fixture("gpt2-tiny-f32", "gpt2-tiny-f32", false, true);
    check_fixture("gpt2-tiny-prefixed-f16", "gpt2-tiny-prefixed-f16", true, false);
    check_fixture("gpt2-tiny-prefixed-f16", "gpt2-tiny-prefixed-f16", false, false);
    /* the real vocabularies (50304 / 50257 rows, F16, tiny bodies): weights, every hook,
     * top-10 ids and logits, logsumexp, loss */
    check_fixture("neox-vocab-f16", "neox-vocab-f16", true, true);
    check_fixture("neox-vocab-f16", "neox-vocab-f16", false, true);
    check_fixture("gpt2-vocab-f16", "gpt2-vocab-f16", true, true);
    check_fixture("gpt2-vocab-f16", "gpt2-vocab-f16", false, true);
    /* Llama family (tests/reference/llama_ref.py): GQA, explicit head_dim, tied, biases,
     * Qwen2's q/k/v bias, Mistral's sliding window, three RoPE spellings and scalings */
    static const char *const llama_full[] = {"llama-tiny-f32", "llama3-tied-f32", "qwen2-tiny-f32", "mistral-tiny-f32", "llama-vocab-bf16"};
    for (size_t i = 0; i < sizeof llama_full / sizeof *llama_full; i++) {
        char hooks[2048];
        snprintf(hooks, sizeof hooks, "%s/%s/no_processing/hooks", golden_root, llama_full[i]);
        DIR *d = opendir(hooks);   /* mistral-tiny-f32's no-processing goldens are logits only */
        if (d) closedir(d);
        check_fixture(llama_full[i], llama_full[i], true, true);
        check_fixture(llama_full[i], llama_full[i], false, d != NULL);
    }
    static const char *const rms_variants[] = {"llama-tiny-f32", "qwen2-tiny-f32"};
    for (size_t i = 0; i < sizeof rms_variants / sizeof *rms_variants; i++) {
        check_fixture(rms_variants[i], rms_variants[i], true, false);   /* loads its errors.json */
        v = hs_model_default_params();
        v.fold_ln = false;
        check_variant(rms_variants[i], "no_fold_ln", v);
        v = hs_model_default_params();
        v.center_unembed = false;
        check_variant(rms_variants[i], "no_center_unembed", v);
        v = hs_model_default_params();
        v.fold_value_biases = false;
        check_variant(rms_variants[i], "no_fold_value_biases", v);
    }
    check_fixture("llama-tiny-sharded", "llama-tiny-f32", true, true);
    check_fixture("llama3-tied-v5", "llama3-tied-f32", true, true);
    static const char *const llama_logits[] = {"llama-tiny-bf16", "llama-tiny-f16", "llama-rope-linear", "llama-rope-dynamic", "llama-rope-default-v5"};
    for (size_t i = 0; i < sizeof llama_logits / sizeof *llama_logits; i++) {
        check_fixture(llama_logits[i], llama_logits[i], true, false);
        check_fixture(llama_logits[i], llama_logits[i], false, false);
    }
    check_same_numbers("llama-tiny-bf16", "llama-tiny-bf16-as-f32");
    cJSON_Delete(errors);
    return test_report("test_model_golden");
}
