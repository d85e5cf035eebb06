/* cmd_check.c — `openrx check --patient FILE [--drug TEXT]... [--json] [--fail-on TIER]`: run the
 * medication-safety checker on proposed drugs, or on the patient's current list pairwise. */
#include "cli/cli.h"
#include "safety/safety.h"
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK_MAX_DRUGS 64 /* --drug options accepted */

static void usage(FILE *out) {
    fprintf(out,
            "Usage: openrx check --patient FILE [--drug TEXT|RXCUI]... [--indication TEXT] [--json]\n"
            "                    [--fail-on TIER] [--min-severity TIER] [--as-of YYYY-MM-DD]\n"
            "                    [--data DIR] [--bench N]\n\n"
            "Deterministic medication-safety check. With --drug: each proposed drug (free text with an\n"
            "optional dose, e.g. \"ibuprofen 400 mg orally every 6 hours\", a brand, an RxNorm clinical\n"
            "drug string or an RxCUI) is checked against the patient (active medicines, allergies, labs,\n"
            "genotype) and against the other proposed drugs. Without --drug: the patient's current\n"
            "active list is checked, every pair once.\n"
            "Checks: interactions (ONC high-priority / non-interruptive lists, VA NDF-RT, HL7 PDDI-CDS,\n"
            "rules derived from FDA label text: data/rules/label_ddi.tsv, both directions), duplicate\n"
            "therapy, allergy, and the label-derived checks registered in the checker. All sources'\n"
            "hits for one pair of drugs are one finding (highest tier; the others under 'also').\n"
            "Every finding has a tier (contraindicated > major > moderate > minor > info), the drugs,\n"
            "the patient fact that triggered it, management text where the source has one, and the\n"
            "source + citation. An unrecognised drug is a finding, never silently skipped.\n\n"
            "Options:\n"
            "  --patient FILE       FHIR R4 Bundle or openrx patient form (required)\n"
            "  --drug TEXT          proposed drug (repeatable, up to %d); a combination strength may\n"
            "                       be written \"800 mg/160 mg\" or \"800-160 mg\"\n"
            "  --indication TEXT    what the proposed drugs are for (e.g. \"atrial fibrillation\");\n"
            "                       label doses and rules scoped to an indication use it, else the\n"
            "                       patient's active problems (when neither decides: the label\n"
            "                       statements per indication are listed as info)\n"
            "  --json               machine-readable output\n"
            "  --fail-on TIER       exit 3 when a finding at or above TIER exists\n"
            "                       (TIER: info, minor, moderate, major, contraindicated)\n"
            "  --min-severity TIER  drop findings below TIER (default info = show all)\n"
            "  --as-of DATE         date the patient's age and labs refer to (default today)\n"
            "  --data DIR           project data/ folder (default $ORX_DATA_DIR or the source tree's)\n"
            "  --bench N            after the check, repeat it N times (drug resolution + every check)\n"
            "                       and print the latency per proposed drug (p50 / p95 / mean) and\n"
            "                       the checker's load time\n"
            "  -h, --help           this help\n\n"
            "Exit codes: 0 checked (findings printed, whatever their tier); 3 with --fail-on when a\n"
            "finding at/above the tier exists; 1 runtime failure; 2 bad usage or bad input (unreadable\n"
            "patient, a --drug dose that cannot be parsed or has contradictory units).\n",
            CHECK_MAX_DRUGS);
}

static json_t *drug_json(const orx_proposed_drug *d) {
    json_t *o = json_object(), *ing = json_array();
    json_object_set_new(o, "text", json_string(d->text));
    for (int i = 0; i < d->n_ingr; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "ingredient", json_string(d->ingr[i].ingredient));
        json_object_set_new(e, "rxcui", json_string(d->ingr[i].rxcui));
        json_object_set_new(e, "matched_by", json_string(d->ingr[i].matched_by));
        json_array_append_new(ing, e);
    }
    json_object_set_new(o, "ingredients", ing);
    json_object_set_new(o, "recognised", json_boolean(d->n_ingr > 0));
    if (d->indication[0]) json_object_set_new(o, "indication", json_string(d->indication));
    if (d->dose.present || d->dose.route[0] || d->dose.frequency[0]) {
        json_t *ds = json_object();
        if (d->dose.present) {
            json_object_set_new(ds, "amount", json_real(d->dose.amount));
            json_object_set_new(ds, "unit", json_string(d->dose.unit));
        }
        json_object_set_new(ds, "route", json_string(d->dose.route));
        json_object_set_new(ds, "frequency", json_string(d->dose.frequency));
        if (d->dose.per_day > 0) json_object_set_new(ds, "per_day", json_real(d->dose.per_day));
        json_object_set_new(ds, "prn", json_boolean(d->dose.prn));
        if (d->dose.daily_amount > 0) json_object_set_new(ds, "daily_amount", json_real(d->dose.daily_amount));
        if (d->dose.n_parts > 1) {
            json_t *parts = json_array();
            for (int k = 0; k < d->dose.n_parts; k++) json_array_append_new(parts, json_real(d->dose.part[k]));
            json_object_set_new(ds, "parts", parts);
        }
        json_object_set_new(o, "dose", ds);
    }
    return o;
}

static void print_drug(const orx_proposed_drug *d) {
    char name[512];
    printf("  %s -> %s", d->text, d->n_ingr ? orx_proposed_drug_name(d, name, sizeof name) : "NOT RECOGNISED");
    if (d->dose.present && d->dose.n_parts > 1) {
        printf("; dose");
        for (int k = 0; k < d->dose.n_parts; k++) printf("%s%g %s", k ? " + " : " ", d->dose.part[k], d->dose.unit);
    } else if (d->dose.present) {
        printf("; dose %g %s", d->dose.amount, d->dose.unit);
    }
    if (d->dose.route[0]) printf("; route %s", d->dose.route);
    if (d->dose.frequency[0]) printf("; %s", d->dose.frequency);
    if (d->dose.prn) printf("; as needed");
    if (d->indication[0]) printf("; for %s", d->indication);
    printf("\n");
}

typedef struct check_opts {
    const char  *patient, *as_of, *data;       /* paths / date */
    const char  *indication;                   /* --indication, NULL when not given */
    const char  *drugs[CHECK_MAX_DRUGS];       /* --drug values */
    int          n_drugs;                      /* count */
    bool         json, fail_set;               /* flags */
    long         bench;                        /* --bench N: time N repeats of the check */
    orx_severity fail_on, min_sev;             /* tiers */
} check_opts;

static int parse_opts(int argc, char **argv, check_opts *o) {
    static const struct option opts[] = {
        {"patient", required_argument, NULL, 'p'}, {"drug", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},          {"fail-on", required_argument, NULL, 'f'},
        {"min-severity", required_argument, NULL, 'm'}, {"as-of", required_argument, NULL, 'a'},
        {"data", required_argument, NULL, 'D'},    {"help", no_argument, NULL, 'h'},
        {"indication", required_argument, NULL, 'i'}, {"bench", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->patient = optarg; break;
        case 'd':
            if (o->n_drugs >= CHECK_MAX_DRUGS) return orx_cli_usage("check", "at most %d --drug options", CHECK_MAX_DRUGS);
            o->drugs[o->n_drugs++] = optarg;
            break;
        case 'j': o->json = true; break;
        case 'f':
            if (!orx_severity_parse(optarg, &o->fail_on))
                return orx_cli_usage("check", "--fail-on: unknown tier '%s' (info, minor, moderate, major, contraindicated)", optarg);
            o->fail_set = true;
            break;
        case 'm':
            if (!orx_severity_parse(optarg, &o->min_sev))
                return orx_cli_usage("check", "--min-severity: unknown tier '%s'", optarg);
            break;
        case 'a': o->as_of = optarg; break;
        case 'D': o->data = optarg; break;
        case 'i': o->indication = optarg; break;
        case 'b':
            if (!orx_cli_parse_int(optarg, 1, 1000000, &o->bench))
                return orx_cli_usage("check", "--bench: expected a count 1..1000000, got '%s'", optarg);
            break;
        case 'h': usage(stdout); return -1;
        default: return orx_cli_usage("check", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc) return orx_cli_usage("check", "unexpected argument '%s'", argv[optind]);
    if (!o->patient) return orx_cli_usage("check", "--patient FILE is required");
    if (o->indication && !o->n_drugs)
        return orx_cli_usage("check", "--indication applies to proposed drugs: give --drug too");
    return 0;
}

static int report(const check_opts *o, const orx_patient *pt, const orx_proposed_drug *drugs,
                  const orx_findings *fs) {
    size_t counts[ORX_SEV_COUNT];
    orx_findings_count(fs, counts);
    orx_error err = ORX_ERROR_INIT;
    orx_buf b;
    orx_buf_init(&b);
    orx_status st = ORX_OK;
    if (o->json) {
        json_t *root = json_object(), *dl = json_array(), *cn = json_object();
        json_object_set_new(root, "patient", json_string(pt->id));
        json_object_set_new(root, "mode", json_string(o->n_drugs ? "proposed" : "current"));
        for (int i = 0; i < o->n_drugs; i++) json_array_append_new(dl, drug_json(&drugs[i]));
        json_object_set_new(root, "proposed", dl);
        for (int i = 0; i < ORX_SEV_COUNT; i++) json_object_set_new(cn, orx_severity_name((orx_severity)i), json_integer((json_int_t)counts[i]));
        json_object_set_new(root, "counts", cn);
        json_t *farr = orx_findings_json(fs, false);
        json_object_set_new(root, "findings", farr ? farr : json_array());
        json_object_set_new(root, "notice", json_string(ORX_DRAFT_NOTICE));
        char *s = json_dumps(root, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(root);
    } else {
        printf("Patient %s (%s): %zu active medicine%s, %zu allerg%s\n", pt->id[0] ? pt->id : "-",
               pt->source, pt->n_meds, pt->n_meds == 1 ? "" : "s", pt->n_allergies,
               pt->n_allergies == 1 ? "y" : "ies");
        if (o->n_drugs) {
            printf("Proposed:\n");
            for (int i = 0; i < o->n_drugs; i++) print_drug(&drugs[i]);
        } else {
            printf("Checking the current active list pairwise.\n");
        }
        printf("\n");
        st = orx_findings_to_text(fs, &b, &err);
        if (st == ORX_OK) fputs(b.data, stdout);
        printf("\nFindings: %zu contraindicated, %zu major, %zu moderate, %zu minor, %zu info\n",
               counts[ORX_SEV_CONTRAINDICATED], counts[ORX_SEV_MAJOR], counts[ORX_SEV_MODERATE],
               counts[ORX_SEV_MINOR], counts[ORX_SEV_INFO]);
        printf("%s\n", ORX_DRAFT_NOTICE);
    }
    orx_buf_clear(&b);
    if (st) return orx_cli_fail(st, &err);
    if (fflush(stdout) != 0) return 1;
    orx_severity mx;
    if (o->fail_set && orx_findings_max_severity(fs, &mx) && mx >= o->fail_on) return 3;
    return 0;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --bench: N timed repeats of what `check` does once the checker is loaded. */
static int bench(const check_opts *o, const orx_checker *ck, const orx_patient *pt, double load_s) {
    double *t = malloc((size_t)o->bench * 2 * sizeof *t), *cpu = t ? t + o->bench : NULL;
    orx_proposed_drug *d = calloc((size_t)o->n_drugs + 1, sizeof *d);
    orx_error err = ORX_ERROR_INIT;
    if (!t || !d) { free(t); free(d); return orx_cli_fail(orx_fail(&err, ORX_ERR_NOMEM, "out of memory"), &err); }
    size_t findings = 0;
    for (long r = 0; r < o->bench; r++) {
        double t0 = orx_now(), c0 = cpu_now();
        orx_findings fs;
        orx_findings_init(&fs);
        for (int i = 0; i < o->n_drugs; i++) orx_proposed_drug_init(ck, o->drugs[i], NULL, &d[i], &err);
        orx_status st = o->n_drugs ? orx_check_proposed(ck, pt, d, (size_t)o->n_drugs, &fs, &err)
                                   : orx_check_current(ck, pt, &fs, &err);
        t[r] = orx_now() - t0;
        cpu[r] = cpu_now() - c0;
        findings = fs.n;
        orx_findings_clear(&fs);
        if (st) { free(t); free(d); return orx_cli_fail(st, &err); }
    }
    qsort(t, (size_t)o->bench, sizeof *t, cmp_double);
    qsort(cpu, (size_t)o->bench, sizeof *cpu, cmp_double);
    double sum = 0;
    for (long r = 0; r < o->bench; r++) sum += t[r];
    double per = o->n_drugs ? (double)o->n_drugs : (double)(pt->n_meds ? pt->n_meds : 1);
    double p50 = t[o->bench / 2], p95 = t[(long)((double)o->bench * 0.95) < o->bench ? (long)((double)o->bench * 0.95) : o->bench - 1];
    printf("bench: %ld runs, %d proposed drug%s vs %zu active medicine%s, %zu findings per run\n"
           "bench: per %s: p50 %.3f ms, p95 %.3f ms, mean %.3f ms (whole check p50 %.3f ms); checker load %.1f ms\n"
           "bench: CPU time per %s: p50 %.3f ms, p95 %.3f ms (thread CPU: not inflated by other load)\n",
           o->bench, o->n_drugs, o->n_drugs == 1 ? "" : "s", pt->n_meds, pt->n_meds == 1 ? "" : "s", findings,
           o->n_drugs ? "proposed drug" : "current medicine", 1e3 * p50 / per, 1e3 * p95 / per,
           1e3 * sum / (double)o->bench / per, 1e3 * p50, 1e3 * load_s, o->n_drugs ? "proposed drug" : "current medicine",
           1e3 * cpu[o->bench / 2] / per, 1e3 * cpu[o->bench - 1 - o->bench / 20] / per);
    free(t);
    free(d);
    return 0;
}

int cmd_check(int argc, char **argv) {
    check_opts o = {.min_sev = ORX_SEV_INFO};
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    orx_error err = ORX_ERROR_INIT;
    orx_patient *pt = NULL;
    orx_status st = orx_patient_load(o.patient, o.as_of, &pt, &err);
    if (st) return orx_cli_fail(st, &err);
    orx_checker_params cp = orx_checker_default_params();
    cp.data_dir = o.data;
    cp.min_severity = o.min_sev;
    orx_checker *ck = NULL;
    double t_load = orx_now();
    st = orx_checker_create(&cp, &ck, &err);
    t_load = orx_now() - t_load;
    if (st) {
        orx_patient_free(pt);
        return orx_cli_fail(st, &err);
    }
    orx_proposed_drug *drugs = calloc((size_t)o.n_drugs + 1, sizeof *drugs);
    orx_findings fs;
    orx_findings_init(&fs);
    rc = -1;
    if (!drugs) rc = orx_cli_fail(orx_fail(&err, ORX_ERR_NOMEM, "out of memory"), &err);
    for (int i = 0; rc < 0 && i < o.n_drugs; i++) {
        st = orx_proposed_drug_init(ck, o.drugs[i], NULL, &drugs[i], &err);
        if (st) rc = orx_cli_fail(st, &err);
        else if (o.indication)
            snprintf(drugs[i].indication, sizeof drugs[i].indication, "%s", o.indication);
        if (rc < 0 && drugs[i].dose_error[0]) {
            fprintf(stderr, "openrx check: --drug \"%s\": %s\n", o.drugs[i], drugs[i].dose_error);
            rc = 2;
        }
    }
    if (rc < 0) {
        st = o.n_drugs ? orx_check_proposed(ck, pt, drugs, (size_t)o.n_drugs, &fs, &err)
                       : orx_check_current(ck, pt, &fs, &err);
        rc = st ? orx_cli_fail(st, &err) : report(&o, pt, drugs, &fs);
        if ((rc == 0 || rc == 3) && o.bench > 0) {
            int brc = bench(&o, ck, pt, t_load);
            if (brc) rc = brc;
        }
    }
    orx_findings_clear(&fs);
    free(drugs);
    orx_checker_free(ck);
    orx_patient_free(pt);
    return rc;
}
