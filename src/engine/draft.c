/* draft.c — drafted continuations for speculative decoding (see draft.h). */
#include "engine/draft.h"
#include <stdlib.h>
#include <string.h>

#define DRAFT_MAX 64 /* longest draft handled (tokens) */

orx_draft_params orx_draft_default_params(void) {
    return (orx_draft_params){.max_tokens = 8, .ngram_max = 4, .ngram_min = 2, .text_min = 4, .forced = true};
}

/* ============================================================================================
 * Sources
 * ========================================================================================== */
/* The forced bytes as tokens: the tokenizer's own encoding when its pieces spell them exactly
 * (models are trained on that tokenization), else longest-match tokens. The grammar state g is
 * advanced over them. */
static int32_t forced_tokens(const orx_draft_ctx *dc, orx_gstate *g, int space, int32_t max, int32_t *out) {
    char bytes[ORX_FORCED_MAX], piece[512];
    int32_t nb = orx_gstate_forced(g, space, bytes, (int32_t)sizeof bytes);
    if (nb <= 0) return 0;
    int32_t ids[ORX_FORCED_MAX], k = orx_tokenize_continuation(dc->tok, bytes, (size_t)nb, ids, ORX_FORCED_MAX);
    int32_t n = 0, used = 0;
    bool exact = k > 0 && k <= ORX_FORCED_MAX;
    for (int32_t i = 0; exact && i < k; i++) {
        int32_t len = orx_token_to_piece(dc->tok, ids[i], piece, (int32_t)sizeof piece);
        exact = len > 0 && used + len <= nb && !memcmp(piece, bytes + used, (size_t)len);
        used += exact ? len : 0;
    }
    if (exact && used == nb) {
        n = k < max ? k : max;
        memcpy(out, ids, (size_t)n * sizeof *out);
    } else {
        for (used = 0; n < max && used < nb;) {
            int32_t len, t = orx_gvocab_longest(dc->voc, bytes + used, nb - used, &len);
            if (t < 0 || len <= 0) break;
            out[n++] = t;
            used += len;
        }
    }
    for (int32_t i = 0; i < n; i++) { /* advance the grammar over the tokens kept */
        int32_t len = orx_token_to_piece(dc->tok, out[i], piece, (int32_t)sizeof piece);
        if (len <= 0 || len > (int32_t)sizeof piece || !orx_gstate_feed(g, piece, (size_t)len)) return i;
    }
    return n;
}

int32_t orx_draft_forced(const orx_draft_ctx *dc, int32_t max, int32_t *out) {
    if (!dc->gs || !dc->voc || orx_gstate_done(dc->gs)) return 0;
    orx_gstate *g = orx_gstate_dup(dc->gs);
    int32_t n = g ? forced_tokens(dc, g, -1, max < ORX_FORCED_MAX ? max : ORX_FORCED_MAX, out) : 0;
    orx_gstate_free(g);
    return n;
}

/* Tokens that followed the latest earlier occurrence of the history's last k tokens, for the
 * longest k in [ngram_min, ngram_max] that occurs. */
static int32_t ngram_tokens(const orx_draft_params *p, const int32_t *h, int32_t n, int32_t max, int32_t *out) {
    for (int32_t k = p->ngram_max; k >= p->ngram_min && k >= 1; k--) {
        if (n <= k) continue;
        const int32_t *tail = h + n - k;
        for (int32_t i = n - k - 1; i >= 0; i--) { /* match at h[i .. i+k), continuation from i+k */
            if (h[i] != tail[0] || memcmp(h + i, tail, (size_t)k * sizeof *h)) continue;
            int32_t m = 0;
            while (m < max && i + k + m < n) out[m] = h[i + k + m], m++;
            if (m > 0) return m;
        }
    }
    return 0;
}

/* Text lookup: the bytes that followed the earlier occurrence of the longest suffix of the query
 * (the history's text, then the draft so far) in the history's text (at least p->text_min bytes;
 * of equally long ones, the latest), tokenized as the model writes a continuation. Matching bytes,
 * not tokens, finds copies whose first token differs from the source's ("\"warfarin" after a
 * quote, " warfarin" after a space), and mid-word continuations ("ser" -> "um creatinine").
 * The last token is left out: the continuation is cut at an arbitrary byte. The longer the match,
 * the longer the draft (a short match is often a common word). */
#define TEXT_QUERY 256 /* longest suffix compared (bytes) */
#define TEXT_CONT  64  /* continuation bytes tokenized */

static size_t text_match(const char *h, size_t nh, const char *q, size_t nq, size_t m, size_t *at) {
    size_t best = 0;
    const char *key = q + nq - m;
    for (size_t p = 0; p + m < nh;) {
        const char *f = memchr(h + p, key[0], nh - m - p);
        if (!f) break;
        p = (size_t)(f - h);
        if (!memcmp(f, key, m)) {
            size_t L = m;
            while (L < nq && L <= p + m - 1 && h[p + m - 1 - L] == q[nq - 1 - L]) L++;
            if (L >= best) best = L, *at = p + m; /* ties: the latest */
        }
        p++;
    }
    return best;
}

static int32_t text_tokens(const orx_draft_params *p, const orx_draft_ctx *dc, const char *q, size_t nq, int32_t max,
                           int32_t *out) {
    size_t m = (size_t)p->text_min, at = 0;
    if (!dc->text || m == 0 || nq < m || dc->n_text <= m) return 0;
    size_t L = text_match(dc->text, dc->n_text, q, nq, m, &at);
    if (L == 0) return 0;
    int32_t cap = L >= 24 ? max : L >= 12 ? (max < 4 ? max : 4) : 1;
    size_t nc = dc->n_text - at < TEXT_CONT ? dc->n_text - at : TEXT_CONT;
    int32_t ids[TEXT_CONT + 1], k = orx_tokenize_continuation(dc->tok, dc->text + at, nc, ids, TEXT_CONT + 1);
    if (k <= 1 || k > TEXT_CONT + 1) return 0;
    k--; /* the last token may be cut short */
    if (k > cap) k = cap;
    memcpy(out, ids, (size_t)k * sizeof *out);
    return k;
}

/* ============================================================================================
 * Draft: forced tokens, then n-gram continuation, cut at the first token the grammar refuses
 * ========================================================================================== */
int32_t orx_draft_make(const orx_draft_params *p, const orx_draft_ctx *dc, const int32_t *hist, int32_t n_hist,
                       int32_t *out) {
    int32_t max = p->max_tokens < DRAFT_MAX ? p->max_tokens : DRAFT_MAX;
    if (max <= 0) return 0;
    orx_gstate *g = NULL;
    if (dc->gs && (orx_gstate_done(dc->gs) || !(g = orx_gstate_dup(dc->gs)))) return 0; /* a private copy */
    int32_t n = 0;
    if (g && p->forced && dc->voc) n = forced_tokens(dc, g, dc->space ? 1 : 0, max, out); /* advances g past them */
    int32_t more[DRAFT_MAX], m = 0;
    char piece[512];
    if (n < max && p->text_min > 0 && dc->text) {
        char q[TEXT_QUERY + ORX_FORCED_MAX * 8];
        size_t tq = dc->n_text < TEXT_QUERY ? dc->n_text : TEXT_QUERY, nq = tq;
        memcpy(q, dc->text + dc->n_text - tq, tq); /* the history's last bytes, then the forced ones */
        for (int32_t i = 0; i < n; i++) {
            int32_t len = orx_token_to_piece(dc->tok, out[i], piece, (int32_t)sizeof piece);
            if (len <= 0 || len > (int32_t)sizeof piece || nq + (size_t)len > sizeof q) break;
            memcpy(q + nq, piece, (size_t)len), nq += (size_t)len;
        }
        m = text_tokens(p, dc, q, nq, max - n, more);
    }
    if (m == 0 && n < max && p->ngram_max > 0) {
        int32_t h[DRAFT_MAX * 2 + 4096], nh = n_hist < 4096 ? n_hist : 4096;
        memcpy(h, hist + n_hist - nh, (size_t)nh * sizeof *h); /* the recent history, then the draft so far */
        memcpy(h + nh, out, (size_t)n * sizeof *h);
        m = ngram_tokens(p, h, nh + n, max - n, more);
    }
    for (int32_t i = 0; i < m; i++) {
        int32_t t = more[i];
        if (orx_tokenizer_is_eog(dc->tok, t)) break;
        if (g) {
            int32_t len = orx_token_to_piece(dc->tok, t, piece, (int32_t)sizeof piece);
            if (len <= 0 || len > (int32_t)sizeof piece || !orx_gstate_feed(g, piece, (size_t)len)) break;
        }
        out[n++] = t;
    }
    orx_gstate_free(g);
    return n;
}
