/* cmd_scan.c — `headscan scan` (not built yet). */
#include "cli.h"

int cmd_scan(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
