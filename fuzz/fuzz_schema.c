/*
 * fuzz_schema.c — a JSON Schema (as sent in response_format) through everything that reads one:
 * the parsed model and its validator (schema/schema.c) and the compiler to a byte-level
 * recogniser (engine/grammar.c), then the recogniser fed the bytes after the first NUL and the
 * token mask computed over a byte-level vocabulary. Input: SCHEMA \0 INSTANCE.
 */
#include "fuzz.h"
#include "vocab.h"
#include "engine/grammar.h"
#include "schema/schema.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16384) return 0;
    const uint8_t *a, *b;
    size_t na, nb;
    orx_fuzz_split(data, size, 0, &a, &na, &b, &nb);
    char *schema = malloc(na + 1);
    if (!schema) return 0;
    memcpy(schema, a, na);
    schema[na] = 0;
    orx_error err = ORX_ERROR_INIT;
    json_error_t je;
    orx_schema *sc = NULL;
    if (orx_schema_parse_text(schema, &sc, &err) == ORX_OK) {
        json_t *inst = json_loadb((const char *)b, nb, JSON_DECODE_ANY, &je);
        if (inst) orx_schema_validate(sc, inst, &err);
        json_decref(inst);
    }
    orx_grammar *g = NULL;
    if (sc && orx_grammar_compile(sc, &g, &err) == ORX_OK) {
        orx_grammar_min_tokens(g);
        orx_gstate *s = orx_gstate_create(g);
        if (s) {
            for (size_t i = 0; i < nb; i++)
                if (!orx_gstate_feed(s, (const char *)b + i, 1)) break;
            orx_gstate_done(s);
            static orx_gvocab *voc;
            orx_tokenizer **toks;
            orx_fuzz_tokenizers(&toks);
            const orx_tokenizer *t = toks[8]; /* byte-level BPE ("gpt-2") */
            if (!voc) voc = orx_gvocab_create(t);
            int32_t nv = orx_tokenizer_n_vocab(t);
            float *logits = calloc((size_t)nv, sizeof *logits);
            if (voc && logits) orx_grammar_mask(s, voc, t, logits, nv, (int32_t)(nb % 64) - 1);
            free(logits);
            orx_gstate_free(s);
        }
        orx_grammar_free(g);
    }
    orx_schema_free(sc);
    free(schema);
    return 0;
}
