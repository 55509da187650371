/* shuffle.c — numpy.random.default_rng(seed).permutation(n), bit for bit.
 *
 * HF datasets' Dataset.shuffle(seed) draws its row order from exactly this call
 * (shared/spec/data.md §5): SeedSequence(seed) -> 4 uint64 words -> PCG64
 * (128-bit LCG, XSL-RR output) -> Fisher-Yates from the end with numpy's
 * masked-rejection random_interval and buffered 32-bit draws. Written from the
 * spec's description; test vectors in tests/test_shuffle.c.
 */
#include "core/internal.h"
#include "headscan/data.h"

__extension__ typedef unsigned __int128 u128;

/* ---- SeedSequence (pool size 4, 32-bit words) ---- */
typedef struct { uint32_t pool[4]; } seedseq;

static uint32_t hashmix(uint32_t v, uint32_t *hc) {
    v ^= *hc;
    *hc *= 0x931E8875u;
    v *= *hc;
    v ^= v >> 16;
    return v;
}

static uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t r = 0xCA01F9DDu * x - 0x4973F715u * y;
    r ^= r >> 16;
    return r;
}

static void seedseq_init(seedseq *ss, uint64_t seed) {
    /* numpy coerces an int to uint32 words, least significant first; 0 -> [0]. */
    uint32_t ent[2];
    int n = 0;
    do { ent[n++] = (uint32_t)seed; seed >>= 32; } while (seed && n < 2);
    uint32_t hc = 0x43B0D7E5u;
    for (int i = 0; i < 4; i++) ss->pool[i] = hashmix(i < n ? ent[i] : 0, &hc);
    for (int src = 0; src < 4; src++)
        for (int dst = 0; dst < 4; dst++)
            if (src != dst) ss->pool[dst] = mix(ss->pool[dst], hashmix(ss->pool[src], &hc));
    /* entropy words beyond the pool size: at most 2 words here, so none */
}

static void seedseq_state64(const seedseq *ss, uint64_t out[4]) {
    uint32_t w[8], hc = 0x8B51F9DDu;
    for (int i = 0; i < 8; i++) {
        uint32_t v = ss->pool[i % 4];
        v ^= hc;
        hc *= 0x58F38DEDu;
        v *= hc;
        v ^= v >> 16;
        w[i] = v;
    }
    for (int k = 0; k < 4; k++) out[k] = (uint64_t)w[2 * k] | (uint64_t)w[2 * k + 1] << 32;
}

/* ---- PCG64 (XSL-RR 128/64) with numpy's buffered next32 ---- */
typedef struct {
    u128 state, inc;
    bool has32;
    uint32_t saved32;
} pcg64;

#define PCG_MULT (((u128)2549297995355413924ULL << 64) | 4865540595714422341ULL)

static void pcg_step(pcg64 *g) { g->state = g->state * PCG_MULT + g->inc; }

static void pcg_seed(pcg64 *g, uint64_t seed) {
    seedseq ss;
    seedseq_init(&ss, seed);
    uint64_t w[4];
    seedseq_state64(&ss, w);
    u128 initstate = ((u128)w[0] << 64) | w[1], initseq = ((u128)w[2] << 64) | w[3];
    g->inc = (initseq << 1) | 1;
    g->state = 0;
    pcg_step(g);
    g->state += initstate;
    pcg_step(g);
    g->has32 = false;
    g->saved32 = 0;
}

static uint64_t pcg_next64(pcg64 *g) {
    pcg_step(g);
    uint64_t hi = (uint64_t)(g->state >> 64), lo = (uint64_t)g->state;
    uint64_t x = hi ^ lo;
    unsigned rot = (unsigned)(hi >> 58);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

static uint32_t pcg_next32(pcg64 *g) {
    if (g->has32) { g->has32 = false; return g->saved32; }
    uint64_t v = pcg_next64(g);
    g->has32 = true;
    g->saved32 = (uint32_t)(v >> 32);
    return (uint32_t)v;
}

/* numpy random_interval: uniform in [0, max] by masked rejection. */
static uint64_t random_interval(pcg64 *g, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max;
    mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4;
    mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
    uint64_t v;
    if (max <= 0xFFFFFFFFu) {
        while ((v = (pcg_next32(g) & mask)) > max) {}
    } else {
        while ((v = (pcg_next64(g) & mask)) > max) {}
    }
    return v;
}

hs_status hs_shuffle_permutation(uint64_t seed, int64_t n, int64_t *out) {
    if (n < 0) return hs_errorf(HS_ERR_INVALID_ARG, "permutation: negative length %lld", (long long)n);
    if (n > 0 && !out) return hs_errorf(HS_ERR_INVALID_ARG, "permutation: no output buffer");
    pcg64 g;
    pcg_seed(&g, seed);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i >= 1; i--) {
        int64_t j = (int64_t)random_interval(&g, (uint64_t)i);
        int64_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
    return HS_OK;
}
