/*
 * modelq.c — job queues: requests that need the model wait in a bounded FIFO and run one at a
 * time on one worker thread, while the event-loop threads keep serving everything else; routes
 * that may wait on the network (CDS Hooks reads from the EHR's FHIR server) run the same way in a
 * second queue with several workers, so a slow FHIR server holds a worker, never an event loop.
 *
 * Hand-over: a non-streamed request is queued and its connection suspended under the queue lock
 * (so the worker cannot finish and resume it before it is suspended); the worker runs the job,
 * stores the reply, marks it done and resumes the connection, whose access handler then sends
 * the reply (conn.c). A streamed chat completion keeps its connection live: the SSE response
 * is queued at once and the worker feeds it (chat.c).
 *
 * Each job has a deadline (queue wait included). The model is reached through a gate: an
 * orx_llm wrapper that, on the worker thread, stops the generation between tokens when the job's
 * deadline has passed, its client has gone (a peek at the socket finds the end of the stream or
 * an error) or the server is shutting down, and then fails the call with ORX_ERR_CANCELLED —
 * so the recommend pipeline records the failure in the audit log like any other. For the local
 * engine the gate asks for streaming to see every token; a remote backend is stopped between
 * calls and by its own timeout.
 *
 * Drain (SIGTERM): new jobs are refused (503), queued and running ones finish, then whatever is
 * left after the drain timeout is cancelled; every suspended connection is resumed before the
 * daemon stops (libmicrohttpd requires it).
 */
#include "server/server_internal.h"
#include "llm/backend.h" /* the gate is a backend wrapping another */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread orx_job *tl_job; /* job being run by this thread (the worker), or NULL */

/* ============================================================================================
 * Jobs
 * ========================================================================================== */
orx_job *orx_job_new(orx_server *s, orx_job_kind kind, struct MHD_Connection *c) {
    orx_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->s = s;
    j->kind = kind;
    j->c = c;
    const union MHD_ConnectionInfo *ci = c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    j->fd = ci ? ci->connect_fd : -1;
    j->t_submit = orx_srv_now();
    j->deadline = j->t_submit + s->p.request_deadline_s;
    atomic_init(&j->cancel, ORX_CANCEL_NONE);
    atomic_init(&j->done, false);
    j->reply.status = 200;
    return j;
}

void orx_job_free(orx_job *job) {
    if (!job) return;
    if (job->kind != ORX_JOB_ROUTE) orx_chat_job_clear(job);
    free(job->body);
    free(job->reply.body);
    free(job);
}

/* True when the client closed its side or the connection failed (a pipelined next request
 * counts as still there). */
static bool client_gone(int fd) {
    if (fd < 0) return false;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

bool orx_job_should_stop(orx_job *job) {
    if (atomic_load(&job->cancel) != ORX_CANCEL_NONE) return true;
    int why = ORX_CANCEL_NONE;
    if (orx_srv_now() > job->deadline) why = ORX_CANCEL_DEADLINE;
    else if (client_gone(job->fd)) why = ORX_CANCEL_CLIENT;
    if (why == ORX_CANCEL_NONE) return false;
    int expected = ORX_CANCEL_NONE;
    atomic_compare_exchange_strong(&job->cancel, &expected, why);
    return true;
}

static const char *cancel_reason(const orx_job *job) {
    switch (atomic_load(&job->cancel)) {
    case ORX_CANCEL_DEADLINE: return "the request's deadline passed";
    case ORX_CANCEL_CLIENT: return "the client disconnected";
    case ORX_CANCEL_SHUTDOWN: return "the server is shutting down";
    default: return "cancelled";
    }
}

/* ============================================================================================
 * The gate: a cancellable orx_llm around the real backend
 * ========================================================================================== */
typedef struct gate {
    orx_llm     base;  /* vtable + name */
    orx_server *s;     /* server */
    orx_llm    *inner; /* the real backend (not owned) */
    bool        local; /* our engine: streaming shows every token */
} gate;

typedef struct gate_call {
    orx_job               *job; /* job on this thread */
    const orx_llm_request *req; /* the caller's request */
} gate_call;

static bool gate_token(void *user, const char *piece, size_t len) {
    gate_call *gc = user;
    if (orx_job_should_stop(gc->job)) return false;
    if (gc->req->stream && gc->req->on_token) return gc->req->on_token(gc->req->user, piece, len);
    return true;
}

static orx_status gate_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    gate *g = (gate *)llm;
    orx_job *job = tl_job;
    if (!job) return orx_llm_chat(g->inner, req, out, err); /* outside the queue: caller serialises */
    if (orx_job_should_stop(job))
        return orx_fail(err, ORX_ERR_CANCELLED, "model call not started: %s", cancel_reason(job));
    gate_call gc = {job, req};
    orx_llm_request r = *req;
    r.on_token = gate_token;
    r.user = &gc;
    if (g->local) r.stream = true;
    orx_status st = orx_llm_chat(g->inner, &r, out, err);
    if (st == ORX_OK && atomic_load(&job->cancel) != ORX_CANCEL_NONE) {
        orx_llm_response_clear(out);
        return orx_fail(err, ORX_ERR_CANCELLED, "generation stopped after %.1f s: %s", orx_srv_now() - job->t_submit,
                        cancel_reason(job));
    }
    return st;
}

static void gate_free(orx_llm *llm) { free(llm); }

/* token counting touches only the tokenizer (or the remote server), not the model's state */
static int gate_count_tokens(orx_llm *llm, const char *text) {
    return orx_llm_count_tokens(((gate *)llm)->inner, text);
}

static const orx_llm_vtable GATE_VT = {"gate", gate_chat, gate_free, gate_count_tokens};

orx_llm *orx_gate_create(orx_server *s, orx_llm *inner) {
    gate *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->base.vt = &GATE_VT;
    snprintf(g->base.name, sizeof g->base.name, "%s", orx_llm_name(inner));
    g->base.n_ctx = orx_llm_n_ctx(inner);
    g->base.privacy = *orx_llm_get_privacy(inner);
    g->s = s;
    g->inner = inner;
    g->local = !strcmp(orx_llm_kind(inner), "local");
    return &g->base;
}

/* ============================================================================================
 * Running a job (worker thread)
 * ========================================================================================== */
static void set_error(orx_job *job, int status, const char *type, const char *msg) {
    free(job->reply.body);
    job->reply.status = status;
    job->reply.content_type = NULL;
    job->reply.body = orx_server_error_json(msg, type, status == 504 ? "deadline_exceeded" : NULL);
}

static void run_route(orx_job *job) {
    orx_http_reply reply = {200, NULL, NULL};
    bool post = !strcmp(job->method, "POST");
    job->route->fn(job->route->user, job->method, job->url, post ? job->body : NULL, job->len, &reply);
    job->reply = reply;
}

/* A cancelled job's reply says why (the route's own error says "cancelled" less clearly). */
static void cancelled_reply(orx_job *job) {
    char msg[256];
    switch (atomic_load(&job->cancel)) {
    case ORX_CANCEL_DEADLINE:
        atomic_fetch_add(&job->s->st.deadline_jobs, 1);
        snprintf(msg, sizeof msg, "the request did not finish within its %.0f s deadline (queue wait included)",
                 job->s->p.request_deadline_s);
        set_error(job, 504, "server_error", msg);
        break;
    case ORX_CANCEL_CLIENT:
        atomic_fetch_add(&job->s->st.client_gone, 1);
        set_error(job, 499, "server_error", "the client disconnected");
        break;
    case ORX_CANCEL_SHUTDOWN: set_error(job, 503, "server_error", "the server is shutting down"); break;
    default: break;
    }
}

static void run_job(orx_server *s, orx_job *job) {
    tl_job = job;
    bool stop = orx_job_should_stop(job); /* deadline passed while queued, client gone, shutdown */
    if (job->kind != ORX_JOB_ROUTE) {
        orx_chat_run_job(job); /* handles cancellation itself (SSE error event or reply) */
    } else if (!stop) {
        run_route(job);
        if (atomic_load(&job->cancel) != ORX_CANCEL_NONE) cancelled_reply(job);
    } else {
        cancelled_reply(job);
    }
    tl_job = NULL;
    atomic_fetch_add(&s->st.jobs_done, 1);
}

/* After the job is no longer q->running: give it to whoever frees it. */
static void hand_over(orx_job *job) {
    if (job->kind == ORX_JOB_CHAT_STREAM) {
        orx_job_free(job); /* the stream lives on with the response */
        return;
    }
    struct MHD_Connection *c = job->c;
    atomic_store(&job->done, true);
    MHD_resume_connection(c); /* the access handler sends the reply and frees the job */
}

static void *worker_main(void *arg) {
    orx_qworker *w = arg;
    orx_modelq *q = w->q;
    orx_server *s = q->s;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
        if (!q->head && q->stop) break;
        orx_job *job = q->head;
        q->head = job->next;
        if (!q->head) q->tail = NULL;
        q->waiting--;
        q->running[w->idx] = job;
        q->n_running++;
        pthread_mutex_unlock(&q->mu);
        double t0 = orx_srv_now();
        run_job(s, job);
        double dt = orx_srv_now() - t0;
        /* not "running" any more before anyone else may free it (drain must not touch it then),
         * but still counted until handed over (the daemon must not stop before the resume) */
        pthread_mutex_lock(&q->mu);
        q->running[w->idx] = NULL;
        q->n_running--;
        q->finishing++;
        q->avg_s = q->avg_s * 0.8 + dt * 0.2;
        pthread_mutex_unlock(&q->mu);
        hand_over(job);
        pthread_mutex_lock(&q->mu);
        q->finishing--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ============================================================================================
 * Queue
 * ========================================================================================== */
orx_status orx_modelq_start(orx_server *s, orx_modelq *q, const char *what, int n_workers, int capacity,
                            orx_error *err) {
    if (n_workers < 1 || n_workers > ORX_QUEUE_WORKERS_MAX)
        return orx_fail(err, ORX_ERR_USAGE, "%s queue: %d workers (1..%d)", what, n_workers, ORX_QUEUE_WORKERS_MAX);
    q->s = s;
    q->what = what;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->capacity = capacity;
    q->avg_s = 10;
    for (int i = 0; i < n_workers; i++) {
        q->wk[i] = (orx_qworker){q, i};
        if (pthread_create(&q->worker[i], NULL, worker_main, &q->wk[i]) != 0) {
            q->n_workers = i;
            q->started = true;
            orx_modelq_stop(q);
            return orx_fail(err, ORX_ERR_INTERNAL, "cannot start the %s queue's worker threads", what);
        }
    }
    q->n_workers = n_workers;
    q->started = true;
    return ORX_OK;
}

void orx_modelq_stop(orx_modelq *q) {
    if (!q->started) return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->n_workers; i++) pthread_join(q->worker[i], NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    q->started = false;
}

bool orx_modelq_submit(orx_modelq *q, orx_job *job, int *retry_after_s, int *position) {
    pthread_mutex_lock(&q->mu);
    int ahead = q->waiting + q->n_running;
    double est = ceil(q->avg_s * (ahead / q->n_workers + 1));
    *retry_after_s = est < 1 ? 1 : est > 600 ? 600 : (int)est;
    *position = ahead;
    if (q->draining || q->stop || q->waiting >= q->capacity) {
        if (q->draining || q->stop) *retry_after_s = 30;
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    job->next = NULL;
    if (q->tail) q->tail->next = job;
    else q->head = job;
    q->tail = job;
    q->waiting++;
    /* suspended before a worker can see the job: it resumes only a suspended connection */
    if (job->kind != ORX_JOB_CHAT_STREAM) MHD_suspend_connection(job->c);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return true;
}

void orx_modelq_counts(orx_modelq *q, int *waiting, int *running, int *capacity) {
    pthread_mutex_lock(&q->mu);
    *waiting = q->waiting;
    *running = q->n_running;
    *capacity = q->capacity;
    pthread_mutex_unlock(&q->mu);
}

bool orx_modelq_drain(orx_modelq *q, double timeout_s) {
    if (!q->started) return true;
    pthread_mutex_lock(&q->mu);
    q->draining = true;
    double until = orx_srv_now() + (timeout_s > 0 ? timeout_s : 0);
    while ((q->head || q->n_running || q->finishing) && orx_srv_now() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
    bool in_time = !q->head && !q->n_running && !q->finishing;
    if (!in_time) { /* cancel what is left and wait for the workers to answer and hand it over */
        for (orx_job *j = q->head; j; j = j->next) atomic_store(&j->cancel, ORX_CANCEL_SHUTDOWN);
        for (int i = 0; i < q->n_workers; i++)
            if (q->running[i]) atomic_store(&q->running[i]->cancel, ORX_CANCEL_SHUTDOWN);
        while (q->head || q->n_running || q->finishing) pthread_cond_wait(&q->cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return in_time;
}
