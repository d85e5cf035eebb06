/*
 * test_safety_dose_rules.c — doses by indication and patient band (dose_rules.c) and the scoping
 * of renal statements by indication and phase (renal.c):
 *  - data: every row of data/rules/dose_rules.tsv quotes its label (the quote occurs in the
 *    shipped label text of that set id, whitespace folded), names an indication written in that
 *    label, writes every number of its criteria and amounts and its frequency in the quote;
 *  - apixaban 5 mg twice daily for a patient meeting 2+ of age >= 80 / weight <= 60 kg / SCr >=
 *    1.5 is major, quoting the two-of-three sentence; 5 mg for a patient meeting 1 is the dose;
 *  - dabigatran 150 mg twice daily at CrCl 22 for atrial fibrillation: one major dose finding (the
 *    label's 75 mg for CrCl 15-30), no contradictory renal findings; for DVT treatment: "no dose
 *    recommendation";
 *  - rivaroxaban for atrial fibrillation never quotes the DVT-treatment sentence (R0004); for DVT
 *    treatment it does;
 *  - the indication unknown: label doses per indication as info; criteria not assessable: info;
 *  - metformin at eGFR 30-45: "initiation is not recommended" (major) for a new start, the
 *    continuation statement (moderate) for a patient already taking it;
 *  - a proposed drug without any renal statement in the corpus (nitrofurantoin) at CrCl < 60:
 *    "renal dosing NOT assessed", never silence.
 */
#include "testutil.h"
#include "safety/safety.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ============================================================================================
 * Data: quotes in the shipped corpus, numbers in the quotes
 * ========================================================================================== */
/* Lower-cased copy with every run of whitespace (incl. U+00A0) folded to one space. */
static char *fold(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *w = o;
    bool sp = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool is_sp = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (p[0] == 0xC2 && p[1] == 0xA0) { is_sp = true; p++; }
        if (is_sp) { sp = true; continue; }
        if (sp && w > o) *w++ = ' ';
        sp = false;
        *w++ = (char)*p;
    }
    *w = 0;
    return o;
}

/* All section text of one label in the shipped corpus, folded ("" when not found). */
static char *label_text(const char *corpus, const char *setid) {
    char *data = NULL, *out = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    if (!strcmp(corpus, "nlm2014")) {
        if (orx_read_file(orx_test_path("%s/data/labels/2014-nlm-ddi-corpus/txt/%s.txt", orx_test_source_dir(), setid),
                          0, &data, &len, &err) != ORX_OK)
            return strdup("");
        out = fold(data);
        free(data);
        return out;
    }
    const char *file = !strcmp(corpus, "dbmi2016") ? "2016-dailymed-ddi-labels-dbmi/labels_sections.jsonl"
                                                   : "2021-spl-nsaids-metformin/labels_sections.jsonl";
    assert_int_equal(orx_read_file(orx_test_path("%s/data/labels/%s", orx_test_source_dir(), file), 0, &data, &len, &err), ORX_OK);
    orx_buf b;
    orx_buf_init(&b);
    for (char *p = data; p < data + len;) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        json_t *o = l ? json_loadb(p, l, 0, NULL) : NULL;
        if (o && !strcmp(json_string_value(json_object_get(o, "setid")) ? json_string_value(json_object_get(o, "setid")) : "", setid)) {
            size_t i;
            json_t *sec;
            json_array_foreach(json_object_get(o, "sections"), i, sec) {
                orx_buf_puts(&b, json_string_value(json_object_get(sec, "text")));
                orx_buf_puts(&b, "\n");
            }
        }
        json_decref(o);
        p += l + 1;
    }
    free(data);
    out = fold(b.data ? b.data : "");
    orx_buf_clear(&b);
    return out;
}

static void test_dose_rules_quoted(void **state) {
    (void)state;
    char *data = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/rules/dose_rules.tsv", orx_test_source_dir()), 0, &data, &len, &err), ORX_OK);
    char *save = NULL;
    char *line = strtok_r(data, "\n", &save); /* header */
    assert_non_null(strstr(line, "quote"));
    size_t rows = 0, numbers = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[16] = {0};
        int n = 0;
        for (char *p = line; n < 16;) {
            f[n++] = p;
            char *t = strchr(p, '\t');
            if (!t) break;
            *t = 0;
            p = t + 1;
        }
        assert_int_equal(n, 15);
        /* id ingredient indication phase criteria action amount_low amount unit frequency route setid corpus section quote */
        char *text = label_text(f[12], f[11]);
        char *q = fold(f[14]);
        if (!strstr(text, q)) fail_msg("dose_rules %s: quote not in the shipped label %s (%s): %s", f[0], f[11], f[12], f[14]);
        if (*f[2]) {
            char *ind = fold(f[2]), *lt = strdup(text);
            for (char *p = ind; *p; p++) *p = (char)tolower((unsigned char)*p);
            for (char *p = lt; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!strstr(lt, ind)) fail_msg("dose_rules %s: indication '%s' not in the label", f[0], f[2]);
            free(ind);
            free(lt);
        }
        /* every number of criteria and amounts is written in the quote */
        const char *numsrc[3] = {f[4], f[6], f[7]};
        for (int k = 0; k < 3; k++)
            for (const char *p = numsrc[k]; *p;) {
                if (!(*p >= '0' && *p <= '9')) { p++; continue; }
                char num[32];
                size_t m = 0;
                while (((*p >= '0' && *p <= '9') || *p == '.') && m < sizeof num - 1) num[m++] = *p++;
                num[m] = 0;
                if (!strstr(f[14], num)) fail_msg("dose_rules %s: number %s not in the quote", f[0], num);
                numbers++;
            }
        if (*f[9]) {
            bool has = false;
            for (const char *p = f[14]; *p && !has; p++) has = strncasecmp(p, f[9], strlen(f[9])) == 0;
            if (!has) fail_msg("dose_rules %s: frequency '%s' not in the quote", f[0], f[9]);
        }
        free(q);
        free(text);
        rows++;
    }
    print_message("%zu dose rules: quotes in data/labels, %zu numbers in their quotes\n", rows, numbers);
    assert_true(rows >= 15);
    free(data);
}

/* ============================================================================================
 * Checks
 * ========================================================================================== */
static orx_patient *demo(void) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()),
                                      "2026-01-01", &p, &err), ORX_OK);
    return p;
}

/* Patient: sex, birth year, weight kg, SCr mg/dL, problems JSON ("" none). */
static orx_patient *person(const char *sex, int birth_year, double kg, double scr, const char *problems) {
    char json[2048], labs[512] = "";
    size_t n = 0;
    if (kg > 0) n += (size_t)snprintf(labs + n, sizeof labs - n, "{\"kind\":\"weight\",\"value\":%g,\"unit\":\"kg\",\"date\":\"2025-12-01\"},"
                                      "{\"kind\":\"height\",\"value\":165,\"unit\":\"cm\",\"date\":\"2025-12-01\"}", kg);
    if (scr > 0) snprintf(labs + n, sizeof labs - n, "%s{\"kind\":\"scr\",\"value\":%g,\"unit\":\"mg/dL\",\"date\":\"2025-12-01\"}", n ? "," : "", scr);
    snprintf(json, sizeof json, "{\"openrx_patient\":1,\"id\":\"dose\",\"birthDate\":\"%d-03-01\",\"sex\":\"%s\","
             "\"labs\":[%s],\"conditions\":[%s]}", birth_year, sex, labs, problems);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(json, strlen(json), "dose.json", "2026-01-01", &p, &err) != ORX_OK) fail_msg("%s", err.msg);
    return p;
}

static void check(const orx_patient *pt, const char *drug, const char *indication, orx_findings *fs) {
    orx_proposed_drug d;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_proposed_drug_init(CK, drug, NULL, &d, &err), ORX_OK);
    if (indication) snprintf(d.indication, sizeof d.indication, "%s", indication);
    orx_findings_init(fs);
    assert_int_equal(orx_check_proposed(CK, pt, &d, 1, fs, &err), ORX_OK);
    for (size_t i = 0; i < fs->n; i++)
        print_message("  [%s/%s] %s | %s\n", fs->items[i].kind, orx_severity_name(fs->items[i].severity),
                      fs->items[i].trigger, fs->items[i].message);
}

static int count(const orx_findings *fs, const char *kind, orx_severity min) {
    int n = 0;
    for (size_t i = 0; i < fs->n; i++) n += !strcmp(fs->items[i].kind, kind) && fs->items[i].severity >= min;
    return n;
}

static const orx_finding *first(const orx_findings *fs, const char *kind, orx_severity min) {
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->items[i].kind, kind) && fs->items[i].severity >= min) return &fs->items[i];
    return NULL;
}

static bool any_quote_has(const orx_findings *fs, const char *needle) {
    for (size_t i = 0; i < fs->n; i++) if (strstr(fs->items[i].quote, needle)) return true;
    return false;
}

static void test_apixaban_two_of_three(void **state) {
    (void)state;
    orx_patient *pt = demo(); /* 82 y, 58 kg, SCr 1.6: all three */
    orx_findings fs;
    check(pt, "apixaban 5 mg orally twice daily", NULL, &fs);
    const orx_finding *f = first(&fs, "dose", ORX_SEV_MAJOR);
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    assert_non_null(strstr(f->message, "2.5 mg twice daily"));
    assert_non_null(strstr(f->message, "apixaban"));
    assert_non_null(strstr(f->message, "age 82"));
    assert_non_null(strstr(f->quote, "any 2 of the following characteristics"));
    assert_non_null(strstr(f->citation, "dose_rules.tsv"));
    orx_findings_clear(&fs);
    check(pt, "apixaban 2.5 mg orally twice daily", NULL, &fs);
    assert_int_equal(count(&fs, "dose", ORX_SEV_MINOR), 0);
    orx_findings_clear(&fs);
    orx_patient_free(pt);

    /* one criterion only (age 70, 58 kg, SCr 1.0): the general 5 mg twice daily applies */
    pt = person("female", 1955, 58, 1.0, "{\"text\":\"Atrial fibrillation\"}");
    check(pt, "apixaban 5 mg orally twice daily", NULL, &fs);
    assert_int_equal(count(&fs, "dose", ORX_SEV_MINOR), 0);
    f = first(&fs, "dose", ORX_SEV_INFO);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "matches"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);

    /* criteria not assessable (age 85 only; no weight, no creatinine): info, not a guess */
    pt = person("female", 1940, 0, 0, "{\"text\":\"Atrial fibrillation\"}");
    check(pt, "apixaban 5 mg orally twice daily", NULL, &fs);
    f = first(&fs, "dose", ORX_SEV_INFO);
    assert_non_null(f);
    assert_int_equal(count(&fs, "dose", ORX_SEV_MINOR), 0);
    assert_non_null(strstr(f->message, "Unable to assess"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

static void test_dabigatran_one_coherent_finding(void **state) {
    (void)state;
    orx_patient *pt = demo(); /* CrCl 22, atrial fibrillation on the problem list */
    orx_findings fs;
    check(pt, "dabigatran 150 mg orally twice daily", NULL, &fs);
    assert_int_equal(count(&fs, "dose", ORX_SEV_MAJOR), 1);
    assert_int_equal(count(&fs, "renal", ORX_SEV_MINOR), 0); /* no second, contradictory finding */
    const orx_finding *f = first(&fs, "dose", ORX_SEV_MAJOR);
    assert_non_null(strstr(f->message, "75 mg twice daily"));
    assert_non_null(strstr(f->quote, "CrCl 15-30 mL/min"));
    assert_false(any_quote_has(&fs, "cannot be provided")); /* the DVT statements do not apply */
    orx_findings_clear(&fs);
    /* for DVT treatment at CrCl 22 the label gives no dose */
    check(pt, "dabigatran 150 mg orally twice daily", "treatment of deep vein thrombosis", &fs);
    f = first(&fs, "dose", ORX_SEV_MODERATE);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "no dose recommendation"));
    assert_non_null(strstr(f->quote, "cannot be provided"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

static void test_rivaroxaban_af_not_dvt_sentence(void **state) {
    (void)state;
    orx_patient *pt = demo();
    orx_findings fs;
    const char *dvt = "due to an expected increase in rivaroxaban exposure"; /* R0004/R0005 */
    check(pt, "rivaroxaban 20 mg orally once daily", NULL, &fs);
    assert_false(any_quote_has(&fs, dvt));
    const orx_finding *f = first(&fs, "dose", ORX_SEV_MAJOR);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "15 mg once daily"));
    orx_findings_clear(&fs);
    check(pt, "rivaroxaban 20 mg orally once daily", "atrial fibrillation", &fs);
    assert_false(any_quote_has(&fs, dvt));
    orx_findings_clear(&fs);
    check(pt, "rivaroxaban 15 mg orally twice daily", "treatment of DVT", &fs);
    assert_true(any_quote_has(&fs, dvt));
    f = first(&fs, "renal", ORX_SEV_MAJOR);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "Treatment of Deep Vein Thrombosis"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

static void test_indication_unknown_lists_doses(void **state) {
    (void)state;
    orx_patient *pt = person("male", 1960, 80, 1.0, "{\"text\":\"Essential hypertension\"}");
    orx_findings fs;
    check(pt, "apixaban 5 mg orally twice daily", NULL, &fs);
    const orx_finding *f = first(&fs, "dose", ORX_SEV_INFO);
    assert_non_null(f);
    assert_int_equal(count(&fs, "dose", ORX_SEV_MINOR), 0);
    assert_non_null(strstr(f->message, "not known"));
    assert_non_null(strstr(f->message, "Nonvalvular Atrial Fibrillation"));
    assert_non_null(strstr(f->message, "Prophylaxis of Deep Vein Thrombosis"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

static void test_metformin_initiation_vs_continuation(void **state) {
    (void)state;
    orx_patient *pt = demo(); /* eGFR 32, already taking metformin 500 mg twice daily */
    orx_findings fs;
    orx_error err = ORX_ERROR_INIT;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_current(CK, pt, &fs, &err), ORX_OK);
    const orx_finding *f = NULL;
    for (size_t i = 0; i < fs.n; i++)
        if (!strcmp(fs.items[i].kind, "renal") && strstr(fs.items[i].drugs, "metformin")) {
            assert_true(fs.items[i].severity <= ORX_SEV_MODERATE);  /* never the initiation major */
            assert_null(strstr(fs.items[i].quote, "nitiation"));
            if (fs.items[i].severity == ORX_SEV_MODERATE) f = &fs.items[i];
        }
    assert_non_null(f);
    assert_non_null(strstr(f->quote, "continuing"));
    assert_non_null(strstr(f->message, "metformin")); /* renal messages name the drug */
    orx_findings_clear(&fs);
    check(pt, "metformin 500 mg orally twice daily", NULL, &fs);
    f = first(&fs, "renal", ORX_SEV_MAJOR);
    assert_non_null(f);
    assert_non_null(strstr(f->quote, "nitiation"));
    assert_non_null(strstr(f->message, "metformin"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

static void test_no_renal_statement_is_not_silent(void **state) {
    (void)state;
    orx_patient *pt = demo();
    orx_findings fs;
    check(pt, "nitrofurantoin 100 mg orally twice daily", NULL, &fs);
    const orx_finding *f = first(&fs, "renal", ORX_SEV_INFO);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "NOT assessed"));
    assert_non_null(strstr(f->message, "no label in the shipped corpus"));
    assert_non_null(strstr(f->message, "nitrofurantoin"));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
    /* normal renal function: nothing to say */
    pt = person("male", 1980, 80, 0.9, "");
    check(pt, "nitrofurantoin 100 mg orally twice daily", NULL, &fs);
    assert_null(first(&fs, "renal", ORX_SEV_INFO));
    orx_findings_clear(&fs);
    orx_patient_free(pt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dose_rules_quoted),
        cmocka_unit_test(test_apixaban_two_of_three),
        cmocka_unit_test(test_dabigatran_one_coherent_finding),
        cmocka_unit_test(test_rivaroxaban_af_not_dvt_sentence),
        cmocka_unit_test(test_indication_unknown_lists_doses),
        cmocka_unit_test(test_metformin_initiation_vs_continuation),
        cmocka_unit_test(test_no_renal_statement_is_not_silent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
