/*
 * test_kernels.c — every SIMD kernel against the scalar reference, on random data, for every
 * supported tensor type and for shape edge cases (rows not a multiple of the tile, odd token
 * counts, one token, K of one block). ISA levels this CPU lacks are skipped loudly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd_u32(void) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 16);
}
static float rnd_unit(void) { return ((float)(rnd_u32() & 0xFFFFFF) + 0.5f) / 16777216.0f; }
static float rnd_normal(void) {
    return sqrtf(-2.0f * logf(rnd_unit())) * cosf(6.2831853f * rnd_unit());
}

static const uint32_t k_types[] = {ORX_TYPE_F32, ORX_TYPE_F16, ORX_TYPE_BF16, ORX_TYPE_Q4_0,
                                   ORX_TYPE_Q4_1, ORX_TYPE_Q5_0, ORX_TYPE_Q5_1, ORX_TYPE_Q8_0,
                                   ORX_TYPE_Q4_K, ORX_TYPE_Q5_K, ORX_TYPE_Q6_K};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

/* random weights of type t: n_out rows of n_in, plus |w| dequantised for error magnitudes */
static void *make_weights(uint32_t t, int64_t n_out, int64_t n_in, float **deq) {
    size_t wrow = orx_type_row_bytes(t, n_in);
    char *W = malloc(wrow * n_out);
    float *tmp = malloc(n_in * sizeof *tmp);
    *deq = malloc(n_out * n_in * sizeof **deq);
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++) tmp[i] = rnd_normal() * 0.05f;
        if (o == 1) for (int64_t i = 0; i < n_in; i++) tmp[i] = 0.0f; /* an all-zero row */
        orx_quantize_row(t, tmp, W + o * wrow, n_in);
        orx_dequantize_row(t, W + o * wrow, *deq + o * n_in, n_in);
    }
    free(tmp);
    return W;
}

static double tol_for(uint32_t t) {
    switch (t) {
    case ORX_TYPE_Q4_K: case ORX_TYPE_Q5_K: case ORX_TYPE_Q6_K: return 2e-6; /* exact ints */
    default: return 2e-5; /* float summation order */
    }
}

/* Compare orx_kernel_isa(t, isa) against the reference through the matmul driver and directly. */
static int check_type_isa(uint32_t t, const char *isa, int64_t n_out, int64_t n_in, int64_t n_tok,
                          orx_threadpool *pool) {
    orx_kernel k = orx_kernel_isa(t, isa), ref = orx_kernel_ref(t);
    if (!k.vec_dot) return 0; /* this level has no kernel for t: best() falls back to reference */
    float *deq;
    void *W = make_weights(t, n_out, n_in, &deq);
    float *X = malloc(n_tok * n_in * sizeof *X);
    for (int64_t i = 0; i < n_tok * n_in; i++) X[i] = rnd_normal();
    if (n_tok > 2) for (int64_t i = 0; i < n_in; i++) X[2 * n_in + i] = 0.0f; /* a zero token */
    /* activations in the dot type, converted by both converters: must be byte-identical */
    uint32_t dt = orx_type_dot_type(t);
    size_t xrow = t == ORX_TYPE_F32 ? n_in * sizeof(float) : orx_type_row_bytes(dt, n_in);
    char *xq = malloc(xrow * n_tok), *xq2 = malloc(xrow * n_tok);
    for (int64_t j = 0; j < n_tok; j++) {
        if (ref.from_float) {
            ref.from_float(X + j * n_in, xq + j * xrow, n_in);
            k.from_float(X + j * n_in, xq2 + j * xrow, n_in);
        } else {
            memcpy(xq + j * xrow, X + j * n_in, xrow);
            memcpy(xq2 + j * xrow, X + j * n_in, xrow);
        }
    }
    assert_memory_equal(xq, xq2, xrow * n_tok);
    size_t wrow = orx_type_row_bytes(t, n_in);
    float *Yr = malloc(n_tok * n_out * sizeof *Yr), *Yk = malloc(n_tok * n_out * sizeof *Yk);
    float *Yg = malloc(n_tok * n_out * sizeof *Yg);
    for (int64_t j = 0; j < n_tok; j++)
        for (int64_t o = 0; o < n_out; o++) {
            ref.vec_dot(n_in, &Yr[j * n_out + o], (char *)W + o * wrow, xq + j * xrow);
            k.vec_dot(n_in, &Yk[j * n_out + o], (char *)W + o * wrow, xq + j * xrow);
        }
    /* gemm tiles of awkward sizes */
    if (k.gemm) {
        for (int64_t o = 0; o < n_out; o += 3)
            for (int64_t j = 0; j < n_tok; j += 5) {
                int nr = (int)(n_out - o < 3 ? n_out - o : 3), nt = (int)(n_tok - j < 5 ? n_tok - j : 5);
                k.gemm(n_in, (char *)W + o * wrow, wrow, nr, xq + j * xrow, xrow, nt, Yg + j * n_out + o, n_out);
            }
    } else {
        memcpy(Yg, Yk, n_tok * n_out * sizeof *Yg);
    }
    double worst = 0;
    for (int64_t j = 0; j < n_tok; j++)
        for (int64_t o = 0; o < n_out; o++) {
            double mag = 1e-30;
            for (int64_t i = 0; i < n_in; i++) mag += fabs((double)deq[o * n_in + i] * X[j * n_in + i]);
            double e1 = fabs(Yk[j * n_out + o] - Yr[j * n_out + o]) / mag;
            double e2 = fabs(Yg[j * n_out + o] - Yr[j * n_out + o]) / mag;
            if (e1 > worst) worst = e1;
            if (e2 > worst) worst = e2;
            if (o == 1 || (j == 2 && n_tok > 2)) { /* zero row / zero token: exactly 0 */
                assert_true(Yk[j * n_out + o] == 0.0f && Yg[j * n_out + o] == 0.0f);
            }
        }
    if (worst > tol_for(t))
        fail_msg("%s/%s %ldx%ldx%ld: rel err %.3g > %.3g", orx_type_name(t), isa, (long)n_out,
                 (long)n_in, (long)n_tok, worst, tol_for(t));
    /* the full driver with the best kernel vs the reference driver, pooled */
    orx_cpu_force_isa(isa);
    orx_matmul(pool, t, W, n_out, n_in, X, n_tok, Yk);
    orx_cpu_force_isa(NULL);
    orx_matmul_ref(NULL, t, W, n_out, n_in, X, n_tok, Yr);
    for (int64_t i = 0; i < n_tok * n_out; i++) {
        int64_t j = i / n_out, o = i % n_out;
        double mag = 1e-30;
        for (int64_t q = 0; q < n_in; q++) mag += fabs((double)deq[o * n_in + q] * X[j * n_in + q]);
        if (fabs(Yk[i] - Yr[i]) / mag > tol_for(t))
            fail_msg("%s/%s matmul %ldx%ldx%ld at [%ld][%ld]: %g vs %g", orx_type_name(t), isa,
                     (long)n_out, (long)n_in, (long)n_tok, (long)j, (long)o, Yk[i], Yr[i]);
    }
    /* decode-exact batch (drafted tokens): each token's row bit-identical to a one-token matmul */
    orx_cpu_force_isa(isa);
    orx_matmul_decode(pool, t, W, n_out, n_in, X, n_tok, Yk);
    for (int64_t j = 0; j < n_tok; j++) orx_matmul(pool, t, W, n_out, n_in, X + j * n_in, 1, Yg + j * n_out);
    orx_cpu_force_isa(NULL);
    for (int64_t i = 0; i < n_tok * n_out; i++)
        if (memcmp(&Yk[i], &Yg[i], sizeof *Yk))
            fail_msg("%s/%s matmul_decode %ldx%ldx%ld at [%ld][%ld]: %.9g vs one-token %.9g", orx_type_name(t), isa,
                     (long)n_out, (long)n_in, (long)n_tok, (long)(i / n_out), (long)(i % n_out), Yk[i], Yg[i]);
    free(W); free(deq); free(X); free(xq); free(xq2); free(Yr); free(Yk); free(Yg);
    return 1;
}

static void run_isa(const char *isa) {
    orx_kernel probe = orx_kernel_isa(ORX_TYPE_F32, isa);
    if (!probe.vec_dot) {
        print_message("SKIPPED: this CPU has no %s (cpu: %s)\n", isa, orx_cpu_describe());
        skip();
    }
    orx_threadpool *pool = orx_threadpool_create(3);
    int covered = 0;
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        uint32_t t = k_types[ti];
        int64_t bv = orx_type_block_values(t) > 1 ? orx_type_block_values(t) : 32;
        int c = 0;
        c += check_type_isa(t, isa, 1, bv, 1, pool);            /* K = one block, one token */
        c += check_type_isa(t, isa, 7, bv * 3, 3, pool);        /* odd everything */
        c += check_type_isa(t, isa, 37, bv * 8, 9, pool);       /* rows not a multiple of any tile */
        c += check_type_isa(t, isa, 64, 1024, 17, pool);        /* several chunks, tokens > tile */
        c += check_type_isa(t, isa, 33, bv * 4, 40, pool);      /* AMX: partial strip, 2+ token groups */
        c += check_type_isa(t, isa, 45, bv * 37, 1, pool);      /* decode gemv: 16-block groups + tail */
        if (t == ORX_TYPE_F32 || t == ORX_TYPE_F16 || t == ORX_TYPE_BF16)
            c += check_type_isa(t, isa, 5, 37, 3, pool);        /* unblocked types: K not a multiple of 8 */
        if (c) covered++;
        print_message("%-6s %-5s %s\n", isa, orx_type_name(t), c ? "checked" : "no kernel (reference used)");
    }
    assert_true(covered >= 6);
    orx_threadpool_free(pool);
}

/* The _R16 types (Q4_0 / Q4_K / Q8_0 / Q6_K / Q5_K repacked 16 rows to a register at load) at level isa: the reference
 * through the repacked layout and the level's kernel are both bit-identical to the file type's
 * reference (exactly 0 for a zero row and a zero token); the decode-exact batch and the prompt
 * batch give every token the one-token bits. */
static int check_r16(uint32_t ft, const char *isa, int64_t n_out, int64_t n_in, int64_t n_tok, orx_threadpool *pool) {
    uint32_t R = 0;
    const uint32_t rt = ft == ORX_TYPE_Q4_0   ? ORX_TYPE_Q4_0_R16
                        : ft == ORX_TYPE_Q8_0 ? ORX_TYPE_Q8_0_R16
                        : ft == ORX_TYPE_Q6_K ? ORX_TYPE_Q6_K_R16
                        : ft == ORX_TYPE_Q5_K ? ORX_TYPE_Q5_K_R16
                                              : ORX_TYPE_Q4_K_R16;
    orx_cpu_force_isa(isa);
    orx_kernel k = orx_kernel_best(rt);
    orx_cpu_force_isa(NULL);
    if (strcmp(k.isa, isa)) return 0; /* no kernel at this level (the reference serves) */
    R = rt;
    float *deq;
    void *W = make_weights(ft, n_out, n_in, &deq);
    size_t bytes = orx_type_row_bytes(ft, n_in) * (size_t)n_out;
    void *Wr = malloc(bytes);
    orx_repack(R, W, Wr, n_out, n_in);
    float *X = malloc(n_tok * n_in * sizeof *X);
    for (int64_t i = 0; i < n_tok * n_in; i++) X[i] = rnd_normal();
    if (n_tok > 2) for (int64_t i = 0; i < n_in; i++) X[2 * n_in + i] = 0.0f;
    size_t ny = (size_t)(n_tok * n_out);
    float *Yq = malloc(ny * sizeof *Yq), *Yr = malloc(ny * sizeof *Yr), *Yk = malloc(ny * sizeof *Yk);
    float *Yd = malloc(ny * sizeof *Yd), *Y1 = malloc(ny * sizeof *Y1);
    orx_matmul_ref(pool, ft, W, n_out, n_in, X, n_tok, Yq);
    orx_matmul_ref(pool, R, Wr, n_out, n_in, X, n_tok, Yr);
    assert_memory_equal(Yq, Yr, ny * sizeof *Yq);
    orx_cpu_force_isa(isa);
    orx_matmul(pool, R, Wr, n_out, n_in, X, n_tok, Yk);
    orx_matmul_decode(pool, R, Wr, n_out, n_in, X, n_tok, Yd);
    for (int64_t j = 0; j < n_tok; j++) orx_matmul(pool, R, Wr, n_out, n_in, X + j * n_in, 1, Y1 + j * n_out);
    orx_cpu_force_isa(NULL);
    for (size_t i = 0; i < ny; i++) {
        int64_t j = (int64_t)i / n_out, o = (int64_t)i % n_out;
        double mag = 1e-30;
        for (int64_t q = 0; q < n_in; q++) mag += fabs((double)deq[o * n_in + q] * X[j * n_in + q]);
        if (fabs(Yk[i] - Yq[i]) / mag > tol_for(ft))
            fail_msg("%s/%s %ldx%ldx%ld at [%ld][%ld]: %g vs %s reference %g", orx_type_name(R), isa, (long)n_out,
                     (long)n_in, (long)n_tok, (long)j, (long)o, Yk[i], orx_type_name(ft), Yq[i]);
        if (memcmp(&Yk[i], &Yq[i], sizeof *Yk)) /* rounded as the reference rounds */
            fail_msg("%s/%s %ldx%ldx%ld at [%ld][%ld]: %.9g, %s reference %.9g (not bit-identical)", orx_type_name(R), isa,
                     (long)n_out, (long)n_in, (long)n_tok, (long)j, (long)o, Yk[i], orx_type_name(ft), Yq[i]);
        if (o == 1 || (j == 2 && n_tok > 2)) assert_true(Yk[i] == 0.0f);
        if (memcmp(&Yd[i], &Y1[i], sizeof *Yd) || memcmp(&Yk[i], &Y1[i], sizeof *Yk))
            fail_msg("%s/%s %ldx%ldx%ld at [%ld][%ld]: decode batch %.9g, prompt batch %.9g, one token %.9g",
                     orx_type_name(R), isa, (long)n_out, (long)n_in, (long)n_tok, (long)j, (long)o, Yd[i], Yk[i], Y1[i]);
    }
    free(W); free(Wr); free(deq); free(X); free(Yq); free(Yr); free(Yk); free(Yd); free(Y1);
    return 1;
}

static void test_r16(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(3);
    const char *isas[] = {"scalar", "avx512", "amx"};
    const uint32_t fts[] = {ORX_TYPE_Q4_0, ORX_TYPE_Q4_K, ORX_TYPE_Q8_0, ORX_TYPE_Q6_K, ORX_TYPE_Q5_K};
    int covered = 0;
    for (int f = 0; f < 5; f++)
        for (int i = 0; i < 3; i++) {
            uint32_t ft = fts[f];
            int64_t bv = orx_type_block_values(ft);
            int c = 0;
            c += check_r16(ft, isas[i], 16, bv, 1, pool);          /* one group, one block */
            c += check_r16(ft, isas[i], 48, bv * 37, 1, pool);     /* decode: several groups, odd block count */
            c += check_r16(ft, isas[i], 32, bv * 3, 9, pool);      /* more tokens than a pass takes */
            c += check_r16(ft, isas[i], 64, 1024, 17, pool);       /* prompt batch over the pool */
            c += check_r16(ft, isas[i], 2048, 2048, 3, pool);      /* several chunks per thread */
            print_message("%s_R16 %-6s %s\n", orx_type_name(ft), isas[i], c ? "checked" : "no kernel at this level");
            covered += c > 0;
        }
    assert_true(covered >= 5);
    /* repacked only where the kernels want it: Q4_0 / Q4_K / Q8_0 / Q6_K / Q5_K, rows a multiple of 16 */
    uint32_t to = 0;
    bool want = strcmp(orx_kernel_best(ORX_TYPE_Q4_0).isa, "avx512") == 0;
    assert_int_equal(orx_repack_target(ORX_TYPE_Q4_0, 64, 1024, &to), want);
    if (want) assert_int_equal(to, ORX_TYPE_Q4_0_R16);
    assert_int_equal(orx_repack_target(ORX_TYPE_Q4_K, 64, 1024, &to), want);
    if (want) assert_int_equal(to, ORX_TYPE_Q4_K_R16);
    assert_false(orx_repack_target(ORX_TYPE_Q4_0, 40, 1024, &to));
    assert_false(orx_repack_target(ORX_TYPE_Q4_K, 64, 1000, &to));
    assert_int_equal(orx_repack_target(ORX_TYPE_Q8_0, 64, 1024, &to), want);
    if (want) assert_int_equal(to, ORX_TYPE_Q8_0_R16);
    assert_false(orx_repack_target(ORX_TYPE_Q8_0, 24, 1024, &to));
    assert_int_equal(orx_repack_target(ORX_TYPE_Q6_K, 64, 1024, &to), want);
    if (want) assert_int_equal(to, ORX_TYPE_Q6_K_R16);
    assert_false(orx_repack_target(ORX_TYPE_Q6_K, 56, 1024, &to));
    assert_int_equal(orx_repack_target(ORX_TYPE_Q5_K, 64, 1024, &to), want);
    if (want) assert_int_equal(to, ORX_TYPE_Q5_K_R16);
    assert_false(orx_repack_target(ORX_TYPE_Q5_1, 64, 1024, &to));
    assert_false(orx_type_supported(ORX_TYPE_Q4_0_R16)); /* never accepted from a file */
    assert_false(orx_type_supported(ORX_TYPE_Q4_K_R16));
    assert_false(orx_type_supported(ORX_TYPE_Q8_0_R16));
    assert_false(orx_type_supported(ORX_TYPE_Q6_K_R16));
    assert_false(orx_type_supported(ORX_TYPE_Q5_K_R16));
    print_message("_R16: repacked at load on this CPU: %s\n", want ? "yes" : "no");
    orx_threadpool_free(pool);
}

/* ============================================================================================
 * Software prefetch in the decode kernels: the same bits with and without it; the one-token
 * choice is measured once per kernel, only on weights larger than the caches
 * ========================================================================================== */
static void test_prefetch_same_bits(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(2);
    /* the first five repacked (the R16 layouts), the rest in the file's layout */
    const uint32_t fts[] = {ORX_TYPE_Q4_0, ORX_TYPE_Q4_K, ORX_TYPE_Q8_0, ORX_TYPE_Q6_K, ORX_TYPE_Q5_K,
                            ORX_TYPE_Q8_0, ORX_TYPE_Q4_K, ORX_TYPE_Q6_K};
    const int64_t n_out = 96, n_in = 4096, n_tok = 3;
    float *X = malloc(n_tok * n_in * sizeof *X), *Y[2];
    for (int64_t i = 0; i < n_tok * n_in; i++) X[i] = rnd_normal();
    Y[0] = malloc(n_tok * n_out * sizeof(float));
    Y[1] = malloc(n_tok * n_out * sizeof(float));
    for (int f = 0; f < 8; f++) {
        float *deq;
        void *W = make_weights(fts[f], n_out, n_in, &deq);
        uint32_t t = fts[f];
        if (f < 5 && orx_repack_target(fts[f], n_out, n_in, &t)) { /* the R16 layouts */
            void *Wr = malloc(orx_type_row_bytes(fts[f], n_in) * (size_t)n_out);
            orx_repack(t, W, Wr, n_out, n_in);
            free(W);
            W = Wr;
        }
        for (int64_t nt = 1; nt <= n_tok; nt += n_tok - 1)
            for (int on = 0; on < 2; on++) {
                orx_cpu_set_decode_prefetch(on ? ORX_PF_ON : ORX_PF_OFF);
                orx_matmul_decode(pool, t, W, n_out, n_in, X, nt, Y[on]);
                if (on && memcmp(Y[0], Y[1], (size_t)(nt * n_out) * sizeof(float)))
                    fail_msg("%s, %ld token(s): results differ with and without prefetch", orx_type_name(t), (long)nt);
            }
        print_message("%-8s same bits with and without prefetch (1 and %ld tokens)\n", orx_type_name(t), (long)n_tok);
        free(W);
        free(deq);
    }
    orx_cpu_set_decode_prefetch(ORX_PF_AUTO);
    free(X); free(Y[0]); free(Y[1]);
    orx_threadpool_free(pool);
}

static void test_prefetch_tune(void **state) {
    (void)state;
    if (strcmp(orx_kernel_best(ORX_TYPE_Q8_0).isa, "avx512") && strcmp(orx_kernel_best(ORX_TYPE_Q8_0).isa, "amx")) {
        print_message("SKIPPED: no AVX-512 kernels on this CPU (the prefetch switch is theirs)\n");
        skip();
    }
    orx_threadpool *pool = orx_threadpool_create(2);
    enum { NM = 18 };
    const int64_t n = 2048;
    size_t mb = orx_type_row_bytes(ORX_TYPE_Q8_0, n) * (size_t)n; /* 4.25 MiB */
    uint8_t *buf = malloc(mb * NM);
    assert_non_null(buf);
    memset(buf, 0x11, mb * NM); /* Q8_0 blocks: a small F16 scale, values 17 */
    orx_pf_mat mats[NM];
    for (int i = 0; i < NM; i++) mats[i] = (orx_pf_mat){ORX_TYPE_Q8_0, buf + mb * i, n, n, mb};
    char rep[512];
    /* forced on or off: nothing measured */
    orx_cpu_set_decode_prefetch(ORX_PF_OFF);
    assert_int_equal(orx_cpu_tune_prefetch(pool, mats, NM), 0);
    orx_cpu_set_decode_prefetch(ORX_PF_AUTO);
    /* a model of 12.8 MiB stays in cache: nothing measured */
    assert_int_equal(orx_cpu_tune_prefetch(pool, mats, 3), 0);
    assert_int_equal(orx_cpu_prefetch_report(rep, sizeof rep), 0);
    /* 76.5 MiB: Q8_0 measured once; the bit follows the faster median */
    assert_int_equal(orx_cpu_tune_prefetch(pool, mats, NM), 1);
    assert_int_equal(orx_cpu_tune_prefetch(pool, mats, NM), 0);
    assert_true(orx_cpu_prefetch_report(rep, sizeof rep) > 0);
    print_message("%s\n", rep);
    double with = 0, without = 0;
    char mode[8];
    assert_int_equal(sscanf(rep, "Q8_0: %3s (%lf ms with, %lf ms without", mode, &with, &without), 3);
    assert_true(with > 0 && without > 0);
    bool on = atomic_load(&orx_cpu_pf_one) >> ORX_PFK_Q8_0 & 1;
    assert_int_equal(on, with < without);
    assert_string_equal(mode, on ? "on" : "off");
    assert_int_equal(orx_cpu_pf_kind(ORX_TYPE_Q8_0), ORX_PFK_Q8_0);
    assert_int_equal(orx_cpu_pf_kind(ORX_TYPE_F16), -1);
    free(buf);
    orx_threadpool_free(pool);
}

static void test_avx2(void **state) { (void)state; run_isa("avx2"); }
static void test_avx512(void **state) { (void)state; run_isa("avx512"); }
static void test_amx(void **state) { (void)state; run_isa("amx"); }

static void test_dispatch(void **state) {
    (void)state;
    print_message("cpu: %s\n", orx_cpu_describe());
    for (size_t ti = 0; ti < N_TYPES; ti++) assert_non_null(orx_kernel_best(k_types[ti]).vec_dot);
    orx_cpu_force_isa("scalar");
    assert_string_equal(orx_kernel_best(ORX_TYPE_Q4_0).isa, "scalar");
    orx_cpu_force_isa(NULL);
    assert_null(orx_kernel_best(ORX_TYPE_Q2_K).vec_dot);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_amx),
        cmocka_unit_test(test_r16),
        cmocka_unit_test(test_prefetch_same_bits),
        cmocka_unit_test(test_prefetch_tune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
