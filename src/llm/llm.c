/* llm.c — the backend-independent part of the LLM interface. */
#include "llm/backend.h"
#include <stdlib.h>
#include <string.h>

orx_llm_request orx_llm_default_request(void) {
    orx_llm_request r;
    memset(&r, 0, sizeof r);
    r.max_tokens = 512;
    r.temperature = 0.0f;
    r.top_p = 1.0f;
    r.schema_name = "response";
    return r;
}

void orx_llm_response_clear(orx_llm_response *r) {
    if (!r) return;
    free(r->content);
    r->content = NULL;
    free(r->request_body);
    r->request_body = NULL;
}

orx_status orx_llm_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    memset(out, 0, sizeof *out);
    out->prompt_tokens = out->completion_tokens = -1;
    out->t_first_token_s = -1;
    if (!llm || !req || req->n_messages <= 0 || !req->messages)
        return orx_fail(err, ORX_ERR_USAGE, "chat request needs at least one message");
    if (req->max_tokens <= 0)
        return orx_fail(err, ORX_ERR_RANGE, "max_tokens must be positive (got %d)", req->max_tokens);
    for (int i = 0; i < req->n_messages; i++)
        if (!req->messages[i].role || !req->messages[i].content)
            return orx_fail(err, ORX_ERR_USAGE, "message %d has no role or content", i);
    double t0 = orx_now();
    orx_status st = llm->vt->chat(llm, req, out, err);
    out->t_total_s = orx_now() - t0;
    /* on failure no content; the request's hash (and body, when kept) still say what was sent */
    if (st != ORX_OK) { free(out->content); out->content = NULL; }
    return st;
}

void orx_llm_free(orx_llm *llm) {
    if (llm) llm->vt->free(llm);
}

const char *orx_llm_name(const orx_llm *llm) { return llm ? llm->name : ""; }
const char *orx_llm_kind(const orx_llm *llm) { return llm && llm->vt && llm->vt->kind ? llm->vt->kind : ""; }
int orx_llm_n_ctx(const orx_llm *llm) { return llm ? llm->n_ctx : 0; }
void orx_llm_set_n_ctx(orx_llm *llm, int n_ctx) { if (llm) llm->n_ctx = n_ctx; }
const orx_llm_privacy *orx_llm_get_privacy(const orx_llm *llm) {
    static const orx_llm_privacy none;
    return llm ? &llm->privacy : &none;
}

int orx_llm_count_tokens(orx_llm *llm, const char *text) {
    return llm && llm->vt && llm->vt->count_tokens && text ? llm->vt->count_tokens(llm, text) : -1;
}
