/* tokens_save.c — writes a token matrix as .npy plus its JSON sidecar
 * ("<path>.json": where the tokens came from and how they were made). */
#include "data/data_internal.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mode_name(hs_tokens_mode m) { return m == HS_TOKENS_PLAIN ? "plain" : "transformerlens"; }

static cJSON *file_entry(const char *path, hs_status *s) {
    cJSON *o = cJSON_CreateObject();
    char hex[65];
    struct stat st;
    cJSON_AddStringToObject(o, "path", path);
    if (stat(path, &st) == 0) cJSON_AddNumberToObject(o, "bytes", (double)st.st_size);
    if ((*s = hs_data_sha256_file(path, hex)) == HS_OK) cJSON_AddStringToObject(o, "sha256", hex);
    return o;
}

hs_status hs_tokens_save(const char *path, const hs_array *tokens, const hs_docs *docs,
                         const char *tokenizer_path, const hs_tokens_params *params,
                         const hs_tokens_stats *stats) {
    if (!path || !tokens || !docs || !params)
        return hs_errorf(HS_ERR_INVALID_ARG, "tokens: missing output path, matrix, dataset or parameters");
    if (tokens->dtype != HS_I64 || tokens->ndim != 2)
        return hs_errorf(HS_ERR_INVALID_ARG, "%s: a token matrix is int64 [rows, n_ctx]", path);
    hs_status s = HS_OK;
    char mhex[65];
    if ((s = hs_data_sha256(tokens->data, (size_t)hs_array_numel(tokens) * 8, mhex))) return s;

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", "headscan-tokens");
    cJSON_AddNumberToObject(j, "format_version", 1);
    cJSON_AddStringToObject(j, "headscan", hs_version());
    cJSON *shape = cJSON_AddArrayToObject(j, "shape");
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)tokens->shape[0]));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)tokens->shape[1]));
    cJSON_AddStringToObject(j, "dtype", "int64");
    cJSON_AddStringToObject(j, "sha256_int64_le_rowmajor", mhex);
    cJSON_AddStringToObject(j, "mode", mode_name(params->mode));
    cJSON_AddNumberToObject(j, "n_ctx", params->n_ctx);
    if (params->shuffle) {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)params->seed);
        if (params->seed < (1ull << 53)) cJSON_AddNumberToObject(j, "shuffle_seed", (double)params->seed);
        else cJSON_AddStringToObject(j, "shuffle_seed", seed);
        cJSON_AddStringToObject(j, "shuffle", "row i = unshuffled row permutation[i]; permutation = numpy "
                                               "default_rng(seed).permutation(rows) (datasets Dataset.shuffle)");
    } else {
        cJSON_AddNullToObject(j, "shuffle_seed");
    }
    if (params->mode == HS_TOKENS_TRANSFORMERLENS) {
        cJSON *tl = cJSON_AddObjectToObject(j, "transformerlens");
        cJSON_AddNumberToObject(tl, "num_proc", params->num_proc);
        cJSON_AddNumberToObject(tl, "batch_size", params->batch_size);
        cJSON_AddNumberToObject(tl, "num_chunks", params->num_chunks);
    }
    hs_docs_params dp = hs_docs_get_params(docs);
    cJSON *src = cJSON_AddObjectToObject(j, "dataset");
    cJSON_AddStringToObject(src, "field", dp.field ? dp.field : "text");
    cJSON_AddStringToObject(src, "nulls", dp.nulls == HS_NULLS_ERROR ? "error" : "skip");
    cJSON_AddStringToObject(src, "text_mode", dp.text_mode == HS_TEXT_PER_LINE ? "line" : "file");
    cJSON_AddStringToObject(src, "utf8", dp.utf8 == HS_UTF8_REPLACE ? "replace" : "strict");
    cJSON *files = cJSON_AddArrayToObject(src, "files");
    for (int i = 0; !s && i < hs_docs_num_files(docs); i++) {
        cJSON *f = file_entry(hs_docs_file(docs, i), &s);
        hs_docs_stats fs = hs_docs_file_stats(docs, i);
        cJSON_AddNumberToObject(f, "docs", (double)fs.docs);
        cJSON_AddNumberToObject(f, "nulls", (double)fs.nulls);
        cJSON_AddItemToArray(files, f);
    }
    if (!s && tokenizer_path) cJSON_AddItemToObject(j, "tokenizer", file_entry(tokenizer_path, &s));
    if (stats) {
        cJSON *st = cJSON_AddObjectToObject(j, "stats");
        cJSON_AddNumberToObject(st, "docs", (double)stats->docs);
        cJSON_AddNumberToObject(st, "nulls_skipped", (double)stats->nulls);
        cJSON_AddNumberToObject(st, "tokens", (double)stats->tokens);
        cJSON_AddNumberToObject(st, "pad_removed", (double)stats->pad_removed);
        cJSON_AddNumberToObject(st, "tail_dropped", (double)stats->tail_dropped);
        cJSON_AddNumberToObject(st, "batches", (double)stats->batches);
        cJSON_AddNumberToObject(st, "rows", (double)stats->rows);
    }
    char *text = s ? NULL : cJSON_Print(j);
    cJSON_Delete(j);
    if (s) return s;
    if (!text) return hs_errorf(HS_ERR_NOMEM, "%s: cannot format the sidecar JSON", path);
    size_t n = strlen(path);
    char *side = hs_malloc(n + 6);
    if (!side) { free(text); return HS_ERR_NOMEM; }
    memcpy(side, path, n);
    memcpy(side + n, ".json", 6);
    /* both written and synced before either is renamed: a full disk leaves the previous
     * pair as it was (only a failing rename, after the .npy's, can split a pair) */
    hs_atomic_file an, as;
    s = hs_npy_write_prepared(path, HS_I64, 2, tokens->shape, tokens->data, &an);
    if (!s) {
        size_t tl = strlen(text);
        text[tl] = '\n';  /* replaces the NUL; written without it */
        s = hs_write_file_prepared(side, text, tl + 1, &as);
        if (s) hs_atomic_abort(&an);
    }
    if (!s) {
        /* a signal between the two renames would leave the new matrix beside the old
         * sidecar: it waits until both are in place */
        hs_fault_commit_delay();
        hs_signals_defer();
        s = hs_atomic_rename(&an);
        if (s) hs_atomic_abort(&as);
        else {
            hs_fault_pair_delay();
            if ((s = hs_atomic_rename(&as))) unlink(path);   /* no matrix without its sidecar */
        }
        hs_signals_resume();
    }
    free(side);
    free(text);
    return s;
}
