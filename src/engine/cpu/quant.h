/*
 * quant.h — tensor types (ggml's ids, as stored in GGUF files), their block layouts,
 * dequantisation, quantisation, and the matrix multiply the forward pass uses.
 *
 * Layout facts follow the published GGUF/ggml block formats (little-endian, packed):
 *   Q4_0  32 values: f16 d, 16 B nibbles; x = (q - 8) * d; low nibbles = values 0..15, high = 16..31
 *   Q4_1  32 values: f16 d, f16 m, 16 B nibbles; x = q * d + m
 *   Q5_0  32 values: f16 d, u32 qh (5th bits), 16 B nibbles; x = (q - 16) * d
 *   Q5_1  32 values: f16 d, f16 m, u32 qh, 16 B nibbles; x = q * d + m
 *   Q8_0  32 values: f16 d, 32 x int8; x = q * d
 *   Q8_1  32 values: f16 d, f16 s (= d * sum q), 32 x int8 (activations only)
 *   Q4_K 256 values: f16 d, f16 dmin, 12 B packed 6-bit scales/mins (8 sub-blocks of 32), 128 B nibbles
 *   Q5_K 256 values: as Q4_K plus 32 B of 5th bits
 *   Q6_K 256 values: 128 B low 4 bits, 64 B high 2 bits, 16 x int8 scales (sub-blocks of 16), f16 d
 *   Q8_K 256 values: f32 d, 256 x int8, 16 x int16 block sums (activations only)
 *
 * Numerics follow llama.cpp's CPU backend: for quantised weights, activations are quantised to
 * the weight type's "dot type" (Q8_0, Q8_1 or Q8_K) and integer dot products are scaled per block;
 * F16/BF16 weights see activations rounded to F16/BF16; F32 is plain.
 */
#ifndef ORX_ENGINE_QUANT_H
#define ORX_ENGINE_QUANT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/cpu/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
 * Types
 * ========================================================================================== */
typedef enum orx_ggml_type {
    ORX_TYPE_F32 = 0, ORX_TYPE_F16 = 1, ORX_TYPE_Q4_0 = 2, ORX_TYPE_Q4_1 = 3,
    ORX_TYPE_Q5_0 = 6, ORX_TYPE_Q5_1 = 7, ORX_TYPE_Q8_0 = 8, ORX_TYPE_Q8_1 = 9,
    ORX_TYPE_Q2_K = 10, ORX_TYPE_Q3_K = 11, ORX_TYPE_Q4_K = 12, ORX_TYPE_Q5_K = 13,
    ORX_TYPE_Q6_K = 14, ORX_TYPE_Q8_K = 15, ORX_TYPE_BF16 = 30,
    /* In memory only, never in a file (above ggml's ids; orx_type_supported() is false for it, so
     * a GGUF naming it is rejected): Q4_0 / Q4_K / Q8_0 / Q6_K / Q5_K rows repacked 16 to a
     * register at load (below). */
    ORX_TYPE_Q4_0_R16 = 63, ORX_TYPE_Q4_K_R16 = 62, ORX_TYPE_Q8_0_R16 = 61, ORX_TYPE_Q6_K_R16 = 60,
    ORX_TYPE_Q5_K_R16 = 59
} orx_ggml_type;

#define ORX_TYPE_COUNT 64 /* upper bound of ids in our tables */
#define ORX_HAVE_Q8_0_R16 1 /* this tree has Q8_0_R16 */
#define ORX_HAVE_Q6_K_R16 1 /* this tree has Q6_K_R16 */
#define ORX_HAVE_Q5_K_R16 1 /* this tree has Q5_K_R16 */

const char *orx_type_name(uint32_t type);                 /* "Q4_K"; "?" if unknown */
bool        orx_type_supported(uint32_t type);            /* we can dequantize + matmul it */
bool        orx_type_known(uint32_t type);                /* block size known (may be unsupported) */
int64_t     orx_type_block_values(uint32_t type);         /* values per block (1 for F32/F16/BF16); 0 unknown */
size_t      orx_type_block_bytes(uint32_t type);          /* 0 if unknown */
size_t      orx_type_row_bytes(uint32_t type, int64_t n); /* n must be a multiple of block values */
/* The type activations are converted to for orx_matmul with weights of `type`. */
uint32_t    orx_type_dot_type(uint32_t type);

/* Dequantize n values (n a multiple of the block size). Unsupported types write zeros. */
void orx_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);
/* Quantize n values with the reference (round-to-nearest) quantiser; used by the writer. */
void orx_quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

float    orx_fp16_to_f32(uint16_t h);
uint16_t orx_f32_to_fp16(float f); /* round to nearest even, like F16C */
float    orx_bf16_to_f32(uint16_t h);
uint16_t orx_f32_to_bf16(float f); /* round to nearest even */

/* ============================================================================================
 * Matrix multiply
 * ========================================================================================== */
/* Y[t][o] = sum_i W[o][i] * X[t][i] for t < n_tok, o < n_out. W has n_in values per row, row-major
 * [n_out][n_in] of type wtype; X [n_tok][n_in], Y [n_tok][n_out] f32. Split over the pool by output
 * rows (pool may be NULL = single thread). Scratch for the converted activations is kept per
 * calling thread and reused (no allocation once warm). */
void orx_matmul(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *X, int64_t n_tok, float *Y);
/* The same product with every token's row computed exactly as a one-token orx_matmul computes it
 * (bit for bit: the decode kernels), a chunk of weight rows read from memory once for all tokens
 * and from cache for the rest. For verifying drafted tokens in one pass with decode's numbers. */
void orx_matmul_decode(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out, int64_t n_in,
                       const float *X, int64_t n_tok, float *Y);
/* Same with the plain scalar reference kernels (for tests and comparisons). */
void orx_matmul_ref(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out,
                    int64_t n_in, const float *X, int64_t n_tok, float *Y);

/* ============================================================================================
 * Q4_0_R16: Q4_0 repacked for rows-in-lanes kernels (decode and prompt alike)
 *
 * Rows in groups of 16 (n_out a multiple of 16); group g takes the same 16 x row_bytes bytes as
 * its 16 Q4_0 rows, at g x 16 x row_bytes. Per block b (0 .. n_in/32 - 1), 288 bytes:
 *   d[16]    f16 block scales, row r's at 2r
 *   qs[256]  byte 64j + 4r + i (j, i < 4) = Q4_0 qs[4j + i] of row r: its low nibble is value
 *            4j + i, its high nibble value 16 + 4j + i
 * so one 64-byte load j holds 4 values of each of 16 rows twice (low and high nibbles): the
 * weights of one block are four loads and three logic operations per load away from vpdpbusd,
 * each row's sum in its own lane (no horizontal sums, one scale FMA for 16 rows).
 * Values are unchanged: every kernel sees the numbers the Q4_0 rows hold.
 * ========================================================================================== */
/* Q4_K_R16 likewise: group g at g x 16 x row_bytes; per super-block sb, 2304 bytes:
 *   d[16], dmin[16]  f16, row r's at 2r (and 32 + 2r)
 *   scales[192]      the 12 packed scale bytes of each row as three words: word w of row r at
 *                    64 + 64w + 4r (so the 6-bit unpacking runs on 16 rows at once)
 *   qs[2048]         byte 256 + 4 (16 (8c + g) + r) + i (c < 4, g < 8, i < 4) = Q4_K qs[32c + 4g + i]
 *                    of row r: low nibbles are values 4g..4g+3 of sub-block 2c, high nibbles those
 *                    of sub-block 2c + 1 */
/* Q5_K_R16: Q4_K_R16's 2304 bytes per super-block (d, dmin, scales, qs as there), then
 *   qh[512]          byte 2304 + 64g + 4r + i (g < 8, i < 4) = Q5_K qh[4g + i] of row r: bit k is
 *                    the 5th bit of value 4g + i of sub-block k
 * (2816 bytes: 16 x 176, as the file's). */
/* Q8_0_R16 likewise: group g at g x 16 x row_bytes; per block b, 544 bytes:
 *   d[16]    f16 block scales, row r's at 2r
 *   qs[512]  byte 32 + 64j + 4r + i (j < 8, i < 4) = Q8_0 qs[4j + i] of row r plus 128 (stored
 *            xor 0x80: unsigned, the operand vpdpbusd takes unsigned, without a per-load flip)
 * so load j holds values 4j..4j+3 of each of the 16 rows. */
/* Q6_K_R16 likewise: group g at g x 16 x row_bytes; per super-block sb, 3360 bytes (16 x 210, as
 * the file's): values k = 0..255 of a row are its 6-bit q (0..63; the value is q - 32), sub-block
 * j = k / 16 with int8 scale j:
 *   d[16]        f16, row r's at 2r
 *   scales[256]  byte 32 + 32p + 2r + e (p < 8, e < 2) = scale 2p + e of row r (a pair per row: one
 *                sign extension gives the 16 rows' (scale 2p, scale 2p + 1) as int16 pairs)
 *   ql[2048]     byte 288 + 64 (4p + c) + 4r + i (p < 8, c < 4, i < 4): low nibble = the low 4 bits
 *                of value 32p + 4c + i (sub-block 2p), high nibble those of value 32p + 16 + 4c + i
 *                (sub-block 2p + 1) of row r
 *   qh[1024]     byte 2336 + 64j + 4r + i (j < 16, i < 4): bits 2c..2c+1 (c < 4) = the top 2 bits of
 *                value 16j + 4c + i of row r
 * so a sub-block's four 64-byte value vectors (4 values of each row) come from two loads. */
/* Whether weights of `type` with these dimensions are repacked at load for this CPU's kernels,
 * and into which type (*to). */
bool orx_repack_target(uint32_t type, int64_t n_out, int64_t n_in, uint32_t *to);
/* src: n_out rows of n_in values (Q4_0 / Q4_K / Q8_0 / Q6_K / Q5_K); dst: the same bytes as
 * Q4_0_R16 / Q4_K_R16 / Q8_0_R16 / Q6_K_R16 / Q5_K_R16 (n_out % 16 == 0). */
void orx_repack_q4_0_r16(const void *src, void *dst, int64_t n_out, int64_t n_in);
void orx_repack_q4_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in);
void orx_repack_q8_0_r16(const void *src, void *dst, int64_t n_out, int64_t n_in);
void orx_repack_q6_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in);
void orx_repack_q5_K_r16(const void *src, void *dst, int64_t n_out, int64_t n_in);
/* Repack into `to` (orx_repack_target's answer). */
void orx_repack(uint32_t to, const void *src, void *dst, int64_t n_out, int64_t n_in);

/* ============================================================================================
 * Block layouts (for kernels and tests; engine code outside quant/kernels should not need them)
 * ========================================================================================== */
#define ORX_QK 32   /* values per block of the simple quants */
#define ORX_QK_K 256 /* values per super-block of the K-quants */

typedef struct { uint16_t d; uint8_t qs[16]; } orx_block_q4_0;                     /* 18 B */
typedef struct { uint16_t d, m; uint8_t qs[16]; } orx_block_q4_1;                  /* 20 B */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } orx_block_q5_0;      /* 22 B */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } orx_block_q5_1;   /* 24 B */
typedef struct { uint16_t d; int8_t qs[32]; } orx_block_q8_0;                      /* 34 B */
typedef struct { uint16_t d, s; int8_t qs[32]; } orx_block_q8_1;                   /* 36 B */
typedef struct {
    uint16_t d, dmin;     /* super-block scale for scales / for mins (f16) */
    uint8_t  scales[12];  /* 8 x 6-bit scales + 8 x 6-bit mins, packed */
    uint8_t  qs[128];     /* 4-bit quants */
} orx_block_q4_K;                                                                  /* 144 B */
typedef struct {
    uint16_t d, dmin;     /* f16 */
    uint8_t  scales[12];  /* as Q4_K */
    uint8_t  qh[32];      /* 5th bits */
    uint8_t  qs[128];     /* low 4 bits */
} orx_block_q5_K;                                                                  /* 176 B */
typedef struct {
    uint8_t  ql[128];     /* low 4 bits */
    uint8_t  qh[64];      /* high 2 bits */
    int8_t   scales[16];  /* 8-bit scales, one per 16 values */
    uint16_t d;           /* f16 super-block scale */
} orx_block_q6_K;                                                                  /* 210 B */
typedef struct {
    float   d;            /* scale (f32) */
    int8_t  qs[256];      /* quants */
    int16_t bsums[16];    /* sum of qs in groups of 16 */
} orx_block_q8_K;                                                                  /* 292 B */

/* All 8 scales (out[0..7]) and 8 mins (out[8..15]) of a Q4_K/Q5_K block's 12 packed bytes. */
static inline void orx_unpack_k4_scales(const uint8_t *packed, uint8_t out[16]) {
    uint32_t u[4];
    memcpy(u, packed, 12);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
    uint32_t lo_mins = u[1] & m6;
    u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
    u[2] = lo_mins;
    u[0] &= m6;
    memcpy(out, u, 16);
}

/* Unpack the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. */
static inline void orx_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m  = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m  = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* ============================================================================================
 * Kernel interface (quant.c = scalar reference; x86/avx2.c, avx512.c, amx.c = SIMD; cpu.c picks)
 * ========================================================================================== */
/* *s = dot(w, x) over n values; w of the weight type, x of its dot type. */
typedef void (*orx_vec_dot_fn)(int64_t n, float *s, const void *w, const void *x);
/* Convert n f32 activations into the dot type. */
typedef void (*orx_from_float_fn)(const float *x, void *y, int64_t n);
/* Tile: y[t * y_stride + r] = dot(w row r, x row t) for r < nr, t < nt. Row strides in bytes. */
typedef void (*orx_gemm_fn)(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                            size_t x_stride, int nt, float *y, int64_t y_stride);

/* Decode: the one activation row (dot type) rearranged for gemv once per matmul and thread, into
 * prep (ORX_GEMV_PREP_BYTES, 64-byte aligned). False when n is past the kernel's prepared path. */
#define ORX_GEMV_PREP_BYTES ((size_t)64 << 10)
typedef bool (*orx_gemv_prep_fn)(int64_t n, const void *x, void *prep);
/* One activation row x nr weight rows: y[r] = dot(w row r, x); prep = gemv_prep's output or NULL
 * (the kernel then prepares from x itself). */
typedef void (*orx_gemv_fn)(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                            const void *prep, float *y);

/* Decode for nt activation rows at once, each row's results bit-identical to gemv's for it alone:
 * the weights are unpacked once and meet every token with that token's own sequence of
 * operations. x: nt rows of x_stride bytes (dot type); prep: nt layouts of prep_stride bytes
 * (gemv_prep's; NULL = none). y[t * y_stride + r]. */
typedef void (*orx_gemv_multi_fn)(int64_t n, const void *w, size_t w_stride, int nr, const void *x,
                                  size_t x_stride, const void *prep, size_t prep_stride, int nt, float *y,
                                  int64_t y_stride);

/* Whole matmul on activations already in the dot type (Xq rows of x_row bytes); splits over the
 * pool itself. Used for batches of at least mm_min_tok tokens (AMX tiles). */
typedef void (*orx_mm_fn)(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row,
                          int64_t n_out, int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok,
                          float *Y);

typedef struct orx_kernel {
    orx_vec_dot_fn    vec_dot;    /* one row x one token; NULL = unsupported (or an _R16 type: gemv) */
    orx_gemm_fn       gemm;       /* tile; NULL = loop over vec_dot */
    int               tile_rows;  /* preferred rows per gemm call (>= 1) */
    int               tile_toks;  /* preferred tokens per gemm call (>= 1) */
    orx_from_float_fn from_float; /* activations -> dot type (NULL for F32) */
    const char       *isa;        /* "scalar", "avx2", "avx512", "amx" */
    orx_mm_fn         mm;         /* whole-matrix path for batches; NULL = tiles */
    int               mm_min_tok; /* tokens from which mm is used */
    orx_gemv_fn       gemv;       /* single-token path over a chunk of rows; NULL = vec_dot */
    orx_gemv_prep_fn  gemv_prep;  /* activation layout for gemv; NULL = gemv takes x as is */
    orx_gemv_multi_fn gemv_multi; /* several tokens with gemv's numbers (orx_matmul_decode); NULL = none */
} orx_kernel;

/* Scalar reference kernel for weight type `type` (vec_dot NULL if unsupported; the _R16 types,
 * whose rows are not contiguous, have gemv and gemv_multi only, no vec_dot). */
orx_kernel orx_kernel_ref(uint32_t type);
/* Fastest kernel for this CPU (runtime dispatch); falls back to the reference. */
orx_kernel orx_kernel_best(uint32_t type);
/* Kernel for a specific ISA level ("avx2", "avx512", "amx"); vec_dot NULL if not on this CPU. */
orx_kernel orx_kernel_isa(uint32_t type, const char *isa);

/* CPU features (cpu.c, cpuid + xgetbv). */
typedef struct orx_cpu_features {
    bool avx2, fma, f16c;              /* AVX2 level */
    bool avx512f, avx512bw, avx512vl;  /* AVX-512 foundation */
    bool avx512vnni, avx512bf16, avxvnni; /* dot-product extensions */
    bool amx_int8;                     /* AMX tiles usable (CPU + OS permission granted) */
} orx_cpu_features;
const orx_cpu_features *orx_cpu_get(void);
/* Short description "avx2 fma f16c avx512f ..." of what this CPU offers and what is used. */
const char *orx_cpu_describe(void);
/* Cap dispatch at "scalar", "avx2", "avx512" or "amx" (tests/bench); NULL = best. Env ORX_ISA too. */
void orx_cpu_force_isa(const char *isa);
/* Software prefetch of the weight rows in the AVX-512 decode kernels (the _R16 layouts,
 * Q8_0, Q4_K, Q6_K rows streamed from DRAM): ORX_PF_AUTO (default) prefetches when a pass over the
 * weights serves several tokens (drafts, prompt batches), and in one-token passes for the kernels
 * whose bit is set in orx_cpu_pf_one (none until orx_cpu_tune_prefetch measured them faster with
 * it on this machine); ORX_PF_ON / ORX_PF_OFF always / never. Env ORX_PREFETCH=1 / 0 (read with
 * the CPU features), or this call (bench/gemv_cpu stream compares them). Results do not change. */
enum { ORX_PF_AUTO = -1, ORX_PF_OFF = 0, ORX_PF_ON = 1 };
#define ORX_CPU_DECODE_PF 1 /* this tree has the setting */
void orx_cpu_set_decode_prefetch(int mode);
extern atomic_int orx_cpu_decode_pf; /* the setting, read by the kernels (relaxed) */

/* Decode kernels with a prefetch switch: bit (1 << kind) of orx_cpu_pf_one. */
enum {
    ORX_PFK_Q4_0_R16, ORX_PFK_Q4_K_R16, ORX_PFK_Q8_0, ORX_PFK_Q4_K, ORX_PFK_Q6_K, ORX_PFK_Q8_0_R16, ORX_PFK_Q6_K_R16,
    ORX_PFK_Q5_K_R16, ORX_PFK_COUNT
};
extern atomic_uint orx_cpu_pf_one; /* under ORX_PF_AUTO: kinds that prefetch in one-token passes */
/* The kind of weight type wtype's decode kernel (after repacking), -1 for none. */
int orx_cpu_pf_kind(uint32_t wtype);

/* A weight matrix to measure prefetch on (pf_tune.c). */
typedef struct orx_pf_mat {
    uint32_t    type;  /* weight type as the kernels see it (repacked types included) */
    const void *data;  /* the matrix */
    int64_t     n_out; /* rows */
    int64_t     n_in;  /* values per row */
    size_t      bytes; /* size of the matrix */
} orx_pf_mat;
/* Under ORX_PF_AUTO with the AVX-512 kernels, when mats[0..n) (a model's matrices) hold at least
 * 64 MiB (more than the caches: decode streams them from DRAM): for each kind not measured yet in
 * this process with at least 16 MiB of matrices, time one-token matmuls over about 128 MiB of them
 * (fewer: all, after reading 64 MiB to empty the caches) with and without prefetch (8
 * alternations, ABBA) and set its bit in orx_cpu_pf_one when prefetch was faster. Thread-safe;
 * 20-60 ms per kind. Returns the kinds measured by this call. */
int orx_cpu_tune_prefetch(orx_threadpool *pool, const orx_pf_mat *mats, int n);
/* "Q4_K_R16: on (1.62 ms with, 2.41 ms without, 128 MiB); ..." for the kinds measured (as much as
 * fits in cap bytes, NUL-terminated); returns the full length. */
int orx_cpu_prefetch_report(char *buf, size_t cap);

/* Scalar reference activation quantisers (as llama.cpp's x86 path does them). */
void orx_quantize_q8_0_act(const float *x, void *y, int64_t n);
void orx_quantize_q8_1_act(const float *x, void *y, int64_t n);
void orx_quantize_q8_K_act(const float *x, void *y, int64_t n);

#ifdef __cplusplus
}
#endif
#endif /* ORX_ENGINE_QUANT_H */
