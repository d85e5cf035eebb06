/*
 * interactions.c — drug–drug interactions: the proposed drug's ingredients against every other
 * drug of the regimen (drug->others), from data/interactions/interactions.tsv (ONC high-priority
 * and non-interruptive lists, VA NDF-RT pairs, HL7 PDDI-CDS IG rules; tiers mapped in
 * data/interactions/SOURCE.md). A side written "class:NAME" is a class rule: it matches an
 * ingredient the lexicon lists in that class (sourced membership only). Label-derived rules
 * (data/rules/label_ddi.tsv, label_ddi.c) are matched in both directions. All hits for one pair
 * of drugs become ONE finding: the highest tier (curated lists first on a tie), the other
 * sources listed in `also`; when both drugs share a therapeutic class the finding is a
 * duplicate-therapy finding with the tier the hit gives (high-alert duplicates: two
 * anticoagulants, ...). A label statement limited to a group of patients (with diabetes, with
 * impaired renal function) keeps its tier for a patient in the group or whose record cannot say,
 * and is kept as info, with the reason, for a patient the record places outside it.
 */
#include "safety/checks.h"
#include "safety/label_ddi.h"
#include "kb/kb.h"
#include "util/util.h"

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
    orx_label_ddi *labels;        /* label-derived rules (data/rules/label_ddi.tsv) */
    char     *text;               /* the file, split in place */
    ddi_rule *rules;  size_t n;   /* all rules */
    int32_t  *class_rules; size_t n_class; /* indices of rules with a class side */
    char    **keys;   int32_t *heads; size_t cap; /* pair key -> first rule (open addressing) */
} ddi_state;

static void pair_key(const char *a, const char *b, char *out, size_t cap) {
    if (strcmp(a, b) > 0) { const char *t = a; a = b; b = t; }
    orx_fset(out, cap, "%s\x1f%s", a, b);
}

static int32_t *slot_for(ddi_state *s, const char *key, bool create) {
    size_t i = orx_fnv1a_str(key) & (s->cap - 1);
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
    orx_label_ddi_free(s->labels);
    free(s);
}

static orx_status parse_rules(ddi_state *s, const char *path, orx_error *err) {
    size_t lines = orx_str_count(s->text, '\n') + 1;
    s->rules = calloc(lines, sizeof *s->rules);
    s->class_rules = calloc(lines, sizeof *s->class_rules);
    s->cap = 16;
    while (s->cap < lines * 2) s->cap <<= 1;
    s->keys = calloc(s->cap, sizeof *s->keys);
    s->heads = calloc(s->cap, sizeof *s->heads);
    if (!s->rules || !s->class_rules || !s->keys || !s->heads)
        return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    size_t line = 0;
    for (char *p = s->text, *row; (row = orx_tsv_next_line(&p, &line));) {
        if (row[0] == '#' || row[0] == 0) continue;
        char *f[10];
        if (orx_tsv_split(row, f, 10) < 10) return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected 10 tab-separated fields", path, line);
        ddi_rule *r = &s->rules[s->n];
        r->a = f[0]; r->b = f[1];
        if (!tier_parse(f[2], &r->tier))
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown tier '%s'", path, line, f[2]);
        r->interruptive = strcmp(f[3], "1") == 0;
        r->source = f[4]; r->source_sev = f[5]; r->citation = f[6];
        r->description = f[7]; r->management = f[8]; r->condition = f[9];
        bool cls = !strncmp(r->a, "class:", 6) || !strncmp(r->b, "class:", 6) || !strncmp(r->a, "effect:", 7) ||
                   !strncmp(r->b, "effect:", 7);
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
    if (st == ORX_OK) {
        orx_fset(path, sizeof path, "%s/rules/label_ddi.tsv", orx_checker_data_dir(ck));
        st = orx_label_ddi_load(path, &s->labels, err);
    }
    if (st == ORX_OK) {
        orx_fset(path, sizeof path, "%s/interactions/effect_roles.tsv", orx_checker_data_dir(ck));
        st = orx_label_ddi_load_effects(s->labels, path, err);
    }
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

/* A rule side against an ingredient: the ingredient itself, a class that lists it, or an effect
 * role it is a member of ("effect:qt": a label names the drug itself for the effect, label_ddi.c;
 * a curated list names drugs one by one, so a class-wide label membership does not extend it). */
static bool side_matches(const ddi_state *s, const orx_lexicon *L, const char *rule_side, const char *ingr) {
    if (!strncmp(rule_side, "class:", 6)) return orx_lexicon_in_class(L, ingr, rule_side + 6);
    if (!strncmp(rule_side, "effect:", 7)) {
        char how[8];
        bool umbrella = false;
        return orx_label_ddi_effect_member(s->labels, L, ingr, rule_side, true, how, sizeof how, &umbrella) && !umbrella;
    }
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
        bool fwd = side_matches(s, L, r->a, x->ingr) && side_matches(s, L, r->b, y->ingr);
        bool rev = !fwd && side_matches(s, L, r->a, y->ingr) && side_matches(s, L, r->b, x->ingr);
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
 * The check: every source's hits for one pair of drugs, grouped into one finding
 * ========================================================================================== */
typedef struct cand {
    orx_severity tier;          /* the hit's tier */
    bool         label;         /* a label-derived rule (else a list rule) */
    const ddi_rule *list;       /* list rule, or NULL */
    orx_label_hit   lab;        /* label hit (when label) */
    char         x[ORX_LEX_NAME], y[ORX_LEX_NAME]; /* the drug's and the partner's ingredient */
    char         how[640];      /* a list rule with effect sides: how each drug is a member */
    char         group[240];    /* a label statement limited to a patient group: whether this
                                   patient is in it and why, "" when the statement is not limited */
    bool         group_out;     /* the record places the patient outside the group (tier → info) */
    orx_severity label_tier;    /* the statement's own tier (before group_out) */
} cand;

/* Best first: higher tier; then curated lists before label rules; then a label rule that
 * names the partner before a class/role rule; then table order. */
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->tier != y->tier) return (int)y->tier - (int)x->tier;
    if (x->label != y->label) return x->label ? 1 : -1;
    if (x->label && x->lab.class_rule != y->lab.class_rule) return x->lab.class_rule ? 1 : -1;
    return 0;
}

static const char *action_words(const char *action) {
    if (!strcmp(action, "contraindicated")) return "says the combination is contraindicated";
    if (!strcmp(action, "discontinue")) return "says to discontinue one of them";
    if (!strcmp(action, "avoid")) return "says to avoid the combination (or that it is not recommended)";
    if (!strcmp(action, "dose")) return "says to adjust the dose";
    if (!strcmp(action, "monitor")) return "says to monitor or use caution";
    return "describes an effect of the combination";
}

/* A therapeutic class (FDA EPC, ONC list class) both ingredients are in — the rule's own class
 * first — or false. */
static bool shared_class(const orx_lexicon *L, const cand *c, char *cls, size_t cap) {
    if (c->label && c->lab.class_key[0]) {
        char names[160];
        orx_fset(names, sizeof names, "%s", c->lab.class_key);
        for (char *p = names, *bar; p; p = bar) {
            bar = strchr(p, '|');
            if (bar) *bar++ = 0;
            if (orx_class_is_therapeutic(L, c->x, p) && orx_class_is_therapeutic(L, c->y, p)) {
                orx_fset(cls, cap, "%s", p);
                return true;
            }
        }
    }
    char list[32][ORX_LEX_NAME];
    int n = orx_lexicon_classes_typed(L, c->x, ORX_CLASS_EPC | ORX_CLASS_ONC, list, 32);
    for (int k = 0; k < n && k < 32; k++)
        if (orx_class_is_therapeutic(L, c->x, list[k]) && orx_class_is_therapeutic(L, c->y, list[k])) {
            orx_fset(cls, cap, "%s", list[k]);
            return true;
        }
    return false;
}

static void describe_list(const cand *c, orx_finding *f) {
    const ddi_rule *r = c->list;
    f->interruptive = r->interruptive;
    if (r->description[0]) orx_fset(f->message, sizeof f->message, "%s", r->description);
    else orx_fset(f->message, sizeof f->message, "%s and %s are listed as an interacting pair (%s: %s).",
                  c->x, c->y, r->source, r->source_sev);
    const char *cls = !strncmp(r->a, "class:", 6) ? r->a : !strncmp(r->b, "class:", 6) ? r->b : NULL;
    if (cls) {
        size_t l = strlen(f->message);
        orx_fset(f->message + l, sizeof f->message - l, " [class rule: %s]", cls + 6);
    }
    if (c->how[0]) {
        size_t l = strlen(f->message);
        orx_fset(f->message + l, sizeof f->message - l, " [%s]", c->how);
    }
    orx_fset(f->management, sizeof f->management, "%s", r->management);
    orx_fset(f->source, sizeof f->source, "%s (%s)", r->source, r->source_sev);
    orx_fset(f->citation, sizeof f->citation, "%s", r->citation);
}

/* Label text for display: line breaks of hard-wrapped labels as spaces. */
static void flat(char *dst, size_t cap, const char *src) {
    orx_fset(dst, cap, "%s", src);
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

/* "ELIQUIS" from "ELIQUIS- apixaban tablet, film coated"; "Nexterone" from "Drug Label for drug
 * brand Nexterone, containing ..."; else the title. */
static void short_title(const char *title, char *out, size_t cap) {
    const char *pre = "Drug Label for drug brand ";
    if (!strncmp(title, pre, strlen(pre))) {
        const char *b = title + strlen(pre);
        orx_fset(out, cap, "%.*s", (int)strcspn(b, ","), b);
        return;
    }
    if (!strncmp(title, "These highlights", 16)) { /* a Highlights boilerplate line, not a name */
        orx_fset(out, cap, "FDA");
        return;
    }
    char brand[128], generic[128];
    orx_kb_parse_label_name(title, brand, sizeof brand, generic, sizeof generic);
    orx_fset(out, cap, "%s", brand[0] ? brand : title);
}

static void describe_label(const cand *c, orx_finding *f) {
    const orx_label_hit *h = &c->lab;
    f->interruptive = h->tier >= ORX_SEV_MAJOR;
    const char *label_ingr = h->from == 0 ? c->x : c->y;
    char name[128], scope[200] = "";
    short_title(h->title, name, sizeof name);
    if (h->class_label)
        orx_fset(scope, sizeof scope, " (a statement about its class, which lists %s: %s)", label_ingr,
                 h->label_drug + 6);
    char group[sizeof c->group + 48] = "";
    if (c->group[0]) /* a statement limited to a patient group: whether this patient is in it, first */
        orx_fset(group, sizeof group, "%s%s. ", c->group_out ? "Kept as information only: " : "", c->group);
    if (group[0] && !c->group_out) group[0] = (char)toupper((unsigned char)group[0]);
    orx_fset(f->message, sizeof f->message,
             "%sThe %s label%s (%s, %s) %s with %s: \"%s\" — %s.", group, h->class_label ? name : label_ingr, scope,
             name, h->section, action_words(h->action), h->partner, h->other_text, h->how);
    flat(f->management, sizeof f->management, h->context);
    flat(f->quote, sizeof f->quote, h->quote);
    orx_fset(f->source, sizeof f->source, "FDA drug label, %s's label (openrx label-derived rule: %s%s)",
             h->class_label ? name : label_ingr, h->class_label ? "class statement, " : "", h->action);
    orx_fset(f->citation, sizeof f->citation, "SPL set id %s, %s (LOINC %s); data/rules/label_ddi.tsv", h->set_id,
             h->section, h->code[0] ? h->code : "-");
}

/* "also: ..." — the other sources for the same pair, one short entry each: the curated lists
 * first, then the label statements (best first); "+N more" when the field is full. */
static void describe_also(const cand *c, int n, orx_finding *f) {
    size_t o = 0;
    int shown = 0, left = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 1; i < n; i++) {
            if (c[i].label != (pass == 1)) continue;
            char one[200];
            if (c[i].label)
                orx_fset(one, sizeof one, "%s's label %s [%s, %s] (%s)", c[i].lab.from == 0 ? c[i].x : c[i].y,
                         c[i].lab.set_id, c[i].lab.section, c[i].lab.action, orx_severity_name(c[i].tier));
            else
                orx_fset(one, sizeof one, "%s: %s (%s)", c[i].list->source, c[i].list->source_sev,
                         orx_severity_name(c[i].tier));
            bool dup = false; /* the same label section twice: one entry */
            for (int j = 1; j < i && !dup; j++)
                dup = c[j].label == c[i].label && c[j].tier == c[i].tier &&
                      (c[i].label ? !strcmp(c[j].lab.set_id, c[i].lab.set_id) && !strcmp(c[j].lab.section, c[i].lab.section)
                                  : c[j].list == c[i].list);
            if (dup) continue;
            if (left || o + strlen(one) + 24 >= sizeof f->also) { left++; continue; }
            o += (size_t)snprintf(f->also + o, sizeof f->also - o, "%s%s", shown++ ? "; " : "", one);
        }
    if (left) orx_fset(f->also + o, sizeof f->also - o, "; +%d more", left);
}

static orx_status emit_group(const orx_lexicon *L, cand *c, int n, const orx_proposed_drug *o,
                             orx_findings *out, orx_error *err) {
    qsort(c, (size_t)n, sizeof *c, cand_cmp);
    /* a curated rule written for this route (HL7 PDDI-CDS: topical diclofenac + warfarin, "no
     * special precautions") decides the pair; the other hits stay listed under `also` */
    for (int i = 1; i < n; i++)
        if (!c[i].label && c[i].list->condition[0] && (c[0].label || !c[0].list->condition[0])) {
            cand t = c[i];
            memmove(&c[1], &c[0], (size_t)i * sizeof *c);
            c[0] = t;
            break;
        }
    char cls[ORX_LEX_NAME];
    bool dup = c[0].tier >= ORX_SEV_MODERATE && shared_class(L, &c[0], cls, sizeof cls);
    orx_finding *f = orx_findings_push(out, dup ? "duplicate" : "interaction", c[0].tier);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    orx_fset(f->drugs, sizeof f->drugs, "%s + %s", c[0].x, c[0].y);
    orx_fset(f->trigger, sizeof f->trigger, "%s: %s", o->is_current ? "active medicine" : "proposed drug", o->text);
    if (c[0].label) describe_label(&c[0], f);
    else describe_list(&c[0], f);
    if (dup) {
        char msg[sizeof f->message];
        orx_fset(msg, sizeof msg, "Duplicate therapy: %s and %s are both '%s'. %s", c[0].x, c[0].y, cls, f->message);
        orx_fset(f->message, sizeof f->message, "%s", msg);
    }
    describe_also(c, n, f);
    return ORX_OK;
}

/* ============================================================================================
 * Patient groups a label statement is limited to (parsed once, when the table is loaded:
 * label_ddi.c, orx_label_group): whether this patient is in the group. Membership from the
 * record: diabetes from the problem list, a medicine given for diabetes, or one the lexicon lists
 * as a hypoglycemic agent (MeSH); renal function from CrCl / eGFR (clinical/calc.c).
 * ========================================================================================== */
typedef enum grp_member { MEMBER_UNKNOWN = 0, MEMBER_YES, MEMBER_NO } grp_member;

static bool names_diabetes(const char *text) {
    char t[ORX_CLIN_TEXT];
    orx_fset(t, sizeof t, "%s", text);
    orx_str_lower(t);
    for (const char *p = t; (p = strstr(p, "diabet")); p += 6) {
        if (p - t >= 3 && !strncmp(p - 3, "pre", 3)) continue;   /* prediabetes */
        if (strstr(p, "insipidus")) continue;                     /* diabetes insipidus */
        return true;
    }
    return false;
}

/* Is the patient in g? why: the record's evidence either way, or why it cannot say. */
static grp_member group_member(const orx_label_group *g, const orx_lexicon *L, const orx_patient *pt,
                               const orx_proposed_drug *drug, char *why, size_t cap) {
    why[0] = 0;
    if (!pt) { orx_fset(why, cap, "no patient record"); return MEMBER_UNKNOWN; }
    if (g->kind == ORX_LGROUP_DIABETES) {
        for (size_t i = 0; i < pt->n_conditions; i++)
            if (names_diabetes(pt->conditions[i].text)) {
                orx_fset(why, cap, "the problem list has \"%s\"", pt->conditions[i].text);
                return MEMBER_YES;
            }
        for (size_t k = 0; drug && k <= drug->n_others; k++) {
            const orx_proposed_drug *d = k < drug->n_others ? &drug->others[k] : drug;
            if (names_diabetes(d->indication)) {
                orx_fset(why, cap, "%s is given for \"%s\"", d->text, d->indication);
                return MEMBER_YES;
            }
            for (int i = 0; L && i < d->n_ingr; i++) /* a medicine for diabetes stands for the diagnosis */
                if (orx_lexicon_in_class(L, d->ingr[i].ingredient, "hypoglycemic agents")) {
                    const char *src = orx_lexicon_class_source_typed(L, d->ingr[i].ingredient, "hypoglycemic agents",
                                                                     ORX_CLASS_ANY);
                    orx_fset(why, cap, "%s %s, a hypoglycemic agent (%s)", d->is_current ? "the patient takes" : "the order is",
                             d->ingr[i].ingredient, src ? src : "lexicon");
                    return MEMBER_YES;
                }
        }
        if (!pt->n_conditions) { orx_fset(why, cap, "the record lists no problems"); return MEMBER_UNKNOWN; }
        orx_fset(why, cap, "none of the record's %zu problems is diabetes", pt->n_conditions);
        return MEMBER_NO;
    }
    if (g->hi > 0) { /* a clearance range: the measure it names first */
        const orx_derived *first = g->gfr ? &pt->egfr : &pt->crcl, *second = g->gfr ? &pt->crcl : &pt->egfr;
        const orx_derived *v = first->present ? first : second->present ? second : NULL;
        if (!v) { orx_fset(why, cap, "no CrCl or eGFR in the record"); return MEMBER_UNKNOWN; }
        bool in = v->value >= g->lo && (g->lo > 0 ? v->value <= g->hi : v->value < g->hi);
        orx_fset(why, cap, "%s %.0f %s (%s)", v == &pt->egfr ? "eGFR" : "CrCl", v->value, v->unit, v->formula);
        return in ? MEMBER_YES : MEMBER_NO;
    }
    if (pt->renal_band == ORX_RENAL_UNKNOWN) { orx_fset(why, cap, "no CrCl or eGFR in the record"); return MEMBER_UNKNOWN; }
    orx_fset(why, cap, "renal function %s: %s", orx_renal_band_name(pt->renal_band), pt->renal_basis);
    return pt->renal_band >= g->band ? MEMBER_YES : MEMBER_NO;
}

/* Label hits limited to a patient group: note whether this patient is in it; outside → info. */
static void apply_groups(cand *c, int n, const orx_lexicon *L, const orx_patient *pt, const orx_proposed_drug *drug) {
    for (int i = 0; i < n; i++) {
        const orx_label_group *g = c[i].label ? c[i].lab.group : NULL;
        if (!g) continue;
        char why[200];
        grp_member m = group_member(g, L, pt, drug, why, sizeof why);
        c[i].label_tier = c[i].tier;
        const char *cmp = g->no_comparator ? ", read as below that clearance" : "";
        if (m == MEMBER_NO) {
            c[i].group_out = true;
            c[i].tier = ORX_SEV_INFO;
            orx_fset(c[i].group, sizeof c[i].group, "the label limits this (%s) to %s%s; this patient is not in that "
                     "group: %s", orx_severity_name(c[i].label_tier), g->words, cmp, why);
        } else {
            orx_fset(c[i].group, sizeof c[i].group, "the label limits this to %s%s; %s: %s", g->words, cmp,
                     m == MEMBER_YES ? "this patient is in that group" : "the record cannot say", why);
        }
    }
}

#define DDI_MAX_CANDS 96 /* hits gathered per pair of drugs */

/* For a list rule with effect sides ("effect:qt x effect:qt"): how each drug is a member. */
static void effect_how(const ddi_state *s, const orx_lexicon *L, const ddi_rule *r, const char *x, const char *y,
                       char *out, size_t cap) {
    out[0] = 0;
    if (strncmp(r->a, "effect:", 7) && strncmp(r->b, "effect:", 7)) return;
    char hx[320] = "", hy[320] = "";
    bool u;
    const char *ex = !strncmp(r->a, "effect:", 7) ? r->a : r->b, *ey = !strncmp(r->b, "effect:", 7) ? r->b : r->a;
    orx_label_ddi_effect_member(s->labels, L, x, ex, true, hx, sizeof hx, &u);
    orx_label_ddi_effect_member(s->labels, L, y, ey, true, hy, sizeof hy, &u);
    orx_fset(out, cap, "effect rule: %s; %s", hx, hy);
}

static void side_of(const orx_proposed_drug *d, orx_ddi_side *s) {
    s->n = d->n_ingr;
    for (int i = 0; i < d->n_ingr; i++) s->ingr[i] = d->ingr[i].ingredient;
    s->topical = is_topical(d);
}

/* All hits between drug and o: list rules per ingredient pair, label rules both directions. */
static int gather(const ddi_state *s, const orx_lexicon *L, const orx_proposed_drug *drug,
                  const orx_proposed_drug *o, cand *c, int cap) {
    int n = 0;
    bool dt = is_topical(drug), ot = is_topical(o);
    for (int i = 0; i < drug->n_ingr; i++)
        for (int j = 0; j < o->n_ingr; j++) {
            side x = {drug->ingr[i].ingredient, dt}, y = {o->ingr[j].ingredient, ot};
            if (!strcmp(x.ingr, y.ingr)) continue; /* same ingredient: the duplicate check */
            const ddi_rule *hits[DDI_MAX_HITS];
            int nh = find_rules(s, L, &x, &y, hits, DDI_MAX_HITS);
            for (int h = 0; h < nh && n < cap; h++) {
                memset(&c[n], 0, sizeof c[n]);
                c[n].tier = hits[h]->tier;
                c[n].list = hits[h];
                orx_fset(c[n].x, sizeof c[n].x, "%s", x.ingr);
                orx_fset(c[n].y, sizeof c[n].y, "%s", y.ingr);
                effect_how(s, L, hits[h], x.ingr, y.ingr, c[n].how, sizeof c[n].how);
                n++;
            }
        }
    if (!s->labels) return n;
    orx_ddi_side a, b;
    side_of(drug, &a);
    side_of(o, &b);
    orx_label_hit lh[DDI_MAX_CANDS];
    int nl = orx_label_ddi_match(s->labels, L, &a, &b, lh, DDI_MAX_CANDS);
    for (int k = 0; k < nl && k < DDI_MAX_CANDS && n < cap; k++) {
        memset(&c[n], 0, sizeof c[n]);
        c[n].tier = lh[k].tier;
        c[n].label = true;
        c[n].lab = lh[k];
        /* x: the drug's ingredient, y: the partner's; the label side is named by the label's
         * (first) ingredient */
        orx_fset(c[n].x, sizeof c[n].x, "%s", lh[k].from == 0 ? lh[k].label_ingr : lh[k].partner);
        orx_fset(c[n].y, sizeof c[n].y, "%s", lh[k].from == 0 ? lh[k].partner : lh[k].label_ingr);
        n++;
    }
    return n;
}

orx_status orx_check_interaction(const orx_checker *ck, const orx_patient *pt,
                                 const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const ddi_state *s = orx_checker_state(ck, "interaction");
    if (!s) return orx_fail(err, ORX_ERR_INTERNAL, "interactions: table not loaded");
    const orx_lexicon *L = orx_checker_lexicon(ck);
    cand *c = malloc(DDI_MAX_CANDS * sizeof *c);
    if (!c) return orx_fail(err, ORX_ERR_NOMEM, "interactions: out of memory");
    orx_status st = ORX_OK;
    for (size_t k = 0; k < drug->n_others && !st; k++) {
        int n = gather(s, L, drug, &drug->others[k], c, DDI_MAX_CANDS);
        apply_groups(c, n, L, pt, drug);
        if (n > 0) st = emit_group(L, c, n, &drug->others[k], out, err);
    }
    free(c);
    return st;
}
