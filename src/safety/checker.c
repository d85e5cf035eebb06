/*
 * checker.c — the checker handle, the check registry and the two entry points: proposed drugs
 * against a patient, and a patient's current list pairwise. Unrecognised drugs and unparseable
 * proposed doses become findings here; every other finding comes from a registered check.
 */
#include "safety/checks.h"
#include "safety/label_rules.h"

#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Registry — one line per check. Run order = table order.
 * ========================================================================================== */
static const orx_check_def CHECKS[] = {
    {"interaction", orx_check_interaction, orx_check_interaction_init, orx_check_interaction_fini},
    {"duplicate", orx_check_duplicate, NULL, NULL},
    {"allergy", orx_check_allergy, NULL, NULL},
    /* label-derived checks (tables under data/rules, data/pgx, data/dili) */
    {"renal", orx_check_renal, orx_check_renal_init, orx_check_renal_fini},
    {"hepatic", orx_check_hepatic, orx_check_hepatic_init, orx_check_hepatic_fini},
    {"pregnancy", orx_check_pregnancy, orx_check_pregnancy_init, orx_check_pregnancy_fini},
    {"pgx", orx_check_pgx, orx_check_pgx_init, orx_check_pgx_fini},
    {"dose", orx_check_dose, orx_check_dose_init, orx_check_dose_fini},
    {"dose_indication", orx_check_dose_indication, orx_check_dose_indication_init, orx_check_dose_indication_fini},
    {"labs", orx_check_labs, orx_check_labs_init, orx_check_labs_fini},
};
#define N_CHECKS (sizeof CHECKS / sizeof CHECKS[0])

const orx_check_def *orx_checker_checks(size_t *n) {
    if (n) *n = N_CHECKS;
    return CHECKS;
}

struct orx_checker {
    char         data_dir[4096];   /* project data/ folder */
    orx_lexicon *lex;              /* drug-name lexicon */
    orx_severity min_severity;     /* findings below are dropped */
    void        *state[N_CHECKS];  /* per-check state from init hooks */
    orx_srl_table organ_impairment; /* data/rules/organ_impairment.tsv (ncols 0 when absent) */
};

/* Tables shared by several checks (before their init hooks run). */
static orx_status load_shared_tables(orx_checker *ck, orx_error *err) {
    static const char *const need_oi[] = {"ingredient", "organ", "metric", "mild", "moderate",
                                          "severe", "esrd", "ref", "row", NULL};
    char p[4200];
    snprintf(p, sizeof p, "%s/rules/organ_impairment.tsv", ck->data_dir);
    if (!orx_file_exists(p)) return ORX_OK;
    orx_status st = orx_srl_table_load(ck->data_dir, "rules/organ_impairment.tsv", need_oi,
                                       &ck->organ_impairment, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&ck->organ_impairment, "ingredient", ck->lex, err);
    return st;
}

const struct orx_srl_table *orx_checker_organ_impairment(const orx_checker *ck) {
    return ck ? &ck->organ_impairment : NULL;
}

orx_status orx_check_run(const orx_checker *ck, const char *kind, const orx_patient *pt,
                         const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    if (!ck || !kind || !drug || !out) return orx_fail(err, ORX_ERR_USAGE, "orx_check_run: missing argument");
    for (size_t i = 0; i < N_CHECKS; i++)
        if (!strcmp(CHECKS[i].kind, kind)) return CHECKS[i].run(ck, pt, drug, out, err);
    return orx_fail(err, ORX_ERR_NOT_FOUND, "no check of kind \"%s\"", kind);
}

/* ============================================================================================
 * Create / free
 * ========================================================================================== */
orx_checker_params orx_checker_default_params(void) {
    orx_checker_params p = {.data_dir = NULL, .min_severity = ORX_SEV_INFO};
    return p;
}

orx_status orx_checker_create(const orx_checker_params *params, orx_checker **out, orx_error *err) {
    if (!out) return orx_fail(err, ORX_ERR_USAGE, "orx_checker_create: out is NULL");
    *out = NULL;
    orx_checker_params p = params ? *params : orx_checker_default_params();
    orx_checker *ck = calloc(1, sizeof *ck);
    if (!ck) return orx_fail(err, ORX_ERR_NOMEM, "checker: out of memory");
    orx_fset(ck->data_dir, sizeof ck->data_dir, "%s",
             p.data_dir ? p.data_dir : orx_lexicon_default_data_dir());
    ck->min_severity = p.min_severity;
    orx_status st = orx_lexicon_open(ck->data_dir, &ck->lex, err);
    if (st == ORX_OK) st = load_shared_tables(ck, err);
    for (size_t i = 0; st == ORX_OK && i < N_CHECKS; i++)
        if (CHECKS[i].init) st = CHECKS[i].init(ck, &ck->state[i], err);
    if (st) {
        orx_checker_free(ck);
        return st;
    }
    *out = ck;
    return ORX_OK;
}

void orx_checker_free(orx_checker *ck) {
    if (!ck) return;
    for (size_t i = 0; i < N_CHECKS; i++)
        if (CHECKS[i].fini && ck->state[i]) CHECKS[i].fini(ck->state[i]);
    orx_srl_table_clear(&ck->organ_impairment);
    orx_lexicon_free(ck->lex);
    free(ck);
}

const orx_lexicon *orx_checker_lexicon(const orx_checker *ck) { return ck ? ck->lex : NULL; }
const char *orx_checker_data_dir(const orx_checker *ck) { return ck ? ck->data_dir : NULL; }

void *orx_checker_state(const orx_checker *ck, const char *kind) {
    if (!ck || !kind) return NULL;
    for (size_t i = 0; i < N_CHECKS; i++)
        if (strcmp(CHECKS[i].kind, kind) == 0) return ck->state[i];
    return NULL;
}

/* ============================================================================================
 * Proposed drugs
 * ========================================================================================== */
static void resolve(const orx_checker *ck, orx_proposed_drug *d) {
    orx_lex_match m[ORX_MAX_INGR];
    int n = 0;
    if (d->rxcui[0]) n = orx_lexicon_lookup(ck->lex, d->rxcui, m, ORX_MAX_INGR);
    if (n == 0) n = orx_lexicon_lookup(ck->lex, d->text, m, ORX_MAX_INGR);
    if (n > ORX_MAX_INGR) n = ORX_MAX_INGR;
    memcpy(d->ingr, m, (size_t)n * sizeof m[0]);
    d->n_ingr = n;
}

orx_status orx_proposed_drug_init(const orx_checker *ck, const char *text, const char *rxcui,
                                  orx_proposed_drug *out, orx_error *err) {
    if (!ck || !out || !text) return orx_fail(err, ORX_ERR_USAGE, "orx_proposed_drug_init: NULL argument");
    memset(out, 0, sizeof *out);
    orx_fset(out->text, sizeof out->text, "%s", text);
    orx_fset(out->rxcui, sizeof out->rxcui, "%s", rxcui ? rxcui : "");
    bool code = *text != 0;
    for (const char *p = text; *p; p++) code &= *p >= '0' && *p <= '9';
    if (code && !out->rxcui[0]) orx_fset(out->rxcui, sizeof out->rxcui, "%s", text); /* a bare RxCUI */
    resolve(ck, out);
    orx_error derr = ORX_ERROR_INIT;
    if (!code && orx_dose_parse_n(text, out->n_ingr, &out->dose, &derr) != ORX_OK) {
        orx_fset(out->dose_error, sizeof out->dose_error, "%s", derr.msg);
        memset(&out->dose, 0, sizeof out->dose);
    }
    return ORX_OK;
}

orx_status orx_proposed_drug_from_med(const orx_checker *ck, const orx_medication *med,
                                      orx_proposed_drug *out, orx_error *err) {
    if (!ck || !out || !med) return orx_fail(err, ORX_ERR_USAGE, "orx_proposed_drug_from_med: NULL argument");
    memset(out, 0, sizeof *out);
    orx_fset(out->text, sizeof out->text, "%s", med->text);
    orx_fset(out->rxcui, sizeof out->rxcui, "%s", med->rxnorm);
    out->is_current = true;
    resolve(ck, out);
    orx_error derr = ORX_ERROR_INIT;
    const char *dt = med->dose_text[0] ? med->dose_text : "";
    if (orx_dose_parse_n(dt, out->n_ingr, &out->dose, &derr) != ORX_OK) {
        orx_fset(out->dose_error, sizeof out->dose_error, "%s", derr.msg);
        memset(&out->dose, 0, sizeof out->dose);
    }
    if (!out->dose.present && med->dose_value > 0 && med->dose_unit[0]) {
        out->dose.present = true;
        out->dose.amount = out->dose.amount_low = med->dose_value;
        orx_fset(out->dose.unit, sizeof out->dose.unit, "%s", med->dose_unit);
    }
    if (!out->dose.route[0] && med->route[0]) {
        orx_dose rd;
        if (orx_dose_parse(med->route, &rd, &derr) == ORX_OK && rd.route[0])
            orx_fset(out->dose.route, sizeof out->dose.route, "%s", rd.route);
    }
    return ORX_OK;
}

orx_status orx_proposed_drug_from_parts(const orx_checker *ck, const char *ingredient, const orx_dose_parts *parts,
                                        orx_proposed_drug *out, orx_error *err) {
    if (!ck || !out || !ingredient || !parts) return orx_fail(err, ORX_ERR_USAGE, "orx_proposed_drug_from_parts: NULL argument");
    memset(out, 0, sizeof *out);
    orx_fset(out->text, sizeof out->text, "%.80s %g %.15s %.23s %.60s", ingredient, parts->amount,
             parts->unit ? parts->unit : "", parts->route ? parts->route : "", parts->frequency ? parts->frequency : "");
    orx_lex_match m[ORX_MAX_INGR];
    int n = orx_lexicon_lookup(ck->lex, ingredient, m, ORX_MAX_INGR);
    if (n > ORX_MAX_INGR) n = ORX_MAX_INGR;
    memcpy(out->ingr, m, (size_t)n * sizeof m[0]);
    out->n_ingr = n;
    orx_error derr = ORX_ERROR_INIT;
    if (orx_dose_from_parts(parts, out->n_ingr, &out->dose, &derr) != ORX_OK) {
        orx_fset(out->dose_error, sizeof out->dose_error, "%s", derr.msg);
        memset(&out->dose, 0, sizeof out->dose);
    }
    return ORX_OK;
}

const char *orx_proposed_drug_name(const orx_proposed_drug *d, char *buf, size_t cap) {
    if (!buf || cap == 0) return "";
    buf[0] = 0;
    if (!d) return buf;
    if (d->n_ingr == 0) {
        orx_fset(buf, cap, "%s", d->text);
        return buf;
    }
    size_t o = 0;
    for (int i = 0; i < d->n_ingr && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " / " : "", d->ingr[i].ingredient);
    return buf;
}

/* ============================================================================================
 * Running
 * ========================================================================================== */
static orx_status add_unrecognised(const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    orx_finding *f = orx_findings_push(out, "unrecognised", d->is_current ? ORX_SEV_INFO : ORX_SEV_MAJOR);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "checker: out of memory");
    f->interruptive = !d->is_current;
    orx_fset(f->drugs, sizeof f->drugs, "%s", d->text);
    orx_fset(f->trigger, sizeof f->trigger, "%s%s%s", d->is_current ? "active medicine" : "proposed drug",
             d->rxcui[0] ? ", RxCUI " : "", d->rxcui);
    orx_fset(f->message, sizeof f->message,
             "Drug not recognised: '%s' matches no ingredient, brand, salt, clinical drug or RxCUI in "
             "the lexicon, so it was NOT checked for interactions, duplicates, allergies or limits.",
             d->text);
    orx_fset(f->management, sizeof f->management,
             "Check the spelling or give the generic name or RxCUI; review this drug by hand.");
    orx_fset(f->source, sizeof f->source, "openrx lexicon");
    orx_fset(f->citation, sizeof f->citation, "data/lexicon/lexicon.tsv (data/lexicon/SOURCE.md)");
    return ORX_OK;
}

static orx_status add_dose_error(const orx_proposed_drug *d, orx_findings *out, orx_error *err) {
    orx_finding *f = orx_findings_push(out, "dose", ORX_SEV_MODERATE);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "checker: out of memory");
    char name[256];
    orx_fset(f->drugs, sizeof f->drugs, "%s", orx_proposed_drug_name(d, name, sizeof name));
    orx_fset(f->trigger, sizeof f->trigger, "proposed drug: %s", d->text);
    orx_fset(f->message, sizeof f->message, "The %s dose could not be parsed (%s); dose limits were "
             "not checked.", f->drugs, d->dose_error);
    orx_fset(f->management, sizeof f->management, "Write the dose as amount, unit, route and frequency "
             "(e.g. \"400 mg orally every 6 hours\").");
    orx_fset(f->source, sizeof f->source, "openrx dose parser");
    orx_fset(f->citation, sizeof f->citation, "src/safety/dose_parse.c");
    return ORX_OK;
}

static orx_status run_one(const orx_checker *ck, const orx_patient *pt, const orx_proposed_drug *d,
                          orx_findings *out, orx_error *err) {
    if (d->n_ingr == 0) return add_unrecognised(d, out, err);
    if (!d->is_current && d->dose_error[0]) {
        orx_status st = add_dose_error(d, out, err);
        if (st) return st;
    }
    for (size_t i = 0; i < N_CHECKS; i++) {
        orx_status st = CHECKS[i].run(ck, pt, d, out, err);
        if (st) return st;
    }
    return ORX_OK;
}

static bool same_finding(const orx_finding *a, const orx_finding *b) {
    return a->severity == b->severity && !strcmp(a->kind, b->kind) && !strcmp(a->drugs, b->drugs) &&
           !strcmp(a->trigger, b->trigger) && !strcmp(a->source, b->source) &&
           !strcmp(a->citation, b->citation) && !strcmp(a->message, b->message);
}

/* Drop findings (from index from) below the checker's minimum tier and exact repeats (e.g. two
 * products of one ingredient meeting the same rule), then sort. */
static void finish(const orx_checker *ck, orx_findings *out, size_t from) {
    size_t w = from;
    for (size_t i = from; i < out->n; i++) {
        if (out->items[i].severity < ck->min_severity) continue;
        bool dup = false;
        for (size_t j = from; j < w && !dup; j++) dup = same_finding(&out->items[j], &out->items[i]);
        if (!dup) out->items[w++] = out->items[i];
    }
    out->n = w;
    orx_findings_sort(out);
}

static orx_status load_current(const orx_checker *ck, const orx_patient *pt, size_t extra,
                               orx_proposed_drug **all, orx_error *err) {
    *all = calloc(pt->n_meds + extra + 1, sizeof **all);
    if (!*all) return orx_fail(err, ORX_ERR_NOMEM, "checker: out of memory");
    for (size_t i = 0; i < pt->n_meds; i++) {
        orx_status st = orx_proposed_drug_from_med(ck, &pt->meds[i], &(*all)[i], err);
        if (st) return st;
    }
    return ORX_OK;
}

orx_status orx_check_proposed(const orx_checker *ck, const orx_patient *pt,
                              const orx_proposed_drug *drugs, size_t n, orx_findings *out,
                              orx_error *err) {
    if (!ck || !pt || !out || (n && !drugs))
        return orx_fail(err, ORX_ERR_USAGE, "orx_check_proposed: NULL argument");
    size_t from = out->n;
    orx_proposed_drug *all = NULL;
    orx_status st = load_current(ck, pt, n, &all, err);
    for (size_t i = 0; st == ORX_OK && i < n; i++) {
        orx_proposed_drug *d = &all[pt->n_meds + i];
        *d = drugs[i];
        d->is_current = false;
        d->others = all;
        d->n_others = pt->n_meds + i;
        st = run_one(ck, pt, d, out, err);
    }
    free(all);
    if (st == ORX_OK) st = orx_check_allergy_unresolved(ck, pt, out, err);
    if (st == ORX_OK) finish(ck, out, from);
    return st;
}

orx_status orx_check_current(const orx_checker *ck, const orx_patient *pt, orx_findings *out,
                             orx_error *err) {
    if (!ck || !pt || !out) return orx_fail(err, ORX_ERR_USAGE, "orx_check_current: NULL argument");
    size_t from = out->n;
    orx_proposed_drug *all = NULL;
    orx_status st = load_current(ck, pt, 0, &all, err);
    for (size_t i = 0; st == ORX_OK && i < pt->n_meds; i++) {
        all[i].others = all + i + 1;
        all[i].n_others = pt->n_meds - i - 1;
        st = run_one(ck, pt, &all[i], out, err);
    }
    free(all);
    if (st == ORX_OK) st = orx_check_allergy_unresolved(ck, pt, out, err);
    if (st == ORX_OK) finish(ck, out, from);
    return st;
}
