/*
 * fuzz_http.c — the HTTP request path through the real server: libmicrohttpd's parser (request
 * line, headers, chunked bodies) and then ours (URL checks, auth before body, limits, routing,
 * the JSON handlers of /v1/check, /v1/recommend (evidence mode), CDS Hooks, chat completions
 * without a model). Two servers run in this process, one without and one with an API key; the
 * first input byte picks one, the rest is sent as raw bytes over TCP, the write side is closed,
 * and the reply is read to the end. A server that does not close within 10 s is a hang (abort).
 */
#include "fuzz.h"
#include "server/server.h"
#include "server/api.h"
#include "server/static.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static orx_server *g_srv[2];
static orx_api g_api[2];
static orx_checker *g_ck;

static void start(int i, const char *key) {
    orx_server_params sp = orx_server_default_params();
    sp.port = 0;
    sp.api_key = key;
    sp.max_body = 64 * 1024;
    sp.request_timeout_s = 5;
    orx_error err = ORX_ERROR_INIT;
    if (orx_server_start(&sp, &g_srv[i], &err) != ORX_OK) { fprintf(stderr, "fuzz_http: %s\n", err.msg); abort(); }
    g_api[i] = (orx_api){.srv = g_srv[i], .checker = g_ck, .retriever = NULL, .llm = NULL, .audit_path = NULL};
    if (orx_api_register(&g_api[i], &err) != ORX_OK || orx_static_register(g_srv[i], NULL, &err) != ORX_OK) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        abort();
    }
    orx_server_set_ready(g_srv[i], true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static char data_dir[4096];
    snprintf(data_dir, sizeof data_dir, "%s/data", orx_fuzz_source_dir());
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = data_dir;
    orx_error err = ORX_ERROR_INIT;
    if (orx_checker_create(&cp, &g_ck, &err) != ORX_OK) { fprintf(stderr, "fuzz_http: %s\n", err.msg); abort(); }
    start(0, NULL);
    start(1, "fuzz-key-0123456789");
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size || size > 256 * 1024) return 0;
    orx_server *s = g_srv[data[0] & 1];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)orx_server_port(s))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct linger lg = {1, 0}; /* RST on close: no TIME_WAIT pile-up at thousands of runs/s */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return 0; }
    size_t off = 1;
    if (off >= size) shutdown(fd, SHUT_WR);
    double t0 = now_s();
    char buf[16384];
    bool eof = false;
    while (!eof) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (off < size ? POLLOUT : 0)};
        int r = poll(&p, 1, 100);
        if (now_s() - t0 > 10) { fprintf(stderr, "fuzz_http: the server did not close the connection in 10 s\n"); abort(); }
        if (r <= 0) continue;
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) off = size; /* server closed early */
            if (off >= size) shutdown(fd, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) eof = true;
        }
    }
    close(fd);
    return 0;
}
