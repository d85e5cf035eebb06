/*
 * rx.h — the recommend pipeline: patient + indication → grounded, checked DRAFT prescription.
 *
 *   patient ─► query (indication + patient facts + current medicines)
 *           ─► retrieval (kb retriever, top-k label sections, fitted to a word budget)
 *           ─► prompt (fixed system prompt, patient summary, evidence [S1..Sk], output schema)
 *           ─► LLM (any orx_llm backend; response_format = the schema, citations an enum of
 *              the retrieved ids)
 *           ─► parse + validate ─► safety checker ─► (one re-ask on contraindicated/major)
 *           ─► render (text / JSON / FHIR) + audit record.
 * With no model (llm == NULL) the same path runs in EVIDENCE MODE: retrieval + safety findings for
 * the current medicines, clearly labelled, and no generated prescription.
 */
#ifndef ORX_RX_H
#define ORX_RX_H

#include "openrx.h"
#include "util/util.h"
#include "clinical/clinical.h"
#include "kb/kb.h"
#include "llm/llm.h"
#include "safety/safety.h"

#define ORX_RX_MAX_CANDIDATES 3
#define ORX_RX_MAX_CITES 4

/* ============================================================================================
 * Parameters
 * ========================================================================================== */
typedef struct orx_rx_params {
    const char *indication;      /* what to treat ("atrial fibrillation, stroke prevention"); required */
    bool        rag;             /* retrieve evidence (false = the study's no-RAG arm) */
    int         k;               /* evidence sections wanted (default 6) */
    int         evidence_words;  /* word budget for all evidence text (default 1200) */
    int         max_tokens;      /* generation limit (default 512) */
    float       temperature;     /* default 0 (greedy) */
    uint64_t    seed;            /* sampling seed */
    bool        reask;           /* re-ask once when a contraindicated/major finding remains (default true) */
    const char *audit_path;      /* JSONL audit log to append to, NULL = none */
    const char *model_hash;      /* sha256 of the model file (local) for the audit record, or NULL */
} orx_rx_params;
orx_rx_params orx_rx_default_params(void);

/* ============================================================================================
 * Result
 * ========================================================================================== */
typedef struct orx_rx_candidate {
    char   ingredient[96];           /* as the model wrote it */
    char   rxcui[16];                /* from the lexicon, "" if not resolved */
    double dose_amount;              /* per administration */
    char   dose_unit[16];            /* "mg", "mcg", … */
    char   route[24];                /* "oral", … */
    char   frequency[64];            /* "twice daily" */
    char   duration[64];             /* "long-term", "5 days" */
    char   adjustments[512];         /* adjustments for this patient and why */
    char   monitoring[256];          /* what to monitor */
    char   citations[ORX_RX_MAX_CITES][8]; /* evidence ids "S1".."Sk" */
    int    n_citations;
} orx_rx_candidate;

typedef struct orx_rx_timing {
    double retrieval_s;   /* retrieval */
    double first_token_s; /* prompt processing until the first generated piece (prefill) */
    double generate_s;    /* whole model call(s) */
    double check_s;       /* safety checks */
    double total_s;       /* everything */
} orx_rx_timing;

typedef struct orx_rx_result {
    bool             evidence_mode;   /* no model: retrieval + checks only */
    bool             rag;             /* evidence was given to the model */
    char             indication[256];
    char             model[256];      /* backend's model name, "" in evidence mode */
    orx_kb_results   evidence;        /* retrieved sections; evidence id of hits[i] is "S<i+1>" */
    orx_findings     current_findings;/* findings on the patient's current medicines */
    orx_findings     findings;        /* findings on the proposed candidates */
    orx_rx_candidate cands[ORX_RX_MAX_CANDIDATES]; /* proposed drugs */
    int              n_cands;
    char             alternatives[3][96]; /* alternative ingredients named by the model */
    int              n_alternatives;
    bool             insufficient;    /* the model said the evidence is insufficient */
    char             confidence[8];   /* "low" | "medium" | "high" | "" */
    char             rationale[1024]; /* model's short rationale */
    char            *raw_output;      /* last raw model text (malloc'd), NULL in evidence mode */
    bool             schema_valid;    /* raw_output parsed and matched the schema */
    char             schema_error[512]; /* why not, when !schema_valid */
    int              asks;            /* model calls made (1, or 2 after a re-ask) */
    int              prompt_tokens, completion_tokens; /* last call's usage (-1 unknown) */
    int              cached_tokens;   /* prompt tokens of the first call served from the prefix cache */
    char             input_hash[65];  /* sha256 of the patient JSON + indication + params */
    orx_rx_timing    timing;
} orx_rx_result;
void orx_rx_result_free(orx_rx_result *r);

/* ============================================================================================
 * Pipeline
 * ========================================================================================== */
/* Run the pipeline. llm NULL = evidence mode. retriever NULL = no knowledge base (no evidence).
 * A model answer that is not schema-valid is NOT an error: the result says so (schema_valid
 * false, schema_error) and carries no candidates. Errors are for unusable inputs and for
 * backend failures (unreachable server, HTTP 500 …); the audit record is written either way. */
orx_status orx_recommend(orx_llm *llm, const orx_retriever *retriever, const orx_checker *ck,
                         const orx_patient *pt, const orx_rx_params *p, orx_rx_result *out,
                         orx_error *err);

/* The pieces, exposed for tests and the evaluator. */
/* Facts of the patient used for retrieval and in the prompt ("CrCl 28 mL/min", "age 81 years"…). */
size_t orx_rx_patient_facts(const orx_patient *pt, char facts[][96], size_t cap);
/* Short display name of an evidence label: its title, or its drug names when the title is the
 * boilerplate Highlights sentence ("These highlights do not include all the information…") or
 * longer than 120 bytes. */
const char *orx_rx_evidence_name(const orx_kb_hit *h);
/* Output JSON Schema text (malloc'd); citation ids enumerated S1..S<n_evidence> (none when 0). */
char  *orx_rx_output_schema(int n_evidence);
/* System and user prompt texts (malloc'd). */
char  *orx_rx_system_prompt(bool rag);
char  *orx_rx_user_prompt(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                          const char *schema);
/* Parse and validate a model answer into out (candidates, alternatives …). ORX_ERR_INVALID /
 * ORX_ERR_PARSE with the reason when it does not match the schema. */
orx_status orx_rx_parse_output(const char *text, int n_evidence, orx_rx_result *out, orx_error *err);

/* ============================================================================================
 * Rendering (append to buf)
 * ========================================================================================== */
orx_status orx_rx_render_text(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);
orx_status orx_rx_render_json(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);
/* FHIR R4 Bundle (collection): MedicationRequest (status draft, intent proposal) per candidate +
 * DetectedIssue per finding. */
orx_status orx_rx_render_fhir(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);

/* Append one fsynced JSONL audit record (time, input hash, model name + hash, retrieved ids,
 * output, findings, status, error). */
orx_status orx_rx_audit(const char *path, const orx_rx_result *r, const char *model_hash,
                        orx_status status, const char *error_msg, orx_error *err);

#endif /* ORX_RX_H */
