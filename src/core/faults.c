/* faults.c — what keeps outputs whole and memory requests honest when things go wrong:
 *
 * - A registry of the temporary files of unfinished atomic outputs (hs_atomic_open ..
 *   commit/abort), and hs_cleanup_on_signals(): SIGINT/SIGTERM/SIGHUP unlink them (unlink
 *   is async-signal-safe) and the process then dies of the same signal, promptly. A
 *   previous output under the final name is never touched: only rename() replaces it.
 * - Injected faults for tests (environment; inert unless set): HS_FAULT_WRITE_AFTER=N makes
 *   every atomic output fail with ENOSPC after N bytes, as a full disk would;
 *   HS_FAULT_COMMIT_DELAY_MS=N waits N ms with the temporary complete, just before the
 *   rename, so a test can interrupt a run exactly there; HS_FAULT_PAIR_DELAY_MS=N waits
 *   between the two renames of a pair (hs_signals_defer), where a signal must wait;
 *   HS_FAULT_BATCH_DELAY_MS=N waits N ms after every batch of a streaming scan and
 *   HS_FAULT_CRASH_AT_BATCH=K kills the process (SIGKILL) when its batch K is done, so a
 *   test can interrupt or crash a scan mid-way (hs_fault_batch); the streaming scan's own
 *   writes (pwrite) draw on the same HS_FAULT_WRITE_AFTER budget (hs_fault_write_budget).
 * - hs_signals_defer()/hs_signals_resume(): a fatal signal arriving in between (on any
 *   thread) is held until resume, then acted on; so the renames of a pair of outputs that
 *   belong together (a token matrix and its sidecar) are never split by a signal.
 * - hs_memory_available(): what the process may still allocate, so a huge batch is
 *   refused up front ("needs N MB, M MB available") instead of dying in malloc. */
#define _GNU_SOURCE
#include "core/internal.h"
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ temp file registry */

#define HS_MAX_TEMPS 256   /* outputs open at once; beyond it a file is simply not registered */
static _Atomic(const char *) temps[HS_MAX_TEMPS];

void hs_temp_register(const char *tmp) {
    for (int i = 0; i < HS_MAX_TEMPS; i++) {
        const char *expect = NULL;
        if (atomic_compare_exchange_strong(&temps[i], &expect, tmp)) return;
    }
}

void hs_temp_unregister(const char *tmp) {
    for (int i = 0; i < HS_MAX_TEMPS; i++) {
        const char *expect = tmp;
        if (atomic_compare_exchange_strong(&temps[i], &expect, NULL)) return;
    }
}

static atomic_int defer_depth;
static volatile sig_atomic_t deferred_sig;

static void die_of(int sig) {
    for (int i = 0; i < HS_MAX_TEMPS; i++) {
        const char *p = atomic_load(&temps[i]);
        if (p) unlink(p);
    }
    signal(sig, SIG_DFL);   /* then die of it, so the parent sees the signal */
    raise(sig);
}

static void on_fatal_signal(int sig) {
    int saved = errno;
    if (atomic_load(&defer_depth) > 0) deferred_sig = sig;   /* acted on by hs_signals_resume */
    else die_of(sig);
    errno = saved;
}

void hs_signals_defer(void) { atomic_fetch_add(&defer_depth, 1); }

void hs_signals_resume(void) {
    /* a signal after the decrement finds the depth at 0 and acts itself */
    if (atomic_fetch_sub(&defer_depth, 1) == 1 && deferred_sig) die_of(deferred_sig);
}

void hs_cleanup_on_signals(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        /* keep a signal the caller ignores (nohup) ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ------------------------------------------------------------------ injected full disk */

typedef struct fault_cookie { FILE *real; long long left; } fault_cookie;

/* stdio does not keep a cookie's errno reliably up to the caller: the failure is kept here */
static _Thread_local int fault_errno;

int hs_write_errno(void) { return fault_errno ? fault_errno : errno; }

/* glibc treats a short count from a cookie as an error without errno, so a write that
 * does not fit is: the bytes that fit go to the file, then -1 with ENOSPC (a full disk). */
static ssize_t fault_write(void *c, const char *buf, size_t n) {
    fault_cookie *fc = c;
    if (n == 0) return 0;
    size_t k = fc->left <= 0 ? 0 : (unsigned long long)fc->left < n ? (size_t)fc->left : n;
    size_t w = k ? fwrite(buf, 1, k, fc->real) : 0;
    fc->left -= (long long)w;
    if (w == n) return (ssize_t)w;
    errno = fault_errno = w < k ? EIO : ENOSPC;
    return -1;
}

static int fault_close(void *c) {
    fault_cookie *fc = c;
    int r = fclose(fc->real);
    free(fc);
    return r;
}

FILE *hs_fault_wrap(FILE *fp) {
    const char *e = getenv("HS_FAULT_WRITE_AFTER");
    if (!e || !*e) return fp;
    fault_cookie *fc = malloc(sizeof *fc);
    if (!fc) return fp;
    fc->real = fp;
    fc->left = atoll(e);
    cookie_io_functions_t io = {.read = NULL, .write = fault_write, .seek = NULL, .close = fault_close};
    FILE *w = fopencookie(fc, "w", io);
    if (!w) { free(fc); return fp; }
    return w;
}

static void fault_delay(const char *var) {
    const char *e = getenv(var);
    long ms = e ? atol(e) : 0;
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);   /* a handled signal ends the pause, as it would slow I/O */
    }
}

void hs_fault_commit_delay(void) { fault_delay("HS_FAULT_COMMIT_DELAY_MS"); }
void hs_fault_pair_delay(void) { fault_delay("HS_FAULT_PAIR_DELAY_MS"); }

void hs_fault_batch(int64_t batch) {
    fault_delay("HS_FAULT_BATCH_DELAY_MS");
    const char *e = getenv("HS_FAULT_CRASH_AT_BATCH");
    if (e && *e && atoll(e) == batch) raise(SIGKILL);   /* a crash: no handler, no cleanup */
}

bool hs_fault_write_budget(size_t bytes) {
    static _Atomic long long left = -2;   /* -2: not read yet, -1: unset */
    if (atomic_load(&left) == -2) {
        const char *e = getenv("HS_FAULT_WRITE_AFTER");
        atomic_store(&left, e && *e ? atoll(e) : -1);
    }
    if (atomic_load(&left) < 0) return true;
    return atomic_fetch_sub(&left, (long long)bytes) >= (long long)bytes;
}

/* ------------------------------------------------------------------ memory */

static size_t meminfo_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    size_t kb = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1) break;
        fclose(f);
    }
    if (kb) return kb * 1024;
    long pages = sysconf(_SC_AVPHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
    return pages > 0 && ps > 0 ? (size_t)pages * (size_t)ps : SIZE_MAX;
}

/* cgroup v2 limit of this process's group (containers), SIZE_MAX when none. */
static size_t cgroup_available(void) {
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (!f) return SIZE_MAX;
    char buf[64] = "";
    size_t max = SIZE_MAX, cur = 0;
    if (fgets(buf, sizeof buf, f) && strncmp(buf, "max", 3) != 0) max = (size_t)strtoull(buf, NULL, 10);
    fclose(f);
    if (max == SIZE_MAX) return max;
    if ((f = fopen("/sys/fs/cgroup/memory.current", "r"))) {
        if (fgets(buf, sizeof buf, f)) cur = (size_t)strtoull(buf, NULL, 10);
        fclose(f);
    }
    return max > cur ? max - cur : 0;
}

/* RLIMIT_AS minus the address space already in use, SIZE_MAX when unlimited. */
static size_t rlimit_available(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    size_t used = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long pages;
        if (fscanf(f, "%lu", &pages) == 1) used = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
        fclose(f);
    }
    return (size_t)rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 0;
}

size_t hs_memory_available(void) {
    size_t a = meminfo_available(), b = cgroup_available(), c = rlimit_available();
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

hs_status hs_memory_check(size_t need, const char *what) {
    size_t avail = hs_memory_available();
    if (need <= avail) return HS_OK;
    return hs_errorf(HS_ERR_NOMEM, "%s needs %zu MB, %zu MB available (MemAvailable, cgroup and RLIMIT_AS): "
                     "use a smaller batch", what, (need + (1u << 20) - 1) >> 20, avail >> 20);
}
