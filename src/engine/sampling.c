/* sampling.c — choose the next token: greedy, or temperature with top-k, top-p, min-p and
 * repetition/presence penalties over a seeded RNG (same seed, same output on every run).
 * Order of operations (as llama.cpp's default chain): penalties → top-k → top-p → min-p →
 * temperature → softmax → draw. */
#include "engine/engine.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * State
 * ========================================================================================== */
typedef struct cand {
    int32_t id;    /* token */
    float   logit; /* adjusted logit */
    float   p;     /* probability after softmax */
} cand;

struct orx_sampler {
    orx_sampler_params p;        /* settings */
    uint64_t           rng;      /* xorshift64* state */
    int32_t           *recent;   /* [repeat_last_n] ring of accepted tokens */
    int32_t            n_recent; /* filled entries */
    int32_t            head;     /* next write index */
    cand              *cands;    /* [cap] candidates */
    int32_t            cap;      /* candidates allocated */
};

orx_sampler_params orx_sampler_default_params(void) {
    return (orx_sampler_params){.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                                .repeat_penalty = 1.0f, .presence_penalty = 0.0f,
                                .repeat_last_n = 64, .seed = 42};
}

orx_sampler *orx_sampler_create(const orx_sampler_params *p) {
    orx_sampler *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->p = p ? *p : orx_sampler_default_params();
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->rng = s->p.seed ? s->p.seed : 0x9E3779B97F4A7C15ull;
    if (s->p.repeat_last_n && !(s->recent = calloc((size_t)s->p.repeat_last_n, sizeof(int32_t)))) {
        free(s);
        return NULL;
    }
    return s;
}

void orx_sampler_free(orx_sampler *s) {
    if (!s) return;
    free(s->recent);
    free(s->cands);
    free(s);
}

void orx_sampler_accept(orx_sampler *s, int32_t token) {
    if (!s->p.repeat_last_n) return;
    s->recent[s->head] = token;
    s->head = (s->head + 1) % s->p.repeat_last_n;
    if (s->n_recent < s->p.repeat_last_n) s->n_recent++;
}

int32_t orx_argmax(const float *logits, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

/* Uniform double in [0, 1) from xorshift64*. */
static double rng_uniform(orx_sampler *s) {
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

/* ============================================================================================
 * Steps
 * ========================================================================================== */
static int cmp_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id; /* stable on ties: lower id first */
}

/* Move the k best candidates to c[0..k) (unordered) in O(n log k) with a min-heap; returns k. */
static bool worse(const cand *a, const cand *b) { return cmp_desc(a, b) > 0; }
static void sift_down(cand *h, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < k && worse(&h[l], &h[m])) m = l;
        if (r < k && worse(&h[r], &h[m])) m = r;
        if (m == i) return;
        cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}
static int32_t select_top(cand *c, int32_t n, int32_t k) {
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int32_t i = k; i < n; i++)
        if (worse(&c[0], &c[i])) {
            c[0] = c[i];
            sift_down(c, k, 0);
        }
    return k;
}

static void apply_penalties(orx_sampler *s, cand *c) {
    bool rep = s->p.repeat_penalty != 1.0f && s->p.repeat_penalty > 0, pres = s->p.presence_penalty != 0;
    if (!rep && !pres) return;
    /* each distinct recent token once: mark by scanning (window is small) */
    for (int32_t i = 0; i < s->n_recent; i++) {
        int32_t t = s->recent[i];
        bool seen = false;
        for (int32_t j = 0; j < i && !seen; j++) seen = s->recent[j] == t;
        if (seen) continue;
        float *l = &c[t].logit;
        if (rep) *l = *l > 0 ? *l / s->p.repeat_penalty : *l * s->p.repeat_penalty;
        if (pres) *l -= s->p.presence_penalty;
    }
}

static void softmax(cand *c, int32_t n) {
    double sum = 0;
    float mx = c[0].logit;
    for (int32_t i = 0; i < n; i++) sum += c[i].p = expf(c[i].logit - mx);
    for (int32_t i = 0; i < n; i++) c[i].p = (float)(c[i].p / sum);
}

int32_t orx_sampler_sample(orx_sampler *s, const float *logits, int32_t n_vocab) {
    if (n_vocab <= 0) return -1;
    if (s->cap < n_vocab) {
        cand *nc = realloc(s->cands, (size_t)n_vocab * sizeof(cand));
        if (!nc) return -1;
        s->cands = nc;
        s->cap = n_vocab;
    }
    cand *c = s->cands;
    for (int32_t i = 0; i < n_vocab; i++) c[i] = (cand){i, logits[i], 0};
    for (int32_t i = 0; i < s->n_recent; i++)
        if (s->recent[i] < 0 || s->recent[i] >= n_vocab) return -1;
    apply_penalties(s, c);
    if (s->p.temp <= 0) {
        int32_t best = 0;
        for (int32_t i = 1; i < n_vocab; i++)
            if (c[i].logit > c[best].logit) best = i;
        return best;
    }
    int32_t n = n_vocab;
    if (s->p.top_k > 0 && s->p.top_k < n) n = select_top(c, n_vocab, s->p.top_k);
    qsort(c, (size_t)n, sizeof(cand), cmp_desc);
    softmax(c, n);
    if (s->p.top_p < 1.0f) {
        double cum = 0;
        for (int32_t i = 0; i < n; i++) {
            cum += c[i].p;
            if (cum >= s->p.top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (s->p.min_p > 0) {
        float lim = c[0].p * s->p.min_p;
        int32_t k = 1;
        while (k < n && c[k].p >= lim) k++;
        n = k;
    }
    for (int32_t i = 0; i < n; i++) c[i].logit /= s->p.temp;
    softmax(c, n);
    double r = rng_uniform(s), cum = 0;
    for (int32_t i = 0; i < n; i++) {
        cum += c[i].p;
        if (r < cum) return c[i].id;
    }
    return c[n - 1].id;
}
