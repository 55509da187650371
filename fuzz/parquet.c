/* fuzz/parquet.c — the whole Parquet reader over a buffer (hs_parquet_open_memory): the
 * footer, then every readable column read to the end (nulls returned). */
#include "fuzz_util.h"
#include "data/parquet.h"

FUZZ_ENTRY(parquet) {
    hs_parquet *pq;
    if (hs_parquet_open_memory(data, size, "fuzz.parquet", &pq) != HS_OK) return 0;
    int ncol = hs_parquet_num_columns(pq);
    for (int c = 0; c < ncol && c < 16; c++) {
        hs_pq_reader *r;
        if (hs_parquet_reader_open(pq, c, HS_PQ_NULLS_RETURN, &r) != HS_OK) continue;
        hs_pq_value v;
        bool eof = false;
        volatile uint8_t sink = 0;
        while (hs_parquet_reader_next(r, &v, &eof) == HS_OK && !eof)
            if (!v.is_null && v.len) sink ^= (uint8_t)(v.data[0] ^ v.data[v.len - 1]);   /* touch the bytes */
        (void)sink;
        hs_parquet_reader_free(r);
    }
    int col;
    (void)hs_parquet_text_column(pq, "text", &col);
    hs_parquet_close(pq);
    return 0;
}
