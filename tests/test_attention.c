/*
 * test_attention.c — the fast attention paths (AVX-512, AVX2) against the reference, bit for bit
 * (memcmp), on random queries and caches: F32 and F16-flash numerics, head sizes 64 and 128 (and
 * 80 and 32, which take the scalar dot tails, and 40, which falls back), grouped-query ratios 1, 2,
 * 3, 4, 8 (and 16), contexts of 1 to 600 positions, several causal tokens per chunk, decode with
 * each group's heads split over threads, 1 and 2 threads. The reference itself is checked against
 * a plain double-precision softmax attention. Paths this CPU lacks run as the reference (said
 * loudly); the comparisons still run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "engine/attention.h"
#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 16);
}
static float rnd_unit(void) { return ((float)(rnd_u32() & 0xFFFFFF) + 0.5f) / 16777216.0f; }
static float rnd_normal(void) { return sqrtf(-2.0f * logf(rnd_unit())) * cosf(6.2831853f * rnd_unit()); }

/* One shape: queries for n_tok tokens from pos0, a cache of pos0 + n_tok positions. */
typedef struct shape {
    int   n_head, n_head_kv, head_dim, n_tok, pos0;
    bool  f16;
    int   window;  /* sliding window (0: none) */
    float scale;   /* score scale (0: 1/sqrt(head_dim)) */
    float softcap; /* soft-capping (0: none) */
} shape;

typedef struct fixture {
    shape     sh;
    float    *q;      /* [n_tok][n_head][hd] */
    void     *k, *v;  /* [n_ctx][kv_dim] float or uint16_t */
    float    *kf, *vf; /* the cache's values as floats */
    size_t    kv_dim; /* floats per position */
    int       n_ctx;  /* positions in the cache */
} fixture;

/* Random data; qscale spreads the scores (peaky softmax). */
static void fixture_make(fixture *f, shape sh, float qscale) {
    f->sh = sh;
    f->n_ctx = sh.pos0 + sh.n_tok;
    f->kv_dim = (size_t)sh.n_head_kv * sh.head_dim;
    size_t nq = (size_t)sh.n_tok * sh.n_head * sh.head_dim, nkv = (size_t)f->n_ctx * f->kv_dim;
    f->q = malloc(nq * sizeof(float));
    f->kf = malloc(nkv * sizeof(float));
    f->vf = malloc(nkv * sizeof(float));
    f->k = malloc(nkv * (sh.f16 ? 2 : 4));
    f->v = malloc(nkv * (sh.f16 ? 2 : 4));
    assert_non_null(f->q);
    assert_non_null(f->k);
    assert_non_null(f->v);
    for (size_t i = 0; i < nq; i++) f->q[i] = rnd_normal() * qscale;
    for (size_t i = 0; i < nkv; i++) {
        float a = rnd_normal(), b = rnd_normal();
        if (i % 97 == 5) a = 0.0f, b = -0.0f; /* some exact zeros */
        if (sh.f16) {
            uint16_t ha = orx_f32_to_fp16(a), hb = orx_f32_to_fp16(b);
            ((uint16_t *)f->k)[i] = ha;
            ((uint16_t *)f->v)[i] = hb;
            f->kf[i] = orx_fp16_to_f32(ha);
            f->vf[i] = orx_fp16_to_f32(hb);
        } else {
            ((float *)f->k)[i] = f->kf[i] = a;
            ((float *)f->v)[i] = f->vf[i] = b;
        }
    }
}

static void fixture_free(fixture *f) {
    free(f->q);
    free(f->k);
    free(f->v);
    free(f->kf);
    free(f->vf);
}

static float *run(const fixture *f, orx_threadpool *pool, orx_attn_impl impl, int poison) {
    const shape *sh = &f->sh;
    size_t nq = (size_t)sh->n_tok * sh->n_head * sh->head_dim;
    float *out = malloc(nq * sizeof(float));
    assert_non_null(out);
    memset(out, poison, nq * sizeof(float)); /* every value must be written */
    orx_attn_scratch *s =
        orx_attn_scratch_create(orx_threadpool_size(pool), f->n_ctx, sh->n_head, sh->n_head_kv, sh->head_dim);
    assert_non_null(s);
    orx_attn_job j = {.q = f->q, .k = f->k, .v = f->v, .out = out, .kv_stride = f->kv_dim, .n_tok = sh->n_tok,
                      .pos0 = sh->pos0, .n_head = sh->n_head, .n_head_kv = sh->n_head_kv,
                      .head_dim = sh->head_dim, .f16 = sh->f16, .window = sh->window, .scale = sh->scale,
                      .softcap = sh->softcap};
    orx_attn_run(pool, s, &j, impl);
    orx_attn_scratch_free(s);
    return out;
}

static int g_compared; /* cases compared bit for bit */

/* fast == reference, bit for bit, for the best path (AVX-512 here) and the AVX2 path; returns the
 * reference output (caller frees). */
static float *check_same(const fixture *f, orx_threadpool *pool) {
    const shape *sh = &f->sh;
    size_t nq = (size_t)sh->n_tok * sh->n_head * sh->head_dim;
    float *ref = run(f, pool, ORX_ATTN_IMPL_REF, 0xA5);
    static const orx_attn_impl impls[] = {ORX_ATTN_IMPL_AUTO, ORX_ATTN_IMPL_AVX2};
    for (int k = 0; k < 2; k++) {
        float *fast = run(f, pool, impls[k], 0x5A);
        if (memcmp(ref, fast, nq * sizeof(float)) != 0) {
            size_t i = 0;
            while (i < nq && !memcmp(ref + i, fast + i, sizeof(float))) i++;
            fail_msg("%s %s hd %d heads %d/%d tok %d pos0 %d window %d cap %g threads %d: first difference at %zu: "
                     "%.9g vs %.9g", k ? "avx2" : "best", sh->f16 ? "f16" : "f32", sh->head_dim, sh->n_head,
                     sh->n_head_kv, sh->n_tok, sh->pos0, sh->window, (double)sh->softcap, orx_threadpool_size(pool), i,
                     (double)ref[i], (double)fast[i]);
        }
        free(fast);
    }
    g_compared++;
    return ref;
}

/* Plain softmax attention in double: the reference must agree to rounding. */
static void check_plain(const fixture *f, const float *out) {
    const shape *sh = &f->sh;
    int hd = sh->head_dim, G = sh->n_head / sh->n_head_kv;
    double *w = malloc((size_t)f->n_ctx * sizeof(double));
    for (int t = 0; t < sh->n_tok; t++)
        for (int h = 0; h < sh->n_head; h++) {
            const float *q = f->q + ((size_t)t * sh->n_head + h) * hd;
            int np = sh->pos0 + t + 1, kvh = h / G;
            int lo = sh->window > 0 && np - sh->window > 0 ? np - sh->window : 0; /* first visible */
            double mx = -INFINITY, sum = 0, scale = sh->scale > 0 ? sh->scale : 1.0 / sqrt((double)hd);
            for (int p = 0; p < np; p++) {
                double d = 0;
                for (int i = 0; i < hd; i++) {
                    float qi = sh->f16 ? orx_fp16_to_f32(orx_f32_to_fp16(q[i])) : q[i];
                    d += (double)qi * f->kf[(size_t)p * f->kv_dim + (size_t)kvh * hd + i];
                }
                w[p] = d * scale;
                if (sh->softcap > 0) w[p] = sh->softcap * tanh(w[p] / sh->softcap);
                if (p < lo) w[p] = -INFINITY;
                if (w[p] > mx) mx = w[p];
            }
            for (int p = 0; p < np; p++) sum += w[p] = exp(w[p] - mx);
            for (int i = 0; i < hd; i++) {
                double o = 0, mag = 0;
                for (int p = 0; p < np; p++) {
                    double x = w[p] / sum * f->vf[(size_t)p * f->kv_dim + (size_t)kvh * hd + i];
                    o += x;
                    mag += fabs(x);
                }
                double got = out[((size_t)t * sh->n_head + h) * hd + i];
                double tol = (sh->f16 ? 4e-3 : 1e-5) * (mag + 1e-3);
                if (fabs(got - o) > tol)
                    fail_msg("plain attention differs (%s window %d cap %g scale %g hd %d G %d pos0 %d): t %d h %d i %d: %.9g vs %.9g", sh->f16 ? "f16" : "f32", sh->window, (double)sh->softcap, (double)sh->scale, hd, G, sh->pos0, t, h, i, got, o);
            }
        }
    free(w);
}

static void sweep(bool f16) {
    static const int hds[] = {64, 128, 80, 32, 40}; /* 80, 32: scalar dot tails; 40: falls back */
    static const int groups[] = {1, 2, 3, 4, 8};
    static const int ctxs[] = {1, 15, 16, 17, 100, 600};
    orx_threadpool *pools[2] = {NULL, orx_threadpool_create(2)};
    assert_non_null(pools[1]);
    if (!orx_attn_fast_available(64))
        print_message("NOTE: no AVX-512 here: the fast path is the reference (compared anyway)\n");
    for (size_t a = 0; a < sizeof hds / sizeof hds[0]; a++)
        for (size_t b = 0; b < sizeof groups / sizeof groups[0]; b++)
            for (size_t c = 0; c < sizeof ctxs / sizeof ctxs[0]; c++) {
                int L = ctxs[c], n_tok = L < 5 ? L : 5;
                if (hds[a] != 64 && hds[a] != 128 && L > 100) continue; /* odd sizes: short contexts */
                shape sh = {.n_head = 2 * groups[b], .n_head_kv = 2, .head_dim = hds[a], .n_tok = n_tok,
                            .pos0 = L - n_tok, .f16 = f16};
                fixture f;
                fixture_make(&f, sh, c % 2 ? 3.0f : 1.0f);
                for (int p = 0; p < 2; p++) {
                    float *ref = check_same(&f, pools[p]);
                    if (p == 0 && L == 100 && hds[a] == 64) check_plain(&f, ref);
                    free(ref);
                }
                fixture_free(&f);
            }
    orx_threadpool_free(pools[1]);
}

static void test_f32(void **state) {
    (void)state;
    g_compared = 0;
    sweep(false);
    print_message("f32: %d cases bit-identical\n", g_compared);
    assert_true(g_compared > 100);
}

static void test_f16_flash(void **state) {
    (void)state;
    g_compared = 0;
    sweep(true);
    print_message("f16 flash: %d cases bit-identical\n", g_compared);
    assert_true(g_compared > 100);
}

/* A whole prompt chunk from position 0 (every token's causal mask), MHA and GQA, 2 threads,
 * large scores (very peaky softmax, many flash rescales). */
static void test_chunk(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(2);
    for (int f16 = 0; f16 < 2; f16++)
        for (int G = 1; G <= 16; G *= 4) {
            shape sh = {.n_head = 2 * G, .n_head_kv = 2, .head_dim = 64, .n_tok = 40, .pos0 = 0, .f16 = f16};
            fixture f;
            fixture_make(&f, sh, 8.0f);
            free(check_same(&f, pool));
            free(check_same(&f, NULL));
            fixture_free(&f);
        }
    orx_threadpool_free(pool);
}

/* Decode (one token) at long contexts with few KV heads: the groups' heads are split over the
 * threads (MQA: 1 KV head for 8 or 16 query heads). */
static void test_decode(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(2);
    for (int f16 = 0; f16 < 2; f16++)
        for (int kv = 1; kv <= 2; kv++)
            for (int G = 1; G <= 16; G *= 2) {
                shape sh = {.n_head = kv * G, .n_head_kv = kv, .head_dim = G == 2 ? 128 : 64, .n_tok = 1,
                            .pos0 = 300 + G, .f16 = f16};
                fixture f;
                fixture_make(&f, sh, 2.0f);
                free(check_same(&f, pool));
                fixture_free(&f);
            }
    orx_threadpool_free(pool);
}

/* Sliding windows (a token sees the last `window` positions), explicit score scales and
 * soft-capping (gemma2/gemma3): prompt chunks from 0 and from a depth, decode at a depth, both
 * numerics; fast == reference bit for bit, and the reference == plain double attention. */
static void test_window_softcap(void **state) {
    (void)state;
    orx_threadpool *pool = orx_threadpool_create(2);
    static const int windows[] = {1, 6, 16, 17, 40};
    static const float caps[] = {0.0f, 1.5f, 50.0f}, scales[] = {0.0f, 1.0f, 0.125f};
    int n = 0;
    for (int f16 = 0; f16 < 2; f16++)
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
            for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
                for (int layout = 0; layout < 3; layout++) {
                    int G = 1 << layout, hd = layout == 1 ? 128 : layout == 2 ? 32 : 64;
                    int n_tok = layout == 2 ? 1 : 30, pos0 = layout == 0 ? 0 : 57 + (int)w;
                    shape sh = {.n_head = 2 * G, .n_head_kv = 2, .head_dim = hd, .n_tok = n_tok, .pos0 = pos0,
                                .f16 = f16, .window = windows[w], .scale = scales[(w + c) % 3], .softcap = caps[c]};
                    fixture f;
                    fixture_make(&f, sh, 3.0f);
                    float *ref = check_same(&f, pool);
                    check_plain(&f, ref);
                    free(ref);
                    free(check_same(&f, NULL));
                    fixture_free(&f);
                    n++;
                }
    print_message("window/scale/soft-cap: %d shapes bit-identical and equal to plain attention\n", n);
    orx_threadpool_free(pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_softcap),
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_f16_flash),
        cmocka_unit_test(test_chunk),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
