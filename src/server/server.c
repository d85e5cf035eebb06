/*
 * server.c — HTTP daemon (libmicrohttpd, thread per connection), request bodies with a size
 * limit, Bearer auth, routing, /health and /v1/models.
 */
#include "server/server.h"
#include "server/server_internal.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

orx_server_params orx_server_default_params(void) {
    orx_server_params p;
    memset(&p, 0, sizeof p);
    p.host = "127.0.0.1";
    p.port = 8080;
    p.max_body = 1 << 20;
    p.request_timeout_s = 300;
    p.max_tokens_limit = 4096;
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

/* ============================================================================================
 * Replies
 * ========================================================================================== */
enum MHD_Result orx_srv_send(struct MHD_Connection *c, int status, const char *ctype, char *body) {
    size_t n = body ? strlen(body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body ? body : (char *)"",
                                                             body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
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

/* ============================================================================================
 * Built-in routes
 * ========================================================================================== */
static enum MHD_Result route_health(orx_server *s, struct MHD_Connection *c) {
    bool ready = atomic_load(&s->ready);
    return orx_srv_send(c, ready ? 200 : 503, NULL,
                        orx_strdup(ready ? "{\"status\":\"ok\"}" : "{\"status\":\"loading\"}"));
}

static enum MHD_Result route_models(orx_server *s, struct MHD_Connection *c) {
    json_t *root = json_object(), *data = json_array();
    if (s->p.llm) {
        json_t *m = json_object();
        json_object_set_new(m, "id", json_string(orx_llm_name(s->p.llm)));
        json_object_set_new(m, "object", json_string("model"));
        json_object_set_new(m, "created", json_integer((json_int_t)s->started));
        json_object_set_new(m, "owned_by", json_string("openrx"));
        if (s->p.llm->n_ctx > 0) { /* the context, where llama.cpp's server reports it */
            json_t *meta = json_object();
            json_object_set_new(meta, "n_ctx", json_integer(s->p.llm->n_ctx));
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

/* ============================================================================================
 * Request handling
 * ========================================================================================== */
typedef struct conn_state {
    orx_buf body;     /* request body so far */
    bool    too_big;  /* body exceeded max_body */
} conn_state;

static bool is_loopback(const char *host) {
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
           orx_str_starts_with(host, "127.");
}

static bool authorised(orx_server *s, struct MHD_Connection *c) {
    if (!s->api_key) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0) return false;
    const char *k = h + 7;
    size_t a = strlen(k), b = strlen(s->api_key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++) diff |= (unsigned)(k[i] ^ s->api_key[i]);
    return diff == 0;
}

/* POST bodies are JSON: accept application/json, application/<x>+json (e.g. fhir+json), with
 * parameters (charset), no Content-Type at all, and application/x-www-form-urlencoded (what
 * `curl -d` sends by default; the body is still parsed as JSON). Anything else (text/plain,
 * multipart/form-data, application/xml, …) is a 415. [helper W] */
static bool json_content_type(const char *ct) {
    if (!ct || !*ct) return true;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && !strncasecmp(ct, "application/json", 16)) return true;
    if (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) return true;
    return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

static enum MHD_Result dispatch(orx_server *s, struct MHD_Connection *c, const char *url,
                                const char *method, conn_state *cs) {
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/health") && get) return route_health(s, c);
    for (int i = 0; get && i < s->n_routes; i++) /* open routes: the page's static files [helper W] */
        if (s->routes[i].open && !strcmp(s->routes[i].path, url) && !strcmp(s->routes[i].method, "GET")) {
            orx_http_reply reply = {200, NULL, NULL};
            s->routes[i].fn(s->routes[i].user, method, url, NULL, 0, &reply);
            return orx_srv_send(c, reply.status, reply.content_type, reply.body);
        }
    if (!authorised(s, c))
        return orx_srv_send_error(c, 401, "authentication_error", "missing or wrong API key (Authorization: Bearer …)");
    if (cs->too_big)
        return orx_srv_send_error(c, 413, "invalid_request_error", "request body larger than the %zu-byte limit", s->p.max_body);
    if (post && !json_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
        return orx_srv_send_error(c, 415, "invalid_request_error",
                                  "Content-Type must be application/json (got '%.80s')",
                                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
    if (!strcmp(url, "/v1/models") && get) return route_models(s, c);
    if (!strcmp(url, "/v1/chat/completions")) {
        if (!post) return orx_srv_send_error(c, 405, "invalid_request_error", "use POST for %s", url);
        return orx_srv_chat_completions(s, c, cs->body.data ? cs->body.data : "", cs->body.len);
    }
    for (int i = 0; i < s->n_routes; i++) {
        orx_route *r = &s->routes[i];
        if (strcmp(r->path, url) != 0) continue;
        if (strcmp(r->method, method) != 0)
            return orx_srv_send_error(c, 405, "invalid_request_error", "use %s for %s", r->method, url);
        orx_http_reply reply = {200, NULL, NULL};
        r->fn(r->user, method, url, post ? (cs->body.data ? cs->body.data : "") : NULL, cs->body.len, &reply);
        return orx_srv_send(c, reply.status, reply.content_type, reply.body);
    }
    return orx_srv_send_error(c, 404, "invalid_request_error", "no route for %s %s", method, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    orx_server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs) return MHD_NO;
        orx_buf_init(&cs->body);
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big && cs->body.len + *upload_size <= s->p.max_body) {
            if (!orx_buf_append(&cs->body, upload, *upload_size)) cs->too_big = true;
        } else {
            cs->too_big = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(s, c, url, method, cs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    conn_state *cs = *con_cls;
    if (!cs) return;
    orx_buf_free(&cs->body);
    free(cs);
    *con_cls = NULL;
}

/* ============================================================================================
 * Lifecycle
 * ========================================================================================== */
orx_status orx_server_start(const orx_server_params *p, orx_server **out, orx_error *err) {
    *out = NULL;
    if (!p->host || !*p->host) return orx_fail(err, ORX_ERR_USAGE, "server needs a host to bind");
    if (p->port < 0 || p->port > 65535) return orx_fail(err, ORX_ERR_RANGE, "port %d out of range", p->port);
    if (!is_loopback(p->host) && (!p->api_key || !*p->api_key))
        return orx_fail(err, ORX_ERR_USAGE, "binding to non-loopback address %s requires an API key (--api-key-file)", p->host);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    const char *host = !strcmp(p->host, "localhost") ? "127.0.0.1" : p->host;
    bool v6 = false;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p->port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p->port);
        sl = sizeof *a6;
        v6 = true;
    } else {
        return orx_fail(err, ORX_ERR_INVALID, "host '%s' is not an IPv4/IPv6 address", p->host);
    }
    (void)sl;
    orx_server *s = calloc(1, sizeof *s);
    if (!s) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    s->p = *p;
    if (!s->p.max_body) s->p.max_body = 1 << 20;
    if (s->p.max_tokens_limit <= 0) s->p.max_tokens_limit = 4096;
    s->api_key = p->api_key && *p->api_key ? orx_strdup(p->api_key) : NULL;
    s->started = time(NULL);
    pthread_mutex_init(&s->model_lock, NULL);
    atomic_init(&s->ready, false);
    atomic_init(&s->next_id, 1);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, (uint16_t)p->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(p->request_timeout_s > 0 ? p->request_timeout_s : 300),
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s->api_key);
        free(s);
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
    return ORX_OK;
}

orx_status orx_server_route_open(orx_server *s, const char *method, const char *path, orx_route_fn fn, void *user) {
    orx_status st = orx_server_route(s, method, path, fn, user);
    if (st == ORX_OK) s->routes[s->n_routes - 1].open = true;
    return st;
}

void orx_server_set_llm(orx_server *s, orx_llm *llm) { s->p.llm = llm; }

void orx_server_lock_model(orx_server *s) { pthread_mutex_lock(&s->model_lock); }
void orx_server_unlock_model(orx_server *s) { pthread_mutex_unlock(&s->model_lock); }

void orx_server_set_ready(orx_server *s, bool ready) { atomic_store(&s->ready, ready); }

int orx_server_port(const orx_server *s) { return s->port; }

void orx_server_stop(orx_server *s) {
    if (!s) return;
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->model_lock);
    free(s->api_key);
    free(s);
}
