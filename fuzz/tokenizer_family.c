/* fuzz/tokenizer_family.c — encoding arbitrary bytes with the real Llama-family tokenizers
 * (../shared/data/tokenizers at run time, or $HS_SHARED_DIR): the first byte picks Llama-2
 * (SentencePiece-style, byte fallback), Llama-3 (tiktoken-style) or Qwen2 (NFC + Split); the rest
 * is encoded strict (may refuse) and with errors="replace" (must succeed), with and without
 * special tokens, then decoded whole and token by token. */
#include "fuzz_util.h"
#include "headscan/tokenizer.h"

#ifndef HS_SHARED_DIR
#define HS_SHARED_DIR "../shared"
#endif

FUZZ_ENTRY(tokenizer_family) {
    static hs_tokenizer *toks[3];
    static const char *const names[3] = {"llama2", "llama3", "qwen2"};
    if (size < 1) return 0;
    int k = data[0] % 3;
    if (!toks[k]) {
        const char *dir = getenv("HS_SHARED_DIR");
        char p[1024];
        snprintf(p, sizeof p, "%s/data/tokenizers/%s.tokenizer.json", dir ? dir : HS_SHARED_DIR, names[k]);
        if (hs_tokenizer_load(p, &toks[k]) != HS_OK) { fprintf(stderr, "%s\n", hs_last_error()); abort(); }
    }
    const hs_tokenizer *tok = toks[k];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    hs_ids ids = {0};
    (void)hs_tokenizer_encode(tok, text, n, HS_UTF8_STRICT, &ids);
    hs_ids_free(&ids);
    memset(&ids, 0, sizeof ids);
    if (hs_tokenizer_encode_special(tok, text, n, data[0] & 4, HS_UTF8_REPLACE, &ids) != HS_OK) abort();
    char *out = NULL;
    size_t len = 0;
    if (hs_tokenizer_decode(tok, ids.data, ids.len, &out, &len) != HS_OK) abort();
    free(out);
    for (size_t i = 0; i < ids.len && i < 32; i++) {
        if (hs_tokenizer_token_str(tok, ids.data[i], &out, &len) != HS_OK) abort();
        free(out);
    }
    hs_ids_free(&ids);
    return 0;
}
