/* audit.c — one record per recommendation in the hash-chained audit log (util/audit.c). */
#include "rx/rx.h"
#include <jansson.h>
#include <string.h>
#include <time.h>

static json_t *findings_array(const orx_findings *fs) {
    json_t *a = json_array();
    for (size_t i = 0; i < fs->n; i++) {
        const orx_finding *f = &fs->items[i];
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(f->kind));
        json_object_set_new(o, "severity", json_string(orx_severity_name(f->severity)));
        json_object_set_new(o, "drugs", json_string(f->drugs));
        json_object_set_new(o, "citation", json_string(f->citation));
        json_array_append_new(a, o);
    }
    return a;
}

orx_status orx_rx_audit(const char *path, const orx_rx_result *r, const char *model_hash,
                        orx_status status, const char *error_msg, orx_error *err) {
    if (!path) return ORX_OK;
    json_t *o = json_object();
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(o, "type", json_string("recommendation"));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "status", json_string(status == ORX_OK ? "ok" : orx_status_message(status)));
    if (error_msg && *error_msg) json_object_set_new(o, "error", json_string(error_msg));
    json_object_set_new(o, "input_sha256", json_string(r->input_hash));
    json_object_set_new(o, "indication", json_string(r->indication));
    json_object_set_new(o, "mode", json_string(r->evidence_mode ? "evidence" : r->rag ? "model+rag" : "model"));
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "model_sha256", model_hash ? json_string(model_hash) : json_null());
    json_t *ids = json_array();
    for (size_t i = 0; i < r->evidence.n; i++) json_array_append_new(ids, json_string(r->evidence.hits[i].citation));
    json_object_set_new(o, "retrieved", ids);
    json_object_set_new(o, "output", r->raw_output ? json_string(r->raw_output) : json_null());
    json_object_set_new(o, "schema_valid", json_boolean(r->schema_valid));
    json_object_set_new(o, "asks", json_integer(r->asks));
    json_object_set_new(o, "findings", findings_array(&r->findings));
    json_object_set_new(o, "current_findings", findings_array(&r->current_findings));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line) return orx_fail(err, ORX_ERR_NOMEM, "cannot serialise the audit record");
    orx_status st = orx_audit_append(path, line, strlen(line), err);
    free(line);
    return st;
}
