/*
 * ind_context.c — what the words around a condition in a label sentence say about it:
 *   - where a phrasing occurs: all its words within a short window (every occurrence);
 *   - whether the condition is what the drug treats, or only who is treated: in "treatment of
 *     diabetic nephropathy … in patients with type 2 diabetes" type 2 diabetes is the population
 *     (the drug treats nephropathy); in "seizures associated with Lennox-Gastaut syndrome" the
 *     drug treats a manifestation of the syndrome (a narrower statement); a condition named after
 *     a preventing, relieving or controlling cue is the reason for the drug ("reduce the risk of
 *     stroke … in patients with atrial fibrillation", "relief of bronchospasm in patients with
 *     asthma") and counts in full;
 *   - whether the label puts the condition at another body site than the query ("nasal polyps"
 *     for a rectal polyp, "osteoarthritis of the knee" for the hip).
 * Shared by the sentence index (kb/indications.c) and orx_ind_text_states (indterms.h, the safety
 * checker's reading of label headings). Word lists: kb/ind_words.c.
 */
#include "kb/ind_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Occurrences
 * ========================================================================================== */
bool orx_ind_match_ids(const int32_t *w, int n, const int32_t *p, int np, int from, int *anchor, int *first,
                   int *last) {
    if (np <= 0) return false;
    int win = 2 * np + 3;
    for (int a = from < 0 ? 0 : from; a < n; a++) {
        if (w[a] != p[0]) continue;
        int lo = a, hi = a;
        bool all = true;
        for (int k = 1; k < np && all; k++) {
            int best = -1;
            for (int b = a - win < 0 ? 0 : a - win; b < n && b <= a + win; b++)
                if (w[b] == p[k] && (best < 0 || abs(b - a) < abs(best - a))) best = b;
            if (best < 0) all = false;
            else lo = best < lo ? best : lo, hi = best > hi ? best : hi;
        }
        if (all) {
            *anchor = a, *first = lo, *last = hi;
            return true;
        }
    }
    return false;
}

/* ============================================================================================
 * Treated condition or population
 * ========================================================================================== */
static const char *vw(const ind_view *v, int i) { return v->str[v->ids[i]]; }
static bool vsep(const ind_view *v, int i) { return v->flags && (v->flags[i] & IND_WF_SEP); }

/* a word that names (part of) a condition: not a stop, patient, function, degree or cue word,
 * nor a number */
static bool condition_word(const char *w) {
    return !orx_ind_is_stop(w) && !orx_ind_is_drop(w) && !orx_ind_is_function(w) && !orx_ind_is_person(w) &&
           !orx_ind_is_degree(w) && !orx_ind_is_numeric(w) && orx_ind_cue_of(w) == IND_CUE_NONE;
}

/* "X patients", "X adult patients with …": a person word within two words after the phrase */
static bool person_after(const ind_view *v, int l) {
    for (int k = l + 1; k < v->n && k <= l + 2; k++) {
        if (vsep(v, k)) return false;
        const char *w = vw(v, k);
        if (orx_ind_is_person(w)) return true;
        if (!orx_ind_is_degree(w) && !orx_ind_is_drop(w)) return false;
    }
    return false;
}

/* "… patients with [A and] X", "adults 10 years of age and older with X", "associated with X",
 * "due to X", "secondary to X", "caused by X": the start of the qualifier before the phrase,
 * -1 none; *type what it is */
static int qualifier_before(const ind_view *v, int f, ind_occ *type) {
    for (int j = f - 1; j >= 0 && j >= f - 10; j--) {
        const char *w = vw(v, j);
        if (orx_ind_cue_of(w) != IND_CUE_NONE || !strcmp(w, "indicated")) return -1;
        const char *prev = j > 0 ? vw(v, j - 1) : "";
        if (!strcmp(w, "with")) {
            if (!strcmp(prev, "associated")) return *type = IND_OCC_ASSOC, j - 1;
            for (int p = j - 1; p >= 0 && p >= j - 8; p--) {
                const char *pw = vw(v, p);
                if (orx_ind_is_person(pw)) return *type = IND_OCC_POP, p;
                if (condition_word(pw)) break;
            }
            return -1; /* "nephropathy with an elevated serum creatinine": part of the condition */
        }
        if ((!strcmp(w, "to") && (!strcmp(prev, "due") || !strcmp(prev, "secondary"))) ||
            (!strcmp(w, "by") && !strcmp(prev, "caused")))
            return *type = IND_OCC_ASSOC, j - 1;
    }
    return -1;
}

ind_occ orx_ind_occurrence(const ind_view *v, int f, int l) {
    ind_occ type = IND_OCC_FULL;
    int qs = person_after(v, l) ? f : qualifier_before(v, f, &type);
    if (qs < 0) return IND_OCC_FULL;
    if (qs == f) type = IND_OCC_POP;
    /* what the statement acts on before the qualifier: the nearest cue */
    int c = qs - 1;
    ind_cue cue = IND_CUE_NONE;
    for (; c >= 0; c--) {
        const char *w = vw(v, c);
        if ((cue = orx_ind_cue_of(w)) != IND_CUE_NONE || !strcmp(w, "indicated")) break;
    }
    if (cue == IND_CUE_CARE) return IND_OCC_FULL; /* prevented / relieved in patients with X */
    /* a condition between the cue and the first words about the patients ("treatment of diabetic
     * nephropathy … in patients with"): X is the population, not what is treated */
    for (int k = c + 1; k < qs; k++) {
        const char *w = vw(v, k);
        if (orx_ind_is_person(w)) break;
        if (condition_word(w)) return type;
    }
    return IND_OCC_FULL;
}

/* ============================================================================================
 * Body sites
 * ========================================================================================== */
/* one site written two ways: equal, or the same first four letters ("colon"/"colonic",
 * "rectal"/"rectum", "prostate"/"prostatic") */
static bool same_site(const char *a, const char *b) {
    if (!strcmp(a, b)) return true;
    return strlen(a) >= 4 && strlen(b) >= 4 && !strncmp(a, b, 4);
}

static bool site_in(const char *w, const char (*sites)[IND_WORD], int n) {
    for (int i = 0; i < n; i++)
        if (same_site(w, sites[i])) return true;
    return false;
}

bool orx_ind_site_conflict(const ind_view *v, int f, int l, const char (*sites)[IND_WORD], int n_sites) {
    if (n_sites <= 0) return false;
    char label[12][IND_WORD];
    int nl = 0;
    /* the label's sites of this condition: in the phrase, in the modifiers right before it
     * ("chronic rhinosinusitis with nasal polyps"), in "of the …" right after it */
    for (int k = f; k <= l && nl < 12; k++)
        if (orx_ind_is_site(vw(v, k))) snprintf(label[nl++], IND_WORD, "%s", vw(v, k));
    for (int k = f - 1; k >= 0 && k >= f - 3 && !vsep(v, k + 1) && nl < 12; k--) {
        const char *w = vw(v, k);
        if (orx_ind_is_stop(w) || orx_ind_is_function(w) || orx_ind_cue_of(w) != IND_CUE_NONE) break;
        if (orx_ind_is_site(w)) snprintf(label[nl++], IND_WORD, "%s", w);
    }
    if (l + 1 < v->n && !strcmp(vw(v, l + 1), "of"))
        for (int k = l + 2; k < v->n && k <= l + 5 && !vsep(v, k) && nl < 12; k++) {
            const char *w = vw(v, k);
            if (!strcmp(w, "the")) continue;
            if (orx_ind_is_site(w)) snprintf(label[nl++], IND_WORD, "%s", w);
            else if (orx_ind_is_stop(w)) break;
        }
    if (!nl) return false; /* the label names no site: the condition in general */
    for (int i = 0; i < nl; i++)
        if (site_in(label[i], sites, n_sites)) return false;
    /* the query's site named anywhere in the sentence ("joints … such as the knees and hands") */
    for (int k = 0; k < v->n; k++)
        if (orx_ind_is_site(vw(v, k)) && site_in(vw(v, k), sites, n_sites)) return false;
    return true;
}

/* ============================================================================================
 * A phrasing in free text (orx_ind_text_states)
 * ========================================================================================== */
orx_ind_statement orx_ind_text_states(const char *text, const orx_ind_phrase *p) {
    if (!text || !p || p->n <= 0) return ORX_IND_NOT_STATED;
    size_t len = strlen(text);
    int cap = 512;
    ind_tok *tk = malloc((size_t)cap * sizeof *tk);
    char(*str)[IND_WORD] = malloc((size_t)cap * sizeof *str);
    char **strp = malloc((size_t)cap * sizeof *strp);
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    uint8_t *flags = malloc((size_t)cap);
    orx_ind_statement best = ORX_IND_NOT_STATED;
    if (!tk || !str || !strp || !ids || !flags) goto done;
    int nt = orx_ind_tokens(text, len, tk, cap), n = 0, nstr = 0;
    if (nt > cap) nt = cap;
    bool sep = false;
    /* word ids: equal normalised words share one id */
    for (int i = 0; i < nt; i++) {
        if (tk[i].kind == 'p') { sep = true; continue; }
        if (!tk[i].norm[0]) continue;
        int id = -1;
        for (int k = 0; k < nstr && id < 0; k++)
            if (!strcmp(str[k], tk[i].norm)) id = k;
        if (id < 0) {
            id = nstr;
            memcpy(str[nstr], tk[i].norm, IND_WORD);
            strp[nstr] = str[nstr];
            nstr++;
        }
        flags[n] = sep && n > 0 ? IND_WF_SEP : 0;
        ids[n++] = id;
        sep = false;
    }
    int32_t pid[ORX_IND_MAX_WORDS];
    for (int i = 0; i < p->n; i++) {
        pid[i] = -1;
        for (int k = 0; k < nstr; k++)
            if (!strcmp(str[k], p->words[i])) pid[i] = k;
        if (pid[i] < 0) goto done;
    }
    ind_view v = {.ids = ids, .flags = flags, .str = strp, .n = n};
    int a = -1, f, l;
    while (orx_ind_match_ids(ids, n, pid, p->n, a + 1, &a, &f, &l)) {
        ind_occ o = orx_ind_occurrence(&v, f, l);
        orx_ind_statement s = o == IND_OCC_FULL ? ORX_IND_STATED : o == IND_OCC_ASSOC ? ORX_IND_STATED_ASSOCIATED
                                                                                      : ORX_IND_STATED_POPULATION;
        if (best == ORX_IND_NOT_STATED || s < best) best = s;
    }
done:
    free(tk);
    free(str);
    free(strp);
    free(ids);
    free(flags);
    return best;
}

const char *orx_ind_statement_name(orx_ind_statement s) {
    switch (s) {
    case ORX_IND_STATED: return "stated";
    case ORX_IND_STATED_ASSOCIATED: return "associated";
    case ORX_IND_STATED_POPULATION: return "population";
    default: return "not stated";
    }
}
