/*
 * cmd_model.c — `openrx model synth`: write a random-weight GGUF with a real model's shapes.
 *
 *   openrx model synth --shape NAME --type F32|F16|Q8_0|Q4_0|Q4_K_M -o FILE [--seed N]
 *                      [--vocab VOCAB.gguf | --vocab-dir DIR] [-t THREADS] [--layers N]
 *
 * Weights are drawn from N(0, sd²) (sd 0.02 for the real shapes; the tiny test shapes use larger
 * weights and norms around 1 so that attention, soft-capping and every norm matter), biases = 0,
 * quantised with our reference quantisers in the tensor-type mix llama-quantize uses for that
 * file type (Q4_0: output Q6_K; Q4_K_M: Q6_K for output and for attn_v / ffn_down in the "more
 * bits" layers, Q4_K elsewhere; rows whose width is not a multiple of 256 fall back to Q5_0 /
 * Q8_0). The tokenizer is copied from --vocab (every tokenizer.* key; token arrays padded or cut
 * to the shape's vocabulary, or the shape takes the vocab's size; --vocab-dir DIR picks llama.cpp's
 * ggml-vocab-*.gguf of the shape's family in DIR), else a synthetic byte-level
 * vocabulary. Speed does not depend on weight values, so these files measure the engine on
 * realistic sizes without downloading weights; the tiny shapes are the architecture goldens'
 * models (tests/fixtures/engine).
 */
#include "cli/cli.h"
#include "engine/cpu/quant.h"
#include "engine/cpu/threadpool.h"
#include "gguf/gguf.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Shapes
 * ========================================================================================== */
typedef struct shape {
    const char *name;      /* --shape value */
    const char *arch;      /* general.architecture */
    int32_t n_vocab;       /* embedding rows (0: the --vocab's token count) */
    int32_t n_embd;        /* width */
    int32_t n_layer;       /* blocks */
    int32_t n_head;        /* query heads */
    int32_t n_head_kv;     /* kv heads */
    int32_t head_dim;      /* attention.key_length (0: n_embd / n_head, key not written) */
    int32_t n_ff;          /* feed-forward width */
    int32_t n_ctx;         /* context_length */
    float   rope_base;     /* rope.freq_base */
    float   rms_eps;       /* layer_norm_rms_epsilon */
    bool    tied;          /* no output.weight */
    bool    qkv_bias;      /* qwen2 biases */
    int32_t n_swa;         /* attention.sliding_window (0: key not written) */
    float   attn_cap;      /* attn_logit_softcapping (0: key not written) */
    float   final_cap;     /* final_logit_softcapping (0: key not written) */
    float   rope_linear;   /* rope.scaling linear factor (0: none) */
    float   sd;            /* weight standard deviation (0: 0.02) */
    float   norm_sd;       /* norm weights 1 + N(0, norm_sd²) (0: all 1) */
} shape;

/* Real shapes are the models' published configurations (config.json of each). */
static const shape k_shapes[] = {
    {"tinyllama", "llama", 32000, 2048, 22, 32, 4, 0, 5632, 2048, 10000.0f, 1e-5f, false, false, 0, 0, 0, 0, 0, 0},
    {"llama3.2-1b", "llama", 128256, 2048, 16, 32, 8, 0, 8192, 131072, 500000.0f, 1e-5f, true, false, 0, 0, 0, 0, 0, 0},
    {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 0, 4864, 32768, 1000000.0f, 1e-6f, true, true, 0, 0, 0, 0, 0, 0},
    {"llama3-8b", "llama", 128256, 4096, 32, 32, 8, 0, 14336, 8192, 500000.0f, 1e-5f, false, false, 0, 0, 0, 0, 0, 0},
    {"qwen2.5-7b", "qwen2", 152064, 3584, 28, 28, 4, 0, 18944, 32768, 1000000.0f, 1e-6f, false, true, 0, 0, 0, 0, 0, 0},
    {"gemma3-4b", "gemma3", 262208, 2560, 34, 8, 4, 256, 10240, 131072, 1000000.0f, 1e-6f, true, false, 1024, 0, 0, 8.0f, 0, 0},
    {"gemma2-9b", "gemma2", 256000, 3584, 42, 16, 8, 256, 14336, 8192, 10000.0f, 1e-6f, true, false, 4096, 50.0f, 30.0f, 0, 0, 0},
    {"qwen3-8b", "qwen3", 151936, 4096, 36, 32, 8, 128, 12288, 40960, 1000000.0f, 1e-6f, false, false, 0, 0, 0, 0, 0, 0},
    /* small shape for tests (like ../shared/models/random/rand-llama-256-*) */
    {"mini", "llama", 32000, 256, 2, 8, 2, 0, 512, 512, 10000.0f, 1e-5f, false, false, 0, 0, 0, 0, 0, 0},
    /* architecture goldens (tests/fixtures/engine): head size != n_embd / n_head, windows of 6
     * positions so the prompts slide, soft-caps small enough to bend the values */
    {"gemma2-tiny", "gemma2", 0, 64, 4, 4, 2, 32, 96, 512, 10000.0f, 1e-6f, true, false, 6, 1.5f, 4.0f, 0, 0.1f, 0.1f},
    {"gemma3-tiny", "gemma3", 0, 64, 7, 4, 1, 32, 96, 512, 1000000.0f, 1e-6f, true, false, 6, 0, 0, 8.0f, 0.1f, 0.1f},
    {"qwen3-tiny", "qwen3", 0, 64, 3, 4, 2, 32, 160, 512, 1000000.0f, 1e-6f, true, false, 0, 0, 0, 0, 0.1f, 0.1f},
};

static bool arch_qk_norm(const char *a) { return !strcmp(a, "qwen3") || !strcmp(a, "gemma3"); }
static bool arch_post_norms(const char *a) { return !strcmp(a, "gemma2") || !strcmp(a, "gemma3"); }
static int32_t head_dim_of(const shape *h) { return h->head_dim > 0 ? h->head_dim : h->n_embd / h->n_head; }

typedef struct mix {
    const char *name;     /* --type value */
    uint32_t    file_type; /* general.file_type (llama_ftype) */
    uint32_t    base;     /* most 2-D weights */
} mix;

static const mix k_mixes[] = {
    {"F32", 0, ORX_TYPE_F32}, {"F16", 1, ORX_TYPE_F16}, {"Q8_0", 7, ORX_TYPE_Q8_0}, {"Q4_0", 2, ORX_TYPE_Q4_0},
    {"Q4_K_M", 15, ORX_TYPE_Q4_K},
};

/* ============================================================================================
 * Tensor plan
 * ========================================================================================== */
typedef enum { T_WEIGHT, T_NORM, T_BIAS } tkind;

typedef struct plan_t {
    char     name[64]; /* tensor name */
    uint32_t type;     /* ggml type */
    int64_t  ne0, ne1; /* values per row, rows (ne1 = 1 for vectors) */
    tkind    kind;     /* how to fill */
} plan_t;

typedef struct synth {
    const shape *sh;     /* model shape */
    const mix   *mx;     /* type mix */
    plan_t      *t;      /* tensors */
    int          n;      /* count */
    uint64_t     seed;   /* base seed */
    orx_threadpool *pool; /* fill workers */
    orx_progress prog;   /* progress bar */
    uint64_t     done;   /* bytes written */
    uint64_t     total;  /* bytes to write */
    const char  *zero;   /* --zero: tensors whose name ends with this are all zeros, or NULL */
} synth;

static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* fall back like llama-quantize when a row is not a whole number of 256-value super-blocks */
static uint32_t fit_type(uint32_t t, int64_t ne0) {
    if (ne0 % 256 == 0) return t;
    if (t == ORX_TYPE_Q4_K) return ORX_TYPE_Q5_0;
    if (t == ORX_TYPE_Q5_K) return ORX_TYPE_Q5_1;
    if (t == ORX_TYPE_Q6_K) return ORX_TYPE_Q8_0;
    return t;
}

static void add(synth *s, const char *name, uint32_t type, int64_t ne0, int64_t ne1, tkind k) {
    plan_t *p = &s->t[s->n++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->type = k == T_WEIGHT ? fit_type(type, ne0) : ORX_TYPE_F32;
    p->ne0 = ne0;
    p->ne1 = ne1;
    p->kind = k;
}

static void make_plan(synth *s) {
    const shape *h = s->sh;
    int64_t hd = head_dim_of(h), qd = hd * h->n_head, kv = hd * h->n_head_kv;
    uint32_t base = s->mx->base, km = s->mx->base == ORX_TYPE_Q4_K;
    uint32_t out_t = base == ORX_TYPE_Q4_0 || km ? ORX_TYPE_Q6_K : base;
    bool qkn = arch_qk_norm(h->arch), post = arch_post_norms(h->arch);
    s->t = calloc((size_t)h->n_layer * 16 + 8, sizeof *s->t);
    /* tied models keep the embedding at the output type (it is the output matrix too) */
    add(s, "token_embd.weight", h->tied ? out_t : base, h->n_embd, h->n_vocab, T_WEIGHT);
    char nm[64];
    for (int i = 0; i < h->n_layer; i++) {
        uint32_t more = km && more_bits(i, h->n_layer) ? ORX_TYPE_Q6_K : base;
#define ADD(suffix, type, a, b, k) snprintf(nm, sizeof nm, "blk.%d.%s", i, suffix), add(s, nm, type, a, b, k)
        ADD("attn_norm.weight", 0, h->n_embd, 1, T_NORM);
        ADD("attn_q.weight", base, h->n_embd, qd, T_WEIGHT);
        ADD("attn_k.weight", base, h->n_embd, kv, T_WEIGHT);
        ADD("attn_v.weight", more, h->n_embd, kv, T_WEIGHT);
        if (h->qkv_bias) {
            ADD("attn_q.bias", 0, qd, 1, T_BIAS);
            ADD("attn_k.bias", 0, kv, 1, T_BIAS);
            ADD("attn_v.bias", 0, kv, 1, T_BIAS);
        }
        if (qkn) {
            ADD("attn_q_norm.weight", 0, hd, 1, T_NORM);
            ADD("attn_k_norm.weight", 0, hd, 1, T_NORM);
        }
        ADD("attn_output.weight", base, qd, h->n_embd, T_WEIGHT);
        if (post) ADD("post_attention_norm.weight", 0, h->n_embd, 1, T_NORM);
        ADD("ffn_norm.weight", 0, h->n_embd, 1, T_NORM);
        ADD("ffn_gate.weight", base, h->n_embd, h->n_ff, T_WEIGHT);
        ADD("ffn_up.weight", base, h->n_embd, h->n_ff, T_WEIGHT);
        ADD("ffn_down.weight", more, h->n_ff, h->n_embd, T_WEIGHT);
        if (post) ADD("post_ffw_norm.weight", 0, h->n_embd, 1, T_NORM);
#undef ADD
    }
    add(s, "output_norm.weight", 0, h->n_embd, 1, T_NORM);
    if (!h->tied) add(s, "output.weight", out_t, h->n_embd, h->n_vocab, T_WEIGHT);
}

/* ============================================================================================
 * Random fill (deterministic per tensor and row, whatever the thread count)
 * ========================================================================================== */
static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void normal_row(uint64_t seed, float *x, int64_t n, float sd) {
    uint64_t st = seed;
    for (int64_t i = 0; i < n; i += 2) {
        uint64_t r = splitmix(&st);
        float u = ((float)(r >> 40) + 0.5f) / 16777216.0f, v = (float)((r >> 8) & 0xFFFFFF) / 16777216.0f;
        float m = sqrtf(-2.0f * logf(u)) * sd;
        x[i] = m * cosf(6.2831853f * v);
        if (i + 1 < n) x[i + 1] = m * sinf(6.2831853f * v);
    }
}

typedef struct fill_job {
    const plan_t *p;     /* tensor */
    uint64_t      seed;  /* tensor seed */
    char         *dst;   /* output bytes */
    size_t        row;   /* bytes per row */
    float         sd;    /* standard deviation */
} fill_job;

static void fill_rows(void *vctx, int ith, int nth) {
    fill_job *j = vctx;
    float *buf = malloc((size_t)j->p->ne0 * sizeof *buf);
    if (!buf) return;
    for (int64_t r = ith; r < j->p->ne1; r += nth) {
        normal_row(j->seed ^ ((uint64_t)r * 0xD1B54A32D192ED03ull), buf, j->p->ne0, j->sd);
        orx_quantize_row(j->p->type, buf, j->dst + (size_t)r * j->row, j->p->ne0);
    }
    free(buf);
}

static orx_status fill_cb(void *ctx, int64_t index, const char *name, void *dst, size_t nbytes,
                          orx_error *err) {
    synth *s = ctx;
    const plan_t *p = &s->t[index];
    uint64_t seed = s->seed * 0x9E3779B97F4A7C15ull + (uint64_t)index * 0xBF58476D1CE4E5B9ull;
    size_t nl = strlen(p->name), zl = s->zero ? strlen(s->zero) : 0;
    if (zl && nl >= zl && !strcmp(p->name + nl - zl, s->zero)) { /* every quant type encodes zeros as 0 bytes */
        memset(dst, 0, nbytes);
    } else if (p->kind == T_NORM || p->kind == T_BIAS) {
        float *f = dst;
        for (int64_t i = 0; i < p->ne0; i++) f[i] = p->kind == T_NORM ? 1.0f : 0.0f;
        if (p->kind == T_NORM && s->sh->norm_sd > 0) { /* norms around 1: each one matters */
            normal_row(seed, f, p->ne0, s->sh->norm_sd);
            for (int64_t i = 0; i < p->ne0; i++) f[i] += 1.0f;
        }
    } else {
        fill_job j = {p, seed, dst, orx_type_row_bytes(p->type, p->ne0), s->sh->sd > 0 ? s->sh->sd : 0.02f};
        orx_threadpool_run(s->pool, fill_rows, &j);
    }
    s->done += nbytes;
    orx_progress_update(&s->prog, s->done);
    return ORX_OK;
}

/* ============================================================================================
 * Metadata
 * ========================================================================================== */
/* copy every tokenizer.* key of a vocab GGUF; pad/trim token arrays to n_vocab */
static orx_status copy_vocab(orx_gguf_writer *w, const orx_gguf *v, int32_t n_vocab, orx_error *err) {
    orx_status st = ORX_OK;
    for (int64_t k = 0; k < orx_gguf_n_kv(v) && st == ORX_OK; k++) {
        const char *key = orx_gguf_key_at(v, k);
        if (!key || strncmp(key, "tokenizer.", 10) != 0) continue;
        orx_gguf_vtype t = orx_gguf_key_type(v, k);
        bool per_token = !strcmp(key, "tokenizer.ggml.tokens") || !strcmp(key, "tokenizer.ggml.scores") ||
                         !strcmp(key, "tokenizer.ggml.token_type");
        if (t == ORX_GGUF_STRING) {
            const char *s; uint64_t len;
            if (orx_gguf_get_str(v, key, &s, &len)) st = orx_gguf_writer_set_strn(w, key, s, (size_t)len, err);
        } else if (t == ORX_GGUF_BOOL) {
            bool b;
            if (orx_gguf_get_bool(v, key, &b)) st = orx_gguf_writer_set_bool(w, key, b, err);
        } else if (t == ORX_GGUF_FLOAT32 || t == ORX_GGUF_FLOAT64) {
            float f;
            if (orx_gguf_get_f32(v, key, &f)) st = orx_gguf_writer_set_f32(w, key, f, err);
        } else if (t == ORX_GGUF_ARRAY) {
            orx_gguf_vtype et; uint64_t n;
            if (!orx_gguf_get_arr(v, key, &et, &n)) continue;
            uint64_t m = per_token ? (uint64_t)n_vocab : n;
            if (et == ORX_GGUF_STRING) {
                const char **strs = calloc(m ? m : 1, sizeof *strs);
                size_t *lens = calloc(m ? m : 1, sizeof *lens);
                char (*pad)[32] = calloc(m > n ? m - n : 1, sizeof *pad);
                if (!strs || !lens || !pad) { free(strs); free(lens); free(pad); return orx_fail(err, ORX_ERR_NOMEM, "out of memory copying %s", key); }
                for (uint64_t i = 0; i < m; i++) {
                    uint64_t len = 0;
                    if (i < n && orx_gguf_karr_str(v, k, i, &strs[i], &len)) lens[i] = (size_t)len;
                    else { snprintf(pad[i - n], sizeof pad[0], "[PAD%" PRIu64 "]", i); strs[i] = pad[i - n]; lens[i] = strlen(strs[i]); }
                }
                st = orx_gguf_writer_set_arr_str(w, key, strs, lens, m, err);
                free(strs); free(lens); free(pad);
            } else if (et == ORX_GGUF_FLOAT32) {
                float *a = calloc(m ? m : 1, sizeof *a);
                if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory copying %s", key);
                for (uint64_t i = 0; i < m && i < n; i++) orx_gguf_karr_f32(v, k, i, &a[i]);
                st = orx_gguf_writer_set_arr(w, key, ORX_GGUF_FLOAT32, a, m, err);
                free(a);
            } else if (et == ORX_GGUF_INT32 || et == ORX_GGUF_UINT32) {
                int32_t *a = calloc(m ? m : 1, sizeof *a);
                if (!a) return orx_fail(err, ORX_ERR_NOMEM, "out of memory copying %s", key);
                for (uint64_t i = 0; i < m; i++) {
                    int64_t x = !strcmp(key, "tokenizer.ggml.token_type") ? 1 : 0; /* pads: normal */
                    if (i < n) orx_gguf_karr_i64(v, k, i, &x);
                    a[i] = (int32_t)x;
                }
                st = orx_gguf_writer_set_arr(w, key, et, a, m, err);
                free(a);
            }
        } else {
            int64_t x;
            if (!orx_gguf_get_i64(v, key, &x)) continue;
            if (t == ORX_GGUF_UINT32) st = orx_gguf_writer_set_u32(w, key, (uint32_t)x, err);
            else if (t == ORX_GGUF_INT32) st = orx_gguf_writer_set_i32(w, key, (int32_t)x, err);
            else st = orx_gguf_writer_set_i64(w, key, x, err);
        }
    }
    return st;
}

/* a byte-level vocabulary: <unk>, <s>, </s>, 256 byte tokens, then filler pieces */
static orx_status synthetic_vocab(orx_gguf_writer *w, int32_t n_vocab, orx_error *err) {
    char (*txt)[16] = calloc((size_t)n_vocab, sizeof *txt);
    const char **strs = calloc((size_t)n_vocab, sizeof *strs);
    float *scores = calloc((size_t)n_vocab, sizeof *scores);
    int32_t *types = calloc((size_t)n_vocab, sizeof *types);
    orx_status st = ORX_ERR_NOMEM;
    if (!txt || !strs || !scores || !types) { st = orx_fail(err, ORX_ERR_NOMEM, "out of memory"); goto out; }
    for (int32_t i = 0; i < n_vocab; i++) {
        if (i == 0) snprintf(txt[i], sizeof txt[i], "<unk>"), types[i] = 2;
        else if (i == 1) snprintf(txt[i], sizeof txt[i], "<s>"), types[i] = 3;
        else if (i == 2) snprintf(txt[i], sizeof txt[i], "</s>"), types[i] = 3;
        else if (i < 3 + 256) snprintf(txt[i], sizeof txt[i], "<0x%02X>", i - 3), types[i] = 6;
        else snprintf(txt[i], sizeof txt[i], "tok%d", i), types[i] = 1;
        strs[i] = txt[i];
        scores[i] = -(float)i;
    }
    if ((st = orx_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err)) ||
        (st = orx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", strs, NULL, (uint64_t)n_vocab, err)) ||
        (st = orx_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ORX_GGUF_FLOAT32, scores, (uint64_t)n_vocab, err)) ||
        (st = orx_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ORX_GGUF_INT32, types, (uint64_t)n_vocab, err)) ||
        (st = orx_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err)) ||
        (st = orx_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err)))
        goto out;
out:
    free(txt); free(strs); free(scores); free(types);
    return st;
}

static orx_status set_meta(orx_gguf_writer *w, const synth *s, orx_error *err) {
    const shape *h = s->sh;
    char key[96];
    orx_status st;
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", h->arch, suffix), key)
    if ((st = orx_gguf_writer_set_str(w, "general.architecture", h->arch, err)) ||
        (st = orx_gguf_writer_set_str(w, "general.name", h->name, err)) ||
        (st = orx_gguf_writer_set_u32(w, "general.file_type", s->mx->file_type, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("context_length"), (uint32_t)h->n_ctx, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("embedding_length"), (uint32_t)h->n_embd, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("block_count"), (uint32_t)h->n_layer, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("feed_forward_length"), (uint32_t)h->n_ff, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("attention.head_count"), (uint32_t)h->n_head, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)h->n_head_kv, err)) ||
        (st = orx_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), h->rms_eps, err)) ||
        (st = orx_gguf_writer_set_f32(w, KEY("rope.freq_base"), h->rope_base, err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("rope.dimension_count"), (uint32_t)head_dim_of(h), err)) ||
        (st = orx_gguf_writer_set_u32(w, KEY("vocab_size"), (uint32_t)h->n_vocab, err)))
        return st;
    if (h->head_dim > 0 && ((st = orx_gguf_writer_set_u32(w, KEY("attention.key_length"), (uint32_t)h->head_dim, err)) ||
                            (st = orx_gguf_writer_set_u32(w, KEY("attention.value_length"), (uint32_t)h->head_dim, err))))
        return st;
    if (h->n_swa > 0 && (st = orx_gguf_writer_set_u32(w, KEY("attention.sliding_window"), (uint32_t)h->n_swa, err)))
        return st;
    if (h->attn_cap > 0 && (st = orx_gguf_writer_set_f32(w, KEY("attn_logit_softcapping"), h->attn_cap, err))) return st;
    if (h->final_cap > 0 && (st = orx_gguf_writer_set_f32(w, KEY("final_logit_softcapping"), h->final_cap, err))) return st;
    if (h->rope_linear > 0 && ((st = orx_gguf_writer_set_str(w, KEY("rope.scaling.type"), "linear", err)) ||
                               (st = orx_gguf_writer_set_f32(w, KEY("rope.scaling.factor"), h->rope_linear, err))))
        return st;
#undef KEY
    return ORX_OK;
}

/* ============================================================================================
 * Command
 * ========================================================================================== */
static void usage(FILE *f) {
    fprintf(f,
            "Usage: openrx model synth --shape SHAPE --type TYPE -o FILE [options]\n"
            "Write a random-weight GGUF with a real model's shapes (for benchmarks and tests).\n\n"
            "  --shape SHAPE   real shapes: tinyllama | llama3.2-1b | qwen2.5-0.5b | llama3-8b |\n"
            "                  qwen2.5-7b | gemma3-4b | gemma2-9b | qwen3-8b;\n"
            "                  test shapes: mini (256-wide llama, 2 layers) | gemma2-tiny |\n"
            "                  gemma3-tiny | qwen3-tiny (vocabulary from --vocab)\n"
            "  --type TYPE     F32 | F16 | Q8_0 | Q4_0 | Q4_K_M (llama-quantize's tensor mix)\n"
            "  -o, --output F  output file (written atomically)\n"
            "  --vocab GGUF    copy the tokenizer from this GGUF (default: a synthetic byte-level\n"
            "                  vocabulary); the test shapes take its vocabulary size\n"
            "  --vocab-dir DIR copy the tokenizer from DIR/<the shape family's ggml-vocab-*.gguf>\n"
            "  --layers N      override the layer count (small test files)\n"
            "  --zero SUFFIX   write the tensors whose name ends with SUFFIX as zeros (tests: e.g.\n"
            "                  ffn_gate.weight takes GeGLU's F16 table out of a comparison)\n"
            "  --seed N        random seed (default 1)\n"
            "  -t, --threads N threads (default: physical cores)\n"
            "  --json          print a JSON summary\n"
            "  -h, --help      this help\n");
}

/* llama.cpp's vocab GGUF basename for a shape's tokenizer family; NULL when none is known. */
static const char *family_vocab_name(const char *shape) {
    static const struct { const char *prefix, *file; } k[] = {
        {"tinyllama", "ggml-vocab-llama-spm.gguf"}, {"mini", "ggml-vocab-llama-spm.gguf"},
        {"llama3", "ggml-vocab-llama-bpe.gguf"},    {"qwen", "ggml-vocab-qwen2.gguf"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strncmp(shape, k[i].prefix, strlen(k[i].prefix))) return k[i].file;
    return NULL;
}

/* Tokens in a vocab GGUF (0 when it has none). */
static int32_t vocab_size(const orx_gguf *v) {
    orx_gguf_vtype et;
    uint64_t n = 0;
    if (!orx_gguf_get_arr(v, "tokenizer.ggml.tokens", &et, &n) || n > (1u << 24)) return 0;
    return (int32_t)n;
}

static int synth_main(int argc, char **argv) {
    static const struct option opts[] = {
        {"shape", required_argument, NULL, 's'}, {"type", required_argument, NULL, 'y'},
        {"output", required_argument, NULL, 'o'}, {"vocab", required_argument, NULL, 'v'},
        {"layers", required_argument, NULL, 'l'}, {"seed", required_argument, NULL, 'S'},
        {"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"zero", required_argument, NULL, 'z'}, {"vocab-dir", required_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'}, {0}};
    const char *shape_s = NULL, *type_s = NULL, *out = NULL, *vocab = NULL, *zero = NULL, *vocab_dir = NULL;
    long layers = 0, seed = 1, threads = 0;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': shape_s = optarg; break;
        case 'y': type_s = optarg; break;
        case 'o': out = optarg; break;
        case 'v': vocab = optarg; break;
        case 'V': vocab_dir = optarg; break;
        case 'j': json = true; break;
        case 'z': zero = optarg; break;
        case 'l': if (!orx_cli_parse_int(optarg, 1, 1000, &layers)) return orx_cli_usage("model synth", "bad --layers '%s'", optarg); break;
        case 'S': if (!orx_cli_parse_int(optarg, 0, 1L << 40, &seed)) return orx_cli_usage("model synth", "bad --seed '%s'", optarg); break;
        case 't': if (!orx_cli_parse_int(optarg, 1, 512, &threads)) return orx_cli_usage("model synth", "bad --threads '%s'", optarg); break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("model synth", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc) return orx_cli_usage("model synth", "unexpected argument '%s'", argv[optind]);
    if (!shape_s || !type_s || !out) return orx_cli_usage("model synth", "--shape, --type and -o are required");
    synth s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < sizeof k_shapes / sizeof k_shapes[0]; i++)
        if (!strcmp(shape_s, k_shapes[i].name)) s.sh = &k_shapes[i];
    for (size_t i = 0; i < sizeof k_mixes / sizeof k_mixes[0]; i++)
        if (!strcmp(type_s, k_mixes[i].name)) s.mx = &k_mixes[i];
    if (!s.sh) return orx_cli_usage("model synth", "unknown --shape '%s' (see --help)", shape_s);
    if (!s.mx) return orx_cli_usage("model synth", "unknown --type '%s' (F32, F16, Q8_0, Q4_0, Q4_K_M)", type_s);
    if (vocab && vocab_dir) return orx_cli_usage("model synth", "give --vocab or --vocab-dir, not both");
    char *vpath = NULL;
    if (vocab_dir) {
        const char *name = family_vocab_name(shape_s);
        if (!name) return orx_cli_usage("model synth", "--shape %s has no known vocab in --vocab-dir; use --vocab", shape_s);
        size_t n = strlen(vocab_dir) + strlen(name) + 2;
        if ((vpath = malloc(n))) snprintf(vpath, n, "%s/%s", vocab_dir, name);
    } else if (vocab) {
        vpath = orx_strdup(vocab);
    }
    if (s.sh->n_vocab == 0 && !vpath) return orx_cli_usage("model synth", "--shape %s needs --vocab", shape_s);
    shape sh = *s.sh;
    if (layers > 0) sh.n_layer = (int32_t)layers;
    s.sh = &sh;
    s.seed = (uint64_t)seed;
    s.zero = zero;

    orx_error err = ORX_ERROR_INIT;
    orx_status st = ORX_OK;
    orx_gguf_writer *w = orx_gguf_writer_create();
    orx_gguf *v = NULL;
    s.pool = orx_threadpool_create((int)threads);
    if (!w || !s.pool) { st = orx_fail(&err, ORX_ERR_NOMEM, "out of memory"); goto done; }
    if (vpath && (st = orx_gguf_open(vpath, &v, &err))) goto done;
    if (v && sh.n_vocab == 0 && (sh.n_vocab = vocab_size(v)) == 0) {
        st = orx_fail(&err, ORX_ERR_INVALID, "%s: no tokenizer.ggml.tokens", vpath);
        goto done;
    }
    make_plan(&s);
    if ((st = set_meta(w, &s, &err))) goto done;
    if (v) {
        if ((st = copy_vocab(w, v, sh.n_vocab, &err))) goto done;
    } else if ((st = synthetic_vocab(w, sh.n_vocab, &err))) {
        goto done;
    }
    uint64_t params = 0;
    for (int i = 0; i < s.n; i++) {
        int64_t ne[2] = {s.t[i].ne0, s.t[i].ne1};
        if ((st = orx_gguf_writer_add_tensor(w, s.t[i].name, s.t[i].type, s.t[i].ne1 > 1 ? 2 : 1, ne, NULL, false, &err)))
            goto done;
        s.total += orx_type_row_bytes(s.t[i].type, s.t[i].ne0) * (uint64_t)s.t[i].ne1;
        params += (uint64_t)(s.t[i].ne0 * s.t[i].ne1);
    }
    orx_progress_start(&s.prog, "synth", s.total);
    double t0 = orx_now();
    st = orx_gguf_writer_write(w, out, fill_cb, &s, &err);
    orx_progress_finish(&s.prog);
    if (st) goto done;
    if (json)
        printf("{\"file\":\"%s\",\"shape\":\"%s\",\"type\":\"%s\",\"tensors\":%d,\"params\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"vocab\":\"%s\",\"seconds\":%.1f}\n",
               out, sh.name, s.mx->name, s.n, params, s.total, vpath ? vpath : "synthetic", orx_now() - t0);
    else
        printf("wrote %s: %s %s, %d tensors, %.2f M params, %.1f MiB of tensors, vocab %s (%.1f s)\n",
               out, sh.name, s.mx->name, s.n, (double)params / 1e6, (double)s.total / 1048576.0,
               vpath ? vpath : "synthetic", orx_now() - t0);
done:
    if (v) orx_gguf_close(v);
    orx_gguf_writer_free(w);
    orx_threadpool_free(s.pool);
    free(s.t);
    free(vpath);
    return st ? orx_cli_fail(st, &err) : 0;
}

int cmd_model(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: openrx model synth ...   (openrx model synth --help)\n");
        return 0;
    }
    if (argc < 2) return orx_cli_usage("model", "missing sub-command (synth)");
    if (strcmp(argv[1], "synth") != 0) return orx_cli_usage("model", "unknown sub-command '%s' (expected: synth)", argv[1]);
    return synth_main(argc - 1, argv + 1);
}
