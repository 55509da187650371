/* cli_util.c — error printing and small parsers shared by the subcommands. The bottom of
 * the CLI's helpers: it uses nothing of cli_progress.c (which builds on it). */
#include "cli.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

int cli_fail(hs_status s, const char *what) {
    const char *msg = hs_last_error();
    fprintf(stderr, "headscan: error: %s%s%s\n", what ? what : "", (what && *msg) ? ": " : "",
            *msg ? msg : hs_status_str(s));
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "headscan %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see headscan %s --help)\n", cmd);
    va_end(ap);
    return 2;
}

long cli_parse_int_list(const char *s, int64_t **out) {
    *out = NULL;
    size_t cap = 16, n = 0;
    int64_t *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '[' || *p == ']' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno) { free(v); return -1; }
        if (n == cap) {
            int64_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) { free(v); return -1; }
            v = nv;
        }
        v[n++] = x;
        p = end;
        if (*p && *p != ',' && *p != ' ' && *p != ']' && *p != '\n') { free(v); return -1; }
    }
    *out = v;
    return (long)n;
}

int cli_stderr_tty(void) { return isatty(2); }

void cli_print_deviation(FILE *out, hs_compute compute, const hs_compute_deviation *d, const char *what) {
    fprintf(out, "headscan: compute %s (oneDNN %s) is not TransformerLens-exact: deviation from float32 on %s (%d x %d tokens, "
                 "each sequence alone): max |dlogit| %.3g (max |logit| %.3g), relative logit error %.3g, max |dloss| %.3g, "
                 "mean |dloss| %.3g\n", hs_compute_name(compute), d->impl, what, d->sequences, d->tokens, d->max_abs_logit,
            d->max_logit, d->rel_logit, d->max_abs_loss, d->mean_abs_loss);
}
