/*
 * duplicates.c — duplicate therapy: the proposed drug shares an ingredient with another drug of
 * the regimen (tier moderate), or both ingredients are listed in the same therapeutic class by a
 * shipped source (tier info). Therapeutic classes are FDA Established Pharmacologic Classes
 * (DrugCentral) and the ONC lists' class columns; mechanism groups ("CYP3A4 inhibitors / azoles",
 * "QT prolonging agents"), FDA Mechanism of Action / Physiologic Effect / Chemical Structure
 * classes and MeSH Pharmacological Actions are not (a shared mechanism is not a duplicate).
 * High-alert duplicates whose tier a label states (two anticoagulants ...) come from the
 * label-derived interaction rules (interactions.c). Tiers: data/interactions/SOURCE.md.
 */
#include "safety/checks.h"

#include <string.h>

#define DUP_MAX_CLASSES 32 /* classes considered per ingredient */

/* Mechanism/pharmacokinetic groupings in the ONC class columns: not therapeutic classes. */
bool orx_class_is_mechanism(const char *cls) {
    return strstr(cls, "cyp") || strstr(cls, "inducer") || strstr(cls, "prolonging") ||
           strstr(cls, "inhibitors /");
}

bool orx_class_is_therapeutic(const orx_lexicon *L, const char *ingredient, const char *cls) {
    unsigned t = orx_lexicon_class_types(L, ingredient, cls);
    if (t & ORX_CLASS_EPC) return true;
    return (t & ORX_CLASS_ONC) && !orx_class_is_mechanism(cls);
}

static orx_status same_ingredient(const orx_proposed_drug *d, const orx_proposed_drug *o,
                                  const char *ingr, int i, int j, orx_findings *out, orx_error *err) {
    orx_finding *f = orx_findings_push(out, "duplicate", ORX_SEV_MODERATE);
    if (!f) return orx_fail(err, ORX_ERR_NOMEM, "duplicates: out of memory");
    orx_fset(f->drugs, sizeof f->drugs, "%s + %s", d->text, o->text);
    orx_fset(f->trigger, sizeof f->trigger, "%s: %s", o->is_current ? "active medicine" : "proposed drug",
             o->text);
    orx_fset(f->message, sizeof f->message,
             "Same ingredient twice: both contain %s (matched by %s '%s' and by %s '%s').", ingr,
             d->ingr[i].matched_by, d->ingr[i].matched, o->ingr[j].matched_by, o->ingr[j].matched);
    orx_fset(f->management, sizeof f->management,
             "Confirm the duplication is intended (e.g. a dose change replacing the old order); "
             "otherwise stop one.");
    orx_fset(f->source, sizeof f->source, "openrx duplicate-therapy rule (same ingredient)");
    orx_fset(f->citation, sizeof f->citation,
             "data/lexicon/lexicon.tsv: ingredient '%s'%s%s%s", ingr, d->ingr[i].rxcui[0] ? " (RxCUI " : "",
             d->ingr[i].rxcui, d->ingr[i].rxcui[0] ? ")" : "");
    return ORX_OK;
}

/* A duplicate-therapy finding for a and b already given by the interaction check (a label
 * statement's tier for a high-alert duplicate such as two anticoagulants). */
static bool already_reported(const orx_findings *out, const char *a, const char *b) {
    char ab[256], ba[256];
    orx_fset(ab, sizeof ab, "%s + %s", a, b);
    orx_fset(ba, sizeof ba, "%s + %s", b, a);
    for (size_t i = 0; i < out->n; i++)
        if (!strcmp(out->items[i].kind, "duplicate") && (!strcmp(out->items[i].drugs, ab) || !strcmp(out->items[i].drugs, ba)))
            return true;
    return false;
}

static orx_status same_class(const orx_checker *ck, const orx_proposed_drug *d,
                             const orx_proposed_drug *o, const char *a, const char *b,
                             orx_findings *out, orx_error *err) {
    const orx_lexicon *L = orx_checker_lexicon(ck);
    if (already_reported(out, a, b)) return ORX_OK;
    char cls[DUP_MAX_CLASSES][ORX_LEX_NAME];
    int n = orx_lexicon_classes_typed(L, a, ORX_CLASS_EPC | ORX_CLASS_ONC, cls, DUP_MAX_CLASSES);
    if (n > DUP_MAX_CLASSES) n = DUP_MAX_CLASSES;
    for (int k = 0; k < n; k++) {
        if (!orx_class_is_therapeutic(L, a, cls[k]) || !orx_class_is_therapeutic(L, b, cls[k])) continue;
        orx_finding *f = orx_findings_push(out, "duplicate", ORX_SEV_INFO);
        if (!f) return orx_fail(err, ORX_ERR_NOMEM, "duplicates: out of memory");
        orx_fset(f->drugs, sizeof f->drugs, "%s + %s", a, b);
        orx_fset(f->trigger, sizeof f->trigger, "%s: %s", o->is_current ? "active medicine" : "proposed drug",
                 o->text);
        orx_fset(f->message, sizeof f->message,
                 "Same class: %s and %s are both listed in class '%s'; review for therapeutic "
                 "duplication.", a, b, cls[k]);
        orx_fset(f->source, sizeof f->source, "class membership (see citation)");
        orx_fset(f->citation, sizeof f->citation, "%s",
                 orx_lexicon_class_source_typed(L, a, cls[k], ORX_CLASS_EPC | ORX_CLASS_ONC));
        (void)d;
        return ORX_OK; /* one class finding per pair is enough */
    }
    return ORX_OK;
}

orx_status orx_check_duplicate(const orx_checker *ck, const orx_patient *pt,
                               const orx_proposed_drug *drug, orx_findings *out, orx_error *err) {
    for (size_t k = 0; k < drug->n_others; k++) {
        const orx_proposed_drug *o = &drug->others[k];
        bool shared = false;
        for (int i = 0; i < drug->n_ingr && !shared; i++)
            for (int j = 0; j < o->n_ingr && !shared; j++)
                if (!strcmp(drug->ingr[i].ingredient, o->ingr[j].ingredient)) {
                    orx_status st = same_ingredient(drug, o, drug->ingr[i].ingredient, i, j, out, err);
                    if (st) return st;
                    shared = true;
                }
        if (shared) continue;
        for (int i = 0; i < drug->n_ingr; i++)
            for (int j = 0; j < o->n_ingr; j++) {
                orx_status st = same_class(ck, drug, o, drug->ingr[i].ingredient,
                                           o->ingr[j].ingredient, out, err);
                if (st) return st;
            }
    }
    (void)pt;
    return ORX_OK;
}
