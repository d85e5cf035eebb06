/*
 * label_rules.c — TSV rule-table loader and shared helpers for the label-derived checks (renal,
 * hepatic, pregnancy/lactation, pgx, dose limits). See label_rules.h.
 */
#include "safety/label_rules.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#define SRL_MAX_FILE (64u * 1024u * 1024u) /* bytes; rule tables are far smaller */

/* ============================================================================================
 * TSV loading
 * ========================================================================================== */
static size_t count_fields(const char *line, const char *end) {
    size_t n = 1;
    for (const char *p = line; p < end; p++)
        if (*p == '\t') n++;
    return n;
}

static orx_status parse_header(orx_srl_table *t, char *line, orx_error *err) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (n >= SRL_MAX_COLS)
            return orx_fail(err, ORX_ERR_PARSE, "%s:1: more than %d columns", t->path, SRL_MAX_COLS);
        t->header[n++] = p;
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    t->ncols = n;
    return ORX_OK;
}

orx_status orx_srl_table_load(const char *data_dir, const char *rel, const char *const *need,
                          orx_srl_table *t, orx_error *err) {
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s/%s", data_dir ? data_dir : ".", rel);
    size_t len = 0;
    orx_status st = orx_read_file(t->path, SRL_MAX_FILE, &t->data, &len, err);
    if (st != ORX_OK) return orx_error_prefix(err, "rule table %s", rel);
    /* header */
    char *nl = strchr(t->data, '\n');
    if (!nl || nl == t->data) {
        st = orx_fail(err, ORX_ERR_PARSE, "%s:1: missing header row", t->path);
        goto fail;
    }
    *nl = '\0';
    if (nl > t->data && nl[-1] == '\r') nl[-1] = '\0';
    if ((st = parse_header(t, t->data, err)) != ORX_OK) goto fail;
    for (size_t i = 0; need && need[i]; i++)
        if (orx_srl_col(t, need[i]) < 0) {
            st = orx_fail(err, ORX_ERR_PARSE, "%s:1: missing column '%s'", t->path, need[i]);
            goto fail;
        }
    /* count rows */
    char *body = nl + 1, *end = t->data + len;
    size_t rows = 0;
    for (char *p = body; p < end; p++)
        if (*p == '\n') rows++;
    if (end > body && end[-1] != '\n') rows++;
    t->cells = calloc(rows ? rows * t->ncols : 1, sizeof *t->cells);
    if (!t->cells) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory loading %s", t->path); goto fail; }
    size_t line_no = 1;
    for (char *p = body; p < end;) {
        line_no++;
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        char *le = e;
        if (le > p && le[-1] == '\r') le--;
        if (le == p) { p = e + 1; continue; } /* blank line */
        size_t nf = count_fields(p, le);
        if (nf != t->ncols) {
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: expected %zu fields, got %zu", t->path,
                          line_no, t->ncols, nf);
            goto fail;
        }
        char **row = t->cells + t->nrows * t->ncols;
        char *c = p;
        for (size_t k = 0; k < t->ncols; k++) {
            row[k] = c;
            char *tab = memchr(c, '\t', (size_t)(le - c));
            if (tab) { *tab = '\0'; c = tab + 1; }
        }
        *le = '\0';
        t->nrows++;
        p = e + 1;
    }
    return ORX_OK;
fail:
    orx_srl_table_clear(t);
    return st;
}

void orx_srl_tables_free(orx_srl_table *const *t, size_t n) {
    for (size_t i = 0; i < n; i++) orx_srl_table_clear(t[i]);
}

orx_status orx_srl_tables_load(const char *data_dir, const orx_srl_load *loads, size_t n, orx_error *err) {
    orx_status st = ORX_OK;
    for (size_t i = 0; i < n && st == ORX_OK; i++)
        st = orx_srl_table_load(data_dir, loads[i].rel, loads[i].need, loads[i].t, err);
    return st;
}

void orx_srl_table_clear(orx_srl_table *t) {
    if (!t) return;
    if (t->norm)
        for (size_t r = 0; r < t->nrows; r++) free(t->norm[r]);
    free(t->norm);
    t->norm = NULL;
    free(t->cells);
    free(t->data);
    t->cells = NULL;
    t->data = NULL;
    t->nrows = t->ncols = 0;
}

orx_status orx_srl_table_normalise(orx_srl_table *t, const char *col, const orx_lexicon *lex,
                               orx_error *err) {
    int c = orx_srl_col(t, col);
    if (c < 0) return orx_fail(err, ORX_ERR_INVALID, "%s: no column '%s'", t->path, col);
    if (!lex || t->nrows == 0) return ORX_OK;
    t->norm = calloc(t->nrows, sizeof *t->norm);
    if (!t->norm) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < t->nrows; r++) {
        orx_buf b;
        orx_buf_init(&b);
        const char *p = orx_srl_cell(t, r, c);
        bool ok = true;
        while (*p && ok) {
            const char *e = strchr(p, '+');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char name[ORX_LEX_NAME];
            snprintf(name, sizeof name, "%.*s", (int)len, p);
            orx_lex_match m[4];
            int n = orx_lexicon_lookup(lex, name, m, 4);
            if (n <= 0 || n > 4) {
                ok = ok && (b.len == 0 || orx_buf_puts(&b, "+")) && orx_buf_puts(&b, name);
            } else {
                for (int i = 0; i < n && ok; i++)
                    ok = (b.len == 0 || orx_buf_puts(&b, "+")) && orx_buf_puts(&b, m[i].ingredient);
            }
            if (!e) break;
            p = e + 1;
        }
        if (!ok) { orx_buf_clear(&b); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
        t->norm[r] = orx_buf_steal(&b);
        if (!t->norm[r]) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    return ORX_OK;
}

const char *orx_srl_ingr(const orx_srl_table *t, size_t row, int col) {
    if (t->norm && row < t->nrows && t->norm[row]) return t->norm[row];
    return orx_srl_cell(t, row, col);
}

int orx_srl_col(const orx_srl_table *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0) return (int)i;
    return -1;
}

const char *orx_srl_cell(const orx_srl_table *t, size_t row, int col) {
    if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows) return "";
    const char *c = t->cells[row * t->ncols + (size_t)col];
    return c ? c : "";
}

orx_status orx_srl_num(const orx_srl_table *t, size_t row, int col, double *out, bool *present,
                   orx_error *err) {
    const char *s = orx_srl_cell(t, row, col);
    *out = 0;
    *present = false;
    if (!*s) return ORX_OK;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field '%s': '%s' is not a number", t->path,
                        row + 2, t->header[col], s);
    *out = v;
    *present = true;
    return ORX_OK;
}

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
bool orx_srl_is_number(const char *s) {
    if (!s || !*s) return false;
    char *end = NULL;
    double v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(v);
}

bool orx_srl_icontains(const char *hay, const char *needle) {
    if (!hay || !needle) return false;
    size_t n = strlen(needle);
    if (n == 0) return true;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

static bool drug_has(const orx_proposed_drug *d, const char *name, size_t len) {
    for (int i = 0; i < d->n_ingr && i < ORX_MAX_INGR; i++)
        if (strlen(d->ingr[i].ingredient) == len && strncasecmp(d->ingr[i].ingredient, name, len) == 0)
            return true;
    return false;
}

bool orx_srl_drug_matches(const orx_proposed_drug *d, const char *rule_ingr, bool exact) {
    if (!d || d->n_ingr <= 0 || !rule_ingr || !*rule_ingr) return false;
    int count = 0;
    const char *p = rule_ingr;
    while (*p) {
        const char *e = strchr(p, '+');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!drug_has(d, p, len)) return false;
        count++;
        if (!e) break;
        p = e + 1;
    }
    return !exact || count == d->n_ingr;
}

static const char *corpus_name(const char *c) {
    if (strcmp(c, "nlm2014") == 0) return "NLM DDI-in-SPL corpus 2014 (DailyMed label text)";
    if (strcmp(c, "dbmi2016") == 0) return "DailyMed label pages 2016 (dbmi-annotator)";
    if (strcmp(c, "splnsaid") == 0) return "DailyMed SPL XML (FDALabel NSAID/metformin subset)";
    return c;
}

void orx_srl_fill_label(orx_finding *f, const orx_srl_table *t, size_t row) {
    const char *setid = orx_srl_cell(t, row, orx_srl_col(t, "setid"));
    const char *corpus = orx_srl_cell(t, row, orx_srl_col(t, "corpus"));
    orx_fset(f->source, sizeof f->source, "FDA drug label: %s", corpus_name(corpus));
    const char *base = strrchr(t->path, '/');
    base = base ? base + 1 : t->path;
    orx_fset(f->citation, sizeof f->citation, "SPL set id %s, %s [rule %s, %s:%zu]", setid,
        orx_srl_cell(t, row, orx_srl_col(t, "section")), orx_srl_cell(t, row, orx_srl_col(t, "id")), base, row + 2);
    orx_fset(f->quote, sizeof f->quote, "%s", orx_srl_cell(t, row, orx_srl_col(t, "quote")));
}

orx_finding *orx_srl_push(orx_findings *out, const char *kind, orx_severity sev, const orx_proposed_drug *d) {
    orx_finding *f = orx_findings_push(out, kind, sev);
    char name[256];
    if (f) orx_fset(f->drugs, sizeof f->drugs, "%s", orx_proposed_drug_name(d, name, sizeof name));
    return f;
}

orx_status orx_srl_severity(const orx_srl_table *t, size_t row, int col, orx_severity *out,
                        orx_error *err) {
    const char *s = orx_srl_cell(t, row, col);
    if (!orx_severity_parse(s, out))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field '%s': unknown severity '%s'", t->path,
                        row + 2, t->header[col], s);
    return ORX_OK;
}

orx_severity orx_srl_lower(orx_severity s) {
    return s > ORX_SEV_INFO ? (orx_severity)(s - 1) : ORX_SEV_INFO;
}
