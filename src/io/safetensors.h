/* safetensors.h — reader of HuggingFace .safetensors files (internal).
 *
 * Layout: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
 * then the data buffer. Every field is validated on open: offsets inside the file,
 * byte length = numel x dtype size, no two tensors overlapping. F16/BF16/F64 are
 * converted exactly on request.
 *
 * The file is read with pread(), not memory-mapped: a checkpoint truncated while it is
 * being read (another process rewriting it, a download still in progress) would make
 * a mapping raise SIGBUS; here it is a short read and an error. hs_st_to_f32 also
 * compares the file's size and modification time with those seen at open, before and
 * after reading, so a file rewritten in place is reported, never converted as garbage.
 */
#ifndef HS_SAFETENSORS_H
#define HS_SAFETENSORS_H

#include "core/internal.h"

#define HS_ST_HEADER_LIMIT (100u << 20)   /* the reference parser's limit */

typedef struct hs_st_tensor {
    char *name;
    hs_dtype dtype;           /* F32, F16, BF16, F64, I64, I32, U8, BOOL; others unsupported */
    bool known_dtype;         /* false for dtypes headscan cannot convert (kept for errors) */
    char dtype_str[12];
    int ndim;
    int64_t shape[HS_MAX_DIMS];
    int64_t numel;
    uint64_t offset;          /* of the first byte in the file */
    size_t nbytes;
} hs_st_tensor;

typedef struct hs_safetensors {
    char *path;
    int fd;                   /* open for hs_st_to_f32 while path != NULL */
    uint64_t file_size;       /* size and mtime at open: changes are detected */
    int64_t mtime_sec, mtime_nsec;
    hs_st_tensor *tensors;
    int n_tensors;
} hs_safetensors;

hs_status hs_st_open(const char *path, hs_safetensors *st);
void hs_st_close(hs_safetensors *st);
const hs_st_tensor *hs_st_find(const hs_safetensors *st, const char *name);
/* Converts a float tensor (F32/F16/BF16/F64) to float32 into dst[numel]. */
hs_status hs_st_to_f32(const hs_safetensors *st, const hs_st_tensor *t, float *dst);

/* Reads an F32/F16/BF16 tensor's bytes as stored (little-endian) into dst[nbytes]. */
hs_status hs_st_read_raw(const hs_safetensors *st, const hs_st_tensor *t, void *dst);

#endif
