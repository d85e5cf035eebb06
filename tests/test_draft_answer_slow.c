/*
 * test_draft_answer_slow.c — the local backend answers the same text with drafted decoding
 * (jump-forward + n-gram drafts, engine/draft.h) as with one token per pass, for every schema the
 * project sends (recommend's free and grounded schemas, eval's multiple choice), greedy and
 * sampled, on Q8_0 and Q4_K_M models. Labelled "slow" (model generations, not repeated under the
 * sanitizers; test_draft covers the drafting code there). Needs ../shared/models/random (skipped
 * loudly without it).
 */
#include "testutil.h"
#include "llm/llm.h"
#include "rx/rx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *MC_SCHEMA = "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"enum\":"
                               "[\"A\",\"B\",\"C\",\"D\"]}},\"required\":[\"answer\"],\"additionalProperties\":false}";

static const char *model(const char *name) {
    return orx_test_path("%s/models/random/%s", orx_test_shared_dir(), name);
}

/* ============================================================================================
 * The local backend: same answer with drafts as without
 * ========================================================================================== */
static int g_max_tokens = 160; /* answer budget (tokens) */

static char *answer_stats(orx_llm *llm, const orx_schema *schema, float temp, const char *user, orx_llm_response *stats) {
    orx_llm_msg msgs[2] = {{"system", "Reply only with the JSON object."}, {"user", user}};
    orx_llm_request rq = orx_llm_default_request();
    rq.messages = msgs;
    rq.n_messages = 2;
    rq.max_tokens = g_max_tokens;
    rq.temperature = temp;
    rq.has_seed = true;
    rq.seed = 7;
    rq.schema = schema;
    rq.schema_name = "t";
    orx_llm_response rs;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_chat(llm, &rq, &rs, &e), ORX_OK);
    char *txt = strdup(rs.content);
    orx_llm_response_clear(&rs);
    if (stats) *stats = rs;
    return txt;
}

static char *answer(orx_llm *llm, const orx_schema *schema, float temp, const char *user) {
    return answer_stats(llm, schema, temp, user, NULL);
}

static orx_llm *local_replay(const char *file, bool no_draft, const char *replay) {
    orx_local_params lp = orx_local_default_params();
    lp.replay = replay;
    lp.model_path = model(file);
    lp.n_threads = 2;
    lp.n_ctx = 1024;
    lp.no_draft = no_draft;
    orx_llm *l = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_llm_local_create(&lp, &l, &e), ORX_OK);
    return l;
}

static orx_llm *local(const char *file, bool no_draft) { return local_replay(file, no_draft, NULL); }

static void test_local_same_answer(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    const char *choices[] = {"apixaban", "warfarin", "rivaroxaban"};
    orx_schema *schemas[3] = {orx_rx_output_schema(4), orx_rx_output_schema_for(4, choices, 3), NULL};
    orx_error pe = ORX_ERROR_INIT;
    assert_int_equal(orx_schema_parse_text(MC_SCHEMA, &schemas[2], &pe), ORX_OK);
    const char *user = "Evidence:\n[S1] ELIQUIS (apixaban) is indicated to reduce the risk of stroke and systemic "
                       "embolism in patients with nonvalvular atrial fibrillation. The recommended dose of ELIQUIS "
                       "is 5 mg taken orally twice daily.\n[S2] apixaban 5 mg twice daily; apixaban 2.5 mg twice "
                       "daily in patients with at least two of the following characteristics.\n"
                       "Question: atrial fibrillation, stroke prevention. apixaban 5 mg twice daily";
    const char *files[] = {"rand-llama-256-Q8_0.gguf", "rand-llama-256-Q4_K_M.gguf"};
    for (int f = 0; f < 2; f++) {
        orx_llm *fast = local(files[f], false), *slow = local(files[f], true);
        for (int s = 0; s < 3; s++)
            for (int ti = 0; ti < 2; ti++) {
                float temp = ti ? 0.9f : 0.0f;
                char *a = answer(fast, schemas[s], temp, user), *b = answer(slow, schemas[s], temp, user);
                if (strcmp(a, b))
                    fail_msg("%s schema %d temp %.1f: drafted answer differs\n%s\n---\n%s", files[f], s, temp, a, b);
                assert_true(strlen(a) > 10);
                free(a);
                free(b);
            }
        orx_llm_free(fast);
        orx_llm_free(slow);
    }
    for (int s = 0; s < 3; s++) orx_schema_free(schemas[s]);
}

/* ============================================================================================
 * Forced runs and replay: the grammar's forced tokens are taken without sampling, one pass for a
 * run with drafting; a replayed answer of realistic length comes out byte for byte, in fewer
 * passes with drafting (forced runs, n-grams copied from the evidence) and identical text
 * ========================================================================================== */
static const char *USER = "Evidence:\n[S1] ELIQUIS (apixaban) is indicated to reduce the risk of stroke and systemic "
                          "embolism in patients with nonvalvular atrial fibrillation. The recommended dose of ELIQUIS "
                          "is 5 mg taken orally twice daily.\nQuestion: atrial fibrillation, stroke prevention.";
static const char *REPLAY =
    "{\"insufficient_evidence\": false, \"no_suitable_option\": false, \"candidates\": [{\"ingredient\": "
    "\"apixaban\", \"dose_amount\": 5, \"dose_unit\": \"mg\", \"route\": \"oral\", \"frequency\": \"twice daily\", "
    "\"duration\": \"long-term\", \"adjustments\": \"none\", \"monitoring\": \"signs of bleeding\", \"citations\": [\"S1\"]}], "
    "\"alternatives\": [\"warfarin\"], \"confidence\": \"medium\", \"rationale\": \"ELIQUIS (apixaban) is "
    "indicated to reduce the risk of stroke and systemic embolism in patients with nonvalvular atrial "
    "fibrillation. The recommended dose of ELIQUIS is 5 mg taken orally twice daily.\"}";

static void test_replay_forced(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    const char *choices[] = {"apixaban", "warfarin", "rivaroxaban"};
    orx_schema *schema = orx_rx_output_schema_for(4, choices, 3);
    g_max_tokens = 512; /* room for a whole candidate at the grammar's one byte per token */
    orx_llm *fast = local_replay("rand-llama-256-Q8_0.gguf", false, REPLAY);
    orx_llm *slow = local_replay("rand-llama-256-Q8_0.gguf", true, REPLAY);
    orx_llm_response sf, ss;
    char *a = answer_stats(fast, schema, 0.9f, USER, &sf), *b = answer_stats(slow, schema, 0.9f, USER, &ss);
    assert_string_equal(a, REPLAY); /* the replayed answer, byte for byte */
    assert_string_equal(b, REPLAY);
    assert_int_equal(sf.completion_tokens, ss.completion_tokens);
    assert_true(ss.forced_tokens > 10);                  /* keys, quotes, braces, enum tails */
    assert_int_equal(sf.forced_tokens, ss.forced_tokens); /* the same rule either way */
    assert_int_equal(ss.drafted_tokens, 0);
    assert_true(ss.decode_passes >= ss.completion_tokens - 1); /* one token per pass */
    assert_true(sf.accepted_tokens > 10);                /* the rationale copied from the evidence */
    assert_true(sf.decode_passes * 10 < ss.decode_passes * 6); /* at least 40 % fewer passes */
    print_message("replay: %d tokens, %d forced; %d passes with drafting (%d of %d drafted kept), %d without\n",
                  sf.completion_tokens, sf.forced_tokens, sf.decode_passes, sf.accepted_tokens, sf.drafted_tokens,
                  ss.decode_passes);
    free(a);
    free(b);
    /* without replay, the forced tokens are taken the same way (greedy and sampled alike) */
    orx_llm *plain = local("rand-llama-256-Q8_0.gguf", true);
    char *c = answer_stats(plain, schema, 0.9f, USER, &ss);
    assert_true(ss.forced_tokens > 5);
    free(c);
    orx_llm_free(plain);
    orx_llm_free(fast);
    orx_llm_free(slow);
    orx_schema_free(schema);
    g_max_tokens = 160;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_forced),
        cmocka_unit_test(test_local_same_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
