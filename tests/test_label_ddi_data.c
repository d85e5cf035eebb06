#define _GNU_SOURCE /* memmem */
/* test_label_ddi_data.c — the shipped label interaction table (data/rules/label_ddi.tsv) and the
 * checker's use of it:
 *   (a) `openrx rules ddi` regenerates it byte for byte from data/labels;
 *   (b) every quote and context occurs verbatim in the shipped label corpus: in the section text
 *       of its set id as the KB ingesters read it, and in the raw file (text and JSONL corpora);
 *   (c) every named partner is written in its quote (or context) and the lexicon resolves it to
 *       the rule's ingredient; every class a rule names is a sourced lexicon class; every example
 *       and every role member is named in its sentence; the class-term table names only lexicon
 *       classes;
 *   (d) the textbook pairs fire through the checker with the label's sentence, the high-alert
 *       duplicates take the label's tier, and every source's hits for a pair are one finding. */
#include "testutil.h"
#include "clinical/clinical.h"
#include "kb/kb.h"
#include "safety/ddi_extract.h"
#include "safety/safety.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * The table as rows of fields
 * ========================================================================================== */
#define NF 13
typedef struct table { char *text; char *(*rows)[NF]; size_t n; } table;

static void unescape(char *s) {
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && (p[1] == 't' || p[1] == 'n' || p[1] == 'r' || p[1] == '\\')) {
            *w++ = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : '\\';
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
}

static void table_load(table *t) {
    memset(t, 0, sizeof *t);
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/rules/label_ddi.tsv", orx_test_source_dir()), 0, &t->text, &len, &err), ORX_OK);
    size_t lines = 1;
    for (char *p = t->text; *p; p++) lines += *p == '\n';
    t->rows = calloc(lines, sizeof *t->rows);
    assert_non_null(t->rows);
    for (char *p = t->text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *row = p;
        p = nl ? nl + 1 : NULL;
        if (row[0] == '#' || !row[0]) continue;
        int k = 0;
        for (char *c = row; c && k < NF; k++) {
            t->rows[t->n][k] = c;
            char *tab = strchr(c, '\t');
            if (tab) *tab = 0;
            c = tab ? tab + 1 : NULL;
        }
        assert_int_equal(k, NF);
        for (int i = 0; i < NF; i++) unescape(t->rows[t->n][i]);
        t->n++;
    }
}

static void table_free(table *t) {
    free(t->rows);
    free(t->text);
}

enum { F_KIND, F_LABEL, F_OTHER, F_TEXT, F_EX, F_TIER, F_ACTION, F_SETID, F_CODE, F_SECTION, F_TITLE, F_QUOTE, F_CONTEXT };

/* ============================================================================================
 * (a) regeneration
 * ========================================================================================== */
static void test_regeneration_is_identical(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_ddi_extractor *x = NULL;
    assert_int_equal(orx_ddi_extractor_create(orx_checker_lexicon(CK),
                                              orx_test_path("%s/data/interactions/class_terms.tsv", orx_test_source_dir()), &x, &err),
                     ORX_OK);
    char labels[4096];
    snprintf(labels, sizeof labels, "%s/data/labels", orx_test_source_dir());
    const char *paths[1] = {labels};
    orx_ddi_rules r;
    orx_ddi_rules_init(&r);
    orx_ddi_stats st;
    assert_int_equal(orx_ddi_extract_paths(x, paths, 1, false, &r, &st, &err), ORX_OK);
    orx_buf b;
    orx_buf_init(&b);
    assert_int_equal(orx_ddi_rules_to_tsv(&r, &b, &err), ORX_OK);
    char *shipped = NULL;
    size_t len = 0;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/rules/label_ddi.tsv", orx_test_source_dir()), 0, &shipped, &len, &err), ORX_OK);
    print_message("regenerated %zu rules + %zu memberships from %zu labels (%zu bytes; shipped %zu)\n", st.rules,
                  st.members, st.labels, b.len, len);
    if (len != b.len || memcmp(shipped, b.data, len) != 0)
        fail_msg("data/rules/label_ddi.tsv differs from `openrx rules ddi` output: regenerate it and commit");
    assert_true(st.rules > 5000 && st.members > 300);
    for (int t = ORX_SEV_MINOR; t < ORX_SEV_COUNT; t++) assert_true(st.by_tier[t] > 100);
    free(shipped);
    orx_buf_clear(&b);
    orx_ddi_rules_clear(&r);
    orx_ddi_extractor_free(x);
}

/* ============================================================================================
 * (b) quotes verbatim in the corpus
 * ========================================================================================== */
typedef struct sec { char *set_id, *code, *text, *file; } sec;
typedef struct corpus { sec *s; size_t n, cap; } corpus;

static orx_status on_doc(void *ctx, const orx_kb_doc *doc, orx_error *err) {
    corpus *c = ctx;
    (void)err;
    for (size_t i = 0; i < doc->n_sections; i++) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4096;
            c->s = realloc(c->s, c->cap * sizeof *c->s);
            assert_non_null(c->s);
        }
        sec *s = &c->s[c->n++];
        s->set_id = strdup(doc->set_id);
        s->code = strdup(doc->sections[i].code);
        s->text = strdup(doc->sections[i].text);
        s->file = strdup(doc->source_file);
    }
    return ORX_OK;
}

/* Is q in a section of set_id with this code (as ingested)? Sets *file to that label's file. */
static bool in_sections(const corpus *c, const char *set_id, const char *code, const char *q, const char **file) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->s[i].set_id, set_id) && !strcmp(c->s[i].code, code) && strstr(c->s[i].text, q)) {
            *file = c->s[i].file;
            return true;
        }
    return false;
}

/* The raw file: a text file contains q; a JSONL line's decoded section texts contain q. */
static int in_raw(const char *file, const char *set_id, const char *q) {
    char path[4096];
    snprintf(path, sizeof path, "%s", file);
    char *hash = strrchr(path, '#');
    if (hash) *hash = 0;
    size_t n = strlen(path);
    if (n > 2 && strstr(path, ".jsonl:")) { /* "labels_sections.jsonl:LINE" */
        *strstr(path, ".jsonl:") = 0;
        strcat(path, ".jsonl");
        n = strlen(path);
    }
    bool txt = n > 4 && !strcmp(path + n - 4, ".txt"), jsonl = n > 6 && !strcmp(path + n - 6, ".jsonl");
    if (!txt && !jsonl) return -1; /* SPL XML: checked against the ingested text only */
    static char *cache_path, *cache;
    static size_t cache_len;
    if (!cache_path || strcmp(cache_path, path)) {
        free(cache_path);
        free(cache);
        orx_error err = ORX_ERROR_INIT;
        cache_path = strdup(path);
        cache = NULL;
        if (orx_read_file(path, 0, &cache, &cache_len, &err) != ORX_OK) return 0;
    }
    if (txt && strstr(cache, q)) return 1;
    if (txt) {
        /* an fda-ars label is a group of files DRUG_<section>.txt: try the group's other files */
        char *base = strrchr(path, '/'), *us = base ? base + 1 : path;
        while (*us && !(us[0] == '_' && islower((unsigned char)us[1]))) us++;
        if (!*us) return 0;
        static const char *const SECT[] = {"adverse_reactions", "warnings_and_precautions", "boxed_warnings",
                                           "warnings", "precautions", NULL};
        for (int k = 0; SECT[k]; k++) {
            char other[4200];
            snprintf(other, sizeof other, "%.*s_%s.txt", (int)(us - path), path, SECT[k]);
            char *t = NULL;
            size_t tl = 0;
            orx_error err = ORX_ERROR_INIT;
            if (orx_read_file(other, 0, &t, &tl, &err) != ORX_OK) continue;
            bool found = strstr(t, q) != NULL;
            free(t);
            if (found) return 1;
        }
        return 0;
    }
    for (char *p = cache; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (memmem(p, l, set_id, strlen(set_id))) {
            json_t *o = json_loadb(p, l, 0, NULL), *s;
            size_t i;
            bool found = false;
            json_array_foreach(json_object_get(o, "sections"), i, s) {
                const char *t = json_string_value(json_object_get(s, "text"));
                found |= t && strstr(t, q);
            }
            json_decref(o);
            if (found) return 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static void test_quotes_verbatim_in_corpus(void **state) {
    (void)state;
    corpus c = {0};
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_kb_ingest_path(orx_test_path("%s/data/labels", orx_test_source_dir()), on_doc, &c, &err), ORX_OK);
    table t;
    table_load(&t);
    size_t checked = 0, raw = 0;
    for (size_t i = 0; i < t.n; i++) {
        char **r = t.rows[i];
        const char *file = NULL;
        if (!in_sections(&c, r[F_SETID], r[F_CODE], r[F_QUOTE], &file))
            fail_msg("row %zu: quote not in set id %s section %s of data/labels: %.200s", i + 1, r[F_SETID], r[F_CODE], r[F_QUOTE]);
        int rr = in_raw(file, r[F_SETID], r[F_QUOTE]);
        if (rr == 0) fail_msg("row %zu: quote not verbatim in the raw file %s: %.200s", i + 1, file, r[F_QUOTE]);
        raw += rr == 1;
        const char *cf;
        if (r[F_CONTEXT][0] && !in_sections(&c, r[F_SETID], r[F_CODE], r[F_CONTEXT], &cf))
            fail_msg("row %zu: context not in set id %s: %.200s", i + 1, r[F_SETID], r[F_CONTEXT]);
        checked++;
    }
    print_message("verified %zu quotes against the ingested corpus data/labels (%zu also in the raw text/JSONL files)\n", checked, raw);
    table_free(&t);
    for (size_t i = 0; i < c.n; i++) {
        free(c.s[i].set_id);
        free(c.s[i].code);
        free(c.s[i].text);
        free(c.s[i].file);
    }
    free(c.s);
}

/* ============================================================================================
 * (c) every partner named in its sentence or from a cited class table
 * ========================================================================================== */
static bool ci_in(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (!n) return false;
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n)) return true;
    return false;
}

/* Some name of the ingredient (itself, a synonym or brand) is written in text. */
static bool ingredient_named(const orx_lexicon *L, const char *ingr, const char *text) {
    if (ci_in(text, ingr)) return true;
    char (*syn)[ORX_LEX_NAME] = malloc(512 * sizeof *syn);
    int n = orx_lexicon_synonyms(L, ingr, syn, 512);
    bool found = false;
    for (int i = 0; i < n && i < 512 && !found; i++) found = strlen(syn[i]) >= 3 && ci_in(text, syn[i]);
    free(syn);
    return found;
}

/* The effect keys of data/interactions/effect_roles.tsv ('effect' rows). */
static char EFFECTS[64][32];
static int n_effects = -1;

static bool effect_known(const char *key) {
    if (n_effects < 0) {
        n_effects = 0;
        char *text = NULL;
        size_t len = 0;
        orx_error err = ORX_ERROR_INIT;
        assert_int_equal(orx_read_file(orx_test_path("%s/data/interactions/effect_roles.tsv", orx_test_source_dir()), 0,
                                       &text, &len, &err), ORX_OK);
        for (char *p = text; p && *p && n_effects < 64;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = 0;
            if (!strncmp(p, "effect\t", 7)) {
                char *k = p + 7;
                k[strcspn(k, "\t")] = 0;
                snprintf(EFFECTS[n_effects++], sizeof EFFECTS[0], "%s", k);
            }
            p = nl ? nl + 1 : NULL;
        }
        free(text);
    }
    for (int i = 0; i < n_effects; i++)
        if (!strcmp(EFFECTS[i], key)) return true;
    return false;
}

/* Every 'class' row of the effect-role table names a sourced lexicon class and a known effect;
 * every pattern row names a known effect. */
static void test_effect_table(void **state) {
    (void)state;
    const orx_lexicon *L = orx_checker_lexicon(CK);
    char *text = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/interactions/effect_roles.tsv", orx_test_source_dir()), 0, &text,
                                   &len, &err), ORX_OK);
    size_t classes = 0, patterns = 0, line = 0;
    for (char *p = text; p && *p;) {
        line++;
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *row = p;
        p = nl ? nl + 1 : NULL;
        if (!row[0] || row[0] == '#') continue;
        char *f[5] = {0};
        int nf = 0;
        for (char *c = row; c && nf < 5;) {
            f[nf++] = c;
            char *tab = strchr(c, '\t');
            if (tab) *tab = 0;
            c = tab ? tab + 1 : NULL;
        }
        assert_true(nf >= 3);
        if (!strcmp(f[0], "effect")) continue;
        if (!effect_known(f[1])) fail_msg("effect_roles.tsv:%zu: effect '%s' has no 'effect' row", line, f[1]);
        if (!strcmp(f[0], "class")) {
            if (nf < 5 || !f[4][0]) fail_msg("effect_roles.tsv:%zu: a class row needs its kinds and why", line);
            if (!(orx_lexicon_class_kinds(L, f[2]) & ORX_CLASS_ANY))
                fail_msg("effect_roles.tsv:%zu: '%s' is in no sourced class table", line, f[2]);
            classes++;
        } else {
            patterns++;
        }
    }
    free(text);
    print_message("effect roles: %d effects, %zu wording patterns, %zu sourced classes that are an effect\n", n_effects,
                  patterns, classes);
    assert_true(classes > 0 && patterns > 0);
}

static void test_partners_named_or_sourced(void **state) {
    (void)state;
    const orx_lexicon *L = orx_checker_lexicon(CK);
    table t;
    table_load(&t);
    size_t ingr = 0, cls = 0, role = 0, ex = 0, mem = 0, emem = 0, cmem = 0, eff = 0;
    for (size_t i = 0; i < t.n; i++) {
        char **r = t.rows[i];
        char both[8192];
        snprintf(both, sizeof both, "%s %s", r[F_QUOTE], r[F_CONTEXT]);
        if (!ci_in(both, r[F_TEXT])) fail_msg("row %zu: '%s' is not written in its sentence: %.160s", i + 1, r[F_TEXT], r[F_QUOTE]);
        if (!strncmp(r[F_OTHER], "effect:", 7)) {
            char key[64];
            snprintf(key, sizeof key, "%s", r[F_OTHER] + 7);
            key[strcspn(key, "&")] = 0; /* "effect:qt&role:..." restricted to a role */
            if (!effect_known(key))
                fail_msg("row %zu: effect '%s' has no 'effect' row in data/interactions/effect_roles.tsv", i + 1, key);
        }
        if (!strcmp(r[F_KIND], "member")) {
            if (!strncmp(r[F_LABEL], "class:", 6)) { /* a class named among an effect's examples */
                if (strncmp(r[F_OTHER], "effect:", 7)) fail_msg("row %zu: class member of a non-effect role", i + 1);
                char names[512];
                snprintf(names, sizeof names, "%s", r[F_LABEL] + 6);
                for (char *p = names, *bar; p; p = bar) {
                    bar = strchr(p, '|');
                    if (bar) *bar++ = 0;
                    if (!orx_lexicon_is_class(L, p)) fail_msg("row %zu: member class '%s' is in no sourced class table", i + 1, p);
                }
                cmem++;
                continue;
            }
            if (!ingredient_named(L, r[F_LABEL], both))
                fail_msg("row %zu: member %s not named in its sentence: %.160s", i + 1, r[F_LABEL], r[F_QUOTE]);
            mem++;
            emem += !strncmp(r[F_OTHER], "effect:", 7);
            continue;
        }
        const char *o = r[F_OTHER];
        if (!strncmp(o, "class:", 6)) {
            char names[512];
            snprintf(names, sizeof names, "%s", o + 6);
            names[strcspn(names, "&")] = 0;
            for (char *p = names, *bar; p; p = bar) {
                bar = strchr(p, '|');
                if (bar) *bar++ = 0;
                if (!orx_lexicon_is_class(L, p)) fail_msg("row %zu: class '%s' is in no sourced class table", i + 1, p);
            }
            cls++;
        } else if (!strncmp(o, "role:", 5) || !strncmp(o, "examples:", 9)) {
            role++;
        } else if (!strncmp(o, "effect:", 7)) {
            eff++;
        } else {
            orx_lex_match m[ORX_MAX_INGR];
            int n = orx_lexicon_lookup_exact(L, r[F_TEXT], m, ORX_MAX_INGR);
            bool ok = false;
            for (int k = 0; k < n && k < ORX_MAX_INGR; k++) ok |= !strcmp(m[k].ingredient, o);
            if (!ok) fail_msg("row %zu: '%s' does not resolve to %s", i + 1, r[F_TEXT], o);
            ingr++;
        }
        char exs[2048];
        snprintf(exs, sizeof exs, "%s", r[F_EX]);
        for (char *p = exs, *semi; p && *p; p = semi) {
            semi = strchr(p, ';');
            if (semi) *semi++ = 0;
            if (!ingredient_named(L, p, both)) fail_msg("row %zu: example %s not named in its sentence", i + 1, p);
            ex++;
        }
        if (!strncmp(r[F_LABEL], "class:", 6)) {
            char names[512];
            snprintf(names, sizeof names, "%s", r[F_LABEL] + 6);
            for (char *p = names, *bar; p; p = bar) {
                bar = strchr(p, '|');
                if (bar) *bar++ = 0;
                if (!orx_lexicon_is_class(L, p)) fail_msg("row %zu: label class '%s' unknown", i + 1, p);
            }
        }
    }
    print_message("partners: %zu ingredients resolved from their words, %zu classes in sourced tables, %zu roles, "
                  "%zu effect roles, %zu examples and %zu role members (%zu of effect roles) named in their "
                  "sentences, %zu classes named among an effect's examples\n",
                  ingr, cls, role, eff, ex, mem, emem, cmem);
    table_free(&t);
    /* the class-term table maps label wording to lexicon classes only */
    char *text = NULL;
    size_t len = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/interactions/class_terms.tsv", orx_test_source_dir()), 0, &text, &len, &err), ORX_OK);
    size_t terms = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *row = p;
        p = nl ? nl + 1 : NULL;
        if (row[0] == '#' || !row[0]) continue;
        char *classes = strchr(row, '\t');
        assert_non_null(classes);
        classes++;
        char *end = strchr(classes, '\t');
        if (end) *end = 0;
        for (char *c = classes, *bar; c; c = bar) {
            bar = strchr(c, '|');
            if (bar) *bar++ = 0;
            if (!orx_lexicon_is_class(L, c)) fail_msg("class_terms.tsv: '%s' names unknown class '%s'", row, c);
        }
        terms++;
    }
    print_message("%zu class terms map to lexicon classes\n", terms);
    free(text);
}

/* ============================================================================================
 * (d) the checker
 * ========================================================================================== */
static orx_patient *patient(const char *med) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"openrx_patient\":1,\"id\":\"t\",\"birthDate\":\"1950-01-01\",\"sex\":\"female\","
             "\"medications\":[{\"text\":\"%s\"}],\"allergies\":[]}", med);
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_parse(json, strlen(json), "test", "2026-01-01", &p, &err), ORX_OK);
    return p;
}

/* The interaction/duplicate finding for proposed drug b against current medicine a. */
static orx_finding pair(const char *a, const char *b, size_t *n_pair) {
    orx_patient *p = patient(a);
    orx_proposed_drug d;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_proposed_drug_init(CK, b, NULL, &d, &err), ORX_OK);
    orx_findings fs;
    orx_findings_init(&fs);
    assert_int_equal(orx_check_proposed(CK, p, &d, 1, &fs, &err), ORX_OK);
    orx_finding best = {0};
    *n_pair = 0;
    for (size_t i = 0; i < fs.n; i++) {
        const orx_finding *f = &fs.items[i];
        if (strcmp(f->kind, "interaction") && strcmp(f->kind, "duplicate")) continue;
        if (!(*n_pair)++) best = *f;
    }
    print_message("  %s + %s: %zu finding(s) [%s] %s | %s | %.120s\n", a, b, *n_pair, orx_severity_name(best.severity),
                  best.kind, best.source, best.quote);
    orx_findings_clear(&fs);
    orx_patient_free(p);
    return best;
}

static void expect(const char *a, const char *b, orx_severity min, const char *kind, const char *quote_has) {
    size_t n = 0;
    orx_finding f = pair(a, b, &n);
    if (n != 1) fail_msg("%s + %s: %zu findings (want one, every source grouped)", a, b, n);
    if (f.severity < min) fail_msg("%s + %s: %s, want %s or higher", a, b, orx_severity_name(f.severity), orx_severity_name(min));
    if (kind && strcmp(f.kind, kind)) fail_msg("%s + %s: kind %s, want %s", a, b, f.kind, kind);
    if (quote_has && !ci_in(f.quote, quote_has)) fail_msg("%s + %s: quote lacks '%s': %s", a, b, quote_has, f.quote);
    if (f.quote[0] && !strstr(f.citation, "set id")) fail_msg("%s + %s: label finding without set id", a, b);
}

static void test_textbook_pairs(void **state) {
    (void)state;
    expect("warfarin", "fluconazole", ORX_SEV_MODERATE, "interaction", "fluconazole");
    expect("fluconazole", "warfarin", ORX_SEV_MODERATE, "interaction", "fluconazole"); /* both directions */
    expect("digoxin", "amiodarone", ORX_SEV_MODERATE, "interaction", NULL);
    expect("omeprazole", "clopidogrel", ORX_SEV_MAJOR, "interaction", "omeprazole");
    expect("warfarin sodium 5 MG Oral Tablet", "apixaban", ORX_SEV_MAJOR, "duplicate", "warfarin");
    expect("warfarin", "rivaroxaban", ORX_SEV_MAJOR, "duplicate", NULL);
    expect("warfarin", "dabigatran", ORX_SEV_MAJOR, "duplicate", "converting patients from warfarin");
    expect("warfarin", "Bactrim", ORX_SEV_MODERATE, "interaction", NULL);
    expect("lisinopril", "spironolactone", ORX_SEV_MODERATE, NULL, NULL);
    expect("alprazolam", "oxycodone", ORX_SEV_MAJOR, "interaction", "opioid");
    expect("sertraline", "tramadol", ORX_SEV_MODERATE, NULL, NULL);
    expect("phenelzine", "fluoxetine", ORX_SEV_CONTRAINDICATED, NULL, NULL);
    expect("simvastatin", "clarithromycin", ORX_SEV_MAJOR, NULL, NULL);
    /* the ELIQUIS Boxed Warning names NSAIDs among the risk factors of spinal/epidural hematoma
     * with neuraxial procedures: a statement for that setting, at most moderate; the general
     * Warnings and Precautions statement gives the pair its tier */
    expect("apixaban", "ibuprofen", ORX_SEV_MODERATE, "interaction", NULL);
    {
        size_t n = 0;
        orx_finding f = pair("apixaban", "ibuprofen", &n);
        if (f.severity > ORX_SEV_MODERATE) fail_msg("apixaban + ibuprofen: %s from a neuraxial-setting statement: %s",
                                                    orx_severity_name(f.severity), f.quote);
        f = pair("rivaroxaban", "acetylsalicylic acid", &n);
        if (f.severity > ORX_SEV_MODERATE) fail_msg("rivaroxaban + aspirin: %s: %s", orx_severity_name(f.severity), f.quote);
    }
    /* "HIV protease inhibitors" is the FDA EPC "Protease Inhibitor", not MeSH PA "Protease
     * Inhibitors" (every peptidase inhibitor: lisinopril, dabigatran) */
    {
        size_t n = 0;
        orx_finding f = pair("simvastatin", "lisinopril", &n);
        if (n && ci_in(f.quote, "protease inhibitors")) fail_msg("simvastatin + lisinopril via 'protease inhibitors': %s", f.quote);
        f = pair("simvastatin", "dabigatran", &n);
        if (n && ci_in(f.quote, "protease inhibitors")) fail_msg("simvastatin + dabigatran via 'protease inhibitors': %s", f.quote);
        expect("simvastatin", "ritonavir", ORX_SEV_CONTRAINDICATED, "interaction", NULL);
    }
    /* two anticoagulants stay major through a general statement ("Avoid concurrent use of XARELTO
     * with other anticoagulants") */
    expect("rivaroxaban", "apixaban", ORX_SEV_MAJOR, "duplicate", "other anticoagulants");
    /* effect roles: QT, serotonergic, bleeding, CNS depression (label text and the ONC block) */
    expect("citalopram", "ondansetron", ORX_SEV_MAJOR, "interaction", NULL);
    expect("haloperidol", "citalopram", ORX_SEV_MAJOR, "interaction", NULL);
    expect("mefloquine", "quinine", ORX_SEV_MAJOR, "interaction", NULL); /* neither label in the corpus */
    expect("sertraline", "linezolid", ORX_SEV_MAJOR, NULL, NULL);
    expect("tramadol", "fluoxetine", ORX_SEV_MODERATE, NULL, NULL);
    expect("warfarin", "sertraline", ORX_SEV_MODERATE, NULL, NULL);
    expect("methotrexate", "trimethoprim", ORX_SEV_MODERATE, NULL, NULL);
    expect("enalapril", "spironolactone", ORX_SEV_MODERATE, NULL, NULL);
    /* an ONC class block extended to the FDA class of the same concept */
    expect("phenelzine", "levomilnacipran", ORX_SEV_MAJOR, NULL, NULL);
    expect("atazanavir", "dexlansoprazole", ORX_SEV_MAJOR, NULL, NULL);
    /* the curated topical branch still decides topical diclofenac + warfarin */
    size_t n = 0;
    orx_finding f = pair("warfarin", "Diclofenac Sodium 0.01 MG/MG Topical Gel [Voltaren]", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f.severity, ORX_SEV_INFO);
    assert_non_null(strstr(f.source, "PDDI-CDS"));
    /* no partner, no finding */
    f = pair("warfarin", "metformin", &n);
    assert_int_equal(n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regeneration_is_identical),
        cmocka_unit_test(test_quotes_verbatim_in_corpus),
        cmocka_unit_test(test_effect_table),
        cmocka_unit_test(test_partners_named_or_sourced),
        cmocka_unit_test(test_textbook_pairs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
