/* cmd_report.c — `headscan report SCAN_DIR`: the study's plots of a scan as one HTML
 * page (plotly.js embedded from tools/report's npm install, else linked from its CDN). */
#define _GNU_SOURCE
#include "cli.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HS_PLOTLY_JS_DEFAULT
#define HS_PLOTLY_JS_DEFAULT ""
#endif

static void usage(void) {
    printf("usage: headscan report SCAN_DIR [--out report.html] [--tokenizer FILE] [--plotly FILE | --cdn]\n"
           "                       [--title T] [--examples 10] [--context 30] [--subsample 1000] [--seed 0]\n"
           "                       [--threshold 0.05] [--prompts-shown 20]\n"
           "Writes one HTML page with every plot of the study for a `headscan scan` output folder:\n"
           "the head table (coolwarm gradient per column, sortable), quantile charts per head, head\n"
           "scatters, layer x head maps, is_movable / num_copies images, per-token scatters of the\n"
           "heads with mover DLA above --threshold, the top examples of the head with the highest\n"
           "mover_dla_no_ind, and per-token loss colouring. Hover labels name the heads.\n"
           "  --out FILE       default SCAN_DIR/report.html\n"
           "  --tokenizer FILE token strings (default: the scan's tokenizer, else MODEL/tokenizer.json;\n"
           "                   without one tokens show as #id)\n"
           "  --plotly FILE    plotly.min.js to embed (default: $HEADSCAN_PLOTLY_JS, else the build's\n"
           "                   tools/report/node_modules/plotly.js-dist-min/plotly.min.js)\n"
           "  --cdn            link plotly.js " HS_PLOTLY_VERSION " from its CDN instead (the page then needs a network)\n"
           "  --seed S         seed of the per-token subsample\n");
}

int cli_write_report(const char *scan_dir, const char *out, const char *tok_path, const char *plotly, bool cdn,
                     const hs_report_params *base) {
    hs_report_params rp = base ? *base : hs_report_default_params();
    char defout[4096];
    if (!out) {
        snprintf(defout, sizeof defout, "%s/report.html", scan_dir);
        out = defout;
    }
    if (!cdn && !plotly) {
        const char *env = getenv("HEADSCAN_PLOTLY_JS");
        plotly = env && *env ? env : HS_PLOTLY_JS_DEFAULT;
        if (!*plotly || access(plotly, R_OK) != 0) {
            fprintf(stderr, "headscan: warning: plotly.js is not installed (%s; run `npm ci` in tools/report): the report links "
                            "plotly.js " HS_PLOTLY_VERSION " from its CDN and needs a network connection to show its plots\n",
                    *plotly ? plotly : "no path built in");
            plotly = NULL;
        }
    }
    rp.plotly_js = cdn ? NULL : plotly;
    hs_tokenizer *tk = NULL;
    char *tpath = tok_path ? strdup(tok_path) : cli_scan_tokenizer(scan_dir);
    if (tpath) {
        hs_status s = hs_tokenizer_load(tpath, &tk);
        if (s) {
            int rc = cli_fail(s, "loading the tokenizer");
            free(tpath);
            return rc;
        }
    } else {
        fprintf(stderr, "headscan: note: no tokenizer found for %s (give --tokenizer FILE): tokens are shown as #id\n", scan_dir);
    }
    free(tpath);
    rp.tokenizer = tk;
    hs_report_info info;
    hs_status s = hs_report_write(scan_dir, &rp, out, &info);
    hs_tokenizer_free(tk);
    if (s) return cli_fail(s, "writing the report");
    char sz[32];
    cli_human_size((double)info.bytes, sz, sizeof sz);
    printf("wrote %s (%s, %zu bytes; plotly.js %s; %d per-token scatter(s); examples of %s)\n", out, sz, info.bytes,
           info.plotly_embedded ? "embedded" : "linked from its CDN", info.subsample_heads, info.example_head);
    return 0;
}

int cmd_report(int argc, char **argv) {
    const char *out = NULL, *tok = NULL, *plotly = NULL;
    int cdn = 0;
    hs_report_params rp = hs_report_default_params();
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"tokenizer", required_argument, 0, 'z'}, {"plotly", required_argument, 0, 'p'},
        {"cdn", no_argument, 0, 'c'}, {"title", required_argument, 0, 't'}, {"examples", required_argument, 0, 'e'},
        {"context", required_argument, 0, 'x'}, {"subsample", required_argument, 0, 's'}, {"seed", required_argument, 0, 'S'},
        {"threshold", required_argument, 0, 'T'}, {"prompts-shown", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int o;
    char *end;
#define INT(var, lo, hi, what) do { long v_ = strtol(optarg, &end, 10); \
        if (*end || end == optarg || v_ < (lo) || v_ > (hi)) { \
            return cli_usage_error("report", "%s must be an integer in %d..%d", what, lo, hi); } \
        var = (int)v_; } while (0)
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'o': out = optarg; break;
        case 'z': tok = optarg; break;
        case 'p': plotly = optarg; break;
        case 'c': cdn = 1; break;
        case 't': rp.title = optarg; break;
        case 'e': INT(rp.examples, 0, 10000, "--examples"); break;
        case 'x': INT(rp.context, 0, 100000, "--context"); break;
        case 's': INT(rp.subsample, 0, 10000000, "--subsample"); break;
        case 'S': rp.seed = strtoull(optarg, &end, 10); if (*end) return cli_usage_error("report", "--seed: bad value '%s'", optarg); break;
        case 'T': rp.subsample_threshold = strtof(optarg, &end); if (*end || end == optarg) return cli_usage_error("report", "--threshold: bad value '%s'", optarg); break;
        case 'P': INT(rp.image_prompts, 0, 100000, "--prompts-shown"); break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("report", "bad option");
        }
    }
#undef INT
    if (optind != argc - 1) return cli_usage_error("report", "give exactly one SCAN_DIR");
    if (plotly && cdn) return cli_usage_error("report", "--plotly and --cdn exclude each other");
    if (plotly && access(plotly, R_OK) != 0) return cli_usage_error("report", "--plotly %s: cannot read it", plotly);
    return cli_write_report(argv[optind], out, tok, plotly, cdn, &rp);
}
