/*
 * chat.c — POST /v1/chat/completions: OpenAI request/response shapes over an orx_llm backend.
 * Non-streamed: one chat.completion object. stream=true: Server-Sent Events, one
 * chat.completion.chunk per generated piece, a final chunk with finish_reason and usage, then
 * `data: [DONE]`. Both run as jobs of the model queue (modelq.c), one at a time, through the
 * server's gate (deadline, client disconnect, shutdown). A streamed request gets its SSE headers
 * at once (and a comment with its place in the queue); the worker feeds an SSE byte queue that
 * the response's content reader drains, suspending the connection while the queue is empty.
 */
#include "server/server_internal.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Parsed request
 * ========================================================================================== */
typedef struct chat_call {
    json_t          *root;      /* parsed body (owns the strings below) */
    orx_llm_msg    *msgs;      /* [n] roles/contents point into root or into texts */
    char           **texts;     /* [n] contents joined from content parts (owned), or NULL */
    int              n;
    const char      *stops[4];  /* stop strings (point into root) */
    orx_schema      *schema;    /* response_format json_schema.schema parsed, or NULL */
    orx_llm_request  req;
} chat_call;

static void call_free(chat_call *cc) {
    for (int i = 0; i < cc->n; i++) free(cc->texts ? cc->texts[i] : NULL);
    free(cc->texts);
    free(cc->msgs);
    orx_schema_free(cc->schema);
    json_decref(cc->root);
}

/* Content is a string or an array of parts {"type":"text","text":…}. */
static const char *message_text(json_t *content, char **owned) {
    *owned = NULL;
    if (json_is_string(content)) return json_string_value(content);
    if (!json_is_array(content)) return NULL;
    orx_buf b;
    orx_buf_init(&b);
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        const char *t = json_string_value(json_object_get(part, "text"));
        if (!t) { orx_buf_clear(&b); return NULL; }
        orx_buf_puts(&b, t);
    }
    *owned = orx_buf_steal(&b);
    return *owned;
}

static bool parse_call(orx_server *s, const char *body, size_t len, chat_call *cc, char *why, size_t wcap) {
    memset(cc, 0, sizeof *cc);
    cc->req = orx_llm_default_request();
    json_error_t je;
    cc->root = json_loadb(body, len, 0, &je);
    if (!cc->root) { snprintf(why, wcap, "body:%d:%d: invalid JSON: %s", je.line, je.column, je.text); return false; }
    if (!json_is_object(cc->root)) { snprintf(why, wcap, "body must be a JSON object"); return false; }
    json_t *msgs = json_object_get(cc->root, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) { snprintf(why, wcap, "'messages' must be a non-empty array"); return false; }
    if (json_array_size(msgs) > 256) { snprintf(why, wcap, "too many messages (max 256)"); return false; }
    cc->n = (int)json_array_size(msgs);
    cc->msgs = calloc((size_t)cc->n, sizeof *cc->msgs);
    cc->texts = calloc((size_t)cc->n, sizeof *cc->texts);
    if (!cc->msgs || !cc->texts) { snprintf(why, wcap, "out of memory"); return false; }
    for (int i = 0; i < cc->n; i++) {
        json_t *m = json_array_get(msgs, (size_t)i);
        const char *role = json_string_value(json_object_get(m, "role"));
        const char *text = message_text(json_object_get(m, "content"), &cc->texts[i]);
        if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "developer"))) {
            snprintf(why, wcap, "messages[%d].role must be system, user or assistant", i);
            return false;
        }
        if (!text) { snprintf(why, wcap, "messages[%d].content must be a string or text parts", i); return false; }
        cc->msgs[i].role = !strcmp(role, "developer") ? "system" : role;
        cc->msgs[i].content = text;
    }
    cc->req.messages = cc->msgs;
    cc->req.n_messages = cc->n;
    json_t *v;
    if ((v = json_object_get(cc->root, "max_completion_tokens")) || (v = json_object_get(cc->root, "max_tokens"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > s->p.max_tokens_limit) {
            snprintf(why, wcap, "max_tokens must be an integer in [1, %d]", s->p.max_tokens_limit);
            return false;
        }
        cc->req.max_tokens = (int)json_integer_value(v);
    }
    if ((v = json_object_get(cc->root, "temperature")) && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 2) { snprintf(why, wcap, "temperature must be a number in [0, 2]"); return false; }
        cc->req.temperature = (float)json_number_value(v);
    }
    if ((v = json_object_get(cc->root, "top_p")) && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1) { snprintf(why, wcap, "top_p must be a number in (0, 1]"); return false; }
        cc->req.top_p = (float)json_number_value(v);
    }
    if ((v = json_object_get(cc->root, "seed")) && !json_is_null(v)) {
        if (!json_is_integer(v)) { snprintf(why, wcap, "seed must be an integer"); return false; }
        cc->req.has_seed = true;
        cc->req.seed = (uint64_t)json_integer_value(v);
    }
    if ((v = json_object_get(cc->root, "stop")) && !json_is_null(v)) {
        if (json_is_string(v)) cc->stops[cc->req.n_stop++] = json_string_value(v);
        else if (json_is_array(v) && json_array_size(v) <= 4) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (!json_is_string(e)) { snprintf(why, wcap, "stop[%zu] must be a string", i); return false; }
                cc->stops[cc->req.n_stop++] = json_string_value(e);
            }
        } else { snprintf(why, wcap, "stop must be a string or an array of at most 4 strings"); return false; }
        cc->req.stop = cc->stops;
    }
    if ((v = json_object_get(cc->root, "response_format")) && !json_is_null(v)) {
        const char *type = json_string_value(json_object_get(v, "type"));
        if (!type) { snprintf(why, wcap, "response_format.type is required"); return false; }
        if (!strcmp(type, "json_object")) cc->req.json_object = true;
        else if (!strcmp(type, "json_schema")) {
            json_t *js = json_object_get(v, "json_schema");
            json_t *schema = json_object_get(js, "schema");
            if (!json_is_object(schema)) { snprintf(why, wcap, "response_format.json_schema.schema must be an object"); return false; }
            orx_error serr = ORX_ERROR_INIT;
            if (orx_schema_parse(schema, &cc->schema, &serr) != ORX_OK) { snprintf(why, wcap, "%s", serr.msg); return false; }
            cc->req.schema = cc->schema;
            const char *name = json_string_value(json_object_get(js, "name"));
            if (name) cc->req.schema_name = name;
        } else if (strcmp(type, "text") != 0) {
            snprintf(why, wcap, "response_format.type '%s' is not supported (text, json_object, json_schema)", type);
            return false;
        }
    }
    cc->req.stream = json_is_true(json_object_get(cc->root, "stream"));
    return true;
}

static int http_status_for(orx_status st) {
    switch (st) {
    case ORX_ERR_PARSE: case ORX_ERR_INVALID: case ORX_ERR_RANGE: case ORX_ERR_UNSUPPORTED: case ORX_ERR_USAGE:
        return 400;
    case ORX_ERR_NETWORK: return 502;
    default: return 500;
    }
}

/* ============================================================================================
 * Response objects
 * ========================================================================================== */
static json_t *usage_json(const orx_llm_response *r) {
    json_t *u = json_object();
    int p = r->prompt_tokens < 0 ? 0 : r->prompt_tokens, c = r->completion_tokens < 0 ? 0 : r->completion_tokens;
    json_object_set_new(u, "prompt_tokens", json_integer(p));
    json_object_set_new(u, "completion_tokens", json_integer(c));
    json_object_set_new(u, "total_tokens", json_integer(p + c));
    json_t *d = json_object();            /* OpenAI: prompt tokens served from the prefix cache */
    json_object_set_new(d, "cached_tokens", json_integer(r->cached_tokens < 0 ? 0 : r->cached_tokens));
    json_object_set_new(u, "prompt_tokens_details", d);
    json_t *cd = json_object();           /* OpenAI: drafted (predicted) tokens the model kept / refused */
    json_object_set_new(cd, "accepted_prediction_tokens", json_integer(r->accepted_tokens));
    json_object_set_new(cd, "rejected_prediction_tokens", json_integer(r->drafted_tokens - r->accepted_tokens));
    json_object_set_new(u, "completion_tokens_details", cd);
    return u;
}

/* Timings of the call (an extension, as llama.cpp's server has one): prefill to the first token,
 * decode after it, and the local engine's passes and forced (jump-forward) tokens. */
static json_t *timings_json(const orx_llm_response *r) {
    json_t *t = json_object();
    double first = r->t_first_token_s >= 0 ? r->t_first_token_s : 0;
    json_object_set_new(t, "first_token_ms", json_real(first * 1e3));
    json_object_set_new(t, "decode_ms", json_real((r->t_total_s - first) * 1e3));
    json_object_set_new(t, "decode_passes", json_integer(r->decode_passes));
    json_object_set_new(t, "forced_tokens", json_integer(r->forced_tokens));
    return t;
}

static json_t *base_object(orx_server *s, const char *object, unsigned long id) {
    json_t *o = json_object();
    char sid[64];
    snprintf(sid, sizeof sid, "chatcmpl-openrx-%lu", id);
    json_object_set_new(o, "id", json_string(sid));
    json_object_set_new(o, "object", json_string(object));
    json_object_set_new(o, "created", json_integer((json_int_t)time(NULL)));
    json_object_set_new(o, "model", json_string(orx_llm_name(s->p.llm)));
    return o;
}

static char *completion_json(orx_server *s, unsigned long id, const orx_llm_response *r) {
    json_t *o = base_object(s, "chat.completion", id), *choices = json_array(), *ch = json_object(), *msg = json_object();
    json_object_set_new(msg, "role", json_string("assistant"));
    json_object_set_new(msg, "content", json_string(r->content ? r->content : ""));
    json_object_set_new(ch, "index", json_integer(0));
    json_object_set_new(ch, "message", msg);
    json_object_set_new(ch, "finish_reason", json_string(r->finish_reason[0] ? r->finish_reason : "stop"));
    json_array_append_new(choices, ch);
    json_object_set_new(o, "choices", choices);
    json_object_set_new(o, "usage", usage_json(r));
    json_object_set_new(o, "timings", timings_json(r));
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/* One SSE event "data: {chunk}\n\n"; piece NULL for the final chunk (finish + usage). */
static char *chunk_event(orx_server *s, unsigned long id, const char *piece, size_t len, const orx_llm_response *fin) {
    json_t *o = base_object(s, "chat.completion.chunk", id), *choices = json_array(), *ch = json_object(), *delta = json_object();
    if (piece) {
        json_object_set_new(delta, "content", json_stringn(piece, len));
        json_object_set_new(ch, "finish_reason", json_null());
    } else {
        json_object_set_new(ch, "finish_reason", json_string(fin->finish_reason[0] ? fin->finish_reason : "stop"));
        json_object_set_new(o, "usage", usage_json(fin));
    }
    json_object_set_new(ch, "index", json_integer(0));
    json_object_set_new(ch, "delta", delta);
    json_array_append_new(choices, ch);
    json_object_set_new(o, "choices", choices);
    char *js = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    orx_buf b;
    orx_buf_init(&b);
    orx_buf_printf(&b, "data: %s\n\n", js ? js : "{}");
    free(js);
    return orx_buf_steal(&b);
}

/* ============================================================================================
 * Streaming: the worker feeds a byte queue that the MHD content reader drains
 * ========================================================================================== */
struct orx_stream {
    pthread_mutex_t        mu;        /* guards everything below */
    struct MHD_Connection *c;         /* the connection (suspended while the queue is empty) */
    orx_buf                q;         /* bytes ready to send */
    size_t                 q_off;     /* bytes of q already sent */
    bool                   finished;  /* generator is done; q holds everything left */
    bool                   closed;    /* the response was destroyed: client gone or done */
    bool                   suspended; /* the reader suspended the connection */
    int                    refs;      /* owners: the response and the job */
};

static void stream_unref(orx_stream *ss) {
    pthread_mutex_lock(&ss->mu);
    int left = --ss->refs;
    pthread_mutex_unlock(&ss->mu);
    if (left) return;
    orx_buf_clear(&ss->q);
    pthread_mutex_destroy(&ss->mu);
    free(ss);
}

/* Append bytes (and/or mark finished) and wake the connection if the reader is waiting. */
static void stream_push(orx_stream *ss, char *event, bool finish) {
    pthread_mutex_lock(&ss->mu);
    if (event && !ss->closed) orx_buf_puts(&ss->q, event);
    if (finish) ss->finished = true;
    if (ss->suspended && !ss->closed) {
        ss->suspended = false;
        MHD_resume_connection(ss->c);
    }
    pthread_mutex_unlock(&ss->mu);
    free(event);
}

static bool stream_closed(orx_stream *ss) {
    pthread_mutex_lock(&ss->mu);
    bool closed = ss->closed;
    pthread_mutex_unlock(&ss->mu);
    return closed;
}

typedef struct stream_ctx {
    orx_job    *job;    /* the worker's job */
    chat_call  *cc;     /* parsed request */
} stream_ctx;

static bool stream_on_token(void *user, const char *piece, size_t len) {
    stream_ctx *sc = user;
    if (stream_closed(sc->job->stream)) {
        atomic_store(&sc->job->cancel, ORX_CANCEL_CLIENT);
        return false;
    }
    stream_push(sc->job->stream, chunk_event(sc->job->s, sc->job->id, piece, len, NULL), false);
    return true;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    orx_stream *ss = cls;
    (void)pos;
    pthread_mutex_lock(&ss->mu);
    ssize_t n;
    if (ss->q_off < ss->q.len) {
        size_t avail = ss->q.len - ss->q_off;
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, ss->q.data + ss->q_off, (size_t)n);
        ss->q_off += (size_t)n;
        if (ss->q_off == ss->q.len) { orx_buf_reset(&ss->q); ss->q_off = 0; }
    } else if (ss->finished) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        ss->suspended = true; /* the worker resumes it when it pushes */
        MHD_suspend_connection(ss->c);
        n = 0;
    }
    pthread_mutex_unlock(&ss->mu);
    return n;
}

static void stream_response_free(void *cls) {
    orx_stream *ss = cls;
    pthread_mutex_lock(&ss->mu);
    ss->closed = true;
    pthread_mutex_unlock(&ss->mu);
    stream_unref(ss);
}

/* ============================================================================================
 * Jobs (worker thread)
 * ========================================================================================== */
static void run_plain(orx_job *job, chat_call *cc) {
    orx_server *s = job->s;
    orx_llm_response r;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_llm_chat(orx_server_llm(s), &cc->req, &r, &err);
    job->reply.content_type = NULL;
    if (st == ORX_OK) {
        job->reply.status = 200;
        job->reply.body = completion_json(s, job->id, &r);
        orx_llm_response_clear(&r);
        return;
    }
    int code = atomic_load(&job->cancel) == ORX_CANCEL_DEADLINE ? 504
             : atomic_load(&job->cancel) == ORX_CANCEL_SHUTDOWN ? 503 : http_status_for(st);
    if (code == 504) atomic_fetch_add(&s->st.deadline_jobs, 1);
    if (atomic_load(&job->cancel) == ORX_CANCEL_CLIENT) atomic_fetch_add(&s->st.client_gone, 1);
    job->reply.status = code;
    job->reply.body = orx_server_error_json(err.msg[0] ? err.msg : orx_status_message(st),
                                            code == 400 ? "invalid_request_error" : "server_error",
                                            code == 504 ? "deadline_exceeded" : NULL);
}

static void run_stream(orx_job *job, chat_call *cc) {
    orx_server *s = job->s;
    stream_ctx sc = {job, cc};
    cc->req.on_token = stream_on_token;
    cc->req.user = &sc;
    orx_llm_response r;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_llm_chat(orx_server_llm(s), &cc->req, &r, &err);
    if (st == ORX_OK) {
        stream_push(job->stream, chunk_event(s, job->id, NULL, 0, &r), false);
        orx_llm_response_clear(&r);
    } else {
        if (atomic_load(&job->cancel) == ORX_CANCEL_DEADLINE) atomic_fetch_add(&s->st.deadline_jobs, 1);
        if (atomic_load(&job->cancel) == ORX_CANCEL_CLIENT) atomic_fetch_add(&s->st.client_gone, 1);
        /* Headers are already sent: report the error as an SSE event in OpenAI's error shape. */
        char *e = orx_server_error_json(err.msg[0] ? err.msg : orx_status_message(st), "server_error",
                                        atomic_load(&job->cancel) == ORX_CANCEL_DEADLINE ? "deadline_exceeded" : NULL);
        orx_buf b;
        orx_buf_init(&b);
        orx_buf_printf(&b, "data: %s\n\n", e ? e : "{}");
        free(e);
        stream_push(job->stream, orx_buf_steal(&b), false);
    }
    stream_push(job->stream, orx_strdup("data: [DONE]\n\n"), true);
}

void orx_chat_run_job(orx_job *job) {
    chat_call *cc = job->chat;
    if (job->kind == ORX_JOB_CHAT_STREAM) run_stream(job, cc);
    else run_plain(job, cc);
}

void orx_chat_job_clear(orx_job *job) {
    if (job->chat) {
        call_free(job->chat);
        free(job->chat);
        job->chat = NULL;
    }
    if (job->stream) {
        /* a job refused before its response existed: nothing will read the stream */
        stream_unref(job->stream);
        job->stream = NULL;
    }
}

/* ============================================================================================
 * Entry (event-loop thread, body complete)
 * ========================================================================================== */
static orx_stream *stream_new(struct MHD_Connection *c) {
    orx_stream *ss = calloc(1, sizeof *ss);
    if (!ss) return NULL;
    pthread_mutex_init(&ss->mu, NULL);
    orx_buf_init(&ss->q);
    ss->c = c;
    ss->refs = 1; /* the job's; the response takes the second */
    return ss;
}

static enum MHD_Result refuse(orx_server *s, struct MHD_Connection *c, int retry) {
    bool drain = atomic_load(&s->draining);
    atomic_fetch_add(drain ? &s->st.rejected_drain : &s->st.rejected_queue, 1);
    return orx_srv_send_503(s, c, retry, drain ? "shutting_down" : "queue_full",
                            drain ? "the server is shutting down" : "the model queue is full; retry later");
}

static enum MHD_Result start_stream(orx_server *s, struct MHD_Connection *c, orx_job *job) {
    orx_stream *ss = stream_new(c);
    if (!ss) { orx_job_free(job); return orx_srv_send_error(c, 500, "server_error", "out of memory"); }
    job->stream = ss;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, ss, stream_response_free);
    if (!r) { orx_job_free(job); return MHD_NO; }
    ss->refs = 2; /* job + response (freed through stream_response_free) */
    int retry, pos;
    if (!orx_modelq_submit(&s->q, job, &retry, &pos)) {
        MHD_destroy_response(r); /* drops the response's reference */
        orx_job_free(job);
        return refuse(s, c, retry);
    }
    if (pos > 0) { /* an SSE comment (ignored by clients): where the request waits */
        char note[96];
        snprintf(note, sizeof note, ": queued, %d request%s ahead\n\n", pos, pos == 1 ? "" : "s");
        stream_push(ss, orx_strdup(note), false);
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result orx_srv_chat_completions(orx_server *s, struct MHD_Connection *c, orx_req *rq) {
    if (!s->p.llm) return orx_srv_send_error(c, 503, "server_error", "no model is loaded");
    if (!atomic_load(&s->ready)) return orx_srv_send_error(c, 503, "server_error", "model is still loading");
    chat_call *cc = calloc(1, sizeof *cc);
    if (!cc) return orx_srv_send_error(c, 500, "server_error", "out of memory");
    char why[512];
    if (!parse_call(s, rq->body.data ? rq->body.data : "", rq->body.len, cc, why, sizeof why)) {
        call_free(cc);
        free(cc);
        return orx_srv_send_error(c, 400, "invalid_request_error", "%s", why);
    }
    orx_job *job = orx_job_new(s, cc->req.stream ? ORX_JOB_CHAT_STREAM : ORX_JOB_CHAT, c);
    if (!job) { call_free(cc); free(cc); return orx_srv_send_error(c, 500, "server_error", "out of memory"); }
    job->chat = cc;
    job->id = atomic_fetch_add(&s->next_id, 1);
    if (job->kind == ORX_JOB_CHAT_STREAM) return start_stream(s, c, job);
    int retry, pos;
    rq->job = job;
    if (!orx_modelq_submit(&s->q, job, &retry, &pos)) {
        rq->job = NULL;
        orx_job_free(job);
        return refuse(s, c, retry);
    }
    return MHD_YES; /* suspended; the worker resumes it with the reply */
}
