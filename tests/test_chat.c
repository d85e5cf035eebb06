/* test_chat.c — chat templates: recognition from Jinja template texts, rendering per family,
 * names, and the clear error for an unknown or missing template. */
#include "testutil.h"
#include "engine/engine.h"
#include "gguf/gguf.h"
#include <stdlib.h>
#include <string.h>

typedef struct det_case {
    const char       *jinja; /* excerpt of a real template's distinctive part */
    orx_chat_template want;  /* family */
} det_case;

static void test_detect(void **state) {
    static const det_case C[] = {
        {"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}", ORX_CHAT_CHATML},
        {"{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}", ORX_CHAT_LLAMA3},
        {"{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}", ORX_CHAT_GEMMA},
        {"{{'<|' + message['role'] + '|>' + '\\n' + message['content'] + '<|end|>\\n'}}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}", ORX_CHAT_PHI3},
        {"{{ '<|user|>\\n' + message['content'] + eos_token }}{{ '<|assistant|>' }}", ORX_CHAT_ZEPHYR},
        {"{{ bos_token + '[INST] ' + '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' }}", ORX_CHAT_LLAMA2},
        {"{{ '[INST] ' + message['content'] + ' [/INST]' }}{{ message['content'] + eos_token}}", ORX_CHAT_MISTRAL},
        {"{{ 'USER: ' + message['content'] + '\\n' }}{{ 'ASSISTANT: ' + message['content'] + eos_token }}", ORX_CHAT_VICUNA},
        {"{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{{- '<|im_start|>assistant\\n' }}", ORX_CHAT_QWEN3},
        {"{{ message['content'] }}", ORX_CHAT_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
        assert_int_equal(orx_chat_template_detect(C[i].jinja, strlen(C[i].jinja)), C[i].want);
}

static void test_names(void **state) {
    for (int t = ORX_CHAT_LLAMA2; t <= ORX_CHAT_QWEN3; t++)
        assert_int_equal(orx_chat_template_by_name(orx_chat_template_name((orx_chat_template)t)), t);
    assert_int_equal(orx_chat_template_by_name("qwen"), ORX_CHAT_CHATML);
    assert_int_equal(orx_chat_template_by_name("LLAMA3"), ORX_CHAT_LLAMA3);
    assert_int_equal(orx_chat_template_by_name("nonsense"), ORX_CHAT_UNKNOWN);
    assert_string_equal(orx_chat_template_name(ORX_CHAT_UNKNOWN), "unknown");
}

static char *render(orx_chat_template t, const orx_chat_msg *m, size_t n) {
    int64_t need = orx_chat_apply(t, m, n, true, NULL, 0);
    assert_true(need > 0);
    char *buf = malloc((size_t)need + 1);
    assert_int_equal(orx_chat_apply(t, m, n, true, buf, (size_t)need + 1), need);
    assert_int_equal(strlen(buf), (size_t)need);
    return buf;
}

static void test_render(void **state) {
    const orx_chat_msg m[] = {{"system", "S"}, {"user", "U1"}, {"assistant", "A1"}, {"user", "U2"}};
    struct { orx_chat_template t; const char *want; } C[] = {
        {ORX_CHAT_CHATML, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n"},
        {ORX_CHAT_LLAMA3, "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
        {ORX_CHAT_LLAMA2, "[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1</s><s>[INST] U2 [/INST]"},
        {ORX_CHAT_MISTRAL, "[INST] S\n\nU1 [/INST] A1</s><s>[INST] U2 [/INST]"},
        {ORX_CHAT_GEMMA, "<start_of_turn>user\nS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n"},
        {ORX_CHAT_PHI3, "<|system|>\nS<|end|>\n<|user|>\nU1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nU2<|end|>\n<|assistant|>\n"},
        {ORX_CHAT_ZEPHYR, "<|system|>\nS</s>\n<|user|>\nU1</s>\n<|assistant|>\nA1</s>\n<|user|>\nU2</s>\n<|assistant|>\n"},
        {ORX_CHAT_VICUNA, "S\n\nUSER: U1\nASSISTANT: A1</s>\nUSER: U2\nASSISTANT:"},
        {ORX_CHAT_QWEN3, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        char *got = render(C[i].t, m, 4);
        assert_string_equal(got, C[i].want);
        free(got);
    }
    /* a too-small buffer is truncated but NUL-terminated, and the needed length is returned */
    char small[8];
    int64_t need = orx_chat_apply(ORX_CHAT_CHATML, m, 1, false, small, sizeof small);
    assert_int_equal(need, (int64_t)strlen("<|im_start|>system\nS<|im_end|>\n"));
    assert_int_equal(strlen(small), 7);
    assert_int_equal(orx_chat_apply(ORX_CHAT_UNKNOWN, m, 1, true, NULL, 0), -1);
}

static void test_model_template(void **state) {
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    void *data;
    size_t len;
    orx_gguf *g;
    orx_chat_template t;
    assert_int_equal(orx_gguf_writer_write_memory(w, &data, &len, &e), ORX_OK);
    assert_int_equal(orx_gguf_open_memory(data, len, &g, &e), ORX_OK);
    assert_int_equal(orx_chat_template_of(g, &t, &e), ORX_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "--chat-template"));
    orx_gguf_close(g);
    free(data);
    assert_int_equal(orx_gguf_writer_set_str(w, "tokenizer.chat_template", "{{ weird }}", &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_write_memory(w, &data, &len, &e), ORX_OK);
    assert_int_equal(orx_gguf_open_memory(data, len, &g, &e), ORX_OK);
    assert_int_equal(orx_chat_template_of(g, &t, &e), ORX_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "not one the engine recognises"));
    orx_gguf_close(g);
    free(data);
    assert_int_equal(orx_gguf_writer_set_str(w, "tokenizer.chat_template", "x<|im_start|>y", &e), ORX_OK);
    assert_int_equal(orx_gguf_writer_write_memory(w, &data, &len, &e), ORX_OK);
    assert_int_equal(orx_gguf_open_memory(data, len, &g, &e), ORX_OK);
    assert_int_equal(orx_chat_template_of(g, &t, &e), ORX_OK);
    assert_int_equal(t, ORX_CHAT_CHATML);
    orx_gguf_close(g);
    free(data);
    orx_gguf_writer_free(w);
}

/* A real template: the Phi-3 vocabulary file in ../shared carries Microsoft's Jinja template. */
static void test_real_template(void **state) {
    ORX_REQUIRE_SHARED();
    orx_error e = ORX_ERROR_INIT;
    orx_gguf *g;
    assert_int_equal(orx_gguf_open(orx_test_path("%s/tokenizers/ggml-vocab-phi-3.gguf", orx_test_shared_dir()), &g, &e), ORX_OK);
    orx_chat_template t;
    assert_int_equal(orx_chat_template_of(g, &t, &e), ORX_OK);
    assert_int_equal(t, ORX_CHAT_PHI3);
    orx_gguf_close(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect), cmocka_unit_test(test_names), cmocka_unit_test(test_render),
        cmocka_unit_test(test_model_template), cmocka_unit_test(test_real_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
