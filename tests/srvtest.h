/*
 * srvtest.h — what the server tests under hostile load share (included by test_server_limits.c,
 * test_server_queue.c and test_server_concurrency.c; static functions, no state):
 *   - a raw HTTP/1.1 client over loopback sockets, from a chosen source address (127.0.0.x), so
 *     headers, bodies, timing and half-finished requests are exactly what a test says;
 *   - a tiny real model written with the GGUF writer (random weights, SentencePiece vocabulary
 *     with byte fallback, a ChatML template) for the local engine: greedy decoding never picks
 *     end-of-text or a raw byte unless a grammar forces it, so a request runs to max_tokens and its
 *     length is set by the test;
 *   - server start-up with the API routes.
 */
#ifndef ORX_SRVTEST_H
#define ORX_SRVTEST_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strcasestr */
#endif
#include "testutil.h"
#include "engine/cpu/quant.h"
#include "gguf/gguf.h"
#include "server/api.h"
#include "server/static.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ============================================================================================
 * Raw HTTP client
 * ========================================================================================== */
static inline double st_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Connected socket to 127.0.0.1:port from source address src ("127.0.0.2"; NULL = any), or -1. */
static inline int st_connect(int port, const char *src, double rcv_timeout_s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (src) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &b.sin_addr);
        if (bind(fd, (struct sockaddr *)&b, sizeof b) != 0) { close(fd); return -1; }
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return -1; }
    struct timeval tv = {(time_t)rcv_timeout_s, (suseconds_t)((rcv_timeout_s - (time_t)rcv_timeout_s) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static inline bool st_send(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

typedef struct st_reply {
    int     status;  /* HTTP status, 0 if none arrived */
    char   *head;    /* status line + headers (malloc'd) */
    char   *body;    /* body (malloc'd) */
    json_t *json;    /* body parsed, or NULL */
    double  seconds; /* from sending to the end of the reply */
} st_reply;

static inline void st_reply_free(st_reply *r) {
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Read to EOF (or the socket's receive timeout) and parse one reply. */
static inline st_reply st_read(int fd, double t0) {
    orx_buf in;
    orx_buf_init(&in);
    char chunk[8192];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0) orx_buf_append(&in, chunk, (size_t)n);
    st_reply r = {0};
    r.seconds = st_now() - t0;
    const char *sep = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
    if (sep) {
        r.head = strndup(in.data, (size_t)(sep - in.data));
        r.body = strdup(sep + 4);
        sscanf(in.data, "HTTP/1.%*d %d", &r.status);
        json_error_t je;
        r.json = json_loads(r.body, 0, &je);
    }
    orx_buf_clear(&in);
    return r;
}

/* Seconds a client waits for a reply (tests under ThreadSanitizer wait longer). */
static double st_reply_timeout_s = 60;

/* One request (Connection: close) from src; headers are "Name: value\r\n" lines. */
static inline st_reply st_http(int port, const char *src, const char *method, const char *path, const char *headers,
                               const char *body) {
    int fd = st_connect(port, src, st_reply_timeout_s);
    if (fd < 0) return (st_reply){0};
    orx_buf req;
    orx_buf_init(&req);
    orx_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method, path, headers ? headers : "");
    if (body) orx_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    else orx_buf_puts(&req, "\r\n");
    double t0 = st_now();
    st_send(fd, req.data, req.len);
    orx_buf_clear(&req);
    st_reply r = st_read(fd, t0);
    close(fd);
    return r;
}

/* True when the peer closed the connection within timeout_s (EOF or reset). */
static inline bool st_closed_within(int fd, double timeout_s) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    double until = st_now() + timeout_s;
    while (st_now() < until) {
        int ms = (int)((until - st_now()) * 1000) + 1;
        if (poll(&p, 1, ms) <= 0) continue;
        char b[512];
        ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return true;
    }
    return false;
}

static inline const char *st_header(const st_reply *r, const char *name) {
    static char val[256];
    if (!r->head) return NULL;
    for (const char *p = r->head; (p = strcasestr(p, name)); p++) {
        if (p == r->head || p[-1] != '\n' || p[strlen(name)] != ':') continue;
        const char *v = p + strlen(name) + 1;
        while (*v == ' ') v++;
        size_t n = strcspn(v, "\r\n");
        snprintf(val, sizeof val, "%.*s", (int)n, v);
        return val;
    }
    return NULL;
}

/* ============================================================================================
 * A tiny real model
 * ========================================================================================== */
static inline uint64_t st_rng(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static inline void st_tensor(orx_gguf_writer *w, const char *name, int64_t ne0, int64_t ne1, uint64_t *rng,
                             int zero_rows_below, float bias) {
    float *f = malloc(sizeof(float) * (size_t)(ne0 * ne1));
    for (int64_t r = 0; r < ne1; r++)
        for (int64_t i = 0; i < ne0; i++)
            f[r * ne0 + i] = r < zero_rows_below ? 0.0f : bias + ((float)(st_rng(rng) % 2000) / 1000.0f - 1.0f) * 0.3f;
    int64_t ne[2] = {ne0, ne1};
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_gguf_writer_add_tensor(w, name, ORX_TYPE_F32, ne1 > 1 ? 2 : 1, ne, f, true, &e), ORX_OK);
    free(f);
}

/* Writes a llama-architecture model: n_embd, n_layer, vocabulary of 3 control tokens, 256 byte
 * tokens and filler words "w0".."wK" up to n_vocab. The output rows of the control and byte tokens
 * are zero (logit 0) while the words' are random, so greedy decoding picks a word every time. */
static inline void st_write_model(const char *path, int n_embd, int n_layer, int n_vocab) {
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    assert_non_null(w);
    int n_head = 4, n_ff = 2 * n_embd;
    orx_gguf_writer_set_str(w, "general.architecture", "llama", &e);
    orx_gguf_writer_set_str(w, "general.name", "srvtest-tiny", &e);
    orx_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)n_embd, &e);
    orx_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)n_layer, &e);
    orx_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)n_ff, &e);
    orx_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)n_head, &e);
    orx_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)n_head, &e);
    orx_gguf_writer_set_u32(w, "llama.context_length", 16384, &e);
    orx_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &e);
    char **toks = calloc((size_t)n_vocab, sizeof *toks);
    float *scores = calloc((size_t)n_vocab, sizeof *scores);
    int32_t *types = calloc((size_t)n_vocab, sizeof *types);
    for (int i = 0; i < n_vocab; i++) {
        char t[32];
        if (i == 0) snprintf(t, sizeof t, "<unk>");
        else if (i == 1) snprintf(t, sizeof t, "<s>");
        else if (i == 2) snprintf(t, sizeof t, "</s>");
        else if (i < 3 + 256) snprintf(t, sizeof t, "<0x%02X>", i - 3);
        else snprintf(t, sizeof t, "\xe2\x96\x81w%d", i - 259);
        toks[i] = strdup(t);
        types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
        scores[i] = i < 259 ? 0.0f : -(float)i;
    }
    assert_int_equal(orx_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", &e), ORX_OK);
    orx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, NULL, (uint64_t)n_vocab, &e);
    orx_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ORX_GGUF_FLOAT32, scores, (uint64_t)n_vocab, &e);
    orx_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ORX_GGUF_INT32, types, (uint64_t)n_vocab, &e);
    orx_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, &e);
    orx_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, &e);
    orx_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, &e);
    orx_gguf_writer_set_str(w, "tokenizer.chat_template",
                            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                            "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}", &e);
    assert_int_equal(e.code, ORX_OK);
    for (int i = 0; i < n_vocab; i++) free(toks[i]);
    free(toks);
    free(scores);
    free(types);
    uint64_t rng = 12345;
    st_tensor(w, "token_embd.weight", n_embd, n_vocab, &rng, 0, 0);
    st_tensor(w, "output.weight", n_embd, n_vocab, &rng, 259, 0);
    st_tensor(w, "output_norm.weight", n_embd, 1, &rng, 0, 1);
    for (int l = 0; l < n_layer; l++) {
        char n[64];
#define ST_T(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
        st_tensor(w, ST_T("attn_norm.weight"), n_embd, 1, &rng, 0, 1);
        st_tensor(w, ST_T("ffn_norm.weight"), n_embd, 1, &rng, 0, 1);
        st_tensor(w, ST_T("attn_q.weight"), n_embd, n_embd, &rng, 0, 0);
        st_tensor(w, ST_T("attn_k.weight"), n_embd, n_embd, &rng, 0, 0);
        st_tensor(w, ST_T("attn_v.weight"), n_embd, n_embd, &rng, 0, 0);
        st_tensor(w, ST_T("attn_output.weight"), n_embd, n_embd, &rng, 0, 0);
        st_tensor(w, ST_T("ffn_gate.weight"), n_embd, n_ff, &rng, 0, 0);
        st_tensor(w, ST_T("ffn_up.weight"), n_embd, n_ff, &rng, 0, 0);
        st_tensor(w, ST_T("ffn_down.weight"), n_ff, n_embd, &rng, 0, 0);
#undef ST_T
    }
    assert_int_equal(orx_gguf_writer_write(w, path, NULL, NULL, &e), ORX_OK);
    orx_gguf_writer_free(w);
}

/* ============================================================================================
 * Server with the API routes
 * ========================================================================================== */
typedef struct st_server {
    orx_server *srv; /* the server */
    orx_api     api; /* its routes' context (must outlive the server) */
} st_server;

/* Start on a free port with p's limits; llm and retriever may be NULL. */
static inline void st_start(st_server *t, orx_server_params p, const orx_checker *ck, orx_llm *llm,
                            const orx_retriever *ret, const char *audit) {
    p.port = 0;
    orx_error err = ORX_ERROR_INIT;
    if (orx_server_start(&p, &t->srv, &err) != ORX_OK) fprintf(stderr, "server: %s\n", err.msg);
    assert_non_null(t->srv);
    orx_server_set_llm(t->srv, llm);
    t->api = (orx_api){.srv = t->srv, .checker = ck, .retriever = ret, .llm = orx_server_llm(t->srv), .audit_path = audit};
    assert_int_equal(orx_api_register(&t->api, &err), ORX_OK);
    assert_int_equal(orx_static_register(t->srv, NULL, &err), ORX_OK);
    assert_int_equal(orx_server_route_uses_model(t->srv, "POST", "/v1/recommend"), ORX_OK);
    orx_server_set_ready(t->srv, true);
}

static inline orx_checker *st_checker(void) {
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = orx_test_path("%s/data", orx_test_source_dir());
    orx_checker *ck = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_checker_create(&cp, &ck, &err) != ORX_OK) fprintf(stderr, "checker: %s\n", err.msg);
    return ck;
}

static const char *ST_CHECK =
    "{\"patient\": {\"openrx_patient\": 1, \"birthDate\": \"1950-01-01\", \"sex\": \"female\","
    " \"medications\": [{\"text\": \"warfarin sodium 5 MG Oral Tablet\"}]},"
    " \"drugs\": [\"ibuprofen 400 mg orally every 6 hours\"]}";

#endif /* ORX_SRVTEST_H */
