/*
 * label_ddi.h — the checker's side of the label-derived interaction rules
 * (data/rules/label_ddi.tsv, written by `openrx rules ddi`): loaded once per checker, indexed by
 * label ingredient, and matched against a pair of drugs in both directions — A's label naming B
 * (by ingredient, by a class that lists B, by a role B is a member of, or in the sentence's own
 * examples) and B's label naming A.
 *
 * Role membership ("fluconazole is a CYP2C9 inhibitor") comes only from named sources: the
 * table's member rows (a quoted label sentence or table row), DrugCentral's FDA Mechanism of
 * Action classes and the ONC lists' CYP columns (ungraded: they match only rules that name no
 * strength), or the rule sentence's own examples.
 */
#ifndef ORX_LABEL_DDI_H
#define ORX_LABEL_DDI_H

#include "safety/safety.h"

typedef struct orx_label_ddi orx_label_ddi;

/* Load the table; ORX_ERR_NOT_FOUND when the file is absent, ORX_ERR_PARSE with
 * "path:line:1: ..." for a malformed row. */
orx_status orx_label_ddi_load(const char *path, orx_label_ddi **out, orx_error *err);
void       orx_label_ddi_free(orx_label_ddi *t);
/* The effect-role table (data/interactions/effect_roles.tsv): its 'class' rows (sourced classes
 * that are an effect) and effect names. ORX_ERR_PARSE for a malformed row. */
orx_status orx_label_ddi_load_effects(orx_label_ddi *t, const char *path, orx_error *err);
/* Is ingr a member of the effect role key ("effect:qt" or "qt")? how receives the source;
 * *umbrella (may be NULL) is set when only a MeSH PA umbrella class makes it one (then a rule
 * reaches it at most at moderate). drugs_only: only a label that names the drug itself counts
 * (an example of the category or the drug's own statement), not a class. */
bool orx_label_ddi_effect_member(const orx_label_ddi *t, const orx_lexicon *lex, const char *ingr,
                                 const char *key, bool drugs_only, char *how, size_t cap, bool *umbrella);
/* The effect's name for messages ("QT prolongation"). */
const char *orx_label_ddi_effect_name(const orx_label_ddi *t, const char *key);
/* Rule and member rows loaded. */
void       orx_label_ddi_counts(const orx_label_ddi *t, size_t *rules, size_t *members);

/* The patient group a statement is limited to (label_ddi.c, "Patient groups"), read once from
 * its quote when the table is loaded. */
typedef enum orx_lgroup_kind { ORX_LGROUP_NONE = 0, ORX_LGROUP_DIABETES, ORX_LGROUP_RENAL } orx_lgroup_kind;
typedef struct orx_label_group {
    orx_lgroup_kind kind;      /* which group */
    double          lo, hi;    /* renal: clearance range named, mL/min (hi = 0: none, band only) */
    bool            gfr;       /* the range is a GFR (else CrCl / creatinine clearance) */
    orx_renal_band  band;      /* renal words: the least impairment named ("moderate" → moderate) */
    bool            no_comparator; /* "GFR 60 ml/min": read as below 60 (the text lost its "<") */
    char            words[96]; /* the statement's words for the group */
} orx_label_group;

/* One side of a pair: its ingredients and whether it is given topically. */
typedef struct orx_ddi_side {
    const char *ingr[ORX_MAX_INGR]; /* ingredient names */
    int         n;                  /* count */
    bool        topical;            /* topical / transdermal product */
} orx_ddi_side;

typedef struct orx_label_hit {
    orx_severity tier;            /* the rule's tier */
    int          from;            /* 0: the rule is in side a's label (a's drug is the label drug);
                                     1: in side b's label */
    char         label_drug[192]; /* the label's ingredient(s), or "class:a|b" for a class-level
                                     rule (a sentence about the label drug's class) */
    char         label_ingr[96];  /* the ingredient of the label side the rule applied to */
    bool         class_label;     /* a class-level rule */
    char         partner[96];     /* the partner ingredient the rule matched */
    char         other_text[160]; /* the rule's words for the partner */
    char         how[400];        /* how the partner matched: "named", class + citation, role +
                                     member source, or "named as an example" */
    char         action[24];      /* the rule's action */
    char         set_id[64];      /* label set id */
    char         section[64];     /* section name */
    char         code[16];        /* LOINC code */
    char         title[128];      /* label title */
    const char  *quote;           /* the rule sentence (valid while the table is loaded) */
    const char  *context;         /* neighbour sentence / heading / table lead, "" when none */
    const orx_label_group *group; /* the patient group the statement is limited to, or NULL */
    bool         class_rule;      /* the rule names a class or role, not the partner itself */
    char         class_key[160];  /* the class names ("a|b") when class_rule and a class */
} orx_label_hit;

/* Rules between the two sides, both directions; at most cap written, count returned (may
 * exceed cap). */
int orx_label_ddi_match(const orx_label_ddi *t, const orx_lexicon *lex, const orx_ddi_side *a,
                        const orx_ddi_side *b, orx_label_hit *out, int cap);

#endif /* ORX_LABEL_DDI_H */
