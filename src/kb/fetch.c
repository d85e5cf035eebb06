/*
 * fetch.c — `openrx kb fetch`: read a source's release index (openFDA download.json, DailyMed's
 * release file list), download every file of the release with libcurl (resumable with Range via
 * orx_download; a server that ignores Range restarts the file), check each file (MD5 where the
 * index gives one, size where it states one, every zip entry's CRC-32), retry with exponential
 * backoff, rename into place only when checked, and write dir/manifest.json (atomic) naming what
 * was fetched, from where and when.
 */
#define _GNU_SOURCE 1
#include "kb/fetch.h"
#include "catalog/catalog.h" /* orx_download: resumable, atomic single-file download */
#include "util/util.h"
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OPENFDA_INDEX "https://api.fda.gov/download.json"
#define DAILYMED_INDEX "https://dailymed.nlm.nih.gov/dailymed/spl-resources-all-drug-labels.cfm"
#define MAX_INDEX (64u << 20) /* index documents held in memory */

orx_kb_fetch_params orx_kb_fetch_default_params(void) {
    orx_kb_fetch_params p = {.source = ORX_KB_SOURCE_OPENFDA, .release = ORX_KB_RELEASE_FULL,
                             .sets = "human_rx", .retries = 4, .backoff_s = 2.0, .progress = true};
    return p;
}

void orx_kb_release_clear(orx_kb_release *r) {
    if (!r) return;
    free(r->files);
    memset(r, 0, sizeof *r);
}

static orx_kb_release_file *add_file(orx_kb_release *r) {
    orx_kb_release_file *nf = realloc(r->files, (r->n_files + 1) * sizeof *nf);
    if (!nf) return NULL;
    r->files = nf;
    orx_kb_release_file *f = &nf[r->n_files++];
    memset(f, 0, sizeof *f);
    f->records = -1;
    return f;
}

static void name_of_url(const char *url, char *out, size_t cap) {
    const char *q = strpbrk(url, "?#");
    size_t n = q ? (size_t)(q - url) : strlen(url);
    const char *s = url;
    for (size_t i = 0; i < n; i++)
        if (url[i] == '/') s = url + i + 1;
    snprintf(out, cap, "%.*s", (int)(n - (size_t)(s - url)), s);
}

/* a file name we are willing to create in the download directory */
static bool safe_name(const char *n) {
    if (!n[0] || n[0] == '.' || strlen(n) > 200) return false;
    for (const char *p = n; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')) return false;
    return true;
}

/* ============================================================================================
 * openFDA download.json
 * ========================================================================================== */
orx_status orx_kb_parse_openfda_index(const char *json, size_t len, orx_kb_release *out,
                                      orx_error *err) {
    memset(out, 0, sizeof *out);
    out->source = ORX_KB_SOURCE_OPENFDA;
    out->kind = ORX_KB_RELEASE_FULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return orx_fail(err, ORX_ERR_PARSE, "download.json:%d:%d: %s", je.line, je.column, je.text);
    json_t *label = json_object_get(json_object_get(json_object_get(root, "results"), "drug"), "label");
    json_t *parts = json_object_get(label, "partitions");
    orx_status st = ORX_OK;
    if (!json_is_array(parts) || !json_array_size(parts)) {
        st = orx_fail(err, ORX_ERR_INVALID,
                      "download.json: no results.drug.label.partitions array (not openFDA's index?)");
        goto done;
    }
    const char *date = json_string_value(json_object_get(label, "export_date"));
    snprintf(out->date, sizeof out->date, "%s", date ? date : "");
    for (size_t i = 0; i < json_array_size(parts); i++) {
        json_t *p = json_array_get(parts, i);
        const char *url = json_string_value(json_object_get(p, "file"));
        if (!url || (!orx_str_starts_with(url, "http://") && !orx_str_starts_with(url, "https://"))) {
            st = orx_fail(err, ORX_ERR_INVALID, "download.json: partition %zu has no http(s) \"file\" URL", i);
            goto done;
        }
        orx_kb_release_file *f = add_file(out);
        if (!f) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto done; }
        snprintf(f->url, sizeof f->url, "%s", url);
        name_of_url(url, f->name, sizeof f->name);
        if (!safe_name(f->name)) {
            st = orx_fail(err, ORX_ERR_INVALID, "download.json: partition %zu: unusable file name in %s", i, url);
            goto done;
        }
        json_t *mb = json_object_get(p, "size_mb");
        f->size_mb = json_is_string(mb) ? atof(json_string_value(mb)) : json_is_number(mb) ? json_number_value(mb) : 0;
        json_t *rec = json_object_get(p, "records");
        if (json_is_integer(rec)) f->records = json_integer_value(rec);
    }
done:
    json_decref(root);
    if (st != ORX_OK) orx_kb_release_clear(out);
    return st;
}

/* ============================================================================================
 * DailyMed release file list
 * ========================================================================================== */
typedef struct idx_link { size_t at; char url[1024]; } idx_link; /* a link and the offset just past it */

static bool is_hex32(const char *s) {
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return !isxdigit((unsigned char)s[32]) && (s[-1] == 0 || !isxdigit((unsigned char)s[-1]));
}

/* "dm_spl_weekly_update_021626_022026.zip" → 2026-02-20 (the last date in the name); month names
 * ("jan2026") and 8-digit groups (MMDDYYYY or YYYYMMDD) are understood. */
static void date_of_name(const char *name, char out[16]) {
    static const char *MON[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    out[0] = 0;
    for (const char *p = name; *p; p++) {
        if (isdigit((unsigned char)*p) && (p == name || !isdigit((unsigned char)p[-1]))) {
            size_t n = strspn(p, "0123456789");
            int a, b, c;
            if (n == 6 && sscanf(p, "%2d%2d%2d", &a, &b, &c) == 3 && a >= 1 && a <= 12)
                snprintf(out, 16, "20%02d-%02d-%02d", c, a, b);
            else if (n == 8 && sscanf(p, "%4d%2d%2d", &a, &b, &c) == 3 && a >= 1990 && b >= 1 && b <= 12)
                snprintf(out, 16, "%04d-%02d-%02d", a, b, c);
            else if (n == 8 && sscanf(p, "%2d%2d%4d", &a, &b, &c) == 3 && a >= 1 && a <= 12)
                snprintf(out, 16, "%04d-%02d-%02d", c, a, b);
        }
        for (int m = 0; m < 12; m++)
            if (!strncasecmp(p, MON[m], 3) && isdigit((unsigned char)p[3]) && strspn(p + 3, "0123456789") == 4)
                snprintf(out, 16, "%.4s-%02d-01", p + 3, m + 1);
    }
}

static void resolve_url(const char *base, const char *href, char *out, size_t cap) {
    if (strstr(href, "://")) { snprintf(out, cap, "%s", href); return; }
    if (href[0] == '/' && href[1] == '/') { snprintf(out, cap, "https:%s", href); return; }
    const char *scheme_end = strstr(base, "://");
    size_t host_end = scheme_end ? (size_t)(strchr(scheme_end + 3, '/') ? strchr(scheme_end + 3, '/') - base
                                                                          : (long)strlen(base))
                                 : 0;
    if (href[0] == '/') { snprintf(out, cap, "%.*s%s", (int)host_end, base, href); return; }
    const char *slash = strrchr(base, '/');
    size_t dir = slash && (size_t)(slash - base) >= host_end ? (size_t)(slash - base) + 1 : strlen(base);
    snprintf(out, cap, "%.*s%s%s", (int)dir, base, (slash && (size_t)(slash - base) >= host_end) ? "" : "/", href);
}

/* every dm_spl_*.zip reference in the text (href values and bare URLs), in order, de-duplicated */
static size_t find_links(const char *text, size_t len, const char *base, idx_link **out) {
    idx_link *v = NULL;
    size_t n = 0;
    for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), "dm_spl_", 7));) {
        const char *e = p;
        while ((size_t)(e - text) < len && (isalnum((unsigned char)*e) || *e == '_' || *e == '-' || *e == '.')) e++;
        if (e - p < 12 || strncasecmp(e - 4, ".zip", 4)) { p = e; continue; }
        /* extend back over the URL that ends in this name */
        const char *s = p;
        while (s > text && !strchr("\"' <>()\n\r\t=", s[-1])) s--;
        char href[1024];
        snprintf(href, sizeof href, "%.*s", (int)(e - s), s);
        idx_link *nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv) break;
        v = nv;
        v[n].at = (size_t)(e - text);
        resolve_url(base, href, v[n].url, sizeof v[n].url);
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) dup = !strcmp(v[i].url, v[n].url);
        if (!dup) n++;
        p = e;
    }
    *out = v;
    return n;
}

static bool wanted_full(const char *name, const char *sets) {
    if (strncmp(name, "dm_spl_release_", 15)) return false;
    const char *rest = name + 15;
    for (const char *s = sets && *sets ? sets : "human_rx"; *s;) {
        size_t l = strcspn(s, ",");
        if (l && !strncmp(rest, s, l) && (rest[l] == '.' || !strncmp(rest + l, "_part", 5))) return true;
        s += l + (s[l] == ',');
    }
    return false;
}

static const char *kind_prefix(orx_kb_release_kind k) {
    return k == ORX_KB_RELEASE_WEEKLY ? "dm_spl_weekly_update_" : k == ORX_KB_RELEASE_MONTHLY ? "dm_spl_monthly_update_"
                                                                                              : "dm_spl_daily_update_";
}

orx_status orx_kb_parse_dailymed_index(const char *text, size_t len, const char *base_url,
                                       orx_kb_release_kind kind, const char *sets,
                                       orx_kb_release *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    out->source = ORX_KB_SOURCE_DAILYMED;
    out->kind = kind;
    idx_link *l = NULL;
    size_t n = find_links(text, len, base_url ? base_url : "", &l);
    char best[16] = "";
    long best_i = -1;
    orx_status st = ORX_OK;
    for (size_t i = 0; i < n && st == ORX_OK; i++) {
        char name[256];
        name_of_url(l[i].url, name, sizeof name);
        if (!safe_name(name)) continue;
        if (kind == ORX_KB_RELEASE_FULL) {
            if (!wanted_full(name, sets)) continue;
        } else {
            char d[16];
            if (strncmp(name, kind_prefix(kind), strlen(kind_prefix(kind)))) continue;
            date_of_name(name + strlen(kind_prefix(kind)), d);
            if (best_i < 0 || strcmp(d, best) > 0) { best_i = (long)i; snprintf(best, sizeof best, "%s", d); }
            continue;
        }
        orx_kb_release_file *f = add_file(out);
        if (!f) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); break; }
        snprintf(f->url, sizeof f->url, "%s", l[i].url);
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    if (st == ORX_OK && kind != ORX_KB_RELEASE_FULL && best_i >= 0) {
        orx_kb_release_file *f = add_file(out);
        if (!f) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        else {
            snprintf(f->url, sizeof f->url, "%s", l[best_i].url);
            name_of_url(f->url, f->name, sizeof f->name);
            snprintf(out->date, sizeof out->date, "%s", best);
        }
    }
    /* the MD5 printed after a link (before the next link) is that file's checksum */
    for (size_t i = 0; st == ORX_OK && i < out->n_files; i++) {
        for (size_t j = 0; j < n; j++) {
            if (strcmp(l[j].url, out->files[i].url)) continue;
            size_t end = j + 1 < n ? l[j + 1].at - strlen(l[j + 1].url) : len;
            for (size_t k = l[j].at; k + 32 <= end && k + 32 <= len; k++)
                if (isxdigit((unsigned char)text[k]) && is_hex32(text + k)) {
                    for (int c = 0; c < 32; c++) out->files[i].md5[c] = (char)tolower((unsigned char)text[k + c]);
                    break;
                }
            break;
        }
    }
    free(l);
    if (st == ORX_OK && !out->n_files)
        st = orx_fail(err, ORX_ERR_NOT_FOUND, "DailyMed index lists no %s files%s%s",
                      kind == ORX_KB_RELEASE_FULL ? "full-release" : kind_prefix(kind),
                      kind == ORX_KB_RELEASE_FULL ? " for sets " : "",
                      kind == ORX_KB_RELEASE_FULL ? (sets && *sets ? sets : "human_rx") : "");
    if (st != ORX_OK) orx_kb_release_clear(out);
    return st;
}

/* ============================================================================================
 * Index download (small, into memory)
 * ========================================================================================== */
typedef struct membuf {
    orx_buf b;       /* body so far */
    bool    too_big; /* over MAX_INDEX: transfer stopped */
} membuf;

static size_t on_mem(char *p, size_t size, size_t n, void *ud) {
    membuf *m = ud;
    if (m->b.len + size * n > MAX_INDEX) { m->too_big = true; return 0; }
    return orx_buf_append(&m->b, p, size * n) ? size * n : 0;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* GET url into *out (NUL-terminated); transport errors and HTTP 5xx/429 are retried. */
static orx_status http_get(const orx_kb_fetch_params *p, const char *url, char **out, size_t *len,
                           int *retries_used, orx_error *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    orx_status st = ORX_OK;
    for (int attempt = 0;; attempt++) {
        membuf m = {.too_big = false};
        orx_buf_init(&m.b);
        char eb[CURL_ERROR_SIZE] = {0};
        CURL *c = curl_easy_init();
        if (!c) return orx_fail(err, ORX_ERR_NOMEM, "cannot create a libcurl handle");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "openrx/" ORX_VERSION);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_mem);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        bool transient = rc != CURLE_OK || code == 429 || code >= 500;
        if (m.too_big) st = orx_fail(err, ORX_ERR_RANGE, "%s: index larger than %u bytes", url, MAX_INDEX);
        else if (rc != CURLE_OK) st = orx_fail(err, ORX_ERR_NETWORK, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(rc));
        else if (code != 200) st = orx_fail(err, code == 404 ? ORX_ERR_NOT_FOUND : ORX_ERR_NETWORK, "%s: HTTP %ld", url, code);
        else st = ORX_OK;
        if (st == ORX_OK) {
            *len = m.b.len;
            *out = m.b.data ? orx_buf_steal(&m.b) : calloc(1, 1);
            return *out ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        }
        orx_buf_clear(&m.b);
        if (!transient || m.too_big || attempt >= p->retries) return st;
        (*retries_used)++;
        sleep_s(p->backoff_s * (double)(1 << attempt));
    }
}

/* ============================================================================================
 * Checking a downloaded file
 * ========================================================================================== */
static orx_status md5_file(const char *path, char out[33], orx_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return orx_fail(err, ORX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    bool ok = c && EVP_DigestInit_ex(c, EVP_md5(), NULL);
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(c, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    fclose(f);
    if (!ok) return orx_fail(err, ORX_ERR_IO, "%s: cannot compute MD5", path);
    for (unsigned i = 0; i < mdlen; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return ORX_OK;
}

static uint64_t size_of(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Every entry of the zip read through (libarchive checks each entry's CRC-32); a truncated or
 * corrupted archive fails here. */
static orx_status check_zip(const char *path, orx_error *err) {
    struct archive *a = archive_read_new();
    if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    archive_read_support_format_zip(a);
    orx_status st = ORX_OK;
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        st = orx_fail(err, ORX_ERR_INVALID, "%s: not a zip: %s", path, archive_error_string(a));
    } else {
        struct archive_entry *e;
        char buf[1 << 16];
        int rc, n_entries = 0;
        while (st == ORX_OK && (rc = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
            if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
                st = orx_fail(err, ORX_ERR_INVALID, "%s: damaged zip: %s", path, archive_error_string(a));
                break;
            }
            n_entries++;
            la_ssize_t r;
            while ((r = archive_read_data(a, buf, sizeof buf)) > 0) {}
            if (r < 0) st = orx_fail(err, ORX_ERR_INVALID, "%s: damaged zip entry %s: %s", path,
                                     archive_entry_pathname(e), archive_error_string(a));
        }
        if (st == ORX_OK && !n_entries) st = orx_fail(err, ORX_ERR_INVALID, "%s: empty zip", path);
    }
    archive_read_free(a);
    return st;
}

/* size stated by the index: exact bytes, or openFDA's size_mb (two decimals; MB or MiB) */
static orx_status check_size(const orx_kb_release_file *f, const char *path, orx_error *err) {
    uint64_t have = size_of(path);
    if (f->size && have != f->size)
        return orx_fail(err, ORX_ERR_INVALID, "%s: %llu bytes, the index says %llu", path,
                        (unsigned long long)have, (unsigned long long)f->size);
    if (f->size_mb > 0) {
        double lo = f->size_mb * 1e6 - 0.01e6 * 1.05, hi = f->size_mb * 1048576.0 + 0.01 * 1048576.0;
        if ((double)have < lo * 0.999 || (double)have > hi * 1.001)
            return orx_fail(err, ORX_ERR_INVALID, "%s: %llu bytes, the index says %.2f MB", path,
                            (unsigned long long)have, f->size_mb);
    }
    return ORX_OK;
}

static orx_status check_file(const orx_kb_release_file *f, const char *path, char sha[65], orx_error *err) {
    orx_status st = check_size(f, path, err);
    if (st == ORX_OK && f->md5[0]) {
        char md5[33];
        st = md5_file(path, md5, err);
        if (st == ORX_OK && strcasecmp(md5, f->md5))
            st = orx_fail(err, ORX_ERR_INVALID, "%s: MD5 mismatch: the index says %s, the file has %s", path,
                          f->md5, md5);
    }
    if (st == ORX_OK) st = check_zip(path, err);
    if (st == ORX_OK && sha) st = orx_sha256_file_hex(path, sha, err);
    return st;
}

/* ============================================================================================
 * Manifest
 * ========================================================================================== */
static const char *source_name(orx_kb_source_kind s) { return s == ORX_KB_SOURCE_DAILYMED ? "dailymed" : "openfda"; }
static const char *kind_name(orx_kb_release_kind k) {
    return k == ORX_KB_RELEASE_WEEKLY ? "weekly" : k == ORX_KB_RELEASE_MONTHLY ? "monthly"
                                       : k == ORX_KB_RELEASE_DAILY ? "daily" : "full";
}


/* the previous manifest's entry for name when it describes the same release */
static json_t *old_entry(json_t *old, const orx_kb_release *r, const char *name) {
    if (!old) return NULL;
    const char *d = json_string_value(json_object_get(old, "release_date"));
    const char *s = json_string_value(json_object_get(old, "source"));
    const char *k = json_string_value(json_object_get(old, "kind"));
    if (!d || strcmp(d, r->date) || !s || strcmp(s, source_name(r->source)) || !k || strcmp(k, kind_name(r->kind)))
        return NULL;
    json_t *files = json_object_get(old, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        json_t *f = json_array_get(files, i);
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && !strcmp(n, name)) return f;
    }
    return NULL;
}

static json_t *load_manifest(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    return orx_file_exists(path) ? json_load_file(path, 0, NULL) : NULL;
}

/* ============================================================================================
 * One file: download, check, rename
 * ========================================================================================== */
typedef struct fetch_run {
    const orx_kb_fetch_params *p;     /* parameters */
    orx_kb_fetch_stats        *stats; /* totals */
    json_t                    *old;   /* previous manifest or NULL */
    json_t                    *files; /* new manifest's files array */
    const orx_kb_release      *rel;   /* the release */
} fetch_run;

static void fnote(const orx_kb_fetch_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fnote(const orx_kb_fetch_params *p, const char *fmt, ...) {
    if (!p->note) return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->note(p->note_ctx, msg);
}

static orx_status download_checked(fetch_run *fr, const orx_kb_release_file *f, const char *final,
                                   char sha[65], bool *resumed, orx_error *err) {
    const orx_kb_fetch_params *p = fr->p;
    char incoming[4200], part[4300];
    snprintf(incoming, sizeof incoming, "%s/.%s.incoming", p->dir, f->name);
    snprintf(part, sizeof part, "%s.part", incoming);
    orx_status st = ORX_OK;
    for (int attempt = 0;; attempt++) {
        orx_download_params dp = orx_download_default_params();
        dp.url = f->url;
        dp.dest_path = incoming;
        dp.progress = p->progress;
        orx_download_result dr;
        orx_error e2 = ORX_ERROR_INIT;
        st = orx_download(&dp, &dr, &e2);
        if (dr.resumed_from) *resumed = true;
        if (st == ORX_OK) {
            st = check_file(f, incoming, sha, &e2);
            if (st != ORX_OK) unlink(incoming); /* complete but wrong: start over */
        }
        if (st == ORX_OK) break;
        bool retry = (st == ORX_ERR_NETWORK || st == ORX_ERR_INVALID) && attempt < p->retries;
        fnote(p, "%s: %s%s", f->name, e2.msg, retry ? " (retrying)" : "");
        if (!retry) {
            orx_fail(err, st, "%s", e2.msg);
            return st;
        }
        fr->stats->retries++;
        sleep_s(p->backoff_s * (double)(1 << attempt));
    }
    if (rename(incoming, final) != 0)
        return orx_fail(err, ORX_ERR_IO, "cannot rename %s to %s: %s", incoming, final, strerror(errno));
    return ORX_OK;
}

static orx_status fetch_file(fetch_run *fr, const orx_kb_release_file *f, orx_error *err) {
    const orx_kb_fetch_params *p = fr->p;
    char final[4200], sha[65] = "", when[32];
    snprintf(final, sizeof final, "%s/%s", p->dir, f->name);
    json_t *prev = old_entry(fr->old, fr->rel, f->name);
    const char *prev_sha = json_string_value(json_object_get(prev, "sha256"));
    bool present = false, resumed = false;
    if (orx_file_exists(final)) {
        if (prev && prev_sha && (uint64_t)json_integer_value(json_object_get(prev, "bytes")) == size_of(final)) {
            present = true;
            snprintf(sha, sizeof sha, "%s", prev_sha);
            snprintf(when, sizeof when, "%s", json_string_value(json_object_get(prev, "fetched_at")) ?: "");
        } else {
            fnote(p, "%s: left from another release; downloading this release's file", f->name);
            unlink(final);
        }
    }
    if (!present) {
        orx_status st = download_checked(fr, f, final, sha, &resumed, err);
        if (st != ORX_OK) return st;
        orx_utc_now(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ");
        fr->stats->downloaded++;
    } else {
        fr->stats->present++;
    }
    uint64_t bytes = size_of(final);
    fr->stats->bytes += bytes;
    fnote(p, "%s: %s (%.1f MB%s%s)", f->name, present ? "already here" : resumed ? "downloaded (resumed)" : "downloaded",
          (double)bytes / 1e6, f->md5[0] ? ", MD5 ok" : "", ", zip CRCs ok");
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", f->name, "url", f->url, "bytes", (json_int_t)bytes,
                          "sha256", sha, "fetched_at", when);
    if (f->md5[0]) json_object_set_new(o, "md5", json_string(f->md5));
    if (f->records >= 0) json_object_set_new(o, "records", json_integer(f->records));
    json_array_append_new(fr->files, o);
    return ORX_OK;
}

/* ============================================================================================
 * Fetch a release
 * ========================================================================================== */
static orx_status read_index(const orx_kb_fetch_params *p, const char *url, orx_kb_release *rel,
                             int *retries, orx_error *err) {
    char *text = NULL;
    size_t len = 0;
    orx_status st = http_get(p, url, &text, &len, retries, err);
    if (st != ORX_OK) return st;
    if (p->source == ORX_KB_SOURCE_OPENFDA) st = orx_kb_parse_openfda_index(text, len, rel, err);
    else st = orx_kb_parse_dailymed_index(text, len, url, p->release, p->sets, rel, err);
    free(text);
    if (st == ORX_OK && !rel->date[0]) /* DailyMed full releases carry no date: the fetch date stands in */
        orx_utc_now(rel->date, sizeof rel->date, "%Y-%m-%d");
    return st;
}

/* files the previous manifest listed that this release no longer has (a release with fewer
 * parts): removed, so that `kb build --from dir` reads this release only */
static void drop_superseded(const orx_kb_fetch_params *p, json_t *old, json_t *files) {
    json_t *of = json_object_get(old, "files");
    for (size_t i = 0; i < json_array_size(of); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(of, i), "name"));
        if (!n || !safe_name(n)) continue;
        bool keep = false;
        for (size_t j = 0; j < json_array_size(files) && !keep; j++)
            keep = !strcmp(n, json_string_value(json_object_get(json_array_get(files, j), "name")) ?: "");
        if (keep) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", p->dir, n);
        if (unlink(path) == 0) fnote(p, "%s: not in this release; removed", n);
    }
}

orx_status orx_kb_fetch(const orx_kb_fetch_params *p, orx_kb_fetch_stats *stats, orx_error *err) {
    orx_kb_fetch_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!p || !p->dir || !*p->dir) return orx_fail(err, ORX_ERR_USAGE, "kb fetch: no download directory");
    if (p->source == ORX_KB_SOURCE_OPENFDA && p->release != ORX_KB_RELEASE_FULL)
        return orx_fail(err, ORX_ERR_USAGE, "kb fetch openfda: openFDA publishes whole releases only");
    orx_status st = orx_mkdir_p(p->dir, err);
    if (st != ORX_OK) return st;
    const char *url = p->index_url && *p->index_url ? p->index_url
                      : p->source == ORX_KB_SOURCE_OPENFDA ? OPENFDA_INDEX : DAILYMED_INDEX;
    orx_kb_release rel;
    st = read_index(p, url, &rel, &stats->retries, err);
    if (st != ORX_OK) return st;
    snprintf(stats->release_date, sizeof stats->release_date, "%s", rel.date);
    size_t n = rel.n_files;
    if (p->max_files > 0 && (size_t)p->max_files < n) n = (size_t)p->max_files;
    stats->files = (int)n;
    fnote(p, "%s %s release %s: %zu file%s (index %s)", source_name(rel.source), kind_name(rel.kind), rel.date, n,
          n == 1 ? "" : "s", url);
    fetch_run fr = {.p = p, .stats = stats, .old = load_manifest(p->dir), .files = json_array(), .rel = &rel};
    for (size_t i = 0; st == ORX_OK && i < n; i++) st = fetch_file(&fr, &rel.files[i], err);
    if (st == ORX_OK) {
        char when[32];
        orx_utc_now(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ");
        json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "source", source_name(rel.source), "kind",
                              kind_name(rel.kind), "release_date", rel.date, "index_url", url, "fetched_at", when,
                              "files", fr.files);
        char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        char path[4200];
        snprintf(path, sizeof path, "%s/manifest.json", p->dir);
        st = text ? orx_write_file_atomic(path, text, strlen(text), err) : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        free(text);
        json_decref(m);
    }
    if (st == ORX_OK) drop_superseded(p, fr.old, fr.files);
    json_decref(fr.old);
    json_decref(fr.files);
    orx_kb_release_clear(&rel);
    return st;
}
