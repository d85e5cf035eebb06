/* main.c — `openrx <command> [options]`: dispatch to subcommands. */
#include "cli/cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================================
 * Command table
 * ========================================================================================== */
typedef struct command {
    const char *name;                  /* as typed after `openrx` */
    int (*run)(int argc, char **argv); /* argv[0] = name */
    const char *summary;               /* one line for `openrx --help` */
} command;

static const command COMMANDS[] = {
#define ORX_CMD(name, summary) {#name, cmd_##name, summary},
#include "cli/commands.def"
#undef ORX_CMD
    {NULL, NULL, NULL}, /* sentinel */
};

static void print_help(FILE *out) {
    fprintf(out,
            "openrx %s — local open LLMs for personalised prescription, grounded in drug labels and\n"
            "checked by a deterministic medication-safety checker. Outputs are drafts for clinician review.\n\n"
            "Usage: openrx <command> [options]\n\nCommands:\n", orx_version());
    for (size_t i = 0; COMMANDS[i].name; i++)
        fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "\nOptions:\n  -h, --help     this help\n  -V, --version  print the version\n\n"
                 "Run 'openrx <command> --help' for a command's options.\n"
                 "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input.\n");
}

/* ============================================================================================
 * Shared CLI helpers (declared in cli.h)
 * ========================================================================================== */
int orx_cli_fail(orx_status st, const orx_error *err) {
    const char *msg = err && err->msg[0] ? err->msg : orx_status_message(st);
    fprintf(stderr, "openrx: %s\n", msg);
    int code = orx_exit_code(st);
    return code ? code : 1;
}

int orx_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "openrx %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'openrx %s --help'.\n", cmd);
    va_end(ap);
    return 2;
}

int orx_cli_dispatch(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *word,
                     bool help_verb, const orx_cli_verb *verbs, size_t n) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || (help_verb && !strcmp(argv[1], "help"))) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    optind = 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], verbs[i].name)) return verbs[i].run(argc - 1, argv + 1);
    char names[512];
    size_t k = 0;
    names[0] = 0;
    for (size_t i = 0; i < n && k < sizeof names; i++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", verbs[i].name);
    return orx_cli_usage(cmd, "unknown %s '%s' (%s)", word, argv[1], names);
}

bool orx_cli_parse_int(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool orx_cli_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

bool orx_cli_opt_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, int *out) {
    long v;
    if (!orx_cli_parse_int(arg, lo, hi, &v)) {
        orx_cli_usage(cmd, "%s: '%s' must be %ld..%ld", opt, arg, lo, hi);
        return false;
    }
    *out = (int)v;
    return true;
}

bool orx_cli_opt_double(const char *cmd, const char *opt, const char *arg, double lo, double hi, double *out) {
    if (orx_cli_parse_double(arg, lo, hi, out)) return true;
    orx_cli_usage(cmd, "%s: '%s' must be %g..%g", opt, arg, lo, hi);
    return false;
}

bool orx_cli_opt_seed(const char *cmd, const char *opt, const char *arg, uint64_t *out) {
    long v;
    if (!orx_cli_parse_int(arg, 0, (long)(~0UL >> 1), &v)) {
        orx_cli_usage(cmd, "%s: '%s' is not a non-negative integer", opt, arg);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* ============================================================================================
 * main
 * ========================================================================================== */
int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("openrx %s\n", orx_version());
        return 0;
    }
    for (size_t i = 0; COMMANDS[i].name; i++) {
        if (strcmp(argv[1], COMMANDS[i].name) != 0) continue;
        optind = 1; /* subcommand parses argv[1..] with its own getopt_long */
        opterr = 0;
        return COMMANDS[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "openrx: unknown command '%s'\nRun 'openrx --help' for the list of commands.\n", argv[1]);
    return 2;
}
