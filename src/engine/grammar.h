/*
 * grammar.h — JSON-Schema constrained decoding for the local engine.
 *
 * A parsed schema (schema/schema.h, the model the validator reads too) is compiled into a
 * byte-level recogniser. Of that subset the grammar enforces: object with properties/required,
 * array with items and min/maxItems (at most 4096), string with maxLength, an enum of at most 32
 * plain strings (any "type" beside it is implied by the values), number/integer with
 * minimum/maximum (no negative maximum), boolean, null; nesting up to 24 levels. At each decoding step
 * orx_grammar_mask() leaves only the tokens whose text keeps the output a valid prefix of some
 * instance of the schema, and end-of-generation only once the value is complete. So the local
 * model can only emit JSON valid for the schema; citation fields given as an enum of retrieved
 * ids can only name evidence actually given.
 *
 * Layout rules of the emitted JSON: object properties in schema order (optional ones may be
 * skipped), at most one space after ':' and ',', no other insignificant whitespace, numbers
 * without exponent (at most 15 integer and 6 fraction digits), strings of valid UTF-8 with the
 * JSON escapes; a string without maxLength is limited to 512 bytes.
 */
#ifndef ORX_ENGINE_GRAMMAR_H
#define ORX_ENGINE_GRAMMAR_H

#include "openrx.h"
#include "engine/tokenizer/tokenizer.h"
#include "schema/schema.h"

typedef struct orx_grammar orx_grammar;   /* compiled schema */
typedef struct orx_gstate  orx_gstate;    /* recogniser state (a few hundred bytes) */
typedef struct orx_gvocab  orx_gvocab;    /* token texts in a byte trie */

/* Compile a parsed schema. ORX_ERR_UNSUPPORTED names a keyword/path it cannot enforce. */
orx_status orx_grammar_compile(const orx_schema *schema, orx_grammar **out, orx_error *err);
/* The same from JSON Schema text (parsed with orx_schema_parse_text; ORX_ERR_PARSE: not JSON). */
orx_status orx_grammar_compile_text(const char *schema_json, orx_grammar **out, orx_error *err);
void       orx_grammar_free(orx_grammar *g);

orx_gstate *orx_gstate_create(const orx_grammar *g);   /* NULL on OOM */
void        orx_gstate_free(orx_gstate *s);
/* Advance by bytes; returns false (state unchanged) when they are not a valid continuation. */
bool orx_gstate_feed(orx_gstate *s, const char *bytes, size_t n);
/* True when a whole value has been recognised (only end-of-generation may follow). */
bool orx_gstate_done(const orx_gstate *s);

/* Build the trie of a tokenizer's token texts (control tokens excluded). */
orx_gvocab *orx_gvocab_create(const orx_tokenizer *tok);  /* NULL on OOM */
void        orx_gvocab_free(orx_gvocab *v);
/* Set logits[t] = -INFINITY for every token t that the state does not allow; end-of-generation
 * tokens are allowed only when the state is done. budget = tokens that may still be generated,
 * this one included (-1 = unlimited): a token is allowed only if the value can still be closed
 * in the tokens left after it (at one byte per token, which byte-fallback and byte-level vocabs
 * guarantee), so a generation with max_tokens >= orx_grammar_min_tokens() always ends in a
 * complete, valid value. Returns the number of allowed tokens (0: dead end). */
int32_t orx_grammar_mask(const orx_gstate *s, const orx_gvocab *v, const orx_tokenizer *tok,
                         float *logits, int32_t n_vocab, int32_t budget);
/* Whether orx_grammar_mask(s, v, tok, ..., n_vocab, budget) would leave token t: the same rule for
 * one token, without building the whole mask (a few steps instead of a walk over the trie). */
bool orx_grammar_allows(const orx_gstate *s, const orx_gvocab *v, const orx_tokenizer *tok, int32_t t,
                        int32_t n_vocab, int32_t budget);
/* Bytes (= worst-case tokens) of the shortest valid value. */
int32_t orx_grammar_min_tokens(const orx_grammar *g);

/* Jump-forward: the bytes the state forces next, into buf (at most cap). A byte is forced when it
 * is the only one that can follow. Where the only choice is one optional space before a single
 * byte (after ':' or ','), `space` says what to do: 1 guess a space, 0 guess none (a guess for
 * drafting, checked later), -1 stop there (only bytes no choice can change).
 * Returns the count (0: the next byte is open, or the value is complete). */
int32_t orx_gstate_forced(const orx_gstate *s, int space, char *buf, int32_t cap);
/* A copy of a state (free with orx_gstate_free); NULL on OOM. */
orx_gstate *orx_gstate_dup(const orx_gstate *s);
/* The token whose text is the longest prefix of bytes[0..n) (-1 none); *len = its length. */
int32_t orx_gvocab_longest(const orx_gvocab *v, const char *bytes, int32_t n, int32_t *len);

#endif
