/* test_scan_stream.c — scans into a folder give exactly the in-memory scan's numbers.
 *
 * 1. The external quantile selection (scan_select.c) against hs_quantile_f32 (the torch
 *    rule, checked against real torch output by test_scan_quantile) on synthetic arrays full
 *    of the hard cases: NaN (one head), ±0, ±inf, subnormals, long runs of equal values,
 *    an empty non-induction selection, values split over several segments (a merge).
 * 2. hs_scan_run_dir (one process; then 3 shards + hs_scan_merge) against hs_scan_run on
 *    the tiny NeoX fixture over random tokens with many repeats: per-token arrays, quantile
 *    tables, head table, statistics bit for bit (the batch boundaries are the same).
 * 3. Refusals: merge with a shard missing / given twice / from another scan; resume with a
 *    different argument (named); a folder holding an interrupted scan. */
#define _GNU_SOURCE
#include "analysis/scan_select.h"
#include "headscan/headscan.h"
#include "test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static bool same_f32(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, 4) && !(isnan(a[i]) && isnan(b[i]))) return false;
    return true;
}

static float special(int g) {
    static const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, 1e-45f, -1e-45f, 1e-40f, 1.0f, 1.0f, 1.0f, 2.5f, -3.0f};
    uint64_t u = next();
    if (g == 1 && u % 97 == 0) return NAN;
    if (u % 3 == 0) return sp[(u >> 8) % (sizeof sp / sizeof *sp)];
    return (float)((int64_t)(u >> 11) % 2000001 - 1000000) * 1e-3f;
}

/* ---- 1. selection vs hs_quantile_f32 */
static void test_select(void) {
    const int L = 1, H = 3, T = 41, P = T - 1;
    const int64_t rows_seg[3] = {7, 1, 12}, N = 20;
    hs_scan_params p = hs_scan_default_params();
    hs_scan_plan pl = {.L = L, .H = H, .T = T, .P = P, .B = 4, .N = N, .rows = N, .sort_col = -1};
    hs_scan_result *r = NULL;
    CHECK_OK(hs_scan_result_new(NULL, &pl, &p, &r));
    if (!r) return;
    CHECK_OK(hs_scan_quantiles_init(r, &p));
    const int G = L * H;
    const size_t NP = (size_t)N * P;
    float *a[3];
    for (int k = 0; k < 3; k++) a[k] = malloc(sizeof(float) * G * NP);
    uint8_t *mask = malloc(NP);
    int64_t *nc = calloc(NP, sizeof(int64_t));
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < G * NP; i++) a[k][i] = special((int)(i / NP));
    for (size_t i = 0; i < NP; i++) mask[i] = next() % 4 == 0;
    /* segments: each its own files of its rows */
    char dir[] = "/tmp/hs_select_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    hs_scan_seg seg[3];
    int64_t row0 = 0;
    for (int s = 0; s < 3; s++) {
        const int64_t R = rows_seg[s], n = R * P;
        const char *names[5] = {"hd", "ma", "md", "mask", "nc"};
        for (int f = 0; f < 5; f++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s%d.npy", dir, names[f], s);
            if (f < 3) {
                float *x = malloc(sizeof(float) * G * n);
                for (int g = 0; g < G; g++) memcpy(x + g * n, a[f] + g * NP + row0 * P, sizeof(float) * n);
                int64_t sh[4] = {L, H, R, P};
                CHECK_OK(hs_npy_write(path, HS_F32, 4, sh, x));
                free(x);
            } else {
                int64_t sh[2] = {R, P};
                CHECK_OK(f == 3 ? hs_npy_write(path, HS_BOOL, 2, sh, mask + row0 * P) : hs_npy_write(path, HS_I64, 2, sh, nc + row0 * P));
            }
            hs_array meta;
            size_t off = 0;
            CHECK_OK(hs_npy_header_read(path, &meta, &off));
            seg[s].fd[f] = open(path, O_RDONLY);
            seg[s].off[f] = (int64_t)off;
            seg[s].name[f] = names[f];
        }
        seg[s].rows = R;
        row0 += R;
    }
    int64_t mov = -1, noind = -1, want = 0;
    for (size_t i = 0; i < NP; i++) want += !mask[i];
    CHECK_OK(hs_scan_count_positions(seg, 3, P, &mov, &noind));
    CHECK(mov == 0 && noind == want, "counts %lld %lld (want 0 %lld)", (long long)mov, (long long)noind, (long long)want);
    CHECK_OK(hs_scan_select_quantiles(r, seg, 3, want));
    /* reference: hs_quantile_f32 on each row / selection */
    float *row = malloc(sizeof(float) * NP), *sel = malloc(sizeof(float) * NP);
    int bad = 0, checked = 0;
    for (int arr = 0; arr < 4; arr++)
        for (int g = 0; g < G; g++) {
            for (size_t c = 0; c < NP; c++) row[c] = arr < 3 ? a[arr][g * NP + c] : a[2][g * NP + c] / a[0][g * NP + c];
            int64_t n = 0;
            for (size_t c = 0; c < NP; c++) if (!mask[c]) sel[n++] = row[c];
            for (int i = 0; i < 6; i++) {
                const hs_scan_quantiles *t = r->quantiles + arr * 6 + i;
                float ref[16];
                CHECK_OK(hs_quantile_f32(i & 1 ? sel : row, i & 1 ? n : (int64_t)NP, t->levels, t->k, ref, NULL));
                for (int k = 0; k < t->k; k++, checked++)
                    if (!same_f32(&ref[k], &t->values[(size_t)k * G + g], 1)) {
                        if (bad++ < 5) fprintf(stderr, "  %s head %d level %g: %.9g vs %.9g\n", t->name, g, (double)t->levels[k],
                                               (double)ref[k], (double)t->values[(size_t)k * G + g]);
                    }
            }
        }
    CHECK(bad == 0, "%d of %d quantiles differ from hs_quantile_f32", bad, checked);
    CHECK(isnan(r->quantiles[0].values[1]), "a NaN in head 1 makes its quantiles NaN (torch)");
    /* an empty non-induction selection gives NaN */
    hs_scan_quantiles_fill(r, 0, 0, true, 0, false, NULL, NULL);
    CHECK(isnan(r->quantiles[1].values[0]), "empty selection: NaN");
    for (int s = 0; s < 3; s++) for (int f = 0; f < 5; f++) close(seg[s].fd[f]);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "rm");
    free(row); free(sel); free(mask); free(nc);
    for (int k = 0; k < 3; k++) free(a[k]);
    hs_scan_result_free(r);
}

/* ---- 2. run_dir / shards + merge vs hs_scan_run */
static hs_array load_npy(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    hs_array a = {0};
    CHECK_OK(hs_npy_read(p, &a));
    return a;
}

static void compare_dir(const hs_scan_result *mem, const hs_scan_result *st, const char *dir, const char *what) {
    const size_t G = (size_t)mem->L * mem->H, NP = (size_t)mem->N * (mem->T - 1);
    struct { const char *name; const void *ref; size_t bytes; } arr[] = {
        {"head_dla.npy", mem->head_dla, 4 * G * NP}, {"mover_attn.npy", mem->mover_attn, 4 * G * NP},
        {"mover_dla.npy", mem->mover_dla, 4 * G * NP}, {"loss.npy", mem->loss, 4 * NP}, {"num_copies.npy", mem->num_copies, 8 * NP},
        {"induction_mask.npy", mem->induction_mask, NP}, {"tokens.npy", mem->tokens.data, 8 * (size_t)mem->N * mem->T}};
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++) {
        hs_array a = load_npy(dir, arr[i].name);
        CHECK(a.data && hs_array_numel(&a) * (int64_t)hs_dtype_size(a.dtype) == (int64_t)arr[i].bytes &&
              !memcmp(a.data, arr[i].ref, arr[i].bytes), "%s: %s differs from the in-memory scan's", what, arr[i].name);
        hs_array_free(&a);
    }
    CHECK(st->n_quantiles == mem->n_quantiles, "%s: tables", what);
    int bad = 0;
    for (int i = 0; i < mem->n_quantiles && i < st->n_quantiles; i++) {
        CHECK(!strcmp(mem->quantiles[i].name, st->quantiles[i].name), "%s: table name %s", what, st->quantiles[i].name);
        bad += !same_f32(mem->quantiles[i].values, st->quantiles[i].values, (size_t)mem->quantiles[i].k * G);
    }
    CHECK(bad == 0, "%s: %d quantile tables differ", what, bad);
    CHECK(same_f32(mem->table, st->table, G * HS_SCAN_NMETRICS) && !memcmp(mem->order, st->order, sizeof(int) * G), "%s: head table", what);
    CHECK(!memcmp(&mem->eig_resid_ill_below, &st->eig_resid_ill_below, 8) && !memcmp(&mem->eig_vocab_ill_below, &st->eig_vocab_ill_below, 8),
          "%s: eigenvalue conditioning thresholds", what);
    CHECK(mem->movable == st->movable && mem->non_induction_cols == st->non_induction_cols &&
          !memcmp(&mem->mean_is_movable, &st->mean_is_movable, 4) && !memcmp(&mem->mean_not_induction, &st->mean_not_induction, 4),
          "%s: statistics", what);
    CHECK(st->head_dla == NULL && st->tokens.data == NULL && strlen(st->tokens_sha256) == 64, "%s: streamed result", what);
    char p[512];
    snprintf(p, sizeof p, "%s/.headscan-work", dir);
    CHECK(access(p, F_OK) != 0, "%s: the work folder is removed", what);
    snprintf(p, sizeof p, "%s/head_table.csv", dir);
    CHECK(access(p, F_OK) == 0, "%s: head table written", what);
}

static void test_scan(void) {
    hs_model *m = NULL;
    hs_model_params mp = hs_model_default_params();
    CHECK_OK(hs_model_load(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32", &mp, &m));
    if (!m) return;
    const int N = 23, T = 24;   /* batches of 4: 6 batches, the last of 3 rows */
    hs_array tok = {.dtype = HS_I64, .ndim = 2, .shape = {N, T}};
    tok.data = malloc(sizeof(int64_t) * N * T);
    for (int i = 0; i < N * T; i++) ((int64_t *)tok.data)[i] = i % T == 0 ? 0 : 1 + (int64_t)(next() % 9);   /* many repeats */
    hs_scan_params sp = hs_scan_default_params();
    sp.batch = 4;
    sp.prompts = 0;
    sp.ind_batch = 2;
    sp.ind_seq_len = 5;
    sp.ind_seed = 3;
    hs_scan_result *mem = NULL, *st = NULL;
    CHECK_OK(hs_scan_run(m, &tok, &sp, &mem));
    char base[] = "/tmp/hs_stream_XXXXXX";
    CHECK(mkdtemp(base) != NULL, "mkdtemp");
    char d1[300], dm[300], ds[3][300];
    snprintf(d1, sizeof d1, "%s/one", base);
    snprintf(dm, sizeof dm, "%s/merged", base);
    hs_scan_dir_params dp = hs_scan_dir_default_params();
    dp.args_json = "{\"--batch\": 4}";
    CHECK_OK(hs_scan_run_dir(m, &tok, &sp, &dp, d1, &st));
    if (mem && st) compare_dir(mem, st, d1, "one process");
    hs_scan_result_free(st);
    st = NULL;
    /* three shards: 6 batches → 2 each */
    const char *parts[4];
    for (int i = 0; i < 3; i++) {
        snprintf(ds[i], sizeof ds[i], "%s/shard%d", base, i);
        hs_scan_dir_params sd = dp;
        sd.shard = i;
        sd.nshards = 3;
        CHECK_OK(hs_scan_run_dir(m, &tok, &sp, &sd, ds[i], NULL));
        parts[i] = ds[i];
    }
    const char *shuffled[3] = {ds[2], ds[0], ds[1]};   /* any order */
    CHECK_OK(hs_scan_merge(shuffled, 3, dm, false, NULL, NULL, &st));
    if (mem && st) compare_dir(mem, st, dm, "3 shards merged");
    hs_scan_result_free(st);
    st = NULL;
    /* refusals */
    char scratch[300];
    snprintf(scratch, sizeof scratch, "%s/x", base);
    hs_status s = hs_scan_merge(parts, 2, scratch, true, NULL, NULL, NULL);
    CHECK(s != HS_OK && strstr(hs_last_error(), "shard 2/3 is missing"), "missing shard: %s", hs_last_error());
    parts[2] = ds[0];
    s = hs_scan_merge(parts, 3, scratch, true, NULL, NULL, NULL);
    CHECK(s != HS_OK && strstr(hs_last_error(), "given twice"), "duplicate shard: %s", hs_last_error());
    {   /* a shard of another scan (other settings) */
        char other[300];
        snprintf(other, sizeof other, "%s/other", base);
        hs_scan_dir_params so = dp;
        so.shard = 2;
        so.nshards = 3;
        so.args_json = "{\"--batch\": 4, \"--skip\": \"eigenvalues\"}";
        CHECK_OK(hs_scan_run_dir(m, &tok, &sp, &so, other, NULL));
        parts[2] = other;
        s = hs_scan_merge(parts, 3, scratch, true, NULL, NULL, NULL);
        CHECK(s != HS_OK && strstr(hs_last_error(), "--skip"), "other settings named: %s", hs_last_error());
        hs_scan_params sp2 = sp;
        sp2.quantile = 0.8f;
        snprintf(other, sizeof other, "%s/other2", base);
        CHECK_OK(hs_scan_run_dir(m, &tok, &sp2, &so, other, NULL));
        s = hs_scan_merge(parts, 3, scratch, true, NULL, NULL, NULL);
        CHECK(s != HS_OK && strstr(hs_last_error(), "different"), "another scan refused: %s", hs_last_error());
    }
    {   /* resume refusals */
        char d[300];
        snprintf(d, sizeof d, "%s/one", base);
        hs_scan_dir_params r = dp;
        r.resume = true;
        s = hs_scan_run_dir(m, &tok, &sp, &r, d, NULL);
        CHECK(s != HS_OK && strstr(hs_last_error(), "no interrupted scan"), "resume without a checkpoint: %s", hs_last_error());
        snprintf(d, sizeof d, "%s/one/.headscan-work", base);
        CHECK(mkdir(d, 0777) == 0, "mkdir");
        snprintf(d, sizeof d, "%s/one", base);
        s = hs_scan_run_dir(m, &tok, &sp, &dp, d, NULL);
        CHECK(s != HS_OK && strstr(hs_last_error(), "--resume"), "an interrupted scan is not overwritten: %s", hs_last_error());
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    CHECK(system(cmd) == 0, "rm");
    hs_scan_result_free(mem);
    hs_array_free(&tok);
    hs_model_free(m);
}

int main(void) {
    test_select();
    test_scan();
    return test_report("test_scan_stream");
}
