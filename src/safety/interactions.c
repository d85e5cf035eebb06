/*
 * interactions.c — drug–drug interactions: the proposed drug's ingredients against every other
 * drug of the regimen (drug->others), from data/interactions/interactions.tsv (ONC high-priority
 * and non-interruptive lists, VA NDF-RT pairs, HL7 PDDI-CDS IG rules; tiers mapped in
 * data/interactions/SOURCE.md). A side written "class:NAME" is a class rule: it matches an
 * ingredient the lexicon lists in that class (sourced membership only).
 */
#include "safety/safety.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DDI_MAX_BYTES (32u * 1024u * 1024u) /* refuse a larger table (bytes) */
#define DDI_MAX_HITS 16                     /* rules reported per ingredient pair */

/* ============================================================================================
 * Table
 * ========================================================================================== */
typedef struct ddi_rule {
    const char  *a, *b;           /* ingredient or "class:NAME" */
    orx_severity tier;            /* mapped tier */
    bool         interruptive;    /* from the source */
    const char  *source;          /* source name */
    const char  *source_sev;      /* the source's own severity word */
    const char  *citation;        /* row / URI */
    const char  *description;     /* source text, may be "" */
    const char  *management;      /* source management text, may be "" */
    const char  *condition;       /* "", "topical:X", "not-topical:X" */
    int32_t      next;            /* next rule with the same pair key, -1 = end */
} ddi_rule;

typedef struct ddi_state {
    char     *text;               /* the file, split in place */
    ddi_rule *rules;  size_t n;   /* all rules */
    int32_t  *class_rules; size_t n_class; /* indices of rules with a class side */
    char    **keys;   int32_t *heads; size_t cap; /* pair key -> first rule (open addressing) */
} ddi_state;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void pair_key(const char *a, const char *b, char *out, size_t cap) {
    if (strcmp(a, b) > 0) { const char *t = a; a = b; b = t; }
    orx_fset(out, cap, "%s\x1f%s", a, b);
}

static int32_t *slot_for(ddi_state *s, const char *key, bool create) {
    size_t i = hash_str(key) & (s->cap - 1);
    while (s->keys[i]) {
        if (strcmp(s->keys[i], key) == 0) return &s->heads[i];
        i = (i + 1) & (s->cap - 1);
    }
    if (!create) return NULL;
    s->keys[i] = orx_strdup(key);
    if (!s->keys[i]) return NULL;
    s->heads[i] = -1;
    return &s->heads[i];
}

static bool tier_parse(const char *w, orx_severity *out) { return orx_severity_parse(w, out); }

void orx_check_interaction_fini(void *state) {
    ddi_state *s = state;
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++) free(s->keys ? s->keys[i] : NULL);
    free(s->keys);
    free(s->heads);
    free(s->rules);
    free(s->class_rules);
    free(s->text);
    free(s);
}

static char *field(char **p) {
    char *s = *p;
    if (!s) return NULL;
    char *t = strchr(s, '\t');
    if (t) { *t = 0; *p = t + 1; } else { *p = NULL; }
    return s;
}

static orx_status parse_rules(ddi_state *s, const char *path, orx_error *err) {
    size_t lines = 1;
    for (char *p = s->text; *p; p++) lines += *p == '\n';
    s->rules = calloc(lines, sizeof *s->rules);
    s->class_rules = calloc(lines, sizeof *s->class_rules);
    s->cap = 16;
    while (s->cap < lines * 2) s->cap <<= 1;
    s->keys = calloc(s->cap, sizeof *s->keys);
    s->heads = calloc(s->cap, sizeof *s->heads);
    if (!s->rules || !s->class_rules || !s->keys || !s->heads)
        return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    size_t line = 0;
    for (char *p = s->text; p && *p;) {
        line++;
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *row = p;
        p = nl ? nl + 1 : NULL;
        if (row[0] == '#' || row[0] == 0) continue;
        char *f[10];
        char *cur = row;
        for (int i = 0; i < 10; i++) f[i] = field(&cur);
        if (!f[9]) return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected 10 tab-separated fields", path, line);
        ddi_rule *r = &s->rules[s->n];
        r->a = f[0]; r->b = f[1];
        if (!tier_parse(f[2], &r->tier))
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown tier '%s'", path, line, f[2]);
        r->interruptive = strcmp(f[3], "1") == 0;
        r->source = f[4]; r->source_sev = f[5]; r->citation = f[6];
        r->description = f[7]; r->management = f[8]; r->condition = f[9];
        bool cls = !strncmp(r->a, "class:", 6) || !strncmp(r->b, "class:", 6);
        if (cls) {
            s->class_rules[s->n_class++] = (int32_t)s->n;
        } else {
            char key[256];
            pair_key(r->a, r->b, key, sizeof key);
            int32_t *head = slot_for(s, key, true);
            if (!head) return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
            bool dup = false; /* same pair, source and tier listed twice (both drug orders) */
            for (int32_t k = *head; k >= 0 && !dup; k = s->rules[k].next)
                dup = s->rules[k].tier == r->tier && !strcmp(s->rules[k].source, r->source);
            if (dup) continue;
            r->next = *head;
            *head = (int32_t)s->n;
        }
        s->n++;
    }
    return ORX_OK;
}

orx_status orx_check_interaction_init(const orx_checker *ck, void **state, orx_error *err) {
    *state = NULL;
    char path[4200];
    orx_fset(path, sizeof path, "%s/interactions/interactions.tsv", orx_checker_data_dir(ck));
    ddi_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    size_t len;
    orx_status st = orx_read_file(path, DDI_MAX_BYTES, &s->text, &len, err);
    if (st == ORX_OK && strncmp(s->text, "#openrx-interactions\t", 21) != 0)
        st = orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx interaction table (missing header)", path);
    if (st == ORX_OK) st = parse_rules(s, path, err);
    if (st) {
        orx_check_interaction_fini(s);
        return st;
    }
    *state = s;
    return ORX_OK;
}

/* ============================================================================================
 * Matching
 * ========================================================================================== */
typedef struct side {
    const char *ingr;   /* ingredient */
    bool        topical;/* the drug is given topically */
} side;

static bool side_matches(const orx_lexicon *L, const char *rule_side, const char *ingr) {
    if (!strncmp(rule_side, "class:", 6)) return orx_lexicon_in_class(L, ingr, rule_side + 6);
    return strcmp(rule_side, ingr) == 0;
}

/* condition "topical:X" holds when the drug that is X is topical; "not-topical:X" otherwise */
static bool condition_holds(const ddi_rule *r, const side *x, const side *y) {
    const char *c = r->condition;
    if (!c[0]) return true;
    bool neg = !strncmp(c, "not-", 4);
    if (neg) c += 4;
    if (strncmp(c, "topical:", 8) != 0) return false; /* unknown condition: rule does not apply */
    const char *drug = c + 8;
    bool topical = (!strcmp(x->ingr, drug) && x->topical) || (!strcmp(y->ingr, drug) && y->topical);
    return neg ? !topical : topical;
}

static int find_rules(const ddi_state *s, const orx_lexicon *L, const side *x, const side *y,
                      const ddi_rule **hits, int cap) {
    int n = 0;
    char key[256];
    pair_key(x->ingr, y->ingr, key, sizeof key);
    int32_t *head = slot_for((ddi_state *)s, key, false);
    for (int32_t k = head ? *head : -1; k >= 0 && n < cap; k = s->rules[k].next)
        if (condition_holds(&s->rules[k], x, y)) hits[n++] = &s->rules[k];
    for (size_t i = 0; i < s->n_class && n < cap; i++) {
        const ddi_rule *r = &s->rules[s->class_rules[i]];
        bool fwd = side_matches(L, r->a, x->ingr) && side_matches(L, r->b, y->ingr);
        bool rev = side_matches(L, r->a, y->ingr) && side_matches(L, r->b, x->ingr);
        if ((fwd || rev) && condition_holds(r, x, y)) hits[n++] = r;
    }
    return n;
}

static bool is_topical(const orx_proposed_drug *d) {
    if (!strcmp(d->dose.route, "topical") || !strcmp(d->dose.route, "transdermal")) return true;
    char t[256];
    orx_fset(t, sizeof t, "%s", d->text);
    orx_str_lower(t);
    return strstr(t, "topical") || strstr(t, " gel") || strstr(t, "cream") || strstr(t, "ointment") ||
           strstr(t, "transdermal");
}

int orx_interaction_lookup(const orx_checker *ck, const char *ingr_a, const char *ingr_b,
                           orx_ddi_hit *out, int cap) {
    const ddi_state *s = orx_checker_state(ck, "interaction");
    if (!s || !ingr_a || !ingr_b) return 0;
    side x = {ingr_a, false}, y = {ingr_b, false};
    const ddi_rule *hits[DDI_MAX_HITS];
    int n = find_rules(s, orx_checker_lexicon(ck), &x, &y, hits, DDI_MAX_HITS);
    for (int i = 0; i < n && i < cap && out; i++) {
        orx_ddi_hit *h = &out[i];
        memset(h, 0, sizeof *h);
        h->severity = hits[i]->tier;
        h->interruptive = hits[i]->interruptive;
        orx_fset(h->source, sizeof h->source, "%s", hits[i]->source);
        orx_fset(h->citation, sizeof h->citation, "%s", hits[i]->citation);
        orx_fset(h->description, sizeof h->description, "%s", hits[i]->description);
        orx_fset(h->rule, sizeof h->rule, "%s x %s", hits[i]->a, hits[i]->b);
    }
    return n;
}

/* ============================================================================================
 * The check
 * ========================================================================================== */
static orx_status emit(const ddi_rule *r, const orx_proposed_drug *d, const char *xi,
                       const orx_proposed_drug *o, const char *yi, orx_findings *out, orx_error *err) {
    orx_finding *f = orx_findings_push(out, "interaction", r->tier);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    f->interruptive = r->interruptive;
    orx_fset(f->drugs, sizeof f->drugs, "%s + %s", xi, yi);
    orx_fset(f->trigger, sizeof f->trigger, "%s: %s", o->is_current ? "active medicine" : "proposed drug",
             o->text);
    const char *cls = !strncmp(r->a, "class:", 6) ? r->a : !strncmp(r->b, "class:", 6) ? r->b : NULL;
    if (r->description[0])
        orx_fset(f->message, sizeof f->message, "%s", r->description);
    else
        orx_fset(f->message, sizeof f->message, "%s and %s are listed as an interacting pair (%s: %s).",
                 xi, yi, r->source, r->source_sev);
    if (cls) {
        size_t l = strlen(f->message);
        orx_fset(f->message + l, sizeof f->message - l, " [class rule: %s]", cls + 6);
    }
    orx_fset(f->management, sizeof f->management, "%s", r->management);
    orx_fset(f->source, sizeof f->source, "%s (%s)", r->source, r->source_sev);
    orx_fset(f->citation, sizeof f->citation, "%s", r->citation);
    (void)d;
    return ORX_OK;
}

orx_status orx_check_interaction(const orx_checker *ck, const orx_patient *pt,
                                 const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const ddi_state *s = orx_checker_state(ck, "interaction");
    if (!s) return orx_fail(err, ORX_ERR_INTERNAL, "interactions: table not loaded");
    const orx_lexicon *L = orx_checker_lexicon(ck);
    bool dt = is_topical(drug);
    for (size_t k = 0; k < drug->n_others; k++) {
        const orx_proposed_drug *o = &drug->others[k];
        bool ot = is_topical(o);
        for (int i = 0; i < drug->n_ingr; i++) {
            for (int j = 0; j < o->n_ingr; j++) {
                side x = {drug->ingr[i].ingredient, dt}, y = {o->ingr[j].ingredient, ot};
                if (!strcmp(x.ingr, y.ingr)) continue; /* same ingredient: the duplicate check */
                const ddi_rule *hits[DDI_MAX_HITS];
                int n = find_rules(s, L, &x, &y, hits, DDI_MAX_HITS);
                for (int h = 0; h < n; h++) {
                    orx_status st = emit(hits[h], drug, x.ingr, o, y.ingr, out, err);
                    if (st) return st;
                }
            }
        }
    }
    (void)pt;
    return ORX_OK;
}
