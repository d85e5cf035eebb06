/* test_label_groups.c — label interaction statements limited to a group of patients
 * (interactions.c, "Patient groups"): the shipped aliskiren statements "Do not use aliskiren with
 * ARBs or ACEIs in patients with diabetes" (contraindicated) and "Avoid use of aliskiren with … in
 * patients with renal impairment (GFR < 60 ml/min)" (major) keep their tier for a patient in the
 * group or whose record cannot say, and are kept as information, with the reason, for a patient
 * the record places outside it; a statement that names a group only as "especially in patients
 * with …" is not limited by it. Uses the project's data/ (no ../shared). */
#include "testutil.h"
#include "safety/checks.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static orx_checker *CK;

static int setup(void **state) {
    (void)state;
    return (CK = orx_test_checker()) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    orx_checker_free(CK);
    return 0;
}

/* A 60-year-old man, 80 kg, 175 cm, taking `current` (one medicine, or a JSON array of
 * medicine objects when it starts with '['); conditions and serum creatinine (mg/dL, < 0 = none)
 * as given. */
static orx_patient *patient(const char *current, const char *conditions_json, double scr) {
    char labs[256] = "";
    if (scr >= 0)
        snprintf(labs, sizeof labs,
                 "{\"kind\":\"weight\",\"value\":80,\"unit\":\"kg\",\"date\":\"2026-01-01\"},"
                 "{\"kind\":\"height\",\"value\":175,\"unit\":\"cm\",\"date\":\"2026-01-01\"},"
                 "{\"kind\":\"scr\",\"value\":%.2f,\"unit\":\"mg/dL\",\"date\":\"2026-01-01\"}",
                 scr);
    char meds[512], js[1536];
    if (current[0] == '[') snprintf(meds, sizeof meds, "%s", current);
    else snprintf(meds, sizeof meds, "[{\"text\":\"%s\"}]", current);
    snprintf(js, sizeof js,
             "{\"openrx_patient\":1,\"id\":\"t\",\"sex\":\"male\",\"birthDate\":\"1966-01-01\","
             "\"medications\":%s,\"conditions\":%s,\"labs\":[%s]}",
             meds, conditions_json, labs);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(js, strlen(js), "t", "2026-01-02", &p, &err) != ORX_OK) fail_msg("patient: %s", err.msg);
    return p;
}

/* The interaction finding between the proposed drug and the patient's medicine. */
static orx_finding check(const orx_patient *p, const char *proposed) {
    orx_error err = ORX_ERROR_INIT;
    orx_proposed_drug d;
    assert_int_equal(orx_proposed_drug_init(CK, proposed, NULL, &d, &err), ORX_OK);
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_proposed(CK, p, &d, 1, &fs, &err), ORX_OK);
    orx_finding out;
    memset(&out, 0, sizeof out);
    bool found = false;
    for (size_t i = 0; i < fs.n && !found; i++)
        if (!strcmp(fs.items[i].kind, "interaction") || !strcmp(fs.items[i].kind, "duplicate")) {
            out = fs.items[i];
            found = true;
        }
    orx_findings_clear(&fs);
    if (!found) fail_msg("no interaction finding for %s", proposed);
    print_message("  %s [%s]: %.300s\n", out.drugs, orx_severity_name(out.severity), out.message);
    return out;
}

static void test_diabetes_in_group(void **state) {
    (void)state;
    orx_patient *p = patient("lisinopril 10 mg tablet", "[{\"text\":\"Diabetes mellitus type 2\"}]", 0.9);
    orx_finding f = check(p, "aliskiren 150 mg tablet");
    assert_int_equal(f.severity, ORX_SEV_CONTRAINDICATED);
    assert_non_null(strstr(f.message, "label limits this to patients with diabetes"));
    assert_non_null(strstr(f.message, "this patient is in that group: the problem list has \"Diabetes mellitus type 2\""));
    assert_non_null(strstr(f.quote, "diabetes"));
    orx_patient_free(p);
}

static void test_diabetes_medicine_stands_for_diagnosis(void **state) {
    (void)state;
    /* metformin on the medicine list, diabetes missing from the problem list: not "outside" */
    orx_patient *p = patient("[{\"text\":\"lisinopril 10 mg tablet\"},{\"text\":\"metformin 500 mg tablet\"}]",
                             "[{\"text\":\"Essential hypertension\"}]", 0.9);
    orx_finding f = check(p, "aliskiren 150 mg tablet");
    assert_int_equal(f.severity, ORX_SEV_CONTRAINDICATED);
    assert_non_null(strstr(f.message, "the patient takes metformin, a hypoglycemic agent"));
    orx_patient_free(p);
}

static void test_record_cannot_say(void **state) {
    (void)state;
    /* no problems and no creatinine: neither group can be judged, the label's tier stands */
    orx_patient *p = patient("lisinopril 10 mg tablet", "[]", -1);
    orx_finding f = check(p, "aliskiren 150 mg tablet");
    assert_int_equal(f.severity, ORX_SEV_CONTRAINDICATED);
    assert_non_null(strstr(f.message, "the record cannot say: the record lists no problems"));
    orx_patient_free(p);
}

static void test_outside_both_groups(void **state) {
    (void)state;
    /* hypertension only, creatinine 0.9 mg/dL (eGFR > 90): neither diabetes nor GFR < 60 */
    orx_patient *p = patient("lisinopril 10 mg tablet", "[{\"text\":\"Essential hypertension\"}]", 0.9);
    orx_finding f = check(p, "aliskiren 150 mg tablet");
    assert_true(f.severity < ORX_SEV_MAJOR);
    assert_false(f.interruptive);
    if (f.severity == ORX_SEV_INFO) { /* every hit was limited to a group: the top one says why */
        assert_non_null(strstr(f.message, "Kept as information only"));
        assert_non_null(strstr(f.message, "this patient is not in that group"));
    }
    /* the statements set aside are still listed, at info */
    assert_non_null(strstr(f.also, "(info)"));
    orx_patient_free(p);
}

static void test_renal_group(void **state) {
    (void)state;
    /* no diabetes, creatinine 2.0 mg/dL at 60 years (eGFR about 37): the GFR < 60 statement
     * applies (major), the diabetes one does not */
    orx_patient *p = patient("lisinopril 10 mg tablet", "[{\"text\":\"Essential hypertension\"}]", 2.0);
    orx_finding f = check(p, "aliskiren 150 mg tablet");
    assert_int_equal(f.severity, ORX_SEV_MAJOR);
    assert_non_null(strstr(f.message, "this patient is in that group: "));
    assert_true(strstr(f.message, "eGFR") || strstr(f.message, "CrCl") || strstr(f.message, "renal function"));
    orx_patient_free(p);
}

static void test_especially_is_not_a_limit(void **state) {
    (void)state;
    /* triamterene's "… especially in patients with renal impairment": the statement is about
     * everyone taking both; normal renal function does not set it aside */
    orx_patient *p = patient("lisinopril 10 mg tablet", "[{\"text\":\"Essential hypertension\"}]", 0.9);
    orx_finding f = check(p, "triamterene 50 mg capsule");
    assert_true(f.severity >= ORX_SEV_MODERATE);
    assert_null(strstr(f.message, "Kept as information only"));
    orx_patient_free(p);
}

/* The group read from shipped sentences (each must be in data/rules/label_ddi.tsv): limited ones
 * and ones that name a group without being limited to it. Then the count over the whole table. */
static void test_group_parse_on_shipped_sentences(void **state) {
    (void)state;
    static const struct { const char *text; int kind; const char *words; } CASES[] = {
        {"Do not use aliskiren with ARBs or ACEIs in patients with diabetes", 1, "patients with diabetes"},
        {"Tekturna is contraindicated in patients with diabetes who are receiving ARBs or ACEIs", 1, "patients with diabetes"},
        {"In diabetics, do not use in combination with angiotensin receptor blockers", 1, "patients with diabetes"},
        {"In diabetic patients, glipizide exposure was increased by 34%", 1, "diabetic patients"},
        {"Avoid use of Tekturna with ARBs or ACEIs in patients with moderate renal impairment (GFR 60 ml/min).", 2,
         "patients with moderate renal impairment (GFR 60 ml/min)"},
        {"Concomitant use of aliskiren with an ARB or ACEI is not recommended in patients with GFR 60 ml/min", 2,
         "patients with GFR 60 ml/min"},
        {"is coadministered with PRADAXA in patients with moderate renal impairment (CrCl 30-50 mL/min).", 2,
         "patients with moderate renal impairment (CrCl 30-50 mL/min)"},
        /* named, not limiting */
        {"potassium-sparing nature of triamterene, especially in patients with renal insufficiency", 0, ""},
        {"LIVALO should be administered with caution in patients with impaired renal function, in elderly patients, "
         "or when used concomitantly with fibrates", 0, ""},
        {"Risk factors for the development of hyperkalemia include renal insufficiency, diabetes, combination use "
         "with ARBs or ACEIs", 0, ""},
        {"Aspirin should be used with caution in patients on anticoagulant therapy and in patients with underlying "
         "hemostatic defects", 0, ""},
        {"or who have compromised renal function, coadministration of NSAIDs", 0, ""},
    };
    const char *path = orx_test_path("%s/data/rules/label_ddi.tsv", orx_test_source_dir());
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *tsv = malloc((size_t)len + 1);
    assert_non_null(tsv);
    assert_int_equal(fread(tsv, 1, (size_t)len, f), (size_t)len);
    tsv[len] = 0;
    fclose(f);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        if (!strstr(tsv, CASES[i].text)) fail_msg("not in the shipped table: %s", CASES[i].text);
        char words[128];
        int k = orx_label_group_kind(CASES[i].text, words, sizeof words);
        if (k != CASES[i].kind || strcmp(words, CASES[i].words))
            fail_msg("\"%s\": group %d \"%s\", want %d \"%s\"", CASES[i].text, k, words, CASES[i].kind, CASES[i].words);
    }
    /* the whole table: rule rows whose statement is limited to each group */
    size_t rules = 0, by_kind[3] = {0};
    for (char *line = tsv, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (strncmp(line, "rule\t", 5)) continue;
        char *col = line;
        for (int c = 0; c < 11 && col; c++) { /* the quote is column 12 */
            col = strchr(col, '\t');
            if (col) col++;
        }
        if (!col) continue;
        char *end = strchr(col, '\t');
        if (end) *end = 0;
        rules++;
        by_kind[orx_label_group_kind(col, NULL, 0)]++;
    }
    print_message("  label_ddi.tsv: %zu rule rows; limited to patients with diabetes %zu, with impaired renal "
                  "function %zu\n", rules, by_kind[1], by_kind[2]);
    assert_true(by_kind[1] > 0 && by_kind[2] > 0);
    free(tsv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diabetes_in_group),
        cmocka_unit_test(test_diabetes_medicine_stands_for_diagnosis),
        cmocka_unit_test(test_record_cannot_say),
        cmocka_unit_test(test_outside_both_groups),
        cmocka_unit_test(test_renal_group),
        cmocka_unit_test(test_especially_is_not_a_limit),
        cmocka_unit_test(test_group_parse_on_shipped_sentences),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
