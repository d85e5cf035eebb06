#define _GNU_SOURCE 1 /* strcasestr */
/*
 * options.c — the options step of the recommend pipeline: the drugs whose label's Indications &
 * Usage section states the indication (found by the knowledge base: kb/indications.c), each
 * screened by the safety checker against this patient with the bare ingredient
 * (contraindications, renal, hepatic, interactions with the current medicines, allergy,
 * pregnancy/lactation, pharmacogenomics, duplicates), then ordered for the choice:
 *   1. options without a major or contraindicated finding, by how well the label states the
 *      indication (the knowledge base's order);
 *   2. options with a major finding, same order;
 *   3. contraindicated options: shown with the reason, never offered as the choice.
 * The choice (what the model may pick) is the first ORX_RX_MAX_CHOICE options of groups 1–2 whose
 * match is at least 60 % of the best option's: with "atrial fibrillation, stroke prevention" the
 * labels that state both, not those that state only "stroke". A label that names the condition
 * only as the patients treated for another one (irbesartan's "diabetic nephropathy … in patients
 * with type 2 diabetes" for "type 2 diabetes") is listed, never offered as the choice.
 */
#include "rx/rx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHOICE_SHARE 0.6 /* an option in the choice matches at least this share of the best score */

void orx_rx_options_clear(orx_rx_options *o) {
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].ind.quote.text);
        free(o->v[i].ind.quote.snippet);
        orx_findings_clear(&o->v[i].findings);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

/* ============================================================================================
 * Patient band (chooses dosing paragraphs)
 * ========================================================================================== */
static bool names_liver_disease(const char *t) {
    static const char *const W[] = {"cirrhosis", "hepatic", "liver", "hepatitis", "child-pugh", "child pugh", NULL};
    for (int i = 0; W[i]; i++)
        if (strcasestr(t, W[i])) return true;
    return false;
}

orx_retrieval_band orx_rx_band(const orx_patient *pt) {
    orx_retrieval_band b;
    memset(&b, 0, sizeof b);
    b.renal_impaired = pt->renal_band == ORX_RENAL_MODERATE || pt->renal_band == ORX_RENAL_SEVERE ||
                       pt->renal_band == ORX_RENAL_FAILURE;
    b.renal_severe = pt->renal_band == ORX_RENAL_SEVERE || pt->renal_band == ORX_RENAL_FAILURE;
    b.renal_ml_min = pt->crcl.present ? pt->crcl.value : pt->egfr.present ? pt->egfr.value : 0;
    for (size_t i = 0; i < pt->n_conditions; i++) b.hepatic_impaired |= names_liver_disease(pt->conditions[i].text);
    b.geriatric = pt->age_band == ORX_AGE_GERIATRIC;
    b.pediatric = pt->age_band == ORX_AGE_PEDIATRIC;
    b.pregnant = pt->pregnant == ORX_TRI_YES;
    b.lactating = pt->lactating == ORX_TRI_YES;
    return b;
}

/* ============================================================================================
 * Screening
 * ========================================================================================== */
static orx_status screen(const orx_checker *ck, const orx_patient *pt, orx_rx_option *o, orx_error *err) {
    orx_findings_init(&o->findings);
    orx_proposed_drug d;
    orx_status st = orx_proposed_drug_init(ck, o->ind.name, NULL, &d, err);
    if (st != ORX_OK) return st;
    if (d.n_ingr > 0) snprintf(o->rxcui, sizeof o->rxcui, "%s", d.ingr[0].rxcui);
    st = orx_check_proposed(ck, pt, &d, 1, &o->findings, err);
    if (st != ORX_OK) return st;
    orx_findings_sort(&o->findings);
    o->any_finding = orx_findings_max_severity(&o->findings, &o->worst);
    if (o->any_finding && o->worst >= ORX_SEV_CONTRAINDICATED) {
        o->excluded = true;
        for (size_t i = 0; i < o->findings.n; i++)
            if (o->findings.items[i].severity >= ORX_SEV_CONTRAINDICATED) {
                snprintf(o->excluded_why, sizeof o->excluded_why, "%s: %s", o->findings.items[i].kind,
                         o->findings.items[i].message);
                break;
            }
    }
    return ORX_OK;
}

/* 0: no major finding, 1: major, 2: contraindicated */
static int group_of(const orx_rx_option *o) {
    if (o->excluded) return 2;
    return o->any_finding && o->worst >= ORX_SEV_MAJOR ? 1 : 0;
}

/* ============================================================================================
 * The step
 * ========================================================================================== */
orx_status orx_rx_find_options(const orx_retriever *ret, const orx_checker *ck, const orx_patient *pt,
                               const char *indication, bool problem, int max_choice,
                               orx_rx_options *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    if (!ret || !ret->options) return ORX_OK;
    double t0 = orx_now();
    orx_ind_options io;
    orx_status st = ret->options(ret->self, indication, problem, &io, err);
    if (st != ORX_OK) return st;
    out->ran = true;
    out->query = io.query;
    out->labels = io.labels;
    out->sentences = io.sentences;
    out->v = calloc(io.n + 1, sizeof *out->v);
    if (!out->v) {
        orx_ind_options_clear(&io);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    /* take the options over (the quotes' text moves with them) */
    for (size_t i = 0; i < io.n; i++) {
        out->v[i].ind = io.v[i];
        io.v[i].quote.text = io.v[i].quote.snippet = NULL;
        out->n = i + 1;
    }
    orx_ind_options_clear(&io);
    for (size_t i = 0; st == ORX_OK && i < out->n; i++) st = screen(ck, pt, &out->v[i], err);
    if (st != ORX_OK) {
        orx_rx_options_clear(out);
        return st;
    }
    /* stable order by screening group, the knowledge base's match order within a group */
    orx_rx_option *sorted = malloc((out->n + 1) * sizeof *sorted);
    if (!sorted) {
        orx_rx_options_clear(out);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (int g = 0; g < 3; g++)
        for (size_t i = 0; i < out->n; i++)
            if (group_of(&out->v[i]) == g) sorted[k++] = out->v[i];
    free(out->v);
    out->v = sorted;
    /* the choice: options that state the indication nearly as fully as the best one (a label
     * stating every condition of the query outranks one stating a part of it) */
    double best = 0;
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].ind.score > best) best = out->v[i].ind.score;
    int cap = max_choice > 0 ? max_choice : ORX_RX_MAX_CHOICE;
    for (size_t i = 0; i < out->n && (int)out->n_choice < cap; i++)
        if (!out->v[i].excluded && out->v[i].ind.stated != ORX_IND_STATED_POPULATION &&
            out->v[i].ind.score >= CHOICE_SHARE * best)
            out->v[i].in_choice = true, out->n_choice++;
    if (out->n == 0)
        snprintf(out->note, sizeof out->note, "no label in the knowledge base states this indication "
                 "(%d labels' Indications & Usage sections searched)", out->labels);
    else if (out->n_choice == 0)
        snprintf(out->note, sizeof out->note, "every label-indicated option is contraindicated for this patient");
    out->seconds = orx_now() - t0;
    return ORX_OK;
}
