/*
 * server.c — the HTTP daemon's lifecycle (libmicrohttpd: epoll event loop on a thread pool,
 * connection limits, open-file limit), replies, route registration, the built-in routes
 * (/health, /metrics, /v1/models), Bearer auth and graceful drain. Connections and the request
 * path are in conn.c, the model queue in modelq.c, chat completions in chat.c.
 */
#include "server/server.h"
#include "server/server_internal.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

orx_server_params orx_server_default_params(void) {
    orx_server_params p;
    memset(&p, 0, sizeof p);
    p.host = "127.0.0.1";
    p.port = 8080;
    p.max_body = 1 << 20;
    p.request_timeout_s = 60;
    p.max_tokens_limit = 4096;
    p.http_threads = 0;
    p.max_connections = 4096;
    p.max_connections_per_ip = 256;
    p.header_timeout_s = 10;
    p.body_timeout_s = 30;
    p.queue_max = 16;
    p.request_deadline_s = 300;
    return p;
}

char *orx_server_error_json(const char *message, const char *type, const char *code) {
    json_t *e = json_object(), *root = json_object();
    json_object_set_new(e, "message", json_string(message ? message : "error"));
    json_object_set_new(e, "type", json_string(type ? type : "invalid_request_error"));
    json_object_set_new(e, "code", code ? json_string(code) : json_null());
    json_object_set_new(root, "error", e);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

double orx_srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ============================================================================================
 * Replies
 * ========================================================================================== */
static struct MHD_Response *make_response(int status, const char *ctype, char *body) {
    size_t n = body ? strlen(body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body ? body : (char *)"",
                                                             body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) { free(body); return NULL; }
    MHD_add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
    (void)status;
    return r;
}

enum MHD_Result orx_srv_send(struct MHD_Connection *c, int status, const char *ctype, char *body) {
    struct MHD_Response *r = make_response(status, ctype, body);
    if (!r) return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result orx_srv_send_error(struct MHD_Connection *c, int status, const char *type, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return orx_srv_send(c, status, NULL, orx_server_error_json(msg, type, NULL));
}

/* 503 with Retry-After and a machine-readable code ("queue_full", "connection_limit", …). */
enum MHD_Result orx_srv_send_503(orx_server *s, struct MHD_Connection *c, int retry_after_s, const char *code,
                                 const char *msg) {
    (void)s;
    struct MHD_Response *r = make_response(503, NULL, orx_server_error_json(msg, "server_error", code));
    if (!r) return MHD_NO;
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_after_s < 1 ? 1 : retry_after_s);
    MHD_add_response_header(r, "Retry-After", ra);
    MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(c, 503, r);
    MHD_destroy_response(r);
    return ok;
}

/* ============================================================================================
 * Built-in routes
 * ========================================================================================== */
static enum MHD_Result route_health(orx_server *s, struct MHD_Connection *c) {
    bool ready = atomic_load(&s->ready), draining = atomic_load(&s->draining);
    int waiting, running, capacity;
    orx_modelq_counts(&s->q, &waiting, &running, &capacity);
    char body[256];
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"queue\":{\"waiting\":%d,\"running\":%d,\"capacity\":%d},\"connections\":%ld}",
             draining ? "draining" : ready ? "ok" : "loading", waiting, running, capacity, orx_conns_open(s));
    return orx_srv_send(c, ready && !draining ? 200 : 503, NULL, orx_strdup(body));
}

/* Prometheus text format: counters and gauges of the connection and model limits. */
static enum MHD_Result route_metrics(orx_server *s, struct MHD_Connection *c) {
    int waiting, running, capacity;
    orx_modelq_counts(&s->q, &waiting, &running, &capacity);
    orx_buf b;
    orx_buf_init(&b);
    struct { const char *name, *help; unsigned long v; } ctr[] = {
        {"openrx_requests_total", "requests answered", atomic_load(&s->st.requests)},
        {"openrx_rejected_auth_total", "401: missing or wrong API key", atomic_load(&s->st.rejected_auth)},
        {"openrx_rejected_connection_limit_total", "503: over max_connections", atomic_load(&s->st.rejected_limit)},
        {"openrx_rejected_queue_full_total", "503: model queue full", atomic_load(&s->st.rejected_queue)},
        {"openrx_rejected_draining_total", "503: shutting down", atomic_load(&s->st.rejected_drain)},
        {"openrx_bad_request_path_total", "400: bad request path", atomic_load(&s->st.bad_uri)},
        {"openrx_body_too_large_total", "413: body over max_body", atomic_load(&s->st.too_big)},
        {"openrx_slow_connections_closed_total", "connections shut for missing the header/body deadline",
         atomic_load(&s->st.timeouts)},
        {"openrx_model_deadline_exceeded_total", "model requests past their deadline (504)", atomic_load(&s->st.deadline_jobs)},
        {"openrx_model_client_gone_total", "model requests cancelled: client disconnected", atomic_load(&s->st.client_gone)},
        {"openrx_model_requests_total", "model requests run", atomic_load(&s->st.jobs_done)},
    };
    for (size_t i = 0; i < sizeof ctr / sizeof ctr[0]; i++)
        orx_buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %lu\n", ctr[i].name, ctr[i].help, ctr[i].name,
                       ctr[i].name, ctr[i].v);
    struct { const char *name, *help; long v; } g[] = {
        {"openrx_connections_open", "open connections", orx_conns_open(s)},
        {"openrx_connections_max", "max_connections", s->p.max_connections},
        {"openrx_model_queue_waiting", "model requests waiting", waiting},
        {"openrx_model_queue_running", "model requests running", running},
        {"openrx_model_queue_capacity", "queue_max", capacity},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        orx_buf_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %ld\n", g[i].name, g[i].help, g[i].name, g[i].name, g[i].v);
    return orx_srv_send(c, 200, "text/plain; version=0.0.4", orx_buf_steal(&b));
}

static enum MHD_Result route_models(orx_server *s, struct MHD_Connection *c) {
    json_t *root = json_object(), *data = json_array();
    if (s->p.llm) {
        json_t *m = json_object();
        json_object_set_new(m, "id", json_string(orx_llm_name(s->p.llm)));
        json_object_set_new(m, "object", json_string("model"));
        json_object_set_new(m, "created", json_integer((json_int_t)s->started));
        json_object_set_new(m, "owned_by", json_string("openrx"));
        if (orx_llm_n_ctx(s->p.llm) > 0) { /* the context, where llama.cpp's server reports it */
            json_t *meta = json_object();
            json_object_set_new(meta, "n_ctx", json_integer(orx_llm_n_ctx(s->p.llm)));
            json_object_set_new(m, "meta", meta);
        }
        json_array_append_new(data, m);
    }
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", data);
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return orx_srv_send(c, 200, NULL, body);
}

/* GET /metrics and /v1/models (after auth); *handled false when url is neither. */
enum MHD_Result orx_srv_builtin(orx_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                bool *handled) {
    *handled = true;
    bool get = !strcmp(method, "GET");
    if (get && !strcmp(url, "/health")) return route_health(s, c);
    if (get && !strcmp(url, "/metrics")) return route_metrics(s, c);
    if (get && !strcmp(url, "/v1/models")) return route_models(s, c);
    *handled = false;
    return MHD_YES;
}

/* ============================================================================================
 * Auth
 * ========================================================================================== */
static bool is_loopback(const char *host) {
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
           orx_str_starts_with(host, "127.");
}

/* Constant-time comparison of the Bearer key (no early exit on the first differing byte). */
bool orx_srv_authorised(orx_server *s, struct MHD_Connection *c) {
    if (!s->api_key) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0) return false;
    const char *k = h + 7;
    size_t a = strlen(k), b = strlen(s->api_key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++) diff |= (unsigned)(k[i] ^ s->api_key[i]);
    return diff == 0;
}

/* ============================================================================================
 * libmicrohttpd's messages
 * ========================================================================================== */
/* Clients that vanish, time out or send garbage are routine under load and counted in /metrics;
 * their per-connection messages would flood stderr (one line per dropped connection), so they
 * are dropped. Other messages (the server's own trouble) are printed, at most 5 per second. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    static const char *const ROUTINE[] = {"closed", "closure", "timed out", "timeout", "reset", "Broken pipe",
                                          "Malformed", "malformed", "too large", "too big", "Too long",
                                          "not supported", "Unexpected", "Failed to send", "Failed to receive",
                                          "connection limit"};
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (size_t i = 0; i < sizeof ROUTINE / sizeof ROUTINE[0]; i++)
        if (strstr(msg, ROUTINE[i])) return;
    static _Atomic long window;
    static atomic_int in_window;
    long now = (long)time(NULL);
    if (atomic_exchange(&window, now) != now) atomic_store(&in_window, 0);
    if (atomic_fetch_add(&in_window, 1) >= 5) return;
    fprintf(stderr, "openrx: http: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* ============================================================================================
 * Lifecycle
 * ========================================================================================== */
static orx_status parse_host(const orx_server_params *p, struct sockaddr_storage *ss, bool *v6, orx_error *err) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    const char *host = !strcmp(p->host, "localhost") ? "127.0.0.1" : p->host;
    *v6 = false;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p->port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p->port);
        *v6 = true;
    } else {
        return orx_fail(err, ORX_ERR_INVALID, "host '%s' is not an IPv4/IPv6 address", p->host);
    }
    return ORX_OK;
}

/* Resolve defaults; fit max_connections under the open-file limit (a few descriptors per
 * thread, the listening socket, model and knowledge-base files stay free). */
static void resolve_limits(orx_server_params *p) {
    if (!p->max_body) p->max_body = 1 << 20;
    if (p->max_tokens_limit <= 0) p->max_tokens_limit = 4096;
    if (p->request_timeout_s <= 0) p->request_timeout_s = 60;
    if (p->http_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        p->http_threads = n < 2 ? 2 : n > 16 ? 16 : (int)n;
    }
    if (p->max_connections <= 0) p->max_connections = 4096;
    if (p->max_connections_per_ip < 0) p->max_connections_per_ip = 0;
    if (p->header_timeout_s <= 0) p->header_timeout_s = 10;
    if (p->body_timeout_s <= 0) p->body_timeout_s = 30;
    if (p->queue_max <= 0) p->queue_max = 16;
    if (p->request_deadline_s <= 0) p->request_deadline_s = 300;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        long room = (long)rl.rlim_cur - 64 - 4L * p->http_threads - 64 /* reserve above the soft limit */;
        if (room < 16) room = 16;
        if (p->max_connections > room) p->max_connections = (int)room;
    }
}

static void free_server(orx_server *s) {
    pthread_mutex_destroy(&s->model_lock);
    free(s->api_key);
    free(s);
}

orx_status orx_server_start(const orx_server_params *p, orx_server **out, orx_error *err) {
    *out = NULL;
    if (!p->host || !*p->host) return orx_fail(err, ORX_ERR_USAGE, "server needs a host to bind");
    if (p->port < 0 || p->port > 65535) return orx_fail(err, ORX_ERR_RANGE, "port %d out of range", p->port);
    if (!is_loopback(p->host) && (!p->api_key || !*p->api_key))
        return orx_fail(err, ORX_ERR_USAGE, "binding to non-loopback address %s requires an API key (--api-key-file)", p->host);
    struct sockaddr_storage ss;
    bool v6;
    orx_status st = parse_host(p, &ss, &v6, err);
    if (st != ORX_OK) return st;
    orx_server *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    s->p = *p;
    resolve_limits(&s->p);
    s->api_key = p->api_key && *p->api_key ? orx_strdup(p->api_key) : NULL;
    s->started = time(NULL);
    pthread_mutex_init(&s->model_lock, NULL);
    atomic_init(&s->ready, false);
    atomic_init(&s->draining, false);
    atomic_init(&s->next_id, 1);
    s->quiesced_fd = -1;
    if ((st = orx_conns_start(s, err)) != ORX_OK) { free_server(s); return st; }
    if ((st = orx_modelq_start(s, &s->q, "model", 1, s->p.queue_max, err)) != ORX_OK) {
        orx_conns_stop(s);
        free_server(s);
        return st;
    }
    if ((st = orx_modelq_start(s, &s->ioq, "blocking", ORX_BLOCKING_WORKERS, ORX_BLOCKING_QUEUE, err)) != ORX_OK) {
        orx_modelq_stop(&s->q);
        orx_conns_stop(s);
        free_server(s);
        return st;
    }
    if (p->llm) orx_server_set_llm(s, p->llm);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, (uint16_t)p->port, NULL, NULL, orx_srv_on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->p.http_threads,
                            /* the soft limit is max_connections (503 above it, /health still
                             * answered); the hard limit leaves a reserve for those answers */
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->p.max_connections + 64),
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->p.max_connections_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(s->p.request_timeout_s + 0.5),
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_URI_LOG_CALLBACK, orx_srv_on_uri, s,
                            MHD_OPTION_NOTIFY_CONNECTION, orx_srv_on_connection, s,
                            MHD_OPTION_NOTIFY_COMPLETED, orx_srv_on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        orx_modelq_stop(&s->ioq);
        orx_modelq_stop(&s->q);
        orx_conns_stop(s);
        orx_llm_free(s->gate);
        free_server(s);
        return orx_fail(err, ORX_ERR_IO, "cannot listen on %s:%d (address in use or not permitted)", p->host, p->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : p->port;
    *out = s;
    return ORX_OK;
}

orx_status orx_server_route(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user) {
    if (s->n_routes >= ORX_MAX_ROUTES) return ORX_ERR_RANGE;
    orx_route *r = &s->routes[s->n_routes++];
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fn = fn;
    r->user = user;
    r->open = false;
    r->model = false;
    r->blocking = false;
    return ORX_OK;
}

orx_status orx_server_route_open(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user) {
    orx_status st = orx_server_route(s, method, path, fn, user);
    if (st == ORX_OK) s->routes[s->n_routes - 1].open = true;
    return st;
}

static orx_route *route_named(orx_server *s, const char *method, const char *path) {
    for (int i = 0; i < s->n_routes; i++)
        if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path)) return &s->routes[i];
    return NULL;
}

orx_status orx_server_route_uses_model(orx_server *s, const char *method, const char *path) {
    orx_route *r = route_named(s, method, path);
    if (!r) return ORX_ERR_NOT_FOUND;
    r->model = true;
    return ORX_OK;
}

orx_status orx_server_route_blocking(orx_server *s, const char *method, const char *path) {
    orx_route *r = route_named(s, method, path);
    if (!r) return ORX_ERR_NOT_FOUND;
    r->blocking = true;
    return ORX_OK;
}

void orx_server_set_llm(orx_server *s, orx_llm *llm) {
    s->p.llm = llm;
    orx_llm_free(s->gate);
    s->gate = llm ? orx_gate_create(s, llm) : NULL;
}

orx_llm *orx_server_llm(orx_server *s) { return s->gate; }

void orx_server_lock_model(orx_server *s) { pthread_mutex_lock(&s->model_lock); }
void orx_server_unlock_model(orx_server *s) { pthread_mutex_unlock(&s->model_lock); }

void orx_server_set_ready(orx_server *s, bool ready) { atomic_store(&s->ready, ready); }

int orx_server_port(const orx_server *s) { return s->port; }

const orx_server_params *orx_server_limits(const orx_server *s) { return &s->p; }

bool orx_server_drain(orx_server *s, double timeout_s) {
    if (!s) return true;
    atomic_store(&s->draining, true);
    if (s->quiesced_fd < 0) {
        MHD_socket fd = MHD_quiesce_daemon(s->d); /* no new connections */
        s->quiesced_fd = fd == MHD_INVALID_SOCKET ? -1 : (int)fd;
    }
    double t0 = orx_srv_now();
    bool ok = orx_modelq_drain(&s->q, timeout_s);
    double left = timeout_s - (orx_srv_now() - t0); /* one timeout for both queues */
    ok = orx_modelq_drain(&s->ioq, left > 0 ? left : 0) && ok;
    /* let the replies just produced reach their clients (bounded) */
    double until = orx_srv_now() + (timeout_s > 0 ? 2.0 : 0.5);
    while (orx_conns_busy(s) > 0 && orx_srv_now() < until) usleep(10000);
    return ok;
}

void orx_server_stop(orx_server *s) {
    if (!s) return;
    orx_server_drain(s, 0); /* cancels what is left; every suspended connection is resumed */
    MHD_stop_daemon(s->d);
    if (s->quiesced_fd >= 0) close(s->quiesced_fd);
    orx_modelq_stop(&s->ioq);
    orx_modelq_stop(&s->q);
    orx_conns_stop(s);
    orx_llm_free(s->gate);
    free_server(s);
}
