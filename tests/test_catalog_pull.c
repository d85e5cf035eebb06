/*
 * test_catalog_pull.c — `models pull` against a real HTTP server on loopback: a libmicrohttpd
 * daemon in this process on 127.0.0.1 (random port) serves a generated GGUF-like payload with
 * Range support. Covers a full download, resume after a dropped connection, a server that ignores
 * Range, wrong checksum, 404, connection refused, an already-present file, and the licence gate.
 */
#include "testutil.h"
#include "catalog/catalog.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ============================================================================================
 * Payload and server
 * ========================================================================================== */
#define PAYLOAD_SIZE (300u * 1024u + 123u)

static uint8_t  g_payload[PAYLOAD_SIZE]; /* "GGUF", version 3, then LCG bytes */
static char     g_sha[65];               /* sha256 of g_payload */
static uint16_t g_port;                  /* server port */
static struct MHD_Daemon *g_daemon;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int      g_flaky_requests;        /* requests seen on /flaky.gguf */
static long     g_last_range = -1;       /* start offset of the last Range header, -1 if none */
static char     g_dir[256];              /* scratch directory for downloads */

static void make_payload(void) {
    memcpy(g_payload, "GGUF", 4);
    g_payload[4] = 3; /* version 3, little-endian uint32 */
    uint32_t x = 12345;
    for (size_t i = 8; i < PAYLOAD_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        g_payload[i] = (uint8_t)(x >> 16);
    }
    orx_sha256_hex(g_payload, PAYLOAD_SIZE, g_sha);
}

typedef struct dropper { size_t limit; } dropper; /* send `limit` bytes, then break the connection */

static ssize_t drop_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    dropper *d = cls;
    if (pos >= d->limit) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = d->limit - (size_t)pos;
    if (n > max) n = max;
    if (n > 4096) n = 4096;
    memcpy(buf, g_payload + pos, n);
    return (ssize_t)n;
}

static void drop_free(void *cls) { free(cls); }

static enum MHD_Result send_status(struct MHD_Connection *c, unsigned code, const char *body) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* 206 from `start` (or 200 when start is 0 and no Range was asked for). */
static enum MHD_Result send_from(struct MHD_Connection *c, size_t start, bool partial) {
    if (start >= PAYLOAD_SIZE) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%u", PAYLOAD_SIZE);
        MHD_add_response_header(r, "Content-Range", cr);
        enum MHD_Result ret = MHD_queue_response(c, 416, r);
        MHD_destroy_response(r);
        return ret;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(PAYLOAD_SIZE - start, g_payload + start,
                                                             MHD_RESPMEM_PERSISTENT);
    if (partial) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %zu-%u/%u", start, PAYLOAD_SIZE - 1, PAYLOAD_SIZE);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    enum MHD_Result ret = MHD_queue_response(c, partial ? 206 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

static long range_start(struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (!h || strncmp(h, "bytes=", 6)) return -1;
    return strtol(h + 6, NULL, 10);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **state) {
    long start = range_start(c);
    pthread_mutex_lock(&g_mu);
    g_last_range = start;
    int flaky_n = !strcmp(url, "/flaky.gguf") ? g_flaky_requests++ : -1;
    pthread_mutex_unlock(&g_mu);
    if (!strcmp(url, "/model.gguf")) return send_from(c, start > 0 ? (size_t)start : 0, start >= 0);
    if (!strcmp(url, "/norange.gguf")) return send_from(c, 0, false); /* ignores Range */
    if (!strcmp(url, "/badrange.gguf")) return send_from(c, 0, true); /* 206 from the wrong byte */
    if (!strcmp(url, "/flaky.gguf")) {
        if (flaky_n > 0) return send_from(c, start > 0 ? (size_t)start : 0, start >= 0);
        dropper *d = malloc(sizeof *d);
        d->limit = PAYLOAD_SIZE / 2;
        struct MHD_Response *r = MHD_create_response_from_callback(PAYLOAD_SIZE, 4096, drop_reader, d, drop_free);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    return send_status(c, 404, "not found");
}

static int setup(void **state) {
    make_payload();
    setenv("no_proxy", "127.0.0.1,localhost", 1); /* never send loopback traffic to a proxy */
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    setenv("ORX_NO_PROGRESS", "1", 1);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    g_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!g_daemon) return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port) return -1;
    g_port = info->port;
    snprintf(g_dir, sizeof g_dir, "/tmp/orx_pull_test.XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    if (g_daemon) MHD_stop_daemon(g_daemon);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static const char *url_of(const char *path) {
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "http://127.0.0.1:%u%s", g_port, path);
    return buf[k];
}

static const char *dest_of(const char *name) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static long fsize(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static bool same_as_payload(const char *path) {
    char *data = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    if (orx_read_file(path, 0, &data, &len, &err)) return false;
    bool same = len == PAYLOAD_SIZE && !memcmp(data, g_payload, len);
    free(data);
    return same;
}

static orx_download_params params(const char *url, const char *dest, const char *sha) {
    orx_download_params p = orx_download_default_params();
    p.url = url;
    p.dest_path = dest;
    p.sha256 = sha;
    p.progress = false;
    p.connect_timeout_s = 5;
    p.stall_timeout_s = 10;
    return p;
}

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static void test_full_download(void **state) {
    const char *dest = dest_of("full.gguf");
    orx_download_params p = params(url_of("/model.gguf"), dest, g_sha);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_OK);
    assert_true(r.verified);
    assert_int_equal(r.resumed_from, 0);
    assert_int_equal(r.bytes, PAYLOAD_SIZE);
    assert_string_equal(r.sha256, g_sha);
    assert_true(same_as_payload(dest));
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    assert_int_equal(fsize(part), -1); /* renamed away */

    /* Again: already present, verified, nothing fetched. */
    assert_int_equal(orx_download(&p, &r, &err), ORX_OK);
    assert_true(r.already_present);
    assert_true(r.verified);
}

static void test_resume_after_drop(void **state) {
    const char *dest = dest_of("flaky.gguf");
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    orx_download_params p = params(url_of("/flaky.gguf"), dest, g_sha);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;

    /* First try: the server breaks the connection half-way. */
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_NETWORK);
    assert_non_null(strstr(err.msg, "resume"));
    long kept = fsize(part);
    assert_true(kept > 0 && kept < (long)PAYLOAD_SIZE);
    assert_int_equal(fsize(dest), -1);

    /* Second try: a Range request from the kept size; the file completes and verifies. */
    orx_error_clear(&err);
    assert_int_equal(orx_download(&p, &r, &err), ORX_OK);
    assert_int_equal(g_last_range, kept);
    assert_int_equal((long)r.resumed_from, kept);
    assert_true(r.verified);
    assert_true(same_as_payload(dest));
    assert_int_equal(fsize(part), -1);
}

static void test_server_ignores_range(void **state) {
    const char *dest = dest_of("norange.gguf");
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    FILE *f = fopen(part, "wb"); /* a stale partial file with wrong bytes */
    assert_non_null(f);
    fputs("stale bytes that must not survive", f);
    fclose(f);
    orx_download_params p = params(url_of("/norange.gguf"), dest, g_sha);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_OK);
    assert_int_equal(r.resumed_from, 0);
    assert_true(same_as_payload(dest));
}

static void test_server_resumes_wrong_offset(void **state) {
    const char *dest = dest_of("badrange.gguf");
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    FILE *f = fopen(part, "wb");
    assert_non_null(f);
    fwrite(g_payload, 1, 1000, f);
    fclose(f);
    orx_download_params p = params(url_of("/badrange.gguf"), dest, NULL);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_NETWORK);
    assert_non_null(strstr(err.msg, "different range"));
    assert_int_equal(fsize(part), 1000); /* untouched */
    assert_int_equal(fsize(dest), -1);
}

static void test_wrong_checksum(void **state) {
    const char *dest = dest_of("badsum.gguf");
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    orx_download_params p = params(url_of("/model.gguf"), dest, wrong);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "sha256 mismatch"));
    assert_non_null(strstr(err.msg, g_sha)); /* names the digest it got */
    assert_int_equal(fsize(part), -1);       /* complete but wrong: removed */
    assert_int_equal(fsize(dest), -1);
}

static void test_404(void **state) {
    const char *dest = dest_of("missing.gguf");
    char part[1100];
    snprintf(part, sizeof part, "%s.part", dest);
    orx_download_params p = params(url_of("/missing.gguf"), dest, NULL);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "404"));
    assert_int_equal(fsize(part), -1); /* the error page is not saved */
    assert_int_equal(fsize(dest), -1);
}

static void test_connection_refused(void **state) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s); /* nothing listens there now */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x.gguf", ntohs(sa.sin_port));
    orx_download_params p = params(url, dest_of("refused.gguf"), NULL);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_NETWORK);
    assert_non_null(strstr(err.msg, "network error"));
}

static void test_rejects_other_schemes(void **state) {
    orx_download_params p = params("file:///etc/passwd", dest_of("passwd"), NULL);
    orx_download_result r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_download(&p, &r, &err), ORX_ERR_USAGE);
    assert_int_equal(fsize(dest_of("passwd")), -1);
}

/* A catalog whose files point at the loopback server. */
static orx_catalog *local_catalog(void) {
    char text[4096];
    snprintf(text, sizeof text,
             "{\"task_categories\":[{\"id\":\"clinical-qa\",\"label\":\"QA\"}],\"models\":["
             "{\"name\":\"gated\",\"tasks\":[\"clinical-qa\"],\"licence\":\"Test Licence\","
             "\"licence_url\":\"https://example.org/terms\",\"requires_licence_acceptance\":true,"
             "\"openness\":{},\"source\":\"https://example.org/gated\",\"gguf\":[{\"repo\":\"https://example.org/r\","
             "\"files\":[{\"name\":\"g.gguf\",\"quant\":\"Q4_K_M\",\"url\":\"%s\",\"sha256\":\"%s\"}]}]},"
             "{\"name\":\"unknown-terms\",\"tasks\":[\"clinical-qa\"],\"requires_licence_acceptance\":null,"
             "\"openness\":{},\"source\":\"https://example.org/u\",\"gguf\":[]},"
             "{\"name\":\"free\",\"tasks\":[\"clinical-qa\"],\"requires_licence_acceptance\":false,"
             "\"openness\":{},\"source\":\"https://example.org/f\",\"gguf\":[{\"repo\":\"https://huggingface.co/o/r\","
             "\"files\":[{\"name\":\"f-Q8_0.gguf\",\"quant\":\"Q8_0\"}]}]}]}",
             url_of("/model.gguf"), g_sha);
    orx_catalog *cat = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_catalog_load_text(text, strlen(text), "local", &cat, &err), ORX_OK);
    return cat;
}

static void test_licence_gate_then_pull(void **state) {
    orx_catalog *cat = local_catalog();
    orx_pull_plan plan;
    orx_error err = ORX_ERROR_INIT;
    const orx_catalog_model *m = orx_catalog_find(cat, "gated");
    assert_int_equal(orx_catalog_plan_pull(m, NULL, false, &plan, &err), ORX_ERR_USAGE);
    assert_non_null(strstr(err.msg, "https://example.org/terms"));
    assert_non_null(strstr(err.msg, "--accept-licence"));
    assert_string_equal(plan.url, ""); /* nothing planned */

    orx_error_clear(&err);
    assert_int_equal(orx_catalog_plan_pull(m, "q4_k_m", true, &plan, &err), ORX_OK);
    assert_string_equal(plan.url, url_of("/model.gguf"));
    assert_string_equal(plan.filename, "g.gguf");
    assert_string_equal(plan.sha256, g_sha);
    orx_download_params p = params(plan.url, dest_of(plan.filename), plan.sha256);
    orx_download_result r;
    assert_int_equal(orx_download(&p, &r, &err), ORX_OK);
    assert_true(r.verified);

    /* Unknown terms are refused too, naming the model card. */
    m = orx_catalog_find(cat, "unknown-terms");
    assert_int_equal(orx_catalog_plan_pull(m, NULL, false, &plan, &err), ORX_ERR_USAGE);
    assert_non_null(strstr(err.msg, "https://example.org/u"));

    /* Free licence: no gate; the URL is built from the repo; a missing quant lists what exists. */
    m = orx_catalog_find(cat, "free");
    assert_int_equal(orx_catalog_plan_pull(m, "Q8_0", false, &plan, &err), ORX_OK);
    assert_string_equal(plan.url, "https://huggingface.co/o/r/resolve/main/f-Q8_0.gguf");
    assert_string_equal(plan.sha256, "");
    assert_int_equal(orx_catalog_plan_pull(m, "Q4_K_M", false, &plan, &err), ORX_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "Q8_0"));
    orx_catalog_free(cat);
}

/* The CLI end to end: pull by URL into --dir, then a refused pull by name. */
static void test_cli_pull(void **state) {
    const char *bin = orx_test_bin();
    if (!bin) {
        print_message("SKIPPED: ORX_BIN not set\n");
        skip();
    }
    char *out = NULL;
    int rc = orx_test_run(&out, "ORX_NO_PROGRESS=1 '%s' models pull '%s' --dir '%s/cli' --sha256 %s --json 2>&1",
                          bin, url_of("/model.gguf"), g_dir, g_sha);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"verified\":true"));
    free(out);
    char path[1100];
    snprintf(path, sizeof path, "%s/cli/model.gguf", g_dir);
    assert_true(same_as_payload(path));
    rc = orx_test_run(&out, "'%s' models pull '%s' --dir '%s/cli404' 2>&1", bin, url_of("/nothing.gguf"), g_dir);
    assert_int_equal(rc, 2); /* not found → exit 2 */
    assert_non_null(strstr(out, "404"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_download),       cmocka_unit_test(test_resume_after_drop),
        cmocka_unit_test(test_server_ignores_range), cmocka_unit_test(test_server_resumes_wrong_offset),
        cmocka_unit_test(test_wrong_checksum),
        cmocka_unit_test(test_404),                  cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_rejects_other_schemes), cmocka_unit_test(test_licence_gate_then_pull),
        cmocka_unit_test(test_cli_pull),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
