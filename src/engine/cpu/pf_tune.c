/*
 * pf_tune.c — whether the AVX-512 decode kernels prefetch weight rows in one-token passes, chosen
 * per kernel on this machine from the model's own weights (orx_cpu_tune_prefetch).
 *
 * Software prefetch helps some kernels on some machines and hurts on others: on one Zen 4 VM
 * one-token Q4_K_R16 decode streamed 53-55 GB/s with it and 28-31 GB/s without; on another it read
 * 6 points less of the bandwidth with it. So, under ORX_PF_AUTO, a kernel prefetches in one-token
 * passes only where a measurement here said it is faster: one-token matmuls over the kernel's own
 * weight matrices (at least ORX_PF_TUNE_MIN_BYTES of them, more than any cache of our kind holds),
 * with and without prefetch, alternated in ABBA order, the median of ORX_PF_TUNE_ROUNDS each.
 * Passes over several tokens always prefetch (drafts and prompt batches were faster with it on
 * every machine measured). Results never change: prefetch only moves data earlier.
 */
#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORX_PF_TUNE_MODEL_MIN ((size_t)64 << 20)  /* smaller models stay in cache: nothing to measure */
#define ORX_PF_TUNE_KIND_MIN  ((size_t)16 << 20)  /* a kind with fewer bytes is not measured (timer noise) */
#define ORX_PF_TUNE_MAX_BYTES ((size_t)128 << 20) /* bytes swept per measurement */
#define ORX_PF_TUNE_EVICT     ((size_t)64 << 20)  /* read before each shorter sweep: twice an L3 of our kind */
#define ORX_PF_TUNE_ROUNDS    8                   /* measurements per setting */

atomic_uint orx_cpu_pf_one = 0; /* bit k: kind k prefetches in one-token passes (ORX_PF_AUTO) */

static pthread_mutex_t g_tune_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned        g_tuned;                        /* bit k: kind k measured */
static double          g_ms[ORX_PFK_COUNT][2];         /* [kind][off, on] median ms per sweep */
static size_t          g_bytes[ORX_PFK_COUNT];         /* bytes per sweep */

static const char *const KIND_NAME[ORX_PFK_COUNT] = {"Q4_0_R16", "Q4_K_R16", "Q8_0", "Q4_K", "Q6_K", "Q8_0_R16",
                                                             "Q6_K_R16", "Q5_K_R16"};

int orx_cpu_pf_kind(uint32_t wtype) {
    switch (wtype) {
    case ORX_TYPE_Q4_0_R16: return ORX_PFK_Q4_0_R16;
    case ORX_TYPE_Q4_K_R16: return ORX_PFK_Q4_K_R16;
    case ORX_TYPE_Q8_0_R16: return ORX_PFK_Q8_0_R16;
    case ORX_TYPE_Q6_K_R16: return ORX_PFK_Q6_K_R16;
    case ORX_TYPE_Q5_K_R16: return ORX_PFK_Q5_K_R16;
    case ORX_TYPE_Q8_0: return ORX_PFK_Q8_0;
    case ORX_TYPE_Q4_K: return ORX_PFK_Q4_K;
    case ORX_TYPE_Q6_K: return ORX_PFK_Q6_K;
    default: return -1;
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads every cache line of evict[0..n): what was cached before is gone from every level. */
static void evict_caches(const uint8_t *evict, size_t n) {
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i += 64) acc += *(const volatile uint64_t *)(const void *)(evict + i);
    __asm__ volatile("" : : "r"(acc));
}

/* One one-token matmul over each chosen matrix, from DRAM (after evict, when given); milliseconds. */
static double sweep(orx_threadpool *pool, const orx_pf_mat *m, const int *pick, int n, const float *x, float *y,
                    const uint8_t *evict) {
    if (evict) evict_caches(evict, ORX_PF_TUNE_EVICT);
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        const orx_pf_mat *w = &m[pick[i]];
        orx_matmul_decode(pool, w->type, w->data, w->n_out, w->n_in, x, 1, y);
    }
    return now_ms() - t0;
}

/* Measure kind k over the matrices picked; sets its bit when prefetch was faster. */
static void tune_kind(orx_threadpool *pool, int k, const orx_pf_mat *m, const int *pick, int n, const float *x,
                      float *y, const uint8_t *evict) {
    double t[2][ORX_PF_TUNE_ROUNDS];
    atomic_uint *bits = &orx_cpu_pf_one;
    unsigned bit = 1u << k;
    atomic_fetch_or(bits, bit);
    sweep(pool, m, pick, n, x, y, evict); /* warm-up: page faults, code in cache */
    for (int r = 0; r < ORX_PF_TUNE_ROUNDS; r++)
        for (int h = 0; h < 2; h++) {
            int on = (r + h) & 1; /* ABBA: off/on, on/off, ... */
            if (on) atomic_fetch_or(bits, bit);
            else atomic_fetch_and(bits, ~bit);
            t[on][r] = sweep(pool, m, pick, n, x, y, evict);
        }
    for (int on = 0; on < 2; on++) {
        qsort(t[on], ORX_PF_TUNE_ROUNDS, sizeof(double), cmp_double);
        g_ms[k][on] = (t[on][ORX_PF_TUNE_ROUNDS / 2 - 1] + t[on][ORX_PF_TUNE_ROUNDS / 2]) / 2;
    }
    if (g_ms[k][1] < g_ms[k][0]) atomic_fetch_or(bits, bit);
    else atomic_fetch_and(bits, ~bit);
}

/* Whether type's one-token kernel is an AVX-512 one (the ones with the switch). */
static bool avx512_kernel(uint32_t type) {
    orx_kernel k = orx_kernel_best(type);
    return k.gemv && k.isa && (!strcmp(k.isa, "avx512") || !strcmp(k.isa, "amx"));
}

int orx_cpu_tune_prefetch(orx_threadpool *pool, const orx_pf_mat *mats, int n) {
    if (atomic_load_explicit(&orx_cpu_decode_pf, memory_order_relaxed) != ORX_PF_AUTO) return 0;
    size_t model = 0;
    for (int i = 0; i < n; i++) model += mats[i].data ? mats[i].bytes : 0;
    if (model < ORX_PF_TUNE_MODEL_MIN) return 0;
    int tuned = 0;
    uint8_t *evict = NULL;
    pthread_mutex_lock(&g_tune_lock);
    int *pick = malloc((size_t)(n > 0 ? n : 1) * sizeof *pick);
    for (int k = 0; pick && k < ORX_PFK_COUNT; k++) {
        if (g_tuned & (1u << k)) continue;
        size_t total = 0, swept = 0;
        int np = 0;
        int64_t max_in = 0, max_out = 0;
        for (int i = 0; i < n; i++) {
            if (!mats[i].data || orx_cpu_pf_kind(mats[i].type) != k || !avx512_kernel(mats[i].type)) continue;
            total += mats[i].bytes;
            if (swept >= ORX_PF_TUNE_MAX_BYTES) continue;
            pick[np++] = i;
            swept += mats[i].bytes;
            if (mats[i].n_in > max_in) max_in = mats[i].n_in;
            if (mats[i].n_out > max_out) max_out = mats[i].n_out;
        }
        if (total < ORX_PF_TUNE_KIND_MIN) continue;
        if (swept < ORX_PF_TUNE_MAX_BYTES && !evict && (evict = malloc(ORX_PF_TUNE_EVICT))) /* the sweep alone */
            memset(evict, 1, ORX_PF_TUNE_EVICT);                                              /* would stay cached */
        float *x = malloc((size_t)max_in * sizeof *x), *y = malloc((size_t)max_out * sizeof *y);
        if (x && y && (swept >= ORX_PF_TUNE_MAX_BYTES || evict)) {
            for (int64_t i = 0; i < max_in; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
            g_bytes[k] = swept;
            tune_kind(pool, k, mats, pick, np, x, y, swept < ORX_PF_TUNE_MAX_BYTES ? evict : NULL);
            g_tuned |= 1u << k;
            tuned++;
        }
        free(x);
        free(y);
    }
    free(pick);
    free(evict);
    pthread_mutex_unlock(&g_tune_lock);
    return tuned;
}

int orx_cpu_prefetch_report(char *buf, size_t cap) {
    size_t len = 0;
    bool fits = buf && cap;
    if (fits) buf[0] = 0;
    pthread_mutex_lock(&g_tune_lock);
    for (int k = 0; k < ORX_PFK_COUNT; k++) {
        if (!(g_tuned & (1u << k))) continue;
        bool on = atomic_load(&orx_cpu_pf_one) & (1u << k);
        char one[160];
        int w = snprintf(one, sizeof one, "%s%s: %s (%.2f ms with, %.2f ms without, %.0f MiB)", len ? "; " : "",
                         KIND_NAME[k], on ? "on" : "off", g_ms[k][1], g_ms[k][0], (double)g_bytes[k] / (1 << 20));
        fits = fits && len + (size_t)w < cap;
        if (fits) memcpy(buf + len, one, (size_t)w + 1);
        len += (size_t)w;
    }
    pthread_mutex_unlock(&g_tune_lock);
    return (int)len;
}
