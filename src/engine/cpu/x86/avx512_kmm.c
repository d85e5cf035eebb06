/*
 * kernels_avx512_kmm.c — prompt batches of K-quant weights (Q4_K, Q5_K, Q6_K) with AVX-512 VNNI on CPUs
 * without AMX, against Q8_K activations; the rows-in-lanes scheme of kernels_avx512_mm.c.
 *
 * A strip of 16 weight rows is unpacked once per matmul: for every sub-block k (Q4_K: 8 of 32
 * values, Q6_K: 16 of 16) and group g of 4 values, one 64-byte vector holds those 4 unsigned
 * values of each of the 16 rows; the rows' sub-block scales (and Q4_K mins) become int16/int32
 * lanes. Per token and super-block:
 *   s_k    = sum_g vpdpbusd(V[k][g], 4 activation bytes broadcast)     exact row sums per sub-block
 *   isum   = sum_k s_k * sc_k                                          (vpmulld, exact)
 *   Q4_K, Q5_K: summ = sum_k m_k * bsum_k  (vpdpwssd on int16 pairs, exact)
 *          y += d_x d_w * isum + (-d_x dmin_w) * summ
 *   Q6_K:  corr = sum_k sc_k * bsum_k (vpdpwssd), y += d_x d_w * (isum - 32 corr)
 * which are the integer sums and the float step of the scalar reference, per row.
 */
#include "engine/cpu/strip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define KVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TOK_TILE 8 /* tokens per pass over a strip */

/* ============================================================================================
 * Compute: TOK_TILE tokens x 16 rows over all super-blocks
 * ========================================================================================== */
KVNNI static void strip_tile(const orx_kq_job *j, const orx_kq_strip *st, int64_t t0, int64_t r0) {
    const orx_block_q8_K *x[TOK_TILE];
    const int32_t *bsp[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_K *)(j->Xq + (size_t)tt * j->x_row);
        bsp[t] = j->bsp + (size_t)tt * (size_t)j->nsb * 8;
    }
    const int nsub = j->nsub, gps = 64 / nsub; /* groups of 4 values per sub-block */
    const bool q4k = j->wtype != ORX_TYPE_Q6_K; /* Q4_K / Q5_K: scales and mins */
    __m512 acc[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < j->nsb; sb++) {
        const uint8_t *V = st->V + (size_t)sb * 4096;
        const int32_t *sc = st->sc + (size_t)sb * (size_t)nsub * 16;
        const int32_t *scp = st->scp + (size_t)sb * 8 * 16;
        __m512 dw = _mm512_load_ps(st->d + sb * 16), dmw = _mm512_load_ps(st->dmin + sb * 16);
        __m512i isum[TOK_TILE];
        for (int t = 0; t < TOK_TILE; t++) isum[t] = _mm512_setzero_si512();
        for (int k = 0; k < nsub; k++) { /* each weight vector loaded once for all the tokens */
            __m512i s[TOK_TILE];
            for (int t = 0; t < TOK_TILE; t++) s[t] = _mm512_setzero_si512();
            for (int g = 0; g < gps; g++) {
                int q = k * gps + g;
                __m512i v = _mm512_load_si512(V + 64 * q);
#pragma GCC unroll 8
                for (int t = 0; t < TOK_TILE; t++)
                    s[t] = _mm512_dpbusd_epi32(s[t], v, _mm512_set1_epi32(((const int32_t *)(const void *)x[t][sb].qs)[q]));
            }
            __m512i sck = _mm512_load_si512(sc + 16 * k);
#pragma GCC unroll 8
            for (int t = 0; t < TOK_TILE; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s[t], sck));
        }
        for (int t = 0; t < TOK_TILE; t++) {
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
    for (int t = 0; t < TOK_TILE && t0 + t < j->n_tok; t++)
        _mm512_mask_storeu_ps(j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0, m, acc[t]);
}

static void mm_kvnni(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    orx_kq_mm(pool, wtype, W, w_row, n_out, n_in, Xq, x_row, n_tok, Y, 16, TOK_TILE, false, strip_tile);
}

orx_mm_fn orx_avx512_kmm(uint32_t type) {
    return type == ORX_TYPE_Q4_K || type == ORX_TYPE_Q5_K || type == ORX_TYPE_Q6_K ? mm_kvnni : NULL;
}

#else
orx_mm_fn orx_avx512_kmm(uint32_t type) {
    (void)type;
    return NULL;
}
#endif
