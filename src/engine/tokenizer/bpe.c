/*
 * bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2").
 *
 * 1. Pre-tokenizer: the text is split by a list of regexes chosen by tokenizer.ggml.pre, applied
 *    in order; each regex splits every piece produced by the previous one, and both its matches
 *    and the text between matches become pieces (each piece is matched on its own, so `$` and
 *    look-aheads see the piece's end). Patterns are the published ones of each model's
 *    tokenizer config as llama.cpp uses them; PCRE2 in UTF + UCP mode gives \p{L}, \p{N}, \s.
 * 2. Each piece's bytes are mapped to the GPT-2 printable-unicode alphabet.
 * 3. Merges: the adjacent pair with the lowest merge rank is merged first (ties: leftmost), using
 *    a heap and a linked list of symbols. Llama 3 first looks the whole piece up in the vocab.
 */
#include "engine/tokenizer/tokenizer_impl.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Pre-tokenizer patterns
 * ========================================================================================== */
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_LLAMA3                                                                            \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2                                                                             \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_CJK "[一-龥ࠀ-一가-퟿]+"

typedef struct pre_def {
    const char *names[12];              /* tokenizer.ggml.pre values, NULL-terminated */
    bool        ignore_merges;          /* whole-word vocab lookup first (llama3) */
    const char *res[TOK_MAX_REGEX + 1]; /* patterns, NULL-terminated */
} pre_def;

static const pre_def PRE_DEFS[] = {
    {{"default", NULL}, false,
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL}},
    {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", NULL}, true, {RE_LLAMA3, NULL}},
    {{"dbrx", "smaug-bpe", NULL}, false, {RE_LLAMA3, NULL}},
    /* deepseek-llm's letter class lists the cased letters (Lu|Ll|Lt); the code points whose NFC
     * form differs (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) are written as \x{...} so
     * that no editor or copy normalises them into a different (or out-of-order) range. */
    {{"deepseek-llm", NULL}, false,
     {"[\r\n]",
      "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
      "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", RE_CJK, "\\p{N}+", NULL}},
    {{"deepseek-coder", NULL}, false,
     {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}", NULL}},
    {{"falcon", NULL}, false, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL}},
    {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", NULL}, false,
     {"\\p{N}", RE_GPT2, NULL}},
    {{"gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es",
      "jina-v2-de", "jina-v2-code", NULL}, false, {RE_GPT2, NULL}},
    {{"qwen2", "deepseek-r1-qwen", "stablelm2", NULL}, false, {RE_QWEN2, NULL}},
};

orx_status orx_tok_bpe_setup(orx_tokenizer *t, orx_error *err) {
    const pre_def *d = NULL;
    for (size_t i = 0; i < sizeof PRE_DEFS / sizeof PRE_DEFS[0] && !d; i++)
        for (int k = 0; PRE_DEFS[i].names[k]; k++)
            if (strcmp(PRE_DEFS[i].names[k], t->pre_name) == 0) { d = &PRE_DEFS[i]; break; }
    if (!d)
        return orx_fail(err, ORX_ERR_UNSUPPORTED,
                        "tokenizer: pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported", t->pre_name);
    t->ignore_merges = d->ignore_merges;
    for (int i = 0; d->res[i]; i++) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)d->res[i], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &ec, &eo, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return orx_fail(err, ORX_ERR_INTERNAL, "tokenizer: pattern %d of '%s' at %zu: %s", i,
                            t->pre_name, (size_t)eo, (const char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up; falls back if absent */
        t->re[t->n_re++] = re;
    }
    return ORX_OK;
}

/* ============================================================================================
 * GPT-2 byte <-> unicode alphabet
 * ========================================================================================== */
static uint16_t byte_to_cp(int b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return (uint16_t)b;
    int n = 0; /* index among the bytes outside those ranges */
    for (int x = 0; x < b; x++)
        if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
    return (uint16_t)(256 + n);
}

typedef struct byte_map {
    char     enc[256][2]; /* UTF-8 of byte b's codepoint */
    uint8_t  enc_len[256];
    int16_t  dec[324];    /* codepoint -> byte, -1 none */
} byte_map;

static const byte_map *get_byte_map(void) {
    static byte_map m;
    static int ready; /* benign race: every thread computes the same table */
    if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) return &m;
    byte_map tmp;
    for (int i = 0; i < 324; i++) tmp.dec[i] = -1;
    for (int b = 0; b < 256; b++) {
        uint16_t cp = byte_to_cp(b);
        char u[4];
        size_t n = orx_tok_utf8_encode(cp, u);
        memcpy(tmp.enc[b], u, 2);
        tmp.enc_len[b] = (uint8_t)n;
        tmp.dec[cp] = (int16_t)b;
    }
    static int lock;
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {}
    if (!ready) { m = tmp; __atomic_store_n(&ready, 1, __ATOMIC_RELEASE); }
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
    return &m;
}

int32_t orx_tok_bpe_decode_text(const char *s, size_t n, char *buf, int32_t cap) {
    const byte_map *m = get_byte_map();
    int32_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t used = orx_tok_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (cp < 324 && m->dec[cp] >= 0) {
            if (buf && k < cap) buf[k] = (char)m->dec[cp];
            k++;
        } else {
            for (size_t j = 0; j < used; j++) { if (buf && k < cap) buf[k] = s[i + j]; k++; }
        }
        i += used;
    }
    return k;
}

/* ============================================================================================
 * UTF-8 clean-up: decode the way llama.cpp does (invalid byte -> U+FFFD) and re-encode, so PCRE2
 * always sees valid UTF-8
 * ========================================================================================== */
static char *sanitize_utf8(const char *s, size_t n, size_t *out_n) {
    char *o = malloc(n * 3 + 1);
    if (!o) return NULL;
    size_t k = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        uint32_t cp = 0xFFFD;
        size_t len = 1;
        if (c < 0x80) cp = c;
        else if ((c & 0x40) == 0) len = 1;
        else {
            size_t need = !(c & 0x20) ? 2 : !(c & 0x10) ? 3 : !(c & 0x08) ? 4 : 0;
            bool ok = need > 0 && i + need <= n;
            for (size_t j = 1; ok && j < need; j++) ok = (u[i + j] & 0xC0) == 0x80;
            if (ok) {
                cp = c & (0xFF >> (need + 1));
                for (size_t j = 1; j < need; j++) cp = (cp << 6) | (u[i + j] & 0x3F);
                len = need;
                if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
            }
        }
        k += orx_tok_utf8_encode(cp, o + k);
        i += len;
    }
    *out_n = k;
    return o;
}

/* ============================================================================================
 * Regex split
 * ========================================================================================== */
typedef struct span { size_t off, len; } span;
typedef struct span_list { span *v; size_t n, cap; } span_list;

static bool span_push(span_list *l, size_t off, size_t len) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        span *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return false;
        l->v = nv; l->cap = nc;
    }
    l->v[l->n++] = (span){off, len};
    return true;
}

static bool split_one(const pcre2_code *re, pcre2_match_data *md, const char *text,
                      const span_list *in, span_list *out) {
    for (size_t i = 0; i < in->n; i++) {
        const char *sub = text + in->v[i].off;
        size_t len = in->v[i].len, start = 0, pos = 0;
        while (pos <= len) {
            int rc = pcre2_match(re, (PCRE2_SPTR)sub, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) return false; /* match/JIT limit: fail rather than split differently */
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me <= ms) { /* empty match: step over one character */
                if (ms >= len) break;
                pos = ms + tok_utf8_len((unsigned char)sub[ms]);
                continue;
            }
            if (ms > start && !span_push(out, in->v[i].off + start, ms - start)) return false;
            if (!span_push(out, in->v[i].off + ms, me - ms)) return false;
            start = pos = me;
        }
        if (start < len && !span_push(out, in->v[i].off + start, len - start)) return false;
    }
    return true;
}

static bool pre_split(const orx_tokenizer *t, const char *text, size_t len, span_list *words) {
    span_list cur = {0}, next = {0};
    if (!span_push(&cur, 0, len)) return false;
    bool ok = true;
    for (int r = 0; r < t->n_re && ok; r++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->re[r], NULL);
        if (!md) { ok = false; break; }
        next.n = 0;
        ok = split_one(t->re[r], md, text, &cur, &next);
        pcre2_match_data_free(md);
        span_list tmp = cur; cur = next; next = tmp;
    }
    free(next.v);
    if (!ok) { free(cur.v); return false; }
    *words = cur;
    return true;
}

/* ============================================================================================
 * Merging one byte-encoded word
 * ========================================================================================== */
static bool bpe_try(const orx_tokenizer *t, const char *w, const tok_sym *sy, int32_t l, int32_t r,
                    tok_heap *h) {
    if (l < 0 || r < 0) return true;
    int32_t rank = orx_tok_bpe_merge_rank(t, w + sy[l].off, sy[l].n, w + sy[r].off, sy[r].n);
    if (rank < 0) return true;
    return orx_tok_heap_push(h, (tok_bigram){-(float)rank, l, r, sy[l].n + sy[r].n});
}

static void emit_symbol(const orx_tokenizer *t, const char *s, size_t n, tok_vec *out) {
    int32_t id = orx_tok_find(t, s, n);
    if (id >= 0) { orx_tok_vec_push(out, id); return; }
    for (size_t j = 0; j < n; j++) { /* no such token: single-byte tokens where they exist */
        int32_t b = orx_tok_find(t, s + j, 1);
        if (b >= 0) orx_tok_vec_push(out, b);
    }
}

static void bpe_word(const orx_tokenizer *t, const char *w, size_t len, tok_sym *sy, tok_heap *h,
                     tok_vec *out) {
    if (len == 0) return;
    if (t->ignore_merges) {
        int32_t id = orx_tok_find(t, w, len);
        if (id >= 0) { orx_tok_vec_push(out, id); return; }
    }
    if (!orx_tok_merge(t, w, len, sy, h, bpe_try)) { out->oom = true; return; }
    for (int32_t i = 0; i != -1; i = sy[i].next)
        if (sy[i].n) emit_symbol(t, w + sy[i].off, sy[i].n, out);
}

void orx_tok_bpe_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out) {
    if (len == 0) return;
    size_t clen = 0;
    char *clean = sanitize_utf8(text, len, &clen);
    span_list words = {0};
    if (!clean || !pre_split(t, clean, clen, &words)) { free(clean); out->oom = true; return; }
    const byte_map *m = get_byte_map();
    size_t maxw = 0;
    for (size_t i = 0; i < words.n; i++) if (words.v[i].len > maxw) maxw = words.v[i].len;
    char *enc = malloc(maxw * 2 + 1);
    tok_sym *sy = malloc((maxw * 2 + 1) * sizeof *sy);
    tok_heap h = {0};
    if (!enc || !sy) out->oom = true;
    for (size_t i = 0; i < words.n && !out->oom; i++) {
        size_t k = 0;
        for (size_t j = 0; j < words.v[i].len; j++) {
            unsigned char b = (unsigned char)clean[words.v[i].off + j];
            memcpy(enc + k, m->enc[b], m->enc_len[b]);
            k += m->enc_len[b];
        }
        bpe_word(t, enc, k, sy, &h, out);
    }
    free(h.v); free(sy); free(enc); free(words.v); free(clean);
}
