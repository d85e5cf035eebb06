/*
 * test_fhir_fetch.c — the CDS Hooks service's reads from fhirServer (src/server/fhir_fetch.c),
 * the parts that need no FHIR server (tests/cli/cds_fhir_server.sh runs them against a real one):
 *  - the query table: every LOINC code the patient parser reads as a lab is in one latest-only
 *    Observation query; the keys are the discovery's prefetch keys;
 *  - which queries a request misses: absent, null or OperationOutcome prefetch values; a
 *    prefetch from other templates is used as it is; a prefetched Observation covers its kind;
 *  - a response page: the Bundle's resources of the query's type, its next link; truncated JSON,
 *    a wrong resource type, an entry without a resource, the resource cap: clear errors;
 *  - inputs: only http(s) base URLs, FHIR ids, printable tokens;
 *  - the deadline: a server that accepts the connection and never answers (a listening socket
 *    nobody reads) stops the fetch at the deadline; a closed port fails at once.
 */
#include "testutil.h"
#include "server/fhir_fetch.h"
#include "clinical/clinical.h"
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int query_index(const char *key) {
    for (size_t i = 0; i < orx_fhir_query_count(); i++)
        if (!strcmp(orx_fhir_query_at(i)->key, key)) return (int)i;
    return -1;
}

static void test_queries(void **state) {
    (void)state;
    size_t n = orx_fhir_query_count();
    assert_true(n >= 15 && n <= 32);
    const char *keys[] = {"patient", "medications", "conditions", "allergies", "scr", "weight", "height",
                          "potassium", "inr", "alt", "ast", "pregnancy"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) assert_true(query_index(keys[i]) >= 0);
    assert_string_equal(orx_fhir_query_at(0)->tmpl, "Patient/{{context.patientId}}");
    assert_non_null(strstr(orx_fhir_query_at((size_t)query_index("medications"))->tmpl, "status=active"));
    /* every lab LOINC code is asked for, in a latest-only query (newest first, one result) */
    orx_lab_kind k;
    const char *loinc;
    for (size_t i = 0; (loinc = orx_lab_loinc_at(i, &k)) != NULL; i++) {
        const orx_fhir_query *q = orx_fhir_query_at((size_t)query_index(orx_lab_kind_name(k)));
        char want[64];
        snprintf(want, sizeof want, "http://loinc.org|%s", loinc);
        assert_non_null(strstr(q->tmpl, want));
        assert_true(q->latest);
        assert_non_null(strstr(q->tmpl, "&_sort=-date&_count=1"));
        assert_string_equal(q->type, "Observation");
    }
    assert_null(orx_fhir_query_at(n));
}

static unsigned missing_of(const char *prefetch, const char *resources) {
    json_t *p = prefetch ? json_loads(prefetch, 0, NULL) : NULL, *r = json_loads(resources, 0, NULL);
    assert_non_null(r);
    unsigned m = orx_fhir_missing(p, r);
    json_decref(p);
    json_decref(r);
    return m;
}

static void test_missing(void **state) {
    (void)state;
    size_t n = orx_fhir_query_count();
    unsigned all = n >= 32 ? ~0u : (1u << n) - 1;
    unsigned bit_patient = 1u << query_index("patient"), bit_meds = 1u << query_index("medications");
    unsigned bit_weight = 1u << query_index("weight"), bit_scr = 1u << query_index("scr");
    /* nothing prefetched: everything */
    assert_int_equal(missing_of(NULL, "[]"), all);
    assert_int_equal(missing_of("{}", "[]"), all);
    /* our keys: the ones given are not asked again; null and OperationOutcome values are */
    const char *pt = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}";
    char pf[512], res[512];
    snprintf(pf, sizeof pf, "{\"patient\":%s,\"medications\":{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}}", pt);
    snprintf(res, sizeof res, "[%s]", pt);
    assert_int_equal(missing_of(pf, res), all & ~bit_patient & ~bit_meds);
    snprintf(pf, sizeof pf, "{\"patient\":%s,\"medications\":null,\"allergies\":{\"resourceType\":\"OperationOutcome\"}}", pt);
    unsigned m = missing_of(pf, res);
    assert_false(m & bit_patient);
    assert_true(m & bit_meds);
    assert_true(m & (1u << query_index("allergies")));
    /* a prefetched Observation (in an older "observations" Bundle) covers its kind only */
    snprintf(pf, sizeof pf, "{\"patient\":%s,\"observations\":{}}", pt);
    snprintf(res, sizeof res, "[%s,{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"29463-7\"}]}}]", pt);
    m = missing_of(pf, res);
    assert_false(m & bit_weight);
    assert_true(m & bit_scr);
    /* a code that merely ends like a listed one (9463-7) covers nothing */
    snprintf(res, sizeof res, "[%s,{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"code\":\"9463-7\"}]}}]", pt);
    assert_true(missing_of(pf, res) & bit_weight);
    /* a prefetch made from other templates (PDDI-CDS item1..) is used as it is */
    snprintf(res, sizeof res, "[{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\"}]");
    assert_int_equal(missing_of("{\"item1\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\"}}", res), 0);
}

static orx_status page(const char *body, const char *type, bool bundle, json_t *out, size_t cap, char **next, orx_error *err) {
    *err = (orx_error)ORX_ERROR_INIT;
    return orx_fhir_page_parse(body, strlen(body), type, bundle, "GET X", out, cap, next, err);
}

static void test_page(void **state) {
    (void)state;
    orx_error err;
    json_t *out = json_array();
    char *next = NULL;
    const char *b = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"self\",\"url\":\"http://h/a\"},"
                    "{\"relation\":\"next\",\"url\":\"http://h/MedicationRequest?_offset=2\"}],\"entry\":["
                    "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\"}},"
                    "{\"resource\":{\"resourceType\":\"OperationOutcome\"},\"search\":{\"mode\":\"outcome\"}},"
                    "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m2\"}}]}";
    assert_int_equal(page(b, "MedicationRequest", true, out, 100, &next, &err), ORX_OK);
    assert_int_equal(json_array_size(out), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "id")), "m2");
    assert_string_equal(next, "http://h/MedicationRequest?_offset=2");
    free(next);
    /* the resource cap */
    assert_int_equal(page(b, "MedicationRequest", true, out, 3, &next, &err), ORX_ERR_NOMEM);
    assert_non_null(strstr(err.msg, "more than 3 resources"));
    json_array_clear(out);
    /* a read */
    assert_int_equal(page("{\"resourceType\":\"Patient\",\"id\":\"p1\"}", "Patient", false, out, 10, &next, &err), ORX_OK);
    assert_int_equal(json_array_size(out), 1);
    assert_null(next);
    /* errors: where, line and column, the field */
    assert_int_equal(page("{\"resourceType\": \"Bundle\", \"entry\": [", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "GET X: line 1, column"));
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_int_equal(page("{\"resourceType\":\"Bundle\"}", "Patient", false, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "expected a Patient, got a Bundle"));
    assert_int_equal(page("{\"resourceType\":\"Patient\"}", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "expected a Bundle"));
    assert_int_equal(page("{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"x\"}]}", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "Bundle.entry[0] has no resource object"));
    assert_int_equal(page("{\"resourceType\":\"Bundle\",\"entry\":{}}", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_int_equal(page("{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\"}]}", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_non_null(strstr(err.msg, "has no url"));
    assert_int_equal(page("[1,2]", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_int_equal(page("{\"a\":1,\"a\":2}", "Condition", true, out, 10, &next, &err), ORX_ERR_PARSE);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
}

static void test_inputs(void **state) {
    (void)state;
    orx_error err = ORX_ERROR_INIT;
    assert_int_equal(orx_fhir_fetch_check("https://ehr.example.org/fhir/r4", "abc-1.2", "eyJ0.x_y", &err), ORX_OK);
    assert_int_equal(orx_fhir_fetch_check("HTTP://h:8080/", "a", NULL, &err), ORX_OK);
    const char *bad_base[] = {"ftp://h/", "file:///etc/passwd", "h/fhir", "http://h/a b", "http://h/?x", "http://h/\x01", ""};
    for (size_t i = 0; i < sizeof bad_base / sizeof *bad_base; i++) {
        err = (orx_error)ORX_ERROR_INIT;
        assert_int_equal(orx_fhir_fetch_check(bad_base[i], "p1", NULL, &err), ORX_ERR_INVALID);
        assert_non_null(strstr(err.msg, "fhirServer"));
    }
    assert_int_equal(orx_fhir_fetch_check(NULL, "p1", NULL, &err), ORX_ERR_INVALID);
    const char *bad_id[] = {"", "../x", "a/b", "a?b", "a b", "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad_id / sizeof *bad_id; i++) {
        err = (orx_error)ORX_ERROR_INIT;
        assert_int_equal(orx_fhir_fetch_check("http://h", bad_id[i], NULL, &err), ORX_ERR_INVALID);
        assert_non_null(strstr(err.msg, "context.patientId"));
    }
    assert_int_equal(orx_fhir_fetch_check("http://h", NULL, NULL, &err), ORX_ERR_INVALID);
    /* a token with a line break would add a header: refused, and not echoed */
    err = (orx_error)ORX_ERROR_INIT;
    assert_int_equal(orx_fhir_fetch_check("http://h", "p1", "abc\r\nX-Evil: 1", &err), ORX_ERR_INVALID);
    assert_non_null(strstr(err.msg, "access_token"));
    assert_null(strstr(err.msg, "Evil"));
    assert_int_equal(orx_fhir_fetch_check("http://h", "p1", "", &err), ORX_ERR_INVALID);
}

static void test_allow(void **state) {
    (void)state;
    const char *allow[] = {"https://ehr.example.org/fhir/r4/", "http://127.0.0.1:8080"};
    const size_t n = 2;
    const char *yes[] = {"https://ehr.example.org/fhir/r4", "https://ehr.example.org/fhir/r4/",
                         "HTTPS://EHR.example.ORG/fhir/r4/Patient", "http://127.0.0.1:8080", "http://127.0.0.1:8080/",
                         "http://127.0.0.1:8080/any/path"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!orx_fhir_base_allowed(yes[i], allow, n)) fail_msg("should be allowed: %s", yes[i]);
    }
    const char *no[] = {"https://ehr.example.org/fhir/r5", "https://ehr.example.org/fhir/r4x",
                        "https://ehr.example.org/FHIR/r4", "http://ehr.example.org/fhir/r4",
                        "https://ehr.example.org.evil.net/fhir/r4", "https://ehr.example.org@evil.net/fhir/r4",
                        "https://ehr.example.org:444/fhir/r4", "https://evil.net/https://ehr.example.org/fhir/r4",
                        "https://ehr.example.org/fhir/r4/../../admin", "https://ehr.example.org/fhir/r4/./x",
                        "https://ehr.example.org/fhir/r4/%2E%2E/x", "http://127.0.0.1:80", "http://127.0.0.1",
                        "http://127.0.0.1:8080/a/..", "ehr.example.org/fhir/r4", "", NULL};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        if (orx_fhir_base_allowed(no[i], allow, n)) fail_msg("should not be allowed: %s", no[i] ? no[i] : "(null)");
    }
    /* no list: every base (the fetch's own checks still apply) */
    assert_true(orx_fhir_base_allowed("https://anything.example/", NULL, 0));
}

static void test_deadline(void **state) {
    (void)state;
    /* a listening socket nobody accepts: the connection completes (backlog), no answer comes */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/fhir", ntohs(a.sin_port));
    orx_fhir_fetch_params p = orx_fhir_fetch_default_params();
    p.deadline_s = 0.4;
    orx_fhir_fetch_stats st;
    orx_error err = ORX_ERROR_INIT;
    json_t *out = json_array();
    double t0 = orx_now();
    assert_int_equal(orx_fhir_fetch(&p, base, "secret-token-123", "p1", ~0u, out, &st, &err), ORX_ERR_NETWORK);
    double dt = orx_now() - t0;
    assert_true(dt >= 0.35 && dt < 2.0);
    assert_true(st.timed_out);
    assert_int_equal(st.requests, 1); /* the deadline is for all requests: none after it passed */
    assert_non_null(strstr(err.msg, "deadline (0.4 s"));
    assert_non_null(strstr(err.msg, "GET Patient/p1"));
    assert_null(strstr(err.msg, "secret-token-123"));
    assert_int_equal(json_array_size(out), 0);
    close(s);
    /* the port is closed now: refused at once, not a timeout */
    err = (orx_error)ORX_ERROR_INIT;
    p.deadline_s = 5;
    t0 = orx_now();
    assert_int_equal(orx_fhir_fetch(&p, base, NULL, "p1", ~0u, out, &st, &err), ORX_ERR_NETWORK);
    assert_true(orx_now() - t0 < 2.0);
    assert_false(st.timed_out);
    assert_int_equal(st.http_status, 0);
    json_decref(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
