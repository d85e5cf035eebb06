/*
 * fuzz_spl.c — SPL XML label ingest (DailyMed) from memory, and the section chunker on every
 * section it yields.
 */
#include "fuzz.h"
#include "kb/kb.h"

static orx_status on_doc(void *ctx, const orx_kb_doc *doc, orx_error *err) {
    (void)ctx;
    (void)err;
    orx_kb_span spans[64];
    for (size_t i = 0; i < doc->n_sections; i++)
        orx_kb_chunk(doc->sections[i].text, doc->sections[i].len, 40, spans, 64);
    return ORX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    orx_error err = ORX_ERROR_INIT;
    orx_kb_ingest_spl_buf((const char *)data, size, "fuzz.xml", on_doc, NULL, &err);
    return 0;
}
