/*
 * openai.c — OpenAI-compatible chat-completions client over libcurl.
 *
 * POST {base_url}/chat/completions with {model, messages, max_tokens, temperature, top_p, seed,
 * stop, response_format, stream}. Non-streamed: choices[0].message.content + usage. Streamed:
 * Server-Sent Events, one `data: {chat.completion.chunk}` per piece, ending with `data: [DONE]`.
 * Retries with exponential backoff on transport errors, 429 and 5xx (Retry-After honoured).
 * The API key is read from the environment variable the caller names, never from arguments.
 */
#include "llm/backend.h"
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ============================================================================================
 * Handle
 * ========================================================================================== */
typedef struct openai_llm {
    orx_llm base;          /* must be first */
    char   *base_url;      /* without trailing slash */
    char   *model;         /* model name sent to the server */
    char   *api_key;       /* value read from the environment at create time, or NULL */
    double  timeout_s;     /* whole request, seconds */
    double  connect_timeout_s;
    int     max_retries;   /* extra attempts after the first */
    double  backoff_s;     /* first retry delay, seconds */
    int     tokenize;      /* the server's POST /tokenize: 0 untried, 1 works, -1 not there */
} openai_llm;

orx_openai_params orx_openai_default_params(void) {
    orx_openai_params p = {0};
    p.timeout_s = 120;
    p.connect_timeout_s = 10;
    p.max_retries = 3;
    p.backoff_s = 0.5;
    return p;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ============================================================================================
 * Request body
 * ========================================================================================== */
static char *build_body(const openai_llm *o, const orx_llm_request *req, orx_error *err) {
    json_t *root = json_object(), *msgs = json_array();
    json_object_set_new(root, "model", json_string(o->model));
    for (int i = 0; i < req->n_messages; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "role", json_string(req->messages[i].role));
        json_object_set_new(m, "content", json_string(req->messages[i].content));
        json_array_append_new(msgs, m);
    }
    json_object_set_new(root, "messages", msgs);
    json_object_set_new(root, "max_tokens", json_integer(req->max_tokens));
    json_object_set_new(root, "temperature", json_real(req->temperature));
    if (req->top_p > 0 && req->top_p < 1) json_object_set_new(root, "top_p", json_real(req->top_p));
    if (req->has_seed) json_object_set_new(root, "seed", json_integer((json_int_t)req->seed));
    if (req->n_stop > 0) {
        json_t *s = json_array();
        for (int i = 0; i < req->n_stop; i++) json_array_append_new(s, json_string(req->stop[i]));
        json_object_set_new(root, "stop", s);
    }
    if (req->schema) {
        json_t *schema = json_deep_copy(orx_schema_json(req->schema));
        json_t *rf = json_object(), *js = json_object();
        json_object_set_new(js, "name", json_string(req->schema_name ? req->schema_name : "response"));
        json_object_set_new(js, "strict", json_true());
        json_object_set_new(js, "schema", schema);
        json_object_set_new(rf, "type", json_string("json_schema"));
        json_object_set_new(rf, "json_schema", js);
        json_object_set_new(root, "response_format", rf);
    } else if (req->json_object) {
        json_t *rf = json_object();
        json_object_set_new(rf, "type", json_string("json_object"));
        json_object_set_new(root, "response_format", rf);
    }
    if (req->stream) {
        json_object_set_new(root, "stream", json_true());
        json_t *so = json_object();
        json_object_set_new(so, "include_usage", json_true());
        json_object_set_new(root, "stream_options", so);
    }
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!body) orx_fail(err, ORX_ERR_NOMEM, "cannot serialise chat request");
    return body;
}

/* ============================================================================================
 * Response accumulation (plain body or SSE stream)
 * ========================================================================================== */
typedef struct transfer {
    const orx_llm_request *req;
    orx_buf  body;          /* raw body (non-stream, or error body) */
    orx_buf  line;          /* SSE: current partial line */
    orx_buf  content;       /* SSE: concatenated delta content */
    char     finish[16];    /* SSE: last finish_reason seen */
    int      prompt_tokens; /* usage, -1 unknown */
    int      completion_tokens;
    bool     done;          /* SSE: [DONE] seen */
    bool     cancelled;     /* on_token asked to stop */
    bool     streaming;     /* HTTP 200 with SSE body */
    bool     bad_chunk;     /* a data: line was not valid JSON */
    double   t0, t_first;   /* request start, first piece (seconds, orx_now) */
    double   retry_after_s; /* from the Retry-After header, -1 if none */
} transfer;

static void sse_data(transfer *t, const char *data) {
    if (!strcmp(data, "[DONE]")) { t->done = true; return; }
    json_error_t je;
    json_t *chunk = json_loads(data, 0, &je);
    if (!chunk) { t->bad_chunk = true; return; }
    json_t *choice = json_array_get(json_object_get(chunk, "choices"), 0);
    const char *piece = json_string_value(json_object_get(json_object_get(choice, "delta"), "content"));
    const char *fin = json_string_value(json_object_get(choice, "finish_reason"));
    if (fin) snprintf(t->finish, sizeof t->finish, "%s", fin);
    json_t *usage = json_object_get(chunk, "usage");
    if (json_is_object(usage)) {
        t->prompt_tokens = (int)json_integer_value(json_object_get(usage, "prompt_tokens"));
        t->completion_tokens = (int)json_integer_value(json_object_get(usage, "completion_tokens"));
    }
    if (piece && *piece) {
        if (t->t_first < 0) t->t_first = orx_now();
        orx_buf_puts(&t->content, piece);
        if (t->req->on_token && !t->req->on_token(t->req->user, piece, strlen(piece))) t->cancelled = true;
    }
    json_decref(chunk);
}

static void sse_feed(transfer *t, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') { orx_buf_append(&t->line, p + i, 1); continue; }
        char *l = t->line.data ? t->line.data : (char *)"";
        size_t len = t->line.len;
        if (len && l[len - 1] == '\r') l[--len] = '\0';
        if (orx_str_starts_with(l, "data:")) {
            const char *d = l + 5;
            while (*d == ' ') d++;
            sse_data(t, d);
        }
        orx_buf_reset(&t->line);
    }
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
    transfer *t = ud;
    size_t n = size * nmemb;
    if (t->streaming) {
        sse_feed(t, p, n);
        if (t->cancelled) return 0; /* aborts the transfer */
    } else if (!orx_buf_append(&t->body, p, n)) {
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
    transfer *t = ud;
    size_t n = size * nmemb;
    if (n > 12 && !strncasecmp(p, "retry-after:", 12)) t->retry_after_s = atof(p + 12);
    if (n > 13 && !strncasecmp(p, "content-type:", 13) && strstr(p, "text/event-stream")) t->streaming = true;
    return n;
}

/* ============================================================================================
 * One HTTP attempt
 * ========================================================================================== */
static orx_status attempt(openai_llm *o, const char *url, const char *body, transfer *t,
                          long *http_status, orx_error *err) {
    CURL *c = curl_easy_init();
    if (!c) return orx_fail(err, ORX_ERR_NOMEM, "curl_easy_init failed");
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, t->req->stream ? "Accept: text/event-stream" : "Accept: application/json");
    char auth[1024];
    if (o->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->api_key);
        h = curl_slist_append(h, auth);
    }
    char curl_err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "openrx/" ORX_VERSION);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc == CURLE_WRITE_ERROR && t->cancelled) return ORX_OK;
    if (rc != CURLE_OK) {
        char shown[2048]; /* messages never carry the URL's credentials */
        orx_url_public(url, shown, sizeof shown);
        return orx_fail(err, ORX_ERR_NETWORK, "%s: %s", shown, curl_err[0] ? curl_err : curl_easy_strerror(rc));
    }
    return ORX_OK;
}

/* Error message from an OpenAI-style error body {"error":{"message":…}}, else the raw body. */
static void remote_error(const transfer *t, long status, const char *url, orx_error *err) {
    json_error_t je;
    json_t *root = t->body.len ? json_loadb(t->body.data, t->body.len, 0, &je) : NULL;
    const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
    orx_fail(err, ORX_ERR_NETWORK, "%s: HTTP %ld: %.300s", url, status,
             msg ? msg : (t->body.len ? t->body.data : "(empty body)"));
    json_decref(root);
}

static orx_status parse_plain(transfer *t, orx_llm_response *out, const char *url, orx_error *err) {
    json_error_t je;
    json_t *root = json_loadb(t->body.data ? t->body.data : "", t->body.len, 0, &je);
    if (!root)
        return orx_fail(err, ORX_ERR_PARSE, "%s: response:%d:%d: not JSON: %s", url, je.line, je.column, je.text);
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    const char *content = json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
    if (!content) {
        json_decref(root);
        return orx_fail(err, ORX_ERR_PARSE, "%s: response has no choices[0].message.content", url);
    }
    out->content = orx_strdup(content);
    const char *fin = json_string_value(json_object_get(choice, "finish_reason"));
    snprintf(out->finish_reason, sizeof out->finish_reason, "%s", fin ? fin : "stop");
    json_t *usage = json_object_get(root, "usage");
    if (json_is_object(usage)) {
        out->prompt_tokens = (int)json_integer_value(json_object_get(usage, "prompt_tokens"));
        out->completion_tokens = (int)json_integer_value(json_object_get(usage, "completion_tokens"));
    }
    json_decref(root);
    return ORX_OK;
}

static void sleep_s(double s) {
    if (s <= 0) return;
    if (s > 60) s = 60;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ============================================================================================
 * chat: attempts with retries
 * ========================================================================================== */
static orx_status openai_chat(orx_llm *llm, const orx_llm_request *req, orx_llm_response *out, orx_error *err) {
    openai_llm *o = (openai_llm *)llm;
    char url[2048];
    snprintf(url, sizeof url, "%s/chat/completions", o->base_url);
    char shown[2048]; /* the URL as messages show it: without credentials */
    orx_url_public(url, shown, sizeof shown);
    char *body = build_body(o, req, err);
    if (!body) return err ? err->code : ORX_ERR_INVALID;
    /* what leaves the machine, exactly: its hash for the audit record (and the body on request) */
    size_t body_len = strlen(body);
    orx_sha256_hex(body, body_len, out->request_sha256);
    out->request_bytes = body_len;
    orx_status st = ORX_ERR_NETWORK;
    double delay = o->backoff_s;
    for (int a = 0; a <= o->max_retries; a++) {
        transfer t;
        memset(&t, 0, sizeof t);
        t.req = req;
        t.prompt_tokens = t.completion_tokens = -1;
        t.t0 = orx_now();
        t.t_first = -1;
        t.retry_after_s = -1;
        long status = 0;
        out->attempts = a + 1;
        st = attempt(o, url, body, &t, &status, err);
        out->http_status = (int)status;
        bool retryable = st == ORX_ERR_NETWORK || status == 429 || status >= 500;
        if (st == ORX_OK && status == 200) {
            if (t.streaming) {
                if (t.bad_chunk) st = orx_fail(err, ORX_ERR_PARSE, "%s: a streamed chunk was not valid JSON", shown);
                else if (!t.done && !t.cancelled) st = orx_fail(err, ORX_ERR_NETWORK, "%s: stream ended without [DONE]", shown);
                else {
                    out->content = orx_buf_steal(&t.content);
                    snprintf(out->finish_reason, sizeof out->finish_reason, "%s",
                             t.cancelled ? "cancelled" : (t.finish[0] ? t.finish : "stop"));
                    out->prompt_tokens = t.prompt_tokens;
                    out->completion_tokens = t.completion_tokens;
                    if (t.t_first >= 0) out->t_first_token_s = t.t_first - t.t0;
                }
            } else {
                st = parse_plain(&t, out, shown, err);
                if (st == ORX_OK && req->on_token && out->content[0])
                    req->on_token(req->user, out->content, strlen(out->content));
            }
            retryable = false;
        } else if (st == ORX_OK) {
            remote_error(&t, status, shown, err);
            st = ORX_ERR_NETWORK;
        }
        orx_buf_clear(&t.body);
        orx_buf_clear(&t.line);
        orx_buf_clear(&t.content);
        if (st == ORX_OK || !retryable || a == o->max_retries) break;
        sleep_s(t.retry_after_s >= 0 ? t.retry_after_s : delay);
        delay *= 2;
    }
    if (req->keep_body) out->request_body = body;
    else free(body);
    if (st != ORX_OK && out->attempts > 1) orx_error_prefix(err, "after %d attempts", out->attempts);
    return st;
}

static void openai_free(orx_llm *llm) {
    openai_llm *o = (openai_llm *)llm;
    free(o->base_url);
    free(o->model);
    if (o->api_key) { memset(o->api_key, 0, strlen(o->api_key)); free(o->api_key); }
    free(o);
}

static int openai_count_tokens(orx_llm *llm, const char *text);
static const orx_llm_vtable OPENAI_VT = {"openai", openai_chat, openai_free, openai_count_tokens};

/* ============================================================================================
 * The model's context, from the server's metadata
 * ========================================================================================== */
static size_t on_get(char *p, size_t size, size_t nmemb, void *ud) {
    orx_buf *b = ud;
    if (b->len + size * nmemb > (4u << 20)) return 0; /* metadata is small */
    orx_buf_append(b, p, size * nmemb);
    return size * nmemb;
}

/* GET url (post_body NULL) or POST post_body, as JSON (NULL on any failure: best effort) */
static json_t *fetch_json(const openai_llm *o, const char *url, const char *post_body) {
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    orx_buf b;
    orx_buf_init(&b);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    if (post_body) h = curl_slist_append(h, "Content-Type: application/json");
    char auth[1024];
    if (o->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->api_key);
        h = curl_slist_append(h, auth);
    }
    double t = o->timeout_s < 10 ? o->timeout_s : 10;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_get);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (post_body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(t * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "openrx/" ORX_VERSION);
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_error_t je;
    json_t *j = rc == CURLE_OK && status == 200 && b.len ? json_loadb(b.data, b.len, 0, &je) : NULL;
    orx_buf_clear(&b);
    return j;
}

static int ctx_of_model(json_t *m) {
    json_t *v;
    if ((v = json_object_get(json_object_get(m, "meta"), "n_ctx")) && json_is_integer(v)) return (int)json_integer_value(v);
    if ((v = json_object_get(m, "max_model_len")) && json_is_integer(v)) return (int)json_integer_value(v);
    if ((v = json_object_get(m, "context_length")) && json_is_integer(v)) return (int)json_integer_value(v);
    if ((v = json_object_get(json_object_get(m, "meta"), "n_ctx_train")) && json_is_integer(v)) return (int)json_integer_value(v);
    return 0;
}

static int root_len(const openai_llm *o);

static int probe_ctx(const openai_llm *o) {
    char url[2100];
    snprintf(url, sizeof url, "%.2000s/models", o->base_url);
    json_t *j = fetch_json(o, url, NULL), *data = json_object_get(j, "data"), *m;
    size_t i;
    int n = 0;
    json_array_foreach(data, i, m) {
        const char *id = json_string_value(json_object_get(m, "id"));
        if ((id && !strcmp(id, o->model)) || json_array_size(data) == 1) n = ctx_of_model(m);
        if (n) break;
    }
    json_decref(j);
    if (n > 0) return n;
    /* llama.cpp's /props lives at the server root, next to /v1 */
    int root = root_len(o);
    snprintf(url, sizeof url, "%.*s/props", root < 2000 ? root : 2000, o->base_url);
    j = fetch_json(o, url, NULL);
    json_t *v = json_object_get(json_object_get(j, "default_generation_settings"), "n_ctx");
    if (!json_is_integer(v)) v = json_object_get(j, "n_ctx");
    n = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    json_decref(j);
    return n > 0 ? n : 0;
}

/* the server root (base URL without a trailing "/v1") */
static int root_len(const openai_llm *o) {
    size_t l = strlen(o->base_url);
    return (int)(l >= 3 && !strcmp(o->base_url + l - 3, "/v1") ? l - 3 : l);
}

/* POST {root}/tokenize {"content": text} -> {"tokens": [...]} (llama.cpp's server) */
static int openai_count_tokens(orx_llm *llm, const char *text) {
    openai_llm *o = (openai_llm *)llm;
    if (o->tokenize < 0) return -1;
    char url[2100];
    int rl = root_len(o);
    snprintf(url, sizeof url, "%.*s/tokenize", rl < 2000 ? rl : 2000, o->base_url);
    json_t *body = json_object();
    json_object_set_new(body, "content", json_string(text));
    json_object_set_new(body, "add_special", json_false());
    char *b = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *j = b ? fetch_json(o, url, b) : NULL;
    free(b);
    json_t *toks = json_object_get(j, "tokens");
    int n = json_is_array(toks) ? (int)json_array_size(toks) : -1;
    json_decref(j);
    o->tokenize = n >= 0 ? 1 : -1;
    return n;
}

orx_status orx_llm_openai_create(const orx_openai_params *p, orx_llm **out, orx_error *err) {
    *out = NULL;
    if (!p || !p->base_url || !*p->base_url) return orx_fail(err, ORX_ERR_USAGE, "openai backend needs a base URL");
    if (!orx_str_starts_with(p->base_url, "http://") && !orx_str_starts_with(p->base_url, "https://")) {
        char shown[512];
        orx_url_public(p->base_url, shown, sizeof shown);
        return orx_fail(err, ORX_ERR_INVALID, "base URL '%s' must start with http:// or https://", shown);
    }
    if (!p->model || !*p->model) return orx_fail(err, ORX_ERR_USAGE, "openai backend needs a model name");
    orx_llm_privacy priv;
    orx_status pst = orx_llm_privacy_for(p->base_url, p->allow_remote, p->redact, &priv, err);
    if (pst != ORX_OK) return pst;
    const char *key = NULL;
    if (p->api_key_env && *p->api_key_env) {
        key = getenv(p->api_key_env);
        if (!key || !*key)
            return orx_fail(err, ORX_ERR_INVALID, "environment variable %s (named for the API key) is not set", p->api_key_env);
    }
    pthread_once(&curl_once, curl_init_once);
    openai_llm *o = calloc(1, sizeof *o);
    if (!o) return orx_fail(err, ORX_ERR_NOMEM, "out of memory");
    o->base.vt = &OPENAI_VT;
    snprintf(o->base.name, sizeof o->base.name, "%s", p->model);
    o->base.privacy = priv;
    o->base_url = orx_strdup(p->base_url);
    size_t n = strlen(o->base_url);
    while (n && o->base_url[n - 1] == '/') o->base_url[--n] = '\0';
    o->model = orx_strdup(p->model);
    o->api_key = key ? orx_strdup(key) : NULL;
    o->timeout_s = p->timeout_s > 0 ? p->timeout_s : 120;
    o->connect_timeout_s = p->connect_timeout_s > 0 ? p->connect_timeout_s : 10;
    o->max_retries = p->max_retries >= 0 ? p->max_retries : 0;
    o->backoff_s = p->backoff_s >= 0 ? p->backoff_s : 0.5;
    o->base.n_ctx = p->n_ctx > 0 ? p->n_ctx : p->no_ctx_probe ? 0 : probe_ctx(o);
    *out = &o->base;
    return ORX_OK;
}
