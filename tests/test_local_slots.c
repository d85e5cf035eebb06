/*
 * test_local_slots.c — the local backend's prompt-prefix cache with several slots
 * (orx_local_params.n_slots): alternating prompts each keep their KV cache, so a prompt seen
 * before is not evaluated again (cached_tokens = its length), and the answers are the same as
 * without any cache. With one slot the alternation evicts the other prompt.
 * Needs ../shared/models/real/TinyStories-656K-Q8_0.gguf (skipped loudly without it).
 */
#include "testutil.h"
#include "llm/llm.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *model_path(void) {
    const char *sh = orx_test_shared_dir();
    return sh ? orx_test_path("%s/models/real/TinyStories-656K-Q8_0.gguf", sh) : NULL;
}

static orx_llm *open_local(int n_slots, bool prefix_cache) {
    orx_error err = ORX_ERROR_INIT;
    orx_local_params lp = orx_local_default_params();
    lp.model_path = model_path();
    lp.n_threads = 1;
    lp.n_slots = n_slots;
    lp.no_prefix_cache = !prefix_cache;
    orx_llm *l = NULL;
    if (orx_llm_local_create(&lp, &l, &err) != ORX_OK) fail_msg("%s", err.msg);
    return l;
}

typedef struct answer {
    char *text;
    int   prompt_tokens, cached_tokens;
} answer;

static answer ask(orx_llm *l, const char *prompt) {
    orx_llm_msg m = {"user", prompt};
    orx_llm_request r = orx_llm_default_request();
    r.messages = &m;
    r.n_messages = 1;
    r.max_tokens = 24;
    orx_llm_response out;
    memset(&out, 0, sizeof out);
    orx_error err = ORX_ERROR_INIT;
    if (orx_llm_chat(l, &r, &out, &err) != ORX_OK) fail_msg("%s", err.msg);
    answer a = {strdup(out.content), out.prompt_tokens, out.cached_tokens};
    orx_llm_response_clear(&out);
    return a;
}

static const char *PA = "Once upon a time there was a little dog who liked to run in the park";
static const char *PB = "The cat sat on the red mat and looked at the bird in the tree";

/* Reference answers: no prefix cache at all. */
static void reference(answer *a, answer *b) {
    orx_llm *l = open_local(1, false);
    *a = ask(l, PA);
    *b = ask(l, PB);
    assert_int_equal(a->cached_tokens, 0);
    assert_int_equal(b->cached_tokens, 0);
    orx_llm_free(l);
}

static void test_two_slots_keep_both(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    answer ra, rb;
    reference(&ra, &rb);
    orx_llm *l = open_local(2, true);
    answer a1 = ask(l, PA), b1 = ask(l, PB), a2 = ask(l, PA), b2 = ask(l, PB);
    assert_int_equal(a1.cached_tokens, 0);
    assert_true(b1.cached_tokens <= 1); /* at most the shared BOS: B went to the free slot */
    /* the second round finds each prompt's KV in its own slot: nothing evaluated again */
    assert_int_equal(a2.cached_tokens, a2.prompt_tokens);
    assert_int_equal(b2.cached_tokens, b2.prompt_tokens);
    assert_string_equal(a1.text, ra.text);
    assert_string_equal(a2.text, ra.text);
    assert_string_equal(b1.text, rb.text);
    assert_string_equal(b2.text, rb.text);
    printf("two slots: %d and %d prompt tokens reused on the second round\n", a2.cached_tokens, b2.cached_tokens);
    free(a1.text), free(b1.text), free(a2.text), free(b2.text), free(ra.text), free(rb.text);
    orx_llm_free(l);
}

static void test_one_slot_evicts(void **state) {
    (void)state;
    ORX_REQUIRE_SHARED();
    answer ra, rb;
    reference(&ra, &rb);
    orx_llm *l = open_local(1, true);
    answer a1 = ask(l, PA), b1 = ask(l, PB), a2 = ask(l, PA);
    assert_true(a2.cached_tokens < a2.prompt_tokens / 2); /* B took the only slot */
    assert_string_equal(a2.text, ra.text);
    assert_string_equal(b1.text, rb.text);
    /* the same prompt right after itself is served from the one slot */
    answer a3 = ask(l, PA);
    assert_int_equal(a3.cached_tokens, a3.prompt_tokens);
    assert_string_equal(a3.text, ra.text);
    free(a1.text), free(b1.text), free(a2.text), free(a3.text), free(ra.text), free(rb.text);
    orx_llm_free(l);
}

/* Several threads on one handle: every answer is the answer the prompt gets alone (the calls
 * take turns; without that they would share the slots' KV caches mid-generation). */
typedef struct turn { orx_llm *l; const char *prompt; char *text; } turn;
static void *ask_thread(void *v) {
    turn *t = v;
    t->text = ask(t->l, t->prompt).text;
    return NULL;
}

static void test_threads_share_one_handle(void **state) {
    (void)state;
    if (!model_path() || access(model_path(), R_OK) != 0) {
        print_message("SKIPPED: %s not found (../shared): concurrent calls NOT tested\n", model_path() ? model_path() : "../shared");
        skip();
    }
    answer ra, rb;
    reference(&ra, &rb);
    orx_llm *l = open_local(2, true);
    enum { N = 6 };
    turn t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        t[i] = (turn){l, i % 2 ? PB : PA, NULL};
        assert_int_equal(pthread_create(&th[i], NULL, ask_thread, &t[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_non_null(t[i].text);
        assert_string_equal(t[i].text, i % 2 ? rb.text : ra.text);
        free(t[i].text);
    }
    orx_llm_free(l);
    free(ra.text);
    free(rb.text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_slots_keep_both),
        cmocka_unit_test(test_one_slot_evicts),
        cmocka_unit_test(test_threads_share_one_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
