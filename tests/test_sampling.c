/* test_sampling.c — sampler: greedy, seeded reproducibility, top-k/top-p/min-p truncation,
 * temperature distribution, repetition and presence penalties. */
#include "testutil.h"
#include "engine/engine.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static orx_sampler_params plain(float temp) {
    orx_sampler_params p = orx_sampler_default_params();
    p.temp = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

static void test_greedy(void **state) {
    float l[5] = {0.1f, 3.0f, -2.0f, 3.0f, 2.9f};
    assert_int_equal(orx_argmax(l, 5), 1); /* first of equal maxima */
    orx_sampler_params p = plain(0);
    orx_sampler *s = orx_sampler_create(&p);
    assert_int_equal(orx_sampler_sample(s, l, 5), 1);
    orx_sampler_free(s);
    p = plain(5.0f); /* top-k 1 is greedy at any temperature */
    p.top_k = 1;
    s = orx_sampler_create(&p);
    for (int i = 0; i < 50; i++) assert_int_equal(orx_sampler_sample(s, l, 5), 1);
    orx_sampler_free(s);
}

static void draw(uint64_t seed, int32_t *out, int n) {
    float l[50];
    for (int i = 0; i < 50; i++) l[i] = (float)sin(i * 1.7) * 2;
    orx_sampler_params p = orx_sampler_default_params();
    p.seed = seed;
    p.temp = 1.0f;
    orx_sampler *s = orx_sampler_create(&p);
    for (int i = 0; i < n; i++) out[i] = orx_sampler_sample(s, l, 50);
    orx_sampler_free(s);
}

static void test_seeded(void **state) {
    int32_t a[64], b[64], c[64];
    draw(7, a, 64);
    draw(7, b, 64);
    draw(8, c, 64);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

static void test_distribution(void **state) {
    float l[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
    orx_sampler_params p = plain(1.0f);
    p.seed = 123;
    orx_sampler *s = orx_sampler_create(&p);
    int cnt[3] = {0};
    const int N = 20000;
    for (int i = 0; i < N; i++) cnt[orx_sampler_sample(s, l, 3)]++;
    orx_sampler_free(s);
    assert_true(fabs(cnt[0] / (double)N - 0.5) < 0.02);
    assert_true(fabs(cnt[1] / (double)N - 0.3) < 0.02);
    assert_true(fabs(cnt[2] / (double)N - 0.2) < 0.02);
    /* low temperature sharpens: token 0 dominates */
    p.temp = 0.1f;
    s = orx_sampler_create(&p);
    int zero = 0;
    for (int i = 0; i < 1000; i++) zero += orx_sampler_sample(s, l, 3) == 0;
    orx_sampler_free(s);
    assert_true(zero > 990);
}

static void test_truncation(void **state) {
    float l[4] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f)};
    orx_sampler_params p = plain(1.0f);
    p.top_k = 2; /* only 0 and 1 */
    orx_sampler *s = orx_sampler_create(&p);
    for (int i = 0; i < 500; i++) assert_true(orx_sampler_sample(s, l, 4) < 2);
    orx_sampler_free(s);
    p = plain(1.0f);
    p.top_p = 0.65f; /* 0.4 + 0.3 >= 0.65: tokens 0, 1 */
    s = orx_sampler_create(&p);
    int seen1 = 0;
    for (int i = 0; i < 500; i++) {
        int32_t t = orx_sampler_sample(s, l, 4);
        assert_true(t < 2);
        seen1 += t == 1;
    }
    assert_true(seen1 > 0);
    orx_sampler_free(s);
    p = plain(1.0f);
    p.min_p = 0.6f; /* keep p >= 0.24: tokens 0 and 1 */
    s = orx_sampler_create(&p);
    for (int i = 0; i < 500; i++) assert_true(orx_sampler_sample(s, l, 4) < 2);
    orx_sampler_free(s);
}

static void test_top_k_large(void **state) {
    enum { N = 5000, K = 10 };
    float *l = malloc(sizeof(float) * N), *sorted = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) l[i] = sorted[i] = (float)sin(i * 12.9898) * 43758.5453f;
    for (int i = 0; i < K; i++) /* partial selection sort: the K largest first */
        for (int j = i + 1; j < N; j++)
            if (sorted[j] > sorted[i]) { float t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t; }
    orx_sampler_params p = plain(1e6f); /* flat: every kept token is likely */
    p.top_k = K;
    orx_sampler *s = orx_sampler_create(&p);
    int hits[K] = {0};
    for (int i = 0; i < 2000; i++) {
        int32_t t = orx_sampler_sample(s, l, N);
        assert_true(l[t] >= sorted[K - 1]);
        for (int k = 0; k < K; k++) hits[k] += l[t] == sorted[k];
    }
    for (int k = 0; k < K; k++) assert_true(hits[k] > 0);
    orx_sampler_free(s);
    free(l);
    free(sorted);
}

static void test_penalties(void **state) {
    float l[3] = {2.0f, 1.9f, -1.0f};
    orx_sampler_params p = plain(0);
    p.repeat_penalty = 2.0f;
    orx_sampler *s = orx_sampler_create(&p);
    assert_int_equal(orx_sampler_sample(s, l, 3), 0);
    orx_sampler_accept(s, 0); /* 2.0 -> 1.0 < 1.9 */
    assert_int_equal(orx_sampler_sample(s, l, 3), 1);
    orx_sampler_accept(s, 1); /* both halved: 1.0 vs 0.95 */
    assert_int_equal(orx_sampler_sample(s, l, 3), 0);
    assert_true(l[0] == 2.0f); /* caller's logits untouched */
    orx_sampler_free(s);
    p = plain(0);
    p.presence_penalty = 0.5f;
    p.repeat_last_n = 2;
    s = orx_sampler_create(&p);
    orx_sampler_accept(s, 0);
    assert_int_equal(orx_sampler_sample(s, l, 3), 1); /* 1.5 < 1.9 */
    orx_sampler_accept(s, 2);
    orx_sampler_accept(s, 2); /* window of 2 forgets token 0 */
    assert_int_equal(orx_sampler_sample(s, l, 3), 0);
    orx_sampler_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy),       cmocka_unit_test(test_seeded),
        cmocka_unit_test(test_distribution), cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_penalties),    cmocka_unit_test(test_top_k_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
