/*
 * kb.h — the drug-label knowledge base: ingest FDA labels (openFDA JSON, SPL XML, section text
 * files, labels_sections.jsonl), chunk them by section, store them in one SQLite file with an
 * FTS5 index, and retrieve cited label sections (BM25 weighted by section) behind a retriever
 * interface so a dense or hybrid retriever can be added later.
 *
 * Citation ids are "<set id>#<LOINC section code>" ("#" alone when a section has no code).
 * The drug-name lexicon (lexicon/lexicon.h, a separate concern) is used for query expansion when
 * it is available.
 */
#ifndef ORX_KB_H
#define ORX_KB_H

#include "openrx.h"
#include "kb/indterms.h"

struct orx_lexicon; /* lexicon/lexicon.h */

/* ============================================================================================
 * Documents as produced by the ingesters
 * ========================================================================================== */
typedef struct orx_kb_section {
    char        code[16]; /* LOINC section code ("34073-7"), "" when unknown */
    const char *name;     /* canonical section name ("Drug Interactions"), never NULL */
    const char *title;    /* heading as printed in the label, "" when none */
    const char *text;     /* plain UTF-8 text; paragraphs separated by "\n\n" */
    size_t      len;      /* bytes of text */
} orx_kb_section;

typedef struct orx_kb_doc {
    const char           *set_id;         /* SPL set id (or "<corpus>:<name>" when absent) */
    const char           *version;        /* SPL version number as text, "" unknown */
    const char           *effective_date; /* YYYYMMDD, "" unknown */
    const char           *title;          /* label title */
    const char           *generic_names;  /* "; "-separated, lower-case where known, may be "" */
    const char           *brand_names;    /* "; "-separated, may be "" */
    const char           *rxcuis;         /* "; "-separated RxCUIs, "" when none */
    const char           *source_file;    /* file the document came from (+ "#n" element index) */
    const orx_kb_section *sections;       /* document-order sections */
    size_t                n_sections;     /* count of sections (0 = a label without sections) */
    uint64_t              src_bytes;      /* input bytes this document consumed (progress, MB/s) */
    bool                  indication_only; /* one Indications section from an indication-only
                                              corpus (no full label): ranked as a supplement */
} orx_kb_doc;

/* Called once per parsed document; a non-OK return stops the ingest with that status. */
typedef orx_status (*orx_kb_doc_fn)(void *ctx, const orx_kb_doc *doc, orx_error *err);

/* ============================================================================================
 * Ingesters (one file each; errors carry "file:line:col: what")
 * ========================================================================================== */
/* openFDA drug-label JSON: {"meta":…, "results":[…]} or a bare array; streamed element by element
 * (memory bounded by the largest single label, limit 64 MiB). */
orx_status orx_kb_ingest_openfda(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);
/* One SPL XML document (DailyMed). */
orx_status orx_kb_ingest_spl(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);
orx_status orx_kb_ingest_spl_buf(const char *xml, size_t len, const char *name, orx_kb_doc_fn fn,
                                 void *ctx, orx_error *err);
/* labels_sections.jsonl (one label per line: setid, sections[{section_code, section_name, text}]). */
orx_status orx_kb_ingest_jsonl(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);
/* Plain-text label files: an NLM DDI corpus file (<setid>.txt with upper-case section headings) or
 * a group of fda-ars files <DRUG>_<section>.txt of one drug (paths of one group, n >= 1). */
orx_status orx_kb_ingest_text(const char *const *paths, size_t n, orx_kb_doc_fn fn, void *ctx,
                              orx_error *err);
/* Indication-only documents: *.indications.jsonl ({"line": N, "text": "<Indications & Usage
 * text>"} per line); set id "dailymed-indications:<N>", one Indications & Usage section, drug
 * names resolved from the text with the drug-name lexicon (left empty when it cannot). */
orx_status orx_kb_ingest_indications(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);
/* "PLAVIX (clopidogrel bisulfate) tablet" / "REMERON- mirtazapine tablet, film coated" →
 * brand "PLAVIX", generic "clopidogrel bisulfate" (lower-case); either may come back "". */
void orx_kb_parse_label_name(const char *name, char *brand, size_t bcap, char *generic, size_t gcap);
/* A file or directory (recursive): picks the ingester by name/content (.json, .jsonl,
 * .indications.jsonl, .xml, .txt). Stops at the first file that cannot be read or parsed (see
 * orx_kb_ingest_path_opts). */
orx_status orx_kb_ingest_path(const char *path, orx_kb_doc_fn fn, void *ctx, orx_error *err);

/* How a directory walk treats a bad file (empty, garbage, unreadable, not the format its name
 * says). A file named directly (not found in a directory) is always an error. */
typedef struct orx_kb_ingest_opts {
    bool  strict; /* stop at the first bad file (the error names it) */
    /* not strict: a bad file's documents are undone (file_end ok=false) and it is reported here
     * with the reason ("path:line:col: what"), then the walk goes on */
    void (*bad_file)(void *ctx, const char *path, const orx_error *why);
    /* around each file (or group of fda-ars files); either may be NULL. A non-OK return stops */
    orx_status (*file_begin)(void *ctx, const char *path, orx_error *err);
    orx_status (*file_end)(void *ctx, const char *path, bool ok, orx_error *err);
    void *ctx;    /* passed to the three callbacks */
} orx_kb_ingest_opts;
/* Errors returned by fn (the consumer: e.g. the database) always stop the walk. */
orx_status orx_kb_ingest_path_opts(const char *path, orx_kb_doc_fn fn, void *ctx, const orx_kb_ingest_opts *opts,
                                   orx_error *err);

/* ============================================================================================
 * Sections and chunking
 * ========================================================================================== */
/* Canonical name for a LOINC section code ("Drug Interactions"), NULL when unknown. */
const char *orx_kb_section_name(const char *code);
/* Section code for a heading or alias ("7 DRUG INTERACTIONS", "drug_interactions",
 * "interactions", "renal"), NULL when none. */
const char *orx_kb_section_code_for(const char *heading);
/* Ranking weight of a section code (>1 boosts; 1.0 neutral) and its small class id (0..15). */
double      orx_kb_section_weight(const char *code);
int         orx_kb_section_class(const char *code);
double      orx_kb_class_weight(int klass);
/* Ranking class of indication-only documents' chunks (weight 0.5: below every label section
 * in free-text search; the indication options read them directly). */
#define ORX_KB_CLASS_SUPPLEMENT 14
#define ORX_KB_TERM 64 /* bytes of one query term or phrase */

typedef struct orx_kb_span {
    size_t off;   /* byte offset of the chunk in the section text */
    size_t len;   /* bytes */
    int    words; /* whitespace-separated words in the chunk */
} orx_kb_span;
/* Split text into chunks of at most ~max_words words at paragraph, then sentence boundaries
 * (never mid-sentence; a single sentence longer than the budget becomes its own chunk).
 * Writes up to cap spans; returns the number needed. */
size_t orx_kb_chunk(const char *text, size_t len, int max_words, orx_kb_span *out, size_t cap);

/* ============================================================================================
 * Building a knowledge base (atomic: temp file + rename)
 * ========================================================================================== */
#define ORX_KB_SCHEMA_VERSION 2 /* 2: anchor column, term_stats, length bucket in row ids; later
                                   optional tables (chunk_meta, sources, …) and the impact index are
                                   added by 'kb index' when missing */

typedef struct orx_kb_build_params {
    int   max_words;                              /* chunk budget in words (default 200) */
    bool  progress;                               /* progress bar on a TTY (stderr) */
    bool  strict;                                 /* a bad file in a directory stops the build
                                                     (default: it is reported through note, with
                                                     its path and reason, and skipped) */
    void (*note)(void *ctx, const char *message); /* duplicates, empty labels; may be NULL */
    void *note_ctx;                               /* passed to note */
} orx_kb_build_params;
orx_kb_build_params orx_kb_build_default_params(void);

typedef struct orx_kb_build_stats {
    uint64_t docs;        /* documents kept */
    uint64_t chunks;      /* chunks indexed */
    uint64_t duplicates;  /* documents dropped because a newer version of the set id won */
    uint64_t empty;       /* documents without any section text (kept out of the index) */
    uint64_t skipped_files; /* bad files in input directories, reported and skipped */
    uint64_t bytes_in;    /* input bytes read */
    double   seconds;     /* wall time of the build */
} orx_kb_build_stats;

orx_status orx_kb_build(const char *out_path, const char *const *inputs, size_t n_inputs,
                        const orx_kb_build_params *params, orx_kb_build_stats *stats,
                        orx_error *err);

/* Synthetic corpus for benchmarks: copies the chunks of src round-robin (new set ids per copy)
 * until n_chunks chunks exist, into out_path (atomic). */
orx_status orx_kb_synthesize(const char *src_path, const char *out_path, uint64_t n_chunks,
                             bool progress, orx_error *err);

/* ============================================================================================
 * Opening and searching
 * ========================================================================================== */
typedef struct orx_kb orx_kb;

/* Opens read-only; fails with ORX_ERR_UNSUPPORTED when the schema version differs. A handle is
 * used by one thread at a time (open one per thread). Ranking: orx_rank (BM25 with stored term
 * statistics and the length bucket in the row id). The tuning variables (ORX_KB_FTS5_BM25,
 * ORX_KB_IMPACT, ORX_KB_COMMON, ORX_KB_WEIGHTS; README "Environment variables") are read here,
 * once per handle. */
orx_status orx_kb_open(const char *path, orx_kb **out, orx_error *err);
void       orx_kb_free(orx_kb *kb);
/* Use a lexicon for query expansion (not owned; NULL disables). */
void       orx_kb_set_lexicon(orx_kb *kb, const struct orx_lexicon *lex);
/* Open the project lexicon from data_dir (NULL = default) if the lexicon is built in; the kb owns it.
 * Returns ORX_ERR_UNSUPPORTED when no lexicon is compiled in. */
orx_status orx_kb_load_lexicon(orx_kb *kb, const char *data_dir, orx_error *err);

typedef struct orx_kb_stats {
    uint64_t docs;            /* documents */
    uint64_t chunks;          /* chunks */
    uint64_t text_bytes;      /* bytes of chunk text */
    uint64_t duplicates;      /* dropped duplicate versions recorded at build */
    int      schema_version;  /* PRAGMA user_version */
    char     built_at[32];    /* UTC build time */
} orx_kb_stats;
orx_status orx_kb_get_stats(orx_kb *kb, orx_kb_stats *out, orx_error *err);
/* Per-source and per-section counts as JSON text (malloc'd) for `kb stats`. */
orx_status orx_kb_stats_json(orx_kb *kb, char **json_out, orx_error *err);

typedef struct orx_kb_query {
    const char *text;    /* free text ("warfarin with aspirin") */
    const char *drug;    /* restrict to labels of this drug (name, brand; lexicon-expanded), or NULL */
    const char *section; /* restrict to a section: LOINC code or name/alias ("interactions"), or NULL */
    int         k;       /* results wanted (default 8, max 100) */
    bool        expand;  /* expand terms with lexicon synonyms when a lexicon is set */
    bool        exhaustive; /* score every matching chunk: no drug anchoring / common-word pruning */
    bool        all_copies; /* keep chunks whose text repeats a better hit (default: collapsed) */
} orx_kb_query;

typedef struct orx_kb_hit {
    char    citation[96];     /* "<set id>#<section code>" */
    char    set_id[64];       /* label set id */
    char    section_code[16]; /* LOINC code, "" unknown */
    char    section_name[64]; /* canonical section name */
    char    section_title[160]; /* heading as printed */
    char    title[256];       /* label title */
    char    drugs[256];       /* generic; brand names */
    char    version[16];      /* SPL version */
    char    effective_date[16]; /* YYYYMMDD */
    int64_t chunk_id;         /* chunk row id */
    size_t  start, end;       /* byte offsets of the chunk in its section text */
    double  score;            /* weighted BM25 × section weight; higher is better */
    char   *text;             /* whole chunk text (malloc'd); a sentence or the chosen paragraphs
                                 for channel evidence */
    char   *snippet;          /* ~40 words around the matches, terms wrapped in ** ** (malloc'd),
                                 NULL for channel evidence */
    int     channel;          /* orx_kb_channel of retrieve() evidence, 0 for search results */
    int     option;           /* index of the option it is about (retrieve), -1 none */
    int     copies;           /* other chunks (other labels) with the same text, collapsed into this hit */
} orx_kb_hit;

/* Evidence channels of orx_retriever.retrieve (orx_kb_hit.channel). */
typedef enum orx_kb_channel {
    ORX_KB_CH_NONE = 0,
    ORX_KB_CH_INDICATION,  /* an option's indication sentence */
    ORX_KB_CH_DOSING,      /* an option's Dosage & Administration paragraphs for the patient's band */
    ORX_KB_CH_SAFETY,      /* an option's Boxed Warning / Contraindications */
    ORX_KB_CH_INTERACTION, /* an option's label about a current medicine, or the reverse */
    ORX_KB_CH_SEARCH,      /* free-text search of the indication (no option found) */
} orx_kb_channel;
const char *orx_kb_channel_name(int channel); /* "indication", "dosing", … */

typedef struct orx_kb_results {
    orx_kb_hit *hits; /* best first */
    size_t      n;    /* count */
    char       *fts_query; /* the FTS5 MATCH expression used (malloc'd), for --explain */
} orx_kb_results;
void orx_kb_results_clear(orx_kb_results *r);

orx_status orx_kb_search(orx_kb *kb, const orx_kb_query *q, orx_kb_results *out, orx_error *err);

/* Dev question set (TSV: query, comma-separated expected set ids, term the chunk must mention;
 * '#' lines are comments). A question is answered at rank r when the r-th result is from an
 * expected set id and its text mentions the term (case-insensitive). */
typedef struct orx_kb_eval {
    int    questions;    /* questions asked */
    int    hits_at[3];   /* answered within the top 1, 5, 10 */
    double recall_at[3]; /* hits_at / questions */
    double seconds;      /* wall time of all searches */
} orx_kb_eval;
orx_status orx_kb_eval_questions(orx_kb *kb, const char *tsv_path, bool expand, bool exhaustive,
                                 orx_kb_eval *out, orx_error *err);

/* ============================================================================================
 * Indication options: which labels' Indications & Usage sections (LOINC 34067-9) state an
 * indication (kb/indterms.h: reading the indication; kb/indications.c: the sentence index and
 * matching)
 * ========================================================================================== */
typedef struct orx_ind_option {
    char    name[200];          /* ingredient(s), " / "-joined lexicon names ("amlodipine / olmesartan") */
    char    ingr[6][96];        /* the ingredients */
    int     n_ingr;             /* count */
    double  score;              /* match strength (sum over matched concepts); higher first */
    unsigned concepts;          /* bit i: query concept i matched */
    bool    partial;            /* matched only after leaving words of the query out (broader) */
    bool    narrower;           /* the label names a narrower condition ("pulmonary arterial hypertension") */
    orx_ind_statement stated;   /* how its best label states the condition: ORX_IND_STATED (treated),
                                   _ASSOCIATED (a manifestation of it), _POPULATION (only who is
                                   treated for another condition: never offered as the choice) */
    bool    full_label;         /* a label of this drug with more than its Indications section is in the KB */
    int     n_labels;           /* labels stating it */
    char    label_ids[48][64];  /* set ids of the labels stating it (the first 48), best first */
    char    via[160];           /* phrasing used when not as written ("abbreviation AF ...") */
    orx_kb_hit quote;           /* the sentence: citation "<set id>#34067-9", title, text = the
                                   sentence (malloc'd), chunk id, offsets in the section */
} orx_ind_option;

typedef struct orx_ind_options {
    orx_ind_option *v;          /* best first */
    size_t          n;          /* count */
    orx_ind_query   query;      /* the parsed query (after backing off) */
    int             sentences;  /* indication sentences searched */
    int             labels;     /* labels with an Indications section */
} orx_ind_options;
void orx_ind_options_clear(orx_ind_options *o);

/* Options for a parsed query: each drug (ingredient set, lexicon-resolved) whose label's
 * Indications & Usage states a primary concept in a sentence that is not negated or a
 * limitation ("not indicated for", "has not been established", "Limitations of Use"), with the
 * best such sentence. A primary concept no sentence states in full is backed off to its longest
 * run of words that some sentence states (partial = true). Needs a lexicon (orx_kb_load_lexicon). */
orx_status orx_kb_indication_options(orx_kb *kb, const orx_ind_vocab *v, const char *indication,
                                     bool problem, orx_ind_options *out, orx_error *err);
/* Set ids of the labels of exactly this ingredient set (name as in orx_ind_option.name), labels
 * with the most chunks first. Returns the number available (writes at most cap). */
int orx_kb_labels_of(orx_kb *kb, const char *name, char (*set_ids)[64], int cap);
/* Chunks of one label's section (LOINC code), in document order; text and snippet set. */
orx_status orx_kb_label_section(orx_kb *kb, const char *set_id, const char *code,
                                orx_kb_results *out, orx_error *err);
/* Does a lower-case normalised word occur in any label sentence? (orx_ind_parse's is_word) */
bool orx_kb_ind_is_word(void *kb, const char *w);

/* ============================================================================================
 * Retrieval interface for the recommend pipeline
 * ========================================================================================== */
/* Patient facts that choose sections and paragraphs (they are never search words). */
typedef struct orx_retrieval_band {
    bool renal_impaired;   /* CrCl/eGFR below 60 mL/min */
    bool renal_severe;     /* below 30 mL/min */
    double renal_ml_min;   /* CrCl (else eGFR), mL/min, 0 unknown: a paragraph whose CrCl range
                              holds it ("CrCl 15 to 30 mL/min") is preferred */
    bool hepatic_impaired; /* liver disease on the problem list */
    bool geriatric;        /* 65 years or older */
    bool pediatric;        /* under 18 years */
    bool pregnant;         /* pregnant */
    bool lactating;        /* breastfeeding */
} orx_retrieval_band;

typedef struct orx_retrieval_option {
    const char       *name;       /* ingredient set as in orx_ind_option.name ("apixaban") */
    const orx_kb_hit *indication; /* its indication sentence (copied into the evidence), may be NULL */
} orx_retrieval_option;

typedef struct orx_retrieval_request {
    const char                 *indication; /* what is being treated; the dosing paragraphs for it
                                               are preferred; with no options, searched as text */
    const char *const          *drugs;      /* current medicines (ingredient names), may be NULL */
    size_t                      n_drugs;    /* count of drugs */
    const char *const          *facts;      /* (unused: patient facts are never search words) */
    size_t                      n_facts;    /* count of facts */
    int                         k;          /* evidence items wanted (default 10) */
    int                         words;      /* word budget of all evidence text (0 = 1200) */
    const orx_retrieval_option *options;    /* the screened options, best first, may be NULL */
    size_t                      n_options;  /* count */
    orx_retrieval_band          band;       /* which dosing paragraphs to prefer */
} orx_retrieval_request;

typedef struct orx_retriever {
    const char *name; /* "bm25" */
    void       *self; /* implementation state */
    /* one free-text query */
    orx_status (*search)(void *self, const orx_kb_query *q, orx_kb_results *out, orx_error *err);
    /* evidence in channels, each with a budget: the options' indication sentences; per option
     * its Dosage & Administration paragraphs for the patient's band, its Boxed Warning and
     * Contraindications; each option's label about each current medicine and the reverse.
     * Without options: the indication searched as text. Hits best first within a channel, the
     * channels in that order; each hit's channel and option are set. */
    orx_status (*retrieve)(void *self, const orx_retrieval_request *req, orx_kb_results *out,
                           orx_error *err);
    /* the drugs whose label's Indications & Usage states the indication (orx_kb_indication_options) */
    orx_status (*options)(void *self, const char *indication, bool problem, orx_ind_options *out,
                          orx_error *err);
    void (*free)(void *self);
} orx_retriever;

/* BM25 (FTS5) retriever over a knowledge base file; out->free(out->self) releases it. Calls are
 * serialised on the one SQLite connection (safe to share, one query at a time); for many threads at
 * once see orx_retriever_pool_create. */
orx_status orx_kb_retriever_bm25(const char *kb_path, orx_retriever *out, orx_error *err);
/* Same, expanding queries with a lexicon shared between retrievers (read-only, thread-safe, not
 * owned, must outlive the retriever); NULL opens the project lexicon for this retriever alone. */
orx_status orx_kb_retriever_bm25_lex(const char *kb_path, const struct orx_lexicon *lex, orx_retriever *out,
                                     orx_error *err);

/* ============================================================================================
 * A retriever many threads may call at once (kb/retriever_pool.c)
 * ========================================================================================== */
/* Makes one single-threaded retriever (e.g. orx_kb_retriever_bm25 on a file). */
typedef orx_status (*orx_retriever_make_fn)(void *ctx, orx_retriever *out, orx_error *err);

typedef struct orx_retriever_pool_params {
    orx_retriever_make_fn make;     /* makes a member */
    void                 *ctx;      /* passed to make */
    void (*ctx_free)(void *ctx);    /* frees ctx with the pool, or NULL */
    int                   max;      /* members at most (default 8): a call waits for a free one */
} orx_retriever_pool_params;

/* out behaves as one retriever (same search/retrieve/free) and may be shared by every thread:
 * each call borrows a member for its duration (members are made on demand, up to max, and
 * kept), so no query state is ever shared. The first member is made now, so a bad file fails
 * here. The pool owns ctx from this call on (freed on failure too); out->free(out->self) frees
 * the pool, its members and ctx. */
orx_status orx_retriever_pool_create(const orx_retriever_pool_params *p, orx_retriever *out, orx_error *err);
/* A pool of BM25 retrievers over kb_path sharing one project lexicon (opened once). */
orx_status orx_kb_retriever_bm25_pool(const char *kb_path, int max, orx_retriever *out, orx_error *err);
/* Default KB path: $ORX_KB, else "kb.sqlite" in the working directory. */
const char *orx_kb_default_path(void);
/* An existing knowledge base to use when none is named: $ORX_KB, else ./kb.sqlite, else
 * ./build/kb.sqlite (what `make demo` builds); NULL when there is none. */
const char *orx_kb_find_default(void);

#endif /* ORX_KB_H */
