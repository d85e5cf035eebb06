/* cmd_generate.c — `openrx generate -m FILE -p PROMPT ...`: run a local GGUF model, stream the
 * text to stdout; prompt/generated token counts and speeds go to stderr. */
#include "cli/cli.h"
#include "engine/engine.h"
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Options
 * ========================================================================================== */
typedef struct gen_opts {
    const char *model;    /* -m */
    const char *prompt;   /* -p */
    const char *system;   /* --system */
    const char *tmpl;     /* --chat-template */
    bool        chat;     /* --chat: wrap in the model's chat template */
    bool        json;     /* --json: print a JSON result instead of streaming */
    bool        ignore_eos; /* --ignore-eos */
    long        n;        /* -n */
    long        threads;  /* -t */
    long        ctx;      /* -c */
    orx_attn_numerics attn; /* --attn */
    long        repeat;   /* --repeat: runs of the same prompt in one context */
    bool        no_prefix_cache; /* --no-prefix-cache: re-evaluate the whole prompt every run */
    const char *draft;    /* --draft FILE: draft model (speculative decoding) */
    long        draft_max; /* --draft-max N: longest draft */
    orx_sampler_params sp; /* sampling */
} gen_opts;

static void usage(FILE *f) {
    fprintf(f,
            "Usage: openrx generate -m FILE -p PROMPT [options]\n\n"
            "Generate text with a local GGUF model (architectures: llama, qwen2, phi3, gemma). The text\n"
            "streams to "
            "stdout; token counts and speeds go to stderr.\n\n"
            "Options:\n"
            "  -m, --model FILE         GGUF model\n"
            "  -p, --prompt TEXT        prompt\n"
            "  -n, --n-predict N        tokens to generate (default 128)\n"
            "      --temp T             temperature; 0 = greedy (default 0.8)\n"
            "      --top-k K            keep the K most likely tokens (default 40; 0 = off)\n"
            "      --top-p P            nucleus sampling (default 0.95; 1 = off)\n"
            "      --min-p P            drop tokens below P x the best probability (default 0.05)\n"
            "      --repeat-penalty R   penalise recent tokens (default 1.0 = off)\n"
            "      --presence-penalty X subtract X from recent tokens' logits (default 0)\n"
            "      --seed S             RNG seed: same seed, same output (default 42)\n"
            "      --chat               wrap the prompt in the model's chat template\n"
            "      --system TEXT        system message (with --chat)\n"
            "      --chat-template NAME llama2, llama3, mistral, chatml, gemma, phi3, zephyr, vicuna, qwen3\n"
            "  -c, --ctx N              context size in tokens (default: min(trained, 4096))\n"
            "  -t, --threads N          threads (default: all cores)\n"
            "      --ignore-eos         do not stop at end-of-generation tokens\n"
            "      --attn MODE          f16-flash (default: F16 KV cache + flash attention, llama.cpp's CPU\n"
            "                           defaults, same tokens as llama.cpp) or f32 (F32 KV cache)\n"
            "      --repeat N           run the same prompt N times in one context (default 1); runs\n"
            "                           after the first reuse the prompt's KV cache (prefix cache)\n"
            "      --no-prefix-cache    with --repeat: evaluate the whole prompt every run\n"
            "      --draft FILE         speculative decoding: a small GGUF model with the same vocabulary\n"
            "                           proposes tokens, the model verifies them in one pass (same output)\n"
            "      --draft-max N        longest draft, 1..64 (default 8)\n"
            "      --json               print {text, tokens, stats} as JSON at the end\n"
            "  -h, --help               this help\n");
}

static int parse(int argc, char **argv, gen_opts *o) {
    enum { O_TEMP = 256, O_TOPK, O_TOPP, O_MINP, O_REP, O_PRES, O_SEED, O_CHAT, O_SYS, O_TMPL, O_JSON, O_IGN, O_ATTN, O_REPEAT, O_NOPC, O_DRAFT, O_DMAX };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"prompt", required_argument, NULL, 'p'},
        {"n-predict", required_argument, NULL, 'n'}, {"threads", required_argument, NULL, 't'},
        {"ctx", required_argument, NULL, 'c'}, {"temp", required_argument, NULL, O_TEMP},
        {"top-k", required_argument, NULL, O_TOPK}, {"top-p", required_argument, NULL, O_TOPP},
        {"min-p", required_argument, NULL, O_MINP}, {"repeat-penalty", required_argument, NULL, O_REP},
        {"presence-penalty", required_argument, NULL, O_PRES}, {"seed", required_argument, NULL, O_SEED},
        {"chat", no_argument, NULL, O_CHAT}, {"system", required_argument, NULL, O_SYS},
        {"chat-template", required_argument, NULL, O_TMPL}, {"json", no_argument, NULL, O_JSON},
        {"ignore-eos", no_argument, NULL, O_IGN}, {"attn", required_argument, NULL, O_ATTN},
        {"repeat", required_argument, NULL, O_REPEAT}, {"no-prefix-cache", no_argument, NULL, O_NOPC},
        {"draft", required_argument, NULL, O_DRAFT}, {"draft-max", required_argument, NULL, O_DMAX},
        {"help", no_argument, NULL, 'h'}, {0}};
    int c;
    double d;
    long l;
    while ((c = getopt_long(argc, argv, "m:p:n:t:c:h", opts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case 'm': o->model = a; break;
        case 'p': o->prompt = a; break;
        case 'n': if (!orx_cli_parse_int(a, 0, 1 << 20, &o->n)) goto bad; break;
        case 't': if (!orx_cli_parse_int(a, 1, 512, &o->threads)) goto bad; break;
        case 'c': if (!orx_cli_parse_int(a, 1, 1 << 20, &o->ctx)) goto bad; break;
        case O_TEMP: if (!orx_cli_parse_double(a, 0, 100, &d)) goto bad; o->sp.temp = (float)d; break;
        case O_TOPK: if (!orx_cli_parse_int(a, 0, 1 << 24, &l)) goto bad; o->sp.top_k = (int32_t)l; break;
        case O_TOPP: if (!orx_cli_parse_double(a, 0, 1, &d)) goto bad; o->sp.top_p = (float)d; break;
        case O_MINP: if (!orx_cli_parse_double(a, 0, 1, &d)) goto bad; o->sp.min_p = (float)d; break;
        case O_REP: if (!orx_cli_parse_double(a, 0.01, 100, &d)) goto bad; o->sp.repeat_penalty = (float)d; break;
        case O_PRES: if (!orx_cli_parse_double(a, -100, 100, &d)) goto bad; o->sp.presence_penalty = (float)d; break;
        case O_SEED: if (!orx_cli_parse_int(a, 0, 0x7fffffffL, &l)) goto bad; o->sp.seed = (uint64_t)l; break;
        case O_CHAT: o->chat = true; break;
        case O_SYS: o->system = a; break;
        case O_TMPL: o->tmpl = a; o->chat = true; break;
        case O_JSON: o->json = true; break;
        case O_IGN: o->ignore_eos = true; break;
        case O_REPEAT: if (!orx_cli_parse_int(a, 1, 1000, &o->repeat)) goto bad; break;
        case O_NOPC: o->no_prefix_cache = true; break;
        case O_DRAFT: o->draft = a; break;
        case O_DMAX: if (!orx_cli_parse_int(a, 1, 64, &o->draft_max)) goto bad; break;
        case O_ATTN:
            if (!strcmp(a, "f32")) o->attn = ORX_ATTN_F32;
            else if (!strcmp(a, "f16-flash")) o->attn = ORX_ATTN_F16_FLASH;
            else goto bad;
            break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("generate", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return orx_cli_usage("generate", "unexpected argument '%s'", argv[optind]);
    if (!o->model) return orx_cli_usage("generate", "missing -m FILE");
    if (!o->prompt) return orx_cli_usage("generate", "missing -p PROMPT");
    if (o->tmpl && orx_chat_template_by_name(o->tmpl) == ORX_CHAT_UNKNOWN)
        return orx_cli_usage("generate", "unknown chat template '%s' (llama2, llama3, mistral, chatml, "
                             "gemma, phi3, zephyr, vicuna, qwen3)", o->tmpl);
    return -1;
bad:
    return orx_cli_usage("generate", "bad value '%s' for %s", optarg, argv[optind - 1]);
}

/* ============================================================================================
 * Run
 * ========================================================================================== */
typedef struct sink {
    bool    stream; /* write pieces to stdout as they come */
    orx_buf text;   /* all pieces (for --json) */
    json_t *ids;    /* generated ids (for --json) */
} sink;

static bool on_token(void *ud, int32_t token, const char *piece, size_t len) {
    sink *s = ud;
    if (s->stream) {
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
    }
    orx_buf_append(&s->text, piece, len);
    json_array_append_new(s->ids, json_integer(token));
    return true;
}

/* Build the text to tokenize: the prompt, or the chat-formatted conversation. */
static orx_status prompt_text(const gen_opts *o, const orx_model *m, char **out, orx_error *err) {
    if (!o->chat) return (*out = orx_strdup(o->prompt)) ? ORX_OK : orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_chat_template t = ORX_CHAT_UNKNOWN;
    if (o->tmpl) t = orx_chat_template_by_name(o->tmpl);
    else {
        orx_status st = orx_chat_template_of(orx_model_gguf(m), &t, err);
        if (st) return st;
    }
    orx_chat_msg msgs[2];
    size_t n = 0;
    if (o->system) msgs[n++] = (orx_chat_msg){"system", o->system};
    msgs[n++] = (orx_chat_msg){"user", o->prompt};
    int64_t need = orx_chat_apply(t, msgs, n, true, NULL, 0);
    if (need < 0 || !(*out = malloc((size_t)need + 1))) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    orx_chat_apply(t, msgs, n, true, *out, (size_t)need + 1);
    return ORX_OK;
}

static orx_status run(const gen_opts *o, orx_error *err) {
    orx_model *m = NULL, *dm = NULL;
    orx_drafter *dr = NULL;
    orx_tokenizer *tk = NULL;
    orx_context *c = NULL;
    char *text = NULL;
    int32_t *ids = NULL;
    sink s = {!o->json, {0}, json_array()};
    orx_buf_init(&s.text);
    orx_status st = orx_model_load(o->model, &m, err);
    if (!st) st = orx_tokenizer_load(orx_model_gguf(m), &tk, err);
    if (!st && o->draft) st = orx_model_load(o->draft, &dm, err);
    if (!st && dm) st = orx_draft_vocab_check(m, o->model, dm, o->draft, err);
    if (!st) st = prompt_text(o, m, &text, err);
    int32_t n = 0;
    if (!st) {
        size_t len = strlen(text);
        n = orx_tokenize(tk, text, len, true, o->chat, NULL, 0);
        if (n <= 0 || !(ids = malloc((size_t)n * sizeof(int32_t))) ||
            orx_tokenize(tk, text, len, true, o->chat, ids, n) != n)
            st = orx_fail(err, ORX_ERR_INVALID, "could not tokenize the prompt");
    }
    orx_context_params cp = orx_context_default_params();
    cp.n_threads = (int32_t)o->threads;
    cp.n_ctx = (int32_t)o->ctx;
    cp.attn = o->attn;
    if (!st && !cp.n_ctx) { /* just what this run needs (KV cache memory), within the trained context */
        int64_t want = (int64_t)n + o->n + 16, train = orx_model_hparams(m)->n_ctx_train;
        cp.n_ctx = (int32_t)(want < train ? want : train > n ? train : want);
    }
    if (!st) st = orx_context_create(m, &cp, &c, err);
    if (!st && dm) { /* the draft model's context: as large as the model's */
        orx_context_params dcp = cp;
        dcp.n_ctx = orx_context_n_ctx(c);
        dcp.share_threads = c; /* one set of workers: the two models take turns */
        st = orx_drafter_create(dm, &dcp, (int32_t)o->draft_max, &dr, err);
    }
    if (!st && n + o->n > orx_context_n_ctx(c))
        fprintf(stderr, "openrx generate: note: %d prompt + %ld new tokens exceed the context of %d; "
                "generation stops when it is full\n", n, o->n, orx_context_n_ctx(c));
    orx_generate_params gp = orx_generate_default_params();
    gp.n_predict = (int32_t)o->n;
    gp.sampling = o->sp;
    gp.stop_at_eog = !o->ignore_eos;
    gp.drafter = dr;
    orx_generate_stats stats = {0};
    json_t *runs = json_array();
    for (long r = 0; !st && r < o->repeat; r++) {
        if (r > 0) { /* a fresh result per run; the KV cache keeps the prompt unless told not to */
            json_array_clear(s.ids);
            orx_buf_reset(&s.text);
            gp.n_cached = o->no_prefix_cache || n < 2 ? 0 : n - 1; /* the last token makes the logits */
            if (!gp.n_cached) orx_context_reset(c);
            if (s.stream) fprintf(stderr, "\n--- run %ld ---\n", r + 1);
        }
        st = orx_generate(c, tk, ids, n, &gp, on_token, &s, &stats, err);
        if (st) break;
        double pp = stats.t_prompt_s > 0 ? stats.n_prompt / stats.t_prompt_s : 0;
        double tg = stats.t_gen_s > 0 && stats.n_gen > 1 ? (stats.n_gen - 1) / stats.t_gen_s : 0;
        const orx_decode_stats *ds = &stats.decode;
        json_array_append_new(runs, json_pack("{s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:f}", "n_prompt", stats.n_prompt,
                                              "n_reused", stats.n_reused, "n_gen", stats.n_gen, "prompt_s",
                                              stats.t_prompt_s, "prompt_tokens_per_s", pp, "gen_tokens_per_s", tg,
                                              "time_to_first_token_s", stats.t_first_s, "decode_passes", ds->n_passes,
                                              "draft_model_drafted", ds->n_model_drafted, "draft_model_accepted",
                                              ds->n_model_accepted, "draft_model_s", ds->t_draft_s));
        if (!o->json) printf("\n");
        fprintf(stderr, "prompt: %d tokens evaluated%s, %.1f tokens/s, %.3f s; generated: %d tokens, %.1f tokens/s; "
                "first token after %.3f s\n", stats.n_prompt,
                stats.n_reused ? " (the rest from the prefix cache)" : "", pp, stats.t_prompt_s, stats.n_gen, tg,
                stats.t_first_s);
        if (stats.n_reused) fprintf(stderr, "prefix cache: %d of %d prompt tokens reused\n", stats.n_reused, n);
        if (dr)
            fprintf(stderr, "draft model: %d decode passes for %d tokens; %d drafted, %d kept (%.0f %%); %.3f s in "
                    "the draft model\n", ds->n_passes, stats.n_gen, ds->n_model_drafted, ds->n_model_accepted,
                    ds->n_model_drafted ? 100.0 * ds->n_model_accepted / ds->n_model_drafted : 0.0, ds->t_draft_s);
    }
    if (!st && o->json) {
        json_t *last = json_array_get(runs, json_array_size(runs) - 1);
        json_t *j = json_pack("{s:s%,s:O,s:O,s:O}", "text", s.text.data ? s.text.data : "", s.text.len, "tokens",
                              s.ids, "stats", last, "runs", runs);
        char *txt = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        printf("%s\n", txt ? txt : "{}");
        free(txt);
        json_decref(j);
    }
    json_decref(runs);
    json_decref(s.ids);
    orx_buf_clear(&s.text);
    free(ids);
    free(text);
    orx_drafter_free(dr);
    orx_context_free(c);
    orx_tokenizer_free(tk);
    orx_model_free(dm);
    orx_model_free(m);
    return st;
}

int cmd_generate(int argc, char **argv) {
    gen_opts o = {.n = 128, .repeat = 1, .draft_max = 8, .attn = orx_context_default_params().attn, .sp = orx_sampler_default_params()};
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = run(&o, &err);
    return st ? orx_cli_fail(st, &err) : 0;
}
