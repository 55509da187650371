/* strbuf.h — a growable NUL-terminated string for the report writers (private). */
#ifndef HS_REPORT_STRBUF_H
#define HS_REPORT_STRBUF_H
#include "core/internal.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct hs_sb { char *s; size_t len, cap; bool oom; } hs_sb;

/* Appends n bytes; on allocation failure sets oom (later appends are ignored). */
void hs_sb_add(hs_sb *b, const char *s, size_t n);
void hs_sb_str(hs_sb *b, const char *s);
void hs_sb_printf(hs_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands over the string (or NULL and HS_ERR_NOMEM after a failure). */
hs_status hs_sb_take(hs_sb *b, char **out);
void hs_sb_free(hs_sb *b);
/* create_html's escaping: & < > " ' → entities, \n → <br/>, \t → &emsp;, space → &nbsp;
 * (whitespace rules only when `ws`). */
void hs_sb_html(hs_sb *b, const char *s, size_t n, bool ws);
#endif
