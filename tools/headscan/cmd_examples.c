/* cmd_examples.c — `headscan examples` (not built yet). */
#include "cli.h"

int cmd_examples(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
