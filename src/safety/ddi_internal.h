/*
 * ddi_internal.h — shared internals of the label interaction extractor (ddi_text.c: sentences
 * and tokens; ddi_mentions.c: drugs, classes, roles and example lists in a sentence;
 * ddi_action.c: the action, negation and tier of a clause; ddi_extract.c: the driver).
 */
#ifndef ORX_DDI_INTERNAL_H
#define ORX_DDI_INTERNAL_H

#include "safety/ddi_extract.h"

#define DDI_MAX_TOK 640       /* tokens considered per sentence or table row */
#define DDI_MAX_MENTION 96    /* mentions kept per sentence */
#define DDI_MAX_ROLES 8       /* role keys (alternatives) one role phrase can expand to */
#define DDI_KEY 256           /* bytes of a mention key */
#define DDI_EFFECT_KEY 24     /* bytes of an effect key ("qt", "serotonergic") */

/* ============================================================================================
 * Sentences and tokens (ddi_text.c)
 * ========================================================================================== */
typedef struct ddi_span {
    size_t off;               /* byte offset in the section text */
    size_t len;               /* bytes */
} ddi_span;

/* Split one line of text (no '\n' inside) into sentences: ". ", "? ", "! " before an upper-case
 * letter, digit, '(' or '[' end a sentence, except after abbreviations (e.g., i.e., vs., St.,
 * Dr., approx., Fig., No.) and single initials. Writes up to cap spans (offsets relative to
 * line); returns the count needed. Spans are trimmed of surrounding blanks. */
size_t orx_ddi_split_sentences(const char *line, size_t len, ddi_span *out, size_t cap);

typedef struct ddi_tok {
    uint32_t s, e;            /* byte range in the sentence */
    char     low[48];         /* lower-cased text (cut to 47 bytes); punctuation tokens are the
                                 character itself: "," ";" ":" "(" ")" "[" "]" "/" "." */
    bool     word;            /* letters/digits (with inner '-' or '\''), not punctuation */
    bool     upper;           /* first character is an upper-case letter */
    bool     allcaps;         /* two or more letters, all upper case ("ELIQUIS") */
} ddi_tok;

/* Tokenise a sentence: words (letters, digits, inner hyphens/apostrophes) and single
 * punctuation characters. Returns the count (at most cap). */
int orx_ddi_tokenize(const char *s, size_t len, ddi_tok *out, int cap);

/* Lower-case copy of s[0..len) into out (ASCII letters only; other bytes kept). */
void orx_ddi_lower(const char *s, size_t len, char *out, size_t cap);
/* Does the lower-cased text contain word w at a word boundary (w may hold spaces)? */
bool orx_ddi_has_word(const char *low, const char *w);

/* ============================================================================================
 * Mentions (ddi_mentions.c)
 * ========================================================================================== */
typedef enum ddi_mkind { DDI_M_DRUG, DDI_M_CLASS, DDI_M_ROLE } ddi_mkind;

typedef struct ddi_mention {
    ddi_mkind kind;               /* what it names */
    int       t0, t1;             /* token range [t0, t1) */
    char      key[DDI_KEY];       /* ingredient | "class:a|b" | "role:KEY" */
    char      text[160];          /* the words as written */
    int       example_of;         /* index of the class/role mention it exemplifies, -1 */
    bool      is_label;           /* names the label's own drug */
    bool      comparison;         /* "like other NSAIDs", "as with other SSRIs": not a partner */
    bool      self_role;          /* "<label drug> is a strong inhibitor of CYP3A4" */
    int       describes;          /* a class/role said of one drug mention of the sentence
                                     ("rifampin is a potent inducer of CYP3A", "propranolol, a
                                     CYP3A inhibitor", "cyclosporine (CYP3A substrate)"): that
                                     mention's index, -1 none; such a mention is no partner */
    bool      self_class;         /* the label drug's own class, not "other ..." ("NSAIDs such as
                                     <label>", "the antihypertensive effect of ARBs, including
                                     <label>") */
    int       ex0, ex1;           /* an effect phrase's example list, token range [ex0, ex1) with
                                     its nested lists; -1 when none */
} ddi_mention;

typedef struct ddi_terms ddi_terms; /* class-term table (label wording -> lexicon classes) */
ddi_terms *orx_ddi_terms_load(const char *path, orx_error *err);
void       orx_ddi_terms_free(ddi_terms *t);

/* ============================================================================================
 * Effect roles (ddi_effects.c): data/interactions/effect_roles.tsv
 * ========================================================================================== */
typedef struct ddi_effects ddi_effects;
ddi_effects *orx_ddi_effects_load(const char *path, orx_error *err);
void         orx_ddi_effects_free(ddi_effects *e);
/* The effect's name for messages ("QT prolongation"); key with or without "effect:". */
const char  *orx_ddi_effects_name(const ddi_effects *e, const char *key);
/* An effect phrase starting at token i that names a category of drugs ("drugs that prolong the
 * QT interval", "serotonergic drugs", "CNS depressants"): its end token (exclusive), 0 = none;
 * key receives "effect:KEY". */
int orx_ddi_effect_phrase_at(const ddi_effects *e, const ddi_tok *t, int i, int nt, char *key,
                         size_t cap);

typedef struct ddi_drug_cache ddi_drug_cache; /* ingredient -> "is a medicine" (see ddi_mentions.c) */
ddi_drug_cache *orx_ddi_drug_cache_create(void);
void            orx_ddi_drug_cache_free(ddi_drug_cache *c);

typedef struct ddi_ctx {
    const orx_lexicon *lex;       /* names and classes */
    const ddi_terms   *terms;     /* class wording */
    const ddi_effects *effects;   /* effect wording (NULL: no effect roles) */
    ddi_drug_cache    *cache;     /* memo of the medicine test (mutable) */
    const char        *label[ORX_MAX_INGR]; /* the label's ingredients */
    int                n_label;   /* count */
} ddi_ctx;

/* Find the mentions of a tokenised sentence (s = the sentence text). Returns the count. */
int orx_ddi_find_mentions(const ddi_ctx *c, const char *s, const ddi_tok *tok, int nt,
                      ddi_mention *out, int cap);

/* A label's statement of the effect about its own drug ("Citalopram causes dose-dependent QTc
 * prolongation", "cases of serotonin syndrome have been reported with tramadol"): the subject
 * mention, the effect key and the words that say it. Sentences about studies, overdose, in vitro
 * or animals, negated ones and those that name another partner give none. */
typedef struct ddi_self {
    int  subject;             /* mention index of the label drug */
    char key[DDI_KEY];        /* "effect:KEY" */
    int  t0, t1;              /* token range of the statement */
} ddi_self;
int orx_ddi_effect_self(const ddi_effects *e, const ddi_tok *t, int nt, const ddi_mention *m, int nm,
                    ddi_self *out, int cap);

/* ============================================================================================
 * Actions (ddi_action.c)
 * ========================================================================================== */
typedef enum ddi_act {
    DDI_ACT_NONE = 0,   /* nothing about an interaction */
    DDI_ACT_NEGATED,    /* "no clinically significant effect", "no dose adjustment is needed" */
    DDI_ACT_EFFECT,     /* an effect only ("increases exposure", "may potentiate") */
    DDI_ACT_CAUTION,    /* monitor, use with caution, consider */
    DDI_ACT_DOSE,       /* reduce / adjust / do not exceed the dose */
    DDI_ACT_AVOID,      /* avoid, not recommended, should not be used, do not use */
    DDI_ACT_DISCONTINUE,/* discontinue / stop one of them */
    DDI_ACT_CONTRA,     /* contraindicated */
} ddi_act;

typedef struct ddi_action {
    ddi_act act;        /* strongest action of the clause */
    bool    serious;    /* names a serious outcome (fatal, life-threatening, bleeding, ...) */
    bool    in_vitro;   /* an in-vitro statement */
} ddi_action;

/* Classify a lower-cased clause. Negation phrases are removed before actions are looked for, so
 * "no dose adjustment is needed" is NEGATED, not DOSE. */
ddi_action orx_ddi_classify(const char *low);
/* Interaction context words ("concomitant", "coadministered", "taking", "inhibitors" ...). */
bool       orx_ddi_has_cue(const char *low);
/* Action name for the table ("contraindicated", "avoid", ...). */
const char *orx_ddi_act_name(ddi_act a);
/* The documented tier of an action in a section (data/interactions/SOURCE.md); ORX_SEV_INFO with
 * *emit false when the action makes no rule. */
orx_severity orx_ddi_tier(ddi_act a, bool serious, const char *section_code, bool *emit);
/* A statement restricted to large amounts / high doses of the partner ("in the presence of
 * large amounts of CNS depressants") or to an injected form ("intramuscular olanzapine and
 * parenteral benzodiazepine"): its tier is one step lower (ddi_extract.c). */
bool         orx_ddi_dose_qualified(const char *low);
/* Restricted to large amounts / high doses of the partner: a prescription check cannot see that,
 * so the statement is at most moderate (ddi_extract.c). */
bool         orx_ddi_large_amounts(const char *low);

#endif /* ORX_DDI_INTERNAL_H */
