/*
 * server.h — `openrx serve`: HTTP on libmicrohttpd.
 *
 * Built-in endpoints: GET /health, GET /metrics, GET /v1/models, POST /v1/chat/completions (OpenAI
 * shapes, SSE when stream=true). Further routes (recommend, check, CDS Hooks, the clinician page)
 * register through orx_server_route. Errors are OpenAI-style JSON {"error":{"message":…,…}}.
 *
 * Connection model: libmicrohttpd's epoll event loop on a pool of http_threads threads, so idle
 * or slow connections cost a socket and a small buffer, not a thread. Limits: max_connections in
 * all and max_connections_per_ip per client address; a request's headers must arrive within
 * header_timeout_s (from accept, or from the end of the previous response on a kept-alive
 * connection) and its body within body_timeout_s, else the connection is shut (slowloris);
 * the API key, route, method, Content-Type and Content-Length are checked from the headers before
 * any body byte is buffered (401/404/405/415/413 at once); a request path with %00, a bad
 * %-escape or a control byte is 400. Above max_connections only GET /health is answered (others
 * get 503 with Retry-After).
 *
 * The model: requests that need it (chat completions; routes marked with
 * orx_server_route_uses_model) wait in a bounded FIFO (queue_max; full → 503 + Retry-After) and
 * run one at a time on one worker thread while their connection is suspended; each has a
 * deadline (request_deadline_s, queue wait included → 504) and its generation stops when the
 * client disconnects. /health shows the queue. orx_server_drain() refuses new model requests,
 * lets the queued and running ones finish (their audit records are written), then returns.
 */
#ifndef ORX_SERVER_H
#define ORX_SERVER_H

#include "llm/llm.h"

typedef struct orx_server orx_server;

typedef struct orx_server_params {
    const char *host;          /* bind address, default "127.0.0.1" */
    int         port;          /* TCP port; 0 = pick a free one (see orx_server_port) */
    size_t      max_body;      /* largest request body in bytes (default 1 MiB) → 413 beyond */
    double      request_timeout_s; /* a connection with no traffic at all is closed after this many
                                      seconds (default 60; a response being generated is traffic) */
    const char *api_key;       /* required Bearer key, or NULL; required when host is not loopback */
    orx_llm    *llm;           /* backend answering chat completions, or NULL (503 on those routes) */
    int         max_tokens_limit; /* upper bound accepted for max_tokens (default 4096) */
    int         http_threads;  /* event-loop threads (default 0 = CPU count, 2..16) */
    int         max_connections;        /* open connections in all (default 4096; lowered to fit
                                           RLIMIT_NOFILE) */
    int         max_connections_per_ip; /* open connections per client address (default 256;
                                           0 = no per-address limit) */
    double      header_timeout_s;   /* seconds to send a request's headers (default 10) */
    double      body_timeout_s;     /* seconds to send its body once the headers are in (default 30) */
    int         queue_max;          /* model requests waiting (default 16); more → 503 */
    double      request_deadline_s; /* a model request's limit incl. queue wait (default 300) → 504 */
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
 * loads before it can send a Bearer key (they hold no data). */
orx_status orx_server_route_open(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user);
/* Requests to this route run in the model queue when a model is attached (call after adding the
 * route; a route without a model, e.g. /v1/recommend in evidence mode, runs at once). */
orx_status orx_server_route_uses_model(orx_server *s, const char *method, const char *path);
/* Requests to this route may wait on the network (a CDS Hooks read from the EHR's FHIR server):
 * they run on a pool of 8 worker threads with the connection suspended, never on an event-loop
 * thread (256 waiting at most; more → 503 + Retry-After). Call after adding the route. */
orx_status orx_server_route_blocking(orx_server *s, const char *method, const char *path);
/* Attach the chat backend (before set_ready; not owned by the server). */
void orx_server_set_llm(orx_server *s, orx_llm *llm);
/* The model as routes should use it: a wrapper around the attached backend whose generation
 * stops when the request's deadline passes, its client disconnects or the server shuts down
 * (the call then fails with ORX_ERR_CANCELLED). NULL when no model is attached. Owned by the
 * server. */
orx_llm *orx_server_llm(orx_server *s);
/* Serialise use of the model across routes (chat completions, recommend). */
void orx_server_lock_model(orx_server *s);
void orx_server_unlock_model(orx_server *s);
/* Mark the server ready (GET /health answers 200 instead of 503). */
void orx_server_set_ready(orx_server *s, bool ready);
int  orx_server_port(const orx_server *s);
/* Effective limits after start (max_connections may be lowered to fit the open-file limit). */
const orx_server_params *orx_server_limits(const orx_server *s);
/* Graceful shutdown, first half: stop accepting connections, refuse new model requests (503),
 * wait up to timeout_s for the queued and running ones to finish (then cancel what is left).
 * Returns true when everything finished in time. Call orx_server_stop afterwards. */
bool orx_server_drain(orx_server *s, double timeout_s);
void orx_server_stop(orx_server *s);

/* OpenAI-style error body (malloc'd JSON). */
char *orx_server_error_json(const char *message, const char *type, const char *code);

#endif /* ORX_SERVER_H */
