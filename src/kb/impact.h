/*
 * impact.h — retrieval that stays fast at full scale: an impact-ordered index beside the SQLite
 * file, evaluated exactly (same top-k and the same scores as scoring every match with orx_rank)
 * with MaxScore and block-max bounds; near-duplicate chunks (the same text in repackagers'
 * labels) collapsed so one copy answers; and the bookkeeping tables kb build/update share
 * (chunk hashes and section codes, label sources, releases, term statistics).
 */
#ifndef ORX_KB_IMPACT_H
#define ORX_KB_IMPACT_H

#include "kb/kb.h"
#include <sqlite3.h>

/* ============================================================================================
 * Scoring (one definition, used by orx_rank and by the impact index: bit-identical scores)
 * ========================================================================================== */
/* BM25 term weight: idf * (tf * (k1 + 1)) / (tf + k1 * lnorm), k1 = 1.2 */
double orx_kb_bm25_term(double idf, double tf, double lnorm);
/* length normalisation 0.25 + 0.75 * len / avg_len from the row id's length bucket (b = 0.75) */
double orx_kb_lnorm(int64_t rowid, double avg_len);

/* ============================================================================================
 * The index's tokenizer (porter over unicode61, as the FTS5 table) and distinct-term sets
 * ========================================================================================== */
typedef struct orx_kb_tokenizer orx_kb_tokenizer;
orx_status orx_kb_tokenizer_create(sqlite3 *db, orx_kb_tokenizer **out, orx_error *err);
void       orx_kb_tokenizer_free(orx_kb_tokenizer *t);

typedef struct orx_kb_termset {
    char  **v;     /* distinct terms in first-seen order (owned) */
    size_t  n;     /* count */
    size_t  cap;   /* capacity of v */
    char  **slots; /* open-addressing table over v's strings (not owned) */
    size_t  nslot; /* slots (power of two, 0 before the first term) */
} orx_kb_termset;
void orx_kb_termset_init(orx_kb_termset *s);
void orx_kb_termset_clear(orx_kb_termset *s);
/* add the distinct tokens of text (document tokenization); false on OOM */
bool orx_kb_tokenize_into(orx_kb_tokenizer *t, const char *text, orx_kb_termset *s);
/* query tokens of a phrase, in order (up to cap, each < 64 bytes); returns the count */
int  orx_kb_tokenize_query(orx_kb_tokenizer *t, const char *phrase, char (*out)[64], int cap);
/* the FTS5 API of a connection (NULL when SQLite has no FTS5) */
fts5_api *orx_kb_fts5(sqlite3 *db);

/* Run SQL statements; a failure is ORX_ERR_DB "<what>: <SQLite's message> (in: <the SQL's first
 * 80 bytes>)". */
orx_status orx_kb_exec(sqlite3 *db, const char *sql, const char *what, orx_error *err);
/* Pass a printf-style note (at most 1023 bytes) to kb build's or kb update's note callback, when
 * there is one; bar: a progress bar is drawn on stderr, so its line is left first. */
void orx_kb_note(void (*note)(void *ctx, const char *message), void *ctx, bool bar, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ============================================================================================
 * Bookkeeping tables (created when missing: files built before them still open)
 *   chunk_meta(id, hash, section_code)  text hash (copies) and code of every chunk
 *   doc_source(set_id, source)          which source a label came from (openfda/dailymed/local)
 *   sources(name, kind, release_date, …) the release of each source the KB holds
 *   updates(applied_at, source, kind, release_date, added, replaced, removed, unchanged)
 * ========================================================================================== */
orx_status orx_kb_aux_schema(sqlite3 *db, orx_error *err);
/* hash of a chunk's text with case, punctuation and spacing folded (copies hash alike) */
uint64_t   orx_kb_text_hash(const char *text, size_t len);
orx_status orx_kb_chunk_meta_add(sqlite3 *db, int64_t id, const char *text, size_t len,
                                 const char *section_code, orx_error *err);
orx_status orx_kb_chunk_meta_drop_doc(sqlite3 *db, int64_t doc_id, orx_error *err);
/* term_stats recounted from the FTS index */
orx_status orx_kb_recount_terms(sqlite3 *db, orx_error *err);
/* After a build (full = true: chunk_meta for every chunk, label sources, build releases) or an
 * update: write the impact index "<kb_path>.impact-<generation>" and point meta at it. Runs
 * inside the caller's transaction; the index file is complete before the transaction commits. */
orx_status orx_kb_index_finish(sqlite3 *db, const char *kb_path, bool full, bool progress,
                               orx_error *err);
/* write the impact index of db's chunks to path (atomic: path.tmp, fsync, rename) */
orx_status orx_kb_impact_write(sqlite3 *db, const char *path, bool progress, orx_error *err);
/* remove impact files of kb_path that its meta no longer names */
void       orx_kb_index_cleanup(const char *kb_path);
/* (re)build the bookkeeping tables and the impact index of an existing KB (`kb index`) */
orx_status orx_kb_reindex(const char *kb_path, bool progress, orx_error *err);

/* ============================================================================================
 * Searching the impact index
 * ========================================================================================== */
typedef struct orx_kb_impact orx_kb_impact;
/* Opens the index meta names for db (NULL *out, ORX_OK when the KB has none). */
orx_status orx_kb_impact_open(sqlite3 *db, const char *kb_path, orx_kb_impact **out, orx_error *err);
void       orx_kb_impact_free(orx_kb_impact *ix);

typedef struct orx_kb_iphrase {
    const char *text;      /* phrase as written in the FTS query (lower-case words) */
    double      idf;       /* its IDF (0 = a filter phrase, not scored) */
    bool        drug_only; /* matches the drug column only ({drug} : …) */
} orx_kb_iphrase;

typedef struct orx_kb_ifilter {
    const char *text;  /* phrase the anchor (drug-name) column must hold */
    int         group; /* phrases of one group are alternatives; every group must hold */
} orx_kb_ifilter;

typedef struct orx_kb_iquery {
    const orx_kb_iphrase *phrases;    /* scored phrases in query order (orx_rank's order) */
    int                   n_phrases;  /* count */
    const orx_kb_ifilter *filters;    /* drug-name filters (anchors, --drug), NULL = none */
    int                   n_filters;  /* count */
    const char           *section;    /* LOINC code the chunk must have, NULL = any */
    int                   k;          /* results wanted */
    bool                  collapse;   /* one chunk per distinct text (copies collapsed) */
} orx_kb_iquery;

typedef struct orx_kb_istats {
    uint64_t scored;     /* documents fully scored */
    uint64_t candidates; /* documents looked at */
} orx_kb_istats;

/* Exact top-k by (score desc, row id asc) under orx_rank's scoring (column weights 2/0.5/1/0). */
orx_status orx_kb_impact_search(orx_kb_impact *ix, const orx_kb_iquery *q, int64_t *ids,
                                double *scores, size_t *n, orx_kb_istats *stats, orx_error *err);
/* Evaluate orx_kb_search with the impact index (on, the default) or with FTS5 alone (off: the
 * reference the index is tested against). Returns whether the KB has a usable impact index. */
bool       orx_kb_use_impact(orx_kb *kb, bool on);
/* Why the knowledge base has no usable impact index ("" when it has one): for diagnostics. */
const char *orx_kb_impact_note(const orx_kb *kb);
/* chunks whose drug column holds the one-token phrase (-1: not one token, ask FTS5) */
long       orx_kb_impact_drug_rows(orx_kb_impact *ix, const char *phrase);
/* copies hash of a chunk row id (0 when unknown) */
uint64_t   orx_kb_impact_hash(const orx_kb_impact *ix, int64_t rowid);
/* chunk count and mean length the index was built with (compared with the KB's meta at open) */
void       orx_kb_impact_shape(const orx_kb_impact *ix, uint64_t *n_chunks, double *avg_len);

#endif /* ORX_KB_IMPACT_H */
