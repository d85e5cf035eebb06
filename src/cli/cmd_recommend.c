/* cmd_recommend.c — `openrx recommend`: patient + indication → draft prescription (or evidence). */
#include "cli/backend_opts.h"
#include "cli/cli.h"
#include "rx/rx.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "Usage: openrx recommend --patient FILE --indication TEXT\n"
        "         [-m MODEL.gguf | --backend openai --base-url URL --model-name NAME --api-key-env VAR]\n"
        "         [--kb FILE] [--no-rag] [-k N] [--format text|json|fhir] [--seed S] [--temp T]\n"
        "         [--max-tokens N] [--no-reask] [--audit FILE | --no-audit] [--as-of DATE]\n"
        "         [--data DIR] [--fail-on TIER] [-t THREADS]\n\n"
        "Drafts a prescription for one patient, grounded in FDA label sections and checked by the\n"
        "medication-safety checker. Without a model it runs in EVIDENCE MODE: retrieval and safety\n"
        "findings only, no generated prescription. Every output is a DRAFT for clinician review.\n\n"
        "Options:\n"
        "      --patient FILE      FHIR R4 Bundle or openrx patient JSON\n"
        "      --indication TEXT   what to treat\n"
        "  -m, --model FILE        local GGUF model (our engine)\n"
        "      --backend openai    any OpenAI-compatible server: --base-url, --model-name, --api-key-env\n"
        "      --kb FILE           knowledge base (default $ORX_KB, else kb.sqlite, else build/kb.sqlite)\n"
        "      --no-rag            no retrieval (the study's comparison arm)\n"
        "  -k N                    evidence sections (default 6)\n"
        "      --format FMT        text (default), json or fhir (MedicationRequest + DetectedIssue)\n"
        "      --seed S            sampling seed (default 0)\n"
        "      --temp T            temperature (default 0 = greedy)\n"
        "      --max-tokens N      generation limit (default 512)\n"
        "      --no-reask          do not re-ask the model after a contraindicated/major finding\n"
        "      --audit FILE        audit log, JSONL, fsynced (default openrx-audit.jsonl)\n"
        "      --no-audit          no audit record\n"
        "      --as-of DATE        date for age and lab recency (YYYY-MM-DD, default today)\n"
        "      --data DIR          project data/ folder (lexicon and rule tables)\n"
        "      --fail-on TIER      exit 3 when a finding at/above TIER exists (info..contraindicated)\n"
        "  -t, --threads N         engine threads\n"
        "      --chat-template NAME  override the model's chat template (llama2, llama3, mistral, chatml, ...)\n"
        "      --no-prefix-cache   recompute the whole prompt each time (local backend)\n"
        "      --repeat N          run N times and print per-run timings on stderr (prefix cache effect)\n"
        "Exit codes: 0 ok, 1 runtime failure (model/server), 2 bad usage or input, 3 --fail-on tripped.\n");
}

typedef struct rec_opts {
    const char *patient, *indication, *kb, *format, *audit, *as_of, *data_dir;
    bool no_audit, fail_on_set;
    int repeat;               /* run the pipeline this many times (timing; prefix cache) */
    orx_severity fail_on;
} rec_opts;

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
    if (orx_backend_opts_given(bo)) {
        if ((st = orx_backend_opts_create(bo, &llm, &err)) != ORX_OK) goto done;
        if (bo->model_path && orx_sha256_file_hex(bo->model_path, model_hash, NULL) == ORX_OK) rp->model_hash = model_hash;
    }
    rp->audit_path = o->no_audit ? NULL : (o->audit ? o->audit : "openrx-audit.jsonl");
    for (int i = 0; i < (o->repeat > 0 ? o->repeat : 1); i++) {
        if (i) orx_rx_result_free(&res);
        st = orx_recommend(llm, have_ret ? &ret : NULL, ck, pt, rp, &res, &err);
        if (st != ORX_OK) goto done;
        if (o->repeat > 1)
            fprintf(stderr, "run %d: retrieval %.1f ms, prefill (to first token) %.3f s, decode %.3f s, checks %.1f ms, "
                            "total %.3f s; prompt %d tokens (%d from prefix cache), generated %d\n",
                    i + 1, res.timing.retrieval_s * 1e3, res.timing.first_token_s,
                    res.timing.generate_s - (res.timing.first_token_s > 0 ? res.timing.first_token_s : 0),
                    res.timing.check_s * 1e3, res.timing.total_s, res.prompt_tokens, res.cached_tokens, res.completion_tokens);
    }
    orx_buf out;
    orx_buf_init(&out);
    if (!strcmp(o->format, "json")) st = orx_rx_render_json(&res, pt, &out, &err);
    else if (!strcmp(o->format, "fhir")) st = orx_rx_render_fhir(&res, pt, &out, &err);
    else st = orx_rx_render_text(&res, pt, &out, &err);
    if (st == ORX_OK) fwrite(out.data, 1, out.len, stdout);
    orx_buf_free(&out);
    orx_severity worst;
    if (st == ORX_OK && o->fail_on_set) {
        bool any = orx_findings_max_severity(&res.findings, &worst) && worst >= o->fail_on;
        orx_severity w2;
        if (orx_findings_max_severity(&res.current_findings, &w2) && w2 >= o->fail_on) any = true;
        if (any) rc = 3;
    }
done:
    if (st != ORX_OK) rc = orx_cli_fail(st, &err);
    orx_rx_result_free(&res);
    if (have_ret && ret.free) ret.free(ret.self);
    orx_llm_free(llm);
    orx_checker_free(ck);
    orx_patient_free(pt);
    return rc;
}

int cmd_recommend(int argc, char **argv) {
    rec_opts o = {0};
    o.format = "text";
    orx_backend_opts bo;
    orx_backend_opts_init(&bo);
    orx_rx_params rp = orx_rx_default_params();
    static const struct option opts[] = {
        ORX_BACKEND_LONG_OPTS,
        {"patient", required_argument, 0, 'p'}, {"indication", required_argument, 0, 'i'},
        {"kb", required_argument, 0, 0x201}, {"no-rag", no_argument, 0, 0x202},
        {"format", required_argument, 0, 0x203}, {"seed", required_argument, 0, 0x204},
        {"temp", required_argument, 0, 0x205}, {"max-tokens", required_argument, 0, 0x206},
        {"no-reask", no_argument, 0, 0x207}, {"audit", required_argument, 0, 0x208},
        {"no-audit", no_argument, 0, 0x209}, {"as-of", required_argument, 0, 0x20a},
        {"data", required_argument, 0, 0x20b}, {"fail-on", required_argument, 0, 0x20c},
        {"repeat", required_argument, 0, 0x20d},
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
        case 'k':
            if (!orx_cli_parse_int(optarg, 1, 50, &v)) return orx_cli_usage("recommend", "-k: '%s' must be 1..50", optarg);
            rp.k = (int)v;
            break;
        case 0x203:
            if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "fhir"))
                return orx_cli_usage("recommend", "--format must be text, json or fhir (got '%s')", optarg);
            o.format = optarg;
            break;
        case 0x204:
            if (!orx_cli_parse_int(optarg, 0, (long)(~0UL >> 1), &v)) return orx_cli_usage("recommend", "--seed: '%s' is not a non-negative integer", optarg);
            rp.seed = (uint64_t)v;
            break;
        case 0x205:
            if (!orx_cli_parse_double(optarg, 0, 2, &d)) return orx_cli_usage("recommend", "--temp: '%s' must be 0..2", optarg);
            rp.temperature = (float)d;
            break;
        case 0x206:
            if (!orx_cli_parse_int(optarg, 16, 8192, &v)) return orx_cli_usage("recommend", "--max-tokens: '%s' must be 16..8192", optarg);
            rp.max_tokens = (int)v;
            break;
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
        case 0x20d:
            if (!orx_cli_parse_int(optarg, 1, 1000, &v)) return orx_cli_usage("recommend", "--repeat: '%s' must be 1..1000", optarg);
            o.repeat = (int)v;
            break;
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
    if (!o.indication || !*o.indication) return orx_cli_usage("recommend", "--indication TEXT is required");
    rp.indication = o.indication;
    return run(&o, &bo, &rp);
}
