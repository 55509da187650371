/* safetensors.h — memory-mapped reader of HuggingFace .safetensors files (internal).
 *
 * Layout: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
 * then the data buffer. Every field is validated on open: offsets inside the file,
 * byte length = numel x dtype size, no two tensors overlapping. F32 data is used in
 * place from the mapping; F16/BF16 are converted exactly on request.
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
    const uint8_t *data;      /* inside the mapping */
    size_t nbytes;
} hs_st_tensor;

typedef struct hs_safetensors {
    char *path;
    hs_mmap map;
    hs_st_tensor *tensors;
    int n_tensors;
} hs_safetensors;

hs_status hs_st_open(const char *path, hs_safetensors *st);
void hs_st_close(hs_safetensors *st);
const hs_st_tensor *hs_st_find(const hs_safetensors *st, const char *name);
/* Converts a float tensor (F32/F16/BF16/F64) to float32 into dst[numel]. */
hs_status hs_st_to_f32(const hs_safetensors *st, const hs_st_tensor *t, float *dst);

#endif
