/*
 * download.c — fetch one file over HTTP(S) with libcurl: resume a partial "<dest>.part" with a
 * Range request, progress on stderr, sha256 check, fsync and atomic rename onto <dest>.
 */
#include "catalog/catalog.h"
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

orx_download_params orx_download_default_params(void) {
    orx_download_params p = {0};
    p.progress = true;
    p.connect_timeout_s = 30;
    p.stall_timeout_s = 60;
    return p;
}

/* ============================================================================================
 * Transfer state
 * ========================================================================================== */
typedef struct xfer {
    FILE        *fp;           /* the .part file, opened lazily on the first body byte */
    const char  *part_path;    /* "<dest>.part" */
    uint64_t     offset;       /* bytes already in the .part when the request was sent */
    uint64_t     written;      /* body bytes written by this request */
    long         status;       /* HTTP status of the last response (after redirects) */
    bool         truncate;     /* server ignored Range (200): start the file over */
    int          io_errno;     /* errno of a failed write, 0 when none */
    orx_progress prog;         /* progress bar */
    bool         prog_started; /* prog has been started */
    CURL        *curl;         /* handle, to read the status inside callbacks */
    char         range[48];    /* "N-" Range value when resuming */
    long long    cr_start;     /* first byte of the 206 reply's Content-Range, -1 when none */
    bool         bad_range;    /* a 206 reply started somewhere other than offset */
} xfer;

static bool good_status(long s) { return s == 200 || s == 206; }

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) { /* a new response (redirects repeat this) */
        const char *sp = memchr(buf, ' ', len);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->cr_start = -1;
    } else if (len > 20 && !strncasecmp(buf, "Content-Range: bytes ", 20)) {
        char tmp[64];
        size_t n = len - 20 < sizeof tmp - 1 ? len - 20 : sizeof tmp - 1;
        memcpy(tmp, buf + 20, n);
        tmp[n] = 0;
        x->cr_start = isdigit((unsigned char)tmp[strspn(tmp, " ")]) ? strtoll(tmp, NULL, 10) : -1;
    }
    return len;
}

static bool open_part(xfer *x) {
    if (x->status == 200 && x->offset) x->truncate = true; /* Range ignored: whole body follows */
    x->fp = fopen(x->part_path, x->truncate || !x->offset ? "wb" : "ab");
    if (!x->fp) x->io_errno = errno;
    return x->fp != NULL;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    if (!good_status(x->status)) return len; /* error page: read and drop */
    if (!x->fp && x->status == 206 && x->cr_start != (long long)x->offset) {
        x->bad_range = true; /* appending would corrupt the file */
        return 0;
    }
    if (!x->fp && !open_part(x)) return 0;
    if (fwrite(buf, 1, len, x->fp) != len) {
        x->io_errno = errno ? errno : EIO;
        return 0;
    }
    x->written += len;
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    xfer *x = ud;
    if (!good_status(x->status)) return 0;
    uint64_t base = x->truncate || x->status == 200 ? 0 : x->offset;
    if (!x->prog_started && dltotal > 0) {
        orx_progress_start(&x->prog, "download", base + (uint64_t)dltotal);
        x->prog_started = true;
    }
    if (x->prog_started) orx_progress_update(&x->prog, base + (uint64_t)dlnow);
    return 0;
}

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static void curl_global_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static bool hex_eq(const char *a, const char *b) {
    if (strlen(a) != strlen(b)) return false;
    for (; *a; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return true;
}

static orx_status fsync_path(const char *path, bool dir, orx_error *err) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return orx_fail(err, ORX_ERR_IO, "%s: cannot open for fsync: %s", path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc && !dir) return orx_fail(err, ORX_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    return ORX_OK;
}

/* fsync the .part, rename it onto dest, fsync the directory. */
static orx_status commit(const char *part, const char *dest, orx_error *err) {
    orx_status st = fsync_path(part, false, err);
    if (st) return st;
    if (rename(part, dest))
        return orx_fail(err, ORX_ERR_IO, "cannot rename %s to %s: %s", part, dest, strerror(errno));
    char *d = orx_strdup(dest);
    if (d) {
        fsync_path(dirname(d), true, err);
        free(d);
    }
    return ORX_OK;
}

/* Check the digest of path against want ("" / NULL: just compute it). */
static orx_status verify(const char *path, const char *want, orx_download_result *res, orx_error *err) {
    orx_status st = orx_sha256_file_hex(path, res->sha256, err);
    if (st) return st;
    if (!want || !*want) return ORX_OK;
    if (!hex_eq(res->sha256, want))
        return orx_fail(err, ORX_ERR_INVALID, "%s: sha256 mismatch: expected %s, got %s", path, want, res->sha256);
    res->verified = true;
    return ORX_OK;
}

/* ============================================================================================
 * One request
 * ========================================================================================== */
static CURL *make_handle(const orx_download_params *p, xfer *x, char *errbuf, struct curl_slist **hdrs) {
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "openrx/" ORX_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s > 0 ? p->connect_timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, p->stall_timeout_s > 0 ? p->stall_timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, p->progress ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (x->offset) { /* CURLOPT_RANGE, not RESUME_FROM: a 200 reply (Range ignored) is accepted */
        snprintf(x->range, sizeof x->range, "%llu-", (unsigned long long)x->offset);
        curl_easy_setopt(c, CURLOPT_RANGE, x->range);
    }
    if (p->bearer_token && *p->bearer_token) {
        char h[4200];
        snprintf(h, sizeof h, "Authorization: Bearer %s", p->bearer_token);
        *hdrs = curl_slist_append(NULL, h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    }
    return c;
}

static orx_status transfer_error(const orx_download_params *p, xfer *x, CURLcode rc, const char *errbuf,
                                 orx_error *err) {
    if (x->io_errno)
        return orx_fail(err, ORX_ERR_IO, "%s: write failed: %s", x->part_path, strerror(x->io_errno));
    if (x->bad_range)
        return orx_fail(err, ORX_ERR_NETWORK, "%s: server answered the resume request for byte %llu with a "
                        "different range; delete %s to start over", p->url, (unsigned long long)x->offset,
                        x->part_path);
    if (rc == CURLE_OK && x->status == 404)
        return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: HTTP 404 Not Found", p->url);
    if (rc == CURLE_OK && x->status == 416) return ORX_OK; /* handled by the caller */
    if (rc == CURLE_OK && !good_status(x->status))
        return orx_fail(err, ORX_ERR_NETWORK, "%s: HTTP %ld", p->url, x->status);
    if (rc != CURLE_OK) {
        uint64_t have = file_size(x->part_path);
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (!have) return orx_fail(err, ORX_ERR_NETWORK, "%s: network error: %s", p->url, why);
        return orx_fail(err, ORX_ERR_NETWORK,
                        "%s: network error: %s; %llu bytes kept in %s, rerun the same command to resume",
                        p->url, why, (unsigned long long)have, x->part_path);
    }
    return ORX_OK;
}

static orx_status fetch(const orx_download_params *p, const char *part, orx_download_result *res, orx_error *err) {
    xfer x = {0};
    x.cr_start = -1;
    x.part_path = part;
    x.offset = file_size(part);
    char errbuf[CURL_ERROR_SIZE] = {0};
    struct curl_slist *hdrs = NULL;
    CURL *c = make_handle(p, &x, errbuf, &hdrs);
    if (!c) return orx_fail(err, ORX_ERR_NOMEM, "cannot create a libcurl handle");
    x.curl = c;
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code) x.status = code;
    if (x.fp && fclose(x.fp) && !x.io_errno) x.io_errno = errno;
    if (x.prog_started) orx_progress_finish(&x.prog);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    orx_status st = transfer_error(p, &x, rc, errbuf, err);
    if (st) return st;
    res->resumed_from = x.status == 206 ? x.offset : 0;
    if (x.status == 416 && !x.offset)
        return orx_fail(err, ORX_ERR_NETWORK, "%s: HTTP 416 Range Not Satisfiable", p->url);
    if (!x.fp && x.status == 200 && !x.written) { /* empty body: create the empty file */
        FILE *f = fopen(part, "wb");
        if (!f || fclose(f)) return orx_fail(err, ORX_ERR_IO, "%s: %s", part, strerror(errno));
    }
    return ORX_OK;
}

/* ============================================================================================
 * Public
 * ========================================================================================== */
orx_status orx_download(const orx_download_params *p, orx_download_result *res, orx_error *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    memset(res, 0, sizeof *res);
    if (!p || !p->url || !p->dest_path)
        return orx_fail(err, ORX_ERR_USAGE, "download: url and dest_path are required");
    if (!orx_str_starts_with(p->url, "http://") && !orx_str_starts_with(p->url, "https://"))
        return orx_fail(err, ORX_ERR_USAGE, "%s: only http:// and https:// URLs can be downloaded", p->url);
    pthread_once(&once, curl_global_once);

    if (orx_file_exists(p->dest_path)) { /* done before: verify and report */
        orx_status st = verify(p->dest_path, p->sha256, res, err);
        res->already_present = true;
        res->bytes = file_size(p->dest_path);
        return st;
    }
    char part[4200];
    if (snprintf(part, sizeof part, "%s.part", p->dest_path) >= (int)sizeof part)
        return orx_fail(err, ORX_ERR_RANGE, "%s: path too long", p->dest_path);
    orx_status st = fetch(p, part, res, err);
    if (st) return st;
    st = verify(part, p->sha256, res, err);
    if (st == ORX_ERR_INVALID) { /* complete but wrong: resuming cannot repair it */
        unlink(part);
        orx_error_prefix(err, "partial file removed");
        return st;
    }
    if (st) return st;
    res->bytes = file_size(part);
    return commit(part, p->dest_path, err);
}
