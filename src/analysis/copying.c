/* copying.c — OV-circuit copying scores (analysis.md §9): post_mlp_embed, eigenvalue
 * scores via LAPACKE_dgeev on the d_head x d_head products, and frac_copy_argmax,
 * computed exactly without the [V, V] matrix.
 *
 * Memory. Nothing of size [V, d_model] is kept but the post-MLP embedding itself, and that
 * only when it is small: pme, the Gram matrix G = W_U @ pme and the factors are built in
 * blocks of vocabulary rows read straight from the model's weights (a Llama-family model's
 * stored BF16/F16/F32 rows are widened a block at a time, hs_model_vocab_rows; no float32
 * W_E or W_U is made). pme [V, M] is needed once per layer (A = pme @ W_V): it is kept in
 * memory when it takes at most HS_PME_MEMORY_MB (default 256) MB, else written once to an
 * unlinked temporary file in TMPDIR (default /tmp) and read back a block at a time. Per layer
 * the factors are A [KV, V, D] (one per KV group: the query heads of a group share W_V)
 * and B^T for a chunk of query heads [hb, V, D], hb·V·D floats ≤ 256 MB; the argmax's
 * workspace is allocated once per call. Each float32 value is the same as when the whole
 * matrices were formed (same products, same order: BLAS splits rows and columns, not
 * the contraction).
 *
 * frac_copy_argmax. S[i, j] = fma-chain over k of A[i, k]·B[k, j] (float32). Row i is
 * a hit iff no j < i has S[i, j] >= S[i, i] and no j > i has S[i, j] > S[i, i]
 * (argmax takes the first index). Columns are visited in decreasing norm |B[:, j]|.
 * The default path screens the entries with BLAS sgemm and recomputes only those that
 * could reach the diagonal (count_screened, below): its speed is the BLAS's. The tile
 * path (non-finite or overflow-prone input, or HS_COPY_ARGMAX_TILES) computes every
 * visited entry as the chain itself, in tiles of 64; a row leaves the active set as soon as some entry beats its diagonal
 * (a miss), or once |A[i]|·|B[:, next tile]|·(1 + 2e-5) < S[i, i] (a hit: by
 * Cauchy–Schwarz no remaining column can reach the diagonal; 2e-5 covers the
 * rounding of a 64..512-term float32 chain, γ_n·|a||b| with γ_512 < 3.1e-5 —
 * the slack is scaled with D below). The answer is that of the dense argmax over the
 * same entries; tests check it against brute force. */
#include "core/internal.h"
#include "analysis/scan_internal.h"
#include "core/vmath.h"
#include "model/model_access.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define TW 64     /* columns per tile */
#define CH 512    /* post_mlp_embed rows per MLP chunk: bounds the [CH, F] hidden activations */
#define VB 1024   /* vocabulary rows per block of pme and G (a multiple of CH) */
#define FB 4096   /* vocabulary rows per block of the factors */

typedef struct argmax_ws argmax_ws;
static argmax_ws *argmax_ws_new(int64_t V, int D);
static void argmax_ws_free(argmax_ws *w);
static hs_status copy_argmax(const float *A, const float *Bt, int64_t V, int D, argmax_ws *ws, int64_t *count);

/* ------------------------------------------------------------------ post_mlp_embed */
/* Block 0's MLP applied to LNPre of embedding rows, CH rows at a time. */
typedef struct pme_ctx {
    const hs_model_config *c;
    const hs_model *m;
    const float *E;                        /* W_E [V, M] when the model holds it in float32, else NULL */
    const float *Wi, *bi, *Wo, *bo, *Wg, *bg;
    float *own[3];                         /* W_in, W_out, W_gate materialised for this call (stored models) */
    float *e, *x, *h, *hg;                 /* [CH, M] widened rows; [CH, M]; [CH, F] x 2 */
} pme_ctx;

static void pme_free(pme_ctx *p) {
    for (int i = 0; i < 3; i++) hs_aligned_free(p->own[i]);
    hs_aligned_free(p->e); hs_aligned_free(p->x); hs_aligned_free(p->h); hs_aligned_free(p->hg);
}

static hs_status pme_init(const hs_model *m, pme_ctx *p) {
    memset(p, 0, sizeof *p);
    const hs_model_config *c = p->c = hs_model_get_config(m);
    p->m = m;
    const int M = c->d_model, F = c->d_mlp;
    hs_array WE, Win, bin, Wout, bout, Wg = {0}, bg = {0};
    hs_status s;
    /* gated MLP (Llama family, llama.md §8): silu(x W_gate + b_gate) * (x W_in + b_up) */
    if ((s = hs_model_weight_tmp(m, "blocks.0.mlp.W_in", &Win, &p->own[0])) ||
        (s = hs_model_weight_tmp(m, "blocks.0.mlp.W_out", &Wout, &p->own[1])) ||
        (c->gated_mlp && (s = hs_model_weight_tmp(m, "blocks.0.mlp.W_gate", &Wg, &p->own[2]))) ||
        (s = hs_model_weight(m, c->gated_mlp ? "blocks.0.mlp.b_up" : "blocks.0.mlp.b_in", &bin)) ||
        (s = hs_model_weight(m, "blocks.0.mlp.b_out", &bout)) ||
        (c->gated_mlp && (s = hs_model_weight(m, "blocks.0.mlp.b_gate", &bg))) ||
        (!hs_model_stored(m) && (s = hs_model_weight(m, "W_E", &WE)))) {
        pme_free(p);
        return s;
    }
    p->E = hs_model_stored(m) ? NULL : WE.data;
    p->Wi = Win.data; p->bi = bin.data; p->Wo = Wout.data; p->bo = bout.data; p->Wg = Wg.data; p->bg = bg.data;
    p->e = p->E ? NULL : hs_aligned_alloc(sizeof(float) * (size_t)CH * M);
    p->x = hs_aligned_alloc(sizeof(float) * (size_t)CH * M);
    p->h = hs_aligned_alloc(sizeof(float) * (size_t)CH * F);
    p->hg = c->gated_mlp ? hs_aligned_alloc(sizeof(float) * (size_t)CH * F) : NULL;
    if ((!p->E && !p->e) || !p->x || !p->h || (c->gated_mlp && !p->hg)) { pme_free(p); return HS_ERR_NOMEM; }
    return HS_OK;
}

/* o [R, M] = post_mlp_embed rows r0 .. r0+R−1 (R ≤ CH). */
static void pme_rows(pme_ctx *p, int64_t r0, int R, float *o) {
    const hs_model_config *c = p->c;
    const int M = c->d_model, F = c->d_mlp;
    float *x = p->x, *h = p->h, *hg = p->hg;
    const float *E = p->E ? p->E + (size_t)r0 * M : p->e;
    /* threads only where the work pays for a parallel region (small models: thousands of chunks) */
    const bool big_m = (size_t)R * M >= (1u << 16), big_f = (size_t)R * F >= (1u << 16);
    if (!p->E) hs_model_vocab_rows(p->m, false, r0, R, p->e);
    /* LNPre of each embedding row (model.md §5, eps = ln_eps); RMSPre (no mean) for RMSNorm models */
    #pragma omp parallel for schedule(static) if (big_m)
    for (int r = 0; r < R; r++) {
        const float *e = E + (size_t)r * M;
        float *xo = x + (size_t)r * M;
        double sm = 0;
        for (int i = 0; i < M && !c->rms_norm; i++) sm += e[i];
        float mean = (float)(sm / M);
        double s2 = 0;
        for (int i = 0; i < M; i++) { xo[i] = e[i] - mean; s2 += (double)xo[i] * xo[i]; }
        float sc = sqrtf((float)(s2 / M) + c->ln_eps);
        for (int i = 0; i < M; i++) xo[i] /= sc;
    }
    #pragma omp parallel for schedule(static) if (big_f)
    for (int r = 0; r < R; r++) memcpy(h + (size_t)r * F, p->bi, sizeof(float) * (size_t)F);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, F, M, 1.0f, x, M, p->Wi, F, 1.0f, h, F);
    /* block 0's own activation: exact GELU (Pythia), gelu_new (GPT-2), gated SiLU (Llama) */
    if (c->gated_mlp) {
        #pragma omp parallel for schedule(static) if (big_f)
        for (int r = 0; r < R; r++) memcpy(hg + (size_t)r * F, p->bg, sizeof(float) * (size_t)F);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, F, M, 1.0f, x, M, p->Wg, F, 1.0f, hg, F);
        #pragma omp parallel for schedule(static) if (big_f)
        for (int r = 0; r < R; r++) hs_silu_mul(hg + (size_t)r * F, h + (size_t)r * F, h + (size_t)r * F, (size_t)F);
    } else if (c->act == HS_ACT_GELU_NEW) {
        #pragma omp parallel for schedule(static) if (big_f)
        for (int r = 0; r < R; r++) hs_gelu_new(h + (size_t)r * F, h + (size_t)r * F, (size_t)F);
    } else {
        const float inv_sqrt2 = 0.70710678118654752440f;
        #pragma omp parallel for schedule(static) if (big_f)
        for (size_t i = 0; i < (size_t)R * F; i++) h[i] = 0.5f * h[i] * (1.0f + hs_erff(h[i] * inv_sqrt2));
    }
    #pragma omp parallel for schedule(static) if (big_m)
    for (int r = 0; r < R; r++) memcpy(o + (size_t)r * M, p->bo, sizeof(float) * (size_t)M);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, M, F, 1.0f, h, F, p->Wo, M, 1.0f, o, M);
    #pragma omp parallel for schedule(static) if (big_m)
    for (size_t i = 0; i < (size_t)R * M; i++) o[i] = E[i] + o[i];
}

hs_status hs_post_mlp_embed(const hs_model *m, float **out) {
    *out = NULL;
    const hs_model_config *c = hs_model_get_config(m);
    const int V = c->d_vocab, M = c->d_model;
    pme_ctx p;
    hs_status s = pme_init(m, &p);
    if (s) return s;
    float *pme = hs_aligned_alloc(sizeof(float) * (size_t)V * M);
    if (!pme) { pme_free(&p); return HS_ERR_NOMEM; }
    for (int r0 = 0; r0 < V; r0 += CH) pme_rows(&p, r0, V - r0 < CH ? V - r0 : CH, pme + (size_t)r0 * M);
    pme_free(&p);
    *out = pme;
    return HS_OK;
}

/* pme [V, M] for the layers' factors: the caller's, kept in memory, or spilled to a
 * temporary file (see the header comment). */
typedef struct pme_store {
    const float *rows;   /* [V, M] in memory, or NULL */
    float *own;          /* rows when this call made them */
    FILE *f;             /* spilled: V x M float32 */
    int64_t V;
    int M;
} pme_store;

static void pme_store_close(pme_store *ps) {
    hs_aligned_free(ps->own);
    if (ps->f) fclose(ps->f);
    memset(ps, 0, sizeof *ps);
}

/* *out = rows v0 .. v0+n−1: a pointer into memory, or read into buf [n, M]. */
static hs_status pme_block(const pme_store *ps, int64_t v0, int64_t n, float *buf, const float **out) {
    if (ps->rows) { *out = ps->rows + (size_t)v0 * ps->M; return HS_OK; }
    const size_t bytes = sizeof(float) * (size_t)n * ps->M;
    off_t off = (off_t)(sizeof(float) * (size_t)v0 * ps->M);
    for (size_t got = 0; got < bytes;) {
        ssize_t k = pread(fileno(ps->f), (char *)buf + got, bytes - got, off + (off_t)got);
        if (k <= 0) return hs_errorf(HS_ERR_IO, "post_mlp_embed: reading its temporary file failed");
        got += (size_t)k;
    }
    *out = buf;
    return HS_OK;
}

/* An unlinked read/write temporary file in TMPDIR (default /tmp); NULL on failure. */
static FILE *spill_file(void) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/headscan-pme-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) close(fd);
    return f;
}

/* One pass over the vocabulary: pme into ps (when `store` and not given) and, when G is
 * not NULL, G [M, M] = W_U [M, V] @ pme [V, M] in double (the V-long contraction). */
static hs_status vocab_pass(const hs_model *m, pme_store *ps, bool store, double *G) {
    const hs_model_config *c = hs_model_get_config(m);
    const int64_t V = c->d_vocab;
    const int M = c->d_model;
    pme_ctx p = {0};
    bool have_p = false;
    hs_status s = HS_OK;
    double *u = NULL, *pd = NULL;
    float *blk = NULL, *ub = NULL;
    if (store && !ps->rows) {
        const double mb = (double)sizeof(float) * V * M / 1048576.0;
        const char *env = getenv("HS_PME_MEMORY_MB");
        const double cap = env && *env ? atof(env) : 256.0;
        if (mb <= cap) {
            if (!(ps->own = hs_aligned_alloc(sizeof(float) * (size_t)V * M))) return HS_ERR_NOMEM;
            ps->rows = ps->own;
        } else if (!(ps->f = spill_file()))
            return hs_errorf(HS_ERR_IO, "post_mlp_embed: cannot create a temporary file for its %.0f MB in %s (TMPDIR)", mb,
                             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    }
    const bool compute = !ps->rows || ps->own;   /* not the caller's */
    if (compute) {
        if ((s = pme_init(m, &p))) return s;
        have_p = true;
    }
    const float *WU = NULL;   /* W_U [M, V] when the model holds it in float32 */
    hs_array a;
    if (G && !hs_model_stored(m) && !(s = hs_model_weight(m, "W_U", &a))) WU = a.data;
    blk = hs_aligned_alloc(sizeof(float) * (size_t)VB * M);
    if (G) {
        u = hs_aligned_alloc(sizeof(double) * (size_t)M * VB);
        pd = hs_aligned_alloc(sizeof(double) * (size_t)VB * M);
        ub = WU ? NULL : hs_aligned_alloc(sizeof(float) * (size_t)VB * M);
    }
    if (!s && (!blk || (G && (!u || !pd || (!WU && !ub))))) s = HS_ERR_NOMEM;
    for (int64_t v0 = 0; v0 < V && !s; v0 += VB) {
        const int n = (int)(V - v0 < VB ? V - v0 : VB);
        const float *pb = NULL;
        if (compute) {
            float *dst = ps->own ? ps->own + (size_t)v0 * M : blk;
            for (int r = 0; r < n; r += CH) pme_rows(&p, v0 + r, n - r < CH ? n - r : CH, dst + (size_t)r * M);
            if (ps->f && fwrite(dst, sizeof(float) * (size_t)M, (size_t)n, ps->f) != (size_t)n)
                s = hs_errorf(HS_ERR_IO, "post_mlp_embed: writing its temporary file failed (disk full? TMPDIR)");
            pb = dst;
        } else if ((s = pme_block(ps, v0, n, blk, &pb))) break;
        if (G && !s) {
            /* G += U_blk @ pd in double. A float32 W_U [M, V] gives U_blk [M, n] row by row
               (contiguous reads, no transpose); stored rows are widened to [n, M] and the
               transpose is left to dgemm. */
            if (WU) {
                #pragma omp parallel for schedule(static)
                for (int k = 0; k < M; k++) {
                    const float *src = WU + (size_t)k * V + v0;
                    double *dst = u + (size_t)k * n;
                    for (int r = 0; r < n; r++) dst[r] = src[r];
                }
            } else {
                hs_model_vocab_rows(m, true, v0, n, ub);
                #pragma omp parallel for schedule(static)
                for (int r = 0; r < n; r++)
                    for (int k = 0; k < M; k++) u[(size_t)r * M + k] = ub[(size_t)r * M + k];
            }
            #pragma omp parallel for schedule(static)
            for (int r = 0; r < n; r++)
                for (int k = 0; k < M; k++) pd[(size_t)r * M + k] = pb[(size_t)r * M + k];
            if (WU) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, n, 1.0, u, n, pd, M, v0 ? 1.0 : 0.0, G, M);
            else cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, M, n, 1.0, u, M, pd, M, v0 ? 1.0 : 0.0, G, M);
        }
    }
    if (!s && ps->f && fflush(ps->f)) s = hs_errorf(HS_ERR_IO, "post_mlp_embed: writing its temporary file failed (disk full? TMPDIR)");
    if (have_p) pme_free(&p);
    hs_aligned_free(blk); hs_aligned_free(u); hs_aligned_free(pd); hs_aligned_free(ub);
    return s;
}

/* Re(Σλ / Σ|λ|) of a D x D real matrix (row-major, double); Σ|λ| into *abs_out (may be NULL). */
static hs_status copy_score(double *Mx, int D, float *out, float *abs_out) {
    double *wr = hs_malloc(sizeof(double) * 2 * (size_t)D);
    if (!wr) return HS_ERR_NOMEM;
    double *wi = wr + D;
    lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', D, Mx, D, wr, wi, NULL, 1, NULL, 1);
    if (info != 0) { free(wr); return hs_errorf(HS_ERR_INTERNAL, "LAPACKE_dgeev failed (info %d)", (int)info); }
    double sr = 0, sa = 0;
    for (int i = 0; i < D; i++) { sr += wr[i]; sa += hypot(wr[i], wi[i]); }
    *out = (float)(sr / sa);
    if (abs_out) *abs_out = (float)sa;
    free(wr);
    return HS_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Query heads per B^T chunk: hb·V·D floats ≤ 256 MB (at least 1); HS_COPY_HEADS_PER_CHUNK
 * sets it (the tests' way to reach uneven chunks on small models). */
static int heads_per_chunk(int64_t V, int D, int H) {
    const char *env = getenv("HS_COPY_HEADS_PER_CHUNK");
    int64_t hb = env && atoi(env) > 0 ? atoi(env) : ((int64_t)256 << 20) / ((int64_t)sizeof(float) * V * D);
    return hb < 1 ? 1 : hb > H ? H : (int)hb;
}

/* Workspace of one layer's frac_copy_argmax factors, allocated once per call. */
typedef struct factor_ws {
    float *A;     /* [KV, V, D]: pme @ W_V[l, g] */
    float *Bt;    /* [hb, V, D]: (W_O[l, h] @ W_U)^T for the heads of the current chunk */
    float *Wp;    /* [M, KV·D] W_V packed by columns */
    float *tmp;   /* [FB, max(KV, hb)·D] one block's products */
    float *pb;    /* [FB, M] pme rows read back (spilled) */
    float *ub;    /* [FB, M] widened unembedding rows (stored models) */
    int hb;
    argmax_ws *am;
} factor_ws;

static void factor_ws_free(factor_ws *f) {
    hs_aligned_free(f->A); hs_aligned_free(f->Bt); hs_aligned_free(f->Wp); hs_aligned_free(f->tmp);
    hs_aligned_free(f->pb); hs_aligned_free(f->ub);
    argmax_ws_free(f->am);
}

static hs_status factor_ws_init(const hs_model_config *c, bool spilled, bool stored, factor_ws *f) {
    const int64_t V = c->d_vocab;
    const int M = c->d_model, D = c->d_head, H = c->n_heads, KV = c->n_kv_heads;
    memset(f, 0, sizeof *f);
    f->hb = heads_per_chunk(V, D, H);
    const int wide = (KV > f->hb ? KV : f->hb) * D;
    f->A = hs_aligned_alloc(sizeof(float) * (size_t)KV * V * D);
    f->Bt = hs_aligned_alloc(sizeof(float) * (size_t)f->hb * V * D);
    f->Wp = hs_aligned_alloc(sizeof(float) * (size_t)M * KV * D);
    f->tmp = hs_aligned_alloc(sizeof(float) * (size_t)FB * wide);
    f->pb = spilled ? hs_aligned_alloc(sizeof(float) * (size_t)FB * M) : NULL;
    f->ub = stored ? hs_aligned_alloc(sizeof(float) * (size_t)FB * M) : NULL;
    f->am = argmax_ws_new(V, D);
    if (!f->A || !f->Bt || !f->Wp || !f->tmp || (spilled && !f->pb) || (stored && !f->ub) || !f->am) { factor_ws_free(f); return HS_ERR_NOMEM; }
    return HS_OK;
}

/* f->A = pme @ W_V[l, g] for every KV group g, a vocabulary block at a time (one GEMM
 * per block for all groups). WV: [KV, M, D]. */
static hs_status layer_A(const hs_model_config *c, const pme_store *ps, const float *WV, factor_ws *f) {
    const int64_t V = c->d_vocab;
    const int M = c->d_model, D = c->d_head, KV = c->n_kv_heads, KD = KV * D;
    for (int g = 0; g < KV; g++)
        for (int k = 0; k < M; k++) memcpy(f->Wp + (size_t)k * KD + g * D, WV + ((size_t)g * M + k) * D, sizeof(float) * (size_t)D);
    for (int64_t v0 = 0; v0 < V; v0 += FB) {
        const int n = (int)(V - v0 < FB ? V - v0 : FB);
        const float *pb = NULL;
        hs_status s = pme_block(ps, v0, n, f->pb, &pb);
        if (s) return s;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, KD, M, 1.0f, pb, M, f->Wp, KD, 0.0f, f->tmp, KD);
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++)
            for (int g = 0; g < KV; g++)
                memcpy(f->A + ((size_t)g * V + v0 + r) * D, f->tmp + (size_t)r * KD + g * D, sizeof(float) * (size_t)D);
    }
    return HS_OK;
}

/* f->Bt[hh] = W_U^T @ W_O[l, h0 + hh]^T for hh < nh, a vocabulary block at a time.
 * WO: [H, D, M]; WU: W_U [M, V] when the model holds it in float32, else NULL (stored
 * rows widened per block). */
static void layer_Bt(const hs_model *m, const float *WU, const float *WO, int h0, int nh, factor_ws *f) {
    const hs_model_config *c = hs_model_get_config(m);
    const int64_t V = c->d_vocab;
    const int M = c->d_model, D = c->d_head, ND = nh * D;
    const float *wo = WO + (size_t)h0 * D * M;
    for (int64_t v0 = 0; v0 < V; v0 += FB) {
        const int n = (int)(V - v0 < FB ? V - v0 : FB);
        if (WU)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, n, ND, M, 1.0f, WU + v0, (int)V, wo, M, 0.0f, f->tmp, ND);
        else {
            hs_model_vocab_rows(m, true, v0, n, f->ub);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, ND, M, 1.0f, f->ub, M, wo, M, 0.0f, f->tmp, ND);
        }
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++)
            for (int hh = 0; hh < nh; hh++)
                memcpy(f->Bt + ((size_t)hh * V + v0 + r) * D, f->tmp + (size_t)r * ND + hh * D, sizeof(float) * (size_t)D);
    }
}

/* One pass over the layers computing whatever of (eig_resid, eig_vocab, frac) is asked. */
static hs_status copying_pass(const hs_model *m, const float *pme_in, float *eig_resid, float *eig_vocab, float *frac,
                              int64_t *count, const hs_copying_abs *abs, hs_scan_progress_fn progress, void *puser,
                              double *t_frac) {
    const hs_model_config *c = hs_model_get_config(m);
    const int L = c->n_layers, H = c->n_heads, KV = c->n_kv_heads, D = c->d_head, M = c->d_model, V = c->d_vocab, HD = H * D;
    const int rep = H / KV;   /* query heads per KV group: head h reads W_V[l, h / rep] */
    hs_status s = HS_OK;
    pme_store ps = {.rows = pme_in, .V = V, .M = M};
    factor_ws fw = {0};
    const float *WU = NULL;
    double *Md = hs_malloc(sizeof(double) * (size_t)D * D), *G = NULL, *Wd = NULL, *OG = NULL, *Vd = NULL;
    if (!Md) return HS_ERR_NOMEM;
    if (eig_resid || eig_vocab) {
        Wd = hs_aligned_alloc(sizeof(double) * (size_t)HD * M);
        Vd = hs_aligned_alloc(sizeof(double) * (size_t)M * D);
        if (!Wd || !Vd) s = HS_ERR_NOMEM;
    }
    if (eig_vocab) {
        G = hs_aligned_alloc(sizeof(double) * (size_t)M * M);
        OG = hs_aligned_alloc(sizeof(double) * (size_t)HD * M);
        if (!G || !OG) s = HS_ERR_NOMEM;
    }
    /* eigenvals_vocab: B @ A = (W_O W_U)(pme W_V) = W_O (W_U pme) W_V, so with the
     * [M, M] G = W_U @ pme (once, in double) each head is W_O[h] [D, M] @ G @ W_V[h]
     * [M, D]: d_head x d_head problems, no d_vocab-sized work per head. */
    if (!s && (eig_vocab || frac)) s = vocab_pass(m, &ps, frac != NULL, G);
    if (!s && frac) {
        double t0 = now_s();
        hs_array a;
        if (!hs_model_stored(m) && !(s = hs_model_weight(m, "W_U", &a))) WU = a.data;
        if (!s) s = factor_ws_init(c, ps.f != NULL, hs_model_stored(m), &fw);
        if (t_frac) *t_frac += now_s() - t0;
    }
    for (int l = 0; l < L && !s; l++) {
        char name[64];
        hs_array WVa, WOa;
        float *own_v = NULL, *own_o = NULL;
        snprintf(name, sizeof name, "blocks.%d.attn._W_V", l);
        if ((s = hs_model_weight_tmp(m, name, &WVa, &own_v))) break;
        snprintf(name, sizeof name, "blocks.%d.attn.W_O", l);
        if ((s = hs_model_weight_tmp(m, name, &WOa, &own_o))) { hs_aligned_free(own_v); break; }
        const float *WV = WVa.data, *WO = WOa.data;   /* [KV, M, D], [H, D, M] */
        if (eig_resid || eig_vocab)
            for (size_t i = 0; i < (size_t)HD * M; i++) Wd[i] = WO[i];   /* W_O[l] [H·D, M] in double */
        if (eig_vocab) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HD, M, M, 1.0, Wd, M, G, M, 0.0, OG, M);
        for (int h = 0; h < H && !s && (eig_resid || eig_vocab); h++) {
            if (h % rep == 0)
                for (size_t i = 0; i < (size_t)M * D; i++) Vd[i] = WV[(size_t)(h / rep) * M * D + i];   /* W_V[l, h] [M, D] */
            if (eig_resid) {   /* W_O[l,h] [D, M] @ W_V[l,h] [M, D], in double */
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, D, M, 1.0, Wd + (size_t)h * D * M, M, Vd, D, 0.0, Md, D);
                s = copy_score(Md, D, &eig_resid[l * H + h], abs && abs->resid ? &abs->resid[l * H + h] : NULL);
            }
            if (!s && eig_vocab) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, D, M, 1.0, OG + (size_t)h * D * M, M, Vd, D, 0.0, Md, D);
                s = copy_score(Md, D, &eig_vocab[l * H + h], abs && abs->vocab ? &abs->vocab[l * H + h] : NULL);
                if (!s && !frac && progress && progress("eigenvalues", l * H + h + 1, L * H, puser))
                    s = hs_errorf(HS_ERR_CANCELLED, "scan cancelled");
            }
        }
        if (!s && frac) {
            /* the factors A = pme @ W_V, B = W_O @ W_U are frac_copy_argmax's own work */
            double t0 = now_s();
            s = layer_A(c, &ps, WV, &fw);
            for (int h0 = 0; h0 < H && !s; h0 += fw.hb) {
                const int nh = H - h0 < fw.hb ? H - h0 : fw.hb;
                layer_Bt(m, WU, WO, h0, nh, &fw);
                for (int h = h0; h < h0 + nh && !s; h++) {
                    int64_t cnt;
                    if ((s = copy_argmax(fw.A + (size_t)(h / rep) * V * D, fw.Bt + (size_t)(h - h0) * V * D, V, D, fw.am, &cnt))) break;
                    /* mean = count · fl32(1/V) (analysis.md §10) */
                    frac[l * H + h] = (float)cnt * (1.0f / (float)V);
                    if (count) count[l * H + h] = cnt;
                    if (progress && progress("frac_copy_argmax", l * H + h + 1, L * H, puser))
                        s = hs_errorf(HS_ERR_CANCELLED, "scan cancelled");
                }
            }
            if (t_frac) *t_frac += now_s() - t0;
        }
        hs_aligned_free(own_v);
        hs_aligned_free(own_o);
    }
    factor_ws_free(&fw);
    pme_store_close(&ps);
    hs_aligned_free(G); hs_aligned_free(Wd); hs_aligned_free(OG); hs_aligned_free(Vd);
    free(Md);
    return s;
}

hs_status hs_copying_scores(const hs_model *m, const float *pme, float *eig_resid, float *eig_vocab) {
    return copying_pass(m, pme, eig_resid, eig_vocab, NULL, NULL, NULL, NULL, NULL, NULL);
}

hs_status hs_frac_copy_argmax(const hs_model *m, const float *pme, float *frac, int64_t *count) {
    return copying_pass(m, pme, NULL, NULL, frac, count, NULL, NULL, NULL, NULL);
}

hs_status hs_copying_all(const hs_model *m, float *eig_resid, float *eig_vocab, float *frac, int64_t *count,
                         const hs_copying_abs *abs, hs_scan_progress_fn progress, void *puser, double *t_frac) {
    return copying_pass(m, NULL, eig_resid, eig_vocab, frac, count, abs, progress, puser, t_frac);
}

/* ------------------------------------------------------------------ frac_copy_argmax core */
/* out[r][c] = fma chain of a_r · tile column c, for nr rows (pointers) and TW columns.
 * Bp: tile packed [D][TW]. Scalar version (any CPU). */
static void tile_scalar(const float *const *a, int nr, const float *Bp, int D, float *out) {
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < TW; c++) {
            float acc = 0.0f;
            for (int k = 0; k < D; k++) acc = fmaf(a[r][k], Bp[k * TW + c], acc);
            out[r * TW + c] = acc;
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNEL 1
/* 4 rows x 16 columns per inner block; the same fma chain per entry as tile_scalar. */
__attribute__((target("avx2,fma"))) static void tile_avx2(const float *const *a, int nr, const float *Bp, int D, float *out) {
    int r = 0;
    for (; r + 4 <= nr; r += 4) {
        const float *a0 = a[r], *a1 = a[r + 1], *a2 = a[r + 2], *a3 = a[r + 3];
        for (int c = 0; c < TW; c += 16) {
            __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int k = 0; k < D; k++) {
                __m256 b0 = _mm256_load_ps(Bp + k * TW + c), b1 = _mm256_load_ps(Bp + k * TW + c + 8);
                __m256 x = _mm256_broadcast_ss(a0 + k);
                s00 = _mm256_fmadd_ps(x, b0, s00); s01 = _mm256_fmadd_ps(x, b1, s01);
                x = _mm256_broadcast_ss(a1 + k);
                s10 = _mm256_fmadd_ps(x, b0, s10); s11 = _mm256_fmadd_ps(x, b1, s11);
                x = _mm256_broadcast_ss(a2 + k);
                s20 = _mm256_fmadd_ps(x, b0, s20); s21 = _mm256_fmadd_ps(x, b1, s21);
                x = _mm256_broadcast_ss(a3 + k);
                s30 = _mm256_fmadd_ps(x, b0, s30); s31 = _mm256_fmadd_ps(x, b1, s31);
            }
            float *o = out + (size_t)r * TW + c;
            _mm256_storeu_ps(o, s00); _mm256_storeu_ps(o + 8, s01);
            _mm256_storeu_ps(o + TW, s10); _mm256_storeu_ps(o + TW + 8, s11);
            _mm256_storeu_ps(o + 2 * TW, s20); _mm256_storeu_ps(o + 2 * TW + 8, s21);
            _mm256_storeu_ps(o + 3 * TW, s30); _mm256_storeu_ps(o + 3 * TW + 8, s31);
        }
    }
    for (; r < nr; r++) {
        const float *a0 = a[r];
        for (int c = 0; c < TW; c += 16) {
            __m256 s0 = _mm256_setzero_ps(), s1 = s0;
            for (int k = 0; k < D; k++) {
                __m256 x = _mm256_broadcast_ss(a0 + k);
                s0 = _mm256_fmadd_ps(x, _mm256_load_ps(Bp + k * TW + c), s0);
                s1 = _mm256_fmadd_ps(x, _mm256_load_ps(Bp + k * TW + c + 8), s1);
            }
            _mm256_storeu_ps(out + (size_t)r * TW + c, s0);
            _mm256_storeu_ps(out + (size_t)r * TW + c + 8, s1);
        }
    }
}
#endif

typedef void (*tile_fn)(const float *const *, int, const float *, int, float *);
static tile_fn pick_kernel(void) {
#ifdef HAVE_AVX2_KERNEL
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !getenv("HS_NO_SIMD")) return tile_avx2;
#endif
    return tile_scalar;
}

/* Dense baseline: sgemm in row blocks + first-max argmax (the benchmark's comparison;
 * its entries are BLAS's, not the fma chain, so it can differ on near-tied rows). */
static hs_status dense_count(const float *A, const float *Bt, int64_t V, int D, int64_t *count) {
    const int64_t RB = 256;
    int64_t cnt = 0;
    int nt = hs_get_num_threads();
    float *S = hs_aligned_alloc(sizeof(float) * (size_t)RB * (size_t)V);
    if (!S) return HS_ERR_NOMEM;
    (void)nt;
    for (int64_t i0 = 0; i0 < V; i0 += RB) {
        int64_t R = V - i0 < RB ? V - i0 : RB;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)V, D, 1.0f, A + i0 * D, D, Bt, D, 0.0f, S, (int)V);
        #pragma omp parallel for schedule(static) reduction(+ : cnt)
        for (int64_t r = 0; r < R; r++) {
            const float *row = S + r * V;
            int64_t am = 0;
            for (int64_t j = 1; j < V; j++) if (row[j] > row[am]) am = j;
            cnt += am == i0 + r;
        }
    }
    hs_aligned_free(S);
    *count = cnt;
    return HS_OK;
}

typedef struct norm_idx { double n; int64_t j; } norm_idx;

static float dot_chain(const float *a, const float *b, int D) {
    float acc = 0.0f;
    for (int k = 0; k < D; k++) acc = fmaf(a[k], b[k], acc);
    return acc;
}

/* Σ x[k]² in double, four lanes (the lanes' order differs from a sequential sum by far less
 * than the 1e-12 the bounds below allow). */
static double sumsq_d(const float *x, int D) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = 0;
    for (; k + 4 <= D; k += 4) {
        s0 += (double)x[k] * x[k];
        s1 += (double)x[k + 1] * x[k + 1];
        s2 += (double)x[k + 2] * x[k + 2];
        s3 += (double)x[k + 3] * x[k + 3];
    }
    for (; k < D; k++) s0 += (double)x[k] * x[k];
    return (s0 + s1) + (s2 + s3);
}

/* ord sorted by decreasing n, ties by increasing j (a stable LSD radix sort, 16 bits a pass, on
 * the complemented bit pattern: for n >= 0 the unsigned order of the bits is the numeric order;
 * NaN norms, from non-finite input, come first). tmp: V more entries; cnt: 4 x 65536 counts. */
static void sort_norms_desc(norm_idx *ord, norm_idx *tmp, uint32_t (*cnt)[65536], int64_t V) {
    memset(cnt, 0, sizeof(uint32_t) * 4 * 65536);
    for (int64_t q = 0; q < V; q++) {
        uint64_t b;
        memcpy(&b, &ord[q].n, sizeof b);
        b = ~b;
        for (int d = 0; d < 4; d++) cnt[d][(b >> (16 * d)) & 0xffff]++;
    }
    norm_idx *src = ord, *dst = tmp;
    for (int d = 0; d < 4; d++) {
        uint64_t b0;
        memcpy(&b0, &src[0].n, sizeof b0);
        if (cnt[d][((~b0) >> (16 * d)) & 0xffff] == (uint32_t)V) continue;   /* every key has this digit */
        uint32_t sum = 0;
        for (int k = 0; k < 65536; k++) { uint32_t c = cnt[d][k]; cnt[d][k] = sum; sum += c; }
        for (int64_t q = 0; q < V; q++) {
            uint64_t b;
            memcpy(&b, &src[q].n, sizeof b);
            dst[cnt[d][((~b) >> (16 * d)) & 0xffff]++] = src[q];
        }
        norm_idx *t = src; src = dst; dst = t;
    }
    if (src != ord) memcpy(ord, src, sizeof *ord * (size_t)V);
}

/* Both paths' set-up: column norms |B[:, j]| sorted decreasing (ties by index) into
 * ord (tmp, cnt: sort_norms_desc's scratch), row norms |A[i]| into na, the diagonal chains into dg;
 * returns max |A[i]|, and in *finite whether every entry of A and Bt is finite. The
 * diagonal chains run eight rows at a time (independent chains, each the fma order of
 * dot_chain). */
static double row_stats(const float *A, const float *Bt, int64_t V, int D, norm_idx *ord, norm_idx *tmp, uint32_t (*cnt)[65536],
                        double *na, float *dg, bool *finite) {
    int bad = 0;
    #pragma omp parallel for schedule(static) reduction(| : bad)
    for (int64_t j0 = 0; j0 < V; j0 += 8) {
        const int R = V - j0 < 8 ? (int)(V - j0) : 8;
        for (int r = 0; r < R; r++) {
            const float *a = A + (j0 + r) * D, *b = Bt + (j0 + r) * D;
            const double s = sumsq_d(b, D), t = sumsq_d(a, D);
            bad |= !isfinite(s) || !isfinite(t);   /* a finite sum of squares has finite terms; overflow only sends more to the tile path */
            ord[j0 + r] = (norm_idx){sqrt(s), j0 + r};
            na[j0 + r] = sqrt(t);
        }
        if (R == 8) {
            float acc[8] = {0};
            for (int k = 0; k < D; k++)
                for (int r = 0; r < 8; r++) acc[r] = fmaf(A[(j0 + r) * D + k], Bt[(j0 + r) * D + k], acc[r]);
            for (int r = 0; r < 8; r++) dg[j0 + r] = acc[r];
        } else
            for (int r = 0; r < R; r++) dg[j0 + r] = dot_chain(A + (j0 + r) * D, Bt + (j0 + r) * D, D);
    }
    double na_max = 0;
    for (int64_t j = 0; j < V; j++) na_max = na[j] > na_max ? na[j] : na_max;
    sort_norms_desc(ord, tmp, cnt, V);
    *finite = !bad;
    return na_max;
}

static float row_max(const float *x, int64_t n) {
    float m[16];
    for (int k = 0; k < 16; k++) m[k] = -INFINITY;
    int64_t c = 0;
    for (; c + 16 <= n; c += 16)
        for (int k = 0; k < 16; k++) m[k] = x[c + k] > m[k] ? x[c + k] : m[k];
    for (; c < n; c++) m[0] = x[c] > m[0] ? x[c] : m[0];
    for (int k = 1; k < 16; k++) m[0] = m[k] > m[0] ? m[k] : m[0];
    return m[0];
}

struct argmax_ws {   /* count_screened's buffers, for any head of V x D */
    int64_t V;
    int D, nt;
    norm_idx *ord, *ord2; /* [V] each: the sort and its scratch */
    uint32_t (*cnt)[65536];
    float *Bs;            /* B's columns in norm order, [V, D], filled a chunk at a time as rows need them */
    int *ready;           /* per chunk of the screen: its columns are in Bs */
    double *na, *nb;      /* [V], [V + 1] */
    int64_t *tj;
    float *dg;
    int64_t *act;         /* per thread: [RB] */
    float *Ab, *S;        /* per thread: [RB, D], [RB, CWMAX] */
};
enum { SC_RB = 512, SC_CW0 = 32, SC_CWMAX = 2048 };

static void argmax_ws_free(argmax_ws *w) {
    if (!w) return;
    free(w->ord); free(w->ord2); free(w->cnt); free(w->ready); hs_aligned_free(w->Bs); free(w->na); free(w->nb); free(w->tj); free(w->dg);
    free(w->act); hs_aligned_free(w->Ab); hs_aligned_free(w->S);
    free(w);
}

static argmax_ws *argmax_ws_new(int64_t V, int D) {
    argmax_ws *w = hs_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->V = V;
    w->D = D;
    w->nt = hs_get_num_threads() > 0 ? hs_get_num_threads() : 1;
    const size_t nt = (size_t)w->nt;
    w->ord = hs_malloc(sizeof(norm_idx) * (size_t)V);
    w->ord2 = hs_malloc(sizeof(norm_idx) * (size_t)V);
    w->cnt = hs_malloc(sizeof(uint32_t) * 4 * 65536);
    w->ready = hs_malloc(sizeof(int) * (size_t)(V / SC_CW0 + 2));
    w->Bs = hs_aligned_alloc(sizeof(float) * (size_t)V * D);
    w->na = hs_malloc(sizeof(double) * (size_t)V);
    w->nb = hs_malloc(sizeof(double) * (size_t)(V + 1));
    w->tj = hs_malloc(sizeof(int64_t) * (size_t)V);
    w->dg = hs_malloc(sizeof(float) * (size_t)V);
    w->act = hs_malloc(sizeof(int64_t) * SC_RB * nt);
    w->Ab = hs_aligned_alloc(sizeof(float) * (size_t)SC_RB * D * nt);
    w->S = hs_aligned_alloc(sizeof(float) * (size_t)SC_RB * SC_CWMAX * nt);
    if (!w->ord || !w->ord2 || !w->cnt || !w->ready || !w->Bs || !w->na || !w->nb || !w->tj || !w->dg || !w->act || !w->Ab || !w->S) { argmax_ws_free(w); return NULL; }
    return w;
}

/* BLAS-screened version (finite input). Columns in decreasing norm, visited in chunks
 * that double from 32 (SC_CW0) to 2048. For a block of still-undecided rows, one sgemm gives
 * S~ = A_act @ B_chunk^T in BLAS's own summation order; both S~ and the fma chain S are
 * within γ_D·Σ_k|a_k b_k| <= γ_D·|a||b| of the exact dot product (any order; plus
 * underflow, < D·2^-149 each), so an entry with S~[i, j] < d_i − 2γ_D·|a_i|·max|b_chunk| − 1e-36
 * cannot reach the diagonal d_i = S[i, i] (inputs whose |a|·|b| could overflow go to the
 * tile path). Every other entry is recomputed as the fma
 * chain and judged by the exact rule (ties: the first index wins). A row stops as a miss
 * at its first beating entry, or as a hit once |a_i|·|b_next|·(1 + 2γ_D) < d_i
 * (Cauchy–Schwarz: no remaining column can reach d_i). The result is the dense
 * argmax's over the fma-chain entries whatever the BLAS kernel; its cost is the BLAS's
 * sgemm rate times the columns the rows need. ws: from argmax_ws_new(V, D). */
static hs_status count_screened(const float *A, const float *Bt, int64_t V, int D, argmax_ws *ws, int64_t *count) {
    norm_idx *ord = ws->ord;
    float *Bs = ws->Bs;
    double *na = ws->na, *nb = ws->nb;
    int64_t *tj = ws->tj;
    float *dg = ws->dg;
    int *ready = ws->ready;
    bool finite;
    const double na_max = row_stats(A, Bt, V, D, ord, ws->ord2, ws->cnt, na, dg, &finite);
    /* non-finite entries (NaN ordering, inf - inf), or a partial sum that could overflow (inf,
       or NaN in BLAS's order): the tile path */
    if (!finite || na_max * ord[0].n > 1e37) return HS_ERR_UNSUPPORTED;
    for (int64_t q = 0; q < V; q++) { tj[q] = ord[q].j; nb[q] = ord[q].n; }
    nb[V] = 0.0;
    for (int64_t k = 0; k < V / SC_CW0 + 2; k++) ready[k] = 0;
    const double u = 5.9604644775390625e-08, gam = (D * u) / (1.0 - D * u), slack = 1.0 + 2.0 * gam + 1e-12, tiny = 1e-36;
    enum { RB = SC_RB, CW0 = SC_CW0, CWMAX = SC_CWMAX };
    int64_t cnt = 0;
    #pragma omp parallel num_threads(ws->nt) reduction(+ : cnt)
    {
#ifdef _OPENMP
        const size_t tid = (size_t)omp_get_thread_num();
#else
        const size_t tid = 0;
#endif
        int64_t *act = ws->act + tid * RB;
        float *Ab = ws->Ab + tid * RB * (size_t)D, *S = ws->S + tid * (size_t)RB * CWMAX;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t i0 = 0; i0 < V; i0 += RB) {
            int64_t n = 0;
            for (int64_t i = i0; i < V && i < i0 + RB; i++) act[n++] = i;
            for (int64_t q0 = 0, cw = CW0, ci = 0; q0 < V && n > 0; q0 += cw, cw = cw * 2 < CWMAX ? cw * 2 : CWMAX, ci++) {
                const int64_t w = V - q0 < cw ? V - q0 : cw;
                /* the chunk's columns into Bs on first use: most heads' rows are all decided
                   within the first few chunks */
                int rd;
                #pragma omp atomic read seq_cst
                rd = ready[ci];
                if (!rd) {
                    #pragma omp critical(hs_copy_argmax_bs)
                    if (!ready[ci]) {
                        for (int64_t q = q0; q < q0 + w; q++) memcpy(Bs + q * D, Bt + tj[q] * D, sizeof(float) * (size_t)D);
                        #pragma omp atomic write seq_cst
                        ready[ci] = 1;
                    }
                }
                /* the first chunk reads the block's rows in place (all of them are still active) */
                const float *Ar = A + i0 * D;
                if (q0 > 0) {
                    for (int64_t r = 0; r < n; r++) memcpy(Ab + r * D, A + act[r] * D, sizeof(float) * (size_t)D);
                    Ar = Ab;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)w, D, 1.0f, Ar, D, Bs + q0 * D, D, 0.0f, S,
                            (int)w);
                const double nbmax = nb[q0], nb_next = nb[q0 + w];
                int64_t keep = 0;
                for (int64_t r = 0; r < n; r++) {
                    const int64_t i = act[r];
                    const float d = dg[i];
                    /* rounded down, so S~ < thr implies S~ < d − bound exactly */
                    const float thr = nextafterf((float)((double)d - 2.0 * gam * na[i] * nbmax - tiny), -INFINITY);
                    const float *row = S + r * w;
                    bool beaten = false;
                    if (row_max(row, w) < thr) goto decided;   /* the common case, vectorised */
                    for (int64_t c = 0; c < w && !beaten; c++) {
                        if (!(row[c] >= thr)) continue;   /* certainly below d */
                        const int64_t j = tj[q0 + c];
                        if (j == i) continue;
                        const float e = dot_chain(A + i * D, Bs + (q0 + c) * D, D);
                        beaten = e > d || (e == d && j < i);
                    }
                    if (beaten) continue;                                            /* miss */
                decided:
                    if (na[i] * nb_next * slack + tiny < (double)d) { cnt++; continue; }   /* hit */
                    act[keep++] = i;
                }
                n = keep;
            }
            cnt += n;   /* survived every column */
        }
    }
    *count = cnt;
    return HS_OK;
}

hs_status hs_copy_argmax_count(const float *A, const float *Bt, int64_t V, int D, bool dense, int64_t *count) {
    *count = 0;
    if (V < 1 || D < 1 || D > 4096) return hs_errorf(HS_ERR_INVALID_ARG, "copy argmax: bad shape [%lld, %d]", (long long)V, D);
    if (dense) return dense_count(A, Bt, V, D, count);
    argmax_ws *ws = argmax_ws_new(V, D);
    if (!ws) return HS_ERR_NOMEM;
    hs_status s = copy_argmax(A, Bt, V, D, ws, count);
    argmax_ws_free(ws);
    return s;
}

/* The tile path: every visited entry computed as the fma chain (any input). */
static hs_status count_tiles(const float *A, const float *Bt, int64_t V, int D, int64_t *count) {
    const int64_t NT = (V + TW - 1) / TW;
    norm_idx *ord = hs_malloc(sizeof(norm_idx) * (size_t)V);
    float *Bp = hs_aligned_alloc(sizeof(float) * (size_t)NT * TW * D);       /* tiles [NT][D][TW] */
    int64_t *tj = hs_malloc(sizeof(int64_t) * (size_t)NT * TW);              /* original column index */
    double *tmax = hs_malloc(sizeof(double) * (size_t)(NT + 1));             /* largest norm in tile t */
    double *na = hs_malloc(sizeof(double) * (size_t)V);
    float *dg = hs_malloc(sizeof(float) * (size_t)V);
    norm_idx *ord2 = hs_malloc(sizeof(norm_idx) * (size_t)V);
    uint32_t (*rc)[65536] = hs_malloc(sizeof(uint32_t) * 4 * 65536);
    if (!ord || !Bp || !tj || !tmax || !na || !dg || !ord2 || !rc) {
        free(ord); hs_aligned_free(Bp); free(tj); free(tmax); free(na); free(dg); free(ord2); free(rc);
        return HS_ERR_NOMEM;
    }
    bool finite;
    row_stats(A, Bt, V, D, ord, ord2, rc, na, dg, &finite);
    free(ord2);
    free(rc);
    for (int64_t t = 0; t < NT; t++) {
        tmax[t] = ord[t * TW].n;
        for (int c = 0; c < TW; c++) {
            int64_t q = t * TW + c;
            tj[q] = q < V ? ord[q].j : -1;
            for (int k = 0; k < D; k++) Bp[(t * D + k) * TW + c] = q < V ? Bt[ord[q].j * D + k] : 0.0f;
        }
    }
    tmax[NT] = 0.0;
    free(ord);
    /* rounding slack of the chain relative to |a||b|: γ_D = D·u/(1 − D·u), doubled */
    const double u = 5.9604644775390625e-08, slack = 1.0 + 2.0 * (D * u) / (1.0 - D * u) + 1e-12;
    const tile_fn kern = pick_kernel();
    const int64_t RB = 256;
    int64_t cnt = 0;
    int nomem = 0;
    #pragma omp parallel reduction(+ : cnt)
    {
        const float **ap = malloc(sizeof(float *) * RB);
        int64_t *act = malloc(sizeof(int64_t) * RB);
        float *out = aligned_alloc(64, sizeof(float) * RB * TW);
        if (!ap || !act || !out) {
            #pragma omp atomic write
            nomem = 1;
        } else {
            #pragma omp for schedule(dynamic, 1)
            for (int64_t i0 = 0; i0 < V; i0 += RB) {
                int64_t R = V - i0 < RB ? V - i0 : RB, na_ = 0;
                for (int64_t r = 0; r < R; r++) act[na_++] = i0 + r;
                for (int64_t t = 0; t < NT && na_ > 0; t++) {
                    for (int64_t r = 0; r < na_; r++) ap[r] = A + act[r] * D;
                    kern(ap, (int)na_, Bp + t * D * TW, D, out);
                    const int64_t *jj = tj + t * TW;
                    const double nb_next = tmax[t + 1];
                    int64_t keep = 0;
                    for (int64_t r = 0; r < na_; r++) {
                        const int64_t i = act[r];
                        const float d = dg[i];
                        const float *o = out + r * TW;
                        bool beaten = false;
                        for (int c = 0; c < TW && !beaten; c++) {
                            if (jj[c] < 0) break;   /* padding at the end */
                            if (o[c] > d) beaten = jj[c] != i;
                            else if (o[c] == d) beaten = jj[c] < i;
                            else if (isnan(o[c])) beaten = !isnan(d) || jj[c] < i;   /* torch's argmax picks the first NaN */
                        }
                        if (beaten) continue;                           /* miss: drop */
                        if (na[i] * nb_next * slack < (double)d) { cnt++; continue; }   /* hit: nothing left can reach d */
                        act[keep++] = i;
                    }
                    na_ = keep;
                }
                cnt += na_;   /* survived every column */
            }
        }
        free(ap);
        free(act);
        free(out);
    }
    hs_aligned_free(Bp);
    free(tj);
    free(tmax);
    free(na);
    free(dg);
    if (nomem) return hs_errorf(HS_ERR_NOMEM, "out of memory in the copy argmax workers");
    *count = cnt;
    return HS_OK;
}

static hs_status copy_argmax(const float *A, const float *Bt, int64_t V, int D, argmax_ws *ws, int64_t *count) {
    *count = 0;
    /* HS_COPY_ARGMAX_TILES, and what count_screened cannot take, go to the tile path */
    if (!getenv("HS_COPY_ARGMAX_TILES")) {
        hs_status s = count_screened(A, Bt, V, D, ws, count);
        if (s != HS_ERR_UNSUPPORTED) return s;
    }
    return count_tiles(A, Bt, V, D, count);
}
