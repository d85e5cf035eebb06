/*
 * audit.c — the tamper-evident audit log: JSON Lines, one record per line, each record carrying
 *
 *     "seq":          its 1-based line number in the file,
 *     "prev_sha256":  the SHA-256 (hex) of the exact bytes of the previous line (without its
 *                     newline); 64 zeros for the first record.
 *
 * Editing, inserting or removing a record breaks the link of the record after it; cutting
 * records off the front breaks the first one. What a chain alone cannot show — the last records
 * cut off or edited, or the whole file rewritten with fresh hashes — is caught by comparing with
 * a head hash kept elsewhere (orx_audit_verify's anchor).
 *
 * Appending: the file is opened O_APPEND and locked (flock, exclusive) so that threads and
 * processes writing the same log take turns; the last line is read back to chain to it; the new
 * record is written with one write() and fsynced before the lock is released.
 */
#define _GNU_SOURCE 1
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char ZERO_HASH[65] = "0000000000000000000000000000000000000000000000000000000000000000";

/* ============================================================================================
 * Appending
 * ========================================================================================== */
/* The last line of fd (bytes after the last-but-one '\n', without the final '\n'): malloc'd.
 * *torn: the file does not end with '\n' (a write was cut off). Empty file: *out NULL. */
static orx_status last_line(int fd, off_t size, char **out, size_t *len, bool *torn, orx_error *err) {
    *out = NULL;
    *len = 0;
    *torn = false;
    if (size == 0) return ORX_OK;
    char c;
    if (pread(fd, &c, 1, size - 1) != 1) return orx_fail(err, ORX_ERR_IO, "cannot read the audit log: %s", strerror(errno));
    *torn = c != '\n';
    off_t end = *torn ? size : size - 1, start = end;
    char block[65536];
    while (start > 0) { /* scan back for the '\n' that ends the line before */
        off_t from = start > (off_t)sizeof block ? start - (off_t)sizeof block : 0;
        ssize_t n = pread(fd, block, (size_t)(start - from), from);
        if (n != start - from) return orx_fail(err, ORX_ERR_IO, "cannot read the audit log: %s", strerror(errno));
        char *nl = memrchr(block, '\n', (size_t)n);
        if (nl) { start = from + (nl - block) + 1; break; }
        start = from;
    }
    size_t n = (size_t)(end - start);
    char *buf = malloc(n + 1);
    if (!buf) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (n && pread(fd, buf, n, start) != (ssize_t)n) {
        free(buf);
        return orx_fail(err, ORX_ERR_IO, "cannot read the audit log: %s", strerror(errno));
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return ORX_OK;
}

/* Lines in the file (for the first chained record after unchained ones). */
static long count_lines(int fd, off_t size) {
    char block[65536];
    long lines = 0;
    off_t off = 0;
    char lastc = '\n';
    while (off < size) {
        ssize_t n = pread(fd, block, sizeof block, off);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) lines += block[i] == '\n';
        lastc = block[n - 1];
        off += n;
    }
    return lines + (size > 0 && lastc != '\n');
}

/* seq of the next record: the previous record's + 1, else the line count + 1. */
static long next_seq(int fd, off_t size, const char *prev, size_t len) {
    if (!prev) return 1;
    json_error_t je;
    json_t *o = json_loadb(prev, len, 0, &je);
    json_t *s = o ? json_object_get(o, "seq") : NULL;
    long seq = json_is_integer(s) && json_integer_value(s) > 0 ? (long)json_integer_value(s) + 1 : 0;
    json_decref(o);
    return seq ? seq : count_lines(fd, size) + 1;
}

orx_status orx_audit_append(const char *path, const char *record, size_t len, orx_error *err) {
    while (len && (record[len - 1] == '\n' || record[len - 1] == ' ')) len--;
    if (len < 2 || record[0] != '{' || record[len - 1] != '}' || memchr(record, '\n', len))
        return orx_fail(err, ORX_ERR_INVALID, "audit record must be one JSON object on one line");
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600); /* the log holds patient data */
    if (fd < 0) return orx_fail(err, ORX_ERR_IO, "%s: cannot open the audit log: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX) != 0) {
        int e = errno;
        close(fd);
        return orx_fail(err, ORX_ERR_IO, "%s: cannot lock the audit log: %s", path, strerror(e));
    }
    orx_status st = ORX_OK;
    struct stat sb;
    char *prev = NULL;
    size_t plen = 0;
    bool torn = false;
    if (fstat(fd, &sb) != 0) st = orx_fail(err, ORX_ERR_IO, "%s: %s", path, strerror(errno));
    if (st == ORX_OK) st = last_line(fd, sb.st_size, &prev, &plen, &torn, err);
    orx_buf b;
    orx_buf_init(&b);
    if (st == ORX_OK) {
        char hash[65];
        if (prev) orx_sha256_hex(prev, plen, hash);
        else memcpy(hash, ZERO_HASH, sizeof hash);
        long seq = next_seq(fd, sb.st_size, prev, plen);
        /* a torn last line (a crash mid-write) stays as it is, a record of its own: verify
         * reports it; the new record starts on a line of its own and chains to it */
        if (torn) orx_buf_puts(&b, "\n");
        orx_buf_printf(&b, "{\"seq\":%ld,\"prev_sha256\":\"%s\"%s", seq, hash, len > 2 ? "," : "");
        orx_buf_append(&b, record + 1, len - 1);
        orx_buf_puts(&b, "\n");
        if (!b.data) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    if (st == ORX_OK) {
        size_t off = 0;
        while (off < b.len) {
            ssize_t w = write(fd, b.data + off, b.len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { st = orx_fail(err, ORX_ERR_IO, "%s: audit append failed: %s", path, strerror(errno)); break; }
            off += (size_t)w;
        }
        if (st == ORX_OK && fsync(fd) != 0) st = orx_fail(err, ORX_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    }
    orx_buf_clear(&b);
    free(prev);
    flock(fd, LOCK_UN);
    close(fd);
    return st;
}

/* ============================================================================================
 * Reading and verifying
 * ========================================================================================== */
typedef struct each_ctx {
    orx_audit_line_fn fn;
    void             *ctx;
} each_ctx;

static orx_status each_record(void *u, long lineno, char *line, size_t n, orx_error *err) {
    const each_ctx *ec = u;
    bool complete = n > 0 && line[n - 1] == '\n';
    if (complete) line[--n] = 0;
    return ec->fn(ec->ctx, lineno, line, n, complete, err);
}

orx_status orx_audit_each(const char *path, orx_audit_line_fn fn, void *ctx, orx_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return orx_fail(err, errno == ENOENT ? ORX_ERR_NOT_FOUND : ORX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    each_ctx ec = {fn, ctx};
    orx_status st = orx_each_line(f, path, 0, false, each_record, &ec, err);
    fclose(f);
    return st;
}

typedef struct verifier {
    orx_audit_verify_params p;     /* options */
    orx_audit_report       *r;     /* result being filled */
    char                    prev[65]; /* SHA-256 of the previous line (zeros before the first) */
    char                    prev2[65]; /* SHA-256 of the line before that */
    bool                    chained;  /* a chained record was seen */
} verifier;

static orx_status broken(verifier *v, long line, long seq, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static orx_status broken(verifier *v, long line, long seq, const char *fmt, ...) {
    v->r->ok = false;
    v->r->broken_line = line;
    v->r->broken_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->r->reason, sizeof v->r->reason, fmt, ap);
    va_end(ap);
    return ORX_ERR_CANCELLED; /* stops the walk at the first broken record */
}

static orx_status verify_line(void *ctx, long lineno, const char *line, size_t len, bool complete, orx_error *err) {
    verifier *v = ctx;
    (void)err;
    if (!complete)
        return broken(v, lineno, -1, "the last record has no end of line: a write was cut off (or the file was cut)");
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return broken(v, lineno, -1, "not a JSON object (column %d: %s)", je.column, je.text);
    }
    json_t *jseq = json_object_get(o, "seq");
    const char *pv = json_string_value(json_object_get(o, "prev_sha256"));
    char prevbuf[72];
    const char *prev = pv ? (snprintf(prevbuf, sizeof prevbuf, "%s", pv), prevbuf) : NULL;
    long seq = json_is_integer(jseq) ? (long)json_integer_value(jseq) : -1;
    json_decref(o);
    orx_status st = ORX_OK;
    if (seq < 0 || !prev) {
        if (v->chained) st = broken(v, lineno, -1, "a record without seq/prev_sha256 among chained records (inserted?)");
        else if (!v->p.allow_legacy)
            st = broken(v, lineno, -1, "no seq/prev_sha256: written before the hash chain, so not protected "
                                       "(--allow-legacy accepts such records before the first chained one)");
        else v->r->legacy++;
    } else if (seq != lineno) {
        st = broken(v, lineno, seq, "seq %ld on line %ld: %s", seq, lineno,
                    seq > lineno ? "records before it were removed" : "records were inserted before it");
    } else if (strcmp(prev, v->prev) != 0) {
        if (lineno == 1) {
            st = broken(v, lineno, seq, "the first record does not start the chain (prev_sha256 is not zeros): "
                                        "records before it were removed");
        } else {
            /* the record before this one no longer hashes to what this one recorded: that one
             * is the first broken record */
            v->r->records--;
            memcpy(v->r->head_sha256, v->prev2, sizeof v->prev2);
            st = broken(v, lineno - 1, lineno - 1, "its SHA-256 is not the prev_sha256 that record %ld recorded: "
                        "record %ld was changed, or records were removed or inserted between them", lineno, lineno - 1);
        }
    } else {
        v->chained = true;
    }
    if (st != ORX_OK) return st;
    memcpy(v->prev2, v->prev, sizeof v->prev);
    orx_sha256_hex(line, len, v->prev);
    v->r->records++;
    memcpy(v->r->head_sha256, v->prev, sizeof v->prev);
    if (v->p.anchor && !strcmp(v->p.anchor, v->prev)) v->r->anchor_line = lineno;
    return ORX_OK;
}

orx_audit_verify_params orx_audit_verify_default_params(void) {
    orx_audit_verify_params p = {.allow_legacy = false, .anchor = NULL};
    return p;
}

orx_status orx_audit_verify(const char *path, const orx_audit_verify_params *params, orx_audit_report *out,
                            orx_error *err) {
    memset(out, 0, sizeof *out);
    out->ok = true;
    verifier v = {.p = params ? *params : orx_audit_verify_default_params(), .r = out};
    memcpy(v.prev, ZERO_HASH, sizeof v.prev);
    memcpy(v.prev2, ZERO_HASH, sizeof v.prev2);
    memcpy(out->head_sha256, ZERO_HASH, sizeof out->head_sha256);
    orx_status st = orx_audit_each(path, verify_line, &v, err);
    if (st == ORX_ERR_CANCELLED && !out->ok) st = ORX_OK; /* broken chain: reported in out */
    if (st != ORX_OK) return st;
    if (out->ok && v.p.anchor && !out->anchor_line) {
        out->ok = false;
        snprintf(out->reason, sizeof out->reason,
                 "no record has the anchor hash %.64s: records up to it were changed or the log was cut", v.p.anchor);
    }
    return ORX_OK;
}
