/*
 * allergy.c — the proposed drug against the patient's AllergyIntolerance entries.
 *   same ingredient as the allergen                       -> contraindicated, interruptive
 *   the allergy names a class the drug is listed in       -> contraindicated, interruptive
 *     (a therapeutic class: FDA EPC or ONC list class; or an FDA chemical-structure class such as
 *      "Penicillins", "Sulfonamides")
 *   allergen and drug share a therapeutic class           -> major (penicillin G -> amoxicillin:
 *                                                            FDA EPC Penicillin-class Antibacterial)
 *   allergen and drug share only a chemical-structure class -> moderate
 * Mechanism classes (FDA MoA, CYP groups), physiologic effects and MeSH actions never count.
 * Class membership comes only from shipped sources (lexicon). Cross-sensitivity between
 * different classes (e.g. penicillins / cephalosporins) is left to label-derived rules that
 * quote the label sentence. Food and environment allergies are not drug allergens.
 * Tiers: data/interactions/SOURCE.md.
 */
#include "safety/checks.h"

#include <string.h>

#define ALG_MAX_INGR 8      /* ingredients resolved per allergy entry */
#define ALG_MAX_CLASSES 32  /* classes considered per ingredient */

static bool is_drug_allergy(const orx_allergy *a) {
    return strcmp(a->category, "food") != 0 && strcmp(a->category, "environment") != 0;
}

/* Resolve an allergy entry to ingredients: RxNorm code first, then the text. */
static int resolve_allergy(const orx_lexicon *L, const orx_allergy *a, orx_lex_match *m, int cap) {
    int n = 0;
    if (a->code[0] && !strcmp(a->system, "rxnorm")) n = orx_lexicon_lookup(L, a->code, m, cap);
    if (n == 0 && a->text[0]) n = orx_lexicon_lookup(L, a->text, m, cap);
    return n > cap ? cap : n;
}

static void describe(const orx_allergy *a, char *buf, size_t cap) {
    orx_fset(buf, cap, "allergy: %s%s%s%s%s%s%s%s%s", a->text, a->code[0] ? " (" : "", a->system,
             a->code[0] ? " " : "", a->code, a->code[0] ? ")" : "",
             a->criticality[0] ? ", criticality " : "", a->criticality,
             a->reactions[0] ? "" : "");
    if (a->reactions[0]) {
        size_t l = strlen(buf);
        orx_fset(buf + l, cap - l, ", reactions: %s", a->reactions);
    }
}

static orx_finding *new_finding(orx_findings *out, orx_severity sev, const orx_allergy *a,
                                const orx_proposed_drug *d, const char *ingr) {
    orx_finding *f = orx_findings_push(out, "allergy", sev);
    if (!f) return NULL;
    f->interruptive = sev >= ORX_SEV_CONTRAINDICATED || !strcmp(a->criticality, "high");
    orx_fset(f->drugs, sizeof f->drugs, "%s (%s)", d->text, ingr);
    describe(a, f->trigger, sizeof f->trigger);
    orx_fset(f->source, sizeof f->source, "patient allergy list + openrx allergy rule");
    return f;
}

#define ALG_CLASS_TYPES (ORX_CLASS_EPC | ORX_CLASS_ONC | ORX_CLASS_CS)

/* One finding when allergen and x share a class: a therapeutic class (major) or, with
 * structure_only, an FDA chemical-structure class (moderate). ORX_ERR_NOT_FOUND when none. */
static orx_status shared_class(const orx_lexicon *L, const orx_allergy *a, const orx_proposed_drug *d,
                               const char *allergen, const char *x, bool structure_only,
                               orx_findings *out, orx_error *err) {
    char cls[ALG_MAX_CLASSES][ORX_LEX_NAME];
    unsigned types = structure_only ? ORX_CLASS_CS : (ORX_CLASS_EPC | ORX_CLASS_ONC);
    int nc = orx_lexicon_classes_typed(L, allergen, types, cls, ALG_MAX_CLASSES);
    if (nc > ALG_MAX_CLASSES) nc = ALG_MAX_CLASSES;
    for (int k = 0; k < nc; k++) {
        bool shared = structure_only
                          ? (orx_lexicon_class_types(L, x, cls[k]) & ORX_CLASS_CS) != 0
                          : orx_class_is_therapeutic(L, allergen, cls[k]) &&
                                orx_class_is_therapeutic(L, x, cls[k]);
        if (!shared) continue;
        orx_finding *f = new_finding(out, structure_only ? ORX_SEV_MODERATE : ORX_SEV_MAJOR, a, d, x);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "allergy: out of memory");
        orx_fset(f->message, sizeof f->message,
                 "Allergy to %s, and %s is in the same %s '%s' (class membership from the cited "
                 "source; cross-reactivity is not stated by it).", allergen, x,
                 structure_only ? "chemical class" : "class", cls[k]);
        orx_fset(f->management, sizeof f->management,
                 "Review the allergy history before giving a drug of the same class.");
        orx_fset(f->citation, sizeof f->citation, "%s", orx_lexicon_class_source_typed(L, x, cls[k], types));
        return ORX_OK;
    }
    return ORX_ERR_NOT_FOUND;
}

static orx_status check_one(const orx_lexicon *L, const orx_allergy *a, const orx_proposed_drug *d,
                            orx_findings *out, orx_error *err) {
    orx_lex_match m[ALG_MAX_INGR];
    int na = resolve_allergy(L, a, m, ALG_MAX_INGR);
    for (int i = 0; i < d->n_ingr; i++) {
        const char *x = d->ingr[i].ingredient;
        /* 1. same ingredient */
        for (int j = 0; j < na; j++) {
            if (strcmp(m[j].ingredient, x) != 0) continue;
            orx_finding *f = new_finding(out, ORX_SEV_CONTRAINDICATED, a, d, x);
            if (!f) return orx_fail(err, ORX_ERR_NOMEM, "allergy: out of memory");
            orx_fset(f->message, sizeof f->message,
                     "Documented allergy to %s: the proposed drug contains %s (allergy '%s' matched by "
                     "%s).", m[j].ingredient, x, a->text, m[j].matched_by);
            orx_fset(f->management, sizeof f->management,
                     "Do not give unless the allergy has been assessed and ruled out; choose an "
                     "alternative.");
            orx_fset(f->citation, sizeof f->citation, "AllergyIntolerance '%s'; data/lexicon/lexicon.tsv",
                     a->text);
            goto next_ingredient;
        }
        /* 2. the allergy names a class */
        if (orx_class_is_therapeutic(L, x, a->text) ||
            (orx_lexicon_class_types(L, x, a->text) & ORX_CLASS_CS)) {
            orx_finding *f = new_finding(out, ORX_SEV_CONTRAINDICATED, a, d, x);
            if (!f) return orx_fail(err, ORX_ERR_NOMEM, "allergy: out of memory");
            orx_fset(f->message, sizeof f->message,
                     "Documented allergy to the class '%s', which lists %s.", a->text, x);
            orx_fset(f->management, sizeof f->management,
                     "Do not give unless the allergy has been assessed; choose a drug outside the class.");
            orx_fset(f->citation, sizeof f->citation, "%s",
                     orx_lexicon_class_source_typed(L, x, a->text, ALG_CLASS_TYPES));
            continue;
        }
        /* 3. allergen and drug share a therapeutic class, else a chemical-structure class */
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < na; j++) {
                orx_status st = shared_class(L, a, d, m[j].ingredient, x, pass == 1, out, err);
                if (st == ORX_OK) goto next_ingredient;
                if (st != ORX_ERR_NOT_FOUND) return st;
            }
    next_ingredient:;
    }
    return ORX_OK;
}

orx_status orx_check_allergy(const orx_checker *ck, const orx_patient *pt,
                             const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    const orx_lexicon *L = orx_checker_lexicon(ck);
    for (size_t i = 0; i < pt->n_allergies; i++) {
        if (!is_drug_allergy(&pt->allergies[i])) continue;
        orx_status st = check_one(L, &pt->allergies[i], drug, out, err);
        if (st) return st;
    }
    return ORX_OK;
}

orx_status orx_check_allergy_unresolved(const orx_checker *ck, const orx_patient *pt,
                                        orx_findings *out, orx_error *err) {
    const orx_lexicon *L = orx_checker_lexicon(ck);
    for (size_t i = 0; i < pt->n_allergies; i++) {
        const orx_allergy *a = &pt->allergies[i];
        if (!is_drug_allergy(a)) continue;
        orx_lex_match m[ALG_MAX_INGR];
        if (resolve_allergy(L, a, m, ALG_MAX_INGR) > 0) continue;
        if (orx_lexicon_class_members(L, a->text, NULL, 0) > 0) continue;
        orx_finding *f = orx_findings_push(out, "allergy", ORX_SEV_INFO);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "allergy: out of memory");
        orx_fset(f->drugs, sizeof f->drugs, "%s", a->text);
        describe(a, f->trigger, sizeof f->trigger);
        orx_fset(f->message, sizeof f->message,
                 "Allergy entry not recognised as a drug or drug class: drugs were NOT checked "
                 "against it.");
        orx_fset(f->management, sizeof f->management, "Review this allergy by hand.");
        orx_fset(f->source, sizeof f->source, "openrx lexicon");
        orx_fset(f->citation, sizeof f->citation, "data/lexicon/lexicon.tsv");
    }
    return ORX_OK;
}
