/* fuzz/npy.c — NumPy .npy reading (hs_npy_read): header, dtype, shape, data size. */
#include "fuzz_util.h"
#include "headscan/common.h"

FUZZ_ENTRY(npy) {
    const char *path = fuzz_write("a.npy", data, size);
    hs_array a;
    if (hs_npy_read(path, &a) == HS_OK) {
        size_t bytes = (size_t)hs_array_numel(&a) * hs_dtype_size(a.dtype);
        volatile uint8_t sink = 0;
        if (bytes) sink = ((const uint8_t *)a.data)[bytes - 1];   /* the buffer really holds it */
        (void)sink;
        hs_array_free(&a);
    }
    return 0;
}
