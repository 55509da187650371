/* cmd_head_vocab.c — `headscan head-vocab` (not built yet). */
#include "cli.h"

int cmd_head_vocab(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
