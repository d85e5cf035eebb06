/* test_vexp.c — vexp.h's e^x: the array version (AVX-512 / AVX2 where present) gives bit-identical
 * results to the scalar one, both stay within 2 ulp of libm's expf over the whole range, and the
 * edges (0, -inf, NaN, underflow, overflow) are as documented. */
#include "testutil.h"
#include "engine/cpu/vexp.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void test_array_equals_scalar_and_libm(void **state) {
    (void)state;
    enum { N = 200003 }; /* odd: the vector loops leave a scalar tail */
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < N; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = -92.0f + 184.0f * (float)((s >> 11) * (1.0 / 9007199254740992.0));
        if (i % 5 == 0) x[i] *= 0.01f; /* plenty near 0, where softmax and SiLU live */
    }
    memcpy(y, x, N * sizeof *x);
    orx_exp_array(y, N);
    int max_ulp = 0;
    for (int i = 0; i < N; i++) {
        float sc = orx_exp_f32(x[i]);
        if (bits_of(sc) != bits_of(y[i])) fail_msg("x = %.9g: array %.9g, scalar %.9g", x[i], y[i], sc);
        if (x[i] >= ORX_EXP_LO && x[i] <= ORX_EXP_HI) {
            int d = abs((int)bits_of(sc) - (int)bits_of(expf(x[i])));
            if (d > max_ulp) max_ulp = d;
        }
    }
    printf("  %d values: array == scalar bit for bit; max %d ulp from libm expf\n", N, max_ulp);
    assert_true(max_ulp <= 2);
    free(x);
    free(y);
}

static void test_edges(void **state) {
    (void)state;
    float v[8] = {0.0f, -INFINITY, NAN, -87.4f, -200.0f, 88.5f, INFINITY, 1.0f};
    orx_exp_array(v, 8);
    assert_true(v[0] == 1.0f);
    assert_true(v[1] == 0.0f);
    assert_true(isnan(v[2]));
    assert_true(v[3] == 0.0f && v[4] == 0.0f);
    assert_true(isinf(v[5]) && isinf(v[6]));
    assert_true(fabsf(v[7] - 2.71828183f) <= 2.71828183f * 2.4e-7f);
    assert_true(orx_exp_f32(0.0f) == 1.0f);
    assert_true(orx_exp_f32(-INFINITY) == 0.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_array_equals_scalar_and_libm), cmocka_unit_test(test_edges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
