/* hub_http.c — the HuggingFace hub's HTTP side, with libcurl: API JSON, HEAD metadata of
 * resolve URLs, resumable downloads with retries and progress, and sha256 of blobs.
 *
 * Errors map to statuses the way huggingface_hub reports them: 401/403 → HS_ERR_AUTH,
 * 404 → HS_ERR_NOT_FOUND (with the hub's X-Error-Code when sent), an unreachable
 * endpoint → HS_ERR_NETWORK at once; dropped connections, stalls, 429 and 5xx are
 * retried with exponential backoff, a download resuming from the bytes it has. */
#define _GNU_SOURCE
#include "io/hub_internal.h"
#include <curl/curl.h>
#include <openssl/evp.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

void hub_meta_free(hub_meta *m) {
    free(m->commit);
    free(m->etag);
    free(m->location);
    memset(m, 0, sizeof *m);
    m->size = -1;
}

char *hub_quote(const char *s, const char *safe) {
    size_t n = strlen(s);
    char *out = hs_malloc(3 * n + 1);
    if (!out) return NULL;
    static const char hex[] = "0123456789ABCDEF";
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '_' || *p == '.' || *p == '-' || *p == '~' || (*p && strchr(safe, *p))) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = 0;
    return out;
}

hs_status hub_sha256_file(const char *path, char out[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return hs_errorf(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        fclose(f);
        EVP_MD_CTX_free(md);
        return hs_errorf(HS_ERR_INTERNAL, "sha256 unavailable in libcrypto");
    }
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = hs_malloc(CHUNK);
    if (!buf) { fclose(f); EVP_MD_CTX_free(md); return HS_ERR_NOMEM; }
    size_t r;
    while ((r = fread(buf, 1, CHUNK, f)) > 0) EVP_DigestUpdate(md, buf, r);
    int err = ferror(f);
    fclose(f);
    free(buf);
    unsigned char dig[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, dig, &dl);
    EVP_MD_CTX_free(md);
    if (err) return hs_errorf(HS_ERR_IO, "%s: read failed", path);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", dig[i]);
    return HS_OK;
}

/* ------------------------------------------------------------------ one request */

typedef struct req {
    hub_ctx *c;
    const char *url;
    bool head;
    bool follow;             /* follow absolute redirects (downloads to a CDN) */
    /* response headers of the last response seen */
    long status;
    char *h_commit, *h_etag, *h_linked_etag, *h_linked_size, *h_length, *h_location, *h_error_code;
    /* text body (API and error bodies) */
    char *body;
    size_t body_len, body_cap;
    /* download sink */
    FILE *sink;
    int64_t base;            /* bytes already in the sink when the request started */
    int64_t written;         /* bytes written by this request */
    bool sink_checked;
    int64_t expected;
    const char *repo_id, *filename;
    struct timespec t0;
    double last_report;
    int64_t rate_base;       /* bytes present when the file's transfer started (not counted in speed) */
    struct timespec file_t0;
    bool cancelled;
    bool io_failed;
    bool stalled;            /* no byte arrived for stall_timeout seconds: aborted, retried */
    int64_t seen;            /* bytes received at the last progress call */
    double seen_at;          /* when `seen` last changed */
} req;

static void req_reset_headers(req *r) {
    free(r->h_commit); free(r->h_etag); free(r->h_linked_etag); free(r->h_linked_size);
    free(r->h_length); free(r->h_location); free(r->h_error_code);
    r->h_commit = r->h_etag = r->h_linked_etag = r->h_linked_size = NULL;
    r->h_length = r->h_location = r->h_error_code = NULL;
}

static void req_free(req *r) {
    req_reset_headers(r);
    free(r->body);
    r->body = NULL;
}

static double now_sec(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static size_t on_header(char *buf, size_t size, size_t n, void *user) {
    req *r = user;
    size_t len = size * n;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {   /* a new response (after a redirect or 100) */
        req_reset_headers(r);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon) return len;
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1, *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    char **slot = NULL;
#define HDR(name, field) else if (klen == sizeof(name) - 1 && !strncasecmp(buf, name, klen)) slot = &r->field
    if (0) {}
    HDR("X-Repo-Commit", h_commit);
    HDR("ETag", h_etag);
    HDR("X-Linked-Etag", h_linked_etag);
    HDR("X-Linked-Size", h_linked_size);
    HDR("Content-Length", h_length);
    HDR("Location", h_location);
    HDR("X-Error-Code", h_error_code);
#undef HDR
    if (slot) {
        free(*slot);
        *slot = strndup(v, (size_t)(end - v));
    }
    return len;
}

static bool append_body(req *r, const char *p, size_t n) {
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n + 1) cap *= 2;
        if (cap > ((size_t)256 << 20)) return false;   /* API answers are small */
        char *nb = realloc(r->body, cap);
        if (!nb) return false;
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
    return true;
}

static size_t on_body(char *buf, size_t size, size_t n, void *user) {
    req *r = user;
    size_t len = size * n;
    if (!r->sink || r->status >= 300) {
        /* error bodies are kept (short) for messages */
        if (!r->sink || r->body_len < 4096) return append_body(r, buf, len) ? len : 0;
        return len;
    }
    if (!r->sink_checked) {
        r->sink_checked = true;
        if (r->base > 0 && r->status == 200) {
            /* the server ignored our Range: start the file again */
            if (ftruncate(fileno(r->sink), 0) != 0 || fseeko(r->sink, 0, SEEK_SET) != 0) {
                r->io_failed = true;
                return 0;
            }
            r->base = 0;
        }
    }
    if (fwrite(buf, 1, len, r->sink) != len) {
        r->io_failed = true;
        return 0;
    }
    r->written += (int64_t)len;
    return len;
}

static void report(req *r, bool finished) {
    const hs_hub_params *p = r->c->p;
    if (!p->progress || !r->filename) return;
    hs_hub_progress pr;
    pr.repo_id = r->repo_id;
    pr.filename = r->filename;
    pr.done = r->base + r->written;
    pr.total = r->expected;
    pr.elapsed = now_sec(&r->file_t0);
    pr.bytes_per_sec = pr.elapsed > 0 ? (double)(pr.done - r->rate_base) / pr.elapsed : 0;
    if (pr.bytes_per_sec < 0) pr.bytes_per_sec = 0;
    pr.finished = finished;
    if (!p->progress(&pr, p->progress_user)) r->cancelled = true;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    req *r = user;
    double t = now_sec(&r->t0);
    if ((int64_t)dlnow != r->seen) {
        r->seen = (int64_t)dlnow;
        r->seen_at = t;
    } else if (t - r->seen_at > (double)(r->c->p->stall_timeout > 0 ? r->c->p->stall_timeout : 30)) {
        r->stalled = true;   /* curl calls this at least once a second, data or not */
        return 1;
    }
    if (r->sink && r->status < 300 && t - r->last_report >= 0.1) {
        r->last_report = t;
        report(r, false);
    }
    return r->cancelled ? 1 : 0;
}

/* Keeps r->status current before body bytes arrive (on_body needs it). */
static size_t on_header_wrap(char *buf, size_t size, size_t n, void *user) {
    req *r = user;
    size_t len = size * n;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* "HTTP/1.1 206 Partial Content" */
        /* curl's header buffer is not NUL-terminated: read the digits within len only */
        const char *sp = memchr(buf, ' ', len), *end = buf + len;
        long st = 0;
        for (const char *d = sp ? sp + 1 : end; d < end && *d >= '0' && *d <= '9' && st < 100000; d++)
            st = st * 10 + (*d - '0');
        r->status = st;
    }
    return on_header(buf, size, n, user);
}

static bool same_origin(const char *url, const char *endpoint) {
    size_t n = strlen(endpoint);
    return !strncmp(url, endpoint, n) && (url[n] == 0 || url[n] == '/');
}

/* One attempt. Returns the curl code; r->status holds the final HTTP status. */
static CURLcode perform(req *r, char *errbuf) {
    CURL *h = curl_easy_init();
    if (!h) return CURLE_FAILED_INIT;
    struct curl_slist *hdrs = NULL;
    char auth[4096];
    /* The token goes only to the endpoint's host, never to a CDN it redirects to
     * (huggingface_hub drops it when the download URL's host differs). */
    if (r->c->token && same_origin(r->url, r->c->endpoint)) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->c->token);
        hdrs = curl_slist_append(hdrs, auth);
        memset(auth, 0, sizeof auth);
    }
    if (r->head) hdrs = curl_slist_append(hdrs, "Accept-Encoding: identity");
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "headscan/" HS_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, r->c->p->connect_timeout > 0 ? r->c->p->connect_timeout : 10L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, r->follow ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header_wrap);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (r->head) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (r->sink && r->base > 0) curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)r->base);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->last_report = -1;
    r->seen = 0;
    r->seen_at = 0;
    r->stalled = false;
    r->c->requests++;
    errbuf[0] = 0;
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    r->status = code;   /* the final response's status */
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    return rc;
}

static int max_tries(hub_ctx *c) { return c->p->max_tries > 0 ? c->p->max_tries : 5; }

static bool transient(const req *r, CURLcode rc) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) return r->stalled && !r->cancelled;
    switch (rc) {
    case CURLE_PARTIAL_FILE: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT: case CURLE_GOT_NOTHING: case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static bool transient_http(long status) { return status == 429 || (status >= 500 && status <= 599); }

/* The URL without any query string (signed CDN URLs carry credentials in it). */
static void url_for_message(const char *url, char *out, size_t cap) {
    snprintf(out, cap, "%s", url);
    char *q = strchr(out, '?');
    if (q) *q = 0;
}

static hs_status http_status_error(req *r, const char *what) {
    char u[512];
    url_for_message(r->url, u, sizeof u);
    const char *code = r->h_error_code ? r->h_error_code : "";
    switch (r->status) {
    case 401:
        return hs_errorf(HS_ERR_AUTH, "%s: 401 Unauthorized from %s%s%s: the repo is private or gated "
                         "(set HF_TOKEN to a token with access, or log in with `huggingface-cli login`), "
                         "or it does not exist", what, u, *code ? " " : "", code);
    case 403:
        return hs_errorf(HS_ERR_AUTH, "%s: 403 Forbidden from %s%s%s: the repo is gated — request access on "
                         "its hub page, then set HF_TOKEN to a token of that account", what, u,
                         *code ? " " : "", code);
    case 404:
        return hs_errorf(HS_ERR_NOT_FOUND, "%s: not found (404%s%s) at %s", what, *code ? " " : "", code, u);
    default:
        return hs_errorf(HS_ERR_NETWORK, "%s: HTTP %ld from %s", what, r->status, u);
    }
}

static hs_status curl_error(hub_ctx *c, req *r, CURLcode rc, const char *errbuf, const char *what) {
    if (r->stalled)
        return hs_errorf(HS_ERR_NETWORK, "%s: no data from %s for %ld s, %d times", what, c->endpoint,
                         c->p->stall_timeout > 0 ? c->p->stall_timeout : 30L, max_tries(c));
    if (rc == CURLE_ABORTED_BY_CALLBACK || r->cancelled) return hs_errorf(HS_ERR_CANCELLED, "%s: cancelled", what);
    if (r->io_failed) return hs_errorf(HS_ERR_IO, "%s: cannot write the download: %s", what, strerror(errno));
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
        return hs_errorf(HS_ERR_NETWORK, "%s: cannot reach %s (%s); check the network, or set "
                         "HF_HUB_OFFLINE=1 to use only the local cache", what, c->endpoint,
                         errbuf[0] ? errbuf : curl_easy_strerror(rc));
    char u[512];
    url_for_message(r->url, u, sizeof u);
    return hs_errorf(HS_ERR_NETWORK, "%s: transfer from %s failed: %s", what, u,
                     errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

static void backoff(hub_ctx *c, int attempt) {
    double d = c->p->retry_delay > 0 ? c->p->retry_delay : 0.5;
    double cap = 8 * d;
    for (int i = 0; i < attempt; i++) d = d * 2 > cap ? cap : d * 2;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}


/* Runs r with retries on transient failures. For non-download requests only. */
static hs_status run_simple(hub_ctx *c, req *r, const char *what) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) return hs_errorf(HS_ERR_INTERNAL, "libcurl initialisation failed");
    char errbuf[CURL_ERROR_SIZE];
    for (int attempt = 0;; attempt++) {
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        req_reset_headers(r);
        r->status = 0;
        CURLcode rc = perform(r, errbuf);
        bool last = attempt + 1 >= max_tries(c);
        if (rc != CURLE_OK) {
            if (transient(r, rc) && !last) { backoff(c, attempt); continue; }
            return curl_error(c, r, rc, errbuf, what);
        }
        if (transient_http(r->status) && !last) { backoff(c, attempt); continue; }
        if (r->status >= 400) return http_status_error(r, what);
        return HS_OK;
    }
}

hs_status hub_http_get_text(hub_ctx *c, const char *url, const char *what, char **body) {
    *body = NULL;
    req r = {.c = c, .url = url, .follow = true, .expected = -1};
    hs_status s = run_simple(c, &r, what);
    if (s == HS_OK) {
        *body = r.body ? r.body : hs_strdup("");
        r.body = NULL;
        if (!*body) s = HS_ERR_NOMEM;
    }
    req_free(&r);
    return s;
}

static char *normalize_etag(const char *e) {
    if (!e) return NULL;
    if (!strncmp(e, "W/", 2)) e += 2;
    size_t n = strlen(e);
    while (n && *e == '"') { e++; n--; }
    while (n && e[n - 1] == '"') n--;
    return strndup(e, n);
}

/* What one HEAD response (headers already in r) means: a relative redirect to follow
 * (*next = the new URL; a renamed repo, followed as huggingface_hub does), or the
 * file's metadata in m. s is the request's status so far. Shared by hub_http_head and
 * hub_parse_head_response (which the fuzzer drives with raw bytes). */
static hs_status head_outcome(req *r, hs_status s, const char *cur, const char *what, int hop, hub_meta *m,
                              char **next) {
    *next = NULL;
    if (s == HS_OK && r->status >= 300 && r->status < 400 && r->h_location && r->h_location[0] == '/' &&
        r->h_location[1] != '/') {
        if (hop >= 10) return hs_errorf(HS_ERR_NETWORK, "%s: too many redirects", what);
        const char *p = strstr(cur, "://");
        p = p ? strchr(p + 3, '/') : NULL;
        size_t origin = p ? (size_t)(p - cur) : strlen(cur);
        char *n = hs_malloc(origin + strlen(r->h_location) + 1);
        if (!n) return HS_ERR_NOMEM;
        memcpy(n, cur, origin);
        strcpy(n + origin, r->h_location);
        *next = n;
        return HS_OK;
    }
    if (s == HS_OK) {
        m->commit = r->h_commit ? hs_strdup(r->h_commit) : NULL;
        m->etag = normalize_etag(r->h_linked_etag ? r->h_linked_etag : r->h_etag);
        const char *sz = r->h_linked_size ? r->h_linked_size : r->h_length;
        if (sz) {
            char *end;
            errno = 0;
            long long v = strtoll(sz, &end, 10);
            if (end != sz && v >= 0 && errno == 0) m->size = v;
        }
        m->location = hs_strdup((r->status >= 300 && r->status < 400 && r->h_location) ? r->h_location : cur);
    } else if (r->status == 404 && r->h_error_code && !strcmp(r->h_error_code, "EntryNotFound")) {
        m->entry_missing = true;
        m->commit = r->h_commit ? hs_strdup(r->h_commit) : NULL;
    }
    return s;
}

hs_status hub_http_head(hub_ctx *c, const char *url, const char *what, hub_meta *m) {
    memset(m, 0, sizeof *m);
    m->size = -1;
    char *cur = hs_strdup(url);
    if (!cur) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    for (int hop = 0;; hop++) {
        req r = {.c = c, .url = cur, .head = true, .follow = false, .expected = -1};
        s = run_simple(c, &r, what);
        char *next = NULL;
        s = head_outcome(&r, s, cur, what, hop, m, &next);
        req_free(&r);
        if (s || !next) break;
        free(cur);
        cur = next;
    }
    free(cur);
    return s;
}

hs_status hub_parse_head_response(const char *url, const char *raw, size_t n, int hop, hub_meta *m, char **next) {
    memset(m, 0, sizeof *m);
    m->size = -1;
    *next = NULL;
    req r = {.url = url, .head = true, .expected = -1};
    /* one header line at a time, as curl delivers them (each with its line end) */
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(raw + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (raw + i)) + 1 : n - i;
        on_header_wrap((char *)raw + i, 1, len, &r);
        i += len;
    }
    hs_status s = r.status >= 400 ? hs_errorf(HS_ERR_NETWORK, "%s: HTTP %ld", url, r.status) : HS_OK;
    s = head_outcome(&r, s, url, url, hop, m, next);
    req_free(&r);
    return s;
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

hs_status hub_http_download(hub_ctx *c, const char *url, const char *incomplete, int64_t expected,
                            const char *repo_id, const char *filename) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) return hs_errorf(HS_ERR_INTERNAL, "libcurl initialisation failed");
    char what[1024];
    snprintf(what, sizeof what, "%s: downloading %s", repo_id, filename);
    char errbuf[CURL_ERROR_SIZE];
    struct timespec file_t0;
    clock_gettime(CLOCK_MONOTONIC, &file_t0);
    int64_t start_size = file_size(incomplete);
    if (start_size < 0) start_size = 0;
    for (int attempt = 0;; attempt++) {
        bool last = attempt + 1 >= max_tries(c);
        int64_t have = file_size(incomplete);
        if (have < 0) have = 0;
        if (expected >= 0 && have > expected) {   /* a stale part longer than the file: start over */
            if (truncate(incomplete, 0) != 0)
                return hs_errorf(HS_ERR_IO, "%s: cannot truncate: %s", incomplete, strerror(errno));
            have = 0;
        }
        req r = {.c = c, .url = url, .follow = true, .expected = expected, .repo_id = repo_id,
                 .filename = filename, .base = have, .rate_base = start_size, .file_t0 = file_t0};
        if (expected >= 0 && have == expected) {
            report(&r, true);
            req_free(&r);
            return HS_OK;
        }
        r.sink = fopen(incomplete, "ab");
        if (!r.sink) return hs_errorf(HS_ERR_IO, "%s: cannot open for writing: %s", incomplete, strerror(errno));
        CURLcode rc = perform(&r, errbuf);
        if (fclose(r.sink) != 0 && rc == CURLE_OK) r.io_failed = true;
        r.sink = NULL;
        hs_status s = HS_OK;
        if (r.cancelled) {
            s = hs_errorf(HS_ERR_CANCELLED, "%s: cancelled", what);
        } else if (r.io_failed) {
            s = hs_errorf(HS_ERR_IO, "%s: cannot write %s: %s", what, incomplete, strerror(errno));
        } else if (rc != CURLE_OK) {
            if (transient(&r, rc) && !last) { req_free(&r); backoff(c, attempt); continue; }
            s = curl_error(c, &r, rc, errbuf, what);
        } else if (r.status == 416 && have > 0) {
            /* our Range starts at or past the end: the part is stale — start over */
            req_free(&r);
            if (truncate(incomplete, 0) != 0)
                return hs_errorf(HS_ERR_IO, "%s: cannot truncate: %s", incomplete, strerror(errno));
            if (last) return hs_errorf(HS_ERR_NETWORK, "%s: server refused the resume request", what);
            continue;
        } else if (transient_http(r.status) && !last) {
            req_free(&r);
            backoff(c, attempt);
            continue;
        } else if (r.status >= 400) {
            s = http_status_error(&r, what);
        } else {
            int64_t got = file_size(incomplete);
            if (expected >= 0 && got != expected) {
                if (got < expected && !last) { req_free(&r); backoff(c, attempt); continue; }
                s = hs_errorf(HS_ERR_FORMAT, "%s: got %lld bytes, the hub announced %lld", what,
                              (long long)got, (long long)expected);
            } else {
                r.expected = got;
                report(&r, true);
            }
        }
        req_free(&r);
        return s;
    }
}
