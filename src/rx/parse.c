/* parse.c — model answer → validated prescription fields. */
#include "rx/rx.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, json_t *v) {
    const char *s = json_string_value(v);
    snprintf(dst, cap, "%s", s ? s : "");
}

orx_status orx_rx_parse_output(const char *text, int n_evidence, orx_rx_result *out, orx_error *err) {
    orx_schema *schema = orx_rx_output_schema(n_evidence);
    if (!schema) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_rx_parse_answer(text, schema, out, err);
    orx_schema_free(schema);
    return st;
}

orx_status orx_rx_parse_answer(const char *text, const orx_schema *schema, orx_rx_result *out, orx_error *err) {
    out->n_cands = 0;
    out->n_alternatives = 0;
    out->no_option = false;
    if (!text) return orx_fail(err, ORX_ERR_PARSE, "the model gave no answer");
    /* A model may wrap the object in prose or a code fence: take the first JSON object. */
    const char *start = strchr(text, '{');
    if (!start) return orx_fail(err, ORX_ERR_PARSE, "the model's answer contains no JSON object");
    json_error_t je;
    json_t *root = json_loads(start, JSON_DISABLE_EOF_CHECK, &je);
    if (!root) return orx_fail(err, ORX_ERR_PARSE, "the model's answer is not valid JSON: answer:%d:%d: %s", je.line, je.column, je.text);
    orx_status st = orx_schema_validate(schema, root, err);
    if (st != ORX_OK) { json_decref(root); return orx_error_prefix(err, "the model's answer does not match the output schema"); }
    out->insufficient = json_is_true(json_object_get(root, "insufficient_evidence"));
    out->no_option = json_is_true(json_object_get(root, "no_suitable_option"));
    /* "no suitable option" and candidates at once (the schema cannot forbid the pair): the
     * conservative reading wins, no drug is proposed, and the result says what was dropped */
    out->discarded_cands = out->no_option ? (int)json_array_size(json_object_get(root, "candidates")) : 0;
    copy_str(out->confidence, sizeof out->confidence, json_object_get(root, "confidence"));
    copy_str(out->rationale, sizeof out->rationale, json_object_get(root, "rationale"));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "candidates"), i, c) {
        if (out->n_cands >= ORX_RX_MAX_CANDIDATES || out->no_option) break;
        orx_rx_candidate *k = &out->cands[out->n_cands++];
        memset(k, 0, sizeof *k);
        k->option = -1;
        copy_str(k->ingredient, sizeof k->ingredient, json_object_get(c, "ingredient"));
        k->dose_amount = json_number_value(json_object_get(c, "dose_amount"));
        copy_str(k->dose_unit, sizeof k->dose_unit, json_object_get(c, "dose_unit"));
        copy_str(k->route, sizeof k->route, json_object_get(c, "route"));
        copy_str(k->frequency, sizeof k->frequency, json_object_get(c, "frequency"));
        copy_str(k->duration, sizeof k->duration, json_object_get(c, "duration"));
        copy_str(k->adjustments, sizeof k->adjustments, json_object_get(c, "adjustments"));
        copy_str(k->monitoring, sizeof k->monitoring, json_object_get(c, "monitoring"));
        size_t j;
        json_t *id;
        json_array_foreach(json_object_get(c, "citations"), j, id) {
            if (k->n_citations >= ORX_RX_MAX_CITES) break;
            copy_str(k->citations[k->n_citations++], sizeof k->citations[0], id);
        }
    }
    json_t *a;
    json_array_foreach(json_object_get(root, "alternatives"), i, a) {
        if (out->n_alternatives >= 3) break;
        copy_str(out->alternatives[out->n_alternatives++], sizeof out->alternatives[0], a);
    }
    json_decref(root);
    return ORX_OK;
}
