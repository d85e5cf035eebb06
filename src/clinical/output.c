/*
 * output.c — a patient as a readable summary or as JSON (into caller-owned buffers).
 */
#include "clinical/internal.h"
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Text summary
 * ========================================================================================== */
static void derived_line(orx_buf *b, const char *label, const orx_derived *d, int decimals) {
    if (d->present)
        orx_buf_printf(b, "  %-22s %.*f %s  [%s; %s]\n", label, decimals, d->value, d->unit, d->formula,
                       d->inputs);
    else
        orx_buf_printf(b, "  %-22s absent: %s  [%s]\n", label, d->why_absent, d->formula);
}

static const char *or_dash(const char *s) { return s && *s ? s : "-"; }

/* "  - text  [system code]": the start of a list entry (the code part when it has a code). */
static void entry_head(orx_buf *b, const char *text, const char *system, const char *code) {
    orx_buf_printf(b, "  - %s", text);
    if (code[0]) orx_buf_printf(b, "  [%s %s]", or_dash(system), code);
}

orx_status orx_patient_summary(const orx_patient *p, orx_buf *b, orx_error *err) {
    orx_buf_printf(b, "Patient %s%s%s%s  (source %s, %s)\n", or_dash(p->id), p->name[0] ? " \"" : "",
                   p->name, p->name[0] ? "\"" : "", p->source, p->format);
    orx_buf_printf(b, "  As of %s; born %s; ", p->as_of, or_dash(p->birth_date));
    if (p->age.present) orx_buf_printf(b, "age %.0f years (%s)", p->age.value, orx_age_band_name(p->age_band));
    else orx_buf_printf(b, "age unknown (%s)", p->age.why_absent);
    orx_buf_printf(b, "; sex %s\n", orx_sex_name(p->sex));
    orx_buf_printf(b, "  Pregnant: %s (%s); lactating: %s (%s)\n", orx_tristate_name(p->pregnant),
                   p->pregnancy_basis, orx_tristate_name(p->lactating), p->lactation_basis);

    orx_buf_printf(b, "\nProblems (%zu active)\n", p->n_conditions);
    for (size_t i = 0; i < p->n_conditions; i++) {
        const orx_condition *c = &p->conditions[i];
        entry_head(b, c->text, c->system, c->code);
        if (c->onset[0]) orx_buf_printf(b, "  since %.10s", c->onset);
        orx_buf_puts(b, "\n");
    }
    orx_buf_printf(b, "\nActive medicines (%zu)\n", p->n_meds);
    for (size_t i = 0; i < p->n_meds; i++) {
        const orx_medication *m = &p->meds[i];
        entry_head(b, m->text, "RxNorm", m->rxnorm);
        if (m->dose_text[0]) orx_buf_printf(b, "\n      dose: %s", m->dose_text);
        if (m->route[0]) orx_buf_printf(b, "; route: %s", m->route);
        orx_buf_puts(b, "\n");
    }
    orx_buf_printf(b, "\nAllergies and intolerances (%zu)\n", p->n_allergies);
    for (size_t i = 0; i < p->n_allergies; i++) {
        const orx_allergy *a = &p->allergies[i];
        entry_head(b, a->text, a->system, a->code);
        if (a->criticality[0]) orx_buf_printf(b, "  criticality %s", a->criticality);
        if (a->reactions[0]) orx_buf_printf(b, "  reactions: %s", a->reactions);
        orx_buf_puts(b, "\n");
    }
    orx_buf_puts(b, "\nLabs and measurements (latest)\n");
    for (int k = 0; k < ORX_LAB_COUNT; k++) {
        const orx_lab *l = &p->labs[k];
        if (!l->present) { orx_buf_printf(b, "  %-22s not recorded\n", orx_lab_kind_label((orx_lab_kind)k)); continue; }
        orx_buf_printf(b, "  %-22s %.4g %s", orx_lab_kind_label((orx_lab_kind)k), l->value, l->unit);
        if (l->orig_unit[0] && fabs(l->orig_value - l->value) > 1e-9)
            orx_buf_printf(b, " (recorded %.6g %s)", l->orig_value, l->orig_unit);
        orx_buf_printf(b, "  %.10s", or_dash(l->date));
        if (l->has_ref_low || l->has_ref_high) {
            orx_buf_puts(b, "  reference ");
            if (l->has_ref_low) orx_buf_printf(b, "%.4g", l->ref_low);
            orx_buf_puts(b, l->has_ref_low && l->has_ref_high ? "-" : l->has_ref_high ? "<= " : "");
            if (l->has_ref_high) orx_buf_printf(b, "%.4g", l->ref_high);
            if (!l->has_ref_high) orx_buf_puts(b, " (lower limit)");
            orx_buf_printf(b, ": %s", orx_lab_flag_name(orx_lab_range_flag(l)));
        }
        orx_buf_puts(b, "\n");
    }
    if (p->n_ignored_future)
        orx_buf_printf(b, "  (%zu observation(s) dated after %s ignored)\n", p->n_ignored_future, p->as_of);
    if (p->n_pgx) {
        orx_buf_printf(b, "\nPharmacogenes (%zu)\n", p->n_pgx);
        for (size_t i = 0; i < p->n_pgx; i++)
            orx_buf_printf(b, "  - %-12s %s%s%s\n", p->pgx[i].gene, or_dash(p->pgx[i].diplotype),
                           p->pgx[i].phenotype[0] ? "  phenotype: " : "", p->pgx[i].phenotype);
    }
    orx_buf_puts(b, "\nDerived values\n");
    derived_line(b, "BMI", &p->bmi, 1);
    derived_line(b, "BSA", &p->bsa, 2);
    derived_line(b, "Ideal body weight", &p->ibw, 1);
    derived_line(b, "Adjusted body weight", &p->adjbw, 1);
    derived_line(b, "Creatinine clearance", &p->crcl, 1);
    derived_line(b, "eGFR (computed)", &p->egfr, 1);
    orx_buf_printf(b, "  %-22s %s  [%s]\n", "Renal function", orx_renal_band_name(p->renal_band), p->renal_basis);
    return b->data ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
}

/* ============================================================================================
 * JSON
 * ========================================================================================== */
static json_t *jderived(const orx_derived *d) {
    json_t *o = json_object();
    json_object_set_new(o, "present", json_boolean(d->present));
    json_object_set_new(o, "value", d->present ? json_real(d->value) : json_null());
    json_object_set_new(o, "unit", json_string(d->unit));
    json_object_set_new(o, "formula", json_string(d->formula));
    json_object_set_new(o, d->present ? "inputs" : "why_absent", json_string(d->present ? d->inputs : d->why_absent));
    return o;
}

static json_t *build_json(const orx_patient *p) {
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(p->source));
    json_object_set_new(o, "format", json_string(p->format));
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "birthDate", json_string(p->birth_date));
    json_object_set_new(o, "sex", json_string(orx_sex_name(p->sex)));
    json_object_set_new(o, "as_of", json_string(p->as_of));
    json_object_set_new(o, "pregnant", json_string(orx_tristate_name(p->pregnant)));
    json_object_set_new(o, "pregnancy_basis", json_string(p->pregnancy_basis));
    json_object_set_new(o, "lactating", json_string(orx_tristate_name(p->lactating)));
    json_object_set_new(o, "lactation_basis", json_string(p->lactation_basis));

    json_t *a = json_array();
    for (size_t i = 0; i < p->n_conditions; i++) {
        const orx_condition *c = &p->conditions[i];
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "text", c->text, "code", c->code,
                                           "system", c->system, "onset", c->onset));
    }
    json_object_set_new(o, "conditions", a);
    a = json_array();
    for (size_t i = 0; i < p->n_meds; i++) {
        const orx_medication *m = &p->meds[i];
        json_t *mo = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "text", m->text, "rxnorm", m->rxnorm,
                               "dose", m->dose_text, "dose_unit", m->dose_unit, "route", m->route,
                               "source", m->source, "date", m->date);
        json_object_set_new(mo, "dose_value", m->dose_value > 0 ? json_real(m->dose_value) : json_null());
        json_array_append_new(a, mo);
    }
    json_object_set_new(o, "medications", a);
    a = json_array();
    for (size_t i = 0; i < p->n_allergies; i++) {
        const orx_allergy *al = &p->allergies[i];
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "text", al->text, "code", al->code,
                                           "system", al->system, "criticality", al->criticality,
                                           "category", al->category, "reactions", al->reactions));
    }
    json_object_set_new(o, "allergies", a);
    json_t *labs = json_object();
    for (int k = 0; k < ORX_LAB_COUNT; k++) {
        const orx_lab *l = &p->labs[k];
        if (!l->present) { json_object_set_new(labs, orx_lab_kind_name((orx_lab_kind)k), json_null()); continue; }
        json_t *lo = json_pack("{s:f,s:s,s:f,s:s,s:s,s:s}", "value", l->value, "unit", l->unit,
                               "recorded_value", l->orig_value, "recorded_unit", l->orig_unit,
                               "date", l->date, "loinc", l->loinc);
        if (l->has_ref_low) json_object_set_new(lo, "ref_low", json_real(l->ref_low));
        if (l->has_ref_high) json_object_set_new(lo, "ref_high", json_real(l->ref_high));
        if (l->ref_text[0]) json_object_set_new(lo, "ref_text", json_string(l->ref_text));
        if (l->has_ref_low || l->has_ref_high)
            json_object_set_new(lo, "flag", json_string(orx_lab_flag_name(orx_lab_range_flag(l))));
        json_object_set_new(labs, orx_lab_kind_name((orx_lab_kind)k), lo);
    }
    json_object_set_new(o, "labs", labs);
    a = json_array();
    for (size_t i = 0; i < p->n_pgx; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "gene", p->pgx[i].gene, "diplotype",
                                           p->pgx[i].diplotype, "phenotype", p->pgx[i].phenotype,
                                           "date", p->pgx[i].date));
    json_object_set_new(o, "pharmacogenes", a);

    json_t *d = json_object();
    json_object_set_new(d, "age", jderived(&p->age));
    json_object_set_new(d, "age_band", json_string(orx_age_band_name(p->age_band)));
    json_object_set_new(d, "bmi", jderived(&p->bmi));
    json_object_set_new(d, "bsa", jderived(&p->bsa));
    json_object_set_new(d, "ibw", jderived(&p->ibw));
    json_object_set_new(d, "adjbw", jderived(&p->adjbw));
    json_t *cr = jderived(&p->crcl);
    json_object_set_new(cr, "weight_choice", json_string(orx_weight_choice_name(p->crcl_weight)));
    json_object_set_new(cr, "weight_kg", p->crcl.present ? json_real(p->crcl_weight_kg) : json_null());
    json_object_set_new(cr, "weight_rule", json_string(p->crcl_weight_rule));
    json_object_set_new(d, "crcl", cr);
    json_object_set_new(d, "egfr", jderived(&p->egfr));
    json_object_set_new(d, "renal_band", json_string(orx_renal_band_name(p->renal_band)));
    json_object_set_new(d, "renal_basis", json_string(p->renal_basis));
    json_object_set_new(o, "derived", d);
    json_object_set_new(o, "ignored_future_observations", json_integer((json_int_t)p->n_ignored_future));
    return o;
}

orx_status orx_patient_to_json(const orx_patient *p, orx_buf *out, orx_error *err) {
    json_t *o = build_json(p);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8)) : NULL;
    json_decref(o);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory while writing patient JSON");
    bool ok = orx_buf_puts(out, s) && orx_buf_puts(out, "\n");
    free(s);
    return ok ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
}
