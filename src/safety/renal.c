/*
 * renal.c — renal check: label sentences that state a CrCl/eGFR threshold or band with an action
 * (data/rules/renal.tsv, quoted, derived by tools/derive_safety_rules.py) against the patient's
 * Cockcroft–Gault CrCl / CKD-EPI 2021 eGFR / reported eGFR, plus the exposure change measured in
 * renal impairment from the FDA Organ Impairment DIDB (data/rules/organ_impairment.tsv, info).
 *
 * Which patient value: a CrCl rule uses CrCl; an eGFR rule uses eGFR (computed, else reported).
 * When the rule's measure is missing but the other one is present, the other is used and the
 * trigger says so. No CrCl and no eGFR at all: one "unable to assess renal dosing" info finding.
 */
#include "safety/label_rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * State
 * ========================================================================================== */
typedef struct renal_state {
    srl_table rules;   /* data/rules/renal.tsv */
    srl_table oi;      /* data/rules/organ_impairment.tsv (ncols 0 when absent) */
    int c_ingr, c_measure, c_lo, c_lo_incl, c_hi, c_hi_incl, c_action, c_sev, c_label_type;
} renal_state;

static void fmt(char *dst, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *dst, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(dst, cap, f, ap);
    va_end(ap);
}

orx_status orx_check_renal_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredients", "measure", "lo", "lo_incl", "hi",
        "hi_incl", "action", "severity", "label_type", "setid", "corpus", "section", "quote", NULL};
    renal_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    const char *dir = orx_checker_data_dir(ck);
    orx_status st = srl_table_load(dir, "rules/renal.tsv", need, &s->rules, err);
    if (st != ORX_OK) { free(s); return st; }
    static const char *const need_oi[] = {"ingredient", "organ", "metric", "mild", "moderate",
                                          "severe", "esrd", "ref", "row", NULL};
    char p[1024];
    snprintf(p, sizeof p, "%s/rules/organ_impairment.tsv", dir);
    if (orx_file_exists(p)) {
        st = srl_table_load(dir, "rules/organ_impairment.tsv", need_oi, &s->oi, err);
        if (st != ORX_OK) { srl_table_free(&s->rules); free(s); return st; }
    }
    s->c_ingr = srl_col(&s->rules, "ingredients");
    const orx_lexicon *lex = orx_checker_lexicon(ck);
    st = srl_table_normalise(&s->rules, "ingredients", lex, err);
    if (st == ORX_OK && s->oi.ncols) st = srl_table_normalise(&s->oi, "ingredient", lex, err);
    if (st != ORX_OK) {
        srl_table_free(&s->rules);
        srl_table_free(&s->oi);
        free(s);
        return st;
    }
    s->c_measure = srl_col(&s->rules, "measure");
    s->c_lo = srl_col(&s->rules, "lo");
    s->c_lo_incl = srl_col(&s->rules, "lo_incl");
    s->c_hi = srl_col(&s->rules, "hi");
    s->c_hi_incl = srl_col(&s->rules, "hi_incl");
    s->c_action = srl_col(&s->rules, "action");
    s->c_sev = srl_col(&s->rules, "severity");
    s->c_label_type = srl_col(&s->rules, "label_type");
    /* validate every numeric/severity cell once, so a bad table fails at load with file:line */
    for (size_t r = 0; r < s->rules.nrows; r++) {
        double v;
        bool pr;
        orx_severity sev;
        if ((st = srl_num(&s->rules, r, s->c_lo, &v, &pr, err)) != ORX_OK ||
            (st = srl_num(&s->rules, r, s->c_hi, &v, &pr, err)) != ORX_OK ||
            (st = srl_severity(&s->rules, r, s->c_sev, &sev, err)) != ORX_OK) {
            orx_check_renal_fini(s);
            return st;
        }
    }
    *state = s;
    return ORX_OK;
}

void orx_check_renal_fini(void *state) {
    renal_state *s = state;
    if (!s) return;
    srl_table_free(&s->rules);
    srl_table_free(&s->oi);
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
    fmt(v->text, sizeof v->text, "CrCl %.0f mL/min (%s, %s weight %.1f kg)", pt->crcl.value,
        pt->crcl.formula, orx_weight_choice_name(pt->crcl_weight), pt->crcl_weight_kg);
}

static void value_egfr(const orx_patient *pt, renal_value *v) {
    v->present = true;
    if (pt->egfr.present) {
        v->value = pt->egfr.value;
        fmt(v->text, sizeof v->text, "eGFR %.0f mL/min/1.73m2 (%s)", pt->egfr.value, pt->egfr.formula);
    } else {
        const orx_lab *l = &pt->labs[ORX_LAB_EGFR];
        v->value = l->value;
        fmt(v->text, sizeof v->text, "eGFR %.0f mL/min/1.73m2 (reported by the laboratory%s%s)",
            l->value, *l->date ? ", " : "", l->date);
    }
}

/* The value to compare with a rule on measure ("CrCl"/"eGFR"); false when neither exists. */
static bool patient_value(const orx_patient *pt, const char *measure, renal_value *v) {
    bool has_crcl = pt->crcl.present;
    bool has_egfr = pt->egfr.present || pt->labs[ORX_LAB_EGFR].present;
    memset(v, 0, sizeof *v);
    if (strcmp(measure, "CrCl") == 0) {
        if (has_crcl) { value_crcl(pt, v); return true; }
        if (!has_egfr) return false;
        value_egfr(pt, v);
        char t[256];
        fmt(t, sizeof t, "%s; used because CrCl is unavailable (%s)", v->text, pt->crcl.why_absent);
        memcpy(v->text, t, sizeof t);
        return true;
    }
    if (has_egfr) { value_egfr(pt, v); return true; }
    if (!has_crcl) return false;
    value_crcl(pt, v);
    char t[256];
    fmt(t, sizeof t, "%s; used because eGFR is unavailable (%s)", v->text, pt->egfr.why_absent);
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
    if (srl_num(&s->rules, r, s->c_lo, &lo, &has_lo, err) != ORX_OK) return false;
    if (srl_num(&s->rules, r, s->c_hi, &hi, &has_hi, err) != ORX_OK) return false;
    bool lo_incl = strcmp(srl_cell(&s->rules, r, s->c_lo_incl), "1") == 0;
    bool hi_incl = strcmp(srl_cell(&s->rules, r, s->c_hi_incl), "1") == 0;
    const char *m = srl_cell(&s->rules, r, s->c_measure);
    if (has_lo && has_hi)
        fmt(band, cap, "%s %s%g to %s%g", m, lo_incl ? "" : ">", lo, hi_incl ? "" : "<", hi);
    else if (has_hi)
        fmt(band, cap, "%s %s %g", m, hi_incl ? "<=" : "<", hi);
    else if (has_lo)
        fmt(band, cap, "%s %s %g", m, lo_incl ? ">=" : ">", lo);
    else
        return false;
    if (has_lo && (lo_incl ? x < lo : x <= lo)) return false;
    if (has_hi && (hi_incl ? x > hi : x >= hi)) return false;
    return true;
}

static const char *action_words(const char *a) {
    if (strcmp(a, "contraindicated") == 0) return "states the drug is contraindicated";
    if (strcmp(a, "avoid") == 0) return "says to avoid the drug";
    if (strcmp(a, "discontinue") == 0) return "says to discontinue the drug";
    if (strcmp(a, "not-recommended") == 0) return "does not recommend the drug";
    if (strcmp(a, "no-dosing-recommendation") == 0) return "gives no dosing recommendation";
    if (strcmp(a, "dose-adjust") == 0) return "gives a dose adjustment";
    return "has a statement";
}

static orx_status exposure_note(const renal_state *s, const orx_patient *pt,
                                const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    if (!s->oi.ncols || d->n_ingr != 1) return ORX_OK;
    const char *col = pt->renal_band == ORX_RENAL_MODERATE ? "moderate"
                    : pt->renal_band == ORX_RENAL_SEVERE   ? "severe"
                    : pt->renal_band == ORX_RENAL_FAILURE  ? "esrd" : NULL;
    if (!col) return ORX_OK;
    int c_ing = srl_col(&s->oi, "ingredient"), c_org = srl_col(&s->oi, "organ");
    int c_met = srl_col(&s->oi, "metric"), c_val = srl_col(&s->oi, col);
    for (size_t r = 0; r < s->oi.nrows; r++) {
        if (strcasecmp(srl_ingr(&s->oi, r, c_ing), d->ingr[0].ingredient) != 0) continue;
        if (strcmp(srl_cell(&s->oi, r, c_org), "renal") != 0) continue;
        const char *v = srl_cell(&s->oi, r, c_val);
        if (!srl_is_number(v)) continue; /* empty, or text such as "no change" */
        orx_finding *f = orx_findings_push(out, "renal", ORX_SEV_INFO);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        srl_fill_drugs(f, d);
        fmt(f->trigger, sizeof f->trigger, "renal band %s (%s)", orx_renal_band_name(pt->renal_band),
            pt->renal_basis);
        bool ratio = strcmp(srl_cell(&s->oi, r, c_met), "AUC-ratio") == 0;
        if (ratio)
            fmt(f->message, sizeof f->message, "Measured exposure in %s renal impairment: AUC "
                "ratio %s versus normal function (FDA Organ Impairment DIDB).", col, v);
        else
            fmt(f->message, sizeof f->message, "Measured exposure in %s renal impairment: AUC "
                "change %s%% versus normal function (FDA Organ Impairment DIDB).", col, v);
        fmt(f->source, sizeof f->source, "FDA Organ Impairment DIDB (Yeung et al. 2015)");
        fmt(f->citation, sizeof f->citation, "organ_impairment.tsv:%zu (%s%s%s)", r + 2,
            srl_cell(&s->oi, r, srl_col(&s->oi, "row")), *srl_cell(&s->oi, r, srl_col(&s->oi, "ref")) ? ", ref " : "",
            srl_cell(&s->oi, r, srl_col(&s->oi, "ref")));
        return ORX_OK; /* one note per drug */
    }
    return ORX_OK;
}

orx_status orx_check_renal(const orx_checker *ck, const orx_patient *pt,
                           const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const renal_state *s = orx_checker_state(ck, "renal");
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    size_t n_rules = 0, first = 0;
    for (size_t r = 0; r < s->rules.nrows; r++)
        if (srl_drug_matches(drug, srl_ingr(&s->rules, r, s->c_ingr), false) && n_rules++ == 0)
            first = r;
    if (n_rules == 0) return exposure_note(s, pt, drug, out, err);
    bool any_value = pt->crcl.present || pt->egfr.present || pt->labs[ORX_LAB_EGFR].present;
    if (!any_value) {
        orx_finding *f = orx_findings_push(out, "renal", ORX_SEV_INFO);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        srl_fill_drugs(f, drug);
        fmt(f->trigger, sizeof f->trigger, "no CrCl or eGFR: %s", pt->crcl.why_absent);
        fmt(f->message, sizeof f->message, "Unable to assess renal dosing: the label has %zu "
            "renal statement(s) for this drug but the record has no creatinine clearance or eGFR.",
            n_rules);
        fmt(f->management, sizeof f->management, "Obtain serum creatinine (and weight) or an eGFR "
            "before relying on the label's renal dosing.");
        srl_fill_label(f, &s->rules, first); /* cites (and quotes) the first such statement */
        return ORX_OK;
    }
    /* emit each matching rule once per (band, action) */
    char seen[16][96];
    int n_seen = 0;
    for (size_t r = 0; r < s->rules.nrows; r++) {
        if (!srl_drug_matches(drug, srl_ingr(&s->rules, r, s->c_ingr), false)) continue;
        renal_value v;
        if (!patient_value(pt, srl_cell(&s->rules, r, s->c_measure), &v)) continue;
        char band[96];
        orx_error e2 = {0};
        if (!in_band(s, r, v.value, band, sizeof band, &e2)) continue;
        char key[96]; /* one finding per action (several labels/sentences often repeat one) */
        fmt(key, sizeof key, "%s", srl_cell(&s->rules, r, s->c_action));
        bool dup = false;
        for (int i = 0; i < n_seen; i++) if (strcmp(seen[i], key) == 0) dup = true;
        if (dup) continue;
        if (n_seen < 16) memcpy(seen[n_seen++], key, sizeof key);
        orx_severity sev;
        orx_status st = srl_severity(&s->rules, r, s->c_sev, &sev, err);
        if (st != ORX_OK) return st;
        orx_finding *f = orx_findings_push(out, "renal", sev);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        f->interruptive = sev >= ORX_SEV_MAJOR;
        srl_fill_drugs(f, drug);
        fmt(f->trigger, sizeof f->trigger, "%s", v.text);
        fmt(f->message, sizeof f->message, "For %s the label %s; the patient's value is in that "
            "range.", band, sev == ORX_SEV_INFO ? "states the dosing for that band"
                                                : action_words(srl_cell(&s->rules, r, s->c_action)));
        fmt(f->management, sizeof f->management, "Follow the quoted label statement (%s).",
            srl_cell(&s->rules, r, s->c_action));
        srl_fill_label(f, &s->rules, r);
    }
    return exposure_note(s, pt, drug, out, err);
}
