/*
 * vexp.h — e^x in float, scalar and over arrays (AVX-512 / AVX2 where the CPU has them), with the
 * same operations in every version so that all give bit-identical results (attention's fast paths
 * are checked against its reference with memcmp). Used for softmax weights and SiLU.
 *
 * Method (textbook): n = round(x / ln 2), r = x - n ln 2 in two fused steps (ln 2 split into a
 * short high part and a low part), e^r by its Taylor polynomial to degree 7 in Horner form with
 * fused multiply-adds (|r| <= ln2/2: truncation error < 5e-9 relative), times 2^n built in the
 * exponent bits. Within 2 ulp of libm's expf over the range (tests/test_vexp.c measures it).
 * x < -87.33 (below FLT_MIN, including -inf) gives 0; x > 88.37 gives +inf (libm overflows at
 * 88.72); NaN stays NaN.
 */
#ifndef ORX_ENGINE_VEXP_H
#define ORX_ENGINE_VEXP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ORX_EXP_LO   (-87.33f)        /* below: e^x < FLT_MIN, result 0 */
#define ORX_EXP_HI   (88.37f)         /* above: +inf (2^n must stay a normal float: n <= 127) */
#define ORX_EXP_L2E  1.44269504f      /* 1 / ln 2 */
#define ORX_EXP_LN2H 0.693145752f     /* ln 2, high part (few mantissa bits: n * LN2H is exact) */
#define ORX_EXP_LN2L 1.42860677e-06f  /* ln 2 - LN2H */
/* 1/k!, k = 7 .. 2 */
#define ORX_EXP_C7 1.98412698e-04f
#define ORX_EXP_C6 1.38888889e-03f
#define ORX_EXP_C5 8.33333333e-03f
#define ORX_EXP_C4 4.16666667e-02f
#define ORX_EXP_C3 1.66666667e-01f
#define ORX_EXP_C2 0.5f

static inline float orx_exp_f32(float x) {
    if (!(x >= ORX_EXP_LO)) return x != x ? x : 0.0f; /* NaN stays, small (incl. -inf) -> 0 */
    if (x > ORX_EXP_HI) return INFINITY;
    float n = rintf(x * ORX_EXP_L2E);
    float r = fmaf(n, -ORX_EXP_LN2H, x);
    r = fmaf(n, -ORX_EXP_LN2L, r);
    float p = ORX_EXP_C7;
    p = fmaf(p, r, ORX_EXP_C6);
    p = fmaf(p, r, ORX_EXP_C5);
    p = fmaf(p, r, ORX_EXP_C4);
    p = fmaf(p, r, ORX_EXP_C3);
    p = fmaf(p, r, ORX_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] here */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* v[i] = orx_exp_f32(v[i]) for i < n, vectorised where the CPU allows (vexp.c). */
void orx_exp_array(float *v, size_t n);

#endif
