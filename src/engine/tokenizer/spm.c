/*
 * spm.c — SentencePiece-style merging (tokenizer.ggml.model = "llama").
 *
 * The text (spaces already '▁') is split into UTF-8 characters; repeatedly the adjacent pair whose
 * concatenation is a vocabulary token with the highest score is merged (ties: the leftmost pair,
 * which is what makes an all-equal-score vocabulary deterministic). Symbols that are not tokens
 * at the end fall back to <0xNN> byte tokens. Also home of the merge heap shared with BPE.
 */
#include "engine/tokenizer/tokenizer_impl.h"
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Merge heap (max score, then min left)
 * ========================================================================================== */
static bool heap_before(const tok_bigram *a, const tok_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

bool orx_tok_heap_push(tok_heap *h, tok_bigram b) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        tok_bigram *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv) return false;
        h->v = nv; h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return true;
}

tok_bigram orx_tok_heap_pop(tok_heap *h) {
    tok_bigram top = h->v[0];
    tok_bigram last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const tok_bigram *best = &last;
        if (l < h->n && heap_before(&h->v[l], best)) { m = l; best = &h->v[l]; }
        if (r < h->n && heap_before(&h->v[r], best)) { m = r; }
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n > 0) h->v[i] = last;
    return top;
}

/* ============================================================================================
 * SPM
 * ========================================================================================== */
static bool spm_try_bigram(const orx_tokenizer *t, const char *text, const tok_sym *sy,
                           int32_t left, int32_t right, tok_heap *h) {
    if (left < 0 || right < 0) return true;
    uint32_t size = sy[left].n + sy[right].n;
    int32_t id = orx_tok_find(t, text + sy[left].off, size);
    if (id < 0) return true;
    return orx_tok_heap_push(h, (tok_bigram){t->scores[id], left, right, size});
}

void orx_tok_spm_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out) {
    if (len == 0) return;
    tok_sym *sy = malloc(len * sizeof *sy);
    tok_heap h = {0};
    if (!sy) { out->oom = true; return; }
    bool ok = orx_tok_merge(t, text, len, sy, &h, spm_try_bigram);
    if (!ok) out->oom = true;
    for (int32_t i = 0; ok && i != -1; i = sy[i].next) {
        int32_t id = orx_tok_find(t, text + sy[i].off, sy[i].n);
        if (id >= 0) { orx_tok_vec_push(out, id); continue; }
        for (uint32_t j = 0; j < sy[i].n; j++) {
            int32_t b = t->byte_tok[(unsigned char)text[sy[i].off + j]];
            if (b >= 0) orx_tok_vec_push(out, b);
        }
    }
    free(h.v);
    free(sy);
}
