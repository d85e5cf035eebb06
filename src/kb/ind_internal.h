/*
 * ind_internal.h — shared internals of the indication options (kb/ind_words.c, ind_query.c,
 * indications.c): the word normaliser that both the label sentences and the query go through,
 * a tokenizer with punctuation, word classes, and a small string → int map.
 */
#ifndef ORX_KB_IND_INTERNAL_H
#define ORX_KB_IND_INTERNAL_H

#include "kb/kb.h"
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
size_t ind_norm(const char *w, size_t n, char out[IND_WORD]);

typedef struct ind_tok {
    size_t off, len;       /* bytes of the raw token in the text */
    char   kind;           /* 'w' word, 'p' punctuation that separates phrases */
    char   norm[IND_WORD]; /* normalised word ("" for punctuation and dropped words) */
    char   raw[IND_WORD];  /* the word as written (truncated), for case-sensitive lookups */
} ind_tok;

/* Tokens of text (words; punctuation , ; : . ? ! ( ) [ ] / and a spaced " - "); hyphens and
 * apostrophes inside a word split it. Writes at most cap; returns the number found. */
int ind_tokens(const char *text, size_t len, ind_tok *out, int cap);

/* Word classes (normalised words). */
bool ind_is_stop(const char *w);     /* "of", "the", "with" … */
bool ind_is_drop(const char *w);     /* patient and question words: "year", "woman", "what" … */
bool ind_is_function(const char *w); /* how a drug is used, not what for: "treatment", "prevention" … */
bool ind_is_numeric(const char *w);

/* ============================================================================================
 * String -> int map (open addressing; keys copied)
 * ========================================================================================== */
typedef struct ind_map {
    char   **keys; /* [cap] malloc'd keys, NULL = empty slot */
    int32_t *vals; /* [cap] */
    size_t   cap;  /* power of two */
    size_t   n;    /* entries */
} ind_map;

void    ind_map_free(ind_map *m);
/* value of key, or -1 */
int32_t ind_map_get(const ind_map *m, const char *key);
/* insert or overwrite; false on out of memory */
bool    ind_map_put(ind_map *m, const char *key, int32_t val);

#endif /* ORX_KB_IND_INTERNAL_H */
