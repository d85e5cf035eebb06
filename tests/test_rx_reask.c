/*
 * test_rx_reask.c — the recommend pipeline's re-ask loop, driven through the real orx_llm vtable
 * by a scripted backend (the answers are fixed texts; everything else — prompt, schema, parsing,
 * the safety checker on the demo patient, the re-ask decision and its feedback message — is the
 * product code):
 *   - a first answer with a major finding (ibuprofen for a patient on warfarin) is sent back once
 *     with the checker's findings, and a clean second answer (acetaminophen) is accepted;
 *   - the loop is bounded: a second answer that is still unsafe is not asked about again, and its
 *     findings are reported, not hidden;
 *   - a clean first answer, or reask = false, makes exactly one call.
 */
#include "testutil.h"
#include "llm/backend.h" /* a fake backend through the real interface */
#include "rx/rx.h"
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Scripted backend
 * ========================================================================================== */
#define MAX_CALLS 8
typedef struct scripted_llm {
    orx_llm            base;           /* the handle the pipeline sees (vtable, name, n_ctx) */
    const char *const *answers;        /* answer i for call i; the last one repeats */
    int                n_answers;      /* count */
    int                calls;          /* chat calls received */
    int                n_messages[MAX_CALLS]; /* messages per call */
    char              *assistant[MAX_CALLS];  /* the assistant message of each call, or NULL */
    char              *last_user[MAX_CALLS];  /* the last user message of each call */
    bool               had_schema[MAX_CALLS]; /* a JSON Schema came with the call */
} scripted_llm;

static orx_status scripted_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    scripted_llm *s = (scripted_llm *)llm;
    if (s->calls >= MAX_CALLS) return orx_fail(err, ORX_ERR_RANGE, "scripted backend: too many calls");
    int i = s->calls++;
    s->n_messages[i] = req->n_messages;
    s->had_schema[i] = req->schema != NULL;
    for (int m = 0; m < req->n_messages; m++) {
        if (!strcmp(req->messages[m].role, "assistant")) s->assistant[i] = strdup(req->messages[m].content);
        if (!strcmp(req->messages[m].role, "user")) {
            free(s->last_user[i]);
            s->last_user[i] = strdup(req->messages[m].content);
        }
    }
    const char *a = s->answers[i < s->n_answers ? i : s->n_answers - 1];
    out->content = strdup(a);
    snprintf(out->finish_reason, sizeof out->finish_reason, "stop");
    out->prompt_tokens = out->completion_tokens = -1;
    out->t_first_token_s = -1;
    return out->content ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
}

static void scripted_free(orx_llm *llm) { (void)llm; /* owned by the test */ }
static int scripted_count_tokens(orx_llm *llm, const char *text) { (void)llm; (void)text; return -1; }

static const orx_llm_vtable SCRIPTED_VT = {"scripted", scripted_chat, scripted_free, scripted_count_tokens};

static void scripted_init(scripted_llm *s, const char *const *answers, int n) {
    memset(s, 0, sizeof *s);
    s->base.vt = &SCRIPTED_VT;
    snprintf(s->base.name, sizeof s->base.name, "scripted");
    s->answers = answers;
    s->n_answers = n;
}

static void scripted_clear(scripted_llm *s) {
    for (int i = 0; i < MAX_CALLS; i++) free(s->assistant[i]), free(s->last_user[i]);
}

/* ============================================================================================
 * Answers (schema of a no-evidence, open-choice run: orx_rx_output_schema(0))
 * ========================================================================================== */
#define ANSWER(ingr, amount, freq)                                                                    \
    "{\"insufficient_evidence\":false,\"candidates\":[{\"ingredient\":\"" ingr "\",\"dose_amount\":" \
    amount ",\"dose_unit\":\"mg\",\"route\":\"oral\",\"frequency\":\"" freq "\",\"duration\":\"5 days\"," \
    "\"adjustments\":\"none\",\"monitoring\":\"pain\"}],\"alternatives\":[],\"confidence\":\"low\","      \
    "\"rationale\":\"scripted\"}"

static const char *UNSAFE = ANSWER("ibuprofen", "400", "every 8 hours");       /* + warfarin: major */
static const char *UNSAFE2 = ANSWER("naproxen", "250", "twice daily");        /* + warfarin: major */
static const char *SAFE = ANSWER("acetaminophen", "500", "every 6 hours");     /* no finding above info */

static orx_checker *g_ck;
static orx_patient *g_pt;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    if (orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()),
                         "2026-01-01", &g_pt, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    orx_checker_free(g_ck);
    orx_patient_free(g_pt);
    return 0;
}

/* Run the pipeline (no knowledge base: no evidence, open choice) against the scripted answers. */
static void run(scripted_llm *s, bool reask, orx_rx_result *r) {
    orx_rx_params p = orx_rx_default_params();
    p.indication = "pain";
    p.reask = reask;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_recommend(&s->base, NULL, g_ck, g_pt, &p, r, &err), ORX_OK);
    assert_true(r->schema_valid);
    assert_int_equal(r->asks, s->calls);
}

static orx_severity worst(const orx_rx_result *r) {
    orx_severity w = ORX_SEV_INFO;
    orx_findings_max_severity(&r->findings, &w);
    return w;
}

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static void test_bad_first_answer_is_reasked(void **state) {
    (void)state;
    const char *answers[] = {UNSAFE, SAFE};
    scripted_llm s;
    scripted_init(&s, answers, 2);
    orx_rx_result r;
    run(&s, true, &r);
    assert_int_equal(s.calls, 2);
    /* the first call: system + user; the re-ask carries the first answer and the findings back */
    assert_int_equal(s.n_messages[0], 2);
    assert_int_equal(s.n_messages[1], 4);
    assert_true(s.had_schema[0] && s.had_schema[1]);
    assert_null(s.assistant[0]);
    assert_string_equal(s.assistant[1], UNSAFE);
    assert_non_null(strstr(s.last_user[1], "medication-safety checker found these problems"));
    assert_non_null(strstr(s.last_user[1], "ibuprofen"));
    assert_non_null(strstr(s.last_user[1], "warfarin"));
    assert_non_null(strstr(s.last_user[1], "[MAJOR]"));
    /* the second answer is the result */
    assert_int_equal(r.n_cands, 1);
    assert_string_equal(r.cands[0].ingredient, "acetaminophen");
    assert_string_equal(r.raw_output, SAFE);
    assert_true(worst(&r) < ORX_SEV_MAJOR);
    orx_rx_result_clear(&r);
    scripted_clear(&s);
}

static void test_reask_limit_is_honoured(void **state) {
    (void)state;
    const char *answers[] = {UNSAFE, UNSAFE2, SAFE}; /* a third call would get the safe answer */
    scripted_llm s;
    scripted_init(&s, answers, 3);
    orx_rx_result r;
    run(&s, true, &r);
    assert_int_equal(s.calls, 2); /* one re-ask, not more */
    assert_int_equal(r.n_cands, 1);
    assert_string_equal(r.cands[0].ingredient, "naproxen");
    assert_true(worst(&r) >= ORX_SEV_MAJOR); /* still unsafe, and reported */
    orx_rx_result_clear(&r);
    scripted_clear(&s);
}

static void test_clean_first_answer_is_kept(void **state) {
    (void)state;
    const char *answers[] = {SAFE, UNSAFE};
    scripted_llm s;
    scripted_init(&s, answers, 2);
    orx_rx_result r;
    run(&s, true, &r);
    assert_int_equal(s.calls, 1);
    assert_string_equal(r.cands[0].ingredient, "acetaminophen");
    orx_rx_result_clear(&r);
    scripted_clear(&s);
}

static void test_reask_off(void **state) {
    (void)state;
    const char *answers[] = {UNSAFE, SAFE};
    scripted_llm s;
    scripted_init(&s, answers, 2);
    orx_rx_result r;
    run(&s, false, &r);
    assert_int_equal(s.calls, 1);
    assert_string_equal(r.cands[0].ingredient, "ibuprofen");
    assert_true(worst(&r) >= ORX_SEV_MAJOR);
    orx_rx_result_clear(&r);
    scripted_clear(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_first_answer_is_reasked),
        cmocka_unit_test(test_reask_limit_is_honoured),
        cmocka_unit_test(test_clean_first_answer_is_kept),
        cmocka_unit_test(test_reask_off),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
