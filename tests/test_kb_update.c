/*
 * test_kb_update.c — `kb update`: incremental upsert by set id + version gives the same knowledge
 * base as building from all inputs (chunks, term statistics, rankings); a full release removes
 * the set ids of its source that it no longer carries and is recorded with its date; a killed
 * update leaves the previous KB intact; a dry run changes nothing; zipped releases are read
 * straight from the zip (openFDA JSON part, DailyMed zip of per-label zips).
 */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "kb/fetch.h"
#include "kb/impact.h"
#include "kb/kb.h"
#include "util/util.h"
#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[256];

static const char *tp(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int setup(void **state) {
    (void)state;
    setenv("ORX_NO_PROGRESS", "1", 1);
    snprintf(g_dir, sizeof g_dir, "/tmp/orx-test-update.XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ============================================================================================
 * Fixtures: openFDA label JSON, zips, fetch directories
 * ========================================================================================== */
typedef struct label { const char *set_id, *version, *date, *generic, *brand, *indication, *interactions; } label;

static const label L1 = {"11111111-aaaa-4aaa-8aaa-000000000001", "1", "20200101", "alphazine", "Alphabrand",
                         "Alphazine is indicated for zebrafinch fever in adults.",
                         "Alphazine increases the bleeding risk of warfarin."};
static const label L2v1 = {"22222222-bbbb-4bbb-8bbb-000000000002", "1", "20200101", "betamol", "Betabrand",
                           "Betamol is indicated for hypertension.",
                           "Old interaction text: quokka inhibitors raise betamol levels."};
static const label L2v2 = {"22222222-bbbb-4bbb-8bbb-000000000002", "2", "20230601", "betamol", "Betabrand",
                           "Betamol is indicated for hypertension and heart failure.",
                           "New interaction text: wombat inducers lower betamol levels; avoid wombat."};
static const label L3 = {"33333333-cccc-4ccc-8ccc-000000000003", "1", "20230701", "gammacillin", "",
                         "Gammacillin is indicated for narwhal infections of the skin.",
                         "Gammacillin may reduce the effect of oral contraceptives."};
static const label L9 = {"99999999-dddd-4ddd-8ddd-000000000009", "4", "20190101", "deltapril", "Deltabrand",
                         "Deltapril is indicated for ocelot syndrome.", "Deltapril raises potassium with spironolactone."};

static char *openfda_json(const label *const *ls, int n) {
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_puts(&b, "{\"meta\": {\"disclaimer\": \"test\"}, \"results\": [\n");
    for (int i = 0; i < n; i++)
        orx_buf_printf(&b,
                       "%s{\"set_id\": \"%s\", \"id\": \"doc-%d\", \"version\": \"%s\", \"effective_time\": \"%s\","
                       " \"openfda\": {\"generic_name\": [\"%s\"], \"brand_name\": [\"%s\"]},"
                       " \"indications_and_usage\": [\"%s\"], \"drug_interactions\": [\"%s\"]}\n",
                       i ? "," : "", ls[i]->set_id, i, ls[i]->version, ls[i]->date, ls[i]->generic, ls[i]->brand,
                       ls[i]->indication, ls[i]->interactions);
    orx_buf_puts(&b, "]}\n");
    return orx_buf_steal(&b);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_json(const char *path, const label *const *ls, int n) {
    char *j = openfda_json(ls, n);
    write_file(path, j);
    free(j);
}

/* zip with entries (name, data, len) */
static void write_zip(const char *path, const char *const *names, const char *const *datas, const size_t *lens,
                      int n) {
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_size(e, (la_int64_t)lens[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, datas[i], lens[i]), (la_ssize_t)lens[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* a fetch directory as `kb fetch openfda` leaves it: one zipped JSON part + manifest.json */
static void make_release(const char *dir, const char *date, const label *const *ls, int n) {
    mkdir(dir, 0755);
    char *j = openfda_json(ls, n);
    const char *names[1] = {"drug-label-0001-of-0001.json"};
    const char *datas[1] = {j};
    size_t lens[1] = {strlen(j)};
    char zp[600], mp[600], m[1200];
    snprintf(zp, sizeof zp, "%s/drug-label-0001-of-0001.json.zip", dir);
    write_zip(zp, names, datas, lens, 1);
    free(j);
    snprintf(mp, sizeof mp, "%s/manifest.json", dir);
    snprintf(m, sizeof m,
             "{\"source\": \"openfda\", \"kind\": \"full\", \"release_date\": \"%s\", \"index_url\": \"test\","
             " \"fetched_at\": \"%sT00:00:00Z\", \"files\": [{\"name\": \"drug-label-0001-of-0001.json.zip\"}]}",
             date, date);
    write_file(mp, m);
}

static orx_status build(const char *out, const char *const *in, size_t n) {
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_kb_build(out, in, n, &p, NULL, &err);
    if (st) print_message("build: %s\n", err.msg);
    return st;
}

static orx_status update(const char *kb, const char *in, orx_kb_update_report *r, bool dry) {
    orx_kb_update_params p = orx_kb_update_default_params();
    p.progress = false;
    p.dry_run = dry;
    orx_error err = ORX_ERROR_INIT;
    const char *ins[1] = {in};
    orx_status st = orx_kb_update(kb, ins, 1, &p, r, &err);
    if (st) print_message("update: %s\n", err.msg);
    return st;
}

/* ============================================================================================
 * Comparing knowledge bases
 * ========================================================================================== */
/* all rows of a query, one line each */
static char *rows(const char *db_path, const char *sql) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    orx_buf b;
    orx_buf_init(&b);
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); i++)
            orx_buf_printf(&b, "%s%s", i ? "|" : "", (const char *)sqlite3_column_text(s, i) ?: "NULL");
        orx_buf_puts(&b, "\n");
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return b.data ? orx_buf_steal(&b) : strdup("");
}

static void assert_same_rows(const char *a, const char *b, const char *sql) {
    char *x = rows(a, sql), *y = rows(b, sql);
    if (strcmp(x, y)) print_message("differs: %s\n--- %s\n%s--- %s\n%s", sql, a, x, b, y);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

/* set id, section and score of each hit */
static char *ranking(const char *kb_path, const char *query, bool impact) {
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(kb_path, &kb, &err), ORX_OK);
    orx_kb_use_impact(kb, impact);
    orx_kb_results r;
    orx_kb_query q = {.text = query, .k = 20};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    orx_buf b;
    orx_buf_init(&b);
    for (size_t i = 0; i < r.n; i++)
        orx_buf_printf(&b, "%s#%s %.12g\n", r.hits[i].set_id, r.hits[i].section_code, r.hits[i].score);
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    return b.data ? orx_buf_steal(&b) : strdup("");
}

static int hits_for(const char *kb_path, const char *query) {
    char *r = ranking(kb_path, query, true);
    int n = 0;
    for (char *p = r; *p; p++) n += *p == '\n';
    free(r);
    return n;
}

#define CHUNK_ROWS                                                                                      \
    "SELECT d.set_id, d.version, c.section_code, c.seq, c.id & 255, c.drug, c.section, c.text, c.anchor" \
    " FROM chunks c JOIN docs d ON d.id = c.doc_id ORDER BY d.set_id, c.section_code, c.seq"

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static void test_update_equals_build(void **state) {
    (void)state;
    const label *a[] = {&L1, &L2v1}, *b[] = {&L2v2, &L3};
    write_json(tp("a.json"), a, 2);
    write_json(tp("b.json"), b, 2);
    const char *in_a[] = {tp("a.json")}, *in_ab[] = {tp("a.json"), tp("b.json")};
    assert_int_equal(build(tp("upd.sqlite"), in_a, 1), ORX_OK);
    assert_int_equal(build(tp("all.sqlite"), in_ab, 2), ORX_OK);
    orx_kb_update_report r;
    assert_int_equal(update(tp("upd.sqlite"), tp("b.json"), &r, false), ORX_OK);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(r.unchanged, 0);
    assert_int_equal(r.removed, 0); /* plain files: no removals */
    assert_true(r.chunks_added > 0 && r.chunks_removed > 0);
    /* the same chunks, term statistics and corpus statistics as a build from both inputs */
    assert_same_rows(tp("upd.sqlite"), tp("all.sqlite"), CHUNK_ROWS);
    assert_same_rows(tp("upd.sqlite"), tp("all.sqlite"), "SELECT term, df_all, df_drug FROM term_stats ORDER BY term");
    assert_same_rows(tp("upd.sqlite"), tp("all.sqlite"), "SELECT key, value FROM meta WHERE key IN ('chunks', 'avg_len')");
    assert_same_rows(tp("upd.sqlite"), tp("all.sqlite"),
                     "SELECT d.set_id, c.section_code, m.hash FROM chunk_meta m JOIN chunks c ON c.id = m.id"
                     " JOIN docs d ON d.id = c.doc_id ORDER BY 1, 2, 3");
    /* the same rankings, by the impact index and by FTS5 */
    static const char *Q[] = {"wombat interactions", "betamol hypertension", "narwhal", "warfarin bleeding", NULL};
    for (int i = 0; Q[i]; i++) {
        char *x = ranking(tp("upd.sqlite"), Q[i], true), *y = ranking(tp("all.sqlite"), Q[i], true);
        char *z = ranking(tp("upd.sqlite"), Q[i], false);
        assert_string_equal(x, y);
        assert_string_equal(x, z);
        free(x); free(y); free(z);
    }
    assert_int_equal(hits_for(tp("upd.sqlite"), "quokka"), 0); /* the replaced version's text is gone */
    assert_true(hits_for(tp("upd.sqlite"), "wombat") > 0);
    /* applying the same update again changes nothing */
    assert_int_equal(update(tp("upd.sqlite"), tp("b.json"), &r, false), ORX_OK);
    assert_int_equal(r.added + r.replaced + r.removed, 0);
    assert_int_equal(r.unchanged, 2);
}

static void test_full_release_removes_and_records(void **state) {
    (void)state;
    const label *local[] = {&L9}, *r1[] = {&L1, &L2v1}, *r2[] = {&L2v2, &L3};
    write_json(tp("local.json"), local, 1);
    make_release(tp("rel1"), "2024-01-05", r1, 2);
    make_release(tp("rel2"), "2024-02-09", r2, 2);
    const char *in[] = {tp("local.json")};
    assert_int_equal(build(tp("rel.sqlite"), in, 1), ORX_OK);
    orx_kb_update_report r;
    assert_int_equal(update(tp("rel.sqlite"), tp("rel1"), &r, false), ORX_OK);
    assert_int_equal(r.added, 2);
    assert_string_equal(r.source, "openfda");
    assert_string_equal(r.kind, "full");
    assert_true(hits_for(tp("rel.sqlite"), "zebrafinch") > 0);
    /* the next release lacks L1: removed; L2 replaced; L3 added; the local label stays */
    assert_int_equal(update(tp("rel.sqlite"), tp("rel2"), &r, false), ORX_OK);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(r.removed, 1);
    assert_int_equal(hits_for(tp("rel.sqlite"), "zebrafinch"), 0);
    assert_true(hits_for(tp("rel.sqlite"), "ocelot") > 0);
    assert_true(hits_for(tp("rel.sqlite"), "narwhal") > 0);
    char *src = rows(tp("rel.sqlite"), "SELECT name, kind, release_date FROM sources ORDER BY name");
    assert_non_null(strstr(src, "openfda|full|2024-02-09"));
    assert_non_null(strstr(src, "local|build|2019-01-01"));
    free(src);
    /* kb stats shows each source's release */
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    char *js = NULL;
    assert_int_equal(orx_kb_open(tp("rel.sqlite"), &kb, &err), ORX_OK);
    assert_int_equal(orx_kb_stats_json(kb, &js, &err), ORX_OK);
    assert_non_null(strstr(js, "\"release_date\":\"2024-02-09\""));
    free(js);
    orx_kb_free(kb);
    /* term statistics equal a recount from the index */
    char *before = rows(tp("rel.sqlite"), "SELECT term, df_all, df_drug FROM term_stats ORDER BY term");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tp("rel.sqlite"), &db), SQLITE_OK);
    assert_int_equal(orx_kb_recount_terms(db, &err), ORX_OK);
    sqlite3_close(db);
    char *after = rows(tp("rel.sqlite"), "SELECT term, df_all, df_drug FROM term_stats ORDER BY term");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void kill_self(void *ctx, const char *msg) {
    (void)ctx;
    (void)msg;
    kill(getpid(), SIGKILL);
}

static void test_killed_update_keeps_old_kb(void **state) {
    (void)state;
    const label *a[] = {&L1, &L2v1}, *b[] = {&L2v2, &L3};
    write_json(tp("ka.json"), a, 2);
    write_json(tp("kb.json"), b, 2);
    const char *in[] = {tp("ka.json")};
    assert_int_equal(build(tp("kill.sqlite"), in, 1), ORX_OK);
    char *docs_before = rows(tp("kill.sqlite"), "SELECT set_id, version FROM docs ORDER BY 1");
    char *rank_before = ranking(tp("kill.sqlite"), "betamol interactions", true);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* killed at the first change it reports (L2 replaced), mid-transaction */
        orx_kb_update_params p = orx_kb_update_default_params();
        p.progress = false;
        p.note = kill_self;
        orx_error err = ORX_ERROR_INIT;
        const char *ins[1] = {tp("kb.json")};
        orx_kb_update(tp("kill.sqlite"), ins, 1, &p, NULL, &err);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char *docs_after = rows(tp("kill.sqlite"), "SELECT set_id, version FROM docs ORDER BY 1");
    char *rank_after = ranking(tp("kill.sqlite"), "betamol interactions", true);
    assert_string_equal(docs_before, docs_after);
    assert_string_equal(rank_before, rank_after);
    char *ic = rows(tp("kill.sqlite"), "PRAGMA integrity_check");
    assert_string_equal(ic, "ok\n");
    free(ic);
    /* and the update then applies */
    orx_kb_update_report r;
    assert_int_equal(update(tp("kill.sqlite"), tp("kb.json"), &r, false), ORX_OK);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(hits_for(tp("kill.sqlite"), "wombat") > 0, 1);
    free(docs_before); free(docs_after); free(rank_before); free(rank_after);
}

/* a handle opened before an update (a server's) sees the update on its next search */
static void test_open_handle_sees_update(void **state) {
    (void)state;
    const label *a[] = {&L1, &L2v1}, *b[] = {&L2v2, &L3};
    write_json(tp("ha.json"), a, 2);
    write_json(tp("hb.json"), b, 2);
    const char *in[] = {tp("ha.json")};
    assert_int_equal(build(tp("handle.sqlite"), in, 1), ORX_OK);
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_open(tp("handle.sqlite"), &kb, &err), ORX_OK);
    orx_kb_results r;
    orx_kb_query q = {.text = "wombat narwhal quokka", .k = 10};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(r.n > 0 && strstr(r.hits[0].text, "quokka"));
    orx_kb_results_clear(&r);
    orx_kb_update_report rep;
    assert_int_equal(update(tp("handle.sqlite"), tp("hb.json"), &rep, false), ORX_OK);
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(orx_kb_use_impact(kb, true)); /* the new impact index, not the superseded one */
    bool quokka = false, wombat = false;
    for (size_t i = 0; i < r.n; i++) {
        quokka |= strstr(r.hits[i].text, "quokka") != NULL;
        wombat |= strstr(r.hits[i].text, "wombat") != NULL;
    }
    assert_false(quokka);
    assert_true(wombat);
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    char *x = ranking(tp("handle.sqlite"), "wombat narwhal", true), *y = ranking(tp("handle.sqlite"), "wombat narwhal", false);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static void test_dry_run_changes_nothing(void **state) {
    (void)state;
    const label *a[] = {&L1}, *b[] = {&L1, &L3};
    write_json(tp("da.json"), a, 1);
    write_json(tp("db.json"), b, 2);
    const char *in[] = {tp("da.json")};
    assert_int_equal(build(tp("dry.sqlite"), in, 1), ORX_OK);
    char *before = rows(tp("dry.sqlite"), CHUNK_ROWS);
    orx_kb_update_report r;
    assert_int_equal(update(tp("dry.sqlite"), tp("db.json"), &r, true), ORX_OK);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.unchanged, 1);
    char *after = rows(tp("dry.sqlite"), CHUNK_ROWS);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* a DailyMed-style zip of per-label zips (SPL XML + an image) is read label by label */
static void test_dailymed_nested_zip(void **state) {
    (void)state;
    char *xml = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/tests/fixtures/kb/spl_small.xml", orx_test_source_dir()), 1 << 20,
                                   &xml, &len, &err), ORX_OK);
    const char *in_names[2] = {"0a1b2c3d.xml", "label.jpg"};
    const char *in_data[2] = {xml, "\xff\xd8\xff\xe0 not really a jpeg"};
    size_t in_lens[2] = {len, strlen(in_data[1])};
    write_zip(tp("inner.zip"), in_names, in_data, in_lens, 2);
    char *inner = NULL;
    size_t ilen = 0;
    assert_int_equal(orx_read_file(tp("inner.zip"), 1 << 24, &inner, &ilen, &err), ORX_OK);
    const char *names[1] = {"prescription/20240101_01b14603-8f29-4fa3-8d7e-9d523f802e0b.zip"};
    const char *datas[1] = {inner};
    size_t lens[1] = {ilen};
    write_zip(tp("dm_spl_release_human_rx_part1.zip"), names, datas, lens, 1);
    const char *in[] = {tp("dm_spl_release_human_rx_part1.zip")};
    assert_int_equal(build(tp("dm.sqlite"), in, 1), ORX_OK);
    char *src = rows(tp("dm.sqlite"), "SELECT d.set_id, o.source FROM docs d JOIN doc_source o USING(set_id)");
    assert_string_equal(src, "01b14603-8f29-4fa3-8d7e-9d523f802e0b|dailymed\n");
    free(src);
    assert_true(hits_for(tp("dm.sqlite"), "clopidogrel") > 0);
    /* a damaged zip is a clear error naming the file */
    write_file(tp("broken.zip"), "PK\x03\x04 this is not a zip");
    const char *bad[] = {tp("broken.zip")};
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    orx_status st = orx_kb_build(tp("bad.sqlite"), bad, 1, &p, NULL, &err);
    assert_int_not_equal(st, ORX_OK);
    assert_non_null(strstr(err.msg, "broken.zip"));
    free(xml);
    free(inner);
}

static void test_update_errors(void **state) {
    (void)state;
    orx_kb_update_report r;
    assert_int_equal(update(tp("none.sqlite"), tp("a.json"), &r, false), ORX_ERR_NOT_FOUND);
    /* a manifest naming a file that is not there */
    mkdir(tp("halfrel"), 0755);
    write_file(tp("halfrel/manifest.json"), "{\"source\": \"openfda\", \"kind\": \"full\", \"release_date\": \"2024-01-01\","
                                            " \"files\": [{\"name\": \"drug-label-0001-of-0002.json.zip\"}]}");
    const label *a[] = {&L1};
    write_json(tp("e.json"), a, 1);
    const char *in[] = {tp("e.json")};
    assert_int_equal(build(tp("err.sqlite"), in, 1), ORX_OK);
    orx_kb_update_params p = orx_kb_update_default_params();
    p.progress = false;
    orx_error err = ORX_ERROR_INIT;
    const char *ins[1] = {tp("halfrel")};
    assert_int_equal(orx_kb_update(tp("err.sqlite"), ins, 1, &p, &r, &err), ORX_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "drug-label-0001-of-0002.json.zip"));
    assert_true(hits_for(tp("err.sqlite"), "zebrafinch") > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_equals_build),
        cmocka_unit_test(test_full_release_removes_and_records),
        cmocka_unit_test(test_killed_update_keeps_old_kb),
        cmocka_unit_test(test_open_handle_sees_update),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_dailymed_nested_zip),
        cmocka_unit_test(test_update_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
