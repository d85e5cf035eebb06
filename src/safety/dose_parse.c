/*
 * dose_parse.c — parse the dose part of a drug string: "ibuprofen 400 mg orally every 6 hours"
 * -> amount 400, unit "mg", route "oral", frequency "q6h" (4 per day, interval 6 h).
 *
 * Grammar (case-insensitive, words in any order; drug-name words are skipped):
 *   amount    NUMBER [("-"|"to") NUMBER] UNIT         "400 mg", "1-2 tablets", "400mg"
 *   strength  NUMBER UNIT "/" [NUMBER] UNIT           "250 mg/5 mL", "0.01 MG/MG": not a dose
 *   combination  NUMBER UNIT "/" NUMBER UNIT (same dimension): one amount per ingredient,
 *             "800 mg/160 mg"; for a drug of 2+ ingredients also NUMBER ("-"|"/") NUMBER MASS-UNIT,
 *             "800-160 mg", "800/160 mg" (a range "1-2 tablets" keeps a count unit)
 *   route     orally|oral|po|by mouth|iv|intravenous(ly)|im|subcutaneous(ly)|sc|topical(ly)|...
 *   frequency every|q NUMBER[-NUMBER] hour(s)|day(s)|week(s); qNh; q4-6h; daily|qd|bid|tid|qid|
 *             once/twice/three times/four times/N times daily|a day|per day|weekly; every other
 *             day|qod; at bedtime|qhs|nightly; once|stat; prn|as needed
 *   ignored   "for N days", "x N days", "24 HR" (release descriptor), amounts in parentheses
 *             (restatements such as "(2 tablets)") are checked but not used
 * Errors: a number without a unit, an unknown unit, a unit followed by another unit
 * ("400 mg mL"), two amounts that disagree ("5 mg 10 mcg", "400 mg 5 mL"), two routes or two
 * frequencies that disagree, a non-positive amount.
 */
#include "safety/safety.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Tokens
 * ========================================================================================== */
typedef enum { TK_NUM, TK_WORD, TK_LPAREN, TK_RPAREN, TK_SLASH } tk_type;

typedef struct dtok {
    tk_type type;   /* kind */
    double  num;    /* TK_NUM value */
    char    w[48];  /* TK_WORD text, lower-case */
    int     col;    /* 1-based byte column in the input */
} dtok;

#define DOSE_MAX_TOK 96

static bool is_delim(char c) {
    return c == 0 || isspace((unsigned char)c) || c == ',' || c == ';' || c == '(' || c == ')' ||
           c == ':' || c == '[' || c == ']';
}

static int tokenize(const char *s, dtok *t, int cap) {
    int n = 0;
    size_t i = 0;
    while (s[i] && n < cap) {
        char c = s[i];
        if (isspace((unsigned char)c) || c == ',' || c == ';' || c == ':' || c == '[' || c == ']') { i++; continue; }
        dtok *k = &t[n];
        memset(k, 0, sizeof *k);
        k->col = (int)i + 1;
        if (c == '(' || c == ')') { k->type = c == '(' ? TK_LPAREN : TK_RPAREN; i++; n++; continue; }
        if (c == '/') { k->type = TK_SLASH; i++; n++; continue; }
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            size_t j = i;
            char num[64];
            size_t o = 0;
            while ((isdigit((unsigned char)s[j]) || s[j] == '.' ||
                    (s[j] == ',' && isdigit((unsigned char)s[j + 1]) && isdigit((unsigned char)s[j + 2]) &&
                     isdigit((unsigned char)s[j + 3]) && !isdigit((unsigned char)s[j + 4]))) && o < sizeof num - 1) {
                if (s[j] != ',') num[o++] = s[j];
                j++;
            }
            num[o] = 0;
            if (s[j] == '-' && isalpha((unsigned char)s[j + 1])) { /* "5-hydroxytryptophan": a word */
                while (!is_delim(s[j]) && s[j] != '/') j++;
                k->type = TK_WORD;
                orx_fset(k->w, sizeof k->w, "%.*s", (int)(j - i), s + i);
            } else {
                k->type = TK_NUM;
                k->num = strtod(num, NULL);
            }
            i = j;
            n++;
            continue;
        }
        if (c == '-' && n > 0 && t[n - 1].type == TK_NUM) { /* range dash "1-2" */
            k->type = TK_WORD;
            orx_fset(k->w, sizeof k->w, "-");
            i++;
            n++;
            continue;
        }
        size_t j = i;
        while (!is_delim(s[j]) && !(s[j] == '/' && j == i)) {
            /* "mg/kg" stays one word; "mg/160 mg" and "mg/5 mL" split at the slash */
            if (s[j] == '/' && !isalpha((unsigned char)s[j + 1])) break;
            j++;
        }
        if (j == i) j = i + 1;
        k->type = TK_WORD;
        orx_fset(k->w, sizeof k->w, "%.*s", (int)(j - i), s + i);
        for (char *p = k->w; *p; p++) *p = (char)tolower((unsigned char)*p);
        i = j;
        n++;
    }
    return n;
}

/* ============================================================================================
 * Vocabulary
 * ========================================================================================== */
typedef enum { DIM_NONE = 0, DIM_MASS, DIM_VOLUME, DIM_UNITS, DIM_MOLAR, DIM_COUNT, DIM_PERKG,
               DIM_PERM2 } dim;

typedef struct unit_def {
    const char *norm;   /* normalised unit */
    dim         d;      /* dimension */
    double      to_base;/* factor to the dimension's base (mg, mL) where comparable, else 0 */
    const char *words;  /* its spellings (lower-case), '|'-separated */
} unit_def;

static const unit_def UNITS[] = {
    {"mg", DIM_MASS, 1, "mg|milligram|milligrams"}, {"mcg", DIM_MASS, 1e-3, "mcg|µg|ug|microgram|micrograms"},
    {"g", DIM_MASS, 1e3, "g|gm|gram|grams"}, {"ng", DIM_MASS, 1e-6, "ng"},
    {"mL", DIM_VOLUME, 1, "ml|milliliter|milliliters|millilitre"}, {"L", DIM_VOLUME, 1e3, "l|liter|litre"},
    {"unit", DIM_UNITS, 1, "unit|units|unt|iu"}, {"meq", DIM_MOLAR, 1, "meq"}, {"mmol", DIM_MOLAR, 0, "mmol"},
    {"tablet", DIM_COUNT, 0, "tablet|tablets|tab|tabs"},
    {"capsule", DIM_COUNT, 0, "capsule|capsules|cap|caps"}, {"puff", DIM_COUNT, 0, "puff|puffs"},
    {"drop", DIM_COUNT, 0, "drop|drops|gtt"}, {"patch", DIM_COUNT, 0, "patch|patches"},
    {"spray", DIM_COUNT, 0, "spray|sprays"}, {"suppository", DIM_COUNT, 0, "suppository|suppositories"},
    {"application", DIM_COUNT, 0, "application|applications"},
    {"actuation", DIM_COUNT, 0, "actuation|actuations"}, {"vial", DIM_COUNT, 0, "vial"},
    {"ampule", DIM_COUNT, 0, "ampule"}, {"mg/kg", DIM_PERKG, 1, "mg/kg"},
    {"mcg/kg", DIM_PERKG, 1e-3, "mcg/kg"}, {"unit/kg", DIM_PERKG, 0, "units/kg|unit/kg"},
    {"mg/m2", DIM_PERM2, 1, "mg/m2|mg/m²"}, {NULL, DIM_NONE, 0, NULL}};

static const unit_def *find_unit(const char *w) {
    for (int i = 0; UNITS[i].norm; i++)
        if (orx_list_has(UNITS[i].words, '|', w)) return &UNITS[i];
    return NULL;
}

/* A strength/concentration unit written as one word: "mg/ml", "unt/ml", "mg/mg", "mcg/actuat". */
static bool is_concentration_word(const char *w) {
    const char *sl = strchr(w, '/');
    if (!sl || find_unit(w)) return false;
    char head[48];
    orx_fset(head, sizeof head, "%.*s", (int)(sl - w), w);
    return find_unit(head) != NULL;
}

typedef struct route_def { const char *word, *norm; } route_def;
static const route_def ROUTES[] = {
    {"orally", "oral"}, {"oral", "oral"}, {"po", "oral"}, {"iv", "iv"}, {"intravenous", "iv"},
    {"intravenously", "iv"}, {"im", "im"}, {"intramuscular", "im"}, {"intramuscularly", "im"},
    {"sc", "subcutaneous"}, {"subq", "subcutaneous"}, {"subcut", "subcutaneous"},
    {"sq", "subcutaneous"}, {"subcutaneous", "subcutaneous"}, {"subcutaneously", "subcutaneous"},
    {"topical", "topical"}, {"topically", "topical"}, {"cutaneous", "topical"},
    {"inhaled", "inhaled"}, {"inhalation", "inhaled"}, {"inh", "inhaled"},
    {"rectal", "rectal"}, {"rectally", "rectal"}, {"pr", "rectal"},
    {"vaginal", "vaginal"}, {"vaginally", "vaginal"}, {"transdermal", "transdermal"},
    {"sublingual", "sublingual"}, {"sublingually", "sublingual"}, {"sl", "sublingual"},
    {"nasal", "nasal"}, {"intranasal", "nasal"}, {"intranasally", "nasal"},
    {"ophthalmic", "ophthalmic"}, {"otic", "otic"}, {"buccal", "buccal"}, {NULL, NULL}};

static const char *find_route(const char *w) {
    for (int i = 0; ROUTES[i].word; i++)
        if (strcmp(w, ROUTES[i].word) == 0) return ROUTES[i].norm;
    return NULL;
}

/* ============================================================================================
 * Parser state
 * ========================================================================================== */
typedef struct dstate {
    const dtok *t;      /* tokens */
    int         n;      /* count */
    orx_dose   *d;      /* output */
    orx_error  *err;    /* error sink */
    dim         amount_dim;   /* dimension of the kept amount */
    double      amount_base;  /* kept amount in the dimension base, 0 when not comparable */
    const char *amount_unit;  /* as written, for messages */
    bool        have_freq;    /* a frequency was set */
    int         route_col;    /* column of the route word */
    int         n_ingr;       /* ingredients of the drug (>= 2: combination strengths allowed) */
} dstate;

static bool word_is(const dstate *s, int i, const char *w) {
    return i < s->n && s->t[i].type == TK_WORD && strcmp(s->t[i].w, w) == 0;
}

static orx_status set_route(dstate *s, const char *r, int col) {
    if (s->d->route[0] && strcmp(s->d->route, r) != 0)
        return orx_fail(s->err, ORX_ERR_INVALID, "dose:1:%d: two routes given ('%s' and '%s')", col,
                        s->d->route, r);
    orx_fset(s->d->route, sizeof s->d->route, "%s", r);
    s->route_col = col;
    return ORX_OK;
}

static orx_status set_freq(dstate *s, const char *text, double per_day, double interval_h,
                           int col) {
    if (s->have_freq) {
        if (fabs(s->d->per_day - per_day) < 1e-9) return ORX_OK;
        return orx_fail(s->err, ORX_ERR_INVALID, "dose:1:%d: two frequencies given ('%s' and '%s')",
                        col, s->d->frequency, text);
    }
    s->have_freq = true;
    orx_fset(s->d->frequency, sizeof s->d->frequency, "%s", text);
    s->d->per_day = per_day;
    s->d->interval_h = interval_h;
    return ORX_OK;
}

/* "every"/"q" NUMBER[-NUMBER] hour|day|week|minute ... starting at token i (after "every").
 * Returns tokens consumed (0 = not a frequency). */
static int every_clause(dstate *s, int i, int col, orx_status *st) {
    char txt[48];
    if (word_is(s, i, "other") && (word_is(s, i + 1, "day"))) {
        *st = set_freq(s, "every other day", 0.5, 48, col);
        return 2;
    }
    if (i < s->n && s->t[i].type == TK_WORD) {
        const char *w = s->t[i].w;
        if (!strcmp(w, "day") || !strcmp(w, "morning") || !strcmp(w, "evening") ||
            !strcmp(w, "night") || !strcmp(w, "bedtime")) {
            *st = set_freq(s, "once daily", 1, 24, col);
            return 1;
        }
        if (!strcmp(w, "hour")) { *st = set_freq(s, "q1h", 24, 1, col); return 1; }
        if (!strcmp(w, "week")) { *st = set_freq(s, "weekly", 1.0 / 7, 168, col); return 1; }
        return 0;
    }
    if (i >= s->n || s->t[i].type != TK_NUM) return 0;
    double lo = s->t[i].num, hi = lo;
    int k = i + 1;
    if ((word_is(s, k, "-") || word_is(s, k, "to")) && k + 1 < s->n && s->t[k + 1].type == TK_NUM) {
        hi = s->t[k + 1].num;
        k += 2;
    }
    if (k >= s->n || s->t[k].type != TK_WORD || lo <= 0 || hi < lo) return 0;
    const char *u = s->t[k].w;
    if (!strcmp(u, "hours") || !strcmp(u, "hour") || !strcmp(u, "hrs") || !strcmp(u, "hr") ||
        !strcmp(u, "h")) {
        if (hi > lo) orx_fset(txt, sizeof txt, "q%g-%gh", lo, hi);
        else orx_fset(txt, sizeof txt, "q%gh", lo);
        *st = set_freq(s, txt, 24.0 / lo, lo, col);
    } else if (!strcmp(u, "days") || !strcmp(u, "day")) {
        orx_fset(txt, sizeof txt, "every %g days", lo);
        *st = set_freq(s, txt, 1.0 / lo, 24 * lo, col);
    } else if (!strcmp(u, "weeks") || !strcmp(u, "week")) {
        orx_fset(txt, sizeof txt, "every %g weeks", lo);
        *st = set_freq(s, txt, 1.0 / (7 * lo), 168 * lo, col);
    } else if (!strcmp(u, "minutes") || !strcmp(u, "min")) {
        orx_fset(txt, sizeof txt, "every %g minutes", lo);
        *st = set_freq(s, txt, 1440.0 / lo, lo / 60, col);
    } else {
        return 0;
    }
    return k + 1 - i;
}

/* "qNh" / "qN-Mh" as one word */
static bool q_word(dstate *s, const char *w, int col, orx_status *st) {
    if (w[0] != 'q' || !isdigit((unsigned char)w[1])) return false;
    char *end;
    double lo = strtod(w + 1, &end), hi = lo;
    if (*end == '-') hi = strtod(end + 1, &end);
    if (strcmp(end, "h") != 0 && strcmp(end, "hr") != 0 && strcmp(end, "hrs") != 0) return false;
    if (lo <= 0 || hi < lo) return false;
    char txt[48];
    if (hi > lo) orx_fset(txt, sizeof txt, "q%g-%gh", lo, hi);
    else orx_fset(txt, sizeof txt, "q%gh", lo);
    *st = set_freq(s, txt, 24.0 / lo, lo, col);
    return true;
}

/* times-per-day words at i: "once|twice|three times|N times" + "daily|a day|per day|weekly..." */
static int times_clause(dstate *s, int i, orx_status *st) {
    double k = 0;
    int j = i;
    const char *w = s->t[i].type == TK_WORD ? s->t[i].w : "";
    if (!strcmp(w, "once")) { k = 1; j = i + 1; }
    else if (!strcmp(w, "twice")) { k = 2; j = i + 1; }
    else if ((!strcmp(w, "three") || !strcmp(w, "four") || !strcmp(w, "two")) && word_is(s, i + 1, "times")) {
        k = !strcmp(w, "two") ? 2 : !strcmp(w, "three") ? 3 : 4;
        j = i + 2;
    } else if (s->t[i].type == TK_NUM && word_is(s, i + 1, "times")) {
        k = s->t[i].num;
        j = i + 2;
    } else {
        return 0;
    }
    if (k <= 0) return 0;
    int col = s->t[i].col;
    char txt[48];
    static const char *const NAMES[] = {"", "once", "twice", "three times", "four times"};
    char kt[16];
    if (k == (int)k && k <= 4) orx_fset(kt, sizeof kt, "%s", NAMES[(int)k]);
    else orx_fset(kt, sizeof kt, "%g times", k);
    if (word_is(s, j, "daily") || word_is(s, j, "day")) {
        orx_fset(txt, sizeof txt, "%s daily", kt);
        *st = set_freq(s, txt, k, 24 / k, col);
        return j + 1 - i;
    }
    if ((word_is(s, j, "a") || word_is(s, j, "per") || word_is(s, j, "each") || word_is(s, j, "every")) &&
        (word_is(s, j + 1, "day") || word_is(s, j + 1, "week"))) {
        bool week = word_is(s, j + 1, "week");
        orx_fset(txt, sizeof txt, "%s %s", kt, week ? "weekly" : "daily");
        *st = set_freq(s, txt, week ? k / 7 : k, week ? 168 / k : 24 / k, col);
        return j + 2 - i;
    }
    if (word_is(s, j, "weekly")) {
        orx_fset(txt, sizeof txt, "%s weekly", kt);
        *st = set_freq(s, txt, k / 7, 168 / k, col);
        return j + 1 - i;
    }
    if (k == 1 && !strcmp(w, "once")) { /* "once" alone: a single dose */
        *st = set_freq(s, "once", 0, 0, col);
        return 1;
    }
    return 0;
}

/* Single-word frequencies. */
static bool freq_word(dstate *s, const char *w, int col, orx_status *st) {
    struct { const char *w, *text; double per_day, interval; } F[] = {
        {"daily", "once daily", 1, 24}, {"qd", "once daily", 1, 24}, {"od", "once daily", 1, 24},
        {"qday", "once daily", 1, 24}, {"nightly", "at bedtime", 1, 24}, {"qhs", "at bedtime", 1, 24},
        {"bid", "twice daily", 2, 12}, {"tid", "three times daily", 3, 8},
        {"qid", "four times daily", 4, 6}, {"qod", "every other day", 0.5, 48},
        {"weekly", "weekly", 1.0 / 7, 168}, {"stat", "once", 0, 0}, {"hourly", "q1h", 24, 1},
        {NULL, NULL, 0, 0}};
    for (int i = 0; F[i].w; i++) {
        if (strcmp(w, F[i].w) == 0) {
            *st = set_freq(s, F[i].text, F[i].per_day, F[i].interval, col);
            return true;
        }
    }
    return false;
}

/* Record an amount NUMBER[-NUMBER] UNIT. in_paren: a restatement, validated but not kept. */
static orx_status take_amount(dstate *s, double lo, double hi, const unit_def *u, int col,
                              bool in_paren, bool combo) {
    if (!(lo > 0) || !isfinite(lo) || !isfinite(hi))
        return orx_fail(s->err, ORX_ERR_INVALID, "dose:1:%d: amount must be a positive number", col);
    if (in_paren) return ORX_OK;
    if (s->d->present && !combo) {
        dim a = s->amount_dim, b = u->d;
        if (a == b) {
            double x = s->amount_base, y = hi * u->to_base;
            bool same = (x > 0 && y > 0) ? fabs(x - y) <= 1e-9 * (x > y ? x : y)
                                         : (fabs(s->d->amount - hi) < 1e-12 &&
                                            strcmp(s->d->unit, u->norm) == 0);
            if (!same)
                return orx_fail(s->err, ORX_ERR_INVALID,
                                "dose:1:%d: contradictory amounts '%g %s' and '%g %s'", col,
                                s->d->amount, s->d->unit, hi, u->norm);
            return ORX_OK;
        }
        if (a == DIM_COUNT || b == DIM_COUNT) { /* "2 tablets 400 mg": keep the non-count */
            if (b == DIM_COUNT) return ORX_OK;
        } else {
            return orx_fail(s->err, ORX_ERR_INVALID, "dose:1:%d: contradictory units '%s' and '%s'",
                            col, s->d->unit, u->norm);
        }
    }
    if (s->d->present && combo) { /* combination product: keep the first amount, record parts */
        if (u->d == s->amount_dim && s->d->n_parts < (int)(sizeof s->d->part / sizeof s->d->part[0])) {
            double f = (s->amount_base > 0 && u->to_base > 0) ? u->to_base * s->d->amount / s->amount_base : 1;
            s->d->part[s->d->n_parts++] = hi * f;
        }
        return ORX_OK;
    }
    s->d->present = true;
    s->d->n_parts = 1;
    s->d->part[0] = hi;
    s->d->amount = hi;
    s->d->amount_low = lo;
    orx_fset(s->d->unit, sizeof s->d->unit, "%s", u->norm);
    s->amount_dim = u->d;
    s->amount_base = hi * u->to_base;
    s->amount_unit = u->norm;
    return ORX_OK;
}

/* For a drug of 2+ ingredients: NUMBER ("-"|"/") NUMBER MASS-UNIT at i is a combination
 * strength ("800-160 mg": 800 mg of the first ingredient, 160 mg of the second). Returns the
 * tokens consumed (0 = not one). */
static int combination_strength(dstate *s, int i, orx_status *st) {
    const dtok *t = s->t;
    if (s->n_ingr < 2 || i + 3 >= s->n) return 0;
    bool sep = (t[i + 1].type == TK_SLASH) || (t[i + 1].type == TK_WORD && !strcmp(t[i + 1].w, "-"));
    if (!sep || t[i + 2].type != TK_NUM || t[i + 3].type != TK_WORD) return 0;
    const unit_def *u = find_unit(t[i + 3].w);
    if (!u || u->d != DIM_MASS) return 0;
    if (s->d->present) return 0; /* a second amount: leave it to the contradiction checks */
    double a = t[i].num, b = t[i + 2].num;
    *st = take_amount(s, a, a, u, t[i].col, false, false);
    if (*st == ORX_OK) *st = take_amount(s, b, b, u, t[i + 2].col, false, true);
    return 4;
}

/* ============================================================================================
 * Main loop
 * ========================================================================================== */
orx_status orx_dose_parse(const char *text, orx_dose *dose, orx_error *err) {
    return orx_dose_parse_n(text, 1, dose, err);
}

orx_status orx_dose_parse_n(const char *text, int n_ingr, orx_dose *dose, orx_error *err) {
    if (!dose) return orx_fail(err, ORX_ERR_USAGE, "orx_dose_parse: dose is NULL");
    memset(dose, 0, sizeof *dose);
    if (!text) return orx_fail(err, ORX_ERR_USAGE, "orx_dose_parse: text is NULL");
    orx_fset(dose->text, sizeof dose->text, "%s", text);
    dtok t[DOSE_MAX_TOK];
    int n = tokenize(text, t, DOSE_MAX_TOK);
    dstate s = {.t = t, .n = n, .d = dose, .err = err, .n_ingr = n_ingr};
    orx_status st = ORX_OK;
    int depth = 0;
    bool combo = false;
    for (int i = 0; i < n && st == ORX_OK;) {
        const dtok *k = &t[i];
        if (k->type == TK_LPAREN) { depth++; i++; continue; }
        if (k->type == TK_RPAREN) { if (depth) depth--; i++; continue; }
        if (k->type == TK_SLASH) { if (dose->present) combo = true; i++; continue; }
        if (k->type == TK_NUM) {
            if (i > 0 && (word_is(&s, i - 1, "day") || word_is(&s, i - 1, "days"))) { /* "day 1", "days 2-5" */
                bool range = (word_is(&s, i + 1, "-") || word_is(&s, i + 1, "to")) && i + 2 < n && t[i + 2].type == TK_NUM;
                i += range ? 3 : 1;
                continue;
            }
            int used = times_clause(&s, i, &st);
            if (used) { i += used; continue; }
            double lo = k->num, hi = lo;
            int j = i + 1;
            int used_combo = combination_strength(&s, i, &st);
            if (used_combo) { i += used_combo; continue; }
            if ((word_is(&s, j, "-") || word_is(&s, j, "to")) && j + 1 < n && t[j + 1].type == TK_NUM) {
                hi = t[j + 1].num;
                j += 2;
                if (hi < lo)
                    return orx_fail(err, ORX_ERR_INVALID, "dose:1:%d: range %g-%g is reversed",
                                    k->col, lo, hi);
            }
            if (j + 2 < n && t[j].type == TK_SLASH && t[j + 1].type == TK_NUM && n_ingr < 2)
                return orx_fail(err, ORX_ERR_PARSE, "dose:1:%d: '%g/%g' reads as the strengths of a combination, "
                                "but the drug named has one ingredient (name the combination, e.g. "
                                "\"amoxicillin/clavulanate\", or give one strength)", k->col, lo, t[j + 1].num);
            if (j >= n || t[j].type != TK_WORD)
                return orx_fail(err, ORX_ERR_PARSE, "dose:1:%d: amount %g has no unit", k->col, lo);
            const char *w = t[j].w;
            if (!strcmp(w, "hr") || !strcmp(w, "hour") || !strcmp(w, "hours")) { i = j + 1; continue; } /* "24 HR" */
            if (!strcmp(w, "days") || !strcmp(w, "day") || !strcmp(w, "weeks") || !strcmp(w, "week")) {
                if (i > 0 && (word_is(&s, i - 1, "for") || word_is(&s, i - 1, "x"))) { i = j + 1; continue; }
                return orx_fail(err, ORX_ERR_PARSE, "dose:1:%d: '%g %s' is not a dose or frequency",
                                k->col, lo, w);
            }
            if (is_concentration_word(w)) { i = j + 1; continue; } /* strength "0.01 mg/mg" */
            const unit_def *u = find_unit(w);
            if (!u) {
                if (find_route(w))
                    return orx_fail(err, ORX_ERR_PARSE, "dose:1:%d: amount %g has no unit", k->col, lo);
                return orx_fail(err, ORX_ERR_PARSE, "dose:1:%d: unknown unit '%s' after %g", t[j].col,
                                w, lo);
            }
            /* strength written "250 mg / 5 mL": unit, slash, [number], unit */
            if (j + 1 < n && t[j + 1].type == TK_SLASH) {
                int m = j + 2;
                if (m < n && t[m].type == TK_NUM) m++;
                if (m < n && t[m].type == TK_WORD && find_unit(t[m].w) &&
                    find_unit(t[m].w)->d != u->d && find_unit(t[m].w)->d != DIM_COUNT) {
                    i = m + 1;
                    continue;
                }
            }
            const unit_def *u2 = j + 1 < n && t[j + 1].type == TK_WORD ? find_unit(t[j + 1].w) : NULL;
            bool form = u2 && u2->d == DIM_COUNT && u->d != DIM_COUNT; /* "150 mg tablet": strength + form */
            if (u2 && !form)
                return orx_fail(err, ORX_ERR_INVALID,
                                "dose:1:%d: contradictory units '%s' and '%s' for one amount",
                                t[j + 1].col, w, t[j + 1].w);
            st = take_amount(&s, lo, hi, u, k->col, depth > 0, combo);
            i = j + 1 + form; /* the form word is read with its strength */
            continue;
        }
        /* words */
        const char *w = k->w;
        if (!strcmp(w, "then"))
            return orx_fail(err, ORX_ERR_INVALID, "dose:1:%d: a regimen that changes ('… then …') is not checked as "
                            "one dose: give the dose and frequency of one step", k->col);
        const char *r = find_route(w);
        if (!strcmp(w, "by") && word_is(&s, i + 1, "mouth")) { st = set_route(&s, "oral", k->col); i += 2; continue; }
        if (r) { st = set_route(&s, r, k->col); i++; continue; }
        if (!strcmp(w, "every") || !strcmp(w, "each") || !strcmp(w, "q")) {
            int used = every_clause(&s, i + 1, k->col, &st);
            i += 1 + used;
            continue;
        }
        if (q_word(&s, w, k->col, &st)) { i++; continue; }
        if (freq_word(&s, w, k->col, &st)) { i++; continue; }
        if (!strcmp(w, "at") && word_is(&s, i + 1, "bedtime")) { st = set_freq(&s, "at bedtime", 1, 24, k->col); i += 2; continue; }
        if (!strcmp(w, "prn") || (!strcmp(w, "as") && (word_is(&s, i + 1, "needed") || word_is(&s, i + 1, "required")))) {
            dose->prn = true;
            i += !strcmp(w, "prn") ? 1 : 2;
            continue;
        }
        int used = times_clause(&s, i, &st);
        if (used) { i += used; continue; }
        if (find_unit(w) && i > 0 && t[i - 1].type != TK_NUM && !dose->present && depth == 0 &&
            strlen(w) > 1 && !find_unit(w)->to_base) {
            i++; /* a dose-form word such as "tablet" in a product name */
            continue;
        }
        i++;
    }
    if (st) return st;
    if (dose->n_parts < 2) dose->n_parts = 0;
    if (dose->present && dose->per_day > 0) dose->daily_amount = dose->amount * dose->per_day;
    return ORX_OK;
}

/* ============================================================================================
 * A dose given in parts (a structured draft): amount and unit as given, the unit and route
 * normalised with the vocabulary above, the frequency text read by the parser.
 * ========================================================================================== */
static void lower_copy(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = 0;
}

orx_status orx_dose_from_parts(const orx_dose_parts *p, int n_ingr, orx_dose *dose, orx_error *err) {
    if (!dose || !p) return orx_fail(err, ORX_ERR_USAGE, "orx_dose_from_parts: NULL argument");
    memset(dose, 0, sizeof *dose);
    orx_fset(dose->text, sizeof dose->text, "%g %s %s %s", p->amount, p->unit ? p->unit : "",
             p->route ? p->route : "", p->frequency ? p->frequency : "");
    char w[48];
    lower_copy(w, sizeof w, p->unit);
    const unit_def *u = w[0] ? find_unit(w) : NULL;
    if (w[0] && !u) return orx_fail(err, ORX_ERR_PARSE, "dose: unknown unit '%s'", p->unit);
    if (u) {
        if (!(p->amount > 0) || !isfinite(p->amount))
            return orx_fail(err, ORX_ERR_INVALID, "dose: amount must be a positive number");
        dose->present = true;
        dose->amount = dose->amount_low = p->amount;
        orx_fset(dose->unit, sizeof dose->unit, "%s", u->norm);
    }
    lower_copy(w, sizeof w, p->route);
    const char *r = w[0] ? find_route(w) : NULL;
    if (w[0] && !r) return orx_fail(err, ORX_ERR_PARSE, "dose: unknown route '%s'", p->route);
    if (r) orx_fset(dose->route, sizeof dose->route, "%s", r);
    if (p->frequency && p->frequency[0]) {
        orx_dose f;
        orx_status st = orx_dose_parse_n(p->frequency, n_ingr, &f, err);
        if (st != ORX_OK) return st;
        if (f.route[0] && dose->route[0] && strcmp(f.route, dose->route) != 0)
            return orx_fail(err, ORX_ERR_INVALID, "dose: two routes given ('%s' and '%s')", dose->route, f.route);
        if (f.present && (!dose->present || strcmp(f.unit, dose->unit) != 0 || fabs(f.amount - dose->amount) > 1e-12))
            return orx_fail(err, ORX_ERR_INVALID, "dose: the frequency '%s' states another amount", p->frequency);
        if (!dose->route[0]) orx_fset(dose->route, sizeof dose->route, "%s", f.route);
        orx_fset(dose->frequency, sizeof dose->frequency, "%s", f.frequency);
        dose->per_day = f.per_day;
        dose->interval_h = f.interval_h;
        dose->prn = f.prn;
    }
    if (dose->present && dose->per_day > 0) dose->daily_amount = dose->amount * dose->per_day;
    return ORX_OK;
}
