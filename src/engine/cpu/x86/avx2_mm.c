/*
 * kernels_avx2_mm.c — prompt batches with AVX2 (no VNNI), for Q4_0 and Q8_0 weights against
 * Q8_0 activations: the same rows-in-lanes scheme as kernels_avx512_mm.c with 8 rows per
 * 256-bit register.
 *
 * A strip of 8 weight rows is unpacked once per matmul so that one register holds 4 consecutive
 * values of each row. vpmaddubsw (u8 x s8 -> pairs summed in i16) against 4 activation bytes
 * broadcast to every lane, then vpmaddwd with ones, gives each row's partial sums in its lane.
 *   Q4_0: values 0..15, so the 8 groups of a block are summed in i16 without overflow
 *         (8 x 2 x 15 x 127 = 30480) and widened once; the offset 8 * sum(x) is subtracted.
 *   Q8_0: |w| x sign(w) * x (vpsignb), widened per group (2 x 127 x 127 fits i16, 8 groups do
 *         not); no offset.
 * The block's 8 exact int32 row sums are then scaled by d_w[row] * d_x with one FMA.
 */
#include "engine/cpu/strip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2MM __attribute__((target("avx2,fma,f16c")))
#define TOK_TILE 8 /* tokens per pass over a strip */
#define STRIP 8    /* rows per strip (lanes of a 256-bit register) */

/* ============================================================================================
 * Job
 * ========================================================================================== */
typedef struct ajob {
    uint32_t     wtype;  /* ORX_TYPE_Q4_0 / ORX_TYPE_Q8_0 */
    const char  *W;      /* weights, n_out rows of w_row bytes */
    size_t       w_row;  /* bytes per weight row */
    int64_t      n_out;  /* rows */
    int64_t      nb;     /* 32-value blocks per row */
    const char  *Xq;     /* Q8_0 activations, n_tok rows of x_row bytes */
    size_t       x_row;  /* bytes per activation row */
    int64_t      n_tok;  /* tokens */
    float       *dx;     /* [n_tok][nb] activation block scales */
    int32_t     *corr;   /* [n_tok][nb] Q4_0: 8 x activation block sum; Q8_0: 0 */
    float       *Y;      /* [n_tok][n_out] */
    bool         fail;   /* a worker could not get scratch */
    _Atomic long next;   /* next strip */
} ajob;

static void prep_fn(void *vctx, int ith, int nth) {
    ajob *j = vctx;
    for (int64_t t = ith; t < j->n_tok; t += nth) {
        const orx_block_q8_0 *x = (const orx_block_q8_0 *)(j->Xq + (size_t)t * j->x_row);
        for (int64_t b = 0; b < j->nb; b++) {
            int sum = 0;
            if (j->wtype == ORX_TYPE_Q4_0)
                for (int i = 0; i < 32; i++) sum += x[b].qs[i];
            j->dx[t * j->nb + b] = orx_fp16_to_f32(x[b].d);
            j->corr[t * j->nb + b] = 8 * sum;
        }
    }
}

/* ============================================================================================
 * Strip
 * ========================================================================================== */
/* Per block b, 8 groups g of 32 bytes: A[b][g][4r..4r+3] = values 4g..4g+3 of row r (Q4_0:
 * nibbles; Q8_0: |w|); Q8_0 also S[b][g] with the signed values (for vpsignb). dw[b][r] = d_w. */
AVX2MM static void unpack_strip(const ajob *j, int64_t r0, uint8_t *A, int8_t *S, float *dw) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    for (int r = 0; r < STRIP; r++) {
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        bool pad = r0 + r >= j->n_out;
        for (int64_t b = 0; b < j->nb; b++) {
            _Alignas(32) uint32_t a[8], s[8];
            if (pad) {
                _mm256_store_si256((__m256i *)a, _mm256_setzero_si256());
                _mm256_store_si256((__m256i *)s, _mm256_setzero_si256());
                dw[b * STRIP + r] = 0.0f;
            } else if (j->wtype == ORX_TYPE_Q4_0) {
                const orx_block_q4_0 *blk = (const orx_block_q4_0 *)row + b;
                __m128i q = _mm_loadu_si128((const __m128i *)blk->qs);
                _mm256_store_si256((__m256i *)a, _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4)));
                dw[b * STRIP + r] = _cvtsh_ss(blk->d);
            } else {
                const orx_block_q8_0 *blk = (const orx_block_q8_0 *)row + b;
                __m256i q = _mm256_loadu_si256((const __m256i *)blk->qs);
                _mm256_store_si256((__m256i *)a, _mm256_abs_epi8(q));
                _mm256_store_si256((__m256i *)s, q);
                dw[b * STRIP + r] = _cvtsh_ss(blk->d);
            }
            uint32_t *da = (uint32_t *)(void *)(A + (size_t)b * 256) + r;
            for (int g = 0; g < 8; g++) da[g * STRIP] = a[g];
            if (S) {
                uint32_t *ds = (uint32_t *)(void *)(S + (size_t)b * 256) + r;
                for (int g = 0; g < 8; g++) ds[g * STRIP] = s[g];
            }
        }
    }
}

/* 8 rows' exact int32 sums of block b against one token's activation block */
AVX2MM static inline __m256i block_q4_0(const uint8_t *ab, const int8_t *xq) {
    __m256i s16 = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)ab), _mm256_set1_epi32(orx_ld32(xq + 4 * 0)));
    for (int g = 1; g < 8; g++)
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ab + 32 * g)),
                                                         _mm256_set1_epi32(orx_ld32(xq + 4 * g))));
    return _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
}

AVX2MM static inline __m256i block_q8_0(const uint8_t *ab, const int8_t *sb, const int8_t *xq) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s = _mm256_setzero_si256();
    for (int g = 0; g < 8; g++) {
        __m256i xs = _mm256_sign_epi8(_mm256_set1_epi32(orx_ld32(xq + 4 * g)), _mm256_load_si256((const __m256i *)(sb + 32 * g)));
        __m256i p = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ab + 32 * g)), xs);
        s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
    }
    return s;
}

/* TOK_TILE tokens from t0 (indices past n_tok repeat the last token; not stored) */
AVX2MM static void strip_tile(const ajob *j, const uint8_t *A, const int8_t *S, const float *dw, int64_t t0, int64_t r0) {
    const orx_block_q8_0 *x[TOK_TILE];
    const float *dx[TOK_TILE];
    const int32_t *corr[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_0 *)(j->Xq + (size_t)tt * j->x_row);
        dx[t] = j->dx + tt * j->nb;
        corr[t] = j->corr + tt * j->nb;
    }
    __m256 acc[TOK_TILE];
    for (int t = 0; t < TOK_TILE; t++) acc[t] = _mm256_setzero_ps();
    bool q4 = j->wtype == ORX_TYPE_Q4_0;
    for (int64_t b = 0; b < j->nb; b++) {
        const uint8_t *ab = A + (size_t)b * 256;
        const int8_t *sb = S ? S + (size_t)b * 256 : NULL;
        __m256 dwv = _mm256_load_ps(dw + b * STRIP);
#pragma GCC unroll 8
        for (int t = 0; t < TOK_TILE; t++) {
            const int8_t *xq = x[t][b].qs;
            __m256i s = q4 ? _mm256_sub_epi32(block_q4_0(ab, xq), _mm256_set1_epi32(corr[t][b])) : block_q8_0(ab, sb, xq);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dwv, _mm256_set1_ps(dx[t][b])), acc[t]);
        }
    }
    int rmax = j->n_out - r0 < STRIP ? (int)(j->n_out - r0) : STRIP;
    for (int t = 0; t < TOK_TILE && t0 + t < j->n_tok; t++) {
        float *y = j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0;
        if (rmax == STRIP) {
            _mm256_storeu_ps(y, acc[t]);
        } else {
            _Alignas(32) float tmp[STRIP];
            _mm256_store_ps(tmp, acc[t]);
            memcpy(y, tmp, (size_t)rmax * sizeof(float));
        }
    }
}

static void strips_fn(void *vctx, int ith, int nth) {
    ajob *j = vctx;
    uint8_t *A = orx_alloc64((size_t)j->nb * 256);
    int8_t *S = j->wtype == ORX_TYPE_Q8_0 ? orx_alloc64((size_t)j->nb * 256) : NULL;
    float *dw = orx_alloc64((size_t)j->nb * STRIP * sizeof(float));
    if (!A || !dw || (j->wtype == ORX_TYPE_Q8_0 && !S)) {
        j->fail = true;
    } else {
        for (;;) {
            long s = j->next++;
            int64_t r0 = (int64_t)s * STRIP;
            if (r0 >= j->n_out) break;
            unpack_strip(j, r0, A, S, dw);
            for (int64_t t0 = 0; t0 < j->n_tok; t0 += TOK_TILE) strip_tile(j, A, S, dw, t0, r0);
        }
    }
    free(A);
    free(S);
    free(dw);
}

static void mm_avx2(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                    int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    ajob j;
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

orx_mm_fn orx_avx2_mm(uint32_t type) {
    return type == ORX_TYPE_Q4_0 || type == ORX_TYPE_Q8_0 ? mm_avx2 : NULL;
}

#else
orx_mm_fn orx_avx2_mm(uint32_t type) {
    (void)type;
    return NULL;
}
#endif
