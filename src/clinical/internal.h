/*
 * internal.h — PRIVATE to src/clinical/: helpers shared by the patient parsers (fhir.c,
 * simple.c) and patient.c. Not part of the clinical face; other folders include clinical.h.
 */
#ifndef ORX_CLINICAL_INTERNAL_H
#define ORX_CLINICAL_INTERNAL_H

#include "clinical/clinical.h"
#include <jansson.h>

/* Safe bounded copy; truncates on a UTF-8 boundary. NULL src copies "". */
void orx_clin_copy(char *dst, size_t cap, const char *src);
/* Append a zeroed element to a growable array (*arr has *n elements of elem bytes).
 * Returns the new element or NULL on OOM. */
void *orx_clin_push(void **arr, size_t *n, size_t elem);
/* Short name for a code system URL: "rxnorm", "snomed", "icd-10-cm", "loinc", "other"; "" for NULL. */
const char *orx_clin_system_name(const char *url);

/* Record one lab observation: converts unit → canonical, validates the value (finite; > 0 for
 * weight, height and creatinine; ≥ 0 for the rest) and its reference range (range may be NULL;
 * its unit "" means the value's unit; low ≤ high), keeps the latest by date (with its range),
 * ignores values dated after p->as_of (counted). where names the field for error messages. */
orx_status orx_clin_add_lab(orx_patient *p, orx_lab_kind k, double value, const char *unit,
                        const char *date, const char *loinc, const orx_lab_range *range,
                        const char *where, orx_error *err);
/* Lab kind for a LOINC code; returns false if the code is not one we keep. */
bool orx_clin_lab_for_loinc(const char *loinc, orx_lab_kind *k);

/* Pharmacogenes: find a supported gene name in text (case-insensitive); writes the canonical
 * gene name. HLA alleles are recognised as "HLA-B*57:01" / "HLA-B*58:01" (also "HLA-B*5701"). */
bool orx_clin_pgx_gene_in(const char *text, char *gene, size_t cap);
/* Merge a genotype and/or phenotype for gene (either may be NULL or ""). */
orx_status orx_clin_pgx_merge(orx_patient *p, const char *gene, const char *diplotype,
                          const char *phenotype, const char *date, orx_error *err);

/* Parsers (src/clinical/fhir.c, simple.c): fill p from a parsed root object. */
orx_status orx_clin_parse_fhir_bundle(orx_patient *p, json_t *root, orx_error *err);
orx_status orx_clin_parse_simple(orx_patient *p, json_t *root, orx_error *err);

/* Today's UTC date as YYYY-MM-DD. */
void orx_clin_today(char out[16]);
/* Validate "YYYY-MM-DD" (real calendar date). */
bool orx_clin_valid_date(const char *s);

#endif
