/*
 * test_rx.c — the recommend pipeline: output schema, parsing/validation of model answers,
 * evidence mode end to end on the shipped corpus (KB built from data/labels into a temp dir),
 * renderings (text, JSON, FHIR) and the audit record.
 */
#include "testutil.h"
#include "schema/schema.h"
#include "rx/rx.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];
static char g_kb[4096]; /* the default knowledge base (read only) */

static int setup(void **state) {
    snprintf(g_dir, sizeof g_dir, "/tmp/orx_rx_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    const char *kb = orx_test_default_kb(); /* shared, read only */
    if (!kb) return -1;
    snprintf(g_kb, sizeof g_kb, "%s", kb);
    return 0;
}

static int teardown(void **state) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- schema ---------------------------------------------------------------------------- */
static void test_schema(void **state) {
    orx_schema *s = orx_rx_output_schema(3); /* parsed: the subset check passed */
    assert_non_null(s);
    const json_t *schema = orx_schema_json(s);
    orx_error err = ORX_ERROR_INIT;
    json_t *ids = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(schema, "properties"), "candidates"), "items"), "properties"), "citations"), "items");
    json_t *en = json_object_get(ids, "enum");
    assert_int_equal(json_array_size(en), 3);
    assert_string_equal(json_string_value(json_array_get(en, 2)), "S3");
    orx_schema_free(s);
    /* without evidence there is no citations property at all */
    s = orx_rx_output_schema(0);
    assert_non_null(s);
    assert_null(json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
        orx_schema_json(s), "properties"), "candidates"), "items"), "properties"), "citations"));
    assert_int_equal(json_object_size(json_object_get(json_object_get(json_object_get(json_object_get(
        orx_schema_json(s), "properties"), "candidates"), "items"), "properties")), 8);
    orx_schema_free(s);
    /* the subset check refuses what it cannot enforce */
    orx_schema *bad = NULL;
    assert_int_equal(orx_schema_parse_text("{\"type\":\"object\",\"properties\":{\"a\":{\"oneOf\":[]}}}", &bad, &err),
                     ORX_ERR_UNSUPPORTED);
    assert_null(bad);
    assert_non_null(strstr(err.msg, "$.properties.a.oneOf"));
}

/* ---- parsing model answers ------------------------------------------------------------------ */
static const char *GOOD =
    "```json\n{\"insufficient_evidence\":false,\"candidates\":[{\"ingredient\":\"apixaban\",\"dose_amount\":2.5,"
    "\"dose_unit\":\"mg\",\"route\":\"oral\",\"frequency\":\"twice daily\",\"duration\":\"long-term\","
    "\"adjustments\":\"age >= 80\",\"monitoring\":\"renal function\",\"citations\":[\"S1\",\"S2\"]}],"
    "\"alternatives\":[\"warfarin\"],\"confidence\":\"medium\",\"rationale\":\"per label\"}\n```";

static void test_parse(void **state) {
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_rx_parse_output(GOOD, 2, &r, &err), ORX_OK);
    assert_int_equal(r.n_cands, 1);
    assert_string_equal(r.cands[0].ingredient, "apixaban");
    assert_true(r.cands[0].dose_amount == 2.5);
    assert_int_equal(r.cands[0].n_citations, 2);
    assert_string_equal(r.cands[0].citations[1], "S2");
    assert_int_equal(r.n_alternatives, 1);
    /* a citation naming evidence that was not given is rejected */
    assert_int_equal(orx_rx_parse_output(GOOD, 1, &r, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "citations[1]"));
    /* a route outside the enum */
    char *bad = strdup(GOOD);
    memcpy(strstr(bad, "\"oral\""), "\"oraX\"", 6);
    assert_int_equal(orx_rx_parse_output(bad, 2, &r, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "route"));
    free(bad);
    /* free text */
    assert_int_equal(orx_rx_parse_output("Once upon a time there was a pill.", 2, &r, &err), ORX_ERR_PARSE);
    assert_int_equal(orx_rx_parse_output("{\"candidates\": [", 2, &r, &err), ORX_ERR_PARSE);
    /* missing required */
    assert_int_equal(orx_rx_parse_output("{\"candidates\":[]}", 2, &r, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "required property"));
}

/* ---- evidence mode end to end ------------------------------------------------------------- */
static void test_evidence_mode(void **state) {
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()),
                                      "2026-01-01", &pt, &err), ORX_OK);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_checker *ck = NULL;
    assert_int_equal(orx_checker_create(&cp, &ck, &err), ORX_OK);
    orx_retriever ret;
    assert_int_equal(orx_kb_retriever_bm25(g_kb, &ret, &err), ORX_OK);
    orx_rx_params p = orx_rx_default_params();
    p.indication = "atrial fibrillation, stroke prevention";
    char audit[160];
    snprintf(audit, sizeof audit, "%s/audit.jsonl", g_dir);
    p.audit_path = audit;
    orx_rx_result r;
    assert_int_equal(orx_recommend(NULL, &ret, ck, pt, &p, &r, &err), ORX_OK);
    assert_true(r.evidence_mode);
    assert_true(r.evidence.n > 0 && r.evidence.n <= 10); /* default k: 10 evidence items */
    for (size_t i = 0; i < r.evidence.n; i++) assert_non_null(strchr(r.evidence.hits[i].citation, '#'));
    assert_int_equal(r.n_cands, 0);
    /* the demo patient takes several medicines; the checker must have looked at them */
    assert_true(pt->n_meds >= 2);

    orx_buf b;
    orx_buf_init(&b);
    assert_int_equal(orx_rx_render_text(&r, pt, &b, &err), ORX_OK);
    assert_non_null(strstr(b.data, "EVIDENCE MODE"));
    assert_non_null(strstr(b.data, "DRAFT for clinician review"));
    orx_buf_reset(&b);
    assert_int_equal(orx_rx_render_json(&r, pt, &b, &err), ORX_OK);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "mode")), "evidence");
    assert_int_equal(json_array_size(json_object_get(j, "evidence")), r.evidence.n);
    assert_int_equal(json_array_size(json_object_get(j, "current_findings")), r.current_findings.n);
    json_decref(j);
    orx_buf_reset(&b);
    assert_int_equal(orx_rx_render_fhir(&r, pt, &b, &err), ORX_OK);
    assert_int_equal(orx_test_save_fhir("test_rx-evidence-demo", b.data, b.len), 0);
    j = json_loadb(b.data, b.len, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "resourceType")), "Bundle");
    size_t issues = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(j, "entry"), i, e)
        if (!strcmp(json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType")), "DetectedIssue")) issues++;
    /* one DetectedIssue per current finding, plus the options' findings of moderate tier and above */
    size_t option_issues = 0;
    for (size_t k = 0; k < r.options.n; k++)
        for (size_t f = 0; (r.options.v[k].in_choice || r.options.v[k].excluded) && f < r.options.v[k].findings.n; f++)
            option_issues += r.options.v[k].findings.items[f].severity >= ORX_SEV_MODERATE;
    assert_int_equal(issues, r.current_findings.n + option_issues);
    json_decref(j);
    orx_buf_clear(&b);

    /* exactly one audit record, naming the retrieved citations */
    char *log;
    size_t len;
    assert_int_equal(orx_read_file(audit, 0, &log, &len, &err), ORX_OK);
    assert_int_equal(strchr(log, '\n') - log + 1, (long)len);
    j = json_loads(log, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "mode")), "evidence");
    assert_int_equal(json_array_size(json_object_get(j, "retrieved")), r.evidence.n);
    assert_string_equal(json_string_value(json_object_get(j, "input_sha256")), r.input_hash);
    json_decref(j);
    free(log);

    /* same input, same hash and same evidence */
    orx_rx_result r2;
    p.audit_path = NULL;
    assert_int_equal(orx_recommend(NULL, &ret, ck, pt, &p, &r2, &err), ORX_OK);
    assert_string_equal(r.input_hash, r2.input_hash);
    assert_int_equal(r.evidence.n, r2.evidence.n);
    for (size_t k = 0; k < r.evidence.n; k++) assert_string_equal(r.evidence.hits[k].citation, r2.evidence.hits[k].citation);
    orx_rx_result_clear(&r2);

    /* missing indication is a usage error */
    p.indication = "";
    assert_int_equal(orx_recommend(NULL, &ret, ck, pt, &p, &r2, &err), ORX_ERR_USAGE);
    orx_rx_result_clear(&r2);

    orx_rx_result_clear(&r);
    ret.free(ret.self);
    orx_checker_free(ck);
    orx_patient_free(pt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_evidence_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
