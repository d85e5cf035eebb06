/*
 * threadpool.c — persistent pthread workers, spin-then-sleep between runs.
 *
 * A run publishes (fn, ctx) and bumps `generation`; workers that are spinning see it at once,
 * sleeping ones are woken by a broadcast. Each worker counts itself into `n_done`; the caller
 * (thread 0) does its share, then waits for the others the same spin-then-yield way.
 */
#include "engine/cpu/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* ============================================================================================
 * State
 * ========================================================================================== */
#define SPIN_ITERS 20000 /* pause-loops before a worker goes to sleep (~ a few hundred µs) */

typedef struct worker {
    struct orx_threadpool *pool; /* owner */
    int                    ith;  /* thread index, 1..n-1 */
    pthread_t              tid;  /* pthread handle */
} worker;

struct orx_threadpool {
    int              n;          /* threads including the caller */
    worker          *workers;    /* [n - 1] */
    void (*fn)(void *, int, int); /* current job */
    void            *ctx;        /* its context */
    atomic_uint      generation; /* bumped per run */
    atomic_int       n_done;     /* workers finished with the current run */
    atomic_int       n_sleeping; /* workers blocked on cond */
    atomic_bool      stop;       /* set by free */
    pthread_mutex_t  mu;         /* guards the sleep/wake handshake */
    pthread_cond_t   cond;       /* workers sleep here */
};

/* ============================================================================================
 * Workers
 * ========================================================================================== */
static void wait_for_generation(orx_threadpool *p, unsigned last) {
    for (int i = 0; i < SPIN_ITERS; i++) {
        if (atomic_load_explicit(&p->generation, memory_order_acquire) != last ||
            atomic_load_explicit(&p->stop, memory_order_acquire))
            return;
        CPU_RELAX();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->n_sleeping, 1);
    while (atomic_load(&p->generation) == last && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cond, &p->mu);
    atomic_fetch_sub(&p->n_sleeping, 1);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    orx_threadpool *p = w->pool;
    unsigned last = 0;
    for (;;) {
        wait_for_generation(p, last);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        last = atomic_load_explicit(&p->generation, memory_order_acquire);
        p->fn(p->ctx, w->ith, p->n);
        atomic_fetch_add_explicit(&p->n_done, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* ============================================================================================
 * API
 * ========================================================================================== */
int orx_threadpool_default_threads(void) {
    /* count distinct (package, core) pairs from sysfs */
    long n_cpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (n_cpu < 1) n_cpu = 1;
    if (n_cpu > 1024) n_cpu = 1024;
    int n_phys = 0;
    long *seen = calloc((size_t)n_cpu, sizeof *seen);
    if (!seen) return (int)n_cpu;
    for (long c = 0; c < n_cpu; c++) {
        char path[128];
        long core = -1, pkg = -1;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/core_id", c);
        FILE *f = fopen(path, "r");
        if (f) { if (fscanf(f, "%ld", &core) != 1) core = -1; fclose(f); }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/physical_package_id", c);
        f = fopen(path, "r");
        if (f) { if (fscanf(f, "%ld", &pkg) != 1) pkg = -1; fclose(f); }
        if (core < 0) { n_phys = 0; break; }
        long key = pkg * 100000 + core;
        bool dup = false;
        for (int k = 0; k < n_phys; k++) if (seen[k] == key) dup = true;
        if (!dup) seen[n_phys++] = key;
    }
    free(seen);
    return n_phys > 0 ? n_phys : (int)n_cpu;
}

orx_threadpool *orx_threadpool_create(int n_threads) {
    if (n_threads <= 0) n_threads = orx_threadpool_default_threads();
    if (n_threads > 512) n_threads = 512;
    orx_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    atomic_init(&p->generation, 0);
    atomic_init(&p->n_done, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) { free(p); return NULL; }
        for (int i = 0; i < n_threads - 1; i++) {
            p->workers[i].pool = p;
            p->workers[i].ith = i + 1;
            if (pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]) != 0) {
                p->n = i + 1; /* keep the ones that started */
                break;
            }
        }
    }
    return p;
}

void orx_threadpool_free(orx_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n - 1; i++) pthread_join(p->workers[i].tid, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

int orx_threadpool_size(const orx_threadpool *p) { return p ? p->n : 1; }

void orx_threadpool_run(orx_threadpool *p, void (*fn)(void *ctx, int ith, int nth), void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->n_done, 0);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: pairs with the sleepers' check */
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->n);
    int want = p->n - 1;
    for (long i = 0; atomic_load_explicit(&p->n_done, memory_order_acquire) < want; i++) {
        if (i < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
}
