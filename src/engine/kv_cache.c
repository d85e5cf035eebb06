/* kv_cache.c — F32 key/value cache: one row per (layer, position). */
#include "engine/model_impl.h"
#include "util/util.h"
#include <stdlib.h>

orx_status orx_kv_cache_init(orx_kv_cache *kv, int32_t n_layer, int32_t n_ctx, int32_t kv_dim,
                             orx_error *err) {
    size_t n = (size_t)n_layer * (size_t)n_ctx * (size_t)kv_dim;
    kv->k = calloc(n ? n : 1, sizeof(float));
    kv->v = calloc(n ? n : 1, sizeof(float));
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->kv_dim = kv_dim;
    if (!kv->k || !kv->v) {
        orx_kv_cache_free(kv);
        return orx_fail(err, ORX_ERR_NOMEM, "out of memory for a KV cache of %d tokens (%zu MiB)",
                        n_ctx, 2 * n * sizeof(float) >> 20);
    }
    return ORX_OK;
}

void orx_kv_cache_free(orx_kv_cache *kv) {
    free(kv->k);
    free(kv->v);
    kv->k = kv->v = NULL;
}

float *orx_kv_cache_k(const orx_kv_cache *kv, int32_t il, int32_t pos) {
    return kv->k + ((size_t)il * (size_t)kv->n_ctx + (size_t)pos) * (size_t)kv->kv_dim;
}

float *orx_kv_cache_v(const orx_kv_cache *kv, int32_t il, int32_t pos) {
    return kv->v + ((size_t)il * (size_t)kv->n_ctx + (size_t)pos) * (size_t)kv->kv_dim;
}
