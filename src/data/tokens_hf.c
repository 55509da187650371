/* tokens_hf.c — hs_tokens_build: the token matrix with a loaded tokenizer.json.
 * TransformerLens sets pad = eos = bos = "<|endoftext|>" for Pythia and GPT-2,
 * so one id plays all three parts (0 for Pythia, 50256 for GPT-2). */
#include "data/data_internal.h"
#include <stdlib.h>
#include <string.h>

static hs_status hf_encode(const void *ctx, const char *text, size_t len, hs_ids *out) {
    return hs_tokenizer_encode((const hs_tokenizer *)ctx, text, len, HS_UTF8_STRICT, out);
}

hs_status hs_tokens_build(const hs_tokenizer *tok, hs_docs *docs, const hs_tokens_params *params,
                          hs_array *out, hs_tokens_stats *stats) {
    if (!tok || !docs || !out) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: missing tokenizer, dataset or output");
    int32_t bos = hs_tokenizer_bos_id(tok);
    /* TL's tokenize_and_concatenate with a tokenizer whose post-processor adds a BOS (Llama-2/3:
     * BOS inside the rows, pad = EOS from the model config) is not implemented: refuse it rather
     * than build a different matrix */
    if (hs_tokenizer_adds_bos(tok))
        return hs_errorf(HS_ERR_UNSUPPORTED, "tokens: tokenizers whose post-processor adds a BOS (Llama-2/3) are not "
                         "supported yet (TransformerLens keeps that BOS inside the rows and pads with EOS)");
    if (bos < 0) return hs_errorf(HS_ERR_NOT_FOUND, "tokens: the tokenizer has no <|endoftext|> token (needed as BOS/EOS/pad)");
    char *eos_text = NULL;
    size_t eos_len = 0;
    hs_status s = hs_tokenizer_decode(tok, &bos, 1, &eos_text, &eos_len);
    if (s) return s;
    hs_encoder enc = {hf_encode, tok, bos, bos, bos, eos_text};
    s = hs_tokens_build_with(&enc, docs, params, out, stats);
    free(eos_text);
    return s;
}
