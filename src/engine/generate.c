/*
 * generate.c — the decode loop: choose a token (grammar mask with the budget left, then the
 * sampler), take it (stream its piece, advance the grammar), evaluate it. Under a grammar, where
 * the grammar forces the next bytes (keys, quotes, braces, the rest of an enum value), the tokens
 * spelling them are taken without sampling (jump-forward, engine/draft.h), step by step or, with
 * drafting, all in one pass. With drafting, the pass also carries a draft (the forced bytes after a
 * guessed optional space, text or tokens copied from earlier in the prompt or answer) verified in the same
 * pass (orx_context_eval_decode: every row bit-identical to one-token decoding). Each drafted row
 * is sampled exactly as step-by-step decoding samples it (same mask, same budget, same random
 * draws) and the draft is kept up to the first token the model did not choose, so the tokens are
 * those of one token per pass, with fewer passes. orx_generate = prompt evaluation + this loop.
 */
#include "engine/engine.h"
#include "engine/draft.h"
#include "util/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

orx_decode_params orx_decode_default_params(void) {
    return (orx_decode_params){.n_predict = 128, .stop_at_eog = true, .sampling = orx_sampler_default_params()};
}

orx_generate_params orx_generate_default_params(void) {
    return (orx_generate_params){.n_predict = 128, .stop_at_eog = true,
                                 .sampling = orx_sampler_default_params()};
}

/* ============================================================================================
 * Decoding: choose a token exactly as step-by-step decoding does, take it, draft ahead, verify
 * ========================================================================================== */
typedef struct dec {
    orx_context             *c;       /* KV cache */
    const orx_tokenizer     *tok;     /* pieces, end of generation (may be NULL without grammar/draft) */
    const orx_decode_params *p;       /* settings */
    orx_token_fn             on_token; /* per taken token; false stops */
    void                    *ud;
    orx_sampler             *smp;     /* sampler (its random draws in decoding order) */
    orx_gstate              *gs;      /* grammar state after the taken tokens, or NULL */
    float                   *logits;  /* [nv] masked copy */
    int32_t                  nv;      /* vocabulary */
    orx_decode_stats        *st;      /* tokens taken, passes, drafts */
    double                   t0;      /* call start */
    int32_t                 *hist;    /* [n_hist] history then taken tokens (n-gram drafts) */
    int32_t                  n_hist, cap_hist;
    char                    *text;    /* [cap_text] the history's text, then the taken tokens' pieces
                                         (text drafts; NULL without drafting) */
    size_t                   n_text, cap_text; /* bytes */
    bool                     sep;     /* the last byte taken was ':' or ',' */
    bool                     space;   /* the answer so far puts a space after ':' and ',' */
    int32_t                  dlen;    /* longest draft now: doubles while drafts are kept, shrinks on a miss */
    int32_t                  fq[ORX_FORCED_MAX]; /* the grammar's forced run: tokens to take without sampling */
    int32_t                  nfq, ifq; /* its length, and the next one to take */
    size_t                   rpos;    /* bytes of p->replay taken so far (SIZE_MAX: the answer left it) */
    int32_t                 *rtok;    /* [n_replay + 1] the tokenizer's own token starting at each byte
                                         offset of the replayed answer, -1 where none starts */
    size_t                   ranchor; /* offset the last tokenization of the replay started at */
    bool                     by_model; /* the current draft is the draft model's (p->drafter) */
} dec;

/* Whether the grammar mask with the budget left (orx_grammar_mask) would leave token t. */
static bool allowed(const dec *d, int32_t t) {
    return orx_grammar_allows(d->gs, d->p->gvocab, d->tok, t, d->nv, d->p->n_predict - d->st->n_gen);
}

/* Replay (benchmarks): the tokens a model trained on the tokenizer writes the answer in, read off
 * the tokenizer's own encoding of the replayed bytes from offset `from` on: d->rtok[i] is the token
 * starting at byte i while the pieces spell the bytes exactly. */
static void replay_tokenize(dec *d, size_t from) {
    size_t n = d->p->n_replay;
    d->ranchor = from;
    for (size_t i = from; i <= n; i++) d->rtok[i] = -1;
    int32_t cap = (int32_t)(n - from) + 2, *ids = malloc((size_t)cap * sizeof *ids);
    int32_t k = ids ? orx_tokenize_continuation(d->tok, d->p->replay + from, n - from, ids, cap) : -1;
    char piece[512];
    for (int32_t i = 0, at = (int32_t)from; i < k && i < cap; i++) {
        int32_t len = orx_token_to_piece(d->tok, ids[i], piece, (int32_t)sizeof piece);
        if (len <= 0 || len > (int32_t)sizeof piece || (size_t)at + (size_t)len > n ||
            memcmp(piece, d->p->replay + at, (size_t)len)) break;
        d->rtok[at] = ids[i];
        at += len;
    }
    free(ids);
}

/* Whether token t is allowed at this row: not -inf in the masked row (masked: d->logits holds it),
 * else the same read off the unmasked row and the grammar's verdict for that one token. */
static bool replay_allowed(const dec *d, const float *row, bool masked, int32_t t) {
    return masked ? d->logits[t] != -INFINITY : row[t] != -INFINITY && allowed(d, t);
}

/* Replay (benchmarks): the tokenizer's own next token of the replayed answer when the grammar
 * allows it (the answer is tokenized again from here when a forced run or a fallback left its
 * token boundaries), else the allowed token spelling the most of the next bytes; -1 when none
 * does. */
static int32_t replay_choice(dec *d, const float *row, bool masked) {
    if (d->rpos >= d->p->n_replay) return -1;
    if (d->rtok) {
        if (d->rtok[d->rpos] < 0 && d->ranchor != d->rpos) replay_tokenize(d, d->rpos);
        int32_t t = d->rtok[d->rpos];
        if (t >= 0 && replay_allowed(d, row, masked, t)) return t;
    }
    const char *rest = d->p->replay + d->rpos;
    int32_t lim = (int32_t)(d->p->n_replay - d->rpos < 256 ? d->p->n_replay - d->rpos : 256);
    while (lim > 0) {
        int32_t len, t = orx_gvocab_longest(d->p->gvocab, rest, lim, &len);
        if (t < 0 || len <= 0) return -1;
        if (replay_allowed(d, row, masked, t)) return t;
        lim = len - 1;
    }
    return -1;
}

/* The choice under a grammar where one token's check stands for the whole mask, -1 where the
 * mask is needed: the replayed token; greedy, the sampler's choice on the unmasked row when the
 * grammar allows it — masking only lowers other tokens to -inf, so the first maximum of the row
 * stays the first maximum (not so with a NaN in the row: then the mask decides). */
static int32_t choose_unmasked(dec *d, const float *row) {
    if (d->p->replay) return replay_choice(d, row, false);
    if (d->p->sampling.temp > 0) return -1; /* a draw needs the whole masked distribution */
    for (int32_t i = 0; i < d->nv; i++)
        if (row[i] != row[i]) return -1;
    int32_t t = orx_sampler_sample(d->smp, row, d->nv); /* greedy: no random draw */
    return t >= 0 && allowed(d, t) ? t : -1;
}

/* The token step-by-step decoding chooses at this logits row: grammar mask with the budget left,
 * then the sampler (or the replayed answer's token). */
static orx_status choose(dec *d, const float *row, int32_t *tok, orx_error *err) {
    if (!row) return orx_fail(err, ORX_ERR_INTERNAL, "no logits after evaluation");
    *tok = d->gs ? choose_unmasked(d, row) : -1;
    if (*tok < 0) {
        const float *in = row;
        if (d->gs) {
            memcpy(d->logits, row, (size_t)d->nv * sizeof *row);
            in = d->logits;
            if (orx_grammar_mask(d->gs, d->p->gvocab, d->tok, d->logits, d->nv, d->p->n_predict - d->st->n_gen) == 0)
                return orx_fail(err, ORX_ERR_UNSUPPORTED, "constrained decoding reached a dead end after %d tokens: the "
                                "model's vocabulary cannot express the required JSON (e.g. no '{' token)", d->st->n_gen);
        }
        *tok = d->gs && d->p->replay ? replay_choice(d, row, true) : -1;
        if (*tok < 0) *tok = orx_sampler_sample(d->smp, in, d->nv);
        if (*tok < 0) return orx_fail(err, ORX_ERR_NOMEM, "sampling failed");
    }
    if (d->st->t_first_s < 0) d->st->t_first_s = orx_now() - d->t0;
    return ORX_OK;
}

/* The grammar's forced run: when none is pending (at the start, and after each taken token), the
 * tokens spelling the bytes the grammar forces next are queued. They are taken without sampling
 * (no random draw), whether one per pass or all in one pass, so drafting cannot change them. */
static void queue_forced(dec *d) {
    if (!d->gs || !d->p->gvocab || d->ifq < d->nfq) return;
    orx_draft_ctx dc = {d->tok, d->p->gvocab, d->gs, d->space, NULL, 0};
    d->nfq = orx_draft_forced(&dc, ORX_FORCED_MAX, d->fq);
    d->ifq = 0;
}

/* The next token at this logits row: the forced run's next token, else the model's choice. */
static orx_status next_token(dec *d, const float *row, int32_t *tok, orx_error *err) {
    if (d->ifq < d->nfq) {
        *tok = d->fq[d->ifq++];
        d->st->n_forced++;
        if (d->st->t_first_s < 0) d->st->t_first_s = orx_now() - d->t0;
        return ORX_OK;
    }
    return choose(d, row, tok, err);
}

/* The history's text grows by each taken token's piece (text drafts); out of memory, text drafts
 * stop (the answer is the same). */
static void append_text(dec *d, const char *piece, size_t len) {
    if (!d->text) return;
    if (d->n_text + len > d->cap_text) {
        size_t cap = (d->n_text + len) * 2;
        char *t = realloc(d->text, cap);
        if (!t) {
            free(d->text);
            d->text = NULL;
            d->n_text = d->cap_text = 0;
            return;
        }
        d->text = t, d->cap_text = cap;
    }
    memcpy(d->text + d->n_text, piece, len);
    d->n_text += len;
}

/* Follow the answer's style at the optional spaces after ':' and ',' (the forced-bytes guess). */
static void note_style(dec *d, const char *piece, int32_t len) {
    for (int32_t i = 0; i < len; i++) {
        if (d->sep) d->space = piece[i] == ' ';
        d->sep = piece[i] == ':' || piece[i] == ',';
    }
}

/* Take a chosen token: stream it and advance the grammar. False when generation ends with it (end
 * of generation — not taken —, on_token said stop, the value complete, the token budget spent). */
static bool take(dec *d, int32_t t, orx_status *st, orx_error *err) {
    if (d->p->stop_at_eog && d->tok && orx_tokenizer_is_eog(d->tok, t)) return false;
    orx_sampler_accept(d->smp, t);
    d->st->n_gen++;
    if (d->n_hist < d->cap_hist) d->hist[d->n_hist++] = t;
    char piece[512];
    int32_t len = d->tok ? orx_token_to_piece(d->tok, t, piece, (int32_t)sizeof piece) : 0;
    if (len < 0 || len > (int32_t)sizeof piece) len = 0;
    if (d->gs && !orx_gstate_feed(d->gs, piece, (size_t)len)) {
        *st = orx_fail(err, ORX_ERR_INTERNAL, "grammar rejected a masked token");
        return false;
    }
    note_style(d, piece, len);
    append_text(d, piece, (size_t)len);
    if (d->p->replay && d->rpos < d->p->n_replay)
        d->rpos = d->rpos + (size_t)len <= d->p->n_replay && !memcmp(d->p->replay + d->rpos, piece, (size_t)len)
                      ? d->rpos + (size_t)len : SIZE_MAX;
    if (d->on_token && !d->on_token(d->ud, t, piece, (size_t)len)) return false;
    if (d->gs && orx_gstate_done(d->gs)) return false; /* the value is complete: nothing else may follow */
    if (d->st->n_gen >= d->p->n_predict) return false;
    queue_forced(d);
    return true;
}

/* Draft after the taken history; at most the tokens the budget still allows. The length adapts
 * to what the model keeps (a rejected token costs a fifth to a quarter of a one-token pass at
 * 1.1B): it doubles after a fully kept draft and falls to what was kept + 1 after a partial one.
 * Every pass drafts what the sources give, even after misses: a miss costs its rows, a pass
 * without a draft loses any copy that starts there (pausing 1, 2, 4 .. 16 passes after misses
 * lost 5 of the grounded answer's copies and saved no rows). */
static int32_t draft_sources(dec *d, int32_t *out) {
    if (!d->p->draft || !d->tok) return 0;
    orx_draft_params p = orx_draft_default_params();
    int32_t left = d->p->n_predict - d->st->n_gen;
    if (p.max_tokens > d->dlen) p.max_tokens = d->dlen;
    if (p.max_tokens > left) p.max_tokens = left;
    if (d->p->drafter && p.text_min < 12) p.text_min = 12; /* short text matches: the draft model's to guess */
    orx_draft_ctx dc = {d->tok, d->p->gvocab, d->gs, d->space, d->text, d->n_text};
    return orx_draft_make(&p, &dc, d->hist, d->n_hist, out);
}

/* The forced bytes after a guessed space, text lookup (with a draft model: matches of 12 bytes
 * or more) and n-gram drafts; when they give nothing, the draft model's proposal (draft_model.c),
 * at most room tokens. -1 on a draft-model error. */
static int32_t draft(dec *d, int32_t *out, int32_t room, orx_status *st, orx_error *err) {
    int32_t n = draft_sources(d, out), left = d->p->n_predict - d->st->n_gen;
    d->by_model = false;
    if (n > 0 || !d->p->drafter || left <= 0 || !d->hist) return n;
    if (left > room) left = room;
    double t0 = orx_now();
    orx_drafter_req r = {d->hist, d->n_hist, d->gs, d->p->gvocab, d->tok, left, left};
    *st = orx_drafter_propose(d->p->drafter, &r, out, &n, err);
    d->st->t_draft_s += orx_now() - t0;
    d->by_model = n > 0;
    return *st ? -1 : n;
}

static void adapt(dec *d, int32_t kept, int32_t nd) {
    if (d->by_model) {
        d->st->n_model_drafted += nd;
        d->st->n_model_accepted += kept;
        orx_drafter_adapt(d->p->drafter, kept, nd);
        return;
    }
    int32_t max = orx_draft_default_params().max_tokens;
    if (kept == nd) d->dlen = d->dlen * 2 < max ? d->dlen * 2 : max;
    else d->dlen = kept + 1;
}

/* Evaluate the pending token — with drafting, also the rest of the forced run and a draft, in one
 * pass — and keep the drafted tokens the model chooses itself; *pend becomes the next token, not
 * yet evaluated. False when generation ended. */
static bool step(dec *d, int32_t *pend, orx_status *st, orx_error *err) {
    int32_t batch[1 + ORX_FORCED_MAX + 64], n = 1, nd = 0;
    orx_context *c = d->c;
    int32_t room = orx_context_n_ctx(c) - orx_context_n_past(c);
    if (room <= 0) return false; /* context full: stop */
    batch[0] = *pend;
    while (d->p->draft && d->ifq < d->nfq && n < room && n < 1 + ORX_FORCED_MAX) { /* the forced run, taken */
        int32_t t;
        if ((*st = next_token(d, NULL, &t, err))) return false;
        batch[n++] = t;
        if (!take(d, t, st, err)) return false; /* generation ends with it: nothing left to evaluate */
    }
    if (d->ifq >= d->nfq && (nd = draft(d, batch + n, room - n, st, err)) < 0) return false;
    if (n + nd > room) nd = 0;
    d->st->n_passes++;
    int32_t base = orx_context_n_past(c);
    /* Logits are read from row n-1 on (the pending token's and the forced run's rows before it are
     * followed by forced tokens), and not at all when the token after the pass is forced too. */
    int32_t from = d->ifq < d->nfq ? n + nd : n - 1;
    if (n + nd == 1 && from == 0) {
        if ((*st = orx_context_eval(c, batch, 1, false, err))) return false;
        return !(*st = next_token(d, orx_context_logits(c, -1), pend, err));
    }
    if ((*st = orx_context_eval_decode_from(c, batch, n + nd, from, err))) return false;
    if (from == n + nd) return !(*st = next_token(d, NULL, pend, err));
    d->st->n_drafted += nd;
    for (int32_t i = 0; i < nd; i++) {
        int32_t t;
        if ((*st = next_token(d, orx_context_logits(c, n - 1 + i), &t, err))) return false;
        if (t != batch[n + i]) { /* the model's own choice (or a forced token): the rest is dropped */
            *pend = t;
            orx_context_truncate(c, base + n + i);
            adapt(d, i, nd);
            return true;
        }
        d->st->n_accepted++;
        if (!take(d, t, st, err)) { /* generation ended within the draft */
            adapt(d, i + 1, nd);
            return false;
        }
    }
    if (nd > 0) adapt(d, nd, nd);
    return !(*st = next_token(d, orx_context_logits(c, n - 1 + nd), pend, err));
}

orx_status orx_decode(orx_context *c, const orx_tokenizer *tok, const float *first, const orx_decode_params *p,
                      orx_token_fn on_token, void *ud, orx_decode_stats *stats, orx_error *err) {
    orx_decode_params dp = orx_decode_default_params();
    if (!p) p = &dp;
    orx_decode_stats st0;
    if (!stats) stats = &st0;
    memset(stats, 0, sizeof *stats);
    stats->t_first_s = -1;
    if (p->grammar && (!p->gvocab || !tok)) return orx_fail(err, ORX_ERR_USAGE, "decode: a grammar needs the tokenizer and its gvocab");
    dec d = {.c = c, .tok = tok, .p = p, .on_token = on_token, .ud = ud, .nv = orx_context_n_vocab(c), .st = stats,
             .t0 = orx_now(), .space = true, .dlen = orx_draft_default_params().max_tokens};
    d.smp = orx_sampler_create(&p->sampling);
    d.gs = p->grammar ? orx_gstate_create(p->grammar) : NULL;
    d.logits = p->grammar ? malloc((size_t)d.nv * sizeof *d.logits) : NULL;
    d.cap_hist = p->draft || p->drafter ? p->n_history + (p->n_predict > 0 ? p->n_predict : 0) : 0;
    d.hist = d.cap_hist > 0 ? malloc((size_t)d.cap_hist * sizeof *d.hist) : NULL;
    if (p->replay && tok && (d.rtok = malloc((p->n_replay + 1) * sizeof *d.rtok))) replay_tokenize(&d, 0);
    orx_status st = ORX_OK;
    if (!d.smp || (p->grammar && (!d.gs || !d.logits)) || (d.cap_hist > 0 && !d.hist))
        st = orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    if (st == ORX_OK) {
        for (int32_t i = 0; i < p->n_history; i++) orx_sampler_accept(d.smp, p->history[i]);
        if (d.hist && p->n_history > 0) memcpy(d.hist, p->history, (size_t)p->n_history * sizeof *d.hist);
        d.n_hist = d.hist ? p->n_history : 0;
        if (p->draft && tok && (d.text = malloc(d.cap_text = 4096))) { /* the history's text */
            char piece[512];
            for (int32_t i = 0; i < p->n_history; i++) {
                int32_t len = orx_token_to_piece(tok, p->history[i], piece, (int32_t)sizeof piece);
                if (len > 0 && len <= (int32_t)sizeof piece) append_text(&d, piece, (size_t)len);
            }
        }
    }
    int32_t pend = -1;
    if (st == ORX_OK && p->n_predict > 0) {
        queue_forced(&d);
        st = next_token(&d, first ? first : orx_context_logits(c, -1), &pend, err);
    }
    while (st == ORX_OK && pend >= 0 && take(&d, pend, &st, err))
        if (!step(&d, &pend, &st, err)) break;
    free(d.logits);
    free(d.hist);
    free(d.text);
    free(d.rtok);
    orx_gstate_free(d.gs);
    orx_sampler_free(d.smp);
    return st;
}

/* ============================================================================================
 * Generation: prompt (after the cached prefix), then the decode loop
 * ========================================================================================== */
orx_status orx_generate(orx_context *c, const orx_tokenizer *tok, const int32_t *prompt,
                        int32_t n_prompt, const orx_generate_params *p, orx_token_fn on_token,
                        void *ud, orx_generate_stats *stats, orx_error *err) {
    orx_generate_params d = orx_generate_default_params();
    if (!p) p = &d;
    orx_generate_stats st0 = {0};
    if (!stats) stats = &st0;
    memset(stats, 0, sizeof *stats);
    if (n_prompt <= 0) return orx_fail(err, ORX_ERR_USAGE, "generate: empty prompt");
    if (p->n_cached < 0 || p->n_cached >= n_prompt || p->n_cached > orx_context_n_past(c))
        return orx_fail(err, ORX_ERR_USAGE, "generate: %d cached prompt tokens, but the prompt has %d and the "
                        "context holds %d", p->n_cached, n_prompt, orx_context_n_past(c));
    if (p->n_cached > 0) orx_context_truncate(c, p->n_cached);
    double t0 = orx_now();
    orx_status st = orx_context_eval(c, prompt + p->n_cached, n_prompt - p->n_cached, false, err);
    if (st == ORX_OK && p->drafter) st = orx_drafter_sync(p->drafter, prompt, n_prompt, err); /* the draft model too */
    stats->n_prompt = n_prompt - p->n_cached;
    stats->n_reused = p->n_cached;
    stats->t_prompt_s = orx_now() - t0;
    if (st != ORX_OK) return st;
    orx_decode_params dp = orx_decode_default_params();
    dp.n_predict = p->n_predict;
    dp.stop_at_eog = p->stop_at_eog;
    dp.sampling = p->sampling;
    dp.drafter = p->drafter;
    dp.history = prompt;
    dp.n_history = n_prompt;
    orx_decode_stats ds;
    double t1 = orx_now();
    st = orx_decode(c, tok, NULL, &dp, on_token, ud, &ds, err);
    stats->n_gen = ds.n_gen;
    stats->decode = ds;
    if (ds.t_first_s >= 0) {
        stats->t_first_s = (t1 - t0) + ds.t_first_s;
        stats->t_gen_s = orx_now() - (t1 + ds.t_first_s);
    }
    return st;
}
