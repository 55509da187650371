/* headscan/hub.h — models and datasets by name: the HuggingFace hub and its cache.
 *
 *   hs_hub_params hp = hs_hub_default_params();   // HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN...
 *   char *dir;   hs_hub_resolve_model("pythia-70m", &hp, &dir);          // snapshot folder
 *   char **f; size_t n; hs_hub_resolve_dataset("NeelNanda/pile-10k", &hp, &f, &n);
 *
 * Names: an existing local path always wins; otherwise "ORG/NAME" (or a bare "NAME"
 * such as "gpt2"), or one of TransformerLens's aliases for the Pythia and GPT-2
 * families ("pythia-70m" -> "EleutherAI/pythia-70m"). A revision is a branch, tag or
 * 40-hex commit (Pythia checkpoints are branches such as "step143000").
 *
 * The cache is huggingface_hub's, read and written the same way, so files are shared
 * with Python tools in both directions:
 *   <cache>/models--ORG--NAME/refs/<revision>            the commit sha (40 hex, no newline)
 *   <cache>/models--ORG--NAME/blobs/<etag>               contents (sha256 for LFS files)
 *   <cache>/models--ORG--NAME/snapshots/<sha>/<file>     relative symlink to ../../blobs/<etag>
 *   <cache>/models--ORG--NAME/.no_exist/<sha>/<file>     empty: the hub said <file> is absent there
 * (datasets--ORG--NAME for datasets). Cache root: $HF_HUB_CACHE, else
 * $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
 * ~/.cache/huggingface/hub.
 *
 * Offline (params.offline, default from HF_HUB_OFFLINE=1): no network access at all;
 * names resolve from the cache or fail with HS_ERR_NOT_FOUND saying what is missing.
 * Online: one API request per repo gives the commit and file list; files already in
 * that commit's snapshot are not requested again. If the hub cannot be reached and the
 * cache holds a complete snapshot, that snapshot is used (a warning goes to the log).
 *
 * Transfers: a dropped connection, a stall, 429 or 5xx is retried (max_tries, backoff from
 * retry_delay doubling to 8x), a download resuming from its .incomplete bytes with a Range
 * request; LFS files are checked against their sha256 before being renamed into blobs/.
 * The token goes only to the endpoint's host, never to the CDN it redirects to.
 *
 * Errors: HS_ERR_AUTH (401/403; the message says to set HF_TOKEN — tokens are never
 * printed), HS_ERR_NOT_FOUND (repo, revision or file, named), HS_ERR_NETWORK (the
 * endpoint could not be reached, or a transfer kept failing after retries),
 * HS_ERR_UNSUPPORTED (a model with only pytorch_model.bin weights), HS_ERR_FORMAT (a
 * download whose size or sha256 does not match what the hub announced).
 * The library never prints: progress goes through the callback below.
 */
#ifndef HEADSCAN_HUB_H
#define HEADSCAN_HUB_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { HS_HUB_MODEL = 0, HS_HUB_DATASET = 1 } hs_hub_repo_type;

/* One progress report for one file being downloaded. */
typedef struct hs_hub_progress {
    const char *repo_id;
    const char *filename;
    int64_t done;            /* bytes of the file on disk so far (a resumed part included) */
    int64_t total;           /* expected size, -1 when unknown */
    double bytes_per_sec;    /* average over this transfer (resumed bytes excluded) */
    double elapsed;          /* seconds since this file's transfer started */
    bool finished;           /* last report for this file */
} hs_hub_progress;
/* Return false to cancel (the call then fails with HS_ERR_CANCELLED). Called at most
 * about ten times a second per file, plus once when the file is finished. */
typedef bool (*hs_hub_progress_fn)(const hs_hub_progress *p, void *user);

typedef struct hs_hub_params {
    const char *endpoint;    /* $HF_ENDPOINT, else "https://huggingface.co" */
    const char *cache_dir;   /* NULL: the environment's hub cache (see above) */
    const char *token;       /* NULL: $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN, else the token file
                                ($HF_TOKEN_PATH, else $HF_HOME/token); "" = send none */
    const char *revision;    /* NULL: "main" */
    bool offline;            /* $HF_HUB_OFFLINE in {1, ON, YES, TRUE} */
    int max_tries;           /* tries per request for transient errors (default 5) */
    double retry_delay;      /* first backoff in seconds, doubled each try, capped at 8x (0.5) */
    long connect_timeout;    /* seconds (10) */
    long stall_timeout;      /* seconds without a byte before a transfer is dropped and retried (30) */
    hs_hub_progress_fn progress;
    void *progress_user;
} hs_hub_params;

HS_API hs_hub_params hs_hub_default_params(void);

/* The hub cache root these params use (malloc'd). */
HS_API hs_status hs_hub_cache_dir(const hs_hub_params *params, char **out);

/* Canonical repo id for a model name: TransformerLens aliases are mapped (case
 * insensitively: "pythia-70m" -> "EleutherAI/pythia-70m", "gpt2-small" -> "gpt2"), other
 * well-formed ids are returned unchanged. HS_ERR_INVALID_ARG for a malformed id. */
HS_API hs_status hs_hub_model_repo_id(const char *name, char **repo_id_out);

/* A local directory is returned as is. Otherwise the snapshot folder of the repo in the
 * cache, after downloading what is missing of config.json, tokenizer.json,
 * tokenizer_config.json, special_tokens_map.json, generation_config.json and
 * model.safetensors (or model.safetensors.index.json and its shards). *dir_out is malloc'd. */
HS_API hs_status hs_hub_resolve_model(const char *name_or_path, const hs_hub_params *params,
                                      char **dir_out);

/* The Parquet files of the default config's train split, sorted by name. A local file
 * is returned as the single entry; a local directory gives its Parquet files. For a repo:
 * the *.parquet files of the revision that belong to the train split (or all of them when
 * none is named after a split), else those of the hub's parquet conversion
 * (revision "refs/convert/parquet", folder default/train/). Free with hs_hub_free_files. */
HS_API hs_status hs_hub_resolve_dataset(const char *name_or_path, const hs_hub_params *params,
                                        char ***files_out, size_t *n_out);
HS_API void hs_hub_free_files(char **files, size_t n);

/* One file of a repo, like huggingface_hub's hf_hub_download: the snapshot path of
 * `filename` (which may contain '/') at params->revision, downloaded if missing. */
HS_API hs_status hs_hub_download(const char *repo_id, hs_hub_repo_type type, const char *filename,
                                 const hs_hub_params *params, char **path_out);

/* The cache's contents, sorted by type then repo id. */
typedef struct hs_hub_cached_repo {
    hs_hub_repo_type type;
    char *repo_id;
    char *path;              /* the repo folder */
    int64_t size;            /* bytes of all blobs */
    int n_files;             /* distinct files over all snapshots */
    int n_snapshots;
    char *refs;              /* "main, step143000" ("" when none) */
    int64_t last_modified;   /* newest blob mtime, seconds since the epoch */
} hs_hub_cached_repo;
HS_API hs_status hs_hub_cache_scan(const hs_hub_params *params, hs_hub_cached_repo **out, size_t *n_out);
HS_API void hs_hub_cache_free(hs_hub_cached_repo *repos, size_t n);

#ifdef __cplusplus
}
#endif
#endif
