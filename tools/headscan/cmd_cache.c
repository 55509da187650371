/* cmd_cache.c — `headscan cache ls|dir`: what the HuggingFace hub cache holds. */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: headscan cache ls [--cache-dir D]    list cached repos: type, id, size, files, refs, path\n"
        "       headscan cache dir [--cache-dir D]   print the cache root\n"
        "The cache is huggingface_hub's: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.\n");
}

int cmd_cache(int argc, char **argv) {
    static const struct option opts[] = {
        {"cache-dir", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *cache_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cache_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return cli_usage_error(argv[0], "bad option");
        }
    }
    if (optind + 1 != argc) return cli_usage_error(argv[0], "expected 'ls' or 'dir'");
    const char *sub = argv[optind];
    hs_hub_params hp = hs_hub_default_params();
    if (cache_dir) hp.cache_dir = cache_dir;
    char *root = NULL;
    hs_status s = hs_hub_cache_dir(&hp, &root);
    if (s) return cli_fail(s, "cache");
    if (!strcmp(sub, "dir")) {
        printf("%s\n", root);
        free(root);
        return 0;
    }
    if (strcmp(sub, "ls") != 0) {
        free(root);
        return cli_usage_error(argv[0], "unknown subcommand '%s'", sub);
    }
    hs_hub_cached_repo *repos = NULL;
    size_t n = 0;
    s = hs_hub_cache_scan(&hp, &repos, &n);
    if (s) { free(root); return cli_fail(s, "cache"); }
    printf("%-8s %-40s %10s %6s  %-24s %s\n", "TYPE", "REPO ID", "SIZE", "FILES", "REFS", "PATH");
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        cli_human_size((double)repos[i].size, sz, sizeof sz);
        total += repos[i].size;
        printf("%-8s %-40s %10s %6d  %-24s %s\n", repos[i].type == HS_HUB_DATASET ? "dataset" : "model",
               repos[i].repo_id, sz, repos[i].n_files, repos[i].refs[0] ? repos[i].refs : "-", repos[i].path);
    }
    char tot[32];
    cli_human_size((double)total, tot, sizeof tot);
    printf("%zu repo%s, %s in %s\n", n, n == 1 ? "" : "s", tot, root);
    hs_hub_cache_free(repos, n);
    free(root);
    return 0;
}
