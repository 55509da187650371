/* kernels.c — forward and backward kernels of the trainer (GPT-NeoX blocks).
 *
 * Matrix products go to BLAS (cblas_sgemm); the rest is split over OpenMP threads
 * with static schedules and per-element (never racing) reductions, so results depend
 * only on the thread count that BLAS itself uses. Shapes: N rows (= B*T tokens).
 */
#define _GNU_SOURCE
#include "train/train_internal.h"
#include <cblas.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void tr_layernorm_fwd(const float *x, const float *w, const float *b, float *y, float *xhat,
                      float *rstd, int N, int M, float eps) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * M;
        double s = 0, ss = 0;
        for (int j = 0; j < M; j++) s += xr[j];
        double mean = s / M;
        for (int j = 0; j < M; j++) { double d = xr[j] - mean; ss += d * d; }
        float r = (float)(1.0 / sqrt(ss / M + eps));
        rstd[n] = r;
        float *xh = xhat + (size_t)n * M, *yr = y + (size_t)n * M;
        for (int j = 0; j < M; j++) {
            xh[j] = (float)((xr[j] - mean) * r);
            yr[j] = xh[j] * w[j] + b[j];
        }
    }
}

void tr_layernorm_bwd(const float *dy, const float *xhat, const float *rstd, const float *w,
                      float *dx, float *dw, float *db, int N, int M) {
    /* dw/db: column sums in a fixed row order (one thread per column block). */
    #pragma omp parallel for schedule(static)
    for (int j = 0; j < M; j++) {
        double sw = 0, sb = 0;
        for (int n = 0; n < N; n++) {
            float g = dy[(size_t)n * M + j];
            sw += (double)g * xhat[(size_t)n * M + j];
            sb += g;
        }
        dw[j] += (float)sw;
        db[j] += (float)sb;
    }
    /* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w */
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *d = dy + (size_t)n * M, *xh = xhat + (size_t)n * M;
        double s1 = 0, s2 = 0;
        for (int j = 0; j < M; j++) { double g = (double)d[j] * w[j]; s1 += g; s2 += g * xh[j]; }
        s1 /= M; s2 /= M;
        float *o = dx + (size_t)n * M;
        for (int j = 0; j < M; j++)
            o[j] += (float)(rstd[n] * ((double)d[j] * w[j] - s1 - xh[j] * s2));
    }
}

void tr_linear_fwd(const float *x, const float *W, const float *b, float *y, int N, int K, int O) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, K, 1.0f, x, K, W, K, 0.0f, y, O);
    if (!b) return;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) y[(size_t)n * O + o] += b[o];
}

void tr_linear_bwd(const float *dy, const float *x, const float *W, float *dx, float beta,
                   float *dW, float *db, int N, int K, int O) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, K, N, 1.0f, dy, O, x, K, 1.0f, dW, K);
    if (db) {
        #pragma omp parallel for schedule(static)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int n = 0; n < N; n++) s += dy[(size_t)n * O + o];
            db[o] += (float)s;
        }
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, K, O, 1.0f, dy, O, W, K, beta, dx, K);
}

void tr_gelu_fwd(const float *x, float *y, size_t n) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void tr_gelu_bwd(const float *x, const float *dy, float *dx, size_t n) {
    const float inv_sqrt_2pi = 0.3989422804014327f;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float t = x[i];
        float cdf = 0.5f * (1.0f + erff(t * (float)M_SQRT1_2));
        float pdf = inv_sqrt_2pi * expf(-0.5f * t * t);
        dx[i] = dy[i] * (cdf + t * pdf);
    }
}

/* cos/sin [T, R/2]: angle(p, i) = p * base^(-2i/R), in double then rounded
 * (model.md §6 allows this slightly more accurate form). */
void tr_rotary_tables(int T, int R, double base, float *cos_t, float *sin_t) {
    int half = R / 2;
    for (int p = 0; p < T; p++)
        for (int i = 0; i < half; i++) {
            double ang = p * pow(base, -2.0 * i / R);
            cos_t[p * half + i] = (float)cos(ang);
            sin_t[p * half + i] = (float)sin(ang);
        }
}

/* Rotate-half on the first R dims of one head vector at position p; sign = +1 applies
 * the rotation, -1 its transpose (used for gradients). */
static inline void rotate(float *x, int R, const float *c, const float *s, float sign) {
    int half = R / 2;
    for (int i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * c[i] - sign * b * s[i];
        x[i + half] = b * c[i] + sign * a * s[i];
    }
}

void tr_attention_fwd(const tr_config *c, int B, int T, const float *qkv, const float *cos_t,
                      const float *sin_t, float *q, float *k, float *v, float *pat, float *ctx) {
    const int H = c->H, D = c->D, M = c->M, R = c->R, half = R / 2;
    const float scale = 1.0f / sqrtf((float)D);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        float *Q = q + (size_t)bh * T * D, *K = k + (size_t)bh * T * D, *V = v + (size_t)bh * T * D;
        for (int t = 0; t < T; t++) {
            const float *src = qkv + ((size_t)b * T + t) * 3 * M + (size_t)h * 3 * D;
            memcpy(Q + (size_t)t * D, src, D * sizeof(float));
            memcpy(K + (size_t)t * D, src + D, D * sizeof(float));
            memcpy(V + (size_t)t * D, src + 2 * D, D * sizeof(float));
            rotate(Q + (size_t)t * D, R, cos_t + t * half, sin_t + t * half, 1.0f);
            rotate(K + (size_t)t * D, R, cos_t + t * half, sin_t + t * half, 1.0f);
        }
        float *P = pat + (size_t)bh * T * T;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, scale, Q, D, K, D, 0.0f, P, T);
        for (int i = 0; i < T; i++) {
            float *row = P + (size_t)i * T, mx = row[0];
            for (int j = 1; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
            double sum = 0;
            for (int j = 0; j <= i; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
            float inv = (float)(1.0 / sum);
            for (int j = 0; j <= i; j++) row[j] *= inv;
            for (int j = i + 1; j < T; j++) row[j] = 0.0f;
        }
        /* ctx rows for this head: [T, D] with row stride M */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, P, T, V, D, 0.0f,
                    ctx + (size_t)b * T * M + (size_t)h * D, M);
    }
}

size_t tr_attention_scratch(int T, int D) { return (size_t)T * T + 3 * (size_t)T * D; }

void tr_attention_bwd(const tr_config *c, int B, int T, const float *dctx, const float *q,
                      const float *k, const float *v, const float *pat, const float *cos_t,
                      const float *sin_t, float *dqkv, float *scratch) {
    const int H = c->H, D = c->D, M = c->M, R = c->R, half = R / 2;
    const float scale = 1.0f / sqrtf((float)D);
    const size_t per = tr_attention_scratch(T, D);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        float *dP = scratch + per * thread_id(), *dQ = dP + (size_t)T * T, *dK = dQ + (size_t)T * D,
              *dV = dK + (size_t)T * D;
        const float *Q = q + (size_t)bh * T * D, *K = k + (size_t)bh * T * D, *V = v + (size_t)bh * T * D;
        const float *P = pat + (size_t)bh * T * T;
        const float *dC = dctx + (size_t)b * T * M + (size_t)h * D;   /* [T, D], stride M */
        /* dP = dC V^T ; dV = P^T dC */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, 1.0f, dC, M, V, D, 0.0f, dP, T);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, P, T, dC, M, 0.0f, dV, D);
        /* softmax backward: dS = P * (dP - sum_j P dP), times the score scale */
        for (int i = 0; i < T; i++) {
            const float *pr = P + (size_t)i * T;
            float *dr = dP + (size_t)i * T;
            double s = 0;
            for (int j = 0; j <= i; j++) s += (double)pr[j] * dr[j];
            for (int j = 0; j <= i; j++) dr[j] = pr[j] * (float)(dr[j] - s) * scale;
            for (int j = i + 1; j < T; j++) dr[j] = 0.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, dP, T, K, D, 0.0f, dQ, D);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, dP, T, Q, D, 0.0f, dK, D);
        for (int t = 0; t < T; t++) {
            rotate(dQ + (size_t)t * D, R, cos_t + t * half, sin_t + t * half, -1.0f);
            rotate(dK + (size_t)t * D, R, cos_t + t * half, sin_t + t * half, -1.0f);
            float *dst = dqkv + ((size_t)b * T + t) * 3 * M + (size_t)h * 3 * D;
            memcpy(dst, dQ + (size_t)t * D, D * sizeof(float));
            memcpy(dst + D, dK + (size_t)t * D, D * sizeof(float));
            memcpy(dst + 2 * D, dV + (size_t)t * D, D * sizeof(float));
        }
    }
}

double tr_xent_fwd_bwd(float *logits, const int32_t *targets, float *rowloss, int N, int V) {
    int count = 0;
    for (int n = 0; n < N; n++) count += targets[n] >= 0;
    const float inv = count ? 1.0f / (float)count : 0.0f;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        float *row = logits + (size_t)n * V;
        int32_t t = targets[n];
        if (t < 0) { memset(row, 0, (size_t)V * sizeof(float)); rowloss[n] = 0; continue; }
        float mx = row[0];
        for (int j = 1; j < V; j++) mx = row[j] > mx ? row[j] : mx;
        float logit_t = row[t];
        double sum = 0;
        for (int j = 0; j < V; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
        rowloss[n] = (float)(mx + log(sum) - logit_t);
        float scale = (float)(inv / sum);      /* softmax / count */
        for (int j = 0; j < V; j++) row[j] *= scale;
        row[t] -= inv;
    }
    double s = 0;
    for (int n = 0; n < N; n++) s += rowloss[n];
    return count ? s / count : 0.0;
}

void tr_embed_fwd(const float *E, const int32_t *tok, float *h, int N, int M) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) memcpy(h + (size_t)n * M, E + (size_t)tok[n] * M, (size_t)M * sizeof(float));
}

void tr_embed_bwd(const float *dh, const int32_t *tok, float *dE, int N, int M) {
    /* parallel over columns: every thread adds rows in the same order */
    #pragma omp parallel for schedule(static)
    for (int j = 0; j < M; j++)
        for (int n = 0; n < N; n++) dE[(size_t)tok[n] * M + j] += dh[(size_t)n * M + j];
}
