/* attention.c — attention of a chunk of query tokens over one layer's KV cache.
 *
 * Rounding follows ggml's CPU backend on the AVX-512 machines the references come from, so that
 * results match llama.cpp bit for bit where they can (tests/test_golden.c; measured:
 * rand-llama-256-Q8_0 p2 generation logits within 2e-7 relative):
 *  - F32 cache: K.Q as ggml_vec_dot_f32 (4 x 16 fused lanes per 64 values, then (a0+a2)+(a1+a3),
 *    a pairwise tree over the 16 lanes, then a sequential fused tail; Q is not contiguous there,
 *    so llamafile's GEMM is not used), times 1/sqrt(head_dim);
 *    softmax with vexp.h's e^x (within 1 ulp of libm's expf, which ggml's flash path calls; ggml's
 *    softmax has its own vector exp) and a sequential double sum; weights x V as llamafile's tinyBLAS
 *    (16 fused partial sums by position mod 16, then a pairwise tree over them).
 *  - F16 cache (flash attention, ggml_compute_forward_flash_attn_ext_f16): Q rounded to F16, K.Q
 *    in ggml_vec_dot_f16 order, online softmax, the V accumulator rounded to F16 after every update.
 *
 * The reference does one (token, head) pair at a time. The fast paths (AVX-512, and AVX2 with
 * 8-lane halves for CPUs without it) do the same floating-point operations on the same operands in
 * the same association order for every output value, organised differently: the query heads
 * sharing a KV head form a group, so each K and V row is loaded once per group; the 16-lane trees
 * of 16 dot products are done at once with a transposed butterfly; weights x V keeps the partial
 * sums of several heads in registers. Threads take (token, KV head) items from an atomic counter,
 * the longest contexts first; when there are fewer than two items per thread (decode with few KV
 * heads), each group's heads are split. Build with -DORX_ATTN_FORCE_REF to time the reference,
 * -DORX_ATTN_PROFILE to see the stages as separate symbols in perf.
 */
#include "engine/attention.h"
#include "engine/cpu/vexp.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/quant.h"
#include "engine/cpu/simd_target.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define ORX_ATTN_X86 1
#include <immintrin.h>
#endif

#define ORX_INLINE static inline __attribute__((always_inline))
#ifdef ORX_ATTN_PROFILE /* profiling builds: the stages as separate symbols */
#define ORX_STAGE static __attribute__((noinline))
#else
#define ORX_STAGE ORX_INLINE
#endif

/* ============================================================================================
 * Scratch
 * ========================================================================================== */
struct orx_attn_scratch {
    int     n_threads;  /* thread blocks */
    int32_t n_ctx;      /* positions */
    int32_t group;      /* query heads per KV head */
    int32_t head_dim;   /* values per head */
    size_t  sc_n;       /* floats of sc and aux */
    size_t  part_n;     /* floats of part */
    size_t  qr_n;       /* floats of qr */
    size_t  hd_n;       /* floats of kb, vb, acc */
    size_t  st_n;       /* floats of st */
    size_t  per_thread; /* floats per thread block */
    float  *mem;        /* [n_threads][per_thread], 64-byte aligned */
};

/* One thread's buffers. */
typedef struct thread_buf {
    float *sc;   /* [n_ctx * group (+16)] scores, then weights: [position][head of the group] */
    float *aux;  /* [n_ctx * group (+16)] flash: rescale factor per (position, head) */
    float *part; /* [16][group][head_dim] partial sums of weights x V */
    float *qr;   /* [group][head_dim] queries rounded to F16 */
    float *kb;   /* [head_dim] reference: a K row in F32 */
    float *vb;   /* [head_dim] reference: a V row in F32 */
    float *acc;  /* [head_dim] reference: flash accumulator */
    float *st;   /* [2][group] per-head state (max / sum, or max / 1/sum) */
} thread_buf;

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

orx_attn_scratch *orx_attn_scratch_create(int n_threads, int32_t n_ctx, int32_t n_head,
                                          int32_t n_head_kv, int32_t head_dim) {
    if (n_threads < 1 || n_ctx < 1 || n_head < 1 || n_head_kv < 1 || head_dim < 1 || n_head % n_head_kv)
        return NULL;
    orx_attn_scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_threads = n_threads;
    s->n_ctx = n_ctx;
    s->group = n_head / n_head_kv;
    s->head_dim = head_dim;
    size_t G = (size_t)s->group, hd = (size_t)head_dim;
    s->sc_n = up16((size_t)n_ctx * G + 16);
    s->part_n = up16(16 * G * hd);
    s->qr_n = up16(G * hd);
    s->hd_n = up16(hd);
    s->st_n = up16(2 * G);
    s->per_thread = 2 * s->sc_n + s->part_n + s->qr_n + 3 * s->hd_n + s->st_n;
    s->mem = aligned_alloc(64, (size_t)n_threads * s->per_thread * sizeof(float));
    if (!s->mem) {
        free(s);
        return NULL;
    }
    return s;
}

void orx_attn_scratch_free(orx_attn_scratch *s) {
    if (!s) return;
    free(s->mem);
    free(s);
}

static thread_buf thread_buffers(const orx_attn_scratch *s, int ith) {
    float *p = s->mem + (size_t)ith * s->per_thread;
    thread_buf b;
    b.sc = p, p += s->sc_n;
    b.aux = p, p += s->sc_n;
    b.part = p, p += s->part_n;
    b.qr = p, p += s->qr_n;
    b.kb = p, p += s->hd_n;
    b.vb = p, p += s->hd_n;
    b.acc = p, p += s->hd_n;
    b.st = p;
    return b;
}

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
 * Reference: one (token, head) pair at a time
 * ========================================================================================== */
ORX_INLINE float reduce16(float *l) {
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) l[k] = l[k] + l[k + w];
    return l[0];
}

/* ggml_vec_dot_f32 order */
ORX_INLINE float dot_kq(const float *x, const float *y, int n) {
    int np = n & ~63;
    float sum = 0.0f;
    if (np) {
        float acc[4][16] = {{0}};
        for (int i = 0; i < np; i += 64)
            for (int j = 0; j < 4; j++)
                for (int m = 0; m < 16; m++)
                    acc[j][m] = fmaf(x[i + 16 * j + m], y[i + 16 * j + m], acc[j][m]);
        for (int m = 0; m < 16; m++) {
            acc[0][m] += acc[2][m];
            acc[1][m] += acc[3][m];
        }
        for (int m = 0; m < 16; m++) acc[0][m] += acc[1][m];
        sum = reduce16(acc[0]);
    }
    for (int i = np; i < n; i++) sum = fmaf(x[i], y[i], sum);
    return sum;
}

/* F32 -> F16 -> F32 (round to nearest even) and F16 -> F32: the compiler's _Float16 where it has
 * one (F16C instructions in the AVX2 build), else quant.c's portable conversions (same results). */
#if defined(__FLT16_MAX__) && ORX_ATTN_X86
ORX_INLINE float f16r(float x) { return (float)(_Float16)x; }
ORX_INLINE float h2f(uint16_t h) {
    _Float16 f;
    memcpy(&f, &h, sizeof f);
    return (float)f;
}
#else
static float f16r(float x) { return orx_fp16_to_f32(orx_f32_to_fp16(x)); }
static float h2f(uint16_t h) { return orx_fp16_to_f32(h); }
#endif

/* ggml_vec_dot_f16 order: the 64-value lanes as dot_kq, the tail accumulated in double. */
ORX_INLINE float dot_f16(const float *x, const float *y, int n) {
    int np = n & ~63;
    double sum = np ? dot_kq(x, y, np) : 0.0;
    for (int i = np; i < n; i++) sum += (double)(x[i] * y[i]);
    return (float)sum;
}

ORX_INLINE void f16_row(float *dst, const uint16_t *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = h2f(src[i]);
}

/* Flash attention with an F16 cache: online softmax over positions, the V accumulator kept in F16
 * (rounded after every update). The running sum is one fused multiply-add, as the FMA builds of
 * ggml (and of this file before) compute S*ms + vs. */
ORX_INLINE void ref_flash(const orx_attn_job *j, thread_buf *b, int t, int h, int32_t pos) {
    int hd = j->head_dim, kvh = h / (j->n_head / j->n_head_kv);
    int32_t lo = first_pos(j, pos);
    float cap = j->softcap;
    const uint16_t *K = (const uint16_t *)j->k + (size_t)kvh * hd;
    const uint16_t *V = (const uint16_t *)j->v + (size_t)kvh * hd;
    const float *q = j->q + ((size_t)t * j->n_head + h) * hd;
    float *qr = b->qr, *acc = b->acc;
    for (int i = 0; i < hd; i++) qr[i] = f16r(q[i]); /* Q in the cache's F16 before K.Q */
    float scale = score_scale(j), M = -INFINITY, S = 0;
    for (int i = 0; i < hd; i++) acc[i] = 0;
    for (int32_t p = lo; p <= pos; p++) {
        f16_row(b->kb, K + (size_t)p * j->kv_stride, hd);
        float s = dot_f16(b->kb, qr, hd) * scale, ms = 1.0f, vs = 1.0f;
        if (cap > 0) s = cap * tanhf(s);
        if (s > M) {
            float m_old = M;
            M = s;
            ms = orx_exp_f32(m_old - M);
            for (int i = 0; i < hd; i++) acc[i] = f16r(acc[i] * ms);
        } else {
            vs = orx_exp_f32(s - M);
        }
        f16_row(b->vb, V + (size_t)p * j->kv_stride, hd);
        for (int i = 0; i < hd; i++) acc[i] = f16r(fmaf(b->vb[i], vs, acc[i]));
        S = fmaf(S, ms, vs);
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    float *o = j->out + ((size_t)t * j->n_head + h) * hd;
    for (int i = 0; i < hd; i++) o[i] = acc[i] * inv;
}

/* One query row (token t, head h) against cache positions 0..pos. */
ORX_INLINE void ref_body(const orx_attn_job *j, thread_buf *b, int t, int h) {
    int32_t pos = j->pos0 + t;
    if (j->f16) {
        ref_flash(j, b, t, h, pos);
        return;
    }
    int hd = j->head_dim, kvh = h / (j->n_head / j->n_head_kv);
    size_t stride = j->kv_stride;
    const float *K = (const float *)j->k + (size_t)kvh * hd;
    const float *V = (const float *)j->v + (size_t)kvh * hd;
    const float *q = j->q + ((size_t)t * j->n_head + h) * hd;
    float *sc = b->sc, *va = b->part;
    float scale = score_scale(j), mx = -INFINITY;
    int32_t lo = first_pos(j, pos);
    for (int32_t p = lo; p <= pos; p++) {
        sc[p] = dot_kq(K + (size_t)p * stride, q, hd) * scale;
        shape_scores(j, sc + p, 1);
        if (sc[p] > mx) mx = sc[p];
    }
    double sum = 0;
    for (int32_t p = lo; p <= pos; p++) {
        sc[p] = orx_exp_f32(sc[p] - mx);
        sum += sc[p];
    }
    float inv = (float)(1.0 / sum);
    for (int32_t p = lo; p <= pos; p++) sc[p] = sc[p] * inv;
    /* weights x V in tinyBLAS order: 16 fused partial sums (position mod 16), then pairwise;
     * positions before the window weigh 0 and add nothing */
    for (int i = 0; i < 16 * hd; i++) va[i] = 0;
    for (int32_t p = lo; p <= pos; p++) {
        const float *v = V + (size_t)p * stride;
        float *a = va + (size_t)(p & 15) * hd, w = sc[p];
        for (int i = 0; i < hd; i++) a[i] = fmaf(v[i], w, a[i]);
    }
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
            for (int i = 0; i < hd; i++) va[k * hd + i] += va[(k + w) * hd + i];
    memcpy(j->out + ((size_t)t * j->n_head + h) * hd, va, (size_t)hd * sizeof(float));
}

/* The same code built for AVX2+FMA+F16C (fmaf becomes one instruction and the loops vectorize) and
 * for any x86-64; the results are identical (fmaf and the F16 conversions are exact-rounded either
 * way). */
#if ORX_ATTN_X86
__attribute__((target("avx2,fma,f16c"))) ORX_HOT_O3 static void ref_fma(const orx_attn_job *j, thread_buf *b,
                                                                         int t, int h) {
    ref_body(j, b, t, h);
}
#endif
static void ref_generic(const orx_attn_job *j, thread_buf *b, int t, int h) { ref_body(j, b, t, h); }

static void ref_one(const orx_attn_job *j, thread_buf *b, int t, int h) {
#if ORX_ATTN_X86
    const orx_cpu_features *f = orx_cpu_get();
    if (f->avx2 && f->fma && f->f16c) {
        ref_fma(j, b, t, h);
        return;
    }
#endif
    ref_generic(j, b, t, h);
}

/* ============================================================================================
 * Shared by the fast paths (scalar; inlined into each)
 * ========================================================================================== */
/* Flash: the online softmax's per-(position, head) factors (the branch and exponent of the
 * reference, the exponentials done as one array): sc becomes vs (the weight of V), aux ms (the
 * rescale of the accumulator, 1 when none); st[G + h] = the final sum. */
ORX_INLINE void flash_factors(float *sc, float *aux, int np, int G, float *st) {
    float *M = st, *S = st + G;
    for (int h = 0; h < G; h++) M[h] = -INFINITY, S[h] = 0.0f;
    /* the running maxima give each position's one exponent: the rescale when the maximum grows
     * (aux = 1 marks it), else the weight; all exponentials then at once */
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

/* ============================================================================================
 * Fast path (AVX-512): one (token, KV head) item, the query heads of the group together
 * ========================================================================================== */
#if ORX_ATTN_X86
ORX_TARGET_BEGIN("avx512f,avx512vl,avx512bw,avx2,fma,f16c")
#define FAST_FN __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma,f16c")))

ORX_INLINE __m512 ld_kv(const void *base, size_t off, bool f16) {
    if (f16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + off)));
    return _mm512_loadu_ps((const float *)base + off);
}

/* Prefetch `bytes` of a cache row (K or V of one position) into L1: the cache of a long context
 * does not fit in L2, and rows are a whole KV stride apart, so the hardware prefetchers lag. No
 * effect on results. */
#define PF_AHEAD 8 /* positions */
ORX_INLINE void pf_row(const void *row, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)row + o, _MM_HINT_T0);
}

ORX_INLINE __m512 round_f16(__m512 x) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* One dot product's 64-value part up to the lane tree: (a0+a2)+(a1+a3), lane m of a_j being the
 * fused sum over chunks of products at 16j+m. n64 >= 64. */
ORX_INLINE __m512 dot64(const float *q, const void *k, size_t ko, int n64, bool f16) {
    const __m512 z = _mm512_setzero_ps();
    __m512 a0 = _mm512_fmadd_ps(ld_kv(k, ko, f16), _mm512_loadu_ps(q), z);
    __m512 a1 = _mm512_fmadd_ps(ld_kv(k, ko + 16, f16), _mm512_loadu_ps(q + 16), z);
    __m512 a2 = _mm512_fmadd_ps(ld_kv(k, ko + 32, f16), _mm512_loadu_ps(q + 32), z);
    __m512 a3 = _mm512_fmadd_ps(ld_kv(k, ko + 48, f16), _mm512_loadu_ps(q + 48), z);
    for (int i = 64; i < n64; i += 64) {
        a0 = _mm512_fmadd_ps(ld_kv(k, ko + i, f16), _mm512_loadu_ps(q + i), a0);
        a1 = _mm512_fmadd_ps(ld_kv(k, ko + i + 16, f16), _mm512_loadu_ps(q + i + 16), a1);
        a2 = _mm512_fmadd_ps(ld_kv(k, ko + i + 32, f16), _mm512_loadu_ps(q + i + 32), a2);
        a3 = _mm512_fmadd_ps(ld_kv(k, ko + i + 48, f16), _mm512_loadu_ps(q + i + 48), a3);
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
}

/* Transposed butterfly: the steps l[k] += l[k+w] for w = 8, 4, 2, 1 of two (sets of) dots at
 * once. After all four steps, lane 4L+m holds dot 4m+L of the 16 fed in. */
ORX_INLINE __m512 bf8(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
}
ORX_INLINE __m512 bf4(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}
ORX_INLINE __m512 bf2(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
}
ORX_INLINE __m512 bf1(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* sc[p*G + h] = (K[p] . q[h]) * scale for positions 0..np-1 and the G heads of the group, 16 dots
 * at a time (in [position][head] order). */
ORX_INLINE void scores(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16, float scale,
                       float *sc) {
    const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    int total = np * G, n64 = hd & ~63, p = 0, h = 0;
    for (int n0 = 0; n0 < total; n0 += 16) {
        int cnt = total - n0 < 16 ? total - n0 : 16;
        const float *qs[16];
        size_t ko[16];
        for (int i = 0, pp = p, hh = h; i < 16; i++) { /* past the end: repeat the last dot */
            qs[i] = q + (size_t)hh * hd;
            ko[i] = (size_t)pp * stride;
            if (i + 1 < cnt && ++hh == G) hh = 0, pp++;
        }
        for (int i = 0; i < 16; i++)
            if (++h == G) h = 0, p++;
        __m512 r = _mm512_setzero_ps();
        if (n64) {
            __m512 d[4];
#pragma GCC unroll 4
            for (int b = 0; b < 4; b++) {
                int i = 4 * b;
                __m512 c0 = bf8(dot64(qs[i], K, ko[i], n64, f16), dot64(qs[i + 1], K, ko[i + 1], n64, f16));
                __m512 c1 = bf8(dot64(qs[i + 2], K, ko[i + 2], n64, f16), dot64(qs[i + 3], K, ko[i + 3], n64, f16));
                d[b] = bf4(c0, c1);
            }
            r = _mm512_permutexvar_ps(perm, bf1(bf2(d[0], d[1]), bf2(d[2], d[3])));
        }
        if (n64 < hd) { /* sequential tail of each dot: fused in float (F32), in double (F16) */
            float tmp[16];
            _mm512_storeu_ps(tmp, r);
            for (int i = 0; i < cnt; i++) {
                const float *qi = qs[i];
                if (f16) {
                    const uint16_t *ki = (const uint16_t *)K + ko[i];
                    double s = n64 ? (double)tmp[i] : 0.0;
                    for (int e = n64; e < hd; e++) s += (double)(_cvtsh_ss(ki[e]) * qi[e]);
                    tmp[i] = (float)s;
                } else {
                    const float *ki = (const float *)K + ko[i];
                    float s = tmp[i];
                    for (int e = n64; e < hd; e++) s = fmaf(ki[e], qi[e], s);
                    tmp[i] = s;
                }
            }
            r = _mm512_loadu_ps(tmp);
        }
        _mm512_mask_storeu_ps(sc + n0, (__mmask16)((1u << cnt) - 1), _mm512_mul_ps(r, _mm512_set1_ps(scale)));
    }
}

/* The same for G dividing 16 and head_dim a multiple of 64 (G a constant after inlining): a block
 * of 16 dots is 16/G whole positions, dot i being head i % G of position p0 + i / G, so the K row
 * shared by a position's heads is loaded once. */
ORX_INLINE void scores_g(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16,
                         float scale, float *sc) {
    const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const int P = 16 / G;
    const size_t esz = f16 ? 2 : 4;
    for (int p0 = 0; p0 < np; p0 += P) {
        int last = np - 1;
        for (int i = 0; i < P; i++)
            if (p0 + PF_AHEAD + i < np) pf_row((const char *)K + (size_t)(p0 + PF_AHEAD + i) * stride * esz, (size_t)hd * esz);
#define KO(i) ((size_t)(p0 + (i) / G < last ? p0 + (i) / G : last) * stride) /* past the end: repeat */
#define QH(i) (q + (size_t)((i) % G) * hd)
        __m512 d[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++) {
            int i = 4 * b;
            __m512 c0 = bf8(dot64(QH(i), K, KO(i), hd, f16), dot64(QH(i + 1), K, KO(i + 1), hd, f16));
            __m512 c1 = bf8(dot64(QH(i + 2), K, KO(i + 2), hd, f16), dot64(QH(i + 3), K, KO(i + 3), hd, f16));
            d[b] = bf4(c0, c1);
        }
#undef KO
#undef QH
        __m512 r = _mm512_permutexvar_ps(perm, bf1(bf2(d[0], d[1]), bf2(d[2], d[3])));
        int cnt = (np - p0 < P ? np - p0 : P) * G;
        _mm512_mask_storeu_ps(sc + (size_t)p0 * G, (__mmask16)((1u << cnt) - 1),
                              _mm512_mul_ps(r, _mm512_set1_ps(scale)));
    }
}

ORX_STAGE void scores_any(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16,
                          float scale, float *sc) {
    if (hd % 64 == 0) switch (G) {
        case 1: scores_g(q, K, stride, np, 1, hd, f16, scale, sc); return;
        case 2: scores_g(q, K, stride, np, 2, hd, f16, scale, sc); return;
        case 4: scores_g(q, K, stride, np, 4, hd, f16, scale, sc); return;
        case 8: scores_g(q, K, stride, np, 8, hd, f16, scale, sc); return;
        case 16: scores_g(q, K, stride, np, 16, hd, f16, scale, sc); return;
        default: break;
        }
    scores(q, K, stride, np, G, hd, f16, scale, sc);
}

/* Softmax of each head's np scores in place: max, e^x (vexp.h) of the difference, sequential double
 * sum, multiply by the float reciprocal. st: [2][G] scratch. */
ORX_STAGE void softmax(float *sc, int np, int G, float *st) {
    size_t total = (size_t)np * G;
    float *mx = st, *inv = st + G;
    if (16 % G == 0) { /* lane l holds head l % G in every block of 16 */
        __m512 m = _mm512_set1_ps(-INFINITY);
        size_t n = 0;
        for (; n + 16 <= total; n += 16) m = _mm512_max_ps(_mm512_loadu_ps(sc + n), m);
        if (n < total)
            m = _mm512_max_ps(_mm512_mask_loadu_ps(m, (__mmask16)((1u << (total - n)) - 1), sc + n), m);
        for (int w = 8; w >= G; w /= 2) {
            __m512i x = _mm512_xor_si512(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(w));
            m = _mm512_max_ps(m, _mm512_permutexvar_ps(x, m));
        }
        for (n = 0; n + 16 <= total; n += 16) _mm512_storeu_ps(sc + n, _mm512_sub_ps(_mm512_loadu_ps(sc + n), m));
        if (n < total) {
            __mmask16 k = (__mmask16)((1u << (total - n)) - 1);
            _mm512_mask_storeu_ps(sc + n, k, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, sc + n), m));
        }
    } else {
        for (int h0 = 0; h0 < G; h0 += 8) {
            int hn = G - h0 < 8 ? G - h0 : 8;
            __mmask8 k = (__mmask8)((1u << hn) - 1);
            __m256 m = _mm256_set1_ps(-INFINITY);
            for (int p = 0; p < np; p++)
                m = _mm256_max_ps(_mm256_mask_loadu_ps(m, k, sc + (size_t)p * G + h0), m);
            _mm256_mask_storeu_ps(mx + h0, k, m);
        }
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] -= mx[h];
    }
    orx_exp_array(sc, total);
    for (int h0 = 0; h0 < G; h0 += 8) { /* sequential double sums, 8 heads side by side */
        int hn = G - h0 < 8 ? G - h0 : 8;
        __mmask8 k = (__mmask8)((1u << hn) - 1);
        __m512d s = _mm512_setzero_pd();
        for (int p = 0; p < np; p++)
            s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, sc + (size_t)p * G + h0)));
        _mm256_mask_storeu_ps(inv + h0, k, _mm512_cvtpd_ps(_mm512_div_pd(_mm512_set1_pd(1.0), s)));
    }
    if (16 % G == 0) {
        __m512 iv = _mm512_permutexvar_ps(
            _mm512_and_si512(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                             _mm512_set1_epi32(G - 1)),
            _mm512_maskz_loadu_ps((__mmask16)((1u << G) - 1), inv));
        size_t n = 0;
        for (; n + 16 <= total; n += 16) _mm512_storeu_ps(sc + n, _mm512_mul_ps(_mm512_loadu_ps(sc + n), iv));
        if (n < total) {
            __mmask16 k = (__mmask16)((1u << (total - n)) - 1);
            _mm512_mask_storeu_ps(sc + n, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, sc + n), iv));
        }
    } else {
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] *= inv[h];
    }
}

/* Partial sum j (positions j, j+16, ...) of weights x V for heads h0..h0+HN-1 and vectors
 * i0..i0+VN-1 of 16 values, accumulators in registers. */
ORX_INLINE void wv_tile(const float *sc, const float *V, size_t stride, int np, int G, int hd, int j, int h0,
                        int i0, int HN, int VN, float *part) {
    __m512 acc[4][4];
    for (int a = 0; a < HN; a++)
        for (int e = 0; e < VN; e++) acc[a][e] = _mm512_setzero_ps();
    for (int p = j; p < np; p += 16) {
        const float *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        if (p + 16 < np) pf_row(vr + (size_t)16 * stride, (size_t)VN * 64);
        const float *w = sc + (size_t)p * G + h0;
        __m512 v[4];
        for (int e = 0; e < VN; e++) v[e] = _mm512_loadu_ps(vr + 16 * e);
        for (int a = 0; a < HN; a++) {
            __m512 wb = _mm512_set1_ps(w[a]);
            for (int e = 0; e < VN; e++) acc[a][e] = _mm512_fmadd_ps(v[e], wb, acc[a][e]);
        }
    }
    for (int a = 0; a < HN; a++)
        for (int e = 0; e < VN; e++)
            _mm512_storeu_ps(part + ((size_t)j * G + h0 + a) * hd + (size_t)(i0 + e) * 16, acc[a][e]);
}

/* out[h][:] = sum over positions of weights x V rows, tinyBLAS order, for the G heads. */
ORX_STAGE void weights_v(const float *sc, const float *V, size_t stride, int np, int G, int hd, float *part,
                          float *out) {
    int nv = hd / 16;
    for (int j = 0; j < 16; j++)
        for (int h0 = 0; h0 < G;) {
            int hn = G - h0 >= 4 ? 4 : 1;
            for (int i0 = 0; i0 < nv;) {
                int vn = nv - i0 >= 4 ? 4 : 1;
                if (hn == 4 && vn == 4) wv_tile(sc, V, stride, np, G, hd, j, h0, i0, 4, 4, part);
                else if (hn == 4) wv_tile(sc, V, stride, np, G, hd, j, h0, i0, 4, 1, part);
                else if (vn == 4) wv_tile(sc, V, stride, np, G, hd, j, h0, i0, 1, 4, part);
                else wv_tile(sc, V, stride, np, G, hd, j, h0, i0, 1, 1, part);
                i0 += vn;
            }
            h0 += hn;
        }
    size_t gs = (size_t)G * hd; /* floats per partial */
    for (int w = 8; w >= 2; w /= 2)
        for (int k = 0; k < w; k++)
            for (size_t e = 0; e < gs; e += 16)
                _mm512_storeu_ps(part + k * gs + e, _mm512_add_ps(_mm512_loadu_ps(part + k * gs + e),
                                                                  _mm512_loadu_ps(part + (k + w) * gs + e)));
    for (size_t e = 0; e < gs; e += 16)
        _mm512_storeu_ps(out + e, _mm512_add_ps(_mm512_loadu_ps(part + e), _mm512_loadu_ps(part + gs + e)));
}

/* Flash: the F16-rounded V accumulator of heads h0..h0+HN-1, vectors i0..i0+VN-1, over all
 * positions, then out = acc / S. */
ORX_INLINE void flash_tile(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G,
                           int hd, int h0, int i0, int HN, int VN, const float *S, float *out) {
    __m512 acc[4][4];
    for (int a = 0; a < HN; a++)
        for (int e = 0; e < VN; e++) acc[a][e] = _mm512_setzero_ps();
    for (int p = 0; p < np; p++) {
        const uint16_t *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        if (p + PF_AHEAD < np) pf_row(vr + (size_t)PF_AHEAD * stride, (size_t)VN * 32);
        __m512 v[4];
        for (int e = 0; e < VN; e++) v[e] = ld_kv(vr, (size_t)16 * e, true);
        for (int a = 0; a < HN; a++) {
            size_t n = (size_t)p * G + h0 + a;
            if (ms[n] != 1.0f) { /* rescale (skipping a factor of 1 changes nothing: acc is F16) */
                __m512 mb = _mm512_set1_ps(ms[n]);
                for (int e = 0; e < VN; e++) acc[a][e] = round_f16(_mm512_mul_ps(acc[a][e], mb));
            }
            __m512 wb = _mm512_set1_ps(vs[n]);
            for (int e = 0; e < VN; e++) acc[a][e] = round_f16(_mm512_fmadd_ps(v[e], wb, acc[a][e]));
        }
    }
    for (int a = 0; a < HN; a++) {
        float s = S[h0 + a], inv = s == 0.0f ? 0.0f : 1.0f / s;
        for (int e = 0; e < VN; e++)
            _mm512_storeu_ps(out + (size_t)(h0 + a) * hd + (size_t)(i0 + e) * 16,
                             _mm512_mul_ps(acc[a][e], _mm512_set1_ps(inv)));
    }
}

ORX_STAGE void flash_v(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G, int hd,
                        const float *S, float *out) {
    int nv = hd / 16;
    for (int h0 = 0; h0 < G;) {
        int hn = G - h0 >= 4 ? 4 : 1;
        for (int i0 = 0; i0 < nv;) {
            int vn = nv - i0 >= 4 ? 4 : 1;
            if (hn == 4 && vn == 4) flash_tile(vs, ms, V, stride, np, G, hd, h0, i0, 4, 4, S, out);
            else if (hn == 4) flash_tile(vs, ms, V, stride, np, G, hd, h0, i0, 4, 1, S, out);
            else if (vn == 4) flash_tile(vs, ms, V, stride, np, G, hd, h0, i0, 1, 4, S, out);
            else flash_tile(vs, ms, V, stride, np, G, hd, h0, i0, 1, 1, S, out);
            i0 += vn;
        }
        h0 += hn;
    }
}

/* Token t, KV head g, its query heads h0..h0+G-1 (all of the group, or a part of it when there are
 * too few items for the threads). */
FAST_FN static void item_fast(const orx_attn_job *j, thread_buf *b, int t, int g, int h0, int G) {
    int hd = j->head_dim;
    item_span sp = span_of(j, t, g, G);
    size_t off = ((size_t)t * j->n_head + (size_t)h0) * hd;
    const float *q = j->q + off;
    float *out = j->out + off;
    if (j->f16) {
        for (size_t e = 0; e < (size_t)G * hd; e += 16) _mm512_storeu_ps(b->qr + e, round_f16(_mm512_loadu_ps(q + e)));
        scores_any(b->qr, (const uint16_t *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, true, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        flash_factors(b->sc, b->aux, sp.np, G, b->st);
        flash_v(b->sc, b->aux, (const uint16_t *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->st + G, out);
    } else {
        scores_any(q, (const float *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, false, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        mask_scores(b->sc, sp.n_masked, G);
        softmax(b->sc, sp.np, G, b->st);
        weights_v(b->sc, (const float *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->part, out);
    }
}
#undef FAST_FN
ORX_TARGET_END

/* ============================================================================================
 * Fast path for AVX2 + FMA + F16C: the same items with 8-lane vectors (16 lanes = two halves)
 * ========================================================================================== */
ORX_TARGET_BEGIN("avx2,fma,f16c")

ORX_INLINE __m256 ld8(const void *base, size_t off, bool f16) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + off)));
    return _mm256_loadu_ps((const float *)base + off);
}

ORX_INLINE __m256 round_f16_8(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

/* Lanes 0..7 of l[k] + l[k+8] (the tree's first step), l = (a0+a2)+(a1+a3) as in dot64; a[2j] and
 * a[2j+1] are the low and high halves of accumulator j. n64 >= 64. */
ORX_INLINE __m256 dot64_8(const float *q, const void *k, size_t ko, int n64, bool f16) {
    const __m256 z = _mm256_setzero_ps();
    __m256 a[8];
    for (int e = 0; e < 8; e++) a[e] = _mm256_fmadd_ps(ld8(k, ko + 8 * e, f16), _mm256_loadu_ps(q + 8 * e), z);
    for (int i = 64; i < n64; i += 64)
        for (int e = 0; e < 8; e++)
            a[e] = _mm256_fmadd_ps(ld8(k, ko + i + 8 * e, f16), _mm256_loadu_ps(q + i + 8 * e), a[e]);
    __m256 lo = _mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6]));
    __m256 hi = _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7]));
    return _mm256_add_ps(lo, hi);
}

/* The tree's steps w = 4, 2, 1 of 8 dots at once; after them lane 4L+m holds dot 2m+L. */
ORX_INLINE __m256 bf4_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
}
ORX_INLINE __m256 bf2_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
}
ORX_INLINE __m256 bf1_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

ORX_INLINE __m256i lanes_below(int n) { /* mask of lanes 0..n-1 */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* As scores(), 8 dots at a time. */
ORX_STAGE void scores8(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16, float scale,
                       float *sc) {
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int total = np * G, n64 = hd & ~63, p = 0, h = 0;
    for (int n0 = 0; n0 < total; n0 += 8) {
        int cnt = total - n0 < 8 ? total - n0 : 8;
        const float *qs[8];
        size_t ko[8];
        for (int i = 0, pp = p, hh = h; i < 8; i++) { /* past the end: repeat the last dot */
            qs[i] = q + (size_t)hh * hd;
            ko[i] = (size_t)pp * stride;
            if (i + 1 < cnt && ++hh == G) hh = 0, pp++;
        }
        for (int i = 0; i < 8; i++)
            if (++h == G) h = 0, p++;
        __m256 r = _mm256_setzero_ps();
        if (n64) {
            __m256 d0 = bf4_8(dot64_8(qs[0], K, ko[0], n64, f16), dot64_8(qs[1], K, ko[1], n64, f16));
            __m256 d1 = bf4_8(dot64_8(qs[2], K, ko[2], n64, f16), dot64_8(qs[3], K, ko[3], n64, f16));
            __m256 e0 = bf2_8(d0, d1);
            __m256 d2 = bf4_8(dot64_8(qs[4], K, ko[4], n64, f16), dot64_8(qs[5], K, ko[5], n64, f16));
            __m256 d3 = bf4_8(dot64_8(qs[6], K, ko[6], n64, f16), dot64_8(qs[7], K, ko[7], n64, f16));
            r = _mm256_permutevar8x32_ps(bf1_8(e0, bf2_8(d2, d3)), perm);
        }
        if (n64 < hd) { /* sequential tails, as in scores() */
            float tmp[8];
            _mm256_storeu_ps(tmp, r);
            for (int i = 0; i < cnt; i++) {
                const float *qi = qs[i];
                if (f16) {
                    const uint16_t *ki = (const uint16_t *)K + ko[i];
                    double s = n64 ? (double)tmp[i] : 0.0;
                    for (int e = n64; e < hd; e++) s += (double)(_cvtsh_ss(ki[e]) * qi[e]);
                    tmp[i] = (float)s;
                } else {
                    const float *ki = (const float *)K + ko[i];
                    float s = tmp[i];
                    for (int e = n64; e < hd; e++) s = fmaf(ki[e], qi[e], s);
                    tmp[i] = s;
                }
            }
            r = _mm256_loadu_ps(tmp);
        }
        _mm256_maskstore_ps(sc + n0, lanes_below(cnt), _mm256_mul_ps(r, _mm256_set1_ps(scale)));
    }
}

/* As softmax(): lanes hold head l % G when G divides 8, else per-head loops. */
ORX_STAGE void softmax8(float *sc, int np, int G, float *st) {
    size_t total = (size_t)np * G, n;
    float *mx = st, *inv = st + G;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    if (8 % G == 0) {
        __m256 m = ninf;
        for (n = 0; n + 8 <= total; n += 8) m = _mm256_max_ps(_mm256_loadu_ps(sc + n), m);
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            m = _mm256_max_ps(_mm256_blendv_ps(ninf, _mm256_maskload_ps(sc + n, k), _mm256_castsi256_ps(k)), m);
        }
        for (int w = 4; w >= G; w /= 2)
            m = _mm256_max_ps(m, _mm256_permutevar8x32_ps(m, _mm256_xor_si256(iota, _mm256_set1_epi32(w))));
        for (n = 0; n + 8 <= total; n += 8) _mm256_storeu_ps(sc + n, _mm256_sub_ps(_mm256_loadu_ps(sc + n), m));
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            _mm256_maskstore_ps(sc + n, k, _mm256_sub_ps(_mm256_maskload_ps(sc + n, k), m));
        }
    } else {
        for (int h = 0; h < G; h++) {
            float m = -INFINITY;
            for (int p = 0; p < np; p++)
                if (sc[(size_t)p * G + h] > m) m = sc[(size_t)p * G + h];
            mx[h] = m;
        }
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] -= mx[h];
    }
    orx_exp_array(sc, total);
    for (int h0 = 0; h0 < G; h0 += 4) { /* sequential double sums, 4 heads side by side */
        int hn = G - h0 < 4 ? G - h0 : 4;
        __m128i k = _mm256_castsi256_si128(lanes_below(hn));
        __m256d s = _mm256_setzero_pd();
        for (int p = 0; p < np; p++) s = _mm256_add_pd(s, _mm256_cvtps_pd(_mm_maskload_ps(sc + (size_t)p * G + h0, k)));
        _mm_maskstore_ps(inv + h0, k, _mm256_cvtpd_ps(_mm256_div_pd(_mm256_set1_pd(1.0), s)));
    }
    if (8 % G == 0) {
        __m256 iv = _mm256_permutevar8x32_ps(_mm256_maskload_ps(inv, lanes_below(G)),
                                             _mm256_and_si256(iota, _mm256_set1_epi32(G - 1)));
        for (n = 0; n + 8 <= total; n += 8) _mm256_storeu_ps(sc + n, _mm256_mul_ps(_mm256_loadu_ps(sc + n), iv));
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            _mm256_maskstore_ps(sc + n, k, _mm256_mul_ps(_mm256_maskload_ps(sc + n, k), iv));
        }
    } else {
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] *= inv[h];
    }
}

/* As wv_tile(): heads h0..h0+HN-1, the 16 values at i0*16. */
ORX_INLINE void wv_tile8(const float *sc, const float *V, size_t stride, int np, int G, int hd, int j, int h0, int i0,
                         int HN, float *part) {
    __m256 acc[4][2];
    for (int a = 0; a < HN; a++) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
    for (int p = j; p < np; p += 16) {
        const float *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        __m256 v0 = _mm256_loadu_ps(vr), v1 = _mm256_loadu_ps(vr + 8);
        for (int a = 0; a < HN; a++) {
            __m256 wb = _mm256_broadcast_ss(sc + (size_t)p * G + h0 + a);
            acc[a][0] = _mm256_fmadd_ps(v0, wb, acc[a][0]);
            acc[a][1] = _mm256_fmadd_ps(v1, wb, acc[a][1]);
        }
    }
    for (int a = 0; a < HN; a++) {
        float *o = part + ((size_t)j * G + h0 + a) * hd + (size_t)i0 * 16;
        _mm256_storeu_ps(o, acc[a][0]);
        _mm256_storeu_ps(o + 8, acc[a][1]);
    }
}

ORX_STAGE void weights_v8(const float *sc, const float *V, size_t stride, int np, int G, int hd, float *part,
                          float *out) {
    for (int j = 0; j < 16; j++)
        for (int h0 = 0; h0 < G;) {
            int hn = G - h0 >= 4 ? 4 : 1;
            for (int i0 = 0; i0 < hd / 16; i0++) {
                if (hn == 4) wv_tile8(sc, V, stride, np, G, hd, j, h0, i0, 4, part);
                else wv_tile8(sc, V, stride, np, G, hd, j, h0, i0, 1, part);
            }
            h0 += hn;
        }
    size_t gs = (size_t)G * hd;
    for (int w = 8; w >= 2; w /= 2)
        for (int k = 0; k < w; k++)
            for (size_t e = 0; e < gs; e += 8)
                _mm256_storeu_ps(part + k * gs + e, _mm256_add_ps(_mm256_loadu_ps(part + k * gs + e),
                                                                  _mm256_loadu_ps(part + (k + w) * gs + e)));
    for (size_t e = 0; e < gs; e += 8)
        _mm256_storeu_ps(out + e, _mm256_add_ps(_mm256_loadu_ps(part + e), _mm256_loadu_ps(part + gs + e)));
}

/* As flash_tile(): heads h0..h0+HN-1, the 16 values at i0*16. */
ORX_INLINE void flash_tile8(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G, int hd,
                            int h0, int i0, int HN, const float *S, float *out) {
    __m256 acc[4][2];
    for (int a = 0; a < HN; a++) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
    for (int p = 0; p < np; p++) {
        const uint16_t *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        __m256 v0 = ld8(vr, 0, true), v1 = ld8(vr, 8, true);
        for (int a = 0; a < HN; a++) {
            size_t n = (size_t)p * G + h0 + a;
            if (ms[n] != 1.0f) {
                __m256 mb = _mm256_set1_ps(ms[n]);
                acc[a][0] = round_f16_8(_mm256_mul_ps(acc[a][0], mb));
                acc[a][1] = round_f16_8(_mm256_mul_ps(acc[a][1], mb));
            }
            __m256 wb = _mm256_set1_ps(vs[n]);
            acc[a][0] = round_f16_8(_mm256_fmadd_ps(v0, wb, acc[a][0]));
            acc[a][1] = round_f16_8(_mm256_fmadd_ps(v1, wb, acc[a][1]));
        }
    }
    for (int a = 0; a < HN; a++) {
        float s = S[h0 + a], inv = s == 0.0f ? 0.0f : 1.0f / s;
        float *o = out + (size_t)(h0 + a) * hd + (size_t)i0 * 16;
        _mm256_storeu_ps(o, _mm256_mul_ps(acc[a][0], _mm256_set1_ps(inv)));
        _mm256_storeu_ps(o + 8, _mm256_mul_ps(acc[a][1], _mm256_set1_ps(inv)));
    }
}

ORX_STAGE void flash_v8(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G, int hd,
                        const float *S, float *out) {
    for (int h0 = 0; h0 < G;) {
        int hn = G - h0 >= 4 ? 4 : 1;
        for (int i0 = 0; i0 < hd / 16; i0++) {
            if (hn == 4) flash_tile8(vs, ms, V, stride, np, G, hd, h0, i0, 4, S, out);
            else flash_tile8(vs, ms, V, stride, np, G, hd, h0, i0, 1, S, out);
        }
        h0 += hn;
    }
}

__attribute__((target("avx2,fma,f16c"))) static void item_avx2(const orx_attn_job *j, thread_buf *b, int t, int g,
                                                              int h0, int G) {
    int hd = j->head_dim;
    item_span sp = span_of(j, t, g, G);
    size_t off = ((size_t)t * j->n_head + (size_t)h0) * hd;
    const float *q = j->q + off;
    float *out = j->out + off;
    if (j->f16) {
        for (size_t e = 0; e < (size_t)G * hd; e += 8) _mm256_storeu_ps(b->qr + e, round_f16_8(_mm256_loadu_ps(q + e)));
        scores8(b->qr, (const uint16_t *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, true, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        flash_factors(b->sc, b->aux, sp.np, G, b->st);
        flash_v8(b->sc, b->aux, (const uint16_t *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->st + G, out);
    } else {
        scores8(q, (const float *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, false, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        mask_scores(b->sc, sp.n_masked, G);
        softmax8(b->sc, sp.np, G, b->st);
        weights_v8(b->sc, (const float *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->part, out);
    }
}
ORX_TARGET_END
#endif /* ORX_ATTN_X86 */

/* ============================================================================================
 * Dispatch and threads
 * ========================================================================================== */
enum { PATH_REF = 0, PATH_AVX512 = 1, PATH_AVX2 = 2 };

static int pick_path(int32_t head_dim, orx_attn_impl impl) {
#if ORX_ATTN_X86
    const orx_cpu_features *f = orx_cpu_get();
    bool avx2 = f->avx2 && f->fma && f->f16c, avx512 = avx2 && f->avx512f && f->avx512vl && f->avx512bw;
    if (impl == ORX_ATTN_IMPL_REF || head_dim <= 0 || head_dim % 16) return PATH_REF;
    if (avx512 && impl == ORX_ATTN_IMPL_AUTO) return PATH_AVX512;
    return avx2 ? PATH_AVX2 : PATH_REF;
#else
    (void)head_dim, (void)impl;
    return PATH_REF;
#endif
}

bool orx_attn_fast_available(int32_t head_dim) { return pick_path(head_dim, ORX_ATTN_IMPL_AUTO) != PATH_REF; }

typedef struct run_ctx {
    const orx_attn_job *job;   /* the work */
    orx_attn_scratch   *s;     /* buffers */
    atomic_int          next;  /* next item to hand out */
    int                 items; /* n_tok * n_head_kv * n_sub */
    int                 n_sub; /* parts each KV head's group of query heads is split into */
    int                 path;  /* PATH_* */
} run_ctx;

static void worker(void *vctx, int ith, int nth) {
    run_ctx *r = vctx;
    if (ith >= r->s->n_threads) return;
    const orx_attn_job *j = r->job;
    thread_buf b = thread_buffers(r->s, ith);
    int nkv = j->n_head_kv, G = j->n_head / nkv, ns = r->n_sub, gs = G / ns;
    for (;;) {
        int i = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
        if (i >= r->items) break;
        int t = j->n_tok - 1 - i / (nkv * ns), g = i % (nkv * ns) / ns, h0 = g * G + i % ns * gs; /* longest first */
#if ORX_ATTN_X86
        if (r->path == PATH_AVX512) {
            item_fast(j, &b, t, g, h0, gs);
            continue;
        }
        if (r->path == PATH_AVX2) {
            item_avx2(j, &b, t, g, h0, gs);
            continue;
        }
#endif
        for (int h = h0; h < h0 + gs; h++) ref_one(j, &b, t, h);
    }
}

void orx_attn_run(orx_threadpool *pool, orx_attn_scratch *s, const orx_attn_job *job, orx_attn_impl impl) {
    if (job->n_tok <= 0) return;
    /* Few items (decode): split the query heads of each group, so that every thread has work
     * (each part reads the group's K and V rows again; the results do not change). */
    int G = job->n_head / job->n_head_kv, nth = orx_threadpool_size(pool), ns = 1;
    if (nth > s->n_threads) nth = s->n_threads;
    while (job->n_tok * job->n_head_kv * ns < 2 * nth && G % (2 * ns) == 0) ns *= 2;
    run_ctx r = {.job = job, .s = s, .items = job->n_tok * job->n_head_kv * ns, .n_sub = ns};
    atomic_init(&r.next, 0);
    r.path = pick_path(job->head_dim, impl);
#ifdef ORX_ATTN_FORCE_REF /* comparison builds: the reference everywhere */
    r.path = PATH_REF;
#endif
    orx_threadpool_run(pool, worker, &r);
}
