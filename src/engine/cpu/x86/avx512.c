/*
 * avx512.c — AVX-512 (F, BW, VL) + VNNI kernels, compiled with target attributes.
 *
 * Q4_0 / Q8_0: two 32-value blocks per 512-bit register, u8 x s8 dot products with vpdpbusd;
 * Q4_0's offset of 8 is removed with a second vpdpbusd against the constant 8 (exact integers).
 * Lanes 0-7 hold block i, lanes 8-15 block i+1, so per-block scales are applied per half.
 * Types without a kernel here use the AVX2 ones (orx_kernels_avx2).
 * Also here: the decode gemv (below), the prompt tiles of the strip driver (rows in lanes, 16 rows)
 * and the attention tiles (attention.c's fast path).
 */
#include "engine/cpu/x86/x86.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* Software prefetch in the decode kernels (orx_cpu_decode_pf): by default when a pass over the
 * weights serves several tokens, and in one-token passes for the kernels pf_tune.c measured faster
 * with it on this machine. Whether it helps depends on the machine and the pass: on one Zen 4 VM,
 * 8 KB ahead streamed Q8_0 and Q6_K 12-15 % faster than 2 KB; on another, one-token decode of Q8_0
 * and Q4_K_R16 read 9-11 points more of the bandwidth probe with it off; on a third, one-token
 * Q4_K_R16 streamed 53-55 GB/s with it and 28-31 GB/s without; drafted passes (several tokens)
 * decoded faster with it on (README, "Prefetch distance"; `build/gemv_cpu stream` compares both
 * in one run). PF_STREAM: bytes ahead in a row. */
#define PF_STREAM 8192

/* prefetch for a pass of kernel `kind` serving nt tokens? */
static inline bool decode_pf(int nt, int kind) {
    int m = atomic_load_explicit(&orx_cpu_decode_pf, memory_order_relaxed);
    return m == ORX_PF_ON ||
           (m == ORX_PF_AUTO && (nt > 1 || (atomic_load_explicit(&orx_cpu_pf_one, memory_order_relaxed) >> kind & 1)));
}

/* ============================================================================================
 * Helpers
 * ========================================================================================== */

/* [s0 x 8 | s1 x 8] */
ORX_AVX512 static inline __m512 scale2(float s0, float s1) {
    return _mm512_mask_blend_ps((__mmask16)0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
}

/* two Q4_0 blocks → 64 unsigned nibble values in natural order per block */
ORX_AVX512 static inline __m512i unpack2_q4(const orx_block_q4_0 *b) {
    const __m256i m = _mm256_set1_epi8(0x0F);
    __m256i qq = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)b[1].qs),
                                  _mm_loadu_si128((const __m128i *)b[0].qs));
    __m256i lo = _mm256_and_si256(qq, m), hi = _mm256_and_si256(_mm256_srli_epi16(qq, 4), m);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); /* [lo0 lo1 hi0 hi1] */
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));         /* [lo0 hi0 lo1 hi1] */
}

ORX_AVX512 static inline __m512i load2_q8(const orx_block_q8_0 *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b[0].qs)),
                              _mm256_loadu_si256((const __m256i *)b[1].qs), 1);
}

/* signed x signed: |w| (u8) x sign(w)*y (s8) */
ORX_AVX512 static inline __m512i dot2_s8(__m512i w, __m512i y) {
    __mmask64 neg = _mm512_movepi8_mask(w);
    __m512i aw = _mm512_abs_epi8(w);
    __m512i sy = _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, sy);
}

/* ============================================================================================
 * Q4_0 / Q8_0 dot products
 * ========================================================================================== */
/* Block sums of two Q4_0 (q4: unsigned nibbles, the offset 8 x sum(y) subtracted) or Q8_0 blocks */
ORX_AVX512 ORX_AI __m512i pair_sums(bool q4, const void *w, const orx_block_q8_0 *x) {
    __m512i y = load2_q8(x);
    if (!q4) return dot2_s8(load2_q8(w), y);
    return _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), unpack2_q4(w), y),
                            _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(8), y));
}

/* Q4_0 (q4) or Q8_0 weights: four blocks per step, the last n/32 mod 4 as the reference computes them */
ORX_AVX512 ORX_AI void dot_q(bool q4, int64_t n, float *s, const void *vw, const orx_block_q8_0 *x) {
    const orx_block_q4_0 *w4 = vw;
    const orx_block_q8_0 *w8 = vw;
    const size_t bb = q4 ? sizeof *w4 : sizeof *w8;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t nb = n / 32, i = 0;
#define DW(k) orx_h2f(q4 ? w4[k].d : w8[k].d)
    for (; i + 4 <= nb; i += 4) {
        const char *w = (const char *)vw + (size_t)i * bb;
        if (q4) _mm_prefetch(w + 2048, _MM_HINT_T0);
        __m512i p0 = pair_sums(q4, w, x + i), p1 = pair_sums(q4, w + 2 * bb, x + i + 2);
        acc0 = _mm512_fmadd_ps(scale2(DW(i) * orx_h2f(x[i].d), DW(i + 1) * orx_h2f(x[i + 1].d)), _mm512_cvtepi32_ps(p0), acc0);
        acc1 = _mm512_fmadd_ps(scale2(DW(i + 2) * orx_h2f(x[i + 2].d), DW(i + 3) * orx_h2f(x[i + 3].d)),
                               _mm512_cvtepi32_ps(p1), acc1);
    }
#undef DW
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    orx_vec_dot_fn ref = i < nb ? orx_kernel_ref(q4 ? ORX_TYPE_Q4_0 : ORX_TYPE_Q8_0).vec_dot : NULL;
    for (float t; i < nb; i++) {
        ref(32, &t, (const char *)vw + (size_t)i * bb, x + i);
        sum += t;
    }
    *s = sum;
}

ORX_AVX512 static void dot_q4_0(int64_t n, float *s, const void *w, const void *x) { dot_q(true, n, s, w, x); }
ORX_AVX512 static void dot_q8_0(int64_t n, float *s, const void *w, const void *x) { dot_q(false, n, s, w, x); }

/* ============================================================================================
 * Q4_0 / Q8_0 tiles: per row, each pair of weight blocks is unpacked once for all tokens
 * ========================================================================================== */
#define MAXT 8

/* Q4_0 (q4) or Q8_0 rows: Q4_0 as unsigned nibbles with the offset 8 x sum(y) subtracted, Q8_0 as
 * |w| against y with w's signs. */
ORX_AVX512 ORX_AI void gemm_q(bool q4, int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                              size_t x_stride, int nt, float *y, int64_t y_stride) {
    const __m512i eight = _mm512_set1_epi8(8);
    const size_t bb = q4 ? sizeof(orx_block_q4_0) : sizeof(orx_block_q8_0);
    int64_t nb = n / 32, np = nb / 2;
    for (int r = 0; r < nr; r++) {
        const char *wr = (const char *)w + (size_t)r * w_stride;
        __m512 acc[MAXT];
        for (int t = 0; t < nt; t++) acc[t] = _mm512_setzero_ps();
        for (int64_t pi = 0; pi < np; pi++) {
            int64_t i = 2 * pi;
            const orx_block_q4_0 *w4 = (const void *)(wr + (size_t)i * bb);
            const orx_block_q8_0 *w8 = (const void *)(wr + (size_t)i * bb);
            __m512i q = q4 ? unpack2_q4(w4) : load2_q8(w8);
            __mmask64 neg = q4 ? 0 : _mm512_movepi8_mask(q);
            if (!q4) q = _mm512_abs_epi8(q);
            float d0 = orx_h2f(q4 ? w4[0].d : w8[0].d), d1 = orx_h2f(q4 ? w4[1].d : w8[1].d);
            for (int t = 0; t < nt; t++) {
                const orx_block_q8_0 *xb = (const void *)((const char *)x + (size_t)t * x_stride);
                __m512i yy = load2_q8(xb + i);
                __m512i p = q4 ? _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, yy),
                                                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), eight, yy))
                               : _mm512_dpbusd_epi32(_mm512_setzero_si512(), q,
                                                     _mm512_mask_sub_epi8(yy, neg, _mm512_setzero_si512(), yy));
                acc[t] = _mm512_fmadd_ps(scale2(d0 * orx_h2f(xb[i].d), d1 * orx_h2f(xb[i + 1].d)),
                                         _mm512_cvtepi32_ps(p), acc[t]);
            }
        }
        for (int t = 0; t < nt; t++) {
            float sum = _mm512_reduce_add_ps(acc[t]);
            if (nb & 1) {
                const orx_block_q8_0 *xb = (const void *)((const char *)x + (size_t)t * x_stride);
                float tail;
                (q4 ? dot_q4_0 : dot_q8_0)(32, &tail, wr + (size_t)(nb - 1) * bb, xb + nb - 1);
                sum += tail;
            }
            y[t * y_stride + r] = sum;
        }
    }
}

ORX_AVX512 static void gemm_q4_0(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
                                 float *y, int64_t ys) {
    gemm_q(true, n, w, ws, nr, x, xs, nt, y, ys);
}
ORX_AVX512 static void gemm_q8_0(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
                                 float *y, int64_t ys) {
    gemm_q(false, n, w, ws, nr, x, xs, nt, y, ys);
}

/* ============================================================================================
 * Decode (one token, a chunk of rows): per 16 blocks, 8 vpdpbusd give block partial sums that a
 * hadd tree reduces to one vector of 16 block sums (in the lane order kS below); the 16 weight
 * scales come in with one gather, so scaling costs one FMA per 16 blocks. The activation side
 * (value order matching the unpacked weights, scales, offset corrections) is prepared once per
 * chunk.
 * ========================================================================================== */
static const int kS[16] = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
#define GEMV_MAXB 1024 /* blocks per row handled here (n <= 32768); longer rows use vec_dot */

/* 8 vectors of pair partial sums ([b2k x4, b2k+1 x4, b2k x4, b2k+1 x4]) → 16 block sums, kS order */
ORX_AVX512 static inline __m512i reduce16(const __m512i p[8]) {
    __m256i t[8];
    for (int k = 0; k < 8; k++)
        t[k] = _mm256_add_epi32(_mm512_castsi512_si256(p[k]), _mm512_extracti64x4_epi64(p[k], 1));
    __m256i s0 = _mm256_hadd_epi32(_mm256_hadd_epi32(t[0], t[1]), _mm256_hadd_epi32(t[2], t[3]));
    __m256i s1 = _mm256_hadd_epi32(_mm256_hadd_epi32(t[4], t[5]), _mm256_hadd_epi32(t[6], t[7]));
    return _mm512_inserti64x4(_mm512_castsi256_si512(s0), s1, 1);
}

/* activations: x'[pair] = [x2k[0:16], x2k+1[0:16], x2k[16:32], x2k+1[16:32]]; per 16 blocks, in kS
 * order: d_x and off * sum(x) */
ORX_AVX512 static void gemv_prep(const orx_block_q8_0 *x, int64_t nb16, int off, int8_t *xp, float *dx, int32_t *corr) {
    for (int64_t g = 0; g < nb16; g++) {
        for (int k = 0; k < 8; k++) {
            const orx_block_q8_0 *a = x + g * 16 + 2 * k, *b = a + 1;
            int8_t *o = xp + (g * 8 + k) * 64;
            memcpy(o, a->qs, 16); memcpy(o + 16, b->qs, 16); memcpy(o + 32, a->qs + 16, 16); memcpy(o + 48, b->qs + 16, 16);
        }
        for (int l = 0; l < 16; l++) {
            const orx_block_q8_0 *b = x + g * 16 + kS[l];
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += b->qs[j];
            dx[g * 16 + l] = orx_h2f(b->d);
            corr[g * 16 + l] = off * sum;
        }
    }
}

/* Q4_0 decode, four blocks per 512-bit register: the 4 x 16 nibble bytes of blocks b..b+3 give
 * the low values [0,16) and (after a shift) the high values [16,32) of all four; two vpdpbusd
 * against the activations in the same order leave 4 lanes of exact partial sums per block. The
 * offset of 8 is removed per lane in integers; each lane is then scaled by its block's
 * d_w * d_x (16 scales per gather, spread 4 lanes each with one permute) and accumulated in f32.
 * Activation side per 4 blocks: lo[64], hi[64] bytes, corr[16] lanes. */
/* prepared layout, per 4 blocks: lo[64] and hi[64] bytes; then corr[16] int32 per 4 blocks,
 * then d_x per block */
typedef struct q4_0_prep { int8_t *xlo, *xhi; int32_t *corr; float *dx; } q4_0_prep;
static q4_0_prep q4_0_prep_at(void *buf, int64_t nb) {
    char *p = buf;
    return (q4_0_prep){(int8_t *)p, (int8_t *)(p + nb * 16), (int32_t *)(p + nb * 32), (float *)(p + nb * 48)};
}

ORX_AVX512 static bool gemv_prep_q4_0(int64_t n, const void *vx, void *buf) {
    const orx_block_q8_0 *x = vx;
    int64_t nb16 = n / 32 / 16, nb = nb16 * 16;
    if (n / 32 > GEMV_MAXB || (size_t)nb * 52 > ORX_GEMV_PREP_BYTES) return false;
    q4_0_prep P = q4_0_prep_at(buf, nb);
    for (int64_t q = 0; q < nb / 4; q++)
        for (int k = 0; k < 4; k++) {
            const orx_block_q8_0 *b = x + 4 * q + k;
            memcpy(P.xlo + q * 64 + 16 * k, b->qs, 16);
            memcpy(P.xhi + q * 64 + 16 * k, b->qs + 16, 16);
            for (int s = 0; s < 4; s++) {
                int sum = 0;
                for (int i = 0; i < 4; i++) sum += b->qs[4 * s + i] + b->qs[16 + 4 * s + i];
                P.corr[q * 16 + 4 * k + s] = 8 * sum;
            }
        }
    for (int64_t i = 0; i < nb; i++) P.dx[i] = orx_h2f(x[i].d);
    return true;
}

/* One weight row against NT tokens (NT a constant after inlining): each token gets exactly the
 * single-token sequence of operations, the weights are loaded and unpacked once. */
/* Four Q4_0 blocks are 72 contiguous bytes: two loads (the second masked to its 8 bytes, so a row's
 * end is never read past) and one two-source word permute give the 64 nibble bytes of the four
 * (every field sits at an even offset), another word permute their 4 scales spread over 4 lanes
 * each: no inserts, no gathers (on Zen 4, where 512-bit operations issue as two halves, these
 * were what bounded decode). */
static const int16_t kQ4Words[32] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17,
                                     19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
static const int16_t kQ4Scale[32] = {0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

ORX_AVX512 ORX_AI void q4_0_row(const orx_block_q4_0 *wb, int64_t nb16, const q4_0_prep *P, int NT, float *sum) {
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i words = _mm512_loadu_si512(kQ4Words), scw = _mm512_loadu_si512(kQ4Scale);
    __m512 acc0[4], acc1[4];
    for (int t = 0; t < NT; t++) acc0[t] = acc1[t] = _mm512_setzero_ps();
    for (int64_t g = 0; g < nb16; g++) {
        const orx_block_q4_0 *b = wb + g * 16;
        for (int l = 0; l < 5; l++) _mm_prefetch((const char *)b + 1536 + 64 * l, _MM_HINT_T0); /* 288 B per step (PF_STREAM read 10-17 % slower here) */
        __m512 dx[4];
        for (int t = 0; t < NT; t++) dx[t] = _mm512_loadu_ps(P[t].dx + g * 16);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            const char *c = (const char *)(b + 4 * q);
            __m512i w0 = _mm512_loadu_si512(c), w1 = _mm512_maskz_loadu_epi8(0xFF, c + 64);
            __m512i v = _mm512_permutex2var_epi16(w0, words, w1);
            __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(scw, w0)));
            __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            int64_t gq = g * 4 + q;
            for (int t = 0; t < NT; t++) {
                __m512i x = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(P[t].xlo + gq * 64));
                x = _mm512_dpbusd_epi32(x, hi, _mm512_loadu_si512(P[t].xhi + gq * 64));
                x = _mm512_sub_epi32(x, _mm512_loadu_si512(P[t].corr + gq * 16));
                __m512 sc = _mm512_mul_ps(dw, _mm512_permutexvar_ps(_mm512_add_epi32(spread, _mm512_set1_epi32(4 * q)), dx[t]));
                if (q & 1) acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(x), sc, acc1[t]);
                else acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(x), sc, acc0[t]);
            }
        }
    }
    for (int t = 0; t < NT; t++) sum[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
}

/* gemv_multi_<T> and gemv_<T> for Q4_0 and Q8_0: tokens in groups of 4 (each with its prepared
 * activation layout, or prepared here for a single token), each weight row through <T>_row once for
 * the group, the blocks past the last full 16 through the one-row dot product. */
#define GEMV_MULTI_Q(T, BLOCK, PREP_BYTES)                                                                         \
    ORX_AVX512 static void gemv_multi_##T(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,      \
                                          size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y, \
                                          int64_t y_stride) {                                                      \
        int64_t nb = n / 32, nb16 = nb / 16;                                                                       \
        _Alignas(64) char local[GEMV_MAXB * PREP_BYTES];                                                           \
        for (int t0 = 0; t0 < nt; t0 += 4) {                                                                       \
            int k = nt - t0 < 4 ? nt - t0 : 4;                                                                     \
            T##_prep P[4];                                                                                         \
            for (int t = 0; t < k; t++) {                                                                          \
                const void *x = (const char *)vx + (size_t)(t0 + t) * x_stride;                                    \
                const void *pp = prep ? (const char *)prep + (size_t)(t0 + t) * prep_stride : NULL;                \
                if (!pp) {                                                                                         \
                    if (k != 1 || !gemv_prep_##T(n, x, local)) { /* no layout: vec_dot per row */                  \
                        for (int r = 0; r < nr; r++)                                                               \
                            for (int u = 0; u < k; u++)                                                            \
                                dot_##T(n, &y[(t0 + u) * y_stride + r], (const char *)w + (size_t)r * w_stride,    \
                                        (const char *)vx + (size_t)(t0 + u) * x_stride);                           \
                        goto next;                                                                                 \
                    }                                                                                              \
                    pp = local;                                                                                    \
                }                                                                                                  \
                P[t] = T##_prep_at((void *)(uintptr_t)pp, nb16 * 16);                                              \
            }                                                                                                      \
            for (int r = 0; r < nr; r++) {                                                                         \
                const BLOCK *wb = (const void *)((const char *)w + (size_t)r * w_stride);                          \
                float sum[4];                                                                                      \
                switch (k) {                                                                                       \
                case 1: T##_row(wb, nb16, P, 1, sum); break;                                                       \
                case 2: T##_row(wb, nb16, P, 2, sum); break;                                                       \
                case 3: T##_row(wb, nb16, P, 3, sum); break;                                                       \
                default: T##_row(wb, nb16, P, 4, sum); break;                                                      \
                }                                                                                                  \
                for (int t = 0; t < k; t++) {                                                                      \
                    if (nb % 16) {                                                                                 \
                        const orx_block_q8_0 *x = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);  \
                        float tail;                                                                                \
                        dot_##T((nb % 16) * 32, &tail, wb + nb16 * 16, x + nb16 * 16);                             \
                        sum[t] += tail;                                                                            \
                    }                                                                                              \
                    y[(t0 + t) * y_stride + r] = sum[t];                                                           \
                }                                                                                                  \
            }                                                                                                      \
        next:;                                                                                                     \
        }                                                                                                          \
    }                                                                                                              \
    ORX_AVX512 static void gemv_##T(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,            \
                                    const void *prep, float *y) {                                                  \
        gemv_multi_##T(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);                                               \
    }

GEMV_MULTI_Q(q4_0, orx_block_q4_0, 52)

/* ============================================================================================
 * Q4_0_R16 (quant.h): 16 rows per register for decode and prompt alike
 *
 * Per block of a 16-row group: 16 scales (one vcvtph2ps), four 64-byte loads whose low and high
 * nibbles are 4 values of each of the 16 rows (values 4j..4j+3 and 16+4j..16+4j+3), then per
 * token 8 vpdpbusd against 4 activation bytes broadcast to every lane, in two chains as the
 * prompt tile (tile_q) runs them: each lane ends with its row's exact block sum, the offset
 * 8 x sum(x) is subtracted and all 16 rows are scaled by d_w[row] x d_x, multiplied and added as
 * the scalar reference does (R16_APART: bit-identical to it). Each token's
 * operations do not depend on which tokens share the pass, so one token (decode), several
 * (drafts, orx_matmul_decode) and a prompt batch give every token the same bits.
 * Activation side per token: d_x and 8 x sum(x) per block (gemv_prep_r16).
 * ========================================================================================== */
#define R16_BLOCK 288 /* bytes per block of a 16-row group */
#define R16_PF_BLOCKS 16 /* blocks prefetched ahead (4.6 KB), 8 blocks' 36 lines at a time: one-token
                            passes streamed 7-13 % faster than 5 lines per block 6.9 KB ahead, 8B Q4_0
                            decoded 3-16 % faster (README, "Prefetch distance") */
/* A product kept apart from the sum it feeds (the compiler may not fuse them into one FMA): the
 * _R16 kernels round as the scalar reference does, so their results are its results, bit for bit. */
#define R16_APART(v) __asm__("" : "+v"(v))
#define R16_TOKS  8   /* tokens per pass over a group (8 accumulators in registers) */

/* CALL(N) with N = k as a constant, 1 .. R16_TOKS (larger k as R16_TOKS): each token count gets its
 * own copy of a group kernel, its token loops unrolled. */
#define R16_NT_SWITCH(k, CALL)                                                                                    \
    switch (k) {                                                                                                  \
    case 1: CALL(1); break;                                                                                       \
    case 2: CALL(2); break;                                                                                       \
    case 3: CALL(3); break;                                                                                       \
    case 4: CALL(4); break;                                                                                       \
    case 5: CALL(5); break;                                                                                       \
    case 6: CALL(6); break;                                                                                       \
    case 7: CALL(7); break;                                                                                       \
    default: CALL(8); break;                                                                                      \
    }

/* prepared layout: d_x [nb] floats, then off x sum(x) [nb] int32 (the weights' offset: 8 for the
 * Q4_0 nibbles, 128 for Q8_0_R16's unsigned bytes) */
ORX_AVX512 ORX_AI bool prep_d_sum(int64_t n, const void *vx, void *buf, int32_t off) {
    const orx_block_q8_0 *x = vx;
    int64_t nb = n / 32;
    if ((size_t)nb * 8 > ORX_GEMV_PREP_BYTES) return false;
    float *dx = buf;
    int32_t *corr = (int32_t *)(dx + nb);
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t b = 0; b < nb; b++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)x[b].qs);
        /* sum of 32 signed bytes: |q| against sign-adjusted ones, then 16-bit pairs to 32-bit */
        __m256i s16 = _mm256_maddubs_epi16(ones, q);
        __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        corr[b] = off * _mm_cvtsi128_si32(s);
        dx[b] = orx_h2f(x[b].d);
    }
    return true;
}

ORX_AVX512 static bool gemv_prep_r16(int64_t n, const void *vx, void *buf) { return prep_d_sum(n, vx, buf, 8); }

/* acc + the dot products of each lane's 4 unsigned bytes of w with the 4 signed bytes at x4, read
 * as one memory operand broadcast to every lane (vpdpbusd's {1to16} form: one instruction where a
 * separate broadcast would add a second per product; the compiler does not fold the broadcast). */
typedef int32_t i32_any __attribute__((aligned(1), may_alias)); /* 4 bytes at any address */
ORX_AVX512 ORX_AI __m512i dpbusd_b(__m512i acc, __m512i w, const int8_t *x4) {
    __asm__("vpdpbusd %[x]%{1to16%}, %[w], %[acc]" : [acc] "+v"(acc) : [w] "v"(w), [x] "m"(*(const i32_any *)x4));
    return acc;
}

/* One 16-row group against NT tokens (a constant after inlining): y[t * y_stride + r]. */
ORX_AVX512 ORX_AI void r16_group(const uint8_t *grp, int64_t nb, const orx_block_q8_0 *const *x,
                                  const float *const *dx, const int32_t *const *corr, int NT, float *y,
                                  int64_t y_stride) {
    const bool pf = decode_pf(NT, ORX_PFK_Q4_0_R16); /* software prefetch (see PF_STREAM) */
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[R16_TOKS];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *bp = grp + (size_t)b * R16_BLOCK;
        if (pf && (b & 7) == 0) /* the lines of blocks b+16 .. b+23 */
            for (int l = 0; l < 8 * R16_BLOCK / 64; l++)
                _mm_prefetch((const char *)bp + R16_PF_BLOCKS * R16_BLOCK + 64 * l, _MM_HINT_T0);
        __m512 dwv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bp));
        __m512i v[8];
        for (int j = 0; j < 4; j++) { /* low nibbles, and high nibbles in place (16 x their value) */
            __m512i p = _mm512_loadu_si512(bp + 32 + 64 * j);
            v[j] = _mm512_and_si512(p, m4);
            v[4 + j] = _mm512_andnot_si512(m4, p);
        }
        for (int t = 0; t < NT; t++) {
            const int8_t *xq = x[t][b].qs;
            __m512i s0 = dpbusd_b(_mm512_setzero_si512(), v[0], xq + 4 * 0);
            __m512i s1 = dpbusd_b(_mm512_setzero_si512(), v[4], xq + 4 * 4);
            s0 = dpbusd_b(s0, v[1], xq + 4 * 1);
            s1 = dpbusd_b(s1, v[5], xq + 4 * 5);
            s0 = dpbusd_b(s0, v[2], xq + 4 * 2);
            s1 = dpbusd_b(s1, v[6], xq + 4 * 6);
            s0 = dpbusd_b(s0, v[3], xq + 4 * 3);
            s1 = dpbusd_b(s1, v[7], xq + 4 * 7);
            /* s1 = 16 x the high nibbles' sum exactly: the shift divides it back without rounding */
            __m512i s = _mm512_sub_epi32(_mm512_add_epi32(s0, _mm512_srai_epi32(s1, 4)), _mm512_set1_epi32(corr[t][b]));
            __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dwv, _mm512_set1_ps(dx[t][b])));
            R16_APART(p);
            acc[t] = _mm512_add_ps(acc[t], p);
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

/* The nt tokens' activation layouts (pb bytes each, by prep_fn) made here when the caller had
 * none (its scratch could not be had): a buffer to free, or NULL when that fails too — then the
 * nr rows of every token are written as 0. */
static char *r16_prep_here(orx_gemv_prep_fn prep_fn, size_t pb, int64_t n, const void *vx, size_t x_stride, int nt,
                           int nr, float *y, int64_t y_stride) {
    char *own = orx_alloc64(pb * (size_t)(nt > 0 ? nt : 1));
    for (int t = 0; own && t < nt; t++)
        if (!prep_fn(n, (const char *)vx + (size_t)t * x_stride, own + (size_t)t * pb)) {
            free(own);
            own = NULL;
        }
    if (!own)
        for (int t = 0; t < nt; t++) memset(y + t * y_stride, 0, (size_t)nr * sizeof(float));
    return own;
}

/* gemv_multi_<T> and gemv_<T> for the 32-value-block _R16 layouts (Q4_0_R16, Q8_0_R16): nr rows (a
 * multiple of 16, w at a group's start) x nt tokens, R16_TOKS tokens per pass over a group through
 * GROUP; prep: nt layouts of prep_stride bytes (gemv_prep_<T>'s: d_x, then the offset sums), or NULL
 * (prepared here). */
#define GEMV_MULTI_R32(T, GROUP)                                                                                   \
    ORX_AVX512 static void gemv_multi_##T(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,      \
                                          size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y, \
                                          int64_t y_stride) {                                                      \
        int64_t nb = n / 32;                                                                                       \
        char *own = NULL;                                                                                          \
        if (!prep) {                                                                                               \
            own = r16_prep_here(gemv_prep_##T, (size_t)nb * 8, n, vx, x_stride, nt, nr, y, y_stride);              \
            if (!own) return;                                                                                      \
            prep = own;                                                                                            \
            prep_stride = (size_t)nb * 8;                                                                          \
        }                                                                                                          \
        for (int r = 0; r + 16 <= nr; r += 16) {                                                                   \
            const uint8_t *grp = (const uint8_t *)w + (size_t)r * w_stride;                                        \
            for (int t0 = 0; t0 < nt; t0 += R16_TOKS) {                                                            \
                int k = nt - t0 < R16_TOKS ? nt - t0 : R16_TOKS;                                                   \
                const orx_block_q8_0 *x[R16_TOKS];                                                                 \
                const float *dx[R16_TOKS];                                                                         \
                const int32_t *corr[R16_TOKS];                                                                     \
                for (int t = 0; t < k; t++) {                                                                      \
                    x[t] = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);                         \
                    dx[t] = (const void *)((const char *)prep + (size_t)(t0 + t) * prep_stride);                   \
                    corr[t] = (const int32_t *)(dx[t] + nb);                                                       \
                }                                                                                                  \
                float *yo = y + t0 * y_stride + r;                                                                 \
                R16_NT_SWITCH(k, GROUP##_NT)                                                                       \
            }                                                                                                      \
        }                                                                                                          \
        free(own);                                                                                                 \
    }                                                                                                              \
    ORX_AVX512 static void gemv_##T(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,            \
                                    const void *prep, float *y) {                                                  \
        gemv_multi_##T(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);                                               \
    }

#define r16_group_NT(N) r16_group(grp, nb, x, dx, corr, N, yo, y_stride)
GEMV_MULTI_R32(r16, r16_group)
#undef r16_group_NT

/* ============================================================================================
 * Q8_0_R16 (quant.h): 16 rows per register, 8-bit values
 *
 * Per block of a 16-row group: 16 scales (one vcvtph2ps) and eight 64-byte loads, each 4 values of
 * each of the 16 rows stored as unsigned bytes (value + 128), straight into vpdpbusd against 4
 * activation bytes broadcast to every lane; the offset 128 x sum(x) is subtracted and the block
 * scaled, multiplied and added as the scalar reference does (R16_APART: bit-identical to it), so
 * one token, several and a prompt batch give every token the same bits, as for Q4_0_R16.
 * Activation side per token: d_x and 128 x sum(x) per block (gemv_prep_r8).
 * ========================================================================================== */
#define R8_BLOCK 544    /* bytes per block of a 16-row group */
#define R8_PF_BLOCKS 12 /* blocks prefetched ahead (6.5 KB, as far as Q4_0_R16's 24) */

ORX_AVX512 static bool gemv_prep_r8(int64_t n, const void *vx, void *buf) { return prep_d_sum(n, vx, buf, 128); }

/* One 16-row group against NT tokens (a constant after inlining): y[t * y_stride + r]. */
ORX_AVX512 ORX_AI void r8_group(const uint8_t *grp, int64_t nb, const orx_block_q8_0 *const *x,
                                 const float *const *dx, const int32_t *const *corr, int NT, float *y,
                                 int64_t y_stride) {
    const bool pf = decode_pf(NT, ORX_PFK_Q8_0_R16); /* software prefetch (see PF_STREAM) */
    __m512 acc[R16_TOKS];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *bp = grp + (size_t)b * R8_BLOCK;
        if (pf)
            for (int l = 0; l < 9; l++) _mm_prefetch((const char *)bp + R8_PF_BLOCKS * R8_BLOCK + 64 * l, _MM_HINT_T0);
        __m512 dwv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bp));
        __m512i v[8];
        for (int j = 0; j < 8; j++) v[j] = _mm512_loadu_si512(bp + 32 + 64 * j);
        for (int t = 0; t < NT; t++) {
            const int8_t *xq = x[t][b].qs;
            __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[0], _mm512_set1_epi32(orx_ld32(xq + 4 * 0)));
            __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[1], _mm512_set1_epi32(orx_ld32(xq + 4 * 1)));
            for (int c = 2; c < 8; c += 2) {
                s0 = _mm512_dpbusd_epi32(s0, v[c], _mm512_set1_epi32(orx_ld32(xq + 4 * c)));
                s1 = _mm512_dpbusd_epi32(s1, v[c + 1], _mm512_set1_epi32(orx_ld32(xq + 4 * c + 4)));
            }
            __m512i is = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(corr[t][b]));
            __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dwv, _mm512_set1_ps(dx[t][b])));
            R16_APART(p);
            acc[t] = _mm512_add_ps(acc[t], p);
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

#define r8_group_NT(N) r8_group(grp, nb, x, dx, corr, N, yo, y_stride)
GEMV_MULTI_R32(r8, r8_group)
#undef r8_group_NT

/* ============================================================================================
 * Q4_K_R16 (quant.h): 16 rows per register, K-quant super-blocks
 *
 * Per super-block of a 16-row group: the 16 rows' scale words unpacked to 6-bit scales and mins
 * in registers (orx_unpack_k4_scales on 16 lanes); per sub-block k, eight 64-byte loads whose
 * low (k even) or high (k odd, left in place: the sums come out x 16 and are shifted back, exact)
 * nibbles are 4 values of each row, 8 vpdpbusd per token in two chains against 4 activation
 * bytes broadcast to every lane, times the lane's sub-block scale (vpmulld); the mins against the
 * activations' sub-block sums as int16 pairs (vpdpwssd); then per lane, as the reference rounds it:
 * (d_x d_w) sumi + (-d_x dmin_w) summ (bit-identical to it). Each token's operations do not
 * depend on the batch.
 * Activation side per token: per super-block the sub-block sums as pairs (S0,S2) (S1,S3) (S4,S6)
 * (S5,S7) (gemv_prep_k16).
 * ========================================================================================== */
#define K16_BLOCK 2304 /* bytes per super-block of a 16-row group */

ORX_AVX512 static bool gemv_prep_k16(int64_t n, const void *vx, void *buf) {
    const orx_block_q8_K *x = vx;
    int64_t nsb = n / 256;
    if ((size_t)nsb * 16 > ORX_GEMV_PREP_BYTES) return false;
    int32_t *p = buf;
    for (int64_t sb = 0; sb < nsb; sb++) {
        const int16_t *bs = x[sb].bsums;
        int S[8];
        for (int k = 0; k < 8; k++) S[k] = bs[2 * k] + bs[2 * k + 1];
        p[4 * sb + 0] = orx_pack16(S[0], S[2]);
        p[4 * sb + 1] = orx_pack16(S[1], S[3]);
        p[4 * sb + 2] = orx_pack16(S[4], S[6]);
        p[4 * sb + 3] = orx_pack16(S[5], S[7]);
    }
    return true;
}

/* Q5 (a constant after inlining): Q5_K_R16, the same layout with the 5th bits after it (quant.h):
 * each value vector is its nibbles (high ones shifted down) with bit k of the 5th-bit load moved to
 * bit 4 (one shift and one ternary logic op), and no sum is shifted back. */
ORX_AVX512 ORX_AI void k16_group(const uint8_t *grp, int64_t nsb, const orx_block_q8_K *const *x,
                                  const int32_t *const *pairs, int NT, float *y, int64_t y_stride, bool Q5) {
    const size_t BLOCK = Q5 ? K16_BLOCK + 512 : K16_BLOCK;
    const bool pf = decode_pf(NT, Q5 ? ORX_PFK_Q5_K_R16 : ORX_PFK_Q4_K_R16); /* software prefetch (see PF_STREAM) */
    const __m512i m6 = _mm512_set1_epi8(0x3F), m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    const __m512i lo4 = _mm512_set1_epi8(0x0F), hi4 = _mm512_set1_epi8((char)0xF0);
    const __m512i b0 = _mm512_set1_epi32(0xFF), p16 = _mm512_set1_epi32(0x00FF00FF);
    __m512 acc[R16_TOKS];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const uint8_t *bp = grp + (size_t)sb * BLOCK;
        if (pf)
            for (size_t l = 0; l < BLOCK / 64; l++) _mm_prefetch((const char *)bp + 2 * BLOCK + 64 * l, _MM_HINT_T0);
        __m512i u0 = _mm512_loadu_si512(bp + 64), u1 = _mm512_loadu_si512(bp + 128), u2 = _mm512_loadu_si512(bp + 192);
        __m512i sc03 = _mm512_and_si512(u0, m6);
        __m512i sc47 = _mm512_or_si512(_mm512_and_si512(u2, m4),
                                       _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u0, 6), m2), 4));
        __m512i mn03 = _mm512_and_si512(u1, m6);
        __m512i mn47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), m4),
                                       _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u1, 6), m2), 4));
        __m512i isum[R16_TOKS];
        for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
        for (int k = 0; k < 8; k++) {
            const uint8_t *q = bp + 256 + 4 * 16 * 8 * (k / 2);
            const __m512i nib = (k & 1) ? hi4 : lo4;
            __m512i v[8];
            for (int g = 0; g < 8; g++) {
                __m512i raw = _mm512_loadu_si512(q + 64 * g);
                if (!Q5) {
                    v[g] = _mm512_and_si512(raw, nib);
                    continue;
                }
                __m512i lo = (k & 1) ? _mm512_and_si512(_mm512_srli_epi16(raw, 4), lo4) : _mm512_and_si512(raw, lo4);
                __m512i h = _mm512_loadu_si512(bp + K16_BLOCK + 64 * g); /* bit k: sub-block k's 5th bit */
                __m512i hs = k < 4 ? _mm512_slli_epi16(h, 4 - k) : k == 4 ? h : _mm512_srli_epi16(h, k - 4);
                v[g] = _mm512_ternarylogic_epi32(lo, hs, _mm512_set1_epi8(0x10), 0xF8); /* lo | (hs & 0x10) */
            }
            __m512i sck = _mm512_and_si512(_mm512_srli_epi32(k < 4 ? sc03 : sc47, 8 * (k % 4)), b0);
            for (int t = 0; t < NT; t++) {
                const int8_t *xq = x[t][sb].qs + 32 * k;
                __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[0], _mm512_set1_epi32(orx_ld32(xq + 4 * 0)));
                __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[1], _mm512_set1_epi32(orx_ld32(xq + 4 * 1)));
                s0 = _mm512_dpbusd_epi32(s0, v[2], _mm512_set1_epi32(orx_ld32(xq + 4 * 2)));
                s1 = _mm512_dpbusd_epi32(s1, v[3], _mm512_set1_epi32(orx_ld32(xq + 4 * 3)));
                s0 = _mm512_dpbusd_epi32(s0, v[4], _mm512_set1_epi32(orx_ld32(xq + 4 * 4)));
                s1 = _mm512_dpbusd_epi32(s1, v[5], _mm512_set1_epi32(orx_ld32(xq + 4 * 5)));
                s0 = _mm512_dpbusd_epi32(s0, v[6], _mm512_set1_epi32(orx_ld32(xq + 4 * 6)));
                s1 = _mm512_dpbusd_epi32(s1, v[7], _mm512_set1_epi32(orx_ld32(xq + 4 * 7)));
                __m512i s = _mm512_add_epi32(s0, s1);
                if ((k & 1) && !Q5) s = _mm512_srai_epi32(s, 4); /* high nibbles in place: 16 x the sum */
                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s, sck));
            }
        }
        /* mins as int16 pairs: (m0, m2) (m1, m3) (m4, m6) (m5, m7) */
        __m512i e0 = _mm512_and_si512(mn03, p16), o0 = _mm512_and_si512(_mm512_srli_epi32(mn03, 8), p16);
        __m512i e1 = _mm512_and_si512(mn47, p16), o1 = _mm512_and_si512(_mm512_srli_epi32(mn47, 8), p16);
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bp));
        __m512 dmw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(bp + 32)));
        for (int t = 0; t < NT; t++) {
            const int32_t *pp = pairs[t] + 4 * sb;
            __m512i summ = _mm512_dpwssd_epi32(_mm512_setzero_si512(), e0, _mm512_set1_epi32(pp[0]));
            summ = _mm512_dpwssd_epi32(summ, o0, _mm512_set1_epi32(pp[1]));
            summ = _mm512_dpwssd_epi32(summ, e1, _mm512_set1_epi32(pp[2]));
            summ = _mm512_dpwssd_epi32(summ, o1, _mm512_set1_epi32(pp[3]));
            __m512 dx = _mm512_set1_ps(x[t][sb].d), ndx = _mm512_set1_ps(-x[t][sb].d);
            __m512 a = _mm512_mul_ps(_mm512_mul_ps(dx, dw), _mm512_cvtepi32_ps(isum[t]));
            __m512 b = _mm512_mul_ps(_mm512_mul_ps(ndx, dmw), _mm512_cvtepi32_ps(summ));
            R16_APART(a);
            R16_APART(b);
            acc[t] = _mm512_add_ps(acc[t], _mm512_add_ps(a, b));
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

ORX_AVX512 ORX_AI void gemv_multi_k16_any(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,
                                           size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y,
                                           int64_t y_stride, bool Q5) {
    int64_t nsb = n / 256;
    char *own = NULL;
    if (!prep) {
        if (!(own = r16_prep_here(gemv_prep_k16, (size_t)nsb * 16, n, vx, x_stride, nt, nr, y, y_stride))) return;
        prep = own;
        prep_stride = (size_t)nsb * 16;
    }
    for (int r = 0; r + 16 <= nr; r += 16) {
        const uint8_t *grp = (const uint8_t *)w + (size_t)r * w_stride;
        for (int t0 = 0; t0 < nt; t0 += R16_TOKS) {
            int k = nt - t0 < R16_TOKS ? nt - t0 : R16_TOKS;
            const orx_block_q8_K *x[R16_TOKS];
            const int32_t *pairs[R16_TOKS];
            for (int t = 0; t < k; t++) {
                x[t] = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);
                pairs[t] = (const void *)((const char *)prep + (size_t)(t0 + t) * prep_stride);
            }
            float *yo = y + t0 * y_stride + r;
#define K16_NT(N) k16_group(grp, nsb, x, pairs, N, yo, y_stride, Q5)
            R16_NT_SWITCH(k, K16_NT)
#undef K16_NT
        }
    }
    free(own);
}

ORX_AVX512 static void gemv_multi_k16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,
                                      size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y,
                                      int64_t y_stride) {
    gemv_multi_k16_any(n, w, w_stride, nr, vx, x_stride, prep, prep_stride, nt, y, y_stride, false);
}

ORX_AVX512 static void gemv_multi_k5_16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,
                                        size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y,
                                        int64_t y_stride) {
    gemv_multi_k16_any(n, w, w_stride, nr, vx, x_stride, prep, prep_stride, nt, y, y_stride, true);
}

ORX_AVX512 static void gemv_k16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep,
                                float *y) {
    gemv_multi_k16(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);
}

ORX_AVX512 static void gemv_k5_16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep,
                                  float *y) {
    gemv_multi_k5_16(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);
}

/* ============================================================================================
 * Q6_K_R16 (quant.h): 16 rows per register, 6-bit values
 *
 * Per super-block of a 16-row group: the 16 rows' scales as int16 pairs (one sign extension per
 * pair of sub-blocks) and, per sub-block, four value vectors (4 values of each row, 0..63) put
 * together from the low-nibble plane and the 2-bit plane (a shift and one ternary logic op each);
 * per token 4 vpdpbusd per sub-block against 4 activation bytes broadcast to every lane, times the
 * lane's scale (vpmulld), and the offset -32 x sum_j scale_j x bsum_j as int16 pairs (vpdpwssd on
 * the scale pairs times -32 against the activations' own bsums pairs): each lane ends with the
 * reference's exact integer sum, then (d_x d_w) x sum is added as the reference rounds it
 * (bit-identical to it). Each token's operations do not depend on the batch. No activation
 * layout is prepared: the Q8_K blocks' bsums are already the pairs vpdpwssd takes.
 * ========================================================================================== */
#define Q6_16_BLOCK 3360 /* bytes per super-block of a 16-row group */
#define Q6_16_PF_AHEAD 2 /* super-blocks prefetched ahead (1 to 4 streamed alike, 50-55 GB/s) */

/* Value vector c (0..3) of a sub-block: the 4 low bits (lo, in place) and the top 2 bits, at bits
 * 2c..2c+1 of each byte of h, moved to bits 4..5. */
ORX_AVX512 ORX_AI __m512i q6_vec(__m512i lo, __m512i h, int c) {
    __m512i hs = c == 0 ? _mm512_slli_epi16(h, 4) : c == 1 ? _mm512_slli_epi16(h, 2) : c == 2 ? h : _mm512_srli_epi16(h, 2);
    return _mm512_ternarylogic_epi32(lo, hs, _mm512_set1_epi8(0x30), 0xF8); /* lo | (hs & 0x30) */
}

ORX_AVX512 ORX_AI void q6_16_group(const uint8_t *grp, int64_t nsb, const orx_block_q8_K *const *x, int NT, float *y,
                                   int64_t y_stride) {
    const bool pf = decode_pf(NT, ORX_PFK_Q6_K_R16); /* software prefetch (see PF_STREAM) */
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[R16_TOKS];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const uint8_t *bp = grp + (size_t)sb * Q6_16_BLOCK;
        if (pf)
            for (int l = 0; l < Q6_16_BLOCK / 64; l++) _mm_prefetch((const char *)bp + Q6_16_PF_AHEAD * Q6_16_BLOCK + 64 * l, _MM_HINT_T0);
        __m512i isum[R16_TOKS];
        for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
        for (int p = 0; p < 8; p++) { /* sub-blocks 2p (low nibbles) and 2p + 1 (high nibbles) */
            __m512i sp = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(bp + 32 + 32 * p)));
            __m512i sc0 = _mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16), sc1 = _mm512_srai_epi32(sp, 16);
            __m512i spo = _mm512_sub_epi16(_mm512_setzero_si512(), _mm512_slli_epi16(sp, 5)); /* -32 x scales */
            __m512i h0 = _mm512_loadu_si512(bp + 2336 + 64 * (2 * p)), h1 = _mm512_loadu_si512(bp + 2336 + 64 * (2 * p + 1));
            __m512i v0[4], v1[4];
            for (int c = 0; c < 4; c++) {
                __m512i raw = _mm512_loadu_si512(bp + 288 + 64 * (4 * p + c));
                v0[c] = q6_vec(_mm512_and_si512(raw, m4), h0, c);
                v1[c] = q6_vec(_mm512_and_si512(_mm512_srli_epi16(raw, 4), m4), h1, c);
            }
            for (int t = 0; t < NT; t++) {
                const int8_t *xq = x[t][sb].qs + 32 * p;
                __m512i s0 = dpbusd_b(_mm512_setzero_si512(), v0[0], xq);
                __m512i s1 = dpbusd_b(_mm512_setzero_si512(), v1[0], xq + 16);
                for (int c = 1; c < 4; c++) {
                    s0 = dpbusd_b(s0, v0[c], xq + 4 * c);
                    s1 = dpbusd_b(s1, v1[c], xq + 16 + 4 * c);
                }
                __m512i is = _mm512_add_epi32(_mm512_mullo_epi32(s0, sc0), _mm512_mullo_epi32(s1, sc1));
                is = _mm512_dpwssd_epi32(is, spo, _mm512_set1_epi32(orx_ld32((const int8_t *)(x[t][sb].bsums + 2 * p))));
                isum[t] = _mm512_add_epi32(isum[t], is);
            }
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bp));
        for (int t = 0; t < NT; t++) {
            __m512 a = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(x[t][sb].d), dw), _mm512_cvtepi32_ps(isum[t]));
            R16_APART(a);
            acc[t] = _mm512_add_ps(acc[t], a);
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

ORX_AVX512 static void gemv_multi_q6_16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx,
                                        size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y,
                                        int64_t y_stride) {
    (void)prep, (void)prep_stride;
    int64_t nsb = n / 256;
    for (int r = 0; r + 16 <= nr; r += 16) {
        const uint8_t *grp = (const uint8_t *)w + (size_t)r * w_stride;
        for (int t0 = 0; t0 < nt; t0 += R16_TOKS) {
            int k = nt - t0 < R16_TOKS ? nt - t0 : R16_TOKS;
            const orx_block_q8_K *x[R16_TOKS];
            for (int t = 0; t < k; t++) x[t] = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);
            float *yo = y + t0 * y_stride + r;
#define Q6_NT(N) q6_16_group(grp, nsb, x, N, yo, y_stride)
            R16_NT_SWITCH(k, Q6_NT)
#undef Q6_NT
        }
    }
}

ORX_AVX512 static void gemv_q6_16(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep,
                                  float *y) {
    gemv_multi_q6_16(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);
}

/* Prompt batches (the _R16 types): every token's layout prepared once, then groups of 16 rows
 * handed out over the pool, each group meeting all the tokens while it sits in L2. */
typedef struct r16_mm {
    orx_gemv_prep_fn  prep_fn; /* the type's activation layout */
    orx_gemv_multi_fn multi;   /* the type's rows x tokens */
    size_t       prep_bytes;   /* per token */
    const char  *W;            /* weights (_R16) */
    size_t       w_row;        /* bytes per row */
    int64_t      n_out;        /* rows (multiple of 16) */
    int64_t      n_in;         /* values per row */
    const char  *Xq;           /* activations in the dot type */
    size_t       x_row;        /* bytes per activation row */
    int64_t      n_tok;        /* tokens */
    char        *prep;         /* [n_tok][prep_bytes] */
    float       *Y;            /* [n_tok][n_out] */
    _Atomic long next;         /* next group */
} r16_mm;

static void r16_prep_fn(void *vctx, int ith, int nth) {
    r16_mm *j = vctx;
    for (int64_t t = ith; t < j->n_tok; t += nth)
        j->prep_fn(j->n_in, j->Xq + (size_t)t * j->x_row, j->prep + (size_t)t * j->prep_bytes);
}

static void r16_rows_fn(void *vctx, int ith, int nth) {
    r16_mm *j = vctx;
    (void)ith, (void)nth;
    for (;;) {
        int64_t r0 = (int64_t)j->next++ * 16;
        if (r0 >= j->n_out) break;
        j->multi(j->n_in, j->W + (size_t)r0 * j->w_row, j->w_row, 16, j->Xq, j->x_row, j->prep, j->prep_bytes,
                 (int)j->n_tok, j->Y + r0, j->n_out);
    }
}

static void mm_r16(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out, int64_t n_in,
                   const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    orx_kernel kt = orx_kernels_avx512(wtype); /* the layout's activation layout and rows x tokens kernel */
    int64_t bv = orx_type_block_values(wtype);
    /* activation layout bytes per token: 8 per 32-value block (d_x, offset sum), 16 per super-block
     * (the bsums pairs); none for Q6_K_R16 */
    size_t pb = kt.gemv_prep ? (size_t)(n_in / bv) * (bv == 32 ? 8 : 16) : 0;
    r16_mm j = {kt.gemv_prep, kt.gemv_multi, pb, W, w_row, n_out, n_in, Xq, x_row, n_tok,
                pb ? orx_alloc64((size_t)n_tok * pb) : NULL, Y, 0};
    if (pb && !j.prep) {
        memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
        return;
    }
    if (pb) orx_threadpool_run(pool, r16_prep_fn, &j);
    orx_threadpool_run(pool, r16_rows_fn, &j);
    free(j.prep);
}

/* prepared layout: xp [nb*32] bytes, d_x [nb] floats, corr [nb] int32 (gemv_prep's) */
ORX_AVX512 static bool gemv_prep_q8_0(int64_t n, const void *vx, void *buf) {
    int64_t nb16 = n / 32 / 16, nb = nb16 * 16;
    if (n / 32 > GEMV_MAXB || (size_t)nb * 40 > ORX_GEMV_PREP_BYTES) return false;
    char *p = buf;
    gemv_prep(vx, nb16, 128, (int8_t *)p, (float *)(p + nb * 32), (int32_t *)(p + nb * 36)); /* weights enter as w + 128 */
    return true;
}

typedef struct q8_0_prep { const int8_t *xp; const float *dx; const int32_t *corr; } q8_0_prep;
static q8_0_prep q8_0_prep_at(const void *buf, int64_t nb) {
    const char *p = buf;
    return (q8_0_prep){(const int8_t *)p, (const float *)(p + nb * 32), (const int32_t *)(p + nb * 36)};
}

ORX_AVX512 ORX_AI void q8_0_row(const orx_block_q8_0 *wb, int64_t nb16, const q8_0_prep *P, int NT, float *sum) {
    const bool pf = decode_pf(NT, ORX_PFK_Q8_0); /* software prefetch (see PF_STREAM) */
    const __m512i gidx = _mm512_mullo_epi32(_mm512_loadu_si512(kS), _mm512_set1_epi32((int)sizeof(orx_block_q8_0)));
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t g = 0; g < nb16; g++) {
        const orx_block_q8_0 *b = wb + g * 16;
        if (pf)
            for (int l = 0; l < 9; l++) _mm_prefetch((const char *)b + PF_STREAM + 64 * l, _MM_HINT_T0); /* 544 B per step */
        __m512i qv[8];
        for (int k = 0; k < 8; k++) {
            const orx_block_q8_0 *a = b + 2 * k, *c = a + 1;
            __m512i q = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)a->qs));
            q = _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)c->qs), 1);
            q = _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)(a->qs + 16)), 2);
            q = _mm512_inserti32x4(q, _mm_loadu_si128((const __m128i *)(c->qs + 16)), 3);
            qv[k] = _mm512_xor_si512(q, flip);
        }
        __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(gidx, (const void *)b, 1)));
        for (int t = 0; t < NT; t++) {
            __m512i p[8];
            for (int k = 0; k < 8; k++)
                p[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qv[k], _mm512_load_si512(P[t].xp + (g * 8 + k) * 64));
            __m512i is = _mm512_sub_epi32(reduce16(p), _mm512_load_si512(P[t].corr + g * 16));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dw, _mm512_load_ps(P[t].dx + g * 16)), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) sum[t] = _mm512_reduce_add_ps(acc[t]);
}

GEMV_MULTI_Q(q8_0, orx_block_q8_0, 40)

/* ============================================================================================
 * K-quant decode (activations Q8_K): integer sums per lane scaled by the sub-block scales with
 * vpmulld, converted to f32 once per super-block (d_w * d_x), the mins / offset terms from the
 * activations' 16-value sums; one horizontal sum per row.
 * ========================================================================================== */
#define GEMV_MAXSB 128 /* super-blocks per row handled here (n <= 32768) */

/* Q4_K: a 512-bit load of qs holds 32-byte chunks 2c, 2c+1; their low nibbles are sub-blocks 4c
 * and 4c+2, the high nibbles 4c+1 and 4c+3. The activations are laid out in that order. */
static const int32_t kQ4KIdx[4][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6}, {5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7}};

/* prepared layout: per super-block 256 bytes, the sub-blocks in the order of the weight loads */
ORX_AVX512 static bool gemv_prep_q4_K(int64_t n, const void *vx, void *buf) {
    const orx_block_q8_K *x = vx;
    int64_t nsb = n / 256;
    if (nsb > GEMV_MAXSB || (size_t)nsb * 256 > ORX_GEMV_PREP_BYTES) return false;
    static const int order[8] = {0, 2, 1, 3, 4, 6, 5, 7}; /* sub-block at each 32-byte slot */
    int8_t *xp = buf;
    for (int64_t sb = 0; sb < nsb; sb++)
        for (int k = 0; k < 8; k++) memcpy(xp + sb * 256 + 32 * k, x[sb].qs + 32 * order[k], 32);
    return true;
}

/* orx_unpack_k4_scales in a register: 8 scales, then 8 mins (built from scalars: a store of four
 * words read back as one vector would stall store forwarding once per super-block) */
ORX_AVX512 ORX_AI __m128i k4_scales(const uint8_t *packed) {
    uint32_t u0, u1, u2;
    memcpy(&u0, packed, 4), memcpy(&u1, packed + 4, 4), memcpy(&u2, packed + 8, 4);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    uint32_t w3 = ((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4), w1 = (u2 & m4) | (((u0 >> 6) & m2) << 4);
    return _mm_setr_epi32((int)(u0 & m6), (int)w1, (int)(u1 & m6), (int)w3);
}

/* A K-quant row's sum: the 16 lanes of scaled block sums plus the 8 lanes of min/offset terms. */
ORX_AVX512 ORX_AI float k_total(__m512 f, __m256 m8) {
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m = _mm_hadd_ps(_mm_hadd_ps(m, m), m);
    return _mm512_reduce_add_ps(f) + _mm_cvtss_f32(m);
}

ORX_AVX512 ORX_AI void q4_K_row(const orx_block_q4_K *wb, int64_t nsb, const orx_block_q8_K *const *X,
                              const int8_t *const *XP, int NT, float *out) {
    const bool pf = decode_pf(NT, ORX_PFK_Q4_K); /* software prefetch (see PF_STREAM) */
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m128i dup = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m512i idx[4];
    for (int k = 0; k < 4; k++) idx[k] = _mm512_loadu_si512(kQ4KIdx[k]);
    __m512 accf[4];
    __m256 accm[4];
    for (int t = 0; t < NT; t++) accf[t] = _mm512_setzero_ps(), accm[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const orx_block_q4_K *b = wb + sb;
        if (pf)
            for (int l = 0; l < 3; l++) _mm_prefetch((const char *)b + PF_STREAM + 64 * l, _MM_HINT_T0); /* 144 B per step */
        __m128i smv = k4_scales(b->scales);
        __m512i scv = _mm512_cvtepu8_epi32(smv);
        __m512i sumi[4];
        for (int t = 0; t < NT; t++) sumi[t] = _mm512_setzero_si512();
        for (int c = 0; c < 2; c++) {
            __m512i v = _mm512_loadu_si512(b->qs + 64 * c);
            __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            __m512i slo = _mm512_permutexvar_epi32(idx[2 * c], scv), shi = _mm512_permutexvar_epi32(idx[2 * c + 1], scv);
            for (int t = 0; t < NT; t++) {
                __m512i plo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(XP[t] + sb * 256 + 128 * c));
                __m512i phi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_load_si512(XP[t] + sb * 256 + 128 * c + 64));
                /* |plo|, |phi| <= 4 x 15 x 128: each lane is its low int16 half, so vpdpwssd against
                 * the (scale, 0) pairs adds exactly sc x p (vpmulld + add in one, cheaper) */
                sumi[t] = _mm512_dpwssd_epi32(sumi[t], plo, slo);
                sumi[t] = _mm512_dpwssd_epi32(sumi[t], phi, shi);
            }
        }
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_srli_si128(smv, 8), dup));
        float dw = orx_h2f(b->d), dmw = orx_h2f(b->dmin);
        for (int t = 0; t < NT; t++) {
            accf[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[t]), _mm512_set1_ps(X[t][sb].d * dw), accf[t]);
            __m256i mm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)X[t][sb].bsums), mins);
            accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mm), _mm256_set1_ps(-X[t][sb].d * dmw), accm[t]);
        }
    }
    for (int t = 0; t < NT; t++) out[t] = k_total(accf[t], accm[t]);
}

/* Q6_K: per 128-value half, ql (64 B) and qh (32 B) give values 0..63 in one register (qh shifted
 * by 0 / 2 per 32-byte half) and 64..127 in another (shifted by 4 / 6); 6-bit unsigned values,
 * the offset of 32 taken off through the activations' 16-value sums. */
ORX_AVX512 ORX_AI void q6_K_row(const orx_block_q6_K *wb, int64_t nsb, const orx_block_q8_K *const *X, int NT, float *out) {
    const bool pf = decode_pf(NT, ORX_PFK_Q6_K); /* software prefetch (see PF_STREAM) */
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(3);
    const __m512i shA = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    const __m512i shB = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    __m512i idx[4];
    for (int k = 0; k < 4; k++) /* lane l of part k covers values 16k' .. : scale 4k + l/4 */
        idx[k] = _mm512_setr_epi32(4 * k, 4 * k, 4 * k, 4 * k, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1,
                                   4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3);
    __m512 accf[4];
    __m256 accm[4];
    for (int t = 0; t < NT; t++) accf[t] = _mm512_setzero_ps(), accm[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const orx_block_q6_K *b = wb + sb;
        if (pf)
            for (int l = 0; l < 4; l++) _mm_prefetch((const char *)b + PF_STREAM + 64 * l, _MM_HINT_T0); /* 210 B per step */
        /* signed scales as (sc, 0) int16 pairs */
        __m512i scv = _mm512_and_si512(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->scales)),
                                       _mm512_set1_epi32(0xFFFF));
        __m512i sumi[4];
        for (int t = 0; t < NT; t++) sumi[t] = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i L = _mm512_loadu_si512(b->ql + 64 * h);
            __m512i Q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * h)));
            __m512i A = _mm512_or_si512(_mm512_and_si512(L, m4),
                                        _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(Q, shA), m2), 4));
            __m512i B = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(L, 4), m4),
                                        _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(Q, shB), m2), 4));
            __m512i sA = _mm512_permutexvar_epi32(idx[2 * h], scv), sB = _mm512_permutexvar_epi32(idx[2 * h + 1], scv);
            for (int t = 0; t < NT; t++) {
                __m512i pA = _mm512_dpbusd_epi32(_mm512_setzero_si512(), A, _mm512_loadu_si512(X[t][sb].qs + 128 * h));
                __m512i pB = _mm512_dpbusd_epi32(_mm512_setzero_si512(), B, _mm512_loadu_si512(X[t][sb].qs + 128 * h + 64));
                /* |pA|, |pB| <= 4 x 63 x 128 fit int16: vpdpwssd against (scale, 0) pairs adds sc x p */
                sumi[t] = _mm512_dpwssd_epi32(sumi[t], pA, sA);
                sumi[t] = _mm512_dpwssd_epi32(sumi[t], pB, sB);
            }
        }
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
        float dw = orx_h2f(b->d);
        for (int t = 0; t < NT; t++) {
            float d = X[t][sb].d * dw;
            accf[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[t]), _mm512_set1_ps(d), accf[t]);
            __m256i mm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)X[t][sb].bsums), sc16);
            accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mm), _mm256_set1_ps(-32.0f * d), accm[t]);
        }
    }
    for (int t = 0; t < NT; t++) out[t] = k_total(accf[t], accm[t]);
}

/* Q4_K or Q6_K (q6) rows against k (1..4) tokens, the row kernel inlined for each token count. */
ORX_AVX512 ORX_AI void k_rows(bool q6, const void *w, size_t w_stride, int nr, int64_t nsb, const orx_block_q8_K *const *X,
                              const int8_t *const *XP, int k, float *y, int64_t y_stride) {
    for (int r = 0; r < nr; r++) {
        const void *wb = (const char *)w + (size_t)r * w_stride;
        float out[4];
        switch (k) {
        case 1: q6 ? q6_K_row(wb, nsb, X, 1, out) : q4_K_row(wb, nsb, X, XP, 1, out); break;
        case 2: q6 ? q6_K_row(wb, nsb, X, 2, out) : q4_K_row(wb, nsb, X, XP, 2, out); break;
        case 3: q6 ? q6_K_row(wb, nsb, X, 3, out) : q4_K_row(wb, nsb, X, XP, 3, out); break;
        default: q6 ? q6_K_row(wb, nsb, X, 4, out) : q4_K_row(wb, nsb, X, XP, 4, out); break;
        }
        for (int t = 0; t < k; t++) y[t * y_stride + r] = out[t];
    }
}

ORX_AVX512 static void gemv_multi_q4_K(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, size_t x_stride,
                                   const void *prep, size_t prep_stride, int nt, float *y, int64_t y_stride) {
    int64_t nsb = n / 256;
    _Alignas(64) int8_t local[GEMV_MAXSB * 256];
    for (int t0 = 0; t0 < nt; t0 += 4) {
        int k = nt - t0 < 4 ? nt - t0 : 4;
        const orx_block_q8_K *X[4];
        const int8_t *XP[4];
        for (int t = 0; t < k; t++) {
            X[t] = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);
            XP[t] = prep ? (const int8_t *)prep + (size_t)(t0 + t) * prep_stride : NULL;
            if (!XP[t]) {
                if (k != 1 || !gemv_prep_q4_K(n, X[t], local)) {
                    orx_kernel k2 = orx_kernels_avx2(ORX_TYPE_Q4_K);
                    for (int r = 0; r < nr; r++)
                        for (int u = 0; u < k; u++)
                            k2.vec_dot(n, &y[(t0 + u) * y_stride + r], (const char *)w + (size_t)r * w_stride,
                                       (const char *)vx + (size_t)(t0 + u) * x_stride);
                    goto next;
                }
                XP[t] = local;
            }
        }
        k_rows(false, w, w_stride, nr, nsb, X, XP, k, y + t0 * y_stride, y_stride);
    next:;
    }
}

ORX_AVX512 static void gemv_q4_K(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep, float *y) {
    gemv_multi_q4_K(n, w, w_stride, nr, vx, 0, prep, 0, 1, y, 0);
}

ORX_AVX512 static void gemv_multi_q6_K(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, size_t x_stride,
                                   const void *prep, size_t prep_stride, int nt, float *y, int64_t y_stride) {
    (void)prep, (void)prep_stride;
    int64_t nsb = n / 256;
    for (int t0 = 0; t0 < nt; t0 += 4) {
        int k = nt - t0 < 4 ? nt - t0 : 4;
        const orx_block_q8_K *X[4];
        for (int t = 0; t < k; t++) X[t] = (const void *)((const char *)vx + (size_t)(t0 + t) * x_stride);
        k_rows(true, w, w_stride, nr, nsb, X, NULL, k, y + t0 * y_stride, y_stride);
    }
}

ORX_AVX512 static void gemv_q6_K(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep, float *y) {
    (void)prep;
    gemv_multi_q6_K(n, w, w_stride, nr, vx, 0, NULL, 0, 1, y, 0);
}

/* ============================================================================================
 * F16
 * ========================================================================================== */
ORX_AVX512 static void dot_f16(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t i = 0;
#define F16Z(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_fmadd_ps(F16Z(w + i), F16Z(x + i), a0);
        a1 = _mm512_fmadd_ps(F16Z(w + i + 16), F16Z(x + i + 16), a1);
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++) sum += orx_h2f(w[i]) * orx_h2f(x[i]);
    *s = sum;
}

ORX_AVX512 static void gemm_f16(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                            size_t x_stride, int nt, float *y, int64_t y_stride) {
    for (int r = 0; r < nr; r++) {
        const uint16_t *wr = (const void *)((const char *)w + (size_t)r * w_stride);
        int t = 0;
        for (; t + 4 <= nt; t += 4) {
            const uint16_t *x0 = (const void *)((const char *)x + (size_t)t * x_stride);
            const uint16_t *x1 = (const void *)((const char *)x0 + x_stride);
            const uint16_t *x2 = (const void *)((const char *)x1 + x_stride);
            const uint16_t *x3 = (const void *)((const char *)x2 + x_stride);
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            int64_t i = 0;
            for (; i + 16 <= n; i += 16) {
                __m512 vw = F16Z(wr + i);
                a0 = _mm512_fmadd_ps(vw, F16Z(x0 + i), a0);
                a1 = _mm512_fmadd_ps(vw, F16Z(x1 + i), a1);
                a2 = _mm512_fmadd_ps(vw, F16Z(x2 + i), a2);
                a3 = _mm512_fmadd_ps(vw, F16Z(x3 + i), a3);
            }
            float s0 = _mm512_reduce_add_ps(a0), s1 = _mm512_reduce_add_ps(a1);
            float s2 = _mm512_reduce_add_ps(a2), s3 = _mm512_reduce_add_ps(a3);
            for (; i < n; i++) {
                float wv = orx_h2f(wr[i]);
                s0 += wv * orx_h2f(x0[i]); s1 += wv * orx_h2f(x1[i]); s2 += wv * orx_h2f(x2[i]); s3 += wv * orx_h2f(x3[i]);
            }
            y[t * y_stride + r] = s0; y[(t + 1) * y_stride + r] = s1;
            y[(t + 2) * y_stride + r] = s2; y[(t + 3) * y_stride + r] = s3;
        }
        for (; t < nt; t++) dot_f16(n, &y[t * y_stride + r], wr, (const char *)x + (size_t)t * x_stride);
    }
}
#undef F16Z

/* ============================================================================================
 * BF16 (AVX512_BF16: vdpbf16ps, pairs of bf16 products summed into f32 lanes)
 * ========================================================================================== */
#define AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
#define BF16V(p) ((__m512bh)_mm512_loadu_si512((const void *)(p)))

AVX512BF16 static float bf16_tail(const uint16_t *w, const uint16_t *x, int64_t i, int64_t n) {
    float sum = 0.0f;
    for (; i < n; i++) sum += orx_bf16_to_f32(w[i]) * orx_bf16_to_f32(x[i]);
    return sum;
}

AVX512BF16 static void dot_bf16x(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_dpbf16_ps(a0, BF16V(w + i), BF16V(x + i));
        a1 = _mm512_dpbf16_ps(a1, BF16V(w + i + 32), BF16V(x + i + 32));
    }
    for (; i + 32 <= n; i += 32) a0 = _mm512_dpbf16_ps(a0, BF16V(w + i), BF16V(x + i));
    *s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) + bf16_tail(w, x, i, n);
}

/* 1 row x 4 tokens per pass: each weight vector is loaded once for the 4 tokens */
AVX512BF16 static void gemm_bf16x(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                                  size_t x_stride, int nt, float *y, int64_t y_stride) {
    for (int r = 0; r < nr; r++) {
        const uint16_t *wr = (const void *)((const char *)w + (size_t)r * w_stride);
        int t = 0;
        for (; t + 4 <= nt; t += 4) {
            const uint16_t *xs[4];
            for (int k = 0; k < 4; k++) xs[k] = (const void *)((const char *)x + (size_t)(t + k) * x_stride);
            __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            int64_t i = 0;
            for (; i + 32 <= n; i += 32) {
                __m512bh vw = BF16V(wr + i);
                for (int k = 0; k < 4; k++) a[k] = _mm512_dpbf16_ps(a[k], vw, BF16V(xs[k] + i));
            }
            for (int k = 0; k < 4; k++) y[(t + k) * y_stride + r] = _mm512_reduce_add_ps(a[k]) + bf16_tail(wr, xs[k], i, n);
        }
        for (; t < nt; t++) dot_bf16x(n, &y[t * y_stride + r], wr, (const char *)x + (size_t)t * x_stride);
    }
}
#undef BF16V

/* ============================================================================================
 * Prompt batches on CPUs without AMX (Zen 4, Ice Lake, ...): rows in lanes (the strip driver,
 * engine/cpu/strip.c), 16 weight rows per 512-bit register, 4 consecutive values of each (u8;
 * Q4_0 as its 0..15 nibbles, Q8_0 as q + 128, K-quants as their unsigned values). vpdpbusd
 * against 4 activation bytes broadcast to every lane gives each row's partial sum in its own
 * lane: no horizontal sums, each unpacked weight register reused for Q_TOKS / K_TOKS tokens.
 *   Q4_0 / Q8_0: a block (8 steps) ends with the 16 rows' exact int32 block sums in one
 *   register; the offset (8 or 128 times the block's activation sum) is subtracted, and one FMA
 *   scales all 16 rows by d_w[row] * d_x.
 *   K-quants: sub-block sums times the sub-block scales (vpmulld), mins or the Q6_K offset from
 *   the activations' 16-value sums (vpdpwssd), the float step per super-block as the reference.
 * ========================================================================================== */
#define Q_TOKS 8 /* Q4_0/Q8_0: tokens per pass over a strip (8 float accumulators in registers) */
#define K_TOKS 8 /* K-quants: tokens per pass over a strip */

/* Q_TOKS tokens starting at t0 (indices past n_tok repeat the last token; not stored) */
ORX_AVX512 static void tile_q(const orx_strip_job *j, const orx_strip *st, int64_t t0, int64_t r0) {
    const uint8_t *V = st->V;
    const float *dw = st->d;
    const orx_block_q8_0 *x[Q_TOKS];
    const float *dx[Q_TOKS];
    const int32_t *corr[Q_TOKS];
    for (int t = 0; t < Q_TOKS; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_0 *)(j->Xq + (size_t)tt * j->x_row);
        dx[t] = j->dx + tt * j->nblk;
        corr[t] = j->corr + tt * j->nblk;
    }
    __m512 acc[Q_TOKS];
    for (int t = 0; t < Q_TOKS; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < j->nblk; b++) {
        const uint8_t *vb = V + (size_t)b * 512;
        __m512i v[8];
        for (int g = 0; g < 8; g++) v[g] = _mm512_load_si512(vb + 64 * g);
        __m512 dwv = _mm512_load_ps(dw + b * 16);
#pragma GCC unroll 8
        for (int t = 0; t < Q_TOKS; t++) {
            const int8_t *xq = x[t][b].qs;
            __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[0], _mm512_set1_epi32(orx_ld32(xq + 4 * 0)));
            __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[1], _mm512_set1_epi32(orx_ld32(xq + 4 * 1)));
            s0 = _mm512_dpbusd_epi32(s0, v[2], _mm512_set1_epi32(orx_ld32(xq + 4 * 2)));
            s1 = _mm512_dpbusd_epi32(s1, v[3], _mm512_set1_epi32(orx_ld32(xq + 4 * 3)));
            s0 = _mm512_dpbusd_epi32(s0, v[4], _mm512_set1_epi32(orx_ld32(xq + 4 * 4)));
            s1 = _mm512_dpbusd_epi32(s1, v[5], _mm512_set1_epi32(orx_ld32(xq + 4 * 5)));
            s0 = _mm512_dpbusd_epi32(s0, v[6], _mm512_set1_epi32(orx_ld32(xq + 4 * 6)));
            s1 = _mm512_dpbusd_epi32(s1, v[7], _mm512_set1_epi32(orx_ld32(xq + 4 * 7)));
            __m512i s = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(corr[t][b]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dwv, _mm512_set1_ps(dx[t][b])), acc[t]);
        }
    }
    int rmax = j->n_out - r0 < 16 ? (int)(j->n_out - r0) : 16;
    __mmask16 m = (__mmask16)((1u << rmax) - 1u);
    for (int t = 0; t < Q_TOKS && t0 + t < j->n_tok; t++)
        _mm512_mask_storeu_ps(j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0, m, acc[t]);
}


ORX_AVX512 static void tile_k(const orx_strip_job *j, const orx_strip *st, int64_t t0, int64_t r0) {
    const orx_block_q8_K *x[K_TOKS];
    const int32_t *bsp[K_TOKS];
    for (int t = 0; t < K_TOKS; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_K *)(j->Xq + (size_t)tt * j->x_row);
        bsp[t] = j->bsp + (size_t)tt * (size_t)j->nblk * 8;
    }
    const int nsub = j->nsub, gps = 64 / nsub; /* groups of 4 values per sub-block */
    const bool q4k = j->wtype != ORX_TYPE_Q6_K; /* Q4_K / Q5_K: scales and mins */
    __m512 acc[K_TOKS];
    for (int t = 0; t < K_TOKS; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < j->nblk; sb++) {
        const uint8_t *V = st->V + (size_t)sb * 4096;
        const int32_t *sc = st->sc + (size_t)sb * (size_t)nsub * 16;
        const int32_t *scp = st->scp + (size_t)sb * 8 * 16;
        __m512 dw = _mm512_load_ps(st->d + sb * 16), dmw = _mm512_load_ps(st->dmin + sb * 16);
        __m512i isum[K_TOKS];
        for (int t = 0; t < K_TOKS; t++) isum[t] = _mm512_setzero_si512();
        for (int k = 0; k < nsub; k++) { /* each weight vector loaded once for all the tokens */
            __m512i s[K_TOKS];
            for (int t = 0; t < K_TOKS; t++) s[t] = _mm512_setzero_si512();
            for (int g = 0; g < gps; g++) {
                int q = k * gps + g;
                __m512i v = _mm512_load_si512(V + 64 * q);
#pragma GCC unroll 8
                for (int t = 0; t < K_TOKS; t++)
                    s[t] = _mm512_dpbusd_epi32(s[t], v, _mm512_set1_epi32(((const int32_t *)(const void *)x[t][sb].qs)[q]));
            }
            __m512i sck = _mm512_load_si512(sc + 16 * k);
#pragma GCC unroll 8
            for (int t = 0; t < K_TOKS; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s[t], sck));
        }
        for (int t = 0; t < K_TOKS; t++) {
            const int32_t *bp = bsp[t] + sb * 8;
            __m512i pair = _mm512_setzero_si512();
            for (int i = 0; i < (q4k ? 4 : 8); i++)
                pair = _mm512_dpwssd_epi32(pair, _mm512_load_si512(scp + 16 * i), _mm512_set1_epi32(bp[i]));
            __m512 dx = _mm512_set1_ps(x[t][sb].d);
            __m512 term;
            if (q4k) { /* d_x d_w isum + (-d_x dmin_w) summ */
                __m512 a = _mm512_mul_ps(_mm512_mul_ps(dx, dw), _mm512_cvtepi32_ps(isum[t]));
                __m512 b = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), dx), dmw), _mm512_cvtepi32_ps(pair));
                term = _mm512_add_ps(a, b);
            } else { /* d_x d_w (isum - 32 corr) */
                __m512i v = _mm512_sub_epi32(isum[t], _mm512_slli_epi32(pair, 5));
                term = _mm512_mul_ps(_mm512_mul_ps(dx, dw), _mm512_cvtepi32_ps(v));
            }
            acc[t] = _mm512_add_ps(acc[t], term);
        }
    }
    int rmax = j->n_out - r0 < 16 ? (int)(j->n_out - r0) : 16;
    __mmask16 m = (__mmask16)((1u << rmax) - 1u);
    for (int t = 0; t < K_TOKS && t0 + t < j->n_tok; t++)
        _mm512_mask_storeu_ps(j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0, m, acc[t]);
}


static void mm_strip(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    static const orx_strip_spec sq = {16, Q_TOKS, false, false, tile_q}, sk = {16, K_TOKS, false, false, tile_k};
    bool k = wtype == ORX_TYPE_Q4_K || wtype == ORX_TYPE_Q5_K || wtype == ORX_TYPE_Q6_K;
    orx_strip_mm(pool, wtype, W, w_row, n_out, n_in, Xq, x_row, n_tok, Y, k ? &sk : &sq);
}

/* ============================================================================================
 * Fast path (AVX-512): one (token, KV head) item, the query heads of the group together
 * ========================================================================================== */
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
/* dot64 on K values already converted to float: kr[0 .. n64/16), same operations in the same order. */
ORX_INLINE __m512 dot64r(const float *q, const __m512 *kr, int n64) {
    const __m512 z = _mm512_setzero_ps();
    __m512 a0 = _mm512_fmadd_ps(kr[0], _mm512_loadu_ps(q), z);
    __m512 a1 = _mm512_fmadd_ps(kr[1], _mm512_loadu_ps(q + 16), z);
    __m512 a2 = _mm512_fmadd_ps(kr[2], _mm512_loadu_ps(q + 32), z);
    __m512 a3 = _mm512_fmadd_ps(kr[3], _mm512_loadu_ps(q + 48), z);
    for (int i = 64; i < n64; i += 64) {
        a0 = _mm512_fmadd_ps(kr[i / 16], _mm512_loadu_ps(q + i), a0);
        a1 = _mm512_fmadd_ps(kr[i / 16 + 1], _mm512_loadu_ps(q + i + 16), a1);
        a2 = _mm512_fmadd_ps(kr[i / 16 + 2], _mm512_loadu_ps(q + i + 32), a2);
        a3 = _mm512_fmadd_ps(kr[i / 16 + 3], _mm512_loadu_ps(q + i + 48), a3);
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
}

/* scores for G heads sharing a KV head, hd a multiple of 64: 16 dots (16/G positions x G heads) at
 * a time, each a dot64 reduced in registers. With an F16 cache (HD16 = hd/16 > 0, the 16/G
 * positions' K rows fitting 16 registers) each K row is converted once for its G heads. */
ORX_INLINE void scores_gk(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16, int HD16,
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
        __m512 kr[16];
        if (HD16)
            for (int pp = 0; pp < P; pp++)
                for (int e = 0; e < HD16; e++) kr[pp * HD16 + e] = ld_kv(K, KO(pp * G) + (size_t)16 * e, true);
#define DOT(i) (HD16 ? dot64r(QH(i), kr + ((i) / G) * HD16, hd) : dot64(QH(i), K, KO(i), hd, f16))
        __m512 d[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++) {
            int i = 4 * b;
            __m512 c0 = bf8(DOT(i), DOT(i + 1));
            __m512 c1 = bf8(DOT(i + 2), DOT(i + 3));
            d[b] = bf4(c0, c1);
        }
#undef DOT
#undef KO
#undef QH
        __m512 r = _mm512_permutexvar_ps(perm, bf1(bf2(d[0], d[1]), bf2(d[2], d[3])));
        int cnt = (np - p0 < P ? np - p0 : P) * G;
        _mm512_mask_storeu_ps(sc + (size_t)p0 * G, (__mmask16)((1u << cnt) - 1),
                              _mm512_mul_ps(r, _mm512_set1_ps(scale)));
    }
}

ORX_INLINE void scores_g(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16,
                         float scale, float *sc) {
    if (f16 && hd == 64 && G >= 4) scores_gk(q, K, stride, np, G, 64, true, 4, scale, sc);
    else if (f16 && hd == 128 && G >= 8) scores_gk(q, K, stride, np, G, 128, true, 8, scale, sc);
    else scores_gk(q, K, stride, np, G, hd, f16, 0, scale, sc);
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
FAST_FN void orx_attn_item_avx512(const orx_attn_job *j, orx_attn_buf *b, int t, int g, int h0, int G) {
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
 * Table
 * ========================================================================================== */
/* A 16-row layout's kernel: activations quantised as for the file's type, one-token, several-token
 * and prompt paths of the layout. */
static orx_kernel r16_kernel(orx_kernel k, uint32_t file_type, orx_gemv_fn gemv, orx_gemv_prep_fn prep,
                             orx_gemv_multi_fn multi) {
    k.isa = "avx512";
    k.from_float = orx_kernels_avx2(file_type).from_float;
    k.gemv = gemv; k.gemv_prep = prep; k.gemv_multi = multi; k.tile_rows = 16;
    k.mm = mm_r16; k.mm_min_tok = 2;
    return k;
}

orx_kernel orx_kernels_avx512(uint32_t type) {
    orx_kernel k = orx_kernels_avx2(type);
    switch (type) {
    case ORX_TYPE_Q4_0_R16: return r16_kernel(k, ORX_TYPE_Q4_0, gemv_r16, gemv_prep_r16, gemv_multi_r16);
    case ORX_TYPE_Q8_0_R16: return r16_kernel(k, ORX_TYPE_Q8_0, gemv_r8, gemv_prep_r8, gemv_multi_r8);
    case ORX_TYPE_Q4_K_R16: return r16_kernel(k, ORX_TYPE_Q4_K, gemv_k16, gemv_prep_k16, gemv_multi_k16);
    case ORX_TYPE_Q6_K_R16: return r16_kernel(k, ORX_TYPE_Q6_K, gemv_q6_16, NULL, gemv_multi_q6_16);
    case ORX_TYPE_Q5_K_R16: return r16_kernel(k, ORX_TYPE_Q5_K, gemv_k5_16, gemv_prep_k16, gemv_multi_k5_16);
    default: break;
    }
    if (!k.vec_dot) return k;
    k.isa = "avx512";
    switch (type) {
    case ORX_TYPE_Q4_0: k.vec_dot = dot_q4_0; k.gemm = gemm_q4_0; k.tile_rows = 4; k.tile_toks = MAXT; k.gemv = gemv_q4_0; k.gemv_prep = gemv_prep_q4_0;
        k.gemv_multi = gemv_multi_q4_0; k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q8_0: k.vec_dot = dot_q8_0; k.gemm = gemm_q8_0; k.tile_rows = 4; k.tile_toks = MAXT; k.gemv = gemv_q8_0; k.gemv_prep = gemv_prep_q8_0;
        k.gemv_multi = gemv_multi_q8_0; k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q4_K: k.gemv = gemv_q4_K; k.gemv_prep = gemv_prep_q4_K; k.gemv_multi = gemv_multi_q4_K;
        k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q6_K: k.gemv = gemv_q6_K; k.gemv_multi = gemv_multi_q6_K; k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q5_K: k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_BF16:
        if (orx_cpu_get()->avx512bf16) { k.vec_dot = dot_bf16x; k.gemm = gemm_bf16x; k.tile_rows = 4; k.tile_toks = 8; }
        break;
    case ORX_TYPE_F16: k.vec_dot = dot_f16; k.gemm = gemm_f16; k.tile_rows = 4; k.tile_toks = 8; break;
    default: break; /* AVX2 kernel */
    }
    return k;
}

#else
orx_kernel orx_kernels_avx512(uint32_t type) {
    orx_kernel k = {0, 0, 1, 1, 0, "avx512", 0, 0, 0, 0, 0};
    (void)type;
    return k;
}
#endif
