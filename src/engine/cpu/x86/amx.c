/*
 * amx.c — prompt processing with Intel AMX (tile int8 dot products), for weight types
 * whose blocks are 32 signed 8-bit values times one scale: Q8_0, Q4_0 (q - 8), Q5_0 (q - 16).
 *
 * Q4_K / Q5_K / Q6_K use the same tiles per 32- or 16-value sub-block (see the K-quant section).
 *
 * Matrix-matrix work: the weights are taken 16 rows at a time (a strip), unpacked once to int8
 * plus per-block f32 scales; the activations (already Q8_0) are repacked once per matmul into
 * AMX's B layout (16 tokens x 32 values per block, 4-byte groups interleaved). For each block a
 * 16x32-byte weight tile times two 32x16 activation tiles gives 16 rows x 32 tokens of exact
 * int32 block sums, which are scaled by d_w * d_x and accumulated in f32 in block order, as the
 * reference does. Each weight block is read once per 32 tokens.
 */
#include "engine/cpu/x86/x86.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AMX __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* ============================================================================================
 * Tile configuration
 * ========================================================================================== */
typedef struct tilecfg {
    uint8_t  palette;     /* 1 */
    uint8_t  start_row;   /* 0 */
    uint8_t  reserved[14];
    uint16_t colsb[16];   /* bytes per row of each tile */
    uint8_t  rows[16];    /* rows of each tile */
} tilecfg;

/* tiles 0,1: C (16 x 16 int32); 2: A (16 rows x S int8); 3,4: B (S/4 x 64 bytes = S x 16 int8) */
AMX static void tiles_config(int S) {
    tilecfg c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    c.rows[0] = c.rows[1] = 16; c.colsb[0] = c.colsb[1] = 64;
    c.rows[2] = 16; c.colsb[2] = (uint16_t)S;
    c.rows[3] = c.rows[4] = (uint8_t)(S / 4); c.colsb[3] = c.colsb[4] = 64;
    _tile_loadconfig(&c);
}

/* ============================================================================================
 * Job (scratch: orx_alloc64 per call — prompt batches only, never the one-token decode path)
 * ========================================================================================== */
typedef struct amx_job {
    uint32_t     wtype;   /* Q8_0 / Q4_0 / Q5_0 */
    const char  *W;       /* weights */
    size_t       w_row;   /* bytes per weight row */
    int64_t      n_out;   /* rows */
    int64_t      nb;      /* blocks per row */
    const char  *Xq;      /* Q8_0 activations */
    size_t       x_row;   /* bytes per activation row */
    int64_t      n_tok;   /* tokens */
    int64_t      n_grp;   /* groups of 16 tokens (even) */
    int8_t      *B;       /* [n_grp][nb][8][64] */
    float       *dx;      /* [n_grp][nb][16] */
    float       *Y;       /* [n_tok][n_out] */
    bool         fail;    /* a worker could not get scratch */
    _Atomic long next;    /* next strip */
} amx_job;

/* activations → B tiles: B[k/4][4n + k%4] = x_n[k] for 16 tokens n and the 32 values k of a block */
static void repack_fn(void *vctx, int ith, int nth) {
    amx_job *j = vctx;
    for (int64_t g = ith; g < j->n_grp; g += nth) {
        for (int64_t b = 0; b < j->nb; b++) {
            uint32_t *dst = (uint32_t *)(j->B + ((size_t)g * (size_t)j->nb + (size_t)b) * 512);
            float *d = j->dx + ((size_t)g * (size_t)j->nb + (size_t)b) * 16;
            for (int n = 0; n < 16; n++) {
                int64_t t = g * 16 + n;
                if (t >= j->n_tok) {
                    for (int kk = 0; kk < 8; kk++) dst[kk * 16 + n] = 0;
                    d[n] = 0.0f;
                    continue;
                }
                const orx_block_q8_0 *xb = (const orx_block_q8_0 *)(j->Xq + (size_t)t * j->x_row) + b;
                uint32_t w[8];
                memcpy(w, xb->qs, 32);
                for (int kk = 0; kk < 8; kk++) dst[kk * 16 + n] = w[kk];
                d[n] = orx_fp16_to_f32(xb->d);
            }
        }
    }
}

/* 16 weight rows → int8 values [16][nb*32] and scales [16][nb]; rows past n_out are zero */
AMX static void unpack_strip(const amx_job *j, int64_t r0, int8_t *A, float *dw) {
    size_t n_in = (size_t)j->nb * 32;
    for (int r = 0; r < 16; r++) {
        int8_t *a = A + (size_t)r * n_in;
        float *d = dw + (size_t)r * (size_t)j->nb;
        if (r0 + r >= j->n_out) {
            memset(a, 0, n_in);
            memset(d, 0, (size_t)j->nb * sizeof *d);
            continue;
        }
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        if (j->wtype == ORX_TYPE_Q8_0) {
            const orx_block_q8_0 *b = (const void *)row;
            for (int64_t i = 0; i < j->nb; i++) { memcpy(a + 32 * i, b[i].qs, 32); d[i] = orx_h2f(b[i].d); }
        } else if (j->wtype == ORX_TYPE_Q4_0) {
            const orx_block_q4_0 *b = (const void *)row;
            const __m128i m = _mm_set1_epi8(0x0F), off = _mm_set1_epi8(8);
            for (int64_t i = 0; i < j->nb; i++) {
                __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
                _mm_storeu_si128((__m128i *)(a + 32 * i), _mm_sub_epi8(_mm_and_si128(q, m), off));
                _mm_storeu_si128((__m128i *)(a + 32 * i + 16), _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m), off));
                d[i] = orx_h2f(b[i].d);
            }
        } else { /* Q5_0 */
            const orx_block_q5_0 *b = (const void *)row;
            for (int64_t i = 0; i < j->nb; i++) {
                uint32_t qh;
                memcpy(&qh, b[i].qh, 4);
                for (int k = 0; k < 16; k++) {
                    int h0 = (int)((qh >> k) << 4) & 0x10, h1 = (int)(qh >> (k + 12)) & 0x10;
                    a[32 * i + k] = (int8_t)(((b[i].qs[k] & 0xF) | h0) - 16);
                    a[32 * i + k + 16] = (int8_t)(((b[i].qs[k] >> 4) | h1) - 16);
                }
                d[i] = orx_h2f(b[i].d);
            }
        }
    }
}

/* One 16-row x 16-token tile of outputs over all blocks, the 16 accumulators kept in registers:
 * per block one tile product (exact int32 block sums), then acc_r += S_r * (d_w[r] * d_x). The
 * products of block b+1 are started before block b's sums are scaled, so the tile unit and the
 * vector unit overlap (tiles 0 and 1 alternate as C). */
AMX static void strip_group(const amx_job *j, const int8_t *A, const float *dwT, int64_t g, float out[16][16]) {
    const size_t n_in = (size_t)j->nb * 32;
    const int8_t *Bg = j->B + (size_t)g * (size_t)j->nb * 512;
    const float *dxg = j->dx + (size_t)g * (size_t)j->nb * 16;
    _Alignas(64) int32_t C[2][256];
    __m512 acc[16];
    for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
    _tile_zero(0);
    _tile_loadd(2, A, (long)n_in);
    _tile_loadd(3, Bg, 64);
    _tile_dpbssd(0, 2, 3);
    /* iteration b: store block b's sums, start block b+1's product, scale block b-1's sums (stored
     * one iteration ago, so the vector loads never wait on the tile store) */
    for (int64_t b = 0; b <= j->nb; b++) {
        int cur = (int)(b & 1);
        if (b < j->nb) {
            if (cur) _tile_stored(1, C[1], 64); else _tile_stored(0, C[0], 64);
            if (b + 1 < j->nb) {
                _tile_loadd(2, A + 32 * (b + 1), (long)n_in);
                _tile_loadd(3, Bg + (size_t)(b + 1) * 512, 64);
                if (cur) { _tile_zero(0); _tile_dpbssd(0, 2, 3); }
                else { _tile_zero(1); _tile_dpbssd(1, 2, 3); }
            }
        }
        if (b == 0) continue;
        int64_t pb = b - 1;
        const int32_t *Cb = C[1 - cur];
        const float *dw = dwT + (size_t)pb * 16;
        __m512 dx = _mm512_loadu_ps(dxg + (size_t)pb * 16);
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(Cb + 16 * r)),
                                     _mm512_mul_ps(_mm512_set1_ps(dw[r]), dx), acc[r]);
    }
    for (int r = 0; r < 16; r++) _mm512_storeu_ps(out[r], acc[r]);
}

AMX static void strips_fn(void *vctx, int ith, int nth) {
    amx_job *j = vctx;
    size_t n_in = (size_t)j->nb * 32;
    int8_t *A = orx_alloc64(16 * n_in);
    float *dw = orx_alloc64(16 * (size_t)j->nb * sizeof(float));
    float *dwT = orx_alloc64(16 * (size_t)j->nb * sizeof(float));
    if (!A || !dw || !dwT) { free(A); free(dw); free(dwT); j->fail = true; return; }
    _Alignas(64) float out[16][16];
    tiles_config(32);
    for (;;) {
        long s = j->next++;
        int64_t r0 = (int64_t)s * 16;
        if (r0 >= j->n_out) break;
        unpack_strip(j, r0, A, dw);
        for (int64_t b = 0; b < j->nb; b++) /* scales block-major: one line per block */
            for (int r = 0; r < 16; r++) dwT[b * 16 + r] = dw[(size_t)r * (size_t)j->nb + (size_t)b];
        int rmax = j->n_out - r0 < 16 ? (int)(j->n_out - r0) : 16;
        for (int64_t g = 0; g * 16 < j->n_tok; g++) {
            strip_group(j, A, dwT, g, out);
            for (int n = 0; n < 16; n++) {
                int64_t t = g * 16 + n;
                if (t >= j->n_tok) break;
                float *y = j->Y + (size_t)t * (size_t)j->n_out + (size_t)r0;
                for (int r = 0; r < rmax; r++) y[r] = out[r][n];
            }
        }
    }
    _tile_release();
    free(A);
    free(dw);
    free(dwT);
}

static void mm_amx(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                   int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    amx_job j;
    memset(&j, 0, sizeof j);
    j.wtype = wtype;
    j.W = W;
    j.w_row = w_row;
    j.n_out = n_out;
    j.nb = n_in / 32;
    j.Xq = Xq;
    j.x_row = x_row;
    j.n_tok = n_tok;
    j.n_grp = ((n_tok + 15) / 16 + 1) & ~(int64_t)1;
    j.Y = Y;
    j.B = orx_alloc64((size_t)j.n_grp * (size_t)j.nb * 512);
    j.dx = orx_alloc64((size_t)j.n_grp * (size_t)j.nb * 16 * sizeof(float));
    if (j.B && j.dx) {
        orx_threadpool_run(pool, repack_fn, &j);
        orx_threadpool_run(pool, strips_fn, &j);
    }
    if (!j.B || !j.dx || j.fail) memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
    free(j.B);
    free(j.dx);
}

/* ============================================================================================
 * K-quants (activations Q8_K): sub-blocks of S = 32 (Q4_K, Q5_K) or 16 (Q6_K) values.
 * Per super-block the integer sums sum_k sc_k * (A_k · B_k) are exact (tiles + vpmulld); the
 * float step d_w*d_x*sumi + (-dmin_w*d_x)*summ is the reference's, so results match it.
 * ========================================================================================== */
typedef struct kjob {
    uint32_t     wtype;   /* Q4_K / Q5_K / Q6_K */
    int          S;       /* values per sub-block */
    const char  *W;       /* weights */
    size_t       w_row;   /* bytes per row */
    int64_t      n_out;   /* rows */
    int64_t      n_in;    /* values per row */
    int64_t      nsb;     /* super-blocks per row */
    int64_t      nsub;    /* sub-blocks per row (n_in / S) */
    const char  *Xq;      /* Q8_K activations */
    size_t       x_row;   /* bytes per activation row */
    int64_t      n_tok;   /* tokens */
    int64_t      n_grp;   /* token groups of 16 (even) */
    int8_t      *B;       /* [n_grp][nsub][S/4][64] */
    float       *dx;      /* [n_grp][nsb][16] */
    float       *bs;      /* [n_grp][nsb][8][16] sums of 32 activation values (Q4_K/Q5_K) */
    float       *Y;       /* output */
    bool         fail;    /* scratch failure */
    _Atomic long next;    /* next strip */
} kjob;

static void krepack_fn(void *vctx, int ith, int nth) {
    kjob *j = vctx;
    int words = j->S / 4;
    for (int64_t g = ith; g < j->n_grp; g += nth) {
        for (int n = 0; n < 16; n++) {
            int64_t t = g * 16 + n;
            const orx_block_q8_K *xb = t < j->n_tok ? (const orx_block_q8_K *)(j->Xq + (size_t)t * j->x_row) : NULL;
            for (int64_t k = 0; k < j->nsub; k++) {
                uint32_t *dst = (uint32_t *)(j->B + ((size_t)g * (size_t)j->nsub + (size_t)k) * (size_t)j->S * 16);
                if (!xb) { for (int w = 0; w < words; w++) dst[w * 16 + n] = 0; continue; }
                int64_t v0 = k * j->S;
                uint32_t w32[8];
                memcpy(w32, xb[v0 / 256].qs + v0 % 256, (size_t)j->S);
                for (int w = 0; w < words; w++) dst[w * 16 + n] = w32[w];
            }
            for (int64_t sb = 0; sb < j->nsb; sb++) {
                j->dx[((size_t)g * (size_t)j->nsb + (size_t)sb) * 16 + (size_t)n] = xb ? xb[sb].d : 0.0f;
                if (j->bs)
                    for (int q = 0; q < 8; q++)
                        j->bs[(((size_t)g * (size_t)j->nsb + (size_t)sb) * 8 + (size_t)q) * 16 + (size_t)n] =
                            xb ? (float)(xb[sb].bsums[2 * q] + xb[sb].bsums[2 * q + 1]) : 0.0f;
            }
        }
    }
}

/* strip scratch: values [16][n_in], int scales [16][nsub], mins [16][nsb*8], d/dmin [16][nsb] */
typedef struct kstrip { int8_t *A; int32_t *sc; float *mn, *d, *dmin; } kstrip;

AMX static void kunpack_strip(const kjob *j, int64_t r0, kstrip *st) {
    size_t n_in = (size_t)j->n_in;
    for (int r = 0; r < 16; r++) {
        int8_t *a = st->A + (size_t)r * n_in;
        int32_t *sc = st->sc + (size_t)r * (size_t)j->nsub;
        float *mn = st->mn + (size_t)r * (size_t)j->nsb * 8, *d = st->d + (size_t)r * (size_t)j->nsb;
        float *dm = st->dmin + (size_t)r * (size_t)j->nsb;
        if (r0 + r >= j->n_out) {
            memset(a, 0, n_in);
            memset(sc, 0, (size_t)j->nsub * sizeof *sc);
            memset(mn, 0, (size_t)j->nsb * 8 * sizeof *mn);
            memset(d, 0, (size_t)j->nsb * sizeof *d);
            memset(dm, 0, (size_t)j->nsb * sizeof *dm);
            continue;
        }
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        size_t row_blk = orx_type_row_bytes(j->wtype, 256); /* bytes per super-block */
        for (int64_t sb = 0; sb < j->nsb; sb++) {
            orx_kq_block kb;
            orx_kq_unpack(j->wtype, row + (size_t)sb * row_blk, &kb);
            int8_t *av = a + sb * 256;
            if (j->wtype == ORX_TYPE_Q6_K) { /* signed: q - 32 */
                for (int i = 0; i < 256; i++) av[i] = (int8_t)(kb.vals[i] - 32);
                for (int k = 0; k < 16; k++) sc[sb * 16 + k] = kb.sc[k];
            } else {
                memcpy(av, kb.vals, 256);
                for (int k = 0; k < 8; k++) {
                    sc[sb * 8 + k] = kb.sc[k];
                    mn[sb * 8 + k] = (float)kb.mn[k];
                }
            }
            d[sb] = kb.d;
            dm[sb] = kb.dmin;
        }
    }
}

/* One 16-row x 16-token tile of outputs: per sub-block a tile product (started one sub-block
 * ahead, tiles 0 and 1 alternating), integer sums sum_k sc_k * C_k kept in 16 registers per
 * super-block, then the reference's float step per super-block. scT: sub-block scales [nsub][16]. */
AMX static void kstrip_group(const kjob *j, const kstrip *st, const int32_t *scT, int64_t g, float out[16][16]) {
    const int per_sb = 256 / j->S;
    const size_t btile = (size_t)j->S * 16;
    const int8_t *Bg = j->B + (size_t)g * (size_t)j->nsub * btile;
    _Alignas(64) int32_t C[2][256];
    _Alignas(64) int32_t isum_s[16][16];
    __m512i isum[16];
    for (int r = 0; r < 16; r++) {
        _mm512_storeu_ps(out[r], _mm512_setzero_ps());
        isum[r] = _mm512_setzero_si512();
    }
    _tile_zero(0);
    _tile_loadd(2, st->A, (long)j->n_in);
    _tile_loadd(3, Bg, 64);
    _tile_dpbssd(0, 2, 3);
    /* iteration kk: store sub-block kk's sums, start kk+1's product, scale kk-1's sums (stored one
     * iteration ago, so the vector loads never wait on the tile store) */
    for (int64_t kk = 0; kk <= j->nsub; kk++) {
        int cur = (int)(kk & 1);
        if (kk < j->nsub) {
            if (cur) _tile_stored(1, C[1], 64); else _tile_stored(0, C[0], 64);
            if (kk + 1 < j->nsub) {
                _tile_loadd(2, st->A + (kk + 1) * j->S, (long)j->n_in);
                _tile_loadd(3, Bg + (size_t)(kk + 1) * btile, 64);
                if (cur) { _tile_zero(0); _tile_dpbssd(0, 2, 3); }
                else { _tile_zero(1); _tile_dpbssd(1, 2, 3); }
            }
        }
        if (kk == 0) continue;
        int64_t pk = kk - 1;
        const int32_t *Cb = C[1 - cur], *sc = scT + (size_t)pk * 16;
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++)
            isum[r] = _mm512_add_epi32(isum[r], _mm512_mullo_epi32(_mm512_load_si512(Cb + 16 * r), _mm512_set1_epi32(sc[r])));
        if ((pk + 1) % per_sb) continue;
        /* super-block sb complete: the reference's float step */
        int64_t sb = pk / per_sb;
        for (int r = 0; r < 16; r++) {
            _mm512_store_si512(isum_s[r], isum[r]);
            isum[r] = _mm512_setzero_si512();
        }
        size_t gb = (size_t)g * (size_t)j->nsb + (size_t)sb;
        __m512 dxv = _mm512_loadu_ps(j->dx + gb * 16);
        for (int r = 0; r < 16; r++) {
            __m512 sumf = _mm512_cvtepi32_ps(_mm512_load_si512(isum_s[r]));
            __m512 dv = _mm512_mul_ps(dxv, _mm512_set1_ps(st->d[(size_t)r * (size_t)j->nsb + (size_t)sb]));
            __m512 term = _mm512_mul_ps(dv, sumf);
            if (j->bs) {
                const float *m = st->mn + ((size_t)r * (size_t)j->nsb + (size_t)sb) * 8;
                __m512 summ = _mm512_setzero_ps();
                for (int q = 0; q < 8; q++) /* exact: small integers */
                    summ = _mm512_fmadd_ps(_mm512_set1_ps(m[q]), _mm512_loadu_ps(j->bs + (gb * 8 + (size_t)q) * 16), summ);
                __m512 dmv = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), dxv),
                                           _mm512_set1_ps(st->dmin[(size_t)r * (size_t)j->nsb + (size_t)sb]));
                term = _mm512_add_ps(term, _mm512_mul_ps(dmv, summ));
            }
            _mm512_storeu_ps(out[r], _mm512_add_ps(_mm512_loadu_ps(out[r]), term));
        }
    }
}

AMX static void kstrips_fn(void *vctx, int ith, int nth) {
    kjob *j = vctx;
    kstrip st;
    st.A = orx_alloc64(16 * (size_t)j->n_in);
    st.sc = orx_alloc64(16 * (size_t)j->nsub * sizeof(int32_t));
    st.mn = orx_alloc64(16 * (size_t)j->nsb * 8 * sizeof(float));
    st.d = orx_alloc64(16 * (size_t)j->nsb * sizeof(float));
    st.dmin = orx_alloc64(16 * (size_t)j->nsb * sizeof(float));
    int32_t *scT = orx_alloc64(16 * (size_t)j->nsub * sizeof(int32_t));
    if (!st.A || !st.sc || !st.mn || !st.d || !st.dmin || !scT) {
        j->fail = true;
        goto out;
    }
    _Alignas(64) float acc[16][16];
    tiles_config(j->S);
    for (;;) {
        long s = j->next++;
        int64_t r0 = (int64_t)s * 16;
        if (r0 >= j->n_out) break;
        kunpack_strip(j, r0, &st);
        for (int64_t kk = 0; kk < j->nsub; kk++) /* scales sub-block-major: one line each */
            for (int r = 0; r < 16; r++) scT[kk * 16 + r] = st.sc[(size_t)r * (size_t)j->nsub + (size_t)kk];
        int rmax = j->n_out - r0 < 16 ? (int)(j->n_out - r0) : 16;
        for (int64_t g = 0; g * 16 < j->n_tok; g++) {
            kstrip_group(j, &st, scT, g, acc);
            for (int n = 0; n < 16; n++) {
                int64_t t = g * 16 + n;
                if (t >= j->n_tok) break;
                float *y = j->Y + (size_t)t * (size_t)j->n_out + (size_t)r0;
                for (int r = 0; r < rmax; r++) y[r] = acc[r][n];
            }
        }
    }
    _tile_release();
out:
    free(st.A); free(st.sc); free(st.mn); free(st.d); free(st.dmin); free(scT);
}

static void mm_amx_k(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    kjob j;
    memset(&j, 0, sizeof j);
    j.wtype = wtype;
    j.S = wtype == ORX_TYPE_Q6_K ? 16 : 32;
    j.W = W;
    j.w_row = w_row;
    j.n_out = n_out;
    j.n_in = n_in;
    j.nsb = n_in / 256;
    j.nsub = n_in / j.S;
    j.Xq = Xq;
    j.x_row = x_row;
    j.n_tok = n_tok;
    j.n_grp = ((n_tok + 15) / 16 + 1) & ~(int64_t)1;
    j.Y = Y;
    j.B = orx_alloc64((size_t)j.n_grp * (size_t)n_in * 16);
    j.dx = orx_alloc64((size_t)j.n_grp * (size_t)j.nsb * 16 * sizeof(float));
    j.bs = wtype == ORX_TYPE_Q6_K ? NULL : orx_alloc64((size_t)j.n_grp * (size_t)j.nsb * 8 * 16 * sizeof(float));
    bool ok = j.B && j.dx && (j.bs || wtype == ORX_TYPE_Q6_K);
    if (ok) {
        orx_threadpool_run(pool, krepack_fn, &j);
        orx_threadpool_run(pool, kstrips_fn, &j);
    }
    if (!ok || j.fail) memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
    free(j.B); free(j.dx); free(j.bs);
}

/* ============================================================================================
 * Table
 * ========================================================================================== */
orx_kernel orx_kernels_amx(uint32_t type) {
    orx_kernel k = orx_kernels_avx512(type);
    if (type == ORX_TYPE_Q8_0 || type == ORX_TYPE_Q4_0 || type == ORX_TYPE_Q5_0) {
        if (!k.vec_dot) k = orx_kernel_ref(type); /* Q5_0: reference for single tokens */
        k.mm = mm_amx;
        k.mm_min_tok = 4;
        k.isa = "amx";
    } else if (type == ORX_TYPE_Q4_K || type == ORX_TYPE_Q5_K || type == ORX_TYPE_Q6_K) {
        k.mm = mm_amx_k;
        k.mm_min_tok = 4;
        k.isa = "amx";
    }
    return k;
}

#else
orx_kernel orx_kernels_amx(uint32_t type) {
    orx_kernel k = {0, 0, 1, 1, 0, "amx", 0, 0, 0, 0, 0};
    (void)type;
    return k;
}
#endif
