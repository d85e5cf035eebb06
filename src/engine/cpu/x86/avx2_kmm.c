/*
 * kernels_avx2_kmm.c — prompt batches of K-quant weights (Q4_K, Q5_K, Q6_K) with AVX2 (no VNNI),
 * against Q8_K activations: rows in the 8 lanes of a 256-bit register, as kernels_avx2_mm.c.
 *
 * Per token, super-block and sub-block k: vpmaddubsw (u8 weights x s8 activations broadcast,
 * adjacent pairs summed in i16) over the sub-block's groups of 4 values, summed in i16 while that
 * cannot overflow (Q4_K: 8 groups x 2 x 15 x 128 = 30720; Q5_K: 4 x 2 x 31 x 128 = 31744; Q6_K:
 * 2 x 2 x 63 x 128 = 32256),
 * then vpmaddwd against the row's sub-block scale in both i16 halves: exact int32
 * sc_k * (row sum). Mins (Q4_K) and the offset 32 (Q6_K) use vpmaddwd on int16 pairs of
 * sub-block activation sums (Q5_K as Q4_K). The float step per super-block is the scalar
 * reference's, per row.
 */
#include "engine/cpu/strip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define KAVX2 __attribute__((target("avx2,fma,f16c")))
#define TOK_TILE 4 /* tokens per pass over a strip */
#define STRIP 8    /* rows per strip */

/* ============================================================================================
 * Compute
 * ========================================================================================== */
#define LD(p) _mm256_load_si256((const __m256i *)(const void *)(p))

KAVX2 static void strip_tile(const orx_kq_job *j, const orx_kq_strip *st, int64_t t0, int64_t r0) {
    const orx_block_q8_K *x[TOK_TILE];
    const int32_t *bsp[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_K *)(j->Xq + (size_t)tt * j->x_row);
        bsp[t] = j->bsp + (size_t)tt * (size_t)j->nsb * 8;
    }
    const bool q4k = j->wtype != ORX_TYPE_Q6_K; /* Q4_K / Q5_K: scales and mins */
    const int nsub = j->nsub;
    __m256 acc[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < j->nsb; sb++) {
        const uint8_t *V = st->V + (size_t)sb * 2048;
        const int32_t *sc = st->sc + (size_t)sb * (size_t)nsub * STRIP;
        const int32_t *scp = st->scp + (size_t)sb * 8 * STRIP;
        __m256 dw = _mm256_load_ps(st->d + sb * STRIP), dmw = _mm256_load_ps(st->dmin + sb * STRIP);
        __m256i isum[TOK_TILE];
        for (int t = 0; t < TOK_TILE; t++) isum[t] = _mm256_setzero_si256();
        /* i16 runs of groups that cannot overflow: Q4_K 8 (a sub-block), Q5_K 4, Q6_K 2 */
        const int run = j->wtype == ORX_TYPE_Q4_K ? 8 : j->wtype == ORX_TYPE_Q5_K ? 4 : 2;
        const int nrun = 64 / run, runs_per_sub = (64 / nsub) / run;
        for (int u = 0; u < nrun; u++) {
            __m256i s16[TOK_TILE];
            for (int t = 0; t < TOK_TILE; t++) s16[t] = _mm256_setzero_si256();
            for (int g = 0; g < run; g++) {
                int q = u * run + g;
                __m256i v = LD(V + 32 * q);
#pragma GCC unroll 4
                for (int t = 0; t < TOK_TILE; t++)
                    s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(v, _mm256_set1_epi32(((const int32_t *)(const void *)x[t][sb].qs)[q])));
            }
            __m256i sck = LD(sc + STRIP * (u / runs_per_sub));
#pragma GCC unroll 4
            for (int t = 0; t < TOK_TILE; t++) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sck));
        }
        for (int t = 0; t < TOK_TILE; t++) {
            const int32_t *bp = bsp[t] + sb * 8;
            __m256i pair = _mm256_setzero_si256();
            for (int i = 0; i < (q4k ? 4 : 8); i++)
                pair = _mm256_add_epi32(pair, _mm256_madd_epi16(LD(scp + STRIP * i), _mm256_set1_epi32(bp[i])));
            __m256 dx = _mm256_set1_ps(x[t][sb].d), term;
            if (q4k) {
                __m256 a = _mm256_mul_ps(_mm256_mul_ps(dx, dw), _mm256_cvtepi32_ps(isum[t]));
                __m256 b = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), dx), dmw), _mm256_cvtepi32_ps(pair));
                term = _mm256_add_ps(a, b);
            } else {
                __m256i v = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(pair, 5));
                term = _mm256_mul_ps(_mm256_mul_ps(dx, dw), _mm256_cvtepi32_ps(v));
            }
            acc[t] = _mm256_add_ps(acc[t], term);
        }
    }
    int rmax = j->n_out - r0 < STRIP ? (int)(j->n_out - r0) : STRIP;
    for (int t = 0; t < TOK_TILE && t0 + t < j->n_tok; t++) {
        float *y = j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0;
        _Alignas(32) float tmp[STRIP];
        _mm256_store_ps(tmp, acc[t]);
        memcpy(y, tmp, (size_t)rmax * sizeof(float));
    }
}
#undef LD

static void mm_k_avx2(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    orx_kq_mm(pool, wtype, W, w_row, n_out, n_in, Xq, x_row, n_tok, Y, STRIP, TOK_TILE, true, strip_tile);
}

orx_mm_fn orx_avx2_kmm(uint32_t type) {
    return type == ORX_TYPE_Q4_K || type == ORX_TYPE_Q5_K || type == ORX_TYPE_Q6_K ? mm_k_avx2 : NULL;
}

#else
orx_mm_fn orx_avx2_kmm(uint32_t type) {
    (void)type;
    return NULL;
}
#endif
