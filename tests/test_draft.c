/*
 * test_draft.c — drafted decoding is exact:
 *   - the grammar's forced bytes (jump-forward) on a schema, with and without the optional space;
 *   - n-gram drafts continue the latest earlier occurrence; grammar drafts stop where the grammar
 *     refuses; no draft past a complete value;
 *   - text drafts continue the longest earlier match of the text's last bytes (across a token
 *     boundary the source spells differently, mid-word), as long as the match allows, none below
 *     the shortest match;
 *   - orx_context_eval_decode: every logits row of an n-token pass is bit-identical to n one-token
 *     evaluations (Q4_0, Q8_0, Q4_K_M, F16 and F32 models); orx_context_eval_decode_from keeps the
 *     rows from its first kept token on, the same bits, none before (and none at all from = n), and
 *     leaves the cache as a full pass does (the next token's logits agree);
 *   (the same answer with and without drafts: test_draft_answer_slow.c).
 * The model parts need ../shared/models/random (skipped loudly without it).
 */
#include "testutil.h"
#include "engine/draft.h"
#include "engine/engine.h"
#include "engine/grammar.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *MC_SCHEMA = "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\",\"enum\":"
                               "[\"A\",\"B\",\"C\",\"D\"]}},\"required\":[\"answer\"],\"additionalProperties\":false}";

static orx_grammar *compile(const char *schema) {
    orx_grammar *g = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_grammar_compile_text(schema, &g, &e), ORX_OK);
    return g;
}

static void expect_forced(const orx_gstate *s, bool space, const char *want) {
    char buf[256];
    int32_t n = orx_gstate_forced(s, space, buf, (int32_t)sizeof buf);
    buf[n] = 0;
    if (strcmp(buf, want)) fail_msg("forced bytes '%s', want '%s'", buf, want);
}

/* ============================================================================================
 * Grammar: forced bytes
 * ========================================================================================== */
static void test_forced_bytes(void **state) {
    (void)state;
    const char *schema = "{\"type\":\"object\",\"properties\":{\"drug\":{\"type\":\"string\",\"enum\":"
                         "[\"apixaban\",\"aspirin\",\"warfarin\"]},\"n\":{\"type\":\"integer\"}},"
                         "\"required\":[\"drug\",\"n\"],\"additionalProperties\":false}";
    orx_grammar *g = compile(schema);
    orx_gstate *s = orx_gstate_create(g);
    expect_forced(s, true, "{\"drug\": \"");  /* key, colon, the guessed space, the quote */
    expect_forced(s, false, "{\"drug\":\"");
    assert_true(orx_gstate_feed(s, "{\"drug\": \"a", 11));
    expect_forced(s, true, "");                /* apixaban or aspirin: open */
    assert_true(orx_gstate_feed(s, "p", 1));
    expect_forced(s, true, "ixaban\", \"n\":"); /* one enum value left, then the required key */
    orx_gstate *d = orx_gstate_dup(s);         /* a copy moves on its own */
    assert_true(orx_gstate_feed(d, "ixaban\", \"n\": 4}", 16));
    assert_true(orx_gstate_done(d));
    expect_forced(d, true, "");
    assert_false(orx_gstate_done(s));
    orx_gstate_free(d);
    orx_gstate_free(s);
    orx_grammar_free(g);
}

/* ============================================================================================
 * Drafts (tokenizer of a shared model)
 * ========================================================================================== */
static const char *model(const char *name) {
    return orx_test_path("%s/models/random/%s", orx_test_shared_dir(), name);
}

/* rand-llama-256-Q8_0's model and tokenizer (the drafts' pieces) */
static void load_tok(orx_model **m, orx_tokenizer **tok) {
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_model_load(model("rand-llama-256-Q8_0.gguf"), m, &e), ORX_OK);
    assert_int_equal(orx_tokenizer_load(orx_model_gguf(*m), tok, &e), ORX_OK);
}

static void test_draft_sources(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *m = NULL;
    orx_tokenizer *tok = NULL;
    load_tok(&m, &tok);
    orx_gvocab *voc = orx_gvocab_create(tok);
    assert_non_null(voc);
    orx_draft_params p = orx_draft_default_params();
    int32_t out[64];
    /* n-gram: "... 11 12 13 | 20 21 22 23 24 ... 11 12 13" continues with 20 21 22 ... */
    int32_t h[] = {5, 11, 12, 13, 20, 21, 22, 23, 24, 25, 26, 27, 28, 7, 8, 11, 12, 13};
    orx_draft_ctx dc = {tok, voc, NULL, true, NULL, 0};
    int32_t n = orx_draft_make(&p, &dc, h, 18, out);
    assert_int_equal(n, p.max_tokens);
    for (int32_t i = 0; i < n; i++) assert_int_equal(out[i], 20 + i);
    p.max_tokens = 3;
    assert_int_equal(orx_draft_make(&p, &dc, h, 18, out), 3);
    int32_t none[] = {1, 2, 3, 4, 5};
    assert_int_equal(orx_draft_make(&p, &dc, none, 5, out), 0); /* no repeat: no draft */
    /* under a grammar: the forced bytes as tokens spelling them exactly */
    orx_grammar *g = compile(MC_SCHEMA);
    orx_gstate *s = orx_gstate_create(g);
    dc.gs = s;
    p = orx_draft_default_params();
    p.max_tokens = 32;
    n = orx_draft_make(&p, &dc, none, 5, out);
    assert_true(n > 0);
    char text[256], piece[64];
    size_t len = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t k = orx_token_to_piece(tok, out[i], piece, (int32_t)sizeof piece);
        memcpy(text + len, piece, (size_t)k);
        len += (size_t)k;
    }
    text[len] = 0;
    assert_string_equal(text, "{\"answer\": \"");
    /* complete value: nothing drafted */
    assert_true(orx_gstate_feed(s, "{\"answer\":\"B\"}", 14));
    assert_int_equal(orx_draft_make(&p, &dc, h, 18, out), 0);
    orx_gstate_free(s);
    orx_grammar_free(g);
    orx_gvocab_free(voc);
    orx_tokenizer_free(tok);
    orx_model_free(m);
}

/* The text drafted tokens spell (concatenated pieces). */
static const char *spelled(const orx_tokenizer *tok, const int32_t *ids, int32_t n, char *buf, size_t cap) {
    size_t len = 0;
    char piece[64];
    for (int32_t i = 0; i < n; i++) {
        int32_t k = orx_token_to_piece(tok, ids[i], piece, (int32_t)sizeof piece);
        if (k < 0 || k > (int32_t)sizeof piece || len + (size_t)k >= cap) fail_msg("token %d: no piece", ids[i]);
        memcpy(buf + len, piece, (size_t)k);
        len += (size_t)k;
    }
    buf[len] = 0;
    return buf;
}

static int32_t text_draft(const orx_tokenizer *tok, const char *text, int32_t max, int32_t *out) {
    orx_draft_params p = orx_draft_default_params();
    p.max_tokens = max;
    p.ngram_max = 0; /* text lookup only */
    orx_draft_ctx dc = {tok, NULL, NULL, true, text, strlen(text)};
    int32_t none[] = {1};
    return orx_draft_make(&p, &dc, none, 1, out);
}

static void test_text_drafts(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *m = NULL;
    orx_tokenizer *tok = NULL;
    load_tok(&m, &tok);
    int32_t out[64];
    char buf[512];
    /* a long match (>= 24 bytes): up to the longest draft, spelling what followed */
    const char *copy = "ELIQUIS (apixaban) is indicated to reduce the risk of stroke and systemic embolism. "
                       "Rationale: \"apixaban) is indicated to reduce the r";
    int32_t n = text_draft(tok, copy, 8, out);
    assert_int_equal(n, 8);
    spelled(tok, out, n, buf, sizeof buf);
    if (strncmp(buf, "isk of stroke and systemic embolism", strlen(buf)))
        fail_msg("long match drafted '%s'", buf);
    /* mid-word after a quote (the source has a space before the word): a short match, one token */
    n = text_draft(tok, "Current medicines: warfarin sodium 5 MG. Alternatives: [\"warf", 8, out);
    assert_int_equal(n, 1);
    spelled(tok, out, n, buf, sizeof buf);
    if (!buf[0] || strncmp(buf, "arin sodium", strlen(buf))) fail_msg("mid-word match drafted '%s'", buf);
    /* the longest match wins over a later, shorter one */
    n = text_draft(tok, "x apixaban is 5 mg; warfarin is 7 mg; y apixaban is ", 8, out); /* 13 and 5 bytes */
    assert_true(n >= 1 && n <= 4); /* a match of 12..23 bytes: at most 4 tokens */
    spelled(tok, out, n, buf, sizeof buf);
    if (buf[0] != '5') fail_msg("longest match drafted '%s', want what followed 'apixaban is '", buf);
    /* below the shortest match (4 bytes), or nothing after it: no draft */
    assert_int_equal(text_draft(tok, "abc xyz. Then ab", 8, out), 0);
    assert_int_equal(text_draft(tok, "one two three", 8, out), 0);
    orx_tokenizer_free(tok);
    orx_model_free(m);
}

/* ============================================================================================
 * One pass over n drafted tokens == n one-token passes, bit for bit
 * ========================================================================================== */
static void check_eval_decode(const char *file) {
    orx_model *m = NULL;
    orx_context *c = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_model_load(model(file), &m, &e), ORX_OK);
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 2;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    int32_t nv = orx_context_n_vocab(c);
    enum { NP = 19, ND = 9 };
    int32_t prompt[NP], drafted[ND];
    for (int i = 0; i < NP; i++) prompt[i] = 3 + (i * 37) % (nv - 3);
    for (int i = 0; i < ND; i++) drafted[i] = 3 + (i * 53 + 11) % (nv - 3);
    float *one = malloc(sizeof(float) * (size_t)nv * ND);
    assert_int_equal(orx_context_eval(c, prompt, NP, false, &e), ORX_OK);
    for (int i = 0; i < ND; i++) {
        assert_int_equal(orx_context_eval(c, &drafted[i], 1, false, &e), ORX_OK);
        memcpy(one + (size_t)i * nv, orx_context_logits(c, -1), sizeof(float) * (size_t)nv);
    }
    assert_int_equal(orx_context_truncate(c, NP), ORX_OK);
    assert_int_equal(orx_context_eval_decode(c, drafted, ND, &e), ORX_OK);
    assert_int_equal(orx_context_n_past(c), NP + ND);
    for (int i = 0; i < ND; i++) {
        const float *row = orx_context_logits(c, i);
        assert_non_null(row);
        if (memcmp(row, one + (size_t)i * nv, sizeof(float) * (size_t)nv))
            fail_msg("%s: row %d of the drafted pass differs from one-token decoding", file, i);
    }
    /* logits from token F on: the same rows; none before; then from = n: no rows, same cache */
    enum { F = 4 };
    assert_int_equal(orx_context_truncate(c, NP), ORX_OK);
    assert_int_equal(orx_context_eval_decode_from(c, drafted, ND - 1, F, &e), ORX_OK);
    assert_int_equal(orx_context_n_past(c), NP + ND - 1);
    for (int i = 0; i < ND - 1; i++) {
        const float *row = orx_context_logits(c, i);
        if (i < F) {
            assert_null(row);
            continue;
        }
        assert_non_null(row);
        if (memcmp(row, one + (size_t)i * nv, sizeof(float) * (size_t)nv))
            fail_msg("%s: row %d of a pass with logits from %d differs from one-token decoding", file, i, F);
    }
    assert_true(orx_context_logits(c, -1) == orx_context_logits(c, ND - 2));
    assert_int_equal(orx_context_eval(c, &drafted[ND - 1], 1, false, &e), ORX_OK);
    if (memcmp(orx_context_logits(c, -1), one + (size_t)(ND - 1) * nv, sizeof(float) * (size_t)nv))
        fail_msg("%s: the token after a pass with logits from %d differs", file, F);
    assert_int_equal(orx_context_truncate(c, NP), ORX_OK);
    assert_int_equal(orx_context_eval_decode_from(c, drafted, ND - 1, ND - 1, &e), ORX_OK);
    assert_null(orx_context_logits(c, -1));
    assert_null(orx_context_logits(c, 0));
    assert_int_equal(orx_context_eval(c, &drafted[ND - 1], 1, false, &e), ORX_OK);
    if (memcmp(orx_context_logits(c, -1), one + (size_t)(ND - 1) * nv, sizeof(float) * (size_t)nv))
        fail_msg("%s: the token after a pass without logits differs", file);
    assert_int_equal(orx_context_eval_decode_from(c, drafted, 2, 3, &e), ORX_ERR_USAGE);
    free(one);
    orx_context_free(c);
    orx_model_free(m);
}

static void test_eval_decode_exact(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    check_eval_decode("rand-llama-256-Q8_0.gguf");
    check_eval_decode("rand-llama-256-Q4_0.gguf");
    check_eval_decode("rand-llama-256-Q4_K_M.gguf");
    check_eval_decode("rand-llama-spm-F16.gguf");
    check_eval_decode("rand-qwen2-gpt2-f32.gguf");
}

/* ============================================================================================
 * Replay: the answer comes out in the tokenizer's own encoding, as a model trained on it writes
 * it (not the vocabulary's longest matches)
 * ========================================================================================== */
typedef struct { int32_t ids[256]; int32_t n; } taken;

static bool take_token(void *ud, int32_t t, const char *piece, size_t len) {
    (void)piece, (void)len;
    taken *k = ud;
    if (k->n < 256) k->ids[k->n++] = t;
    return true;
}

static void test_replay_tokens(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    orx_model *m = NULL;
    orx_tokenizer *tok = NULL;
    orx_context *c = NULL;
    orx_error e = ORX_ERROR_INIT;
    assert_int_equal(orx_model_load(model("rand-llama-spm-F16.gguf"), &m, &e), ORX_OK);
    assert_int_equal(orx_tokenizer_load(orx_model_gguf(m), &tok, &e), ORX_OK);
    orx_gvocab *voc = orx_gvocab_create(tok);
    orx_context_params cp = orx_context_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 2;
    assert_int_equal(orx_context_create(m, &cp, &c, &e), ORX_OK);
    orx_grammar *g = compile("{\"type\":\"object\",\"properties\":{\"r\":{\"type\":\"string\"}},"
                             "\"required\":[\"r\"],\"additionalProperties\":false}");
    const char *prefix = "{\"r\": \"", *rest = "ELIQUIS (apixaban) is indicated to reduce the risk of stroke and "
                                                  "systemic embolism in patients with nonvalvular atrial fibrillation.\"}";
    char replay[512];
    snprintf(replay, sizeof replay, "%s%s", prefix, rest);
    int32_t want[256], nw = orx_tokenize_continuation(tok, rest, strlen(rest), want, 256);
    assert_true(nw > 10 && nw < 256);
    /* the longest matches split it otherwise (else this test could not tell the two apart) */
    int32_t greedy[256], ng = 0, len;
    for (size_t at = 0; at < strlen(rest) && ng < 256; at += (size_t)len)
        greedy[ng++] = orx_gvocab_longest(voc, rest + at, (int32_t)(strlen(rest) - at), &len);
    assert_true(ng != nw || memcmp(greedy, want, (size_t)nw * sizeof *want));
    for (int draft = 0; draft < 2; draft++) {
        int32_t prompt[] = {1, 15043, 29892, 3186};
        assert_int_equal(orx_context_truncate(c, 0), ORX_OK);
        assert_int_equal(orx_context_eval(c, prompt, 4, false, &e), ORX_OK);
        orx_decode_params dp = orx_decode_default_params();
        dp.n_predict = 200;
        dp.grammar = g;
        dp.gvocab = voc;
        dp.draft = draft;
        dp.history = prompt;
        dp.n_history = 4;
        dp.replay = replay;
        dp.n_replay = strlen(replay);
        taken k = {.n = 0};
        orx_decode_stats st;
        assert_int_equal(orx_decode(c, tok, NULL, &dp, take_token, &k, &st, &e), ORX_OK);
        char text[512], piece[64];
        int32_t at = 0, split = -1;
        for (int32_t i = 0; i < k.n; i++) {
            if (at == (int32_t)strlen(prefix)) split = i;
            int32_t pl = orx_token_to_piece(tok, k.ids[i], piece, (int32_t)sizeof piece);
            memcpy(text + at, piece, (size_t)pl);
            at += pl;
        }
        text[at] = 0;
        assert_string_equal(text, replay);
        assert_true(split > 0); /* the forced run ends at the opening quote */
        assert_int_equal(k.n - split, nw);
        assert_memory_equal(k.ids + split, want, (size_t)nw * sizeof *want);
    }
    orx_grammar_free(g);
    orx_context_free(c);
    orx_gvocab_free(voc);
    orx_tokenizer_free(tok);
    orx_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_bytes),
        cmocka_unit_test(test_draft_sources),
        cmocka_unit_test(test_text_drafts),
        cmocka_unit_test(test_eval_decode_exact),
        cmocka_unit_test(test_replay_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
