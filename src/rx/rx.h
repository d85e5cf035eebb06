/*
 * rx.h — the recommend pipeline: patient + indication → grounded, checked DRAFT prescription.
 *
 *   patient + indication
 *           ─► options (rx/options.c): the drugs whose label's Indications & Usage states the
 *              indication (quoted, cited), each screened by the safety checker against this
 *              patient; contraindicated ones are left out of the choice
 *           ─► evidence in channels (kb retriever): indication sentences; per option the dosing
 *              paragraphs for the patient's band, boxed warning, contraindications; interactions
 *              option × current medicines. Patient facts choose sections, never search words.
 *           ─► prompt (system prompt, evidence [S1..Sk], patient, options, answer format), fitted
 *              to the model's context
 *           ─► LLM (any orx_llm backend; response_format = the schema: the ingredient is an enum
 *              of the options, citations an enum of the evidence ids)
 *           ─► parse + validate ─► safety checker ─► (one re-ask on contraindicated/major)
 *           ─► render (text / JSON / FHIR) + audit record.
 * With no model (llm == NULL) the same path runs in EVIDENCE MODE: the screened options with their
 * label doses, the evidence and the safety findings, clearly labelled; no generated prescription.
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
#define ORX_RX_MAX_CHOICE 12 /* options offered as the choice (the schema's enum) */

/* ============================================================================================
 * Parameters
 * ========================================================================================== */
typedef struct orx_rx_params {
    const char *indication;      /* what to treat ("atrial fibrillation, stroke prevention"); required */
    bool        problem;         /* the indication is one coded problem (a FHIR Condition display) */
    bool        rag;             /* retrieve evidence (false = the study's no-RAG arm) */
    bool        open_choice;     /* the model may name a drug outside the options (flagged
                                    "not label-indicated"); default false: the ingredient is an
                                    enum of the options */
    int         max_choice;      /* options offered as the choice (default ORX_RX_MAX_CHOICE) */
    int         k;               /* evidence items wanted (default 10) */
    int         evidence_words;  /* word budget for all evidence text (default 1200) */
    int         max_tokens;      /* generation limit (default 512) */
    float       temperature;     /* default 0 (greedy) */
    uint64_t    seed;            /* sampling seed */
    bool        reask;           /* re-ask once when a contraindicated/major finding remains (default true) */
    const char *audit_path;      /* JSONL audit log to append to, NULL = none */
    const char *model_hash;      /* sha256 of the model file (local) for the audit record, or NULL */
    /* Called with the system and user prompt of the first model call, before it is made (the
     * CLI shows them with ORX_DEBUG_PROMPT); NULL = not called. The library itself prints nothing. */
    void      (*on_prompt)(void *user, const char *system_prompt, const char *user_prompt);
    void       *on_prompt_user;  /* passed to on_prompt */
    bool        audit_full;      /* the audit record holds each request body sent, not only its hash */
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
    int    option;                   /* index in the options it is, -1 none */
    bool   label_indicated;          /* a label in the knowledge base states the indication for it */
} orx_rx_candidate;

/* One option: a drug whose label states the indication, screened for this patient. */
typedef struct orx_rx_option {
    orx_ind_option ind;              /* name, ingredients, match, labels, the quoted sentence */
    char           rxcui[16];        /* first ingredient's RxCUI (lexicon), "" unknown */
    orx_findings   findings;         /* the checker's findings for this drug and this patient */
    bool           any_finding;      /* findings.n > 0 */
    orx_severity   worst;            /* highest tier (valid when any_finding) */
    bool           excluded;         /* contraindicated for this patient: not in the choice */
    char           excluded_why[512];/* the contraindicated finding */
    bool           in_choice;        /* offered as the choice */
    int            ev_indication;    /* evidence number n of [Sn] with its indication sentence, 0 none */
    int            ev_dose;          /* evidence number of its dosing paragraphs, 0 none */
    char           dose[512];        /* the label's dose paragraph chosen for this patient's band, "" none */
    char           dose_citation[96];/* its "<set id>#34068-7" */
} orx_rx_option;

typedef struct orx_rx_options {
    bool           ran;              /* the options step ran (a knowledge base was given) */
    orx_rx_option *v;                /* choice first (no major finding, then major), then the rest by
                                        match, contraindicated ones last */
    size_t         n;                /* count */
    size_t         n_choice;         /* options offered as the choice (v[0 .. n_choice) minus excluded) */
    orx_ind_query  query;            /* how the indication was read */
    int            labels;           /* labels with an Indications section searched */
    int            sentences;        /* indication sentences searched */
    double         seconds;          /* options + screening time */
    char           note[256];        /* why there are none ("no label states …"), "" */
} orx_rx_options;

typedef struct orx_rx_timing {
    double options_s;     /* options: indication sentences + screening */
    double retrieval_s;   /* options + evidence channels */
    double first_token_s; /* prompt processing until the first generated piece (prefill) */
    double generate_s;    /* whole model call(s) */
    double check_s;       /* safety checks */
    double total_s;       /* everything */
} orx_rx_timing;

/* One request sent to an HTTP backend, as the audit record keeps it. */
typedef struct orx_rx_sent {
    char   sha256[65];            /* SHA-256 (hex) of the exact request body */
    size_t bytes;                 /* its length */
    char  *body;                  /* the body (malloc'd) with audit_full, else NULL */
} orx_rx_sent;

typedef struct orx_rx_result {
    bool             evidence_mode;   /* no model: retrieval + checks only */
    bool             rag;             /* evidence was given to the model */
    char             indication[256];
    char             model[256];      /* backend's model name, "" in evidence mode */
    orx_rx_options   options;         /* label-indicated options, screened */
    orx_kb_results   evidence;        /* retrieved sections; evidence id of hits[i] is "S<i+1>" */
    orx_findings     current_findings;/* findings on the patient's current medicines */
    orx_findings     findings;        /* findings on the proposed candidates */
    orx_rx_candidate cands[ORX_RX_MAX_CANDIDATES]; /* proposed drugs */
    int              n_cands;
    char             alternatives[3][96]; /* alternative ingredients named by the model */
    int              n_alternatives;
    bool             insufficient;    /* the model said the evidence is insufficient */
    bool             no_option;       /* the model answered "no suitable option" (reason: rationale) */
    int              discarded_cands; /* candidates written with "no suitable option" (not used) */
    bool             grounded;        /* the choice was limited to the options (enum) */
    char             confidence[8];   /* "low" | "medium" | "high" | "" */
    char             rationale[1024]; /* model's short rationale */
    char            *raw_output;      /* last raw model text (malloc'd), NULL in evidence mode */
    bool             schema_valid;    /* raw_output parsed and matched the schema */
    char             schema_error[512]; /* why not, when !schema_valid */
    int              asks;            /* model calls made (1, or 2 after a re-ask) */
    int              prompt_tokens, completion_tokens; /* last call's usage (-1 unknown) */
    int              cached_tokens;   /* prompt tokens of the first call served from the prefix cache */
    int              decode_passes;   /* local model: evaluations after the first token (all calls) */
    int              forced_tokens;   /* local model: tokens the grammar forced (taken without sampling) */
    int              drafted_tokens, accepted_tokens; /* local model: drafted tokens verified, kept */
    int              model_drafted_tokens, model_accepted_tokens; /* of them: the draft model's (--draft) */
    char             input_hash[65];  /* sha256 of the patient JSON + indication + params */
    orx_llm_privacy  privacy;         /* where the model's requests went (endpoint, remote, consent,
                                         redact); zeroed in evidence mode */
    int              redactions[ORX_DEID_KIND_COUNT]; /* de-identifications in the last prompt, per kind */
    orx_rx_sent      sent[2];         /* requests sent over HTTP (the ask and the re-ask) */
    int              n_sent;          /* count */
    orx_rx_timing    timing;
} orx_rx_result;
void orx_rx_result_clear(orx_rx_result *r);

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
/* Facts of the patient shown in the prompt ("CrCl 28 mL/min", "age 81 years"…). */
size_t orx_rx_patient_facts(const orx_patient *pt, char facts[][96], size_t cap);
/* The options step: the drugs whose label states the indication, screened by the checker against
 * this patient, ordered (no major finding first; contraindicated ones last, left out of the
 * choice). out is zeroed first; free with orx_rx_options_clear. */
orx_status orx_rx_find_options(const orx_retriever *ret, const orx_checker *ck, const orx_patient *pt,
                               const char *indication, bool problem, int max_choice,
                               orx_rx_options *out, orx_error *err);
void       orx_rx_options_clear(orx_rx_options *o);
/* The patient facts that choose dosing paragraphs (renal/hepatic band, age group, pregnancy). */
orx_retrieval_band orx_rx_band(const orx_patient *pt);
/* Output JSON Schema for a grounded choice (parsed; orx_schema_free; NULL on OOM): the ingredient is an enum of choices
 * (no candidates at all when n_choices is 0) and "no_suitable_option" is a required boolean;
 * choices NULL = open choice (a free ingredient string, no "no_suitable_option"). */
orx_schema *orx_rx_output_schema_for(int n_evidence, const char *const *choices, int n_choices);
/* Parse and validate a model answer against schema (the one given to the model). */
orx_status orx_rx_parse_answer(const char *text, const orx_schema *schema, orx_rx_result *out, orx_error *err);
/* Tokens a prompt text will take, estimated from its bytes (every digit a token, 3 bytes per
 * token otherwise: conservative for Llama/Mistral/Qwen vocabularies on label text). */
int    orx_rx_estimate_tokens(const char *text);
/* Short display name of an evidence label: its title, or its drug names when the title is the
 * boilerplate Highlights sentence ("These highlights do not include all the information…") or
 * longer than 120 bytes. */
const char *orx_rx_evidence_name(const orx_kb_hit *h);
/* Output JSON Schema (parsed; orx_schema_free; NULL on OOM); citation ids enumerated S1..S<n_evidence> (none when 0);
 * the ingredient a free string (no options). */
orx_schema *orx_rx_output_schema(int n_evidence);
/* System and user prompt texts (malloc'd). */
char  *orx_rx_system_prompt(bool rag);
/* grounded: the answer must choose among the listed options */
char  *orx_rx_system_prompt_for(bool rag, bool grounded);
char  *orx_rx_user_prompt(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                          const char *schema);
/* The same with the options block (opts NULL or not run: none). */
char  *orx_rx_user_prompt_options(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                                  const orx_rx_options *opts, bool open_choice);
/* The same, de-identified for a remote model when d is given (clinical/deid.c): ages over 89 as
 * "age 90 or older"; problem, medicine, allergy, indication and left-out-reason texts scanned
 * for identifiers (Safe Harbor, 45 CFR 164.514(b)(2)); d counts the redactions. d NULL = full
 * detail, byte for byte the text of orx_rx_user_prompt_options. Label evidence is not patient
 * data and is sent as it is. */
char  *orx_rx_user_prompt_deid(const orx_patient *pt, const char *indication, const orx_kb_results *ev,
                               const orx_rx_options *opts, bool open_choice, orx_deid *d);
/* Parse and validate a model answer into out (candidates, alternatives …). ORX_ERR_INVALID /
 * ORX_ERR_PARSE with the reason when it does not match the schema. */
orx_status orx_rx_parse_output(const char *text, int n_evidence, orx_rx_result *out, orx_error *err);

/* ============================================================================================
 * Rendering (append to buf)
 * ========================================================================================== */
orx_status orx_rx_render_text(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);
orx_status orx_rx_render_json(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);
/* A candidate's dose fields into o: dose_amount, dose_unit, route, frequency, duration,
 * adjustments, monitoring (the JSON result and the evaluator's records). */
void       orx_rx_candidate_dose_json(json_t *o, const orx_rx_candidate *c);
/* The JSON result as a document (new reference; NULL on OOM): what orx_rx_render_json writes. */
json_t    *orx_rx_result_json(const orx_rx_result *r, const orx_patient *pt);
/* FHIR R4 Bundle (collection, urn:uuid fullUrls; render_fhir.c): MedicationRequest (status draft,
 * intent proposal) per candidate and (intent option) per option offered, DetectedIssue per finding
 * implicating them and the MedicationStatements of the current medicines concerned,
 * DocumentReference per cited source, Device + Provenance. */
orx_status orx_rx_render_fhir(const orx_rx_result *r, const orx_patient *pt, orx_buf *out, orx_error *err);
/* The same Bundle as a document (*out a new reference). */
orx_status orx_rx_fhir_json(const orx_rx_result *r, const orx_patient *pt, json_t **out, orx_error *err);

/* Append one fsynced JSONL audit record (time, input hash, model name + hash, retrieved ids,
 * output, findings, status, error). With a model also: "endpoint" (URL without credentials, or
 * "local engine"), "remote", "consent", "deidentified", "redactions" (per kind) and "requests":
 * [{"sha256", "bytes"[, "body" with audit_full]}] for each request body sent over HTTP. */
orx_status orx_rx_audit(const char *path, const orx_rx_result *r, const char *model_hash,
                        orx_status status, const char *error_msg, orx_error *err);

#endif /* ORX_RX_H */
