/*
 * ddi_mentions.c — what a label sentence names: ingredients (through the lexicon's names,
 * brands and salts), drug classes (label wording mapped by data/interactions/class_terms.tsv, or
 * a lexicon class name written out) and enzyme/transporter roles ("strong CYP3A4 inhibitors",
 * "inhibitors of CYP3A4 and P-gp", "drugs metabolized by CYP2D6"), with the example lists that
 * follow a class or role ("(e.g., ketoconazole, clarithromycin)", "such as rifampin").
 */
#include "safety/ddi_internal.h"
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DDI_SPAN 6 /* longest name or class phrase, in words */

/* ============================================================================================
 * Class-term table
 * ========================================================================================== */
struct ddi_terms {
    char   *text;   /* the file, split in place */
    char  **keys;   /* cap slots: normalised label wording, NULL = empty */
    char  **vals;   /* "a|b" lexicon class names */
    size_t  cap;    /* power of two */
};

static const char *terms_get(const ddi_terms *t, const char *key) {
    if (!t) return NULL;
    for (size_t i = orx_fnv1a_str(key) & (t->cap - 1); t->keys[i]; i = (i + 1) & (t->cap - 1))
        if (!strcmp(t->keys[i], key)) return t->vals[i];
    return NULL;
}

void orx_ddi_terms_free(ddi_terms *t) {
    if (!t) return;
    free(t->keys);
    free(t->vals);
    free(t->text);
    free(t);
}

ddi_terms *orx_ddi_terms_load(const char *path, orx_error *err) {
    ddi_terms *t = calloc(1, sizeof *t);
    size_t len = 0;
    if (!t) { orx_fail(err, ORX_ERR_NOMEM, "class terms: out of memory"); return NULL; }
    if (orx_read_file(path, 4u << 20, &t->text, &len, err) != ORX_OK) { orx_ddi_terms_free(t); return NULL; }
    if (strncmp(t->text, "#openrx-class-terms\t", 20) != 0) {
        orx_fail(err, ORX_ERR_PARSE, "%s:1:1: not an openrx class-term table (missing header)", path);
        orx_ddi_terms_free(t);
        return NULL;
    }
    size_t lines = orx_str_count(t->text, '\n') + 1;
    t->cap = 16;
    while (t->cap < lines * 2) t->cap <<= 1;
    t->keys = calloc(t->cap, sizeof *t->keys);
    t->vals = calloc(t->cap, sizeof *t->vals);
    if (!t->keys || !t->vals) { orx_fail(err, ORX_ERR_NOMEM, "class terms: out of memory"); orx_ddi_terms_free(t); return NULL; }
    size_t line = 0;
    for (char *p = t->text, *row; (row = orx_tsv_next_line(&p, &line));) {
        if (!row[0] || row[0] == '#') continue;
        char *tab = strchr(row, '\t');
        char *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
        if (!tab || tab == row || !tab[1]) {
            orx_fail(err, ORX_ERR_PARSE, "%s:%zu:1: expected 'term<TAB>classes[<TAB>note]'", path, line);
            orx_ddi_terms_free(t);
            return NULL;
        }
        *tab = 0;
        if (tab2) *tab2 = 0;
        size_t i = orx_fnv1a_str(row) & (t->cap - 1);
        while (t->keys[i] && strcmp(t->keys[i], row)) i = (i + 1) & (t->cap - 1);
        t->keys[i] = row;
        t->vals[i] = tab + 1;
    }
    return t;
}

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */
static bool tok_is(const ddi_tok *t, int i, int nt, const char *w) { return i >= 0 && i < nt && !strcmp(t[i].low, w); }

static const char *const SPAN_STOP[] = {"the", "a", "an", "of", "and", "or", "with", "in", "to",
                                        "for", "by", "on", "as", "at", "is", "are", "be", "not",
                                        "no", "other", "all", "any", "some", "these", "such", NULL};
static bool span_stop(const char *w) { return orx_str_in(w, SPAN_STOP); }

/* Words that name no drug partner in label text even where the lexicon knows them: body
 * substances and laboratory analytes, organs, foods (the lexicon carries allergenic extracts). */
static const char *const NOT_DRUGS[] = {
    "placebo", "food", "foods", "water", "oxygen", "sodium", "metabolite", "metabolites", "drug",
    "drugs", "agent", "agents", "air", "salt", "protein", "sugar", "liver", "creatinine",
    "prothrombin", "nitrogen", "urea", "uric acid", "thyroid", "lactate", "dextrose", "collagen",
    "creatine", "grapefruit", "serotonin", "dopamine", "norepinephrine", "histamine",
    "acetylcholine", "cholesterol", "glucose", "albumin", "aldosterone", "insulin resistance",
    "bilirubin", "hemoglobin", "platelet", "platelets", "plasma", "blood", "renin", "angiotensin",
    "angiotensin ii", "bradykinin", "prostaglandin", "prostaglandins", "tyramine", "hormone",
    "hormones", "enzyme", "enzymes", "thyroxine", "triiodothyronine", "alkaline phosphatase",
    "transaminase", "transaminases", "lactate dehydrogenase", "creatine kinase", "creatine phosphokinase", NULL};
static bool not_drug(const char *span) { return orx_str_in(span, NOT_DRUGS); }

/* An electrolyte named as a laboratory value ("serum potassium", "potassium levels"). */
static bool lab_value(const ddi_tok *t, int nt, int a, int b) {
    static const char *const EL[] = {"potassium", "calcium", "magnesium", "phosphate", "phosphorus",
                                     "chloride", "bicarbonate", NULL};
    bool el = false;
    for (int k = 0; EL[k] && b == a + 1; k++) el |= !strcmp(t[a].low, EL[k]);
    if (!el) return false;
    /* the body's electrolyte, not a product: "serum potassium", "monitor potassium", "total body
     * potassium", "potassium levels / loss / excretion", "potassium sparing diuretics" */
    static const char *const BEFORE[] = {"serum", "plasma", "blood", "urine", "urinary", "body", "monitor",
                                         "monitoring", "increase", "increases", "increased", "elevated",
                                         "dietary", NULL};
    static const char *const AFTER[] = {"level", "concentration", "sparing", "loss", "excretion", "retention",
                                        "depleting", "depletion", "rich", "content", "removal", "value",
                                        "homeostasis", "balance", "wasting", NULL};
    if (a > 0 && orx_str_in(t[a - 1].low, BEFORE)) return true;
    int n = b;
    if (n + 1 < nt && !strcmp(t[n].low, "-")) n++; /* "potassium-sparing" split at the hyphen */
    if (n < nt && (t[n].low[0] == '>' || t[n].low[0] == '<' || !strncmp(t[n].low, "\xe2\x89", 3) ||
                   (t[n].low[0] >= '0' && t[n].low[0] <= '9')))
        return true; /* "potassium >5 mEq/L", "potassium ≥ 5.5" */
    for (int k = 0; n < nt && AFTER[k]; k++)
        if (!strncmp(t[n].low, AFTER[k], strlen(AFTER[k]))) return true;
    return false;
}

/* "w1 w2 ..." of word tokens [a, b) (false if a punctuation token is inside). */
static bool span_text(const ddi_tok *t, int a, int b, char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (int i = a; i < b; i++) {
        if (!t[i].word) return false;
        int k = snprintf(out + o, cap - o, "%s%s", i > a ? " " : "", t[i].low);
        if (k < 0 || (size_t)k >= cap - o) return false;
        o += (size_t)k;
    }
    return o > 0;
}

static void singular(const char *in, char *out, size_t cap) {
    snprintf(out, cap, "%s", in);
    size_t n = strlen(out);
    if (n > 3 && out[n - 1] == 's' && out[n - 2] != 's') out[n - 1] = 0;
}

static int push(ddi_mention *out, int n, int cap, ddi_mkind kind, int t0, int t1, const char *key,
                const char *s, const ddi_tok *t) {
    if (n >= cap) return n;
    ddi_mention *m = &out[n];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->t0 = t0;
    m->t1 = t1;
    m->example_of = -1;
    m->describes = -1;
    m->ex0 = m->ex1 = -1;
    snprintf(m->key, sizeof m->key, "%s", key);
    snprintf(m->text, sizeof m->text, "%.*s", (int)(t[t1 - 1].e - t[t0].s), s + t[t0].s);
    return n + 1;
}

/* ============================================================================================
 * Drugs and classes
 * ========================================================================================== */
/* A class named by the span: class-term table, else a lexicon class name of a kind that may be
 * named directly (FDA EPC / chemical structure, ONC list class). Writes "class:a|b". */
static bool class_at(const ddi_ctx *c, const char *span, char *key, size_t cap) {
    if (not_drug(span)) return false;
    char sg[DDI_KEY];
    singular(span, sg, sizeof sg);
    const char *v = terms_get(c->terms, sg);
    if (!v) v = terms_get(c->terms, span);
    if (v) {
        snprintf(key, cap, "class:%s", v);
        return true;
    }
    unsigned kinds = orx_lexicon_class_kinds(c->lex, span);
    if (kinds & (ORX_CLASS_EPC | ORX_CLASS_CS | ORX_CLASS_ONC)) {
        snprintf(key, cap, "class:%s", sg);
        return true;
    }
    return false;
}

/* ============================================================================================
 * The medicine test: an ingredient names a partner drug only when it is a medicine — a sourced
 * class lists it (DrugCentral FDA classes, ONC lists) or RxNorm has a clinical drug of it alone.
 * This keeps allergenic extracts, pesticides and chemicals that share a word with label text
 * ("Balance", "Program", "date") out. Memoised per ingredient.
 * ========================================================================================== */
struct ddi_drug_cache {
    char  **keys;  /* cap slots, NULL = empty */
    bool   *vals;  /* medicine or not */
    size_t  cap;   /* power of two */
    size_t  n;     /* used */
};

ddi_drug_cache *orx_ddi_drug_cache_create(void) {
    ddi_drug_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cap = 8192;
    c->keys = calloc(c->cap, sizeof *c->keys);
    c->vals = calloc(c->cap, sizeof *c->vals);
    if (!c->keys || !c->vals) { orx_ddi_drug_cache_free(c); return NULL; }
    return c;
}

void orx_ddi_drug_cache_free(ddi_drug_cache *c) {
    if (!c) return;
    for (size_t i = 0; c->keys && i < c->cap; i++) free(c->keys[i]);
    free(c->keys);
    free(c->vals);
    free(c);
}

static bool is_medicine(const ddi_ctx *c, const char *ingr) {
    ddi_drug_cache *k = c->cache;
    size_t i = k ? orx_fnv1a_str(ingr) & (k->cap - 1) : 0;
    for (; k && k->keys[i]; i = (i + 1) & (k->cap - 1))
        if (!strcmp(k->keys[i], ingr)) return k->vals[i];
    bool med = orx_lexicon_classes(c->lex, ingr, NULL, 0) > 0 ||
               orx_lexicon_clinical_drugs(c->lex, ingr, NULL, 0) > 0;
    if (k && k->n * 2 < k->cap && (k->keys[i] = strdup(ingr))) {
        k->vals[i] = med;
        k->n++;
    }
    return med;
}

/* Ingredients named by the span: exact lexicon names only; a brand must be capitalised in the
 * text (a one-word brand at the start of a sentence only in capitals), a one-word synonym needs
 * 5+ characters, and the ingredient must be a medicine (above). */
static int drug_at(const ddi_ctx *c, const char *span, const ddi_tok *first, bool at_start,
                   orx_lex_match *m, int cap) {
    if (not_drug(span)) return 0;
    int n = orx_lexicon_lookup_exact(c->lex, span, m, cap);
    if (n > cap) n = cap;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(m[i].matched_by, "brand") &&
            (!first->upper || (at_start && !strchr(span, ' ') && !first->allcaps)))
            continue;
        if (!strcmp(m[i].matched_by, "synonym") && !strchr(span, ' ') && strlen(span) < 5) continue;
        if (!is_medicine(c, m[i].ingredient)) continue;
        m[k++] = m[i];
    }
    return k;
}

static bool is_label_ingr(const ddi_ctx *c, const char *ingr) {
    for (int i = 0; i < c->n_label; i++)
        if (!strcmp(c->label[i], ingr)) return true;
    return false;
}

/* Longest-first scan of names and classes over tokens not already covered (taken[i]). */
static int scan_names(const ddi_ctx *c, const char *s, const ddi_tok *t, int nt, const bool *taken,
                      ddi_mention *out, int n, int cap) {
    for (int i = 0; i < nt;) {
        int adv = 1;
        for (int j = (i + DDI_SPAN < nt ? i + DDI_SPAN : nt); j > i && !taken[i]; j--) {
            bool blocked = false;
            for (int k = i; k < j; k++) blocked |= taken[k];
            char span[DDI_KEY], key[DDI_KEY];
            if (blocked || span_stop(t[i].low) || span_stop(t[j - 1].low) ||
                !span_text(t, i, j, span, sizeof span) || strlen(t[i].low) < 2)
                continue;
            orx_lex_match m[ORX_MAX_INGR];
            int nm = strlen(t[i].low) < 3 + (j == i + 1) || lab_value(t, nt, i, j)
                         ? 0
                         : drug_at(c, span, &t[i], i == 0 || (i == 1 && !t[0].word), m, ORX_MAX_INGR);
            bool exact_name = nm > 0 && !strcmp(m[0].matched_by, "name");
            if (!exact_name && class_at(c, span, key, sizeof key)) {
                n = push(out, n, cap, DDI_M_CLASS, i, j, key, s, t);
                adv = j - i;
                break;
            }
            if (nm > 0) {
                /* a product name whose ingredients include the label's drug ("STRIBILD" in the
                 * elvitegravir label): every component is the label's own product, no partner */
                bool own_product = false;
                for (int k = 0; k < nm; k++) own_product |= is_label_ingr(c, m[k].ingredient);
                for (int k = 0; k < nm; k++) {
                    n = push(out, n, cap, DDI_M_DRUG, i, j, m[k].ingredient, s, t);
                    if (n > 0) out[n - 1].is_label = own_product;
                }
                adv = j - i;
                break;
            }
        }
        i += adv;
    }
    /* "ledipasvir/sofosbuvir" in a sofosbuvir label: a drug written with '/' next to the label's
     * drug is a component of a combination product with it, no partner */
    for (int a = 0; a < n; a++) {
        if (out[a].kind != DDI_M_DRUG || out[a].is_label) continue;
        for (int b = 0; b < n; b++) {
            if (b == a || out[b].kind != DDI_M_DRUG || !is_label_ingr(c, out[b].key)) continue;
            bool slash_after = out[a].t1 + 1 == out[b].t0 && out[a].t1 < nt && !strcmp(t[out[a].t1].low, "/");
            bool slash_before = out[b].t1 + 1 == out[a].t0 && out[b].t1 < nt && !strcmp(t[out[b].t1].low, "/");
            if (slash_after || slash_before) { out[a].is_label = true; break; }
        }
    }
    return n;
}

/* ============================================================================================
 * Roles: enzymes and transporters
 * ========================================================================================== */
/* A CYP isoform code as written after "CYP" ("3a4", "2c19", "2d6"); normalised into code. */
static bool cyp_code(const char *w, char *code, size_t cap) {
    if (!isdigit((unsigned char)w[0]) || !isalpha((unsigned char)w[1])) return false;
    for (const char *p = w + 2; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    if (!strcmp(w, "3a") || !strcmp(w, "3a4") || !strcmp(w, "3a5")) snprintf(code, cap, "cyp3a4");
    else snprintf(code, cap, "cyp%s", w);
    return true;
}

static const struct { const char *w; const char *code; } TRANSPORTERS[] = {
    {"p-gp", "pgp"}, {"pgp", "pgp"}, {"p-glycoprotein", "pgp"}, {"abcb1", "pgp"},
    {"bcrp", "bcrp"}, {"abcg2", "bcrp"}, {"oatp1b1", "oatp1b1"}, {"oatp1b3", "oatp1b3"},
    {"oat1", "oat1"}, {"oat3", "oat3"}, {"oct2", "oct2"}, {"mate1", "mate1"}, {"ugt1a1", "ugt1a1"},
    {NULL, NULL}};

/* Enzyme or transporter at token i: returns tokens consumed (0 = none). bare: a bare isoform
 * code ("1A2") is accepted (inside a list that began with "CYP"). */
static int enzyme_at(const ddi_tok *t, int i, int nt, bool bare, char *code, size_t cap) {
    if (i >= nt || !t[i].word) return 0;
    const char *w = t[i].low;
    for (int k = 0; TRANSPORTERS[k].w; k++)
        if (!strcmp(w, TRANSPORTERS[k].w)) { snprintf(code, cap, "%s", TRANSPORTERS[k].code); return 1; }
    if (!strncmp(w, "cyp", 3) && w[3] && cyp_code(w + 3, code, cap)) {
        if (tok_is(t, i + 1, nt, "/") && i + 2 < nt && isdigit((unsigned char)t[i + 2].low[0]) &&
            strlen(t[i + 2].low) <= 2)
            return 3; /* "CYP3A4/5" */
        return 1;
    }
    if ((!strcmp(w, "cyp") || !strcmp(w, "cyp450")) && i + 1 < nt && cyp_code(t[i + 1].low, code, cap)) return 2;
    if (!strcmp(w, "cytochrome") && i + 2 < nt && (!strcmp(t[i + 1].low, "p450") || !strcmp(t[i + 1].low, "p-450")) &&
        cyp_code(t[i + 2].low, code, cap))
        return 3;
    if (bare && cyp_code(w, code, cap)) return 1;
    return 0;
}

static int grade_of(const char *w) { /* 1 strong, 2 moderate, 3 weak, 0 none */
    if (!strcmp(w, "strong") || !strcmp(w, "potent") || !strcmp(w, "strongly") || !strcmp(w, "potently")) return 1;
    if (!strcmp(w, "moderate") || !strcmp(w, "moderately")) return 2;
    if (!strcmp(w, "weak") || !strcmp(w, "mild") || !strcmp(w, "weakly")) return 3;
    return 0;
}
static const char *const GRADE_NAME[] = {"", "strong", "moderate", "weak"};

static int noun_of(const char *w) { /* 1 inhibitor, 2 inducer, 3 substrate */
    if (!strcmp(w, "inhibitor") || !strcmp(w, "inhibitors")) return 1;
    if (!strcmp(w, "inducer") || !strcmp(w, "inducers")) return 2;
    if (!strcmp(w, "substrate") || !strcmp(w, "substrates")) return 3;
    return 0;
}
static const char *const NOUN_NAME[] = {"", "inhibitor", "inducer", "substrate"};

static const char *const ROLE_FILLER[] = {"and", "or", ",", "/", "(", ")", "dual", "combined", "both",
                                          "the", "cyp450", "enzyme", "enzymes", "isoenzyme",
                                          "isoenzymes", "isozyme", "isozymes", "pathway", "pathways",
                                          "transporter", "transporters", "system", "cytochrome",
                                          "p450", "p-450", "moderate-to-strong", "-", NULL};
static bool role_filler(const char *w) {
    return grade_of(w) || orx_str_in(w, ROLE_FILLER);
}

typedef struct role_parts {
    char enz[8][12];   /* enzymes / transporters found */
    int  n_enz;        /* count */
    bool grade[4];     /* grades named (index 1..3) */
    bool any_or;       /* "or", "and/or" between items: alternatives */
    bool any_and;      /* "and", "dual", "combined", "both": all at once */
} role_parts;

/* Parse tokens [a, b) as an enzyme list with grades and connectors. */
static void parse_enzymes(const ddi_tok *t, int a, int b, role_parts *p) {
    bool cyp_seen = false;
    for (int i = a; i < b;) {
        char code[16];
        int k = enzyme_at(t, i, b, cyp_seen, code, sizeof code);
        if (k) {
            cyp_seen |= !strncmp(code, "cyp", 3);
            bool dup = false;
            for (int j = 0; j < p->n_enz; j++) dup |= !strcmp(p->enz[j], code);
            if (!dup && p->n_enz < 8) snprintf(p->enz[p->n_enz++], sizeof p->enz[0], "%s", code);
            i += k;
            continue;
        }
        const char *w = t[i].low;
        if (grade_of(w)) p->grade[grade_of(w)] = true;
        if (!strcmp(w, "moderate-to-strong")) p->grade[1] = p->grade[2] = true;
        if (!strcmp(w, "or")) p->any_or = true;
        if (!strcmp(w, "and") && !tok_is(t, i + 1, b, "/")) p->any_and = true;
        if (!strcmp(w, "dual") || !strcmp(w, "combined") || !strcmp(w, "both")) p->any_and = true;
        i++;
    }
}

/* Role keys for the parts and a noun: one key per alternative, components "+"-joined (sorted).
 * Grades apply to CYP enzymes only. Returns the number of keys. */
static int role_keys(const role_parts *p, int noun, char keys[][DDI_KEY], int cap) {
    int n = 0;
    int grades[4], ng = 0;
    for (int g = 1; g <= 3; g++)
        if (p->grade[g]) grades[ng++] = g;
    if (ng == 0) grades[ng++] = 0;
    bool conj = p->any_and && !p->any_or;
    for (int gi = 0; gi < ng; gi++) {
        char comp[8][48];
        for (int e = 0; e < p->n_enz; e++) {
            bool cyp = !strncmp(p->enz[e], "cyp", 3);
            int g = cyp && noun != 3 ? grades[gi] : 0;
            snprintf(comp[e], sizeof comp[e], "%s:%s%s%s", p->enz[e], NOUN_NAME[noun], g ? ":" : "",
                     GRADE_NAME[g]);
        }
        if (conj) {
            qsort(comp, (size_t)p->n_enz, sizeof comp[0], (int (*)(const void *, const void *))strcmp);
            if (n < cap) {
                size_t o = (size_t)snprintf(keys[n], DDI_KEY, "role:");
                for (int e = 0; e < p->n_enz && o < DDI_KEY; e++)
                    o += (size_t)snprintf(keys[n] + o, DDI_KEY - o, "%s%s", e ? "+" : "", comp[e]);
                n++;
            }
        } else {
            for (int e = 0; e < p->n_enz && n < cap; e++) {
                bool dup = false;
                char k[DDI_KEY];
                snprintf(k, sizeof k, "role:%s", comp[e]);
                for (int j = 0; j < n; j++) dup |= !strcmp(keys[j], k);
                if (!dup) snprintf(keys[n++], DDI_KEY, "%s", k);
            }
        }
    }
    return n;
}

/* Role phrase around a noun at token r: backward list ("strong CYP3A4 inhibitors") and/or
 * forward list ("inhibitors of CYP3A4 and P-gp"); "inhibitors or inducers of" shares the list.
 * Returns mentions added; marks covered tokens. */
static int role_at(const char *s, const ddi_tok *t, int nt, int r, bool *taken, ddi_mention *out,
                   int n, int cap, int *next) {
    int nouns[2] = {noun_of(t[r].low), 0}, end = r + 1;
    if ((tok_is(t, r + 1, nt, "or") || tok_is(t, r + 1, nt, "and")) && r + 2 < nt && noun_of(t[r + 2].low)) {
        nouns[1] = noun_of(t[r + 2].low);
        end = r + 3;
    }
    int a = r;
    while (a > 0 && t[a - 1].low[0] && (role_filler(t[a - 1].low) || enzyme_at(t, a - 1, nt, true, (char[16]){0}, 16)))
        a--;
    while (a < r && (!strcmp(t[a].low, "and") || !strcmp(t[a].low, "or") || !strcmp(t[a].low, ",") ||
                     !strcmp(t[a].low, "(") || !strcmp(t[a].low, ")") || !strcmp(t[a].low, "the")))
        a++;
    role_parts p = {0};
    parse_enzymes(t, a, r, &p);
    int b = end;
    if (tok_is(t, end, nt, "of")) {
        b = end + 1;
        while (b < nt && (role_filler(t[b].low) || enzyme_at(t, b, nt, true, (char[16]){0}, 16))) b++;
        while (b > end + 1 && (!strcmp(t[b - 1].low, "and") || !strcmp(t[b - 1].low, "or") ||
                               !strcmp(t[b - 1].low, ",") || !strcmp(t[b - 1].low, "(")))
            b--;
        role_parts q = {0};
        parse_enzymes(t, end + 1, b, &q);
        for (int e = 0; e < q.n_enz && p.n_enz < 8; e++) snprintf(p.enz[p.n_enz++], sizeof p.enz[0], "%s", q.enz[e]);
        for (int g = 1; g <= 3; g++) p.grade[g] |= q.grade[g];
        p.any_or |= q.any_or;
        p.any_and |= q.any_and;
    }
    *next = b > end ? b : end;
    if (p.n_enz == 0) return n;
    for (int k = 0; k < 2 && nouns[k]; k++) {
        char keys[DDI_MAX_ROLES][DDI_KEY];
        int nk = role_keys(&p, nouns[k], keys, DDI_MAX_ROLES);
        for (int i = 0; i < nk; i++) n = push(out, n, cap, DDI_M_ROLE, a, *next, keys[i], s, t);
    }
    for (int i = a; i < *next; i++) taken[i] = true;
    return n;
}

/* "metabolized by CYP3A4 and CYP2D6" / "metabolised via CYP2C9": substrate roles. */
static int metabolized_at(const char *s, const ddi_tok *t, int nt, int i, bool *taken,
                          ddi_mention *out, int n, int cap) {
    if (!(tok_is(t, i, nt, "metabolized") || tok_is(t, i, nt, "metabolised")) ||
        !(tok_is(t, i + 1, nt, "by") || tok_is(t, i + 1, nt, "via")))
        return n;
    int b = i + 2;
    while (b < nt && (role_filler(t[b].low) || enzyme_at(t, b, nt, true, (char[16]){0}, 16))) b++;
    role_parts p = {0};
    parse_enzymes(t, i + 2, b, &p);
    if (p.n_enz == 0) return n;
    memset(p.grade, 0, sizeof p.grade);
    char keys[DDI_MAX_ROLES][DDI_KEY];
    int nk = role_keys(&p, 3, keys, DDI_MAX_ROLES);
    for (int k = 0; k < nk; k++) n = push(out, n, cap, DDI_M_ROLE, i, b, keys[k], s, t);
    for (int k = i; k < b; k++) taken[k] = true;
    return n;
}

/* "drugs that inhibit CYP3A4", "known to induce or inhibit P-gp", "<label> inhibits CYP2D6":
 * inhibitor / inducer roles from verbs. Not after "not" ("does not inhibit"). */
static int verb_role_at(const char *s, const ddi_tok *t, int nt, int i, bool *taken,
                        ddi_mention *out, int n, int cap) {
    static const char *const INH[] = {"inhibit", "inhibits", "inhibiting", NULL};
    static const char *const IND[] = {"induce", "induces", "inducing", NULL};
    int nouns[2] = {0, 0}, k = i;
    for (int pass = 0; pass < 2 && k < nt; pass++) {
        int v = 0;
        for (int q = 0; INH[q]; q++) v = !strcmp(t[k].low, INH[q]) ? 1 : v;
        for (int q = 0; IND[q]; q++) v = !strcmp(t[k].low, IND[q]) ? 2 : v;
        if (!v) break;
        nouns[pass] = v;
        k++;
        if (pass == 0 && k + 1 < nt && (!strcmp(t[k].low, "or") || !strcmp(t[k].low, "/") ||
                                        !strcmp(t[k].low, "and")))
            k++;
        else
            break;
    }
    if (!nouns[0] || (i > 0 && (!strcmp(t[i - 1].low, "not") || !strcmp(t[i - 1].low, "no")))) return n;
    if (!enzyme_at(t, k, nt, false, (char[16]){0}, 16) && !tok_is(t, k, nt, "the") &&
        !tok_is(t, k, nt, "both") && !tok_is(t, k, nt, "cytochrome"))
        return n;
    int b = k;
    while (b < nt && (role_filler(t[b].low) || enzyme_at(t, b, nt, true, (char[16]){0}, 16))) b++;
    while (b > k && (!strcmp(t[b - 1].low, "and") || !strcmp(t[b - 1].low, "or") || !strcmp(t[b - 1].low, ",") ||
                     !strcmp(t[b - 1].low, "(")))
        b--;
    role_parts p = {0};
    parse_enzymes(t, k, b, &p);
    if (p.n_enz == 0) return n;
    int a = i;
    if (a > 0 && grade_of(t[a - 1].low)) { p.grade[grade_of(t[a - 1].low)] = true; a--; }
    for (int q = 0; q < 2 && nouns[q]; q++) {
        char keys[DDI_MAX_ROLES][DDI_KEY];
        int nk = role_keys(&p, nouns[q], keys, DDI_MAX_ROLES);
        for (int r = 0; r < nk; r++) n = push(out, n, cap, DDI_M_ROLE, a, b, keys[r], s, t);
    }
    for (int q = a; q < b; q++) taken[q] = true;
    return n;
}

/* ============================================================================================
 * Effect phrases
 * ========================================================================================== */
/* "other drugs that prolong the QT interval", "serotonergic drugs", "CNS depressants" at token i
 * (see ddi_effects.c): one role mention "effect:KEY". */
static int effect_at(const ddi_ctx *c, const char *s, const ddi_tok *t, int nt, int i, bool *taken,
                     ddi_mention *out, int n, int cap) {
    char key[DDI_KEY];
    int e = c->effects ? orx_ddi_effect_phrase_at(c->effects, t, i, nt, key, sizeof key) : 0;
    if (e <= i) return n;
    for (int k = i; k < e; k++)
        if (taken[k]) return n;
    n = push(out, n, cap, DDI_M_ROLE, i, e, key, s, t);
    for (int k = i; k < e; k++) taken[k] = true;
    return n;
}

/* ============================================================================================
 * Example lists, comparisons, self statements
 * ========================================================================================== */
/* Tokens of an example marker at i ("e.g.", "eg", "such as", "including", "for example",
 * "i.e."); 0 when none. */
static int marker_at(const ddi_tok *t, int i, int nt) {
    if (tok_is(t, i, nt, "e") && tok_is(t, i + 1, nt, ".") && tok_is(t, i + 2, nt, "g"))
        return tok_is(t, i + 3, nt, ".") ? 4 : 3;
    if (tok_is(t, i, nt, "i") && tok_is(t, i + 1, nt, ".") && tok_is(t, i + 2, nt, "e"))
        return tok_is(t, i + 3, nt, ".") ? 4 : 3;
    if (tok_is(t, i, nt, "eg") || tok_is(t, i, nt, "including")) return 1;
    if (tok_is(t, i, nt, "such") && tok_is(t, i + 1, nt, "as")) return 2;
    if (tok_is(t, i, nt, "for") && tok_is(t, i + 1, nt, "example")) return 2;
    return 0;
}

static const char *const LIST_END[] = {"because", "since", "which", "that", "may", "can", "will",
                                       "should", "increase", "increases", "increased", "decrease",
                                       "decreases", "decreased", "is", "are", "was", "were", "has",
                                       "have", "due", "resulted", "results", "reduce", "reduces",
                                       "when", "if", "in", "to", NULL};
static bool list_end(const char *w) { return orx_str_in(w, LIST_END); }

/* The first token of a list opened at token i: by "(" or "[" (*paren) or a comma, then a marker
 * ("such as", "e.g.") and a comma; -1 when neither a bracket nor a marker opens one. */
static int list_start(const ddi_tok *t, int nt, int i, bool *paren) {
    *paren = false;
    if (tok_is(t, i, nt, "(") || tok_is(t, i, nt, "[")) { *paren = true; i++; }
    else if (tok_is(t, i, nt, ",")) i++;
    int k = marker_at(t, i, nt);
    if (!k && !*paren) return -1;
    i += k;
    return tok_is(t, i, nt, ",") ? i + 1 : i;
}

/* Token range [*a, *b) of the example list after mention m (ending at token e), or false. */
static bool example_range(const ddi_tok *t, int nt, int e, int *a, int *b) {
    bool paren;
    int i = list_start(t, nt, tok_is(t, e, nt, ")") ? e + 1 : e, &paren); /* "(CYP3A4) inhibitors" */
    if (i < 0) return false;
    *a = i;
    int depth = 0;
    for (; i < nt; i++) {
        if (paren && (t[i].low[0] == ')' || t[i].low[0] == ']') && depth == 0) break;
        if (t[i].low[0] == '(') depth++;
        if (t[i].low[0] == ')' && depth > 0) depth--;
        if (!paren && (t[i].low[0] == ';' || t[i].low[0] == ')' || (t[i].low[0] == '.' && !t[i].word) ||
                       list_end(t[i].low)))
            break;
        if (t[i].low[0] == ';' || (paren && list_end(t[i].low) && depth == 0)) break;
    }
    *b = i;
    return *b > *a;
}

/* The example list of an effect phrase, with its nested lists ("drugs that prolong the QT
 * interval, including Class 1A antiarrhythmics (e.g., quinidine, procainamide), antipsychotic
 * medications (e.g., ziprasidone) ..."): [*a, *b), or false. */
static bool effect_range(const ddi_tok *t, int nt, int e, int *a, int *b) {
    bool paren;
    int i = list_start(t, nt, e, &paren);
    if (i < 0) return false;
    *a = i;
    int depth = 0;
    for (; i < nt; i++) {
        char c = t[i].low[0];
        if (c == '(' || c == '[') { depth++; continue; }
        if (c == ')' || c == ']') {
            if (depth == 0) break;
            depth--;
            continue;
        }
        if (depth > 0) continue;
        if (c == ';' || (c == '.' && !t[i].word) || list_end(t[i].low)) break;
    }
    *b = i;
    return *b > *a;
}

/* Classes and drugs in an effect phrase's example list are its examples, not partners of their
 * own (the membership rows name them: ddi_extract.c). */
static bool label_in_class(const ddi_ctx *c, const char *key) {
    if (strncmp(key, "class:", 6)) return false;
    char names[DDI_KEY];
    snprintf(names, sizeof names, "%s", key + 6);
    names[strcspn(names, "&")] = 0;
    for (char *p = names, *bar; p; p = bar) {
        bar = strchr(p, '|');
        if (bar) *bar++ = 0;
        for (int l = 0; l < c->n_label; l++)
            if (orx_lexicon_class_types(c->lex, c->label[l], p) & (ORX_CLASS_EPC | ORX_CLASS_ONC | ORX_CLASS_CS)) return true;
    }
    return false;
}

static void mark_effect_examples(const ddi_ctx *c, const ddi_tok *t, int nt, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_ROLE || strncmp(m[i].key, "effect:", 7)) continue;
        int a, b;
        if (!effect_range(t, nt, m[i].t1, &a, &b)) continue;
        m[i].ex0 = a;
        m[i].ex1 = b;
        bool own = false; /* the category includes the label drug ("Drugs which lower the seizure
                             threshold, including phenothiazine derivatives" in a phenothiazine label) */
        for (int j = 0; j < n; j++) {
            if (j == i || m[j].t0 < a || m[j].t1 > b) continue;
            own |= m[j].is_label || (m[j].kind == DDI_M_CLASS && label_in_class(c, m[j].key));
            if (m[j].is_label) continue;
            if (m[j].kind == DDI_M_CLASS || m[j].example_of < 0) m[j].example_of = i;
        }
        int k = m[i].t0 - 1;
        bool other = k >= 0 && (!strcmp(t[k].low, "other") || !strcmp(t[k].low, "another") || !strcmp(t[k].low, "additional"));
        bool partner_elsewhere = false;
        for (int j = 0; j < n; j++)
            partner_elsewhere |= j != i && (m[j].t0 < a || m[j].t0 >= b) && (m[j].t1 <= m[i].t0 || m[j].t0 >= m[i].t1) &&
                                 !m[j].is_label && !m[j].comparison && m[j].example_of < 0;
        /* then the category is the subject of the sentence and the other drug its partner */
        if (own && !other && partner_elsewhere) m[i].self_class = true;
    }
    /* "... the use of drugs that prolong the QTc interval, including ... (3) concomitant use of
     * other drugs that prolong the QTc interval": the first names the category the label drug is
     * in, the one with "other" its partners */
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_ROLE || strncmp(m[i].key, "effect:", 7)) continue;
        if (m[i].t0 > 0 && (!strcmp(t[m[i].t0 - 1].low, "other") || !strcmp(t[m[i].t0 - 1].low, "another"))) continue;
        for (int j = 0; j < n; j++)
            if (j != i && !strcmp(m[j].key, m[i].key) && m[j].t0 > 0 &&
                (!strcmp(t[m[j].t0 - 1].low, "other") || !strcmp(t[m[j].t0 - 1].low, "another")))
                m[i].comparison = true;
    }
}

static void mark_examples(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        if (m[i].kind == DDI_M_DRUG || m[i].example_of >= 0) continue;
        int a, b;
        if (!example_range(t, nt, m[i].t1, &a, &b)) continue;
        for (int j = 0; j < n; j++)
            if (j != i && m[j].kind == DDI_M_DRUG && m[j].t0 >= a && m[j].t1 <= b && !m[j].is_label)
                m[j].example_of = i;
    }
}

/* A class word used as an adjective ("anticoagulant effects", "antiplatelet activity") names no
 * class of drugs. */
static void mark_adjectival(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    static const char *const NOUNS[] = {"effect", "effects", "properties", "property", "activity",
                                        "activities", "action", "actions", "response", "responses",
                                        "potency", "sensitivity", "efficacy", "benefit", "dose",
                                        "doses", "level", "levels", "class", NULL};
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_CLASS || m[i].t1 >= nt) continue;
        if (orx_str_in(t[m[i].t1].low, NOUNS)) m[i].comparison = true;
    }
}

/* The label drug's own class, not a partner: a class that lists a label ingredient, not
 * introduced by "other" / "another" / "additional", in a sentence that does not name the label
 * drug ("Concomitant use of benzodiazepines and opioids ..." in a benzodiazepine label; but
 * "Class III antiarrhythmic agents should be withheld before dosing with <label>" is a partner);
 * or a class whose example list names the label drug ("ARBs, including <label>, ..."). Such a
 * sentence states a class-level interaction: its rules are lifted to the class (ddi_extract.c). */
/* An imperative sentence ("Do not use ...", "Avoid ...", "Monitor ..."): its subject is the
 * label drug itself, so a class it names is a partner. */
static bool imperative(const ddi_tok *t, int nt) {
    static const char *const V[] = {"do", "avoid", "use", "monitor", "consider", "reduce", "exercise",
                                    "observe", "administer", "give", "limit", "discontinue", "don't",
                                    "concomitant", "coadministration", "co-administration", NULL};
    int i = 0;
    while (i < nt && !t[i].word) i++;
    for (int k = 0; i < nt && V[k]; k++)
        if (!strcmp(t[i].low, V[k])) return k < 13; /* "concomitant use of X ..." is not imperative */
    return false;
}

/* In a comma list with other mentions ("antiarrhythmics, some phenothiazines, tricyclic ..."). */
static bool in_comma_list(const ddi_tok *t, int nt, const ddi_mention *m) {
    int a = m->t0 - 1;
    while (a >= 0 && (!strcmp(t[a].low, "some") || !strcmp(t[a].low, "many") || !strcmp(t[a].low, "certain")))
        a--;
    return (a >= 0 && !strcmp(t[a].low, ",")) || (m->t1 < nt && !strcmp(t[m->t1].low, ","));
}

/* Inside an example list ("such as A, B and <class>", "(e.g., ... <class>)"): a partner. */
static bool in_example_list(const ddi_tok *t, int nt, const ddi_mention *m) {
    for (int k = m->t0 - 1; k >= 0 && k >= m->t0 - 48; k--) {
        if (!strcmp(t[k].low, ")") || !strcmp(t[k].low, ";") || !strcmp(t[k].low, ":")) return false;
        if (marker_at(t, k, nt)) return true;
    }
    return false;
}

static void mark_self_class(const ddi_ctx *c, const ddi_tok *t, int nt, ddi_mention *m, int n) {
    bool label_named = false;
    for (int j = 0; j < n; j++) label_named |= m[j].is_label;
    bool imper = imperative(t, nt);
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_CLASS || m[i].example_of >= 0) continue;
        int k = m[i].t0 - 1;
        bool other = k >= 0 && (!strcmp(t[k].low, "other") || !strcmp(t[k].low, "another") ||
                                !strcmp(t[k].low, "additional"));
        bool member = false;
        char names[DDI_KEY];
        snprintf(names, sizeof names, "%s", m[i].key + 6);
        for (char *p = names, *bar; p && !member; p = bar) {
            bar = strchr(p, '|');
            if (bar) *bar++ = 0;
            /* the label drug's own therapeutic or chemical class (not a broad MeSH umbrella) */
            for (int l = 0; l < c->n_label && !member; l++)
                member = (orx_lexicon_class_types(c->lex, c->label[l], p) & (ORX_CLASS_EPC | ORX_CLASS_ONC | ORX_CLASS_CS)) != 0;
        }
        int a, b;
        bool names_label = false;
        if (example_range(t, nt, m[i].t1, &a, &b))
            for (int j = 0; j < n; j++) names_label |= m[j].is_label && m[j].t0 >= a && m[j].t1 <= b;
        /* "when HMG-CoA reductase inhibitors are co-administered with gemfibrozil": the class is
         * the subject of a "with" that follows it, even where the label drug is named too */
        bool subject_of_with = false;
        for (int q = m[i].t1; q < nt && q <= m[i].t1 + 4 && !subject_of_with; q++)
            subject_of_with = !strcmp(t[q].low, "with") && q > m[i].t1;
        if ((member && !other && (!label_named || subject_of_with) && !imper && !in_comma_list(t, nt, &m[i]) &&
             !in_example_list(t, nt, &m[i])) ||
            names_label)
            m[i].self_class = true;
    }
    /* alternatives listed with the label's class ("Do not co-administer aliskiren with ARBs, ACE
     * inhibitors, including <label>"): the other items of that list are not its partners */
    for (int i = 0; i < n; i++) {
        if (!m[i].self_class) continue;
        for (int j = 0; j < n; j++) {
            if (j == i || m[j].kind != DDI_M_CLASS) continue;
            int a = m[j].t1 <= m[i].t0 ? m[j].t1 : m[i].t1, b = m[j].t1 <= m[i].t0 ? m[i].t0 : m[j].t0;
            bool sep_only = a <= b;
            for (int q = a; q < b && sep_only; q++)
                sep_only = !strcmp(t[q].low, ",") || !strcmp(t[q].low, "or") || !strcmp(t[q].low, "/") ||
                           !strcmp(t[q].low, "(") || !strcmp(t[q].low, ")");
            if (sep_only && b - a >= 1) m[j].comparison = true;
        }
    }
    /* co-subjects of a class statement: "SSRIs and SNRIs should not be used with an MAOI" —
     * mentions joined to the self class by "and" / "or" before a "with" are subjects too, not
     * its partners */
    for (int i = 0; i < n; i++) {
        if (!m[i].self_class) continue;
        int with = -1;
        for (int q = m[i].t1; q < nt && with < 0; q++)
            if (!strcmp(t[q].low, "with")) with = q;
        if (with < 0) continue;
        for (int j = 0; j < n; j++)
            if (j != i && m[j].t0 >= m[i].t1 && m[j].t1 <= with && m[j].t0 <= m[i].t1 + 1 &&
                (!strcmp(t[m[i].t1].low, "and") || !strcmp(t[m[i].t1].low, "or")))
                m[j].comparison = true;
    }
}

/* A mention in an allergy or history context ("hypersensitivity to clomipramine or other
 * tricyclic antidepressants", "allergic-type reactions after taking aspirin", "a history of
 * angioedema related to previous treatment with an ACE inhibitor") or named as the replacement
 * ("switched to an alternative statin") names no interaction partner: the cue word comes before
 * it in the same clause. */
static void mark_allergy_context(const char *s, const ddi_tok *t, ddi_mention *m, int n) {
    /* cross-reactivity statements speak of allergy wherever the drug stands in them */
    char all[2048];
    orx_ddi_lower(s, strlen(s), all, sizeof all);
    if (strstr(all, "cross-reactiv") || strstr(all, "cross reactiv") || strstr(all, "aspirin-sensitive") ||
        strstr(all, "aspirin sensitivity") || strstr(all, "aspirin triad")) {
        for (int i = 0; i < n; i++) m[i].comparison = true;
        return;
    }
    static const char *const CUE[] = {"hypersensitiv", "allerg", "anaphyla", "history of", "previous treatment",
                                      "previously treated", "reactions after", "intoleran", "idiosyncra",
                                      "alternative", "switched to", "switch to", "instead of", "coverage with",
                                      "replaced by", "substitute", "sensitiv", "triad", "asthma", "metabolizers",
                                      NULL};
    for (int i = 0; i < n; i++) {
        size_t end = t[m[i].t0].s;
        char low[2048];
        orx_ddi_lower(s, end < sizeof low - 1 ? end : sizeof low - 1, low, sizeof low);
        const char *semi = strrchr(low, ';');
        const char *from = semi ? semi : low;
        if (orx_str_has_any(from, CUE)) m[i].comparison = true;
    }
}

/* "Proton pump inhibitors (PPIs)": a class repeated as an abbreviation in parentheses right
 * after a class is the same mention. */
static void mark_aliases(const ddi_tok *t, ddi_mention *m, int n) {
    for (int j = 0; j < n; j++) {
        if (m[j].kind != DDI_M_CLASS || m[j].t0 < 1 || strcmp(t[m[j].t0 - 1].low, "(")) continue;
        for (int i = 0; i < n; i++)
            if (i != j && m[i].kind == DDI_M_CLASS && m[i].t1 == m[j].t0 - 1) m[j].comparison = true;
    }
}

/* A trial's comparator arm ("in the clopidogrel group", "the sorafenib arm", "versus
 * warfarin", "compared with placebo or naproxen"): no partner. */
static void mark_comparators(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    static const char *const AFTER[] = {"arm", "arms", "group", "groups", "cohort", NULL};
    static const char *const BEFORE[] = {"versus", "vs", "than", "racemic", NULL};
    for (int i = 0; i < n; i++) {
        int e = m[i].t1;
        bool arm = false;
        for (int q = 0; AFTER[q] && e < nt; q++) arm |= !strcmp(t[e].low, AFTER[q]);
        int k = m[i].t0 - 1;
        while (k >= 0 && (!strcmp(t[k].low, "the") || !strcmp(t[k].low, ".") || !strcmp(t[k].low, "or") ||
                          !strcmp(t[k].low, "other")))
            k--;
        for (int q = 0; BEFORE[q] && k >= 0; q++) arm |= !strcmp(t[k].low, BEFORE[q]);
        arm |= k >= 1 && !strcmp(t[k - 1].low, "compared") && (!strcmp(t[k].low, "with") || !strcmp(t[k].low, "to"));
        arm |= k >= 1 && !strcmp(t[k - 1].low, "relative") && !strcmp(t[k].low, "to");
        if (arm) m[i].comparison = true;
    }
}

/* "thioridazine and its two active metabolites, mesoridazine and sulforidazine": a metabolite
 * of the drug spoken of, not a second drug. */
static void mark_metabolites(const ddi_tok *t, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_DRUG) continue;
        int k = m[i].t0 - 1;
        while (k >= 0 && (!strcmp(t[k].low, ",") || !strcmp(t[k].low, "(") || !strcmp(t[k].low, "and")))
            k--;
        bool met = k >= 0 && (!strcmp(t[k].low, "metabolite") || !strcmp(t[k].low, "metabolites"));
        /* "conversion of risperidone to 9-hydroxyrisperidone", "hydrolyzed to ..." */
        for (int q = k - 1; q >= 0 && q >= k - 6 && !met && k >= 0 && !strcmp(t[k].low, "to"); q--)
            met = !strcmp(t[q].low, "conversion") || !strcmp(t[q].low, "converted") || !strcmp(t[q].low, "metabolized") ||
                  !strcmp(t[q].low, "metabolised") || !strcmp(t[q].low, "hydrolyzed");
        for (int j = 0; j < i && !met; j++) /* the next item of the same list */
            met = m[j].kind == DDI_M_DRUG && m[j].comparison && m[j].t1 == k + 1 && k >= 0 &&
                  (m[i].t0 - m[j].t1 <= 2);
        if (met) m[i].comparison = true;
    }
}

/* "like other NSAIDs", "as with other SSRIs", "similar to ...", "unlike ...". */
static void mark_comparisons(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        int k = m[i].t0 - 1;
        if (k >= 0 && (!strcmp(t[k].low, "other") || !strcmp(t[k].low, "all"))) k--;
        if (k < 0) continue;
        const char *w = t[k].low;
        m[i].comparison = !strcmp(w, "like") || !strcmp(w, "unlike") ||
                          (!strcmp(w, "with") && k > 0 && !strcmp(t[k - 1].low, "as")) ||
                          (!strcmp(w, "to") && k > 0 && !strcmp(t[k - 1].low, "similar"));
    }
    mark_comparators(t, nt, m, n);
    mark_metabolites(t, m, n);
    /* "Another ACE inhibitor, captopril, has been shown to cause agranulocytosis", "another
     * long-acting beta2-adrenergic agonist (salmeterol)": what a fellow member of the label drug's
     * class does, not a combination */
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_CLASS || m[i].t0 < 1 || strcmp(t[m[i].t0 - 1].low, "another") ||
            !(tok_is(t, m[i].t1, nt, ",") || tok_is(t, m[i].t1, nt, "(")))
            continue;
        m[i].comparison = true;
        for (int j = 0; j < n; j++)
            if (m[j].kind == DDI_M_DRUG && m[j].t0 == m[i].t1 + 1) m[j].comparison = true;
    }
}

/* "<label drug> is a (strong) inhibitor of CYP3A4", "<label drug> is a substrate of P-gp",
 * "<label drug> is metabolized by CYP2D6": the role describes the label's own drug. */
/* The drug mention that ends at token k (exclusive end k + 1), -1 when none. */
static int drug_ending_at(const ddi_mention *m, int n, int k) {
    for (int j = 0; j < n; j++)
        if (m[j].kind == DDI_M_DRUG && m[j].t1 == k + 1) return j;
    return -1;
}

/* Classes and roles said of one drug of the sentence:
 *   "<D> is a (strong) inhibitor of CYP3A4", "<D> is metabolized by CYP2D6", "<D> inhibits CYP3A"
 *   "<D>, a CYP3A inhibitor, ...", "<D> (CYP3A substrate)", "<D> (a sulfonamide)".
 * Said of the label's own drug: self_role / self_class; of another drug: describes = D. */
static void mark_descriptions(const ddi_tok *t, ddi_mention *m, int n) {
    /* "the antidepressant nefazodone", "the macrolide antibiotics erythromycin and clarithromycin",
     * "the platelet aggregation inhibitor clopidogrel": a class right before a drug names it */
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_CLASS) continue;
        for (int j = 0; j < n; j++)
            if (m[j].kind == DDI_M_DRUG && m[j].t0 == m[i].t1 && m[i].describes < 0) m[i].describes = j;
    }
    for (int i = 0; i < n; i++) {
        if (m[i].kind == DDI_M_DRUG || m[i].describes >= 0) continue;
        int k = m[i].t0 - 1, d = -1;
        while (k >= 0 && (!strcmp(t[k].low, "a") || !strcmp(t[k].low, "an") || !strcmp(t[k].low, "also") ||
                          !strcmp(t[k].low, "primarily") || !strcmp(t[k].low, "mainly") ||
                          !strcmp(t[k].low, "extensively") || !strcmp(t[k].low, "mostly") ||
                          !strcmp(t[k].low, "may") || !strcmp(t[k].low, "can") || !strcmp(t[k].low, "known") ||
                          !strcmp(t[k].low, "to")))
            k--;
        const char *w0 = t[m[i].t0].low;
        bool verb = !strncmp(w0, "inhibit", 7) || !strncmp(w0, "induc", 5) || !strncmp(w0, "metaboli", 8) ||
                    (grade_of(w0) && m[i].t0 + 1 < m[i].t1 && (!strncmp(t[m[i].t0 + 1].low, "inhibit", 7) ||
                                                              !strncmp(t[m[i].t0 + 1].low, "induc", 5)));
        if (k >= 1 && (!strcmp(t[k].low, "is") || !strcmp(t[k].low, "are"))) d = drug_ending_at(m, n, k - 1);
        else if (k >= 1 && (!strcmp(t[k].low, ",") || !strcmp(t[k].low, "(")) && k + 1 < m[i].t0) d = drug_ending_at(m, n, k - 1);
        else if (k >= 1 && !strcmp(t[k].low, "(")) d = drug_ending_at(m, n, k - 1);
        else if (verb && k >= 0) d = drug_ending_at(m, n, k);
        if (d < 0) continue;
        if (m[d].is_label) {
            if (m[i].kind == DDI_M_ROLE) m[i].self_role = true;
            else m[i].self_class = true;
        } else {
            m[i].describes = d;
        }
    }
}

/* "HMG-CoA reductase inhibitors that are CYP3A4 substrates": the class is restricted to the
 * role; both must hold ("class:...&role:..."), and the role is no partner of its own. */
static void merge_restrictions(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        bool effect = m[i].kind == DDI_M_ROLE && !strncmp(m[i].key, "effect:", 7);
        if (m[i].kind != DDI_M_CLASS && !effect) continue;
        int k = m[i].t1;
        if (effect && tok_is(t, k, nt, "and")) k++; /* "... QT interval and which are metabolized via CYP3A4" */
        if (!(tok_is(t, k, nt, "that") || tok_is(t, k, nt, "which"))) continue;
        k++;
        if (tok_is(t, k, nt, "are") || tok_is(t, k, nt, "is")) k++;
        else if (!effect) continue;
        for (int j = 0; j < n; j++) {
            if (m[j].kind != DDI_M_ROLE || m[j].t0 != k || !strncmp(m[j].key, "effect:", 7)) continue;
            char key[DDI_KEY];
            snprintf(key, sizeof key, "%s&%s", m[i].key, m[j].key);
            snprintf(m[i].key, sizeof m[i].key, "%s", key);
            m[j].comparison = true;
            int a, b; /* the examples after the restriction are the effect's */
            if (effect && m[i].ex0 < 0 && effect_range(t, nt, m[j].t1, &a, &b)) {
                m[i].ex0 = a;
                m[i].ex1 = b;
                for (int q = 0; q < n; q++)
                    if (q != i && q != j && m[q].t0 >= a && m[q].t1 <= b && !m[q].is_label) m[q].example_of = i;
            }
            break;
        }
    }
}

/* "drugs known to prolong the QT interval and which are metabolized via CYP3A4 (such as ...)":
 * a role that only restricts a set the sentence names in words no source lists. The rule then
 * reaches only the sentence's own examples ("examples:" + key). */
static void mark_restricted_roles(const ddi_tok *t, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_ROLE || !strncmp(m[i].key, "examples:", 9)) continue;
        int k = m[i].t0 - 1;
        if (k >= 0 && !strcmp(t[k].low, "are")) k--;
        if (k < 0 || !(!strcmp(t[k].low, "which") || !strcmp(t[k].low, "that"))) continue;
        bool merged = false; /* "X that are Y" already merged into the class or effect X */
        for (int j = 0; j < n; j++) merged |= j != i && strchr(m[j].key, '&') && strstr(m[j].key, m[i].key);
        if (merged) continue;
        char key[DDI_KEY];
        snprintf(key, sizeof key, "examples:%s", m[i].key);
        snprintf(m[i].key, sizeof m[i].key, "%s", key);
    }
}

/* "anticoagulants other than warfarin", "NSAIDs except aspirin": the drugs after the exception
 * are excluded from the class ("class:...&not:warfarin") and are no partners themselves. */
static void mark_exceptions(const ddi_tok *t, int nt, ddi_mention *m, int n) {
    for (int i = 0; i < n; i++) {
        if (m[i].kind != DDI_M_CLASS) continue;
        int k = m[i].t1;
        int skip = tok_is(t, k, nt, "other") && tok_is(t, k + 1, nt, "than") ? 2
                 : tok_is(t, k, nt, "except") ? (tok_is(t, k + 1, nt, "for") ? 2 : 1)
                 : tok_is(t, k, nt, "excluding") ? 1 : 0;
        if (!skip) continue;
        for (int j = 0; j < n; j++) {
            if (m[j].kind != DDI_M_DRUG || m[j].t0 < k + skip || m[j].t0 > k + skip + 6) continue;
            size_t l = strlen(m[i].key);
            snprintf(m[i].key + l, sizeof m[i].key - l, "&not:%s", m[j].key);
            m[j].comparison = true;
        }
    }
}

/* ============================================================================================
 * Entry point
 * ========================================================================================== */
int orx_ddi_find_mentions(const ddi_ctx *c, const char *s, const ddi_tok *t, int nt, ddi_mention *out,
                      int cap) {
    bool taken[DDI_MAX_TOK] = {0};
    int n = 0;
    for (int i = 0; i < nt && n < cap; i++) {
        if (taken[i]) continue;
        int before = n;
        n = effect_at(c, s, t, nt, i, taken, out, n, cap);
        if (n == before) n = metabolized_at(s, t, nt, i, taken, out, n, cap);
        if (n == before) n = verb_role_at(s, t, nt, i, taken, out, n, cap);
        if (n == before && noun_of(t[i].low)) {
            int next;
            n = role_at(s, t, nt, i, taken, out, n, cap, &next);
        }
    }
    n = scan_names(c, s, t, nt, taken, out, n, cap);
    mark_examples(t, nt, out, n);
    mark_comparisons(t, nt, out, n);
    mark_aliases(t, out, n);
    mark_allergy_context(s, t, out, n);
    mark_adjectival(t, nt, out, n);
    mark_effect_examples(c, t, nt, out, n);
    mark_self_class(c, t, nt, out, n);
    mark_descriptions(t, out, n);
    merge_restrictions(t, nt, out, n);
    mark_restricted_roles(t, out, n);
    mark_exceptions(t, nt, out, n);
    return n;
}
