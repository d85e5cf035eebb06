/*
 * test_server_concurrency.c — many clients at once: 8 threads send a mix of /v1/check,
 * /v1/recommend (through the model queue), CDS Hooks order-sign, chat completions plain and
 * streamed, /health and /metrics to a server with a real (tiny) model, and /v1/recommend in
 * evidence mode to a second server without one (there it runs on the event-loop threads, several
 * at once), all sharing one checker, one retriever pool over a real knowledge base, one model and
 * one audit log.
 *
 * Every reply must be right (status and shape), and afterwards the audit log must hold one
 * record per recommendation in one intact hash chain. Built with ThreadSanitizer (`make
 * test-tsan`, TSAN_OPTIONS=halt_on_error=1) any data race between these paths fails the run.
 */
#include "srvtest.h"
#include "kb/kb.h"
#include "llm/llm.h"
#include <pthread.h>
#include <glob.h>
#include <signal.h>
#include <stdatomic.h>

/* Under ThreadSanitizer everything runs 5-15 times slower: one round of each kind per thread
 * still puts every path against every other. */
#if defined(__SANITIZE_THREAD__)
enum { THREADS = 8, ROUNDS = 1 };
#else
enum { THREADS = 8, ROUNDS = 3 };
#endif

static orx_checker  *g_ck;
static orx_llm      *g_llm;
static orx_retriever g_ret;
static st_server     g_t, g_ev; /* with the model; evidence mode (no model) */
static char g_model[256], g_kb[256], g_audit[256];
static atomic_int g_recommends;

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    st_reply_timeout_s = 900; /* a request may wait behind every model request of every thread */
    g_ck = st_checker();
    if (!g_ck) return -1;
    int pid = (int)getpid();
    snprintf(g_model, sizeof g_model, "/tmp/orx_conc_%d.gguf", pid);
    snprintf(g_kb, sizeof g_kb, "/tmp/orx_conc_%d.sqlite", pid);
    snprintf(g_audit, sizeof g_audit, "/tmp/orx_conc_%d.jsonl", pid);
    unlink(g_audit);
    st_write_model(g_model, 32, 1, 320);
    orx_local_params lp = orx_local_default_params();
    lp.model_path = g_model;
    lp.n_threads = 2;
    lp.n_ctx = 16384; /* the evidence, spelt byte by byte by this vocabulary, is ~5,300 tokens */
    orx_error err = ORX_ERROR_INIT;
    if (orx_llm_local_create(&lp, &g_llm, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    const char *in[1] = {orx_test_path("%s/tests/fixtures/kb", orx_test_source_dir())};
    orx_kb_build_params bp = orx_kb_build_default_params();
    bp.progress = false;
    if (orx_kb_build(g_kb, in, 1, &bp, NULL, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    if (orx_kb_retriever_bm25_pool(g_kb, 4, &g_ret, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    orx_server_params p = orx_server_default_params();
    p.http_threads = 3;
    p.queue_max = 64;
    p.request_deadline_s = 600;
    st_start(&g_t, p, g_ck, g_llm, &g_ret, g_audit);
    st_start(&g_ev, p, g_ck, NULL, &g_ret, g_audit);
    return 0;
}

static int teardown(void **state) {
    orx_server_stop(g_t.srv);
    orx_server_stop(g_ev.srv);
    g_ret.free(g_ret.self);
    orx_llm_free(g_llm);
    orx_checker_free(g_ck);
    unlink(g_model);
    unlink(g_audit);
    /* the knowledge base with SQLite's -wal / -shm files and its impact index sidecars */
    char pat[300];
    snprintf(pat, sizeof pat, "%s*", g_kb);
    glob_t gl;
    if (glob(pat, 0, NULL, &gl) == 0)
        for (size_t i = 0; i < gl.gl_pathc; i++) unlink(gl.gl_pathv[i]);
    globfree(&gl);
    return 0;
}

/* ============================================================================================
 * Requests
 * ========================================================================================== */
static const char *CDS =
    "{\"hook\":\"order-sign\",\"hookInstance\":\"c0ffee\",\"context\":{\"userId\":\"Practitioner/1\",\"patientId\":\"1\","
    "\"draftOrders\":{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\","
    "\"medicationCodeableConcept\":{\"text\":\"ibuprofen 400 mg\"}}}]}},\"prefetch\":{\"patient\":{\"resourceType\":\"Patient\","
    "\"id\":\"1\",\"birthDate\":\"1950-01-01\",\"gender\":\"female\"},\"medications\":{\"resourceType\":\"Bundle\",\"entry\":"
    "[{\"resource\":{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"medicationCodeableConcept\":"
    "{\"text\":\"warfarin 5 mg\"}}}]}}}";

static const char *RECOMMEND =
    "{\"patient\": {\"openrx_patient\": 1, \"birthDate\": \"1944-01-01\", \"sex\": \"female\","
    " \"medications\": [{\"text\": \"warfarin sodium 5 MG Oral Tablet\"}]},"
    " \"indication\": \"atrial fibrillation, stroke prevention\", \"k\": 1, \"seed\": 1, \"max_tokens\": 160}";

static void one(int port, int kind, int *failures) {
    st_reply r;
    int want = 200;
    bool ok = true;
    switch (kind) {
    case 0:
        r = st_http(port, NULL, "POST", "/v1/check", NULL, ST_CHECK);
        ok = json_array_size(json_object_get(r.json, "findings")) >= 1;
        break;
    case 1:
        r = st_http(port, NULL, "POST", "/v1/recommend", NULL, RECOMMEND);
        atomic_fetch_add(&g_recommends, 1);
        ok = r.json != NULL;
        break;
    case 2:
        r = st_http(port, NULL, "POST", "/cds-services/openrx-order-sign", NULL, CDS);
        ok = json_array_size(json_object_get(r.json, "cards")) >= 1;
        break;
    case 3:
        r = st_http(port, NULL, "POST", "/v1/chat/completions", NULL,
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,\"temperature\":0}");
        ok = json_integer_value(json_object_get(json_object_get(r.json, "usage"), "completion_tokens")) == 6;
        break;
    case 4:
        r = st_http(port, NULL, "POST", "/v1/chat/completions", NULL,
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,\"stream\":true}");
        ok = r.body && strstr(r.body, "data: [DONE]") && strstr(r.body, "\"finish_reason\":\"length\"");
        break;
    case 5:
        r = st_http(orx_server_port(g_ev.srv), NULL, "POST", "/v1/recommend", NULL, RECOMMEND);
        atomic_fetch_add(&g_recommends, 1);
        ok = r.body && strstr(r.body, "\"mode\": \"evidence\"") && strstr(r.body, "\"evidence\": [");
        break;
    case 6:
        r = st_http(port, NULL, "GET", "/health", NULL, NULL);
        ok = json_object_get(r.json, "queue") != NULL;
        break;
    default:
        r = st_http(port, NULL, "GET", "/metrics", NULL, NULL);
        ok = r.body && strstr(r.body, "openrx_requests_total");
        break;
    }
    if (r.status != want || !ok) {
        fprintf(stderr, "kind %d: status %d: %.300s\n", kind, r.status, r.body ? r.body : "(none)");
        (*failures)++;
    }
    st_reply_free(&r);
}

typedef struct client {
    int id;       /* thread number */
    int failures; /* wrong replies */
} client;

static void *client_main(void *arg) {
    client *c = arg;
    int port = orx_server_port(g_t.srv);
    for (int round = 0; round < ROUNDS; round++)
        for (int k = 0; k < 8; k++) one(port, (k + c->id + round) % 8, &c->failures);
    return NULL;
}

/* ============================================================================================
 * Test
 * ========================================================================================== */
static void test_concurrent_mix(void **state) {
    pthread_t th[THREADS];
    client cl[THREADS];
    for (int i = 0; i < THREADS; i++) {
        cl[i] = (client){i, 0};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += cl[i].failures;
    }
    assert_int_equal(failures, 0);
    /* one audit record per recommendation, one intact chain */
    orx_audit_report rep;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_audit_verify(g_audit, NULL, &rep, &err), ORX_OK);
    if (!rep.ok) fprintf(stderr, "audit: line %ld: %s\n", rep.broken_line, rep.reason);
    assert_true(rep.ok);
    assert_int_equal(rep.records, atomic_load(&g_recommends));
    assert_int_equal(atomic_load(&g_recommends), 2 * THREADS * ROUNDS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_mix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
