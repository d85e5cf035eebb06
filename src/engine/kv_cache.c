/* kv_cache.c — key/value cache: one row per (layer, position), F32, or F16 (half the memory) for
 * the flash numerics (ORX_ATTN_F16_FLASH), rounded to nearest-even as F16C does. */
#include "engine/model_impl.h"
#include "engine/cpu/quant.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

orx_status orx_kv_cache_init(orx_kv_cache *kv, int32_t n_layer, int32_t n_ctx, int32_t kv_dim, bool f16,
                             orx_error *err) {
    size_t n = (size_t)n_layer * (size_t)n_ctx * (size_t)kv_dim, es = f16 ? sizeof(uint16_t) : sizeof(float);
    kv->k = calloc(n ? n : 1, es);
    kv->v = calloc(n ? n : 1, es);
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->kv_dim = kv_dim;
    kv->f16 = f16;
    if (!kv->k || !kv->v) {
        orx_kv_cache_free(kv);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory for a KV cache of %d tokens (%zu MiB)", n_ctx,
                        2 * n * es >> 20);
    }
    return ORX_OK;
}

void orx_kv_cache_free(orx_kv_cache *kv) {
    free(kv->k);
    free(kv->v);
    kv->k = kv->v = NULL;
}

static size_t row_index(const orx_kv_cache *kv, int32_t il, int32_t pos) {
    return ((size_t)il * (size_t)kv->n_ctx + (size_t)pos) * (size_t)kv->kv_dim;
}

void *orx_kv_cache_k(const orx_kv_cache *kv, int32_t il, int32_t pos) {
    size_t i = row_index(kv, il, pos);
    return kv->f16 ? (void *)((uint16_t *)kv->k + i) : (void *)((float *)kv->k + i);
}

void *orx_kv_cache_v(const orx_kv_cache *kv, int32_t il, int32_t pos) {
    size_t i = row_index(kv, il, pos);
    return kv->f16 ? (void *)((uint16_t *)kv->v + i) : (void *)((float *)kv->v + i);
}

/* F32 -> F16, round to nearest even (F16C where the CPU has it; the same results). */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx,f16c"))) static void to_f16_f16c(uint16_t *d, const float *s, int32_t n) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) d[i] = orx_f32_to_fp16(s[i]);
}
#endif
static void to_f16(uint16_t *d, const float *s, int32_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (orx_cpu_get()->f16c) {
        to_f16_f16c(d, s, n);
        return;
    }
#endif
    for (int32_t i = 0; i < n; i++) d[i] = orx_f32_to_fp16(s[i]);
}

void orx_kv_cache_store(orx_kv_cache *kv, int32_t il, int32_t pos, const float *k, const float *v) {
    size_t i = row_index(kv, il, pos), n = (size_t)kv->kv_dim;
    if (kv->f16) {
        to_f16((uint16_t *)kv->k + i, k, kv->kv_dim);
        to_f16((uint16_t *)kv->v + i, v, kv->kv_dim);
    } else {
        memcpy((float *)kv->k + i, k, n * sizeof(float));
        memcpy((float *)kv->v + i, v, n * sizeof(float));
    }
}
