/*
 * test_draft_model.c — speculative decoding with a draft model (engine.h: orx_drafter) is exact:
 *   - the vocabulary check accepts a draft with the target's token list and refuses another
 *     vocabulary with an error naming both files; drafter lengths outside 1..64 are refused;
 *   - orx_generate gives the same tokens with and without a draft model, greedy and at
 *     temperature 0.9, with quantisations of the same family (rand-llama-256 Q4_0, Q4_K_M) and
 *     with the target itself as its own draft (greedy: every proposal kept, long drafts verified);
 *     a kept token saves its pass.
 * (JSON schemas and the local backend: test_draft_model_slow.c.) Needs ../shared/models/random
 * (skipped loudly without it).
 */
#include "testutil.h"
#include "engine/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *model_path(const char *name) {
    return orx_test_path("%s/models/random/%s", orx_test_shared_dir(), name);
}

static orx_model *load(const char *name) {
    orx_model *m = NULL;
    orx_error e = ORX_ERROR_INIT;
    if (orx_model_load(model_path(name), &m, &e) != ORX_OK) fail_msg("%s: %s", name, e.msg);
    return m;
}

/* ============================================================================================
 * Vocabulary check
 * ========================================================================================== */
static void test_vocab_check(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *t = load("rand-llama-256-Q8_0.gguf"), *q4 = load("rand-llama-256-Q4_0.gguf");
    orx_model *other = load("rand-qwen2-gpt2-f32.gguf");
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_draft_vocab_check(t, "target.gguf", q4, "q4.gguf", &e), ORX_OK);
    assert_int_equal(orx_draft_vocab_check(t, "target.gguf", other, "other.gguf", &e), ORX_ERR_INVALID);
    assert_non_null(strstr(e.msg, "target.gguf"));
    assert_non_null(strstr(e.msg, "other.gguf"));
    assert_int_equal(orx_draft_vocab_check(other, "qwen.gguf", t, "llama.gguf", &e), ORX_ERR_INVALID);
    assert_non_null(strstr(e.msg, "qwen.gguf"));
    assert_non_null(strstr(e.msg, "llama.gguf"));
    orx_drafter *d = NULL;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 1;
    assert_int_equal(orx_drafter_create(q4, &cp, 0, &d, &e), ORX_ERR_RANGE);
    assert_int_equal(orx_drafter_create(q4, &cp, 65, &d, &e), ORX_ERR_RANGE);
    assert_null(d);
    orx_model_free(other);
    orx_model_free(q4);
    orx_model_free(t);
}

/* ============================================================================================
 * orx_generate: same tokens with and without the draft model
 * ========================================================================================== */
typedef struct toks {
    int32_t ids[256];
    int32_t n;
} toks;

static bool collect(void *ud, int32_t token, const char *piece, size_t len) {
    (void)piece, (void)len;
    toks *t = ud;
    if (t->n < 256) t->ids[t->n++] = token;
    return true;
}

static void gen(orx_model *m, orx_drafter *dr, const orx_tokenizer *tok, float temp, toks *out,
                orx_generate_stats *st) {
    const char *text = "The patient is a 72 year old woman with atrial fibrillation and a creatinine clearance of "
                       "28 mL/min. The patient is a 72 year old woman";
    int32_t ids[128], n = orx_tokenize(tok, text, strlen(text), true, false, ids, 128);
    assert_true(n > 10 && n < 128);
    orx_context *c = NULL;
    orx_error e = ORX_ERROR_INIT;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 2;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    orx_generate_params gp = orx_generate_default_params();
    gp.n_predict = 96;
    gp.stop_at_eog = false;
    gp.sampling.temp = temp;
    gp.sampling.seed = 11;
    gp.drafter = dr;
    memset(out, 0, sizeof *out);
    if (orx_generate(c, tok, ids, n, &gp, collect, out, st, &e) != ORX_OK) fail_msg("generate: %s", e.msg);
    assert_int_equal(out->n, 96);
    orx_context_free(c);
}

static orx_drafter *drafter(orx_model *dm, int32_t max) {
    orx_drafter *d = NULL;
    orx_error e = ORX_ERROR_INIT;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 2;
    if (orx_drafter_create(dm, &cp, max, &d, &e) != ORX_OK) fail_msg("drafter: %s", e.msg);
    return d;
}

static void test_generate_same_tokens(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *t = load("rand-llama-256-Q8_0.gguf");
    orx_tokenizer *tok = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_tokenizer_load(orx_model_gguf(t), &tok, &e), ORX_OK);
    const char *drafts[] = {"rand-llama-256-Q4_0.gguf", "rand-llama-256-Q4_K_M.gguf", "rand-llama-256-Q8_0.gguf"};
    for (int ti = 0; ti < 2; ti++) {
        float temp = ti ? 0.9f : 0.0f;
        toks ref, got;
        orx_generate_stats s0, s1;
        gen(t, NULL, tok, temp, &ref, &s0);
        assert_int_equal(s0.decode.n_model_drafted, 0);
        assert_int_equal(s0.decode.n_passes, 95); /* one per token after the first */
        for (int di = 0; di < 3; di++) {
            orx_model *dm = load(drafts[di]);
            assert_int_equal(orx_draft_vocab_check(t, "target", dm, drafts[di], &e), ORX_OK);
            orx_drafter *dr = drafter(dm, di == 2 ? 6 : 8);
            gen(t, dr, tok, temp, &got, &s1);
            if (memcmp(ref.ids, got.ids, sizeof ref.ids))
                fail_msg("temp %.1f, draft %s: the tokens differ from decoding without it", temp, drafts[di]);
            assert_true(s1.decode.n_model_drafted > 0);
            assert_true(s1.decode.n_model_accepted <= s1.decode.n_model_drafted);
            /* a kept token saves its pass, except a last token taken inside a draft */
            assert_int_equal(s1.decode.n_accepted, s1.decode.n_model_accepted);
            assert_in_range(s1.decode.n_passes, 95 - s1.decode.n_accepted, 96 - s1.decode.n_accepted);
            if (di == 2 && ti == 0) { /* the target as its own draft: greedy proposals all kept */
                assert_int_equal(s1.decode.n_model_accepted, s1.decode.n_model_drafted);
                assert_true(s1.decode.n_passes < 20);
            }
            print_message("temp %.1f draft %s: %d passes, %d drafted, %d kept\n", temp, drafts[di],
                          s1.decode.n_passes, s1.decode.n_model_drafted, s1.decode.n_model_accepted);
            orx_drafter_free(dr);
            orx_model_free(dm);
        }
    }
    orx_tokenizer_free(tok);
    orx_model_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab_check),
        cmocka_unit_test(test_generate_same_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
