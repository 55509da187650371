/* cmd_scan.c — `headscan scan`: every metric of the study for every attention head,
 * over a token set (a tokens .npy or a dataset tokenized as TransformerLens does),
 * written to --out as a head table, arrays, quantile tables and a manifest. */
#define _GNU_SOURCE
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: headscan scan   (no arguments: the bundled model on the bundled data, into ./headscan-scan)\n"
           "       headscan scan --model DIR|NAME (--tokens tokens.npy | --dataset PATH|NAME [--field text]) --out DIR\n"
           "                     [--prompts 288] [--batch 32] [--n-ctx 256] [--shuffle 42 | --no-shuffle]\n"
           "                     [--induction-seed S | --induction-tokens ind.npy] [--induction-batch 16]\n"
           "                     [--induction-len 200] [--quantile 0.9] [--no-ind-quantile 0.95]\n"
           "                     [--sort mover_dla_no_ind] [--skip frac_copy_argmax,eigenvalues,induction]\n"
           "                     [--top 10] [--tokenizer FILE] [--threads N] [--report] [--revision R] [--offline]\n"
           "                     [--no-arrays] [--resume] [--checkpoint-every 60s|Nb] [--shard I/N] [--mpi]\n"
           "                     [--compute f32|bf16]\n"
           "Characterises every attention head of a model over a token set, computing every\n"
           "quantity of the study (head DLA, mover attention / DLA and their ratio, induction,\n"
           "OV copying eigenvalue scores, frac_copy_argmax, 'no induction' quantiles).\n"
           "  --model DIR|NAME   HuggingFace folder (config.json + safetensors), or a hub name\n"
           "                     (EleutherAI/pythia-70m, pythia-70m, gpt2) through the HuggingFace cache\n"
           "                     (downloaded when missing unless --offline; --revision for the model)\n"
           "  --tokens FILE      int64/int32 .npy [rows, n_ctx] (e.g. from `headscan tokens`);\n"
           "                     the first --prompts rows are scanned (--n-ctx may cut columns).\n"
           "  --dataset PATH     JSONL / text / Parquet file, folder or glob, or a hub dataset name\n"
           "                     (NeelNanda/pile-10k: its train-split Parquet files), tokenized with the\n"
           "                     model's tokenizer.json (or --tokenizer) into rows of --n-ctx as\n"
           "                     TransformerLens's tokenize_and_concatenate, shuffled (seed 42).\n"
           "  --prompts N        rows to scan (0 = all; fewer available: all are scanned, with a note)\n"
           "  --induction-seed S seed of our generator for the [BOS, R, R] induction tokens (the\n"
           "                     notebook's were unseeded, so its induction column is not reproducible)\n"
           "  --induction-tokens FILE  replay these induction tokens instead ([B, 1+2R] int64 .npy)\n"
           "  --sort COL         head-table column to sort by, descending ('none' = head order)\n"
           "  --skip LIST        leave out frac_copy_argmax, eigenvalues and/or induction (NaN)\n"
           "Outputs in --out (written all-or-nothing): head_table.csv/.json, head_dla.npy,\n"
           "mover_attn.npy, mover_dla.npy [L,H,N,T-1], loss.npy, num_copies.npy, induction_mask.npy\n"
           "[N,T-1], induction_scores.npy, eigenvals_*.npy, frac_copy_argmax*.npy [L,H], ind_tokens.npy,\n"
           "tokens.npy, quantiles.json, manifest.json. The head table's eigenvals_*_abs_sum columns hold\n"
           "Σ|λ| behind each eigenvalue score; a score whose Σ|λ| < 0.001 × the median head's is rounding\n"
           "noise: marked ~ in the table printed here, greyed in the report, listed in the manifest.\n"
           "  --report           also write --out/report.html (as `headscan report DIR`)\n"
           "Large scans: memory does not grow with the rows (--prompts 0 = all): arrays stream to\n"
           "--out/.headscan-work as batches finish, quantiles are exact (selected from those files).\n"
           "  --no-arrays        leave the per-token arrays out of --out (head table, quantiles, manifest)\n"
           "  --checkpoint-every 60s (default) or Nb: save progress after that much work / N batches\n"
           "  --resume           continue an interrupted scan (signal, crash, full disk) in --out;\n"
           "                     the arguments must be the same (a difference is named)\n"
           "  --shard I/N        scan the I-th (0-based) of N contiguous runs of batches into a partial\n"
           "                     result; `headscan merge SHARD_DIR... --out DIR` combines them\n"
           "  --mpi              (headscan-mpi, under mpirun) one shard per rank, merged by rank 0 into --out\n"
           "  --compute bf16     the forward's weight GEMMs in bfloat16 (oneDNN, AVX512_BF16/AMX CPUs): faster,\n"
           "                     not TransformerLens-exact. The first batch is also run in float32 and the\n"
           "                     deviation printed and kept in manifest.json (compute_deviation). Default f32.\n");
}

/* ------------------------------------------------------------------ progress */
typedef struct progress_state {
    int tty;
    double t0, last;
    int64_t done0;
    char stage[32];
    int mpi_rank, mpi_size;   /* under --mpi */
} progress_state;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

static int on_progress(const char *stage, int64_t done, int64_t total, void *user) {
    progress_state *ps = user;
    if (interrupted) return 1;   /* the scan checkpoints and stops with HS_ERR_CANCELLED */
    double t = mono();
    const bool fwd = !strcmp(stage, "forward");
    if (strcmp(stage, ps->stage)) {
        if (ps->tty && ps->stage[0]) fputc('\n', stderr);
        snprintf(ps->stage, sizeof ps->stage, "%s", stage);
        ps->t0 = t;
        ps->last = 0;
        ps->done0 = done;   /* rates count the rows done after the first report (a resumed scan starts past 0) */
    }
    double el = t - ps->t0;
    double rate = el > 0 ? (double)(done - ps->done0) / el : 0, eta = rate > 0 ? (double)(total - done) / rate : 0;
    char slow[96] = "";
    if (fwd && ps->mpi_size > 1) {   /* the other ranks report to rank 0, which shows them all */
        cli_mpi_report(done, total, rate);
        if (ps->mpi_rank != 0) return 0;
        int slowest;
        cli_mpi_totals(&done, &total, &rate, &eta, &slowest);
        snprintf(slow, sizeof slow, ", slowest rank %d", slowest);
    }
    bool fin = done >= total;
    if (!fin && t - ps->last < (ps->tty ? 0.2 : 5.0)) return 0;
    ps->last = t;
    if (ps->tty) {
        int w = 30, fill = total ? (int)(w * done / total) : w;
        fprintf(stderr, "\r%-17s [", stage);
        for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %lld/%lld", (long long)done, (long long)total);
        if (fwd) fprintf(stderr, " rows  %.1f rows/s", rate);
        fprintf(stderr, "  %.1fs  ETA %.1fs%s  ", el, eta, slow);
        if (fin) fputc('\n', stderr), ps->stage[0] = 0;
    } else {
        fprintf(stderr, "%s: %lld/%lld", stage, (long long)done, (long long)total);
        if (fwd) fprintf(stderr, " rows, %.1f rows/s", rate);
        fprintf(stderr, ", %.1fs elapsed, ETA %.1fs%s\n", el, eta, slow);
    }
    return 0;
}

/* ------------------------------------------------------------------ top heads */
void cli_print_top(const hs_scan_result *r, int top, bool colour) {
    enum { NC = 12 };   /* the study's metric columns; the *_abs_sum columns stay in the files */
    const int G = r->L * r->H, K = top < G ? top : G;
    float lo[NC], hi[NC];
    for (int c = 0; c < NC; c++) {
        lo[c] = INFINITY; hi[c] = -INFINITY;
        for (int g = 0; g < G; g++) {
            float v = r->table[(size_t)g * HS_SCAN_NMETRICS + c];
            if (isfinite(v)) { lo[c] = v < lo[c] ? v : lo[c]; hi[c] = v > hi[c] ? v : hi[c]; }
        }
    }
    static const char *const hdr[NC] = {"head_dla", "mov_attn", "mov_dla", "dla_ratio", "induct", "eig_voc", "eig_res",
                                        "frac_cp", "hdla_ni", "mattn_ni", "mdla_ni", "ratio_ni"};
    printf("top %d heads by %s:\n%-6s", K, r->sort_col >= 0 ? hs_scan_column_name(r->sort_col) : "head order", "head");
    for (int c = 0; c < NC; c++) printf(" %9s", hdr[c]);
    printf("\n");
    bool any_ill = false;
    for (int k = 0; k < K; k++) {
        int g = r->order[k];
        char lab[16];
        snprintf(lab, sizeof lab, "L%dH%d", g / r->H, g % r->H);
        printf("%-6s", lab);
        for (int c = 0; c < NC; c++) {
            float v = r->table[(size_t)g * HS_SCAN_NMETRICS + c];
            /* eigenvalue scores whose Σ|λ| is negligible (hs_eig_ill_threshold): "~" */
            bool ill = (c == 5 && (double)r->eig_vocab_abs[g] < r->eig_vocab_ill_below) ||
                       (c == 6 && (double)r->eig_resid_abs[g] < r->eig_resid_ill_below);
            any_ill |= ill;
            if (colour && isfinite(v) && hi[c] > lo[c] && !ill) {
                /* white → green gradient on the 256-colour cube by rank within the column */
                double x = (v - lo[c]) / (hi[c] - lo[c]);
                int lvl = (int)(x * 5 + 0.5), rr = 5 - lvl, gg = 5, bb = 5 - lvl;
                printf(" \033[48;5;%dm\033[38;5;16m%9.4g\033[0m", 16 + 36 * rr + 6 * gg + bb, (double)v);
            } else if (ill) printf(colour ? " \033[2m%8.4g~\033[0m" : " %8.4g~", (double)v);
            else printf(" %9.4g", (double)v);
        }
        printf("\n");
    }
    if (any_ill)
        printf("~ ill-conditioned: the eigenvalues' Σ|λ| is below %g × the median head's, so Σλ/Σ|λ| is rounding\n"
               "  noise (e.g. a nilpotent OV circuit); see eigenvals_*_abs_sum in head_table.csv\n", HS_EIG_ILL_REL);
}

/* ------------------------------------------------------------------ main */
int cmd_scan(int argc, char **argv) {
    const char *model = NULL, *tokens_path = NULL, *dataset = NULL, *field = "text", *out = NULL, *ind_path = NULL,
               *sort = "mover_dla_no_ind", *skip = NULL, *tok_path = NULL;
    long long prompts = 288, shuffle_seed = 42;
    int report = 0, offline = 0;
    const char *revision = NULL;
    int batch = 32, n_ctx = -1, threads = 0, top = 10, no_shuffle = 0, ind_batch = 16, ind_len = 200, ind_len_given = 0;
    unsigned long long ind_seed = 0;
    double quant = 0.9, quant_ni = 0.95, ck_seconds = 60;
    int no_arrays = 0, resume = 0, use_mpi = 0, shard = 0, nshards = 1, ck_batches = 0;
    hs_compute compute = HS_COMPUTE_F32;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tokens", required_argument, 0, 't'}, {"dataset", required_argument, 0, 'd'},
        {"field", required_argument, 0, 'f'}, {"out", required_argument, 0, 'o'}, {"prompts", required_argument, 0, 'p'},
        {"batch", required_argument, 0, 'b'}, {"n-ctx", required_argument, 0, 'n'}, {"shuffle", required_argument, 0, 's'},
        {"no-shuffle", no_argument, 0, 'S'}, {"induction-seed", required_argument, 0, 'i'},
        {"induction-tokens", required_argument, 0, 'I'}, {"induction-batch", required_argument, 0, 'B'},
        {"induction-len", required_argument, 0, 'R'}, {"quantile", required_argument, 0, 'q'},
        {"no-ind-quantile", required_argument, 0, 'Q'}, {"sort", required_argument, 0, 'o' + 256},
        {"skip", required_argument, 0, 'k'}, {"threads", required_argument, 0, 'T'}, {"top", required_argument, 0, 'K'},
        {"tokenizer", required_argument, 0, 'z'}, {"help", no_argument, 0, 'h'}, {"report", no_argument, 0, 'r' + 256},
        {"revision", required_argument, 0, 'v' + 256}, {"offline", no_argument, 0, 'f' + 256},
        {"no-arrays", no_argument, 0, 'a' + 256}, {"resume", no_argument, 0, 'R' + 256},
        {"checkpoint-every", required_argument, 0, 'c' + 256}, {"shard", required_argument, 0, 's' + 256},
        {"mpi", no_argument, 0, 'M' + 256}, {"compute", required_argument, 0, 'C' + 256},
        {0, 0, 0, 0}};
    int o;
    char *end;
#define NUM(var, conv, ok, what) do { errno = 0; var = conv(optarg, &end, 10); if (errno || *end || end == optarg || !(ok)) \
        return cli_usage_error("scan", "%s: bad value '%s'", what, optarg); } while (0)
    while ((o = getopt_long(argc, argv, "m:t:d:f:o:p:b:n:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': model = optarg; break;
        case 'v' + 256: revision = optarg; break;
        case 'f' + 256: offline = 1; break;
        case 't': tokens_path = optarg; break;
        case 'd': dataset = optarg; break;
        case 'f': field = optarg; break;
        case 'o': out = optarg; break;
        case 'p': NUM(prompts, strtoll, prompts >= 0, "--prompts"); break;
        case 'b': NUM(batch, (int)strtol, batch >= 1 && batch <= 4096, "--batch"); break;
        case 'n': NUM(n_ctx, (int)strtol, n_ctx >= 2, "--n-ctx"); break;
        case 's': NUM(shuffle_seed, strtoll, shuffle_seed >= 0, "--shuffle"); break;
        case 'S': no_shuffle = 1; break;
        case 'i': NUM(ind_seed, strtoull, 1, "--induction-seed"); break;
        case 'I': ind_path = optarg; break;
        case 'B': NUM(ind_batch, (int)strtol, ind_batch >= 1, "--induction-batch"); break;
        case 'R': NUM(ind_len, (int)strtol, ind_len >= 1, "--induction-len"); ind_len_given = 1; break;
        case 'q': quant = strtod(optarg, &end); if (*end || !(quant >= 0 && quant <= 1)) return cli_usage_error("scan", "--quantile must be in [0, 1]"); break;
        case 'Q': quant_ni = strtod(optarg, &end); if (*end || !(quant_ni >= 0 && quant_ni <= 1)) return cli_usage_error("scan", "--no-ind-quantile must be in [0, 1]"); break;
        case 'o' + 256: sort = optarg; break;
        case 'k': skip = optarg; break;
        case 'T': NUM(threads, (int)strtol, threads >= 0, "--threads"); break;
        case 'K': NUM(top, (int)strtol, top >= 0, "--top"); break;
        case 'z': tok_path = optarg; break;
        case 'r' + 256: report = 1; break;
        case 'a' + 256: no_arrays = 1; break;
        case 'C' + 256:
            if (hs_compute_parse(optarg, &compute)) return cli_usage_error("scan", "--compute: bad value '%s' (f32 or bf16)", optarg);
            break;
        case 'R' + 256: resume = 1; break;
        case 'M' + 256: use_mpi = 1; break;
        case 'c' + 256: {
            double v = strtod(optarg, &end);
            if (end == optarg || !(v > 0) || (*end && strcmp(end, "s") && strcmp(end, "b")))
                return cli_usage_error("scan", "--checkpoint-every: bad value '%s' (seconds, e.g. 60s, or batches, e.g. 10b)", optarg);
            if (*end == 'b') ck_batches = (int)v; else ck_seconds = v;
            break;
        }
        case 's' + 256:
            if (sscanf(optarg, "%d/%d%c", &shard, &nshards, &(char){0}) != 2 || nshards < 1 || shard < 0 || shard >= nshards)
                return cli_usage_error("scan", "--shard: bad value '%s' (I/N with 0 <= I < N, e.g. 0/4)", optarg);
            break;
        case 'h': usage(); return 0;
        default: return cli_usage_error("scan", "bad option");
        }
    }
#undef NUM
    if (optind < argc) return cli_usage_error("scan", "unexpected argument '%s'", argv[optind]);
    if (use_mpi && nshards > 1) return cli_usage_error("scan", "--mpi and --shard: under MPI every rank is one shard");
    if (report && no_arrays) return cli_usage_error("scan", "--report plots the per-token arrays: it cannot go with --no-arrays");
    if (hs_compute_check(compute)) return cli_fail(HS_ERR_UNSUPPORTED, "--compute");   /* before any work */
    int mpi_rank = 0, mpi_size = 1;
    if (use_mpi) {
        int rc = cli_mpi_init(&mpi_rank, &mpi_size);
        if (rc) return rc;
    }
    /* no model and no data: the bundled default (models/toy on data/toy), output in
     * ./headscan-scan with its report */
    char bundled_model[4096], bundled_data[4096];
    if (!model && !tokens_path && !dataset) {
        const char *home = getenv("HEADSCAN_HOME");
        if (!home || !*home) home = HS_HOME_DEFAULT;
        snprintf(bundled_model, sizeof bundled_model, "%s/models/toy", home);
        snprintf(bundled_data, sizeof bundled_data, "%s/data/toy/toy.jsonl", home);
        if (access(bundled_model, R_OK) != 0 || access(bundled_data, R_OK) != 0) {
            fprintf(stderr, "headscan scan: the bundled model (%s) or dataset (%s) is missing; give --model and "
                            "--dataset/--tokens, or set HEADSCAN_HOME to the headscan source folder\n", bundled_model, bundled_data);
            return 2;
        }
        model = bundled_model;
        dataset = bundled_data;
        if (!out) out = "headscan-scan";
        report = !no_arrays;
        fprintf(stderr, "headscan: no --model/--dataset: scanning the bundled model %s on %s into %s/\n", model, dataset, out);
    }
    if (!model) return cli_usage_error("scan", "--model DIR|NAME is required when --dataset or --tokens is given");
    if (!tokens_path == !dataset) return cli_usage_error("scan", "give either --tokens FILE or --dataset PATH");
    if (!out) return cli_usage_error("scan", "--out DIR is required");
    char *model_dir = NULL;
    int rc0 = cli_resolve_model(model, revision, offline, &model_dir);
    if (rc0) return rc0;
    model = model_dir;
    hs_scan_params sp = hs_scan_default_params();
    sp.prompts = prompts;
    sp.batch = batch;
    sp.compute = compute;
    sp.quantile = (float)quant;
    sp.no_ind_quantile = (float)quant_ni;
    sp.sort = sort;
    sp.ind_seed = ind_seed;
    sp.ind_batch = ind_batch;
    sp.ind_seq_len = ind_len;
    if (skip) {
        char *list = strdup(skip), *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!strcmp(t, "frac_copy_argmax")) sp.skip |= HS_SKIP_FRAC_COPY_ARGMAX;
            else if (!strcmp(t, "eigenvalues") || !strcmp(t, "eigenvals_vocab") || !strcmp(t, "eigenvals_resid")) sp.skip |= HS_SKIP_EIGENVALUES;
            else if (!strcmp(t, "induction")) sp.skip |= HS_SKIP_INDUCTION;
            else {
                int rc = cli_usage_error("scan", "--skip: unknown item '%s' (frac_copy_argmax, eigenvalues, induction)", t);
                free(list);
                free(model_dir);
                return rc;
            }
        }
        free(list);
    }
    if (threads > 0) hs_set_num_threads(threads);
    /* the output folder must be usable before hours of work */
    struct stat sb;
    if (stat(out, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) { fprintf(stderr, "headscan: error: --out %s: exists and is not a folder\n", out); goto early_fail; }
        if (access(out, W_OK) != 0) { fprintf(stderr, "headscan: error: --out %s: folder is not writable: %s\n", out, strerror(errno)); goto early_fail; }
    } else {
        char *parent = strdup(out), *sl = strrchr(parent, '/');
        if (sl == parent) sl[1] = 0; else if (sl) *sl = 0; else strcpy(parent, ".");
        struct stat pb;
        int ok = stat(parent, &pb) == 0 && S_ISDIR(pb.st_mode) && access(parent, W_OK) == 0;
        int e = errno ? errno : ENOTDIR;
        if (ok == 0 && stat(parent, &pb) == 0 && !S_ISDIR(pb.st_mode)) e = ENOTDIR;
        if (!ok) fprintf(stderr, "headscan: error: --out %s: cannot create it in %s: %s\n", out, parent, strerror(e));
        free(parent);
        if (!ok) goto early_fail;
    }

    if (0) {
    early_fail:   /* --out unusable: nothing was started */
        free(model_dir);
        return 1;
    }
    int rc = 0;
    hs_status s;
    hs_model *m = NULL;
    hs_tokenizer *tk = NULL;
    hs_array tokens = {0}, ind = {0};
    hs_scan_result *res = NULL;
    char *extra = NULL;
    char tok_spill[4200] = "";   /* --dataset: the token matrix, removed at the end */
    int T_dataset = 0;
    hs_model_params mp = hs_model_default_params();
    double t_load = mono();
    if ((s = hs_model_load(model, &mp, &m))) { rc = cli_fail(s, "loading the model"); goto done; }
    t_load = mono() - t_load;
    const hs_model_config *cfg = hs_model_get_config(m);
    if (!ind_len_given && !ind_path && hs_scan_default_induction_len(cfg) != ind_len) {
        /* the study's 200 needs n_ctx >= 401: fit the default to smaller models, and say so */
        ind_len = hs_scan_default_induction_len(cfg);
        sp.ind_seq_len = ind_len;
        fprintf(stderr, "headscan: note: the model's context is %d tokens: induction sequences of %d (not 200)\n", cfg->n_ctx, ind_len);
    }
    if (n_ctx > cfg->n_ctx) {
        fprintf(stderr, "headscan: error: --n-ctx %d is larger than the model's maximum context %d (%s)\n", n_ctx, cfg->n_ctx, model);
        rc = 1;
        goto done;
    }
    /* tokenizer: for --dataset (required) and the induction pool filter (optional) */
    char deftok[4096];
    snprintf(deftok, sizeof deftok, "%s/tokenizer.json", model);
    const char *tpath = tok_path ? tok_path : deftok;
    if (tok_path || access(deftok, R_OK) == 0) {
        if ((s = hs_tokenizer_load(tpath, &tk))) { rc = cli_fail(s, "loading the tokenizer"); goto done; }
    } else if (dataset) {
        fprintf(stderr, "headscan: error: --dataset needs a tokenizer: %s has no tokenizer.json (give --tokenizer FILE)\n", model);
        rc = 1;
        goto done;
    }
    double t_tok = mono();
    if (!tokens_path) {
        hs_docs_params dp = hs_docs_default_params();
        dp.field = field;
        hs_tokens_params tp = hs_tokens_default_params();
        tp.n_ctx = n_ctx > 0 ? n_ctx : 256;
        tp.shuffle = !no_shuffle;
        tp.seed = (uint64_t)shuffle_seed;
        if (cfg->arch == HS_ARCH_LLAMA) {   /* TL (llama.md §8): pad = eos, BOS column unless Qwen2 */
            tp.eos_id = cfg->eos_id;
            tp.bos_column = cfg->default_prepend_bos;
        }
        if (tp.n_ctx > cfg->n_ctx) {
            fprintf(stderr, "headscan: error: n_ctx %d is larger than the model's maximum context %d\n", tp.n_ctx, cfg->n_ctx);
            rc = 1;
            goto done;
        }
        hs_tokens_stats ts;
        hs_hub_params hp = cli_hub_params(NULL, offline, NULL) /* datasets: main */;
        if (mpi_rank == 0) fprintf(stderr, "tokenizing %s ...\n", dataset);
        /* the matrix goes to a hidden file of --out, built and then scanned in memory that does not
         * grow with the dataset (one per MPI rank: the hosts may share a file system) */
        mkdir(out, 0777);
        snprintf(tok_spill, sizeof tok_spill, "%s/.headscan-tokens.%d.npy", out, mpi_rank);
        if ((s = hs_tokens_from_dataset_npy(dataset, tk, &dp, &hp, &tp, tok_spill, &ts))) { tok_spill[0] = 0; rc = cli_fail(s, dataset); goto done; }
        if (mpi_rank == 0) fprintf(stderr, "%lld documents -> %lld rows of %d tokens\n", (long long)ts.docs, (long long)ts.rows, tp.n_ctx);
        if (ts.rows < 1) { fprintf(stderr, "headscan: error: the token set has no rows\n"); rc = 1; goto done; }
        T_dataset = tp.n_ctx;
    }
    t_tok = mono() - t_tok;
    if (ind_path) {
        if ((s = hs_npy_read(ind_path, &ind))) { rc = cli_fail(s, "reading --induction-tokens"); goto done; }
        sp.ind_tokens = &ind;
    }
    sp.tokenizer = tk;
    progress_state ps = {.tty = cli_stderr_tty(), .mpi_rank = mpi_rank, .mpi_size = mpi_size};
    const double t_scan = mono();
    sp.progress = on_progress;
    sp.progress_user = &ps;
    char skipbuf[128], *args = NULL;
    snprintf(skipbuf, sizeof skipbuf, "%s%s%s", sp.skip & HS_SKIP_FRAC_COPY_ARGMAX ? "frac_copy_argmax " : "",
             sp.skip & HS_SKIP_EIGENVALUES ? "eigenvalues " : "", sp.skip & HS_SKIP_INDUCTION ? "induction" : "");
    {
        size_t cap = 16384;
        args = malloc(cap);
        if (!args) { rc = cli_fail(HS_ERR_NOMEM, "scan"); goto done; }
        /* paths are JSON-escaped only for '"' and '\\' (enough for file names) */
        char esc[4][2048];
        const char *src[4] = {tokens_path ? tokens_path : dataset, ind_path ? ind_path : "", tk ? tpath : "", model};
        for (int k = 0; k < 4; k++) {
            size_t j = 0;
            for (const char *q = src[k]; *q && j + 3 < sizeof esc[k]; q++) {
                if (*q == '"' || *q == '\\') esc[k][j++] = '\\';
                esc[k][j++] = (unsigned char)*q < 0x20 ? '?' : *q;
            }
            esc[k][j] = 0;
        }
        /* the manifest's input/options record, as the library (and Python) writes it */
        int T_scan = n_ctx;
        if (T_scan <= 0 && tokens_path) {
            hs_array meta;
            if ((s = hs_npy_read_header(tokens_path, &meta))) { free(args); rc = cli_fail(s, "reading --tokens"); goto done; }
            T_scan = meta.ndim == 2 ? (int)meta.shape[1] : 0;
        } else if (T_scan <= 0) {
            T_scan = T_dataset;
        }
        hs_scan_inputs in = {.tokens_path = tokens_path, .dataset = dataset, .field = field, .shuffle = !no_shuffle,
                             .shuffle_seed = (uint64_t)shuffle_seed, .ind_tokens_path = ind_path,
                             .tokenizer_path = tk ? tpath : NULL, .t_load_model = t_load, .t_load_tokens = t_tok};
        hs_compute_deviation dev;
        if (compute != HS_COMPUTE_F32) {   /* how far from TransformerLens's float32: the first batch both ways */
            if ((s = hs_scan_compute_deviation(m, NULL, tokens_path ? tokens_path : tok_spill, n_ctx > 0 ? n_ctx : 0, &sp, &dev))) {
                free(args);
                rc = cli_fail(s, "--compute");
                goto done;
            }
            if (mpi_rank == 0) cli_print_deviation(stderr, compute, &dev, "the first batch");
            in.deviation = &dev;
        }
        if ((s = hs_scan_inputs_json(&sp, &in, T_scan, &extra))) { free(args); rc = cli_fail(s, "scan"); goto done; }
        /* the settings a resumed scan and the shards of a merge must share ("path" keys: merge
         * compares the files' contents instead, through the tokens' and model's hashes) */
        snprintf(args, cap,
                 "{\"--model\": \"%s\", \"%s\": \"%s\", \"--field\": \"%s\", \"--shuffle\": %lld, \"--no-shuffle\": %s,"
                 " \"--prompts\": %lld, \"--batch\": %d, \"--n-ctx\": %d, \"--quantile\": %.9g, \"--no-ind-quantile\": %.9g,"
                 " \"--sort\": \"%s\", \"--skip\": \"%s\", \"--induction-seed\": \"%llu\", \"--induction-tokens\": \"%s\","
                 " \"--induction-batch\": %d, \"--induction-len\": %d, \"--tokenizer\": \"%s\", \"--compute\": \"%s\"}",
                 esc[3], tokens_path ? "--tokens" : "--dataset", esc[0], dataset ? field : "", shuffle_seed, no_shuffle ? "true" : "false",
                 prompts, batch, n_ctx, quant, quant_ni, sort, skipbuf, ind_seed, esc[1], ind_batch, ind_len, esc[2],
                 hs_compute_name(compute));
    }
    hs_scan_dir_params dp = hs_scan_dir_default_params();
    dp.tokens_path = tokens_path ? tokens_path : tok_spill;
    dp.n_ctx = n_ctx > 0 ? n_ctx : 0;
    dp.no_arrays = no_arrays;
    dp.resume = resume;
    dp.checkpoint_seconds = ck_seconds;
    dp.checkpoint_batches = ck_batches;
    dp.args_json = args;
    dp.manifest_extra = extra;
    dp.shard = use_mpi ? mpi_rank : shard;
    dp.nshards = use_mpi ? mpi_size : nshards;
    /* under MPI every rank scans its shard into a hidden folder of --out; rank 0 gathers them */
    char part_dir[4096];
    const char *scan_out = out;
    if (use_mpi && mpi_size > 1) {
        snprintf(part_dir, sizeof part_dir, "%s/.mpi-part-%d", out, mpi_rank);
        scan_out = part_dir;
        mkdir(out, 0777);   /* every rank: the hosts may not share a file system */
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    s = HS_OK;
    if (!(use_mpi && resume && cli_mpi_part_done(scan_out)))   /* a resumed MPI job skips ranks whose shard is whole */
        s = hs_scan_run_dir(m, NULL, &sp, &dp, scan_out, dp.nshards > 1 ? NULL : &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (ps.tty && s) fputc('\n', stderr);
    if (use_mpi && mpi_size > 1) {   /* every rank learns whether all shards are whole; rank 0 merges */
        rc = cli_mpi_gather(out, scan_out, s, interrupted != 0, no_arrays, &res);
        if (rc || mpi_rank != 0) { free(args); goto done; }
    } else if (s) {
        rc = s == HS_ERR_CANCELLED ? (fprintf(stderr, "headscan: scan interrupted: progress is saved in %s/.headscan-work; the same "
                                                      "command with --resume continues it\n", scan_out), 130)
                                   : cli_fail(s, "scan");
        if (s != HS_ERR_CANCELLED && access(scan_out, F_OK) == 0) {
            char wk[4200];
            snprintf(wk, sizeof wk, "%s/.headscan-work/checkpoint.json", scan_out);
            if (access(wk, F_OK) == 0 && !resume) fprintf(stderr, "headscan: the work done so far is saved: fix the cause and add --resume\n");
        }
        free(args);
        goto done;
    }
    free(args);
    if (!res) {   /* a shard */
        printf("shard %d/%d scanned into %s (a partial result: combine the shards with `headscan merge DIR... --out DIR`)\n",
               dp.shard, dp.nshards, out);
        goto done;
    }
    if (use_mpi) res->t_total = mono() - t_scan;   /* the merged result's own is the merge's */
    if (res->prompts_short)
        fprintf(stderr, "headscan: note: only %d rows are available (--prompts %lld): scanned all %d\n", res->N, prompts, res->N);
    if (top > 0) cli_print_top(res, top, isatty(1));
    printf("scanned %d prompts x %d tokens (%lld positions, %lld non-induction) in %.1fs; outputs in %s\n", res->N, res->T,
           (long long)res->N * (res->T - 1), (long long)res->non_induction_cols, res->t_total, out);
    if (res->prompts_short)
        printf("note: %lld prompts were asked for but the token set has only %d rows\n", (long long)res->prompts_asked, res->N);
    if (report) rc = cli_write_report(out, NULL, tk ? tpath : NULL, NULL, false, NULL);
done:
    if (tok_spill[0]) unlink(tok_spill);
    free(extra);
    hs_scan_result_free(res);
    hs_array_free(&tokens);
    hs_array_free(&ind);
    hs_tokenizer_free(tk);
    hs_model_free(m);
    free(model_dir);
    return rc;
}
