/* render.c — the recommendation as text for people and as JSON (FHIR R4: render_fhir.c). Every
 * rendering carries the draft notice. */
#include "rx/rx.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
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

/* "major 1, info 2" or "none" */
static void tiers_text(const orx_findings *fs, char *buf, size_t cap) {
    size_t counts[ORX_SEV_COUNT];
    orx_findings_count(fs, counts);
    size_t l = 0;
    buf[0] = 0;
    for (int s = ORX_SEV_COUNT - 1; s >= 0; s--)
        if (counts[s] && l + 24 < cap)
            l += (size_t)snprintf(buf + l, cap - l, "%s%s %zu", l ? ", " : "", orx_severity_name((orx_severity)s), counts[s]);
    if (!l) snprintf(buf, cap, "none");
}

/* text quoted on one line, at most max bytes (cut at a word) */
static void quote_line(orx_buf *out, const char *t, size_t max) {
    size_t n = strlen(t ? t : "");
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > max / 2 && t[n] != ' ') n--;
    }
    orx_buf_puts(out, "\"");
    for (size_t i = 0; i < n; i++) orx_buf_append(out, t[i] == '\n' || t[i] == '\t' ? " " : t + i, 1);
    orx_buf_puts(out, cut ? " …\"" : "\"");
}

static void option_cite(orx_buf *out, int ev, const char *citation) {
    if (ev) orx_buf_printf(out, " [S%d]", ev);
    orx_buf_printf(out, " (%s)", citation);
}

static void render_options_text(const orx_rx_result *r, orx_buf *out) {
    const orx_rx_options *o = &r->options;
    if (!o->ran) return;
    orx_buf_printf(out, "\nOptions: %zu drug(s) whose FDA label states this indication", o->n);
    if (o->n) orx_buf_printf(out, "; %zu offered as the choice; each screened against this patient", o->n_choice);
    orx_buf_puts(out, "\n");
    if (o->query.unrecognised[0]) orx_buf_printf(out, "  Note: %s\n", o->query.unrecognised);
    if (!o->n) {
        orx_buf_printf(out, "  none: %s\n", o->note);
        return;
    }
    orx_buf_puts(out, "   #  drug                        findings by tier\n"
                      "      indication: label sentence [evidence] (citation) / label dose for this patient's band\n");
    int k = 0;
    for (size_t i = 0; i < o->n; i++) {
        const orx_rx_option *x = &o->v[i];
        if (!x->in_choice) continue;
        char tiers[160];
        tiers_text(&x->findings, tiers, sizeof tiers);
        orx_buf_printf(out, "  %2d. %-27s %s", ++k, x->ind.name, tiers);
        if (x->ind.partial) orx_buf_puts(out, "  [partial match]");
        if (x->ind.narrower) orx_buf_puts(out, "  [label names a narrower condition]");
        if (!x->ind.full_label) orx_buf_puts(out, "  [indication text only: full label not in the knowledge base]");
        orx_buf_puts(out, "\n      indication: ");
        quote_line(out, x->ind.quote.text, 150);
        option_cite(out, x->ev_indication, x->ind.quote.citation);
        orx_buf_puts(out, "\n      label dose: ");
        if (x->dose[0]) {
            quote_line(out, x->dose, 320);
            option_cite(out, x->ev_dose, x->dose_citation);
        } else {
            orx_buf_puts(out, x->ind.full_label ? "not in the evidence" : "no dosing section in the knowledge base");
        }
        orx_buf_puts(out, "\n");
    }
    bool any = false;
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].excluded) {
            if (!any) orx_buf_puts(out, "  Left out of the choice (contraindicated for this patient):\n");
            any = true;
            orx_buf_printf(out, "      %s: %.300s\n", o->v[i].ind.name, o->v[i].excluded_why);
        }
    any = false;
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].ind.stated == ORX_IND_STATED_POPULATION && !o->v[i].excluded) {
            if (!any) orx_buf_puts(out, "  Not offered (the label names this condition only as the patients treated for another one):\n");
            any = true;
            orx_buf_printf(out, "      %s: ", o->v[i].ind.name);
            quote_line(out, o->v[i].ind.quote.text, 150);
            orx_buf_puts(out, "\n");
        }
    size_t rest = 0;
    for (size_t i = 0; i < o->n; i++)
        rest += !o->v[i].in_choice && !o->v[i].excluded && o->v[i].ind.stated != ORX_IND_STATED_POPULATION;
    if (rest) orx_buf_printf(out, "  %zu more label-indicated option(s) beyond the choice (--format json lists all).\n", rest);
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
        render_options_text(r, out);
    } else {
        orx_buf_printf(out, "Mode: model %s, %s\n", r->model, r->rag ? "with retrieval (RAG)" : "without retrieval");
        if (r->privacy.remote)
            orx_buf_printf(out, "REMOTE MODEL at %s: the patient summary left this machine (consent given), "
                                "de-identified by the HIPAA Safe Harbor rules\n", r->privacy.host);
        else if (r->privacy.redact)
            orx_buf_printf(out, "Model at %s: the patient summary was de-identified (--redact)\n", r->privacy.host);
        if (!r->schema_valid) {
            orx_buf_printf(out, "\nThe model's answer could not be used: %s\n", r->schema_error);
        } else if (r->no_option) {
            orx_buf_printf(out, "\nThe model answers NO SUITABLE OPTION among the label-indicated options%s%s\n",
                           r->rationale[0] ? ": " : ".", r->rationale);
            if (r->discarded_cands)
                orx_buf_printf(out, "(It also wrote %d candidate(s); with \"no suitable option\" they are not used.)\n", r->discarded_cands);
        } else if (r->insufficient && r->n_cands == 0) {
            orx_buf_puts(out, "\nThe model reports INSUFFICIENT EVIDENCE and proposes no drug.\n");
        } else {
            orx_buf_printf(out, "\nDraft prescription%s:\n", r->insufficient ? " (model flags insufficient evidence)" : "");
            for (int i = 0; i < r->n_cands; i++) {
                const orx_rx_candidate *c = &r->cands[i];
                orx_buf_printf(out, "  %d. %s %g %s %s, %s", i + 1, c->ingredient, c->dose_amount, c->dose_unit, c->route, c->frequency);
                if (c->duration[0]) orx_buf_printf(out, ", %s", c->duration);
                if (c->rxcui[0]) orx_buf_printf(out, "  [RxCUI %s]", c->rxcui);
                if (r->options.ran && !c->label_indicated) orx_buf_puts(out, "  [NOT LABEL-INDICATED]");
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
        render_options_text(r, out);
    }
    render_findings_text("Safety findings on current medicines", &r->current_findings, out);
    orx_buf_printf(out, "\nEvidence retrieved (%zu label sections):\n", r->evidence.n);
    for (size_t i = 0; i < r->evidence.n; i++) {
        const orx_kb_hit *h = &r->evidence.hits[i];
        char when[16];
        evidence_date(h, when, sizeof when);
        orx_buf_printf(out, "  [S%zu] %s - %s (%s; label version %s, effective %s)%s%s\n", i + 1, orx_rx_evidence_name(h),
                       h->section_name, h->citation, h->version[0] ? h->version : "?", when,
                       h->channel ? "  channel: " : "", h->channel ? orx_kb_channel_name(h->channel) : "");
        if (h->snippet) orx_buf_printf(out, "       %s\n", h->snippet);
        else if (h->text) {
            orx_buf_puts(out, "       ");
            quote_line(out, h->text, 240);
            orx_buf_puts(out, "\n");
        }
    }
    orx_buf_printf(out, "\nTimings: options + retrieval %.1f ms (options %.1f ms), checks %.1f ms, model %.2f s, total %.2f s\n",
                   r->timing.retrieval_s * 1e3, r->timing.options_s * 1e3, r->timing.check_s * 1e3, r->timing.generate_s, r->timing.total_s);
    orx_buf_printf(out, "=== %s ===\n", ORX_DRAFT_NOTICE);
    return ORX_OK;
}

/* ============================================================================================
 * JSON
 * ========================================================================================== */

static json_t *tiers_json(const orx_findings *fs) {
    size_t counts[ORX_SEV_COUNT];
    orx_findings_count(fs, counts);
    json_t *o = json_object();
    for (int s = ORX_SEV_COUNT - 1; s >= 0; s--) json_object_set_new(o, orx_severity_name((orx_severity)s), json_integer((json_int_t)counts[s]));
    return o;
}

static json_t *evidence_ref(int ev) {
    if (!ev) return json_null();
    char id[16];
    snprintf(id, sizeof id, "S%d", ev % 1000);
    return json_string(id);
}

static json_t *query_json(const orx_ind_query *q) {
    json_t *a = json_array();
    for (int i = 0; i < q->n; i++) {
        json_t *alts = json_array();
        for (int k = 0; k < q->c[i].n_alts; k++) {
            char words[256];
            orx_ind_phrase_text(&q->c[i].alts[k], words, sizeof words);
            json_t *alt = json_object();
            json_object_set_new(alt, "words", json_string(words));
            if (q->c[i].alts[k].via[0]) json_object_set_new(alt, "via", json_string(q->c[i].alts[k].via));
            json_array_append_new(alts, alt);
        }
        json_t *c = json_object();
        json_object_set_new(c, "text", json_string(q->c[i].text));
        json_object_set_new(c, "role", json_string(orx_ind_role_name(q->c[i].role)));
        json_object_set_new(c, "phrasings", alts);
        json_array_append_new(a, c);
    }
    return a;
}

static json_t *option_json(const orx_rx_option *x, int rank) {
    json_t *o = json_object(), *ing = json_array();
    json_object_set_new(o, "rank", json_integer(rank));
    json_object_set_new(o, "drug", json_string(x->ind.name));
    json_object_set_new(o, "display_name", json_string(x->ind.quote.drugs[0] ? x->ind.quote.drugs : x->ind.name));
    for (int i = 0; i < x->ind.n_ingr; i++) json_array_append_new(ing, json_string(x->ind.ingr[i]));
    json_object_set_new(o, "ingredients", ing);
    json_object_set_new(o, "rxcui", x->rxcui[0] ? json_string(x->rxcui) : json_null());
    json_object_set_new(o, "in_choice", json_boolean(x->in_choice));
    json_object_set_new(o, "excluded", json_boolean(x->excluded));
    json_object_set_new(o, "excluded_reason", x->excluded ? json_string(x->excluded_why) : json_null());
    json_object_set_new(o, "label_indicated", json_true());
    json_object_set_new(o, "full_label_in_kb", json_boolean(x->ind.full_label));
    json_object_set_new(o, "labels", json_integer(x->ind.n_labels));
    json_t *ids = json_array();
    for (int i = 0; i < x->ind.n_labels && i < 48; i++) json_array_append_new(ids, json_string(x->ind.label_ids[i]));
    json_object_set_new(o, "label_set_ids", ids);
    json_t *m = json_object();
    json_object_set_new(m, "score", json_real(x->ind.score));
    json_object_set_new(m, "partial", json_boolean(x->ind.partial));
    json_object_set_new(m, "narrower", json_boolean(x->ind.narrower));
    json_object_set_new(m, "kind", json_string(orx_ind_statement_name(x->ind.stated)));
    if (x->ind.via[0]) json_object_set_new(m, "via", json_string(x->ind.via));
    json_object_set_new(o, "match", m);
    json_t *ind = json_object();
    json_object_set_new(ind, "sentence", json_string(x->ind.quote.text ? x->ind.quote.text : ""));
    json_object_set_new(ind, "citation", json_string(x->ind.quote.citation));
    json_object_set_new(ind, "title", json_string(orx_rx_evidence_name(&x->ind.quote)));
    json_object_set_new(ind, "evidence_id", evidence_ref(x->ev_indication));
    json_object_set_new(o, "indication", ind);
    if (x->dose[0]) {
        json_t *d = json_object();
        json_object_set_new(d, "text", json_string(x->dose));
        json_object_set_new(d, "citation", json_string(x->dose_citation));
        json_object_set_new(d, "evidence_id", evidence_ref(x->ev_dose));
        json_object_set_new(o, "label_dose", d);
    } else {
        json_object_set_new(o, "label_dose", json_null());
    }
    json_object_set_new(o, "findings_by_tier", tiers_json(&x->findings));
    json_object_set_new(o, "findings", orx_findings_json(&x->findings, false));
    return o;
}

static json_t *options_json(const orx_rx_options *o) {
    json_t *j = json_object(), *a = json_array();
    json_object_set_new(j, "count", json_integer((json_int_t)o->n));
    json_object_set_new(j, "in_choice", json_integer((json_int_t)o->n_choice));
    json_object_set_new(j, "labels_searched", json_integer(o->labels));
    json_object_set_new(j, "note", o->note[0] ? json_string(o->note) : json_null());
    json_object_set_new(j, "query", query_json(&o->query));
    json_object_set_new(j, "ignored_words", json_string(o->query.ignored));
    json_object_set_new(j, "unrecognised", o->query.unrecognised[0] ? json_string(o->query.unrecognised) : json_null());
    for (size_t i = 0; i < o->n; i++) json_array_append_new(a, option_json(&o->v[i], (int)i + 1));
    json_object_set_new(j, "options", a);
    return j;
}

/* {"remote", "host", "consent", "deidentified", "redactions"}: where the patient data went */
static json_t *privacy_json(const orx_rx_result *r) {
    const orx_llm_privacy *pv = &r->privacy;
    json_t *o = json_object();
    json_object_set_new(o, "remote", json_boolean(pv->remote));
    json_object_set_new(o, "host", pv->host[0] ? json_string(pv->host) : json_null());
    json_object_set_new(o, "consent", json_boolean(pv->consent));
    json_object_set_new(o, "deidentified", json_boolean(pv->redact));
    int n = 0;
    for (int i = 0; i < ORX_DEID_KIND_COUNT; i++) n += r->redactions[i];
    json_object_set_new(o, "redactions", json_integer(n));
    return o;
}

void orx_rx_candidate_dose_json(json_t *o, const orx_rx_candidate *c) {
    json_object_set_new(o, "dose_amount", json_real(c->dose_amount));
    const char *const fields[][2] = {{"dose_unit", c->dose_unit},     {"route", c->route},
                                     {"frequency", c->frequency},     {"duration", c->duration},
                                     {"adjustments", c->adjustments}, {"monitoring", c->monitoring}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        json_object_set_new(o, fields[i][0], json_string(fields[i][1]));
}

json_t *orx_rx_result_json(const orx_rx_result *r, const orx_patient *pt) {
    json_t *o = json_object();
    json_object_set_new(o, "notice", json_string(ORX_DRAFT_NOTICE));
    json_object_set_new(o, "mode", json_string(r->evidence_mode ? "evidence" : r->rag ? "model+rag" : "model"));
    json_object_set_new(o, "patient", json_string(pt->id[0] ? pt->id : pt->source));
    json_object_set_new(o, "indication", json_string(r->indication));
    json_object_set_new(o, "model", r->evidence_mode ? json_null() : json_string(r->model));
    if (!r->evidence_mode) json_object_set_new(o, "privacy", privacy_json(r));
    if (!r->evidence_mode) {
        json_object_set_new(o, "schema_valid", json_boolean(r->schema_valid));
        if (!r->schema_valid) json_object_set_new(o, "schema_error", json_string(r->schema_error));
        json_object_set_new(o, "insufficient_evidence", json_boolean(r->insufficient));
        json_object_set_new(o, "choice", json_string(r->grounded ? "label-indicated options" : "open"));
        json_object_set_new(o, "no_suitable_option", json_boolean(r->no_option));
        if (r->discarded_cands) json_object_set_new(o, "discarded_candidates", json_integer(r->discarded_cands));
        json_t *cands = json_array();
        for (int i = 0; i < r->n_cands; i++) {
            const orx_rx_candidate *c = &r->cands[i];
            json_t *k = json_object(), *cites = json_array();
            json_object_set_new(k, "ingredient", json_string(c->ingredient));
            json_object_set_new(k, "rxcui", c->rxcui[0] ? json_string(c->rxcui) : json_null());
            orx_rx_candidate_dose_json(k, c);
            if (r->options.ran) json_object_set_new(k, "label_indicated", json_boolean(c->label_indicated));
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
        json_object_set_new(o, "findings", orx_findings_json(&r->findings, false));
        json_object_set_new(o, "raw_output", r->raw_output ? json_string(r->raw_output) : json_null());
        json_object_set_new(o, "asks", json_integer(r->asks));
    }
    json_object_set_new(o, "current_findings", orx_findings_json(&r->current_findings, false));
    json_object_set_new(o, "options", r->options.ran ? options_json(&r->options) : json_null());
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
        json_object_set_new(e, "channel", h->channel ? json_string(orx_kb_channel_name(h->channel)) : json_null());
        json_object_set_new(e, "text", json_string(h->text ? h->text : ""));
        json_array_append_new(ev, e);
    }
    json_object_set_new(o, "evidence", ev);
    json_t *tm = json_object();
    json_object_set_new(tm, "options_s", json_real(r->timing.options_s));
    json_object_set_new(tm, "retrieval_s", json_real(r->timing.retrieval_s));
    json_object_set_new(tm, "first_token_s", json_real(r->timing.first_token_s));
    json_object_set_new(tm, "generate_s", json_real(r->timing.generate_s));
    json_object_set_new(tm, "check_s", json_real(r->timing.check_s));
    json_object_set_new(tm, "total_s", json_real(r->timing.total_s));
    json_object_set_new(tm, "prompt_tokens", json_integer(r->prompt_tokens));
    json_object_set_new(tm, "cached_prompt_tokens", json_integer(r->cached_tokens));
    json_object_set_new(tm, "completion_tokens", json_integer(r->completion_tokens));
    json_object_set_new(tm, "decode_passes", json_integer(r->decode_passes));
    json_object_set_new(tm, "forced_tokens", json_integer(r->forced_tokens));
    json_object_set_new(tm, "drafted_tokens", json_integer(r->drafted_tokens));
    json_object_set_new(tm, "accepted_drafted_tokens", json_integer(r->accepted_tokens));
    json_object_set_new(tm, "draft_model_drafted_tokens", json_integer(r->model_drafted_tokens));
    json_object_set_new(tm, "draft_model_accepted_tokens", json_integer(r->model_accepted_tokens));
    json_object_set_new(o, "timing", tm);
    json_object_set_new(o, "input_sha256", json_string(r->input_hash));
    return o;
}

static orx_status dump(json_t *o, orx_buf *out, orx_error *err) {
    if (orx_buf_put_json(out, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) return ORX_OK;
    return orx_fail(err, ORX_ERR_NOMEM, "cannot serialise the result");
}

orx_status orx_rx_render_json(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err) {
    json_t *o = orx_rx_result_json(r, pt);
    if (!o) return orx_fail(err, ORX_ERR_NOMEM, "cannot build the result: out of memory");
    return dump(o, out, err);
}
