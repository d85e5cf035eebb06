/* arch.c — the table of architectures the engine runs, and what differs between them.
 *
 * The gemma2 / gemma3 rows follow the models' published configurations as llama.cpp reads them
 * from GGUF: gemma2 alternates sliding-window and global layers (every 2nd global, window 4096
 * unless attention.sliding_window says), soft-caps attention scores (50) and the final logits (30)
 * unless the file gives attn_logit_softcapping / final_logit_softcapping; gemma3 has 5 local
 * layers per global one (every 6th global) when attention.sliding_window is present, local layers
 * with rope base 10000 and no rope scaling, QK-norm, no soft-capping unless the file says. Both
 * scale the queries by 1/sqrt(head size) after RoPE (1/sqrt(n_embd/n_head) for the 27B variants,
 * recognised by their layer count) and put an RMSNorm after attention and after the FFN. qwen3 is
 * qwen2 with per-head QK-norm and no biases.
 */
#include "engine/model_impl.h"
#include <string.h>

/* ============================================================================================
 * Registry
 * ========================================================================================== */
#define NO_SWA 0, 0, 0.0f
static const orx_arch ARCHES[] = {
    /* name    rope             bias   fused qkv  fused gate/up  activation    embd scale
     *         qk_norm post_norms q_prescale  swa pattern/default/rope base  softcaps  27B layers */
    {"llama", ORX_ROPE_NORMAL, false, false, false, ORX_ACT_SILU, false, false, false, false, NO_SWA, 0, 0, 0},
    {"qwen2", ORX_ROPE_NEOX, true, false, false, ORX_ACT_SILU, false, false, false, false, NO_SWA, 0, 0, 0},
    {"qwen3", ORX_ROPE_NEOX, false, false, false, ORX_ACT_SILU, false, true, false, false, NO_SWA, 0, 0, 0},
    {"phi3", ORX_ROPE_NEOX, false, true, true, ORX_ACT_SILU, false, false, false, false, NO_SWA, 0, 0, 0},
    {"gemma", ORX_ROPE_NEOX, false, false, false, ORX_ACT_GELU, true, false, false, false, NO_SWA, 0, 0, 0},
    {"gemma2", ORX_ROPE_NEOX, false, false, false, ORX_ACT_GELU, true, false, true, true, 2, 4096, 0.0f, 50.0f, 30.0f, 46},
    {"gemma3", ORX_ROPE_NEOX, false, false, false, ORX_ACT_GELU, true, true, true, true, 6, 0, 10000.0f, 0, 0, 62},
};
#undef NO_SWA
static const char *const NAMES[] = {"llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", NULL};

const orx_arch *orx_arch_find(const char *name) {
    for (size_t i = 0; i < sizeof ARCHES / sizeof ARCHES[0]; i++)
        if (!strcmp(ARCHES[i].name, name)) return &ARCHES[i];
    return NULL;
}

const char *const *orx_engine_architectures(void) { return NAMES; }

bool orx_hparams_layer_swa(const orx_hparams *hp, int32_t il) {
    return hp->n_swa > 0 && hp->swa_pattern > 0 && il % hp->swa_pattern < hp->swa_pattern - 1;
}
