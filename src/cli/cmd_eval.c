/* cmd_eval.c — `openrx eval run|report|review|review-import|validate`: the evaluation harness. */
#include "cli/cli.h"
#include "eval/eval.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "Usage: openrx eval run --cases FILE --out DIR [--model A.gguf]... [--backend openai:URL,NAME[,KEYENV]]...\n"
        "                       [--evidence] [--rag on,off] [--repeat N] [--seed S] [--jobs J] [--kb FILE]\n"
        "                       [--max-tokens N] [--temp T] [-k N] [--threads N] [--timeout S] [--limit N]\n"
        "                       [--no-reask] [--data DIR] [--allow-remote] [--redact] [--json]\n"
        "       openrx eval report DIR [--json]\n"
        "       openrx eval review DIR --out packet.html [--seed S]\n"
        "       openrx eval review-import DIR scores.csv\n"
        "       openrx eval validate FILE [--json]\n\n"
        "Runs every model x RAG arm x case of a case file (format: data/cases/README.md) through the\n"
        "recommend pipeline (or the multiple-choice prompt), scores each answer against the case's\n"
        "sourced truth and writes one fsynced JSONL record per unit to DIR/results.jsonl. Rerunning the\n"
        "same command continues a killed run without redoing finished units. 'report' writes\n"
        "DIR/report.html and DIR/report.json; 'review' writes a blinded packet for clinicians.\n"
        "Medical quality needs a real model: tiny or random-weight models only test the machinery.\n\n"
        "Run options:\n"
        "      --cases FILE        case file (JSONL)\n"
        "      --out DIR           run folder (created; reused to resume)\n"
        "  -m, --model FILE        local GGUF model (repeatable)\n"
        "      --backend SPEC      openai:URL,NAME[,KEYENV]: OpenAI-compatible server; KEYENV names the\n"
        "                          environment variable holding the API key (repeatable)\n"
        "      --allow-remote      consent for --backend hosts that are not this machine (their arms get the\n"
        "                          de-identified patient summary; marked remote in the report); without it\n"
        "                          such an arm is refused before anything runs (exit 2)\n"
        "      --redact            de-identify the patient summary for loopback --backend arms too\n"
        "      --evidence          add the no-model arm (retrieval + checks only; always abstains)\n"
        "      --rag on,off        RAG arms: on, off or on,off (default on,off)\n"
        "      --repeat N          repetitions per case and arm, seed S+rep (default 1)\n"
        "      --seed S            base sampling seed (default 0)\n"
        "      --jobs J            worker threads, each with its own backends (default 1)\n"
        "      --kb FILE           knowledge base for the RAG arm (default $ORX_KB, kb.sqlite, build/kb.sqlite)\n"
        "      --max-tokens N      generation limit (default 512)\n"
        "      --temp T            temperature (default 0)\n"
        "  -k N                    evidence sections (default 6)\n"
        "  -t, --threads N         local engine threads per worker\n"
        "      --timeout S         openai request timeout, seconds\n"
        "      --limit N           only the first N cases\n"
        "      --no-reask          no re-ask after a contraindicated/major finding\n"
        "      --data DIR          project data/ folder (lexicon, rule tables)\n"
        "      --json              print the run summary as JSON\n"
        "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input.\n");
}

static void progress_cb(void *user, uint64_t done, uint64_t total) {
    orx_progress *p = user;
    if (p->total != total) orx_progress_start(p, "eval", total);
    orx_progress_update(p, done);
}

/* ============================================================================================
 * run
 * ========================================================================================== */
#define MAX_MODELS 16

static int eval_run(int argc, char **argv) {
    orx_eval_run_params p = orx_eval_default_run_params();
    orx_eval_model_spec models[MAX_MODELS];
    int nm = 0;
    bool json = false;
    const char *kb = NULL;
    static const struct option opts[] = {
        {"cases", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'}, {"model", required_argument, 0, 'm'},
        {"backend", required_argument, 0, 'b'}, {"evidence", no_argument, 0, 'e'}, {"rag", required_argument, 0, 'r'},
        {"repeat", required_argument, 0, 'n'}, {"seed", required_argument, 0, 's'}, {"jobs", required_argument, 0, 'j'},
        {"kb", required_argument, 0, 0x301}, {"max-tokens", required_argument, 0, 0x302}, {"temp", required_argument, 0, 0x303},
        {"threads", required_argument, 0, 't'}, {"timeout", required_argument, 0, 0x304}, {"limit", required_argument, 0, 0x305},
        {"no-reask", no_argument, 0, 0x306}, {"data", required_argument, 0, 0x307}, {"json", no_argument, 0, 0x308},
        {"allow-remote", no_argument, 0, 0x309}, {"redact", no_argument, 0, 0x30a},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    double d;
    orx_error err = ORX_ERROR_INIT;
    while ((c = getopt_long(argc, argv, "m:k:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': p.cases_path = optarg; break;
        case 'o': p.out_dir = optarg; break;
        case 'm': case 'b': case 'e':
            if (nm == MAX_MODELS) return orx_cli_usage("eval", "at most %d models", MAX_MODELS);
            if (orx_eval_model_parse(c == 'e' ? "evidence" : optarg, c == 'm', &models[nm], &err) != ORX_OK)
                return orx_cli_usage("eval", "%s", err.msg);
            nm++;
            break;
        case 'r':
            if (!strcmp(optarg, "on,off") || !strcmp(optarg, "off,on")) p.rag_on = p.rag_off = true;
            else if (!strcmp(optarg, "on")) { p.rag_on = true; p.rag_off = false; }
            else if (!strcmp(optarg, "off")) { p.rag_on = false; p.rag_off = true; }
            else return orx_cli_usage("eval", "--rag must be on, off or on,off (got '%s')", optarg);
            break;
        case 'n': if (!orx_cli_opt_int("eval", "--repeat", optarg, 1, 1000, &p.repeat)) return 2; break;
        case 's': if (!orx_cli_opt_seed("eval", "--seed", optarg, &p.seed)) return 2; break;
        case 'j': if (!orx_cli_opt_int("eval", "--jobs", optarg, 1, 64, &p.jobs)) return 2; break;
        case 0x301: kb = optarg; break;
        case 0x302: if (!orx_cli_opt_int("eval", "--max-tokens", optarg, 16, 8192, &p.max_tokens)) return 2; break;
        case 0x303:
            if (!orx_cli_opt_double("eval", "--temp", optarg, 0, 2, &d)) return 2;
            p.temperature = (float)d;
            break;
        case 'k': if (!orx_cli_opt_int("eval", "-k", optarg, 1, 50, &p.k)) return 2; break;
        case 't': if (!orx_cli_opt_int("eval", "--threads", optarg, 1, 512, &p.threads)) return 2; break;
        case 0x304:
            if (!orx_cli_parse_double(optarg, 0.1, 86400, &d)) return orx_cli_usage("eval", "--timeout: '%s' must be 0.1..86400 s", optarg);
            p.timeout_s = d;
            break;
        case 0x305: if (!orx_cli_opt_int("eval", "--limit", optarg, 1, 100000, &p.limit)) return 2; break;
        case 0x306: p.reask = false; break;
        case 0x307: p.data_dir = optarg; break;
        case 0x308: json = true; break;
        case 0x309: p.allow_remote = true; break;
        case 0x30a: p.redact = true; break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return orx_cli_usage("eval", "unexpected argument '%s'", argv[optind]);
    if (!p.cases_path) return orx_cli_usage("eval", "run: --cases FILE is required");
    if (!p.out_dir) return orx_cli_usage("eval", "run: --out DIR is required");
    if (nm == 0) return orx_cli_usage("eval", "run: give --model FILE, --backend openai:URL,NAME or --evidence");
    p.models = models;
    p.n_models = nm;
    p.kb_path = kb ? kb : orx_kb_find_default();
    if (!p.kb_path && p.rag_on) fprintf(stderr, "openrx: no knowledge base found (--kb): the RAG arm runs without evidence\n");
    orx_progress prog;
    memset(&prog, 0, sizeof prog);
    p.progress = progress_cb;
    p.progress_user = &prog;
    orx_eval_run_stats rs;
    orx_status st = orx_eval_run(&p, &rs, &err);
    if (prog.total) orx_progress_finish(&prog);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    if (json)
        printf("{\"total\":%llu,\"skipped\":%llu,\"done\":%llu,\"errors\":%llu,\"dropped_partial\":%llu,\"seconds\":%.3f,\"out\":\"%s\"}\n",
               (unsigned long long)rs.total, (unsigned long long)rs.skipped, (unsigned long long)rs.done,
               (unsigned long long)rs.errors, (unsigned long long)rs.dropped_partial, rs.seconds, p.out_dir);
    else
        printf("eval: %llu units (%llu already done, %llu run now, %llu with errors%s) in %.1f s -> %s/results.jsonl\n",
               (unsigned long long)rs.total, (unsigned long long)rs.skipped, (unsigned long long)rs.done,
               (unsigned long long)rs.errors, rs.dropped_partial ? ", incomplete last record dropped" : "", rs.seconds, p.out_dir);
    return 0;
}

/* ============================================================================================
 * report / review / review-import / validate
 * ========================================================================================== */
/* The options of the verb argv[0] (json, out, seed: NULL where it has none) and its nargs
 * arguments (what names them: "the run folder DIR"); -1 to go on, else the exit code. */
static int simple_opts(int argc, char **argv, int nargs, const char *what, bool *json, const char **out, uint64_t *seed) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"out", required_argument, 0, 'o'},
                                         {"seed", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': if (!json) return orx_cli_usage("eval", "--json is not an option of '%s'", argv[0]); *json = true; break;
        case 'o': if (!out) return orx_cli_usage("eval", "--out is not an option of '%s'", argv[0]); *out = optarg; break;
        case 's':
            if (!seed) return orx_cli_usage("eval", "--seed is not an option of '%s'", argv[0]);
            if (!orx_cli_opt_seed("eval", "--seed", optarg, seed)) return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + nargs != argc) return orx_cli_usage("eval", "%s: give %s", argv[0], what);
    return -1;
}

static int eval_report(int argc, char **argv) {
    bool json = false;
    int r = simple_opts(argc, argv, 1, "the run folder DIR", &json, NULL, NULL);
    if (r >= 0) return r;
    orx_error err = ORX_ERROR_INIT;
    char *js = NULL;
    orx_status st = orx_eval_report(argv[optind], &js, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    if (json) printf("%s\n", js);
    else printf("eval: wrote %s/report.html and %s/report.json\n", argv[optind], argv[optind]);
    free(js);
    return 0;
}

static int eval_review(int argc, char **argv) {
    const char *out = NULL;
    uint64_t seed = 0;
    int r = simple_opts(argc, argv, 1, "the run folder DIR", NULL, &out, &seed);
    if (r >= 0) return r;
    if (!out) return orx_cli_usage("eval", "review: --out packet.html is required");
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_eval_review_packet(argv[optind], out, seed, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    printf("eval: wrote %s (blinded; key in %s/review_key.json, seed %llu)\n", out, argv[optind], (unsigned long long)seed);
    return 0;
}

static int eval_review_import(int argc, char **argv) {
    int r = simple_opts(argc, argv, 2, "DIR and scores.csv", NULL, NULL, NULL);
    if (r >= 0) return r;
    orx_error err = ORX_ERROR_INIT;
    size_t n = 0;
    orx_status st = orx_eval_review_import(argv[optind], argv[optind + 1], &n, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    printf("eval: imported %zu score rows; report updated in %s/report.html\n", n, argv[optind]);
    return 0;
}

static int eval_validate(int argc, char **argv) {
    bool json = false;
    int r = simple_opts(argc, argv, 1, "a case FILE", &json, NULL, NULL);
    if (r >= 0) return r;
    orx_error err = ORX_ERROR_INIT;
    orx_eval_cases cs;
    orx_status st = orx_eval_cases_load(argv[optind], &cs, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    size_t rx = 0, mcq = 0, acc = 0, avoid = 0, doses = 0;
    for (size_t i = 0; i < cs.n; i++) {
        if (cs.items[i].kind == ORX_EVAL_MCQ) mcq++;
        else rx++;
        acc += cs.items[i].n_acceptable > 0;
        avoid += cs.items[i].n_avoid > 0;
        doses += cs.items[i].n_doses > 0;
    }
    if (json)
        printf("{\"cases\":%zu,\"rx\":%zu,\"mcq\":%zu,\"with_acceptable\":%zu,\"with_avoid\":%zu,\"with_doses\":%zu,\"sha256\":\"%s\"}\n",
               cs.n, rx, mcq, acc, avoid, doses, cs.sha256);
    else
        printf("%s: %zu cases valid (%zu prescription, %zu multiple-choice; %zu with acceptable drugs, %zu with drugs "
               "to avoid, %zu with dose ranges)\n", argv[optind], cs.n, rx, mcq, acc, avoid, doses);
    orx_eval_cases_clear(&cs);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    static const orx_cli_verb verbs[] = {{"run", eval_run},       {"report", eval_report},     {"review", eval_review},
                                         {"review-import", eval_review_import}, {"validate", eval_validate}};
    return orx_cli_dispatch("eval", argc, argv, usage, "verb", false, verbs, sizeof verbs / sizeof verbs[0]);
}
