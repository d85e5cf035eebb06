/*
 * fuzz_model.c — model load and one forward step on hostile GGUF files: architecture table,
 * hyperparameters, tensor shapes and types, weight copy/fusion (or the file map), a small
 * context, a two-token prompt and one decode token. Seeds: tiny models of each architecture
 * and several tensor types (fuzz/seedgen.c). Weights may be NaN/Inf: the forward pass must not
 * crash or do undefined arithmetic on them.
 */
#include "fuzz.h"
#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (2u << 20)) return 0; /* keep runs fast; real limits are tested elsewhere */
    const char *path = orx_fuzz_file(0, data, size);
    if (!path) return 0;
    orx_model_params mp = orx_model_default_params();
    mp.use_mmap = size & 1; /* both load paths: the file map and the fused anonymous copy */
    orx_model *m = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_model_load_params(path, &mp, &m, &err) != ORX_OK) return 0;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 8;
    cp.n_threads = 1;
    cp.n_batch = 4;
    cp.attn = (size & 2) ? ORX_ATTN_F32 : ORX_ATTN_F16_FLASH;
    orx_context *c = NULL;
    if (orx_context_create(m, &cp, &c, &err) == ORX_OK) {
        int32_t nv = orx_context_n_vocab(c);
        if (nv > 0) {
            int32_t toks[2] = {0, nv > 1 ? 1 : 0};
            if (orx_context_eval(c, toks, 2, true, &err) == ORX_OK) {
                const float *lg = orx_context_logits(c, -1);
                int32_t next = lg ? orx_argmax(lg, nv) : 0;
                if (next < 0 || next >= nv) next = 0;
                orx_context_eval(c, &next, 1, false, &err);
            }
        }
        orx_context_free(c);
    }
    orx_model_free(m);
    return 0;
}
