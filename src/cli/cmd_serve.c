/* cmd_serve.c — `openrx serve`: the HTTP server (OpenAI-compatible API and more). */
#include "cli/cli.h"
#include "llm/llm.h"
#include "server/server.h"
#include "server/api.h"
#include "server/fhir_fetch.h"
#include "server/static.h" /* clinician page at / */
#include "cli/backend_opts.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

/* Idle and slow connections each hold a descriptor: raise the soft open-file limit to the hard one. */
static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max) return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static bool parse_seconds(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void usage(FILE *f) {
    fprintf(f,
        "Usage: openrx serve [-m MODEL.gguf | --backend openai --base-url URL --model-name NAME\n"
        "                    [--api-key-env VAR] [--allow-remote] [--redact]] [--host 127.0.0.1] [--port 8080]\n"
        "                    [--api-key-file FILE] [--max-body BYTES] [-t THREADS]\n"
        "                    [--kb FILE] [--data DIR] [--audit FILE] [--audit-full] [--web DIR] [limits]\n\n"
        "Routes: GET / (clinician page), GET /health, GET /v1/models, POST /v1/chat/completions (OpenAI shapes, SSE\n"
        "streaming), POST /v1/check, POST /v1/recommend, CDS Hooks 2.0: GET /cds-services,\n"
        "POST /cds-services/openrx-order-select, POST /cds-services/openrx-order-sign (+ /feedback).\n"
        "GET /metrics (Prometheus text) needs the key like the API routes.\n"
        "A non-loopback --host requires --api-key-file (Bearer key). SIGINT/SIGTERM stop gracefully: no new\n"
        "connections, queued and running model requests finish (up to --drain-timeout), then exit.\n\n"
        "Options:\n"
        "  -m, --model FILE        local GGUF model (our engine)\n"
        "      --backend KIND      local (default with -m) or openai (forward to another server)\n"
        "      --base-url URL      openai backend: base URL ending in /v1\n"
        "      --model-name NAME   openai backend: model name\n"
        "      --api-key-env VAR   openai backend: environment variable holding its API key\n"
        "      --allow-remote      openai backend: consent to a host that is not this machine (patient data\n"
        "                          leaves it, de-identified); without it such a host is refused (exit 2)\n"
        "      --redact            openai backend: de-identify patient data for a loopback host too\n"
        "      --host ADDR         bind address (default 127.0.0.1)\n"
        "      --port N            port (default 8080; 0 picks a free one and prints it)\n"
        "      --api-key-file FILE file holding the key clients must send as Bearer\n"
        "      --max-body BYTES    largest request body (default 1048576)\n"
        "  -t, --threads N         engine threads (local backend)\n"
        "      --slots N           local backend: keep N prompt-prefix KV caches (1..16, default 1); a\n"
        "                          request reuses the one sharing its longest prefix (each costs a KV cache)\n"
        "      --draft FILE        local backend: a small GGUF model with the same vocabulary drafts\n"
        "                          tokens the model verifies in one pass (same answer, fewer passes)\n"
        "      --draft-max N       its longest draft, 1..64 (default 8)\n"
        "      --kb FILE           knowledge base for /v1/recommend (default $ORX_KB, kb.sqlite, build/kb.sqlite)\n"
        "      --data DIR          project data/ folder (lexicon, rule tables)\n"
        "      --audit FILE        audit log of recommendations (default openrx-audit.jsonl; 'none' = off)\n"
        "      --audit-full        audit records hold each request body sent to the openai backend\n"
        "      --web DIR           serve the page from DIR (e.g. web/) instead of the built-in copy\n"
        "  -h, --help              this help\n\n"
        "Limits (hostile or overloaded clients):\n"
        "      --http-threads N       event-loop threads (default: CPU count, 2..16)\n"
        "      --max-conn N           open connections in all (default 4096; lowered to fit the open-file limit);\n"
        "                             above it only GET /health is answered, others get 503\n"
        "      --max-conn-per-ip N    open connections per client address (default 256; 0 = no limit)\n"
        "      --header-timeout S     seconds to send a request's headers (default 10)\n"
        "      --body-timeout S       seconds to send its body after the headers (default 30)\n"
        "      --idle-timeout S       close a connection without any traffic after S seconds (default 60)\n"
        "      --queue N              model requests that may wait (default 16); more get 503 + Retry-After\n"
        "      --deadline S           a model request's limit, queue wait included (default 300) -> 504\n"
        "      --drain-timeout S      on SIGTERM, wait this long for model requests (default 30)\n"
        "      --fhir-timeout S       CDS Hooks reads from the request's fhirServer: all of them within S (default 10)\n"
        "      --fhir-allow URL       read only from fhirServer URLs under URL (repeatable; same scheme, host and port,\n"
        "                             path URL's or below it); others get 403. Default: any fhirServer\n");
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
    bool audit_full = false;
    static const struct option opts[] = {
        ORX_BACKEND_LONG_OPTS,
        {"host", required_argument, 0, 'H'}, {"port", required_argument, 0, 'P'},
        {"api-key-file", required_argument, 0, 'K'}, {"max-body", required_argument, 0, 'B'},
        {"kb", required_argument, 0, 0x301}, {"data", required_argument, 0, 0x302}, {"audit", required_argument, 0, 0x303}, {"web", required_argument, 0, 0x304},
        {"audit-full", no_argument, 0, 0x305},
        {"http-threads", required_argument, 0, 0x310}, {"max-conn", required_argument, 0, 0x311},
        {"max-conn-per-ip", required_argument, 0, 0x312}, {"header-timeout", required_argument, 0, 0x313},
        {"body-timeout", required_argument, 0, 0x314}, {"idle-timeout", required_argument, 0, 0x315},
        {"queue", required_argument, 0, 0x316}, {"deadline", required_argument, 0, 0x317},
        {"drain-timeout", required_argument, 0, 0x318}, {"fhir-timeout", required_argument, 0, 0x319},
        {"fhir-allow", required_argument, 0, 0x31a},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    long v;
    double drain_s = 30, fhir_timeout_s = 0;
    enum { MAX_FHIR_ALLOW = 64 };
    const char *fhir_allow[MAX_FHIR_ALLOW];
    size_t n_fhir_allow = 0;
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
        case 0x305: audit_full = true; break;
        case 0x303: audit = strcmp(optarg, "none") ? optarg : NULL; break;
        case 'B':
            if (!orx_cli_parse_int(optarg, 1024, 1L << 30, &v)) return orx_cli_usage("serve", "--max-body: '%s' must be 1024..2^30", optarg);
            sp.max_body = (size_t)v;
            break;
        case 0x310: if (!orx_cli_opt_int("serve", "--http-threads", optarg, 1, 64, &sp.http_threads)) return 2; break;
        case 0x311: if (!orx_cli_opt_int("serve", "--max-conn", optarg, 16, 1000000, &sp.max_connections)) return 2; break;
        case 0x312: if (!orx_cli_opt_int("serve", "--max-conn-per-ip", optarg, 0, 1000000, &sp.max_connections_per_ip)) return 2; break;
        case 0x316: if (!orx_cli_opt_int("serve", "--queue", optarg, 1, 100000, &sp.queue_max)) return 2; break;
        case 0x313: case 0x314: case 0x315: case 0x317: case 0x318: case 0x319: {
            double sec;
            static const char *const NAMES[] = {"--header-timeout", "--body-timeout", "--idle-timeout", "", "", "", "--deadline", "--drain-timeout", "--fhir-timeout"};
            if (!parse_seconds(optarg, 0.1, 86400, &sec))
                return orx_cli_usage("serve", "%s: '%s' must be a number of seconds (0.1..86400)", NAMES[c - 0x313], optarg);
            if (c == 0x313) sp.header_timeout_s = sec;
            else if (c == 0x314) sp.body_timeout_s = sec;
            else if (c == 0x315) sp.request_timeout_s = sec;
            else if (c == 0x317) sp.request_deadline_s = sec;
            else if (c == 0x318) drain_s = sec;
            else fhir_timeout_s = sec;
            break;
        }
        case 0x31a: {
            orx_error ue = ORX_ERROR_INIT;
            if (orx_fhir_fetch_check(optarg, "x", NULL, &ue) != ORX_OK)
                return orx_cli_usage("serve", "--fhir-allow: '%s': %s", optarg, ue.msg);
            if (n_fhir_allow == MAX_FHIR_ALLOW)
                return orx_cli_usage("serve", "--fhir-allow: at most %d FHIR servers", MAX_FHIR_ALLOW);
            fhir_allow[n_fhir_allow++] = optarg;
            break;
        }
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
    raise_nofile();
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
        /* one knowledge-base handle per concurrent caller: event-loop threads + the model worker */
        int members = orx_server_limits(srv)->http_threads + 1;
        if ((st = orx_kb_retriever_bm25_pool(kb, members, &ret, &err)) != ORX_OK) goto fail;
        have_ret = true;
    } else {
        fprintf(stderr, "openrx: no knowledge base (--kb); /v1/recommend runs without evidence\n");
    }
    orx_api api = {.srv = srv, .checker = ck, .retriever = have_ret ? &ret : NULL, .llm = orx_server_llm(srv), .audit_path = audit,
                   .audit_full = audit_full, .fhir_timeout_s = fhir_timeout_s, .fhir_allow = fhir_allow,
                   .n_fhir_allow = n_fhir_allow};
    if (!n_fhir_allow)
        fprintf(stderr, "openrx: CDS Hooks requests may name any fhirServer to read the record from; "
                        "--fhir-allow URL limits them to your EHR's\n");
    if ((st = orx_api_register(&api, &err)) != ORX_OK) goto fail;
    if ((st = orx_server_route_uses_model(srv, "POST", "/v1/recommend")) != ORX_OK) goto fail;
    if ((st = orx_static_register(srv, &web, &err)) != ORX_OK) goto fail;
    orx_server_set_ready(srv, true);
    const orx_server_params *lim = orx_server_limits(srv);
    printf("openrx: ready on http://%s:%d  model: %s\n", sp.host, orx_server_port(srv), llm ? orx_llm_name(llm) : "(none)");
    if (llm && orx_llm_get_privacy(llm)->remote)
        fprintf(stderr, "openrx: REMOTE model at %s (consent given): /v1/recommend sends it de-identified patient "
                        "summaries; each request's SHA-256 goes to the audit log\n", orx_llm_get_privacy(llm)->host);
    fprintf(stderr, "openrx: limits: %d http threads, %d connections (%d per address), headers %.0f s, body %.0f s, "
                    "idle %.0f s, model queue %d, deadline %.0f s\n",
            lim->http_threads, lim->max_connections, lim->max_connections_per_ip, lim->header_timeout_s,
            lim->body_timeout_s, lim->request_timeout_s, lim->queue_max, lim->request_deadline_s);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!g_stop) pause();
    fprintf(stderr, "openrx: stopping: draining model requests (up to %.0f s)\n", drain_s);
    bool in_time = orx_server_drain(srv, drain_s);
    fprintf(stderr, "openrx: %s; audit records are written and synced per request\n",
            in_time ? "drained" : "drain timed out: the rest was cancelled");
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
