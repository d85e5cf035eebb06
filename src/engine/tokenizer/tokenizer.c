/*
 * tokenizer.c — tokenizer construction (from arrays or GGUF metadata), special-token handling,
 * the tokenize / detokenize entry points. The algorithms live in spm.c,
 * bpe.c and wpm.c.
 *
 * Behaviour follows llama.cpp's published tokenizer semantics (the reference the tests in
 * ../shared/tokenizers were produced with): special tokens are cut out of the text first
 * (longest text first), each remaining raw fragment is tokenized on its own.
 */
#define _GNU_SOURCE /* memmem */
#include "engine/tokenizer/tokenizer_impl.h"
#include "util/util.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */
void orx_tok_vec_push(tok_vec *v, int32_t id) {
    int32_t *grown = orx_grow(v->v, &v->cap, v->n, sizeof *v->v, 64);
    if (!grown) v->oom = true;
    else (v->v = grown)[v->n++] = id;
}

bool orx_tok_merge(const orx_tokenizer *t, const char *text, size_t len, tok_sym *sy, tok_heap *h, tok_pair_fn pair) {
    int32_t ns = 0;
    for (size_t off = 0; off < len; ns++) {
        size_t n = tok_utf8_len((unsigned char)text[off]);
        if (n > len - off) n = len - off;
        sy[ns] = (tok_sym){ns - 1, off + n == len ? -1 : ns + 1, (uint32_t)off, (uint32_t)n};
        off += n;
    }
    h->n = 0;
    bool ok = true;
    for (int32_t i = 1; i < ns && ok; i++) ok = pair(t, text, sy, i - 1, i, h);
    while (ok && h->n > 0) {
        tok_bigram b = orx_tok_heap_pop(h);
        tok_sym *l = &sy[b.left], *r = &sy[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sy[r->next].prev = b.left;
        ok = pair(t, text, sy, l->prev, b.left, h) && pair(t, text, sy, b.left, l->next, h);
    }
    return ok;
}

uint64_t orx_tok_hash(const void *p, size_t n, uint64_t h) { /* FNV-1a 64 */
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ULL; }
    return h;
}

static uint64_t mix(uint64_t h) { h ^= h >> 29; h *= 0xbf58476d1ce4e5b9ULL; return h ^ (h >> 32); }

int32_t orx_tok_find(const orx_tokenizer *t, const char *s, size_t n) {
    uint64_t i = mix(orx_tok_hash(s, n, TOK_HASH_SEED)) & t->ht_mask;
    for (;; i = (i + 1) & t->ht_mask) {
        int32_t id = t->ht[i];
        if (id < 0) return -1;
        if (t->tok_len[id] == n && memcmp(t->arena + t->tok_off[id], s, n) == 0) return id;
    }
}

size_t orx_tok_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    size_t len = tok_utf8_len(c);
    if (len > n || (c >= 0x80 && c < 0xC0)) { *cp = c; return 1; }
    if (len == 1) { *cp = c; return 1; }
    uint32_t v = c & (0xFF >> (len + 1));
    for (size_t i = 1; i < len; i++) v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return len;
}

size_t orx_tok_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint64_t pow2_at_least(uint64_t n) { uint64_t p = 16; while (p < n) p <<= 1; return p; }

/* ============================================================================================
 * Construction
 * ========================================================================================== */
orx_tokenizer_spec orx_tokenizer_default_spec(void) {
    orx_tokenizer_spec s;
    memset(&s, 0, sizeof s);
    s.bos = s.eos = s.unk = s.sep = s.pad = s.eot = s.eom = ORX_TOK_DEFAULT;
    s.add_bos = s.add_eos = s.add_sep = s.add_space_prefix = ORX_TOK_DEFAULT;
    return s;
}

static uint16_t attr_of_type(int32_t type) {
    switch (type) {
    case 1: return TA_NORMAL;
    case 2: return TA_UNKNOWN;
    case 3: return TA_CONTROL;
    case 4: return TA_USER_DEFINED;
    case 5: return TA_UNUSED;
    case 6: return TA_BYTE;
    default: return TA_UNDEFINED;
    }
}

static orx_status copy_vocab(orx_tokenizer *t, const orx_tokenizer_spec *s, orx_error *err) {
    int32_t n = s->n_vocab;
    uint64_t total = 0;
    t->tok_off = malloc((size_t)n * sizeof *t->tok_off);
    t->tok_len = malloc((size_t)n * sizeof *t->tok_len);
    t->scores = malloc((size_t)n * sizeof *t->scores);
    t->attr = malloc((size_t)n * sizeof *t->attr);
    if (!t->tok_off || !t->tok_len || !t->scores || !t->attr)
        return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory for %d tokens", n);
    for (int32_t i = 0; i < n; i++) {
        size_t len = s->token_lens ? s->token_lens[i] : strlen(s->tokens[i]);
        if (len > (1u << 20))
            return orx_fail(err, ORX_ERR_INVALID, "tokenizer: token %d is %zu bytes long", i, len);
        t->tok_off[i] = total;
        t->tok_len[i] = (uint32_t)len;
        total += len;
        if (len > t->max_token_len) t->max_token_len = (uint32_t)len;
        t->scores[i] = s->scores ? s->scores[i] : 0.0f;
        t->attr[i] = s->types ? attr_of_type(s->types[i]) : TA_NORMAL;
    }
    t->arena = malloc(total + 1);
    if (!t->arena) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    for (int32_t i = 0; i < n; i++)
        if (t->tok_len[i]) memcpy(t->arena + t->tok_off[i], s->tokens[i], t->tok_len[i]);
    /* text -> id; a repeated text maps to its last id (as llama.cpp's map assignment does) */
    uint64_t size = pow2_at_least((uint64_t)n * 2);
    t->ht = malloc(size * sizeof *t->ht);
    if (!t->ht) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    memset(t->ht, 0xFF, size * sizeof *t->ht);
    t->ht_mask = size - 1;
    for (int32_t id = 0; id < n; id++) {
        const char *txt = t->arena + t->tok_off[id];
        uint64_t i = mix(orx_tok_hash(txt, t->tok_len[id], TOK_HASH_SEED)) & t->ht_mask;
        for (;; i = (i + 1) & t->ht_mask) {
            int32_t o = t->ht[i];
            if (o < 0 || (t->tok_len[o] == t->tok_len[id] && memcmp(t->arena + t->tok_off[o], txt, t->tok_len[id]) == 0)) {
                t->ht[i] = id;
                break;
            }
        }
    }
    return ORX_OK;
}

static orx_status copy_merges(orx_tokenizer *t, const orx_tokenizer_spec *s, orx_error *err) {
    int32_t n = s->n_merges;
    t->n_merges = n;
    if (n <= 0) return ORX_OK;
    uint64_t total = 0;
    t->m_off = malloc((size_t)n * sizeof *t->m_off);
    t->m_len = malloc((size_t)n * sizeof *t->m_len);
    t->m_split = malloc((size_t)n * sizeof *t->m_split);
    if (!t->m_off || !t->m_len || !t->m_split) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    for (int32_t i = 0; i < n; i++) {
        size_t len = s->merge_lens ? s->merge_lens[i] : strlen(s->merges[i]);
        if (len > (1u << 20)) return orx_fail(err, ORX_ERR_INVALID, "tokenizer: merge %d too long", i);
        t->m_off[i] = total;
        t->m_len[i] = (uint32_t)len;
        total += len;
    }
    t->m_arena = malloc(total + 1);
    uint64_t size = pow2_at_least((uint64_t)n * 2);
    t->m_ht = malloc(size * sizeof *t->m_ht);
    if (!t->m_arena || !t->m_ht) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    memset(t->m_ht, 0xFF, size * sizeof *t->m_ht);
    t->m_mask = size - 1;
    for (int32_t k = 0; k < n; k++) {
        char *m = t->m_arena + t->m_off[k];
        if (t->m_len[k]) memcpy(m, s->merges[k], t->m_len[k]);
        /* split at the first space after the first byte */
        const char *sp = t->m_len[k] > 1 ? memchr(m + 1, ' ', t->m_len[k] - 1) : NULL;
        if (!sp) { t->m_split[k] = UINT32_MAX; continue; } /* malformed: never matches */
        t->m_split[k] = (uint32_t)(sp - m);
        uint32_t l = t->m_split[k], r = t->m_len[k] - l - 1;
        if (orx_tok_bpe_merge_rank(t, m, l, m + l + 1, r) >= 0) continue; /* first rank wins */
        uint64_t i = mix(orx_tok_hash(m, t->m_len[k], TOK_HASH_SEED)) & t->m_mask;
        while (t->m_ht[i] >= 0) i = (i + 1) & t->m_mask;
        t->m_ht[i] = k;
    }
    return ORX_OK;
}

int32_t orx_tok_bpe_merge_rank(const orx_tokenizer *t, const char *l, size_t ln, const char *r,
                           size_t rn) {
    if (!t->m_ht) return -1;
    uint64_t h = orx_tok_hash(l, ln, TOK_HASH_SEED);
    h = orx_tok_hash(" ", 1, h);
    h = orx_tok_hash(r, rn, h);
    for (uint64_t i = mix(h) & t->m_mask;; i = (i + 1) & t->m_mask) {
        int32_t k = t->m_ht[i];
        if (k < 0) return -1;
        const char *m = t->m_arena + t->m_off[k];
        if (t->m_split[k] == ln && t->m_len[k] == ln + 1 + rn && memcmp(m, l, ln) == 0 &&
            memcmp(m + ln + 1, r, rn) == 0)
            return k;
    }
}

static int32_t pick_id(int32_t given, int32_t dflt, int32_t n_vocab) {
    if (given == ORX_TOK_DEFAULT) return dflt < n_vocab ? dflt : -1;
    if (given < 0 || given >= n_vocab) return dflt < n_vocab ? dflt : -1; /* bad id: default */
    return given;
}
static bool pick_flag(int32_t given, bool dflt) { return given == ORX_TOK_DEFAULT ? dflt : given != 0; }

static _Thread_local const orx_tokenizer *g_sort_tok; /* qsort has no context argument in C11 */

static int cmp_len_desc(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint32_t lx = g_sort_tok->tok_len[x], ly = g_sort_tok->tok_len[y];
    if (lx != ly) return lx > ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* llama.cpp marks these texts end-of-generation (and control) whatever their GGUF type */
static const char *const EOG_TEXTS[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", NULL};
static const char *const EOT_TEXTS[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "<end_of_utterance>", NULL};

static void add_eog(orx_tokenizer *t, int32_t id) {
    if (id < 0) return;
    for (int32_t i = 0; i < t->n_eog; i++) if (t->eog[i] == id) return;
    t->eog[t->n_eog++] = id;
}

static orx_status finish_specials(orx_tokenizer *t, const char *name, orx_error *err) {
    /* EOT by text when not given */
    for (int k = 0; t->eot < 0 && EOT_TEXTS[k]; k++) {
        int32_t id = orx_tok_find(t, EOT_TEXTS[k], strlen(EOT_TEXTS[k]));
        if (id >= 0) { t->eot = id; if (!(t->attr[id] & TA_CONTROL)) t->attr[id] = TA_CONTROL; }
    }
    t->eog = malloc(sizeof *t->eog * (sizeof EOG_TEXTS / sizeof EOG_TEXTS[0] + 3)); /* + eos/eot/eom */
    if (!t->eog) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    for (int k = 0; EOG_TEXTS[k]; k++) {
        int32_t id = orx_tok_find(t, EOG_TEXTS[k], strlen(EOG_TEXTS[k]));
        if (id < 0) continue;
        add_eog(t, id);
        if (!(t->attr[id] & TA_CONTROL)) t->attr[id] = TA_CONTROL;
    }
    add_eog(t, t->eos);
    add_eog(t, t->eot);
    add_eog(t, t->eom);
    /* special-token cache: longest text first */
    t->special = malloc(sizeof *t->special * (size_t)(t->n_vocab ? t->n_vocab : 1));
    if (!t->special) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    for (int32_t id = 0; id < t->n_vocab; id++)
        if ((t->attr[id] & (TA_CONTROL | TA_USER_DEFINED | TA_UNKNOWN)) && t->tok_len[id] > 0)
            t->special[t->n_special++] = id;
    g_sort_tok = t;
    qsort(t->special, (size_t)t->n_special, sizeof *t->special, cmp_len_desc);
    /* llama.cpp's per-model attribute fixes: phi-3 strips spaces right of special tokens */
    char lname[128] = "";
    if (name) { snprintf(lname, sizeof lname, "%s", name); orx_str_lower(lname); }
    if (strstr(lname, "phi-3") || strstr(lname, "phi3")) {
        for (int32_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= TA_RSTRIP;
        int32_t id = orx_tok_find(t, "</s>", 4);
        if (id >= 0) t->attr[id] |= TA_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (int k = 0; k < 3; k++) {
            id = orx_tok_find(t, keep[k], strlen(keep[k]));
            if (id >= 0) t->attr[id] &= (uint16_t)~TA_RSTRIP;
        }
    }
    return ORX_OK;
}

static void setup_byte_tokens(orx_tokenizer *t) {
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char s[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        int32_t id = orx_tok_find(t, s, 6);
        if (id < 0) { char c = (char)b; id = orx_tok_find(t, &c, 1); }
        t->byte_tok[b] = id >= 0 ? id : t->unk;
    }
}

orx_status orx_tokenizer_create(const orx_tokenizer_spec *s, orx_tokenizer **out, orx_error *err) {
    *out = NULL;
    if (!s || !s->model || s->n_vocab <= 0 || !s->tokens)
        return orx_fail(err, ORX_ERR_INVALID, "tokenizer: no vocabulary (tokenizer.ggml.tokens)");
    orx_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    t->n_vocab = s->n_vocab;
    snprintf(t->pre_name, sizeof t->pre_name, "%s", s->pre && *s->pre ? s->pre : "default");
    orx_status st = ORX_OK;
    int32_t n = s->n_vocab;
    if (strcmp(s->model, "llama") == 0) {
        t->kind = TOK_SPM;
        t->bos = pick_id(s->bos, 1, n); t->eos = pick_id(s->eos, 2, n); t->unk = pick_id(s->unk, 0, n);
        t->sep = pick_id(s->sep, -1, n); t->pad = pick_id(s->pad, -1, n);
        t->add_bos = pick_flag(s->add_bos, true); t->add_eos = pick_flag(s->add_eos, false);
        t->add_space_prefix = pick_flag(s->add_space_prefix, true);
    } else if (strcmp(s->model, "gpt2") == 0) {
        t->kind = TOK_BPE;
        t->bos = pick_id(s->bos, 11, n); t->eos = pick_id(s->eos, 11, n); t->unk = pick_id(s->unk, -1, n);
        t->sep = pick_id(s->sep, -1, n); t->pad = pick_id(s->pad, -1, n);
        bool llama3 = !strcmp(t->pre_name, "llama3") || !strcmp(t->pre_name, "llama-v3") ||
                      !strcmp(t->pre_name, "llama-bpe") || !strcmp(t->pre_name, "falcon3");
        t->add_bos = pick_flag(s->add_bos, llama3); t->add_eos = pick_flag(s->add_eos, false);
        t->add_space_prefix = pick_flag(s->add_space_prefix, false);
    } else if (strcmp(s->model, "bert") == 0) {
        t->kind = TOK_WPM;
        t->bos = pick_id(s->bos, 101, n); t->eos = pick_id(s->eos, -1, n); t->unk = pick_id(s->unk, 100, n);
        t->sep = pick_id(s->sep, 102, n); t->pad = pick_id(s->pad, 0, n);
        t->add_bos = pick_flag(s->add_bos, true); t->add_eos = pick_flag(s->add_eos, false);
        t->add_sep = pick_flag(s->add_sep, true);
        t->add_space_prefix = pick_flag(s->add_space_prefix, false);
    } else {
        free(t);
        return orx_fail(err, ORX_ERR_UNSUPPORTED, "tokenizer: tokenizer.ggml.model '%s' is not supported "
                        "(supported: llama, gpt2, bert)", s->model);
    }
    snprintf(t->kind_name, sizeof t->kind_name, "%s", s->model);
    t->eot = pick_id(s->eot, -1, n);
    t->eom = pick_id(s->eom, -1, n);
    st = copy_vocab(t, s, err);
    if (!st && t->kind == TOK_BPE) st = copy_merges(t, s, err);
    if (!st && t->kind == TOK_BPE) st = orx_tok_bpe_setup(t, err);
    if (!st) setup_byte_tokens(t);
    if (!st) st = finish_specials(t, s->name, err);
    if (st) orx_tokenizer_free(t);
    else *out = t;
    return st;
}

void orx_tokenizer_free(orx_tokenizer *t) {
    if (!t) return;
    free(t->arena); free(t->tok_off); free(t->tok_len); free(t->scores); free(t->attr); free(t->ht);
    free(t->m_arena); free(t->m_off); free(t->m_len); free(t->m_split); free(t->m_ht);
    for (int i = 0; i < t->n_re; i++) pcre2_code_free(t->re[i]);
    free(t->special); free(t->eog);
    free(t);
}

/* ============================================================================================
 * Loading from GGUF
 * ========================================================================================== */
static char *gguf_strdup(const orx_gguf *g, const char *key) {
    const char *s; uint64_t n;
    if (!orx_gguf_get_str(g, key, &s, &n)) return NULL;
    return orx_strndup(s, (size_t)n);
}

static int32_t gguf_id(const orx_gguf *g, const char *key) {
    int64_t v;
    if (!orx_gguf_get_i64(g, key, &v)) return ORX_TOK_DEFAULT;
    return v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
}
static int32_t gguf_flag(const orx_gguf *g, const char *key) {
    bool b;
    return orx_gguf_get_bool(g, key, &b) ? (int32_t)b : ORX_TOK_DEFAULT;
}

/* fill ptrs/lens from a string array key; n_out = its length */
static orx_status gguf_str_array(const orx_gguf *g, const char *key, const char ***ptrs,
                                 size_t **lens, int32_t *n_out, orx_error *err) {
    orx_gguf_vtype et; uint64_t n;
    *n_out = 0;
    if (!orx_gguf_get_arr(g, key, &et, &n)) return ORX_OK;
    if (et != ORX_GGUF_STRING) return orx_fail(err, ORX_ERR_INVALID, "tokenizer: %s is not a string array", key);
    if (n > (1u << 24)) return orx_fail(err, ORX_ERR_RANGE, "tokenizer: %s has %llu entries (limit 16M)", key, (unsigned long long)n);
    int64_t k = orx_gguf_find_key(g, key);
    *ptrs = malloc((size_t)(n ? n : 1) * sizeof **ptrs);
    *lens = malloc((size_t)(n ? n : 1) * sizeof **lens);
    if (!*ptrs || !*lens) return orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        const char *s; uint64_t len;
        if (!orx_gguf_karr_str(g, k, i, &s, &len))
            return orx_fail(err, ORX_ERR_PARSE, "tokenizer: cannot read %s[%llu]", key, (unsigned long long)i);
        (*ptrs)[i] = s;
        (*lens)[i] = (size_t)len;
    }
    *n_out = (int32_t)n;
    return ORX_OK;
}

orx_status orx_tokenizer_load(const orx_gguf *g, orx_tokenizer **out, orx_error *err) {
    *out = NULL;
    orx_tokenizer_spec s = orx_tokenizer_default_spec();
    char *model = gguf_strdup(g, "tokenizer.ggml.model");
    char *pre = gguf_strdup(g, "tokenizer.ggml.pre");
    char *name = gguf_strdup(g, "general.name");
    const char **tokens = NULL, **merges = NULL;
    size_t *tlens = NULL, *mlens = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    orx_status st = ORX_OK;
    if (!model) { st = orx_fail(err, ORX_ERR_NOT_FOUND, "tokenizer: GGUF has no tokenizer.ggml.model"); goto done; }
    if ((st = gguf_str_array(g, "tokenizer.ggml.tokens", &tokens, &tlens, &s.n_vocab, err)) != ORX_OK) goto done;
    if (s.n_vocab == 0) { st = orx_fail(err, ORX_ERR_NOT_FOUND, "tokenizer: GGUF has no tokenizer.ggml.tokens"); goto done; }
    if ((st = gguf_str_array(g, "tokenizer.ggml.merges", &merges, &mlens, &s.n_merges, err)) != ORX_OK) goto done;
    orx_gguf_vtype et; uint64_t n;
    int64_t k;
    if (orx_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &n) && n == (uint64_t)s.n_vocab &&
        (k = orx_gguf_find_key(g, "tokenizer.ggml.scores")) >= 0) {
        scores = malloc(n * sizeof *scores);
        if (!scores) { st = orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory"); goto done; }
        for (uint64_t i = 0; i < n; i++)
            if (!orx_gguf_karr_f32(g, k, i, &scores[i])) scores[i] = 0.0f;
    }
    if (orx_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &n) && n == (uint64_t)s.n_vocab &&
        (k = orx_gguf_find_key(g, "tokenizer.ggml.token_type")) >= 0) {
        types = malloc(n * sizeof *types);
        if (!types) { st = orx_fail(err, ORX_ERR_NOMEM, "tokenizer: out of memory"); goto done; }
        for (uint64_t i = 0; i < n; i++) {
            int64_t v = 1;
            types[i] = orx_gguf_karr_i64(g, k, i, &v) ? (int32_t)v : 1;
        }
    }
    s.model = model; s.pre = pre; s.name = name;
    s.tokens = tokens; s.token_lens = tlens; s.scores = scores; s.types = types;
    s.merges = merges; s.merge_lens = mlens;
    s.bos = gguf_id(g, "tokenizer.ggml.bos_token_id");
    s.eos = gguf_id(g, "tokenizer.ggml.eos_token_id");
    s.unk = gguf_id(g, "tokenizer.ggml.unknown_token_id");
    s.sep = gguf_id(g, "tokenizer.ggml.seperator_token_id");
    s.pad = gguf_id(g, "tokenizer.ggml.padding_token_id");
    s.eot = gguf_id(g, "tokenizer.ggml.eot_token_id");
    s.eom = gguf_id(g, "tokenizer.ggml.eom_token_id");
    if (s.bos == ORX_TOK_DEFAULT) s.bos = gguf_id(g, "tokenizer.ggml.cls_token_id");
    s.add_bos = gguf_flag(g, "tokenizer.ggml.add_bos_token");
    s.add_eos = gguf_flag(g, "tokenizer.ggml.add_eos_token");
    s.add_sep = gguf_flag(g, "tokenizer.ggml.add_sep_token");
    s.add_space_prefix = gguf_flag(g, "tokenizer.ggml.add_space_prefix");
    st = orx_tokenizer_create(&s, out, err);
done:
    free(model); free(pre); free(name);
    free(tokens); free(tlens); free(merges); free(mlens); free(scores); free(types);
    return st;
}

/* ============================================================================================
 * Special-token partition: the text becomes a list of raw fragments and special token ids
 * ========================================================================================== */
typedef struct frag {
    int32_t token; /* special token id, or -1 for raw text */
    size_t  off;   /* raw: byte offset into the text */
    size_t  len;   /* raw: bytes */
} frag;

typedef struct frag_list { frag *v; size_t n, cap; } frag_list;

static bool frag_push(frag_list *l, frag f) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        frag *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return false;
        l->v = nv; l->cap = nc;
    }
    l->v[l->n++] = f;
    return true;
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0 || nn > hn) return NULL;
    return memmem(h, hn, n, nn);
}

/* cut special token `id` out of every raw fragment of *l (into a new list) */
static bool partition_one(const orx_tokenizer *t, const char *text, int32_t id, frag_list *l) {
    const char *tt = t->arena + t->tok_off[id];
    size_t tn = t->tok_len[id];
    frag_list nl = {0};
    bool ok = true;
    for (size_t i = 0; i < l->n && ok; i++) {
        frag f = l->v[i];
        const char *m;
        if (f.token >= 0 || !(m = find_bytes(text + f.off, f.len, tt, tn))) { ok = frag_push(&nl, f); continue; }
        size_t off = f.off, len = f.len;
        while (ok && len > 0 && (m = find_bytes(text + off, len, tt, tn))) {
            size_t mpos = (size_t)(m - text);
            size_t left = mpos - off;
            if (t->attr[id] & TA_LSTRIP)
                while (left > 0 && isspace((unsigned char)text[off + left - 1])) left--;
            if (left > 0) ok = ok && frag_push(&nl, (frag){-1, off, left});
            ok = ok && frag_push(&nl, (frag){id, 0, 0});
            size_t roff = mpos + tn, rlen = off + len - roff;
            if ((t->attr[id] & TA_RSTRIP))
                while (rlen > 0 && isspace((unsigned char)text[roff])) { roff++; rlen--; }
            off = roff; len = rlen;
        }
        if (ok && len > 0) ok = frag_push(&nl, (frag){-1, off, len});
    }
    free(l->v);
    *l = nl;
    return ok;
}

static bool partition(const orx_tokenizer *t, const char *text, size_t len, bool parse_special,
                      frag_list *l) {
    if (len == 0) return true;
    if (!frag_push(l, (frag){-1, 0, len})) return false;
    for (int32_t i = 0; i < t->n_special; i++) {
        int32_t id = t->special[i];
        if (!parse_special && (t->attr[id] & (TA_CONTROL | TA_UNKNOWN))) continue;
        if (!partition_one(t, text, id, l)) return false;
    }
    return true;
}

/* ============================================================================================
 * Tokenize
 * ========================================================================================== */
static void encode_spm_fragment(const orx_tokenizer *t, const char *s, size_t n, bool prefix,
                                tok_vec *out) {
    /* ' ' -> U+2581 '▁' (3 bytes), with the leading-space rule */
    size_t spaces = prefix ? 1 : 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    size_t cap = n + (prefix ? 1 : 0) + spaces * 2;
    char *buf = malloc(cap ? cap : 1);
    if (!buf) { out->oom = true; return; }
    size_t k = 0;
    if (prefix) { memcpy(buf, "\xe2\x96\x81", 3); k = 3; }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') { memcpy(buf + k, "\xe2\x96\x81", 3); k += 3; }
        else buf[k++] = s[i];
    }
    orx_tok_spm_encode(t, buf, k, out);
    free(buf);
}

/* cont: the text continues earlier text (no SPM space prefix before its first fragment). */
static int32_t tokenize(const orx_tokenizer *t, const char *text, size_t len, bool add_special,
                        bool parse_special, bool cont, int32_t *ids, int32_t cap) {
    if (!t || (!text && len)) return -1;
    frag_list fl = {0};
    tok_vec out = {0};
    if (!partition(t, text, len, parse_special, &fl)) { free(fl.v); return -1; }
    bool prev_special = !cont; /* SPM: space prefix for the first fragment */
    if (add_special && t->add_bos && t->bos >= 0) orx_tok_vec_push(&out, t->bos);
    for (size_t i = 0; i < fl.n; i++) {
        frag f = fl.v[i];
        if (f.token >= 0) { orx_tok_vec_push(&out, f.token); prev_special = true; continue; }
        switch (t->kind) {
        case TOK_SPM:
            encode_spm_fragment(t, text + f.off, f.len, t->add_space_prefix && prev_special, &out);
            break;
        case TOK_BPE: orx_tok_bpe_encode(t, text + f.off, f.len, &out); break;
        case TOK_WPM: orx_tok_wpm_encode(t, text + f.off, f.len, &out); break;
        }
        prev_special = false;
    }
    if (add_special && t->kind == TOK_WPM && t->add_sep && t->sep >= 0) orx_tok_vec_push(&out, t->sep);
    if (add_special && t->add_eos && t->eos >= 0) orx_tok_vec_push(&out, t->eos);
    free(fl.v);
    if (out.oom || out.n > INT32_MAX) { free(out.v); return -1; }
    int32_t n = (int32_t)out.n;
    if (ids && cap > 0 && n > 0) memcpy(ids, out.v, (size_t)(n < cap ? n : cap) * sizeof *ids);
    free(out.v);
    return n;
}

int32_t orx_tokenize(const orx_tokenizer *t, const char *text, size_t len, bool add_special,
                     bool parse_special, int32_t *ids, int32_t cap) {
    return tokenize(t, text, len, add_special, parse_special, false, ids, cap);
}

int32_t orx_tokenize_continuation(const orx_tokenizer *t, const char *text, size_t len, int32_t *ids, int32_t cap) {
    return tokenize(t, text, len, false, false, true, ids, cap);
}

/* ============================================================================================
 * Detokenize
 * ========================================================================================== */
static int32_t copy_out(const char *s, size_t n, char *buf, int32_t cap) {
    if (buf && cap > 0) memcpy(buf, s, n < (size_t)cap ? n : (size_t)cap);
    return (int32_t)n;
}

int32_t orx_token_to_piece_ex(const orx_tokenizer *t, int32_t id, bool special, char *buf,
                              int32_t cap) {
    if (!t || id < 0 || id >= t->n_vocab) return 0;
    uint16_t a = t->attr[id];
    const char *s = t->arena + t->tok_off[id];
    size_t n = t->tok_len[id];
    if (!special && (a & (TA_CONTROL | TA_UNKNOWN))) return 0;
    if (a & (TA_CONTROL | TA_UNKNOWN | TA_USER_DEFINED)) return copy_out(s, n, buf, cap);
    if (t->kind == TOK_BPE) {
        if (a & TA_NORMAL) return orx_tok_bpe_decode_text(s, n, buf, cap);
        return 0;
    }
    if (a & TA_NORMAL) { /* '▁' -> ' ' */
        int32_t k = 0;
        for (size_t i = 0; i < n;) {
            if (i + 3 <= n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                if (buf && k < cap) buf[k] = ' ';
                k++; i += 3;
            } else {
                if (buf && k < cap) buf[k] = s[i];
                k++; i++;
            }
        }
        return k;
    }
    if (a & TA_BYTE) {
        char byte = 0;
        if (n == 6 && memcmp(s, "<0x", 3) == 0) byte = (char)strtol((char[3]){s[3], s[4], 0}, NULL, 16);
        else if (n >= 1) byte = s[0];
        return copy_out(&byte, 1, buf, cap);
    }
    return 0;
}

int32_t orx_token_to_piece(const orx_tokenizer *t, int32_t id, char *buf, int32_t cap) {
    return orx_token_to_piece_ex(t, id, false, buf, cap);
}

int32_t orx_detokenize(const orx_tokenizer *t, const int32_t *ids, int32_t n, bool special,
                       char *buf, int32_t cap) {
    int64_t total = 0;
    bool strip = t && t->kind == TOK_SPM && t->add_space_prefix;
    for (int32_t i = 0; t && i < n; i++) {
        char tmp[256];
        int32_t need = orx_token_to_piece_ex(t, ids[i], special, tmp, (int32_t)sizeof tmp);
        char *p = tmp;
        char *big = NULL;
        if (need > (int32_t)sizeof tmp) {
            big = malloc((size_t)need);
            if (!big) return -1;
            orx_token_to_piece_ex(t, ids[i], special, big, need);
            p = big;
        }
        int32_t skip = 0;
        if (strip && need > 0) { if (p[0] == ' ') skip = 1; strip = false; }
        for (int32_t j = skip; j < need; j++) {
            if (buf && total < cap) buf[total] = p[j];
            total++;
        }
        free(big);
        if (total > INT32_MAX - 1024) return -1;
    }
    if (buf && cap > 0) buf[total < cap ? total : cap - 1] = '\0';
    return (int32_t)total;
}

/* ============================================================================================
 * Accessors
 * ========================================================================================== */
int32_t orx_tokenizer_n_vocab(const orx_tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t orx_tokenizer_bos(const orx_tokenizer *t) { return t ? t->bos : -1; }
int32_t orx_tokenizer_eos(const orx_tokenizer *t) { return t ? t->eos : -1; }
bool orx_tokenizer_add_bos(const orx_tokenizer *t) { return t && t->add_bos && t->bos >= 0; }
bool orx_tokenizer_is_eog(const orx_tokenizer *t, int32_t id) {
    if (!t || id < 0) return false;
    for (int32_t i = 0; i < t->n_eog; i++) if (t->eog[i] == id) return true;
    return false;
}
const char *orx_tokenizer_text(const orx_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    if (len) *len = t->tok_len[id];
    return t->arena + t->tok_off[id];
}
const char *orx_tokenizer_kind(const orx_tokenizer *t) { return t ? t->kind_name : ""; }
const char *orx_tokenizer_pre(const orx_tokenizer *t) { return t ? t->pre_name : ""; }
