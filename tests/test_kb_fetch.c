/*
 * test_kb_fetch.c — `kb fetch` against our own HTTP server (libmicrohttpd on 127.0.0.1, random
 * port) serving an openFDA download.json and a DailyMed release page with zip files this test
 * makes: whole downloads, a truncated transfer resumed with Range, a server that ignores Range,
 * a 503 on the index retried, an MD5 mismatch and a size mismatch refused (nothing left in
 * place), a second run that only verifies, a new release replacing files of the same name, the
 * index parsers on their own, and the fetched directory applied with kb update.
 */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "kb/fetch.h"
#include "kb/kb.h"
#include "util/util.h"
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ============================================================================================
 * Served files
 * ========================================================================================== */
enum { NORMAL, FLAKY, NORANGE, FAIL_ONCE };

typedef struct served {
    char     path[128]; /* URL path */
    char    *data;      /* body (owned) */
    size_t   len;       /* bytes */
    int      mode;      /* NORMAL, FLAKY (first reply breaks off halfway), NORANGE, FAIL_ONCE (503) */
    int      requests;  /* requests seen */
    long     last_range;/* start of the last Range header, -1 none */
} served;

static served g_files[16];
static int g_nfiles;
static uint16_t g_port;
static struct MHD_Daemon *g_daemon;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_dir[256];

static served *serve(const char *path, char *data, size_t len, int mode) {
    pthread_mutex_lock(&g_mu);
    served *s = NULL;
    for (int i = 0; i < g_nfiles && !s; i++)
        if (!strcmp(g_files[i].path, path)) s = &g_files[i];
    if (!s) s = &g_files[g_nfiles++];
    free(s->data);
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->data = data;
    s->len = len;
    s->mode = mode;
    s->last_range = -1;
    pthread_mutex_unlock(&g_mu);
    return s;
}

typedef struct dropper { const served *f; size_t limit; } dropper;

static ssize_t drop_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    dropper *d = cls;
    if (pos >= d->limit) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = d->limit - (size_t)pos;
    if (n > max) n = max;
    if (n > 4096) n = 4096;
    memcpy(buf, d->f->data + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body, size_t len,
                             const char *content_range) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (content_range) MHD_add_response_header(r, "Content-Range", content_range);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **state) {
    (void)cls; (void)method; (void)version; (void)upload; (void)upload_size; (void)state;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    long start = h && !strncmp(h, "bytes=", 6) ? strtol(h + 6, NULL, 10) : -1;
    pthread_mutex_lock(&g_mu);
    served *f = NULL;
    for (int i = 0; i < g_nfiles && !f; i++)
        if (!strcmp(g_files[i].path, url)) f = &g_files[i];
    int n = f ? f->requests++ : 0;
    if (f) f->last_range = start;
    pthread_mutex_unlock(&g_mu);
    if (!f) return reply(c, 404, "not found", 9, NULL);
    if (f->mode == FAIL_ONCE && n == 0) return reply(c, 503, "busy", 4, NULL);
    if (f->mode == FLAKY && n == 0) { /* Content-Length of the whole file, connection lost halfway */
        dropper *d = malloc(sizeof *d);
        d->f = f;
        d->limit = f->len / 2;
        struct MHD_Response *r = MHD_create_response_from_callback(f->len, 4096, drop_reader, d, free);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (start > 0 && f->mode != NORANGE) {
        if ((size_t)start >= f->len) return reply(c, 416, "", 0, NULL);
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %ld-%zu/%zu", start, f->len - 1, f->len);
        return reply(c, 206, f->data + start, f->len - (size_t)start, cr);
    }
    return reply(c, 200, f->data, f->len, NULL);
}

static int setup(void **state) {
    (void)state;
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("ORX_NO_PROGRESS", "1", 1);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!g_daemon) return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port) return -1;
    g_port = info->port;
    snprintf(g_dir, sizeof g_dir, "/tmp/orx-test-fetch.XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    if (g_daemon) MHD_stop_daemon(g_daemon);
    for (int i = 0; i < g_nfiles; i++) free(g_files[i].data);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ============================================================================================
 * Fixture files
 * ========================================================================================== */
static const char *url(const char *path) {
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "http://127.0.0.1:%u%s", g_port, path);
    return buf[k];
}

static const char *tp(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* a zip (stored, so its size follows the data) with one entry, in memory */
static char *zip_of(const char *entry, const char *data, size_t len, size_t *out_len) {
    size_t cap = len + 4096;
    char *buf = malloc(cap);
    size_t used = 0;
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=store");
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, entry);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    *out_len = used;
    return buf;
}

/* an openFDA JSON part with n labels whose set ids start at first (about 700 bytes a label) */
static char *openfda_part(int first, int n, const char *version, const char *word) {
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_puts(&b, "{\"meta\": {\"disclaimer\": \"test\"}, \"results\": [\n");
    for (int i = 0; i < n; i++)
        orx_buf_printf(&b, "%s{\"set_id\": \"set-%05d\", \"version\": \"%s\", \"effective_time\": \"20240101\","
                           " \"openfda\": {\"generic_name\": [\"drug%05d\"]},"
                           " \"indications_and_usage\": [\"Drug%05d is indicated for %s number %d. Take it with water"
                           " once a day; reduce the dose in renal impairment (creatinine clearance below 30 mL/min)"
                           " and avoid it in pregnancy. Monitor potassium and blood pressure regularly.\"],"
                           " \"drug_interactions\": [\"Drug%05d raises the levels of warfarin; monitor INR closely when"
                           " starting or stopping it, and watch for bleeding, bruising and dark stools.\"]}\n",
                       i ? "," : "", first + i, version, first + i, first + i, word, first + i, first + i);
    orx_buf_puts(&b, "]}\n");
    return orx_buf_steal(&b);
}

static void md5_hex(const char *data, size_t len, char out[33]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
    for (unsigned i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool file_equals(const char *path, const served *f) {
    char *d = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    if (orx_read_file(path, 1 << 26, &d, &len, &err) != ORX_OK) return false;
    bool eq = len == f->len && !memcmp(d, f->data, len);
    free(d);
    return eq;
}

/* publish an openFDA release: two parts (the second FLAKY) and download.json */
static served *g_part[2];

static void publish_openfda(const char *date, const char *version, const char *word, int mode2, double size_mb_delta) {
    for (int p = 0; p < 2; p++) {
        char *json = openfda_part(p * 200, 200, version, word);
        char entry[64], path[128];
        snprintf(entry, sizeof entry, "drug-label-000%d-of-0002.json", p + 1);
        snprintf(path, sizeof path, "/download/drug/label/%s.zip", entry);
        size_t zl = 0;
        char *z = zip_of(entry, json, strlen(json), &zl);
        free(json);
        g_part[p] = serve(path, z, zl, p == 1 ? mode2 : NORMAL);
    }
    char *idx = NULL;
    assert_true(asprintf(&idx,
                         "{\"meta\": {\"last_updated\": \"%s\"}, \"results\": {\"drug\": {\"event\": {\"partitions\": []},"
                         " \"label\": {\"export_date\": \"%s\", \"total_records\": 400, \"partitions\": ["
                         "{\"display_name\": \"part 1 of 2\", \"file\": \"%s\", \"size_mb\": \"%.2f\", \"records\": 200},"
                         "{\"display_name\": \"part 2 of 2\", \"file\": \"%s\", \"size_mb\": \"%.2f\", \"records\": 200}]}}}}",
                         date, date, url(g_part[0]->path), (double)g_part[0]->len / 1e6 + size_mb_delta,
                         url(g_part[1]->path), (double)g_part[1]->len / 1e6) > 0);
    serve("/download.json", idx, strlen(idx), FAIL_ONCE);
}

static orx_kb_fetch_params fetch_params(orx_kb_source_kind src, const char *index, const char *dir) {
    orx_kb_fetch_params p = orx_kb_fetch_default_params();
    p.source = src;
    p.index_url = index;
    p.dir = dir;
    p.progress = false;
    p.retries = 3;
    p.backoff_s = 0.01;
    return p;
}

/* ============================================================================================
 * openFDA
 * ========================================================================================== */
static void test_openfda_fetch_resume_and_verify(void **state) {
    (void)state;
    publish_openfda("2024-05-01", "1", "zebrafinch fever", FLAKY, 0);
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_OPENFDA, url("/download.json"), tp("ofda"));
    orx_kb_fetch_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.downloaded, 2);
    assert_true(st.retries >= 2); /* the index's 503 and the broken transfer */
    assert_string_equal(st.release_date, "2024-05-01");
    assert_true(g_part[0]->len > 100000); /* big enough that halfway is mid-file */
    assert_int_equal(g_part[1]->last_range, (long)(g_part[1]->len / 2)); /* resumed where it broke */
    assert_true(file_equals(tp("ofda/drug-label-0001-of-0002.json.zip"), g_part[0]));
    assert_true(file_equals(tp("ofda/drug-label-0002-of-0002.json.zip"), g_part[1]));
    char *m = NULL;
    size_t ml = 0;
    assert_int_equal(orx_read_file(tp("ofda/manifest.json"), 1 << 20, &m, &ml, &err), ORX_OK);
    assert_non_null(strstr(m, "\"release_date\": \"2024-05-01\""));
    assert_non_null(strstr(m, "\"records\": 200"));
    assert_non_null(strstr(m, "\"sha256\": \""));
    free(m);
    /* a second run only verifies */
    int before = g_part[0]->requests;
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_int_equal(st.downloaded, 0);
    assert_int_equal(st.present, 2);
    assert_int_equal(g_part[0]->requests, before);
    /* build from the fetched zips, then apply a newer release of the same file names */
    const char *in[] = {tp("ofda")};
    orx_kb_build_params bp = orx_kb_build_default_params();
    bp.progress = false;
    orx_kb_build_stats bs;
    assert_int_equal(orx_kb_build(tp("ofda.sqlite"), in, 1, &bp, &bs, &err), ORX_OK);
    assert_int_equal(bs.docs, 400);
    publish_openfda("2024-06-12", "2", "narwhal cough", NORMAL, 0);
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_int_equal(st.downloaded, 2); /* same names, another release: downloaded again */
    assert_true(file_equals(tp("ofda/drug-label-0002-of-0002.json.zip"), g_part[1]));
    orx_kb_update_params up = orx_kb_update_default_params();
    up.progress = false;
    orx_kb_update_report r;
    assert_int_equal(orx_kb_update(tp("ofda.sqlite"), in, 1, &up, &r, &err), ORX_OK);
    assert_int_equal(r.replaced, 400);
    assert_string_equal(r.release_date, "2024-06-12");
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(tp("ofda.sqlite"), &kb, &err), ORX_OK);
    orx_kb_results res;
    orx_kb_query q = {.text = "narwhal cough", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q, &res, &err), ORX_OK);
    assert_int_equal(res.n, 3);
    assert_string_equal(res.hits[0].version, "2");
    orx_kb_results_clear(&res);
    orx_kb_free(kb);
}

/* a release with fewer parts: the part it no longer has is removed from the directory */
static void test_openfda_fewer_parts(void **state) {
    (void)state;
    publish_openfda("2024-08-01", "1", "ocelot", NORMAL, 0);
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_OPENFDA, url("/download.json"), tp("ofda-few"));
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_fetch(&p, NULL, &err), ORX_OK);
    assert_true(orx_file_exists(tp("ofda-few/drug-label-0002-of-0002.json.zip")));
    char *idx = NULL;
    assert_true(asprintf(&idx, "{\"results\": {\"drug\": {\"label\": {\"export_date\": \"2024-09-01\", \"partitions\": ["
                               "{\"file\": \"%s\", \"size_mb\": \"%.2f\", \"records\": 200}]}}}}",
                         url(g_part[0]->path), (double)g_part[0]->len / 1e6) > 0);
    serve("/download.json", idx, strlen(idx), NORMAL);
    orx_kb_fetch_stats st;
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_int_equal(st.files, 1);
    assert_false(orx_file_exists(tp("ofda-few/drug-label-0002-of-0002.json.zip")));
    assert_true(orx_file_exists(tp("ofda-few/drug-label-0001-of-0002.json.zip")));
}

static void test_openfda_size_mismatch(void **state) {
    (void)state;
    publish_openfda("2024-07-01", "1", "ocelot", NORMAL, 0.05); /* part 1 stated 50 kB larger than it is */
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_OPENFDA, url("/download.json"), tp("ofda-size"));
    p.retries = 1;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_fetch(&p, NULL, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "the index says"));
    assert_false(orx_file_exists(tp("ofda-size/drug-label-0001-of-0002.json.zip")));
    assert_false(orx_file_exists(tp("ofda-size/manifest.json")));
}

static void test_openfda_index_errors(void **state) {
    (void)state;
    orx_kb_release r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_parse_openfda_index("{\"results\": {\"drug\": ", 21, &r, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "download.json:1:"));
    const char *nolabel = "{\"results\": {\"drug\": {\"event\": {\"partitions\": []}}}}";
    assert_int_equal(orx_kb_parse_openfda_index(nolabel, strlen(nolabel), &r, &err), ORX_ERR_INVALID);
    const char *badurl = "{\"results\": {\"drug\": {\"label\": {\"partitions\": [{\"file\": \"ftp://x/y.zip\"}]}}}}";
    assert_int_equal(orx_kb_parse_openfda_index(badurl, strlen(badurl), &r, &err), ORX_ERR_INVALID);
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_OPENFDA, url("/nothing.json"), tp("ofda-404"));
    assert_int_equal(orx_kb_fetch(&p, NULL, &err), ORX_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "404"));
}

/* ============================================================================================
 * DailyMed
 * ========================================================================================== */
/* a release zip: per-label zips (SPL XML + image) in a folder, as DailyMed publishes them */
static char *dailymed_zip(const char *set_id, const char *version, size_t *len) {
    char *xml = NULL;
    size_t xl = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/tests/fixtures/kb/spl_small.xml", orx_test_source_dir()), 1 << 20,
                                   &xml, &xl, &err), ORX_OK);
    orx_buf b;
    orx_buf_init(&b);
    char *p = strstr(xml, "01b14603-8f29-4fa3-8d7e-9d523f802e0b"), *v = strstr(xml, "<versionNumber value=\"9\"/>");
    assert_true(p && v && p < v);
    orx_buf_append(&b, xml, (size_t)(p - xml));
    orx_buf_puts(&b, set_id);
    orx_buf_append(&b, p + 36, (size_t)(v - p - 36));
    orx_buf_printf(&b, "<versionNumber value=\"%s\"/>", version);
    orx_buf_puts(&b, v + strlen("<versionNumber value=\"9\"/>"));
    size_t il = 0;
    char *inner = zip_of("a1b2c3.xml", b.data, b.len, &il);
    char name[128];
    snprintf(name, sizeof name, "prescription/20240101_%s.zip", set_id);
    char *outer = zip_of(name, inner, il, len);
    free(inner);
    free(xml);
    orx_buf_clear(&b);
    return outer;
}

static served *g_rx, *g_otc, *g_wk_old, *g_wk_new;

static void publish_dailymed(bool bad_md5) {
    size_t l1, l2, l3, l4;
    char *rx = dailymed_zip("aaaaaaaa-0000-4000-8000-000000000001", "3", &l1);
    char *otc = dailymed_zip("aaaaaaaa-0000-4000-8000-000000000002", "1", &l2);
    char *wk1 = dailymed_zip("aaaaaaaa-0000-4000-8000-000000000001", "4", &l3);
    char *wk2 = dailymed_zip("aaaaaaaa-0000-4000-8000-000000000001", "5", &l4);
    char m1[33], m2[33], m3[33], m4[33];
    md5_hex(rx, l1, m1);
    md5_hex(otc, l2, m2);
    md5_hex(wk1, l3, m3);
    md5_hex(wk2, l4, m4);
    if (bad_md5) m1[0] = m1[0] == '0' ? '1' : '0';
    g_rx = serve("/dm/dm_spl_release_human_rx_part1.zip", rx, l1, NORANGE);
    g_otc = serve("/dm/dm_spl_release_human_otc_part1.zip", otc, l2, NORMAL);
    g_wk_old = serve("/dm/dm_spl_weekly_update_010124_010524.zip", wk1, l3, NORMAL);
    g_wk_new = serve("/dm/dm_spl_weekly_update_010824_011224.zip", wk2, l4, NORMAL);
    char *page = NULL;
    assert_true(asprintf(&page,
                         "<html><body><h2>Full releases</h2><table>"
                         "<tr><td><a href=\"/dm/dm_spl_release_human_rx_part1.zip\">HUMAN RX part 1</a></td>"
                         "<td>%zu bytes</td><td>MD5 Checksum: %s</td></tr>"
                         "<tr><td><a href=\"/dm/dm_spl_release_human_otc_part1.zip\">HUMAN OTC part 1</a></td>"
                         "<td>MD5 Checksum: %s</td></tr></table><h2>Weekly</h2>"
                         "<a href='dm/dm_spl_weekly_update_010124_010524.zip'>Jan 1</a> MD5: %s<br>"
                         "<a href=\"%s\">Jan 8</a> MD5: %s</body></html>",
                         l1, m1, m2, m3, url("/dm/dm_spl_weekly_update_010824_011224.zip"), m4) > 0);
    serve("/dailymed/spl-resources.html", page, strlen(page), NORMAL);
}

static void test_dailymed_parse(void **state) {
    (void)state;
    publish_dailymed(false);
    served *page = NULL;
    for (int i = 0; i < g_nfiles; i++)
        if (strstr(g_files[i].path, "spl-resources")) page = &g_files[i];
    assert_non_null(page);
    const char *base = url("/dailymed/spl-resources.html");
    orx_kb_release r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_parse_dailymed_index(page->data, page->len, base, ORX_KB_RELEASE_FULL, "human_rx", &r, &err),
                     ORX_OK);
    assert_int_equal(r.n_files, 1);
    assert_string_equal(r.files[0].name, "dm_spl_release_human_rx_part1.zip");
    assert_string_equal(r.files[0].url, url("/dm/dm_spl_release_human_rx_part1.zip"));
    assert_int_equal(strlen(r.files[0].md5), 32);
    orx_kb_release_clear(&r);
    assert_int_equal(orx_kb_parse_dailymed_index(page->data, page->len, base, ORX_KB_RELEASE_FULL, "human_rx,human_otc",
                                                 &r, &err), ORX_OK);
    assert_int_equal(r.n_files, 2);
    orx_kb_release_clear(&r);
    /* the newest weekly update; a relative link resolves against the page */
    assert_int_equal(orx_kb_parse_dailymed_index(page->data, page->len, base, ORX_KB_RELEASE_WEEKLY, NULL, &r, &err),
                     ORX_OK);
    assert_int_equal(r.n_files, 1);
    assert_string_equal(r.files[0].name, "dm_spl_weekly_update_010824_011224.zip");
    assert_string_equal(r.date, "2024-01-12");
    orx_kb_release_clear(&r);
    assert_int_equal(orx_kb_parse_dailymed_index(page->data, page->len, base, ORX_KB_RELEASE_MONTHLY, NULL, &r, &err),
                     ORX_ERR_NOT_FOUND);
}

static void test_dailymed_norange_md5_and_weekly(void **state) {
    (void)state;
    publish_dailymed(false);
    /* a partial file left by an earlier run: the request asks for the rest, this server ignores
     * Range and sends the whole file, which replaces the partial one */
    mkdir(tp("dm"), 0755);
    FILE *f = fopen(tp("dm/.dm_spl_release_human_rx_part1.zip.incoming.part"), "wb");
    assert_non_null(f);
    fwrite("garbage!", 1, 8, f);
    fclose(f);
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_DAILYMED, url("/dailymed/spl-resources.html"), tp("dm"));
    orx_kb_fetch_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_int_equal(g_rx->last_range, 8);
    assert_true(file_equals(tp("dm/dm_spl_release_human_rx_part1.zip"), g_rx));
    const char *in[] = {tp("dm")};
    orx_kb_build_params bp = orx_kb_build_default_params();
    bp.progress = false;
    assert_int_equal(orx_kb_build(tp("dm.sqlite"), in, 1, &bp, NULL, &err), ORX_OK);
    /* the weekly update raises the label's version */
    p.release = ORX_KB_RELEASE_WEEKLY;
    p.dir = tp("dm-weekly");
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_OK);
    assert_string_equal(st.release_date, "2024-01-12");
    orx_kb_update_params up = orx_kb_update_default_params();
    up.progress = false;
    orx_kb_update_report r;
    const char *win[] = {tp("dm-weekly")};
    assert_int_equal(orx_kb_update(tp("dm.sqlite"), win, 1, &up, &r, &err), ORX_OK);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(r.removed, 0); /* an update removes nothing */
    assert_string_equal(r.kind, "weekly");
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(tp("dm.sqlite"), &kb, &err), ORX_OK);
    orx_kb_results res;
    orx_kb_query q = {.text = "bleeding", .k = 1};
    assert_int_equal(orx_kb_search(kb, &q, &res, &err), ORX_OK);
    assert_int_equal(res.n, 1);
    assert_string_equal(res.hits[0].version, "5");
    orx_kb_results_clear(&res);
    orx_kb_free(kb);
}

static void test_dailymed_md5_mismatch(void **state) {
    (void)state;
    publish_dailymed(true);
    orx_kb_fetch_params p = fetch_params(ORX_KB_SOURCE_DAILYMED, url("/dailymed/spl-resources.html"), tp("dm-bad"));
    p.retries = 1;
    orx_kb_fetch_stats st;
    orx_error err = ORX_ERROR_INIT;
    int before = g_rx->requests;
    assert_int_equal(orx_kb_fetch(&p, &st, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "MD5 mismatch"));
    assert_int_equal(g_rx->requests - before, 2); /* tried again once, from scratch */
    assert_false(orx_file_exists(tp("dm-bad/dm_spl_release_human_rx_part1.zip")));
    assert_false(orx_file_exists(tp("dm-bad/.dm_spl_release_human_rx_part1.zip.incoming")));
    assert_false(orx_file_exists(tp("dm-bad/manifest.json")));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openfda_fetch_resume_and_verify),
        cmocka_unit_test(test_openfda_fewer_parts),
        cmocka_unit_test(test_openfda_size_mismatch),
        cmocka_unit_test(test_openfda_index_errors),
        cmocka_unit_test(test_dailymed_parse),
        cmocka_unit_test(test_dailymed_norange_md5_and_weekly),
        cmocka_unit_test(test_dailymed_md5_mismatch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
