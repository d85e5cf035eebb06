/* status.c — status codes, error records, exit codes. */
#include "util/util.h"
#include <string.h>

const char *orx_status_message(orx_status status) {
    switch (status) {
    case ORX_OK:              return "ok";
    case ORX_ERR_IO:          return "I/O error";
    case ORX_ERR_PARSE:       return "parse error";
    case ORX_ERR_INVALID:     return "invalid input";
    case ORX_ERR_NOMEM:       return "out of memory or size limit exceeded";
    case ORX_ERR_UNSUPPORTED: return "unsupported";
    case ORX_ERR_NOT_FOUND:   return "not found";
    case ORX_ERR_RANGE:       return "value out of range";
    case ORX_ERR_NETWORK:     return "network error";
    case ORX_ERR_DB:          return "database error";
    case ORX_ERR_USAGE:       return "bad usage";
    case ORX_ERR_INTERNAL:    return "internal error";
    case ORX_ERR_CANCELLED:   return "cancelled";
    }
    return "unknown status";
}

const char *orx_version(void) { return ORX_VERSION; }

orx_status orx_fail(orx_error *err, orx_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

orx_status orx_error_prefix(orx_error *err, const char *fmt, ...) {
    if (!err) return ORX_OK;
    char prefix[512], old[ORX_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t ol = strnlen(old, room);
    memcpy(err->msg + n + 2, old, ol);
    err->msg[n + 2 + ol] = '\0';
    return err->code;
}

void orx_error_clear(orx_error *err) {
    if (!err) return;
    err->code = ORX_OK;
    err->msg[0] = '\0';
}

int orx_exit_code(orx_status status) {
    switch (status) {
    case ORX_OK: return 0;
    case ORX_ERR_PARSE: case ORX_ERR_INVALID: case ORX_ERR_USAGE: case ORX_ERR_RANGE:
    case ORX_ERR_UNSUPPORTED: case ORX_ERR_NOT_FOUND:
        return 2;
    default: return 1;
    }
}
