/* fhir_fetch.c — reads from the EHR's FHIR server for the CDS Hooks service (see fhir_fetch.h):
 * libcurl GETs with the bearer token, one deadline for all of them, Bundle paging by the
 * server's "next" links, byte/page/resource caps. */
#include "server/fhir_fetch.h"
#include "clinical/clinical.h"
#include "util/util.h"
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ============================================================================================
 * The queries (also the prefetch templates of GET /cds-services)
 * ========================================================================================== */
#define PID "{{context.patientId}}"
#define LOINC "http://loinc.org|"
#define MAX_QUERIES 32

static orx_fhir_query g_queries[MAX_QUERIES];
static size_t g_nqueries;
static char g_lab_tmpl[ORX_LAB_COUNT][512];
static pthread_once_t g_queries_once = PTHREAD_ONCE_INIT;

static void add_query(const char *key, const char *type, const char *tmpl, bool latest) {
    if (g_nqueries < MAX_QUERIES) g_queries[g_nqueries++] = (orx_fhir_query){key, type, tmpl, latest};
}

/* Searches name the patient by the `subject` reference ("Patient/<id>": the typed form every
 * server resolves without a chained lookup); AllergyIntolerance has `patient` for it. */
static void build_queries(void) {
    add_query("patient", "Patient", "Patient/" PID, false);
    add_query("medications", "MedicationRequest", "MedicationRequest?subject=Patient/" PID "&status=active", false);
    add_query("conditions", "Condition", "Condition?subject=Patient/" PID "&clinical-status=active", false);
    add_query("allergies", "AllergyIntolerance", "AllergyIntolerance?patient=Patient/" PID, false);
    /* the latest Observation of each lab kind, by the LOINC codes the patient parser reads */
    for (int k = 0; k < ORX_LAB_COUNT; k++) {
        char *t = g_lab_tmpl[k];
        size_t cap = sizeof g_lab_tmpl[k];
        int n = snprintf(t, cap, "Observation?subject=Patient/" PID "&code=");
        bool any = false;
        orx_lab_kind kind;
        const char *loinc;
        for (size_t i = 0; (loinc = orx_lab_loinc_at(i, &kind)) != NULL; i++) {
            if ((int)kind != k) continue;
            n += snprintf(t + n, cap - (size_t)n, "%s" LOINC "%s", any ? "," : "", loinc);
            any = true;
        }
        snprintf(t + n, cap - (size_t)n, "&_sort=-date&_count=1");
        if (any) add_query(orx_lab_kind_name((orx_lab_kind)k), "Observation", t, true);
    }
    add_query("pregnancy", "Observation", "Observation?subject=Patient/" PID "&code=" LOINC "82810-3," LOINC "11449-6&_sort=-date&_count=1", true);
    add_query("genotype", "Observation", "Observation?subject=Patient/" PID "&code=" LOINC "84413-4," LOINC "53040-2", false);
}

size_t orx_fhir_query_count(void) {
    pthread_once(&g_queries_once, build_queries);
    return g_nqueries;
}

const orx_fhir_query *orx_fhir_query_at(size_t i) {
    pthread_once(&g_queries_once, build_queries);
    return i < g_nqueries ? &g_queries[i] : NULL;
}

orx_fhir_fetch_params orx_fhir_fetch_default_params(void) {
    return (orx_fhir_fetch_params){.deadline_s = 10, .connect_timeout_s = 3, .max_pages = 20,
                                   .max_bytes = 32u << 20, .max_resources = 20000, .page_count = 100};
}

/* ============================================================================================
 * Inputs
 * ========================================================================================== */
orx_status orx_fhir_fetch_check(const char *base, const char *patient_id, const char *token, orx_error *err) {
    if (!base || (strncasecmp(base, "http://", 7) && strncasecmp(base, "https://", 8)))
        return orx_fail(err, ORX_ERR_INVALID, "fhirServer: must be an http:// or https:// URL");
    size_t blen = strlen(base);
    if (blen > 2048) return orx_fail(err, ORX_ERR_INVALID, "fhirServer: longer than 2048 characters");
    for (size_t i = 0; i < blen; i++)
        if ((unsigned char)base[i] <= 0x20 || (unsigned char)base[i] >= 0x7f || base[i] == '?' || base[i] == '#')
            return orx_fail(err, ORX_ERR_INVALID, "fhirServer: character %zu is not allowed in a FHIR base URL "
                            "(spaces, control or non-ASCII characters, '?', '#')", i + 1);
    size_t plen = patient_id ? strlen(patient_id) : 0;
    if (plen == 0 || plen > 64)
        return orx_fail(err, ORX_ERR_INVALID, "context.patientId: a FHIR id of 1 to 64 characters is needed to query fhirServer");
    for (size_t i = 0; i < plen; i++)
        if (!isalnum((unsigned char)patient_id[i]) && patient_id[i] != '-' && patient_id[i] != '.')
            return orx_fail(err, ORX_ERR_INVALID, "context.patientId: character %zu is not allowed in a FHIR id "
                            "([A-Za-z0-9.-])", i + 1);
    if (token) {
        size_t tlen = strlen(token);
        if (tlen == 0 || tlen > 8192)
            return orx_fail(err, ORX_ERR_INVALID, "fhirAuthorization.access_token: must be 1 to 8192 characters");
        for (size_t i = 0; i < tlen; i++)
            if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
                return orx_fail(err, ORX_ERR_INVALID, "fhirAuthorization.access_token: character %zu is not "
                                "printable ASCII", i + 1);
    }
    return ORX_OK;
}

/* Index just past the authority of an absolute URL ("scheme://authority"), 0 if it has none. */
static size_t authority_end(const char *u) {
    const char *p = strstr(u, "://");
    if (!p || p == u) return 0;
    size_t i = (size_t)(p - u) + 3;
    while (u[i] && u[i] != '/') i++;
    return i;
}

/* A path with a "." or ".." segment or a percent-encoded '.' (%2e). */
static bool path_has_dot_segment(const char *path) {
    for (const char *s = path; *s; s++) {
        if (s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E')) return true;
        if (s[0] != '/' || s[1] != '.') continue;
        const char *e = s + 2 + (s[2] == '.');
        if (*e == '\0' || *e == '/') return true;
    }
    return false;
}

bool orx_fhir_base_allowed(const char *base, const char *const *allow, size_t n) {
    if (n == 0) return true;
    size_t be = base ? authority_end(base) : 0;
    if (!be || path_has_dot_segment(base + be)) return false;
    for (size_t k = 0; k < n; k++) {
        const char *a = allow[k];
        size_t ae = a ? authority_end(a) : 0;
        if (!ae || ae != be || strncasecmp(a, base, ae)) continue;
        size_t al = strlen(a);
        while (al > ae && a[al - 1] == '/') al--;
        if (strncmp(base + be, a + ae, al - ae)) continue;
        char next = base[be + al - ae];
        if (next == '\0' || next == '/') return true;
    }
    return false;
}

/* ============================================================================================
 * One page
 * ========================================================================================== */
static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* an OperationOutcome's first diagnostics/details text, for messages */
static void outcome_text(json_t *oo, char *out, size_t cap) {
    out[0] = 0;
    if (!json_is_object(oo) || !jstr(oo, "resourceType") || strcmp(jstr(oo, "resourceType"), "OperationOutcome")) return;
    json_t *is = json_array_get(json_object_get(oo, "issue"), 0);
    const char *t = jstr(is, "diagnostics");
    if (!t) t = jstr(json_object_get(is, "details"), "text");
    if (!t) return;
    size_t n = 0;
    for (const char *s = t; *s && n + 1 < cap && n < 200; s++) out[n++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    out[n] = 0;
}

orx_status orx_fhir_page_parse(const char *body, size_t len, const char *type, bool bundle, const char *where,
                               json_t *out, size_t max_resources, char **next, orx_error *err) {
    if (next) *next = NULL;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return orx_fail(err, ORX_ERR_PARSE, "%s: line %d, column %d: invalid JSON: %s", where, je.line, je.column, je.text);
    orx_status st = ORX_OK;
    const char *rt = jstr(root, "resourceType");
    if (!json_is_object(root) || !rt) {
        st = orx_fail(err, ORX_ERR_PARSE, "%s: not a FHIR resource (no \"resourceType\")", where);
        goto done;
    }
    if (!bundle) {
        if (strcmp(rt, type)) { st = orx_fail(err, ORX_ERR_PARSE, "%s: expected a %s, got a %.40s", where, type, rt); goto done; }
        if (json_array_size(out) >= max_resources) { st = orx_fail(err, ORX_ERR_NOMEM, "%s: more than %zu resources", where, max_resources); goto done; }
        json_array_append(out, root);
        goto done;
    }
    if (strcmp(rt, "Bundle")) { st = orx_fail(err, ORX_ERR_PARSE, "%s: expected a Bundle (searchset), got a %.40s", where, rt); goto done; }
    json_t *entries = json_object_get(root, "entry");
    if (entries && !json_is_array(entries)) { st = orx_fail(err, ORX_ERR_PARSE, "%s: Bundle.entry is not an array", where); goto done; }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        json_t *r = json_object_get(e, "resource");
        if (!json_is_object(r)) { st = orx_fail(err, ORX_ERR_PARSE, "%s: Bundle.entry[%zu] has no resource object", where, i); goto done; }
        const char *ert = jstr(r, "resourceType");
        if (!ert) { st = orx_fail(err, ORX_ERR_PARSE, "%s: Bundle.entry[%zu].resource has no resourceType", where, i); goto done; }
        /* entries of another type (search.mode "outcome" or "include") are not part of the answer */
        if (strcmp(ert, type)) continue;
        if (json_array_size(out) >= max_resources) { st = orx_fail(err, ORX_ERR_NOMEM, "%s: more than %zu resources", where, max_resources); goto done; }
        json_array_append(out, r);
    }
    json_t *links = json_object_get(root, "link");
    if (links && !json_is_array(links)) { st = orx_fail(err, ORX_ERR_PARSE, "%s: Bundle.link is not an array", where); goto done; }
    json_t *l;
    json_array_foreach(links, i, l) {
        const char *rel = jstr(l, "relation"), *url = jstr(l, "url");
        if (!rel || strcmp(rel, "next")) continue;
        if (!url) { st = orx_fail(err, ORX_ERR_PARSE, "%s: Bundle.link[%zu] (next) has no url", where, i); goto done; }
        if (next) *next = orx_strdup(url);
        break;
    }
done:
    json_decref(root);
    return st;
}

/* ============================================================================================
 * HTTP
 * ========================================================================================== */
static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct fetch_ctx {
    const orx_fhir_fetch_params *p;
    struct curl_slist *headers;
    double t_end;
    orx_fhir_fetch_stats *stats;
} fetch_ctx;

typedef struct body_buf {
    char  *data;
    size_t len, cap, limit;
    bool   over;
} body_buf;

static size_t on_body(char *ptr, size_t size, size_t n, void *u) {
    body_buf *b = u;
    size_t k = size * n;
    if (b->len + k > b->limit) { b->over = true; return 0; }
    if (b->len + k + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + k + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, k);
    b->len += k;
    b->data[b->len] = 0;
    return k;
}

/* GET url into *body (malloc'd, NUL-terminated); HTTP status must be 200. where names the
 * request (the URL without the token, which travels only in a header). */
static orx_status http_get(fetch_ctx *x, const char *url, const char *where, char **body, size_t *len, orx_error *err) {
    *body = NULL;
    *len = 0;
    double left = x->t_end - orx_now();
    if (left <= 0) {
        x->stats->timed_out = true;
        return orx_fail(err, ORX_ERR_NETWORK, "%s: the FHIR server deadline (%g s) passed", where, x->p->deadline_s);
    }
    size_t used = x->stats->bytes;
    body_buf b = {.limit = x->p->max_bytes > used ? x->p->max_bytes - used : 0};
    CURL *c = curl_easy_init();
    if (!c) return orx_fail(err, ORX_ERR_NOMEM, "curl_easy_init failed");
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    long ms = (long)(left * 1000);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms > 1 ? ms : 1L);
    long cms = (long)(x->p->connect_timeout_s * 1000);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cms < ms ? (cms > 1 ? cms : 1L) : (ms > 1 ? ms : 1L));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "openrx/" ORX_VERSION);
    x->stats->requests++;
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    x->stats->bytes += b.len;
    x->stats->http_status = (int)status;
    orx_status st = ORX_OK;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        x->stats->timed_out = true;
        st = orx_fail(err, ORX_ERR_NETWORK, "%s: no answer within the FHIR server deadline (%g s in all)", where, x->p->deadline_s);
    } else if (b.over) {
        st = orx_fail(err, ORX_ERR_NOMEM, "%s: the FHIR server's answers exceed %zu bytes in all", where, x->p->max_bytes);
    } else if (rc != CURLE_OK) {
        st = orx_fail(err, ORX_ERR_NETWORK, "%s: %s", where, curl_err[0] ? curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        char oo[256] = "";
        json_t *j = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
        outcome_text(j, oo, sizeof oo);
        json_decref(j);
        st = orx_fail(err, ORX_ERR_NETWORK, "%s: the FHIR server answered HTTP %ld%s%s%s", where, status,
                      status == 401 || status == 403 ? " (the access token was not accepted)" : "",
                      oo[0] ? ": " : "", oo);
    }
    if (st != ORX_OK) { free(b.data); return st; }
    x->stats->http_status = 0;
    *body = b.data ? b.data : orx_strdup("");
    *len = b.len;
    return ORX_OK;
}

/* the template with the patient id put in, '|' percent-encoded */
static void expand(const char *tmpl, const char *pid, char *out, size_t cap) {
    size_t n = 0, plen = strlen(PID);
    for (const char *s = tmpl; *s && n + 1 < cap;) {
        if (!strncmp(s, PID, plen)) {
            for (const char *q = pid; *q && n + 1 < cap; q++) out[n++] = *q;
            s += plen;
        } else if (*s == '|') {
            if (n + 3 < cap) { memcpy(out + n, "%7C", 3); n += 3; }
            s++;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = 0;
}

orx_status orx_fhir_fetch(const orx_fhir_fetch_params *p, const char *base, const char *token, const char *patient_id,
                          unsigned which, json_t *out, orx_fhir_fetch_stats *stats, orx_error *err) {
    orx_fhir_fetch_params dp = orx_fhir_fetch_default_params();
    if (!p) p = &dp;
    orx_fhir_fetch_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    orx_status st = orx_fhir_fetch_check(base, patient_id, token, err);
    if (st != ORX_OK) return st;
    if (!json_is_array(out)) return orx_fail(err, ORX_ERR_USAGE, "orx_fhir_fetch: out must be a JSON array");
    pthread_once(&g_curl_once, curl_init_once);
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/') blen--;
    fetch_ctx x = {.p = p, .t_end = orx_now() + p->deadline_s, .stats = stats};
    x.headers = curl_slist_append(NULL, "Accept: application/fhir+json");
    if (token) {
        size_t cap = strlen(token) + 32;
        char *h = malloc(cap);
        if (!h) { curl_slist_free_all(x.headers); return orx_fail(err, ORX_ERR_NOMEM, "out of memory"); }
        snprintf(h, cap, "Authorization: Bearer %s", token);
        x.headers = curl_slist_append(x.headers, h);
        memset(h, 0, cap);
        free(h);
    }
    size_t nq = orx_fhir_query_count();
    for (size_t qi = 0; qi < nq && st == ORX_OK; qi++) {
        if (!(which & (1u << qi))) continue;
        const orx_fhir_query *q = orx_fhir_query_at(qi);
        bool bundle = strchr(q->tmpl, '?') != NULL;
        char path[1024], url[4096];
        expand(q->tmpl, patient_id, path, sizeof path);
        if (bundle && !q->latest && p->page_count > 0)
            snprintf(path + strlen(path), sizeof path - strlen(path), "&_count=%d", p->page_count);
        snprintf(url, sizeof url, "%.*s/%s", (int)blen, base, path);
        char *next = NULL;
        for (size_t page = 0; st == ORX_OK; page++) {
            char where[600], *body;
            size_t len;
            if (page) snprintf(where, sizeof where, "fhirServer GET page %zu of \"%s\"", page + 1, q->key);
            else snprintf(where, sizeof where, "fhirServer GET %s", path);
            st = http_get(&x, page ? next : url, where, &body, &len, err);
            free(next);
            next = NULL;
            if (st != ORX_OK) break;
            stats->pages++;
            size_t before = json_array_size(out);
            st = orx_fhir_page_parse(body, len, q->type, bundle, where, out, p->max_resources, &next, err);
            free(body);
            stats->resources += json_array_size(out) - before;
            if (st != ORX_OK || !next || q->latest) break;
            /* follow "next" only on the same server: the token goes nowhere else */
            if (strncmp(next, base, blen) || (next[blen] != '/' && next[blen] != '?')) {
                st = orx_fail(err, ORX_ERR_NETWORK, "%s: the next-page link leaves fhirServer (%.*s); not followed",
                              where, 200, next);
                break;
            }
            if (page + 1 >= p->max_pages) {
                st = orx_fail(err, ORX_ERR_NETWORK, "fhirServer: \"%s\" has more than %zu pages (the page cap); "
                              "not checked on a partial record", q->key, p->max_pages);
                break;
            }
        }
        free(next);
    }
    curl_slist_free_all(x.headers);
    return st;
}

/* ============================================================================================
 * What the request left out
 * ========================================================================================== */
/* does an Observation carry a LOINC code listed in the template ("|CODE," or "|CODE&")? */
static bool obs_in_template(json_t *obs, const char *tmpl) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(obs, "code"), "coding"), i, c) {
        const char *code = jstr(c, "code");
        if (!code || !*code) continue;
        size_t n = strlen(code);
        for (const char *s = strstr(tmpl, code); s; s = strstr(s + 1, code))
            if (s > tmpl && s[-1] == '|' && (s[n] == ',' || s[n] == '&' || s[n] == 0)) return true;
    }
    return false;
}

unsigned orx_fhir_missing(json_t *prefetch, json_t *resources) {
    unsigned which = 0;
    size_t nq = orx_fhir_query_count();
    /* a prefetch made from other templates (none of these keys) is used as it is */
    bool ours = false;
    for (size_t qi = 0; qi < nq; qi++) ours = ours || json_object_get(prefetch, orx_fhir_query_at(qi)->key);
    if (!ours && json_array_size(resources) > 0) return 0;
    for (size_t qi = 0; qi < nq; qi++) {
        const orx_fhir_query *q = orx_fhir_query_at(qi);
        json_t *v = json_object_get(prefetch, q->key);
        /* CDS Hooks: a prefetch value the client could not fill is null (or an OperationOutcome) */
        const char *vrt = jstr(v, "resourceType");
        if (json_is_object(v) && vrt && strcmp(vrt, "OperationOutcome")) continue;
        bool have = false;
        size_t i;
        json_t *r;
        json_array_foreach(resources, i, r) {
            const char *rt = jstr(r, "resourceType");
            if (!rt || strcmp(rt, q->type)) continue;
            if (strcmp(q->type, "Observation") || obs_in_template(r, q->tmpl)) { have = true; break; }
        }
        if (!have) which |= 1u << qi;
    }
    return which;
}
