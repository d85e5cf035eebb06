/* server_internal.h — state shared by the server's files (not part of the face). */
#ifndef ORX_SERVER_INTERNAL_H
#define ORX_SERVER_INTERNAL_H
#include "server/server.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#define ORX_MAX_ROUTES 32

typedef struct orx_route {
    char         method[8];  /* "GET" | "POST" */
    char         path[128];  /* exact path */
    orx_route_fn fn;         /* handler */
    void        *user;       /* handler context */
    bool         open;       /* served without the API key (the page's static files) */
    bool         model;      /* needs the model when one is loaded: runs in the model queue */
    bool         blocking;   /* may wait on the network: runs in the blocking-route queue */
} orx_route;

/* ============================================================================================
 * Connections (conn.c): one record per TCP connection, for the header/body deadlines
 * ========================================================================================== */
typedef enum orx_conn_phase {
    ORX_CONN_HEADERS = 0, /* waiting for (the rest of) a request's headers: header deadline */
    ORX_CONN_BODY    = 1, /* headers done, reading the body: body deadline */
    ORX_CONN_BUSY    = 2, /* request complete: handler, model queue or response (no deadline) */
} orx_conn_phase;

typedef struct orx_conn {
    struct orx_conn *prev, *next; /* in the server's list */
    int              fd;          /* socket (owned by libmicrohttpd) */
    orx_conn_phase   phase;       /* what the deadline is for */
    double           deadline;    /* monotonic seconds; 0 = none */
    bool             reaped;      /* shut down for missing its deadline */
} orx_conn;

typedef struct orx_conn_table {
    pthread_mutex_t mu;      /* guards the list and the phases */
    orx_conn       *head;    /* open connections */
    long            n;       /* count of open connections */
    pthread_t       reaper;  /* deadline thread */
    pthread_cond_t  cv;      /* wakes the reaper for shutdown */
    bool            stop;    /* reaper should exit */
    bool            running; /* reaper thread started */
} orx_conn_table;

/* ============================================================================================
 * Requests (conn.c): per-request state, created when the request line arrives
 * ========================================================================================== */
struct orx_job;
typedef struct orx_req {
    orx_buf          body;       /* request body so far (only after the checks passed) */
    bool             bad_uri;    /* raw URI had %00, a bad %-escape or a control byte */
    bool             checked;    /* header checks done (first access-handler call) */
    bool             too_big;    /* body exceeded max_body */
    bool             builtin;    /* /health, /metrics or /v1/models: answered when complete */
    const orx_route *route;      /* matched route, or NULL (built-in) */
    struct orx_job  *job;        /* model-queue job while suspended, or NULL */
} orx_req;

/* ============================================================================================
 * Model queue (modelq.c)
 * ========================================================================================== */
typedef enum orx_job_kind { ORX_JOB_ROUTE, ORX_JOB_CHAT, ORX_JOB_CHAT_STREAM } orx_job_kind;

typedef struct orx_stream orx_stream; /* chat.c: SSE byte queue shared with the response */

typedef struct orx_job {
    struct orx_job        *next;      /* FIFO link */
    orx_server            *s;         /* server */
    orx_job_kind           kind;      /* what run() does */
    struct MHD_Connection *c;         /* connection (suspended while the job waits/runs) */
    int                    fd;        /* its socket: peeked for a client that went away */
    const orx_route       *route;     /* ORX_JOB_ROUTE: the handler */
    char                  *body;      /* request body (owned) */
    size_t                 len;       /* bytes of body */
    char                   method[8]; /* request method */
    char                   url[128];  /* request path */
    void                  *chat;      /* ORX_JOB_CHAT*: parsed call (chat.c), owned */
    orx_stream            *stream;    /* ORX_JOB_CHAT_STREAM: shared with the SSE response */
    unsigned long          id;        /* completion id (chat) */
    double                 t_submit;  /* monotonic seconds at submit */
    double                 deadline;  /* monotonic seconds; the request fails after it */
    atomic_int             cancel;    /* 0 running; else an ORX_CANCEL_* reason */
    atomic_bool            done;      /* reply is ready (non-stream) */
    orx_http_reply         reply;     /* result for non-stream jobs */
} orx_job;

enum { ORX_CANCEL_NONE = 0, ORX_CANCEL_DEADLINE = 1, ORX_CANCEL_CLIENT = 2, ORX_CANCEL_SHUTDOWN = 3 };

#define ORX_QUEUE_WORKERS_MAX 8
#define ORX_BLOCKING_WORKERS  8   /* workers of the blocking-route queue */
#define ORX_BLOCKING_QUEUE    256 /* its waiting jobs; more → 503 */

struct orx_modelq;
typedef struct orx_qworker {
    struct orx_modelq *q;   /* its queue */
    int                idx; /* index into running[] */
} orx_qworker;

/* A job queue: the model queue (one worker: the model runs one request at a time) and the
 * queue of blocking routes (several workers: CDS Hooks requests that read the EHR's FHIR server),
 * both with their connections suspended while the job waits and runs. */
typedef struct orx_modelq {
    orx_server     *s;         /* server */
    const char     *what;      /* "model" | "blocking": for messages */
    pthread_mutex_t mu;        /* guards everything below */
    pthread_cond_t  cv;        /* job arrived / drained */
    orx_job        *head, *tail; /* waiting jobs (FIFO) */
    int             waiting;   /* jobs in the list */
    int             capacity;  /* most waiting jobs; more → 503 */
    orx_job        *running[ORX_QUEUE_WORKERS_MAX]; /* job each worker runs, or NULL (never one being handed over) */
    int             n_running; /* non-NULL entries of running */
    int             finishing; /* jobs run but not yet handed to their connection / freed */
    double          avg_s;     /* moving average of job run time (Retry-After estimate) */
    bool            stop;      /* workers should exit */
    bool            draining;  /* refuse new jobs */
    int             n_workers; /* threads that run jobs */
    pthread_t       worker[ORX_QUEUE_WORKERS_MAX]; /* [n_workers] */
    orx_qworker     wk[ORX_QUEUE_WORKERS_MAX];     /* their arguments */
    bool            started;   /* workers started */
} orx_modelq;

/* ============================================================================================
 * Counters for /metrics
 * ========================================================================================== */
typedef struct orx_srv_stats {
    atomic_ulong requests;        /* requests answered */
    atomic_ulong rejected_auth;   /* 401 */
    atomic_ulong rejected_limit;  /* 503: connection limit */
    atomic_ulong rejected_queue;  /* 503: model queue full */
    atomic_ulong rejected_drain;  /* 503: shutting down */
    atomic_ulong bad_uri;         /* 400: bad request path */
    atomic_ulong too_big;         /* 413 */
    atomic_ulong timeouts;        /* connections shut for missing a header/body deadline */
    atomic_ulong deadline_jobs;   /* model requests past their deadline (504) */
    atomic_ulong client_gone;     /* model requests cancelled because the client left */
    atomic_ulong jobs_done;       /* model requests run */
} orx_srv_stats;

struct orx_server {
    struct MHD_Daemon *d;          /* libmicrohttpd daemon */
    orx_server_params  p;          /* copy of the start parameters (limits resolved) */
    char              *api_key;    /* owned copy, or NULL */
    time_t             started;    /* unix time at start */
    int                port;       /* bound port */
    atomic_bool        ready;      /* /health 200 when true */
    atomic_bool        draining;   /* shutting down: model requests refused */
    atomic_ulong       next_id;    /* completion id counter */
    pthread_mutex_t    model_lock; /* one model call at a time (orx_server_lock_model) */
    orx_llm           *gate;       /* cancellable wrapper around p.llm (modelq.c), or NULL */
    orx_route          routes[ORX_MAX_ROUTES];
    int                n_routes;
    orx_conn_table     conns;      /* open connections and their deadlines */
    orx_modelq         q;          /* the model queue */
    orx_modelq         ioq;        /* blocking routes (orx_server_route_blocking) */
    orx_srv_stats      st;         /* counters */
    int                quiesced_fd; /* listening socket after drain stopped accepting, or -1 */
};

/* replies (server.c) */
enum MHD_Result orx_srv_send(struct MHD_Connection *c, int status, const char *ctype, char *body);
enum MHD_Result orx_srv_send_error(struct MHD_Connection *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result orx_srv_send_503(orx_server *s, struct MHD_Connection *c, int retry_after_s, const char *code,
                                 const char *msg);
bool orx_srv_authorised(orx_server *s, struct MHD_Connection *c);
enum MHD_Result orx_srv_builtin(orx_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                bool *handled);
double orx_srv_now(void); /* monotonic seconds */

/* connections and requests (conn.c) */
orx_status orx_conns_start(orx_server *s, orx_error *err);
void orx_conns_stop(orx_server *s);
long orx_conns_open(orx_server *s);
long orx_conns_busy(orx_server *s);
void *orx_srv_on_uri(void *cls, const char *uri, struct MHD_Connection *c);
void orx_srv_on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code);
enum MHD_Result orx_srv_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *upload_size, void **con_cls);
void orx_srv_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
bool orx_srv_uri_ok(const char *uri);

/* job queues (modelq.c): s->q (the model, 1 worker) and s->ioq (blocking routes) */
orx_status orx_modelq_start(orx_server *s, orx_modelq *q, const char *what, int n_workers, int capacity,
                            orx_error *err);
void orx_modelq_stop(orx_modelq *q);
/* Queue a job; false when full or draining (*retry_after_s set). On success the caller must not
 * touch the job except through the documented hand-over (suspend, stream). */
bool orx_modelq_submit(orx_modelq *q, orx_job *job, int *retry_after_s, int *position);
orx_job *orx_job_new(orx_server *s, orx_job_kind kind, struct MHD_Connection *c);
void orx_job_free(orx_job *job);
bool orx_job_should_stop(orx_job *job); /* deadline, client gone or shutdown (sets job->cancel) */
orx_llm *orx_gate_create(orx_server *s, orx_llm *inner);
void orx_modelq_counts(orx_modelq *q, int *waiting, int *running, int *capacity);
bool orx_modelq_drain(orx_modelq *q, double timeout_s);

/* chat (chat.c) */
enum MHD_Result orx_srv_chat_completions(orx_server *s, struct MHD_Connection *c, orx_req *rq);
void orx_chat_run_job(orx_job *job);   /* worker: run a chat job (stream or not) */
void orx_chat_job_clear(orx_job *job);  /* release the chat parts of a job */
#endif
