/* main.c — the headscan command: dispatches to one function per subcommand. */
#include "cli.h"
#include <string.h>
#include <stdlib.h>

static const struct { const char *name; int (*fn)(int, char **); const char *help; } commands[] = {
    {"scan", cmd_scan, "characterise every attention head over a dataset (the main job)"},
    {"merge", cmd_merge, "combine the partial results of `scan --shard I/N` into the whole scan"},
    {"run", cmd_run, "run a model on tokens or text: top predictions, loss, hooks"},
    {"info", cmd_info, "architecture, sizes and memory estimate of a model"},
    {"tokenize", cmd_tokenize, "encode or decode text with a tokenizer.json"},
    {"tokens", cmd_tokens, "build the token matrix TransformerLens builds from a dataset"},
    {"report", cmd_report, "write the HTML report of a scan"},
    {"prompt", cmd_prompt, "TransformerLens test_prompt: rank of an answer after a prompt"},
    {"head-vocab", cmd_head_vocab, "the vocabulary one head writes at one position"},
    {"examples", cmd_examples, "the dataset positions where a head's metric is highest"},
    {"tokens-html", cmd_tokens_html, "colour tokens by a per-token value"},
    {"train", cmd_train, "train a small GPT-NeoX model on CPU"},
    {"fetch", cmd_fetch, "download a model or dataset from the HuggingFace hub"},
    {"cache", cmd_cache, "list the HuggingFace cache"},
};

static void usage(FILE *f) {
    fprintf(f, "headscan %s — attention-head analysis of transformer language models\n\n"
               "usage: headscan COMMAND [options]   (headscan COMMAND --help for each)\n\n", hs_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    hs_cleanup_on_signals();   /* Ctrl-C / kill: no temporary files left, earlier outputs intact */
    if (argc < 2) {
        /* With no command, run the main job on the bundled default. */
        char *args[] = {"scan", NULL};
        return cmd_scan(1, args);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("headscan %s\n", hs_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "headscan: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
