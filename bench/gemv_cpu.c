/*
 * bench/gemv_cpu.c — the decode kernels' instruction throughput, apart from memory speed and from
 * other processes: one thread runs the fastest gemv of this CPU over a weight matrix that stays in
 * cache (2048 x 2048 by default, 2.3–4.6 MB) and reports weight bytes per CPU second of the thread
 * (CLOCK_THREAD_CPUTIME_ID: time the thread was descheduled does not count, so the figure holds on
 * a busy machine). Decode can reach the memory speed only when this is well above the bandwidth
 * probe's share per thread (openrx bench). Build and run from the repository root:
 *
 *   cc -O2 -Isrc -Iinclude bench/gemv_cpu.c build/libopenrx.a -lm -lpthread -o build/gemv_cpu
 *   build/gemv_cpu [ROWS [REPS]]   (types Q4_0 Q4_0_R16 Q8_0 Q8_0_R16 Q4_K Q4_K_R16 Q5_K Q5_K_R16 Q6_K Q6_K_R16; ORX_ISA caps the level)
 *
 * Prompt mode, `build/gemv_cpu mm [TOKENS [REPS [TYPE ...]]]`: the same thread runs orx_matmul (no
 * pool) of the 2048 x 2048 matrix by TOKENS tokens (128 by default) — the prompt-batch kernels,
 * weight unpacking included — and reports tokens per CPU second of the fastest of REPS products
 * (the least disturbed one on a busy machine) for the named types (default all five).
 * `build/gemv_cpu dec [TOKENS [REPS [TYPE ...]]]` does the same through orx_matmul_decode, the
 * decode-exact product that verifies drafted tokens in one pass (try TOKENS 1..16).
 * `build/gemv_cpu stream [MB [THREADS [TYPE ...]]]` is decode as the model runs it: one token
 * through orx_matmul (a pool of THREADS, 2 by default) over 4096 x 4096 matrices filling MB
 * megabytes (512 by default, far beyond the caches), each read once per pass, the types and
 * `openrx bench`'s bandwidth probe taking turns (9 rounds: the machine's bandwidth moves with its
 * neighbours; the probe runs twice, as is and prefetching 4 KiB ahead, and the faster median is
 * the one compared with); it reports weight bytes per wall second, median and range, and the share
 * of the probe's median. Each type runs twice, the second time ("+pf") with the decode kernels'
 * software prefetch on (orx_cpu_set_decode_prefetch; trees without the setting run it once).
 * GEMV_TOKS=K (stream mode) passes K tokens through orx_matmul_decode instead, as a pass that
 * verifies K - 1 drafted tokens does: GB/s of weights, so the cost of the extra rows shows as the
 * fall from K = 1. GEMV_N sets the matrix side (4096).
 * The source also builds against trees from before the engine/cpu layout (engine/quant.h).
 */
#if __has_include("engine/cpu/quant.h")
#include "engine/cpu/quant.h"
#else
#include "engine/quant.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <time.h>

#if __has_include("engine/cpu/threadpool.h")
#include "engine/cpu/threadpool.h"
#define HAVE_POOL 1
#else
#define HAVE_POOL 0
#endif

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if ORX_TYPE_COUNT > 40 /* trees with the load-time Q4_0 repacking */
#define HAVE_R16 1
#if defined(ORX_HAVE_Q5_K_R16) /* trees with Q8_0_R16, Q6_K_R16 and Q5_K_R16 too */
#define TYPES                                                                                                      \
    ORX_TYPE_Q4_0, ORX_TYPE_Q4_0_R16, ORX_TYPE_Q8_0, ORX_TYPE_Q8_0_R16, ORX_TYPE_Q4_K, ORX_TYPE_Q4_K_R16, ORX_TYPE_Q5_K, \
        ORX_TYPE_Q5_K_R16, ORX_TYPE_Q6_K, ORX_TYPE_Q6_K_R16
#elif defined(ORX_HAVE_Q6_K_R16) /* trees with Q8_0_R16 and Q6_K_R16 too */
#define TYPES                                                                                                      \
    ORX_TYPE_Q4_0, ORX_TYPE_Q4_0_R16, ORX_TYPE_Q8_0, ORX_TYPE_Q8_0_R16, ORX_TYPE_Q4_K, ORX_TYPE_Q4_K_R16, ORX_TYPE_Q5_K, \
        ORX_TYPE_Q6_K, ORX_TYPE_Q6_K_R16
#elif defined(ORX_HAVE_Q8_0_R16) /* trees with Q8_0_R16 too */
#define TYPES ORX_TYPE_Q4_0, ORX_TYPE_Q4_0_R16, ORX_TYPE_Q8_0, ORX_TYPE_Q8_0_R16, ORX_TYPE_Q4_K, ORX_TYPE_Q4_K_R16, ORX_TYPE_Q5_K, ORX_TYPE_Q6_K
#else
#define TYPES ORX_TYPE_Q4_0, ORX_TYPE_Q4_0_R16, ORX_TYPE_Q8_0, ORX_TYPE_Q4_K, ORX_TYPE_Q4_K_R16, ORX_TYPE_Q5_K, ORX_TYPE_Q6_K
#endif
#else
#define HAVE_R16 0
#define TYPES ORX_TYPE_Q4_0, ORX_TYPE_Q8_0, ORX_TYPE_Q4_K, ORX_TYPE_Q5_K, ORX_TYPE_Q6_K
#endif

/* Random rows of type t: rows x n values, quantised with the reference quantiser (Q4_0_R16: as
 * Q4_0, then repacked as the model loader does). */
static char *random_matrix(uint32_t t, int64_t rows, int64_t n, float *f) {
    uint32_t qt = t;
#if HAVE_R16
    if (t == ORX_TYPE_Q4_0_R16) qt = ORX_TYPE_Q4_0;
    if (t == ORX_TYPE_Q4_K_R16) qt = ORX_TYPE_Q4_K;
#ifdef ORX_HAVE_Q8_0_R16
    if (t == ORX_TYPE_Q8_0_R16) qt = ORX_TYPE_Q8_0;
#endif
#ifdef ORX_HAVE_Q6_K_R16
    if (t == ORX_TYPE_Q6_K_R16) qt = ORX_TYPE_Q6_K;
#endif
#ifdef ORX_HAVE_Q5_K_R16
    if (t == ORX_TYPE_Q5_K_R16) qt = ORX_TYPE_Q5_K;
#endif
#endif
    size_t wrow = orx_type_row_bytes(qt, n);
    char *W = malloc(wrow * (size_t)rows);
    srand(1);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) f[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        orx_quantize_row(qt, f, W + (size_t)r * wrow, n);
    }
#if HAVE_R16
    if (qt != t) {
        char *R = malloc(wrow * (size_t)rows);
        orx_repack(t, W, R, rows, n);
        free(W);
        W = R;
    }
#endif
    return W;
}

/* Whether type t is among the names given on the command line (all types when none are). */
static bool type_named(uint32_t t, char **names, int n_names) {
    bool named = n_names == 0;
    for (int i = 0; i < n_names; i++) named |= strcmp(names[i], orx_type_name(t)) == 0;
    return named;
}

static int prompt_mode(bool decode, int64_t n_tok, int reps, char **names, int n_names) {
    void (*product)(orx_threadpool *, uint32_t, const void *, int64_t, int64_t, const float *, int64_t, float *) =
        decode ? orx_matmul_decode : orx_matmul;
    const int64_t n = 2048;
    const uint32_t types[] = {TYPES};
    float *X = malloc((size_t)(n * n_tok) * sizeof *X), *Y = malloc((size_t)(n * n_tok) * sizeof *Y);
    printf("kernels: %s\n", orx_cpu_describe());
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        uint32_t t = types[ti];
        if (!type_named(t, names, n_names)) continue;
        char *W = random_matrix(t, n, n, X);
        for (int64_t i = 0; i < n * n_tok; i++) X[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        product(NULL, t, W, n, n, X, n_tok, Y); /* warm-up: scratch, caches */
        double best = 0;
        for (int r = 0; r < reps; r++) {
            double c0 = cpu_s();
            product(NULL, t, W, n, n, X, n_tok, Y);
            double tps = (double)n_tok / (cpu_s() - c0);
            if (tps > best) best = tps;
        }
        printf("%-8s %8.0f tokens per CPU second (2048 x 2048 by %lld tokens)\n", orx_type_name(t), best,
               (long long)n_tok);
        free(W);
    }
    free(X);
    free(Y);
    return 0;
}

static double wall_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if HAVE_POOL
/* The bandwidth probe of `openrx bench` over the same buffer: each thread xors its contiguous
 * share with 256-bit loads, four streams of 32 bytes a step; with pf, prefetching 4 KiB ahead
 * (the bench takes the faster of the two). */
typedef struct probe_job { const char *buf; size_t bytes; int pf; long long sink[64]; } probe_job;
__attribute__((target("avx2"))) static void probe_fn(void *v, int ith, int nth) {
    probe_job *j = v;
    size_t per = j->bytes / (size_t)nth / 128 * 128;
    const char *p = j->buf + per * (size_t)ith;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < per; i += 128) {
        if (j->pf) {
            _mm_prefetch(p + i + 4096, _MM_HINT_T0);
            _mm_prefetch(p + i + 4096 + 64, _MM_HINT_T0);
        }
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    j->sink[ith & 63] = _mm256_extract_epi64(a, 0) ^ _mm256_extract_epi64(a, 3);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
#endif

#define STREAM_ROUNDS 9 /* passes per type, round robin with the probe */
static int stream_mode(double mb, int threads, char **names, int n_names) {
#if HAVE_POOL
    const int64_t n = getenv("GEMV_N") ? atoll(getenv("GEMV_N")) : 4096; /* matrix side */
    const int toks = getenv("GEMV_TOKS") ? atoi(getenv("GEMV_TOKS")) : 1; /* >1: orx_matmul_decode (drafts) */
    if (toks < 1 || toks > 64) return 2;
    const uint32_t all_types[] = {TYPES};
    uint32_t types[16];
    int nt = 0;
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++)
        if (type_named(all_types[ti], names, n_names)) types[nt++] = all_types[ti];
    orx_threadpool *pool = orx_threadpool_create(threads);
    float *X = malloc((size_t)n * toks * sizeof *X), *Y = malloc((size_t)n * toks * sizeof *Y);
    size_t bytes = (size_t)(mb * 1e6) / ((size_t)2 << 20) * ((size_t)2 << 20) + ((size_t)2 << 20);
    char *buf[16];
    int nm[16];
    size_t mbytes[16];
    double gbs[34][STREAM_ROUNDS]; /* [2 * type + prefetch], then the probe, then the probe + pf */
    for (int i = 0; i <= nt; i++) { /* types, then the probe's buffer */
        if (posix_memalign((void **)&buf[i], (size_t)2 << 20, bytes) != 0) return 1;
        madvise(buf[i], bytes, MADV_HUGEPAGE); /* the pages the resident weights get */
        memset(buf[i], 1, bytes);
        if (i == nt) break;
        mbytes[i] = orx_type_row_bytes(types[i], n) * (size_t)n;
        nm[i] = (int)(bytes / mbytes[i]);
        char *one = random_matrix(types[i], n, n, Y);
        for (int m = 0; m < nm[i]; m++) memcpy(buf[i] + (size_t)m * mbytes[i], one, mbytes[i]);
        free(one);
    }
    for (int64_t i = 0; i < n * toks; i++) X[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    printf("kernels: %s, %d threads, %.0f MB per type, %d token(s) per pass\n", orx_cpu_describe(), threads,
           (double)bytes / 1e6, toks);
    static probe_job pj;
    pj.buf = buf[nt];
    pj.bytes = bytes;
    /* each type twice: without and with the kernels' software prefetch (orx_cpu_decode_pf) */
#ifdef ORX_CPU_DECODE_PF
    int pf0 = atomic_load(&orx_cpu_decode_pf);
#endif
    for (int r = -1; r < STREAM_ROUNDS; r++) /* round -1: warm-up */
        for (int e = 0; e <= 2 * nt + 1; e++) {
            int i = e / 2;
            double w0 = wall_s();
            pj.pf = e == 2 * nt + 1;
            if (e >= 2 * nt) orx_threadpool_run(pool, probe_fn, &pj);
            else {
#ifdef ORX_CPU_DECODE_PF
                orx_cpu_set_decode_prefetch(e & 1 ? ORX_PF_ON : ORX_PF_OFF);
#endif
                for (int m = 0; m < nm[i]; m++) {
                    const char *W = buf[i] + (size_t)m * mbytes[i];
                    if (toks == 1) orx_matmul(pool, types[i], W, n, n, X, 1, Y);
                    else orx_matmul_decode(pool, types[i], W, n, n, X, toks, Y);
                }
            }
            double moved = e >= 2 * nt ? (double)bytes : (double)mbytes[i] * nm[i];
            if (r >= 0) gbs[e][r] = moved / (wall_s() - w0) / 1e9;
        }
#ifdef ORX_CPU_DECODE_PF
    orx_cpu_set_decode_prefetch(pf0);
#endif
    for (int e = 0; e <= 2 * nt + 1; e++) qsort(gbs[e], STREAM_ROUNDS, sizeof(double), cmp_double);
    double pm = 0;
    for (int e = 2 * nt; e <= 2 * nt + 1; e++) {
        double m = gbs[e][STREAM_ROUNDS / 2];
        printf("%-12s median %5.1f GB/s (range %.1f-%.1f)\n", e == 2 * nt ? "probe" : "probe+pf", m, gbs[e][0],
               gbs[e][STREAM_ROUNDS - 1]);
        if (m > pm) pm = m; /* the faster probe is the one compared with */
    }
    for (int e = 0; e < 2 * nt; e++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", orx_type_name(types[e / 2]), e & 1 ? "+pf" : "");
        printf("%-12s median %5.1f GB/s (range %.1f-%.1f) = %3.0f %% of the probe's median\n", name,
               gbs[e][STREAM_ROUNDS / 2], gbs[e][0], gbs[e][STREAM_ROUNDS - 1], 100 * gbs[e][STREAM_ROUNDS / 2] / pm);
    }
    for (int i = 0; i <= nt; i++) free(buf[i]);
    orx_threadpool_free(pool);
    free(X);
    free(Y);
    return 0;
#else
    (void)mb, (void)threads, (void)names, (void)n_names;
    fprintf(stderr, "gemv_cpu: this tree has no thread pool\n");
    return 2;
#endif
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "stream") == 0)
        return stream_mode(argc > 2 ? atof(argv[2]) : 512, argc > 3 ? atoi(argv[3]) : 2, argv + 4,
                           argc > 4 ? argc - 4 : 0);
    bool dec = argc > 1 && strcmp(argv[1], "dec") == 0;
    if (argc > 1 && (dec || strcmp(argv[1], "mm") == 0))
        return prompt_mode(dec, argc > 2 ? atoll(argv[2]) : 128, argc > 3 ? atoi(argv[3]) : 15, argv + 4,
                           argc > 4 ? argc - 4 : 0);
    const int64_t n = 2048, rows = argc > 1 ? atoll(argv[1]) : 2048;
    const int reps = argc > 2 ? atoi(argv[2]) : 100;
    const uint32_t types[] = {TYPES};
    float *f = malloc((size_t)n * sizeof *f);
    static _Alignas(64) char xq[1 << 16], prep[ORX_GEMV_PREP_BYTES];
    float *y = malloc((size_t)rows * sizeof *y);
    printf("kernels: %s\n", orx_cpu_describe());
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        uint32_t t = types[ti];
        orx_kernel k = orx_kernel_best(t);
        size_t wrow = orx_type_row_bytes(t, n);
        char *W = random_matrix(t, rows, n, f);
        for (int64_t i = 0; i < n; i++) f[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        k.from_float(f, xq, n);
        const void *pp = k.gemv_prep && k.gemv_prep(n, xq, prep) ? prep : NULL;
        double best = 0;
        for (int round = 0; round < 3; round++) {
            double c0 = cpu_s();
            for (int r = 0; r < reps; r++) {
                if (k.gemv) k.gemv(n, W, wrow, (int)rows, xq, pp, y);
                else
                    for (int64_t o = 0; o < rows; o++) k.vec_dot(n, &y[o], W + (size_t)o * wrow, xq);
            }
            double gbs = (double)wrow * (double)rows * reps / (cpu_s() - c0) / 1e9;
            if (gbs > best) best = gbs;
        }
        printf("%-8s %-6s %6.1f GB/s of weights per CPU second (%s)\n", orx_type_name(t), k.isa, best,
               k.gemv ? "gemv" : "vec_dot");
        free(W);
    }
    free(f);
    free(y);
    return 0;
}
