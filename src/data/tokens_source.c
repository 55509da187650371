/* tokens_source.c — a dataset named as `headscan scan --dataset` names it (a local path,
 * a glob or a hub dataset), read into the token matrix. One implementation for the
 * command and the Python package. */
#define _GNU_SOURCE
#include "data/data_internal.h"
#include <string.h>
#include <unistd.h>

/* Into *out, or (out NULL) into the .npy file npy_path. */
static hs_status from_dataset(const char *dataset, const hs_tokenizer *tok, const hs_docs_params *docs_params,
                              const hs_hub_params *hub, const hs_tokens_params *params, hs_array *out,
                              const char *npy_path, hs_tokens_stats *stats) {
    hs_docs_params dp = docs_params ? *docs_params : hs_docs_default_params();
    hs_tokens_params tp = params ? *params : hs_tokens_default_params();
    char **files = NULL;
    size_t n = 0;
    hs_status s;
    /* a dataset that is not a local path (nor a glob) is a hub dataset (e.g. NeelNanda/pile-10k) */
    if (access(dataset, F_OK) != 0 && !strpbrk(dataset, "*?[")) {
        const hs_hub_params hp = hub ? *hub : hs_hub_default_params();
        if ((s = hs_hub_resolve_dataset(dataset, &hp, &files, &n))) return s;
    }
    hs_docs *docs = NULL;
    s = files ? hs_docs_open_files((const char *const *)files, n, &dp, &docs) : hs_docs_open(dataset, &dp, &docs);
    hs_hub_free_files(files, n);
    if (s) return s;
    s = out ? hs_tokens_build(tok, docs, &tp, out, stats) : hs_tokens_build_npy(tok, docs, &tp, npy_path, stats);
    hs_docs_close(docs);
    return s;
}

hs_status hs_tokens_from_dataset(const char *dataset, const hs_tokenizer *tok, const hs_docs_params *docs_params,
                                 const hs_hub_params *hub, const hs_tokens_params *params, hs_array *out,
                                 hs_tokens_stats *stats) {
    if (!dataset || !tok || !out) return hs_errorf(HS_ERR_INVALID_ARG, "hs_tokens_from_dataset: dataset, tokenizer and out are required");
    return from_dataset(dataset, tok, docs_params, hub, params, out, NULL, stats);
}

hs_status hs_tokens_from_dataset_npy(const char *dataset, const hs_tokenizer *tok, const hs_docs_params *docs_params,
                                     const hs_hub_params *hub, const hs_tokens_params *params, const char *path,
                                     hs_tokens_stats *stats) {
    if (!dataset || !tok || !path) return hs_errorf(HS_ERR_INVALID_ARG, "hs_tokens_from_dataset_npy: dataset, tokenizer and path are required");
    return from_dataset(dataset, tok, docs_params, hub, params, NULL, path, stats);
}
