/*
 * api.h — openrx's own routes on the server: POST /v1/check, POST /v1/recommend, and the CDS
 * Hooks 2.0 service (GET /cds-services, POST /cds-services/openrx-order-select,
 * POST /cds-services/openrx-order-sign, POST /cds-services/<id>/feedback).
 */
#ifndef ORX_SERVER_API_H
#define ORX_SERVER_API_H

#include "server/server.h"
#include "rx/rx.h"
#include <jansson.h>

typedef struct orx_api {
    orx_server          *srv;        /* the server (model lock) */
    const orx_checker   *checker;    /* safety checker (required) */
    const orx_retriever *retriever;  /* knowledge base, or NULL */
    orx_llm             *llm;        /* model for /v1/recommend, or NULL (evidence mode) */
    const char          *audit_path; /* JSONL audit log, or NULL */
    bool                 audit_full; /* audit records hold the request bodies sent (not only hashes) */
    bool                 cds_recommend; /* reserved: add a model recommendation card on order-select */
    double               fhir_timeout_s; /* CDS Hooks reads from fhirServer: deadline, all requests (0 = 10 s) */
    const char *const   *fhir_allow;     /* [n_fhir_allow] base URLs fhirServer must lie under (--fhir-allow) */
    size_t               n_fhir_allow;   /* 0: any fhirServer is read */
} orx_api;

/* Register the routes; api must outlive the server. */
orx_status orx_api_register(orx_api *api, orx_error *err);

/* Pure functions behind the routes (JSON text in, JSON text out; malloc'd), for tests. */
int orx_api_check(orx_api *api, const char *body, size_t len, char **out);      /* returns HTTP status */
int orx_api_cds(orx_api *api, const char *service, const char *body, size_t len, char **out);
char *orx_api_cds_discovery(void);

/* One CDS Hooks card for a finding (cds_card.c): uuid from hook_instance + idx + the finding;
 * draft = the draft MedicationRequest (JSON, borrowed) the finding is about, or NULL; findings of
 * moderate tier and above get a "remove the draft order" suggestion (when draft is known, with
 * selectionBehavior "at-most-one") and overrideReasons. New reference. */
json_t *orx_cds_card(const orx_finding *f, const char *hook_instance, int idx, json_t *draft);

#endif
