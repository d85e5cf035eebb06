/* pipeline.c — orx_recommend: options → evidence channels → prompt (fitted to the model's
 * context) → model → parse → check → (re-ask) → audit. */
#include "rx/rx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_OVERHEAD_TOKENS 48 /* chat template and message framing, per request */

void orx_rx_result_clear(orx_rx_result *r) {
    if (!r) return;
    orx_rx_options_clear(&r->options);
    orx_kb_results_clear(&r->evidence);
    orx_findings_clear(&r->current_findings);
    orx_findings_clear(&r->findings);
    free(r->raw_output);
    r->raw_output = NULL;
    for (int i = 0; i < r->n_sent; i++) {
        free(r->sent[i].body);
        r->sent[i].body = NULL;
    }
    r->n_sent = 0;
}

/* ============================================================================================
 * Inputs
 * ========================================================================================== */
static void input_hash(const orx_patient *pt, const orx_rx_params *p, bool with_model, char out[65]) {
    orx_buf b;
    orx_buf_init(&b);
    orx_error e = ORX_ERROR_INIT;
    orx_patient_to_json(pt, &b, &e);
    orx_buf_printf(&b, "\nindication=%s rag=%d k=%d words=%d max_tokens=%d temp=%g seed=%llu model=%d",
                   p->indication, p->rag, p->k, p->evidence_words, p->max_tokens, p->temperature,
                   (unsigned long long)p->seed, with_model);
    if (p->open_choice || p->problem || p->max_choice != ORX_RX_MAX_CHOICE)
        orx_buf_printf(&b, " open_choice=%d problem=%d max_choice=%d", p->open_choice, p->problem, p->max_choice);
    orx_sha256_hex(b.data ? b.data : "", b.len, out);
    orx_buf_clear(&b);
}

static bool blank(const char *s) {
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

/* ============================================================================================
 * Evidence
 * ========================================================================================== */
/* the current medicines as ingredient names (lexicon), for the interaction channel */
static size_t med_ingredients(const orx_checker *ck, const orx_patient *pt, char (*names)[96], size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < pt->n_meds && n < cap; i++) {
        orx_proposed_drug d;
        orx_error e = ORX_ERROR_INIT;
        if (orx_proposed_drug_from_med(ck, &pt->meds[i], &d, &e) != ORX_OK) continue;
        for (int k = 0; k < d.n_ingr && n < cap; k++) {
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++) dup = !strcmp(names[j], d.ingr[k].ingredient);
            if (!dup) snprintf(names[n++], 96, "%s", d.ingr[k].ingredient);
        }
    }
    return n;
}

/* evidence ids and the label dose of each option, from the channels' hits */
static void link_evidence(orx_rx_result *r, const size_t *opt_of_req, size_t n_req) {
    for (size_t i = 0; i < r->options.n; i++) {
        orx_rx_option *o = &r->options.v[i];
        o->ev_indication = o->ev_dose = 0;
        o->dose[0] = o->dose_citation[0] = 0;
    }
    for (size_t h = 0; h < r->evidence.n; h++) {
        const orx_kb_hit *hit = &r->evidence.hits[h];
        if (hit->option < 0 || (size_t)hit->option >= n_req) continue;
        orx_rx_option *o = &r->options.v[opt_of_req[hit->option]];
        if (hit->channel == ORX_KB_CH_INDICATION && !o->ev_indication) o->ev_indication = (int)h + 1;
        if (hit->channel == ORX_KB_CH_DOSING && !o->ev_dose) {
            o->ev_dose = (int)h + 1;
            /* the first paragraph (the one chosen for this patient), on one line */
            const char *t = hit->text ? hit->text : "", *e = strstr(t, "\n\n");
            size_t l = e ? (size_t)(e - t) : strlen(t), k = 0;
            for (size_t j = 0; j < l && k + 1 < sizeof o->dose; j++)
                if (!(t[j] == '\n' && k && o->dose[k - 1] == ' ')) o->dose[k++] = t[j] == '\n' ? ' ' : t[j];
            o->dose[k] = 0;
            snprintf(o->dose_citation, sizeof o->dose_citation, "%s", hit->citation);
        }
    }
}

static orx_status retrieve(const orx_retriever *ret, const orx_checker *ck, const orx_patient *pt,
                           const orx_rx_params *p, orx_rx_result *r, orx_error *err) {
    char meds[16][96];
    const char *med_ptrs[16];
    size_t n_meds = med_ingredients(ck, pt, meds, 16);
    for (size_t i = 0; i < n_meds; i++) med_ptrs[i] = meds[i];
    /* the options offered as the choice, best first */
    orx_retrieval_option ro[ORX_RX_MAX_CHOICE];
    size_t opt_of_req[ORX_RX_MAX_CHOICE], n_req = 0;
    for (size_t i = 0; i < r->options.n && n_req < ORX_RX_MAX_CHOICE; i++) {
        if (!r->options.v[i].in_choice) continue;
        ro[n_req] = (orx_retrieval_option){r->options.v[i].ind.name, &r->options.v[i].ind.quote};
        opt_of_req[n_req++] = i;
    }
    orx_retrieval_request rq;
    memset(&rq, 0, sizeof rq);
    rq.indication = p->indication;
    rq.drugs = med_ptrs;
    rq.n_drugs = n_meds;
    rq.k = p->k > 0 ? p->k : 10;
    rq.words = p->evidence_words;
    rq.options = ro;
    rq.n_options = n_req;
    rq.band = orx_rx_band(pt);
    orx_status st = ret->retrieve(ret->self, &rq, &r->evidence, err);
    if (st == ORX_OK) link_evidence(r, opt_of_req, n_req);
    return st;
}

/* drop the last evidence item (the least important channel's last item) */
static void drop_last_evidence(orx_rx_result *r) {
    if (!r->evidence.n) return;
    orx_kb_hit *h = &r->evidence.hits[--r->evidence.n];
    free(h->text);
    free(h->snippet);
    for (size_t i = 0; i < r->options.n; i++) {
        orx_rx_option *o = &r->options.v[i];
        if (o->ev_indication > (int)r->evidence.n) o->ev_indication = 0;
        if (o->ev_dose > (int)r->evidence.n) o->ev_dose = 0, o->dose[0] = o->dose_citation[0] = 0;
    }
}

/* ============================================================================================
 * Candidates against the options and the checker
 * ========================================================================================== */
static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* index of the option with exactly the ingredients of d, -1 none */
static int option_of(const orx_rx_options *o, const orx_proposed_drug *d) {
    if (!d->n_ingr) return -1;
    char ing[ORX_MAX_INGR][ORX_LEX_NAME];
    int n = 0;
    for (int i = 0; i < d->n_ingr && n < ORX_MAX_INGR; i++) snprintf(ing[n++], ORX_LEX_NAME, "%s", d->ingr[i].ingredient);
    qsort(ing, (size_t)n, sizeof ing[0], cmp_str);
    char name[256] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(name);
        snprintf(name + l, sizeof name - l, "%s%s", i ? " / " : "", ing[i]);
    }
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].ind.name, name)) return (int)i;
    return -1;
}

static void flag_off_label(orx_rx_result *r, orx_rx_candidate *c) {
    orx_finding *f = orx_findings_push(&r->findings, "indication", ORX_SEV_MODERATE);
    if (!f) return;
    orx_fset(f->drugs, sizeof f->drugs, "%s", c->ingredient);
    orx_fset(f->message, sizeof f->message,
             "not label-indicated: no label in the knowledge base states \"%.200s\" for %.80s (an open choice).",
             r->indication, c->ingredient);
    orx_fset(f->trigger, sizeof f->trigger, "indication: %.200s", r->indication);
    orx_fset(f->source, sizeof f->source, "openrx options (labels' Indications & Usage sections)");
}

static orx_status check_candidates(const orx_checker *ck, const orx_patient *pt, orx_rx_result *r, orx_error *err) {
    orx_findings_clear(&r->findings);
    orx_findings_init(&r->findings);
    if (r->n_cands == 0) return ORX_OK;
    orx_proposed_drug drugs[ORX_RX_MAX_CANDIDATES];
    for (int i = 0; i < r->n_cands; i++) {
        orx_rx_candidate *c = &r->cands[i];
        orx_dose_parts parts = {c->dose_amount, c->dose_unit, c->route, c->frequency};
        orx_status st = orx_proposed_drug_from_parts(ck, c->ingredient, &parts, &drugs[i], err);
        if (st != ORX_OK) return st;
        /* the drug is proposed for the indication asked: label rules scoped to an indication use it */
        snprintf(drugs[i].indication, sizeof drugs[i].indication, "%s", r->indication);
        if (drugs[i].n_ingr > 0) snprintf(c->rxcui, sizeof c->rxcui, "%s", drugs[i].ingr[0].rxcui);
        c->option = -1;
        for (size_t k = 0; k < r->options.n && c->option < 0; k++)
            if (!strcmp(r->options.v[k].ind.name, c->ingredient)) c->option = (int)k;
        if (c->option < 0 && r->options.ran) c->option = option_of(&r->options, &drugs[i]);
        c->label_indicated = c->option >= 0;
    }
    orx_status st = orx_check_proposed(ck, pt, drugs, (size_t)r->n_cands, &r->findings, err);
    for (int i = 0; st == ORX_OK && i < r->n_cands; i++)
        if (r->options.ran && !r->cands[i].label_indicated) flag_off_label(r, &r->cands[i]);
    return st;
}

/* ============================================================================================
 * The model call
 * ========================================================================================== */
static orx_status ask(orx_llm *llm, const orx_llm_msg *msgs, int n, const orx_schema *schema, const orx_rx_params *p,
                      orx_rx_result *r, orx_error *err) {
    orx_llm_request rq = orx_llm_default_request();
    rq.messages = msgs;
    rq.n_messages = n;
    rq.max_tokens = p->max_tokens > 0 ? p->max_tokens : 512;
    rq.temperature = p->temperature;
    rq.has_seed = true;
    rq.seed = p->seed;
    rq.schema = schema;
    rq.schema_name = "prescription";
    rq.keep_body = p->audit_full;
    orx_llm_response resp;
    orx_status st = orx_llm_chat(llm, &rq, &resp, err);
    r->asks++;
    if (resp.request_sha256[0] && r->n_sent < 2) { /* what went over the wire, sent or failed */
        orx_rx_sent *s = &r->sent[r->n_sent++];
        memcpy(s->sha256, resp.request_sha256, sizeof s->sha256);
        s->bytes = resp.request_bytes;
        s->body = resp.request_body;
        resp.request_body = NULL;
    }
    if (st != ORX_OK) return orx_llm_response_clear(&resp), st;
    free(r->raw_output);
    r->raw_output = resp.content;
    resp.content = NULL;
    orx_llm_response_clear(&resp);
    r->prompt_tokens = resp.prompt_tokens;
    r->completion_tokens = resp.completion_tokens;
    r->timing.generate_s += resp.t_total_s;
    r->decode_passes += resp.decode_passes;
    r->forced_tokens += resp.forced_tokens;
    r->drafted_tokens += resp.drafted_tokens;
    r->accepted_tokens += resp.accepted_tokens;
    r->model_drafted_tokens += resp.model_drafted_tokens;
    r->model_accepted_tokens += resp.model_accepted_tokens;
    if (r->asks == 1) { r->timing.first_token_s = resp.t_first_token_s; r->cached_tokens = resp.cached_tokens; }
    return ORX_OK;
}

static void parse_answer(orx_rx_result *r, const orx_schema *schema) {
    orx_error perr = ORX_ERROR_INIT;
    r->schema_valid = orx_rx_parse_answer(r->raw_output, schema, r, &perr) == ORX_OK;
    snprintf(r->schema_error, sizeof r->schema_error, "%.500s", r->schema_valid ? "" : perr.msg);
}

typedef struct prompt_set {
    orx_schema *schema;   /* the output schema, parsed once: the grammar and the validator read it */
    char       *sys, *user; /* malloc'd */
} prompt_set;

static void prompt_free(prompt_set *ps) {
    orx_schema_free(ps->schema);
    free(ps->sys);
    free(ps->user);
    memset(ps, 0, sizeof *ps);
}

static void prompt_build(const orx_patient *pt, const orx_rx_params *p, orx_rx_result *r, prompt_set *ps) {
    prompt_free(ps);
    const char *choices[ORX_RX_MAX_CHOICE];
    int n = 0;
    for (size_t i = 0; i < r->options.n && n < ORX_RX_MAX_CHOICE; i++)
        if (r->options.v[i].in_choice) choices[n++] = r->options.v[i].ind.name;
    ps->schema = r->grounded ? orx_rx_output_schema_for((int)r->evidence.n, choices, n)
                             : orx_rx_output_schema((int)r->evidence.n);
    ps->sys = orx_rx_system_prompt_for(r->rag, r->grounded);
    /* a remote model (or --redact) gets the de-identified patient block */
    orx_deid d;
    orx_deid_for(pt, &d);
    ps->user = orx_rx_user_prompt_deid(pt, p->indication, r->rag ? &r->evidence : NULL,
                                       r->options.ran ? &r->options : NULL, p->open_choice,
                                       r->privacy.redact ? &d : NULL);
    memcpy(r->redactions, d.counts, sizeof r->redactions);
}

/* tokens of a prompt text: the model's own count (local tokenizer, the server's /tokenize), else
 * the estimate */
static int prompt_tokens(orx_llm *llm, const char *text) {
    int n = orx_llm_count_tokens(llm, text);
    return n >= 0 ? n : orx_rx_estimate_tokens(text);
}

/* Fit the prompt to the model's context: the answer's max_tokens and the prompt must fit;
 * evidence is dropped from the end (least important channel first) until they do. */
static orx_status fit_prompt(orx_llm *llm, const orx_patient *pt, const orx_rx_params *p, orx_rx_result *r,
                             prompt_set *ps, orx_error *err) {
    int max_tokens = p->max_tokens > 0 ? p->max_tokens : 512;
    for (;;) {
        prompt_build(pt, p, r, ps);
        if (orx_llm_n_ctx(llm) <= 0) return ORX_OK;
        int need = prompt_tokens(llm, ps->sys) + prompt_tokens(llm, ps->user) + PROMPT_OVERHEAD_TOKENS + max_tokens;
        if (need <= orx_llm_n_ctx(llm)) return ORX_OK;
        if (!r->evidence.n)
            return orx_fail(err, ORX_ERR_RANGE,
                            "the prompt (about %d tokens without evidence) and --max-tokens %d do not fit the "
                            "model's context of %d tokens; lower --max-tokens or use a model/server with a "
                            "larger context", need - max_tokens, max_tokens, orx_llm_n_ctx(llm));
        drop_last_evidence(r);
    }
}

static orx_status run_model(orx_llm *llm, const orx_checker *ck, const orx_patient *pt, const orx_rx_params *p,
                            orx_rx_result *r, orx_error *err) {
    prompt_set ps = {0};
    orx_status st = fit_prompt(llm, pt, p, r, &ps, err);
    if (st == ORX_OK && !ps.schema) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st != ORX_OK) return prompt_free(&ps), st;
    orx_llm_msg msgs[4] = {{"system", ps.sys}, {"user", ps.user}, {0}, {0}};
    if (p->on_prompt) p->on_prompt(p->on_prompt_user, ps.sys, ps.user);
    st = ask(llm, msgs, 2, ps.schema, p, r, err);
    double t;
    if (st == ORX_OK) {
        parse_answer(r, ps.schema);
        t = orx_now();
        if (r->schema_valid) st = check_candidates(ck, pt, r, err);
        r->timing.check_s += orx_now() - t;
    }
    orx_severity worst;
    if (st == ORX_OK && r->schema_valid && p->reask && orx_findings_max_severity(&r->findings, &worst) &&
        worst >= ORX_SEV_MAJOR) {
        orx_buf fb;
        orx_buf_init(&fb);
        orx_buf_puts(&fb, "The medication-safety checker found these problems with your draft:\n");
        orx_error ferr = ORX_ERROR_INIT;
        if (r->privacy.redact) { /* findings may quote the patient's own medicine texts */
            orx_buf ft;
            orx_buf_init(&ft);
            orx_findings_to_text(&r->findings, &ft, &ferr);
            orx_deid d;
            orx_deid_for(pt, &d);
            orx_deid_append(&d, ft.data ? ft.data : "", &fb);
            orx_buf_clear(&ft);
        } else {
            orx_findings_to_text(&r->findings, &fb, &ferr);
        }
        orx_buf_printf(&fb, "\nRevise the prescription to avoid them%s, or set insufficient_evidence to true. Answer with JSON only.",
                       r->grounded ? " (choose another option, or set no_suitable_option to true)" : "");
        char *prev = orx_strdup(r->raw_output);
        msgs[2] = (orx_llm_msg){"assistant", prev};
        msgs[3] = (orx_llm_msg){"user", fb.data};
        st = ask(llm, msgs, 4, ps.schema, p, r, err);
        if (st == ORX_OK) {
            parse_answer(r, ps.schema);
            t = orx_now();
            if (r->schema_valid) st = check_candidates(ck, pt, r, err);
            else orx_findings_clear(&r->findings), orx_findings_init(&r->findings);
            r->timing.check_s += orx_now() - t;
        }
        free(prev);
        orx_buf_clear(&fb);
    }
    prompt_free(&ps);
    return st;
}

/* ============================================================================================
 * The pipeline
 * ========================================================================================== */
orx_status orx_recommend(orx_llm *llm, const orx_retriever *retriever, const orx_checker *ck,
                         const orx_patient *pt, const orx_rx_params *p, orx_rx_result *out,
                         orx_error *err) {
    memset(out, 0, sizeof *out);
    orx_findings_init(&out->findings);
    orx_findings_init(&out->current_findings);
    out->prompt_tokens = out->completion_tokens = -1;
    if (!p || blank(p->indication)) return orx_fail(err, ORX_ERR_USAGE, "an indication is required (it is empty or only spaces)");
    if (!ck || !pt) return orx_fail(err, ORX_ERR_USAGE, "a patient and a safety checker are required");
    double t0 = orx_now();
    snprintf(out->indication, sizeof out->indication, "%s", p->indication);
    out->evidence_mode = llm == NULL;
    out->rag = llm && p->rag && retriever;
    if (llm) snprintf(out->model, sizeof out->model, "%s", orx_llm_name(llm));
    if (llm) out->privacy = *orx_llm_get_privacy(llm);
    input_hash(pt, p, llm != NULL, out->input_hash);

    orx_status st = ORX_OK;
    double t = orx_now();
    if (retriever && (p->rag || !llm)) {
        st = orx_rx_find_options(retriever, ck, pt, p->indication, p->problem, p->max_choice, &out->options, err);
        out->timing.options_s = orx_now() - t;
        if (st == ORX_OK) st = retrieve(retriever, ck, pt, p, out, err);
    }
    out->timing.retrieval_s = orx_now() - t;
    out->grounded = llm && out->options.ran && !p->open_choice;

    t = orx_now();
    if (st == ORX_OK) st = orx_check_current(ck, pt, &out->current_findings, err);
    out->timing.check_s = orx_now() - t;

    if (st == ORX_OK && llm) st = run_model(llm, ck, pt, p, out, err);
    out->timing.total_s = orx_now() - t0;
    if (p->audit_path) {
        orx_error aerr = ORX_ERROR_INIT;
        orx_status ast = orx_rx_audit(p->audit_path, out, p->model_hash, st, st == ORX_OK ? NULL : (err ? err->msg : NULL), &aerr);
        if (ast != ORX_OK && st == ORX_OK) {
            if (err) *err = aerr;
            return ast; /* a recommendation that could not be audited is not returned as a success */
        }
    }
    return st;
}
