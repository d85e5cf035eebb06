/*
 * pregnancy.c — pregnancy and lactation check: label statements from section 8.1/8.2/8.3
 * (or the older "Pregnancy Category X/D/C" and "Nursing Mothers" text, plus contraindications /
 * boxed warnings that name pregnancy), data/rules/pregnancy.tsv, quoted with set id + section.
 *
 * Patient pregnant = yes → the drug's pregnancy statements (kind "pregnancy"); lactating = yes →
 * its lactation statements (kind "lactation"). One finding per distinct action, strongest first.
 * Status unknown (sex not male, age band not geriatric) while the label has a contraindicated/major
 * statement → one info finding "pregnancy/lactation status unknown" quoting the strongest statement.
 */
#include "safety/label_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pregnancy_state {
    orx_srl_table rules;  /* data/rules/pregnancy.tsv */
} pregnancy_state;

orx_status orx_check_pregnancy_init(const orx_checker *ck, void **state, orx_error *err) {
    static const char *const need[] = {"id", "ingredients", "population", "category", "action",
        "severity", "setid", "corpus", "section", "quote", NULL};
    pregnancy_state *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_srl_table_load(orx_checker_data_dir(ck), "rules/pregnancy.tsv", need, &s->rules, err);
    if (st == ORX_OK) st = orx_srl_table_normalise(&s->rules, "ingredients", orx_checker_lexicon(ck), err);
    for (size_t r = 0; st == ORX_OK && r < s->rules.nrows; r++) {
        orx_severity sev;
        st = orx_srl_severity(&s->rules, r, orx_srl_col(&s->rules, "severity"), &sev, err);
        const char *pop = orx_srl_cell(&s->rules, r, orx_srl_col(&s->rules, "population"));
        if (st == ORX_OK && strcmp(pop, "pregnancy") != 0 && strcmp(pop, "lactation") != 0)
            st = orx_fail(err, ORX_ERR_PARSE, "%s:%zu: field 'population': '%s' is not "
                          "pregnancy/lactation", s->rules.path, r + 2, pop);
    }
    return orx_check_init_done(st, s, orx_check_pregnancy_fini, state);
}

void orx_check_pregnancy_fini(void *state) {
    pregnancy_state *s = state;
    if (s) orx_srl_table_clear(&s->rules);
    free(s);
}

/* Rows for this drug and population, strongest severity first (indices into rules). */
static size_t matching_rows(const pregnancy_state *s, const orx_proposed_drug *d, const char *pop,
                            size_t *rows, orx_severity *sevs, size_t cap) {
    const orx_srl_table *t = &s->rules;
    int c_ingr = orx_srl_col(t, "ingredients"), c_pop = orx_srl_col(t, "population");
    int c_sev = orx_srl_col(t, "severity");
    size_t n = 0;
    for (size_t r = 0; r < t->nrows && n < cap; r++) {
        if (strcmp(orx_srl_cell(t, r, c_pop), pop) != 0) continue;
        if (!orx_srl_drug_matches(d, orx_srl_ingr(t, r, c_ingr), false)) continue;
        orx_severity sev = ORX_SEV_INFO;
        orx_severity_parse(orx_srl_cell(t, r, c_sev), &sev); /* validated at load */
        size_t i = n++;
        while (i > 0 && sevs[i - 1] < sev) { rows[i] = rows[i - 1]; sevs[i] = sevs[i - 1]; i--; }
        rows[i] = r;
        sevs[i] = sev;
    }
    return n;
}

static orx_status one_population(const pregnancy_state *s, const orx_patient *pt,
                                 const orx_proposed_drug *d, const char *pop,
                                 orx_tristate status, const char *basis, orx_findings *out,
                                 orx_error *err) {
    size_t rows[256];
    orx_severity sevs[256];
    size_t n = matching_rows(s, d, pop, rows, sevs, 256);
    if (n == 0 || status == ORX_TRI_NO) return ORX_OK;
    const orx_srl_table *t = &s->rules;
    int c_act = orx_srl_col(t, "action"), c_cat = orx_srl_col(t, "category");
    if (status == ORX_TRI_UNKNOWN) {
        /* no note for men, for patients in the geriatric age band, or for minor statements */
        if (pt->sex == ORX_SEX_MALE || pt->age_band == ORX_AGE_GERIATRIC || sevs[0] < ORX_SEV_MAJOR)
            return ORX_OK;
        orx_finding *f = orx_srl_push(out, pop, ORX_SEV_INFO, d);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        orx_fset(f->trigger, sizeof f->trigger, "%s status unknown (sex: %s)", pop, orx_sex_name(pt->sex));
        orx_fset(f->message, sizeof f->message, "Unable to assess: the %s label has a %s statement for "
            "%s (%s) and the record does not say whether the patient is %s.", f->drugs,
            orx_severity_name(sevs[0]), pop, orx_srl_cell(t, rows[0], c_act),
            strcmp(pop, "pregnancy") == 0 ? "pregnant" : "breastfeeding");
        orx_fset(f->management, sizeof f->management, "Confirm %s status before prescribing.", pop);
        orx_srl_fill_label(f, t, rows[0]);
        return ORX_OK;
    }
    char seen[8][32];
    int n_seen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *act = orx_srl_cell(t, rows[i], c_act);
        bool dup = false;
        for (int k = 0; k < n_seen; k++) if (strcmp(seen[k], act) == 0) dup = true;
        if (dup) continue;
        if (n_seen < 8) orx_fset(seen[n_seen++], sizeof seen[0], "%s", act);
        orx_finding *f = orx_srl_push(out, pop, sevs[i], d);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
        f->interruptive = sevs[i] >= ORX_SEV_MAJOR;
        orx_fset(f->trigger, sizeof f->trigger, "patient is %s (%s)",
            strcmp(pop, "pregnancy") == 0 ? "pregnant" : "breastfeeding", basis);
        const char *cat = orx_srl_cell(t, rows[i], c_cat);
        orx_fset(f->message, sizeof f->message, "The %s label's %s statement (%s%s%s) applies.", f->drugs,
            pop, act, *cat ? ", Pregnancy Category " : "", cat);
        orx_fset(f->management, sizeof f->management, "Follow the quoted label statement.");
        orx_srl_fill_label(f, t, rows[i]);
    }
    return ORX_OK;
}

orx_status orx_check_pregnancy(const orx_checker *ck, const orx_patient *pt,
                               const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const pregnancy_state *s = orx_checker_state(ck, "pregnancy");
    if (!s || !pt || !drug || drug->n_ingr <= 0) return ORX_OK;
    orx_status st = one_population(s, pt, drug, "pregnancy", pt->pregnant, pt->pregnancy_basis,
                                   out, err);
    if (st != ORX_OK) return st;
    return one_population(s, pt, drug, "lactation", pt->lactating, pt->lactation_basis, out, err);
}
