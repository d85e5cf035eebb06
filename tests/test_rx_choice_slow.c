/*
 * test_rx_choice_slow.c — the grounded choice with a real model (the local engine on
 * ../shared/models/random/rand-llama-256-Q8_0.gguf, a Llama-2 vocabulary with random weights;
 * skipped loudly without it): the answer can only name a label-indicated option or say none suits
 * (grammar-enforced locally; response_format json_schema through our own server behind the openai
 * backend); --open-choice flags a drug outside the options; the prompt is fitted to the model's
 * 2,048-token context, which the server reports in /v1/models, or to --ctx N; a context too small
 * for the prompt is a clear error. A KB is built from data/labels into a temp dir.
 */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "rx/rx.h"
#include "server/server.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];
static char g_kb[4096]; /* the default knowledge base (read only) */
static orx_retriever g_ret;
static orx_checker *g_ck;

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/orx_choice_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    const char *kb = orx_test_default_kb(); /* shared, read only */
    if (!kb) return -1;
    snprintf(g_kb, sizeof g_kb, "%s", kb);
    orx_error err = ORX_ERROR_INIT;
    if (orx_kb_retriever_bm25(g_kb, &g_ret, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    g_ret.free(g_ret.self);
    orx_checker_free(g_ck);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static orx_patient *demo_patient(void) {
    orx_patient *pt = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()),
                                      "2026-01-01", &pt, &err), ORX_OK);
    return pt;
}

/* ---- with a model: the choice is limited to the options; the prompt fits the context ------------ */
static const char *rand_model(void) {
    const char *sh = orx_test_shared_dir();
    const char *p = sh ? orx_test_path("%s/models/random/rand-llama-256-Q8_0.gguf", sh) : NULL;
    return p && access(p, R_OK) == 0 ? p : NULL;
}

static void check_choice(const orx_rx_result *r) {
    assert_true(r->grounded);
    if (!r->schema_valid) return; /* a random model may run out of tokens; the grammar held */
    for (int i = 0; i < r->n_cands; i++) {
        assert_true(r->cands[i].label_indicated);
        assert_true(r->cands[i].option >= 0 && r->options.v[r->cands[i].option].in_choice);
    }
    assert_true(r->n_cands > 0 || r->no_option || r->insufficient);
}

static void test_model_choice_and_context(void **state) {
    (void)state;
    if (!rand_model()) { print_message("SKIPPED: ../shared/models/random/rand-llama-256-Q8_0.gguf not found\n"); skip(); }
    orx_error err = ORX_ERROR_INIT;
    orx_local_params lp = orx_local_default_params();
    lp.model_path = rand_model();
    lp.n_threads = 1;
    orx_llm *local = NULL;
    assert_int_equal(orx_llm_local_create(&lp, &local, &err), ORX_OK);
    orx_patient *pt = demo_patient();
    orx_rx_params p = orx_rx_default_params();
    p.indication = "atrial fibrillation, stroke prevention";
    p.max_tokens = 300;
    p.reask = false;
    /* local engine: grammar-enforced enum; the prompt is fitted to the model's context */
    orx_rx_result r;
    assert_int_equal(orx_recommend(local, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    check_choice(&r);
    assert_true(r.prompt_tokens > 0 && r.prompt_tokens + p.max_tokens <= orx_llm_n_ctx(local));
    orx_rx_result_clear(&r);
    /* open choice: whatever the model names outside the options is flagged */
    p.open_choice = true;
    assert_int_equal(orx_recommend(local, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    assert_false(r.grounded);
    for (int i = 0; r.schema_valid && i < r.n_cands; i++) {
        if (r.cands[i].label_indicated) continue;
        bool flagged = false;
        for (size_t k = 0; k < r.findings.n; k++)
            flagged |= !strcmp(r.findings.items[k].kind, "indication") && strstr(r.findings.items[k].message, "not label-indicated");
        assert_true(flagged);
    }
    orx_rx_result_clear(&r);
    p.open_choice = false;
    /* our own server behind the openai backend: it reports the context (meta.n_ctx), the
     * request carries the enum as response_format json_schema, and -k 10 is fitted */
    orx_server_params sp = orx_server_default_params();
    sp.port = 0;
    orx_server *srv = NULL;
    assert_int_equal(orx_server_start(&sp, &srv, &err), ORX_OK);
    orx_server_set_llm(srv, local);
    orx_server_set_ready(srv, true);
    char base[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", orx_server_port(srv));
    orx_openai_params op = orx_openai_default_params();
    op.base_url = base;
    op.model = "rand";
    orx_llm *remote = NULL;
    assert_int_equal(orx_llm_openai_create(&op, &remote, &err), ORX_OK);
    assert_int_equal(orx_llm_n_ctx(remote), orx_llm_n_ctx(local));
    p.k = 10;
    assert_int_equal(orx_recommend(remote, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    check_choice(&r);
    assert_true(r.prompt_tokens > 0 && r.prompt_tokens + p.max_tokens <= orx_llm_n_ctx(remote));
    assert_true(r.evidence.n >= 1 && r.evidence.n <= 10);
    orx_rx_result_clear(&r);
    /* --ctx N for a server that does not say: a smaller context keeps less evidence */
    orx_llm_free(remote);
    op.n_ctx = 1800;
    assert_int_equal(orx_llm_openai_create(&op, &remote, &err), ORX_OK);
    assert_int_equal(orx_llm_n_ctx(remote), 1800);
    assert_int_equal(orx_recommend(remote, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    assert_true(r.prompt_tokens + p.max_tokens <= 1800);
    orx_rx_result_clear(&r);
    /* too small for even the prompt without evidence: a clear error, not an HTTP 400 */
    orx_llm_free(remote);
    op.n_ctx = 600;
    assert_int_equal(orx_llm_openai_create(&op, &remote, &err), ORX_OK);
    assert_int_equal(orx_recommend(remote, &g_ret, g_ck, pt, &p, &r, &err), ORX_ERR_RANGE);
    assert_non_null(strstr(err.msg, "do not fit the model's context of 600 tokens"));
    orx_rx_result_clear(&r);
    orx_llm_free(remote);
    orx_server_stop(srv);
    orx_llm_free(local);
    orx_patient_free(pt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_choice_and_context),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
