/*
 * threadpool.h — a persistent pthread pool for the engine's parallel ops.
 *
 * Workers are created once and stay alive between runs: after a run they spin briefly waiting for
 * the next one (ops come back-to-back during a forward pass), then sleep on a condition variable.
 * No thread is created per op. orx_threadpool_run() is not re-entrant: call it from one thread at
 * a time, and not from inside a running fn.
 */
#ifndef ORX_ENGINE_THREADPOOL_H
#define ORX_ENGINE_THREADPOOL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orx_threadpool orx_threadpool;

/* n_threads <= 0 → number of physical cores (orx_threadpool_default_threads()). NULL on failure. */
orx_threadpool *orx_threadpool_create(int n_threads);
void orx_threadpool_free(orx_threadpool *pool);
int  orx_threadpool_size(const orx_threadpool *pool); /* 1 for NULL */
/* Run fn(ctx, ith, nth) on every thread (the caller participates as ith 0); returns when all have
 * finished. pool may be NULL: fn(ctx, 0, 1) on the caller. */
void orx_threadpool_run(orx_threadpool *pool, void (*fn)(void *ctx, int ith, int nth), void *ctx);
/* Physical cores of this machine (>= 1), from sysfs topology; falls back to online CPUs. */
int  orx_threadpool_default_threads(void);

#ifdef __cplusplus
}
#endif
#endif /* ORX_ENGINE_THREADPOOL_H */
