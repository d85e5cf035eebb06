/*
 * ddi_effects.c — pharmacodynamic effect roles in label text: the wording table
 * (data/interactions/effect_roles.tsv), effect phrases that name a category of drugs ("other
 * drugs that prolong the QT interval", "serotonergic drugs", "CNS depressants") and a label's
 * statements about its own drug ("X prolongs the QT interval", "cases of serotonin syndrome have
 * been reported with X"). Membership of a role comes only from named sources; this file finds
 * the words, ddi_extract.c writes the rows, label_ddi.c matches them.
 */
#include "safety/ddi_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFF_TOKS 12  /* tokens of one pattern */
#define EFF_ALTS 6   /* alternatives of one pattern token */
#define EFF_WORD 32  /* bytes of one alternative */
#define EFF_STAR 2   /* words a '*' may stand for */

/* ============================================================================================
 * Table
 * ========================================================================================== */
typedef enum eff_kind { EFF_VERB, EFF_ADJ, EFF_NOUN, EFF_OUTCOME } eff_kind;

typedef struct eff_tok {
    char alt[EFF_ALTS][EFF_WORD]; /* alternatives, lower case */
    int  nalt;                    /* count */
    bool opt;                     /* "[x]": may be absent */
    bool star;                    /* "*": up to EFF_STAR words */
} eff_tok;

typedef struct eff_pat {
    eff_kind kind;                /* where the pattern is looked for */
    char     key[DDI_EFFECT_KEY]; /* effect key ("qt") */
    eff_tok  tok[EFF_TOKS];       /* the tokens */
    int      n;                   /* count */
} eff_pat;

struct ddi_effects {
    eff_pat *pats;                      /* patterns, table order */
    size_t   n;                         /* count */
    char   (*keys)[DDI_EFFECT_KEY];     /* effect keys with a name row */
    char   (*names)[96];                /* their names */
    size_t   n_names;                   /* count */
};

void orx_ddi_effects_free(ddi_effects *e) {
    if (!e) return;
    free(e->pats);
    free(e->keys);
    free(e->names);
    free(e);
}

/* One pattern token ("[the|a]", "qt|qtc", "*"); false when malformed. */
static bool parse_tok(char *w, eff_tok *t) {
    memset(t, 0, sizeof *t);
    if (!strcmp(w, "*")) { t->star = true; return true; }
    size_t l = strlen(w);
    if (w[0] == '[') {
        if (l < 3 || w[l - 1] != ']') return false;
        w[l - 1] = 0;
        w++;
        t->opt = true;
    }
    for (char *a = w, *bar; a; a = bar) {
        bar = strchr(a, '|');
        if (bar) *bar++ = 0;
        if (!a[0] || t->nalt == EFF_ALTS || strlen(a) >= EFF_WORD) return false;
        snprintf(t->alt[t->nalt++], EFF_WORD, "%s", a);
    }
    return t->nalt > 0;
}

static bool parse_pattern(char *text, eff_pat *p) {
    p->n = 0;
    for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
        if (p->n == EFF_TOKS || !parse_tok(w, &p->tok[p->n])) return false;
        p->n++;
    }
    return p->n > 0 && !p->tok[0].star;
}

static orx_status parse_row(ddi_effects *e, char *row, const char *path, size_t line, orx_error *err) {
    char *f[5] = {0};
    int nf = orx_tsv_split(row, f, 5);
    if (nf < 3 || !f[1][0] || !f[2][0] || strlen(f[1]) >= DDI_EFFECT_KEY)
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected 'kind<TAB>effect<TAB>text[<TAB>...]'", path, line);
    if (!strcmp(f[0], "effect")) {
        snprintf(e->keys[e->n_names], DDI_EFFECT_KEY, "%s", f[1]);
        snprintf(e->names[e->n_names++], 96, "%s", f[2]);
        return ORX_OK;
    }
    if (!strcmp(f[0], "class")) return ORX_OK; /* read by the checker (label_ddi.c) */
    static const char *const KINDS[] = {"verb", "adj", "noun", "outcome", NULL};
    int k = 0;
    while (KINDS[k] && strcmp(KINDS[k], f[0])) k++;
    if (!KINDS[k]) return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: unknown row kind '%s'", path, line, f[0]);
    eff_pat *p = &e->pats[e->n];
    p->kind = (eff_kind)k;
    snprintf(p->key, sizeof p->key, "%s", f[1]);
    if (!parse_pattern(f[2], p))
        return orx_fail(err, ORX_ERR_PARSE, "%s:%zu:3: malformed pattern (at most %d tokens, %d alternatives)", path,
                        line, EFF_TOKS, EFF_ALTS);
    e->n++;
    return ORX_OK;
}

ddi_effects *orx_ddi_effects_load(const char *path, orx_error *err) {
    ddi_effects *e = calloc(1, sizeof *e);
    char *text = NULL;
    size_t len = 0;
    if (!e) { orx_fail(err, ORX_ERR_NOMEM, "effect roles: out of memory"); return NULL; }
    if (orx_read_file(path, 1u << 20, &text, &len, err) != ORX_OK) { orx_ddi_effects_free(e); return NULL; }
    if (strncmp(text, "#openrx-effect-roles\t", 21) != 0) {
        orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx effect-role table (missing header)", path);
        free(text);
        orx_ddi_effects_free(e);
        return NULL;
    }
    size_t lines = orx_str_count(text, '\n') + 1;
    e->pats = calloc(lines, sizeof *e->pats);
    e->keys = calloc(lines, sizeof *e->keys);
    e->names = calloc(lines, sizeof *e->names);
    orx_status st = e->pats && e->keys && e->names ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "effect roles: out of memory");
    size_t line = 0;
    for (char *p = text, *row; !st && (row = orx_tsv_next_line(&p, &line));)
        if (row[0] && row[0] != '#') st = parse_row(e, row, path, line, err);
    free(text);
    if (st) { orx_ddi_effects_free(e); return NULL; }
    return e;
}

const char *orx_ddi_effects_name(const ddi_effects *e, const char *key) {
    if (!strncmp(key, "effect:", 7)) key += 7;
    for (size_t i = 0; e && i < e->n_names; i++)
        if (!strcmp(e->keys[i], key)) return e->names[i];
    return key;
}

/* ============================================================================================
 * Pattern matching
 * ========================================================================================== */
/* Is w a form of the verb base: base, base+s / +es, base+ing (final e dropped); "be" and
 * "have" by their forms. */
static bool verb_form(const char *w, const char *base) {
    if (!strcmp(w, base)) return true;
    if (!strcmp(base, "be")) return !strcmp(w, "is") || !strcmp(w, "are") || !strcmp(w, "being");
    if (!strcmp(base, "have")) return !strcmp(w, "has") || !strcmp(w, "having");
    size_t b = strlen(base), n = strlen(w);
    if (n == b + 1 && !strncmp(w, base, b) && w[b] == 's') return true;
    if (n == b + 2 && !strncmp(w, base, b) && !strcmp(w + b, "es")) return true;
    bool drop_e = b > 2 && base[b - 1] == 'e' && base[b - 2] != 'e';
    size_t stem = drop_e ? b - 1 : b;
    return n == stem + 3 && !strncmp(w, base, stem) && !strcmp(w + stem, "ing");
}

static bool tok_ok(const eff_tok *e, const char *w, bool inflect) {
    for (int a = 0; a < e->nalt; a++)
        if (inflect ? verb_form(w, e->alt[a]) : !strcmp(w, e->alt[a])) return true;
    return false;
}

/* Match pattern tokens [k, n) at token i; the end token (exclusive), -1 when no match. The
 * first token takes verb inflections when inflect is set. */
static int pat_at(const eff_pat *p, int k, const ddi_tok *t, int i, int nt, bool inflect) {
    if (k == p->n) return i;
    const eff_tok *e = &p->tok[k];
    if (e->star) {
        for (int s = 0; s <= EFF_STAR; s++) {
            if (s > 0 && (i + s - 1 >= nt || !t[i + s - 1].word)) break;
            int r = pat_at(p, k + 1, t, i + s, nt, false);
            if (r >= 0) return r;
        }
        return -1;
    }
    if (i < nt && tok_ok(e, t[i].low, inflect)) {
        int r = pat_at(p, k + 1, t, i + 1, nt, false);
        if (r >= 0) return r;
    }
    return e->opt ? pat_at(p, k + 1, t, i, nt, inflect) : -1;
}

/* First pattern of the kind that matches at i (verbs: also without a leading "have" / "be",
 * which a "with" or "are" before it already says); its end token, 0 when none. */
static int kind_at(const ddi_effects *E, eff_kind kind, const ddi_tok *t, int i, int nt, const char **key) {
    for (size_t k = 0; k < E->n; k++) {
        const eff_pat *p = &E->pats[k];
        if (p->kind != kind) continue;
        int r = pat_at(p, 0, t, i, nt, kind == EFF_VERB);
        if (r < 0 && kind == EFF_VERB && p->n > 1 && (tok_ok(&p->tok[0], "have", false) || tok_ok(&p->tok[0], "be", false)))
            r = pat_at(p, 1, t, i, nt, false);
        if (r > i) { *key = p->key; return r; }
    }
    return 0;
}

/* ============================================================================================
 * Effect phrases naming a category of drugs
 * ========================================================================================== */
static const char *const DRUG_NOUNS[] = {"drug", "drugs", "agent", "agents", "medication", "medications",
                                         "medicine", "medicines", "product", "products", "compound",
                                         "compounds", "substance", "substances", "therapy", "therapies",
                                         "medicinal", NULL};

/* Words between a drug noun and its verb: "drugs (that are also known to) prolong ...",
 * "agents (which may) ...", "drugs (with) anticholinergic properties", "drugs (associated
 * with) QT prolongation". */
static const char *const REL_SKIP[] = {"that", "which", "are", "is", "also", "known", "to", "may", "can",
                                       "might", "could", "potentially", "have", "has", "been", "shown",
                                       "reported", "associated", "with", "the", "likely", "possibly",
                                       "themselves", "each", "both", "be", NULL};

/* "other drugs that prolong the QT interval" (from the noun), "serotonergic drugs",
 * "QT-prolonging agents", "CNS depressants". Returns the end token (exclusive), 0 = none; key
 * receives "effect:KEY". */
int orx_ddi_effect_phrase_at(const ddi_effects *E, const ddi_tok *t, int i, int nt, char *key, size_t cap) {
    if (!E || i >= nt || !t[i].word) return 0;
    const char *k = NULL;
    int e = kind_at(E, EFF_NOUN, t, i, nt, &k);
    if (!e) {
        int a = kind_at(E, EFF_ADJ, t, i, nt, &k);
        if (a && a < nt && orx_str_in(t[a].low, DRUG_NOUNS)) e = a + 1 + (a + 1 < nt && orx_str_in(t[a + 1].low, DRUG_NOUNS));
    }
    if (!e && orx_str_in(t[i].low, DRUG_NOUNS) && strcmp(t[i].low, "medicinal")) {
        bool with = false;
        for (int j = i + 1; j < nt && j <= i + 8 && !e; j++) {
            e = kind_at(E, EFF_VERB, t, j, nt, &k);
            if (!e && with) e = kind_at(E, EFF_OUTCOME, t, j, nt, &k);
            if (e || !orx_str_in(t[j].low, REL_SKIP)) break;
            with |= !strcmp(t[j].low, "with");
        }
    }
    if (!e) return 0;
    snprintf(key, cap, "effect:%s", k);
    return e;
}

/* ============================================================================================
 * Self statements: the label's own drug with the effect
 * ========================================================================================== */
static const char *const SELF_SKIP[] = {"can", "may", "might", "could", "also", "has", "have", "been", "shown",
                                        "to", "is", "are", "known", "itself", "alone", "reportedly",
                                        "potentially", "consistently", ",", ")", "and", "snris", "ssris",
                                        "other", NULL};
static const char *const NEG[] = {"not", "no", "without", "unlikely", "none", "neither", "nor", "never",
                                  "absence", "lack", "rarely", NULL};
static const char *const STUDY[] = {"study", "studies", "trial", "trials", "volunteers", "healthy", "placebo",
                                    "msec", "ms", "overdose", "overdosage", "vitro", "animal", "animals",
                                    "rat", "rats", "mouse", "mice", "dog", "dogs", "monkey", "monkeys",
                                    "rabbit", "rabbits", "subjects", "supratherapeutic", "if", "theoretical",
                                    "theoretically", "intravenous", "intravenously", NULL};
static const char *const REPORT[] = {"reported", "observed", "occurred", "occur", "occurs", "seen",
                                     "described", "associated", NULL};

static bool any_in(const ddi_tok *t, int a, int b, const char *const *list) {
    for (int i = a < 0 ? 0 : a; i < b; i++)
        if (orx_str_in(t[i].low, list)) return true;
    return false;
}

/* A partner other than the label drug and other drugs of the same effect ("... reported with
 * tramadol, particularly during concomitant use with serotonergic drugs"): the sentence then
 * speaks of a combination, not of the drug itself. */
static bool other_partner(const ddi_mention *m, int nm, const char *key) {
    for (int j = 0; j < nm; j++) {
        const ddi_mention *x = &m[j];
        if (x->is_label || x->example_of >= 0 || x->comparison || x->describes >= 0 || x->self_class || x->self_role)
            continue;
        if (x->kind == DDI_M_ROLE && !strncmp(x->key, "effect:", 7) && !strcmp(x->key + 7, key)) continue;
        return true;
    }
    return false;
}

/* Mention j names the label drug, and one ingredient only (a combination's brand names several:
 * which one has the effect is not said). */
static bool one_subject(const ddi_mention *m, int nm, int j) {
    if (m[j].kind != DDI_M_DRUG || !m[j].is_label) return false;
    for (int k = 0; k < nm; k++)
        if (k != j && m[k].kind == DDI_M_DRUG && m[k].t0 == m[j].t0) return false;
    return true;
}

static int push_self(ddi_self *out, int n, int cap, int subject, const char *key, int t0, int t1) {
    for (int i = 0; i < n; i++)
        if (out[i].subject == subject && !strcmp(out[i].key + 7, key)) return n;
    if (n >= cap) return n;
    out[n].subject = subject;
    snprintf(out[n].key, sizeof out[n].key, "effect:%s", key);
    out[n].t0 = t0;
    out[n].t1 = t1;
    return n + 1;
}

/* "<label drug> (can / may / has been shown to) <verb>": "Citalopram causes dose-dependent QTc
 * prolongation", "SSRIs and SNRIs, including <label>, may increase the risk of bleeding". */
static int self_verbs(const ddi_effects *E, const ddi_tok *t, int nt, const ddi_mention *m, int nm,
                      ddi_self *out, int n, int cap) {
    for (int j = 0; j < nm; j++) {
        if (!one_subject(m, nm, j)) continue;
        for (int i = m[j].t1; i < nt && i <= m[j].t1 + 8; i++) {
            const char *key = NULL;
            int e = kind_at(E, EFF_VERB, t, i, nt, &key);
            if (e) {
                if (!any_in(t, m[j].t0 - 2, e, NEG) && !other_partner(m, nm, key)) n = push_self(out, n, cap, j, key, m[j].t0, e);
                break;
            }
            if (!orx_str_in(t[i].low, SELF_SKIP)) break;
        }
    }
    return n;
}

/* "<outcome> (has been) reported / observed (in patients treated) with <label drug>". */
static int self_outcomes(const ddi_effects *E, const ddi_tok *t, int nt, const ddi_mention *m, int nm,
                         ddi_self *out, int n, int cap) {
    for (int i = 0; i < nt; i++) {
        const char *key = NULL;
        int e = kind_at(E, EFF_OUTCOME, t, i, nt, &key);
        if (!e) continue;
        for (int j = 0; j < nm; j++) {
            if (!one_subject(m, nm, j) || m[j].t0 < e || m[j].t0 > e + 14) continue;
            if (!any_in(t, e, m[j].t0, REPORT) || any_in(t, i - 4, m[j].t1, NEG) || other_partner(m, nm, key)) continue;
            n = push_self(out, n, cap, j, key, i, m[j].t1);
        }
        i = e - 1;
    }
    return n;
}

/* Distinct label ingredients the sentence names: two ("oxycodone and aspirin tablets") name a
 * combination product, and which ingredient has the effect is not said. */
static int label_ingredients(const ddi_mention *m, int nm) {
    int n = 0;
    for (int j = 0; j < nm; j++) {
        if (m[j].kind != DDI_M_DRUG || !m[j].is_label) continue;
        bool seen = false;
        for (int k = 0; k < j && !seen; k++) seen = m[k].kind == DDI_M_DRUG && m[k].is_label && !strcmp(m[k].key, m[j].key);
        n += !seen;
    }
    return n;
}

int orx_ddi_effect_self(const ddi_effects *E, const ddi_tok *t, int nt, const ddi_mention *m, int nm,
                    ddi_self *out, int cap) {
    if (!E || any_in(t, 0, nt, STUDY) || label_ingredients(m, nm) > 1) return 0;
    int n = self_verbs(E, t, nt, m, nm, out, 0, cap);
    return self_outcomes(E, t, nt, m, nm, out, n, cap);
}
