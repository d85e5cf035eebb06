/*
 * zip.c — label releases read straight out of zip files with libarchive: an openFDA part
 * (drug-label-NNNN-of-MMMM.json.zip, one JSON entry) is streamed through a FILE* over the
 * archive into the openFDA ingester; a DailyMed release or update (a zip of per-label zips, each
 * holding one SPL XML and its images) is read label by label: the small inner zip is held in
 * memory, its XML entry handed to the SPL ingester. Nothing is unpacked to disk.
 */
#define _GNU_SOURCE 1 /* fopencookie */
#include "kb/fetch.h"
#include "util/util.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_INNER_ZIP (512u << 20) /* one nested per-label zip (XML + images) held in memory */
#define MAX_XML_ENTRY (256u << 20) /* one SPL XML document */

/* ============================================================================================
 * Entry stream as a FILE* (for the streaming openFDA ingester)
 * ========================================================================================== */
typedef struct entry_stream {
    struct archive *a;        /* archive positioned at the entry's data */
    const char     *name;     /* for messages */
    char            msg[512]; /* libarchive's error, when a read failed */
} entry_stream;

static ssize_t entry_read(void *cookie, char *buf, size_t size) {
    entry_stream *s = cookie;
    la_ssize_t n = archive_read_data(s->a, buf, size);
    if (n < 0) {
        snprintf(s->msg, sizeof s->msg, "%s", archive_error_string(s->a) ? archive_error_string(s->a) : "read error");
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

static orx_status stream_openfda(struct archive *a, const char *name, orx_kb_doc_fn fn, void *ctx,
                                 orx_error *err) {
    entry_stream s = {.a = a, .name = name};
    cookie_io_functions_t io = {.read = entry_read};
    FILE *f = fopencookie(&s, "r", io);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "%s: cannot open a stream over the zip entry", name);
    orx_status st = orx_kb_ingest_openfda_stream(f, name, fn, ctx, err);
    fclose(f);
    if (s.msg[0] && st != ORX_OK)
        return orx_fail(err, ORX_ERR_IO, "%s: zip data error: %s", name, s.msg);
    return st;
}

/* ============================================================================================
 * Whole entries into memory (bounded)
 * ========================================================================================== */
static orx_status read_entry(struct archive *a, struct archive_entry *e, const char *name, size_t max,
                             char **out, size_t *out_len, orx_error *err) {
    *out = NULL;
    *out_len = 0;
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    if (declared > (int64_t)max)
        return orx_fail(err, ORX_ERR_RANGE, "%s: entry of %lld bytes exceeds the %zu-byte limit", name,
                        (long long)declared, max);
    orx_buf b;
    orx_buf_init(&b);
    if (declared > 0 && !orx_buf_reserve(&b, (size_t)declared + 1))
        return orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", name);
    char chunk[1 << 16];
    for (;;) {
        la_ssize_t n = archive_read_data(a, chunk, sizeof chunk);
        if (n == 0) break;
        if (n < 0) {
            orx_buf_clear(&b);
            return orx_fail(err, ORX_ERR_IO, "%s: zip data error: %s", name,
                            archive_error_string(a) ? archive_error_string(a) : "read error");
        }
        if (b.len + (size_t)n > max) {
            orx_buf_clear(&b);
            return orx_fail(err, ORX_ERR_RANGE, "%s: entry exceeds the %zu-byte limit", name, max);
        }
        if (!orx_buf_append(&b, chunk, (size_t)n)) {
            orx_buf_clear(&b);
            return orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", name);
        }
    }
    *out_len = b.len;
    *out = b.data ? orx_buf_steal(&b) : calloc(1, 1);
    return *out ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "%s: out of memory", name);
}

/* ============================================================================================
 * Walking an archive
 * ========================================================================================== */
static orx_status read_archive(struct archive *a, const char *label, int depth, orx_kb_doc_fn fn,
                               void *ctx, orx_error *err);

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static orx_status open_memory(const char *data, size_t len, struct archive **out, const char *name,
                              orx_error *err) {
    struct archive *a = archive_read_new();
    if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    archive_read_support_format_zip(a);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        orx_status st = orx_fail(err, ORX_ERR_PARSE, "%s: not a readable zip: %s", name,
                                 archive_error_string(a) ? archive_error_string(a) : "?");
        archive_read_free(a);
        return st;
    }
    *out = a;
    return ORX_OK;
}

/* one entry of an archive, by name */
static orx_status read_one(struct archive *a, struct archive_entry *e, const char *name, int depth,
                           orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    if (ends_with_ci(name, ".json")) return stream_openfda(a, name, fn, ctx, err);
    bool xml = ends_with_ci(name, ".xml"), zip = ends_with_ci(name, ".zip");
    if (!xml && !(zip && depth == 0)) return ORX_OK; /* images, nested zips deeper than one level */
    char *data = NULL;
    size_t len = 0;
    orx_status st = read_entry(a, e, name, xml ? MAX_XML_ENTRY : MAX_INNER_ZIP, &data, &len, err);
    if (st != ORX_OK) return st;
    if (xml) {
        st = orx_kb_ingest_spl_buf(data, len, name, fn, ctx, err);
    } else {
        struct archive *inner = NULL;
        st = open_memory(data, len, &inner, name, err);
        if (st == ORX_OK) {
            st = read_archive(inner, name, depth + 1, fn, ctx, err);
            archive_read_free(inner);
        }
    }
    free(data);
    return st;
}

static orx_status read_archive(struct archive *a, const char *label, int depth, orx_kb_doc_fn fn,
                               void *ctx, orx_error *err) {
    struct archive_entry *e;
    orx_status st = ORX_OK;
    for (;;) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return orx_fail(err, ORX_ERR_PARSE, "%s: zip error: %s", label,
                            archive_error_string(a) ? archive_error_string(a) : "bad entry");
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        const char *path = archive_entry_pathname(e);
        if (!path) continue;
        char name[4096];
        snprintf(name, sizeof name, "%s:%s", label, path);
        st = read_one(a, e, name, depth, fn, ctx, err);
        if (st != ORX_OK) return st;
    }
    return st;
}

orx_status orx_kb_ingest_zip(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err) {
    struct archive *a = archive_read_new();
    if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        orx_status st = orx_fail(err, orx_file_exists(path) ? ORX_ERR_PARSE : ORX_ERR_NOT_FOUND,
                                 "%s: cannot open as zip: %s", path,
                                 archive_error_string(a) ? archive_error_string(a) : "?");
        archive_read_free(a);
        return st;
    }
    orx_status st = read_archive(a, path, 0, fn, ctx, err);
    archive_read_free(a);
    return st;
}
