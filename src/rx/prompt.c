/* prompt.c — patient facts, the output schema and the prompt texts of the recommend pipeline. */
#include "rx/rx.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

orx_rx_params orx_rx_default_params(void) {
    orx_rx_params p;
    memset(&p, 0, sizeof p);
    p.rag = true;
    p.max_choice = ORX_RX_MAX_CHOICE;
    p.k = 10;
    p.evidence_words = 1200;
    p.max_tokens = 512;
    p.reask = true;
    return p;
}

/* ============================================================================================
 * Patient facts (short phrases for retrieval and the prompt)
 * ========================================================================================== */
size_t orx_rx_patient_facts(const orx_patient *pt, char facts[][96], size_t cap) {
    size_t n = 0;
#define FACT(...) do { if (n < cap) snprintf(facts[n++], 96, __VA_ARGS__); } while (0)
    if (pt->age.present) FACT("age %.0f years (%s)", pt->age.value, orx_age_band_name(pt->age_band));
    if (pt->sex != ORX_SEX_UNKNOWN) FACT("%s", orx_sex_name(pt->sex));
    if (pt->crcl.present) FACT("CrCl %.0f mL/min", pt->crcl.value);
    if (pt->egfr.present) FACT("eGFR %.0f mL/min/1.73m2", pt->egfr.value);
    if (pt->renal_band == ORX_RENAL_MODERATE || pt->renal_band == ORX_RENAL_SEVERE || pt->renal_band == ORX_RENAL_FAILURE)
        FACT("renal impairment (%s)", orx_renal_band_name(pt->renal_band));
    if (pt->pregnant == ORX_TRI_YES) FACT("pregnant");
    if (pt->lactating == ORX_TRI_YES) FACT("lactating (nursing)");
    for (size_t i = 0; i < pt->n_pgx; i++)
        if (pt->pgx[i].phenotype[0]) FACT("%.24s %.64s", pt->pgx[i].gene, pt->pgx[i].phenotype);
    const orx_lab *alt = &pt->labs[ORX_LAB_ALT], *bil = &pt->labs[ORX_LAB_BILIRUBIN];
    if (alt->present) FACT("ALT %.0f U/L", alt->value);
    if (bil->present) FACT("bilirubin %.1f mg/dL", bil->value);
#undef FACT
    return n;
}

/* ============================================================================================
 * Output schema
 * ========================================================================================== */
static json_t *str_prop(int max_len) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "maxLength", json_integer(max_len));
    return o;
}

static json_t *enum_prop(const char *const *values) {
    json_t *o = json_object(), *e = json_array();
    for (int i = 0; values[i]; i++) json_array_append_new(e, json_string(values[i]));
    json_object_set_new(o, "type", json_string("string"));
    json_object_set_new(o, "enum", e);
    return o;
}

static json_t *array_of(json_t *items, int max_items) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("array"));
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "maxItems", json_integer(max_items));
    return o;
}

static void require(json_t *obj, const char *const *names) {
    json_t *r = json_array();
    for (int i = 0; names[i]; i++) json_array_append_new(r, json_string(names[i]));
    json_object_set_new(obj, "required", r);
}

static const char *const UNITS[] = {"mg", "mcg", "g", "mL", "unit", "mg/kg", "mcg/kg", "mg/m2", "mEq", "mmol", "tablet", "capsule", "puff", "drop", "patch", NULL};
static const char *const ROUTES[] = {"oral", "iv", "im", "subcutaneous", "topical", "inhaled", "rectal", "vaginal", "transdermal", "sublingual", "nasal", "ophthalmic", "otic", NULL};
static const char *const CONF[] = {"low", "medium", "high", NULL};

/* the prescription object; the ingredient an enum of choices when given */
static json_t *candidate_schema(int n_evidence, const char *const *choices, int n_choices) {
    json_t *cand = json_object(), *props = json_object();
    if (choices && n_choices > 0) {
        json_t *o = json_object(), *e = json_array();
        for (int i = 0; i < n_choices; i++) json_array_append_new(e, json_string(choices[i]));
        json_object_set_new(o, "type", json_string("string"));
        json_object_set_new(o, "enum", e);
        json_object_set_new(props, "ingredient", o);
    } else {
        json_object_set_new(props, "ingredient", str_prop(80));
    }
    json_t *amount = json_object();
    json_object_set_new(amount, "type", json_string("number"));
    json_object_set_new(amount, "minimum", json_integer(0));
    json_object_set_new(amount, "maximum", json_integer(100000));
    json_object_set_new(props, "dose_amount", amount);
    json_object_set_new(props, "dose_unit", enum_prop(UNITS));
    json_object_set_new(props, "route", enum_prop(ROUTES));
    json_object_set_new(props, "frequency", str_prop(60));
    json_object_set_new(props, "duration", str_prop(60));
    json_object_set_new(props, "adjustments", str_prop(400));
    json_object_set_new(props, "monitoring", str_prop(200));
    const char *const req_base[] = {"ingredient", "dose_amount", "dose_unit", "route", "frequency", "duration", "adjustments", "monitoring", NULL};
    const char *const req_cite[] = {"ingredient", "dose_amount", "dose_unit", "route", "frequency", "duration", "adjustments", "monitoring", "citations", NULL};
    if (n_evidence > 0) {
        json_t *ids = json_object(), *e = json_array();
        for (int i = 1; i <= n_evidence; i++) {
            char id[16];
            snprintf(id, sizeof id, "S%d", i % 1000);
            json_array_append_new(e, json_string(id));
        }
        json_object_set_new(ids, "type", json_string("string"));
        json_object_set_new(ids, "enum", e);
        json_object_set_new(props, "citations", array_of(ids, ORX_RX_MAX_CITES));
    }
    json_object_set_new(cand, "type", json_string("object"));
    json_object_set_new(cand, "properties", props);
    require(cand, n_evidence > 0 ? req_cite : req_base);
    return cand;
}

/* grounded: choices given (possibly none) — "no_suitable_option" is asked for, and with no
 * choices the candidates array must stay empty */
static orx_schema *schema_of(int n_evidence, const char *const *choices, int n_choices, bool grounded) {
    json_t *root = json_object(), *rp = json_object();
    json_t *ins = json_object();
    json_object_set_new(ins, "type", json_string("boolean"));
    json_object_set_new(rp, "insufficient_evidence", ins);
    if (grounded) {
        json_t *none = json_object();
        json_object_set_new(none, "type", json_string("boolean"));
        json_object_set_new(rp, "no_suitable_option", none);
    }
    int max_cands = grounded && n_choices == 0 ? 0 : ORX_RX_MAX_CANDIDATES;
    json_object_set_new(rp, "candidates", array_of(candidate_schema(n_evidence, choices, n_choices), max_cands));
    json_object_set_new(rp, "alternatives", array_of(str_prop(80), 3));
    json_object_set_new(rp, "confidence", enum_prop(CONF));
    json_object_set_new(rp, "rationale", str_prop(600));
    json_object_set_new(root, "type", json_string("object"));
    json_object_set_new(root, "properties", rp);
    const char *const req_root[] = {"insufficient_evidence", "candidates", "alternatives", "confidence", "rationale", NULL};
    const char *const req_grounded[] = {"insufficient_evidence", "no_suitable_option", "candidates", "alternatives", "confidence", "rationale", NULL};
    require(root, grounded ? req_grounded : req_root);
    orx_schema *s = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_schema_parse(root, &s, &err) != ORX_OK) s = NULL; /* only out of memory: the shape is fixed */
    json_decref(root);
    return s;
}

orx_schema *orx_rx_output_schema(int n_evidence) { return schema_of(n_evidence, NULL, 0, false); }

orx_schema *orx_rx_output_schema_for(int n_evidence, const char *const *choices, int n_choices) {
    return schema_of(n_evidence, choices, n_choices, choices != NULL);
}

const char *orx_rx_evidence_name(const orx_kb_hit *h) {
    bool boiler = orx_str_starts_with(h->title, "These highlights") || strlen(h->title) > 120;
    return boiler && h->drugs[0] ? h->drugs : h->title;
}

/* ============================================================================================
 * Prompts
 * ========================================================================================== */
char *orx_rx_system_prompt(bool rag) { return orx_rx_system_prompt_for(rag, false); }

char *orx_rx_system_prompt_for(bool rag, bool grounded) {
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_puts(&b,
        "You are a clinical pharmacology assistant drafting a prescription for ONE patient. "
        "Your answer is a DRAFT for a clinician to review and sign; it is never an order.\n");
    if (rag)
        orx_buf_puts(&b,
            "Use ONLY the evidence sections given ([S1], [S2], ...) from FDA drug labels. Cite the "
            "sections each dose and adjustment rests on by their ids. If the evidence does not "
            "support a dose for this patient, set insufficient_evidence to true and propose nothing "
            "you cannot cite.\n");
    else
        orx_buf_puts(&b,
            "No evidence sections are provided. If you are not confident of a dose for this patient, "
            "set insufficient_evidence to true.\n");
    if (grounded)
        orx_buf_puts(&b,
            "Choose only among the listed options: the drugs whose FDA label states this indication, "
            "already screened against this patient. If none suits this patient, say so "
            "(no_suitable_option) and why.\n");
    orx_buf_puts(&b,
        "Personalise to the patient's renal and hepatic function, age, weight, pregnancy or "
        "lactation, allergies, current medicines and genotype, and say what you adjusted and why. "
        "Answer with one JSON object matching the output schema, and nothing else.");
    return orx_buf_steal(&b);
}

/* free text of the patient: as written, or de-identified (d given) */
static void put_text(orx_buf *b, const char *text, orx_deid *d) {
    if (d) orx_deid_append(d, text, b);
    else orx_buf_puts(b, text);
}

static void patient_block(const orx_patient *pt, orx_buf *b, orx_deid *d) {
    orx_buf_printf(b, "Patient: %s", orx_sex_name(pt->sex));
    /* Safe Harbor (C): ages over 89 only as the category "90 or older" */
    if (pt->age.present && d && pt->age.value > 89.0) {
        orx_buf_puts(b, ", age 90 or older");
        d->counts[ORX_DEID_AGE]++;
    } else if (pt->age.present) {
        orx_buf_printf(b, ", %.0f years", pt->age.value);
    } else {
        orx_buf_puts(b, ", age unknown");
    }
    const orx_lab *w = &pt->labs[ORX_LAB_WEIGHT];
    if (w->present) orx_buf_printf(b, ", weight %.1f kg", w->value);
    orx_buf_puts(b, "\n");
    if (pt->crcl.present)
        orx_buf_printf(b, "Renal: CrCl %.0f mL/min (%s, %s weight)\n", pt->crcl.value, pt->crcl.formula,
                       orx_weight_choice_name(pt->crcl_weight));
    else
        orx_buf_printf(b, "Renal: CrCl unknown (%s)\n", pt->crcl.why_absent);
    if (pt->egfr.present) orx_buf_printf(b, "eGFR: %.0f mL/min/1.73m2 (%s)\n", pt->egfr.value, pt->egfr.formula);
    for (int k = ORX_LAB_POTASSIUM; k < ORX_LAB_COUNT; k++)
        if (pt->labs[k].present)
            orx_buf_printf(b, "%s: %g %s\n", orx_lab_kind_label((orx_lab_kind)k), pt->labs[k].value, pt->labs[k].unit);
    if (pt->pregnant == ORX_TRI_YES) orx_buf_puts(b, "Pregnant: yes\n");
    if (pt->lactating == ORX_TRI_YES) orx_buf_puts(b, "Lactating: yes\n");
    if (pt->n_conditions) {
        orx_buf_puts(b, "Problems:");
        for (size_t i = 0; i < pt->n_conditions && i < 20; i++) {
            orx_buf_puts(b, i ? "; " : " ");
            put_text(b, pt->conditions[i].text, d);
        }
        orx_buf_puts(b, "\n");
    }
    orx_buf_puts(b, "Current medicines:");
    if (!pt->n_meds) orx_buf_puts(b, " none recorded");
    for (size_t i = 0; i < pt->n_meds && i < 30; i++) {
        orx_buf_puts(b, i ? "; " : " ");
        put_text(b, pt->meds[i].text, d);
        if (pt->meds[i].dose_text[0]) orx_buf_puts(b, " ");
        put_text(b, pt->meds[i].dose_text, d);
    }
    orx_buf_puts(b, "\nAllergies:");
    if (!pt->n_allergies) orx_buf_puts(b, " none recorded");
    for (size_t i = 0; i < pt->n_allergies; i++) {
        orx_buf_puts(b, i ? "; " : " ");
        put_text(b, pt->allergies[i].text, d);
    }
    orx_buf_puts(b, "\n");
    for (size_t i = 0; i < pt->n_pgx; i++)
        orx_buf_printf(b, "Pharmacogenomics: %s %s %s\n", pt->pgx[i].gene, pt->pgx[i].diplotype, pt->pgx[i].phenotype);
}

int orx_rx_estimate_tokens(const char *text) {
    size_t digits = 0, other = 0;
    for (const char *p = text; p && *p; p++) {
        if (*p >= '0' && *p <= '9') digits++;
        else other++;
    }
    return (int)(digits + (other + 2) / 3);
}

/* One line per option: the choice first, then those left out with the reason. */
static void options_block(const orx_rx_options *o, bool open_choice, orx_buf *b, orx_deid *d) {
    if (!o || !o->ran) return;
    if (o->n_choice == 0) {
        orx_buf_printf(b, "Options: none — %s.\n", o->note[0] ? o->note : "no label-indicated option");
    } else {
        orx_buf_puts(b, "Options (drugs whose FDA label states this indication, screened for this patient):\n");
        int k = 0;
        for (size_t i = 0; i < o->n; i++) {
            const orx_rx_option *x = &o->v[i];
            if (!x->in_choice) continue;
            orx_buf_printf(b, "%d. %s", ++k, x->ind.name);
            if (x->ev_indication) orx_buf_printf(b, " [S%d]", x->ev_indication);
            if (x->ev_dose) orx_buf_printf(b, " dose [S%d]", x->ev_dose);
            if (x->ind.partial) orx_buf_puts(b, " (the label states a broader wording)");
            if (x->any_finding && x->worst >= ORX_SEV_MODERATE) {
                orx_buf_printf(b, " — checker: %s", orx_severity_name(x->worst));
                for (size_t f = 0; f < x->findings.n && f < 2; f++)
                    if (x->findings.items[f].severity == x->worst)
                        orx_buf_printf(b, "%s%s", f ? ", " : " ", x->findings.items[f].kind);
            }
            orx_buf_puts(b, "\n");
        }
    }
    for (size_t i = 0; i < o->n; i++) {
        if (!o->v[i].excluded) continue;
        /* the reason may quote the patient's own medicine or allergy text */
        char why[161];
        snprintf(why, sizeof why, "%.160s", o->v[i].excluded_why);
        orx_buf_printf(b, "Left out (contraindicated for this patient): %s — ", o->v[i].ind.name);
        put_text(b, why, d);
        orx_buf_puts(b, "\n");
    }
    if (!open_choice)
        orx_buf_puts(b, "The ingredient must be one of the options, written exactly as listed. If none suits this "
                        "patient, set no_suitable_option to true, propose no candidate and give the reason in rationale.\n");
}

char *orx_rx_user_prompt(const orx_patient *pt, const char *indication, const orx_kb_results *ev, const char *schema) {
    (void)schema;
    return orx_rx_user_prompt_options(pt, indication, ev, NULL, true);
}

char *orx_rx_user_prompt_options(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                                 const orx_rx_options *opts, bool open_choice) {
    return orx_rx_user_prompt_deid(pt, indication, ev, opts, open_choice, NULL);
}

char *orx_rx_user_prompt_deid(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                              const orx_rx_options *opts, bool open_choice, orx_deid *d) {
    orx_buf b;
    orx_buf_init(&b);
    if (ev && ev->n) {
        orx_buf_puts(&b, "Evidence (FDA label sections):\n");
        for (size_t i = 0; i < ev->n; i++) {
            const orx_kb_hit *h = &ev->hits[i];
            orx_buf_printf(&b, "[S%zu] %s — %s:\n%s\n\n", i + 1, orx_rx_evidence_name(h), h->section_name, h->text ? h->text : "");
        }
    }
    patient_block(pt, &b, d);
    orx_buf_puts(&b, "Indication: ");
    put_text(&b, indication, d);
    orx_buf_puts(&b, "\n");
    options_block(opts, open_choice, &b, d);
    bool grounded = opts && opts->ran && !open_choice;
    /* The full JSON Schema goes to the backend as response_format (and constrains local decoding);
     * the prompt carries a compact description of it to save context. */
    orx_buf_printf(&b, "Answer format: one JSON object with keys, in this order: insufficient_evidence (true/false); %s"
                     "candidates (at most 3 objects: ingredient, dose_amount (number), dose_unit (mg, mcg, g, mL, unit, ...), ",
                   grounded ? "no_suitable_option (true/false); " : "");
    orx_buf_puts(&b, "route (oral, iv, im, subcutaneous, ...), frequency, duration, adjustments, monitoring");
    if (ev && ev->n) orx_buf_puts(&b, ", citations (evidence ids like \"S1\")");
    orx_buf_puts(&b, "); alternatives (at most 3 ingredient names); confidence (low, medium, high); rationale.\n");
    orx_buf_puts(&b, "Draft the prescription as JSON.");
    return orx_buf_steal(&b);
}
