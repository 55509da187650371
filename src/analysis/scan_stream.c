/* scan_stream.c — scans into a folder in memory independent of the number of rows:
 * resumable (checkpoints), sharded (partial results), and the merge of shards.
 *
 * Work folder DIR/.headscan-work while a scan runs: the per-token arrays as .npy files of
 * their final shape (head h's rows at data + (h·rows + row)·P·4), written with pwrite as
 * each batch finishes, and checkpoint.json (the caller's settings, the scan's shape, the
 * number of batches whose results are on disk: fdatasync'ed before the checkpoint is
 * atomically replaced). A resumed scan re-runs the batches after the checkpoint, which
 * overwrite the same bytes; every result is a function of its batch alone, so it equals
 * an uninterrupted run bit for bit. When all batches are done the quantiles are selected
 * from the files (scan_select.c), and the arrays are renamed into DIR with the other
 * outputs (hs_scan_write_ex: the head table last); the work folder is then removed. */
#define _GNU_SOURCE
#include "analysis/scan_select.h"
#include "data/data_internal.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORK ".headscan-work"
enum { F_HD, F_MA, F_MD, F_MASK, F_NC, F_LOSS, F_TOK, NF };
static const char *const fname[NF] = {"head_dla.npy", "mover_attn.npy", "mover_dla.npy", "induction_mask.npy",
                                      "num_copies.npy", "loss.npy", "tokens.npy"};
static const hs_dtype fdt[NF] = {HS_F32, HS_F32, HS_F32, HS_BOOL, HS_I64, HS_F32, HS_I64};

typedef struct wfile { char *path; int fd; int64_t off; } wfile;
typedef struct wset { wfile f[NF]; int64_t rows; int L, H, T; } wset;

hs_scan_dir_params hs_scan_dir_default_params(void) {
    return (hs_scan_dir_params){.nshards = 1, .checkpoint_seconds = 60};
}

static void wset_close(wset *w) {
    for (int i = 0; i < NF; i++) {
        if (w->f[i].fd > 0) close(w->f[i].fd);
        free(w->f[i].path);
        w->f[i] = (wfile){0};
    }
}

static void shape_of(const wset *w, int i, int64_t *shape, int *ndim) {
    const int64_t P = w->T - 1;
    if (i <= F_MD) { shape[0] = w->L; shape[1] = w->H; shape[2] = w->rows; shape[3] = P; *ndim = 4; }
    else { shape[0] = w->rows; shape[1] = i == F_TOK ? w->T : P; *ndim = 2; }
}

/* Creates (or, resuming, opens and checks) the arrays of rows x T in folder wdir. */
static hs_status wset_open(wset *w, const char *wdir, bool create) {
    for (int i = 0; i < NF; i++) {
        wfile *f = w->f + i;
        if (!(f->path = hs_path_join(wdir, fname[i]))) return HS_ERR_NOMEM;
        int64_t shape[4];
        int nd;
        shape_of(w, i, shape, &nd);
        char hdr[640];
        size_t hl;
        hs_status s = hs_npy_header(f->path, fdt[i], nd, shape, hdr, sizeof hdr, &hl);
        if (s) return s;
        int64_t n = 1;
        for (int k = 0; k < nd; k++) n *= shape[k];
        const int64_t total = (int64_t)hl + n * (int64_t)hs_dtype_size(fdt[i]);
        f->off = (int64_t)hl;
        f->fd = open(f->path, create ? O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDWR | O_CLOEXEC, 0666);
        if (f->fd < 0) return hs_errorf(HS_ERR_IO, "%s: cannot %s: %s", f->path, create ? "create" : "open", strerror(errno));
        if (create) {
            if (pwrite(f->fd, hdr, hl, 0) != (ssize_t)hl || ftruncate(f->fd, (off_t)total) != 0)
                return hs_errorf(HS_ERR_IO, "%s: cannot write: %s", f->path, strerror(errno));
        } else {
            struct stat st;
            char got[640];
            if (fstat(f->fd, &st) != 0 || st.st_size != total || pread(f->fd, got, hl, 0) != (ssize_t)hl || memcmp(got, hdr, hl))
                return hs_errorf(HS_ERR_FORMAT, "%s: not the array the checkpoint describes (size or header differs): "
                                 "remove %s to start over", f->path, wdir);
        }
    }
    return HS_OK;
}

static hs_status pwrite_all(const wfile *f, const void *buf, size_t len, int64_t off) {
    const char *p = buf;
    if (!hs_fault_write_budget(len)) { errno = ENOSPC; return hs_errorf(HS_ERR_IO, "%s: write failed: %s", f->path, strerror(ENOSPC)); }
    while (len) {
        ssize_t k = pwrite(f->fd, p, len, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return hs_errorf(HS_ERR_IO, "%s: write failed: %s", f->path, k < 0 ? strerror(errno) : "no progress");
        p += k; len -= (size_t)k; off += k;
    }
    return HS_OK;
}

static void segment_of(const wset *w, hs_scan_seg *sg) {
    for (int i = 0; i < 5; i++) { sg->fd[i] = w->f[i].fd; sg->off[i] = w->f[i].off; sg->name[i] = w->f[i].path; }
    sg->rows = w->rows;
}

/* ------------------------------------------------------------------ token source */
typedef struct tsrc {
    const hs_array *mem;
    int fd;
    int64_t off, W;
    hs_dtype dt;
    const char *path;
} tsrc;

/* rows row0..row0+n of T columns as int64 into dst; raw (n·W elements of the file) as scratch */
static hs_status tsrc_read(const tsrc *t, int64_t row0, int64_t n, int T, int64_t *dst, void *raw) {
    const size_t es = t->dt == HS_I64 ? 8 : 4;
    const void *src;
    if (t->mem) src = (const char *)t->mem->data + (size_t)row0 * t->W * es;
    else {
        size_t len = (size_t)n * t->W * es;
        int64_t off = t->off + row0 * t->W * (int64_t)es;
        char *p = raw;
        while (len) {
            ssize_t k = pread(t->fd, p, len, (off_t)off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) return hs_errorf(HS_ERR_IO, "%s: read failed: %s", t->path, k < 0 ? strerror(errno) : "file truncated");
            p += k; len -= (size_t)k; off += k;
        }
        src = raw;
    }
    for (int64_t r = 0; r < n; r++)
        for (int c = 0; c < T; c++)
            dst[r * T + c] = es == 8 ? ((const int64_t *)src)[r * t->W + c] : ((const int32_t *)src)[r * t->W + c];
    return HS_OK;
}

/* ------------------------------------------------------------------ JSON helpers */
static cJSON *read_json(const char *path, const char *what) {
    char *txt = NULL;
    if (hs_read_file(path, 1 << 24, &txt, NULL)) return NULL;
    cJSON *j = cJSON_Parse(txt);
    free(txt);
    if (!j) hs_errorf(HS_ERR_FORMAT, "%s: %s is not valid JSON", path, what);
    return j;
}

static hs_status write_json(const char *path, cJSON *j) {
    char *txt = cJSON_Print(j);
    if (!txt) return HS_ERR_NOMEM;
    hs_status s = hs_write_file_atomic(path, txt, strlen(txt));
    free(txt);
    return s;
}

static char *json_text(const cJSON *j) {
    if (!j) return hs_strdup("(absent)");
    return cJSON_PrintUnformatted(j);
}

/* The first key whose values differ between objects a and b (keys in `skip` ignored), or NULL. */
static const char *json_diff(const cJSON *a, const cJSON *b, const char *const *skip) {
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *x = pass ? b : a, *y = pass ? a : b;
        for (const cJSON *it = x ? x->child : NULL; it; it = it->next) {
            bool skipped = false;
            for (int k = 0; skip && skip[k]; k++) skipped |= !strcmp(skip[k], it->string);
            if (skipped) continue;
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(y, it->string);
            if (!o || !cJSON_Compare(it, o, true)) return it->string;
        }
    }
    return NULL;
}

static hs_status diff_error(const char *what, const char *key, const cJSON *here, const cJSON *there, const char *here_name,
                            const char *there_name) {
    char *a = json_text(cJSON_GetObjectItemCaseSensitive(here, key)), *b = json_text(cJSON_GetObjectItemCaseSensitive(there, key));
    hs_status s = hs_errorf(HS_ERR_INVALID_ARG, "%s: %s differs (%s %s, %s %s)", what, key, a ? a : "?", here_name, b ? b : "?", there_name);
    free(a); free(b);
    return s;
}

/* The scan's identity: what must match to resume it or to merge its shards. */
static cJSON *scan_identity(const hs_scan_plan *pl, const hs_scan_params *p, const char *tok_sha, const cJSON *model) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "rows", (double)pl->N);
    cJSON_AddNumberToObject(j, "n_ctx", pl->T);
    cJSON_AddNumberToObject(j, "batch", pl->B);
    cJSON_AddNumberToObject(j, "layers", pl->L);
    cJSON_AddNumberToObject(j, "heads", pl->H);
    cJSON_AddStringToObject(j, "tokens_sha256", tok_sha);
    cJSON_AddItemToObject(j, "model_sha256", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(model, "sha256"), true));
    cJSON_AddNumberToObject(j, "quantile", p->quantile);
    cJSON_AddNumberToObject(j, "no_ind_quantile", p->no_ind_quantile);
    cJSON_AddStringToObject(j, "sort", p->sort);
    cJSON_AddNumberToObject(j, "skip", p->skip);
    cJSON_AddNumberToObject(j, "prompts_asked", (double)p->prompts);
    cJSON_AddNumberToObject(j, "token_set_rows", (double)pl->rows);
    return j;
}

/* ------------------------------------------------------------------ publishing */
static hs_status rm_work(const char *wdir) {
    char *ck = hs_path_join(wdir, "checkpoint.json");
    if (ck) unlink(ck);
    free(ck);
    for (int i = 0; i < NF; i++) {
        char *p = hs_path_join(wdir, fname[i]);
        if (p) unlink(p);
        free(p);
    }
    rmdir(wdir);
    return HS_OK;
}

/* The whole scan's outputs from the arrays in w (quantiles, statistics, write). */
static hs_status finish_whole(hs_scan_result *r, const hs_scan_params *p, const hs_scan_seg *seg, int nseg, const wset *arrays,
                              bool no_arrays, const char *dir, double t_start) {
    double t0 = hs_scan_now();
    int64_t mov, noind;
    hs_status s = hs_scan_count_positions(seg, nseg, r->T - 1, &mov, &noind);
    if (!s) { hs_scan_set_statistics(r, mov, noind); s = hs_scan_quantiles_init(r, p); }
    if (!s) s = hs_scan_select_quantiles(r, seg, nseg, noind);
    r->t_quantiles += hs_scan_now() - t0;
    if (!s) s = hs_scan_finish_table(r);
    if (s) return s;
    hs_scan_publish pub[NF];
    char *finals[NF] = {0};
    int np = 0;
    for (int i = 0; arrays && !no_arrays && i < NF; i++) {
        if (!(finals[i] = hs_path_join(dir, fname[i]))) { s = HS_ERR_NOMEM; break; }
        pub[np++] = (hs_scan_publish){.tmp = arrays->f[i].path, .final = finals[i]};
    }
    r->peak_rss = hs_scan_peak_rss();
    r->t_total = hs_scan_now() - t_start;
    if (!s) s = hs_scan_write_ex(r, dir, pub, np);
    for (int i = 0; i < NF; i++) free(finals[i]);
    return s;
}

/* A shard's partial result: its arrays (renamed from the work folder), shard 0's per-head
 * scores, and shard.json last. */
static hs_status publish_shard(const hs_scan_result *r, const wset *w, const char *dir, cJSON *meta) {
    hs_status s = HS_OK;
    const int64_t sg[2] = {r->L, r->H};
    struct { const char *name; hs_dtype dt; const void *data; } per_head[] = {
        {"induction_scores.npy", HS_F32, r->induction}, {"eigenvals_vocab.npy", HS_F32, r->eig_vocab},
        {"eigenvals_resid.npy", HS_F32, r->eig_resid}, {"frac_copy_argmax.npy", HS_F32, r->frac_copy_argmax},
        {"eigenvals_resid_abs_sum.npy", HS_F32, r->eig_resid_abs}, {"eigenvals_vocab_abs_sum.npy", HS_F32, r->eig_vocab_abs},
        {"frac_copy_argmax_count.npy", HS_I64, r->frac_copy_count}};
    for (size_t i = 0; i < sizeof per_head / sizeof *per_head && !s; i++) {
        char *p = hs_path_join(dir, per_head[i].name);
        s = p ? hs_npy_write(p, per_head[i].dt, 2, sg, per_head[i].data) : HS_ERR_NOMEM;
        free(p);
    }
    if (!s && r->ind_tokens.ndim == 2) {
        char *p = hs_path_join(dir, "ind_tokens.npy");
        s = p ? hs_npy_write(p, HS_I64, 2, r->ind_tokens.shape, r->ind_tokens.data) : HS_ERR_NOMEM;
        free(p);
    }
    for (int i = 0; i < NF && !s; i++) {
        char *p = hs_path_join(dir, fname[i]);
        if (!p) return HS_ERR_NOMEM;
        if (fdatasync(w->f[i].fd) != 0 || rename(w->f[i].path, p) != 0)
            s = hs_errorf(HS_ERR_IO, "%s: cannot move into place: %s", p, strerror(errno));
        free(p);
    }
    if (!s) {
        char *p = hs_path_join(dir, "shard.json");
        s = p ? write_json(p, meta) : HS_ERR_NOMEM;
        free(p);
    }
    return s;
}

/* ------------------------------------------------------------------ the streaming scan */
typedef struct run {
    const hs_model *m;
    hs_scan_params p;
    hs_scan_dir_params dp;
    hs_scan_plan pl;
    tsrc ts;
    const char *dir;
    char *wdir, *ckpath;
    int64_t b0, b1, row0, rows;   /* this run's batches and rows */
    char tok_sha[65];
    cJSON *model, *ident, *args;
    wset w;
    hs_scan_result *r;
} run;

static hs_status checkpoint(run *u, int64_t done, double elapsed) {
    for (int i = 0; i < NF; i++)
        if (fdatasync(u->w.f[i].fd) != 0) return hs_errorf(HS_ERR_IO, "%s: cannot sync: %s", u->w.f[i].path, strerror(errno));
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", "headscan-scan-checkpoint");
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddItemToObject(j, "args", cJSON_Duplicate(u->args, true));
    cJSON_AddItemToObject(j, "scan", cJSON_Duplicate(u->ident, true));
    cJSON_AddNumberToObject(j, "shard", u->dp.shard);
    cJSON_AddNumberToObject(j, "nshards", u->dp.nshards);
    cJSON_AddNumberToObject(j, "batches_done", (double)done);
    cJSON_AddNumberToObject(j, "rows_done", (double)(done * u->pl.B < u->rows ? done * u->pl.B : u->rows));
    cJSON_AddNumberToObject(j, "forward_seconds", elapsed);
    hs_status s = write_json(u->ckpath, j);
    cJSON_Delete(j);
    return s;
}

/* Reads the checkpoint; refuses a different scan, naming the difference. */
static hs_status resume_point(run *u, int64_t *done, double *elapsed) {
    cJSON *j = read_json(u->ckpath, "the checkpoint");
    if (!j) return hs_errorf(HS_ERR_INVALID_ARG, "--resume: %s has no readable checkpoint (%s): remove the folder to start over",
                             u->wdir, hs_last_error());
    hs_status s = HS_OK;
    const char *k;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "args"), *sc = cJSON_GetObjectItemCaseSensitive(j, "scan");
    if ((k = json_diff(u->args, a, NULL)))
        s = diff_error("--resume: the arguments differ from the interrupted scan's", k, u->args, a, "now", "in the checkpoint");
    else if ((k = json_diff(u->ident, sc, NULL)))
        s = diff_error("--resume: the scan differs from the interrupted one", k, u->ident, sc, "now", "in the checkpoint");
    else if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "shard")) != u->dp.shard ||
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "nshards")) != u->dp.nshards)
        s = hs_errorf(HS_ERR_INVALID_ARG, "--resume: the interrupted scan was shard %g/%g, not %d/%d",
                      cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "shard")),
                      cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "nshards")), u->dp.shard, u->dp.nshards);
    *done = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "batches_done"));
    *elapsed = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "forward_seconds"));
    if (!s && (*done < 0 || *done > u->b1 - u->b0)) s = hs_errorf(HS_ERR_FORMAT, "%s: bad batches_done", u->ckpath);
    cJSON_Delete(j);
    return s;
}

/* Validates every id and hashes the N rows scanned (the token set's identity). */
static hs_status token_pass(run *u) {
    const int T = u->pl.T, B = u->pl.B;
    int64_t *buf = hs_malloc(sizeof(int64_t) * (size_t)B * T);
    void *raw = u->ts.mem ? NULL : hs_malloc((size_t)B * u->ts.W * 8);
    hs_sha256 *h = hs_sha256_new();
    hs_status s = buf && (raw || u->ts.mem) && h ? HS_OK : HS_ERR_NOMEM;
    for (int64_t r0 = 0; r0 < u->pl.N && !s; r0 += B) {
        const int64_t n = u->pl.N - r0 < B ? u->pl.N - r0 : B;
        if (!(s = tsrc_read(&u->ts, r0, n, T, buf, raw)) && !(s = hs_scan_check_ids(&u->pl, buf, n, r0)))
            s = hs_sha256_update(h, buf, sizeof(int64_t) * (size_t)(n * T));
    }
    if (!s) s = hs_sha256_final(h, u->tok_sha);
    else hs_sha256_final(h, u->tok_sha);   /* frees h; the error stays the first one */
    free(buf); free(raw);
    return s;
}

static hs_status forward_loop(run *u) {
    const int T = u->pl.T, P = u->pl.P, B = u->pl.B, G = u->pl.L * u->pl.H;
    hs_status s;
    int64_t done = 0;
    double elapsed = 0;
    if (u->dp.resume) {
        if ((s = resume_point(u, &done, &elapsed))) return s;
        if ((s = wset_open(&u->w, u->wdir, false))) return s;
    } else {
        if (mkdir(u->wdir, 0777) != 0) {
            if (errno == EEXIST)
                return hs_errorf(HS_ERR_INVALID_ARG, "%s: an interrupted scan is there: continue it with --resume (same "
                                 "arguments), or remove that folder to start over", u->wdir);
            return hs_errorf(HS_ERR_IO, "%s: cannot create: %s", u->wdir, strerror(errno));
        }
        if ((s = wset_open(&u->w, u->wdir, true)) || (s = checkpoint(u, 0, 0))) return s;
    }
    u->r->t_forward = elapsed;
    if (done == u->b1 - u->b0) return HS_OK;   /* every batch was on disk: straight to the outputs */
    hs_scanner *sc = NULL;
    const size_t BP = (size_t)B * P;
    float *o3 = hs_malloc(sizeof(float) * 3 * G * BP), *loss = hs_malloc(sizeof(float) * BP);
    int64_t *nc = hs_malloc(sizeof(int64_t) * BP), *tok = hs_malloc(sizeof(int64_t) * (size_t)B * T);
    uint8_t *mk = hs_malloc(BP);
    void *raw = u->ts.mem ? NULL : hs_malloc((size_t)B * u->ts.W * 8);
    s = o3 && loss && nc && tok && mk && (raw || u->ts.mem) ? hs_scanner_new(u->m, &u->pl, &sc) : HS_ERR_NOMEM;
    double t_run = hs_scan_now(), t_ck = t_run;
    int64_t since = 0;
    for (int64_t b = u->b0 + done; b < u->b1 && !s; b++) {
        const int64_t r0 = b * B, n = u->pl.N - r0 < B ? u->pl.N - r0 : B, lr = r0 - u->row0;   /* lr: row within this run */
        const size_t nP = (size_t)n * P;
        hs_scan_batch_out bo = {.head_dla = o3, .mover_attn = o3 + G * nP, .mover_dla = o3 + 2 * G * nP, .head_stride = nP,
                                .loss = loss, .num_copies = nc, .induction_mask = mk};
        if ((s = tsrc_read(&u->ts, r0, n, T, tok, raw)) || (s = hs_scanner_run(sc, tok, (int)n, &bo))) break;
        for (int a = 0; a < 3 && !s; a++)
            for (int g = 0; g < G && !s; g++)
                s = pwrite_all(u->w.f + a, o3 + (size_t)a * G * nP + (size_t)g * nP, sizeof(float) * nP,
                               u->w.f[a].off + (int64_t)sizeof(float) * ((int64_t)g * u->rows * P + lr * P));
        if (!s) s = pwrite_all(u->w.f + F_MASK, mk, nP, u->w.f[F_MASK].off + lr * P);
        if (!s) s = pwrite_all(u->w.f + F_NC, nc, 8 * nP, u->w.f[F_NC].off + 8 * lr * P);
        if (!s) s = pwrite_all(u->w.f + F_LOSS, loss, 4 * nP, u->w.f[F_LOSS].off + 4 * lr * P);
        if (!s) s = pwrite_all(u->w.f + F_TOK, tok, 8 * (size_t)n * T, u->w.f[F_TOK].off + 8 * lr * T);
        if (s) break;
        done++;
        since++;
        const double t = hs_scan_now();
        const bool last = b + 1 == u->b1;
        bool cancel = u->p.progress && u->p.progress("forward", lr + n, u->rows, u->p.progress_user);
        if (last || cancel || (u->dp.checkpoint_batches > 0 ? since >= u->dp.checkpoint_batches : t - t_ck >= u->dp.checkpoint_seconds)) {
            if ((s = checkpoint(u, done, elapsed + t - t_run))) break;
            t_ck = t;
            since = 0;
        }
        if (cancel) { s = hs_errorf(HS_ERR_CANCELLED, "scan cancelled (checkpoint at %lld of %lld rows: --resume continues)",
                                    (long long)(lr + n), (long long)u->rows); break; }
        hs_fault_batch(b - u->b0);
    }
    u->r->t_forward = elapsed + hs_scan_now() - t_run;
    hs_scanner_free(sc);
    free(o3); free(loss); free(nc); free(tok); free(mk); free(raw);
    return s;
}

hs_status hs_scan_run_dir(const hs_model *m, const hs_array *tokens, const hs_scan_params *params, const hs_scan_dir_params *dpp,
                          const char *dir, hs_scan_result **out) {
    if (out) *out = NULL;
    const double t_start = hs_scan_now();
    run u = {.m = m, .p = params ? *params : hs_scan_default_params(), .dp = dpp ? *dpp : hs_scan_dir_default_params(), .dir = dir};
    hs_status s = HS_OK;
    if (u.dp.nshards < 1) u.dp.nshards = 1;
    if (u.dp.shard < 0 || u.dp.shard >= u.dp.nshards)
        return hs_errorf(HS_ERR_INVALID_ARG, "shard %d/%d: the index must be in 0..%d", u.dp.shard, u.dp.nshards, u.dp.nshards - 1);
    /* the token source */
    hs_array meta = {0};
    u.ts.fd = -1;
    if (u.dp.tokens_path) {
        size_t off;
        if ((s = hs_npy_header_read(u.dp.tokens_path, &meta, &off))) return s;
        if (meta.ndim != 2 || (meta.dtype != HS_I64 && meta.dtype != HS_I32))
            return hs_errorf(HS_ERR_INVALID_ARG, "%s: tokens must be a 2-D int64 (or int32) array [prompts, n_ctx]", u.dp.tokens_path);
        u.ts.fd = open(u.dp.tokens_path, O_RDONLY | O_CLOEXEC);
        if (u.ts.fd < 0) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", u.dp.tokens_path, strerror(errno));
        u.ts.off = (int64_t)off;
        u.ts.path = u.dp.tokens_path;
    } else {
        if (!tokens || tokens->ndim != 2 || (tokens->dtype != HS_I64 && tokens->dtype != HS_I32))
            return hs_errorf(HS_ERR_INVALID_ARG, "tokens must be a 2-D int64 (or int32) array [prompts, n_ctx]");
        meta = *tokens;
        u.ts.mem = tokens;
        u.ts.path = "tokens";
    }
    u.ts.dt = meta.dtype;
    u.ts.W = meta.shape[1];
    int64_t T = u.dp.n_ctx > 0 ? u.dp.n_ctx : meta.shape[1];
    if (T > meta.shape[1]) s = hs_errorf(HS_ERR_INVALID_ARG, "n_ctx %lld is longer than the rows of %s (%lld tokens)", (long long)T,
                                         u.ts.path, (long long)meta.shape[1]);
    if (!s) s = hs_scan_plan_make(m, meta.shape[0], T, &u.p, &u.pl);
    if (s) goto done;
    const int64_t nb = (u.pl.N + u.pl.B - 1) / u.pl.B;
    if (u.dp.nshards > nb) {
        s = hs_errorf(HS_ERR_INVALID_ARG, "%d shards: the %lld rows make only %lld batches of %d", u.dp.nshards, (long long)u.pl.N,
                      (long long)nb, u.pl.B);
        goto done;
    }
    u.b0 = u.dp.shard * nb / u.dp.nshards;
    u.b1 = (u.dp.shard + 1) * nb / u.dp.nshards;
    u.row0 = u.b0 * u.pl.B;
    u.rows = (u.b1 * u.pl.B < u.pl.N ? u.b1 * u.pl.B : u.pl.N) - u.row0;
    if ((s = hs_scan_result_new(m, &u.pl, &u.p, &u.r))) goto done;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { s = hs_errorf(HS_ERR_IO, "%s: cannot create the output folder: %s", dir, strerror(errno)); goto done; }
    if (!(u.wdir = hs_path_join(dir, WORK)) || !(u.ckpath = hs_path_join(u.wdir, "checkpoint.json"))) { s = HS_ERR_NOMEM; goto done; }
    if (u.dp.resume && access(u.ckpath, F_OK) != 0) {
        s = hs_errorf(HS_ERR_INVALID_ARG, "--resume: %s holds no interrupted scan (no %s)", dir, u.ckpath);
        goto done;
    }
    if ((s = token_pass(&u))) goto done;
    memcpy(u.r->tokens_sha256, u.tok_sha, 65);
    u.model = hs_scan_model_json(u.r->model_dir);
    u.ident = scan_identity(&u.pl, &u.p, u.tok_sha, u.model);
    u.args = u.dp.args_json ? cJSON_Parse(u.dp.args_json) : cJSON_CreateObject();
    if (!u.args || !cJSON_IsObject(u.args)) { s = hs_errorf(HS_ERR_INVALID_ARG, "args_json is not a JSON object"); goto done; }
    u.w = (wset){.rows = u.rows, .L = u.pl.L, .H = u.pl.H, .T = u.pl.T};
    if ((s = forward_loop(&u))) goto done;
    if (u.dp.manifest_extra && (s = hs_scan_set_manifest_extra(u.r, u.dp.manifest_extra))) goto done;
    if (u.dp.shard == 0 && (s = hs_scan_head_metrics(m, &u.p, u.r))) goto done;
    if (u.dp.nshards > 1) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "format", "headscan-scan-shard");
        cJSON_AddNumberToObject(j, "version", 1);
        cJSON_AddNumberToObject(j, "shard", u.dp.shard);
        cJSON_AddNumberToObject(j, "nshards", u.dp.nshards);
        cJSON_AddNumberToObject(j, "row0", (double)u.row0);
        cJSON_AddNumberToObject(j, "rows", (double)u.rows);
        cJSON_AddItemToObject(j, "scan", cJSON_Duplicate(u.ident, true));
        cJSON_AddItemToObject(j, "args", cJSON_Duplicate(u.args, true));
        cJSON_AddItemToObject(j, "model", cJSON_Duplicate(u.model, true));
        cJSON_AddStringToObject(j, "model_dir", u.r->model_dir);
        cJSON_AddNumberToObject(j, "induction_seed", (double)u.p.ind_seed);
        cJSON_AddBoolToObject(j, "induction_replayed", u.r->ind_replayed);
        if (u.dp.manifest_extra) cJSON_AddStringToObject(j, "manifest_extra", u.dp.manifest_extra);
        cJSON *tm = cJSON_AddObjectToObject(j, "timings_s");
        cJSON_AddNumberToObject(tm, "forward_metrics", u.r->t_forward);
        cJSON_AddNumberToObject(tm, "induction", u.r->t_induction);
        cJSON_AddNumberToObject(tm, "eigenvalues", u.r->t_eigen);
        cJSON_AddNumberToObject(tm, "frac_copy_argmax", u.r->t_frac);
        cJSON_AddNumberToObject(j, "peak_rss_bytes", (double)hs_scan_peak_rss());
        s = publish_shard(u.r, &u.w, dir, j);
        cJSON_Delete(j);
        hs_scan_result_free(u.r);
        u.r = NULL;
    } else {
        hs_scan_seg sg;
        segment_of(&u.w, &sg);
        s = finish_whole(u.r, &u.p, &sg, 1, &u.w, u.dp.no_arrays, dir, t_start);
    }
    if (!s) rm_work(u.wdir);
done:
    wset_close(&u.w);
    if (u.ts.fd >= 0) close(u.ts.fd);
    cJSON_Delete(u.model); cJSON_Delete(u.ident); cJSON_Delete(u.args);
    free(u.wdir); free(u.ckpath);
    if (s || !out) hs_scan_result_free(u.r);
    else *out = u.r;
    return s;
}

/* ------------------------------------------------------------------ merge */
typedef struct part { const char *dir; cJSON *j; int idx; int64_t row0, rows; } part;

static hs_status read_f32_npy(const char *dir, const char *name, hs_dtype dt, int64_t n, void *dst) {
    char *p = hs_path_join(dir, name);
    hs_array a = {0};
    hs_status s = p ? hs_npy_read(p, &a) : HS_ERR_NOMEM;
    if (!s && (a.dtype != dt || hs_array_numel(&a) != n)) s = hs_errorf(HS_ERR_FORMAT, "%s: unexpected dtype or shape", p);
    if (!s) memcpy(dst, a.data, (size_t)n * hs_dtype_size(dt));
    hs_array_free(&a);
    free(p);
    return s;
}

/* Concatenates the shards' arrays into the work set w (rows = the total). */
static hs_status concat_arrays(const wset *src, int n, const wset *w) {
    enum { BUF = 1 << 20 };
    char *buf = hs_malloc(BUF);
    if (!buf) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    const int G = w->L * w->H;
    for (int i = 0; i < NF && !s; i++) {
        const size_t es = hs_dtype_size(fdt[i]);
        const int64_t per_row = (i == F_TOK ? w->T : w->T - 1) * (int64_t)es;
        const int heads = i <= F_MD ? G : 1;
        int64_t out = w->f[i].off;
        for (int g = 0; g < heads && !s; g++)
            for (int k = 0; k < n && !s; k++) {
                int64_t len = src[k].rows * per_row, in = src[k].f[i].off + g * len;
                while (len > 0 && !s) {
                    const size_t c = len < BUF ? (size_t)len : BUF;
                    ssize_t got = pread(src[k].f[i].fd, buf, c, (off_t)in);
                    if (got != (ssize_t)c) s = hs_errorf(HS_ERR_IO, "%s: read failed", src[k].f[i].path);
                    else s = pwrite_all(w->f + i, buf, c, out);
                    in += (int64_t)c; out += (int64_t)c; len -= (int64_t)c;
                }
            }
    }
    free(buf);
    return s;
}

hs_status hs_scan_merge(const char *const *parts, int n, const char *dir, bool no_arrays, hs_scan_progress_fn progress,
                        void *puser, hs_scan_result **out) {
    if (out) *out = NULL;
    const double t_start = hs_scan_now();
    if (n < 1) return hs_errorf(HS_ERR_INVALID_ARG, "merge: no shard folders given");
    part *pt = hs_calloc((size_t)n, sizeof *pt);
    wset *ws = hs_calloc((size_t)n, sizeof *ws);
    hs_scan_seg *seg = hs_calloc((size_t)n, sizeof *seg);
    hs_status s = pt && ws && seg ? HS_OK : HS_ERR_NOMEM;
    hs_scan_result *r = NULL;
    wset w = {0};
    char *wdir = NULL;
    static const char *const path_keys[] = {"--model", "--tokens", "--dataset", "--tokenizer", "--induction-tokens", "--out", NULL};
    for (int i = 0; i < n && !s; i++) {
        pt[i].dir = parts[i];
        char *p = hs_path_join(parts[i], "shard.json");
        if (!p) { s = HS_ERR_NOMEM; break; }
        if (access(p, F_OK) != 0) {
            char *wk = hs_path_join(parts[i], WORK);
            bool unfinished = wk && access(wk, F_OK) == 0;
            free(wk);
            s = hs_errorf(HS_ERR_INVALID_ARG, "%s: not a finished shard (no shard.json%s)", parts[i],
                          unfinished ? "; its scan was interrupted: finish it with --resume" : "");
        } else if (!(pt[i].j = read_json(p, "shard.json"))) s = HS_ERR_FORMAT;
        free(p);
        if (s) break;
        const cJSON *j = pt[i].j;
        const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "format"));
        if (!fmt || strcmp(fmt, "headscan-scan-shard")) { s = hs_errorf(HS_ERR_FORMAT, "%s/shard.json: not a headscan shard", parts[i]); break; }
        pt[i].idx = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "shard"));
        pt[i].row0 = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "row0"));
        pt[i].rows = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "rows"));
        const int ns = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "nshards"));
        if (i == 0) continue;
        const cJSON *j0 = pt[0].j;
        const int ns0 = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j0, "nshards"));
        const char *k;
        if (ns != ns0) s = hs_errorf(HS_ERR_INVALID_ARG, "%s is shard %d/%d but %s is shard %d/%d: shards of different splits",
                                     parts[i], pt[i].idx, ns, parts[0], pt[0].idx, ns0);
        else if ((k = json_diff(cJSON_GetObjectItemCaseSensitive(j, "scan"), cJSON_GetObjectItemCaseSensitive(j0, "scan"), NULL))) {
            char what[1024];
            snprintf(what, sizeof what, "%s and %s are shards of different scans", parts[i], parts[0]);
            s = diff_error(what, k, cJSON_GetObjectItemCaseSensitive(j, "scan"), cJSON_GetObjectItemCaseSensitive(j0, "scan"), parts[i], parts[0]);
        } else if ((k = json_diff(cJSON_GetObjectItemCaseSensitive(j, "args"), cJSON_GetObjectItemCaseSensitive(j0, "args"), path_keys))) {
            char what[1024];
            snprintf(what, sizeof what, "%s and %s were scanned with different settings", parts[i], parts[0]);
            s = diff_error(what, k, cJSON_GetObjectItemCaseSensitive(j, "args"), cJSON_GetObjectItemCaseSensitive(j0, "args"), parts[i], parts[0]);
        }
    }
    int ns = 0;
    if (!s) {
        ns = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt[0].j, "nshards"));
        for (int i = 0; i < n && !s; i++) {
            if (pt[i].idx < 0 || pt[i].idx >= ns) s = hs_errorf(HS_ERR_FORMAT, "%s: shard index %d of %d", pt[i].dir, pt[i].idx, ns);
            for (int k = 0; k < i && !s; k++)
                if (pt[k].idx == pt[i].idx)
                    s = hs_errorf(HS_ERR_INVALID_ARG, "shard %d/%d is given twice (%s and %s)", pt[i].idx, ns, pt[k].dir, pt[i].dir);
        }
        for (int want = 0; want < ns && !s; want++) {
            bool have = false;
            for (int i = 0; i < n; i++) have |= pt[i].idx == want;
            if (!have) s = hs_errorf(HS_ERR_INVALID_ARG, "shard %d/%d is missing (%d of %d shard folders given)", want, ns, n, ns);
        }
    }
    /* in shard order */
    for (int i = 1; i < n && !s; i++)
        for (int k = i; k > 0 && pt[k].idx < pt[k - 1].idx; k--) { part t = pt[k]; pt[k] = pt[k - 1]; pt[k - 1] = t; }
    hs_scan_params p = hs_scan_default_params();
    hs_scan_plan pl = {0};
    if (!s) {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(pt[0].j, "scan");
#define NUM(o, k) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k))
        p.quantile = (float)NUM(sc, "quantile");
        p.no_ind_quantile = (float)NUM(sc, "no_ind_quantile");
        p.sort = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "sort"));
        p.skip = (unsigned)NUM(sc, "skip");
        p.prompts = (int64_t)NUM(sc, "prompts_asked");
        p.ind_seed = (uint64_t)NUM(pt[0].j, "induction_seed");
        pl = (hs_scan_plan){.L = (int)NUM(sc, "layers"), .H = (int)NUM(sc, "heads"), .T = (int)NUM(sc, "n_ctx"),
                            .B = (int)NUM(sc, "batch"), .N = (int64_t)NUM(sc, "rows"), .rows = (int64_t)NUM(sc, "token_set_rows")};
        pl.P = pl.T - 1;
        pl.sort_col = -1;
        for (int c = 3; c < HS_SCAN_NCOLS && p.sort; c++) if (!strcmp(p.sort, hs_scan_column_name(c))) pl.sort_col = c;
        int64_t next = 0;
        for (int i = 0; i < n && !s; i++) {
            if (pt[i].row0 != next) s = hs_errorf(HS_ERR_FORMAT, "%s: shard %d starts at row %lld, not %lld", pt[i].dir, pt[i].idx,
                                                  (long long)pt[i].row0, (long long)next);
            next += pt[i].rows;
        }
        if (!s && next != pl.N) s = hs_errorf(HS_ERR_FORMAT, "the shards hold %lld rows, the scan %lld", (long long)next, (long long)pl.N);
        if (!s && (pl.L < 1 || pl.H < 1 || pl.T < 2 || !p.sort)) s = hs_errorf(HS_ERR_FORMAT, "%s/shard.json: incomplete", pt[0].dir);
    }
    for (int i = 0; i < n && !s; i++) {   /* open each shard's arrays, checking their shapes */
        ws[i] = (wset){.rows = pt[i].rows, .L = pl.L, .H = pl.H, .T = pl.T};
        if ((s = wset_open(ws + i, pt[i].dir, false))) break;
        segment_of(ws + i, seg + i);
    }
    if (!s) s = hs_scan_result_new(NULL, &pl, &p, &r);
    if (!s) {
        const cJSON *j0 = pt[0].j;
        free(r->model_dir);
        r->model_dir = hs_strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j0, "model_dir")) ?: "");
        r->ind_replayed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j0, "induction_replayed"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j0, "scan"), "tokens_sha256"));
        snprintf(r->tokens_sha256, sizeof r->tokens_sha256, "%s", sha ? sha : "");
        const int64_t G = (int64_t)pl.L * pl.H;
        const char *d0 = pt[0].dir;
        if (!(s = read_f32_npy(d0, "induction_scores.npy", HS_F32, G, r->induction)) &&
            !(s = read_f32_npy(d0, "eigenvals_vocab.npy", HS_F32, G, r->eig_vocab)) &&
            !(s = read_f32_npy(d0, "eigenvals_resid.npy", HS_F32, G, r->eig_resid)) &&
            !(s = read_f32_npy(d0, "frac_copy_argmax.npy", HS_F32, G, r->frac_copy_argmax)) &&
            !(s = read_f32_npy(d0, "eigenvals_resid_abs_sum.npy", HS_F32, G, r->eig_resid_abs)) &&
            !(s = read_f32_npy(d0, "eigenvals_vocab_abs_sum.npy", HS_F32, G, r->eig_vocab_abs)))
            s = read_f32_npy(d0, "frac_copy_argmax_count.npy", HS_I64, G, r->frac_copy_count);
        char *ip = hs_path_join(d0, "ind_tokens.npy");
        if (!s && ip && access(ip, F_OK) == 0) s = hs_npy_read(ip, &r->ind_tokens);
        free(ip);
        /* the manifest: shard 0's extra (the command's input and options), its model identity and timings */
        cJSON *ex = NULL;
        const char *et = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j0, "manifest_extra"));
        if (et) ex = cJSON_Parse(et);
        if (!ex || !cJSON_IsObject(ex)) { cJSON_Delete(ex); ex = cJSON_CreateObject(); }
        cJSON_DeleteItemFromObject(ex, "model");
        cJSON_AddItemToObject(ex, "model", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j0, "model"), true));
        cJSON *sh = cJSON_AddArrayToObject(ex, "shards");
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "dir", pt[i].dir);
            cJSON_AddNumberToObject(o, "row0", (double)pt[i].row0);
            cJSON_AddNumberToObject(o, "rows", (double)pt[i].rows);
            cJSON_AddItemToObject(o, "timings_s", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pt[i].j, "timings_s"), true));
            cJSON_AddItemToObject(o, "peak_rss_bytes", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(pt[i].j, "peak_rss_bytes"), true));
            cJSON_AddItemToArray(sh, o);
            const cJSON *tm = cJSON_GetObjectItemCaseSensitive(pt[i].j, "timings_s");
            r->t_forward += NUM(tm, "forward_metrics");
            r->t_induction += NUM(tm, "induction");
            r->t_eigen += NUM(tm, "eigenvalues");
            r->t_frac += NUM(tm, "frac_copy_argmax");
        }
        char *et2 = cJSON_PrintUnformatted(ex);
        cJSON_Delete(ex);
        if (!s) s = et2 ? hs_scan_set_manifest_extra(r, et2) : HS_ERR_NOMEM;
        free(et2);
#undef NUM
    }
    if (!s && mkdir(dir, 0777) != 0 && errno != EEXIST) s = hs_errorf(HS_ERR_IO, "%s: cannot create the output folder: %s", dir, strerror(errno));
    if (!s && !no_arrays) {   /* the whole scan's arrays, in the output folder's work space */
        if (!(wdir = hs_path_join(dir, WORK))) s = HS_ERR_NOMEM;
        else if (mkdir(wdir, 0777) != 0 && errno != EEXIST) s = hs_errorf(HS_ERR_IO, "%s: cannot create: %s", wdir, strerror(errno));
        w = (wset){.rows = pl.N, .L = pl.L, .H = pl.H, .T = pl.T};
        if (!s) s = wset_open(&w, wdir, true);
        if (!s) s = concat_arrays(ws, n, &w);
        if (!s && progress) progress("merge", 1, 2, puser);
    }
    if (!s) {
        s = finish_whole(r, &p, seg, n, no_arrays ? NULL : &w, no_arrays, dir, t_start);
        if (!s && progress) progress("merge", 2, 2, puser);
    }
    wset_close(&w);
    if (wdir) { rm_work(wdir); free(wdir); }
    for (int i = 0; i < n; i++) { wset_close(ws + i); cJSON_Delete(pt ? pt[i].j : NULL); }
    free(pt); free(ws); free(seg);
    if (s || !out) hs_scan_result_free(r);
    else *out = r;
    return s;
}
