/* test_golden_arch.c — architecture plumbing checked by equivalence on small random models
 * (and orx_generate: n_predict, callback stop, full context, seeded sampling)
 * written with the GGUF writer (no external reference needed):
 *   phi3 (fused attn_qkv, fused [gate; up] ffn_up)  ==  qwen2 with zero biases, same weights;
 *   llama with rope_freqs = 2 everywhere            ==  llama with linear rope scaling factor 2;
 *   gemma with ffn_up = 0 (no FFN contribution)     ==  qwen2 with embeddings scaled by sqrt(E);
 *   unknown architecture / missing tensor / wrong shape  ->  clear errors. */
#include "testutil.h"
#include "engine/engine.h"
#include "engine/cpu/quant.h"
#include "util/util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { E = 64, NH = 4, NKV = 2, HD = 16, FF = 96, V = 100, NL = 2, QD = NH * HD, KD = NKV * HD };

typedef struct weights {
    float emb[V * E], out[V * E], onorm[E];
    float anorm[NL][E], fnorm[NL][E];
    float q[NL][QD * E], k[NL][KD * E], v[NL][KD * E], o[NL][E * QD];
    float gate[NL][FF * E], up[NL][FF * E], down[NL][E * FF];
} weights;

static uint64_t g_rng = 42;
static float urand(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((g_rng >> 40) / 16777216.0 - 0.5);
}
static void fill(float *p, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) p[i] = urand() * scale;
}

typedef struct variant {
    const char *arch;       /* general.architecture */
    bool        fused;      /* phi3 layout */
    bool        biases;     /* write zero attention biases */
    bool        tied;       /* no output.weight */
    float       emb_mul;    /* multiply token_embd by this when writing */
    float       rope_freqs; /* > 0: write rope_freqs.weight filled with it */
    float       linear;     /* > 0: rope.scaling.type linear with this factor */
} variant;

static void add(orx_gguf_writer *w, const char *name, const float *data, int64_t ne0, int64_t ne1) {
    orx_error e = ORX_ERROR_INIT;
    int64_t ne[2] = {ne0, ne1};
    assert_int_equal(orx_gguf_writer_add_tensor(w, name, ORX_TYPE_F32, ne1 > 1 ? 2 : 1, ne, data, true, &e), ORX_OK);
}

static void key_u32(orx_gguf_writer *w, const char *arch, const char *k, uint32_t v) {
    char key[128];
    orx_error e = ORX_ERROR_INIT;
    snprintf(key, sizeof key, "%s.%s", arch, k);
    assert_int_equal(orx_gguf_writer_set_u32(w, key, v, &e), ORX_OK);
}

static const char *write_model(const weights *W, const variant *vr, const char *tag) {
    static char path[8][256];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 256, "/tmp/orx_arch_%d_%s.gguf", (int)getpid(), tag);
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    assert_int_equal(orx_gguf_writer_set_str(w, "general.architecture", vr->arch, &e), ORX_OK);
    key_u32(w, vr->arch, "embedding_length", E);
    key_u32(w, vr->arch, "block_count", NL);
    key_u32(w, vr->arch, "feed_forward_length", FF);
    key_u32(w, vr->arch, "attention.head_count", NH);
    key_u32(w, vr->arch, "attention.head_count_kv", NKV);
    key_u32(w, vr->arch, "context_length", 64);
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", vr->arch);
    assert_int_equal(orx_gguf_writer_set_f32(w, key, 1e-5f, &e), ORX_OK);
    if (vr->linear > 0) {
        snprintf(key, sizeof key, "%s.rope.scaling.type", vr->arch);
        assert_int_equal(orx_gguf_writer_set_str(w, key, "linear", &e), ORX_OK);
        snprintf(key, sizeof key, "%s.rope.scaling.factor", vr->arch);
        assert_int_equal(orx_gguf_writer_set_f32(w, key, vr->linear, &e), ORX_OK);
    }
    float *emb = malloc(sizeof W->emb);
    for (int i = 0; i < V * E; i++) emb[i] = W->emb[i] * vr->emb_mul;
    add(w, "token_embd.weight", emb, E, V);
    free(emb);
    if (!vr->tied) add(w, "output.weight", W->out, E, V);
    add(w, "output_norm.weight", W->onorm, E, 1);
    if (vr->rope_freqs > 0) {
        float rf[HD / 2];
        for (int i = 0; i < HD / 2; i++) rf[i] = vr->rope_freqs;
        add(w, "rope_freqs.weight", rf, HD / 2, 1);
    }
    static float zeros[QD];
    float *qkv = malloc(sizeof(float) * (QD + 2 * KD) * E), *gu = malloc(sizeof(float) * 2 * FF * E);
    for (int l = 0; l < NL; l++) {
        char n[64];
#define T(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
        add(w, T("attn_norm.weight"), W->anorm[l], E, 1);
        add(w, T("ffn_norm.weight"), W->fnorm[l], E, 1);
        add(w, T("attn_output.weight"), W->o[l], QD, E);
        add(w, T("ffn_down.weight"), W->down[l], FF, E);
        if (vr->fused) {
            memcpy(qkv, W->q[l], sizeof W->q[l]);
            memcpy(qkv + QD * E, W->k[l], sizeof W->k[l]);
            memcpy(qkv + (QD + KD) * E, W->v[l], sizeof W->v[l]);
            add(w, T("attn_qkv.weight"), qkv, E, QD + 2 * KD);
            memcpy(gu, W->gate[l], sizeof W->gate[l]);
            memcpy(gu + FF * E, W->up[l], sizeof W->up[l]);
            add(w, T("ffn_up.weight"), gu, E, 2 * FF);
        } else {
            add(w, T("attn_q.weight"), W->q[l], E, QD);
            add(w, T("attn_k.weight"), W->k[l], E, KD);
            add(w, T("attn_v.weight"), W->v[l], E, KD);
            add(w, T("ffn_gate.weight"), W->gate[l], E, FF);
            add(w, T("ffn_up.weight"), W->up[l], E, FF);
        }
        if (vr->biases) {
            add(w, T("attn_q.bias"), zeros, QD, 1);
            add(w, T("attn_k.bias"), zeros, KD, 1);
            add(w, T("attn_v.bias"), zeros, KD, 1);
        }
#undef T
    }
    free(qkv);
    free(gu);
    assert_int_equal(orx_gguf_writer_write(w, p, NULL, NULL, &e), ORX_OK);
    orx_gguf_writer_free(w);
    return p;
}

static weights *random_weights(void) {
    weights *W = malloc(sizeof *W);
    fill(W->emb, V * E, 2.0f);
    fill(W->out, V * E, 0.5f);
    for (int i = 0; i < E; i++) W->onorm[i] = 1.0f + urand() * 0.2f;
    for (int l = 0; l < NL; l++) {
        for (int i = 0; i < E; i++) W->anorm[l][i] = 1.0f + urand() * 0.2f, W->fnorm[l][i] = 1.0f + urand() * 0.2f;
        fill(W->q[l], QD * E, 0.5f);
        fill(W->k[l], KD * E, 0.5f);
        fill(W->v[l], KD * E, 0.5f);
        fill(W->o[l], E * QD, 0.3f);
        fill(W->gate[l], FF * E, 0.3f);
        fill(W->up[l], FF * E, 0.3f);
        fill(W->down[l], E * FF, 0.3f);
    }
    return W;
}

/* logits of every token of a fixed 12-token sequence, evaluated in two batches; weights resident
 * (the default, repacked for the kernels where the CPU wants it), resident in the file's layout
 * (no_repack), or used in place from the file map */
static float *run_pp(const char *path, bool use_mmap, bool no_repack, int32_t *n_vocab) {
    orx_error e = ORX_ERROR_INIT;
    orx_model *m;
    orx_model_params mp = orx_model_default_params();
    mp.use_mmap = use_mmap;
    mp.no_repack = no_repack;
    assert_int_equal(orx_model_load_params(path, &mp, &m, &e), ORX_OK);
    orx_context_params cp = orx_context_default_params();
    cp.n_threads = 2;
    cp.n_ctx = 32;
    orx_context *c;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    int32_t nv = orx_context_n_vocab(c);
    int32_t toks[12] = {1, 5, 99, 42, 7, 7, 13, 0, 64, 3, 88, 21};
    float *out = malloc(sizeof(float) * 12 * (size_t)nv);
    assert_int_equal(orx_context_eval(c, toks, 8, true, &e), ORX_OK);
    for (int i = 0; i < 8; i++) memcpy(out + (size_t)i * nv, orx_context_logits(c, i), sizeof(float) * nv);
    for (int i = 8; i < 12; i++) { /* one-token decode steps */
        assert_int_equal(orx_context_eval(c, &toks[i], 1, false, &e), ORX_OK);
        memcpy(out + (size_t)i * nv, orx_context_logits(c, -1), sizeof(float) * nv);
    }
    orx_context_free(c);
    orx_model_free(m);
    if (n_vocab) *n_vocab = nv;
    return out;
}

static float *run_p(const char *path, bool use_mmap, int32_t *n_vocab) { return run_pp(path, use_mmap, false, n_vocab); }

static float *run(const char *path) {
    float *out = run_p(path, false, NULL);
    unlink(path);
    return out;
}

static double maxdiff(const float *a, const float *b, size_t n) {
    double d = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(a[i] - b[i]) > d) d = fabs(a[i] - b[i]);
        if (fabs(a[i]) > mx) mx = fabs(a[i]);
    }
    assert_true(mx > 0.1); /* logits are not trivially zero */
    return d;
}

static void test_phi3_equals_qwen2(void **state) {
    weights *W = random_weights();
    variant qwen = {"qwen2", false, true, false, 1.0f, 0, 0}, phi = {"phi3", true, false, false, 1.0f, 0, 0};
    float *a = run(write_model(W, &qwen, "qwen2")), *b = run(write_model(W, &phi, "phi3"));
    double d = maxdiff(a, b, 12 * V);
    printf("  phi3 (fused) vs qwen2 (separate, zero biases): max |dlogit| %.3g\n", d);
    assert_true(d <= 1e-5);
    /* and the rope layout matters: llama (adjacent pairs) differs from qwen2 (halves) */
    variant llama = {"llama", false, false, false, 1.0f, 0, 0};
    float *c = run(write_model(W, &llama, "llama"));
    assert_true(maxdiff(a, c, 12 * V) > 1e-3);
    free(a), free(b), free(c), free(W);
}

static void test_rope_freqs_equals_linear(void **state) {
    weights *W = random_weights();
    variant f2 = {"llama", false, false, true, 1.0f, 2.0f, 0}, lin = {"llama", false, false, true, 1.0f, 0, 2.0f};
    variant plain = {"llama", false, false, true, 1.0f, 0, 0};
    float *a = run(write_model(W, &f2, "freqs")), *b = run(write_model(W, &lin, "linear"));
    float *c = run(write_model(W, &plain, "plain"));
    double d = maxdiff(a, b, 12 * V);
    printf("  llama rope_freqs=2 vs linear scaling 2: max |dlogit| %.3g\n", d);
    assert_true(d <= 1e-5);
    assert_true(maxdiff(a, c, 12 * V) > 1e-3); /* scaling changes the result */
    free(a), free(b), free(c), free(W);
}

static void test_gemma_embedding_scale(void **state) {
    weights *W = random_weights();
    for (int l = 0; l < NL; l++) memset(W->up[l], 0, sizeof W->up[l]); /* FFN output = 0 either way */
    variant gem = {"gemma", false, false, false, 1.0f, 0, 0};
    variant qwen = {"qwen2", false, true, false, sqrtf((float)E), 0, 0};
    float *a = run(write_model(W, &gem, "gemma")), *b = run(write_model(W, &qwen, "qwen2s"));
    double d = maxdiff(a, b, 12 * V);
    printf("  gemma vs qwen2 with embeddings x sqrt(E): max |dlogit| %.3g\n", d);
    assert_true(d <= 1e-4);
    free(a), free(b), free(W);
}

static void test_errors(void **state) {
    weights *W = random_weights();
    orx_error e = ORX_ERROR_INIT;
    orx_model *m;
    variant bad = {"mamba", false, false, false, 1.0f, 0, 0};
    const char *p = write_model(W, &bad, "mamba");
    assert_int_equal(orx_model_load(p, &m, &e), ORX_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "architecture 'mamba' is not supported"));
    unlink(p);
    variant q = {"qwen2", false, false, false, 1.0f, 0, 0}; /* qwen2 needs its biases */
    p = write_model(W, &q, "nobias");
    assert_int_equal(orx_model_load(p, &m, &e), ORX_ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "missing tensor 'blk.0.attn_q.bias'"));
    unlink(p);
    variant ph = {"phi3", false, false, false, 1.0f, 0, 0}; /* phi3 with separate gate/up: wrong up shape */
    p = write_model(W, &ph, "phi3sep");
    assert_int_equal(orx_model_load(p, &m, &e), ORX_ERR_INVALID);
    assert_non_null(strstr(e.msg, "ffn_up.weight' has shape"));
    unlink(p);
    assert_int_not_equal(orx_model_load("/nonexistent.gguf", &m, &e), ORX_OK);
    free(W);
}

/* orx_generate on a small random model: n_predict, the callback's stop, a full context, seeds. */
typedef struct collect {
    int32_t ids[64]; /* tokens seen */
    int     n;       /* count */
    int     stop_at; /* return false after this many */
} collect;
static bool on_tok(void *ud, int32_t token, const char *piece, size_t len) {
    collect *c = ud;
    c->ids[c->n++] = token;
    return c->n < c->stop_at;
}

static void gen(orx_model *m, int n_ctx, int n_predict, int stop_at, uint64_t seed, float temp, collect *out,
                orx_generate_stats *st) {
    orx_error e = ORX_ERROR_INIT;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    orx_context *c;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    orx_generate_params gp = orx_generate_default_params();
    gp.n_predict = n_predict;
    gp.sampling.temp = temp;
    gp.sampling.seed = seed;
    memset(out, 0, sizeof *out);
    out->stop_at = stop_at;
    int32_t prompt[3] = {1, 2, 3};
    assert_int_equal(orx_generate(c, NULL, prompt, 3, &gp, on_tok, out, st, &e), ORX_OK);
    orx_context_free(c);
}

static void test_generate(void **state) {
    weights *W = random_weights();
    variant llama = {"llama", false, false, false, 1.0f, 0, 0};
    const char *p = write_model(W, &llama, "gen");
    orx_error e = ORX_ERROR_INIT;
    orx_model *m;
    assert_int_equal(orx_model_load(p, &m, &e), ORX_OK);
    collect a, b, c;
    orx_generate_stats st;
    gen(m, 32, 10, 100, 1, 0.0f, &a, &st); /* greedy: n_predict tokens */
    assert_int_equal(a.n, 10);
    assert_int_equal(st.n_gen, 10);
    assert_int_equal(st.n_prompt, 3);
    gen(m, 32, 10, 4, 1, 0.0f, &b, &st); /* the callback stops after 4 */
    assert_int_equal(b.n, 4);
    assert_memory_equal(a.ids, b.ids, 4 * sizeof(int32_t));
    gen(m, 8, 20, 100, 1, 0.0f, &c, &st); /* context of 8: 3 prompt + 5 fed back + the last sampled */
    assert_int_equal(c.n, 6);
    gen(m, 32, 12, 100, 7, 1.0f, &a, &st); /* same seed, same tokens */
    gen(m, 32, 12, 100, 7, 1.0f, &b, &st);
    assert_memory_equal(a.ids, b.ids, 12 * sizeof(int32_t));
    orx_model_free(m);
    unlink(p);
    free(W);
}

/* The resident copy in the file's layout (fused q/k/v and gate/up matmuls) gives exactly the file
 * map's logits; repacked for the kernels (Q4_0 on AVX-512 without AMX: Q4_0_R16, the same values
 * summed in another order) within 1e-4 of the largest logit, with the same greedy token at every
 * position. */
static void check_resident(const char *path) {
    int32_t nv;
    float *a = run_p(path, true, &nv), *b = run_pp(path, false, true, NULL), *c = run_p(path, false, NULL);
    size_t n = 12 * (size_t)nv;
    assert_memory_equal(a, b, sizeof(float) * n);
    double d = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(a[i] - c[i]) > d) d = fabs(a[i] - c[i]);
        if (fabs(a[i]) > mx) mx = fabs(a[i]);
    }
    for (int t = 0; t < 12; t++) {
        int ia = 0, ic = 0;
        for (int32_t v = 1; v < nv; v++) {
            if (a[(size_t)t * nv + v] > a[(size_t)t * nv + ia]) ia = v;
            if (c[(size_t)t * nv + v] > c[(size_t)t * nv + ic]) ic = v;
        }
        double dp = 0;
        for (int32_t v = 0; v < nv; v++) dp = fmax(dp, fabs(a[(size_t)t * nv + v] - c[(size_t)t * nv + v]));
        if (getenv("ORX_TEST_VERBOSE")) printf("  position %d: max |dlogit| %.3g\n", t, dp);
        if (ia != ic) printf("  position %d: greedy %d (%.6f, %.6f repacked) vs %d (%.6f, %.6f repacked); max |dlogit| %.3g\n", t, ia,
                             a[(size_t)t * nv + ia], c[(size_t)t * nv + ia], ic, a[(size_t)t * nv + ic], c[(size_t)t * nv + ic], d);
        assert_int_equal(ia, ic);
    }
    printf("  %s: resident copy == file map, %zu logits bit for bit; repacked for the kernels: max |dlogit| "
           "%.3g of max |logit| %.3g, same greedy tokens\n", strrchr(path, '/') + 1, n, d, mx);
    assert_true(d <= 1e-4 * mx);
    free(a), free(b), free(c);
}

static void test_resident_equals_mmap(void **state) {
    weights *W = random_weights();
    variant llama = {"llama", false, false, false, 1.0f, 0, 0}, phi = {"phi3", true, false, false, 1.0f, 0, 0};
    const char *p = write_model(W, &llama, "res-llama");
    check_resident(p);
    unlink(p);
    p = write_model(W, &phi, "res-phi3"); /* fused tensors in the file */
    check_resident(p);
    unlink(p);
    free(W);
    const char *shared = orx_test_shared_dir();
    if (!shared) {
        printf("  SKIPPED quantized cases: ../shared is absent\n");
        return;
    }
    const char *names[] = {"rand-llama-256-Q4_0", "rand-llama-256-Q8_0", "rand-llama-256-Q4_K_M"};
    for (size_t i = 0; i < 3; i++) check_resident(orx_test_path("%s/models/random/%s.gguf", shared, names[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phi3_equals_qwen2), cmocka_unit_test(test_rope_freqs_equals_linear),
        cmocka_unit_test(test_gemma_embedding_scale), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_generate), cmocka_unit_test(test_resident_equals_mmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
