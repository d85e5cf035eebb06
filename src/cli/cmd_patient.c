/* cmd_patient.c — `openrx patient show FILE [--as-of DATE] [--json]`: parse a patient (FHIR R4
 * Bundle or openrx form) and print a summary with derived values, or JSON. */
#include "cli/cli.h"
#include "clinical/clinical.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "Usage: openrx patient show FILE [--as-of YYYY-MM-DD] [--json]\n\n"
            "Read a patient from a FHIR R4 Bundle (JSON) or the openrx patient form and print a\n"
            "summary: demographics, active problems, active medicines, allergies, latest labs with\n"
            "dates, pharmacogenes, and derived values (age, BMI, BSA, IBW, AdjBW, Cockcroft-Gault\n"
            "CrCl with its weight choice, CKD-EPI 2021 eGFR, renal and age bands) with formula names.\n\n"
            "Options:\n"
            "  --as-of DATE  date the age and labs refer to (default: today, UTC)\n"
            "  --json        machine-readable output\n"
            "  -h, --help    this help\n\n"
            "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input (with file:line:col\n"
            "for malformed JSON). Files over %u MiB are refused.\n",
            ORX_PATIENT_MAX_BYTES / (1024u * 1024u));
}

static int patient_show(int argc, char **argv) {
    static const struct option opts[] = {
        {"as-of", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *as_of = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': as_of = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("patient", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return orx_cli_usage("patient", "show needs exactly one FILE");
    orx_error err = ORX_ERROR_INIT;
    orx_patient *p = NULL;
    orx_status st = orx_patient_load(argv[optind], as_of, &p, &err);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    orx_buf out;
    orx_buf_init(&out);
    st = json ? orx_patient_to_json(p, &out, &err) : orx_patient_summary(p, &out, &err);
    if (st == ORX_OK) fputs(out.data, stdout);
    orx_buf_clear(&out);
    orx_patient_free(p);
    if (st != ORX_OK) return orx_cli_fail(st, &err);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_patient(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { usage(stdout); return 0; }
    if (argc < 2) return orx_cli_usage("patient", "missing sub-command (show)");
    if (!strcmp(argv[1], "show")) return patient_show(argc - 1, argv + 1);
    return orx_cli_usage("patient", "unknown sub-command '%s' (expected: show)", argv[1]);
}
