/* vexp.c — orx_exp_array: vexp.h's e^x over an array, 16 or 8 lanes at a time with the scalar
 * version's operations (bit-identical), the scalar version for the rest. */
#include "engine/cpu/vexp.h"
#include "engine/cpu/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* The polynomial's coefficients after C7, highest first (the Horner steps of orx_exp_f32) */
static const float kPoly[7] = {ORX_EXP_C6, ORX_EXP_C5, ORX_EXP_C4, ORX_EXP_C3, ORX_EXP_C2, 1.0f, 1.0f};

__attribute__((target("avx512f,fma"))) static void exp16(float *v, size_t n) {
    const __m512 lo = _mm512_set1_ps(ORX_EXP_LO), hi = _mm512_set1_ps(ORX_EXP_HI);
    for (size_t i = 0; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(v + i);
        __mmask16 small = _mm512_cmp_ps_mask(x, lo, _CMP_NGE_UQ); /* x < lo or NaN */
        __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        __mmask16 big = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
        __m512 xc = _mm512_mask_blend_ps(small | big, x, _mm512_setzero_ps());
        __m512 nf = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(ORX_EXP_L2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fmadd_ps(nf, _mm512_set1_ps(-ORX_EXP_LN2H), xc);
        r = _mm512_fmadd_ps(nf, _mm512_set1_ps(-ORX_EXP_LN2L), r);
        __m512 p = _mm512_set1_ps(ORX_EXP_C7);
        for (int k = 0; k < 7; k++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kPoly[k]));
        __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(nf), _mm512_set1_epi32(127)), 23);
        __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
        y = _mm512_mask_blend_ps(small, y, _mm512_setzero_ps());
        y = _mm512_mask_blend_ps(big, y, _mm512_set1_ps(INFINITY));
        y = _mm512_mask_blend_ps(nan, y, x);
        _mm512_storeu_ps(v + i, y);
    }
}

__attribute__((target("avx2,fma"))) static void exp8(float *v, size_t n) {
    const __m256 lo = _mm256_set1_ps(ORX_EXP_LO), hi = _mm256_set1_ps(ORX_EXP_HI);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(v + i);
        __m256 small = _mm256_cmp_ps(x, lo, _CMP_NGE_UQ);
        __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
        __m256 big = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
        __m256 xc = _mm256_blendv_ps(x, _mm256_setzero_ps(), _mm256_or_ps(small, big));
        __m256 nf = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(ORX_EXP_L2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 r = _mm256_fmadd_ps(nf, _mm256_set1_ps(-ORX_EXP_LN2H), xc);
        r = _mm256_fmadd_ps(nf, _mm256_set1_ps(-ORX_EXP_LN2L), r);
        __m256 p = _mm256_set1_ps(ORX_EXP_C7);
        for (int k = 0; k < 7; k++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kPoly[k]));
        __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nf), _mm256_set1_epi32(127)), 23);
        __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
        y = _mm256_blendv_ps(y, _mm256_setzero_ps(), small);
        y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), big);
        y = _mm256_blendv_ps(y, x, nan);
        _mm256_storeu_ps(v + i, y);
    }
}
#endif

void orx_exp_array(float *v, size_t n) {
    size_t done = 0;
#if defined(__x86_64__)
    const orx_cpu_features *cf = orx_cpu_get();
    if (cf->avx512f) {
        exp16(v, n);
        done = n & ~(size_t)15;
    } else if (cf->avx2 && cf->fma) {
        exp8(v, n);
        done = n & ~(size_t)7;
    }
#endif
    for (size_t i = done; i < n; i++) v[i] = orx_exp_f32(v[i]);
}
