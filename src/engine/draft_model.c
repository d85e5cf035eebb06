/*
 * draft_model.c — speculative decoding with a draft model (engine.h: orx_drafter; draft.h: the
 * proposals the decode loop asks for). The draft model runs in its own context, which holds a
 * prefix of the target's tokens: before each proposal it is brought in step (cut back to the
 * tokens both share, the rest evaluated in one batch), then it proposes greedily, one pass per
 * token, under a private copy of the grammar state. Its numerics do not matter for exactness: the
 * target verifies every proposal exactly as step-by-step decoding chooses.
 */
#include "engine/draft.h"
#include "engine/engine.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define DRAFTER_MAX 64 /* longest proposal (the decode loop's batch holds 1 + 64 + spare) */

struct orx_drafter {
    orx_context *c;           /* the draft model's KV cache */
    int32_t      nv;          /* logits per row */
    int32_t     *toks;        /* [n_toks] tokens whose KV is in c (n_toks == n_past) */
    int32_t      n_toks, cap; /* cap = the context's size */
    bool         have_logits; /* the context's last logits belong to toks[n_toks - 1] */
    float       *row;         /* [nv] masked copy of a logits row */
    int32_t      max;         /* longest proposal */
    int32_t      dlen;        /* current proposal length (adapts) */
    int32_t      misses;      /* proposals in a row of which nothing was kept */
    int32_t      pause;       /* proposals left to skip after misses */
};

/* ============================================================================================
 * Vocabulary check
 * ========================================================================================== */
orx_status orx_draft_vocab_check(const orx_model *target, const char *target_name, const orx_model *draft,
                                 const char *draft_name, orx_error *err) {
    static const char *KEY = "tokenizer.ggml.tokens";
    const char *tn = target_name ? target_name : "the target model", *dn = draft_name ? draft_name : "the draft model";
    int32_t nt = orx_model_hparams(target)->n_vocab, nd = orx_model_hparams(draft)->n_vocab;
    if (nt != nd)
        return orx_fail(err, ORX_ERR_INVALID, "draft model %s has %d tokens, the model %s %d: a draft model must "
                        "have the same vocabulary", dn, nd, tn, nt);
    const orx_gguf *gt = orx_model_gguf(target), *gd = orx_model_gguf(draft);
    orx_gguf_vtype et, ed;
    uint64_t ct = 0, cd = 0;
    bool ht = orx_gguf_get_arr(gt, KEY, &et, &ct), hd = orx_gguf_get_arr(gd, KEY, &ed, &cd);
    if (!ht || !hd)
        return orx_fail(err, ORX_ERR_INVALID, "%s has no token list (%s): cannot check that draft model %s shares "
                        "the vocabulary of %s", ht ? dn : tn, KEY, dn, tn);
    if (ct != cd)
        return orx_fail(err, ORX_ERR_INVALID, "draft model %s lists %llu tokens, the model %s %llu: a draft model "
                        "must have the same vocabulary", dn, (unsigned long long)cd, tn, (unsigned long long)ct);
    for (uint64_t i = 0; i < ct; i++) {
        const char *a = NULL, *b = NULL;
        uint64_t la = 0, lb = 0;
        bool oa = orx_gguf_arr_str(gt, KEY, i, &a, &la), ob = orx_gguf_arr_str(gd, KEY, i, &b, &lb);
        if (oa && ob && la == lb && !memcmp(a, b, (size_t)la)) continue;
        return orx_fail(err, ORX_ERR_INVALID, "draft model %s does not share the vocabulary of %s: token %llu is "
                        "'%.*s' there and '%.*s' in the draft", dn, tn, (unsigned long long)i, oa ? (int)(la < 40 ? la : 40) : 0,
                        oa ? a : "", ob ? (int)(lb < 40 ? lb : 40) : 0, ob ? b : "");
    }
    return ORX_OK;
}

/* ============================================================================================
 * Drafter
 * ========================================================================================== */
orx_status orx_drafter_create(const orx_model *draft, const orx_context_params *cp, int32_t max_tokens,
                              orx_drafter **out, orx_error *err) {
    *out = NULL;
    if (max_tokens < 1 || max_tokens > DRAFTER_MAX)
        return orx_fail(err, ORX_ERR_RANGE, "draft length %d outside 1..%d", max_tokens, DRAFTER_MAX);
    orx_drafter *d = calloc(1, sizeof *d);
    if (!d) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_status st = orx_context_create(draft, cp, &d->c, err);
    if (st == ORX_OK) {
        d->nv = orx_context_n_vocab(d->c);
        d->cap = orx_context_n_ctx(d->c);
        d->toks = malloc((size_t)d->cap * sizeof *d->toks);
        d->row = malloc((size_t)d->nv * sizeof *d->row);
        if (!d->toks || !d->row) st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    }
    if (st != ORX_OK) {
        orx_drafter_free(d);
        return st;
    }
    d->max = d->dlen = max_tokens;
    *out = d;
    return ORX_OK;
}

void orx_drafter_free(orx_drafter *d) {
    if (!d) return;
    orx_context_free(d->c);
    free(d->toks);
    free(d->row);
    free(d);
}

static void forget(orx_drafter *d) {
    orx_context_reset(d->c);
    d->n_toks = 0;
    d->have_logits = false;
}

/* decode: the tokens missing are those of decoding (kept drafts, the pending token): evaluated as
 * one-token decoding computes them, as the target did, so that a draft that is the target's own
 * model proposes exactly its greedy tokens; else (a prompt) in batches, as the target did too. */
static orx_status sync(orx_drafter *d, const int32_t *tokens, int32_t n, bool decode, orx_error *err) {
    if (n <= 0) return orx_fail(err, ORX_ERR_USAGE, "drafter: no tokens");
    if (n > d->cap) return orx_fail(err, ORX_ERR_RANGE, "drafter: %d tokens exceed its context of %d", n, d->cap);
    int32_t k = 0;
    while (k < n && k < d->n_toks && d->toks[k] == tokens[k]) k++;
    if (k == n && d->n_toks == n && d->have_logits) return ORX_OK;
    if (k >= n) k = n - 1; /* the last token is evaluated again for its logits */
    if (orx_context_truncate(d->c, k) != ORX_OK) k = 0, orx_context_reset(d->c);
    d->n_toks = k;
    d->have_logits = false;
    orx_status st = decode && n - k <= DRAFTER_MAX + 1 ? orx_context_eval_decode(d->c, tokens + k, n - k, err)
                                         : orx_context_eval(d->c, tokens + k, n - k, false, err);
    if (st != ORX_OK) {
        forget(d);
        return st;
    }
    memcpy(d->toks + k, tokens + k, (size_t)(n - k) * sizeof *tokens);
    d->n_toks = n;
    d->have_logits = true;
    return ORX_OK;
}

orx_status orx_drafter_sync(orx_drafter *d, const int32_t *tokens, int32_t n, orx_error *err) {
    return sync(d, tokens, n, false, err);
}

/* ============================================================================================
 * Proposals
 * ========================================================================================== */
orx_status orx_drafter_propose(orx_drafter *d, const orx_drafter_req *r, int32_t *out, int32_t *n, orx_error *err) {
    *n = 0;
    if (d->pause > 0) {
        d->pause--;
        return ORX_OK;
    }
    int32_t max = r->max < d->dlen ? r->max : d->dlen;
    if (max <= 0 || r->n_hist <= 0 || r->n_hist + max > d->cap) return ORX_OK;
    if (r->gs && (!r->voc || orx_gstate_done(r->gs))) return ORX_OK;
    orx_status st = sync(d, r->hist, r->n_hist, true, err);
    if (st != ORX_OK) return st;
    orx_gstate *g = NULL;
    if (r->gs && !(g = orx_gstate_dup(r->gs))) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    char piece[512];
    int32_t k = 0;
    while (k < max) {
        const float *row = orx_context_logits(d->c, -1);
        if (!row) break;
        if (g) {
            memcpy(d->row, row, (size_t)d->nv * sizeof *row);
            if (orx_grammar_mask(g, r->voc, r->tok, d->row, d->nv, r->budget - k) == 0) break;
            row = d->row;
        }
        int32_t t = orx_argmax(row, d->nv);
        if (r->tok && orx_tokenizer_is_eog(r->tok, t)) break;
        if (g) {
            int32_t len = orx_token_to_piece(r->tok, t, piece, (int32_t)sizeof piece);
            if (len <= 0 || len > (int32_t)sizeof piece || !orx_gstate_feed(g, piece, (size_t)len)) break;
        }
        out[k++] = t;
        if (k == max || (g && orx_gstate_done(g))) break;
        if ((st = orx_context_eval(d->c, &t, 1, false, err)) != ORX_OK) {
            forget(d);
            break;
        }
        d->toks[d->n_toks++] = t;
    }
    orx_gstate_free(g);
    if (st != ORX_OK) return st;
    *n = k;
    return ORX_OK;
}

void orx_drafter_adapt(orx_drafter *d, int32_t kept, int32_t nd) {
    if (kept == nd) d->dlen = d->dlen * 2 < d->max ? d->dlen * 2 : d->max;
    else d->dlen = kept + 1;
    d->misses = kept == 0 ? d->misses + 1 : 0;
    if (kept == 0) d->pause = 1 << (d->misses - 1 < 2 ? d->misses - 1 : 2);
}
