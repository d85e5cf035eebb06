/*
 * renal.c — renal check: label sentences that state a CrCl/eGFR threshold or band with an action
 * (data/rules/renal.tsv, quoted, derived by tools/derive_safety_rules.py) against the patient's
 * Cockcroft–Gault CrCl / CKD-EPI 2021 eGFR / reported eGFR, plus the exposure change measured in
 * renal impairment from the FDA Organ Impairment DIDB (data/rules/organ_impairment.tsv, info).
 *
 * Which patient value: a CrCl rule uses CrCl; an eGFR rule uses eGFR (computed, else reported).
 * When the rule's measure is missing but the other one is present, the other is used and the
 * trigger says so. No CrCl and no eGFR at all: one "unable to assess renal dosing" info finding.
 *
 * Scope of a statement: a statement under an indication heading applies only when the drug is
 * given for that indication (indication.c; another indication: it does not fire; indication
 * unknown: shown as info naming the indication). A statement about starting the drug
 * ("Initiation is not recommended") applies to a proposed drug; one about a patient already taking
 * it ("assess the benefit and risk of continuing") to a current medicine. Dose statements that the
 * curated dose rules compare with the proposed dose (dose_rules.c) are left to that check.
 * A proposed drug with no renal statement at all, in a patient with CrCl/eGFR < 60, gets one
 * "not assessed" info saying whether the shipped corpus has its label (data/rules/label_index.tsv).
 */
#include "safety/label_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * State
 * ========================================================================================== */
typedef struct renal_state {
    orx_srl_table rules;   /* data/rules/renal.tsv */
    const orx_srl_table *oi; /* data/rules/organ_impairment.tsv (the checker's; ncols 0 when absent) */
    orx_srl_table index;   /* data/rules/label_index.tsv: which ingredients have shipped label text */
    int c_ingr, c_measure, c_lo, c_lo_incl, c_hi, c_hi_incl, c_action, c_sev, c_label_type;
    int c_ind, c_phase; /* indication heading, phase (initiation | continuation | any) */
} renal_state;

orx_status orx_check_renal_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredients", "measure", "lo", "lo_incl", "hi",
        "hi_incl", "action", "severity", "indication", "phase", "label_type", "setid", "corpus",
        "section", "quote", NULL};
    static const char *const need_ix[] = {"ingredients", "corpus", "setid", "has_dosage",
                                          "mentions_renal", "sections", NULL};
    renal_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    const char *dir = orx_checker_data_dir(ck);
    orx_status st = orx_srl_table_load(dir, "rules/renal.tsv", need, &s->rules, err);
    if (st != ORX_OK) { free(s); return st; }
    s->oi = orx_checker_organ_impairment(ck);
    s->c_ingr = orx_srl_col(&s->rules, "ingredients");
    const orx_lexicon *lex = orx_checker_lexicon(ck);
    st = orx_srl_table_normalise(&s->rules, "ingredients", lex, err);
    if (st == ORX_OK) st = orx_srl_table_load(dir, "rules/label_index.tsv", need_ix, &s->index, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->index, "ingredients", lex, err);
    if (st != ORX_OK) {
        orx_check_renal_fini(s);
        return st;
    }
    s->c_ind = orx_srl_col(&s->rules, "indication");
    s->c_phase = orx_srl_col(&s->rules, "phase");
    s->c_measure = orx_srl_col(&s->rules, "measure");
    s->c_lo = orx_srl_col(&s->rules, "lo");
    s->c_lo_incl = orx_srl_col(&s->rules, "lo_incl");
    s->c_hi = orx_srl_col(&s->rules, "hi");
    s->c_hi_incl = orx_srl_col(&s->rules, "hi_incl");
    s->c_action = orx_srl_col(&s->rules, "action");
    s->c_sev = orx_srl_col(&s->rules, "severity");
    s->c_label_type = orx_srl_col(&s->rules, "label_type");
    /* validate every numeric/severity cell once, so a bad table fails at load with file:line */
    for (size_t r = 0; st == ORX_OK && r < s->rules.nrows; r++) {
        double v;
        bool pr;
        orx_severity sev;
        if ((st = orx_srl_num(&s->rules, r, s->c_lo, &v, &pr, err)) == ORX_OK &&
            (st = orx_srl_num(&s->rules, r, s->c_hi, &v, &pr, err)) == ORX_OK)
            st = orx_srl_severity(&s->rules, r, s->c_sev, &sev, err);
    }
    return orx_check_init_done(st, s, orx_check_renal_fini, state);
}

void orx_check_renal_fini(void *state) {
    renal_state *s = state;
    if (s) orx_srl_tables_free((orx_srl_table *[]){&s->rules, &s->index}, 2);
    free(s);
}

/* ============================================================================================
 * Patient value
 * ========================================================================================== */
typedef struct renal_value {
    bool   present;      /* a value was available */
    double value;        /* mL/min or mL/min/1.73m2 */
    char   text[256];    /* "CrCl 24 mL/min (Cockcroft-Gault 1976, actual weight)" */
} renal_value;

static void value_crcl(const orx_patient *pt, renal_value *v) {
    v->present = true;
    v->value = pt->crcl.value;
    orx_fset(v->text, sizeof v->text, "CrCl %.0f mL/min (%s, %s weight %.1f kg)", pt->crcl.value,
        pt->crcl.formula, orx_weight_choice_name(pt->crcl_weight), pt->crcl_weight_kg);
}

static void value_egfr(const orx_patient *pt, renal_value *v) {
    v->present = true;
    if (pt->egfr.present) {
        v->value = pt->egfr.value;
        orx_fset(v->text, sizeof v->text, "eGFR %.0f mL/min/1.73m2 (%s)", pt->egfr.value, pt->egfr.formula);
    } else {
        const orx_lab *l = &pt->labs[ORX_LAB_EGFR];
        v->value = l->value;
        orx_fset(v->text, sizeof v->text, "eGFR %.0f mL/min/1.73m2 (reported by the laboratory%s%s)",
            l->value, *l->date ? ", " : "", l->date);
    }
}

/* The value to compare with a rule on measure ("CrCl"/"eGFR"); false when neither exists. */
static bool patient_value(const orx_patient *pt, const char *measure, renal_value *v) {
    bool has_crcl = pt->crcl.present;
    bool has_egfr = pt->egfr.present || pt->labs[ORX_LAB_EGFR].present;
    memset(v, 0, sizeof *v);
    bool crcl = strcmp(measure, "CrCl") == 0;
    bool has = crcl ? has_crcl : has_egfr; /* the measure asked for; else the other one stands in */
    if (!has_crcl && !has_egfr) return false;
    if (crcl == has) value_crcl(pt, v);
    else value_egfr(pt, v);
    if (has) return true;
    char t[256];
    orx_fset(t, sizeof t, "%s; used because %s is unavailable (%s)", v->text, crcl ? "CrCl" : "eGFR",
        crcl ? pt->crcl.why_absent : pt->egfr.why_absent);
    memcpy(v->text, t, sizeof t);
    return true;
}

/* ============================================================================================
 * Check
 * ========================================================================================== */
static bool in_band(const renal_state *s, size_t r, double x, char *band, size_t cap,
                    orx_error *err) {
    double lo, hi;
    bool has_lo, has_hi;
    if (orx_srl_num(&s->rules, r, s->c_lo, &lo, &has_lo, err) != ORX_OK) return false;
    if (orx_srl_num(&s->rules, r, s->c_hi, &hi, &has_hi, err) != ORX_OK) return false;
    bool lo_incl = strcmp(orx_srl_cell(&s->rules, r, s->c_lo_incl), "1") == 0;
    bool hi_incl = strcmp(orx_srl_cell(&s->rules, r, s->c_hi_incl), "1") == 0;
    const char *m = orx_srl_cell(&s->rules, r, s->c_measure);
    if (has_lo && has_hi)
        orx_fset(band, cap, "%s %s%g to %s%g", m, lo_incl ? "" : ">", lo, hi_incl ? "" : "<", hi);
    else if (has_hi)
        orx_fset(band, cap, "%s %s %g", m, hi_incl ? "<=" : "<", hi);
    else if (has_lo)
        orx_fset(band, cap, "%s %s %g", m, lo_incl ? ">=" : ">", lo);
    else
        return false;
    if (has_lo && (lo_incl ? x < lo : x <= lo)) return false;
    if (has_hi && (hi_incl ? x > hi : x >= hi)) return false;
    return true;
}

static const char *action_words(const char *a) {
    if (strcmp(a, "contraindicated") == 0) return "states it is contraindicated";
    if (strcmp(a, "avoid") == 0) return "says to avoid it";
    if (strcmp(a, "discontinue") == 0) return "says to discontinue it";
    if (strcmp(a, "not-recommended") == 0) return "does not recommend it";
    if (strcmp(a, "no-dosing-recommendation") == 0) return "gives no dosing recommendation";
    if (strcmp(a, "dose-adjust") == 0) return "gives a dose adjustment";
    if (strcmp(a, "assess-continuation") == 0) return "says to weigh the benefit and risk of continuing it";
    if (strcmp(a, "interrupt") == 0) return "says to interrupt it";
    return "has a statement";
}

/* Dose statements (as opposed to avoid / contraindicated ones), which the dose rules may own. */
static bool dose_action(const char *a) {
    return strcmp(a, "dose-adjust") == 0 || strcmp(a, "no-dosing-recommendation") == 0;
}

static orx_status exposure_note(const renal_state *s, const orx_patient *pt,
                                const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    if (!s->oi->ncols || d->n_ingr != 1) return ORX_OK;
    const char *col = pt->renal_band == ORX_RENAL_MODERATE ? "moderate"
                    : pt->renal_band == ORX_RENAL_SEVERE   ? "severe"
                    : pt->renal_band == ORX_RENAL_FAILURE  ? "esrd" : NULL;
    if (!col) return ORX_OK;
    int c_ing = orx_srl_col(s->oi, "ingredient"), c_org = orx_srl_col(s->oi, "organ");
    int c_met = orx_srl_col(s->oi, "metric"), c_val = orx_srl_col(s->oi, col);
    for (size_t r = 0; r < s->oi->nrows; r++) {
        if (strcasecmp(orx_srl_ingr(s->oi, r, c_ing), d->ingr[0].ingredient) != 0) continue;
        if (strcmp(orx_srl_cell(s->oi, r, c_org), "renal") != 0) continue;
        const char *v = orx_srl_cell(s->oi, r, c_val);
        if (!orx_srl_is_number(v)) continue; /* empty, or text such as "no change" */
        orx_finding *f = orx_srl_push(out, "renal", ORX_SEV_INFO, d);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(f->trigger, sizeof f->trigger, "renal band %s (%s)", orx_renal_band_name(pt->renal_band),
            pt->renal_basis);
        bool ratio = strcmp(orx_srl_cell(s->oi, r, c_met), "AUC-ratio") == 0;
        if (ratio)
            orx_fset(f->message, sizeof f->message, "Measured %s exposure in %s renal impairment: AUC "
                "ratio %s versus normal function (FDA Organ Impairment DIDB).", f->drugs, col, v);
        else
            orx_fset(f->message, sizeof f->message, "Measured %s exposure in %s renal impairment: AUC "
                "change %s%% versus normal function (FDA Organ Impairment DIDB).", f->drugs, col, v);
        orx_fset(f->source, sizeof f->source, "FDA Organ Impairment DIDB (Yeung et al. 2015)");
        orx_fset(f->citation, sizeof f->citation, "organ_impairment.tsv:%zu (%s%s%s)", r + 2,
            orx_srl_cell(s->oi, r, orx_srl_col(s->oi, "row")), *orx_srl_cell(s->oi, r, orx_srl_col(s->oi, "ref")) ? ", ref " : "",
            orx_srl_cell(s->oi, r, orx_srl_col(s->oi, "ref")));
        return ORX_OK; /* one note per drug */
    }
    return ORX_OK;
}

/* Phase of a statement vs the drug: initiation statements for proposed drugs, continuation
 * statements for current medicines, "any" for both. */
static bool phase_applies(const renal_state *s, size_t r, const orx_proposed_drug *d) {
    const char *ph = orx_srl_cell(&s->rules, r, s->c_phase);
    if (strcmp(ph, "initiation") == 0) return !d->is_current;
    if (strcmp(ph, "continuation") == 0) return d->is_current;
    return true;
}

/* How a row's indication relates to the drug's; more than one label indication matched from the
 * problem list (no indication given) is ambiguous: every scoped row is then "unknown". */
static orx_srl_ind_match row_scope(const renal_state *s, size_t r, const orx_srl_indication *ind,
                               bool ambiguous, bool none_matches) {
    orx_srl_ind_match m = orx_srl_indication_match(orx_srl_cell(&s->rules, r, s->c_ind), ind);
    if (ambiguous && m == SRL_IND_MATCH) return SRL_IND_UNKNOWN;
    /* problems that name none of the label's indications: the indication is not known */
    if (none_matches && !ind->explicit_given && m == SRL_IND_OTHER) return SRL_IND_UNKNOWN;
    return m;
}

/* True when no scoped statement of the drug matches the drug's indication. */
static bool no_scoped_match(const renal_state *s, const orx_proposed_drug *d,
                            const orx_srl_indication *ind) {
    for (size_t r = 0; r < s->rules.nrows; r++)
        if (orx_srl_drug_matches(d, orx_srl_ingr(&s->rules, r, s->c_ingr), false) &&
            *orx_srl_cell(&s->rules, r, s->c_ind) &&
            orx_srl_indication_match(orx_srl_cell(&s->rules, r, s->c_ind), ind) == SRL_IND_MATCH)
            return false;
    return true;
}

static bool matched_indications_ambiguous(const renal_state *s, const orx_proposed_drug *d,
                                          const orx_srl_indication *ind) {
    if (ind->explicit_given) return false;
    const char *first = NULL;
    for (size_t r = 0; r < s->rules.nrows; r++) {
        if (!orx_srl_drug_matches(d, orx_srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
        const char *ri = orx_srl_cell(&s->rules, r, s->c_ind);
        if (orx_srl_indication_match(ri, ind) != SRL_IND_MATCH) continue;
        if (first && orx_srl_indication_concepts(first) != orx_srl_indication_concepts(ri)) return true;
        if (!first) first = ri;
    }
    return false;
}

/* With the indication unknown, does every indication the label scopes statements to have an
 * in-band statement with this action for this patient? Then the action holds whatever the
 * indication ("avoid below CrCl 15" for atrial fibrillation, "avoid below 30" for the others). */
static bool unanimous(const renal_state *s, const orx_patient *pt, const orx_proposed_drug *d,
                      const char *action) {
    unsigned sets[16];
    int n_sets = 0;
    for (size_t r = 0; r < s->rules.nrows; r++) {
        if (!orx_srl_drug_matches(d, orx_srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
        unsigned c = orx_srl_indication_concepts(orx_srl_cell(&s->rules, r, s->c_ind));
        if (!c) continue;
        bool seen = false;
        for (int i = 0; i < n_sets; i++) seen |= sets[i] == c;
        if (!seen && n_sets < 16) sets[n_sets++] = c;
    }
    if (n_sets == 0) return false;
    for (int i = 0; i < n_sets; i++) {
        bool has = false;
        for (size_t r = 0; r < s->rules.nrows && !has; r++) {
            if (!orx_srl_drug_matches(d, orx_srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
            if (orx_srl_indication_concepts(orx_srl_cell(&s->rules, r, s->c_ind)) != sets[i]) continue;
            if (strcmp(orx_srl_cell(&s->rules, r, s->c_action), action) != 0 || !phase_applies(s, r, d)) continue;
            renal_value v;
            char band[96];
            orx_error e2 = {0};
            has = patient_value(pt, orx_srl_cell(&s->rules, r, s->c_measure), &v) &&
                  in_band(s, r, v.value, band, sizeof band, &e2);
        }
        if (!has) return false;
    }
    return true;
}

static orx_status unable_no_value(const renal_state *s, const orx_patient *pt,
                                  const orx_proposed_drug *drug, size_t n_rules, size_t first,
                                  orx_findings *out, orx_error *err) {
    orx_finding *f = orx_srl_push(out, "renal", ORX_SEV_INFO, drug);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "no CrCl or eGFR: %s", pt->crcl.why_absent);
    orx_fset(f->message, sizeof f->message, "Unable to assess renal dosing of %s: its label has %zu "
        "renal statement(s) but the record has no creatinine clearance or eGFR.", f->drugs, n_rules);
    orx_fset(f->management, sizeof f->management, "Obtain serum creatinine (and weight) or an eGFR "
        "before relying on the label's renal dosing.");
    orx_srl_fill_label(f, &s->rules, first); /* cites (and quotes) the first such statement */
    return ORX_OK;
}

/* A proposed drug with no renal statement anywhere (label rules or curated dose rules), in a
 * patient whose CrCl/eGFR is below 60: say that renal dosing was not assessed and why. */
static orx_status unknown_renal_handling(const orx_checker *ck, const orx_patient *pt,
                                         const orx_proposed_drug *d, orx_findings *out,
                                         orx_error *err) {
    if (d->is_current || pt->renal_band < ORX_RENAL_MODERATE) return ORX_OK;
    for (int i = 0; i < d->n_ingr; i++)
        if (orx_srl_dose_rules_have(ck, d->ingr[i].ingredient)) return ORX_OK;
    orx_finding *f = orx_srl_push(out, "renal", ORX_SEV_INFO, d);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_fset(f->trigger, sizeof f->trigger, "renal band %s (%s)", orx_renal_band_name(pt->renal_band),
        pt->renal_basis);
    char where[200] = "", one[200];
    size_t n = 0;
    for (int i = 0; i < d->n_ingr && n < sizeof where; i++) {
        bool have = orx_srl_label_presence(ck, d->ingr[i].ingredient, one, sizeof one);
        n += (size_t)snprintf(where + n, sizeof where - n, "%s%s: %s", n ? "; " : "",
                              d->ingr[i].ingredient, have ? one : "no label in the shipped corpus");
    }
    orx_fset(f->message, sizeof f->message, "Renal dosing of %s NOT assessed: no label statement on "
        "renal function for it in the shipped corpus (%s). The patient's renal function is "
        "reduced; check the current label before prescribing.", f->drugs, where);
    orx_fset(f->management, sizeof f->management, "Look up the renal dosing of %s in its current FDA "
        "label; openrx has no sourced threshold for it and does not guess one.", f->drugs);
    orx_fset(f->source, sizeof f->source, "openrx label index (data/rules/label_index.tsv)");
    orx_fset(f->citation, sizeof f->citation, "data/rules/renal.tsv, data/rules/dose_rules.tsv: no row "
        "for %s", f->drugs);
    return ORX_OK;
}

/* One matching row: a finding at the row's tier (or info when its indication is not known). */
static orx_status emit_row(const renal_state *s, size_t r, const orx_proposed_drug *drug,
                           const renal_value *v, const char *band, orx_srl_ind_match scope,
                           bool all_ind, const orx_srl_indication *ind, orx_findings *out,
                           orx_error *err) {
    orx_severity sev;
    orx_status st = orx_srl_severity(&s->rules, r, s->c_sev, &sev, err);
    if (st != ORX_OK) return st;
    bool scoped_unknown = scope == SRL_IND_UNKNOWN || scope == SRL_IND_UNRECOGNISED;
    if (scoped_unknown) sev = ORX_SEV_INFO;
    orx_finding *f = orx_srl_push(out, "renal", sev, drug);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    f->interruptive = sev >= ORX_SEV_MAJOR;
    const char *action = orx_srl_cell(&s->rules, r, s->c_action);
    const char *rind = orx_srl_cell(&s->rules, r, s->c_ind);
    const char *ph = orx_srl_cell(&s->rules, r, s->c_phase);
    char scope_txt[320] = "";
    if (*rind && all_ind)
        orx_fset(scope_txt, sizeof scope_txt, " (for every indication the label lists; the indication "
            "here is not known)");
    else if (*rind && scope == SRL_IND_MATCH)
        orx_fset(scope_txt, sizeof scope_txt, " for %s", rind);
    else if (*rind)
        orx_fset(scope_txt, sizeof scope_txt, " for %s (%s: %s; shown for information, not as an alert)",
            rind, orx_srl_ind_match_name(scope), ind->basis);
    orx_fset(f->trigger, sizeof f->trigger, "%s", v->text);
    orx_fset(f->message, sizeof f->message, "For %s at %s%s, the %s label %s%s; the patient's value is "
        "in that range.", f->drugs, band, scope_txt, f->drugs,
        sev == ORX_SEV_INFO && !scoped_unknown ? "states the dosing for that band" : action_words(action),
        strcmp(ph, "initiation") == 0 ? " when starting it"
        : strcmp(ph, "continuation") == 0 ? " in a patient already taking it" : "");
    orx_fset(f->management, sizeof f->management, "Follow the quoted label statement (%s%s%s).", action,
        *ph && strcmp(ph, "any") ? ", " : "", strcmp(ph, "any") ? ph : "");
    orx_srl_fill_label(f, &s->rules, r);
    return ORX_OK;
}

orx_status orx_check_renal(const orx_checker *ck, const orx_patient *pt,
                           const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const renal_state *s = orx_checker_state(ck, "renal");
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    size_t n_rules = 0, first = 0;
    for (size_t r = 0; r < s->rules.nrows; r++)
        if (orx_srl_drug_matches(drug, orx_srl_ingr(&s->rules, r, s->c_ingr), false) && n_rules++ == 0)
            first = r;
    if (n_rules == 0) {
        orx_status st = unknown_renal_handling(ck, pt, drug, out, err);
        return st ? st : exposure_note(s, pt, drug, out, err);
    }
    bool any_value = pt->crcl.present || pt->egfr.present || pt->labs[ORX_LAB_EGFR].present;
    if (!any_value) return unable_no_value(s, pt, drug, n_rules, first, out, err);
    orx_srl_indication ind;
    orx_srl_drug_indication(pt, drug, &ind);
    bool ambiguous = matched_indications_ambiguous(s, drug, &ind);
    bool none_matches = no_scoped_match(s, drug, &ind);
    /* emit each matching rule once per (action, indication) */
    char seen[16][200];
    int n_seen = 0;
    for (size_t r = 0; r < s->rules.nrows; r++) {
        if (!orx_srl_drug_matches(drug, orx_srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
        if (!phase_applies(s, r, drug)) continue;
        orx_srl_ind_match scope = row_scope(s, r, &ind, ambiguous, none_matches);
        if (scope == SRL_IND_OTHER) continue; /* a statement for another indication never fires */
        const char *action = orx_srl_cell(&s->rules, r, s->c_action);
        bool all_ind = scope == SRL_IND_UNKNOWN && !dose_action(action) && unanimous(s, pt, drug, action);
        if (all_ind) scope = SRL_IND_MATCH;
        if (dose_action(action) && orx_srl_dose_rules_cover(ck, pt, drug, orx_srl_cell(&s->rules, r, s->c_ind)))
            continue; /* the curated dose rules compare the dose for this indication and band */
        renal_value v;
        if (!patient_value(pt, orx_srl_cell(&s->rules, r, s->c_measure), &v)) continue;
        char band[96];
        orx_error e2 = {0};
        if (!in_band(s, r, v.value, band, sizeof band, &e2)) continue;
        char key[200]; /* one finding per action and indication (labels repeat sentences) */
        orx_fset(key, sizeof key, "%s|%.160s", action, all_ind ? "*" : orx_srl_cell(&s->rules, r, s->c_ind));
        bool dup = false;
        for (int i = 0; i < n_seen; i++) if (strcmp(seen[i], key) == 0) dup = true;
        if (dup) continue;
        if (n_seen < 16) memcpy(seen[n_seen++], key, sizeof key);
        orx_status st = emit_row(s, r, drug, &v, band, scope, all_ind, &ind, out, err);
        if (st != ORX_OK) return st;
    }
    return exposure_note(s, pt, drug, out, err);
}

/* ============================================================================================
 * Label index
 * ========================================================================================== */
static const char *corpus_words(const char *c) {
    if (strcmp(c, "nlm2014") == 0) return "NLM DDI corpus 2014";
    if (strcmp(c, "dbmi2016") == 0) return "DailyMed 2016";
    if (strcmp(c, "splnsaid") == 0) return "SPL NSAID/metformin set";
    if (strcmp(c, "fda-ars") == 0) return "FDA ARS (adverse reactions and warnings only)";
    return c;
}

bool orx_srl_label_presence(const orx_checker *ck, const char *ingredient, char *out, size_t cap) {
    const renal_state *s = orx_checker_state(ck, "renal");
    if (out && cap) out[0] = '\0';
    if (!s || !ingredient) return false;
    const orx_srl_table *t = &s->index;
    int c_i = orx_srl_col(t, "ingredients"), c_c = orx_srl_col(t, "corpus"), c_s = orx_srl_col(t, "setid");
    int c_r = orx_srl_col(t, "mentions_renal"), c_d = orx_srl_col(t, "has_dosage");
    size_t n = 0;
    bool found = false;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *ing = orx_srl_ingr(t, r, c_i);
        if (strcasecmp(ing, ingredient) != 0) continue; /* single-ingredient labels only */
        found = true;
        if (out && n + 1 < cap)
            n += (size_t)snprintf(out + n, cap - n, "%slabel %s in %s%s%s", n ? ", " : "",
                                  orx_srl_cell(t, r, c_s), corpus_words(orx_srl_cell(t, r, c_c)),
                                  strcmp(orx_srl_cell(t, r, c_d), "1") ? ", no dosage section" : "",
                                  strcmp(orx_srl_cell(t, r, c_r), "1") ? ", no renal wording" : "");
        if (n >= cap) n = cap - 1;
    }
    return found;
}
