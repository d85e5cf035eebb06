/* test_dose_parts.c — a dose built from parts (the recommend pipeline's structured drafts) equals
 * the dose read from the same parts written as one string, and bad parts are errors. */
#include "testutil.h"
#include "safety/safety.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void same_as_string(double amount, const char *unit, const char *route, const char *freq) {
    orx_dose_parts parts = {amount, unit, route, freq};
    orx_dose a, b;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_dose_from_parts(&parts, 1, &a, &e), ORX_OK);
    char text[256];
    snprintf(text, sizeof text, "%g %s %s %s", amount, unit, route, freq);
    assert_int_equal(orx_dose_parse(text, &b, &e), ORX_OK);
    print_message("%-40s -> %g %s | %s | %s | %g/day | %g/day total\n", text, a.amount, a.unit, a.route, a.frequency,
                  a.per_day, a.daily_amount);
    assert_true(a.present && b.present);
    assert_true(fabs(a.amount - b.amount) < 1e-12);
    assert_string_equal(a.unit, b.unit);
    assert_string_equal(a.route, b.route);
    assert_string_equal(a.frequency, b.frequency);
    assert_true(fabs(a.per_day - b.per_day) < 1e-12);
    assert_true(fabs(a.interval_h - b.interval_h) < 1e-12);
    assert_true(fabs(a.daily_amount - b.daily_amount) < 1e-9);
    assert_int_equal(a.prn, b.prn);
}

static void test_parts_match_strings(void **state) {
    (void)state;
    same_as_string(2.5, "mg", "oral", "twice daily");
    same_as_string(40, "mEq", "oral", "once daily");
    same_as_string(500, "mg", "iv", "every 8 hours");
    same_as_string(1, "tablet", "oral", "at bedtime");
    same_as_string(400, "mg", "oral", "every 6 hours as needed");
    same_as_string(10, "unit", "subcutaneous", "daily");
    same_as_string(0.5, "mcg/kg", "iv", "q6h");
}

static void test_bad_parts(void **state) {
    (void)state;
    orx_dose d;
    orx_error e = ORX_ERROR_INIT;
    orx_dose_parts zero = {0, "mg", "oral", "daily"};
    assert_int_equal(orx_dose_from_parts(&zero, 1, &d, &e), ORX_ERR_INVALID);
    assert_non_null(strstr(e.msg, "positive"));
    orx_dose_parts unit = {5, "spoonful", "oral", "daily"};
    assert_int_equal(orx_dose_from_parts(&unit, 1, &d, &e), ORX_ERR_PARSE);
    assert_non_null(strstr(e.msg, "spoonful"));
    orx_dose_parts route = {5, "mg", "iv", "orally twice daily"};
    assert_int_equal(orx_dose_from_parts(&route, 1, &d, &e), ORX_ERR_INVALID);
    assert_non_null(strstr(e.msg, "two routes"));
    orx_dose_parts amount = {5, "mg", "oral", "10 mg twice daily"};
    assert_int_equal(orx_dose_from_parts(&amount, 1, &d, &e), ORX_ERR_INVALID);
    /* the same amount restated is no contradiction */
    orx_dose_parts restated = {5, "mg", "oral", "5 mg twice daily"};
    assert_int_equal(orx_dose_from_parts(&restated, 1, &d, &e), ORX_OK);
    assert_true(fabs(d.daily_amount - 10) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_match_strings),
        cmocka_unit_test(test_bad_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
