/* jsonl.h — extracting one top-level string field from a JSON object (private). */
#ifndef HS_DATA_JSONL_H
#define HS_DATA_JSONL_H
#include "core/internal.h"

typedef struct hs_strbuf { char *data; size_t len, cap; } hs_strbuf;

typedef enum { HS_JSON_MISSING = 0, HS_JSON_STRING, HS_JSON_NULL, HS_JSON_OTHER } hs_json_kind;

/* Parses `line` as one JSON object and finds the top-level key `field`.
 * On HS_OK: *kind says what the field holds; for a string, value->data[0..len)
 * is its decoded UTF-8 (NUL-terminated; may contain NUL); for HS_JSON_OTHER,
 * *what names the kind ("a number", ...). On failure (HS_ERR_FORMAT, or
 * HS_ERR_NOMEM): *what is the reason and *col the byte offset in the line.
 * No message is recorded: the caller names the file and line. */
hs_status hs_jsonl_field(const char *line, size_t len, const char *field, size_t field_len,
                         hs_strbuf *value, hs_strbuf *keybuf, hs_json_kind *kind,
                         const char **what, size_t *col);
#endif
