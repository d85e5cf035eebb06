/*
 * tsv_rows.h — reading the safety checker's TSV tables in place: one line at a time, then its
 * tab-separated fields. Internal to src/safety (static inline, no exported symbols).
 */
#ifndef ORX_SAFETY_TSV_ROWS_H
#define ORX_SAFETY_TSV_ROWS_H

#include <stddef.h>
#include <string.h>

/* The next line of the text at *p (its '\n' replaced by NUL), advancing *p and counting *line;
 * NULL at the end of the text. Comment and empty lines are returned too. */
static inline char *orx_tsv_next_line(char **p, size_t *line) {
    if (!*p || !**p) return NULL;
    char *row = *p;
    char *nl = strchr(row, '\n');
    if (nl) *nl = 0;
    *p = nl ? nl + 1 : NULL;
    ++*line;
    return row;
}

/* Split a row at its tabs in place: at most cap fields into f; returns the count. */
static inline int orx_tsv_split(char *row, char **f, int cap) {
    int nf = 0;
    for (char *c = row; c && nf < cap;) {
        f[nf++] = c;
        char *tab = strchr(c, '\t');
        if (tab) *tab = 0;
        c = tab ? tab + 1 : NULL;
    }
    return nf;
}

#endif /* ORX_SAFETY_TSV_ROWS_H */
