/* model.c — load a GGUF model: architecture, hyperparameters, tensors checked for shape and type. */
#include "engine/model_impl.h"
#include "util/util.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ============================================================================================
 * Hyperparameters
 * ========================================================================================== */
typedef struct loader {
    orx_model  *m;    /* model being filled */
    const char *path; /* for messages */
    orx_error  *err;  /* out */
} loader;

static bool key_u32(const orx_gguf *g, const char *arch, const char *suffix, uint32_t *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return orx_gguf_get_u32(g, key, out);
}

static bool key_f32(const orx_gguf *g, const char *arch, const char *suffix, float *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return orx_gguf_get_f32(g, key, out);
}

static orx_status need_u32(loader *L, const char *suffix, uint32_t lo, uint32_t hi, int32_t *out) {
    uint32_t v;
    if (!key_u32(L->m->g, L->m->hp.arch, suffix, &v))
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: missing or non-integer key '%s.%s'", L->path,
                        L->m->hp.arch, suffix);
    if (v < lo || v > hi)
        return orx_fail(L->err, ORX_ERR_RANGE, "%s: %s.%s = %u is outside %u..%u", L->path,
                        L->m->hp.arch, suffix, v, lo, hi);
    *out = (int32_t)v;
    return ORX_OK;
}

static orx_status load_rope_scaling(loader *L) {
    orx_hparams *hp = &L->m->hp;
    const orx_gguf *g = L->m->g;
    char key[160];
    const char *s;
    uint64_t len;
    float factor = 1.0f;
    hp->rope_freq_scale = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.type", hp->arch);
    bool has_type = orx_gguf_get_str(g, key, &s, &len);
    bool has_factor = key_f32(g, hp->arch, "rope.scaling.factor", &factor) ||
                      key_f32(g, hp->arch, "rope.scale_linear", &factor);
    if (!has_type) {
        if (has_factor && factor > 0 && !orx_gguf_find_tensor(g, "rope_freqs.weight"))
            hp->rope_freq_scale = 1.0f / factor;
        return ORX_OK;
    }
    if ((len == 4 && !memcmp(s, "none", 4)) || (len == 6 && !memcmp(s, "llama3", 6))) return ORX_OK;
    if (len == 6 && !memcmp(s, "linear", 6)) {
        if (!(factor > 0)) return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad rope.scaling.factor", L->path);
        hp->rope_freq_scale = 1.0f / factor;
        return ORX_OK;
    }
    return orx_fail(L->err, ORX_ERR_UNSUPPORTED, "%s: rope scaling type '%.*s' is not supported "
                    "(supported: none, linear, llama3 rope_freqs)", L->path, (int)(len < 64 ? len : 64), s);
}

/* What the newer architectures add: value head size, sliding window, soft-capping, query scale. */
static orx_status load_arch_hparams(loader *L, const orx_arch *a) {
    orx_hparams *hp = &L->m->hp;
    const orx_gguf *g = L->m->g;
    uint32_t v;
    if (key_u32(g, hp->arch, "attention.value_length", &v) && (int32_t)v != hp->head_dim)
        return orx_fail(L->err, ORX_ERR_UNSUPPORTED, "%s: attention.value_length %u differs from the key length %d "
                        "(not supported)", L->path, v, hp->head_dim);
    hp->n_swa = key_u32(g, hp->arch, "attention.sliding_window", &v) ? (int32_t)v : a->swa_default;
    if (hp->n_swa < 0) hp->n_swa = 0;
    hp->swa_pattern = hp->n_swa > 0 ? a->swa_pattern : 0;
    if (!hp->swa_pattern) hp->n_swa = 0;
    /* local layers: their own rope base (gemma3: 10000, no scaling), else the global one */
    hp->rope_scale_swa = a->rope_base_swa > 0 ? 1.0f : hp->rope_freq_scale;
    if (!key_f32(g, hp->arch, "rope.freq_base_swa", &hp->rope_base_swa))
        hp->rope_base_swa = a->rope_base_swa > 0 ? a->rope_base_swa : hp->rope_base;
    if (!key_f32(g, hp->arch, "attn_logit_softcapping", &hp->attn_softcap)) hp->attn_softcap = a->attn_softcap;
    if (!key_f32(g, hp->arch, "final_logit_softcapping", &hp->final_softcap)) hp->final_softcap = a->final_softcap;
    if (!(hp->rope_base_swa > 0) || !(hp->attn_softcap >= 0) || !(hp->final_softcap >= 0))
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad rope.freq_base_swa or soft-capping value", L->path);
    hp->q_scale = 1.0f;
    hp->kq_scale = 1.0f / sqrtf((float)hp->head_dim);
    if (a->q_prescale) { /* the 27B variants use n_embd / n_head instead of the head size */
        int32_t d = a->big_layers && hp->n_layer == a->big_layers ? hp->n_embd / hp->n_head : hp->head_dim;
        hp->q_scale = 1.0f / sqrtf((float)d);
        hp->kq_scale = 1.0f;
    }
    hp->qk_norm = a->qk_norm;
    hp->post_norms = a->post_norms;
    return ORX_OK;
}

static orx_status load_hparams(loader *L, const orx_arch **arch) {
    orx_hparams *hp = &L->m->hp;
    const orx_gguf *g = L->m->g;
    const char *s;
    uint64_t len;
    if (!orx_gguf_get_str(g, "general.architecture", &s, &len))
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: missing general.architecture", L->path);
    snprintf(hp->arch, sizeof hp->arch, "%.*s", (int)(len < 31 ? len : 31), s);
    if (!(*arch = orx_arch_find(hp->arch)))
        return orx_fail(L->err, ORX_ERR_UNSUPPORTED,
                        "%s: architecture '%s' is not supported (supported: llama, qwen2, qwen3, phi3, gemma, gemma2, "
                        "gemma3)", L->path, hp->arch);
    orx_status st;
    if ((st = need_u32(L, "embedding_length", 1, 1 << 16, &hp->n_embd)) ||
        (st = need_u32(L, "block_count", 1, 1024, &hp->n_layer)) ||
        (st = need_u32(L, "feed_forward_length", 1, 1 << 20, &hp->n_ff)) ||
        (st = need_u32(L, "attention.head_count", 1, 1024, &hp->n_head)))
        return st;
    uint32_t v;
    hp->n_head_kv = key_u32(g, hp->arch, "attention.head_count_kv", &v) ? (int32_t)v : hp->n_head;
    if (hp->n_head_kv < 1 || hp->n_head % hp->n_head_kv)
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: head_count %d is not a multiple of head_count_kv %d",
                        L->path, hp->n_head, hp->n_head_kv);
    hp->head_dim = key_u32(g, hp->arch, "attention.key_length", &v) ? (int32_t)v : hp->n_embd / hp->n_head;
    if (hp->head_dim < 2 || hp->head_dim > 1024 || hp->head_dim % 2)
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad head dimension %d", L->path, hp->head_dim);
    hp->n_rot = key_u32(g, hp->arch, "rope.dimension_count", &v) ? (int32_t)v : hp->head_dim;
    if (hp->n_rot < 2 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad rope.dimension_count %d", L->path, hp->n_rot);
    hp->n_ctx_train = key_u32(g, hp->arch, "context_length", &v) && v > 0 && v <= (1u << 24) ? (int32_t)v : 2048;
    if (!key_f32(g, hp->arch, "rope.freq_base", &hp->rope_base)) hp->rope_base = 10000.0f;
    if (!key_f32(g, hp->arch, "attention.layer_norm_rms_epsilon", &hp->rms_eps)) hp->rms_eps = 1e-5f;
    if (!(hp->rope_base > 0) || !(hp->rms_eps >= 0))
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad rope.freq_base or rms epsilon", L->path);
    hp->rope_mode = (*arch)->rope;
    orx_status st2 = load_rope_scaling(L);
    return st2 ? st2 : load_arch_hparams(L, *arch);
}

/* ============================================================================================
 * Tensors
 * ========================================================================================== */
static const orx_gguf_tensor *tensor(loader *L, const char *name, bool required) {
    const orx_gguf_tensor *t = orx_gguf_find_tensor(L->m->g, name);
    if (!t && required) orx_fail(L->err, ORX_ERR_NOT_FOUND, "%s: missing tensor '%s'", L->path, name);
    return t;
}

/* Matrix [n_out][n_in]: checks shape and that the kernels support its type. */
static orx_status get_mat(loader *L, const char *name, int64_t n_in, int64_t n_out, bool required,
                          orx_wmat *w) {
    memset(w, 0, sizeof *w);
    const orx_gguf_tensor *t = tensor(L, name, required);
    if (!t) return required ? L->err->code : ORX_OK;
    if (t->n_dims > 2 || t->ne[0] != n_in || t->ne[1] != n_out)
        return orx_fail(L->err, ORX_ERR_INVALID,
                        "%s: tensor '%s' has shape [%" PRId64 ", %" PRId64 "], expected [%" PRId64 ", %" PRId64 "]",
                        L->path, name, t->ne[0], t->ne[1], n_in, n_out);
    if (!orx_type_supported(t->type))
        return orx_fail(L->err, ORX_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which the engine cannot run",
                        L->path, name, orx_type_name(t->type));
    *w = (orx_wmat){t->data, t->type, n_in, n_out};
    return ORX_OK;
}

/* Vector [n] of any supported type, converted to an owned F32 copy. */
static orx_status get_vec(loader *L, const char *name, int64_t n, bool required, float **out) {
    *out = NULL;
    const orx_gguf_tensor *t = tensor(L, name, required);
    if (!t) return required ? L->err->code : ORX_OK;
    if (orx_gguf_tensor_nelements(t) != n || t->ne[0] != n)
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: tensor '%s' has %" PRId64 " values, expected %" PRId64,
                        L->path, name, orx_gguf_tensor_nelements(t), n);
    if (!orx_type_supported(t->type) || n % orx_type_block_values(t->type))
        return orx_fail(L->err, ORX_ERR_UNSUPPORTED, "%s: tensor '%s' type %s not supported for vectors",
                        L->path, name, orx_type_name(t->type));
    if (!(*out = malloc((size_t)n * sizeof(float)))) return orx_fail(L->err, ORX_ERR_NOMEM, "out of memory");
    orx_dequantize_row(t->type, t->data, *out, n);
    return ORX_OK;
}

/* Rows [r0, r0+n) of a matrix, as a matrix (quantized rows are whole blocks, so this is exact). */
static orx_wmat rows_of(const orx_wmat *w, int64_t r0, int64_t n) {
    size_t rb = orx_type_row_bytes(w->type, w->n_in);
    return (orx_wmat){(const uint8_t *)w->data + (size_t)r0 * rb, w->type, w->n_in, n};
}

static orx_status load_attn(loader *L, const orx_arch *arch, int il, orx_layer *ly) {
    const orx_hparams *hp = &L->m->hp;
    int64_t E = hp->n_embd, QD = (int64_t)hp->n_head * hp->head_dim, KD = (int64_t)hp->n_head_kv * hp->head_dim;
    char n[96];
    orx_status st;
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
    if (arch->fused_qkv && orx_gguf_find_tensor(L->m->g, NAME("attn_qkv.weight"))) {
        orx_wmat qkv;
        if ((st = get_mat(L, NAME("attn_qkv.weight"), E, QD + 2 * KD, true, &qkv))) return st;
        ly->wq = rows_of(&qkv, 0, QD);
        ly->wk = rows_of(&qkv, QD, KD);
        ly->wv = rows_of(&qkv, QD + KD, KD);
    } else if ((st = get_mat(L, NAME("attn_q.weight"), E, QD, true, &ly->wq)) ||
               (st = get_mat(L, NAME("attn_k.weight"), E, KD, true, &ly->wk)) ||
               (st = get_mat(L, NAME("attn_v.weight"), E, KD, true, &ly->wv)))
        return st;
    if ((st = get_mat(L, NAME("attn_output.weight"), QD, E, true, &ly->wo)) ||
        (st = get_vec(L, NAME("attn_q.bias"), QD, arch->qkv_bias, &ly->bq)) ||
        (st = get_vec(L, NAME("attn_k.bias"), KD, arch->qkv_bias, &ly->bk)) ||
        (st = get_vec(L, NAME("attn_v.bias"), KD, arch->qkv_bias, &ly->bv)))
        return st;
#undef NAME
    return ORX_OK;
}

static orx_status load_layer(loader *L, const orx_arch *arch, int il, orx_layer *ly) {
    const orx_hparams *hp = &L->m->hp;
    int64_t E = hp->n_embd, F = hp->n_ff;
    char n[96];
    orx_status st;
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
    if ((st = get_vec(L, NAME("attn_norm.weight"), E, true, &ly->attn_norm)) ||
        (st = load_attn(L, arch, il, ly)) ||
        (st = get_vec(L, NAME("ffn_norm.weight"), E, true, &ly->ffn_norm)) ||
        (st = get_mat(L, NAME("ffn_down.weight"), F, E, true, &ly->down)))
        return st;
    if (arch->qk_norm && ((st = get_vec(L, NAME("attn_q_norm.weight"), hp->head_dim, true, &ly->q_norm)) ||
                          (st = get_vec(L, NAME("attn_k_norm.weight"), hp->head_dim, true, &ly->k_norm))))
        return st;
    if (arch->post_norms && ((st = get_vec(L, NAME("post_attention_norm.weight"), E, true, &ly->attn_post_norm)) ||
                             (st = get_vec(L, NAME("post_ffw_norm.weight"), E, true, &ly->ffn_post_norm))))
        return st;
    if (arch->fused_gate_up) { /* llama.cpp's fused SwiGLU: first half gate, second half up */
        orx_wmat gu;
        if ((st = get_mat(L, NAME("ffn_up.weight"), E, 2 * F, true, &gu))) return st;
        ly->gate = rows_of(&gu, 0, F);
        ly->up = rows_of(&gu, F, F);
    } else if ((st = get_mat(L, NAME("ffn_gate.weight"), E, F, true, &ly->gate)) ||
               (st = get_mat(L, NAME("ffn_up.weight"), E, F, true, &ly->up)))
        return st;
#undef NAME
    return ORX_OK;
}

/* llama3 frequency factors computed from rope.scaling.* when the file has no rope_freqs tensor. */
static orx_status llama3_factors(loader *L) {
    orx_hparams *hp = &L->m->hp;
    const char *s;
    uint64_t len;
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", hp->arch);
    if (!orx_gguf_get_str(L->m->g, key, &s, &len) || len != 6 || memcmp(s, "llama3", 6)) return ORX_OK;
    float factor = 8, lo = 1, hi = 4;
    uint32_t orig = 8192;
    key_f32(L->m->g, hp->arch, "rope.scaling.factor", &factor);
    key_f32(L->m->g, hp->arch, "rope.scaling.low_freq_factor", &lo);
    key_f32(L->m->g, hp->arch, "rope.scaling.high_freq_factor", &hi);
    key_u32(L->m->g, hp->arch, "rope.scaling.original_context_length", &orig);
    if (!(factor > 0) || !(hi > lo) || !orig)
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: bad llama3 rope scaling parameters", L->path);
    int n = hp->n_rot / 2;
    if (!(L->m->rope_freqs = malloc((size_t)n * sizeof(float)))) return orx_fail(L->err, ORX_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        double freq = pow(hp->rope_base, -2.0 * i / hp->n_rot), wavelen = 2 * M_PI / freq;
        double lw = orig / lo, hw = orig / hi, f;
        if (wavelen < hw) f = 1;
        else if (wavelen > lw) f = factor;
        else {
            double smooth = (orig / wavelen - lo) / (hi - lo);
            f = 1 / ((1 - smooth) / factor + smooth);
        }
        L->m->rope_freqs[i] = (float)f;
    }
    hp->has_rope_freqs = true;
    return ORX_OK;
}

static orx_status load_tensors(loader *L, const orx_arch *arch) {
    orx_model *m = L->m;
    orx_hparams *hp = &m->hp;
    const orx_gguf_tensor *te = tensor(L, "token_embd.weight", true);
    if (!te) return L->err->code;
    if (te->ne[1] < 1 || te->ne[1] > (1 << 24))
        return orx_fail(L->err, ORX_ERR_INVALID, "%s: token_embd.weight has a bad vocabulary size", L->path);
    hp->n_vocab = (int32_t)te->ne[1];
    orx_status st;
    if ((st = get_mat(L, "token_embd.weight", hp->n_embd, hp->n_vocab, true, &m->tok_embd)) ||
        (st = get_mat(L, "output.weight", hp->n_embd, hp->n_vocab, false, &m->output)) ||
        (st = get_vec(L, "output_norm.weight", hp->n_embd, true, &m->out_norm)) ||
        (st = get_vec(L, "rope_freqs.weight", hp->n_rot / 2, false, &m->rope_freqs)))
        return st;
    hp->has_rope_freqs = m->rope_freqs != NULL;
    if (orx_gguf_find_tensor(m->g, "rope_factors_long.weight"))
        return orx_fail(L->err, ORX_ERR_UNSUPPORTED, "%s: LongRoPE (rope_factors_long/short, e.g. Phi-3 128k) "
                        "is not supported", L->path);
    if (!m->rope_freqs && (st = llama3_factors(L))) return st;
    hp->tied_output = m->output.data == NULL;
    if (hp->tied_output) m->output = m->tok_embd;
    if (!(m->layers = calloc((size_t)hp->n_layer, sizeof(orx_layer))))
        return orx_fail(L->err, ORX_ERR_NOMEM, "out of memory");
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = load_layer(L, arch, il, &m->layers[il]))) return st;
    return ORX_OK;
}

/* ============================================================================================
 * Resident arena: the matrices copied once into anonymous memory on 2 MiB pages
 *
 * Decode streams every weight once per token, so it runs at memory speed; page-cache pages of a
 * file map come in 4 KiB pages and streamed ~20 % slower here than anonymous huge pages (25 vs
 * 31 GB/s, 2 threads). The copy also lays q/k/v rows and gate/up rows back to back, so each
 * group is one matmul (one activation conversion, one thread-pool round) with identical results.
 * ========================================================================================== */
#define ARENA_PAGE ((size_t)2 << 20) /* huge page, bytes */

typedef struct arena {
    uint8_t *base;   /* copy destination; NULL while sizing */
    size_t   used;   /* bytes laid out so far */
    bool     repack; /* lay matrices out for this CPU's kernels where they want it (orx_repack_target) */
} arena;

static bool same_layout(orx_wmat *const parts[], int n) {
    for (int i = 0; i < n; i++)
        if (!parts[i]->data || parts[i]->type != parts[0]->type || parts[i]->n_in != parts[0]->n_in) return false;
    return true;
}

/* The type all parts are repacked into (each part's rows on their own, so the fused view is the
 * parts' views back to back), or 0 when any of them is not. */
static uint32_t repack_type(const arena *a, orx_wmat *const parts[], int n, bool allow) {
    uint32_t to = 0, t;
    for (int i = 0; allow && a->repack && i < n; i++) {
        if (!orx_repack_target(parts[i]->type, parts[i]->n_out, parts[i]->n_in, &t) || (to && t != to)) return 0;
        to = t;
    }
    return to;
}

/* Lay parts (same type and n_in) back to back at a 64-byte boundary, repacked for the kernels
 * where `allow` and the CPU want it; when copying, rebind each part to its copy. Returns the view
 * of all their rows. */
static orx_wmat arena_place(arena *a, orx_wmat *const parts[], int n, bool allow) {
    size_t off = (a->used + 63) & ~(size_t)63, pos = 0;
    int64_t rows = 0;
    uint32_t to = repack_type(a, parts, n, allow);
    for (int i = 0; i < n; i++) {
        size_t bytes = orx_type_row_bytes(parts[i]->type, parts[i]->n_in) * (size_t)parts[i]->n_out;
        if (a->base) {
            if (to) {
                orx_repack(to, parts[i]->data, a->base + off + pos, parts[i]->n_out, parts[i]->n_in);
                parts[i]->type = to;
            } else {
                memcpy(a->base + off + pos, parts[i]->data, bytes);
            }
            parts[i]->data = a->base + off + pos;
        }
        pos += bytes;
        rows += parts[i]->n_out;
    }
    a->used = off + pos;
    return (orx_wmat){a->base ? a->base + off : NULL, parts[0]->type, parts[0]->n_in, rows};
}

/* Place a group fused when its parts allow, else each part on its own. */
static orx_wmat arena_group(arena *a, orx_wmat *const parts[], int n) {
    if (same_layout(parts, n)) return arena_place(a, parts, n, true);
    for (int i = 0; i < n; i++) arena_place(a, &parts[i], 1, true);
    return (orx_wmat){NULL, 0, 0, 0};
}

static void arena_layout(arena *a, orx_model *m) {
    for (int il = 0; il < m->hp.n_layer; il++) {
        orx_layer *ly = &m->layers[il];
        orx_wmat *qkv[3] = {&ly->wq, &ly->wk, &ly->wv}, *gu[2] = {&ly->gate, &ly->up};
        orx_wmat *wo[1] = {&ly->wo}, *down[1] = {&ly->down};
        ly->wqkv = arena_group(a, qkv, 3);
        arena_place(a, wo, 1, true);
        ly->wgu = arena_group(a, gu, 2);
        arena_place(a, down, 1, true);
    }
    orx_wmat *out[1] = {m->hp.tied_output ? &m->tok_embd : &m->output};
    arena_place(a, out, 1, !m->hp.tied_output); /* tied: its rows are also looked up as embeddings */
    if (m->hp.tied_output) m->output = m->tok_embd;
}

/* MemAvailable of /proc/meminfo in bytes (free + reclaimable page cache); 0 when unknown. */
static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[128];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1) break;
    fclose(f);
    return kib * 1024;
}

/* Copy the matrices into the arena; on any failure the model keeps using the file map. The
 * copy is skipped when it would not fit in available memory with 1 GiB to spare (it would push
 * out the page cache holding the file and then swap): the file map still works there. */
static void arena_build(orx_model *m, bool repack) {
    arena a = {NULL, 0, repack};
    arena_layout(&a, m); /* sizing pass */
    size_t len = (a.used + ARENA_PAGE - 1) & ~(ARENA_PAGE - 1);
    uint64_t avail = mem_available();
    bool fits = avail == 0 || (uint64_t)len + ((uint64_t)1 << 30) <= avail;
    uint8_t *map = fits ? mmap(NULL, len + ARENA_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                        : MAP_FAILED;
    if (map == MAP_FAILED) {
        for (int il = 0; il < m->hp.n_layer; il++) {
            m->layers[il].wqkv = (orx_wmat){NULL, 0, 0, 0};
            m->layers[il].wgu = (orx_wmat){NULL, 0, 0, 0};
        }
        return;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)map + ARENA_PAGE - 1) & ~(uintptr_t)(ARENA_PAGE - 1));
#ifdef MADV_HUGEPAGE
    madvise(base, len, MADV_HUGEPAGE);
#endif
    a = (arena){base, 0, repack};
    arena_layout(&a, m); /* copying pass */
    mprotect(base, len, PROT_READ); /* weights are read-only from here on */
    m->arena = map;
    m->arena_bytes = len + ARENA_PAGE;
}

/* ============================================================================================
 * Public
 * ========================================================================================== */
orx_model_params orx_model_default_params(void) { return (orx_model_params){.use_mmap = false}; }

orx_status orx_model_load(const char *path, orx_model **out, orx_error *err) {
    orx_model_params p = orx_model_default_params();
    return orx_model_load_params(path, &p, out, err);
}

orx_status orx_model_load_params(const char *path, const orx_model_params *p, orx_model **out,
                                 orx_error *err) {
    *out = NULL;
    orx_model_params d = orx_model_default_params();
    if (!p) p = &d;
    orx_model *m = calloc(1, sizeof(*m));
    if (!m) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_error local = ORX_ERROR_INIT;
    if (!err) err = &local;
    orx_status st = orx_gguf_open(path, &m->g, err);
    loader L = {m, path, err};
    const orx_arch *arch = NULL;
    if (!st) st = load_hparams(&L, &arch);
    m->arch = arch;
    if (!st) st = load_tensors(&L, arch);
    if (!st && !p->use_mmap) arena_build(m, !p->no_repack);
    if (st) orx_model_free(m);
    else *out = m;
    return st;
}

void orx_model_free(orx_model *m) {
    if (!m) return;
    if (m->layers) {
        for (int il = 0; il < m->hp.n_layer; il++) {
            orx_layer *ly = &m->layers[il];
            free(ly->attn_norm);
            free(ly->ffn_norm);
            free(ly->q_norm);
            free(ly->k_norm);
            free(ly->attn_post_norm);
            free(ly->ffn_post_norm);
            free(ly->bq);
            free(ly->bk);
            free(ly->bv);
        }
        free(m->layers);
    }
    free(m->out_norm);
    free(m->rope_freqs);
    if (m->arena) munmap(m->arena, m->arena_bytes);
    orx_gguf_close(m->g);
    free(m);
}

const orx_hparams *orx_model_hparams(const orx_model *m) { return &m->hp; }
size_t orx_model_resident_bytes(const orx_model *m) { return m->arena ? m->arena_bytes : 0; }
const orx_gguf *orx_model_gguf(const orx_model *m) { return m->g; }
