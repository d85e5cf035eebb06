/* test_gguf.c — GGUF reader and writer: metadata of every type (nested arrays included), tensor
 * round-trip for every writable tensor type, damaged files (truncated, tensor past the end,
 * absurd dimension, unknown type, 2^63 string length, bad magic, v1) and a byte-flipping /
 * truncating fuzz loop that must never crash (run under ASan in CI). */
#include "testutil.h"
#include "engine/cpu/quant.h"
#include "gguf/gguf.h"
#include "util/util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ============================================================================================
 * Helpers
 * ========================================================================================== */
static uint64_t g_rng = 0x1234567887654321ull;
static uint32_t rnd(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33);
}
static float gauss(void) { /* Box-Muller */
    double u = (rnd() + 1.0) / 2147483649.0, v = (rnd() + 1.0) / 2147483649.0;
    return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

/* A small valid file with metadata of every type and two tensors. */
static void *small_file(size_t *len) {
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    assert_non_null(w);
    assert_int_equal(orx_gguf_writer_set_str(w, "general.architecture", "llama", &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_u8(w, "t.u8", 200, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_i8(w, "t.i8", -100, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_u16(w, "t.u16", 60000, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_i16(w, "t.i16", -30000, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_u32(w, "t.u32", 4000000000u, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_i32(w, "t.i32", -2000000000, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_u64(w, "t.u64", 1ull << 40, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_u64(w, "t.u64big", 1ull << 63, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_i64(w, "t.i64", -(1ll << 40), &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_f32(w, "t.f32", 1.5f, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_f64(w, "t.f64", 0.25, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_set_bool(w, "t.bool", true, &e), ORX_OK);
    const char *strs[] = {"a", "", "hello world", "\xe2\x96\x81x"};
    assert_int_equal(orx_gguf_writer_set_arr_str(w, "t.strs", strs, NULL, 4, &e), ORX_OK);
    float fa[3] = {0.5f, -1.0f, 2.0f};
    assert_int_equal(orx_gguf_writer_set_arr(w, "t.f32s", ORX_GGUF_FLOAT32, fa, 3, &e), ORX_OK);
    int32_t ia[3] = {7, -8, 9};
    assert_int_equal(orx_gguf_writer_set_arr(w, "t.i32s", ORX_GGUF_INT32, ia, 3, &e), ORX_OK);
    /* nested: array of 2 arrays of u8 {1,2} and {3} */
    uint8_t nested[] = {0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, /* elem type u8, count 2 */ 1, 2,
                        0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3};
    uint8_t raw[12 + sizeof nested];
    uint32_t et = ORX_GGUF_ARRAY;
    uint64_t n = 2;
    memcpy(raw, &et, 4);
    memcpy(raw + 4, &n, 8);
    memcpy(raw + 12, nested, sizeof nested);
    assert_int_equal(orx_gguf_writer_set_raw(w, "t.nested", ORX_GGUF_ARRAY, raw, sizeof raw, &e), ORX_OK);
    float t0[64];
    for (int i = 0; i < 64; i++) t0[i] = (float)i;
    int64_t ne0[2] = {32, 2}, ne1[1] = {5};
    assert_int_equal(orx_gguf_writer_add_tensor(w, "a.weight", ORX_TYPE_F32, 2, ne0, t0, true, &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_add_tensor(w, "b.weight", ORX_TYPE_F32, 1, ne1, t0, true, &e), ORX_OK);
    void *data;
    assert_int_equal(orx_gguf_writer_write_memory(w, &data, len, &e), ORX_OK);
    orx_gguf_writer_free(w);
    return data;
}

static orx_status open_mem(const void *p, size_t n, orx_error *e) {
    orx_gguf *g;
    orx_status st = orx_gguf_open_memory(p, n, &g, e);
    if (!st) orx_gguf_close(g);
    return st;
}

/* ============================================================================================
 * Reader over writer output
 * ========================================================================================== */
static void test_metadata_roundtrip(void **state) {
    size_t len;
    void *data = small_file(&len);
    orx_error e = ORX_ERROR_INIT;
    orx_gguf *g;
    assert_int_equal(orx_gguf_open_memory(data, len, &g, &e), ORX_OK);
    assert_int_equal(orx_gguf_version(g), 3);
    assert_int_equal(orx_gguf_alignment(g), 32);
    assert_int_equal(orx_gguf_data_offset(g) % 32, 0);
    uint32_t u;
    int64_t i;
    float f;
    bool b;
    assert_true(orx_gguf_get_u32(g, "t.u8", &u) && u == 200);
    assert_true(orx_gguf_get_i64(g, "t.i8", &i) && i == -100);
    assert_false(orx_gguf_get_u32(g, "t.i8", &u)); /* negative does not fit u32 */
    assert_true(orx_gguf_get_u32(g, "t.u16", &u) && u == 60000);
    assert_true(orx_gguf_get_i64(g, "t.i16", &i) && i == -30000);
    assert_true(orx_gguf_get_u32(g, "t.u32", &u) && u == 4000000000u);
    assert_true(orx_gguf_get_i64(g, "t.i32", &i) && i == -2000000000);
    assert_true(orx_gguf_get_i64(g, "t.u64", &i) && i == 1ll << 40);
    assert_false(orx_gguf_get_u32(g, "t.u64", &u));
    assert_false(orx_gguf_get_i64(g, "t.u64big", &i)); /* 2^63 does not fit int64 */
    assert_true(orx_gguf_get_i64(g, "t.i64", &i) && i == -(1ll << 40));
    assert_true(orx_gguf_get_f32(g, "t.f32", &f) && f == 1.5f);
    assert_true(orx_gguf_get_f32(g, "t.f64", &f) && f == 0.25f);
    assert_false(orx_gguf_get_f32(g, "t.u32", &f));
    assert_true(orx_gguf_get_bool(g, "t.bool", &b) && b);
    assert_false(orx_gguf_get_bool(g, "t.u8", &b));
    const char *s;
    uint64_t n;
    assert_true(orx_gguf_get_str(g, "general.architecture", &s, &n) && n == 5 && !memcmp(s, "llama", 5));
    assert_false(orx_gguf_get_str(g, "t.u8", &s, &n));
    assert_int_equal(orx_gguf_find_key(g, "missing"), -1);
    orx_gguf_vtype et;
    assert_true(orx_gguf_get_arr(g, "t.strs", &et, &n) && et == ORX_GGUF_STRING && n == 4);
    assert_true(orx_gguf_arr_str(g, "t.strs", 2, &s, &n) && n == 11 && !memcmp(s, "hello world", 11));
    assert_true(orx_gguf_arr_str(g, "t.strs", 1, &s, &n) && n == 0);
    assert_true(orx_gguf_arr_str(g, "t.strs", 3, &s, &n) && n == 4);
    assert_false(orx_gguf_arr_str(g, "t.strs", 4, &s, &n));
    assert_true(orx_gguf_arr_f32(g, "t.f32s", 1, &f) && f == -1.0f);
    assert_true(orx_gguf_arr_i64(g, "t.i32s", 1, &i) && i == -8);
    assert_true(orx_gguf_arr_f32(g, "t.i32s", 2, &f) && f == 9.0f);
    assert_false(orx_gguf_arr_i64(g, "t.f32s", 0, &i));
    assert_true(orx_gguf_get_arr(g, "t.nested", &et, &n) && et == ORX_GGUF_ARRAY && n == 2);
    assert_int_equal(orx_gguf_n_tensors(g), 2);
    const orx_gguf_tensor *t = orx_gguf_find_tensor(g, "a.weight");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->ne[0], 32);
    assert_int_equal(t->ne[1], 2);
    assert_int_equal(t->nbytes, 256);
    assert_int_equal(((const float *)t->data)[63], 63.0f);
    t = orx_gguf_find_tensor(g, "b.weight");
    assert_int_equal(t->offset % 32, 0);
    assert_int_equal(((const float *)t->data)[4], 4.0f);
    assert_null(orx_gguf_find_tensor(g, "c.weight"));
    orx_gguf_close(g);
    free(data);
}

/* ============================================================================================
 * Tensor round-trip for every writable type
 * ========================================================================================== */
typedef struct rt_case {
    uint32_t type; /* ggml type */
    double   tol;  /* max RMS error relative to the data's RMS */
} rt_case;

static orx_status fill_fn(void *ctx, int64_t index, const char *name, void *dst, size_t nbytes, orx_error *err) {
    const uint8_t *const *src = ctx;
    memcpy(dst, src[index], nbytes);
    return ORX_OK;
}

static void test_tensor_roundtrip(void **state) {
    static const rt_case CASES[] = {
        {ORX_TYPE_F32, 0},      {ORX_TYPE_F16, 1e-3},   {ORX_TYPE_BF16, 5e-3},  {ORX_TYPE_Q8_0, 1e-2},
        {ORX_TYPE_Q4_0, 0.15},  {ORX_TYPE_Q4_1, 0.15},  {ORX_TYPE_Q5_0, 0.08},  {ORX_TYPE_Q5_1, 0.08},
        {ORX_TYPE_Q4_K, 0.12},  {ORX_TYPE_Q5_K, 0.06},  {ORX_TYPE_Q6_K, 0.03},
    };
    enum { N_CASES = sizeof CASES / sizeof CASES[0], COLS = 512, ROWS = 3 };
    float *src = malloc(sizeof(float) * COLS * ROWS), *back = malloc(sizeof(float) * COLS);
    for (int i = 0; i < COLS * ROWS; i++) src[i] = gauss();
    uint8_t *q[N_CASES];
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    assert_int_equal(orx_gguf_writer_set_u32(w, "general.alignment", 64, &e), ORX_OK);
    for (int c = 0; c < N_CASES; c++) {
        size_t rb = orx_type_row_bytes(CASES[c].type, COLS);
        q[c] = malloc(rb * ROWS);
        for (int r = 0; r < ROWS; r++) orx_quantize_row(CASES[c].type, src + r * COLS, q[c] + r * rb, COLS);
        int64_t ne[2] = {COLS, ROWS};
        char name[32];
        snprintf(name, sizeof name, "t.%s", orx_type_name(CASES[c].type));
        /* half the tensors streamed through the fill callback, half given directly */
        assert_int_equal(orx_gguf_writer_add_tensor(w, name, CASES[c].type, 2, ne, c % 2 ? q[c] : NULL, false, &e), ORX_OK);
    }
    char path[256];
    snprintf(path, sizeof path, "/tmp/orx_test_gguf_%d.gguf", (int)getpid());
    assert_int_equal(orx_gguf_writer_write(w, path, fill_fn, q, &e), ORX_OK);
    orx_gguf_writer_free(w);
    orx_gguf *g;
    assert_int_equal(orx_gguf_open(path, &g, &e), ORX_OK);
    assert_int_equal(orx_gguf_alignment(g), 64);
    for (int c = 0; c < N_CASES; c++) {
        char name[32];
        snprintf(name, sizeof name, "t.%s", orx_type_name(CASES[c].type));
        const orx_gguf_tensor *t = orx_gguf_find_tensor(g, name);
        assert_non_null(t);
        assert_int_equal(t->type, CASES[c].type);
        assert_int_equal(t->offset % 64, 0);
        size_t rb = orx_type_row_bytes(CASES[c].type, COLS);
        assert_int_equal(t->nbytes, rb * ROWS);
        assert_memory_equal(t->data, q[c], rb * ROWS);
        double se = 0, ss = 0;
        for (int r = 0; r < ROWS; r++) {
            orx_dequantize_row(t->type, (const uint8_t *)t->data + r * rb, back, COLS);
            for (int i = 0; i < COLS; i++) {
                double d = back[i] - src[r * COLS + i];
                se += d * d;
                ss += (double)src[r * COLS + i] * src[r * COLS + i];
            }
        }
        double rel = sqrt(se / ss);
        printf("  round-trip %-5s relative RMS error %.2e (tol %.2g)\n", orx_type_name(t->type), rel, CASES[c].tol);
        assert_true(rel <= CASES[c].tol);
        free(q[c]);
    }
    orx_gguf_close(g);
    unlink(path);
    free(src);
    free(back);
}

/* ============================================================================================
 * Damaged files: hand-built bytes
 * ========================================================================================== */
typedef struct raw {
    uint8_t b[512]; /* bytes */
    size_t  n;      /* used */
} raw;
static void put(raw *r, const void *p, size_t n) { memcpy(r->b + r->n, p, n), r->n += n; }
static void put32(raw *r, uint32_t v) { put(r, &v, 4); }
static void put64(raw *r, uint64_t v) { put(r, &v, 8); }
static void putstr(raw *r, const char *s) { put64(r, strlen(s)), put(r, s, strlen(s)); }

/* GGUF v3 with one u32 key and one F32 tensor [dim0] of type ttype at offset toff. */
static void build(raw *r, uint32_t version, uint64_t dim0, uint32_t ttype, uint64_t toff) {
    r->n = 0;
    put(r, "GGUF", 4);
    put32(r, version);
    put64(r, 1);
    put64(r, 1);
    putstr(r, "general.x");
    put32(r, ORX_GGUF_UINT32);
    put32(r, 7);
    putstr(r, "w");
    put32(r, 1);
    put64(r, dim0);
    put32(r, ttype);
    put64(r, toff);
    while (r->n % 32) r->b[r->n++] = 0;
    for (int i = 0; i < 8; i++) put32(r, 0); /* 32 bytes of data */
}

static void expect_error(const raw *r, orx_status code, const char *needle) {
    orx_error e = ORX_ERROR_INIT;
    orx_status st = open_mem(r->b, r->n, &e);
    printf("  -> %s\n", e.msg);
    assert_int_equal(st, code);
    assert_non_null(strstr(e.msg, needle));
}

static void test_bad_inputs(void **state) {
    raw r;
    orx_error e = ORX_ERROR_INIT;
    build(&r, 3, 8, ORX_TYPE_F32, 0);
    assert_int_equal(open_mem(r.b, r.n, &e), ORX_OK); /* the base case is valid */
    build(&r, 2, 8, ORX_TYPE_F32, 0);
    assert_int_equal(open_mem(r.b, r.n, &e), ORX_OK); /* and so is v2 */

    raw t = r; /* truncated inside the tensor info */
    t.n = 60;
    expect_error(&t, ORX_ERR_PARSE, "truncated");
    build(&r, 3, 8, ORX_TYPE_F32, 0); /* truncated data: tensor ends past the file */
    r.n -= 4;
    expect_error(&r, ORX_ERR_PARSE, "past the end");
    build(&r, 3, 8, ORX_TYPE_F32, 1ull << 40); /* offset far away */
    expect_error(&r, ORX_ERR_PARSE, "past the end");
    build(&r, 3, 1ull << 50, ORX_TYPE_F32, 0); /* absurd dimension */
    expect_error(&r, ORX_ERR_PARSE, "absurd");
    build(&r, 3, 8, 99, 0); /* unknown tensor type */
    expect_error(&r, ORX_ERR_UNSUPPORTED, "unknown type 99");
    build(&r, 3, 8, ORX_TYPE_F32, 0); /* string length 2^63 in the first key */
    uint64_t huge = 1ull << 63;
    memcpy(r.b + 24, &huge, 8);
    expect_error(&r, ORX_ERR_PARSE, "key length");
    build(&r, 3, 8, ORX_TYPE_F32, 0);
    memcpy(r.b, "GGML", 4);
    expect_error(&r, ORX_ERR_PARSE, "bad magic");
    build(&r, 1, 8, ORX_TYPE_F32, 0);
    expect_error(&r, ORX_ERR_UNSUPPORTED, "version 1");
    build(&r, 3, 8, ORX_TYPE_F32, 4); /* misaligned offset */
    expect_error(&r, ORX_ERR_PARSE, "alignment");
    build(&r, 3, 8, ORX_TYPE_F32, 0); /* tensor count 2^40 */
    uint64_t many = 1ull << 40;
    memcpy(r.b + 8, &many, 8);
    expect_error(&r, ORX_ERR_PARSE, "tensor count");
    build(&r, 3, 8, ORX_TYPE_F32, 0); /* value type 77 */
    uint32_t bad_vt = 77;
    memcpy(r.b + 24 + 8 + 9, &bad_vt, 4);
    expect_error(&r, ORX_ERR_PARSE, "unknown value type");
    build(&r, 3, 8, ORX_TYPE_Q4_0, 0); /* 8 values is not a whole Q4_0 block */
    expect_error(&r, ORX_ERR_PARSE, "block size");
    expect_error(&(raw){.n = 0}, ORX_ERR_PARSE, "truncated");
    /* a missing file names the path */
    orx_gguf *g;
    assert_int_not_equal(orx_gguf_open("/nonexistent/x.gguf", &g, &e), ORX_OK);
    assert_non_null(strstr(e.msg, "/nonexistent/x.gguf"));
}

/* ============================================================================================
 * Fuzz-ish: every truncation and random byte flips; open must fail cleanly or succeed with
 * every pointer inside the buffer (ASan checks the reads below).
 * ========================================================================================== */
static void touch_all(const orx_gguf *g) {
    volatile uint8_t sink = 0;
    for (int64_t k = 0; k < orx_gguf_n_kv(g); k++) {
        const char *key = orx_gguf_key_at(g, k);
        orx_gguf_vtype et;
        uint64_t n;
        const char *s;
        if (orx_gguf_get_str(g, key, &s, &n) && n) sink ^= (uint8_t)s[n - 1];
        if (orx_gguf_get_arr(g, key, &et, &n))
            for (uint64_t i = 0; i < n && i < 64; i++) {
                float f;
                int64_t v;
                if (orx_gguf_karr_str(g, k, i, &s, &n) && n) sink ^= (uint8_t)s[n - 1];
                if (orx_gguf_karr_f32(g, k, i, &f)) sink ^= (uint8_t)f;
                if (orx_gguf_karr_i64(g, k, i, &v)) sink ^= (uint8_t)v;
            }
    }
    for (int64_t i = 0; i < orx_gguf_n_tensors(g); i++) {
        const orx_gguf_tensor *t = orx_gguf_tensor_at(g, i);
        if (t->nbytes) sink ^= ((const uint8_t *)t->data)[t->nbytes - 1] ^ ((const uint8_t *)t->data)[0];
    }
    (void)sink;
}

static void test_fuzz(void **state) {
    size_t len;
    uint8_t *valid = small_file(&len);
    uint8_t *buf = malloc(len);
    int n_ok = 0, n_err = 0;
    orx_gguf *g0;
    orx_error e0 = ORX_ERROR_INIT;
    assert_int_equal(orx_gguf_open_memory(valid, len, &g0, &e0), ORX_OK);
    const orx_gguf_tensor *last = orx_gguf_tensor_at(g0, orx_gguf_n_tensors(g0) - 1);
    size_t data_end = (size_t)(orx_gguf_data_offset(g0) + last->offset + last->nbytes);
    orx_gguf_close(g0);
    for (size_t cut = 0; cut < len; cut++) { /* every truncation before the data's end fails */
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, valid, cut);
        orx_error e = ORX_ERROR_INIT;
        orx_status st = open_mem(p, cut, &e);
        if (cut < data_end) {
            assert_int_not_equal(st, ORX_OK);
            assert_true(e.msg[0] != '\0');
        } else {
            assert_int_equal(st, ORX_OK); /* only trailing padding is gone */
        }
        free(p);
    }
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, valid, len);
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = rnd() % len;
            buf[at] = rnd() % 3 == 0 ? 0xFF : (uint8_t)(buf[at] ^ (1u << (rnd() % 8)));
        }
        uint8_t *exact = malloc(len); /* exact-size allocation so ASan sees overreads */
        memcpy(exact, buf, len);
        orx_gguf *g;
        orx_error e = ORX_ERROR_INIT;
        if (orx_gguf_open_memory(exact, len, &g, &e) == ORX_OK) {
            touch_all(g);
            orx_gguf_close(g);
            n_ok++;
        } else {
            assert_true(e.msg[0] != '\0');
            n_err++;
        }
        free(exact);
    }
    printf("  fuzz: %zu truncations checked; 3000 mutants: %d opened, %d rejected with a message\n", len,
           n_ok, n_err);
    assert_true(n_err > 0);
    free(buf);
    free(valid);
}

/* ============================================================================================
 * Real files from ../shared
 * ========================================================================================== */
static void test_shared_models(void **state) {
    ORX_REQUIRE_SHARED();
    orx_gguf *g;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_gguf_open(orx_test_path("%s/models/real/stories260K.gguf", orx_test_shared_dir()), &g, &e), ORX_OK);
    assert_int_equal(orx_gguf_n_tensors(g), 48);
    uint32_t u;
    assert_true(orx_gguf_get_u32(g, "llama.embedding_length", &u) && u == 64);
    const char *s;
    uint64_t n;
    assert_true(orx_gguf_arr_str(g, "tokenizer.ggml.tokens", 1, &s, &n));
    assert_int_equal(n, 3); /* "<s>" */
    orx_gguf_close(g);
    assert_int_equal(orx_gguf_open(orx_test_path("%s/models/random/rand-qwen2-gpt2-f32.gguf", orx_test_shared_dir()), &g, &e), ORX_OK);
    orx_gguf_vtype et;
    assert_true(orx_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n) && n == 50257);
    assert_true(orx_gguf_arr_str(g, "tokenizer.ggml.tokens", 50256, &s, &n));
    assert_int_equal(n, 13);
    assert_memory_equal(s, "<|endoftext|>", 13);
    orx_gguf_close(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_roundtrip), cmocka_unit_test(test_tensor_roundtrip),
        cmocka_unit_test(test_bad_inputs),         cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_shared_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
