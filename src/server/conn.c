/*
 * conn.c — connections and the request path.
 *
 * Connections: libmicrohttpd tells us when one opens and closes (NOTIFY_CONNECTION); each gets a
 * record with its socket, the phase it is in and a deadline: the headers of a request must be
 * complete within header_timeout_s of the accept (or of the end of the previous response on a
 * kept-alive connection), the body within body_timeout_s of the headers. A reaper thread shuts
 * the socket of a connection past its deadline (shutdown(2) only: libmicrohttpd then sees the
 * end of the stream and closes it itself; the record is removed in the close notification, which
 * libmicrohttpd sends before it closes the descriptor, so the reaper never touches a descriptor
 * number that was reused). libmicrohttpd's own idle timeout cannot stop a client that sends one
 * byte every few seconds; these deadlines can.
 *
 * Requests: the raw request line is checked when it arrives (URI log callback: %00, bad
 * %-escapes and control bytes are refused, so "/index.html%00.js" is not "/index.html"); when
 * the headers are complete everything that can be decided from them is decided before a body
 * byte is kept (refusals are answered at once; libmicrohttpd then closes the connection, as the
 * rest of the request was not read): the API key (401), the route and method (404/405), the Content-Type (415), the
 * Content-Length against max_body (413), the connection limit (503 except /health), shutdown
 * (503 for model requests). Then the body is read (bounded) and the handler runs: at once on
 * the event-loop thread for quick routes, or in the model queue (modelq.c) with the connection
 * suspended for routes that need the model.
 */
#include "server/server_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ============================================================================================
 * Connection records and the deadline reaper
 * ========================================================================================== */
static void *reaper_main(void *arg) {
    orx_server *s = arg;
    orx_conn_table *t = &s->conns;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        double now = orx_srv_now();
        for (orx_conn *c = t->head; c; c = c->next) {
            if (c->reaped || c->phase == ORX_CONN_BUSY || c->deadline <= 0 || now < c->deadline) continue;
            c->reaped = true;
            shutdown(c->fd, SHUT_RDWR);
            atomic_fetch_add(&s->st.timeouts, 1);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

orx_status orx_conns_start(orx_server *s, orx_error *err) {
    orx_conn_table *t = &s->conns;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->reaper, NULL, reaper_main, s) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        return orx_fail(err, ORX_ERR_INTERNAL, "cannot start the connection deadline thread");
    }
    t->running = true;
    return ORX_OK;
}

void orx_conns_stop(orx_server *s) {
    orx_conn_table *t = &s->conns;
    if (!t->running) return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->reaper, NULL);
    while (t->head) { /* normally empty: the daemon closed every connection */
        orx_conn *c = t->head;
        t->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    t->running = false;
}

long orx_conns_open(orx_server *s) {
    pthread_mutex_lock(&s->conns.mu);
    long n = s->conns.n;
    pthread_mutex_unlock(&s->conns.mu);
    return n;
}

void orx_srv_on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code) {
    orx_server *s = cls;
    orx_conn_table *t = &s->conns;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        orx_conn *r = calloc(1, sizeof *r);
        *socket_ctx = r;
        if (!r) return;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->fd = ci ? ci->connect_fd : -1;
        r->phase = ORX_CONN_HEADERS;
        r->deadline = orx_srv_now() + s->p.header_timeout_s;
        if (r->fd < 0) r->deadline = 0;
        pthread_mutex_lock(&t->mu);
        r->next = t->head;
        if (t->head) t->head->prev = r;
        t->head = r;
        t->n++;
        pthread_mutex_unlock(&t->mu);
        return;
    }
    orx_conn *r = *socket_ctx;
    *socket_ctx = NULL;
    if (!r) return;
    pthread_mutex_lock(&t->mu);
    if (r->prev) r->prev->next = r->next;
    else t->head = r->next;
    if (r->next) r->next->prev = r->prev;
    t->n--;
    pthread_mutex_unlock(&t->mu);
    free(r);
}

/* Connections with a request being handled or answered (phase BUSY). */
long orx_conns_busy(orx_server *s) {
    long n = 0;
    pthread_mutex_lock(&s->conns.mu);
    for (orx_conn *c = s->conns.head; c; c = c->next) n += c->phase == ORX_CONN_BUSY;
    pthread_mutex_unlock(&s->conns.mu);
    return n;
}

/* Move a connection to another phase; timeout_s > 0 sets its deadline from now. */
static void set_phase(orx_server *s, struct MHD_Connection *c, orx_conn_phase phase, double timeout_s) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    orx_conn *r = ci ? ci->socket_context : NULL;
    if (!r) return;
    pthread_mutex_lock(&s->conns.mu);
    r->phase = phase;
    r->deadline = timeout_s > 0 ? orx_srv_now() + timeout_s : 0;
    pthread_mutex_unlock(&s->conns.mu);
}

/* ============================================================================================
 * The raw request line
 * ========================================================================================== */
static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* A request target we accept: no control bytes, every '%' followed by two hex digits, none of
 * them %00 (a NUL would end the C string the routes are matched on). */
bool orx_srv_uri_ok(const char *uri) {
    if (!uri) return false;
    for (const char *p = uri; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f) return false;
        if (ch != '%') continue;
        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
        if (hi < 0 || lo < 0) return false;
        if (hi == 0 && lo == 0) return false;
        p += 2;
    }
    return true;
}

void *orx_srv_on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    orx_req *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    orx_buf_init(&rq->body);
    rq->bad_uri = !orx_srv_uri_ok(uri);
    return rq;
}

/* ============================================================================================
 * Header checks (first call of the access handler: headers complete, no body read yet)
 * ========================================================================================== */
/* POST bodies are JSON: accept application/json, application/<x>+json (e.g. fhir+json), with
 * parameters (charset), no Content-Type at all, and application/x-www-form-urlencoded (what
 * `curl -d` sends by default; the body is still parsed as JSON). Anything else (text/plain,
 * multipart/form-data, application/xml, …) is a 415. */
static bool json_content_type(const char *ct) {
    if (!ct || !*ct) return true;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && !strncasecmp(ct, "application/json", 16)) return true;
    if (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) return true;
    return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

static const orx_route *find_route(orx_server *s, const char *url) {
    for (int i = 0; i < s->n_routes; i++)
        if (!strcmp(s->routes[i].path, url)) return &s->routes[i];
    return NULL;
}

static const orx_route *find_route_method(orx_server *s, const char *url, const char *method) {
    for (int i = 0; i < s->n_routes; i++)
        if (!strcmp(s->routes[i].path, url) && !strcmp(s->routes[i].method, method)) return &s->routes[i];
    return NULL;
}

static bool needs_model(orx_server *s, const orx_route *r, const char *url) {
    if (!s->p.llm) return false;
    if (!r) return !strcmp(url, "/v1/chat/completions");
    return r->model;
}

/* Decide from the headers alone. Returns MHD_YES with *answered false to go on reading the body. */
static enum MHD_Result check_headers(orx_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                     orx_req *rq, bool *answered) {
    *answered = true;
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (rq->bad_uri) {
        atomic_fetch_add(&s->st.bad_uri, 1);
        return orx_srv_send_error(c, 400, "invalid_request_error",
                                  "bad request path: control byte, %%00 or a malformed %%-escape");
    }
    if (get && !strcmp(url, "/health")) { /* answered even above the connection limit */
        rq->builtin = true;
        *answered = false;
        return MHD_YES;
    }
    if (orx_conns_open(s) > s->p.max_connections) {
        atomic_fetch_add(&s->st.rejected_limit, 1);
        return orx_srv_send_503(s, c, 5, "connection_limit", "the server is at its connection limit; retry later");
    }
    const orx_route *open = get ? find_route_method(s, url, "GET") : NULL;
    if (open && open->open) { rq->route = open; *answered = false; return MHD_YES; } /* static page file */
    if (!orx_srv_authorised(s, c)) {
        atomic_fetch_add(&s->st.rejected_auth, 1);
        return orx_srv_send_error(c, 401, "authentication_error", "missing or wrong API key (Authorization: Bearer …)");
    }
    if (get && (!strcmp(url, "/metrics") || !strcmp(url, "/v1/models"))) {
        rq->builtin = true;
        *answered = false;
        return MHD_YES;
    }
    const orx_route *route = find_route_method(s, url, method);
    bool chat = !strcmp(url, "/v1/chat/completions");
    if (chat && !post) return orx_srv_send_error(c, 405, "invalid_request_error", "use POST for %s", url);
    if (!route && !chat) {
        const orx_route *other = find_route(s, url);
        if (other) return orx_srv_send_error(c, 405, "invalid_request_error", "use %s for %s", other->method, url);
        return orx_srv_send_error(c, 404, "invalid_request_error", "no route for %s %.200s", method, url);
    }
    if (post && !json_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
        return orx_srv_send_error(c, 415, "invalid_request_error", "Content-Type must be application/json (got '%.80s')",
                                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > s->p.max_body) {
            atomic_fetch_add(&s->st.too_big, 1);
            return orx_srv_send_error(c, 413, "invalid_request_error", "request body larger than the %zu-byte limit",
                                      s->p.max_body);
        }
    }
    if (chat && !s->p.llm) return orx_srv_send_error(c, 503, "server_error", "no model is loaded");
    if (needs_model(s, route, url) && atomic_load(&s->draining)) {
        atomic_fetch_add(&s->st.rejected_drain, 1);
        return orx_srv_send_503(s, c, 30, "shutting_down", "the server is shutting down");
    }
    rq->route = route;
    *answered = false;
    return MHD_YES;
}

/* ============================================================================================
 * Running the request
 * ========================================================================================== */
static enum MHD_Result run_inline(orx_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                  orx_req *rq) {
    if (!strcmp(url, "/v1/chat/completions")) return orx_srv_chat_completions(s, c, rq);
    const orx_route *r = rq->route;
    orx_http_reply reply = {200, NULL, NULL};
    bool post = !strcmp(method, "POST");
    r->fn(r->user, method, url, post ? (rq->body.data ? rq->body.data : "") : NULL, rq->body.len, &reply);
    return orx_srv_send(c, reply.status, reply.content_type, reply.body);
}

/* A model or blocking route: hand the request to queue q (s->q or s->ioq) and suspend the
 * connection until a worker resumes it with a reply (see modelq.c). */
static enum MHD_Result run_queued(orx_server *s, orx_modelq *q, struct MHD_Connection *c, const char *url,
                                  const char *method, orx_req *rq) {
    orx_job *job = orx_job_new(s, ORX_JOB_ROUTE, c);
    if (!job) return orx_srv_send_error(c, 500, "server_error", "out of memory");
    job->route = rq->route;
    snprintf(job->method, sizeof job->method, "%s", method);
    snprintf(job->url, sizeof job->url, "%s", url);
    job->len = rq->body.len;
    job->body = orx_buf_steal(&rq->body);
    if (!job->body) job->body = orx_strdup("");
    int retry, pos;
    rq->job = job;
    if (!orx_modelq_submit(q, job, &retry, &pos)) { /* suspends the connection when queued */
        rq->job = NULL;
        orx_job_free(job);
        bool drain = atomic_load(&s->draining);
        atomic_fetch_add(drain ? &s->st.rejected_drain : &s->st.rejected_queue, 1);
        char msg[96];
        snprintf(msg, sizeof msg, "the %s queue is full; retry later", q->what);
        return orx_srv_send_503(s, c, retry, drain ? "shutting_down" : "queue_full",
                                drain ? "the server is shutting down" : msg);
    }
    return MHD_YES;
}

static enum MHD_Result reply_job(orx_server *s, struct MHD_Connection *c, orx_req *rq) {
    orx_job *job = rq->job;
    rq->job = NULL;
    orx_http_reply rep = job->reply;
    job->reply.body = NULL;
    orx_job_free(job);
    (void)s;
    return orx_srv_send(c, rep.status, rep.content_type, rep.body);
}

/* ============================================================================================
 * libmicrohttpd callbacks
 * ========================================================================================== */
enum MHD_Result orx_srv_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    orx_server *s = cls;
    orx_req *rq = *con_cls;
    (void)version;
    if (!rq) return MHD_NO; /* out of memory at the request line */
    if (rq->job) {          /* resumed by the model worker: the reply is ready */
        if (!atomic_load(&rq->job->done)) return MHD_YES;
        return reply_job(s, c, rq);
    }
    if (!rq->checked) {
        rq->checked = true;
        bool answered;
        enum MHD_Result r = check_headers(s, c, url, method, rq, &answered);
        if (answered) { atomic_fetch_add(&s->st.requests, 1); return r; }
        set_phase(s, c, ORX_CONN_BODY, s->p.body_timeout_s);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && rq->body.len + *upload_size <= s->p.max_body) {
            if (!orx_buf_append(&rq->body, upload, *upload_size)) rq->too_big = true;
        } else {
            rq->too_big = true;
            orx_buf_clear(&rq->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    set_phase(s, c, ORX_CONN_BUSY, 0);
    atomic_fetch_add(&s->st.requests, 1);
    if (rq->too_big) {
        atomic_fetch_add(&s->st.too_big, 1);
        return orx_srv_send_error(c, 413, "invalid_request_error", "request body larger than the %zu-byte limit", s->p.max_body);
    }
    if (rq->builtin) { /* answered on this last call, not the first: the connection stays alive */
        bool handled;
        enum MHD_Result r = orx_srv_builtin(s, c, url, method, &handled);
        return handled ? r : orx_srv_send_error(c, 404, "invalid_request_error", "no route for %s", url);
    }
    if (needs_model(s, rq->route, url)) {
        if (!rq->route) return orx_srv_chat_completions(s, c, rq);
        return run_queued(s, &s->q, c, url, method, rq);
    }
    if (rq->route && rq->route->blocking) return run_queued(s, &s->ioq, c, url, method, rq);
    return run_inline(s, c, url, method, rq);
}

void orx_srv_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    orx_server *s = cls;
    orx_req *rq = *con_cls;
    (void)toe;
    set_phase(s, c, ORX_CONN_HEADERS, s->p.header_timeout_s); /* kept alive: the next request's headers */
    /* A client that closed its sending side will not send another request: close now rather
     * than at the header deadline (libmicrohttpd may have seen that end of stream already while
     * reading the body, and would not look again). A pipelined request is data: kept. */
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        char b;
        if (recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) shutdown(ci->connect_fd, SHUT_RDWR);
    }
    if (!rq) return;
    if (rq->job) orx_job_free(rq->job); /* only at daemon stop: finished jobs are answered first */
    orx_buf_clear(&rq->body);
    free(rq);
    *con_cls = NULL;
}
