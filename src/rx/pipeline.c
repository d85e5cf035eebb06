/* pipeline.c — orx_recommend: retrieval → prompt → model → parse → check → (re-ask) → audit. */
#include "rx/rx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void orx_rx_result_free(orx_rx_result *r) {
    if (!r) return;
    orx_kb_results_free(&r->evidence);
    orx_findings_free(&r->current_findings);
    orx_findings_free(&r->findings);
    free(r->raw_output);
    r->raw_output = NULL;
}

/* ============================================================================================
 * Steps
 * ========================================================================================== */
static void input_hash(const orx_patient *pt, const orx_rx_params *p, bool with_model, char out[65]) {
    orx_buf b;
    orx_buf_init(&b);
    orx_error e = ORX_ERROR_INIT;
    orx_patient_to_json(pt, &b, &e);
    orx_buf_printf(&b, "\nindication=%s rag=%d k=%d words=%d max_tokens=%d temp=%g seed=%llu model=%d",
                   p->indication, p->rag, p->k, p->evidence_words, p->max_tokens, p->temperature,
                   (unsigned long long)p->seed, with_model);
    orx_sha256_hex(b.data ? b.data : "", b.len, out);
    orx_buf_free(&b);
}

static int count_words(const char *s) {
    int n = 0;
    bool in = false;
    for (; s && *s; s++) {
        bool sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

static orx_status retrieve(const orx_retriever *ret, const orx_patient *pt, const orx_rx_params *p,
                           orx_kb_results *out, orx_error *err) {
    char facts[16][96];
    size_t n_facts = orx_rx_patient_facts(pt, facts, 16);
    const char *fact_ptrs[16], *drugs[16];
    for (size_t i = 0; i < n_facts; i++) fact_ptrs[i] = facts[i];
    size_t n_drugs = 0;
    for (size_t i = 0; i < pt->n_meds && n_drugs < 16; i++) drugs[n_drugs++] = pt->meds[i].text;
    orx_retrieval_request rq = {p->indication, drugs, n_drugs, fact_ptrs, n_facts, p->k > 0 ? p->k : 6};
    orx_status st = ret->retrieve(ret->self, &rq, out, err);
    if (st != ORX_OK) return st;
    /* Fit the evidence to the word budget, best first; always keep at least one section. */
    int words = 0;
    for (size_t i = 0; i < out->n; i++) {
        words += count_words(out->hits[i].text);
        if (i > 0 && p->evidence_words > 0 && words > p->evidence_words) {
            for (size_t j = i; j < out->n; j++) { free(out->hits[j].text); free(out->hits[j].snippet); }
            out->n = i;
            break;
        }
    }
    return ORX_OK;
}

static orx_status check_candidates(const orx_checker *ck, const orx_patient *pt, orx_rx_result *r, orx_error *err) {
    orx_findings_free(&r->findings);
    orx_findings_init(&r->findings);
    if (r->n_cands == 0) return ORX_OK;
    orx_proposed_drug drugs[ORX_RX_MAX_CANDIDATES];
    for (int i = 0; i < r->n_cands; i++) {
        orx_rx_candidate *c = &r->cands[i];
        char text[256];
        snprintf(text, sizeof text, "%.80s %g %.15s %.23s %.60s", c->ingredient, c->dose_amount, c->dose_unit, c->route, c->frequency);
        orx_status st = orx_proposed_drug_init(ck, text, NULL, &drugs[i], err);
        if (st != ORX_OK) return st;
        /* the drug is proposed for the indication asked: label rules scoped to an indication use it */
        snprintf(drugs[i].indication, sizeof drugs[i].indication, "%s", r->indication);
        if (drugs[i].n_ingr > 0) snprintf(c->rxcui, sizeof c->rxcui, "%s", drugs[i].ingr[0].rxcui);
    }
    return orx_check_proposed(ck, pt, drugs, (size_t)r->n_cands, &r->findings, err);
}

static orx_status ask(orx_llm *llm, const orx_llm_msg *msgs, int n, const char *schema, const orx_rx_params *p,
                      orx_rx_result *r, orx_error *err) {
    orx_llm_request rq = orx_llm_default_request();
    rq.messages = msgs;
    rq.n_messages = n;
    rq.max_tokens = p->max_tokens > 0 ? p->max_tokens : 512;
    rq.temperature = p->temperature;
    rq.has_seed = true;
    rq.seed = p->seed;
    rq.json_schema = schema;
    rq.schema_name = "prescription";
    orx_llm_response resp;
    orx_status st = orx_llm_chat(llm, &rq, &resp, err);
    r->asks++;
    if (st != ORX_OK) return st;
    free(r->raw_output);
    r->raw_output = resp.content;
    r->prompt_tokens = resp.prompt_tokens;
    r->completion_tokens = resp.completion_tokens;
    r->timing.generate_s += resp.t_total_s;
    if (r->asks == 1) { r->timing.first_token_s = resp.t_first_token_s; r->cached_tokens = resp.cached_tokens; }
    return ORX_OK;
}

static void parse_answer(orx_rx_result *r) {
    orx_error perr = ORX_ERROR_INIT;
    r->schema_valid = orx_rx_parse_output(r->raw_output, (int)r->evidence.n, r, &perr) == ORX_OK;
    snprintf(r->schema_error, sizeof r->schema_error, "%.500s", r->schema_valid ? "" : perr.msg);
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
    if (!p || !p->indication || !*p->indication) return orx_fail(err, ORX_ERR_USAGE, "an indication is required");
    if (!ck || !pt) return orx_fail(err, ORX_ERR_USAGE, "a patient and a safety checker are required");
    double t0 = orx_now();
    snprintf(out->indication, sizeof out->indication, "%s", p->indication);
    out->evidence_mode = llm == NULL;
    out->rag = llm && p->rag && retriever;
    if (llm) snprintf(out->model, sizeof out->model, "%s", orx_llm_name(llm));
    input_hash(pt, p, llm != NULL, out->input_hash);

    orx_status st = ORX_OK;
    double t = orx_now();
    orx_rx_params fitted = *p;
    if (llm && llm->n_ctx > 0) {
        /* Fit the evidence to the model's context: what is left after the answer (max_tokens) and
         * ~1300 tokens of instructions, patient and schema, at ~2 tokens per word of label text
         * (numbers, units and drug names tokenize densely). */
        int room = (int)((llm->n_ctx - fitted.max_tokens - 1300) / 2.0);
        if (room < 60) room = 60;
        if (fitted.evidence_words <= 0 || fitted.evidence_words > room) fitted.evidence_words = room;
    }
    if (retriever && (p->rag || !llm)) st = retrieve(retriever, pt, &fitted, &out->evidence, err);
    out->timing.retrieval_s = orx_now() - t;

    t = orx_now();
    if (st == ORX_OK) st = orx_check_current(ck, pt, &out->current_findings, err);
    out->timing.check_s = orx_now() - t;

    if (st == ORX_OK && llm) {
        char *schema = orx_rx_output_schema((int)out->evidence.n);
        char *sys = orx_rx_system_prompt(out->rag);
        char *user = orx_rx_user_prompt(pt, p->indication, out->rag ? &out->evidence : NULL, schema);
        orx_llm_msg msgs[4] = {{"system", sys}, {"user", user}, {0}, {0}};
        if (getenv("ORX_DEBUG_PROMPT")) fprintf(stderr, "--- system ---\n%s\n--- user ---\n%s\n---\n", sys, user);
        st = ask(llm, msgs, 2, schema, p, out, err);
        if (st == ORX_OK) {
            parse_answer(out);
            t = orx_now();
            if (out->schema_valid) st = check_candidates(ck, pt, out, err);
            out->timing.check_s += orx_now() - t;
        }
        orx_severity worst;
        if (st == ORX_OK && out->schema_valid && p->reask && orx_findings_max_severity(&out->findings, &worst) &&
            worst >= ORX_SEV_MAJOR) {
            orx_buf fb;
            orx_buf_init(&fb);
            orx_buf_puts(&fb, "The medication-safety checker found these problems with your draft:\n");
            orx_error ferr = ORX_ERROR_INIT;
            orx_findings_to_text(&out->findings, &fb, &ferr);
            orx_buf_puts(&fb, "\nRevise the prescription to avoid them, or set insufficient_evidence to true. Answer with JSON only.");
            char *prev = orx_strdup(out->raw_output);
            msgs[2] = (orx_llm_msg){"assistant", prev};
            msgs[3] = (orx_llm_msg){"user", fb.data};
            st = ask(llm, msgs, 4, schema, p, out, err);
            if (st == ORX_OK) {
                parse_answer(out);
                t = orx_now();
                if (out->schema_valid) st = check_candidates(ck, pt, out, err);
                else orx_findings_free(&out->findings), orx_findings_init(&out->findings);
                out->timing.check_s += orx_now() - t;
            }
            free(prev);
            orx_buf_free(&fb);
        }
        free(schema);
        free(sys);
        free(user);
    }
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
