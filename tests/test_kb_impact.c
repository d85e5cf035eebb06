/*
 * test_kb_impact.c — the impact index gives exactly the top-k that FTS5 + orx_rank give (same
 * chunk ids in the same order, bit-identical scores) on the shipped corpus and on a synthetic
 * corpus full of exact copies (ties), for the planned and the exhaustive query, with and without
 * copy collapsing, with --drug and --section filters, lexicon-expanded brand names, several k.
 * Collapsed result lists hold no two chunks with the same text; uncollapsed lists on the copies
 * corpus do (so the check can fail). A stale or damaged impact file is not used.
 */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "kb/impact.h"
#include "kb/kb.h"
#include "util/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64], g_db[256], g_synth[256];

static int setup(void **state) {
    (void)state;
    setenv("ORX_NO_PROGRESS", "1", 1);
    snprintf(g_dir, sizeof g_dir, "/tmp/orx-test-impact-XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    /* a copy of the default knowledge base: test_stale_index_ignored damages its impact file */
    const char *kb = orx_test_default_kb(), *copy = kb ? orx_test_copy_kb(kb, g_dir) : NULL;
    if (!copy) return -1;
    snprintf(g_db, sizeof g_db, "%s", copy);
    snprintf(g_synth, sizeof g_synth, "%s/synth.sqlite", g_dir);
    orx_error err = ORX_ERROR_INIT;
    /* ~2.2 copies of every real chunk: exact ties and copies in every result list */
    if (orx_kb_synthesize(g_db, g_synth, 25000, false, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char **questions(size_t *n) {
    char *data = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/tests/fixtures/kb/ddi_questions.tsv", orx_test_source_dir()),
                                   1 << 24, &data, &len, &err), ORX_OK);
    char **v = calloc(1024, sizeof *v);
    *n = 0;
    for (char *line = data, *nl; line && *line && *n < 1000; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        char *tab = strchr(line, '\t');
        if (tab) *tab = 0;
        if (*line && *line != '#') v[(*n)++] = strdup(line);
    }
    /* class words (many matches, no drug anchor), brand names no label carries (lexicon
     * expansion into the drug column), odd characters, one-word and long queries */
    static const char *extra[] = {"calcium channel blockers", "potassium-sparing diuretics", "Jantoven bleeding",
                                  "hepatic impairment dose adjustment", "pregnancy", "QT prolongation torsades",
                                  "grapefruit juice", "renal failure creatinine clearance 30 mL/min",
                                  "warfarin–aspirin × bleeding", "the of and serotonin", "CYP3A4 inhibitors",
                                  "lactic acidosis metformin contrast", NULL};
    for (int i = 0; extra[i]; i++) v[(*n)++] = strdup(extra[i]);
    free(data);
    return v;
}

/* search q both ways; assert the same ids and scores; returns copies in the impact list */
static int same_both_ways(orx_kb *kb, const orx_kb_query *q, int *n_hits) {
    orx_kb_results a, b;
    orx_error err = ORX_ERROR_INIT;
    assert_true(orx_kb_use_impact(kb, true));
    orx_status sa = orx_kb_search(kb, q, &a, &err);
    orx_kb_use_impact(kb, false);
    orx_status sb = orx_kb_search(kb, q, &b, &err);
    orx_kb_use_impact(kb, true);
    assert_int_equal(sa, sb);
    if (a.n != b.n) print_message("\"%s\" drug=%s: %zu vs %zu hits\n", q->text, q->drug ? q->drug : "", a.n, b.n);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        if (a.hits[i].chunk_id != b.hits[i].chunk_id || a.hits[i].score != b.hits[i].score)
            print_message("\"%s\" rank %zu: impact %lld %.17g, fts5 %lld %.17g\n", q->text, i,
                          (long long)a.hits[i].chunk_id, a.hits[i].score, (long long)b.hits[i].chunk_id,
                          b.hits[i].score);
        assert_int_equal(a.hits[i].chunk_id, b.hits[i].chunk_id);
        assert_true(a.hits[i].score == b.hits[i].score);
    }
    int copies = 0;
    for (size_t i = 1; i < a.n; i++)
        for (size_t j = 0; j < i; j++)
            if (orx_kb_text_hash(a.hits[i].text, strlen(a.hits[i].text)) ==
                orx_kb_text_hash(a.hits[j].text, strlen(a.hits[j].text))) {
                copies++;
                break;
            }
    *n_hits += (int)a.n;
    orx_kb_results_clear(&a);
    orx_kb_results_clear(&b);
    return copies;
}

typedef struct tally { int lists, hits, copies_collapsed, copies_all; } tally;

static void compare_corpus(const char *path, int stride, tally *t) {
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(path, &kb, &err), ORX_OK);
    orx_kb_load_lexicon(kb, NULL, &err); /* expansion when the lexicon is built in */
    size_t n = 0;
    char **qs = questions(&n);
    static const int KS[] = {10, 1, 50};
    for (size_t i = 0; i < n; i += (size_t)stride) {
        for (int mode = 0; mode < 4; mode++) {
            orx_kb_query q = {.text = qs[i], .k = KS[i % 3], .expand = true, .exhaustive = mode & 1,
                              .all_copies = mode & 2};
            int c = same_both_ways(kb, &q, &t->hits);
            if (mode & 2) t->copies_all += c;
            else t->copies_collapsed += c;
            t->lists++;
        }
    }
    /* filters: the drug named in the question's first word, and a section */
    static const char *const drugs[] = {"warfarin", "Plavix", "metformin", "Coumadin", "ibuprofen", NULL};
    static const char *const secs[] = {"interactions", "contraindications", "dosage", NULL};
    for (int d = 0; drugs[d]; d++)
        for (int s = -1; s < 3; s++)
            for (int mode = 0; mode < 2; mode++) {
                orx_kb_query q = {.text = "bleeding risk kidney", .drug = drugs[d], .section = s >= 0 ? secs[s] : NULL,
                                  .k = 10, .expand = true, .exhaustive = mode};
                t->copies_collapsed += same_both_ways(kb, &q, &t->hits);
                t->lists++;
            }
    for (size_t i = 0; i < n; i++) free(qs[i]);
    free(qs);
    orx_kb_free(kb);
}

static void test_real_corpus_exact(void **state) {
    (void)state;
    tally t = {0};
    compare_corpus(g_db, 1, &t);
    print_message("shipped corpus: %d result lists (%d hits) identical; copies collapsed %d, without collapsing %d\n",
                  t.lists, t.hits, t.copies_collapsed, t.copies_all);
    assert_int_equal(t.copies_collapsed, 0);
    assert_true(t.hits > 1000);
}

static void test_synthetic_copies_exact(void **state) {
    (void)state;
    tally t = {0};
    compare_corpus(g_synth, 6, &t);
    print_message("copies corpus: %d result lists (%d hits) identical; copies collapsed %d, without collapsing %d\n",
                  t.lists, t.hits, t.copies_collapsed, t.copies_all);
    assert_int_equal(t.copies_collapsed, 0);
    assert_true(t.copies_all > 100); /* the measure sees copies when they are not collapsed */
}

/* hits name how many other chunks carry their text */
static void test_copies_reported(void **state) {
    (void)state;
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(g_synth, &kb, &err), ORX_OK);
    orx_kb_results r;
    orx_kb_query q = {.text = "warfarin bleeding", .k = 5};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(r.n == 5);
    for (size_t i = 0; i < r.n; i++) assert_true(r.hits[i].copies >= 1); /* 25000 chunks = 2+ copies of each */
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
}

/* the retriever's merged evidence (several searches) holds no two chunks with the same text */
static void test_retriever_no_copies(void **state) {
    (void)state;
    orx_retriever r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_retriever_bm25(g_synth, &r, &err), ORX_OK);
    const char *drugs[] = {"warfarin", "aspirin", "clopidogrel"};
    const char *facts[] = {"CrCl 25 mL/min", "age 82"};
    orx_retrieval_request req = {.indication = "atrial fibrillation", .drugs = drugs, .n_drugs = 3,
                                 .facts = facts, .n_facts = 2, .k = 16};
    orx_kb_results out;
    assert_int_equal(r.retrieve(r.self, &req, &out, &err), ORX_OK);
    assert_true(out.n >= 8);
    for (size_t i = 0; i < out.n; i++)
        for (size_t j = 0; j < i; j++)
            assert_true(orx_kb_text_hash(out.hits[i].text, strlen(out.hits[i].text)) !=
                        orx_kb_text_hash(out.hits[j].text, strlen(out.hits[j].text)));
    orx_kb_results_clear(&out);
    r.free(r.self);
}

/* an impact file for other contents, or a damaged one, is not used: FTS5 answers */
static void test_stale_index_ignored(void **state) {
    (void)state;
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(g_db, &kb, &err), ORX_OK);
    assert_true(orx_kb_use_impact(kb, true));
    orx_kb_free(kb);
    char *out = NULL;
    /* truncate the impact file named in meta */
    assert_int_equal(orx_test_run(&out, "f=$(ls %s.impact-* | head -1) && cp \"$f\" /tmp/orx-impact-save-%ld && "
                                        "truncate -s 1000 \"$f\"", g_db, (long)getpid()), 0);
    free(out);
    assert_int_equal(orx_kb_open(g_db, &kb, &err), ORX_OK);
    assert_false(orx_kb_use_impact(kb, true));
    orx_kb_results r;
    orx_kb_query q = {.text = "warfarin aspirin", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_int_equal(r.n, 3);
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    assert_int_equal(orx_test_run(&out, "f=$(ls %s.impact-* | head -1) && mv /tmp/orx-impact-save-%ld \"$f\"", g_db,
                                  (long)getpid()), 0);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_corpus_exact),
        cmocka_unit_test(test_synthetic_copies_exact),
        cmocka_unit_test(test_copies_reported),
        cmocka_unit_test(test_retriever_no_copies),
        cmocka_unit_test(test_stale_index_ignored),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
