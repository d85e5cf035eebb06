/* forward.c — the transformer forward pass (reference clarity, F32 activations): RMSNorm,
 * attention with RoPE and grouped KV heads over the KV cache, SwiGLU/GeGLU feed-forward, output
 * head. Prompts are evaluated in batches (one orx_matmul per weight per batch); decode is a batch
 * of 1. Rounding follows ggml's CPU backend where that is cheap to do, so greedy outputs match
 * llama.cpp's (see tests/test_golden.c). */
#include "engine/attention.h"
#include "engine/model_impl.h"
#include "engine/cpu/vexp.h"
#include "util/util.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t g_gelu_once = PTHREAD_ONCE_INIT;
static void gelu_table_build(void);

/* ============================================================================================
 * Context
 * ========================================================================================== */
struct orx_context {
    const orx_model *m;        /* model (not owned) */
    orx_threadpool  *pool;     /* workers */
    bool             pool_borrowed; /* pool is another context's (orx_context_params.share_threads) */
    orx_kv_cache     kv;       /* the sequence's keys and values */
    int32_t          n_past;   /* positions filled */
    int32_t          n_batch;  /* tokens per forward chunk */
    bool             kv_f16;   /* ORX_ATTN_F16_FLASH: F16 cache, flash attention numerics */
    orx_attn_scratch *attn;    /* attention working memory (per thread) */
    /* scratch, per chunk token t: */
    float *x;      /* [n_batch][n_embd] residual stream */
    float *xn;     /* [n_batch][n_embd] normalised input */
    float *q;      /* [n_batch][n_head*hd] queries */
    float *k;      /* [n_batch][kv_dim] keys */
    float *v;      /* [n_batch][kv_dim] values */
    float *att;    /* [n_batch][n_head*hd] attention output */
    float *tmp;    /* [n_batch][max(n_embd, n_head*hd)] projection output */
    float *gate;   /* [n_batch][n_ff] */
    float *up;     /* [n_batch][n_ff] */
    float *qkv;    /* [n_batch][n_head*hd + 2*kv_dim] fused projection output (layer->wqkv) */
    float *gu;     /* [n_batch][2*n_ff] fused gate/up output (layer->wgu) */
    float *rope_cos, *rope_sin; /* [n_rot/2] per position, recomputed per token */
    /* logits of the last eval */
    float  *logits;     /* [n_logits][n_vocab] */
    int32_t n_logits;   /* rows kept: tokens logits_from .. n_last-1 of the last eval */
    int32_t logits_from; /* token of the first row kept */
    int32_t logits_cap; /* rows allocated */
    int32_t n_last;     /* tokens in the last eval */
    bool    decode_exact; /* this eval: matmuls as one-token decode computes them (orx_matmul_decode) */
};

orx_context_params orx_context_default_params(void) {
    return (orx_context_params){.n_ctx = 0, .n_threads = 0, .n_batch = 256, .attn = ORX_ATTN_F16_FLASH};
}

static void free_scratch(orx_context *c) {
    float **bufs[] = {&c->x, &c->xn, &c->q, &c->k, &c->v, &c->att, &c->tmp, &c->gate, &c->up, &c->qkv, &c->gu,
                      &c->rope_cos, &c->rope_sin, &c->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        free(*bufs[i]);
        *bufs[i] = NULL;
    }
}

/* The model's weight matrices, each once (a fused view instead of its parts), for the machine's
 * one-token prefetch choice (cpu/pf_tune.c: measured once per kernel and process). */
static void tune_prefetch(orx_context *c) {
    const orx_model *m = c->m;
    int cap = m->hp.n_layer * 7 + 1, n = 0;
    orx_pf_mat *mats = malloc((size_t)cap * sizeof *mats);
    if (!mats) return;
    for (int32_t l = 0; l < m->hp.n_layer; l++) {
        const orx_layer *L = &m->layers[l];
        const orx_wmat *w[] = {L->wqkv.data ? &L->wqkv : &L->wq, L->wqkv.data ? NULL : &L->wk,
                               L->wqkv.data ? NULL : &L->wv, &L->wo, L->wgu.data ? &L->wgu : &L->gate,
                               L->wgu.data ? NULL : &L->up, &L->down};
        for (int i = 0; i < 7; i++)
            if (w[i] && w[i]->data)
                mats[n++] = (orx_pf_mat){w[i]->type, w[i]->data, w[i]->n_out, w[i]->n_in,
                                         orx_type_row_bytes(w[i]->type, w[i]->n_in) * (size_t)w[i]->n_out};
    }
    if (m->output.data)
        mats[n++] = (orx_pf_mat){m->output.type, m->output.data, m->output.n_out, m->output.n_in,
                                 orx_type_row_bytes(m->output.type, m->output.n_in) * (size_t)m->output.n_out};
    orx_cpu_tune_prefetch(c->pool, mats, n);
    free(mats);
}

orx_status orx_context_create(const orx_model *m, const orx_context_params *p, orx_context **out,
                              orx_error *err) {
    *out = NULL;
    orx_context_params d = orx_context_default_params();
    if (!p) p = &d;
    const orx_hparams *hp = &m->hp;
    int32_t n_ctx = p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    if (n_ctx > (1 << 20)) return orx_fail(err, ORX_ERR_RANGE, "context of %d tokens is too large", n_ctx);
    orx_context *c = calloc(1, sizeof(*c));
    if (!c) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    c->m = m;
    c->n_batch = p->n_batch > 0 ? p->n_batch : 256;
    if (c->n_batch > n_ctx) c->n_batch = n_ctx; /* never more scratch than the context can use */
    if (p->attn != ORX_ATTN_F32 && p->attn != ORX_ATTN_F16_FLASH) {
        free(c);
        return orx_fail(err, ORX_ERR_USAGE, "unknown attention numerics %d", (int)p->attn);
    }
    c->kv_f16 = p->attn == ORX_ATTN_F16_FLASH;
    if (m->arch->act == ORX_ACT_GELU) pthread_once(&g_gelu_once, gelu_table_build);
    int nth = p->n_threads > 0 ? p->n_threads : orx_threadpool_default_threads();
    if (p->share_threads) c->pool = p->share_threads->pool, c->pool_borrowed = true;
    else if (nth > 1) c->pool = orx_threadpool_create(nth);
    int nthr = orx_threadpool_size(c->pool);
    size_t B = (size_t)c->n_batch, E = (size_t)hp->n_embd, QD = (size_t)hp->n_head * (size_t)hp->head_dim;
    size_t KD = (size_t)hp->n_head_kv * (size_t)hp->head_dim, F = (size_t)hp->n_ff;
    c->x = malloc(B * E * sizeof(float));
    c->xn = malloc(B * E * sizeof(float));
    c->q = malloc(B * QD * sizeof(float));
    c->k = malloc(B * KD * sizeof(float));
    c->v = malloc(B * KD * sizeof(float));
    c->att = malloc(B * QD * sizeof(float));
    c->tmp = malloc(B * (E > QD ? E : QD) * sizeof(float));
    c->gate = malloc(B * F * sizeof(float));
    c->up = malloc(B * F * sizeof(float));
    c->qkv = malloc(B * (QD + 2 * KD) * sizeof(float));
    c->gu = malloc(B * 2 * F * sizeof(float));
    c->attn = orx_attn_scratch_create(nthr, n_ctx, hp->n_head, hp->n_head_kv, hp->head_dim);
    c->rope_cos = malloc((size_t)hp->n_rot * sizeof(float));
    c->rope_sin = malloc((size_t)hp->n_rot * sizeof(float));
    orx_status st = ORX_OK;
    if (!c->x || !c->xn || !c->q || !c->k || !c->v || !c->att || !c->tmp || !c->gate || !c->up || !c->qkv || !c->gu ||
        !c->attn || !c->rope_cos || !c->rope_sin)
        st = orx_fail(err, ORX_ERR_NOMEM, "out of memory for the context scratch");
    if (!st) st = orx_kv_cache_init(&c->kv, hp->n_layer, n_ctx, (int32_t)KD, c->kv_f16, err);
    if (!st) tune_prefetch(c);
    if (st) orx_context_free(c);
    else *out = c;
    return st;
}

void orx_context_free(orx_context *c) {
    if (!c) return;
    free_scratch(c);
    orx_attn_scratch_free(c->attn);
    orx_kv_cache_free(&c->kv);
    if (!c->pool_borrowed) orx_threadpool_free(c->pool);
    free(c);
}

int32_t orx_context_n_ctx(const orx_context *c) { return c->kv.n_ctx; }
int32_t orx_context_n_past(const orx_context *c) { return c->n_past; }
int32_t orx_context_n_vocab(const orx_context *c) { return c->m->hp.n_vocab; }
void orx_context_reset(orx_context *c) {
    c->n_past = 0;
    c->n_logits = 0;
    c->n_last = 0;
}
/* Keep the first n_keep cached positions (prefix cache): later evals overwrite the rest. */
orx_status orx_context_truncate(orx_context *c, int32_t n_keep) {
    if (n_keep < 0 || n_keep > c->n_past) return ORX_ERR_RANGE;
    c->n_past = n_keep;
    c->n_logits = 0;
    c->n_last = 0;
    return ORX_OK;
}

const float *orx_context_logits(const orx_context *c, int32_t i) {
    if (c->n_logits == 0) return NULL;
    if (i < 0) return c->logits + (size_t)(c->n_logits - 1) * (size_t)c->m->hp.n_vocab;
    if (i < c->logits_from || i >= c->n_last) return NULL; /* not kept */
    return c->logits + (size_t)(i - c->logits_from) * (size_t)c->m->hp.n_vocab;
}

/* ============================================================================================
 * Building blocks
 * ========================================================================================== */
/* out = x / sqrt(mean(x^2) + eps) * w (sum in double, like ggml) */
static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)(x[i] * x[i]);
    float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* GELU, tanh approximation (as ggml and Gemma use) */
static float gelu(float x) {
    const float k = 0.79788456080286535588f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * x * (1.0f + 0.044715f * x * x)));
}

/* ggml's CPU backend takes GELU from a table indexed by the input rounded to F16 (the result
 * rounded to F16 too), with x <= -10 -> 0 and x >= 10 -> x; the same here, so GeGLU models give
 * llama.cpp's numbers. [65536] F16 results, built once. */
static uint16_t g_gelu_table[1 << 16];
static void gelu_table_build(void) {
    for (uint32_t i = 0; i < (1u << 16); i++) g_gelu_table[i] = orx_f32_to_fp16(gelu(orx_fp16_to_f32((uint16_t)i)));
}

/* gelu(g) * u as ggml's GeGLU computes it */
static inline float geglu(float g, float u) {
    if (g <= -10.0f) return 0.0f;
    if (g >= 10.0f) return g * u;
    return orx_fp16_to_f32(g_gelu_table[orx_f32_to_fp16(g)]) * u;
}

static void matmul(orx_context *c, const orx_wmat *w, const float *x, int n_tok, float *y) {
    if (c->decode_exact) orx_matmul_decode(c->pool, w->type, w->data, w->n_out, w->n_in, x, n_tok, y);
    else orx_matmul(c->pool, w->type, w->data, w->n_out, w->n_in, x, n_tok, y);
}

static void add_bias(float *y, const float *b, int n_tok, int n) {
    if (!b) return;
    for (int t = 0; t < n_tok; t++)
        for (int i = 0; i < n; i++) y[(size_t)t * n + i] += b[i];
}

/* cos/sin for position pos, as ggml computes them (theta *= theta_scale in float); base and
 * freq_scale are the layer's (sliding-window layers may have their own). */
static void rope_cache(orx_context *c, int32_t pos, float base, float freq_scale) {
    const orx_hparams *hp = &c->m->hp;
    const float theta_scale = powf(base, -2.0f / (float)hp->n_rot);
    float theta = (float)pos;
    for (int i = 0; i < hp->n_rot / 2; i++) {
        float ff = c->m->rope_freqs ? c->m->rope_freqs[i] : 1.0f;
        float th = freq_scale * (theta / ff);
        c->rope_cos[i] = cosf(th);
        c->rope_sin[i] = sinf(th);
        theta *= theta_scale;
    }
}

/* Rotate n_heads heads of head_dim values in place. */
static void rope_apply(const orx_context *c, float *x, int n_heads) {
    const orx_hparams *hp = &c->m->hp;
    int half = hp->n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * hp->head_dim;
        for (int i = 0; i < half; i++) {
            int a = hp->rope_mode == ORX_ROPE_NEOX ? i : 2 * i;
            int b = hp->rope_mode == ORX_ROPE_NEOX ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c->rope_cos[i] - x1 * c->rope_sin[i];
            v[b] = x0 * c->rope_sin[i] + x1 * c->rope_cos[i];
        }
    }
}

/* Per-head RMSNorm (QK-norm): each of n_heads heads of head_dim values, same weights. */
static void head_norm(float *x, const float *w, int n_heads, int head_dim, float eps) {
    for (int h = 0; h < n_heads; h++) rmsnorm(x + (size_t)h * head_dim, x + (size_t)h * head_dim, w, head_dim, eps);
}

/* ============================================================================================
 * Attention (attention.c: threads split the (token, KV head) items)
 * ========================================================================================== */
static void attention(orx_context *c, int il, int n, int32_t pos0) {
    const orx_hparams *hp = &c->m->hp;
    orx_attn_job job = {.q = c->q, .k = orx_kv_cache_k(&c->kv, il, 0), .v = orx_kv_cache_v(&c->kv, il, 0),
                        .out = c->att, .kv_stride = (size_t)c->kv.kv_dim, .n_tok = n, .pos0 = pos0,
                        .n_head = hp->n_head, .n_head_kv = hp->n_head_kv, .head_dim = hp->head_dim,
                        .f16 = c->kv_f16, .window = orx_hparams_layer_swa(hp, il) ? hp->n_swa : 0,
                        .scale = hp->kq_scale, .softcap = hp->attn_softcap};
    orx_attn_run(c->pool, c->attn, &job, ORX_ATTN_IMPL_AUTO);
}

/* q, k, v projections of the chunk: one fused matmul when the model has the fused view. */
static void project_qkv(orx_context *c, const orx_layer *ly, int n) {
    const orx_hparams *hp = &c->m->hp;
    if (!ly->wqkv.data) {
        matmul(c, &ly->wq, c->xn, n, c->q);
        matmul(c, &ly->wk, c->xn, n, c->k);
        matmul(c, &ly->wv, c->xn, n, c->v);
        return;
    }
    size_t QD = (size_t)hp->n_head * hp->head_dim, KD = (size_t)hp->n_head_kv * hp->head_dim;
    size_t W = QD + 2 * KD;
    matmul(c, &ly->wqkv, c->xn, n, c->qkv);
    for (int t = 0; t < n; t++) {
        const float *row = c->qkv + (size_t)t * W;
        memcpy(c->q + (size_t)t * QD, row, QD * sizeof(float));
        memcpy(c->k + (size_t)t * KD, row + QD, KD * sizeof(float));
        memcpy(c->v + (size_t)t * KD, row + QD + KD, KD * sizeof(float));
    }
}

/* ============================================================================================
 * Element-wise steps over the thread pool: tokens split between threads for a prompt chunk;
 * for one token (decode) the activation splits its n_ff values. Same operations, same order per
 * value, so results do not depend on the thread count.
 * ========================================================================================== */
typedef struct ew_job {
    orx_context     *c;   /* context */
    const orx_layer *ly;  /* layer */
    int              n;   /* tokens in the chunk */
    int              op;  /* EW_* */
} ew_job;

enum {
    EW_ATTN_NORM, /* xn = rmsnorm(x) * attn_norm */
    EW_ATTN_RES,  /* x += attention projection; xn = rmsnorm(x) * ffn_norm */
    EW_ACT,       /* gate = act(gate part) * up part */
    EW_FFN_RES,   /* x += feed-forward output */
};

/* gate[t][i0..i1) = act(g) * u for token t (g, u: gate and up values of token t) */
static void act_range(orx_context *c, const orx_layer *ly, int t, size_t i0, size_t i1) {
    size_t F = (size_t)c->m->hp.n_ff;
    bool fused = ly->wgu.data != NULL;
    const float *g = fused ? c->gu + (size_t)t * 2 * F : c->gate + (size_t)t * F;
    const float *u = fused ? g + F : c->up + (size_t)t * F;
    float *o = c->gate + (size_t)t * F;
    if (c->m->arch->act == ORX_ACT_GELU) {
        for (size_t i = i0; i < i1; i++) o[i] = geglu(g[i], u[i]);
        return;
    }
    float e[256]; /* e^-g for a run of values, vectorised (vexp.h) */
    for (size_t a = i0; a < i1; a += 256) {
        size_t len = i1 - a < 256 ? i1 - a : 256;
        for (size_t k = 0; k < len; k++) e[k] = -g[a + k];
        orx_exp_array(e, len);
        for (size_t k = 0; k < len; k++) o[a + k] = g[a + k] / (1.0f + e[k]) * u[a + k];
    }
}

/* x += y, y first normalised by post_norm when the model has one (gemma2/3; y is scratch) */
static void residual(float *x, float *y, const float *post_norm, int n, float eps) {
    if (post_norm) rmsnorm(y, y, post_norm, n, eps);
    for (int i = 0; i < n; i++) x[i] += y[i];
}

static void ew_tokens(const ew_job *j, int t0, int t1) {
    orx_context *c = j->c;
    const orx_hparams *hp = &c->m->hp;
    size_t E = (size_t)hp->n_embd;
    for (int t = t0; t < t1; t++) {
        float *x = c->x + (size_t)t * E, *xn = c->xn + (size_t)t * E;
        float *tmp = c->tmp + (size_t)t * E;
        switch (j->op) {
        case EW_ATTN_NORM: rmsnorm(xn, x, j->ly->attn_norm, (int)E, hp->rms_eps); break;
        case EW_ATTN_RES:
            residual(x, tmp, j->ly->attn_post_norm, (int)E, hp->rms_eps);
            rmsnorm(xn, x, j->ly->ffn_norm, (int)E, hp->rms_eps);
            break;
        case EW_ACT: act_range(c, j->ly, t, 0, (size_t)hp->n_ff); break;
        default: residual(x, tmp, j->ly->ffn_post_norm, (int)E, hp->rms_eps); break;
        }
    }
}

static void ew_worker(void *vctx, int ith, int nth) {
    const ew_job *j = vctx;
    if (j->n == 1) { /* only EW_ACT is run this way: split the values */
        size_t F = (size_t)j->c->m->hp.n_ff, per = (F / (size_t)nth + 15) & ~(size_t)15;
        size_t i0 = per * (size_t)ith, i1 = i0 + per < F ? i0 + per : F;
        if (i0 < i1) act_range(j->c, j->ly, 0, i0, i1);
        return;
    }
    int per = (j->n + nth - 1) / nth, t0 = per * ith, t1 = t0 + per < j->n ? t0 + per : j->n;
    if (t0 < t1) ew_tokens(j, t0, t1);
}

static void elementwise(orx_context *c, const orx_layer *ly, int n, int op) {
    ew_job j = {c, ly, n, op};
    bool parallel = c->pool && (n > 1 || op == EW_ACT);
    if (parallel) orx_threadpool_run(c->pool, ew_worker, &j);
    else ew_tokens(&j, 0, n);
}

/* c->gate = act(x Wgate) * (x Wup) for the chunk; one fused matmul when the model has it. */
static void ffn_gate_up(orx_context *c, const orx_layer *ly, int n) {
    if (ly->wgu.data) {
        matmul(c, &ly->wgu, c->xn, n, c->gu);
    } else {
        matmul(c, &ly->gate, c->xn, n, c->gate);
        matmul(c, &ly->up, c->xn, n, c->up);
    }
    elementwise(c, ly, n, EW_ACT);
}

/* ============================================================================================
 * One chunk of tokens through the network
 * ========================================================================================== */
static void layer_forward(orx_context *c, int il, int n, int32_t pos0) {
    const orx_hparams *hp = &c->m->hp;
    const orx_layer *ly = &c->m->layers[il];
    int QD = hp->n_head * hp->head_dim, KD = hp->n_head_kv * hp->head_dim;
    elementwise(c, ly, n, EW_ATTN_NORM);
    project_qkv(c, ly, n);
    add_bias(c->q, ly->bq, n, QD);
    add_bias(c->k, ly->bk, n, KD);
    add_bias(c->v, ly->bv, n, KD);
    bool swa = orx_hparams_layer_swa(hp, il);
    float base = swa ? hp->rope_base_swa : hp->rope_base, fscale = swa ? hp->rope_scale_swa : hp->rope_freq_scale;
    for (int t = 0; t < n; t++) {
        float *q = c->q + (size_t)t * QD, *k = c->k + (size_t)t * KD;
        if (ly->q_norm) head_norm(q, ly->q_norm, hp->n_head, hp->head_dim, hp->rms_eps);
        if (ly->k_norm) head_norm(k, ly->k_norm, hp->n_head_kv, hp->head_dim, hp->rms_eps);
        rope_cache(c, pos0 + t, base, fscale);
        rope_apply(c, q, hp->n_head);
        rope_apply(c, k, hp->n_head_kv);
        if (hp->q_scale != 1.0f)
            for (int i = 0; i < QD; i++) q[i] *= hp->q_scale;
        orx_kv_cache_store(&c->kv, il, pos0 + t, k, c->v + (size_t)t * KD);
    }
    attention(c, il, n, pos0);
    matmul(c, &ly->wo, c->att, n, c->tmp);
    elementwise(c, ly, n, EW_ATTN_RES);
    ffn_gate_up(c, ly, n);
    matmul(c, &ly->down, c->gate, n, c->tmp);
    elementwise(c, ly, n, EW_FFN_RES);
}

static orx_status reserve_logits(orx_context *c, int32_t rows, orx_error *err) {
    if (rows <= c->logits_cap) return ORX_OK;
    float *p = realloc(c->logits, (size_t)rows * (size_t)c->m->hp.n_vocab * sizeof(float));
    if (!p) return orx_fail(err, ORX_ERR_NOMEM, "out of memory for %d rows of logits", rows);
    c->logits = p;
    c->logits_cap = rows;
    return ORX_OK;
}

/* Final norm + output head for chunk tokens [t0, t0+nt), into logits row `row`.. */
static void output_head(orx_context *c, int t0, int nt, int32_t row) {
    const orx_hparams *hp = &c->m->hp;
    int E = hp->n_embd;
    for (int t = 0; t < nt; t++)
        rmsnorm(c->xn + (size_t)t * E, c->x + (size_t)(t0 + t) * E, c->m->out_norm, E, hp->rms_eps);
    float *lg = c->logits + (size_t)row * hp->n_vocab;
    matmul(c, &c->m->output, c->xn, nt, lg);
    if (hp->final_softcap > 0) { /* gemma2: ggml_scale(1/cap), ggml_tanh, ggml_scale(cap) */
        float cap = hp->final_softcap, inv = 1.0f / cap;
        for (size_t i = 0; i < (size_t)nt * (size_t)hp->n_vocab; i++) lg[i] = tanhf(lg[i] * inv) * cap;
    }
}

/* Evaluate n tokens; logits of tokens from..n-1 only (from = n: none). */
static orx_status eval_from(orx_context *c, const int32_t *tokens, int32_t n, int32_t from, orx_error *err) {
    const orx_hparams *hp = &c->m->hp;
    if (n <= 0) return orx_fail(err, ORX_ERR_USAGE, "eval: no tokens");
    if (n > c->kv.n_ctx - c->n_past)
        return orx_fail(err, ORX_ERR_RANGE, "context full: %d tokens in cache + %d new > n_ctx %d",
                        c->n_past, n, c->kv.n_ctx);
    if (from < 0 || from > n) return orx_fail(err, ORX_ERR_USAGE, "eval: logits from token %d of %d", from, n);
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return orx_fail(err, ORX_ERR_RANGE, "eval: token id %d outside the vocabulary (0..%d)",
                            tokens[i], hp->n_vocab - 1);
    orx_status st = reserve_logits(c, n - from, err);
    if (st) return st;
    const orx_wmat *te = &c->m->tok_embd;
    size_t row_bytes = orx_type_row_bytes(te->type, te->n_in);
    for (int32_t done = 0; done < n;) {
        int nb = n - done < c->n_batch ? n - done : c->n_batch;
        for (int t = 0; t < nb; t++)
            orx_dequantize_row(te->type, (const uint8_t *)te->data + (size_t)tokens[done + t] * row_bytes,
                               c->x + (size_t)t * hp->n_embd, hp->n_embd);
        if (c->m->arch->embd_scale) {
            float sc = sqrtf((float)hp->n_embd);
            for (size_t i = 0; i < (size_t)nb * hp->n_embd; i++) c->x[i] *= sc;
        }
        for (int il = 0; il < hp->n_layer; il++) layer_forward(c, il, nb, c->n_past);
        int32_t lo = from > done ? from : done; /* the chunk's first token with logits */
        if (lo < done + nb) output_head(c, lo - done, done + nb - lo, lo - from);
        c->n_past += nb;
        done += nb;
    }
    c->n_logits = n - from;
    c->logits_from = from;
    c->n_last = n;
    return ORX_OK;
}

orx_status orx_context_eval(orx_context *c, const int32_t *tokens, int32_t n, bool all_logits,
                            orx_error *err) {
    return eval_from(c, tokens, n, all_logits || n <= 0 ? 0 : n - 1, err);
}

orx_status orx_context_eval_decode_from(orx_context *c, const int32_t *tokens, int32_t n, int32_t from,
                                        orx_error *err) {
    c->decode_exact = true;
    orx_status st = eval_from(c, tokens, n, from, err);
    c->decode_exact = false;
    return st;
}

orx_status orx_context_eval_decode(orx_context *c, const int32_t *tokens, int32_t n, orx_error *err) {
    return orx_context_eval_decode_from(c, tokens, n, 0, err);
}
