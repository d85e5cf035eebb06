/*
 * ddi_extract.h — label-derived drug–drug interaction rules.
 *
 * The extractor reads FDA label sections — Drug Interactions, Contraindications, Boxed Warning,
 * Warnings and Precautions (also old-format Warnings, Precautions), Clinical Pharmacology /
 * Pharmacokinetics and Dosage and Administration (coadministration and switching statements
 * only) — prose and table rows, and finds statements that name another ingredient, a drug
 * class ("NSAIDs", "other anticoagulants") or an enzyme/transporter role ("strong CYP3A4
 * inhibitors (e.g., ketoconazole, clarithromycin)", "P-gp inducers") together with the action
 * (contraindicated / avoid / not recommended / reduce the dose / monitor / an effect only / no
 * adjustment needed). Each statement becomes a rule: the label's ingredient(s) × the other side,
 * the tier from the action (documented in data/interactions/SOURCE.md), the verbatim sentence,
 * the set id and the section. Negations and no-effect study statements make no rule. Example
 * lists of a role ("strong CYP3A4 inhibitors (e.g., ketoconazole ...)") and a label's statement
 * about its own drug ("X is a strong inhibitor of CYP3A4") also become role-membership rows,
 * quoted, so that another label's role rule can match the drug.
 *
 * Rows (data/rules/label_ddi.tsv, written by `openrx rules ddi`):
 *   rule    label ingredient(s) × other (ingredient | class:NAME[|NAME] | role:KEY)
 *   member  ingredient ∈ role:KEY, from a quoted sentence
 * Role keys: components "enzyme:inhibitor|inducer|substrate[:strong|moderate|weak]" joined by
 * "+" when the sentence asks for all of them ("combined P-gp and strong CYP3A4 inhibitors" =
 * "cyp3a4:inhibitor:strong+pgp:inhibitor").
 */
#ifndef ORX_DDI_EXTRACT_H
#define ORX_DDI_EXTRACT_H

#include "safety/safety.h"
#include "kb/kb.h"

/* ============================================================================================
 * Rules
 * ========================================================================================== */
typedef struct orx_ddi_rule {
    char         kind[8];         /* "rule" or "member" */
    char         label_drug[192]; /* rule: label ingredient(s), ";"-joined (all must be present);
                                     member: the member ingredient */
    char         other[256];      /* rule: ingredient | "class:a|b" | "role:KEY"; member: "role:KEY" */
    char         other_text[160]; /* the words of the quote that name the other side */
    char        *examples;        /* ";"-joined ingredients the sentence gives as examples ("") */
    orx_severity tier;            /* rule: mapped tier; member: ORX_SEV_INFO */
    char         action[24];      /* contraindicated, avoid, discontinue, dose, monitor, caution,
                                     effect, boxed (member: "member") */
    char         set_id[64];      /* SPL set id (or "<corpus>:<name>") */
    char         section_code[16];/* LOINC section code, "" when unknown */
    char         section[64];     /* canonical section name */
    char         title[128];      /* label title (cut at 127 bytes) */
    char        *quote;           /* the sentence or table row, verbatim (heap) */
    char        *context;         /* the neighbouring sentence, heading or table lead that gives
                                     the action or names the drug, verbatim; "" when none (heap) */
} orx_ddi_rule;

typedef struct orx_ddi_rules {
    orx_ddi_rule *items;  /* n rules */
    size_t        n;      /* count */
    size_t        cap;    /* allocated */
} orx_ddi_rules;

void orx_ddi_rules_init(orx_ddi_rules *r);
void orx_ddi_rules_clear(orx_ddi_rules *r);
/* Sort (label drug, other, set id, section, quote). keep_repeats false: the same statement about
 * the same pair in several labels (same label drug, other side, tier, sentence, examples) is
 * kept once, from the first set id; true: only exact repeats are dropped (per-label evaluation). */
void orx_ddi_rules_sort(orx_ddi_rules *r, bool keep_repeats);

/* ============================================================================================
 * Extractor
 * ========================================================================================== */
typedef struct orx_ddi_extractor orx_ddi_extractor;

/* lex: the lexicon (not owned; names, classes). terms_path: the class-term table
 * (data/interactions/class_terms.tsv; NULL = <lexicon data dir>/interactions/class_terms.tsv). */
orx_status orx_ddi_extractor_create(const orx_lexicon *lex, const char *terms_path,
                                    orx_ddi_extractor **out, orx_error *err);
void       orx_ddi_extractor_free(orx_ddi_extractor *x);

/* Rules from one section text of a label whose ingredients are label_ingredients (";"-joined
 * lexicon names). section_code: LOINC code (decides how the section is read). Appends to out. */
orx_status orx_ddi_extract_section(orx_ddi_extractor *x, const char *label_ingredients,
                                   const char *set_id, const char *title, const char *section_code,
                                   const char *section_name, const char *text, orx_ddi_rules *out,
                                   orx_error *err);
/* Rules from one ingested label (orx_kb_doc); the label's ingredients come from its generic
 * names (else title, brand) through the lexicon. Returns ORX_ERR_NOT_FOUND (no rules added, err
 * set) when the label's drug is not recognised. */
orx_status orx_ddi_extract_doc(orx_ddi_extractor *x, const orx_kb_doc *doc, orx_ddi_rules *out,
                               orx_error *err);

typedef struct orx_ddi_stats {
    size_t labels;        /* labels read (after set-id de-duplication) */
    size_t unrecognised;  /* labels whose drug the lexicon does not know (skipped) */
    size_t duplicates;    /* older versions of a set id dropped */
    size_t rules;         /* rule rows */
    size_t members;       /* role-membership rows */
    size_t by_tier[ORX_SEV_COUNT]; /* rule rows per tier */
} orx_ddi_stats;

/* Every label under the given files/directories (orx_kb_ingest_path: openFDA JSON, SPL XML,
 * labels_sections.jsonl, NLM/fda-ars text). A set id seen twice keeps the newer SPL version
 * (then effective date; on a tie the later input), as `openrx kb build` does. Sorted output. */
orx_status orx_ddi_extract_paths(orx_ddi_extractor *x, const char *const *paths, size_t n,
                                 bool keep_repeats, orx_ddi_rules *out, orx_ddi_stats *stats,
                                 orx_error *err);

/* The table (header line "#openrx-label-ddi<TAB>1<TAB>...", column line, rows), written whole
 * or not at all (temp file + rename); or appended to buf. */
orx_status orx_ddi_rules_to_tsv(const orx_ddi_rules *r, orx_buf *buf, orx_error *err);
orx_status orx_ddi_rules_write_tsv(const orx_ddi_rules *r, const char *path, orx_error *err);
/* JSON array of row objects (keys = column names). */
orx_status orx_ddi_rules_to_json(const orx_ddi_rules *r, orx_buf *buf, orx_error *err);

#endif /* ORX_DDI_EXTRACT_H */
