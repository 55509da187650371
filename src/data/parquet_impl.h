/* parquet_impl.h — what parquet.c (footer) and parquet_read.c (pages) share:
 * the parsed file handle and a bounded Thrift compact-protocol decoder. */
#ifndef HS_DATA_PARQUET_IMPL_H
#define HS_DATA_PARQUET_IMPL_H

#include "data/parquet.h"

/* One column chunk of one row group (only what the reader needs). */
typedef struct pq_chunk {
    bool has_meta;           /* ColumnChunk.meta_data present */
    bool external;           /* ColumnChunk.file_path set: data in another file */
    bool has_dict_offset;
    int type, codec;
    int64_t num_values, total_compressed_size, data_page_offset, dict_page_offset;
} pq_chunk;

struct hs_parquet {
    char *name;                  /* path, for messages */
    hs_mmap map;                 /* when opened from a path */
    const uint8_t *data;
    size_t size;
    size_t footer_start;         /* byte offset of FileMetaData: column data lies before */
    int64_t num_rows;
    char *created_by;
    int ncols, nrg;
    hs_pq_column_info *cols;     /* [ncols]; paths owned */
    int64_t *rg_rows;            /* [nrg] */
    int64_t *rg_first_row;       /* [nrg] index of the group's first row */
    pq_chunk *chunks;            /* [nrg * ncols], row group major */
};

/* Thrift compact protocol, reading from [p, end). On the first failure `err` is set
 * (a static string) and every later call fails. */
enum { TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_BYTE = 3, TC_I16 = 4, TC_I32 = 5, TC_I64 = 6,
       TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_SET = 10, TC_MAP = 11, TC_STRUCT = 12 };

typedef struct tc_reader {
    const uint8_t *p, *end;
    int depth;
    const char *err;
} tc_reader;

bool tc_fail(tc_reader *c, const char *msg);
bool tc_varint(tc_reader *c, uint64_t *v);
bool tc_i32(tc_reader *c, int32_t *v);
bool tc_i64(tc_reader *c, int64_t *v);
bool tc_binary(tc_reader *c, const uint8_t **s, size_t *n);
/* Next field header: *type = TC_STOP at the end of the struct. *last is the previous
 * field id (0 at the start of a struct). */
bool tc_field(tc_reader *c, int *last, int *type, int *id);
/* Field value readers that also check the wire type. */
bool tc_field_i32(tc_reader *c, int type, int32_t *v);
bool tc_field_i64(tc_reader *c, int type, int64_t *v);
bool tc_field_bool(tc_reader *c, int type, bool *v);
bool tc_list_begin(tc_reader *c, int *elem_type, uint32_t *count);
bool tc_struct_begin(tc_reader *c);   /* depth check */
void tc_struct_end(tc_reader *c);
bool tc_skip(tc_reader *c, int type);

#endif
