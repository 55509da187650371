/* test_copying_stream.c — the copying scores (eigenvalues, frac_copy_argmax) are built in
 * vocabulary blocks from the weights as stored, keeping no float32 copy of W_E, W_U or a
 * layer's weights (copying.c). Checked here, on a BF16 Llama-3-vocabulary model (128256
 * rows, tied, grouped KV), an F16 NeoX one and a GQA Qwen2 one:
 *   - nothing is left materialised with a stored (Llama-family) model after the copying
 *     scores, and after a scan nothing of vocabulary size (the scan's unembedding columns
 *     are gathered from the stored rows): the memory bound's regression test — the
 *     previous code kept float32 W_E and W_U ([V, M] each) and every layer's W_V;
 *   - the post-MLP embedding kept in memory, spilled to a temporary file
 *     (HS_PME_MEMORY_MB=0) or given by the caller (hs_post_mlp_embed), and B^T made for
 *     1 or 4 query heads at a time (HS_COPY_HEADS_PER_CHUNK), give bit-identical scores and
 *     counts (no tolerance: the same float32 products in the same order). */
#include "headscan/headscan.h"
#include "model/model_internal.h"
#include "test.h"

typedef struct scores { float *er, *ev, *fr; int64_t *cnt; } scores;

static void run(hs_model *m, const float *pme, scores *o) {
    const hs_model_config *c = hs_model_get_config(m);
    const size_t G = (size_t)c->n_layers * c->n_heads;
    o->er = malloc(sizeof(float) * G); o->ev = malloc(sizeof(float) * G); o->fr = malloc(sizeof(float) * G);
    o->cnt = malloc(sizeof(int64_t) * G);
    CHECK_OK(hs_copying_scores(m, pme, o->er, o->ev));
    CHECK_OK(hs_frac_copy_argmax(m, pme, o->fr, o->cnt));
}

static bool same(const scores *a, const scores *b, size_t G) {
    return !memcmp(a->er, b->er, 4 * G) && !memcmp(a->ev, b->ev, 4 * G) && !memcmp(a->fr, b->fr, 4 * G) &&
           !memcmp(a->cnt, b->cnt, 8 * G);
}

static void free_scores(scores *s) { free(s->er); free(s->ev); free(s->fr); free(s->cnt); }

static int n_materialised(const hs_model *m, const char *name) {
    int n = 0;
    for (int i = 0; i < m->rep_lock->n_mat; i++) n += !name || !strcmp(m->rep_lock->mat[i].name, name);
    return n;
}

int main(void) {
    const char *fx[] = {"llama-vocab-bf16", "neox-vocab-f16", "qwen2-tiny-f32"};
    for (size_t f = 0; f < sizeof fx / sizeof *fx; f++) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", HS_SOURCE_DIR, fx[f]);
        hs_model_params mp = hs_model_default_params();
        hs_model *m = NULL;
        CHECK_OK(hs_model_load(dir, &mp, &m));
        if (!m) continue;
        const hs_model_config *c = hs_model_get_config(m);
        const size_t G = (size_t)c->n_layers * c->n_heads;
        scores mem, spill, given;
        unsetenv("HS_PME_MEMORY_MB");
        run(m, NULL, &mem);
        if (m->st) CHECK(n_materialised(m, NULL) == 0, "%s: the copying scores left %d float32 weights materialised", fx[f], n_materialised(m, NULL));
        setenv("HS_PME_MEMORY_MB", "0", 1);
        run(m, NULL, &spill);
        unsetenv("HS_PME_MEMORY_MB");
        float *pme = NULL;
        CHECK_OK(hs_post_mlp_embed(m, &pme));
        if (pme) run(m, pme, &given);
        /* B^T in chunks of 1 and 4 query heads (6 heads, 2 KV groups: uneven chunks, a chunk
           crossing a group) */
        for (int hb = 1; hb <= 4; hb += 3) {
            char e[8];
            snprintf(e, sizeof e, "%d", hb);
            setenv("HS_COPY_HEADS_PER_CHUNK", e, 1);
            scores ch;
            run(m, NULL, &ch);
            CHECK(same(&mem, &ch, G), "%s: B^T in chunks of %d heads gives different scores", fx[f], hb);
            free_scores(&ch);
        }
        unsetenv("HS_COPY_HEADS_PER_CHUNK");
        CHECK(same(&mem, &spill, G), "%s: post_mlp_embed spilled to a file gives different scores", fx[f]);
        if (pme) CHECK(same(&mem, &given, G), "%s: the caller's post_mlp_embed gives different scores", fx[f]);
        int64_t hits = 0;
        for (size_t g = 0; g < G; g++) hits += mem.cnt[g];
        printf("%s: V %d, %zu heads, %lld argmax hits in all; in memory = spilled = given\n", fx[f], c->d_vocab, G, (long long)hits);
        if (m->st) {   /* a scan keeps nothing of vocabulary size either */
            hs_array tok = {.dtype = HS_I64, .ndim = 2, .shape = {2, 9}};
            int64_t ids[18];
            for (int i = 0; i < 18; i++) ids[i] = (i * 7919 + 3) % c->d_vocab;
            tok.data = ids;
            hs_scan_params sp = hs_scan_default_params();
            sp.batch = 2;
            sp.ind_batch = 2;
            sp.ind_seq_len = 4;
            sp.ind_pool_lo = 1;
            sp.ind_pool_hi = c->d_vocab - 1;
            hs_scan_result *r = NULL;
            CHECK_OK(hs_scan_run(m, &tok, &sp, &r));
            if (r) CHECK(!memcmp(r->frac_copy_count, mem.cnt, 8 * G), "%s: the scan's counts differ", fx[f]);
            CHECK(n_materialised(m, "W_U") == 0 && n_materialised(m, "W_E") == 0, "%s: a scan materialised W_U or W_E", fx[f]);
            hs_scan_result_free(r);
        }
        free(pme);
        free_scores(&mem); free_scores(&spill);
        if (pme) free_scores(&given);
        hs_model_free(m);
    }
    return test_report("test_copying_stream");
}
