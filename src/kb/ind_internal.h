/*
 * ind_internal.h — shared internals of the indication options (kb/ind_words.c, ind_query.c,
 * indications.c): the word normaliser that both the label sentences and the query go through,
 * a tokenizer with punctuation, word classes, and a small string → int map.
 */
#ifndef ORX_KB_IND_INTERNAL_H
#define ORX_KB_IND_INTERNAL_H

#include "kb/indterms.h"
#include <stddef.h>
#include <stdint.h>

/* ============================================================================================
 * Words
 * ========================================================================================== */
#define IND_WORD 24 /* bytes of one normalised word incl. NUL */

/* Normalise one raw word (letters/digits/UTF-8 bytes) into out: lower case, plural and final
 * -e folded the same way for singular and plural ("diseases"/"disease" -> "diseas",
 * "therapies"/"therapy" -> "therapy", "viruses"/"virus" -> "virus"), "ii"/"iii" -> "2"/"3".
 * Returns the length, 0 when the word is dropped (a single letter). */
size_t orx_ind_norm(const char *w, size_t n, char out[IND_WORD]);

typedef struct ind_tok {
    size_t off, len;       /* bytes of the raw token in the text */
    char   kind;           /* 'w' word, 'p' punctuation that separates phrases */
    char   norm[IND_WORD]; /* normalised word ("" for punctuation and dropped words) */
    char   raw[IND_WORD];  /* the word as written (truncated), for case-sensitive lookups */
} ind_tok;

/* Tokens of text (words; punctuation , ; : . ? ! ( ) [ ] / and a spaced " - "); hyphens and
 * apostrophes inside a word split it. Writes at most cap; returns the number found. */
int orx_ind_tokens(const char *text, size_t len, ind_tok *out, int cap);

/* Word classes (normalised words). */
bool orx_ind_is_stop(const char *w);     /* "of", "the", "with" … */
bool orx_ind_is_drop(const char *w);     /* patient and question words: "year", "woman", "what" … */
bool orx_ind_is_function(const char *w); /* how a drug is used, not what for: "treatment", "prevention" … */
bool orx_ind_is_numeric(const char *w);
bool orx_ind_is_person(const char *w);   /* who a statement is about: "patients", "adults", "women" */
bool orx_ind_is_degree(const char *w);   /* "mild", "severe", "chronic", "active": qualify, name nothing */
bool orx_ind_is_site(const char *w);     /* a body site: "nasal", "rectal", "knee", "prostate" */
bool orx_ind_is_generic(const char *w);  /* a head too general alone: "syndrome", "disease", "pregnancy" */

/* How a statement's verb or noun acts on the condition after it. */
typedef enum ind_cue {
    IND_CUE_NONE = 0,
    IND_CUE_TREAT, /* "treatment of", "management of", "therapy": what follows is treated */
    IND_CUE_CARE,  /* "prevention", "reduce the risk of", "relief of", "control of", "improve" */
} ind_cue;
ind_cue orx_ind_cue_of(const char *w);

/* ============================================================================================
 * Context of a condition in a sentence (ind_context.c)
 * ========================================================================================== */
#define IND_WF_SEP 1u /* word flag: punctuation (, ; : . ( ) …) right before the word */

typedef struct ind_view {
    const int32_t *ids;   /* [n] word ids of the sentence */
    const uint8_t *flags; /* [n] IND_WF_* flags, NULL none */
    char *const   *str;   /* word id -> normalised word */
    int            n;     /* words */
} ind_view;

/* Next occurrence of a phrasing (ids p[0..np)) in the words w[0..n): every word within a window
 * of 2·np + 3 around an anchor word >= from (equal to p[0]); first/last word of the occurrence. */
bool orx_ind_match_ids(const int32_t *w, int n, const int32_t *p, int np, int from, int *anchor, int *first,
                   int *last);

typedef enum ind_occ {
    IND_OCC_FULL = 0, /* the condition the statement is about */
    IND_OCC_ASSOC,    /* a manifestation of it is treated ("seizures associated with X") */
    IND_OCC_POP,      /* only who is treated ("treatment of Y in patients with X") */
} ind_occ;
/* How the sentence v states the condition at words [f, l]. */
ind_occ orx_ind_occurrence(const ind_view *v, int f, int l);
/* The label names another body site for the condition at [f, l] than any of sites (the query's
 * site words): in the phrase, the modifiers before it or "of the …" after it, and the sentence
 * names none of the query's sites. False when either side names no site. */
bool orx_ind_site_conflict(const ind_view *v, int f, int l, const char (*sites)[IND_WORD], int n_sites);

/* ============================================================================================
 * String -> int map (open addressing; keys copied)
 * ========================================================================================== */
typedef struct ind_map {
    char   **keys; /* [cap] malloc'd keys, NULL = empty slot */
    int32_t *vals; /* [cap] */
    size_t   cap;  /* power of two */
    size_t   n;    /* entries */
} ind_map;

void    orx_ind_map_clear(ind_map *m);
/* value of key, or -1 */
int32_t orx_ind_map_get(const ind_map *m, const char *key);
/* insert or overwrite; false on out of memory */
bool    orx_ind_map_put(ind_map *m, const char *key, int32_t val);

#endif /* ORX_KB_IND_INTERNAL_H */
