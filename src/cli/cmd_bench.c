/*
 * cmd_bench.c — `openrx bench`: llama-bench-style speed table for a GGUF model.
 *
 *   openrx bench -m FILE [-t N] [-p 128,512] [-n 64] [-r 3] [--json]
 *
 * ppN: evaluate N prompt tokens from an empty cache (one batched pass); t/s = N / time.
 * tgN: generate N tokens one at a time from an empty cache; t/s = N / time.
 * vK: one decode pass of K tokens with every row's logits (orx_context_eval_decode), as a pass
 *   that verifies K - 1 drafted tokens runs it; t/s = K / time, and the cost of each row beyond the
 *   first (against v1 when -v lists 1) is printed below the table.
 * With -d D the cache holds D tokens first ("tg64 @ d1024", as llama-bench prints it).
 * Each test runs once as warm-up, then -r times; the table shows mean ± sample sd.
 * Also: time to first token for each prompt size (= the ppN time: the logits of the last prompt
 * token give the first new token), the machine's streaming-read bandwidth (a probe over a buffer
 * larger than the caches, same thread count, best of 3 passes, run just before and just after
 * decode and averaged: a shared machine's bandwidth moves), and decode as a fraction of that
 * ceiling (weight bytes read per token × tokens/s ÷ bandwidth).
 */
#include "cli/cli.h"
#include "engine/engine.h"
#include "engine/cpu/quant.h"      /* CPU features for the report */
#include "engine/cpu/threadpool.h" /* the bandwidth probe's threads */

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ============================================================================================
 * Bandwidth probe
 * ========================================================================================== */
typedef struct bw_job {
    const uint64_t *buf;   /* buffer */
    size_t          n;     /* u64 words */
    bool            pf;    /* this pass prefetches ahead (AVX2 path) */
    uint64_t        sink[64]; /* per-thread results (kept so reads are not optimised away) */
} bw_job;

#if defined(__x86_64__)
#define BW_PF_AHEAD 512 /* u64 words (4 KiB) the prefetching pass reads ahead */
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint64_t *p, size_t n, bool pf) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (pf) { /* the two cache lines of this step, BW_PF_AHEAD words on */
            _mm_prefetch((const char *)(p + i + BW_PF_AHEAD), _MM_HINT_T0);
            _mm_prefetch((const char *)(p + i + BW_PF_AHEAD + 8), _MM_HINT_T0);
        }
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 4)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 8)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 12)));
    }
    __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t r[4];
    _mm256_storeu_si256((__m256i *)r, a);
    return r[0] ^ r[1] ^ r[2] ^ r[3];
}
#endif

static uint64_t sum_plain(const uint64_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s ^= p[i];
    return s;
}

static void bw_fn(void *vctx, int ith, int nth) {
    bw_job *j = vctx;
    size_t per = (j->n / (size_t)nth) & ~(size_t)15, a = per * (size_t)ith;
    size_t b = ith == nth - 1 ? j->n : a + per;
#if defined(__x86_64__)
    if (orx_cpu_get()->avx2) { j->sink[ith & 63] = sum_avx2(j->buf + a, (b - a) & ~(size_t)15, j->pf); return; }
#endif
    j->sink[ith & 63] = sum_plain(j->buf + a, b - a);
}

/* GB/s (1e9 bytes/s), best of `reps` rounds over `mib` MiB, each round one pass as the hardware
 * prefetchers alone stream it and one with software prefetch 4 KiB ahead (on some machines only
 * that reaches the bandwidth the decode kernels do); 0 on allocation failure */
static double measure_bandwidth(orx_threadpool *pool, size_t mib, int reps) {
    size_t bytes = mib << 20;
    uint64_t *buf = NULL;
    if (posix_memalign((void **)&buf, (size_t)2 << 20, bytes) != 0) return 0.0;
#ifdef MADV_HUGEPAGE
    madvise(buf, bytes, MADV_HUGEPAGE); /* the same pages the resident weights get */
#endif
    for (size_t i = 0; i < bytes / 8; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;
    bw_job j;
    memset(&j, 0, sizeof j);
    j.buf = buf;
    j.n = bytes / 8;
    double best = 0.0;
    for (int r = 0; r < 2 * reps; r++) {
        j.pf = r & 1;
        double t0 = orx_now();
        orx_threadpool_run(pool, bw_fn, &j);
        double dt = orx_now() - t0;
        if (dt > 0 && (double)bytes / dt / 1e9 > best) best = (double)bytes / dt / 1e9;
    }
    free(buf);
    return best;
}

/* ============================================================================================
 * Model facts
 * ========================================================================================== */
typedef struct facts {
    char     name[96];       /* general.name or file basename */
    char     type[32];       /* file type */
    uint64_t bytes;          /* tensor bytes */
    uint64_t params;         /* tensor elements */
    uint64_t bytes_per_tok;  /* weight bytes read per decoded token */
} facts;

static const char *ftype_name(uint32_t ft) {
    switch (ft) {
    case 0: return "F32"; case 1: return "F16"; case 2: return "Q4_0"; case 3: return "Q4_1";
    case 7: return "Q8_0"; case 8: return "Q5_0"; case 9: return "Q5_1"; case 14: return "Q4_K_S";
    case 15: return "Q4_K_M"; case 16: return "Q5_K_S"; case 17: return "Q5_K_M"; case 18: return "Q6_K";
    case 32: return "BF16"; default: return "?";
    }
}

static void get_facts(const orx_model *m, const char *path, facts *f) {
    const orx_gguf *g = orx_model_gguf(m);
    const orx_hparams *hp = orx_model_hparams(m);
    memset(f, 0, sizeof f[0]);
    const char *s;
    uint64_t len;
    if (orx_gguf_get_str(g, "general.name", &s, &len))
        snprintf(f->name, sizeof f->name, "%.*s", (int)(len < 60 ? len : 60), s);
    else {
        const char *b = strrchr(path, '/');
        snprintf(f->name, sizeof f->name, "%s", b ? b + 1 : path);
    }
    uint32_t ft;
    snprintf(f->type, sizeof f->type, "%s", orx_gguf_get_u32(g, "general.file_type", &ft) ? ftype_name(ft) : "?");
    uint64_t embd_bytes = 0;
    const orx_gguf_tensor *te = NULL;
    for (int64_t i = 0; i < orx_gguf_n_tensors(g); i++) {
        const orx_gguf_tensor *t = orx_gguf_tensor_at(g, i);
        f->bytes += t->nbytes;
        f->params += (uint64_t)orx_gguf_tensor_nelements(t);
        if (!strcmp(t->name, "token_embd.weight")) { embd_bytes = t->nbytes; te = t; }
    }
    /* per token: every weight once, except the embedding table (one row) unless it is also the
     * output matrix (tied) */
    f->bytes_per_tok = f->bytes;
    if (te && !hp->tied_output) f->bytes_per_tok -= embd_bytes - embd_bytes / (uint64_t)(te->ne[1] > 0 ? te->ne[1] : 1);
}

/* ============================================================================================
 * Runs
 * ========================================================================================== */
typedef struct result {
    char   test[24];  /* "pp512", "tg64", "tg64 @ d1024" */
    int    n;         /* tokens */
    double mean, sd;  /* tokens/s */
    double ms_mean;   /* ms per run */
    double cpu_share; /* process CPU time / (wall time x threads), 0..1: how much CPU we got */
} result;

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static void stats(const double *v, int n, double *mean, double *sd) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0.0;
}

/* The cache holds `depth` tokens (bench_one filled it) before every timed run: cut back to them. */
static orx_status start_at(orx_context *c, int depth) {
    if (depth == 0) {
        orx_context_reset(c);
        return ORX_OK;
    }
    return orx_context_truncate(c, depth);
}

static orx_status run_pp(orx_context *c, const int32_t *toks, int n, int depth, double *secs, orx_error *err) {
    orx_status st = start_at(c, depth);
    if (st) return orx_fail(err, st, "bench: cannot reuse the %d-token context", depth);
    double t0 = orx_now();
    st = orx_context_eval(c, toks, n, false, err);
    *secs = orx_now() - t0;
    return st;
}

/* One verification pass: n tokens, every row's logits, each row as one-token decoding gives it. */
static orx_status run_verify(orx_context *c, const int32_t *toks, int n, int depth, double *secs, orx_error *err) {
    orx_status st = start_at(c, depth);
    if (st) return orx_fail(err, st, "bench: cannot reuse the %d-token context", depth);
    double t0 = orx_now();
    st = orx_context_eval_decode(c, toks, n, err);
    *secs = orx_now() - t0;
    return st;
}

static orx_status run_tg(orx_context *c, const int32_t *toks, int n, int depth, double *secs, orx_error *err) {
    orx_status st = start_at(c, depth);
    if (st) return orx_fail(err, st, "bench: cannot reuse the %d-token context", depth);
    double t0 = orx_now();
    for (int i = 0; i < n; i++) {
        st = orx_context_eval(c, &toks[i], 1, false, err);
        if (st) return st;
    }
    *secs = orx_now() - t0;
    return ORX_OK;
}

typedef enum test_kind { TEST_PP, TEST_TG, TEST_VERIFY } test_kind;

static orx_status run_test(test_kind k, orx_context *c, const int32_t *toks, int n, int depth, double *secs,
                           orx_error *err) {
    if (k == TEST_PP) return run_pp(c, toks, n, depth, secs, err);
    if (k == TEST_VERIFY) return run_verify(c, toks, n, depth, secs, err);
    return run_tg(c, toks, n, depth, secs, err);
}

/* One test: ppN, tgN or vN after `depth` tokens already in the cache (llama-bench's -d), which are
 * evaluated once, untimed, from toks[0..depth); the test's tokens follow them. */
static orx_status bench_one(orx_context *c, const int32_t *toks, test_kind kind, int n, int depth, int reps, int nth,
                            result *r, orx_error *err) {
    double secs = 0, tps[64];
    const char *name = kind == TEST_PP ? "pp" : kind == TEST_VERIFY ? "v" : "tg";
    if (depth > 0) snprintf(r->test, sizeof r->test, "%s%d @ d%d", name, n, depth);
    else snprintf(r->test, sizeof r->test, "%s%d", name, n);
    r->n = n;
    orx_status st = ORX_OK;
    if (depth > 0) {
        orx_context_reset(c);
        st = orx_context_eval(c, toks, depth, false, err);
    }
    const int32_t *tt = toks + depth;
    if (!st) st = run_test(kind, c, tt, n, depth, &secs, err); /* warm-up */
    double ms = 0, cpu0 = cpu_seconds();
    for (int i = 0; i < reps && !st; i++) {
        st = run_test(kind, c, tt, n, depth, &secs, err);
        tps[i] = n / secs;
        ms += secs * 1e3;
    }
    if (st) return st;
    stats(tps, reps, &r->mean, &r->sd);
    r->ms_mean = ms / reps;
    r->cpu_share = ms > 0 ? (cpu_seconds() - cpu0) / (ms / 1e3 * nth) : 0.0;
    return ORX_OK;
}

/* ============================================================================================
 * Command
 * ========================================================================================== */
static void usage(FILE *f) {
    fprintf(f,
            "Usage: openrx bench -m FILE [-t N] [-p 128,512] [-n 64] [-r 3] [-d N] [--json]\n"
            "Measure prompt processing (ppN) and decode (tgN) speed, llama-bench style.\n\n"
            "  -m, --model FILE   GGUF model\n"
            "  -t, --threads N    threads (default: physical cores)\n"
            "  -p, --prompt LIST  prompt sizes, comma-separated (default 512); 0 = none\n"
            "  -n, --gen N        tokens to generate (default 128); 0 = none\n"
            "  -v, --verify LIST  tokens per verification pass, comma-separated (e.g. 1,2,4,8): one\n"
            "                     decode pass with every row's logits, as drafted tokens are checked;\n"
            "                     prints the time of each row beyond the first (default: none)\n"
            "  -r, --reps N       repetitions after one warm-up (default 5)\n"
            "  --bw-mib N         bandwidth probe buffer, MiB (default 1024; 0 = skip)\n"
            "  --mmap             use the weights in place from the file map (no resident copy)\n"
            "  --no-repack        keep the file's layout in the resident copy (no 16-row repacking\n"
            "                     for this CPU's kernels: Q4_0/Q4_K/Q5_K/Q6_K/Q8_0 as in the file)\n"
            "  -d, --depth N      tokens already in the KV cache before each test (llama-bench's -d;\n"
            "                     evaluated once, untimed): decode and prompt speed at that context\n"
            "      --attn MODE    attention numerics: f32 (F32 KV cache) or f16-flash (F16 KV cache,\n"
            "                     llama.cpp's CPU default); default: the engine's\n"
            "  -b, --batch N      tokens per forward chunk (default: the largest -p, like llama-bench's\n"
            "                     ubatch; generate/recommend use the engine default)\n"
            "  --json             JSON output\n"
            "  -h, --help         this help\n"
            "ORX_ISA=scalar|avx2|avx512 caps the kernel level (for comparisons).\n");
}

static bool parse_list(const char *s, int *out, int *n, int cap) {
    *n = 0;
    char *dup = orx_strdup(s), *save = NULL;
    if (!dup) return false;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (*n >= cap || !orx_cli_parse_int(tok, 0, 65536, &v)) { free(dup); return false; }
        if (v > 0) out[(*n)++] = (int)v;
    }
    free(dup);
    return true;
}

int cmd_bench(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"threads", required_argument, NULL, 't'},
        {"prompt", required_argument, NULL, 'p'}, {"gen", required_argument, NULL, 'n'},
        {"reps", required_argument, NULL, 'r'}, {"bw-mib", required_argument, NULL, 'B'},
        {"mmap", no_argument, NULL, 'M'}, {"no-repack", no_argument, NULL, 'R'},
        {"batch", required_argument, NULL, 'b'}, {"verify", required_argument, NULL, 'v'},
        {"attn", required_argument, NULL, 'A'}, {"depth", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *path = NULL;
    long threads = 0, gen = 128, reps = 5, bw_mib = 1024, batch = 0, depth = 0;
    int pp[16] = {512}, n_pp = 1, ver[16] = {0}, n_ver = 0;
    bool json = false;
    orx_model_params mp = orx_model_default_params();
    orx_context_params cdef = orx_context_default_params();
    orx_attn_numerics attn = cdef.attn;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:p:n:r:b:d:v:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': path = optarg; break;
        case 't': if (!orx_cli_parse_int(optarg, 1, 512, &threads)) return orx_cli_usage("bench", "bad -t '%s'", optarg); break;
        case 'p': if (!parse_list(optarg, pp, &n_pp, 16)) return orx_cli_usage("bench", "bad -p '%s' (e.g. 128,512)", optarg); break;
        case 'v': if (!parse_list(optarg, ver, &n_ver, 16)) return orx_cli_usage("bench", "bad -v '%s' (e.g. 1,2,4,8)", optarg); break;
        case 'n': if (!orx_cli_parse_int(optarg, 0, 65536, &gen)) return orx_cli_usage("bench", "bad -n '%s'", optarg); break;
        case 'r': if (!orx_cli_parse_int(optarg, 1, 64, &reps)) return orx_cli_usage("bench", "bad -r '%s' (1..64)", optarg); break;
        case 'B': if (!orx_cli_parse_int(optarg, 0, 1 << 16, &bw_mib)) return orx_cli_usage("bench", "bad --bw-mib '%s'", optarg); break;
        case 'd': if (!orx_cli_parse_int(optarg, 0, 1 << 20, &depth)) return orx_cli_usage("bench", "bad -d '%s'", optarg); break;
        case 'b': if (!orx_cli_parse_int(optarg, 1, 1 << 16, &batch)) return orx_cli_usage("bench", "bad -b '%s'", optarg); break;
        case 'j': json = true; break;
        case 'M': mp.use_mmap = true; break;
        case 'R': mp.no_repack = true; break;
        case 'A':
            if (!strcmp(optarg, "f32")) attn = ORX_ATTN_F32;
            else if (!strcmp(optarg, "f16-flash")) attn = ORX_ATTN_F16_FLASH;
            else return orx_cli_usage("bench", "bad --attn '%s' (f32 or f16-flash)", optarg);
            break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("bench", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc) return orx_cli_usage("bench", "unexpected argument '%s'", argv[optind]);
    if (!path) return orx_cli_usage("bench", "missing -m FILE");

    orx_error err = ORX_ERROR_INIT;
    orx_model *m = NULL;
    orx_context *ctx = NULL;
    orx_status st = orx_model_load_params(path, &mp, &m, &err);
    if (st) return orx_cli_fail(st, &err);
    const orx_hparams *hp = orx_model_hparams(m);
    int max_pp = 0;
    for (int i = 0; i < n_pp; i++) if (pp[i] > max_pp) max_pp = pp[i];
    for (int i = 0; i < n_ver; i++) if (ver[i] > max_pp) max_pp = ver[i];
    int need = (int)depth + (max_pp > gen ? max_pp : (int)gen) + 1;
    orx_context_params cp = orx_context_default_params();
    cp.n_threads = (int32_t)threads;
    cp.n_ctx = need;
    if (max_pp > cp.n_batch) cp.n_batch = max_pp;
    if (batch > 0) cp.n_batch = (int32_t)batch;
    cp.attn = attn;
    if (need > hp->n_ctx_train && hp->n_ctx_train > 0) {
        orx_model_free(m);
        return orx_cli_usage("bench", "test needs %d tokens of context, the model has %d", need, hp->n_ctx_train);
    }
    if ((st = orx_context_create(m, &cp, &ctx, &err))) { orx_model_free(m); return orx_cli_fail(st, &err); }
    int nth = threads > 0 ? (int)threads : orx_threadpool_default_threads();

    facts f;
    get_facts(m, path, &f);
    int32_t *toks = malloc((size_t)need * sizeof *toks);
    result res[40];
    int n_res = 0;
    if (!toks) { st = orx_fail(&err, ORX_ERR_NOMEM, "out of memory"); goto done; }
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < need; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        toks[i] = (int32_t)(x % (uint64_t)hp->n_vocab);
    }
    for (int i = 0; i < n_pp && !st; i++)
        if (pp[i] > 0) st = bench_one(ctx, toks, TEST_PP, pp[i], (int)depth, (int)reps, nth, &res[n_res++], &err);
    for (int i = 0; i < n_ver && !st; i++)
        st = bench_one(ctx, toks, TEST_VERIFY, ver[i], (int)depth, (int)reps, nth, &res[n_res++], &err);
    /* the probe just before and just after decode (a shared machine's bandwidth moves): their mean
     * is what decode is compared with */
    orx_threadpool *probe = bw_mib > 0 ? orx_threadpool_create(nth) : NULL;
    double bw_before = probe && gen > 0 && !st ? measure_bandwidth(probe, (size_t)bw_mib, 3) : 0.0;
    if (gen > 0 && !st) st = bench_one(ctx, toks, TEST_TG, (int)gen, (int)depth, (int)reps, nth, &res[n_res++], &err);
    if (st) { orx_threadpool_free(probe); goto done; }
    double bw_after = probe ? measure_bandwidth(probe, (size_t)bw_mib, 3) : 0.0;
    orx_threadpool_free(probe);
    double bw = bw_before > 0 && bw_after > 0 ? (bw_before + bw_after) / 2 : bw_after;
    double tg = gen > 0 ? res[n_res - 1].mean : 0.0;
    double frac = bw > 0 && tg > 0 ? (double)f.bytes_per_tok * tg / 1e9 / bw : 0.0;

    char pf[512]; /* the one-token prefetch choice (measured when the context was created) */
    int mode = atomic_load(&orx_cpu_decode_pf);
    if (mode != ORX_PF_AUTO) snprintf(pf, sizeof pf, "%s (ORX_PREFETCH)", mode == ORX_PF_ON ? "on" : "off");
    else if (orx_cpu_prefetch_report(pf, sizeof pf) == 0) snprintf(pf, sizeof pf, "off (not measured: weights fit in cache or not AVX-512)");
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n_res; i++) {
            json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:i,s:s,s:f,s:f,s:f}", "model", f.name, "type", f.type,
                                  "size_bytes", (json_int_t)f.bytes, "params", (json_int_t)f.params,
                                  "threads", nth, "test", res[i].test, "t_s", res[i].mean, "t_s_sd", res[i].sd,
                                  "ms", res[i].ms_mean);
            if (res[i].test[0] == 'p') json_object_set_new(o, "ttft_ms", json_real(res[i].ms_mean));
            if (res[i].test[0] == 'v') json_object_set_new(o, "pass_ms", json_real(res[i].ms_mean));
            json_object_set_new(o, "cpu_share", json_real(res[i].cpu_share));
            json_array_append_new(arr, o);
        }
        json_t *top = json_pack("{s:o,s:f,s:I,s:f,s:s}", "results", arr, "bandwidth_gb_s", bw,
                                "bytes_per_token", (json_int_t)f.bytes_per_tok, "decode_fraction_of_bandwidth", frac,
                                "cpu", orx_cpu_describe());
        json_object_set_new(top, "bandwidth_before_decode_gb_s", json_real(bw_before));
        json_object_set_new(top, "bandwidth_after_decode_gb_s", json_real(bw_after));
        json_object_set_new(top, "weights_resident_bytes", json_integer((json_int_t)orx_model_resident_bytes(m)));
        json_object_set_new(top, "weights_repack", json_boolean(orx_model_resident_bytes(m) && !mp.no_repack)); /* may lay matrices out for the kernels */
        json_object_set_new(top, "prefetch_one_token", json_string(pf));
        char *s = json_dumps(top, JSON_INDENT(2));
        if (s) printf("%s\n", s);
        free(s);
        json_decref(top);
    } else {
        char size[32];
        if (f.bytes >= (1ull << 30)) snprintf(size, sizeof size, "%.2f GiB", (double)f.bytes / (1 << 30));
        else snprintf(size, sizeof size, "%.2f MiB", (double)f.bytes / (1 << 20));
        int tw = 6; /* test column: as wide as its longest entry ("tg64 @ d1024") */
        for (int i = 0; i < n_res; i++)
            if ((int)strlen(res[i].test) > tw) tw = (int)strlen(res[i].test);
        printf("| %-22s | %10s | %8s | %-6s | %7s | %*s | %16s |\n", "model", "size", "params", "type", "threads", tw,
               "test", "t/s");
        printf("| %.22s | %.10s | %.8s | %.6s | %.7s | %.*s | %.16s |\n", "------------------------------", "-----------",
               "----------", "--------", "---------", tw, "------------------------", "------------------");
        for (int i = 0; i < n_res; i++)
            printf("| %-22s | %10s | %7.2f B | %-6s | %7d | %*s | %8.2f ± %5.2f |\n", f.name, size, (double)f.params / 1e9,
                   f.type, nth, tw, res[i].test, res[i].mean, res[i].sd);
        for (int i = 0; i < n_res; i++)
            if (res[i].test[0] == 'p') printf("time to first token (%s): %.1f ms\n", res[i].test, res[i].ms_mean);
        const result *v1 = NULL; /* the one-row verification pass, when -v lists 1 */
        for (int i = 0; i < n_res; i++)
            if (res[i].test[0] == 'v' && res[i].n == 1) v1 = &res[i];
        for (int i = 0; i < n_res; i++) {
            if (res[i].test[0] != 'v') continue;
            printf("verification pass (%s): %.1f ms", res[i].test, res[i].ms_mean);
            if (v1 && res[i].n > 1)
                printf(", %+.1f ms per row beyond the first (%.0f %% of a one-row pass)",
                       (res[i].ms_mean - v1->ms_mean) / (res[i].n - 1),
                       100.0 * (res[i].ms_mean - v1->ms_mean) / (res[i].n - 1) / v1->ms_mean);
            printf("\n");
        }
        printf("CPU obtained (process CPU time / wall x threads; < 100 %% on a shared machine):");
        for (int i = 0; i < n_res; i++) printf(" %s %.0f %%", res[i].test, 100.0 * res[i].cpu_share);
        printf("\n");
        if (bw > 0) {
            printf("memory bandwidth (streaming read, %d threads, %ld MiB): %.1f GB/s", nth, bw_mib, bw);
            if (bw_before > 0) printf(" (mean of %.1f just before decode and %.1f just after)", bw_before, bw_after);
            printf("\n");
            if (tg > 0)
                printf("decode: %.1f MB of weights per token x %.2f t/s = %.1f GB/s = %.0f %% of measured bandwidth\n",
                       (double)f.bytes_per_tok / 1e6, tg, (double)f.bytes_per_tok * tg / 1e9, 100.0 * frac);
        }
        printf("kernels: %s\n", orx_cpu_describe());
        printf("one-token prefetch: %s\n", pf);
        size_t rb = orx_model_resident_bytes(m);
        if (rb)
            printf("weights: resident copy, %.1f MiB on 2 MiB pages%s\n", (double)rb / 1048576.0,
                   mp.no_repack ? ", the file's layout (--no-repack)" : "");
        else printf("weights: used in place from the file map%s\n", mp.use_mmap ? " (--mmap)" : " (not enough free memory for a copy)");
    }
done:
    free(toks);
    orx_context_free(ctx);
    orx_model_free(m);
    return st ? orx_cli_fail(st, &err) : 0;
}
