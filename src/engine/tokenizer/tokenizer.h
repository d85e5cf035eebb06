/*
 * tokenizer.h — text <-> token ids for GGUF models, matching llama.cpp's tokenizers token for token.
 *
 * Kinds (tokenizer.ggml.model):
 *   "llama"  SentencePiece-style: merge the adjacent pair whose merged text is the highest-score
 *            token (ties: leftmost), '▁' for spaces, leading-space rule, <0xNN> byte fallback.
 *   "gpt2"   byte-level BPE: pre-tokenizer regexes chosen by tokenizer.ggml.pre (PCRE2, UTF + UCP),
 *            GPT-2 byte-to-unicode mapping, merges by rank (tokenizer.ggml.merges).
 *   "bert"   WordPiece: lower-case, accent strip, punctuation split, greedy longest match.
 * Special tokens (control / user-defined) are recognised in the text when parse_special is set
 * (user-defined ones always, as llama.cpp does); BOS/EOS are added per tokenizer.ggml.add_*_token.
 *
 * A tokenizer is immutable after load and may be used from several threads at once.
 */
#ifndef ORX_ENGINE_TOKENIZER_H
#define ORX_ENGINE_TOKENIZER_H

#include "openrx.h"
#include "gguf/gguf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct orx_tokenizer orx_tokenizer;

/* ============================================================================================
 * Loading
 * ========================================================================================== */

/* Build from the tokenizer.ggml.* keys of an open GGUF. Everything needed is copied: the GGUF may
 * be closed afterwards. Unknown tokenizer.ggml.model / .pre values are ORX_ERR_UNSUPPORTED. */
orx_status orx_tokenizer_load(const orx_gguf *g, orx_tokenizer **out, orx_error *err);
void orx_tokenizer_free(orx_tokenizer *tok);

/* Lower-level constructor from arrays (what orx_tokenizer_load reads), for tests and tools.
 * Fill with orx_tokenizer_default_spec() first; ORX_TOK_DEFAULT in an id / flag means "the
 * model's default" (llama: bos 1, eos 2, unk 0, add_bos, space prefix; gpt2: bos = eos = 11). */
#define ORX_TOK_DEFAULT (-2)
typedef struct orx_tokenizer_spec {
    const char *model;             /* "llama" | "gpt2" | "bert" */
    const char *pre;               /* tokenizer.ggml.pre, NULL = "default" */
    const char *name;              /* general.name (llama.cpp's phi-3 rstrip rule); may be NULL */
    int32_t n_vocab;               /* entries in tokens/scores/types */
    const char *const *tokens;     /* [n_vocab] token texts (not necessarily NUL-terminated) */
    const size_t *token_lens;      /* [n_vocab] bytes, or NULL: strlen */
    const float *scores;           /* [n_vocab] SPM scores, or NULL: all 0 */
    const int32_t *types;          /* [n_vocab] GGUF token types 1..6, or NULL: all normal */
    int32_t n_merges;              /* entries in merges */
    const char *const *merges;     /* [n_merges] "left right" (BPE), rank = index */
    const size_t *merge_lens;      /* [n_merges] bytes, or NULL: strlen */
    int32_t bos, eos, unk, sep, pad, eot, eom; /* token ids; -1 none; ORX_TOK_DEFAULT */
    int32_t add_bos, add_eos, add_sep;         /* 0/1; ORX_TOK_DEFAULT */
    int32_t add_space_prefix;                  /* 0/1; ORX_TOK_DEFAULT */
} orx_tokenizer_spec;
orx_tokenizer_spec orx_tokenizer_default_spec(void);
orx_status orx_tokenizer_create(const orx_tokenizer_spec *spec, orx_tokenizer **out,
                                orx_error *err);

/* ============================================================================================
 * Use
 * ========================================================================================== */

/* Tokenize UTF-8 text (invalid UTF-8 is tolerated). add_special: BOS/EOS (and bert's CLS/SEP) per
 * metadata; parse_special: recognise control-token texts like <|im_start|>. Writes up to cap ids,
 * returns the number needed (call again with a bigger buffer if > cap), or -1 on error (OOM). */
int32_t orx_tokenize(const orx_tokenizer *tok, const char *text, size_t len, bool add_special,
                     bool parse_special, int32_t *ids, int32_t cap);
/* Tokenize text that continues earlier text, as a model writes it after the prompt: no BOS/EOS,
 * control-token texts are plain text, and no SPM space prefix before the first word (the bytes
 * are spelled exactly: "{" stays "{", " x" keeps its one space). Same return as orx_tokenize. */
int32_t orx_tokenize_continuation(const orx_tokenizer *t, const char *text, size_t len, int32_t *ids, int32_t cap);

/* Bytes of the piece for a token id (SPM: '▁' -> ' ', <0xNN> -> the byte; BPE: byte-level decode).
 * Control and unknown tokens give "" (they are not text); user-defined tokens give their text.
 * Writes up to cap bytes (no NUL), returns the needed length; 0 for an out-of-range id. */
int32_t orx_token_to_piece(const orx_tokenizer *tok, int32_t id, char *buf, int32_t cap);
/* Same, with special = true rendering control/unknown tokens as their text. */
int32_t orx_token_to_piece_ex(const orx_tokenizer *tok, int32_t id, bool special, char *buf,
                              int32_t cap);
/* Concatenated pieces of ids (the SPM leading space of the first piece removed); NUL-terminated
 * when it fits; returns the needed length excluding the NUL. */
int32_t orx_detokenize(const orx_tokenizer *tok, const int32_t *ids, int32_t n, bool special,
                       char *buf, int32_t cap);

int32_t orx_tokenizer_n_vocab(const orx_tokenizer *tok);
int32_t orx_tokenizer_bos(const orx_tokenizer *tok); /* -1 if none */
int32_t orx_tokenizer_eos(const orx_tokenizer *tok); /* -1 if none */
bool    orx_tokenizer_add_bos(const orx_tokenizer *tok); /* BOS added when add_special */
/* End of generation: eos, eot, eom and tokens like <|im_end|>, <|eot_id|>, <|end|>. */
bool    orx_tokenizer_is_eog(const orx_tokenizer *tok, int32_t id);
/* Raw vocabulary text of a token (not NUL-terminated); NULL for an out-of-range id. */
const char *orx_tokenizer_text(const orx_tokenizer *tok, int32_t id, size_t *len);
/* "llama" | "gpt2" | "bert"; and the pre-tokenizer name in use ("default" if none). */
const char *orx_tokenizer_kind(const orx_tokenizer *tok);
const char *orx_tokenizer_pre(const orx_tokenizer *tok);

#endif /* ORX_ENGINE_TOKENIZER_H */
