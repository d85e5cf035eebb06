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
#include "engine/kquant_unpack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define KAVX2 __attribute__((target("avx2,fma,f16c")))
#define TOK_TILE 4 /* tokens per pass over a strip */
#define STRIP 8    /* rows per strip */

/* ============================================================================================
 * Job
 * ========================================================================================== */
typedef struct k2job {
    uint32_t     wtype;  /* ORX_TYPE_Q4_K / ORX_TYPE_Q5_K / ORX_TYPE_Q6_K */
    int          nsub;   /* sub-blocks per super-block: 8 (Q4_K) or 16 (Q6_K) */
    const char  *W;      /* weights */
    size_t       w_row;  /* bytes per weight row */
    int64_t      n_out;  /* rows */
    int64_t      nsb;    /* super-blocks per row */
    const char  *Xq;     /* Q8_K activations */
    size_t       x_row;  /* bytes per activation row */
    int64_t      n_tok;  /* tokens */
    int32_t     *bsp;    /* [n_tok][nsb][8] int16 pairs of sub-block activation sums */
    float       *Y;      /* [n_tok][n_out] */
    bool         fail;   /* a worker could not get scratch */
    _Atomic long next;   /* next strip */
} k2job;

/* One strip of 8 rows, unpacked, per super-block sb */
typedef struct k2strip {
    uint8_t *V;    /* [nsb][64 groups][32]: 4 values of each of 8 rows */
    int32_t *sc;   /* [nsb][nsub][8] sub-block scale in both int16 halves */
    int32_t *scp;  /* [nsb][8][8] int16 pairs: Q4_K mins (m_2i, m_2i+1), Q6_K scales */
    float   *d;    /* [nsb][8] d_w */
    float   *dmin; /* [nsb][8] dmin_w (Q4_K) */
} k2strip;

static void prep_fn(void *vctx, int ith, int nth) {
    k2job *j = vctx;
    for (int64_t t = ith; t < j->n_tok; t += nth)
        orx_kq_pair_sums(j->wtype, (const orx_block_q8_K *)(j->Xq + (size_t)t * j->x_row), j->nsb,
                         j->bsp + (size_t)t * (size_t)j->nsb * 8);
}

/* ============================================================================================
 * Unpack
 * ========================================================================================== */
KAVX2 static void unpack_strip(const k2job *j, int64_t r0, k2strip *st) {
    int nsub = j->nsub;
    size_t row_blk = orx_type_row_bytes(j->wtype, 256); /* bytes per super-block */
    for (int r = 0; r < STRIP; r++) {
        bool pad = r0 + r >= j->n_out;
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        for (int64_t sb = 0; sb < j->nsb; sb++) {
            orx_kq_block kb;
            if (pad) memset(&kb, 0, sizeof kb);
            else orx_kq_unpack(j->wtype, row + (size_t)sb * row_blk, &kb);
            const int *sc = kb.sc, *mn = kb.mn;
            const uint32_t *v32 = (const uint32_t *)(const void *)kb.vals;
            uint32_t *dst = (uint32_t *)(void *)(st->V + (size_t)sb * 2048) + r;
            for (int q = 0; q < 64; q++) dst[q * STRIP] = v32[q];
            int32_t *scd = st->sc + (size_t)sb * (size_t)nsub * STRIP + r;
            for (int k = 0; k < nsub; k++) scd[k * STRIP] = orx_pack16(sc[k], sc[k]);
            int32_t *pd = st->scp + (size_t)sb * 8 * STRIP + r;
            if (j->wtype != ORX_TYPE_Q6_K)
                for (int i = 0; i < 4; i++) pd[i * STRIP] = orx_pack16(mn[2 * i], mn[2 * i + 1]);
            else
                for (int i = 0; i < 8; i++) pd[i * STRIP] = orx_pack16(sc[2 * i], sc[2 * i + 1]);
            st->d[sb * STRIP + r] = kb.d;
            st->dmin[sb * STRIP + r] = kb.dmin;
        }
    }
}

/* ============================================================================================
 * Compute
 * ========================================================================================== */
#define LD(p) _mm256_load_si256((const __m256i *)(const void *)(p))

KAVX2 static void strip_tile(const k2job *j, const k2strip *st, int64_t t0, int64_t r0) {
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

static void strips_fn(void *vctx, int ith, int nth) {
    k2job *j = vctx;
    k2strip st;
    st.V = orx_alloc64((size_t)j->nsb * 2048);
    st.sc = orx_alloc64((size_t)j->nsb * (size_t)j->nsub * STRIP * sizeof(int32_t));
    st.scp = orx_alloc64((size_t)j->nsb * 8 * STRIP * sizeof(int32_t));
    st.d = orx_alloc64((size_t)j->nsb * STRIP * sizeof(float));
    st.dmin = orx_alloc64((size_t)j->nsb * STRIP * sizeof(float));
    if (!st.V || !st.sc || !st.scp || !st.d || !st.dmin) {
        j->fail = true;
    } else {
        for (;;) {
            long s = j->next++;
            int64_t r0 = (int64_t)s * STRIP;
            if (r0 >= j->n_out) break;
            unpack_strip(j, r0, &st);
            for (int64_t t0 = 0; t0 < j->n_tok; t0 += TOK_TILE) strip_tile(j, &st, t0, r0);
        }
    }
    free(st.V); free(st.sc); free(st.scp); free(st.d); free(st.dmin);
}

static void mm_k_avx2(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                      int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    k2job j;
    memset(&j, 0, sizeof j);
    j.wtype = wtype;
    j.nsub = wtype == ORX_TYPE_Q6_K ? 16 : 8;
    j.W = W;
    j.w_row = w_row;
    j.n_out = n_out;
    j.nsb = n_in / 256;
    j.Xq = Xq;
    j.x_row = x_row;
    j.n_tok = n_tok;
    j.Y = Y;
    j.bsp = orx_alloc64((size_t)n_tok * (size_t)j.nsb * 8 * sizeof(int32_t));
    if (j.bsp) {
        orx_threadpool_run(pool, prep_fn, &j);
        orx_threadpool_run(pool, strips_fn, &j);
    }
    if (!j.bsp || j.fail) memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
    free(j.bsp);
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
