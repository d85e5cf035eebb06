/*
 * cpu.c — runtime CPU feature detection (cpuid + xgetbv) and kernel dispatch.
 *
 * The build needs no -march: SIMD kernels are compiled with target attributes and chosen here
 * at run time. ORX_ISA=scalar|avx2|avx512 in the environment (or orx_cpu_force_isa) caps the
 * level, for tests and benchmarks.
 */
#include "engine/cpu/x86/x86.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define ORX_X86 1
#endif

/* ============================================================================================
 * Detection
 * ========================================================================================== */
static orx_cpu_features g_feat;
static pthread_once_t   g_once = PTHREAD_ONCE_INIT;
static char             g_desc[256];
static int              g_forced = -1; /* -1 none, 0 scalar, 1 avx2, 2 avx512, 3 amx */
atomic_int              orx_cpu_decode_pf = ORX_PF_AUTO; /* orx_cpu_set_decode_prefetch */

#ifdef ORX_X86
static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static void detect(void) {
    memset(&g_feat, 0, sizeof g_feat);
#ifdef ORX_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    bool fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return;
    unsigned long long xcr0 = xgetbv0();
    bool ymm_ok = (xcr0 & 0x6) == 0x6, zmm_ok = (xcr0 & 0xE6) == 0xE6;
    if (!ymm_ok) return;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    g_feat.avx2 = (b >> 5) & 1;
    g_feat.fma = fma;
    g_feat.f16c = f16c;
    if (zmm_ok) {
        g_feat.avx512f = (b >> 16) & 1;
        g_feat.avx512bw = (b >> 30) & 1;
        g_feat.avx512vl = (b >> 31) & 1;
        g_feat.avx512vnni = (c >> 11) & 1;
    }
    unsigned a1, b1, c1, d1;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    g_feat.avxvnni = (a1 >> 4) & 1;
    if (zmm_ok) g_feat.avx512bf16 = (a1 >> 5) & 1;
    /* AMX: CPU bits (leaf 7 edx 24 tile, 25 int8), then ask Linux for the tile data state */
    if (((d >> 24) & 1) && ((d >> 25) & 1) && g_feat.avx512vnni) {
#if defined(__linux__) && defined(SYS_arch_prctl)
        const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
        if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0)
            g_feat.amx_int8 = (xgetbv0() & (3ull << 17)) == (3ull << 17);
#endif
    }
#endif
    const char *env = getenv("ORX_ISA");
    if (env && g_forced < 0) orx_cpu_force_isa(env);
    const char *pf = getenv("ORX_PREFETCH");
    if (pf && (!strcmp(pf, "1") || !strcmp(pf, "0"))) orx_cpu_set_decode_prefetch(pf[0] == '1' ? ORX_PF_ON : ORX_PF_OFF);
}

const orx_cpu_features *orx_cpu_get(void) {
    pthread_once(&g_once, detect);
    return &g_feat;
}

static bool has_avx2(void) {
    const orx_cpu_features *f = orx_cpu_get();
    return f->avx2 && f->fma && f->f16c;
}

static bool has_avx512(void) {
    const orx_cpu_features *f = orx_cpu_get();
    return has_avx2() && f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni;
}

static bool has_amx(void) { return has_avx512() && orx_cpu_get()->amx_int8; }

void orx_cpu_force_isa(const char *isa) {
    if (!isa) g_forced = -1;
    else if (!strcmp(isa, "scalar")) g_forced = 0;
    else if (!strcmp(isa, "avx2")) g_forced = 1;
    else if (!strcmp(isa, "avx512")) g_forced = 2;
    else if (!strcmp(isa, "amx")) g_forced = 3;
    else g_forced = -1;
}

void orx_cpu_set_decode_prefetch(int mode) {
    atomic_store_explicit(&orx_cpu_decode_pf, mode < 0 ? ORX_PF_AUTO : mode > 0 ? ORX_PF_ON : ORX_PF_OFF,
                          memory_order_relaxed);
}

static int level(void) {
    orx_cpu_get();
    int l = has_amx() ? 3 : has_avx512() ? 2 : has_avx2() ? 1 : 0;
    if (g_forced >= 0 && g_forced < l) l = g_forced;
    return l;
}

const char *orx_cpu_describe(void) {
    const orx_cpu_features *f = orx_cpu_get();
    static const char *lv[] = {"scalar", "avx2", "avx512", "amx"};
    snprintf(g_desc, sizeof g_desc, "%s%s%s%s%s%s%s%s%s%s-> kernels: %s",
             f->avx2 ? "avx2 " : "", f->fma ? "fma " : "", f->f16c ? "f16c " : "",
             f->avx512f ? "avx512f " : "", f->avx512bw ? "avx512bw " : "",
             f->avx512vl ? "avx512vl " : "", f->avx512vnni ? "avx512vnni " : "",
             f->avx512bf16 ? "avx512bf16 " : "", f->avxvnni ? "avxvnni " : "",
             f->amx_int8 ? "amx-int8 " : "", lv[level()]);
    return g_desc;
}

/* ============================================================================================
 * Dispatch
 * ========================================================================================== */
orx_kernel orx_kernel_isa(uint32_t type, const char *isa) {
    orx_kernel none = {NULL, NULL, 1, 1, NULL, isa, NULL, 0, NULL, NULL, NULL};
    if (!isa || !strcmp(isa, "scalar")) return orx_kernel_ref(type);
    if (!strcmp(isa, "avx2")) return has_avx2() ? orx_kernels_avx2(type) : none;
    if (!strcmp(isa, "avx512")) return has_avx512() ? orx_kernels_avx512(type) : none;
    if (!strcmp(isa, "amx")) return has_amx() ? orx_kernels_amx(type) : none;
    return none;
}

orx_kernel orx_kernel_best(uint32_t type) {
    int l = level();
    if (l >= 3) {
        orx_kernel k = orx_kernels_amx(type);
        if (k.vec_dot || k.gemv) return k;
    }
    if (l >= 2) {
        orx_kernel k = orx_kernels_avx512(type);
        if (k.vec_dot || k.gemv) return k;
    }
    if (l >= 1) {
        orx_kernel k = orx_kernels_avx2(type);
        if (k.vec_dot || k.gemv) return k;
    }
    return orx_kernel_ref(type);
}
