/* fuzz/config.c — a model folder's config.json (hs_model_read_config), and the same bytes
 * as a sharded checkpoint's model.safetensors.index.json (hub_parse_index, the hub's
 * reading of it). */
#include "fuzz_util.h"
#include "headscan/model.h"
#include "io/hub_internal.h"

FUZZ_ENTRY(config) {
    fuzz_write("config.json", data, size);
    hs_model_config cfg;
    (void)hs_model_read_config(fuzz_dir(), &cfg);
    strlist shards = {0};
    (void)hub_parse_index((const char *)data, size, "model.safetensors.index.json", &shards);
    for (size_t i = 0; i < shards.n; i++) free(shards.v[i]);
    free(shards.v);
    return 0;
}
