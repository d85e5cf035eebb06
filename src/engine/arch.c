/* arch.c — the table of architectures the engine runs, and what differs between them. */
#include "engine/model_impl.h"
#include <string.h>

/* ============================================================================================
 * Registry
 * ========================================================================================== */
static const orx_arch ARCHES[] = {
    /* name    rope             bias   fused qkv  fused gate/up  activation    embd scale */
    {"llama", ORX_ROPE_NORMAL, false, false, false, ORX_ACT_SILU, false}, /* Llama 1/2/3, Mistral, Meditron… */
    {"qwen2", ORX_ROPE_NEOX, true, false, false, ORX_ACT_SILU, false},    /* Qwen2/2.5: QKV biases */
    {"phi3", ORX_ROPE_NEOX, false, true, true, ORX_ACT_SILU, false},      /* Phi-3: fused QKV, fused gate/up */
    {"gemma", ORX_ROPE_NEOX, false, false, false, ORX_ACT_GELU, true},    /* Gemma 1: GeGLU, sqrt(E) embedding */
};
static const char *const NAMES[] = {"llama", "qwen2", "phi3", "gemma", NULL};

const orx_arch *orx_arch_find(const char *name) {
    for (size_t i = 0; i < sizeof ARCHES / sizeof ARCHES[0]; i++)
        if (!strcmp(ARCHES[i].name, name)) return &ARCHES[i];
    return NULL;
}

const char *const *orx_engine_architectures(void) { return NAMES; }
