/*
 * calc.c — clinical calculators and the derivation of a patient's computed values.
 *
 * Every derived value records its formula name and the inputs it used; when an input is missing
 * the value is absent with a reason. Nothing is ever defaulted (no assumed creatinine, weight,
 * height, sex or age).
 */
#include "clinical/internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Pure calculators
 * ========================================================================================== */

/* BMI = weight (kg) / height (m)^2   [kg/m2]  (Quetelet index). */
double orx_calc_bmi(double weight_kg, double height_cm) {
    double m = height_cm / 100.0;
    return weight_kg / (m * m);
}

/* BSA (Mosteller RD. N Engl J Med 1987;317:1098) = sqrt(height (cm) × weight (kg) / 3600)  [m2]. */
double orx_calc_bsa_mosteller(double weight_kg, double height_cm) {
    return sqrt(height_cm * weight_kg / 3600.0);
}

/* IBW (Devine BJ. Drug Intell Clin Pharm 1974;8:650):
 *   male   = 50.0 kg + 2.3 kg × (height in inches − 60)
 *   female = 45.5 kg + 2.3 kg × (height in inches − 60);  inches = cm / 2.54.
 * Below 60 in the formula extrapolates downward (the caller notes it). NAN for other sexes. */
double orx_calc_ibw_devine(orx_sex sex, double height_cm) {
    double inches = height_cm / 2.54;
    if (sex == ORX_SEX_MALE) return 50.0 + 2.3 * (inches - 60.0);
    if (sex == ORX_SEX_FEMALE) return 45.5 + 2.3 * (inches - 60.0);
    return NAN;
}

/* Adjusted body weight = IBW + 0.4 × (actual − IBW)  [kg]. */
double orx_calc_adjbw(double ibw_kg, double actual_kg) {
    return ibw_kg + 0.4 * (actual_kg - ibw_kg);
}

/* Cockcroft–Gault (Cockcroft DW, Gault MH. Nephron 1976;16:31):
 *   CrCl (mL/min) = ((140 − age) × weight (kg)) / (72 × SCr (mg/dL)),  × 0.85 if female.
 * SCr is used as measured (no rounding up of low values). */
double orx_calc_crcl_cg(double age_years, double weight_kg, double scr_mg_dl, orx_sex sex) {
    double crcl = ((140.0 - age_years) * weight_kg) / (72.0 * scr_mg_dl);
    return sex == ORX_SEX_FEMALE ? crcl * 0.85 : crcl;
}

/* Weight for Cockcroft–Gault — the rule MedCalc-Bench uses (ncbi-nlp/MedCalc-Bench,
 * calculator_implementations/creatinine_clearance.py; its one-shot explanation for calculator 2 in
 * ../shared/data/medcalc-bench-examples shows the overweight branch):
 *   BMI < 18.5 (underweight)          → actual body weight
 *   18.5 ≤ BMI ≤ 24.9 (normal)        → min(IBW, actual body weight)
 *   otherwise (overweight / obese)    → adjusted body weight */
orx_weight_choice orx_calc_crcl_weight(double bmi, double actual_kg, double ibw_kg,
                                       double adjbw_kg, double *weight_kg) {
    if (bmi < 18.5) { *weight_kg = actual_kg; return ORX_WEIGHT_ACTUAL; }
    if (bmi <= 24.9) {
        if (ibw_kg < actual_kg) { *weight_kg = ibw_kg; return ORX_WEIGHT_IDEAL; }
        *weight_kg = actual_kg;
        return ORX_WEIGHT_ACTUAL;
    }
    *weight_kg = adjbw_kg;
    return ORX_WEIGHT_ADJUSTED;
}

/* CKD-EPI 2021 creatinine equation, race-free (Inker LA et al. N Engl J Med 2021;385:1737):
 *   eGFR = 142 × min(SCr/κ, 1)^α × max(SCr/κ, 1)^−1.200 × 0.9938^age × 1.012 [if female]
 *   κ = 0.7 (female) / 0.9 (male);  α = −0.241 (female) / −0.302 (male).  [mL/min/1.73m2] */
double orx_calc_egfr_ckdepi2021(double scr_mg_dl, double age_years, orx_sex sex) {
    if (sex != ORX_SEX_FEMALE && sex != ORX_SEX_MALE) return NAN;
    bool f = sex == ORX_SEX_FEMALE;
    double kappa = f ? 0.7 : 0.9, alpha = f ? -0.241 : -0.302;
    double r = scr_mg_dl / kappa;
    double e = 142.0 * pow(fmin(r, 1.0), alpha) * pow(fmax(r, 1.0), -1.200) * pow(0.9938, age_years);
    return f ? e * 1.012 : e;
}

/* Renal bands: FDA Guidance for Industry, Pharmacokinetics in Patients with Impaired Renal
 * Function (2020), Table 1 — normal ≥ 90, mild 60–89, moderate 30–59, severe 15–29,
 * kidney failure < 15 (mL/min). */
orx_renal_band orx_calc_renal_band(double v) {
    if (!isfinite(v)) return ORX_RENAL_UNKNOWN;
    if (v >= 90) return ORX_RENAL_NORMAL;
    if (v >= 60) return ORX_RENAL_MILD;
    if (v >= 30) return ORX_RENAL_MODERATE;
    if (v >= 15) return ORX_RENAL_SEVERE;
    return ORX_RENAL_FAILURE;
}

/* Age bands: pediatric < 18, adult 18–64, geriatric ≥ 65 years. */
orx_age_band orx_calc_age_band(double age) {
    if (!isfinite(age) || age < 0) return ORX_AGE_UNKNOWN;
    if (age < 18) return ORX_AGE_PEDIATRIC;
    if (age < 65) return ORX_AGE_ADULT;
    return ORX_AGE_GERIATRIC;
}

/* Parse "YYYY", "YYYY-MM" or "YYYY-MM-DD" (FHIR date); missing month/day read as 1. */
static bool parse_ymd(const char *s, int *y, int *m, int *d, int *parts) {
    char buf[11];
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n < 10) return false;
    if (n >= 10) {
        memcpy(buf, s, 10);
        buf[10] = '\0';
        if (!orx_clin_valid_date(buf)) return false;
        *parts = 3;
    } else {
        for (size_t i = 0; i < n; i++)
            if (i != 4 && (s[i] < '0' || s[i] > '9')) return false;
        if (n == 7 && s[4] != '-') return false;
        *parts = n == 4 ? 1 : 2;
    }
    *y = atoi(s);
    *m = *parts >= 2 ? atoi(s + 5) : 1;
    *d = *parts >= 3 ? atoi(s + 8) : 1;
    return *y >= 1800 && *m >= 1 && *m <= 12;
}

/* Age in whole years: as_of year − birth year, minus one if the birthday has not come yet. */
bool orx_calc_age_years(const char *birth, const char *as_of, int *years) {
    int by, bm, bd, ay, am, ad, bp, ap;
    if (!birth || !as_of || !parse_ymd(birth, &by, &bm, &bd, &bp) || !parse_ymd(as_of, &ay, &am, &ad, &ap))
        return false;
    int y = ay - by;
    if (am < bm || (am == bm && ad < bd)) y--;
    *years = y;
    return true;
}

/* ============================================================================================
 * Derivation for one patient
 * ========================================================================================== */
static void absent(orx_derived *d, const char *unit, const char *formula, const char *why) {
    memset(d, 0, sizeof *d);
    orx_clin_copy(d->unit, sizeof d->unit, unit);
    orx_clin_copy(d->formula, sizeof d->formula, formula);
    orx_clin_copy(d->why_absent, sizeof d->why_absent, why);
}

static void present(orx_derived *d, double v, const char *unit, const char *formula,
                    const char *inputs) {
    memset(d, 0, sizeof *d);
    d->present = true;
    d->value = v;
    orx_clin_copy(d->unit, sizeof d->unit, unit);
    orx_clin_copy(d->formula, sizeof d->formula, formula);
    orx_clin_copy(d->inputs, sizeof d->inputs, inputs);
}

/* "weight 87 kg (2025-12-01)" */
static void lab_str(const orx_patient *p, orx_lab_kind k, char *out, size_t cap) {
    const orx_lab *l = &p->labs[k];
    char date[16] = "";
    if (l->date[0]) snprintf(date, sizeof date, " (%.10s)", l->date);
    snprintf(out, cap, "%s %.4g %s%s", orx_lab_kind_name(k), l->value, l->unit, date);
}

static orx_status derive_age(orx_patient *p, orx_error *err) {
    if (!p->birth_date[0]) { absent(&p->age, "years", "calendar age", "no birthDate recorded"); return ORX_OK; }
    int years;
    if (!orx_calc_age_years(p->birth_date, p->as_of, &years))
        return orx_fail(err, ORX_ERR_INVALID, "%s: birthDate '%s' is not a valid date", p->source,
                        p->birth_date);
    char b[16] = "", a[16] = "";
    orx_clin_copy(b, sizeof b, p->birth_date);
    orx_clin_copy(a, sizeof a, p->as_of);
    if (strncmp(b, a, strlen(b) < 10 ? strlen(b) : 10) > 0 || years < 0)
        return orx_fail(err, ORX_ERR_INVALID, "%s: birthDate %s is after the as-of date %s",
                        p->source, b, a);
    char in[ORX_CLIN_TEXT];
    snprintf(in, sizeof in, "birthDate %s, as of %s%s", b, a,
             strlen(b) < 10 ? " (partial birthDate: missing month/day read as 1)" : "");
    present(&p->age, years, "years", "calendar age", in);
    return ORX_OK;
}

static void derive_body(orx_patient *p) {
    const orx_lab *w = &p->labs[ORX_LAB_WEIGHT], *h = &p->labs[ORX_LAB_HEIGHT];
    char ws[64], hs[64], in[ORX_CLIN_TEXT];
    lab_str(p, ORX_LAB_WEIGHT, ws, sizeof ws);
    lab_str(p, ORX_LAB_HEIGHT, hs, sizeof hs);
    const char *miss = !w->present && !h->present ? "no body weight or height recorded"
                       : !w->present ? "no body weight recorded"
                       : !h->present ? "no body height recorded" : NULL;
    snprintf(in, sizeof in, "%s, %s", ws, hs);
    if (miss) {
        absent(&p->bmi, "kg/m2", "weight/height^2", miss);
        absent(&p->bsa, "m2", "Mosteller", miss);
    } else {
        present(&p->bmi, orx_calc_bmi(w->value, h->value), "kg/m2", "weight/height^2", in);
        present(&p->bsa, orx_calc_bsa_mosteller(w->value, h->value), "m2", "Mosteller", in);
    }
    bool sexed = p->sex == ORX_SEX_FEMALE || p->sex == ORX_SEX_MALE;
    if (!h->present) absent(&p->ibw, "kg", "Devine", "no body height recorded");
    else if (!sexed) absent(&p->ibw, "kg", "Devine", "Devine IBW needs sex recorded as male or female");
    else {
        snprintf(in, sizeof in, "sex %s, %s%s", orx_sex_name(p->sex), hs,
                 h->value < 152.4 ? " (below 60 in: Devine extrapolated)" : "");
        present(&p->ibw, orx_calc_ibw_devine(p->sex, h->value), "kg", "Devine", in);
    }
    if (!p->ibw.present) absent(&p->adjbw, "kg", "IBW + 0.4 x (actual - IBW)", p->ibw.why_absent);
    else if (!w->present) absent(&p->adjbw, "kg", "IBW + 0.4 x (actual - IBW)", "no body weight recorded");
    else {
        snprintf(in, sizeof in, "IBW %.1f kg, %s", p->ibw.value, ws);
        present(&p->adjbw, orx_calc_adjbw(p->ibw.value, w->value), "kg", "IBW + 0.4 x (actual - IBW)", in);
    }
}

static const char *CG = "Cockcroft-Gault 1976";

static void derive_crcl(orx_patient *p) {
    const orx_lab *w = &p->labs[ORX_LAB_WEIGHT], *scr = &p->labs[ORX_LAB_SCR];
    p->crcl_weight = ORX_WEIGHT_NONE;
    p->crcl_weight_kg = 0;
    p->crcl_weight_rule[0] = '\0';
    const char *why = !scr->present ? "no serum creatinine recorded"
                      : !p->age.present ? "age unknown (no birthDate)"
                      : p->age.value < 18 ? "Cockcroft-Gault is an adult equation (age < 18)"
                      : !w->present ? "no body weight recorded"
                      : (p->sex != ORX_SEX_FEMALE && p->sex != ORX_SEX_MALE)
                          ? "Cockcroft-Gault needs sex recorded as male or female" : NULL;
    if (why) { absent(&p->crcl, "mL/min", CG, why); return; }
    double wt;
    if (p->bmi.present && p->ibw.present) {
        p->crcl_weight = orx_calc_crcl_weight(p->bmi.value, w->value, p->ibw.value,
                                              p->adjbw.value, &wt);
        snprintf(p->crcl_weight_rule, sizeof p->crcl_weight_rule, "BMI %.1f: %s", p->bmi.value,
                 p->bmi.value < 18.5 ? "underweight (< 18.5) -> actual body weight"
                 : p->bmi.value <= 24.9 ? "normal (18.5-24.9) -> min(IBW, actual weight)"
                                        : "overweight/obese (> 24.9) -> adjusted body weight");
    } else {
        p->crcl_weight = ORX_WEIGHT_ACTUAL;
        wt = w->value;
        orx_clin_copy(p->crcl_weight_rule, sizeof p->crcl_weight_rule,
                  "height not recorded, so BMI-based choice impossible -> actual body weight "
                  "(as in the original 1976 equation)");
    }
    p->crcl_weight_kg = wt;
    char in[2 * ORX_CLIN_TEXT], ss[64];
    lab_str(p, ORX_LAB_SCR, ss, sizeof ss);
    snprintf(in, sizeof in, "age %.0f y, sex %s, %s, %s weight %.1f kg [%s]", p->age.value,
             orx_sex_name(p->sex), ss, orx_weight_choice_name(p->crcl_weight), wt,
             p->crcl_weight_rule);
    present(&p->crcl, orx_calc_crcl_cg(p->age.value, wt, scr->value, p->sex), "mL/min", CG, in);
}

static void derive_egfr(orx_patient *p) {
    const char *f = "CKD-EPI 2021 (race-free)";
    const orx_lab *scr = &p->labs[ORX_LAB_SCR];
    const char *why = !scr->present ? "no serum creatinine recorded"
                      : !p->age.present ? "age unknown (no birthDate)"
                      : p->age.value < 18 ? "CKD-EPI is an adult equation (age < 18)"
                      : (p->sex != ORX_SEX_FEMALE && p->sex != ORX_SEX_MALE)
                          ? "CKD-EPI 2021 needs sex recorded as male or female" : NULL;
    if (why) { absent(&p->egfr, "mL/min/1.73m2", f, why); return; }
    char in[ORX_CLIN_TEXT], ss[64];
    lab_str(p, ORX_LAB_SCR, ss, sizeof ss);
    snprintf(in, sizeof in, "age %.0f y, sex %s, %s", p->age.value, orx_sex_name(p->sex), ss);
    present(&p->egfr, orx_calc_egfr_ckdepi2021(scr->value, p->age.value, p->sex), "mL/min/1.73m2", f, in);
}

static void derive_bands(orx_patient *p) {
    p->age_band = p->age.present ? orx_calc_age_band(p->age.value) : ORX_AGE_UNKNOWN;
    p->renal_basis[0] = '\0';
    if (p->crcl.present) {
        p->renal_band = orx_calc_renal_band(p->crcl.value);
        snprintf(p->renal_basis, sizeof p->renal_basis, "CrCl %.1f mL/min (Cockcroft-Gault, %s weight)",
                 p->crcl.value, orx_weight_choice_name(p->crcl_weight));
    } else if (p->egfr.present) {
        p->renal_band = orx_calc_renal_band(p->egfr.value);
        snprintf(p->renal_basis, sizeof p->renal_basis, "eGFR %.1f mL/min/1.73m2 (CKD-EPI 2021)", p->egfr.value);
    } else if (p->labs[ORX_LAB_EGFR].present) {
        p->renal_band = orx_calc_renal_band(p->labs[ORX_LAB_EGFR].value);
        snprintf(p->renal_basis, sizeof p->renal_basis, "reported eGFR %.1f mL/min/1.73m2 (%.10s)",
                 p->labs[ORX_LAB_EGFR].value, p->labs[ORX_LAB_EGFR].date);
    } else {
        p->renal_band = ORX_RENAL_UNKNOWN;
        orx_clin_copy(p->renal_basis, sizeof p->renal_basis, "no creatinine clearance or eGFR available");
    }
}

static void derive_flags(orx_patient *p) {
    if (p->sex == ORX_SEX_MALE) {
        if (!p->pregnancy_basis[0]) {
            p->pregnant = ORX_TRI_NO;
            orx_clin_copy(p->pregnancy_basis, sizeof p->pregnancy_basis, "male sex");
        }
        if (!p->lactation_basis[0]) {
            p->lactating = ORX_TRI_NO;
            orx_clin_copy(p->lactation_basis, sizeof p->lactation_basis, "male sex");
        }
    }
    if (!p->pregnancy_basis[0]) orx_clin_copy(p->pregnancy_basis, sizeof p->pregnancy_basis, "not recorded");
    if (!p->lactation_basis[0]) orx_clin_copy(p->lactation_basis, sizeof p->lactation_basis, "not recorded");
}

orx_status orx_patient_derive(orx_patient *p, orx_error *err) {
    if (!p->as_of[0]) orx_clin_today(p->as_of);
    orx_status st = derive_age(p, err);
    if (st != ORX_OK) return st;
    derive_body(p);
    derive_crcl(p);
    derive_egfr(p);
    derive_bands(p);
    derive_flags(p);
    return ORX_OK;
}
