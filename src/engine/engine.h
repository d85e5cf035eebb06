/*
 * engine.h — the face of the local inference engine: load a GGUF model, run the transformer
 * forward pass over a KV cache, sample, apply chat templates, decode (with a JSON-schema grammar
 * and drafts) and generate text. Architectures: llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3
 * (table in arch.c). Tokenizers: engine/tokenizer/tokenizer.h; grammar: engine/grammar.h.
 *
 * Inside (not part of this face): engine/cpu/ holds the tensor types, kernels, CPU dispatch and
 * thread pool (engine/cpu/quant.h, threadpool.h) — weights are copied once into a resident arena
 * (or used in place from the GGUF mmap), every matrix product goes through orx_matmul; activations
 * are F32.
 */
#ifndef ORX_ENGINE_H
#define ORX_ENGINE_H

#include "openrx.h"
#include "gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/grammar.h"

/* ============================================================================================
 * Model
 * ========================================================================================== */
typedef enum orx_rope_mode {
    ORX_ROPE_NORMAL = 0, /* rotate adjacent pairs (x[2i], x[2i+1]) — llama GGUF files */
    ORX_ROPE_NEOX = 1,   /* rotate halves (x[i], x[i + d/2]) — qwen2, gemma, phi3 */
} orx_rope_mode;

typedef struct orx_hparams {
    char          arch[32];        /* general.architecture */
    int32_t       n_vocab;         /* tokens */
    int32_t       n_embd;          /* model width */
    int32_t       n_layer;         /* blocks */
    int32_t       n_head;          /* query heads */
    int32_t       n_head_kv;       /* key/value heads (GQA) */
    int32_t       head_dim;        /* values per head */
    int32_t       n_ff;            /* feed-forward width */
    int32_t       n_ctx_train;     /* trained context, tokens */
    int32_t       n_rot;           /* rotated values per head (rope.dimension_count) */
    float         rope_base;       /* rope.freq_base */
    float         rope_freq_scale; /* 1/linear scaling factor (1 = none) */
    float         rms_eps;         /* attention.layer_norm_rms_epsilon */
    orx_rope_mode rope_mode;       /* pair layout */
    bool          tied_output;     /* output = token_embd (no output.weight) */
    bool          has_rope_freqs;  /* per-dimension frequency factors (llama3 scaling) */
    /* sliding-window layers (gemma2/gemma3; n_swa = 0: every layer is global) */
    int32_t       n_swa;           /* attention.sliding_window: positions a local layer sees, itself incl. */
    int32_t       swa_pattern;     /* every swa_pattern-th layer is global, the others local (0: none) */
    float         rope_base_swa;   /* rope.freq_base of the local layers */
    float         rope_scale_swa;  /* 1/linear scaling factor of the local layers */
    /* attention and output shaping (0 = off) */
    float         attn_softcap;    /* attn_logit_softcapping: scores = cap * tanh(scores / cap) */
    float         final_softcap;   /* final_logit_softcapping: logits = cap * tanh(logits / cap) */
    float         q_scale;         /* queries multiplied by this after RoPE (gemma: 1/sqrt(head size)); 1 = none */
    float         kq_scale;        /* attention scores scale (1/sqrt(head_dim), or 1 when q_scale applies) */
    bool          qk_norm;         /* per-head RMSNorm of queries and keys before RoPE (qwen3, gemma3) */
    bool          post_norms;      /* RMSNorm of the attention and FFN outputs before the residual (gemma2/3) */
} orx_hparams;

/* Whether layer il is a sliding-window (local) layer. */
bool orx_hparams_layer_swa(const orx_hparams *hp, int32_t il);

typedef struct orx_model orx_model;

typedef struct orx_model_params {
    bool use_mmap; /* true: matrices used in place from the file map (page-cache pages, no fusion);
                      false (default): copied once into anonymous memory on huge pages, with
                      q/k/v and gate/up rows laid back to back so each pair is one matmul. Decode
                      reads the copy ~20 % faster (fewer TLB misses); results are identical. */
    bool no_repack; /* with the copy: false (default) lays Q4_0, Q4_K, Q5_K, Q6_K and Q8_0 matrices out 16
                       rows to a register where this CPU's kernels want it (AVX-512 without AMX;
                       quant.h, the _R16 types):
                       the same values, summed in another order (logits differ in the last bits);
                       true keeps the file's layout (results identical to use_mmap). */
} orx_model_params;

orx_model_params orx_model_default_params(void);
/* Open + validate a GGUF model: architecture, hyperparameters, every tensor's shape and type. */
orx_status orx_model_load(const char *path, orx_model **out, orx_error *err);
orx_status orx_model_load_params(const char *path, const orx_model_params *p, orx_model **out,
                                 orx_error *err);
void orx_model_free(orx_model *m);
const orx_hparams *orx_model_hparams(const orx_model *m);
/* Bytes of weights held in the resident copy (0: used in place from the file map). */
size_t orx_model_resident_bytes(const orx_model *m);
const orx_gguf *orx_model_gguf(const orx_model *m);
/* Architectures the engine can run (NULL-terminated list of general.architecture names). */
const char *const *orx_engine_architectures(void);

/* ============================================================================================
 * Context: KV cache + scratch, one sequence
 * ========================================================================================== */
/* Attention numerics. Both are exact softmax attention; they differ only in rounding, and match
 * llama.cpp's two CPU paths bit for bit where the rest of the computation does. */
typedef enum orx_attn_numerics {
    ORX_ATTN_F32 = 0,       /* F32 KV cache, softmax then weights x V (llama.cpp -fa off, F32 cache) */
    ORX_ATTN_F16_FLASH = 1, /* K/V (and Q) rounded to F16, online softmax accumulating V in F16
                               (llama.cpp's defaults on CPU: F16 cache, flash attention) */
} orx_attn_numerics;

typedef struct orx_context_params {
    int32_t n_ctx;     /* tokens of KV cache; 0 = min(n_ctx_train, 4096) */
    int32_t n_threads; /* 0 = the machine's cores (orx_threadpool_default_threads) */
    int32_t n_batch;   /* tokens per forward chunk during prompt evaluation (default 256: each
                          weight is read once per chunk; scratch grows with it) */
    orx_attn_numerics attn; /* KV cache and attention rounding (default ORX_ATTN_F16_FLASH: F16
                               cache, half the memory, llama.cpp's CPU default) */
    const struct orx_context *share_threads; /* run on this context's workers instead of new ones
                               (n_threads ignored; it must outlive this context, and the two are
                               never evaluated at the same time: a draft model's context), or NULL */
} orx_context_params;

typedef struct orx_context orx_context;

orx_context_params orx_context_default_params(void);
orx_status orx_context_create(const orx_model *m, const orx_context_params *p, orx_context **out,
                              orx_error *err);
void orx_context_free(orx_context *c);
int32_t orx_context_n_ctx(const orx_context *c);
int32_t orx_context_n_past(const orx_context *c); /* tokens in the KV cache */
int32_t orx_context_n_vocab(const orx_context *c); /* logits per row */
void orx_context_reset(orx_context *c);           /* empty the KV cache */
/* Keep only the first n_keep positions of the KV cache (prefix reuse); ORX_ERR_RANGE if n_keep
 * exceeds n_past. The logits of the last eval are dropped. */
orx_status orx_context_truncate(orx_context *c, int32_t n_keep);

/* Feed n tokens at positions n_past.. (prompt batch or one decode token). all_logits: keep the
 * logits of every token (else only the last). ORX_ERR_RANGE if the cache would overflow. */
orx_status orx_context_eval(orx_context *c, const int32_t *tokens, int32_t n, bool all_logits,
                            orx_error *err);
/* Evaluate n tokens (drafted continuations) in one pass with every logits row exactly as n
 * one-token evals would give it (bit for bit: the decode kernels, each weight chunk read from
 * memory once for all n), all rows kept. Verifying drafts with these rows gives exactly the
 * tokens step-by-step decoding would choose. */
orx_status orx_context_eval_decode(orx_context *c, const int32_t *tokens, int32_t n, orx_error *err);
/* The same with the logits of tokens from..n-1 only (from = n: none; the output head is skipped for
 * the others): rows a caller will not read (tokens followed by a forced token) cost nothing. Each
 * kept row is the one orx_context_eval_decode gives; orx_context_logits(c, i) is NULL for i < from. */
orx_status orx_context_eval_decode_from(orx_context *c, const int32_t *tokens, int32_t n, int32_t from,
                                        orx_error *err);
/* Logits [n_vocab] of token i of the last eval (i = -1: the last token); NULL if not kept. */
const float *orx_context_logits(const orx_context *c, int32_t i);

/* ============================================================================================
 * Sampling
 * ========================================================================================== */
typedef struct orx_sampler_params {
    float    temp;             /* <= 0: greedy (argmax) */
    int32_t  top_k;            /* <= 0: off */
    float    top_p;            /* >= 1: off */
    float    min_p;            /* <= 0: off */
    float    repeat_penalty;   /* 1: off; logits of recent tokens divided (>0) / multiplied (<0) */
    float    presence_penalty; /* 0: off; subtracted once from recent tokens' logits */
    int32_t  repeat_last_n;    /* window of recent tokens for the penalties */
    uint64_t seed;             /* RNG seed: same seed, same output */
} orx_sampler_params;

typedef struct orx_sampler orx_sampler;

orx_sampler_params orx_sampler_default_params(void); /* temp 0.8, top_k 40, top_p 0.95, min_p 0.05 */
orx_sampler *orx_sampler_create(const orx_sampler_params *p); /* NULL on OOM */
void orx_sampler_free(orx_sampler *s);
/* Choose a token from logits[n_vocab] (logits are not modified). -1 on OOM. */
int32_t orx_sampler_sample(orx_sampler *s, const float *logits, int32_t n_vocab);
/* Record a token (prompt or generated) for the repetition penalties. */
void orx_sampler_accept(orx_sampler *s, int32_t token);
/* Greedy helper: index of the largest logit (first on ties). */
int32_t orx_argmax(const float *logits, int32_t n);

/* ============================================================================================
 * Chat templates
 * ========================================================================================== */
typedef enum orx_chat_template {
    ORX_CHAT_UNKNOWN = 0,
    ORX_CHAT_LLAMA2,
    ORX_CHAT_LLAMA3,
    ORX_CHAT_MISTRAL,
    ORX_CHAT_CHATML,
    ORX_CHAT_GEMMA,
    ORX_CHAT_PHI3,
    ORX_CHAT_ZEPHYR,
    ORX_CHAT_VICUNA,
    ORX_CHAT_QWEN3,   /* chatml; the assistant turn opens with an empty <think></think> block
                         (Qwen3's enable_thinking=false: answers without a reasoning preamble) */
} orx_chat_template;

typedef struct orx_chat_msg {
    const char *role;    /* "system", "user", "assistant" */
    const char *content; /* UTF-8 text */
} orx_chat_msg;

const char *orx_chat_template_name(orx_chat_template t); /* "llama3"; "unknown" */
/* By name (case-insensitive: llama2, llama3, mistral, chatml, qwen, gemma, phi3, zephyr, vicuna,
 * qwen3). */
orx_chat_template orx_chat_template_by_name(const char *name);
/* Recognise a Jinja template text (tokenizer.chat_template) by its distinctive substrings. */
orx_chat_template orx_chat_template_detect(const char *tmpl, size_t len);
/* Template of a model: tokenizer.chat_template recognised; ORX_ERR_UNSUPPORTED (naming the
 * options) when it is absent or not recognised. */
orx_status orx_chat_template_of(const orx_gguf *g, orx_chat_template *out, orx_error *err);
/* Render messages into buf (NUL-terminated when it fits); returns the needed length (excl. NUL).
 * add_assistant: end with the assistant turn's opening. BOS is not included (tokenizer adds it). */
int64_t orx_chat_apply(orx_chat_template t, const orx_chat_msg *msgs, size_t n, bool add_assistant,
                       char *buf, size_t cap);

/* ============================================================================================
 * Generation: one decode loop (orx_decode) under the command line's orx_generate and the local
 * LLM backend
 * ========================================================================================== */
/* Called per generated token with its text piece; return false to stop. */
typedef bool (*orx_token_fn)(void *ud, int32_t token, const char *piece, size_t len);

/* Draft model (speculative decoding, engine/draft_model.c): a small model with the target's
 * vocabulary proposes tokens greedily (under the same grammar mask and budget) in its own context;
 * the target verifies them in one pass and keeps them up to the first token it does not choose
 * itself, so the output is exactly that of decoding without it. The drafter keeps its context in
 * step with the target's tokens (orx_drafter_sync: the common prefix is kept, the rest evaluated),
 * so a prompt it has seen before is not evaluated again. */
typedef struct orx_drafter orx_drafter;

/* Whether draft can draft for target: the same number of logits and the same token texts
 * (tokenizer.ggml.tokens, compared one by one). ORX_ERR_INVALID naming both files (the names
 * given) and the first difference otherwise. */
orx_status orx_draft_vocab_check(const orx_model *target, const char *target_name, const orx_model *draft,
                                 const char *draft_name, orx_error *err);
/* A drafter on the draft model (borrowed: it must outlive the drafter) with its own context (cp:
 * n_ctx should be the target context's), proposing at most max_tokens (1..64) per pass. */
orx_status orx_drafter_create(const orx_model *draft, const orx_context_params *cp, int32_t max_tokens,
                              orx_drafter **out, orx_error *err);
void orx_drafter_free(orx_drafter *d);
/* Bring the draft context to tokens[0..n) with the logits of the last (done lazily by decoding;
 * call it after the prompt to evaluate the prompt on the draft model at prompt time). */
orx_status orx_drafter_sync(orx_drafter *d, const int32_t *tokens, int32_t n, orx_error *err);

typedef struct orx_decode_params {
    int32_t            n_predict;   /* max new tokens */
    bool               stop_at_eog; /* stop at an end-of-generation token (not emitted) */
    orx_sampler_params sampling;    /* sampler settings */
    const orx_grammar *grammar;     /* constrain the answer to a JSON schema (engine/grammar.h), or NULL */
    const orx_gvocab  *gvocab;      /* the tokenizer's trie (needed with a grammar and for forced drafts) */
    bool               draft;       /* evaluate the grammar's forced run in one pass, draft ahead (forced
                                       bytes after a guessed space, n-grams of the history and answer)
                                       and verify in the same pass; the tokens do not change */
    orx_drafter       *drafter;     /* draft model proposing when the other drafts give nothing, or NULL
                                       (history must then be every token in the context) */
    const int32_t     *history;     /* tokens before the answer (the prompt): penalties, n-gram drafts */
    int32_t            n_history;
    const char        *replay;      /* benchmarks, with a grammar: instead of sampling, choose the next
                                       token of these bytes in the tokenizer's own encoding (as a model
                                       trained on it writes them), else the allowed token that spells
                                       most of them (an answer of realistic length for weights that
                                       cannot write one); NULL = sample */
    size_t             n_replay;    /* its length in bytes */
} orx_decode_params;

typedef struct orx_decode_stats {
    int32_t n_gen;      /* tokens taken */
    int32_t n_passes;   /* model evaluations after the first token was chosen */
    int32_t n_drafted;  /* drafted tokens evaluated */
    int32_t n_accepted; /* of them kept */
    int32_t n_forced;   /* tokens the grammar forced, taken without sampling (jump-forward) */
    int32_t n_model_drafted;  /* of the drafted tokens: proposed by the draft model */
    int32_t n_model_accepted; /* of them kept */
    double  t_draft_s;  /* seconds in the draft model (proposals and keeping its context in step) */
    double  t_first_s;  /* seconds from the call to the first chosen token (-1: none) */
} orx_decode_stats;

orx_decode_params orx_decode_default_params(void); /* 128 tokens, stop at EOG, default sampler */
/* Sample up to n_predict tokens after the context's contents, starting from `first` (logits of the
 * last evaluated token; NULL = orx_context_logits(c, -1)), calling on_token for each taken token
 * and evaluating it (with a draft when p->draft). Stops at end of generation, when on_token
 * returns false, when the grammar's value is complete, or when the context is full. */
orx_status orx_decode(orx_context *c, const orx_tokenizer *tok, const float *first, const orx_decode_params *p,
                      orx_token_fn on_token, void *ud, orx_decode_stats *stats, orx_error *err);

typedef struct orx_generate_params {
    int32_t            n_predict; /* max new tokens */
    bool               stop_at_eog; /* stop at an end-of-generation token (not emitted) */
    orx_sampler_params sampling;  /* sampler settings */
    int32_t            n_cached;  /* prefix cache: the first n_cached prompt tokens are already in
                                     the context at positions 0.. (an earlier run); the context is
                                     cut back to them and only the rest is evaluated. 0 = none */
    orx_drafter       *drafter;   /* draft model (speculative decoding), or NULL */
} orx_generate_params;

typedef struct orx_generate_stats {
    int32_t n_prompt;    /* prompt tokens evaluated */
    int32_t n_reused;    /* prompt tokens taken from the prefix cache instead */
    int32_t n_gen;       /* tokens generated */
    double  t_prompt_s;  /* seconds for prompt evaluation (incl. first logits) */
    double  t_gen_s;     /* seconds for the generated tokens after the first */
    double  t_first_s;   /* time to first token, seconds */
    orx_decode_stats decode; /* the decode loop's: passes, drafted and kept tokens */
} orx_generate_stats;

orx_generate_params orx_generate_default_params(void);
/* Evaluate prompt (appended after the cache contents, or after its first p->n_cached tokens),
 * then orx_decode up to n_predict tokens, calling on_token for each. tok may be NULL (pieces then
 * empty). */
orx_status orx_generate(orx_context *c, const orx_tokenizer *tok, const int32_t *prompt,
                        int32_t n_prompt, const orx_generate_params *p, orx_token_fn on_token,
                        void *ud, orx_generate_stats *stats, orx_error *err);

#endif /* ORX_ENGINE_H */
