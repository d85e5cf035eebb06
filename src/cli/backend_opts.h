/* backend_opts.h — the LLM backend options shared by serve, recommend and eval:
 *   -m FILE | --backend local|openai --base-url URL --model-name NAME --api-key-env VAR, -t N,
 *   --allow-remote (consent to a host that is not loopback), --redact (de-identify for any host) */
#ifndef ORX_CLI_BACKEND_OPTS_H
#define ORX_CLI_BACKEND_OPTS_H
#include "llm/llm.h"
#include <getopt.h>

typedef struct orx_backend_opts {
    const char *model_path;   /* -m: local GGUF file */
    const char *backend;      /* "local" | "openai" | NULL (local when -m given) */
    const char *base_url;     /* openai */
    const char *model_name;   /* openai */
    const char *api_key_env;  /* openai: env var NAME holding the key */
    int         threads;      /* local engine threads, 0 = default */
    double      timeout_s;    /* openai request timeout, 0 = default */
    const char *chat_template;/* local: override the model's chat template by name */
    bool        no_prefix_cache; /* local: do not reuse the KV cache across requests */
    bool        no_draft;     /* local: one token per pass (no jump-forward / speculative drafts) */
    int         n_slots;      /* local: prompt-prefix cache slots (KV caches kept), 0 = one */
    const char *replay_path;  /* local, benchmarks: the answer to replay under the schema (--replay) */
    const char *draft;        /* local: draft model (speculative decoding), --draft FILE */
    int         draft_max;    /* local: its longest draft, --draft-max N (0 = 8) */
    int         n_ctx;        /* the model's context in tokens (0 = the model's / the server's) */
    bool        allow_remote; /* openai: consent to a host that is not loopback */
    bool        redact;       /* openai: de-identify patient text for a loopback host too */
} orx_backend_opts;

#define ORX_BACKEND_LONG_OPTS                                                          \
    {"model", required_argument, 0, 'm'}, {"backend", required_argument, 0, 0x101},    \
    {"base-url", required_argument, 0, 0x102}, {"model-name", required_argument, 0, 0x103}, \
    {"api-key-env", required_argument, 0, 0x104}, {"threads", required_argument, 0, 't'},  \
    {"timeout", required_argument, 0, 0x105}, {"chat-template", required_argument, 0, 0x106}, \
    {"no-prefix-cache", no_argument, 0, 0x107}, {"allow-remote", no_argument, 0, 0x108},        \
    {"redact", no_argument, 0, 0x109}, \
    {"no-draft", no_argument, 0, 0x10a}, {"slots", required_argument, 0, 0x10b}, \
    {"replay", required_argument, 0, 0x10c}, \
    {"draft", required_argument, 0, 0x10d}, {"draft-max", required_argument, 0, 0x10e}

void orx_backend_opts_init(orx_backend_opts *o);
/* Handle one getopt result: 1 = consumed, 0 = not a backend option, 2 = bad value (message printed). */
int  orx_backend_opts_parse(orx_backend_opts *o, int c, const char *arg, const char *cmd);
bool orx_backend_opts_given(const orx_backend_opts *o);
/* Create the backend the options describe. */
orx_status orx_backend_opts_create(const orx_backend_opts *o, orx_llm **out, orx_error *err);
#endif
