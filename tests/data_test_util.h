/* data_test_util.h — helpers for the datasets tests: golden-file lookups. */
#ifndef HS_DATA_TEST_UTIL_H
#define HS_DATA_TEST_UTIL_H
#include <stdio.h>
#include <string.h>
#include <stdint.h>

/* Finds "<name> <count> <hex>" in a golden file (lines starting with '#' skipped).
 * Returns 1 when found. */
static inline int golden_lookup(const char *file, const char *name, long long *count, char hex[65]) {
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    char line[512], n[128], h[128];
    long long c;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "%127s %lld %127s", n, &c, h) == 3 && !strcmp(n, name) && strlen(h) == 64) {
            *count = c;
            memcpy(hex, h, 65);
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}
#endif
