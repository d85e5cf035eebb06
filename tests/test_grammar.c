/*
 * test_grammar.c — JSON-Schema constrained decoding.
 *  1. the byte recogniser accepts valid instances and rejects invalid continuations;
 *  2. property test: with random logits, masked decoding over a real vocabulary (the Llama-2 SPM
 *     vocab of rand-llama-256-Q8_0.gguf, ../shared) always ends in JSON that validates against the schema;
 *     at every fifth step and at the end, orx_grammar_allows gives the mask's verdict for every token.
 */
#include "testutil.h"
#include "util/util.h"
#include "engine/grammar.h"
#include "gguf/gguf.h"
#include "schema/schema.h"
#include "rx/rx.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool accepts(const orx_grammar *g, const char *text, bool *done) {
    orx_gstate *s = orx_gstate_create(g);
    bool ok = orx_gstate_feed(s, text, strlen(text));
    if (done) *done = orx_gstate_done(s);
    orx_gstate_free(s);
    return ok;
}

static void test_recogniser(void **state) {
    orx_grammar *g = NULL;
    orx_error err = ORX_ERROR_INIT;
    orx_schema *schema = orx_rx_output_schema(2);
    assert_int_equal(orx_grammar_compile(schema, &g, &err), ORX_OK);
    const char *good =
        "{\"insufficient_evidence\": false, \"candidates\": [{\"ingredient\": \"apixaban\", \"dose_amount\": 2.5, "
        "\"dose_unit\": \"mg\", \"route\": \"oral\", \"frequency\": \"twice daily\", \"duration\": \"long-term\", "
        "\"adjustments\": \"age \\u2265 80 \\\"x\\\"\", \"monitoring\": \"renal function\", \"citations\": [\"S1\", \"S2\"]}], "
        "\"alternatives\": [], \"confidence\": \"medium\", \"rationale\": \"per label \xc3\xa9\"}";
    bool done;
    assert_true(accepts(g, good, &done));
    assert_true(done);
    /* the same text is valid for the validator too */
    json_error_t je;
    json_t *inst = json_loads(good, 0, &je);
    assert_int_equal(orx_schema_validate(schema, inst, &err), ORX_OK);
    json_decref(inst);
    orx_schema_free(schema);
    /* prefixes are accepted but not done */
    assert_true(accepts(g, "{\"insufficient_evidence\": tr", &done));
    assert_false(done);
    /* invalid continuations */
    assert_false(accepts(g, "{\"candidates\"", NULL));                 /* out of order / skips required */
    assert_false(accepts(g, "{\"insufficient_evidence\": maybe", NULL));
    assert_false(accepts(g, "{\"insufficient_evidence\":  true", NULL)); /* two spaces */
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"x\", \"dose_amount\": -1", NULL));
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"x\", \"dose_amount\": 100001", NULL));
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"x\", \"dose_amount\": 01", NULL));
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"x\", \"dose_amount\": 1, \"dose_unit\": \"kg\"", NULL));
    const char *cite3 = "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"x\", \"dose_amount\": 1, \"dose_unit\": \"mg\", "
                        "\"route\": \"oral\", \"frequency\": \"\", \"duration\": \"\", \"adjustments\": \"\", \"monitoring\": \"\", \"citations\": [\"S3\"";
    assert_false(accepts(g, cite3, NULL));                              /* only S1, S2 were retrieved */
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"a\nb", NULL)); /* raw newline */
    assert_false(accepts(g, "{\"insufficient_evidence\": true, \"candidates\": [{\"ingredient\": \"\xff", NULL)); /* bad UTF-8 */
    assert_false(accepts(g, "{\"insufficient_evidence\": true}", NULL)); /* required missing */
    assert_false(accepts(g, "[", NULL));
    orx_grammar_free(g);
    /* unsupported keywords are refused, not ignored */
    assert_int_equal(orx_grammar_compile_text("{\"type\":\"object\",\"properties\":{\"a\":{\"anyOf\":[]}}}", &g, &err), ORX_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "anyOf"));
    assert_int_equal(orx_grammar_compile_text("{\"type\":", &g, &err), ORX_ERR_PARSE);
}

static uint64_t rng = 0x1234567;
static double rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* orx_grammar_allows agrees with the mask just computed (logits finite before masking) for every
 * token; returns the number allowed. */
static int32_t check_allows(const orx_gstate *s, const orx_gvocab *voc, const orx_tokenizer *tok, const float *masked,
                            int32_t nv, int32_t budget) {
    int32_t n = 0;
    for (int32_t t = 0; t < nv; t++) {
        bool a = orx_grammar_allows(s, voc, tok, t, nv, budget);
        if (a != !isinf(masked[t])) fprintf(stderr, "token %d: allows %d, mask %g (budget %d)\n", t, a, masked[t], budget);
        assert_int_equal(a, !isinf(masked[t]));
        n += a;
    }
    assert_false(orx_grammar_allows(s, voc, tok, -1, nv, budget));
    assert_false(orx_grammar_allows(s, voc, tok, nv, nv, budget));
    return n;
}

static void test_masked_decoding(void **state) {
    ORX_REQUIRE_SHARED();
    orx_error err = ORX_ERROR_INIT;
    orx_gguf *gg = NULL;
    assert_int_equal(orx_gguf_open(orx_test_path("%s/models/random/rand-llama-256-Q8_0.gguf", orx_test_shared_dir()), &gg, &err), ORX_OK);
    orx_tokenizer *tok = NULL;
    assert_int_equal(orx_tokenizer_load(gg, &tok, &err), ORX_OK);
    orx_gvocab *voc = orx_gvocab_create(tok);
    assert_non_null(voc);
    orx_schema *sch = orx_rx_output_schema(3);
    orx_grammar *g = NULL;
    assert_int_equal(orx_grammar_compile(sch, &g, &err), ORX_OK);
    json_error_t je;
    int32_t nv = orx_tokenizer_n_vocab(tok);
    float *logits = malloc((size_t)nv * sizeof *logits);
    int completed = 0, masks = 0;
    double t_mask = 0;
    for (int run = 0; run < 6; run++) {
        orx_gstate *s = orx_gstate_create(g);
        orx_buf out;
        orx_buf_init(&out);
        bool ended = false;
        /* half the runs get a generous budget, half exactly the shortest value's length */
        int budget = run < 3 ? 400 : orx_grammar_min_tokens(g);
        for (int step = 0; step < budget && !ended; step++) {
            /* random logits, biased toward short structural tokens late in the run so runs finish */
            for (int32_t t = 0; t < nv; t++) logits[t] = (float)(rnd() * 10.0);
            double t0 = orx_now();
            int32_t allowed = orx_grammar_mask(s, voc, tok, logits, nv, budget - step);
            t_mask += orx_now() - t0;
            masks++;
            assert_true(allowed > 0); /* never a dead end */
            if (step % 5 == 0 || budget - step < 3) assert_int_equal(check_allows(s, voc, tok, logits, nv, budget - step), allowed);
            int32_t best = -1;
            for (int32_t t = 0; t < nv; t++)
                if (!isinf(logits[t]) && (best < 0 || logits[t] > logits[best])) best = t;
            assert_true(best >= 0);
            if (orx_tokenizer_is_eog(tok, best)) { ended = true; break; }
            char piece[256];
            int32_t len = orx_token_to_piece(tok, best, piece, sizeof piece);
            assert_true(orx_gstate_feed(s, piece, (size_t)len));
            orx_buf_append(&out, piece, (size_t)len);
            if (orx_gstate_done(s)) ended = true; /* complete: only end-of-generation may follow */
        }
        if (ended) {
            assert_true(orx_gstate_done(s));
            for (int32_t t = 0; t < nv; t++) logits[t] = 1.0f; /* done: end of generation only */
            int32_t allowed = orx_grammar_mask(s, voc, tok, logits, nv, 1);
            assert_int_equal(check_allows(s, voc, tok, logits, nv, 1), allowed);
            assert_true(allowed > 0);
            json_t *inst = json_loadb(out.data, out.len, 0, &je);
            if (!inst) fprintf(stderr, "not JSON (%s): %s\n", je.text, out.data);
            assert_non_null(inst);
            if (orx_schema_validate(sch, inst, &err) != ORX_OK) fprintf(stderr, "%s\n%s\n", err.msg, out.data);
            assert_int_equal(orx_schema_validate(sch, inst, &err), ORX_OK);
            json_decref(inst);
            completed++;
        }
        orx_buf_clear(&out);
        orx_gstate_free(s);
    }
    print_message("masked decoding: %d of 6 random runs completed (budgets 400 and the minimum %d); all valid\n", completed, orx_grammar_min_tokens(g));
    assert_int_equal(completed, 6); /* the closing budget guarantees completion */
    print_message("mask cost (measurement, not asserted): %.3f ms per token over a %d-token vocabulary\n",
                  1e3 * t_mask / (masks ? masks : 1), nv);
    free(logits);
    orx_schema_free(sch);
    orx_grammar_free(g);
    orx_gvocab_free(voc);
    orx_tokenizer_free(tok);
    orx_gguf_close(gg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recogniser),
        cmocka_unit_test(test_masked_decoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
