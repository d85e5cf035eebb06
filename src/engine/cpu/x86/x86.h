/*
 * x86.h — PRIVATE to engine/cpu and engine/attention.c: what the per-ISA files (x86/avx2.c,
 * x86/avx512.c, x86/amx.c) offer the dispatch (cpu.c, attention.c) and share among themselves.
 * Each file holds its ISA's dot products, decode gemv, prompt tiles (the strip driver's tile
 * functions) and attention tiles, compiled with target attributes (no -march); callers check the
 * CPU first (orx_cpu_get).
 */
#ifndef ORX_ENGINE_CPU_X86_H
#define ORX_ENGINE_CPU_X86_H

#include "engine/cpu/quant.h"
#include "engine/cpu/strip.h"
#include "engine/cpu/simd_target.h"
#include "engine/attention_impl.h"

/* Kernel tables per ISA level; vec_dot NULL where a type has no kernel at that level. They do not
 * check the CPU: orx_kernel_isa()/orx_kernel_best() do. */
orx_kernel orx_kernels_avx2(uint32_t type);
orx_kernel orx_kernels_avx512(uint32_t type);
orx_kernel orx_kernels_amx(uint32_t type); /* AMX int8 batches (Q8_0/Q4_0/Q5_0, K-quants), else avx512 */

/* Attention tiles: token t, KV head g, its query heads h0..h0+G-1 (attention.c's dispatch; the
 * results are bit-identical to its reference). */
void orx_attn_item_avx512(const orx_attn_job *j, orx_attn_buf *b, int t, int g, int h0, int G);
void orx_attn_item_avx2(const orx_attn_job *j, orx_attn_buf *b, int t, int g, int h0, int G);

#if defined(__x86_64__)
#include <immintrin.h>

#define ORX_AVX2   __attribute__((target("avx2,fma,f16c")))
#define ORX_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define ORX_AI     __attribute__((always_inline)) static inline /* a kernel's variants, folded per use */

/* F16 -> F32 with F16C (inlined into any caller compiled for AVX2 or above). */
__attribute__((target("f16c"))) static inline float orx_h2f(uint16_t h) { return _cvtsh_ss(h); }
#endif

#endif /* ORX_ENGINE_CPU_X86_H */
