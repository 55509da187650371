/* docs.c — document sources: JSONL, plain text and Parquet files, a directory of
 * them or a glob, streamed one document at a time (see headscan/data.h).
 *
 * JSONL and text files are read through zlib's gzread, which reads plain files
 * transparently and .gz files decompressed, or through libzstd's streaming
 * decompressor for .zst files (The Pile's own format is .jsonl.zst). Lines are read into a buffer that
 * grows as needed, so a single huge line is fine (memory = that line). Every
 * document is checked to be UTF-8 (or repaired, on request) here, once, so that
 * the token builder can count code points. */
#define _GNU_SOURCE
#include "data/data_internal.h"
#include "data/jsonl.h"
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "data/parquet.h"

#define READ_CHUNK (1u << 20)

struct hs_docs {
    hs_docs_params p;
    char *field;
    char **files;
    hs_doc_format *fmt;
    int nfiles;
    hs_docs_stats *fstats;      /* per file, last complete pass */
    hs_docs_stats *fcur;        /* per file, this pass */
    hs_docs_stats st;
    int cur;                    /* file being read; -1 before the first */
    bool open;                  /* cur's reader is open */
    hs_status failed;
    char failmsg[HS_ERRMSG_MAX];
    int64_t index;
    /* JSONL / text */
    gzFile gz;
    FILE *zf;                   /* .zst: the compressed file, its decoder and input buffer */
    ZSTD_DCtx *zd;
    unsigned char *zin;
    ZSTD_inBuffer zib;
    size_t zret;                /* last ZSTD_decompressStream result: 0 = at a frame end */
    char *lb;                   /* line buffer: bytes [lb_pos, lb_end) not consumed yet */
    size_t lb_cap, lb_pos, lb_end;
    bool lb_eof;
    int64_t line;               /* 0-based number of the next line */
    bool whole_done;            /* per-file text: the document was returned */
    hs_strbuf val, key;         /* JSON field value, key scratch */
    char *rep;                  /* UTF-8 replacement output */
    hs_parquet *pq;
    hs_pq_reader *pqr;
};

hs_docs_params hs_docs_default_params(void) {
    hs_docs_params p = {"text", HS_NULLS_SKIP, HS_TEXT_PER_FILE, HS_FORMAT_AUTO, HS_UTF8_STRICT};
    return p;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Format from the extension; HS_FORMAT_AUTO when unknown. */
static hs_doc_format format_by_name(const char *path) {
    static const struct { const char *ext; hs_doc_format f; } map[] = {
        {".jsonl", HS_FORMAT_JSONL}, {".ndjson", HS_FORMAT_JSONL}, {".json", HS_FORMAT_JSONL},
        {".jsonl.gz", HS_FORMAT_JSONL}, {".ndjson.gz", HS_FORMAT_JSONL}, {".json.gz", HS_FORMAT_JSONL},
        {".jsonl.zst", HS_FORMAT_JSONL}, {".ndjson.zst", HS_FORMAT_JSONL}, {".json.zst", HS_FORMAT_JSONL},
        {".txt", HS_FORMAT_TEXT}, {".text", HS_FORMAT_TEXT}, {".txt.gz", HS_FORMAT_TEXT}, {".txt.zst", HS_FORMAT_TEXT},
        {".parquet", HS_FORMAT_PARQUET}, {".pq", HS_FORMAT_PARQUET},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (ends_with(path, map[i].ext)) return map[i].f;
    return HS_FORMAT_AUTO;
}

/* Unknown extension: Parquet by its magic, JSONL when the first non-blank byte is
 * '{', otherwise text. */
static hs_doc_format format_by_content(const char *path) {
    unsigned char b[4096];
    FILE *f = fopen(path, "rb");
    if (!f) return HS_FORMAT_TEXT;  /* the open error is reported when reading */
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 4 && memcmp(b, "PAR1", 4) == 0) return HS_FORMAT_PARQUET;
    size_t i = 0;
    if (n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
    return (i < n && b[i] == '{') ? HS_FORMAT_JSONL : HS_FORMAT_TEXT;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static hs_status add_file(hs_docs *d, size_t *cap, const char *path) {
    if ((size_t)d->nfiles == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nf = realloc(d->files, nc * sizeof *nf);
        if (!nf) return hs_errorf(HS_ERR_NOMEM, "out of memory listing files");
        d->files = nf;
        *cap = nc;
    }
    char *c = hs_strdup(path);
    if (!c) return HS_ERR_NOMEM;
    d->files[d->nfiles++] = c;
    return HS_OK;
}

/* A directory's dataset files (not recursive). Plain .json files are left out here
 * (an HF dataset folder holds dataset_infos.json beside its data); name them
 * explicitly to read them as JSONL. */
static hs_status list_dir(hs_docs *d, const char *path, size_t *cap) {
    DIR *dir = opendir(path);
    if (!dir) return hs_errorf(HS_ERR_IO, "%s: cannot list: %s", path, strerror(errno));
    struct dirent *e;
    hs_status s = HS_OK;
    while (!s && (e = readdir(dir))) {
        if (e->d_name[0] == '.' || (d->p.format == HS_FORMAT_AUTO && ends_with(e->d_name, ".json"))) continue;
        char *full = hs_path_join(path, e->d_name);
        if (!full) { s = HS_ERR_NOMEM; break; }
        struct stat fs;
        if (stat(full, &fs) == 0 && S_ISREG(fs.st_mode) &&
            (d->p.format != HS_FORMAT_AUTO || format_by_name(full) != HS_FORMAT_AUTO))
            s = add_file(d, cap, full);
        free(full);
    }
    closedir(dir);
    return s;
}

static hs_status list_files(hs_docs *d, const char *path) {
    size_t cap = 0;
    struct stat st;
    hs_status s = HS_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        s = list_dir(d, path, &cap);
        /* the HuggingFace dataset layout: files under data/ */
        char *sub = s || d->nfiles ? NULL : hs_path_join(path, "data");
        if (sub && stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) s = list_dir(d, sub, &cap);
        free(sub);
        if (!s && d->nfiles == 0)
            s = hs_errorf(HS_ERR_NOT_FOUND, "%s: no dataset files in this directory or its data/ folder "
                          "(.jsonl .ndjson .txt .text .parquet, optionally .gz/.zst for JSONL/text)", path);
    } else if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return hs_errorf(HS_ERR_IO, "%s: not a regular file or directory", path);
        s = add_file(d, &cap, path);
    } else if (strpbrk(path, "*?[")) {
        glob_t g;
        int r = glob(path, 0, NULL, &g);
        if (r == GLOB_NOMATCH || r == GLOB_ABORTED) return hs_errorf(HS_ERR_NOT_FOUND, "%s: no file matches this pattern", path);
        if (r != 0) return hs_errorf(HS_ERR_IO, "%s: cannot expand the pattern", path);
        for (size_t i = 0; !s && i < g.gl_pathc; i++) {
            struct stat fs;
            if (stat(g.gl_pathv[i], &fs) == 0 && S_ISREG(fs.st_mode)) s = add_file(d, &cap, g.gl_pathv[i]);
        }
        globfree(&g);
        if (!s && d->nfiles == 0) s = hs_errorf(HS_ERR_NOT_FOUND, "%s: the pattern matches no regular file", path);
    } else {
        return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (s) return s;
    qsort(d->files, (size_t)d->nfiles, sizeof *d->files, cmp_str);
    return HS_OK;
}

/* An explicit list of files, in the order given (each must be a regular file). */
static hs_status list_given(hs_docs *d, const char *const *paths, size_t n) {
    size_t cap = 0;
    struct stat st;
    if (!n) return hs_errorf(HS_ERR_INVALID_ARG, "dataset: no files given");
    for (size_t i = 0; i < n; i++) {
        if (stat(paths[i], &st) != 0) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", paths[i], strerror(errno));
        if (!S_ISREG(st.st_mode)) return hs_errorf(HS_ERR_IO, "%s: not a regular file", paths[i]);
        hs_status s = add_file(d, &cap, paths[i]);
        if (s) return s;
    }
    return HS_OK;
}

static hs_status docs_open(const char *path, const char *const *paths, size_t n, const hs_docs_params *params, hs_docs **out) {
    *out = NULL;
    if (!paths && (!path || !*path)) return hs_errorf(HS_ERR_INVALID_ARG, "dataset: no path given");
    hs_docs *d = hs_calloc(1, sizeof *d);
    if (!d) return HS_ERR_NOMEM;
    d->p = params ? *params : hs_docs_default_params();
    d->field = hs_strdup(d->p.field && *d->p.field ? d->p.field : "text");
    d->p.field = d->field;
    d->cur = -1;
    hs_status s = d->field ? HS_OK : HS_ERR_NOMEM;
    if (!s && (d->p.nulls != HS_NULLS_SKIP && d->p.nulls != HS_NULLS_ERROR))
        s = hs_errorf(HS_ERR_INVALID_ARG, "dataset: bad null policy %d", (int)d->p.nulls);
    if (!s) s = paths ? list_given(d, paths, n) : list_files(d, path);
    if (!s) {
        d->fmt = hs_calloc((size_t)d->nfiles, sizeof *d->fmt);
        d->fstats = hs_calloc((size_t)d->nfiles, sizeof *d->fstats);
        d->fcur = hs_calloc((size_t)d->nfiles, sizeof *d->fcur);
        if (!d->fmt || !d->fstats || !d->fcur) s = HS_ERR_NOMEM;
    }
    for (int i = 0; !s && i < d->nfiles; i++) {
        hs_doc_format f = d->p.format;
        if (f == HS_FORMAT_AUTO) f = format_by_name(d->files[i]);
        if (f == HS_FORMAT_AUTO) f = format_by_content(d->files[i]);
        d->fmt[i] = f;
    }
    if (s) { hs_docs_close(d); return s; }
    d->st.files = d->nfiles;
    *out = d;
    return HS_OK;
}

hs_status hs_docs_open(const char *path, const hs_docs_params *params, hs_docs **out) {
    return docs_open(path, NULL, 0, params, out);
}

hs_status hs_docs_open_files(const char *const *paths, size_t n, const hs_docs_params *params, hs_docs **out) {
    return docs_open(NULL, paths, n, params, out);
}

static void close_current(hs_docs *d) {
    if (d->gz) { gzclose(d->gz); d->gz = NULL; }
    if (d->zf) { fclose(d->zf); d->zf = NULL; }
    if (d->pqr) { hs_parquet_reader_free(d->pqr); d->pqr = NULL; }
    if (d->pq) { hs_parquet_close(d->pq); d->pq = NULL; }
    d->open = false;
}

void hs_docs_close(hs_docs *d) {
    if (!d) return;
    close_current(d);
    for (int i = 0; i < d->nfiles; i++) free(d->files[i]);
    free(d->files);
    free(d->fmt);
    free(d->fstats);
    free(d->fcur);
    free(d->field);
    free(d->lb);
    free(d->val.data);
    free(d->key.data);
    free(d->rep);
    ZSTD_freeDCtx(d->zd);
    free(d->zin);
    free(d);
}

hs_status hs_docs_rewind(hs_docs *d) {
    close_current(d);
    d->cur = -1;
    d->failed = HS_OK;
    d->index = 0;
    d->st.docs = d->st.nulls = d->st.bytes = 0;
    memset(d->fcur, 0, (size_t)d->nfiles * sizeof *d->fcur);
    return HS_OK;
}

hs_docs_stats hs_docs_get_stats(const hs_docs *d) { return d->st; }
hs_docs_params hs_docs_get_params(const hs_docs *d) { return d->p; }
int hs_docs_num_files(const hs_docs *d) { return d->nfiles; }
const char *hs_docs_file(const hs_docs *d, int i) { return (i >= 0 && i < d->nfiles) ? d->files[i] : NULL; }
hs_docs_stats hs_docs_file_stats(const hs_docs *d, int i) {
    hs_docs_stats z = {0, 0, 0, 0};
    return (i >= 0 && i < d->nfiles) ? d->fstats[i] : z;
}

static hs_status open_current(hs_docs *d) {
    const char *path = d->files[d->cur];
    d->line = 0;
    d->lb_pos = d->lb_end = 0;
    d->lb_eof = false;
    d->whole_done = false;
    if (d->fmt[d->cur] == HS_FORMAT_PARQUET) {
        hs_status s = hs_parquet_open(path, &d->pq);
        int col = 0;
        if (!s) s = hs_parquet_text_column(d->pq, d->field, &col);
        if (!s) s = hs_parquet_reader_open(d->pq, col, HS_PQ_NULLS_RETURN, &d->pqr);
        if (s) { close_current(d); return s; }
        d->open = true;
        return HS_OK;
    }
    if (ends_with(path, ".zst") || ends_with(path, ".zstd")) {
        if (!d->zd && !(d->zd = ZSTD_createDCtx())) return hs_errorf(HS_ERR_NOMEM, "%s: cannot create a zstd decoder", path);
        if (!d->zin && !(d->zin = hs_malloc(ZSTD_DStreamInSize()))) return HS_ERR_NOMEM;
        ZSTD_DCtx_reset(d->zd, ZSTD_reset_session_only);
        d->zf = fopen(path, "rb");
        if (!d->zf) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        d->zib.src = d->zin;
        d->zib.size = d->zib.pos = 0;
        d->zret = 0;
        d->open = true;
        return HS_OK;
    }
    d->gz = gzopen(path, "rb");
    if (!d->gz) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    gzbuffer(d->gz, 1u << 17);
    d->open = true;
    return HS_OK;
}

/* Reads more bytes into the line buffer (compacting/growing it). */
static hs_status fill(hs_docs *d) {
    if (d->lb_pos > 0 && d->lb_pos == d->lb_end) d->lb_pos = d->lb_end = 0;
    if (d->lb_pos > 0 && d->lb_end - d->lb_pos < d->lb_cap / 2) {
        memmove(d->lb, d->lb + d->lb_pos, d->lb_end - d->lb_pos);
        d->lb_end -= d->lb_pos;
        d->lb_pos = 0;
    }
    if (d->lb_cap - d->lb_end < READ_CHUNK) {
        size_t nc = d->lb_cap ? d->lb_cap : READ_CHUNK * 2;
        while (nc - d->lb_end < READ_CHUNK) {
            if (nc > SIZE_MAX / 2) return hs_errorf(HS_ERR_NOMEM, "%s: line too long", d->files[d->cur]);
            nc *= 2;
        }
        char *nb = realloc(d->lb, nc);
        if (!nb) return hs_errorf(HS_ERR_NOMEM, "%s: out of memory (line of %zu bytes)", d->files[d->cur], d->lb_end - d->lb_pos);
        d->lb = nb;
        d->lb_cap = nc;
    }
    long r;
    if (d->zf) {
        /* decompress until some output, or the input ends */
        ZSTD_outBuffer ob = {d->lb + d->lb_end, READ_CHUNK, 0};
        while (ob.pos == 0) {
            if (d->zib.pos == d->zib.size) {
                d->zib.size = fread(d->zin, 1, ZSTD_DStreamInSize(), d->zf);
                d->zib.pos = 0;
                if (d->zib.size == 0) {
                    if (ferror(d->zf)) return hs_errorf(HS_ERR_IO, "%s: read failed", d->files[d->cur]);
                    if (d->zret != 0) return hs_errorf(HS_ERR_FORMAT, "%s: truncated zstd stream", d->files[d->cur]);
                    break;
                }
            }
            d->zret = ZSTD_decompressStream(d->zd, &ob, &d->zib);
            if (ZSTD_isError(d->zret))
                return hs_errorf(HS_ERR_FORMAT, "%s: zstd: %s", d->files[d->cur], ZSTD_getErrorName(d->zret));
        }
        r = (long)ob.pos;
    } else {
        r = gzread(d->gz, d->lb + d->lb_end, READ_CHUNK);
    }
    if (r < 0) {
        int e;
        const char *m = gzerror(d->gz, &e);
        return hs_errorf(HS_ERR_IO, "%s: read failed: %s", d->files[d->cur], e == Z_ERRNO ? strerror(errno) : m);
    }
    if (r == 0) d->lb_eof = true;
    d->lb_end += (size_t)r;
    return HS_OK;
}

/* Next line without its '\n'. *got = false at the end of the file. */
static hs_status next_line(hs_docs *d, char **line, size_t *len, bool *got) {
    size_t scanned = d->lb_pos;
    for (;;) {
        char *nl = d->lb_end > scanned ? memchr(d->lb + scanned, '\n', d->lb_end - scanned) : NULL;
        if (nl) {
            *line = d->lb + d->lb_pos;
            *len = (size_t)(nl - *line);
            d->lb_pos += *len + 1;
            *got = true;
            return HS_OK;
        }
        if (d->lb_eof) {
            *got = d->lb_end > d->lb_pos;
            *line = d->lb + d->lb_pos;
            *len = d->lb_end - d->lb_pos;
            d->lb_pos = d->lb_end;
            return HS_OK;
        }
        size_t off = d->lb_end - d->lb_pos;
        hs_status s = fill(d);
        if (s) return s;
        scanned = d->lb_pos + off;
    }
}

/* "line N" (1-based) for line formats, "row N" (0-based) for Parquet, "the file"
 * for per-file text: how messages point at a document. */
static const char *where(const hs_docs *d, int64_t row, char *buf, size_t cap) {
    if (d->fmt[d->cur] == HS_FORMAT_PARQUET) snprintf(buf, cap, "row %lld", (long long)row);
    else if (d->fmt[d->cur] == HS_FORMAT_TEXT && d->p.text_mode == HS_TEXT_PER_FILE) snprintf(buf, cap, "the file");
    else snprintf(buf, cap, "line %lld", (long long)row + 1);
    return buf;
}

/* Validates (or repairs) UTF-8 and fills *doc. */
static hs_status finish_doc(hs_docs *d, const char *text, size_t len, int64_t row, hs_doc *doc) {
    size_t bad = hs_utf8_validate(text, len);
    if (bad < len) {
        char w[48];
        if (d->p.utf8 != HS_UTF8_REPLACE)
            return hs_errorf(HS_ERR_FORMAT, "%s: %s: invalid UTF-8 at byte %zu of the text "
                             "(use the replace option to substitute U+FFFD)", d->files[d->cur],
                             where(d, row, w, sizeof w), bad);
        free(d->rep);
        d->rep = NULL;
        hs_status s = hs_utf8_replace_invalid(text, len, &d->rep, &len);
        if (s) return s;
        text = d->rep;
    }
    doc->text = text;
    doc->len = len;
    doc->file = d->files[d->cur];
    doc->row = row;
    doc->index = d->index++;
    d->st.docs++;
    d->st.bytes += (int64_t)len;
    d->fcur[d->cur].docs++;
    d->fcur[d->cur].bytes += (int64_t)len;
    return HS_OK;
}

static hs_status null_doc(hs_docs *d, int64_t row, const char *why) {
    char w[48];
    if (d->p.nulls == HS_NULLS_ERROR)
        return hs_errorf(HS_ERR_FORMAT, "%s: %s: \"%s\" is null (nulls are rejected)", d->files[d->cur],
                         where(d, row, w, sizeof w), why);
    d->st.nulls++;
    d->fcur[d->cur].nulls++;
    return HS_OK;
}

/* One document from the current file; *got = false when the file is exhausted. */
static hs_status next_in_file(hs_docs *d, hs_doc *doc, bool *got) {
    const char *path = d->files[d->cur];
    *got = false;
    switch (d->fmt[d->cur]) {
    case HS_FORMAT_PARQUET: {
        for (;;) {
            hs_pq_value v;
            bool eof;
            hs_status s = hs_parquet_reader_next(d->pqr, &v, &eof);
            if (s || eof) return s;
            if (v.is_null) {
                if ((s = null_doc(d, v.row, d->field))) return s;
                continue;
            }
            *got = true;
            return finish_doc(d, v.data ? v.data : "", v.len, v.row, doc);
        }
    }
    case HS_FORMAT_TEXT:
        if (d->p.text_mode == HS_TEXT_PER_FILE) {
            if (d->whole_done) return HS_OK;
            while (!d->lb_eof) {
                hs_status s = fill(d);
                if (s) return s;
            }
            d->whole_done = true;
            *got = true;
            return finish_doc(d, d->lb + d->lb_pos, d->lb_end - d->lb_pos, 0, doc);
        } else {
            char *line;
            size_t len;
            hs_status s = next_line(d, &line, &len, got);
            if (s || !*got) return s;
            if (len && line[len - 1] == '\r') len--;
            return finish_doc(d, line, len, d->line++, doc);
        }
    case HS_FORMAT_JSONL:
    default:
        for (;;) {
            char *line;
            size_t len;
            bool have;
            hs_status s = next_line(d, &line, &len, &have);
            if (s || !have) return s;
            int64_t row = d->line++;
            if (row == 0 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { line += 3; len -= 3; }
            size_t k = 0;
            while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
            if (k == len) continue;  /* blank line */
            hs_json_kind kind;
            const char *what;
            size_t col = 0;
            s = hs_jsonl_field(line, len, d->field, strlen(d->field), &d->val, &d->key, &kind, &what, &col);
            if (s == HS_ERR_NOMEM) return hs_errorf(s, "%s: line %lld: out of memory", path, (long long)row + 1);
            if (s) return hs_errorf(s, "%s: line %lld: invalid JSON: %s (at byte %zu)", path, (long long)row + 1, what, col);
            if (kind == HS_JSON_MISSING)
                return hs_errorf(HS_ERR_FORMAT, "%s: line %lld: no field \"%s\"", path, (long long)row + 1, d->field);
            if (kind == HS_JSON_OTHER)
                return hs_errorf(HS_ERR_FORMAT, "%s: line %lld: field \"%s\" is %s, not a string", path,
                                 (long long)row + 1, d->field, what);
            if (kind == HS_JSON_NULL) {
                if ((s = null_doc(d, row, d->field))) return s;
                continue;
            }
            *got = true;
            return finish_doc(d, d->val.data ? d->val.data : "", d->val.len, row, doc);
        }
    }
}

hs_status hs_docs_next(hs_docs *d, hs_doc *doc, bool *eof) {
    *eof = false;
    memset(doc, 0, sizeof *doc);
    if (d->failed) return hs_errorf(d->failed, "%s", d->failmsg);
    hs_status s = HS_OK;
    for (;;) {
        if (!d->open) {
            if (d->cur >= 0 && d->cur < d->nfiles) d->fstats[d->cur] = d->fcur[d->cur];
            if (d->cur + 1 >= d->nfiles) { d->cur = d->nfiles; *eof = true; return HS_OK; }
            d->cur++;
            if ((s = open_current(d))) break;
        }
        bool got;
        if ((s = next_in_file(d, doc, &got))) break;
        if (got) return HS_OK;
        close_current(d);
    }
    d->failed = s;
    snprintf(d->failmsg, sizeof d->failmsg, "%s", hs_last_error());
    close_current(d);
    return s;
}
