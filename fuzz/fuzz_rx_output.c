/*
 * fuzz_rx_output.c — a model's answer is untrusted text: the recommend pipeline's output parser
 * (JSON → prescription draft, citation ids checked against the evidence count) and the JSON and
 * text renderers of whatever it accepted.
 */
#include "fuzz.h"
#include "rx/rx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static orx_patient *g_pt;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *pt = "{\"openrx_patient\": 1, \"birthDate\": \"1950-01-01\", \"sex\": \"female\","
                     " \"medications\": [{\"text\": \"warfarin 5 mg\"}]}";
    orx_error err = ORX_ERROR_INIT;
    if (orx_patient_parse(pt, strlen(pt), "fuzz", "2026-01-01", &g_pt, &err) != ORX_OK) {
        fprintf(stderr, "fuzz_rx_output: patient: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size || size > 65536) return 0;
    const char *s = orx_fuzz_cstr(data + 1, size - 1);
    if (!s) return 0;
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    orx_error err = ORX_ERROR_INIT;
    if (orx_rx_parse_output(s, data[0] % 12, &r, &err) == ORX_OK) {
        orx_buf b;
        orx_buf_init(&b);
        orx_rx_render_text(&r, g_pt, &b, &err);
        orx_buf_reset(&b);
        orx_rx_render_json(&r, g_pt, &b, &err);
        orx_buf_clear(&b);
    }
    orx_rx_result_clear(&r);
    return 0;
}
