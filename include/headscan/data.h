/* headscan/data.h — datasets: JSONL, text and Parquet readers, and the token
 * matrix TransformerLens builds (tokenize_and_concatenate + Dataset.shuffle).
 *
 * Typical use (what `headscan tokens` does):
 *
 *   hs_docs_params dp = hs_docs_default_params();
 *   hs_docs *docs;
 *   if (hs_docs_open("pile-10k/train.parquet", &dp, &docs)) ...;
 *   hs_tokens_params tp = hs_tokens_default_params();   // transformerlens, 256, shuffle(42)
 *   hs_array tokens;                                     // int64 [rows, n_ctx]
 *   if (hs_tokens_build(tok, docs, &tp, &tokens, NULL)) ...;
 *   hs_docs_close(docs);
 *
 * Semantics: shared/spec/tokenizer.md §5 (tokenize_and_concatenate) and
 * shared/spec/data.md §5 (shuffle).
 */
#ifndef HEADSCAN_DATA_H
#define HEADSCAN_DATA_H

#include "common.h"
#include "tokenizer.h"
#include "hub.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Document sources.
 *
 * A source is a file, a directory (its regular files with a known extension,
 * not recursive, hidden and plain .json files ignored; when it has none, those of
 * its data/ folder, as in a HuggingFace dataset snapshot) or a glob pattern; files are read in
 * byte-wise sorted order of their paths, each from first row to last.
 * Formats (HS_FORMAT_AUTO picks by extension, then by content):
 *   JSONL   .jsonl .ndjson .json (and the same + .gz or .zst): one JSON object per line,
 *           the document is the string field `field`; blank lines are skipped.
 *           A missing field, or a non-string one, is an error naming file and line.
 *   text    .txt .text (+ .gz, .zst): a whole file per document (HS_TEXT_PER_FILE) or one
 *           document per line (HS_TEXT_PER_LINE: split on '\n' only, one trailing '\r'
 *           removed, a last line without '\n' kept, empty lines are documents; unlike
 *           Python's str.splitlines, \v \f U+0085 U+2028... do not split).
 *   Parquet .parquet: the column named `field` (a dotted path for struct children,
 *           e.g. "meta.pile_set_name"), one document per row.
 * Lines and documents may be of any length (no fixed buffers).
 */
typedef enum { HS_FORMAT_AUTO = 0, HS_FORMAT_JSONL, HS_FORMAT_TEXT, HS_FORMAT_PARQUET } hs_doc_format;
typedef enum { HS_NULLS_SKIP = 0, HS_NULLS_ERROR = 1 } hs_null_policy;
typedef enum { HS_TEXT_PER_FILE = 0, HS_TEXT_PER_LINE = 1 } hs_text_mode;

typedef struct hs_docs_params {
    const char *field;        /* JSONL key / Parquet column. Default "text". */
    hs_null_policy nulls;     /* JSON null / Parquet null: skip (counted) or fail. Default skip. */
    hs_text_mode text_mode;   /* plain text files. Default HS_TEXT_PER_FILE. */
    hs_doc_format format;     /* Default HS_FORMAT_AUTO. */
    hs_utf8_errors utf8;      /* invalid UTF-8 in a document: HS_UTF8_STRICT (default) fails
                                 naming file and row; HS_UTF8_REPLACE substitutes U+FFFD per
                                 maximal invalid subsequence (Python's errors="replace"). */
} hs_docs_params;
HS_API hs_docs_params hs_docs_default_params(void);

typedef struct hs_docs hs_docs;

/* One document. Pointers stay valid until the next hs_docs_next/rewind/close. */
typedef struct hs_doc {
    const char *text;         /* valid UTF-8 (see hs_docs_params.utf8); may contain NUL */
    size_t len;               /* bytes */
    const char *file;         /* the file it came from */
    int64_t row;              /* 0-based row (Parquet), line (JSONL, per-line text), 0 (per-file) */
    int64_t index;            /* 0-based index among the documents returned so far */
} hs_doc;

typedef struct hs_docs_stats {
    int64_t files;            /* files listed */
    int64_t docs;             /* documents returned */
    int64_t nulls;            /* null values skipped */
    int64_t bytes;            /* text bytes returned */
} hs_docs_stats;

/* Lists the files of `path` (nothing is read yet besides the listing). An empty
 * listing is an error. */
HS_API hs_status hs_docs_open(const char *path, const hs_docs_params *params, hs_docs **out);
/* Next document; *eof = true (and HS_OK) after the last one. After an error the
 * source stays failed. */
/* The same over an explicit list of files, read in the order given (e.g. the Parquet
 * files hs_hub_resolve_dataset returns). */
HS_API hs_status hs_docs_open_files(const char *const *paths, size_t n, const hs_docs_params *params, hs_docs **out);
HS_API hs_status hs_docs_next(hs_docs *d, hs_doc *doc, bool *eof);
/* Back to the first document of the first file (statistics restart). */
HS_API hs_status hs_docs_rewind(hs_docs *d);
HS_API void hs_docs_close(hs_docs *d);
HS_API hs_docs_stats hs_docs_get_stats(const hs_docs *d);
HS_API int hs_docs_num_files(const hs_docs *d);
HS_API const char *hs_docs_file(const hs_docs *d, int i);
/* Per-file counts from the last complete pass (zero before one). */
HS_API hs_docs_stats hs_docs_file_stats(const hs_docs *d, int i);

/* ---------------------------------------------------------------------------
 * Token matrix.
 *
 * HS_TOKENS_TRANSFORMERLENS (the default; what the study used): TransformerLens
 *   1.6 utils.tokenize_and_concatenate(dataset, tokenizer, max_length=n_ctx) with
 *   datasets.map(batched, batch_size=1000, num_proc=10): contiguous shards, per
 *   batch the texts joined with "<|endoftext|>", cut into 20 chunks of equal length
 *   in Unicode code points, each chunk encoded, every pad id (= EOS = BOS) removed,
 *   rows of n_ctx-1 tokens with the remainder of each batch dropped, then a BOS
 *   column. Documents therefore run together with no separator. (TL 2.x differs only
 *   for a blank batch or one with < n_ctx-1 tokens, which 2.x pads into a row; neither
 *   happens with pile-10k. This is the 1.6 behaviour: such a batch gives no row.)
 * HS_TOKENS_PLAIN: each document encoded whole, documents separated by one EOS id
 *   (between documents, as TL joins them), literal special tokens kept; the single
 *   stream is cut into rows of n_ctx-1 tokens after a BOS column; the final
 *   remainder is dropped. NOT what TransformerLens builds.
 * Then, when `shuffle` is set, rows are permuted as datasets' Dataset.shuffle(seed):
 *   row r of the result = unshuffled row hs_shuffle_permutation(seed)[r].
 */
typedef enum { HS_TOKENS_TRANSFORMERLENS = 0, HS_TOKENS_PLAIN = 1 } hs_tokens_mode;

/* Progress: `done` of `total` documents tokenized. Return non-zero to cancel
 * (hs_tokens_build then fails with HS_ERR_CANCELLED). Called on the calling thread. */
typedef int (*hs_progress_fn)(int64_t done, int64_t total, void *user);

typedef struct hs_tokens_params {
    hs_tokens_mode mode;      /* default HS_TOKENS_TRANSFORMERLENS */
    int n_ctx;                /* row length incl. the BOS column; default 256, >= 2 */
    bool shuffle;             /* default true */
    uint64_t seed;            /* default 42 */
    int threads;              /* 0 = hs_get_num_threads() (all cores); output does not depend on it */
    /* TransformerLens/datasets internals; change only to model another setup. */
    int num_proc;             /* default 10 (shards; reduced to the document count when larger) */
    int batch_size;           /* default 1000 (documents per batch within a shard) */
    int num_chunks;           /* default 20 (character chunks per batch) */
    /* The model's special tokens, as TransformerLens sets them (llama.md §8). eos_id: the
     * separator between documents (its string) and the pad id removed; -1 (default) = the
     * tokenizer's <|endoftext|> (Pythia, GPT-2). bos_column: rows are [BOS] + n_ctx-1 ids
     * (default true); false = n_ctx ids, no BOS column (Qwen2: add_bos_token=False). Chunks are
     * encoded with add_special_tokens, so a tokenizer whose post-processor adds BOS (Llama-2,
     * Llama-3) puts one at every chunk start, inside the rows. */
    int32_t eos_id;
    bool bos_column;
    hs_progress_fn progress;  /* optional */
    void *progress_user;
} hs_tokens_params;
HS_API hs_tokens_params hs_tokens_default_params(void);

typedef struct hs_tokens_stats {
    int64_t docs;             /* documents read */
    int64_t nulls;            /* null documents skipped */
    int64_t tokens;           /* ids produced by the tokenizer (before any removal) */
    int64_t pad_removed;      /* ids equal to the pad id removed (transformerlens mode) */
    int64_t tail_dropped;     /* ids dropped as batch (or stream) remainders */
    int64_t batches;          /* batches (transformerlens) */
    int64_t rows;             /* rows of the result */
} hs_tokens_stats;

/* Reads every document of `docs` (rewinding it first; it may read the source twice:
 * once to count the documents, which the shard layout needs) and builds the int64
 * [rows, n_ctx] matrix into *out (free with hs_array_free). */
HS_API hs_status hs_tokens_build(const hs_tokenizer *tok, hs_docs *docs, const hs_tokens_params *params,
                                 hs_array *out, hs_tokens_stats *stats);

/* numpy.random.default_rng(seed).permutation(n) (PCG64, SeedSequence), exactly:
 * out[0..n-1] receives a permutation of 0..n-1. */
HS_API hs_status hs_shuffle_permutation(uint64_t seed, int64_t n, int64_t *out);

/* Writes `tokens` (int64 [rows, n_ctx]) to `path` as .npy and, beside it,
 * "<path>.json": the source files (path, bytes, SHA-256, documents, nulls), the
 * tokenizer file and its SHA-256, every option, the statistics and the SHA-256 of
 * the matrix (int64 little-endian, row-major). Both files are written atomically;
 * if the sidecar fails, the .npy is removed again. `docs` must have completed a pass
 * (hs_tokens_build does one); tokenizer_path may be NULL. */
HS_API hs_status hs_tokens_save(const char *path, const hs_array *tokens, const hs_docs *docs,
                                const char *tokenizer_path, const hs_tokens_params *params,
                                const hs_tokens_stats *stats);

/* Reads a token matrix written by `headscan tokens` (or any 2-D int64/int32 .npy;
 * int32 is widened) into an int64 [rows, n_ctx] array. */
HS_API hs_status hs_tokens_load(const char *path, hs_array *out);

/* The token matrix of a dataset named as `headscan scan --dataset` names it: an existing
 * local path or a glob is read with hs_docs_open, anything else is a hub dataset
 * (hs_hub_resolve_dataset with `hub`, which may be NULL for the defaults); then
 * hs_tokens_build. stats may be NULL. */
HS_API hs_status hs_tokens_from_dataset(const char *dataset, const hs_tokenizer *tok, const hs_docs_params *docs_params,
                                        const hs_hub_params *hub, const hs_tokens_params *params, hs_array *out,
                                        hs_tokens_stats *stats);

/* hs_tokens_build and hs_tokens_from_dataset writing the matrix straight into the .npy file
 * `path` (atomically; int64 [rows, n_ctx], the same bytes hs_npy_write would write) in
 * memory that does not grow with the dataset: full rows are spilled unshuffled to a
 * temporary file beside `path`, then written in shuffled order (only the permutation,
 * 8 bytes a row, is held). For whole-dataset scans (`headscan scan --dataset`). */
HS_API hs_status hs_tokens_build_npy(const hs_tokenizer *tok, hs_docs *docs, const hs_tokens_params *params,
                                     const char *path, hs_tokens_stats *stats);
HS_API hs_status hs_tokens_from_dataset_npy(const char *dataset, const hs_tokenizer *tok, const hs_docs_params *docs_params,
                                            const hs_hub_params *hub, const hs_tokens_params *params, const char *path,
                                            hs_tokens_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
