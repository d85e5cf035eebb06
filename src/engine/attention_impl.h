/*
 * attention_impl.h — PRIVATE to engine/attention.c and the per-ISA attention tiles
 * (engine/cpu/x86/avx2.c, avx512.c): a thread's buffers, the window, scale and soft-capping every
 * path shares, and the scalar steps the fast paths inline (attention.c describes the numerics).
 */
#ifndef ORX_ENGINE_ATTENTION_IMPL_H
#define ORX_ENGINE_ATTENTION_IMPL_H

#include "engine/attention.h"
#include "engine/cpu/vexp.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#define ORX_INLINE static inline __attribute__((always_inline))
#ifdef ORX_ATTN_PROFILE /* profiling builds: the stages as separate symbols */
#define ORX_STAGE static __attribute__((noinline))
#else
#define ORX_STAGE ORX_INLINE
#endif

/* One thread's buffers. */
typedef struct orx_attn_buf {
    float *sc;   /* [n_ctx * group (+16)] scores, then weights: [position][head of the group] */
    float *aux;  /* [n_ctx * group (+16)] flash: rescale factor per (position, head) */
    float *part; /* [16][group][head_dim] partial sums of weights x V */
    float *qr;   /* [group][head_dim] queries rounded to F16 */
    float *kb;   /* [head_dim] reference: a K row in F32 */
    float *vb;   /* [head_dim] reference: a V row in F32 */
    float *acc;  /* [head_dim] reference: flash accumulator */
    float *st;   /* [2][group] per-head state (max / sum, or max / 1/sum) */
} orx_attn_buf;

/* ============================================================================================
 * Window, scale and soft-capping (shared by every path)
 * ========================================================================================== */
/* First cache position the token at pos sees. */
static inline int32_t first_pos(const orx_attn_job *j, int32_t pos) {
    return j->window > 0 && pos - j->window + 1 > 0 ? pos - j->window + 1 : 0;
}

static inline float kq_scale(const orx_attn_job *j) {
    return j->scale > 0 ? j->scale : 1.0f / sqrtf((float)j->head_dim);
}

/* The factor applied to K.Q by the scores loops. Soft-capped scores are cap * tanh(K.Q * scale /
 * cap) in both numerics, rounded as ggml does for gemma2 (scale 1 there): flash folds 1/cap into
 * the scale and multiplies cap * tanh(s) (ggml's flash attention); the F32 path scales first (an
 * exact no-op at scale 1) and then computes tanh(s * (1/cap)) * cap (ggml_scale, ggml_tanh,
 * ggml_scale before the softmax). */
static inline float score_scale(const orx_attn_job *j) {
    if (!(j->softcap > 0) || !j->f16) return kq_scale(j);
    return kq_scale(j) / j->softcap;
}

/* Soft-capping of n scores that score_scale() produced (nothing without a cap). */
static inline void shape_scores(const orx_attn_job *j, float *sc, size_t n) {
    float cap = j->softcap;
    if (!(cap > 0)) return;
    if (j->f16) {
        for (size_t i = 0; i < n; i++) sc[i] = cap * tanhf(sc[i]);
        return;
    }
    float inv = 1.0f / cap;
    for (size_t i = 0; i < n; i++) sc[i] = tanhf(sc[i] * inv) * cap;
}

/* ============================================================================================
 * Shared by the fast paths (scalar; inlined into each)
 * ========================================================================================== */
/* Flash: the online softmax's per-(position, head) factors (the branch and exponent of the
 * reference, the exponentials done as one array): sc becomes vs (the weight of V), aux ms (the
 * rescale of the accumulator, 1 when none); st[G + h] = the final sum. The running maxima and sums
 * are carried in local arrays of a fixed size (ORX_FF_MAX heads), which the compiler keeps in vector
 * registers across positions; each value's operations are those of the reference. */
#define ORX_FF_MAX 16
ORX_INLINE void flash_factors_body(float *sc, float *aux, int np, int G, float *st) {
    float M[ORX_FF_MAX], S[ORX_FF_MAX];
    for (int h = 0; h < ORX_FF_MAX; h++) M[h] = -INFINITY, S[h] = 0.0f;
    /* the running maxima give each position's one exponent: the rescale when the maximum grows
     * (aux = 1 marks it), else the weight; all exponentials then at once */
    for (int p = 0; p < np; p++) {
        float *s = sc + (size_t)p * G, *a = aux + (size_t)p * G;
        for (int h = 0; h < G; h++) {
            float v = s[h], m = M[h];
            bool up = v > m;
            s[h] = up ? m - v : v - m;
            M[h] = up ? v : m;
            a[h] = up ? 1.0f : 0.0f;
        }
    }
    orx_exp_array(sc, (size_t)np * (size_t)G);
    for (int p = 0; p < np; p++) {
        float *s = sc + (size_t)p * G, *a = aux + (size_t)p * G;
        for (int h = 0; h < G; h++) {
            float e = s[h];
            bool r = a[h] != 0.0f;
            float ms = r ? e : 1.0f, vs = r ? 1.0f : e;
            S[h] = fmaf(S[h], ms, vs);
            s[h] = vs;
            a[h] = ms;
        }
    }
    for (int h = 0; h < G; h++) st[h] = M[h], st[G + h] = S[h];
}

ORX_INLINE void flash_factors(float *sc, float *aux, int np, int G, float *st) {
    switch (G) { /* a constant group size: the loops over heads become vector operations */
    case 1: flash_factors_body(sc, aux, np, 1, st); return;
    case 2: flash_factors_body(sc, aux, np, 2, st); return;
    case 4: flash_factors_body(sc, aux, np, 4, st); return;
    case 8: flash_factors_body(sc, aux, np, 8, st); return;
    case 16: flash_factors_body(sc, aux, np, 16, st); return;
    default: break;
    }
    float *M = st, *S = st + G;
    for (int h = 0; h < G; h++) M[h] = -INFINITY, S[h] = 0.0f;
    for (int p = 0; p < np; p++)
        for (int h = 0; h < G; h++) {
            size_t n = (size_t)p * G + h;
            float s = sc[n];
            if (s > M[h]) {
                sc[n] = M[h] - s;
                M[h] = s;
                aux[n] = 1.0f;
            } else {
                sc[n] = s - M[h];
                aux[n] = 0.0f;
            }
        }
    orx_exp_array(sc, (size_t)np * (size_t)G);
    for (int p = 0; p < np; p++)
        for (int h = 0; h < G; h++) {
            size_t n = (size_t)p * G + h;
            float e = sc[n], ms = aux[n] != 0.0f ? e : 1.0f, vs = aux[n] != 0.0f ? 1.0f : e;
            S[h] = fmaf(S[h], ms, vs);
            sc[n] = vs;
            aux[n] = ms;
        }
}

/* The cache positions an item reads. Flash: exactly the window (ggml skips masked positions).
 * F32: from the window's start rounded down to a multiple of 16, so the weights x V partial sums
 * keep their position-mod-16 slots; the n_masked positions before the window weigh 0. */
typedef struct item_span {
    size_t koff;     /* offset of the first position's K/V row of this KV head, in elements */
    int    np;       /* positions read */
    int    n_masked; /* leading positions outside the window (F32 only) */
} item_span;

static inline item_span span_of(const orx_attn_job *j, int t, int g, int G) {
    (void)G;
    int32_t pos = j->pos0 + t, lo = first_pos(j, pos), base = j->f16 ? lo : lo & ~15;
    item_span s = {(size_t)base * j->kv_stride + (size_t)g * (size_t)j->head_dim, pos + 1 - base, lo - base};
    return s;
}

/* Scores of the leading masked positions -> -inf (weight exactly 0 after the softmax). */
static inline void mask_scores(float *sc, int n_masked, int G) {
    for (size_t i = 0; i < (size_t)n_masked * (size_t)G; i++) sc[i] = -INFINITY;
}

#endif /* ORX_ENGINE_ATTENTION_IMPL_H */
