/* eval_internal.h — shared between the eval files (not a public face). */
#ifndef ORX_EVAL_INTERNAL_H
#define ORX_EVAL_INTERNAL_H
#include "eval/eval.h"
#include <jansson.h>

/* Records of DIR/results.jsonl as a JSON array (complete lines only). */
orx_status orx_eval__load_records(const char *dir, json_t **out, orx_error *err);
/* Reviews of DIR/reviews.jsonl as a JSON array (empty array when absent). */
orx_status orx_eval__load_reviews(const char *dir, json_t **out, orx_error *err);
/* The report object (arms, per-set tables, pairs, reviews) from records and reviews. */
json_t *orx_eval__metrics(json_t *records, json_t *reviews);
/* HTML page (tables + SVG charts) for a report object. */
orx_status orx_eval__html(json_t *report, orx_buf *out, orx_error *err);
/* HTML-escape s into out. */
void orx_eval__esc(orx_buf *out, const char *s);

#define ORX_EVAL_N_CRITERIA 5
extern const char *const orx_eval__criteria[ORX_EVAL_N_CRITERIA]; /* rubric criteria names */
#endif
