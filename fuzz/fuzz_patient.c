/*
 * fuzz_patient.c — the patient parsers (FHIR R4 Bundle and the openrx JSON form, chosen by
 * content) with unit conversion and the derived values, then the summary and JSON writers.
 */
#include "fuzz.h"
#include "clinical/clinical.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    orx_patient *p = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse((const char *)data, size, "fuzz", "2026-01-01", &p, &err) != ORX_OK) return 0;
    orx_buf b;
    orx_buf_init(&b);
    orx_patient_summary(p, &b, &err);
    orx_buf_reset(&b);
    orx_patient_to_json(p, &b, &err);
    orx_buf_clear(&b);
    orx_patient_free(p);
    return 0;
}
