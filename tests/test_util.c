/* test_util.c — util layer: errors, buffers, atomic writes, SHA-256 (FIPS 180-4 test vectors). */
#include "testutil.h"
#include "util/util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_sha256_vectors(void **state) {
    (void)state;
    char hex[65];
    orx_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    orx_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    orx_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a' fed in uneven pieces */
    orx_sha256 h;
    orx_sha256_init(&h);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) { size_t n = left < sizeof a ? left : sizeof a; orx_sha256_update(&h, a, n); left -= n; }
    uint8_t d[32];
    orx_sha256_final(&h, d);
    assert_int_equal(d[0], 0xcd);
    assert_int_equal(d[31], 0xd0);
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
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_buf_and_strings),
        cmocka_unit_test(test_atomic_write_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
