/*
 * util.h — status/error helpers, growable buffers, whole-file and atomic file I/O, mmap,
 * progress bars, hashing. The lowest layer: includes nothing else of openrx but openrx.h.
 */
#ifndef ORX_UTIL_H
#define ORX_UTIL_H

#include "openrx.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ============================================================================================
 * Errors
 * ========================================================================================== */

/* Record code + printf-style message in err (if non-NULL); returns code, so callers can write
 * `return orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: expected ','", path, line, col);`. */
orx_status orx_fail(orx_error *err, orx_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "context: <old message>". Keeps the code. */
orx_status orx_error_prefix(orx_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void orx_error_clear(orx_error *err);

/* CLI exit code for a status: 0 ok, 2 bad usage or bad input, 1 any other failure. */
int orx_exit_code(orx_status status);

/* ============================================================================================
 * Growable byte/string buffer
 * ========================================================================================== */
typedef struct orx_buf {
    char  *data; /* NUL-terminated contents (may contain NULs when used for bytes) */
    size_t len;  /* bytes used, excluding the terminating NUL */
    size_t cap;  /* bytes allocated */
} orx_buf;

void   orx_buf_init(orx_buf *b);
void   orx_buf_clear(orx_buf *b);
void   orx_buf_reset(orx_buf *b);                         /* len = 0, keeps memory */
bool   orx_buf_reserve(orx_buf *b, size_t extra);          /* false on OOM */
bool   orx_buf_append(orx_buf *b, const void *p, size_t n);
bool   orx_buf_puts(orx_buf *b, const char *s);
bool   orx_buf_printf(orx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool   orx_buf_vprintf(orx_buf *b, const char *fmt, va_list ap);
char  *orx_buf_steal(orx_buf *b);                          /* caller frees; b is reset */
/* Append jansson value j, serialised with json_dumps flags, and a newline; j is released (the
 * caller passes its reference). False when it cannot be serialised or out cannot grow. */
struct json_t;
bool   orx_buf_put_json(orx_buf *out, struct json_t *j, size_t flags);

/* Room for element n of a growable array v of *cap elements of elem bytes: v itself while
 * n < *cap, else v reallocated to twice *cap elements (first when *cap is 0) and *cap updated.
 * NULL out of memory (v and *cap as they were). */
void  *orx_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first);

/* One more element at the end of a growable array (*items holding *n of *cap, each elem bytes):
 * when full the capacity doubles (first_cap the first time). Returns the new element, zeroed and
 * counted in *n; NULL when out of memory (the array is left as it was). */
void  *orx_push(void **items, size_t *n, size_t *cap, size_t elem, size_t first_cap);

/* ============================================================================================
 * Strings
 * ========================================================================================== */
char  *orx_strdup(const char *s);                          /* NULL-safe strdup */
char  *orx_strndup(const char *s, size_t n);
bool   orx_str_starts_with(const char *s, const char *prefix);
bool   orx_str_ends_with(const char *s, const char *suffix);
bool   orx_str_ieq(const char *a, const char *b);          /* ASCII case-insensitive equality */
void   orx_str_lower(char *s);                             /* ASCII lower-case in place */
char  *orx_str_trim(char *s);                              /* trims ASCII space in place */
size_t orx_str_count(const char *s, char c);               /* how many times c occurs in s */
bool   orx_str_in(const char *s, const char *const *list);      /* s equals one of list (NULL-ended) */
bool   orx_str_has_any(const char *s, const char *const *list); /* s contains one of list (NULL-ended) */
/* Is item one of the entries of a list separated by sep ("a;b;c")? */
bool   orx_list_has(const char *list, char sep, const char *item);

/* ============================================================================================
 * Files
 * ========================================================================================== */

/* Read a whole file into a NUL-terminated malloc'd buffer. max_bytes = 0 means no limit;
 * a larger file fails with ORX_ERR_RANGE naming the limit. */
orx_status orx_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                         orx_error *err);

/* The current UTC time formatted with strftime's fmt ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"). */
void orx_utc_now(char *out, size_t cap, const char *fmt);

/* Read an open text file line by line: fn gets each line as read (with its '\n' when it has one;
 * len its bytes) and its number from 1; a non-OK return stops. max_line > 0: a longer line is
 * ORX_ERR_RANGE "path:N: line longer than M bytes". skip_blank: lines of only whitespace are not
 * passed. A read error is ORX_ERR_IO. The caller opens and closes f. */
typedef orx_status (*orx_line_fn)(void *ctx, long lineno, char *line, size_t len, orx_error *err);
orx_status orx_each_line(FILE *f, const char *path, size_t max_line, bool skip_blank, orx_line_fn fn, void *ctx,
                         orx_error *err);

/* Text read whole and cut in place (the rule and lexicon TSV tables). The next line of the text at
 * *p (its '\n' replaced by NUL), advancing *p and counting *line; NULL at the end of the text.
 * Comment and empty lines are returned too. */
static inline char *orx_tsv_next_line(char **p, size_t *line) {
    if (!*p || !**p) return NULL;
    char *row = *p;
    char *nl = strchr(row, '\n');
    if (nl) *nl = 0;
    *p = nl ? nl + 1 : NULL;
    ++*line;
    return row;
}

/* Split a row at its tabs in place: at most cap fields into f (the last one cut at its tab too);
 * returns the count. */
static inline int orx_tsv_split(char *row, char **f, int cap) {
    int nf = 0;
    for (char *c = row; c && nf < cap;) {
        f[nf++] = c;
        char *tab = strchr(c, '\t');
        if (tab) *tab = 0;
        c = tab ? tab + 1 : NULL;
    }
    return nf;
}

/* Write a file whole or not at all: write to "<path>.tmp.<pid>", fsync, rename over path,
 * fsync the directory. On failure the old file (if any) is untouched. */
orx_status orx_write_file_atomic(const char *path, const void *data, size_t len, orx_error *err);

/* Append one record to a file and fsync it (audit logs). Creates the file if missing. */
orx_status orx_append_fsync(const char *path, const void *data, size_t len, orx_error *err);

/* Read-only memory map of a whole file. */
typedef struct orx_mmap {
    void  *addr; /* mapping base, NULL when empty/unmapped */
    size_t size; /* bytes mapped = file size */
} orx_mmap;
orx_status orx_mmap_open(const char *path, orx_mmap *m, orx_error *err);
void       orx_mmap_close(orx_mmap *m);

bool orx_file_exists(const char *path);
bool orx_is_dir(const char *path);
/* Create a directory and its parents (mode 0755). */
orx_status orx_mkdir_p(const char *path, orx_error *err);

/* ============================================================================================
 * Hashing (SHA-256, FIPS 180-4) — audit records, model identity, download checks
 * ========================================================================================== */
/* FNV-1a, 64-bit: the hash of the in-memory string maps (not for anything kept or compared across
 * versions). */
static inline uint64_t orx_fnv1a(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
static inline uint64_t orx_fnv1a_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

typedef struct orx_sha256 {
    uint32_t state[8];   /* H0..H7 */
    uint64_t nbytes;     /* total bytes fed */
    uint8_t  block[64];  /* pending partial block */
    size_t   nblock;     /* bytes in block */
} orx_sha256;
void orx_sha256_init(orx_sha256 *h);
void orx_sha256_update(orx_sha256 *h, const void *data, size_t len);
void orx_sha256_final(orx_sha256 *h, uint8_t out[32]);
/* hex digest of a buffer / whole file (65 bytes incl. NUL) */
void       orx_sha256_hex(const void *data, size_t len, char out[65]);
orx_status orx_sha256_file_hex(const char *path, char out[65], orx_error *err);
/* Tests: on = always the portable compression, off = the CPU's fastest (SHA extensions if any). */
void        orx_sha256_force_portable(bool on);
/* The compression in use now: "sha-ni" or "portable". */
const char *orx_sha256_impl(void);

/* ============================================================================================
 * Tamper-evident audit log (util/audit.c): JSON Lines where each record carries "seq" (its line
 * number) and "prev_sha256" (SHA-256 of the previous line's bytes; 64 zeros for the first)
 * ========================================================================================== */
/* Append one record: a JSON object on one line ("{...}", without the chain fields), under an
 * exclusive file lock (threads and processes take turns), one write, fsynced. A new file is
 * created with mode 0600. */
orx_status orx_audit_append(const char *path, const char *record, size_t len, orx_error *err);

/* Called per line (without its '\n'; complete = it had one); a non-OK return stops the walk. */
typedef orx_status (*orx_audit_line_fn)(void *ctx, long lineno, const char *line, size_t len, bool complete,
                                        orx_error *err);
orx_status orx_audit_each(const char *path, orx_audit_line_fn fn, void *ctx, orx_error *err);

typedef struct orx_audit_verify_params {
    bool        allow_legacy; /* accept records without chain fields before the first chained one */
    const char *anchor;       /* a head hash recorded earlier: some record must have it, or NULL */
} orx_audit_verify_params;
orx_audit_verify_params orx_audit_verify_default_params(void);

typedef struct orx_audit_report {
    bool  ok;              /* the chain holds (and the anchor was found, when given) */
    long  records;         /* records checked before the first break (all of them when ok) */
    long  legacy;          /* records without chain fields that were accepted (allow_legacy) */
    long  broken_line;     /* line of the first broken record (1-based), 0 when ok */
    long  broken_seq;      /* its seq, -1 when it has none */
    long  anchor_line;     /* line whose hash is the anchor, 0 when not found / not asked */
    char  reason[512];     /* what is wrong with the first broken record */
    char  head_sha256[65]; /* SHA-256 of the last good record (keep it elsewhere as an anchor) */
} orx_audit_report;
/* Walk the whole chain. ORX_OK with out->ok false when it is broken (out says where and why);
 * an error status only when the file cannot be read. */
orx_status orx_audit_verify(const char *path, const orx_audit_verify_params *params, orx_audit_report *out,
                            orx_error *err);

/* ============================================================================================
 * Progress bar (stderr, only when stderr is a TTY and not disabled)
 * ========================================================================================== */
typedef struct orx_progress {
    const char *label;     /* shown before the bar */
    uint64_t    total;     /* units of work; 0 = unknown (spinner-style count) */
    uint64_t    done;      /* units finished */
    double      t_start;   /* seconds, orx_now() at start */
    double      t_last;    /* last redraw time */
    bool        enabled;   /* false when stderr is not a TTY or ORX_NO_PROGRESS is set */
} orx_progress;
void orx_progress_start(orx_progress *p, const char *label, uint64_t total);
void orx_progress_update(orx_progress *p, uint64_t done);  /* redraws at most ~10 times/s */
void orx_progress_finish(orx_progress *p);

/* Monotonic seconds. */
double orx_now(void);

#endif /* ORX_UTIL_H */
