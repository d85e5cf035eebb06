/* chunk.c — LOINC section table (names, aliases, ranking weights), the section chunker, and the
 * chunk rows kb build and kb update share. */
#include "kb/kb_internal.h"
#include "util/util.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Section table: LOINC code, canonical name, ranking class
 * ========================================================================================== */
enum {
    C_OTHER = 0, C_BOXED, C_INDIC, C_DOSAGE, C_CONTRA, C_WARN, C_INTER, C_ADVERSE, C_POPUL,
    C_PHARM, C_PATIENT, C_PRODUCT, C_OVERDOSE, C_STUDIES
};
/* weight per class: interaction, contraindication and boxed-warning text ranks above package text */
static const double CLASS_WEIGHT[16] = {1.0, 1.3, 1.2, 1.2, 1.3, 1.2, 1.3, 1.0,
                                        1.2, 1.0, 0.7, 0.5, 1.0, 0.7, 0.5 /* supplement */, 1.0};

typedef struct section_def {
    const char *code;  /* LOINC */
    const char *name;  /* canonical name */
    int         klass; /* ranking class */
} section_def;

static const section_def SECTIONS[] = {
    {"34066-1", "Boxed Warning", C_BOXED},
    {"34067-9", "Indications & Usage", C_INDIC},
    {"34068-7", "Dosage & Administration", C_DOSAGE},
    {"43678-2", "Dosage Forms & Strengths", C_PRODUCT},
    {"34070-3", "Contraindications", C_CONTRA},
    {"43685-7", "Warnings and Precautions", C_WARN},
    {"34071-1", "Warnings", C_WARN},
    {"42232-9", "Precautions", C_WARN},
    {"34072-9", "General Precautions", C_WARN},
    {"34073-7", "Drug Interactions", C_INTER},
    {"34074-5", "Drug & or Laboratory Test Interactions", C_INTER},
    {"34075-2", "Laboratory Tests", C_WARN},
    {"34084-4", "Adverse Reactions", C_ADVERSE},
    {"43684-0", "Use in Specific Populations", C_POPUL},
    {"42228-7", "Pregnancy", C_POPUL},
    {"34077-8", "Teratogenic Effects", C_POPUL},
    {"34078-6", "Nonteratogenic Effects", C_POPUL},
    {"34079-4", "Labor & Delivery", C_POPUL},
    {"34080-2", "Nursing Mothers", C_POPUL},
    {"77290-5", "Lactation", C_POPUL},
    {"34081-0", "Pediatric Use", C_POPUL},
    {"34082-8", "Geriatric Use", C_POPUL},
    {"53414-9", "Pregnancy or Breast Feeding", C_POPUL},
    {"42227-9", "Drug Abuse and Dependence", C_OTHER},
    {"34085-1", "Controlled Substance", C_OTHER},
    {"34086-9", "Abuse", C_OTHER},
    {"34087-7", "Dependence", C_OTHER},
    {"34088-5", "Overdosage", C_OVERDOSE},
    {"34089-3", "Description", C_PRODUCT},
    {"34090-1", "Clinical Pharmacology", C_PHARM},
    {"43679-0", "Mechanism of Action", C_PHARM},
    {"43681-6", "Pharmacodynamics", C_PHARM},
    {"43682-4", "Pharmacokinetics", C_PHARM},
    {"66106-6", "Pharmacogenomics", C_PHARM},
    {"49489-8", "Microbiology", C_PHARM},
    {"43680-8", "Nonclinical Toxicology", C_STUDIES},
    {"34083-6", "Carcinogenesis & Mutagenesis & Impairment of Fertility", C_STUDIES},
    {"34091-9", "Animal Pharmacology & or Toxicology", C_STUDIES},
    {"34092-7", "Clinical Studies", C_STUDIES},
    {"34093-5", "References", C_STUDIES},
    {"34069-5", "How Supplied", C_PRODUCT},
    {"44425-7", "Storage and Handling", C_PRODUCT},
    {"34076-0", "Information for Patients", C_PATIENT},
    {"42230-3", "SPL Patient Package Insert", C_PATIENT},
    {"42231-1", "SPL Medguide", C_PATIENT},
    {"68498-5", "Patient Medication Information", C_PATIENT},
    {"59845-8", "Instructions for Use", C_PATIENT},
    {"43683-2", "Recent Major Changes", C_OTHER},
    {"42229-5", "SPL Unclassified Section", C_OTHER},
    {"48780-1", "SPL Product Data Elements", C_PRODUCT},
    {"51945-4", "Package Label.Principal Display Panel", C_PRODUCT},
    {"51727-6", "Inactive Ingredient", C_PRODUCT},
    {"55106-9", "Active Ingredient", C_PRODUCT},
    {"55105-1", "Purpose", C_INDIC},
    {"50570-1", "Do Not Use", C_CONTRA},
    {"50569-3", "Ask Doctor", C_WARN},
    {"50568-5", "Ask Doctor/Pharmacist", C_INTER},
    {"50567-7", "When Using", C_WARN},
    {"50566-9", "Stop Use", C_WARN},
    {"50565-1", "Keep Out of Reach of Children", C_OTHER},
    {"53413-1", "Questions", C_OTHER},
    {"60561-8", "Other Safety Information", C_WARN},
    {"50741-8", "Safe Handling Warning", C_WARN},
    {"50744-2", "Information for Owners/Caregivers", C_PATIENT},
    {NULL, NULL, 0},
};

/* heading / openFDA field / user alias → code; keys are normalised (upper-case letters only,
 * words AND/SECTION/OF/THE/IN dropped) */
typedef struct alias_def {
    const char *key;  /* normalised key */
    const char *code; /* LOINC */
} alias_def;

static const alias_def ALIASES[] = {
    {"BOXEDWARNING", "34066-1"}, {"BOXEDWARNINGS", "34066-1"}, {"WARNING", "34066-1"},
    {"BOXED", "34066-1"},
    {"INDICATIONSUSAGE", "34067-9"}, {"INDICATIONS", "34067-9"}, {"INDICATION", "34067-9"},
    {"USES", "34067-9"},
    {"DOSAGEADMINISTRATION", "34068-7"}, {"DOSAGE", "34068-7"}, {"DOSING", "34068-7"},
    {"DOSE", "34068-7"},
    {"DOSAGEFORMSSTRENGTHS", "43678-2"},
    {"CONTRAINDICATIONS", "34070-3"}, {"CONTRAINDICATION", "34070-3"},
    {"WARNINGSPRECAUTIONS", "43685-7"}, {"WARNINGSCAUTIONS", "43685-7"},
    {"WARNINGS", "34071-1"}, {"PRECAUTIONS", "42232-9"}, {"GENERALPRECAUTIONS", "34072-9"},
    {"DRUGINTERACTIONS", "34073-7"}, {"INTERACTIONS", "34073-7"}, {"INTERACTION", "34073-7"},
    {"DDI", "34073-7"},
    {"DRUGORLABORATORYTESTINTERACTIONS", "34074-5"}, {"DRUGLABORATORYTESTINTERACTIONS", "34074-5"},
    {"LABORATORYTESTS", "34075-2"},
    {"ADVERSEREACTIONS", "34084-4"}, {"ADVERSE", "34084-4"}, {"SIDEEFFECTS", "34084-4"},
    {"USESPECIFICPOPULATIONS", "43684-0"}, {"SPECIFICPOPULATIONS", "43684-0"},
    {"RENAL", "43684-0"}, {"HEPATIC", "43684-0"}, {"POPULATIONS", "43684-0"},
    {"PREGNANCY", "42228-7"}, {"USEPREGNANCY", "42228-7"}, {"TERATOGENICEFFECTS", "34077-8"},
    {"NONTERATOGENICEFFECTS", "34078-6"}, {"LABORDELIVERY", "34079-4"},
    {"NURSINGMOTHERS", "34080-2"}, {"LACTATION", "77290-5"}, {"PEDIATRICUSE", "34081-0"},
    {"PEDIATRIC", "34081-0"}, {"GERIATRICUSE", "34082-8"}, {"GERIATRIC", "34082-8"},
    {"PREGNANCYORBREASTFEEDING", "53414-9"},
    {"DRUGABUSEDEPENDENCE", "42227-9"}, {"CONTROLLEDSUBSTANCE", "34085-1"}, {"ABUSE", "34086-9"},
    {"DEPENDENCE", "34087-7"}, {"OVERDOSAGE", "34088-5"}, {"OVERDOSE", "34088-5"},
    {"DESCRIPTION", "34089-3"}, {"CLINICALPHARMACOLOGY", "34090-1"},
    {"MECHANISMACTION", "43679-0"}, {"PHARMACODYNAMICS", "43681-6"},
    {"PHARMACOKINETICS", "43682-4"}, {"PHARMACOGENOMICS", "66106-6"}, {"PGX", "66106-6"},
    {"MICROBIOLOGY", "49489-8"}, {"NONCLINICALTOXICOLOGY", "43680-8"},
    {"CARCINOGENESISMUTAGENESISIMPAIRMENTFERTILITY", "34083-6"},
    {"CARCINOGENESISMUTAGENESISIMPAIRMENTOFFERTILITY", "34083-6"},
    {"ANIMALPHARMACOLOGYORTOXICOLOGY", "34091-9"}, {"CLINICALSTUDIES", "34092-7"},
    {"REFERENCES", "34093-5"}, {"HOWSUPPLIED", "34069-5"}, {"HOWSUPPLIEDSTORAGEHANDLING", "34069-5"},
    {"STORAGEHANDLING", "44425-7"}, {"INFORMATIONFORPATIENTS", "34076-0"},
    {"INFORMATIONPATIENTS", "34076-0"}, {"PATIENTCOUNSELINGINFORMATION", "34076-0"},
    {"SPLPATIENTPACKAGEINSERT", "42230-3"}, {"SPLMEDGUIDE", "42231-1"}, {"MEDGUIDE", "42231-1"},
    {"MEDICATIONGUIDE", "42231-1"}, {"PATIENTMEDICATIONINFORMATION", "68498-5"},
    {"INSTRUCTIONSFORUSE", "59845-8"}, {"INSTRUCTIONSUSE", "59845-8"},
    {"RECENTMAJORCHANGES", "43683-2"}, {"SPLUNCLASSIFIED", "42229-5"},
    {"SPLPRODUCTDATAELEMENTS", "48780-1"}, {"PACKAGELABELPRINCIPALDISPLAYPANEL", "51945-4"},
    {"INACTIVEINGREDIENT", "51727-6"}, {"ACTIVEINGREDIENT", "55106-9"}, {"PURPOSE", "55105-1"},
    {"DONOTUSE", "50570-1"}, {"ASKDOCTOR", "50569-3"}, {"ASKDOCTORORPHARMACIST", "50568-5"},
    {"WHENUSING", "50567-7"}, {"STOPUSE", "50566-9"},
    {"KEEPOUTREACHCHILDREN", "50565-1"}, {"KEEPOUTOFREACHOFCHILDREN", "50565-1"},
    {"QUESTIONS", "53413-1"}, {"OTHERSAFETYINFORMATION", "60561-8"},
    {"SAFEHANDLINGWARNING", "50741-8"}, {"INFORMATIONFOROWNERSORCAREGIVERS", "50744-2"},
    {"INFORMATIONOWNERSORCAREGIVERS", "50744-2"},
    {NULL, NULL},
};

static const section_def *find_code(const char *code) {
    if (!code || !*code) return NULL;
    for (const section_def *s = SECTIONS; s->code; s++)
        if (!strcmp(s->code, code)) return s;
    return NULL;
}

const char *orx_kb_section_name(const char *code) {
    const section_def *s = find_code(code);
    return s ? s->name : NULL;
}

int orx_kb_section_class(const char *code) {
    const section_def *s = find_code(code);
    return s ? s->klass : C_OTHER;
}

double orx_kb_class_weight(int klass) { return CLASS_WEIGHT[klass & 15]; }

double orx_kb_section_weight(const char *code) {
    return CLASS_WEIGHT[orx_kb_section_class(code) & 15];
}

static bool dropped_word(const char *w) {
    return !strcmp(w, "AND") || !strcmp(w, "SECTION") || !strcmp(w, "OF") || !strcmp(w, "THE") ||
           !strcmp(w, "IN");
}

/* "7 DRUG INTERACTIONS" / "drug_interactions" / "Dosage & Administration" → "DRUGINTERACTIONS" */
static void normalise_heading(const char *h, char *out, size_t cap) {
    size_t n = 0;
    char word[64];
    size_t wl = 0;
    for (const char *p = h;; p++) {
        bool letter = *p && isalpha((unsigned char)*p);
        if (letter) {
            if (wl + 1 < sizeof word) word[wl++] = (char)toupper((unsigned char)*p);
            continue;
        }
        if (wl) {
            word[wl] = 0;
            if (!dropped_word(word) && n + wl + 1 < cap) {
                memcpy(out + n, word, wl);
                n += wl;
            }
            wl = 0;
        }
        if (!*p) break;
    }
    out[n] = 0;
}

const char *orx_kb_section_code_for(const char *heading) {
    if (!heading) return NULL;
    if (find_code(heading)) return find_code(heading)->code;
    char key[160];
    normalise_heading(heading, key, sizeof key);
    if (!key[0]) return NULL;
    for (const alias_def *a = ALIASES; a->key; a++)
        if (!strcmp(a->key, key)) return a->code;
    return NULL;
}

/* ============================================================================================
 * Chunker: paragraphs first, then sentences, to a word budget
 * ========================================================================================== */
typedef struct piece {
    size_t off, len; /* bytes */
    int    words;    /* word count */
} piece;

static int count_words(const char *s, size_t n) {
    int w = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        bool sp = isspace((unsigned char)s[i]);
        if (!sp && !in) w++;
        in = !sp;
    }
    return w;
}

/* end of the sentence starting at i (exclusive), within [i, end) */
static size_t sentence_end(const char *s, size_t i, size_t end) {
    for (size_t j = i; j < end; j++) {
        char c = s[j];
        if (c == '\n') return j + 1;
        if ((c == '.' || c == '?' || c == '!' || c == ';') && j + 1 < end &&
            isspace((unsigned char)s[j + 1])) {
            /* "e.g. x", "Fig. 2", "1.5": not a boundary when the next word starts lower-case/digit */
            size_t k = j + 1;
            while (k < end && s[k] == ' ') k++;
            if (c == '.' && k < end && (islower((unsigned char)s[k]) || isdigit((unsigned char)s[k])))
                continue;
            if (c == ';') continue; /* semicolons end sentences only when nothing else does */
            return j + 1;
        }
    }
    return end;
}

static void emit(orx_kb_span *out, size_t cap, size_t *n, size_t off, size_t len, int words) {
    if (*n < cap) out[*n] = (orx_kb_span){off, len, words};
    (*n)++;
}

/* trim whitespace around [off, off+len) */
static void trim(const char *t, size_t *off, size_t *len) {
    while (*len && isspace((unsigned char)t[*off])) (*off)++, (*len)--;
    while (*len && isspace((unsigned char)t[*off + *len - 1])) (*len)--;
}

size_t orx_kb_chunk(const char *text, size_t len, int max_words, orx_kb_span *out, size_t cap) {
    if (max_words < 20) max_words = 20;
    size_t n = 0;
    size_t cur_off = 0, cur_end = 0; /* current chunk [cur_off, cur_end) */
    int cur_words = 0;
    bool have = false;
    size_t i = 0;
    while (i < len) {
        /* next unit: a sentence (bounded by paragraph ends) */
        size_t para_end = i;
        while (para_end < len && !(text[para_end] == '\n' && para_end + 1 < len &&
                                   text[para_end + 1] == '\n'))
            para_end++;
        /* prefer a paragraph boundary when the paragraph would not fit and the chunk is half full */
        int pw = count_words(text + i, para_end - i);
        if (have && cur_words + pw > max_words && cur_words >= max_words / 2) {
            size_t o = cur_off, l = cur_end - cur_off;
            trim(text, &o, &l);
            emit(out, cap, &n, o, l, cur_words);
            have = false;
        }
        size_t j = i;
        while (j < para_end) {
            size_t e = sentence_end(text, j, para_end);
            size_t so = j, sl = e - j;
            trim(text, &so, &sl);
            int w = count_words(text + so, sl);
            if (sl && w) {
                if (have && cur_words + w > max_words) {
                    size_t o = cur_off, l = cur_end - cur_off;
                    trim(text, &o, &l);
                    emit(out, cap, &n, o, l, cur_words);
                    have = false;
                }
                if (!have) { cur_off = so; cur_words = 0; have = true; }
                cur_end = so + sl;
                cur_words += w;
            }
            j = e;
        }
        i = para_end;
        while (i < len && text[i] == '\n') i++;
    }
    if (have) {
        size_t o = cur_off, l = cur_end - cur_off;
        trim(text, &o, &l);
        emit(out, cap, &n, o, l, cur_words);
    }
    return n;
}

/* ============================================================================================
 * Rows shared by kb build and kb update (kb_internal.h)
 * ========================================================================================== */
static const char *nz(const char *s) { return s ? s : ""; }

size_t orx_kb_chunk_section(const orx_kb_section *sec, int max_words, orx_kb_span **spans, size_t *cap) {
    size_t need = orx_kb_chunk(sec->text, sec->len, max_words, *spans, *cap);
    if (need > *cap) {
        orx_kb_span *ns = realloc(*spans, need * sizeof *ns);
        if (!ns) return (size_t)-1;
        *spans = ns;
        *cap = need;
        orx_kb_chunk(sec->text, sec->len, max_words, *spans, *cap);
    }
    return need;
}

void orx_kb_section_col(const orx_kb_section *sec, char *out, size_t cap) {
    snprintf(out, cap, "%s %s %s", sec->code, nz(sec->name), nz(sec->title));
}

static int words_in(const char *s) {
    int n = 0;
    bool in = false;
    for (; *s; s++) {
        bool w = (unsigned char)*s > ' ';
        n += w && !in;
        in = w;
    }
    return n;
}

int64_t orx_kb_chunk_row_id(int64_t seq, const char *drug, const char *section_col, int text_words, int klass) {
    int wl = 2 * words_in(drug) + words_in(section_col) / 2 + text_words;
    int bucket = (wl + 12) / 25 > 15 ? 15 : (wl + 12) / 25;
    return seq * 256 + bucket * 16 + klass;
}

bool orx_kb_insert_doc(sqlite3_stmt *s, const orx_kb_doc *d, orx_buf *drug) {
    sqlite3_reset(s);
    const char *vals[8] = {d->set_id, d->version, d->effective_date, d->title, d->generic_names,
                           d->brand_names, d->rxcuis, d->source_file};
    for (int i = 0; i < 8; i++) sqlite3_bind_text(s, i + 1, vals[i] ? vals[i] : "", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) return false;
    orx_buf_init(drug);
    orx_buf_printf(drug, "%s; %s; %s", d->generic_names ? d->generic_names : "", d->brand_names ? d->brand_names : "",
                   d->title ? d->title : "");
    return true;
}

void orx_kb_bind_chunk(sqlite3_stmt *s, int64_t id, int64_t doc_id, const orx_kb_section *sec, size_t seq,
                       const orx_kb_span *sp, const char *drug, const char *section_col) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, doc_id);
    sqlite3_bind_text(s, 3, sec->code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, nz(sec->name), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, nz(sec->title), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, (int64_t)seq);
    sqlite3_bind_int64(s, 7, (int64_t)sp->off);
    sqlite3_bind_int64(s, 8, (int64_t)(sp->off + sp->len));
    sqlite3_bind_text(s, 9, drug, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, section_col, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 11, sec->text + sp->off, (int)sp->len, SQLITE_TRANSIENT);
}

int orx_kb_label_cmp(const char *date_a, const char *ver_a, const char *date_b, const char *ver_b, bool stated_wins) {
    char da[16] = {0}, db[16] = {0};
    size_t na = 0, nb = 0;
    for (const char *p = nz(date_a); *p && na < 15; p++) if (*p >= '0' && *p <= '9') da[na++] = *p;
    for (const char *p = nz(date_b); *p && nb < 15; p++) if (*p >= '0' && *p <= '9') db[nb++] = *p;
    if (na && nb) {
        int c = strcmp(da, db);
        if (c) return c;
    } else if (stated_wins && (na || nb)) {
        return na ? 1 : -1;
    }
    long va = atol(nz(ver_a)), vb = atol(nz(ver_b));
    if (va != vb && (stated_wins || (va && vb))) return va < vb ? -1 : 1;
    return 0;
}
