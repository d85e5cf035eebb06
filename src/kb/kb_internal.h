/*
 * kb_internal.h — what the knowledge-base files share behind kb.h: the indication sentence
 * index (kb/indications.c) that the handle owns, and the handle's connection and lexicon.
 */
#ifndef ORX_KB_INTERNAL_H
#define ORX_KB_INTERNAL_H

#include "kb/kb.h"
#include "util/util.h"
#include <sqlite3.h>

struct orx_lexicon;

/* ============================================================================================
 * Indication sentence index (kb/indications.c)
 * ========================================================================================== */
typedef struct ind_index ind_index;
/* Build from every Indications & Usage chunk of db; labels' ingredients resolved with lex. */
orx_status orx_ind_index_build(sqlite3 *db, const struct orx_lexicon *lex, ind_index **out, orx_error *err);
void       orx_ind_index_free(ind_index *x);
bool       orx_ind_index_has_word(const ind_index *x, const char *w);
/* Options for a parsed query (q is updated: backed-off concepts, their refinements). */
orx_status orx_ind_index_options(const ind_index *x, const struct orx_lexicon *lex, orx_ind_query *q,
                             orx_ind_options *out, orx_error *err);
int        orx_ind_index_suggest_phrases(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap);
int        orx_ind_index_suggest_words(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap);
int        orx_ind_index_labels_of(const ind_index *x, const char *name, char (*set_ids)[64], int cap);

/* ============================================================================================
 * Rows shared by kb build (kb/store.c) and kb update (kb/update.c)
 * ========================================================================================== */
/* Chunk one section into *spans (grown as needed); the count, or (size_t)-1 out of memory. */
size_t  orx_kb_chunk_section(const orx_kb_section *sec, int max_words, orx_kb_span **spans, size_t *cap);
/* The chunk's section column: "CODE NAME TITLE" (code first, so a section filter can match the
 * phrase "34073 7"). */
void    orx_kb_section_col(const orx_kb_section *sec, char *out, size_t cap);
/* Chunk row id: seq * 256 + length bucket * 16 + class, the bucket being the BM25-weighted
 * length (drug 2, section 0.5, text 1) in 25-word buckets. */
int64_t orx_kb_chunk_row_id(int64_t seq, const char *drug, const char *section_col, int text_words, int klass);
/* Bind the columns of "INSERT INTO chunks(id, doc_id, section_code, section_name, section_title,
 * seq, start_off, end_off, drug, section, text ...)" (parameters 1..11). */
void    orx_kb_bind_chunk(sqlite3_stmt *s, int64_t id, int64_t doc_id, const orx_kb_section *sec, size_t seq,
                          const orx_kb_span *sp, const char *drug, const char *section_col);
/* Insert a label's row with s ("INSERT INTO docs(set_id, version, effective_date, title,
 * generic_names, brand_names, rxcuis, source_file) ..."; NULL fields as ""); false when the step
 * fails. On success drug (initialised here; the caller clears it) holds the chunks' drug column
 * "generic; brand; title". */
bool    orx_kb_insert_doc(sqlite3_stmt *s, const orx_kb_doc *d, orx_buf *drug);
/* Compare two label versions: effective dates (digits only) first, then the version numbers.
 * <0, 0, >0 as a is older, the same, newer. stated_wins: a label that states a date (or a
 * version) is newer than one that does not (kb update); otherwise such a pair ties (kb build). */
int     orx_kb_label_cmp(const char *date_a, const char *ver_a, const char *date_b, const char *ver_b, bool stated_wins);

/* ============================================================================================
 * Label rows read back (kb/search.c)
 * ========================================================================================== */
/* The text of column i of a row; "" for NULL. */
const char *orx_kb_col(sqlite3_stmt *s, int i);
/* A label's columns from column i of a row on: set id, title, generic names, brand names, version,
 * effective date; drugs gets "generic; brand" (one alone when the other is empty). */
void orx_kb_label_cols(sqlite3_stmt *s, int i, char (*set_id)[64], char (*title)[256], char (*drugs)[256],
                       char (*version)[16], char (*date)[16]);

/* ============================================================================================
 * Evidence channels (kb/channels.c): the BM25 retriever's retrieve()
 * ========================================================================================== */
orx_status orx_kb_channels(orx_kb *kb, const orx_retrieval_request *rq, orx_kb_results *out, orx_error *err);

#endif /* ORX_KB_INTERNAL_H */
