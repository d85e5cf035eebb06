/*
 * checks.h — PRIVATE to src/safety/ (and the tests of single checks): the registry of checks and
 * each check's entry points. Everything else uses safety.h (orx_check_proposed, orx_check_current,
 * orx_check_run).
 *
 * A check is `orx_status orx_check_<kind>(ck, pt, drug, out, err)` (type orx_check_fn): declare it
 * here by adding its name to a list below and register it with one line in the table in checker.c;
 * optional init/fini hooks (orx_check_init_fn, orx_check_fini_fn) load its tables once per checker
 * and hand them back through orx_checker_state(ck, kind).
 */
#ifndef ORX_SAFETY_CHECKS_H
#define ORX_SAFETY_CHECKS_H

#include "safety/safety.h"

/* ============================================================================================
 * Check registry
 * ========================================================================================== */
/* Function types: the checks and their hooks are declared with them. */
typedef orx_status orx_check_fn(const orx_checker *ck, const orx_patient *pt, const orx_proposed_drug *drug,
                                orx_findings *out, orx_error *err);
typedef orx_status orx_check_init_fn(const orx_checker *ck, void **state, orx_error *err);
typedef void orx_check_fini_fn(void *state);

/* The end of a check's init: on failure the state is freed with fini and st returned; else the
 * state is handed out through *state. */
static inline orx_status orx_check_init_done(orx_status st, void *s, orx_check_fini_fn *fini, void **state) {
    if (st != ORX_OK) {
        fini(s);
        return st;
    }
    *state = s;
    return ORX_OK;
}

typedef struct orx_check_def {
    const char        *kind;  /* "interaction", "renal", ... (also the orx_checker_state key) */
    orx_check_fn      *run;   /* the check */
    orx_check_init_fn *init;  /* NULL or: load tables once (state passed back via
                                 orx_checker_state(ck, kind)) */
    orx_check_fini_fn *fini;  /* NULL or: free the state */
} orx_check_def;

/* The registered checks, in run order (table in checker.c). */
const orx_check_def *orx_checker_checks(size_t *n);

/* Interaction, duplicate and allergy checks (interactions.c, duplicates.c, allergy.c). They
 * compare drug against drug->others (interaction, duplicate) or against pt->allergies (allergy). */
orx_check_fn      orx_check_interaction, orx_check_duplicate, orx_check_allergy;
orx_check_init_fn orx_check_interaction_init;
orx_check_fini_fn orx_check_interaction_fini;

/* Allergy entries the lexicon cannot resolve (one info finding each, so they are never silently
 * skipped); called once per orx_check_proposed / orx_check_current run. */
orx_status orx_check_allergy_unresolved(const orx_checker *ck, const orx_patient *pt,
                                        orx_findings *out, orx_error *err);
/* True for class names that are mechanism groups, not therapeutic classes ("cyp3a4 inhibitors /
 * azole", "strong cyp3a4 inducer", "qt prolonging agent"): skipped by duplicate/allergy checks. */
bool orx_class_is_mechanism(const char *class_name);
/* True when a shipped source lists ingredient in cls as a therapeutic class: an FDA Established
 * Pharmacologic Class, or an ONC list class that is not a mechanism group. Duplicate therapy and
 * shared-class allergy findings use only these. */
bool orx_class_is_therapeutic(const orx_lexicon *L, const char *ingredient, const char *cls);

/* Interaction lookup for one ingredient pair (tests, tools): fills up to cap findings-style
 * rows; returns the number of matching rules (0 none). Requires the interaction state. */
typedef struct orx_ddi_hit {
    orx_severity severity;      /* tier */
    bool interruptive;          /* from the source (ONC high priority) */
    char source[128];           /* source name */
    char citation[256];         /* row / concept URI */
    char description[512];      /* source text, "" when none */
    char rule[192];             /* "warfarin x nsaids (class)" — what matched */
} orx_ddi_hit;
int orx_interaction_lookup(const orx_checker *ck, const char *ingr_a, const char *ingr_b,
                           orx_ddi_hit *out, int cap);

/* The patient group a label interaction statement is limited to (interactions.c, "Patient
 * groups"): 0 none, 1 patients with diabetes, 2 patients with impaired renal function; words
 * receives the label's words for the group ("" when none). For tests and tools. */
int orx_label_group_kind(const char *quote, char *words, size_t cap);

/* Label-derived checks (renal.c, hepatic.c, pregnancy.c, pgx.c, dose_limits.c, dose_rules.c,
 * labs.c), each with init and fini hooks: add a name to the three lists and register it in
 * checker.c. */
orx_check_fn orx_check_renal, orx_check_hepatic, orx_check_pregnancy, orx_check_pgx, orx_check_dose,
    orx_check_dose_indication, orx_check_labs;
orx_check_init_fn orx_check_renal_init, orx_check_hepatic_init, orx_check_pregnancy_init, orx_check_pgx_init,
    orx_check_dose_init, orx_check_dose_indication_init, orx_check_labs_init;
orx_check_fini_fn orx_check_renal_fini, orx_check_hepatic_fini, orx_check_pregnancy_fini, orx_check_pgx_fini,
    orx_check_dose_fini, orx_check_dose_indication_fini, orx_check_labs_fini;

/* The state a check's init hook returned (NULL if none / unknown kind). */
void *orx_checker_state(const orx_checker *ck, const char *kind);

/* Tables more than one check reads, loaded once per checker before the checks' init hooks. */
struct orx_srl_table; /* safety/label_rules.h */
/* data/rules/organ_impairment.tsv (FDA Organ Impairment DIDB; renal and hepatic exposure notes),
 * ingredients normalised; ncols 0 when the file is absent. */
const struct orx_srl_table *orx_checker_organ_impairment(const orx_checker *ck);

#endif /* ORX_SAFETY_CHECKS_H */
