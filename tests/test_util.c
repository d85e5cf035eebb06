/* test_util.c — util layer: errors, buffers, atomic writes, SHA-256 (FIPS 180-4 vectors; SHA-NI == portable). */
#include "testutil.h"
#include "util/util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ============================================================================================
 * SHA-256: FIPS 180-4 vectors through both compressions; the default (SHA extensions where the
 * CPU has them) against the portable one on random data fed in random pieces
 * ========================================================================================== */
static void sha256_vectors_once(void) {
    char hex[65];
    orx_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    orx_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    orx_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a' fed in uneven pieces, then in one call */
    static const uint8_t million_a[32] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
        0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    orx_sha256 h;
    orx_sha256_init(&h);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) { size_t n = left < sizeof a ? left : sizeof a; orx_sha256_update(&h, a, n); left -= n; }
    uint8_t d[32];
    orx_sha256_final(&h, d);
    assert_memory_equal(d, million_a, 32);
    char *big = malloc(1000000);
    assert_non_null(big);
    memset(big, 'a', 1000000);
    orx_sha256_init(&h);
    orx_sha256_update(&h, big, 1000000);
    orx_sha256_final(&h, d);
    free(big);
    assert_memory_equal(d, million_a, 32);
}

static int sha256_restore_default(void **state) {
    (void)state;
    orx_sha256_force_portable(false);
    return 0;
}

static void test_sha256_vectors(void **state) {
    (void)state;
    orx_sha256_force_portable(true);
    assert_string_equal(orx_sha256_impl(), "portable");
    sha256_vectors_once();
    orx_sha256_force_portable(false);
    print_message("sha256 default path: %s\n", orx_sha256_impl());
    sha256_vectors_once();
}

static uint64_t xorshift64(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Digest of data[0..len) fed in random pieces: mostly short (0..130 bytes, straddling block
 * edges), sometimes up to 256 KiB. */
static void sha256_pieces(const uint8_t *data, size_t len, uint64_t *rng, uint8_t out[32]) {
    orx_sha256 h;
    orx_sha256_init(&h);
    size_t off = 0;
    while (off < len) {
        uint64_t r = xorshift64(rng);
        size_t cap = (r & 7) == 0 ? (size_t)256 << 10 : 131;
        size_t n = (size_t)(r >> 8) % cap;
        if (n > len - off) n = len - off;
        orx_sha256_update(&h, data + off, n);
        off += n;
    }
    orx_sha256_final(&h, out);
}

/* The portable digest in one call vs the default path's digest in random pieces. */
static void sha256_compare(const uint8_t *data, size_t len, uint64_t *rng) {
    uint8_t want[32], got[32];
    orx_sha256 h;
    orx_sha256_force_portable(true);
    orx_sha256_init(&h);
    orx_sha256_update(&h, data, len);
    orx_sha256_final(&h, want);
    orx_sha256_force_portable(false);
    sha256_pieces(data, len, rng, got);
    if (memcmp(want, got, 32) != 0) fail_msg("sha256 paths differ at length %zu", len);
}

static void test_sha256_paths_agree(void **state) {
    (void)state;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t big = (3u << 20) + 37; /* a few MB, not a whole number of blocks */
    uint8_t *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++) data[i] = (uint8_t)(xorshift64(&rng) >> 24);
    for (size_t len = 0; len <= 300; len++) sha256_compare(data + (len % 7), len, &rng);
    size_t sizes[] = {4096, 65536 + 63, (1u << 20) + 1, big - 1, big};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) sha256_compare(data + big - sizes[i], sizes[i], &rng);
    free(data);
    print_message("sha256 %s == portable: lengths 0..300 and 5 of 4 KiB..3 MiB, random pieces\n",
                  orx_sha256_impl());
}

static void test_buf_and_strings(void **state) {
    (void)state;
    orx_buf b;
    orx_buf_init(&b);
    for (int i = 0; i < 1000; i++) assert_true(orx_buf_printf(&b, "%d,", i));
    assert_true(orx_str_starts_with(b.data, "0,1,2,"));
    assert_true(orx_str_ends_with(b.data, "998,999,"));
    char *s = orx_buf_steal(&b);
    assert_null(b.data);
    free(s);
    char t[] = "  Hello \n";
    assert_string_equal(orx_str_trim(t), "Hello");
    assert_true(orx_str_ieq("WarFarin", "warfarin"));
    assert_false(orx_str_ieq("warfarin", "warfarins"));
}

static void test_atomic_write_and_errors(void **state) {
    (void)state;
    char dir[] = "/tmp/orx_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_write_file_atomic(path, "{\"a\":1}", 7, &err), ORX_OK);
    char *data; size_t len;
    assert_int_equal(orx_read_file(path, 0, &data, &len, &err), ORX_OK);
    assert_int_equal(len, 7);
    assert_string_equal(data, "{\"a\":1}");
    free(data);
    /* size limit is enforced with a message naming the file */
    assert_int_equal(orx_read_file(path, 3, &data, &len, &err), ORX_ERR_RANGE);
    assert_non_null(strstr(err.msg, "out.json"));
    /* missing file */
    assert_int_equal(orx_read_file("/nonexistent/x", 0, &data, &len, &err), ORX_ERR_NOT_FOUND);
    /* writing into a missing directory fails and leaves nothing behind */
    snprintf(path, sizeof path, "%s/missing/out.json", dir);
    assert_int_equal(orx_write_file_atomic(path, "x", 1, &err), ORX_ERR_IO);
    assert_int_equal(orx_exit_code(ORX_ERR_PARSE), 2);
    assert_int_equal(orx_exit_code(ORX_ERR_IO), 1);
    assert_int_equal(orx_exit_code(ORX_OK), 0);
    snprintf(path, sizeof path, "%s/out.json", dir);
    unlink(path);
    rmdir(dir);
}

static void test_grow(void **state) {
    (void)state;
    int32_t *v = NULL;
    size_t cap = 0;
    assert_non_null(v = orx_grow(v, &cap, 0, sizeof *v, 4));
    assert_int_equal(cap, 4);
    for (int i = 0; i < 4; i++) v[i] = i;
    assert_ptr_equal(orx_grow(v, &cap, 3, sizeof *v, 4), v); /* room already */
    assert_int_equal(cap, 4);
    assert_non_null(v = orx_grow(v, &cap, 4, sizeof *v, 4)); /* 4 -> 8, contents kept */
    assert_int_equal(cap, 8);
    for (int i = 0; i < 4; i++) assert_int_equal(v[i], i);
    size_t big = SIZE_MAX / 4;
    assert_null(orx_grow(v, &big, big, 8, 4)); /* too large: NULL, array and capacity kept */
    assert_int_equal(big, SIZE_MAX / 4);
    assert_int_equal(v[3], 3);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow),
        cmocka_unit_test_teardown(test_sha256_vectors, sha256_restore_default),
        cmocka_unit_test_teardown(test_sha256_paths_agree, sha256_restore_default),
        cmocka_unit_test(test_buf_and_strings),
        cmocka_unit_test(test_atomic_write_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
