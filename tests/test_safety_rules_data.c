/*
 * test_safety_rules_data.c — the shipped label-rule tables (data/rules, data/pgx, data/dili):
 *  - every quote in renal/hepatic/pregnancy/dose_limits/lab_rules/switching.tsv occurs verbatim
 *    in the shipped label
 *    excerpts (data/rules/label_excerpts.jsonl) for the same set id;
 *  - with ../shared present, every excerpt occurs verbatim in the original corpus file;
 *  - every quote occurs verbatim in the knowledge base's shipped corpus (data/labels/) for the
 *    corpora it ships;
 *  - every number in a rule (renal band, ULN multiple, dose amount) is written in its quote;
 *  - tables are well-formed (field counts, severities, non-empty ingredients, sources).
 */
#include "testutil.h"
#include "util/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Tiny TSV reader (independent of the library's loader on purpose)
 * ========================================================================================== */
typedef struct tsv {
    char *data;
    char **cells;     /* nrows × ncols */
    size_t nrows, ncols;
    char *hdr[32];
} tsv;

static void tsv_load(tsv *t, const char *rel) {
    memset(t, 0, sizeof *t);
    const char *path = orx_test_path("%s/data/%s", orx_test_source_dir(), rel);
    size_t len = 0;
    orx_error err = {0};
    if (orx_read_file(path, 0, &t->data, &len, &err) != ORX_OK) fail_msg("cannot read %s", path);
    char *save = NULL;
    char *line = strtok_r(t->data, "\n", &save);
    assert_non_null(line);
    for (char *p = line;; ) {
        assert_true(t->ncols < 32);
        t->hdr[t->ncols++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    size_t cap = 64;
    t->cells = malloc(cap * t->ncols * sizeof *t->cells);
    size_t lineno = 1;
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        if (t->nrows == cap) {
            cap *= 2;
            t->cells = realloc(t->cells, cap * t->ncols * sizeof *t->cells);
        }
        char **row = t->cells + t->nrows * t->ncols;
        size_t k = 0;
        for (char *p = line;; ) {
            if (k >= t->ncols) fail_msg("%s:%zu: too many fields", rel, lineno);
            row[k++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        if (k != t->ncols) fail_msg("%s:%zu: %zu fields, header has %zu", rel, lineno, k, t->ncols);
        t->nrows++;
    }
}

static void tsv_free(tsv *t) { free(t->cells); free(t->data); }

static int col(const tsv *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++) if (!strcmp(t->hdr[i], name)) return (int)i;
    fail_msg("column %s missing", name);
    return -1;
}
static const char *cell(const tsv *t, size_t r, int c) { return t->cells[r * t->ncols + (size_t)c]; }

/* ============================================================================================
 * Excerpts
 * ========================================================================================== */
typedef struct excerpts { json_t **items; size_t n; } excerpts;

static void excerpts_load(excerpts *e) {
    const char *path = orx_test_path("%s/data/rules/label_excerpts.jsonl", orx_test_source_dir());
    char *data = NULL;
    size_t len = 0;
    orx_error err = {0};
    assert_int_equal(orx_read_file(path, 0, &data, &len, &err), ORX_OK);
    e->n = 0;
    e->items = NULL;
    size_t cap = 0;
    for (char *p = data; p < data + len;) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        if (l) {
            json_error_t je;
            json_t *o = json_loadb(p, l, 0, &je);
            if (!o) fail_msg("label_excerpts.jsonl:%d: %s", je.line, je.text);
            if (e->n == cap) { cap = cap ? cap * 2 : 256; e->items = realloc(e->items, cap * sizeof *e->items); }
            e->items[e->n++] = o;
        }
        p += l + 1;
    }
    free(data);
}

static void excerpts_free(excerpts *e) {
    for (size_t i = 0; i < e->n; i++) json_decref(e->items[i]);
    free(e->items);
}

static const char *js(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool quote_in_excerpts(const excerpts *e, const char *setid, const char *corpus, const char *q) {
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(js(e->items[i], "setid"), setid) && !strcmp(js(e->items[i], "corpus"), corpus) &&
            strstr(js(e->items[i], "paragraph"), q))
            return true;
    return false;
}

/* ============================================================================================
 * Tests
 * ========================================================================================== */
static const char *const LABEL_TABLES[] = {"rules/renal.tsv", "rules/hepatic.tsv",
                                           "rules/pregnancy.tsv", "rules/dose_limits.tsv",
                                           "rules/lab_rules.tsv", "rules/switching.tsv"};
#define N_LABEL_TABLES (sizeof LABEL_TABLES / sizeof LABEL_TABLES[0])

static void test_quotes_verbatim_in_shipped_excerpts(void **state) {
    (void)state;
    excerpts e;
    excerpts_load(&e);
    assert_true(e.n > 100);
    size_t total = 0;
    for (size_t k = 0; k < N_LABEL_TABLES; k++) {
        tsv t;
        tsv_load(&t, LABEL_TABLES[k]);
        assert_true(t.nrows >= 3);
        int cq = col(&t, "quote"), cs = col(&t, "setid"), cc = col(&t, "corpus");
        for (size_t r = 0; r < t.nrows; r++) {
            if (!quote_in_excerpts(&e, cell(&t, r, cs), cell(&t, r, cc), cell(&t, r, cq)))
                fail_msg("%s:%zu: quote not found verbatim in label_excerpts.jsonl: %s",
                         LABEL_TABLES[k], r + 2, cell(&t, r, cq));
            total++;
        }
        tsv_free(&t);
    }
    print_message("verified %zu quotes against %zu shipped excerpts\n", total, e.n);
    excerpts_free(&e);
}

/* Index of a corpus copy: setid -> array of section texts (JSONL corpora); the NLM corpus is
 * read per file. dirs: {nlm txt dir, dbmi jsonl, spl jsonl}, relative to base; NULL entries and
 * missing files are left out (*have records which were found). */
typedef struct corpus_copy {
    char base[1024];    /* copied: orx_test_path's buffer rotates */
    const char *nlm_dir;
    json_t *by_setid;
    bool have[3];       /* nlm2014, dbmi2016, splnsaid */
} corpus_copy;

static void corpus_open(corpus_copy *c, const char *base, const char *nlm_dir, const char *dbmi,
                        const char *spl) {
    memset(c, 0, sizeof *c);
    snprintf(c->base, sizeof c->base, "%s", base);
    base = c->base;
    c->nlm_dir = nlm_dir;
    c->by_setid = json_object();
    c->have[0] = orx_is_dir(orx_test_path("%s/%s", base, nlm_dir));
    const char *jl[2] = {dbmi, spl};
    for (int k = 0; k < 2; k++) {
        char *data = NULL;
        size_t len = 0;
        orx_error err = {0};
        if (orx_read_file(orx_test_path("%s/%s", base, jl[k]), 0, &data, &len, &err) != ORX_OK)
            continue;
        c->have[k + 1] = true;
        for (char *q = data; q < data + len;) {
            char *nl = memchr(q, '\n', (size_t)(data + len - q));
            size_t l = nl ? (size_t)(nl - q) : (size_t)(data + len - q);
            json_t *o = l ? json_loadb(q, l, 0, NULL) : NULL;
            if (o) {
                json_t *secs = json_object_get(o, "sections"), *sec;
                size_t i;
                json_t *arr = json_object_get(c->by_setid, js(o, "setid"));
                if (!arr) { arr = json_array(); json_object_set_new(c->by_setid, js(o, "setid"), arr); }
                json_array_foreach(secs, i, sec) json_array_append(arr, json_object_get(sec, "text"));
                json_decref(o);
            }
            q += l + 1;
        }
        free(data);
    }
}

static int corpus_index(const char *corpus) {
    return !strcmp(corpus, "nlm2014") ? 0 : !strcmp(corpus, "dbmi2016") ? 1 : 2;
}

/* Does text occur verbatim in the label setid of this corpus copy? */
static bool corpus_has(const corpus_copy *c, const char *corpus, const char *setid, const char *text) {
    if (corpus_index(corpus) == 0) {
        char *txt = NULL;
        size_t len = 0;
        orx_error err = {0};
        bool found = false;
        if (orx_read_file(orx_test_path("%s/%s/%s.txt", c->base, c->nlm_dir, setid), 0, &txt, &len,
                          &err) == ORX_OK)
            found = strstr(txt, text) != NULL;
        free(txt);
        return found;
    }
    json_t *arr = json_object_get(c->by_setid, setid), *t;
    size_t k;
    json_array_foreach(arr, k, t) if (strstr(json_string_value(t), text)) return true;
    return false;
}

/* Every excerpt occurs byte-for-byte in the shared corpus it names. */
static void test_excerpts_verbatim_in_shared_corpus(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    corpus_copy c;
    corpus_open(&c, orx_test_path("%s/data", orx_test_shared_dir()), "dailymed-nlm-ddi-corpus-2014/txt",
                "dailymed-ddi-labels-dbmi-annotator/labels_sections.jsonl",
                "spl-xml-nsaids-metformin-fdalabel/labels_sections.jsonl");
    assert_true(c.have[0] && c.have[1] && c.have[2]);
    excerpts e;
    excerpts_load(&e);
    for (size_t i = 0; i < e.n; i++)
        if (!corpus_has(&c, js(e.items[i], "corpus"), js(e.items[i], "setid"), js(e.items[i], "paragraph")))
            fail_msg("excerpt %zu (%s %s) not found verbatim in ../shared: %.120s", i + 1,
                     js(e.items[i], "corpus"), js(e.items[i], "setid"), js(e.items[i], "paragraph"));
    print_message("verified %zu excerpts against ../shared/data corpora\n", e.n);
    json_decref(c.by_setid);
    excerpts_free(&e);
}

/* Every quote occurs verbatim in the knowledge base's shipped label corpus (data/labels/, the
 * corpus `openrx kb build` indexes by default) for each corpus that it ships; corpora it does not
 * ship are reported and left to the shipped excerpts (test above). */
static void test_quotes_verbatim_in_kb_corpus(void **state) {
    (void)state;
    corpus_copy c;
    corpus_open(&c, orx_test_path("%s/data/labels", orx_test_source_dir()), "2014-nlm-ddi-corpus/txt",
                "2016-dailymed-ddi-labels-dbmi/labels_sections.jsonl",
                "2021-spl-nsaids-metformin/labels_sections.jsonl");
    static const char *const names[3] = {"nlm2014", "dbmi2016", "splnsaid"};
    for (int k = 0; k < 3; k++)
        if (!c.have[k])
            print_message("NOTE: data/labels lacks the %s corpus; its quotes are verified against "
                          "data/rules/label_excerpts.jsonl only\n", names[k]);
    size_t checked = 0;
    for (size_t k = 0; k < N_LABEL_TABLES; k++) {
        tsv t;
        tsv_load(&t, LABEL_TABLES[k]);
        int cq = col(&t, "quote"), cs = col(&t, "setid"), cc = col(&t, "corpus");
        for (size_t r = 0; r < t.nrows; r++) {
            if (!c.have[corpus_index(cell(&t, r, cc))]) continue;
            if (!corpus_has(&c, cell(&t, r, cc), cell(&t, r, cs), cell(&t, r, cq)))
                fail_msg("%s:%zu: quote not found verbatim in data/labels (%s %s): %s",
                         LABEL_TABLES[k], r + 2, cell(&t, r, cc), cell(&t, r, cs), cell(&t, r, cq));
            checked++;
        }
        tsv_free(&t);
    }
    print_message("verified %zu quotes against the shipped label corpus data/labels\n", checked);
    json_decref(c.by_setid);
}

/* A number as written in the quote ("2550" also matches "2,550"). */
static bool number_in(const char *quote, const char *num) {
    if (!*num) return true;
    if (strstr(quote, num)) return true;
    char stripped[2048];
    size_t n = 0;
    for (const char *p = quote; *p && n + 1 < sizeof stripped; p++)
        if (*p != ',') stripped[n++] = *p;
    stripped[n] = '\0';
    return strstr(stripped, num) != NULL;
}

static void test_numbers_come_from_quotes(void **state) {
    (void)state;
    static const struct { const char *table; const char *cols[3]; } T[] = {
        {"rules/renal.tsv", {"lo", "hi", NULL}},
        {"rules/hepatic.tsv", {"uln_text", NULL, NULL}},
        {"rules/dose_limits.tsv", {"amount", NULL, NULL}},
        {"rules/lab_rules.tsv", {"threshold", NULL, NULL}},
        {"rules/switching.tsv", {"threshold", NULL, NULL}},
    };
    size_t checked = 0;
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        tsv t;
        tsv_load(&t, T[k].table);
        int cq = col(&t, "quote");
        for (size_t r = 0; r < t.nrows; r++)
            for (int c = 0; c < 3 && T[k].cols[c]; c++) {
                const char *v = cell(&t, r, col(&t, T[k].cols[c]));
                if (!number_in(cell(&t, r, cq), v))
                    fail_msg("%s:%zu: %s=%s is not written in the quote: %s", T[k].table, r + 2,
                             T[k].cols[c], v, cell(&t, r, cq));
                checked += *v != 0;
            }
        tsv_free(&t);
    }
    assert_true(checked > 50);
    print_message("%zu rule numbers found in their quotes\n", checked);
}

static void test_tables_well_formed(void **state) {
    (void)state;
    static const char *const sev[] = {"info", "minor", "moderate", "major", "contraindicated"};
    for (size_t k = 0; k < N_LABEL_TABLES; k++) {
        tsv t;
        tsv_load(&t, LABEL_TABLES[k]);
        bool single = strstr(LABEL_TABLES[k], "dose_limits") || strstr(LABEL_TABLES[k], "switching");
        int ci = col(&t, single ? "ingredient" : "ingredients"), cs = col(&t, "setid");
        int csev = strstr(LABEL_TABLES[k], "dose_limits") || strstr(LABEL_TABLES[k], "switching")
                   ? -1 : col(&t, "severity");
        for (size_t r = 0; r < t.nrows; r++) {
            assert_true(strlen(cell(&t, r, ci)) > 1);
            assert_int_equal(strlen(cell(&t, r, cs)), 36); /* SPL set id (UUID) */
            if (csev >= 0) {
                bool ok = false;
                for (int s = 0; s < 5; s++) ok |= !strcmp(cell(&t, r, csev), sev[s]);
                if (!ok) fail_msg("%s:%zu: bad severity %s", LABEL_TABLES[k], r + 2, cell(&t, r, csev));
            }
        }
        tsv_free(&t);
    }
    /* PGx and DILI tables carry their source row */
    tsv t;
    tsv_load(&t, "pgx/cpic_recommendations.tsv");
    assert_true(t.nrows > 1000);
    int cu = col(&t, "guideline_url"), cr = col(&t, "row");
    for (size_t r = 0; r < t.nrows; r++) {
        assert_true(strncmp(cell(&t, r, cu), "https://", 8) == 0);
        assert_true(strstr(cell(&t, r, cr), "recommendations_flat.tsv:") != NULL);
    }
    tsv_free(&t);
    tsv_load(&t, "dili/dilirank.tsv");
    assert_true(t.nrows > 1000);
    tsv_free(&t);
    tsv_load(&t, "pgx/cpic_pairs.tsv");
    int cl = col(&t, "cpic_level"), csrc = col(&t, "source");
    for (size_t r = 0; r < t.nrows; r++) {
        assert_true(strlen(cell(&t, r, cl)) >= 1 && strlen(cell(&t, r, cl)) <= 3);
        assert_true(strstr(cell(&t, r, csrc), "migrations/") != NULL);
    }
    tsv_free(&t);
}

/* renal.tsv: phase is one of three words; an indication is a heading of that label (occurs in
 * its shipped text, checked in test_quotes_verbatim_in_kb_corpus's corpus copy below). */
static void test_renal_scope_columns(void **state) {
    (void)state;
    tsv t;
    tsv_load(&t, "rules/renal.tsv");
    int cp = col(&t, "phase"), ci = col(&t, "indication"), cq = col(&t, "quote");
    size_t scoped = 0, ini = 0, cont = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        const char *ph = cell(&t, r, cp);
        if (strcmp(ph, "any") && strcmp(ph, "initiation") && strcmp(ph, "continuation"))
            fail_msg("renal.tsv:%zu: phase '%s'", r + 2, ph);
        ini += !strcmp(ph, "initiation");
        cont += !strcmp(ph, "continuation");
        scoped += *cell(&t, r, ci) != 0;
        /* an initiation statement says so; a continuation statement is about a current patient */
        if (!strcmp(ph, "initiation") && !strstr(cell(&t, r, cq), "nitiat") && !strstr(cell(&t, r, cq), "start"))
            fail_msg("renal.tsv:%zu: initiation phase without 'initiat'/'start' in the quote", r + 2);
    }
    print_message("renal.tsv: %zu scoped to an indication, %zu initiation, %zu continuation\n",
                  scoped, ini, cont);
    assert_true(scoped >= 10 && ini >= 3 && cont >= 3);
    tsv_free(&t);
}

/* The warfarin genotype table: title, header and row lines verbatim in the shipped label; each
 * cell's numbers at that genotype's column of its row line. */
static void test_warfarin_table_verbatim(void **state) {
    (void)state;
    corpus_copy c;
    corpus_open(&c, orx_test_path("%s/data/labels", orx_test_source_dir()), "2014-nlm-ddi-corpus/txt",
                "2016-dailymed-ddi-labels-dbmi/labels_sections.jsonl",
                "2021-spl-nsaids-metformin/labels_sections.jsonl");
    tsv t;
    tsv_load(&t, "pgx/warfarin_label_doses.tsv");
    assert_int_equal(t.nrows, 18);
    int cv = col(&t, "vkorc1"), cy = col(&t, "cyp2c9"), cl = col(&t, "low"), chh = col(&t, "high");
    int ct = col(&t, "title"), ch = col(&t, "header_line"), cr = col(&t, "row_line");
    int cs = col(&t, "setid"), cc = col(&t, "corpus");
    for (size_t r = 0; r < t.nrows; r++) {
        for (int k = 0; k < 3; k++) {
            const char *line = cell(&t, r, k == 0 ? ct : k == 1 ? ch : cr);
            if (!corpus_has(&c, cell(&t, r, cc), cell(&t, r, cs), line))
                fail_msg("warfarin_label_doses.tsv:%zu: not verbatim in data/labels: %s", r + 2, line);
        }
        /* column of the genotype in the header, same column in the row line */
        const char *hdr = cell(&t, r, ch), *row = cell(&t, r, cr);
        int hcol = -1, i = 0;
        char hb[256], rb[256];
        snprintf(hb, sizeof hb, "%s", hdr);
        snprintf(rb, sizeof rb, "%s", row);
        char *save = NULL;
        for (char *p = strtok_r(hb, "|", &save); p; p = strtok_r(NULL, "|", &save), i++) {
            while (*p == ' ') p++;
            char *e = p + strlen(p);
            while (e > p && e[-1] == ' ') *--e = 0;
            if (!strcmp(p, cell(&t, r, cy))) hcol = i;
        }
        assert_true(hcol >= 0);
        char want[64];
        snprintf(want, sizeof want, "%s-%s mg", cell(&t, r, cl), cell(&t, r, chh));
        i = 0;
        const char *got = NULL;
        save = NULL;
        for (char *p = strtok_r(rb, "|", &save); p; p = strtok_r(NULL, "|", &save), i++) {
            while (*p == ' ') p++;
            char *e = p + strlen(p);
            while (e > p && e[-1] == ' ') *--e = 0;
            if (i == 0 && strcmp(p, cell(&t, r, cv))) fail_msg("row %zu: VKORC1 %s vs %s", r + 2, p, cell(&t, r, cv));
            if (i == hcol + 1) got = p; /* the row starts with its VKORC1 cell */
        }
        if (!got || strcmp(got, want)) fail_msg("warfarin_label_doses.tsv:%zu: %s/%s is '%s' in the label, table says '%s'",
                                                r + 2, cell(&t, r, cv), cell(&t, r, cy), got ? got : "?", want);
    }
    tsv_free(&t);
    json_decref(c.by_setid);
}

/* Numbers in the shipped PGx tables come from the shared source rows they cite. */
static void test_pgx_rows_match_shared(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    tsv t;
    tsv_load(&t, "pgx/cpic_pairs.tsv");
    int cl = col(&t, "cpic_level"), csrc = col(&t, "source"), cg = col(&t, "gene");
    for (size_t r = 0; r < t.nrows; r++) {
        char file[256];
        int line = 0;
        const char *src = cell(&t, r, csrc);
        const char *colon = strrchr(src, ':');
        assert_non_null(colon);
        snprintf(file, sizeof file, "%.*s", (int)(colon - src), src);
        line = atoi(colon + 1);
        char *txt = NULL;
        size_t len = 0;
        orx_error err = {0};
        assert_int_equal(orx_read_file(orx_test_path("%s/data/%s", orx_test_shared_dir(), file), 0,
                                       &txt, &len, &err), ORX_OK);
        char *p = txt;
        for (int i = 1; i < line && p; i++) { p = strchr(p, '\n'); if (p) p++; }
        assert_non_null(p);
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        char want[32];
        snprintf(want, sizeof want, "'%s'", cell(&t, r, cl));
        if (!strstr(p, want) || !strstr(p, cell(&t, r, cg)))
            fail_msg("cpic_pairs.tsv:%zu: level %s / gene %s not on %s", r + 2, want, cell(&t, r, cg), src);
        free(txt);
    }
    tsv_free(&t);
}

/* Organ-impairment values equal the cells of the shared sheet row they cite. */
static void test_organ_impairment_rows_match_shared(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    const char *dir = "pddi-public-merged/fda-organ-impairment-didb";
    char *sheets[2] = {NULL, NULL};
    size_t len = 0;
    orx_error err = {0};
    assert_int_equal(orx_read_file(orx_test_path("%s/data/%s/FDA-OI-DIDB-2015-sd1.tsv", orx_test_shared_dir(), dir),
                                   0, &sheets[0], &len, &err), ORX_OK);
    assert_int_equal(orx_read_file(orx_test_path("%s/data/%s/FDA-OI-DIDB-2015-sd3_renal.tsv", orx_test_shared_dir(), dir),
                                   0, &sheets[1], &len, &err), ORX_OK);
    tsv t;
    tsv_load(&t, "rules/organ_impairment.tsv");
    int c_org = col(&t, "organ"), c_row = col(&t, "row"), c_band[4];
    c_band[0] = col(&t, "mild"); c_band[1] = col(&t, "moderate"); c_band[2] = col(&t, "severe"); c_band[3] = col(&t, "esrd");
    size_t checked = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        const char *row = cell(&t, r, c_row);
        int sheet = !strncmp(row, "sd3:", 4);
        int line = atoi(row + 4);
        /* first data column of the bands in that sheet (0-based, see tools/derive_safety_rules.py) */
        int first = sheet ? 3 : (!strcmp(cell(&t, r, c_org), "hepatic") ? 18 : 26);
        int nb = (!sheet && !strcmp(cell(&t, r, c_org), "hepatic")) ? 3 : 4;
        const char *p = sheets[sheet];
        for (int i = 1; i < line && p; i++) { p = strchr(p, '\n'); if (p) p++; }
        assert_non_null(p);
        for (int b = 0; b < nb; b++) {
            const char *q = p;
            for (int k = 0; k < first + b && q; k++) { q = strpbrk(q, "\t\n"); if (q && *q == '\t') q++; else q = NULL; }
            assert_non_null(q);
            size_t n = strcspn(q, "\t\n");
            char buf[128];
            snprintf(buf, sizeof buf, "%.*s", (int)n, q);
            char *tb = buf;
            while (*tb == ' ') tb++;
            size_t e = strlen(tb);
            while (e && (tb[e - 1] == ' ' || tb[e - 1] == '\r')) tb[--e] = '\0';
            if (strcmp(tb, cell(&t, r, c_band[b])) != 0)
                fail_msg("organ_impairment.tsv:%zu band %d: '%s' but %s has '%s'", r + 2, b,
                         cell(&t, r, c_band[b]), row, tb);
            checked++;
        }
    }
    print_message("%zu organ-impairment cells match their shared rows\n", checked);
    tsv_free(&t);
    free(sheets[0]);
    free(sheets[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quotes_verbatim_in_shipped_excerpts),
        cmocka_unit_test(test_excerpts_verbatim_in_shared_corpus),
        cmocka_unit_test(test_quotes_verbatim_in_kb_corpus),
        cmocka_unit_test(test_numbers_come_from_quotes),
        cmocka_unit_test(test_tables_well_formed),
        cmocka_unit_test(test_pgx_rows_match_shared),
        cmocka_unit_test(test_renal_scope_columns),
        cmocka_unit_test(test_warfarin_table_verbatim),
        cmocka_unit_test(test_organ_impairment_rows_match_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
