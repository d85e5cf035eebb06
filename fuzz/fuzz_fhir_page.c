/*
 * fuzz_fhir_page.c — what openrx reads from an EHR's FHIR server for a CDS Hooks request
 * (src/server/fhir_fetch.c): one response body parsed as a search Bundle or a read resource,
 * the next-page link taken; the same bytes as a request's prefetch object (which queries are
 * missing) and as fhirServer / patientId / token strings. The first byte picks the query type
 * and read/search.
 */
#include "fuzz.h"
#include "server/fhir_fetch.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    static const char *const TYPES[] = {"Patient", "MedicationRequest", "Condition", "AllergyIntolerance", "Observation"};
    const char *type = TYPES[(data[0] & 0x7f) % 5];
    bool bundle = data[0] & 0x80;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    orx_error err = ORX_ERROR_INIT;
    json_t *out = json_array();
    char *next = NULL;
    orx_fhir_page_parse(body, len, type, bundle, "fuzz", out, 50, &next, &err);
    free(next);
    /* the same bytes as a prefetch object beside the resources read */
    json_t *pf = json_loadb(body, len, 0, NULL);
    (void)orx_fhir_missing(pf, out);
    json_decref(pf);
    json_decref(out);
    const char *s = orx_fuzz_cstr(data + 1, len);
    if (s) {
        orx_error e2 = ORX_ERROR_INIT;
        orx_fhir_fetch_check(s, s, s, &e2);
    }
    return 0;
}
