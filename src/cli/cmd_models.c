/* cmd_models.c — `openrx models list|show|pull`: the catalog of open healthcare models. */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "Usage: openrx models list [--task T] [--licence L] [--runnable] [--json]\n"
            "       openrx models show NAME [--json]\n"
            "       openrx models pull NAME|URL [--quant Q4_K_M] [--dir models/] [--accept-licence]\n"
            "                                   [--sha256 HEX] [--json]\n\n"
            "The catalog of open healthcare foundation models (the taxonomy of arXiv 2502.04356) and\n"
            "the general open models they build on: licence, use restrictions, openness, architecture,\n"
            "published GGUF conversions. Unknown facts print as 'unknown'. No model here is validated\n"
            "for clinical use.\n\n"
            "Options:\n"
            "  --task T          only models in task category T (see the list header)\n"
            "  --licence L       only models whose licence text contains L ('unknown' for unrecorded)\n"
            "  --runnable        only models whose architecture openrx's engine can run\n"
            "  --quant Q         GGUF quant to pull (default Q4_K_M)\n"
            "  --dir D           download directory (default models/)\n"
            "  --accept-licence  accept the model's licence terms (required when they must be accepted\n"
            "                    or are not recorded; the terms link is printed otherwise)\n"
            "  --sha256 HEX      expected sha256 of the file (overrides the catalog's)\n"
            "  --catalog PATH    catalog file (default $ORX_MODELS_JSON, else data/models.json)\n"
            "  --json            machine-readable output\n"
            "  -h, --help        this help\n\n"
            "pull downloads to DIR/FILE.part, resumes it with an HTTP Range request when rerun after an\n"
            "interruption, checks the sha256 when one is known, then renames it to DIR/FILE. A file that\n"
            "fails its checksum is removed. $HF_TOKEN, when set, is sent as a bearer token (gated repos).\n");
}

/* ============================================================================================
 * Options shared by the sub-verbs
 * ========================================================================================== */
typedef struct opts {
    const char *task;     /* --task */
    const char *licence;  /* --licence */
    bool        runnable; /* --runnable */
    bool        json;     /* --json */
    const char *quant;    /* --quant */
    const char *dir;      /* --dir */
    bool        accept;   /* --accept-licence */
    const char *sha256;   /* --sha256 */
    const char *catalog;  /* --catalog */
} opts;

enum { O_TASK = 1000, O_LICENCE, O_RUNNABLE, O_JSON, O_QUANT, O_DIR, O_ACCEPT, O_SHA, O_CATALOG };

/* Parse verb's options into *o and check its arguments: none when one is NULL, else exactly one
 * (one names it: "model NAME"). -1 to go on, else the exit code (0 after --help). */
static int parse_opts(int argc, char **argv, const char *verb, const char *one, opts *o) {
    static const struct option LONG[] = {
        {"task", required_argument, 0, O_TASK},       {"licence", required_argument, 0, O_LICENCE},
        {"license", required_argument, 0, O_LICENCE}, {"runnable", no_argument, 0, O_RUNNABLE},
        {"json", no_argument, 0, O_JSON},             {"quant", required_argument, 0, O_QUANT},
        {"dir", required_argument, 0, O_DIR},         {"accept-licence", no_argument, 0, O_ACCEPT},
        {"accept-license", no_argument, 0, O_ACCEPT}, {"sha256", required_argument, 0, O_SHA},
        {"catalog", required_argument, 0, O_CATALOG}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->dir = "models";
    bool help = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONG, NULL)) != -1) {
        switch (c) {
        case O_TASK: o->task = optarg; break;
        case O_LICENCE: o->licence = optarg; break;
        case O_RUNNABLE: o->runnable = true; break;
        case O_JSON: o->json = true; break;
        case O_QUANT: o->quant = optarg; break;
        case O_DIR: o->dir = optarg; break;
        case O_ACCEPT: o->accept = true; break;
        case O_SHA: o->sha256 = optarg; break;
        case O_CATALOG: o->catalog = optarg; break;
        case 'h': help = true; break;
        default:
            return orx_cli_usage("models", "%s: unknown or incomplete option '%s'", verb, argv[optind - 1]);
        }
    }
    if (help) { usage(stdout); return 0; }
    if (!one && optind < argc) return orx_cli_usage("models", "%s: unexpected argument '%s'", verb, argv[optind]);
    if (one && optind != argc - 1) return orx_cli_usage("models", "%s: expected exactly one %s", verb, one);
    return -1;
}

static int load(const opts *o, orx_catalog **cat) {
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_catalog_load(o->catalog ? o->catalog : orx_catalog_default_path(), cat, &err);
    return st ? orx_cli_fail(st, &err) : 0;
}

static const char *or_unknown(const char *s) { return s ? s : "unknown"; }

static void fmt_params(double b, char *buf, size_t cap) {
    if (b < 0) snprintf(buf, cap, "unknown");
    else snprintf(buf, cap, "%gB", b);
}

static const char *tri_str(orx_tri t) {
    return t == ORX_TRI_YES ? "yes" : t == ORX_TRI_NO ? "no" : "unknown";
}

/* ============================================================================================
 * list
 * ========================================================================================== */
static bool keep(const orx_catalog_model *m, const opts *o) {
    if (o->task && !orx_catalog_model_has_task(m, o->task)) return false;
    if (o->licence && !orx_catalog_model_licence_matches(m, o->licence)) return false;
    if (o->runnable && !orx_catalog_model_runnable(m)) return false;
    return true;
}

static void join_tasks(const orx_catalog_model *m, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < m->n_tasks; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? "," : "", m->tasks[i]);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
}

static int list_json(const orx_catalog *cat, const opts *o) {
    json_t *arr = json_array();
    for (size_t i = 0; i < orx_catalog_count(cat); i++) {
        const orx_catalog_model *m = orx_catalog_at(cat, i);
        if (!keep(m, o)) continue;
        char *s = orx_catalog_entry_json(cat, i);
        json_t *e = s ? json_loads(s, 0, NULL) : NULL;
        free(s);
        if (!e) continue;
        json_object_set_new(e, "runnable", json_boolean(orx_catalog_model_runnable(m)));
        json_array_append_new(arr, e);
    }
    char *out = json_dumps(arr, JSON_INDENT(2));
    printf("%s\n", out ? out : "[]");
    free(out);
    json_decref(arr);
    return 0;
}

static int list_text(const orx_catalog *cat, const opts *o) {
    printf("Task categories:");
    for (size_t t = 0; t < orx_catalog_n_tasks(cat); t++) printf(" %s", orx_catalog_task_id(cat, t));
    printf("\nRunnable architectures: %s\n\n", orx_catalog_runnable_archs());
    printf("%-26s %-8s %-28s %-34s %-12s %-8s %s\n", "NAME", "PARAMS", "TASKS", "LICENCE", "WEIGHTS", "ARCH", "RUN");
    size_t shown = 0;
    for (size_t i = 0; i < orx_catalog_count(cat); i++) {
        const orx_catalog_model *m = orx_catalog_at(cat, i);
        if (!keep(m, o)) continue;
        char params[32], tasks[128];
        fmt_params(m->parameters_b, params, sizeof params);
        join_tasks(m, tasks, sizeof tasks);
        printf("%-26s %-8s %-28.28s %-34.34s %-12s %-8s %s\n", m->name, params, tasks, or_unknown(m->licence),
               or_unknown(m->open_weights), or_unknown(m->architecture),
               orx_catalog_model_runnable(m) ? "yes" : "no");
        shown++;
    }
    printf("\n%zu of %zu models. 'openrx models show NAME' for details and sources. None is validated "
           "for clinical use.\n", shown, orx_catalog_count(cat));
    return 0;
}

static bool known_task(const orx_catalog *cat, const char *t) {
    for (size_t i = 0; i < orx_catalog_n_tasks(cat); i++)
        if (orx_str_ieq(orx_catalog_task_id(cat, i), t)) return true;
    return false;
}

static int cmd_list(int argc, char **argv) {
    opts o;
    int rc = parse_opts(argc, argv, "list", NULL, &o);
    if (rc >= 0) return rc;
    orx_catalog *cat = NULL;
    if ((rc = load(&o, &cat))) return rc;
    if (o.task && !known_task(cat, o.task)) {
        orx_catalog_free(cat);
        return orx_cli_usage("models", "list: unknown task category '%s' (see 'openrx models list')", o.task);
    }
    rc = o.json ? list_json(cat, &o) : list_text(cat, &o);
    orx_catalog_free(cat);
    return rc;
}

/* ============================================================================================
 * show
 * ========================================================================================== */
static void show_list(const char *label, size_t n, const char **v) {
    printf("%-22s", label);
    if (!n) printf("none stated in sources");
    for (size_t i = 0; i < n; i++) printf("%s%s", i ? ", " : "", v[i]);
    printf("\n");
}

static void show_gguf(const orx_catalog_model *m) {
    if (!m->n_gguf) { printf("%-22sunknown (none recorded)\n", "GGUF conversions:"); return; }
    printf("GGUF conversions:\n");
    for (size_t g = 0; g < m->n_gguf; g++) {
        printf("  %s\n", m->gguf[g].repo);
        if (!m->gguf[g].n_files) printf("    file names: unknown\n");
        for (size_t f = 0; f < m->gguf[g].n_files; f++) {
            const orx_catalog_file *fl = &m->gguf[g].files[f];
            char size[32];
            if (fl->size_gb < 0) snprintf(size, sizeof size, "size unknown");
            else snprintf(size, sizeof size, "%.2f GB", fl->size_gb);
            printf("    %-40s %-7s %-12s sha256 %s\n", fl->name, fl->quant, size, or_unknown(fl->sha256));
        }
    }
}

static void show_text(const orx_catalog_model *m) {
    char params[32];
    fmt_params(m->parameters_b, params, sizeof params);
    printf("%s\n", m->display_name);
    printf("%-22s%s\n", "Catalog name:", m->name);
    printf("%-22s%s\n", "Organisation:", or_unknown(m->organisation));
    printf("%-22s%s\n", "Base model:", or_unknown(m->base_model));
    printf("%-22s%s\n", "Parameters:", params);
    printf("%-22s%s\n", "Modality:", or_unknown(m->modality));
    show_list("Task categories:", m->n_tasks, m->tasks);
    printf("%-22s%s\n", "Task basis:", or_unknown(m->task_basis));
    printf("%-22s%s\n", "Licence (weights):", or_unknown(m->licence));
    if (m->code_licence) printf("%-22s%s\n", "Licence (code):", m->code_licence);
    printf("%-22s%s\n", "Terms link:", orx_catalog_model_terms_link(m));
    printf("%-22s%s\n", "Licence acceptance:", tri_str(m->requires_licence_acceptance));
    show_list("Use restrictions:", m->n_restrictions, m->restrictions);
    printf("%-22s%s\n", "Source's caution:", or_unknown(m->use_note));
    printf("%-22sweights %s, data %s, code %s\n", "Openness:", or_unknown(m->open_weights),
           or_unknown(m->open_data), or_unknown(m->open_code));
    printf("%-22s%s (runnable by openrx: %s)\n", "Architecture (GGUF):", or_unknown(m->architecture),
           orx_catalog_model_runnable(m) ? "yes" : "no");
    if (m->context_length > 0) printf("%-22s%lld tokens\n", "Context length:", (long long)m->context_length);
    else printf("%-22sunknown\n", "Context length:");
    show_gguf(m);
    printf("%-22s%s\n", "Source:", m->source);
    for (size_t i = 0; i < m->n_sources; i++) printf("%-22s%s\n", i ? "" : "Also:", m->sources[i]);
    printf("%-22s%s\n", "Paper:", or_unknown(m->paper));
}

static int cmd_show(int argc, char **argv) {
    opts o;
    int rc = parse_opts(argc, argv, "show", "model NAME", &o);
    if (rc >= 0) return rc;
    orx_catalog *cat = NULL;
    if ((rc = load(&o, &cat))) return rc;
    const orx_catalog_model *m = orx_catalog_find(cat, argv[optind]);
    if (!m) {
        fprintf(stderr, "openrx: models show: no model named '%s' in the catalog (see 'openrx models list')\n",
                argv[optind]);
        orx_catalog_free(cat);
        return 2;
    }
    if (o.json) {
        size_t idx = (size_t)(m - orx_catalog_at(cat, 0));
        char *s = orx_catalog_entry_json(cat, idx);
        json_t *e = s ? json_loads(s, 0, NULL) : NULL;
        free(s);
        if (e) json_object_set_new(e, "runnable", json_boolean(orx_catalog_model_runnable(m)));
        char *out = e ? json_dumps(e, JSON_INDENT(2)) : NULL;
        printf("%s\n", out ? out : "{}");
        free(out);
        json_decref(e);
    } else {
        show_text(m);
    }
    orx_catalog_free(cat);
    return 0;
}

/* ============================================================================================
 * pull
 * ========================================================================================== */
static bool hex64(const char *s) {
    if (strlen(s) != 64) return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s)) return false;
    return true;
}

/* Last path segment of a URL, without query or fragment; false if none or unsafe. */
static bool url_filename(const char *url, char *out, size_t cap) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p + strcspn(p, "?#");
    const char *slash = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '/') slash = q;
    if (!slash || slash + 1 >= end) return false;
    size_t n = (size_t)(end - slash - 1);
    if (n >= cap) return false;
    memcpy(out, slash + 1, n);
    out[n] = 0;
    return strcmp(out, ".") && strcmp(out, "..") && !strchr(out, '\\');
}

static int print_pull(const opts *o, const orx_download_params *p, const orx_download_result *r) {
    const char *check = r->verified ? "verified" : "not verified: no sha256 published or given";
    if (o->json) {
        printf("{\"path\":\"%s\",\"url\":\"%s\",\"bytes\":%llu,\"resumed_from\":%llu,\"already_present\":%s,"
               "\"sha256\":\"%s\",\"verified\":%s}\n",
               p->dest_path, p->url, (unsigned long long)r->bytes, (unsigned long long)r->resumed_from,
               r->already_present ? "true" : "false", r->sha256, r->verified ? "true" : "false");
        return 0;
    }
    if (r->already_present) printf("already present: %s (%llu bytes)\n", p->dest_path, (unsigned long long)r->bytes);
    else if (r->resumed_from)
        printf("saved %s (%llu bytes, resumed from %llu)\n", p->dest_path, (unsigned long long)r->bytes,
               (unsigned long long)r->resumed_from);
    else printf("saved %s (%llu bytes)\n", p->dest_path, (unsigned long long)r->bytes);
    printf("sha256 %s (%s)\n", r->sha256, check);
    return 0;
}

static int resolve_target(const opts *o, const char *arg, orx_pull_plan *plan) {
    if (orx_str_starts_with(arg, "http://") || orx_str_starts_with(arg, "https://")) {
        memset(plan, 0, sizeof *plan);
        if (strlen(arg) >= sizeof plan->url || !url_filename(arg, plan->filename, sizeof plan->filename))
            return orx_cli_usage("models", "pull: cannot take a file name from URL '%s'", arg);
        snprintf(plan->url, sizeof plan->url, "%s", arg);
        return 0;
    }
    orx_catalog *cat = NULL;
    int rc = load(o, &cat);
    if (rc) return rc;
    const orx_catalog_model *m = orx_catalog_find(cat, arg);
    if (!m) {
        orx_catalog_free(cat);
        fprintf(stderr, "openrx: models pull: no model named '%s' in the catalog (give a URL to pull any file)\n", arg);
        return 2;
    }
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_catalog_plan_pull(m, o->quant, o->accept, plan, &err);
    orx_catalog_free(cat);
    return st ? orx_cli_fail(st, &err) : 0;
}

static int cmd_pull(int argc, char **argv) {
    opts o;
    int rc = parse_opts(argc, argv, "pull", "NAME or URL", &o);
    if (rc >= 0) return rc;
    if (o.sha256 && !hex64(o.sha256)) return orx_cli_usage("models", "pull: --sha256 needs 64 hex digits");
    orx_pull_plan plan;
    if ((rc = resolve_target(&o, argv[optind], &plan))) return rc;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_mkdir_p(o.dir, &err);
    if (st) return orx_cli_fail(st, &err);
    char dest[4096];
    if (snprintf(dest, sizeof dest, "%s/%s", o.dir, plan.filename) >= (int)sizeof dest)
        return orx_cli_usage("models", "pull: destination path too long");
    orx_download_params p = orx_download_default_params();
    p.url = plan.url;
    p.dest_path = dest;
    p.sha256 = o.sha256 ? o.sha256 : plan.sha256;
    p.bearer_token = getenv("HF_TOKEN");
    if (!o.json) fprintf(stderr, "openrx: fetching %s\n", plan.url);
    orx_download_result res;
    st = orx_download(&p, &res, &err);
    if (st) return orx_cli_fail(st, &err);
    return print_pull(&o, &p, &res);
}

/* ============================================================================================
 * Dispatch
 * ========================================================================================== */
int cmd_models(int argc, char **argv) {
    static const orx_cli_verb verbs[] = {{"list", cmd_list}, {"show", cmd_show}, {"pull", cmd_pull}};
    return orx_cli_dispatch("models", argc, argv, usage, "sub-command", true, verbs, sizeof verbs / sizeof verbs[0]);
}
