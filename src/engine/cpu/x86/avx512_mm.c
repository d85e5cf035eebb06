/*
 * kernels_avx512_mm.c — prompt batches with AVX-512 VNNI on CPUs without AMX (Zen 4, Ice Lake,
 * ...), for Q4_0 and Q8_0 weights against Q8_0 activations.
 *
 * Rows in lanes: 16 weight rows (a strip) are unpacked once per matmul into a layout where one
 * 512-bit register holds 4 consecutive values of each of the 16 rows (u8; Q4_0 as its 0..15
 * nibbles, Q8_0 as q + 128). vpdpbusd against 4 activation bytes broadcast to every lane then
 * gives each row's partial sum in its own lane, so a block (8 such steps) ends with the 16 rows'
 * exact int32 block sums in one register: the offset (8 or 128 times the block's activation sum)
 * is subtracted, and one FMA scales all 16 rows by d_w[row] * d_x. No horizontal sums; each
 * unpacked weight register is reused for 8 tokens.
 *
 * Shapes: Y[t][r] for t < n_tok, r < n_out; n_in a multiple of 32.
 */
#include "engine/cpu/strip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TOK_TILE 8 /* tokens per pass over a strip (8 float accumulators in registers) */

/* ============================================================================================
 * Job
 * ========================================================================================== */
typedef struct vjob {
    uint32_t     wtype;  /* ORX_TYPE_Q4_0 / ORX_TYPE_Q8_0 */
    const char  *W;      /* weights, n_out rows of w_row bytes */
    size_t       w_row;  /* bytes per weight row */
    int64_t      n_out;  /* rows */
    int64_t      nb;     /* 32-value blocks per row */
    const char  *Xq;     /* Q8_0 activations, n_tok rows of x_row bytes */
    size_t       x_row;  /* bytes per activation row */
    int64_t      n_tok;  /* tokens */
    float       *dx;     /* [n_tok][nb] activation block scales */
    int32_t     *corr;   /* [n_tok][nb] offset x activation block sum */
    float       *Y;      /* [n_tok][n_out] */
    bool         fail;   /* a worker could not get scratch */
    _Atomic long next;   /* next strip */
} vjob;

/* per (token, block): d_x and off * sum(x) */
static void prep_fn(void *vctx, int ith, int nth) {
    vjob *j = vctx;
    int off = j->wtype == ORX_TYPE_Q4_0 ? 8 : 128;
    for (int64_t t = ith; t < j->n_tok; t += nth) {
        const orx_block_q8_0 *x = (const orx_block_q8_0 *)(j->Xq + (size_t)t * j->x_row);
        for (int64_t b = 0; b < j->nb; b++) {
            int sum = 0;
            for (int i = 0; i < 32; i++) sum += x[b].qs[i];
            j->dx[t * j->nb + b] = orx_fp16_to_f32(x[b].d);
            j->corr[t * j->nb + b] = off * sum;
        }
    }
}

/* ============================================================================================
 * Strip: unpack, then tokens in tiles of TOK_TILE
 * ========================================================================================== */
/* V[b][g][4r .. 4r+3] = unsigned values 4g .. 4g+3 of block b of row r0 + r; dw[b][r] = d_w.
 * Rows past n_out are zero (their lanes are computed and not stored). */
VNNI static void unpack_strip(const vjob *j, int64_t r0, uint8_t *V, float *dw) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int r = 0; r < 16; r++) {
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        bool pad = r0 + r >= j->n_out;
        for (int64_t b = 0; b < j->nb; b++) {
            _Alignas(32) uint32_t vals[8]; /* 32 unsigned values as 8 groups of 4 */
            if (pad) {
                _mm256_store_si256((__m256i *)vals, _mm256_setzero_si256());
                dw[b * 16 + r] = 0.0f;
            } else if (j->wtype == ORX_TYPE_Q4_0) {
                const orx_block_q4_0 *blk = (const orx_block_q4_0 *)row + b;
                __m128i q = _mm_loadu_si128((const __m128i *)blk->qs);
                _mm256_store_si256((__m256i *)vals, _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4)));
                dw[b * 16 + r] = _cvtsh_ss(blk->d);
            } else {
                const orx_block_q8_0 *blk = (const orx_block_q8_0 *)row + b;
                _mm256_store_si256((__m256i *)vals, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)blk->qs), flip));
                dw[b * 16 + r] = _cvtsh_ss(blk->d);
            }
            uint32_t *dst = (uint32_t *)(void *)(V + (size_t)b * 512) + r;
            for (int g = 0; g < 8; g++) dst[g * 16] = vals[g];
        }
    }
}

/* TOK_TILE tokens starting at t0 (indices past n_tok repeat the last token; not stored) */
VNNI static void strip_tile(const vjob *j, const uint8_t *V, const float *dw, int64_t t0, int64_t r0) {
    const orx_block_q8_0 *x[TOK_TILE];
    const float *dx[TOK_TILE];
    const int32_t *corr[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_0 *)(j->Xq + (size_t)tt * j->x_row);
        dx[t] = j->dx + tt * j->nb;
        corr[t] = j->corr + tt * j->nb;
    }
    __m512 acc[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < j->nb; b++) {
        const uint8_t *vb = V + (size_t)b * 512;
        __m512i v[8];
        for (int g = 0; g < 8; g++) v[g] = _mm512_load_si512(vb + 64 * g);
        __m512 dwv = _mm512_load_ps(dw + b * 16);
#pragma GCC unroll 8
        for (int t = 0; t < TOK_TILE; t++) {
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
    for (int t = 0; t < TOK_TILE && t0 + t < j->n_tok; t++)
        _mm512_mask_storeu_ps(j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0, m, acc[t]);
}

static void strips_fn(void *vctx, int ith, int nth) {
    vjob *j = vctx;
    uint8_t *V = orx_alloc64((size_t)j->nb * 512);
    float *dw = orx_alloc64((size_t)j->nb * 16 * sizeof(float));
    if (!V || !dw) {
        j->fail = true;
    } else {
        for (;;) {
            long s = j->next++;
            int64_t r0 = (int64_t)s * 16;
            if (r0 >= j->n_out) break;
            unpack_strip(j, r0, V, dw);
            for (int64_t t0 = 0; t0 < j->n_tok; t0 += TOK_TILE) strip_tile(j, V, dw, t0, r0);
        }
    }
    free(V);
    free(dw);
}

static void mm_vnni(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                    int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    vjob j;
    memset(&j, 0, sizeof j);
    j.wtype = wtype;
    j.W = W;
    j.w_row = w_row;
    j.n_out = n_out;
    j.nb = n_in / 32;
    j.Xq = Xq;
    j.x_row = x_row;
    j.n_tok = n_tok;
    j.Y = Y;
    j.dx = orx_alloc64((size_t)n_tok * (size_t)j.nb * sizeof(float));
    j.corr = orx_alloc64((size_t)n_tok * (size_t)j.nb * sizeof(int32_t));
    if (j.dx && j.corr) {
        orx_threadpool_run(pool, prep_fn, &j);
        orx_threadpool_run(pool, strips_fn, &j);
    }
    if (!j.dx || !j.corr || j.fail) memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
    free(j.dx);
    free(j.corr);
}

orx_mm_fn orx_avx512_mm(uint32_t type) {
    return type == ORX_TYPE_Q4_0 || type == ORX_TYPE_Q8_0 ? mm_vnni : NULL;
}

#else
orx_mm_fn orx_avx512_mm(uint32_t type) {
    (void)type;
    return NULL;
}
#endif
