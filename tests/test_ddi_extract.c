/* test_ddi_extract.c — the label interaction extractor on crafted label text (shipped lexicon and
 * class-term table): an ingredient named with an action, negations and no-effect study statements
 * (no rule), table rows under a lead sentence and enzyme-table memberships, a role with its e.g.
 * examples, a class, the Contraindications and Boxed Warning sections, self statements and
 * descriptions (memberships, no rule), allergy context, class-level statements, hard-wrapped
 * text (quote verbatim), and both directions through the rule table. */
#include "testutil.h"
#include "safety/ddi_extract.h"
#include "safety/label_ddi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static orx_lexicon *L;
static orx_ddi_extractor *X;

static int setup(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    const char *data = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_lexicon_open(data, &L, &err)) { print_message("lexicon: %s\n", err.msg); return -1; }
    orx_status st = orx_ddi_extractor_create(L, orx_test_path("%s/data/interactions/class_terms.tsv", orx_test_source_dir()), &X, &err);
    if (st) print_message("extractor: %s\n", err.msg);
    return st ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    orx_ddi_extractor_free(X);
    orx_lexicon_free(L);
    return 0;
}

/* Rules from one text; caller frees. */
static orx_ddi_rules extract(const char *label, const char *code, const char *text) {
    orx_ddi_rules r;
    orx_ddi_rules_init(&r);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_extract_section(X, label, "test-setid", "TEST LABEL", code, "section", text, &r, &err), ORX_OK);
    orx_ddi_rules_sort(&r, true);
    for (size_t i = 0; i < r.n; i++)
        print_message("  %s %s x %s [%s] %s %s | %.90s\n", r.items[i].kind, r.items[i].label_drug, r.items[i].other,
                      r.items[i].examples, orx_severity_name(r.items[i].tier), r.items[i].action, r.items[i].quote);
    return r;
}

static const orx_ddi_rule *find(const orx_ddi_rules *r, const char *kind, const char *label, const char *other) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].kind, kind) && (!label || !strcmp(r->items[i].label_drug, label)) &&
            (!other || !strcmp(r->items[i].other, other)))
            return &r->items[i];
    return NULL;
}

static size_t count(const orx_ddi_rules *r, const char *kind) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += !strcmp(r->items[i].kind, kind);
    return n;
}

/* Append a deep copy of rule x to list r (to build one table from several texts). */
static orx_ddi_rule *rules_push_copy(orx_ddi_rules *r, const orx_ddi_rule *x) {
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        orx_ddi_rule *ni = realloc(r->items, nc * sizeof *ni);
        if (!ni) return NULL;
        r->items = ni;
        r->cap = nc;
    }
    orx_ddi_rule *d = &r->items[r->n++];
    *d = *x;
    d->examples = strdup(x->examples);
    d->quote = strdup(x->quote);
    d->context = strdup(x->context);
    return d;
}

#define DI "34073-7"
#define CI "34070-3"
#define BW "34066-1"
#define WP "43685-7"

/* ============================================================================================
 * Statements
 * ========================================================================================== */
static void test_named_ingredient(void **state) {
    (void)state;
    const char *text = "Closely monitor INR when fluconazole is started in patients taking COUMADIN.";
    orx_ddi_rules r = extract("warfarin", DI, text);
    const orx_ddi_rule *x = find(&r, "rule", "warfarin", "fluconazole");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MODERATE);
    assert_string_equal(x->action, "monitor");
    assert_string_equal(x->quote, text);
    assert_null(find(&r, "rule", NULL, "warfarin")); /* the label's own brand is not a partner */
    orx_ddi_rules_clear(&r);
    r = extract("clopidogrel", DI, "Avoid concomitant use of Plavix with omeprazole or esomeprazole.");
    assert_non_null(x = find(&r, "rule", "clopidogrel", "omeprazole"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_non_null(find(&r, "rule", "clopidogrel", "esomeprazole"));
    orx_ddi_rules_clear(&r);
}

static void test_negations_make_no_rule(void **state) {
    (void)state;
    static const char *const NEG[] = {
        "Coadministration of fluconazole did not alter the pharmacokinetics of warfarin.",
        "No dose adjustment of warfarin is needed when it is given with famotidine.",
        "Famotidine had no clinically significant effect on the exposure to warfarin.",
        "Ranitidine increased warfarin AUC by 5%, which is not clinically significant.",
        "In vitro, famotidine inhibited the formation of a warfarin metabolite.",
        NULL};
    for (int i = 0; NEG[i]; i++) {
        orx_ddi_rules r = extract("warfarin", DI, NEG[i]);
        if (count(&r, "rule")) fail_msg("a rule from a negated / study-only sentence: %s", NEG[i]);
        orx_ddi_rules_clear(&r);
    }
    /* an effect before a no-effect phrase still counts */
    orx_ddi_rules r = extract("carvedilol", DI, "Cimetidine increased the AUC of carvedilol by 30% with no change in Cmax.");
    const orx_ddi_rule *x = find(&r, "rule", "carvedilol", "cimetidine");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MINOR);
    orx_ddi_rules_clear(&r);
}

static void test_table_rows_and_enzyme_table(void **state) {
    (void)state;
    const char *text = "Closely monitor INR if a concomitant drug is a CYP2C9 inhibitor or inducer.\n"
                       "| Enzyme | Inhibitors | Inducers\n"
                       "| CYP2C9 | amiodarone, fluconazole | rifampin\n";
    orx_ddi_rules r = extract("warfarin", DI, text);
    const orx_ddi_rule *x = find(&r, "rule", "warfarin", "fluconazole");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MODERATE); /* the lead sentence's action */
    assert_string_equal(x->quote, "| CYP2C9 | amiodarone, fluconazole | rifampin");
    assert_non_null(strstr(x->context, "Closely monitor INR"));
    assert_non_null(find(&r, "member", "fluconazole", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "member", "rifampin", "role:cyp2c9:inducer"));
    assert_null(find(&r, "member", "rifampin", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp2c9:inhibitor"));
    orx_ddi_rules_clear(&r);
}

static void test_role_with_examples(void **state) {
    (void)state;
    orx_ddi_rules r = extract("apixaban", DI,
                              "Avoid concomitant use of ELIQUIS with strong dual inducers of CYP3A4 and P-gp "
                              "(e.g., rifampin, carbamazepine, phenytoin, St. John's wort) because such drugs "
                              "will decrease exposure to apixaban.");
    const orx_ddi_rule *x = find(&r, "rule", "apixaban", "role:cyp3a4:inducer:strong+pgp:inducer");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_non_null(strstr(x->examples, "rifampin"));
    assert_non_null(strstr(x->examples, "carbamazepine"));
    assert_null(find(&r, "rule", "apixaban", "rifampin")); /* an example, part of the role rule */
    assert_non_null(find(&r, "member", "rifampin", "role:cyp3a4:inducer:strong"));
    assert_non_null(find(&r, "member", "rifampin", "role:pgp:inducer"));
    orx_ddi_rules_clear(&r);
    /* "inhibitors of CYP2C9, 1A2, and/or 3A4": alternatives, one rule each */
    r = extract("warfarin", DI, "Inhibitors of CYP2C9, 1A2, and/or 3A4 have the potential to increase the effect of warfarin.");
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp2c9:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp1a2:inhibitor"));
    assert_non_null(find(&r, "rule", "warfarin", "role:cyp3a4:inhibitor"));
    orx_ddi_rules_clear(&r);
}

static void test_class_and_sections(void **state) {
    (void)state;
    orx_ddi_rules r = extract("rivaroxaban", DI,
                              "Avoid concurrent use of XARELTO with other anticoagulants due to increased bleeding risk.");
    const orx_ddi_rule *x = find(&r, "rule", "rivaroxaban", "class:anticoagulant|anti-coagulant");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_clear(&r);
    r = extract("simvastatin", CI, "Concomitant administration of strong CYP3A4 inhibitors (e.g., itraconazole, ketoconazole).");
    assert_non_null(x = find(&r, "rule", "simvastatin", "role:cyp3a4:inhibitor:strong"));
    assert_int_equal(x->tier, ORX_SEV_CONTRAINDICATED);
    orx_ddi_rules_clear(&r);
    /* a Boxed Warning effect is at least major; the class statement is lifted to the class */
    r = extract("alprazolam", BW,
                "Concomitant use of benzodiazepines and opioids may result in profound sedation, respiratory "
                "depression, coma, and death.");
    x = find(&r, "rule", "class:benzodiazepine", NULL);
    assert_non_null(x);
    char other[256];
    snprintf(other, sizeof other, "%s", x ? x->other : "");
    assert_non_null(strstr(other, "opioid agonist"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_clear(&r);
}

static void test_self_statements_and_context(void **state) {
    (void)state;
    orx_ddi_rules r = extract("clarithromycin", DI, "Clarithromycin is a strong inhibitor of CYP3A4.");
    assert_non_null(find(&r, "member", "clarithromycin", "role:cyp3a4:inhibitor:strong"));
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_clear(&r);
    r = extract("amiodarone", DI, "Rifampin is a potent inducer of CYP3A. Cimetidine inhibits CYP3A and can increase serum amiodarone levels.");
    assert_non_null(find(&r, "member", "rifampin", "role:cyp3a4:inducer:strong"));
    assert_non_null(find(&r, "member", "cimetidine", "role:cyp3a4:inhibitor"));
    assert_non_null(find(&r, "rule", "amiodarone", "cimetidine"));
    assert_null(find(&r, "rule", "amiodarone", "role:cyp3a4:inducer:strong"));
    orx_ddi_rules_clear(&r);
    /* allergy / history context and comparisons name no partner */
    r = extract("ibuprofen", CI, "Ibuprofen should not be given to patients who have experienced asthma or allergic-type reactions after taking aspirin or other NSAIDs.");
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_clear(&r);
    r = extract("ibuprofen", "43685-7", "As with other NSAIDs, anaphylactic reactions may occur in patients without known prior exposure.");
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_clear(&r);
}

static void test_hard_wrapped_text(void **state) {
    (void)state;
    const char *text = "Prothrombin time may be increased in patients\nreceiving concomitant fluconazole and warfarin.\n"
                       "Careful monitoring of prothrombin time\nis recommended.";
    orx_ddi_rules r = extract("fluconazole", "42232-9", text);
    const orx_ddi_rule *x = find(&r, "rule", "fluconazole", "warfarin");
    assert_non_null(x);
    assert_non_null(strstr(text, x->quote)); /* verbatim, line break included */
    assert_non_null(strchr(x->quote, '\n'));
    orx_ddi_rules_clear(&r);
}

/* ============================================================================================
 * Precision: sentences that name a drug but state no interaction of the pair
 * ========================================================================================== */
static void test_not_partners(void **state) {
    (void)state;
    /* a third drug's toxicity: the classes are its co-precipitants, the drug the partner */
    orx_ddi_rules r = extract("eplerenone", DI, "Lithium toxicity has been reported in patients receiving lithium "
                                                "concomitantly with diuretics and ACE inhibitors.");
    assert_non_null(find(&r, "rule", "eplerenone", "lithium"));
    assert_null(find(&r, "rule", "eplerenone", "class:diuretic"));
    assert_null(find(&r, "rule", "eplerenone", "class:ace inhibitor|angiotensin converting enzyme inhibitor|angiotensin-converting enzyme inhibitor"));
    orx_ddi_rules_clear(&r);
    static const struct { const char *label, *code, *text; } NONE[] = {
        /* a trial's comparator arm */
        {"prasugrel", WP, "The frequencies decreased to 11.3% in the prasugrel group and 3.4% in the clopidogrel group."},
        /* a component of the label's own product */
        {"elvitegravir", WP, "Assess creatinine clearance before initiating treatment with STRIBILD."},
        /* metabolites of the drug spoken of */
        {"thioridazine", DI, "Concentrations of its two active metabolites, mesoridazine and sulforidazine, were measured."},
        /* whole-clause negations */
        {"dabigatran etexilate", DI, "Diclofenac, Ranitidine, and Digoxin: None of these drugs alters exposure to dabigatran."},
        {"saquinavir", DI, "The impact on the PR interval of co-administration of saquinavir with atazanavir has not been evaluated."},
        /* adverse-event management by grade, overdose, trial comparisons, a fellow class member */
        {"dabrafenib", WP, "Permanently discontinue TAFINLAR and trametinib for all Grade 4 hemorrhagic events."},
        {"trazodone", WP, "Death from overdose has occurred in patients ingesting trazodone and alcohol concurrently."},
        {"nabumetone", "34090-1", "In 5 clinical trials that compared patients on nabumetone or naproxen, nabumetone resulted in fewer lesions."},
        {"trandolapril", WP, "Another ACE inhibitor, captopril, has been shown to cause agranulocytosis rarely."},
    };
    for (size_t i = 0; i < sizeof NONE / sizeof NONE[0]; i++) {
        r = extract(NONE[i].label, NONE[i].code, NONE[i].text);
        if (count(&r, "rule")) fail_msg("a rule from: %s", NONE[i].text);
        orx_ddi_rules_clear(&r);
    }
}

static void test_tier_wording(void **state) {
    (void)state;
    const orx_ddi_rule *x;
    orx_ddi_rules r = extract("nefazodone", "42232-9", "Patients should be advised to avoid alcohol while taking nefazodone.");
    assert_non_null(x = find(&r, "rule", "nefazodone", "ethanol"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR); /* the instruction itself, not a purpose */
    orx_ddi_rules_clear(&r);
    r = extract("dronedarone", DI, "Avoid doses greater than 10 mg once daily of simvastatin.");
    assert_non_null(x = find(&r, "rule", "dronedarone", "simvastatin"));
    assert_int_equal(x->tier, ORX_SEV_MODERATE); /* a dose limit */
    orx_ddi_rules_clear(&r);
    r = extract("sertraline", "34071-1", "Treatment with sertraline and any concomitant serotonergic agents should be "
                                         "discontinued immediately if the above events occur.");
    assert_non_null(x = find(&r, "rule", "sertraline", "effect:serotonergic"));
    assert_int_equal(x->tier, ORX_SEV_MODERATE); /* adverse-event management */
    orx_ddi_rules_clear(&r);
    r = extract("chlorpromazine", CI, "Do not use in the presence of large amounts of central nervous system depressants "
                                      "(alcohol, barbiturates, narcotics, etc.).");
    for (size_t i = 0; i < r.n; i++) assert_true(r.items[i].tier <= ORX_SEV_MODERATE); /* "large amounts" */
    orx_ddi_rules_clear(&r);
    /* "certain CNS depressant drugs (e.g., phenothiazines ...)": the sentence's examples only */
    r = extract("hydrocodone", "34071-1", "There is increased risk in patients receiving certain CNS depressant drugs "
                                          "(e.g., phenothiazines or general anesthetics); monitor for hypotension.");
    assert_non_null(find(&r, "rule", "hydrocodone", "examples:effect:cns_depressant"));
    assert_null(find(&r, "rule", "hydrocodone", "effect:cns_depressant"));
    orx_ddi_rules_clear(&r);
}

/* ============================================================================================
 * Effect roles (data/interactions/effect_roles.tsv)
 * ========================================================================================== */
static void test_effect_phrases_and_examples(void **state) {
    (void)state;
    /* a category named by its effect: one rule; the examples (nested lists too) are members */
    orx_ddi_rules r = extract("quetiapine", WP,
                              "The use of quetiapine should be avoided in combination with other drugs that are known to "
                              "prolong QTc including Class 1A antiarrhythmics (e.g., quinidine, procainamide), "
                              "antipsychotic medications (e.g., ziprasidone, chlorpromazine), or certain antihistamine drugs.");
    const orx_ddi_rule *x = find(&r, "rule", "quetiapine", "effect:qt");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_non_null(strstr(x->examples, "ziprasidone"));
    assert_non_null(find(&r, "member", "quinidine", "effect:qt"));
    assert_non_null(find(&r, "member", "chlorpromazine", "effect:qt"));
    /* a class with its own examples, or qualified ("certain", "Class 1A"), adds only its drugs */
    assert_null(find(&r, "member", "class:antipsychotic agent|atypical antipsychotic|typical antipsychotic", "effect:qt"));
    assert_null(find(&r, "member", "class:antihistamine|histamine-1 receptor antagonist", "effect:qt"));
    /* the classes of the list are the category's examples, not partners of their own, and the
     * sentence is not lifted to the label drug's class (quetiapine is an antipsychotic) */
    assert_null(find(&r, "rule", NULL, "class:antipsychotic agent|atypical antipsychotic|typical antipsychotic"));
    assert_null(find(&r, "rule", "class:antipsychotic agent|atypical antipsychotic|typical antipsychotic", NULL));
    orx_ddi_rules_clear(&r);
    /* a class without examples of its own is a member class; adjectives and nouns name categories */
    r = extract("apixaban", BW, "*  concomitant use of other drugs that affect hemostasis, such as nonsteroidal "
                                "anti-inflammatory drugs (NSAIDs), platelet inhibitors, other anticoagulants");
    assert_non_null(find(&r, "rule", "apixaban", "effect:bleeding"));
    assert_non_null(find(&r, "member", "class:nsaid|nonsteroidal anti-inflammatory drug", "effect:bleeding"));
    assert_null(find(&r, "rule", "apixaban", "class:nsaid|nonsteroidal anti-inflammatory drug"));
    orx_ddi_rules_clear(&r);
    r = extract("ondansetron", WP, "Serotonin syndrome has been described following the concomitant use of 5-HT3 receptor "
                                   "antagonists and other serotonergic drugs.");
    assert_non_null(find(&r, "rule", "ondansetron", "effect:serotonergic"));
    orx_ddi_rules_clear(&r);
    r = extract("oxycodone", BW, "Concomitant use with CNS depressants may cause profound sedation, respiratory depression, "
                                 "coma, and death.");
    assert_non_null(x = find(&r, "rule", "oxycodone", "effect:cns_depressant"));
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_clear(&r);
    /* "drugs known to prolong QT and which are metabolized via CYP3A4": the effect restricted to
     * the role; the examples after the restriction are the effect's */
    r = extract("fluconazole", CI, "Coadministration of other drugs known to prolong the QT interval and which are "
                                   "metabolized via the enzyme CYP3A4 such as cisapride, pimozide, and quinidine are contraindicated.");
    assert_non_null(x = find(&r, "rule", "fluconazole", "effect:qt&role:cyp3a4:substrate"));
    assert_non_null(strstr(x->examples, "pimozide"));
    assert_null(find(&r, "rule", "fluconazole", "effect:qt"));
    orx_ddi_rules_clear(&r);
    /* the category that includes the label drug is the subject when another drug is the partner */
    r = extract("chlorpromazine", "42232-9",
                "Drugs which lower the seizure threshold, including phenothiazine derivatives, should not be used with metrizamide.");
    assert_non_null(find(&r, "rule", "chlorpromazine", "metrizamide"));
    assert_null(find(&r, "rule", "chlorpromazine", "effect:seizure"));
    orx_ddi_rules_clear(&r);
}

static void test_effect_self_statements(void **state) {
    (void)state;
    orx_ddi_rules r = extract("citalopram", WP, "Citalopram causes dose-dependent QTc prolongation.");
    assert_non_null(find(&r, "member", "citalopram", "effect:qt"));
    assert_int_equal(count(&r, "rule"), 0);
    orx_ddi_rules_clear(&r);
    r = extract("tramadol", WP, "Cases of serotonin syndrome have been reported with the use of tramadol, particularly "
                                "during concomitant use with serotonergic drugs.");
    assert_non_null(find(&r, "member", "tramadol", "effect:serotonergic"));
    orx_ddi_rules_clear(&r);
    r = extract("moexipril", WP, "Moexipril can increase serum potassium because it decreases aldosterone secretion.");
    assert_non_null(find(&r, "member", "moexipril", "effect:hyperkalemia"));
    orx_ddi_rules_clear(&r);
    /* negated, study-only, animal, another drug named, a section that states no effects: none */
    static const struct { const char *text, *code; } NONE[] = {
        {"Tramadol does not prolong the QT interval.", WP},
        {"In a thorough QT study, tramadol prolonged the QT interval by 5 msec.", WP},
        {"Brain hemorrhage was seen in a female dog treated with tramadol.", WP},
        {"QT prolongation has been reported when tramadol was given with ketoconazole.", WP},
        {"Tramadol prolongs the QT interval.", "34090-1"},
    };
    for (size_t i = 0; i < sizeof NONE / sizeof NONE[0]; i++) {
        r = extract("tramadol", NONE[i].code, NONE[i].text);
        for (size_t k = 0; k < r.n; k++)
            if (!strcmp(r.items[k].kind, "member") && !strcmp(r.items[k].label_drug, "tramadol"))
                fail_msg("self statement from: %s", NONE[i].text);
        orx_ddi_rules_clear(&r);
    }
    /* a combination product named by its ingredients: which one has the effect is not said */
    r = extract("oxycodone;acetylsalicylic acid", BW,
                "Serious, life-threatening, or fatal respiratory depression may occur with use of oxycodone and aspirin tablets.");
    assert_null(find(&r, "member", "acetylsalicylic acid", "effect:cns_depressant"));
    orx_ddi_rules_clear(&r);
}

/* Effect membership through the checker's matcher: a rule about the category reaches a member
 * named elsewhere, at the rule's tier when the sentence names it, and an effect-only Boxed
 * Warning statement reaches members it does not name at most at moderate. */
static void test_effect_matching(void **state) {
    (void)state;
    orx_ddi_rules r = extract("fluoxetine", WP, "Avoid the concomitant use of drugs known to prolong the QT interval.");
    orx_ddi_rules more = extract("ondansetron", WP, "Cases of Torsade de Pointes have been reported in patients using ondansetron.");
    orx_ddi_rules box = extract("apixaban", BW, "*  concomitant use of other drugs that affect hemostasis, such as "
                                                "nonsteroidal anti-inflammatory drugs (NSAIDs)");
    orx_ddi_rules self = extract("sertraline", WP, "SSRIs, including sertraline, may increase the risk of bleeding events.");
    for (orx_ddi_rules *o = &more; o; o = o == &more ? &box : o == &box ? &self : NULL)
        for (size_t i = 0; i < o->n; i++) {
            orx_ddi_rule *d = rules_push_copy(&r, &o->items[i]);
            assert_non_null(d);
        }
    char path[] = "/tmp/orx_eff_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    orx_error err = ORX_ERROR_INIT;
    orx_ddi_rules_sort(&r, true);
    assert_int_equal(orx_ddi_rules_write_tsv(&r, path, &err), ORX_OK);
    orx_label_ddi *t = NULL;
    assert_int_equal(orx_label_ddi_load(path, &t, &err), ORX_OK);
    assert_int_equal(orx_label_ddi_load_effects(t, orx_test_path("%s/data/interactions/effect_roles.tsv", orx_test_source_dir()), &err), ORX_OK);
    orx_ddi_side flx = {.ingr = {"fluoxetine"}, .n = 1}, ond = {.ingr = {"ondansetron"}, .n = 1},
                 api = {.ingr = {"apixaban"}, .n = 1}, ibu = {.ingr = {"ibuprofen"}, .n = 1}, ser = {.ingr = {"sertraline"}, .n = 1},
                 met = {.ingr = {"metformin"}, .n = 1};
    orx_label_hit h[8];
    assert_int_equal(orx_label_ddi_match(t, L, &flx, &ond, h, 8), 1);
    assert_int_equal(h[0].tier, ORX_SEV_MAJOR);
    assert_non_null(strstr(h[0].how, "Torsade")); /* the member's own quote */
    assert_int_equal(orx_label_ddi_match(t, L, &flx, &met, h, 8), 0);
    assert_int_equal(orx_label_ddi_match(t, L, &api, &ibu, h, 8), 1); /* NSAIDs named: the box's tier */
    assert_int_equal(h[0].tier, ORX_SEV_MAJOR);
    assert_int_equal(orx_label_ddi_match(t, L, &api, &ser, h, 8), 1); /* a member named elsewhere */
    assert_int_equal(h[0].tier, ORX_SEV_MODERATE);
    /* a sourced class that is the effect (effect_roles.tsv 'class' rows): an SNRI is serotonergic */
    char how[400];
    bool umbrella = true;
    assert_true(orx_label_ddi_effect_member(t, L, "duloxetine", "effect:serotonergic", false, how, sizeof how, &umbrella));
    assert_false(umbrella);
    assert_non_null(strstr(how, "effect_roles.tsv"));
    assert_false(orx_label_ddi_effect_member(t, L, "duloxetine", "effect:serotonergic", true, how, sizeof how, &umbrella));
    assert_false(orx_label_ddi_effect_member(t, L, "metformin", "effect:qt", false, how, sizeof how, &umbrella));
    orx_label_ddi_free(t);
    unlink(path);
    orx_ddi_rules_clear(&r);
    orx_ddi_rules_clear(&more);
    orx_ddi_rules_clear(&box);
    orx_ddi_rules_clear(&self);
}

/* ============================================================================================
 * Both directions through the rule table
 * ========================================================================================== */
/* Old-format labels: "Drug Interactions" as a sub-heading of PRECAUTIONS reads like the Drug
 * Interactions section (no interaction words needed) until the next sub-section heading. */
static void test_precautions_drug_interactions_subsection(void **state) {
    (void)state;
    const char *text = "General\n"
                       "Quinine has been reported to accelerate the metabolism of tacrolimus.\n\n"
                       "Drug Interactions\n"
                       "Rifampin has been reported to accelerate the metabolism of the following drugs: quinine, tacrolimus.\n"
                       "Cimetidine\n"
                       "Rifampin may accelerate the metabolism of theophylline.\n\n"
                       "Pregnancy\n"
                       "Rifampin has been reported to accelerate the metabolism of methadone.\n";
    orx_ddi_rules r = extract("rifampin", "42232-9", text);
    const orx_ddi_rule *x = find(&r, "rule", "rifampin", "quinine");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MINOR);
    assert_non_null(find(&r, "rule", "rifampin", "tacrolimus"));
    assert_non_null(find(&r, "rule", "rifampin", "theophylline")); /* a drug-name heading keeps the sub-section */
    assert_null(find(&r, "rule", "rifampin", "methadone"));        /* "Pregnancy" ends it */
    orx_ddi_rules_clear(&r);
    /* before the sub-heading, and in a section without one, an effect needs interaction words */
    r = extract("rifampin", "42232-9", "Rifampin has been reported to accelerate the metabolism of quinine.\n");
    assert_null(find(&r, "rule", "rifampin", "quinine"));
    orx_ddi_rules_clear(&r);
    /* a cross-reference line is no sub-heading */
    r = extract("rifampin", "42232-9", "(see\nPRECAUTIONS: Drug Interactions\n).\nRifampin has been reported to accelerate the metabolism of quinine.\n");
    assert_null(find(&r, "rule", "rifampin", "quinine"));
    orx_ddi_rules_clear(&r);
}

/* "INVIRASE/ritonavir", "(ledipasvir/sofosbuvir)": a drug written with '/' next to the label's
 * drug is a component of a combination product with it, not a partner. */
static void test_slash_combination_is_own_product(void **state) {
    (void)state;
    orx_ddi_rules r = extract("sofosbuvir", DI,
                              "A fatal cardiac arrest was reported in a patient receiving a regimen (HARVONI (ledipasvir/sofosbuvir)) "
                              "with amiodarone. Coadministration of amiodarone with SOVALDI is not recommended.");
    assert_null(find(&r, "rule", "sofosbuvir", "ledipasvir"));
    const orx_ddi_rule *x = find(&r, "rule", "sofosbuvir", "amiodarone");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_clear(&r);
    r = extract("saquinavir", DI, "Coadministration of fluticasone propionate and saquinavir/ritonavir is not recommended.");
    assert_null(find(&r, "rule", "saquinavir", "ritonavir"));
    assert_non_null(find(&r, "rule", "saquinavir", "fluticasone"));
    orx_ddi_rules_clear(&r);
}

/* "serum potassium", "potassium loss", "potassium >5 mEq/L" name the electrolyte, not a potassium
 * product; "potassium supplements" and "potassium sparing agents" (no hyphen) still count. */
static void test_potassium_as_lab_value(void **state) {
    (void)state;
    static const char *const LAB[] = {
        "Monitor serum potassium in patients with potassium >5 mEq/L.",
        "Enalapril attenuates potassium loss caused by thiazide-type diuretics.",
        "Careful evaluation of total body potassium is needed when enalapril is coadministered.",
        NULL};
    for (int i = 0; LAB[i]; i++) {
        orx_ddi_rules r = extract("enalapril", DI, LAB[i]);
        if (find(&r, "rule", "enalapril", "potassium")) fail_msg("potassium as a partner in: %s", LAB[i]);
        orx_ddi_rules_clear(&r);
    }
    orx_ddi_rules r = extract("enalapril", DI, "Potassium supplements may lead to significant increases in serum potassium.");
    assert_non_null(find(&r, "rule", "enalapril", "potassium"));
    orx_ddi_rules_clear(&r);
    r = extract("enalapril", DI, "Potassium sparing agents should generally not be used in patients with heart failure receiving VASOTEC.");
    const orx_ddi_rule *x = find(&r, "rule", "enalapril", "effect:hyperkalemia");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    orx_ddi_rules_clear(&r);
}

/* Animal experiments and "non-significant" changes make no rule. */
static void test_animal_and_nonsignificant(void **state) {
    (void)state;
    static const char *const NO[] = {
        "Studies in animals demonstrate that the acute toxicity of bupropion is enhanced by the MAO inhibitor phenelzine.",
        "NSAIDs have been reported to competitively inhibit methotrexate accumulation in rabbit kidney slices.",
        "Ranitidine produced smaller, non-significant increases in nifedipine exposure.",
        NULL};
    for (int i = 0; NO[i]; i++) {
        orx_ddi_rules r = extract("bupropion", DI, NO[i]);
        if (count(&r, "rule")) fail_msg("a rule from an animal / non-significant statement: %s", NO[i]);
        orx_ddi_rules_clear(&r);
    }
}

/* A statement scoped to a procedure on the neuraxis — the items of a list whose lead names
 * epidural/spinal hematoma, or a sentence naming neuraxial anaesthesia — is not raised by the
 * Boxed Warning and is at most moderate; the same words outside that setting stay major. */
static void test_procedure_setting_scope(void **state) {
    (void)state;
    const char *bw =
        "Epidural or spinal hematomas may occur in patients treated with ELIQUIS who are receiving neuraxial anesthesia "
        "or undergoing spinal puncture. Factors that can increase the risk of developing epidural or spinal hematomas in "
        "these patients include:\n"
        " *  use of indwelling epidural catheters\n"
        " *  concomitant use of other drugs that affect hemostasis, such as nonsteroidal anti-inflammatory drugs (NSAIDs), "
        "platelet inhibitors, other anticoagulants\n"
        "\n"
        "Concomitant use of other drugs that affect hemostasis, such as NSAIDs, increases the risk of bleeding.\n";
    orx_ddi_rules r = extract("apixaban", BW, bw);
    const orx_ddi_rule *scoped = NULL, *general = NULL;
    for (size_t i = 0; i < r.n; i++) {
        const orx_ddi_rule *x = &r.items[i];
        if (strcmp(x->kind, "rule") || strcmp(x->other, "effect:bleeding")) continue;
        if (strstr(x->quote, "such as nonsteroidal")) scoped = x;
        if (strstr(x->quote, "such as NSAIDs")) general = x;
    }
    assert_non_null(scoped);
    assert_true(scoped->tier <= ORX_SEV_MODERATE);
    assert_non_null(strstr(scoped->context, "epidural or spinal hematomas in these patients include:")); /* the lead */
    assert_non_null(general); /* the list ended: a general Boxed Warning statement is major */
    assert_int_equal(general->tier, ORX_SEV_MAJOR);
    /* the class memberships of the example list stay */
    assert_non_null(find(&r, "member", "class:nsaid|nonsteroidal anti-inflammatory drug", "effect:bleeding"));
    orx_ddi_rules_clear(&r);
    r = extract("ketorolac", CI, "Ketorolac tromethamine injection is contraindicated for neuraxial (epidural or intrathecal) "
                                 "administration due to its alcohol content.");
    const orx_ddi_rule *x = find(&r, "rule", "ketorolac", "ethanol");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MODERATE);
    orx_ddi_rules_clear(&r);
}

/* A drug the label's drug is given with as a regimen (its indication, or "as a single agent or
 * in combination with X") is no partner for the regimen's adverse-event management; a
 * pharmacokinetic statement about it stays, and "in combination with" alone changes nothing. */
static void test_regimen_partner(void **state) {
    (void)state;
    const char *wp =
        "Serious febrile reactions can occur when TAFINLAR is administered as a single agent or when used in "
        "combination with trametinib. Withhold trametinib for any fever higher than 104oF. "
        "Coadministration of trametinib increased the AUC of dabrafenib by 23%.";
    orx_ddi_rules r = extract("dabrafenib", WP, wp);
    assert_int_equal(count(&r, "rule"), 1);
    const orx_ddi_rule *x = find(&r, "rule", "dabrafenib", "trametinib");
    assert_non_null(x);
    assert_non_null(strstr(x->quote, "AUC"));
    orx_ddi_rules_clear(&r);
    /* the indication names the regimen; statements of other sections follow it */
    orx_kb_section sec[2] = {
        {.code = "34067-9", .name = "Indications & Usage",
         .text = "POMALYST, in combination with dexamethasone, is indicated for patients with multiple myeloma."},
        {.code = WP, .name = "Warnings and Precautions",
         .text = "Thromboembolic events can occur in patients receiving POMALYST with dexamethasone; consider prophylaxis. "
                 "Avoid concomitant use of POMALYST with ketoconazole."}};
    orx_kb_doc doc = {.set_id = "test-regimen", .title = "POMALYST", .generic_names = "pomalidomide",
                      .sections = sec, .n_sections = 2};
    orx_ddi_rules_init(&r);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_extract_doc(X, &doc, &r, &err), ORX_OK);
    assert_null(find(&r, "rule", "pomalidomide", "dexamethasone"));
    assert_non_null(find(&r, "rule", "pomalidomide", "ketoconazole"));
    orx_ddi_rules_clear(&r);
    /* an interaction statement that says "in combination with" is not a regimen */
    r = extract("nefazodone", CI, "Nefazodone in combination with triazolam is contraindicated.");
    assert_non_null(find(&r, "rule", "nefazodone", "triazolam"));
    orx_ddi_rules_clear(&r);
}

/* Switching statements of Dosage and Administration, in their wordings ("Switching from
 * warfarin to ELIQUIS", "When converting patients from warfarin therapy to PRADAXA"); "converting"
 * alone (angiotensin converting enzyme) is no cue. */
static void test_switching_wording(void **state) {
    (void)state;
    orx_ddi_rules r = extract("dabigatran etexilate", "34068-7",
                              "When converting patients from warfarin therapy to PRADAXA, discontinue warfarin and start "
                              "PRADAXA when the INR is below 2.0.");
    const orx_ddi_rule *x = find(&r, "rule", "dabigatran etexilate", "warfarin");
    assert_non_null(x);
    assert_int_equal(x->tier, ORX_SEV_MAJOR);
    assert_string_equal(x->action, "discontinue");
    orx_ddi_rules_clear(&r);
    r = extract("lisinopril", "34068-7", "Angiotensin converting enzyme activity is reduced; discontinue the diuretic furosemide.");
    assert_null(find(&r, "rule", "lisinopril", "furosemide"));
    orx_ddi_rules_clear(&r);
}

/* A combination label whose generic field lost a component: the title "X AND Y." names both, so
 * "X and Y are contraindicated in patients who are hypersensitive to any component" is about the
 * label's own product, not X × Y; a title that is no list ("tablet, sugar coated") adds nothing. */
static void test_combination_title(void **state) {
    (void)state;
    orx_kb_section sec[1] = {{.code = CI, .name = "Contraindications",
                              .text = "Losartan potassium and hydrochlorothiazide are contraindicated in patients who are "
                                      "hypersensitive to any component of this product. Do not coadminister aliskiren with "
                                      "losartan potassium and hydrochlorothiazide in patients with diabetes."}};
    orx_kb_doc doc = {.set_id = "test-hyzaar", .title = "LOSARTAN POTASSIUM AND HYDROCHLOROTHIAZIDE.",
                      .generic_names = "losartan potassium", .sections = sec, .n_sections = 1};
    orx_ddi_rules r;
    orx_ddi_rules_init(&r);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_extract_doc(X, &doc, &r, &err), ORX_OK);
    for (size_t i = 0; i < r.n; i++) {
        if (strcmp(r.items[i].kind, "rule")) continue;
        if (!strcmp(r.items[i].other, "hydrochlorothiazide") || !strcmp(r.items[i].other, "losartan"))
            fail_msg("a component of the label's own product as a partner: %s", r.items[i].quote);
    }
    assert_non_null(find(&r, "rule", "losartan;hydrochlorothiazide", "aliskiren"));
    orx_ddi_rules_clear(&r);
    orx_kb_section sec2[1] = {{.code = DI, .name = "Drug Interactions",
                               .text = "Avoid concomitant use of chlorpromazine with metrizamide."}};
    orx_kb_doc doc2 = {.set_id = "test-sugar", .title = "CHLORPROMAZINE HYDROCHLORIDE- chlorpromazine hydrochloride tablet, sugar coated",
                       .generic_names = "chlorpromazine hydrochloride", .sections = sec2, .n_sections = 1};
    orx_ddi_rules_init(&r);
    assert_int_equal(orx_ddi_extract_doc(X, &doc2, &r, &err), ORX_OK);
    assert_non_null(find(&r, "rule", "chlorpromazine", "metrizamide"));
    orx_ddi_rules_clear(&r);
}

static void test_both_directions(void **state) {
    (void)state;
    orx_ddi_rules r = extract("warfarin", DI, "Closely monitor INR when fluconazole is started in patients taking COUMADIN.");
    char path[] = "/tmp/orx_ddi_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ddi_rules_write_tsv(&r, path, &err), ORX_OK);
    orx_ddi_rules_clear(&r);
    orx_label_ddi *t = NULL;
    assert_int_equal(orx_label_ddi_load(path, &t, &err), ORX_OK);
    orx_ddi_side w = {.ingr = {"warfarin"}, .n = 1}, f = {.ingr = {"fluconazole"}, .n = 1};
    orx_label_hit h[4];
    assert_int_equal(orx_label_ddi_match(t, L, &w, &f, h, 4), 1);
    assert_int_equal(h[0].from, 0);
    assert_int_equal(orx_label_ddi_match(t, L, &f, &w, h, 4), 1); /* fluconazole proposed: warfarin's label */
    assert_int_equal(h[0].from, 1);
    assert_string_equal(h[0].partner, "fluconazole");
    assert_non_null(strstr(h[0].quote, "fluconazole"));
    orx_ddi_side topical = {.ingr = {"fluconazole"}, .n = 1, .topical = true};
    assert_int_equal(orx_label_ddi_match(t, L, &w, &topical, h, 4), 0); /* a systemic statement */
    orx_label_ddi_free(t);
    unlink(path);
    /* a malformed table is a clear error with file and line */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("#openrx-label-ddi\t1\n#columns\nrule\twarfarin\tfluconazole\n", fp);
    fclose(fp);
    assert_int_equal(orx_label_ddi_load(path, &t, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, ":3:1:"));
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_ingredient),
        cmocka_unit_test(test_negations_make_no_rule),
        cmocka_unit_test(test_table_rows_and_enzyme_table),
        cmocka_unit_test(test_role_with_examples),
        cmocka_unit_test(test_class_and_sections),
        cmocka_unit_test(test_self_statements_and_context),
        cmocka_unit_test(test_hard_wrapped_text),
        cmocka_unit_test(test_not_partners),
        cmocka_unit_test(test_tier_wording),
        cmocka_unit_test(test_effect_phrases_and_examples),
        cmocka_unit_test(test_effect_self_statements),
        cmocka_unit_test(test_effect_matching),
        cmocka_unit_test(test_both_directions),
        cmocka_unit_test(test_precautions_drug_interactions_subsection),
        cmocka_unit_test(test_animal_and_nonsignificant),
        cmocka_unit_test(test_slash_combination_is_own_product),
        cmocka_unit_test(test_potassium_as_lab_value),
        cmocka_unit_test(test_procedure_setting_scope),
        cmocka_unit_test(test_regimen_partner),
        cmocka_unit_test(test_switching_wording),
        cmocka_unit_test(test_combination_title),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
