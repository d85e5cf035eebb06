/*
 * test_dose_combination.c — combination products: names written "a/b", "a-b", "a and b" resolve
 * to both ingredients (and a half the lexicon cannot code, "SMX-TMP", does not); combination
 * strengths "800 mg/160 mg", "800-160 mg", "800/160 mg" parse as one amount per ingredient for a
 * 2-ingredient drug, while "800-160 mg" for a single-ingredient drug is still a reversed range;
 * the demo patient's sulfamethoxazole allergy fires through the combination.
 */
#include "testutil.h"
#include "safety/safety.h"

#include <math.h>
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

static void expect_two(const char *text) {
    orx_lex_match m[8];
    int n = orx_lexicon_lookup(orx_checker_lexicon(CK), text, m, 8);
    print_message("%s -> %d\n", text, n);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].ingredient, "sulfamethoxazole");
    assert_string_equal(m[1].ingredient, "trimethoprim");
}

static void test_combination_names(void **state) {
    (void)state;
    expect_two("sulfamethoxazole/trimethoprim");
    expect_two("Sulfamethoxazole/Trimethoprim 800 mg/160 mg orally twice daily");
    expect_two("sulfamethoxazole and trimethoprim");
    expect_two("sulfamethoxazole-trimethoprim 800-160 mg");
    expect_two("sulfamethoxazole / trimethoprim");
    /* "TMP" is no sourced synonym of trimethoprim (only a DrugBank chemical without an RxCUI):
     * the abbreviation stays unrecognised rather than guessed */
    orx_lex_match m[8];
    assert_int_equal(orx_lexicon_lookup(orx_checker_lexicon(CK), "SMX-TMP DS", m, 8), 0);
    /* a dose strength is never split into names */
    assert_int_equal(orx_lexicon_lookup(orx_checker_lexicon(CK), "mg/kg", m, 8), 0);
}

static void parse_ok(const char *text, int n_ingr, orx_dose *d) {
    orx_error err = ORX_ERROR_INIT;
    if (orx_dose_parse_n(text, n_ingr, d, &err) != ORX_OK) fail_msg("%s: %s", text, err.msg);
}

static void test_combination_strengths(void **state) {
    (void)state;
    orx_dose d;
    const char *forms[] = {"800 mg/160 mg orally twice daily", "800-160 mg orally twice daily",
                           "800/160 mg orally twice daily", "800 mg / 160 mg orally bid"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        parse_ok(forms[i], 2, &d);
        print_message("%s -> parts %d: %g %g %s, %g/day\n", forms[i], d.n_parts, d.part[0], d.part[1], d.unit, d.per_day);
        assert_int_equal(d.n_parts, 2);
        assert_true(fabs(d.part[0] - 800) < 1e-9 && fabs(d.part[1] - 160) < 1e-9);
        assert_string_equal(d.unit, "mg");
        assert_true(fabs(d.amount - 800) < 1e-9);
        assert_true(fabs(d.per_day - 2) < 1e-9);
    }
    /* "A mg/B mg" is a combination strength whatever the ingredient count */
    parse_ok("800 mg/160 mg twice daily", 1, &d);
    assert_int_equal(d.n_parts, 2);
    /* a count range on a combination stays a range */
    parse_ok("1-2 tablets twice daily", 2, &d);
    assert_int_equal(d.n_parts, 0);
    assert_true(fabs(d.amount_low - 1) < 1e-9 && fabs(d.amount - 2) < 1e-9);
    /* single ingredient: "800-160 mg" is a reversed range, an error naming the column */
    orx_error err = ORX_ERROR_INIT;
    assert_int_not_equal(orx_dose_parse_n("800-160 mg", 1, &d, &err), ORX_OK);
    assert_non_null(strstr(err.msg, "reversed"));
    /* strengths per volume are still not doses */
    parse_ok("250 mg/5 mL 10 mL orally every 8 hours", 1, &d);
    assert_string_equal(d.unit, "mL");
    assert_true(fabs(d.amount - 10) < 1e-9);
}

/* The proposed-drug record parses with the resolved ingredient count; the allergy check (an
 * existing check) then sees sulfamethoxazole in the combination. */
static void test_demo_sulfa_allergy_through_combination(void **state) {
    (void)state;
    orx_patient *pt = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json",
                                                    orx_test_source_dir()), "2026-01-01", &pt, &err), ORX_OK);
    const char *texts[] = {"sulfamethoxazole/trimethoprim 800 mg/160 mg orally twice daily",
                           "sulfamethoxazole-trimethoprim 800-160 mg orally twice daily"};
    for (size_t t = 0; t < 2; t++) {
        orx_proposed_drug d;
        assert_int_equal(orx_proposed_drug_init(CK, texts[t], NULL, &d, &err), ORX_OK);
        assert_int_equal(d.n_ingr, 2);
        assert_string_equal(d.dose_error, "");
        assert_int_equal(d.dose.n_parts, 2);
        orx_findings fs;
        orx_findings_init(&fs);
        assert_int_equal(orx_check_proposed(CK, pt, &d, 1, &fs, &err), ORX_OK);
        bool allergy = false;
        for (size_t i = 0; i < fs.n; i++)
            if (!strcmp(fs.items[i].kind, "allergy") && fs.items[i].severity >= ORX_SEV_MAJOR &&
                strstr(fs.items[i].message, "sulfamethoxazole"))
                allergy = true;
        assert_true(allergy);
        orx_findings_clear(&fs);
    }
    orx_patient_free(pt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combination_names),
        cmocka_unit_test(test_combination_strengths),
        cmocka_unit_test(test_demo_sulfa_allergy_through_combination),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
