/* parquet.h — streaming reader for one flat column of a Parquet file (internal API).
 *
 * Used by the datasets code to stream the `text` column of a dataset file; not public.
 *
 *   hs_parquet *pq;
 *   if (hs_parquet_open(path, &pq)) return ...;            // mmap + parse the footer
 *   int col;
 *   if (hs_parquet_text_column(pq, "text", &col)) ...;      // error lists the string columns
 *   hs_pq_reader *r;
 *   if (hs_parquet_reader_open(pq, col, HS_PQ_NULLS_SKIP, &r)) ...;
 *   hs_pq_value v; bool eof;
 *   while (!(st = hs_parquet_reader_next(r, &v, &eof)) && !eof)
 *       use(v.data, v.len, v.row);                          // valid until the next call
 *   // st != HS_OK: message (file, column, row group, page, reason) in hs_last_error()
 *   hs_parquet_reader_free(r);
 *   hs_parquet_close(pq);
 *
 * What is read: any column whose max repetition level is 0 (no list above it), i.e.
 * top-level columns and children of (optional) structs such as `meta.pile_set_name`;
 * one value (or null) per row, in row order, across all row groups and pages.
 * Physical types BYTE_ARRAY (strings, binary) and, for tests and tools, the fixed-width
 * ones (INT32/INT64/INT96/FLOAT/DOUBLE/FIXED_LEN_BYTE_ARRAY: `data` = the little-endian
 * value bytes). BOOLEAN and repeated (list) columns are refused with a clear error;
 * other columns of the file (lists, structs) are simply not looked at.
 *   Encodings: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY (dictionary page anywhere
 *   before the data pages, including at offset 0), DELTA_LENGTH_BYTE_ARRAY,
 *   DELTA_BYTE_ARRAY (and DELTA_BINARY_PACKED for INT32/INT64); definition levels
 *   RLE/bit-packed hybrid (the deprecated BIT_PACKED level encoding is refused).
 *   Pages: DATA_PAGE (v1), DATA_PAGE_V2 (levels uncompressed, is_compressed flag,
 *   empty pages), DICTIONARY_PAGE; INDEX_PAGE and unknown page types are skipped.
 *   Codecs: UNCOMPRESSED, SNAPPY, GZIP (concatenated members), ZSTD, LZ4_RAW, LZ4
 *   (Hadoop framing, else an LZ4 frame, else a raw LZ4 block), BROTLI. LZO is refused.
 *   Page CRCs are not verified: parquet-testing's expected rows for
 *   rle-dict-uncompressed-corrupt-checksum.parquet say a reader should read that file.
 *
 * Values: `data` points into the file mapping, a decompressed page or the dictionary
 * (zero copy) except for DELTA_BYTE_ARRAY, whose values are rebuilt in a buffer. It
 * stays valid until the next hs_parquet_reader_next/free on that reader. Text is not
 * checked for valid UTF-8 here. A hs_parquet is read-only after open: several readers
 * (one per thread) may share it, e.g. one per range of row groups
 * (hs_parquet_reader_open_groups); error messages are per thread (hs_last_error).
 *
 * Robustness: every offset, length and count read from the file is checked against
 * the bytes actually present before use, and against the limits below before any
 * allocation; the Thrift decoder nests at most HS_PQ_MAX_DEPTH structs and never
 * recurses without that bound. Every failure is a status + message, never a crash.
 */
#ifndef HS_DATA_PARQUET_H
#define HS_DATA_PARQUET_H

#include "core/internal.h"

/* Limits (a file beyond them is refused as malformed/unsupported before allocating). */
#define HS_PQ_MAX_FOOTER      (256u << 20)   /* FileMetaData bytes */
#define HS_PQ_MAX_PAGE_SIZE   (256u << 20)   /* uncompressed page bytes */
#define HS_PQ_MAX_DICT        (1u << 24)     /* dictionary entries (pyarrow's 1 MiB dictionary
                                                pages hold far fewer) */
#define HS_PQ_MAX_DEPTH       64             /* Thrift struct nesting and schema depth */
#define HS_PQ_MAX_COLUMNS     100000         /* leaf columns */
#define HS_PQ_MAX_NAME        4096           /* bytes in a column's dotted path */
/* Lists and strings in the footer are bounded by the bytes left in it (every list
 * element takes at least one byte), so no further count limit is needed there. */

typedef struct hs_parquet hs_parquet;
typedef struct hs_pq_reader hs_pq_reader;

/* Parquet physical types (values as in parquet.thrift). */
enum { HS_PQ_BOOLEAN = 0, HS_PQ_INT32, HS_PQ_INT64, HS_PQ_INT96, HS_PQ_FLOAT, HS_PQ_DOUBLE,
       HS_PQ_BYTE_ARRAY, HS_PQ_FIXED_LEN_BYTE_ARRAY };

typedef struct hs_pq_column_info {
    const char *path;      /* dotted path, e.g. "meta.pile_set_name" */
    int physical_type;     /* HS_PQ_* */
    int type_length;       /* FIXED_LEN_BYTE_ARRAY width */
    bool is_string;        /* UTF8 converted type or STRING/ENUM/JSON logical type */
    int max_def, max_rep;  /* definition / repetition levels */
} hs_pq_column_info;

typedef struct hs_pq_value {
    const char *data;      /* value bytes (NULL when is_null) */
    size_t len;
    bool is_null;
    int64_t row;           /* 0-based row index in the file */
} hs_pq_value;

typedef enum hs_pq_nulls {
    HS_PQ_NULLS_RETURN = 0,  /* return nulls as values with is_null = true */
    HS_PQ_NULLS_SKIP,        /* skip them (counted: hs_parquet_reader_nulls) */
    HS_PQ_NULLS_ERROR        /* fail with HS_ERR_FORMAT naming the row */
} hs_pq_nulls;

/* Maps `path` and parses its footer (schema, row groups). */
hs_status hs_parquet_open(const char *path, hs_parquet **out);
/* Same over a caller's buffer, which must outlive the handle; `name` is used in
 * messages. (Used by the tests to read truncated / bit-flipped variants.) */
hs_status hs_parquet_open_memory(const void *data, size_t size, const char *name, hs_parquet **out);
void hs_parquet_close(hs_parquet *pq);

int64_t hs_parquet_num_rows(const hs_parquet *pq);
int hs_parquet_num_row_groups(const hs_parquet *pq);
int hs_parquet_num_columns(const hs_parquet *pq);
const hs_pq_column_info *hs_parquet_column(const hs_parquet *pq, int col);
const char *hs_parquet_created_by(const hs_parquet *pq);   /* "" when absent */

/* Finds a leaf column by dotted path. HS_ERR_NOT_FOUND lists the leaf columns. */
hs_status hs_parquet_column_find(const hs_parquet *pq, const char *name, int *col);
/* Finds a readable text column: BYTE_ARRAY with max repetition level 0. The error
 * (HS_ERR_NOT_FOUND or HS_ERR_UNSUPPORTED) lists the columns that would qualify. */
hs_status hs_parquet_text_column(const hs_parquet *pq, const char *name, int *col);

hs_status hs_parquet_reader_open(hs_parquet *pq, int col, hs_pq_nulls nulls, hs_pq_reader **out);
/* Same, for row groups [first, first + count) only (v.row stays the file's row index):
 * lets several threads decode one file, one range of row groups each. */
hs_status hs_parquet_reader_open_groups(hs_parquet *pq, int col, hs_pq_nulls nulls, int first, int count,
                                        hs_pq_reader **out);
/* Next value in row order; *eof = true (and HS_OK) after the last row. After an error
 * the reader stays failed (every later call returns the same status). */
hs_status hs_parquet_reader_next(hs_pq_reader *r, hs_pq_value *v, bool *eof);
int64_t hs_parquet_reader_nulls(const hs_pq_reader *r);   /* nulls seen so far */
void hs_parquet_reader_free(hs_pq_reader *r);

#endif
