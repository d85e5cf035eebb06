/*
 * fuzz_jsonl.c — labels_sections.jsonl ingest (one label per line) and plain-text label files
 * (NLM DDI corpus layout), the two line-oriented ingesters; the first input byte picks which.
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
    if (!size) return 0;
    const char *path = orx_fuzz_file(0, data + 1, size - 1);
    if (!path) return 0;
    orx_error err = ORX_ERROR_INIT;
    if (data[0] & 1) {
        const char *one[1] = {path};
        orx_kb_ingest_text(one, 1, on_doc, NULL, &err);
    } else {
        orx_kb_ingest_jsonl(path, on_doc, NULL, &err);
    }
    return 0;
}
