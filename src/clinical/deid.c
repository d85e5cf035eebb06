/*
 * deid.c — de-identification of patient free text before it goes to a remote model.
 *
 * Source of the rules: HIPAA Privacy Rule, 45 CFR 164.514(b)(2)(i) ("Safe Harbor"): the
 * identifiers of the individual (A)-(R) are removed — (A) names; (B) geographic subdivisions
 * smaller than a State (street address, city, county, precinct, ZIP code); (C) all elements of
 * dates (except year) directly related to the individual, and all ages over 89 (aggregated into
 * one category "90 or older"); (D) telephone and (E) fax numbers; (F) e-mail addresses; (G) social
 * security numbers; (H) medical record numbers; (I) health plan beneficiary numbers; (J) account
 * numbers; (K) certificate/license numbers; (L) vehicle and (M) device identifiers and serial
 * numbers; (N) URLs; (O) IP addresses; (P) biometric identifiers; (Q) full-face photographs; (R)
 * any other unique identifying number, characteristic or code.
 *
 * The scanner finds the ones a problem, medicine, allergy or indication text can hold: (A) the
 * patient's recorded name and id, honorific + name ("Mr. Smith"), "name: X"; (B) street
 * addresses (number + words + street suffix), PO boxes, state + ZIP, "ZIP 02139", ZIP+4; (C)
 * "City, ST [ZIP]"; (C) numeric, ISO and month-name dates, birth dates/years, ages 90 and over written as ages; (D)/(E)
 * phone and fax numbers; (F) e-mail; (G) SSN; (H)-(M), (R) numbers after record/account/plan/
 * licence/serial keywords, and long digit runs or letter+digit codes (7+ digits, or 5+ digits
 * mixed with letters) that no unit follows; (N) URLs; (O) IPv4/IPv6 addresses. A city named
 * alone, a relative's name without an honorific, (P) and (Q) cannot be told from clinical text
 * by pattern; the structured prompt never carries them.
 *
 * Clinical numbers stay: a number followed by a dose or lab unit is never a date or an
 * identifier, two-part ratios ("800 mg/160 mg", "120/80") are not dates, and ages under 90 are
 * kept.
 */
#include "clinical/clinical.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * Character and word helpers
 * ========================================================================================== */
typedef struct match {
    size_t        keep; /* leading bytes copied as they are (a keyword such as "MRN: ") */
    size_t        len;  /* bytes consumed in all (keep included) */
    orx_deid_kind kind; /* what the rest was */
} match;

static bool alnum(char c) { return isalnum((unsigned char)c) != 0; }
static bool digit(char c) { return c >= '0' && c <= '9'; }
static bool alpha(char c) { return isalpha((unsigned char)c) != 0; }

static size_t ndigits(const char *p) {
    size_t n = 0;
    while (digit(p[n])) n++;
    return n;
}

static size_t nalpha(const char *p) {
    size_t n = 0;
    while (alpha(p[n])) n++;
    return n;
}

static size_t nspaces(const char *p) {
    size_t n = 0;
    while (p[n] == ' ' || p[n] == '\t') n++;
    return n;
}

static long num(const char *p, size_t n) {
    long v = 0;
    for (size_t i = 0; i < n && i < 9; i++) v = v * 10 + (p[i] - '0');
    return v;
}

/* p starts with word w (case-insensitive) and no letter or digit follows */
static bool word_is(const char *p, const char *w) {
    size_t n = strlen(w);
    return !strncasecmp(p, w, n) && !alnum(p[n]);
}

/* length of the first of words that p starts with as a whole word, 0 none */
static size_t word_in(const char *p, const char *const *words) {
    for (int i = 0; words[i]; i++)
        if (word_is(p, words[i])) return strlen(words[i]);
    return 0;
}

/* Dose, lab and time units and counts: a number they follow is a clinical quantity. */
static const char *const UNITS[] = {
    "mg", "mcg", "ug", "µg", "g", "kg", "ng", "mL", "ml", "L", "dL", "unit", "units", "IU", "u", "mEq", "mmol",
    "umol", "µmol", "mol", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps", "puff",
    "puffs", "drop", "drops", "patch", "patches", "spray", "sprays", "dose", "doses", "mg/kg", "times", "x",
    "cells", "copies", "mm", "cm", "mmHg", "bpm", "kcal", "day", "days", "week", "weeks", "month", "months",
    "hour", "hours", "h", "hr", "hrs", "min", "minutes", "year", "years", "yr", "yrs", "percent", NULL};

/* the next word after optional spaces is a unit (or '%' / '/unit') */
static bool unit_follows(const char *p) {
    p += nspaces(p);
    if (*p == '%') return true;
    if (*p == '/' && alpha(p[1])) return true; /* "150000/uL", "5/day" */
    return word_in(p, UNITS) > 0;
}

/* ============================================================================================
 * (F) e-mail, (N) URLs, (O) IP addresses
 * ========================================================================================== */
static bool email_char(char c) { return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }

static size_t m_email(const char *s, const char *p) {
    if (p > s && email_char(p[-1])) return 0;
    size_t i = 0;
    while (email_char(p[i])) i++;
    if (!i || p[i] != '@') return 0;
    size_t at = ++i, dot = 0;
    while (alnum(p[i]) || p[i] == '-' || (p[i] == '.' && alnum(p[i + 1]))) {
        if (p[i] == '.') dot = i;
        i++;
    }
    if (!dot || i - dot - 1 < 2 || dot == at) return 0;
    for (size_t k = dot + 1; k < i; k++)
        if (!alpha(p[k])) return 0;
    return i;
}

static size_t m_url(const char *p) {
    static const char *const PRE[] = {"http://", "https://", "ftp://", "www.", NULL};
    size_t pre = 0;
    for (int k = 0; PRE[k] && !pre; k++)
        if (!strncasecmp(p, PRE[k], strlen(PRE[k]))) pre = strlen(PRE[k]);
    if (!pre || !p[pre] || isspace((unsigned char)p[pre])) return 0;
    size_t i = pre;
    while (p[i] && !isspace((unsigned char)p[i]) && p[i] != ';' && p[i] != '"' && p[i] != '<' && p[i] != '>') i++;
    while (i > pre && strchr(".,:)]'", p[i - 1])) i--;
    return i;
}

static size_t m_ipv4(const char *p) {
    size_t i = 0;
    for (int g = 0; g < 4; g++) {
        size_t d = ndigits(p + i);
        if (d < 1 || d > 3 || num(p + i, d) > 255) return 0;
        i += d;
        if (g < 3) {
            if (p[i] != '.') return 0;
            i++;
        }
    }
    if (alnum(p[i]) || (p[i] == '.' && digit(p[i + 1]))) return 0;
    return i;
}

static size_t m_ipv6(const char *p) {
    size_t i = 0, colons = 0;
    bool dbl = false, hex_letter = false;
    while (isxdigit((unsigned char)p[i]) || p[i] == ':') {
        if (p[i] == ':') {
            colons++;
            if (p[i + 1] == ':') dbl = true;
        } else if (alpha(p[i])) {
            hex_letter = true;
        }
        i++;
    }
    if (alnum(p[i]) || colons < 2 || !(dbl || colons >= 7)) return 0;
    if (!dbl && !hex_letter && colons < 7) return 0;
    return i;
}

/* ============================================================================================
 * (D) phone, (G) SSN
 * ========================================================================================== */
static size_t m_ssn(const char *p) {
    if (ndigits(p) != 3) return 0;
    char sep = p[3];
    if (sep != '-' && sep != ' ') return 0;
    if (ndigits(p + 4) != 2 || p[6] != sep || ndigits(p + 7) != 4) return 0;
    return alnum(p[11]) ? 0 : 11;
}

static size_t m_phone(const char *p) {
    size_t i = 0;
    if (p[0] == '+' && digit(p[1])) { /* +CC then groups: 8..15 digits in all */
        size_t d = 0, j = 1;
        while (digit(p[j]) || ((p[j] == ' ' || p[j] == '-' || p[j] == '.') && digit(p[j + 1]))) d += digit(p[j++]);
        return d >= 8 && d <= 15 && !alpha(p[j]) ? j : 0;
    }
    if (p[0] == '1' && (p[1] == '-' || p[1] == ' ' || p[1] == '.') && (digit(p[2]) || p[2] == '(')) i = 2;
    if (p[i] == '(') {
        if (ndigits(p + i + 1) != 3 || p[i + 4] != ')') return 0;
        i += 5;
        if (p[i] == ' ' || p[i] == '-') i++;
    } else {
        if (ndigits(p + i) != 3 || !(p[i + 3] == '-' || p[i + 3] == '.' || p[i + 3] == ' ')) return 0;
        i += 4;
    }
    if (ndigits(p + i) != 3) return 0;
    char sep = p[i + 3];
    if (sep != '-' && sep != '.' && sep != ' ') return 0;
    i += 4;
    if (ndigits(p + i) != 4) return 0;
    i += 4;
    if (alnum(p[i]) || unit_follows(p + i)) return 0;
    return i;
}

/* a run of phone characters holding 7..15 digits (after a "phone"/"fax" keyword) */
static size_t phone_run(const char *p) {
    size_t i = 0, d = 0, end = 0;
    while (digit(p[i]) || strchr("()+-. ", p[i]) != NULL) {
        if (!p[i]) break;
        if (digit(p[i])) { d++; end = i + 1; }
        i++;
    }
    return d >= 7 && d <= 15 && !alpha(p[end]) ? end : 0;
}

/* ============================================================================================
 * (C) dates and ages over 89
 * ========================================================================================== */
static const char *const MONTHS[] = {"january", "february", "march", "april", "may", "june", "july", "august",
                                     "september", "october", "november", "december", "jan", "feb", "mar", "apr",
                                     "jun", "jul", "aug", "sept", "sep", "oct", "nov", "dec", NULL};

/* a month name (full or 3-4 letter abbreviation, optional '.') */
static size_t month_at(const char *p) {
    size_t n = word_in(p, MONTHS);
    if (n && n <= 4 && p[n] == '.') n++;
    return n;
}

/* a day 1..31 with an optional ordinal suffix */
static size_t day_at(const char *p) {
    size_t d = ndigits(p);
    if (d < 1 || d > 2 || num(p, d) < 1 || num(p, d) > 31) return 0;
    static const char *const ORD[] = {"st", "nd", "rd", "th", NULL};
    size_t o = word_in(p + d, ORD);
    if (!o && alnum(p[d])) return 0;
    return d + o;
}

/* ", 2020" / " 2020" after a date: its length, 0 none */
static size_t year_after(const char *p) {
    size_t i = p[0] == ',' ? 1 : 0;
    i += nspaces(p + i);
    if (i == 0) return 0;
    return ndigits(p + i) == 4 && !alnum(p[i + 4]) ? i + 4 : 0;
}

static size_t m_month_date(const char *p) {
    size_t m = month_at(p), i, d, y;
    if (m) { /* March 3[rd][, 2020] | March[,] 2020 */
        i = m + nspaces(p + m);
        if (i > m && (d = day_at(p + i)) && ndigits(p + i) <= 2) {
            i += d;
            if ((y = year_after(p + i))) return i + y;
            return unit_follows(p + i) ? 0 : i;
        }
        if ((y = year_after(p + m))) return m + y;
        return 0;
    }
    d = day_at(p); /* 3[rd] [of] March[, 2020] | 03-Mar-2021 */
    if (!d) return 0;
    if (p[d] == '-' && (m = month_at(p + d + 1)) && p[d + 1 + m] == '-') {
        size_t yd = ndigits(p + d + 2 + m);
        return (yd == 2 || yd == 4) && !alnum(p[d + 2 + m + yd]) ? d + 2 + m + yd : 0;
    }
    i = d + nspaces(p + d);
    if (i == d) return 0;
    if (word_is(p + i, "of")) i += 2 + nspaces(p + i + 2);
    if (!(m = month_at(p + i))) return 0;
    i += m;
    return i + year_after(p + i);
}

static size_t m_numeric_date(const char *p) {
    size_t a = ndigits(p);
    if (a == 4) { /* 2023-05-01, 2023/05/01 [T10:00[:00][Z]] */
        char sep = p[4];
        if (sep != '-' && sep != '/' && sep != '.') return 0;
        size_t b = ndigits(p + 5);
        if (b < 1 || b > 2 || p[5 + b] != sep) return 0;
        size_t c = ndigits(p + 6 + b);
        if (c < 1 || c > 2) return 0;
        long mo = num(p + 5, b), dy = num(p + 6 + b, c);
        if (mo < 1 || mo > 12 || dy < 1 || dy > 31) return 0;
        size_t i = 6 + b + c;
        if (p[i] == 'T' && digit(p[i + 1])) { /* a time of day with it */
            i++;
            while (digit(p[i]) || p[i] == ':' || p[i] == 'Z' || (p[i] == '.' && digit(p[i + 1]))) i++;
        }
        return alnum(p[i]) ? 0 : i;
    }
    if (a < 1 || a > 2) return 0; /* 03/12/2024, 3-12-24, 12.03.2024 */
    char sep = p[a];
    if (sep != '/' && sep != '-' && sep != '.') return 0;
    size_t b = ndigits(p + a + 1);
    if (b < 1 || b > 2 || p[a + 1 + b] != sep) return 0;
    size_t c = ndigits(p + a + 2 + b);
    if (c != 2 && c != 4) return 0;
    long x = num(p, a), y = num(p + a + 1, b);
    if (x < 1 || y < 1 || x > 31 || y > 31 || (x > 12 && y > 12)) return 0;
    size_t i = a + 2 + b + c;
    if (alnum(p[i]) || (p[i] == sep && digit(p[i + 1])) || unit_follows(p + i)) return 0;
    return i;
}

/* "DOB 1930", "born in 1930", "date of birth: 1930-05-01": the value (a year or a date) */
static bool m_birth(const char *p, match *m) {
    static const char *const KW[] = {"date of birth", "birth date", "birthdate", "born on", "born in", "born",
                                     "d.o.b.", "dob", NULL};
    size_t k = word_in(p, KW);
    if (!k && !strncasecmp(p, "d.o.b.", 6)) k = 6;
    if (!k) return false;
    size_t i = k;
    while (p[i] == ':' || p[i] == ' ') i++;
    size_t n = m_numeric_date(p + i);
    if (!n) n = m_month_date(p + i);
    if (!n && ndigits(p + i) == 4 && !alnum(p[i + 4])) n = 4;
    if (!n) return false;
    *m = (match){i, i + n, ORX_DEID_DATE};
    return true;
}

/* an age over 89 written as an age: "93-year-old", "93 years old", "93 yo", "93 y/o", "93 years
 * of age", "aged 93", "age: 93" */
static size_t m_age(const char *p) {
    size_t i = 0;
    static const char *const PRE[] = {"aged", "age", NULL};
    size_t k = word_in(p, PRE);
    if (k) {
        i = k;
        while (p[i] == ':' || p[i] == ' ') i++;
        size_t d = ndigits(p + i);
        if (d < 2 || d > 3 || num(p + i, d) < 90 || num(p + i, d) > 150 || alpha(p[i + d])) return 0;
        i += d;
        /* "aged 93 years" */
        size_t j = i + nspaces(p + i), w;
        static const char *const YRS[] = {"years", "year", "yrs", "yr", "y", NULL};
        if ((w = word_in(p + j, YRS))) i = j + w;
        return i;
    }
    size_t d = ndigits(p);
    if (d < 2 || d > 3 || num(p, d) < 90 || num(p, d) > 150) return 0;
    i = d;
    if (p[i] == '-' || p[i] == ' ') i++;
    static const char *const YO[] = {"yo", "y/o", "y.o.", "yrs", "years", "year", "yr", "y", NULL};
    size_t w = 0;
    for (int n = 0; YO[n] && !w; n++)
        if (!strncasecmp(p + i, YO[n], strlen(YO[n])) && !alpha(p[i + strlen(YO[n])])) w = strlen(YO[n]);
    if (!w) return 0;
    bool short_form = !strncasecmp(p + i, "yo", 2) || !strncasecmp(p + i, "y/o", 3) || !strncasecmp(p + i, "y.o.", 4);
    i += w;
    if (short_form) return i;
    size_t j = i;
    if (p[j] == '-' || p[j] == ' ') j++;
    if (word_is(p + j, "old")) return j + 3;
    if (!strncasecmp(p + j, "of age", 6) && !alpha(p[j + 6])) return j + 6;
    return 0;
}

/* ============================================================================================
 * (B) addresses and ZIP codes
 * ========================================================================================== */
static const char *const STATES[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK",
    "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI", NULL};

static size_t zip_at(const char *p) {
    if (ndigits(p) != 5) return 0;
    size_t i = 5;
    if (p[5] == '-' && ndigits(p + 6) == 4) i = 10;
    return alnum(p[i]) || (p[i] == '-' && digit(p[i + 1])) ? 0 : i;
}

static bool m_zip(const char *p, match *m) {
    size_t i, z;
    for (int k = 0; STATES[k]; k++) /* "MA 02139" (state abbreviations are upper case) */
        if (!strncmp(p, STATES[k], 2) && !alnum(p[2]) && (i = 2 + nspaces(p + 2)) > 2 && (z = zip_at(p + i))) {
            *m = (match){0, i + z, ORX_DEID_ADDRESS};
            return true;
        }
    static const char *const KW[] = {"zip code", "zipcode", "zip", "postal code", "postcode", NULL};
    size_t k = word_in(p, KW);
    if (k) {
        i = k;
        while (p[i] == ':' || p[i] == ' ') i++;
        if ((z = zip_at(p + i))) {
            *m = (match){i, i + z, ORX_DEID_ADDRESS};
            return true;
        }
    }
    /* ZIP+4 alone */
    if (ndigits(p) == 5 && p[5] == '-' && ndigits(p + 6) == 4 && zip_at(p) == 10) {
        *m = (match){0, 10, ORX_DEID_ADDRESS};
        return true;
    }
    return false;
}

static const char *const SUFFIX_WORDS[] = {"street", "avenue", "road", "boulevard", "lane", "drive", "court",
                                           "place", "terrace", "highway", "parkway", "circle", "square",
                                           "trail", "crescent", NULL};
static const char *const SUFFIX_ABBR[] = {"st", "ave", "rd", "blvd", "ln", "dr", "ct", "pl", "ter", "hwy",
                                          "pkwy", "cir", "sq", "trl", "way", NULL};
static const char *const NOT_STREET[] = {"the", "a", "an", "by", "of", "to", "in", "on", "for", "and", "or",
                                         "per", "every", "each", "at", "daily", "with", "then", NULL};

/* apartment / suite after an address: ", Apt 4B" */
static size_t unit_after(const char *p) {
    size_t i = p[0] == ',' ? 1 : 0;
    i += nspaces(p + i);
    static const char *const APT[] = {"apartment", "apt", "suite", "ste", "unit", "#", NULL};
    size_t k = 0;
    if (p[i] == '#') k = 1;
    else k = word_in(p + i, APT);
    if (!k) return 0;
    i += k;
    if (p[i] == '.') i++;
    i += nspaces(p + i);
    size_t t = 0;
    while (alnum(p[i + t]) || p[i + t] == '-') t++;
    return t && t <= 8 ? i + t : 0;
}

/* "Springfield, MA 01103" / "Boston, MA": a city of 1-3 capitalised words, then a state
 * abbreviation (and ZIP code) */
static size_t m_city_state(const char *p) {
    size_t i = 0;
    for (int words = 0; words < 3; words++) {
        size_t w = nalpha(p + i);
        if (!w || !isupper((unsigned char)p[i])) return 0;
        i += w;
        if (p[i] == ',') break;
        if (p[i] != ' ') return 0;
        i++;
    }
    if (p[i] != ',' || p[i + 1] != ' ') return 0;
    i += 2;
    for (int k = 0; STATES[k]; k++) {
        if (strncmp(p + i, STATES[k], 2) || alnum(p[i + 2])) continue;
        size_t j = i + 2, z;
        size_t sp = nspaces(p + j);
        if (sp && (z = zip_at(p + j + sp))) return j + sp + z;
        return p[j] == '\0' || strchr(",;.)", p[j]) ? j : 0;
    }
    return 0;
}

static size_t m_street(const char *p) {
    static const char *const BOX[] = {"po box", "p.o. box", "p o box", "post office box", NULL};
    size_t b = word_in(p, BOX), n;
    if (b) {
        size_t i = b + nspaces(p + b);
        return (n = ndigits(p + i)) && !alpha(p[i + n]) ? i + n : 0;
    }
    n = ndigits(p);
    if (n < 1 || n > 6) return 0;
    size_t i = n;
    if (alpha(p[i]) && !alpha(p[i + 1])) i++; /* "12B" */
    if (p[i] != ' ') return 0;
    bool all_caps = true;
    for (int words = 0; words < 4; words++) {
        i += nspaces(p + i);
        size_t w = nalpha(p + i);
        size_t o = ndigits(p + i);
        if (o && (w = word_in(p + i + o, (const char *const[]){"st", "nd", "rd", "th", NULL}))) w += o; /* "5th" */
        else if (o) return 0;
        if (!w) return 0;
        if (words > 0) {
            size_t s = word_in(p + i, SUFFIX_WORDS), a = word_in(p + i, SUFFIX_ABBR);
            if (s || (a && all_caps && isupper((unsigned char)p[i]))) {
                size_t end = i + (s ? s : a);
                if (p[end] == '.') end++;
                return end + unit_after(p + end);
            }
        }
        if (word_in(p + i, UNITS) || word_in(p + i, NOT_STREET)) return 0;
        if (!isupper((unsigned char)p[i]) && !o) all_caps = false;
        i += w;
        if (p[i] != ' ') return 0;
    }
    return 0;
}

/* ============================================================================================
 * (A) names, (H)-(M), (R) identifiers
 * ========================================================================================== */
/* "Mr. Smith", "Dr John Smith", "name: Jane Doe": the name words after the keyword */
/* the word before p ("brand" in "brand name: X"), lower-cased into w */
static void word_before(const char *s, const char *p, char *w, size_t cap) {
    const char *e = p;
    while (e > s && !alpha(e[-1])) e--;
    const char *b = e;
    while (b > s && alpha(b[-1])) b--;
    size_t n = (size_t)(e - b) < cap - 1 ? (size_t)(e - b) : cap - 1;
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)b[i]);
    w[n] = 0;
}

static bool m_name(const char *s, const char *p, match *m) {
    static const char *const HON[] = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "doctor", NULL};
    static const char *const KW[] = {"patient name", "name", NULL};
    size_t k = word_in(p, HON), i;
    bool hon = k > 0;
    if (hon && !isupper((unsigned char)p[0])) return false;
    if (!k && (k = word_in(p, KW))) { /* a drug's "brand/generic/trade name:" is no person's */
        char prev[16];
        word_before(s, p, prev, sizeof prev);
        if (!strcmp(prev, "brand") || !strcmp(prev, "generic") || !strcmp(prev, "trade") || !strcmp(prev, "drug") ||
            !strcmp(prev, "product") || !strcmp(prev, "proprietary"))
            return false;
    }
    if (!k) return false;
    i = k;
    if (p[i] == '.' && hon) i++;
    if (!hon) {
        if (p[i] != ':') return false;
        i++;
    }
    size_t start = i, end = 0;
    for (int words = 0; words < 3; words++) {
        size_t j = i + nspaces(p + i);
        if (j == i && words == 0 && hon) return false;
        size_t w = 0;
        while (alpha(p[j + w]) || p[j + w] == '\'' || p[j + w] == '-' || digit(p[j + w])) w++;
        if (!w || !isupper((unsigned char)p[j]) || word_in(p + j, UNITS)) break;
        if (words == 0) start = j;
        end = j + w;
        i = end;
        if (words == 0 && p[i] == '.' && hon) break;
    }
    if (!end) return false;
    *m = (match){start, end, ORX_DEID_NAME};
    return true;
}

/* record / account / plan / licence / serial / phone keywords, then the value */
static bool m_keyword_id(const char *p, match *m) {
    static const char *const PHONE[] = {"telephone", "phone", "tel", "cell", "mobile", NULL};
    static const char *const FAX[] = {"fax", "facsimile", NULL};
    static const char *const ID[] = {
        "medical record number", "medical record no", "medical record", "record number", "record no", "mrn",
        "mr#", "mr no", "patient id", "pt id", "patient number", "hospital number", "chart number", "chart no",
        "account number", "account no", "account", "acct", "member id", "member number", "member", "subscriber",
        "beneficiary", "health plan", "plan id", "policy number", "policy no", "policy", "insurance id",
        "insurance number", "insurance", "medicaid", "medicare", "nhs number", "nhs", "ssn", "social security",
        "license", "licence", "certificate", "serial number", "serial no", "serial", "s/n", "vin",
        "license plate", "plate", "device id", "udi", "id", "identifier", "passport", NULL};
    orx_deid_kind kind = ORX_DEID_ID;
    size_t k = word_in(p, PHONE);
    if (k) kind = ORX_DEID_PHONE;
    else if ((k = word_in(p, FAX))) kind = ORX_DEID_FAX;
    else if (!strncasecmp(p, "mr#", 3)) k = 3;
    else if (!(k = word_in(p, ID))) return false;
    if (word_is(p, "ssn") || word_is(p, "social security")) kind = ORX_DEID_SSN;
    size_t i = k;
    if (p[i] == '.' ) i++;
    i += nspaces(p + i);
    static const char *const NO[] = {"number", "no", "nr", "num", NULL};
    size_t w = word_in(p + i, NO);
    if (w) {
        i += w;
        if (p[i] == '.') i++;
    }
    while (p[i] == ':' || p[i] == '#' || p[i] == ' ' || p[i] == '=') i++;
    if (kind == ORX_DEID_PHONE || kind == ORX_DEID_FAX) {
        size_t r = phone_run(p + i);
        if (!r) return false;
        *m = (match){i, i + r, kind};
        return true;
    }
    size_t t = 0, d = 0;
    while (alnum(p[i + t]) || ((p[i + t] == '-' || p[i + t] == '/' || p[i + t] == '.') && alnum(p[i + t + 1])))
        d += digit(p[i + t++]);
    if (d < 3 || unit_follows(p + i + t)) return false;
    *m = (match){i, i + t, kind};
    return true;
}

/* a digit run of 7+ digits, or a code mixing letters with 5+ digits, that no unit follows */
static size_t m_long_number(const char *s, const char *p) {
    if (p > s && (p[-1] == '.' || p[-1] == ',' || p[-1] == '-' || p[-1] == '/')) return 0;
    size_t t = 0, d = 0, a = 0;
    while (alnum(p[t]) || ((p[t] == '-') && alnum(p[t + 1]))) {
        d += digit(p[t]);
        a += alpha(p[t]);
        t++;
    }
    if (p[t] == '.' && digit(p[t + 1])) return 0; /* a decimal number */
    if (unit_follows(p + t)) return 0;
    if (a == 0 && d == t && d >= 7) return t;
    /* product codes, not the patient's: FDA application numbers (NDA020800, ANDA, BLA), NDC */
    static const char *const PRODUCT[] = {"NDA", "ANDA", "BLA", "NDC", NULL};
    for (int k = 0; PRODUCT[k]; k++)
        if (!strncmp(p, PRODUCT[k], strlen(PRODUCT[k])) && (digit(p[strlen(PRODUCT[k])]) || p[strlen(PRODUCT[k])] == '-')) return 0;
    if (a > 0 && d >= 5 && !((p[0] == 'r' || p[0] == 'R') && (p[1] == 's' || p[1] == 'S') && d == t - 2)) return t;
    return 0;
}

/* a known word (name part, id) as a whole word, case-insensitive */
static size_t m_known(const orx_deid *dd, const char *p) {
    for (int k = 0; dd->known[k]; k++) {
        size_t n = strlen(dd->known[k]);
        if (n && !strncasecmp(p, dd->known[k], n) && !alnum(p[n])) return n;
    }
    return 0;
}

/* ============================================================================================
 * The scan
 * ========================================================================================== */
/* the first rule that matches at p (a word start), in order of specificity */
static bool match_at(const orx_deid *d, const char *s, const char *p, match *m) {
    size_t n;
#define TRY(expr, k) do { if ((n = (expr))) { *m = (match){0, n, (k)}; return true; } } while (0)
    TRY(m_email(s, p), ORX_DEID_EMAIL);
    TRY(m_url(p), ORX_DEID_URL);
    TRY(m_known(d, p), ORX_DEID_NAME);
    if (m_birth(p, m)) return true;
    TRY(m_age(p), ORX_DEID_AGE);
    if (m_keyword_id(p, m)) return true;
    TRY(m_ipv4(p), ORX_DEID_IP);
    TRY(m_ipv6(p), ORX_DEID_IP);
    TRY(m_ssn(p), ORX_DEID_SSN);
    TRY(m_phone(p), ORX_DEID_PHONE);
    TRY(m_numeric_date(p), ORX_DEID_DATE);
    TRY(m_month_date(p), ORX_DEID_DATE);
    if (m_zip(p, m)) return true;
    TRY(m_city_state(p), ORX_DEID_ADDRESS);
    TRY(m_street(p), ORX_DEID_ADDRESS);
    if (m_name(s, p, m)) return true;
    TRY(m_long_number(s, p), ORX_DEID_ID);
#undef TRY
    return false;
}

static const char *const KIND_NAMES[ORX_DEID_KIND_COUNT] = {"name", "address", "date", "age", "phone", "fax",
                                                             "e-mail", "SSN", "identifier", "URL", "IP address"};

const char *orx_deid_kind_name(orx_deid_kind k) {
    return k >= 0 && k < ORX_DEID_KIND_COUNT ? KIND_NAMES[k] : "identifier";
}

int orx_deid_append(orx_deid *d, const char *text, orx_buf *out) {
    int made = 0;
    if (!text) return 0;
    const char *p = text;
    while (*p) {
        bool start = p == text || !alnum(p[-1]);
        match m;
        if (start && (alnum(*p) || *p == '(' || *p == '+' || *p == '#') && match_at(d, text, p, &m)) {
            orx_buf_append(out, p, m.keep);
            if (m.kind == ORX_DEID_AGE) orx_buf_puts(out, "[age 90 or older]");
            else orx_buf_printf(out, "[redacted: %s]", orx_deid_kind_name(m.kind));
            d->counts[m.kind]++;
            made++;
            p += m.len;
            continue;
        }
        orx_buf_append(out, p, 1);
        p++;
    }
    return made;
}

int orx_deid_total(const orx_deid *d) {
    int n = 0;
    for (int k = 0; k < ORX_DEID_KIND_COUNT; k++) n += d->counts[k];
    return n;
}

/* known words: each name part (2+ bytes), the part without trailing digits (Synthea's
 * "Aaron697" → "Aaron", 3+ letters), and the id (4+ bytes) */
void orx_deid_for(const orx_patient *pt, orx_deid *d) {
    memset(d, 0, sizeof *d);
    if (!pt) return;
    int n = 0;
    char name[128];
    snprintf(name, sizeof name, "%s", pt->name);
    for (char *save = NULL, *w = strtok_r(name, " ,\t", &save); w && n < 6; w = strtok_r(NULL, " ,\t", &save)) {
        size_t l = strlen(w);
        if (l < 2 || word_is(w, "mr") || word_is(w, "mrs") || word_is(w, "ms") || word_is(w, "dr")) continue;
        snprintf(d->store[n], sizeof d->store[n], "%s", w);
        d->known[n] = d->store[n];
        n++;
        while (l && digit(w[l - 1])) l--;
        if (l >= 3 && l < strlen(w) && n < 6) {
            snprintf(d->store[n], sizeof d->store[n], "%.*s", (int)l, w);
            d->known[n] = d->store[n];
            n++;
        }
    }
    if (strlen(pt->id) >= 4) {
        snprintf(d->store[n], sizeof d->store[n], "%s", pt->id);
        d->known[n] = d->store[n];
        n++;
    }
    d->known[n] = NULL;
}
