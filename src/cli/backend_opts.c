/* backend_opts.c — shared LLM backend options (see backend_opts.h). */
#include "cli/backend_opts.h"
#include "cli/cli.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>

void orx_backend_opts_init(orx_backend_opts *o) { memset(o, 0, sizeof *o); }

int orx_backend_opts_parse(orx_backend_opts *o, int c, const char *arg, const char *cmd) {
    long v;
    double d;
    switch (c) {
    case 'm': o->model_path = arg; return 1;
    case 0x101:
        if (strcmp(arg, "local") && strcmp(arg, "openai")) { orx_cli_usage(cmd, "--backend must be local or openai (got '%s')", arg); return 2; }
        o->backend = arg;
        return 1;
    case 0x102: o->base_url = arg; return 1;
    case 0x103: o->model_name = arg; return 1;
    case 0x104: o->api_key_env = arg; return 1;
    case 't':
        if (!orx_cli_parse_int(arg, 1, 512, &v)) { orx_cli_usage(cmd, "--threads: '%s' must be 1..512", arg); return 2; }
        o->threads = (int)v;
        return 1;
    case 0x106: o->chat_template = arg; return 1;
    case 0x107: o->no_prefix_cache = true; return 1;
    case 0x108: o->allow_remote = true; return 1;
    case 0x109: o->redact = true; return 1;
    case 0x10a: o->no_draft = true; return 1;
    case 0x10b:
        if (!orx_cli_parse_int(arg, 1, 16, &v)) { orx_cli_usage(cmd, "--slots: '%s' must be 1..16", arg); return 2; }
        o->n_slots = (int)v;
        return 1;
    case 0x10c: o->replay_path = arg; return 1;
    case 0x10d: o->draft = arg; return 1;
    case 0x10e:
        if (!orx_cli_parse_int(arg, 1, 64, &v)) { orx_cli_usage(cmd, "--draft-max: '%s' must be 1..64", arg); return 2; }
        o->draft_max = (int)v;
        return 1;
    case 0x105:
        if (!orx_cli_parse_double(arg, 0.1, 86400, &d)) { orx_cli_usage(cmd, "--timeout: '%s' must be seconds in 0.1..86400", arg); return 2; }
        o->timeout_s = d;
        return 1;
    }
    return 0;
}

bool orx_backend_opts_given(const orx_backend_opts *o) {
    return o->model_path || o->backend || o->base_url;
}

orx_status orx_backend_opts_create(const orx_backend_opts *o, orx_llm **out, orx_error *err) {
    *out = NULL;
    bool openai = (o->backend && !strcmp(o->backend, "openai")) || (!o->backend && !o->model_path && o->base_url);
    if (openai) {
        if (o->model_path) return orx_fail(err, ORX_ERR_USAGE, "-m is for the local backend; the openai backend takes --base-url and --model-name");
        if (o->draft) return orx_fail(err, ORX_ERR_USAGE, "--draft is for the local backend (-m MODEL.gguf)");
        if (!o->base_url) return orx_fail(err, ORX_ERR_USAGE, "the openai backend needs --base-url URL");
        if (!o->model_name) return orx_fail(err, ORX_ERR_USAGE, "the openai backend needs --model-name NAME");
        orx_openai_params p = orx_openai_default_params();
        p.base_url = o->base_url;
        p.model = o->model_name;
        p.api_key_env = o->api_key_env;
        if (o->timeout_s > 0) p.timeout_s = o->timeout_s;
        p.n_ctx = o->n_ctx;
        p.allow_remote = o->allow_remote;
        p.redact = o->redact;
        return orx_llm_openai_create(&p, out, err);
    }
    if (!o->model_path) return orx_fail(err, ORX_ERR_USAGE, "give a model: -m MODEL.gguf, or --backend openai --base-url URL --model-name NAME");
    if (!orx_file_exists(o->model_path)) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: model file not found", o->model_path);
    orx_local_params lp = orx_local_default_params();
    lp.model_path = o->model_path;
    lp.n_threads = o->threads;
    lp.chat_template = o->chat_template;
    lp.no_prefix_cache = o->no_prefix_cache;
    lp.no_draft = o->no_draft;
    lp.n_slots = o->n_slots;
    lp.draft_path = o->draft;
    lp.draft_max = o->draft_max;
    if (o->draft && !orx_file_exists(o->draft)) return orx_fail(err, ORX_ERR_NOT_FOUND, "%s: draft model file not found", o->draft);
    char *replay = NULL;
    size_t n_replay = 0;
    if (o->replay_path) {
        orx_status st = orx_read_file(o->replay_path, 1u << 20, &replay, &n_replay, err);
        if (st != ORX_OK) return st;
        if (strlen(replay) != n_replay) { free(replay); return orx_fail(err, ORX_ERR_PARSE, "%s: the replayed answer holds a NUL byte", o->replay_path); }
        lp.replay = replay;
    }
    orx_status st = orx_llm_local_create(&lp, out, err);
    free(replay);
    return st;
}
