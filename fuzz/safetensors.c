/* fuzz/safetensors.c — the safetensors header and tensor table (hs_st_open), then every
 * float tensor converted (hs_st_to_f32), so offsets the parser accepted are really read. */
#include "fuzz_util.h"
#include "io/safetensors.h"

FUZZ_ENTRY(safetensors) {
    const char *path = fuzz_write("model.safetensors", data, size);
    hs_safetensors st;
    if (hs_st_open(path, &st) == HS_OK) {
        for (int i = 0; i < st.n_tensors; i++) {
            const hs_st_tensor *t = &st.tensors[i];
            if (hs_st_find(&st, t->name) == NULL) abort();   /* every listed tensor is findable */
            float *dst = malloc((size_t)t->numel * sizeof(float) + 1);
            if (dst) {
                (void)hs_st_to_f32(&st, t, dst);
                free(dst);
            }
        }
        hs_st_close(&st);
    }
    return 0;
}
