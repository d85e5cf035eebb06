/* test_clinical_errors.c — bad patient input: each is a clear error with the right status (the
 * CLI maps them to exit 2), never a crash or a partial patient. Run under ASan in CI. */
#include "testutil.h"
#include "clinical/clinical.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parse s; expect status want and a message containing each NULL-terminated needle. */
static void expect_fail(const char *s, const char *as_of, orx_status want, ...) {
    orx_patient *p = (orx_patient *)1;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_parse(s, strlen(s), "bad.json", as_of, &p, &err);
    print_message("-> %s\n", err.msg);
    assert_int_equal(st, want);
    assert_null(p);
    va_list ap;
    va_start(ap, want);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *)) {
        if (!strstr(err.msg, n)) print_message("missing '%s' in '%s'\n", n, err.msg);
        assert_non_null(strstr(err.msg, n));
    }
    va_end(ap);
}

#define BUNDLE_HEAD "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\"," \
                    "\"id\":\"x\",\"gender\":\"male\",\"birthDate\":\"1950-01-01\"}}"
#define WEIGHT_OBS(val, code) ",{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"w\",\"status\":\"final\"," \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]}," \
    "\"valueQuantity\":{\"value\":" val ",\"code\":\"" code "\"}}}"

static void test_truncated_json(void **state) {
    (void)state;
    /* line 3, column after the last char: jansson reports where the text ended */
    expect_fail("{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [ {\"resource\": {", NULL, ORX_ERR_PARSE,
                "bad.json:3:", "invalid JSON", NULL);
    expect_fail("", NULL, ORX_ERR_PARSE, "bad.json:1:", NULL);
    expect_fail("[1,2,3]", NULL, ORX_ERR_INVALID, "not a JSON object", NULL);
}

static void test_every_truncation_of_a_real_file(void **state) {
    (void)state;
    char *data = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/tests/fixtures/clinical/fhir-features.json",
                                                 orx_test_source_dir()), 0, &data, &len, &err), ORX_OK);
    for (size_t cut = 0; cut < len - 2; cut += 97) {
        orx_patient *p = NULL;
        orx_error e2 = ORX_ERROR_INIT;
        assert_int_equal(orx_patient_parse(data, cut, "cut.json", "2026-01-01", &p, &e2), ORX_ERR_PARSE);
        assert_null(p);
        assert_true(orx_str_starts_with(e2.msg, "cut.json:"));
    }
    free(data);
}

static void test_wrong_resource_type(void **state) {
    (void)state;
    expect_fail("{\"resourceType\":\"Patient\",\"id\":\"x\"}", NULL, ORX_ERR_INVALID, "resourceType is 'Patient'",
                "Bundle", NULL);
    expect_fail("{\"hello\":1}", NULL, ORX_ERR_INVALID, "neither a FHIR Bundle", NULL);
    expect_fail("{\"resourceType\":\"Bundle\",\"entry\":[]}", NULL, ORX_ERR_INVALID, "no Patient", NULL);
    expect_fail("{\"resourceType\":\"Bundle\",\"entry\":{}}", NULL, ORX_ERR_INVALID, "not an array", NULL);
    expect_fail("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"id\":\"a\"}}]}", NULL, ORX_ERR_INVALID,
                "entry[0]", "resourceType", NULL);
    expect_fail(BUNDLE_HEAD ",{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"y\"}}]}", NULL,
                ORX_ERR_INVALID, "more than one Patient", NULL);
}

static void test_unknown_unit(void **state) {
    (void)state;
    expect_fail(BUNDLE_HEAD WEIGHT_OBS("11", "[stone_av]") "]}", "2026-01-01", ORX_ERR_INVALID,
                "unknown unit '[stone_av]'", "Body weight", "29463-7", "entry[1] Observation/w", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"scr\",\"value\":1.1,\"unit\":\"mmol/L\"}]}",
                "2026-01-01", ORX_ERR_INVALID, "labs[0] (scr)", "unknown unit 'mmol/L'", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"weight\",\"value\":70}]}", "2026-01-01",
                ORX_ERR_INVALID, "missing unit", NULL);
}

static void test_negative_and_implausible(void **state) {
    (void)state;
    expect_fail(BUNDLE_HEAD WEIGHT_OBS("-70", "kg") "]}", "2026-01-01", ORX_ERR_INVALID,
                "Body weight must be positive", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"weight\",\"value\":-3,\"unit\":\"kg\"}]}",
                "2026-01-01", ORX_ERR_INVALID, "labs[0] (weight)", "must be positive", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"scr\",\"value\":0,\"unit\":\"mg/dL\"}]}",
                "2026-01-01", ORX_ERR_INVALID, "must be positive", NULL);
    /* grams typed as kilograms */
    expect_fail(BUNDLE_HEAD WEIGHT_OBS("70000", "kg") "]}", "2026-01-01", ORX_ERR_RANGE, "implausible", NULL);
    expect_fail(BUNDLE_HEAD WEIGHT_OBS("\"70\"", "kg") "]}", "2026-01-01", ORX_ERR_INVALID, "not a number", NULL);
}

static void test_future_birth_date(void **state) {
    (void)state;
    expect_fail("{\"openrx_patient\":1,\"birthDate\":\"2030-05-01\"}", "2026-01-01", ORX_ERR_INVALID,
                "birthDate 2030-05-01 is after the as-of date 2026-01-01", NULL);
    expect_fail("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\","
                "\"birthDate\":\"2026-01-02\"}}]}", "2026-01-01", ORX_ERR_INVALID, "after the as-of date", NULL);
    expect_fail("{\"openrx_patient\":1,\"birthDate\":\"1950-02-30\"}", "2026-01-01", ORX_ERR_INVALID,
                "not a valid date", NULL);
    expect_fail("{\"openrx_patient\":1}", "2026-13-01", ORX_ERR_USAGE, "as-of", NULL);
}

static void test_openrx_form_errors(void **state) {
    (void)state;
    expect_fail("{\"openrx_patient\":1,\"wieght\":70}", NULL, ORX_ERR_INVALID, "unknown key 'wieght'", NULL);
    expect_fail("{\"openrx_patient\":2}", NULL, ORX_ERR_UNSUPPORTED, "version 1", NULL);
    expect_fail("{\"openrx_patient\":1,\"sex\":\"f\"}", NULL, ORX_ERR_INVALID, "sex", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"sodium\",\"value\":140,\"unit\":\"mmol/L\"}]}", NULL,
                ORX_ERR_INVALID, "unknown lab kind 'sodium'", NULL);
    /* reference ranges: reversed, unknown unit, not numbers, empty, unknown key */
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"potassium\",\"value\":5,\"unit\":\"mmol/L\","
                "\"reference_range\":{\"low\":5.1,\"high\":3.5}}]}", NULL, ORX_ERR_INVALID,
                "labs[0] (potassium)", "low 5.1 is above high 3.5", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"potassium\",\"value\":5,\"unit\":\"mmol/L\","
                "\"reference_range\":{\"low\":\"3.5\"}}]}", NULL, ORX_ERR_INVALID,
                "labs[0] (potassium).reference_range", "must be numbers", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"potassium\",\"value\":5,\"unit\":\"mmol/L\","
                "\"reference_range\":{}}]}", NULL, ORX_ERR_INVALID, "give low, high or both", NULL);
    expect_fail("{\"openrx_patient\":1,\"labs\":[{\"kind\":\"potassium\",\"value\":5,\"unit\":\"mmol/L\","
                "\"reference_range\":{\"lo\":3}}]}", NULL, ORX_ERR_INVALID, "unknown key 'lo'", NULL);
    expect_fail("{\"openrx_patient\":1,\"medications\":[{\"rxnorm\":\"1\"}]}", NULL, ORX_ERR_INVALID,
                "medications[0].text: required", NULL);
    expect_fail("{\"openrx_patient\":1,\"pharmacogenes\":[{\"gene\":\"CYP3A4\"}]}", NULL, ORX_ERR_INVALID,
                "unsupported gene 'CYP3A4'", NULL);
    expect_fail("{\"openrx_patient\":1,\"pregnant\":\"maybe\"}", NULL, ORX_ERR_INVALID, "pregnant", NULL);
}

/* A FHIR referenceRange whose unit is not one of the lab's units, or whose limits disagree. */
static void test_fhir_reference_range_errors(void **state) {
    (void)state;
#define K_OBS(range) BUNDLE_HEAD ",{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"k\"," \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2823-3\"}]}," \
    "\"valueQuantity\":{\"value\":5.4,\"unit\":\"mmol/L\"},\"referenceRange\":[" range "]}}]}"
    expect_fail(K_OBS("{\"low\":{\"value\":3.5,\"unit\":\"mg/dL\"},\"high\":{\"value\":5.1,\"unit\":\"mg/dL\"}}"),
                NULL, ORX_ERR_INVALID, "Observation/k", "unknown unit 'mg/dL' in the reference range", NULL);
    expect_fail(K_OBS("{\"low\":{\"value\":3.5,\"unit\":\"mmol/L\"},\"high\":{\"value\":5.1,\"unit\":\"meq/L\"}}"),
                NULL, ORX_ERR_INVALID, "different units", NULL);
    expect_fail(K_OBS("{\"low\":{\"value\":\"3.5\"}}"), NULL, ORX_ERR_INVALID, "referenceRange[0]", "not a number", NULL);
#undef K_OBS
}

static void test_deep_nesting(void **state) {
    (void)state;
    size_t n = 200000;
    char *s = malloc(n + 1);
    memset(s, '[', n);
    s[n] = '\0';
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_parse(s, n, "deep.json", NULL, &p, &err), ORX_ERR_PARSE);
    assert_null(p);
    free(s);
}

static void test_size_limit(void **state) {
    (void)state;
    char path[] = "/tmp/orx_big_patient_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 50L * 1024 * 1024), 0); /* 50 MB, sparse */
    close(fd);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_load(path, NULL, &p, &err);
    unlink(path);
    print_message("-> %s\n", err.msg);
    assert_int_equal(st, ORX_ERR_RANGE);
    assert_null(p);
    assert_non_null(strstr(err.msg, "too large"));
    /* and from memory: the length alone is refused before any parsing */
    assert_int_equal(orx_patient_parse("{}", (size_t)ORX_PATIENT_MAX_BYTES + 1, "mem", NULL, &p, &err), ORX_ERR_RANGE);
    /* missing file */
    assert_int_equal(orx_patient_load("/nonexistent/patient.json", NULL, &p, &err), ORX_ERR_NOT_FOUND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_every_truncation_of_a_real_file),
        cmocka_unit_test(test_wrong_resource_type),
        cmocka_unit_test(test_unknown_unit),
        cmocka_unit_test(test_negative_and_implausible),
        cmocka_unit_test(test_future_birth_date),
        cmocka_unit_test(test_openrx_form_errors),
        cmocka_unit_test(test_fhir_reference_range_errors),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
