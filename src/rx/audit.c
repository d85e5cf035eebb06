/* audit.c — one record per recommendation in the hash-chained audit log (util/audit.c). */
#include "rx/rx.h"
#include <jansson.h>
#include <string.h>
#include <time.h>

/* where the prompt went: endpoint, remote or not, consent, de-identification, the bodies' hashes */
static void privacy_fields(json_t *o, const orx_rx_result *r) {
    if (r->evidence_mode) return;
    const orx_llm_privacy *pv = &r->privacy;
    json_object_set_new(o, "endpoint", pv->endpoint[0] ? json_string(pv->endpoint) : json_string("local engine"));
    json_object_set_new(o, "remote", json_boolean(pv->remote));
    json_object_set_new(o, "consent", json_boolean(pv->consent));
    json_object_set_new(o, "deidentified", json_boolean(pv->redact));
    if (pv->redact) {
        json_t *k = json_object();
        for (int i = 0; i < ORX_DEID_KIND_COUNT; i++)
            if (r->redactions[i]) json_object_set_new(k, orx_deid_kind_name((orx_deid_kind)i), json_integer(r->redactions[i]));
        json_object_set_new(o, "redactions", k);
    }
    json_t *req = json_array();
    for (int i = 0; i < r->n_sent; i++) {
        json_t *q = json_object();
        json_object_set_new(q, "sha256", json_string(r->sent[i].sha256));
        json_object_set_new(q, "bytes", json_integer((json_int_t)r->sent[i].bytes));
        if (r->sent[i].body) json_object_set_new(q, "body", json_string(r->sent[i].body));
        json_array_append_new(req, q);
    }
    json_object_set_new(o, "requests", req);
}

orx_status orx_rx_audit(const char *path, const orx_rx_result *r, const char *model_hash,
                        orx_status status, const char *error_msg, orx_error *err) {
    if (!path) return ORX_OK;
    json_t *o = json_object();
    char ts[32];
    orx_utc_now(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ");
    json_object_set_new(o, "type", json_string("recommendation"));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "status", json_string(status == ORX_OK ? "ok" : orx_status_message(status)));
    if (error_msg && *error_msg) json_object_set_new(o, "error", json_string(error_msg));
    json_object_set_new(o, "input_sha256", json_string(r->input_hash));
    json_object_set_new(o, "indication", json_string(r->indication));
    json_object_set_new(o, "mode", json_string(r->evidence_mode ? "evidence" : r->rag ? "model+rag" : "model"));
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "model_sha256", model_hash ? json_string(model_hash) : json_null());
    privacy_fields(o, r);
    json_t *ids = json_array();
    for (size_t i = 0; i < r->evidence.n; i++) json_array_append_new(ids, json_string(r->evidence.hits[i].citation));
    json_object_set_new(o, "retrieved", ids);
    json_object_set_new(o, "output", r->raw_output ? json_string(r->raw_output) : json_null());
    json_object_set_new(o, "schema_valid", json_boolean(r->schema_valid));
    json_object_set_new(o, "asks", json_integer(r->asks));
    json_object_set_new(o, "findings", orx_findings_json(&r->findings, true));
    json_object_set_new(o, "current_findings", orx_findings_json(&r->current_findings, true));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line) return orx_fail(err, ORX_ERR_NOMEM, "cannot serialise the audit record");
    orx_status st = orx_audit_append(path, line, strlen(line), err);
    free(line);
    return st;
}
