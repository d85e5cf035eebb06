/*
 * test_threadpool.c — the persistent pool: every thread runs each job exactly once, runs are
 * separated (no job overlaps the next), the pool survives sleeping between runs, NULL pool works.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include "engine/cpu/threadpool.h"

typedef struct {
    atomic_int calls;     /* total calls */
    atomic_int mask;      /* bit per ith seen in this run */
    int        nth_seen;  /* nth passed */
    int64_t    sum[64];   /* per-thread partial sums */
} job;

static void count_fn(void *vctx, int ith, int nth) {
    job *j = vctx;
    atomic_fetch_add(&j->calls, 1);
    atomic_fetch_or(&j->mask, 1 << ith);
    j->nth_seen = nth;
    int64_t s = 0;
    for (int64_t i = ith; i < 100000; i += nth) s += i;
    j->sum[ith] = s;
}

static void test_pool_runs(void **state) {
    (void)state;
    for (int n = 1; n <= 4; n++) {
        orx_threadpool *p = orx_threadpool_create(n);
        assert_non_null(p);
        assert_int_equal(orx_threadpool_size(p), n);
        for (int r = 0; r < 300; r++) {
            job j;
            memset(&j, 0, sizeof j);
            orx_threadpool_run(p, count_fn, &j);
            assert_int_equal(atomic_load(&j.calls), n);
            assert_int_equal(atomic_load(&j.mask), (1 << n) - 1);
            assert_int_equal(j.nth_seen, n);
            int64_t s = 0;
            for (int i = 0; i < n; i++) s += j.sum[i];
            assert_true(s == (int64_t)99999 * 100000 / 2);
        }
        orx_threadpool_free(p);
    }
}

static void test_pool_after_sleep(void **state) {
    (void)state;
    orx_threadpool *p = orx_threadpool_create(3);
    assert_non_null(p);
    for (int r = 0; r < 3; r++) {
        struct timespec ts = {0, 30 * 1000 * 1000}; /* let the workers go to sleep */
        nanosleep(&ts, NULL);
        job j;
        memset(&j, 0, sizeof j);
        orx_threadpool_run(p, count_fn, &j);
        assert_int_equal(atomic_load(&j.calls), 3);
        assert_int_equal(atomic_load(&j.mask), 7);
    }
    orx_threadpool_free(p);
}

static void test_pool_null_and_default(void **state) {
    (void)state;
    job j;
    memset(&j, 0, sizeof j);
    orx_threadpool_run(NULL, count_fn, &j);
    assert_int_equal(atomic_load(&j.calls), 1);
    assert_int_equal(j.nth_seen, 1);
    assert_int_equal(orx_threadpool_size(NULL), 1);
    assert_true(orx_threadpool_default_threads() >= 1);
    orx_threadpool_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs),
        cmocka_unit_test(test_pool_after_sleep),
        cmocka_unit_test(test_pool_null_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
