/*
 * clinical.h — the patient model: one patient parsed from a FHIR R4 Bundle or from the simple
 * openrx JSON form, with unit-normalised labs and derived clinical values (age, BMI, BSA, IBW,
 * AdjBW, Cockcroft–Gault CrCl, CKD-EPI 2021 eGFR, renal and age bands, pregnancy/lactation).
 *
 * The orx_patient struct is documented and read-only for callers: read its fields directly.
 * Strings are NUL-terminated and "" when unknown. Every derived value carries a present flag,
 * the formula name, the inputs it used, and — when absent — why. No input is ever defaulted.
 *
 * To build a patient in a test, write the openrx JSON form (see examples/patients/README.md)
 * and call orx_patient_parse() on the string.
 */
#ifndef ORX_CLINICAL_H
#define ORX_CLINICAL_H

#include "openrx.h"
#include "util/util.h"
#include <jansson.h>

/* ============================================================================================
 * Limits
 * ========================================================================================== */
#define ORX_PATIENT_MAX_BYTES (16u * 1024u * 1024u) /* larger input files are refused (bytes) */
#define ORX_CLIN_TEXT 256  /* capacity of free-text fields (bytes incl. NUL) */
#define ORX_CLIN_CODE 32   /* capacity of code fields (bytes incl. NUL) */
#define ORX_CLIN_DATE 32   /* capacity of date fields: FHIR date/dateTime as given */

/* ============================================================================================
 * Small enums
 * ========================================================================================== */
typedef enum orx_sex { ORX_SEX_UNKNOWN = 0, ORX_SEX_FEMALE, ORX_SEX_MALE, ORX_SEX_OTHER } orx_sex;
typedef enum orx_tristate { ORX_TRI_UNKNOWN = 0, ORX_TRI_NO, ORX_TRI_YES } orx_tristate;

/* Lab kinds kept as "latest value per kind". Canonical units in the comments. */
typedef enum orx_lab_kind {
    ORX_LAB_WEIGHT = 0,  /* body weight, kg            LOINC 29463-7, 3141-9 */
    ORX_LAB_HEIGHT,      /* body height, cm            LOINC 8302-2 */
    ORX_LAB_SCR,         /* serum creatinine, mg/dL    LOINC 2160-0, 38483-4 */
    ORX_LAB_EGFR,        /* reported eGFR, mL/min/1.73m2  LOINC 33914-3, 62238-1, 98979-8 */
    ORX_LAB_POTASSIUM,   /* potassium, mmol/L          LOINC 2823-3, 6298-4 */
    ORX_LAB_ALT,         /* ALT, U/L                   LOINC 1742-6, 1743-4 */
    ORX_LAB_AST,         /* AST, U/L                   LOINC 1920-8, 30239-8 */
    ORX_LAB_BILIRUBIN,   /* total bilirubin, mg/dL     LOINC 1975-2, 42719-5 */
    ORX_LAB_ALBUMIN,     /* albumin, g/dL              LOINC 1751-7, 61151-7 */
    ORX_LAB_INR,         /* INR, ratio (no unit)       LOINC 6301-6, 34714-6, 46418-0 */
    ORX_LAB_QTC,         /* QTc interval, ms           LOINC 8636-3 */
    ORX_LAB_PLATELETS,   /* platelet count, 10*3/uL    LOINC 777-3, 26515-7 */
    ORX_LAB_GLUCOSE,     /* glucose, mg/dL             LOINC 2345-7, 2339-0 */
    ORX_LAB_COUNT
} orx_lab_kind;

/* Which weight Cockcroft–Gault used (see orx_calc_crcl_weight). */
typedef enum orx_weight_choice {
    ORX_WEIGHT_NONE = 0,  /* no CrCl */
    ORX_WEIGHT_ACTUAL,    /* measured body weight */
    ORX_WEIGHT_IDEAL,     /* Devine ideal body weight */
    ORX_WEIGHT_ADJUSTED,  /* IBW + 0.4 × (actual − IBW) */
} orx_weight_choice;

/* Renal function band (FDA Guidance for Industry "Pharmacokinetics in Patients with Impaired
 * Renal Function" 2020, Table 1; = KDIGO G1, G2, G3a+G3b, G4, G5): by CrCl or eGFR, mL/min. */
typedef enum orx_renal_band {
    ORX_RENAL_UNKNOWN = 0, /* no CrCl or eGFR */
    ORX_RENAL_NORMAL,      /* ≥ 90 */
    ORX_RENAL_MILD,        /* 60–89 */
    ORX_RENAL_MODERATE,    /* 30–59 */
    ORX_RENAL_SEVERE,      /* 15–29 */
    ORX_RENAL_FAILURE,     /* < 15 (kidney failure) */
} orx_renal_band;

typedef enum orx_age_band {
    ORX_AGE_UNKNOWN = 0,
    ORX_AGE_PEDIATRIC,     /* < 18 years */
    ORX_AGE_ADULT,         /* 18–64 years */
    ORX_AGE_GERIATRIC,     /* ≥ 65 years */
} orx_age_band;

/* ============================================================================================
 * Record types
 * ========================================================================================== */
/* One active medication (MedicationRequest/MedicationStatement with status "active", or openrx form). */
typedef struct orx_medication {
    char   text[ORX_CLIN_TEXT];      /* drug as written: code.text, else coding display */
    char   rxnorm[ORX_CLIN_CODE];    /* RxNorm RxCUI from the coding, "" if none */
    char   dose_text[ORX_CLIN_TEXT]; /* dosage text, else built from doseAndRate + timing, "" if none */
    double dose_value;               /* doseQuantity value, 0 when absent */
    char   dose_unit[ORX_CLIN_CODE]; /* doseQuantity unit (e.g. "mg", "{tbl}"), "" when absent */
    char   route[64];                /* route text/display, "" when absent */
    char   source[24];               /* "MedicationRequest", "MedicationStatement" or "openrx" */
    char   date[ORX_CLIN_DATE];      /* authoredOn / effective date, "" when absent */
} orx_medication;

/* One allergy or intolerance (clinicalStatus active or absent; not refuted/entered-in-error). */
typedef struct orx_allergy {
    char text[ORX_CLIN_TEXT];        /* substance text / display */
    char code[ORX_CLIN_CODE];        /* first coding's code, "" if none */
    char system[16];                 /* "rxnorm", "snomed", "ndf-rt", "unii", "other", "" */
    char criticality[16];            /* "low", "high", "unable-to-assess", "" */
    char category[24];               /* "medication", "food", "environment", "biologic", "" */
    char reactions[ORX_CLIN_TEXT];   /* manifestations joined with "; " (severity in parentheses) */
} orx_allergy;

/* One active problem (clinicalStatus active/recurrence/relapse, or absent without abatement). */
typedef struct orx_condition {
    char text[ORX_CLIN_TEXT];        /* code.text, else coding display */
    char code[ORX_CLIN_CODE];        /* preferred: SNOMED, else ICD-10, else first coding */
    char system[16];                 /* "snomed", "icd-10", "icd-10-cm", "other", "" */
    char onset[ORX_CLIN_DATE];       /* onsetDateTime, "" if absent */
} orx_condition;

/* Latest observed value of one lab kind, converted to the canonical unit, with the reference
 * range the record gives for that observation (FHIR Observation.referenceRange of type "normal"
 * or untyped; openrx form "reference_range"). No range is ever defaulted. */
typedef struct orx_lab {
    bool   present;                  /* false: no observation of this kind */
    double value;                    /* in the canonical unit (see orx_lab_kind) */
    char   unit[24];                 /* canonical unit text ("kg", "cm", "mg/dL", ...) */
    double orig_value;               /* value as recorded */
    char   orig_unit[24];            /* unit (UCUM code) as recorded */
    char   date[ORX_CLIN_DATE];      /* effectiveDateTime as recorded, "" if absent */
    char   loinc[16];                /* LOINC code of the observation used, "" for openrx form */
    bool   has_ref_low;              /* the record states a lower reference limit */
    double ref_low;                  /* lower reference limit, canonical unit */
    bool   has_ref_high;             /* the record states an upper reference limit */
    double ref_high;                 /* upper reference limit, canonical unit */
    char   ref_text[64];             /* referenceRange.text as recorded, "" if none */
} orx_lab;

/* A reference range as read from the record (units as recorded; converted by orx_clin_add_lab). */
typedef struct orx_lab_range {
    bool   has_low;                  /* low given */
    double low;                      /* in unit */
    bool   has_high;                 /* high given */
    double high;                     /* in unit */
    char   unit[24];                 /* unit of low/high ("" = the value's unit) */
    char   text[64];                 /* free text, "" if none */
} orx_lab_range;

/* Where a lab value lies against its recorded reference range. */
typedef enum orx_lab_flag {
    ORX_LAB_NO_RANGE = 0,            /* absent value or no reference range on record */
    ORX_LAB_LOW,                     /* below the lower limit */
    ORX_LAB_NORMAL,                  /* within the stated limit(s) */
    ORX_LAB_HIGH,                    /* above the upper limit */
} orx_lab_flag;

/* Compare a lab with its own recorded range (strict: a value equal to a limit is within). A
 * range with only one limit judges only that side (the other side gives ORX_LAB_NORMAL). */
orx_lab_flag orx_lab_range_flag(const orx_lab *lab);
const char  *orx_lab_flag_name(orx_lab_flag f);      /* "no range", "low", "normal", "high" */
/* "K 5.4 mmol/L on 2025-12-15 (reference 3.5-5.1 mmol/L: high)" style text; "" when absent. */
void orx_lab_describe(const orx_lab *lab, orx_lab_kind k, char *out, size_t cap);

/* One pharmacogene result. Genotype and phenotype observations of the same gene are merged. */
typedef struct orx_pgx {
    char gene[24];                   /* "CYP2C19", "CYP2D6", "CYP2C9", "VKORC1", "SLCO1B1", "TPMT",
                                        "NUDT15", "DPYD", "HLA-B*57:01", "HLA-B*58:01" */
    char diplotype[96];              /* star-allele diplotype as given (e.g. "*1/" "*3" joined),
                                        "-1639G>A G/A" for VKORC1; for HLA the result text
                                        ("positive"/"negative" or alleles); "" if not given */
    char phenotype[96];              /* e.g. "Poor Metabolizer", "Decreased Function"; for HLA
                                        "positive"/"negative" when stated; "" if not given */
    char date[ORX_CLIN_DATE];        /* effective date, "" if absent */
} orx_pgx;

/* A derived value that explains itself. */
typedef struct orx_derived {
    bool   present;                  /* false: could not be computed; see why_absent */
    double value;                    /* in unit */
    char   unit[24];                 /* "years", "kg/m2", "m2", "kg", "mL/min", "mL/min/1.73m2" */
    char   formula[64];              /* formula name ("Cockcroft-Gault 1976", "CKD-EPI 2021") */
    char   inputs[384];              /* inputs used, with values and units */
    char   why_absent[160];          /* reason when !present, "" otherwise */
} orx_derived;

/* ============================================================================================
 * The patient
 * ========================================================================================== */
typedef struct orx_patient {
    /* identity and demographics */
    char        source[ORX_CLIN_TEXT];   /* file name or source label given to the parser */
    char        format[16];              /* "fhir-r4" or "openrx" */
    char        id[96];                  /* Patient.id / openrx "id" */
    char        name[128];               /* display name (synthetic data only), "" if none */
    char        birth_date[16];          /* YYYY-MM-DD (or YYYY-MM / YYYY as given), "" if none */
    orx_sex     sex;                     /* administrative gender */
    char        as_of[16];               /* YYYY-MM-DD the derived values refer to */

    /* lists (owned by the patient; count entries each) */
    orx_medication *meds;       size_t n_meds;        /* active medicines */
    orx_allergy    *allergies;  size_t n_allergies;   /* active allergies/intolerances */
    orx_condition  *conditions; size_t n_conditions;  /* active problems */
    orx_pgx        *pgx;        size_t n_pgx;         /* pharmacogene results */

    orx_lab labs[ORX_LAB_COUNT];         /* latest per kind, canonical units */

    /* flags */
    orx_tristate pregnant;               /* from data; male sex → NO; otherwise UNKNOWN */
    orx_tristate lactating;              /* from data; male sex → NO; otherwise UNKNOWN */
    char         pregnancy_basis[128];   /* where the pregnancy flag came from */
    char         lactation_basis[128];   /* where the lactation flag came from */

    /* derived values (see clinical/calc.c for formulas) */
    orx_derived age;                     /* years (whole years, from birthDate to as_of) */
    orx_age_band age_band;               /* from age */
    orx_derived bmi;                     /* kg/m2 */
    orx_derived bsa;                     /* m2, Mosteller */
    orx_derived ibw;                     /* kg, Devine */
    orx_derived adjbw;                   /* kg, IBW + 0.4 × (actual − IBW) */
    orx_derived crcl;                    /* mL/min, Cockcroft–Gault */
    orx_weight_choice crcl_weight;       /* which weight CrCl used */
    double       crcl_weight_kg;         /* that weight, kg (0 when crcl absent) */
    char         crcl_weight_rule[160];  /* the rule that chose it, in words */
    orx_derived egfr;                    /* mL/min/1.73m2, CKD-EPI 2021 race-free, from SCr */
    orx_renal_band renal_band;           /* from CrCl, else computed eGFR, else reported eGFR */
    char         renal_basis[96];        /* e.g. "CrCl 28.4 mL/min (Cockcroft-Gault)" */

    /* housekeeping */
    size_t n_ignored_future;             /* observations dated after as_of, ignored */
} orx_patient;

/* ============================================================================================
 * Loading
 * ========================================================================================== */
/* Load a patient file (FHIR R4 Bundle or openrx form, detected from content). as_of is
 * "YYYY-MM-DD" or NULL for today's UTC date. Files over ORX_PATIENT_MAX_BYTES are refused.
 * Errors: ORX_ERR_PARSE "file:line:col: ..." for bad JSON; ORX_ERR_INVALID for wrong
 * resourceType, unknown unit (names the field), negative weight, birthDate after as_of, ...;
 * ORX_ERR_RANGE for an oversize file; ORX_ERR_IO when unreadable. */
orx_status orx_patient_load(const char *path, const char *as_of, orx_patient **out,
                            orx_error *err);
/* Same, from memory. source_name labels error messages (e.g. the file name). */
orx_status orx_patient_parse(const char *json, size_t len, const char *source_name,
                             const char *as_of, orx_patient **out, orx_error *err);
/* Same, from a parsed JSON document (a request's "patient" member): no text round trip. */
orx_status orx_patient_from_json(const json_t *root, const char *source_name, const char *as_of,
                                 orx_patient **out, orx_error *err);
void orx_patient_free(orx_patient *p);

/* Recompute every derived value and flag from the recorded inputs (called by the parsers;
 * call again after changing labs/sex/birth_date/as_of by hand). */
orx_status orx_patient_derive(orx_patient *p, orx_error *err);

/* ============================================================================================
 * Output (appends to a caller-owned buffer; never prints)
 * ========================================================================================== */
/* Readable multi-line summary: demographics, problems, medicines, allergies, labs with dates,
 * pharmacogenes, derived values with formula names and inputs. */
orx_status orx_patient_summary(const orx_patient *p, orx_buf *out, orx_error *err);
/* JSON object with the same content (stable keys; see examples/patients/README.md). */
orx_status orx_patient_to_json(const orx_patient *p, orx_buf *out, orx_error *err);

/* ============================================================================================
 * Names
 * ========================================================================================== */
const char *orx_lab_kind_name(orx_lab_kind k);        /* "weight", "height", "scr", "egfr", ... */
const char *orx_lab_kind_label(orx_lab_kind k);       /* "Body weight", "Serum creatinine", ... */
/* The i-th LOINC code read as a lab (its kind in *k), NULL past the end. */
const char *orx_lab_loinc_at(size_t i, orx_lab_kind *k);
const char *orx_sex_name(orx_sex s);                  /* "female", "male", "other", "unknown" */
const char *orx_tristate_name(orx_tristate t);        /* "yes", "no", "unknown" */
const char *orx_renal_band_name(orx_renal_band b);    /* "normal", "mild", "moderate", "severe",
                                                         "kidney failure", "unknown" */
const char *orx_age_band_name(orx_age_band b);        /* "pediatric", "adult", "geriatric", "unknown" */
const char *orx_weight_choice_name(orx_weight_choice w); /* "actual", "ideal", "adjusted", "none" */

/* ============================================================================================
 * Calculators (pure; SI-ish inputs; formulas and sources documented in calc.c)
 * ========================================================================================== */
double orx_calc_bmi(double weight_kg, double height_cm);          /* kg/m2 */
double orx_calc_bsa_mosteller(double weight_kg, double height_cm); /* m2 */
double orx_calc_ibw_devine(orx_sex sex, double height_cm);        /* kg; sex must be F or M */
double orx_calc_adjbw(double ibw_kg, double actual_kg);           /* kg */
/* Cockcroft–Gault with the given weight: ((140 − age) × weight × [0.85 if female]) / (72 × SCr). */
double orx_calc_crcl_cg(double age_years, double weight_kg, double scr_mg_dl, orx_sex sex);
/* The weight rule (MedCalc-Bench): BMI < 18.5 → actual; 18.5 ≤ BMI ≤ 24.9 → min(IBW, actual);
 * otherwise → AdjBW. Returns the choice and writes the weight. */
orx_weight_choice orx_calc_crcl_weight(double bmi, double actual_kg, double ibw_kg,
                                       double adjbw_kg, double *weight_kg);
/* CKD-EPI 2021 (race-free) creatinine equation, mL/min/1.73m2. sex must be F or M. */
double orx_calc_egfr_ckdepi2021(double scr_mg_dl, double age_years, orx_sex sex);
orx_renal_band orx_calc_renal_band(double ml_min);
orx_age_band   orx_calc_age_band(double age_years);
/* Whole years between birth ("YYYY-MM-DD", "YYYY-MM" or "YYYY") and as_of ("YYYY-MM-DD").
 * Returns false on a malformed date. */
bool orx_calc_age_years(const char *birth, const char *as_of, int *years);

/* Unit conversion to the canonical unit of a lab kind. unit is a UCUM code (or common text
 * such as "lb", "in", "µmol/L"). Returns false for a unit not known for that kind. */
bool orx_clinical_convert(orx_lab_kind k, double value, const char *unit, double *out);

/* ============================================================================================
 * De-identification of patient text (clinical/deid.c) — what may go to a remote model
 *
 * HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i): the identifiers (A)-(R) are removed. A text is
 * scanned for the identifiers that can appear in free text; each found is replaced by a marker
 * "[redacted: <kind>]"; ages over 89 become "[age 90 or older]". Clinical numbers (doses such as
 * "800 mg/160 mg", lab values, ranges, ratios) are left as they are.
 * ========================================================================================== */
typedef enum orx_deid_kind {
    ORX_DEID_NAME = 0,   /* (A) names: the patient's recorded name and id, "Mr./Dr. X", "name: X" */
    ORX_DEID_ADDRESS,    /* (B) street address, PO box, state + ZIP code, "ZIP 02139" */
    ORX_DEID_DATE,       /* (C) dates (day, month; birth years too) */
    ORX_DEID_AGE,        /* (C) ages over 89 */
    ORX_DEID_PHONE,      /* (D) telephone numbers */
    ORX_DEID_FAX,        /* (E) fax numbers (after "fax") */
    ORX_DEID_EMAIL,      /* (F) e-mail addresses */
    ORX_DEID_SSN,        /* (G) social security numbers */
    ORX_DEID_ID,         /* (H)-(M), (R): record, plan, account, licence, serial and other numbers */
    ORX_DEID_URL,        /* (N) web addresses */
    ORX_DEID_IP,         /* (O) IP addresses (v4, v6) */
    ORX_DEID_KIND_COUNT
} orx_deid_kind;

typedef struct orx_deid {
    const char *known[8];               /* words to redact wherever they stand (the patient's name
                                           parts, id), NULL-terminated; filled by orx_deid_for */
    char        store[7][128];          /* storage for known words */
    int         counts[ORX_DEID_KIND_COUNT]; /* redactions made, per kind */
} orx_deid;

/* A scanner with the patient's own name parts and id as known words (pt may be NULL). */
void orx_deid_for(const orx_patient *pt, orx_deid *d);
/* Append text to out with identifiers replaced by markers; returns the redactions made. */
int  orx_deid_append(orx_deid *d, const char *text, orx_buf *out);
/* Total redactions counted in d. */
int  orx_deid_total(const orx_deid *d);
const char *orx_deid_kind_name(orx_deid_kind k); /* "name", "address", "date", ... */

#endif /* ORX_CLINICAL_H */
