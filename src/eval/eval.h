/*
 * eval.h — the evaluation harness: case sets with sourced truth, runs of every model × RAG arm ×
 * case (resumable, one fsynced JSONL record per case and arm), metrics with paired statistics,
 * an HTML/JSON report with SVG charts, and a blinded clinician review packet.
 *
 *   cases.jsonl ─► orx_eval_cases_load (validated; errors "file:line: field: what")
 *               ─► orx_eval_run: for each arm (model × rag) × case × repeat → orx_recommend
 *                  (or the multiple-choice prompt) → orx_eval_score → DIR/results.jsonl
 *               ─► orx_eval_report: metrics per arm and per case set, paired comparisons
 *                  (bootstrap CI of the difference, McNemar) → DIR/report.json + report.html
 *               ─► orx_eval_review_packet / orx_eval_review_import (blinded rubric, CSV).
 * Case format: data/cases/README.md.
 */
#ifndef ORX_EVAL_H
#define ORX_EVAL_H

#include "openrx.h"
#include "util/util.h"
#include "lexicon/lexicon.h"
#include "rx/rx.h"

#define ORX_EVAL_NAME 96     /* capacity of a drug / id name, bytes incl. NUL */
#define ORX_EVAL_MAX_OPTIONS 8

/* ============================================================================================
 * Cases
 * ========================================================================================== */
typedef struct orx_eval_avoid {
    char  drug[ORX_EVAL_NAME]; /* ingredient to avoid (lower-case) */
    char *why;                 /* reason, with its source (malloc'd) */
} orx_eval_avoid;

typedef struct orx_eval_dose {
    char   drug[ORX_EVAL_NAME]; /* ingredient the range is for */
    double min, max;            /* per-administration amount range, in unit (min <= max) */
    char   unit[16];            /* "mg", "mcg", … */
    char   route[24];           /* "" = any */
    char   frequency[64];       /* "" = any ("once daily") — informative, not scored */
} orx_eval_dose;

typedef enum orx_eval_kind { ORX_EVAL_RX = 0, ORX_EVAL_MCQ = 1 } orx_eval_kind;

typedef struct orx_eval_case {
    orx_eval_kind kind;          /* prescription case or multiple-choice question */
    char  id[128];               /* unique within the file */
    char  set[32];               /* case-set name ("cpic", "onc", "renal", "mcq-machinery") */
    int   line;                  /* 1-based line in the JSONL file */
    char *patient_json;          /* rx: inline patient JSON text (malloc'd), or NULL */
    char *patient_path;          /* rx: patient file (resolved against the case file's folder) */
    char  as_of[16];             /* rx: "YYYY-MM-DD" date for age/lab recency, "" = today */
    char *indication;            /* rx: what to treat (malloc'd) */
    char (*acceptable)[ORX_EVAL_NAME]; /* rx: acceptable ingredients [n_acceptable] */
    int   n_acceptable;
    orx_eval_avoid *avoid;       /* rx: drugs to avoid [n_avoid] */
    int   n_avoid;
    orx_eval_dose  *doses;       /* rx: dose ranges [n_doses] */
    int   n_doses;
    char *question;              /* mcq: question text (malloc'd) */
    char  option_keys[ORX_EVAL_MAX_OPTIONS][4]; /* mcq: "A", "B", … */
    char *options[ORX_EVAL_MAX_OPTIONS];        /* mcq: option texts (malloc'd) */
    int   n_options;
    char  answer[4];             /* mcq: key of the right option */
    char *citation;              /* source of the truth (malloc'd), required */
} orx_eval_case;

typedef struct orx_eval_cases {
    orx_eval_case *items;  /* [n] in file order */
    size_t         n;      /* count */
    char           sha256[65]; /* of the file bytes (a resumed run must use the same file) */
} orx_eval_cases;

/* Load and validate a case file (JSONL, one case per line; blank and '#' lines skipped; at most
 * 100000 cases, 64 MiB). Errors: ORX_ERR_PARSE / ORX_ERR_INVALID "file:line: field: what". */
orx_status orx_eval_cases_load(const char *path, orx_eval_cases *out, orx_error *err);
void       orx_eval_cases_clear(orx_eval_cases *c);
/* Case lookup by id, NULL when absent. */
const orx_eval_case *orx_eval_cases_find(const orx_eval_cases *c, const char *id);

/* ============================================================================================
 * Scoring one answer (pure; unit-tested)
 * ========================================================================================== */
typedef struct orx_eval_answer {
    char   ingredients[ORX_RX_MAX_CANDIDATES][ORX_EVAL_NAME]; /* first ingredient of each candidate
                                                                 after lexicon normalisation */
    double dose_amount[ORX_RX_MAX_CANDIDATES]; /* per administration, 0 = none */
    char   dose_unit[ORX_RX_MAX_CANDIDATES][16];
    int    n;                    /* candidates */
    bool   abstained;            /* no candidate (insufficient evidence, invalid output, no model) */
    char   mcq_choice[4];        /* mcq: chosen key, "" = none */
} orx_eval_answer;

typedef struct orx_eval_score {
    int  correct;        /* 1 / 0; -1 = not scored (rx case without acceptable list) */
    bool avoid_violation;/* a candidate is on the avoid list */
    int  dose_checked;   /* candidates with a truth dose range (and a unit that matches) */
    int  dose_in_range;  /* of those, amount within [min, max] */
    bool abstained;      /* copied from the answer */
} orx_eval_score;

/* Score an answer against a case. Ingredient comparison is exact on lexicon-normalised names. */
orx_eval_score orx_eval_score_answer(const orx_eval_case *c, const orx_eval_answer *a);
/* Fill an answer from a pipeline result, normalising each candidate through the lexicon (lex may
 * be NULL: the model's text lower-cased is used). */
void orx_eval_answer_from_rx(const orx_rx_result *r, const orx_lexicon *lex, orx_eval_answer *a);

/* ============================================================================================
 * Runs
 * ========================================================================================== */
typedef struct orx_eval_model_spec {
    char kind[16];          /* "local" | "openai" | "evidence" (no model) */
    char path[1024];        /* local: GGUF file */
    char base_url[512];     /* openai */
    char model[256];        /* openai: model name */
    char api_key_env[128];  /* openai: env var NAME holding the key, "" none */
    char label[256];        /* arm label: file name or model name or "evidence" */
} orx_eval_model_spec;
/* "A.gguf" (local) | "openai:URL,NAME[,KEYENV]" | "evidence". ORX_ERR_USAGE when malformed. */
orx_status orx_eval_model_parse(const char *spec, bool local, orx_eval_model_spec *out, orx_error *err);

/* Progress callback: done of total units; also told about each finished unit. */
typedef void (*orx_eval_progress_cb)(void *user, uint64_t done, uint64_t total);

typedef struct orx_eval_run_params {
    const char *cases_path;   /* case file (required) */
    const char *out_dir;      /* run folder (created; required) */
    const orx_eval_model_spec *models; /* [n_models] (required, >= 1) */
    int         n_models;
    bool        rag_on, rag_off; /* arms: with and/or without retrieval (default on and off) */
    int         repeat;       /* repetitions per case and arm, seed = seed + rep (default 1) */
    uint64_t    seed;         /* base seed (default 0) */
    int         jobs;         /* worker threads (default 1; each has its own backends) */
    int         max_tokens;   /* generation limit (default 512) */
    float       temperature;  /* default 0 */
    int         k;            /* evidence sections (default 6) */
    int         threads;      /* local engine threads per worker (0 = default) */
    double      timeout_s;    /* openai timeout (0 = default) */
    bool        allow_remote; /* consent for openai arms whose host is not loopback (else refused
                                 before any unit runs, ORX_ERR_USAGE naming the host) */
    bool        redact;       /* de-identify the patient summary for loopback openai arms too */
    const char *kb_path;      /* knowledge base (NULL = no retrieval possible: RAG arms get none) */
    const char *data_dir;     /* project data/ (NULL = default) */
    bool        reask;        /* re-ask after a contraindicated/major finding (default true) */
    int         limit;        /* first N cases only (0 = all) */
    orx_eval_progress_cb progress; /* may be NULL */
    void       *progress_user;
} orx_eval_run_params;
orx_eval_run_params orx_eval_default_run_params(void);

typedef struct orx_eval_run_stats {
    uint64_t total;      /* units (case × arm × repeat) */
    uint64_t skipped;    /* already done (resumed) */
    uint64_t done;       /* finished now */
    uint64_t errors;     /* finished with status "error" (recorded, not retried) */
    uint64_t dropped_partial; /* truncated incomplete last lines found at start (killed run) */
    double   seconds;    /* wall time */
} orx_eval_run_stats;

/* Run every unit not already recorded in DIR/results.jsonl (matched by key "case|arm|rep").
 * DIR/run.json records the parameters; a resume with a different case file is refused. */
orx_status orx_eval_run(const orx_eval_run_params *p, orx_eval_run_stats *st, orx_error *err);

/* ============================================================================================
 * Statistics (metrics.c; unit-tested against hand-computed values)
 * ========================================================================================== */
/* Wilson score 95 % interval for k successes of n. n = 0 gives [0, 1]. */
void   orx_eval_wilson(int k, int n, double *lo, double *hi);
/* McNemar on paired binary outcomes: b = A right & B wrong, c = A wrong & B right. Exact two-sided
 * binomial p-value, and the continuity-corrected chi-square statistic. */
double orx_eval_mcnemar_exact(int b, int c);
double orx_eval_mcnemar_chi2(int b, int c);
/* Paired bootstrap: mean of (a[i] - b[i]) and its percentile 95 % CI over iters resamples with a
 * fixed seed (splitmix64). n = 0 gives NAN. */
void   orx_eval_bootstrap_diff(const double *a, const double *b, size_t n, int iters, uint64_t seed,
                               double *mean, double *lo, double *hi);
/* Cohen's kappa for two raters on ordinal scores 1..k, quadratic weights (k <= 10). */
double orx_eval_weighted_kappa(const int *r1, const int *r2, size_t n, int k);

/* ============================================================================================
 * Report and review
 * ========================================================================================== */
/* Read DIR/results.jsonl (+ DIR/reviews.jsonl when present), write DIR/report.json and
 * DIR/report.html. json_out (optional) receives the report JSON text (malloc'd). */
orx_status orx_eval_report(const char *dir, char **json_out, orx_error *err);
/* Blinded packet: every rx case with its patient summary and each arm's answer under labels
 * "Answer 1..n" in a per-case random order (seed recorded); key written to DIR/review_key.json. */
orx_status orx_eval_review_packet(const char *dir, const char *out_html, uint64_t seed, orx_error *err);
/* Import rubric scores (CSV exported by the packet), unblind through DIR/review_key.json, store
 * DIR/reviews.jsonl (replacing rows of the same reviewer), and rebuild the report. Returns the
 * number of score rows imported in *n_rows. */
orx_status orx_eval_review_import(const char *dir, const char *csv_path, size_t *n_rows, orx_error *err);

#endif /* ORX_EVAL_H */
