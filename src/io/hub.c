/* hub.c — model and dataset names → files, through huggingface_hub's cache layout.
 *
 * Mirrors huggingface_hub (file_download.py: hf_hub_download, try_to_load_from_cache,
 * _create_symlink, _cache_commit_hash_for_specific_revision; hf_api.py: repo_info):
 * refs/<revision> holds the commit, blobs/<etag> the bytes, snapshots/<commit>/<file>
 * a relative symlink to the blob, downloads go to blobs/<etag>.incomplete under the
 * lock .locks/<repo folder>/<etag>.lock, then are renamed into place. */
#define _GNU_SOURCE
#include "io/hub_internal.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ small helpers */


static hs_status sl_push(strlist *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return hs_errorf(HS_ERR_NOMEM, "out of memory");
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = hs_strdup(s))) return HS_ERR_NOMEM;
    l->n++;
    return HS_OK;
}

static bool sl_has(const strlist *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return true;
    return false;
}

static void sl_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    if (!s) hs_errorf(HS_ERR_NOMEM, "out of memory");
    return s;
}

static bool is_commit_hash(const char *s) {
    if (!s || strlen(s) != 40) return false;
    for (int i = 0; i < 40; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return false;
    return true;
}

static bool is_sha256_hex(const char *s) {
    if (!s || strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return true;
}

static bool path_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p of `path` (all components). */
static hs_status mkdirs(const char *path) {
    char *p = hs_strdup(path);
    if (!p) return HS_ERR_NOMEM;
    for (char *q = p + 1;; q++) {
        if (*q == '/' || *q == 0) {
            char saved = *q;
            *q = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                hs_status s = hs_errorf(HS_ERR_IO, "%s: cannot create folder: %s", p, strerror(errno));
                free(p);
                return s;
            }
            if (!saved) break;
            *q = saved;
        }
    }
    free(p);
    return HS_OK;
}

static hs_status mkdirs_parent(const char *path) {
    char *d = hs_strdup(path);
    if (!d) return HS_ERR_NOMEM;
    char *slash = strrchr(d, '/');
    hs_status s = HS_OK;
    if (slash && slash != d) {
        *slash = 0;
        s = mkdirs(d);
    }
    free(d);
    return s;
}

/* ------------------------------------------------------------------ names */

/* TransformerLens's short names for the Pythia, GPT-2 and Llama families: its official names
 * (loading_from_pretrained.py OFFICIAL_MODEL_NAMES, which it accepts in any case) and
 * aliases (MODEL_ALIASES) → official HuggingFace repo id. Compared case-insensitively. */
static const struct { const char *alias, *repo; } model_aliases[] = {
    {"gpt2", "gpt2"}, {"gpt2-small", "gpt2"},
    {"gpt2-medium", "gpt2-medium"}, {"gpt2-large", "gpt2-large"}, {"gpt2-xl", "gpt2-xl"},
    {"distilgpt2", "distilgpt2"}, {"distillgpt2", "distilgpt2"}, {"distill-gpt2", "distilgpt2"},
    {"distil-gpt2", "distilgpt2"}, {"gpt2-xs", "distilgpt2"},
    {"pythia", "EleutherAI/pythia-70m"},
    {"pythia-v0", "EleutherAI/pythia-70m-v0"},
    {"pythia-14m", "EleutherAI/pythia-14m"},
    {"pythia-31m", "EleutherAI/pythia-31m"},
    /* sizes and the names EleutherAI used before renaming them */
#define PY(sz, old) \
    {"pythia-" sz, "EleutherAI/pythia-" sz}, {"pythia-" old, "EleutherAI/pythia-" sz}, \
    {"EleutherAI/pythia-" old, "EleutherAI/pythia-" sz}, \
    {"pythia-" sz "-deduped", "EleutherAI/pythia-" sz "-deduped"}, \
    {"pythia-" old "-deduped", "EleutherAI/pythia-" sz "-deduped"}, \
    {"EleutherAI/pythia-" old "-deduped", "EleutherAI/pythia-" sz "-deduped"}, \
    {"pythia-" sz "-v0", "EleutherAI/pythia-" sz "-v0"}, {"pythia-" old "-v0", "EleutherAI/pythia-" sz "-v0"}, \
    {"EleutherAI/pythia-" old "-v0", "EleutherAI/pythia-" sz "-v0"}, \
    {"pythia-" sz "-deduped-v0", "EleutherAI/pythia-" sz "-deduped-v0"}, \
    {"pythia-" old "-deduped-v0", "EleutherAI/pythia-" sz "-deduped-v0"}, \
    {"EleutherAI/pythia-" old "-deduped-v0", "EleutherAI/pythia-" sz "-deduped-v0"}
    PY("70m", "19m"), PY("160m", "125m"), PY("410m", "350m"), PY("1b", "800m"),
    PY("1.4b", "1.3b"), PY("2.8b", "2.7b"), PY("6.9b", "6.7b"), PY("12b", "13b"),
#undef PY
    {"pythia-160m-seed1", "EleutherAI/pythia-160m-seed1"}, {"pythia-125m-seed1", "EleutherAI/pythia-160m-seed1"},
    {"EleutherAI/pythia-125m-seed1", "EleutherAI/pythia-160m-seed1"},
    {"pythia-160m-seed2", "EleutherAI/pythia-160m-seed2"}, {"pythia-125m-seed2", "EleutherAI/pythia-160m-seed2"},
    {"EleutherAI/pythia-125m-seed2", "EleutherAI/pythia-160m-seed2"},
    {"pythia-160m-seed3", "EleutherAI/pythia-160m-seed3"}, {"pythia-125m-seed3", "EleutherAI/pythia-160m-seed3"},
    {"EleutherAI/pythia-125m-seed3", "EleutherAI/pythia-160m-seed3"},
    /* Llama family (TL 2.18 OFFICIAL_MODEL_NAMES and MODEL_ALIASES; model_type llama, mistral,
     * qwen2 — Mixtral's mixture of experts is not supported). Any other HF id (TinyLlama/…,
     * HuggingFaceTB/SmolLM2-…) is used as given. */
    {"meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"}, {"Llama-2-7b", "meta-llama/Llama-2-7b-hf"},
    {"meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-chat-hf"}, {"Llama-2-7b-chat", "meta-llama/Llama-2-7b-chat-hf"},
    {"meta-llama/Llama-2-13b-hf", "meta-llama/Llama-2-13b-hf"}, {"Llama-2-13b", "meta-llama/Llama-2-13b-hf"},
    {"meta-llama/Llama-2-13b-chat-hf", "meta-llama/Llama-2-13b-chat-hf"}, {"Llama-2-13b-chat", "meta-llama/Llama-2-13b-chat-hf"},
    {"meta-llama/Llama-2-70b-chat-hf", "meta-llama/Llama-2-70b-chat-hf"},
    {"Llama-2-70b-chat", "meta-llama/Llama-2-70b-chat-hf"},
    {"meta-llama-2-70b-chat-hf", "meta-llama/Llama-2-70b-chat-hf"},
    {"codellama/CodeLlama-7b-hf", "codellama/CodeLlama-7b-hf"}, {"CodeLlamallama-2-7b", "codellama/CodeLlama-7b-hf"},
    {"codellama/CodeLlama-7b-Python-hf", "codellama/CodeLlama-7b-Python-hf"},
    {"CodeLlama-7b-python", "codellama/CodeLlama-7b-Python-hf"},
    {"codellama/CodeLlama-7b-Instruct-hf", "codellama/CodeLlama-7b-Instruct-hf"},
    {"CodeLlama-7b-instruct", "codellama/CodeLlama-7b-Instruct-hf"},
    {"meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B"},
    {"meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama/Meta-Llama-3-8B-Instruct"},
    {"meta-llama/Meta-Llama-3-70B", "meta-llama/Meta-Llama-3-70B"},
    {"meta-llama/Meta-Llama-3-70B-Instruct", "meta-llama/Meta-Llama-3-70B-Instruct"},
    {"meta-llama/Llama-3.1-70B", "meta-llama/Llama-3.1-70B"},
    {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B"},
    {"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"},
    {"meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"},
    {"meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B"},
    {"meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.2-3B"},
    {"meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-1B-Instruct"},
    {"meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-3B-Instruct"},
    {"meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.3-70B-Instruct"},
    {"mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1"}, {"mistral-7b", "mistralai/Mistral-7B-v0.1"},
    {"mistralai/Mistral-7B-Instruct-v0.1", "mistralai/Mistral-7B-Instruct-v0.1"},
    {"mistral-7b-instruct", "mistralai/Mistral-7B-Instruct-v0.1"},
    {"mistralai/Mistral-Small-24B-Base-2501", "mistralai/Mistral-Small-24B-Base-2501"},
    {"mistralai/Mistral-Nemo-Base-2407", "mistralai/Mistral-Nemo-Base-2407"},
    {"mistral-nemo-base-2407", "mistralai/Mistral-Nemo-Base-2407"},
    {"Qwen/Qwen2-0.5B", "Qwen/Qwen2-0.5B"}, {"qwen2-0.5b", "Qwen/Qwen2-0.5B"},
    {"Qwen/Qwen2-0.5B-Instruct", "Qwen/Qwen2-0.5B-Instruct"}, {"qwen2-0.5b-instruct", "Qwen/Qwen2-0.5B-Instruct"},
    {"Qwen/Qwen2-1.5B", "Qwen/Qwen2-1.5B"}, {"qwen2-1.5b", "Qwen/Qwen2-1.5B"},
    {"Qwen/Qwen2-1.5B-Instruct", "Qwen/Qwen2-1.5B-Instruct"}, {"qwen2-1.5b-instruct", "Qwen/Qwen2-1.5B-Instruct"},
    {"Qwen/Qwen2-7B", "Qwen/Qwen2-7B"}, {"qwen2-7b", "Qwen/Qwen2-7B"},
    {"Qwen/Qwen2-7B-Instruct", "Qwen/Qwen2-7B-Instruct"}, {"qwen2-7b-instruct", "Qwen/Qwen2-7B-Instruct"},
    {"Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B"}, {"qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B"},
    {"Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"}, {"qwen2.5-0.5b-instruct", "Qwen/Qwen2.5-0.5B-Instruct"},
    {"Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-1.5B"}, {"qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B"},
    {"Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct"}, {"qwen2.5-1.5b-instruct", "Qwen/Qwen2.5-1.5B-Instruct"},
    {"Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-3B"}, {"qwen2.5-3b", "Qwen/Qwen2.5-3B"},
    {"Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct"}, {"qwen2.5-3b-instruct", "Qwen/Qwen2.5-3B-Instruct"},
    {"Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B"}, {"qwen2.5-7b", "Qwen/Qwen2.5-7B"},
    {"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"}, {"qwen2.5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct"},
    {"Qwen/Qwen2.5-14B", "Qwen/Qwen2.5-14B"}, {"qwen2.5-14b", "Qwen/Qwen2.5-14B"},
    {"Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B-Instruct"}, {"qwen2.5-14b-instruct", "Qwen/Qwen2.5-14B-Instruct"},
    {"Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-32B"}, {"qwen2.5-32b", "Qwen/Qwen2.5-32B"},
    {"Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-32B-Instruct"}, {"qwen2.5-32b-instruct", "Qwen/Qwen2.5-32B-Instruct"},
    {"Qwen/Qwen2.5-72B", "Qwen/Qwen2.5-72B"}, {"qwen2.5-72b", "Qwen/Qwen2.5-72B"},
    {"Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-72B-Instruct"}, {"qwen2.5-72b-instruct", "Qwen/Qwen2.5-72B-Instruct"},
};

/* huggingface_hub's validate_repo_id: "[namespace/]name", each part of [A-Za-z0-9_.-]
 * beginning and ending with a letter, digit or '_' (the regex's \b), at most 96
 * characters in all, no "--" or "..", not ending in ".git". */
static bool word_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

static bool valid_repo_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 96 || strstr(id, "--") || strstr(id, "..")) return false;
    if (n >= 4 && !strcmp(id + n - 4, ".git")) return false;
    int slashes = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (ch == '/') {
            if (++slashes > 1) return false;
            continue;
        }
        if (!word_char(ch) && ch != '-' && ch != '.') return false;
        bool first = i == 0 || id[i - 1] == '/', last = i + 1 == n || id[i + 1] == '/';
        if ((first || last) && !word_char(ch)) return false;
    }
    return id[0] != '/' && id[n - 1] != '/';
}

hs_status hs_hub_model_repo_id(const char *name, char **out) {
    *out = NULL;
    if (!name) return hs_errorf(HS_ERR_INVALID_ARG, "no model name");
    for (size_t i = 0; i < sizeof model_aliases / sizeof *model_aliases; i++)
        if (!strcasecmp(name, model_aliases[i].alias)) {
            *out = hs_strdup(model_aliases[i].repo);
            return *out ? HS_OK : HS_ERR_NOMEM;
        }
    if (!valid_repo_id(name))
        return hs_errorf(HS_ERR_INVALID_ARG, "'%s' is neither an existing path nor a hub repo id (ORG/NAME)", name);
    *out = hs_strdup(name);
    return *out ? HS_OK : HS_ERR_NOMEM;
}

/* ------------------------------------------------------------------ params and context */

static bool env_true(const char *name) {
    const char *v = getenv(name);
    return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"));
}

static const char *env_nonempty(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

hs_hub_params hs_hub_default_params(void) {
    hs_hub_params p;
    memset(&p, 0, sizeof p);
    p.endpoint = env_nonempty("HF_ENDPOINT");
    if (!p.endpoint) p.endpoint = "https://huggingface.co";
    p.offline = env_true("HF_HUB_OFFLINE");
    p.max_tries = 5;
    p.retry_delay = 0.5;
    p.connect_timeout = 10;
    p.stall_timeout = 30;
    return p;
}

/* $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
static char *hf_home(void) {
    const char *h = env_nonempty("HF_HOME");
    if (h) return hs_strdup(h);
    const char *x = env_nonempty("XDG_CACHE_HOME");
    if (x) return hs_path_join(x, "huggingface");
    const char *home = env_nonempty("HOME");
    if (!home) home = "/tmp";
    return hs_path_join(home, ".cache/huggingface");
}

hs_status hs_hub_cache_dir(const hs_hub_params *params, char **out) {
    *out = NULL;
    if (params && params->cache_dir && *params->cache_dir) *out = hs_strdup(params->cache_dir);
    else if (env_nonempty("HF_HUB_CACHE")) *out = hs_strdup(getenv("HF_HUB_CACHE"));
    else if (env_nonempty("HUGGINGFACE_HUB_CACHE")) *out = hs_strdup(getenv("HUGGINGFACE_HUB_CACHE"));
    else {
        char *home = hf_home();
        if (home) *out = hs_path_join(home, "hub");
        free(home);
    }
    return *out ? HS_OK : HS_ERR_NOMEM;
}

/* The token, by huggingface_hub's precedence; NULL when there is none. */
static char *find_token(const hs_hub_params *p) {
    if (p->token) return *p->token ? hs_strdup(p->token) : NULL;
    const char *t = env_nonempty("HF_TOKEN");
    if (!t) t = env_nonempty("HUGGING_FACE_HUB_TOKEN");
    if (t) return hs_strdup(t);
    char *path = NULL;
    if (env_nonempty("HF_TOKEN_PATH")) path = hs_strdup(getenv("HF_TOKEN_PATH"));
    else {
        char *home = hf_home();
        if (home) path = hs_path_join(home, "token");
        free(home);
    }
    char *data = NULL;
    if (path && is_file(path) && hs_read_file(path, 1 << 16, &data, NULL) == HS_OK) {
        /* strip surrounding whitespace */
        char *s = data;
        while (*s && isspace((unsigned char)*s)) s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1])) n--;
        s[n] = 0;
        char *tok = n ? hs_strdup(s) : NULL;
        memset(data, 0, strlen(data));
        free(data);
        free(path);
        hs_error_clear();
        return tok;
    }
    free(path);
    hs_error_clear();
    return NULL;
}

static void ctx_free(hub_ctx *c) {
    free(c->endpoint);
    if (c->token) memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c->cache);
    memset(c, 0, sizeof *c);
}

static hs_status ctx_init(hub_ctx *c, const hs_hub_params *p) {
    memset(c, 0, sizeof *c);
    c->p = p;
    const char *ep = p->endpoint && *p->endpoint ? p->endpoint : "https://huggingface.co";
    c->endpoint = hs_strdup(ep);
    if (!c->endpoint) return HS_ERR_NOMEM;
    size_t n = strlen(c->endpoint);
    while (n > 1 && c->endpoint[n - 1] == '/') c->endpoint[--n] = 0;
    hs_status s = hs_hub_cache_dir(p, &c->cache);
    if (s) { ctx_free(c); return s; }
    if (!p->offline) c->token = find_token(p);
    return HS_OK;
}

/* ------------------------------------------------------------------ cache layout */

static const char *type_plural(hs_hub_repo_type t) { return t == HS_HUB_DATASET ? "datasets" : "models"; }
static const char *type_single(hs_hub_repo_type t) { return t == HS_HUB_DATASET ? "dataset" : "model"; }

/* <cache>/models--ORG--NAME (repo_folder_name: '/' → "--"). */
static char *repo_folder(const hub_ctx *c, hs_hub_repo_type t, const char *repo_id) {
    size_t n = strlen(repo_id);
    char *name = hs_malloc(2 * n + 1);
    if (!name) return NULL;
    char *o = name;
    for (const char *p = repo_id; *p; p++) {
        if (*p == '/') { *o++ = '-'; *o++ = '-'; }
        else *o++ = *p;
    }
    *o = 0;
    char *r = str_printf("%s/%s--%s", c->cache, type_plural(t), name);
    free(name);
    return r;
}

/* The commit a revision points to in the cache (the revision itself when it is a
 * commit hash); NULL when unknown. */
static char *cached_commit(const char *folder, const char *revision) {
    if (is_commit_hash(revision)) return hs_strdup(revision);
    char *ref = str_printf("%s/refs/%s", folder, revision);
    if (!ref) return NULL;
    char *data = NULL;
    char *commit = NULL;
    if (is_file(ref) && hs_read_file(ref, 4096, &data, NULL) == HS_OK) {
        size_t n = strlen(data);
        while (n && isspace((unsigned char)data[n - 1])) data[--n] = 0;
        if (is_commit_hash(data)) commit = data;
        else free(data);
    }
    hs_error_clear();
    free(ref);
    return commit;
}

static hs_status write_ref(const char *folder, const char *revision, const char *commit) {
    if (is_commit_hash(revision) || !strcmp(revision, commit)) return HS_OK;
    char *ref = str_printf("%s/refs/%s", folder, revision);
    if (!ref) return HS_ERR_NOMEM;
    char *old = cached_commit(folder, revision);
    hs_status s = HS_OK;
    if (!old || strcmp(old, commit) != 0) {
        s = mkdirs_parent(ref);
        if (!s) s = hs_write_file_atomic(ref, commit, strlen(commit));
    }
    free(old);
    free(ref);
    return s;
}

/* snapshots/<commit>/<file> → "../../blobs/<etag>" with one more "../" per subfolder. */
static hs_status make_pointer(const char *pointer, const char *filename, const char *etag) {
    int depth = 2;
    for (const char *p = filename; *p; p++) depth += *p == '/';
    size_t n = (size_t)depth * 3 + strlen("blobs/") + strlen(etag) + 1;
    char *target = hs_malloc(n);
    if (!target) return HS_ERR_NOMEM;
    target[0] = 0;
    for (int i = 0; i < depth; i++) strcat(target, "../");
    strcat(target, "blobs/");
    strcat(target, etag);
    hs_status s = mkdirs_parent(pointer);
    char *tmp = s ? NULL : str_printf("%s.tmp.%ld", pointer, (long)getpid());
    if (!s && !tmp) s = HS_ERR_NOMEM;
    if (!s) {
        unlink(tmp);
        if (symlink(target, tmp) != 0)
            s = hs_errorf(HS_ERR_IO, "%s: cannot create symlink: %s", pointer, strerror(errno));
        else if (rename(tmp, pointer) != 0) {
            s = hs_errorf(HS_ERR_IO, "%s: cannot place symlink: %s", pointer, strerror(errno));
            unlink(tmp);
        }
    }
    free(tmp);
    free(target);
    return s;
}

/* try_to_load_from_cache: the snapshot path of `filename`, or NULL. */
static char *cache_lookup(const char *folder, const char *revision, const char *filename) {
    char *commit = cached_commit(folder, revision);
    if (!commit) return NULL;
    char *p = str_printf("%s/snapshots/%s/%s", folder, commit, filename);
    free(commit);
    if (p && !is_file(p)) {
        free(p);
        p = NULL;
    }
    return p;
}

/* Every regular file (symlinks followed) under `root`, as paths relative to it. */
static hs_status list_tree(const char *root, const char *rel, strlist *out) {
    char *dir = rel[0] ? hs_path_join(root, rel) : hs_strdup(root);
    if (!dir) return HS_ERR_NOMEM;
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return HS_OK;
    }
    hs_status s = HS_OK;
    struct dirent *e;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        char *r = rel[0] ? str_printf("%s/%s", rel, e->d_name) : hs_strdup(e->d_name);
        char *full = r ? hs_path_join(root, r) : NULL;
        if (!full) { free(r); s = HS_ERR_NOMEM; break; }
        if (is_dir(full)) s = list_tree(root, r, out);
        else if (is_file(full)) s = sl_push(out, r);
        free(full);
        free(r);
    }
    closedir(d);
    free(dir);
    return s;
}

/* ------------------------------------------------------------------ one file */

static char *resolve_url(const hub_ctx *c, hs_hub_repo_type t, const char *repo_id, const char *revision,
                         const char *filename) {
    char *qr = hub_quote(revision, "");
    char *qf = hub_quote(filename, "/");
    char *u = (qr && qf) ? str_printf("%s%s/%s/resolve/%s/%s", c->endpoint, t == HS_HUB_DATASET ? "/datasets" : "",
                                      repo_id, qr, qf) : NULL;
    free(qr);
    free(qf);
    return u;
}

/* hf_hub_download. `revision` may be a branch, tag or commit. *out = snapshot path. */
static hs_status download_file(hub_ctx *c, hs_hub_repo_type t, const char *repo_id, const char *revision,
                               const char *filename, char **out) {
    *out = NULL;
    char *folder = repo_folder(c, t, repo_id);
    if (!folder) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    char *url = NULL, *pointer = NULL, *blob = NULL, *incomplete = NULL, *lockpath = NULL;
    int lockfd = -1;
    hub_meta m = {.size = -1};

    /* A commit's snapshot never changes: a file there is final. */
    if (is_commit_hash(revision) || c->p->offline) {
        *out = cache_lookup(folder, revision, filename);
        if (*out) goto done;
        if (c->p->offline) {
            char *commit = cached_commit(folder, revision);
            char *marker = commit ? str_printf("%s/.no_exist/%s/%s", folder, commit, filename) : NULL;
            if (marker && path_exists(marker))
                s = hs_errorf(HS_ERR_NOT_FOUND, "%s %s (revision %s): %s does not exist in that commit (the hub said so "
                              "earlier: %s)", type_single(t), repo_id, revision, filename, marker);
            else
                s = hs_errorf(HS_ERR_NOT_FOUND, "%s %s (revision %s): %s is not in the cache at %s, and offline mode "
                              "is on (HF_HUB_OFFLINE / --offline)", type_single(t), repo_id, revision, filename, folder);
            free(marker);
            free(commit);
            goto done;
        }
    }
    url = resolve_url(c, t, repo_id, revision, filename);
    if (!url) { s = HS_ERR_NOMEM; goto done; }
    char what[1024];
    snprintf(what, sizeof what, "%s %s, revision %s, file %s", type_single(t), repo_id, revision, filename);
    s = hub_http_head(c, url, what, &m);
    if (s == HS_ERR_NETWORK) {
        /* hub unreachable: fall back to the cache, as huggingface_hub does */
        *out = cache_lookup(folder, revision, filename);
        if (*out) {
            hs_log(HS_LOG_WARN, "%s; using the cached copy", hs_last_error());
            s = HS_OK;
        }
        goto done;
    }
    if (s == HS_ERR_NOT_FOUND && m.entry_missing && is_commit_hash(m.commit)) {
        /* remember the absence as huggingface_hub does: .no_exist/<commit>/<file> */
        char *marker = str_printf("%s/.no_exist/%s/%s", folder, m.commit, filename);
        char saved[HS_ERRMSG_MAX];
        hs_error_copy(saved, sizeof saved);
        if (marker && !mkdirs_parent(marker)) {
            int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd >= 0) close(fd);
            write_ref(folder, revision, m.commit);
        }
        free(marker);
        hs_errorf(s, "%s", saved);
    }
    if (s) goto done;
    if (!m.commit) {
        if (is_commit_hash(revision)) m.commit = hs_strdup(revision);
        else { s = hs_errorf(HS_ERR_NETWORK, "%s: the server sent no X-Repo-Commit header (is %s a HuggingFace hub?)",
                             what, c->endpoint); goto done; }
    }
    if (!m.etag || !*m.etag || strchr(m.etag, '/') || strstr(m.etag, "..")) {
        s = hs_errorf(HS_ERR_NETWORK, "%s: the server sent no usable ETag header", what);
        goto done;
    }
    if (!is_commit_hash(m.commit)) {
        s = hs_errorf(HS_ERR_NETWORK, "%s: malformed X-Repo-Commit header", what);
        goto done;
    }
    if ((s = write_ref(folder, revision, m.commit))) goto done;
    pointer = str_printf("%s/snapshots/%s/%s", folder, m.commit, filename);
    blob = str_printf("%s/blobs/%s", folder, m.etag);
    if (!pointer || !blob) { s = HS_ERR_NOMEM; goto done; }
    if (is_file(pointer)) goto found;
    if (is_file(blob)) {
        if ((s = make_pointer(pointer, filename, m.etag))) goto done;
        goto found;
    }
    /* Download under the same lock file huggingface_hub uses (filelock = flock). */
    char *lockdir = str_printf("%s/.locks/%s", c->cache, strrchr(folder, '/') + 1);
    if (!lockdir) { s = HS_ERR_NOMEM; goto done; }
    s = mkdirs(lockdir);
    lockpath = s ? NULL : str_printf("%s/%s.lock", lockdir, m.etag);
    free(lockdir);
    if (s) goto done;
    if (!lockpath) { s = HS_ERR_NOMEM; goto done; }
    if ((s = mkdirs_parent(blob))) goto done;
    lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        s = hs_errorf(HS_ERR_IO, "%s: cannot lock: %s", lockpath, strerror(errno));
        goto done;
    }
    if (!is_file(blob)) {   /* another process may have finished it meanwhile */
        incomplete = str_printf("%s.incomplete", blob);
        if (!incomplete) { s = HS_ERR_NOMEM; goto done; }
        s = hub_http_download(c, m.location, incomplete, m.size, repo_id, filename);
        if (s) goto done;
        if (is_sha256_hex(m.etag)) {
            /* LFS files are named by the sha256 of their content: check it */
            char hex[65];
            if ((s = hub_sha256_file(incomplete, hex))) goto done;
            if (strcasecmp(hex, m.etag) != 0) {
                unlink(incomplete);
                s = hs_errorf(HS_ERR_FORMAT, "%s: the downloaded bytes have sha256 %s, the hub announced %s "
                              "(the partial download was deleted; run again)", what, hex, m.etag);
                goto done;
            }
        }
        if (chmod(incomplete, 0644) != 0 || rename(incomplete, blob) != 0) {
            s = hs_errorf(HS_ERR_IO, "%s: cannot move into place: %s", blob, strerror(errno));
            goto done;
        }
    }
    if ((s = make_pointer(pointer, filename, m.etag))) goto done;
found:
    *out = pointer;
    pointer = NULL;
done:
    if (lockfd >= 0) close(lockfd);
    hub_meta_free(&m);
    free(lockpath);
    free(incomplete);
    free(blob);
    free(pointer);
    free(url);
    free(folder);
    return s;
}

hs_status hs_hub_download(const char *repo_id, hs_hub_repo_type type, const char *filename,
                          const hs_hub_params *params, char **path_out) {
    *path_out = NULL;
    hs_hub_params def = hs_hub_default_params();
    if (!params) params = &def;
    if (!repo_id || !valid_repo_id(repo_id)) return hs_errorf(HS_ERR_INVALID_ARG, "'%s' is not a hub repo id", repo_id ? repo_id : "");
    if (!filename || !*filename || filename[0] == '/' || strstr(filename, ".."))
        return hs_errorf(HS_ERR_INVALID_ARG, "'%s' is not a file name inside a repo", filename ? filename : "");
    hub_ctx c;
    hs_status s = ctx_init(&c, params);
    if (s) return s;
    s = download_file(&c, type, repo_id, params->revision ? params->revision : "main", filename, path_out);
    ctx_free(&c);
    return s;
}

/* ------------------------------------------------------------------ repo info (API) */

/* {endpoint}/api/{models|datasets}/{repo}/revision/{rev}: the commit and the file list. */
static hs_status repo_info(hub_ctx *c, hs_hub_repo_type t, const char *repo_id, const char *revision,
                           char **sha_out, strlist *files) {
    *sha_out = NULL;
    char *qr = hub_quote(revision, "");
    char *url = qr ? str_printf("%s/api/%s/%s/revision/%s", c->endpoint, type_plural(t), repo_id, qr) : NULL;
    free(qr);
    if (!url) return HS_ERR_NOMEM;
    char what[512];
    snprintf(what, sizeof what, "%s %s, revision %s", type_single(t), repo_id, revision);
    char *body = NULL;
    hs_status s = hub_http_get_text(c, url, what, &body);
    free(url);
    if (s) return s;
    s = hub_parse_repo_info(body, strlen(body), what, sha_out, files);
    free(body);
    return s;
}

hs_status hub_parse_repo_info(const char *body, size_t n, const char *what, char **sha_out, strlist *files) {
    *sha_out = NULL;
    hs_status s = HS_OK;
    cJSON *j = cJSON_ParseWithLength(body, n);
    const cJSON *sha = j ? cJSON_GetObjectItemCaseSensitive(j, "sha") : NULL;
    const cJSON *sib = j ? cJSON_GetObjectItemCaseSensitive(j, "siblings") : NULL;
    if (!cJSON_IsString(sha) || !is_commit_hash(sha->valuestring) || !cJSON_IsArray(sib)) {
        cJSON_Delete(j);
        return hs_errorf(HS_ERR_NETWORK, "%s: the hub API answered without a commit \"sha\" and \"siblings\"", what);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, sib) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "rfilename");
        if (cJSON_IsString(f) && (s = sl_push(files, f->valuestring))) break;
    }
    if (!s && !(*sha_out = hs_strdup(sha->valuestring))) s = HS_ERR_NOMEM;
    cJSON_Delete(j);
    return s;
}

/* ------------------------------------------------------------------ models */

static const char *const optional_model_files[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
};

/* Files to fetch for a model, given the repo's file list (shards come later, from the index). */
static hs_status choose_model_files(const char *repo_id, const char *revision, const strlist *avail, strlist *need) {
    hs_status s;
    if (!sl_has(avail, "config.json"))
        return hs_errorf(HS_ERR_NOT_FOUND, "model %s (revision %s) has no config.json", repo_id, revision);
    if ((s = sl_push(need, "config.json"))) return s;
    for (size_t i = 0; i < sizeof optional_model_files / sizeof *optional_model_files; i++)
        if (sl_has(avail, optional_model_files[i]) && (s = sl_push(need, optional_model_files[i]))) return s;
    if (sl_has(avail, "model.safetensors")) return sl_push(need, "model.safetensors");
    if (sl_has(avail, "model.safetensors.index.json")) return sl_push(need, "model.safetensors.index.json");
    if (sl_has(avail, "pytorch_model.bin") || sl_has(avail, "pytorch_model.bin.index.json"))
        return hs_errorf(HS_ERR_UNSUPPORTED, "model %s (revision %s) has its weights only as pytorch_model.bin; "
                         "headscan reads model.safetensors — pick a revision that has one, or convert the "
                         "checkpoint with safetensors' convert script and pass the local folder", repo_id, revision);
    return hs_errorf(HS_ERR_NOT_FOUND, "model %s (revision %s) has no model.safetensors (nor a sharded index)",
                     repo_id, revision);
}

/* The shard file names listed in a model.safetensors.index.json's weight_map. */
static hs_status index_shards(const char *index_path, strlist *shards) {
    char *data = NULL;
    size_t len = 0;
    hs_status s = hs_read_file(index_path, (size_t)64 << 20, &data, &len);
    if (s) return s;
    s = hub_parse_index(data, len, index_path, shards);
    free(data);
    return s;
}

hs_status hub_parse_index(const char *data, size_t n, const char *index_path, strlist *shards) {
    hs_status s = HS_OK;
    cJSON *j = cJSON_ParseWithLength(data, n);
    const cJSON *wm = j ? cJSON_GetObjectItemCaseSensitive(j, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(j);
        return hs_errorf(HS_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e) || !*e->valuestring || e->valuestring[0] == '/' || strstr(e->valuestring, "..")) {
            s = hs_errorf(HS_ERR_FORMAT, "%s: weight_map entry for '%s' is not a file name", index_path,
                          e->string ? e->string : "?");
            break;
        }
        if (!sl_has(shards, e->valuestring) && (s = sl_push(shards, e->valuestring))) break;
    }
    cJSON_Delete(j);
    return s;
}

/* When `need` holds a sharded index (already in `snap`): the shards it names, each of
 * which must be among `avail` (the repo's or the snapshot's files). */
static hs_status needed_shards(const char *snap, const strlist *need, const strlist *avail, const char *repo_id,
                               const char *revision, strlist *shards) {
    if (!sl_has(need, "model.safetensors.index.json")) return HS_OK;
    char *idx = hs_path_join(snap, "model.safetensors.index.json");
    hs_status s = idx ? index_shards(idx, shards) : HS_ERR_NOMEM;
    free(idx);
    for (size_t i = 0; !s && i < shards->n; i++)
        if (!sl_has(avail, shards->v[i]))
            s = hs_errorf(HS_ERR_NOT_FOUND, "model %s (revision %s): the index names shard %s, which is missing "
                          "from %s", repo_id, revision, shards->v[i], snap);
    return s;
}

/* The model from the cache alone: the snapshot dir when it holds what is needed. */
static hs_status model_from_cache(hub_ctx *c, const char *repo_id, const char *revision, char **dir_out) {
    *dir_out = NULL;
    char *folder = repo_folder(c, HS_HUB_MODEL, repo_id);
    if (!folder) return HS_ERR_NOMEM;
    char *commit = cached_commit(folder, revision);
    if (!commit) {
        hs_status s = hs_errorf(HS_ERR_NOT_FOUND, "model %s (revision %s) is not in the cache at %s", repo_id,
                                revision, folder);
        free(folder);
        return s;
    }
    char *snap = str_printf("%s/snapshots/%s", folder, commit);
    free(commit);
    free(folder);
    if (!snap) return HS_ERR_NOMEM;
    strlist have = {0}, need = {0}, shards = {0};
    hs_status s = list_tree(snap, "", &have);
    if (!s) s = choose_model_files(repo_id, revision, &have, &need);
    if (!s) s = needed_shards(snap, &need, &have, repo_id, revision, &shards);
    if (s) hs_error_prefix(s, "cached snapshot %s", snap);
    sl_free(&have);
    sl_free(&need);
    sl_free(&shards);
    if (s) free(snap);
    else *dir_out = snap;
    return s;
}

static hs_status fetch_all(hub_ctx *c, hs_hub_repo_type t, const char *repo_id, const char *commit,
                           const strlist *files, strlist *paths) {
    for (size_t i = 0; i < files->n; i++) {
        char *p = NULL;
        hs_status s = download_file(c, t, repo_id, commit, files->v[i], &p);
        if (s) return s;
        s = paths ? sl_push(paths, p) : HS_OK;
        free(p);
        if (s) return s;
    }
    return HS_OK;
}

static hs_status resolve_model_repo(hub_ctx *c, const char *repo_id, const char *revision, char **dir_out) {
    if (c->p->offline) {
        hs_status s = model_from_cache(c, repo_id, revision, dir_out);
        if (s == HS_ERR_NOT_FOUND) hs_error_prefix(s, "offline mode (HF_HUB_OFFLINE / --offline)");
        return s;
    }
    /* A commit's complete snapshot needs no request at all. */
    if (is_commit_hash(revision) && model_from_cache(c, repo_id, revision, dir_out) == HS_OK) return HS_OK;
    hs_error_clear();
    char *sha = NULL;
    strlist avail = {0}, need = {0}, shards = {0};
    char *folder = repo_folder(c, HS_HUB_MODEL, repo_id);
    hs_status s = folder ? repo_info(c, HS_HUB_MODEL, repo_id, revision, &sha, &avail) : HS_ERR_NOMEM;
    if (s == HS_ERR_NETWORK) {
        char saved[HS_ERRMSG_MAX];
        hs_error_copy(saved, sizeof saved);
        if (model_from_cache(c, repo_id, revision, dir_out) == HS_OK) {
            hs_log(HS_LOG_WARN, "%s; using the cached snapshot", saved);
            s = HS_OK;
        } else {
            hs_errorf(s, "%s", saved);
        }
        goto done;
    }
    if (!s) s = choose_model_files(repo_id, revision, &avail, &need);
    if (!s) s = mkdirs(folder);
    if (!s) s = write_ref(folder, revision, sha);
    if (!s) s = fetch_all(c, HS_HUB_MODEL, repo_id, sha, &need, NULL);
    char *snap = s ? NULL : str_printf("%s/snapshots/%s", folder, sha);
    if (!s && !snap) s = HS_ERR_NOMEM;
    if (!s) s = needed_shards(snap, &need, &avail, repo_id, revision, &shards);
    if (!s) s = fetch_all(c, HS_HUB_MODEL, repo_id, sha, &shards, NULL);
    if (!s) *dir_out = snap;
    else free(snap);
done:
    free(sha);
    free(folder);
    sl_free(&avail);
    sl_free(&need);
    sl_free(&shards);
    return s;
}

hs_status hs_hub_resolve_model(const char *name_or_path, const hs_hub_params *params, char **dir_out) {
    *dir_out = NULL;
    if (!name_or_path || !*name_or_path) return hs_errorf(HS_ERR_INVALID_ARG, "no model name or path given");
    if (path_exists(name_or_path)) {
        if (!is_dir(name_or_path))
            return hs_errorf(HS_ERR_INVALID_ARG, "%s: a model is a folder (config.json, model.safetensors), "
                             "not a file", name_or_path);
        *dir_out = hs_strdup(name_or_path);
        return *dir_out ? HS_OK : HS_ERR_NOMEM;
    }
    hs_hub_params def = hs_hub_default_params();
    if (!params) params = &def;
    char *repo = NULL;
    hs_status s = hs_hub_model_repo_id(name_or_path, &repo);
    if (s) return s;
    hub_ctx c;
    if ((s = ctx_init(&c, params))) { free(repo); return s; }
    s = resolve_model_repo(&c, repo, params->revision ? params->revision : "main", dir_out);
    ctx_free(&c);
    free(repo);
    return s;
}

/* ------------------------------------------------------------------ datasets */

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* True when `comp` (a path component) holds `kw` as a whole token, delimited by the
 * start/end or by [-._ 0-9] — the rule of HF datasets' split-name file patterns. */
static bool has_token(const char *comp, size_t len, const char *kw) {
    size_t k = strlen(kw);
    for (size_t i = 0; i + k <= len; i++) {
        if (strncasecmp(comp + i, kw, k) != 0) continue;
        bool left = i == 0 || strchr("-._ 0123456789", comp[i - 1]);
        bool right = i + k == len || strchr("-._ 0123456789", comp[i + k]);
        if (left && right) return true;
    }
    return false;
}

static bool path_has_keyword(const char *path, const char *const *kws) {
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        for (int i = 0; kws[i]; i++)
            if (has_token(p, len, kws[i])) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static const char *const kw_train[] = {"train", "training", NULL};
static const char *const kw_other[] = {"test", "testing", "eval", "evaluation", "validation", "valid", "dev", "val", NULL};

/* The train split's Parquet files among `files` (sorted): files named after the train
 * split when any file is named after a split, else all of them. Under a parquet
 * conversion's config folders, only "default/". */
static hs_status choose_parquet(const strlist *files, strlist *out) {
    strlist pq = {0};
    hs_status s = HS_OK;
    bool any_default = false;
    for (size_t i = 0; i < files->n; i++)
        if (ends_with(files->v[i], ".parquet") && !strncmp(files->v[i], "default/", 8)) any_default = true;
    for (size_t i = 0; !s && i < files->n; i++)
        if (ends_with(files->v[i], ".parquet") && (!any_default || !strncmp(files->v[i], "default/", 8)))
            s = sl_push(&pq, files->v[i]);
    bool named = false;
    for (size_t i = 0; i < pq.n; i++)
        if (path_has_keyword(pq.v[i], kw_train) || path_has_keyword(pq.v[i], kw_other)) named = true;
    for (size_t i = 0; !s && i < pq.n; i++)
        if (!named || path_has_keyword(pq.v[i], kw_train)) s = sl_push(out, pq.v[i]);
    sl_free(&pq);
    if (!s && out->n) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return s;
}

static const char *const parquet_branch = "refs/convert/parquet";

/* Dataset files from the cache alone; tries the revision, then the parquet branch. */
static hs_status dataset_from_cache(hub_ctx *c, const char *repo_id, const char *revision, strlist *paths) {
    char *folder = repo_folder(c, HS_HUB_DATASET, repo_id);
    if (!folder) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    const char *revs[2] = {revision, parquet_branch};
    bool any_commit = false;
    for (int k = 0; k < 2 && !paths->n && !s; k++) {
        if (k == 1 && strcmp(revision, "main") != 0) break;   /* the conversion is of main */
        char *commit = cached_commit(folder, revs[k]);
        if (!commit) continue;
        any_commit = true;
        char *snap = str_printf("%s/snapshots/%s", folder, commit);
        free(commit);
        if (!snap) { s = HS_ERR_NOMEM; break; }
        strlist have = {0}, pick = {0};
        s = list_tree(snap, "", &have);
        if (!s) s = choose_parquet(&have, &pick);
        for (size_t i = 0; !s && i < pick.n; i++) {
            char *p = hs_path_join(snap, pick.v[i]);
            s = p ? sl_push(paths, p) : HS_ERR_NOMEM;
            free(p);
        }
        sl_free(&have);
        sl_free(&pick);
        free(snap);
    }
    if (!s && !paths->n)
        s = any_commit ? hs_errorf(HS_ERR_NOT_FOUND, "dataset %s (revision %s): the cached snapshot at %s has no "
                                   "Parquet files", repo_id, revision, folder)
                       : hs_errorf(HS_ERR_NOT_FOUND, "dataset %s (revision %s) is not in the cache at %s", repo_id,
                                   revision, folder);
    free(folder);
    return s;
}

static hs_status dataset_online(hub_ctx *c, const char *repo_id, const char *revision, strlist *paths) {
    char *folder = repo_folder(c, HS_HUB_DATASET, repo_id);
    if (!folder) return HS_ERR_NOMEM;
    hs_status s = HS_OK;
    const char *revs[2] = {revision, parquet_branch};
    for (int k = 0; k < 2 && !s && !paths->n; k++) {
        if (k == 1 && strcmp(revision, "main") != 0) break;
        char *sha = NULL;
        strlist avail = {0}, pick = {0};
        s = repo_info(c, HS_HUB_DATASET, repo_id, revs[k], &sha, &avail);
        if (k == 1 && s == HS_ERR_NOT_FOUND) {
            s = hs_errorf(HS_ERR_NOT_FOUND, "dataset %s (revision %s) has no Parquet files, and the hub has no "
                          "Parquet conversion of it (%s)", repo_id, revision, parquet_branch);
        }
        if (!s) s = choose_parquet(&avail, &pick);
        if (!s && pick.n) {
            s = mkdirs(folder);
            if (!s) s = write_ref(folder, revs[k], sha);
            if (!s) s = fetch_all(c, HS_HUB_DATASET, repo_id, sha, &pick, paths);
        }
        free(sha);
        sl_free(&avail);
        sl_free(&pick);
    }
    free(folder);
    return s;
}

void hs_hub_free_files(char **files, size_t n) {
    if (!files) return;
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
}

hs_status hs_hub_resolve_dataset(const char *name_or_path, const hs_hub_params *params, char ***files_out,
                                 size_t *n_out) {
    *files_out = NULL;
    *n_out = 0;
    if (!name_or_path || !*name_or_path) return hs_errorf(HS_ERR_INVALID_ARG, "no dataset name or path given");
    strlist paths = {0};
    hs_status s = HS_OK;
    if (path_exists(name_or_path)) {
        if (is_dir(name_or_path)) {
            strlist have = {0}, pick = {0};
            s = list_tree(name_or_path, "", &have);
            if (!s) s = choose_parquet(&have, &pick);
            for (size_t i = 0; !s && i < pick.n; i++) {
                char *p = hs_path_join(name_or_path, pick.v[i]);
                s = p ? sl_push(&paths, p) : HS_ERR_NOMEM;
                free(p);
            }
            sl_free(&have);
            sl_free(&pick);
            if (!s && !paths.n) s = hs_errorf(HS_ERR_NOT_FOUND, "%s: no Parquet files in this folder", name_or_path);
        } else {
            s = sl_push(&paths, name_or_path);
        }
    } else if (!valid_repo_id(name_or_path)) {
        s = hs_errorf(HS_ERR_INVALID_ARG, "'%s' is neither an existing path nor a hub dataset id (ORG/NAME)",
                      name_or_path);
    } else {
        hs_hub_params def = hs_hub_default_params();
        if (!params) params = &def;
        const char *rev = params->revision ? params->revision : "main";
        hub_ctx c;
        s = ctx_init(&c, params);
        if (!s) {
            if (params->offline) {
                s = dataset_from_cache(&c, name_or_path, rev, &paths);
                if (s == HS_ERR_NOT_FOUND) hs_error_prefix(s, "offline mode (HF_HUB_OFFLINE / --offline)");
            } else {
                s = dataset_online(&c, name_or_path, rev, &paths);
                if (s == HS_ERR_NETWORK) {
                    char saved[HS_ERRMSG_MAX];
                    hs_error_copy(saved, sizeof saved);
                    sl_free(&paths);
                    if (dataset_from_cache(&c, name_or_path, rev, &paths) == HS_OK) {
                        hs_log(HS_LOG_WARN, "%s; using the cached snapshot", saved);
                        s = HS_OK;
                    } else {
                        hs_errorf(s, "%s", saved);
                    }
                }
            }
            ctx_free(&c);
        }
    }
    if (s) {
        sl_free(&paths);
        return s;
    }
    *files_out = paths.v;
    *n_out = paths.n;
    return HS_OK;
}

/* ------------------------------------------------------------------ cache listing */

static int cmp_cached(const void *a, const void *b) {
    const hs_hub_cached_repo *x = a, *y = b;
    if (x->type != y->type) return (int)x->type - (int)y->type;
    return strcmp(x->repo_id, y->repo_id);
}

static hs_status scan_repo(const char *path, hs_hub_cached_repo *r) {
    hs_status s = HS_OK;
    /* blobs: size and newest mtime */
    char *blobs = hs_path_join(path, "blobs");
    if (!blobs) return HS_ERR_NOMEM;
    DIR *d = opendir(blobs);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char *p = hs_path_join(blobs, e->d_name);
            struct stat st;
            if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && !ends_with(e->d_name, ".incomplete")) {
                r->size += (int64_t)st.st_size;
                if ((int64_t)st.st_mtime > r->last_modified) r->last_modified = (int64_t)st.st_mtime;
            }
            free(p);
        }
        closedir(d);
    }
    free(blobs);
    /* snapshots: distinct file names */
    char *snaps = hs_path_join(path, "snapshots");
    strlist names = {0};
    if (!snaps) return HS_ERR_NOMEM;
    d = opendir(snaps);
    if (d) {
        struct dirent *e;
        while (!s && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            r->n_snapshots++;
            char *sp = hs_path_join(snaps, e->d_name);
            strlist files = {0};
            s = sp ? list_tree(sp, "", &files) : HS_ERR_NOMEM;
            for (size_t i = 0; !s && i < files.n; i++)
                if (!sl_has(&names, files.v[i])) s = sl_push(&names, files.v[i]);
            sl_free(&files);
            free(sp);
        }
        closedir(d);
    }
    free(snaps);
    r->n_files = (int)names.n;
    sl_free(&names);
    /* refs (nested for refs/pr/1, refs/convert/parquet) */
    char *refs = hs_path_join(path, "refs");
    strlist rl = {0};
    if (!s) s = refs ? list_tree(refs, "", &rl) : HS_ERR_NOMEM;
    free(refs);
    if (!s && rl.n) qsort(rl.v, rl.n, sizeof *rl.v, cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < rl.n; i++) len += strlen(rl.v[i]) + 2;
    r->refs = s ? NULL : hs_malloc(len);
    if (!s && !r->refs) s = HS_ERR_NOMEM;
    if (!s) {
        r->refs[0] = 0;
        for (size_t i = 0; i < rl.n; i++) {
            if (i) strcat(r->refs, ", ");
            strcat(r->refs, rl.v[i]);
        }
    }
    sl_free(&rl);
    return s;
}

void hs_hub_cache_free(hs_hub_cached_repo *repos, size_t n) {
    if (!repos) return;
    for (size_t i = 0; i < n; i++) {
        free(repos[i].repo_id);
        free(repos[i].path);
        free(repos[i].refs);
    }
    free(repos);
}

hs_status hs_hub_cache_scan(const hs_hub_params *params, hs_hub_cached_repo **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    char *root = NULL;
    hs_status s = hs_hub_cache_dir(params, &root);
    if (s) return s;
    DIR *d = opendir(root);
    if (!d) {
        free(root);
        return HS_OK;   /* no cache yet: empty */
    }
    hs_hub_cached_repo *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (!s && (e = readdir(d))) {
        hs_hub_repo_type t;
        const char *rest;
        if (!strncmp(e->d_name, "models--", 8)) { t = HS_HUB_MODEL; rest = e->d_name + 8; }
        else if (!strncmp(e->d_name, "datasets--", 10)) { t = HS_HUB_DATASET; rest = e->d_name + 10; }
        else continue;
        char *path = hs_path_join(root, e->d_name);
        if (!path) { s = HS_ERR_NOMEM; break; }
        if (!is_dir(path)) { free(path); continue; }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            hs_hub_cached_repo *nv = realloc(v, cap * sizeof *nv);
            if (!nv) { free(path); s = hs_errorf(HS_ERR_NOMEM, "out of memory"); break; }
            v = nv;
        }
        hs_hub_cached_repo *r = &v[n++];
        memset(r, 0, sizeof *r);
        r->type = t;
        r->path = path;
        r->repo_id = hs_strdup(rest);
        if (!r->repo_id) { s = HS_ERR_NOMEM; break; }
        /* "ORG--NAME" → "ORG/NAME" (the repo id has no "--" of its own) */
        char *dd = strstr(r->repo_id, "--");
        if (dd) {
            *dd = '/';
            memmove(dd + 1, dd + 2, strlen(dd + 2) + 1);
        }
        s = scan_repo(path, r);
    }
    closedir(d);
    free(root);
    if (s) {
        hs_hub_cache_free(v, n);
        return s;
    }
    if (n) qsort(v, n, sizeof *v, cmp_cached);
    *out = v;
    *n_out = n;
    return HS_OK;
}
