/* fuzz_util.h — shared by the fuzz targets in fuzz/ (one .c file per target) (libFuzzer entry points).
 *
 * Each target file defines its entry point with FUZZ_ENTRY(name). Built with
 * -DHS_FUZZ=ON (clang, -fsanitize=fuzzer) it is LLVMFuzzerTestOneInput; included by
 * tests/test_fuzz_regress.c (HS_FUZZ_REGRESS defined) it becomes fuzz_<name>(), so the
 * ordinary gcc build replays the committed corpora and crash inputs through the very
 * same code. Parsers that only take a path get the bytes through a file in a private
 * directory under /dev/shm (tmpfs: cheap), reused for every input. */
#ifndef HS_FUZZ_UTIL_H
#define HS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#ifdef HS_FUZZ_REGRESS
#define FUZZ_ENTRY(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* A per-process scratch directory (created once, removed at exit). */
static char fuzz_dir_buf[256];
static void fuzz_dir_cleanup(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_buf);
    if (fuzz_dir_buf[0] && system(cmd) != 0) {}
}
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_buf[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_buf, sizeof fuzz_dir_buf, "%s/hsfuzz.%ld", base, (long)getpid());
        mkdir(fuzz_dir_buf, 0700);
        atexit(fuzz_dir_cleanup);
    }
    return fuzz_dir_buf;
}

/* Writes data to <scratch>/<name> and returns the path (static buffer). */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
    return path;
}

#endif
