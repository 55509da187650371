/* cmd_tokens.c — `headscan tokens`: a dataset (JSONL, text, Parquet; a file, a
 * directory or a glob) -> the int64 [rows, n_ctx] token matrix TransformerLens
 * builds (tokenize_and_concatenate + Dataset.shuffle), as .npy + a JSON sidecar. */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

static void help(FILE *f) {
    fprintf(f,
        "usage: headscan tokens --dataset PATH (--tokenizer FILE | --model DIR) --out TOKENS.npy [options]\n"
        "\n"
        "Builds the token matrix TransformerLens builds with utils.tokenize_and_concatenate\n"
        "(max_length = n_ctx) followed by datasets' Dataset.shuffle(seed), exactly: the study's\n"
        "pile-10k matrix is `--dataset train.parquet --model pythia-70m` with the defaults.\n"
        "Writes TOKENS.npy (int64 [rows, n_ctx]) and TOKENS.npy.json (sources and hashes,\n"
        "tokenizer hash, options, counts).\n"
        "\n"
        "  --dataset PATH       a .jsonl/.ndjson/.json(.gz), .txt(.gz) or .parquet file, a directory\n"
        "                       of them, or a quoted glob; files are read in sorted order\n"
        "  --field NAME         JSONL key / Parquet column holding the text (default text;\n"
        "                       a dotted path such as meta.pile_set_name for struct children)\n"
        "  --format F           auto (default, by extension) | jsonl | text | parquet\n"
        "  --lines              text files: one document per line (default: one per file)\n"
        "  --nulls skip|error   null text values: skip and count (default) or fail\n"
        "  --utf8 strict|replace  invalid UTF-8 in a document: fail naming file and row\n"
        "                       (default) or substitute U+FFFD\n"
        "  --tokenizer FILE     a HuggingFace tokenizer.json\n"
        "  --model DIR          a model folder; uses DIR/tokenizer.json (Llama family: its config's\n"
        "                       EOS is TL's pad and separator; Qwen2 rows have no BOS column)\n"
        "  --n-ctx N            row length including the BOS column (default 256)\n"
        "  --shuffle SEED       Dataset.shuffle(SEED) (default 42)\n"
        "  --no-shuffle         keep the rows in build order\n"
        "  --mode M             transformerlens (default): exactly what TL builds — documents\n"
        "                       joined with no separator (pad = EOS ids are removed), 20 chunks\n"
        "                       per batch, each batch's remainder dropped;\n"
        "                       plain: each document tokenized whole, EOS between documents,\n"
        "                       one stream cut into rows (NOT what the study used)\n"
        "  --threads N          worker threads (default: all cores; output is the same)\n"
        "  --quiet              no progress or summary on stderr\n"
        "  --out FILE           the .npy to write (the sidecar is FILE.json)\n");
}

typedef struct { int tty, quiet; double t0; int64_t last; } progress_state;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int on_progress(int64_t done, int64_t total, void *user) {
    progress_state *ps = user;
    if (ps->quiet) return 0;
    double el = now() - ps->t0;
    if (ps->tty) {
        fprintf(stderr, "\rheadscan tokens: %lld/%lld documents (%.0f%%), %.1f s", (long long)done, (long long)total,
                total > 0 ? 100.0 * (double)done / (double)total : 100.0, el);
        if (done == total) fputc('\n', stderr);
    } else if (el > 2.0 && (done == total || done - ps->last >= total / 10)) {
        /* logs: about ten lines for a long run, none for a short one */
        fprintf(stderr, "headscan tokens: %lld/%lld documents, %.1f s\n", (long long)done, (long long)total, el);
        ps->last = done;
    }
    return 0;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int cmd_tokens(int argc, char **argv) {
    static const struct option opts[] = {
        {"dataset", required_argument, 0, 'd'}, {"field", required_argument, 0, 'f'},
        {"format", required_argument, 0, 'F'}, {"lines", no_argument, 0, 'L'},
        {"nulls", required_argument, 0, 'N'}, {"utf8", required_argument, 0, 'U'},
        {"tokenizer", required_argument, 0, 't'}, {"model", required_argument, 0, 'm'},
        {"n-ctx", required_argument, 0, 'n'}, {"shuffle", required_argument, 0, 's'},
        {"no-shuffle", no_argument, 0, 'S'}, {"mode", required_argument, 0, 'M'},
        {"threads", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
        {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = argv[0], *dataset = NULL, *tokfile = NULL, *model = NULL, *out = NULL;
    hs_docs_params dp = hs_docs_default_params();
    hs_tokens_params tp = hs_tokens_default_params();
    int quiet = 0;
    long long v;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dataset = optarg; break;
        case 'f': dp.field = optarg; break;
        case 'F':
            if (!strcmp(optarg, "auto")) dp.format = HS_FORMAT_AUTO;
            else if (!strcmp(optarg, "jsonl")) dp.format = HS_FORMAT_JSONL;
            else if (!strcmp(optarg, "text")) dp.format = HS_FORMAT_TEXT;
            else if (!strcmp(optarg, "parquet")) dp.format = HS_FORMAT_PARQUET;
            else return cli_usage_error(cmd, "--format must be auto, jsonl, text or parquet, not '%s'", optarg);
            break;
        case 'L': dp.text_mode = HS_TEXT_PER_LINE; break;
        case 'N':
            if (!strcmp(optarg, "skip")) dp.nulls = HS_NULLS_SKIP;
            else if (!strcmp(optarg, "error")) dp.nulls = HS_NULLS_ERROR;
            else return cli_usage_error(cmd, "--nulls must be skip or error, not '%s'", optarg);
            break;
        case 'U':
            if (!strcmp(optarg, "strict")) dp.utf8 = HS_UTF8_STRICT;
            else if (!strcmp(optarg, "replace")) dp.utf8 = HS_UTF8_REPLACE;
            else return cli_usage_error(cmd, "--utf8 must be strict or replace, not '%s'", optarg);
            break;
        case 't': tokfile = optarg; break;
        case 'm': model = optarg; break;
        case 'n':
            if (!parse_int(optarg, 2, 1 << 24, &v)) return cli_usage_error(cmd, "--n-ctx must be an integer >= 2, not '%s'", optarg);
            tp.n_ctx = (int)v;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return cli_usage_error(cmd, "--shuffle takes a non-negative integer seed, not '%s'", optarg);
            tp.shuffle = true;
            tp.seed = seed;
            break;
        }
        case 'S': tp.shuffle = false; break;
        case 'M':
            if (!strcmp(optarg, "transformerlens") || !strcmp(optarg, "tl")) tp.mode = HS_TOKENS_TRANSFORMERLENS;
            else if (!strcmp(optarg, "plain")) tp.mode = HS_TOKENS_PLAIN;
            else return cli_usage_error(cmd, "--mode must be transformerlens or plain, not '%s'", optarg);
            break;
        case 'j':
            if (!parse_int(optarg, 1, 4096, &v)) return cli_usage_error(cmd, "--threads must be a positive integer, not '%s'", optarg);
            tp.threads = (int)v;
            break;
        case 'q': quiet = 1; break;
        case 'o': out = optarg; break;
        case 'h': help(stdout); return 0;
        default:
            if (optopt) return cli_usage_error(cmd, "option -%c is unknown or lacks its value", optopt);
            return cli_usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!dataset) return cli_usage_error(cmd, "--dataset is required");
    if (!out) return cli_usage_error(cmd, "--out is required");
    if (!tokfile == !model) return cli_usage_error(cmd, "give exactly one of --tokenizer and --model");

    char *tokpath = NULL;
    if (model) {
        size_t n = strlen(model);
        tokpath = malloc(n + 20);
        if (!tokpath) return cli_fail(HS_ERR_NOMEM, "tokens");
        snprintf(tokpath, n + 20, "%s%stokenizer.json", model, (n && model[n - 1] == '/') ? "" : "/");
        tokfile = tokpath;
    }
    int rc = 0;
    hs_tokenizer *tok = NULL;
    hs_docs *docs = NULL;
    hs_array m = {0};
    hs_status s;
    if ((s = hs_tokenizer_load(tokfile, &tok))) { rc = cli_fail(s, "loading the tokenizer"); goto done; }
    hs_model_config mc;   /* Llama family (llama.md §8): pad = the model's eos, no BOS column for Qwen2 */
    if (model && hs_model_read_config(model, &mc) == HS_OK && mc.arch == HS_ARCH_LLAMA) {
        tp.eos_id = mc.eos_id;
        tp.bos_column = mc.default_prepend_bos;
    }
    if ((s = hs_docs_open(dataset, &dp, &docs))) { rc = cli_fail(s, "opening the dataset"); goto done; }
    progress_state ps = {cli_stderr_tty(), quiet, now(), 0};
    tp.progress = on_progress;
    tp.progress_user = &ps;
    hs_tokens_stats st;
    if ((s = hs_tokens_build(tok, docs, &tp, &m, &st))) {
        if (ps.tty && !quiet) fputc('\n', stderr);
        rc = cli_fail(s, "building the token matrix");
        goto done;
    }
    if (m.shape[0] == 0) {
        fprintf(stderr, "headscan: error: %s: no complete row of %d tokens (%lld documents, %lld nulls skipped); "
                "nothing written\n", dataset, tp.n_ctx, (long long)st.docs, (long long)st.nulls);
        rc = 1;
        goto done;
    }
    if ((s = hs_tokens_save(out, &m, docs, tokfile, &tp, &st))) { rc = cli_fail(s, "writing the tokens"); goto done; }
    if (!quiet) {
        fprintf(stderr, "headscan tokens: %lld documents", (long long)st.docs);
        if (st.nulls) fprintf(stderr, " (%lld null skipped)", (long long)st.nulls);
        fprintf(stderr, " -> %lld x %d int64 (%s%s", (long long)m.shape[0], tp.n_ctx,
                tp.mode == HS_TOKENS_PLAIN ? "plain" : "transformerlens", tp.shuffle ? ", shuffle " : ", not shuffled");
        if (tp.shuffle) fprintf(stderr, "%llu", (unsigned long long)tp.seed);
        fprintf(stderr, ") in %.1f s -> %s (+ .json)\n", now() - ps.t0, out);
    }
done:
    hs_array_free(&m);
    hs_docs_close(docs);
    hs_tokenizer_free(tok);
    free(tokpath);
    return rc;
}
