/* fuzz/tokenizer_load.c — loading a tokenizer.json (hs_tokenizer_load); when it loads, a text
 * is encoded (add_special_tokens false and true, and as a pair) and decoded with it, and a few
 * ids are decoded alone. The text is what follows the first NUL byte of the input (the JSON
 * before it is the file), or a fixed text with added-token look-alikes when there is none. */
#include "fuzz_util.h"
#include "headscan/tokenizer.h"

FUZZ_ENTRY(tokenizer_load) {
    static const char fixed[] = "Hello world<|endoftext|> caf\xc3\xa9  \n\n 12345 don't \xf0\x9f\x98\x80!";
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    const char *text = nul ? (const char *)nul + 1 : fixed;
    size_t tlen = nul ? size - json_len - 1 : sizeof fixed - 1;
    const char *path = fuzz_write("tokenizer.json", data, json_len);
    hs_tokenizer *tok;
    if (hs_tokenizer_load(path, &tok) == HS_OK) {
        for (int special = 0; special < 3; special++) {
            hs_ids ids = {0};
            hs_status st = special < 2 ? hs_tokenizer_encode_special(tok, text, tlen, special, HS_UTF8_REPLACE, &ids)
                                       : hs_tokenizer_encode_pair(tok, text, tlen / 2, text + tlen / 2, tlen - tlen / 2,
                                                                  true, HS_UTF8_REPLACE, &ids);
            if (st == HS_OK) {
                char *out = NULL;
                size_t n = 0;
                if (hs_tokenizer_decode(tok, ids.data, ids.len, &out, &n) == HS_OK) free(out);
            }
            hs_ids_free(&ids);
        }
        for (int32_t i = 0; i < hs_tokenizer_size(tok) && i < 64; i++) {
            (void)hs_tokenizer_id_to_token(tok, i);
            char *s = NULL;
            size_t n;
            if (hs_tokenizer_token_str(tok, i, &s, &n) == HS_OK) free(s);
        }
        (void)hs_tokenizer_bos_id(tok);
        (void)hs_tokenizer_adds_bos(tok);
        hs_tokenizer_free(tok);
    }
    return 0;
}
