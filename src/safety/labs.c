/*
 * labs.c — lab-aware rules: label sentences that tie a drug to a lab abnormality
 * (data/rules/lab_rules.tsv: hyperkalaemia / hypokalaemia, QT prolongation, thrombocytopenia,
 * hypo-/hyperglycaemia, a raised INR; quoted, derived by tools/derive_lab_rules.py) against the
 * patient's latest value of that lab, and the label's INR-dependent switching statements
 * (data/rules/switching.tsv: "start ELIQUIS when the INR is below 2.0") against the latest INR.
 *
 * Is the lab abnormal? Against the observation's own reference range when the record has one;
 * a statement whose sentence states a threshold ("serum potassium > 5 mEq/L") is met when the
 * value crosses that threshold. Without a range and a threshold the value is shown, not judged.
 * The INR is judged only against a threshold the label states (a patient on an anticoagulant is
 * above the laboratory's normal INR range by design).
 *
 * Tier: statement met -> its tier (contraindicated; avoid / discontinue -> major; monitor /
 * "can cause" -> moderate); value within range -> info. When another drug of the regimen carries
 * a statement about the same abnormality, the finding names both and rises: met -> at least
 * major; within range -> minor. No value on record -> "unable to assess", never silence. The
 * info-level outcomes of one drug (within range, not judged, no value) are one finding per drug.
 */
#include "safety/label_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct labs_state {
    orx_srl_table rules;   /* data/rules/lab_rules.tsv */
    orx_srl_table sw;      /* data/rules/switching.tsv */
    int c_ingr, c_lab, c_dir, c_stmt, c_cmp, c_thr, c_sev;
} labs_state;

/* The labs the table names, with the patient-model kind and the words for each direction. */
static const struct { const char *name; orx_lab_kind kind; const char *high, *low; } LABS[] = {
    {"potassium", ORX_LAB_POTASSIUM, "hyperkalaemia (high potassium)", "hypokalaemia (low potassium)"},
    {"qtc", ORX_LAB_QTC, "QT prolongation", "a short QT interval"},
    {"platelets", ORX_LAB_PLATELETS, "a high platelet count", "thrombocytopenia (low platelets)"},
    {"glucose", ORX_LAB_GLUCOSE, "hyperglycaemia (high glucose)", "hypoglycaemia (low glucose)"},
    {"inr", ORX_LAB_INR, "a raised INR", "a low INR"},
};
#define N_LABS (sizeof LABS / sizeof LABS[0])

static int lab_index(const char *name) {
    for (size_t i = 0; i < N_LABS; i++)
        if (strcmp(LABS[i].name, name) == 0) return (int)i;
    return -1;
}

orx_status orx_check_labs_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredients", "lab", "direction", "statement",
        "comparator", "threshold", "unit", "severity", "label_type", "setid", "corpus", "section",
        "quote", NULL};
    static const char *const need_sw[] = {"id", "ingredient", "from", "lab", "comparator",
        "threshold", "setid", "corpus", "section", "quote", NULL};
    labs_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    const orx_lexicon *lex = orx_checker_lexicon(ck);
    orx_srl_load loads[] = {{"rules/lab_rules.tsv", need, &s->rules}, {"rules/switching.tsv", need_sw, &s->sw}};
    orx_status st = orx_srl_tables_load(orx_checker_data_dir(ck), loads, sizeof loads / sizeof *loads, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->rules, "ingredients", lex, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->sw, "ingredient", lex, err);
    if (st == ORX_OK) {
        s->c_ingr = orx_srl_col(&s->rules, "ingredients");
        s->c_lab = orx_srl_col(&s->rules, "lab");
        s->c_dir = orx_srl_col(&s->rules, "direction");
        s->c_stmt = orx_srl_col(&s->rules, "statement");
        s->c_cmp = orx_srl_col(&s->rules, "comparator");
        s->c_thr = orx_srl_col(&s->rules, "threshold");
        s->c_sev = orx_srl_col(&s->rules, "severity");
    }
    for (size_t r = 0; st == ORX_OK && r < s->rules.nrows; r++) { /* fail at load, with file:line */
        double v;
        bool pr;
        orx_severity sev;
        st = orx_srl_num(&s->rules, r, s->c_thr, &v, &pr, err);
        if (st == ORX_OK) st = orx_srl_severity(&s->rules, r, s->c_sev, &sev, err);
        if (st == ORX_OK && lab_index(orx_srl_cell(&s->rules, r, s->c_lab)) < 0)
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'lab': unknown lab '%s'", s->rules.path,
                          r + 2, orx_srl_cell(&s->rules, r, s->c_lab));
    }
    for (size_t r = 0; st == ORX_OK && r < s->sw.nrows; r++) {
        double v;
        bool pr;
        st = orx_srl_num(&s->sw, r, orx_srl_col(&s->sw, "threshold"), &v, &pr, err);
        if (st == ORX_OK && !pr)
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'threshold': empty", s->sw.path, r + 2);
    }
    return orx_check_init_done(st, s, orx_check_labs_fini, state);
}

void orx_check_labs_fini(void *state) {
    labs_state *s = state;
    if (s) orx_srl_tables_free((orx_srl_table *[]){&s->rules, &s->sw}, 2);
    free(s);
}

/* ============================================================================================
 * One drug x one lab abnormality
 * ========================================================================================== */
typedef enum { MET_NO = 0, MET_YES, MET_UNJUDGED } met_t;

static bool crosses(double v, const char *cmp, double thr) {
    if (!strcmp(cmp, "gt")) return v > thr;
    if (!strcmp(cmp, "ge")) return v >= thr;
    if (!strcmp(cmp, "lt")) return v < thr;
    if (!strcmp(cmp, "le")) return v <= thr;
    return false;
}

/* Does the row's condition hold for this lab value? */
static met_t row_met(const labs_state *s, size_t r, const orx_lab *lab, bool is_inr) {
    const char *thr = orx_srl_cell(&s->rules, r, s->c_thr);
    if (*thr) return crosses(lab->value, orx_srl_cell(&s->rules, r, s->c_cmp), strtod(thr, NULL)) ? MET_YES : MET_NO;
    orx_lab_flag f = orx_lab_range_flag(lab);
    if (is_inr || f == ORX_LAB_NO_RANGE) return MET_UNJUDGED;
    bool high = strcmp(orx_srl_cell(&s->rules, r, s->c_dir), "high") == 0;
    return (high ? f == ORX_LAB_HIGH : f == ORX_LAB_LOW) ? MET_YES : MET_NO;
}

typedef struct lab_view {
    size_t  n_rows;      /* statements of this drug about this lab and direction */
    size_t  top;         /* the governing row: the most severe met, else the most severe */
    met_t   met;         /* whether the governing row's condition holds */
    orx_severity sev;    /* tier of the governing row */
} lab_view;

/* The drug's statements about lab li in direction dir (INR: only ones with a threshold). */
static void view(const labs_state *s, const orx_proposed_drug *d, size_t li, const char *dir,
                 const orx_lab *lab, lab_view *v) {
    memset(v, 0, sizeof *v);
    bool is_inr = LABS[li].kind == ORX_LAB_INR;
    bool have_met = false;
    orx_severity best = ORX_SEV_INFO;
    for (size_t r = 0; r < s->rules.nrows; r++) {
        if (strcmp(orx_srl_cell(&s->rules, r, s->c_lab), LABS[li].name) != 0) continue;
        if (strcmp(orx_srl_cell(&s->rules, r, s->c_dir), dir) != 0) continue;
        if (is_inr && !*orx_srl_cell(&s->rules, r, s->c_thr)) continue; /* INR wording without a level */
        if (!orx_srl_drug_matches(d, orx_srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
        orx_severity sev = ORX_SEV_INFO;
        orx_severity_parse(orx_srl_cell(&s->rules, r, s->c_sev), &sev);
        met_t m = lab->present ? row_met(s, r, lab, is_inr) : MET_UNJUDGED;
        bool better = v->n_rows == 0 || (m == MET_YES && (!have_met || sev > best)) ||
                      (!have_met && m != MET_YES && (sev > best || (m == MET_UNJUDGED && v->met == MET_NO)));
        if (better) {
            v->top = r;
            v->met = m;
            best = sev;
            have_met |= m == MET_YES;
        }
        v->n_rows++;
    }
    v->sev = best;
}

static const char *stmt_words(const char *st) {
    if (!strcmp(st, "contraindicated")) return "states it is contraindicated with";
    if (!strcmp(st, "avoid")) return "says not to use it with";
    if (!strcmp(st, "discontinue")) return "says to discontinue it with";
    if (!strcmp(st, "monitor")) return "says to monitor for";
    return "states it can cause";
}

/* Other drugs of the regimen with a statement about the same abnormality (names into buf). */
static int partners(const labs_state *s, const orx_proposed_drug *d, size_t li, const char *dir,
                    const orx_lab *lab, char *buf, size_t cap, orx_severity *worst_met) {
    int n = 0;
    size_t o = 0;
    buf[0] = '\0';
    *worst_met = ORX_SEV_INFO;
    for (size_t i = 0; i < d->n_others; i++) {
        const orx_proposed_drug *x = &d->others[i];
        if (x->n_ingr <= 0) continue;
        bool same = false; /* another product of the same ingredient: duplicate therapy, not a pair */
        for (int a = 0; a < x->n_ingr; a++)
            for (int b = 0; b < d->n_ingr; b++)
                same |= strcasecmp(x->ingr[a].ingredient, d->ingr[b].ingredient) == 0;
        if (same) continue;
        lab_view v;
        view(s, x, li, dir, lab, &v);
        if (!v.n_rows) continue;
        char name[128];
        orx_proposed_drug_name(x, name, sizeof name);
        if (strstr(buf, name)) continue; /* two products of one ingredient */
        if (v.met == MET_YES && v.sev > *worst_met) *worst_met = v.sev;
        if (o + 1 < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s (its label %s %s)", n ? "; " : "", name,
                                  stmt_words(orx_srl_cell(&s->rules, v.top, s->c_stmt)),
                                  !strcmp(dir, "high") ? LABS[li].high : LABS[li].low);
        if (o >= cap) o = cap - 1;
        n++;
    }
    return n;
}

/* Info-level outcomes of one drug's lab statements, gathered into one finding. */
typedef struct lab_notes {
    char   text[900];   /* "hyperkalaemia: Potassium 4.2 mmol/L ... within range; ..." */
    size_t len;         /* used */
    size_t first_row;   /* the statement quoted */
    int    n;           /* notes */
    int    n_missing;   /* of them: no value on record */
} lab_notes;

static void note(lab_notes *ns, size_t row, const char *fmt_, ...) __attribute__((format(printf, 3, 4)));
static void note(lab_notes *ns, size_t row, const char *fmt_, ...) {
    if (ns->n++ == 0) ns->first_row = row;
    if (ns->len + 4 >= sizeof ns->text) return;
    if (ns->len) ns->len += (size_t)snprintf(ns->text + ns->len, sizeof ns->text - ns->len, "; ");
    va_list ap;
    va_start(ap, fmt_);
    int k = vsnprintf(ns->text + ns->len, sizeof ns->text - ns->len, fmt_, ap);
    va_end(ap);
    if (k > 0) ns->len += (size_t)k;
    if (ns->len >= sizeof ns->text) ns->len = sizeof ns->text - 1;
}

static const char *cmp_symbol(const char *c) {
    return !strcmp(c, "gt") ? ">" : !strcmp(c, "ge") ? ">=" : !strcmp(c, "lt") ? "<" : "<=";
}

/* One drug x one lab abnormality: a finding when the statement is met (or met together with
 * another drug of the regimen, or within range while another drug shares the statement), else a
 * note for the drug's summary. */
static orx_status lab_finding(const labs_state *s, const orx_patient *pt,
                              const orx_proposed_drug *d, size_t li, const char *dir,
                              lab_notes *ns, orx_findings *out, orx_error *err) {
    const orx_lab *lab = &pt->labs[LABS[li].kind];
    lab_view v;
    view(s, d, li, dir, lab, &v);
    if (!v.n_rows) return ORX_OK;
    const char *what = !strcmp(dir, "high") ? LABS[li].high : LABS[li].low;
    const char *label = orx_lab_kind_label(LABS[li].kind);
    const char *stmt = orx_srl_cell(&s->rules, v.top, s->c_stmt);
    const char *thr = orx_srl_cell(&s->rules, v.top, s->c_thr);
    char cond[96] = "";
    if (*thr) {
        const char *u = orx_srl_cell(&s->rules, v.top, orx_srl_col(&s->rules, "unit"));
        orx_fset(cond, sizeof cond, " (%s %s %s%s%s)", label, cmp_symbol(orx_srl_cell(&s->rules, v.top, s->c_cmp)),
            thr, *u ? " " : "", u);
    }
    if (!lab->present) {
        ns->n_missing++;
        note(ns, v.top, "%s%s: no %s on record", what, cond, label);
        return ORX_OK;
    }
    char others[400];
    orx_severity other_sev;
    int n_others = partners(s, d, li, dir, lab, others, sizeof others, &other_sev);
    char desc[200];
    orx_lab_describe(lab, LABS[li].kind, desc, sizeof desc);
    bool partner_met = other_sev > ORX_SEV_INFO; /* a partner's own statement is met */
    if (v.met != MET_YES && !partner_met && !(v.met == MET_NO && n_others)) {
        note(ns, v.top, "%s%s: %s, %s", what, cond, desc,
             v.met == MET_NO ? "not met" : "not judged (no reference range on record and the label "
             "states no threshold)");
        return ORX_OK;
    }
    orx_severity sev = ORX_SEV_MINOR;
    if (v.met == MET_YES) {
        sev = v.sev > ORX_SEV_MODERATE ? v.sev : ORX_SEV_MODERATE;
        if (n_others) sev = sev > ORX_SEV_MAJOR ? sev : ORX_SEV_MAJOR;
    }
    if (other_sev > sev) sev = other_sev; /* the value meets the other drug's statement */
    orx_finding *f = orx_findings_push(out, "lab", sev);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    f->interruptive = sev >= ORX_SEV_MAJOR;
    char name[128];
    orx_proposed_drug_name(d, name, sizeof name);
    char first_other[128] = "";
    if (n_others) orx_fset(first_other, sizeof first_other, "%.*s", (int)strcspn(others, " ("), others);
    orx_fset(f->drugs, sizeof f->drugs, "%s%s%s", name, n_others ? " + " : "", first_other);
    orx_fset(f->trigger, sizeof f->trigger, "%s", desc);
    char also[480] = "";
    if (n_others) orx_fset(also, sizeof also, " Also in the regimen: %s.", others);
    orx_fset(f->message, sizeof f->message, "The %s label %s %s%s; %s: the patient's value %s.%s", name,
        stmt_words(stmt), what, cond, desc, v.met == MET_YES ? "meets this"
        : v.met == MET_NO ? "does not meet this" : "is not judged against it (no reference range, "
        "no threshold)", also);
    if (partner_met)
        orx_fset(f->message + strlen(f->message), sizeof f->message - strlen(f->message),
            " The value meets the other drug's statement.");
    orx_fset(f->management, sizeof f->management, "%s", v.met == MET_YES
        ? "Review before giving: the quoted label statement applies to this value."
        : "Two drugs of the regimen carry this statement: monitor as the labels say.");
    orx_srl_fill_label(f, &s->rules, v.top);
    return ORX_OK;
}

static orx_status emit_notes(const labs_state *s, const orx_proposed_drug *d, const lab_notes *ns,
                             orx_findings *out, orx_error *err) {
    if (!ns->n) return ORX_OK;
    orx_finding *f = orx_srl_push(out, "lab", ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "%d lab statement(s) of the label; %d without a value on "
        "record", ns->n, ns->n_missing);
    orx_fset(f->message, sizeof f->message, "Lab statements of the %s label, against the record: %s.%s",
        f->drugs, ns->text, ns->n_missing ? " Unable to assess the ones without a value." : "");
    orx_fset(f->management, sizeof f->management, "%s", ns->n_missing
        ? "Obtain the missing lab value(s) before relying on these statements."
        : "No lab value meets these statements now; monitor as the label says.");
    orx_srl_fill_label(f, &s->rules, ns->first_row);
    return ORX_OK;
}

/* ============================================================================================
 * Switching from warfarin: the INR the label names
 * ========================================================================================== */
static bool regimen_has(const orx_proposed_drug *d, const char *ingredient) {
    for (size_t i = 0; i < d->n_others; i++)
        for (int k = 0; k < d->others[i].n_ingr; k++)
            if (strcasecmp(d->others[i].ingr[k].ingredient, ingredient) == 0) return true;
    return false;
}

static orx_status switching(const labs_state *s, const orx_patient *pt,
                            const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    if (d->is_current || d->n_ingr != 1) return ORX_OK;
    const orx_srl_table *t = &s->sw;
    int c_i = orx_srl_col(t, "ingredient"), c_from = orx_srl_col(t, "from"), c_thr = orx_srl_col(t, "threshold");
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcasecmp(orx_srl_ingr(t, r, c_i), d->ingr[0].ingredient) != 0) continue;
        const char *from = orx_srl_cell(t, r, c_from);
        if (!regimen_has(d, from)) continue;
        double thr = strtod(orx_srl_cell(t, r, c_thr), NULL);
        const orx_lab *inr = &pt->labs[ORX_LAB_INR];
        bool wait = inr->present && inr->value >= thr;
        orx_severity sev = wait ? ORX_SEV_MAJOR : ORX_SEV_INFO;
        orx_finding *f = orx_findings_push(out, "switching", sev);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        f->interruptive = wait;
        char name[128];
        orx_proposed_drug_name(d, name, sizeof name);
        orx_fset(f->drugs, sizeof f->drugs, "%s + %s", name, from);
        if (!inr->present) {
            orx_fset(f->trigger, sizeof f->trigger, "current medicine %s; no INR on record", from);
            orx_fset(f->message, sizeof f->message, "Switching from %s to %s: the label says to start %s "
                "when the INR is below %s; the record has no INR, so when to start cannot be "
                "assessed.", from, name, name, orx_srl_cell(t, r, c_thr));
            orx_fset(f->management, sizeof f->management, "Stop %s and measure the INR; start %s when it "
                "is below %s.", from, name, orx_srl_cell(t, r, c_thr));
        } else {
            orx_fset(f->trigger, sizeof f->trigger, "current medicine %s; latest INR %.2g on %.10s", from,
                inr->value, inr->date[0] ? inr->date : "an undated observation");
            if (wait)
                orx_fset(f->message, sizeof f->message, "Wait before starting %s: the patient is on %s and "
                    "the latest INR is %.2g (%.10s); the label says to discontinue %s and start %s "
                    "when the INR is below %s.", name, from, inr->value, inr->date, from, name,
                    orx_srl_cell(t, r, c_thr));
            else
                orx_fset(f->message, sizeof f->message, "Switching from %s to %s: the latest INR %.2g "
                    "(%.10s) is below %s, the level at which the label says to start %s.", from,
                    name, inr->value, inr->date, orx_srl_cell(t, r, c_thr), name);
            orx_fset(f->management, sizeof f->management, "Stop %s; start %s only once the INR is below "
                "%s (recheck the INR).", from, name, orx_srl_cell(t, r, c_thr));
        }
        orx_srl_fill_label(f, t, r);
        return ORX_OK; /* one statement per drug */
    }
    return ORX_OK;
}

/* ============================================================================================
 * Check
 * ========================================================================================== */
orx_status orx_check_labs(const orx_checker *ck, const orx_patient *pt,
                          const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const labs_state *s = orx_checker_state(ck, "labs");
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    static const char *const DIRS[] = {"high", "low"};
    lab_notes ns;
    memset(&ns, 0, sizeof ns);
    for (size_t li = 0; li < N_LABS; li++)
        for (int k = 0; k < 2; k++) {
            orx_status st = lab_finding(s, pt, drug, li, DIRS[k], &ns, out, err);
            if (st != ORX_OK) return st;
        }
    orx_status st = emit_notes(s, drug, &ns, out, err);
    return st != ORX_OK ? st : switching(s, pt, drug, out, err);
}
