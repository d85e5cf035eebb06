/*
 * bench/attn_cpu.c — decode-time attention alone: one pass of ROWS query tokens over every layer's
 * KV cache at DEPTH positions, as a decode or draft-verification pass runs it (orx_attn_run, the
 * engine's pool), with the caches evicted from the CPU caches between passes the way the weights
 * streaming past them evict them in a model (a read of FLUSH MiB). Prints the median time of a
 * pass (all layers), of the first row and of each extra row, for the F16 flash numerics
 * (llama.cpp's CPU default) and the F32 cache.
 *
 *   build/attn_cpu [tinyllama|llama3-8b [DEPTH [ROWS [THREADS [REPS]]]]]     ATTN_FLUSH_MB=64
 *
 * Build: cc -O2 -Wall -Wextra -Isrc -Iinclude bench/attn_cpu.c build/libopenrx.a -lm -lpthread -o build/attn_cpu
 */
#include "engine/attention.h"
#include "engine/cpu/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    const char *name;   /* model shape */
    int32_t     layers; /* layers */
    int32_t     heads;  /* query heads */
    int32_t     kv;     /* KV heads */
    int32_t     hd;     /* head_dim */
} shape;

static const shape SHAPES[] = {{"tinyllama", 22, 32, 4, 64}, {"llama3-8b", 32, 32, 8, 128}};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t rng = 12345;
static float frand(void) { /* [-1, 1) */
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / (float)(1u << 23) - 1.0f;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds of one pass of `rows` tokens over all layers (caches evicted before each). */
static double pass_time(orx_threadpool *pool, orx_attn_scratch *s, const shape *sh, void **k, void **v, bool f16,
                        int32_t depth, int32_t rows, const float *q, float *out, volatile const char *flush,
                        size_t flush_n, int reps) {
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t) return -1;
    for (int r = 0; r < reps; r++) {
        unsigned sum = 0;
        for (size_t i = 0; i < flush_n; i += 64) sum += (unsigned)flush[i];
        if (sum == 0xFFFFFFFFu) puts("");
        double t0 = now();
        for (int32_t l = 0; l < sh->layers; l++) {
            orx_attn_job j = {.q = q, .k = k[l], .v = v[l], .out = out, .kv_stride = (size_t)sh->kv * sh->hd,
                              .n_tok = rows, .pos0 = depth, .n_head = sh->heads, .n_head_kv = sh->kv,
                              .head_dim = sh->hd, .f16 = f16};
            orx_attn_run(pool, s, &j, ORX_ATTN_IMPL_AUTO);
        }
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double m = t[reps / 2];
    free(t);
    return m;
}

int main(int argc, char **argv) {
    const shape *sh = &SHAPES[0];
    if (argc > 1) {
        sh = NULL;
        for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++)
            if (!strcmp(argv[1], SHAPES[i].name)) sh = &SHAPES[i];
        if (!sh) {
            fprintf(stderr, "attn_cpu: unknown shape '%s' (tinyllama, llama3-8b)\n", argv[1]);
            return 2;
        }
    }
    int32_t depth = argc > 2 ? atoi(argv[2]) : 1300, rows = argc > 3 ? atoi(argv[3]) : 4;
    int threads = argc > 4 ? atoi(argv[4]) : 2, reps = argc > 5 ? atoi(argv[5]) : 21;
    const char *fe = getenv("ATTN_FLUSH_MB");
    size_t flush_n = (size_t)(fe ? atoi(fe) : 64) << 20;
    if (depth < 1 || rows < 1 || rows > 64 || threads < 1 || reps < 1) {
        fprintf(stderr, "usage: attn_cpu [tinyllama|llama3-8b [DEPTH [ROWS<=64 [THREADS [REPS]]]]]\n");
        return 2;
    }
    int32_t n_ctx = depth + rows;
    size_t row_el = (size_t)sh->kv * sh->hd, cache_el = (size_t)n_ctx * row_el;
    void **k = calloc((size_t)sh->layers, sizeof *k), **v = calloc((size_t)sh->layers, sizeof *v);
    size_t qn = (size_t)rows * sh->heads * sh->hd;
    float *q = malloc(qn * sizeof(float)), *out = malloc(qn * sizeof(float));
    char *flush = malloc(flush_n + 64);
    orx_threadpool *pool = orx_threadpool_create(threads);
    orx_attn_scratch *s = orx_attn_scratch_create(threads, n_ctx, sh->heads, sh->kv, sh->hd);
    if (!k || !v || !q || !out || !flush || !pool || !s) {
        fprintf(stderr, "attn_cpu: out of memory\n");
        return 1;
    }
    memset(flush, 1, flush_n + 64);
    for (size_t i = 0; i < qn; i++) q[i] = frand();
    printf("attention, %s shapes (%d layers, %d/%d heads, head_dim %d), depth %d, %d threads, caches evicted "
           "(%zu MiB read) before each of %d passes; median ms per pass\n",
           sh->name, sh->layers, sh->heads, sh->kv, sh->hd, depth, threads, flush_n >> 20, reps);
    for (int f16 = 1; f16 >= 0; f16--) {
        size_t esz = f16 ? 2 : 4;
        for (int32_t l = 0; l < sh->layers; l++) {
            free(k[l]), free(v[l]);
            k[l] = malloc(cache_el * esz), v[l] = malloc(cache_el * esz);
            if (!k[l] || !v[l]) {
                fprintf(stderr, "attn_cpu: out of memory\n");
                return 1;
            }
            for (size_t i = 0; i < cache_el; i++) {
                float a = frand(), b = frand();
                if (f16) ((uint16_t *)k[l])[i] = orx_f32_to_fp16(a), ((uint16_t *)v[l])[i] = orx_f32_to_fp16(b);
                else ((float *)k[l])[i] = a, ((float *)v[l])[i] = b;
            }
        }
        double t1 = pass_time(pool, s, sh, k, v, f16, depth, 1, q, out, flush, flush_n, reps);
        double tn = pass_time(pool, s, sh, k, v, f16, depth, rows, q, out, flush, flush_n, reps);
        printf("%-9s 1 row %7.3f ms   %d rows %7.3f ms   +%.3f ms per extra row   (KV %.1f MiB)\n",
               f16 ? "f16-flash" : "f32", t1 * 1e3, rows, tn * 1e3, rows > 1 ? (tn - t1) * 1e3 / (rows - 1) : 0.0,
               (double)(2 * cache_el * esz * (size_t)sh->layers) / (1 << 20));
    }
    for (int32_t l = 0; l < sh->layers; l++) free(k[l]), free(v[l]);
    free(k), free(v), free(q), free(out), free(flush);
    orx_attn_scratch_free(s);
    orx_threadpool_free(pool);
    return 0;
}
