/*
 * kquant_unpack.h — what the rows-in-lanes prompt kernels (kernels_avx2_kmm.c,
 * kernels_avx512_kmm.c) share: one K-quant super-block of one row as plain unsigned values plus
 * its scales, and the activations' sub-block sums as int16 pairs (kquant_unpack.c, AVX2).
 */
#ifndef ORX_ENGINE_KQUANT_UNPACK_H
#define ORX_ENGINE_KQUANT_UNPACK_H

#include "engine/quant.h"

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

#endif
