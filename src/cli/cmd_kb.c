/* cmd_kb.c — `openrx kb build|search|indications|stats|index|eval|bench|synth` (and fetch|update
 * in cmd_kb_fetch.c): the drug-label knowledge base. */
#include "cli/cli.h"
#include "kb/kb.h"
#include "kb/impact.h"
#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static const char *default_labels_dir(void) {
    static char path[4096];
    if (orx_is_dir("data/labels")) return "data/labels";
    snprintf(path, sizeof path, "%s/data/labels", ORX_SOURCE_DIR);
    return path;
}

static void print_note(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "openrx kb build: note: %s\n", msg);
}

/* --quiet: notes are dropped, but never a skipped bad file */
static void print_bad_files(void *ctx, const char *msg) {
    (void)ctx;
    if (orx_str_starts_with(msg, "skipped bad file")) fprintf(stderr, "openrx kb build: warning: %s\n", msg);
}

static int print_json(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) return orx_cli_fail(ORX_ERR_NOMEM, NULL);
    puts(s);
    free(s);
    return 0;
}

int orx_cmd_kb_fetch(int argc, char **argv);  /* cmd_kb_fetch.c */
int orx_cmd_kb_update(int argc, char **argv);

static const char *const SUB_USAGE =
    "Usage: openrx kb <build|search|indications|stats|eval|bench|synth|fetch|update|index> [options]\n"
    "  build   [--from DIR|FILE]... [--out kb.sqlite] [--max-words N] [--strict] [--quiet] [--json]\n"
    "  search  QUERY [--drug NAME] [--section NAME] [-k 8] [--no-expand] [--explain] [--json] [--kb FILE]\n"
    "  indications TEXT [--problem] [-n 20] [--json] [--kb FILE]   labels stating an indication\n"
    "  stats   [--kb FILE] [--json]\n"
    "  eval    [--questions TSV] [--no-expand] [--exhaustive] [--kb FILE] [--json]\n"
    "  bench   [--queries TSV] [-n 2000] [--no-expand] [--exhaustive] [--kb FILE] [--json]\n"
    "  synth   --chunks N --out FILE [--kb FILE]\n"
    "  fetch   openfda|dailymed [--dir D] [--full|--weekly|--monthly] (download a label release)\n"
    "  update  DIR|FILE... [--kb FILE] [--dry-run] (apply a release or update incrementally)\n"
    "  index   [--kb FILE] (rebuild the impact index of an older KB)\n"
    "The knowledge base defaults to $ORX_KB or ./kb.sqlite; build reads data/labels by default.\n";

/* ============================================================================================
 * build
 * ========================================================================================== */
static int kb_build(int argc, char **argv) {
    static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                         {"out", required_argument, 0, 'o'},
                                         {"max-words", required_argument, 0, 'w'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"json", no_argument, 0, 'j'},
                                         {"strict", no_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t n = 0;
    const char *out = orx_kb_default_path();
    bool json = false, quiet = false, strict = false;
    long mw = 200;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:w:qjh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': inputs[n++] = optarg; break;
        case 'o': out = optarg; break;
        case 'w':
            if (!orx_cli_parse_int(optarg, 20, 5000, &mw)) {
                free(inputs);
                return orx_cli_usage("kb build", "--max-words must be an integer in 20..5000");
            }
            break;
        case 'q': quiet = true; break;
        case 'j': json = true; break;
        case 's': strict = true; break;
        case 'h':
            free(inputs);
            printf("Usage: openrx kb build [--from DIR|FILE]... [FILE...] [--out kb.sqlite]\n"
                   "                       [--max-words N] [--strict] [--quiet] [--json]\n"
                   "Ingest FDA labels (openFDA JSON, SPL XML, labels_sections.jsonl, label .txt) into\n"
                   "one SQLite file with an FTS5 index. Default input: data/labels; default output:\n"
                   "$ORX_KB or kb.sqlite. The build is atomic: the old file stays until the new one is\n"
                   "complete. Duplicate set ids keep the newest version (reported).\n"
                   "A bad file found in a directory (empty, garbage, unreadable) is reported with its path\n"
                   "and the reason, its labels are left out, and the build goes on (the summary counts\n"
                   "them); --strict stops the build at the first one instead (exit 2). A file named\n"
                   "directly must be good.\n");
            return 0;
        default: free(inputs); return orx_cli_usage("kb build", "unknown option");
        }
    }
    while (optind < argc) inputs[n++] = argv[optind++];
    if (!n) inputs[n++] = default_labels_dir();
    orx_kb_build_params p = orx_kb_build_default_params();
    p.max_words = (int)mw;
    p.progress = !quiet;
    p.note = quiet ? print_bad_files : print_note;
    p.strict = strict;
    orx_kb_build_stats st;
    orx_error err = ORX_ERROR_INIT;
    orx_status s = orx_kb_build(out, inputs, n, &p, &st, &err);
    free(inputs);
    if (s != ORX_OK) return orx_cli_fail(s, &err);
    double mb = (double)st.bytes_in / 1e6;
    if (json)
        return print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f}", "out", out, "docs",
                                    (json_int_t)st.docs, "chunks", (json_int_t)st.chunks,
                                    "duplicates_dropped", (json_int_t)st.duplicates,
                                    "empty_labels", (json_int_t)st.empty,
                                    "skipped_bad_files", (json_int_t)st.skipped_files, "input_mb", mb, "seconds",
                                    st.seconds, "mb_per_s", st.seconds > 0 ? mb / st.seconds : 0));
    printf("built %s: %llu labels, %llu chunks, %llu duplicate versions dropped, %llu labels without "
           "text skipped, %llu bad files skipped%s; %.1f MB in %.2f s (%.1f MB/s)\n",
           out, (unsigned long long)st.docs, (unsigned long long)st.chunks,
           (unsigned long long)st.duplicates, (unsigned long long)st.empty,
           (unsigned long long)st.skipped_files, st.skipped_files ? " (listed above)" : "", mb, st.seconds,
           st.seconds > 0 ? mb / st.seconds : 0);
    return 0;
}

/* ============================================================================================
 * search
 * ========================================================================================== */
static json_t *hit_json(const orx_kb_hit *h, bool with_text) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:I, s:I, s:I, s:s}",
                          "citation", h->citation, "set_id", h->set_id, "section_code",
                          h->section_code, "section_name", h->section_name, "section_title",
                          h->section_title, "title", h->title, "drugs", h->drugs, "version",
                          h->version, "effective_date", h->effective_date, "score", h->score,
                          "chunk_id", (json_int_t)h->chunk_id, "start", (json_int_t)h->start, "end",
                          (json_int_t)h->end, "snippet", h->snippet);
    if (o) json_object_set_new(o, "copies", json_integer(h->copies));
    if (o && with_text) json_object_set_new(o, "text", json_string(h->text));
    return o;
}

static orx_status open_kb(const char *path, bool lexicon, orx_kb **kb, orx_error *err) {
    orx_status st = orx_kb_open(path, kb, err);
    if (st == ORX_OK && getenv("ORX_DEBUG") && orx_kb_impact_note(*kb)[0])
        fprintf(stderr, "openrx kb: impact index not used: %s\n", orx_kb_impact_note(*kb));
    if (st == ORX_OK && lexicon) {
        orx_error lerr = ORX_ERROR_INIT;
        if (orx_kb_load_lexicon(*kb, NULL, &lerr) != ORX_OK && getenv("ORX_DEBUG"))
            fprintf(stderr, "openrx kb: lexicon not used: %s\n", lerr.msg);
    }
    return st;
}

static int kb_search(int argc, char **argv) {
    static const struct option opts[] = {{"drug", required_argument, 0, 'd'},
                                         {"section", required_argument, 0, 's'},
                                         {"kb", required_argument, 0, 'b'},
                                         {"json", no_argument, 0, 'j'},
                                         {"no-expand", no_argument, 0, 'x'},
                                         {"explain", no_argument, 0, 'e'},
                                         {"text", no_argument, 0, 't'},
                                         {"all-copies", no_argument, 0, 'A'},
                                         {"exhaustive", no_argument, 0, 'X'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    orx_kb_query q = {.k = 8, .expand = true};
    const char *path = orx_kb_default_path();
    bool json = false, explain = false, with_text = false;
    long k = 8;
    int c;
    while ((c = getopt_long(argc, argv, "d:s:b:k:jxethAX", opts, NULL)) != -1) {
        switch (c) {
        case 'd': q.drug = optarg; break;
        case 's': q.section = optarg; break;
        case 'b': path = optarg; break;
        case 'k':
            if (!orx_cli_parse_int(optarg, 1, 100, &k))
                return orx_cli_usage("kb search", "-k must be an integer in 1..100");
            break;
        case 'j': json = true; break;
        case 'x': q.expand = false; break;
        case 'e': explain = true; break;
        case 't': with_text = true; break;
        case 'A': q.all_copies = true; break;
        case 'X': q.exhaustive = true; break;
        case 'h':
            printf("Usage: openrx kb search QUERY... [--drug NAME] [--section NAME|CODE] [-k 8]\n"
                   "                        [--no-expand] [--explain] [--text] [--json] [--kb FILE]\n"
                   "                        [--all-copies] [--exhaustive]\n"
                   "Chunks whose text repeats a better hit (repackagers' copies of one label) are\n"
                   "collapsed into it (\"same text in N other label chunks\") unless --all-copies.\n"
                   "BM25 search of label sections. Each result carries a citation id\n"
                   "(<set id>#<LOINC section code>) and a snippet with matched terms in **bold**.\n"
                   "--section takes a code or a name: interactions, contraindications, dosage,\n"
                   "warnings, precautions, adverse, boxed, pregnancy, lactation, renal, hepatic ...\n"
                   "Drug names are expanded with lexicon brands/ingredients unless --no-expand.\n");
            return 0;
        default: return orx_cli_usage("kb search", "unknown option");
        }
    }
    q.k = (int)k;
    orx_buf text;
    orx_buf_init(&text);
    for (int i = optind; i < argc; i++) orx_buf_printf(&text, "%s%s", i > optind ? " " : "", argv[i]);
    q.text = text.data ? text.data : "";
    if (!*q.text && !q.drug) {
        orx_buf_clear(&text);
        return orx_cli_usage("kb search", "missing QUERY");
    }
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_kb_results r = {0};
    orx_status st = open_kb(path, q.expand, &kb, &err);
    if (st == ORX_OK) st = orx_kb_search(kb, &q, &r, &err);
    int rc = 0;
    if (st != ORX_OK) rc = orx_cli_fail(st, &err);
    else if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < r.n; i++) json_array_append_new(a, hit_json(&r.hits[i], with_text));
        rc = print_json(json_pack("{s:s, s:s?, s:s?, s:s, s:o}", "query", q.text, "drug", q.drug,
                                  "section", q.section, "fts_query", r.fts_query, "results", a));
    } else {
        if (explain) printf("fts: %s\n", r.fts_query);
        if (!r.n) printf("no results\n");
        for (size_t i = 0; i < r.n; i++) {
            const orx_kb_hit *h = &r.hits[i];
            char copies[64] = "";
            if (h->copies) snprintf(copies, sizeof copies, "; same text in %d other label chunk%s", h->copies,
                                    h->copies == 1 ? "" : "s");
            printf("%zu. %s — %s%s%s  [score %.2f]\n   cite: %s  (v%s %s%s)\n   %s\n\n", i + 1,
                   h->title, h->section_name, h->section_title[0] ? ": " : "", h->section_title,
                   h->score, h->citation, h->version[0] ? h->version : "?",
                   h->effective_date[0] ? h->effective_date : "date ?", copies,
                   with_text ? h->text : h->snippet);
        }
    }
    orx_kb_results_clear(&r);
    orx_kb_free(kb);
    orx_buf_clear(&text);
    return rc;
}

/* ============================================================================================
 * indications: the labels whose Indications & Usage states an indication
 * ========================================================================================== */
static json_t *concepts_json(const orx_ind_query *q) {
    json_t *a = json_array();
    for (int i = 0; i < q->n; i++) {
        json_t *alts = json_array();
        for (int k = 0; k < q->c[i].n_alts; k++) {
            char words[256];
            orx_ind_phrase_text(&q->c[i].alts[k], words, sizeof words);
            json_array_append_new(alts, json_string(words));
        }
        json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "text", q->c[i].text, "role", orx_ind_role_name(q->c[i].role), "words", alts));
    }
    return a;
}

static int kb_indications(int argc, char **argv) {
    static const struct option opts[] = {{"kb", required_argument, 0, 'b'}, {"json", no_argument, 0, 'j'},
                                         {"problem", no_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = orx_kb_default_path();
    bool json = false, problem = false;
    long n = 20;
    int c;
    while ((c = getopt_long(argc, argv, "b:n:jph", opts, NULL)) != -1) {
        switch (c) {
        case 'b': path = optarg; break;
        case 'n':
            if (!orx_cli_parse_int(optarg, 1, 10000, &n)) return orx_cli_usage("kb indications", "-n must be 1..10000");
            break;
        case 'j': json = true; break;
        case 'p': problem = true; break;
        case 'h':
            printf("Usage: openrx kb indications TEXT... [--problem] [-n 20] [--json] [--kb FILE]\n"
                   "The drugs whose label's Indications & Usage section states TEXT, best first, each\n"
                   "with the sentence and its citation. --problem reads TEXT as one coded problem\n"
                   "(a FHIR Condition display such as \"Osteoarthritis of hip\").\n");
            return 0;
        default: return orx_cli_usage("kb indications", "unknown option");
        }
    }
    orx_buf text;
    orx_buf_init(&text);
    for (int i = optind; i < argc; i++) orx_buf_printf(&text, "%s%s", i > optind ? " " : "", argv[i]);
    if (!text.data || !*orx_str_trim(text.data)) {
        orx_buf_clear(&text);
        return orx_cli_usage("kb indications", "missing TEXT");
    }
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_ind_options o;
    memset(&o, 0, sizeof o);
    double t0 = orx_now();
    orx_status st = orx_kb_open(path, &kb, &err);
    if (st == ORX_OK) st = orx_kb_indication_options(kb, NULL, text.data, problem, &o, &err);
    double dt = orx_now() - t0;
    int rc = 0;
    if (st != ORX_OK) rc = orx_cli_fail(st, &err);
    else if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < o.n; i++) {
            const orx_ind_option *x = &o.v[i];
            json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:b, s:b, s:s, s:b, s:i, s:s, s:s, s:s}", "name", x->name,
                                               "display_name", x->quote.drugs[0] ? x->quote.drugs : x->name,
                                               "score", x->score, "partial", x->partial, "narrower", x->narrower,
                                               "kind", orx_ind_statement_name(x->stated),
                                               "full_label", x->full_label, "labels", x->n_labels, "citation",
                                               x->quote.citation, "title", x->quote.title, "sentence", x->quote.text));
        }
        rc = print_json(json_pack("{s:s, s:o, s:s, s:s, s:i, s:o, s:f}", "indication", text.data, "concepts",
                                  concepts_json(&o.query), "ignored", o.query.ignored, "unrecognised",
                                  o.query.unrecognised, "count", (int)o.n,
                                  "options", a, "seconds", dt));
    } else {
        printf("%zu option(s) from %d labels' indication sentences (%d) in %.1f ms\n", o.n, o.labels,
               o.sentences, dt * 1e3);
        if (o.query.unrecognised[0]) printf("note: %s\n", o.query.unrecognised);
        for (size_t i = 0; i < o.n && i < (size_t)n; i++) {
            const orx_ind_option *x = &o.v[i];
            printf("%2zu. %s  [score %.2f%s%s%s%s]\n    \"%s\"\n    cite: %s (%s)\n", i + 1, x->name, x->score,
                   x->partial ? ", partial" : "", x->narrower ? ", narrower" : "",
                   x->stated == ORX_IND_STATED ? "" : x->stated == ORX_IND_STATED_ASSOCIATED ? ", associated" : ", population only",
                   x->full_label ? "" : ", indications text only", x->quote.text, x->quote.citation, x->quote.title);
        }
    }
    orx_ind_options_clear(&o);
    orx_kb_free(kb);
    orx_buf_clear(&text);
    return rc;
}

/* ============================================================================================
 * stats / index / eval
 * ========================================================================================== */
/* The options of a verb that takes --kb FILE and one flag (its long name and letter): *path and
 * *on set; -1 to go on, else the exit code (0 after printing help). */
static int kb_flag_opts(int argc, char **argv, const char *verb, const char *flag, char letter, const char *help,
                        const char **path, bool *on) {
    const struct option opts[] = {{"kb", required_argument, 0, 'b'},
                                  {flag, no_argument, 0, letter},
                                  {"help", no_argument, 0, 'h'},
                                  {0, 0, 0, 0}};
    const char shorts[] = {'b', ':', letter, 'h', 0};
    *path = orx_kb_default_path();
    *on = false;
    int c;
    while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (c == 'b') *path = optarg;
        else if (c == letter) *on = true;
        else if (c == 'h') { fputs(help, stdout); return 0; }
        else return orx_cli_usage(verb, "unknown option");
    }
    return -1;
}

static int kb_stats(int argc, char **argv) {
    const char *path;
    bool json;
    int rc = kb_flag_opts(argc, argv, "kb stats", "json", 'j',
                          "Usage: openrx kb stats [--kb FILE] [--json]\nCounts of labels, chunks, sources and sections.\n",
                          &path, &json);
    if (rc >= 0) return rc;
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_kb_open(path, &kb, &err);
    char *js = NULL;
    if (st == ORX_OK) st = orx_kb_stats_json(kb, &js, &err);
    orx_kb_free(kb);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    json_error_t je;
    json_t *o = json_loads(js, 0, &je);
    free(js);
    if (!o) return orx_cli_fail(ORX_ERR_INTERNAL, NULL);
    if (json) return print_json(o);
    printf("knowledge base %s (schema %lld, built %s)\n  labels: %lld\n  chunks: %lld\n  text: %.1f MB\n"
           "  duplicate versions dropped at build: %lld\nsources (labels):\n",
           json_string_value(json_object_get(o, "path")),
           (long long)json_integer_value(json_object_get(o, "schema_version")),
           json_string_value(json_object_get(o, "built_at")),
           (long long)json_integer_value(json_object_get(o, "docs")),
           (long long)json_integer_value(json_object_get(o, "chunks")),
           (double)json_integer_value(json_object_get(o, "text_bytes")) / 1e6,
           (long long)json_integer_value(json_object_get(o, "duplicates_dropped")));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(o, "sources"), key, v)
        printf("  %6lld  %s\n", (long long)json_integer_value(v), key);
    json_t *rel = json_object_get(o, "releases");
    if (json_array_size(rel)) printf("releases (source, kind, release date, labels, applied):\n");
    for (size_t i = 0; i < json_array_size(rel); i++) {
        json_t *r = json_array_get(rel, i);
        const char *d = json_string_value(json_object_get(r, "release_date"));
        printf("  %-9s %-8s %-10s %6lld  %s\n", json_string_value(json_object_get(r, "source")),
               json_string_value(json_object_get(r, "kind")), d && *d ? d : "undated",
               (long long)json_integer_value(json_object_get(r, "labels")),
               json_string_value(json_object_get(r, "applied_at")));
    }
    printf("impact index: %s\n", json_is_true(json_object_get(o, "impact_index"))
                                      ? "yes (exact top-k)" : "no (FTS5 ranks; 'openrx kb index' builds it)");
    printf("sections (chunks):\n");
    int shown = 0;
    json_object_foreach(json_object_get(o, "sections"), key, v) {
        if (shown++ >= 25) break;
        printf("  %6lld  %s\n", (long long)json_integer_value(v), key);
    }
    json_decref(o);
    return 0;
}

static int kb_index(int argc, char **argv) {
    const char *path;
    bool quiet;
    int rc = kb_flag_opts(argc, argv, "kb index", "quiet", 'q',
                          "Usage: openrx kb index [--kb FILE] [--quiet]\n"
                          "(Re)build a knowledge base's bookkeeping (chunk hashes, label sources) and its\n"
                          "impact index (<kb>.impact-<generation>, used for exact top-k search). kb build,\n"
                          "kb synth and kb update do this themselves; use it for files built before.\n",
                          &path, &quiet);
    if (rc >= 0) return rc;
    orx_error err = ORX_ERROR_INIT;
    double t0 = orx_now();
    orx_status s = orx_kb_reindex(path, !quiet, &err);
    if (s != ORX_OK) return orx_cli_fail(s, &err);
    printf("indexed %s in %.1f s\n", path, orx_now() - t0);
    return 0;
}

static const char *default_questions(void) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/kb/ddi_questions.tsv", ORX_SOURCE_DIR);
    return path;
}

static int kb_eval(int argc, char **argv) {
    static const struct option opts[] = {{"kb", required_argument, 0, 'b'},
                                         {"questions", required_argument, 0, 'q'},
                                         {"no-expand", no_argument, 0, 'x'},
                                         {"exhaustive", no_argument, 0, 'X'},
                                         {"fts", no_argument, 0, 'F'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = orx_kb_default_path(), *qpath = default_questions();
    bool json = false, expand = true, exhaustive = false, fts = false;
    int c;
    while ((c = getopt_long(argc, argv, "b:q:xXjh", opts, NULL)) != -1) {
        if (c == 'F') fts = true;
        else if (c == 'b') path = optarg;
        else if (c == 'X') exhaustive = true;
        else if (c == 'q') qpath = optarg;
        else if (c == 'x') expand = false;
        else if (c == 'j') json = true;
        else if (c == 'h') {
            printf("Usage: openrx kb eval [--questions TSV] [--no-expand] [--exhaustive] [--fts] [--kb FILE] [--json]\n"
                   "--fts ranks with FTS5 alone instead of the impact index (same results, slower).\n"
                   "Recall@1/5/10 on a question set (default: the NLM DDI dev set in\n"
                   "tests/fixtures/kb/ddi_questions.tsv: \"X with Y\" must find X's label section that\n"
                   "mentions Y).\n");
            return 0;
        } else return orx_cli_usage("kb eval", "unknown option");
    }
    orx_kb *kb = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_kb_eval ev;
    orx_status st = open_kb(path, expand, &kb, &err);
    if (st == ORX_OK && fts) orx_kb_use_impact(kb, false);
    if (st == ORX_OK) st = orx_kb_eval_questions(kb, qpath, expand, exhaustive, &ev, &err);
    orx_kb_free(kb);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    if (json)
        return print_json(json_pack("{s:i, s:f, s:f, s:f, s:f}", "questions", ev.questions,
                                    "recall_at_1", ev.recall_at[0], "recall_at_5", ev.recall_at[1],
                                    "recall_at_10", ev.recall_at[2], "seconds", ev.seconds));
    printf("%d questions: recall@1 %.3f  recall@5 %.3f  recall@10 %.3f  (%.2f s)\n", ev.questions,
           ev.recall_at[0], ev.recall_at[1], ev.recall_at[2], ev.seconds);
    return 0;
}

/* ============================================================================================
 * bench / synth
 * ========================================================================================== */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* first column of non-comment lines */
static char **read_queries(const char *path, size_t *n, orx_error *err) {
    char *data = NULL;
    size_t len = 0;
    *n = 0;
    if (orx_read_file(path, 64u << 20, &data, &len, err) != ORX_OK) return NULL;
    size_t cap = 64;
    char **v = malloc(cap * sizeof *v);
    for (char *line = data, *nl; v && line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        char *tab = strchr(line, '\t');
        if (tab) *tab = 0;
        if (!*line || *line == '#') continue;
        if (*n == cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        v[(*n)++] = orx_strdup(line);
    }
    free(data);
    return v;
}

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t chunk_count(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    uint64_t n = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'chunks'", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

/* hits of r whose text repeats an earlier hit of the same list (case/spacing folded) */
static int copies_in(const orx_kb_results *r) {
    int n = 0;
    for (size_t i = 1; i < r->n; i++)
        for (size_t j = 0; j < i; j++)
            if (orx_kb_text_hash(r->hits[i].text, strlen(r->hits[i].text)) ==
                orx_kb_text_hash(r->hits[j].text, strlen(r->hits[j].text))) {
                n++;
                break;
            }
    return n;
}

/* per distinct query: the impact index's top-k against FTS5's (same ids, same scores) */
static orx_status compare_engines(orx_kb *kb, char **qs, size_t nq, const orx_kb_query *base, size_t *same,
                                  orx_error *err) {
    *same = 0;
    orx_status st = ORX_OK;
    for (size_t i = 0; st == ORX_OK && i < nq; i++) {
        orx_kb_query q = *base;
        q.text = qs[i];
        orx_kb_results a, b;
        orx_kb_use_impact(kb, true);
        st = orx_kb_search(kb, &q, &a, err);
        orx_kb_use_impact(kb, false);
        if (st == ORX_OK) st = orx_kb_search(kb, &q, &b, err);
        if (st == ORX_OK) {
            bool eq = a.n == b.n;
            for (size_t j = 0; eq && j < a.n; j++)
                eq = a.hits[j].chunk_id == b.hits[j].chunk_id && a.hits[j].score == b.hits[j].score;
            *same += eq;
            if (!eq && getenv("ORX_DEBUG")) fprintf(stderr, "kb bench: top-k differs for \"%s\"\n", qs[i]);
            orx_kb_results_clear(&b);
        }
        orx_kb_results_clear(&a);
    }
    orx_kb_use_impact(kb, true);
    return st;
}

typedef struct bench_opts {
    const char *path, *qpath; /* knowledge base, queries */
    bool json, expand, exhaustive, fts, all_copies, compare; /* flags */
    long n;                   /* timed queries */
    int k;                    /* results per query */
} bench_opts;

static int bench_args(int argc, char **argv, bench_opts *o) {
    static const struct option opts[] = {{"kb", required_argument, 0, 'b'},
                                         {"queries", required_argument, 0, 'q'},
                                         {"json", no_argument, 0, 'j'},
                                         {"no-expand", no_argument, 0, 'x'},
                                         {"exhaustive", no_argument, 0, 'X'},
                                         {"fts", no_argument, 0, 'F'},
                                         {"all-copies", no_argument, 0, 'A'},
                                         {"compare", no_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:q:n:k:jxXh", opts, NULL)) != -1) {
        if (c == 'b') o->path = optarg;
        else if (c == 'X') o->exhaustive = true;
        else if (c == 'x') o->expand = false;
        else if (c == 'F') o->fts = true;
        else if (c == 'A') o->all_copies = true;
        else if (c == 'C') o->compare = true;
        else if (c == 'q') o->qpath = optarg;
        else if (c == 'n') {
            if (!orx_cli_parse_int(optarg, 1, 10000000, &o->n))
                return orx_cli_usage("kb bench", "-n must be a positive integer");
        } else if (c == 'k') {
            long k;
            if (!orx_cli_parse_int(optarg, 1, 100, &k)) return orx_cli_usage("kb bench", "-k must be in 1..100");
            o->k = (int)k;
        } else if (c == 'j') o->json = true;
        else if (c == 'h') {
            printf("Usage: openrx kb bench [--queries TSV] [-n 2000] [-k 10] [--no-expand] [--exhaustive]\n"
                   "                       [--fts] [--all-copies] [--compare] [--kb FILE] [--json]\n"
                   "Query latency (wall p50/p95/p99 and thread CPU time p50/p95, snippets included;\n"
                   "the 1-minute load average is printed) over the queries (first column of the TSV;\n"
                   "default the dev question set), cycling until n queries ran, after one untimed\n"
                   "warm-up pass. --fts ranks with FTS5 alone (no impact index); --compare also checks\n"
                   "every distinct query's top-k against FTS5's (ids and scores); copies = results\n"
                   "per list whose text repeats an earlier result.\n");
            return -1;
        } else return orx_cli_usage("kb bench", "unknown option");
    }
    return 0;
}

static int kb_bench(int argc, char **argv) {
    bench_opts o = {.path = orx_kb_default_path(), .qpath = default_questions(), .expand = true, .n = 2000, .k = 10};
    int arc = bench_args(argc, argv, &o);
    if (arc) return arc < 0 ? 0 : arc;
    orx_error err = ORX_ERROR_INIT;
    size_t nq = 0;
    char **qs = read_queries(o.qpath, &nq, &err);
    if (!qs || !nq) {
        free(qs);
        return orx_cli_fail(err.code ? err.code : ORX_ERR_INVALID, &err);
    }
    orx_kb *kb = NULL;
    orx_status st = open_kb(o.path, o.expand, &kb, &err);
    bool has_impact = st == ORX_OK && orx_kb_use_impact(kb, !o.fts);
    orx_kb_query base = {.k = o.k, .expand = o.expand, .exhaustive = o.exhaustive, .all_copies = o.all_copies};
    size_t same = 0;
    if (st == ORX_OK && o.compare && has_impact) st = compare_engines(kb, qs, nq, &base, &same, &err);
    if (st == ORX_OK) orx_kb_use_impact(kb, !o.fts);
    double *lat = calloc((size_t)o.n, sizeof *lat), *cpu = calloc((size_t)o.n, sizeof *cpu);
    long copies = 0, lists_with_copies = 0;
    for (size_t i = 0; st == ORX_OK && i < nq; i++) { /* warm-up; copies per result list */
        orx_kb_results r;
        orx_kb_query q = base;
        q.text = qs[i];
        st = orx_kb_search(kb, &q, &r, &err);
        int cp = st == ORX_OK ? copies_in(&r) : 0;
        copies += cp;
        lists_with_copies += cp > 0;
        orx_kb_results_clear(&r);
    }
    double t0 = orx_now();
    for (long i = 0; st == ORX_OK && lat && cpu && i < o.n; i++) {
        orx_kb_results r;
        orx_kb_query q = base;
        q.text = qs[(size_t)i % nq];
        double a = orx_now(), ca = thread_cpu();
        st = orx_kb_search(kb, &q, &r, &err);
        lat[i] = (orx_now() - a) * 1e3;
        cpu[i] = (thread_cpu() - ca) * 1e3;
        orx_kb_results_clear(&r);
    }
    double total = orx_now() - t0;
    orx_kb_stats ks = {0};
    ks.chunks = chunk_count(o.path); /* meta: kb stats would scan every chunk's text */
    orx_kb_free(kb);
    for (size_t i = 0; i < nq; i++) free(qs[i]);
    free(qs);
    if (st != ORX_OK || !lat || !cpu) {
        free(lat);
        free(cpu);
        return orx_cli_fail(st != ORX_OK ? st : ORX_ERR_NOMEM, &err);
    }
    long n = o.n;
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    qsort(cpu, (size_t)n, sizeof *cpu, cmp_double);
    double p50 = lat[(size_t)(n * 0.50)], p95 = lat[(size_t)(n * 0.95)],
           p99 = lat[(size_t)(n * 0.99)], mean = total * 1e3 / (double)n;
    double c50 = cpu[(size_t)(n * 0.50)], c95 = cpu[(size_t)(n * 0.95)];
    free(lat);
    free(cpu);
    double load[1] = {0};
    getloadavg(load, 1);
    const char *engine = has_impact && !o.fts ? "impact" : "fts5";
    if (o.json) {
        json_t *j = json_pack("{s:s, s:I, s:s, s:b, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I}", "kb",
                              o.path, "chunks", (json_int_t)ks.chunks, "engine", engine, "exhaustive", o.exhaustive,
                              "queries", (json_int_t)n, "distinct_queries", (int)nq, "p50_ms", p50, "p95_ms", p95,
                              "p99_ms", p99, "mean_ms", mean, "cpu_p50_ms", c50, "cpu_p95_ms", c95, "loadavg",
                              load[0], "copies_in_results", (json_int_t)copies, "lists_with_copies",
                              (json_int_t)lists_with_copies);
        if (j && o.compare && has_impact) json_object_set_new(j, "identical_topk", json_integer((json_int_t)same));
        return print_json(j);
    }
    printf("%s: %llu chunks, %ld queries (%zu distinct), %s%s: wall p50 %.3f ms  p95 %.3f ms  p99 %.3f "
           "ms  mean %.3f ms | cpu p50 %.3f ms  p95 %.3f ms | load %.1f | copies in result lists %ld (%ld lists)",
           o.path, (unsigned long long)ks.chunks, n, nq, engine, o.exhaustive ? " exhaustive" : "", p50, p95, p99,
           mean, c50, c95, load[0], copies, lists_with_copies);
    if (o.compare && has_impact) printf(" | identical top-%d %zu/%zu", o.k, same, nq);
    printf("\n");
    return 0;
}

static int kb_synth(int argc, char **argv) {
    static const struct option opts[] = {{"kb", required_argument, 0, 'b'},
                                         {"chunks", required_argument, 0, 'c'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = orx_kb_default_path(), *out = NULL;
    long n = 0;
    int c;
    while ((c = getopt_long(argc, argv, "b:c:o:h", opts, NULL)) != -1) {
        if (c == 'b') path = optarg;
        else if (c == 'o') out = optarg;
        else if (c == 'c') {
            if (!orx_cli_parse_int(optarg, 1, 100000000, &n))
                return orx_cli_usage("kb synth", "--chunks must be a positive integer");
        } else if (c == 'h') {
            printf("Usage: openrx kb synth --chunks N --out FILE [--kb FILE]\n"
                   "Benchmark corpus: copies the real chunks of --kb (with new set ids per copy) until\n"
                   "N chunks exist. Write it under /tmp; it is not meant to be committed.\n");
            return 0;
        } else return orx_cli_usage("kb synth", "unknown option");
    }
    if (!out || !n) return orx_cli_usage("kb synth", "--chunks and --out are required");
    orx_error err = ORX_ERROR_INIT;
    double t0 = orx_now();
    orx_status st = orx_kb_synthesize(path, out, (uint64_t)n, true, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    printf("wrote %s: %ld chunks in %.1f s\n", out, n, orx_now() - t0);
    return 0;
}

/* ============================================================================================
 * Dispatch
 * ========================================================================================== */
static void sub_usage(FILE *f) { fputs(SUB_USAGE, f); }

int cmd_kb(int argc, char **argv) {
    static const orx_cli_verb verbs[] = {
        {"build", kb_build}, {"search", kb_search}, {"indications", kb_indications}, {"stats", kb_stats},
        {"eval", kb_eval},   {"bench", kb_bench},   {"synth", kb_synth},             {"fetch", orx_cmd_kb_fetch},
        {"update", orx_cmd_kb_update}, {"index", kb_index}};
    return orx_cli_dispatch("kb", argc, argv, sub_usage, "verb", false, verbs, sizeof verbs / sizeof verbs[0]);
}
