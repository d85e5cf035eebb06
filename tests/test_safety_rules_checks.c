/*
 * test_safety_rules_checks.c — the label-derived checks (renal, hepatic, pregnancy/lactation, pgx,
 * dose limits) on synthetic patients (tests/fixtures/safety/ (JSON), openrx patient form):
 * each fires on a patient who meets its threshold and not on one who does not; missing data gives
 * an "unable to assess" info finding; findings carry the quoted sentence / guideline citation.
 * Expectations are checked against the shipped tables, not typed in: the quote of a label finding
 * must be a quote of that drug's rows in the table.
 */
#include "testutil.h"
#include "safety/checks.h"
#include "safety/label_rules.h"

#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AS_OF "2026-01-01"

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

static orx_patient *patient(const char *name) {
    orx_patient *pt = NULL;
    orx_error err = {0};
    const char *path = orx_test_path("%s/tests/fixtures/safety/%s.json", orx_test_source_dir(), name);
    if (orx_patient_load(path, AS_OF, &pt, &err) != ORX_OK) fail_msg("%s: %s", path, err.msg);
    return pt;
}

/* Run one of S's checks for drug text on patient fixture name. */
static void run(orx_check_fn *fn, const char *pname, const char *drug, orx_findings *fs) {
    orx_patient *pt = patient(pname);
    orx_proposed_drug d;
    orx_error err = {0};
    assert_int_equal(orx_proposed_drug_init(CK, drug, NULL, &d, &err), ORX_OK);
    if (d.n_ingr <= 0) fail_msg("lexicon did not resolve '%s'", drug);
    orx_findings_init(fs);
    if (fn(CK, pt, &d, fs, &err) != ORX_OK) fail_msg("check failed: %s", err.msg);
    for (size_t i = 0; i < fs->n; i++) /* every finding says where it comes from */
        if (!fs->items[i].source[0] || !fs->items[i].citation[0] || !fs->items[i].trigger[0])
            fail_msg("finding without source/citation/trigger: %s %s", fs->items[i].kind, fs->items[i].message);
    orx_patient_free(pt);
}

/* Highest-severity finding of kind, NULL if none. */
static const orx_finding *top(const orx_findings *fs, const char *kind) {
    const orx_finding *best = NULL;
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->items[i].kind, kind) && (!best || fs->items[i].severity > best->severity))
            best = &fs->items[i];
    return best;
}

static void dump(const orx_findings *fs) {
    for (size_t i = 0; i < fs->n; i++)
        print_message("  [%s/%s] %s | %s | %s\n", fs->items[i].kind,
                      orx_severity_name(fs->items[i].severity), fs->items[i].trigger,
                      fs->items[i].message, fs->items[i].citation);
}

/* The quote is one of the table's quotes for rows whose first column after id names ingr. */
static bool quote_in_table(const char *rel, const char *ingr, const char *quote) {
    char *data = NULL;
    size_t len = 0;
    orx_error err = {0};
    if (orx_read_file(orx_test_path("%s/data/%s", orx_test_source_dir(), rel), 0, &data, &len, &err))
        return false;
    bool found = false;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t');
        if (!t1) continue;
        char *t2 = strchr(t1 + 1, '\t');
        if (!t2 || (size_t)(t2 - t1 - 1) != strlen(ingr) || strncmp(t1 + 1, ingr, strlen(ingr))) continue;
        char *last = strrchr(line, '\t');
        found = last && !strcmp(last + 1, quote);
    }
    free(data);
    return found;
}

/* ============================================================================================
 * Renal
 * ========================================================================================== */
static void test_renal_fires_below_threshold(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_renal, "renal_severe", "rivaroxaban 20 mg orally once daily", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "renal");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MODERATE);
    assert_non_null(strstr(f->trigger, "CrCl"));
    assert_non_null(strstr(f->trigger, "Cockcroft-Gault"));
    assert_true(quote_in_table("rules/renal.tsv", "rivaroxaban", f->quote));
    assert_non_null(strstr(f->citation, "SPL set id"));
    orx_findings_clear(&fs);
}

static void test_renal_silent_above_threshold(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_renal, "renal_normal", "rivaroxaban 20 mg orally once daily", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "renal");
    assert_true(f == NULL || f->severity == ORX_SEV_INFO); /* at most the label's normal band */
    orx_findings_clear(&fs);
}

static void test_renal_missing_data_unable(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_renal, "renal_missing", "rivaroxaban", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "renal");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->message, "Unable to assess renal dosing"));
    orx_findings_clear(&fs);
}

static void test_renal_egfr_used_when_no_crcl(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_renal, "egfr_only", "rivaroxaban", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "renal");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MODERATE);
    assert_non_null(strstr(f->trigger, "eGFR"));
    assert_non_null(strstr(f->trigger, "CrCl is unavailable"));
    orx_findings_clear(&fs);
}

/* ============================================================================================
 * Hepatic
 * ========================================================================================== */
static void test_hepatic_severe_fires(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_hepatic, "liver_severe", "iloperidone", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "hepatic");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MAJOR);
    assert_true(quote_in_table("rules/hepatic.tsv", "iloperidone", f->quote));
    orx_findings_clear(&fs);
}

static void test_hepatic_other_grade_or_none_silent(void **state) {
    (void)state;
    const char *pats[] = {"liver_mild", "no_liver"};
    for (int i = 0; i < 2; i++) {
        orx_findings fs;
        run(orx_check_hepatic, pats[i], "iloperidone", &fs);
        dump(&fs);
        const orx_finding *f = top(&fs, "hepatic");
        assert_true(f == NULL || f->severity <= ORX_SEV_INFO);
        orx_findings_clear(&fs);
    }
}

static void test_hepatic_ungraded_is_lower_and_says_so(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_hepatic, "liver_ungraded", "iloperidone", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "hepatic");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MODERATE); /* major rule, one tier lower */
    assert_non_null(strstr(f->message, "unrecorded grade"));
    orx_findings_clear(&fs);
}

static void test_hepatic_uln_rule_unable_without_range(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_hepatic, "liver_severe", "abiraterone", &fs);
    dump(&fs);
    bool seen = false;
    for (size_t i = 0; i < fs.n; i++)
        if (strstr(fs.items[i].message, "ULN") && strstr(fs.items[i].trigger, "ALT 250")) {
            seen = true;
            assert_int_equal(fs.items[i].severity, ORX_SEV_INFO);
            assert_true(quote_in_table("rules/hepatic.tsv", "abiraterone", fs.items[i].quote));
        }
    assert_true(seen);
    orx_findings_clear(&fs);
}

/* A label's ingredient name is matched through the lexicon ("aspirin" in the label, the lexicon's
 * own name for it in the proposed drug). */
static void test_rule_names_match_through_lexicon(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_hepatic, "liver_ungraded", "aspirin and omeprazole", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "hepatic");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MAJOR); /* "any degree of hepatic impairment" */
    assert_true(quote_in_table("rules/hepatic.tsv", "aspirin+omeprazole", f->quote));
    orx_findings_clear(&fs);
}

/* ============================================================================================
 * Pregnancy / lactation
 * ========================================================================================== */
static void test_pregnancy_fires_when_pregnant(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pregnancy, "pregnant", "warfarin", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "pregnancy");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_CONTRAINDICATED);
    assert_true(f->interruptive);
    assert_true(quote_in_table("rules/pregnancy.tsv", "warfarin", f->quote));
    orx_findings_clear(&fs);
}

static void test_pregnancy_silent_when_not(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pregnancy, "not_pregnant", "warfarin", &fs);
    dump(&fs);
    assert_null(top(&fs, "pregnancy"));
    assert_null(top(&fs, "lactation"));
    orx_findings_clear(&fs);
}

static void test_pregnancy_unknown_status_unable(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pregnancy, "status_unknown", "warfarin", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "pregnancy");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->message, "Unable to assess"));
    orx_findings_clear(&fs);
}

static void test_lactation_fires_when_breastfeeding(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pregnancy, "lactating", "enalapril", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "lactation");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MAJOR);
    assert_null(top(&fs, "pregnancy"));
    assert_true(quote_in_table("rules/pregnancy.tsv", "enalapril", f->quote));
    orx_findings_clear(&fs);
}

/* ============================================================================================
 * Pharmacogenomics
 * ========================================================================================== */
/* Does the shipped CPIC table say to avoid clopidogrel in CYP2C19 poor metabolizers? */
static bool data_supports_clopidogrel_pm(void) {
    char *data = NULL;
    size_t len = 0;
    orx_error err = {0};
    if (orx_read_file(orx_test_path("%s/data/pgx/cpic_recommendations.tsv", orx_test_source_dir()),
                      0, &data, &len, &err))
        return false;
    bool ok = false;
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l && !ok; l = strtok_r(NULL, "\n", &save))
        ok = !strncmp(l, "clopidogrel\tCYP2C19\tCYP2C19=Poor Metabolizer\t", 45) && strstr(l, "Avoid");
    free(data);
    return ok;
}

static void test_pgx_clopidogrel_poor_metabolizer(void **state) {
    (void)state;
    if (!data_supports_clopidogrel_pm()) {
        print_message("SKIPPED: data/pgx has no CPIC 'avoid' row for clopidogrel/CYP2C19 PM\n");
        skip();
    }
    const char *pats[] = {"cyp2c19_pm_diplotype", "cyp2c19_pm_phenotype"};
    for (int i = 0; i < 2; i++) {
        orx_findings fs;
        run(orx_check_pgx, pats[i], "clopidogrel 75 mg orally once daily", &fs);
        dump(&fs);
        const orx_finding *f = top(&fs, "pgx");
        assert_non_null(f);
        assert_int_equal(f->severity, ORX_SEV_MAJOR);
        assert_non_null(strstr(f->trigger, "Poor Metabolizer"));
        assert_non_null(strstr(f->citation, "CPIC Guideline for clopidogrel and CYP2C19"));
        assert_non_null(strstr(f->citation, "https://"));
        assert_non_null(strstr(f->management, "Avoid clopidogrel"));
        orx_findings_clear(&fs);
    }
}

static void test_pgx_normal_metabolizer_silent(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pgx, "cyp2c19_nm", "clopidogrel", &fs);
    dump(&fs);
    assert_null(top(&fs, "pgx"));
    orx_findings_clear(&fs);
    run(orx_check_pgx, "renal_normal", "clopidogrel", &fs); /* no genotype at all */
    assert_null(top(&fs, "pgx"));
    orx_findings_clear(&fs);
}

/* Activity-score keys (CYP2C9): the diplotype is translated to its CPIC activity score. */
static void test_pgx_activity_score_from_diplotype(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pgx, "cyp2c9_pm", "celecoxib", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "pgx");
    assert_non_null(f);
    assert_true(f->severity >= ORX_SEV_MODERATE);
    assert_non_null(strstr(f->trigger, "activity score"));
    assert_non_null(strstr(f->message, "CPIC level A")); /* stated in cpic-data V6 migration */
    orx_findings_clear(&fs);
}

/* HLA results: "HLA-B*57:01 positive" matches the key "HLA-B=*57:01 positive". */
static void test_pgx_hla_positive(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pgx, "hla_b5701_positive", "abacavir", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "pgx");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    assert_non_null(strstr(f->management, "not recommended"));
    orx_findings_clear(&fs);
}

static void test_pgx_missing_second_gene_unable(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_pgx, "cyp2c19_pm_diplotype", "amitriptyline", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "pgx");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->message, "Unable to assess fully"));
    assert_non_null(strstr(f->trigger, "CYP2C19"));
    orx_findings_clear(&fs);
}

/* ============================================================================================
 * Dose limits
 * ========================================================================================== */
static void test_dose_above_label_maximum(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_dose, "renal_normal", "metformin 1500 mg orally twice daily", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "dose");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    assert_true(quote_in_table("rules/dose_limits.tsv", "metformin", f->quote));
    orx_findings_clear(&fs);
}

static void test_dose_within_maximum_silent(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_dose, "renal_normal", "metformin 500 mg orally twice daily", &fs);
    dump(&fs);
    assert_null(top(&fs, "dose"));
    orx_findings_clear(&fs);
}

static void test_dose_without_frequency_unable(void **state) {
    (void)state;
    orx_findings fs;
    run(orx_check_dose, "renal_normal", "metformin 500 mg", &fs);
    dump(&fs);
    const orx_finding *f = top(&fs, "dose");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->message, "Unable to compare"));
    orx_findings_clear(&fs);
}

/* ============================================================================================
 * Loader errors: file:line: field
 * ========================================================================================== */
static const char *write_tmp(const char *dir, const char *name, const char *text) {
    const char *p = orx_test_path("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* the checker reads indications with the options search's normaliser: plurals, "type II",
 * hyphenated prefixes and case meet the vocabulary's spelling */
static void test_indication_shared_normaliser(void **state) {
    (void)state;
    orx_proposed_drug d;
    memset(&d, 0, sizeof d);
    snprintf(d.indication, sizeof d.indication, "%s", "urinary tract infection");
    orx_srl_indication ind;
    orx_srl_drug_indication(NULL, &d, &ind);
    assert_int_equal(orx_srl_indication_match("Treatment of Urinary Tract Infections", &ind), SRL_IND_MATCH);
    assert_int_equal(orx_srl_indication_match("Treatment of Hypertension", &ind), SRL_IND_OTHER);
    snprintf(d.indication, sizeof d.indication, "%s", "Type II diabetes mellitus");
    orx_srl_drug_indication(NULL, &d, &ind);
    assert_int_equal(orx_srl_indication_match("type 2 diabetes", &ind), SRL_IND_MATCH);
    snprintf(d.indication, sizeof d.indication, "%s", "nonvalvular AF");
    orx_srl_drug_indication(NULL, &d, &ind);
    assert_int_equal(orx_srl_indication_match("Non-valvular Atrial Fibrillation", &ind), SRL_IND_MATCH);
    assert_int_equal(orx_srl_indication_match("Postherpetic neuralgias", &ind), SRL_IND_OTHER);
    assert_int_equal(orx_srl_indication_match("a heading that names nothing known", &ind), SRL_IND_UNRECOGNISED);
}

static void test_loader_errors_name_file_line_field(void **state) {
    (void)state;
    char dir[] = "/tmp/orx_srl_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const need[] = {"id", "amount", NULL};
    orx_srl_table t;
    orx_error err = {0};
    /* wrong number of fields on line 3 */
    write_tmp(dir, "a.tsv", "id\tamount\nD1\t40\nD2\t40\textra\n");
    assert_int_equal(orx_srl_table_load(dir, "a.tsv", need, &t, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "a.tsv:3: expected 2 fields, got 3"));
    /* missing column */
    write_tmp(dir, "b.tsv", "id\tamt\nD1\t40\n");
    assert_int_equal(orx_srl_table_load(dir, "b.tsv", need, &t, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "b.tsv:1: missing column 'amount'"));
    /* non-numeric field */
    write_tmp(dir, "c.tsv", "id\tamount\nD1\t40\nD2\tforty\n");
    assert_int_equal(orx_srl_table_load(dir, "c.tsv", need, &t, &err), ORX_OK);
    assert_int_equal(t.nrows, 2);
    double v;
    bool present;
    assert_int_equal(orx_srl_num(&t, 0, 1, &v, &present, &err), ORX_OK);
    assert_true(present);
    assert_true(v == 40.0);
    assert_int_equal(orx_srl_num(&t, 1, 1, &v, &present, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "c.tsv:3: field 'amount': 'forty' is not a number"));
    orx_srl_table_clear(&t);
    /* missing file */
    assert_int_not_equal(orx_srl_table_load(dir, "nope.tsv", need, &t, &err), ORX_OK);
    assert_non_null(strstr(err.msg, "nope.tsv"));
    unlink(orx_test_path("%s/a.tsv", dir));
    unlink(orx_test_path("%s/b.tsv", dir));
    unlink(orx_test_path("%s/c.tsv", dir));
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renal_fires_below_threshold),
        cmocka_unit_test(test_renal_silent_above_threshold),
        cmocka_unit_test(test_renal_missing_data_unable),
        cmocka_unit_test(test_renal_egfr_used_when_no_crcl),
        cmocka_unit_test(test_hepatic_severe_fires),
        cmocka_unit_test(test_hepatic_other_grade_or_none_silent),
        cmocka_unit_test(test_hepatic_ungraded_is_lower_and_says_so),
        cmocka_unit_test(test_hepatic_uln_rule_unable_without_range),
        cmocka_unit_test(test_rule_names_match_through_lexicon),
        cmocka_unit_test(test_pregnancy_fires_when_pregnant),
        cmocka_unit_test(test_pregnancy_silent_when_not),
        cmocka_unit_test(test_pregnancy_unknown_status_unable),
        cmocka_unit_test(test_lactation_fires_when_breastfeeding),
        cmocka_unit_test(test_pgx_clopidogrel_poor_metabolizer),
        cmocka_unit_test(test_pgx_normal_metabolizer_silent),
        cmocka_unit_test(test_pgx_activity_score_from_diplotype),
        cmocka_unit_test(test_pgx_hla_positive),
        cmocka_unit_test(test_pgx_missing_second_gene_unable),
        cmocka_unit_test(test_dose_above_label_maximum),
        cmocka_unit_test(test_dose_within_maximum_silent),
        cmocka_unit_test(test_dose_without_frequency_unable),
        cmocka_unit_test(test_indication_shared_normaliser),
        cmocka_unit_test(test_loader_errors_name_file_line_field),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
