/* test_safety_core.c — dose-string parsing (cases and errors), the findings list, and the checker
 * core on synthetic openrx-form patients: interactions through brands/salts/codes/classes,
 * duplicates, allergies, unrecognised drugs, current-list mode, severity filter. */
#include "testutil.h"
#include "safety/checks.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Dose parsing
 * ========================================================================================== */
static orx_dose parse_ok(const char *s) {
    orx_dose d;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_dose_parse(s, &d, &err);
    print_message("%-52s -> %s | %g %s | %s | %s | %g/day%s\n", s, st ? err.msg : "ok", d.amount,
                  d.unit, d.route, d.frequency, d.per_day, d.prn ? " prn" : "");
    assert_int_equal(st, ORX_OK);
    return d;
}

static void parse_err(const char *s, orx_status want, const char *needle) {
    orx_dose d;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_dose_parse(s, &d, &err);
    print_message("%-52s -> %s\n", s, err.msg);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.msg, needle));
    assert_non_null(strstr(err.msg, "dose:1:"));
}

static void test_dose_cases(void **state) {
    (void)state;
    orx_dose d = parse_ok("ibuprofen 400 mg orally every 6 hours");
    assert_true(d.present);
    assert_true(d.amount == 400);
    assert_string_equal(d.unit, "mg");
    assert_string_equal(d.route, "oral");
    assert_string_equal(d.frequency, "q6h");
    assert_true(fabs(d.per_day - 4) < 1e-9 && d.interval_h == 6);
    assert_true(d.daily_amount == 1600);

    d = parse_ok("metformin 500mg PO BID");
    assert_true(d.amount == 500 && !strcmp(d.unit, "mg") && !strcmp(d.route, "oral") && d.per_day == 2);
    d = parse_ok("acetaminophen 500 mg by mouth every 4-6 hours as needed");
    assert_true(d.amount == 500 && d.prn && d.per_day == 6 && !strcmp(d.frequency, "q4-6h"));
    d = parse_ok("1-2 tablets po q4h prn");
    assert_true(d.amount == 2 && d.amount_low == 1 && !strcmp(d.unit, "tablet") && d.per_day == 6);
    d = parse_ok("enoxaparin 1 mg/kg subcutaneously every 12 hours");
    assert_true(d.amount == 1 && !strcmp(d.unit, "mg/kg") && !strcmp(d.route, "subcutaneous") && d.per_day == 2);
    d = parse_ok("vancomycin 1 g IV q12h");
    assert_true(d.amount == 1 && !strcmp(d.unit, "g") && !strcmp(d.route, "iv") && d.per_day == 2);
    d = parse_ok("methotrexate 15 mg orally once weekly");
    assert_true(fabs(d.per_day - 1.0 / 7) < 1e-9 && !strcmp(d.frequency, "once weekly"));
    d = parse_ok("insulin glargine 10 units subcutaneously at bedtime");
    assert_true(d.amount == 10 && !strcmp(d.unit, "unit") && d.per_day == 1);
    d = parse_ok("amoxicillin 500 mg three times daily for 10 days");
    assert_true(d.amount == 500 && d.per_day == 3);
    d = parse_ok("azithromycin 500 mg on day 1"); /* a day number is not an amount */
    assert_true(d.amount == 500 && !strcmp(d.unit, "mg"));
    d = parse_ok("aliskiren 150 mg tablet"); /* strength + dose form: one 150-mg tablet */
    assert_true(d.amount == 150 && !strcmp(d.unit, "mg"));
    d = parse_ok("amoxicillin 500 mg capsule three times daily");
    assert_true(d.amount == 500 && d.per_day == 3);
    d = parse_ok("warfarin sodium 5 MG Oral Tablet");
    assert_true(d.amount == 5 && !strcmp(d.route, "oral") && d.per_day == 0);
    d = parse_ok("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet");
    assert_true(d.amount == 500);
    d = parse_ok("Diclofenac Sodium 0.01 MG/MG Topical Gel");
    assert_true(!d.present && !strcmp(d.route, "topical")); /* a concentration, not a dose */
    d = parse_ok("amoxicillin 250 mg/5 mL oral suspension 10 mL twice daily");
    assert_true(d.amount == 10 && !strcmp(d.unit, "mL") && d.per_day == 2);
    d = parse_ok("ibuprofen 400 mg (2 tablets) orally three times a day");
    assert_true(d.amount == 400 && !strcmp(d.unit, "mg") && d.per_day == 3);
    d = parse_ok("1,000 mg IV once");
    assert_true(d.amount == 1000 && !strcmp(d.frequency, "once"));
    d = parse_ok("ibuprofen");
    assert_false(d.present);
    d = parse_ok("");
    assert_false(d.present);
    d = parse_ok("5-hydroxytryptophan 100 mg daily");
    assert_true(d.amount == 100 && d.per_day == 1);
}

static void test_dose_errors(void **state) {
    (void)state;
    parse_err("ibuprofen 400 orally every 6 hours", ORX_ERR_PARSE, "amount 400 has no unit");
    parse_err("ibuprofen 400", ORX_ERR_PARSE, "has no unit");
    parse_err("ibuprofen 400 zorks", ORX_ERR_PARSE, "unknown unit 'zorks'");
    parse_err("ibuprofen 400 mg mL orally", ORX_ERR_INVALID, "contradictory units 'mg' and 'ml'");
    parse_err("azithromycin 500 mg day 1 then 250 mg days 2-5", ORX_ERR_INVALID, "a regimen that changes");
    parse_err("amoxicillin 875/125 mg bid", ORX_ERR_PARSE, "the drug named has one ingredient");
    parse_err("digoxin 5 mg 10 mcg daily", ORX_ERR_INVALID, "contradictory amounts");
    parse_err("drug 400 mg 5 mL daily", ORX_ERR_INVALID, "contradictory units 'mg' and 'mL'");
    parse_err("ibuprofen 400 mg orally intravenously", ORX_ERR_INVALID, "two routes");
    parse_err("ibuprofen 400 mg twice daily every 6 hours", ORX_ERR_INVALID, "two frequencies");
    parse_err("ibuprofen 0 mg daily", ORX_ERR_INVALID, "positive");
    parse_err("ibuprofen 4-2 mg daily", ORX_ERR_INVALID, "reversed");
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_dose_parse(NULL, NULL, &err), ORX_ERR_USAGE);
}

/* ============================================================================================
 * Findings list
 * ========================================================================================== */
static void test_findings_list(void **state) {
    (void)state;
    orx_findings fs;
    orx_findings_init(&fs);
    orx_severity mx;
    assert_false(orx_findings_max_severity(&fs, &mx));
    for (int i = 0; i < 40; i++) {
        orx_finding *f = orx_findings_push(&fs, i % 2 ? "interaction" : "duplicate", (orx_severity)(i % 5));
        assert_non_null(f);
        orx_fset(f->drugs, sizeof f->drugs, "d%02d", i);
    }
    orx_findings_sort(&fs);
    assert_int_equal(fs.items[0].severity, ORX_SEV_CONTRAINDICATED);
    assert_int_equal(fs.items[39].severity, ORX_SEV_INFO);
    size_t c[ORX_SEV_COUNT];
    orx_findings_count(&fs, c);
    for (int i = 0; i < ORX_SEV_COUNT; i++) assert_int_equal(c[i], 8);
    assert_true(orx_findings_max_severity(&fs, &mx) && mx == ORX_SEV_CONTRAINDICATED);
    orx_buf b;
    orx_buf_init(&b);
    assert_int_equal(orx_findings_to_json(&fs, &b, NULL), ORX_OK);
    assert_non_null(strstr(b.data, "\"severity\": \"contraindicated\""));
    orx_buf_reset(&b);
    assert_int_equal(orx_findings_to_text(&fs, &b, NULL), ORX_OK);
    assert_non_null(strstr(b.data, "[CONTRAINDICATED]"));
    orx_buf_clear(&b);
    orx_findings_clear(&fs);
    orx_severity s;
    assert_true(orx_severity_parse("Major", &s) && s == ORX_SEV_MAJOR);
    assert_false(orx_severity_parse("severe", &s));
    assert_string_equal(orx_severity_name(ORX_SEV_MODERATE), "moderate");
}

/* ============================================================================================
 * Checker
 * ========================================================================================== */
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

static orx_patient *patient(const char *meds, const char *allergies) {
    char json[4096];
    snprintf(json, sizeof json,
             "{\"openrx_patient\":1,\"id\":\"t\",\"birthDate\":\"1960-01-01\",\"sex\":\"male\","
             "\"medications\":[%s],\"allergies\":[%s]}", meds, allergies);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_parse(json, strlen(json), "test", "2026-01-01", &p, &err);
    if (st) print_message("patient: %s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    return p;
}

/* Check proposed drug texts against a patient; returns findings (caller frees). */
static orx_findings run(orx_patient *p, int n, const char **drugs) {
    orx_proposed_drug d[8];
    orx_error err = ORX_ERROR_INIT;
    for (int i = 0; i < n; i++) assert_int_equal(orx_proposed_drug_init(CK, drugs[i], NULL, &d[i], &err), ORX_OK);
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_proposed(CK, p, d, (size_t)n, &fs, &err), ORX_OK);
    for (size_t i = 0; i < fs.n; i++)
        print_message("  [%s] %s: %s | %s | %s\n", orx_severity_name(fs.items[i].severity), fs.items[i].kind,
                      fs.items[i].drugs, fs.items[i].source, fs.items[i].citation);
    return fs;
}

static const orx_finding *find(const orx_findings *fs, const char *kind, const char *drugs_sub,
                               const char *source_sub) {
    for (size_t i = 0; i < fs->n; i++) {
        const orx_finding *f = &fs->items[i];
        if (strcmp(f->kind, kind) == 0 && (!drugs_sub || strstr(f->drugs, drugs_sub)) &&
            (!source_sub || strstr(f->source, source_sub)))
            return f;
    }
    return NULL;
}

#define WARFARIN_MED "{\"text\":\"Coumadin 5 mg tablet\"}"

static void test_interaction_forms(void **state) {
    (void)state;
    /* the current medicine as a brand, the proposed NSAID as free text, a brand and an RxCUI */
    orx_patient *p = patient(WARFARIN_MED, "");
    const char *forms[] = {"ibuprofen 400 mg orally every 6 hours", "Advil 200 mg orally twice daily",
                           "197805", "Ketorolac Tromethamine 10 MG Oral Tablet"};
    for (int i = 0; i < 4; i++) {
        orx_findings fs = run(p, 1, &forms[i]);
        const orx_finding *f = find(&fs, "interaction", "warfarin", "PDDI-CDS");
        assert_non_null(f);
        assert_int_equal(f->severity, ORX_SEV_MAJOR);
        assert_true(f->interruptive);
        assert_non_null(strstr(f->message, "bleeding"));
        assert_non_null(strstr(f->citation, "warfarin-nsaids"));
        assert_true(f->management[0] != 0);
        assert_non_null(strstr(f->trigger, "Coumadin"));
        orx_findings_clear(&fs);
    }
    /* topical diclofenac: the IG's "no special precautions" branch */
    const char *top[] = {"Diclofenac Sodium 0.01 MG/MG Topical Gel [Voltaren]"};
    orx_findings fs = run(p, 1, top);
    const orx_finding *f = find(&fs, "interaction", "warfarin", "PDDI-CDS");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_null(find(&fs, "interaction", "warfarin", "serious"));
    orx_findings_clear(&fs);
    /* a non-interacting drug gives no interaction */
    const char *none[] = {"metformin 500 mg orally twice daily"};
    fs = run(p, 1, none);
    assert_null(find(&fs, "interaction", NULL, NULL));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

static void test_interaction_between_proposed(void **state) {
    (void)state;
    orx_patient *p = patient("", "");
    const char *drugs[] = {"digoxin 0.125 mg daily", "cyclosporine 100 mg orally twice daily"};
    orx_findings fs = run(p, 2, drugs);
    const orx_finding *f = find(&fs, "interaction", "digoxin", "PDDI-CDS");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "digoxin toxicity"));
    assert_non_null(strstr(f->trigger, "proposed drug"));
    orx_findings_clear(&fs);
    /* an ONC high-priority pair (ingredient names from the list) */
    orx_ddi_hit h[8];
    int n = orx_interaction_lookup(CK, "simvastatin", "clarithromycin", h, 8);
    bool onc = false;
    for (int i = 0; i < n && i < 8; i++) onc |= strstr(h[i].source, "ONC High") && h[i].severity == ORX_SEV_MAJOR;
    assert_true(onc);
    assert_int_equal(orx_interaction_lookup(CK, "metformin", "acetaminophen", h, 8), 0);
    orx_patient_free(p);
}

static void test_unrecognised(void **state) {
    (void)state;
    orx_patient *p = patient("{\"text\":\"Frobozz elixir\"}", "");
    const char *drugs[] = {"zorkamycin 5 mg orally daily"};
    orx_findings fs = run(p, 1, drugs);
    const orx_finding *f = find(&fs, "unrecognised", "zorkamycin", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    assert_non_null(strstr(f->message, "not recognised"));
    orx_findings_clear(&fs);
    orx_findings cur;
    orx_findings_init(&cur);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_check_current(CK, p, &cur, &err), ORX_OK);
    f = find(&cur, "unrecognised", "Frobozz", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO); /* current list: noted, not blocking */
    orx_findings_clear(&cur);
    orx_patient_free(p);
}

static void test_dose_error_finding(void **state) {
    (void)state;
    orx_patient *p = patient("", "");
    const char *drugs[] = {"ibuprofen 400 mg mL orally"};
    orx_findings fs = run(p, 1, drugs);
    const orx_finding *f = find(&fs, "dose", "ibuprofen", "dose parser");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "contradictory units"));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

static void test_duplicates(void **state) {
    (void)state;
    orx_patient *p = patient("{\"text\":\"warfarin sodium 5 MG Oral Tablet\",\"rxnorm\":\"855332\"},"
                             "{\"text\":\"simvastatin 20 mg daily\"}", "");
    const char *drugs[] = {"Jantoven 2 mg daily", "atorvastatin 40 mg daily"};
    orx_findings fs = run(p, 2, drugs);
    const orx_finding *f = find(&fs, "duplicate", "Jantoven", "same ingredient");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MODERATE);
    assert_non_null(strstr(f->message, "warfarin"));
    /* two statins: a duplicate-therapy finding; its tier comes from a label sentence (quoted)
     * when one names the combination, else it is the same-class note */
    f = find(&fs, "duplicate", "atorvastatin", NULL);
    assert_non_null(f);
    if (f->severity > ORX_SEV_INFO) assert_true(f->quote[0] && strstr(f->citation, "set id"));
    assert_true(orx_lexicon_in_class(orx_checker_lexicon(CK), "atorvastatin", "statins"));
    orx_findings_clear(&fs);
    /* same FDA EPC, no label statement about the pair: the info note citing the DrugCentral row */
    const char *ceph[] = {"cephalexin 500 mg orally four times daily", "cefazolin 1 g IV every 8 hours"};
    fs = run(p, 2, ceph);
    f = find(&fs, "duplicate", "cefazolin", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_non_null(strstr(f->citation, "DrugCentral"));
    assert_non_null(strstr(f->citation, "EPC"));
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

static void test_allergy(void **state) {
    (void)state;
    orx_patient *p = patient("", "{\"text\":\"ibuprofen\",\"criticality\":\"high\",\"category\":\"medication\"},"
                                 "{\"text\":\"NSAIDs\",\"category\":\"medication\"},"
                                 "{\"text\":\"Frobnicator dust\",\"category\":\"medication\"},"
                                 "{\"text\":\"peanut\",\"category\":\"food\"}");
    const char *drugs[] = {"Motrin 400 mg orally every 6 hours", "naproxen 250 mg twice daily"};
    orx_findings fs = run(p, 2, drugs);
    const orx_finding *f = find(&fs, "allergy", "Motrin", "allergy");
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_CONTRAINDICATED);
    assert_true(f->interruptive);
    f = find(&fs, "allergy", "naproxen", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_CONTRAINDICATED); /* allergy names the class */
    assert_non_null(strstr(f->citation, "ONC"));
    f = find(&fs, "allergy", "Frobnicator", NULL);
    assert_non_null(f); /* unresolved allergy: noted, never silent */
    assert_int_equal(f->severity, ORX_SEV_INFO);
    assert_null(find(&fs, "allergy", "peanut", NULL));
    orx_findings_clear(&fs);
    orx_patient_free(p);
    /* allergen and drug share a class only */
    p = patient("", "{\"text\":\"ketorolac\",\"category\":\"medication\"}");
    const char *one[] = {"naproxen 250 mg twice daily"};
    fs = run(p, 1, one);
    f = find(&fs, "allergy", "naproxen", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    orx_findings_clear(&fs);
    orx_patient_free(p);
}

static void test_current_list_and_filter(void **state) {
    (void)state;
    orx_patient *p = patient(WARFARIN_MED ",{\"text\":\"Advil\"},{\"text\":\"metformin\"}", "");
    orx_findings fs;
    orx_findings_init(&fs);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_check_current(CK, p, &fs, &err), ORX_OK);
    const orx_finding *f = find(&fs, "interaction", "warfarin", "PDDI-CDS");
    assert_non_null(f);
    size_t n_major = 0;
    for (size_t i = 0; i < fs.n; i++)
        n_major += !strcmp(fs.items[i].kind, "interaction") && strstr(fs.items[i].source, "PDDI-CDS");
    assert_int_equal(n_major, 1); /* each pair once */
    orx_findings_clear(&fs);
    /* min severity filter */
    orx_checker *ck2 = NULL;
    orx_checker_params prm = orx_checker_default_params();
    prm.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    prm.min_severity = ORX_SEV_MAJOR;
    assert_int_equal(orx_checker_create(&prm, &ck2, &err), ORX_OK);
    orx_findings_init(&fs);
    assert_int_equal(orx_check_current(ck2, p, &fs, &err), ORX_OK);
    assert_true(fs.n >= 1);
    for (size_t i = 0; i < fs.n; i++) assert_true(fs.items[i].severity >= ORX_SEV_MAJOR);
    orx_findings_clear(&fs);
    orx_checker_free(ck2);
    orx_patient_free(p);
}

static void test_bad_data_dir(void **state) {
    (void)state;
    orx_checker *ck = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_checker_params prm = orx_checker_default_params();
    prm.data_dir = "/nonexistent/openrx-data";
    assert_int_not_equal(orx_checker_create(&prm, &ck, &err), ORX_OK);
    assert_null(ck);
    assert_non_null(strstr(err.msg, "/nonexistent/openrx-data"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dose_cases),
        cmocka_unit_test(test_dose_errors),
        cmocka_unit_test(test_findings_list),
        cmocka_unit_test(test_interaction_forms),
        cmocka_unit_test(test_interaction_between_proposed),
        cmocka_unit_test(test_unrecognised),
        cmocka_unit_test(test_dose_error_finding),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_allergy),
        cmocka_unit_test(test_current_list_and_filter),
        cmocka_unit_test(test_bad_data_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
