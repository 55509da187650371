/* data_util.c — SHA-256 (libcrypto), UTF-8 validation/replacement and id lists
 * for the datasets code. */
#include "data/data_internal.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *d, unsigned n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = 0;
}

hs_status hs_data_sha256(const void *data, size_t len, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
        return hs_errorf(HS_ERR_INTERNAL, "SHA-256 failed (libcrypto)");
    to_hex(md, n, hex);
    return HS_OK;
}

hs_status hs_data_sha256_file(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return hs_errorf(HS_ERR_IO, "%s: cannot open for hashing", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    hs_status s = HS_OK;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) s = hs_errorf(HS_ERR_INTERNAL, "SHA-256 init failed");
    enum { BUF = 1 << 16 };
    unsigned char *buf = s ? NULL : hs_malloc(BUF);
    if (!s && !buf) s = HS_ERR_NOMEM;
    while (!s) {
        size_t r = fread(buf, 1, BUF, f);
        if (r && !EVP_DigestUpdate(ctx, buf, r)) s = hs_errorf(HS_ERR_INTERNAL, "SHA-256 update failed");
        if (r < BUF) {
            if (ferror(f)) s = hs_errorf(HS_ERR_IO, "%s: read error while hashing", path);
            break;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!s && (!EVP_DigestFinal_ex(ctx, md, &n) || n != 32)) s = hs_errorf(HS_ERR_INTERNAL, "SHA-256 final failed");
    if (!s) to_hex(md, n, hex);
    free(buf);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return s;
}

/* Length of the valid UTF-8 sequence at s[0..n), or -k when it is invalid, k >= 1
 * being the length of the maximal subpart to replace by one U+FFFD (Unicode
 * Table 3-7 well-formed sequences). */
static long utf8_seq(const unsigned char *s, size_t n) {
    unsigned char b = s[0];
    if (b < 0x80) return 1;
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) { need = 2; lo = 0xA0; }
    else if (b == 0xED) { need = 2; hi = 0x9F; }
    else if (b >= 0xE1 && b <= 0xEF) need = 2;
    else if (b == 0xF0) { need = 3; lo = 0x90; }
    else if (b == 0xF4) { need = 3; hi = 0x8F; }
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else return -1;
    for (int k = 1; k <= need; k++) {
        if ((size_t)k >= n) return -k;
        unsigned char c = s[k];
        if (c < lo || c > hi) return -k;
        lo = 0x80; hi = 0xBF;
    }
    return need + 1;
}

size_t hs_data_utf8_check(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= len) break;
        long k = utf8_seq(u + i, len - i);
        if (k < 0) return i;
        i += (size_t)k;
    }
    return len;
}

size_t hs_data_utf8_count(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += (u[i] & 0xC0) != 0x80;
    return n;
}

hs_status hs_data_utf8_replace(const char *s, size_t len, char **buf, size_t *cap, size_t *out_len) {
    /* worst case: every byte becomes 3 bytes */
    size_t need;
    if (hs_mul_overflow(len, 3, &need) || need + 1 < need) return hs_errorf(HS_ERR_NOMEM, "document too large");
    need += 1;
    if (*cap < need) {
        char *nb = realloc(*buf, need);
        if (!nb) return hs_errorf(HS_ERR_NOMEM, "out of memory (%zu bytes)", need);
        *buf = nb;
        *cap = need;
    }
    const unsigned char *u = (const unsigned char *)s;
    char *o = *buf;
    size_t i = 0, k = 0;
    while (i < len) {
        long q = utf8_seq(u + i, len - i);
        if (q > 0) {
            memcpy(o + k, u + i, (size_t)q);
            k += (size_t)q;
            i += (size_t)q;
        } else {
            memcpy(o + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i += (size_t)(-q);
        }
    }
    o[k] = 0;
    *out_len = k;
    return HS_OK;
}

hs_status hs_data_ids_append(hs_ids *ids, const int32_t *v, size_t n) {
    if (ids->len + n > ids->cap) {
        size_t nc = ids->cap ? ids->cap : 256;
        while (nc < ids->len + n) nc *= 2;
        int32_t *nd = realloc(ids->data, nc * sizeof *nd);
        if (!nd) return hs_errorf(HS_ERR_NOMEM, "out of memory (%zu token ids)", nc);
        ids->data = nd;
        ids->cap = nc;
    }
    if (n) memcpy(ids->data + ids->len, v, n * sizeof *v);
    ids->len += n;
    return HS_OK;
}
