/* test_clinical_fhir.c — the FHIR R4 reader: a hand-made bundle exercising every feature
 * (units, latest value, references, statuses, pharmacogenes), the committed Synthea fixtures,
 * every Synthea bundle in ../shared (skipped without it), and a cross-check of meds, allergies
 * and conditions against an independent reading of each bundle with jansson. */
#include "testutil.h"
#include "clinical/clinical.h"
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 0.1)

static orx_patient *load(const char *path, const char *as_of) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_load(path, as_of, &p, &err);
    if (st != ORX_OK) print_message("%s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    return p;
}

static const char *fixture(const char *name) {
    return orx_test_path("%s/tests/fixtures/clinical/%s", orx_test_source_dir(), name);
}

static const orx_pgx *find_gene(const orx_patient *p, const char *gene) {
    for (size_t i = 0; i < p->n_pgx; i++)
        if (!strcmp(p->pgx[i].gene, gene)) return &p->pgx[i];
    return NULL;
}

/* ============================================================================================
 * Hand-made bundle
 * ========================================================================================== */
static void test_features_bundle(void **state) {
    (void)state;
    orx_patient *p = load(fixture("fhir-features.json"), "2026-01-01");
    assert_string_equal(p->format, "fhir-r4");
    assert_int_equal(p->sex, ORX_SEX_FEMALE);
    NEAR(p->age.value, 75); /* born 1950-02-10 */
    /* latest weight 154 [lb_av] = 69.85 kg; the 2030 value is after as-of and ignored */
    NEAR(p->labs[ORX_LAB_WEIGHT].value, 69.85);
    assert_int_equal(p->n_ignored_future, 1);
    NEAR(p->labs[ORX_LAB_HEIGHT].value, 162.56);            /* 64 [in_i] */
    assert_true(fabs(p->labs[ORX_LAB_SCR].value - 1.199) < 0.01); /* 106 umol/L / 88.4 */
    NEAR(p->labs[ORX_LAB_BILIRUBIN].value, 1.0);             /* 17.1 umol/L / 17.1 */
    NEAR(p->labs[ORX_LAB_ALBUMIN].value, 3.5);               /* 35 g/L */
    NEAR(p->labs[ORX_LAB_INR].value, 3.1);
    NEAR(p->labs[ORX_LAB_EGFR].value, 45);
    NEAR(p->labs[ORX_LAB_POTASSIUM].value, 4.8);             /* dataAbsentReason obs skipped */
    assert_string_equal(p->labs[ORX_LAB_POTASSIUM].date, "2025-06-02");
    assert_int_equal(p->pregnant, ORX_TRI_NO);
    /* BMI 69.85 / 1.6256² = 26.43 → adjusted weight: IBW 45.5 + 2.3 × 4 = 54.7;
     * AdjBW 54.7 + 0.4 × 15.15 = 60.76; CrCl = 65 × 60.76 × 0.85 / (72 × 1.199) = 38.88 */
    assert_int_equal(p->crcl_weight, ORX_WEIGHT_ADJUSTED);
    NEAR(p->ibw.value, 54.7);
    NEAR(p->crcl.value, 38.88);
    assert_int_equal(p->renal_band, ORX_RENAL_MODERATE);

    /* conditions: active ICD-10 + no-status-no-abatement; resolved and entered-in-error dropped */
    assert_int_equal(p->n_conditions, 2);
    assert_string_equal(p->conditions[0].code, "I48.91");
    assert_string_equal(p->conditions[0].system, "icd-10-cm");
    assert_string_equal(p->conditions[1].code, "44054006"); /* SNOMED preferred over ICD */
    /* meds: contained reference, bundled reference, codeable concept; stopped/completed dropped */
    assert_int_equal(p->n_meds, 3);
    assert_string_equal(p->meds[0].rxnorm, "310429");
    assert_string_equal(p->meds[0].route, "oral");
    NEAR(p->meds[0].dose_value, 20);
    assert_string_equal(p->meds[1].rxnorm, "855332");
    assert_string_equal(p->meds[1].source, "MedicationStatement");
    assert_string_equal(p->meds[1].dose_text, "2.5 mg once daily");
    assert_string_equal(p->meds[2].text, "metformin 500 mg tablet");
    /* allergies: inactive and refuted dropped */
    assert_int_equal(p->n_allergies, 1);
    assert_string_equal(p->allergies[0].code, "7980");
    assert_string_equal(p->allergies[0].system, "rxnorm");
    assert_string_equal(p->allergies[0].criticality, "high");
    assert_non_null(strstr(p->allergies[0].reactions, "Anaphylaxis"));
    /* pharmacogenes in the three accepted shapes */
    const orx_pgx *g = find_gene(p, "CYP2C19");
    assert_non_null(g);
    assert_string_equal(g->diplotype, "*2/*2");
    assert_string_equal(g->phenotype, "Poor Metabolizer"); /* CPIC casing */
    g = find_gene(p, "CYP2D6");
    assert_non_null(g);
    assert_string_equal(g->diplotype, "*1/*4");
    assert_string_equal(g->phenotype, "Intermediate Metabolizer");
    g = find_gene(p, "HLA-B*57:01");
    assert_non_null(g);
    assert_string_equal(g->phenotype, "negative");
    g = find_gene(p, "SLCO1B1");
    assert_non_null(g);
    assert_string_equal(g->diplotype, "*1/*5");
    assert_null(find_gene(p, "CYP2C9")); /* not present: never invented */

    /* JSON output is valid and carries the derived values */
    orx_buf b;
    orx_buf_init(&b);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_patient_to_json(p, &b, &err), ORX_OK);
    json_error_t jerr;
    json_t *o = json_loads(b.data, 0, &jerr);
    assert_non_null(o);
    json_t *crcl = json_object_get(json_object_get(o, "derived"), "crcl");
    NEAR(json_real_value(json_object_get(crcl, "value")), 38.88);
    assert_string_equal(json_string_value(json_object_get(crcl, "weight_choice")), "adjusted");
    json_decref(o);
    orx_buf_clear(&b);
    orx_patient_free(p);
}

/* ============================================================================================
 * Independent reading of a bundle (jansson only) for cross-checks
 * ========================================================================================== */
typedef struct expect {
    char meds[64][32];   size_t n_meds;   /* RxNorm codes of active MedicationRequests */
    char alls[64][32];   size_t n_alls;   /* codes of active allergies */
    char conds[128][32]; size_t n_conds;  /* codes of active conditions */
    char birth[16];
} expect;

static const char *first_code(json_t *cc) {
    return json_string_value(json_object_get(json_array_get(json_object_get(cc, "coding"), 0), "code"));
}

static const char *clin_status(json_t *r) {
    return json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(r, "clinicalStatus"), "coding"), 0), "code"));
}

static void read_expect(const char *path, expect *e) {
    memset(e, 0, sizeof *e);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    size_t i;
    json_t *en;
    json_array_foreach(json_object_get(root, "entry"), i, en) {
        json_t *r = json_object_get(en, "resource");
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        if (!strcmp(rt, "Patient"))
            snprintf(e->birth, sizeof e->birth, "%s", json_string_value(json_object_get(r, "birthDate")));
        else if (!strcmp(rt, "MedicationRequest")) {
            const char *st = json_string_value(json_object_get(r, "status"));
            if (st && !strcmp(st, "active") && e->n_meds < 64)
                snprintf(e->meds[e->n_meds++], 32, "%s", first_code(json_object_get(r, "medicationCodeableConcept")));
        } else if (!strcmp(rt, "AllergyIntolerance")) {
            const char *cs = clin_status(r);
            if ((!cs || !strcmp(cs, "active")) && e->n_alls < 64)
                snprintf(e->alls[e->n_alls++], 32, "%s", first_code(json_object_get(r, "code")));
        } else if (!strcmp(rt, "Condition")) {
            const char *cs = clin_status(r);
            if (cs && !strcmp(cs, "active") && e->n_conds < 128)
                snprintf(e->conds[e->n_conds++], 32, "%s", first_code(json_object_get(r, "code")));
        }
    }
    json_decref(root);
}

static int cmp32(const void *a, const void *b) { return strcmp(a, b); }

/* Compare a multiset of expected codes with the codes the parser produced. */
static void same_codes(char (*want)[32], size_t n_want, char (*got)[32], size_t n_got, const char *what,
                       const char *path) {
    if (n_want != n_got) print_message("%s: %s: expected %zu, parsed %zu\n", path, what, n_want, n_got);
    assert_int_equal(n_want, n_got);
    qsort(want, n_want, 32, cmp32);
    qsort(got, n_got, 32, cmp32);
    for (size_t i = 0; i < n_want; i++) assert_string_equal(want[i], got[i]);
}

static void cross_check(const char *path) {
    expect e;
    read_expect(path, &e);
    orx_patient *p = load(path, "2026-01-01");
    assert_string_equal(p->birth_date, e.birth);
    char got[128][32];
    size_t n = 0;
    for (size_t i = 0; i < p->n_meds && n < 128; i++) snprintf(got[n++], 32, "%s", p->meds[i].rxnorm);
    same_codes(e.meds, e.n_meds, got, n, "active medications", path);
    n = 0;
    for (size_t i = 0; i < p->n_allergies && n < 128; i++) snprintf(got[n++], 32, "%s", p->allergies[i].code);
    same_codes(e.alls, e.n_alls, got, n, "allergies", path);
    n = 0;
    for (size_t i = 0; i < p->n_conditions && n < 128; i++) snprintf(got[n++], 32, "%s", p->conditions[i].code);
    same_codes(e.conds, e.n_conds, got, n, "active conditions", path);
    orx_patient_free(p);
}

static void test_synthea_fixtures(void **state) {
    (void)state;
    cross_check(fixture("synthea-stephen-mclaughlin.json"));
    cross_check(fixture("synthea-kermit-trantow.json"));
    /* spot values read off the bundle by hand */
    orx_patient *p = load(fixture("synthea-kermit-trantow.json"), "2026-01-01");
    assert_int_equal(p->sex, ORX_SEX_MALE);
    assert_string_equal(p->birth_date, "1993-06-21");
    assert_int_equal(p->n_allergies, 3);
    assert_int_equal(p->n_meds, 3);
    bool epi = false;
    for (size_t i = 0; i < p->n_meds; i++) epi |= !strcmp(p->meds[i].rxnorm, "1870230");
    assert_true(epi);
    assert_true(p->labs[ORX_LAB_WEIGHT].present);
    assert_true(p->bmi.present);
    orx_patient_free(p);
}

/* ============================================================================================
 * Every Synthea bundle in ../shared
 * ========================================================================================== */
static void test_all_synthea_bundles(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    const char *dir = orx_test_path("%s/data/synthea-r4-smart-sample/bundles", orx_test_shared_dir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int parsed = 0, empty = 0;
    char path[4096];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (st.st_size == 0) {
            /* staging artefacts (0-byte files): must fail cleanly with a location, not crash */
            orx_patient *p = NULL;
            orx_error err = ORX_ERROR_INIT;
            assert_int_equal(orx_patient_load(path, "2026-01-01", &p, &err), ORX_ERR_PARSE);
            assert_null(p);
            print_message("NOTE: 0-byte file in the shared sample (not a bundle): %s -> %s\n", de->d_name, err.msg);
            empty++;
            continue;
        }
        cross_check(path);
        parsed++;
    }
    closedir(d);
    print_message("parsed and cross-checked %d Synthea bundles (%d empty files reported)\n", parsed, empty);
    assert_true(parsed >= 40);
}

/* ============================================================================================
 * Pregnancy / lactation flags and gene-name recognition
 * ========================================================================================== */
static orx_patient *parse_str(const char *json) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_patient_parse(json, strlen(json), "inline", "2026-01-01", &p, &err);
    if (st != ORX_OK) print_message("%s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    return p;
}

static void test_pregnancy_lactation(void **state) {
    (void)state;
    /* an active Condition "Normal pregnancy" (SNOMED 72892002) and a breastfeeding Observation */
    orx_patient *p = parse_str(
        "{\"resourceType\":\"Bundle\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"female\",\"birthDate\":\"1995-01-01\"}},"
        "{\"resource\":{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
        "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"72892002\",\"display\":\"Normal pregnancy\"}]},"
        "\"onsetDateTime\":\"2025-10-01\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"Breastfeeding status\"},"
        "\"effectiveDateTime\":\"2025-11-01\",\"valueBoolean\":false}}]}");
    assert_int_equal(p->pregnant, ORX_TRI_YES);
    assert_non_null(strstr(p->pregnancy_basis, "Condition"));
    assert_int_equal(p->lactating, ORX_TRI_NO);
    orx_patient_free(p);
    /* a resolved pregnancy does not count; female without data stays unknown */
    p = parse_str(
        "{\"resourceType\":\"Bundle\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"female\",\"birthDate\":\"1995-01-01\"}},"
        "{\"resource\":{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"resolved\"}]},"
        "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"72892002\"}]}}}]}");
    assert_int_equal(p->pregnant, ORX_TRI_UNKNOWN);
    assert_int_equal(p->lactating, ORX_TRI_UNKNOWN);
    orx_patient_free(p);
}

static void test_gene_names(void **state) {
    (void)state;
    orx_patient *p = parse_str(
        "{\"openrx_patient\":1,\"pharmacogenes\":["
        "{\"gene\":\"hla-b*5801\",\"phenotype\":\"POSITIVE\"},"
        "{\"gene\":\"CYP2C9\",\"diplotype\":\"*1/*2\"},"
        "{\"gene\":\"CYP2C19\",\"phenotype\":\"rapid metabolizer\"},"
        "{\"gene\":\"CYP2C19\",\"diplotype\":\"*1/*17\"}]}");
    assert_int_equal(p->n_pgx, 3); /* the two CYP2C19 rows merge */
    assert_non_null(find_gene(p, "HLA-B*58:01"));
    assert_string_equal(find_gene(p, "HLA-B*58:01")->phenotype, "positive");
    assert_string_equal(find_gene(p, "CYP2C9")->diplotype, "*1/*2"); /* not mistaken for CYP2C19 */
    assert_string_equal(find_gene(p, "CYP2C19")->diplotype, "*1/*17");
    assert_string_equal(find_gene(p, "CYP2C19")->phenotype, "Rapid Metabolizer");
    orx_patient_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_bundle),
        cmocka_unit_test(test_synthea_fixtures),
        cmocka_unit_test(test_all_synthea_bundles),
        cmocka_unit_test(test_pregnancy_lactation),
        cmocka_unit_test(test_gene_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
