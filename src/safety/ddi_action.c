/*
 * ddi_action.c — what a label clause says should be done about an interaction, and its tier.
 *
 * A clause is read for the strongest action it states (contraindicated > discontinue > avoid /
 * not recommended > dose change > monitor / caution > effect only). An action phrase preceded
 * by "no" / "without" or followed by "is not necessary / needed / required" does not count
 * ("no dose adjustment is needed"). A clause that only states an effect and also carries a
 * no-effect phrase ("did not alter", "no clinically significant") is negated. The tier of each
 * action (and the section rules: Contraindications, Boxed Warning) is documented in
 * data/interactions/SOURCE.md, section "Label-derived rules".
 */
#include "safety/ddi_internal.h"

#include <stdint.h>
#include <string.h>

/* ============================================================================================
 * Phrase tables
 * ========================================================================================== */
typedef struct phrase { const char *w; ddi_act act; } phrase;

static const phrase ACTIONS[] = {
    {"contraindicated", DDI_ACT_CONTRA}, {"contra-indicated", DDI_ACT_CONTRA},
    {"discontinue", DDI_ACT_DISCONTINUE}, {"be discontinued", DDI_ACT_DISCONTINUE},
    {"be stopped", DDI_ACT_DISCONTINUE}, {"withhold", DDI_ACT_DISCONTINUE},
    {"be withheld", DDI_ACT_DISCONTINUE}, {"interrupt", DDI_ACT_DISCONTINUE},
    {"avoid", DDI_ACT_AVOID}, {"avoided", DDI_ACT_AVOID}, {"avoiding", DDI_ACT_AVOID},
    {"not recommended", DDI_ACT_AVOID}, {"not advised", DDI_ACT_AVOID},
    {"not be used", DDI_ACT_AVOID}, {"not be administered", DDI_ACT_AVOID},
    {"not be coadministered", DDI_ACT_AVOID}, {"not be co-administered", DDI_ACT_AVOID},
    {"not be given", DDI_ACT_AVOID}, {"not be taken", DDI_ACT_AVOID},
    {"not be combined", DDI_ACT_AVOID}, {"not be prescribed", DDI_ACT_AVOID},
    {"not be started", DDI_ACT_AVOID}, {"not be initiated", DDI_ACT_AVOID},
    {"should not receive", DDI_ACT_AVOID}, {"should not take", DDI_ACT_AVOID},
    {"should not use", DDI_ACT_AVOID}, {"do not use", DDI_ACT_AVOID},
    {"do not administer", DDI_ACT_AVOID}, {"do not coadminister", DDI_ACT_AVOID},
    {"do not co-administer", DDI_ACT_AVOID}, {"do not give", DDI_ACT_AVOID},
    {"do not take", DDI_ACT_AVOID}, {"do not start", DDI_ACT_AVOID},
    {"do not initiate", DDI_ACT_AVOID}, {"must not", DDI_ACT_AVOID}, {"never be", DDI_ACT_AVOID},
    {"not to be used", DDI_ACT_AVOID},
    {"reduce the dose", DDI_ACT_DOSE}, {"reduce dose", DDI_ACT_DOSE},
    {"reduce the dosage", DDI_ACT_DOSE}, {"reducing the dose", DDI_ACT_DOSE},
    {"dose reduction", DDI_ACT_DOSE}, {"dosage reduction", DDI_ACT_DOSE},
    {"dose reductions", DDI_ACT_DOSE}, {"reduced dose", DDI_ACT_DOSE},
    {"lower dose", DDI_ACT_DOSE}, {"lower doses", DDI_ACT_DOSE}, {"lower the dose", DDI_ACT_DOSE},
    {"lower starting dose", DDI_ACT_DOSE}, {"decrease the dose", DDI_ACT_DOSE},
    {"decrease the dosage", DDI_ACT_DOSE}, {"adjust the dose", DDI_ACT_DOSE},
    {"adjust dose", DDI_ACT_DOSE}, {"adjust the dosage", DDI_ACT_DOSE},
    {"adjust the dosages", DDI_ACT_DOSE}, {"adjust dosages", DDI_ACT_DOSE}, {"adjust dosage", DDI_ACT_DOSE},
    {"require adjustment", DDI_ACT_DOSE}, {"requires adjustment", DDI_ACT_DOSE},
    {"dose adjustment", DDI_ACT_DOSE}, {"dose adjustments", DDI_ACT_DOSE},
    {"dosage adjustment", DDI_ACT_DOSE}, {"dosage adjustments", DDI_ACT_DOSE},
    {"dosing adjustment", DDI_ACT_DOSE}, {"adjustment of the dose", DDI_ACT_DOSE},
    {"dose modification", DDI_ACT_DOSE}, {"dosage modification", DDI_ACT_DOSE},
    {"titrate", DDI_ACT_DOSE}, {"titration", DDI_ACT_DOSE}, {"do not exceed", DDI_ACT_DOSE},
    {"should not exceed", DDI_ACT_DOSE}, {"not to exceed", DDI_ACT_DOSE},
    {"limit the dose", DDI_ACT_DOSE}, {"increase the dose", DDI_ACT_DOSE},
    {"increase the dosage", DDI_ACT_DOSE}, {"dose should be", DDI_ACT_DOSE},
    {"dosage should be", DDI_ACT_DOSE}, {"should be reduced", DDI_ACT_DOSE},
    {"increased dose", DDI_ACT_DOSE}, {"increased doses", DDI_ACT_DOSE}, {"higher dose", DDI_ACT_DOSE},
    {"higher doses", DDI_ACT_DOSE}, {"increased dosage", DDI_ACT_DOSE}, {"increased dosages", DDI_ACT_DOSE}, {"dose increase", DDI_ACT_DOSE}, {"dosage increase", DDI_ACT_DOSE},
    {"should be decreased", DDI_ACT_DOSE}, {"be halved", DDI_ACT_DOSE},
    {"monitor", DDI_ACT_CAUTION}, {"monitored", DDI_ACT_CAUTION}, {"monitoring", DDI_ACT_CAUTION},
    {"caution", DDI_ACT_CAUTION}, {"cautiously", DDI_ACT_CAUTION}, {"careful", DDI_ACT_CAUTION},
    {"carefully", DDI_ACT_CAUTION}, {"closely", DDI_ACT_CAUTION}, {"close observation", DDI_ACT_CAUTION},
    {"be observed", DDI_ACT_CAUTION}, {"observed for", DDI_ACT_CAUTION}, {"be alert", DDI_ACT_CAUTION},
    {"consider", DDI_ACT_CAUTION}, {"be considered", DDI_ACT_CAUTION}, {"evaluate", DDI_ACT_CAUTION},
    {"be aware", DDI_ACT_CAUTION}, {"vigilant", DDI_ACT_CAUTION},
    {"should be checked", DDI_ACT_CAUTION}, {"check", DDI_ACT_CAUTION},
    {"is recommended", DDI_ACT_CAUTION}, {"are recommended", DDI_ACT_CAUTION},
    {"recommended that", DDI_ACT_CAUTION}, {"particular care", DDI_ACT_CAUTION},
    {NULL, DDI_ACT_NONE}};

static const char *const EFFECTS[] = {
    "increase", "increases", "increased", "increasing", "decrease", "decreases", "decreased",
    "reduce", "reduces", "reduced", "reduction", "potentiate", "potentiates", "potentiated",
    "potentiation", "enhance", "enhances", "enhanced", "prolong", "prolongs", "prolonged",
    "prolongation", "inhibit", "inhibits", "inhibited", "inhibition", "induce", "induces",
    "induction", "additive", "elevate", "elevates", "elevated", "elevation", "raise", "raises",
    "raised", "lowers", "lowered", "risk", "result in", "resulted in", "results in", "cause",
    "causes", "caused", "toxicity", "interact", "interacts", "interaction", "interactions",
    "alter", "alters", "altered", "affect", "affects", "augment", "augmented", "diminish",
    "diminished", "attenuate", "attenuated", "antagonize", "antagonizes", "antagonism", "blunt",
    "blunted", "synergistic", "synergism", "accumulation", "fold", "reported", "observed", "described",
    "associated with", "may occur", "can occur", "occurred", "has occurred", "have occurred",
    "may lead", "can lead", "leading to", "accelerate", "accelerates", "accelerated", NULL};

/* No-effect phrases: a clause with one of these and no (un-negated) action is negated. */
static const char *const NEGATIONS[] = {
    "no clinically", "not clinically", "no significant", "no relevant", "no meaningful",
    "no apparent", "no notable", "no effect", "no effects", "no change", "no changes",
    "no difference", "no interaction", "no pharmacokinetic interaction", "no increase",
    "no decrease", "no alteration", "no impact", "no influence", "no evidence", "did not", "none of",
    "no pharmacokinetic interactions", "no interactions", "has been studied", "have been studied",
    "was studied", "were studied",
    "does not", "do not appear", "do not alter", "do not affect", "do not significantly",
    "do not inhibit", "do not induce", "was not", "were not", "is not expected", "are not expected",
    "not expected", "is unlikely", "are unlikely", "unlikely to", "had no", "has no", "have no",
    "without affecting", "without any", "without significant", "not significantly", "not altered",
    "not affected", "no precautions", "no special precautions", "has not been", "have not been",
    "no formal", "similar to", "comparable", "minimal effect", "negligible", "not influence",
    "not result in", "no need", "not necessary", "not required", "not needed", "non-significant",
    "nonsignificant", "not significant", "insignificant", NULL};

static const char *const SERIOUS[] = {
    "fatal", "death", "deaths", "life-threatening", "life threatening", "serious", "severe",
    "torsade", "torsades", "serotonin syndrome", "neuroleptic malignant", "rhabdomyolysis",
    "myopathy", "bleeding", "hemorrhage", "haemorrhage", "respiratory depression", "coma",
    "hypertensive crisis", "hyperkalemia", "cardiac arrest", "agranulocytosis", "seizure",
    "seizures", "lactic acidosis", "toxicity", NULL};

static const char *const CUES[] = {
    "concomitant", "concurrent", "coadminist", "co-administ", "combination", "combined with",
    "use of", "prior to", "patients on", "in conjunction with", "when used with", "dosing with",
    "together with", "in addition to", "taking", "receiving", "treated with", "on therapy",
    "use with", "used with", "given with", "administered with", "interact", "inhibitor",
    "inducer", "substrate", "metabolized by", "metabolised by", "plasma concentration",
    "plasma level", "serum concentration", "serum level", "blood concentration", "levels of",
    "exposure", "auc", "cmax", "clearance", "switching", "switch from", "converting from",
    "converting patients",
    "transition", "added to", "addition of", NULL};

/* ============================================================================================
 * Negated action phrases
 * ========================================================================================== */
/* Is the action phrase at low[pos..pos+len) negated: "no"/"not"/"without"/"nor" among the three
 * words before it, or "is not necessary/needed/required", "unnecessary", "not be needed" among
 * the six words after it? */
static bool action_negated(const char *low, size_t pos, size_t len) {
    size_t b = pos;
    int words = 0;
    while (b > 0 && words < 3) {
        size_t e = b;
        while (e > 0 && low[e - 1] == ' ') e--;
        size_t s = e;
        while (s > 0 && low[s - 1] != ' ' && low[s - 1] != ',' && low[s - 1] != ';') s--;
        if (s == e) break;
        size_t wl = e - s;
        if ((wl == 2 && !strncmp(low + s, "no", 2)) || (wl == 3 && !strncmp(low + s, "not", 3)) ||
            (wl == 7 && !strncmp(low + s, "without", 7)) || (wl == 3 && !strncmp(low + s, "nor", 3)) ||
            (wl == 6 && !strncmp(low + s, "unless", 6)))
            return true;
        b = s;
        words++;
        if (s > 0 && (low[s - 1] == ',' || low[s - 1] == ';')) break;
    }
    char after[160];
    size_t a = pos + len, k = 0;
    for (int w = 0; low[a] && w < 7 && k + 1 < sizeof after; a++) {
        if (low[a] == ',' || low[a] == ';' || low[a] == '.') break;
        if (low[a] == ' ') w++;
        after[k++] = low[a];
    }
    after[k] = 0;
    static const char *const POST[] = {"not necessary", "not needed", "not required", "unnecessary",
                                       "not be necessary", "not be needed", "not be required",
                                       "not warranted", "not recommended", NULL};
    for (int i = 0; POST[i]; i++)
        if (strstr(after, POST[i])) return true;
    return false;
}

/* First un-negated occurrence of w in low at word boundaries? */
static bool has_live(const char *low, const char *w, bool check_neg) {
    size_t wl = strlen(w);
    for (const char *p = strstr(low, w); p; p = strstr(p + 1, w)) {
        bool left = p == low || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
        char r = p[wl];
        bool right = !((r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'));
        if (!left || !right) continue;
        if (!check_neg || !action_negated(low, (size_t)(p - low), wl)) return true;
    }
    return false;
}

/* ============================================================================================
 * Classification
 * ========================================================================================== */
/* Offset of the first occurrence of w at word boundaries, SIZE_MAX when none. */
static size_t word_pos(const char *low, const char *w) {
    size_t wl = strlen(w);
    for (const char *p = strstr(low, w); p; p = strstr(p + 1, w)) {
        bool left = p == low || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
        char r = p[wl];
        bool right = !((r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'));
        if (left && right) return (size_t)(p - low);
    }
    return SIZE_MAX;
}
/* "if a decision is made to discontinue ...", "if ... occurs, discontinue", "... should be
 * discontinued immediately if the above events occur": managing an adverse event or a plan, not
 * an instruction about the combination — counts as caution. */
static bool conditional_discontinue(const char *low) {
    size_t at = word_pos(low, "discontinue");
    if (at == SIZE_MAX) at = word_pos(low, "be discontinued");
    if (at == SIZE_MAX) return false;
    char before[1024];
    snprintf(before, sizeof before, "%.*s", (int)(at < sizeof before - 1 ? at : sizeof before - 1), low);
    size_t bl = strlen(before);
    bool infinitive = bl >= 3 && !strcmp(before + bl - 3, "to ");
    const char *after = low + at;
    bool event_after = orx_ddi_has_word(after, "if") && (orx_ddi_has_word(after, "occur") || orx_ddi_has_word(after, "occurs") ||
                                                     orx_ddi_has_word(after, "develop") || orx_ddi_has_word(after, "develops") ||
                                                     orx_ddi_has_word(after, "suspected") || orx_ddi_has_word(after, "signs"));
    return orx_ddi_has_word(before, "if") || orx_ddi_has_word(before, "decision") || infinitive || event_after;
}

static bool told_to_avoid(const char *low) {
    static const char *const W[] = {"advised to avoid", "instructed to avoid", "told to avoid", "cautioned to avoid",
                                    "encouraged to avoid", NULL};
    for (int i = 0; W[i]; i++)
        if (strstr(low, W[i])) return true;
    return false;
}

static bool dose_limit(const char *low) {
    static const char *const W[] = {"avoid doses", "avoid dosages", "avoid daily doses", "avoid a dose", NULL};
    for (int i = 0; W[i]; i++)
        if (strstr(low, W[i])) return true;
    return false;
}

ddi_action orx_ddi_classify(const char *low) {
    ddi_action a = {DDI_ACT_NONE, false, false};
    for (int i = 0; ACTIONS[i].w; i++) {
        if (ACTIONS[i].act <= a.act) continue;
        /* "not recommended" is itself the action; everything else can be negated */
        bool neg_check = strncmp(ACTIONS[i].w, "not", 3) != 0;
        if (!has_live(low, ACTIONS[i].w, neg_check)) continue;
        /* "dose adjustment is not recommended" says no change is needed */
        if (!strcmp(ACTIONS[i].w, "not recommended") &&
            (strstr(low, "adjustment is not recommended") || strstr(low, "adjustments are not recommended") ||
             strstr(low, "adjustment not recommended")))
            continue;
        /* "to avoid significant interference": a purpose, not a prohibition ("advised to avoid
         * alcohol" is the instruction itself) */
        if (ACTIONS[i].act == DDI_ACT_AVOID && !strncmp(ACTIONS[i].w, "avoid", 5) && strstr(low, "to avoid") &&
            word_pos(low, "avoid") == (size_t)(strstr(low, "to avoid") - low) + 3 && !told_to_avoid(low)) {
            if (a.act < DDI_ACT_CAUTION) a.act = DDI_ACT_CAUTION;
            continue;
        }
        /* "Avoid doses greater than 10 mg of simvastatin": a dose limit */
        if (ACTIONS[i].act == DDI_ACT_AVOID && !strncmp(ACTIONS[i].w, "avoid", 5) && dose_limit(low)) {
            if (a.act < DDI_ACT_DOSE) a.act = DDI_ACT_DOSE;
            continue;
        }
        a.act = ACTIONS[i].act;
        if (a.act == DDI_ACT_DISCONTINUE && conditional_discontinue(low)) a.act = DDI_ACT_CAUTION;
    }
    if (a.act == DDI_ACT_NONE) {
        /* an effect stated before any no-effect phrase counts ("increased AUC by 30% with no
         * change in Cmax"); a no-effect phrase first negates ("did not increase"), and "not /
         * no clinically significant" negates the whole clause */
        size_t neg_at = SIZE_MAX, eff_at = SIZE_MAX;
        for (int i = 0; NEGATIONS[i]; i++) {
            size_t at = word_pos(low, NEGATIONS[i]);
            if (at < neg_at) neg_at = at;
        }
        for (int i = 0; EFFECTS[i]; i++) {
            size_t at = word_pos(low, EFFECTS[i]);
            if (at < eff_at) eff_at = at;
        }
        /* "... has not been evaluated / studied", "None of these drugs alters ...": whatever
         * the clause says before, it reports no interaction */
        static const char *const WHOLE[] = {"no clinically", "not clinically", "has not been evaluated",
                                            "have not been evaluated", "has not been studied", "have not been studied",
                                            "not been conducted", "none of these", "none of the", NULL};
        bool clinical = false;
        for (int i = 0; WHOLE[i] && !clinical; i++) clinical = orx_ddi_has_word(low, WHOLE[i]);
        if (neg_at != SIZE_MAX && (clinical || neg_at < eff_at)) a.act = DDI_ACT_NEGATED;
        else if (eff_at != SIZE_MAX) a.act = DDI_ACT_EFFECT;
    }
    for (int i = 0; SERIOUS[i] && !a.serious; i++) a.serious = orx_ddi_has_word(low, SERIOUS[i]);
    a.in_vitro = orx_ddi_has_word(low, "in vitro") || orx_ddi_has_word(low, "in-vitro") ||
                 orx_ddi_has_word(low, "in cell culture") || orx_ddi_has_word(low, "cell culture") ||
                 orx_ddi_has_word(low, "antiviral activity") || orx_ddi_has_word(low, "antibacterial activity") ||
                 orx_ddi_has_word(low, "antifungal activity");
    return a;
}

bool orx_ddi_has_cue(const char *low) {
    for (int i = 0; CUES[i]; i++)
        if (strstr(low, CUES[i])) return true;
    return false;
}

const char *orx_ddi_act_name(ddi_act a) {
    switch (a) {
    case DDI_ACT_CONTRA: return "contraindicated";
    case DDI_ACT_DISCONTINUE: return "discontinue";
    case DDI_ACT_AVOID: return "avoid";
    case DDI_ACT_DOSE: return "dose";
    case DDI_ACT_CAUTION: return "monitor";
    case DDI_ACT_EFFECT: return "effect";
    case DDI_ACT_NEGATED: return "negated";
    default: return "none";
    }
}

/* ============================================================================================
 * Tier
 * ========================================================================================== */
orx_severity orx_ddi_tier(ddi_act a, bool serious, const char *code, bool *emit) {
    *emit = a >= DDI_ACT_EFFECT;
    if (!*emit) return ORX_SEV_INFO;
    bool ci = code && !strcmp(code, "34070-3"), boxed = code && !strcmp(code, "34066-1");
    orx_severity t;
    switch (a) {
    case DDI_ACT_CONTRA: t = ORX_SEV_CONTRAINDICATED; break;
    case DDI_ACT_DISCONTINUE:
    case DDI_ACT_AVOID: t = ORX_SEV_MAJOR; break;
    case DDI_ACT_DOSE:
    case DDI_ACT_CAUTION: t = ORX_SEV_MODERATE; break;
    default: t = serious ? ORX_SEV_MODERATE : ORX_SEV_MINOR; break;
    }
    if (ci && (a == DDI_ACT_EFFECT || a == DDI_ACT_AVOID || a == DDI_ACT_DISCONTINUE))
        t = ORX_SEV_CONTRAINDICATED; /* a Contraindications-section statement naming the drug */
    if (boxed && t < ORX_SEV_MAJOR) t = ORX_SEV_MAJOR;
    return t;
}

bool orx_ddi_large_amounts(const char *low) {
    static const char *const Q[] = {"large amounts", "large amount", "large doses", "high doses",
                                    "excessive amounts", "excessive doses", "higher doses of", "excessive alcohol",
                                    "excessive use", "excessive intake", NULL};
    for (int i = 0; Q[i]; i++)
        if (strstr(low, Q[i])) return true;
    return false;
}

bool orx_ddi_dose_qualified(const char *low) {
    static const char *const Q[] = {"large amounts", "large amount", "large doses", "high doses",
                                    "excessive amounts", "excessive doses", "higher doses of",
                                    "intramuscular", "parenteral", NULL};
    for (int i = 0; Q[i]; i++)
        if (strstr(low, Q[i])) return true;
    return false;
}
