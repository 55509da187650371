/* cli.h — shared helpers of the headscan command (public API only). */
#ifndef HS_CLI_H
#define HS_CLI_H
#include "headscan/headscan.h"
#include <stdio.h>

/* One function per subcommand: argv[0] is the subcommand name. Returns the exit code. */
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_prompt(int argc, char **argv);
int cmd_head_vocab(int argc, char **argv);
int cmd_examples(int argc, char **argv);
int cmd_tokens_html(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* The HTML report of a scan folder (cmd_report.c; also `scan --report`). out NULL = SCAN_DIR/report.html,
 * tok_path/plotly NULL = found as `headscan report` finds them. Returns the exit code. */
int cli_write_report(const char *scan_dir, const char *out, const char *tok_path, const char *plotly, bool cdn,
                     const hs_report_params *base);
/* One token for display: CLI_TOKEN_RAW (to_str_tokens), CLI_TOKEN_DISPLAY (process_token:
 * "·", "↩\n", "→"), CLI_TOKEN_DISPLAY_LINE (the same without newlines). "#id" without a
 * tokenizer, "" for ids beyond it (the model's padding rows). malloc'd. */
enum { CLI_TOKEN_RAW = 0, CLI_TOKEN_DISPLAY = 1, CLI_TOKEN_DISPLAY_LINE = 2 };
char *cli_token_string(const hs_tokenizer *tk, int64_t id, int form);
/* The tokenizer.json a scan folder's manifest names (input.tokenizer), else the scanned
 * model folder's, when readable; NULL otherwise. malloc'd. */
char *cli_scan_tokenizer(const char *scan_dir);
/* A whole file as a NUL-terminated string (NULL when unreadable). malloc'd. */
char *cli_read_text(const char *path);
/* ---- cli_util.c: the bottom layer (no other cli_*.c file) */
/* Prints "headscan: error: <what>: <hs_last_error()>" and returns exit code 1. */
int cli_fail(hs_status s, const char *what);
/* "compute bf16 (oneDNN ...): deviation from float32 on WHAT (B x T tokens): max |Δlogit| ..." */
void cli_print_deviation(FILE *out, hs_compute compute, const hs_compute_deviation *d, const char *what);
/* Prints "headscan: <cmd>: <message>" and returns exit code 2 (usage errors). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "1,2,3" into a malloc'd array; returns count or -1 on a bad list. */
long cli_parse_int_list(const char *s, int64_t **out);
/* True when stderr is a terminal (progress bars, colour). */
int cli_stderr_tty(void);
/* ---- cli_progress.c: hub progress and options (builds on cli_util.c) */
/* "12.3 MB" (decimal units) into out. */
void cli_human_size(double bytes, char *out, size_t cap);
/* Hub download progress on stderr (bar on a terminal, plain lines otherwise). */
bool cli_hub_progress(const hs_hub_progress *p, void *user);
/* hs_hub_default_params() plus --revision/--offline/--cache-dir (NULL/false = unset),
 * the progress bar, and warnings (e.g. "hub unreachable, using the cache") on stderr. */
hs_hub_params cli_hub_params(const char *revision, bool offline, const char *cache_dir);
/* A local model folder, or a hub name (ORG/NAME or a TransformerLens alias such as
 * pythia-70m) resolved through the HuggingFace cache, downloading what is missing unless
 * offline. *dir is malloc'd. Returns 0 or an exit code (the error already printed). */
int cli_resolve_model(const char *name, const char *revision, bool offline, char **dir);

/* cli_mpi.c — `headscan-mpi scan --mpi` under mpirun: one shard per rank, merged on rank 0.
 * In the plain headscan executable (built without MPI) cli_mpi_init says how to get it. */
int cli_mpi_init(int *rank, int *size);   /* 0, or an exit code (message printed) */
void cli_mpi_report(int64_t done, int64_t total, double rows_per_s);   /* this rank's forward progress */
/* rank 0: every rank's rows done and total, summed rows/s, the largest ETA and its rank */
void cli_mpi_totals(int64_t *done, int64_t *total, double *rows_per_s, double *eta, int *slowest);
bool cli_mpi_part_done(const char *part_dir);   /* part_dir holds a whole shard (a resumed job skips it) */
/* After each rank's scan into part_dir (status s): all ranks agree whether every shard is
 * whole; the others send their partial results to rank 0, which merges them into out
 * (*res: the merged result on rank 0). Returns the rank's exit code. */
int cli_mpi_gather(const char *out, const char *part_dir, hs_status s, bool interrupted, bool no_arrays, hs_scan_result **res);
/* The top heads of a scan as a table on stdout (cmd_scan.c). */
void cli_print_top(const hs_scan_result *r, int top, bool colour);
/* Removes a folder of plain files (a partial result). */
void cli_remove_files_dir(const char *dir);
#endif
