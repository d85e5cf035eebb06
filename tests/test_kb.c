/* test_kb.c — knowledge base: chunking, section mapping, SPL XML and openFDA JSON ingest, bad input,
 * duplicates, atomic builds (killed build leaves the old KB intact), search and the retriever. */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "kb/kb.h"
#include "util/util.h"
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_tmp[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_tmp, name);
    return buf[k];
}

static const char *fixture(const char *name) {
    return orx_test_path("%s/tests/fixtures/kb/%s", orx_test_source_dir(), name);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static orx_status build(const char *out, const char *in, orx_kb_build_stats *st, orx_error *err) {
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    const char *inputs[1] = {in};
    return orx_kb_build(out, inputs, 1, &p, st, err);
}

/* collect documents */
typedef struct docs_seen {
    int  n;               /* documents */
    int  sections;        /* sections over all docs */
    char set_id[8][64];   /* first 8 set ids */
    char codes[256];      /* codes of the first doc, space-separated */
    char text[4096];      /* section texts of the first doc */
    char names[256];      /* generic | brand of the first doc */
} docs_seen;

static orx_status collect(void *ctx, const orx_kb_doc *d, orx_error *err) {
    docs_seen *s = ctx;
    if (s->n < 8) snprintf(s->set_id[s->n], 64, "%s", d->set_id);
    if (s->n == 0) {
        snprintf(s->names, sizeof s->names, "%s | %s", d->generic_names, d->brand_names);
        for (size_t i = 0; i < d->n_sections; i++) {
            size_t l = strlen(s->codes);
            snprintf(s->codes + l, sizeof s->codes - l, "%s ", d->sections[i].code);
            l = strlen(s->text);
            snprintf(s->text + l, sizeof s->text - l, "%.*s\n--\n", (int)d->sections[i].len,
                     d->sections[i].text);
        }
    }
    s->sections += (int)d->n_sections;
    s->n++;
    return ORX_OK;
}

/* ============================================================================================
 * Chunking and sections
 * ========================================================================================== */
static void test_chunk_budget_and_sentences(void **state) {
    (void)state;
    orx_buf b;
    orx_buf_init(&b);
    /* 3 paragraphs of 12 sentences × 10 words */
    for (int p = 0; p < 3; p++) {
        for (int s = 0; s < 12; s++)
            orx_buf_printf(&b, "Sentence %d of paragraph %d has exactly ten words here. ", s, p);
        orx_buf_puts(&b, "\n\n");
    }
    orx_kb_span sp[64];
    size_t n = orx_kb_chunk(b.data, b.len, 50, sp, 64);
    assert_true(n >= 8 && n <= 64);
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(sp[i].words <= 50);
        assert_true(sp[i].words > 0);
        total += sp[i].words;
        /* every chunk ends at a sentence end, never mid-sentence */
        assert_int_equal(b.data[sp[i].off + sp[i].len - 1], '.');
        assert_true(sp[i].off == 0 || b.data[sp[i].off - 1] == ' ' || b.data[sp[i].off - 1] == '\n');
        if (i) assert_true(sp[i].off >= sp[i - 1].off + sp[i - 1].len);
    }
    assert_int_equal(total, 3 * 12 * 10);
    /* a single over-long sentence becomes its own chunk instead of being cut */
    const char *longs = "one two three four five six seven eight nine ten eleven twelve thirteen "
                        "fourteen fifteen sixteen seventeen eighteen nineteen twenty twentyone "
                        "twentytwo. Short one.";
    n = orx_kb_chunk(longs, strlen(longs), 20, sp, 64);
    assert_int_equal(n, 2);
    assert_int_equal(sp[0].words, 22);
    /* abbreviations such as "e.g." do not end a sentence */
    const char *abbr = "Avoid use with strong inhibitors (e.g. ketoconazole) of the enzyme. Next.";
    n = orx_kb_chunk(abbr, strlen(abbr), 20, sp, 64);
    assert_int_equal(n, 1);
    orx_buf_clear(&b);
}

static void test_section_codes(void **state) {
    (void)state;
    assert_string_equal(orx_kb_section_code_for("7 DRUG INTERACTIONS"), "34073-7");
    assert_string_equal(orx_kb_section_code_for("drug_interactions"), "34073-7");
    assert_string_equal(orx_kb_section_code_for("DOSAGE  -  ADMINISTRATION SECTION"), "34068-7");
    assert_string_equal(orx_kb_section_code_for("C O NTRAINDICATIONS"), "34070-3");
    assert_string_equal(orx_kb_section_code_for("warnings_and_cautions"), "43685-7");
    assert_string_equal(orx_kb_section_code_for("34066-1"), "34066-1");
    assert_null(orx_kb_section_code_for("Omeprazole"));
    assert_string_equal(orx_kb_section_name("34073-7"), "Drug Interactions");
    assert_true(orx_kb_section_weight("34073-7") > orx_kb_section_weight("51945-4"));
    char brand[64], generic[64];
    orx_kb_parse_label_name("PLAVIX (clopidogrel bisulfate) tablet, film coated", brand, 64, generic, 64);
    assert_string_equal(brand, "PLAVIX");
    assert_string_equal(generic, "clopidogrel bisulfate");
    orx_kb_parse_label_name("REMERON- mirtazapine tablet, film coated", brand, 64, generic, 64);
    assert_string_equal(brand, "REMERON");
    assert_string_equal(generic, "mirtazapine");
}

/* ============================================================================================
 * SPL XML
 * ========================================================================================== */
static void test_spl_fixture(void **state) {
    (void)state;
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_ingest_spl(fixture("spl_small.xml"), collect, &s, &err), ORX_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.set_id[0], "01b14603-8f29-4fa3-8d7e-9d523f802e0b");
    /* the unclassified 4.1 and the code-less 4.2 inherit Contraindications */
    assert_string_equal(s.codes, "34070-3 34070-3 34073-7 ");
    assert_non_null(strstr(s.names, "clopidogrel bisulfate | Plavix"));
    assert_non_null(strstr(s.text, "product [see Adverse Reactions (6.2)].")); /* CDATA */
    assert_non_null(strstr(s.text, "Warfarin & Plavix")); /* entity */
    assert_non_null(strstr(s.text, "Omeprazole | Reduced <antiplatelet> activity")); /* table row */
    /* list items and paragraphs stay separate paragraphs */
    assert_non_null(strstr(s.text, "esomeprazole.\n\nWarfarin"));
}

static void expect_xml_error(const char *xml, const char *where) {
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_kb_ingest_spl_buf(xml, strlen(xml), "bad.xml", collect, &s, &err);
    assert_int_equal(st, ORX_ERR_PARSE);
    if (!strstr(err.msg, where)) fail_msg("expected \"%s\" in \"%s\"", where, err.msg);
    assert_int_equal(s.n, 0);
}

static void test_spl_malformed(void **state) {
    (void)state;
    expect_xml_error("<document>\n  <title>x</titel>\n</document>", "bad.xml:2:11: mismatched end tag </titel>");
    expect_xml_error("<document>\n<a>\n", "end of input inside <a>");
    expect_xml_error("<document>&nbsp;</document>", "bad.xml:1:11: unknown entity &nbsp;");
    expect_xml_error("<document><a b=c/></document>", "attribute value must be quoted");
    expect_xml_error("<document><![CDATA[x</document>", "unterminated CDATA");
    expect_xml_error("<document/><second/>", "a second root element");
    expect_xml_error("", "no root element");
    /* well-formed but not SPL, or SPL without a set id */
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    const char *notspl = "<html><body/></html>";
    assert_int_equal(orx_kb_ingest_spl_buf(notspl, strlen(notspl), "x.xml", collect, &s, &err),
                     ORX_ERR_INVALID);
    const char *noset = "<document><title>t</title></document>";
    assert_int_equal(orx_kb_ingest_spl_buf(noset, strlen(noset), "y.xml", collect, &s, &err),
                     ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "setId"));
}

/* ============================================================================================
 * openFDA JSON
 * ========================================================================================== */
static void test_openfda_fixture(void **state) {
    (void)state;
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_ingest_openfda(fixture("openfda_labels.json"), collect, &s, &err), ORX_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.set_id[1], "01b14603-8f29-4fa3-8d7e-9d523f802e0b");
    assert_string_equal(s.codes, "34070-3 "); /* openfda and metadata fields are not sections */
    assert_non_null(strstr(s.names, "warfarin sodium | Coumadin"));
}

static void expect_json_error(const char *json, orx_status code, const char *where) {
    const char *p = tmp_path("bad.json");
    write_text(p, json);
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_ingest_openfda(p, collect, &s, &err), code);
    if (!strstr(err.msg, where)) fail_msg("expected \"%s\" in \"%s\"", where, err.msg);
}

static void test_openfda_malformed(void **state) {
    (void)state;
    /* a bad value inside the 2nd label: the position is reported in file coordinates */
    expect_json_error("{\"meta\": {},\n \"results\": [\n  {\"set_id\": \"a\", \"warnings\": [\"x\"]},\n"
                      "  {\"set_id\": \"b\",\n   \"warnings\": [\"x\" \"y\"]}\n ]}\n",
                      ORX_ERR_PARSE, "bad.json:5:");
    expect_json_error("{\"results\": [ {\"set_id\": \"a\"", ORX_ERR_PARSE, "unexpected end of input");
    expect_json_error("{\"results\": [ {\"set_id\": \"a\"] ]}", ORX_ERR_PARSE, "bad.json:1:29: unbalanced");
    expect_json_error("{\"meta\": 1}", ORX_ERR_INVALID, "no \"results\" array");
    expect_json_error("{\"results\": [ 3 ]}", ORX_ERR_PARSE, "bad.json:1:1: results[0] is not an object");
    expect_json_error("{\"results\": [ {\"warnings\": [\"x\"]} ]}", ORX_ERR_INVALID, "has no set_id");
    expect_json_error("{\"results\": {}}", ORX_ERR_PARSE, "must be an array");
}

/* A big bulk file is streamed: peak memory grows far less than the file size. */
static void test_openfda_streaming(void **state) {
    (void)state;
    const char *p = tmp_path("big.json");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"meta\": {\"results\": {\"total\": 0}}, \"results\": [\n", f);
    char para[1100];
    memset(para, 0, sizeof para);
    for (int i = 0; i < 20; i++) strcat(para, "Monitor INR closely when starting treatment. ");
    int n = 6000; /* ~ 6000 × 5.6 KB ≈ 34 MB */
    for (int i = 0; i < n; i++)
        fprintf(f, "%s{\"set_id\": \"set-%d\", \"version\": \"1\", \"drug_interactions\": [\"%s\", \"%s\","
                   " \"%s\", \"%s\", \"%s\"], \"openfda\": {\"generic_name\": [\"drug%d\"]}}\n",
                i ? "," : "", i, para, para, para, para, para, i);
    fputs("]}\n", f);
    fclose(f);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    docs_seen s = {0};
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_ingest_openfda(p, collect, &s, &err), ORX_OK);
    getrusage(RUSAGE_SELF, &r1);
    assert_int_equal(s.n, n);
    assert_int_equal(s.sections, n);
#if !defined(__SANITIZE_ADDRESS__)
    long grew_kb = r1.ru_maxrss - r0.ru_maxrss;
    print_message("peak RSS grew %ld KiB while streaming a 34 MB file\n", grew_kb);
    assert_true(grew_kb < 8 * 1024);
#endif
    unlink(p);
}

/* ============================================================================================
 * Building: duplicates, labels without sections, atomic replace, killed builds
 * ========================================================================================== */
static int64_t q_int(const char *db, const char *sql) {
    sqlite3 *h;
    int64_t v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(h);
    return v;
}

static void test_build_duplicates_newest_wins(void **state) {
    (void)state;
    const char *db = tmp_path("dup.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(build(db, fixture("openfda_labels.json"), &st, &err), ORX_OK);
    assert_int_equal(st.docs, 2);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(q_int(db, "SELECT version FROM docs WHERE set_id LIKE 'd2f6d2d0%'"), 7);
    assert_int_equal(q_int(db, "SELECT count(*) FROM duplicates WHERE dropped_version='2'"), 1);
    assert_int_equal(q_int(db, "PRAGMA user_version"), ORX_KB_SCHEMA_VERSION);
    /* the older version's chunks are gone: only v7 has a Drug Interactions section */
    assert_true(q_int(db, "SELECT count(*) FROM chunks c JOIN docs d ON d.id=c.doc_id WHERE"
                          " d.set_id LIKE 'd2f6d2d0%' AND c.section_code='34073-7'") > 0);
    /* and the newest wins whatever the order: put v7 first */
    const char *p = tmp_path("rev.json");
    write_text(p, "{\"results\": [{\"set_id\": \"s1\", \"version\": \"7\", \"warnings\": [\"New text.\"]},"
                  " {\"set_id\": \"s1\", \"version\": \"2\", \"warnings\": [\"Old text.\"]}]}");
    assert_int_equal(build(db, p, &st, &err), ORX_OK);
    assert_int_equal(st.docs, 1);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM chunks WHERE text='New text.'"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM chunks WHERE text='Old text.'"), 0);
}

static void test_build_label_without_sections(void **state) {
    (void)state;
    const char *db = tmp_path("empty.sqlite");
    const char *p = tmp_path("nosec.json");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    write_text(p, "{\"results\": [{\"set_id\": \"only\", \"openfda\": {\"brand_name\": [\"X\"]}}]}");
    assert_int_equal(build(db, p, &st, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no label text"));
    assert_false(orx_file_exists(db));
    write_text(p, "{\"results\": [{\"set_id\": \"only\"}, {\"set_id\": \"b\", \"warnings\": [\"W.\"]}]}");
    assert_int_equal(build(db, p, &st, &err), ORX_OK);
    assert_int_equal(st.docs, 1);
    assert_int_equal(st.empty, 1);
}

static void test_build_bad_input_keeps_old_kb(void **state) {
    (void)state;
    const char *db = tmp_path("keep.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(build(db, fixture("openfda_labels.json"), &st, &err), ORX_OK);
    const char *bad = tmp_path("broken.json");
    write_text(bad, "{\"results\": [{\"set_id\": \"a\", \"warnings\": [\"x\"]}, {oops}]}");
    assert_int_equal(build(db, bad, &st, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "broken.json:1:"));
    assert_int_equal(q_int(db, "SELECT count(*) FROM docs"), 2);
    assert_int_equal(build(db, tmp_path("does-not-exist"), &st, &err), ORX_ERR_NOT_FOUND);
    assert_int_equal(q_int(db, "SELECT count(*) FROM docs"), 2);
}

static void test_killed_build_leaves_old_kb(void **state) {
    (void)state;
    const char *db = tmp_path("killed.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(build(db, fixture("openfda_labels.json"), &st, &err), ORX_OK);
    int64_t chunks = q_int(db, "SELECT count(*) FROM chunks");
    /* a large input so the build is still running when killed */
    const char *big = tmp_path("killbig.json");
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    fputs("{\"results\": [", f);
    for (int i = 0; i < 40000; i++)
        fprintf(f, "%s{\"set_id\": \"k%d\", \"warnings\": [\"Warning number %d about bleeding risk. "
                   "Monitor the patient. Adjust the dose as needed.\"]}\n", i ? "," : "", i, i);
    fputs("]}", f);
    fclose(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        orx_error e2 = ORX_ERROR_INIT;
        build(db, big, NULL, &e2);
        _exit(0);
    }
    /* kill it once its temp file exists (i.e. mid-build) */
    char tmpdb[600];
    snprintf(tmpdb, sizeof tmpdb, "%s.tmp.%ld", db, (long)pid);
    for (int i = 0; i < 20000 && !orx_file_exists(tmpdb); i++) usleep(500);
    usleep(20000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status)); /* it really was killed, not finished */
    /* the old knowledge base is intact and searchable */
    assert_int_equal(q_int(db, "SELECT count(*) FROM chunks"), chunks);
    assert_int_equal(q_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(db, &kb, &err), ORX_OK);
    orx_kb_results r;
    orx_kb_query q = {.text = "pregnant women", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(r.n > 0);
    assert_string_equal(r.hits[0].set_id, "d2f6d2d0-1b32-4caf-9fce-6b798c94204b");
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    /* the killed build's temp file is removed by the next build */
    assert_true(orx_file_exists(tmpdb));
    assert_int_equal(build(db, fixture("openfda_labels.json"), &st, &err), ORX_OK);
    assert_false(orx_file_exists(tmpdb));
    unlink(big);
}

/* ============================================================================================
 * Search and retrieval
 * ========================================================================================== */
static void test_search_citations_and_filters(void **state) {
    (void)state;
    const char *db = tmp_path("search.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    const char *inputs[2] = {fixture("openfda_labels.json"), fixture("spl_small.xml")};
    assert_int_equal(orx_kb_build(db, inputs, 2, &p, &st, &err), ORX_OK);
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(db, &kb, &err), ORX_OK);
    orx_kb_results r;
    orx_kb_query q = {.text = "omeprazole", .k = 5};
    assert_int_equal(orx_kb_search(kb, &q, &r, &err), ORX_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hits[0].citation, "01b14603-8f29-4fa3-8d7e-9d523f802e0b#34073-7");
    assert_non_null(strstr(r.hits[0].snippet, "**omeprazole**"));
    assert_string_equal(r.hits[0].version, "9"); /* the SPL v9 replaced the openFDA v3 */
    for (size_t i = 1; i < r.n; i++) assert_true(r.hits[i - 1].score >= r.hits[i].score);
    orx_kb_results_clear(&r);
    /* drug + section filters */
    orx_kb_query q2 = {.text = "bleeding", .drug = "plavix", .section = "contraindications", .k = 10};
    assert_int_equal(orx_kb_search(kb, &q2, &r, &err), ORX_OK);
    assert_true(r.n >= 1);
    for (size_t i = 0; i < r.n; i++) {
        assert_string_equal(r.hits[i].section_code, "34070-3");
        assert_string_equal(r.hits[i].set_id, "01b14603-8f29-4fa3-8d7e-9d523f802e0b");
    }
    orx_kb_results_clear(&r);
    orx_kb_query q3 = {.text = "the of and", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q3, &r, &err), ORX_ERR_INVALID);
    orx_kb_results_clear(&r);
    orx_kb_query q4 = {.text = "bleeding", .section = "no-such-section", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q4, &r, &err), ORX_ERR_INVALID);
    orx_kb_results_clear(&r);
    /* FTS syntax in user text is neutralised, not an error */
    orx_kb_query q5 = {.text = "\"warfarin AND (NEAR\" * -", .k = 3};
    assert_int_equal(orx_kb_search(kb, &q5, &r, &err), ORX_OK);
    orx_kb_results_clear(&r);
    orx_kb_stats ks;
    assert_int_equal(orx_kb_get_stats(kb, &ks, &err), ORX_OK);
    assert_int_equal(ks.docs, 2);
    assert_int_equal(ks.duplicates, 2);
    orx_kb_free(kb);
}

static void test_schema_version_check(void **state) {
    (void)state;
    const char *db = tmp_path("schema.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(build(db, fixture("openfda_labels.json"), &st, &err), ORX_OK);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_exec(h, "PRAGMA user_version=99", NULL, NULL, NULL);
    sqlite3_close(h);
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(db, &kb, &err), ORX_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_null(kb);
    write_text(tmp_path("junk.sqlite"), "this is not a database at all, just text. ............");
    assert_int_not_equal(orx_kb_open(tmp_path("junk.sqlite"), &kb, &err), ORX_OK);
    assert_int_equal(orx_kb_open(tmp_path("missing.sqlite"), &kb, &err), ORX_ERR_NOT_FOUND);
}

static void test_retriever(void **state) {
    (void)state;
    const char *db = tmp_path("retr.sqlite");
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    orx_kb_build_params p = orx_kb_build_default_params();
    p.progress = false;
    const char *inputs[2] = {fixture("openfda_labels.json"), fixture("spl_small.xml")};
    assert_int_equal(orx_kb_build(db, inputs, 2, &p, &st, &err), ORX_OK);
    orx_retriever r;
    assert_int_equal(orx_kb_retriever_bm25(db, &r, &err), ORX_OK);
    assert_string_equal(r.name, "bm25");
    /* warfarin is the option, clopidogrel a current medicine: the safety channel brings the
     * Coumadin contraindications, the interaction channel a label about the pair */
    const char *drugs[1] = {"clopidogrel"};
    orx_retrieval_option opt = {"warfarin", NULL};
    orx_retrieval_request req = {.indication = "atrial fibrillation", .drugs = drugs, .n_drugs = 1,
                                 .options = &opt, .n_options = 1, .k = 6};
    orx_kb_results res;
    assert_int_equal(r.retrieve(r.self, &req, &res, &err), ORX_OK);
    assert_true(res.n >= 2 && res.n <= 6);
    bool safety = false, inter = false;
    for (size_t i = 0; i < res.n; i++) {
        const orx_kb_hit *h = &res.hits[i];
        assert_int_equal(h->option, 0);
        if (h->channel == ORX_KB_CH_SAFETY) {
            safety = true;
            assert_string_equal(h->section_code, "34070-3");
            assert_true(strstr(h->drugs, "warfarin") || strstr(h->drugs, "WARFARIN"));
        }
        if (h->channel == ORX_KB_CH_INTERACTION) {
            inter = true;
            assert_true(strcasestr(h->text, "clopidogrel") || strcasestr(h->text, "warfarin"));
        }
        for (size_t j = 0; j < i; j++) assert_true(res.hits[j].channel <= h->channel);
    }
    assert_true(safety && inter);
    orx_kb_results_clear(&res);
    /* without options the indication is searched as text: every hit in the search channel */
    req.n_options = 0;
    req.indication = "bleeding";
    assert_int_equal(r.retrieve(r.self, &req, &res, &err), ORX_OK);
    assert_true(res.n >= 1);
    for (size_t i = 0; i < res.n; i++) assert_int_equal(res.hits[i].channel, ORX_KB_CH_SEARCH);
    orx_kb_results_clear(&res);
    r.free(r.self);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/orx-test-kb-XXXXXX");
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    setenv("ORX_NO_PROGRESS", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_budget_and_sentences),
        cmocka_unit_test(test_section_codes),
        cmocka_unit_test(test_spl_fixture),
        cmocka_unit_test(test_spl_malformed),
        cmocka_unit_test(test_openfda_fixture),
        cmocka_unit_test(test_openfda_malformed),
        cmocka_unit_test(test_openfda_streaming),
        cmocka_unit_test(test_build_duplicates_newest_wins),
        cmocka_unit_test(test_build_label_without_sections),
        cmocka_unit_test(test_build_bad_input_keeps_old_kb),
        cmocka_unit_test(test_killed_build_leaves_old_kb),
        cmocka_unit_test(test_search_citations_and_filters),
        cmocka_unit_test(test_schema_version_check),
        cmocka_unit_test(test_retriever),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
