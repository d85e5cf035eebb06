/*
 * cmd_audit.c — `openrx audit verify|show`: the hash-chained audit log written by recommend,
 * serve (recommendations and CDS Hooks feedback).
 *
 *   openrx audit verify FILE [--anchor SHA256] [--allow-legacy] [--json]
 *       exit 0: chain intact; 1: broken (the first broken record is named); 2: usage/unreadable
 *   openrx audit show FILE [--last N] [--seq N] [--json]
 */
#include "cli/cli.h"
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "Usage: openrx audit verify FILE [--anchor SHA256] [--allow-legacy] [--json]\n"
            "       openrx audit show FILE [--last N] [--seq N] [--json]\n\n"
            "The audit log (default openrx-audit.jsonl) has one JSON record per line; each carries \"seq\" (its\n"
            "line number) and \"prev_sha256\" (SHA-256 of the previous line), so an edited, inserted or removed\n"
            "record breaks the chain at the record after it.\n\n"
            "verify  walk the chain; print the record count and the head hash (SHA-256 of the last record).\n"
            "        Keep the head hash somewhere else: --anchor HASH later proves that nothing up to that\n"
            "        record was changed and that the log was not cut before it (which the chain alone cannot).\n"
            "        --allow-legacy accepts records written before the chain existed, at the start of the file.\n"
            "        Exit 0 intact, 1 broken (first broken record named), 2 bad usage or unreadable file.\n"
            "show    list records: seq, time, type, status, mode, model, indication, findings by severity\n"
            "        (--last N: the last N; --seq N: one record in full; --json: the records as a JSON array).\n");
}

/* ============================================================================================
 * verify
 * ========================================================================================== */
static int audit_verify(int argc, char **argv) {
    static const struct option opts[] = {{"anchor", required_argument, 0, 'a'}, {"allow-legacy", no_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    orx_audit_verify_params p = orx_audit_verify_default_params();
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (strlen(optarg) != 64 || strspn(optarg, "0123456789abcdef") != 64)
                return orx_cli_usage("audit verify", "--anchor must be 64 lower-case hex digits");
            p.anchor = optarg;
            break;
        case 'l': p.allow_legacy = true; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("audit verify", "unknown option");
        }
    }
    if (optind + 1 != argc) return orx_cli_usage("audit verify", "give one audit log FILE");
    const char *path = argv[optind];
    orx_audit_report r;
    orx_error err = ORX_ERROR_INIT;
    orx_status st = orx_audit_verify(path, &p, &r, &err);
    if (st != ORX_OK) {
        orx_cli_fail(st, &err);
        return 2; /* unreadable: not a verdict on the chain */
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "ok", json_boolean(r.ok));
        json_object_set_new(o, "records", json_integer(r.records));
        json_object_set_new(o, "legacy", json_integer(r.legacy));
        json_object_set_new(o, "head_sha256", json_string(r.head_sha256));
        if (p.anchor) json_object_set_new(o, "anchor_line", r.anchor_line ? json_integer(r.anchor_line) : json_null());
        if (!r.ok) {
            json_t *b = json_object();
            json_object_set_new(b, "line", r.broken_line ? json_integer(r.broken_line) : json_null());
            json_object_set_new(b, "seq", r.broken_seq >= 0 && r.broken_line ? json_integer(r.broken_seq) : json_null());
            json_object_set_new(b, "reason", json_string(r.reason));
            json_object_set_new(o, "first_broken", b);
        }
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else if (r.ok) {
        printf("%s: chain intact: %ld records%s, head sha256 %s\n", path, r.records,
               r.legacy ? " (the first ones without chain fields, accepted by --allow-legacy)" : "", r.head_sha256);
        if (p.anchor) printf("anchor found at line %ld\n", r.anchor_line);
    } else if (r.broken_line) {
        fprintf(stderr, "openrx: %s:%ld: BROKEN: %s\n", path, r.broken_line, r.reason);
        printf("%s: first broken record: line %ld; the %ld records before it verify (head sha256 %s)\n", path,
               r.broken_line, r.records, r.head_sha256);
    } else {
        fprintf(stderr, "openrx: %s: BROKEN: %s\n", path, r.reason);
    }
    return r.ok ? 0 : 1;
}

/* ============================================================================================
 * show
 * ========================================================================================== */
typedef struct show_ctx {
    long    first, only; /* lines to print: from first; or only this seq (0 = all) */
    bool    json;        /* collect into arr */
    json_t *arr;         /* records (json) */
    long    lines;       /* lines seen */
} show_ctx;

static void print_row(long lineno, json_t *o) {
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *time = json_string_value(json_object_get(o, "time"));
    const char *status = json_string_value(json_object_get(o, "status"));
    const char *mode = json_string_value(json_object_get(o, "mode"));
    const char *model = json_string_value(json_object_get(o, "model"));
    const char *ind = json_string_value(json_object_get(o, "indication"));
    json_t *seq = json_object_get(o, "seq");
    int counts[5] = {0};
    static const char *const SEV[5] = {"info", "minor", "moderate", "major", "contraindicated"};
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(o, "findings"), i, f) {
        const char *sv = json_string_value(json_object_get(f, "severity"));
        for (int k = 0; sv && k < 5; k++)
            if (!strcmp(sv, SEV[k])) counts[k]++;
    }
    printf("%5ld  %-20s  %-15s  %-8s  %-9s  %-24.24s  %-40.40s  ci %d maj %d mod %d min %d inf %d\n",
           json_is_integer(seq) ? (long)json_integer_value(seq) : -lineno, time ? time : "-",
           type ? type : json_object_get(o, "feedback") ? "cds-feedback" : "recommendation", status ? status : "-",
           mode ? mode : "-", model ? model : "-", ind ? ind : "-", counts[4], counts[3], counts[2], counts[1], counts[0]);
}

static orx_status show_line(void *ctx, long lineno, const char *line, size_t len, bool complete, orx_error *err) {
    show_ctx *sc = ctx;
    sc->lines = lineno;
    if (lineno < sc->first) return ORX_OK;
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        if (!sc->json) printf("%5ld  (not a JSON record%s)\n", -lineno, complete ? "" : ": incomplete last line");
        return ORX_OK;
    }
    json_t *seq = json_object_get(o, "seq");
    if (sc->only && !(json_is_integer(seq) && json_integer_value(seq) == sc->only)) { json_decref(o); return ORX_OK; }
    if (sc->json || sc->only) {
        if (sc->json) json_array_append(sc->arr, o);
        else {
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", s);
            free(s);
        }
    } else {
        print_row(lineno, o);
    }
    json_decref(o);
    (void)err;
    return ORX_OK;
}

static orx_status count_line(void *ctx, long lineno, const char *line, size_t len, bool complete, orx_error *err) {
    (void)line, (void)len, (void)complete, (void)err;
    *(long *)ctx = lineno;
    return ORX_OK;
}

static int audit_show(int argc, char **argv) {
    static const struct option opts[] = {{"last", required_argument, 0, 'n'}, {"seq", required_argument, 0, 's'},
                                         {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    show_ctx sc = {.first = 1};
    long last = 0, v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!orx_cli_parse_int(optarg, 1, 100000000, &v)) return orx_cli_usage("audit show", "--last must be a positive integer");
            last = v;
            break;
        case 's':
            if (!orx_cli_parse_int(optarg, 1, 1L << 40, &v)) return orx_cli_usage("audit show", "--seq must be a positive integer");
            sc.only = v;
            break;
        case 'j': sc.json = true; break;
        case 'h': usage(stdout); return 0;
        default: return orx_cli_usage("audit show", "unknown option");
        }
    }
    if (optind + 1 != argc) return orx_cli_usage("audit show", "give one audit log FILE");
    const char *path = argv[optind];
    orx_error err = ORX_ERROR_INIT;
    if (last) {
        long total = 0;
        if (orx_audit_each(path, count_line, &total, &err) != ORX_OK) { orx_cli_fail(err.code, &err); return 2; }
        sc.first = total - last + 1;
    }
    if (sc.json) sc.arr = json_array();
    else if (!sc.only)
        printf("%5s  %-20s  %-15s  %-8s  %-9s  %-24s  %-40s  findings\n", "seq", "time", "type", "status", "mode", "model",
               "indication");
    orx_status st = orx_audit_each(path, show_line, &sc, &err);
    if (st != ORX_OK) {
        json_decref(sc.arr);
        orx_cli_fail(st, &err);
        return 2;
    }
    if (sc.json) {
        char *s = json_dumps(sc.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(sc.arr);
    }
    return 0;
}

int cmd_audit(int argc, char **argv) {
    static const orx_cli_verb verbs[] = {{"verify", audit_verify}, {"show", audit_show}};
    return orx_cli_dispatch("audit", argc, argv, usage, "verb", false, verbs, sizeof verbs / sizeof verbs[0]);
}
