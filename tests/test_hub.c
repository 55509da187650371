/* test_hub.c — the hub API: TransformerLens aliases, environment defaults, cache-root
 * precedence, local paths, offline misses, status codes (auth, not found, unsupported,
 * network), and the progress callback with cancellation and resume, against the fake
 * hub (tests/fakehub.py) started on 127.0.0.1. The cache layout itself is checked from
 * Python in cli_hub.sh. */
#define _GNU_SOURCE
#include "headscan/headscan.h"
#include "test.h"
#include <dirent.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmp[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
}

static void touch(const char *rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    sh("mkdir -p '%s'", p);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    if (f) { fputs("PAR1", f); fclose(f); }
}

static void check_alias(const char *name, const char *want) {
    char *id = NULL;
    hs_status s = hs_hub_model_repo_id(name, &id);
    CHECK(s == HS_OK && id && !strcmp(id, want), "%s -> %s (want %s): %s", name, id ? id : "(null)", want,
          hs_last_error());
    free(id);
}

static void check_bad_id(const char *name) {
    char *id = NULL;
    CHECK(hs_hub_model_repo_id(name, &id) == HS_ERR_INVALID_ARG && !id, "'%s' accepted as a repo id", name);
    free(id);
}

static void check_cache_dir(const hs_hub_params *p, const char *want) {
    char *d = NULL;
    CHECK_OK(hs_hub_cache_dir(p, &d));
    CHECK(d && !strcmp(d, want), "cache dir %s, want %s", d ? d : "(null)", want);
    free(d);
}

/* ---------------------------------------------------------------- progress recording */
typedef struct rec {
    int calls, finished;
    int64_t last_done, total;
    bool monotonic, rate_ok;
    int64_t cancel_after;   /* cancel once done >= this (0: never) */
} rec;

static bool on_progress(const hs_hub_progress *p, void *user) {
    rec *r = user;
    if (strcmp(p->filename, "model.safetensors") != 0) return true;
    r->calls++;
    if (p->done < r->last_done) r->monotonic = false;
    r->last_done = p->done;
    r->total = p->total;
    if (p->bytes_per_sec < 0 || p->elapsed < 0) r->rate_ok = false;
    if (p->finished) r->finished++;
    return !(r->cancel_after && p->done >= r->cancel_after);
}

static pid_t start_hub(const char *args, int *port) {
    char portfile[300];
    snprintf(portfile, sizeof portfile, "%s/port", tmp);
    unlink(portfile);
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 %s/tests/fakehub.py --root %s/root --port-file %s "
                 "--timeout 120 %s", HS_SOURCE_DIR, tmp, portfile, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    *port = 0;
    for (int i = 0; i < 200 && !*port; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", port) != 1) *port = 0;
            fclose(f);
        }
        if (!*port) usleep(50000);
    }
    return pid;
}

static void stop_hub(pid_t pid) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/hs_test_hub.XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    unsetenv("HF_TOKEN");
    unsetenv("HUGGING_FACE_HUB_TOKEN");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_ENDPOINT");
    char home[300];
    snprintf(home, sizeof home, "%s/hfhome", tmp);
    setenv("HF_HOME", home, 1);

    /* TransformerLens MODEL_ALIASES (loading_from_pretrained.py), case-insensitive */
    check_alias("pythia-70m", "EleutherAI/pythia-70m");
    check_alias("PYTHIA-70M", "EleutherAI/pythia-70m");
    check_alias("pythia", "EleutherAI/pythia-70m");
    check_alias("pythia-19m", "EleutherAI/pythia-70m");
    check_alias("EleutherAI/pythia-19m", "EleutherAI/pythia-70m");
    check_alias("pythia-125m-deduped", "EleutherAI/pythia-160m-deduped");
    check_alias("pythia-13b-deduped-v0", "EleutherAI/pythia-12b-deduped-v0");
    check_alias("pythia-1.4b", "EleutherAI/pythia-1.4b");
    check_alias("pythia-v0", "EleutherAI/pythia-70m-v0");
    check_alias("pythia-125m-seed2", "EleutherAI/pythia-160m-seed2");
    check_alias("pythia-14m", "EleutherAI/pythia-14m");
    /* GPT-2 family: TL OFFICIAL_MODEL_NAMES gpt2, gpt2-medium/-large/-xl, distilgpt2 and
     * MODEL_ALIASES "gpt2": ["gpt2-small"], "distilgpt2": ["distillgpt2", "distill-gpt2",
     * "distil-gpt2", "gpt2-xs"] (TransformerLens loading_from_pretrained.py) */
    check_alias("gpt2-small", "gpt2");
    check_alias("GPT2-Small", "gpt2");
    check_alias("gpt2", "gpt2");
    check_alias("GPT2", "gpt2");
    check_alias("gpt2-medium", "gpt2-medium");
    check_alias("gpt2-large", "gpt2-large");
    check_alias("gpt2-xl", "gpt2-xl");
    check_alias("GPT2-XL", "gpt2-xl");
    check_alias("distilgpt2", "distilgpt2");
    check_alias("distil-gpt2", "distilgpt2");
    check_alias("distillgpt2", "distilgpt2");
    check_alias("distill-gpt2", "distilgpt2");
    check_alias("gpt2-xs", "distilgpt2");
    /* Llama family: TL 2.18 OFFICIAL_MODEL_NAMES / MODEL_ALIASES (e.g. "Qwen/Qwen2.5-0.5B":
     * ["qwen2.5-0.5b"], "mistralai/Mistral-7B-v0.1": ["mistral-7b"], "meta-llama/Llama-2-7b-hf":
     * ["Llama-2-7b", ...]); official names in any case; other HF ids pass through */
    check_alias("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B");
    check_alias("QWEN/QWEN2.5-0.5B", "Qwen/Qwen2.5-0.5B");
    check_alias("qwen2-1.5b-instruct", "Qwen/Qwen2-1.5B-Instruct");
    check_alias("mistral-7b", "mistralai/Mistral-7B-v0.1");
    check_alias("Llama-2-7b", "meta-llama/Llama-2-7b-hf");
    check_alias("meta-llama/llama-3.2-1b", "meta-llama/Llama-3.2-1B");
    check_alias("CodeLlama-7b-python", "codellama/CodeLlama-7b-Python-hf");
    check_alias("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "TinyLlama/TinyLlama-1.1B-Chat-v1.0");
    check_alias("HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-135M");
    check_alias("EleutherAI/pythia-70m", "EleutherAI/pythia-70m");
    check_alias("NeelNanda/pile-10k", "NeelNanda/pile-10k");
    check_bad_id("");
    check_bad_id("a/b/c");
    check_bad_id("a--b/c");
    check_bad_id("-x/y");
    check_bad_id("x/y.git");
    check_bad_id("x/..");
    check_bad_id("has space/x");

    /* defaults from the environment */
    hs_hub_params p = hs_hub_default_params();
    CHECK(!strcmp(p.endpoint, "https://huggingface.co") && !p.offline && !p.revision && p.max_tries > 1,
          "plain defaults");
    setenv("HF_ENDPOINT", "http://mirror.example", 1);
    const char *on[] = {"1", "true", "ON", "yes"}, *off[] = {"0", "false", "no", ""};
    for (int i = 0; i < 4; i++) {
        setenv("HF_HUB_OFFLINE", on[i], 1);
        CHECK(hs_hub_default_params().offline, "HF_HUB_OFFLINE=%s should be offline", on[i]);
        setenv("HF_HUB_OFFLINE", off[i], 1);
        CHECK(!hs_hub_default_params().offline, "HF_HUB_OFFLINE=%s should be online", off[i]);
    }
    CHECK(!strcmp(hs_hub_default_params().endpoint, "http://mirror.example"), "HF_ENDPOINT");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_ENDPOINT");

    /* cache root precedence (huggingface_hub constants.py) */
    char want[400];
    p = hs_hub_default_params();
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    unsetenv("HF_HOME");
    check_cache_dir(&p, "/xdg/huggingface/hub");
    setenv("HF_HOME", home, 1);
    snprintf(want, sizeof want, "%s/hub", home);
    check_cache_dir(&p, want);
    setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
    check_cache_dir(&p, "/legacy");
    setenv("HF_HUB_CACHE", "/new", 1);
    check_cache_dir(&p, "/new");
    p.cache_dir = "/explicit";
    check_cache_dir(&p, "/explicit");
    unsetenv("HUGGINGFACE_HUB_CACHE");
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    setenv("HF_HUB_CACHE", cache, 1);

    /* local paths win; a local folder of parquet gives its train split */
    touch("local/data/train-00000-of-00002.parquet");
    touch("local/data/train-00001-of-00002.parquet");
    touch("local/data/test-00000-of-00001.parquet");
    touch("local/README.md");
    char local[300], *dir = NULL, **files = NULL;
    size_t n = 0;
    snprintf(local, sizeof local, "%s/local", tmp);
    p = hs_hub_default_params();
    p.endpoint = "http://127.0.0.1:1";   /* any request would fail */
    CHECK_OK(hs_hub_resolve_model(local, &p, &dir));
    CHECK(dir && !strcmp(dir, local), "local model folder returned as is");
    free(dir);
    dir = NULL;
    CHECK_OK(hs_hub_resolve_dataset(local, &p, &files, &n));
    CHECK(n == 2 && strstr(files[0], "train-00000") && strstr(files[1], "train-00001"), "local train split: %zu", n);
    hs_hub_free_files(files, n);
    snprintf(local, sizeof local, "%s/local/README.md", tmp);
    CHECK_OK(hs_hub_resolve_dataset(local, &p, &files, &n));
    CHECK(n == 1 && !strcmp(files[0], local), "a local file passes through");
    hs_hub_free_files(files, n);
    CHECK(hs_hub_resolve_model(local, &p, &dir) == HS_ERR_INVALID_ARG, "a file is not a model folder");

    /* offline misses; unreachable endpoint */
    p.offline = true;
    CHECK(hs_hub_resolve_model("pythia-70m", &p, &dir) == HS_ERR_NOT_FOUND && strstr(hs_last_error(), "offline"),
          "offline miss: %s", hs_last_error());
    CHECK(hs_hub_resolve_dataset("NeelNanda/pile-10k", &p, &files, &n) == HS_ERR_NOT_FOUND, "offline dataset miss");
    p.offline = false;
    CHECK(hs_hub_resolve_model("pythia-70m", &p, &dir) == HS_ERR_NETWORK &&
          strstr(hs_last_error(), "http://127.0.0.1:1"), "unreachable: %s", hs_last_error());

    /* against the fake hub */
    sh("/usr/bin/python3 %s/tests/hubtool.py make-root %s/root", HS_SOURCE_DIR, tmp);
    int port = 0;
    pid_t hub = start_hub("--slow 40000 --gated test/gated --token tok123", &port);
    CHECK(port > 0, "fake hub did not start");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d/", port);   /* trailing '/' is tolerated */
    p = hs_hub_default_params();
    p.endpoint = endpoint;
    p.retry_delay = 0.05;

    CHECK(hs_hub_resolve_model("test/gated", &p, &dir) == HS_ERR_AUTH && strstr(hs_last_error(), "HF_TOKEN"),
          "gated: %s", hs_last_error());
    p.token = "tok123";
    CHECK_OK(hs_hub_resolve_model("test/gated", &p, &dir));
    CHECK(!strstr(hs_last_error(), "tok123"), "token in a message");
    free(dir);
    dir = NULL;
    p.token = NULL;
    CHECK(hs_hub_resolve_model("test/binonly", &p, &dir) == HS_ERR_UNSUPPORTED, "bin only: %s", hs_last_error());
    CHECK(hs_hub_resolve_model("nobody/nothing", &p, &dir) == HS_ERR_NOT_FOUND, "missing repo");
    CHECK(hs_hub_download("EleutherAI/pythia-70m", HS_HUB_MODEL, "missing.txt", &p, &dir) == HS_ERR_NOT_FOUND &&
          strstr(hs_last_error(), "missing.txt"), "missing file: %s", hs_last_error());
    CHECK(hs_hub_download("EleutherAI/pythia-70m", HS_HUB_MODEL, "../x", &p, &dir) == HS_ERR_INVALID_ARG,
          "path escape refused");

    /* progress, cancel mid-file, then resume (60 kB at 40 kB/s) */
    rec r = {.monotonic = true, .rate_ok = true, .cancel_after = 20000};
    p.progress = on_progress;
    p.progress_user = &r;
    CHECK(hs_hub_resolve_model("test/slow", &p, &dir) == HS_ERR_CANCELLED, "cancel: %s", hs_last_error());
    CHECK(r.calls >= 2 && r.monotonic && r.rate_ok && r.total > 60000, "progress while cancelling: %d calls, total %lld",
          r.calls, (long long)r.total);
    int64_t at_cancel = r.last_done;
    rec r2 = {.monotonic = true, .rate_ok = true};
    r2.last_done = 0;
    p.progress_user = &r2;
    CHECK_OK(hs_hub_resolve_model("test/slow", &p, &dir));
    CHECK(r2.finished == 1 && r2.monotonic && r2.rate_ok && r2.last_done == r.total,
          "progress after resume: finished %d, done %lld of %lld", r2.finished, (long long)r2.last_done,
          (long long)r.total);
    CHECK(at_cancel >= 20000 && at_cancel < r.total, "cancelled part way (%lld)", (long long)at_cancel);
    if (dir) {
        char path[600];
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        struct stat st;
        CHECK(stat(path, &st) == 0 && st.st_size == r.total, "resumed file complete");
    }
    free(dir);
    dir = NULL;
    stop_hub(hub);

    /* a transfer that stalls half way is abandoned after stall_timeout and resumed */
    hub = start_hub("--stall 30", &port);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    p = hs_hub_default_params();
    p.endpoint = endpoint;
    p.retry_delay = 0.05;
    p.stall_timeout = 1;
    char cache2[300];
    snprintf(cache2, sizeof cache2, "%s/cache2", tmp);
    p.cache_dir = cache2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(hs_hub_resolve_model("test/sharded", &p, &dir));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* two shards, each stalling once: about 2 x (1 s + 1 tick), far below the server's 30 s hang */
    double took = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK(took < 10, "stalls detected after %.1f s", took);
    free(dir);
    dir = NULL;
    stop_hub(hub);

    sh("rm -rf '%s'", tmp);
    return test_report("test_hub");
}
