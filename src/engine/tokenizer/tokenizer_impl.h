/*
 * tokenizer_impl.h — private to src/engine/tokenizer*.c: the tokenizer struct, the id vector,
 * hashing, UTF-8 helpers and the per-kind entry points.
 */
#ifndef ORX_ENGINE_TOKENIZER_IMPL_H
#define ORX_ENGINE_TOKENIZER_IMPL_H

#include "engine/tokenizer/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ============================================================================================
 * Kinds, pre-tokenizers, token attributes
 * ========================================================================================== */
typedef enum { TOK_SPM = 1, TOK_BPE = 2, TOK_WPM = 3 } tok_kind;

enum { /* token attribute bits (from GGUF token types + llama.cpp's per-model fixes) */
    TA_UNDEFINED = 0,
    TA_UNKNOWN = 1 << 0,
    TA_UNUSED = 1 << 1,
    TA_NORMAL = 1 << 2,
    TA_CONTROL = 1 << 3,
    TA_USER_DEFINED = 1 << 4,
    TA_BYTE = 1 << 5,
    TA_LSTRIP = 1 << 7,
    TA_RSTRIP = 1 << 8,
};

#define TOK_MAX_REGEX 8

struct orx_tokenizer {
    tok_kind kind;           /* algorithm */
    char     kind_name[8];   /* "llama" / "gpt2" / "bert" */
    char     pre_name[32];   /* pre-tokenizer name, "default" if none */
    int32_t  n_vocab;        /* tokens */
    char    *arena;          /* all token texts, back to back */
    uint64_t *tok_off;       /* [n_vocab] byte offset of each text in arena */
    uint32_t *tok_len;       /* [n_vocab] bytes */
    float    *scores;        /* [n_vocab] SPM scores */
    uint16_t *attr;          /* [n_vocab] TA_* bits */
    int32_t  *ht;            /* text -> id open-addressing table, -1 empty */
    uint64_t  ht_mask;       /* table size - 1 */
    uint32_t  max_token_len; /* longest token text, bytes */

    /* BPE merges: (left, right) -> rank */
    char     *m_arena;       /* merge strings back to back */
    uint64_t *m_off;         /* [n_merges] offset in m_arena */
    uint32_t *m_len;         /* [n_merges] bytes */
    uint32_t *m_split;       /* [n_merges] length of the left part */
    int32_t   n_merges;      /* entries */
    int32_t  *m_ht;          /* hash table of merge index, -1 empty */
    uint64_t  m_mask;        /* table size - 1 */
    bool      ignore_merges; /* llama3: a word already in the vocab is one token */

    pcre2_code *re[TOK_MAX_REGEX]; /* pre-tokenizer split patterns, applied in order */
    int         n_re;              /* count */

    int32_t bos, eos, unk, sep, pad, eot, eom; /* special ids, -1 none */
    bool add_bos, add_eos, add_sep, add_space_prefix; /* flags from metadata / defaults */
    int32_t byte_tok[256];   /* SPM byte fallback ids (-1 none) */
    int32_t *special;        /* control/user-defined/unknown ids, longest text first */
    int32_t  n_special;      /* entries */
    int32_t *eog;            /* end-of-generation ids */
    int32_t  n_eog;          /* entries */
};

/* ============================================================================================
 * Shared helpers (tokenizer.c)
 * ========================================================================================== */
typedef struct tok_vec {
    int32_t *v;   /* ids */
    size_t   n;   /* used */
    size_t   cap; /* allocated */
    bool     oom; /* an append failed */
} tok_vec;
void orx_tok_vec_push(tok_vec *v, int32_t id);

uint64_t orx_tok_hash(const void *p, size_t n, uint64_t h);
#define TOK_HASH_SEED 0xcbf29ce484222325ULL
/* id of the token whose text is exactly s[0..n), -1 if none */
int32_t orx_tok_find(const orx_tokenizer *t, const char *s, size_t n);
/* byte length of the UTF-8 sequence starting with lead byte c (llama.cpp's table: 1 for
 * continuation bytes) */
static inline size_t tok_utf8_len(unsigned char c) {
    static const unsigned char lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[c >> 4];
}
/* decode one codepoint from valid UTF-8 at s (n bytes available); returns bytes used */
size_t orx_tok_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
size_t orx_tok_utf8_encode(uint32_t cp, char out[4]);

/* symbols being merged (SPM and BPE): a doubly linked list over the text */
typedef struct tok_sym {
    int32_t  prev; /* previous live symbol, -1 none */
    int32_t  next; /* next live symbol, -1 none */
    uint32_t off;  /* byte offset in the text */
    uint32_t n;    /* bytes; 0 once merged into its left neighbour */
} tok_sym;
/* candidate merge of symbols left+right (BPE stores -rank as score) */
typedef struct tok_bigram {
    float    score; /* higher merges first */
    int32_t  left;  /* symbol index; ties: lower first */
    int32_t  right; /* symbol index */
    uint32_t size;  /* bytes of the merged text when queued (stale check) */
} tok_bigram;
typedef struct tok_heap { tok_bigram *v; size_t n, cap; } tok_heap;
bool orx_tok_heap_push(tok_heap *h, tok_bigram b); /* false on OOM */
tok_bigram orx_tok_heap_pop(tok_heap *h);          /* h->n > 0 */
/* Queue the merge of symbols l and r if the kind allows it (l or r -1: nothing); false on OOM. */
typedef bool (*tok_pair_fn)(const orx_tokenizer *t, const char *text, const tok_sym *sy, int32_t l, int32_t r,
                            tok_heap *h);
/* The merge loop SPM and BPE share: text[0..len) (len > 0) as one symbol per UTF-8 character in sy
 * (len entries), then the best queued pair merged until none is left, each merge queueing the
 * new neighbours. Live symbols: the chain from sy[0]. false on OOM. */
bool orx_tok_merge(const orx_tokenizer *t, const char *text, size_t len, tok_sym *sy, tok_heap *h, tok_pair_fn pair);

/* ============================================================================================
 * Per-kind parts
 * ========================================================================================== */
/* spm.c: text (already '▁'-escaped) -> ids */
void orx_tok_spm_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out);
/* bpe.c */
orx_status orx_tok_bpe_setup(orx_tokenizer *t, orx_error *err); /* regexes for t->pre_name */
void orx_tok_bpe_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out);
int32_t orx_tok_bpe_merge_rank(const orx_tokenizer *t, const char *l, size_t ln, const char *r,
                           size_t rn);
/* GPT-2 byte-level decode of a token text into buf (returns needed length) */
int32_t orx_tok_bpe_decode_text(const char *s, size_t n, char *buf, int32_t cap);
/* wpm.c */
void orx_tok_wpm_encode(const orx_tokenizer *t, const char *text, size_t len, tok_vec *out);

#endif /* ORX_ENGINE_TOKENIZER_IMPL_H */
