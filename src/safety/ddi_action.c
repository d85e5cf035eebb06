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
/* Action phrases, one list per action. */
static const char *const CONTRA[] = {"contraindicated", "contra-indicated", NULL};
static const char *const DISCONTINUE[] = {"discontinue", "be discontinued", "be stopped", "withhold",
    "be withheld", "interrupt", NULL};
static const char *const AVOID[] = {"avoid", "avoided", "avoiding", "not recommended", "not advised",
    "not be used", "not be administered", "not be coadministered", "not be co-administered", "not be given",
    "not be taken", "not be combined", "not be prescribed", "not be started", "not be initiated",
    "should not receive", "should not take", "should not use", "do not use", "do not administer",
    "do not coadminister", "do not co-administer", "do not give", "do not take", "do not start",
    "do not initiate", "must not", "never be", "not to be used", NULL};
static const char *const DOSE[] = {"reduce the dose", "reduce dose", "reduce the dosage",
    "reducing the dose", "dose reduction", "dosage reduction", "dose reductions", "reduced dose",
    "lower dose", "lower doses", "lower the dose", "lower starting dose", "decrease the dose",
    "decrease the dosage", "adjust the dose", "adjust dose", "adjust the dosage", "adjust the dosages",
    "adjust dosages", "adjust dosage", "require adjustment", "requires adjustment", "dose adjustment",
    "dose adjustments", "dosage adjustment", "dosage adjustments", "dosing adjustment",
    "adjustment of the dose", "dose modification", "dosage modification", "titrate", "titration",
    "do not exceed", "should not exceed", "not to exceed", "limit the dose", "increase the dose",
    "increase the dosage", "dose should be", "dosage should be", "should be reduced", "increased dose",
    "increased doses", "higher dose", "higher doses", "increased dosage", "increased dosages",
    "dose increase", "dosage increase", "should be decreased", "be halved", NULL};
static const char *const CAUTION[] = {"monitor", "monitored", "monitoring", "caution", "cautiously",
    "careful", "carefully", "closely", "close observation", "be observed", "observed for", "be alert",
    "consider", "be considered", "evaluate", "be aware", "vigilant", "should be checked", "check",
    "is recommended", "are recommended", "recommended that", "particular care", NULL};

/* The actions a clause is searched for, strongest first. */
static const struct { ddi_act act; const char *const *w; } ACTIONS[] = {
    {DDI_ACT_CONTRA, CONTRA}, {DDI_ACT_DISCONTINUE, DISCONTINUE}, {DDI_ACT_AVOID, AVOID},
    {DDI_ACT_DOSE, DOSE}, {DDI_ACT_CAUTION, CAUTION}};

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
    return orx_str_has_any(after, POST);
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
    return orx_str_has_any(low, W);
}

static bool dose_limit(const char *low) {
    static const char *const W[] = {"avoid doses", "avoid dosages", "avoid daily doses", "avoid a dose", NULL};
    return orx_str_has_any(low, W);
}

ddi_action orx_ddi_classify(const char *low) {
    ddi_action a = {DDI_ACT_NONE, false, false};
    for (size_t g = 0; g < sizeof ACTIONS / sizeof *ACTIONS; g++) {
        ddi_act act = ACTIONS[g].act;
        for (const char *const *wp = ACTIONS[g].w; *wp && act > a.act; wp++) {
            const char *w = *wp;
            /* "not recommended" is itself the action; everything else can be negated */
            bool neg_check = strncmp(w, "not", 3) != 0;
            if (!has_live(low, w, neg_check)) continue;
            /* "dose adjustment is not recommended" says no change is needed */
            if (!strcmp(w, "not recommended") &&
                (strstr(low, "adjustment is not recommended") || strstr(low, "adjustments are not recommended") ||
                 strstr(low, "adjustment not recommended")))
                continue;
            /* "to avoid significant interference": a purpose, not a prohibition ("advised to avoid
             * alcohol" is the instruction itself) */
            if (act == DDI_ACT_AVOID && !strncmp(w, "avoid", 5) && strstr(low, "to avoid") &&
                word_pos(low, "avoid") == (size_t)(strstr(low, "to avoid") - low) + 3 && !told_to_avoid(low)) {
                if (a.act < DDI_ACT_CAUTION) a.act = DDI_ACT_CAUTION;
                continue;
            }
            /* "Avoid doses greater than 10 mg of simvastatin": a dose limit */
            if (act == DDI_ACT_AVOID && !strncmp(w, "avoid", 5) && dose_limit(low)) {
                if (a.act < DDI_ACT_DOSE) a.act = DDI_ACT_DOSE;
                continue;
            }
            a.act = act;
            if (a.act == DDI_ACT_DISCONTINUE && conditional_discontinue(low)) a.act = DDI_ACT_CAUTION;
        }
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
    return orx_str_has_any(low, CUES);
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
    return orx_str_has_any(low, Q);
}

bool orx_ddi_dose_qualified(const char *low) {
    static const char *const Q[] = {"large amounts", "large amount", "large doses", "high doses",
                                    "excessive amounts", "excessive doses", "higher doses of",
                                    "intramuscular", "parenteral", NULL};
    return orx_str_has_any(low, Q);
}
