/*
 * cli.h — shared conventions for `openrx <command>` subcommands.
 *
 * Every subcommand is `int cmd_<name>(int argc, char **argv)` where argv[0] is the command name;
 * it parses its own options (getopt_long, optind reset by the dispatcher), supports --help and,
 * where it prints results, --json. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input.
 * Errors go to stderr as "openrx: <file>:<line>:<col>: <what is wrong>" where a location exists.
 * To add a command: write src/cli/cmd_<name>.c and add one ORX_CMD line to commands.def.
 */
#ifndef ORX_CLI_H
#define ORX_CLI_H

#include "openrx.h"
#include "util/util.h"
#include <stdio.h>

#define ORX_CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "cli/commands.def"
#undef ORX_CMD

/* Print "openrx: <err->msg or status message>" to stderr; return the exit code for st. */
int orx_cli_fail(orx_status st, const orx_error *err);
/* Print "openrx <cmd>: <message>" and "Try 'openrx <cmd> --help'." to stderr; return 2. */
int orx_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A command's verbs ("openrx kb build ..."): name and the function run with argv shifted by one
 * (argv[0] = the verb). */
typedef struct orx_cli_verb {
    const char *name;
    int (*run)(int argc, char **argv);
} orx_cli_verb;
/* Run argv[1]'s verb (optind reset). No verb: usage to stderr, 2; --help, -h (and "help" when
 * help_verb): usage to stdout, 0; an unknown one: "unknown <word> 'X' (a, b, c)", 2. */
int orx_cli_dispatch(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *word,
                     bool help_verb, const orx_cli_verb *verbs, size_t n);
/* Parse a whole decimal integer/float option value; false if malformed or out of [lo, hi]. */
bool orx_cli_parse_int(const char *s, long lo, long hi, long *out);
bool orx_cli_parse_double(const char *s, double lo, double hi, double *out);
/* An option value for cmd's option opt ("--jobs", "-k"): a whole number in [lo, hi] into *out, or
 * the usage error "<opt>: '<arg>' must be <lo>..<hi>" printed and false. The double form prints its
 * bounds with %g; the seed form takes 0..LONG_MAX ("<opt>: '<arg>' is not a non-negative integer"). */
bool orx_cli_opt_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, int *out);
bool orx_cli_opt_double(const char *cmd, const char *opt, const char *arg, double lo, double hi, double *out);
bool orx_cli_opt_seed(const char *cmd, const char *opt, const char *arg, uint64_t *out);

#endif
