/*
 * fuzz_dose.c — dose strings ("400 mg orally every 6 hours"): the dose parser alone, then the
 * whole proposed-drug path (lexicon lookup of the drug words + dose) checked against a patient
 * on warfarin, so every check runs on the parsed result.
 */
#include "fuzz.h"
#include "clinical/clinical.h"
#include "safety/safety.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static orx_checker *g_ck;
static orx_patient *g_pt;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static char data_dir[4096];
    snprintf(data_dir, sizeof data_dir, "%s/data", orx_fuzz_source_dir());
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = data_dir;
    orx_error err = ORX_ERROR_INIT;
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) {
        fprintf(stderr, "fuzz_dose: checker: %s\n", err.msg);
        abort();
    }
    const char *pt = "{\"openrx_patient\": 1, \"birthDate\": \"1944-05-01\", \"sex\": \"female\","
                     " \"labs\": [{\"kind\": \"weight\", \"value\": 60, \"unit\": \"kg\", \"date\": \"2025-12-01\"},"
                     " {\"kind\": \"scr\", \"value\": 1.9, \"unit\": \"mg/dL\", \"date\": \"2025-12-01\"}],"
                     " \"medications\": [{\"text\": \"warfarin 5 mg daily\"}], \"allergies\": [{\"text\": \"penicillin\"}]}";
    if (orx_patient_parse(pt, strlen(pt), "fuzz", "2026-01-01", &g_pt, &err) != ORX_OK) {
        fprintf(stderr, "fuzz_dose: patient: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    const char *s = orx_fuzz_cstr(data, size);
    if (!s) return 0;
    orx_dose d;
    orx_error err = ORX_ERROR_INIT;
    orx_dose_parse(s, &d, &err);
    orx_proposed_drug pd;
    memset(&pd, 0, sizeof pd);
    if (orx_proposed_drug_init(g_ck, s, NULL, &pd, &err) == ORX_OK) {
        orx_findings fs;
        orx_findings_init(&fs);
        orx_check_proposed(g_ck, g_pt, &pd, 1, &fs, &err);
        orx_findings_clear(&fs);
    }
    return 0;
}
