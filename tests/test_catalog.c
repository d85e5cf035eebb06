/*
 * test_catalog.c — the shipped data/models.json (every entry sourced, the issue's models present,
 * categories valid) and the loader's handling of malformed or invalid catalogs; filters.
 */
#include "testutil.h"
#include "catalog/catalog.h"
#include "engine/engine.h"
#include <stdlib.h>
#include <string.h>

static orx_catalog *shipped(void) {
    orx_catalog *cat = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_catalog_load(orx_test_path("%s/data/models.json", orx_test_source_dir()), &cat, &err);
    if (st) print_message("%s\n", err.msg);
    assert_int_equal(st, ORX_OK);
    return cat;
}

/* ============================================================================================
 * The shipped catalog
 * ========================================================================================== */
static void test_every_entry_is_sourced(void **state) {
    orx_catalog *cat = shipped();
    assert_true(orx_catalog_count(cat) >= 25);
    for (size_t i = 0; i < orx_catalog_count(cat); i++) {
        const orx_catalog_model *m = orx_catalog_at(cat, i);
        assert_true(orx_str_starts_with(m->source, "https://"));
        assert_true(m->n_tasks > 0);
        /* A GGUF file with a published digest must carry it in full. */
        for (size_t g = 0; g < m->n_gguf; g++)
            for (size_t f = 0; f < m->gguf[g].n_files; f++)
                if (m->gguf[g].files[f].sha256) assert_int_equal(strlen(m->gguf[g].files[f].sha256), 64);
        /* A licence that must be accepted needs somewhere to read it. */
        if (m->requires_licence_acceptance != ORX_TRI_NO) assert_non_null(orx_catalog_model_terms_link(m));
    }
    orx_catalog_free(cat);
}

static void test_issue_models_present(void **state) {
    static const char *const NAMES[] = {
        "meditron-7b", "meditron-70b", "llama-3.1-meditron-3-8b", "biomistral-7b", "openbiollm-8b",
        "openbiollm-70b", "med42-70b", "med42-v2-8b", "med42-v2-70b", "pmc-llama-13b", "medalpaca-7b",
        "chatdoctor", "alpacare-llama2-7b", "clinical-camel-70b", "me-llama-13b", "biomedgpt-lm-7b",
        "biogpt", "biomedlm-2.7b", "llava-med-v1.5-mistral-7b", "medsam", "radfm", "llama-3.1-8b-instruct",
        "mistral-7b-instruct-v0.3", "qwen2.5-7b-instruct", "gemma-2-9b-it", "phi-3-mini-4k-instruct", NULL};
    orx_catalog *cat = shipped();
    for (const char *const *n = NAMES; *n; n++) {
        if (!orx_catalog_find(cat, *n)) print_message("missing: %s\n", *n);
        assert_non_null(orx_catalog_find(cat, *n));
    }
    /* Lookup is case-insensitive and accepts the display name. */
    assert_ptr_equal(orx_catalog_find(cat, "BioMistral-7B"), orx_catalog_find(cat, "biomistral-7b"));
    assert_null(orx_catalog_find(cat, "no-such-model"));
    orx_catalog_free(cat);
}

static void test_taxonomy_covers_the_study_categories(void **state) {
    static const char *const CATS[] = {"clinical-qa", "documentation", "imaging", "vision-language",
                                       "text-mining", "education", NULL};
    orx_catalog *cat = shipped();
    for (const char *const *c = CATS; *c; c++) {
        bool declared = false, used = false;
        for (size_t t = 0; t < orx_catalog_n_tasks(cat); t++) declared |= !strcmp(orx_catalog_task_id(cat, t), *c);
        for (size_t i = 0; i < orx_catalog_count(cat); i++)
            used |= orx_catalog_model_has_task(orx_catalog_at(cat, i), *c);
        assert_true(declared);
        assert_true(used);
    }
    orx_catalog_free(cat);
}

static void test_filters(void **state) {
    orx_catalog *cat = shipped();
    const orx_catalog_model *medsam = orx_catalog_find(cat, "medsam");
    const orx_catalog_model *bm = orx_catalog_find(cat, "biomistral-7b");
    assert_true(orx_catalog_model_has_task(medsam, "imaging"));
    assert_false(orx_catalog_model_has_task(medsam, "clinical-qa"));
    assert_true(orx_catalog_model_licence_matches(bm, "apache"));
    assert_false(orx_catalog_model_licence_matches(bm, "llama"));
    assert_true(orx_catalog_model_licence_matches(medsam, "unknown")); /* no recorded licence */
    /* Runnable follows the architecture: none for MedSAM, llama for BioMistral. */
    assert_false(orx_catalog_model_runnable(medsam));
    assert_int_equal(orx_catalog_model_runnable(bm), orx_catalog_arch_runnable("llama"));
    assert_false(orx_catalog_arch_runnable(NULL));
    assert_false(orx_catalog_arch_runnable("no-such-arch"));
    /* Exactly the engine's registry decides. */
    for (const char *const *a = orx_engine_architectures(); *a; a++) {
        assert_true(orx_catalog_arch_runnable(*a));
        assert_non_null(strstr(orx_catalog_runnable_archs(), *a));
    }
    orx_catalog_free(cat);
}

static void test_pull_plan_from_shipped(void **state) {
    orx_catalog *cat = shipped();
    orx_pull_plan plan;
    orx_error err = ORX_ERROR_INIT;
    /* BioMistral: Apache-2.0, no acceptance; Q4_K_M is published by the first repo listed. */
    assert_int_equal(orx_catalog_plan_pull(orx_catalog_find(cat, "biomistral-7b"), NULL, false, &plan, &err), ORX_OK);
    assert_string_equal(plan.filename, "BioMistral-7B-Q4_K_M.gguf");
    assert_true(orx_str_starts_with(plan.url, "https://huggingface.co/"));
    assert_true(orx_str_ends_with(plan.url, "/resolve/main/BioMistral-7B-Q4_K_M.gguf"));
    /* Med42-v2 8B: Llama 3 licence, so acceptance is required; the Q4_K_M file is pinned to the
     * revision whose page states its sha256, and the plan carries that digest. */
    const orx_catalog_model *med42 = orx_catalog_find(cat, "med42-v2-8b");
    assert_int_equal(orx_catalog_plan_pull(med42, "Q4_K_M", false, &plan, &err), ORX_ERR_USAGE);
    assert_int_equal(orx_catalog_plan_pull(med42, "Q4_K_M", true, &plan, &err), ORX_OK);
    assert_non_null(strstr(plan.url, "/resolve/637a585ef35229bae8744b5a58114769569318e1/"));
    assert_string_equal(plan.sha256, "08858c3ad67e3e339bd4f5e4293af748aedc551fe9fedbc195e45f0b1278c30d");
    /* Meditron-70B is gated: refused without --accept-licence, the terms link in the message. */
    const orx_catalog_model *m70 = orx_catalog_find(cat, "meditron-70b");
    assert_int_equal(orx_catalog_plan_pull(m70, NULL, false, &plan, &err), ORX_ERR_USAGE);
    assert_non_null(strstr(err.msg, orx_catalog_model_terms_link(m70)));
    orx_catalog_free(cat);
}

/* ============================================================================================
 * Bad catalogs
 * ========================================================================================== */
static orx_status load_str(const char *text, orx_error *err) {
    orx_catalog *cat = NULL;
    orx_status st = orx_catalog_load_text(text, strlen(text), "t.json", &cat, err);
    orx_catalog_free(cat);
    return st;
}

#define HEAD "{\"task_categories\":[{\"id\":\"clinical-qa\",\"label\":\"QA\"}],\"models\":["
#define OK_ENTRY "{\"name\":\"a\",\"tasks\":[\"clinical-qa\"],\"openness\":{},\"source\":\"https://x.org/a\"}"

static void test_malformed_json_has_location(void **state) {
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(load_str("{\n  \"models\": [,]\n}", &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.json:2:"));
}

static void test_invalid_entries(void **state) {
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(load_str(HEAD OK_ENTRY "]}", &err), ORX_OK);
    /* no source */
    assert_int_equal(load_str(HEAD "{\"name\":\"a\",\"tasks\":[\"clinical-qa\"],\"openness\":{}}]}", &err),
                     ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'source'"));
    /* unknown task category */
    assert_int_equal(load_str(HEAD "{\"name\":\"a\",\"tasks\":[\"astrology\"],\"openness\":{},"
                                   "\"source\":\"https://x.org\"}]}", &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "astrology"));
    /* duplicate name */
    assert_int_equal(load_str(HEAD OK_ENTRY "," OK_ENTRY "]}", &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "duplicate"));
    /* a sha256 that is not 64 hex digits */
    assert_int_equal(load_str(HEAD "{\"name\":\"a\",\"tasks\":[\"clinical-qa\"],\"openness\":{},"
                                   "\"source\":\"https://x.org\",\"gguf\":[{\"repo\":\"https://x.org/r\","
                                   "\"files\":[{\"name\":\"a.gguf\",\"quant\":\"Q4_K_M\",\"sha256\":\"abc\"}]}]}]}",
                              &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "sha256"));
    /* a file name that escapes the download directory */
    assert_int_equal(load_str(HEAD "{\"name\":\"a\",\"tasks\":[\"clinical-qa\"],\"openness\":{},"
                                   "\"source\":\"https://x.org\",\"gguf\":[{\"repo\":\"https://x.org/r\","
                                   "\"files\":[{\"name\":\"../evil\",\"quant\":\"Q4_K_M\"}]}]}]}",
                              &err), ORX_ERR_INVALID);
    /* acceptance flag of the wrong type */
    assert_int_equal(load_str(HEAD "{\"name\":\"a\",\"tasks\":[\"clinical-qa\"],\"openness\":{},"
                                   "\"source\":\"https://x.org\",\"requires_licence_acceptance\":\"yes\"}]}", &err),
                     ORX_ERR_INVALID);
    /* no task categories at all */
    assert_int_equal(load_str("{\"models\":[]}", &err), ORX_ERR_INVALID);
}

static void test_missing_file(void **state) {
    orx_catalog *cat = NULL;
    orx_error err = ORX_ERROR_INIT;
    assert_int_not_equal(orx_catalog_load("/nonexistent/models.json", &cat, &err), ORX_OK);
    assert_null(cat);
    assert_non_null(strstr(err.msg, "/nonexistent/models.json"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_is_sourced),  cmocka_unit_test(test_issue_models_present),
        cmocka_unit_test(test_taxonomy_covers_the_study_categories), cmocka_unit_test(test_filters),
        cmocka_unit_test(test_pull_plan_from_shipped),  cmocka_unit_test(test_malformed_json_has_location),
        cmocka_unit_test(test_invalid_entries),         cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
