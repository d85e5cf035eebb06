/*
 * test_server_queue.c — requests that need the model, with a real (tiny, random-weight) model on
 * the local engine:
 *  - chat completions run through the queue; /health shows what runs and what waits;
 *  - with the queue full, the next model request is 503 with Retry-After at once, while /v1/check
 *    is still answered;
 *  - a client that disconnects stops its generation (the worker is free long before the
 *    max_tokens it asked for) and so does one still waiting in the queue;
 *  - a request past its deadline is 504 ("deadline_exceeded"), queue wait included;
 *  - a streamed request behind another is told its place in an SSE comment and ends in [DONE];
 *  - drain: new model requests are refused, a running one that outlives the drain timeout is
 *    cancelled with 503, and drain reports it did not finish in time.
 * Greedy decoding of this model never ends by itself, so a request's length is its max_tokens.
 */
#include "srvtest.h"
#include "llm/llm.h"
#include <pthread.h>
#include <signal.h>

static orx_checker *g_ck;
static orx_llm *g_llm;
static char g_model[256];

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    g_ck = st_checker();
    snprintf(g_model, sizeof g_model, "/tmp/orx_srvq_%d.gguf", (int)getpid());
    st_write_model(g_model, 256, 4, 2048);
    orx_local_params lp = orx_local_default_params();
    lp.model_path = g_model;
    lp.n_threads = 1;
    lp.n_ctx = 4096;
    orx_error err = ORX_ERROR_INIT;
    if (orx_llm_local_create(&lp, &g_llm, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    return g_ck ? 0 : -1;
}
static int teardown(void **state) {
    orx_llm_free(g_llm);
    orx_checker_free(g_ck);
    unlink(g_model);
    return 0;
}

static char *chat_body(int max_tokens, bool stream) {
    static char b[256];
    snprintf(b, sizeof b, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":%d,\"temperature\":0%s}",
             max_tokens, stream ? ",\"stream\":true" : "");
    return b;
}

/* Send a chat request and return the socket without reading (the reply comes later). */
static int chat_send(int port, int max_tokens, bool stream) {
    int fd = st_connect(port, NULL, 120);
    assert_true(fd >= 0);
    const char *body = chat_body(max_tokens, stream);
    char head[256];
    snprintf(head, sizeof head, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", strlen(body));
    assert_true(st_send(fd, head, strlen(head)));
    assert_true(st_send(fd, body, strlen(body)));
    return fd;
}

/* /health's queue.waiting and queue.running */
static void queue_state(int port, int *waiting, int *running) {
    st_reply r = st_http(port, NULL, "GET", "/health", NULL, NULL);
    json_t *q = json_object_get(r.json, "queue");
    *waiting = (int)json_integer_value(json_object_get(q, "waiting"));
    *running = (int)json_integer_value(json_object_get(q, "running"));
    st_reply_free(&r);
}

/* Wait (up to 30 s) until /health shows this queue state. */
static bool wait_queue(int port, int waiting, int running) {
    double until = st_now() + 30;
    while (st_now() < until) {
        int w, r;
        queue_state(port, &w, &r);
        if (w == waiting && r == running) return true;
        usleep(20000);
    }
    return false;
}

static long metric(int port, const char *name) {
    st_reply r = st_http(port, NULL, "GET", "/metrics", NULL, NULL);
    long v = -1;
    for (const char *p = r.body; p && (p = strstr(p, name)); p++)
        if ((p == r.body || p[-1] == '\n') && p[strlen(name)] == ' ') { v = atol(p + strlen(name) + 1); break; }
    st_reply_free(&r);
    return v;
}

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static void test_chat_through_queue(void **state) {
    st_server t;
    st_start(&t, orx_server_default_params(), g_ck, g_llm, NULL, NULL);
    int port = orx_server_port(t.srv);
    st_reply r = st_http(port, NULL, "POST", "/v1/chat/completions", NULL, chat_body(8, false));
    assert_int_equal(r.status, 200);
    json_t *u = json_object_get(r.json, "usage");
    assert_int_equal(json_integer_value(json_object_get(u, "completion_tokens")), 8);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(r.json, "choices"), 0), "message"), "role")), "assistant");
    st_reply_free(&r);
    assert_int_equal(metric(port, "openrx_model_requests_total"), 1);
    orx_server_stop(t.srv);
}

static void test_queue_full_and_disconnect(void **state) {
    orx_server_params p = orx_server_default_params();
    p.queue_max = 1;
    st_server t;
    st_start(&t, p, g_ck, g_llm, NULL, NULL);
    int port = orx_server_port(t.srv);
    int a = chat_send(port, 4000, false); /* runs */
    assert_true(wait_queue(port, 0, 1));
    int b = chat_send(port, 4000, false); /* waits */
    assert_true(wait_queue(port, 1, 1));
    double t0 = st_now();
    st_reply c = st_http(port, NULL, "POST", "/v1/chat/completions", NULL, chat_body(4, false));
    assert_int_equal(c.status, 503);
    assert_true(c.seconds < 5);
    const char *ra = st_header(&c, "Retry-After");
    assert_non_null(ra);
    assert_true(atoi(ra) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c.json, "error"), "code")), "queue_full");
    st_reply_free(&c);
    /* other routes do not wait for the model */
    st_reply k = st_http(port, NULL, "POST", "/v1/check", NULL, ST_CHECK);
    assert_int_equal(k.status, 200);
    st_reply_free(&k);
    /* both clients leave: the running generation stops, the waiting one never starts */
    close(b);
    close(a);
    assert_true(wait_queue(port, 0, 0));
    double freed = st_now() - t0;
    assert_int_equal(metric(port, "openrx_model_client_gone_total"), 2);
    assert_int_equal(metric(port, "openrx_rejected_queue_full_total"), 1);
    /* and the model is free for the next one */
    st_reply d = st_http(port, NULL, "POST", "/v1/chat/completions", NULL, chat_body(4, false));
    assert_int_equal(d.status, 200);
    st_reply_free(&d);
    fprintf(stderr, "queue freed %.2f s after the clients left\n", freed);
    orx_server_stop(t.srv);
}

static void test_deadline(void **state) {
    orx_server_params p = orx_server_default_params();
    p.request_deadline_s = 1.0;
    st_server t;
    st_start(&t, p, g_ck, g_llm, NULL, NULL);
    int port = orx_server_port(t.srv);
    st_reply r = st_http(port, NULL, "POST", "/v1/chat/completions", NULL, chat_body(4000, false));
    assert_int_equal(r.status, 504);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "deadline_exceeded");
    st_reply_free(&r);
    assert_int_equal(metric(port, "openrx_model_deadline_exceeded_total"), 1);
    /* streamed: the error arrives as an SSE event, then [DONE] */
    r = st_http(port, NULL, "POST", "/v1/chat/completions", NULL, chat_body(4000, true));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "deadline_exceeded"));
    assert_non_null(strstr(r.body, "data: [DONE]"));
    st_reply_free(&r);
    orx_server_stop(t.srv);
}

static void test_stream_queued(void **state) {
    st_server t;
    st_start(&t, orx_server_default_params(), g_ck, g_llm, NULL, NULL);
    int port = orx_server_port(t.srv);
    int a = chat_send(port, 4000, false);
    assert_true(wait_queue(port, 0, 1));
    int s = chat_send(port, 6, true);
    assert_true(wait_queue(port, 1, 1));
    close(a); /* frees the model */
    st_reply r = st_read(s, st_now());
    close(s);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "text/event-stream"));
    assert_non_null(strstr(r.body, ": queued, 1 request ahead"));
    assert_non_null(strstr(r.body, "\"finish_reason\":\"length\""));
    assert_non_null(strstr(r.body, "data: [DONE]"));
    st_reply_free(&r);
    orx_server_stop(t.srv);
}

typedef struct drain_arg {
    orx_server *srv;   /* server to drain */
    bool        done;  /* drain's result */
} drain_arg;

static void *drain_thread(void *arg) {
    drain_arg *d = arg;
    d->done = orx_server_drain(d->srv, 0.5);
    return NULL;
}

static void test_drain(void **state) {
    st_server t;
    st_start(&t, orx_server_default_params(), g_ck, g_llm, NULL, NULL);
    int port = orx_server_port(t.srv);
    int a = chat_send(port, 4000, false);
    assert_true(wait_queue(port, 0, 1));
    drain_arg d = {t.srv, true};
    pthread_t th;
    pthread_create(&th, NULL, drain_thread, &d);
    st_reply r = st_read(a, st_now()); /* cancelled by the drain */
    close(a);
    pthread_join(th, NULL);
    assert_false(d.done);
    assert_int_equal(r.status, 503);
    st_reply_free(&r);
    orx_server_stop(t.srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_through_queue),
        cmocka_unit_test(test_queue_full_and_disconnect),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_stream_queued),
        cmocka_unit_test(test_drain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
