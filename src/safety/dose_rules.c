/*
 * dose_rules.c — dose by indication and patient band: the proposed dose against the label's dose
 * for the indication the drug is given for and the patient's renal function, age, weight and
 * serum creatinine (data/rules/dose_rules.tsv: curated rows, each quoting its label sentence;
 * format in data/rules/SOURCE.md; tests/test_safety_dose_rules.c checks every quote against the
 * shipped corpus and every number against its quote).
 *
 * A row: ingredient, indication (label heading, "" = every indication), phase (initiation |
 * continuation | any), criteria ("" | "crcl>=15&crcl<=30" | "2of:age>=80,weight<=60,scr>=1.5"),
 * action (dose | no-recommendation), amount_low..amount per administration, frequency phrase as
 * the label writes it ("twice daily" = 2 per day).
 *
 * Which rows apply: rows scoped to the drug's indication (indication.c: the one given with the
 * drug, else the patient's problems; when that leaves more than one label indication, or none is
 * known, the label's doses per indication are listed as info instead of picking one); among them
 * the rows whose criteria the patient meets, else the rows without criteria. Then:
 *   proposed dose above every applicable row (per administration or per day)  -> major;
 *   the applicable row says no dose can be recommended                       -> moderate;
 *   criteria not assessable (no CrCl, no weight ...)                          -> info;
 *   dose equal to / below the label's                                         -> info.
 * A dose written "DS" without strengths gets an info: no shipped source defines "DS".
 */
#include "safety/label_rules.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * Rows
 * ========================================================================================== */
typedef enum { V_CRCL = 0, V_EGFR, V_AGE, V_WEIGHT, V_SCR, V_COUNT } crit_var;
typedef enum { OP_LT = 0, OP_LE, OP_GT, OP_GE } crit_op;
typedef enum { T_FALSE = 0, T_TRUE, T_UNKNOWN } tri;

typedef struct crit_term {
    crit_var var;      /* patient value compared */
    crit_op  op;       /* comparison */
    double   val;      /* threshold, in the patient model's unit (mL/min, years, kg, mg/dL) */
} crit_term;

#define DR_MAX_TERMS 6
typedef struct dose_row {
    size_t    row;                 /* table row */
    int       n_of;                /* 0: every term must hold; k: at least k of the terms */
    crit_term t[DR_MAX_TERMS];     /* criteria */
    int       nt;                  /* count (0 = no criteria: the indication's general dose) */
    bool      no_rec;              /* action no-recommendation */
    double    amount, amount_low;  /* mg per administration (range low..high) */
    double    per_day;             /* administrations per day of the label's frequency */
    unsigned  concepts;            /* indication concepts of the row ("" -> 0) */
} dose_row;

typedef struct dr_state {
    orx_srl_table t;       /* data/rules/dose_rules.tsv */
    dose_row *rows;    /* parsed rows, t.nrows */
    int c_ingr, c_ind, c_phase, c_crit, c_freq, c_unit, c_route;
} dr_state;

static const char *const VAR_NAME[V_COUNT] = {"crcl", "egfr", "age", "weight", "scr"};
static const char *const VAR_LABEL[V_COUNT] = {"CrCl (mL/min)", "eGFR (mL/min/1.73m2)", "age (years)",
                                               "weight (kg)", "serum creatinine (mg/dL)"};
static const char *const OP_TEXT[] = {"<", "<=", ">", ">="};

static orx_status parse_term(const dr_state *s, size_t r, const char *txt, size_t len,
                             crit_term *out, orx_error *err) {
    char b[48];
    if (len >= sizeof b) len = sizeof b - 1;
    memcpy(b, txt, len);
    b[len] = '\0';
    for (int v = 0; v < V_COUNT; v++) {
        size_t n = strlen(VAR_NAME[v]);
        if (strncmp(b, VAR_NAME[v], n) != 0) continue;
        const char *p = b + n;
        crit_op op = p[0] == '<' ? (p[1] == '=' ? OP_LE : OP_LT) : (p[1] == '=' ? OP_GE : OP_GT);
        if (p[0] != '<' && p[0] != '>') break;
        p += p[1] == '=' ? 2 : 1;
        char *end = NULL;
        double val = strtod(p, &end);
        if (end == p || *end || !isfinite(val)) break;
        out->var = (crit_var)v;
        out->op = op;
        out->val = val;
        return ORX_OK;
    }
    return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'criteria': cannot read '%s' (expected "
                    "crcl|egfr|age|weight|scr then < <= > >= and a number)", s->t.path, r + 2, b);
}

static orx_status parse_criteria(const dr_state *s, size_t r, dose_row *dr, orx_error *err) {
    const char *c = orx_srl_cell(&s->t, r, s->c_crit);
    dr->nt = 0;
    dr->n_of = 0;
    if (!*c) return ORX_OK;
    char sep = '&';
    if (isdigit((unsigned char)c[0]) && strncmp(c + 1, "of:", 3) == 0) {
        dr->n_of = c[0] - '0';
        c += 4;
        sep = ',';
    }
    while (*c) {
        const char *e = strchr(c, sep);
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (dr->nt >= DR_MAX_TERMS)
            return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'criteria': more than %d terms",
                            s->t.path, r + 2, DR_MAX_TERMS);
        orx_status st = parse_term(s, r, c, len, &dr->t[dr->nt++], err);
        if (st != ORX_OK) return st;
        if (!e) break;
        c = e + 1;
    }
    if (dr->n_of > dr->nt)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'criteria': %d of %d terms", s->t.path,
                        r + 2, dr->n_of, dr->nt);
    return ORX_OK;
}

/* Administrations per day of a frequency phrase as labels write it. */
static double freq_per_day(const char *f) {
    static const struct { const char *w; double n; } F[] = {
        {"once daily", 1}, {"once a day", 1}, {"twice daily", 2}, {"twice a day", 2},
        {"three times daily", 3}, {"three times a day", 3}, {"four times daily", 4}, {NULL, 0}};
    for (int i = 0; F[i].w; i++)
        if (strcasecmp(f, F[i].w) == 0) return F[i].n;
    return 0;
}

static orx_status parse_row(const dr_state *s, size_t r, dose_row *dr, orx_error *err) {
    memset(dr, 0, sizeof *dr);
    dr->row = r;
    const orx_srl_table *t = &s->t;
    const char *action = orx_srl_cell(t, r, orx_srl_col(t, "action"));
    const char *phase = orx_srl_cell(t, r, s->c_phase);
    if (strcmp(phase, "initiation") && strcmp(phase, "continuation") && strcmp(phase, "any"))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'phase': '%s' is not initiation/"
                        "continuation/any", t->path, r + 2, phase);
    dr->no_rec = strcmp(action, "no-recommendation") == 0;
    if (!dr->no_rec && strcmp(action, "dose") != 0)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'action': '%s' is not dose/"
                        "no-recommendation", t->path, r + 2, action);
    orx_status st = parse_criteria(s, r, dr, err);
    if (st != ORX_OK || dr->no_rec) goto done;
    bool pr, pr_low;
    if ((st = orx_srl_num(t, r, orx_srl_col(t, "amount"), &dr->amount, &pr, err)) != ORX_OK) return st;
    if ((st = orx_srl_num(t, r, orx_srl_col(t, "amount_low"), &dr->amount_low, &pr_low, err)) != ORX_OK) return st;
    if (!pr || dr->amount <= 0 || strcmp(orx_srl_cell(t, r, s->c_unit), "mg") != 0)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: a dose row needs a positive amount in mg",
                        t->path, r + 2);
    if (!pr_low) dr->amount_low = dr->amount;
    dr->per_day = freq_per_day(orx_srl_cell(t, r, s->c_freq));
    if (dr->per_day <= 0)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'frequency': unknown phrase '%s'",
                        t->path, r + 2, orx_srl_cell(t, r, s->c_freq));
done:
    dr->concepts = orx_srl_indication_concepts(orx_srl_cell(t, r, s->c_ind));
    return st;
}

orx_status orx_check_dose_indication_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredient", "indication", "phase", "criteria",
        "action", "amount_low", "amount", "unit", "frequency", "route", "setid", "corpus",
        "section", "quote", NULL};
    dr_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_srl_table_load(orx_checker_data_dir(ck), "rules/dose_rules.tsv", need, &s->t, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->t, "ingredient", orx_checker_lexicon(ck), err);
    if (st == ORX_OK) {
        s->c_ingr = orx_srl_col(&s->t, "ingredient");
        s->c_ind = orx_srl_col(&s->t, "indication");
        s->c_phase = orx_srl_col(&s->t, "phase");
        s->c_crit = orx_srl_col(&s->t, "criteria");
        s->c_freq = orx_srl_col(&s->t, "frequency");
        s->c_unit = orx_srl_col(&s->t, "unit");
        s->c_route = orx_srl_col(&s->t, "route");
        s->rows = calloc(s->t.nrows ? s->t.nrows : 1, sizeof *s->rows);
        if (!s->rows) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; st == ORX_OK && r < s->t.nrows; r++) st = parse_row(s, r, &s->rows[r], err);
    return orx_check_init_done(st, s, orx_check_dose_indication_fini, state);
}

void orx_check_dose_indication_fini(void *state) {
    dr_state *s = state;
    if (s) orx_srl_table_clear(&s->t);
    if (s) free(s->rows);
    free(s);
}

/* ============================================================================================
 * Patient values and criteria
 * ========================================================================================== */
typedef struct pvals {
    bool   has[V_COUNT];     /* value known */
    double v[V_COUNT];       /* value */
    char   text[V_COUNT][96];/* "CrCl 22 mL/min (Cockcroft-Gault 1976, ideal weight 52.4 kg)" */
} pvals;

static void patient_values(const orx_patient *pt, pvals *p) {
    memset(p, 0, sizeof *p);
    if (pt->crcl.present) {
        p->has[V_CRCL] = true;
        p->v[V_CRCL] = pt->crcl.value;
        orx_fset(p->text[V_CRCL], sizeof p->text[V_CRCL], "CrCl %.0f mL/min (%s)", pt->crcl.value, pt->crcl.formula);
    }
    if (pt->egfr.present || pt->labs[ORX_LAB_EGFR].present) {
        p->has[V_EGFR] = true;
        p->v[V_EGFR] = pt->egfr.present ? pt->egfr.value : pt->labs[ORX_LAB_EGFR].value;
        orx_fset(p->text[V_EGFR], sizeof p->text[V_EGFR], "eGFR %.0f mL/min/1.73m2", p->v[V_EGFR]);
    }
    if (pt->age.present) {
        p->has[V_AGE] = true;
        p->v[V_AGE] = pt->age.value;
        orx_fset(p->text[V_AGE], sizeof p->text[V_AGE], "age %.0f years", pt->age.value);
    }
    const orx_lab *w = &pt->labs[ORX_LAB_WEIGHT], *c = &pt->labs[ORX_LAB_SCR];
    if (w->present) {
        p->has[V_WEIGHT] = true;
        p->v[V_WEIGHT] = w->value;
        orx_fset(p->text[V_WEIGHT], sizeof p->text[V_WEIGHT], "weight %.1f kg (%.10s)", w->value, w->date);
    }
    if (c->present) {
        p->has[V_SCR] = true;
        p->v[V_SCR] = c->value;
        orx_fset(p->text[V_SCR], sizeof p->text[V_SCR], "serum creatinine %.2f mg/dL (%.10s)", c->value, c->date);
    }
}

static tri term_holds(const crit_term *t, const pvals *p) {
    if (!p->has[t->var]) return T_UNKNOWN;
    double x = p->v[t->var];
    bool ok = t->op == OP_LT ? x < t->val : t->op == OP_LE ? x <= t->val
            : t->op == OP_GT ? x > t->val : x >= t->val;
    return ok ? T_TRUE : T_FALSE;
}

/* Whether the patient meets a row's criteria; why gets the terms with the patient's values. */
static tri criteria_hold(const dose_row *d, const pvals *p, char *why, size_t cap) {
    int n_true = 0, n_unknown = 0, n = d->nt;
    size_t o = 0;
    why[0] = '\0';
    for (int i = 0; i < n; i++) {
        tri h = term_holds(&d->t[i], p);
        n_true += h == T_TRUE;
        n_unknown += h == T_UNKNOWN;
        if (o + 1 < cap)
            o += (size_t)snprintf(why + o, cap - o, "%s%s %s %g (%s%s)", o ? "; " : "",
                                  VAR_LABEL[d->t[i].var], OP_TEXT[d->t[i].op], d->t[i].val,
                                  h == T_UNKNOWN ? "not on record" : h == T_TRUE ? "yes: " : "no: ",
                                  h == T_UNKNOWN ? "" : p->text[d->t[i].var]);
        if (o >= cap) o = cap - 1;
    }
    int need = d->n_of ? d->n_of : n;
    if (n_true >= need) return T_TRUE;
    if (n_true + n_unknown < need) return T_FALSE;
    return T_UNKNOWN;
}

/* ============================================================================================
 * Findings
 * ========================================================================================== */
static const dr_state *state_of(const orx_checker *ck) {
    return orx_checker_state(ck, "dose_indication");
}

static bool row_for(const dr_state *s, size_t r, const char *ingredient) {
    return strcasecmp(orx_srl_ingr(&s->t, r, s->c_ingr), ingredient) == 0;
}

static bool phase_ok(const dr_state *s, size_t r, const orx_proposed_drug *d) {
    const char *ph = orx_srl_cell(&s->t, r, s->c_phase);
    if (strcmp(ph, "initiation") == 0) return !d->is_current;
    if (strcmp(ph, "continuation") == 0) return d->is_current;
    return true;
}

static orx_finding *push(orx_findings *out, orx_severity sev, const orx_proposed_drug *d,
                         const dr_state *s, size_t row) {
    orx_finding *f = orx_srl_push(out, "dose", sev, d);
    if (!f) return NULL;
    f->interruptive = sev >= ORX_SEV_MAJOR;
    if (row != (size_t)-1) orx_srl_fill_label(f, &s->t, row);
    return f;
}

static void dose_words(const dr_state *s, const dose_row *d, char *out, size_t cap) {
    const orx_srl_table *t = &s->t;
    if (d->no_rec) { orx_fset(out, cap, "no dose recommendation"); return; }
    if (d->amount_low < d->amount)
        orx_fset(out, cap, "%g to %g mg %s", d->amount_low, d->amount, orx_srl_cell(t, d->row, s->c_freq));
    else
        orx_fset(out, cap, "%g mg %s", d->amount, orx_srl_cell(t, d->row, s->c_freq));
}

/* The drug's indication is unknown or ambiguous: list the label's doses per indication, with
 * whether the patient meets each row's criteria. */
static orx_status list_per_indication(const dr_state *s, const orx_proposed_drug *d,
                                      const char *ingr, const pvals *pv, const orx_srl_indication *ind,
                                      bool all_other, orx_findings *out, orx_error *err) {
    char msg[512];
    size_t o = 0;
    size_t first = (size_t)-1;
    for (size_t r = 0; r < s->t.nrows; r++) {
        if (!row_for(s, r, ingr) || !phase_ok(s, r, d)) continue;
        char why[256], dw[96];
        tri h = s->rows[r].nt ? criteria_hold(&s->rows[r], pv, why, sizeof why) : T_TRUE;
        if (h == T_FALSE) continue; /* only the rows for this patient's band */
        if (first == (size_t)-1) first = r;
        dose_words(s, &s->rows[r], dw, sizeof dw);
        const char *ri = orx_srl_cell(&s->t, r, s->c_ind);
        if (o + 1 < sizeof msg)
            o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s: %s%s", o ? "; " : "",
                                  *ri ? ri : "any indication", dw,
                                  h == T_UNKNOWN ? " (criteria not assessable)" : "");
        if (o >= sizeof msg) o = sizeof msg - 1;
    }
    if (first == (size_t)-1) return ORX_OK;
    orx_finding *f = push(out, ORX_SEV_INFO, d, s, first);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "%s", ind->basis);
    if (all_other)
        orx_fset(f->message, sizeof f->message, "The %s label gives doses only for other indications "
            "than the one given (%s), so the dose was not compared. For this patient: %s.",
            f->drugs, ind->basis, msg);
    else
        orx_fset(f->message, sizeof f->message, "The %s label's dose depends on the indication, which "
            "is not known here (%s). Label doses for this patient by indication: %s.", f->drugs,
            ind->basis, msg);
    orx_fset(f->management, sizeof f->management, "Give the indication (check --indication) to compare "
        "the dose with the label's dose for it.");
    return ORX_OK;
}

static double mg_of(const orx_dose *d) {
    if (strcasecmp(d->unit, "mg") == 0) return 1;
    if (strcasecmp(d->unit, "g") == 0) return 1000;
    if (strcasecmp(d->unit, "mcg") == 0) return 0.001;
    return 0;
}

/* Compare the proposed dose with the applicable rows (all of one indication and band). */
static orx_status compare(const dr_state *s, const orx_proposed_drug *d, const size_t *app,
                          int n_app, const char *crit_why, const char *trig, orx_findings *out,
                          orx_error *err) {
    const dose_row *best = &s->rows[app[0]];
    for (int i = 1; i < n_app; i++)
        if (s->rows[app[i]].amount * s->rows[app[i]].per_day > best->amount * best->per_day)
            best = &s->rows[app[i]];
    double f = mg_of(&d->dose);
    double mg = d->dose.amount * f, per_day = d->dose.per_day;
    /* the row the dose matches, else one it is within, else the largest */
    for (int i = 0, found = 0; i < n_app && !found && f > 0 && per_day > 0; i++) {
        const dose_row *r = &s->rows[app[i]];
        if (fabs(mg - r->amount) < 1e-9 * r->amount && fabs(per_day - r->per_day) < 1e-9) { best = r; found = 1; }
    }
    char label[128];
    dose_words(s, best, label, sizeof label);
    const char *ri = orx_srl_cell(&s->t, best->row, s->c_ind);
    bool starting = strcmp(orx_srl_cell(&s->t, best->row, s->c_phase), "initiation") == 0;
    char for_txt[220]; /* "dose for <indication>" / "starting dose" */
    orx_fset(for_txt, sizeof for_txt, "%sdose%s%s", starting ? "starting " : "", *ri ? " for " : "", ri);
    if (!d->dose.present || f == 0 || d->dose.per_day <= 0 || d->dose.n_parts > 1) {
        orx_finding *x = push(out, ORX_SEV_INFO, d, s, best->row);
        if (!x) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(x->trigger, sizeof x->trigger, "%s", trig);
        orx_fset(x->message, sizeof x->message, "Unable to compare the %s dose with the label's %s "
            "(%s%s%s): the proposed dose %s.", x->drugs, for_txt, label, *crit_why ? "; " : "",
            crit_why, !d->dose.present ? "has no amount" : f == 0 ? "is not in mg, g or mcg"
            : d->dose.n_parts > 1 ? "is a combination strength" : "has no frequency");
        return ORX_OK;
    }
    bool within = false, equal = false, below = true;
    for (int i = 0; i < n_app; i++) {
        const dose_row *r = &s->rows[app[i]];
        bool dose_ok = mg <= r->amount * (1 + 1e-9);
        bool day_ok = mg * per_day <= r->amount * r->per_day * (1 + 1e-9);
        within |= dose_ok && day_ok;
        equal |= fabs(mg - r->amount) < 1e-9 * r->amount && fabs(per_day - r->per_day) < 1e-9;
        below &= mg * per_day < r->amount_low * r->per_day * (1 - 1e-9);
    }
    orx_severity sev = within ? ORX_SEV_INFO : ORX_SEV_MAJOR;
    orx_finding *x = push(out, sev, d, s, best->row);
    if (!x) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(x->trigger, sizeof x->trigger, "proposed %g mg %s; %s", mg, d->dose.frequency, trig);
    char crit_txt[300] = "";
    if (*crit_why) orx_fset(crit_txt, sizeof crit_txt, " The patient meets the label's criteria: %s.", crit_why);
    if (!within)
        orx_fset(x->message, sizeof x->message, "%s %g mg %s is above the label's %s for this "
            "patient: %s.%s", x->drugs, mg, d->dose.frequency, for_txt, label, crit_txt);
    else
        orx_fset(x->message, sizeof x->message, "%s %g mg %s %s the label's %s "
            "(%s).%s", x->drugs, mg, d->dose.frequency,
            equal ? "matches" : below ? "is below" : "is within", for_txt, label, crit_txt);
    orx_fset(x->management, sizeof x->management, within ? "No change needed for the label's dose; "
        "review the quoted statement." : "Use the label's dose for this indication and patient "
        "(quoted), or document why not.");
    return ORX_OK;
}

/* Rows of one indication (or the general rows) whose criteria the patient meets; UNKNOWN when a
 * criteria row could not be assessed and none was met. */
static tri applicable_rows(const dr_state *s, const orx_proposed_drug *d, const char *ingr,
                           const orx_srl_indication *ind, bool ambiguous, const pvals *pv,
                           size_t *app, int *n_app, char *why, size_t wcap, char *missing,
                           size_t mcap) {
    int n_crit = 0, n_base = 0;
    size_t crit[32], base[32];
    bool unknown = false;
    missing[0] = why[0] = '\0';
    for (size_t r = 0; r < s->t.nrows; r++) {
        if (!row_for(s, r, ingr) || !phase_ok(s, r, d)) continue;
        orx_srl_ind_match m = orx_srl_indication_match(orx_srl_cell(&s->t, r, s->c_ind), ind);
        if (ambiguous && m == SRL_IND_MATCH) m = SRL_IND_UNKNOWN;
        if (m != SRL_IND_MATCH && m != SRL_IND_GENERAL) continue;
        if (s->rows[r].nt == 0) { if (n_base < 32) base[n_base++] = r; continue; }
        char w[256];
        tri h = criteria_hold(&s->rows[r], pv, w, sizeof w);
        if (h == T_TRUE && n_crit < 32) {
            if (!n_crit) orx_fset(why, wcap, "%s", w);
            crit[n_crit++] = r;
        }
        if (h == T_UNKNOWN && !unknown) { unknown = true; orx_fset(missing, mcap, "%s", w); }
    }
    *n_app = 0;
    if (n_crit) { memcpy(app, crit, (size_t)n_crit * sizeof *app); *n_app = n_crit; return T_TRUE; }
    if (unknown) return T_UNKNOWN;
    memcpy(app, base, (size_t)n_base * sizeof *app);
    *n_app = n_base;
    return n_base ? T_TRUE : T_FALSE;
}

static bool ambiguous_indication(const dr_state *s, const orx_proposed_drug *d, const char *ingr,
                                 const orx_srl_indication *ind, bool *any_match, bool *any_unknown,
                                 bool *any_rows) {
    unsigned first = 0;
    bool amb = false;
    *any_match = *any_unknown = *any_rows = false;
    for (size_t r = 0; r < s->t.nrows; r++) {
        if (!row_for(s, r, ingr) || !phase_ok(s, r, d)) continue;
        *any_rows = true;
        orx_srl_ind_match m = orx_srl_indication_match(orx_srl_cell(&s->t, r, s->c_ind), ind);
        if (m == SRL_IND_GENERAL || m == SRL_IND_MATCH) *any_match = true;
        if (m == SRL_IND_UNKNOWN || m == SRL_IND_UNRECOGNISED) *any_unknown = true;
        if (m != SRL_IND_MATCH) continue;
        if (first && first != s->rows[r].concepts) amb = true;
        if (!first) first = s->rows[r].concepts;
    }
    return amb && !ind->explicit_given;
}

static orx_status ds_note(const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    bool ds = false;
    for (const char *p = d->text; *p; p++)
        if ((p == d->text || !isalnum((unsigned char)p[-1])) && strncasecmp(p, "ds", 2) == 0 &&
            !isalnum((unsigned char)p[2]))
            ds = true;
    if (!ds || (d->dose.present && mg_of(&d->dose) > 0)) return ORX_OK;
    orx_finding *f = orx_srl_push(out, "dose", ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "proposed drug: %s", d->text);
    orx_fset(f->message, sizeof f->message, "'DS' (double strength) is not defined in any shipped "
        "source, so the strength of %s was not inferred and its dose was not checked.", f->drugs);
    orx_fset(f->management, sizeof f->management, "Write the strengths, e.g. \"800 mg/160 mg\".");
    orx_fset(f->source, sizeof f->source, "openrx dose parser");
    orx_fset(f->citation, sizeof f->citation, "data/rules/SOURCE.md (dose rules: no sourced 'DS')");
    return ORX_OK;
}

orx_status orx_check_dose_indication(const orx_checker *ck, const orx_patient *pt,
                                     const orx_proposed_drug *drug, orx_findings *out,
                                     orx_error *err) {
    const dr_state *s = state_of(ck);
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    orx_status st = ds_note(drug, out, err);
    if (st != ORX_OK || drug->n_ingr != 1) return st;
    const char *ingr = drug->ingr[0].ingredient;
    orx_srl_indication ind;
    orx_srl_drug_indication(pt, drug, &ind);
    bool any_match, any_unknown, any_rows;
    bool amb = ambiguous_indication(s, drug, ingr, &ind, &any_match, &any_unknown, &any_rows);
    if (!any_rows) return ORX_OK;
    pvals pv;
    patient_values(pt, &pv);
    /* no label indication matches: "another indication" only when the indication was given;
     * from the problem list it means the indication is not known */
    if (amb || !any_match)
        return list_per_indication(s, drug, ingr, &pv, &ind,
                                   !amb && !any_unknown && ind.explicit_given, out, err);
    size_t app[32];
    int n_app = 0;
    char why[256], missing[256];
    tri h = applicable_rows(s, drug, ingr, &ind, amb, &pv, app, &n_app, why, sizeof why,
                            missing, sizeof missing);
    if (h == T_FALSE) return ORX_OK; /* no label dose for this band */
    char trig[256];
    orx_srl_indication_basis(&ind, n_app ? s->rows[app[0]].concepts : 0, trig, sizeof trig);
    if (h == T_UNKNOWN) {
        orx_finding *f = push(out, ORX_SEV_INFO, drug, s, (size_t)-1);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(f->trigger, sizeof f->trigger, "%s", trig);
        orx_fset(f->message, sizeof f->message, "Unable to assess the %s dose for this patient: the "
            "label's dose depends on %s.", f->drugs, missing);
        orx_fset(f->management, sizeof f->management, "Record the missing value(s) to compare the dose.");
        orx_fset(f->source, sizeof f->source, "openrx dose rules (data/rules/dose_rules.tsv)");
        orx_fset(f->citation, sizeof f->citation, "data/rules/dose_rules.tsv rows for %s", ingr);
        return ORX_OK;
    }
    for (int i = 0; i < n_app; i++)
        if (s->rows[app[i]].no_rec) {
            orx_finding *f = push(out, ORX_SEV_MODERATE, drug, s, app[i]);
            if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
            const char *ri = orx_srl_cell(&s->t, app[i], s->c_ind);
            orx_fset(f->trigger, sizeof f->trigger, "%s; %s", why, trig);
            orx_fset(f->message, sizeof f->message, "The %s label gives no dose recommendation %s%s for "
                "this patient (%s).", f->drugs, *ri ? "for " : "", ri, why);
            orx_fset(f->management, sizeof f->management, "Choose another drug or document the "
                "decision; the label cannot support a dose here.");
            return ORX_OK;
        }
    return compare(s, drug, app, n_app, why, trig, out, err);
}

/* ============================================================================================
 * Queries from the renal check
 * ========================================================================================== */
bool orx_srl_dose_rules_have(const orx_checker *ck, const char *ingredient) {
    const dr_state *s = state_of(ck);
    for (size_t r = 0; s && r < s->t.nrows; r++)
        if (row_for(s, r, ingredient)) return true;
    return false;
}

bool orx_srl_dose_rules_cover(const orx_checker *ck, const orx_patient *pt,
                          const orx_proposed_drug *d, const char *indication) {
    (void)pt;
    const dr_state *s = state_of(ck);
    if (!s || !d || d->n_ingr != 1) return false;
    unsigned want = orx_srl_indication_concepts(indication);
    for (size_t r = 0; r < s->t.nrows; r++) {
        if (!row_for(s, r, d->ingr[0].ingredient)) continue;
        bool renal_row = false;
        for (int k = 0; k < s->rows[r].nt; k++)
            renal_row |= s->rows[r].t[k].var == V_CRCL || s->rows[r].t[k].var == V_EGFR;
        if (renal_row && (!indication || !*indication || s->rows[r].concepts == want)) return true;
    }
    return false;
}
