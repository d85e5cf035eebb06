/*
 * dose_limits.c — maximum-dose check: the proposed dose against the maximum stated in the
 * label's dosage section (data/rules/dose_limits.tsv: amount, unit, period per day / per dose /
 * per week, quoted with set id + section).
 *
 * Rules apply to single-ingredient drugs only (a combination's limit names one component).
 * When a label states several maxima for one period (population-specific ones are filtered out by
 * the extraction, but a table may still hold more than one), the LARGEST is the general limit and
 * the one compared. Prescription-label rules take precedence over OTC-label rules. A rule from an
 * injection label is not compared with an oral dose and vice versa. Mass units only (mg, g, mcg);
 * a dose in tablets or per kg, or without a frequency for a per-day limit, gives an
 * "unable to assess" info finding.
 */
#include "safety/label_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct dose_state {
    orx_srl_table rules;  /* data/rules/dose_limits.tsv */
    int c_ingr, c_amount, c_unit, c_period, c_form, c_type;
} dose_state;

/* mg per unit, 0 for a non-mass unit. */
static double mg_factor(const char *unit) {
    if (strcasecmp(unit, "mg") == 0) return 1.0;
    if (strcasecmp(unit, "g") == 0) return 1000.0;
    if (strcasecmp(unit, "mcg") == 0) return 0.001;
    return 0.0;
}

orx_status orx_check_dose_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredient", "amount", "unit", "period", "form",
        "label_type", "setid", "corpus", "section", "quote", NULL};
    dose_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_srl_table_load(orx_checker_data_dir(ck), "rules/dose_limits.tsv", need,
                                   &s->rules, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->rules, "ingredient", orx_checker_lexicon(ck), err);
    if (st != ORX_OK) return orx_check_init_done(st, s, orx_check_dose_fini, state);
    s->c_ingr = orx_srl_col(&s->rules, "ingredient");
    s->c_amount = orx_srl_col(&s->rules, "amount");
    s->c_unit = orx_srl_col(&s->rules, "unit");
    s->c_period = orx_srl_col(&s->rules, "period");
    s->c_form = orx_srl_col(&s->rules, "form");
    s->c_type = orx_srl_col(&s->rules, "label_type");
    for (size_t r = 0; r < s->rules.nrows && st == ORX_OK; r++) {
        double v;
        bool pr;
        st = orx_srl_num(&s->rules, r, s->c_amount, &v, &pr, err);
        const char *per = orx_srl_cell(&s->rules, r, s->c_period);
        if (st == ORX_OK && (!pr || v <= 0))
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'amount': must be a positive number",
                          s->rules.path, r + 2);
        else if (st == ORX_OK && mg_factor(orx_srl_cell(&s->rules, r, s->c_unit)) == 0)
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'unit': '%s' is not mg/g/mcg",
                          s->rules.path, r + 2, orx_srl_cell(&s->rules, r, s->c_unit));
        else if (st == ORX_OK && strcmp(per, "day") && strcmp(per, "dose") && strcmp(per, "week"))
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'period': '%s' is not day/dose/week",
                          s->rules.path, r + 2, per);
    }
    return orx_check_init_done(st, s, orx_check_dose_fini, state);
}

void orx_check_dose_fini(void *state) {
    dose_state *s = state;
    if (s) orx_srl_table_clear(&s->rules);
    free(s);
}

/* Does a rule from a label of this dosage form apply to the dose's route? */
static bool form_fits(const char *form, const char *route) {
    if (!*route || !*form) return true;
    bool parenteral = strcmp(route, "iv") == 0 || strcmp(route, "im") == 0 ||
                      strcmp(route, "subcutaneous") == 0;
    bool injection_form = strcmp(form, "injection") == 0 || strcmp(form, "powder") == 0;
    bool oral_form = strncmp(form, "tablet", 6) == 0 || strncmp(form, "capsule", 7) == 0 ||
                     strcmp(form, "suspension") == 0 || strcmp(form, "syrup") == 0;
    if (parenteral) return injection_form;
    if (strcmp(route, "oral") == 0) return oral_form || (!injection_form && strcmp(form, "patch"));
    if (strcmp(route, "transdermal") == 0) return strcmp(form, "patch") == 0;
    return !injection_form && !oral_form;
}

static orx_status unable(const orx_proposed_drug *d, const char *why, size_t rule_row,
                         const dose_state *s, orx_findings *out, orx_error *err) {
    orx_finding *f = orx_srl_push(out, "dose", ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "proposed dose: %s", d->dose.text);
    orx_fset(f->message, sizeof f->message, "Unable to compare the %s dose with the label's maximum "
        "dose: %s.", f->drugs, why);
    orx_srl_fill_label(f, &s->rules, rule_row);
    return ORX_OK;
}

orx_status orx_check_dose(const orx_checker *ck, const orx_patient *pt,
                          const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const dose_state *s = orx_checker_state(ck, "dose");
    if (!s || !drug || drug->n_ingr != 1 || !drug->dose.present || drug->dose_error[0])
        return ORX_OK;
    const char *ingr = drug->ingr[0].ingredient;
    const orx_srl_table *t = &s->rules;
    bool have_rx = false;
    for (size_t r = 0; r < t->nrows; r++)
        if (strcasecmp(orx_srl_ingr(t, r, s->c_ingr), ingr) == 0 &&
            strcmp(orx_srl_cell(t, r, s->c_type), "Rx") == 0 &&
            form_fits(orx_srl_cell(t, r, s->c_form), drug->dose.route))
            have_rx = true;
    /* largest limit per period among applicable rules */
    static const char *const periods[] = {"dose", "day", "week"};
    for (int p = 0; p < 3; p++) {
        size_t best = (size_t)-1;
        double best_mg = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            if (strcasecmp(orx_srl_ingr(t, r, s->c_ingr), ingr) != 0) continue;
            if (strcmp(orx_srl_cell(t, r, s->c_period), periods[p]) != 0) continue;
            if (have_rx && strcmp(orx_srl_cell(t, r, s->c_type), "Rx") != 0) continue;
            if (!form_fits(orx_srl_cell(t, r, s->c_form), drug->dose.route)) continue;
            double amt = strtod(orx_srl_cell(t, r, s->c_amount), NULL) * mg_factor(orx_srl_cell(t, r, s->c_unit));
            if (best == (size_t)-1 || amt > best_mg) { best = r; best_mg = amt; }
        }
        if (best == (size_t)-1) continue;
        double f_mg = mg_factor(drug->dose.unit);
        if (f_mg == 0) {
            char why[128];
            orx_fset(why, sizeof why, "the dose unit '%s' is not a mass unit", drug->dose.unit);
            return unable(drug, why, best, s, out, err);
        }
        double have_mg;
        const char *what;
        if (p == 0) {
            have_mg = drug->dose.amount * f_mg;
            what = "per dose";
        } else {
            if (drug->dose.per_day <= 0 || drug->dose.daily_amount <= 0)
                return unable(drug, "the dose has no frequency, so the daily amount is unknown",
                              best, s, out, err);
            have_mg = drug->dose.daily_amount * f_mg * (p == 2 ? 7.0 : 1.0);
            what = p == 2 ? "per week" : "per day";
        }
        if (have_mg <= best_mg * (1.0 + 1e-9)) continue;
        orx_finding *f = orx_srl_push(out, "dose", ORX_SEV_MAJOR, drug);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        f->interruptive = true;
        orx_fset(f->trigger, sizeof f->trigger, "proposed %s: %g mg %s", drug->dose.text, have_mg, what);
        orx_fset(f->message, sizeof f->message, "The proposed %s dose (%g mg %s) exceeds the maximum "
            "stated in its label (%s %s per %s).", f->drugs, have_mg, what,
            orx_srl_cell(t, best, s->c_amount), orx_srl_cell(t, best, s->c_unit), periods[p]);
        orx_fset(f->management, sizeof f->management, "Do not exceed the label maximum unless the "
            "prescriber documents why.");
        orx_srl_fill_label(f, t, best);
    }
    (void)pt;
    return ORX_OK;
}
