/* fuzz/hub.c — the hub's HTTP response handling without a network: the input is split at
 * the first blank line ("\r\n\r\n") into a raw header block (status line, X-Repo-Commit,
 * ETag / X-Linked-Etag, X-Linked-Size / Content-Length, Location, X-Error-Code, several
 * responses after redirects) fed to hub_parse_head_response exactly as curl delivers
 * lines, and a body parsed as the API's revision answer (hub_parse_repo_info). */
#include "fuzz_util.h"
#include "io/hub_internal.h"

FUZZ_ENTRY(hub) {
    const char *raw = (const char *)data;
    size_t hn = size;
    const char *body = NULL;
    size_t bn = 0;
    for (size_t i = 0; i + 4 <= size; i++)
        if (!memcmp(raw + i, "\r\n\r\n", 4)) { hn = i + 2; body = raw + i + 4; bn = size - i - 4; break; }
    hub_meta m;
    char *next = NULL;
    int hop = size ? data[0] % 12 : 0;
    (void)hub_parse_head_response("https://huggingface.co/org/repo/resolve/main/config.json", raw, hn, hop, &m, &next);
    free(next);
    hub_meta_free(&m);
    if (body) {
        char *sha = NULL;
        strlist files = {0};
        (void)hub_parse_repo_info(body, bn, "fuzz", &sha, &files);
        free(sha);
        for (size_t i = 0; i < files.n; i++) free(files.v[i]);
        free(files.v);
    }
    return 0;
}
