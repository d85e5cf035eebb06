/*
 * test_server.c — `openrx serve` against bad input, over real HTTP on loopback (raw sockets, so
 * headers, bodies and timing are exactly what the test says):
 *  - malformed JSON → 400; wrong Content-Type → 415; 10 MB body → 413; unknown hook → 404;
 *    wrong method → 405; CDS request without context → 400, without prefetch → 412
 *    ("prefetch_missing"); each a JSON {"error":{"message":…}} and the server still answers after;
 *  - a slow client (headers never finished) is disconnected after the connection timeout while
 *    other clients are served;
 *  - binding a non-loopback address without an API key is refused; with a key, every API route
 *    needs "Authorization: Bearer <key>" (401 otherwise), /health and the page's files do not;
 *  - the page (/, /app.js, /app.css) is served with its content types and equals web/;
 *  - /v1/recommend "format":"fhir" and "include_fhir" (the page's "copy as FHIR").
 */
#include "testutil.h"
#include "server/api.h"
#include "server/static.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ============================================================================================
 * Fixture: one server (no key, 2 s timeout) and one with a key, sharing a checker
 * ========================================================================================== */
static orx_checker *g_ck;
static orx_server *g_srv, *g_keyed;
static orx_api g_api, g_api_keyed;
static const char *KEY = "test-key-123";

static orx_server *start(const char *key, double timeout_s, orx_api *api) {
    orx_server_params p = orx_server_default_params();
    p.port = 0;
    p.api_key = key;
    p.request_timeout_s = timeout_s;
    orx_server *s = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_server_start(&p, &s, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return NULL; }
    *api = (orx_api){.srv = s, .checker = g_ck};
    if (orx_api_register(api, &err) != ORX_OK || orx_static_register(s, NULL, &err) != ORX_OK) {
        fprintf(stderr, "%s\n", err.msg);
        orx_server_stop(s);
        return NULL;
    }
    orx_server_set_ready(s, true);
    return s;
}

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_error err = ORX_ERROR_INIT;
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    g_srv = start(NULL, 2, &g_api);
    g_keyed = start(KEY, 30, &g_api_keyed);
    return g_srv && g_keyed ? 0 : -1;
}
static int teardown(void **state) {
    orx_server_stop(g_srv);
    orx_server_stop(g_keyed);
    orx_checker_free(g_ck);
    return 0;
}

/* ============================================================================================
 * A minimal HTTP/1.1 client over a raw socket
 * ========================================================================================== */
static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static bool send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

typedef struct reply {
    int   status;      /* HTTP status, 0 if none */
    char *head;        /* status line + headers (malloc'd) */
    char *body;        /* body (malloc'd) */
    json_t *json;      /* body parsed, or NULL */
} reply;

static void reply_free(reply *r) { free(r->head); free(r->body); json_decref(r->json); memset(r, 0, sizeof *r); }

/* Send method/path with optional headers (each "Name: value\r\n") and body; read to EOF. */
static reply http(orx_server *s, const char *method, const char *path, const char *headers,
                  const char *body, size_t body_len) {
    int fd = connect_to(orx_server_port(s));
    orx_buf req;
    orx_buf_init(&req);
    orx_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method, path, headers ? headers : "");
    if (body) orx_buf_printf(&req, "Content-Length: %zu\r\n", body_len);
    orx_buf_puts(&req, "\r\n");
    bool sent = send_all(fd, req.data, req.len);
    if (sent && body) send_all(fd, body, body_len); /* the server may answer early (413) */
    orx_buf_clear(&req);
    orx_buf in;
    orx_buf_init(&in);
    char chunk[8192];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0) orx_buf_append(&in, chunk, (size_t)n);
    close(fd);
    reply r = {0};
    const char *sep = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
    if (sep) {
        r.head = strndup(in.data, (size_t)(sep - in.data));
        r.body = strdup(sep + 4);
        sscanf(in.data, "HTTP/1.%*d %d", &r.status);
        json_error_t je;
        r.json = json_loads(r.body, 0, &je);
    }
    orx_buf_clear(&in);
    return r;
}

static reply post_json(orx_server *s, const char *path, const char *body) {
    return http(s, "POST", path, "Content-Type: application/json\r\n", body, strlen(body));
}

/* status == want, body is an OpenAI-style JSON error whose message contains `needle` */
static void assert_json_error(reply *r, int want, const char *needle) {
    if (r->status != want) fprintf(stderr, "got %d: %s\n", r->status, r->body ? r->body : "(none)");
    assert_int_equal(r->status, want);
    assert_non_null(r->json);
    const char *msg = json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
    assert_non_null(msg);
    if (needle && !strstr(msg, needle)) fprintf(stderr, "message '%s' lacks '%s'\n", msg, needle);
    if (needle) assert_non_null(strstr(msg, needle));
    assert_non_null(strstr(r->head, "application/json"));
}

/* The server still answers a good request. */
static void assert_alive(orx_server *s) {
    reply r = http(s, "GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    reply_free(&r);
}

static const char *CHECK_OK =
    "{\"patient\": {\"openrx_patient\": 1, \"id\": \"srv-1\", \"birthDate\": \"1950-01-01\", \"sex\": \"female\","
    " \"medications\": [{\"text\": \"warfarin sodium 5 MG Oral Tablet\", \"rxnorm\": \"855332\"}]},"
    " \"drugs\": [\"ibuprofen 400 mg orally every 6 hours\"]}";

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static void test_check_ok(void **state) {
    reply r = post_json(g_srv, "/v1/check", CHECK_OK);
    assert_int_equal(r.status, 200);
    json_t *fs = json_object_get(r.json, "findings");
    assert_true(json_array_size(fs) >= 1);
    bool found = false;
    size_t i;
    json_t *f;
    json_array_foreach(fs, i, f) {
        const char *d = json_string_value(json_object_get(f, "drugs"));
        if (d && strstr(d, "ibuprofen") && strstr(d, "warfarin")) found = true;
    }
    assert_true(found);
    reply_free(&r);
}

static void test_malformed_json(void **state) {
    const char *bodies[] = {"{\"patient\": ", "not json", "", "[1,2", "{\"patient\": {\"openrx_patient\": 1}, \"drugs\": 7}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        reply r = post_json(g_srv, "/v1/check", bodies[i]);
        assert_json_error(&r, 400, NULL);
        reply_free(&r);
    }
    reply r = post_json(g_srv, "/v1/check", "{\"patient\": {\"openrx_patient\": 1,}}");
    assert_json_error(&r, 400, "body:1:"); /* line:column of the JSON error */
    reply_free(&r);
    r = post_json(g_srv, "/cds-services/openrx-order-sign", "{\"hook\": \"order-sign\", ");
    assert_json_error(&r, 400, "invalid JSON");
    reply_free(&r);
    r = post_json(g_srv, "/v1/recommend", "{\"patient\": {\"openrx_patient\": 1}}");
    assert_json_error(&r, 400, "indication");
    reply_free(&r);
    assert_alive(g_srv);
}

static void test_content_type(void **state) {
    const char *bad[] = {"text/plain", "multipart/form-data; boundary=x", "application/xml", "text/html; charset=utf-8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "Content-Type: %s\r\n", bad[i]);
        reply r = http(g_srv, "POST", "/v1/check", h, CHECK_OK, strlen(CHECK_OK));
        assert_json_error(&r, 415, "Content-Type must be application/json");
        reply_free(&r);
    }
    const char *good[] = {"application/json; charset=utf-8", "application/fhir+json", "APPLICATION/JSON"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "Content-Type: %s\r\n", good[i]);
        reply r = http(g_srv, "POST", "/v1/check", h, CHECK_OK, strlen(CHECK_OK));
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    reply r = http(g_srv, "POST", "/v1/check", NULL, CHECK_OK, strlen(CHECK_OK)); /* none given */
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_alive(g_srv);
}

static void test_body_too_big(void **state) {
    size_t n = 10u << 20; /* 10 MiB against the default 1 MiB limit */
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    reply r = http(g_srv, "POST", "/v1/check", "Content-Type: application/json\r\n", big, n);
    assert_json_error(&r, 413, "larger than the 1048576-byte limit");
    reply_free(&r);
    r = http(g_srv, "POST", "/cds-services/openrx-order-select", "Content-Type: application/json\r\n", big, n);
    assert_json_error(&r, 413, NULL);
    reply_free(&r);
    free(big);
    assert_alive(g_srv);
}

static void test_slow_client(void **state) {
    /* headers started but never finished: the 2 s connection timeout closes it */
    int fd = connect_to(orx_server_port(g_srv));
    const char *part = "POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len";
    assert_true(send_all(fd, part, strlen(part)));
    assert_alive(g_srv); /* others are served meanwhile (thread per connection) */
    reply r = post_json(g_srv, "/v1/check", CHECK_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    char buf[256];
    ssize_t got = recv(fd, buf, sizeof buf, 0); /* blocks until the server closes (SO_RCVTIMEO 30 s) */
    int e = errno;
    assert_true(got >= 0 || (e != EAGAIN && e != EWOULDBLOCK)); /* closed, not our 30 s recv timeout */
    close(fd);
    /* a body that stops half-way: also dropped */
    fd = connect_to(orx_server_port(g_srv));
    const char *hdr = "POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"pat";
    assert_true(send_all(fd, hdr, strlen(hdr)));
    got = recv(fd, buf, sizeof buf, 0);
    e = errno;
    assert_true(got >= 0 || (e != EAGAIN && e != EWOULDBLOCK));
    close(fd);
    assert_alive(g_srv);
}

static void test_routes(void **state) {
    reply r = post_json(g_srv, "/cds-services/no-such-hook", "{\"hook\": \"x\", \"context\": {}}");
    assert_json_error(&r, 404, "no route for POST /cds-services/no-such-hook");
    reply_free(&r);
    r = http(g_srv, "GET", "/cds-services/openrx-order-sign", NULL, NULL, 0);
    assert_json_error(&r, 405, "use POST");
    reply_free(&r);
    r = http(g_srv, "GET", "/v1/check", NULL, NULL, 0);
    assert_json_error(&r, 405, NULL);
    reply_free(&r);
    r = http(g_srv, "GET", "/nothing/here", NULL, NULL, 0);
    assert_json_error(&r, 404, NULL);
    reply_free(&r);
    r = http(g_srv, "GET", "/cds-services", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "services")), 2);
    reply_free(&r);
    assert_alive(g_srv);
}

static void test_cds_missing_data(void **state) {
    /* no context at all */
    reply r = post_json(g_srv, "/cds-services/openrx-order-sign", "{\"hook\": \"order-sign\", \"hookInstance\": \"h1\"}");
    assert_json_error(&r, 400, "context");
    reply_free(&r);
    /* a draft order but no prefetch: openrx cannot see the record → 412, never an empty card list */
    const char *no_prefetch =
        "{\"hook\": \"order-sign\", \"hookInstance\": \"h2\", \"context\": {\"userId\": \"Practitioner/1\","
        " \"patientId\": \"p1\", \"draftOrders\": {\"resourceType\": \"Bundle\", \"entry\": [{\"resource\":"
        " {\"resourceType\": \"MedicationRequest\", \"id\": \"d1\", \"status\": \"draft\", \"intent\": \"order\","
        " \"medicationCodeableConcept\": {\"text\": \"ibuprofen 400 MG Oral Tablet\"}}}]}}}";
    r = post_json(g_srv, "/cds-services/openrx-order-sign", no_prefetch);
    assert_json_error(&r, 412, "no prefetch");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "prefetch_missing");
    reply_free(&r);
    /* the same order with the patient's warfarin prefetched → an interaction card */
    const char *with_prefetch =
        "{\"hook\": \"order-sign\", \"hookInstance\": \"h3\", \"context\": {\"userId\": \"Practitioner/1\","
        " \"patientId\": \"p1\", \"draftOrders\": {\"resourceType\": \"Bundle\", \"entry\": [{\"resource\":"
        " {\"resourceType\": \"MedicationRequest\", \"id\": \"d1\", \"status\": \"draft\", \"intent\": \"order\","
        " \"medicationCodeableConcept\": {\"text\": \"ibuprofen 400 MG Oral Tablet\"}}}]}},"
        " \"prefetch\": {\"patient\": {\"resourceType\": \"Patient\", \"id\": \"p1\", \"gender\": \"female\", \"birthDate\": \"1950-01-01\"},"
        " \"medications\": {\"resourceType\": \"Bundle\", \"entry\": [{\"resource\": {\"resourceType\": \"MedicationRequest\","
        " \"id\": \"m1\", \"status\": \"active\", \"intent\": \"order\", \"medicationCodeableConcept\": {\"coding\": [{\"system\":"
        " \"http://www.nlm.nih.gov/research/umls/rxnorm\", \"code\": \"855332\", \"display\": \"warfarin sodium 5 MG Oral Tablet\"}]}}}]}}}";
    r = post_json(g_srv, "/cds-services/openrx-order-sign", with_prefetch);
    assert_int_equal(r.status, 200);
    assert_true(json_array_size(json_object_get(r.json, "cards")) >= 1);
    reply_free(&r);
    assert_alive(g_srv);
}

static void test_nonloopback_needs_key(void **state) {
    orx_server_params p = orx_server_default_params();
    p.port = 0;
    const char *hosts[] = {"0.0.0.0", "::", "192.0.2.1"};
    for (size_t i = 0; i < 3; i++) {
        p.host = hosts[i];
        orx_server *s = NULL;
        orx_error err = ORX_ERROR_INIT;
        assert_int_equal(orx_server_start(&p, &s, &err), ORX_ERR_USAGE);
        assert_null(s);
        assert_non_null(strstr(err.msg, "requires an API key"));
    }
    /* the CLI says the same, with exit code 2 */
    if (orx_test_bin()) {
        char *out = NULL;
        int rc = orx_test_run(&out, "'%s' serve --host 0.0.0.0 --port 0 --audit none 2>&1", orx_test_bin());
        assert_int_equal(rc, 2);
        assert_non_null(strstr(out, "requires an API key"));
        free(out);
    }
}

static void test_bearer_key(void **state) {
    reply r = post_json(g_keyed, "/v1/check", CHECK_OK);
    assert_json_error(&r, 401, "API key");
    reply_free(&r);
    r = http(g_keyed, "POST", "/v1/check", "Content-Type: application/json\r\nAuthorization: Bearer wrong-key-123\r\n", CHECK_OK, strlen(CHECK_OK));
    assert_json_error(&r, 401, NULL);
    reply_free(&r);
    r = http(g_keyed, "POST", "/v1/check", "Content-Type: application/json\r\nAuthorization: Bearer test-key-12\r\n", CHECK_OK, strlen(CHECK_OK));
    assert_json_error(&r, 401, NULL); /* prefix of the key */
    reply_free(&r);
    r = http(g_keyed, "GET", "/cds-services", NULL, NULL, 0);
    assert_json_error(&r, 401, NULL);
    reply_free(&r);
    r = http(g_keyed, "GET", "/v1/models", "Authorization: Basic dGVzdA==\r\n", NULL, 0);
    assert_json_error(&r, 401, NULL);
    reply_free(&r);
    r = http(g_keyed, "POST", "/v1/check", "Content-Type: application/json\r\nAuthorization: Bearer test-key-123\r\n", CHECK_OK, strlen(CHECK_OK));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* the page and /health load without the key (the page asks for it before calling the API) */
    r = http(g_keyed, "GET", "/", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_alive(g_keyed);
}

static void test_static_page(void **state) {
    const char *files[][3] = {{"/", "index.html", "text/html"}, {"/index.html", "index.html", "text/html"},
                              {"/app.js", "app.js", "text/javascript"}, {"/app.css", "app.css", "text/css"}};
    for (int i = 0; i < 4; i++) {
        reply r = http(g_srv, "GET", files[i][0], NULL, NULL, 0);
        assert_int_equal(r.status, 200);
        char ct[64];
        snprintf(ct, sizeof ct, "Content-Type: %s", files[i][2]);
        assert_non_null(strstr(r.head, ct));
        char *disk;
        size_t len;
        orx_error err = ORX_ERROR_INIT;
        assert_int_equal(orx_read_file(orx_test_path("%s/web/%s", orx_test_source_dir(), files[i][1]), 0, &disk, &len, &err), ORX_OK);
        size_t elen;
        const char *emb = orx_static_embedded(files[i][1], &elen);
        assert_non_null(emb);
        assert_int_equal(elen, len); /* the binary embeds the current web/ (rebuild after editing) */
        assert_memory_equal(emb, disk, len);
        assert_string_equal(r.body, disk);
        free(disk);
        reply_free(&r);
    }
    assert_null(orx_static_embedded("secret.txt", NULL));
    reply r = http(g_srv, "POST", "/", "Content-Type: application/json\r\n", "{}", 2);
    assert_json_error(&r, 405, NULL);
    reply_free(&r);
}

/* --web DIR: the files come from DIR, re-read per request; a missing file is a JSON 500 */
static void test_web_dir(void **state) {
    char dir[] = "/tmp/orx-web-XXXXXX";
    assert_non_null(mkdtemp(dir));
    orx_error err = ORX_ERROR_INIT;
    const char *page = "<!doctype html><title>from disk</title>";
    assert_int_equal(orx_write_file_atomic(orx_test_path("%s/index.html", dir), page, strlen(page), &err), ORX_OK);
    orx_server_params p = orx_server_default_params();
    p.port = 0;
    orx_server *s = NULL;
    assert_int_equal(orx_server_start(&p, &s, &err), ORX_OK);
    orx_static st = {.web_dir = dir};
    assert_int_equal(orx_static_register(s, &st, &err), ORX_OK);
    orx_server_set_ready(s, true);
    reply r = http(s, "GET", "/", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, page);
    reply_free(&r);
    r = http(s, "GET", "/app.js", NULL, NULL, 0); /* not in DIR */
    assert_json_error(&r, 500, "app.js");
    reply_free(&r);
    assert_alive(s);
    orx_server_stop(s);
    unlink(orx_test_path("%s/index.html", dir));
    rmdir(dir);
}

static void test_recommend_formats(void **state) {
    const char *base = "{\"patient\": {\"openrx_patient\": 1, \"id\": \"srv-2\", \"birthDate\": \"1950-01-01\", \"sex\": \"female\","
                       " \"medications\": [{\"text\": \"warfarin sodium 5 MG Oral Tablet\", \"rxnorm\": \"855332\"}, {\"text\": \"ibuprofen 200 mg\"}]},"
                       " \"indication\": \"atrial fibrillation\"";
    char body[1024];
    snprintf(body, sizeof body, "%s}", base);
    reply r = post_json(g_srv, "/v1/recommend", body);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "mode")), "evidence");
    assert_null(json_object_get(r.json, "fhir"));
    size_t n_current = json_array_size(json_object_get(r.json, "current_findings"));
    assert_true(n_current >= 1);
    reply_free(&r);
    snprintf(body, sizeof body, "%s, \"format\": \"fhir\"}", base);
    r = post_json(g_srv, "/v1/recommend", body);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "resourceType")), "Bundle");
    assert_int_equal(orx_test_save_fhir("test_server-recommend-format-fhir", r.body, strlen(r.body)), 0);
    /* one DetectedIssue per finding, each implicating the MedicationStatement of the current
     * medicine it is about, in the same Bundle (fullUrl urn:uuid) */
    size_t issues = 0, statements = 0, provenance = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(r.json, "entry"), i, e) {
        json_t *res = json_object_get(e, "resource");
        const char *rt = json_string_value(json_object_get(res, "resourceType"));
        assert_true(orx_str_starts_with(json_string_value(json_object_get(e, "fullUrl")), "urn:uuid:"));
        statements += !strcmp(rt, "MedicationStatement");
        provenance += !strcmp(rt, "Provenance");
        if (strcmp(rt, "DetectedIssue")) continue;
        issues++;
        json_t *impl = json_object_get(res, "implicated");
        assert_true(json_array_size(impl) >= 1);
        const char *ref = json_string_value(json_object_get(json_array_get(impl, 0), "reference"));
        bool found = false;
        size_t k;
        json_t *e2;
        json_array_foreach(json_object_get(r.json, "entry"), k, e2)
            if (!strcmp(json_string_value(json_object_get(e2, "fullUrl")), ref)) found = true;
        assert_true(found);
    }
    assert_int_equal(issues, n_current);
    assert_true(statements >= 1);
    assert_int_equal(provenance, 1);
    reply_free(&r);
    snprintf(body, sizeof body, "%s, \"include_fhir\": true}", base);
    r = post_json(g_srv, "/v1/recommend", body);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "notice")), ORX_DRAFT_NOTICE);
    json_t *f = json_object_get(r.json, "fhir");
    assert_string_equal(json_string_value(json_object_get(f, "resourceType")), "Bundle");
    assert_int_equal(orx_test_save_fhir("test_server-recommend-include-fhir", r.body, strlen(r.body)), 0);
    size_t n_issues = 0;
    json_array_foreach(json_object_get(f, "entry"), i, e)
        n_issues += !strcmp(json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType")), "DetectedIssue");
    assert_int_equal(n_issues, n_current);
    reply_free(&r);
    snprintf(body, sizeof body, "%s, \"format\": \"xml\"}", base);
    r = post_json(g_srv, "/v1/recommend", body);
    assert_json_error(&r, 400, "\"format\" must be");
    reply_free(&r);
    assert_alive(g_srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_ok),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_body_too_big),
        cmocka_unit_test(test_slow_client),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_cds_missing_data),
        cmocka_unit_test(test_nonloopback_needs_key),
        cmocka_unit_test(test_bearer_key),
        cmocka_unit_test(test_static_page),
        cmocka_unit_test(test_recommend_formats),
        cmocka_unit_test(test_web_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
