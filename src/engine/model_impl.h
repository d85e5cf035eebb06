/*
 * model_impl.h — private structures shared by the engine's model, forward pass and generate
 * files (not part of the engine's face).
 */
#ifndef ORX_ENGINE_MODEL_IMPL_H
#define ORX_ENGINE_MODEL_IMPL_H

#include "engine/engine.h"
#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"

/* A weight matrix used in place from the map: n_out rows of n_in values of `type`. */
typedef struct orx_wmat {
    const void *data;  /* row-major [n_out][n_in] in ggml blocks; NULL when absent */
    uint32_t    type;  /* ggml type id */
    int64_t     n_in;  /* values per row */
    int64_t     n_out; /* rows */
} orx_wmat;

typedef struct orx_layer {
    float   *attn_norm;      /* [n_embd] */
    orx_wmat wq, wk, wv, wo; /* [n_head*hd][n_embd], [kv*hd][n_embd] x2, [n_embd][n_head*hd] */
    float   *bq, *bk, *bv;   /* biases or NULL: [n_head*hd], [kv*hd], [kv*hd] */
    float   *ffn_norm;       /* [n_embd] */
    float   *q_norm, *k_norm; /* [head_dim] per-head RMSNorm weights of queries / keys, or NULL */
    float   *attn_post_norm; /* [n_embd] norm of the attention output (gemma2/3), or NULL */
    float   *ffn_post_norm;  /* [n_embd] norm of the FFN output (gemma2/3), or NULL */
    orx_wmat gate, up, down; /* [n_ff][n_embd] x2, [n_embd][n_ff] */
    /* Fused views (data NULL when absent): one matmul instead of three / two, the activations
     * quantised once. Rows are the parts above, back to back, so results are identical. */
    orx_wmat wqkv;           /* [n_head*hd + 2*kv*hd][n_embd]: wq rows, wk rows, wv rows */
    orx_wmat wgu;            /* [2*n_ff][n_embd]: gate rows, then up rows */
} orx_layer;

typedef enum orx_ffn_act {
    ORX_ACT_SILU = 0, /* SwiGLU: silu(gate) * up */
    ORX_ACT_GELU = 1, /* GeGLU: gelu_tanh(gate) * up (gemma), ggml's F16 table of gelu */
} orx_ffn_act;

/* One architecture in the registry (arch.c). */
typedef struct orx_arch {
    const char   *name;          /* general.architecture */
    orx_rope_mode rope;          /* pair layout */
    bool          qkv_bias;      /* attention biases expected (optional when false) */
    bool          fused_qkv;     /* attn_qkv.weight [E][QD+2KD] may replace attn_q/k/v */
    bool          fused_gate_up; /* ffn_up.weight holds [gate; up] (2*n_ff rows), no ffn_gate */
    orx_ffn_act   act;           /* feed-forward activation */
    bool          embd_scale;    /* multiply embeddings by sqrt(n_embd) (gemma) */
    bool          qk_norm;       /* attn_q_norm / attn_k_norm [head_dim] required (qwen3, gemma3) */
    bool          post_norms;    /* post_attention_norm / post_ffw_norm required (gemma2/3) */
    bool          q_prescale;    /* queries scaled after RoPE, scores unscaled (gemma2/3) */
    int32_t       swa_pattern;   /* every n-th layer global, others sliding-window (0: none) */
    int32_t       swa_default;   /* window when attention.sliding_window is absent (0: no SWA then) */
    float         rope_base_swa; /* local layers' rope base when rope.freq_base_swa is absent (0: global's) */
    float         attn_softcap;  /* default attn_logit_softcapping (0: none unless the file says) */
    float         final_softcap; /* default final_logit_softcapping (0: none unless the file says) */
    int32_t       big_layers;    /* block_count of the variant whose query scale is 1/sqrt(n_embd/n_head)
                                    (Gemma 2 27B: 46, Gemma 3 27B: 62); 0: none */
} orx_arch;

const orx_arch *orx_arch_find(const char *name);

struct orx_model {
    const orx_arch *arch;   /* registry entry */
    orx_gguf   *g;          /* owns the mmap */
    orx_hparams hp;         /* hyperparameters */
    orx_wmat    tok_embd;   /* [n_vocab][n_embd] */
    orx_wmat    output;     /* [n_vocab][n_embd] (== tok_embd when tied) */
    float      *out_norm;   /* [n_embd] */
    float      *rope_freqs; /* [n_rot/2] frequency divisors or NULL */
    orx_layer  *layers;     /* [n_layer] */
    void       *arena;      /* resident copy of the matrices (anonymous, huge pages) or NULL */
    size_t      arena_bytes; /* mapped length of arena */
};

/* Key/value cache of one sequence (kv_cache.c): F32, or F16 for ORX_ATTN_F16_FLASH. */
typedef struct orx_kv_cache {
    void   *k;       /* [n_layer][n_ctx][kv_dim] float, or uint16_t F16 when f16 */
    void   *v;       /* [n_layer][n_ctx][kv_dim] as k */
    int32_t n_layer; /* blocks */
    int32_t n_ctx;   /* positions */
    int32_t kv_dim;  /* n_head_kv * head_dim */
    bool    f16;     /* elements are F16 (2 bytes) instead of F32 */
} orx_kv_cache;

orx_status orx_kv_cache_init(orx_kv_cache *kv, int32_t n_layer, int32_t n_ctx, int32_t kv_dim, bool f16,
                             orx_error *err);
void orx_kv_cache_free(orx_kv_cache *kv);
/* Row of layer il at position pos: float *, or uint16_t * when f16. */
void *orx_kv_cache_k(const orx_kv_cache *kv, int32_t il, int32_t pos);
void *orx_kv_cache_v(const orx_kv_cache *kv, int32_t il, int32_t pos);
/* Write position pos of layer il from the F32 rows k and v (rounded to nearest-even F16 when f16). */
void orx_kv_cache_store(orx_kv_cache *kv, int32_t il, int32_t pos, const float *k, const float *v);

#endif
