/* error.c — status strings, the per-thread error message, the log callback. */
#include "core/internal.h"
#include <string.h>

static _Thread_local char tls_msg[HS_ERRMSG_MAX];
static hs_log_fn log_fn;
static void *log_user;

const char *hs_status_str(hs_status s) {
    switch (s) {
    case HS_OK: return "ok";
    case HS_ERR_INVALID_ARG: return "invalid argument";
    case HS_ERR_IO: return "I/O error";
    case HS_ERR_FORMAT: return "malformed input";
    case HS_ERR_UNSUPPORTED: return "unsupported";
    case HS_ERR_NOMEM: return "out of memory";
    case HS_ERR_NOT_FOUND: return "not found";
    case HS_ERR_NETWORK: return "network error";
    case HS_ERR_AUTH: return "not authorised";
    case HS_ERR_CANCELLED: return "cancelled";
    case HS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *hs_last_error(void) { return tls_msg; }
const char *hs_version(void) { return HS_VERSION_STRING; }

hs_status hs_errorf(hs_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_msg, sizeof tls_msg, fmt, ap);
    va_end(ap);
    return s;
}

hs_status hs_error_prefix(hs_status s, const char *fmt, ...) {
    char prefix[HS_ERRMSG_MAX], old[HS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, tls_msg, sizeof old);
    size_t k = strnlen(prefix, sizeof prefix - 1);
    memcpy(tls_msg, prefix, k);
    if (k + 2 < sizeof tls_msg) { tls_msg[k++] = ':'; tls_msg[k++] = ' '; }
    size_t rest = strnlen(old, sizeof old - 1);
    if (rest > sizeof tls_msg - 1 - k) rest = sizeof tls_msg - 1 - k;
    memcpy(tls_msg + k, old, rest);
    tls_msg[k + rest] = 0;
    return s;
}

void hs_error_clear(void) { tls_msg[0] = 0; }

void hs_error_copy(char *dst, size_t cap) {
    if (!dst || !cap) return;
    snprintf(dst, cap, "%s", tls_msg);
}

void hs_set_log_callback(hs_log_fn fn, void *user) {
    log_fn = fn;
    log_user = user;
}

void hs_log(hs_log_level level, const char *fmt, ...) {
    if (!log_fn) return;
    char buf[HS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
}
