/*
 * test_draft_model_slow.c — a draft model under the grammar and in the local backend:
 *   - orx_decode under recommend's JSON schemas (free and grounded) and eval's multiple choice,
 *     greedy and at temperature 0.9: the same answer with the draft model alone, with it after
 *     the grammar's forced tokens and n-gram drafts, with the target as its own draft, and
 *     without drafts;
 *   - the local backend (orx_local_params.draft_path): the same answers with and without, two
 *     requests in a row (the draft context is cut back to the shared prefix and brought in step);
 *     a draft with another vocabulary is refused at create, naming both files.
 * Labelled "slow" (model generations, not repeated under the sanitizers; test_draft_model covers
 * the drafter there). Needs ../shared/models/random (skipped loudly without it).
 */
#include "testutil.h"
#include "engine/engine.h"
#include "engine/grammar.h"
#include "llm/llm.h"
#include "rx/rx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *MC_SCHEMA = "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"enum\":"
                               "[\"A\",\"B\",\"C\",\"D\"]}},\"required\":[\"answer\"],\"additionalProperties\":false}";

static const char *model_path(const char *name) {
    return orx_test_path("%s/models/random/%s", orx_test_shared_dir(), name);
}

static orx_model *load(const char *name) {
    orx_model *m = NULL;
    orx_error e = ORX_ERROR_INIT;
    if (orx_model_load(model_path(name), &m, &e) != ORX_OK) fail_msg("%s: %s", name, e.msg);
    return m;
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

/* ============================================================================================
 * orx_decode under JSON schemas: same answer without drafts, with the draft model alone, with it
 * after the forced / n-gram drafts
 * ========================================================================================== */
typedef struct answer {
    char    text[2048];
    size_t  len;
} answer;

static bool append(void *ud, int32_t token, const char *piece, size_t len) {
    (void)token;
    answer *a = ud;
    if (a->len + len < sizeof a->text) memcpy(a->text + a->len, piece, len), a->len += len;
    a->text[a->len] = 0;
    return true;
}

static void decode_schema(orx_model *m, orx_drafter *dr, bool sources, const orx_tokenizer *tok,
                          const orx_gvocab *voc, const orx_grammar *g, float temp, answer *out, orx_decode_stats *st) {
    const char *text = "Evidence:\n[S1] ELIQUIS (apixaban) is indicated to reduce the risk of stroke and systemic "
                       "embolism in patients with nonvalvular atrial fibrillation. The recommended dose of ELIQUIS is "
                       "5 mg taken orally twice daily.\nQuestion: atrial fibrillation, stroke prevention. Answer in JSON.";
    int32_t ids[256], n = orx_tokenize(tok, text, strlen(text), true, false, ids, 256);
    assert_true(n > 10 && n < 256);
    orx_context *c = NULL;
    orx_error e = ORX_ERROR_INIT;
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 512;
    cp.n_threads = 2;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    assert_int_equal(orx_context_eval(c, ids, n, false, &e), ORX_OK);
    orx_decode_params dp = orx_decode_default_params();
    dp.n_predict = 200;
    dp.sampling.temp = temp;
    dp.sampling.seed = 3;
    dp.grammar = g;
    dp.gvocab = voc;
    dp.draft = sources;
    dp.drafter = dr;
    dp.history = ids;
    dp.n_history = n;
    memset(out, 0, sizeof *out);
    if (orx_decode(c, tok, NULL, &dp, append, out, st, &e) != ORX_OK) fail_msg("decode: %s", e.msg);
    orx_context_free(c);
}

static void test_schema_same_answer(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *t = load("rand-llama-256-Q8_0.gguf"), *dm = load("rand-llama-256-Q4_0.gguf");
    orx_tokenizer *tok = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_tokenizer_load(orx_model_gguf(t), &tok, &e), ORX_OK);
    orx_gvocab *voc = orx_gvocab_create(tok);
    assert_non_null(voc);
    const char *choices[] = {"apixaban", "warfarin", "rivaroxaban"};
    orx_schema *schemas[3] = {orx_rx_output_schema(4), orx_rx_output_schema_for(4, choices, 3), NULL};
    assert_int_equal(orx_schema_parse_text(MC_SCHEMA, &schemas[2], &e), ORX_OK);
    for (int s = 0; s < 3; s++) {
        orx_grammar *g = NULL;
        assert_non_null(schemas[s]);
        assert_int_equal(orx_grammar_compile(schemas[s], &g, &e), ORX_OK);
        for (int ti = 0; ti < 2; ti++) {
            float temp = ti ? 0.9f : 0.0f;
            answer ref, got;
            orx_decode_stats s0, s1;
            decode_schema(t, NULL, false, tok, voc, g, temp, &ref, &s0);
            assert_true(ref.len > 10);
            for (int mode = 0; mode < 3; mode++) { /* draft model alone, after the other sources, self-draft */
                orx_drafter *dr = drafter(mode == 2 ? t : dm, 8);
                decode_schema(t, dr, mode == 1, tok, voc, g, temp, &got, &s1);
                if (strcmp(ref.text, got.text))
                    fail_msg("schema %d temp %.1f mode %d: the answer differs\n%s\n---\n%s", s, temp, mode, got.text,
                             ref.text);
                if (s < 2) assert_true(s1.n_model_drafted > 0); /* the multiple choice is nearly all forced */
                assert_int_equal(s1.n_gen, s0.n_gen);
                if (mode != 1 && (s1.n_passes < s0.n_passes - s1.n_accepted || s1.n_passes > s0.n_passes - s1.n_accepted + 1)) fail_msg("schema %d temp %.1f mode %d: %d passes, %d without drafts, %d gen %d, %d kept (%d by the model of %d)", s, temp, mode, s1.n_passes, s0.n_passes, s1.n_gen, s0.n_gen, s1.n_accepted, s1.n_model_accepted, s1.n_model_drafted);
                orx_drafter_free(dr);
            }
        }
        orx_grammar_free(g);
    }
    for (int s = 0; s < 3; s++) orx_schema_free(schemas[s]);
    orx_gvocab_free(voc);
    orx_tokenizer_free(tok);
    orx_model_free(dm);
    orx_model_free(t);
}

/* ============================================================================================
 * The local backend
 * ========================================================================================== */
static orx_llm *local(const char *draft, bool no_draft) {
    orx_local_params lp = orx_local_default_params();
    lp.model_path = model_path("rand-llama-256-Q8_0.gguf");
    lp.n_threads = 2;
    lp.n_ctx = 1024;
    lp.no_draft = no_draft;
    lp.draft_path = draft ? model_path(draft) : NULL;
    orx_llm *l = NULL;
    orx_error e = ORX_ERROR_INIT;
    if (orx_llm_local_create(&lp, &l, &e) != ORX_OK) fail_msg("local: %s", e.msg);
    return l;
}

static char *ask(orx_llm *llm, const orx_schema *schema, float temp, const char *user) {
    orx_llm_msg msgs[2] = {{"system", "Reply only with the JSON object."}, {"user", user}};
    orx_llm_request rq = orx_llm_default_request();
    rq.messages = msgs;
    rq.n_messages = 2;
    rq.max_tokens = 120;
    rq.temperature = temp;
    rq.has_seed = true;
    rq.seed = 9;
    rq.schema = schema;
    rq.schema_name = "t";
    orx_llm_response rs;
    orx_error e = ORX_ERROR_INIT;
    if (orx_llm_chat(llm, &rq, &rs, &e) != ORX_OK) fail_msg("chat: %s", e.msg);
    char *txt = strdup(rs.content);
    orx_llm_response_clear(&rs);
    return txt;
}

static void test_local_backend(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_schema *schema = orx_rx_output_schema(4);
    const char *users[] = {"apixaban 5 mg twice daily for atrial fibrillation; apixaban 2.5 mg twice daily",
                           "apixaban 5 mg twice daily for atrial fibrillation; warfarin"};
    orx_llm *plain = local(NULL, true), *with = local("rand-llama-256-Q4_0.gguf", false),
            *only = local("rand-llama-256-Q4_0.gguf", true);
    for (int ti = 0; ti < 2; ti++)
        for (int u = 0; u < 2; u++) { /* the second prompt shares the first's prefix */
            const orx_schema *sc = u ? schema : NULL;
            char *a = ask(plain, sc, ti ? 0.9f : 0.0f, users[u]), *b = ask(with, sc, ti ? 0.9f : 0.0f, users[u]),
                 *c = ask(only, sc, ti ? 0.9f : 0.0f, users[u]);
            if (strcmp(a, b) || strcmp(a, c))
                fail_msg("temp %d user %d: answers differ\n%s\n---\n%s\n---\n%s", ti, u, a, b, c);
            assert_true(strlen(a) > 5);
            free(a), free(b), free(c);
        }
    orx_llm_free(plain);
    orx_llm_free(with);
    orx_llm_free(only);
    /* another vocabulary: refused at create, naming both files */
    orx_local_params lp = orx_local_default_params();
    lp.model_path = model_path("rand-llama-256-Q8_0.gguf");
    lp.draft_path = model_path("rand-qwen2-gpt2-f32.gguf");
    lp.n_ctx = 256;
    orx_llm *l = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_local_create(&lp, &l, &e), ORX_ERR_INVALID);
    assert_null(l);
    assert_non_null(strstr(e.msg, "rand-qwen2-gpt2-f32.gguf"));
    assert_non_null(strstr(e.msg, "rand-llama-256-Q8_0.gguf"));
    orx_schema_free(schema);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_same_answer),
        cmocka_unit_test(test_local_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
