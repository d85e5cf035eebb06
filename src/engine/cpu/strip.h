/*
 * strip.h — PRIVATE to engine/cpu: what the rows-in-lanes prompt kernels (x86/avx2.c,
 * x86/avx512.c) and the AMX kernels (x86/amx.c) share: one K-quant super-block of one row as
 * plain unsigned values plus its scales, the activations' sub-block sums as int16 pairs, the
 * strip driver for every quant type, and small helpers (strip.c).
 */
#ifndef ORX_ENGINE_CPU_STRIP_H
#define ORX_ENGINE_CPU_STRIP_H

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
 * The strip driver: prompt matmul on rows-in-lanes kernels for every quant type they take
 * (Q4_0, Q8_0 against Q8_0 activations; Q4_K, Q5_K, Q6_K against Q8_K). Weights are taken
 * `rows` rows at a time (a strip: the lanes of a register), unpacked once per matmul into the
 * layout below, and each ISA (x86/avx2.c: 8 rows, x86/avx512.c: 16) supplies only its tile
 * function, which meets `tok_tile` tokens at a time with the unpacked strip.
 * ========================================================================================== */
/* One strip of `rows` weight rows, unpacked, per block b (32 values; K-quants: a super-block) */
typedef struct orx_strip {
    uint8_t *V;    /* [nblk][groups][rows][4]: unsigned values 4q..4q+3 of each row (Q4_0 0..15,
                      Q8_0 q + 128, or |q| with signs in S; K-quants as orx_kq_block) */
    int8_t  *S;    /* Q8_0 with q8_sign: the signed values, same layout (else NULL) */
    int32_t *sc;   /* K-quants: [nblk][nsub][rows] sub-block scales (int16 pairs (sc, sc) if sc_twice) */
    int32_t *scp;  /* K-quants: [nblk][8][rows] int16 pairs: Q4_K/Q5_K mins (m_2i, m_2i+1), Q6_K scales */
    float   *d;    /* [nblk][rows] d_w */
    float   *dmin; /* K-quants: [nblk][rows] dmin_w (Q4_K/Q5_K) */
} orx_strip;

typedef struct orx_strip_job orx_strip_job;
/* Tokens t0 .. t0 + tok_tile - 1 (past n_tok: computed, not stored) against the strip at row r0. */
typedef void (*orx_strip_tile_fn)(const orx_strip_job *j, const orx_strip *st, int64_t t0, int64_t r0);

/* What an ISA's rows-in-lanes kernel asks of the driver. */
typedef struct orx_strip_spec {
    int               rows;     /* weight rows per strip (register lanes; a multiple of 8) */
    int               tok_tile; /* tokens per tile call */
    bool              sc_twice; /* K-quants: scales stored as int16 pairs (sc, sc) for vpmaddwd */
    bool              q8_sign;  /* Q8_0 as |q| plus signed values (vpsignb); else q + 128, offset 128 */
    orx_strip_tile_fn tile;     /* the ISA's compute */
} orx_strip_spec;

struct orx_strip_job {
    orx_strip_spec     spec;  /* the ISA's kernel */
    uint32_t       wtype;    /* ORX_TYPE_Q4_0, Q8_0, Q4_K, Q5_K or Q6_K */
    int            nsub;     /* K-quants: sub-blocks per super-block: 8 (Q4_K/Q5_K) or 16 (Q6_K) */
    const char    *W;        /* weights */
    size_t         w_row;    /* bytes per weight row */
    int64_t        n_out;    /* rows */
    int64_t        nblk;     /* blocks (K-quants: super-blocks) per row */
    const char    *Xq;       /* activations in the dot type (Q8_0 or Q8_K) */
    size_t         x_row;    /* bytes per activation row */
    int64_t        n_tok;    /* tokens */
    float         *dx;       /* Q4_0/Q8_0: [n_tok][nblk] activation block scales */
    int32_t       *corr;     /* Q4_0/Q8_0: [n_tok][nblk] value offset x activation block sum */
    int32_t       *bsp;      /* K-quants: [n_tok][nblk][8] orx_kq_pair_sums of each token */
    float         *Y;        /* [n_tok][n_out] */
    bool           fail;     /* a worker could not get scratch */
    _Atomic long   next;     /* next strip */
};

/* Y = X W^T for W of a type the driver takes (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K), over the pool. */
void orx_strip_mm(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                  int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y,
                  const orx_strip_spec *spec);

#endif
