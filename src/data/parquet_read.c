/* parquet_read.c — streaming values of one flat column: column chunks → pages →
 * decompression → definition levels → values (PLAIN, dictionary, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY). Nothing is materialised per value: levels, dictionary indices and
 * delta lengths are decoded one at a time from the page. */
#include "data/parquet_impl.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <snappy-c.h>
#include <zstd.h>
#include <lz4.h>
#include <lz4frame.h>
#include <brotli/decode.h>

enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICT = 2, PAGE_DATA_V2 = 3 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_BIT_PACKED = 4, ENC_DELTA_BINARY = 5,
       ENC_DELTA_LENGTH = 6, ENC_DELTA_BYTE_ARRAY = 7, ENC_RLE_DICT = 8 };
enum { CODEC_NONE = 0, CODEC_SNAPPY, CODEC_GZIP, CODEC_LZO, CODEC_BROTLI, CODEC_LZ4, CODEC_ZSTD, CODEC_LZ4_RAW };

static const char *codec_name(int c) {
    static const char *n[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW" };
    return c >= 0 && c <= 7 ? n[c] : "unknown";
}

/* ---- RLE / bit-packed hybrid (definition levels, dictionary indices) ---------- */

typedef struct hybrid {
    const uint8_t *p, *end;       /* runs not yet started */
    int width;                    /* 0..32 bits */
    uint32_t rle_left, rle_val;
    uint32_t bp_left, bp_idx;     /* values left / next index in the current bit-packed run */
    const uint8_t *bp, *bp_end;
} hybrid;

static void hybrid_init(hybrid *h, const uint8_t *p, const uint8_t *end, int width) {
    memset(h, 0, sizeof *h);
    h->p = p;
    h->end = end;
    h->width = width;
}

static inline uint64_t load_le(const uint8_t *p, const uint8_t *end, size_t nbytes) {
    uint64_t v = 0;
    if ((size_t)(end - p) >= 8) {
        memcpy(&v, p, 8);   /* little-endian hosts only (x86-64, aarch64) */
        return v;
    }
    for (size_t i = 0; i < nbytes && p + i < end; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Returns NULL on success, else a reason. */
static const char *hybrid_next(hybrid *h, uint32_t *out) {
    for (;;) {
        if (h->rle_left) {
            h->rle_left--;
            *out = h->rle_val;
            return NULL;
        }
        if (h->bp_left) {
            uint64_t bit = (uint64_t)h->bp_idx * (uint64_t)h->width;
            if ((bit + (uint64_t)h->width + 7) / 8 > (uint64_t)(h->bp_end - h->bp)) return "bit-packed run truncated";
            const uint8_t *q = h->bp + bit / 8;
            uint64_t v = load_le(q, h->bp_end, 5) >> (bit % 8);
            *out = h->width == 32 ? (uint32_t)v : (uint32_t)(v & ((1ull << h->width) - 1));
            h->bp_idx++;
            h->bp_left--;
            return NULL;
        }
        if (h->p >= h->end) return "levels or indices run out";
        uint64_t hdr = 0;
        int shift = 0;
        for (;;) {
            if (h->p >= h->end) return "truncated run header";
            uint8_t b = *h->p++;
            hdr |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) break;
            if ((shift += 7) > 28) return "run header too long";
        }
        if (hdr & 1) {
            uint64_t groups = hdr >> 1, bytes = groups * (uint64_t)h->width;
            if (groups > UINT32_MAX / 8) return "bit-packed run too long";
            h->bp = h->p;
            /* a final run may be cut short of its full groups; reads past it fail */
            h->bp_end = h->p + (bytes < (uint64_t)(h->end - h->p) ? bytes : (uint64_t)(h->end - h->p));
            h->p = h->bp_end;
            h->bp_left = (uint32_t)(groups * 8);
            h->bp_idx = 0;
        } else {
            size_t nb = ((size_t)h->width + 7) / 8;
            if ((size_t)(h->end - h->p) < nb) return "truncated RLE run value";
            uint32_t v = 0;
            for (size_t i = 0; i < nb; i++) v |= (uint32_t)h->p[i] << (8 * i);
            h->p += nb;
            if (h->width < 32 && (v >> h->width)) return "RLE run value wider than the bit width";
            if (hdr >> 1 > UINT32_MAX) return "RLE run too long";
            h->rle_left = (uint32_t)(hdr >> 1);
            h->rle_val = v;
        }
    }
}

/* ---- DELTA_BINARY_PACKED (lengths for the DELTA_*_BYTE_ARRAY encodings) -------- */

typedef struct delta {
    const uint8_t *p, *end;
    uint64_t per_block, mb_per_block, per_mb, total, emitted;
    int64_t last, min_delta;
    const uint8_t *widths;        /* current block's miniblock bit widths */
    uint64_t mb_index;            /* current miniblock in the block */
    uint64_t mb_pos;              /* next value in the current miniblock; per_mb = exhausted */
    const uint8_t *mb;            /* current miniblock's bytes */
    int mb_width;
    bool in_block;
} delta;

static const char *uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return "truncated varint";
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return NULL; }
    }
    return "varint too long";
}

static const char *zvarint(const uint8_t **p, const uint8_t *end, int64_t *v) {
    uint64_t u;
    const char *e = uvarint(p, end, &u);
    if (!e) *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return e;
}

static const char *delta_init(delta *d, const uint8_t *p, const uint8_t *end) {
    memset(d, 0, sizeof *d);
    d->end = end;
    const char *e;
    if ((e = uvarint(&p, end, &d->per_block)) || (e = uvarint(&p, end, &d->mb_per_block)) ||
        (e = uvarint(&p, end, &d->total)) || (e = zvarint(&p, end, &d->last)))
        return e;
    if (d->per_block == 0 || d->per_block % 128 || d->per_block > (1u << 20)) return "bad delta block size";
    if (d->mb_per_block == 0 || d->per_block % d->mb_per_block) return "bad delta miniblock count";
    d->per_mb = d->per_block / d->mb_per_block;
    if (d->per_mb % 8) return "delta miniblock size not a multiple of 8";
    if (d->total > (uint64_t)INT32_MAX) return "delta value count too large";
    d->p = p;
    d->mb_pos = d->per_mb;
    d->mb_index = d->mb_per_block;
    return NULL;
}

/* Position just past the encoded values (where the next stream starts). */
static const char *delta_end(const delta *d0, const uint8_t **endp) {
    const uint8_t *p = d0->p;
    uint64_t left = d0->total ? d0->total - 1 : 0;
    const char *e;
    while (left > 0) {
        int64_t md;
        if ((e = zvarint(&p, d0->end, &md))) return e;
        if ((uint64_t)(d0->end - p) < d0->mb_per_block) return "truncated delta block";
        const uint8_t *w = p;
        p += d0->mb_per_block;
        for (uint64_t m = 0; m < d0->mb_per_block && left > 0; m++) {
            if (w[m] > 64) return "delta bit width over 64";
            uint64_t bytes = d0->per_mb * w[m] / 8;
            if (bytes > (uint64_t)(d0->end - p)) return "truncated delta miniblock";
            p += bytes;
            left -= left < d0->per_mb ? left : d0->per_mb;
        }
    }
    *endp = p;
    return NULL;
}

static uint64_t unpack_bits(const uint8_t *p, uint64_t bit, int w) {
    uint64_t v = 0;
    int got = 0;
    while (got < w) {
        int sh = (int)(bit & 7), take = 8 - sh < w - got ? 8 - sh : w - got;
        v |= (uint64_t)((p[bit >> 3] >> sh) & ((1u << take) - 1)) << got;
        got += take;
        bit += (uint64_t)take;
    }
    return v;
}

/* delta_end() must have validated the stream: miniblocks lie within [p, end). */
static const char *delta_next(delta *d, int64_t *out) {
    if (d->emitted >= d->total) return "more values than the delta stream holds";
    if (d->emitted++ == 0) { *out = d->last; return NULL; }
    if (d->mb_pos >= d->per_mb) {
        if (d->mb_index + 1 >= d->mb_per_block) {
            const char *e = zvarint(&d->p, d->end, &d->min_delta);
            if (e) return e;
            if ((uint64_t)(d->end - d->p) < d->mb_per_block) return "truncated delta block";
            d->widths = d->p;
            d->p += d->mb_per_block;
            d->mb_index = 0;
        } else {
            d->mb_index++;
        }
        d->mb_width = d->widths[d->mb_index];
        uint64_t bytes = d->per_mb * (uint64_t)d->mb_width / 8;
        if (d->mb_width > 64 || bytes > (uint64_t)(d->end - d->p)) return "truncated delta miniblock";
        d->mb = d->p;
        d->p += bytes;
        d->mb_pos = 0;
    }
    uint64_t v = d->mb_width ? unpack_bits(d->mb, d->mb_pos * (uint64_t)d->mb_width, d->mb_width) : 0;
    d->mb_pos++;
    d->last = (int64_t)((uint64_t)d->last + (uint64_t)d->min_delta + v);
    *out = d->last;
    return NULL;
}

/* ---- the reader -------------------------------------------------------------- */

typedef struct buf { uint8_t *p; size_t cap; } buf;

static bool buf_reserve(buf *b, size_t n) {
    if (n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
    return true;
}

struct hs_pq_reader {
    hs_parquet *pq;
    int col;
    const hs_pq_column_info *info;
    hs_pq_nulls nulls;
    int width;                    /* fixed value width, 0 for BYTE_ARRAY */
    int def_width;                /* bits per definition level */
    hs_status failed;
    bool done;                    /* end of file reached */
    char err[HS_ERRMSG_MAX];

    int rg;                       /* current row group, first - 1 before the first */
    int rg_end;                   /* one past the last row group to read */
    int64_t row_end;              /* one past the last row to read */
    int64_t row, nulls_seen;
    /* column chunk */
    const pq_chunk *chunk;
    const uint8_t *cpos, *cend;   /* next page header / end of the chunk */
    int64_t chunk_left;           /* values (levels) not yet seen in page headers */
    int64_t page_at;              /* file offset of the current page, for messages */
    /* dictionary of the chunk */
    bool have_dict;
    buf dict_data;
    const uint8_t **dict_ptr;
    uint32_t *dict_len;
    uint32_t dict_n, dict_cap;
    /* current data page */
    int64_t page_left;            /* level entries left */
    int enc;
    hybrid def, idx;
    const uint8_t *vp, *vend;     /* PLAIN values / DELTA data */
    delta d_len, d_prefix;
    buf page;                     /* decompressed page */
    buf val[2];                   /* DELTA_BYTE_ARRAY: previous and current value */
    int cur;
    size_t prev_len;
    uint8_t ival[8];              /* DELTA_BINARY_PACKED: the current integer, little-endian */
    ZSTD_DCtx *zstd;
};

static hs_status fail(hs_pq_reader *r, hs_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static hs_status fail(hs_pq_reader *r, hs_status st, const char *fmt, ...) {
    char msg[HS_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->rg >= 0 && r->chunk)
        hs_errorf(st, "%s: column '%s', row group %d, page at byte %lld: %s", r->pq->name, r->info->path, r->rg,
                  (long long)r->page_at, msg);
    else
        hs_errorf(st, "%s: column '%s': %s", r->pq->name, r->info->path, msg);
    snprintf(r->err, sizeof r->err, "%s", hs_last_error());
    r->failed = st;
    return st;
}

static hs_status nomem(hs_pq_reader *r, size_t n) {
    return fail(r, HS_ERR_NOMEM, "cannot allocate %zu bytes", n);
}

/* ---- decompression ------------------------------------------------------------ */

static hs_status inflate_gzip(hs_pq_reader *r, const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return fail(r, HS_ERR_NOMEM, "zlib init failed");
    z.next_in = (Bytef *)src;
    z.next_out = dst;
    size_t in_left = n, out_left = want;
    const char *why = NULL;
    for (;;) {
        /* feed in <4 GiB slices (zlib counts in uInt) */
        uInt ci = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left, co = out_left > UINT32_MAX ? UINT32_MAX : (uInt)out_left;
        z.avail_in = ci;
        z.avail_out = co;
        int rc = inflate(&z, Z_NO_FLUSH);
        in_left -= ci - z.avail_in;
        out_left -= co - z.avail_out;
        if (rc == Z_STREAM_END) {
            /* concatenated gzip members: continue with the next one */
            if (in_left == 0) break;
            if (inflateReset(&z) != Z_OK) { why = "zlib reset failed"; break; }
            continue;
        }
        if (rc == Z_OK && (ci != z.avail_in || co != z.avail_out)) continue;
        if (out_left == 0 && in_left > 0) { why = "more data than the page header's size"; break; }
        why = z.msg ? z.msg : (rc == Z_BUF_ERROR || rc == Z_OK) ? "truncated stream" : "invalid data";
        break;
    }
    inflateEnd(&z);
    if (why) return fail(r, HS_ERR_FORMAT, "GZIP: %s", why);
    if (out_left) return fail(r, HS_ERR_FORMAT, "GZIP data is %zu bytes, the page header says %zu", want - out_left, want);
    return HS_OK;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* LZ4 (codec 5) as Hadoop writes it: frames of [u32 BE raw size][u32 BE compressed size]
 * [raw LZ4 block]. Returns false if the data does not parse that way. */
static bool lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    size_t out = 0;
    while (n > 0) {
        if (n < 8) return false;
        uint32_t ulen = be32(src), clen = be32(src + 4);
        src += 8;
        n -= 8;
        if (clen > n || ulen > want - out || clen > INT32_MAX || ulen > INT32_MAX) return false;
        int got = LZ4_decompress_safe((const char *)src, (char *)dst + out, (int)clen, (int)ulen);
        if (got != (int)ulen) return false;
        out += ulen;
        src += clen;
        n -= clen;
    }
    return out == want;
}

/* LZ4 (codec 5) as older parquet-cpp wrote it: the LZ4 frame format. */
static bool lz4_frame(const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    if (n < 4 || src[0] != 0x04 || src[1] != 0x22 || src[2] != 0x4d || src[3] != 0x18) return false;
    LZ4F_dctx *dc;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION))) return false;
    size_t in_pos = 0, out_pos = 0, rc = 1;
    while (rc != 0 && in_pos < n) {
        size_t in_sz = n - in_pos, out_sz = want - out_pos;
        rc = LZ4F_decompress(dc, dst + out_pos, &out_sz, src + in_pos, &in_sz, NULL);
        if (LZ4F_isError(rc) || (in_sz == 0 && out_sz == 0)) break;
        in_pos += in_sz;
        out_pos += out_sz;
    }
    LZ4F_freeDecompressionContext(dc);
    return rc == 0 && in_pos == n && out_pos == want;
}

/* Decompresses src[0..n) into exactly `want` bytes at dst. */
static hs_status decompress(hs_pq_reader *r, const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    int codec = r->chunk->codec;
    switch (codec) {
    case CODEC_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
            return fail(r, HS_ERR_FORMAT, "SNAPPY: invalid data");
        if (len != want) return fail(r, HS_ERR_FORMAT, "SNAPPY data is %zu bytes, the page header says %zu", len, want);
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK || len != want)
            return fail(r, HS_ERR_FORMAT, "SNAPPY: invalid data");
        return HS_OK;
    }
    case CODEC_GZIP:
        return inflate_gzip(r, src, n, dst, want);
    case CODEC_ZSTD: {
        if (!r->zstd && !(r->zstd = ZSTD_createDCtx())) return fail(r, HS_ERR_NOMEM, "ZSTD init failed");
        size_t got = ZSTD_decompressDCtx(r->zstd, dst, want, src, n);
        if (ZSTD_isError(got)) return fail(r, HS_ERR_FORMAT, "ZSTD: %s", ZSTD_getErrorName(got));
        if (got != want) return fail(r, HS_ERR_FORMAT, "ZSTD data is %zu bytes, the page header says %zu", got, want);
        return HS_OK;
    }
    case CODEC_LZ4_RAW: case CODEC_LZ4: {
        if (n > INT32_MAX || want > INT32_MAX) return fail(r, HS_ERR_UNSUPPORTED, "LZ4 page over 2 GiB");
        if (codec == CODEC_LZ4 && (lz4_hadoop(src, n, dst, want) || lz4_frame(src, n, dst, want))) return HS_OK;
        int got = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)want);
        if (got < 0) return fail(r, HS_ERR_FORMAT, "%s: invalid data", codec_name(codec));
        if ((size_t)got != want) return fail(r, HS_ERR_FORMAT, "%s data is %d bytes, the page header says %zu", codec_name(codec), got, want);
        return HS_OK;
    }
    case CODEC_BROTLI: {
        size_t len = want;
        BrotliDecoderResult rc = BrotliDecoderDecompress(n, src, &len, dst);
        if (rc != BROTLI_DECODER_RESULT_SUCCESS) return fail(r, HS_ERR_FORMAT, "BROTLI: invalid data or larger than the page header says");
        if (len != want) return fail(r, HS_ERR_FORMAT, "BROTLI data is %zu bytes, the page header says %zu", len, want);
        return HS_OK;
    }
    default:
        return fail(r, HS_ERR_UNSUPPORTED, "compression codec %s (%d) is not supported", codec_name(codec), codec);
    }
}

/* Page bytes as stored [src, src+n) → uncompressed bytes (*out, want): zero copy when
 * the chunk is uncompressed. */
static hs_status page_bytes(hs_pq_reader *r, buf *b, bool compressed, const uint8_t *src, size_t n, size_t want,
                            const uint8_t **out) {
    if (!compressed || r->chunk->codec == CODEC_NONE) {
        if (n != want) return fail(r, HS_ERR_FORMAT, "uncompressed page is %zu bytes, its header says %zu", n, want);
        *out = src;
        return HS_OK;
    }
    if (want == 0) {   /* nothing to decompress (e.g. an empty v2 page with 0 stored bytes) */
        *out = src;
        return HS_OK;
    }
    if (!buf_reserve(b, want)) return nomem(r, want);
    hs_status st = decompress(r, src, n, b->p, want);
    *out = b->p;
    return st;
}

/* ---- pages ------------------------------------------------------------------- */

typedef struct page_hdr {
    int32_t type, usize, csize;
    bool has_v1, has_v2, has_dict;
    int32_t num_values, encoding, def_encoding;          /* v1 / dictionary */
    int32_t num_nulls, num_rows, def_len, rep_len;       /* v2 */
    bool is_compressed;
} page_hdr;

static bool parse_data_hdr(tc_reader *c, page_hdr *h, int which) {
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    bool got_n = false, got_enc = false;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        if (id == 1) { ok = tc_field_i32(c, t, &h->num_values); got_n = true; }
        else if (which != 3 && id == 2) { ok = tc_field_i32(c, t, &h->encoding); got_enc = true; }   /* v1, dictionary */
        else if (which == 1 && id == 3) ok = tc_field_i32(c, t, &h->def_encoding);
        else if (which == 3 && id == 2) ok = tc_field_i32(c, t, &h->num_nulls);
        else if (which == 3 && id == 3) ok = tc_field_i32(c, t, &h->num_rows);
        else if (which == 3 && id == 4) { ok = tc_field_i32(c, t, &h->encoding); got_enc = true; }
        else if (which == 3 && id == 5) ok = tc_field_i32(c, t, &h->def_len);
        else if (which == 3 && id == 6) ok = tc_field_i32(c, t, &h->rep_len);
        else if (which == 3 && id == 7) ok = tc_field_bool(c, t, &h->is_compressed);
        else ok = tc_skip(c, t);
        if (!ok) return false;
    }
    tc_struct_end(c);
    if (c->err) return false;
    if (!got_n || !got_enc) return tc_fail(c, "page header lacks num_values or encoding");
    if (h->num_values < 0 || h->num_nulls < 0 || h->def_len < 0 || h->rep_len < 0)
        return tc_fail(c, "negative count or length in page header");
    return true;
}

static bool parse_page_hdr(tc_reader *c, page_hdr *h) {
    memset(h, 0, sizeof *h);
    h->is_compressed = true;
    h->def_encoding = ENC_RLE;
    if (!tc_struct_begin(c)) return false;
    int last = 0, t, id;
    bool got_type = false, got_u = false, got_c = false;
    while (tc_field(c, &last, &t, &id) && t != TC_STOP) {
        bool ok;
        switch (id) {
        case 1: ok = tc_field_i32(c, t, &h->type); got_type = true; break;
        case 2: ok = tc_field_i32(c, t, &h->usize); got_u = true; break;
        case 3: ok = tc_field_i32(c, t, &h->csize); got_c = true; break;
        case 5: ok = t == TC_STRUCT && parse_data_hdr(c, h, 1); h->has_v1 = ok; break;
        case 7: ok = t == TC_STRUCT && parse_data_hdr(c, h, 2); h->has_dict = ok; break;
        case 8: ok = t == TC_STRUCT && parse_data_hdr(c, h, 3); h->has_v2 = ok; break;
        default: ok = tc_skip(c, t);
        }
        if (!ok) return tc_fail(c, "bad page header field");
    }
    tc_struct_end(c);
    if (c->err) return false;
    if (!got_type || !got_u || !got_c) return tc_fail(c, "page header lacks type or sizes");
    if (h->usize < 0 || h->csize < 0) return tc_fail(c, "negative page size");
    return true;
}

static hs_status read_dictionary(hs_pq_reader *r, const page_hdr *h, const uint8_t *src) {
    if (!h->has_dict) return fail(r, HS_ERR_FORMAT, "dictionary page without a dictionary header");
    if (r->have_dict) return fail(r, HS_ERR_FORMAT, "second dictionary page in a column chunk");
    if (h->encoding != ENC_PLAIN && h->encoding != ENC_PLAIN_DICT)
        return fail(r, HS_ERR_UNSUPPORTED, "dictionary page encoding %d", h->encoding);
    const uint8_t *d;
    hs_status st = page_bytes(r, &r->dict_data, true, src, (size_t)h->csize, (size_t)h->usize, &d);
    if (st) return st;
    size_t n = (size_t)h->usize;
    uint64_t count = (uint64_t)h->num_values;
    /* each entry takes ≥4 bytes (BYTE_ARRAY) or `width` bytes: bound before allocating */
    uint64_t min_entry = r->width ? (uint64_t)r->width : 4;
    if (count > n / min_entry) return fail(r, HS_ERR_FORMAT, "dictionary claims %llu entries in %zu bytes", (unsigned long long)count, n);
    if (count > HS_PQ_MAX_DICT) return fail(r, HS_ERR_UNSUPPORTED, "dictionary of %llu entries (limit %u)", (unsigned long long)count, HS_PQ_MAX_DICT);
    if (count > r->dict_cap) {
        const uint8_t **pp = realloc(r->dict_ptr, (size_t)count * sizeof *pp);
        if (pp) r->dict_ptr = pp;
        uint32_t *ll = realloc(r->dict_len, (size_t)count * sizeof *ll);
        if (ll) r->dict_len = ll;
        if (!pp || !ll) return nomem(r, (size_t)count * 12);
        r->dict_cap = (uint32_t)count;
    }
    const uint8_t *p = d, *end = d + n;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len;
        if (r->width) {
            len = (uint32_t)r->width;
        } else {
            if (end - p < 4) return fail(r, HS_ERR_FORMAT, "dictionary entry %u truncated", i);
            len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            p += 4;
        }
        if (len > (size_t)(end - p)) return fail(r, HS_ERR_FORMAT, "dictionary entry %u overruns the page", i);
        r->dict_ptr[i] = p;
        r->dict_len[i] = len;
        p += len;
    }
    r->dict_n = (uint32_t)count;
    r->have_dict = true;
    return HS_OK;
}

/* Sets up value decoding for [p, end) with encoding h->encoding. */
static hs_status start_values(hs_pq_reader *r, int enc, const uint8_t *p, const uint8_t *end) {
    const char *e;
    r->enc = enc;
    r->vp = p;
    r->vend = end;
    switch (enc) {
    case ENC_PLAIN:
        if (r->info->physical_type == HS_PQ_BOOLEAN) return fail(r, HS_ERR_UNSUPPORTED, "BOOLEAN values");
        return HS_OK;
    case ENC_PLAIN_DICT: case ENC_RLE_DICT:
        if (!r->have_dict) return fail(r, HS_ERR_FORMAT, "dictionary-encoded page but no dictionary page");
        if (p >= end) {   /* only nulls in this page: no indices at all */
            hybrid_init(&r->idx, p, end, 0);
            return HS_OK;
        }
        if (*p > 32) return fail(r, HS_ERR_FORMAT, "dictionary index bit width %u", *p);
        hybrid_init(&r->idx, p + 1, end, *p);
        return HS_OK;
    case ENC_DELTA_BINARY:
        if (r->width != 4 && r->width != 8) return fail(r, HS_ERR_UNSUPPORTED, "DELTA_BINARY_PACKED on a non-integer column");
        if (p >= end) { memset(&r->d_len, 0, sizeof r->d_len); return HS_OK; }
        if ((e = delta_init(&r->d_len, p, end))) return fail(r, HS_ERR_FORMAT, "DELTA_BINARY_PACKED: %s", e);
        return HS_OK;
    case ENC_DELTA_LENGTH: {
        if (r->width) return fail(r, HS_ERR_FORMAT, "DELTA_LENGTH_BYTE_ARRAY on a fixed-width column");
        if (p >= end) { memset(&r->d_len, 0, sizeof r->d_len); return HS_OK; }
        if ((e = delta_init(&r->d_len, p, end)) || (e = delta_end(&r->d_len, &r->vp)))
            return fail(r, HS_ERR_FORMAT, "DELTA_LENGTH_BYTE_ARRAY lengths: %s", e);
        return HS_OK;
    }
    case ENC_DELTA_BYTE_ARRAY: {
        if (r->width) return fail(r, HS_ERR_UNSUPPORTED, "DELTA_BYTE_ARRAY on a fixed-width column");
        r->prev_len = 0;
        if (p >= end) { memset(&r->d_prefix, 0, sizeof r->d_prefix); memset(&r->d_len, 0, sizeof r->d_len); return HS_OK; }
        const uint8_t *q;
        if ((e = delta_init(&r->d_prefix, p, end)) || (e = delta_end(&r->d_prefix, &q)) ||
            (e = delta_init(&r->d_len, q, end)) || (e = delta_end(&r->d_len, &r->vp)))
            return fail(r, HS_ERR_FORMAT, "DELTA_BYTE_ARRAY lengths: %s", e);
        if (r->d_prefix.total != r->d_len.total) return fail(r, HS_ERR_FORMAT, "DELTA_BYTE_ARRAY prefix and suffix counts differ");
        return HS_OK;
    }
    default:
        return fail(r, HS_ERR_UNSUPPORTED, "value encoding %d", enc);
    }
}

static hs_status start_data_page(hs_pq_reader *r, const page_hdr *h, const uint8_t *src) {
    size_t cs = (size_t)h->csize, us = (size_t)h->usize;
    const uint8_t *d, *end;
    hs_status st;
    if (h->type == PAGE_DATA) {
        if (!h->has_v1) return fail(r, HS_ERR_FORMAT, "data page without a data page header");
        if ((st = page_bytes(r, &r->page, true, src, cs, us, &d))) return st;
        end = d + us;
        if (r->info->max_def > 0) {
            if (h->def_encoding != ENC_RLE)
                return fail(r, HS_ERR_UNSUPPORTED, "definition level encoding %d (only RLE)", h->def_encoding);
            if (end - d < 4) return fail(r, HS_ERR_FORMAT, "definition levels truncated");
            uint32_t len = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
            if (len > (size_t)(end - d - 4)) return fail(r, HS_ERR_FORMAT, "definition levels overrun the page");
            hybrid_init(&r->def, d + 4, d + 4 + len, r->def_width);
            d += 4 + len;
        }
    } else {
        if (!h->has_v2) return fail(r, HS_ERR_FORMAT, "data page v2 without its header");
        size_t lv = (size_t)h->def_len + (size_t)h->rep_len;
        if (lv > cs || lv > us) return fail(r, HS_ERR_FORMAT, "level lengths exceed the page size");
        /* levels are stored uncompressed before the (maybe compressed) values */
        hybrid_init(&r->def, src + h->rep_len, src + lv, r->def_width);
        bool comp = h->is_compressed && cs - lv > 0;
        if ((st = page_bytes(r, &r->page, comp, src + lv, cs - lv, us - lv, &d))) return st;
        end = d + (us - lv);
        if (h->num_rows != h->num_values && r->info->max_rep == 0)
            return fail(r, HS_ERR_FORMAT, "v2 page has %d rows but %d values", h->num_rows, h->num_values);
    }
    r->page_left = h->num_values;
    return start_values(r, h->encoding, d, end);
}

/* Moves to the next column chunk. Returns HS_OK with *eof at the end of the file. */
static hs_status next_chunk(hs_pq_reader *r, bool *eof) {
    hs_parquet *pq = r->pq;
    if (r->chunk && r->chunk_left)
        return fail(r, HS_ERR_FORMAT, "column chunk ends after its pages with %lld values missing", (long long)r->chunk_left);
    r->chunk = NULL;
    if (++r->rg >= r->rg_end) {
        *eof = true;
        return HS_OK;
    }
    const pq_chunk *k = &pq->chunks[(size_t)r->rg * pq->ncols + r->col];
    r->page_at = 0;
    if (!k->has_meta) return fail(r, HS_ERR_FORMAT, "row group %d: column chunk without metadata", r->rg);
    if (k->external) return fail(r, HS_ERR_UNSUPPORTED, "row group %d: column chunk stored in another file", r->rg);
    if (k->type != r->info->physical_type)
        return fail(r, HS_ERR_FORMAT, "row group %d: chunk type %d differs from the schema's %d", r->rg, k->type, r->info->physical_type);
    if (k->num_values != pq->rg_rows[r->rg])
        return fail(r, HS_ERR_FORMAT, "row group %d: %lld values for %lld rows", r->rg, (long long)k->num_values,
                    (long long)pq->rg_rows[r->rg]);
    int64_t start = k->data_page_offset;
    /* dictionary_page_offset = 0 is a known writer quirk (meaning "unset"): then the
     * chunk starts at data_page_offset, which points at the dictionary page itself */
    if (k->has_dict_offset && k->dict_page_offset > 0 && k->dict_page_offset < start) start = k->dict_page_offset;
    int64_t fs = (int64_t)pq->footer_start;
    if (start < 4 || start >= fs || k->total_compressed_size < 0)
        return fail(r, HS_ERR_FORMAT, "row group %d: column chunk at byte %lld outside the data area [4, %lld)", r->rg,
                    (long long)start, (long long)fs);
    /* some writers overstate total_compressed_size: pages are bounded by the data area
     * and the chunk ends when its num_values have been seen */
    int64_t size = k->total_compressed_size < fs - start ? k->total_compressed_size : fs - start;
    r->chunk = k;
    r->cpos = pq->data + start;
    r->cend = r->cpos + size;
    r->chunk_left = k->num_values;
    r->have_dict = false;
    r->dict_n = 0;
    return HS_OK;
}

/* Loads the next data page with at least one level entry. */
static hs_status next_page(hs_pq_reader *r, bool *eof) {
    for (;;) {
        hs_status st;
        if (!r->chunk || r->chunk_left == 0) {
            if ((st = next_chunk(r, eof)) || *eof) return st;
            continue;
        }
        r->page_at = r->cpos - r->pq->data;
        if (r->cpos >= r->cend) return next_chunk(r, eof);   /* reports the missing values */
        tc_reader c = { r->cpos, r->cend, 0, NULL };
        page_hdr h;
        if (!parse_page_hdr(&c, &h)) return fail(r, HS_ERR_FORMAT, "corrupt page header: %s", c.err);
        if ((size_t)h.csize > (size_t)(r->cend - c.p)) return fail(r, HS_ERR_FORMAT, "page of %d bytes overruns its column chunk", h.csize);
        if ((uint32_t)h.usize > HS_PQ_MAX_PAGE_SIZE)
            return fail(r, HS_ERR_UNSUPPORTED, "page of %d bytes uncompressed (limit %u)", h.usize, HS_PQ_MAX_PAGE_SIZE);
        const uint8_t *src = c.p;
        r->cpos = c.p + h.csize;
        if (h.type == PAGE_DICT) {
            if ((st = read_dictionary(r, &h, src))) return st;
        } else if (h.type == PAGE_DATA || h.type == PAGE_DATA_V2) {
            int32_t nv = h.has_v1 ? h.num_values : h.has_v2 ? h.num_values : 0;
            if (nv > r->chunk_left)
                return fail(r, HS_ERR_FORMAT, "page holds %d values, only %lld left in the chunk", nv, (long long)r->chunk_left);
            if ((st = start_data_page(r, &h, src))) return st;
            r->chunk_left -= r->page_left;
            if (r->page_left) return HS_OK;
        }
        /* index pages and unknown page types are skipped */
    }
}

static hs_status next_value(hs_pq_reader *r, hs_pq_value *v) {
    const char *e;
    switch (r->enc) {
    case ENC_PLAIN:
        if (r->width) {
            if ((size_t)(r->vend - r->vp) < (size_t)r->width) return fail(r, HS_ERR_FORMAT, "PLAIN values run out");
            v->len = (size_t)r->width;
        } else {
            if (r->vend - r->vp < 4) return fail(r, HS_ERR_FORMAT, "PLAIN values run out");
            const uint8_t *p = r->vp;
            uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            if (len > (size_t)(r->vend - p - 4)) return fail(r, HS_ERR_FORMAT, "PLAIN value of %u bytes overruns the page", len);
            r->vp += 4;
            v->len = len;
        }
        v->data = (const char *)r->vp;
        r->vp += v->len;
        return HS_OK;
    case ENC_PLAIN_DICT: case ENC_RLE_DICT: {
        uint32_t i;
        if ((e = hybrid_next(&r->idx, &i))) return fail(r, HS_ERR_FORMAT, "dictionary indices: %s", e);
        if (i >= r->dict_n) return fail(r, HS_ERR_FORMAT, "dictionary index %u out of range (%u entries)", i, r->dict_n);
        v->data = (const char *)r->dict_ptr[i];
        v->len = r->dict_len[i];
        return HS_OK;
    }
    case ENC_DELTA_BINARY: {
        int64_t x;
        if ((e = delta_next(&r->d_len, &x))) return fail(r, HS_ERR_FORMAT, "DELTA_BINARY_PACKED: %s", e);
        for (int i = 0; i < 8; i++) r->ival[i] = (uint8_t)((uint64_t)x >> (8 * i));
        v->data = (const char *)r->ival;
        v->len = (size_t)r->width;
        return HS_OK;
    }
    case ENC_DELTA_LENGTH: {
        int64_t len;
        if ((e = delta_next(&r->d_len, &len))) return fail(r, HS_ERR_FORMAT, "DELTA_LENGTH_BYTE_ARRAY: %s", e);
        if (len < 0 || len > r->vend - r->vp) return fail(r, HS_ERR_FORMAT, "DELTA_LENGTH_BYTE_ARRAY length %lld overruns the page", (long long)len);
        v->data = (const char *)r->vp;
        v->len = (size_t)len;
        r->vp += len;
        return HS_OK;
    }
    case ENC_DELTA_BYTE_ARRAY: {
        int64_t pre, suf;
        if ((e = delta_next(&r->d_prefix, &pre)) || (e = delta_next(&r->d_len, &suf)))
            return fail(r, HS_ERR_FORMAT, "DELTA_BYTE_ARRAY: %s", e);
        if (pre < 0 || (uint64_t)pre > r->prev_len) return fail(r, HS_ERR_FORMAT, "DELTA_BYTE_ARRAY prefix %lld longer than the previous value", (long long)pre);
        if (suf < 0 || suf > r->vend - r->vp) return fail(r, HS_ERR_FORMAT, "DELTA_BYTE_ARRAY suffix %lld overruns the page", (long long)suf);
        buf *prev = &r->val[r->cur], *cur = &r->val[!r->cur];
        size_t len = (size_t)pre + (size_t)suf;
        if (!buf_reserve(cur, len ? len : 1)) return nomem(r, len);
        if (pre) memcpy(cur->p, prev->p, (size_t)pre);
        if (suf) memcpy(cur->p + pre, r->vp, (size_t)suf);
        r->vp += suf;
        r->cur = !r->cur;
        r->prev_len = len;
        v->data = (const char *)cur->p;
        v->len = len;
        return HS_OK;
    }
    default:
        return fail(r, HS_ERR_INTERNAL, "encoding %d", r->enc);
    }
}

hs_status hs_parquet_reader_next(hs_pq_reader *r, hs_pq_value *v, bool *eof) {
    *eof = false;
    memset(v, 0, sizeof *v);
    if (r->failed) return hs_errorf(r->failed, "%s", r->err);
    if (r->done) { *eof = true; return HS_OK; }
    for (;;) {
        hs_status st;
        if (r->page_left == 0) {
            if ((st = next_page(r, eof))) return st;
            if (*eof) {
                if (r->row != r->row_end)
                    return fail(r, HS_ERR_FORMAT, "read up to row %lld, the footer says %lld", (long long)r->row, (long long)r->row_end);
                r->done = true;
                return HS_OK;
            }
        }
        r->page_left--;
        bool is_null = false;
        if (r->info->max_def > 0) {
            uint32_t lv;
            const char *e = hybrid_next(&r->def, &lv);
            if (e) return fail(r, HS_ERR_FORMAT, "definition levels: %s", e);
            if (lv > (uint32_t)r->info->max_def) return fail(r, HS_ERR_FORMAT, "definition level %u above the maximum %d", lv, r->info->max_def);
            is_null = lv < (uint32_t)r->info->max_def;
        }
        v->row = r->row++;
        if (is_null) {
            r->nulls_seen++;
            if (r->nulls == HS_PQ_NULLS_SKIP) continue;
            if (r->nulls == HS_PQ_NULLS_ERROR) return fail(r, HS_ERR_FORMAT, "row %lld is null", (long long)v->row);
            v->is_null = true;
            return HS_OK;
        }
        return next_value(r, v);
    }
}

hs_status hs_parquet_reader_open(hs_parquet *pq, int col, hs_pq_nulls nulls, hs_pq_reader **out) {
    return hs_parquet_reader_open_groups(pq, col, nulls, 0, pq->nrg, out);
}

hs_status hs_parquet_reader_open_groups(hs_parquet *pq, int col, hs_pq_nulls nulls, int first, int count, hs_pq_reader **out) {
    *out = NULL;
    if (col < 0 || col >= pq->ncols) return hs_errorf(HS_ERR_INVALID_ARG, "%s: no column %d", pq->name, col);
    if (first < 0 || count < 0 || first > pq->nrg || count > pq->nrg - first)
        return hs_errorf(HS_ERR_INVALID_ARG, "%s: row groups [%d, +%d) outside [0, %d)", pq->name, first, count, pq->nrg);
    const hs_pq_column_info *ci = &pq->cols[col];
    if (ci->max_rep > 0) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: column '%s' is inside a list (repeated); only flat columns are read", pq->name, ci->path);
    static const int widths[] = { 0, 4, 8, 12, 4, 8, 0, 0 };
    if (ci->physical_type == HS_PQ_BOOLEAN) return hs_errorf(HS_ERR_UNSUPPORTED, "%s: column '%s' is BOOLEAN", pq->name, ci->path);
    hs_pq_reader *r = hs_calloc(1, sizeof *r);
    if (!r) return HS_ERR_NOMEM;
    r->pq = pq;
    r->col = col;
    r->info = ci;
    r->nulls = nulls;
    r->width = ci->physical_type == HS_PQ_FIXED_LEN_BYTE_ARRAY ? ci->type_length : widths[ci->physical_type];
    while ((1 << r->def_width) <= ci->max_def) r->def_width++;
    r->rg = first - 1;
    r->rg_end = first + count;
    r->row = first < pq->nrg ? pq->rg_first_row[first] : pq->num_rows;
    r->row_end = r->rg_end < pq->nrg ? pq->rg_first_row[r->rg_end] : pq->num_rows;
    *out = r;
    return HS_OK;
}

int64_t hs_parquet_reader_nulls(const hs_pq_reader *r) { return r->nulls_seen; }

void hs_parquet_reader_free(hs_pq_reader *r) {
    if (!r) return;
    free(r->dict_data.p);
    free(r->dict_ptr);
    free(r->dict_len);
    free(r->page.p);
    free(r->val[0].p);
    free(r->val[1].p);
    ZSTD_freeDCtx(r->zstd);
    free(r);
}
