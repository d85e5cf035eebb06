/* arch.c — the table of architectures the engine runs, and what differs between them. */
#include "engine/model_impl.h"
#include <string.h>

/* ============================================================================================
 * Registry
 * ========================================================================================== */
static const orx_arch ARCHES[] = {
    {"llama", ORX_ROPE_NORMAL, false}, /* Llama 1/2/3, Mistral, TinyLlama, Meditron, BioMistral … */
    {"qwen2", ORX_ROPE_NEOX, true},    /* Qwen2 / Qwen2.5: QKV biases, rotate-half RoPE */
};
static const char *const NAMES[] = {"llama", "qwen2", NULL};

const orx_arch *orx_arch_find(const char *name) {
    for (size_t i = 0; i < sizeof ARCHES / sizeof ARCHES[0]; i++)
        if (!strcmp(ARCHES[i].name, name)) return &ARCHES[i];
    return NULL;
}

const char *const *orx_engine_architectures(void) { return NAMES; }
