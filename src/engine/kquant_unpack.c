/*
 * kquant_unpack.c — K-quant super-blocks as plain values + scales, for the rows-in-lanes prompt
 * kernels. Bit layouts (ggml): Q4_K qs[128], 32-byte chunk c: low nibbles = sub-block 2c, high
 * nibbles = 2c+1; Q5_K adds the 5th bit of sub-block k from qh bit k; Q6_K per 128-value half h:
 * ql (64 B) low/high nibbles and qh (32 B) 2-bit fields give values 0-31, 32-63, 64-95, 96-127.
 */
#include "engine/kquant_unpack.h"

#include <stdlib.h>
#include <string.h>

void *orx_alloc64(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

void orx_kq_pair_sums(uint32_t type, const orx_block_q8_K *x, int64_t nsb, int32_t *out) {
    for (int64_t sb = 0; sb < nsb; sb++) {
        int32_t *o = out + sb * 8;
        const int16_t *bs = x[sb].bsums;
        if (type != ORX_TYPE_Q6_K)
            for (int i = 0; i < 4; i++) o[i] = orx_pack16(bs[4 * i] + bs[4 * i + 1], bs[4 * i + 2] + bs[4 * i + 3]);
        else
            for (int i = 0; i < 8; i++) o[i] = orx_pack16(bs[2 * i], bs[2 * i + 1]);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define KU __attribute__((target("avx2,f16c")))

KU static void values_q4_K(const orx_block_q4_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
        _mm256_storeu_si256((__m256i *)(out + 64 * c), _mm256_and_si256(q, m4));
        _mm256_storeu_si256((__m256i *)(out + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
}

KU static void values_q5_K(const orx_block_q5_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), two = _mm256_set1_epi8(2);
    const __m256i hb = _mm256_loadu_si256((const __m256i *)b->qh);
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
        __m256i hs = _mm256_srli_epi16(hb, 2 * c);
        __m256i hl = _mm256_slli_epi16(_mm256_and_si256(hs, one), 4), hh = _mm256_slli_epi16(_mm256_and_si256(hs, two), 3);
        _mm256_storeu_si256((__m256i *)(out + 64 * c), _mm256_or_si256(_mm256_and_si256(q, m4), hl));
        _mm256_storeu_si256((__m256i *)(out + 64 * c + 32), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), hh));
    }
}

KU static void values_q6_K(const orx_block_q6_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
        q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
        for (int k = 0; k < 4; k++) _mm256_storeu_si256((__m256i *)(out + 128 * h + 32 * k), q[k]);
    }
}

KU void orx_kq_unpack(uint32_t type, const void *blk, orx_kq_block *out) {
    memset(out->sc, 0, sizeof out->sc);
    memset(out->mn, 0, sizeof out->mn);
    out->dmin = 0.0f;
    if (type == ORX_TYPE_Q6_K) {
        const orx_block_q6_K *b = blk;
        values_q6_K(b, out->vals);
        for (int k = 0; k < 16; k++) out->sc[k] = b->scales[k];
        out->d = _cvtsh_ss(b->d);
        return;
    }
    uint8_t sm[16];
    if (type == ORX_TYPE_Q4_K) {
        const orx_block_q4_K *b = blk;
        values_q4_K(b, out->vals);
        orx_unpack_k4_scales(b->scales, sm);
        out->d = _cvtsh_ss(b->d);
        out->dmin = _cvtsh_ss(b->dmin);
    } else {
        const orx_block_q5_K *b = blk;
        values_q5_K(b, out->vals);
        orx_unpack_k4_scales(b->scales, sm);
        out->d = _cvtsh_ss(b->d);
        out->dmin = _cvtsh_ss(b->dmin);
    }
    for (int k = 0; k < 8; k++) out->sc[k] = sm[k], out->mn[k] = sm[8 + k];
}

#else
void orx_kq_unpack(uint32_t type, const void *blk, orx_kq_block *out) {
    (void)type, (void)blk;
    memset(out, 0, sizeof *out); /* only reached through x86 kernels */
}
#endif
