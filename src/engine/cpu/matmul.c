/*
 * matmul.c — Y = X · Wᵀ over the thread pool.
 *
 * 1. Activations are converted once into the weight type's dot type (Q8_0/Q8_1/Q8_K/F16/BF16)
 *    into a per-thread scratch buffer that is reused between calls.
 * 2. Output rows are handed out in chunks from an atomic counter (threads that run late on a
 *    busy machine simply take fewer chunks); for one token the chunks shrink as the rows run out
 *    (guided order), so the threads reach the end together. Inside a chunk the work is tiled rows × tokens: a
 *    tile of weight rows stays in L1 while every token of the batch streams past it, so each
 *    weight block is read from memory once per tile, not once per token.
 */
#include "engine/cpu/quant.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Scratch (per calling thread, grows, never shrinks)
 * ========================================================================================== */
enum { SCRATCH_ACT = 0, SCRATCH_PREP = 1, N_SCRATCH = 2 };
static _Thread_local void  *g_scratch[N_SCRATCH];     /* converted activations; gemv layout */
static _Thread_local size_t g_scratch_cap[N_SCRATCH]; /* bytes */

/* Thread-specific keys free the scratch when its thread exits (server connection threads). */
static pthread_key_t  g_scratch_key[N_SCRATCH];
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static void scratch_key_init(void) {
    for (int i = 0; i < N_SCRATCH; i++) pthread_key_create(&g_scratch_key[i], free);
}

static void *scratch_get(int slot, size_t bytes) {
    if (bytes > g_scratch_cap[slot]) {
        pthread_once(&g_scratch_once, scratch_key_init);
        void *p = NULL;
        if (posix_memalign(&p, 64, bytes) != 0) return NULL;
        free(g_scratch[slot]);
        g_scratch[slot] = p;
        g_scratch_cap[slot] = bytes;
        pthread_setspecific(g_scratch_key[slot], p);
    }
    return g_scratch[slot];
}

/* ============================================================================================
 * Work
 * ========================================================================================== */
typedef struct mm_ctx {
    orx_kernel   k;        /* kernel set */
    const char  *W;        /* weights */
    size_t       w_row;    /* bytes per weight row */
    int64_t      n_out;    /* rows */
    int64_t      n_in;     /* values per row */
    const float *X;        /* f32 activations (conversion phase) */
    char        *Xq;       /* converted activations */
    size_t       x_row;    /* bytes per converted row */
    int64_t      n_tok;    /* tokens */
    float       *Y;        /* output */
    int64_t      chunk;    /* rows per work item */
    atomic_llong next;     /* next chunk start */
    bool         decode;   /* every token as a one-token matmul would compute it (bit for bit) */
    bool         guided;   /* chunks shrink as rows run out (take_guided); else all c->chunk rows */
} mm_ctx;

static void convert_fn(void *vctx, int ith, int nth) {
    mm_ctx *c = vctx;
    for (int64_t t = ith; t < c->n_tok; t += nth)
        c->k.from_float(c->X + t * c->n_in, c->Xq + (size_t)t * c->x_row, c->n_in);
}

static void gemm_loop(const orx_kernel *k, int64_t n, const void *w, size_t w_stride, int nr,
                      const void *x, size_t x_stride, int nt, float *y, int64_t y_stride) {
    if (k->gemm && nt > 1) {
        k->gemm(n, w, w_stride, nr, x, x_stride, nt, y, y_stride);
        return;
    }
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            k->vec_dot(n, y + t * y_stride + r, (const char *)w + (size_t)r * w_stride,
                       (const char *)x + (size_t)t * x_stride);
}

/* Decode-exact rows: each token's values through the one-token path — gemv_multi (the weights
 * unpacked once for all tokens, each token with gemv's own operations), else gemv or vec_dot per
 * token chunk by chunk, so a chunk of weight rows comes from memory once and from cache for the
 * other tokens. The activations' gemv layouts are prepared once per thread. */
static void decode_rows_fn(void *vctx, int ith, int nth) {
    mm_ctx *c = vctx;
    (void)ith, (void)nth;
    char *prep = NULL;
    if (c->k.gemv && c->k.gemv_prep) {
        prep = scratch_get(SCRATCH_PREP, ORX_GEMV_PREP_BYTES * (size_t)c->n_tok);
        for (int64_t t = 0; prep && t < c->n_tok; t++)
            if (!c->k.gemv_prep(c->n_in, c->Xq + (size_t)t * c->x_row, prep + (size_t)t * ORX_GEMV_PREP_BYTES))
                prep = NULL;
    }
    for (;;) {
        int64_t o0 = atomic_fetch_add(&c->next, c->chunk);
        if (o0 >= c->n_out) break;
        int64_t o1 = o0 + c->chunk < c->n_out ? o0 + c->chunk : c->n_out;
        if (c->k.gemv_multi && (prep || !c->k.gemv_prep)) { /* weights unpacked once for all tokens */
            c->k.gemv_multi(c->n_in, c->W + (size_t)o0 * c->w_row, c->w_row, (int)(o1 - o0), c->Xq, c->x_row, prep,
                            ORX_GEMV_PREP_BYTES, (int)c->n_tok, c->Y + o0, c->n_out);
            continue;
        }
        for (int64_t t = 0; t < c->n_tok; t++) {
            const char *x = c->Xq + (size_t)t * c->x_row;
            float *y = c->Y + t * c->n_out;
            if (c->k.gemv) {
                c->k.gemv(c->n_in, c->W + (size_t)o0 * c->w_row, c->w_row, (int)(o1 - o0), x,
                          prep ? prep + (size_t)t * ORX_GEMV_PREP_BYTES : NULL, y + o0);
                continue;
            }
            for (int64_t r = o0; r < o1; r++) c->k.vec_dot(c->n_in, y + r, c->W + (size_t)r * c->w_row, x);
        }
    }
}

/* The next rows o0..*o1 in guided order: a 1 / (2 nth) share of the rows left (a multiple of tr,
 * at least c->chunk), so the chunks shrink towards the end and the threads finish together.
 * Returns o0 (>= n_out: none left). */
static int64_t take_guided(mm_ctx *c, int nth, int tr, int64_t *o1) {
    long long o0 = atomic_load_explicit(&c->next, memory_order_relaxed); /* the counter's own type */
    for (;;) {
        if (o0 >= c->n_out) return o0;
        int64_t size = (c->n_out - o0) / (2 * (int64_t)nth) / tr * tr;
        if (size < c->chunk) size = c->chunk;
        if (atomic_compare_exchange_weak(&c->next, &o0, o0 + size)) {
            *o1 = o0 + size < c->n_out ? o0 + size : c->n_out;
            return o0;
        }
    }
}

static void rows_fn(void *vctx, int ith, int nth) {
    mm_ctx *c = vctx;
    if (c->decode && c->n_tok > 1) {
        decode_rows_fn(vctx, ith, nth);
        return;
    }
    const int TR = c->k.tile_rows > 0 ? c->k.tile_rows : 1;
    const int TT = c->k.tile_toks > 0 ? c->k.tile_toks : 1;
    void *prep = NULL;      /* this thread's gemv layout of the activation */
    bool  prep_done = false;
    for (;;) {
        int64_t o0, o1;
        if (c->guided) {
            if ((o0 = take_guided(c, nth, TR, &o1)) >= c->n_out) break;
        } else {
            o0 = atomic_fetch_add(&c->next, c->chunk);
            if (o0 >= c->n_out) break;
            o1 = o0 + c->chunk < c->n_out ? o0 + c->chunk : c->n_out;
        }
        if (c->n_tok == 1 && c->k.gemv) { /* decode: the whole chunk against the one token */
            if (c->k.gemv_prep && !prep_done) { /* once per thread, not per chunk */
                prep = scratch_get(SCRATCH_PREP, ORX_GEMV_PREP_BYTES);
                if (prep && !c->k.gemv_prep(c->n_in, c->Xq, prep)) prep = NULL;
                prep_done = true;
            }
            c->k.gemv(c->n_in, c->W + (size_t)o0 * c->w_row, c->w_row, (int)(o1 - o0), c->Xq, prep, c->Y + o0);
            continue;
        }
        for (int64_t r = o0; r < o1; r += TR) {
            int nr = (int)(o1 - r < TR ? o1 - r : TR);
            for (int64_t t = 0; t < c->n_tok; t += TT) {
                int nt = (int)(c->n_tok - t < TT ? c->n_tok - t : TT);
                gemm_loop(&c->k, c->n_in, c->W + (size_t)r * c->w_row, c->w_row, nr,
                          c->Xq + (size_t)t * c->x_row, c->x_row, nt, c->Y + t * c->n_out + r,
                          c->n_out);
            }
        }
    }
}

static void matmul_with(orx_kernel k, orx_threadpool *pool, uint32_t wtype, const void *W,
                        int64_t n_out, int64_t n_in, const float *X, int64_t n_tok, float *Y, bool decode) {
    if (n_out <= 0 || n_tok <= 0) return;
    int64_t bv = orx_type_block_values(wtype);
    if ((!k.vec_dot && !k.gemv) || bv <= 0 || n_in % bv != 0) {
        memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
        return;
    }
    if (!k.vec_dot && !(k.mm && n_tok >= k.mm_min_tok)) decode = true; /* _R16 types: gemv paths only */
    mm_ctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.W = W;
    c.w_row = orx_type_row_bytes(wtype, n_in);
    c.n_out = n_out;
    c.n_in = n_in;
    c.X = X;
    c.n_tok = n_tok;
    c.Y = Y;
    c.decode = decode;
    int nth = orx_threadpool_size(pool);
    if (k.from_float) {
        uint32_t dt = orx_type_dot_type(wtype);
        c.x_row = orx_type_row_bytes(dt, n_in);
        c.Xq = scratch_get(SCRATCH_ACT, c.x_row * (size_t)n_tok);
        if (!c.Xq) { memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float)); return; }
        if (n_tok >= 4 && nth > 1) orx_threadpool_run(pool, convert_fn, &c);
        else convert_fn(&c, 0, 1);
    } else {
        c.Xq = (char *)(uintptr_t)X;
        c.x_row = (size_t)n_in * sizeof(float);
    }
    if (k.mm && n_tok >= k.mm_min_tok && !decode) {
        k.mm(pool, wtype, W, c.w_row, n_out, n_in, c.Xq, c.x_row, n_tok, Y);
        return;
    }
    /* ~8 chunks per thread for balance, a multiple of the row tile */
    int TR = k.tile_rows > 0 ? k.tile_rows : 1;
    int64_t chunk = n_out / ((int64_t)nth * 8);
    if (chunk < 16) chunk = 16;
    if (decode && n_tok > 1) { /* the chunk is read again from cache for each token: keep it in L2 */
        int64_t fit = (int64_t)(((size_t)256 << 10) / (c.w_row ? c.w_row : 1));
        if (chunk > fit) chunk = fit > 16 ? fit : 16;
    }
    chunk = (chunk + TR - 1) / TR * TR;
    /* decode: guided chunks, shrinking down to one 16-row group (the pool's waits at the end of
     * each matmul fell from 5.9 to 3.0 % of decode); the fixed size still decides whether the
     * pool is used at all */
    c.guided = n_tok == 1 && k.gemv;
    c.chunk = c.guided ? (TR > 16 ? TR : 16) : chunk;
    atomic_init(&c.next, 0);
    if (nth > 1 && n_out > chunk) orx_threadpool_run(pool, rows_fn, &c);
    else rows_fn(&c, 0, 1);
}

void orx_matmul(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *X, int64_t n_tok, float *Y) {
    matmul_with(orx_kernel_best(wtype), pool, wtype, W, n_out, n_in, X, n_tok, Y, false);
}

void orx_matmul_decode(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out, int64_t n_in,
                       const float *X, int64_t n_tok, float *Y) {
    matmul_with(orx_kernel_best(wtype), pool, wtype, W, n_out, n_in, X, n_tok, Y, true);
}

void orx_matmul_ref(orx_threadpool *pool, uint32_t wtype, const void *W, int64_t n_out,
                    int64_t n_in, const float *X, int64_t n_tok, float *Y) {
    matmul_with(orx_kernel_ref(wtype), pool, wtype, W, n_out, n_in, X, n_tok, Y, false);
}
