/* test_faults.c — faults and resource limits, with the limits they must meet:
 *  - a checkpoint truncated or rewritten after it was opened is reported (size and mtime
 *    checks, reads by pread) — never SIGBUS, never garbage; a thread truncating the file
 *    while another loads the model in a loop never kills the process;
 *  - a batch whose workspace does not fit is refused by hs_forward_create before any
 *    allocation, with the MB it needs and the MB available (and under RLIMIT_AS);
 *  - a tokenizer.json claiming a gigantic id space and a Parquet page claiming a gigantic
 *    size are rejected before allocating (peak RSS grows < 64 MB);
 *  - a 100 MB single-line JSONL document is read with peak RSS growth < 4x the line;
 *    2 million tiny documents are read in < 60 s (generous: the sanitizer build too);
 *  - JSON nested 100000 deep (config.json, tokenizer.json, a JSONL line) is an error, not a
 *    stack overflow. */
#define _GNU_SOURCE
#include "headscan/headscan.h"
#include "core/internal.h"
#include "data/parquet.h"
#include "io/safetensors.h"
#include "test.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char tmpdir[256];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;   /* KiB on Linux */
}

static void copy_file(const char *from, const char *to) {
    char *d;
    size_t n;
    if (hs_read_file(from, 0, &d, &n)) { CHECK(0, "%s", hs_last_error()); return; }
    FILE *f = fopen(to, "wb");
    CHECK(f && fwrite(d, 1, n, f) == n && fclose(f) == 0, "write %s", to);
    free(d);
}

static void write_text(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(s, 1, n, f) == n && fclose(f) == 0, "write %s", path);
}

/* ---------------------------------------------------------------- checkpoint */

static char model_dir[300], st_path[400];

static void setup_model(void) {
    snprintf(model_dir, sizeof model_dir, "%s/model", tmpdir);
    mkdir(model_dir, 0700);
    char p[400];
    snprintf(p, sizeof p, "%s/config.json", model_dir);
    copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/config.json", p);
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", model_dir);
    copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", st_path);
}

static void test_checkpoint_changes(void) {
    setup_model();
    hs_safetensors st;
    CHECK_OK(hs_st_open(st_path, &st));
    if (!st.path) return;
    /* the tensor stored last: its bytes are the first to go when the file is cut */
    const hs_st_tensor *last = &st.tensors[0];
    for (int i = 1; i < st.n_tensors; i++)
        if (st.tensors[i].offset > last->offset) last = &st.tensors[i];
    float *buf = malloc((size_t)last->numel * sizeof(float) + 4);
    CHECK_OK(hs_st_to_f32(&st, last, buf));
    /* truncated after open (a mapping would SIGBUS on the next read of those pages) */
    CHECK(truncate(st_path, (off_t)st.file_size / 2) == 0, "truncate: %s", strerror(errno));
    hs_status s = hs_st_to_f32(&st, last, buf);
    CHECK(s == HS_ERR_FORMAT && strstr(hs_last_error(), "size changed"), "truncated: %s", hs_last_error());
    hs_st_close(&st);
    /* rewritten in place, same size: the modification time gives it away */
    copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", st_path);
    CHECK_OK(hs_st_open(st_path, &st));
    if (st.path) {
        struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 5, 0}};
        int fd = open(st_path, O_WRONLY);
        CHECK(fd >= 0 && pwrite(fd, "\0\0\0\0", 4, (off_t)st.file_size - 4) == 4 && futimens(fd, later) == 0, "rewrite");
        if (fd >= 0) close(fd);
        s = hs_st_to_f32(&st, &st.tensors[0], buf);
        CHECK(s == HS_ERR_FORMAT && strstr(hs_last_error(), "modified since it was opened"), "rewritten: %s", hs_last_error());
        hs_st_close(&st);
    }
    free(buf);
    /* truncated before open: the header checks say so */
    copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", st_path);
    struct stat sb;
    stat(st_path, &sb);
    CHECK(truncate(st_path, sb.st_size - 100) == 0, "truncate");
    hs_model *m = NULL;
    s = hs_model_load(model_dir, NULL, &m);
    CHECK(s == HS_ERR_FORMAT && strstr(hs_last_error(), "truncated"), "truncated before open: %s", hs_last_error());
    hs_model_free(m);
}

static atomic_bool stop_cutting;
static void *cutter(void *arg) {
    (void)arg;
    struct stat sb;
    stat(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", &sb);
    for (unsigned k = 1; !atomic_load(&stop_cutting); k++) {
        /* cut anywhere, then restore: loads race with both */
        if (truncate(st_path, (off_t)((unsigned long long)sb.st_size * (k % 7) / 7)) != 0) break;
        usleep(200);
        copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", st_path);
        usleep(20000);
    }
    return NULL;
}

static void test_concurrent_truncation(void) {
    pthread_t th;
    atomic_store(&stop_cutting, false);
    pthread_create(&th, NULL, cutter, NULL);
    int ok = 0, failed = 0;
    for (int i = 0; i < 60; i++) {
        hs_model *m = NULL;
        if (hs_model_load(model_dir, NULL, &m) == HS_OK) ok++;
        else if (++failed <= 3) printf("  refused: %s\n", hs_last_error());
        hs_model_free(m);
    }
    atomic_store(&stop_cutting, true);
    pthread_join(th, NULL);
    /* reaching this line is the test (SIGBUS would have killed the process) */
    CHECK(ok + failed == 60, "loads %d ok, %d refused", ok, failed);
    printf("concurrent truncation: %d loads succeeded, %d refused with an error, no signal\n", ok, failed);
}

/* ---------------------------------------------------------------- memory */

static void test_memory_refusal(void) {
    copy_file(HS_SOURCE_DIR "/tests/fixtures/neox-tiny-f32/model.safetensors", st_path);
    hs_model *m = NULL;
    CHECK_OK(hs_model_load(model_dir, NULL, &m));
    if (!m) return;
    const hs_model_config *c = hs_model_get_config(m);
    hs_forward *f = NULL;
    long rss0 = peak_rss_mb();
    /* a batch of 2^30 sequences: terabytes of workspace */
    hs_status s = hs_forward_create(m, 1 << 30, c->n_ctx, &f);
    size_t need = (hs_model_estimate_memory(c, 1 << 30, c->n_ctx).workspace + (1u << 20) - 1) >> 20;
    char want[64];
    snprintf(want, sizeof want, "needs %zu MB", need);
    CHECK(s == HS_ERR_NOMEM && strstr(hs_last_error(), want) && strstr(hs_last_error(), "MB available"), "huge batch: %s",
          hs_last_error());
    CHECK(!f && peak_rss_mb() - rss0 < 64, "refused before allocating (%ld MB)", peak_rss_mb() - rss0);
    CHECK_OK(hs_forward_create(m, 2, c->n_ctx, &f));
    hs_forward_free(f);
#ifndef UNDER_ASAN   /* ASan reserves terabytes of address space: RLIMIT_AS cannot be used with it */
    /* under RLIMIT_AS: the limit, not the machine's memory, decides */
    pid_t pid = fork();
    if (pid == 0) {
        FILE *sf = fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (!sf || fscanf(sf, "%lu", &pages) != 1) _exit(3);
        fclose(sf);
        size_t used = pages * (size_t)sysconf(_SC_PAGESIZE);
        struct rlimit rl = {used + (64u << 20), used + (64u << 20)};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        int B = 1;   /* the smallest batch whose workspace exceeds 64 MB */
        while (hs_model_estimate_memory(c, B, c->n_ctx).workspace < (96u << 20)) B *= 2;
        hs_forward *g = NULL;
        hs_status r = hs_forward_create(m, B, c->n_ctx, &g);
        _exit(r == HS_ERR_NOMEM && strstr(hs_last_error(), "needs") ? 0 : 4);
    }
    int wst = 0;
    waitpid(pid, &wst, 0);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "RLIMIT_AS child: status %d", wst);
#endif
    hs_model_free(m);
}

/* ---------------------------------------------------------------- claimed sizes */

static void test_claimed_sizes(void) {
    long rss0 = peak_rss_mb();
    char p[400];
    snprintf(p, sizeof p, "%s/tokenizer.json", tmpdir);
    static const char tok[] =
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2147483646}, \"merges\": []},"
        "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"decoder\": {\"type\": \"ByteLevel\"}}";
    write_text(p, tok, sizeof tok - 1);
    hs_tokenizer *t = NULL;
    hs_status s = hs_tokenizer_load(p, &t);
    CHECK(s != HS_OK && strstr(hs_last_error(), "sparse ids are not supported"), "huge id: %s", hs_last_error());
    hs_tokenizer_free(t);
    /* a Parquet page header claiming 2^31-1 bytes uncompressed: the seed file with that
     * field (the page header's second i32, zigzag varint right after "PAR1" + 0x15 0x00)
     * rewritten */
    char *d;
    size_t n;
    CHECK_OK(hs_read_file(HS_SOURCE_DIR "/fuzz/corpus/parquet/plain", 0, &d, &n));
    if (d) {
        /* PAR1, {1: i32 0} = 0x15 0x00, then field 2 (0x15) and its varint */
        CHECK(!memcmp(d, "PAR1\x15\x00\x15", 7), "seed layout");
        size_t k = 7;
        while (k < n && (d[k] & 0x80)) k++;
        k++;   /* past the old usize varint */
        static const uint8_t huge[] = {0xfc, 0xff, 0xff, 0xff, 0x0f};   /* zigzag(2147483646) */
        char *f = malloc(n + sizeof huge);
        memcpy(f, d, 7);
        memcpy(f + 7, huge, sizeof huge);
        memcpy(f + 7 + sizeof huge, d + k, n - k);
        size_t fn = 7 + sizeof huge + (n - k);
        /* the footer's offsets still point at the old positions: shift them would be more
         * work than it is worth; the reader must refuse either way, without allocating */
        hs_parquet *pq = NULL;
        if (hs_parquet_open_memory(f, fn, "huge-page.parquet", &pq) == HS_OK) {
            hs_pq_reader *r = NULL;
            int col = 0;
            hs_status st = hs_parquet_text_column(pq, "text", &col);
            if (!st) st = hs_parquet_reader_open(pq, col, HS_PQ_NULLS_RETURN, &r);
            hs_pq_value v;
            bool eof = false;
            while (!st && !(st = hs_parquet_reader_next(r, &v, &eof)) && !eof) {}
            CHECK(st != HS_OK, "the huge page was read");
            hs_parquet_reader_free(r);
            hs_parquet_close(pq);
        }
        free(f);
        free(d);
    }
    CHECK(peak_rss_mb() - rss0 < 64, "claimed sizes allocated: peak RSS +%ld MB", peak_rss_mb() - rss0);
}

/* ---------------------------------------------------------------- pathological inputs */

static void test_long_line(void) {
    const size_t L = 100u << 20;
    char p[400];
    snprintf(p, sizeof p, "%s/long.jsonl", tmpdir);
    FILE *f = fopen(p, "wb");
    char *chunk = malloc(1 << 20);
    memset(chunk, 'a', 1 << 20);
    fputs("{\"text\": \"", f);
    for (size_t i = 0; i < L >> 20; i++) fwrite(chunk, 1, 1 << 20, f);
    fputs("\"}\n{\"text\": \"after\"}\n", f);
    fclose(f);
    free(chunk);
    long rss0 = peak_rss_mb();
    double t0 = now();
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *docs = NULL;
    CHECK_OK(hs_docs_open(p, &dp, &docs));
    hs_doc doc;
    bool eof = false;
    size_t lens[3] = {0};
    int k = 0;
    hs_status s;
    while (docs && !(s = hs_docs_next(docs, &doc, &eof)) && !eof && k < 3) lens[k++] = doc.len;
    hs_docs_close(docs);
    long grew = peak_rss_mb() - rss0;
    CHECK(k == 2 && lens[0] == L && lens[1] == 5, "100 MB line: %d docs, %zu bytes", k, lens[0]);
    /* limit: the line buffer (at most 2x the line, doubling) + the decoded value (1x) */
    CHECK(grew < 4 * (long)(L >> 20), "100 MB line: peak RSS grew %ld MB (limit %ld)", grew, 4 * (long)(L >> 20));
    printf("100 MB line: %.1f s, peak RSS +%ld MB\n", now() - t0, grew);
    unlink(p);
}

static void test_many_docs(void) {
    const int N = 2000000;
    char p[400];
    snprintf(p, sizeof p, "%s/many.jsonl", tmpdir);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < N; i++) fprintf(f, "{\"text\":\"%c\"}\n", 'a' + i % 26);
    fclose(f);
    double t0 = now();
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *docs = NULL;
    CHECK_OK(hs_docs_open(p, &dp, &docs));
    hs_doc doc;
    bool eof = false;
    int k = 0;
    while (docs && !hs_docs_next(docs, &doc, &eof) && !eof) k++;
    hs_docs_close(docs);
    double dt = now() - t0;
    CHECK(k == N, "%d of %d documents", k, N);
    CHECK(dt < 60, "2M documents took %.1f s (limit 60)", dt);
    printf("2M tiny documents: %.1f s\n", dt);
    unlink(p);
}

static void test_deep_nesting(void) {
    const size_t D = 100000;
    char *s = malloc(2 * D + 64);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"model_type\": \"gpt_neox\", \"x\": ");
    for (size_t i = 0; i < D; i++) s[n++] = '[';
    for (size_t i = 0; i < D; i++) s[n++] = ']';
    s[n++] = '}';
    char p[400];
    snprintf(p, sizeof p, "%s/config.json", model_dir);
    write_text(p, s, n);
    hs_model_config cfg;
    CHECK(hs_model_read_config(model_dir, &cfg) == HS_ERR_FORMAT, "deep config.json: %s", hs_last_error());
    snprintf(p, sizeof p, "%s/tokenizer.json", tmpdir);
    write_text(p, s, n);
    hs_tokenizer *t = NULL;
    CHECK(hs_tokenizer_load(p, &t) == HS_ERR_FORMAT, "deep tokenizer.json: %s", hs_last_error());
    hs_tokenizer_free(t);
    snprintf(p, sizeof p, "%s/deep.jsonl", tmpdir);
    s[n++] = '\n';
    write_text(p, s, n);
    hs_docs_params dp = hs_docs_default_params();
    hs_docs *docs = NULL;
    CHECK_OK(hs_docs_open(p, &dp, &docs));
    hs_doc doc;
    bool eof = false;
    CHECK(docs && hs_docs_next(docs, &doc, &eof) == HS_ERR_FORMAT && strstr(hs_last_error(), "nested too deeply"),
          "deep JSONL: %s", hs_last_error());
    hs_docs_close(docs);
    free(s);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/hs-faults.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_checkpoint_changes();
    test_concurrent_truncation();
    test_memory_refusal();
    test_claimed_sizes();
    test_deep_nesting();
    test_long_line();
    test_many_docs();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {}
    return test_report("test_faults");
}
