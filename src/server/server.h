/*
 * server.h — `openrx serve`: HTTP on libmicrohttpd.
 *
 * Endpoints now: GET /health, GET /v1/models, POST /v1/chat/completions (OpenAI shapes, SSE when
 * stream=true). Requests to the model are serialised (one at a time per loaded model); other
 * endpoints run concurrently (thread per connection). Errors are OpenAI-style JSON
 * {"error":{"message":…,"type":…,"code":…}}. Further routes (recommend, check, CDS Hooks, the
 * clinician page) register through orx_server_route.
 */
#ifndef ORX_SERVER_H
#define ORX_SERVER_H

#include "llm/llm.h"

typedef struct orx_server orx_server;

typedef struct orx_server_params {
    const char *host;          /* bind address, default "127.0.0.1" */
    int         port;          /* TCP port; 0 = pick a free one (see orx_server_port) */
    size_t      max_body;      /* largest request body in bytes (default 1 MiB) → 413 beyond */
    double      request_timeout_s; /* connection idle timeout, seconds (default 300) */
    const char *api_key;       /* required Bearer key, or NULL; required when host is not loopback */
    orx_llm    *llm;           /* backend answering chat completions, or NULL (503 on those routes) */
    int         max_tokens_limit; /* upper bound accepted for max_tokens (default 4096) */
} orx_server_params;
orx_server_params orx_server_default_params(void);

/* A route handler gets the parsed JSON body (NULL for GET) and fills status + a JSON body. */
typedef struct orx_http_reply {
    int   status;        /* HTTP status */
    char *body;          /* malloc'd response body */
    const char *content_type; /* static string; default "application/json" */
} orx_http_reply;
typedef void (*orx_route_fn)(void *user, const char *method, const char *path, const char *body,
                             size_t body_len, orx_http_reply *reply);

orx_status orx_server_start(const orx_server_params *p, orx_server **out, orx_error *err);
/* Add a route (exact path match; method "GET"/"POST"). Call before requests arrive. */
orx_status orx_server_route(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user);
/* Same, but answered without the API key: for the clinician page's static files, which a browser
 * loads before it can send a Bearer key (they hold no data). [helper W] */
orx_status orx_server_route_open(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user);
/* Attach the chat backend (before set_ready; not owned by the server). */
void orx_server_set_llm(orx_server *s, orx_llm *llm);
/* Serialise use of the model across routes (chat completions, recommend). */
void orx_server_lock_model(orx_server *s);
void orx_server_unlock_model(orx_server *s);
/* Mark the server ready (GET /health answers 200 instead of 503). */
void orx_server_set_ready(orx_server *s, bool ready);
int  orx_server_port(const orx_server *s);
void orx_server_stop(orx_server *s);

/* OpenAI-style error body (malloc'd JSON). */
char *orx_server_error_json(const char *message, const char *type, const char *code);

#endif /* ORX_SERVER_H */
