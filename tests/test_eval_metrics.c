/* test_eval_metrics.c — the evaluation statistics against hand-computed values (Wilson interval,
 * McNemar exact and chi-square, paired bootstrap, quadratic-weighted kappa) and the report's
 * aggregation of a small hand-made results file. */
#include "testutil.h"
#include "eval/eval.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) < (tol))

static void test_wilson(void **state) {
    (void)state;
    double lo, hi;
    /* k=0, n=1: lo 0, hi = z^2/(1+z^2) = 3.841459/4.841459 = 0.793451 */
    orx_eval_wilson(0, 1, &lo, &hi);
    NEAR(lo, 0, 1e-12);
    NEAR(hi, 0.793451, 1e-6);
    /* k=5, n=10: centre 0.5, half = z*sqrt(0.025 + z^2/400)/(1 + z^2/10) = 0.263407 */
    orx_eval_wilson(5, 10, &lo, &hi);
    NEAR(lo, 0.5 - 0.263407, 1e-5);
    NEAR(hi, 0.5 + 0.263407, 1e-5);
    orx_eval_wilson(0, 0, &lo, &hi);
    assert_true(lo == 0 && hi == 1);
}

static void test_mcnemar(void **state) {
    (void)state;
    NEAR(orx_eval_mcnemar_exact(0, 5), 2.0 / 32, 1e-12);         /* 2 * C(5,0)/2^5 */
    NEAR(orx_eval_mcnemar_exact(1, 4), 2.0 * 6 / 32, 1e-12);     /* 2 * (1+5)/32 = 0.375 */
    NEAR(orx_eval_mcnemar_exact(4, 1), 0.375, 1e-12);            /* symmetric */
    NEAR(orx_eval_mcnemar_exact(3, 3), 1.0, 1e-12);              /* capped at 1 */
    NEAR(orx_eval_mcnemar_exact(0, 0), 1.0, 1e-12);
    NEAR(orx_eval_mcnemar_exact(2, 10), 2.0 * (1 + 12 + 66) / 4096, 1e-12); /* 0.0385742 */
    NEAR(orx_eval_mcnemar_chi2(10, 2), 49.0 / 12, 1e-12);        /* (|10-2|-1)^2 / 12 */
    NEAR(orx_eval_mcnemar_chi2(3, 3), 0, 1e-12);
}

static void test_bootstrap(void **state) {
    (void)state;
    double a[3] = {1, 1, 1}, b[3] = {0, 0, 0}, m, lo, hi;
    orx_eval_bootstrap_diff(a, b, 3, 500, 1, &m, &lo, &hi);
    NEAR(m, 1, 1e-12);
    NEAR(lo, 1, 1e-12);
    NEAR(hi, 1, 1e-12);
    /* two cases, differences {1, 0}: mean 0.5; resamples take means 0, 0.5, 1 (p = 1/4, 1/2, 1/4),
     * so the 2.5 % / 97.5 % percentiles are 0 and 1. */
    double c[2] = {1, 0}, d[2] = {0, 0};
    orx_eval_bootstrap_diff(c, d, 2, 2000, 42, &m, &lo, &hi);
    NEAR(m, 0.5, 1e-12);
    NEAR(lo, 0, 1e-12);
    NEAR(hi, 1, 1e-12);
    /* same seed, same answer */
    double e[6] = {1, 0, 1, 1, 0, 1}, f[6] = {0, 0, 1, 0, 1, 0}, m2, lo2, hi2;
    orx_eval_bootstrap_diff(e, f, 6, 1000, 7, &m, &lo, &hi);
    orx_eval_bootstrap_diff(e, f, 6, 1000, 7, &m2, &lo2, &hi2);
    assert_true(lo == lo2 && hi == hi2);
    NEAR(m, 2.0 / 6, 1e-12);
    assert_true(lo <= m && m <= hi);
    orx_eval_bootstrap_diff(e, f, 0, 1000, 7, &m, &lo, &hi);
    assert_true(isnan(m));
}

static void test_kappa(void **state) {
    (void)state;
    int a[3] = {1, 2, 3}, b[3] = {1, 2, 3};
    NEAR(orx_eval_weighted_kappa(a, b, 3, 3), 1.0, 1e-12);
    /* k=2 (weights = unweighted): po 0.5, pe 0.5 -> 0 */
    int c[4] = {1, 1, 2, 2}, d[4] = {1, 2, 1, 2};
    NEAR(orx_eval_weighted_kappa(c, d, 4, 2), 0.0, 1e-12);
    /* k=3, r1 = 1 2 3 3, r2 = 1 3 3 2: po = 0.875, pe = 10.5/16 -> 7/11 (worked in the comment of
     * the report: weights 1, 0.75, 0 for |i-j| = 0, 1, 2) */
    int e[4] = {1, 2, 3, 3}, f[4] = {1, 3, 3, 2};
    NEAR(orx_eval_weighted_kappa(e, f, 4, 3), 7.0 / 11, 1e-12);
    int g[2] = {1, 6}, h[2] = {1, 1};
    assert_true(isnan(orx_eval_weighted_kappa(g, h, 2, 5))); /* score out of range */
}

/* A hand-made results file: arm X right on c1,c2, wrong on c3; arm Y right on c1 only.
 * accuracy X 2/3, Y 1/3; McNemar b = 1 (c2), c = 0; paired diff mean 1/3. */
static void test_report_aggregation(void **state) {
    (void)state;
    char dir[] = "/tmp/orx-eval-rep-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *rows[] = {
        "{\"key\":\"c1|X|0\",\"case\":\"c1\",\"set\":\"s\",\"kind\":\"rx\",\"arm\":\"X\",\"rep\":0,\"status\":\"ok\",\"truth_counts\":{\"avoid\":1},\"score\":{\"correct\":1,\"avoid_violation\":false,\"dose_checked\":1,\"dose_in_range\":1,\"abstained\":false},\"answer\":{\"schema_valid\":true,\"candidates\":[{}]},\"findings_by_tier\":{\"major\":2},\"timing\":{\"total_s\":1.0}}",
        "{\"key\":\"c2|X|0\",\"case\":\"c2\",\"set\":\"s\",\"kind\":\"rx\",\"arm\":\"X\",\"rep\":0,\"status\":\"ok\",\"truth_counts\":{\"avoid\":1},\"score\":{\"correct\":1,\"avoid_violation\":true,\"dose_checked\":0,\"dose_in_range\":0,\"abstained\":false},\"answer\":{\"schema_valid\":true,\"candidates\":[{}]},\"findings_by_tier\":{\"major\":0},\"timing\":{\"total_s\":3.0}}",
        "{\"key\":\"c3|X|0\",\"case\":\"c3\",\"set\":\"t\",\"kind\":\"rx\",\"arm\":\"X\",\"rep\":0,\"status\":\"ok\",\"truth_counts\":{\"avoid\":0},\"score\":{\"correct\":0,\"avoid_violation\":false,\"dose_checked\":0,\"dose_in_range\":0,\"abstained\":true},\"answer\":{\"schema_valid\":false,\"candidates\":[]}}",
        "{\"key\":\"c1|Y|0\",\"case\":\"c1\",\"set\":\"s\",\"kind\":\"rx\",\"arm\":\"Y\",\"rep\":0,\"status\":\"ok\",\"truth_counts\":{\"avoid\":1},\"score\":{\"correct\":1,\"avoid_violation\":false,\"dose_checked\":0,\"dose_in_range\":0,\"abstained\":false}}",
        "{\"key\":\"c2|Y|0\",\"case\":\"c2\",\"set\":\"s\",\"kind\":\"rx\",\"arm\":\"Y\",\"rep\":0,\"status\":\"error\",\"truth_counts\":{\"avoid\":1},\"score\":{\"correct\":0,\"avoid_violation\":false,\"dose_checked\":0,\"dose_in_range\":0,\"abstained\":true}}",
        "{\"key\":\"c3|Y|0\",\"case\":\"c3\",\"set\":\"t\",\"kind\":\"rx\",\"arm\":\"Y\",\"rep\":0,\"status\":\"ok\",\"truth_counts\":{\"avoid\":0},\"score\":{\"correct\":0,\"avoid_violation\":false,\"dose_checked\":0,\"dose_in_range\":0,\"abstained\":true}}",
        "{\"key\":\"partial", /* incomplete last line: ignored */
    };
    orx_buf b;
    orx_buf_init(&b);
    for (int i = 0; i < 7; i++) orx_buf_printf(&b, "%s%s", rows[i], i < 6 ? "\n" : "");
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_write_file_atomic(orx_test_path("%s/results.jsonl", dir), b.data, b.len, &err), ORX_OK);
    orx_buf_clear(&b);
    char *js = NULL;
    assert_int_equal(orx_eval_report(dir, &js, &err), ORX_OK);
    json_t *r = json_loads(js, 0, NULL);
    assert_non_null(r);
    json_t *x = json_array_get(json_object_get(r, "arms"), 0), *y = json_array_get(json_object_get(r, "arms"), 1);
    assert_string_equal(json_string_value(json_object_get(x, "arm")), "X");
    NEAR(json_number_value(json_object_get(json_object_get(x, "accuracy"), "rate")), 2.0 / 3, 1e-5);
    NEAR(json_number_value(json_object_get(json_object_get(y, "accuracy"), "rate")), 1.0 / 3, 1e-5);
    NEAR(json_number_value(json_object_get(json_object_get(x, "avoid_violation"), "rate")), 0.5, 1e-5); /* 1 of 2 with avoid */
    NEAR(json_number_value(json_object_get(json_object_get(x, "dose_in_range"), "rate")), 1.0, 1e-5);
    NEAR(json_number_value(json_object_get(json_object_get(x, "abstention"), "rate")), 1.0 / 3, 1e-5);
    NEAR(json_number_value(json_object_get(json_object_get(x, "findings_per_recommendation"), "major")), 1.0, 1e-5); /* 2 over 2 recs */
    NEAR(json_number_value(json_object_get(json_object_get(x, "latency_mean"), "total_s")), 2.0, 1e-5);
    assert_int_equal(json_integer_value(json_object_get(y, "errors")), 1);
    json_t *p = json_object_get(json_array_get(json_object_get(r, "pairs"), 0), "accuracy");
    assert_int_equal(json_integer_value(json_object_get(p, "mcnemar_b")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "mcnemar_c")), 0);
    NEAR(json_number_value(json_object_get(p, "mcnemar_p")), 1.0, 1e-12);
    NEAR(json_number_value(json_object_get(p, "diff")), 1.0 / 3, 1e-5);
    assert_int_equal(json_array_size(json_object_get(r, "sets")), 2);
    json_decref(r);
    free(js);
    char *html = NULL;
    size_t n;
    assert_int_equal(orx_read_file(orx_test_path("%s/report.html", dir), 1 << 24, &html, &n, &err), ORX_OK);
    assert_non_null(strstr(html, "<table id=\"arms\">"));
    assert_non_null(strstr(html, "<table id=\"pairs\">"));
    assert_non_null(strstr(html, "<svg id=\"chart-accuracy\""));
    assert_non_null(strstr(html, "Medical quality needs a real model"));
    free(html);
    orx_test_run(NULL, "rm -rf '%s'", dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_mcnemar),
        cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_kappa),
        cmocka_unit_test(test_report_aggregation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
