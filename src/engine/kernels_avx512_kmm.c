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
#include "engine/kquant_unpack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define KVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TOK_TILE 8 /* tokens per pass over a strip */

/* ============================================================================================
 * Job
 * ========================================================================================== */
typedef struct kvjob {
    uint32_t     wtype;  /* ORX_TYPE_Q4_K / ORX_TYPE_Q5_K / ORX_TYPE_Q6_K */
    int          nsub;   /* sub-blocks per super-block: 8 (Q4_K) or 16 (Q6_K) */
    const char  *W;      /* weights */
    size_t       w_row;  /* bytes per weight row */
    int64_t      n_out;  /* rows */
    int64_t      nsb;    /* super-blocks per row */
    const char  *Xq;     /* Q8_K activations */
    size_t       x_row;  /* bytes per activation row */
    int64_t      n_tok;  /* tokens */
    int32_t     *bsp;    /* [n_tok][nsb][8] int16 pairs of sub-block activation sums (Q4_K:
                            32-value sums of sub-blocks 2i, 2i+1; Q6_K: bsums 2i, 2i+1) */
    float       *Y;      /* [n_tok][n_out] */
    bool         fail;   /* a worker could not get scratch */
    _Atomic long next;   /* next strip */
} kvjob;

/* One strip, unpacked: per super-block sb */
typedef struct kstrip {
    uint8_t *V;    /* [nsb][256/4 groups][64]: 4 values of each of 16 rows */
    int32_t *sc;   /* [nsb][nsub][16] sub-block scales */
    int32_t *scp;  /* [nsb][8][16] int16 pairs: Q4_K mins (m_2i, m_2i+1), Q6_K scales */
    float   *d;    /* [nsb][16] d_w */
    float   *dmin; /* [nsb][16] dmin_w (Q4_K) */
} kstrip;

static void prep_fn(void *vctx, int ith, int nth) {
    kvjob *j = vctx;
    for (int64_t t = ith; t < j->n_tok; t += nth)
        orx_kq_pair_sums(j->wtype, (const orx_block_q8_K *)(j->Xq + (size_t)t * j->x_row), j->nsb,
                         j->bsp + (size_t)t * (size_t)j->nsb * 8);
}

/* ============================================================================================
 * Unpack
 * ========================================================================================== */
/* the 256 unsigned values of one super-block of one row, in value order */
KVNNI static void unpack_strip(const kvjob *j, int64_t r0, kstrip *st) {
    int nsub = j->nsub;
    size_t row_blk = orx_type_row_bytes(j->wtype, 256); /* bytes per super-block */
    for (int r = 0; r < 16; r++) {
        bool pad = r0 + r >= j->n_out;
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        for (int64_t sb = 0; sb < j->nsb; sb++) {
            orx_kq_block kb;
            if (pad) memset(&kb, 0, sizeof kb);
            else orx_kq_unpack(j->wtype, row + (size_t)sb * row_blk, &kb);
            const int *sc = kb.sc, *mn = kb.mn;
            const uint32_t *v32 = (const uint32_t *)(const void *)kb.vals;
            uint32_t *dst = (uint32_t *)(void *)(st->V + (size_t)sb * 4096) + r;
            for (int q = 0; q < 64; q++) dst[q * 16] = v32[q]; /* group q = values 4q..4q+3 */
            int32_t *scd = st->sc + (size_t)sb * (size_t)nsub * 16 + r;
            for (int k = 0; k < nsub; k++) scd[k * 16] = sc[k];
            int32_t *pd = st->scp + (size_t)sb * 8 * 16 + r;
            if (j->wtype != ORX_TYPE_Q6_K)
                for (int i = 0; i < 4; i++) pd[i * 16] = orx_pack16(mn[2 * i], mn[2 * i + 1]);
            else
                for (int i = 0; i < 8; i++) pd[i * 16] = orx_pack16(sc[2 * i], sc[2 * i + 1]);
            st->d[sb * 16 + r] = kb.d;
            st->dmin[sb * 16 + r] = kb.dmin;
        }
    }
}

/* ============================================================================================
 * Compute: TOK_TILE tokens x 16 rows over all super-blocks
 * ========================================================================================== */
KVNNI static void strip_tile(const kvjob *j, const kstrip *st, int64_t t0, int64_t r0) {
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

static void strips_fn(void *vctx, int ith, int nth) {
    kvjob *j = vctx;
    kstrip st;
    st.V = orx_alloc64((size_t)j->nsb * 4096);
    st.sc = orx_alloc64((size_t)j->nsb * (size_t)j->nsub * 16 * sizeof(int32_t));
    st.scp = orx_alloc64((size_t)j->nsb * 8 * 16 * sizeof(int32_t));
    st.d = orx_alloc64((size_t)j->nsb * 16 * sizeof(float));
    st.dmin = orx_alloc64((size_t)j->nsb * 16 * sizeof(float));
    if (!st.V || !st.sc || !st.scp || !st.d || !st.dmin) {
        j->fail = true;
    } else {
        for (;;) {
            long s = j->next++;
            int64_t r0 = (int64_t)s * 16;
            if (r0 >= j->n_out) break;
            unpack_strip(j, r0, &st);
            for (int64_t t0 = 0; t0 < j->n_tok; t0 += TOK_TILE) strip_tile(j, &st, t0, r0);
        }
    }
    free(st.V); free(st.sc); free(st.scp); free(st.d); free(st.dmin);
}

static void mm_kvnni(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    kvjob j;
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

orx_mm_fn orx_avx512_kmm(uint32_t type) {
    return type == ORX_TYPE_Q4_K || type == ORX_TYPE_Q5_K || type == ORX_TYPE_Q6_K ? mm_kvnni : NULL;
}

#else
orx_mm_fn orx_avx512_kmm(uint32_t type) {
    (void)type;
    return NULL;
}
#endif
