/* test_lexicon.c — drug-name lexicon: names, brands, salts, clinical-drug strings, RxCUIs,
 * combinations and free text normalise to ingredients; classes only from sourced rows; bad
 * lexicon files are clear errors. Uses the shipped data/lexicon/lexicon.tsv. */
#include "testutil.h"
#include "lexicon/lexicon.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p_test(const char *p) { return mkdir(p, 0755); }

static orx_lexicon *L;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_lexicon_open(orx_test_path("%s/data", orx_test_source_dir()), &L, &err);
    if (st) print_message("open: %s\n", err.msg);
    return st == ORX_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    orx_lexicon_free(L);
    return 0;
}

/* text resolves to exactly the ingredients listed (NULL-terminated), first matched by `by`. */
static void expect(const char *text, const char *by, ...) {
    orx_lex_match m[8];
    int n = orx_lexicon_lookup(L, text, m, 8);
    print_message("%-60s ->", text);
    for (int i = 0; i < n && i < 8; i++) print_message(" %s(%s)", m[i].ingredient, m[i].matched_by);
    print_message("\n");
    va_list ap;
    va_start(ap, by);
    int want = 0;
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        bool found = false;
        for (int i = 0; i < n && i < 8; i++) found |= strcmp(m[i].ingredient, s) == 0;
        if (!found) print_message("  missing ingredient %s\n", s);
        assert_true(found);
        want++;
    }
    va_end(ap);
    assert_int_equal(n, want);
    if (by) assert_string_equal(m[0].matched_by, by);
}

static void test_issue_examples(void **state) {
    (void)state;
    expect("Coumadin", "synonym", "warfarin", NULL);          /* FDA preferred term, UNII -> warfarin */
    expect("warfarin sodium 5 MG Oral Tablet", "clinical-drug", "warfarin", NULL);
    expect("855332", "rxcui", "warfarin", NULL);
    orx_lex_match m[2];
    assert_int_equal(orx_lexicon_lookup(L, "855332", m, 2), 1);
    assert_string_equal(m[0].rxcui, "11289"); /* the ingredient's RxCUI */
}

static void test_names_brands_salts(void **state) {
    (void)state;
    expect("Warfarin", "name", "warfarin", NULL);
    expect("  WARFARIN   ", "name", "warfarin", NULL);
    expect("warfarin sodium", "salt", "warfarin", NULL);     /* RxNorm PIN -> IN */
    expect("Jantoven", "brand", "warfarin", NULL);
    expect("Advil", "brand", "ibuprofen", NULL);
    expect("amlodipine besylate", NULL, "amlodipine", NULL);   /* A-gap ingredient, FDA term */
    expect("metformin hydrochloride monohydrate", "salt", "metformin", NULL); /* salt words, twice */
    expect("apixaban sodium", "salt", "apixaban", NULL); /* salt word rule on an A-gap ingredient */
    expect("Lipitor", NULL, "atorvastatin", NULL);             /* FDA term sharing the salt's UNII */
    expect("metoprolol tartrate", "salt", "metoprolol", NULL);
    expect("5640", "rxcui", "ibuprofen", NULL);             /* IN RxCUI */
    char out[64];
    assert_true(orx_lexicon_strip_salt("Amlodipine Besylate", out, sizeof out));
    assert_string_equal(out, "amlodipine");
    assert_false(orx_lexicon_strip_salt("amlodipine", out, sizeof out));
}

static void test_combinations_and_free_text(void **state) {
    (void)state;
    expect("Lotrel", "brand", "amlodipine", "benazepril", NULL);
    expect("amoxicillin / clavulanate", NULL, "amoxicillin", "clavulanate", NULL);
    expect("Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet", NULL, "acetaminophen",
           "oxycodone", NULL);
    expect("ibuprofen 400 mg orally every 6 hours", NULL, "ibuprofen", NULL);
    expect("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", NULL, "metformin", NULL);
    expect("Diclofenac Sodium 0.01 MG/MG Topical Gel [Voltaren]", NULL, "diclofenac", NULL);
    expect("take Motrin 200 mg by mouth twice daily", NULL, "ibuprofen", NULL);
    /* inside free text, names of non-prescribable DrugBank entries (no RxCUI) do not match:
     * "monitor" is a DrugBank synonym of the pesticide methamidophos */
    expect("Start apixaban 5 mg orally twice daily; monitor renal function and bleeding", NULL,
           "apixaban", NULL);
    expect("metamizole 500 mg orally", NULL, "metamizole", NULL); /* at the start it still does */
}

static void test_unknown(void **state) {
    (void)state;
    orx_lex_match m[4];
    assert_int_equal(orx_lexicon_lookup(L, "zorkamycin 5 mg", m, 4), 0);
    assert_int_equal(orx_lexicon_lookup(L, "", m, 4), 0);
    assert_int_equal(orx_lexicon_lookup(L, "999999999", m, 4), 0);
    assert_int_equal(orx_lexicon_lookup(L, "400 mg orally every 6 hours", m, 4), 0); /* dose only */
    assert_int_equal(orx_lexicon_lookup(NULL, "warfarin", m, 4), 0);
}

static void test_classes_sourced(void **state) {
    (void)state;
    assert_true(orx_lexicon_in_class(L, "ibuprofen", "NSAIDs"));
    assert_true(orx_lexicon_in_class(L, "ibuprofen", "nsaid"));
    assert_true(orx_lexicon_in_class(L, "ketorolac", "NSAIDS"));
    const char *src = orx_lexicon_class_source(L, "ibuprofen", "NSAIDs");
    assert_non_null(src);
    assert_non_null(strstr(src, "ONC"));
    assert_false(orx_lexicon_in_class(L, "warfarin", "NSAIDs"));
    assert_false(orx_lexicon_in_class(L, "ibuprofen", "statins"));
    assert_false(orx_lexicon_in_class(L, "ibuprofen", "no such class"));
    assert_true(orx_lexicon_in_class(L, "simvastatin", "Statins"));
    char list[64][ORX_LEX_NAME];
    int n = orx_lexicon_class_members(L, "NSAIDs", list, 64);
    assert_true(n >= 10);
    for (int i = 0; i < n && i < 64; i++) assert_true(orx_lexicon_in_class(L, list[i], "nsaid"));
}

static void test_expansion(void **state) {
    (void)state;
    char list[64][ORX_LEX_NAME];
    int n = orx_lexicon_brands(L, "ibuprofen", list, 64);
    assert_true(n >= 2);
    bool advil = false;
    for (int i = 0; i < n && i < 64; i++) advil |= strcmp(list[i], "advil") == 0;
    assert_true(advil);
    n = orx_lexicon_synonyms(L, "warfarin", list, 64);
    bool coumadin = false;
    for (int i = 0; i < n && i < 64; i++) coumadin |= strcmp(list[i], "coumadin") == 0;
    assert_true(coumadin);
    char cds[64][16];
    n = orx_lexicon_clinical_drugs(L, "warfarin", cds, 64);
    bool found = false;
    for (int i = 0; i < n && i < 64; i++) found |= strcmp(cds[i], "855332") == 0;
    assert_true(found);
    orx_lexicon_stats st;
    orx_lexicon_get_stats(L, &st);
    assert_true(st.ingredients > 2000 && st.rxcuis > 10000 && st.classes > 10);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_files(void **state) {
    (void)state;
    char dir[] = "/tmp/orx_lex_XXXXXX";
    assert_non_null(mkdtemp(dir));
    orx_error err = ORX_ERROR_INIT;
    orx_lexicon *x = NULL;
    orx_status st = orx_lexicon_open(dir, &x, &err); /* missing file */
    assert_true(st == ORX_ERR_NOT_FOUND || st == ORX_ERR_IO);
    assert_non_null(strstr(err.msg, "lexicon.tsv"));
    assert_null(x);
    char sub[512], path[600];
    snprintf(sub, sizeof sub, "%s/lexicon", dir);
    assert_int_equal(mkdir_p_test(sub), 0);
    snprintf(path, sizeof path, "%s/lexicon.tsv", sub);
    write_file(path, "hello\n");
    assert_int_equal(orx_lexicon_open(dir, &x, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, ":1:1:"));
    write_file(path, "#openrx-lexicon\t1\n" "I\taspirin\t1191\trxnorm\n" "N\tecotrin\tnosuch\tbrand\tx\n");
    assert_int_equal(orx_lexicon_open(dir, &x, &err), ORX_ERR_PARSE);
    print_message("-> %s\n", err.msg);
    assert_non_null(strstr(err.msg, "lexicon.tsv:3:1: unknown ingredient 'nosuch'"));
    write_file(path, "#openrx-lexicon\t1\n" "I\taspirin\t1191\trxnorm\n" "N\tecotrin\taspirin\tbrand\tx\n"
                     "Z\tbad\n");
    assert_int_equal(orx_lexicon_open(dir, &x, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, ":4:1:"));
    write_file(path, "#openrx-lexicon\t1\n" "I\taspirin\t1191\trxnorm\n" "N\tecotrin\taspirin\tbrand\tx\n");
    assert_int_equal(orx_lexicon_open(dir, &x, &err), ORX_OK);
    orx_lex_match m[2];
    assert_int_equal(orx_lexicon_lookup(x, "Ecotrin", m, 2), 1);
    assert_string_equal(m[0].ingredient, "aspirin");
    orx_lexicon_free(x);
    remove(path);
    rmdir(sub);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_examples),  cmocka_unit_test(test_names_brands_salts),
        cmocka_unit_test(test_combinations_and_free_text), cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_classes_sourced), cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
