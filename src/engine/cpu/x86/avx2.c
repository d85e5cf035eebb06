/*
 * avx2.c — AVX2 + FMA (+F16C) kernels, compiled with target attributes (no -march).
 *
 * Q4_0 / Q8_0: per 32-value block an 8-bit dot (maddubs with the sign trick), scaled per block
 *   in float vectors (summation order differs from the scalar reference: tested with tolerance).
 * Q4_K / Q5_K / Q6_K: per 256-value super-block the integer sum is exact and the float formula is
 *   the reference's, so results are bit-identical to the scalar path.
 * gemm tiles unpack each weight block once and use it for every token of the tile.
 * F16 / BF16 / F32: f32 FMA over 32 values per step.
 * Also here: the prompt tiles of the strip driver (rows in lanes, 8 rows) and the attention tiles
 * (attention.c's fast path with 8-lane halves).
 */
#include "engine/cpu/x86/x86.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>


/* ============================================================================================
 * Helpers
 * ========================================================================================== */
ORX_AVX2 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

ORX_AVX2 static inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}


/* signed int8 x signed int8 → 8 x int32 partial sums */
ORX_AVX2 static inline __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

/* 16 bytes of Q4 nibbles → 32 unsigned values in natural order (low nibbles first) */
ORX_AVX2 static inline __m256i unpack_nibbles(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

/* ============================================================================================
 * Q4_0 / Q8_0 (activations Q8_0)
 * ========================================================================================== */
ORX_AVX2 static void dot_q4_0(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q4_0 *w = vw;
    const orx_block_q8_0 *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(8);
    int64_t nb = n / 32, i = 0;
    for (; i + 2 <= nb; i += 2) {
        _mm_prefetch((const char *)(w + i) + 1536, _MM_HINT_T0); /* decode streams rows: stay ahead */
        __m256i q0 = _mm256_sub_epi8(unpack_nibbles(w[i].qs), off);
        __m256i q1 = _mm256_sub_epi8(unpack_nibbles(w[i + 1].qs), off);
        __m256i p0 = dot_i8(q0, _mm256_loadu_si256((const __m256i *)x[i].qs));
        __m256i p1 = dot_i8(q1, _mm256_loadu_si256((const __m256i *)x[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i].d) * orx_h2f(x[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i + 1].d) * orx_h2f(x[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i q = _mm256_sub_epi8(unpack_nibbles(w[i].qs), off);
        __m256i p = dot_i8(q, _mm256_loadu_si256((const __m256i *)x[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i].d) * orx_h2f(x[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    *s = hsum_ps(_mm256_add_ps(acc0, acc1));
}

ORX_AVX2 static void dot_q8_0(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q8_0 *w = vw, *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / 32, i = 0;
    for (; i + 2 <= nb; i += 2) {
        _mm_prefetch((const char *)(w + i) + 2048, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2112, _MM_HINT_T0);
        __m256i p0 = dot_i8(_mm256_loadu_si256((const __m256i *)w[i].qs), _mm256_loadu_si256((const __m256i *)x[i].qs));
        __m256i p1 = dot_i8(_mm256_loadu_si256((const __m256i *)w[i + 1].qs), _mm256_loadu_si256((const __m256i *)x[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i].d) * orx_h2f(x[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i + 1].d) * orx_h2f(x[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = dot_i8(_mm256_loadu_si256((const __m256i *)w[i].qs), _mm256_loadu_si256((const __m256i *)x[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(orx_h2f(w[i].d) * orx_h2f(x[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    *s = hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q4_0 decode: two blocks per 256-bit register. The 2 x 16 nibble bytes give the low values
 * [0,16) and (shifted) the high values [16,32) of both blocks; vpmaddubsw against the activations
 * in the same order, summed in i16 (2 x 2 x 15 x 127 fits), widened by vpmaddwd: 4 lanes of exact
 * partial sums per block. The offset 8 is removed per lane, and each lane is scaled by its block's
 * d_w * d_x (8 scales per gather, spread 4 lanes each by one permute). Activation side per 2
 * blocks: lo[32], hi[32] bytes and corr[8] lanes; then d_x per block. */
#define GEMV2_MAXB 1024 /* blocks per row on the prepared path (n <= 32768) */

ORX_AVX2 static bool gemv_prep_q4_0(int64_t n, const void *vx, void *buf) {
    const orx_block_q8_0 *x = vx;
    int64_t nb = n / 32 / 8 * 8; /* whole groups of 8 blocks; the rest is a tail */
    if (n / 32 > GEMV2_MAXB || (size_t)nb * 52 > ORX_GEMV_PREP_BYTES) return false;
    int8_t *lo = buf, *hi = lo + nb * 16;
    int32_t *corr = (int32_t *)(void *)(hi + nb * 16);
    float *dx = (float *)(corr + nb * 4);
    for (int64_t p = 0; p < nb / 2; p++)
        for (int k = 0; k < 2; k++) {
            const orx_block_q8_0 *b = x + 2 * p + k;
            memcpy(lo + p * 32 + 16 * k, b->qs, 16);
            memcpy(hi + p * 32 + 16 * k, b->qs + 16, 16);
            for (int l = 0; l < 4; l++) {
                int sum = 0;
                for (int i = 0; i < 4; i++) sum += b->qs[4 * l + i] + b->qs[16 + 4 * l + i];
                corr[p * 8 + 4 * k + l] = 8 * sum;
            }
        }
    for (int64_t i = 0; i < nb; i++) dx[i] = orx_h2f(x[i].d);
    return true;
}

ORX_AVX2 static void gemv_q4_0(int64_t n, const void *w, size_t w_stride, int nr, const void *vx, const void *prep, float *y) {
    const orx_block_q8_0 *x = vx;
    int64_t nb = n / 32, nb8 = nb / 8 * 8;
    _Alignas(64) char local[GEMV2_MAXB * 52];
    if (!prep) {
        if (!gemv_prep_q4_0(n, vx, local)) {
            for (int r = 0; r < nr; r++) dot_q4_0(n, &y[r], (const char *)w + (size_t)r * w_stride, vx);
            return;
        }
        prep = local;
    }
    const int8_t *lo = prep, *hi = lo + nb8 * 16;
    const int32_t *corr = (const int32_t *)(const void *)(hi + nb8 * 16);
    const float *dx = (const float *)(corr + nb8 * 4);
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    const __m256i gidx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)sizeof(orx_block_q4_0)));
    const __m256i mask16 = _mm256_set1_epi32(0xFFFF);
    for (int r = 0; r < nr; r++) {
        const orx_block_q4_0 *wb = (const void *)((const char *)w + (size_t)r * w_stride);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (int64_t g = 0; g < nb8; g += 8) {
            const orx_block_q4_0 *b = wb + g;
            _mm_prefetch((const char *)b + 1536, _MM_HINT_T0);
            _mm_prefetch((const char *)b + 1600, _MM_HINT_T0);
            _mm_prefetch((const char *)b + 1664, _MM_HINT_T0);
            __m256i dh = _mm256_and_si256(_mm256_i32gather_epi32((const int *)(const void *)b, gidx, 1), mask16);
            __m128i d16 = _mm_packus_epi32(_mm256_castsi256_si128(dh), _mm256_extracti128_si256(dh, 1));
            __m256 ds = _mm256_mul_ps(_mm256_cvtph_ps(d16), _mm256_loadu_ps(dx + g));
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                const orx_block_q4_0 *c = b + 2 * k;
                __m256i v = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)c[1].qs), _mm_loadu_si128((const __m128i *)c[0].qs));
                int64_t pp = g / 2 + k;
                __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, m4), _mm256_loadu_si256((const __m256i *)(lo + pp * 32))),
                                               _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_loadu_si256((const __m256i *)(hi + pp * 32))));
                __m256i s = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones), _mm256_loadu_si256((const __m256i *)(corr + pp * 8)));
                __m256 sc = _mm256_permutevar8x32_ps(ds, _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1));
                if (k & 1) acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), sc, acc1);
                else acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), sc, acc0);
            }
        }
        float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
        if (nb > nb8) {
            float tail;
            dot_q4_0((nb - nb8) * 32, &tail, wb + nb8, x + nb8);
            sum += tail;
        }
        y[r] = sum;
    }
}

#define MAXT 8 /* tokens per gemm tile */

/* rows x tokens: each weight block is unpacked once per row and used for every token */
/* Q4_0 (q4: nibbles less 8) or Q8_0 rows: |w| against y with w's signs */
ORX_AVX2 ORX_AI void gemm_q(bool q4, int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                            size_t x_stride, int nt, float *y, int64_t y_stride) {
    const __m256i off = _mm256_set1_epi8(8);
    for (int r = 0; r < nr; r++) {
        const orx_block_q4_0 *w4 = (const void *)((const char *)w + (size_t)r * w_stride);
        const orx_block_q8_0 *w8 = (const void *)((const char *)w + (size_t)r * w_stride);
        __m256 acc[MAXT];
        for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
        for (int64_t i = 0; i < n / 32; i++) {
            __m256i q = q4 ? _mm256_sub_epi8(unpack_nibbles(w4[i].qs), off) : _mm256_loadu_si256((const __m256i *)w8[i].qs);
            __m256i aq = _mm256_sign_epi8(q, q);
            float dw = orx_h2f(q4 ? w4[i].d : w8[i].d);
            for (int t = 0; t < nt; t++) {
                const orx_block_q8_0 *xb = (const void *)((const char *)x + (size_t)t * x_stride);
                __m256i yy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)xb[i].qs), q);
                __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, yy), _mm256_set1_epi16(1));
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * orx_h2f(xb[i].d)), _mm256_cvtepi32_ps(p), acc[t]);
            }
        }
        for (int t = 0; t < nt; t++) y[t * y_stride + r] = hsum_ps(acc[t]);
    }
}

ORX_AVX2 static void gemm_q4_0(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
                               float *y, int64_t ys) {
    gemm_q(true, n, w, ws, nr, x, xs, nt, y, ys);
}
ORX_AVX2 static void gemm_q8_0(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
                               float *y, int64_t ys) {
    gemm_q(false, n, w, ws, nr, x, xs, nt, y, ys);
}

/* ============================================================================================
 * K-quants (activations Q8_K): unpack a super-block to unsigned bytes + int16 scales, then an
 * exact integer dot per token.
 * ========================================================================================== */
typedef struct kunpacked {
    uint8_t q[256];      /* unsigned quants in value order */
    int16_t sc[16];      /* scale per 16 values (sub-block scales repeated for Q4_K/Q5_K) */
    int16_t mins[16];    /* min per 16 values (Q4_K/Q5_K), 0 for Q6_K */
    float   d, dmin;     /* super-block scales (dmin 0 for Q6_K) */
    int     offset;      /* value offset subtracted from q (32 for Q6_K, else 0) */
} kunpacked;

/* Q4_K, or Q5_K with its 5th bits qh (NULL for Q4_K): both lead with d, dmin and the 12 scale bytes */
ORX_AVX2 static inline void unpack_k45(uint16_t d, uint16_t dmin, const uint8_t *scales, const uint8_t *qs,
                                       const uint8_t *qh, kunpacked *u) {
    const __m256i m = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), two = _mm256_set1_epi8(2);
    const __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m256i lo = _mm256_and_si256(q, m), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m);
        if (qh) {
            __m256i h = _mm256_srli_epi16(hb, 2 * j);
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(h, two), 3));
        }
        _mm256_storeu_si256((__m256i *)(u->q + 64 * j), lo);
        _mm256_storeu_si256((__m256i *)(u->q + 64 * j + 32), hi);
    }
    for (int j = 0; j < 8; j++) {
        uint8_t sc, mn;
        orx_get_scale_min_k4(j, scales, &sc, &mn);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->mins[2 * j] = u->mins[2 * j + 1] = mn;
    }
    u->d = orx_h2f(d);
    u->dmin = orx_h2f(dmin);
    u->offset = 0;
}

ORX_AVX2 static void unpack_q6_K(const orx_block_q6_K *b, kunpacked *u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
        __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
        __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
        __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
        __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
        _mm256_storeu_si256((__m256i *)(u->q + 128 * h), q1);
        _mm256_storeu_si256((__m256i *)(u->q + 128 * h + 32), q2);
        _mm256_storeu_si256((__m256i *)(u->q + 128 * h + 64), q3);
        _mm256_storeu_si256((__m256i *)(u->q + 128 * h + 96), q4);
    }
    for (int j = 0; j < 16; j++) { u->sc[j] = b->scales[j]; u->mins[j] = 0; }
    u->d = orx_h2f(b->d);
    u->dmin = 0.0f;
    u->offset = 32;
}

/* exact integer parts: sum_k sc_k * sum(q*y over 16) and sum_k (mins_k or offset*sc_k) * bsum_k */
ORX_AVX2 static inline float kdot(const kunpacked *u, const orx_block_q8_K *x) {
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(u->q + 32 * j));
        __m256i y = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j));
        __m256i p = _mm256_maddubs_epi16(q, y); /* 16 x int16, lanes 0-7 sub-block 2j, 8-15 2j+1 */
        __m256i sc = _mm256_set_m128i(_mm_set1_epi16(u->sc[2 * j + 1]), _mm_set1_epi16(u->sc[2 * j]));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, sc));
    }
    int sumi = hsum_i32(acc);
    __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
    if (u->offset) {
        __m256i sc = _mm256_loadu_si256((const __m256i *)u->sc);
        sumi -= u->offset * hsum_i32(_mm256_madd_epi16(bs, sc));
        return (x->d * u->d) * (float)sumi;
    }
    __m256i mn = _mm256_loadu_si256((const __m256i *)u->mins);
    int summ = hsum_i32(_mm256_madd_epi16(bs, mn));
    return (x->d * u->d) * (float)sumi + (-x->d * u->dmin) * (float)summ;
}

typedef void (*kunpack_fn)(const void *b, kunpacked *u);

ORX_AVX2 static void kgemm(kunpack_fn unpack, size_t bbytes, int64_t n, const void *w, size_t w_stride,
                       int nr, const void *x, size_t x_stride, int nt, float *y, int64_t y_stride) {
    kunpacked u;
    for (int r = 0; r < nr; r++) {
        const char *wr = (const char *)w + (size_t)r * w_stride;
        float acc[MAXT];
        for (int t = 0; t < nt; t++) acc[t] = 0.0f;
        for (int64_t i = 0; i < n / 256; i++) {
            unpack(wr + (size_t)i * bbytes, &u);
            for (int t = 0; t < nt; t++) {
                const orx_block_q8_K *xb = (const void *)((const char *)x + (size_t)t * x_stride);
                acc[t] += kdot(&u, &xb[i]);
            }
        }
        for (int t = 0; t < nt; t++) y[t * y_stride + r] = acc[t];
    }
}

ORX_AVX2 static void up_q4_K(const void *vb, kunpacked *u) {
    const orx_block_q4_K *b = vb;
    unpack_k45(b->d, b->dmin, b->scales, b->qs, NULL, u);
}
ORX_AVX2 static void up_q5_K(const void *vb, kunpacked *u) {
    const orx_block_q5_K *b = vb;
    unpack_k45(b->d, b->dmin, b->scales, b->qs, b->qh, u);
}
static void up_q6_K(const void *b, kunpacked *u) { unpack_q6_K(b, u); }

ORX_AVX2 static void gemm_q4_K(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt, float *y, int64_t ys) {
    kgemm(up_q4_K, sizeof(orx_block_q4_K), n, w, ws, nr, x, xs, nt, y, ys);
}
ORX_AVX2 static void gemm_q5_K(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt, float *y, int64_t ys) {
    kgemm(up_q5_K, sizeof(orx_block_q5_K), n, w, ws, nr, x, xs, nt, y, ys);
}
ORX_AVX2 static void gemm_q6_K(int64_t n, const void *w, size_t ws, int nr, const void *x, size_t xs, int nt, float *y, int64_t ys) {
    kgemm(up_q6_K, sizeof(orx_block_q6_K), n, w, ws, nr, x, xs, nt, y, ys);
}
/* 12 packed bytes → 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K/Q5_K block */

/* decode path: fused, no unpack to memory */
ORX_AVX2 static void dot_q4_K(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q4_K *w = vw;
    const orx_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m128i dup = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m256 accf = _mm256_setzero_ps(), accm = _mm256_setzero_ps(); /* per-lane sums: one hsum per row */
    for (int64_t i = 0; i < n / 256; i++) {
        _mm_prefetch((const char *)(w + i) + 2048, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2112, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2176, _MM_HINT_T0);
        uint8_t sm[16];
        orx_unpack_k4_scales(w[i].scales, sm);
        __m128i smv = _mm_loadu_si128((const __m128i *)sm);
        /* mins, each repeated for its two 16-value bsums */
        __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_srli_si128(smv, 8), dup));
        __m256i bs = _mm256_loadu_si256((const __m256i *)x[i].bsums);
        __m256i summ = _mm256_madd_epi16(bs, mins);
        __m256i sumi = _mm256_setzero_si256();
        const uint8_t *q = w[i].qs;
        const int8_t *a = x[i].qs;
        for (int j = 0; j < 4; j++, q += 32, a += 64) {
            __m256i qq = _mm256_loadu_si256((const __m256i *)q);
            __m256i lo = _mm256_and_si256(qq, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qq, 4), m4);
            __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a));
            __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32)));
            __m256i s0 = _mm256_set1_epi16((short)sm[2 * j]), s1 = _mm256_set1_epi16((short)sm[2 * j + 1]);
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
        }
        float d = x[i].d * orx_h2f(w[i].d), dmin = -x[i].d * orx_h2f(w[i].dmin);
        accf = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), accf);
        accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_set1_ps(dmin), accm);
    }
    *s = hsum_ps(accf) + hsum_ps(accm);
}
ORX_AVX2 static void dot_q5_K(int64_t n, float *s, const void *w, const void *x) {
    gemm_q5_K(n, w, 0, 1, x, 0, 1, s, 0);
}
ORX_AVX2 static void dot_q6_K(int64_t n, float *s, const void *vw, const void *vx) {
    const orx_block_q6_K *w = vw;
    const orx_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    __m256 accf = _mm256_setzero_ps(); /* per-lane sums: one hsum per row */
    for (int64_t i = 0; i < n / 256; i++) {
        _mm_prefetch((const char *)(w + i) + 2048, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2112, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2176, _MM_HINT_T0);
        _mm_prefetch((const char *)(w + i) + 2240, _MM_HINT_T0);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        __m256i bs = _mm256_loadu_si256((const __m256i *)x[i].bsums);
        __m256i corr = _mm256_madd_epi16(bs, sc16);
        __m256i sumi = _mm256_setzero_si256();
        const int8_t *a = x[i].qs;
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(w[i].ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(w[i].ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w[i].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            for (int k = 0; k < 4; k++) {
                int sb = 8 * h + 2 * k;
                __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(a + 128 * h + 32 * k)));
                __m256i sc = _mm256_set_m128i(_mm_set1_epi16(w[i].scales[sb + 1]), _mm_set1_epi16(w[i].scales[sb]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        __m256i v = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 5));
        accf = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(x[i].d * orx_h2f(w[i].d)), accf);
    }
    *s = hsum_ps(accf);
}

/* ============================================================================================
 * F16 / BF16 / F32
 * ========================================================================================== */
ORX_AVX2 static void dot_f16(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
#define F16L(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
        a0 = _mm256_fmadd_ps(F16L(w + i), F16L(x + i), a0);
        a1 = _mm256_fmadd_ps(F16L(w + i + 8), F16L(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(F16L(w + i + 16), F16L(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(F16L(w + i + 24), F16L(x + i + 24), a3);
    }
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += orx_h2f(w[i]) * orx_h2f(x[i]);
    *s = sum;
}

ORX_AVX2 static void gemm_f16(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                          size_t x_stride, int nt, float *y, int64_t y_stride) {
    /* 2 rows x 2 tokens register tile */
    int r = 0;
    for (; r + 2 <= nr; r += 2) {
        const uint16_t *w0 = (const void *)((const char *)w + (size_t)r * w_stride);
        const uint16_t *w1 = (const void *)((const char *)w0 + w_stride);
        int t = 0;
        for (; t + 2 <= nt; t += 2) {
            const uint16_t *x0 = (const void *)((const char *)x + (size_t)t * x_stride);
            const uint16_t *x1 = (const void *)((const char *)x0 + x_stride);
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;
            int64_t i = 0;
            for (; i + 8 <= n; i += 8) {
                __m256 vw0 = F16L(w0 + i), vw1 = F16L(w1 + i), vx0 = F16L(x0 + i), vx1 = F16L(x1 + i);
                a00 = _mm256_fmadd_ps(vw0, vx0, a00);
                a01 = _mm256_fmadd_ps(vw1, vx0, a01);
                a10 = _mm256_fmadd_ps(vw0, vx1, a10);
                a11 = _mm256_fmadd_ps(vw1, vx1, a11);
            }
            float s00 = hsum_ps(a00), s01 = hsum_ps(a01), s10 = hsum_ps(a10), s11 = hsum_ps(a11);
            for (; i < n; i++) {
                s00 += orx_h2f(w0[i]) * orx_h2f(x0[i]); s01 += orx_h2f(w1[i]) * orx_h2f(x0[i]);
                s10 += orx_h2f(w0[i]) * orx_h2f(x1[i]); s11 += orx_h2f(w1[i]) * orx_h2f(x1[i]);
            }
            y[t * y_stride + r] = s00; y[t * y_stride + r + 1] = s01;
            y[(t + 1) * y_stride + r] = s10; y[(t + 1) * y_stride + r + 1] = s11;
        }
        for (; t < nt; t++) {
            const void *xt = (const char *)x + (size_t)t * x_stride;
            dot_f16(n, &y[t * y_stride + r], w0, xt);
            dot_f16(n, &y[t * y_stride + r + 1], w1, xt);
        }
    }
    for (; r < nr; r++)
        for (int t = 0; t < nt; t++)
            dot_f16(n, &y[t * y_stride + r], (const char *)w + (size_t)r * w_stride,
                    (const char *)x + (size_t)t * x_stride);
}
#undef F16L

ORX_AVX2 static void dot_bf16(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw, *x = vx;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int64_t i = 0;
#define BF16L(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(BF16L(w + i), BF16L(x + i), a0);
        a1 = _mm256_fmadd_ps(BF16L(w + i + 8), BF16L(x + i + 8), a1);
    }
#undef BF16L
    float sum = hsum_ps(_mm256_add_ps(a0, a1));
    for (; i < n; i++) sum += orx_bf16_to_f32(w[i]) * orx_bf16_to_f32(x[i]);
    *s = sum;
}

ORX_AVX2 static void dot_f32(int64_t n, float *s, const void *vw, const void *vx) {
    const float *w = vw, *x = vx;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += w[i] * x[i];
    *s = sum;
}

/* f32 → f16 activations with F16C (same rounding as orx_f32_to_fp16) */
ORX_AVX2 static void act_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = orx_f32_to_fp16(x[i]);
}

/* ============================================================================================
 * Activation quantisers (same arithmetic as the reference: amax, d = amax/127, q = rint(x*127/amax))
 * ========================================================================================== */
ORX_AVX2 static inline float absmax8(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

#define ORX_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* 32 floats * id, rounded to nearest even, → 32 int8 */
ORX_AVX2 static inline __m256i round_pack32(const float *x, __m256 id) {
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), id), ORX_RN));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id), ORX_RN));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id), ORX_RN));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id), ORX_RN));
    __m256i w01 = _mm256_packs_epi32(i0, i1), w23 = _mm256_packs_epi32(i2, i3);
    __m256i b = _mm256_packs_epi16(w01, w23);
    /* undo the per-lane interleave of the two packs */
    return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

ORX_AVX2 static void act_q8_0(const float *x, void *vy, int64_t n) {
    orx_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = absmax8(x, 32);
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_si256((__m256i *)y[i].qs, round_pack32(x, _mm256_set1_ps(id)));
    }
}

ORX_AVX2 static void act_q8_K(const float *x, void *vy, int64_t n) {
    orx_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        float amax = absmax8(x, 256);
        memset(y[i].bsums, 0, sizeof y[i].bsums);
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, 256);
            continue;
        }
        float max = 0.0f;
        for (int j = 0; j < 256; j++)
            if (x[j] == amax || x[j] == -amax) { max = x[j]; break; } /* first, like the reference */
        float iscale = -127.0f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        for (int j = 0; j < 256; j += 32) {
            __m256i q = round_pack32(x + j, is); /* |iscale*x| <= 127: no clamp needed */
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), q);
            __m256i s16 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
            /* s16: 8 x int32, sums of 4 values; pairs of lanes form the two 16-value sums */
            int32_t v[8];
            _mm256_storeu_si256((__m256i *)v, s16);
            y[i].bsums[j / 16] = (int16_t)(v[0] + v[1] + v[2] + v[3]);
            y[i].bsums[j / 16 + 1] = (int16_t)(v[4] + v[5] + v[6] + v[7]);
        }
        y[i].d = 1.0f / iscale;
    }
}

/* ============================================================================================
 * Prompt batches: rows in lanes (the strip driver, engine/cpu/strip.c), 8 rows per 256-bit
 * register.
 *   Q4_0 / Q8_0 against Q8_0 activations: vpmaddubsw (u8 x s8 -> pairs summed in i16) against 4
 *   activation bytes broadcast to every lane, then vpmaddwd with ones, gives each row's partial
 *   sums in its lane. Q4_0: values 0..15, so the 8 groups of a block are summed in i16 without
 *   overflow (8 x 2 x 15 x 127 = 30480) and widened once; the offset 8 * sum(x) is subtracted.
 *   Q8_0: |w| x sign(w) * x (vpsignb), widened per group (2 x 127 x 127 fits i16, 8 groups do
 *   not); no offset. The block's 8 exact int32 row sums are scaled by d_w[row] * d_x, one FMA.
 *   K-quants against Q8_K: per token, super-block and sub-block k, vpmaddubsw over the
 *   sub-block's groups of 4 values, summed in i16 while that cannot overflow (Q4_K: 8 groups x 2
 *   x 15 x 128 = 30720; Q5_K: 4 x 2 x 31 x 128 = 31744; Q6_K: 2 x 2 x 63 x 128 = 32256), then
 *   vpmaddwd against the row's sub-block scale in both i16 halves: exact int32 sc_k * (row sum).
 *   Mins (Q4_K/Q5_K) and the offset 32 (Q6_K) use vpmaddwd on int16 pairs of sub-block
 *   activation sums. The float step per super-block is the scalar reference's, per row.
 * ========================================================================================== */
#define STRIP 8  /* rows per strip (lanes of a 256-bit register) */
#define Q_TOKS 8 /* Q4_0/Q8_0: tokens per pass over a strip */
#define K_TOKS 4 /* K-quants: tokens per pass over a strip */

/* 8 rows' exact int32 sums of block b against one token's activation block */
ORX_AVX2 static inline __m256i block_q4_0(const uint8_t *ab, const int8_t *xq) {
    __m256i s16 = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)ab), _mm256_set1_epi32(orx_ld32(xq + 4 * 0)));
    for (int g = 1; g < 8; g++)
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ab + 32 * g)),
                                                         _mm256_set1_epi32(orx_ld32(xq + 4 * g))));
    return _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
}

ORX_AVX2 static inline __m256i block_q8_0(const uint8_t *ab, const int8_t *sb, const int8_t *xq) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s = _mm256_setzero_si256();
    for (int g = 0; g < 8; g++) {
        __m256i xs = _mm256_sign_epi8(_mm256_set1_epi32(orx_ld32(xq + 4 * g)), _mm256_load_si256((const __m256i *)(sb + 32 * g)));
        __m256i p = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ab + 32 * g)), xs);
        s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
    }
    return s;
}

/* Q_TOKS tokens from t0 (indices past n_tok repeat the last token; not stored) */
ORX_AVX2 static void tile_q(const orx_strip_job *j, const orx_strip *st, int64_t t0, int64_t r0) {
    const uint8_t *A = st->V;
    const int8_t *S = st->S;
    const float *dw = st->d;
    const orx_block_q8_0 *x[Q_TOKS];
    const float *dx[Q_TOKS];
    const int32_t *corr[Q_TOKS];
    for (int t = 0; t < Q_TOKS; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_0 *)(j->Xq + (size_t)tt * j->x_row);
        dx[t] = j->dx + tt * j->nblk;
        corr[t] = j->corr + tt * j->nblk;
    }
    __m256 acc[Q_TOKS];
    for (int t = 0; t < Q_TOKS; t++) acc[t] = _mm256_setzero_ps();
    bool q4 = j->wtype == ORX_TYPE_Q4_0;
    for (int64_t b = 0; b < j->nblk; b++) {
        const uint8_t *ab = A + (size_t)b * 256;
        const int8_t *sb = S ? S + (size_t)b * 256 : NULL;
        __m256 dwv = _mm256_load_ps(dw + b * STRIP);
#pragma GCC unroll 8
        for (int t = 0; t < Q_TOKS; t++) {
            const int8_t *xq = x[t][b].qs;
            __m256i s = q4 ? _mm256_sub_epi32(block_q4_0(ab, xq), _mm256_set1_epi32(corr[t][b])) : block_q8_0(ab, sb, xq);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dwv, _mm256_set1_ps(dx[t][b])), acc[t]);
        }
    }
    int rmax = j->n_out - r0 < STRIP ? (int)(j->n_out - r0) : STRIP;
    for (int t = 0; t < Q_TOKS && t0 + t < j->n_tok; t++) {
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


#define LD(p) _mm256_load_si256((const __m256i *)(const void *)(p))

ORX_AVX2 static void tile_k(const orx_strip_job *j, const orx_strip *st, int64_t t0, int64_t r0) {
    const orx_block_q8_K *x[K_TOKS];
    const int32_t *bsp[K_TOKS];
    for (int t = 0; t < K_TOKS; t++) {
        int64_t tt = t0 + t < j->n_tok ? t0 + t : j->n_tok - 1;
        x[t] = (const orx_block_q8_K *)(j->Xq + (size_t)tt * j->x_row);
        bsp[t] = j->bsp + (size_t)tt * (size_t)j->nblk * 8;
    }
    const bool q4k = j->wtype != ORX_TYPE_Q6_K; /* Q4_K / Q5_K: scales and mins */
    const int nsub = j->nsub;
    __m256 acc[K_TOKS];
    for (int t = 0; t < K_TOKS; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < j->nblk; sb++) {
        const uint8_t *V = st->V + (size_t)sb * 2048;
        const int32_t *sc = st->sc + (size_t)sb * (size_t)nsub * STRIP;
        const int32_t *scp = st->scp + (size_t)sb * 8 * STRIP;
        __m256 dw = _mm256_load_ps(st->d + sb * STRIP), dmw = _mm256_load_ps(st->dmin + sb * STRIP);
        __m256i isum[K_TOKS];
        for (int t = 0; t < K_TOKS; t++) isum[t] = _mm256_setzero_si256();
        /* i16 runs of groups that cannot overflow: Q4_K 8 (a sub-block), Q5_K 4, Q6_K 2 */
        const int run = j->wtype == ORX_TYPE_Q4_K ? 8 : j->wtype == ORX_TYPE_Q5_K ? 4 : 2;
        const int nrun = 64 / run, runs_per_sub = (64 / nsub) / run;
        for (int u = 0; u < nrun; u++) {
            __m256i s16[K_TOKS];
            for (int t = 0; t < K_TOKS; t++) s16[t] = _mm256_setzero_si256();
            for (int g = 0; g < run; g++) {
                int q = u * run + g;
                __m256i v = LD(V + 32 * q);
#pragma GCC unroll 4
                for (int t = 0; t < K_TOKS; t++)
                    s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(v, _mm256_set1_epi32(((const int32_t *)(const void *)x[t][sb].qs)[q])));
            }
            __m256i sck = LD(sc + STRIP * (u / runs_per_sub));
#pragma GCC unroll 4
            for (int t = 0; t < K_TOKS; t++) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sck));
        }
        for (int t = 0; t < K_TOKS; t++) {
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
    for (int t = 0; t < K_TOKS && t0 + t < j->n_tok; t++) {
        float *y = j->Y + (size_t)(t0 + t) * (size_t)j->n_out + (size_t)r0;
        _Alignas(32) float tmp[STRIP];
        _mm256_store_ps(tmp, acc[t]);
        memcpy(y, tmp, (size_t)rmax * sizeof(float));
    }
}
#undef LD


static void mm_strip(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                     int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y) {
    static const orx_strip_spec sq = {STRIP, Q_TOKS, false, true, tile_q}, sk = {STRIP, K_TOKS, true, false, tile_k};
    bool k = wtype == ORX_TYPE_Q4_K || wtype == ORX_TYPE_Q5_K || wtype == ORX_TYPE_Q6_K;
    orx_strip_mm(pool, wtype, W, w_row, n_out, n_in, Xq, x_row, n_tok, Y, k ? &sk : &sq);
}

/* ============================================================================================
 * Fast path for AVX2 + FMA + F16C: the same items with 8-lane vectors (16 lanes = two halves)
 * ========================================================================================== */
ORX_TARGET_BEGIN("avx2,fma,f16c")

ORX_INLINE __m256 ld8(const void *base, size_t off, bool f16) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + off)));
    return _mm256_loadu_ps((const float *)base + off);
}

ORX_INLINE __m256 round_f16_8(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

/* Lanes 0..7 of l[k] + l[k+8] (the tree's first step), l = (a0+a2)+(a1+a3) as in dot64; a[2j] and
 * a[2j+1] are the low and high halves of accumulator j. n64 >= 64. */
ORX_INLINE __m256 dot64_8(const float *q, const void *k, size_t ko, int n64, bool f16) {
    const __m256 z = _mm256_setzero_ps();
    __m256 a[8];
    for (int e = 0; e < 8; e++) a[e] = _mm256_fmadd_ps(ld8(k, ko + 8 * e, f16), _mm256_loadu_ps(q + 8 * e), z);
    for (int i = 64; i < n64; i += 64)
        for (int e = 0; e < 8; e++)
            a[e] = _mm256_fmadd_ps(ld8(k, ko + i + 8 * e, f16), _mm256_loadu_ps(q + i + 8 * e), a[e]);
    __m256 lo = _mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6]));
    __m256 hi = _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7]));
    return _mm256_add_ps(lo, hi);
}

/* The tree's steps w = 4, 2, 1 of 8 dots at once; after them lane 4L+m holds dot 2m+L. */
ORX_INLINE __m256 bf4_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
}
ORX_INLINE __m256 bf2_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
}
ORX_INLINE __m256 bf1_8(__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

ORX_INLINE __m256i lanes_below(int n) { /* mask of lanes 0..n-1 */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* As scores(), 8 dots at a time. */
ORX_STAGE void scores8(const float *q, const void *K, size_t stride, int np, int G, int hd, bool f16, float scale,
                       float *sc) {
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int total = np * G, n64 = hd & ~63, p = 0, h = 0;
    for (int n0 = 0; n0 < total; n0 += 8) {
        int cnt = total - n0 < 8 ? total - n0 : 8;
        const float *qs[8];
        size_t ko[8];
        for (int i = 0, pp = p, hh = h; i < 8; i++) { /* past the end: repeat the last dot */
            qs[i] = q + (size_t)hh * hd;
            ko[i] = (size_t)pp * stride;
            if (i + 1 < cnt && ++hh == G) hh = 0, pp++;
        }
        for (int i = 0; i < 8; i++)
            if (++h == G) h = 0, p++;
        __m256 r = _mm256_setzero_ps();
        if (n64) {
            __m256 d0 = bf4_8(dot64_8(qs[0], K, ko[0], n64, f16), dot64_8(qs[1], K, ko[1], n64, f16));
            __m256 d1 = bf4_8(dot64_8(qs[2], K, ko[2], n64, f16), dot64_8(qs[3], K, ko[3], n64, f16));
            __m256 e0 = bf2_8(d0, d1);
            __m256 d2 = bf4_8(dot64_8(qs[4], K, ko[4], n64, f16), dot64_8(qs[5], K, ko[5], n64, f16));
            __m256 d3 = bf4_8(dot64_8(qs[6], K, ko[6], n64, f16), dot64_8(qs[7], K, ko[7], n64, f16));
            r = _mm256_permutevar8x32_ps(bf1_8(e0, bf2_8(d2, d3)), perm);
        }
        if (n64 < hd) { /* sequential tails, as in scores() */
            float tmp[8];
            _mm256_storeu_ps(tmp, r);
            for (int i = 0; i < cnt; i++) {
                const float *qi = qs[i];
                if (f16) {
                    const uint16_t *ki = (const uint16_t *)K + ko[i];
                    double s = n64 ? (double)tmp[i] : 0.0;
                    for (int e = n64; e < hd; e++) s += (double)(_cvtsh_ss(ki[e]) * qi[e]);
                    tmp[i] = (float)s;
                } else {
                    const float *ki = (const float *)K + ko[i];
                    float s = tmp[i];
                    for (int e = n64; e < hd; e++) s = fmaf(ki[e], qi[e], s);
                    tmp[i] = s;
                }
            }
            r = _mm256_loadu_ps(tmp);
        }
        _mm256_maskstore_ps(sc + n0, lanes_below(cnt), _mm256_mul_ps(r, _mm256_set1_ps(scale)));
    }
}

/* As softmax(): lanes hold head l % G when G divides 8, else per-head loops. */
ORX_STAGE void softmax8(float *sc, int np, int G, float *st) {
    size_t total = (size_t)np * G, n;
    float *mx = st, *inv = st + G;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    if (8 % G == 0) {
        __m256 m = ninf;
        for (n = 0; n + 8 <= total; n += 8) m = _mm256_max_ps(_mm256_loadu_ps(sc + n), m);
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            m = _mm256_max_ps(_mm256_blendv_ps(ninf, _mm256_maskload_ps(sc + n, k), _mm256_castsi256_ps(k)), m);
        }
        for (int w = 4; w >= G; w /= 2)
            m = _mm256_max_ps(m, _mm256_permutevar8x32_ps(m, _mm256_xor_si256(iota, _mm256_set1_epi32(w))));
        for (n = 0; n + 8 <= total; n += 8) _mm256_storeu_ps(sc + n, _mm256_sub_ps(_mm256_loadu_ps(sc + n), m));
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            _mm256_maskstore_ps(sc + n, k, _mm256_sub_ps(_mm256_maskload_ps(sc + n, k), m));
        }
    } else {
        for (int h = 0; h < G; h++) {
            float m = -INFINITY;
            for (int p = 0; p < np; p++)
                if (sc[(size_t)p * G + h] > m) m = sc[(size_t)p * G + h];
            mx[h] = m;
        }
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] -= mx[h];
    }
    orx_exp_array(sc, total);
    for (int h0 = 0; h0 < G; h0 += 4) { /* sequential double sums, 4 heads side by side */
        int hn = G - h0 < 4 ? G - h0 : 4;
        __m128i k = _mm256_castsi256_si128(lanes_below(hn));
        __m256d s = _mm256_setzero_pd();
        for (int p = 0; p < np; p++) s = _mm256_add_pd(s, _mm256_cvtps_pd(_mm_maskload_ps(sc + (size_t)p * G + h0, k)));
        _mm_maskstore_ps(inv + h0, k, _mm256_cvtpd_ps(_mm256_div_pd(_mm256_set1_pd(1.0), s)));
    }
    if (8 % G == 0) {
        __m256 iv = _mm256_permutevar8x32_ps(_mm256_maskload_ps(inv, lanes_below(G)),
                                             _mm256_and_si256(iota, _mm256_set1_epi32(G - 1)));
        for (n = 0; n + 8 <= total; n += 8) _mm256_storeu_ps(sc + n, _mm256_mul_ps(_mm256_loadu_ps(sc + n), iv));
        if (n < total) {
            __m256i k = lanes_below((int)(total - n));
            _mm256_maskstore_ps(sc + n, k, _mm256_mul_ps(_mm256_maskload_ps(sc + n, k), iv));
        }
    } else {
        for (int p = 0; p < np; p++)
            for (int h = 0; h < G; h++) sc[(size_t)p * G + h] *= inv[h];
    }
}

/* As wv_tile(): heads h0..h0+HN-1, the 16 values at i0*16. */
ORX_INLINE void wv_tile8(const float *sc, const float *V, size_t stride, int np, int G, int hd, int j, int h0, int i0,
                         int HN, float *part) {
    __m256 acc[4][2];
    for (int a = 0; a < HN; a++) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
    for (int p = j; p < np; p += 16) {
        const float *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        __m256 v0 = _mm256_loadu_ps(vr), v1 = _mm256_loadu_ps(vr + 8);
        for (int a = 0; a < HN; a++) {
            __m256 wb = _mm256_broadcast_ss(sc + (size_t)p * G + h0 + a);
            acc[a][0] = _mm256_fmadd_ps(v0, wb, acc[a][0]);
            acc[a][1] = _mm256_fmadd_ps(v1, wb, acc[a][1]);
        }
    }
    for (int a = 0; a < HN; a++) {
        float *o = part + ((size_t)j * G + h0 + a) * hd + (size_t)i0 * 16;
        _mm256_storeu_ps(o, acc[a][0]);
        _mm256_storeu_ps(o + 8, acc[a][1]);
    }
}

ORX_STAGE void weights_v8(const float *sc, const float *V, size_t stride, int np, int G, int hd, float *part,
                          float *out) {
    for (int j = 0; j < 16; j++)
        for (int h0 = 0; h0 < G;) {
            int hn = G - h0 >= 4 ? 4 : 1;
            for (int i0 = 0; i0 < hd / 16; i0++) {
                if (hn == 4) wv_tile8(sc, V, stride, np, G, hd, j, h0, i0, 4, part);
                else wv_tile8(sc, V, stride, np, G, hd, j, h0, i0, 1, part);
            }
            h0 += hn;
        }
    size_t gs = (size_t)G * hd;
    for (int w = 8; w >= 2; w /= 2)
        for (int k = 0; k < w; k++)
            for (size_t e = 0; e < gs; e += 8)
                _mm256_storeu_ps(part + k * gs + e, _mm256_add_ps(_mm256_loadu_ps(part + k * gs + e),
                                                                  _mm256_loadu_ps(part + (k + w) * gs + e)));
    for (size_t e = 0; e < gs; e += 8)
        _mm256_storeu_ps(out + e, _mm256_add_ps(_mm256_loadu_ps(part + e), _mm256_loadu_ps(part + gs + e)));
}

/* As flash_tile(): heads h0..h0+HN-1, the 16 values at i0*16. */
ORX_INLINE void flash_tile8(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G, int hd,
                            int h0, int i0, int HN, const float *S, float *out) {
    __m256 acc[4][2];
    for (int a = 0; a < HN; a++) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
    for (int p = 0; p < np; p++) {
        const uint16_t *vr = V + (size_t)p * stride + (size_t)i0 * 16;
        __m256 v0 = ld8(vr, 0, true), v1 = ld8(vr, 8, true);
        for (int a = 0; a < HN; a++) {
            size_t n = (size_t)p * G + h0 + a;
            if (ms[n] != 1.0f) {
                __m256 mb = _mm256_set1_ps(ms[n]);
                acc[a][0] = round_f16_8(_mm256_mul_ps(acc[a][0], mb));
                acc[a][1] = round_f16_8(_mm256_mul_ps(acc[a][1], mb));
            }
            __m256 wb = _mm256_set1_ps(vs[n]);
            acc[a][0] = round_f16_8(_mm256_fmadd_ps(v0, wb, acc[a][0]));
            acc[a][1] = round_f16_8(_mm256_fmadd_ps(v1, wb, acc[a][1]));
        }
    }
    for (int a = 0; a < HN; a++) {
        float s = S[h0 + a], inv = s == 0.0f ? 0.0f : 1.0f / s;
        float *o = out + (size_t)(h0 + a) * hd + (size_t)i0 * 16;
        _mm256_storeu_ps(o, _mm256_mul_ps(acc[a][0], _mm256_set1_ps(inv)));
        _mm256_storeu_ps(o + 8, _mm256_mul_ps(acc[a][1], _mm256_set1_ps(inv)));
    }
}

ORX_STAGE void flash_v8(const float *vs, const float *ms, const uint16_t *V, size_t stride, int np, int G, int hd,
                        const float *S, float *out) {
    for (int h0 = 0; h0 < G;) {
        int hn = G - h0 >= 4 ? 4 : 1;
        for (int i0 = 0; i0 < hd / 16; i0++) {
            if (hn == 4) flash_tile8(vs, ms, V, stride, np, G, hd, h0, i0, 4, S, out);
            else flash_tile8(vs, ms, V, stride, np, G, hd, h0, i0, 1, S, out);
        }
        h0 += hn;
    }
}

__attribute__((target("avx2,fma,f16c"))) void orx_attn_item_avx2(const orx_attn_job *j, orx_attn_buf *b, int t, int g,
                                                              int h0, int G) {
    int hd = j->head_dim;
    item_span sp = span_of(j, t, g, G);
    size_t off = ((size_t)t * j->n_head + (size_t)h0) * hd;
    const float *q = j->q + off;
    float *out = j->out + off;
    if (j->f16) {
        for (size_t e = 0; e < (size_t)G * hd; e += 8) _mm256_storeu_ps(b->qr + e, round_f16_8(_mm256_loadu_ps(q + e)));
        scores8(b->qr, (const uint16_t *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, true, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        flash_factors(b->sc, b->aux, sp.np, G, b->st);
        flash_v8(b->sc, b->aux, (const uint16_t *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->st + G, out);
    } else {
        scores8(q, (const float *)j->k + sp.koff, j->kv_stride, sp.np, G, hd, false, score_scale(j), b->sc);
        shape_scores(j, b->sc, (size_t)sp.np * G);
        mask_scores(b->sc, sp.n_masked, G);
        softmax8(b->sc, sp.np, G, b->st);
        weights_v8(b->sc, (const float *)j->v + sp.koff, j->kv_stride, sp.np, G, hd, b->part, out);
    }
}
ORX_TARGET_END

/* ============================================================================================
 * Table
 * ========================================================================================== */
orx_kernel orx_kernels_avx2(uint32_t type) {
    orx_kernel k = orx_kernel_ref(type);
    k.isa = "avx2";
    switch (type) {
    case ORX_TYPE_F32: k.vec_dot = dot_f32; break;
    case ORX_TYPE_F16: k.vec_dot = dot_f16; k.gemm = gemm_f16; k.tile_rows = 4; k.tile_toks = 4; k.from_float = act_f16; break;
    case ORX_TYPE_BF16: k.vec_dot = dot_bf16; break;
    case ORX_TYPE_Q4_0: k.vec_dot = dot_q4_0; k.gemm = gemm_q4_0; k.tile_rows = 4; k.tile_toks = MAXT; k.from_float = act_q8_0;
        k.mm = mm_strip; k.mm_min_tok = 4; k.gemv = gemv_q4_0; k.gemv_prep = gemv_prep_q4_0; break;
    case ORX_TYPE_Q8_0: k.vec_dot = dot_q8_0; k.gemm = gemm_q8_0; k.tile_rows = 4; k.tile_toks = MAXT; k.from_float = act_q8_0;
        k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q4_K: k.vec_dot = dot_q4_K; k.gemm = gemm_q4_K; k.tile_rows = 1; k.tile_toks = MAXT; k.from_float = act_q8_K;
        k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q5_K: k.vec_dot = dot_q5_K; k.gemm = gemm_q5_K; k.tile_rows = 1; k.tile_toks = MAXT; k.from_float = act_q8_K;
        k.mm = mm_strip; k.mm_min_tok = 4; break;
    case ORX_TYPE_Q6_K: k.vec_dot = dot_q6_K; k.gemm = gemm_q6_K; k.tile_rows = 1; k.tile_toks = MAXT; k.from_float = act_q8_K;
        k.mm = mm_strip; k.mm_min_tok = 4; break;
    default: k.vec_dot = NULL; break; /* Q4_1/Q5_0/Q5_1: the reference via orx_kernel_best */
    }
    return k;
}

#else /* not x86-64 */
orx_kernel orx_kernels_avx2(uint32_t type) {
    orx_kernel k = {0, 0, 1, 1, 0, "avx2", 0, 0, 0, 0, 0};
    (void)type;
    return k;
}
#endif
