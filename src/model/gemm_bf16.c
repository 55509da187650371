/* gemm_bf16.c — the opt-in bf16 compute of the weight GEMMs through oneDNN (issue 19 item 5).
 *
 * y = bf16(x) @ bf16(W) + b with float32 accumulation and output: oneDNN's matmul on
 * AVX512_BF16 / AMX (its brgemm kernels). Activations are rounded to bf16 (round to nearest
 * even) into one buffer per forward; weights once per model:
 *   - TL-shaped float32 weights (GPT-NeoX, GPT-2): a bf16 copy [K, N] of each GEMM matrix;
 *   - stored matrices (Llama family, HF layout [N, K]): BF16 files are used as they are, F32
 *     and F16 ones get a bf16 copy. fold_ln's norm weight multiplies the activations instead of
 *     the weight columns (the same product, rounded once), center_unembed's mean is taken off
 *     afterwards: logits = (x ⊙ lnf) @ Uᵀ − x·mu + b_U.
 * Primitives are made once per shape (rows, K, N, output stride) and cached in the forward's
 * context with their memory objects, whose data pointers are set at each call; the
 * scratchpad is the context's (user mode), grown only when a primitive is made.
 * oneDNN here is Debian's (OpenMP runtime, as OpenBLAS's build this project links). */
#include "model/model_internal.h"
#include <oneapi/dnnl/dnnl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ model-level bf16 weights */
struct hs_bf16_weights {
    struct bw_entry { const void *key; uint16_t *data; bool owned; } *e;   /* key: float* (TL weight) or hs_stored* */
    int n;
};

static inline uint16_t to_bf16(float x) {   /* round to nearest even; NaN stays NaN */
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

void hs_bf16_weights_free(struct hs_bf16_weights *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++)
        if (w->e[i].owned) hs_aligned_free(w->e[i].data);
    free(w->e);
    free(w);
}

static hs_status bw_float(struct hs_bf16_weights *w, const float *W, size_t n) {
    if (!W) return HS_OK;
    uint16_t *d = hs_aligned_alloc(n * sizeof(uint16_t));
    if (!d) return HS_ERR_NOMEM;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) d[i] = to_bf16(W[i]);
    w->e[w->n++] = (struct bw_entry){W, d, true};
    return HS_OK;
}

static hs_status bw_stored(struct hs_bf16_weights *w, const hs_stored *s) {
    if (!s->data) return HS_OK;
    if (s->dtype == HS_BF16) { w->e[w->n++] = (struct bw_entry){s, s->data, false}; return HS_OK; }
    const int64_t RB = 256, C = s->cols;
    uint16_t *d = hs_aligned_alloc((size_t)s->rows * (size_t)C * sizeof(uint16_t));
    float *blk = d ? hs_malloc(sizeof(float) * (size_t)RB * (size_t)C) : NULL;
    if (!blk) { hs_aligned_free(d); return HS_ERR_NOMEM; }
    for (int64_t r0 = 0; r0 < s->rows; r0 += RB) {
        int64_t nr = s->rows - r0 < RB ? s->rows - r0 : RB;
        hs_stored_widen(s, r0, nr, NULL, NULL, blk);
        #pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < nr * C; i++) d[(size_t)(r0 * C + i)] = to_bf16(blk[i]);
    }
    free(blk);
    w->e[w->n++] = (struct bw_entry){s, d, true};
    return HS_OK;
}

static hs_status bw_make(const hs_model *m, struct hs_bf16_weights **out) {
    const hs_model_config *c = &m->cfg;
    const size_t M = (size_t)c->d_model, F = (size_t)c->d_mlp, V = (size_t)c->d_vocab, HD = (size_t)c->n_heads * c->d_head,
                 QKV = HD + 2 * (size_t)c->n_kv_heads * c->d_head;
    struct hs_bf16_weights *w = hs_calloc(1, sizeof *w);
    if (!w || !(w->e = hs_calloc((size_t)c->n_layers * ST_PER_LAYER + 1, sizeof *w->e))) { free(w); return HS_ERR_NOMEM; }
    hs_status s = HS_OK;
    for (int l = 0; !s && l < c->n_layers; l++) {
        if (m->st)
            for (int i = 0; !s && i < ST_PER_LAYER; i++) s = bw_stored(w, &m->st->layers[(size_t)l * ST_PER_LAYER + i]);
        else {
            const hs_layer *L = &m->w.layers[l];
            if (!s) s = bw_float(w, m->qkv[l].W, M * QKV);
            if (!s) s = bw_float(w, L->W_O, HD * M);
            if (!s) s = bw_float(w, L->W_gate, M * F);
            if (!s) s = bw_float(w, L->W_in, M * F);
            if (!s) s = bw_float(w, L->W_out, F * M);
        }
    }
    if (!s) s = m->st ? bw_stored(w, hs_stored_unembed(m)) : bw_float(w, m->w.W_U, M * V);
    if (s) { hs_bf16_weights_free(w); return hs_errorf(s, "%s: out of memory converting the weights to bf16", m->dir); }
    *out = w;
    return HS_OK;
}

static const uint16_t *bw_find(const struct hs_bf16_weights *w, const void *key) {
    for (int i = 0; i < w->n; i++)
        if (w->e[i].key == key) return w->e[i].data;
    return NULL;
}

/* ------------------------------------------------------------------ a forward's context */
#define PRIM_CACHE 48   /* shapes kept: ~6 GEMM kinds x (full batch, last batch, logits) */

typedef struct prim_entry {
    int64_t R, K, N, ldy;
    bool w_nk, bias;       /* weights stored [N, K] (stored models) / bias given */
    dnnl_primitive_t p;
    dnnl_memory_t src, wei, dst, bia, pad;
    uint64_t used;
} prim_entry;

struct hs_bf16_gemm {
    const hs_model *m;
    const struct hs_bf16_weights *w;
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    uint16_t *act;         /* [max_act] the GEMM input in bf16 */
    size_t max_act;
    float *rowc;           /* [max rows] x·mu for the centred unembedding */
    size_t max_rows;
    void *pad;             /* scratchpad shared by the primitives */
    size_t pad_size;
    prim_entry prims[PRIM_CACHE];
    uint64_t clock;
    hs_status status;
    char impl[64];
};

hs_status hs_bf16_gemm_status(hs_bf16_gemm *g) {
    hs_status s = g->status;
    g->status = HS_OK;
    return s;
}

const char *hs_bf16_gemm_impl(const hs_bf16_gemm *g) { return g->impl; }

static void prim_release(prim_entry *e) {
    dnnl_memory_t *mems[] = {&e->src, &e->wei, &e->dst, &e->bia, &e->pad};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (*mems[i]) dnnl_memory_destroy(*mems[i]);
    if (e->p) dnnl_primitive_destroy(e->p);
    memset(e, 0, sizeof *e);
}

void hs_bf16_gemm_free(hs_bf16_gemm *g) {
    if (!g) return;
    for (int i = 0; i < PRIM_CACHE; i++) prim_release(&g->prims[i]);
    if (g->strm) dnnl_stream_destroy(g->strm);
    if (g->eng) dnnl_engine_destroy(g->eng);
    hs_aligned_free(g->act);
    hs_aligned_free(g->pad);
    free(g->rowc);
    free(g);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch ((int)isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "below sse41";
    }
}

hs_status hs_compute_check(hs_compute c) {
    if (c == HS_COMPUTE_F32) return HS_OK;
    if (c != HS_COMPUTE_BF16) return hs_errorf(HS_ERR_INVALID_ARG, "compute %d: expected HS_COMPUTE_F32 or HS_COMPUTE_BF16", (int)c);
    /* native bf16 dot products (AVX512_BF16; AMX includes it): elsewhere oneDNN emulates bf16
     * (measured on this project's AVX-512 machine with ONEDNN_MAX_CPU_ISA=AVX512_CORE: 5x
     * slower than native, below OpenBLAS's float32) or has no kernel at all (AVX2) */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) != (unsigned)dnnl_cpu_isa_avx512_core_bf16)
        return hs_errorf(HS_ERR_UNSUPPORTED,
                         "bf16 compute needs a CPU with AVX512_BF16 or AMX; oneDNN reports %s here, where bf16 would only be "
                         "emulated (slower than float32): use float32 compute (--compute f32)", isa_name(isa));
    return HS_OK;
}

hs_status hs_bf16_gemm_create(const hs_model *m, size_t max_act, hs_bf16_gemm **out) {
    *out = NULL;
    hs_status cs = hs_compute_check(HS_COMPUTE_BF16);
    if (cs) return cs;
    const struct hs_bf16_weights *w = NULL;
    struct hs_rep_cache *rc = m->rep_lock;
    hs_status s = HS_OK;
    pthread_mutex_lock(&rc->mu);
    if (!rc->bf16) s = bw_make(m, &rc->bf16);
    w = rc->bf16;
    pthread_mutex_unlock(&rc->mu);
    if (s) return s;
    hs_bf16_gemm *g = hs_calloc(1, sizeof *g);
    if (!g) return HS_ERR_NOMEM;
    g->m = m;
    g->w = w;
    g->max_act = max_act;
    g->max_rows = max_act / (size_t)m->cfg.d_model + 1;
    g->act = hs_aligned_alloc(max_act * sizeof(uint16_t));
    g->rowc = hs_malloc(g->max_rows * sizeof(float));
    if (!g->act || !g->rowc) { hs_bf16_gemm_free(g); return HS_ERR_NOMEM; }
    if (dnnl_engine_create(&g->eng, dnnl_cpu, 0) || dnnl_stream_create(&g->strm, g->eng, dnnl_stream_default_flags)) {
        hs_bf16_gemm_free(g);
        return hs_errorf(HS_ERR_INTERNAL, "oneDNN: cannot create the CPU engine and stream");
    }
    *out = g;
    return HS_OK;
}

/* The cached primitive for this shape, made (with its memory objects) on first use. */
static prim_entry *prim_get(hs_bf16_gemm *g, int64_t R, int64_t K, int64_t N, int64_t ldy, bool w_nk, bool bias) {
    prim_entry *victim = &g->prims[0];
    for (int i = 0; i < PRIM_CACHE; i++) {
        prim_entry *e = &g->prims[i];
        if (e->p && e->R == R && e->K == K && e->N == N && e->ldy == ldy && e->w_nk == w_nk && e->bias == bias) {
            e->used = ++g->clock;
            return e;
        }
        if (!e->p || (victim->p && e->used < victim->used)) victim = e;
    }
    prim_release(victim);
    prim_entry *e = victim;
    *e = (prim_entry){.R = R, .K = K, .N = N, .ldy = ldy, .w_nk = w_nk, .bias = bias};
    dnnl_memory_desc_t src, wei, dst, bia;
    dnnl_dims_t ds = {R, K}, dw = {K, N}, dd = {R, N}, db = {1, N}, sd = {ldy, 1};
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    const char *impl = NULL;
    bool ok = !dnnl_memory_desc_init_by_tag(&src, 2, ds, dnnl_bf16, dnnl_ab) &&
              !dnnl_memory_desc_init_by_tag(&wei, 2, dw, dnnl_bf16, w_nk ? dnnl_ba : dnnl_ab) &&
              !dnnl_memory_desc_init_by_strides(&dst, 2, dd, dnnl_f32, sd) &&
              !dnnl_memory_desc_init_by_tag(&bia, 2, db, dnnl_f32, dnnl_ab) &&
              !dnnl_matmul_desc_init(&md, &src, &wei, bias ? &bia : NULL, &dst) && !dnnl_primitive_attr_create(&attr) &&
              !dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) &&
              !dnnl_primitive_desc_create(&pd, &md, attr, g->eng, NULL) &&
              !dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) && !dnnl_primitive_create(&e->p, pd);
    const dnnl_memory_desc_t *pmd = ok ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
    size_t need = pmd ? dnnl_memory_desc_get_size(pmd) : 0;
    if (ok && need > g->pad_size) {
        void *np = hs_aligned_alloc(need);
        if (np) { hs_aligned_free(g->pad); g->pad = np; g->pad_size = need; }
        else ok = false;
    }
    ok = ok && pmd && !dnnl_memory_create(&e->src, &src, g->eng, DNNL_MEMORY_NONE) &&
         !dnnl_memory_create(&e->wei, &wei, g->eng, DNNL_MEMORY_NONE) && !dnnl_memory_create(&e->dst, &dst, g->eng, DNNL_MEMORY_NONE) &&
         !dnnl_memory_create(&e->bia, &bia, g->eng, DNNL_MEMORY_NONE) && !dnnl_memory_create(&e->pad, pmd, g->eng, DNNL_MEMORY_NONE);
    if (ok && impl) snprintf(g->impl, sizeof g->impl, "%s", impl);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ok) {
        prim_release(e);
        if (!g->status)
            g->status = hs_errorf(HS_ERR_NOMEM, "oneDNN: cannot make the bf16 matmul for %lld x %lld @ %lld x %lld",
                                  (long long)R, (long long)K, (long long)K, (long long)N);
        return NULL;
    }
    e->used = ++g->clock;
    return e;
}

/* y (row stride ldy) = act [R, K] @ W + b, W bf16 [K, N] (or [N, K] when w_nk). */
static void run(hs_bf16_gemm *g, int64_t R, int64_t K, const uint16_t *W, bool w_nk, int64_t N, const float *b, float *y, int64_t ldy) {
    if (g->status) return;
    if (!W) {
        g->status = hs_errorf(HS_ERR_INTERNAL, "bf16 compute: a weight of %s has no bf16 copy", g->m->dir);
        return;
    }
    prim_entry *e = prim_get(g, R, K, N, ldy, w_nk, b != NULL);
    if (!e) return;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei}, {DNNL_ARG_DST, e->dst},
                               {DNNL_ARG_SCRATCHPAD, e->pad}, {DNNL_ARG_BIAS, e->bia}};
    bool ok = !dnnl_memory_set_data_handle(e->src, g->act) && !dnnl_memory_set_data_handle(e->wei, (void *)W) &&
              !dnnl_memory_set_data_handle(e->dst, y) && !dnnl_memory_set_data_handle(e->pad, g->pad) &&
              !dnnl_memory_set_data_handle(e->bia, (void *)(b ? b : y)) &&
              !dnnl_primitive_execute(e->p, g->strm, b ? 5 : 4, args) && !dnnl_stream_wait(g->strm);
    if (!ok) g->status = hs_errorf(HS_ERR_INTERNAL, "oneDNN: the bf16 matmul %lld x %lld x %lld failed", (long long)R, (long long)K, (long long)N);
}

/* g->act = bf16(x ⊙ scale) for R rows of K. */
static bool load_act(hs_bf16_gemm *g, const float *x, int64_t R, int64_t K, const float *scale) {
    if (g->status) return false;
    if ((size_t)(R * K) > g->max_act) {
        g->status = hs_errorf(HS_ERR_INTERNAL, "bf16 compute: a %lld x %lld input exceeds the workspace", (long long)R, (long long)K);
        return false;
    }
    uint16_t *a = g->act;
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * K;
        uint16_t *o = a + r * K;
        if (scale) for (int64_t k = 0; k < K; k++) o[k] = to_bf16(xr[k] * scale[k]);
        else for (int64_t k = 0; k < K; k++) o[k] = to_bf16(xr[k]);
    }
    return true;
}

void hs_bf16_linear(hs_bf16_gemm *g, const float *x, int R, int K, const float *W, const float *b, int N, float *y) {
    if (load_act(g, x, R, K, NULL)) run(g, R, K, bw_find(g->w, W), false, N, b, y, N);
}

void hs_bf16_linear_stored(hs_bf16_gemm *g, const hs_stored *S, int n, const float *scale, const float *x, int R,
                           const float *b, float *y) {
    const int64_t K = S[0].cols;
    int64_t N = 0, off = 0;
    for (int i = 0; i < n; i++) N += S[i].rows;
    if (!load_act(g, x, R, K, scale)) return;
    for (int i = 0; i < n; i++) {   /* each matrix into its columns of y */
        run(g, R, K, bw_find(g->w, &S[i]), true, S[i].rows, b ? b + off : NULL, y + off, N);
        off += S[i].rows;
    }
}

void hs_bf16_unembed_stored(hs_bf16_gemm *g, const float *x, int T, float *lg) {
    const hs_model *m = g->m;
    const int64_t M = m->cfg.d_model, V = m->cfg.d_vocab;
    const hs_stored *U = hs_stored_unembed(m);
    if (!load_act(g, x, T, M, m->params.fold_ln ? m->w.lnf_w : NULL)) return;
    run(g, T, M, bw_find(g->w, U), true, V, m->w.b_U, lg, V);
    if (g->status || !m->params.center_unembed) return;
    if ((size_t)T > g->max_rows) { g->status = hs_errorf(HS_ERR_INTERNAL, "bf16 compute: %d rows exceed the workspace", T); return; }
    const float *mu = m->st->mu;
    for (int t = 0; t < T; t++) {   /* x·mu in double, the centring of every logit of row t */
        double s = 0;
        for (int64_t k = 0; k < M; k++) s += (double)x[t * M + k] * mu[k];
        g->rowc[t] = (float)s;
    }
    #pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        for (int64_t v = 0; v < V; v++) lg[t * V + v] -= g->rowc[t];
}

/* ------------------------------------------------------------------ public helpers */
hs_status hs_compute_parse(const char *s, hs_compute *out) {
    if (s && !strcmp(s, "f32")) { *out = HS_COMPUTE_F32; return HS_OK; }
    if (s && !strcmp(s, "bf16")) { *out = HS_COMPUTE_BF16; return HS_OK; }
    return hs_errorf(HS_ERR_INVALID_ARG, "compute '%s': expected f32 or bf16", s ? s : "(null)");
}

const char *hs_compute_name(hs_compute c) { return c == HS_COMPUTE_BF16 ? "bf16" : c == HS_COMPUTE_F32 ? "f32" : "?"; }

hs_status hs_compute_compare(const hs_model *m, const int32_t *tokens, int B, int T, hs_compute compute, hs_compute_deviation *out) {
    memset(out, 0, sizeof *out);
    if (B < 1 || T < 1) return hs_errorf(HS_ERR_INVALID_ARG, "compute comparison: %d x %d tokens", B, T);
    const size_t V = (size_t)m->cfg.d_vocab, TV = (size_t)T * V;
    float *lr = hs_malloc(sizeof(float) * TV), *lc = hs_malloc(sizeof(float) * TV);
    float *sr = hs_malloc(sizeof(float) * (size_t)T), *sc = hs_malloc(sizeof(float) * (size_t)T);
    hs_forward *f = NULL;
    hs_status s = !lr || !lc || !sr || !sc ? HS_ERR_NOMEM : hs_forward_create(m, 1, T, &f);
    double d2 = 0, r2 = 0, dl = 0;
    for (int b = 0; !s && b < B; b++) {
        hs_forward_params fp = hs_forward_default_params();
        fp.logits = lr;
        fp.loss = sr;
        s = hs_forward_run(f, tokens + (size_t)b * T, 1, T, &fp);
        fp.logits = lc;
        fp.loss = sc;
        fp.compute = compute;
        if (!s) s = hs_forward_run(f, tokens + (size_t)b * T, 1, T, &fp);
        if (s) break;
        for (size_t i = 0; i < TV; i++) {
            double d = fabs((double)lc[i] - lr[i]);
            if (d > out->max_abs_logit) out->max_abs_logit = d;
            if (fabs(lr[i]) > out->max_logit) out->max_logit = fabs(lr[i]);
            d2 += d * d;
            r2 += (double)lr[i] * lr[i];
        }
        for (int t = 0; t + 1 < T; t++) {
            double d = fabs((double)sc[t] - sr[t]);
            if (d > out->max_abs_loss) out->max_abs_loss = d;
            dl += d;
        }
    }
    if (!s) {
        out->sequences = B;
        out->tokens = T;
        out->rel_logit = r2 > 0 ? sqrt(d2 / r2) : 0;
        out->mean_abs_loss = T > 1 ? dl / ((double)B * (T - 1)) : 0;
        snprintf(out->impl, sizeof out->impl, "%s", hs_forward_gemm_impl(f));
    }
    hs_forward_free(f);
    free(lr); free(lc); free(sr); free(sc);
    return s;
}
