/*
 * safety.h — the deterministic medication-safety checker: findings with severity tiers and
 * citations, the proposed-drug record (resolved ingredients + parsed dose), the checker handle
 * and its entry points.
 *
 * Checks (one file each, rules as data under data/ with SOURCE notes):
 *   interaction (interactions.c + label_ddi.c: lists and label-derived rules), duplicate
 *   (duplicates.c), allergy (allergy.c);
 *   renal, hepatic, pregnancy/lactation, pgx, dose limits, dose by indication and band, lab-aware
 *   rules (renal.c, hepatic.c, pregnancy.c, pgx.c, dose_limits.c, dose_rules.c, labs.c): label-derived
 *   tables under data/rules/.
 * Each check is `orx_status orx_check_<kind>(const orx_checker *, const orx_patient *,
 * const orx_proposed_drug *, orx_findings *, orx_error *)`, declared in the private
 * safety/checks.h and registered with one line in the table in checker.c (optional init/fini hooks
 * load its tables once per checker). This header is the face: findings, dose strings, the
 * proposed drug, the checker handle and its entry points.
 *
 * Severity tiers (data/interactions/SOURCE.md maps every source's own scale onto them):
 *   contraindicated > major > moderate > minor > info.
 */
#ifndef ORX_SAFETY_H
#define ORX_SAFETY_H

#include "openrx.h"
#include "util/util.h"
#include "clinical/clinical.h"
#include "lexicon/lexicon.h"
#include <jansson.h>

/* ============================================================================================
 * Severity
 * ========================================================================================== */
typedef enum orx_severity {
    ORX_SEV_INFO = 0,         /* informational (e.g. ONC non-interruptive list, "not assessed") */
    ORX_SEV_MINOR,            /* minor / "take into account" */
    ORX_SEV_MODERATE,         /* moderate / precaution / VA "significant" */
    ORX_SEV_MAJOR,            /* major / ONC high priority / VA "critical" / not recommended */
    ORX_SEV_CONTRAINDICATED,  /* contraindicated (label "contraindicated", ANSM CI) */
} orx_severity;
#define ORX_SEV_COUNT 5

const char *orx_severity_name(orx_severity s);               /* "info" ... "contraindicated" */
bool        orx_severity_parse(const char *s, orx_severity *out); /* exact names, any case */

/* ============================================================================================
 * Findings
 * ========================================================================================== */
typedef struct orx_finding {
    char kind[24];            /* "interaction","duplicate","allergy","renal","hepatic",
                                 "pregnancy","lactation","pgx","dose","unrecognised" */
    orx_severity severity;    /* tier (see above) */
    bool interruptive;        /* true: should interrupt the prescriber (e.g. ONC high priority) */
    char drugs[256];          /* drugs involved, " + "-joined as written ("warfarin + ibuprofen") */
    char trigger[256];        /* patient fact that triggered it ("active medicine: Coumadin 5 mg",
                                 "CrCl 24 mL/min (Cockcroft-Gault, actual weight)") */
    char message[512];        /* what is wrong, one or two sentences */
    char management[512];     /* management text from the source where it has one, else "" */
    char source[128];         /* source name ("ONC High-Priority DDI list", "VA NDF-RT") */
    char citation[256];       /* set id + section, guideline URL, list row / concept URI */
    char quote[1024];         /* exact sentence for label-derived rules, "" otherwise */
    char also[768];           /* other sources that give a finding for the same pair (grouped
                                 into this one): "source (tier); ...", "" when none */
} orx_finding;

typedef struct orx_findings {
    orx_finding *items;       /* n findings, in the order added (sort with orx_findings_sort) */
    size_t n;                 /* count */
    size_t cap;               /* allocated */
} orx_findings;

void orx_findings_init(orx_findings *fs);
void orx_findings_clear(orx_findings *fs);
/* New zeroed finding with kind and severity set; NULL on allocation failure (the list is kept).
 * Fill the char fields with orx_fset(f->message, sizeof f->message, ...). */
orx_finding *orx_findings_push(orx_findings *fs, const char *kind, orx_severity sev);
/* snprintf into a fixed field, truncating silently (no truncation warnings at call sites):
 * orx_fset(f->message, sizeof f->message, "...", ...). */
void orx_fset(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Highest tier present; returns false when the list is empty. */
bool orx_findings_max_severity(const orx_findings *fs, orx_severity *out);
/* Stable sort: severity descending, then kind, then drugs. */
void orx_findings_sort(orx_findings *fs);
/* Count per tier into counts[ORX_SEV_COUNT]. */
void orx_findings_count(const orx_findings *fs, size_t counts[ORX_SEV_COUNT]);
/* Human-readable block per finding / JSON array of objects (keys = field names, severity as
 * name). Append to out. */
orx_status orx_findings_to_text(const orx_findings *fs, orx_buf *out, orx_error *err);
orx_status orx_findings_to_json(const orx_findings *fs, orx_buf *out, orx_error *err);
/* The findings as a JSON array (new reference; NULL on OOM): every field, or with summary only
 * kind, severity, drugs and citation (the audit record's). The one rendering of findings to
 * JSON: the text above, the recommend JSON, the server's answers and the audit log use it. */
json_t *orx_findings_json(const orx_findings *fs, bool summary);

/* ============================================================================================
 * Dose strings: "ibuprofen 400 mg orally every 6 hours" -> 400, "mg", "oral", "q6h" (4/day)
 * ========================================================================================== */
typedef struct orx_dose {
    bool   present;           /* a dose amount was found */
    double amount;            /* per administration, in unit (upper bound of a range "1-2") */
    double amount_low;        /* lower bound of a range, == amount when not a range */
    char   unit[16];          /* normalised: "mg","mcg","g","ng","mL","L","unit","meq","mmol",
                                 "tablet","capsule","puff","drop","patch","mg/kg","mcg/kg",
                                 "unit/kg","mg/m2" ... "" when absent */
    char   route[24];         /* normalised: "oral","iv","im","subcutaneous","topical","inhaled",
                                 "rectal","vaginal","transdermal","sublingual","nasal",
                                 "ophthalmic","otic", "" when absent */
    char   frequency[48];     /* normalised text: "q6h","once daily","twice daily","weekly"... */
    double per_day;           /* administrations per day (q6h = 4, weekly = 1/7); 0 = unknown */
    double interval_h;        /* hours between doses when stated/derivable, 0 = unknown */
    bool   prn;               /* "as needed" / "prn" */
    double daily_amount;      /* amount × per_day in unit (upper bound), 0 when unknown */
    int    n_parts;           /* combination strength: amounts given per ingredient ("800 mg/160
                                 mg", "800-160 mg" for a 2-ingredient drug); 0 = not a combination
                                 strength. amount is then part[0]. */
    double part[8];           /* per-ingredient amounts in unit, in the order written */
    char   text[256];         /* the dose part of the input as given */
} orx_dose;

/* Parse the dose part of a drug string (drug name words are skipped). Returns ORX_OK with
 * dose->present false when the text has no dose at all (a bare drug name). Errors
 * (ORX_ERR_PARSE / ORX_ERR_INVALID, message with the column "dose:1:COL: ..."): a number without
 * a unit, an unknown unit after a number, contradictory units ("400 mg mL", "5 mg 10 mcg"),
 * two routes or two frequencies that disagree, a negative / zero / non-finite amount. */
orx_status orx_dose_parse(const char *text, orx_dose *dose, orx_error *err);
/* Same, knowing how many ingredients the drug has: for n_ingr >= 2, "A-B unit" and "A/B unit"
 * with a mass unit are a combination strength (one amount per ingredient, n_parts = 2), not a
 * range (so "800-160 mg" is not "reversed"); "A unit/B unit" is recorded as parts for any n_ingr.
 * orx_dose_parse(t, d, e) == orx_dose_parse_n(t, 1, d, e). */
orx_status orx_dose_parse_n(const char *text, int n_ingr, orx_dose *dose, orx_error *err);

/* A dose given in parts (a structured draft); NULL or "" = not given. */
typedef struct orx_dose_parts {
    double      amount;      /* per administration, in unit */
    const char *unit;        /* a unit word of the vocabulary ("mg", "mEq", "tablet") */
    const char *route;       /* a route word ("oral", "iv") */
    const char *frequency;   /* free text, read like a dose string's frequency ("twice daily") */
} orx_dose_parts;
/* Build a dose from parts: unit and route normalised as in orx_dose_parse, the frequency text
 * parsed. Errors: an unknown unit or route, a non-positive amount with a unit, a frequency text
 * that states another route or amount. */
orx_status orx_dose_from_parts(const orx_dose_parts *parts, int n_ingr, orx_dose *dose, orx_error *err);

/* ============================================================================================
 * Proposed drug (a --drug argument, or one of the patient's current medicines)
 * ========================================================================================== */
#define ORX_MAX_INGR 8
typedef struct orx_proposed_drug {
    char text[256];                      /* as written ("ibuprofen 400 mg orally every 6 hours") */
    char rxcui[16];                      /* RxCUI given with it (FHIR coding), "" if none */
    int  n_ingr;                         /* resolved ingredients (0 = not recognised) */
    orx_lex_match ingr[ORX_MAX_INGR];    /* resolved ingredients */
    orx_dose dose;                       /* parsed dose (dose.present false when none) */
    char dose_error[256];                /* dose parse error message, "" when parsed fine */
    bool is_current;                     /* true: one of the patient's active medicines
                                            (a continuation); false: a proposed new drug (an
                                            initiation) */
    char indication[160];                /* what the drug is for, as given by the caller (CLI
                                            --indication, the recommend pipeline); "" = unknown
                                            (checks then use the patient's problems) */
    /* Other drugs of the regimen this drug is checked against (filled by the checker):
     * the patient's active medicines + the proposed drugs before this one. */
    const struct orx_proposed_drug *others; /* array of n_others, may be NULL */
    size_t n_others;                     /* count */
} orx_proposed_drug;

typedef struct orx_checker orx_checker;

/* Resolve text (+ optional rxcui) through the checker's lexicon and parse its dose. Never fails
 * on an unknown drug (n_ingr = 0) or an unparseable dose (dose_error set); fails only on bad
 * arguments. */
orx_status orx_proposed_drug_init(const orx_checker *ck, const char *text, const char *rxcui,
                                  orx_proposed_drug *out, orx_error *err);
/* Same for a patient medicine (text, RxNorm code, dose text); is_current = true. */
orx_status orx_proposed_drug_from_med(const orx_checker *ck, const orx_medication *med,
                                      orx_proposed_drug *out, orx_error *err);
/* A proposed drug from parts (a structured draft): the ingredient resolved through the lexicon,
 * the dose from orx_dose_from_parts (dose_error set when it fails); text = "INGREDIENT AMOUNT
 * UNIT ROUTE FREQUENCY" for display. */
orx_status orx_proposed_drug_from_parts(const orx_checker *ck, const char *ingredient, const orx_dose_parts *parts,
                                        orx_proposed_drug *out, orx_error *err);
/* "warfarin + ibuprofen"-style display name: ingredient list, else the text. */
const char *orx_proposed_drug_name(const orx_proposed_drug *d, char *buf, size_t cap);

/* ============================================================================================
 * Checker
 * ========================================================================================== */
typedef struct orx_checker_params {
    const char  *data_dir;       /* project data/ folder; NULL = orx_lexicon_default_data_dir() */
    orx_severity min_severity;   /* findings below this tier are dropped (default INFO = all) */
} orx_checker_params;

orx_checker_params orx_checker_default_params(void);
/* Opens the lexicon and runs each registered check's init hook (loads its tables). */
orx_status orx_checker_create(const orx_checker_params *params, orx_checker **out, orx_error *err);
void       orx_checker_free(orx_checker *ck);

const orx_lexicon *orx_checker_lexicon(const orx_checker *ck);
const char        *orx_checker_data_dir(const orx_checker *ck);

/* Check proposed drugs against the patient (active medicines, allergies, labs, ...) and against
 * each other. Appends findings (sorted). An unrecognised drug yields an "unrecognised" finding. */
orx_status orx_check_proposed(const orx_checker *ck, const orx_patient *pt,
                              const orx_proposed_drug *drugs, size_t n, orx_findings *out,
                              orx_error *err);
/* Check the patient's current active list: every check on every medicine, interactions and
 * duplicates pairwise (each pair once). Appends findings (sorted). */
orx_status orx_check_current(const orx_checker *ck, const orx_patient *pt, orx_findings *out,
                             orx_error *err);

/* Run one registered check (by kind: "interaction", "duplicate", "allergy", "renal", "hepatic",
 * "pregnancy", "pgx", "dose", "dose_indication", "labs") on one drug; pt may be NULL for the
 * checks that compare the drug with drug->others only. Appends findings (unsorted);
 * ORX_ERR_NOT_FOUND for an unknown kind. */
orx_status orx_check_run(const orx_checker *ck, const char *kind, const orx_patient *pt,
                         const orx_proposed_drug *drug, orx_findings *out, orx_error *err);

#endif /* ORX_SAFETY_H */
