/*
 * attention.h — private: scaled dot-product attention of a chunk of query tokens over one layer's
 * KV cache (grouped query heads, causal). Two numerics (engine.h orx_attn_numerics): F32 cache
 * with softmax then weights x V, and F16 cache with flash attention's online softmax. Both round
 * the way ggml's CPU backend does; the fast paths (AVX-512, AVX2) give bit-identical results to the
 * reference (tests/test_attention.c checks with memcmp).
 *
 * Sliding windows and soft-capping (scores = cap * tanh(K.Q * scale / cap)) round like ggml
 * does for gemma2, whose scale is 1: with an F32 cache tanh(s * (1/cap)) * cap (ggml_scale,
 * ggml_tanh, ggml_scale before the softmax), positions outside the window weighing exactly 0 (a
 * -inf mask) while the partial sums keep their position-mod-16 slots; with flash numerics the
 * scale is divided by the cap and the score is cap * tanh(K.Q * scale), masked positions skipped.
 */
#ifndef ORX_ENGINE_ATTENTION_H
#define ORX_ENGINE_ATTENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/cpu/threadpool.h"

typedef enum orx_attn_impl {
    ORX_ATTN_IMPL_AUTO = 0, /* fast path where the CPU and the shape allow, else the reference */
    ORX_ATTN_IMPL_REF = 1,  /* reference: one (token, head) at a time (tests, comparisons) */
    ORX_ATTN_IMPL_AVX2 = 2, /* the AVX2 fast path even where AVX-512 is there (tests), else reference */
} orx_attn_impl;

typedef struct orx_attn_job {
    const float *q;         /* [n_tok][n_head][head_dim] queries (RoPE applied) */
    const void  *k;         /* this layer's keys [n_ctx][kv_stride]: float, or uint16_t F16 if f16 */
    const void  *v;         /* this layer's values, same layout as k */
    float       *out;       /* [n_tok][n_head][head_dim] attention output */
    size_t       kv_stride; /* elements between cache positions (>= n_head_kv * head_dim) */
    int32_t      n_tok;     /* query tokens in the chunk */
    int32_t      pos0;      /* position of the first; token t sees positions 0..pos0+t */
    int32_t      n_head;    /* query heads */
    int32_t      n_head_kv; /* KV heads (divides n_head) */
    int32_t      head_dim;  /* values per head */
    bool         f16;       /* F16 cache + flash numerics (ORX_ATTN_F16_FLASH); else F32 */
    int32_t      window;    /* sliding window: token at pos sees positions > pos - window (0: all) */
    float        scale;     /* scores = K.Q * scale (0: 1/sqrt(head_dim)) */
    float        softcap;   /* > 0: scores = cap * tanh(K.Q * scale / cap) (gemma2); 0: off */
} orx_attn_job;

/* Per-thread working memory, sized once per context (no allocation per call). */
typedef struct orx_attn_scratch orx_attn_scratch;

/* NULL when out of memory. n_threads: the most threads a run may use; n_ctx: positions. */
orx_attn_scratch *orx_attn_scratch_create(int n_threads, int32_t n_ctx, int32_t n_head,
                                          int32_t n_head_kv, int32_t head_dim);
void orx_attn_scratch_free(orx_attn_scratch *s);

/* Attention of the job's tokens, split over pool's threads (NULL: the caller alone) by
 * (token, KV head) items. The job's shapes must fit the scratch (pos0 + n_tok <= n_ctx). */
void orx_attn_run(orx_threadpool *pool, orx_attn_scratch *s, const orx_attn_job *job,
                  orx_attn_impl impl);

/* Whether ORX_ATTN_IMPL_AUTO takes a fast path for this head size on this CPU. */
bool orx_attn_fast_available(int32_t head_dim);

#endif /* ORX_ENGINE_ATTENTION_H */
