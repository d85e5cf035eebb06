/*
 * label_ddi.c — load data/rules/label_ddi.tsv, index it by label ingredient and by role member,
 * and match the rules against two drugs (see label_ddi.h).
 */
#include "safety/label_ddi.h"
#include "safety/checks.h" /* orx_label_group_kind */
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LDDI_MAX_BYTES (64u * 1024u * 1024u) /* refuse a larger table */
#define LDDI_FIELDS 13                        /* columns of a row */

/* ============================================================================================
 * Table
 * ========================================================================================== */
typedef struct lrule {
    const char  *label[ORX_MAX_INGR]; /* label ingredients (all must be in the drug), or the
                                         class names of a class-level rule ("class:a|b") */
    int          n_label;             /* count */
    bool         class_label;         /* a class-level rule: the drug must be in one label class */
    const char  *label_joined;        /* "a;b" as in the table (kept for display) */
    const char  *other, *other_text, *examples, *action, *set_id, *code, *section, *title;
    const char  *quote, *context;     /* verbatim text */
    orx_severity tier;                /* mapped tier */
    bool         topical_label;       /* the label's title names a topical / transdermal form */
    orx_label_group *group;           /* the patient group the quote is limited to (owned), or NULL */
    int32_t      next;                /* next rule of the same first label ingredient, -1 end */
} lrule;

typedef struct lmember {
    const char *ingr, *role, *set_id, *section, *title, *quote; /* a member row */
    int32_t     next;                                            /* next row of the same
                                                                    ingredient and role, -1 end */
} lmember;

/* A class a label sentence names among the examples of an effect ("drugs that affect hemostasis,
 * such as NSAIDs, platelet inhibitors"): member row with label side "class:a|b". */
typedef struct leclass {
    const char *effect;                /* "effect:KEY" */
    const char *cls[ORX_MAX_INGR];     /* class names */
    int         n;                     /* count */
    const lmember *row;                /* the member row (title, set id, quote) */
} leclass;

/* A sourced class that IS the effect (data/interactions/effect_roles.tsv 'class' rows). */
typedef struct lemap {
    char     effect[32];               /* effect key, without "effect:" */
    char     cls[ORX_LEX_NAME];        /* lexicon class name */
    unsigned types;                    /* ORX_CLASS_* kinds that count */
} lemap;

/* The classes named among one effect's examples, each once (first row kept for the citation). */
typedef struct legroup {
    char           effect[40];         /* "effect:KEY" */
    const char    *cls[128];           /* distinct class names */
    const lmember *row[128];           /* the first row naming each */
    int            n;                  /* count */
    size_t         first, count;       /* its rows in eclass (sorted by effect) */
} legroup;

typedef struct lename {
    char key[32];                      /* effect key */
    char name[96];                     /* its name for messages */
} lename;

typedef struct smap {          /* string -> int32 (open addressing) */
    const char **keys;         /* cap slots */
    int32_t     *vals;         /* values */
    size_t       cap;          /* power of two */
} smap;

typedef struct cnode {
    int32_t rule;              /* class-level rule index */
    int32_t next;              /* next node of the same class name, -1 end */
} cnode;

struct orx_label_ddi {
    char    *text;             /* the file, split in place */
    lrule   *rules;   size_t n_rules;     /* rule rows */
    lmember *members; size_t n_members;   /* member rows */
    smap     by_label;         /* first label ingredient -> first rule */
    smap     by_class;         /* class name -> first cnode (class-level rules) */
    cnode   *cnodes;  size_t n_cnodes;    /* nodes, one per (rule, class name) */
    smap     by_member;        /* "ingredient\x1frole" -> member row */
    char   **keys;             /* owned member keys */
    leclass *eclass;  size_t n_eclass;    /* effect example classes, grouped by effect */
    legroup *egroups; size_t n_egroups;   /* one per effect */
    lemap   *emap;    size_t n_emap;      /* classes that are an effect */
    lename  *enames;  size_t n_enames;    /* effect names */
};

static bool smap_init(smap *m, size_t n) {
    m->cap = 16;
    while (m->cap < n * 2 + 2) m->cap <<= 1;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    return m->keys && m->vals;
}

/* Slot of key (existing or the empty one where it would go). */
static size_t smap_slot(const smap *m, const char *key) {
    size_t i = orx_fnv1a_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

static int32_t smap_get(const smap *m, const char *key) {
    if (!m->keys) return -1;
    size_t i = smap_slot(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

void orx_label_ddi_free(orx_label_ddi *t) {
    if (!t) return;
    for (size_t i = 0; t->keys && i < t->n_members + t->n_rules; i++) free(t->keys[i]);
    free(t->keys);
    free(t->by_label.keys);
    free(t->by_label.vals);
    free(t->by_class.keys);
    free(t->by_class.vals);
    free(t->cnodes);
    free(t->by_member.keys);
    free(t->by_member.vals);
    for (size_t i = 0; t->rules && i < t->n_rules; i++) free(t->rules[i].group);
    free(t->rules);
    free(t->members);
    free(t->eclass);
    free(t->egroups);
    free(t->emap);
    free(t->enames);
    free(t->text);
    free(t);
}

void orx_label_ddi_counts(const orx_label_ddi *t, size_t *rules, size_t *members) {
    if (rules) *rules = t ? t->n_rules : 0;
    if (members) *members = t ? t->n_members : 0;
}

/* Undo the table's escapes in place: "\\t" "\\n" "\\r" -> tab, newline, CR; "\\\\" -> backslash. */
static void unescape(char *s) {
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1] == 't') { *w++ = '\t'; p++; }
        else if (*p == '\\' && p[1] == 'n') { *w++ = '\n'; p++; }
        else if (*p == '\\' && p[1] == 'r') { *w++ = '\r'; p++; }
        else if (*p == '\\' && p[1] == '\\') { *w++ = '\\'; p++; }
        else *w++ = *p;
    }
    *w = 0;
}

/* ============================================================================================
 * Patient groups a statement is limited to
 *
 * "Do not use aliskiren with ARBs or ACEIs in patients with diabetes", "Avoid use of aliskiren
 * with ZESTRIL in patients with renal impairment (GFR < 60 ml/min)": the statement speaks of
 * patients with diabetes, or with renal function below a clearance or in a named band. Read only
 * where the group is the statement's own limit: "in patients with X" / "in diabetic patients" not
 * after a word such as "especially", "including", "frequently", "and" or "or" (NOT_LIMITING), and
 * not followed by another group ("…, or in patients …", "…, the elderly, …"). Parsed once per
 * rule when the table is loaded; interactions.c judges the patient.
 * ========================================================================================== */
/* lower-case copy with line breaks as spaces */
static void lower_flat(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : (char)tolower(ch);
    }
    dst[i] = 0;
}

/* Is `word` the word just before `at` (spaces between allowed) in text? */
static bool word_before(const char *text, const char *at, const char *word) {
    size_t wl = strlen(word), room = (size_t)(at - text);
    if (room < wl + 1) return false;
    const char *p = at - 1;
    while (p > text && *p == ' ') p--; /* the word just before */
    const char *e = p + 1;
    while (p > text && (isalpha((unsigned char)p[-1]))) p--;
    return (size_t)(e - p) == wl && !strncmp(p, word, wl);
}

/* any letter in [s, e) */
static bool strpbrk_alpha(const char *s, const char *e) {
    for (; s < e; s++)
        if (isalpha((unsigned char)*s)) return true;
    return false;
}

static const char *skip_sp(const char *p) {
    while (*p == ' ') p++;
    return p;
}

/* "(GFR < 60 ml/min)", "CrCl 30-50 mL/min", "creatinine clearance less than 30": a range at p,
 * or false. */
static bool clearance_range(const char *p, orx_label_group *g) {
    p = skip_sp(p);
    if (*p == '(') p = skip_sp(p + 1);
    bool gfr = false;
    if (!strncmp(p, "egfr", 4)) { gfr = true; p += 4; }
    else if (!strncmp(p, "gfr", 3)) { gfr = true; p += 3; }
    else if (!strncmp(p, "crcl", 4)) p += 4;
    else if (!strncmp(p, "creatinine clearance", 20)) p += 20;
    else return false;
    p = skip_sp(p);
    if (!strncmp(p, "ranges from ", 12)) p += 12;
    else if (!strncmp(p, "of ", 3)) p += 3;
    bool below = false;
    if (*p == '<') { below = true; p = skip_sp(p + 1 + (p[1] == '=')); }
    else if (!strncmp(p, "\xe2\x89\xa4", 3)) { below = true; p = skip_sp(p + 3); } /* ≤ */
    else if (!strncmp(p, "less than", 9)) { below = true; p = skip_sp(p + 9); }
    else if (!strncmp(p, "below", 5)) { below = true; p = skip_sp(p + 5); }
    if (!isdigit((unsigned char)*p)) return false;
    char *e;
    double a = strtod(p, &e);
    const char *q = skip_sp(e);
    if (!below && !isdigit((unsigned char)*q) && *q != '-' && strncmp(q, "to ", 3) && strncmp(q, "ml/min to ", 10)) {
        /* "GFR 60 ml/min": the shipped text lost the comparator of the label's "GFR <60 ml/min"
         * (a character entity); a clearance named as a patient group is the upper bound */
        below = true;
        g->no_comparator = true;
    }
    if (below) {
        g->lo = 0, g->hi = a;
    } else { /* "30-50", "30 to 50", "45 mL/min to 79": an explicit range */
        if (!strncmp(q, "ml/min ", 7)) q = skip_sp(q + 7);
        if (*q == '-') q = skip_sp(q + 1);
        else if (!strncmp(q, "to ", 3)) q = skip_sp(q + 3);
        else return false;
        if (!isdigit((unsigned char)*q)) return false;
        double b = strtod(q, &e);
        if (b <= a) return false;
        g->lo = a, g->hi = b;
    }
    g->gfr = gfr;
    return g->hi > 0;
}

/* The group that follows "patients with " at p: its kind and where its words end. */
static const char *group_at(const char *p, orx_label_group *g) {
    static const struct { const char *w; orx_renal_band band; } ADJ[] = {
        {"mild to moderate ", ORX_RENAL_MILD}, {"moderate to severe ", ORX_RENAL_MODERATE},
        {"mild ", ORX_RENAL_MILD}, {"moderate ", ORX_RENAL_MODERATE}, {"severe ", ORX_RENAL_SEVERE}};
    static const char *const RENAL[] = {"renal impairment", "renal insufficiency", "impaired renal function",
                                        "renal dysfunction", NULL};
    if (!strncmp(p, "diabetes", 8) && strncmp(p, "diabetes insipidus", 18)) {
        g->kind = ORX_LGROUP_DIABETES;
        return p + 8;
    }
    const char *q = p;
    g->band = ORX_RENAL_MILD;
    for (size_t i = 0; i < sizeof ADJ / sizeof ADJ[0]; i++)
        if (!strncmp(q, ADJ[i].w, strlen(ADJ[i].w))) {
            g->band = ADJ[i].band;
            q += strlen(ADJ[i].w);
            break;
        }
    for (int i = 0; RENAL[i]; i++)
        if (!strncmp(q, RENAL[i], strlen(RENAL[i]))) {
            g->kind = ORX_LGROUP_RENAL;
            const char *e = q + strlen(RENAL[i]);
            orx_label_group r = *g;
            if (!strncmp(e, " whose ", 7) && clearance_range(e + 7, &r)) { /* "… whose creatinine clearance
                                                                               ranges from 45 to 79 mL/min" */
                *g = r;
                const char *c = strchr(e, ',');
                return c && c - e < 90 ? c : e;
            }
            if (clearance_range(e, &r)) { /* "(GFR < 60 ml/min)" */
                *g = r;
                const char *c = strchr(e, ')');
                if (c && c - e < 40) e = c + 1;
            }
            return e;
        }
    orx_label_group r = *g;
    if (clearance_range(q, &r)) { /* "patients with CrCl < 30 mL/min" */
        *g = r;
        g->kind = ORX_LGROUP_RENAL;
        g->band = ORX_RENAL_UNKNOWN;
        const char *e = q, *m = strstr(q, "min");
        if (m && m - q < 40) return m + 3; /* "… mL/min" */
        while (*e && !strchr(",;.)[(", *e) && e - q < 40) e++;
        while (e > q && e[-1] == ' ') e--;
        return *e == ')' ? e + 1 : e;
    }
    return NULL;
}

/* The group a label statement is limited to (kind ORX_LGROUP_NONE when it is not). */
static void label_group_of(const char *quote, orx_label_group *g) {
    memset(g, 0, sizeof *g);
    char t[1024];
    lower_flat(t, sizeof t, quote);
    static const char *const NOT_LIMITING[] = {"especially", "particularly", "including", "even", "and", "or",
                                               "except", "without", "frequently", "often", "occurred", "study",
                                               "notably", "mainly", NULL};
    for (const char *p = t; (p = strstr(p, "diabetics,")); p += 9) /* "In diabetics, do not use …" opening it */
        if (p - t >= 3 && !strncmp(p - 3, "in ", 3) && !strpbrk_alpha(t, p - 3)) {
            g->kind = ORX_LGROUP_DIABETES;
            orx_fset(g->words, sizeof g->words, "patients with diabetes");
            return;
        }
    for (const char *p = t; (p = strstr(p, "patients")); p += 8) {
        orx_label_group cand = {0};
        const char *start = p, *end = NULL;
        if (word_before(t, p, "diabetic")) { /* "in diabetic patients" */
            start = p;
            while (start > t && start[-1] == ' ') start--;         /* back over the spaces, */
            while (start > t && isalpha((unsigned char)start[-1])) start--; /* to "diabetic" */
            cand.kind = ORX_LGROUP_DIABETES;
            end = p + 8;
        } else if (!strncmp(p, "patients with ", 14)) {
            end = group_at(p + 14, &cand);
        }
        if (!end || cand.kind == ORX_LGROUP_NONE) continue;
        /* "in patients with …" / "in diabetic patients"; not "especially in patients …" */
        const char *in = start;
        while (in > t && in[-1] == ' ') in--;
        bool limiting = in - t >= 2 && !strncmp(in - 2, "in", 2) && (in - t == 2 || !isalpha((unsigned char)in[-3]));
        for (int k = 0; limiting && NOT_LIMITING[k]; k++)
            if (word_before(t, in - 2, NOT_LIMITING[k])) limiting = false;
        /* not one group among several: "…, or in patients …", "… or who …" */
        const char *after = skip_sp(end);
        bool comma = *after == ',';
        if (comma) after = skip_sp(after + 1);
        if (!strncmp(after, "or ", 3) || !strncmp(after, "and in ", 7) || !strncmp(after, "in ", 3) ||
            !strncmp(after, "and ", 4))
            limiting = false;
        if (comma) { /* "…, the elderly, in patients with low blood pressure": one group of a list */
            char next[48];
            orx_fset(next, sizeof next, "%s", after);
            if (strstr(next, "patients") || strstr(next, "elderly")) limiting = false;
        }
        if (!limiting) continue;
        *g = cand;
        size_t n = (size_t)(end - start), off = (size_t)(start - t);
        if (n >= sizeof g->words) n = sizeof g->words - 1;
        memcpy(g->words, quote + off, n); /* the label's own words (t is quote, lower-cased, 1:1) */
        g->words[n] = 0;
        for (char *w = g->words; *w; w++)
            if (*w == '\n' || *w == '\r' || *w == '\t') *w = ' ';
        return;
    }
}

int orx_label_group_kind(const char *quote, char *words, size_t cap) {
    orx_label_group g;
    label_group_of(quote ? quote : "", &g);
    if (words && cap) orx_fset(words, cap, "%s", g.kind ? g.words : "");
    return (int)g.kind;
}

static bool topical_title(const char *title) {
    static const char *const W[] = {"gel", "cream", "ointment", "topical", "patch", "transdermal",
                                     "lotion", "solution, for topical", NULL};
    char low[128];
    size_t i = 0;
    for (; title[i] && i + 1 < sizeof low; i++) low[i] = (char)(title[i] >= 'A' && title[i] <= 'Z' ? title[i] + 32 : title[i]);
    low[i] = 0;
    return orx_str_has_any(low, W);
}

static orx_status add_rule(orx_label_ddi *t, char **f, const char *path, size_t line, orx_error *err) {
    lrule *r = &t->rules[t->n_rules];
    memset(r, 0, sizeof *r);
    r->other = f[2]; r->other_text = f[3]; r->examples = f[4]; r->action = f[6]; r->set_id = f[7];
    r->code = f[8]; r->section = f[9]; r->title = f[10]; r->quote = f[11]; r->context = f[12];
    if (!orx_severity_parse(f[5], &r->tier))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown tier '%s'", path, line, f[5]);
    r->topical_label = topical_title(r->title);
    if (strstr(r->quote, "atients") || strstr(r->quote, "iabetics")) { /* the only openings label_group_of reads */
        orx_label_group g;
        label_group_of(r->quote, &g);
        if (g.kind != ORX_LGROUP_NONE) {
            if (!(r->group = malloc(sizeof g))) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
            *r->group = g;
        }
    }
    /* label ingredients: the joined text is kept for display, a copy is split */
    r->label_joined = f[1];
    char *copy = strdup(f[1]);
    if (!copy) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    t->keys[t->n_members + t->n_rules] = copy; /* owned; freed with the member keys */
    r->class_label = !strncmp(copy, "class:", 6);
    if (r->class_label) {
        char *names = copy + 6;
        names[strcspn(names, "&")] = 0; /* a restriction on a lifted class is not kept */
        for (char *p = names, *bar; p && *p && r->n_label < ORX_MAX_INGR; p = bar) {
            bar = strchr(p, '|');
            if (bar) *bar++ = 0;
            r->label[r->n_label++] = p;
            size_t s = smap_slot(&t->by_class, p);
            cnode *nd = &t->cnodes[t->n_cnodes];
            nd->rule = (int32_t)t->n_rules;
            nd->next = t->by_class.keys[s] ? t->by_class.vals[s] : -1;
            t->by_class.keys[s] = p;
            t->by_class.vals[s] = (int32_t)t->n_cnodes++;
        }
        r->next = -1;
        t->n_rules++;
        return ORX_OK;
    }
    for (char *p = copy, *semi; p && *p && r->n_label < ORX_MAX_INGR; p = semi) {
        semi = strchr(p, ';');
        if (semi) *semi++ = 0;
        r->label[r->n_label++] = p;
    }
    if (r->n_label == 0) return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: rule without a label drug", path, line);
    size_t s = smap_slot(&t->by_label, r->label[0]);
    r->next = t->by_label.keys[s] ? t->by_label.vals[s] : -1;
    t->by_label.keys[s] = r->label[0];
    t->by_label.vals[s] = (int32_t)t->n_rules;
    t->n_rules++;
    return ORX_OK;
}

static orx_status add_member(orx_label_ddi *t, char **f, orx_error *err) {
    lmember *m = &t->members[t->n_members];
    m->ingr = f[1]; m->role = f[2]; m->set_id = f[7]; m->section = f[9]; m->title = f[10]; m->quote = f[11];
    if (!strncmp(m->ingr, "class:", 6)) { /* a class named among an effect's examples */
        char *copy = strdup(m->ingr + 6);
        if (!copy) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
        t->keys[t->n_members + t->n_rules] = copy;
        leclass *e = &t->eclass[t->n_eclass++];
        memset(e, 0, sizeof *e);
        e->effect = m->role;
        e->row = m;
        for (char *p = copy, *bar; p && *p && e->n < ORX_MAX_INGR; p = bar) {
            bar = strchr(p, '|');
            if (bar) *bar++ = 0;
            e->cls[e->n++] = p;
        }
        t->n_members++;
        return ORX_OK;
    }
    size_t kl = strlen(m->ingr) + strlen(m->role) + 2;
    char *key = malloc(kl);
    if (!key) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    snprintf(key, kl, "%s\x1f%s", m->ingr, m->role + (strncmp(m->role, "role:", 5) ? 0 : 5));
    t->keys[t->n_members + t->n_rules] = key;
    size_t s = smap_slot(&t->by_member, key);
    m->next = -1;
    if (!t->by_member.keys[s]) {
        t->by_member.keys[s] = key;
        t->by_member.vals[s] = (int32_t)t->n_members;
    } else { /* keep table order: append to the chain */
        int32_t k = t->by_member.vals[s];
        while (t->members[k].next >= 0) k = t->members[k].next;
        t->members[k].next = (int32_t)t->n_members;
    }
    t->n_members++;
    return ORX_OK;
}

static orx_status parse(orx_label_ddi *t, const char *path, orx_error *err) {
    size_t lines = orx_str_count(t->text, '\n') + 1;
    t->rules = calloc(lines, sizeof *t->rules);
    t->members = calloc(lines, sizeof *t->members);
    t->keys = calloc(lines, sizeof *t->keys);
    t->cnodes = calloc(lines * ORX_MAX_INGR, sizeof *t->cnodes);
    t->eclass = calloc(lines, sizeof *t->eclass);
    if (!t->rules || !t->members || !t->keys || !t->cnodes || !t->eclass || !smap_init(&t->by_label, lines) ||
        !smap_init(&t->by_member, lines) || !smap_init(&t->by_class, lines * 2))
        return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    size_t line = 0;
    for (char *p = t->text, *row; (row = orx_tsv_next_line(&p, &line));) {
        if (!row[0] || row[0] == '#') continue;
        char *f[LDDI_FIELDS];
        int nf = orx_tsv_split(row, f, LDDI_FIELDS);
        if (nf != LDDI_FIELDS)
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected %d tab-separated fields, found %d", path,
                            line, LDDI_FIELDS, nf);
        for (int k = 0; k < LDDI_FIELDS; k++) unescape(f[k]);
        orx_status st;
        if (!strcmp(f[0], "rule")) st = add_rule(t, f, path, line, err);
        else if (!strcmp(f[0], "member")) st = add_member(t, f, err);
        else st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown row kind '%s'", path, line, f[0]);
        if (st) return st;
    }
    return ORX_OK;
}

static int eclass_cmp(const void *a, const void *b) {
    const leclass *x = a, *y = b;
    int c = strcmp(x->effect, y->effect);
    return c ? c : (x->row < y->row ? -1 : x->row > y->row);
}

/* Group the effect example classes by effect, each class name once. */
static orx_status group_effects(orx_label_ddi *t, orx_error *err) {
    if (!t->n_eclass) return ORX_OK;
    qsort(t->eclass, t->n_eclass, sizeof *t->eclass, eclass_cmp);
    t->egroups = calloc(t->n_eclass, sizeof *t->egroups);
    if (!t->egroups) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    for (size_t i = 0; i < t->n_eclass; i++) {
        const leclass *e = &t->eclass[i];
        legroup *g = t->n_egroups ? &t->egroups[t->n_egroups - 1] : NULL;
        if (!g || strcmp(g->effect, e->effect)) {
            g = &t->egroups[t->n_egroups++];
            snprintf(g->effect, sizeof g->effect, "%s", e->effect);
            g->first = i;
        }
        g->count++;
        for (int k = 0; k < e->n; k++) {
            bool dup = false;
            for (int q = 0; q < g->n && !dup; q++) dup = !strcmp(g->cls[q], e->cls[k]);
            if (dup || g->n == 128) continue;
            g->cls[g->n] = e->cls[k];
            g->row[g->n++] = e->row;
        }
    }
    return ORX_OK;
}

static const legroup *effect_group(const orx_label_ddi *t, const char *comp) {
    for (size_t i = 0; i < t->n_egroups; i++)
        if (!strcmp(t->egroups[i].effect, comp)) return &t->egroups[i];
    return NULL;
}

orx_status orx_label_ddi_load(const char *path, orx_label_ddi **out, orx_error *err) {
    *out = NULL;
    orx_label_ddi *t = calloc(1, sizeof *t);
    if (!t) return orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    size_t len = 0;
    orx_status st = orx_read_file(path, LDDI_MAX_BYTES, &t->text, &len, err);
    if (st == ORX_OK && strncmp(t->text, "#openrx-label-ddi\t", 18) != 0)
        st = orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx label interaction table (missing header)", path);
    if (st == ORX_OK) st = parse(t, path, err);
    if (st == ORX_OK) st = group_effects(t, err);
    if (st) {
        orx_label_ddi_free(t);
        return st;
    }
    *out = t;
    return ORX_OK;
}

/* ============================================================================================
 * Effect roles: the classes that are an effect, and the effects' names
 * ========================================================================================== */
static unsigned type_bits(const char *w) {
    unsigned b = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", w);
    for (char *p = buf, *bar; p && *p; p = bar) {
        bar = strchr(p, '|');
        if (bar) *bar++ = 0;
        b |= !strcmp(p, "EPC") ? ORX_CLASS_EPC : !strcmp(p, "PE") ? ORX_CLASS_PE : !strcmp(p, "MoA") ? ORX_CLASS_MOA
           : !strcmp(p, "PA") ? ORX_CLASS_PA : !strcmp(p, "ONC") ? ORX_CLASS_ONC : !strcmp(p, "CS") ? ORX_CLASS_CS : 0;
    }
    return b;
}

orx_status orx_label_ddi_load_effects(orx_label_ddi *t, const char *path, orx_error *err) {
    char *text = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, 1u << 20, &text, &len, err);
    if (st) return st;
    if (strncmp(text, "#openrx-effect-roles\t", 21) != 0) {
        free(text);
        return orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx effect-role table (missing header)", path);
    }
    size_t lines = orx_str_count(text, '\n') + 1;
    free(t->emap);
    free(t->enames);
    t->n_emap = t->n_enames = 0;
    t->emap = calloc(lines, sizeof *t->emap);
    t->enames = calloc(lines, sizeof *t->enames);
    if (!t->emap || !t->enames) st = orx_fail(err, ORX_ERR_NOMEM, "label rules: out of memory");
    size_t line = 0;
    for (char *p = text, *row; !st && (row = orx_tsv_next_line(&p, &line));) {
        if (!row[0] || row[0] == '#') continue;
        char *f[5] = {0};
        int nf = orx_tsv_split(row, f, 5);
        if (!strcmp(f[0], "effect") && nf >= 3) {
            snprintf(t->enames[t->n_enames].key, sizeof t->enames[0].key, "%s", f[1]);
            snprintf(t->enames[t->n_enames++].name, sizeof t->enames[0].name, "%s", f[2]);
        } else if (!strcmp(f[0], "class")) {
            if (nf < 5 || !type_bits(f[3]))
                st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected 'class<TAB>effect<TAB>class<TAB>kinds<TAB>why'", path, line);
            else {
                lemap *e = &t->emap[t->n_emap++];
                snprintf(e->effect, sizeof e->effect, "%s", f[1]);
                snprintf(e->cls, sizeof e->cls, "%s", f[2]);
                e->types = type_bits(f[3]);
            }
        }
    }
    free(text);
    return st;
}

static const char *effect_name(const orx_label_ddi *t, const char *key) {
    for (size_t i = 0; i < t->n_enames; i++)
        if (!strcmp(t->enames[i].key, key)) return t->enames[i].name;
    return key;
}

/* ============================================================================================
 * Per-pair class cache
 * ========================================================================================== */
#define LDDI_ICLS 96 /* classes of one partner ingredient kept for matching */

/* The classes of one ingredient (names as the lexicon normalises them, with their kinds),
 * looked up once per pair instead of once per rule. */
typedef struct icls {
    const char *ingr;                         /* the ingredient */
    char        names[LDDI_ICLS][ORX_LEX_NAME]; /* its classes */
    unsigned    types[LDDI_ICLS];             /* ORX_CLASS_* bits of each */
    int         n;                            /* count */
} icls;

static void icls_fill(icls *c, const orx_lexicon *L, const char *ingr) {
    c->ingr = ingr;
    c->n = orx_lexicon_classes(L, ingr, c->names, LDDI_ICLS);
    if (c->n > LDDI_ICLS) c->n = LDDI_ICLS;
    for (int i = 0; i < c->n; i++) c->types[i] = orx_lexicon_class_types(L, ingr, c->names[i]);
}

/* Kinds of the ingredient's membership in class name (0 = not a member). The rule's class
 * names are written as the lexicon normalises them (lower case, no trailing plural 's'). */
static unsigned icls_types(const icls *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->names[i], name)) return c->types[i];
    return 0;
}

/* ============================================================================================
 * Role membership
 * ========================================================================================== */
/* Lexicon classes that state an ungraded role: DrugCentral FDA MoA names and the ONC lists' CYP
 * columns. "cyp3a4" also covers DrugCentral's "Cytochrome P450 3A Inhibitors". */
static bool role_by_class(const orx_lexicon *L, const icls *yc, const char *enz, const char *noun,
                          const char *grade, char *how, size_t cap) {
    const char *ingr = yc->ingr;
    char names[6][96];
    int n = 0;
    if (!strncmp(enz, "cyp", 3) && strcmp(noun, "substrate")) {
        snprintf(names[n++], 96, "cytochrome p450 %s %s", enz + 3, noun);
        if (!strcmp(enz, "cyp3a4")) snprintf(names[n++], 96, "cytochrome p450 3a %s", noun);
    }
    if (!strcmp(enz, "pgp") && strcmp(noun, "substrate")) snprintf(names[n++], 96, "p-glycoprotein %s", noun);
    if (!strcmp(enz, "bcrp") && !strcmp(noun, "inhibitor")) snprintf(names[n++], 96, "breast cancer resistance protein inhibitor");
    if (!strcmp(enz, "cyp3a4") && !strcmp(noun, "inducer")) snprintf(names[n++], 96, "strong cyp3a4 inducer");
    if (!strcmp(enz, "cyp1a2") && !strcmp(noun, "inhibitor")) snprintf(names[n++], 96, "cyp 1a2 inhibitor");
    for (int i = 0; i < n; i++) {
        bool graded_onc = strstr(names[i], "strong ") != NULL;
        if (grade[0] && !(graded_onc && !strcmp(grade, "strong"))) continue;
        if (!icls_types(yc, names[i])) continue;
        const char *src = orx_lexicon_class_source(L, ingr, names[i]);
        if (src) {
            snprintf(how, cap, "%s is listed as '%s' (%s)", ingr, names[i], src);
            return true;
        }
    }
    if (!strcmp(enz, "cyp3a4") && !strcmp(noun, "inhibitor") && !grade[0]) {
        static const char *const ONC[] = {"cyp3a4 inhibitors / azole", "cyp3a4 inhibitors / macrolide",
                                          "cyp3a4 inhibitors / protease inhibitor", "cyp3a4 inhibitors / indinavir", NULL};
        for (int i = 0; ONC[i]; i++) {
            if (!icls_types(yc, ONC[i])) continue;
            const char *src = orx_lexicon_class_source(L, ingr, ONC[i]);
            if (src) { snprintf(how, cap, "%s is listed under '%s' (%s)", ingr, ONC[i], src); return true; }
        }
    }
    return false;
}

static const lmember *member_row(const orx_label_ddi *t, const char *ingr, const char *comp) {
    char key[256];
    snprintf(key, sizeof key, "%s\x1f%s", ingr, comp);
    int32_t i = smap_get(&t->by_member, key);
    return i >= 0 ? &t->members[i] : NULL;
}

/* Is ingr a member of one role component "enz:noun[:grade]"? A graded component needs a
 * member row of that grade (or an ONC "strong" column); an ungraded one accepts any grade. */
static bool component_member(const orx_label_ddi *t, const orx_lexicon *L, const icls *yc,
                             const char *comp, char *how, size_t cap) {
    const char *ingr = yc->ingr;
    char enz[32] = "", noun[16] = "", grade[16] = "";
    sscanf(comp, "%31[^:]:%15[^:]:%15s", enz, noun, grade);
    const lmember *m = member_row(t, ingr, comp);
    if (!m && !grade[0]) {
        static const char *const G[] = {"strong", "moderate", "weak", NULL};
        for (int i = 0; G[i] && !m; i++) {
            char c2[96];
            snprintf(c2, sizeof c2, "%s:%s:%s", enz, noun, G[i]);
            m = member_row(t, ingr, c2);
        }
    }
    if (m) {
        snprintf(how, cap, "%s is named as a %s%s%s %s in the %s label (set id %s, %s): \"%.120s%s\"",
                 ingr, grade[0] ? grade : "", grade[0] ? " " : "", enz, noun, m->title, m->set_id,
                 m->section, m->quote, strlen(m->quote) > 120 ? "..." : "");
        return true;
    }
    return role_by_class(L, yc, enz, noun, grade, how, cap);
}

/* Is ingredient yc a member of effect role key (without "effect:")? From a label: the member
 * rows (a sentence's examples, the drug's own statement) and the classes a sentence names among
 * the examples; from the class rows of effect_roles.tsv. A membership only through a MeSH PA
 * umbrella sets *umbrella (tier at most moderate). */
static bool same_sentence(const lrule *r, const lmember *m) {
    return r && !strcmp(r->set_id, m->set_id) && !strcmp(r->quote, m->quote);
}

static bool effect_member(const orx_label_ddi *t, const orx_lexicon *L, const icls *yc, const char *key,
                          const lrule *r, char *how, size_t cap, bool *umbrella, bool *named) {
    const char *ingr = yc->ingr;
    const char *name = effect_name(t, key);
    char comp[64];
    snprintf(comp, sizeof comp, "effect:%s", key);
    const lmember *m = member_row(t, ingr, comp);
    for (const lmember *k = m; k && r; k = k->next >= 0 ? &t->members[k->next] : NULL)
        if (same_sentence(r, k)) { m = k; break; } /* the rule's own sentence first */
    if (m) {
        snprintf(how, cap, "%s is named for %s in the %s label (set id %s, %s): \"%.120s%s\"", ingr, name, m->title,
                 m->set_id, m->section, m->quote, strlen(m->quote) > 120 ? "..." : "");
        *named = same_sentence(r, m);
        if (*named) return true;
    }
    /* a class the rule's own sentence names among the examples */
    const legroup *g = effect_group(t, comp);
    for (size_t i = g ? g->first : 0; g && r && i < g->first + g->count; i++) {
        const leclass *e = &t->eclass[i];
        if (!same_sentence(r, e->row)) continue;
        int best = -1; /* a therapeutic / FDA class before a MeSH umbrella */
        for (int k = 0; k < e->n; k++) {
            unsigned ty = icls_types(yc, e->cls[k]);
            if (ty && (best < 0 || (ty & ~ORX_CLASS_PA))) best = k;
            if (ty & ~ORX_CLASS_PA) break;
        }
        if (best < 0) continue;
        snprintf(how, cap, "%s is in class '%s' (%s), which the sentence names among %s", ingr, e->cls[best],
                 orx_lexicon_class_source(L, ingr, e->cls[best]), name);
        *named = true;
        *umbrella = (icls_types(yc, e->cls[best]) & ~ORX_CLASS_PA) == 0; /* a MeSH umbrella only */
        return true;
    }
    if (m) return true;
    for (int pass = 0; pass < 2; pass++) { /* full memberships first, MeSH umbrella ones second */
        for (int k = 0; g && k < g->n; k++) {
            unsigned ty = icls_types(yc, g->cls[k]);
            if (!ty || (pass == 0) != ((ty & ~ORX_CLASS_PA) != 0)) continue;
            const lmember *row = g->row[k];
            snprintf(how, cap, "%s is in class '%s' (%s), which the %s label (set id %s) names among %s: \"%.100s%s\"",
                     ingr, g->cls[k], orx_lexicon_class_source(L, ingr, g->cls[k]), row->title, row->set_id, name,
                     row->quote, strlen(row->quote) > 100 ? "..." : "");
            *umbrella = pass == 1;
            *named = false;
            return true;
        }
        for (size_t i = 0; i < t->n_emap; i++) {
            const lemap *e = &t->emap[i];
            if (strcmp(e->effect, key)) continue;
            unsigned ty = icls_types(yc, e->cls) & e->types;
            if (!ty || (pass == 0) != ((ty & ~ORX_CLASS_PA) != 0)) continue;
            snprintf(how, cap, "%s is in class '%s' (%s), a class that is %s (data/interactions/effect_roles.tsv)", ingr,
                     e->cls, orx_lexicon_class_source_typed(L, ingr, e->cls, pass ? ORX_CLASS_PA : ty & ~ORX_CLASS_PA), name);
            *umbrella = pass == 1;
            return true;
        }
    }
    return false;
}

bool orx_label_ddi_effect_member(const orx_label_ddi *t, const orx_lexicon *L, const char *ingr, const char *key,
                                 bool drugs_only, char *how, size_t cap, bool *umbrella) {
    if (!t || !ingr || !key) return false;
    if (!strncmp(key, "effect:", 7)) key += 7;
    if (drugs_only) { /* a label names the drug itself: an example or its own statement */
        char comp[64];
        snprintf(comp, sizeof comp, "effect:%s", key);
        const lmember *m = member_row(t, ingr, comp);
        if (!m) return false;
        snprintf(how, cap, "%s is named for %s in the %s label (set id %s, %s): \"%.120s%s\"", ingr,
                 effect_name(t, key), m->title, m->set_id, m->section, m->quote, strlen(m->quote) > 120 ? "..." : "");
        if (umbrella) *umbrella = false;
        return true;
    }
    icls *c = malloc(sizeof *c);
    if (!c) return false;
    icls_fill(c, L, ingr);
    bool u = false, named = false;
    bool yes = effect_member(t, L, c, key, NULL, how, cap, &u, &named);
    free(c);
    if (umbrella) *umbrella = u;
    return yes;
}

const char *orx_label_ddi_effect_name(const orx_label_ddi *t, const char *key) {
    if (!strncmp(key, "effect:", 7)) key += 7;
    return t ? effect_name(t, key) : key;
}

/* ============================================================================================
 * Matching
 * ========================================================================================== */

/* A MeSH Pharmacological Action whose name is that of an FDA class with a narrower meaning in
 * label text: label wording "protease inhibitors" / "HIV protease inhibitors" means the FDA EPC
 * "Protease Inhibitor" (HIV and HCV protease inhibitors), while MeSH PA D011480 "Protease
 * Inhibitors" spans every peptidase inhibitor (ACE inhibitors such as lisinopril, gliptins,
 * dabigatran). Its rows are no membership of the label's class. */
static bool pa_homonym(const char *cls) {
    static const char *const H[] = {"protease inhibitor", NULL};
    return orx_str_in(cls, H);
}

/* Does one other-side term ("class:a|b", "role:c1+c2") hold for ingredient y? *umbrella is
 * set when y is in the class only through a MeSH Pharmacological Action umbrella class. */
static bool term_matches(const orx_label_ddi *t, const orx_lexicon *L, const lrule *r, const char *term,
                         const icls *yc, char *how, size_t cap, bool *umbrella, bool *named) {
    const char *y = yc->ingr;
    if (!strncmp(term, "not:", 4)) { /* "anticoagulants other than warfarin" */
        how[0] = 0;
        return strcmp(term + 4, y) != 0;
    }
    if (!strncmp(term, "effect:", 7)) return effect_member(t, L, yc, term + 7, r, how, cap, umbrella, named);
    if (!strncmp(term, "class:", 6)) {
        *named = true; /* the class is written in the sentence */
        const char *pa = NULL, *pa_name = NULL;
        char names[256];
        snprintf(names, sizeof names, "%s", term + 6);
        for (char *p = names, *bar; p; p = bar) {
            bar = strchr(p, '|');
            if (bar) *bar++ = 0;
            unsigned ty = icls_types(yc, p);
            if (ty & ~ORX_CLASS_PA) {
                snprintf(how, cap, "%s is in class '%s' (%s)", y, p,
                         orx_lexicon_class_source_typed(L, y, p, ORX_CLASS_ANY & ~ORX_CLASS_PA));
                return true;
            }
            if (!pa && (ty & ORX_CLASS_PA) && !pa_homonym(p)) {
                pa = orx_lexicon_class_source_typed(L, y, p, ORX_CLASS_PA);
                pa_name = p;
            }
        }
        if (!pa) return false;
        snprintf(how, cap, "%s is in class '%s' (%s; a broad MeSH class: tier at most moderate)", y, pa_name, pa);
        *umbrella = true;
        return true;
    }
    char comps[256];
    snprintf(comps, sizeof comps, "%s", term + 5);
    size_t o = 0;
    for (char *c = comps, *plus; c; c = plus) {
        plus = strchr(c, '+');
        if (plus) *plus++ = 0;
        char one[300];
        if (!component_member(t, L, yc, c, one, sizeof one)) return false;
        int w = snprintf(how + o, o < cap ? cap - o : 0, "%s%s", o ? "; " : "", one);
        if (w > 0) o += (size_t)w;
    }
    return true;
}

/* Does the rule's other side name ingredient y? Fills how. Terms joined by '&' must all hold
 * ("HMG-CoA reductase inhibitors that are CYP3A4 substrates"). */
static bool other_matches(const orx_label_ddi *t, const orx_lexicon *L, const lrule *r, const icls *yc,
                          char *how, size_t cap, bool *umbrella, bool *named) {
    const char *y = yc->ingr;
    if (strncmp(r->other, "class:", 6) && strncmp(r->other, "role:", 5) && strncmp(r->other, "examples:", 9) &&
        strncmp(r->other, "effect:", 7)) {
        if (strcmp(r->other, y)) return false;
        snprintf(how, cap, "named in the sentence");
        *named = true;
        return true;
    }
    if (orx_list_has(r->examples, ';', y)) {
        snprintf(how, cap, "named in the sentence as an example of %s", r->other_text);
        *named = true;
        return true;
    }
    if (!strncmp(r->other, "examples:", 9)) return false; /* reaches its examples only */
    char terms[256];
    snprintf(terms, sizeof terms, "%s", r->other);
    size_t o = 0;
    for (char *p = terms, *amp; p; p = amp) {
        amp = strchr(p, '&');
        if (amp) *amp++ = 0;
        char one[400];
        bool nm = false;
        if (!term_matches(t, L, r, p, yc, one, sizeof one, umbrella, &nm)) return false;
        if (p == terms) *named = nm; /* the first term names the partner; the others restrict it */
        if (!one[0]) continue;
        int w = snprintf(how + o, o < cap ? cap - o : 0, "%s%s", o ? "; and " : "", one);
        if (w > 0) o += (size_t)w;
    }
    return true;
}

static bool label_applies(const lrule *r, const orx_ddi_side *s) {
    for (int i = 0; i < r->n_label; i++) {
        bool found = false;
        for (int j = 0; j < s->n && !found; j++) found = !strcmp(r->label[i], s->ingr[j]);
        if (!found) return false;
    }
    /* a topical product is matched only by rules of labels of topical forms */
    return !s->topical || r->topical_label;
}

static bool mentions_topical(const lrule *r) {
    return strstr(r->quote, "topical") || strstr(r->quote, "Topical") || strstr(r->context, "topical");
}

/* One rule against the partner side; label_ingr: the label side's ingredient it applies to. */
static int match_rule(const orx_label_ddi *t, const orx_lexicon *L, const lrule *r, const char *label_ingr,
                      const orx_ddi_side *partner, const icls *pc, int from, orx_label_hit *out, int cap,
                      int n) {
    if (partner->topical && !mentions_topical(r)) return n; /* systemic statements */
    for (int j = 0; j < partner->n; j++) {
        char how[400];
        bool umbrella = false, named = false;
        if (!strcmp(partner->ingr[j], label_ingr) ||
            !other_matches(t, L, r, &pc[j], how, sizeof how, &umbrella, &named))
            continue;
        if (n < cap && out) {
            orx_label_hit *h = &out[n];
            memset(h, 0, sizeof *h);
            /* membership only through a broad MeSH umbrella class, or a "substrate of X" role the
             * sentence does not illustrate with this drug: at most moderate */
            bool broad = umbrella || (strstr(r->other, ":substrate") && !orx_list_has(r->examples, ';', partner->ingr[j]));
            /* an effect-only statement raised by its section (Boxed Warning, Contraindications)
             * raises what the sentence itself names; a drug it reaches through a membership
             * another sentence gives keeps the effect's own tier: at most moderate */
            broad |= !named && !strcmp(r->action, "effect");
            h->tier = broad && r->tier > ORX_SEV_MODERATE ? ORX_SEV_MODERATE : r->tier;
            h->from = from;
            snprintf(h->label_drug, sizeof h->label_drug, "%s", r->label_joined);
            snprintf(h->label_ingr, sizeof h->label_ingr, "%s", label_ingr);
            h->class_label = r->class_label;
            snprintf(h->partner, sizeof h->partner, "%s", partner->ingr[j]);
            snprintf(h->other_text, sizeof h->other_text, "%s", r->other_text);
            snprintf(h->how, sizeof h->how, "%s", how);
            snprintf(h->action, sizeof h->action, "%s", r->action);
            snprintf(h->set_id, sizeof h->set_id, "%s", r->set_id);
            snprintf(h->section, sizeof h->section, "%s", r->section);
            snprintf(h->code, sizeof h->code, "%s", r->code);
            snprintf(h->title, sizeof h->title, "%s", r->title);
            h->quote = r->quote;
            h->context = r->context;
            h->group = r->group;
            h->class_rule = strncmp(r->other, "class:", 6) == 0 || strncmp(r->other, "role:", 5) == 0 ||
                            strncmp(r->other, "examples:", 9) == 0 || strncmp(r->other, "effect:", 7) == 0;
            if (!strncmp(r->other, "class:", 6))
                snprintf(h->class_key, sizeof h->class_key, "%.*s", (int)strcspn(r->other + 6, "&"), r->other + 6);
        }
        return n + 1; /* one hit per rule */
    }
    return n;
}


static int match_dir(const orx_label_ddi *t, const orx_lexicon *L, const orx_ddi_side *label_side,
                     const icls *lc, const orx_ddi_side *partner, const icls *pc, int from,
                     orx_label_hit *out, int cap, int n) {
    for (int i = 0; i < label_side->n; i++) {
        const char *li = label_side->ingr[i];
        for (int32_t k = smap_get(&t->by_label, li); k >= 0; k = t->rules[k].next)
            if (label_applies(&t->rules[k], label_side))
                n = match_rule(t, L, &t->rules[k], li, partner, pc, from, out, cap, n);
        /* class-level rules of the ingredient's classes (each rule once per ingredient) */
        const icls *mine = &lc[i];
        int nc = mine->n;
        int32_t seen[256];
        int ns = 0;
        for (int c = 0; c < nc; c++)
            for (int32_t nd = smap_get(&t->by_class, mine->names[c]); nd >= 0; nd = t->cnodes[nd].next) {
                int32_t k = t->cnodes[nd].rule;
                bool dup = false;
                for (int q = 0; q < ns && !dup; q++) dup = seen[q] == k;
                if (dup) continue;
                if (ns < 256) seen[ns++] = k;
                if (label_side->topical && !t->rules[k].topical_label) continue;
                n = match_rule(t, L, &t->rules[k], li, partner, pc, from, out, cap, n);
            }
    }
    return n;
}

int orx_label_ddi_match(const orx_label_ddi *t, const orx_lexicon *lex, const orx_ddi_side *a,
                        const orx_ddi_side *b, orx_label_hit *out, int cap) {
    if (!t || !a || !b) return 0;
    icls *ca = malloc((size_t)(a->n + b->n + 1) * sizeof *ca);
    if (!ca) return 0;
    icls *cb = ca + a->n;
    for (int i = 0; i < a->n; i++) icls_fill(&ca[i], lex, a->ingr[i]);
    for (int i = 0; i < b->n; i++) icls_fill(&cb[i], lex, b->ingr[i]);
    int n = match_dir(t, lex, a, ca, b, cb, 0, out, cap, 0);
    n = match_dir(t, lex, b, cb, a, ca, 1, out, cap, n);
    free(ca);
    return n;
}
