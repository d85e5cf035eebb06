/* cmd_lexicon.c — `openrx lexicon lookup TEXT|RXCUI [--json]`, `openrx lexicon stats`:
 * normalise a drug name, brand, salt, clinical-drug string or RxCUI to ingredient(s). */
#include "cli/cli.h"
#include "lexicon/lexicon.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define LEX_CLI_MAX 16 /* ingredients shown per lookup */
#define LEX_CLI_LIST 24 /* synonyms/classes listed per ingredient */

static void usage(FILE *out) {
    fprintf(out,
            "Usage: openrx lexicon lookup TEXT|RXCUI [--json] [--data DIR]\n"
            "       openrx lexicon lookup --stdin [--data DIR]   (one TEXT per line; prints\n"
            "                                      'TEXT<TAB>ingredient;ingredient', '' when unknown)\n"
            "       openrx lexicon stats [--json] [--data DIR]\n\n"
            "Normalise a drug as written — ingredient, salt (\"warfarin sodium\"), brand (\"Coumadin\"),\n"
            "RxNorm clinical-drug string (\"warfarin sodium 5 MG Oral Tablet\"), combination, free text\n"
            "(\"ibuprofen 400 mg orally every 6 hours\") or RxCUI (855332) — to its ingredient(s), with\n"
            "how it matched, the ingredient's brands/synonyms and its sourced classes.\n"
            "Data: data/lexicon/lexicon.tsv (see data/lexicon/SOURCE.md).\n\n"
            "Options:\n"
            "  --json      machine-readable output\n"
            "  --data DIR  project data/ folder (default: $ORX_DATA_DIR or the source tree's data/)\n"
            "  -h, --help  this help\n\n"
            "Exit codes: 0 recognised, 1 not recognised or runtime failure, 2 bad usage.\n");
}

static void print_text(const orx_lexicon *L, const char *q, const orx_lex_match *m, int n) {
    if (n == 0) {
        printf("%s: not recognised\n", q);
        return;
    }
    printf("%s -> %d ingredient%s\n", q, n, n == 1 ? "" : "s");
    char list[LEX_CLI_LIST][ORX_LEX_NAME];
    for (int i = 0; i < n && i < LEX_CLI_MAX; i++) {
        printf("  %s%s%s%s  (matched by %s: \"%s\")\n", m[i].ingredient,
               m[i].rxcui[0] ? " [RxCUI " : "", m[i].rxcui, m[i].rxcui[0] ? "]" : "",
               m[i].matched_by, m[i].matched);
        int k = orx_lexicon_brands(L, m[i].ingredient, list, LEX_CLI_LIST);
        if (k > 0) {
            printf("    brands:");
            for (int j = 0; j < k && j < LEX_CLI_LIST; j++) printf("%s %s", j ? "," : "", list[j]);
            printf("%s\n", k > LEX_CLI_LIST ? ", ..." : "");
        }
        k = orx_lexicon_classes(L, m[i].ingredient, list, LEX_CLI_LIST);
        for (int j = 0; j < k && j < LEX_CLI_LIST; j++)
            printf("    class: %s [%s]  (%s)\n", list[j],
                   orx_class_type_name(orx_lexicon_class_types(L, m[i].ingredient, list[j])),
                   orx_lexicon_class_source(L, m[i].ingredient, list[j]));
    }
}

static json_t *to_json(const orx_lexicon *L, const char *q, const orx_lex_match *m, int n) {
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "query", json_string(q));
    json_object_set_new(o, "recognised", json_boolean(n > 0));
    char list[LEX_CLI_LIST][ORX_LEX_NAME];
    for (int i = 0; i < n && i < LEX_CLI_MAX; i++) {
        json_t *e = json_object(), *b = json_array(), *c = json_array();
        json_object_set_new(e, "ingredient", json_string(m[i].ingredient));
        json_object_set_new(e, "rxcui", json_string(m[i].rxcui));
        json_object_set_new(e, "matched_by", json_string(m[i].matched_by));
        json_object_set_new(e, "matched", json_string(m[i].matched));
        int k = orx_lexicon_brands(L, m[i].ingredient, list, LEX_CLI_LIST);
        for (int j = 0; j < k && j < LEX_CLI_LIST; j++) json_array_append_new(b, json_string(list[j]));
        k = orx_lexicon_classes(L, m[i].ingredient, list, LEX_CLI_LIST);
        for (int j = 0; j < k && j < LEX_CLI_LIST; j++) {
            json_t *cl = json_object();
            json_object_set_new(cl, "class", json_string(list[j]));
            json_object_set_new(cl, "type", json_string(orx_class_type_name(
                                                orx_lexicon_class_types(L, m[i].ingredient, list[j]))));
            json_object_set_new(cl, "source",
                                json_string(orx_lexicon_class_source(L, m[i].ingredient, list[j])));
            json_array_append_new(c, cl);
        }
        json_object_set_new(e, "brands", b);
        json_object_set_new(e, "classes", c);
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "ingredients", arr);
    return o;
}

int cmd_lexicon(int argc, char **argv) {
    /* options may come before or after the sub-command and its argument */
    bool json = false, from_stdin = false;
    const char *data = NULL, *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--stdin")) from_stdin = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--data")) {
            if (++i >= argc) return orx_cli_usage("lexicon", "--data needs a DIR");
            data = argv[i];
        } else if (!strncmp(a, "--data=", 7)) data = a + 7;
        else if (a[0] == '-' && a[1] == '-') return orx_cli_usage("lexicon", "unknown option '%s'", a);
        else if (npos < 3) pos[npos++] = a;
        else return orx_cli_usage("lexicon", "too many arguments");
    }
    if (npos == 0) return orx_cli_usage("lexicon", "missing sub-command (lookup, stats)");
    const char *verb = pos[0];
    bool lookup = strcmp(verb, "lookup") == 0, stats = strcmp(verb, "stats") == 0;
    if (!lookup && !stats)
        return orx_cli_usage("lexicon", "unknown sub-command '%s' (expected: lookup, stats)", verb);
    if (lookup && npos != 2 && !(from_stdin && npos == 1))
        return orx_cli_usage("lexicon", "lookup needs exactly one TEXT|RXCUI (or --stdin)");
    if (stats && npos != 1) return orx_cli_usage("lexicon", "stats takes no arguments");
    orx_error err = ORX_ERROR_INIT;
    orx_lexicon *L = NULL;
    orx_status st = orx_lexicon_open(data, &L, &err);
    if (st) return orx_cli_fail(st, &err);
    int rc = 0;
    if (stats) {
        orx_lexicon_stats s;
        orx_lexicon_get_stats(L, &s);
        if (json)
            printf("{\"ingredients\": %zu, \"names\": %zu, \"rxcuis\": %zu, \"classes\": %zu, "
                   "\"class_members\": %zu}\n", s.ingredients, s.names, s.rxcuis, s.classes,
                   s.class_members);
        else
            printf("ingredients %zu\nnames %zu\nrxcuis %zu\nclasses %zu\nclass memberships %zu\n",
                   s.ingredients, s.names, s.rxcuis, s.classes, s.class_members);
    } else if (from_stdin) {
        char line[4096];
        while (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\r\n")] = 0;
            orx_lex_match m[LEX_CLI_MAX];
            int n = orx_lexicon_lookup(L, line, m, LEX_CLI_MAX);
            printf("%s\t", line);
            for (int i = 0; i < n && i < LEX_CLI_MAX; i++) printf("%s%s", i ? ";" : "", m[i].ingredient);
            printf("\n");
        }
    } else {
        const char *q = pos[1];
        orx_lex_match m[LEX_CLI_MAX];
        int n = orx_lexicon_lookup(L, q, m, LEX_CLI_MAX);
        if (n > LEX_CLI_MAX) n = LEX_CLI_MAX;
        if (json) {
            json_t *o = to_json(L, q, m, n);
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
            if (s) puts(s);
            free(s);
            json_decref(o);
        } else {
            print_text(L, q, m, n);
        }
        rc = n > 0 ? 0 : 1;
    }
    orx_lexicon_free(L);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
