/*
 * sha256.c — SHA-256 as specified in FIPS 180-4 (section 6.2).
 *
 * Two compression functions: the portable one below, and on x86 CPUs with the SHA extensions
 * one built on SHA256RNDS2 / SHA256MSG1 / SHA256MSG2 (chosen at run time from CPUID, so the file
 * needs no -march flags). Both take any number of whole 64-byte blocks.
 */
#include "util/util.h"
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define ORX_SHA_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* ============================================================================================
 * Portable compression
 * ========================================================================================== */
#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t s[8], const uint8_t blk[64]) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)blk[4 * t] << 24 | (uint32_t)blk[4 * t + 1] << 16 |
               (uint32_t)blk[4 * t + 2] << 8 | blk[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + K[t] + w[t];
        uint32_t S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

static void compress_portable(uint32_t s[8], const uint8_t *p, size_t nblocks) {
    for (; nblocks; nblocks--, p += 64) compress(s, p);
}

/* ============================================================================================
 * SHA extensions (x86): four rounds per SHA256RNDS2 pair, the schedule by SHA256MSG1/MSG2
 *
 * The state lives in two registers, lanes listed from the highest: ABEF = {A, B, E, F} and
 * CDGH = {C, D, G, H}. SHA256RNDS2 runs two rounds on them with W[t]+K[t] in the low two lanes
 * of its third operand and returns the new ABEF; the old ABEF is then the new CDGH.
 * ========================================================================================== */
#ifdef ORX_SHA_X86
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Four rounds; wk = W[t..t+3] + K[t..t+3], W[t] in the lowest lane. */
SHANI_TARGET static inline void shani_rounds4(__m128i *abef, __m128i *cdgh, __m128i wk) {
    __m128i mid = _mm_sha256rnds2_epu32(*cdgh, *abef, wk); /* rounds t, t+1 */
    __m128i end = _mm_sha256rnds2_epu32(*abef, mid, _mm_shuffle_epi32(wk, 0x0E)); /* t+2, t+3 */
    *abef = end;
    *cdgh = mid;
}

/* W[t+16..t+19] from w0 = W[t..t+3], w1 = W[t+4..], w2 = W[t+8..], w3 = W[t+12..]:
 * MSG1 adds sigma0(W[j+1]) to W[j]; the W[j+9] terms come from w2:w3 shifted by one word;
 * MSG2 adds sigma1(W[j+14]), feeding its own first two results into the last two. */
SHANI_TARGET static inline __m128i shani_schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
    __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    return _mm_sha256msg2_epu32(x, w3);
}

/* 16 bytes of big-endian words as four host words, the first in the lowest lane. */
SHANI_TARGET static inline __m128i shani_load_be(const uint8_t *p) {
    const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap32);
}

/* One block on the register state; w[] holds the schedule four words per register. */
SHANI_TARGET static inline void shani_block(__m128i *abef, __m128i *cdgh, const uint8_t *p) {
    __m128i w[4];
    for (int i = 0; i < 4; i++) w[i] = shani_load_be(p + 16 * i);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        __m128i k = _mm_loadu_si128((const __m128i *)(K + 4 * i));
        shani_rounds4(abef, cdgh, _mm_add_epi32(w[i & 3], k));
        if (i < 12) w[i & 3] = shani_schedule(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
    }
}

SHANI_TARGET static void compress_shani(uint32_t s[8], const uint8_t *p, size_t nblocks) {
    /* {A,B,C,D} and {E,F,G,H} (A lowest) to ABEF and CDGH, by reversing each and pairing halves */
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)s), 0x1B);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(s + 4)), 0x1B);
    __m128i abef = _mm_unpackhi_epi64(hgfe, dcba);
    __m128i cdgh = _mm_unpacklo_epi64(hgfe, dcba);
    for (; nblocks; nblocks--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh;
        shani_block(&abef, &cdgh, p);
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i hgdc = _mm_shuffle_epi32(cdgh, 0x1B);
    _mm_storeu_si128((__m128i *)s, _mm_unpacklo_epi64(feba, hgdc));
    _mm_storeu_si128((__m128i *)(s + 4), _mm_unpackhi_epi64(feba, hgdc));
}

/* SHA (CPUID.7.0:EBX bit 29) plus the SSSE3 byte shuffle and SSE4.1 the code above relies on. */
static bool cpu_has_shani(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1)) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & bit_SHA) != 0;
}
#endif

/* ============================================================================================
 * Dispatch
 * ========================================================================================== */
enum { IMPL_UNKNOWN, IMPL_PORTABLE, IMPL_SHANI };
static atomic_int  detected_impl = IMPL_UNKNOWN; /* CPUID result, filled on first use */
static atomic_bool forced_portable = false;

static int current_impl(void) {
    if (atomic_load_explicit(&forced_portable, memory_order_relaxed)) return IMPL_PORTABLE;
    int impl = atomic_load_explicit(&detected_impl, memory_order_relaxed);
    if (impl == IMPL_UNKNOWN) {
        impl = IMPL_PORTABLE;
#ifdef ORX_SHA_X86
        if (cpu_has_shani()) impl = IMPL_SHANI;
#endif
        atomic_store_explicit(&detected_impl, impl, memory_order_relaxed);
    }
    return impl;
}

void orx_sha256_force_portable(bool on) { atomic_store_explicit(&forced_portable, on, memory_order_relaxed); }

const char *orx_sha256_impl(void) { return current_impl() == IMPL_SHANI ? "sha-ni" : "portable"; }

static void compress_blocks(uint32_t s[8], const uint8_t *p, size_t nblocks) {
#ifdef ORX_SHA_X86
    if (current_impl() == IMPL_SHANI) { compress_shani(s, p, nblocks); return; }
#endif
    compress_portable(s, p, nblocks);
}

/* ============================================================================================
 * Streaming interface
 * ========================================================================================== */
void orx_sha256_init(orx_sha256 *h) {
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(h->state, H0, sizeof H0);
    h->nbytes = 0;
    h->nblock = 0;
}

/* Tops up the pending partial block, hashes whole blocks straight from data, keeps the tail. */
void orx_sha256_update(orx_sha256 *h, const void *data, size_t len) {
    const uint8_t *p = data;
    h->nbytes += len;
    if (h->nblock) {
        size_t take = 64 - h->nblock;
        if (take > len) take = len;
        memcpy(h->block + h->nblock, p, take);
        h->nblock += take;
        p += take;
        len -= take;
        if (h->nblock < 64) return;
        compress_blocks(h->state, h->block, 1);
        h->nblock = 0;
    }
    size_t whole = len / 64;
    if (whole) compress_blocks(h->state, p, whole);
    p += whole * 64;
    len -= whole * 64;
    if (len) memcpy(h->block, p, len);
    h->nblock = len;
}

void orx_sha256_final(orx_sha256 *h, uint8_t out[32]) {
    uint64_t bits = h->nbytes * 8;
    uint8_t pad = 0x80;
    orx_sha256_update(h, &pad, 1);
    uint8_t zero = 0;
    while (h->nblock != 56) orx_sha256_update(h, &zero, 1);
    uint8_t lenbe[8];
    for (int i = 0; i < 8; i++) lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
    orx_sha256_update(h, lenbe, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h->state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h->state[i] >> 8);
        out[4 * i + 3] = (uint8_t)h->state[i];
    }
}

/* ============================================================================================
 * Hex digests of buffers and files
 * ========================================================================================== */
static void to_hex(const uint8_t d[32], char out[65]) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[64] = '\0';
}

void orx_sha256_hex(const void *data, size_t len, char out[65]) {
    orx_sha256 h;
    uint8_t d[32];
    orx_sha256_init(&h);
    orx_sha256_update(&h, data, len);
    orx_sha256_final(&h, d);
    to_hex(d, out);
}

orx_status orx_sha256_file_hex(const char *path, char out[65], orx_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return orx_fail(err, ORX_ERR_IO, "%s: cannot open for hashing", path);
    orx_sha256 h;
    orx_sha256_init(&h);
    static __thread uint8_t chunk[1 << 16];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0) orx_sha256_update(&h, chunk, (size_t)r);
    close(fd);
    if (r < 0) return orx_fail(err, ORX_ERR_IO, "%s: read failed while hashing", path);
    uint8_t d[32];
    orx_sha256_final(&h, d);
    to_hex(d, out);
    return ORX_OK;
}
