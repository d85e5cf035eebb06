/* test_eval_cases.c — evaluation case files: loading, validation errors with file:line: field,
 * the shipped case sets (valid, cited, truth traceable to the source rows, patients whose derived
 * renal value lies in the rule's band), and scoring of answers against a case. */
#include "testutil.h"
#include "clinical/clinical.h"
#include "eval/eval.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *write_tmp(const char *text) {
    static char path[6][64];
    static int k;
    char *p = path[k++ % 6];
    snprintf(p, 64, "/tmp/orx-eval-case-XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return p;
}

/* Loading text fails, and the message contains want (after the temp path). */
static void expect_error(const char *text, orx_status code, const char *want) {
    const char *p = write_tmp(text);
    orx_eval_cases cs;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_eval_cases_load(p, &cs, &err);
    print_message("%s\n", err.msg);
    assert_int_equal(st, code);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, want));
    unlink(p);
}

#define GOOD_SRC "\"source\":{\"citation\":\"x\"}"
#define GOOD_PT "\"patient\":{\"openrx_patient\":1,\"birthDate\":\"1950-01-01\",\"sex\":\"male\"}"

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"id\":\"a\"", ORX_ERR_PARSE, ":1:");
    expect_error("\n\n{\"id\":\"a\",\"indication\":\"x\"," GOOD_PT ",\"truth\":{\"avoid\":[{\"drug\":\"x\",\"why\":\"y\"}]}}\n",
                 ORX_ERR_INVALID, ":3: source.citation:");
    expect_error("{\"id\":\"a\",\"indication\":\"x\"," GOOD_SRC ",\"truth\":{\"acceptable\":[\"x\"]}}", ORX_ERR_INVALID, ":1: patient:");
    expect_error("{\"id\":\"a\"," GOOD_PT "," GOOD_SRC ",\"truth\":{\"acceptable\":[\"x\"]}}", ORX_ERR_INVALID, ":1: indication:");
    expect_error("{\"id\":\"a\",\"indication\":\"x\"," GOOD_PT "," GOOD_SRC ",\"truth\":{}}", ORX_ERR_INVALID, ":1: truth: states nothing");
    expect_error("{\"id\":\"a\",\"indication\":\"x\"," GOOD_PT "," GOOD_SRC ",\"truth\":{\"doses\":[{\"drug\":\"d\",\"min\":5,\"max\":2,\"unit\":\"mg\"}]}}",
                 ORX_ERR_RANGE, ":1: truth.doses[0]:");
    expect_error("{\"id\":\"a\",\"indication\":\"x\"," GOOD_PT "," GOOD_SRC ",\"truth\":{\"avoid\":[{\"drug\":\"d\"}]}}",
                 ORX_ERR_INVALID, ":1: truth.avoid[0].why:");
    expect_error("{\"id\":\"a\",\"indication\":\"x\"," GOOD_PT "," GOOD_SRC ",\"truth\":{\"acceptable\":[\"x\"]},\"colour\":1}",
                 ORX_ERR_INVALID, ":1: colour: unknown key");
    expect_error("{\"id\":\"a\",\"type\":\"mcq\",\"question\":\"q\",\"options\":{\"A\":\"x\",\"B\":\"y\"},\"answer\":\"C\"," GOOD_SRC "}",
                 ORX_ERR_INVALID, ":1: answer:");
    expect_error("{\"id\":\"a\",\"type\":\"mcq\",\"question\":\"q\",\"options\":{\"A\":\"x\",\"B\":\"y\"},\"answer\":\"A\"," GOOD_SRC "}\n"
                 "{\"id\":\"a\",\"type\":\"mcq\",\"question\":\"q\",\"options\":{\"A\":\"x\",\"B\":\"y\"},\"answer\":\"A\"," GOOD_SRC "}\n",
                 ORX_ERR_INVALID, ":2: id: 'a' repeats");
    expect_error("{\"id\":\"a\",\"indication\":\"x\",\"patient_path\":\"/nonexistent/p.json\"," GOOD_SRC ",\"truth\":{\"acceptable\":[\"x\"]}}",
                 ORX_ERR_NOT_FOUND, ":1: patient_path:");
    expect_error("# only a comment\n", ORX_ERR_INVALID, "no cases");
}

static void test_good_fixture(void **state) {
    (void)state;
    orx_eval_cases cs;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_eval_cases_load(orx_test_path("%s/tests/fixtures/eval/good.jsonl", orx_test_source_dir()), &cs, &err);
    if (st) print_message("%s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    assert_int_equal(cs.n, 2);
    const orx_eval_case *c = orx_eval_cases_find(&cs, "path-case");
    assert_non_null(c);
    assert_int_equal(c->line, 3);
    assert_int_equal(c->kind, ORX_EVAL_RX);
    assert_string_equal(c->acceptable[0], "rivaroxaban"); /* lower-cased */
    assert_true(orx_file_exists(c->patient_path));
    assert_string_equal(c->as_of, "2026-01-01");
    assert_int_equal(c->n_doses, 1);
    assert_true(c->doses[0].min == 15 && c->doses[0].max == 15);
    const orx_eval_case *m = orx_eval_cases_find(&cs, "mcq-1");
    assert_non_null(m);
    assert_int_equal(m->kind, ORX_EVAL_MCQ);
    assert_int_equal(m->n_options, 2);
    assert_string_equal(m->answer, "B");
    assert_int_equal(strlen(cs.sha256), 64);
    orx_eval_cases_clear(&cs);
}

/* ============================================================================================
 * Scoring
 * ========================================================================================== */
static void test_score(void **state) {
    (void)state;
    orx_eval_cases cs;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_eval_cases_load(orx_test_path("%s/tests/fixtures/eval/good.jsonl", orx_test_source_dir()), &cs, &err), ORX_OK);
    const orx_eval_case *c = orx_eval_cases_find(&cs, "path-case");
    orx_eval_answer a;
    memset(&a, 0, sizeof a);
    orx_eval_score s = orx_eval_score_answer(c, &a);
    assert_int_equal(s.correct, 0); /* nothing proposed: wrong, and abstained flag copied */
    a.abstained = true;
    assert_true(orx_eval_score_answer(c, &a).abstained);
    /* right drug, dose 15000 mcg = 15 mg: in range */
    memset(&a, 0, sizeof a);
    a.n = 2;
    strcpy(a.ingredients[0], "apixaban");
    strcpy(a.ingredients[1], "rivaroxaban");
    a.dose_amount[1] = 15000;
    strcpy(a.dose_unit[1], "mcg");
    s = orx_eval_score_answer(c, &a);
    assert_int_equal(s.correct, 1);
    assert_false(s.avoid_violation);
    assert_int_equal(s.dose_checked, 1);
    assert_int_equal(s.dose_in_range, 1);
    /* 20 mg: out of range; ibuprofen proposed: avoid violation */
    a.dose_amount[1] = 20;
    strcpy(a.dose_unit[1], "mg");
    strcpy(a.ingredients[0], "ibuprofen");
    s = orx_eval_score_answer(c, &a);
    assert_int_equal(s.dose_checked, 1);
    assert_int_equal(s.dose_in_range, 0);
    assert_true(s.avoid_violation);
    /* unit that does not compare (mL): not checked */
    strcpy(a.dose_unit[1], "mL");
    assert_int_equal(orx_eval_score_answer(c, &a).dose_checked, 0);
    /* multiple choice */
    const orx_eval_case *m = orx_eval_cases_find(&cs, "mcq-1");
    memset(&a, 0, sizeof a);
    strcpy(a.mcq_choice, "B");
    assert_int_equal(orx_eval_score_answer(m, &a).correct, 1);
    strcpy(a.mcq_choice, "A");
    assert_int_equal(orx_eval_score_answer(m, &a).correct, 0);
    orx_eval_cases_clear(&cs);
}

/* answer_from_rx normalises brand names through the lexicon. */
static void test_answer_from_rx(void **state) {
    (void)state;
    orx_lexicon *lex = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_lexicon_open(orx_test_path("%s/data", orx_test_source_dir()), &lex, &err), ORX_OK);
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    r.n_cands = 2;
    strcpy(r.cands[0].ingredient, "Xarelto");
    r.cands[0].dose_amount = 15;
    strcpy(r.cands[0].dose_unit, "mg");
    strcpy(r.cands[1].ingredient, "Plavix");
    orx_eval_answer a;
    orx_eval_answer_from_rx(&r, lex, &a);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.ingredients[0], "rivaroxaban");
    assert_string_equal(a.ingredients[1], "clopidogrel");
    assert_false(a.abstained);
    orx_lexicon_free(lex);
}

/* ============================================================================================
 * Shipped case sets
 * ========================================================================================== */
static char *slurp(const char *path) {
    char *d = NULL;
    size_t n;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(path, 64u << 20, &d, &n, &err), ORX_OK);
    return d;
}

static void test_shipped_sets(void **state) {
    (void)state;
    const char *sets[] = {"cpic", "onc", "renal", "smoke"};
    char *renal_tsv = slurp(orx_test_path("%s/data/rules/renal.tsv", orx_test_source_dir()));
    char *cpic_tsv = slurp(orx_test_path("%s/data/pgx/cpic_recommendations.tsv", orx_test_source_dir()));
    char *ddi_tsv = slurp(orx_test_path("%s/data/interactions/interactions.tsv", orx_test_source_dir()));
    int in_band = 0;
    for (int s = 0; s < 4; s++) {
        const char *path = orx_test_path("%s/data/cases/%s.jsonl", orx_test_source_dir(), sets[s]);
        orx_eval_cases cs;
        orx_error err = ORX_ERROR_INIT;
        orx_status st = orx_eval_cases_load(path, &cs, &err);
        if (st) print_message("%s\n", err.msg);
        assert_int_equal(st, ORX_OK);
        assert_true(cs.n >= 3);
        /* each line: truth traceable to the source table it cites */
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            json_t *o = json_loads(line, 0, NULL);
            assert_non_null(o);
            const char *set = json_string_value(json_object_get(o, "set"));
            json_t *src = json_object_get(o, "source");
            const char *quote = json_string_value(json_object_get(src, "quote"));
            if (!strcmp(set, "renal")) {
                assert_non_null(quote);
                assert_non_null(strstr(renal_tsv, quote)); /* quoted sentence is in the rule table */
                /* the synthetic patient's computed value is the one the generator aimed for */
                json_t *ex = json_object_get(o, "expect");
                char *pj = json_dumps(json_object_get(o, "patient"), JSON_COMPACT);
                orx_patient *pt = NULL;
                assert_int_equal(orx_patient_parse(pj, strlen(pj), "case", "2026-01-01", &pt, &err), ORX_OK);
                const char *meas = json_string_value(json_object_get(ex, "measure"));
                double want = json_number_value(json_object_get(ex, "value"));
                const orx_derived *d = !strcmp(meas, "CrCl") ? &pt->crcl : &pt->egfr;
                assert_true(d->present);
                print_message("%s %s %.1f (want %.1f)\n", json_string_value(json_object_get(o, "id")), meas, d->value, want);
                assert_true(fabs(d->value - want) < 1.0);
                in_band++;
                orx_patient_free(pt);
                free(pj);
            } else if (!strcmp(set, "cpic")) {
                assert_non_null(quote);
                assert_non_null(strstr(cpic_tsv, quote)); /* recommendation text copied verbatim */
            } else if (!strcmp(set, "onc")) {
                json_t *av = json_object_get(json_object_get(o, "truth"), "avoid");
                const char *a = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(o, "patient"), "medications"), 0), "text"));
                assert_non_null(a);
                for (size_t i = 0; i < json_array_size(av); i++) {
                    char pair1[256], pair2[256];
                    const char *b = json_string_value(json_object_get(json_array_get(av, i), "drug"));
                    snprintf(pair1, sizeof pair1, "\n%s\t%s\t", a, b);
                    snprintf(pair2, sizeof pair2, "\n%s\t%s\t", b, a);
                    assert_true(strstr(ddi_tsv, pair1) || strstr(ddi_tsv, pair2));
                }
            }
            json_decref(o);
        }
        free(line);
        fclose(f);
        orx_eval_cases_clear(&cs);
    }
    assert_true(in_band >= 3);
    free(renal_tsv);
    free(cpic_tsv);
    free(ddi_tsv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_good_fixture),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_answer_from_rx),
        cmocka_unit_test(test_shipped_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
