/* render_fhir.c — the recommendation as a FHIR R4 Bundle (type collection) that validates against
 * the FHIR R4 JSON schema:
 *   MedicationRequest  status draft, intent proposal (the model's candidates) or option (the
 *                      label-indicated options), supportingInformation -> the label sections
 *   MedicationStatement the patient's current medicines that a finding implicates
 *   DetectedIssue      one per finding: implicated -> the MedicationRequest / MedicationStatement
 *                      of this Bundle, evidence.detail -> the DocumentReference of its source,
 *                      reference = the DailyMed page of the label (a URI), detail = human text
 *   DocumentReference  one per cited source (label section: the SPL set id as urn:uuid, the
 *                      LOINC section code, the quoted sentence as text/plain data)
 *   Device + Provenance openrx (version), the model (when one ran) and the knowledge sources
 * Every entry has a urn:uuid fullUrl derived from the request's input hash (same request, same
 * ids); references inside the Bundle use those urn:uuid values. */
#define _GNU_SOURCE 1 /* strcasestr */
#include "rx/rx.h"
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RXNORM_SYSTEM "http://www.nlm.nih.gov/research/umls/rxnorm"
#define LOINC_SYSTEM "http://loinc.org"
#define DAILYMED_SETID "https://dailymed.nlm.nih.gov/dailymed/lookup.cfm?setid="

/* ============================================================================================
 * Bundle state
 * ========================================================================================== */
typedef struct fhir_ctx {
    const orx_rx_result *r;     /* the result rendered */
    const orx_patient   *pt;    /* its patient */
    json_t *entries;            /* Bundle.entry array (owned by the bundle) */
    json_t *docs;               /* object: source key -> fullUrl of its DocumentReference */
    json_t *targets;            /* array of fullUrls the Provenance covers */
    json_t *sources;            /* array of DocumentReference fullUrls (Provenance entities) */
    char  (*med_url)[48];       /* per current medicine: fullUrl of its MedicationStatement, "" none */
    char  (*draft_url)[48];     /* per candidate: fullUrl of its MedicationRequest */
    char    patient_ref[160];   /* "Patient/<id>" (the patient's record) or a urn:uuid in the Bundle */
    char    seed[80];           /* input hash: makes the ids unique to this request */
} fhir_ctx;

/* urn:uuid from a hash of the request seed, a kind and a key (RFC 9562 version 8, custom). */
static void make_urn(const fhir_ctx *c, const char *kind, const char *key, char out[48]) {
    char buf[1600], hex[65];
    snprintf(buf, sizeof buf, "%s|%s|%s", c->seed, kind, key);
    orx_sha256_hex(buf, strlen(buf), hex);
    snprintf(out, 48, "urn:uuid:%.8s-%.4s-8%.3s-a%.3s-%.12s", hex, hex + 8, hex + 13, hex + 17, hex + 20);
}

/* Set a string member only when it has text (FHIR strings are never empty). */
static void set_str(json_t *o, const char *key, const char *v) {
    if (v && *v) json_object_set_new(o, key, json_string(v));
}

static json_t *ref_to(const char *url) {
    json_t *o = json_object();
    json_object_set_new(o, "reference", json_string(url));
    return o;
}

static json_t *text_concept(const char *text) {
    json_t *o = json_object();
    set_str(o, "text", text);
    return o;
}

static json_t *note_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *note_text(const char *fmt, ...) {
    char buf[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_t *n = json_object();
    json_object_set_new(n, "text", json_string(buf));
    return n;
}

/* Append an entry with its fullUrl; the resource id is the uuid part. */
static void add_entry(fhir_ctx *c, const char *url, json_t *res, bool provenance_target) {
    json_t *e = json_object(), *o = json_object();
    const char *k;
    json_t *v;
    json_object_set(o, "resourceType", json_object_get(res, "resourceType"));
    json_object_set_new(o, "id", json_string(url + strlen("urn:uuid:")));
    json_object_foreach(res, k, v) if (strcmp(k, "resourceType")) json_object_set(o, k, v);
    json_decref(res);
    json_object_set_new(e, "fullUrl", json_string(url));
    json_object_set_new(e, "resource", o);
    json_array_append_new(c->entries, e);
    if (provenance_target) json_array_append_new(c->targets, json_string(url));
}

static json_t *medication_concept(const char *text, const char *rxcui) {
    json_t *med = text_concept(text);
    if (rxcui && *rxcui) {
        json_t *coding = json_array(), *cd = json_object();
        json_object_set_new(cd, "system", json_string(RXNORM_SYSTEM));
        json_object_set_new(cd, "code", json_string(rxcui));
        set_str(cd, "display", text);
        json_array_append_new(coding, cd);
        json_object_set_new(med, "coding", coding);
    }
    return med;
}

static void base64(const unsigned char *s, size_t n, orx_buf *out) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        char q[5] = {tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=', i + 2 < n ? tbl[v & 63] : '=', 0};
        orx_buf_puts(out, q);
    }
}

/* ============================================================================================
 * Sources: DocumentReference per cited label section or rule table
 * ========================================================================================== */
typedef struct doc_source {
    const char *key;        /* dedup key (citation text) */
    const char *title;      /* section heading or source name, may be "" */
    const char *description;/* human text: source and citation */
    const char *quote;      /* quoted text carried as text/plain data, may be "" */
    const char *date;       /* label effective date YYYYMMDD, may be "" */
    const char *url;        /* the source's web address when it has one (no label set id), or NULL */
} doc_source;

/* SPL set id (a UUID) in a citation: "<uuid>#<code>" or "... SPL set id <uuid>, ..." */
static bool find_set_id(const char *cit, char out[37]) {
    const char *p = strstr(cit, "SPL set id ");
    p = p ? p + strlen("SPL set id ") : cit;
    size_t n = 0;
    while (n < 36 && (isxdigit((unsigned char)p[n]) || p[n] == '-')) n++;
    if (n != 36 || p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-') return false;
    memcpy(out, p, 36);
    out[36] = 0;
    for (int i = 0; i < 36; i++) out[i] = (char)tolower((unsigned char)out[i]);
    return true;
}

/* LOINC section code in a citation: "<uuid>#34068-7" or "(LOINC 34068-7)" */
static bool find_loinc(const char *cit, char out[16]) {
    const char *p = strstr(cit, "(LOINC ");
    if (p) p += strlen("(LOINC ");
    else if ((p = strchr(cit, '#'))) p++;
    else return false;
    size_t n = 0;
    while (n < 15 && (isdigit((unsigned char)p[n]) || p[n] == '-')) n++;
    if (n < 3 || !strchr(p, '-')) return false;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

static json_t *doc_content(const doc_source *s, const char *set_id) {
    json_t *att = json_object(), *content = json_array(), *ct = json_object();
    if (s->quote && *s->quote) {
        orx_buf b;
        orx_buf_init(&b);
        base64((const unsigned char *)s->quote, strlen(s->quote), &b);
        json_object_set_new(att, "contentType", json_string("text/plain; charset=utf-8"));
        json_object_set_new(att, "data", json_string(b.data));
        orx_buf_clear(&b);
    }
    char url[160];
    if (set_id) snprintf(url, sizeof url, "%s%s", DAILYMED_SETID, set_id);
    else snprintf(url, sizeof url, "%s", s->url ? s->url : "");
    set_str(att, "url", url);
    set_str(att, "title", s->title && *s->title ? s->title : s->description);
    if (s->date && strlen(s->date) == 8) {
        char d[16];
        snprintf(d, sizeof d, "%.4s-%.2s-%.2s", s->date, s->date + 4, s->date + 6);
        json_object_set_new(att, "creation", json_string(d));
    }
    json_object_set_new(ct, "attachment", att);
    json_array_append_new(content, ct);
    return content;
}

/* fullUrl of the DocumentReference for a source, added on first use. */
static const char *doc_for(fhir_ctx *c, const doc_source *s) {
    json_t *have = json_object_get(c->docs, s->key);
    if (have) return json_string_value(have);
    char url[48], set_id[37], loinc[16];
    make_urn(c, "doc", s->key, url);
    json_t *d = json_object();
    json_object_set_new(d, "resourceType", json_string("DocumentReference"));
    bool label = find_set_id(s->key, set_id);
    if (label) {
        json_t *ids = json_array(), *id = json_object();
        json_object_set_new(id, "system", json_string("urn:ietf:rfc:3986"));
        char v[48];
        snprintf(v, sizeof v, "urn:uuid:%s", set_id);
        json_object_set_new(id, "value", json_string(v));
        json_array_append_new(ids, id);
        json_object_set_new(d, "identifier", ids);
    }
    json_object_set_new(d, "status", json_string("current"));
    if (label && find_loinc(s->key, loinc)) {
        json_t *type = json_object(), *coding = json_array(), *cd = json_object();
        json_object_set_new(cd, "system", json_string(LOINC_SYSTEM));
        json_object_set_new(cd, "code", json_string(loinc));
        json_array_append_new(coding, cd);
        json_object_set_new(type, "coding", coding);
        set_str(type, "text", s->title);
        json_object_set_new(d, "type", type);
    }
    set_str(d, "description", s->description);
    json_object_set_new(d, "content", doc_content(s, label ? set_id : NULL));
    add_entry(c, url, d, false);
    json_array_append_new(c->sources, json_string(url));
    json_object_set_new(c->docs, s->key, json_string(url));
    return json_string_value(json_object_get(c->docs, s->key));
}

/* The DocumentReference of an evidence hit ([Sn]). */
static const char *doc_for_hit(fhir_ctx *c, const orx_kb_hit *h) {
    char title[320], desc[640];
    snprintf(title, sizeof title, "%s", h->section_title[0] ? h->section_title : h->section_name);
    snprintf(desc, sizeof desc, "FDA drug label: %s (%s), SPL set id %s%s%s%s%s", orx_rx_evidence_name(h),
             h->section_name, h->set_id, h->version[0] ? ", version " : "", h->version,
             h->effective_date[0] ? ", effective " : "", h->effective_date);
    doc_source s = {h->citation, title, desc, h->text, h->effective_date, NULL};
    return doc_for(c, &s);
}

/* The DocumentReference of a label sentence cited as "<set id>#<code>". */
static const char *doc_for_quote(fhir_ctx *c, const char *citation, const char *what, const char *quote) {
    char desc[400];
    snprintf(desc, sizeof desc, "FDA drug label, %s: %s", what, citation);
    char key[300];
    snprintf(key, sizeof key, "%s|%s", citation, what);
    doc_source s = {key, what, desc, quote, "", NULL};
    return doc_for(c, &s);
}

/* ============================================================================================
 * Medicines: the patient's current ones (MedicationStatement) and the drafts (MedicationRequest)
 * ========================================================================================== */
static const char *med_statement(fhir_ctx *c, size_t i) {
    if (c->med_url[i][0]) return c->med_url[i];
    const orx_medication *m = &c->pt->meds[i];
    char key[32];
    snprintf(key, sizeof key, "%zu", i);
    make_urn(c, "med", key, c->med_url[i]);
    json_t *ms = json_object();
    json_object_set_new(ms, "resourceType", json_string("MedicationStatement"));
    json_object_set_new(ms, "status", json_string("active"));
    json_object_set_new(ms, "medicationCodeableConcept", medication_concept(m->text, m->rxnorm));
    json_object_set_new(ms, "subject", ref_to(c->patient_ref));
    if (m->dose_text[0]) {
        json_t *dosage = json_array(), *d = json_object();
        json_object_set_new(d, "text", json_string(m->dose_text));
        json_array_append_new(dosage, d);
        json_object_set_new(ms, "dosage", dosage);
    }
    json_t *note = json_array();
    json_array_append_new(note, note_text("Current medicine from the patient record given to openrx (%s).",
                                          m->source[0] ? m->source : "record"));
    json_object_set_new(ms, "note", note);
    add_entry(c, c->med_url[i], ms, true);
    return c->med_url[i];
}

/* A drug named in a finding: its trigger ("active medicine: <text>") or one of its drugs
 * ("a + b") within the text. */
static bool finding_names(const orx_finding *f, const char *text) {
    const char *t = strchr(f->trigger, ':');
    if (t && t[1] == ' ' && !strcmp(t + 2, text)) return true;
    char drugs[sizeof f->drugs];
    snprintf(drugs, sizeof drugs, "%s", f->drugs);
    for (char *save = NULL, *part = strtok_r(drugs, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
        part = orx_str_trim(part);
        if (strlen(part) >= 4 && strcasestr(text, part)) return true;
    }
    return false;
}

/* implicated: the draft (or option) concerned plus the current medicines the finding names. */
static json_t *implicated_for(fhir_ctx *c, const orx_finding *f, const char *own_url) {
    json_t *impl = json_array();
    if (own_url) json_array_append_new(impl, ref_to(own_url));
    for (size_t i = 0; i < c->pt->n_meds; i++)
        if (finding_names(f, c->pt->meds[i].text)) json_array_append_new(impl, ref_to(med_statement(c, i)));
    if (!json_array_size(impl)) { json_decref(impl); return NULL; }
    return impl;
}

/* ============================================================================================
 * DetectedIssue
 * ========================================================================================== */
static const char *issue_severity(orx_severity s) {
    return s >= ORX_SEV_MAJOR ? "high" : s == ORX_SEV_MODERATE ? "moderate" : "low";
}

/* The source's web address: a citation that is an http(s) URL (up to a space or ';'). */
static void citation_url(const char *cit, char *out, size_t cap) {
    out[0] = 0;
    if (!orx_str_starts_with(cit, "http://") && !orx_str_starts_with(cit, "https://")) return;
    size_t n = strcspn(cit, " \t;,");
    if (n < cap) { memcpy(out, cit, n); out[n] = 0; }
}

/* evidence: the DocumentReference of the finding's source (label section, list row, rule table) */
static json_t *finding_evidence(fhir_ctx *c, const orx_finding *f, char dailymed[160]) {
    char key[1700], desc[420], url[256], set_id[37];
    snprintf(key, sizeof key, "%s|%s|%s", f->citation, f->source, f->quote);
    snprintf(desc, sizeof desc, "%s%s%s", f->source, f->source[0] && f->citation[0] ? ": " : "", f->citation);
    citation_url(f->citation, url, sizeof url);
    dailymed[0] = 0;
    if (find_set_id(f->citation, set_id)) snprintf(dailymed, 160, "%s%s", DAILYMED_SETID, set_id);
    else if (url[0]) snprintf(dailymed, 160, "%s", url);
    if (!desc[0]) return NULL;
    doc_source s = {key, f->source, desc, f->quote, "", url[0] ? url : NULL};
    json_t *ev = json_array(), *e = json_object(), *detail = json_array();
    json_array_append_new(detail, ref_to(doc_for(c, &s)));
    json_object_set_new(e, "detail", detail);
    json_array_append_new(ev, e);
    return ev;
}

static void detected_issue(fhir_ctx *c, const orx_finding *f, const char *own_url, const char *key) {
    json_t *di = json_object();
    json_object_set_new(di, "resourceType", json_string("DetectedIssue"));
    json_object_set_new(di, "status", json_string("preliminary"));
    json_object_set_new(di, "code", text_concept(f->kind));
    json_object_set_new(di, "severity", json_string(issue_severity(f->severity)));
    json_object_set_new(di, "patient", ref_to(c->patient_ref));
    json_t *impl = implicated_for(c, f, own_url);
    if (impl) json_object_set_new(di, "implicated", impl);
    char dailymed[160];
    json_t *ev = finding_evidence(c, f, dailymed);
    if (ev) json_object_set_new(di, "evidence", ev);
    orx_buf d;
    orx_buf_init(&d);
    orx_buf_printf(&d, "[%s] %s", orx_severity_name(f->severity), f->message);
    if (f->trigger[0]) orx_buf_printf(&d, " Trigger: %s.", f->trigger);
    if (f->source[0] || f->citation[0])
        orx_buf_printf(&d, " Source: %s%s%s.", f->source, f->source[0] && f->citation[0] ? ": " : "", f->citation);
    if (f->also[0]) orx_buf_printf(&d, " Also: %s.", f->also);
    json_object_set_new(di, "detail", json_string(d.data));
    orx_buf_clear(&d);
    set_str(di, "reference", dailymed);
    if (f->management[0]) {
        json_t *mits = json_array(), *m = json_object();
        json_object_set_new(m, "action", text_concept(f->management));
        json_array_append_new(mits, m);
        json_object_set_new(di, "mitigation", mits);
    }
    char url[48];
    make_urn(c, "issue", key, url);
    add_entry(c, url, di, true);
}

/* ============================================================================================
 * MedicationRequests: the model's candidates (proposal) and the label-indicated options (option)
 * ========================================================================================== */
static json_t *candidate_dosage(const orx_rx_candidate *k) {
    json_t *dose = json_object();
    char text[400];
    snprintf(text, sizeof text, "%g %s %s %s%s%s", k->dose_amount, k->dose_unit, k->route, k->frequency,
             k->duration[0] ? ", " : "", k->duration);
    json_object_set_new(dose, "text", json_string(text));
    if (k->route[0]) json_object_set_new(dose, "route", text_concept(k->route));
    json_t *dar = json_array(), *d = json_object(), *q = json_object();
    json_object_set_new(q, "value", json_real(k->dose_amount));
    set_str(q, "unit", k->dose_unit);
    json_object_set_new(d, "doseQuantity", q);
    json_array_append_new(dar, d);
    json_object_set_new(dose, "doseAndRate", dar);
    json_t *dosage = json_array();
    json_array_append_new(dosage, dose);
    return dosage;
}

static void candidate_request(fhir_ctx *c, int i) {
    const orx_rx_candidate *k = &c->r->cands[i];
    char key[16];
    snprintf(key, sizeof key, "%d", i);
    make_urn(c, "draft", key, c->draft_url[i]);
    json_t *mr = json_object();
    json_object_set_new(mr, "resourceType", json_string("MedicationRequest"));
    json_object_set_new(mr, "status", json_string("draft"));
    json_object_set_new(mr, "intent", json_string("proposal"));
    json_object_set_new(mr, "medicationCodeableConcept", medication_concept(k->ingredient, k->rxcui));
    json_object_set_new(mr, "subject", ref_to(c->patient_ref));
    json_t *reason = json_array();
    json_array_append_new(reason, text_concept(c->r->indication));
    json_object_set_new(mr, "reasonCode", reason);
    json_t *support = json_array();
    for (int j = 0; j < k->n_citations; j++) {
        int n = k->citations[j][0] == 'S' ? atoi(k->citations[j] + 1) : 0;
        if (n >= 1 && (size_t)n <= c->r->evidence.n) json_array_append_new(support, ref_to(doc_for_hit(c, &c->r->evidence.hits[n - 1])));
    }
    if (json_array_size(support)) json_object_set_new(mr, "supportingInformation", support);
    else json_decref(support);
    json_t *note = json_array();
    json_array_append_new(note, note_text("%s", ORX_DRAFT_NOTICE));
    if (k->adjustments[0]) json_array_append_new(note, note_text("Adjustments: %s", k->adjustments));
    if (k->monitoring[0]) json_array_append_new(note, note_text("Monitoring: %s", k->monitoring));
    json_object_set_new(mr, "note", note);
    json_object_set_new(mr, "dosageInstruction", candidate_dosage(k));
    add_entry(c, c->draft_url[i], mr, true);
}

/* The option offered as a choice: the label's indication sentence and its dose for this
 * patient's band as supportingInformation (DocumentReferences) and notes. */
static void option_request(fhir_ctx *c, const orx_rx_option *x, const char *url) {
    json_t *mr = json_object();
    json_object_set_new(mr, "resourceType", json_string("MedicationRequest"));
    json_object_set_new(mr, "status", json_string("draft"));
    json_object_set_new(mr, "intent", json_string("option"));
    json_object_set_new(mr, "medicationCodeableConcept", medication_concept(x->ind.name, x->ind.n_ingr == 1 ? x->rxcui : NULL));
    json_object_set_new(mr, "subject", ref_to(c->patient_ref));
    json_t *reason = json_array();
    json_array_append_new(reason, text_concept(c->r->indication));
    json_object_set_new(mr, "reasonCode", reason);
    json_t *support = json_array(), *note = json_array();
    json_array_append_new(note, note_text("%s", ORX_DRAFT_NOTICE));
    const char *q = x->ind.quote.text ? x->ind.quote.text : "";
    if (x->ind.quote.citation[0]) {
        json_array_append_new(support, ref_to(doc_for_quote(c, x->ind.quote.citation, "indication sentence", q)));
        json_array_append_new(note, note_text("Label indication (%s): \"%s\"", x->ind.quote.citation, q));
    }
    if (x->dose[0]) {
        json_array_append_new(support, ref_to(doc_for_quote(c, x->dose_citation, "dose for this patient's band", x->dose)));
        json_array_append_new(note, note_text("Label dose for this patient's band (%s): \"%s\"", x->dose_citation, x->dose));
    }
    if (json_array_size(support)) json_object_set_new(mr, "supportingInformation", support);
    else json_decref(support);
    json_object_set_new(mr, "note", note);
    add_entry(c, url, mr, true);
}

/* Options offered as the choice become MedicationRequests (intent option); their findings of
 * moderate tier and above DetectedIssues implicating them; contraindicated options only as
 * DetectedIssues. */
static void options_fhir(fhir_ctx *c) {
    const orx_rx_options *o = &c->r->options;
    for (size_t i = 0; o->ran && i < o->n; i++) {
        const orx_rx_option *x = &o->v[i];
        if (!x->in_choice && !x->excluded) continue;
        char url[48], key[64];
        snprintf(key, sizeof key, "%zu", i);
        make_urn(c, "option", key, url);
        if (x->in_choice) option_request(c, x, url);
        for (size_t f = 0; f < x->findings.n; f++) {
            if (x->findings.items[f].severity < ORX_SEV_MODERATE) continue;
            snprintf(key, sizeof key, "option %zu finding %zu", i, f);
            detected_issue(c, &x->findings.items[f], x->in_choice ? url : NULL, key);
        }
    }
}

/* The candidate a finding on the proposed drugs is about: the one its drugs or trigger name. */
static const char *candidate_for(const fhir_ctx *c, const orx_finding *f) {
    for (int i = 0; i < c->r->n_cands && c->r->schema_valid; i++) {
        const char *ing = c->r->cands[i].ingredient;
        if (ing[0] && (strcasestr(f->drugs, ing) || strcasestr(f->trigger, ing))) return c->draft_url[i];
    }
    return c->r->n_cands && c->r->schema_valid ? c->draft_url[0] : NULL;
}

/* ============================================================================================
 * Provenance: openrx and the model as Devices, the sources as entities
 * ========================================================================================== */
static const char *device(fhir_ctx *c, const char *name, const char *name_type, const char *version,
                          const char *type, char url[48]) {
    make_urn(c, "device", name, url);
    json_t *d = json_object(), *names = json_array(), *n = json_object();
    json_object_set_new(d, "resourceType", json_string("Device"));
    json_object_set_new(n, "name", json_string(name));
    json_object_set_new(n, "type", json_string(name_type));
    json_array_append_new(names, n);
    json_object_set_new(d, "deviceName", names);
    json_object_set_new(d, "type", text_concept(type));
    if (version && *version) {
        json_t *vs = json_array(), *v = json_object();
        json_object_set_new(v, "value", json_string(version));
        json_array_append_new(vs, v);
        json_object_set_new(d, "version", vs);
    }
    add_entry(c, url, d, false);
    return url;
}

static json_t *agent(const char *code, const char *who) {
    json_t *a = json_object(), *type = json_object(), *coding = json_array(), *cd = json_object();
    json_object_set_new(cd, "system", json_string("http://terminology.hl7.org/CodeSystem/provenance-participant-type"));
    json_object_set_new(cd, "code", json_string(code));
    json_array_append_new(coding, cd);
    json_object_set_new(type, "coding", coding);
    json_object_set_new(a, "type", type);
    json_object_set_new(a, "who", ref_to(who));
    return a;
}

static void provenance(fhir_ctx *c, const char *recorded) {
    char about[200];
    snprintf(about, sizeof about, "openrx medication-safety rules and lexicon (data/ of openrx %s)", orx_version());
    json_t *agents = json_array();
    char dev_url[2][48];
    json_array_append_new(agents, agent("assembler", device(c, "openrx", "user-friendly-name", orx_version(),
                                                           "software: medication-safety checker and recommendation drafting",
                                                           dev_url[0])));
    if (c->r->model[0])
        json_array_append_new(agents, agent("author", device(c, c->r->model, "model-name", NULL, "large language model", dev_url[1])));
    json_t *p = json_object(), *targets = json_array(), *entities = json_array();
    json_object_set_new(p, "resourceType", json_string("Provenance"));
    size_t i;
    json_t *v;
    json_array_foreach(c->targets, i, v) json_array_append_new(targets, ref_to(json_string_value(v)));
    json_object_set_new(p, "target", targets);
    json_object_set_new(p, "recorded", json_string(recorded));
    json_object_set_new(p, "agent", agents);
    json_array_foreach(c->sources, i, v) {
        json_t *e = json_object();
        json_object_set_new(e, "role", json_string("source"));
        json_object_set_new(e, "what", ref_to(json_string_value(v)));
        json_array_append_new(entities, e);
    }
    json_t *rules = json_object(), *what = json_object();
    json_object_set_new(rules, "role", json_string("source"));
    json_object_set_new(what, "display", json_string(about));
    json_object_set_new(rules, "what", what);
    json_array_append_new(entities, rules);
    json_object_set_new(p, "entity", entities);
    char url[48];
    make_urn(c, "provenance", "", url);
    add_entry(c, url, p, false);
}

/* ============================================================================================
 * The Bundle
 * ========================================================================================== */
static void patient_reference(fhir_ctx *c) {
    if (c->pt->id[0]) { snprintf(c->patient_ref, sizeof c->patient_ref, "Patient/%.140s", c->pt->id); return; }
    /* no id in the record: the Bundle carries a Patient to point at */
    char url[48];
    make_urn(c, "patient", "", url);
    json_t *p = json_object();
    json_object_set_new(p, "resourceType", json_string("Patient"));
    add_entry(c, url, p, false);
    snprintf(c->patient_ref, sizeof c->patient_ref, "%s", url);
}

static void bundle_findings(fhir_ctx *c) {
    char key[64];
    for (size_t i = 0; i < c->r->findings.n; i++) {
        snprintf(key, sizeof key, "proposed finding %zu", i);
        detected_issue(c, &c->r->findings.items[i], candidate_for(c, &c->r->findings.items[i]), key);
    }
    for (size_t i = 0; i < c->r->current_findings.n; i++) {
        snprintf(key, sizeof key, "current finding %zu", i);
        detected_issue(c, &c->r->current_findings.items[i], NULL, key);
    }
}

orx_status orx_rx_fhir_json(const orx_rx_result *r, const orx_patient *pt, json_t **out, orx_error *err) {
    *out = NULL;
    fhir_ctx c = {.r = r, .pt = pt, .entries = json_array(), .docs = json_object(), .targets = json_array(),
                  .sources = json_array()};
    char draft_url[ORX_RX_MAX_CANDIDATES][48];
    c.med_url = calloc(pt->n_meds + 1, sizeof *c.med_url);
    c.draft_url = draft_url;
    if (!c.med_url || !c.entries || !c.docs) {
        free(c.med_url);
        json_decref(c.entries), json_decref(c.docs), json_decref(c.targets), json_decref(c.sources);
        return orx_fail(err, ORX_ERR_NOMEM, "cannot build the FHIR Bundle: out of memory");
    }
    snprintf(c.seed, sizeof c.seed, "%s", r->input_hash[0] ? r->input_hash : r->indication);
    char recorded[32];
    orx_utc_now(recorded, sizeof recorded, "%Y-%m-%dT%H:%M:%SZ");
    json_t *bundle = json_object(), *ident = json_object();
    char bundle_url[48];
    make_urn(&c, "bundle", recorded, bundle_url);
    json_object_set_new(bundle, "resourceType", json_string("Bundle"));
    json_object_set_new(ident, "system", json_string("urn:ietf:rfc:3986"));
    json_object_set_new(ident, "value", json_string(bundle_url));
    json_object_set_new(bundle, "identifier", ident);
    json_object_set_new(bundle, "type", json_string("collection"));
    json_object_set_new(bundle, "timestamp", json_string(recorded));
    patient_reference(&c);
    for (int i = 0; i < r->n_cands && r->schema_valid; i++) candidate_request(&c, i);
    options_fhir(&c);
    bundle_findings(&c);
    provenance(&c, recorded);
    json_object_set_new(bundle, "entry", c.entries);
    json_decref(c.docs), json_decref(c.targets), json_decref(c.sources);
    free(c.med_url);
    *out = bundle;
    return ORX_OK;
}

orx_status orx_rx_render_fhir(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err) {
    json_t *bundle = NULL;
    orx_status st = orx_rx_fhir_json(r, pt, &bundle, err);
    if (st != ORX_OK) return st;
    if (orx_buf_put_json(out, bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) return ORX_OK;
    return orx_fail(err, ORX_ERR_NOMEM, "cannot serialise the FHIR Bundle");
}
