/*
 * test_llm_http.c — the openai backend (libcurl) against our own server (libmicrohttpd) on
 * loopback, with the local engine behind it: same output as the local backend for the same
 * model and seed, streaming, retries on 429/5xx, timeouts, unreachable server, bad requests.
 * Needs ../shared/models/real/TinyStories-656K-Q8_0.gguf (skipped loudly without it).
 */
#include "testutil.h"
#include "llm/llm.h"
#include "server/server.h"
#include "rx/rx.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *model_path(void) {
    const char *sh = orx_test_shared_dir();
    return sh ? orx_test_path("%s/models/real/TinyStories-656K-Q8_0.gguf", sh) : NULL;
}

typedef struct fixture {
    orx_llm    *local;   /* engine backend behind the server */
    orx_server *srv;
    char        base[128]; /* http://127.0.0.1:PORT/v1 */
} fixture;

static int setup(void **state) {
    static fixture f;
    memset(&f, 0, sizeof f);
    *state = &f;
    if (!model_path()) return 0;
    orx_error err = ORX_ERROR_INIT;
    orx_local_params lp = orx_local_default_params();
    lp.model_path = model_path();
    lp.n_threads = 1;
    if (orx_llm_local_create(&lp, &f.local, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    orx_server_params sp = orx_server_default_params();
    sp.port = 0;
    if (orx_server_start(&sp, &f.srv, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    orx_server_set_llm(f.srv, f.local);
    orx_server_set_ready(f.srv, true);
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%d/v1", orx_server_port(f.srv));
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    orx_server_stop(f->srv);
    orx_llm_free(f->local);
    return 0;
}

static orx_llm *client(const char *base, double timeout, int retries) {
    orx_openai_params p = orx_openai_default_params();
    p.base_url = base;
    p.model = "tinystories";
    p.timeout_s = timeout;
    p.max_retries = retries;
    p.backoff_s = 0.05;
    orx_llm *c = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_openai_create(&p, &c, &err), ORX_OK);
    return c;
}

static orx_llm_request story_request(const orx_llm_msg *m) {
    orx_llm_request r = orx_llm_default_request();
    r.messages = m;
    r.n_messages = 1;
    r.max_tokens = 24;
    r.temperature = 0.8f;
    r.has_seed = true;
    r.seed = 42;
    return r;
}

/* ---- same result over HTTP as in-process, for the same model and seed ---- */
static void test_remote_equals_local(void **state) {
    ORX_REQUIRE_SHARED();
    fixture *f = *state;
    orx_llm_msg m = {"user", "Once upon a time"};
    orx_llm_request r = story_request(&m);
    orx_llm_response a, b;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_chat(f->local, &r, &a, &err), ORX_OK);
    orx_llm *c = client(f->base, 30, 0);
    assert_int_equal(orx_llm_chat(c, &r, &b, &err), ORX_OK);
    assert_true(strlen(a.content) > 0);
    assert_string_equal(a.content, b.content);
    assert_int_equal(a.completion_tokens, b.completion_tokens);
    assert_int_equal(b.http_status, 200);
    /* a different seed gives different text (sampling at temperature 0.8 over 24 tokens) */
    r.seed = 7;
    orx_llm_response d;
    assert_int_equal(orx_llm_chat(c, &r, &d, &err), ORX_OK);
    assert_string_not_equal(d.content, a.content);
    orx_llm_response_clear(&a);
    orx_llm_response_clear(&b);
    orx_llm_response_clear(&d);
    orx_llm_free(c);
}

typedef struct collect { orx_buf text; int pieces; } collect;
static bool on_tok(void *u, const char *p, size_t n) {
    collect *c = u;
    orx_buf_append(&c->text, p, n);
    c->pieces++;
    return true;
}

/* ---- streaming (SSE) reassembles to the same text, in several pieces ---- */
static void test_streaming(void **state) {
    ORX_REQUIRE_SHARED();
    fixture *f = *state;
    orx_llm_msg m = {"user", "Hello"};
    orx_llm_request r = story_request(&m);
    orx_llm_response plain, streamed;
    orx_error err = ORX_ERROR_INIT;
    orx_llm *c = client(f->base, 30, 0);
    assert_int_equal(orx_llm_chat(c, &r, &plain, &err), ORX_OK);
    collect col;
    orx_buf_init(&col.text);
    col.pieces = 0;
    r.stream = true;
    r.on_token = on_tok;
    r.user = &col;
    assert_int_equal(orx_llm_chat(c, &r, &streamed, &err), ORX_OK);
    assert_string_equal(plain.content, streamed.content);
    assert_string_equal(col.text.data ? col.text.data : "", streamed.content);
    assert_true(col.pieces > 1);
    assert_int_equal(streamed.completion_tokens, plain.completion_tokens);
    orx_buf_clear(&col.text);
    orx_llm_response_clear(&plain);
    orx_llm_response_clear(&streamed);
    orx_llm_free(c);
}

/* ---- routes that misbehave, on the same real server ---- */
static int g_calls;
static void route_429_then_ok(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    if (g_calls++ == 0) { rep->status = 429; rep->body = orx_server_error_json("slow down", "rate_limit", NULL); return; }
    rep->status = 200;
    rep->body = orx_strdup("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                           "\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
                           "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}");
}
static void route_500(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    g_calls++;
    rep->status = 500;
    rep->body = orx_server_error_json("boom", "server_error", NULL);
}
static void route_slow(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    usleep(1500 * 1000);
    rep->status = 200;
    rep->body = orx_strdup("{}");
}
static void route_not_json(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    rep->status = 200;
    rep->content_type = "text/plain";
    rep->body = orx_strdup("I am free text, not a completion");
}

static void route_free_text(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    rep->status = 200;
    rep->body = orx_strdup("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                           "\"message\":{\"role\":\"assistant\",\"content\":\"I would give warfarin 5 mg daily.\"},\"finish_reason\":\"stop\"}]}");
}

/* ---- a server that ignores the schema: the pipeline says so, and so does the audit log ---- */
static void test_pipeline_free_text(void **state) {
    ORX_REQUIRE_SHARED();
    fixture *f = *state;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_server_route(f->srv, "POST", "/free/chat/completions", route_free_text, NULL), ORX_OK);
    char base[128], audit[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/free", orx_server_port(f->srv));
    snprintf(audit, sizeof audit, "/tmp/orx_audit_%d.jsonl", (int)getpid());
    unlink(audit);
    orx_llm *c = client(base, 10, 0);
    orx_patient *pt = NULL;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()), "2026-01-01", &pt, &err), ORX_OK);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_checker *ck = NULL;
    assert_int_equal(orx_checker_create(&cp, &ck, &err), ORX_OK);
    orx_rx_params p = orx_rx_default_params();
    p.indication = "atrial fibrillation";
    p.audit_path = audit;
    orx_rx_result r;
    assert_int_equal(orx_recommend(c, NULL, ck, pt, &p, &r, &err), ORX_OK);
    assert_false(r.schema_valid);
    assert_int_equal(r.n_cands, 0);
    assert_non_null(strstr(r.schema_error, "no JSON object"));
    orx_rx_result_clear(&r);
    /* unreachable server: an error, and an audit record that says what happened */
    orx_llm *dead = client("http://127.0.0.1:1/v1", 2, 0);
    assert_int_equal(orx_recommend(dead, NULL, ck, pt, &p, &r, &err), ORX_ERR_NETWORK);
    orx_rx_result_clear(&r);
    char *log;
    size_t len;
    assert_int_equal(orx_read_file(audit, 0, &log, &len, &err), ORX_OK);
    assert_non_null(strstr(log, "\"schema_valid\":false"));
    assert_non_null(strstr(log, "\"status\":\"network error\""));
    assert_non_null(strstr(log, "127.0.0.1:1"));
    free(log);
    unlink(audit);
    orx_llm_free(dead);
    orx_llm_free(c);
    orx_checker_free(ck);
    orx_patient_free(pt);
}

static void test_failures(void **state) {
    ORX_REQUIRE_SHARED();
    fixture *f = *state;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_server_route(f->srv, "POST", "/r429/chat/completions", route_429_then_ok, NULL), ORX_OK);
    assert_int_equal(orx_server_route(f->srv, "POST", "/r500/chat/completions", route_500, NULL), ORX_OK);
    assert_int_equal(orx_server_route(f->srv, "POST", "/slow/chat/completions", route_slow, NULL), ORX_OK);
    assert_int_equal(orx_server_route(f->srv, "POST", "/text/chat/completions", route_not_json, NULL), ORX_OK);
    int port = orx_server_port(f->srv);
    char base[128];
    orx_llm_msg m = {"user", "hi"};
    orx_llm_request r = story_request(&m);
    orx_llm_response out;

    g_calls = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%d/r429", port);
    orx_llm *c = client(base, 10, 2);
    assert_int_equal(orx_llm_chat(c, &r, &out, &err), ORX_OK);
    assert_string_equal(out.content, "ok");
    assert_int_equal(out.attempts, 2);
    orx_llm_response_clear(&out);
    orx_llm_free(c);

    g_calls = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%d/r500", port);
    c = client(base, 10, 2);
    assert_int_equal(orx_llm_chat(c, &r, &out, &err), ORX_ERR_NETWORK);
    assert_int_equal(g_calls, 3);
    assert_non_null(strstr(err.msg, "HTTP 500"));
    assert_non_null(strstr(err.msg, "boom"));
    orx_llm_free(c);

    snprintf(base, sizeof base, "http://127.0.0.1:%d/slow", port);
    c = client(base, 0.3, 0);
    assert_int_equal(orx_llm_chat(c, &r, &out, &err), ORX_ERR_NETWORK);
    assert_non_null(strstr(err.msg, "imeout") ? strstr(err.msg, "imeout") : strstr(err.msg, "timed out"));
    orx_llm_free(c);

    snprintf(base, sizeof base, "http://127.0.0.1:%d/text", port);
    c = client(base, 10, 0);
    assert_int_equal(orx_llm_chat(c, &r, &out, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "not JSON"));
    orx_llm_free(c);

    /* nothing listens on port 1 */
    c = client("http://127.0.0.1:1/v1", 5, 0);
    assert_int_equal(orx_llm_chat(c, &r, &out, &err), ORX_ERR_NETWORK);
    orx_llm_free(c);
}

/* ---- the server rejects bad requests with OpenAI-style 4xx errors ---- */
static void test_bad_requests(void **state) {
    ORX_REQUIRE_SHARED();
    fixture *f = *state;
    char *out = NULL;
    int port = orx_server_port(f->srv);
    int rc = orx_test_run(&out, "curl -s -o - -w ' %%{http_code}' -X POST -d '{\"messages\":[]}' http://127.0.0.1:%d/v1/chat/completions", port);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, " 400"));
    assert_non_null(strstr(out, "\"error\""));
    free(out);
    rc = orx_test_run(&out, "curl -s -o - -w ' %%{http_code}' -X POST -d '{\"messages\":' http://127.0.0.1:%d/v1/chat/completions", port);
    assert_non_null(strstr(out, " 400"));
    assert_non_null(strstr(out, "invalid JSON"));
    free(out);
    /* a response_format schema the grammar cannot enforce is a 400, never ignored */
    rc = orx_test_run(&out, "curl -s -o - -w ' %%{http_code}' -X POST -d '{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":{\"oneOf\":[]}}}}' "
                            "http://127.0.0.1:%d/v1/chat/completions", port);
    assert_non_null(strstr(out, " 400"));
    assert_non_null(strstr(out, "oneOf"));
    free(out);
    /* TinyStories' vocabulary has no '{': a JSON schema cannot be satisfied, and the error says so */
    rc = orx_test_run(&out, "curl -s -o - -w ' %%{http_code}' -X POST -d '{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":{\"type\":\"object\"}}}}' "
                            "http://127.0.0.1:%d/v1/chat/completions", port);
    assert_non_null(strstr(out, " 400"));
    assert_non_null(strstr(out, "dead end"));
    free(out);
    rc = orx_test_run(&out, "head -c 2000000 /dev/zero | tr '\\0' a | curl -s -o - -w ' %%{http_code}' -X POST --data-binary @- http://127.0.0.1:%d/v1/chat/completions", port);
    assert_non_null(strstr(out, " 413"));
    free(out);
    rc = orx_test_run(&out, "curl -s -w ' %%{http_code}' http://127.0.0.1:%d/health", port);
    assert_non_null(strstr(out, "\"ok\""));
    free(out);
    rc = orx_test_run(&out, "curl -s http://127.0.0.1:%d/v1/models", port);
    assert_non_null(strstr(out, "TinyStories-656K-Q8_0.gguf"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_equals_local),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_pipeline_free_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
