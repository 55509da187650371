/* cmd_merge.c — `headscan merge SHARD_DIR... --out DIR`: the partial results of
 * `headscan scan --shard I/N` combined into exactly the whole scan's outputs. */
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void) {
    printf("usage: headscan merge SHARD_DIR... --out DIR [--no-arrays] [--top 10] [--report]\n"
           "Combines the partial results of `headscan scan ... --shard I/N --out SHARD_DIR` (every I of\n"
           "0..N-1 exactly once, the same model, tokens and settings) into DIR: the head table, exact\n"
           "quantiles, per-token arrays and manifest the scan without --shard writes.\n"
           "  --no-arrays   leave the per-token arrays out of DIR\n"
           "  --top N       print the N top heads (default 10; 0 = none)\n"
           "  --report      also write DIR/report.html\n");
}

int cmd_merge(int argc, char **argv) {
    const char *out = NULL;
    int no_arrays = 0, top = 10, report = 0;
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"no-arrays", no_argument, 0, 'a'},
                                         {"top", required_argument, 0, 'K'}, {"report", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'o': out = optarg; break;
        case 'a': no_arrays = 1; break;
        case 'K': top = atoi(optarg); if (top < 0) return cli_usage_error("merge", "--top: bad value '%s'", optarg); break;
        case 'r': report = 1; break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("merge", "bad option");
        }
    }
    if (!out) return cli_usage_error("merge", "--out DIR is required");
    if (report && no_arrays) return cli_usage_error("merge", "--report plots the per-token arrays: it cannot go with --no-arrays");
    if (optind >= argc) return cli_usage_error("merge", "give the shard folders to merge");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hs_scan_result *r = NULL;
    hs_status s = hs_scan_merge((const char *const *)argv + optind, argc - optind, out, no_arrays, NULL, NULL, &r);
    if (s) return cli_fail(s, "merge");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (top > 0) cli_print_top(r, top, false);
    printf("merged %d shards: %d prompts x %d tokens (%lld positions, %lld non-induction) in %.2fs; outputs in %s\n", argc - optind,
           r->N, r->T, (long long)r->N * (r->T - 1), (long long)r->non_induction_cols,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), out);
    hs_scan_result_free(r);
    return report ? cli_write_report(out, NULL, NULL, NULL, false, NULL) : 0;
}
