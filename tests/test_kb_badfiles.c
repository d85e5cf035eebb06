/*
 * test_kb_badfiles.c — `kb build` over a directory with bad files in it:
 *  - an empty .json, a garbage .xml, a .jsonl whose first line is good and second is not, and a
 *    garbage .json in a subdirectory are each reported (path and reason, through the note
 *    callback) and skipped; the build succeeds with only the good files' labels — none of the
 *    half-read .jsonl's — and counts 4 skipped files;
 *  - --strict (params.strict) stops at the first bad file, naming it, and leaves no output file;
 *  - a bad file named directly is an error either way;
 *  - the CLI prints each skipped file and the count, and exits 2 under --strict.
 */
#include "testutil.h"
#include "kb/kb.h"
#include "util/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[256], g_out[300];

typedef struct notes {
    char text[8192]; /* every note, one per line */
    int  n;          /* notes */
} notes;

static void collect(void *ctx, const char *msg) {
    notes *ns = ctx;
    size_t used = strlen(ns->text);
    snprintf(ns->text + used, sizeof ns->text - used, "%s\n", msg);
    ns->n++;
}

static void put(const char *name, const char *data) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_write_file_atomic(p, data, strlen(data), &err), ORX_OK);
}

static void copy_fixture(const char *fixture, const char *name) {
    char *data;
    size_t len;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/tests/fixtures/kb/%s", orx_test_source_dir(), fixture), 0, &data, &len, &err), ORX_OK);
    put(name, data);
    free(data);
}

static int setup(void **state) {
    snprintf(g_dir, sizeof g_dir, "/tmp/orx_kbbad_%d", (int)getpid());
    snprintf(g_out, sizeof g_out, "%s.sqlite", g_dir);
    mkdir(g_dir, 0755);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/more", g_dir);
    mkdir(sub, 0755);
    copy_fixture("openfda_labels.json", "good-openfda.json");
    copy_fixture("spl_small.xml", "good-spl.xml");
    put("empty.json", "");
    put("garbage.xml", "\x01\x02 this is not <xml at all &&&");
    put("half.jsonl", "{\"setid\": \"half-1\", \"label_name\": \"HALFDRUG tablet\", \"sections\": [{\"section_code\": "
                      "\"34067-9\", \"section_name\": \"INDICATIONS & USAGE\", \"text\": \"HALFDRUG is indicated for testing.\"}]}\n"
                      "{\"setid\": \"half-2\", \"sections\": [ this line is broken\n");
    put("more/garbage.json", "{\"results\": [{\"set_id\": 12, ");
    return 0;
}

static int teardown(void **state) {
    char cmd[600];
    /* the knowledge base with its -wal / -shm files and impact-index sidecars */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'*", g_dir, g_out);
    return system(cmd) == 0 ? 0 : -1;
}

static orx_status build(bool strict, notes *ns, orx_kb_build_stats *st, orx_error *err) {
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    p.strict = strict;
    p.note = collect;
    p.note_ctx = ns;
    const char *in[1] = {g_dir};
    return orx_kb_build(g_out, in, 1, &p, st, err);
}

static void test_skip_and_report(void **state) {
    notes ns = {{0}, 0};
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    unlink(g_out);
    assert_int_equal(build(false, &ns, &st, &err), ORX_OK);
    assert_int_equal(st.skipped_files, 4);
    const char *bad[] = {"empty.json", "garbage.xml", "half.jsonl", "more/garbage.json"};
    for (size_t i = 0; i < 4; i++) {
        char needle[300];
        snprintf(needle, sizeof needle, "skipped bad file %s/%s", g_dir, bad[i]);
        if (!strstr(ns.text, needle)) fprintf(stderr, "missing note for %s in:\n%s", bad[i], ns.text);
        assert_non_null(strstr(ns.text, needle));
    }
    /* the half-read .jsonl left nothing behind: its good first line was undone with it */
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(g_out, &kb, &err), ORX_OK);
    orx_kb_stats ks;
    assert_int_equal(orx_kb_get_stats(kb, &ks, &err), ORX_OK);
    assert_int_equal(ks.docs, st.docs);
    orx_kb_query q = {.text = "HALFDRUG", .k = 5};
    orx_kb_results r;
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_int_equal(r.n, 0);
    orx_kb_results_clear(&r);
    q.text = "COUMADIN pregnant";
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(r.n > 0); /* the good files are in */
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    /* the good files' labels: 3 in the openFDA fixture + 1 SPL, two of them older versions of
     * the others (dropped as duplicates) */
    assert_int_equal(st.docs, 2);
    assert_int_equal(st.duplicates, 2);
}

static void test_strict(void **state) {
    notes ns = {{0}, 0};
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    unlink(g_out);
    orx_status s = build(true, &ns, &st, &err);
    assert_int_not_equal(s, ORX_OK);
    assert_int_equal(orx_exit_code(s), 2);
    assert_non_null(strstr(err.msg, "empty.json")); /* the first bad file in walk order */
    assert_false(orx_file_exists(g_out));
    /* a bad file named directly is an error even without --strict */
    const char *in[1] = {orx_test_path("%s/garbage.xml", g_dir)};
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    err = (orx_error)ORX_ERROR_INIT;
    assert_int_not_equal(orx_kb_build(g_out, in, 1, &p, &st, &err), ORX_OK);
    assert_non_null(strstr(err.msg, "garbage.xml"));
}

static void test_cli(void **state) {
    const char *bin = orx_test_bin();
    if (!bin) skip();
    char *out = NULL;
    int rc = orx_test_run(&out, "%s kb build --from %s --out %s --quiet 2>&1", bin, g_dir, g_out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "warning: skipped bad file"));
    assert_non_null(strstr(out, "4 bad files skipped (listed above)"));
    free(out);
    rc = orx_test_run(&out, "%s kb build --from %s --out %s --strict --quiet 2>&1", bin, g_dir, g_out);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "empty.json"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_and_report),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
