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
 * This file holds the reference, which does one (token, head) pair at a time, and the dispatch.
 * The fast paths (the AVX-512 tiles in cpu/x86/avx512.c, the AVX2 ones with 8-lane halves in
 * cpu/x86/avx2.c, sharing attention_impl.h) do the same floating-point operations on the same operands in
 * the same association order for every output value, organised differently: the query heads
 * sharing a KV head form a group, so each K and V row is loaded once per group; the 16-lane trees
 * of 16 dot products are done at once with a transposed butterfly; weights x V keeps the partial
 * sums of several heads in registers. Threads take (token, KV head) items from an atomic counter,
 * the longest contexts first; when there are fewer than two items per thread (decode with few KV
 * heads), each group's heads are split. Build with -DORX_ATTN_FORCE_REF to time the reference,
 * -DORX_ATTN_PROFILE to see the stages as separate symbols in perf.
 */
#include "engine/attention_impl.h"
#include "engine/cpu/x86/x86.h"
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

static orx_attn_buf orx_attn_buffers(const orx_attn_scratch *s, int ith) {
    float *p = s->mem + (size_t)ith * s->per_thread;
    orx_attn_buf b;
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

/* F32 -> F16 -> F32 (round to nearest even): the compiler's _Float16 where it has one (F16C
 * instructions in the AVX2 build), else quant.c's portable conversions (same results). */
#if defined(__FLT16_MAX__) && ORX_ATTN_X86
ORX_INLINE float f16r(float x) { return (float)(_Float16)x; }
#else
static float f16r(float x) { return orx_fp16_to_f32(orx_f32_to_fp16(x)); }
#endif

/* ggml_vec_dot_f16 order: the 64-value lanes as dot_kq, the tail accumulated in double. */
ORX_INLINE float dot_kq_f16(const float *x, const float *y, int n) {
    int np = n & ~63;
    double sum = np ? dot_kq(x, y, np) : 0.0;
    for (int i = np; i < n; i++) sum += (double)(x[i] * y[i]);
    return (float)sum;
}

ORX_INLINE void f16_row(float *dst, const uint16_t *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = orx_fp16_to_f32(src[i]);
}

/* Flash attention with an F16 cache: online softmax over positions, the V accumulator kept in F16
 * (rounded after every update). The running sum is one fused multiply-add, as the FMA builds of
 * ggml (and of this file before) compute S*ms + vs. */
ORX_INLINE void ref_flash(const orx_attn_job *j, orx_attn_buf *b, int t, int h, int32_t pos) {
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
        float s = dot_kq_f16(b->kb, qr, hd) * scale, ms = 1.0f, vs = 1.0f;
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
ORX_INLINE void ref_body(const orx_attn_job *j, orx_attn_buf *b, int t, int h) {
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
__attribute__((target("avx2,fma,f16c"))) ORX_HOT_O3 static void ref_fma(const orx_attn_job *j, orx_attn_buf *b,
                                                                         int t, int h) {
    ref_body(j, b, t, h);
}
#endif
static void ref_generic(const orx_attn_job *j, orx_attn_buf *b, int t, int h) { ref_body(j, b, t, h); }

static void ref_one(const orx_attn_job *j, orx_attn_buf *b, int t, int h) {
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
    orx_attn_buf b = orx_attn_buffers(r->s, ith);
    int nkv = j->n_head_kv, G = j->n_head / nkv, ns = r->n_sub, gs = G / ns;
    for (;;) {
        int i = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
        if (i >= r->items) break;
        int t = j->n_tok - 1 - i / (nkv * ns), g = i % (nkv * ns) / ns, h0 = g * G + i % ns * gs; /* longest first */
#if ORX_ATTN_X86
        if (r->path == PATH_AVX512) {
            orx_attn_item_avx512(j, &b, t, g, h0, gs);
            continue;
        }
        if (r->path == PATH_AVX2) {
            orx_attn_item_avx2(j, &b, t, g, h0, gs);
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
