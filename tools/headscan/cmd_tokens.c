/* cmd_tokens.c — `headscan tokens` (not built yet). */
#include "cli.h"

int cmd_tokens(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
