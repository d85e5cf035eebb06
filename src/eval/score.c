/* score.c — score one answer against a case's truth (drug choice, avoid list, dose range). */
#include "eval/eval.h"
#include <string.h>

/* ============================================================================================
 * Units: mass units compared in mg; anything else must match exactly (case-insensitive).
 * ========================================================================================== */
static bool to_mg(double v, const char *unit, double *out) {
    if (orx_str_ieq(unit, "mg")) *out = v;
    else if (orx_str_ieq(unit, "g")) *out = v * 1000.0;
    else if (orx_str_ieq(unit, "mcg") || orx_str_ieq(unit, "ug") || orx_str_ieq(unit, "µg")) *out = v / 1000.0;
    else return false;
    return true;
}

/* Is amount/unit inside the truth range? Sets *comparable false when the units do not compare. */
static bool dose_in(const orx_eval_dose *d, double amount, const char *unit, bool *comparable) {
    double a, lo, hi;
    *comparable = true;
    if (to_mg(amount, unit, &a) && to_mg(d->min, d->unit, &lo) && to_mg(d->max, d->unit, &hi))
        return a >= lo - 1e-9 && a <= hi + 1e-9;
    if (orx_str_ieq(unit, d->unit)) return amount >= d->min - 1e-9 && amount <= d->max + 1e-9;
    *comparable = false;
    return false;
}

/* ============================================================================================
 * Public
 * ========================================================================================== */
orx_eval_score orx_eval_score_answer(const orx_eval_case *c, const orx_eval_answer *a) {
    orx_eval_score s = {.correct = -1, .abstained = a->abstained};
    if (c->kind == ORX_EVAL_MCQ) {
        s.correct = a->mcq_choice[0] && !strcmp(a->mcq_choice, c->answer);
        return s;
    }
    if (c->n_acceptable > 0) {
        s.correct = 0;
        for (int i = 0; i < a->n && !s.correct; i++)
            for (int j = 0; j < c->n_acceptable; j++)
                if (!strcmp(a->ingredients[i], c->acceptable[j])) { s.correct = 1; break; }
    }
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < c->n_avoid; j++)
            if (!strcmp(a->ingredients[i], c->avoid[j].drug)) s.avoid_violation = true;
        for (int j = 0; j < c->n_doses; j++) {
            if (strcmp(a->ingredients[i], c->doses[j].drug) || a->dose_amount[i] <= 0) continue;
            bool comparable;
            bool in = dose_in(&c->doses[j], a->dose_amount[i], a->dose_unit[i], &comparable);
            if (!comparable) continue;
            s.dose_checked++;
            if (in) s.dose_in_range++;
            break;
        }
    }
    return s;
}

void orx_eval_answer_from_rx(const orx_rx_result *r, const orx_lexicon *lex, orx_eval_answer *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < r->n_cands && a->n < ORX_RX_MAX_CANDIDATES; i++) {
        const orx_rx_candidate *cd = &r->cands[i];
        char name[ORX_EVAL_NAME];
        snprintf(name, sizeof name, "%s", cd->ingredient);
        orx_lex_match m;
        if (lex && orx_lexicon_lookup(lex, cd->ingredient, &m, 1) > 0) snprintf(name, sizeof name, "%s", m.ingredient);
        orx_str_lower(name);
        if (!*orx_str_trim(name)) continue;
        snprintf(a->ingredients[a->n], ORX_EVAL_NAME, "%s", orx_str_trim(name));
        a->dose_amount[a->n] = cd->dose_amount;
        snprintf(a->dose_unit[a->n], sizeof a->dose_unit[0], "%s", cd->dose_unit);
        a->n++;
    }
    a->abstained = a->n == 0;
}
