/*
 * fhir.c — a patient from a FHIR R4 Bundle (JSON).
 *
 * Read: Patient (id, name, birthDate, gender); Observation (labs by LOINC — see patient.c; pregnancy
 * status LOINC 82810-3 / 11449-6; breastfeeding status by code text; pharmacogenes);
 * Condition (active); MedicationRequest / MedicationStatement (status "active"; medication as a
 * CodeableConcept or a reference to a contained "#id", bundled "urn:uuid:…" or "Medication/id");
 * AllergyIntolerance (active or no status; not refuted / entered-in-error). Other resources are
 * skipped. Pharmacogene representations accepted are described at parse_pgx().
 */
#include "clinical/internal.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * Parse context
 * ========================================================================================== */
typedef struct fhir_ctx {
    orx_patient *p;         /* being filled */
    json_t *entries;        /* Bundle.entry array (borrowed) */
    char where[160];        /* "entry[12] Observation/abc" for messages */
    char preg_date[32];     /* date of the pregnancy fact in use ("" none) */
    char lact_date[32];     /* date of the lactation fact in use */
} fhir_ctx;

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static const char *nz(const char *s) { return s ? s : ""; }

/* ============================================================================================
 * CodeableConcept helpers
 * ========================================================================================== */
/* First coding whose system contains sys (NULL sys = first coding at all). */
static json_t *cc_coding(json_t *cc, const char *sys) {
    json_t *codings = json_object_get(cc, "coding");
    size_t i;
    json_t *c;
    json_array_foreach(codings, i, c) {
        const char *s = jstr(c, "system");
        if (!sys || (s && strstr(s, sys))) return c;
    }
    return NULL;
}

/* cc.text, else the first coding display, else NULL. */
static const char *cc_text(json_t *cc) {
    const char *t = jstr(cc, "text");
    if (t && *t) return t;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *d = jstr(c, "display");
        if (d && *d) return d;
    }
    return NULL;
}

static bool cc_has_code(json_t *cc, const char *code) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *v = jstr(c, "code");
        if (v && !strcmp(v, code)) return true;
    }
    return false;
}

/* Lower-cased concatenation of cc.text and every display (for keyword tests). */
static void cc_words(json_t *cc, char *out, size_t cap) {
    out[0] = '\0';
    size_t n = 0;
    const char *t = jstr(cc, "text");
    if (t) n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s ", t);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *d = jstr(c, "display");
        if (d && n < cap) n += (size_t)snprintf(out + n, cap - n, "%s ", d);
    }
    for (char *s = out; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* The clinical-status code of a resource ("" when absent). */
static const char *status_code(json_t *r, const char *field) {
    json_t *c = cc_coding(json_object_get(r, field), NULL);
    return nz(jstr(c, "code"));
}

static bool verification_excluded(json_t *r) {
    const char *v = status_code(r, "verificationStatus");
    return !strcmp(v, "refuted") || !strcmp(v, "entered-in-error");
}

static const char *effective_date(json_t *r) {
    const char *d = jstr(r, "effectiveDateTime");
    if (!d) d = jstr(json_object_get(r, "effectivePeriod"), "start");
    if (!d) d = jstr(r, "effectiveInstant");
    if (!d) d = jstr(r, "issued");
    return nz(d);
}

/* Observation value as text: valueCodeableConcept text/display, valueString, valueBoolean. */
static const char *value_text(json_t *r) {
    const char *t = cc_text(json_object_get(r, "valueCodeableConcept"));
    if (t) return t;
    t = jstr(r, "valueString");
    if (t) return t;
    json_t *b = json_object_get(r, "valueBoolean");
    if (json_is_boolean(b)) return json_is_true(b) ? "true" : "false";
    return NULL;
}

/* ============================================================================================
 * Patient
 * ========================================================================================== */
static orx_status parse_patient(fhir_ctx *x, json_t *r, orx_error *err) {
    orx_patient *p = x->p;
    orx_clin_copy(p->id, sizeof p->id, jstr(r, "id"));
    const char *bd = jstr(r, "birthDate");
    if (json_object_get(r, "birthDate") && !bd)
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: birthDate is not a string", p->source, x->where);
    orx_clin_copy(p->birth_date, sizeof p->birth_date, bd);
    const char *g = jstr(r, "gender");
    p->sex = !g ? ORX_SEX_UNKNOWN : !strcmp(g, "female") ? ORX_SEX_FEMALE
             : !strcmp(g, "male") ? ORX_SEX_MALE : !strcmp(g, "other") ? ORX_SEX_OTHER : ORX_SEX_UNKNOWN;
    json_t *name = json_array_get(json_object_get(r, "name"), 0);
    if (name) {
        const char *text = jstr(name, "text");
        if (text) orx_clin_copy(p->name, sizeof p->name, text);
        else {
            const char *given = json_string_value(json_array_get(json_object_get(name, "given"), 0));
            snprintf(p->name, sizeof p->name, "%s%s%s", nz(given), given ? " " : "", nz(jstr(name, "family")));
        }
    }
    return ORX_OK;
}

/* ============================================================================================
 * Observations: labs, pregnancy/lactation, pharmacogenes
 * ========================================================================================== */
/* Unit of a Quantity: its code when that converts for kind k, else its unit text. */
static const char *quantity_unit(json_t *q, orx_lab_kind k) {
    const char *code = jstr(q, "code"), *unit = jstr(q, "unit");
    double tmp;
    if (code && orx_clinical_convert(k, 0, code, &tmp)) return code;
    return unit ? unit : code;
}

/* The first Observation.referenceRange of type "normal" or without a type (ranges of other
 * types — therapeutic, treatment, recommended, pre/post — are not a normal range). */
static orx_status parse_range(fhir_ctx *x, json_t *r, orx_lab_kind k, orx_lab_range *out,
                              orx_error *err) {
    memset(out, 0, sizeof *out);
    size_t i;
    json_t *rr;
    json_array_foreach(json_object_get(r, "referenceRange"), i, rr) {
        json_t *type = json_object_get(rr, "type");
        if (type && !cc_has_code(type, "normal")) continue;
        json_t *lo = json_object_get(json_object_get(rr, "low"), "value");
        json_t *hi = json_object_get(json_object_get(rr, "high"), "value");
        if ((lo && !json_is_number(lo)) || (hi && !json_is_number(hi)))
            return orx_fail(err, ORX_ERR_INVALID, "%s: %s: referenceRange[%zu] low/high value is "
                            "not a number", x->p->source, x->where, i);
        const char *ul = lo ? quantity_unit(json_object_get(rr, "low"), k) : NULL;
        const char *uh = hi ? quantity_unit(json_object_get(rr, "high"), k) : NULL;
        if (ul && uh && strcmp(ul, uh) != 0)
            return orx_fail(err, ORX_ERR_INVALID, "%s: %s: referenceRange[%zu] low and high have "
                            "different units ('%s', '%s')", x->p->source, x->where, i, ul, uh);
        out->has_low = lo != NULL;
        out->low = lo ? json_number_value(lo) : 0;
        out->has_high = hi != NULL;
        out->high = hi ? json_number_value(hi) : 0;
        orx_clin_copy(out->unit, sizeof out->unit, ul ? ul : uh);
        orx_clin_copy(out->text, sizeof out->text, jstr(rr, "text"));
        return ORX_OK;
    }
    return ORX_OK;
}

static orx_status parse_lab(fhir_ctx *x, json_t *r, orx_lab_kind k, const char *loinc, orx_error *err) {
    json_t *vq = json_object_get(r, "valueQuantity");
    json_t *v = json_object_get(vq, "value");
    if (!vq || !v) return ORX_OK; /* no value (dataAbsentReason etc.): nothing to record */
    if (!json_is_number(v))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: valueQuantity.value is not a number",
                        x->p->source, x->where);
    const char *use = quantity_unit(vq, k);
    orx_lab_range range;
    orx_status st = parse_range(x, r, k, &range, err);
    if (st != ORX_OK) return st;
    char where[220];
    snprintf(where, sizeof where, "%s valueQuantity (%s, LOINC %s)", x->where, orx_lab_kind_label(k), loinc);
    return orx_clin_add_lab(x->p, k, json_number_value(v), use ? use : "", effective_date(r), loinc,
                        &range, where, err);
}

static orx_tristate yes_no(const char *t, json_t *cc) {
    if (cc && (cc_has_code(cc, "77386006") || cc_has_code(cc, "373066001"))) return ORX_TRI_YES;
    if (cc && (cc_has_code(cc, "60001007") || cc_has_code(cc, "373067005"))) return ORX_TRI_NO;
    if (!t) return ORX_TRI_UNKNOWN;
    char low[128];
    orx_clin_copy(low, sizeof low, t);
    orx_str_lower(low);
    if (strstr(low, "not ") || !strcmp(low, "no") || !strcmp(low, "false") || strstr(low, "negative") ||
        strstr(low, "absent"))
        return ORX_TRI_NO;
    if (!strcmp(low, "yes") || !strcmp(low, "true") || strstr(low, "pregnant") ||
        strstr(low, "positive") || strstr(low, "breastfeeding") || strstr(low, "breast feeding") ||
        strstr(low, "lactating") || strstr(low, "present") || strstr(low, "detected"))
        return ORX_TRI_YES;
    return ORX_TRI_UNKNOWN;
}

static void set_flag(orx_tristate *flag, char *basis, size_t cap, char *cur_date, orx_tristate v,
                     const char *date, const char *what) {
    if (v == ORX_TRI_UNKNOWN) return;
    if (cur_date[0] && strncmp(nz(date), cur_date, 10) < 0) return; /* keep the latest */
    *flag = v;
    orx_clin_copy(cur_date, 32, date);
    snprintf(basis, cap, "%s%s%.10s", what, date && *date ? " " : "", nz(date));
}

/* Strip a leading gene name from a result ("CYP2C19 *2 slash *2" gives "*2 slash *2"). */
static const char *after_gene(const char *t, const char *gene) {
    size_t n = strlen(gene);
    if (!strncasecmp(t, gene, n)) {
        t += n;
        while (*t == ' ' || *t == ':') t++;
    }
    return t;
}

static bool is_phenotype_text(const char *s) {
    char low[160];
    orx_clin_copy(low, sizeof low, s);
    orx_str_lower(low);
    return strstr(low, "metabolizer") || strstr(low, "function") || strstr(low, "phenotype") ||
           strstr(low, "positive") || strstr(low, "negative") || strstr(low, "activity");
}

/*
 * Pharmacogene Observations accepted:
 *  1. HL7 Genomics Reporting style: component "Gene studied" (LOINC 48018-6, HGNC coding display
 *     or text names the gene) with component "Genotype display name" (LOINC 84413-4) giving the
 *     diplotype and/or component "Genetic variation's effect on drug metabolism" (LOINC 53040-2)
 *     giving the phenotype, as valueCodeableConcept text/display or valueString.
 *  2. A single Observation coded LOINC 84413-4 (genotype) or 53040-2 (phenotype) whose value
 *     names the gene ("CYP2C19 *2 slash *2"), or whose gene is in a 48018-6 component or code text.
 *  3. Any Observation whose code.text/display names a supported gene ("CYP2D6 phenotype",
 *     "HLA-B*57:01 status"): a value reading as a phenotype ("Poor Metabolizer", "Decreased
 *     Function", "positive"/"negative") is the phenotype, anything else the diplotype.
 */
static orx_status parse_pgx(fhir_ctx *x, json_t *r, orx_error *err) {
    json_t *code = json_object_get(r, "code");
    char gene[24] = "", words[512];
    const char *dip = NULL, *phe = NULL;
    size_t i;
    json_t *comp;
    json_array_foreach(json_object_get(r, "component"), i, comp) {
        json_t *cc = json_object_get(comp, "code");
        const char *vt = value_text(comp);
        if (cc_has_code(cc, "48018-6") && vt) orx_clin_pgx_gene_in(vt, gene, sizeof gene);
        else if (cc_has_code(cc, "84413-4") && vt) dip = vt;
        else if (cc_has_code(cc, "53040-2") && vt) phe = vt;
    }
    cc_words(code, words, sizeof words);
    if (!gene[0]) orx_clin_pgx_gene_in(words, gene, sizeof gene);
    const char *vt = value_text(r);
    bool genomic_code = cc_has_code(code, "84413-4") || cc_has_code(code, "53040-2");
    if (!gene[0] && genomic_code && vt) orx_clin_pgx_gene_in(vt, gene, sizeof gene);
    if (!gene[0]) return ORX_OK; /* not a supported pharmacogene */
    if (vt) {
        if (cc_has_code(code, "53040-2") || (!cc_has_code(code, "84413-4") &&
                                             (strstr(words, "phenotype") || is_phenotype_text(vt))))
            phe = vt;
        else dip = vt;
    }
    if (!dip && !phe) return ORX_OK;
    char d[96] = "", ph[96] = "";
    if (dip) orx_clin_copy(d, sizeof d, after_gene(dip, gene));
    if (phe) orx_clin_copy(ph, sizeof ph, after_gene(phe, gene));
    if (!strncmp(gene, "HLA-B", 5) && !ph[0] && d[0]) { /* HLA: carry positive/negative as phenotype */
        orx_tristate t = yes_no(d, NULL);
        if (t != ORX_TRI_UNKNOWN) orx_clin_copy(ph, sizeof ph, t == ORX_TRI_YES ? "positive" : "negative");
    }
    return orx_clin_pgx_merge(x->p, gene, d, ph, effective_date(r), err);
}

static orx_status parse_observation(fhir_ctx *x, json_t *r, orx_error *err) {
    const char *status = nz(jstr(r, "status"));
    if (!strcmp(status, "entered-in-error") || !strcmp(status, "cancelled")) return ORX_OK;
    json_t *code = json_object_get(r, "code");
    json_t *loinc = cc_coding(code, "loinc.org");
    const char *lc = jstr(loinc, "code");
    orx_lab_kind k;
    if (lc && orx_clin_lab_for_loinc(lc, &k)) return parse_lab(x, r, k, lc, err);
    /* a later LOINC coding may be the one we know */
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(code, "coding"), i, c) {
        const char *s = jstr(c, "system"), *cv = jstr(c, "code");
        if (s && strstr(s, "loinc.org") && orx_clin_lab_for_loinc(cv, &k)) return parse_lab(x, r, k, cv, err);
    }
    const char *date = effective_date(r);
    json_t *vcc = json_object_get(r, "valueCodeableConcept");
    if (cc_has_code(code, "82810-3") || cc_has_code(code, "11449-6")) {
        char what[64];
        snprintf(what, sizeof what, "Observation pregnancy status");
        set_flag(&x->p->pregnant, x->p->pregnancy_basis, sizeof x->p->pregnancy_basis, x->preg_date,
                 yes_no(value_text(r), vcc), date, what);
        return ORX_OK;
    }
    char words[512];
    cc_words(code, words, sizeof words);
    if (strstr(words, "breastfeeding") || strstr(words, "breast feeding") || strstr(words, "lactation")) {
        set_flag(&x->p->lactating, x->p->lactation_basis, sizeof x->p->lactation_basis, x->lact_date,
                 yes_no(value_text(r), vcc), date, "Observation breastfeeding status");
        return ORX_OK;
    }
    return parse_pgx(x, r, err);
}

/* ============================================================================================
 * Conditions and allergies
 * ========================================================================================== */
/* A coded entry's concept: the coding to keep (the first coding of the first of the systems
 * prefs (NULL-ended) that has one, else the first coding) and the text; false when it has
 * neither. */
static bool coded(json_t *code, const char *const *prefs, json_t **c, const char **text) {
    *c = NULL;
    for (; *prefs && !*c; prefs++) *c = cc_coding(code, *prefs);
    if (!*c) *c = cc_coding(code, NULL);
    *text = cc_text(code);
    return *text || *c;
}

/* Text (the concept's, else the code), code and short system name of a coded entry. */
static void copy_coded(json_t *c, const char *text, char *t, size_t tcap, char *code, size_t ccap, char *sys,
                       size_t scap) {
    orx_clin_copy(t, tcap, text ? text : jstr(c, "code"));
    orx_clin_copy(code, ccap, jstr(c, "code"));
    orx_clin_copy(sys, scap, c ? orx_clin_system_name(jstr(c, "system")) : "");
}

static orx_status parse_condition(fhir_ctx *x, json_t *r, orx_error *err) {
    const char *cs = status_code(r, "clinicalStatus");
    bool has_abatement = json_object_get(r, "abatementDateTime") || json_object_get(r, "abatementPeriod") ||
                         json_object_get(r, "abatementString") || json_object_get(r, "abatementAge");
    bool active = cs[0] ? (!strcmp(cs, "active") || !strcmp(cs, "recurrence") || !strcmp(cs, "relapse"))
                        : !has_abatement;
    if (!active || verification_excluded(r)) return ORX_OK;
    json_t *code = json_object_get(r, "code"), *c;
    const char *text;
    if (!coded(code, (const char *const[]){"snomed", "icd-10", NULL}, &c, &text)) return ORX_OK;
    orx_condition *o = orx_clin_push((void **)&x->p->conditions, &x->p->n_conditions, sizeof *o);
    if (!o) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    copy_coded(c, text, o->text, sizeof o->text, o->code, sizeof o->code, o->system, sizeof o->system);
    orx_clin_copy(o->onset, sizeof o->onset, jstr(r, "onsetDateTime"));
    /* pregnancy / lactation recorded as active problems (SNOMED 77386006 Pregnant, 72892002
     * Normal pregnancy) */
    if (cc_has_code(code, "77386006") || cc_has_code(code, "72892002"))
        set_flag(&x->p->pregnant, x->p->pregnancy_basis, sizeof x->p->pregnancy_basis, x->preg_date,
                 ORX_TRI_YES, o->onset, "active Condition");
    char words[512];
    cc_words(code, words, sizeof words);
    if (strstr(words, "breastfeeding") || strstr(words, "breast feeding") || strstr(words, "lactating"))
        set_flag(&x->p->lactating, x->p->lactation_basis, sizeof x->p->lactation_basis, x->lact_date,
                 ORX_TRI_YES, o->onset, "active Condition");
    return ORX_OK;
}

static orx_status parse_allergy(fhir_ctx *x, json_t *r, orx_error *err) {
    const char *cs = status_code(r, "clinicalStatus");
    if ((cs[0] && strcmp(cs, "active") != 0) || verification_excluded(r)) return ORX_OK;
    json_t *code = json_object_get(r, "code"), *c;
    const char *text;
    if (!coded(code, (const char *const[]){"rxnorm", NULL}, &c, &text)) return ORX_OK;
    orx_allergy *a = orx_clin_push((void **)&x->p->allergies, &x->p->n_allergies, sizeof *a);
    if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    copy_coded(c, text, a->text, sizeof a->text, a->code, sizeof a->code, a->system, sizeof a->system);
    orx_clin_copy(a->criticality, sizeof a->criticality, jstr(r, "criticality"));
    orx_clin_copy(a->category, sizeof a->category, json_string_value(json_array_get(json_object_get(r, "category"), 0)));
    orx_buf b;
    orx_buf_init(&b);
    size_t i, j;
    json_t *re, *m;
    json_array_foreach(json_object_get(r, "reaction"), i, re) {
        const char *sev = jstr(re, "severity");
        json_array_foreach(json_object_get(re, "manifestation"), j, m) {
            const char *t = cc_text(m);
            if (!t) continue;
            orx_buf_printf(&b, "%s%s%s%s%s", b.len ? "; " : "", t, sev ? " (" : "", nz(sev), sev ? ")" : "");
        }
    }
    orx_clin_copy(a->reactions, sizeof a->reactions, b.data);
    orx_buf_clear(&b);
    return ORX_OK;
}

/* ============================================================================================
 * Medications
 * ========================================================================================== */
/* Resolve medicationReference: "#id" in contained, else a bundled Medication by fullUrl or
 * "Medication/id". Returns the Medication's code CodeableConcept or NULL. */
static json_t *resolve_medication(fhir_ctx *x, json_t *r, const char *ref) {
    size_t i;
    json_t *e;
    if (ref[0] == '#') {
        json_array_foreach(json_object_get(r, "contained"), i, e) {
            const char *id = jstr(e, "id");
            if (id && !strcmp(id, ref + 1) && !strcmp(nz(jstr(e, "resourceType")), "Medication"))
                return json_object_get(e, "code");
        }
        return NULL;
    }
    json_array_foreach(x->entries, i, e) {
        json_t *res = json_object_get(e, "resource");
        if (strcmp(nz(jstr(res, "resourceType")), "Medication") != 0) continue;
        const char *full = jstr(e, "fullUrl"), *id = jstr(res, "id");
        char local[160];
        snprintf(local, sizeof local, "Medication/%s", nz(id));
        if ((full && !strcmp(full, ref)) || (id && !strcmp(local, ref)) ||
            (full && orx_str_ends_with(full, ref) && full[strlen(full) - strlen(ref) - 1] == '/'))
            return json_object_get(res, "code");
    }
    return NULL;
}

static void dose_text(json_t *dosage, orx_medication *m) {
    json_t *d = json_array_get(dosage, 0);
    if (!d) return;
    orx_clin_copy(m->route, sizeof m->route, cc_text(json_object_get(d, "route")));
    json_t *dq = json_object_get(json_array_get(json_object_get(d, "doseAndRate"), 0), "doseQuantity");
    if (json_is_number(json_object_get(dq, "value"))) {
        m->dose_value = json_number_value(json_object_get(dq, "value"));
        const char *u = jstr(dq, "unit");
        orx_clin_copy(m->dose_unit, sizeof m->dose_unit, u ? u : jstr(dq, "code"));
    }
    const char *text = jstr(d, "text");
    if (text && *text) { orx_clin_copy(m->dose_text, sizeof m->dose_text, text); return; }
    orx_buf b;
    orx_buf_init(&b);
    if (json_is_number(json_object_get(dq, "value")))
        orx_buf_printf(&b, "%g%s%s", m->dose_value, m->dose_unit[0] ? " " : "", m->dose_unit);
    json_t *rep = json_object_get(json_object_get(d, "timing"), "repeat");
    json_t *f = json_object_get(rep, "frequency"), *per = json_object_get(rep, "period");
    if (json_is_number(f) && json_is_number(per))
        orx_buf_printf(&b, "%s%g time(s) per %g %s", b.len ? ", " : "", json_number_value(f),
                       json_number_value(per), nz(jstr(rep, "periodUnit")));
    if (json_is_true(json_object_get(d, "asNeededBoolean"))) orx_buf_printf(&b, "%sas needed", b.len ? ", " : "");
    orx_clin_copy(m->dose_text, sizeof m->dose_text, b.data);
    orx_buf_clear(&b);
}

static orx_status parse_med(fhir_ctx *x, json_t *r, const char *rt, orx_error *err) {
    if (strcmp(nz(jstr(r, "status")), "active") != 0) return ORX_OK;
    json_t *cc = json_object_get(r, "medicationCodeableConcept");
    const char *unresolved = NULL;
    if (!cc) {
        json_t *ref = json_object_get(r, "medicationReference");
        const char *rs = jstr(ref, "reference");
        cc = rs ? resolve_medication(x, r, rs) : NULL;
        if (!cc) unresolved = jstr(ref, "display") ? jstr(ref, "display") : rs;
    }
    orx_medication *m = orx_clin_push((void **)&x->p->meds, &x->p->n_meds, sizeof *m);
    if (!m) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    const char *text = cc_text(cc);
    json_t *rx = cc_coding(cc, "rxnorm");
    if (text) orx_clin_copy(m->text, sizeof m->text, text);
    else if (unresolved) snprintf(m->text, sizeof m->text, "unresolved medication reference %s", unresolved);
    else orx_clin_copy(m->text, sizeof m->text, "medication not stated");
    orx_clin_copy(m->rxnorm, sizeof m->rxnorm, jstr(rx, "code"));
    orx_clin_copy(m->source, sizeof m->source, rt);
    bool is_req = !strcmp(rt, "MedicationRequest");
    dose_text(json_object_get(r, is_req ? "dosageInstruction" : "dosage"), m);
    const char *date = is_req ? jstr(r, "authoredOn") : effective_date(r);
    if (!is_req && !(date && *date)) date = jstr(r, "dateAsserted");
    orx_clin_copy(m->date, sizeof m->date, date);
    return ORX_OK;
}

/* ============================================================================================
 * Bundle
 * ========================================================================================== */
orx_status orx_clin_parse_fhir_bundle(orx_patient *p, json_t *root, orx_error *err) {
    fhir_ctx x = {.p = p, .entries = json_object_get(root, "entry")};
    if (x.entries && !json_is_array(x.entries))
        return orx_fail(err, ORX_ERR_INVALID, "%s: Bundle.entry is not an array", p->source);
    size_t i, n_patients = 0;
    json_t *e;
    /* pass 1: the Patient */
    json_array_foreach(x.entries, i, e) {
        json_t *r = json_object_get(e, "resource");
        if (!json_is_object(r))
            return orx_fail(err, ORX_ERR_INVALID, "%s: entry[%zu] has no resource object", p->source, i);
        const char *rt = jstr(r, "resourceType");
        if (!rt) return orx_fail(err, ORX_ERR_INVALID, "%s: entry[%zu] resource has no resourceType", p->source, i);
        if (strcmp(rt, "Patient") != 0) continue;
        if (n_patients++) return orx_fail(err, ORX_ERR_INVALID, "%s: entry[%zu]: the bundle holds more "
                                          "than one Patient; expected one patient", p->source, i);
        snprintf(x.where, sizeof x.where, "entry[%zu] Patient/%s", i, nz(jstr(r, "id")));
        orx_status st = parse_patient(&x, r, err);
        if (st != ORX_OK) return st;
    }
    if (!n_patients) return orx_fail(err, ORX_ERR_INVALID, "%s: the Bundle has no Patient resource", p->source);
    /* pass 2: everything else */
    json_array_foreach(x.entries, i, e) {
        json_t *r = json_object_get(e, "resource");
        const char *rt = jstr(r, "resourceType");
        snprintf(x.where, sizeof x.where, "entry[%zu] %s/%s", i, rt, nz(jstr(r, "id")));
        orx_status st = ORX_OK;
        if (!strcmp(rt, "Observation")) st = parse_observation(&x, r, err);
        else if (!strcmp(rt, "Condition")) st = parse_condition(&x, r, err);
        else if (!strcmp(rt, "AllergyIntolerance")) st = parse_allergy(&x, r, err);
        else if (!strcmp(rt, "MedicationRequest") || !strcmp(rt, "MedicationStatement"))
            st = parse_med(&x, r, rt, err);
        if (st != ORX_OK) return st;
    }
    return ORX_OK;
}
