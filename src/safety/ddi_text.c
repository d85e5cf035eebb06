/*
 * ddi_text.c — sentences and tokens for the label interaction extractor: a line of label text
 * split into sentences (abbreviation-aware), a sentence split into word and punctuation tokens.
 */
#include "safety/ddi_internal.h"

#include <ctype.h>
#include <string.h>

/* ============================================================================================
 * Lower case and word search
 * ========================================================================================== */
void orx_ddi_lower(const char *s, size_t len, char *out, size_t cap) {
    if (cap == 0) return;
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = 0;
}

/* Letters and digits; UTF-8 bytes count as letters except the 0xE2 block (punctuation, arrows,
 * bullets, dashes) and the no-break space, which the tokenizer handles. */
static bool is_wordch(char c) {
    unsigned char u = (unsigned char)c;
    return isalnum(u) || (u >= 0x80 && u != 0xE2 && u != 0xC2);
}

/* U+2019 (right single quote) used as an apostrophe: "St. John’s wort". */
static bool is_rsquo(const char *s, size_t i, size_t len) {
    return i + 2 < len && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
           (unsigned char)s[i + 2] == 0x99;
}

/* Length of a multi-byte sequence starting at s[i] that is punctuation or space (0 if none). */
static size_t mb_punct(const char *s, size_t i, size_t len) {
    unsigned char u = (unsigned char)s[i];
    if (u == 0xE2) return i + 2 < len ? 3 : len - i;
    if (u == 0xC2) return i + 1 < len ? 2 : 1;
    return 0;
}

bool orx_ddi_has_word(const char *low, const char *w) {
    size_t wl = strlen(w);
    for (const char *p = strstr(low, w); p; p = strstr(p + 1, w)) {
        bool left = p == low || !is_wordch(p[-1]);
        bool right = !is_wordch(p[wl]);
        if (left && right) return true;
    }
    return false;
}

/* ============================================================================================
 * Sentences
 * ========================================================================================== */
static const char *const ABBREV[] = {"e.g", "i.e", "vs", "st", "dr", "approx", "fig", "no", "etc",
                                     "mr", "ms", "inc", "co", "ltd", "ref", "viz", "cf", "al",
                                     "max", "min", "u.s", "b.i.d", "t.i.d", "q.d", NULL};

/* Is the word that ends just before line[i] (the '.') an abbreviation or an initial? */
static bool ends_abbrev(const char *line, size_t i) {
    size_t b = i;
    while (b > 0 && (isalpha((unsigned char)line[b - 1]) || line[b - 1] == '.')) b--;
    size_t n = i - b;
    if (n == 0) return false;
    if (n == 1 && isupper((unsigned char)line[b])) return true; /* an initial: "A. Smith" */
    char w[16];
    if (n >= sizeof w) return false;
    for (size_t k = 0; k < n; k++) w[k] = (char)tolower((unsigned char)line[b + k]);
    w[n] = 0;
    return orx_str_in(w, ABBREV);
}

static bool starts_sentence(char c) {
    return isupper((unsigned char)c) || isdigit((unsigned char)c) || c == '(' || c == '[' ||
           c == '"' || (unsigned char)c >= 0x80;
}

static size_t push_span(const char *line, size_t a, size_t b, ddi_span *out, size_t cap, size_t n) {
    while (a < b && isspace((unsigned char)line[a])) a++;
    while (b > a && isspace((unsigned char)line[b - 1])) b--;
    if (b <= a) return n;
    if (n < cap) {
        out[n].off = a;
        out[n].len = b - a;
    }
    return n + 1;
}

size_t orx_ddi_split_sentences(const char *line, size_t len, ddi_span *out, size_t cap) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        char c = line[i];
        if (c != '.' && c != '?' && c != '!') continue;
        size_t j = i + 1;
        while (j < len && (line[j] == ')' || line[j] == ']' || line[j] == '"')) j++;
        if (j >= len || !isspace((unsigned char)line[j])) continue;
        size_t k = j;
        while (k < len && isspace((unsigned char)line[k])) k++;
        if (k >= len || !starts_sentence(line[k])) continue;
        if (c == '.' && ends_abbrev(line, i)) continue;
        if (c == '.' && i > 0 && isdigit((unsigned char)line[i - 1]) && isdigit((unsigned char)line[k]) &&
            k == j + 1)
            continue; /* "section 5. 2" style numbering is rare; keep "2.5 mg" intact anyway */
        n = push_span(line, start, j, out, cap, n);
        start = k;
    }
    return push_span(line, start, len, out, cap, n);
}

/* ============================================================================================
 * Tokens
 * ========================================================================================== */
int orx_ddi_tokenize(const char *s, size_t len, ddi_tok *out, int cap) {
    int n = 0;
    size_t i = 0;
    while (i < len && n < cap) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) { i++; continue; }
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0) { i += 2; continue; }
        ddi_tok *t = &out[n];
        t->s = (uint32_t)i;
        if (is_wordch((char)c)) {
            size_t j = i + 1;
            for (;;) {
                if (j < len && is_wordch(s[j])) j++;
                else if (j + 1 < len && (s[j] == '-' || s[j] == '\'') && is_wordch(s[j + 1])) j += 2;
                else if (is_rsquo(s, j, len) && j + 3 < len && is_wordch(s[j + 3])) j += 4;
                else break;
            }
            t->e = (uint32_t)j;
            t->word = true;
            t->upper = isupper(c) != 0;
            int letters = 0, lower = 0;
            for (size_t q = i; q < j; q++) {
                letters += isalpha((unsigned char)s[q]) != 0;
                lower += islower((unsigned char)s[q]) != 0;
            }
            t->allcaps = letters >= 2 && lower == 0;
            i = j;
        } else {
            size_t m = mb_punct(s, i, len);
            t->e = (uint32_t)(i + (m ? m : 1));
            t->word = false;
            t->upper = false;
            t->allcaps = false;
            i = t->e;
        }
        orx_ddi_lower(s + t->s, t->e - t->s, t->low, sizeof t->low);
        n++;
    }
    return n;
}
