/* cmd_kb_fetch.c — `openrx kb fetch|update`: the whole FDA label set (download a source's
 * release, apply it to a knowledge base incrementally). */
#include "cli/cli.h"
#include "kb/fetch.h"
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int orx_cmd_kb_fetch(int argc, char **argv);
int orx_cmd_kb_update(int argc, char **argv);

static void print_line(void *ctx, const char *msg) {
    fprintf(stderr, "openrx kb %s: %s\n", (const char *)ctx, msg);
}

static int dump_json(json_t *j) {
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s) return orx_cli_fail(ORX_ERR_NOMEM, NULL);
    puts(s);
    free(s);
    return 0;
}

/* ============================================================================================
 * fetch
 * ========================================================================================== */
static const char *const FETCH_HELP =
    "Usage: openrx kb fetch openfda|dailymed [--dir D] [--full|--weekly|--monthly|--daily]\n"
    "                       [--sets human_rx,human_otc] [--index URL] [--max-files N]\n"
    "                       [--retries 4] [--quiet] [--json]\n"
    "Download a source's label release into D (default labels-<source>): openFDA's drug-label\n"
    "bulk download (index download.json: every JSON part of the release) or DailyMed's SPL\n"
    "release files (--full: the sets' release parts, default human_rx; --weekly/--monthly/\n"
    "--daily: the newest such update). Resumable (a rerun continues partial files with HTTP\n"
    "Range), MD5-checked where the index gives one, size-checked, every zip entry's CRC-32\n"
    "checked, retried with backoff, renamed into place only when whole; D/manifest.json lists\n"
    "what was fetched and when. Then: openrx kb update D (or kb build --from D).\n";

static int parse_fetch(int argc, char **argv, orx_kb_fetch_params *p, bool *json, char *dir, size_t cap) {
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},   {"full", no_argument, 0, 'F'},
        {"weekly", no_argument, 0, 'W'},      {"monthly", no_argument, 0, 'M'},
        {"daily", no_argument, 0, 'D'},       {"sets", required_argument, 0, 's'},
        {"index", required_argument, 0, 'i'}, {"max-files", required_argument, 0, 'n'},
        {"retries", required_argument, 0, 'r'}, {"backoff", required_argument, 0, 'B'},
        {"quiet", no_argument, 0, 'q'},       {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "d:s:i:n:r:qjh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': snprintf(dir, cap, "%s", optarg); break;
        case 'F': p->release = ORX_KB_RELEASE_FULL; break;
        case 'W': p->release = ORX_KB_RELEASE_WEEKLY; break;
        case 'M': p->release = ORX_KB_RELEASE_MONTHLY; break;
        case 'D': p->release = ORX_KB_RELEASE_DAILY; break;
        case 's': p->sets = optarg; break;
        case 'i': p->index_url = optarg; break;
        case 'n':
            if (!orx_cli_parse_int(optarg, 1, 100000, &v)) return orx_cli_usage("kb fetch", "--max-files must be a positive integer");
            p->max_files = (int)v;
            break;
        case 'r':
            if (!orx_cli_parse_int(optarg, 0, 100, &v)) return orx_cli_usage("kb fetch", "--retries must be in 0..100");
            p->retries = (int)v;
            break;
        case 'B': p->backoff_s = atof(optarg); break;
        case 'q': p->progress = false; p->note = NULL; break;
        case 'j': *json = true; break;
        case 'h': fputs(FETCH_HELP, stdout); return -1;
        default: return orx_cli_usage("kb fetch", "unknown option");
        }
    }
    return 0;
}

int orx_cmd_kb_fetch(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { fputs(FETCH_HELP, stdout); return 0; }
        return orx_cli_usage("kb fetch", "name a source: openfda or dailymed");
    }
    orx_kb_fetch_params p = orx_kb_fetch_default_params();
    if (!strcmp(argv[1], "openfda")) p.source = ORX_KB_SOURCE_OPENFDA;
    else if (!strcmp(argv[1], "dailymed")) p.source = ORX_KB_SOURCE_DAILYMED;
    else return orx_cli_usage("kb fetch", "unknown source '%s' (openfda, dailymed)", argv[1]);
    p.note = print_line;
    p.note_ctx = "fetch";
    char dir[4096];
    snprintf(dir, sizeof dir, "labels-%s", argv[1]);
    bool json = false;
    optind = 2;
    int rc = parse_fetch(argc, argv, &p, &json, dir, sizeof dir);
    if (rc) return rc < 0 ? 0 : rc;
    if (optind < argc) return orx_cli_usage("kb fetch", "unexpected argument '%s'", argv[optind]);
    p.dir = dir;
    orx_kb_fetch_stats st;
    orx_error err = ORX_ERROR_INIT;
    orx_status s = orx_kb_fetch(&p, &st, &err);
    if (s != ORX_OK) return orx_cli_fail(s, &err);
    if (json)
        return dump_json(json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:I}", "source", argv[1], "dir", dir,
                                   "release_date", st.release_date, "files", st.files, "downloaded", st.downloaded,
                                   "already_present", st.present, "retries", st.retries, "bytes", (json_int_t)st.bytes));
    printf("fetched %s release %s into %s: %d files (%d downloaded, %d already here, %d retries), %.1f MB\n",
           argv[1], st.release_date, dir, st.files, st.downloaded, st.present, st.retries, (double)st.bytes / 1e6);
    return 0;
}

/* ============================================================================================
 * update
 * ========================================================================================== */
int orx_cmd_kb_update(int argc, char **argv) {
    static const struct option opts[] = {{"kb", required_argument, 0, 'b'}, {"dry-run", no_argument, 0, 'n'},
                                         {"quiet", no_argument, 0, 'q'},     {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
    const char *path = orx_kb_default_path();
    orx_kb_update_params p = orx_kb_update_default_params();
    p.note = print_line;
    p.note_ctx = "update";
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "b:nqjh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': path = optarg; break;
        case 'n': p.dry_run = true; break;
        case 'q': p.progress = false; p.note = NULL; break;
        case 'j': json = true; break;
        case 'h':
            printf("Usage: openrx kb update DIR|FILE... [--kb FILE] [--dry-run] [--quiet] [--json]\n"
                   "Apply a fetched release (a 'kb fetch' directory), a DailyMed weekly/monthly update,\n"
                   "or label files to an existing knowledge base in one transaction: a label whose set id\n"
                   "is new is added, a newer version (effective date, then version number) replaces the\n"
                   "stored one, an older or equal one is left; a full release drops the set ids of its\n"
                   "source that it no longer carries. Term statistics and the impact index are rebuilt,\n"
                   "the release is recorded (kb stats). A killed update leaves the previous KB intact.\n"
                   "--dry-run reports what would change and changes nothing.\n");
            return 0;
        default: return orx_cli_usage("kb update", "unknown option");
        }
    }
    if (optind >= argc) return orx_cli_usage("kb update", "name a fetch directory or label files");
    orx_kb_update_report r;
    orx_error err = ORX_ERROR_INIT;
    orx_status s = orx_kb_update(path, (const char *const *)argv + optind, (size_t)(argc - optind), &p, &r, &err);
    if (s != ORX_OK) return orx_cli_fail(s, &err);
    if (json)
        return dump_json(json_pack("{s:s, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "kb", path,
                                   "dry_run", p.dry_run, "source", r.source, "kind", r.kind, "release_date",
                                   r.release_date, "added", (json_int_t)r.added, "replaced", (json_int_t)r.replaced,
                                   "removed", (json_int_t)r.removed, "unchanged", (json_int_t)r.unchanged,
                                   "empty_labels", (json_int_t)r.empty, "chunks_added", (json_int_t)r.chunks_added,
                                   "chunks_removed", (json_int_t)r.chunks_removed, "seconds", r.seconds));
    printf("%s %s: %s %s release %s: %llu labels added, %llu replaced by a newer version, %llu removed, %llu "
           "unchanged, %llu without text skipped; chunks +%llu -%llu; %.1f s\n",
           p.dry_run ? "dry run, nothing changed in" : "updated", path, r.source, r.kind,
           r.release_date[0] ? r.release_date : "(undated)", (unsigned long long)r.added,
           (unsigned long long)r.replaced, (unsigned long long)r.removed, (unsigned long long)r.unchanged,
           (unsigned long long)r.empty, (unsigned long long)r.chunks_added, (unsigned long long)r.chunks_removed,
           r.seconds);
    return 0;
}
