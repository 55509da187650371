/* cmd_fetch.c — `headscan fetch`: download a model or dataset from the HuggingFace hub
 * into the shared cache without running anything; prints the local path(s). */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: headscan fetch NAME [--revision R] [--dataset] [--file F] [--offline] [--cache-dir D]\n\n"
        "Downloads what headscan needs of a hub repo into the HuggingFace cache (shared with\n"
        "Python's huggingface_hub) and prints the local path(s).\n"
        "  NAME             ORG/NAME, or a TransformerLens alias (pythia-70m, gpt2-small)\n"
        "  --revision R     branch, tag or commit (default main; Pythia checkpoints: step143000)\n"
        "  --dataset        NAME is a dataset: fetch the Parquet files of its train split\n"
        "  --file F         fetch only this file of the repo\n"
        "  --offline        never use the network (also HF_HUB_OFFLINE=1)\n"
        "  --cache-dir D    cache root (default $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)\n"
        "Environment: HF_ENDPOINT (hub URL), HF_TOKEN (gated repos; never printed).\n");
}

int cmd_fetch(int argc, char **argv) {
    static const struct option opts[] = {
        {"revision", required_argument, 0, 'r'}, {"dataset", no_argument, 0, 'd'},
        {"file", required_argument, 0, 'f'}, {"offline", no_argument, 0, 'o'},
        {"cache-dir", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *revision = NULL, *file = NULL, *cache_dir = NULL;
    bool dataset = false, offline = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:df:oc:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': revision = optarg; break;
        case 'd': dataset = true; break;
        case 'f': file = optarg; break;
        case 'o': offline = true; break;
        case 'c': cache_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return cli_usage_error(argv[0], "bad option");
        }
    }
    if (optind + 1 != argc) return cli_usage_error(argv[0], "expected one NAME");
    const char *name = argv[optind];
    hs_hub_params hp = cli_hub_params(revision, offline, cache_dir);
    hs_status s;
    if (file) {
        char *repo = NULL, *path = NULL;
        s = dataset ? (repo = strdup(name)) ? HS_OK : HS_ERR_NOMEM : hs_hub_model_repo_id(name, &repo);
        if (!s) s = hs_hub_download(repo, dataset ? HS_HUB_DATASET : HS_HUB_MODEL, file, &hp, &path);
        free(repo);
        if (s) return cli_fail(s, name);
        printf("%s\n", path);
        free(path);
    } else if (dataset) {
        char **files = NULL;
        size_t n = 0;
        s = hs_hub_resolve_dataset(name, &hp, &files, &n);
        if (s) return cli_fail(s, name);
        for (size_t i = 0; i < n; i++) printf("%s\n", files[i]);
        hs_hub_free_files(files, n);
    } else {
        char *dir = NULL;
        s = hs_hub_resolve_model(name, &hp, &dir);
        if (s) return cli_fail(s, name);
        printf("%s\n", dir);
        free(dir);
    }
    return 0;
}
