/*
 * local.c — the local backend: our engine on a GGUF file behind the orx_llm interface.
 *
 * Messages are rendered with the model's chat template (tokenizer.chat_template recognised, or the
 * one named in the params). A model without any chat template (a base model) is run in "raw"
 * mode: the message contents joined by blank lines — said in the backend name. Stop strings end
 * generation with the stop text removed. The KV cache of the previous request is reused for the
 * longest shared token prefix (prefix cache: same system prompt + same evidence → no recompute).
 *
 * Decoding drafts ahead (engine/draft.h): the bytes the JSON grammar forces next (jump-forward)
 * and tokens copied from earlier in the prompt or answer (n-gram lookup) are evaluated with the
 * token just chosen in one pass (orx_context_eval_decode: every row bit-identical to one-token
 * decoding); each row is then sampled exactly as step-by-step decoding samples it — same mask,
 * same budget, same random draws — and the draft is kept up to the first token the model did not
 * choose. The answer is the same as one token per pass, with fewer passes.
 */
#include "llm/backend.h"
#include "engine/draft.h"
#include "engine/engine.h"
#include "engine/grammar.h"
#include "util/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Handle
 * ========================================================================================== */
typedef struct local_llm {
    orx_llm            base;       /* must be first */
    orx_model         *model;      /* loaded GGUF */
    orx_tokenizer     *tok;        /* from the model's metadata */
    orx_context       *ctx;        /* KV cache, reused across requests */
    orx_chat_template  tmpl;       /* ORX_CHAT_UNKNOWN = raw mode */
    int32_t           *cached;     /* [n_cached] tokens whose KV is in ctx */
    int32_t            n_cached;
    int32_t            cap_cached; /* allocated entries of cached */
    int64_t            reused_tokens; /* total prompt tokens served from the prefix cache */
    orx_gvocab        *voc;        /* token trie for constrained decoding, built on first use */
    bool               prefix_cache; /* reuse the KV of a shared prompt prefix */
    bool               draft;      /* jump-forward + n-gram drafts verified in one pass */
    int64_t            n_drafted;  /* drafted tokens evaluated (all requests) */
    int64_t            n_accepted; /* of them kept */
    int64_t            n_passes;   /* decode passes (model evaluations after the prompt) */
    float             *prompt_logits; /* [n_vocab] logits after the cached prompt's last token */
    bool               have_prompt_logits; /* prompt_logits belong to cached[0..n_cached) */
} local_llm;

orx_local_params orx_local_default_params(void) {
    orx_local_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* ============================================================================================
 * Prompt rendering
 * ========================================================================================== */
static char *render(const local_llm *l, const orx_llm_request *req, orx_error *err) {
    orx_buf b;
    orx_buf_init(&b);
    if (l->tmpl == ORX_CHAT_UNKNOWN) {
        for (int i = 0; i < req->n_messages; i++) {
            if (i) orx_buf_puts(&b, "\n\n");
            orx_buf_puts(&b, req->messages[i].content);
        }
        return orx_buf_steal(&b);
    }
    orx_chat_msg *m = calloc((size_t)req->n_messages, sizeof *m);
    if (!m) { orx_fail(err, ORX_ERR_NOMEM, "out of memory"); return NULL; }
    for (int i = 0; i < req->n_messages; i++) {
        m[i].role = req->messages[i].role;
        m[i].content = req->messages[i].content;
    }
    int64_t need = orx_chat_apply(l->tmpl, m, (size_t)req->n_messages, true, NULL, 0);
    char *out = need >= 0 ? malloc((size_t)need + 1) : NULL;
    if (out) orx_chat_apply(l->tmpl, m, (size_t)req->n_messages, true, out, (size_t)need + 1);
    free(m);
    if (!out) orx_fail(err, ORX_ERR_NOMEM, "cannot render the chat template");
    return out;
}

static orx_status tokenize_all(const local_llm *l, const char *text, int32_t **ids, int32_t *n, orx_error *err) {
    size_t len = strlen(text);
    int32_t cap = (int32_t)(len + 16);
    *ids = malloc((size_t)cap * sizeof **ids);
    if (!*ids) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    int32_t got = orx_tokenize(l->tok, text, len, true, l->tmpl != ORX_CHAT_UNKNOWN, *ids, cap);
    if (got > cap) {
        int32_t *p = realloc(*ids, (size_t)got * sizeof *p);
        if (!p) { free(*ids); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
        *ids = p;
        got = orx_tokenize(l->tok, text, len, true, l->tmpl != ORX_CHAT_UNKNOWN, *ids, got);
    }
    if (got < 0) { free(*ids); return orx_fail(err, ORX_ERR_INVALID, "the prompt could not be tokenized"); }
    *n = got;
    return ORX_OK;
}

/* ============================================================================================
 * Generation with stop strings and streaming
 * ========================================================================================== */
/* ============================================================================================
 * Decoding loop: sample → (grammar mask) → stop strings → stream
 * ========================================================================================== */
typedef struct gen_state {
    const orx_llm_request *req;
    orx_buf  text;       /* generated text so far */
    size_t   emitted;    /* bytes of text already passed to on_token */
    size_t   hold;       /* longest stop string - 1: bytes held back until they cannot start a stop */
    bool     stopped;    /* a stop string matched */
    bool     cancelled;  /* on_token returned false */
} gen_state;

static bool emit_upto(gen_state *g, size_t upto) {
    if (upto <= g->emitted) return true;
    bool ok = true;
    if (g->req->on_token && g->req->stream) ok = g->req->on_token(g->req->user, g->text.data + g->emitted, upto - g->emitted);
    g->emitted = upto;
    if (!ok) g->cancelled = true;
    return ok;
}

/* Append a piece; returns false when generation must stop (stop string or cancel). */
static bool on_piece(gen_state *g, const char *piece, size_t len) {
    orx_buf_append(&g->text, piece, len);
    for (int i = 0; i < g->req->n_stop; i++) {
        const char *hit = g->text.data ? strstr(g->text.data, g->req->stop[i]) : NULL;
        if (hit) {
            g->text.len = (size_t)(hit - g->text.data);
            g->text.data[g->text.len] = '\0';
            g->stopped = true;
        }
    }
    if (g->stopped) { emit_upto(g, g->text.len); return false; }
    size_t safe = g->text.len > g->hold ? g->text.len - g->hold : 0;
    return emit_upto(g, safe);
}

static int32_t shared_prefix(const local_llm *l, const int32_t *ids, int32_t n) {
    int32_t k = 0;
    while (k < n && k < l->n_cached && ids[k] == l->cached[k]) k++;
    return k;
}

/* Constraint for response_format: the schema (or a generic JSON object schema). */
static orx_status make_grammar(const orx_llm_request *req, orx_grammar **g, orx_error *err) {
    *g = NULL;
    if (req->schema) return orx_grammar_compile(req->schema, g, err);
    if (req->json_object)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "response_format json_object needs a schema for the local backend "
                                                  "(use json_schema with explicit properties)");
    return ORX_OK;
}

static void remember_prompt(local_llm *l, const int32_t *ids, int32_t n) {
    if (n > l->cap_cached) {
        int32_t *p = realloc(l->cached, (size_t)n * sizeof *p);
        if (!p) { l->n_cached = 0; return; }
        l->cached = p;
        l->cap_cached = n;
    }
    memcpy(l->cached, ids, (size_t)n * sizeof *ids);
    l->n_cached = n;
}

/* ============================================================================================
 * Decoding: choose a token exactly as step-by-step decoding does, take it, draft ahead, verify
 * ========================================================================================== */
typedef struct dec {
    local_llm             *l;       /* backend */
    const orx_llm_request *req;     /* request */
    orx_sampler           *smp;     /* sampler (its random draws in decoding order) */
    orx_gstate            *gs;      /* grammar state after the taken tokens, or NULL */
    float                 *logits;  /* [nv] masked copy */
    int32_t                nv;      /* vocabulary */
    gen_state             *g;       /* text, stop strings, streaming */
    int32_t                n_gen;   /* tokens taken */
    double                 t0;      /* request start */
    double                *t_first; /* time to the first chosen token */
    int32_t               *hist;    /* [n_hist] prompt then taken tokens (n-gram drafts) */
    int32_t                n_hist, cap_hist;
    int32_t                dlen;    /* longest draft now: doubles while drafts are kept, shrinks on a miss */
    int32_t                misses;  /* drafts in a row of which nothing was kept */
    int32_t                pause;   /* passes left without drafting after misses (1, 2, 4 .. 16) */
} dec;

/* The token step-by-step decoding chooses at this logits row: grammar mask with the budget left,
 * then the sampler. */
static orx_status choose(dec *d, const float *row, int32_t *tok, orx_error *err) {
    if (!row) return orx_fail(err, ORX_ERR_INTERNAL, "no logits after evaluation");
    memcpy(d->logits, row, (size_t)d->nv * sizeof *row);
    if (d->gs && orx_grammar_mask(d->gs, d->l->voc, d->l->tok, d->logits, d->nv, d->req->max_tokens - d->n_gen) == 0)
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "constrained decoding reached a dead end after %d tokens: the model's "
                        "vocabulary cannot express the required JSON (e.g. no '{' token)", d->n_gen);
    *tok = orx_sampler_sample(d->smp, d->logits, d->nv);
    if (*tok < 0) return orx_fail(err, ORX_ERR_NOMEM, "sampling failed");
    if (*d->t_first < 0) *d->t_first = orx_now() - d->t0;
    return ORX_OK;
}

/* Take a chosen token: stream it and advance the grammar. False when generation ends with it (end
 * of generation — not taken —, a stop string, the value complete, the token budget spent). */
static bool take(dec *d, int32_t t, orx_status *st, orx_error *err) {
    if (orx_tokenizer_is_eog(d->l->tok, t)) return false;
    orx_sampler_accept(d->smp, t);
    d->n_gen++;
    if (d->n_hist < d->cap_hist) d->hist[d->n_hist++] = t;
    char piece[512];
    int32_t len = orx_token_to_piece(d->l->tok, t, piece, sizeof piece);
    if (len > (int32_t)sizeof piece) len = 0;
    if (d->gs && !orx_gstate_feed(d->gs, piece, (size_t)len)) {
        *st = orx_fail(err, ORX_ERR_INTERNAL, "grammar rejected a masked token");
        return false;
    }
    if (!on_piece(d->g, piece, (size_t)len)) return false;
    if (d->gs && orx_gstate_done(d->gs)) return false; /* the value is complete: nothing else may follow */
    return d->n_gen < d->req->max_tokens;
}

/* Whether the answer so far puts a space after ':' and ',' (the guess at those optional spaces). */
static bool space_style(const gen_state *g) {
    for (size_t i = g->text.len; i-- > 0;)
        if ((g->text.data[i] == ':' || g->text.data[i] == ',') && i + 1 < g->text.len) return g->text.data[i + 1] == ' ';
    return true;
}

/* Draft after the taken history; at most the tokens the budget still allows. Drafting adapts to
 * what the model keeps (a rejected token costs a share of a pass): the length doubles after a
 * fully kept draft, falls to what was kept + 1 after a partial one, and after a draft of which
 * nothing was kept, drafting pauses for 1, 2, 4 .. 16 passes. */
static int32_t draft(dec *d, int32_t *out) {
    if (!d->l->draft) return 0;
    if (d->pause > 0) {
        d->pause--;
        return 0;
    }
    orx_draft_params p = orx_draft_default_params();
    int32_t left = d->req->max_tokens - d->n_gen;
    if (p.max_tokens > d->dlen) p.max_tokens = d->dlen;
    if (p.max_tokens > left) p.max_tokens = left;
    orx_draft_ctx dc = {d->l->tok, d->l->voc, d->gs, space_style(d->g)};
    return orx_draft_make(&p, &dc, d->hist, d->n_hist, out);
}

static void adapt(dec *d, int32_t kept, int32_t nd) {
    int32_t max = orx_draft_default_params().max_tokens;
    if (kept == nd) d->dlen = d->dlen * 2 < max ? d->dlen * 2 : max;
    else d->dlen = kept + 1;
    d->misses = kept == 0 ? d->misses + 1 : 0;
    if (kept == 0) d->pause = 1 << (d->misses - 1 < 4 ? d->misses - 1 : 4);
}

/* Evaluate the pending token with a draft and keep the drafted tokens the model chooses itself;
 * *pend becomes the next chosen, not yet evaluated token. False when generation ended. */
static bool step_draft(dec *d, int32_t *pend, orx_status *st, orx_error *err) {
    int32_t batch[72], nd = draft(d, batch + 1);
    batch[0] = *pend;
    orx_context *c = d->l->ctx;
    if (nd > 0 && orx_context_n_past(c) + 1 + nd > orx_context_n_ctx(c)) nd = 0;
    d->l->n_passes++;
    if (nd == 0) {
        if ((*st = orx_context_eval(c, batch, 1, false, err))) return false;
        return !(*st = choose(d, orx_context_logits(c, -1), pend, err));
    }
    int32_t base = orx_context_n_past(c);
    if ((*st = orx_context_eval_decode(c, batch, 1 + nd, err))) return false;
    d->l->n_drafted += nd;
    for (int32_t i = 0; i < nd; i++) {
        int32_t t;
        if ((*st = choose(d, orx_context_logits(c, i), &t, err))) return false;
        if (t != batch[1 + i]) { /* the model's own choice: the rest of the draft is dropped */
            *pend = t;
            orx_context_truncate(c, base + 1 + i);
            adapt(d, i, nd);
            return true;
        }
        d->l->n_accepted++;
        if (!take(d, t, st, err)) return false;
    }
    adapt(d, nd, nd);
    return !(*st = choose(d, orx_context_logits(c, nd), pend, err));
}

static orx_status decode(local_llm *l, const orx_llm_request *req, orx_grammar *gram, const float *first, gen_state *g,
                         const int32_t *prompt, int32_t n_prompt, int32_t *n_gen, double t0, double *t_first,
                         orx_error *err) {
    orx_sampler_params sp = orx_sampler_default_params();
    sp.temp = req->temperature;
    sp.top_k = req->top_k > 0 ? req->top_k : 0;
    sp.top_p = req->top_p > 0 ? req->top_p : 1.0f;
    sp.min_p = 0.0f;
    sp.repeat_penalty = 1.0f;
    sp.seed = req->has_seed ? req->seed : 0x6f70656e7278ULL; /* fixed default: reproducible */
    dec d = {.l = l, .req = req, .g = g, .t0 = t0, .t_first = t_first, .nv = orx_context_n_vocab(l->ctx),
             .dlen = orx_draft_default_params().max_tokens};
    d.smp = orx_sampler_create(&sp);
    d.gs = gram ? orx_gstate_create(gram) : NULL;
    d.logits = malloc((size_t)d.nv * sizeof *d.logits);
    d.cap_hist = n_prompt + req->max_tokens;
    d.hist = malloc((size_t)(d.cap_hist > 0 ? d.cap_hist : 1) * sizeof *d.hist);
    orx_status st = ORX_OK;
    if (!d.smp || !d.logits || !d.hist || (gram && !d.gs)) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) {
        memcpy(d.hist, prompt, (size_t)n_prompt * sizeof *prompt);
        d.n_hist = n_prompt;
    }
    int32_t pend = -1;
    if (st == ORX_OK && req->max_tokens > 0) st = choose(&d, first ? first : orx_context_logits(l->ctx, -1), &pend, err);
    while (st == ORX_OK && pend >= 0 && take(&d, pend, &st, err))
        if (!step_draft(&d, &pend, &st, err)) break;
    *n_gen = d.n_gen;
    free(d.logits);
    free(d.hist);
    orx_gstate_free(d.gs);
    orx_sampler_free(d.smp);
    return st;
}

static orx_status local_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    local_llm *l = (local_llm *)llm;
    orx_grammar *gram = NULL;
    orx_status st = make_grammar(req, &gram, err);
    if (st != ORX_OK) return st;
    if (gram && req->max_tokens < orx_grammar_min_tokens(gram)) {
        int32_t need = orx_grammar_min_tokens(gram);
        orx_grammar_free(gram);
        return orx_fail(err, ORX_ERR_RANGE, "max_tokens %d is too small for the response schema (its shortest value needs up to %d tokens)",
                        req->max_tokens, need);
    }
    if (gram && !l->voc && !(l->voc = orx_gvocab_create(l->tok))) { orx_grammar_free(gram); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
    char *prompt = render(l, req, err);
    if (!prompt) { orx_grammar_free(gram); return err ? err->code : ORX_ERR_NOMEM; }
    int32_t *ids = NULL, n = 0;
    st = tokenize_all(l, prompt, &ids, &n, err);
    free(prompt);
    if (st != ORX_OK) { orx_grammar_free(gram); return st; }
    int32_t n_ctx = orx_context_n_ctx(l->ctx);
    if (n >= n_ctx) {
        free(ids);
        orx_grammar_free(gram);
        return orx_fail(err, ORX_ERR_RANGE, "the prompt (%d tokens) does not fit the context of %d tokens", n, n_ctx);
    }
    /* generation stops at the end of the context ("length") */
    orx_llm_request clamped = *req;
    if (n + clamped.max_tokens > n_ctx) clamped.max_tokens = n_ctx - n;
    req = &clamped;
    /* Prefix cache: keep the KV of the shared prefix, evaluate only the rest (at least 1 token). */
    int32_t keep = l->prefix_cache ? shared_prefix(l, ids, n) : 0;
    /* The same prompt again: reuse its KV and its saved last logits, so a repeated request gives
     * exactly the first answer (re-evaluating the last token alone would round differently). */
    bool same_prompt = keep == n && n == l->n_cached && l->have_prompt_logits;
    if (keep >= n && !same_prompt) keep = n - 1;
    if (orx_context_truncate(l->ctx, keep) != ORX_OK) { orx_context_reset(l->ctx); keep = 0; same_prompt = false; }
    l->reused_tokens += keep;
    gen_state g;
    memset(&g, 0, sizeof g);
    g.req = req;
    orx_buf_init(&g.text);
    for (int i = 0; i < req->n_stop; i++) {
        size_t sl = strlen(req->stop[i]);
        if (sl > g.hold + 1) g.hold = sl - 1;
    }
    double t_first = -1;
    int32_t n_gen = 0;
    double t0 = orx_now();
    if (!same_prompt) {
        l->have_prompt_logits = false;
        st = orx_context_eval(l->ctx, ids + keep, n - keep, false, err);
        if (st == ORX_OK) {
            const float *lg = orx_context_logits(l->ctx, -1);
            int32_t nv = orx_context_n_vocab(l->ctx);
            if (!l->prompt_logits) l->prompt_logits = malloc((size_t)nv * sizeof *l->prompt_logits);
            if (lg && l->prompt_logits) { memcpy(l->prompt_logits, lg, (size_t)nv * sizeof *lg); l->have_prompt_logits = true; }
        }
    }
    if (st == ORX_OK) {
        remember_prompt(l, ids, n);
        st = decode(l, req, gram, same_prompt ? l->prompt_logits : NULL, &g, ids, n, &n_gen, t0, &t_first, err);
    } else {
        l->n_cached = 0;
        l->have_prompt_logits = false;
    }
    free(ids);
    orx_grammar_free(gram);
    if (st != ORX_OK) { orx_buf_clear(&g.text); return st; }
    if (!g.stopped && !g.cancelled) emit_upto(&g, g.text.len);
    out->content = orx_buf_steal(&g.text);
    snprintf(out->finish_reason, sizeof out->finish_reason, "%s",
             g.cancelled ? "cancelled" : g.stopped ? "stop" : n_gen >= req->max_tokens ? "length" : "stop");
    out->prompt_tokens = n;
    out->cached_tokens = keep;
    out->completion_tokens = n_gen;
    out->t_first_token_s = t_first;
    return ORX_OK;
}

static void local_free(orx_llm *llm) {
    local_llm *l = (local_llm *)llm;
    if (getenv("ORX_DRAFT_STATS") && l->n_passes)
        fprintf(stderr, "drafts: %lld decode passes, %lld drafted tokens, %lld kept (%.0f %%)\n", (long long)l->n_passes,
                (long long)l->n_drafted, (long long)l->n_accepted,
                l->n_drafted ? 100.0 * (double)l->n_accepted / (double)l->n_drafted : 0.0);
    orx_gvocab_free(l->voc);
    free(l->prompt_logits);
    orx_context_free(l->ctx);
    orx_tokenizer_free(l->tok);
    orx_model_free(l->model);
    free(l->cached);
    free(l);
}

static int local_count_tokens(orx_llm *llm, const char *text) {
    local_llm *l = (local_llm *)llm;
    size_t len = strlen(text);
    return (int)orx_tokenize(l->tok, text, len, false, false, NULL, 0);
}

static const orx_llm_vtable LOCAL_VT = {"local", local_chat, local_free, local_count_tokens};

/* ============================================================================================
 * Create
 * ========================================================================================== */
orx_status orx_llm_local_create(const orx_local_params *p, orx_llm **out, orx_error *err) {
    *out = NULL;
    if (!p || !p->model_path) return orx_fail(err, ORX_ERR_USAGE, "the local backend needs a model file (-m)");
    local_llm *l = calloc(1, sizeof *l);
    if (!l) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    l->base.vt = &LOCAL_VT;
    l->prefix_cache = !p->no_prefix_cache;
    l->draft = !p->no_draft;
    orx_status st = orx_model_load(p->model_path, &l->model, err);
    if (st == ORX_OK) st = orx_tokenizer_load(orx_model_gguf(l->model), &l->tok, err);
    if (st == ORX_OK) {
        if (p->chat_template) {
            l->tmpl = orx_chat_template_by_name(p->chat_template);
            if (l->tmpl == ORX_CHAT_UNKNOWN)
                st = orx_fail(err, ORX_ERR_USAGE, "unknown chat template '%s' (llama2, llama3, mistral, chatml, gemma, phi3, zephyr, vicuna, qwen3)", p->chat_template);
        } else if (orx_gguf_find_key(orx_model_gguf(l->model), "tokenizer.chat_template") >= 0) {
            st = orx_chat_template_of(orx_model_gguf(l->model), &l->tmpl, err);
        } else {
            l->tmpl = ORX_CHAT_UNKNOWN; /* base model: raw mode */
        }
    }
    if (st == ORX_OK) {
        orx_context_params cp = orx_context_default_params();
        if (p->n_threads > 0) cp.n_threads = p->n_threads;
        if (p->n_ctx > 0) cp.n_ctx = p->n_ctx;
        st = orx_context_create(l->model, &cp, &l->ctx, err);
    }
    if (st != ORX_OK) { local_free(&l->base); return st; }
    l->base.n_ctx = orx_context_n_ctx(l->ctx);
    const char *slash = strrchr(p->model_path, '/');
    snprintf(l->base.name, sizeof l->base.name, "%s%s", slash ? slash + 1 : p->model_path,
             l->tmpl == ORX_CHAT_UNKNOWN ? " (raw: no chat template)" : "");
    *out = &l->base;
    return ORX_OK;
}
