/* cmd_run.c — `headscan run` (not built yet). */
#include "cli.h"

int cmd_run(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
