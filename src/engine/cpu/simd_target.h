/*
 * simd_target.h — compile a region of functions for an instruction-set level, with GCC or clang.
 *
 *   ORX_TARGET_BEGIN("avx2,fma,f16c")   ...functions...   ORX_TARGET_END
 *
 * GCC: `#pragma GCC push_options` + `#pragma GCC target(...)`; clang: `#pragma clang attribute
 * push(__attribute__((target(...))), apply_to = function)`. Both leave the rest of the file at
 * the baseline level, so the functions are only called after the CPU check (engine/cpu/cpu.c).
 * ORX_HOT_O3 asks GCC for -O3 on one function (clang has no per-function optimisation level).
 */
#ifndef ORX_SIMD_TARGET_H
#define ORX_SIMD_TARGET_H

#define ORX_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define ORX_TARGET_BEGIN(isa) ORX_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define ORX_TARGET_END        ORX_PRAGMA(clang attribute pop)
#define ORX_HOT_O3
#else
#define ORX_TARGET_BEGIN(isa) ORX_PRAGMA(GCC push_options) ORX_PRAGMA(GCC target(isa))
#define ORX_TARGET_END        ORX_PRAGMA(GCC pop_options)
#define ORX_HOT_O3            __attribute__((optimize("O3")))
#endif

#endif /* ORX_SIMD_TARGET_H */
