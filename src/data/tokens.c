/* tokens.c — the token matrix: TransformerLens tokenize_and_concatenate (exact),
 * the plain alternative, and Dataset.shuffle (shared/spec/tokenizer.md §5,
 * shared/spec/data.md §5).
 *
 * transformerlens mode, per batch (documents [a, b) of one shard):
 *   full = eos_text.join(texts); L = code points; cl = (L-1)//C + 1 (0 if L = 0);
 *   ids = concat_i encode(full[i*cl:(i+1)*cl]) for i < C, ids equal to pad removed;
 *   rows = len(ids) // (n_ctx-1) rows of [bos] + ids[r*(n_ctx-1) : (r+1)*(n_ctx-1)],
 *   the remainder dropped. The C chunks are encoded in parallel; results are joined
 *   in chunk order, so the output does not depend on the thread count.
 * The shard layout needs the document count, hence a first counting pass.
 * Two batches' text are held at a time (one encoded while one thread reads the
 * next), plus the growing matrix.
 */
#include "data/data_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

hs_tokens_params hs_tokens_default_params(void) {
    hs_tokens_params p;
    memset(&p, 0, sizeof p);
    p.mode = HS_TOKENS_TRANSFORMERLENS;
    p.n_ctx = 256;
    p.shuffle = true;
    p.seed = 42;
    p.threads = 0;
    p.num_proc = 10;
    p.batch_size = 1000;
    p.num_chunks = 20;
    p.eos_id = -1;
    p.bos_column = true;
    return p;
}

/* The growing [rows, n_ctx] int64 matrix. */
typedef struct {
    int64_t *data;
    int64_t rows, cap_rows;
    int n_ctx;
    FILE *spill;          /* when set, full rows go to this file in runs of SPILL_ROWS */
    int64_t spilled;      /* rows already in the spill file */
} matrix;
enum { SPILL_ROWS = 1024 };

/* Moves the rows held in memory to the spill file (no-op without one). */
static hs_status matrix_flush(matrix *m) {
    if (!m->spill || m->rows == 0) return HS_OK;
    if (fwrite(m->data, sizeof(int64_t) * (size_t)m->n_ctx, (size_t)m->rows, m->spill) != (size_t)m->rows)
        return hs_errorf(HS_ERR_IO, "tokens: writing the unshuffled rows to a temporary file failed (disk full?)");
    m->spilled += m->rows;
    m->rows = 0;
    return HS_OK;
}

static hs_status matrix_reserve(matrix *m, int64_t rows) {
    if (rows <= m->cap_rows) return HS_OK;
    int64_t nc = m->cap_rows ? m->cap_rows : 64;
    while (nc < rows) nc += nc / 2;  /* x1.5: the matrix is the largest allocation */
    size_t bytes;
    if (hs_mul_overflow((size_t)nc, (size_t)m->n_ctx * sizeof(int64_t), &bytes))
        return hs_errorf(HS_ERR_NOMEM, "token matrix too large");
    int64_t *nd = realloc(m->data, bytes);
    if (!nd) return hs_errorf(HS_ERR_NOMEM, "out of memory for the token matrix (%lld rows)", (long long)nc);
    m->data = nd;
    m->cap_rows = nc;
    return HS_OK;
}

/* Appends rows of [bos] + seq-long slices of ids[0..n) (bos < 0: no BOS column, rows of
 * n_ctx ids); returns the ids used. */
static hs_status emit_rows(matrix *m, int32_t bos, const int32_t *ids, size_t n, size_t *used) {
    const int c0 = bos >= 0;
    size_t seq = (size_t)m->n_ctx - (size_t)c0;
    int64_t r = (int64_t)(n / seq);
    hs_status s = matrix_reserve(m, m->rows + r);
    if (s) return s;
    for (int64_t i = 0; i < r; i++) {
        int64_t *row = m->data + (m->rows + i) * m->n_ctx;
        if (c0) row[0] = bos;
        const int32_t *src = ids + (size_t)i * seq;
        for (size_t j = 0; j < seq; j++) row[j + c0] = src[j];
    }
    m->rows += r;
    *used = (size_t)r * seq;
    return m->rows >= SPILL_ROWS ? matrix_flush(m) : HS_OK;
}

typedef struct { const char *text; size_t len; } span;

/* One batch's (TL) or group's (plain) text, read ahead while the previous one is
 * being encoded. Plain mode also records where each document starts. */
enum { GROUP_DOCS = 256, GROUP_BYTES = 4 << 20 };
typedef struct {
    char *data;
    size_t len, cap;
    int n_docs;
    size_t offs[GROUP_DOCS + 1];
    bool eof;             /* plain: the source ended while reading this group */
} textbuf;

typedef struct {
    const hs_encoder *enc;
    const hs_tokens_params *p;
    hs_tokens_stats *st;
    matrix m;
    int threads;
    hs_ids *ids;          /* per chunk / per document */
    int ids_n;
    hs_ids flat;          /* the batch's filtered ids, or the plain stream's pending ids */
    textbuf tb[2];        /* being encoded / being read */
    span *spans;
    int spans_cap;
} builder;

static hs_status buf_append(textbuf *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t nc = t->cap ? t->cap : (1u << 20);
        while (nc < t->len + n + 1) nc *= 2;
        char *nb = realloc(t->data, nc);
        if (!nb) return hs_errorf(HS_ERR_NOMEM, "out of memory (batch text of %zu bytes)", nc);
        t->data = nb;
        t->cap = nc;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
    return HS_OK;
}

/* TL: the next nb documents joined with the EOS text. */
static hs_status read_tl_batch(builder *b, hs_docs *docs, int64_t nb, textbuf *t) {
    size_t eos_len = strlen(b->enc->eos_text);
    t->len = 0;
    for (int64_t i = 0; i < nb; i++) {
        hs_doc d;
        bool eof;
        hs_status s = hs_docs_next(docs, &d, &eof);
        if (s) return s;
        if (eof) return hs_errorf(HS_ERR_IO, "dataset: fewer documents on the second pass (files changed while reading?)");
        if (i && (s = buf_append(t, b->enc->eos_text, eos_len))) return s;
        if ((s = buf_append(t, d.text, d.len))) return s;
    }
    return HS_OK;
}

/* plain: up to GROUP_DOCS documents / GROUP_BYTES bytes. */
static hs_status read_plain_group(hs_docs *docs, textbuf *t) {
    t->len = 0;
    t->n_docs = 0;
    t->offs[0] = 0;
    t->eof = false;
    while (t->n_docs < GROUP_DOCS && t->len < GROUP_BYTES) {
        hs_doc d;
        hs_status s = hs_docs_next(docs, &d, &t->eof);
        if (s) return s;
        if (t->eof) break;
        if ((s = buf_append(t, d.text, d.len))) return s;
        t->offs[++t->n_docs] = t->len;
    }
    return HS_OK;
}

/* Work one thread does while the others encode: read the next batch/group. */
typedef struct {
    builder *b;
    hs_docs *docs;
    int64_t nb;           /* TL batch size; 0 = a plain group */
    textbuf *t;
    hs_status status;
    char msg[HS_ERRMSG_MAX];
} prefetch;

static void run_prefetch(prefetch *pf) {
    pf->status = pf->nb ? read_tl_batch(pf->b, pf->docs, pf->nb, pf->t) : read_plain_group(pf->docs, pf->t);
    if (pf->status) snprintf(pf->msg, sizeof pf->msg, "%s", hs_last_error());
}

/* Encodes n_items texts into ids[i] (cleared first) as OpenMP tasks, while one
 * thread runs the prefetch (if any) and then joins in. The first encoding failure
 * (lowest index) is re-raised on the calling thread, then a prefetch failure. */
static hs_status encode_parallel(const hs_encoder *enc, const span *items, int n_items, hs_ids *ids, int threads,
                                 prefetch *pf) {
    hs_status first = HS_OK;
    int first_i = n_items;
    char msg[HS_ERRMSG_MAX] = "";
    for (int i = 0; i < n_items; i++) ids[i].len = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
#pragma omp single
    {
        for (int i = 0; i < n_items; i++) {
#pragma omp task firstprivate(i) shared(first, first_i, msg)
            {
                hs_status s = enc->encode(enc->ctx, items[i].text, items[i].len, &ids[i]);
                if (s) {
#pragma omp critical(hs_tokens_err)
                    if (i < first_i) {
                        first_i = i;
                        first = s;
                        snprintf(msg, sizeof msg, "%s", hs_last_error());
                    }
                }
            }
        }
        if (pf) run_prefetch(pf);
#pragma omp taskwait
    }
    if (first) return hs_errorf(first, "%s", msg);
    if (pf && pf->status) return hs_errorf(pf->status, "%s", pf->msg);
    return HS_OK;
}

static hs_status ensure_work(builder *b, int n) {
    if (n > b->ids_n) {
        hs_ids *ni = realloc(b->ids, (size_t)n * sizeof *ni);
        if (!ni) return hs_errorf(HS_ERR_NOMEM, "out of memory");
        memset(ni + b->ids_n, 0, (size_t)(n - b->ids_n) * sizeof *ni);
        b->ids = ni;
        b->ids_n = n;
    }
    if (n > b->spans_cap) {
        span *ns = realloc(b->spans, (size_t)n * sizeof *ns);
        if (!ns) return hs_errorf(HS_ERR_NOMEM, "out of memory");
        b->spans = ns;
        b->spans_cap = n;
    }
    return HS_OK;
}

/* One TransformerLens batch (joined text in t); pf reads the next one meanwhile. */
static hs_status tl_batch(builder *b, const textbuf *t, prefetch *pf) {
    int C = b->p->num_chunks;
    hs_status s = ensure_work(b, C);
    if (s) return s;
    const char *text = t->data ? t->data : "";
    size_t len = t->len;
    size_t L = hs_data_utf8_count(text, len);
    size_t cl = L ? (L - 1) / (size_t)C + 1 : 0;
    /* chunk i = code points [i*cl, (i+1)*cl) clamped to L, as byte ranges */
    size_t pos = 0, cp = 0;
    const unsigned char *u = (const unsigned char *)text;
    for (int i = 0; i < C; i++) {
        size_t start_cp = (size_t)i * cl, end_cp = start_cp + cl;
        if (start_cp > L) start_cp = L;
        if (end_cp > L) end_cp = L;
        while (cp < start_cp) { pos++; while (pos < len && (u[pos] & 0xC0) == 0x80) pos++; cp++; }
        size_t a = pos;
        size_t q = pos, qc = cp;
        while (qc < end_cp) { q++; while (q < len && (u[q] & 0xC0) == 0x80) q++; qc++; }
        b->spans[i].text = text + a;
        b->spans[i].len = q - a;
        pos = q;
        cp = qc;
    }
    if ((s = encode_parallel(b->enc, b->spans, C, b->ids, b->threads, pf))) return s;
    b->flat.len = 0;
    for (int i = 0; i < C; i++) {
        hs_ids *c = &b->ids[i];
        b->st->tokens += (int64_t)c->len;
        size_t k = 0;
        for (size_t j = 0; j < c->len; j++)
            if (c->data[j] != b->enc->pad_id) c->data[k++] = c->data[j];
        b->st->pad_removed += (int64_t)(c->len - k);
        if ((s = hs_data_ids_append(&b->flat, c->data, k))) return s;
    }
    size_t used;
    if ((s = emit_rows(&b->m, b->enc->bos_id, b->flat.data, b->flat.len, &used))) return s;
    b->st->tail_dropped += (int64_t)(b->flat.len - used);
    b->st->batches++;
    return HS_OK;
}

static int progress(builder *b, int64_t done, int64_t total) {
    return b->p->progress ? b->p->progress(done, total, b->p->progress_user) : 0;
}

static hs_status build_tl(builder *b, hs_docs *docs, int64_t n_docs) {
    const hs_tokens_params *p = b->p;
    if (n_docs == 0) return HS_OK;
    /* batch sizes: num_proc contiguous shards (datasets lowers num_proc to the
     * document count), each cut into batches of batch_size */
    int64_t nproc = p->num_proc < n_docs ? p->num_proc : n_docs;
    int64_t div = n_docs / nproc, mod = n_docs % nproc;
    int64_t nbatches = 0, cap = nproc + n_docs / p->batch_size + 1;
    int64_t *sizes = hs_malloc((size_t)cap * sizeof *sizes);
    if (!sizes) return HS_ERR_NOMEM;
    for (int64_t k = 0; k < nproc; k++) {
        int64_t shard_len = div + (k < mod ? 1 : 0);
        for (int64_t off = 0; off < shard_len; off += p->batch_size)
            sizes[nbatches++] = shard_len - off < p->batch_size ? shard_len - off : p->batch_size;
    }
    int64_t done = 0;
    hs_status s = read_tl_batch(b, docs, sizes[0], &b->tb[0]);
    for (int64_t k = 0; k < nbatches && !s; k++) {
        prefetch pf = {b, docs, k + 1 < nbatches ? sizes[k + 1] : 0, &b->tb[(k + 1) % 2], HS_OK, ""};
        s = tl_batch(b, &b->tb[k % 2], k + 1 < nbatches ? &pf : NULL);
        done += sizes[k];
        if (!s && progress(b, done, n_docs)) s = hs_errorf(HS_ERR_CANCELLED, "tokens: cancelled");
    }
    free(sizes);
    return s;
}

/* Plain mode: documents encoded whole in groups, joined with EOS in order. */
static hs_status build_plain(builder *b, hs_docs *docs, int64_t n_docs) {
    hs_status s = ensure_work(b, GROUP_DOCS);
    if (s) return s;
    int64_t done = 0;
    b->flat.len = 0;
    s = read_plain_group(docs, &b->tb[0]);
    for (int k = 0; !s && b->tb[k % 2].n_docs > 0; k++) {
        textbuf *t = &b->tb[k % 2];
        int n = t->n_docs;
        for (int i = 0; i < n; i++) { b->spans[i].text = t->data + t->offs[i]; b->spans[i].len = t->offs[i + 1] - t->offs[i]; }
        prefetch pf = {b, docs, 0, &b->tb[(k + 1) % 2], HS_OK, ""};
        if (t->eof) b->tb[(k + 1) % 2].n_docs = 0;
        if ((s = encode_parallel(b->enc, b->spans, n, b->ids, b->threads, t->eof ? NULL : &pf))) break;
        for (int i = 0; i < n && !s; i++) {
            if (done + i > 0) s = hs_data_ids_append(&b->flat, &b->enc->eos_id, 1);
            if (!s) s = hs_data_ids_append(&b->flat, b->ids[i].data, b->ids[i].len);
            b->st->tokens += (int64_t)b->ids[i].len;
        }
        size_t used = 0;
        if (!s) s = emit_rows(&b->m, b->enc->bos_id, b->flat.data, b->flat.len, &used);
        if (!s) {
            memmove(b->flat.data, b->flat.data + used, (b->flat.len - used) * sizeof *b->flat.data);
            b->flat.len -= used;
        }
        done += n;
        if (!s && progress(b, done, n_docs)) s = hs_errorf(HS_ERR_CANCELLED, "tokens: cancelled");
    }
    if (!s) b->st->tail_dropped += (int64_t)b->flat.len;
    return s;
}

/* rows[r] <- rows[perm[r]] in place, following the permutation's cycles. */
static hs_status permute_rows(int64_t *data, int64_t rows, int n_ctx, const int64_t *perm) {
    uint8_t *seen = hs_calloc((size_t)rows, 1);
    int64_t *tmp = hs_malloc((size_t)n_ctx * sizeof *tmp);
    if (!seen || !tmp) { free(seen); free(tmp); return HS_ERR_NOMEM; }
    size_t rb = (size_t)n_ctx * sizeof *data;
    for (int64_t r = 0; r < rows; r++) {
        if (seen[r]) continue;
        memcpy(tmp, data + r * n_ctx, rb);
        int64_t j = r;
        for (;;) {
            seen[j] = 1;
            int64_t k = perm[j];
            if (k == r) { memcpy(data + j * n_ctx, tmp, rb); break; }
            memcpy(data + j * n_ctx, data + k * n_ctx, rb);
            j = k;
        }
    }
    free(seen);
    free(tmp);
    return HS_OK;
}

/* The spilled rows as the .npy at `path` (through af, committed by the caller): row r of
 * the result is unshuffled row perm[r] (datasets' Dataset.shuffle), read back with pread. */
static hs_status write_spilled(matrix *m, const hs_tokens_params *p, const char *path, hs_atomic_file *af) {
    const int64_t rows = m->spilled;
    const size_t rb = sizeof(int64_t) * (size_t)p->n_ctx;
    if (fflush(m->spill) != 0) return hs_errorf(HS_ERR_IO, "tokens: writing the unshuffled rows failed (disk full?)");
    int64_t *perm = NULL;
    hs_status s = HS_OK;
    if (p->shuffle && rows > 1) {
        perm = hs_malloc((size_t)rows * sizeof *perm);
        if (!perm) return HS_ERR_NOMEM;
        if ((s = hs_shuffle_permutation(p->seed, rows, perm))) { free(perm); return s; }
    }
    char hdr[256];
    size_t hlen;
    const int64_t shape[2] = {rows, p->n_ctx};
    if (!s) s = hs_npy_header(path, HS_I64, 2, shape, hdr, sizeof hdr, &hlen);
    if (!s) s = hs_atomic_open(path, af);
    if (!s && fwrite(hdr, 1, hlen, af->fp) != hlen) s = hs_errorf(HS_ERR_IO, "%s: write failed (disk full?)", path);
    int64_t *row = s ? NULL : hs_malloc(rb);
    if (!s && !row) s = HS_ERR_NOMEM;
    const int fd = fileno(m->spill);
    for (int64_t r = 0; r < rows && !s; r++) {
        const int64_t src = perm ? perm[r] : r;
        if (pread(fd, row, rb, (off_t)src * (off_t)rb) != (ssize_t)rb)
            s = hs_errorf(HS_ERR_IO, "tokens: reading back row %lld of the temporary file failed", (long long)src);
        else if (fwrite(row, 1, rb, af->fp) != rb)
            s = hs_errorf(HS_ERR_IO, "%s: write failed (disk full?)", path);
    }
    free(row);
    free(perm);
    if (s && af->tmp) { hs_atomic_abort(af); memset(af, 0, sizeof *af); }
    return s;
}

/* The matrix into *out (npy_path NULL), or, with npy_path, straight into that .npy file:
 * full rows go to an unshuffled temporary file as they are made and are then written in
 * shuffled order, so memory does not grow with the rows (only the permutation does). */
static hs_status build_core(const hs_encoder *enc, hs_docs *docs, const hs_tokens_params *params,
                            hs_array *out, const char *npy_path, hs_tokens_stats *stats) {
    if (out) memset(out, 0, sizeof *out);
    hs_tokens_params p = params ? *params : hs_tokens_default_params();
    hs_tokens_stats st_local;
    hs_tokens_stats *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    if (p.n_ctx < 2) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: n_ctx must be at least 2 (got %d)", p.n_ctx);
    if (p.mode != HS_TOKENS_TRANSFORMERLENS && p.mode != HS_TOKENS_PLAIN)
        return hs_errorf(HS_ERR_INVALID_ARG, "tokens: unknown mode %d", (int)p.mode);
    if (p.num_proc < 1 || p.batch_size < 1 || p.num_chunks < 1)
        return hs_errorf(HS_ERR_INVALID_ARG, "tokens: num_proc, batch_size and num_chunks must be >= 1");
    builder b;
    memset(&b, 0, sizeof b);
    b.enc = enc;
    b.p = &p;
    b.st = st;
    b.m.n_ctx = p.n_ctx;
    b.threads = p.threads > 0 ? p.threads : hs_get_num_threads();
    if (b.threads < 1) b.threads = 1;

    /* pass 1: count the documents (the shard layout depends on the count) */
    hs_status s = hs_docs_rewind(docs);
    int64_t n_docs = 0;
    for (bool eof = false; !s && !eof;) {
        hs_doc d;
        s = hs_docs_next(docs, &d, &eof);
        if (!s && !eof) n_docs++;
    }
    hs_docs_stats ds = hs_docs_get_stats(docs);
    hs_atomic_file af = {0};
    char *spill_path = NULL;
    if (!s && npy_path) {   /* the unshuffled rows, beside the output (removed at the end) */
        spill_path = hs_malloc(strlen(npy_path) + 32);
        if (!spill_path) s = HS_ERR_NOMEM;
        else {
            sprintf(spill_path, "%s.rows.%ld.tmp", npy_path, (long)getpid());
            b.m.spill = fopen(spill_path, "w+b");
            if (!b.m.spill) s = hs_errorf(HS_ERR_IO, "%s: cannot create: %s", spill_path, strerror(errno));
            else hs_temp_register(spill_path);
        }
    }
    /* a guess at the final size (~3 bytes per token) so the matrix rarely moves */
    if (!s && !npy_path) s = matrix_reserve(&b.m, ds.bytes / 3 / (p.n_ctx - 1) + 1);
    if (!s) s = hs_docs_rewind(docs);
    if (!s && progress(&b, 0, n_docs)) s = hs_errorf(HS_ERR_CANCELLED, "tokens: cancelled");
    if (!s) s = p.mode == HS_TOKENS_TRANSFORMERLENS ? build_tl(&b, docs, n_docs) : build_plain(&b, docs, n_docs);
    ds = hs_docs_get_stats(docs);
    st->docs = ds.docs;
    st->nulls = ds.nulls;
    if (!s) s = matrix_flush(&b.m);
    st->rows = b.m.spilled + b.m.rows;
    if (!s && npy_path) s = write_spilled(&b.m, &p, npy_path, &af);
    if (b.m.spill) { fclose(b.m.spill); unlink(spill_path); hs_temp_unregister(spill_path); }
    free(spill_path);
    if (npy_path) {
        for (int i = 0; i < b.ids_n; i++) free(b.ids[i].data);
        free(b.ids); free(b.spans); free(b.flat.data); free(b.tb[0].data); free(b.tb[1].data); free(b.m.data);
        if (!s) s = hs_atomic_commit(&af);
        else if (af.tmp) hs_atomic_abort(&af);
        return s;
    }
    if (!s && p.shuffle && b.m.rows > 1) {
        int64_t *perm = hs_malloc((size_t)b.m.rows * sizeof *perm);
        if (!perm) s = HS_ERR_NOMEM;
        if (!s) s = hs_shuffle_permutation(p.seed, b.m.rows, perm);
        if (!s) s = permute_rows(b.m.data, b.m.rows, p.n_ctx, perm);
        free(perm);
    }
    for (int i = 0; i < b.ids_n; i++) free(b.ids[i].data);
    free(b.ids);
    free(b.spans);
    free(b.flat.data);
    free(b.tb[0].data);
    free(b.tb[1].data);
    if (s) { free(b.m.data); return s; }
    out->dtype = HS_I64;
    out->ndim = 2;
    out->shape[0] = b.m.rows;
    out->shape[1] = p.n_ctx;
    if (b.m.rows == 0) { free(b.m.data); b.m.data = hs_malloc(1); if (!b.m.data) return HS_ERR_NOMEM; }
    else {
        int64_t *shrunk = realloc(b.m.data, (size_t)b.m.rows * (size_t)p.n_ctx * sizeof(int64_t));
        if (shrunk) b.m.data = shrunk;
    }
    out->data = b.m.data;
    return HS_OK;
}

hs_status hs_tokens_build_with(const hs_encoder *enc, hs_docs *docs, const hs_tokens_params *params,
                               hs_array *out, hs_tokens_stats *stats) {
    if (!out) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: no output array");
    return build_core(enc, docs, params, out, NULL, stats);
}

hs_status hs_tokens_build_with_npy(const hs_encoder *enc, hs_docs *docs, const hs_tokens_params *params,
                                   const char *path, hs_tokens_stats *stats) {
    if (!path) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: no output path");
    return build_core(enc, docs, params, NULL, path, stats);
}

hs_status hs_tokens_load(const char *path, hs_array *out) {
    hs_array a;
    hs_status s = hs_npy_read(path, &a);
    memset(out, 0, sizeof *out);
    if (s) return s;
    if (a.ndim != 2 || (a.dtype != HS_I64 && a.dtype != HS_I32)) {
        hs_array_free(&a);
        return hs_errorf(HS_ERR_FORMAT, "%s: a token matrix must be a 2-D int64 (or int32) array", path);
    }
    if (a.dtype == HS_I32) {
        int64_t n = hs_array_numel(&a);
        int64_t *w = hs_malloc((size_t)(n ? n : 1) * sizeof *w);
        if (!w) { hs_array_free(&a); return HS_ERR_NOMEM; }
        for (int64_t i = 0; i < n; i++) w[i] = ((const int32_t *)a.data)[i];
        free(a.data);
        a.data = w;
        a.dtype = HS_I64;
    }
    *out = a;
    return HS_OK;
}
