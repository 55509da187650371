/* tokens_hf.c — hs_tokens_build: the token matrix with a loaded tokenizer.json.
 * TransformerLens sets pad = eos = bos = "<|endoftext|>" for Pythia and GPT-2,
 * so one id plays all three parts (0 for Pythia, 50256 for GPT-2). For the Llama family
 * (llama.md §8) the caller names the model's EOS (pad = eos; its string joins documents);
 * BOS is the tokenizer's post-processor BOS, or no column at all (Qwen2). Chunks are
 * encoded with add_special_tokens (HF's default in tokenizer(chunks)). */
#include "data/data_internal.h"
#include <stdlib.h>
#include <string.h>

static hs_status hf_encode(const void *ctx, const char *text, size_t len, hs_ids *out) {
    return hs_tokenizer_encode_special((const hs_tokenizer *)ctx, text, len, true, HS_UTF8_STRICT, out);
}

/* The encoder TL's pipeline uses for `tok` (eos_text malloc'd into *eos_text). */
static hs_status make_encoder(const hs_tokenizer *tok, const hs_tokens_params *params, hs_encoder *enc, char **eos_text) {
    int32_t bos = hs_tokenizer_bos_id(tok);
    const bool bos_col = !params || params->bos_column;
    /* A tokenizer whose post-processor adds a BOS (Llama-2/3): TL keeps that BOS inside the rows
     * and pads with the model's EOS, which only the model's config names: refuse without it */
    if (hs_tokenizer_adds_bos(tok) && !(params && params->eos_id >= 0))
        return hs_errorf(HS_ERR_UNSUPPORTED, "tokens: the tokenizer's post-processor adds a BOS (Llama-2/3): TransformerLens "
                         "pads with the model's EOS, so the model's config.json is needed (--model DIR)");
    int32_t eos = params && params->eos_id >= 0 ? params->eos_id : bos;
    if (bos_col && bos < 0) return hs_errorf(HS_ERR_NOT_FOUND, "tokens: the tokenizer has no BOS token (<|endoftext|> or its post-processor's)");
    if (eos < 0) return hs_errorf(HS_ERR_NOT_FOUND, "tokens: the tokenizer has no <|endoftext|> token (needed as EOS/pad)");
    if (eos >= hs_tokenizer_size(tok)) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: EOS id %d is not in the tokenizer", eos);
    size_t eos_len = 0;
    hs_status s = hs_tokenizer_decode(tok, &eos, 1, eos_text, &eos_len);
    if (s) return s;
    *enc = (hs_encoder){hf_encode, tok, eos, bos_col ? bos : -1, eos, *eos_text};
    return HS_OK;
}

hs_status hs_tokens_build(const hs_tokenizer *tok, hs_docs *docs, const hs_tokens_params *params,
                          hs_array *out, hs_tokens_stats *stats) {
    if (!tok || !docs || !out) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: missing tokenizer, dataset or output");
    hs_encoder enc;
    char *eos_text = NULL;
    hs_status s = make_encoder(tok, params, &enc, &eos_text);
    if (!s) s = hs_tokens_build_with(&enc, docs, params, out, stats);
    free(eos_text);
    return s;
}

hs_status hs_tokens_build_npy(const hs_tokenizer *tok, hs_docs *docs, const hs_tokens_params *params,
                              const char *path, hs_tokens_stats *stats) {
    if (!tok || !docs || !path) return hs_errorf(HS_ERR_INVALID_ARG, "tokens: missing tokenizer, dataset or output path");
    hs_encoder enc;
    char *eos_text = NULL;
    hs_status s = make_encoder(tok, params, &enc, &eos_text);
    if (!s) s = hs_tokens_build_with_npy(&enc, docs, params, path, stats);
    free(eos_text);
    return s;
}
