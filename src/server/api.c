/* api.c — /v1/check, /v1/recommend and the CDS Hooks service (see api.h). */
#include "server/api.h"
#include "server/fhir_fetch.h"
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static char *error_body(const char *msg) { return orx_server_error_json(msg, "invalid_request_error", NULL); }

static char *dumps(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

static void today(char out[16]) { orx_utc_now(out, 16, "%Y-%m-%d"); }

/* The request body as JSON; NULL with *out the error body (a 400) when it is not JSON. */
static json_t *request_json(const char *body, size_t len, char **out) {
    json_error_t je;
    json_t *req = json_loadb(body, len, 0, &je);
    if (!req) {
        char msg[1200];
        snprintf(msg, sizeof msg, "body:%d:%d: invalid JSON: %s", je.line, je.column, je.text);
        *out = error_body(msg);
    }
    return req;
}

/* Parse the "patient" member (FHIR Bundle or openrx form) of a request. */
static orx_status patient_from(json_t *req, orx_patient **pt, orx_error *err) {
    json_t *p = json_object_get(req, "patient");
    if (!json_is_object(p)) return orx_fail(err, ORX_ERR_INVALID, "request needs a \"patient\" object (FHIR Bundle or openrx form)");
    const char *as_of = json_string_value(json_object_get(req, "as_of"));
    return orx_patient_from_json(p, "request.patient", as_of, pt, err);
}


/* ============================================================================================
 * POST /v1/check  {"patient": {...}, "drugs": ["ibuprofen 400 mg orally every 6 hours", ...],
 *                  "indication": "atrial fibrillation"}   (indication optional: what the drugs are for)
 * ========================================================================================== */
int orx_api_check(orx_api *api, const char *body, size_t len, char **out) {
    json_t *req = request_json(body, len, out);
    if (!req) return 400;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    orx_status st = patient_from(req, &pt, &err);
    json_t *drugs = json_object_get(req, "drugs");
    if (st == ORX_OK && drugs && (!json_is_array(drugs) || json_array_size(drugs) > 32))
        st = orx_fail(&err, ORX_ERR_INVALID, "\"drugs\" must be an array of at most 32 strings");
    json_t *ind = json_object_get(req, "indication");
    if (st == ORX_OK && ind && !json_is_string(ind))
        st = orx_fail(&err, ORX_ERR_INVALID, "\"indication\" must be a string");
    orx_findings fs;
    orx_findings_init(&fs);
    orx_proposed_drug *pd = NULL;
    size_t n = drugs ? json_array_size(drugs) : 0;
    if (st == ORX_OK && n) {
        pd = calloc(n, sizeof *pd);
        for (size_t i = 0; st == ORX_OK && i < n; i++) {
            const char *t = json_string_value(json_array_get(drugs, i));
            if (!t) st = orx_fail(&err, ORX_ERR_INVALID, "drugs[%zu] must be a string", i);
            else st = orx_proposed_drug_init(api->checker, t, NULL, &pd[i], &err);
            if (st == ORX_OK && ind)
                snprintf(pd[i].indication, sizeof pd[i].indication, "%s", json_string_value(ind));
        }
        if (st == ORX_OK) st = orx_check_proposed(api->checker, pt, pd, n, &fs, &err);
    } else if (st == ORX_OK) {
        st = orx_check_current(api->checker, pt, &fs, &err);
    }
    int status = 200;
    if (st != ORX_OK) {
        status = orx_exit_code(st) == 2 ? 400 : 500;
        *out = error_body(err.msg);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "notice", json_string(ORX_DRAFT_NOTICE));
        json_object_set_new(o, "checked", json_string(n ? "proposed" : "current"));
        json_object_set_new(o, "findings", orx_findings_json(&fs, false));
        *out = dumps(o);
    }
    free(pd);
    orx_findings_clear(&fs);
    orx_patient_free(pt);
    json_decref(req);
    return status;
}

/* ============================================================================================
 * POST /v1/recommend  {"patient": {...}, "indication": "...", "rag": true, "k": 10, "seed": 0,
 *                     "open_choice": false, "problem": false, "max_options": 12, ...}
 * ========================================================================================== */
static int api_recommend(orx_api *api, const char *body, size_t len, char **out) {
    json_t *req = request_json(body, len, out);
    if (!req) return 400;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    orx_status st = patient_from(req, &pt, &err);
    orx_rx_params p = orx_rx_default_params();
    p.indication = json_string_value(json_object_get(req, "indication"));
    bool blank = true;
    for (const char *c = p.indication; c && *c && blank; c++) blank = isspace((unsigned char)*c);
    if (st == ORX_OK && (!p.indication || blank)) st = orx_fail(&err, ORX_ERR_INVALID, "request needs an \"indication\" string (not empty, not only spaces)");
    json_t *v;
    if ((v = json_object_get(req, "rag"))) p.rag = json_is_true(v);
    if ((v = json_object_get(req, "k")) && json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 50) p.k = (int)json_integer_value(v);
    if ((v = json_object_get(req, "seed")) && json_is_integer(v)) p.seed = (uint64_t)json_integer_value(v);
    if ((v = json_object_get(req, "max_tokens")) && json_is_integer(v) && json_integer_value(v) >= 16 && json_integer_value(v) <= 4096) p.max_tokens = (int)json_integer_value(v);
    if ((v = json_object_get(req, "temperature")) && json_is_number(v)) p.temperature = (float)json_number_value(v);
    /* the options: "open_choice" lets the model name a drug outside them (flagged), "problem"
     * reads the indication as one coded problem, "max_options" caps the choice */
    if ((v = json_object_get(req, "open_choice"))) p.open_choice = json_is_true(v);
    if ((v = json_object_get(req, "problem"))) p.problem = json_is_true(v);
    if ((v = json_object_get(req, "max_options")) && json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= ORX_RX_MAX_CHOICE) p.max_choice = (int)json_integer_value(v);
    p.audit_path = api->audit_path;
    p.audit_full = api->audit_full;
    orx_rx_result r;
    memset(&r, 0, sizeof r);
    int status = 200;
    /* "format": "json" (default) | "fhir" (the FHIR R4 Bundle alone); "include_fhir": true adds
     * the Bundle to the JSON result as "fhir" (the clinician page's "copy as FHIR"). */
    const char *format = json_string_value(json_object_get(req, "format"));
    if (st == ORX_OK && format && strcmp(format, "json") != 0 && strcmp(format, "fhir") != 0)
        st = orx_fail(&err, ORX_ERR_INVALID, "\"format\" must be \"json\" or \"fhir\", not \"%.40s\"", format);
    if (st == ORX_OK) {
        if (api->llm) orx_server_lock_model(api->srv);
        st = orx_recommend(api->llm, api->retriever, api->checker, pt, &p, &r, &err);
        if (api->llm) orx_server_unlock_model(api->srv);
    }
    if (st == ORX_OK) {
        orx_buf b;
        orx_buf_init(&b);
        bool fhir = format && !strcmp(format, "fhir");
        if (!fhir && json_is_true(json_object_get(req, "include_fhir"))) {
            /* the JSON result with the Bundle inside, built as documents and written once */
            json_t *o = orx_rx_result_json(&r, pt), *f = NULL;
            st = o ? orx_rx_fhir_json(&r, pt, &f, &err) : orx_fail(&err, ORX_ERR_NOMEM, "out of memory");
            if (st == ORX_OK) {
                json_object_set_new(o, "fhir", f);
                char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s) orx_buf_puts(&b, s);
                else st = orx_fail(&err, ORX_ERR_NOMEM, "cannot serialise the result");
                free(s);
            }
            json_decref(o);
        } else {
            st = fhir ? orx_rx_render_fhir(&r, pt, &b, &err) : orx_rx_render_json(&r, pt, &b, &err);
        }
        *out = orx_buf_steal(&b);
    }
    if (st != ORX_OK) {
        status = orx_exit_code(st) == 2 ? 400 : st == ORX_ERR_NETWORK ? 502 : 500;
        free(*out);
        *out = error_body(err.msg);
    }
    orx_rx_result_clear(&r);
    orx_patient_free(pt);
    json_decref(req);
    return status;
}

/* ============================================================================================
 * CDS Hooks
 * ========================================================================================== */
/* the prefetch templates are the queries the service runs itself when they are not prefetched */
static json_t *prefetch_templates(void) {
    json_t *p = json_object();
    for (size_t i = 0; i < orx_fhir_query_count(); i++)
        json_object_set_new(p, orx_fhir_query_at(i)->key, json_string(orx_fhir_query_at(i)->tmpl));
    return p;
}

char *orx_api_cds_discovery(void) {
    json_t *root = json_object(), *svcs = json_array();
    const char *hooks[2] = {"order-select", "order-sign"};
    for (int i = 0; i < 2; i++) {
        json_t *s = json_object();
        char id[64];
        snprintf(id, sizeof id, "openrx-%s", hooks[i]);
        json_object_set_new(s, "hook", json_string(hooks[i]));
        json_object_set_new(s, "id", json_string(id));
        json_object_set_new(s, "title", json_string(i ? "openrx medication safety check (order sign)" : "openrx medication safety check (order select)"));
        json_object_set_new(s, "description", json_string("Deterministic medication-safety checks of draft MedicationRequests against the "
                                                          "patient's medicines, allergies, renal/hepatic function, pregnancy and genotype, "
                                                          "with sourced findings. Drafts for clinician review."));
        json_object_set_new(s, "prefetch", prefetch_templates());
        json_array_append_new(svcs, s);
    }
    json_object_set_new(root, "services", svcs);
    return dumps(root);
}

/* Gather resources from a prefetch value / bundle / wrapper into out (borrowed refs increfed). */
static void gather(json_t *v, json_t *out, int depth) {
    if (!json_is_object(v) || depth > 4) return;
    const char *rt = json_string_value(json_object_get(v, "resourceType"));
    if (!rt) {
        json_t *r = json_object_get(v, "resource"); /* {"response":…, "resource":…} wrapper */
        if (r) gather(r, out, depth + 1);
        return;
    }
    if (!strcmp(rt, "Bundle")) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(v, "entry"), i, e) gather(json_object_get(e, "resource") ? json_object_get(e, "resource") : e, out, depth + 1);
        return;
    }
    json_array_append(out, v);
}

static const char *med_text(json_t *mr, const char **rxcui) {
    json_t *cc = json_object_get(mr, "medicationCodeableConcept");
    *rxcui = NULL;
    size_t i;
    json_t *c;
    const char *display = NULL;
    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *sys = json_string_value(json_object_get(c, "system"));
        if (sys && strstr(sys, "rxnorm")) *rxcui = json_string_value(json_object_get(c, "code"));
        if (!display) display = json_string_value(json_object_get(c, "display"));
    }
    const char *text = json_string_value(json_object_get(cc, "text"));
    return text ? text : display;
}

static bool selected(json_t *selections, json_t *mr) {
    if (!json_is_array(selections) || json_array_size(selections) == 0) return true;
    const char *id = json_string_value(json_object_get(mr, "id"));
    size_t i;
    json_t *s;
    json_array_foreach(selections, i, s) {
        const char *sel = json_string_value(s);
        const char *slash = sel ? strrchr(sel, '/') : NULL;
        if (id && sel && !strcmp(slash ? slash + 1 : sel, id)) return true;
    }
    return false;
}

/* The draft order a finding is about: the one its trigger ("proposed drug: <text>") or one of
 * its drugs ("a + b") names; NULL when none can be told. */
static json_t *draft_for(const orx_finding *f, const orx_proposed_drug *pd, json_t **draft_of, size_t np) {
    const char *t = strchr(f->trigger, ':');
    for (size_t i = 0; t && t[1] == ' ' && i < np; i++)
        if (!strcmp(t + 2, pd[i].text)) return draft_of[i];
    char drugs[sizeof f->drugs], text[sizeof pd->text];
    for (size_t i = 0; i < np; i++) {
        snprintf(drugs, sizeof drugs, "%s", f->drugs);
        snprintf(text, sizeof text, "%s", pd[i].text);
        orx_str_lower(drugs);
        orx_str_lower(text);
        for (char *save = NULL, *part = strtok_r(drugs, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
            part = orx_str_trim(part);
            if (strlen(part) >= 4 && strstr(text, part)) return draft_of[i];
        }
    }
    return NULL;
}

/* Read the missing queries from fhirServer into res. 0, or the HTTP status of the error in *out:
 * 400 bad fhirServer / patientId / token, 403 fhirServer not under --fhir-allow, 504 the deadline passed,
 * 502 any other failure. The token is sent in the Authorization header only, never put in a message. */
static int cds_fetch(orx_api *api, json_t *req, json_t *ctx, unsigned missing, json_t *res, char **out) {
    json_t *auth = json_object_get(req, "fhirAuthorization");
    const char *token = json_string_value(json_object_get(auth, "access_token"));
    const char *ttype = json_string_value(json_object_get(auth, "token_type"));
    if (json_is_object(auth) && (!token || (ttype && strcasecmp(ttype, "Bearer")))) {
        *out = error_body("fhirAuthorization: only a \"Bearer\" token_type with an \"access_token\" is supported");
        return 400;
    }
    const char *base = json_string_value(json_object_get(req, "fhirServer"));
    if (!orx_fhir_base_allowed(base, api->fhir_allow, api->n_fhir_allow)) {
        char msg[2400];
        snprintf(msg, sizeof msg, "fhirServer \"%.2048s\" is not one of the FHIR servers this service may read "
                 "(serve --fhir-allow); the request was not sent", base ? base : "");
        *out = orx_server_error_json(msg, "permission_error", "fhir_server_not_allowed");
        return 403;
    }
    const char *pid = json_string_value(json_object_get(ctx, "patientId"));
    orx_fhir_fetch_params fp = orx_fhir_fetch_default_params();
    if (api->fhir_timeout_s > 0) fp.deadline_s = api->fhir_timeout_s;
    orx_fhir_fetch_stats stats;
    orx_error err = ORX_ERROR_INIT;
    json_t *got = json_array();
    orx_status st = orx_fhir_fetch(&fp, base, token, pid, missing, got, &stats, &err);
    if (st == ORX_OK) {
        json_array_extend(res, got);
        json_decref(got);
        return 0;
    }
    json_decref(got);
    char msg[1200];
    snprintf(msg, sizeof msg, "could not read the patient's record from fhirServer: %s", err.msg);
    if (st == ORX_ERR_INVALID) { *out = error_body(msg); return 400; }
    *out = orx_server_error_json(msg, "server_error", stats.timed_out ? "fhir_server_timeout" : "fhir_server_error");
    return stats.timed_out ? 504 : 502;
}

int orx_api_cds(orx_api *api, const char *service, const char *body, size_t len, char **out) {
    json_t *req = request_json(body, len, out);
    if (!req) return 400;
    json_t *ctx = json_object_get(req, "context");
    if (!json_is_object(ctx)) { json_decref(req); *out = error_body("CDS Hooks request has no \"context\" object"); return 400; }
    const char *hook_instance = json_string_value(json_object_get(req, "hookInstance"));
    /* draft orders: context.draftOrders (order-select/sign) or context.medications (medication-prescribe) */
    json_t *drafts = json_array(), *res = json_array();
    gather(json_object_get(ctx, "draftOrders"), drafts, 0);
    gather(json_object_get(ctx, "medications"), drafts, 0);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(req, "prefetch"), key, v) gather(v, res, 0);
    /* early PDDI-CDS examples (medication-prescribe, STU3) nest prefetch inside the context */
    json_object_foreach(json_object_get(ctx, "prefetch"), key, v) gather(v, res, 0);
    json_object_foreach(ctx, key, v) if (orx_str_starts_with(key, "item")) gather(v, res, 0);
    /* What the prefetch left out is read from the EHR's FHIR server when the request names one
     * (fhirServer, fhirAuthorization bearer token; fhir_fetch.c). Without either the service
     * cannot see the record: an empty {"cards":[]} would read as "nothing to say", so 412. */
    const char *fhir_server = json_string_value(json_object_get(req, "fhirServer"));
    unsigned missing = orx_fhir_missing(json_object_get(req, "prefetch"), res);
    if (fhir_server && missing) {
        int fs = cds_fetch(api, req, ctx, missing, res, out);
        if (fs) { json_decref(drafts); json_decref(res); json_decref(req); return fs; }
    }
    if (json_array_size(res) == 0) {
        json_decref(drafts);
        json_decref(res);
        json_decref(req);
        *out = orx_server_error_json("CDS Hooks request has no prefetch data (Patient, MedicationRequests, Conditions, "
                                     "AllergyIntolerances, Observations) and no fhirServer to read them from, "
                                     "so send the prefetch templates listed by GET /cds-services or fhirServer",
                                     "invalid_request_error", "prefetch_missing");
        return 412;
    }
    /* the patient: resources of the prefetch (not the drafts), as one Bundle */
    json_t *bundle = json_object(), *entries = json_array();
    bool have_patient = false;
    size_t i;
    json_array_foreach(res, i, v) {
        const char *rt = json_string_value(json_object_get(v, "resourceType"));
        const char *id = json_string_value(json_object_get(v, "id"));
        bool is_draft = false;
        size_t j;
        json_t *d;
        json_array_foreach(drafts, j, d) {
            const char *did = json_string_value(json_object_get(d, "id"));
            if (id && did && !strcmp(id, did)) is_draft = true;
        }
        if (is_draft) continue;
        if (!strcmp(rt, "Patient")) { if (have_patient) continue; have_patient = true; }
        json_t *e = json_object();
        if ((!strcmp(rt, "MedicationDispense") || !strcmp(rt, "MedicationAdministration")) &&
            json_object_get(v, "medicationCodeableConcept")) {
            /* A dispensing or administration record (as in the PDDI-CDS scenarios) is evidence
             * that the patient is taking the drug: checked as an active MedicationStatement. */
            json_t *ms = json_object();
            json_object_set_new(ms, "resourceType", json_string("MedicationStatement"));
            json_object_set_new(ms, "status", json_string("active"));
            json_object_set(ms, "medicationCodeableConcept", json_object_get(v, "medicationCodeableConcept"));
            json_object_set_new(e, "resource", ms);
        } else {
            json_object_set(e, "resource", v);
        }
        json_array_append_new(entries, e);
    }
    if (!have_patient) {
        const char *pid = json_string_value(json_object_get(ctx, "patientId"));
        const char *slash = pid ? strrchr(pid, '/') : NULL;
        json_t *p = json_object(), *e = json_object();
        json_object_set_new(p, "resourceType", json_string("Patient"));
        json_object_set_new(p, "id", json_string(pid ? (slash ? slash + 1 : pid) : "unknown"));
        json_object_set_new(e, "resource", p);
        json_array_insert_new(entries, 0, e);
    }
    json_object_set_new(bundle, "resourceType", json_string("Bundle"));
    json_object_set_new(bundle, "type", json_string("collection"));
    json_object_set_new(bundle, "entry", entries);
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    char as_of[16];
    today(as_of);
    orx_status st = orx_patient_from_json(bundle, "cds-request.prefetch", as_of, &pt, &err);
    json_decref(bundle);
    /* proposed drugs: the selected draft MedicationRequests */
    size_t n = json_array_size(drafts), np = 0;
    orx_proposed_drug *pd = n ? calloc(n, sizeof *pd) : NULL;
    json_t **draft_of = n ? calloc(n, sizeof *draft_of) : NULL; /* the draft order of pd[i] (borrowed) */
    bool select_hook = service && strstr(service, "order-select");
    json_array_foreach(drafts, i, v) {
        if (st != ORX_OK) break;
        const char *rt = json_string_value(json_object_get(v, "resourceType"));
        if (!rt || strcmp(rt, "MedicationRequest")) continue;
        if (select_hook && !selected(json_object_get(ctx, "selections"), v)) continue;
        const char *rxcui;
        const char *text = med_text(v, &rxcui);
        if (!text && !rxcui) continue;
        draft_of[np] = v;
        st = orx_proposed_drug_init(api->checker, text ? text : rxcui, rxcui, &pd[np++], &err);
    }
    orx_findings fs;
    orx_findings_init(&fs);
    if (st == ORX_OK && np) st = orx_check_proposed(api->checker, pt, pd, np, &fs, &err);
    int status = 200;
    if (st != ORX_OK) {
        status = orx_exit_code(st) == 2 ? 400 : 500;
        *out = error_body(err.msg);
    } else {
        json_t *root = json_object(), *cards = json_array();
        for (size_t k = 0; k < fs.n; k++) {
            const orx_finding *f = &fs.items[k];
            /* informational notes other than interactions (e.g. "pregnancy status unknown") stay
             * out of the EHR's card list; /v1/check returns them all */
            if (f->severity == ORX_SEV_INFO && strcmp(f->kind, "interaction") != 0) continue;
            json_array_append_new(cards, orx_cds_card(f, hook_instance, (int)k, draft_for(f, pd, draft_of, np)));
        }
        json_object_set_new(root, "cards", cards);
        *out = dumps(root);
    }
    orx_findings_clear(&fs);
    free(pd);
    free(draft_of);
    orx_patient_free(pt);
    json_decref(drafts);
    json_decref(res);
    json_decref(req);
    return status;
}

/* ============================================================================================
 * Routes
 * ========================================================================================== */
static void route_check(void *u, const char *m, const char *path, const char *body, size_t len, orx_http_reply *r) {
    r->status = orx_api_check(u, body, len, &r->body);
}
static void route_recommend(void *u, const char *m, const char *path, const char *body, size_t len, orx_http_reply *r) {
    r->status = api_recommend(u, body, len, &r->body);
}
static void route_discovery(void *u, const char *m, const char *path, const char *body, size_t len, orx_http_reply *r) {
    r->status = 200;
    r->body = orx_api_cds_discovery();
}
static void route_cds(void *u, const char *m, const char *path, const char *body, size_t len, orx_http_reply *r) {
    r->status = orx_api_cds(u, path, body, len, &r->body);
}
/* One CDS Hooks feedback item checked: card, outcome accepted|overridden (accepted needs
 * acceptedSuggestions), outcomeTimestamp; an overrideReason's reason is a Coding with a code.
 * Returns NULL when valid, else what is wrong. */
static const char *feedback_item_error(json_t *it) {
    if (!json_is_object(it)) return "is not an object";
    if (!json_is_string(json_object_get(it, "card"))) return "has no \"card\" (the card's uuid)";
    const char *outcome = json_string_value(json_object_get(it, "outcome"));
    if (!outcome || (strcmp(outcome, "accepted") && strcmp(outcome, "overridden"))) return "needs \"outcome\" \"accepted\" or \"overridden\"";
    if (!strcmp(outcome, "accepted") && !json_is_array(json_object_get(it, "acceptedSuggestions"))) return "is accepted without \"acceptedSuggestions\"";
    if (!json_is_string(json_object_get(it, "outcomeTimestamp"))) return "has no \"outcomeTimestamp\"";
    json_t *or = json_object_get(it, "overrideReason");
    if (or && !json_is_object(or)) return "has an \"overrideReason\" that is not an object";
    json_t *reason = json_object_get(or, "reason");
    if (reason && !json_is_string(json_object_get(reason, "code"))) return "has an overrideReason.reason without a \"code\"";
    return NULL;
}

/* POST /cds-services/<id>/feedback: {"feedback": [...]} checked item by item, then one hash-chained
 * audit record per item (card, outcome, the override reason's Coding and the user's comment,
 * the accepted suggestions). */
static void route_feedback(void *u, const char *m, const char *path, const char *body, size_t len, orx_http_reply *r) {
    orx_api *api = u;
    json_error_t je;
    json_t *fb = json_loadb(body, len, 0, &je), *items = json_object_get(fb, "feedback");
    char msg[256];
    if (!fb) { r->status = 400; r->body = error_body("feedback body is not valid JSON"); return; }
    if (!json_is_array(items)) { json_decref(fb); r->status = 400; r->body = error_body("feedback body needs a \"feedback\" array"); return; }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *why = feedback_item_error(it);
        if (!why) continue;
        snprintf(msg, sizeof msg, "feedback[%zu] %s", i, why);
        json_decref(fb);
        r->status = 400;
        r->body = error_body(msg);
        return;
    }
    json_array_foreach(items, i, it) {
        if (!api->audit_path) break;
        json_t *rec = json_object(), *or = json_object_get(it, "overrideReason");
        json_object_set_new(rec, "type", json_string("cds-feedback"));
        json_object_set_new(rec, "service", json_string(path));
        json_object_set(rec, "card", json_object_get(it, "card"));
        json_object_set(rec, "outcome", json_object_get(it, "outcome"));
        json_object_set(rec, "outcomeTimestamp", json_object_get(it, "outcomeTimestamp"));
        if (json_object_get(or, "reason")) json_object_set(rec, "overrideReason", json_object_get(or, "reason"));
        if (json_object_get(or, "userComment")) json_object_set(rec, "userComment", json_object_get(or, "userComment"));
        if (json_object_get(it, "acceptedSuggestions")) json_object_set(rec, "acceptedSuggestions", json_object_get(it, "acceptedSuggestions"));
        char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(rec);
        if (line) orx_audit_append(api->audit_path, line, strlen(line), NULL); /* hash-chained */
        free(line);
    }
    json_decref(fb);
    r->status = 200;
    r->body = orx_strdup("{}");
}

orx_status orx_api_register(orx_api *api, orx_error *err) {
    if (!api->checker) return orx_fail(err, ORX_ERR_USAGE, "the API needs a safety checker");
    struct { const char *m, *p; orx_route_fn fn; } routes[] = {
        {"POST", "/v1/check", route_check},
        {"POST", "/v1/recommend", route_recommend},
        {"GET", "/cds-services", route_discovery},
        {"POST", "/cds-services/openrx-order-select", route_cds},
        {"POST", "/cds-services/openrx-order-sign", route_cds},
        {"POST", "/cds-services/openrx-order-select/feedback", route_feedback},
        {"POST", "/cds-services/openrx-order-sign/feedback", route_feedback},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (orx_server_route(api->srv, routes[i].m, routes[i].p, routes[i].fn, api) != ORX_OK)
            return orx_fail(err, ORX_ERR_RANGE, "too many routes");
    /* the order hooks may read the EHR's FHIR server: off the event-loop threads */
    if (orx_server_route_blocking(api->srv, "POST", "/cds-services/openrx-order-select") != ORX_OK ||
        orx_server_route_blocking(api->srv, "POST", "/cds-services/openrx-order-sign") != ORX_OK)
        return orx_fail(err, ORX_ERR_INTERNAL, "the CDS Hooks routes were not registered");
    return ORX_OK;
}
