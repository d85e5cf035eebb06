/* cmd_recommend.c — `openrx recommend`: patient + indication → draft prescription (or evidence). */
#include "cli/backend_opts.h"
#include "cli/cli.h"
#include "rx/rx.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "Usage: openrx recommend --patient FILE --indication TEXT\n"
        "         [-m MODEL.gguf | --backend openai --base-url URL --model-name NAME --api-key-env VAR]\n"
        "         [--kb FILE] [--no-rag] [-k N] [--format text|json|fhir] [--seed S] [--temp T]\n"
        "         [--max-tokens N] [--no-reask] [--audit FILE | --no-audit] [--as-of DATE]\n"
        "         [--data DIR] [--fail-on TIER] [-t THREADS] [--open-choice] [--max-options N]\n"
        "         [--ctx N] [--problem] [--allow-remote] [--redact] [--audit-full]\n"
        "       openrx recommend --patient FILE (--batch FILE | --each-problem) [--kb FILE]   (JSONL, no model)\n\n"
        "Drafts a prescription for one patient, grounded in FDA label sections and checked by the\n"
        "medication-safety checker. The OPTIONS are the drugs whose FDA label's Indications & Usage\n"
        "section states the indication (quoted and cited), each screened against the patient; the\n"
        "model must choose one of them (contraindicated ones are left out) or answer that none suits.\n"
        "Without a model it runs in EVIDENCE MODE: the options with their label doses, the evidence\n"
        "and the safety findings; no generated prescription. Every output is a DRAFT for clinician review.\n\n"
        "Options:\n"
        "      --patient FILE      FHIR R4 Bundle or openrx patient JSON\n"
        "      --indication TEXT   what to treat\n"
        "  -m, --model FILE        local GGUF model (our engine)\n"
        "      --backend openai    any OpenAI-compatible server: --base-url, --model-name, --api-key-env\n"
        "      --allow-remote      consent to send the (de-identified) patient summary to a --base-url host\n"
        "                          that is not this machine; without it such a host is refused (exit 2)\n"
        "      --redact            de-identify the patient summary for a loopback host too (a local proxy\n"
        "                          to a remote service); README 'Privacy' lists the rules\n"
        "      --kb FILE           knowledge base (default $ORX_KB, else kb.sqlite, else build/kb.sqlite)\n"
        "      --no-rag            no retrieval (the study's comparison arm)\n"
        "  -k N                    evidence items (default 10)\n"
        "      --open-choice       let the model name a drug outside the options (flagged not label-indicated)\n"
        "      --max-options N     options offered as the choice (default 12)\n"
        "      --problem           the indication is one coded problem (a FHIR Condition display)\n"
        "      --ctx N             the model's context in tokens (remote servers that do not report it)\n"
        "      --batch FILE        evidence mode for each line of FILE (an indication); JSON lines out\n"
        "      --each-problem      evidence mode for each active problem of the patient; JSON lines out\n"
        "      --format FMT        text (default), json or fhir (MedicationRequest + DetectedIssue)\n"
        "      --seed S            sampling seed (default 0)\n"
        "      --temp T            temperature (default 0 = greedy)\n"
        "      --max-tokens N      generation limit (default 512)\n"
        "      --no-reask          do not re-ask the model after a contraindicated/major finding\n"
        "      --audit FILE        audit log, JSONL, fsynced (default openrx-audit.jsonl)\n"
        "      --no-audit          no audit record\n"
        "      --audit-full        the audit record holds each request body sent to an HTTP backend\n"
        "                          (always: its SHA-256, the endpoint, remote and consent)\n"
        "      --as-of DATE        date for age and lab recency (YYYY-MM-DD, default today)\n"
        "      --data DIR          project data/ folder (lexicon and rule tables)\n"
        "      --fail-on TIER      exit 3 when a finding at/above TIER exists (info..contraindicated)\n"
        "  -t, --threads N         engine threads\n"
        "      --chat-template NAME  override the model's chat template (llama2, llama3, mistral, chatml, ...)\n"
        "      --no-prefix-cache   recompute the whole prompt each time (local backend)\n"
        "      --no-draft          one token per model pass: forced runs and drafts are not evaluated\n"
        "                          in one pass (local backend; the answer is the same, only slower)\n"
        "      --slots N           prompt-prefix KV caches kept (local backend, 1..16, default 1)\n"
        "      --replay FILE       benchmarks: the local model's choices spell the answer in FILE where\n"
        "                          the schema allows, instead of sampling (decode speed on an answer of\n"
        "                          realistic length; the output is that answer, not the model's)\n"
        "      --draft FILE        local backend: a small GGUF model with the same vocabulary drafts\n"
        "                          tokens the model verifies in one pass (same answer, fewer passes)\n"
        "      --draft-max N       its longest draft, 1..64 (default 8)\n"
        "      --repeat N          run N times and print per-run timings on stderr (prefix cache effect)\n"
        "Exit codes: 0 ok, 1 runtime failure (model/server), 2 bad usage or input, 3 --fail-on tripped.\n");
}

typedef struct rec_opts {
    const char *patient, *indication, *kb, *format, *audit, *as_of, *data_dir;
    const char *batch;        /* --batch FILE: one indication per line */
    bool each_problem;        /* --each-problem */
    int  ctx;                 /* --ctx N: the model's context (0 = from the backend) */
    bool no_audit, fail_on_set;
    int repeat;               /* run the pipeline this many times (timing; prefix cache) */
    orx_severity fail_on;
} rec_opts;

/* one compact JSON line of a result (evidence mode), with what it was run for */
static orx_status print_line(const orx_rx_result *res, const orx_patient *pt, const char *problem, orx_error *err) {
    orx_buf b;
    orx_buf_init(&b);
    orx_status st = orx_rx_render_json(res, pt, &b, err);
    if (st == ORX_OK) {
        json_error_t je;
        json_t *o = json_loadb(b.data, b.len, 0, &je);
        if (o && problem) json_object_set_new(o, "problem", json_string(problem));
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (s) printf("%s\n", s);
        else st = orx_fail(err, ORX_ERR_NOMEM, "cannot serialise a result");
        free(s);
        json_decref(o);
    }
    orx_buf_clear(&b);
    return st;
}

/* --batch FILE / --each-problem: evidence mode, one JSON line per indication */
static orx_status run_batch(const rec_opts *o, const orx_retriever *ret, const orx_checker *ck,
                            const orx_patient *pt, orx_rx_params *rp, orx_error *err) {
    rp->audit_path = NULL;
    orx_status st = ORX_OK;
    if (o->each_problem) {
        rp->problem = true;
        for (size_t i = 0; st == ORX_OK && i < pt->n_conditions; i++) {
            orx_rx_result res;
            rp->indication = pt->conditions[i].text;
            st = orx_recommend(NULL, ret, ck, pt, rp, &res, err);
            if (st == ORX_OK) st = print_line(&res, pt, pt->conditions[i].text, err);
            orx_rx_result_clear(&res);
        }
        return st;
    }
    char *data = NULL;
    size_t len = 0;
    if ((st = orx_read_file(o->batch, 16u << 20, &data, &len, err)) != ORX_OK) return st;
    for (char *line = data, *nl; st == ORX_OK && line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        char *tab = strchr(line, '\t');
        if (tab) *tab = 0; /* TSV: the indication is the first column */
        if (!*orx_str_trim(line) || line[0] == '#') continue;
        orx_rx_result res;
        rp->indication = line;
        st = orx_recommend(NULL, ret, ck, pt, rp, &res, err);
        if (st == ORX_OK) st = print_line(&res, pt, NULL, err);
        orx_rx_result_clear(&res);
    }
    free(data);
    return st;
}

static int run(const rec_opts *o, const orx_backend_opts *bo, orx_rx_params *rp) {
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    orx_checker *ck = NULL;
    orx_llm *llm = NULL;
    orx_retriever ret = {0};
    bool have_ret = false;
    char model_hash[65] = "";
    orx_rx_result res;
    memset(&res, 0, sizeof res);
    int rc = 0;
    orx_status st = orx_patient_load(o->patient, o->as_of, &pt, &err);
    if (st != ORX_OK) goto done;
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = o->data_dir;
    if ((st = orx_checker_create(&cp, &ck, &err)) != ORX_OK) goto done;
    const char *kb = o->kb ? o->kb : orx_kb_find_default();
    if (kb && (rp->rag || !orx_backend_opts_given(bo))) {
        if ((st = orx_kb_retriever_bm25(kb, &ret, &err)) != ORX_OK) goto done;
        have_ret = true;
    } else if (o->kb == NULL && rp->rag) {
        fprintf(stderr, "openrx: no knowledge base found (build one with 'openrx kb build' or pass --kb); "
                        "continuing without evidence\n");
    }
    if (o->batch || o->each_problem) {
        st = run_batch(o, have_ret ? &ret : NULL, ck, pt, rp, &err);
        goto done;
    }
    if (orx_backend_opts_given(bo)) {
        orx_backend_opts b2 = *bo;
        b2.n_ctx = o->ctx;
        if ((st = orx_backend_opts_create(&b2, &llm, &err)) != ORX_OK) goto done;
        if (o->ctx > 0) orx_llm_set_n_ctx(llm, o->ctx);
        /* the model file's hash is for the audit record only: not read at all without one */
        if (!o->no_audit && bo->model_path && orx_sha256_file_hex(bo->model_path, model_hash, NULL) == ORX_OK)
            rp->model_hash = model_hash;
    }
    rp->audit_path = o->no_audit ? NULL : (o->audit ? o->audit : "openrx-audit.jsonl");
    for (int i = 0; i < (o->repeat > 0 ? o->repeat : 1); i++) {
        if (i) orx_rx_result_clear(&res);
        st = orx_recommend(llm, have_ret ? &ret : NULL, ck, pt, rp, &res, &err);
        if (st != ORX_OK) goto done;
        if (o->repeat > 1)
            fprintf(stderr, "run %d: retrieval %.1f ms, prefill (to first token) %.3f s, decode %.3f s, checks %.1f ms, "
                            "total %.3f s; prompt %d tokens (%d from prefix cache), generated %d in %d passes "
                            "(%d forced, %d of %d drafted kept; draft model: %d of %d)\n",
                    i + 1, res.timing.retrieval_s * 1e3, res.timing.first_token_s,
                    res.timing.generate_s - (res.timing.first_token_s > 0 ? res.timing.first_token_s : 0),
                    res.timing.check_s * 1e3, res.timing.total_s, res.prompt_tokens, res.cached_tokens, res.completion_tokens,
                    res.decode_passes, res.forced_tokens, res.accepted_tokens, res.drafted_tokens,
                    res.model_accepted_tokens, res.model_drafted_tokens);
    }
    orx_buf out;
    orx_buf_init(&out);
    if (!strcmp(o->format, "json")) st = orx_rx_render_json(&res, pt, &out, &err);
    else if (!strcmp(o->format, "fhir")) st = orx_rx_render_fhir(&res, pt, &out, &err);
    else st = orx_rx_render_text(&res, pt, &out, &err);
    if (st == ORX_OK) fwrite(out.data, 1, out.len, stdout);
    orx_buf_clear(&out);
    orx_severity worst;
    if (st == ORX_OK && o->fail_on_set) {
        bool any = orx_findings_max_severity(&res.findings, &worst) && worst >= o->fail_on;
        orx_severity w2;
        if (orx_findings_max_severity(&res.current_findings, &w2) && w2 >= o->fail_on) any = true;
        if (any) rc = 3;
    }
done:
    if (st != ORX_OK) rc = orx_cli_fail(st, &err);
    orx_rx_result_clear(&res);
    if (have_ret && ret.free) ret.free(ret.self);
    orx_llm_free(llm);
    orx_checker_free(ck);
    orx_patient_free(pt);
    return rc;
}

/* ORX_DEBUG_PROMPT: show the prompts of each model call on stderr */
static void show_prompt(void *user, const char *system_prompt, const char *user_prompt) {
    (void)user;
    fprintf(stderr, "--- system ---\n%s\n--- user ---\n%s\n---\n", system_prompt, user_prompt);
}

int cmd_recommend(int argc, char **argv) {
    rec_opts o = {0};
    o.format = "text";
    orx_backend_opts bo;
    orx_backend_opts_init(&bo);
    orx_rx_params rp = orx_rx_default_params();
    if (getenv("ORX_DEBUG_PROMPT")) rp.on_prompt = show_prompt;
    static const struct option opts[] = {
        ORX_BACKEND_LONG_OPTS,
        {"patient", required_argument, 0, 'p'}, {"indication", required_argument, 0, 'i'},
        {"kb", required_argument, 0, 0x201}, {"no-rag", no_argument, 0, 0x202},
        {"format", required_argument, 0, 0x203}, {"seed", required_argument, 0, 0x204},
        {"temp", required_argument, 0, 0x205}, {"max-tokens", required_argument, 0, 0x206},
        {"no-reask", no_argument, 0, 0x207}, {"audit", required_argument, 0, 0x208},
        {"no-audit", no_argument, 0, 0x209}, {"as-of", required_argument, 0, 0x20a},
        {"data", required_argument, 0, 0x20b}, {"fail-on", required_argument, 0, 0x20c},
        {"repeat", required_argument, 0, 0x20d}, {"open-choice", no_argument, 0, 0x20e},
        {"max-options", required_argument, 0, 0x20f}, {"ctx", required_argument, 0, 0x210},
        {"problem", no_argument, 0, 0x211}, {"batch", required_argument, 0, 0x212},
        {"each-problem", no_argument, 0, 0x213}, {"audit-full", no_argument, 0, 0x214},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    long v;
    double d;
    while ((c = getopt_long(argc, argv, "m:t:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o.patient = optarg; break;
        case 'i': o.indication = optarg; break;
        case 0x201: o.kb = optarg; break;
        case 0x202: rp.rag = false; break;
        case 'k': if (!orx_cli_opt_int("recommend", "-k", optarg, 1, 50, &rp.k)) return 2; break;
        case 0x203:
            if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "fhir"))
                return orx_cli_usage("recommend", "--format must be text, json or fhir (got '%s')", optarg);
            o.format = optarg;
            break;
        case 0x204: if (!orx_cli_opt_seed("recommend", "--seed", optarg, &rp.seed)) return 2; break;
        case 0x205:
            if (!orx_cli_opt_double("recommend", "--temp", optarg, 0, 2, &d)) return 2;
            rp.temperature = (float)d;
            break;
        case 0x206: if (!orx_cli_opt_int("recommend", "--max-tokens", optarg, 16, 8192, &rp.max_tokens)) return 2; break;
        case 0x207: rp.reask = false; break;
        case 0x208: o.audit = optarg; break;
        case 0x209: o.no_audit = true; break;
        case 0x20a: o.as_of = optarg; break;
        case 0x20b: o.data_dir = optarg; break;
        case 0x20c:
            if (!orx_severity_parse(optarg, &o.fail_on))
                return orx_cli_usage("recommend", "--fail-on: '%s' is not a tier (info, minor, moderate, major, contraindicated)", optarg);
            o.fail_on_set = true;
            break;
        case 0x20d: if (!orx_cli_opt_int("recommend", "--repeat", optarg, 1, 1000, &o.repeat)) return 2; break;
        case 0x20e: rp.open_choice = true; break;
        case 0x20f: if (!orx_cli_opt_int("recommend", "--max-options", optarg, 1, ORX_RX_MAX_CHOICE, &rp.max_choice)) return 2; break;
        case 0x210:
            if (!orx_cli_parse_int(optarg, 256, 10000000, &v)) return orx_cli_usage("recommend", "--ctx: '%s' must be 256..10000000 tokens", optarg);
            o.ctx = (int)v;
            break;
        case 0x211: rp.problem = true; break;
        case 0x212: o.batch = optarg; break;
        case 0x213: o.each_problem = true; break;
        case 0x214: rp.audit_full = true; break;
        case 'h': usage(stdout); return 0;
        default: {
            int r = orx_backend_opts_parse(&bo, c, optarg, "recommend");
            if (r == 1) break;
            if (r == 2) return 2;
            return orx_cli_usage("recommend", "unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    if (optind < argc) return orx_cli_usage("recommend", "unexpected argument '%s'", argv[optind]);
    if (!o.patient) return orx_cli_usage("recommend", "--patient FILE is required");
    if (o.batch || o.each_problem) {
        if (o.batch && o.each_problem) return orx_cli_usage("recommend", "--batch and --each-problem exclude each other");
        if (o.indication || orx_backend_opts_given(&bo)) return orx_cli_usage("recommend", "--batch/--each-problem run evidence mode: no --indication, no model");
        return run(&o, &bo, &rp);
    }
    bool blank = true;
    for (const char *c2 = o.indication; c2 && *c2 && blank; c2++) blank = isspace((unsigned char)*c2);
    if (!o.indication || blank) return orx_cli_usage("recommend", "--indication TEXT is required (it is empty or only spaces)");
    rp.indication = o.indication;
    return run(&o, &bo, &rp);
}
