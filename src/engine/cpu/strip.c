/*
 * strip.c — the strip driver of the rows-in-lanes prompt kernels (every quant type they take),
 * and K-quant super-blocks as plain values + scales. Bit layouts (ggml): Q4_K qs[128], 32-byte
 * chunk c: low nibbles = sub-block 2c, high nibbles = 2c+1; Q5_K adds the 5th bit of sub-block k from qh bit k; Q6_K per 128-value half h:
 * ql (64 B) low/high nibbles and qh (32 B) 2-bit fields give values 0-31, 32-63, 64-95, 96-127.
 */
#include "engine/cpu/strip.h"

#include <stdlib.h>
#include <string.h>

void *orx_alloc64(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

void orx_kq_pair_sums(uint32_t type, const orx_block_q8_K *x, int64_t nsb, int32_t *out) {
    for (int64_t sb = 0; sb < nsb; sb++) {
        int32_t *o = out + sb * 8;
        const int16_t *bs = x[sb].bsums;
        if (type != ORX_TYPE_Q6_K)
            for (int i = 0; i < 4; i++) o[i] = orx_pack16(bs[4 * i] + bs[4 * i + 1], bs[4 * i + 2] + bs[4 * i + 3]);
        else
            for (int i = 0; i < 8; i++) o[i] = orx_pack16(bs[2 * i], bs[2 * i + 1]);
    }
}

/* ============================================================================================
 * Strip driver
 * ========================================================================================== */
static bool is_kquant(uint32_t t) { return t == ORX_TYPE_Q4_K || t == ORX_TYPE_Q5_K || t == ORX_TYPE_Q6_K; }

/* Per token: K-quants the sub-block sum pairs; Q4_0/Q8_0 per block d_x and offset x sum(x) (the
 * offset of the unsigned values: 8 for Q4_0, 128 for Q8_0 as q + 128, 0 for Q8_0 with signs). */
static void strip_prep_fn(void *vctx, int ith, int nth) {
    orx_strip_job *j = vctx;
    int off = j->wtype == ORX_TYPE_Q4_0 ? 8 : j->spec.q8_sign ? 0 : 128;
    for (int64_t t = ith; t < j->n_tok; t += nth) {
        const char *xr = j->Xq + (size_t)t * j->x_row;
        if (j->bsp) {
            orx_kq_pair_sums(j->wtype, (const orx_block_q8_K *)xr, j->nblk, j->bsp + (size_t)t * (size_t)j->nblk * 8);
            continue;
        }
        const orx_block_q8_0 *x = (const orx_block_q8_0 *)xr;
        for (int64_t b = 0; b < j->nblk; b++) {
            int sum = 0;
            if (off)
                for (int i = 0; i < 32; i++) sum += x[b].qs[i];
            j->dx[t * j->nblk + b] = orx_fp16_to_f32(x[b].d);
            j->corr[t * j->nblk + b] = off * sum;
        }
    }
}

/* Q4_0/Q8_0 rows of the strip at r0 into V (and S) [b][8 groups][rows][4] and d [b][rows]
 * (x86: AVX2, below). */
static void unpack_strip_q(const orx_strip_job *j, int64_t r0, orx_strip *st);

/* K-quant rows of the strip at r0. Rows past n_out are zero (their lanes are computed and not stored). */
static void unpack_strip_k(const orx_strip_job *j, int64_t r0, orx_strip *st) {
    int nsub = j->nsub, R = j->spec.rows;
    size_t row_blk = orx_type_row_bytes(j->wtype, 256); /* bytes per super-block */
    for (int r = 0; r < R; r++) {
        bool pad = r0 + r >= j->n_out;
        const char *row = j->W + (size_t)(r0 + r) * j->w_row;
        for (int64_t sb = 0; sb < j->nblk; sb++) {
            orx_kq_block kb;
            if (pad) memset(&kb, 0, sizeof kb);
            else orx_kq_unpack(j->wtype, row + (size_t)sb * row_blk, &kb);
            const int *sc = kb.sc, *mn = kb.mn;
            const uint32_t *v32 = (const uint32_t *)(const void *)kb.vals;
            uint32_t *dst = (uint32_t *)(void *)(st->V + (size_t)sb * 256 * (size_t)R) + r;
            for (int q = 0; q < 64; q++) dst[q * R] = v32[q]; /* group q = values 4q..4q+3 */
            int32_t *scd = st->sc + ((size_t)sb * (size_t)nsub) * (size_t)R + r;
            for (int k = 0; k < nsub; k++) scd[k * R] = j->spec.sc_twice ? orx_pack16(sc[k], sc[k]) : sc[k];
            int32_t *pd = st->scp + (size_t)sb * 8 * (size_t)R + r;
            if (j->wtype != ORX_TYPE_Q6_K)
                for (int i = 0; i < 4; i++) pd[i * R] = orx_pack16(mn[2 * i], mn[2 * i + 1]);
            else
                for (int i = 0; i < 8; i++) pd[i * R] = orx_pack16(sc[2 * i], sc[2 * i + 1]);
            st->d[sb * R + r] = kb.d;
            st->dmin[sb * R + r] = kb.dmin;
        }
    }
}

static void strips_fn(void *vctx, int ith, int nth) {
    orx_strip_job *j = vctx;
    size_t R = (size_t)j->spec.rows, nb = (size_t)j->nblk;
    bool k = j->bsp != NULL, sign = j->wtype == ORX_TYPE_Q8_0 && j->spec.q8_sign;
    size_t vb = k ? 256 : 32; /* values per block */
    orx_strip st = {orx_alloc64(nb * vb * R), sign ? orx_alloc64(nb * vb * R) : NULL,
                    k ? orx_alloc64(nb * (size_t)j->nsub * R * sizeof(int32_t)) : NULL,
                    k ? orx_alloc64(nb * 8 * R * sizeof(int32_t)) : NULL, orx_alloc64(nb * R * sizeof(float)),
                    k ? orx_alloc64(nb * R * sizeof(float)) : NULL};
    if (!st.V || (sign && !st.S) || (k && (!st.sc || !st.scp || !st.dmin)) || !st.d) {
        j->fail = true;
    } else {
        for (;;) {
            long s = j->next++;
            int64_t r0 = (int64_t)s * j->spec.rows;
            if (r0 >= j->n_out) break;
            if (k) unpack_strip_k(j, r0, &st);
            else unpack_strip_q(j, r0, &st);
            for (int64_t t0 = 0; t0 < j->n_tok; t0 += j->spec.tok_tile) j->spec.tile(j, &st, t0, r0);
        }
    }
    free(st.V); free(st.S); free(st.sc); free(st.scp); free(st.d); free(st.dmin);
}

void orx_strip_mm(orx_threadpool *pool, uint32_t wtype, const void *W, size_t w_row, int64_t n_out,
                  int64_t n_in, const void *Xq, size_t x_row, int64_t n_tok, float *Y,
                  const orx_strip_spec *spec) {
    orx_strip_job j;
    memset(&j, 0, sizeof j);
    j.spec = *spec;
    j.wtype = wtype;
    j.nsub = wtype == ORX_TYPE_Q6_K ? 16 : 8;
    j.W = W;
    j.w_row = w_row;
    j.n_out = n_out;
    j.nblk = n_in / (is_kquant(wtype) ? 256 : 32);
    j.Xq = Xq;
    j.x_row = x_row;
    j.n_tok = n_tok;
    j.Y = Y;
    size_t per_tok = (size_t)n_tok * (size_t)j.nblk;
    bool ok;
    if (is_kquant(wtype)) {
        ok = (j.bsp = orx_alloc64(per_tok * 8 * sizeof(int32_t))) != NULL;
    } else {
        j.dx = orx_alloc64(per_tok * sizeof(float));
        j.corr = orx_alloc64(per_tok * sizeof(int32_t));
        ok = j.dx && j.corr;
    }
    if (ok) {
        orx_threadpool_run(pool, strip_prep_fn, &j);
        orx_threadpool_run(pool, strips_fn, &j);
    }
    if (!ok || j.fail) memset(Y, 0, (size_t)(n_out * n_tok) * sizeof(float));
    free(j.bsp);
    free(j.dx);
    free(j.corr);
}

/* ============================================================================================
 * Strip and super-block unpacking (AVX2: every kernel level that reaches the strip driver has it)
 * ========================================================================================== */
#if defined(__x86_64__)
#include <immintrin.h>

#define KU __attribute__((target("avx2,f16c")))

KU static void values_q4_K(const orx_block_q4_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
        _mm256_storeu_si256((__m256i *)(out + 64 * c), _mm256_and_si256(q, m4));
        _mm256_storeu_si256((__m256i *)(out + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
}

KU static void values_q5_K(const orx_block_q5_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), two = _mm256_set1_epi8(2);
    const __m256i hb = _mm256_loadu_si256((const __m256i *)b->qh);
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * c));
        __m256i hs = _mm256_srli_epi16(hb, 2 * c);
        __m256i hl = _mm256_slli_epi16(_mm256_and_si256(hs, one), 4), hh = _mm256_slli_epi16(_mm256_and_si256(hs, two), 3);
        _mm256_storeu_si256((__m256i *)(out + 64 * c), _mm256_or_si256(_mm256_and_si256(q, m4), hl));
        _mm256_storeu_si256((__m256i *)(out + 64 * c + 32), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), hh));
    }
}

KU static void values_q6_K(const orx_block_q6_K *b, uint8_t out[256]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
        q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
        for (int k = 0; k < 4; k++) _mm256_storeu_si256((__m256i *)(out + 128 * h + 32 * k), q[k]);
    }
}

/* 8 x 8 int32 transpose: r[i] holds dwords (g0 .. g7) of row i; afterwards r[g] holds dword g of
 * rows 0 .. 7. */
KU static void transpose8x8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);     /* g0 g1 | g4 g5 of 2 rows */
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]); /* g2 g3 | g6 g7 */
    }
    for (int h = 0; h < 2; h++) { /* rows 4h .. 4h+3 */
        const __m256i *p = t + 4 * h;
        u[4 * h + 0] = _mm256_unpacklo_epi64(p[0], p[2]); /* g0 | g4 */
        u[4 * h + 1] = _mm256_unpackhi_epi64(p[0], p[2]); /* g1 | g5 */
        u[4 * h + 2] = _mm256_unpacklo_epi64(p[1], p[3]); /* g2 | g6 */
        u[4 * h + 3] = _mm256_unpackhi_epi64(p[1], p[3]); /* g3 | g7 */
    }
    for (int g = 0; g < 4; g++) {
        r[g] = _mm256_permute2x128_si256(u[g], u[4 + g], 0x20);
        r[g + 4] = _mm256_permute2x128_si256(u[g], u[4 + g], 0x31);
    }
}

/* The 32 values of block b of row r as 8 groups of 4 unsigned bytes (Q4_0 its nibbles, Q8_0
 * q + 128 or |q|), or with `raw` Q8_0's signed values; zero past n_out. d: the block's d_w. */
KU static inline __m256i strip_vals(const orx_strip_job *j, int64_t r, int64_t b, bool raw, float *d) {
    *d = 0.0f;
    if (r >= j->n_out) return _mm256_setzero_si256();
    const char *row = j->W + (size_t)r * j->w_row;
    if (j->wtype == ORX_TYPE_Q4_0) {
        const orx_block_q4_0 *blk = (const orx_block_q4_0 *)row + b;
        const __m128i m4 = _mm_set1_epi8(0x0F), n = _mm_loadu_si128((const __m128i *)blk->qs);
        *d = _cvtsh_ss(blk->d);
        return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(n, 4), m4), _mm_and_si128(n, m4));
    }
    const orx_block_q8_0 *blk = (const orx_block_q8_0 *)row + b;
    __m256i q = _mm256_loadu_si256((const __m256i *)blk->qs);
    *d = _cvtsh_ss(blk->d);
    return raw ? q : j->spec.q8_sign ? _mm256_abs_epi8(q) : _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80));
}

/* Per block, 8 rows at a time: their values (and S: the signed Q8_0 values) transposed so that
 * group g of the 8 rows is one 32-byte store. */
KU static void unpack_strip_q(const orx_strip_job *j, int64_t r0, orx_strip *st) {
    const int R = j->spec.rows;
    for (int64_t b = 0; b < j->nblk; b++) {
        for (int h = 0; h < R; h += 8) {
            size_t at = (size_t)b * 32 * (size_t)R + 4 * (size_t)h;
            __m256i v[8];
            for (int i = 0; i < 8; i++) v[i] = strip_vals(j, r0 + h + i, b, false, &st->d[b * R + h + i]);
            transpose8x8(v);
            for (int g = 0; g < 8; g++) _mm256_store_si256((__m256i *)(st->V + at + 4 * (size_t)R * g), v[g]);
            if (!st->S) continue;
            float d;
            for (int i = 0; i < 8; i++) v[i] = strip_vals(j, r0 + h + i, b, true, &d);
            transpose8x8(v);
            for (int g = 0; g < 8; g++) _mm256_store_si256((__m256i *)(st->S + at + 4 * (size_t)R * g), v[g]);
        }
    }
}

KU void orx_kq_unpack(uint32_t type, const void *blk, orx_kq_block *out) {
    memset(out->sc, 0, sizeof out->sc);
    memset(out->mn, 0, sizeof out->mn);
    out->dmin = 0.0f;
    if (type == ORX_TYPE_Q6_K) {
        const orx_block_q6_K *b = blk;
        values_q6_K(b, out->vals);
        for (int k = 0; k < 16; k++) out->sc[k] = b->scales[k];
        out->d = _cvtsh_ss(b->d);
        return;
    }
    uint8_t sm[16];
    if (type == ORX_TYPE_Q4_K) {
        const orx_block_q4_K *b = blk;
        values_q4_K(b, out->vals);
        orx_unpack_k4_scales(b->scales, sm);
        out->d = _cvtsh_ss(b->d);
        out->dmin = _cvtsh_ss(b->dmin);
    } else {
        const orx_block_q5_K *b = blk;
        values_q5_K(b, out->vals);
        orx_unpack_k4_scales(b->scales, sm);
        out->d = _cvtsh_ss(b->d);
        out->dmin = _cvtsh_ss(b->dmin);
    }
    for (int k = 0; k < 8; k++) out->sc[k] = sm[k], out->mn[k] = sm[8 + k];
}

#else
void orx_kq_unpack(uint32_t type, const void *blk, orx_kq_block *out) {
    (void)type, (void)blk;
    memset(out, 0, sizeof *out); /* only reached through x86 kernels */
}
static void unpack_strip_q(const orx_strip_job *j, int64_t r0, orx_strip *st) {
    (void)j, (void)r0, (void)st; /* only reached through x86 kernels */
}
#endif
