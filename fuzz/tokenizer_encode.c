/* fuzz/tokenizer_encode.c — encoding arbitrary bytes with the real GPT-NeoX tokenizer
 * (read from ../shared at run time, or $HS_FUZZ_TOKENIZER): strict UTF-8 (may refuse),
 * then errors="replace" (must succeed), and decoding the ids back. */
#include "fuzz_util.h"
#include "headscan/tokenizer.h"

#ifndef HS_SHARED_DIR
#define HS_SHARED_DIR "../shared"
#endif

FUZZ_ENTRY(tokenizer_encode) {
    static hs_tokenizer *tok;
    if (!tok) {
        const char *p = getenv("HS_FUZZ_TOKENIZER");
        if (!p) p = HS_SHARED_DIR "/data/tokenizers/gpt-neox-20b.tokenizer.json";
        if (hs_tokenizer_load(p, &tok) != HS_OK) { fprintf(stderr, "%s\n", hs_last_error()); abort(); }
    }
    hs_ids ids = {0};
    (void)hs_tokenizer_encode(tok, (const char *)data, size, HS_UTF8_STRICT, &ids);
    hs_ids_free(&ids);
    memset(&ids, 0, sizeof ids);
    if (hs_tokenizer_encode(tok, (const char *)data, size, HS_UTF8_REPLACE, &ids) != HS_OK) abort();
    char *out = NULL;
    size_t n = 0;
    if (hs_tokenizer_decode(tok, ids.data, ids.len, &out, &n) == HS_OK) free(out);
    hs_ids_free(&ids);
    return 0;
}
