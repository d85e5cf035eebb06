/*
 * simple.c — the openrx patient form: a small, hand-writable JSON object with the same content
 * as the FHIR reader extracts. Documented with an example in examples/patients/README.md.
 *
 *   { "openrx_patient": 1, "id": "...", "name": "...", "birthDate": "YYYY-MM-DD",
 *     "sex": "female|male|other|unknown", "pregnant": "yes|no|unknown", "lactating": "...",
 *     "labs": [ {"kind": "weight", "value": 61.5, "unit": "kg", "date": "2025-12-15"}, ... ],
 *     "conditions":    [ {"text", "code", "system", "onset"} ],
 *     "medications":   [ {"text", "rxnorm", "dose", "dose_value", "dose_unit", "route", "date"} ],
 *     "allergies":     [ {"text", "code", "system", "criticality", "category", "reactions": [..]} ],
 *     "pharmacogenes": [ {"gene", "diplotype", "phenotype", "date"} ] }
 *
 * Unknown keys are errors (a misspelt "wieght" must not vanish silently).
 */
#include "clinical/internal.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ============================================================================================
 * Field helpers
 * ========================================================================================== */
/* Check that every key of o is in allowed (NULL-terminated). */
static orx_status check_keys(const orx_patient *p, json_t *o, const char *where,
                             const char *const *allowed, orx_error *err) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
        if (!ok) return orx_fail(err, ORX_ERR_INVALID, "%s: %s: unknown key '%s'", p->source, where, k);
    }
    return ORX_OK;
}

/* Optional string field → dst. */
static orx_status get_str(const orx_patient *p, json_t *o, const char *key, const char *where,
                          char *dst, size_t cap, orx_error *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) { dst[0] = '\0'; return ORX_OK; }
    if (!json_is_string(v))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s.%s: expected a string", p->source, where, key);
    orx_clin_copy(dst, cap, json_string_value(v));
    return ORX_OK;
}

/* A string field of a record: its key, and where the record keeps it (offset and size). */
typedef struct str_field {
    const char *key;
    size_t      off, cap;
} str_field;
#define STR_FIELD(type, key, member) {key, offsetof(type, member), sizeof ((type *)0)->member}

/* Element i of the array of section name: an object with only allowed keys; its place
 * ("conditions[3]") in where. */
static orx_status element(const orx_patient *p, const char *name, size_t i, json_t *o, const char *const *allowed,
                          char *where, size_t cap, orx_error *err) {
    snprintf(where, cap, "%s[%zu]", name, i);
    if (!json_is_object(o)) return orx_fail(err, ORX_ERR_INVALID, "%s: %s: expected an object", p->source, where);
    return check_keys(p, o, where, allowed, err);
}

/* The string fields f (ended by a NULL key) of o into the record rec. */
static orx_status get_strs(const orx_patient *p, json_t *o, const char *where, const str_field *f, void *rec,
                           orx_error *err) {
    orx_status st = ORX_OK;
    for (; !st && f->key; f++) st = get_str(p, o, f->key, where, (char *)rec + f->off, f->cap, err);
    return st;
}

static orx_status get_array(const orx_patient *p, json_t *root, const char *key, json_t **arr,
                            orx_error *err) {
    *arr = json_object_get(root, key);
    if (*arr && !json_is_array(*arr))
        return orx_fail(err, ORX_ERR_INVALID, "%s: '%s' must be an array", p->source, key);
    return ORX_OK;
}

static orx_status tri(const orx_patient *p, const char *key, const char *v, orx_tristate *t,
                      char *basis, size_t cap, orx_error *err) {
    if (!v[0] || !strcmp(v, "unknown")) { *t = ORX_TRI_UNKNOWN; return ORX_OK; }
    if (!strcmp(v, "yes")) *t = ORX_TRI_YES;
    else if (!strcmp(v, "no")) *t = ORX_TRI_NO;
    else return orx_fail(err, ORX_ERR_INVALID, "%s: %s: expected \"yes\", \"no\" or \"unknown\", got '%s'",
                         p->source, key, v);
    snprintf(basis, cap, "stated in the openrx patient file");
    return ORX_OK;
}

/* ============================================================================================
 * Sections
 * ========================================================================================== */
/* "reference_range": {"low": N, "high": N, "text": "..."} in the lab's unit (either limit may
 * be left out). */
static orx_status parse_lab_range(orx_patient *p, json_t *o, const char *where, orx_lab_range *r,
                                  orx_error *err) {
    static const char *const keys[] = {"low", "high", "text", NULL};
    memset(r, 0, sizeof *r);
    json_t *rr = json_object_get(o, "reference_range");
    if (!rr) return ORX_OK;
    char w[96];
    snprintf(w, sizeof w, "%s.reference_range", where);
    if (!json_is_object(rr)) return orx_fail(err, ORX_ERR_INVALID, "%s: %s: expected an object", p->source, w);
    orx_status st = check_keys(p, rr, w, keys, err);
    if (st) return st;
    json_t *lo = json_object_get(rr, "low"), *hi = json_object_get(rr, "high");
    if ((lo && !json_is_number(lo)) || (hi && !json_is_number(hi)))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: low/high must be numbers", p->source, w);
    if (!lo && !hi)
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: give low, high or both", p->source, w);
    r->has_low = lo != NULL;
    r->low = lo ? json_number_value(lo) : 0;
    r->has_high = hi != NULL;
    r->high = hi ? json_number_value(hi) : 0;
    return get_str(p, rr, "text", w, r->text, sizeof r->text, err);
}

static orx_status parse_labs(orx_patient *p, json_t *arr, orx_error *err) {
    static const char *const keys[] = {"kind", "value", "unit", "date", "reference_range", NULL};
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        char where[64], kind[32], unit[32], date[32];
        orx_status st = element(p, "labs", i, o, keys, where, sizeof where, err);
        if (!st) st = get_str(p, o, "kind", where, kind, sizeof kind, err);
        if (!st) st = get_str(p, o, "unit", where, unit, sizeof unit, err);
        if (!st) st = get_str(p, o, "date", where, date, sizeof date, err);
        if (st) return st;
        int k = 0;
        while (k < ORX_LAB_COUNT && strcmp(orx_lab_kind_name((orx_lab_kind)k), kind) != 0) k++;
        if (k == ORX_LAB_COUNT)
            return orx_fail(err, ORX_ERR_INVALID, "%s: %s.kind: unknown lab kind '%s' (weight, height, "
                            "scr, egfr, potassium, alt, ast, bilirubin, albumin, inr, qtc, platelets, "
                            "glucose)", p->source, where, kind);
        json_t *v = json_object_get(o, "value");
        if (!json_is_number(v))
            return orx_fail(err, ORX_ERR_INVALID, "%s: %s.value (%s): expected a number", p->source, where, kind);
        snprintf(where, sizeof where, "labs[%zu] (%s)", i, kind);
        orx_lab_range range;
        st = parse_lab_range(p, o, where, &range, err);
        if (!st) st = orx_clin_add_lab(p, (orx_lab_kind)k, json_number_value(v), unit, date, "", &range, where, err);
        if (st) return st;
    }
    return ORX_OK;
}

/* A section of records kept in a growable array of the patient (conditions, medications,
 * allergies): each element an object with only keys, its string fields read, "text" required,
 * then extra (when not NULL) reads the rest. */
typedef orx_status (*record_fn)(orx_patient *p, json_t *o, void *rec, const char *where, orx_error *err);
typedef struct record_section {
    const char        *name;   /* the array's key */
    const char *const *keys;   /* allowed keys, NULL-ended */
    const str_field   *fields; /* string fields, NULL-key ended; the first is "text" */
    size_t             elem;   /* record size */
    record_fn          extra;  /* NULL or: the fields that are not strings */
} record_section;

static orx_status parse_records(orx_patient *p, json_t *arr, const record_section *s, void **items, size_t *n,
                                orx_error *err) {
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        char where[64];
        orx_status st = element(p, s->name, i, o, s->keys, where, sizeof where, err);
        if (st) return st;
        char *rec = orx_clin_push(items, n, s->elem);
        if (!rec) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        if ((st = get_strs(p, o, where, s->fields, rec, err))) return st;
        if (!rec[s->fields[0].off]) return orx_fail(err, ORX_ERR_INVALID, "%s: %s.text: required", p->source, where);
        if (s->extra && (st = s->extra(p, o, rec, where, err))) return st;
    }
    return ORX_OK;
}

static orx_status med_extra(orx_patient *p, json_t *o, void *rec, const char *where, orx_error *err) {
    orx_medication *m = rec;
    orx_clin_copy(m->source, sizeof m->source, "openrx");
    json_t *dv = json_object_get(o, "dose_value");
    if (dv && !json_is_number(dv))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s.dose_value: expected a number", p->source, where);
    m->dose_value = dv ? json_number_value(dv) : 0;
    if (m->dose_value < 0)
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s.dose_value: must not be negative", p->source, where);
    return ORX_OK;
}

static orx_status allergy_extra(orx_patient *p, json_t *o, void *rec, const char *where, orx_error *err) {
    orx_allergy *a = rec;
    size_t j;
    json_t *r;
    json_t *rs = json_object_get(o, "reactions");
    if (json_is_string(rs)) orx_clin_copy(a->reactions, sizeof a->reactions, json_string_value(rs));
    else if (json_is_array(rs)) {
        orx_buf b;
        orx_buf_init(&b);
        json_array_foreach(rs, j, r)
            if (json_is_string(r)) orx_buf_printf(&b, "%s%s", b.len ? "; " : "", json_string_value(r));
        orx_clin_copy(a->reactions, sizeof a->reactions, b.data);
        orx_buf_clear(&b);
    } else if (rs) return orx_fail(err, ORX_ERR_INVALID, "%s: %s.reactions: expected a list of strings",
                                   p->source, where);
    return ORX_OK;
}

static orx_status parse_conditions(orx_patient *p, json_t *arr, orx_error *err) {
    static const char *const keys[] = {"text", "code", "system", "onset", NULL};
    static const str_field fields[] = {
        STR_FIELD(orx_condition, "text", text), STR_FIELD(orx_condition, "code", code),
        STR_FIELD(orx_condition, "system", system), STR_FIELD(orx_condition, "onset", onset), {NULL, 0, 0}};
    static const record_section s = {"conditions", keys, fields, sizeof(orx_condition), NULL};
    return parse_records(p, arr, &s, (void **)&p->conditions, &p->n_conditions, err);
}

static orx_status parse_meds(orx_patient *p, json_t *arr, orx_error *err) {
    static const char *const keys[] = {"text", "rxnorm", "dose", "dose_value", "dose_unit", "route", "date", NULL};
    static const str_field fields[] = {
        STR_FIELD(orx_medication, "text", text), STR_FIELD(orx_medication, "rxnorm", rxnorm),
        STR_FIELD(orx_medication, "dose", dose_text), STR_FIELD(orx_medication, "dose_unit", dose_unit),
        STR_FIELD(orx_medication, "route", route), STR_FIELD(orx_medication, "date", date), {NULL, 0, 0}};
    static const record_section s = {"medications", keys, fields, sizeof(orx_medication), med_extra};
    return parse_records(p, arr, &s, (void **)&p->meds, &p->n_meds, err);
}

static orx_status parse_allergies(orx_patient *p, json_t *arr, orx_error *err) {
    static const char *const keys[] = {"text", "code", "system", "criticality", "category", "reactions", NULL};
    static const str_field fields[] = {
        STR_FIELD(orx_allergy, "text", text), STR_FIELD(orx_allergy, "code", code),
        STR_FIELD(orx_allergy, "system", system), STR_FIELD(orx_allergy, "criticality", criticality),
        STR_FIELD(orx_allergy, "category", category), {NULL, 0, 0}};
    static const record_section s = {"allergies", keys, fields, sizeof(orx_allergy), allergy_extra};
    return parse_records(p, arr, &s, (void **)&p->allergies, &p->n_allergies, err);
}

static orx_status parse_pgx_list(orx_patient *p, json_t *arr, orx_error *err) {
    static const char *const keys[] = {"gene", "diplotype", "phenotype", "date", NULL};
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        char where[64], gene_in[64], gene[24], dip[96], phe[96], date[32];
        orx_status st = element(p, "pharmacogenes", i, o, keys, where, sizeof where, err);
        if (!st) st = get_str(p, o, "gene", where, gene_in, sizeof gene_in, err);
        if (!st) st = get_str(p, o, "diplotype", where, dip, sizeof dip, err);
        if (!st) st = get_str(p, o, "phenotype", where, phe, sizeof phe, err);
        if (!st) st = get_str(p, o, "date", where, date, sizeof date, err);
        if (st) return st;
        if (!orx_clin_pgx_gene_in(gene_in, gene, sizeof gene))
            return orx_fail(err, ORX_ERR_INVALID, "%s: %s.gene: unsupported gene '%s' (CYP2C19, CYP2D6, "
                            "CYP2C9, VKORC1, SLCO1B1, TPMT, NUDT15, DPYD, HLA-B*57:01, HLA-B*58:01)",
                            p->source, where, gene_in);
        st = orx_clin_pgx_merge(p, gene, dip, phe, date, err);
        if (st) return st;
    }
    return ORX_OK;
}

/* ============================================================================================
 * Entry point
 * ========================================================================================== */
orx_status orx_clin_parse_simple(orx_patient *p, json_t *root, orx_error *err) {
    static const char *const keys[] = {"openrx_patient", "id", "name", "birthDate", "sex", "pregnant",
                                       "lactating", "labs", "conditions", "medications", "allergies",
                                       "pharmacogenes", "note", NULL};
    json_t *ver = json_object_get(root, "openrx_patient");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "%s: openrx_patient: expected version 1", p->source);
    orx_status st = check_keys(p, root, "patient", keys, err);
    char sex[16], preg[16], lact[16];
    if (!st) st = get_str(p, root, "id", "patient", p->id, sizeof p->id, err);
    if (!st) st = get_str(p, root, "name", "patient", p->name, sizeof p->name, err);
    if (!st) st = get_str(p, root, "birthDate", "patient", p->birth_date, sizeof p->birth_date, err);
    if (!st) st = get_str(p, root, "sex", "patient", sex, sizeof sex, err);
    if (!st) st = get_str(p, root, "pregnant", "patient", preg, sizeof preg, err);
    if (!st) st = get_str(p, root, "lactating", "patient", lact, sizeof lact, err);
    if (st) return st;
    if (!sex[0] || !strcmp(sex, "unknown")) p->sex = ORX_SEX_UNKNOWN;
    else if (!strcmp(sex, "female")) p->sex = ORX_SEX_FEMALE;
    else if (!strcmp(sex, "male")) p->sex = ORX_SEX_MALE;
    else if (!strcmp(sex, "other")) p->sex = ORX_SEX_OTHER;
    else return orx_fail(err, ORX_ERR_INVALID, "%s: sex: expected female, male, other or unknown, got '%s'",
                         p->source, sex);
    st = tri(p, "pregnant", preg, &p->pregnant, p->pregnancy_basis, sizeof p->pregnancy_basis, err);
    if (!st) st = tri(p, "lactating", lact, &p->lactating, p->lactation_basis, sizeof p->lactation_basis, err);
    if (st) return st;
    json_t *labs, *conds, *meds, *alls, *pgx;
    if ((st = get_array(p, root, "labs", &labs, err)) || (st = get_array(p, root, "conditions", &conds, err)) ||
        (st = get_array(p, root, "medications", &meds, err)) ||
        (st = get_array(p, root, "allergies", &alls, err)) || (st = get_array(p, root, "pharmacogenes", &pgx, err)))
        return st;
    if ((st = parse_labs(p, labs, err)) || (st = parse_conditions(p, conds, err)) ||
        (st = parse_meds(p, meds, err)) || (st = parse_allergies(p, alls, err)) ||
        (st = parse_pgx_list(p, pgx, err)))
        return st;
    return ORX_OK;
}
