#define _GNU_SOURCE 1 /* strcasestr */
/* test_kb_recall.c — the default knowledge base (data/labels) answers the NLM DDI dev question set
 * (tests/fixtures/kb/ddi_questions.tsv): "X with Y" must retrieve X's label section that mentions Y.
 * Floors are the recall measured when the set was made (see README "Knowledge base"). */
#include "testutil.h"
#include "kb/kb.h"
#include "lexicon/lexicon.h"
#include "util/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_db; /* the default knowledge base (read only) */

static int setup(void **state) {
    (void)state;
    g_db = orx_test_default_kb();
    return g_db ? 0 : -1;
}

static void test_default_corpus_shape(void **state) {
    (void)state;
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(g_db, &kb, &err), ORX_OK);
    orx_kb_stats st;
    assert_int_equal(orx_kb_get_stats(kb, &st, &err), ORX_OK);
    assert_true(st.docs >= 400);    /* 5 shipped sources, ~450 labels */
    assert_true(st.chunks >= 8000);
    assert_true(st.duplicates >= 3); /* NLM 2014 copies superseded by the 2016 renderings */
    orx_kb_free(kb);
}

static void run_eval(bool expand, bool exhaustive, double r1, double r5, double r10) {
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(g_db, &kb, &err), ORX_OK);
    if (expand) orx_kb_load_lexicon(kb, NULL, &err); /* optional */
    orx_kb_eval ev;
    const char *q = orx_test_path("%s/tests/fixtures/kb/ddi_questions.tsv", orx_test_source_dir());
    assert_int_equal(orx_kb_eval_questions(kb, q, expand, exhaustive, &ev, &err), ORX_OK);
    print_message("%s%s: %d questions recall@1 %.3f @5 %.3f @10 %.3f\n",
                  expand ? "expanded" : "plain", exhaustive ? " exhaustive" : "", ev.questions,
                  ev.recall_at[0], ev.recall_at[1], ev.recall_at[2]);
    assert_int_equal(ev.questions, 276);
    assert_true(ev.recall_at[0] >= r1);
    assert_true(ev.recall_at[1] >= r5);
    assert_true(ev.recall_at[2] >= r10);
    orx_kb_free(kb);
}

/* Floors = recall measured 2026-11-27, rounded down to 2 decimals:
 *   default ranker orx_rank, drug-anchored, plain       0.8297 / 0.971 / 0.986
 *   default ranker orx_rank, drug-anchored, expanded    0.826 / 0.971 / 0.986
 *   orx_rank, exhaustive (every match scored), expanded 0.833 / 0.967 / 0.986
 *   FTS5 bm25() ranker (ORX_KB_FTS5_BM25=1), expanded   0.815 / 0.975 / 0.986 */
static void test_recall_plain(void **state) { (void)state; run_eval(false, false, 0.82, 0.97, 0.98); }
static void test_recall_expanded(void **state) { (void)state; run_eval(true, false, 0.82, 0.97, 0.98); }
/* Brand names that no shipped label carries (so only the lexicon can tie them to a drug): the
 * lexicon (RxNorm BN entries, data/lexicon) resolves each to its ingredient; with expansion the
 * best hit is that ingredient's label, without it no top-3 hit is (so a broken expansion fails). */
static void test_expansion_reaches_unknown_brands(void **state) {
    (void)state;
    static const char *const Q[][2] = {
        {"jantoven", "jantoven with aspirin"},           {"flolipid", "flolipid with clarithromycin"},
        {"qbrelis", "qbrelis with potassium"},           {"digitek", "digitek with amiodarone"},
        {"epaned", "epaned with lithium"},
    };
    orx_kb *kb = NULL;
    orx_lexicon *lex = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(g_db, &kb, &err), ORX_OK);
    assert_int_equal(orx_lexicon_open(NULL, &lex, &err), ORX_OK);
    orx_kb_set_lexicon(kb, lex);
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        orx_lex_match m;
        assert_int_equal(orx_lexicon_lookup_exact(lex, Q[i][0], &m, 1), 1);
        assert_string_equal(m.matched_by, "brand");
        for (int expand = 1; expand >= 0; expand--) {
            orx_kb_query q = {.text = Q[i][1], .k = 3, .expand = expand};
            orx_kb_results r;
            assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
            int first = -1; /* rank of the first hit on the ingredient's label */
            for (size_t h = 0; h < r.n && first < 0; h++)
                if (strcasestr(r.hits[h].drugs, m.ingredient)) first = (int)h;
            print_message("%-30s %s: %s label %s %d\n", Q[i][1], expand ? "expanded" : "plain   ",
                          m.ingredient, first < 0 ? "not in the top" : "at rank", first < 0 ? 3 : first + 1);
            if (expand) assert_int_equal(first, 0);
            else assert_int_equal(first, -1);
            orx_kb_results_clear(&r);
        }
    }
    orx_kb_set_lexicon(kb, NULL);
    orx_kb_free(kb);
    orx_lexicon_free(lex);
}

static void test_recall_exhaustive(void **state) { (void)state; run_eval(true, true, 0.83, 0.96, 0.98); }
static void test_recall_fts5_bm25(void **state) {
    (void)state;
    setenv("ORX_KB_FTS5_BM25", "1", 1); /* read at open */
    run_eval(true, false, 0.81, 0.97, 0.98);
    unsetenv("ORX_KB_FTS5_BM25");
}

int main(void) {
    setenv("ORX_NO_PROGRESS", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_corpus_shape),
        cmocka_unit_test(test_recall_plain),
        cmocka_unit_test(test_recall_expanded),
        cmocka_unit_test(test_expansion_reaches_unknown_brands),
        cmocka_unit_test(test_recall_exhaustive),
        cmocka_unit_test(test_recall_fts5_bm25),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
