/*
 * hepatic.c — hepatic check:
 *  1. label statements about hepatic impairment / liver disease (data/rules/hepatic.tsv, kind
 *     "condition", quoted) against the patient's active problems that name liver disease;
 *  2. label statements with an ALT/AST/bilirubin threshold as a multiple of the upper limit of
 *     normal (kind "lab"): the upper limit is the observation's own reference range (FHIR
 *     referenceRange.high / openrx "reference_range"); a value above the stated multiple gives
 *     the statement's tier; without a value or an upper limit on record, one "unable to assess"
 *     note names the patient's value and the label's threshold;
 *  4. FDA Organ Impairment DIDB exposure change for the recorded grade (info);
 *  3. FDA DILIrank concern level (data/dili/dilirank.tsv): moderate (Most-DILI-Concern) / minor
 *     (Less-DILI-Concern) when the patient has liver disease on the problem list, info otherwise
 *     for Most-DILI-Concern drugs.
 * Grade of impairment: the problem text is searched for "mild"/"moderate"/"severe", Child-Pugh
 * class A/B/C and "decompensated"; when no grade is recorded and the label statement is for a
 * specific grade, the finding is one tier lower and says the grade needs checking.
 */
#include "safety/label_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct hepatic_state {
    orx_srl_table rules;  /* data/rules/hepatic.tsv */
    orx_srl_table dili;   /* data/dili/dilirank.tsv */
    const orx_srl_table *oi; /* data/rules/organ_impairment.tsv (the checker's; ncols 0 when absent) */
} hepatic_state;

orx_status orx_check_hepatic_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredients", "kind", "grades", "lab", "comparator", "uln_text",
        "uln_multiple", "action", "severity", "setid", "corpus", "section", "quote", NULL};
    static const char *const need_d[] = {"compound", "ltkbid", "concern", "row", NULL};
    hepatic_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_srl_load loads[] = {{"rules/hepatic.tsv", need, &s->rules}, {"dili/dilirank.tsv", need_d, &s->dili}};
    orx_status st = orx_srl_tables_load(orx_checker_data_dir(ck), loads, sizeof loads / sizeof *loads, err);
    s->oi = orx_checker_organ_impairment(ck);
    const orx_lexicon *lex = orx_checker_lexicon(ck);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->rules, "ingredients", lex, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->dili, "compound", lex, err);
    for (size_t r = 0; st == ORX_OK && r < s->rules.nrows; r++) {
        orx_severity sev;
        double v;
        bool pr;
        st = orx_srl_severity(&s->rules, r, orx_srl_col(&s->rules, "severity"), &sev, err);
        if (st == ORX_OK) st = orx_srl_num(&s->rules, r, orx_srl_col(&s->rules, "uln_multiple"), &v, &pr, err);
    }
    return orx_check_init_done(st, s, orx_check_hepatic_fini, state);
}

void orx_check_hepatic_fini(void *state) {
    hepatic_state *s = state;
    if (s) orx_srl_tables_free((orx_srl_table *[]){&s->rules, &s->dili}, 2);
    free(s);
}

/* ============================================================================================
 * Patient context
 * ========================================================================================== */
typedef struct liver_ctx {
    const orx_condition *cond;  /* first problem naming liver disease, NULL if none */
    char grade[16];             /* "mild","moderate","severe", "" when not recorded */
} liver_ctx;

static const char *const LIVER_WORDS[] = {"cirrhosis", "hepatic", "liver", "hepatitis",
                                          "child-pugh", "child pugh", NULL};

/* Child-Pugh class letter ('a','b','c') written after "Child-Pugh [class|score]", or 0. */
static char child_pugh_class(const char *t) {
    for (const char *p = t; *p; p++) {
        if (strncasecmp(p, "child-pugh", 10) != 0 && strncasecmp(p, "child pugh", 10) != 0) continue;
        const char *q = p + 10;
        while (*q == ' ') q++;
        if (strncasecmp(q, "class", 5) == 0) q += 5;
        else if (strncasecmp(q, "score", 5) == 0) q += 5;
        while (*q == ' ') q++;
        char l = (char)tolower((unsigned char)*q);
        if ((l == 'a' || l == 'b' || l == 'c') && !isalnum((unsigned char)q[1])) return l;
    }
    return 0;
}

static void liver_context(const orx_patient *pt, liver_ctx *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < pt->n_conditions && !c->cond; i++)
        for (int w = 0; LIVER_WORDS[w]; w++)
            if (orx_srl_icontains(pt->conditions[i].text, LIVER_WORDS[w])) {
                c->cond = &pt->conditions[i];
                break;
            }
    if (!c->cond) return;
    const char *t = c->cond->text;
    char cp = child_pugh_class(t);
    if (orx_srl_icontains(t, "severe") || cp == 'c' || orx_srl_icontains(t, "decompensated"))
        strcpy(c->grade, "severe");
    else if (orx_srl_icontains(t, "moderate") || cp == 'b')
        strcpy(c->grade, "moderate");
    else if (orx_srl_icontains(t, "mild") || cp == 'a')
        strcpy(c->grade, "mild");
}

static bool grade_listed(const char *grades, const char *g) {
    char buf[128];
    orx_fset(buf, sizeof buf, "%s", grades);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, g) == 0) return true;
    return false;
}

/* ============================================================================================
 * Findings
 * ========================================================================================== */
static orx_status condition_rule(const hepatic_state *s, size_t r, const liver_ctx *c,
                                 const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    const orx_srl_table *t = &s->rules;
    const char *grades = orx_srl_cell(t, r, orx_srl_col(t, "grades"));
    orx_severity sev;
    orx_status st = orx_srl_severity(t, r, orx_srl_col(t, "severity"), &sev, err);
    if (st != ORX_OK) return st;
    bool any = grade_listed(grades, "any") || grade_listed(grades, "active");
    bool unsure = false;
    if (!any) {
        if (!*c->grade) unsure = true;
        else if (!grade_listed(grades, c->grade)) return ORX_OK; /* label is for another grade */
    }
    if (unsure) sev = orx_srl_lower(sev);
    orx_finding *f = orx_srl_push(out, "hepatic", sev, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    f->interruptive = sev >= ORX_SEV_MAJOR;
    orx_fset(f->trigger, sizeof f->trigger, "problem list: %s%s%s%s", c->cond->text,
        *c->grade ? " (grade: " : " (grade not recorded", c->grade, ")");
    if (unsure)
        orx_fset(f->message, sizeof f->message, "The %s label has a statement (%s) for %s hepatic "
            "impairment; the patient has liver disease of unrecorded grade — check the grade "
            "(e.g. Child-Pugh).", f->drugs, orx_srl_cell(t, r, orx_srl_col(t, "action")), grades);
    else
        orx_fset(f->message, sizeof f->message, "The %s label has a statement (%s) for patients with "
            "%s hepatic impairment / liver disease, which applies to this patient.", f->drugs,
            orx_srl_cell(t, r, orx_srl_col(t, "action")), grades);
    orx_fset(f->management, sizeof f->management, "Follow the quoted label statement.");
    orx_srl_fill_label(f, t, r);
    return ORX_OK;
}

/* The patient's labs a ×ULN statement names ("ALT", "AST", "ALT|AST", "bilirubin"). */
static int rule_labs(const char *lab, orx_lab_kind *k) {
    if (strcmp(lab, "bilirubin") == 0) { k[0] = ORX_LAB_BILIRUBIN; return 1; }
    int n = 0;
    if (strcmp(lab, "AST") != 0) k[n++] = ORX_LAB_ALT;
    if (strcmp(lab, "ALT") != 0) k[n++] = ORX_LAB_AST;
    return n;
}

typedef struct uln_eval {
    bool   met;            /* a value is above the statement's multiple of its own ULN */
    bool   judged;         /* at least one value had an upper limit on record */
    char   text[256];      /* the values used, with their ULN multiples */
} uln_eval;

static void eval_uln(const orx_patient *pt, const char *lab, double mult, uln_eval *e) {
    orx_lab_kind k[2];
    int n = rule_labs(lab, k);
    size_t o = 0;
    memset(e, 0, sizeof *e);
    for (int i = 0; i < n; i++) {
        const orx_lab *l = &pt->labs[k[i]];
        if (!l->present) continue;
        if (l->has_ref_high && l->ref_high > 0) {
            double x = l->value / l->ref_high;
            e->judged = true;
            e->met |= x > mult;
            o += (size_t)snprintf(e->text + o, o < sizeof e->text ? sizeof e->text - o : 0,
                                  "%s%s %.4g %s on %.10s = %.2g x ULN (ULN %.4g from the record)",
                                  o ? "; " : "", orx_lab_kind_label(k[i]), l->value, l->unit, l->date,
                                  x, l->ref_high);
        } else {
            o += (size_t)snprintf(e->text + o, o < sizeof e->text ? sizeof e->text - o : 0,
                                  "%s%s %.4g %s on %.10s (no upper limit of normal on record)",
                                  o ? "; " : "", orx_lab_kind_label(k[i]), l->value, l->unit, l->date);
        }
        if (o >= sizeof e->text) o = sizeof e->text - 1;
    }
}

/* The drug's ×ULN statements against the patient's values: the most severe one met gives a
 * finding at its tier; otherwise one info note (not met / unable to assess). */
static orx_status lab_rules(const hepatic_state *s, const orx_patient *pt,
                            const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    const orx_srl_table *t = &s->rules;
    int c_ingr = orx_srl_col(t, "ingredients"), c_kind = orx_srl_col(t, "kind"), c_lab = orx_srl_col(t, "lab");
    int c_mult = orx_srl_col(t, "uln_multiple"), c_sev = orx_srl_col(t, "severity");
    size_t best = (size_t)-1, first = (size_t)-1;
    orx_severity best_sev = ORX_SEV_INFO;
    bool any_judged = false;
    uln_eval ev, best_ev, first_ev;
    memset(&best_ev, 0, sizeof best_ev);
    memset(&first_ev, 0, sizeof first_ev);
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcmp(orx_srl_cell(t, r, c_kind), "lab") != 0) continue;
        if (!orx_srl_drug_matches(d, orx_srl_ingr(t, r, c_ingr), false)) continue;
        eval_uln(pt, orx_srl_cell(t, r, c_lab), strtod(orx_srl_cell(t, r, c_mult), NULL), &ev);
        any_judged |= ev.judged;
        if (first == (size_t)-1) { first = r; first_ev = ev; }
        orx_severity sev = ORX_SEV_INFO;
        orx_severity_parse(orx_srl_cell(t, r, c_sev), &sev);
        if (ev.met && (best == (size_t)-1 || sev > best_sev)) { best = r; best_sev = sev; best_ev = ev; }
    }
    if (first == (size_t)-1) return ORX_OK;
    size_t r = best != (size_t)-1 ? best : first;
    uln_eval *e = best != (size_t)-1 ? &best_ev : &first_ev;
    orx_finding *f = orx_srl_push(out, "hepatic", best != (size_t)-1 ? best_sev : ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    f->interruptive = f->severity >= ORX_SEV_MAJOR;
    const char *lab = orx_srl_cell(t, r, c_lab), *mult = orx_srl_cell(t, r, c_mult);
    const char *action = orx_srl_cell(t, r, orx_srl_col(t, "action"));
    orx_fset(f->trigger, sizeof f->trigger, "%s", *e->text ? e->text : "no ALT/AST/bilirubin result in the record");
    if (best != (size_t)-1) {
        orx_fset(f->message, sizeof f->message, "The %s label's threshold %s > %s x ULN is met (%s): the "
            "label says %s.", f->drugs, lab, mult, e->text, action);
        orx_fset(f->management, sizeof f->management, "Follow the quoted label statement (%s).", action);
    } else if (any_judged) {
        orx_fset(f->message, sizeof f->message, "The %s label's liver-test thresholds (e.g. %s > %s x ULN, "
            "%s) are not met by the values on record.", f->drugs, lab, mult, action);
        orx_fset(f->management, sizeof f->management, "Monitor liver tests as the label says.");
    } else {
        orx_fset(f->message, sizeof f->message, "Unable to assess: the %s label's threshold is %s > %s x "
            "ULN (%s) and the record has %s.", f->drugs, lab, mult, action,
            *e->text ? "no upper limit of normal (reference range) for the value" : "no such value");
        orx_fset(f->management, sizeof f->management, "%s", *e->text
            ? "Compare the value with the reporting laboratory's upper limit of normal."
            : "Obtain liver tests if the label's monitoring applies.");
    }
    orx_srl_fill_label(f, t, r);
    return ORX_OK;
}

static orx_status dili_note(const hepatic_state *s, const liver_ctx *c,
                            const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    const orx_srl_table *t = &s->dili;
    int c_name = orx_srl_col(t, "compound"), c_conc = orx_srl_col(t, "concern");
    for (int i = 0; i < d->n_ingr && i < ORX_MAX_INGR; i++)
        for (size_t r = 0; r < t->nrows; r++) {
            if (strcasecmp(orx_srl_ingr(t, r, c_name), d->ingr[i].ingredient) != 0) continue;
            const char *conc = orx_srl_cell(t, r, c_conc);
            bool most = orx_srl_icontains(conc, "Most-DILI"), less = orx_srl_icontains(conc, "Less-DILI");
            if (!most && !(less && c->cond)) break;
            orx_severity sev = c->cond ? (most ? ORX_SEV_MODERATE : ORX_SEV_MINOR) : ORX_SEV_INFO;
            orx_finding *f = orx_srl_push(out, "hepatic", sev, d);
            if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
            if (c->cond)
                orx_fset(f->trigger, sizeof f->trigger, "problem list: %s", c->cond->text);
            else
                orx_fset(f->trigger, sizeof f->trigger, "drug property (no liver disease recorded)");
            orx_fset(f->message, sizeof f->message, "%s is classed '%s' for drug-induced liver injury "
                "in FDA DILIrank%s.", d->ingr[i].ingredient, conc,
                c->cond ? "; the patient has liver disease" : "");
            orx_fset(f->source, sizeof f->source, "FDA DILIrank (NCTR, 2016)");
            orx_fset(f->citation, sizeof f->citation, "DILIrank %s (%s; data/dili/dilirank.tsv:%zu)",
                orx_srl_cell(t, r, orx_srl_col(t, "ltkbid")), orx_srl_cell(t, r, orx_srl_col(t, "row")), r + 2);
            break;
        }
    return ORX_OK;
}

/* FDA Organ Impairment DIDB: measured exposure change for the patient's recorded grade (info). */
static orx_status exposure_note(const hepatic_state *s, const liver_ctx *c,
                                const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    const orx_srl_table *t = s->oi;
    if (!t->ncols || !c->cond || !*c->grade || d->n_ingr != 1) return ORX_OK;
    int c_ing = orx_srl_col(t, "ingredient"), c_org = orx_srl_col(t, "organ"), c_val = orx_srl_col(t, c->grade);
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcasecmp(orx_srl_ingr(t, r, c_ing), d->ingr[0].ingredient) != 0) continue;
        if (strcmp(orx_srl_cell(t, r, c_org), "hepatic") != 0) continue;
        const char *v = orx_srl_cell(t, r, c_val);
        if (!orx_srl_is_number(v)) continue; /* empty, or text such as "no change" */
        orx_finding *f = orx_srl_push(out, "hepatic", ORX_SEV_INFO, d);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(f->trigger, sizeof f->trigger, "problem list: %s (grade: %s)", c->cond->text, c->grade);
        orx_fset(f->message, sizeof f->message, "Measured %s exposure in %s hepatic impairment: AUC "
            "change %s%% versus normal function (FDA Organ Impairment DIDB).", f->drugs, c->grade, v);
        orx_fset(f->source, sizeof f->source, "FDA Organ Impairment DIDB (Yeung et al. 2015)");
        orx_fset(f->citation, sizeof f->citation, "organ_impairment.tsv:%zu (%s%s%s)", r + 2,
            orx_srl_cell(t, r, orx_srl_col(t, "row")), *orx_srl_cell(t, r, orx_srl_col(t, "ref")) ? ", ref " : "",
            orx_srl_cell(t, r, orx_srl_col(t, "ref")));
        return ORX_OK;
    }
    return ORX_OK;
}

orx_status orx_check_hepatic(const orx_checker *ck, const orx_patient *pt,
                             const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const hepatic_state *s = orx_checker_state(ck, "hepatic");
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    liver_ctx c;
    liver_context(pt, &c);
    const orx_srl_table *t = &s->rules;
    int c_ingr = orx_srl_col(t, "ingredients"), c_kind = orx_srl_col(t, "kind");
    char seen[8][64];
    int n_seen = 0;
    orx_status st0 = lab_rules(s, pt, drug, out, err);
    if (st0 != ORX_OK) return st0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!orx_srl_drug_matches(drug, orx_srl_ingr(t, r, c_ingr), false)) continue;
        orx_status st = ORX_OK;
        if (strcmp(orx_srl_cell(t, r, c_kind), "lab") == 0) {
            continue; /* the ×ULN statements: lab_rules() above */
        } else if (c.cond) {
            char key[64];
            orx_fset(key, sizeof key, "%s|%s", orx_srl_cell(t, r, orx_srl_col(t, "grades")),
                orx_srl_cell(t, r, orx_srl_col(t, "action")));
            bool dup = false;
            for (int i = 0; i < n_seen; i++) if (strcmp(seen[i], key) == 0) dup = true;
            if (dup) continue;
            if (n_seen < 8) memcpy(seen[n_seen++], key, sizeof key);
            st = condition_rule(s, r, &c, drug, out, err);
        }
        if (st != ORX_OK) return st;
    }
    orx_status st = dili_note(s, &c, drug, out, err);
    if (st != ORX_OK) return st;
    return exposure_note(s, &c, drug, out, err);
}
