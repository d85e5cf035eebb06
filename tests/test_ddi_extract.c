/* test_ddi_extract.c — the label interaction extractor on crafted label text (shipped lexicon and
 * class-term table): an ingredient named with an action, negations and no-effect study statements
 * (no rule), table rows under a lead sentence and enzyme-table memberships, a role with its e.g.
 * examples, a class, the Contraindications and Boxed Warning sections, self statements and
 * descriptions (memberships, no rule), allergy context, class-level statements, hard-wrapped
 * text (quote verbatim), and both directions through the rule table. */
#include "testutil.h"
#include "safety/ddi_extract.h"
#include "safety/label_ddi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static orx_lexicon *L;
static orx_ddi_extractor *X;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    const char *data = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_lexicon_open(data, &L, &err)) { print_message("lexicon: %s\n", err.msg); return -1; }
    orx_status st = orx_ddi_extractor_create(L, orx_test_path("%s/data/interactions/class_terms.tsv", orx_test_source_dir()), &X, &err);
    if (st) print_message("extractor: %s\n", err.msg);
    return st ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    orx_ddi_extractor_free(X);
    orx_lexicon_free(L);
    return 0;
}

/* Rules from one text; caller frees. */
static orx_ddi_rules extract(const char *label, const char *code, const char *text) {
    orx_ddi_rules r;
    orx_ddi_rules_init(&r);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_extract_section(X, label, "test-setid", "TEST LABEL", code, "section", text, &r, &err), ORX_OK);
    orx_ddi_rules_sort(&r, true);
    for (size_t i = 0; i < r.n; i++)
        print_message("  %s %s x %s [%s] %s %s | %.90s\n", r.items[i].kind, r.items[i].label_drug, r.items[i].other,
                      r.items[i].examples, orx_severity_name(r.items[i].tier), r.items[i].action, r.items[i].quote);
    return r;
}

static const orx_ddi_rule *find(const orx_ddi_rules *r, const char *kind, const char *label, const char *other) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].kind, kind) && (!label || !strcmp(r->items[i].label_drug, label)) &&
            (!other || !strcmp(r->items[i].other, other)))
            return &r->items[i];
    return NULL;
}

static size_t count(const orx_ddi_rules *r, const char *kind) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += !strcmp(r->items[i].kind, kind);
    return n;
}

#define DI "34073-7"
#define CI "34070-3"
#define BW "34066-1"

/* ============================================================================================
 * Statements
 * ========================================================================================== */
static void test_named_ingredient(void **state) {
    (void)state;
    const char *text = "Closely monitor INR when fluconazole is started in patients taking COUMADIN.";
    orx_ddi_rules r = extract("warfarin", DI, text);
    const orx_ddi_rule *x = find(&r, "rule", "warfarin", "fluconazole");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MODERATE);
    assert_string_equal(x->action, "monitor");
    assert_string_equal(x->quote, text);
    assert_null(find(&r, "rule", NULL, "warfarin")); /* the label's own brand is not a partner */
    orx_ddi_rules_free(&r);
    r = extract("clopidogrel", DI, "Avoid concomitant use of Plavix with omeprazole or esomeprazole.");
    assert_non_null(x = find(&r, "rule", "clopidogrel", "omeprazole"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_non_null(find(&r, "rule", "clopidogrel", "esomeprazole"));
    orx_ddi_rules_free(&r);
}

static void test_negations_make_no_rule(void **state) {
    (void)state;
    static const char *const NEG[] = {
        "Coadministration of fluconazole did not alter the pharmacokinetics of warfarin.",
        "No dose adjustment of warfarin is needed when it is given with famotidine.",
        "Famotidine had no clinically significant effect on the exposure to warfarin.",
        "Ranitidine increased warfarin AUC by 5%, which is not clinically significant.",
        "In vitro, famotidine inhibited the formation of a warfarin metabolite.",
        NULL};
    for (int i = 0; NEG[i]; i++) {
        orx_ddi_rules r = extract("warfarin", DI, NEG[i]);
        if (count(&r, "rule")) fail_msg("a rule from a negated / study-only sentence: %s", NEG[i]);
        orx_ddi_rules_free(&r);
    }
    /* an effect before a no-effect phrase still counts */
    orx_ddi_rules r = extract("carvedilol", DI, "Cimetidine increased the AUC of carvedilol by 30% with no change in Cmax.");
    const orx_ddi_rule *x = find(&r, "rule", "carvedilol", "cimetidine");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MINOR);
    orx_ddi_rules_free(&r);
}

static void test_table_rows_and_enzyme_table(void **state) {
    (void)state;
    const char *text = "Closely monitor INR if a concomitant drug is a CYP2C9 inhibitor or inducer.\n"
                       "| Enzyme | Inhibitors | Inducers\n"
                       "| CYP2C9 | amiodarone, fluconazole | rifampin\n";
    orx_ddi_rules r = extract("warfarin", DI, text);
    const orx_ddi_rule *x = find(&r, "rule", "warfarin", "fluconazole");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MODERATE); /* the lead sentence's action */
    assert_string_equal(x->quote, "| CYP2C9 | amiodarone, fluconazole | rifampin");
    assert_non_null(strstr(x->context, "Closely monitor INR"));
    assert_non_null(find(&r, "member", "fluconazole", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "member", "rifampin", "role:cyp2c9:inducer"));
    assert_null(find(&r, "member", "rifampin", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp2c9:inhibitor"));
    orx_ddi_rules_free(&r);
}

static void test_role_with_examples(void **state) {
    (void)state;
    orx_ddi_rules r = extract("apixaban", DI,
                              "Avoid concomitant use of ELIQUIS with strong dual inducers of CYP3A4 and P-gp "
                              "(e.g., rifampin, carbamazepine, phenytoin, St. John's wort) because such drugs "
                              "will decrease exposure to apixaban.");
    const orx_ddi_rule *x = find(&r, "rule", "apixaban", "role:cyp3a4:inducer:strong+pgp:inducer");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_non_null(strstr(x->examples, "rifampin"));
    assert_non_null(strstr(x->examples, "carbamazepine"));
    assert_null(find(&r, "rule", "apixaban", "rifampin")); /* an example, part of the role rule */
    assert_non_null(find(&r, "member", "rifampin", "role:cyp3a4:inducer:strong"));
    assert_non_null(find(&r, "member", "rifampin", "role:pgp:inducer"));
    orx_ddi_rules_free(&r);
    /* "inhibitors of CYP2C9, 1A2, and/or 3A4": alternatives, one rule each */
    r = extract("warfarin", DI, "Inhibitors of CYP2C9, 1A2, and/or 3A4 have the potential to increase the effect of warfarin.");
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp1a2:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp3a4:inhibitor"));
    orx_ddi_rules_free(&r);
}

static void test_class_and_sections(void **state) {
    (void)state;
    orx_ddi_rules r = extract("rivaroxaban", DI,
                              "Avoid concurrent use of XARELTO with other anticoagulants due to increased bleeding risk.");
    const orx_ddi_rule *x = find(&r, "rule", "rivaroxaban", "class:anticoagulant|anti-coagulant");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_free(&r);
    r = extract("simvastatin", CI, "Concomitant administration of strong CYP3A4 inhibitors (e.g., itraconazole, ketoconazole).");
    assert_non_null(x = find(&r, "rule", "simvastatin", "role:cyp3a4:inhibitor:strong"));
    assert_int_equal(x->tier, ORX_SEV_CONTRAINDICATED);
    orx_ddi_rules_free(&r);
    /* a Boxed Warning effect is at least major; the class statement is lifted to the class */
    r = extract("alprazolam", BW,
                "Concomitant use of benzodiazepines and opioids may result in profound sedation, respiratory "
                "depression, coma, and death.");
    x = find(&r, "rule", "class:benzodiazepine", NULL);
    assert_non_null(x);
    char other[256];
    snprintf(other, sizeof other, "%s", x ? x->other : "");
    assert_non_null(strstr(other, "opioid agonist"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_free(&r);
}

static void test_self_statements_and_context(void **state) {
    (void)state;
    orx_ddi_rules r = extract("clarithromycin", DI, "Clarithromycin is a strong inhibitor of CYP3A4.");
    assert_non_null(find(&r, "member", "clarithromycin", "role:cyp3a4:inhibitor:strong"));
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_free(&r);
    r = extract("amiodarone", DI, "Rifampin is a potent inducer of CYP3A. Cimetidine inhibits CYP3A and can increase serum amiodarone levels.");
    assert_non_null(find(&r, "member", "rifampin", "role:cyp3a4:inducer:strong"));
    assert_non_null(find(&r, "member", "cimetidine", "role:cyp3a4:inhibitor"));
    assert_non_null(find(&r, "rule", "amiodarone", "cimetidine"));
    assert_null(find(&r, "rule", "amiodarone", "role:cyp3a4:inducer:strong"));
    orx_ddi_rules_free(&r);
    /* allergy / history context and comparisons name no partner */
    r = extract("ibuprofen", CI, "Ibuprofen should not be given to patients who have experienced asthma or allergic-type reactions after taking aspirin or other NSAIDs.");
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_free(&r);
    r = extract("ibuprofen", "43685-7", "As with other NSAIDs, anaphylactic reactions may occur in patients without known prior exposure.");
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_free(&r);
}

static void test_hard_wrapped_text(void **state) {
    (void)state;
    const char *text = "Prothrombin time may be increased in patients\nreceiving concomitant fluconazole and warfarin.\n"
                       "Careful monitoring of prothrombin time\nis recommended.";
    orx_ddi_rules r = extract("fluconazole", "42232-9", text);
    const orx_ddi_rule *x = find(&r, "rule", "fluconazole", "warfarin");
    assert_non_null(x);
    assert_non_null(strstr(text, x->quote)); /* verbatim, line break included */
    assert_non_null(strchr(x->quote, '\n'));
    orx_ddi_rules_free(&r);
}

/* ============================================================================================
 * Both directions through the rule table
 * ========================================================================================== */
static void test_both_directions(void **state) {
    (void)state;
    orx_ddi_rules r = extract("warfarin", DI, "Closely monitor INR when fluconazole is started in patients taking COUMADIN.");
    char path[] = "/tmp/orx_ddi_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_rules_write_tsv(&r, path, &err), ORX_OK);
    orx_ddi_rules_free(&r);
    orx_label_ddi *t = NULL;
    assert_int_equal(orx_label_ddi_load(path, &t, &err), ORX_OK);
    orx_ddi_side w = {.ingr = {"warfarin"}, .n = 1}, f = {.ingr = {"fluconazole"}, .n = 1};
    orx_label_hit h[4];
    assert_int_equal(orx_label_ddi_match(t, L, &w, &f, h, 4), 1);
    assert_int_equal(h[0].from, 0);
    assert_int_equal(orx_label_ddi_match(t, L, &f, &w, h, 4), 1); /* fluconazole proposed: warfarin's label */
    assert_int_equal(h[0].from, 1);
    assert_string_equal(h[0].partner, "fluconazole");
    assert_non_null(strstr(h[0].quote, "fluconazole"));
    orx_ddi_side topical = {.ingr = {"fluconazole"}, .n = 1, .topical = true};
    assert_int_equal(orx_label_ddi_match(t, L, &w, &topical, h, 4), 0); /* a systemic statement */
    orx_label_ddi_free(t);
    unlink(path);
    /* a malformed table is a clear error with file and line */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("#openrx-label-ddi\t1\n#columns\nrule\twarfarin\tfluconazole\n", fp);
    fclose(fp);
    assert_int_equal(orx_label_ddi_load(path, &t, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, ":3:1:"));
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_ingredient),
        cmocka_unit_test(test_negations_make_no_rule),
        cmocka_unit_test(test_table_rows_and_enzyme_table),
        cmocka_unit_test(test_role_with_examples),
        cmocka_unit_test(test_class_and_sections),
        cmocka_unit_test(test_self_statements_and_context),
        cmocka_unit_test(test_hard_wrapped_text),
        cmocka_unit_test(test_both_directions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
