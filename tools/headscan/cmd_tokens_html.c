/* cmd_tokens_html.c — `headscan tokens-html` (not built yet). */
#include "cli.h"

int cmd_tokens_html(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "headscan %s: not available in this build yet\n", argv[0]);
    return 2;
}
