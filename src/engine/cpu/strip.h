/*
 * kquant_unpack.h — what the rows-in-lanes prompt kernels (kernels_avx2_mm.c, kernels_avx512_mm.c,
 * kernels_avx2_kmm.c, kernels_avx512_kmm.c) and the AMX kernels share: one K-quant super-block of
 * one row as plain unsigned values plus its scales, the activations' sub-block sums as int16
 * pairs, the K-quant strip driver, and small helpers (kquant_unpack.c).
 */
#ifndef ORX_ENGINE_KQUANT_UNPACK_H
#define ORX_ENGINE_KQUANT_UNPACK_H

#include "engine/cpu/quant.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* One super-block (Q4_K, Q5_K or Q6_K) of one row. */
typedef struct orx_kq_block {
    uint8_t vals[256]; /* unsigned values in value order (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63) */
    int     sc[16];    /* sub-block scales: 8 (Q4_K/Q5_K, 6-bit) or 16 (Q6_K, signed 8-bit) */
    int     mn[8];     /* sub-block mins (Q4_K/Q5_K) */
    float   d;         /* super-block scale */
    float   dmin;      /* super-block scale of the mins (Q4_K/Q5_K; 0 for Q6_K) */
} orx_kq_block;

/* Unpack super-block `blk` (a block of `type`) into out. */
void orx_kq_unpack(uint32_t type, const void *blk, orx_kq_block *out);

/* Two int16 values in one int32 lane (lo in the low half), for vpmaddwd / vpdpwssd. */
static inline int32_t orx_pack16(int lo, int hi) {
    return (int32_t)(((uint32_t)(uint16_t)(int16_t)hi << 16) | (uint16_t)(int16_t)lo);
}

/* Activation sums per super-block of one Q8_K row, as int16 pairs out[nsb][8]: Q4_K/Q5_K the
 * 32-value sub-block sums (2i, 2i+1) in out[0..3]; Q6_K the 16-value sums (2i, 2i+1) in out[0..7]. */
void orx_kq_pair_sums(uint32_t type, const orx_block_q8_K *x, int64_t nsb, int32_t *out);

/* 64-byte aligned allocation (free with free()); NULL on failure. */
void *orx_alloc64(size_t bytes);

/* 4 activation bytes as one int32 (Q8_0 values sit 2 bytes into their block: unaligned). */
static inline int32_t orx_ld32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ============================================================================================
 * K-quant prompt matmul on rows-in-lanes kernels (kernels_avx2_kmm.c: 8 rows per strip,
 * kernels_avx512_kmm.c: 16): the job, one unpacked strip and the driver they share; each ISA
 * supplies only its tile function.
 * ========================================================================================== */
/* One strip of `rows` weight rows, unpacked, per super-block sb */
typedef struct orx_kq_strip {
    uint8_t *V;    /* [nsb][64 groups][rows][4]: values 4q..4q+3 of each row */
    int32_t *sc;   /* [nsb][nsub][rows] sub-block scales (as int16 pairs (sc, sc) if sc_twice) */
    int32_t *scp;  /* [nsb][8][rows] int16 pairs: Q4_K/Q5_K mins (m_2i, m_2i+1), Q6_K scales */
    float   *d;    /* [nsb][rows] d_w */
    float   *dmin; /* [nsb][rows] dmin_w (Q4_K/Q5_K) */
} orx_kq_strip;

typedef struct orx_kq_job orx_kq_job;
/* Tokens t0 .. t0 + tok_tile - 1 (past n_tok: computed, not stored) against the strip at row r0. */
typedef void (*orx_kq_tile_fn)(const orx_kq_job *j, const orx_kq_strip *st, int64_t t0, int64_t r0);

struct orx_kq_job {
    uint32_t       wtype;    /* ORX_TYPE_Q4_K / ORX_TYPE_Q5_K / ORX_TYPE_Q6_K */
    int            nsub;     /* sub-blocks per super-block: 8 (Q4_K/Q5_K) or 16 (Q6_K) */
    int            rows;     /* weight rows per strip (register lanes) */
    int            tok_tile; /* tokens per tile call */
    bool           sc_twice; /* scales stored as int16 pairs (sc, sc) for vpmaddwd */
    orx_kq_tile_fn tile;     /* the ISA's compute */
    const char    *W;        /* weights */
    size_t         w_row;    /* bytes per weight row */
    int64_t        n_out;    /* rows */
    int64_t        nsb;      /* super-blocks per row */
    const char    *Xq;       /* Q8_K activations */
    size_t         x_row;    /* bytes per activation row */
    int64_t        n_tok;    /* tokens */
    int32_t       *bsp;      /* [n_tok][nsb][8] orx_kq_pair_sums of each token */
    float         *Y;        /* [n_tok][n_out] */
    bool           fail;     /* a worker could not get scratch */
    _Atomic long   next;     /* next strip */
};

/* Y = X W^T for a K-quant W over the pool, strips of `rows` rows, `tile` per tok_tile tokens. */
void orx_kq_mm(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
               int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y, int rows,
               int tok_tile, bool sc_twice, orx_kq_tile_fn tile);

#endif
