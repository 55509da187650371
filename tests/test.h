/* test.h — two macros and a summary: enough for unit tests run by ctest. */
#ifndef HS_TEST_H
#define HS_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static int test_failures, test_checks;

#define CHECK(cond, ...) do { \
    test_checks++; \
    if (!(cond)) { test_failures++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* status check that prints hs_last_error() */
#define CHECK_OK(expr) do { hs_status s_ = (expr); test_checks++; \
    if (s_ != HS_OK) { test_failures++; fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr, \
        hs_status_str(s_), hs_last_error()); } } while (0)

static inline int test_report(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}
#endif
