/* cmd_prompt.c — `headscan prompt`: TransformerLens's utils.test_prompt, the same lines
 * and number formats (analysis.md §13). */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: headscan prompt --model DIR PROMPT ANSWER [--top 10] [--tokenizer FILE] [--no-bos]\n"
           "                       [--no-prepend-space] [--revision R] [--offline] [--compute f32|bf16]\n"
           "Prints what TransformerLens's utils.test_prompt(PROMPT, ANSWER, model) prints: the\n"
           "tokenized prompt and answer (Python repr), then per answer token its rank, logit and\n"
           "probability after the prompt, and the top tokens (logits are TransformerLens's\n"
           "centered logits). A space is put before ANSWER unless it has one (or --no-prepend-space).\n"
           "  --tokenizer FILE  default MODEL/tokenizer.json\n"
           "  --no-bos          no BOS token before the prompt (prepend_bos=False)\n"
           "  --compute bf16    weight GEMMs in bfloat16 (oneDNN, AVX512_BF16/AMX CPUs), not TransformerLens-exact:\n"
           "                    the prompt is also run in float32 and the deviation printed (stderr). Default f32.\n");
}

int cmd_prompt(int argc, char **argv) {
    const char *model = NULL, *tok_path = NULL, *revision = NULL;
    int offline = 0;
    hs_test_prompt_params tp = hs_test_prompt_default_params();
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"top", required_argument, 0, 'k'}, {"tokenizer", required_argument, 0, 'z'},
        {"no-bos", no_argument, 0, 'B'}, {"no-prepend-space", no_argument, 0, 'S'}, {"revision", required_argument, 0, 'R'},
        {"offline", no_argument, 0, 'O'}, {"help", no_argument, 0, 'h'}, {"compute", required_argument, 0, 'C'}, {0, 0, 0, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "m:k:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': model = optarg; break;
        case 'k': {
            long k = strtol(optarg, &end, 10);
            if (*end || end == optarg || k < 0 || k > 100000) return cli_usage_error("prompt", "--top must be an integer in 0..100000");
            tp.top_k = (int)k;
            break;
        }
        case 'z': tok_path = optarg; break;
        case 'B': tp.prepend_bos = false; break;
        case 'S': tp.prepend_space_to_answer = false; break;
        case 'R': revision = optarg; break;
        case 'O': offline = 1; break;
        case 'C':
            if (hs_compute_parse(optarg, &tp.compute)) return cli_usage_error("prompt", "--compute: bad value '%s' (f32 or bf16)", optarg);
            break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("prompt", "bad option");
        }
    }
    if (!model) return cli_usage_error("prompt", "--model DIR is required");
    if (argc - optind != 2) return cli_usage_error("prompt", "give PROMPT and ANSWER");
    if (hs_compute_check(tp.compute)) return cli_fail(HS_ERR_UNSUPPORTED, "--compute");   /* before any work */
    const char *prompt = argv[optind], *answer = argv[optind + 1];
    char *dir = NULL;
    int rc = cli_resolve_model(model, revision, offline, &dir);
    if (rc) return rc;
    char deftok[4096];
    snprintf(deftok, sizeof deftok, "%s/tokenizer.json", dir);
    hs_tokenizer *tk = NULL;
    hs_model *m = NULL;
    char *text = NULL;
    hs_status s;
    if (!tok_path && access(deftok, R_OK) != 0) {
        fprintf(stderr, "headscan: error: %s has no tokenizer.json: give --tokenizer FILE\n", dir);
        rc = 1;
        goto done;
    }
    if ((s = hs_tokenizer_load(tok_path ? tok_path : deftok, &tk))) { rc = cli_fail(s, "loading the tokenizer"); goto done; }
    hs_model_params mp = hs_model_default_params();
    if ((s = hs_model_load(dir, &mp, &m))) { rc = cli_fail(s, "loading the model"); goto done; }
    if (hs_tokenizer_size(tk) > hs_model_get_config(m)->d_vocab) {
        fprintf(stderr, "headscan: error: the tokenizer knows %d ids but the model's vocabulary has %d: they do not belong together\n",
                hs_tokenizer_size(tk), hs_model_get_config(m)->d_vocab);
        rc = 1;
        goto done;
    }
    if (!hs_model_get_config(m)->default_prepend_bos) tp.prepend_bos = false;   /* TL: Qwen2 has no BOS */
    hs_compute_deviation dev;
    tp.deviation = &dev;
    if ((s = hs_test_prompt(m, tk, prompt, answer, &tp, &text))) { rc = cli_fail(s, "test_prompt"); goto done; }
    fputs(text, stdout);
    if (tp.compute != HS_COMPUTE_F32) cli_print_deviation(stderr, tp.compute, &dev, "prompt + answer");
done:
    free(text);
    hs_model_free(m);
    hs_tokenizer_free(tk);
    free(dir);
    return rc;
}
