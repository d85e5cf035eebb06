/*
 * kb_internal.h — what the knowledge-base files share behind kb.h: the indication sentence
 * index (kb/indications.c) that the handle owns, and the handle's connection and lexicon.
 */
#ifndef ORX_KB_INTERNAL_H
#define ORX_KB_INTERNAL_H

#include "kb/kb.h"
#include <sqlite3.h>

struct orx_lexicon;

/* ============================================================================================
 * Indication sentence index (kb/indications.c)
 * ========================================================================================== */
typedef struct ind_index ind_index;
/* Build from every Indications & Usage chunk of db; labels' ingredients resolved with lex. */
orx_status ind_index_build(sqlite3 *db, const struct orx_lexicon *lex, ind_index **out, orx_error *err);
void       ind_index_free(ind_index *x);
bool       ind_index_has_word(const ind_index *x, const char *w);
/* Options for a parsed query (q is updated: backed-off concepts, their refinements). */
orx_status ind_index_options(const ind_index *x, const struct orx_lexicon *lex, orx_ind_query *q,
                             orx_ind_options *out, orx_error *err);
int        ind_index_suggest_phrases(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap);
int        ind_index_suggest_words(const ind_index *x, const char *abbr, char (*out)[96], int *df, int cap);
int        ind_index_labels_of(const ind_index *x, const char *name, char (*set_ids)[64], int cap);

/* ============================================================================================
 * Evidence channels (kb/channels.c): the BM25 retriever's retrieve()
 * ========================================================================================== */
orx_status orx_kb_channels(orx_kb *kb, const orx_retrieval_request *rq, orx_kb_results *out, orx_error *err);

#endif /* ORX_KB_INTERNAL_H */
