/*
 * test_server_limits.c — `openrx serve` against hostile clients, over real loopback sockets:
 *  - a request path with %00, a malformed %-escape or a control byte is 400 (GET /index.html%00.js
 *    does not serve index.html);
 *  - the API key, Content-Length and the route are judged from the headers alone: 401 / 413 /
 *    404 arrive while the body was never sent, and unauthenticated bodies are not buffered;
 *  - slowloris: a client that keeps sending one header byte at a time (so the idle timeout never
 *    fires) is cut at the header deadline; a body that stalls is cut at the body deadline;
 *  - per-address limit: a client at its limit gets no more connections while another address is
 *    served; global limit: above it, /health is still answered and other routes get 503 with
 *    Retry-After;
 *  - many idle connections (more than a thread-per-connection server could hold) do not slow
 *    /health or /v1/check;
 *  - /metrics counts what happened.
 */
#include "srvtest.h"
#include <signal.h>
#include <sys/resource.h>

static orx_checker *g_ck;

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl; /* client and server sockets of test_many_idle_connections share this process */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g_ck = st_checker();
    return g_ck ? 0 : -1;
}
static int teardown(void **state) {
    orx_checker_free(g_ck);
    return 0;
}

static long metric(int port, const char *key, const char *name) {
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", key ? key : "");
    st_reply r = st_http(port, NULL, "GET", "/metrics", key ? hdr : NULL, NULL);
    assert_int_equal(r.status, 200);
    long v = -1;
    for (const char *p = r.body; p && (p = strstr(p, name)); p++)
        if ((p == r.body || p[-1] == '\n') && p[strlen(name)] == ' ') { v = atol(p + strlen(name) + 1); break; }
    st_reply_free(&r);
    return v;
}

/* ============================================================================================
 * Request paths
 * ========================================================================================== */
static void test_bad_paths(void **state) {
    st_server t;
    st_start(&t, orx_server_default_params(), g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    st_reply r = st_http(port, NULL, "GET", "/index.html", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<html"));
    st_reply_free(&r);
    const char *bad[] = {"/index.html%00.js", "/app.js%00", "/index.html%zz", "/index.html%4", "/health%", "/v1/check%0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = st_http(port, NULL, "GET", bad[i], NULL, NULL);
        if (r.status != 400) fprintf(stderr, "%s -> %d\n", bad[i], r.status);
        assert_int_equal(r.status, 400);
        assert_null(r.body && strstr(r.body, "<html") ? r.body : NULL);
        st_reply_free(&r);
    }
    /* a raw control byte in the target: refused by libmicrohttpd or by us, never served */
    int fd = st_connect(port, NULL, 5);
    const char *req = "GET /index.html\x01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    st_send(fd, req, strlen(req));
    r = st_read(fd, st_now());
    close(fd);
    assert_true(r.status == 400 || r.status == 0);
    st_reply_free(&r);
    /* an escaped ordinary character is still the same path */
    r = st_http(port, NULL, "GET", "/%68ealth", NULL, NULL);
    assert_int_equal(r.status, 200);
    st_reply_free(&r);
    assert_true(metric(port, NULL, "openrx_bad_request_path_total") >= (long)(sizeof bad / sizeof bad[0]));
    orx_server_stop(t.srv);
}

/* ============================================================================================
 * Decided from the headers: no body is read or buffered
 * ========================================================================================== */
static void test_early_answers(void **state) {
    orx_server_params p = orx_server_default_params();
    p.api_key = "k-123";
    st_server t;
    st_start(&t, p, g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    struct { const char *head; int want; } cases[] = {
        /* wrong key, a 900 KiB body announced and never sent */
        {"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\n"
         "Content-Length: 921600\r\n\r\n", 401},
        {"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 921600\r\n\r\n", 401},
        /* right key, a body over max_body */
        {"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k-123\r\nContent-Type: application/json\r\n"
         "Content-Length: 5000000\r\n\r\n", 413},
        /* unknown route, wrong method, wrong type: before any body */
        {"POST /v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k-123\r\nContent-Length: 1000\r\n\r\n", 404},
        {"GET /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k-123\r\n\r\n", 405},
        {"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k-123\r\nContent-Type: text/plain\r\n"
         "Content-Length: 1000\r\n\r\n", 415},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = st_connect(port, NULL, 5);
        assert_true(fd >= 0);
        assert_true(st_send(fd, cases[i].head, strlen(cases[i].head)));
        st_reply r = st_read(fd, st_now()); /* the body is never sent: only an early answer ends this */
        close(fd);
        if (r.status != cases[i].want) fprintf(stderr, "case %zu: got %d\n", i, r.status);
        assert_int_equal(r.status, cases[i].want);
        assert_true(r.seconds < 4); /* not the 5 s receive timeout: answered from the headers */
        st_reply_free(&r);
    }
    /* the key is still required with a body, and still enough */
    st_reply r = st_http(port, NULL, "POST", "/v1/check", "Authorization: Bearer k-123\r\n", ST_CHECK);
    assert_int_equal(r.status, 200);
    st_reply_free(&r);
    assert_int_equal(metric(port, "k-123", "openrx_rejected_auth_total"), 2);
    orx_server_stop(t.srv);
}

/* ============================================================================================
 * Slowloris: deadlines, not idle timeouts
 * ========================================================================================== */
static void test_header_and_body_deadlines(void **state) {
    orx_server_params p = orx_server_default_params();
    p.header_timeout_s = 1.0;
    p.body_timeout_s = 1.0;
    p.request_timeout_s = 30; /* the idle timeout alone would let both clients below stay */
    st_server t;
    st_start(&t, p, g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    /* one header byte every 200 ms: never idle, never finished */
    int fd = st_connect(port, NULL, 10);
    const char *trickle = "POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    double t0 = st_now();
    bool cut = false;
    for (size_t i = 0; i < strlen(trickle) && !cut; i++) {
        if (!st_send(fd, trickle + i, 1)) { cut = true; break; }
        cut = st_closed_within(fd, 0.2);
    }
    double took = st_now() - t0;
    close(fd);
    assert_true(cut);
    assert_true(took < 5); /* cut near the 1 s header deadline, long before 30 s idle */
    /* headers complete, body stalls half-way */
    fd = st_connect(port, NULL, 10);
    const char *half = "POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: 1000\r\n\r\n{\"patient\":";
    assert_true(st_send(fd, half, strlen(half)));
    assert_true(st_closed_within(fd, 5));
    close(fd);
    /* a kept-alive connection that sends nothing after its first request is closed too */
    fd = st_connect(port, NULL, 10);
    const char *one = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_true(st_send(fd, one, strlen(one)));
    char buf[1024];
    assert_true(recv(fd, buf, sizeof buf, 0) > 0);
    assert_true(st_closed_within(fd, 5));
    close(fd);
    long reaped = metric(port, NULL, "openrx_slow_connections_closed_total");
    if (reaped < 3) fprintf(stderr, "reaped %ld\n", reaped);
    assert_true(reaped >= 3);
    orx_server_stop(t.srv);
}

/* ============================================================================================
 * Connection limits
 * ========================================================================================== */
static void test_per_address_limit(void **state) {
    orx_server_params p = orx_server_default_params();
    p.max_connections_per_ip = 8;
    st_server t;
    st_start(&t, p, g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = st_connect(port, "127.0.0.2", 5);
        assert_true(fds[i] >= 0);
        assert_true(st_send(fds[i], "GET /he", 7)); /* idle, half a request line */
    }
    usleep(200000);
    /* the 9th from the same address is closed at once */
    int extra = st_connect(port, "127.0.0.2", 5);
    assert_true(extra >= 0);
    assert_true(st_closed_within(extra, 2));
    close(extra);
    /* another address is served meanwhile */
    st_reply r = st_http(port, "127.0.0.3", "POST", "/v1/check", NULL, ST_CHECK);
    assert_int_equal(r.status, 200);
    st_reply_free(&r);
    for (int i = 0; i < 8; i++) close(fds[i]);
    orx_server_stop(t.srv);
}

static void test_global_limit(void **state) {
    orx_server_params p = orx_server_default_params();
    p.max_connections = 16;
    p.max_connections_per_ip = 0;
    st_server t;
    st_start(&t, p, g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    int fds[20];
    for (int i = 0; i < 20; i++) {
        fds[i] = st_connect(port, "127.0.0.2", 5);
        assert_true(fds[i] >= 0);
        st_send(fds[i], "GET /", 5);
    }
    usleep(200000);
    /* above the limit: /health answers, with the connection count; an API route is 503 */
    st_reply r = st_http(port, NULL, "GET", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_integer_value(json_object_get(r.json, "connections")) > 16);
    st_reply_free(&r);
    r = st_http(port, NULL, "POST", "/v1/check", NULL, ST_CHECK);
    assert_int_equal(r.status, 503);
    assert_non_null(st_header(&r, "Retry-After"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "connection_limit");
    st_reply_free(&r);
    for (int i = 0; i < 20; i++) close(fds[i]);
    usleep(300000); /* closes are noticed */
    r = st_http(port, NULL, "POST", "/v1/check", NULL, ST_CHECK);
    assert_int_equal(r.status, 200);
    st_reply_free(&r);
    orx_server_stop(t.srv);
}

/* More idle connections than threads could be spared for them: still answered. */
static void test_many_idle_connections(void **state) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1400) {
        print_message("SKIPPED: open-file limit %lu is below the 1,400 this test needs\n", (unsigned long)rl.rlim_cur);
        skip();
    }
    orx_server_params p = orx_server_default_params();
    p.max_connections_per_ip = 0;
    p.http_threads = 2;
    st_server t;
    st_start(&t, p, g_ck, NULL, NULL, NULL);
    int port = orx_server_port(t.srv);
    enum { N = 600 };
    int *fds = malloc(N * sizeof *fds);
    int opened = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = st_connect(port, "127.0.0.2", 5);
        if (fds[i] < 0) break;
        st_send(fds[i], "POST /v1/check HTTP/1.1\r\nHost: x\r\n", 35);
        opened++;
    }
    assert_int_equal(opened, N);
    usleep(200000);
    st_reply r = st_http(port, NULL, "GET", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_integer_value(json_object_get(r.json, "connections")) >= N);
    st_reply_free(&r);
    r = st_http(port, NULL, "POST", "/v1/check", NULL, ST_CHECK);
    assert_int_equal(r.status, 200);
    st_reply_free(&r);
    for (int i = 0; i < opened; i++) close(fds[i]);
    free(fds);
    orx_server_stop(t.srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_early_answers),
        cmocka_unit_test(test_header_and_body_deadlines),
        cmocka_unit_test(test_per_address_limit),
        cmocka_unit_test(test_global_limit),
        cmocka_unit_test(test_many_idle_connections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
