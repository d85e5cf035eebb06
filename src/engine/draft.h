/*
 * draft.h — tokens decoding can take without sampling each: the grammar's forced run, and drafted
 * continuations for speculative decoding.
 *   - forced run (jump-forward): the bytes a JSON-schema grammar forces next (keys, quotes,
 *     braces, the rest of an enum value once only one matches) as the tokenizer spells them.
 *     Decoding takes them as they are, step by step or as one batch (orx_draft_forced);
 *   - drafts, verified by the model in one pass (orx_context_eval_decode) and kept only where the
 *     model, sampling exactly as it would step by step, chooses the same token: the forced bytes
 *     after a guessed optional space, then text lookup: the bytes that followed the longest earlier
 *     match of the last bytes of the history's text (prompt + answer so far), tokenized as the
 *     model writes them (answers copy drug names, doses and label phrases from the evidence in the
 *     prompt, often after a different first byte: a quote where the source has a space), else
 *     n-gram lookup: the tokens that followed the latest earlier occurrence of the last n tokens.
 * A draft never holds an end-of-generation token and, under a grammar, only tokens the grammar
 * accepts in sequence.
 */
#ifndef ORX_ENGINE_DRAFT_H
#define ORX_ENGINE_DRAFT_H

#include "engine/grammar.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct orx_draft_params {
    int32_t max_tokens; /* longest draft (0: no drafting) */
    int32_t ngram_max;  /* longest suffix looked up (0: no n-gram drafts) */
    int32_t ngram_min;  /* shortest suffix accepted as a match */
    int32_t text_min;   /* text lookup: shortest byte suffix accepted as a match (0: off) */
    bool    forced;     /* draft the grammar's forced bytes (jump-forward) */
} orx_draft_params;

orx_draft_params orx_draft_default_params(void); /* 8 tokens, n-grams 4..2, text matches of >= 4 bytes, forced */

typedef struct orx_draft_ctx {
    const orx_tokenizer *tok;   /* token texts, end-of-generation */
    const orx_gvocab    *voc;   /* longest-match lookup (needed for forced drafts), or NULL */
    const orx_gstate    *gs;    /* grammar state after the history, or NULL (no grammar) */
    bool                 space; /* at an optional space after ':' or ',', guess a space */
    const char          *text;  /* the history's text (prompt + answer so far, bytes), or NULL */
    size_t               n_text;
} orx_draft_ctx;

#define ORX_FORCED_MAX 256 /* longest forced run handled at once (bytes, and so tokens) */

/* The tokens that spell the bytes the grammar state dc->gs forces next, with no guess (up to the
 * first byte a choice could change, at most ORX_FORCED_MAX): the tokenizer's own encoding when its
 * pieces spell them exactly, else the vocabulary's longest matches. Decoding takes them without
 * sampling (jump-forward). Returns the count (0: the next byte is open, or no grammar). */
int32_t orx_draft_forced(const orx_draft_ctx *dc, int32_t max, int32_t *out);

/* Draft up to p->max_tokens tokens continuing hist[0..n_hist) into out; returns the count. */
int32_t orx_draft_make(const orx_draft_params *p, const orx_draft_ctx *dc, const int32_t *hist, int32_t n_hist,
                       int32_t *out);

/* Draft-model proposals (draft_model.c; the drafter itself: engine.h). */
typedef struct orx_drafter orx_drafter;
typedef struct orx_drafter_req {
    const int32_t       *hist;   /* the target context's tokens, the token being evaluated last */
    int32_t              n_hist;
    const orx_gstate    *gs;     /* grammar state after hist, or NULL */
    const orx_gvocab    *voc;    /* trie for the grammar mask (with gs) */
    const orx_tokenizer *tok;    /* pieces, end of generation */
    int32_t              max;    /* tokens the caller can take (budget, context room) */
    int32_t              budget; /* tokens that may still be generated after hist (grammar mask) */
} orx_drafter_req;

/* Up to min(r->max, the drafter's current length) tokens, greedy on the draft model's logits
 * under the grammar mask (a private copy of the state) and the budget, one draft pass each,
 * stopping before an end-of-generation token and after a complete value; *n = the count (0 while
 * drafting pauses after misses). */
orx_status orx_drafter_propose(orx_drafter *d, const orx_drafter_req *r, int32_t *out, int32_t *n, orx_error *err);
/* What the target kept of the last proposal (kept of nd): the length doubles after a fully kept
 * draft, falls to kept + 1 after a partial one; after drafts of which nothing was kept, drafting
 * pauses for 1, 2, 4 passes. */
void orx_drafter_adapt(orx_drafter *d, int32_t kept, int32_t nd);

#endif
