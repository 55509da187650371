/* fuzz/tokenizer_load.c — loading a tokenizer.json (hs_tokenizer_load); when it loads, a
 * fixed text with added-token look-alikes is encoded and decoded with it. */
#include "fuzz_util.h"
#include "headscan/tokenizer.h"

FUZZ_ENTRY(tokenizer_load) {
    const char *path = fuzz_write("tokenizer.json", data, size);
    hs_tokenizer *tok;
    if (hs_tokenizer_load(path, &tok) == HS_OK) {
        static const char text[] = "Hello world<|endoftext|> caf\xc3\xa9  \n\n 12345 don't \xf0\x9f\x98\x80!";
        hs_ids ids = {0};
        if (hs_tokenizer_encode(tok, text, sizeof text - 1, HS_UTF8_STRICT, &ids) == HS_OK) {
            char *out = NULL;
            size_t n = 0;
            if (hs_tokenizer_decode(tok, ids.data, ids.len, &out, &n) == HS_OK) free(out);
        }
        hs_ids_free(&ids);
        for (int32_t i = 0; i < hs_tokenizer_size(tok) && i < 64; i++) (void)hs_tokenizer_id_to_token(tok, i);
        hs_tokenizer_free(tok);
    }
    return 0;
}
