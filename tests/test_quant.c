/*
 * test_quant.c — tensor types: f16/bf16 conversion, hand-computed blocks, round trips with
 * per-type error bounds, scalar dot products against dequantise-then-f32, matmul shapes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 16);
}
static float rnd_unit(void) { return ((float)(rnd_u32() & 0xFFFFFF) + 0.5f) / 16777216.0f; }
static float rnd_normal(void) {
    float u = rnd_unit(), v = rnd_unit();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}
static void fill_normal(float *x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = rnd_normal() * scale;
}

static const uint32_t k_types[] = {ORX_TYPE_F32, ORX_TYPE_F16, ORX_TYPE_BF16, ORX_TYPE_Q4_0,
                                   ORX_TYPE_Q4_1, ORX_TYPE_Q5_0, ORX_TYPE_Q5_1, ORX_TYPE_Q8_0,
                                   ORX_TYPE_Q4_K, ORX_TYPE_Q5_K, ORX_TYPE_Q6_K};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

/* ============================================================================================
 * Type table
 * ========================================================================================== */
static void test_type_table(void **state) {
    (void)state;
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q4_0), 18);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q4_1), 20);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q5_0), 22);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q5_1), 24);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q8_0), 34);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q8_1), 36);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q4_K), 144);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q5_K), 176);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q6_K), 210);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q8_K), 292);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q2_K), 84);
    assert_int_equal(orx_type_block_bytes(ORX_TYPE_Q3_K), 110);
    assert_int_equal(orx_type_row_bytes(ORX_TYPE_Q4_K, 2048), 8 * 144);
    assert_int_equal(orx_type_row_bytes(ORX_TYPE_F16, 10), 20);
    assert_int_equal(orx_type_block_values(ORX_TYPE_Q6_K), 256);
    assert_string_equal(orx_type_name(ORX_TYPE_Q5_K), "Q5_K");
    assert_string_equal(orx_type_name(ORX_TYPE_BF16), "BF16");
    assert_string_equal(orx_type_name(4), "?");
    assert_string_equal(orx_type_name(1000), "?");
    assert_false(orx_type_supported(ORX_TYPE_Q2_K));
    assert_false(orx_type_supported(77));
    for (size_t i = 0; i < N_TYPES; i++) assert_true(orx_type_supported(k_types[i]));
    assert_int_equal(orx_type_dot_type(ORX_TYPE_Q4_0), ORX_TYPE_Q8_0);
    assert_int_equal(orx_type_dot_type(ORX_TYPE_Q4_1), ORX_TYPE_Q8_1);
    assert_int_equal(orx_type_dot_type(ORX_TYPE_Q5_1), ORX_TYPE_Q8_1);
    assert_int_equal(orx_type_dot_type(ORX_TYPE_Q6_K), ORX_TYPE_Q8_K);
}

/* ============================================================================================
 * f16 / bf16
 * ========================================================================================== */
static void test_fp16_known(void **state) {
    (void)state;
    assert_int_equal(orx_f32_to_fp16(1.0f), 0x3C00);
    assert_int_equal(orx_f32_to_fp16(-2.0f), 0xC000);
    assert_int_equal(orx_f32_to_fp16(0.0f), 0x0000);
    assert_int_equal(orx_f32_to_fp16(-0.0f), 0x8000);
    assert_int_equal(orx_f32_to_fp16(65504.0f), 0x7BFF);
    assert_int_equal(orx_f32_to_fp16(65519.0f), 0x7BFF);  /* below the halfway point */
    assert_int_equal(orx_f32_to_fp16(65520.0f), 0x7C00);  /* halfway to 2^16 → inf */
    assert_int_equal(orx_f32_to_fp16(1e9f), 0x7C00);
    assert_int_equal(orx_f32_to_fp16(ldexpf(1.0f, -24)), 0x0001);
    assert_int_equal(orx_f32_to_fp16(ldexpf(1.0f, -25)), 0x0000);   /* tie → even (0) */
    assert_int_equal(orx_f32_to_fp16(ldexpf(3.0f, -25)), 0x0002);   /* 1.5 units → even 2 */
    assert_int_equal(orx_f32_to_fp16(ldexpf(1.0f, -14)), 0x0400);   /* smallest normal */
    assert_int_equal(orx_f32_to_fp16(1.0f + ldexpf(1.0f, -11)), 0x3C00); /* tie → even */
    assert_int_equal(orx_f32_to_fp16(1.0f + ldexpf(3.0f, -11)), 0x3C02); /* tie → even (up) */
    assert_int_equal(orx_f32_to_fp16(INFINITY), 0x7C00);
    assert_true((orx_f32_to_fp16(NAN) & 0x7C00) == 0x7C00 && (orx_f32_to_fp16(NAN) & 0x3FF));
    assert_true(orx_fp16_to_f32(0x3555) > 0.3332f && orx_fp16_to_f32(0x3555) < 0.3334f);
    assert_true(orx_fp16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(isinf(orx_fp16_to_f32(0xFC00)) && orx_fp16_to_f32(0xFC00) < 0);
    /* every finite half converts to f32 and back to itself */
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue; /* nan */
        assert_int_equal(orx_f32_to_fp16(orx_fp16_to_f32((uint16_t)h)), h);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f16(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
#endif

static void test_fp16_vs_hardware(void **state) {
    (void)state;
#if defined(__x86_64__)
    if (!orx_cpu_get()->f16c) { print_message("SKIPPED: no F16C on this CPU\n"); skip(); }
    for (int i = 0; i < 200000; i++) {
        uint32_t u = rnd_u32() ^ (rnd_u32() << 16);
        float f; memcpy(&f, &u, 4);
        if (isnan(f)) continue;
        uint16_t a = orx_f32_to_fp16(f), b = hw_f16(f);
        if (a != b) fail_msg("f32 0x%08x: ours 0x%04x, F16C 0x%04x", u, a, b);
    }
    for (int i = 0; i < 100000; i++) { /* values in the half range, incl. subnormals */
        float f = rnd_normal() * ldexpf(1.0f, (int)(rnd_u32() % 44) - 28);
        assert_int_equal(orx_f32_to_fp16(f), hw_f16(f));
    }
#else
    print_message("SKIPPED: not x86-64\n");
    skip();
#endif
}

static void test_bf16(void **state) {
    (void)state;
    assert_int_equal(orx_f32_to_bf16(1.0f), 0x3F80);
    assert_int_equal(orx_f32_to_bf16(-2.0f), 0xC000);
    /* 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125 → even (1.0) */
    assert_int_equal(orx_f32_to_bf16(1.0f + ldexpf(1.0f, -8)), 0x3F80);
    assert_int_equal(orx_f32_to_bf16(1.0f + ldexpf(3.0f, -8)), 0x3F82);
    assert_true(orx_bf16_to_f32(0x3FC0) == 1.5f);
    assert_true(isnan(orx_bf16_to_f32(orx_f32_to_bf16(NAN))));
}

/* ============================================================================================
 * Hand-computed blocks
 * ========================================================================================== */
static void test_known_q4_0_q8_0(void **state) {
    (void)state;
    orx_block_q4_0 b;
    b.d = 0x4000; /* 2.0 */
    for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
    float y[32];
    orx_dequantize_row(ORX_TYPE_Q4_0, &b, y, 32);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == 2.0f * (float)(j - 8));
        assert_true(y[j + 16] == 2.0f * (float)(7 - j));
    }
    /* quantising integers -8..7 (absmax at -8) gives d = 1 and exact values */
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)((j % 16) - 8);
    orx_quantize_row(ORX_TYPE_Q4_0, x, &b, 32);
    assert_int_equal(b.d, 0x3C00);
    orx_dequantize_row(ORX_TYPE_Q4_0, &b, y, 32);
    for (int j = 0; j < 32; j++) assert_true(y[j] == x[j]);

    orx_block_q8_0 q;
    q.d = 0x3800; /* 0.5 */
    for (int j = 0; j < 32; j++) q.qs[j] = (int8_t)(j - 16);
    orx_dequantize_row(ORX_TYPE_Q8_0, &q, y, 32);
    for (int j = 0; j < 32; j++) assert_true(y[j] == 0.5f * (float)(j - 16));
}

static void test_known_q5(void **state) {
    (void)state;
    orx_block_q5_0 b;
    b.d = 0x3C00;
    memset(b.qs, 0, 16);
    uint32_t qh = (1u << 3) | (1u << 20); /* 5th bit of value 3 and of value 16+4 */
    memcpy(b.qh, &qh, 4);
    b.qs[3] = 0x05;  /* value 3 = 0x15 = 21 → 5 */
    b.qs[4] = 0x70;  /* value 20 = 0x17 = 23 → 7; value 4 = 0 → -16 */
    float y[32];
    orx_dequantize_row(ORX_TYPE_Q5_0, &b, y, 32);
    assert_true(y[3] == 5.0f);
    assert_true(y[20] == 7.0f);
    assert_true(y[4] == -16.0f);
    assert_true(y[0] == -16.0f);

    orx_block_q5_1 c;
    c.d = 0x3C00; c.m = 0xBC00; /* d = 1, m = -1 */
    memset(c.qs, 0xFF, 16);
    memset(c.qh, 0xFF, 4);
    orx_dequantize_row(ORX_TYPE_Q5_1, &c, y, 32);
    for (int j = 0; j < 32; j++) assert_true(y[j] == 30.0f);
}

static void test_known_q4_K(void **state) {
    (void)state;
    orx_block_q4_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3C00;    /* 1 */
    b.dmin = 0x3800; /* 0.5 */
    /* sub-block 1: scale 3, min 2 (low layout); sub-block 5: scale 0x25 = 37, min 0x13 = 19 */
    b.scales[1] = 3; b.scales[5] = 2;
    b.scales[9] = (uint8_t)((0x25 & 0xF) | ((0x13 & 0xF) << 4));
    b.scales[1] |= (uint8_t)((0x25 >> 4) << 6);  /* high bits of scale 5 live in byte 1 */
    b.scales[5] |= (uint8_t)((0x13 >> 4) << 6);  /* high bits of min 5 live in byte 5 */
    uint8_t sc, m;
    orx_get_scale_min_k4(1, b.scales, &sc, &m);
    assert_int_equal(sc, 3); assert_int_equal(m, 2);
    orx_get_scale_min_k4(5, b.scales, &sc, &m);
    assert_int_equal(sc, 0x25); assert_int_equal(m, 0x13);
    /* sub-block 1 = high nibbles of qs[0..31]; sub-block 5 = high nibbles of qs[64..95] */
    b.qs[7] = 0xA0;  /* value 32+7: 10 */
    b.qs[70] = 0x40; /* value 160+6: 4 */
    float y[256];
    orx_dequantize_row(ORX_TYPE_Q4_K, &b, y, 256);
    assert_true(y[39] == 3.0f * 10 - 0.5f * 2);
    assert_true(y[38] == -1.0f);
    assert_true(y[166] == 37.0f * 4 - 0.5f * 19);
    assert_true(y[0] == 0.0f);
}

static void test_known_q6_K(void **state) {
    (void)state;
    orx_block_q6_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3800; /* 0.5 */
    for (int j = 0; j < 16; j++) b.scales[j] = (int8_t)(j - 8);
    /* value 200 = half 1, r 72 → quarter 2, l 8: low = high nibble of ql[64+8], hi = bits 4..5 of qh[32+8] */
    b.ql[72] = 0x70;        /* low 4 bits 7 */
    b.qh[40] = 0x30;        /* high bits 3 → q = 7 | 48 = 55 → 23 */
    float y[256];
    orx_dequantize_row(ORX_TYPE_Q6_K, &b, y, 256);
    assert_true(y[200] == 0.5f * (float)(200 / 16 - 8) * 23.0f);
    assert_true(y[0] == 0.5f * -8.0f * -32.0f);
    /* quantise a block and check every dequantised value is within half a step of the input */
    float x[256];
    fill_normal(x, 256, 1.0f);
    orx_quantize_row(ORX_TYPE_Q6_K, x, &b, 256);
    orx_dequantize_row(ORX_TYPE_Q6_K, &b, y, 256);
    float d = orx_fp16_to_f32(b.d);
    for (int k = 0; k < 256; k++) {
        float step = fabsf(d * b.scales[k / 16]);
        assert_true(fabsf(y[k] - x[k]) <= 0.5f * step * 1.0001f + 1e-6f || fabsf(x[k]) > 31.0f * step);
    }
}

/* ============================================================================================
 * Round trips
 * ========================================================================================== */
static double rt_bound(uint32_t t) {
    switch (t) {
    case ORX_TYPE_F32: return 0.0;
    case ORX_TYPE_F16: return 5e-4;
    case ORX_TYPE_BF16: return 4e-3;
    case ORX_TYPE_Q8_0: return 0.01;
    case ORX_TYPE_Q6_K: return 0.035;
    case ORX_TYPE_Q5_0: return 0.06;
    case ORX_TYPE_Q5_1: return 0.05;
    case ORX_TYPE_Q5_K: return 0.06;
    case ORX_TYPE_Q4_0: return 0.12;
    case ORX_TYPE_Q4_1: return 0.10;
    case ORX_TYPE_Q4_K: return 0.12;
    default: return 0.0;
    }
}

static void test_round_trip(void **state) {
    (void)state;
    const int64_t n = 4096;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    void *q = malloc(orx_type_row_bytes(ORX_TYPE_F32, n));
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        uint32_t t = k_types[ti];
        for (int trial = 0; trial < 3; trial++) {
            float scale = trial == 0 ? 1.0f : trial == 1 ? 0.02f : 300.0f;
            fill_normal(x, n, scale);
            if (trial == 2) for (int i = 0; i < 64; i++) x[i] = 0.0f; /* an all-zero block */
            orx_quantize_row(t, x, q, n);
            orx_dequantize_row(t, q, y, n);
            double se = 0, sx = 0;
            for (int64_t i = 0; i < n; i++) {
                assert_false(isnan(y[i]));
                se += (double)(y[i] - x[i]) * (y[i] - x[i]);
                sx += (double)x[i] * x[i];
            }
            double rel = sqrt(se / sx);
            if (rel > rt_bound(t))
                fail_msg("%s scale %g: relative rms error %.4g > %.4g", orx_type_name(t), scale, rel,
                         rt_bound(t));
            if (trial == 0) print_message("round trip %-5s rel rms err %.5f (bound %.3f)\n",
                                          orx_type_name(t), rel, rt_bound(t));
            if (trial == 2 && t != ORX_TYPE_F32)
                for (int i = 0; i < 32; i++) assert_true(y[i] == 0.0f);
        }
    }
    free(x); free(y); free(q);
}

/* ============================================================================================
 * Dot products: integer path vs dequantise-then-f32
 * ========================================================================================== */
/* y_ref[t][o] = sum_i deq(W)[o][i] * deq(act(X))[t][i] (double) and the same with X unquantised */
static void reference(uint32_t t, const void *W, int64_t n_out, int64_t n_in, const float *X,
                      int64_t n_tok, double *yq, double *yx, double *mag) {
    float *wr = malloc(n_in * sizeof *wr), *xr = malloc(n_in * sizeof *xr);
    uint32_t dt = orx_type_dot_type(t);
    void *xq = malloc(orx_type_row_bytes(ORX_TYPE_F32, n_in) + 512);
    size_t wrow = orx_type_row_bytes(t, n_in);
    for (int64_t k = 0; k < n_tok; k++) {
        const float *x = X + k * n_in;
        if (t == ORX_TYPE_F32) memcpy(xr, x, n_in * sizeof *xr);
        else {
            if (dt == ORX_TYPE_Q8_0) orx_quantize_q8_0_act(x, xq, n_in);
            else if (dt == ORX_TYPE_Q8_1) orx_quantize_q8_1_act(x, xq, n_in);
            else if (dt == ORX_TYPE_Q8_K) orx_quantize_q8_K_act(x, xq, n_in);
            else orx_quantize_row(dt, x, xq, n_in);
            orx_dequantize_row(dt, xq, xr, n_in);
        }
        for (int64_t o = 0; o < n_out; o++) {
            orx_dequantize_row(t, (const char *)W + o * wrow, wr, n_in);
            double a = 0, b = 0, m = 0;
            for (int64_t i = 0; i < n_in; i++) {
                a += (double)wr[i] * xr[i];
                b += (double)wr[i] * x[i];
                m += fabs((double)wr[i] * x[i]);
            }
            yq[k * n_out + o] = a; yx[k * n_out + o] = b; mag[k * n_out + o] = m;
        }
    }
    free(wr); free(xr); free(xq);
}

static void check_matmul_type(uint32_t t, int64_t n_out, int64_t n_in, int64_t n_tok,
                              orx_threadpool *pool) {
    size_t wrow = orx_type_row_bytes(t, n_in);
    float *wf = malloc(n_out * n_in * sizeof *wf), *X = malloc(n_tok * n_in * sizeof *X);
    void *W = malloc(wrow * n_out);
    float *Y = malloc(n_tok * n_out * sizeof *Y), *Y1 = malloc(n_tok * n_out * sizeof *Y1);
    double *yq = malloc(n_tok * n_out * sizeof *yq), *yx = malloc(n_tok * n_out * sizeof *yx);
    double *mag = malloc(n_tok * n_out * sizeof *mag);
    fill_normal(wf, n_out * n_in, 0.05f);
    fill_normal(X, n_tok * n_in, 1.0f);
    for (int64_t o = 0; o < n_out; o++) orx_quantize_row(t, wf + o * n_in, (char *)W + o * wrow, n_in);
    reference(t, W, n_out, n_in, X, n_tok, yq, yx, mag);
    orx_matmul_ref(pool, t, W, n_out, n_in, X, n_tok, Y);
    orx_matmul_ref(NULL, t, W, n_out, n_in, X, n_tok, Y1);
    double worst_q = 0, worst_x = 0;
    for (int64_t i = 0; i < n_tok * n_out; i++) {
        /* same kernel per element whatever the thread split: bit-identical */
        if (memcmp(&Y[i], &Y1[i], sizeof(float)) != 0) fail_msg("%s: pooled result differs at %ld", orx_type_name(t), (long)i);
        double eq = fabs(Y[i] - yq[i]) / (mag[i] + 1e-30), ex = fabs(Y[i] - yx[i]) / (mag[i] + 1e-30);
        if (eq > worst_q) worst_q = eq;
        if (ex > worst_x) worst_x = ex;
    }
    /* vs exact dot of the dequantised operands: only float rounding */
    /* Q8_1 stores s = d * sum(q) as f16: the min term carries that rounding (2^-11 relative) */
    double bq = orx_type_dot_type(t) == ORX_TYPE_Q8_1 ? 5e-4 : 2e-5;
    if (worst_q > bq) fail_msg("%s %ldx%ldx%ld: rel err vs dequantised %.3g", orx_type_name(t), (long)n_out, (long)n_in, (long)n_tok, worst_q);
    /* vs unquantised activations: the 8-bit activation step (or f16/bf16 rounding) */
    double bx = t == ORX_TYPE_F32 ? 1e-6 : t == ORX_TYPE_F16 ? 1e-3 : t == ORX_TYPE_BF16 ? 8e-3 : 0.02;
    if (worst_x > bx) fail_msg("%s: rel err vs f32 activations %.3g > %.3g", orx_type_name(t), worst_x, bx);
    free(wf); free(X); free(W); free(Y); free(Y1); free(yq); free(yx); free(mag);
}

static void test_dot_vs_dequant(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(3);
    assert_non_null(pool);
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        uint32_t t = k_types[ti];
        check_matmul_type(t, 37, 512, 3, pool);  /* n_out not a multiple of any tile, odd n_tok */
        check_matmul_type(t, 1, 256, 1, pool);   /* single row, single token */
        check_matmul_type(t, 70, 768, 5, pool);  /* several chunks per thread */
    }
    orx_threadpool_free(pool);
}

static void test_bad_shapes(void **state) {
    (void)state;
    /* n_in not a multiple of the block: output zeroed, no crash */
    float X[48], Y[2] = {5, 5};
    uint8_t W[200] = {0};
    for (int i = 0; i < 48; i++) X[i] = 1.0f;
    orx_matmul(NULL, ORX_TYPE_Q4_0, W, 2, 48, X, 1, Y);
    assert_true(Y[0] == 0.0f && Y[1] == 0.0f);
    orx_matmul(NULL, ORX_TYPE_Q2_K, W, 1, 256, X, 0, Y); /* no tokens: nothing */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_fp16_known),
        cmocka_unit_test(test_fp16_vs_hardware),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_known_q4_0_q8_0),
        cmocka_unit_test(test_known_q5),
        cmocka_unit_test(test_known_q4_K),
        cmocka_unit_test(test_known_q6_K),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_dot_vs_dequant),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
