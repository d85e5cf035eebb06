/*
 * ddi_table.c — the label interaction table: built from every label under a set of paths (one
 * version per set id), written as TSV (data/rules/label_ddi.tsv) or JSON.
 *
 * TSV: first line "#openrx-label-ddi<TAB>1<TAB>...", then a "#"-column line, then rows
 *   kind label_drug other other_text examples tier action set_id section_code section title
 *   quote context
 * Text fields are written as they are in the label except that a backslash is written "\\", a
 * tab "\t", a newline "\n" and a carriage return "\r" (hard-wrapped label text keeps its line
 * breaks inside a sentence; the reader unescapes, so quotes stay verbatim).
 */
#include "safety/ddi_extract.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Building from paths (one version per set id)
 * ========================================================================================== */
typedef struct doc_result {
    char          set_id[128];  /* the label's set id */
    long          version;      /* SPL version, -1 unknown */
    char          date[16];     /* effective date, "" unknown */
    size_t        order;        /* input order */
    orx_ddi_rules rules;        /* its rows */
} doc_result;

typedef struct build_ctx {
    orx_ddi_extractor *x;
    doc_result        *docs;    /* one per document read */
    size_t             n, cap;  /* count, allocated */
    orx_ddi_stats     *stats;
} build_ctx;

static orx_status on_doc(void *vctx, const orx_kb_doc *doc, orx_error *err) {
    build_ctx *b = vctx;
    doc_result *d = orx_push((void **)&b->docs, &b->n, &b->cap, sizeof *d, 64);
    if (!d) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
    snprintf(d->set_id, sizeof d->set_id, "%s", doc->set_id);
    d->version = doc->version && doc->version[0] ? strtol(doc->version, NULL, 10) : -1;
    snprintf(d->date, sizeof d->date, "%s", doc->effective_date ? doc->effective_date : "");
    d->order = b->n - 1;
    orx_ddi_rules_init(&d->rules);
    orx_error derr = ORX_ERROR_INIT;
    orx_status st = orx_ddi_extract_doc(b->x, doc, &d->rules, &derr);
    if (st == ORX_ERR_NOT_FOUND) {
        b->stats->unrecognised++;
        return ORX_OK;
    }
    if (st) *err = derr;
    return st;
}

/* Is a a newer version of the same label than b (version, then date, then later input)? */
static bool newer(const doc_result *a, const doc_result *b) {
    if (a->version != b->version && a->version >= 0 && b->version >= 0) return a->version > b->version;
    int c = strcmp(a->date, b->date);
    if (c) return c > 0;
    return a->order > b->order;
}

static orx_status take_rules(orx_ddi_rules *out, orx_ddi_rules *from, orx_error *err) {
    for (size_t i = 0; i < from->n; i++) {
        orx_ddi_rule *r = orx_push((void **)&out->items, &out->n, &out->cap, sizeof *r, 1024);
        if (!r) return orx_fail(err, ORX_ERR_NOMEM, "ddi extractor: out of memory");
        *r = from->items[i];
    }
    free(from->items);
    memset(from, 0, sizeof *from);
    return ORX_OK;
}

orx_status orx_ddi_extract_paths(orx_ddi_extractor *x, const char *const *paths, size_t n,
                                 bool keep_repeats, orx_ddi_rules *out, orx_ddi_stats *stats,
                                 orx_error *err) {
    orx_ddi_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    build_ctx b = {.x = x, .stats = stats};
    orx_status st = ORX_OK;
    for (size_t i = 0; i < n && !st; i++) st = orx_kb_ingest_path(paths[i], on_doc, &b, err);
    for (size_t i = 0; i < b.n && !st; i++) {
        bool keep = true;
        for (size_t j = 0; j < b.n && keep; j++)
            if (j != i && !strcmp(b.docs[i].set_id, b.docs[j].set_id) && newer(&b.docs[j], &b.docs[i])) keep = false;
        if (!keep) { stats->duplicates++; continue; }
        stats->labels++;
        st = take_rules(out, &b.docs[i].rules, err);
    }
    for (size_t i = 0; i < b.n; i++) orx_ddi_rules_clear(&b.docs[i].rules);
    free(b.docs);
    if (st) return st;
    orx_ddi_rules_sort(out, keep_repeats);
    for (size_t i = 0; i < out->n; i++) {
        if (!strcmp(out->items[i].kind, "member")) { stats->members++; continue; }
        stats->rules++;
        if ((unsigned)out->items[i].tier < ORX_SEV_COUNT) stats->by_tier[out->items[i].tier]++;
    }
    return ORX_OK;
}

/* ============================================================================================
 * Output
 * ========================================================================================== */
static bool put_field(orx_buf *b, const char *s, bool last) {
    bool ok = true;
    for (const char *p = s ? s : ""; *p && ok; p++) {
        if (*p == '\\') ok = orx_buf_puts(b, "\\\\");
        else if (*p == '\t') ok = orx_buf_puts(b, "\\t");
        else if (*p == '\n') ok = orx_buf_puts(b, "\\n");
        else if (*p == '\r') ok = orx_buf_puts(b, "\\r");
        else ok = orx_buf_append(b, p, 1);
    }
    return ok && orx_buf_puts(b, last ? "\n" : "\t");
}

/* The columns of a rule table, in order: the TSV header and the JSON keys. */
static const char *const COLUMNS[] = {"kind", "label_drug", "other", "other_text", "examples", "tier",
                                      "action", "set_id", "section_code", "section", "title", "quote", "context"};
#define N_COLUMNS (sizeof COLUMNS / sizeof COLUMNS[0])

/* A rule's values in the order of COLUMNS (the tier "" for a member row). */
static void rule_values(const orx_ddi_rule *x, const char *v[N_COLUMNS]) {
    const char *vals[N_COLUMNS] = {x->kind, x->label_drug, x->other, x->other_text, x->examples,
                                   strcmp(x->kind, "member") ? orx_severity_name(x->tier) : "", x->action,
                                   x->set_id, x->section_code, x->section, x->title, x->quote, x->context};
    memcpy(v, vals, sizeof vals);
}

orx_status orx_ddi_rules_to_tsv(const orx_ddi_rules *r, orx_buf *b, orx_error *err) {
    bool ok = orx_buf_puts(b, "#openrx-label-ddi\t1\tgenerated by `openrx rules ddi` from FDA label text; "
                              "format and tiers in data/rules/SOURCE.md\n#");
    for (size_t k = 0; k < N_COLUMNS && ok; k++) ok = put_field(b, COLUMNS[k], k + 1 == N_COLUMNS);
    for (size_t i = 0; i < r->n && ok; i++) {
        const char *v[N_COLUMNS];
        rule_values(&r->items[i], v);
        for (size_t k = 0; k < N_COLUMNS && ok; k++) ok = put_field(b, v[k], k + 1 == N_COLUMNS);
    }
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "ddi table: out of memory");
}

orx_status orx_ddi_rules_write_tsv(const orx_ddi_rules *r, const char *path, orx_error *err) {
    orx_buf b;
    orx_buf_init(&b);
    orx_status st = orx_ddi_rules_to_tsv(r, &b, err);
    if (!st) st = orx_write_file_atomic(path, b.data, b.len, err);
    orx_buf_clear(&b);
    return st;
}

orx_status orx_ddi_rules_to_json(const orx_ddi_rules *r, orx_buf *b, orx_error *err) {
    json_t *arr = json_array();
    if (!arr) return orx_fail(err, ORX_ERR_NOMEM, "ddi table: out of memory");
    for (size_t i = 0; i < r->n; i++) {
        const char *v[N_COLUMNS];
        rule_values(&r->items[i], v);
        json_t *o = json_object();
        for (size_t k = 0; k < N_COLUMNS; k++) json_object_set_new(o, COLUMNS[k], json_string(v[k]));
        json_array_append_new(arr, o);
    }
    char *s = json_dumps(arr, JSON_INDENT(1));
    json_decref(arr);
    bool ok = s && orx_buf_puts(b, s) && orx_buf_puts(b, "\n");
    free(s);
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "ddi table: out of memory");
}
