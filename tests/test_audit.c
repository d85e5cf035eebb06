/*
 * test_audit.c — the hash-chained audit log (util/audit.c):
 *  - records appended by 4 threads and 3 processes at once form one intact chain, seq 1..N with
 *    no gap or duplicate (the file lock serialises them);
 *  - each kind of tampering is found at the right record: an edited field, a deleted record, an
 *    inserted record, records cut off the front, a record swapped with another, an unchained
 *    record among chained ones, a torn last line; cutting the end is found only with an anchor;
 *  - records written before the chain (legacy) are refused unless allowed, and then chained to;
 *  - a new log is created 0600; a record that is not one JSON object on one line is refused.
 */
#include "testutil.h"
#include "util/util.h"
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_path[256];

static void fresh(void) {
    snprintf(g_path, sizeof g_path, "/tmp/orx_audit_test_%d.jsonl", (int)getpid());
    unlink(g_path);
}

static void append(const char *rec) {
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_audit_append(g_path, rec, strlen(rec), &err), ORX_OK);
}

static orx_audit_report verify(bool legacy, const char *anchor) {
    orx_audit_verify_params p = orx_audit_verify_default_params();
    p.allow_legacy = legacy;
    p.anchor = anchor;
    orx_audit_report r;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_audit_verify(g_path, &p, &r, &err), ORX_OK);
    return r;
}

/* Read the file's lines into a NULL-terminated array (malloc'd). */
static char **lines(int *n) {
    char *data;
    size_t len;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_read_file(g_path, 0, &data, &len, &err), ORX_OK);
    char **v = calloc(len + 2, sizeof *v);
    *n = 0;
    for (char *p = data, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) { v[(*n)++] = strdup(p); break; }
        v[(*n)++] = strndup(p, (size_t)(nl - p));
    }
    free(data);
    return v;
}

/* Write lines back (each with '\n' unless torn_last). */
static void write_lines(char **v, int n, bool torn_last) {
    FILE *f = fopen(g_path, "w");
    for (int i = 0; i < n; i++) fprintf(f, "%s%s", v[i], torn_last && i == n - 1 ? "" : "\n");
    fclose(f);
}

static void free_lines(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void fill(int n) {
    fresh();
    for (int i = 1; i <= n; i++) {
        char rec[128];
        snprintf(rec, sizeof rec, "{\"type\":\"recommendation\",\"indication\":\"case %d\",\"status\":\"ok\"}", i);
        append(rec);
    }
}

/* ============================================================================================
 * Concurrent writers
 * ========================================================================================== */
static void *writer(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < 50; i++) {
        char rec[128];
        snprintf(rec, sizeof rec, "{\"writer\":\"thread %ld\",\"i\":%d}", id, i);
        orx_error err = ORX_ERROR_INIT;
        if (orx_audit_append(g_path, rec, strlen(rec), &err) != ORX_OK) abort();
    }
    return NULL;
}

static void test_concurrent_writers(void **state) {
    fresh();
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int i = 0; i < 50; i++) {
                char rec[128];
                snprintf(rec, sizeof rec, "{\"writer\":\"process %d\",\"i\":%d}", k, i);
                orx_error err = ORX_ERROR_INIT;
                if (orx_audit_append(g_path, rec, strlen(rec), &err) != ORX_OK) _exit(1);
            }
            _exit(0);
        }
    }
    pthread_t th[4];
    for (long t = 0; t < 4; t++) pthread_create(&th[t], NULL, writer, (void *)t);
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
    for (int k = 0; k < 3; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    orx_audit_report r = verify(false, NULL);
    if (!r.ok) fprintf(stderr, "line %ld: %s\n", r.broken_line, r.reason);
    assert_true(r.ok);
    assert_int_equal(r.records, 7 * 50);
    int n;
    char **v = lines(&n);
    assert_int_equal(n, 350);
    for (int i = 0; i < n; i++) { /* seq is the line number: no gap, no duplicate */
        json_error_t je;
        json_t *o = json_loads(v[i], 0, &je);
        assert_int_equal(json_integer_value(json_object_get(o, "seq")), i + 1);
        json_decref(o);
    }
    free_lines(v, n);
    struct stat sb;
    assert_int_equal(stat(g_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    unlink(g_path);
}

/* ============================================================================================
 * Tampering
 * ========================================================================================== */
static void test_edit_found(void **state) {
    fill(6);
    orx_audit_report r = verify(false, NULL);
    assert_true(r.ok);
    assert_int_equal(r.records, 6);
    int n;
    char **v = lines(&n);
    char *p = strstr(v[3], "case 4");
    assert_non_null(p);
    p[5] = '7'; /* record 4 now says "case 7" */
    write_lines(v, n, false);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 4);
    assert_int_equal(r.records, 3);
    assert_non_null(strstr(r.reason, "record 4 was changed"));
    free_lines(v, n);
    unlink(g_path);
}

static void test_delete_insert_swap_cut(void **state) {
    int n;
    char **v;
    orx_audit_report r;
    /* deleted record 3 */
    fill(5);
    v = lines(&n);
    free(v[2]);
    memmove(&v[2], &v[3], (size_t)(n - 3) * sizeof *v);
    write_lines(v, n - 1, false);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 3); /* the record now on line 3 says seq 4 */
    assert_non_null(strstr(r.reason, "removed"));
    free_lines(v, n - 1);
    /* inserted copy of record 2 after it */
    fill(5);
    v = lines(&n);
    char **w = calloc((size_t)n + 2, sizeof *w);
    for (int i = 0, j = 0; i < n; i++) {
        w[j++] = v[i];
        if (i == 1) w[j++] = strdup(v[1]);
    }
    write_lines(w, n + 1, false);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 3);
    for (int i = 0; i < n + 1; i++) free(w[i]);
    free(w);
    free(v);
    /* records 1-2 cut off the front */
    fill(5);
    v = lines(&n);
    write_lines(v + 2, n - 2, false);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 1);
    free_lines(v, n);
    /* records 2 and 4 swapped */
    fill(5);
    v = lines(&n);
    char *t = v[1];
    v[1] = v[3];
    v[3] = t;
    write_lines(v, n, false);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 2);
    free_lines(v, n);
    unlink(g_path);
}

static void test_anchor_and_tail(void **state) {
    fill(4);
    orx_audit_report r = verify(false, NULL);
    char head[65];
    memcpy(head, r.head_sha256, sizeof head);
    append("{\"type\":\"recommendation\",\"indication\":\"later\"}");
    r = verify(false, head); /* grown since: the anchor is still there */
    assert_true(r.ok);
    assert_int_equal(r.anchor_line, 4);
    /* cut the last two records: the chain alone still holds, the anchor does not */
    int n;
    char **v = lines(&n);
    write_lines(v, 3, false);
    r = verify(false, NULL);
    assert_true(r.ok);
    r = verify(false, head);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "anchor"));
    /* a torn last line (a crash mid-write) is reported, and the next append chains after it */
    write_lines(v, 4, false);
    FILE *f = fopen(g_path, "a");
    fputs("{\"seq\":5,\"prev_sha256\":\"ab", f);
    fclose(f);
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 5);
    assert_non_null(strstr(r.reason, "cut off"));
    append("{\"type\":\"after-crash\"}");
    r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 5); /* the torn record stays visible */
    free_lines(v, n);
    unlink(g_path);
}

static void test_legacy_and_bad_records(void **state) {
    fresh();
    FILE *f = fopen(g_path, "w");
    fputs("{\"time\":\"2026-01-01T00:00:00Z\",\"status\":\"ok\"}\n{\"time\":\"2026-01-02T00:00:00Z\",\"status\":\"ok\"}\n", f);
    fclose(f);
    append("{\"type\":\"recommendation\"}");
    orx_audit_report r = verify(false, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 1);
    r = verify(true, NULL);
    assert_true(r.ok);
    assert_int_equal(r.legacy, 2);
    assert_int_equal(r.records, 3);
    /* editing a legacy record is still caught by the first chained record */
    int n;
    char **v = lines(&n);
    v[1][10] = 'X';
    write_lines(v, n, false);
    r = verify(true, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 2);
    free_lines(v, n);
    /* an unchained record among chained ones */
    fill(3);
    f = fopen(g_path, "a");
    fputs("{\"time\":\"x\"}\n", f);
    fclose(f);
    r = verify(true, NULL);
    assert_false(r.ok);
    assert_int_equal(r.broken_line, 4);
    /* what append refuses */
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_audit_append(g_path, "[1]", 3, &err), ORX_ERR_INVALID);
    assert_int_equal(orx_audit_append(g_path, "{\"a\":1}\n{\"b\":2}", 15, &err), ORX_ERR_INVALID);
    assert_int_equal(orx_audit_append(g_path, "", 0, &err), ORX_ERR_INVALID);
    /* an empty object is a record too */
    fresh();
    append("{}");
    r = verify(false, NULL);
    assert_true(r.ok);
    unlink(g_path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_edit_found),
        cmocka_unit_test(test_delete_insert_swap_cut),
        cmocka_unit_test(test_anchor_and_tail),
        cmocka_unit_test(test_legacy_and_bad_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
