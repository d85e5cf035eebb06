/*
 * llm.h — one backend interface for chat completion, two implementations:
 *   - openai: any OpenAI-compatible /v1/chat/completions server over libcurl (llm/openai.c);
 *   - local:  our engine on a GGUF file (llm/local.c, when the engine is present).
 * The recommend pipeline, the evaluator and the server talk only to orx_llm.
 */
#ifndef ORX_LLM_H
#define ORX_LLM_H

#include "openrx.h"
#include "util/util.h"
#include "schema/schema.h"

/* ============================================================================================
 * Requests and responses
 * ========================================================================================== */
typedef struct orx_llm_msg {
    const char *role;    /* "system" | "user" | "assistant" */
    const char *content; /* UTF-8 text */
} orx_llm_msg;

/* Called for each streamed piece of generated text; return false to stop generation. */
typedef bool (*orx_llm_token_cb)(void *user, const char *piece, size_t len);

typedef struct orx_llm_request {
    bool                keep_body;    /* remote: return the exact request body in the response */
    const orx_llm_msg *messages;  /* [n_messages] */
    int                 n_messages;
    int                 max_tokens;   /* > 0; generation limit */
    float               temperature;  /* 0 = greedy */
    float               top_p;        /* (0,1]; 1 = off */
    int                 top_k;        /* 0 = off (local only; not sent to openai servers) */
    bool                has_seed;     /* seed is meaningful */
    uint64_t            seed;         /* sampling seed */
    const orx_schema   *schema;       /* response_format json_schema, parsed (schema/schema.h), or NULL */
    const char         *schema_name;  /* response_format.json_schema.name ("prescription") */
    bool                json_object;  /* response_format {"type":"json_object"} when no schema */
    const char *const  *stop;         /* [n_stop] stop strings, may be NULL */
    int                 n_stop;
    bool                stream;       /* stream pieces through on_token */
    orx_llm_token_cb    on_token;     /* may be NULL */
    void               *user;         /* passed to on_token */
} orx_llm_request;

/* Fill defaults: max_tokens 512, temperature 0, top_p 1, no schema, no stream. */
orx_llm_request orx_llm_default_request(void);

typedef struct orx_llm_response {
    char  *content;            /* malloc'd generated text (NUL-terminated); free with orx_llm_response_clear */
    char   finish_reason[16];  /* "stop" | "length" | "cancelled" */
    int    prompt_tokens;      /* usage as reported (-1 if unknown) */
    int    completion_tokens;  /* usage as reported (-1 if unknown) */
    int    cached_tokens;      /* prompt tokens served from the prefix cache (local; 0 otherwise) */
    double t_total_s;          /* wall time of the call, seconds */
    double t_first_token_s;    /* time to first generated piece, seconds (-1 if unknown) */
    int    decode_passes;      /* local: model evaluations after the first token (0 otherwise) */
    int    forced_tokens;      /* local: tokens the grammar forced, taken without sampling */
    int    drafted_tokens;     /* local: drafted tokens verified */
    int    accepted_tokens;    /* local: of them kept */
    int    model_drafted_tokens;  /* local: of the drafted tokens, proposed by the draft model (--draft) */
    int    model_accepted_tokens; /* local: of them kept */
    int    http_status;        /* last HTTP status for remote backends, 0 for local */
    int    attempts;           /* requests sent including retries (remote) */
    char   request_sha256[65]; /* SHA-256 (hex) of the exact request body sent (remote), "" local */
    size_t request_bytes;      /* its length in bytes, 0 local */
    char  *request_body;       /* the body itself when req->keep_body (malloc'd), else NULL */
} orx_llm_response;
void orx_llm_response_clear(orx_llm_response *r);

/* ============================================================================================
 * Backend handle
 * ========================================================================================== */
typedef struct orx_llm orx_llm;   /* opaque; backends implement it through llm/backend.h */

/* Where a backend's requests go and what may be sent there (llm/endpoint.c). A host that is not
 * this machine (not loopback: 127.0.0.0/8, ::1, localhost) is remote: patient data leaves the
 * machine, so it needs the user's consent and is de-identified before it goes (rx/prompt.c). */
typedef struct orx_llm_privacy {
    bool remote;         /* requests leave this machine (the host is not loopback) */
    bool consent;        /* the user allowed a remote endpoint (--allow-remote) */
    bool redact;         /* patient text sent is de-identified: remote, or asked for (--redact) */
    char endpoint[512];  /* base URL without credentials, query or fragment; "" for the local engine */
    char host[256];      /* its host ("api.example.com", "127.0.0.1", "::1"); "" local engine */
} orx_llm_privacy;

/* Run one chat completion. out is zeroed first; on failure out->content is NULL but the request
 * hash (and request_body when keep_body) stay: free with orx_llm_response_clear either way.
 * Callable from several threads on one handle: the local backend runs one call at a time (its
 * KV caches belong to the handle), the openai backend runs them side by side. */
orx_status orx_llm_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err);
void       orx_llm_free(orx_llm *llm);
const char *orx_llm_name(const orx_llm *llm);
/* The backend's kind: "local", "openai", or an implementation's own (llm/backend.h). */
const char *orx_llm_kind(const orx_llm *llm);
/* Context window in tokens, 0 when unknown (a remote server that does not say). */
int        orx_llm_n_ctx(const orx_llm *llm);
/* Override the context window (--ctx N for a remote server that does not report it). */
void       orx_llm_set_n_ctx(orx_llm *llm, int n_ctx);
/* Where requests go and what may be sent there. */
const orx_llm_privacy *orx_llm_get_privacy(const orx_llm *llm);
/* Tokens of text: the local tokenizer, or the server's POST /tokenize (llama.cpp); -1 unknown. */
int        orx_llm_count_tokens(orx_llm *llm, const char *text);

/* ============================================================================================
 * openai backend
 * ========================================================================================== */
typedef struct orx_openai_params {
    const char *base_url;     /* e.g. "http://127.0.0.1:8080/v1" (…/chat/completions is appended) */
    const char *model;        /* model name sent in requests */
    const char *api_key_env;  /* NAME of an environment variable holding the key, or NULL (no auth) */
    double      timeout_s;    /* whole-request timeout, seconds (default 120) */
    double      connect_timeout_s; /* default 10 */
    int         max_retries;  /* retries on 429/5xx/transport errors (default 3) */
    double      backoff_s;    /* first backoff, doubled each retry (default 0.5); Retry-After honoured */
    int         n_ctx;        /* the model's context in tokens; 0 = ask the server at create time
                                 (GET {base}/models: data[].meta.n_ctx (llama.cpp, openrx),
                                 max_model_len (vLLM), context_length; else GET {root}/props:
                                 default_generation_settings.n_ctx (llama.cpp)); unknown stays 0 */
    bool        no_ctx_probe; /* do not ask the server (n_ctx stays as given) */
    bool        allow_remote; /* consent to send patient data to a host that is not loopback;
                                 without it such a base URL is refused (ORX_ERR_USAGE) */
    bool        redact;       /* de-identify patient text even for a loopback host (a local proxy
                                 to a remote service); always on for a remote host */
} orx_openai_params;
orx_openai_params orx_openai_default_params(void);
orx_status orx_llm_openai_create(const orx_openai_params *p, orx_llm **out, orx_error *err);

/* ============================================================================================
 * local backend (our engine)
 * ========================================================================================== */
typedef struct orx_local_params {
    const char *model_path;     /* GGUF file */
    const char *chat_template;  /* override by name, or NULL = the model's own (raw if none) */
    int         n_threads;      /* 0 = physical cores */
    int         n_ctx;          /* 0 = engine default */
    bool        no_prefix_cache;/* recompute the whole prompt every request (benchmarks) */
    bool        no_draft;       /* decode strictly one token per pass: no jump-forward under the
                                   grammar, no n-gram drafts (the output is the same either way) */
    int         n_slots;        /* prompt-prefix cache: KV caches kept (each a context's worth of
                                   memory, made on first use); a request takes the one sharing the
                                   longest prefix with its prompt. 0 = 1, at most 16 */
    const char *replay;         /* benchmarks: under a response schema, choose the tokens that spell
                                   this answer where the grammar allows, instead of sampling
                                   (orx_decode_params.replay); copied; NULL = sample */
    const char *draft_path;     /* speculative decoding: a small GGUF model with the same vocabulary
                                   proposing tokens when the grammar and n-gram drafts give none
                                   (its own context per slot), or NULL */
    int         draft_max;      /* its longest draft, 1..64 (0 = 8) */
} orx_local_params;
orx_local_params orx_local_default_params(void);
orx_status orx_llm_local_create(const orx_local_params *p, orx_llm **out, orx_error *err);

/* ============================================================================================
 * Endpoints (llm/endpoint.c)
 * ========================================================================================== */
/* Host of an http(s) URL (userinfo and port dropped, IPv6 brackets removed), lower-cased. */
orx_status orx_url_host(const char *url, char *host, size_t cap, orx_error *err);
/* The URL without userinfo ("user:key@"), query ("?key=…") or fragment: safe to log. */
void       orx_url_public(const char *url, char *out, size_t cap);
/* The host is this machine: "localhost" (or "*.localhost"), 127.0.0.0/8, ::1 (also written in
 * full or as ::ffff:127.x.y.z). Anything else, names included, is remote. */
bool       orx_host_is_loopback(const char *host);
/* Fill p for url: host, public endpoint, remote; consent and redaction from allow_remote and
 * redact. A remote host without allow_remote is refused: ORX_ERR_USAGE naming the host. */
orx_status orx_llm_privacy_for(const char *url, bool allow_remote, bool redact, orx_llm_privacy *p,
                               orx_error *err);

#endif /* ORX_LLM_H */
