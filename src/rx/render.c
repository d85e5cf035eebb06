/* render.c — the recommendation as text for people, JSON, and FHIR R4 (MedicationRequest +
 * DetectedIssue). Every rendering carries the draft notice. */
#include "rx/rx.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Text
 * ========================================================================================== */
/* a label's effective date as YYYY-MM-DD ("date unknown" when the label has none) */
static void evidence_date(const orx_kb_hit *h, char *out, size_t cap) {
    const char *d = h->effective_date;
    if (strlen(d) == 8) snprintf(out, cap, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
    else snprintf(out, cap, "%s", d[0] ? d : "date unknown");
}

static const orx_kb_hit *evidence_by_id(const orx_rx_result *r, const char *id) {
    int i = id[0] == 'S' ? atoi(id + 1) : 0;
    return i >= 1 && (size_t)i <= r->evidence.n ? &r->evidence.hits[i - 1] : NULL;
}

static void render_findings_text(const char *title, const orx_findings *fs, orx_buf *out) {
    orx_buf_printf(out, "\n%s (%zu):\n", title, fs->n);
    if (!fs->n) { orx_buf_puts(out, "  none\n"); return; }
    orx_error e = ORX_ERROR_INIT;
    orx_findings_to_text(fs, out, &e);
}

orx_status orx_rx_render_text(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err) {
    orx_buf_printf(out, "=== %s ===\n", ORX_DRAFT_NOTICE);
    orx_buf_printf(out, "Patient: %s (%s", pt->id[0] ? pt->id : pt->source, orx_sex_name(pt->sex));
    if (pt->age.present) orx_buf_printf(out, ", %.0f years", pt->age.value);
    orx_buf_puts(out, ")\n");
    if (pt->crcl.present) orx_buf_printf(out, "Renal: CrCl %.0f mL/min (%s)\n", pt->crcl.value, pt->crcl.formula);
    else orx_buf_printf(out, "Renal: CrCl not available (%s)\n", pt->crcl.why_absent);
    orx_buf_printf(out, "Indication: %s\n", r->indication);
    if (r->evidence_mode) {
        orx_buf_puts(out, "Mode: EVIDENCE MODE - no model configured; retrieval and safety checks only, "
                          "NO prescription was generated.\n");
    } else {
        orx_buf_printf(out, "Mode: model %s, %s\n", r->model, r->rag ? "with retrieval (RAG)" : "without retrieval");
        if (!r->schema_valid) {
            orx_buf_printf(out, "\nThe model's answer could not be used: %s\n", r->schema_error);
        } else if (r->insufficient && r->n_cands == 0) {
            orx_buf_puts(out, "\nThe model reports INSUFFICIENT EVIDENCE and proposes no drug.\n");
        } else {
            orx_buf_printf(out, "\nDraft prescription%s:\n", r->insufficient ? " (model flags insufficient evidence)" : "");
            for (int i = 0; i < r->n_cands; i++) {
                const orx_rx_candidate *c = &r->cands[i];
                orx_buf_printf(out, "  %d. %s %g %s %s, %s", i + 1, c->ingredient, c->dose_amount, c->dose_unit, c->route, c->frequency);
                if (c->duration[0]) orx_buf_printf(out, ", %s", c->duration);
                if (c->rxcui[0]) orx_buf_printf(out, "  [RxCUI %s]", c->rxcui);
                orx_buf_puts(out, "\n");
                if (c->adjustments[0]) orx_buf_printf(out, "     Adjustments: %s\n", c->adjustments);
                if (c->monitoring[0]) orx_buf_printf(out, "     Monitoring: %s\n", c->monitoring);
                for (int j = 0; j < c->n_citations; j++) {
                    const orx_kb_hit *h = evidence_by_id(r, c->citations[j]);
                    if (h) orx_buf_printf(out, "     Evidence [%s]: %s - %s (%s)\n", c->citations[j], orx_rx_evidence_name(h), h->section_name, h->citation);
                }
            }
            if (r->n_alternatives) {
                orx_buf_puts(out, "  Alternatives:");
                for (int i = 0; i < r->n_alternatives; i++) orx_buf_printf(out, "%s %s", i ? "," : "", r->alternatives[i]);
                orx_buf_puts(out, "\n");
            }
            if (r->confidence[0]) orx_buf_printf(out, "  Model confidence: %s\n", r->confidence);
            if (r->rationale[0]) orx_buf_printf(out, "  Rationale: %s\n", r->rationale);
        }
        render_findings_text("Safety findings on the draft", &r->findings, out);
    }
    render_findings_text("Safety findings on current medicines", &r->current_findings, out);
    orx_buf_printf(out, "\nEvidence retrieved (%zu label sections):\n", r->evidence.n);
    for (size_t i = 0; i < r->evidence.n; i++) {
        const orx_kb_hit *h = &r->evidence.hits[i];
        char when[16];
        evidence_date(h, when, sizeof when);
        orx_buf_printf(out, "  [S%zu] %s - %s (%s; label version %s, effective %s)\n", i + 1, orx_rx_evidence_name(h),
                       h->section_name, h->citation, h->version[0] ? h->version : "?", when);
        if (h->snippet) orx_buf_printf(out, "       %s\n", h->snippet);
    }
    orx_buf_printf(out, "\nTimings: retrieval %.1f ms, checks %.1f ms, model %.2f s, total %.2f s\n",
                   r->timing.retrieval_s * 1e3, r->timing.check_s * 1e3, r->timing.generate_s, r->timing.total_s);
    orx_buf_printf(out, "=== %s ===\n", ORX_DRAFT_NOTICE);
    return ORX_OK;
}

/* ============================================================================================
 * JSON
 * ========================================================================================== */
static json_t *findings_json(const orx_findings *fs) {
    orx_buf b;
    orx_buf_init(&b);
    orx_error e = ORX_ERROR_INIT;
    orx_findings_to_json(fs, &b, &e);
    json_error_t je;
    json_t *v = b.data ? json_loadb(b.data, b.len, 0, &je) : NULL;
    orx_buf_free(&b);
    return v ? v : json_array();
}

static json_t *result_json(const orx_rx_result *r, const orx_patient *pt) {
    json_t *o = json_object();
    json_object_set_new(o, "notice", json_string(ORX_DRAFT_NOTICE));
    json_object_set_new(o, "mode", json_string(r->evidence_mode ? "evidence" : r->rag ? "model+rag" : "model"));
    json_object_set_new(o, "patient", json_string(pt->id[0] ? pt->id : pt->source));
    json_object_set_new(o, "indication", json_string(r->indication));
    json_object_set_new(o, "model", r->evidence_mode ? json_null() : json_string(r->model));
    if (!r->evidence_mode) {
        json_object_set_new(o, "schema_valid", json_boolean(r->schema_valid));
        if (!r->schema_valid) json_object_set_new(o, "schema_error", json_string(r->schema_error));
        json_object_set_new(o, "insufficient_evidence", json_boolean(r->insufficient));
        json_t *cands = json_array();
        for (int i = 0; i < r->n_cands; i++) {
            const orx_rx_candidate *c = &r->cands[i];
            json_t *k = json_object(), *cites = json_array();
            json_object_set_new(k, "ingredient", json_string(c->ingredient));
            json_object_set_new(k, "rxcui", c->rxcui[0] ? json_string(c->rxcui) : json_null());
            json_object_set_new(k, "dose_amount", json_real(c->dose_amount));
            json_object_set_new(k, "dose_unit", json_string(c->dose_unit));
            json_object_set_new(k, "route", json_string(c->route));
            json_object_set_new(k, "frequency", json_string(c->frequency));
            json_object_set_new(k, "duration", json_string(c->duration));
            json_object_set_new(k, "adjustments", json_string(c->adjustments));
            json_object_set_new(k, "monitoring", json_string(c->monitoring));
            for (int j = 0; j < c->n_citations; j++) {
                const orx_kb_hit *h = evidence_by_id(r, c->citations[j]);
                json_t *ci = json_object();
                json_object_set_new(ci, "id", json_string(c->citations[j]));
                json_object_set_new(ci, "citation", h ? json_string(h->citation) : json_null());
                json_array_append_new(cites, ci);
            }
            json_object_set_new(k, "citations", cites);
            json_array_append_new(cands, k);
        }
        json_object_set_new(o, "candidates", cands);
        json_t *alts = json_array();
        for (int i = 0; i < r->n_alternatives; i++) json_array_append_new(alts, json_string(r->alternatives[i]));
        json_object_set_new(o, "alternatives", alts);
        json_object_set_new(o, "confidence", json_string(r->confidence));
        json_object_set_new(o, "rationale", json_string(r->rationale));
        json_object_set_new(o, "findings", findings_json(&r->findings));
        json_object_set_new(o, "raw_output", r->raw_output ? json_string(r->raw_output) : json_null());
        json_object_set_new(o, "asks", json_integer(r->asks));
    }
    json_object_set_new(o, "current_findings", findings_json(&r->current_findings));
    json_t *ev = json_array();
    for (size_t i = 0; i < r->evidence.n; i++) {
        const orx_kb_hit *h = &r->evidence.hits[i];
        json_t *e = json_object();
        char id[16];
        snprintf(id, sizeof id, "S%zu", (i + 1) % 1000);
        json_object_set_new(e, "id", json_string(id));
        json_object_set_new(e, "citation", json_string(h->citation));
        json_object_set_new(e, "title", json_string(orx_rx_evidence_name(h)));
        json_object_set_new(e, "section", json_string(h->section_name));
        json_object_set_new(e, "version", json_string(h->version));
        char when[16];
        evidence_date(h, when, sizeof when);
        json_object_set_new(e, "effective_date", h->effective_date[0] ? json_string(when) : json_null());
        json_object_set_new(e, "copies", json_integer(h->copies));
        json_object_set_new(e, "text", json_string(h->text ? h->text : ""));
        json_array_append_new(ev, e);
    }
    json_object_set_new(o, "evidence", ev);
    json_t *tm = json_object();
    json_object_set_new(tm, "retrieval_s", json_real(r->timing.retrieval_s));
    json_object_set_new(tm, "first_token_s", json_real(r->timing.first_token_s));
    json_object_set_new(tm, "generate_s", json_real(r->timing.generate_s));
    json_object_set_new(tm, "check_s", json_real(r->timing.check_s));
    json_object_set_new(tm, "total_s", json_real(r->timing.total_s));
    json_object_set_new(tm, "prompt_tokens", json_integer(r->prompt_tokens));
    json_object_set_new(tm, "cached_prompt_tokens", json_integer(r->cached_tokens));
    json_object_set_new(tm, "completion_tokens", json_integer(r->completion_tokens));
    json_object_set_new(o, "timing", tm);
    json_object_set_new(o, "input_sha256", json_string(r->input_hash));
    return o;
}

static orx_status dump(json_t *o, orx_buf *out, orx_error *err) {
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "cannot serialise the result");
    orx_buf_puts(out, s);
    orx_buf_puts(out, "\n");
    free(s);
    return ORX_OK;
}

orx_status orx_rx_render_json(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err) {
    return dump(result_json(r, pt), out, err);
}

/* ============================================================================================
 * FHIR R4
 * ========================================================================================== */
static const char *issue_severity(orx_severity s) {
    return s >= ORX_SEV_MAJOR ? "high" : s == ORX_SEV_MODERATE ? "moderate" : "low";
}

static json_t *detected_issue(const orx_finding *f, const char *patient_ref, int idx, json_t *implicated) {
    json_t *di = json_object(), *code = json_object();
    char id[32];
    snprintf(id, sizeof id, "openrx-issue-%d", idx);
    json_object_set_new(di, "resourceType", json_string("DetectedIssue"));
    json_object_set_new(di, "id", json_string(id));
    json_object_set_new(di, "status", json_string("preliminary"));
    json_object_set_new(code, "text", json_string(f->kind));
    json_object_set_new(di, "code", code);
    json_object_set_new(di, "severity", json_string(issue_severity(f->severity)));
    json_t *pat = json_object();
    json_object_set_new(pat, "reference", json_string(patient_ref));
    json_object_set_new(di, "patient", pat);
    char detail[1400];
    snprintf(detail, sizeof detail, "[%s] %s%s%s", orx_severity_name(f->severity), f->message,
             f->trigger[0] ? " Trigger: " : "", f->trigger);
    json_object_set_new(di, "detail", json_string(detail));
    if (implicated) json_object_set_new(di, "implicated", implicated);
    if (f->citation[0] || f->source[0]) {
        char ref[420];
        snprintf(ref, sizeof ref, "%s%s%s", f->source, f->source[0] && f->citation[0] ? ": " : "", f->citation);
        json_object_set_new(di, "reference", json_string(ref));
    }
    if (f->management[0]) {
        json_t *mits = json_array(), *m = json_object(), *a = json_object();
        json_object_set_new(a, "text", json_string(f->management));
        json_object_set_new(m, "action", a);
        json_array_append_new(mits, m);
        json_object_set_new(di, "mitigation", mits);
    }
    return di;
}

static void add_entry(json_t *entries, json_t *res) {
    json_t *e = json_object();
    char url[96];
    snprintf(url, sizeof url, "urn:openrx:%s/%s", json_string_value(json_object_get(res, "resourceType")),
             json_string_value(json_object_get(res, "id")));
    json_object_set_new(e, "fullUrl", json_string(url));
    json_object_set_new(e, "resource", res);
    json_array_append_new(entries, e);
}

orx_status orx_rx_render_fhir(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err) {
    json_t *bundle = json_object(), *entries = json_array();
    json_object_set_new(bundle, "resourceType", json_string("Bundle"));
    json_object_set_new(bundle, "type", json_string("collection"));
    char patient_ref[128];
    snprintf(patient_ref, sizeof patient_ref, "Patient/%.100s", pt->id[0] ? pt->id : "unknown");
    for (int i = 0; i < r->n_cands && r->schema_valid; i++) {
        const orx_rx_candidate *c = &r->cands[i];
        json_t *mr = json_object(), *med = json_object(), *dose = json_object(), *subj = json_object();
        char id[32];
        snprintf(id, sizeof id, "openrx-draft-%d", i + 1);
        json_object_set_new(mr, "resourceType", json_string("MedicationRequest"));
        json_object_set_new(mr, "id", json_string(id));
        json_object_set_new(mr, "status", json_string("draft"));
        json_object_set_new(mr, "intent", json_string("proposal"));
        json_object_set_new(med, "text", json_string(c->ingredient));
        if (c->rxcui[0]) {
            json_t *coding = json_array(), *cd = json_object();
            json_object_set_new(cd, "system", json_string("http://www.nlm.nih.gov/research/umls/rxnorm"));
            json_object_set_new(cd, "code", json_string(c->rxcui));
            json_object_set_new(cd, "display", json_string(c->ingredient));
            json_array_append_new(coding, cd);
            json_object_set_new(med, "coding", coding);
        }
        json_object_set_new(mr, "medicationCodeableConcept", med);
        json_object_set_new(subj, "reference", json_string(patient_ref));
        json_object_set_new(mr, "subject", subj);
        char text[400];
        snprintf(text, sizeof text, "%g %s %s %s%s%s", c->dose_amount, c->dose_unit, c->route, c->frequency,
                 c->duration[0] ? ", " : "", c->duration);
        json_object_set_new(dose, "text", json_string(text));
        json_t *route = json_object();
        json_object_set_new(route, "text", json_string(c->route));
        json_object_set_new(dose, "route", route);
        json_t *dar = json_array(), *d = json_object(), *q = json_object();
        json_object_set_new(q, "value", json_real(c->dose_amount));
        json_object_set_new(q, "unit", json_string(c->dose_unit));
        json_object_set_new(d, "doseQuantity", q);
        json_array_append_new(dar, d);
        json_object_set_new(dose, "doseAndRate", dar);
        json_t *dosage = json_array();
        json_array_append_new(dosage, dose);
        json_object_set_new(mr, "dosageInstruction", dosage);
        json_t *note = json_array(), *n = json_object();
        json_object_set_new(n, "text", json_string(ORX_DRAFT_NOTICE));
        json_array_append_new(note, n);
        json_object_set_new(mr, "note", note);
        add_entry(entries, mr);
    }
    int idx = 0;
    for (size_t i = 0; i < r->findings.n; i++) {
        json_t *impl = json_array(), *ref = json_object();
        json_object_set_new(ref, "reference", json_string("MedicationRequest/openrx-draft-1"));
        json_array_append_new(impl, ref);
        add_entry(entries, detected_issue(&r->findings.items[i], patient_ref, ++idx, r->n_cands ? impl : (json_decref(impl), NULL)));
    }
    for (size_t i = 0; i < r->current_findings.n; i++)
        add_entry(entries, detected_issue(&r->current_findings.items[i], patient_ref, ++idx, NULL));
    json_object_set_new(bundle, "entry", entries);
    return dump(bundle, out, err);
}
