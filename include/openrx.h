/*
 * openrx.h — the public face of libopenrx.
 *
 * openrx runs open LLMs locally to draft prescriptions for one patient, grounded in drug labels
 * and checked by a deterministic medication-safety checker. Every output is a DRAFT for a
 * clinician to review.
 *
 * Conventions (llama.h / SQLite style):
 *   - opaque handles; orx_<thing>_default_params(); orx_<thing>_create / orx_<thing>_free pairs;
 *   - every fallible call returns an orx_status and, when given one, fills an orx_error with a
 *     human message ("file:line:col: what is wrong" where a location exists);
 *   - caller-owned buffers: functions that write text take (buf, cap) and return the needed length;
 *   - library code never calls exit() and never prints unless asked to.
 *
 * The per-concern APIs live in the header that is each folder's face (src/gguf/gguf.h,
 * src/engine/engine.h, src/clinical/clinical.h, src/kb/kb.h, src/safety/safety.h, src/rx/rx.h …).
 */
#ifndef OPENRX_H
#define OPENRX_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
 * Status codes — one type for the whole library. Values are stable; never renumber.
 * ========================================================================================== */
typedef enum orx_status {
    ORX_OK              = 0,  /* success */
    ORX_ERR_IO          = 1,  /* file/OS error: open, read, write, mmap, rename */
    ORX_ERR_PARSE       = 2,  /* malformed input syntax: JSON, XML, GGUF bytes, dose string */
    ORX_ERR_INVALID     = 3,  /* well-formed but semantically invalid input (bad value, unit) */
    ORX_ERR_NOMEM       = 4,  /* allocation failed or a size limit was exceeded */
    ORX_ERR_UNSUPPORTED = 5,  /* valid but not supported (tensor type, architecture, template) */
    ORX_ERR_NOT_FOUND   = 6,  /* a named thing does not exist (key, tensor, drug, file) */
    ORX_ERR_RANGE       = 7,  /* a number is outside its allowed range */
    ORX_ERR_NETWORK     = 8,  /* HTTP/transport failure, remote error status */
    ORX_ERR_DB          = 9,  /* SQLite error */
    ORX_ERR_USAGE       = 10, /* bad API or command-line usage */
    ORX_ERR_INTERNAL    = 11, /* a bug: an invariant was broken */
    ORX_ERR_CANCELLED   = 12, /* stopped by the caller (signal, callback) */
} orx_status;

/* Short constant description of a status code ("parse error"). Never NULL. */
const char *orx_status_message(orx_status status);

/* Error detail: the code plus a message. Zero-initialise (ORX_ERROR_INIT) before use. */
#define ORX_ERROR_MSG_CAP 1024
typedef struct orx_error {
    orx_status code;                   /* ORX_OK when no error was recorded */
    char       msg[ORX_ERROR_MSG_CAP]; /* NUL-terminated human message, "" when none */
} orx_error;
#define ORX_ERROR_INIT {ORX_OK, {0}}

/* Library version string, e.g. "0.1.0". */
const char *orx_version(void);

/* Every generated recommendation carries this notice. */
#define ORX_DRAFT_NOTICE \
    "DRAFT for clinician review - not an order. Verify every drug, dose and finding before use."

#ifdef __cplusplus
}
#endif
#endif /* OPENRX_H */
