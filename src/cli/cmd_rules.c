/* cmd_rules.c — `openrx rules ddi`: derive label interaction rules from FDA label text into a
 * reviewable table (data/rules/label_ddi.tsv); `openrx rules pair A B` / `rules pairs FILE`: what
 * the checker's interaction and duplicate rules say about ingredient pairs. */
#include "cli/cli.h"
#include "lexicon/lexicon.h"
#include "safety/ddi_extract.h"
#include "safety/safety.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX_FROM 16 /* --from paths */

static void usage(FILE *out) {
    fprintf(out,
            "Usage: openrx rules ddi [--from PATH]... [--out FILE] [--json] [--data DIR] [--quiet]\n"
            "       openrx rules ddi --label INGREDIENT[;INGREDIENT] --text TEXT [--section CODE] [--json]\n"
            "       openrx rules pair DRUG_A DRUG_B [--json] [--data DIR]\n"
            "       openrx rules pairs FILE [--data DIR]\n\n"
            "ddi    read every label under the --from paths (openFDA JSON, SPL XML, labels_sections.jsonl,\n"
            "       NLM/fda-ars text; default: the data dir's labels/) and write the label-derived\n"
            "       interaction rules and role memberships, each with its verbatim sentence, set id and\n"
            "       section (default --out: <data>/rules/label_ddi.tsv; written whole or not at all).\n"
            "       Prints counts per tier (--json: as JSON).\n"
            "       With --text: the rules one piece of label text gives (section CODE, default\n"
            "       34073-7 Drug Interactions), printed as TSV rows (--json: JSON) — for review and tests.\n"
            "pair   the checker's interaction findings for two drugs (names, brands, RxCUIs), best first.\n"
            "pairs  FILE has 'DRUG_A<TAB>DRUG_B' lines; prints 'A<TAB>B<TAB>tier<TAB>kinds<TAB>sources'\n"
            "       per line (tier 'none' when nothing fires; 'unrecognised' when a drug is unknown).\n\n"
            "Options:\n"
            "  --from PATH  label file or directory (repeatable)\n"
            "  --out FILE   where to write the table\n"
            "  --json       machine-readable output\n"
            "  --data DIR   project data/ folder (default: $ORX_DATA_DIR or the source tree's data/)\n"
            "  --quiet      no per-label notes\n"
            "  --keep-repeats  keep a statement once per label (default: once per label drug; for\n"
            "               per-label evaluation, bench/ddi_nlm.py)\n"
            "  -h, --help   this help\n\n"
            "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input.\n");
}

/* ============================================================================================
 * rules ddi
 * ========================================================================================== */
static int do_text(const char *data, const char *label, const char *code, const char *text, bool json) {
    orx_error err = ORX_ERROR_INIT;
    orx_lexicon *L = NULL;
    orx_status st = orx_lexicon_open(data, &L, &err);
    if (st) return orx_cli_fail(st, &err);
    char terms[4200];
    snprintf(terms, sizeof terms, "%s/interactions/class_terms.tsv", data ? data : orx_lexicon_default_data_dir());
    orx_ddi_extractor *x = NULL;
    orx_ddi_rules rules;
    orx_ddi_rules_init(&rules);
    st = orx_ddi_extractor_create(L, terms, &x, &err);
    const char *name = orx_kb_section_name(code);
    if (!st) st = orx_ddi_extract_section(x, label, "text", "", code, name ? name : "", text, &rules, &err);
    orx_buf b;
    orx_buf_init(&b);
    if (!st) orx_ddi_rules_sort(&rules, true);
    if (!st) st = json ? orx_ddi_rules_to_json(&rules, &b, &err) : orx_ddi_rules_to_tsv(&rules, &b, &err);
    if (!st) fputs(b.data ? b.data : "", stdout);
    orx_buf_clear(&b);
    orx_ddi_rules_clear(&rules);
    orx_ddi_extractor_free(x);
    orx_lexicon_free(L);
    return st ? orx_cli_fail(st, &err) : 0;
}

static int do_ddi(const char *data, const char **from, int n_from, const char *out, bool json,
                  bool keep_repeats) {
    orx_error err = ORX_ERROR_INIT;
    orx_lexicon *L = NULL;
    orx_status st = orx_lexicon_open(data, &L, &err);
    if (st) return orx_cli_fail(st, &err);
    const char *dd = data ? data : orx_lexicon_default_data_dir();
    char terms[4200], def_from[4200], def_out[4200];
    snprintf(terms, sizeof terms, "%s/interactions/class_terms.tsv", dd);
    snprintf(def_from, sizeof def_from, "%s/labels", dd);
    snprintf(def_out, sizeof def_out, "%s/rules/label_ddi.tsv", dd);
    const char *paths[RULES_MAX_FROM] = {def_from};
    size_t np = 1;
    if (n_from > 0) {
        for (int i = 0; i < n_from; i++) paths[i] = from[i];
        np = (size_t)n_from;
    }
    orx_ddi_extractor *x = NULL;
    st = orx_ddi_extractor_create(L, terms, &x, &err);
    orx_ddi_rules rules;
    orx_ddi_rules_init(&rules);
    orx_ddi_stats stats;
    if (!st) st = orx_ddi_extract_paths(x, paths, np, keep_repeats, &rules, &stats, &err);
    if (!st) st = orx_ddi_rules_write_tsv(&rules, out ? out : def_out, &err);
    int rc = 0;
    if (st) {
        rc = orx_cli_fail(st, &err);
    } else if (json) {
        printf("{\"out\": \"%s\", \"labels\": %zu, \"unrecognised\": %zu, \"duplicates\": %zu, "
               "\"rules\": %zu, \"members\": %zu, \"by_tier\": {",
               out ? out : def_out, stats.labels, stats.unrecognised, stats.duplicates, stats.rules,
               stats.members);
        for (int t = ORX_SEV_COUNT - 1; t >= 0; t--)
            printf("\"%s\": %zu%s", orx_severity_name((orx_severity)t), stats.by_tier[t], t ? ", " : "");
        printf("}}\n");
    } else {
        printf("wrote %s: %zu rules, %zu role memberships from %zu labels (%zu older versions dropped, "
               "%zu labels whose drug is not recognised skipped)\n",
               out ? out : def_out, stats.rules, stats.members, stats.labels, stats.duplicates,
               stats.unrecognised);
        for (int t = ORX_SEV_COUNT - 1; t >= 0; t--)
            printf("  %-16s %zu\n", orx_severity_name((orx_severity)t), stats.by_tier[t]);
    }
    orx_ddi_rules_clear(&rules);
    orx_ddi_extractor_free(x);
    orx_lexicon_free(L);
    return rc;
}

/* ============================================================================================
 * rules pair / pairs
 * ========================================================================================== */
/* Findings between two drugs: one proposed against the other as a current medicine. */
static orx_status pair_findings(const orx_checker *ck, const char *a, const char *b, orx_findings *fs,
                                bool *known, orx_error *err) {
    orx_proposed_drug da, db;
    orx_status st = orx_proposed_drug_init(ck, a, NULL, &da, err);
    if (!st) st = orx_proposed_drug_init(ck, b, NULL, &db, err);
    if (st) return st;
    *known = da.n_ingr > 0 && db.n_ingr > 0;
    if (!*known) return ORX_OK;
    db.is_current = true;
    da.others = &db;
    da.n_others = 1;
    st = orx_check_run(ck, "interaction", NULL, &da, fs, err);
    if (!st) st = orx_check_run(ck, "duplicate", NULL, &da, fs, err);
    orx_findings_sort(fs);
    return st;
}

static int do_pair(const char *data, const char *a, const char *b, bool json) {
    orx_error err = ORX_ERROR_INIT;
    orx_checker_params p = orx_checker_default_params();
    p.data_dir = data;
    orx_checker *ck = NULL;
    orx_status st = orx_checker_create(&p, &ck, &err);
    if (st) return orx_cli_fail(st, &err);
    orx_findings fs;
    orx_findings_init(&fs);
    bool known = false;
    st = pair_findings(ck, a, b, &fs, &known, &err);
    orx_buf out;
    orx_buf_init(&out);
    if (!st && !known) fprintf(stderr, "openrx rules: '%s' or '%s' is not recognised\n", a, b);
    if (!st) st = json ? orx_findings_to_json(&fs, &out, &err) : orx_findings_to_text(&fs, &out, &err);
    if (!st) fputs(out.data ? out.data : "", stdout);
    orx_buf_clear(&out);
    orx_findings_clear(&fs);
    orx_checker_free(ck);
    if (st) return orx_cli_fail(st, &err);
    return known ? 0 : 2;
}

static int do_pairs(const char *data, const char *file) {
    orx_error err = ORX_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    orx_status st = orx_read_file(file, 256u << 20, &text, &len, &err);
    if (st) return orx_cli_fail(st, &err);
    orx_checker_params p = orx_checker_default_params();
    p.data_dir = data;
    orx_checker *ck = NULL;
    st = orx_checker_create(&p, &ck, &err);
    size_t line = 0;
    for (char *s = text; !st && s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        char *row = s;
        s = nl ? nl + 1 : NULL;
        line++;
        if (!row[0] || row[0] == '#') continue;
        char *tab = strchr(row, '\t');
        if (!tab) { st = orx_fail(&err, ORX_ERR_PARSE, "%s:%zu:1: expected DRUG_A<TAB>DRUG_B", file, line); break; }
        *tab = 0;
        char *b = tab + 1, *t2 = strchr(b, '\t');
        if (t2) *t2 = 0;
        orx_findings fs;
        orx_findings_init(&fs);
        bool known = false;
        st = pair_findings(ck, row, b, &fs, &known, &err);
        if (!st) {
            printf("%s\t%s\t%s\t", row, b, !known ? "unrecognised" : fs.n ? orx_severity_name(fs.items[0].severity) : "none");
            for (size_t i = 0; i < fs.n; i++) printf("%s%s", i ? "," : "", fs.items[i].kind);
            printf("\t");
            for (size_t i = 0; i < fs.n; i++) printf("%s%s [%s]", i ? " | " : "", fs.items[i].source, orx_severity_name(fs.items[i].severity));
            printf("\n");
        }
        orx_findings_clear(&fs);
    }
    orx_checker_free(ck);
    free(text);
    if (st) return orx_cli_fail(st, &err);
    return fflush(stdout) ? 1 : 0;
}

int cmd_rules(int argc, char **argv) {
    bool json = false, keep_repeats = false;
    const char *data = NULL, *out = NULL, *from[RULES_MAX_FROM], *pos[4] = {0};
    const char *label = NULL, *text = NULL, *section = "34073-7";
    int n_from = 0, npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--quiet")) continue;
        else if (!strcmp(a, "--keep-repeats")) keep_repeats = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--data") || !strcmp(a, "--out") || !strcmp(a, "--from") ||
                 !strcmp(a, "--label") || !strcmp(a, "--text") || !strcmp(a, "--section")) {
            if (++i >= argc) return orx_cli_usage("rules", "%s needs a value", a);
            if (!strcmp(a, "--data")) data = argv[i];
            else if (!strcmp(a, "--label")) label = argv[i];
            else if (!strcmp(a, "--text")) text = argv[i];
            else if (!strcmp(a, "--section")) section = argv[i];
            else if (!strcmp(a, "--out")) out = argv[i];
            else if (n_from < RULES_MAX_FROM) from[n_from++] = argv[i];
            else return orx_cli_usage("rules", "at most %d --from paths", RULES_MAX_FROM);
        } else if (a[0] == '-' && a[1] == '-') return orx_cli_usage("rules", "unknown option '%s'", a);
        else if (npos < 4) pos[npos++] = a;
        else return orx_cli_usage("rules", "too many arguments");
    }
    if (npos == 0) return orx_cli_usage("rules", "missing sub-command (ddi, pair, pairs)");
    if (!strcmp(pos[0], "ddi")) {
        if (npos != 1) return orx_cli_usage("rules", "ddi takes no arguments (use --from / --out)");
        if (!text != !label) return orx_cli_usage("rules", "--text and --label go together");
        if (text) return do_text(data, label, section, text, json);
        return do_ddi(data, from, n_from, out, json, keep_repeats);
    }
    if (!strcmp(pos[0], "pair")) {
        if (npos != 3) return orx_cli_usage("rules", "pair needs two drugs");
        return do_pair(data, pos[1], pos[2], json);
    }
    if (!strcmp(pos[0], "pairs")) {
        if (npos != 2) return orx_cli_usage("rules", "pairs needs one FILE");
        return do_pairs(data, pos[1]);
    }
    return orx_cli_usage("rules", "unknown sub-command '%s' (expected: ddi, pair, pairs)", pos[0]);
}
