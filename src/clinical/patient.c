/*
 * patient.c — loading a patient file, format detection, lab recording with unit conversion,
 * pharmacogene merging, and the small helpers the parsers share.
 */
#include "clinical/internal.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */
void orx_clin_copy(char *dst, size_t cap, const char *src) {
    if (!cap) return;
    if (!src) { dst[0] = '\0'; return; }
    size_t n = strnlen(src, cap);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--; /* don't split a UTF-8 char */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void *orx_clin_push(void **arr, size_t *n, size_t elem) {
    char *grown = realloc(*arr, (*n + 1) * elem);
    if (!grown) return NULL;
    *arr = grown;
    void *slot = grown + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

const char *orx_clin_system_name(const char *url) {
    if (!url) return "";
    if (strstr(url, "rxnorm")) return "rxnorm";
    if (strstr(url, "snomed")) return "snomed";
    if (strstr(url, "icd-10-cm")) return "icd-10-cm";
    if (strstr(url, "icd-10")) return "icd-10";
    if (strstr(url, "loinc")) return "loinc";
    if (strstr(url, "ndfrt") || strstr(url, "ndf-rt")) return "ndf-rt";
    if (strstr(url, "unii")) return "unii";
    return "other";
}

void orx_clin_today(char out[16]) { orx_utc_now(out, 16, "%Y-%m-%d"); }

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool orx_clin_valid_date(const char *s) {
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || m < 1 || m > 12 || d < 1) return false;
    int lim = mdays[m - 1] + (m == 2 && leap(y));
    return d <= lim;
}

/* ============================================================================================
 * Names
 * ========================================================================================== */
static const struct { const char *name, *label, *unit; } LAB_INFO[ORX_LAB_COUNT] = {
    [ORX_LAB_WEIGHT]    = {"weight", "Body weight", "kg"},
    [ORX_LAB_HEIGHT]    = {"height", "Body height", "cm"},
    [ORX_LAB_SCR]       = {"scr", "Serum creatinine", "mg/dL"},
    [ORX_LAB_EGFR]      = {"egfr", "eGFR (reported)", "mL/min/1.73m2"},
    [ORX_LAB_POTASSIUM] = {"potassium", "Potassium", "mmol/L"},
    [ORX_LAB_ALT]       = {"alt", "ALT", "U/L"},
    [ORX_LAB_AST]       = {"ast", "AST", "U/L"},
    [ORX_LAB_BILIRUBIN] = {"bilirubin", "Total bilirubin", "mg/dL"},
    [ORX_LAB_ALBUMIN]   = {"albumin", "Albumin", "g/dL"},
    [ORX_LAB_INR]       = {"inr", "INR", ""},
    [ORX_LAB_QTC]       = {"qtc", "QTc interval", "ms"},
    [ORX_LAB_PLATELETS] = {"platelets", "Platelet count", "10*3/uL"},
    [ORX_LAB_GLUCOSE]   = {"glucose", "Glucose", "mg/dL"},
};

const char *orx_lab_kind_name(orx_lab_kind k) {
    return k < ORX_LAB_COUNT ? LAB_INFO[k].name : "unknown";
}
const char *orx_lab_kind_label(orx_lab_kind k) {
    return k < ORX_LAB_COUNT ? LAB_INFO[k].label : "unknown";
}
const char *orx_sex_name(orx_sex s) {
    switch (s) {
    case ORX_SEX_FEMALE: return "female";
    case ORX_SEX_MALE: return "male";
    case ORX_SEX_OTHER: return "other";
    default: return "unknown";
    }
}
const char *orx_tristate_name(orx_tristate t) {
    return t == ORX_TRI_YES ? "yes" : t == ORX_TRI_NO ? "no" : "unknown";
}
const char *orx_renal_band_name(orx_renal_band b) {
    switch (b) {
    case ORX_RENAL_NORMAL: return "normal";
    case ORX_RENAL_MILD: return "mild";
    case ORX_RENAL_MODERATE: return "moderate";
    case ORX_RENAL_SEVERE: return "severe";
    case ORX_RENAL_FAILURE: return "kidney failure";
    default: return "unknown";
    }
}
const char *orx_age_band_name(orx_age_band b) {
    switch (b) {
    case ORX_AGE_PEDIATRIC: return "pediatric";
    case ORX_AGE_ADULT: return "adult";
    case ORX_AGE_GERIATRIC: return "geriatric";
    default: return "unknown";
    }
}
const char *orx_weight_choice_name(orx_weight_choice w) {
    switch (w) {
    case ORX_WEIGHT_ACTUAL: return "actual";
    case ORX_WEIGHT_IDEAL: return "ideal";
    case ORX_WEIGHT_ADJUSTED: return "adjusted";
    default: return "none";
    }
}

/* ============================================================================================
 * Labs: LOINC map, units, latest-value rule
 * ========================================================================================== */
static const struct { const char *loinc; orx_lab_kind kind; } LOINC_MAP[] = {
    {"29463-7", ORX_LAB_WEIGHT},    {"3141-9", ORX_LAB_WEIGHT},
    {"8302-2", ORX_LAB_HEIGHT},
    {"2160-0", ORX_LAB_SCR},        {"38483-4", ORX_LAB_SCR},
    {"33914-3", ORX_LAB_EGFR},      {"62238-1", ORX_LAB_EGFR},     {"98979-8", ORX_LAB_EGFR},
    {"2823-3", ORX_LAB_POTASSIUM},  {"6298-4", ORX_LAB_POTASSIUM},
    {"1742-6", ORX_LAB_ALT},        {"1743-4", ORX_LAB_ALT},
    {"1920-8", ORX_LAB_AST},        {"30239-8", ORX_LAB_AST},
    {"1975-2", ORX_LAB_BILIRUBIN},  {"42719-5", ORX_LAB_BILIRUBIN},
    {"1751-7", ORX_LAB_ALBUMIN},    {"61151-7", ORX_LAB_ALBUMIN},
    {"6301-6", ORX_LAB_INR},        {"34714-6", ORX_LAB_INR},      {"46418-0", ORX_LAB_INR},
    {"8636-3", ORX_LAB_QTC},
    {"777-3", ORX_LAB_PLATELETS},   {"26515-7", ORX_LAB_PLATELETS},
    {"2345-7", ORX_LAB_GLUCOSE},    {"2339-0", ORX_LAB_GLUCOSE},
};

const char *orx_lab_loinc_at(size_t i, orx_lab_kind *k) {
    if (i >= sizeof LOINC_MAP / sizeof LOINC_MAP[0]) return NULL;
    if (k) *k = LOINC_MAP[i].kind;
    return LOINC_MAP[i].loinc;
}

bool orx_clin_lab_for_loinc(const char *loinc, orx_lab_kind *k) {
    if (!loinc) return false;
    for (size_t i = 0; i < sizeof LOINC_MAP / sizeof LOINC_MAP[0]; i++)
        if (!strcmp(LOINC_MAP[i].loinc, loinc)) { *k = LOINC_MAP[i].kind; return true; }
    return false;
}

/* Unit table: UCUM code (or common text) → factor to the canonical unit of a kind.
 * Creatinine: 1 mg/dL = 88.4 µmol/L (molar mass 113.12 g/mol). Bilirubin: 1 mg/dL = 17.1 µmol/L
 * (molar mass 584.66 g/mol). Albumin: 1 g/dL = 10 g/L. Weight: 1 [lb_av] = 0.45359237 kg.
 * Height: 1 [in_i] = 2.54 cm. Potassium: mEq/L = mmol/L (monovalent). Glucose: 1 mmol/L =
 * 18.016 mg/dL (molar mass 180.16 g/mol). Platelets: 10*3/uL = 10*9/L = K/uL; 1/uL = 0.001 10*3/uL.
 * QTc: 1 s = 1000 ms. */
typedef struct unit_row { orx_lab_kind kind; const char *unit; double factor; } unit_row;
static const unit_row UNITS[] = {
    {ORX_LAB_WEIGHT, "kg", 1.0},          {ORX_LAB_WEIGHT, "g", 0.001},
    {ORX_LAB_WEIGHT, "[lb_av]", 0.45359237}, {ORX_LAB_WEIGHT, "lb", 0.45359237},
    {ORX_LAB_WEIGHT, "lbs", 0.45359237},
    {ORX_LAB_HEIGHT, "cm", 1.0},          {ORX_LAB_HEIGHT, "m", 100.0},
    {ORX_LAB_HEIGHT, "mm", 0.1},          {ORX_LAB_HEIGHT, "[in_i]", 2.54},
    {ORX_LAB_HEIGHT, "[in_us]", 2.54},    {ORX_LAB_HEIGHT, "in", 2.54},
    {ORX_LAB_SCR, "mg/dL", 1.0},          {ORX_LAB_SCR, "umol/L", 1.0 / 88.4},
    {ORX_LAB_SCR, "\xC2\xB5mol/L", 1.0 / 88.4}, {ORX_LAB_SCR, "\xCE\xBCmol/L", 1.0 / 88.4},
    {ORX_LAB_EGFR, "mL/min/{1.73_m2}", 1.0}, {ORX_LAB_EGFR, "mL/min/1.73m2", 1.0},
    {ORX_LAB_EGFR, "mL/min/1.73_m2", 1.0},   {ORX_LAB_EGFR, "mL/min/[1.73_m2]", 1.0},
    {ORX_LAB_EGFR, "mL/min/{1.73m2}", 1.0},
    {ORX_LAB_POTASSIUM, "mmol/L", 1.0},   {ORX_LAB_POTASSIUM, "meq/L", 1.0},
    {ORX_LAB_POTASSIUM, "mEq/L", 1.0},
    {ORX_LAB_ALT, "U/L", 1.0},            {ORX_LAB_ALT, "[IU]/L", 1.0},  {ORX_LAB_ALT, "IU/L", 1.0},
    {ORX_LAB_AST, "U/L", 1.0},            {ORX_LAB_AST, "[IU]/L", 1.0},  {ORX_LAB_AST, "IU/L", 1.0},
    {ORX_LAB_BILIRUBIN, "mg/dL", 1.0},    {ORX_LAB_BILIRUBIN, "umol/L", 1.0 / 17.1},
    {ORX_LAB_BILIRUBIN, "\xC2\xB5mol/L", 1.0 / 17.1},
    {ORX_LAB_ALBUMIN, "g/dL", 1.0},       {ORX_LAB_ALBUMIN, "g/L", 0.1},
    {ORX_LAB_INR, "{INR}", 1.0},          {ORX_LAB_INR, "{ratio}", 1.0}, {ORX_LAB_INR, "1", 1.0},
    {ORX_LAB_INR, "", 1.0},               {ORX_LAB_INR, "INR", 1.0},     {ORX_LAB_INR, "ratio", 1.0},
    {ORX_LAB_QTC, "ms", 1.0},             {ORX_LAB_QTC, "msec", 1.0},    {ORX_LAB_QTC, "s", 1000.0},
    {ORX_LAB_PLATELETS, "10*3/uL", 1.0},  {ORX_LAB_PLATELETS, "10^3/uL", 1.0},
    {ORX_LAB_PLATELETS, "10*3/mm3", 1.0}, {ORX_LAB_PLATELETS, "K/uL", 1.0},
    {ORX_LAB_PLATELETS, "10*9/L", 1.0},   {ORX_LAB_PLATELETS, "10^9/L", 1.0},
    {ORX_LAB_PLATELETS, "/uL", 0.001},    {ORX_LAB_PLATELETS, "{cells}/uL", 0.001},
    {ORX_LAB_GLUCOSE, "mg/dL", 1.0},      {ORX_LAB_GLUCOSE, "mmol/L", 18.016},
};

bool orx_clinical_convert(orx_lab_kind k, double value, const char *unit, double *out) {
    if (!unit) unit = "";
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++) {
        if (UNITS[i].kind != k) continue;
        if (!strcmp(UNITS[i].unit, unit)) { *out = value * UNITS[i].factor; return true; }
    }
    return false;
}

/* Sanity limits on inputs (catch unit slips such as grams sent as kg). Not clinical thresholds. */
static const double LAB_MAX[ORX_LAB_COUNT] = {
    [ORX_LAB_WEIGHT] = 700, [ORX_LAB_HEIGHT] = 280, [ORX_LAB_SCR] = 40, [ORX_LAB_EGFR] = 300,
    [ORX_LAB_POTASSIUM] = 15, [ORX_LAB_ALT] = 50000, [ORX_LAB_AST] = 50000,
    [ORX_LAB_BILIRUBIN] = 100, [ORX_LAB_ALBUMIN] = 10, [ORX_LAB_INR] = 30,
    [ORX_LAB_QTC] = 1500, [ORX_LAB_PLATELETS] = 5000, [ORX_LAB_GLUCOSE] = 3000,
};

/* Compare two dates/dateTimes by their first 10 chars; "" sorts first. */
static int date_cmp(const char *a, const char *b) {
    if (!a[0] || !b[0]) return a[0] ? 1 : b[0] ? -1 : 0;
    return strncmp(a, b, 10);
}

/* Convert a recorded reference range into the canonical unit of k (unit "" = the value's). */
static orx_status convert_range(orx_patient *p, orx_lab_kind k, const orx_lab_range *r,
                                const char *value_unit, const char *where, orx_lab *out,
                                orx_error *err) {
    const char *u = r->unit[0] ? r->unit : (value_unit ? value_unit : "");
    double lo = 0, hi = 0;
    if ((r->has_low && !orx_clinical_convert(k, r->low, u, &lo)) ||
        (r->has_high && !orx_clinical_convert(k, r->high, u, &hi)))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: unknown unit '%s' in the reference range "
                        "for %s (expected UCUM, e.g. '%s')", p->source, where, u,
                        orx_lab_kind_label(k), LAB_INFO[k].unit);
    if ((r->has_low && !isfinite(r->low)) || (r->has_high && !isfinite(r->high)) ||
        (r->has_low && r->has_high && lo > hi))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: reference range low %g is above high %g "
                        "(or not a finite number)", p->source, where, r->low, r->high);
    out->has_ref_low = r->has_low;
    out->ref_low = lo;
    out->has_ref_high = r->has_high;
    out->ref_high = hi;
    orx_clin_copy(out->ref_text, sizeof out->ref_text, r->text);
    return ORX_OK;
}

orx_status orx_clin_add_lab(orx_patient *p, orx_lab_kind k, double value, const char *unit,
                        const char *date, const char *loinc, const orx_lab_range *range,
                        const char *where, orx_error *err) {
    if (!date) date = "";
    if (!isfinite(value))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: value is not a finite number", p->source, where);
    double v;
    if ((!unit || !unit[0]) && k != ORX_LAB_INR)
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: missing unit for %s (expected UCUM, e.g. '%s')",
                        p->source, where, orx_lab_kind_label(k), LAB_INFO[k].unit);
    if (!orx_clinical_convert(k, value, unit, &v))
        return orx_fail(err, ORX_ERR_INVALID,
                        "%s: %s: unknown unit '%s' for %s (expected UCUM, e.g. '%s')", p->source,
                        where, unit ? unit : "", orx_lab_kind_label(k), LAB_INFO[k].unit);
    bool must_be_positive = k == ORX_LAB_WEIGHT || k == ORX_LAB_HEIGHT || k == ORX_LAB_SCR;
    if (must_be_positive ? !(v > 0) : !(v >= 0))
        return orx_fail(err, ORX_ERR_INVALID, "%s: %s: %s must be %s, got %g %s", p->source, where,
                        orx_lab_kind_label(k), must_be_positive ? "positive" : "non-negative",
                        value, unit ? unit : "");
    if (v > LAB_MAX[k])
        return orx_fail(err, ORX_ERR_RANGE,
                        "%s: %s: %s %g %s is implausible (limit %g %s); check the unit", p->source,
                        where, orx_lab_kind_label(k), value, unit ? unit : "", LAB_MAX[k],
                        LAB_INFO[k].unit);
    orx_lab tmp;
    memset(&tmp, 0, sizeof tmp);
    if (range && (range->has_low || range->has_high || range->text[0])) {
        orx_status st = convert_range(p, k, range, unit, where, &tmp, err);
        if (st != ORX_OK) return st;
    }
    if (date[0] && p->as_of[0] && strncmp(date, p->as_of, 10) > 0) {
        p->n_ignored_future++;
        return ORX_OK;
    }
    orx_lab *lab = &p->labs[k];
    if (lab->present && date_cmp(date, lab->date) < 0) return ORX_OK; /* keep the latest */
    tmp.present = true;
    tmp.value = v;
    orx_clin_copy(tmp.unit, sizeof tmp.unit, LAB_INFO[k].unit);
    tmp.orig_value = value;
    orx_clin_copy(tmp.orig_unit, sizeof tmp.orig_unit, unit);
    orx_clin_copy(tmp.date, sizeof tmp.date, date);
    orx_clin_copy(tmp.loinc, sizeof tmp.loinc, loinc);
    *lab = tmp;
    return ORX_OK;
}

orx_lab_flag orx_lab_range_flag(const orx_lab *lab) {
    if (!lab || !lab->present || (!lab->has_ref_low && !lab->has_ref_high)) return ORX_LAB_NO_RANGE;
    if (lab->has_ref_low && lab->value < lab->ref_low) return ORX_LAB_LOW;
    if (lab->has_ref_high && lab->value > lab->ref_high) return ORX_LAB_HIGH;
    return ORX_LAB_NORMAL;
}

const char *orx_lab_flag_name(orx_lab_flag f) {
    switch (f) {
    case ORX_LAB_LOW: return "low";
    case ORX_LAB_NORMAL: return "within range";
    case ORX_LAB_HIGH: return "high";
    default: return "no reference range";
    }
}

void orx_lab_describe(const orx_lab *lab, orx_lab_kind k, char *out, size_t cap) {
    if (!out || !cap) return;
    out[0] = '\0';
    if (!lab || !lab->present || k >= ORX_LAB_COUNT) return;
    char range[96] = "";
    const char *u = LAB_INFO[k].unit;
    if (lab->has_ref_low && lab->has_ref_high)
        snprintf(range, sizeof range, "reference %.4g-%.4g%s%s", lab->ref_low, lab->ref_high, *u ? " " : "", u);
    else if (lab->has_ref_high)
        snprintf(range, sizeof range, "reference <= %.4g%s%s", lab->ref_high, *u ? " " : "", u);
    else if (lab->has_ref_low)
        snprintf(range, sizeof range, "reference >= %.4g%s%s", lab->ref_low, *u ? " " : "", u);
    orx_lab_flag f = orx_lab_range_flag(lab);
    snprintf(out, cap, "%s %.4g%s%s on %.10s (%s%s%s)", LAB_INFO[k].label, lab->value, *u ? " " : "",
             u, lab->date[0] ? lab->date : "an undated observation",
             range[0] ? range : "no reference range on record", range[0] ? ": " : "",
             range[0] ? orx_lab_flag_name(f) : "");
}

/* ============================================================================================
 * Pharmacogenes
 * ========================================================================================== */
static const char *const PGX_GENES[] = {"CYP2C19", "CYP2D6", "CYP2C9", "VKORC1", "SLCO1B1",
                                        "TPMT", "NUDT15", "DPYD"};

static const char *stristr(const char *h, const char *n) {
    size_t ln = strlen(n);
    for (; *h; h++)
        if (!strncasecmp(h, n, ln)) return h;
    return NULL;
}

bool orx_clin_pgx_gene_in(const char *text, char *gene, size_t cap) {
    if (!text) return false;
    /* HLA-B alleles: "HLA-B*57:01", "HLA-B*5701", "HLA-B 57:01" */
    const char *h = stristr(text, "HLA-B");
    if (h) {
        const char *q = h + 5;
        while (*q == '*' || *q == ' ') q++;
        char digits[5] = {0};
        int nd = 0;
        for (; *q && nd < 4; q++) {
            if (isdigit((unsigned char)*q)) digits[nd++] = *q;
            else if (*q != ':') break;
        }
        if (nd == 4 && (!strcmp(digits, "5701") || !strcmp(digits, "5801"))) {
            snprintf(gene, cap, "HLA-B*%c%c:%c%c", digits[0], digits[1], digits[2], digits[3]);
            return true;
        }
    }
    for (size_t i = 0; i < sizeof PGX_GENES / sizeof PGX_GENES[0]; i++) {
        const char *g = PGX_GENES[i];
        for (const char *s = stristr(text, g); s; s = stristr(s + 1, g)) {
            char after = s[strlen(g)];
            bool word_start = s == text || !isalnum((unsigned char)s[-1]);
            /* "CYP2C9" must not match inside "CYP2C19"; "CYP2C1" never matches. */
            if (word_start && !isalnum((unsigned char)after)) {
                orx_clin_copy(gene, cap, g);
                return true;
            }
        }
    }
    return false;
}

/* CPIC phenotype terms: a phenotype equal to one of these (ignoring case) is written in this
 * casing, so checks can compare exactly ("Poor metabolizer" -> "Poor Metabolizer"). */
static const char *const PGX_TERMS[] = {
    "Ultrarapid Metabolizer", "Rapid Metabolizer", "Normal Metabolizer", "Intermediate Metabolizer",
    "Likely Intermediate Metabolizer", "Poor Metabolizer", "Likely Poor Metabolizer",
    "Increased Function", "Normal Function", "Decreased Function", "Possible Decreased Function",
    "Poor Function", "Indeterminate", "positive", "negative",
};

static void canonical_phenotype(char *s) {
    for (size_t i = 0; i < sizeof PGX_TERMS / sizeof PGX_TERMS[0]; i++)
        if (!strcasecmp(s, PGX_TERMS[i])) { strcpy(s, PGX_TERMS[i]); return; }
}

orx_status orx_clin_pgx_merge(orx_patient *p, const char *gene, const char *diplotype,
                          const char *phenotype, const char *date, orx_error *err) {
    orx_pgx *slot = NULL;
    for (size_t i = 0; i < p->n_pgx; i++)
        if (!strcmp(p->pgx[i].gene, gene)) slot = &p->pgx[i];
    if (!slot) {
        slot = orx_clin_push((void **)&p->pgx, &p->n_pgx, sizeof *slot);
        if (!slot) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_clin_copy(slot->gene, sizeof slot->gene, gene);
    }
    if (diplotype && diplotype[0]) orx_clin_copy(slot->diplotype, sizeof slot->diplotype, diplotype);
    if (phenotype && phenotype[0]) {
        orx_clin_copy(slot->phenotype, sizeof slot->phenotype, phenotype);
        canonical_phenotype(slot->phenotype);
    }
    if (date && date[0] && date_cmp(date, slot->date) > 0) orx_clin_copy(slot->date, sizeof slot->date, date);
    return ORX_OK;
}

/* ============================================================================================
 * Load / parse / free
 * ========================================================================================== */
void orx_patient_free(orx_patient *p) {
    if (!p) return;
    free(p->meds);
    free(p->allergies);
    free(p->conditions);
    free(p->pgx);
    free(p);
}

orx_status orx_patient_parse(const char *json, size_t len, const char *source_name,
                             const char *as_of, orx_patient **out, orx_error *err) {
    *out = NULL;
    const char *src = source_name && *source_name ? source_name : "<patient>";
    if (len > ORX_PATIENT_MAX_BYTES)
        return orx_fail(err, ORX_ERR_RANGE, "%s: input is %zu bytes, larger than the %u-byte limit "
                        "for a patient file", src, len, ORX_PATIENT_MAX_BYTES);
    if (as_of && !orx_clin_valid_date(as_of))
        return orx_fail(err, ORX_ERR_USAGE, "as-of date '%s' is not a valid YYYY-MM-DD date", as_of);

    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%d:%d: invalid JSON: %s", src, jerr.line,
                        jerr.column, jerr.text);
    orx_status st = orx_patient_from_json(root, src, as_of, out, err);
    json_decref(root);
    return st;
}

orx_status orx_patient_from_json(const json_t *root, const char *source_name, const char *as_of,
                                 orx_patient **out, orx_error *err) {
    *out = NULL;
    const char *src = source_name && *source_name ? source_name : "<patient>";
    if (as_of && !orx_clin_valid_date(as_of))
        return orx_fail(err, ORX_ERR_USAGE, "as-of date '%s' is not a valid YYYY-MM-DD date", as_of);
    orx_patient *p = calloc(1, sizeof *p);
    if (!p) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_clin_copy(p->source, sizeof p->source, src);
    if (as_of) orx_clin_copy(p->as_of, sizeof p->as_of, as_of);
    else orx_clin_today(p->as_of);

    orx_status st;
    const char *rt = json_string_value(json_object_get(root, "resourceType"));
    if (!json_is_object(root)) {
        st = orx_fail(err, ORX_ERR_INVALID, "%s: top level is not a JSON object", src);
    } else if (rt) {
        if (strcmp(rt, "Bundle") != 0)
            st = orx_fail(err, ORX_ERR_INVALID, "%s: resourceType is '%s'; expected a FHIR R4 "
                          "'Bundle' (or the openrx patient form)", src, rt);
        else {
            orx_clin_copy(p->format, sizeof p->format, "fhir-r4");
            st = orx_clin_parse_fhir_bundle(p, (json_t *)root, err);
        }
    } else if (json_object_get(root, "openrx_patient")) {
        orx_clin_copy(p->format, sizeof p->format, "openrx");
        st = orx_clin_parse_simple(p, (json_t *)root, err);
    } else {
        st = orx_fail(err, ORX_ERR_INVALID, "%s: neither a FHIR Bundle (no 'resourceType') nor an "
                      "openrx patient (no 'openrx_patient' key)", src);
    }
    if (st == ORX_OK) st = orx_patient_derive(p, err);
    if (st != ORX_OK) { orx_patient_free(p); return st; }
    *out = p;
    return ORX_OK;
}

orx_status orx_patient_load(const char *path, const char *as_of, orx_patient **out,
                            orx_error *err) {
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(path, ORX_PATIENT_MAX_BYTES, &data, &len, err);
    if (st == ORX_ERR_RANGE)
        return orx_fail(err, ORX_ERR_RANGE, "%s: file is too large for a patient record (limit "
                        "%u MiB)", path, ORX_PATIENT_MAX_BYTES / (1024u * 1024u));
    if (st != ORX_OK) return st;
    st = orx_patient_parse(data, len, path, as_of, out, err);
    free(data);
    return st;
}
