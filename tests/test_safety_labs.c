/*
 * test_safety_labs.c — the lab-aware check (labs.c) on synthetic patients written inline in the
 * openrx form: potassium statements of an ACE inhibitor and spironolactone at K 5.4 vs 4.2 against
 * the record's reference range (the pair comes out at a higher tier at 5.4), a threshold stated by
 * the label sentence itself when the record has no range, QTc against its range, the INR judged
 * only against a label level, a missing value as "unable to assess", and the INR-dependent
 * switching statements of the anticoagulant labels. Quotes are checked against the shipped table.
 */
#include "testutil.h"
#include "safety/safety.h"

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

/* A 66-year-old man (SCr 1.0, 80 kg) with the given labs JSON fragment and medicines fragment. */
static orx_patient *patient(const char *labs, const char *meds) {
    char json[4096];
    snprintf(json, sizeof json,
             "{\"openrx_patient\":1,\"id\":\"lab-test\",\"birthDate\":\"1959-06-01\",\"sex\":\"male\","
             "\"conditions\":[{\"text\":\"Essential hypertension\"},{\"text\":\"Atrial fibrillation\"}],"
             "\"labs\":[{\"kind\":\"weight\",\"value\":80,\"unit\":\"kg\",\"date\":\"2025-12-01\"},"
             "{\"kind\":\"height\",\"value\":178,\"unit\":\"cm\",\"date\":\"2025-12-01\"},"
             "{\"kind\":\"scr\",\"value\":1.0,\"unit\":\"mg/dL\",\"date\":\"2025-12-01\"}%s%s],"
             "\"medications\":[%s]}", *labs ? "," : "", labs, meds);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(json, strlen(json), "lab-test.json", "2026-01-01", &p, &err) != ORX_OK)
        fail_msg("patient: %s", err.msg);
    return p;
}

static void check(orx_patient *pt, const char *drug, orx_findings *fs) {
    orx_proposed_drug d;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_proposed_drug_init(CK, drug, NULL, &d, &err), ORX_OK);
    assert_true(d.n_ingr > 0);
    orx_findings_init(fs);
    assert_int_equal(orx_check_proposed(CK, pt, &d, 1, fs, &err), ORX_OK);
    for (size_t i = 0; i < fs->n; i++)
        print_message("  [%s/%s] %s | %s | %s\n", fs->items[i].kind, orx_severity_name(fs->items[i].severity),
                      fs->items[i].drugs, fs->items[i].trigger, fs->items[i].message);
}

/* The highest-tier finding of kind whose drugs contain name (NULL: none). */
static const orx_finding *top(const orx_findings *fs, const char *kind, const char *name) {
    const orx_finding *best = NULL;
    for (size_t i = 0; i < fs->n; i++) {
        const orx_finding *f = &fs->items[i];
        if (strcmp(f->kind, kind) || (name && !strstr(f->drugs, name))) continue;
        if (!best || f->severity > best->severity) best = f;
    }
    return best;
}

/* The quote is a quote of the table's rows for this ingredient (column 2). */
static bool quote_in(const char *rel, const char *ingr, const char *quote) {
    char *data = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    if (orx_read_file(orx_test_path("%s/data/%s", orx_test_source_dir(), rel), 0, &data, &len, &err))
        return false;
    bool found = false;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t');
        if (!t1 || strncmp(t1 + 1, ingr, strlen(ingr)) || t1[1 + strlen(ingr)] != '\t') continue;
        char *last = strrchr(line, '\t');
        found = last && !strcmp(last + 1, quote);
    }
    free(data);
    return found;
}

#define SPIRO "{\"text\":\"spironolactone 25 mg\",\"dose\":\"25 mg by mouth once daily\"}"
#define K_RANGED(v) "{\"kind\":\"potassium\",\"value\":" v ",\"unit\":\"mmol/L\",\"date\":\"2025-12-20\"," \
                    "\"reference_range\":{\"low\":3.5,\"high\":5.1}}"

/* ACE inhibitor proposed, spironolactone on the list: higher tier at K 5.4 than at K 4.2. */
static void test_potassium_pair_tier_rises_with_k(void **state) {
    (void)state;
    orx_findings hi, lo;
    orx_patient *p1 = patient(K_RANGED("5.4"), SPIRO);
    orx_patient *p2 = patient(K_RANGED("4.2"), SPIRO);
    check(p1, "lisinopril 10 mg orally once daily", &hi);
    check(p2, "lisinopril 10 mg orally once daily", &lo);
    const orx_finding *a = top(&hi, "lab", "lisinopril"), *b = top(&lo, "lab", "lisinopril");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->severity >= ORX_SEV_MAJOR);
    assert_int_equal(b->severity, ORX_SEV_MINOR);
    assert_true(a->severity > b->severity);
    /* both drugs named, the value with its date and range, the lisinopril sentence quoted */
    assert_non_null(strstr(a->drugs, "spironolactone"));
    assert_non_null(strstr(a->trigger, "5.4 mmol/L on 2025-12-20"));
    assert_non_null(strstr(a->trigger, "high"));
    assert_non_null(strstr(a->message, "lisinopril"));
    assert_true(quote_in("rules/lab_rules.tsv", "lisinopril", a->quote));
    assert_true(quote_in("rules/lab_rules.tsv", "lisinopril", b->quote));
    orx_findings_clear(&hi);
    orx_findings_clear(&lo);
    orx_patient_free(p1);
    orx_patient_free(p2);
}

/* No reference range on record: a threshold the sentence itself states decides (amiloride: "should
 * not be used in the presence of elevated serum potassium levels (greater than 5.5 mEq per
 * liter)"); below it, no alert; no potassium at all -> "unable to assess". */
static void test_potassium_threshold_without_range(void **state) {
    (void)state;
    orx_findings fs;
    orx_patient *p = patient("{\"kind\":\"potassium\",\"value\":5.7,\"unit\":\"mmol/L\",\"date\":\"2025-12-20\"}", "");
    check(p, "amiloride 5 mg orally once daily", &fs);
    const orx_finding *f = top(&fs, "lab", "amiloride");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MAJOR);
    assert_non_null(strstr(f->message, "5.5"));
    assert_true(quote_in("rules/lab_rules.tsv", "amiloride", f->quote));
    orx_findings_clear(&fs);
    orx_patient_free(p);

    p = patient("{\"kind\":\"potassium\",\"value\":4.9,\"unit\":\"mmol/L\",\"date\":\"2025-12-20\"}", "");
    check(p, "amiloride 5 mg orally once daily", &fs);
    f = top(&fs, "lab", "amiloride");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    orx_findings_clear(&fs);
    orx_patient_free(p);

    p = patient("", "");
    check(p, "amiloride 5 mg orally once daily", &fs);
    f = top(&fs, "lab", "amiloride");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->message, "no Potassium on record"));
    assert_non_null(strstr(f->message, "Unable to assess"));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

/* spironolactone alone at a potassium above the record's range: its contraindication applies. */
static void test_single_drug_contraindicated_in_hyperkalaemia(void **state) {
    (void)state;
    orx_findings fs;
    orx_patient *p = patient(K_RANGED("5.4"), "");
    check(p, "spironolactone 25 mg orally once daily", &fs);
    const orx_finding *f = top(&fs, "lab", "spironolactone");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_CONTRAINDICATED);
    assert_non_null(strstr(f->quote, "hyperkalemia"));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

/* QTc above the record's range: sotalol's long-QT statements apply; the INR is never judged by
 * the laboratory range (warfarin at INR 2.6 with a 0.8-1.2 range is no lab alert). */
static void test_qtc_and_inr(void **state) {
    (void)state;
    orx_findings fs;
    orx_patient *p = patient("{\"kind\":\"qtc\",\"value\":510,\"unit\":\"ms\",\"date\":\"2025-12-20\","
                             "\"reference_range\":{\"high\":450}}", "");
    check(p, "sotalol 80 mg orally twice daily", &fs);
    const orx_finding *f = top(&fs, "lab", "sotalol");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MAJOR);
    assert_non_null(strstr(f->trigger, "QTc interval 510 ms"));
    orx_findings_clear(&fs);
    orx_patient_free(p);

    p = patient("{\"kind\":\"inr\",\"value\":2.6,\"unit\":\"{INR}\",\"date\":\"2025-12-20\","
                "\"reference_range\":{\"low\":0.8,\"high\":1.2}}", "");
    check(p, "warfarin 2.5 mg orally once daily", &fs);
    f = top(&fs, "lab", "warfarin");
    assert_true(f == NULL || f->severity == ORX_SEV_INFO);
    orx_findings_clear(&fs);
    orx_patient_free(p);

    p = patient("{\"kind\":\"inr\",\"value\":4.6,\"unit\":\"{INR}\",\"date\":\"2025-12-20\"}", "");
    check(p, "warfarin 2.5 mg orally once daily", &fs);
    f = top(&fs, "lab", "warfarin");
    assert_non_null(f); /* "An INR of greater than 4.0 ... higher risk of bleeding" */
    assert_true(f->severity >= ORX_SEV_MODERATE);
    assert_non_null(strstr(f->quote, "4.0"));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

/* Switching from warfarin: wait while the INR is at or above the label's level; fine below it;
 * no INR -> unable to assess. Only when warfarin is on the list. */
static void test_switching_from_warfarin(void **state) {
    (void)state;
    const char *warf = "{\"text\":\"warfarin 5 mg\",\"dose\":\"5 mg by mouth once daily\"}";
    struct { const char *inr; orx_severity want; const char *needle; } C[] = {
        {"{\"kind\":\"inr\",\"value\":2.6,\"unit\":\"{INR}\",\"date\":\"2025-12-22\"}", ORX_SEV_MAJOR, "Wait before starting"},
        {"{\"kind\":\"inr\",\"value\":1.7,\"unit\":\"{INR}\",\"date\":\"2025-12-22\"}", ORX_SEV_INFO, "is below 2.0"},
        {"", ORX_SEV_INFO, "no INR"},
    };
    for (size_t i = 0; i < 3; i++) {
        orx_findings fs;
        orx_patient *p = patient(C[i].inr, warf);
        check(p, "apixaban 5 mg orally twice daily", &fs);
        const orx_finding *f = top(&fs, "switching", "apixaban");
        assert_non_null(f);
        assert_int_equal(f->severity, C[i].want);
        assert_non_null(strstr(f->message, C[i].needle));
        assert_non_null(strstr(f->drugs, "warfarin"));
        assert_true(quote_in("rules/switching.tsv", "apixaban", f->quote));
        orx_findings_clear(&fs);
        orx_patient_free(p);
    }
    orx_findings fs;
    orx_patient *p = patient("{\"kind\":\"inr\",\"value\":2.6,\"unit\":\"{INR}\",\"date\":\"2025-12-22\"}", "");
    check(p, "apixaban 5 mg orally twice daily", &fs);
    assert_null(top(&fs, "switching", NULL)); /* not on warfarin: no switching statement */
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_potassium_pair_tier_rises_with_k),
        cmocka_unit_test(test_potassium_threshold_without_range),
        cmocka_unit_test(test_single_drug_contraindicated_in_hyperkalaemia),
        cmocka_unit_test(test_qtc_and_inr),
        cmocka_unit_test(test_switching_from_warfarin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
