/*
 * backend.h — implementing an orx_llm backend (PRIVATE to src/llm, and to the few places that
 * implement a backend: the server's model gate, test fakes driving the real interface). A backend
 * embeds struct orx_llm as its first member, sets vt, name, n_ctx and privacy, and returns a
 * pointer to it; orx_llm_free calls vt->free. Callers use llm/llm.h only.
 */
#ifndef ORX_LLM_BACKEND_H
#define ORX_LLM_BACKEND_H

#include "llm/llm.h"

typedef struct orx_llm_vtable {
    const char *kind; /* "openai" | "local" */
    orx_status (*chat)(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err);
    void (*free)(orx_llm *llm);
    /* tokens of text in the model's vocabulary (no special tokens), -1 when it cannot say */
    int (*count_tokens)(orx_llm *llm, const char *text);
} orx_llm_vtable;

struct orx_llm {
    const orx_llm_vtable *vt;   /* implementation */
    char                  name[256]; /* model name for reports and audit ("model.gguf", "gpt-4o") */
    int                   n_ctx;     /* context window in tokens, 0 when unknown (remote) */
    orx_llm_privacy       privacy;   /* endpoint, remote or not, consent, redaction */
};

#endif
