/*
 * fhir_fetch.h — the CDS Hooks service's own reads from the EHR's FHIR server (`fhirServer`,
 * with the `fhirAuthorization` bearer token) for what the request did not prefetch: the Patient,
 * active MedicationRequests, active Conditions, AllergyIntolerances and the latest Observation of
 * each lab kind openrx reads (creatinine, weight, height, potassium, INR, ALT, AST, …), plus
 * pregnancy status and genotype results. The same queries are the prefetch templates that
 * GET /cds-services declares, so a prefetched request and a fetched one give the same patient.
 *
 * Limits: one deadline for all requests together, a page cap per search (Bundle.link "next" is
 * followed only on the same server), a byte cap on everything read, a resource cap; only http and
 * https; no redirects (the token is never sent elsewhere); the token never appears in messages.
 */
#ifndef ORX_SERVER_FHIR_FETCH_H
#define ORX_SERVER_FHIR_FETCH_H

#include "openrx.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The queries, in order: key (the prefetch key in GET /cds-services), resource type, template
 * ("{{context.patientId}}" stands for the patient's id). latest: only the first page is read
 * (a `_sort=-date&_count=1` query). */
typedef struct orx_fhir_query {
    const char *key;
    const char *type;
    const char *tmpl;
    bool        latest;
} orx_fhir_query;
size_t orx_fhir_query_count(void);
const orx_fhir_query *orx_fhir_query_at(size_t i);

typedef struct orx_fhir_fetch_params {
    double deadline_s;         /* all requests together (default 10) */
    double connect_timeout_s;  /* per connection (default 3) */
    size_t max_pages;          /* pages per search (default 20) */
    size_t max_bytes;          /* response bytes in all (default 32 MiB) */
    size_t max_resources;      /* resources in all (default 20000) */
    int    page_count;         /* _count asked for paged searches (default 100) */
} orx_fhir_fetch_params;
orx_fhir_fetch_params orx_fhir_fetch_default_params(void);

typedef struct orx_fhir_fetch_stats {
    size_t requests, pages, resources, bytes;
    int    http_status;   /* the status of a failed request (0 if it never answered) */
    bool   timed_out;     /* the deadline passed */
} orx_fhir_fetch_stats;

/* Check the inputs a fetch needs: base (http:// or https:// URL, no spaces or control
 * characters), patient id (FHIR id: [A-Za-z0-9.-]{1,64}), token (NULL or printable ASCII).
 * ORX_ERR_INVALID with a message naming the field otherwise. */
orx_status orx_fhir_fetch_check(const char *base, const char *patient_id, const char *token, orx_error *err);

/* Whether base (a fhirServer URL) lies under one of the n allowed base URLs (`serve
 * --fhir-allow`): the scheme and authority (host, port) equal, case-insensitive, and the path the
 * allowed one's or below it (the next character a '/'; trailing '/' on the allowed URL ignored).
 * A base with a "." or ".." path segment, or a percent-encoded '.', is never allowed (the
 * request would leave the allowed path once resolved). n == 0 allows every base. */
bool orx_fhir_base_allowed(const char *base, const char *const *allow, size_t n);

/* Run the queries whose bit (1u << index into the query table) is set in `which` against base
 * and append each resource read (new references) to out (a JSON array). Errors:
 * ORX_ERR_INVALID (bad inputs), ORX_ERR_NETWORK (transport error, timeout, HTTP error status,
 * page cap), ORX_ERR_PARSE (a response that is not the expected FHIR JSON), ORX_ERR_NOMEM (a
 * cap). stats (optional) says what was done and why it stopped. */
orx_status orx_fhir_fetch(const orx_fhir_fetch_params *p, const char *base, const char *token, const char *patient_id,
                          unsigned which, json_t *out, orx_fhir_fetch_stats *stats, orx_error *err);

/* The queries (bits as for orx_fhir_fetch) the request did not answer: its prefetch object has
 * no value for the key (or null, or an OperationOutcome: the client could not fetch it) and the
 * resources gathered from the request hold nothing of the query's type (for Observations:
 * nothing with one of its LOINC codes). A request whose prefetch uses none of these keys but
 * carries resources (made from another service's templates) misses nothing: 0. */
unsigned orx_fhir_missing(json_t *prefetch, json_t *resources);

/* One response body read for query type `type`: a Bundle (searchset) whose entries' resources
 * of that type are appended to out, its next link (malloc'd, or NULL) in *next; or, for a read
 * (bundle=false), the resource itself. where names the request in messages. Used by
 * orx_fhir_fetch; exposed for the fuzz harness. */
orx_status orx_fhir_page_parse(const char *body, size_t len, const char *type, bool bundle, const char *where,
                               json_t *out, size_t max_resources, char **next, orx_error *err);

#endif
