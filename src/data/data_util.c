/* data_util.c — SHA-256 (libcrypto), code point counting and id lists for the
 * datasets code (UTF-8 validation/replacement: hs_utf8_validate & co, tokenizer.h). */
#include "data/data_internal.h"
#include "tokenizer/tok_internal.h"
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

struct hs_sha256 { EVP_MD_CTX *ctx; bool bad; };

hs_sha256 *hs_sha256_new(void) {
    hs_sha256 *h = hs_calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) { EVP_MD_CTX_free(h->ctx); free(h); return NULL; }
    return h;
}

hs_status hs_sha256_update(hs_sha256 *h, const void *data, size_t len) {
    if (!h || h->bad || (len && !EVP_DigestUpdate(h->ctx, data, len))) {
        if (h) h->bad = true;
        return hs_errorf(HS_ERR_INTERNAL, "SHA-256 update failed");
    }
    return HS_OK;
}

hs_status hs_sha256_final(hs_sha256 *h, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    hs_status s = HS_OK;
    if (!h || h->bad || !EVP_DigestFinal_ex(h->ctx, md, &n) || n != 32) s = hs_errorf(HS_ERR_INTERNAL, "SHA-256 failed (libcrypto)");
    else to_hex(md, n, hex);
    if (h) { EVP_MD_CTX_free(h->ctx); free(h); }
    return s;
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

size_t hs_data_utf8_count(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += (u[i] & 0xC0) != 0x80;
    return n;
}

hs_status hs_data_ids_append(hs_ids *ids, const int32_t *v, size_t n) {
    hs_status s = hs_ids_reserve(ids, n);
    if (s) return s;
    if (n) memcpy(ids->data + ids->len, v, n * sizeof *v);
    ids->len += n;
    return HS_OK;
}
