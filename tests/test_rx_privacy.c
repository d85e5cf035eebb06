/*
 * test_rx_privacy.c — what leaves the machine in the recommend pipeline:
 *   - a crafted patient (93 years old, identifiers in its problem, medicine and allergy texts)
 *     gets a de-identified patient block for a remote model (age "90 or older", phone, e-mail,
 *     MRN, address, dates redacted) while doses and lab values stay exactly as in the full block;
 *   - the full-detail prompt (local backends) is the text it always was;
 *   - the openai client against our own server (libmicrohttpd on loopback, a route that keeps
 *     the body it receives): with --redact the body the server received is de-identified, the
 *     audit record holds the endpoint (no credentials), consent, the SHA-256 of exactly that body
 *     (and with audit_full the body itself), and the hash chain still verifies; without
 *     --redact on loopback the body carries the full detail.
 */
#include "testutil.h"
#include "llm/llm.h"
#include "rx/rx.h"
#include "server/server.h"
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char CRAFTED[] =
    "{\"openrx_patient\": 1, \"id\": \"mrn-88812\", \"name\": \"Evelyn Hartwell\", \"birthDate\": \"1932-05-01\","
    " \"sex\": \"female\","
    " \"labs\": [{\"kind\": \"weight\", \"value\": 51, \"unit\": \"kg\", \"date\": \"2025-12-15\"},"
    "            {\"kind\": \"height\", \"value\": 155, \"unit\": \"cm\", \"date\": \"2025-12-15\"},"
    "            {\"kind\": \"scr\", \"value\": 1.4, \"unit\": \"mg/dL\", \"date\": \"2025-12-15\"},"
    "            {\"kind\": \"potassium\", \"value\": 5.3, \"unit\": \"mmol/L\", \"date\": \"2025-12-15\"},"
    "            {\"kind\": \"inr\", \"value\": 2.6, \"unit\": \"{INR}\", \"date\": \"2025-12-22\"}],"
    " \"conditions\": [{\"text\": \"Atrial fibrillation, dx 03/12/2019 by Dr. Alan Grant\"},"
    "                  {\"text\": \"Urinary tract infection; call daughter 555-201-7788 or evelyn.h@example.org\"},"
    "                  {\"text\": \"Lives alone at 42 Elm Street, Springfield, MA 01103; MRN 00482913\"}],"
    " \"medications\": [{\"text\": \"sulfamethoxazole/trimethoprim 800 mg/160 mg tablet\","
    "                    \"dose\": \"1 tablet by mouth every 12 hours for 3 days\"},"
    "                   {\"text\": \"warfarin 2.5 mg tablet\", \"dose\": \"2.5 mg once daily, INR 2-3\"}],"
    " \"allergies\": [{\"text\": \"penicillin G (reaction 2020-02-14, see https://chart.example.org/p/7)\"}]}";

static orx_patient *crafted(void) {
    orx_patient *pt = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(CRAFTED, strlen(CRAFTED), "crafted", "2026-01-01", &pt, &err) != ORX_OK)
        fail_msg("crafted patient: %s", err.msg);
    return pt;
}

static void has(const char *text, const char *s) {
    if (!strstr(text, s)) fail_msg("'%s' not in:\n%s", s, text);
}
static void lacks(const char *text, const char *s) {
    if (strstr(text, s)) fail_msg("'%s' should not be in:\n%s", s, text);
}

/* ---- the de-identified patient block on a crafted patient ---- */
static void test_crafted_prompt(void **state) {
    (void)state;
    orx_patient *pt = crafted();
    assert_true(pt->age.present && pt->age.value == 93);
    char *full = orx_rx_user_prompt_deid(pt, "urinary tract infection", NULL, NULL, true, NULL);
    orx_deid d;
    orx_deid_for(pt, &d);
    char *red = orx_rx_user_prompt_deid(pt, "urinary tract infection", NULL, NULL, true, &d);
    /* full detail: what the local model sees, as before */
    char *plain = orx_rx_user_prompt_options(pt, "urinary tract infection", NULL, NULL, true);
    assert_string_equal(full, plain);
    has(full, "Patient: female, 93 years");
    has(full, "555-201-7788");
    /* de-identified */
    has(red, "Patient: female, age 90 or older");
    lacks(red, "93");
    lacks(red, "555-201-7788");
    lacks(red, "evelyn.h@example.org");
    lacks(red, "00482913");
    lacks(red, "42 Elm Street");
    lacks(red, "01103");
    lacks(red, "03/12/2019");
    lacks(red, "2020-02-14");
    lacks(red, "Alan Grant");
    lacks(red, "chart.example.org");
    has(red, "call daughter [redacted: phone] or [redacted: e-mail]");
    has(red, "MRN [redacted: identifier]");
    has(red, "dx [redacted: date] by Dr. [redacted: name]");
    has(red, "at [redacted: address], [redacted: address]; MRN");
    lacks(red, "Springfield");
    /* clinical numbers kept, letter for letter */
    has(red, "sulfamethoxazole/trimethoprim 800 mg/160 mg tablet 1 tablet by mouth every 12 hours for 3 days");
    has(red, "warfarin 2.5 mg tablet 2.5 mg once daily, INR 2-3");
    has(red, "weight 51.0 kg");
    const char *lines[] = {"Renal: CrCl", "Potassium: 5.3 mmol/L", "INR: 2.6"};
    for (int i = 0; i < 3; i++) {
        const char *a = strstr(full, lines[i]), *b = strstr(red, lines[i]);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(strcspn(a, "\n"), strcspn(b, "\n"));
        assert_memory_equal(a, b, strcspn(a, "\n"));
    }
    assert_int_equal(d.counts[ORX_DEID_AGE], 1);
    assert_int_equal(d.counts[ORX_DEID_PHONE], 1);
    assert_int_equal(d.counts[ORX_DEID_EMAIL], 1);
    assert_true(d.counts[ORX_DEID_DATE] >= 2);
    assert_true(d.counts[ORX_DEID_ADDRESS] >= 2);
    free(full);
    free(red);
    free(plain);
    orx_patient_free(pt);
}

/* ---- the demo patient (no identifiers in its texts): nothing redacted, block unchanged ---- */
static void test_clean_patient_untouched(void **state) {
    (void)state;
    orx_patient *pt = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()),
                                      "2026-01-01", &pt, &err), ORX_OK);
    orx_deid d;
    orx_deid_for(pt, &d);
    char *full = orx_rx_user_prompt_deid(pt, "atrial fibrillation, stroke prevention", NULL, NULL, true, NULL);
    char *red = orx_rx_user_prompt_deid(pt, "atrial fibrillation, stroke prevention", NULL, NULL, true, &d);
    assert_string_equal(full, red);
    assert_int_equal(orx_deid_total(&d), 0);
    /* the full block as it has always been written */
    has(full, "Patient: female, 82 years, weight 58.0 kg\n");
    has(full, "Current medicines: warfarin sodium 5 MG Oral Tablet 2.5 mg (half tablet) by mouth once daily in the "
              "evening; 24 HR metoprolol succinate 25 MG Extended Release Oral Tablet 25 mg by mouth once daily;");
    has(full, "\nAllergies: penicillin G; sulfamethoxazole\n");
    free(full);
    free(red);
    orx_patient_free(pt);
}

/* ============================================================================================
 * Against our own server: the body it received, the audit record
 * ========================================================================================== */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_body;      /* last body the route received */
static size_t g_body_len;

static void route_capture(void *u, const char *method, const char *path, const char *body, size_t len, orx_http_reply *rep) {
    (void)u, (void)method, (void)path;
    pthread_mutex_lock(&g_mu);
    free(g_body);
    g_body = orx_strndup(body, len);
    g_body_len = len;
    pthread_mutex_unlock(&g_mu);
    rep->status = 200;
    rep->body = orx_strdup("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                           "\"assistant\",\"content\":\"{\\\"insufficient_evidence\\\":true,\\\"candidates\\\":[],"
                           "\\\"alternatives\\\":[],\\\"confidence\\\":\\\"low\\\",\\\"rationale\\\":\\\"none\\\"}\"},"
                           "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":9}}");
}

static json_t *last_record(const char *path) {
    char *log;
    size_t len;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(path, 0, &log, &len, &err), ORX_OK);
    while (len && log[len - 1] == '\n') log[--len] = 0;
    char *nl = strrchr(log, '\n');
    json_error_t je;
    json_t *o = json_loads(nl ? nl + 1 : log, 0, &je);
    free(log);
    assert_non_null(o);
    return o;
}

static orx_llm *client(const char *base, bool redact) {
    orx_openai_params op = orx_openai_default_params();
    op.base_url = base;
    op.model = "capture";
    op.no_ctx_probe = true;
    op.max_retries = 0;
    op.redact = redact;
    orx_llm *llm = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_openai_create(&op, &llm, &err), ORX_OK);
    return llm;
}

static void test_body_hash_in_audit(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_server_params sp = orx_server_default_params();
    sp.port = 0;
    orx_server *srv = NULL;
    assert_int_equal(orx_server_start(&sp, &srv, &err), ORX_OK);
    assert_int_equal(orx_server_route(srv, "POST", "/cap/v1/chat/completions", route_capture, NULL), ORX_OK);
    orx_server_set_ready(srv, true);
    char base[160], url_with_key[200], audit[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/cap/v1", orx_server_port(srv));
    snprintf(url_with_key, sizeof url_with_key, "http://user:s3cret@127.0.0.1:%d/cap/v1", orx_server_port(srv));
    snprintf(audit, sizeof audit, "/tmp/orx_privacy_audit_%d.jsonl", (int)getpid());
    unlink(audit);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_checker *ck = NULL;
    assert_int_equal(orx_checker_create(&cp, &ck, &err), ORX_OK);
    orx_patient *pt = crafted();
    orx_rx_params p = orx_rx_default_params();
    p.indication = "urinary tract infection";
    p.audit_path = audit;
    p.audit_full = true;

    /* --redact on loopback (a local proxy to a remote service): de-identified body, recorded */
    orx_llm *llm = client(url_with_key, true);
    assert_false(orx_llm_get_privacy(llm)->remote);
    assert_true(orx_llm_get_privacy(llm)->redact);
    orx_rx_result r;
    assert_int_equal(orx_recommend(llm, NULL, ck, pt, &p, &r, &err), ORX_OK);
    assert_non_null(g_body);
    has(g_body, "age 90 or older");
    has(g_body, "[redacted: phone]");
    lacks(g_body, "555-201-7788");
    lacks(g_body, "Hartwell");
    has(g_body, "800 mg/160 mg");
    char want[65];
    orx_sha256_hex(g_body, g_body_len, want);
    json_t *rec = last_record(audit);
    assert_string_equal(json_string_value(json_object_get(rec, "endpoint")), base); /* no user:key */
    assert_false(json_is_true(json_object_get(rec, "remote")));
    assert_false(json_is_true(json_object_get(rec, "consent")));
    assert_true(json_is_true(json_object_get(rec, "deidentified")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "redactions"), "age")), 1);
    json_t *q = json_array_get(json_object_get(rec, "requests"), 0);
    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "sha256")), want);
    assert_int_equal(json_integer_value(json_object_get(q, "bytes")), (json_int_t)g_body_len);
    assert_string_equal(json_string_value(json_object_get(q, "body")), g_body);
    char *line = json_dumps(rec, 0);
    lacks(line, "s3cret");
    free(line);
    json_decref(rec);
    orx_rx_result_clear(&r);
    orx_llm_free(llm);

    /* loopback without --redact: full detail goes, the hash still recorded; no body without audit_full */
    p.audit_full = false;
    llm = client(base, false);
    assert_int_equal(orx_recommend(llm, NULL, ck, pt, &p, &r, &err), ORX_OK);
    has(g_body, "93 years");
    has(g_body, "555-201-7788");
    orx_sha256_hex(g_body, g_body_len, want);
    rec = last_record(audit);
    assert_false(json_is_true(json_object_get(rec, "deidentified")));
    q = json_array_get(json_object_get(rec, "requests"), 0);
    assert_string_equal(json_string_value(json_object_get(q, "sha256")), want);
    assert_null(json_object_get(q, "body"));
    json_decref(rec);
    orx_rx_result_clear(&r);
    orx_llm_free(llm);

    /* the hash chain still verifies with the new fields */
    orx_audit_report rep;
    assert_int_equal(orx_audit_verify(audit, NULL, &rep, &err), ORX_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 2);

    unlink(audit);
    orx_patient_free(pt);
    orx_checker_free(ck);
    orx_server_stop(srv);
    free(g_body);
    g_body = NULL;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted_prompt),
        cmocka_unit_test(test_clean_patient_untouched),
        cmocka_unit_test(test_body_hash_in_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
