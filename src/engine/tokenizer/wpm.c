/*
 * wpm.c — WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp runs BERT vocabs
 * converted to GGUF (word-initial pieces carry a '▁' prefix instead of continuations "##").
 *
 * Pre-processing per codepoint: canonical decomposition keeping the first codepoint (strips
 * accents), whitespace splits words, control characters / NUL / U+FFFD are dropped, the rest is
 * lower-cased; punctuation, ASCII symbols and CJK ideographs become one-character words.
 * Each word gets '▁' prepended and is cut greedily into the longest vocabulary tokens; a word
 * that cannot be cut completely becomes [UNK].
 */
#include "engine/tokenizer/tokenizer_impl.h"
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ============================================================================================
 * Character classes
 * ========================================================================================== */
static bool is_ws(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static bool is_chinese(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static uint32_t nfd_first(uint32_t c) {
    utf8proc_int32_t out[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)c, out, 8, UTF8PROC_DECOMPOSE, &last);
    return n >= 1 && n <= 8 ? (uint32_t)out[0] : c;
}

/* ============================================================================================
 * Pre-processing into words, then greedy longest match
 * ========================================================================================== */
typedef struct wbuf { char *s; size_t n, cap; } wbuf;

static bool wput(wbuf *b, const char *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 256) + n;
        char *ns = realloc(b->s, nc);
        if (!ns) return false;
        b->s = ns; b->cap = nc;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    return true;
}

static void wpm_word(const orx_tokenizer *t, const char *w, size_t n, tok_vec *out) {
    if (n == 0) return;
    size_t start = out->n;
    for (size_t i = 0; i < n;) {
        size_t j = i + t->max_token_len + 1 < n ? i + t->max_token_len + 1 : n;
        int32_t id = -1;
        for (; j > i; j--) if ((id = orx_tok_find(t, w + i, j - i)) >= 0) break;
        if (id < 0) { out->n = start; break; } /* discard the partial word */
        orx_tok_vec_push(out, id);
        i = j;
    }
    if (out->n == start && t->unk >= 0) orx_tok_vec_push(out, t->unk);
}

void orx_tok_wpm_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out) {
    wbuf w = {0};
    static const char PHANTOM[] = "\xe2\x96\x81";
    bool ok = wput(&w, PHANTOM, 3);
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; i < len && ok;) {
        uint32_t c;
        utf8proc_int32_t cp;
        utf8proc_ssize_t used = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (used <= 0) { c = 0xFFFD; used = 1; } else c = (uint32_t)cp;
        i += (size_t)used;
        c = nfd_first(c);
        if (is_ws(c)) { if (w.n > 3) wpm_word(t, w.s, w.n, out); w.n = 3; continue; }
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
        bool control = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                       cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CS;
        if (c == 0 || c == 0xFFFD || control) continue;
        bool punct = cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
        bool symbol = cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO;
        char enc[4];
        size_t en = orx_tok_utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)c), enc);
        if (punct || (c < 0x7F && symbol) || is_chinese(c)) {
            if (w.n > 3) wpm_word(t, w.s, w.n, out);
            w.n = 3;
            ok = wput(&w, enc, en);
            if (ok) wpm_word(t, w.s, w.n, out);
            w.n = 3;
        } else {
            ok = wput(&w, enc, en);
        }
    }
    if (ok && w.n > 3) wpm_word(t, w.s, w.n, out);
    if (!ok) out->oom = true;
    free(w.s);
}
