/* test_lexicon_classes.c — sourced class membership: DrugCentral's FDA classes with their type,
 * each row citing a line of pharm_class.tsv that says what the row says (checked against
 * ../shared when present); MeSH Pharmacological Action only where the FDA classes have gaps;
 * mechanism classes kept out of duplicate therapy and allergy; a penicillin allergy reaching
 * amoxicillin through the FDA Established Pharmacologic Class. */
#include "testutil.h"
#include "clinical/clinical.h"
#include "lexicon/lexicon.h"
#include "safety/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static orx_checker *CK;
static const orx_lexicon *L;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_checker_params p = orx_checker_default_params();
    p.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_checker_create(&p, &CK, &err)) { print_message("checker: %s\n", err.msg); return -1; }
    L = orx_checker_lexicon(CK);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    orx_checker_free(CK);
    return 0;
}

static void test_types_and_citations(void **state) {
    (void)state;
    assert_int_equal(orx_lexicon_class_types(L, "amoxicillin", "Penicillin-class Antibacterial"), ORX_CLASS_EPC);
    assert_true(orx_lexicon_class_types(L, "amoxicillin", "Penicillins") & ORX_CLASS_CS);
    const char *c = orx_lexicon_class_source(L, "amoxicillin", "penicillin-class antibacterial");
    assert_non_null(c);
    assert_non_null(strstr(c, "DrugCentral 2016 pharm_class.tsv:"));
    assert_non_null(strstr(c, "EPC"));
    assert_true(orx_lexicon_class_types(L, "fluconazole", "cytochrome p450 2c9 inhibitor") & ORX_CLASS_MOA);
    assert_true(orx_lexicon_class_types(L, "warfarin", "anticoagulants") & ORX_CLASS_ONC);
    assert_string_equal(orx_class_type_name(ORX_CLASS_PE), "PE");
    assert_int_equal(orx_class_type_parse("CS"), ORX_CLASS_CS);
    assert_int_equal(orx_class_type_parse("XX"), 0);
    /* the ONC membership of the old tests is still there */
    assert_true(orx_lexicon_in_class(L, "ibuprofen", "NSAIDs"));
    assert_true(orx_lexicon_is_class(L, "hmg-coa reductase inhibitor"));
    assert_false(orx_lexicon_is_class(L, "no such class"));
}

static void test_mesh_only_for_gaps(void **state) {
    (void)state;
    /* warfarin has an FDA EPC: its non-umbrella MeSH actions (Rodenticides, Pesticides) are left out */
    assert_false(orx_lexicon_in_class(L, "warfarin", "rodenticides"));
    assert_int_equal(orx_lexicon_class_types(L, "warfarin", "anticoagulants") & ORX_CLASS_PA, ORX_CLASS_PA); /* umbrella */
    /* dabigatran has no FDA EPC in the 2016 snapshot: MeSH fills the gap */
    assert_true(orx_lexicon_class_types(L, "dabigatran etexilate", "anticoagulants") & ORX_CLASS_PA);
    /* a MeSH action or an FDA mechanism is never a therapeutic class */
    assert_false(orx_class_is_therapeutic(L, "fluconazole", "cytochrome p450 3a4 inhibitor"));
    assert_false(orx_class_is_therapeutic(L, "furosemide", "diuretics"));
    assert_true(orx_class_is_therapeutic(L, "simvastatin", "hmg-coa reductase inhibitor"));
}

/* Every DrugCentral row cites a line of pharm_class.tsv with that source, type, id and class. */
static void test_citations_against_shared(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_error err = ORX_ERROR_INIT;
    char *pc = NULL, *lx = NULL;
    size_t pl = 0, ll = 0;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/drugcentral-2016-fda-pharm-class/pharm_class.tsv", orx_test_shared_dir()), 0, &pc, &pl, &err), ORX_OK);
    assert_int_equal(orx_read_file(orx_test_path("%s/data/lexicon/lexicon.tsv", orx_test_source_dir()), 0, &lx, &ll, &err), ORX_OK);
    size_t nlines = 1;
    for (char *p = pc; *p; p++) nlines += *p == '\n';
    char **line = calloc(nlines + 2, sizeof *line);
    size_t n = 0;
    for (char *p = pc; p && *p;) {
        line[++n] = p; /* 1-based */
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        p = nl ? nl + 1 : NULL;
    }
    size_t checked = 0;
    for (char *p = lx; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *row = p;
        p = nl ? nl + 1 : NULL;
        char *cite = strstr(row, "DrugCentral 2016 pharm_class.tsv:");
        if (row[0] != 'C' || !cite) continue;
        size_t ln = strtoul(cite + 33, NULL, 10);
        char src[16], type[32], id[32], cls[160];
        if (sscanf(cite + 33, "%*u %15s %31s %31s \"%159[^\"]\"", src, type, id, cls) != 4)
            fail_msg("lexicon.tsv: unparsable citation: %s", cite);
        if (ln < 2 || ln > n) fail_msg("citation line %zu out of range", ln);
        char want[512];
        snprintf(want, sizeof want, "\t%s\t%s\t%s\t%s", type, id, cls, src);
        if (!strstr(line[ln], want)) fail_msg("pharm_class.tsv:%zu does not say %s: %s", ln, want, line[ln]);
        checked++;
    }
    print_message("verified %zu DrugCentral class rows against pharm_class.tsv\n", checked);
    assert_true(checked > 5000);
    free(line);
    free(pc);
    free(lx);
}

static orx_findings check(const char *meds, const char *allergies, const char *drug) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"openrx_patient\":1,\"id\":\"t\",\"birthDate\":\"1960-01-01\",\"sex\":\"male\","
             "\"medications\":[%s],\"allergies\":[%s]}", meds, allergies);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_parse(json, strlen(json), "test", "2026-01-01", &p, &err), ORX_OK);
    orx_proposed_drug d;
    assert_int_equal(orx_proposed_drug_init(CK, drug, NULL, &d, &err), ORX_OK);
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_proposed(CK, p, &d, 1, &fs, &err), ORX_OK);
    orx_patient_free(p);
    return fs;
}

static void test_allergy_and_duplicates_by_kind(void **state) {
    (void)state;
    /* penicillin G allergy: amoxicillin shares the FDA EPC -> major, citing the DrugCentral row */
    orx_findings fs = check("", "{\"text\":\"penicillin G\",\"code\":\"7980\",\"system\":\"rxnorm\"}", "amoxicillin 500 mg");
    const orx_finding *f = NULL;
    for (size_t i = 0; i < fs.n; i++)
        if (!strcmp(fs.items[i].kind, "allergy")) f = &fs.items[i];
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_MAJOR);
    assert_non_null(strstr(f->citation, "Penicillin-class Antibacterial"));
    orx_findings_clear(&fs);
    /* an allergy naming a chemical-structure class reaches its members */
    fs = check("", "{\"text\":\"Penicillins\"}", "amoxicillin 500 mg");
    f = NULL;
    for (size_t i = 0; i < fs.n; i++)
        if (!strcmp(fs.items[i].kind, "allergy")) f = &fs.items[i];
    assert_non_null(f);
    assert_int_equal(f->severity, ORX_SEV_CONTRAINDICATED);
    orx_findings_clear(&fs);
    /* a shared mechanism (CYP3A4 inhibitor MoA) is no duplicate therapy */
    fs = check("{\"text\":\"clarithromycin\"}", "", "fluconazole");
    for (size_t i = 0; i < fs.n; i++)
        if (!strcmp(fs.items[i].kind, "duplicate")) fail_msg("a duplicate finding from a shared mechanism: %s", fs.items[i].message);
    orx_findings_clear(&fs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_citations),
        cmocka_unit_test(test_mesh_only_for_gaps),
        cmocka_unit_test(test_citations_against_shared),
        cmocka_unit_test(test_allergy_and_duplicates_by_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
