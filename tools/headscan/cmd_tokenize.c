/* cmd_tokenize.c — `headscan tokenize`: encode text (or decode ids) with a tokenizer.json,
 * exactly as HuggingFace tokenizers does. Output is JSON, one value per document:
 * an array of ids, or {"ids": [...], "str_tokens": [...]} with --str-tokens. */
#define _GNU_SOURCE
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: headscan tokenize (--tokenizer FILE | --model DIR)\n"
    "                         (--text STRING | --jsonl FILE [--field NAME] | --file TXT | --decode IDS)\n"
    "                         [--prepend-bos | --add-special-tokens] [--str-tokens] [--display] [--lines]\n"
    "                         [--utf8-errors strict|replace] [--threads N]\n"
    "\n"
    "Encodes text with a HuggingFace tokenizer.json (BPE: GPT-NeoX/Pythia, GPT-2, Llama 1/2/3,\n"
    "TinyLlama, Mistral, Qwen2) and prints the ids as JSON: one array per document. Without\n"
    "options the ids are HF's encode(text, add_special_tokens=False).\n"
    "\n"
    "  --tokenizer FILE     the tokenizer.json\n"
    "  --model DIR          a model folder holding tokenizer.json\n"
    "  --text STRING        encode STRING\n"
    "  --jsonl FILE         encode the --field (default \"text\") of every line of FILE\n"
    "                       (\"-\" = stdin); one output line per input line, in order;\n"
    "                       blank lines are skipped\n"
    "  --file TXT           encode the whole file as one document\n"
    "  --decode IDS         decode ids (\"1,2,3\", or @FILE / @- to read them from a file):\n"
    "                       prints the text (TransformerLens to_string)\n"
    "  --prepend-bos        put the BOS id first (<|endoftext|>; Llama: <s> / <|begin_of_text|>),\n"
    "                       as TransformerLens to_tokens does by default\n"
    "  --add-special-tokens HF's add_special_tokens=True: the post-processor's template\n"
    "                       (Llama: BOS in front; GPT-2, Pythia, Qwen2: nothing)\n"
    "  --str-tokens         print {\"ids\": [...], \"str_tokens\": [...]} (to_str_tokens:\n"
    "                       each token decoded alone, byte fragments as U+FFFD)\n"
    "  --display            str_tokens in the notebook's display form (space ·, newline ↩, tab →)\n"
    "  --lines              with --decode --str-tokens: one JSON string per line instead\n"
    "  --utf8-errors MODE   strict (default): invalid UTF-8 input is an error naming the\n"
    "                       line and byte offset; replace: replace it by U+FFFD\n"
    "  --threads N          threads for --jsonl (default: all cores)\n";

/* JSON string exactly as JavaScript's JSON.stringify writes it (so outputs compare byte for
 * byte with the oracle): \" \\ \b \f \n \r \t, other controls as \u00xx, the rest raw. */
static void put_json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

static void put_ids(FILE *f, const int32_t *ids, size_t n) {
    fputc('[', f);
    for (size_t i = 0; i < n; i++) fprintf(f, i ? ",%d" : "%d", ids[i]);
    fputc(']', f);
}

typedef struct { int str_tokens, display, lines; } out_opts;

/* Prints one document's result: ids, or ids + str_tokens. */
static int put_result(const hs_tokenizer *tok, const int32_t *ids, size_t n, const out_opts *o) {
    if (!o->str_tokens) {
        put_ids(stdout, ids, n);
        fputc('\n', stdout);
        return 0;
    }
    if (!o->lines) {
        fputs("{\"ids\":", stdout);
        put_ids(stdout, ids, n);
        fputs(",\"str_tokens\":[", stdout);
    }
    for (size_t i = 0; i < n; i++) {
        char *s, *d;
        size_t len, dlen;
        hs_status st = hs_tokenizer_token_str(tok, ids[i], &s, &len);
        if (st) return cli_fail(st, "decode");
        if (o->display) {
            st = hs_token_display(s, len, &d, &dlen);
            free(s);
            if (st) return cli_fail(st, "display");
            s = d;
            len = dlen;
        }
        if (!o->lines && i) fputc(',', stdout);
        put_json_string(stdout, s, len);
        if (o->lines) fputc('\n', stdout);
        free(s);
    }
    if (!o->lines) fputs("]}\n", stdout);
    return 0;
}

/* Reads a whole file ("-" = stdin). */
static char *slurp(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "headscan: error: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) break;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || err) {
        fprintf(stderr, "headscan: error: %s: %s\n", path, buf ? "read failed" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Checks (strict) or repairs (replace) UTF-8. Returns 0, or prints an error naming `where`,
 * the line and the byte offset, and returns 1. *owned gets a repaired copy when needed. */
static int check_utf8(const char *where, long line, const char **s, size_t *n, int replace, char **owned) {
    *owned = NULL;
    size_t bad = hs_utf8_validate(*s, *n);
    if (bad == *n) return 0;
    if (!replace) {
        long ln = line;
        size_t col = bad;
        if (ln <= 0) {   /* whole text: find the line */
            ln = 1;
            const char *nl, *p = *s;
            while ((nl = memchr(p, '\n', (size_t)(*s + bad - p)))) { ln++; p = nl + 1; }
            col = (size_t)(*s + bad - p);
        }
        fprintf(stderr, "headscan: error: %s: invalid UTF-8 at line %ld, byte offset %zu (byte 0x%02X)%s\n", where,
                ln, col, (unsigned char)(*s)[bad], " (use --utf8-errors replace to replace it by U+FFFD)");
        return 1;
    }
    size_t len;
    hs_status st = hs_utf8_replace_invalid(*s, *n, owned, &len);
    if (st) return cli_fail(st, where);
    *s = *owned;
    *n = len;
    return 0;
}

static int encode_one(const hs_tokenizer *tok, const char *where, long line, const char *text, size_t len,
                      int prepend, int replace, const out_opts *o) {
    char *owned;
    if (check_utf8(where, line, &text, &len, replace, &owned)) return 1;
    hs_ids ids = {0};
    hs_status st = prepend == 2 ? hs_tokenizer_encode_special(tok, text, len, true, HS_UTF8_STRICT, &ids)
                                : hs_tokenizer_to_tokens(tok, text, len, prepend, HS_UTF8_STRICT, &ids);
    free(owned);
    if (st) return cli_fail(st, where);
    int rc = put_result(tok, ids.data, ids.len, o);
    hs_ids_free(&ids);
    return rc;
}

static int encode_jsonl(const hs_tokenizer *tok, const char *path, const char *field, int prepend, int replace,
                        const out_opts *o) {
    size_t len;
    char *data = slurp(path, &len);
    if (!data) return 1;
    size_t cap = 1024, n = 0;
    char **texts = malloc(cap * sizeof *texts);
    size_t *lens = malloc(cap * sizeof *lens);
    int rc = 0;
    long line = 0;
    char *p = data, *end = data + len;
    while (p < end && !rc) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        size_t ll = (size_t)(e - p);
        const char *ls = p;
        p = nl ? nl + 1 : end;
        size_t k = 0;
        while (k < ll && (ls[k] == ' ' || ls[k] == '\t' || ls[k] == '\r')) k++;
        if (k == ll) continue;   /* blank line: skipped, as the HF oracle script does */
        char *owned;
        if (check_utf8(path, line, &ls, &ll, replace, &owned)) { rc = 1; break; }
        json_error_t jerr;
        json_t *root = json_loadb(ls, ll, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
        free(owned);
        if (!root) {
            fprintf(stderr, "headscan: error: %s:%ld: bad JSON: %s (column %d)\n", path, line, jerr.text, jerr.column);
            rc = 1;
            break;
        }
        json_t *v = json_is_object(root) ? json_object_get(root, field) : NULL;
        if (!json_is_string(v)) {
            fprintf(stderr, "headscan: error: %s:%ld: no string field \"%s\"\n", path, line, field);
            json_decref(root);
            rc = 1;
            break;
        }
        if (n == cap) {
            cap *= 2;
            char **nt = realloc(texts, cap * sizeof *texts);
            size_t *nlen = nt ? realloc(lens, cap * sizeof *lens) : NULL;
            if (nt) texts = nt;
            if (nlen) lens = nlen;
            if (!nt || !nlen) { fprintf(stderr, "headscan: error: out of memory\n"); json_decref(root); rc = 1; break; }
        }
        lens[n] = json_string_length(v);
        texts[n] = malloc(lens[n] + 1);
        if (!texts[n]) { fprintf(stderr, "headscan: error: out of memory\n"); json_decref(root); rc = 1; break; }
        memcpy(texts[n], json_string_value(v), lens[n] + 1);
        n++;
        json_decref(root);
    }
    free(data);
    hs_ids *outs = rc ? NULL : calloc(n ? n : 1, sizeof *outs);
    if (!rc && !outs) { fprintf(stderr, "headscan: error: out of memory\n"); rc = 1; }
    if (!rc) {
        hs_status st = hs_tokenizer_encode_batch_special(tok, (const char *const *)texts, lens, n, prepend == 2,
                                                         HS_UTF8_STRICT, outs);
        if (st) rc = cli_fail(st, path);
    }
    int32_t bos = hs_tokenizer_bos_id(tok);
    if (!rc && prepend == 1 && bos < 0) rc = cli_fail(HS_ERR_NOT_FOUND, "--prepend-bos: the tokenizer has no BOS token");
    for (size_t i = 0; !rc && i < n; i++) {
        if (prepend == 1) {
            int32_t *d = malloc((outs[i].len + 1) * sizeof *d);
            if (!d) { rc = 1; break; }
            d[0] = bos;
            if (outs[i].len) memcpy(d + 1, outs[i].data, outs[i].len * sizeof *d);
            rc = put_result(tok, d, outs[i].len + 1, o);
            free(d);
        } else {
            rc = put_result(tok, outs[i].data, outs[i].len, o);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(texts[i]);
        if (outs) hs_ids_free(&outs[i]);
    }
    free(outs);
    free(texts);
    free(lens);
    return rc;
}

static int decode_ids(const hs_tokenizer *tok, const char *arg, const out_opts *o) {
    char *owned = NULL;
    const char *list = arg;
    if (arg[0] == '@') {
        size_t len;
        if (!(owned = slurp(arg + 1, &len))) return 1;
        list = owned;
    }
    int64_t *v;
    long n = cli_parse_int_list(list, &v);
    free(owned);
    if (n < 0) return cli_usage_error("tokenize", "--decode: not a list of integers");
    int32_t *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    if (!ids) { free(v); return cli_fail(HS_ERR_NOMEM, "--decode"); }
    for (long i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] > INT32_MAX) {
            free(v);
            free(ids);
            return cli_usage_error("tokenize", "--decode: id %lld out of range", (long long)v[i]);
        }
        ids[i] = (int32_t)v[i];
    }
    free(v);
    int rc;
    if (o->str_tokens) {
        rc = put_result(tok, ids, (size_t)n, o);
    } else {
        char *s;
        size_t len;
        hs_status st = hs_tokenizer_decode(tok, ids, (size_t)n, &s, &len);
        rc = st ? cli_fail(st, "--decode") : 0;
        if (!st) {
            fwrite(s, 1, len, stdout);
            fputc('\n', stdout);
            free(s);
        }
    }
    free(ids);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, 0, 'T'}, {"model", required_argument, 0, 'm'},
        {"text", required_argument, 0, 't'},      {"jsonl", required_argument, 0, 'j'},
        {"field", required_argument, 0, 'f'},     {"file", required_argument, 0, 'F'},
        {"decode", required_argument, 0, 'd'},    {"prepend-bos", no_argument, 0, 'b'},
        {"str-tokens", no_argument, 0, 's'},      {"display", no_argument, 0, 'D'},
        {"lines", no_argument, 0, 'l'},           {"utf8-errors", required_argument, 0, 'u'},
        {"threads", required_argument, 0, 'n'},   {"help", no_argument, 0, 'h'},
        {"add-special-tokens", no_argument, 0, 'S'},
        {0, 0, 0, 0}};
    const char *tok_path = NULL, *model_dir = NULL, *text = NULL, *jsonl = NULL, *file = NULL, *decode = NULL;
    const char *field = "text";
    int prepend = 0, replace = 0, threads = 0;
    out_opts o = {0, 0, 0};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'T': tok_path = optarg; break;
        case 'm': model_dir = optarg; break;
        case 't': text = optarg; break;
        case 'j': jsonl = optarg; break;
        case 'f': field = optarg; break;
        case 'F': file = optarg; break;
        case 'd': decode = optarg; break;
        case 'b':
        case 'S':
            if (prepend && prepend != (c == 'b' ? 1 : 2))
                return cli_usage_error("tokenize", "--prepend-bos and --add-special-tokens exclude each other");
            prepend = c == 'b' ? 1 : 2;
            break;
        case 's': o.str_tokens = 1; break;
        case 'D': o.display = o.str_tokens = 1; break;
        case 'l': o.lines = 1; break;
        case 'u':
            if (!strcmp(optarg, "replace")) replace = 1;
            else if (strcmp(optarg, "strict")) return cli_usage_error("tokenize", "--utf8-errors must be strict or replace");
            break;
        case 'n': {
            char *e;
            long t = strtol(optarg, &e, 10);
            if (*e || t < 1 || t > 4096) return cli_usage_error("tokenize", "--threads must be a positive integer");
            threads = (int)t;
            break;
        }
        case 'h': fputs(USAGE, stdout); return 0;
        default: return cli_usage_error("tokenize", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("tokenize", "unexpected argument '%s'", argv[optind]);
    if (!!tok_path + !!model_dir != 1) return cli_usage_error("tokenize", "give exactly one of --tokenizer, --model");
    if (!!text + !!jsonl + !!file + !!decode != 1)
        return cli_usage_error("tokenize", "give exactly one of --text, --jsonl, --file, --decode");
    if (o.lines && !(decode && o.str_tokens)) return cli_usage_error("tokenize", "--lines goes with --decode --str-tokens");
    if (threads) hs_set_num_threads(threads);

    char *path_buf = NULL;
    if (model_dir) {
        size_t n = strlen(model_dir) + sizeof "/tokenizer.json";
        path_buf = malloc(n);
        if (!path_buf) return cli_fail(HS_ERR_NOMEM, "--model");
        snprintf(path_buf, n, "%s/tokenizer.json", model_dir);
        tok_path = path_buf;
    }
    hs_tokenizer *tok;
    hs_status st = hs_tokenizer_load(tok_path, &tok);
    free(path_buf);
    if (st) return cli_fail(st, "loading the tokenizer");
    int rc;
    if (text) rc = encode_one(tok, "--text", 0, text, strlen(text), prepend, replace, &o);
    else if (file) {
        size_t len;
        char *data = slurp(file, &len);
        rc = data ? encode_one(tok, file, 0, data, len, prepend, replace, &o) : 1;
        free(data);
    } else if (jsonl) rc = encode_jsonl(tok, jsonl, field, prepend, replace, &o);
    else rc = decode_ids(tok, decode, &o);
    hs_tokenizer_free(tok);
    if (!rc && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "headscan: error: writing the output failed\n");
        rc = 1;
    }
    return rc;
}
