/*
 * chat.c — POST /v1/chat/completions: OpenAI request/response shapes over an orx_llm backend.
 * Non-streamed: one chat.completion object. stream=true: Server-Sent Events, one
 * chat.completion.chunk per generated piece, a final chunk with finish_reason and usage, then
 * `data: [DONE]`. The model runs one request at a time (model_lock).
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
    char            *schema;    /* response_format json_schema.schema serialised, or NULL */
    orx_llm_request  req;
} chat_call;

static void call_free(chat_call *cc) {
    for (int i = 0; i < cc->n; i++) free(cc->texts ? cc->texts[i] : NULL);
    free(cc->texts);
    free(cc->msgs);
    free(cc->schema);
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
        if (!t) { orx_buf_free(&b); return NULL; }
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
            cc->schema = json_dumps(schema, JSON_COMPACT);
            cc->req.json_schema = cc->schema;
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
    return u;
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
 * Streaming: a generator thread feeds a byte queue that the MHD content reader drains
 * ========================================================================================== */
typedef struct stream_state {
    orx_server     *s;
    chat_call       cc;
    unsigned long   id;
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    orx_buf         q;        /* bytes ready to send */
    size_t          q_off;    /* bytes of q already sent */
    bool            finished; /* generator is done; q holds everything left */
    bool            closed;   /* client went away: stop generating */
} stream_state;

static void stream_push(stream_state *ss, char *event) {
    pthread_mutex_lock(&ss->mu);
    if (event) orx_buf_puts(&ss->q, event);
    pthread_cond_signal(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    free(event);
}

static bool stream_on_token(void *user, const char *piece, size_t len) {
    stream_state *ss = user;
    pthread_mutex_lock(&ss->mu);
    bool closed = ss->closed;
    pthread_mutex_unlock(&ss->mu);
    if (closed) return false;
    stream_push(ss, chunk_event(ss->s, ss->id, piece, len, NULL));
    return true;
}

static void *stream_thread(void *arg) {
    stream_state *ss = arg;
    orx_llm_response r;
    orx_error err = ORX_ERROR_INIT;
    pthread_mutex_lock(&ss->s->model_lock);
    orx_status st = orx_llm_chat(ss->s->p.llm, &ss->cc.req, &r, &err);
    pthread_mutex_unlock(&ss->s->model_lock);
    if (st == ORX_OK) {
        stream_push(ss, chunk_event(ss->s, ss->id, NULL, 0, &r));
        orx_llm_response_free(&r);
    } else {
        /* Headers are already sent: report the error as an SSE event in OpenAI's error shape. */
        char *e = orx_server_error_json(err.msg[0] ? err.msg : orx_status_message(st), "server_error", NULL);
        orx_buf b;
        orx_buf_init(&b);
        orx_buf_printf(&b, "data: %s\n\n", e ? e : "{}");
        free(e);
        stream_push(ss, orx_buf_steal(&b));
    }
    stream_push(ss, orx_strdup("data: [DONE]\n\n"));
    pthread_mutex_lock(&ss->mu);
    ss->finished = true;
    pthread_cond_signal(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    stream_state *ss = cls;
    pthread_mutex_lock(&ss->mu);
    while (ss->q_off == ss->q.len && !ss->finished) pthread_cond_wait(&ss->cv, &ss->mu);
    ssize_t n;
    if (ss->q_off < ss->q.len) {
        size_t avail = ss->q.len - ss->q_off;
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, ss->q.data + ss->q_off, (size_t)n);
        ss->q_off += (size_t)n;
    } else {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&ss->mu);
    return n;
}

static void stream_free(void *cls) {
    stream_state *ss = cls;
    pthread_mutex_lock(&ss->mu);
    ss->closed = true;
    pthread_mutex_unlock(&ss->mu);
    pthread_join(ss->thread, NULL);
    call_free(&ss->cc);
    orx_buf_free(&ss->q);
    pthread_mutex_destroy(&ss->mu);
    pthread_cond_destroy(&ss->cv);
    free(ss);
}

static enum MHD_Result start_stream(orx_server *s, struct MHD_Connection *c, chat_call *cc, unsigned long id) {
    stream_state *ss = calloc(1, sizeof *ss);
    if (!ss) { call_free(cc); return orx_srv_send_error(c, 500, "server_error", "out of memory"); }
    ss->s = s;
    ss->cc = *cc;
    ss->id = id;
    ss->cc.req.on_token = stream_on_token;
    ss->cc.req.user = ss;
    orx_buf_init(&ss->q);
    pthread_mutex_init(&ss->mu, NULL);
    pthread_cond_init(&ss->cv, NULL);
    if (pthread_create(&ss->thread, NULL, stream_thread, ss) != 0) {
        call_free(&ss->cc);
        free(ss);
        return orx_srv_send_error(c, 500, "server_error", "cannot start generation thread");
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, ss, stream_free);
    if (!r) { stream_free(ss); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* ============================================================================================
 * Entry
 * ========================================================================================== */
enum MHD_Result orx_srv_chat_completions(orx_server *s, struct MHD_Connection *c, const char *body, size_t len) {
    if (!s->p.llm) return orx_srv_send_error(c, 503, "server_error", "no model is loaded");
    if (!atomic_load(&s->ready)) return orx_srv_send_error(c, 503, "server_error", "model is still loading");
    chat_call cc;
    char why[512];
    if (!parse_call(s, body, len, &cc, why, sizeof why)) {
        call_free(&cc);
        return orx_srv_send_error(c, 400, "invalid_request_error", "%s", why);
    }
    unsigned long id = atomic_fetch_add(&s->next_id, 1);
    if (cc.req.stream) return start_stream(s, c, &cc, id);
    orx_llm_response r;
    orx_error err = ORX_ERROR_INIT;
    pthread_mutex_lock(&s->model_lock);
    orx_status st = orx_llm_chat(s->p.llm, &cc.req, &r, &err);
    pthread_mutex_unlock(&s->model_lock);
    call_free(&cc);
    if (st != ORX_OK)
        return orx_srv_send_error(c, http_status_for(st), http_status_for(st) == 400 ? "invalid_request_error" : "server_error",
                                  "%s", err.msg[0] ? err.msg : orx_status_message(st));
    char *out = completion_json(s, id, &r);
    orx_llm_response_free(&r);
    return orx_srv_send(c, 200, NULL, out);
}
