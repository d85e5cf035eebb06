/*
 * quant.c — type table, f16/bf16 conversion, reference (scalar) dequantisation, quantisation,
 * activation quantisers and dot products for every supported tensor type.
 *
 * This is the plain reference every SIMD kernel is tested against. Written from the published
 * block layouts (see quant.h); the integer dot products apply per-block scales in the same order
 * as llama.cpp's CPU backend so that results agree to float rounding.
 */
#include "engine/cpu/quant.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * f16 / bf16
 * ========================================================================================== */
static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float orx_fp16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    if (exp == 0x1F) return bits_f32(sign | 0x7F800000u | (man << 13)); /* inf / nan */
    if (exp == 0) {
        if (man == 0) return bits_f32(sign);
        /* subnormal: man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return (h & 0x8000) ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t orx_f32_to_fp16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return sign | 0x7E00 | (uint16_t)((a >> 13) & 0x3FF); /* nan stays nan */
    if (a == 0x7F800000u) return sign | 0x7C00;
    int e = (int)(a >> 23) - 127;
    uint32_t m = a & 0x7FFFFF;
    if (e > 15) return sign | 0x7C00;
    if (e >= -14) {
        uint32_t h = ((uint32_t)(e + 15) << 10) | (m >> 13);
        uint32_t rem = m & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* carry may reach inf: correct */
        return sign | (uint16_t)h;
    }
    /* subnormal half: units of 2^-24 */
    int s = -e - 1; /* shift of the 24-bit mantissa */
    if (s > 24) return sign;
    uint32_t mant = m | 0x800000u;
    uint32_t h = mant >> s;
    uint32_t rem = mant & ((1u << s) - 1), half = 1u << (s - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return sign | (uint16_t)h;
}

float orx_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t orx_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 64); /* quiet nan */
    return (uint16_t)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

#define FP16(h) orx_fp16_to_f32(h)

/* round half to even (what the magic-number trick in the reference K-quantisers computes) */
static inline int nearest_int(float f) { return (int)lrintf(f); }

/* ============================================================================================
 * Type table
 * ========================================================================================== */
/* The 32-value block types (Q4_0 .. Q8_1) also give their layout: the byte offsets of the min m
 * (the _1 weight types; 0 = none: d, f16, is at 0), of the 5th bits qh (0 = none) and of the
 * values qs, the bits per value and the offset subtracted from the unsigned value (_0 types). */
typedef struct { uint8_t bits, off, at_m, at_qh, at_qs; } blk32;
typedef struct { const char *name; int64_t blck; size_t bytes; uint32_t dot; bool supported; blk32 l; } tinfo;
#define AT(type, field) offsetof(orx_block_##type, field)
#define NO_L {0, 0, 0, 0, 0} /* not a 32-value block type */

static const tinfo *tinfo_of(uint32_t t) {
    static const tinfo tab[ORX_TYPE_COUNT] = {
        [ORX_TYPE_F32] = {"F32", 1, 4, ORX_TYPE_F32, true, NO_L},
        [ORX_TYPE_F16] = {"F16", 1, 2, ORX_TYPE_F16, true, NO_L},
        [ORX_TYPE_Q4_0] = {"Q4_0", 32, sizeof(orx_block_q4_0), ORX_TYPE_Q8_0, true, {4, 8, 0, 0, AT(q4_0, qs)}},
        [ORX_TYPE_Q4_1] = {"Q4_1", 32, sizeof(orx_block_q4_1), ORX_TYPE_Q8_1, true, {4, 0, AT(q4_1, m), 0, AT(q4_1, qs)}},
        [ORX_TYPE_Q5_0] = {"Q5_0", 32, sizeof(orx_block_q5_0), ORX_TYPE_Q8_0, true, {5, 16, 0, AT(q5_0, qh), AT(q5_0, qs)}},
        [ORX_TYPE_Q5_1] = {"Q5_1", 32, sizeof(orx_block_q5_1), ORX_TYPE_Q8_1, true, {5, 0, AT(q5_1, m), AT(q5_1, qh), AT(q5_1, qs)}},
        [ORX_TYPE_Q8_0] = {"Q8_0", 32, sizeof(orx_block_q8_0), ORX_TYPE_Q8_0, true, {8, 0, 0, 0, AT(q8_0, qs)}},
        [ORX_TYPE_Q8_1] = {"Q8_1", 32, sizeof(orx_block_q8_1), ORX_TYPE_Q8_1, false, {8, 0, 0, 0, AT(q8_1, qs)}},
        [ORX_TYPE_Q2_K] = {"Q2_K", 256, 84, ORX_TYPE_Q8_K, false, NO_L},
        [ORX_TYPE_Q3_K] = {"Q3_K", 256, 110, ORX_TYPE_Q8_K, false, NO_L},
        [ORX_TYPE_Q4_K] = {"Q4_K", 256, sizeof(orx_block_q4_K), ORX_TYPE_Q8_K, true, NO_L},
        [ORX_TYPE_Q5_K] = {"Q5_K", 256, sizeof(orx_block_q5_K), ORX_TYPE_Q8_K, true, NO_L},
        [ORX_TYPE_Q6_K] = {"Q6_K", 256, sizeof(orx_block_q6_K), ORX_TYPE_Q8_K, true, NO_L},
        [ORX_TYPE_Q8_K] = {"Q8_K", 256, sizeof(orx_block_q8_K), ORX_TYPE_Q8_K, false, NO_L},
        [ORX_TYPE_BF16] = {"BF16", 1, 2, ORX_TYPE_BF16, true, NO_L},
        [ORX_TYPE_Q4_0_R16] = {"Q4_0_R16", 32, sizeof(orx_block_q4_0), ORX_TYPE_Q8_0, false, NO_L},
        [ORX_TYPE_Q4_K_R16] = {"Q4_K_R16", 256, sizeof(orx_block_q4_K), ORX_TYPE_Q8_K, false, NO_L},
        [ORX_TYPE_Q8_0_R16] = {"Q8_0_R16", 32, sizeof(orx_block_q8_0), ORX_TYPE_Q8_0, false, NO_L},
        [ORX_TYPE_Q6_K_R16] = {"Q6_K_R16", 256, sizeof(orx_block_q6_K), ORX_TYPE_Q8_K, false, NO_L},
        [ORX_TYPE_Q5_K_R16] = {"Q5_K_R16", 256, sizeof(orx_block_q5_K), ORX_TYPE_Q8_K, false, NO_L},
    };
    if (t >= ORX_TYPE_COUNT || !tab[t].name) return NULL;
    return &tab[t];
}
#undef AT
#undef NO_L

const char *orx_type_name(uint32_t t) { const tinfo *i = tinfo_of(t); return i ? i->name : "?"; }
bool orx_type_supported(uint32_t t) { const tinfo *i = tinfo_of(t); return i && i->supported; }
bool orx_type_known(uint32_t t) { return tinfo_of(t) != NULL; }
int64_t orx_type_block_values(uint32_t t) { const tinfo *i = tinfo_of(t); return i ? i->blck : 0; }
size_t orx_type_block_bytes(uint32_t t) { const tinfo *i = tinfo_of(t); return i ? i->bytes : 0; }
uint32_t orx_type_dot_type(uint32_t t) { const tinfo *i = tinfo_of(t); return i ? i->dot : t; }

size_t orx_type_row_bytes(uint32_t t, int64_t n) {
    const tinfo *i = tinfo_of(t);
    if (!i || n < 0) return 0;
    return (size_t)(n / i->blck) * i->bytes;
}

/* ============================================================================================
 * Dequantisation
 * ========================================================================================== */
static inline float f16_at(const uint8_t *b, size_t at) {
    uint16_t h;
    memcpy(&h, b + at, 2);
    return FP16(h);
}

/* The 32 signed (_0) or unsigned (_1) integer values of block b. */
static inline void blk32_values(const blk32 *L, const uint8_t *b, int v[32]) {
    const uint8_t *qs = b + L->at_qs;
    if (L->bits == 8) {
        for (int j = 0; j < 32; j++) v[j] = (int8_t)qs[j];
        return;
    }
    uint32_t qh = 0;
    if (L->at_qh) memcpy(&qh, b + L->at_qh, 4);
    for (int j = 0; j < 16; j++) {
        v[j] = ((qs[j] & 0xF) | ((int)((qh >> j) << 4) & 0x10)) - L->off;
        v[j + 16] = ((qs[j] >> 4) | ((int)(qh >> (j + 12)) & 0x10)) - L->off;
    }
}

static void deq_blk32(uint32_t type, const void *src, float *y, int64_t nb) {
    const tinfo *T = tinfo_of(type);
    const blk32 *L = &T->l;
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const uint8_t *b = (const uint8_t *)src + (size_t)i * T->bytes;
        int v[32];
        blk32_values(L, b, v);
        float d = f16_at(b, 0), m = L->at_m ? f16_at(b, L->at_m) : 0.0f;
        for (int j = 0; j < 32; j++) y[j] = L->at_m ? (float)v[j] * d + m : (float)v[j] * d;
    }
}

/* nb super-blocks of Q4_K or Q5_K (q5: with the 5th bits qh); bb: bytes per block. */
static void deq_k45(const char *x, size_t bb, float *y, int64_t nb, bool q5) {
    for (int64_t i = 0; i < nb; i++) {
        const orx_block_q4_K *b4 = (const void *)(x + (size_t)i * bb);
        const orx_block_q5_K *b5 = (const void *)(x + (size_t)i * bb);
        float d = FP16(q5 ? b5->d : b4->d), dmin = FP16(q5 ? b5->dmin : b4->dmin);
        const uint8_t *q = q5 ? b5->qs : b4->qs, *qh = q5 ? b5->qh : NULL, *scales = q5 ? b5->scales : b4->scales;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
            uint8_t sc, m;
            orx_get_scale_min_k4(is, scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            orx_get_scale_min_k4(is + 1, scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((q[l] & 0xF) + (qh && (qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)((q[l] >> 4) + (qh && (qh[l] & u2) ? 16 : 0)) - m2;
            u1 = (uint8_t)(u1 << 2); u2 = (uint8_t)(u2 << 2);
        }
    }
}

/* 6-bit value k (0..255) of a Q6_K block, 0..63 (subtract 32 for the signed value) */
static inline int q6_get(const orx_block_q6_K *b, int k) {
    int half = k / 128, r = k % 128, quarter = r / 32, l = r % 32;
    const uint8_t *ql = b->ql + 64 * half, *qh = b->qh + 32 * half;
    int lo = (quarter & 1) ? ql[l + 32] : ql[l];
    lo = (quarter >= 2) ? (lo >> 4) : (lo & 0xF);
    int hi = (qh[l] >> (2 * quarter)) & 3;
    return lo | (hi << 4);
}

static void deq_q6_K(const orx_block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 256) {
        float d = FP16(x[i].d);
        for (int k = 0; k < 256; k++) y[k] = d * (float)x[i].scales[k / 16] * (float)(q6_get(&x[i], k) - 32);
    }
}

static void deq_q8_K(const orx_block_q8_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 256)
        for (int j = 0; j < 256; j++) y[j] = x[i].d * (float)x[i].qs[j];
}

void orx_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    int64_t nb32 = n / 32, nb256 = n / 256;
    switch (type) {
    case ORX_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return;
    case ORX_TYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = orx_fp16_to_f32(s[i]);
        return;
    }
    case ORX_TYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = orx_bf16_to_f32(s[i]);
        return;
    }
    case ORX_TYPE_Q4_0: case ORX_TYPE_Q4_1: case ORX_TYPE_Q5_0: case ORX_TYPE_Q5_1: case ORX_TYPE_Q8_0:
    case ORX_TYPE_Q8_1: deq_blk32(type, src, dst, nb32); return;
    case ORX_TYPE_Q4_K: deq_k45(src, sizeof(orx_block_q4_K), dst, nb256, false); return;
    case ORX_TYPE_Q5_K: deq_k45(src, sizeof(orx_block_q5_K), dst, nb256, true); return;
    case ORX_TYPE_Q6_K: deq_q6_K(src, dst, nb256); return;
    case ORX_TYPE_Q8_K: deq_q8_K(src, dst, nb256); return;
    default: memset(dst, 0, (size_t)n * sizeof(float)); return;
    }
}

/* ============================================================================================
 * Reference quantisers (weights; used by the writer)
 * ========================================================================================== */
static void absmax_signed(const float *x, int n, float *amax, float *max) {
    *amax = 0.0f; *max = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = fabsf(x[j]);
        if (a > *amax) { *amax = a; *max = x[j]; }
    }
}

static void minmax(const float *x, int n, float *mn, float *mx) {
    *mn = FLT_MAX; *mx = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

/* Q4_0, Q5_0 (signed: d from the value of largest magnitude) and Q4_1, Q5_1 (d and min m from the
 * range), values rounded as the reference quantisers do. */
static void q_blk32(uint32_t type, const float *x, void *vy, int64_t nb) {
    const tinfo *T = tinfo_of(type);
    const blk32 *L = &T->l;
    const int nmax = (1 << L->bits) - 1;
    for (int64_t i = 0; i < nb; i++, x += 32) {
        uint8_t *b = (uint8_t *)vy + (size_t)i * T->bytes, *qs = b + L->at_qs;
        float d, lo = 0.0f, id;
        int q[32];
        if (L->off) {
            float amax, max;
            absmax_signed(x, 32, &amax, &max);
            d = max / -(float)L->off;
        } else {
            float mx;
            minmax(x, 32, &lo, &mx);
            d = (mx - lo) / (float)nmax;
        }
        id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int j = 0; j < 32; j++) {
            int v = L->off ? (int8_t)(x[j] * id + ((float)L->off + 0.5f)) : (int8_t)((x[j] - lo) * id + 0.5f);
            q[j] = v > nmax ? nmax : v;
        }
        uint16_t h = orx_f32_to_fp16(d), hm = orx_f32_to_fp16(lo);
        memcpy(b, &h, 2);
        if (L->at_m) memcpy(b + L->at_m, &hm, 2);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            qs[j] = (uint8_t)((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
            qh |= (uint32_t)((q[j] & 0x10) >> 4) << j | (uint32_t)((q[j + 16] & 0x10) >> 4) << (j + 16);
        }
        if (L->at_qh) memcpy(b + L->at_qh, &qh, 4);
    }
}

static void q_q8_0(const float *x, orx_block_q8_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax, max;
        absmax_signed(x, 32, &amax, &max);
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = orx_f32_to_fp16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

/* Pack 8 6-bit scales + 8 6-bit mins into the 12-byte K-quant layout. */
static void pack_scales_k4(const uint8_t ls[8], const uint8_t lm[8], uint8_t s[12]) {
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): per sub-block of 32 an affine scale and min,
 * both quantised to 6 bits against super-block d / dmin; values rounded to nearest. */
static void quant_kx(const float *x, int nmax, uint16_t *d_out, uint16_t *dmin_out,
                     uint8_t scales[12], int L[256]) {
    float sc[8], mn[8], max_sc = 0.0f, max_mn = 0.0f;
    for (int j = 0; j < 8; j++) {
        float lo, hi;
        minmax(x + 32 * j, 32, &lo, &hi);
        if (lo > 0.0f) lo = 0.0f;
        sc[j] = (hi - lo) / (float)nmax;
        mn[j] = -lo;
        if (sc[j] > max_sc) max_sc = sc[j];
        if (mn[j] > max_mn) max_mn = mn[j];
    }
    float inv_s = max_sc > 0.0f ? 63.0f / max_sc : 0.0f, inv_m = max_mn > 0.0f ? 63.0f / max_mn : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        int a = nearest_int(inv_s * sc[j]), b = nearest_int(inv_m * mn[j]);
        ls[j] = (uint8_t)(a < 0 ? 0 : a > 63 ? 63 : a);
        lm[j] = (uint8_t)(b < 0 ? 0 : b > 63 ? 63 : b);
    }
    *d_out = orx_f32_to_fp16(max_sc / 63.0f);
    *dmin_out = orx_f32_to_fp16(max_mn / 63.0f);
    pack_scales_k4(ls, lm, scales);
    float d = orx_fp16_to_f32(*d_out), dmin = orx_fp16_to_f32(*dmin_out);
    for (int j = 0; j < 8; j++) {
        float dl = d * ls[j], ml = dmin * lm[j];
        for (int l = 0; l < 32; l++) {
            int v = dl != 0.0f ? nearest_int((x[32 * j + l] + ml) / dl) : 0;
            L[32 * j + l] = v < 0 ? 0 : v > nmax ? nmax : v;
        }
    }
}

static void q_q4_K(const float *x, orx_block_q4_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 256) {
        int L[256];
        quant_kx(x, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < 256; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

static void q_q5_K(const float *x, orx_block_q5_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 256) {
        int L[256];
        quant_kx(x, 31, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, 32);
        uint8_t *ql = y[i].qs;
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64, ql += 32) {
            for (int j = 0; j < 32; j++) {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) { l1 -= 16; y[i].qh[j] |= m1; }
                if (l2 > 15) { l2 -= 16; y[i].qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2); m2 = (uint8_t)(m2 << 2);
        }
    }
}

static void q_q6_K(const float *x, orx_block_q6_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 256) {
        float sc[16], max_abs_sc = 0.0f, max_sc = 0.0f;
        for (int j = 0; j < 16; j++) {
            float amax, max;
            absmax_signed(x + 16 * j, 16, &amax, &max);
            sc[j] = max / -32.0f;
            if (fabsf(sc[j]) > max_abs_sc) { max_abs_sc = fabsf(sc[j]); max_sc = sc[j]; }
        }
        float iscale = max_sc != 0.0f ? -128.0f / max_sc : 0.0f;
        y[i].d = orx_f32_to_fp16(iscale != 0.0f ? 1.0f / iscale : 0.0f);
        float d = orx_fp16_to_f32(y[i].d);
        int L[256];
        for (int j = 0; j < 16; j++) {
            int s = nearest_int(iscale * sc[j]);
            s = s < -128 ? -128 : s > 127 ? 127 : s;
            y[i].scales[j] = (int8_t)s;
            float dl = d * (float)s;
            for (int l = 0; l < 16; l++) {
                int v = dl != 0.0f ? nearest_int(x[16 * j + l] / dl) : 0;
                v = v < -32 ? -32 : v > 31 ? 31 : v;
                L[16 * j + l] = v + 32;
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < 256; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l] = (uint8_t)((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = (uint8_t)((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void orx_quantize_row(uint32_t type, const float *src, void *dst, int64_t n) {
    int64_t nb32 = n / 32, nb256 = n / 256;
    switch (type) {
    case ORX_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); return;
    case ORX_TYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = orx_f32_to_fp16(src[i]);
        return;
    }
    case ORX_TYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = orx_f32_to_bf16(src[i]);
        return;
    }
    case ORX_TYPE_Q4_0: case ORX_TYPE_Q4_1: case ORX_TYPE_Q5_0: case ORX_TYPE_Q5_1: q_blk32(type, src, dst, nb32); return;
    case ORX_TYPE_Q8_0: q_q8_0(src, dst, nb32); return;
    case ORX_TYPE_Q8_1: orx_quantize_q8_1_act(src, dst, n); return;
    case ORX_TYPE_Q4_K: q_q4_K(src, dst, nb256); return;
    case ORX_TYPE_Q5_K: q_q5_K(src, dst, nb256); return;
    case ORX_TYPE_Q6_K: q_q6_K(src, dst, nb256); return;
    case ORX_TYPE_Q8_K: orx_quantize_q8_K_act(src, dst, n); return;
    default: return;
    }
}

/* ============================================================================================
 * Activation quantisers (as llama.cpp's x86 path: scale 127/amax, round half to even)
 * ========================================================================================== */
/* Q8_0, or Q8_1 (q81) whose blocks also carry s = d x the sum of their values */
static inline void quantize_q8_act(const float *x, void *vy, int64_t n, bool q81) {
    const size_t bb = q81 ? sizeof(orx_block_q8_1) : sizeof(orx_block_q8_0);
    const size_t at = q81 ? offsetof(orx_block_q8_1, qs) : offsetof(orx_block_q8_0, qs);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        uint8_t *b = (uint8_t *)vy + (size_t)i * bb;
        int8_t *qs = (int8_t *)(b + at);
        float amax, max;
        absmax_signed(x, 32, &amax, &max);
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            qs[j] = (int8_t)nearest_int(x[j] * id);
            sum += qs[j];
        }
        uint16_t h[2] = {orx_f32_to_fp16(d), q81 ? orx_f32_to_fp16(d * (float)sum) : 0};
        memcpy(b, h, q81 ? 4 : 2); /* d, then Q8_1's s */
    }
}

void orx_quantize_q8_0_act(const float *x, void *vy, int64_t n) { quantize_q8_act(x, vy, n, false); }
void orx_quantize_q8_1_act(const float *x, void *vy, int64_t n) { quantize_q8_act(x, vy, n, true); }

void orx_quantize_q8_K_act(const float *x, void *vy, int64_t n) {
    orx_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        float amax, max;
        absmax_signed(x, 256, &amax, &max);
        memset(y[i].bsums, 0, sizeof y[i].bsums);
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, 256);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < 256; j++) {
            int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)s;
        }
        y[i].d = 1.0f / iscale;
    }
}

static void act_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = orx_f32_to_fp16(x[i]);
}

static void act_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = orx_f32_to_bf16(x[i]);
}

/* ============================================================================================
 * Scalar dot products (weights · activations in the dot type)
 * ========================================================================================== */
static void dot_f32(int64_t n, float *s, const void *vw, const void *vx) {
    const float *w = vw, *x = vx;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += (double)(w[i] * x[i]);
    *s = (float)acc;
}

static void dot_f16(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += (double)(orx_fp16_to_f32(w[i]) * orx_fp16_to_f32(x[i]));
    *s = (float)acc;
}

static void dot_bf16(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += (double)(orx_bf16_to_f32(w[i]) * orx_bf16_to_f32(x[i]));
    *s = (float)acc;
}

/* The 32-value types against Q8_0 (the _0 types) or Q8_1 activations (the _1 types, whose
 * activation blocks carry s = d * sum). */
static inline void dot_blk32(uint32_t type, int64_t n, float *s, const void *vw, const void *vx) {
    const tinfo *T = tinfo_of(type);
    const blk32 *L = &T->l;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const uint8_t *w = (const uint8_t *)vw + (size_t)i * T->bytes;
        const orx_block_q8_0 *x0 = L->at_m ? NULL : (const orx_block_q8_0 *)vx + i;
        const orx_block_q8_1 *x1 = L->at_m ? (const orx_block_q8_1 *)vx + i : NULL;
        const int8_t *xq = x1 ? x1->qs : x0->qs;
        int v[32], sumi = 0;
        blk32_values(L, w, v);
        for (int j = 0; j < 32; j++) sumi += v[j] * xq[j];
        if (x1) acc += (f16_at(w, 0) * FP16(x1->d)) * (float)sumi + f16_at(w, L->at_m) * FP16(x1->s);
        else acc += (float)sumi * (f16_at(w, 0) * FP16(x0->d));
    }
    *s = acc;
}

static void dot_q4_0(int64_t n, float *s, const void *w, const void *x) { dot_blk32(ORX_TYPE_Q4_0, n, s, w, x); }
static void dot_q4_1(int64_t n, float *s, const void *w, const void *x) { dot_blk32(ORX_TYPE_Q4_1, n, s, w, x); }
static void dot_q5_0(int64_t n, float *s, const void *w, const void *x) { dot_blk32(ORX_TYPE_Q5_0, n, s, w, x); }
static void dot_q5_1(int64_t n, float *s, const void *w, const void *x) { dot_blk32(ORX_TYPE_Q5_1, n, s, w, x); }
static void dot_q8_0(int64_t n, float *s, const void *w, const void *x) { dot_blk32(ORX_TYPE_Q8_0, n, s, w, x); }

/* K-quants: per super-block, sumf += d_w*d_x * sum_j(scale_j * isum_j) - dmin_w*d_x * sum_j(min_j * bsum_j).
 * One super-block of Q4_K or Q5_K (qh: the 5th bits; NULL for Q4_K). */
static float dot_k45_block(uint16_t dw, uint16_t dminw, const uint8_t *scales, const uint8_t *q, const uint8_t *qh,
                           const orx_block_q8_K *x) {
    const int8_t *a = x->qs;
    int sumi = 0, summ = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 8; j += 2, q += 32, a += 64) {
        uint8_t sc0, m0, sc1, m1;
        orx_get_scale_min_k4(j, scales, &sc0, &m0);
        orx_get_scale_min_k4(j + 1, scales, &sc1, &m1);
        int s0 = 0, s1 = 0;
        for (int l = 0; l < 32; l++) {
            s0 += ((q[l] & 0xF) + (qh && (qh[l] & u1) ? 16 : 0)) * a[l];
            s1 += ((q[l] >> 4) + (qh && (qh[l] & u2) ? 16 : 0)) * a[l + 32];
        }
        u1 = (uint8_t)(u1 << 2); u2 = (uint8_t)(u2 << 2);
        sumi += sc0 * s0 + sc1 * s1;
        summ += m0 * (x->bsums[2 * j] + x->bsums[2 * j + 1]) + m1 * (x->bsums[2 * j + 2] + x->bsums[2 * j + 3]);
    }
    float d = x->d * FP16(dw), dmin = -x->d * FP16(dminw);
    return d * (float)sumi + dmin * (float)summ;
}

static void dot_q4_K(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q4_K *w = vw;
    const orx_block_q8_K *x = vx;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) acc += dot_k45_block(w[i].d, w[i].dmin, w[i].scales, w[i].qs, NULL, &x[i]);
    *s = acc;
}

static void dot_q5_K(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q5_K *w = vw;
    const orx_block_q8_K *x = vx;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) acc += dot_k45_block(w[i].d, w[i].dmin, w[i].scales, w[i].qs, w[i].qh, &x[i]);
    *s = acc;
}

static void dot_q6_K(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q6_K *w = vw;
    const orx_block_q8_K *x = vx;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int isum = 0;
            for (int l = 0; l < 16; l++) isum += (q6_get(&w[i], 16 * j + l) - 32) * x[i].qs[16 * j + l];
            sumi += w[i].scales[j] * isum;
        }
        acc += (x[i].d * FP16(w[i].d)) * (float)sumi;
    }
    *s = acc;
}

/* ============================================================================================
 * Q4_0_R16 (quant.h): repacking, and the reference through the Q4_0 reference
 * ========================================================================================== */
#define R16_BLOCK 288 /* bytes of one block of 16 rows */

void orx_repack_q4_0_r16(const void *src, void *dst, int64_t n_out, int64_t n_in) {
    int64_t nb = n_in / 32;
    size_t row = (size_t)nb * sizeof(orx_block_q4_0);
    for (int64_t g = 0; g < n_out / 16; g++) {
        uint8_t *o = (uint8_t *)dst + (size_t)g * 16 * row;
        for (int64_t b = 0; b < nb; b++, o += R16_BLOCK)
            for (int r = 0; r < 16; r++) {
                const orx_block_q4_0 *w = (const orx_block_q4_0 *)((const uint8_t *)src + (size_t)(g * 16 + r) * row) + b;
                memcpy(o + 2 * r, &w->d, 2);
                for (int j = 0; j < 4; j++) memcpy(o + 32 + 64 * j + 4 * r, w->qs + 4 * j, 4);
            }
    }
}

/* Row r (of the group at grp) back as Q4_0 blocks. */
static void r16_row(const uint8_t *grp, int r, int64_t nb, orx_block_q4_0 *out) {
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *o = grp + (size_t)b * R16_BLOCK;
        memcpy(&out[b].d, o + 2 * r, 2);
        for (int j = 0; j < 4; j++) memcpy(out[b].qs + 4 * j, o + 32 + 64 * j + 4 * r, 4);
    }
}


/* Q4_K_R16, and Q5_K_R16 (the same bytes, then the 5th bits) */
#define K16_BLOCK 2304 /* bytes of one super-block of 16 rows (Q4_K_R16; Q5_K_R16: + 512) */

/* Row r's super-block fields to (put) or from the 16-row block at o; qh: Q5_K's 5th bits, or NULL. */
static void k16_put(uint8_t *o, int r, const uint16_t *d, const uint16_t *dmin, const uint8_t *scales,
                    const uint8_t *qs, const uint8_t *qh) {
    memcpy(o + 2 * r, d, 2);
    memcpy(o + 32 + 2 * r, dmin, 2);
    for (int k = 0; k < 3; k++) memcpy(o + 64 + 64 * k + 4 * r, scales + 4 * k, 4);
    for (int q = 0; q < 32; q++) memcpy(o + 256 + 4 * (16 * q + r), qs + 4 * q, 4);
    for (int q = 0; qh && q < 8; q++) memcpy(o + K16_BLOCK + 64 * q + 4 * r, qh + 4 * q, 4);
}

static void k16_get(const uint8_t *o, int r, uint16_t *d, uint16_t *dmin, uint8_t *scales, uint8_t *qs, uint8_t *qh) {
    memcpy(d, o + 2 * r, 2);
    memcpy(dmin, o + 32 + 2 * r, 2);
    for (int k = 0; k < 3; k++) memcpy(scales + 4 * k, o + 64 + 64 * k + 4 * r, 4);
    for (int q = 0; q < 32; q++) memcpy(qs + 4 * q, o + 256 + 4 * (16 * q + r), 4);
    for (int q = 0; qh && q < 8; q++) memcpy(qh + 4 * q, o + K16_BLOCK + 64 * q + 4 * r, 4);
}

static void repack_k16(const void *src, void *dst, int64_t n_out, int64_t n_in, bool q5) {
    int64_t nsb = n_in / 256;
    size_t bb = q5 ? sizeof(orx_block_q5_K) : sizeof(orx_block_q4_K), row = (size_t)nsb * bb;
    for (int64_t g = 0; g < n_out / 16; g++) {
        uint8_t *o = (uint8_t *)dst + (size_t)g * 16 * row;
        for (int64_t sb = 0; sb < nsb; sb++, o += 16 * bb)
            for (int r = 0; r < 16; r++) {
                const uint8_t *b = (const uint8_t *)src + (size_t)(g * 16 + r) * row + (size_t)sb * bb;
                if (q5) {
                    const orx_block_q5_K *w = (const orx_block_q5_K *)b;
                    k16_put(o, r, &w->d, &w->dmin, w->scales, w->qs, w->qh);
                } else {
                    const orx_block_q4_K *w = (const orx_block_q4_K *)b;
                    k16_put(o, r, &w->d, &w->dmin, w->scales, w->qs, NULL);
                }
            }
    }
}

void orx_repack_q4_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in) {
    repack_k16(src, dst, n_out, n_in, false);
}

void orx_repack_q5_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in) {
    repack_k16(src, dst, n_out, n_in, true);
}

static void k16_row(const uint8_t *grp, int r, int64_t nsb, orx_block_q4_K *out) {
    for (int64_t sb = 0; sb < nsb; sb++)
        k16_get(grp + (size_t)sb * K16_BLOCK, r, &out[sb].d, &out[sb].dmin, out[sb].scales, out[sb].qs, NULL);
}

static void k5_16_row(const uint8_t *grp, int r, int64_t nsb, orx_block_q5_K *out) {
    for (int64_t sb = 0; sb < nsb; sb++)
        k16_get(grp + (size_t)sb * (K16_BLOCK + 512), r, &out[sb].d, &out[sb].dmin, out[sb].scales, out[sb].qs,
                out[sb].qh);
}

/* Q8_0_R16 */
#define R8_BLOCK 544 /* bytes of one block of 16 rows */

void orx_repack_q8_0_r16(const void *src, void *dst, int64_t n_out, int64_t n_in) {
    int64_t nb = n_in / 32;
    size_t row = (size_t)nb * sizeof(orx_block_q8_0);
    for (int64_t g = 0; g < n_out / 16; g++) {
        uint8_t *o = (uint8_t *)dst + (size_t)g * 16 * row;
        for (int64_t b = 0; b < nb; b++, o += R8_BLOCK)
            for (int r = 0; r < 16; r++) {
                const orx_block_q8_0 *w = (const orx_block_q8_0 *)((const uint8_t *)src + (size_t)(g * 16 + r) * row) + b;
                memcpy(o + 2 * r, &w->d, 2);
                for (int j = 0; j < 8; j++)
                    for (int i = 0; i < 4; i++) o[32 + 64 * j + 4 * r + i] = (uint8_t)w->qs[4 * j + i] ^ 0x80;
            }
    }
}

static void r8_row(const uint8_t *grp, int r, int64_t nb, orx_block_q8_0 *out) {
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *o = grp + (size_t)b * R8_BLOCK;
        memcpy(&out[b].d, o + 2 * r, 2);
        for (int j = 0; j < 8; j++)
            for (int i = 0; i < 4; i++) out[b].qs[4 * j + i] = (int8_t)(o[32 + 64 * j + 4 * r + i] ^ 0x80);
    }
}

/* Q6_K_R16 */
#define Q6_16_BLOCK 3360 /* bytes of one super-block of 16 rows */

/* The 6-bit value k (0..63) of a Q6_K block into a file-layout block (ql, qh as q6_get reads them). */
static void q6_put(orx_block_q6_K *b, int k, int v) {
    int half = k / 128, r = k % 128, quarter = r / 32, l = r % 32;
    uint8_t *ql = b->ql + 64 * half + ((quarter & 1) ? 32 : 0), *qh = b->qh + 32 * half;
    if (quarter >= 2) ql[l] = (uint8_t)((ql[l] & 0x0F) | (v & 0x0F) << 4);
    else ql[l] = (uint8_t)((ql[l] & 0xF0) | (v & 0x0F));
    qh[l] = (uint8_t)((qh[l] & ~(3 << (2 * quarter))) | ((v >> 4) & 3) << (2 * quarter));
}

void orx_repack_q6_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in) {
    int64_t nsb = n_in / 256;
    size_t row = (size_t)nsb * sizeof(orx_block_q6_K);
    for (int64_t g = 0; g < n_out / 16; g++) {
        uint8_t *o = (uint8_t *)dst + (size_t)g * 16 * row;
        for (int64_t sb = 0; sb < nsb; sb++, o += Q6_16_BLOCK) {
            memset(o + 288, 0, Q6_16_BLOCK - 288);
            for (int r = 0; r < 16; r++) {
                const orx_block_q6_K *w = (const orx_block_q6_K *)((const uint8_t *)src + (size_t)(g * 16 + r) * row) + sb;
                memcpy(o + 2 * r, &w->d, 2);
                for (int p = 0; p < 8; p++)
                    for (int e = 0; e < 2; e++) o[32 + 32 * p + 2 * r + e] = (uint8_t)w->scales[2 * p + e];
                for (int k = 0; k < 256; k++) {
                    int v = q6_get(w, k), j = k / 16, c = k % 16 / 4, i = k % 4, p = j / 2;
                    o[288 + 64 * (4 * p + c) + 4 * r + i] |= (uint8_t)((v & 0x0F) << (j & 1 ? 4 : 0));
                    o[2336 + 64 * j + 4 * r + i] |= (uint8_t)((v >> 4) << (2 * c));
                }
            }
        }
    }
}

static void q6_16_row(const uint8_t *grp, int r, int64_t nsb, orx_block_q6_K *out) {
    for (int64_t sb = 0; sb < nsb; sb++) {
        const uint8_t *o = grp + (size_t)sb * Q6_16_BLOCK;
        memset(&out[sb], 0, sizeof out[sb]);
        memcpy(&out[sb].d, o + 2 * r, 2);
        for (int p = 0; p < 8; p++)
            for (int e = 0; e < 2; e++) out[sb].scales[2 * p + e] = (int8_t)o[32 + 32 * p + 2 * r + e];
        for (int k = 0; k < 256; k++) {
            int j = k / 16, c = k % 16 / 4, i = k % 4, p = j / 2;
            int lo = o[288 + 64 * (4 * p + c) + 4 * r + i] >> (j & 1 ? 4 : 0) & 0x0F;
            int hi = o[2336 + 64 * j + 4 * r + i] >> (2 * c) & 3;
            q6_put(&out[sb], k, lo | hi << 4);
        }
    }
}

/* The _R16 references: each row put back in the file's layout and through that type's reference
 * dot product (bit-identical to it). ft: the file type (Q4_0, Q4_K, Q8_0 or Q6_K). */
static void r16_ref_rows(uint32_t ft, int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                         size_t x_stride, int nt, float *y, int64_t y_stride) {
    int64_t nb = n / orx_type_block_values(ft);
    void *row = malloc((size_t)(nb ? nb : 1) * orx_type_block_bytes(ft));
    orx_vec_dot_fn dot = ft == ORX_TYPE_Q4_K   ? dot_q4_K
                         : ft == ORX_TYPE_Q8_0 ? dot_q8_0
                         : ft == ORX_TYPE_Q6_K ? dot_q6_K
                         : ft == ORX_TYPE_Q5_K ? dot_q5_K
                                               : dot_q4_0;
    for (int r = 0; r < nr; r++) {
        const uint8_t *grp = (const uint8_t *)w + (size_t)(r / 16) * 16 * w_stride;
        if (row && ft == ORX_TYPE_Q4_K) k16_row(grp, r % 16, nb, row);
        else if (row && ft == ORX_TYPE_Q8_0) r8_row(grp, r % 16, nb, row);
        else if (row && ft == ORX_TYPE_Q6_K) q6_16_row(grp, r % 16, nb, row);
        else if (row && ft == ORX_TYPE_Q5_K) k5_16_row(grp, r % 16, nb, row);
        else if (row) r16_row(grp, r % 16, nb, row);
        for (int t = 0; t < nt; t++) {
            float *o = &y[t * y_stride + r];
            if (row) dot(n, o, row, (const char *)x + (size_t)t * x_stride);
            else *o = 0.0f;
        }
    }
    free(row);
}

/* gemv and gemv_multi of the _R16 references, for file type FT */
#define R16_REF(NAME, FT)                                                                                         \
    static void gemv_multi_##NAME##_ref(int64_t n, const void *w, size_t w_stride, int nr, const void *x,        \
                                        size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y, \
                                        int64_t y_stride) {                                                      \
        (void)prep, (void)prep_stride;                                                                           \
        r16_ref_rows(FT, n, w, w_stride, nr, x, x_stride, nt, y, y_stride);                                      \
    }                                                                                                            \
    static void gemv_##NAME##_ref(int64_t n, const void *w, size_t w_stride, int nr, const void *x,              \
                                  const void *prep, float *y) {                                                  \
        (void)prep;                                                                                              \
        r16_ref_rows(FT, n, w, w_stride, nr, x, 0, 1, y, 0);                                                     \
    }
R16_REF(r16, ORX_TYPE_Q4_0)
R16_REF(k16, ORX_TYPE_Q4_K)
R16_REF(r8, ORX_TYPE_Q8_0)
R16_REF(q6_16, ORX_TYPE_Q6_K)
R16_REF(k5_16, ORX_TYPE_Q5_K)

void orx_repack(uint32_t to, const void *src, void *dst, int64_t n_out, int64_t n_in) {
    if (to == ORX_TYPE_Q4_0_R16) orx_repack_q4_0_r16(src, dst, n_out, n_in);
    else if (to == ORX_TYPE_Q4_K_R16) orx_repack_q4_K_r16(src, dst, n_out, n_in);
    else if (to == ORX_TYPE_Q8_0_R16) orx_repack_q8_0_r16(src, dst, n_out, n_in);
    else if (to == ORX_TYPE_Q6_K_R16) orx_repack_q6_K_r16(src, dst, n_out, n_in);
    else if (to == ORX_TYPE_Q5_K_R16) orx_repack_q5_K_r16(src, dst, n_out, n_in);
}

bool orx_repack_target(uint32_t type, int64_t n_out, int64_t n_in, uint32_t *to) {
    uint32_t r16 = type == ORX_TYPE_Q4_0   ? ORX_TYPE_Q4_0_R16
                   : type == ORX_TYPE_Q4_K ? ORX_TYPE_Q4_K_R16
                   : type == ORX_TYPE_Q8_0 ? ORX_TYPE_Q8_0_R16
                   : type == ORX_TYPE_Q6_K ? ORX_TYPE_Q6_K_R16
                   : type == ORX_TYPE_Q5_K ? ORX_TYPE_Q5_K_R16
                                           : 0;
    int64_t bv = orx_type_block_values(type);
    if (!r16 || n_out <= 0 || n_out % 16 || n_in % bv || n_in / bv * 16 > (int64_t)ORX_GEMV_PREP_BYTES) return false;
    orx_kernel q = orx_kernel_best(type), r = orx_kernel_best(r16);
    if (strcmp(q.isa, "avx512") || strcmp(r.isa, "avx512")) return false; /* AMX tiles and AVX2 read the file's layout */
    *to = r16;
    return true;
}

/* ============================================================================================
 * Reference kernels
 * ========================================================================================== */
orx_kernel orx_kernel_ref(uint32_t type) {
    orx_kernel k = {NULL, NULL, 1, 1, NULL, "scalar", NULL, 0, NULL, NULL, NULL};
    switch (type) {
    case ORX_TYPE_F32: k.vec_dot = dot_f32; break;
    case ORX_TYPE_F16: k.vec_dot = dot_f16; k.from_float = act_f16; break;
    case ORX_TYPE_BF16: k.vec_dot = dot_bf16; k.from_float = act_bf16; break;
    case ORX_TYPE_Q4_0: k.vec_dot = dot_q4_0; k.from_float = orx_quantize_q8_0_act; break;
    case ORX_TYPE_Q4_1: k.vec_dot = dot_q4_1; k.from_float = orx_quantize_q8_1_act; break;
    case ORX_TYPE_Q5_0: k.vec_dot = dot_q5_0; k.from_float = orx_quantize_q8_0_act; break;
    case ORX_TYPE_Q5_1: k.vec_dot = dot_q5_1; k.from_float = orx_quantize_q8_1_act; break;
    case ORX_TYPE_Q8_0: k.vec_dot = dot_q8_0; k.from_float = orx_quantize_q8_0_act; break;
    case ORX_TYPE_Q4_K: k.vec_dot = dot_q4_K; k.from_float = orx_quantize_q8_K_act; break;
    case ORX_TYPE_Q5_K: k.vec_dot = dot_q5_K; k.from_float = orx_quantize_q8_K_act; break;
    case ORX_TYPE_Q6_K: k.vec_dot = dot_q6_K; k.from_float = orx_quantize_q8_K_act; break;
    case ORX_TYPE_Q4_0_R16: k.gemv = gemv_r16_ref; k.gemv_multi = gemv_multi_r16_ref; k.tile_rows = 16;
        k.from_float = orx_quantize_q8_0_act; break;
    case ORX_TYPE_Q4_K_R16: k.gemv = gemv_k16_ref; k.gemv_multi = gemv_multi_k16_ref; k.tile_rows = 16;
        k.from_float = orx_quantize_q8_K_act; break;
    case ORX_TYPE_Q8_0_R16: k.gemv = gemv_r8_ref; k.gemv_multi = gemv_multi_r8_ref; k.tile_rows = 16;
        k.from_float = orx_quantize_q8_0_act; break;
    case ORX_TYPE_Q6_K_R16: k.gemv = gemv_q6_16_ref; k.gemv_multi = gemv_multi_q6_16_ref; k.tile_rows = 16;
        k.from_float = orx_quantize_q8_K_act; break;
    case ORX_TYPE_Q5_K_R16: k.gemv = gemv_k5_16_ref; k.gemv_multi = gemv_multi_k5_16_ref; k.tile_rows = 16;
        k.from_float = orx_quantize_q8_K_act; break;
    default: break;
    }
    return k;
}
