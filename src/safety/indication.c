/*
 * indication.c — which indication a label statement is for, and whether it is the one a drug is
 * being given for. Label statements scoped to an indication (a dose "for nonvalvular atrial
 * fibrillation", an avoid statement under "Treatment of Deep Vein Thrombosis") carry the label's
 * heading text; the drug's indication is the one the prescriber gave (orx_proposed_drug.indication)
 * or else the patient's active problems.
 *
 * Both texts are reduced to a small set of indication concepts by word matching (a vocabulary of
 * how indications are written in labels and problem lists — not a medical fact; the concept names
 * are ours, every phrase is a plain-English spelling of the indication). Words are compared after
 * the normaliser the options search uses (kb/indterms.h orx_ind_words: plurals, a final -e,
 * "non-valvular" = "nonvalvular", "type II" = "type 2"), so both readers agree. A concept with a
 * qualifier (VTE treatment / prophylaxis / recurrence) needs both its words in one comma- or
 * semicolon-separated segment, so "atrial fibrillation, stroke prevention" is not VTE prophylaxis.
 */
#include "safety/label_rules.h"
#include "kb/indterms.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * Vocabulary
 * ========================================================================================== */
enum {
    C_AF = 1u << 0,          /* atrial fibrillation (stroke prevention) */
    C_VTE = 1u << 1,         /* deep vein thrombosis / pulmonary embolism */
    C_VTE_TREAT = 1u << 2,   /* ... treatment */
    C_VTE_PROPH = 1u << 3,   /* ... prophylaxis (after hip/knee replacement, surgery) */
    C_VTE_RECUR = 1u << 4,   /* ... reduction of the risk of recurrence */
    C_T2DM = 1u << 5,        /* type 2 diabetes mellitus */
    C_HTN = 1u << 6,         /* hypertension */
    C_HF = 1u << 7,          /* heart failure */
    C_EPILEPSY = 1u << 8,    /* epilepsy / partial-onset seizures */
    C_PHN = 1u << 9,         /* postherpetic neuralgia */
    C_GOUT = 1u << 10,       /* gout / hyperuricaemia */
    C_UTI = 1u << 11,        /* urinary tract infection */
    C_BIPOLAR = 1u << 12,    /* bipolar disorder / mania */
    C_DEPRESSION = 1u << 13, /* major depressive disorder */
};
#define C_VTE_QUALS (C_VTE_TREAT | C_VTE_PROPH | C_VTE_RECUR)

typedef struct concept_def {
    unsigned    bit;            /* concept */
    const char *words[8];       /* any of these phrases (lower-case, whole words) */
    unsigned    needs;          /* concepts that must be present in the same segment */
} concept_def;

static const concept_def CONCEPTS[] = {
    {C_AF, {"atrial fibrillation", "nvaf", "non-valvular af", "nonvalvular af", NULL}, 0},
    {C_VTE, {"deep vein thrombosis", "deep venous thrombosis", "dvt", "pulmonary embolism",
             "venous thromboembolism", "vte", NULL}, 0},
    {C_VTE_TREAT, {"treatment", "treat", "treating", NULL}, C_VTE},
    {C_VTE_PROPH, {"prophylaxis", "prevention", "hip replacement", "knee replacement", "surgery",
                   NULL}, C_VTE},
    {C_VTE_RECUR, {"recurrence", "recurrent", NULL}, C_VTE},
    {C_T2DM, {"type 2 diabetes", "type ii diabetes", "diabetes mellitus type 2", "t2dm", NULL}, 0},
    {C_HTN, {"hypertension", NULL}, 0},
    {C_HF, {"heart failure", NULL}, 0},
    {C_EPILEPSY, {"epilepsy", "seizures", "seizure", NULL}, 0},
    {C_PHN, {"postherpetic neuralgia", "post-herpetic neuralgia", NULL}, 0},
    {C_GOUT, {"gout", "hyperuricemia", "hyperuricaemia", NULL}, 0},
    {C_UTI, {"urinary tract infection", "cystitis", "uti", NULL}, 0},
    {C_BIPOLAR, {"bipolar", "mania", "manic", NULL}, 0},
    {C_DEPRESSION, {"major depressive disorder", "depression", "depressive disorder", NULL}, 0},
};
#define N_CONCEPTS (sizeof CONCEPTS / sizeof CONCEPTS[0])

#define SEG_WORDS 96 /* words of one segment compared */
#define PHRASE_WORDS 6

/* the vocabulary's phrases, normalised once */
typedef struct norm_phrase {
    char w[PHRASE_WORDS][24]; /* normalised words */
    int  n;                   /* count */
} norm_phrase;
static norm_phrase g_phr[sizeof CONCEPTS / sizeof CONCEPTS[0]][8];
static pthread_once_t g_phr_once = PTHREAD_ONCE_INIT;

static void phrases_init(void) {
    for (size_t i = 0; i < N_CONCEPTS; i++)
        for (int k = 0; k < 8 && CONCEPTS[i].words[k]; k++)
            g_phr[i][k].n = orx_ind_words(CONCEPTS[i].words[k], strlen(CONCEPTS[i].words[k]), g_phr[i][k].w, PHRASE_WORDS);
}

/* the phrase's words in a row among the segment's words */
static bool has_phrase(char (*w)[24], int n, const norm_phrase *p) {
    if (p->n <= 0) return false;
    for (int i = 0; i + p->n <= n; i++) {
        int k = 0;
        while (k < p->n && !strcmp(w[i + k], p->w[k])) k++;
        if (k == p->n) return true;
    }
    return false;
}

static unsigned segment_concepts(const char *s, const char *e) {
    pthread_once(&g_phr_once, phrases_init);
    char w[SEG_WORDS][24];
    int n = orx_ind_words(s, (size_t)(e - s), w, SEG_WORDS);
    unsigned c = 0;
    for (int pass = 0; pass < 2; pass++) /* qualifiers after the concepts they need */
        for (size_t i = 0; i < N_CONCEPTS; i++) {
            const concept_def *d = &CONCEPTS[i];
            if ((pass == 0) != (d->needs == 0) || (c & d->bit)) continue;
            if (d->needs && (c & d->needs) != d->needs) continue;
            for (int k = 0; k < 8 && d->words[k]; k++)
                if (has_phrase(w, n, &g_phr[i][k])) { c |= d->bit; break; }
        }
    return c;
}

unsigned orx_srl_indication_concepts(const char *text) {
    unsigned c = 0;
    if (!text) return 0;
    const char *s = text;
    for (const char *p = text;; p++) {
        if (*p == ',' || *p == ';' || *p == '\n' || *p == '\0') {
            c |= segment_concepts(s, p);
            s = p + 1;
        }
        if (!*p) break;
    }
    return c;
}

/* ============================================================================================
 * The drug's indication
 * ========================================================================================== */
void orx_srl_drug_indication(const orx_patient *pt, const orx_proposed_drug *d, orx_srl_indication *out) {
    memset(out, 0, sizeof *out);
    if (d && d->indication[0]) {
        out->concepts = orx_srl_indication_concepts(d->indication);
        out->explicit_given = true;
        snprintf(out->basis, sizeof out->basis, "indication given: %s", d->indication);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; pt && i < pt->n_conditions; i++) {
        unsigned c = orx_srl_indication_concepts(pt->conditions[i].text);
        if (!c) continue;
        out->concepts |= c;
        if (out->n_problems < SRL_IND_MAX_PROBLEMS) {
            out->problem_concepts[out->n_problems] = c;
            snprintf(out->problems[out->n_problems], sizeof out->problems[0], "%s", pt->conditions[i].text);
            out->n_problems++;
        }
        n += (size_t)snprintf(out->basis + n, n < sizeof out->basis ? sizeof out->basis - n : 0,
                              "%s%s", n ? "; " : "patient's problems: ", pt->conditions[i].text);
        if (n >= sizeof out->basis) n = sizeof out->basis - 1;
    }
    if (!out->concepts)
        snprintf(out->basis, sizeof out->basis, "indication not given and none of the patient's "
                 "problems names an indication the label statements are scoped to");
}

orx_srl_ind_match orx_srl_indication_match(const char *rule_indication, const orx_srl_indication *ctx) {
    if (!rule_indication || !*rule_indication) return SRL_IND_GENERAL;
    unsigned r = orx_srl_indication_concepts(rule_indication);
    if (!r) return SRL_IND_UNRECOGNISED;
    if (!ctx || !ctx->concepts) return SRL_IND_UNKNOWN;
    unsigned q = ctx->concepts;
    unsigned rb = r & ~C_VTE_QUALS, qb = q & ~C_VTE_QUALS;
    if (!(rb & qb)) return SRL_IND_OTHER;
    if ((rb & qb & C_VTE) && (r & C_VTE_QUALS)) {
        if (!(q & C_VTE_QUALS)) return SRL_IND_UNKNOWN; /* "DVT": treatment or prophylaxis? */
        if (!(r & q & C_VTE_QUALS)) return SRL_IND_OTHER;
    }
    return SRL_IND_MATCH;
}

const char *orx_srl_ind_match_name(orx_srl_ind_match m) {
    switch (m) {
    case SRL_IND_GENERAL: return "general";
    case SRL_IND_MATCH: return "matches";
    case SRL_IND_OTHER: return "another indication";
    case SRL_IND_UNKNOWN: return "indication unknown";
    default: return "indication not recognised";
    }
}

void orx_srl_indication_basis(const orx_srl_indication *ind, unsigned concepts, char *out, size_t cap) {
    if (!out || !cap) return;
    snprintf(out, cap, "%s", ind ? ind->basis : "");
    if (!ind || ind->explicit_given || !concepts) return;
    size_t n = 0;
    for (int i = 0; i < ind->n_problems; i++) {
        if (!(ind->problem_concepts[i] & concepts & ~C_VTE_QUALS)) continue;
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "; " : "indication from "
                              "the patient's problem list: ", ind->problems[i]);
        if (n >= cap) return;
    }
}
