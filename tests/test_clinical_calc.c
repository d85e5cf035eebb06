/* test_clinical_calc.c — clinical calculators: worked examples computed by hand from the published
 * formulas, the MedCalc-Bench one-shot exemplars (../shared, skipped without it), and the
 * derivation rules on whole patients (weight choice, absent-with-reason, bands, flags). */
#include "testutil.h"
#include "clinical/clinical.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 0.1)

/* ============================================================================================
 * Hand-worked examples
 * ========================================================================================== */
static void test_bmi_bsa(void **state) {
    (void)state;
    /* 70 kg, 175 cm: BMI = 70 / 1.75² = 70 / 3.0625 = 22.86 */
    NEAR(orx_calc_bmi(70, 175), 22.86);
    /* Mosteller: sqrt(175 × 70 / 3600) = sqrt(3.4028) = 1.845 (checked to 0.01) */
    assert_true(fabs(orx_calc_bsa_mosteller(70, 175) - 1.845) < 0.01);
}

static void test_ibw_adjbw(void **state) {
    (void)state;
    /* male 180 cm = 70.87 in: 50 + 2.3 × 10.87 = 74.99 kg */
    NEAR(orx_calc_ibw_devine(ORX_SEX_MALE, 180), 74.99);
    /* female 165 cm = 64.96 in: 45.5 + 2.3 × 4.96 = 56.91 kg */
    NEAR(orx_calc_ibw_devine(ORX_SEX_FEMALE, 165), 56.91);
    /* sex unknown → not a number (never a default) */
    assert_true(isnan(orx_calc_ibw_devine(ORX_SEX_UNKNOWN, 165)));
    /* IBW 60, actual 100: 60 + 0.4 × 40 = 76 */
    NEAR(orx_calc_adjbw(60, 100), 76.0);
}

static void test_cockcroft_gault(void **state) {
    (void)state;
    /* male 60 y, 72 kg, SCr 1.0: (80 × 72) / (72 × 1.0) = 80 mL/min; female × 0.85 = 68 */
    NEAR(orx_calc_crcl_cg(60, 72, 1.0, ORX_SEX_MALE), 80.0);
    NEAR(orx_calc_crcl_cg(60, 72, 1.0, ORX_SEX_FEMALE), 68.0);
    /* male 85 y, 50 kg, SCr 2.0: (55 × 50) / 144 = 19.10 */
    NEAR(orx_calc_crcl_cg(85, 50, 2.0, ORX_SEX_MALE), 19.10);
}

static void test_weight_rule(void **state) {
    (void)state;
    double w;
    /* underweight → actual */
    assert_int_equal(orx_calc_crcl_weight(17.0, 45, 60, 54, &w), ORX_WEIGHT_ACTUAL);
    NEAR(w, 45);
    /* normal, IBW below actual → IBW */
    assert_int_equal(orx_calc_crcl_weight(22.0, 70, 65, 67, &w), ORX_WEIGHT_IDEAL);
    NEAR(w, 65);
    /* normal, actual below IBW → actual */
    assert_int_equal(orx_calc_crcl_weight(19.0, 55, 60, 58, &w), ORX_WEIGHT_ACTUAL);
    NEAR(w, 55);
    /* overweight → adjusted */
    assert_int_equal(orx_calc_crcl_weight(31.0, 100, 60, 76, &w), ORX_WEIGHT_ADJUSTED);
    NEAR(w, 76);
}

static void test_ckd_epi_2021(void **state) {
    (void)state;
    /* male 50 y, SCr 1.0: 142 × (1.0/0.9)^−1.200 × 0.9938^50
     *   = 142 × 0.88124 × 0.73275 = 91.69 */
    NEAR(orx_calc_egfr_ckdepi2021(1.0, 50, ORX_SEX_MALE), 91.69);
    /* female 50 y, SCr 0.6: 142 × (0.6/0.7)^−0.241 × 0.9938^50 × 1.012
     *   = 142 × 1.03785 × 0.73275 × 1.012 = 109.28 */
    NEAR(orx_calc_egfr_ckdepi2021(0.6, 50, ORX_SEX_FEMALE), 109.28);
    /* female 82 y, SCr 1.6: 142 × (1.6/0.7)^−1.200 × 0.9938^82 × 1.012 = 32.00 */
    NEAR(orx_calc_egfr_ckdepi2021(1.6, 82, ORX_SEX_FEMALE), 32.00);
    assert_true(isnan(orx_calc_egfr_ckdepi2021(1.0, 50, ORX_SEX_UNKNOWN)));
}

static void test_bands_and_age(void **state) {
    (void)state;
    assert_int_equal(orx_calc_renal_band(95), ORX_RENAL_NORMAL);
    assert_int_equal(orx_calc_renal_band(90), ORX_RENAL_NORMAL);
    assert_int_equal(orx_calc_renal_band(89.9), ORX_RENAL_MILD);
    assert_int_equal(orx_calc_renal_band(45), ORX_RENAL_MODERATE);
    assert_int_equal(orx_calc_renal_band(29.9), ORX_RENAL_SEVERE);
    assert_int_equal(orx_calc_renal_band(14), ORX_RENAL_FAILURE);
    assert_int_equal(orx_calc_age_band(17.9), ORX_AGE_PEDIATRIC);
    assert_int_equal(orx_calc_age_band(64), ORX_AGE_ADULT);
    assert_int_equal(orx_calc_age_band(65), ORX_AGE_GERIATRIC);
    int y;
    assert_true(orx_calc_age_years("1943-06-14", "2026-01-01", &y));
    assert_int_equal(y, 82);
    assert_true(orx_calc_age_years("1943-06-14", "2026-06-14", &y)); /* birthday today */
    assert_int_equal(y, 83);
    assert_true(orx_calc_age_years("1943-06-14", "2026-06-13", &y));
    assert_int_equal(y, 82);
    assert_true(orx_calc_age_years("2000-02-29", "2025-02-28", &y));
    assert_int_equal(y, 24);
    assert_false(orx_calc_age_years("1943-13-01", "2026-01-01", &y));
    assert_false(orx_calc_age_years("yesterday", "2026-01-01", &y));
}

static void test_units(void **state) {
    (void)state;
    double v;
    assert_true(orx_clinical_convert(ORX_LAB_WEIGHT, 154, "[lb_av]", &v));
    NEAR(v, 69.85);
    assert_true(orx_clinical_convert(ORX_LAB_WEIGHT, 70500, "g", &v));
    NEAR(v, 70.5);
    assert_true(orx_clinical_convert(ORX_LAB_HEIGHT, 64, "[in_i]", &v));
    NEAR(v, 162.56);
    assert_true(orx_clinical_convert(ORX_LAB_HEIGHT, 1.75, "m", &v));
    NEAR(v, 175);
    assert_true(orx_clinical_convert(ORX_LAB_SCR, 88.4, "umol/L", &v));
    NEAR(v, 1.0);
    assert_true(orx_clinical_convert(ORX_LAB_SCR, 176.8, "\xC2\xB5mol/L", &v)); /* µmol/L */
    NEAR(v, 2.0);
    assert_false(orx_clinical_convert(ORX_LAB_WEIGHT, 10, "[stone_av]", &v));
    assert_false(orx_clinical_convert(ORX_LAB_SCR, 1, "mmol/L", &v));
    assert_false(orx_clinical_convert(ORX_LAB_HEIGHT, 1, "kg", &v));
}

/* ============================================================================================
 * Whole patients (openrx form)
 * ========================================================================================== */
static orx_patient *load_str(const char *json, const char *as_of) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_parse(json, strlen(json), "test", as_of, &p, &err);
    if (st != ORX_OK) print_message("parse failed: %s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    return p;
}

static void test_demo_patient(void **state) {
    (void)state;
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json",
                                                    orx_test_source_dir()), "2026-01-01", &p, &err), ORX_OK);
    /* born 1943-06-14, as of 2026-01-01 → 82 */
    assert_true(p->age.present);
    NEAR(p->age.value, 82);
    assert_int_equal(p->age_band, ORX_AGE_GERIATRIC);
    assert_int_equal(p->sex, ORX_SEX_FEMALE);
    /* SCr 141 µmol/L = 141 / 88.4 = 1.595 mg/dL */
    assert_true(fabs(p->labs[ORX_LAB_SCR].value - 1.595) < 0.01);
    /* 58 kg, 160 cm: BMI 58 / 2.56 = 22.66 → normal → min(IBW 52.38, 58) = IBW */
    NEAR(p->bmi.value, 22.66);
    NEAR(p->ibw.value, 52.38);
    assert_int_equal(p->crcl_weight, ORX_WEIGHT_IDEAL);
    /* (140 − 82) × 52.38 × 0.85 / (72 × 1.595) = 22.49 mL/min → severe */
    NEAR(p->crcl.value, 22.49);
    assert_int_equal(p->renal_band, ORX_RENAL_SEVERE);
    assert_non_null(strstr(p->crcl.inputs, "ideal"));
    /* eGFR: 142 × (1.595/0.7)^−1.2 × 0.9938^82 × 1.012 = 32.12 */
    NEAR(p->egfr.value, 32.12);
    assert_true(p->n_meds >= 5);
    bool warfarin = false;
    for (size_t i = 0; i < p->n_meds; i++) warfarin |= strstr(p->meds[i].text, "warfarin") != NULL;
    assert_true(warfarin);
    orx_patient_free(p);
}

static void test_missing_inputs_are_absent(void **state) {
    (void)state;
    /* no creatinine, no height: BMI/IBW/CrCl absent with reasons; nothing defaulted */
    orx_patient *p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1960-01-01\",\"sex\":\"male\","
                              "\"labs\":[{\"kind\":\"weight\",\"value\":80,\"unit\":\"kg\"}]}", "2026-01-01");
    assert_false(p->bmi.present);
    assert_non_null(strstr(p->bmi.why_absent, "height"));
    assert_false(p->crcl.present);
    assert_non_null(strstr(p->crcl.why_absent, "creatinine"));
    assert_false(p->egfr.present);
    assert_int_equal(p->renal_band, ORX_RENAL_UNKNOWN);
    assert_int_equal(p->pregnant, ORX_TRI_NO); /* male */
    orx_patient_free(p);

    /* creatinine but no weight → CrCl absent (weight), eGFR present */
    p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1960-01-01\",\"sex\":\"female\","
                 "\"labs\":[{\"kind\":\"scr\",\"value\":1.0,\"unit\":\"mg/dL\"}]}", "2026-01-01");
    assert_false(p->crcl.present);
    assert_non_null(strstr(p->crcl.why_absent, "weight"));
    assert_true(p->egfr.present);
    assert_int_equal(p->pregnant, ORX_TRI_UNKNOWN); /* female, not recorded */
    orx_patient_free(p);

    /* sex unknown → IBW, CrCl, eGFR absent */
    p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1960-01-01\",\"labs\":["
                 "{\"kind\":\"scr\",\"value\":1.0,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":70,\"unit\":\"kg\"},"
                 "{\"kind\":\"height\",\"value\":170,\"unit\":\"cm\"}]}", "2026-01-01");
    assert_true(p->bmi.present);
    assert_false(p->ibw.present);
    assert_false(p->crcl.present);
    assert_non_null(strstr(p->crcl.why_absent, "sex"));
    assert_false(p->egfr.present);
    orx_patient_free(p);

    /* no birthDate → age absent → CrCl absent */
    p = load_str("{\"openrx_patient\":1,\"sex\":\"male\",\"labs\":["
                 "{\"kind\":\"scr\",\"value\":1.0,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":70,\"unit\":\"kg\"}]}",
                 "2026-01-01");
    assert_false(p->age.present);
    assert_false(p->crcl.present);
    assert_non_null(strstr(p->crcl.why_absent, "age"));
    orx_patient_free(p);

    /* child: CrCl and CKD-EPI absent (adult equations) */
    p = load_str("{\"openrx_patient\":1,\"birthDate\":\"2015-01-01\",\"sex\":\"male\",\"labs\":["
                 "{\"kind\":\"scr\",\"value\":0.5,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":30,\"unit\":\"kg\"}]}",
                 "2026-01-01");
    assert_int_equal(p->age_band, ORX_AGE_PEDIATRIC);
    assert_false(p->crcl.present);
    assert_false(p->egfr.present);
    orx_patient_free(p);
}

static void test_weight_choice_on_patients(void **state) {
    (void)state;
    /* no height: actual weight, rule says why. male 70 y, 70 kg, SCr 1.4:
     * (70 × 70) / (72 × 1.4) = 4900 / 100.8 = 48.61 */
    orx_patient *p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1955-06-01\",\"sex\":\"male\",\"labs\":["
                              "{\"kind\":\"scr\",\"value\":1.4,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":70,\"unit\":\"kg\"}]}",
                              "2025-12-01");
    assert_int_equal(p->crcl_weight, ORX_WEIGHT_ACTUAL);
    assert_non_null(strstr(p->crcl_weight_rule, "height not recorded"));
    NEAR(p->crcl.value, 48.61);
    orx_patient_free(p);
    /* obese: female 60 y, 120 kg, 165 cm, SCr 0.9. IBW = 56.91; AdjBW = 56.91 + 0.4 × 63.09 = 82.15;
     * CrCl = (80 × 82.15 × 0.85) / (72 × 0.9) = 5586.2 / 64.8 = 86.21 */
    p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1965-06-01\",\"sex\":\"female\",\"labs\":["
                 "{\"kind\":\"scr\",\"value\":0.9,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":120,\"unit\":\"kg\"},"
                 "{\"kind\":\"height\",\"value\":165,\"unit\":\"cm\"}]}", "2025-12-01");
    assert_int_equal(p->crcl_weight, ORX_WEIGHT_ADJUSTED);
    NEAR(p->adjbw.value, 82.15);
    NEAR(p->crcl.value, 86.21);
    orx_patient_free(p);
}

/* ============================================================================================
 * MedCalc-Bench one-shot exemplars (../shared/data/medcalc-bench-examples)
 * ========================================================================================== */
static double param_value(json_t *params, const char *key, orx_lab_kind kind) {
    json_t *pair = json_object_get(params, key);
    double v = json_number_value(json_array_get(pair, 0));
    const char *unit = json_string_value(json_array_get(pair, 1));
    if (kind == ORX_LAB_COUNT) return v; /* age */
    if (unit && !strcmp(unit, "lbs")) unit = "lb";
    double out;
    assert_true(orx_clinical_convert(kind, v, unit, &out));
    return out;
}

static orx_sex param_sex(json_t *params) {
    const char *s = json_string_value(json_object_get(params, "sex"));
    return s && !strcmp(s, "Male") ? ORX_SEX_MALE : s && !strcmp(s, "Female") ? ORX_SEX_FEMALE : ORX_SEX_UNKNOWN;
}

static void test_medcalc_exemplars(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    const char *path = orx_test_path("%s/data/medcalc-bench-examples/one_shot_finalized_explanation.json",
                                     orx_test_shared_dir());
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    int checked = 0;
    const char *id;
    json_t *ex;
    json_object_foreach(root, id, ex) {
        json_t *in = json_object_get(ex, "input_parameters");
        double answer = json_number_value(json_object_get(json_object_get(ex, "Response"), "answer"));
        double got;
        if (!strcmp(id, "2")) { /* Cockcroft–Gault with the MedCalc weight rule */
            double age = param_value(in, "age", ORX_LAB_COUNT), wt = param_value(in, "weight", ORX_LAB_WEIGHT);
            double ht = param_value(in, "height", ORX_LAB_HEIGHT), scr = param_value(in, "creatinine", ORX_LAB_SCR);
            orx_sex sex = param_sex(in);
            double ibw = orx_calc_ibw_devine(sex, ht), w;
            orx_calc_crcl_weight(orx_calc_bmi(wt, ht), wt, ibw, orx_calc_adjbw(ibw, wt), &w);
            got = orx_calc_crcl_cg(age, w, scr, sex);
        } else if (!strcmp(id, "3")) {
            got = orx_calc_egfr_ckdepi2021(param_value(in, "creatinine", ORX_LAB_SCR),
                                           param_value(in, "age", ORX_LAB_COUNT), param_sex(in));
        } else if (!strcmp(id, "6")) {
            got = orx_calc_bmi(param_value(in, "weight", ORX_LAB_WEIGHT), param_value(in, "height", ORX_LAB_HEIGHT));
        } else if (!strcmp(id, "10")) {
            got = orx_calc_ibw_devine(param_sex(in), param_value(in, "height", ORX_LAB_HEIGHT));
        } else if (!strcmp(id, "60")) {
            got = orx_calc_bsa_mosteller(param_value(in, "weight", ORX_LAB_WEIGHT), param_value(in, "height", ORX_LAB_HEIGHT));
        } else if (!strcmp(id, "62")) {
            double ibw = orx_calc_ibw_devine(param_sex(in), param_value(in, "height", ORX_LAB_HEIGHT));
            got = orx_calc_adjbw(ibw, param_value(in, "weight", ORX_LAB_WEIGHT));
        } else continue;
        print_message("MedCalc calculator %s: expected %.5f, got %.5f\n", id, answer, got);
        assert_true(fabs(got - answer) < 0.1);
        checked++;
    }
    json_decref(root);
    assert_int_equal(checked, 6);
}

/* MedCalc calculator 2 through the whole patient pipeline (openrx form). */
static void test_medcalc_crcl_pipeline(void **state) {
    (void)state;
    /* 53-year-old man, 175 cm, 87 kg, SCr 1.39 mg/dL → 67.00 mL/min with adjusted weight 77.08 kg
     * (answer 67.00495 in the one-shot explanation) */
    orx_patient *p = load_str("{\"openrx_patient\":1,\"birthDate\":\"1972-01-01\",\"sex\":\"male\",\"labs\":["
                              "{\"kind\":\"scr\",\"value\":1.39,\"unit\":\"mg/dL\"},{\"kind\":\"weight\",\"value\":87,\"unit\":\"kg\"},"
                              "{\"kind\":\"height\",\"value\":175,\"unit\":\"cm\"}]}", "2025-06-01");
    NEAR(p->age.value, 53);
    assert_int_equal(p->crcl_weight, ORX_WEIGHT_ADJUSTED);
    NEAR(p->crcl_weight_kg, 77.08);
    NEAR(p->crcl.value, 67.00);
    orx_patient_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmi_bsa),
        cmocka_unit_test(test_ibw_adjbw),
        cmocka_unit_test(test_cockcroft_gault),
        cmocka_unit_test(test_weight_rule),
        cmocka_unit_test(test_ckd_epi_2021),
        cmocka_unit_test(test_bands_and_age),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_demo_patient),
        cmocka_unit_test(test_missing_inputs_are_absent),
        cmocka_unit_test(test_weight_choice_on_patients),
        cmocka_unit_test(test_medcalc_exemplars),
        cmocka_unit_test(test_medcalc_crcl_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
