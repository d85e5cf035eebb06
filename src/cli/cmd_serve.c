/* cmd_serve.c — `openrx serve`: the HTTP server (OpenAI-compatible API and more). */
#include "cli/cli.h"
#include "llm/llm.h"
#include "server/server.h"
#include "server/api.h"
#include "server/static.h" /* clinician page at / [helper W] */
#include "cli/backend_opts.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void usage(FILE *f) {
    fprintf(f,
        "Usage: openrx serve [-m MODEL.gguf | --backend openai --base-url URL --model-name NAME\n"
        "                    [--api-key-env VAR]] [--host 127.0.0.1] [--port 8080]\n"
        "                    [--api-key-file FILE] [--max-body BYTES] [-t THREADS]\n"
        "                    [--kb FILE] [--data DIR] [--audit FILE] [--web DIR]\n\n"
        "Routes: GET / (clinician page), GET /health, GET /v1/models, POST /v1/chat/completions (OpenAI shapes, SSE\n"
        "streaming), POST /v1/check, POST /v1/recommend, CDS Hooks 2.0: GET /cds-services,\n"
        "POST /cds-services/openrx-order-select, POST /cds-services/openrx-order-sign (+ /feedback).\n"
        "A non-loopback --host requires --api-key-file (Bearer key). Ctrl-C stops.\n\n"
        "Options:\n"
        "  -m, --model FILE        local GGUF model (our engine)\n"
        "      --backend KIND      local (default with -m) or openai (forward to another server)\n"
        "      --base-url URL      openai backend: base URL ending in /v1\n"
        "      --model-name NAME   openai backend: model name\n"
        "      --api-key-env VAR   openai backend: environment variable holding its API key\n"
        "      --host ADDR         bind address (default 127.0.0.1)\n"
        "      --port N            port (default 8080; 0 picks a free one and prints it)\n"
        "      --api-key-file FILE file holding the key clients must send as Bearer\n"
        "      --max-body BYTES    largest request body (default 1048576)\n"
        "  -t, --threads N         engine threads (local backend)\n"
        "      --kb FILE           knowledge base for /v1/recommend (default $ORX_KB, kb.sqlite, build/kb.sqlite)\n"
        "      --data DIR          project data/ folder (lexicon, rule tables)\n"
        "      --audit FILE        audit log of recommendations (default openrx-audit.jsonl; 'none' = off)\n"
        "      --web DIR           serve the page from DIR (e.g. web/) instead of the built-in copy\n"
        "  -h, --help              this help\n");
}

static char *read_key_file(const char *path, orx_error *err) {
    char *data;
    size_t len;
    if (orx_read_file(path, 4096, &data, &len, err) != ORX_OK) return NULL;
    char *k = orx_strdup(orx_str_trim(data));
    free(data);
    if (!*k) { free(k); orx_fail(err, ORX_ERR_INVALID, "%s: API key file is empty", path); return NULL; }
    return k;
}

int cmd_serve(int argc, char **argv) {
    orx_backend_opts bo;
    orx_backend_opts_init(&bo);
    orx_server_params sp = orx_server_default_params();
    orx_static web = {0};
    const char *key_file = NULL, *kb = NULL, *data_dir = NULL, *audit = "openrx-audit.jsonl";
    static const struct option opts[] = {
        ORX_BACKEND_LONG_OPTS,
        {"host", required_argument, 0, 'H'}, {"port", required_argument, 0, 'P'},
        {"api-key-file", required_argument, 0, 'K'}, {"max-body", required_argument, 0, 'B'},
        {"kb", required_argument, 0, 0x301}, {"data", required_argument, 0, 0x302}, {"audit", required_argument, 0, 0x303}, {"web", required_argument, 0, 0x304},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "m:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': sp.host = optarg; break;
        case 'P':
            if (!orx_cli_parse_int(optarg, 0, 65535, &v)) return orx_cli_usage("serve", "--port: '%s' is not a port number", optarg);
            sp.port = (int)v;
            break;
        case 'K': key_file = optarg; break;
        case 0x301: kb = optarg; break;
        case 0x302: data_dir = optarg; break;
        case 0x304: web.web_dir = optarg; break;
        case 0x303: audit = strcmp(optarg, "none") ? optarg : NULL; break;
        case 'B':
            if (!orx_cli_parse_int(optarg, 1024, 1L << 30, &v)) return orx_cli_usage("serve", "--max-body: '%s' must be 1024..2^30", optarg);
            sp.max_body = (size_t)v;
            break;
        case 'h': usage(stdout); return 0;
        default: {
            int r = orx_backend_opts_parse(&bo, c, optarg, "serve");
            if (r == 1) break;
            if (r == 2) return 2;
            return orx_cli_usage("serve", "unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    if (optind < argc) return orx_cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    orx_error err = ORX_ERROR_INIT;
    char *key = NULL;
    if (key_file && !(key = read_key_file(key_file, &err))) return orx_cli_fail(err.code, &err);
    sp.api_key = key;
    orx_server *srv = NULL;
    orx_status st = orx_server_start(&sp, &srv, &err);
    if (st != ORX_OK) { free(key); return orx_cli_fail(st, &err); }
    fprintf(stderr, "openrx: listening on http://%s:%d (loading model…)\n", sp.host, orx_server_port(srv));
    orx_llm *llm = NULL;
    if (orx_backend_opts_given(&bo)) {
        st = orx_backend_opts_create(&bo, &llm, &err);
        if (st != ORX_OK) { orx_server_stop(srv); free(key); return orx_cli_fail(st, &err); }
    }
    orx_server_set_llm(srv, llm);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = data_dir;
    orx_checker *ck = NULL;
    orx_retriever ret = {0};
    bool have_ret = false;
    if ((st = orx_checker_create(&cp, &ck, &err)) != ORX_OK) goto fail;
    if (!kb) kb = orx_kb_find_default();
    if (kb) {
        if ((st = orx_kb_retriever_bm25(kb, &ret, &err)) != ORX_OK) goto fail;
        have_ret = true;
    } else {
        fprintf(stderr, "openrx: no knowledge base (--kb); /v1/recommend runs without evidence\n");
    }
    orx_api api = {.srv = srv, .checker = ck, .retriever = have_ret ? &ret : NULL, .llm = llm, .audit_path = audit};
    if ((st = orx_api_register(&api, &err)) != ORX_OK) goto fail;
    if ((st = orx_static_register(srv, &web, &err)) != ORX_OK) goto fail;
    orx_server_set_ready(srv, true);
    printf("openrx: ready on http://%s:%d  model: %s\n", sp.host, orx_server_port(srv), llm ? orx_llm_name(llm) : "(none)");
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!g_stop) pause();
    fprintf(stderr, "openrx: stopping\n");
    orx_server_stop(srv);
    if (have_ret) ret.free(ret.self);
    orx_checker_free(ck);
    orx_llm_free(llm);
    free(key);
    return 0;
fail:
    orx_server_stop(srv);
    if (have_ret) ret.free(ret.self);
    orx_checker_free(ck);
    orx_llm_free(llm);
    free(key);
    return orx_cli_fail(st, &err);
}
