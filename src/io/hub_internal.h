/* hub_internal.h — private pieces shared by hub.c (names, cache, resolution) and
 * hub_http.c (libcurl transfers). */
#ifndef HS_HUB_INTERNAL_H
#define HS_HUB_INTERNAL_H

#include "headscan/hub.h"
#include "core/internal.h"

/* Everything a resolution needs, computed once from hs_hub_params. */
typedef struct hub_ctx {
    const hs_hub_params *p;
    char *endpoint;          /* no trailing '/' */
    char *token;             /* NULL: send none; never printed */
    char *cache;             /* cache root */
    int requests;            /* HTTP requests made (tests check offline makes none) */
} hub_ctx;

/* What a HEAD on a resolve URL tells (huggingface_hub's HfFileMetadata). */
typedef struct hub_meta {
    char *commit;            /* X-Repo-Commit */
    char *etag;              /* X-Linked-Etag, else ETag; quotes and W/ removed */
    char *location;          /* where to GET the bytes (a CDN for LFS files) */
    int64_t size;            /* X-Linked-Size, else Content-Length; -1 unknown */
    bool entry_missing;      /* a 404 EntryNotFound (commit set when the hub sent it) */
} hub_meta;

void hub_meta_free(hub_meta *m);

/* GET a small text body (API JSON). `what` names the request in error messages. */
hs_status hub_http_get_text(hub_ctx *c, const char *url, const char *what, char **body);
/* HEAD a resolve URL, following only relative redirects (renamed repos). */
hs_status hub_http_head(hub_ctx *c, const char *url, const char *what, hub_meta *m);
/* The pure part of hub_http_head, for the fuzzer and tests: raw response headers
 * (lines as curl delivers them, "HTTP/1.1 302 Found\r\n" first) to either a relative
 * redirect (*next, malloc'd) or metadata in m. hop = redirects followed so far. */
hs_status hub_parse_head_response(const char *url, const char *raw, size_t n, int hop, hub_meta *m, char **next);
/* A growable list of malloc'd strings (free each v[i], then v). */
typedef struct strlist { char **v; size_t n, cap; } strlist;
/* The hub API's revision answer ({"sha": ..., "siblings": [{"rfilename": ...}]}):
 * the commit (*sha, malloc'd) and the file names appended to files. */
hs_status hub_parse_repo_info(const char *body, size_t n, const char *what, char **sha, strlist *files);
/* The distinct shard names of a model.safetensors.index.json held in memory. */
hs_status hub_parse_index(const char *data, size_t n, const char *index_path, strlist *shards);

/* GET `url` into `incomplete` (appending to what is already there with a Range
 * request), retrying transient failures. `expected` = -1 when unknown. */
hs_status hub_http_download(hub_ctx *c, const char *url, const char *incomplete, int64_t expected,
                            const char *repo_id, const char *filename);

/* Percent-encoding as Python's urllib.parse.quote: unreserved characters kept, and the
 * characters of `safe` (e.g. "/" for file names, "" for revisions). malloc'd. */
char *hub_quote(const char *s, const char *safe);
/* sha256 of a file as 64 lowercase hex digits into out[65]. */
hs_status hub_sha256_file(const char *path, char out[65]);

#endif
