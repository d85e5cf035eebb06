/*
 * test_clinical_labs.c — lab reference ranges and the lab kinds the lab-aware safety rules read
 * (QTc, platelets, glucose): FHIR Observation.referenceRange (normal/untyped range chosen,
 * therapeutic range skipped, units converted), the openrx form's "reference_range", the range
 * travelling with the latest value, the high/low/normal flag and the describing text.
 */
#include "testutil.h"
#include "clinical/clinical.h"

#include <math.h>
#include <string.h>

static orx_patient *parse(const char *json) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(json, strlen(json), "labs.json", "2026-01-01", &p, &err) != ORX_OK)
        fail_msg("parse: %s", err.msg);
    return p;
}

#define HEAD "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\"," \
             "\"id\":\"x\",\"gender\":\"female\",\"birthDate\":\"1950-01-01\"}}"
#define OBS(id, loinc, value, unit, date, range) \
    ",{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"status\":\"final\"," \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"" loinc "\"}]}," \
    "\"effectiveDateTime\":\"" date "\",\"valueQuantity\":{\"value\":" value ",\"unit\":\"" unit "\"}" range "}}"

static void test_fhir_reference_range(void **state) {
    (void)state;
    const char *b = HEAD
        /* potassium with a therapeutic range first (skipped) and the normal range second */
        OBS("k", "2823-3", "5.4", "mmol/L", "2025-12-01",
            ",\"referenceRange\":[{\"type\":{\"coding\":[{\"code\":\"therapeutic\"}]},\"low\":{\"value\":4.0},"
            "\"high\":{\"value\":4.5}},{\"type\":{\"coding\":[{\"code\":\"normal\"}]},"
            "\"low\":{\"value\":3.5,\"unit\":\"mmol/L\"},\"high\":{\"value\":5.1,\"unit\":\"mmol/L\"},\"text\":\"3.5-5.1\"}]")
        /* glucose in mmol/L with an untyped range in mmol/L: both converted to mg/dL */
        OBS("g", "2345-7", "3.0", "mmol/L", "2025-12-01",
            ",\"referenceRange\":[{\"low\":{\"value\":3.9,\"unit\":\"mmol/L\"},\"high\":{\"value\":5.5,\"unit\":\"mmol/L\"}}]")
        /* platelets with only a lower limit, no unit on the limit (the value's unit is used) */
        OBS("p", "777-3", "250", "10*3/uL", "2025-12-01", ",\"referenceRange\":[{\"low\":{\"value\":150}}]")
        /* QTc in seconds, no range */
        OBS("q", "8636-3", "0.48", "s", "2025-12-01", "")
        "]}";
    orx_patient *p = parse(b);
    const orx_lab *k = &p->labs[ORX_LAB_POTASSIUM];
    assert_true(k->present && k->has_ref_low && k->has_ref_high);
    assert_true(fabs(k->ref_low - 3.5) < 1e-9 && fabs(k->ref_high - 5.1) < 1e-9);
    assert_string_equal(k->ref_text, "3.5-5.1");
    assert_int_equal(orx_lab_range_flag(k), ORX_LAB_HIGH);

    const orx_lab *g = &p->labs[ORX_LAB_GLUCOSE];
    assert_true(fabs(g->value - 3.0 * 18.016) < 1e-6);
    assert_true(fabs(g->ref_low - 3.9 * 18.016) < 1e-6 && fabs(g->ref_high - 5.5 * 18.016) < 1e-6);
    assert_string_equal(g->unit, "mg/dL");
    assert_int_equal(orx_lab_range_flag(g), ORX_LAB_LOW);

    const orx_lab *pl = &p->labs[ORX_LAB_PLATELETS];
    assert_true(pl->has_ref_low && !pl->has_ref_high && fabs(pl->ref_low - 150) < 1e-9);
    assert_int_equal(orx_lab_range_flag(pl), ORX_LAB_NORMAL);

    const orx_lab *q = &p->labs[ORX_LAB_QTC];
    assert_true(fabs(q->value - 480) < 1e-9);
    assert_int_equal(orx_lab_range_flag(q), ORX_LAB_NO_RANGE);

    char d[160];
    orx_lab_describe(k, ORX_LAB_POTASSIUM, d, sizeof d);
    print_message("%s\n", d);
    assert_non_null(strstr(d, "5.4 mmol/L on 2025-12-01"));
    assert_non_null(strstr(d, "reference 3.5-5.1 mmol/L: high"));
    orx_lab_describe(q, ORX_LAB_QTC, d, sizeof d);
    assert_non_null(strstr(d, "no reference range on record"));
    orx_patient_free(p);
}

/* The range belongs to the observation: an older value's range never sticks to a newer value. */
static void test_range_follows_latest_value(void **state) {
    (void)state;
    const char *b = HEAD
        OBS("k2", "2823-3", "4.2", "mmol/L", "2025-12-20", "")
        OBS("k1", "2823-3", "5.9", "mmol/L", "2025-11-01",
            ",\"referenceRange\":[{\"low\":{\"value\":3.5},\"high\":{\"value\":5.1}}]")
        "]}";
    orx_patient *p = parse(b);
    const orx_lab *k = &p->labs[ORX_LAB_POTASSIUM];
    assert_true(fabs(k->value - 4.2) < 1e-9);
    assert_false(k->has_ref_low || k->has_ref_high);
    assert_int_equal(orx_lab_range_flag(k), ORX_LAB_NO_RANGE);
    orx_patient_free(p);
}

static void test_openrx_form_range_and_new_kinds(void **state) {
    (void)state;
    orx_patient *p = parse(
        "{\"openrx_patient\":1,\"sex\":\"male\",\"birthDate\":\"1960-01-01\",\"labs\":["
        "{\"kind\":\"potassium\",\"value\":4.2,\"unit\":\"mmol/L\",\"date\":\"2025-12-01\","
        " \"reference_range\":{\"low\":3.5,\"high\":5.1,\"text\":\"lab A\"}},"
        "{\"kind\":\"qtc\",\"value\":512,\"unit\":\"ms\",\"date\":\"2025-12-01\",\"reference_range\":{\"high\":470}},"
        "{\"kind\":\"platelets\",\"value\":90000,\"unit\":\"/uL\",\"date\":\"2025-12-01\"},"
        "{\"kind\":\"glucose\",\"value\":65,\"unit\":\"mg/dL\",\"date\":\"2025-12-01\"}]}");
    assert_int_equal(orx_lab_range_flag(&p->labs[ORX_LAB_POTASSIUM]), ORX_LAB_NORMAL);
    assert_string_equal(p->labs[ORX_LAB_POTASSIUM].ref_text, "lab A");
    assert_int_equal(orx_lab_range_flag(&p->labs[ORX_LAB_QTC]), ORX_LAB_HIGH);
    assert_true(fabs(p->labs[ORX_LAB_PLATELETS].value - 90) < 1e-9); /* 90000/uL = 90 10*3/uL */
    assert_string_equal(p->labs[ORX_LAB_PLATELETS].unit, "10*3/uL");
    assert_true(p->labs[ORX_LAB_GLUCOSE].present);
    /* JSON output carries the range and the flag */
    orx_buf b;
    orx_buf_init(&b);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_to_json(p, &b, &err), ORX_OK);
    assert_non_null(strstr(b.data, "\"ref_high\": 470"));
    assert_non_null(strstr(b.data, "\"flag\": \"high\""));
    orx_buf_clear(&b);
    orx_patient_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fhir_reference_range),
        cmocka_unit_test(test_range_follows_latest_value),
        cmocka_unit_test(test_openrx_form_range_and_new_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
