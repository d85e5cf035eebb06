/*
 * local.c — the local backend: our engine on a GGUF file behind the orx_llm interface.
 *
 * Messages are rendered with the model's chat template (tokenizer.chat_template recognised, or the
 * one named in the params). A model without any chat template (a base model) is run in "raw"
 * mode: the message contents joined by blank lines — said in the backend name. Stop strings end
 * generation with the stop text removed. Several KV caches (slots, orx_local_params.n_slots) keep
 * earlier prompts; a request takes the slot sharing its longest token prefix and evaluates only the
 * rest (prefix cache: same system prompt + same evidence → no recompute).
 *
 * Decoding is the engine's loop (orx_decode, engine/generate.c) with the JSON grammar and drafts
 * (jump-forward over the bytes the grammar forces, n-gram copies from the prompt), verified in one
 * pass: the answer is the same as one token per pass, with fewer passes. With a draft model
 * (orx_local_params.draft_path), each slot has a drafter whose context follows the slot's.
 */
#include "llm/backend.h"
#include "engine/engine.h"
#include "util/util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Handle
 * ========================================================================================== */
#define ORX_LOCAL_MAX_SLOTS 16

/* One KV cache and the prompt whose keys and values it holds (the prompt-prefix cache). A request
 * goes to the slot sharing the longest token prefix with its prompt (ties: an unused slot, then the
 * least recently used), so alternating prompts (a recommend prompt, a chat) each keep their cache. */
typedef struct lslot {
    orx_context *ctx;               /* NULL until first used */
    orx_drafter *drafter;           /* the draft model's context for this slot, or NULL */
    int32_t     *cached;            /* [n_cached] prompt tokens whose KV is in ctx */
    int32_t      n_cached;
    int32_t      cap_cached;        /* allocated entries of cached */
    float       *prompt_logits;     /* [n_vocab] logits after the cached prompt's last token */
    bool         have_prompt_logits; /* prompt_logits belong to cached[0..n_cached) */
    uint64_t     used;              /* clock of the last request */
} lslot;

typedef struct local_llm {
    orx_llm            base;       /* must be first */
    orx_model         *model;      /* loaded GGUF */
    orx_tokenizer     *tok;        /* from the model's metadata */
    lslot              slots[ORX_LOCAL_MAX_SLOTS]; /* KV caches kept across requests */
    int                n_slots;    /* slots in use (1 .. ORX_LOCAL_MAX_SLOTS) */
    uint64_t           clock;      /* request counter, for least-recently-used eviction */
    int32_t            ctx_threads; /* context parameters of new slots (0 = engine defaults) */
    int32_t            ctx_n;
    orx_chat_template  tmpl;       /* ORX_CHAT_UNKNOWN = raw mode */
    int64_t            reused_tokens; /* total prompt tokens served from the prefix cache */
    orx_gvocab        *voc;        /* token trie for constrained decoding, built on first use */
    bool               prefix_cache; /* reuse the KV of a shared prompt prefix */
    bool               draft;      /* jump-forward + n-gram drafts verified in one pass */
    char              *replay;     /* benchmarks: the answer replayed under a schema, or NULL */
    orx_model         *dmodel;     /* draft model, or NULL */
    int32_t            draft_max;  /* its longest draft */
    pthread_mutex_t    mu;         /* one chat at a time: the slots, clock and vocabulary trie are
                                      per handle (calls from several threads wait their turn) */
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
 * Generation: the engine's decode loop, with stop strings and streaming here
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

static int32_t shared_prefix(const lslot *sl, const int32_t *ids, int32_t n) {
    int32_t k = 0;
    while (k < n && k < sl->n_cached && ids[k] == sl->cached[k]) k++;
    return k;
}

/* The slot for a prompt: the one sharing the longest prefix with it when that is at least half of
 * the slot's cached prompt (the prompt continues or mostly repeats it); else a free slot (never
 * used, or empty), so that an unrelated prompt does not overwrite another's cache; else the least
 * recently used. Its context is created on first use. */
static lslot *pick_slot(local_llm *l, const int32_t *ids, int32_t n, int32_t *keep, orx_error *err) {
    lslot *best = NULL, *free_sl = NULL, *lru = NULL;
    int32_t bk = -1;
    for (int i = 0; i < l->n_slots; i++) {
        lslot *sl = &l->slots[i];
        int32_t k = l->prefix_cache && sl->ctx ? shared_prefix(sl, ids, n) : 0;
        if (k > bk) best = sl, bk = k;
        bool is_free = !sl->ctx || sl->n_cached == 0;
        if (is_free && (!free_sl || (sl->ctx && !free_sl->ctx))) free_sl = sl; /* an existing context first */
        if (!is_free && (!lru || sl->used < lru->used)) lru = sl;
    }
    lslot *use = bk > 0 && 2 * bk >= best->n_cached ? best : free_sl ? free_sl : lru ? lru : best;
    if (!use->ctx) {
        orx_context_params cp = orx_context_default_params();
        if (l->ctx_threads > 0) cp.n_threads = l->ctx_threads;
        if (l->ctx_n > 0) cp.n_ctx = l->ctx_n;
        if (orx_context_create(l->model, &cp, &use->ctx, err) != ORX_OK) return NULL;
    }
    if (l->dmodel && !use->drafter) {
        orx_context_params cp = orx_context_default_params();
        if (l->ctx_threads > 0) cp.n_threads = l->ctx_threads;
        cp.n_ctx = orx_context_n_ctx(use->ctx);
        cp.share_threads = use->ctx; /* one set of workers: the two models take turns */
        if (orx_drafter_create(l->dmodel, &cp, l->draft_max, &use->drafter, err) != ORX_OK) return NULL;
    }
    use->used = ++l->clock;
    *keep = l->prefix_cache ? shared_prefix(use, ids, n) : 0;
    return use;
}

static void slot_clear(lslot *sl) {
    free(sl->prompt_logits);
    orx_drafter_free(sl->drafter);
    orx_context_free(sl->ctx);
    free(sl->cached);
    memset(sl, 0, sizeof *sl);
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

static void remember_prompt(lslot *sl, const int32_t *ids, int32_t n) {
    if (n > sl->cap_cached) {
        int32_t *p = realloc(sl->cached, (size_t)n * sizeof *p);
        if (!p) { sl->n_cached = 0; return; }
        sl->cached = p;
        sl->cap_cached = n;
    }
    memcpy(sl->cached, ids, (size_t)n * sizeof *ids);
    sl->n_cached = n;
}

/* on_token of the decode loop: the piece into the text, stop strings, streaming */
static bool on_decoded(void *ud, int32_t token, const char *piece, size_t len) {
    (void)token;
    return on_piece(ud, piece, len);
}

static orx_status decode(local_llm *l, lslot *sl, const orx_llm_request *req, orx_grammar *gram, const float *first, gen_state *g,
                         const int32_t *prompt, int32_t n_prompt, orx_decode_stats *ds, double t0, double *t_first,
                         orx_error *err) {
    orx_decode_params dp = orx_decode_default_params();
    dp.n_predict = req->max_tokens;
    dp.sampling.temp = req->temperature;
    dp.sampling.top_k = req->top_k > 0 ? req->top_k : 0;
    dp.sampling.top_p = req->top_p > 0 ? req->top_p : 1.0f;
    dp.sampling.min_p = 0.0f;
    dp.sampling.repeat_penalty = 1.0f;
    dp.sampling.seed = req->has_seed ? req->seed : 0x6f70656e7278ULL; /* fixed default: reproducible */
    dp.grammar = gram;
    dp.gvocab = l->voc;
    dp.draft = l->draft;
    dp.drafter = sl->drafter;
    dp.history = prompt;
    dp.n_history = n_prompt;
    dp.replay = l->replay;
    dp.n_replay = l->replay ? strlen(l->replay) : 0;
    double t1 = orx_now();
    orx_status st = orx_decode(sl->ctx, l->tok, first, &dp, on_decoded, g, ds, err);
    if (ds->t_first_s >= 0) *t_first = (t1 - t0) + ds->t_first_s;
    return st;
}

static orx_status local_chat_locked(local_llm *l, const orx_llm_request *req, orx_llm_response *out,
                                    orx_error *err) {
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
    int32_t n_ctx = l->base.n_ctx;
    if (n >= n_ctx) {
        free(ids);
        orx_grammar_free(gram);
        return orx_fail(err, ORX_ERR_RANGE, "the prompt (%d tokens) does not fit the context of %d tokens", n, n_ctx);
    }
    /* generation stops at the end of the context ("length") */
    orx_llm_request clamped = *req;
    if (n + clamped.max_tokens > n_ctx) clamped.max_tokens = n_ctx - n;
    req = &clamped;
    /* Prefix cache: the slot with the longest shared prefix keeps its KV of it; only the rest is
     * evaluated (at least 1 token). */
    int32_t keep = 0;
    lslot *sl = pick_slot(l, ids, n, &keep, err);
    if (!sl) {
        free(ids);
        orx_grammar_free(gram);
        return err ? err->code : ORX_ERR_NOMEM;
    }
    orx_context *ctx = sl->ctx;
    /* The same prompt again: reuse its KV and its saved last logits, so a repeated request gives
     * exactly the first answer (re-evaluating the last token alone would round differently). */
    bool same_prompt = keep == n && n == sl->n_cached && sl->have_prompt_logits;
    if (keep >= n && !same_prompt) keep = n - 1;
    if (orx_context_truncate(ctx, keep) != ORX_OK) { orx_context_reset(ctx); keep = 0; same_prompt = false; }
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
    orx_decode_stats ds;
    memset(&ds, 0, sizeof ds);
    double t0 = orx_now();
    if (!same_prompt) {
        sl->have_prompt_logits = false;
        st = orx_context_eval(ctx, ids + keep, n - keep, false, err);
        if (st == ORX_OK) {
            const float *lg = orx_context_logits(ctx, -1);
            int32_t nv = orx_context_n_vocab(ctx);
            if (!sl->prompt_logits) sl->prompt_logits = malloc((size_t)nv * sizeof *sl->prompt_logits);
            if (lg && sl->prompt_logits) { memcpy(sl->prompt_logits, lg, (size_t)nv * sizeof *lg); sl->have_prompt_logits = true; }
        }
    }
    if (st == ORX_OK) {
        remember_prompt(sl, ids, n);
        st = decode(l, sl, req, gram, same_prompt ? sl->prompt_logits : NULL, &g, ids, n, &ds, t0, &t_first, err);
    } else {
        sl->n_cached = 0;
        sl->have_prompt_logits = false;
    }
    free(ids);
    orx_grammar_free(gram);
    if (st != ORX_OK) { orx_buf_clear(&g.text); return st; }
    if (!g.stopped && !g.cancelled) emit_upto(&g, g.text.len);
    out->content = orx_buf_steal(&g.text);
    snprintf(out->finish_reason, sizeof out->finish_reason, "%s",
             g.cancelled ? "cancelled" : g.stopped ? "stop" : ds.n_gen >= req->max_tokens ? "length" : "stop");
    out->prompt_tokens = n;
    out->cached_tokens = keep;
    out->completion_tokens = ds.n_gen;
    out->t_first_token_s = t_first;
    out->decode_passes = ds.n_passes;
    out->forced_tokens = ds.n_forced;
    out->drafted_tokens = ds.n_drafted;
    out->accepted_tokens = ds.n_accepted;
    out->model_drafted_tokens = ds.n_model_drafted;
    out->model_accepted_tokens = ds.n_model_accepted;
    return ORX_OK;
}

static orx_status local_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    local_llm *l = (local_llm *)llm;
    pthread_mutex_lock(&l->mu);
    orx_status st = local_chat_locked(l, req, out, err);
    pthread_mutex_unlock(&l->mu);
    return st;
}

static void local_free(orx_llm *llm) {
    local_llm *l = (local_llm *)llm;
    pthread_mutex_destroy(&l->mu);
    orx_gvocab_free(l->voc);
    free(l->replay);
    for (int i = 0; i < ORX_LOCAL_MAX_SLOTS; i++) slot_clear(&l->slots[i]);
    orx_tokenizer_free(l->tok);
    orx_model_free(l->dmodel);
    orx_model_free(l->model);
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
    pthread_mutex_init(&l->mu, NULL);
    l->prefix_cache = !p->no_prefix_cache;
    l->n_slots = p->n_slots < 1 ? 1 : p->n_slots > ORX_LOCAL_MAX_SLOTS ? ORX_LOCAL_MAX_SLOTS : p->n_slots;
    l->draft = !p->no_draft;
    if (p->replay && !(l->replay = strdup(p->replay))) {
        pthread_mutex_destroy(&l->mu);
        free(l);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    orx_status st = orx_model_load(p->model_path, &l->model, err);
    if (st == ORX_OK) st = orx_tokenizer_load(orx_model_gguf(l->model), &l->tok, err);
    if (st == ORX_OK && p->draft_path) {
        l->draft_max = p->draft_max > 0 ? p->draft_max : 8;
        if (l->draft_max > 64) st = orx_fail(err, ORX_ERR_RANGE, "draft length %d outside 1..64", p->draft_max);
        if (st == ORX_OK) st = orx_model_load(p->draft_path, &l->dmodel, err);
        if (st == ORX_OK) st = orx_draft_vocab_check(l->model, p->model_path, l->dmodel, p->draft_path, err);
    }
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
    if (st == ORX_OK) { /* the first slot now: load errors and the context size are known at create */
        int32_t keep;
        l->ctx_threads = p->n_threads > 0 ? p->n_threads : 0;
        l->ctx_n = p->n_ctx > 0 ? p->n_ctx : 0;
        if (!pick_slot(l, NULL, 0, &keep, err)) st = err ? err->code : ORX_ERR_NOMEM;
    }
    if (st != ORX_OK) { local_free(&l->base); return st; }
    l->base.n_ctx = orx_context_n_ctx(l->slots[0].ctx);
    const char *slash = strrchr(p->model_path, '/');
    snprintf(l->base.name, sizeof l->base.name, "%s%s", slash ? slash + 1 : p->model_path,
             l->tmpl == ORX_CHAT_UNKNOWN ? " (raw: no chat template)" : "");
    *out = &l->base;
    return ORX_OK;
}
