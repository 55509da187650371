/* fuzz/jsonl.c — JSONL: the single-line field extractor (hs_jsonl_field) on the whole input,
 * then the input as a .jsonl document source (hs_docs: line splitting, blank lines,
 * nulls, UTF-8 replacement) read to the end. */
#include "fuzz_util.h"
#include "headscan/data.h"
#include "data/jsonl.h"

FUZZ_ENTRY(jsonl) {
    hs_strbuf value = {0}, key = {0};
    hs_json_kind kind;
    const char *what;
    size_t col;
    (void)hs_jsonl_field((const char *)data, size, "text", 4, &value, &key, &kind, &what, &col);
    free(value.data);
    free(key.data);

    const char *path = fuzz_write("docs.jsonl", data, size);
    hs_docs_params p = hs_docs_default_params();
    p.utf8 = size && (data[0] & 1) ? HS_UTF8_REPLACE : HS_UTF8_STRICT;
    hs_docs *d;
    if (hs_docs_open(path, &p, &d) == HS_OK) {
        hs_doc doc;
        bool eof = false;
        volatile uint8_t sink = 0;
        while (hs_docs_next(d, &doc, &eof) == HS_OK && !eof)
            if (doc.len) sink ^= (uint8_t)(doc.text[0] ^ doc.text[doc.len - 1]);
        (void)sink;
        hs_docs_close(d);
    }
    return 0;
}
