/*
 * test_rx_options.c — the indication options and the evidence channels, on a knowledge base
 * built from the shipped corpus (data/labels) into a temp dir:
 *   - reading an indication: abbreviations the labels define, SNOMED CT problems, whole questions;
 *   - options: the labels that state the indication (quoted verbatim, cited), negation, backing off;
 *   - screening: a contraindicated option is left out of the choice, with the reason;
 *   - each evidence channel (indication, dosing for the patient's band, safety, interactions);
 *   - the grounded schema: the ingredient an enum of the choice (validator and the local grammar),
 *     the "no suitable option" answer, --open-choice;
 *   - evidence mode's options table in text and JSON; a whitespace indication;
 *   - the abbreviation table's quotes are verbatim label text.
 * The same with a model (the local engine and our own server): test_rx_choice_slow.c.
 */
#define _GNU_SOURCE 1
#include "testutil.h"
#include "engine/grammar.h"
#include "schema/schema.h"
#include "rx/rx.h"
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];
static char g_kb[4096]; /* the default knowledge base (read only) */
static orx_retriever g_ret;
static orx_checker *g_ck;

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/orx_opt_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    const char *kb = orx_test_default_kb(); /* shared, read only */
    if (!kb) return -1;
    snprintf(g_kb, sizeof g_kb, "%s", kb);
    orx_error err = ORX_ERROR_INIT;
    if (orx_kb_retriever_bm25(g_kb, &g_ret, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) { fprintf(stderr, "%s\n", err.msg); return -1; }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    g_ret.free(g_ret.self);
    orx_checker_free(g_ck);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static orx_patient *load_patient(const char *path) {
    orx_patient *pt = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_load(path, "2026-01-01", &pt, &err), ORX_OK);
    return pt;
}

static orx_patient *demo_patient(void) {
    return load_patient(orx_test_path("%s/examples/patients/demo-patient.json", orx_test_source_dir()));
}

static const orx_rx_option *find_option(const orx_rx_options *o, const char *name) {
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].ind.name, name)) return &o->v[i];
    return NULL;
}

static bool phrase_is(const orx_ind_phrase *p, const char *words) {
    char buf[256] = "";
    for (int i = 0; i < p->n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%s", i ? " " : "", p->words[i]);
    }
    return !strcmp(buf, words);
}

static const orx_ind_concept *concept_named(const orx_ind_query *q, const char *text) {
    for (int i = 0; i < q->n; i++)
        if (!strcmp(q->c[i].text, text)) return &q->c[i];
    return NULL;
}

/* ---- reading an indication ------------------------------------------------------------------ */
static void test_parse(void **state) {
    (void)state;
    orx_ind_vocab *v = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ind_vocab_open(orx_test_path("%s/data", orx_test_source_dir()), &v, &err), ORX_OK);
    orx_ind_query q;
    /* an abbreviation a label defines: AF -> atrial fibrillation, with its source */
    orx_ind_parse(v, "AF", false, NULL, NULL, &q);
    assert_int_equal(q.n, 1);
    assert_true(phrase_is(&q.c[0].alts[0], "atrial fibrillation"));
    assert_non_null(strstr(q.c[0].alts[0].via, "abbreviation defined in label"));
    /* a SNOMED CT problem: the semantic tag is not a word of it */
    orx_ind_parse(v, "Diabetes mellitus type 2 (disorder)", true, NULL, NULL, &q);
    assert_int_equal(q.n, 1);
    assert_int_equal(q.c[0].role, ORX_IND_PRIMARY);
    assert_true(phrase_is(&q.c[0].alts[0], "diabet mellitus typ 2")); /* normalised: plural, final -e */
    /* "of the hip" refines the problem; a situation names nothing to treat */
    orx_ind_parse(v, "Osteoarthritis of hip", true, NULL, NULL, &q);
    assert_int_equal(q.n, 2);
    assert_int_equal(q.c[0].role, ORX_IND_PRIMARY);
    assert_int_equal(q.c[1].role, ORX_IND_REFINE);
    orx_ind_parse(v, "History of appendectomy", true, NULL, NULL, &q);
    assert_int_equal(q.n, 0);
    assert_non_null(strstr(q.ignored, "situation"));
    /* a whole question: patient words ignored, the patient's conditions rank, the asked-for
     * condition makes options */
    orx_ind_parse(v, "82-year-old woman with atrial fibrillation and CKD, what anticoagulant for stroke prevention?",
                  false, NULL, NULL, &q);
    assert_non_null(strstr(q.ignored, "woman"));
    const orx_ind_concept *af = concept_named(&q, "atrial fibrillation"), *ckd = concept_named(&q, "CKD"),
                          *stroke = concept_named(&q, "stroke prevention");
    assert_non_null(af);
    assert_non_null(ckd);
    assert_non_null(stroke);
    assert_int_equal(af->role, ORX_IND_COMORBID);
    assert_int_equal(ckd->role, ORX_IND_COMORBID);
    assert_true(phrase_is(&ckd->alts[0], "chronic kidney diseas"));
    assert_int_equal(stroke->role, ORX_IND_PRIMARY);
    assert_true(phrase_is(&stroke->alts[0], "strok")); /* "prevention" says how, not what */
    /* with no other condition, the patient's condition is what is asked about */
    orx_ind_parse(v, "70-year-old man with gout, what should I prescribe?", false, NULL, NULL, &q);
    assert_int_equal(q.n, 1);
    assert_int_equal(q.c[0].role, ORX_IND_PRIMARY);
    /* narrative words are not conditions; "diagnosed with X" names what is asked about, "history
     * of Y" another condition of the patient */
    orx_ind_parse(v, "Woman aged 72, lives alone, history of osteoarthritis; diagnosed with gout last week. "
                     "What should I watch for?", false, NULL, NULL, &q);
    assert_non_null(strstr(q.ignored, "lives"));
    const orx_ind_concept *gout = concept_named(&q, "gout"), *oa = concept_named(&q, "osteoarthritis");
    assert_non_null(gout);
    assert_non_null(oa);
    assert_int_equal(gout->role, ORX_IND_PRIMARY);
    assert_int_equal(oa->role, ORX_IND_COMORBID);
    orx_ind_vocab_free(v);
}

/* ---- how a sentence states a condition: treated, a manifestation, or only the population ------ */
static const orx_ind_phrase *parsed(const orx_ind_vocab *v, const char *text, orx_ind_query *q) {
    orx_ind_parse(v, text, false, NULL, NULL, q);
    assert_true(q->n >= 1);
    return &q->c[0].alts[0];
}

static void test_text_states(void **state) {
    (void)state;
    orx_ind_vocab *v = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_ind_vocab_open(orx_test_path("%s/data", orx_test_source_dir()), &v, &err), ORX_OK);
    orx_ind_query q;
    const orx_ind_phrase *t2 = parsed(v, "type 2 diabetes", &q);
    /* irbesartan: the drug treats nephropathy; type 2 diabetes is who is treated */
    assert_int_equal(orx_ind_text_states("AVAPRO is indicated for the treatment of diabetic nephropathy with an elevated "
                                         "serum creatinine and proteinuria (>300 mg/day) in patients with type 2 diabetes "
                                         "and hypertension.", t2),
                     ORX_IND_STATED_POPULATION);
    assert_int_equal(orx_ind_text_states("Metformin hydrochloride tablets are indicated as an adjunct to diet and exercise "
                                         "to improve glycemic control in adults with type 2 diabetes mellitus.", t2),
                     ORX_IND_STATED);
    assert_int_equal(orx_ind_text_states("indicated for the treatment of hypertension", t2), ORX_IND_NOT_STATED);
    /* a preventing cue: the condition after "in patients with" is the reason for the drug */
    orx_ind_query q2;
    const orx_ind_phrase *af = parsed(v, "atrial fibrillation", &q2);
    assert_int_equal(orx_ind_text_states("to reduce the risk of stroke and systemic embolism in patients with "
                                         "nonvalvular atrial fibrillation", af), ORX_IND_STATED);
    /* a manifestation of the syndrome is treated */
    orx_ind_query q3;
    const orx_ind_phrase *lgs = parsed(v, "Lennox-Gastaut syndrome", &q3);
    assert_int_equal(orx_ind_text_states("adjunctive treatment of seizures associated with Lennox-Gastaut syndrome", lgs),
                     ORX_IND_STATED_ASSOCIATED);
    /* a hyphenated prefix is one word with the word it is written with */
    orx_ind_query q4;
    const orx_ind_phrase *nv = parsed(v, "non-valvular atrial fibrillation", &q4);
    assert_true(phrase_is(nv, "nonvalvular atrial fibrillation"));
    assert_int_equal(orx_ind_text_states("in patients with nonvalvular atrial fibrillation", nv), ORX_IND_STATED);
    orx_ind_vocab_free(v);
}

/* ---- options: labels that state the indication ----------------------------------------------- */
static void test_options_quote_verbatim(void **state) {
    (void)state;
    orx_ind_options o;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(g_ret.options(g_ret.self, "atrial fibrillation, stroke prevention", false, &o, &err), ORX_OK);
    assert_true(o.n >= 4);
    const char *want[4] = {"apixaban", "rivaroxaban", "dabigatran etexilate", "warfarin"};
    for (int w = 0; w < 4; w++) {
        bool top = false;
        for (size_t i = 0; i < 6 && i < o.n; i++) top |= !strcmp(o.v[i].name, want[w]);
        if (!top) fail_msg("%s is not among the first 6 options", want[w]);
    }
    orx_kb *kb = NULL;
    assert_int_equal(orx_kb_open(g_kb, &kb, &err), ORX_OK);
    for (size_t i = 0; i < 6 && i < o.n; i++) {
        const orx_kb_hit *q = &o.v[i].quote;
        assert_true(orx_str_ends_with(q->citation, "#34067-9"));
        assert_non_null(strcasestr(q->text, "fibrillation") ? q->text : strcasestr(q->text, "stroke"));
        /* the quoted sentence is the label's own text, at the offsets given */
        orx_kb_results r;
        assert_int_equal(orx_kb_label_section(kb, q->set_id, "34067-9", &r, &err), ORX_OK);
        bool found = false;
        for (size_t k = 0; k < r.n && !found; k++)
            if (r.hits[k].chunk_id == q->chunk_id) found = strstr(r.hits[k].text, q->text) != NULL;
        assert_true(found);
        orx_kb_results_clear(&r);
        assert_true(o.v[i].n_labels >= 1);
        assert_string_equal(o.v[i].label_ids[0], q->set_id);
    }
    orx_kb_free(kb);
    orx_ind_options_clear(&o);
}

static void test_options_negation_and_backoff(void **state) {
    (void)state;
    orx_ind_options o;
    orx_error err = ORX_ERROR_INIT;
    /* "Do not use Hydrocodone Bitartrate and Ibuprofen Tablets for … osteoarthritis" */
    assert_int_equal(g_ret.options(g_ret.self, "osteoarthritis", false, &o, &err), ORX_OK);
    assert_true(o.n >= 10);
    bool nsaid = false;
    for (size_t i = 0; i < o.n; i++) {
        assert_null(strstr(o.v[i].name, "hydrocodone"));
        nsaid |= !strcmp(o.v[i].name, "celecoxib") || !strcmp(o.v[i].name, "diclofenac");
        assert_false(o.v[i].partial);
    }
    assert_true(nsaid);
    orx_ind_options_clear(&o);
    /* no label states "chronic sinusitis": backed off to "sinusitis", marked partial */
    assert_int_equal(g_ret.options(g_ret.self, "Chronic sinusitis (disorder)", true, &o, &err), ORX_OK);
    assert_true(o.n >= 1);
    for (size_t i = 0; i < o.n; i++) {
        assert_true(o.v[i].partial);
        assert_non_null(strcasestr(o.v[i].quote.text, "sinusitis"));
    }
    orx_ind_options_clear(&o);
    /* an abbreviation in a question finds the same labels as its expansion */
    orx_ind_options a, b;
    assert_int_equal(g_ret.options(g_ret.self, "GERD", false, &a, &err), ORX_OK);
    assert_int_equal(g_ret.options(g_ret.self, "gastroesophageal reflux disease", false, &b, &err), ORX_OK);
    assert_true(a.n >= 2 && a.n == b.n);
    orx_ind_options_clear(&a);
    orx_ind_options_clear(&b);
}

/* ---- a condition named only as the population, body sites, general heads ---------------------- */
static void test_population_and_sites(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = load_patient(orx_test_path("%s/bench/patients/adult-55-male.json", orx_test_source_dir()));
    orx_rx_options o;
    assert_int_equal(orx_rx_find_options(&g_ret, g_ck, pt, "type 2 diabetes", false, 0, &o, &err), ORX_OK);
    const orx_rx_option *irb = find_option(&o, "irbesartan"), *met = find_option(&o, "metformin");
    assert_non_null(irb);
    assert_non_null(met);
    /* "treatment of diabetic nephropathy … in patients with type 2 diabetes": listed, never offered */
    assert_int_equal(irb->ind.stated, ORX_IND_STATED_POPULATION);
    assert_false(irb->in_choice);
    assert_int_equal(met->ind.stated, ORX_IND_STATED);
    assert_true(met->in_choice);
    assert_true(met < irb);
    orx_rx_options_clear(&o);
    orx_patient_free(pt);
    orx_ind_options io;
    /* nasal polyps are not a rectal polyp; "syndrome" alone is not "Metabolic syndrome X" */
    assert_int_equal(g_ret.options(g_ret.self, "Recurrent rectal polyp", true, &io, &err), ORX_OK);
    for (size_t i = 0; i < io.n; i++) assert_null(strcasestr(io.v[i].quote.text, "nasal"));
    orx_ind_options_clear(&io);
    assert_int_equal(g_ret.options(g_ret.self, "Metabolic syndrome X (disorder)", true, &io, &err), ORX_OK);
    assert_int_equal(io.n, 0);
    orx_ind_options_clear(&io);
    /* a site the label names among others still matches ("such as the knees and those of the hands") */
    assert_int_equal(g_ret.options(g_ret.self, "Localized, primary osteoarthritis of the hand", true, &io, &err), ORX_OK);
    assert_true(io.n >= 1);
    assert_string_equal(io.v[0].name, "diclofenac");
    orx_ind_options_clear(&io);
}

/* ---- an abbreviation no source defines: said so, with sourced suggestions, never expanded ------ */
static void test_unrecognised_abbreviation(void **state) {
    (void)state;
    orx_ind_options o;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(g_ret.options(g_ret.self, "T2DM", false, &o, &err), ORX_OK);
    assert_int_equal(o.n, 0); /* no meaning is invented for it */
    assert_non_null(strstr(o.query.unrecognised, "'T2DM' is not an abbreviation"));
    assert_non_null(strstr(o.query.unrecognised, "\"type 2 diabetes mellitus\"")); /* label words' initials */
    orx_ind_options_clear(&o);
    assert_int_equal(g_ret.options(g_ret.self, "65-year-old man with HTN, what should I prescribe?", false, &o, &err), ORX_OK);
    assert_non_null(strstr(o.query.unrecognised, "'HTN'"));
    assert_non_null(strstr(o.query.unrecognised, "\"hypertension\""));
    orx_ind_options_clear(&o);
    /* one the labels define is expanded, with no note */
    assert_int_equal(g_ret.options(g_ret.self, "AF", false, &o, &err), ORX_OK);
    assert_true(o.n >= 1);
    assert_string_equal(o.query.unrecognised, "");
    orx_ind_options_clear(&o);
}

/* ---- screening: ordered, contraindicated ones left out ---------------------------------------- */
static void test_screening(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    /* a pregnant patient: warfarin's label contraindicates it in pregnancy */
    const char *preg = orx_test_path("%s/preg.json", g_dir);
    FILE *f = fopen(preg, "w");
    assert_non_null(f);
    fputs("{\"openrx_patient\": 1, \"id\": \"preg-1\", \"birthDate\": \"1994-05-01\", \"sex\": \"female\", \"pregnant\": \"yes\","
          " \"labs\": [{\"kind\": \"weight\", \"value\": 70, \"unit\": \"kg\", \"date\": \"2025-12-01\"},"
          " {\"kind\": \"scr\", \"value\": 0.7, \"unit\": \"mg/dL\", \"date\": \"2025-12-01\"}]}", f);
    fclose(f);
    orx_patient *pt = load_patient(preg);
    orx_rx_options o;
    assert_int_equal(orx_rx_find_options(&g_ret, g_ck, pt, "atrial fibrillation", false, 0, &o, &err), ORX_OK);
    const orx_rx_option *w = find_option(&o, "warfarin");
    assert_non_null(w);
    assert_true(w->excluded);
    assert_false(w->in_choice);
    assert_non_null(strstr(w->excluded_why, "pregnan"));
    /* order: the choice first (no major finding before major), the excluded ones last */
    int phase = 0;
    for (size_t i = 0; i < o.n; i++) {
        int g = o.v[i].excluded ? 2 : o.v[i].any_finding && o.v[i].worst >= ORX_SEV_MAJOR ? 1 : 0;
        assert_true(g >= phase);
        phase = g;
    }
    orx_rx_options_clear(&o);
    orx_patient_free(pt);
    /* the demo patient (CrCl 22): rivaroxaban's major renal finding puts it after the others */
    pt = demo_patient();
    assert_int_equal(orx_rx_find_options(&g_ret, g_ck, pt, "atrial fibrillation, stroke prevention", false, 0, &o, &err), ORX_OK);
    const orx_rx_option *riva = find_option(&o, "rivaroxaban"), *api = find_option(&o, "apixaban");
    assert_non_null(riva);
    assert_non_null(api);
    assert_true(riva->any_finding && riva->worst >= ORX_SEV_MAJOR);
    assert_true(api < riva);
    assert_true(riva->in_choice);
    orx_rx_options_clear(&o);
    orx_patient_free(pt);
}

/* ---- each evidence channel --------------------------------------------------------------------- */
static void test_channels(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = demo_patient(); /* CrCl 22 mL/min, 82 years, on warfarin, sertraline, … */
    orx_rx_params p = orx_rx_default_params();
    p.indication = "atrial fibrillation, stroke prevention";
    orx_rx_result r;
    assert_int_equal(orx_recommend(NULL, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    assert_true(r.options.ran);
    assert_true(r.evidence.n >= 6 && r.evidence.n <= 10);
    int seen[6] = {0};
    int last = 0;
    for (size_t i = 0; i < r.evidence.n; i++) {
        const orx_kb_hit *h = &r.evidence.hits[i];
        assert_true(h->channel >= ORX_KB_CH_INDICATION && h->channel <= ORX_KB_CH_INTERACTION);
        assert_true(h->channel >= last); /* channel order */
        last = h->channel;
        seen[h->channel]++;
        assert_true(h->option >= 0);
        assert_non_null(strchr(h->citation, '#'));
        if (h->channel == ORX_KB_CH_INDICATION) {
            assert_string_equal(h->section_code, "34067-9");
            assert_non_null(strcasestr(h->text, "fibrillation"));
        }
        if (h->channel == ORX_KB_CH_DOSING) assert_string_equal(h->section_code, "34068-7");
        if (h->channel == ORX_KB_CH_SAFETY)
            assert_true(!strcmp(h->section_code, "34070-3") || !strcmp(h->section_code, "34066-1"));
    }
    for (int c = ORX_KB_CH_INDICATION; c <= ORX_KB_CH_INTERACTION; c++)
        if (!seen[c]) fail_msg("no evidence in the %s channel", orx_kb_channel_name(c));
    /* dosing for this patient's band: apixaban's paragraph names its dose criteria
     * (creatinine, age, weight); the table carries it with its evidence id */
    const orx_rx_option *api = find_option(&r.options, "apixaban");
    assert_non_null(api);
    assert_true(api->ev_indication > 0 && api->ev_dose > 0);
    assert_non_null(strstr(api->dose, "2.5 mg"));
    assert_non_null(strcasestr(api->dose, "creatinine"));
    assert_int_equal(r.evidence.hits[api->ev_dose - 1].channel, ORX_KB_CH_DOSING);
    /* interactions: an option's label or a current medicine's label names the other */
    bool pair = false;
    for (size_t i = 0; i < r.evidence.n; i++) {
        const orx_kb_hit *h = &r.evidence.hits[i];
        if (h->channel != ORX_KB_CH_INTERACTION) continue;
        const char *opt = r.options.v[0].ind.name; /* options given to the channels are the choice, in order */
        (void)opt;
        pair |= strcasestr(h->text, "warfarin") || strcasestr(h->text, "apixaban") || strcasestr(h->text, "dabigatran");
    }
    assert_true(pair);
    orx_rx_result_clear(&r);
    orx_patient_free(pt);
}

/* ---- the grounded schema: the ingredient an enum of the choice ---------------------------------- */
static const char *ANSWER_FMT =
    "{\"insufficient_evidence\": false, \"no_suitable_option\": %s, \"candidates\": [%s], \"alternatives\": [], "
    "\"confidence\": \"low\", \"rationale\": \"test\"}";
static const char *CAND_FMT =
    "{\"ingredient\": \"%s\", \"dose_amount\": 5, \"dose_unit\": \"mg\", \"route\": \"oral\", \"frequency\": \"twice daily\", "
    "\"duration\": \"\", \"adjustments\": \"\", \"monitoring\": \"\", \"citations\": [\"S1\"]}";

static char *answer(const char *none, const char *drug) {
    static char cand[1024], buf[2048];
    if (drug) snprintf(cand, sizeof cand, CAND_FMT, drug);
    else cand[0] = 0;
    snprintf(buf, sizeof buf, ANSWER_FMT, none, cand);
    return buf;
}

static void test_schema_enum(void **state) {
    (void)state;
    const char *choices[2] = {"apixaban", "dabigatran etexilate"};
    orx_schema *s = orx_rx_output_schema_for(2, choices, 2); /* parsed: the subset check passed */
    assert_non_null(s);
    const json_t *schema = orx_schema_json(s);
    orx_error err = ORX_ERROR_INIT;
    json_t *ing = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(schema, "properties"), "candidates"), "items"), "properties"), "ingredient"), "enum");
    assert_int_equal(json_array_size(ing), 2);
    assert_string_equal(json_string_value(json_array_get(ing, 1)), "dabigatran etexilate");
    assert_non_null(json_object_get(json_object_get(schema, "properties"), "no_suitable_option"));
    /* the validator: an option passes, another drug does not */
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(orx_rx_parse_answer(answer("false", "apixaban"), s, &r, &err), ORX_OK);
    assert_int_equal(r.n_cands, 1);
    assert_int_equal(orx_rx_parse_answer(answer("false", "aspirin"), s, &r, &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "ingredient"));
    /* "no suitable option", with its reason in the rationale */
    assert_int_equal(orx_rx_parse_answer(answer("true", NULL), s, &r, &err), ORX_OK);
    assert_true(r.no_option);
    assert_int_equal(r.n_cands, 0);
    /* "no suitable option" with a candidate: the conservative reading, nothing proposed */
    assert_int_equal(orx_rx_parse_answer(answer("true", "apixaban"), s, &r, &err), ORX_OK);
    assert_true(r.no_option);
    assert_int_equal(r.n_cands, 0);
    assert_int_equal(r.discarded_cands, 1);
    /* the local engine's grammar enforces the same enum byte by byte */
    orx_grammar *g = NULL;
    assert_int_equal(orx_grammar_compile(s, &g, &err), ORX_OK);
    orx_gstate *st = orx_gstate_create(g);
    char *good = strdup(answer("false", "dabigatran etexilate")), *bad = strdup(answer("false", "aspirin"));
    assert_true(orx_gstate_feed(st, good, strlen(good)));
    assert_true(orx_gstate_done(st));
    orx_gstate_free(st);
    st = orx_gstate_create(g);
    assert_false(orx_gstate_feed(st, bad, strlen(bad)));
    orx_gstate_free(st);
    orx_grammar_free(g);
    orx_schema_free(s);
    /* no option at all (every one contraindicated, or none stated): no candidate can be written */
    s = orx_rx_output_schema_for(2, choices, 0);
    assert_int_equal(orx_rx_parse_answer(answer("false", "apixaban"), s, &r, &err), ORX_ERR_INVALID);
    assert_int_equal(orx_rx_parse_answer(answer("true", NULL), s, &r, &err), ORX_OK);
    assert_int_equal(orx_grammar_compile(s, &g, &err), ORX_OK);
    st = orx_gstate_create(g);
    assert_false(orx_gstate_feed(st, good, strlen(good)));
    orx_gstate_free(st);
    orx_grammar_free(g);
    orx_schema_free(s);
    free(good);
    free(bad);
    /* open choice: a free ingredient string and no no_suitable_option */
    s = orx_rx_output_schema_for(2, NULL, 0);
    char *txt = json_dumps(orx_schema_json(s), JSON_COMPACT);
    assert_null(strstr(txt, "no_suitable_option"));
    assert_null(strstr(txt, "\"enum\":[\"apixaban\""));
    assert_non_null(strstr(txt, "\"ingredient\":{\"type\":\"string\""));
    free(txt);
    orx_schema_free(s);
}

/* ---- evidence mode's options table (text and JSON); whitespace indication ------------------------ */
static void test_evidence_table(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = demo_patient();
    orx_rx_params p = orx_rx_default_params();
    p.indication = "atrial fibrillation, stroke prevention";
    orx_rx_result r;
    assert_int_equal(orx_recommend(NULL, &g_ret, g_ck, pt, &p, &r, &err), ORX_OK);
    orx_buf b;
    orx_buf_init(&b);
    assert_int_equal(orx_rx_render_text(&r, pt, &b, &err), ORX_OK);
    assert_non_null(strstr(b.data, "Options: "));
    assert_non_null(strstr(b.data, "drug(s) whose FDA label states this indication"));
    const char *row = strstr(b.data, ". apixaban");
    assert_non_null(row);
    assert_non_null(strstr(row, "indication: \"ELIQUIS"));
    assert_non_null(strstr(row, "#34067-9)"));
    assert_non_null(strstr(row, "label dose: \""));
    assert_non_null(strstr(row, "#34068-7)"));
    assert_non_null(strstr(b.data, "channel: dosing"));
    orx_buf_reset(&b);
    assert_int_equal(orx_rx_render_json(&r, pt, &b, &err), ORX_OK);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    assert_non_null(j);
    json_t *opts = json_object_get(json_object_get(j, "options"), "options");
    assert_true(json_array_size(opts) >= 4);
    bool apixaban = false;
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o) {
        assert_non_null(json_object_get(o, "findings_by_tier"));
        assert_true(json_is_true(json_object_get(o, "label_indicated")));
        json_t *ind = json_object_get(o, "indication");
        assert_true(orx_str_ends_with(json_string_value(json_object_get(ind, "citation")), "#34067-9"));
        if (!strcmp(json_string_value(json_object_get(o, "drug")), "apixaban")) {
            apixaban = true;
            assert_true(json_is_string(json_object_get(ind, "evidence_id")));
            json_t *dose = json_object_get(o, "label_dose");
            assert_non_null(strstr(json_string_value(json_object_get(dose, "text")), "mg"));
        }
    }
    assert_true(apixaban);
    json_t *e0 = json_array_get(json_object_get(j, "evidence"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "channel")), "indication");
    json_decref(j);
    orx_buf_clear(&b);
    orx_rx_result_clear(&r);
    /* a whitespace-only indication is a usage error, like an empty one */
    p.indication = "  \t ";
    assert_int_equal(orx_recommend(NULL, &g_ret, g_ck, pt, &p, &r, &err), ORX_ERR_USAGE);
    orx_rx_result_clear(&r);
    orx_patient_free(pt);
}

/* ---- data/indications/abbreviations.tsv: every quote is label text --------------------------------- */
/* whitespace folded the way the generator (Python's str.split) folds it: also U+00A0 */
static char *fold(const char *s) {
    char *o = malloc(strlen(s) + 1);
    size_t k = 0;
    bool sp = false;
    for (; *s; s++) {
        if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) { s++; sp = k > 0; continue; }
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v') { sp = k > 0; continue; }
        if (sp) o[k++] = ' ';
        sp = false;
        o[k++] = *s;
    }
    o[k] = 0;
    return o;
}

/* the folded section texts of a label in the shipped labels_sections.jsonl files (a set id the
 * knowledge base keeps in another corpus's newer version still has its quotes here) */
static char *shipped_jsonl_text(const char *setid) {
    static const char *const FILES[] = {"2016-dailymed-ddi-labels-dbmi", "2021-spl-nsaids-metformin", NULL};
    orx_buf all;
    orx_buf_init(&all);
    for (int k = 0; FILES[k]; k++) {
        char *data = NULL;
        size_t len = 0;
        orx_error err = ORX_ERROR_INIT;
        if (orx_read_file(orx_test_path("%s/data/labels/%s/labels_sections.jsonl", orx_test_source_dir(), FILES[k]), 0, &data, &len, &err) != ORX_OK) continue;
        for (char *line = data, *nl; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl) *nl++ = 0;
            if (!strstr(line, setid)) continue;
            json_error_t je;
            json_t *o = json_loads(line, 0, &je), *sec;
            size_t i;
            if (o && !strcmp(json_string_value(json_object_get(o, "setid")) ? json_string_value(json_object_get(o, "setid")) : "", setid))
                json_array_foreach(json_object_get(o, "sections"), i, sec)
                    orx_buf_printf(&all, "%s\n", json_string_value(json_object_get(sec, "text")) ? json_string_value(json_object_get(sec, "text")) : "");
            json_decref(o);
        }
        free(data);
    }
    char *t = fold(all.data ? all.data : "");
    orx_buf_clear(&all);
    return t;
}

static void test_abbreviation_quotes(void **state) {
    (void)state;
    char *data = NULL, *ex = NULL;
    size_t len = 0, elen = 0;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(orx_test_path("%s/data/indications/abbreviations.tsv", orx_test_source_dir()), 0, &data, &len, &err), ORX_OK);
    assert_int_equal(orx_read_file(orx_test_path("%s/data/indications/excerpts.jsonl", orx_test_source_dir()), 0, &ex, &elen, &err), ORX_OK);
    char *exf = fold(ex);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(g_kb, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int rows = 0, shipped = 0, excerpt = 0;
    for (char *line = strchr(data, '\n') + 1, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        char *f[8];
        int n = 0;
        for (char *p = line; p && n < 8;) {
            f[n++] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        assert_int_equal(n, 8);
        rows++;
        /* the abbreviation and its expansion are written in the quote */
        assert_non_null(strstr(f[7], f[0]));
        char *q = fold(f[7]);
        if (!strcmp(f[6], "shipped")) {
            /* the section text of the cited label in the knowledge base built from data/labels */
            /* the label's text in the knowledge base built from data/labels (the cited section, or
             * the whole label when the corpus gave no section code) */
            orx_buf all;
            orx_buf_init(&all);
            sqlite3_stmt *st;
            assert_int_equal(sqlite3_prepare_v2(db, "SELECT c.text FROM chunks c JOIN docs d ON d.id = c.doc_id WHERE d.set_id = ?1"
                                                    " AND (?2 = '' OR c.section_code = ?2) ORDER BY c.id", -1, &st, NULL), SQLITE_OK);
            sqlite3_bind_text(st, 1, f[3], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, f[4], -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) orx_buf_printf(&all, "%s\n", (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
            char *t = fold(all.data ? all.data : "");
            if (!strstr(t, q)) {
                free(t);
                t = shipped_jsonl_text(f[3]);
            }
            if (!strstr(t, q)) fail_msg("abbreviations.tsv row %d (%s): quote not in %s#%s: %s", rows + 1, f[0], f[3], f[4], q);
            free(t);
            orx_buf_clear(&all);
            shipped++;
        } else {
            assert_string_equal(f[6], "excerpt");
            /* excerpts.jsonl stores the sentence as a JSON string: compare its escaped form's text */
            json_t *js = json_string(q);
            char *enc = json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
            char *dec = json_dumps(js, JSON_ENCODE_ANY);
            bool in = strstr(ex, dec) || strstr(ex, enc) || strstr(exf, q);
            free(enc);
            free(dec);
            json_decref(js);
            if (!in) fail_msg("abbreviations.tsv row %d (%s): quote not in excerpts.jsonl: %s", rows + 1, f[0], q);
            excerpt++;
        }
        free(q);
    }
    print_message("%d abbreviation quotes verified: %d in the shipped labels, %d in the shipped excerpts\n", rows, shipped, excerpt);
    assert_true(rows > 1000);
    sqlite3_close(db);
    free(exf);
    free(ex);
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_text_states),
        cmocka_unit_test(test_options_quote_verbatim),
        cmocka_unit_test(test_options_negation_and_backoff),
        cmocka_unit_test(test_population_and_sites),
        cmocka_unit_test(test_unrecognised_abbreviation),
        cmocka_unit_test(test_screening),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_schema_enum),
        cmocka_unit_test(test_evidence_table),
        cmocka_unit_test(test_abbreviation_quotes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
