/* cmd_tokenize.c — `headscan tokenize` (not built yet). */
#include "cli.h"

int cmd_tokenize(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
