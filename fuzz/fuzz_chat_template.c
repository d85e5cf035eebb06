/*
 * fuzz_chat_template.c — chat templates: recognising a model's Jinja template text (the whole
 * input), and rendering messages under every template. Messages: the input split at NUL bytes;
 * each part's first byte picks the role, the rest is the content (any bytes, incl. invalid UTF-8).
 */
#include "fuzz.h"
#include "engine/engine.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16384) return 0;
    orx_chat_template_detect((const char *)data, size);
    const char *s = orx_fuzz_cstr(data, size);
    if (!s) return 0;
    orx_chat_template_by_name(s);
    /* messages */
    static const char *ROLES[] = {"system", "user", "assistant", "user"};
    char *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = 0;
    orx_chat_msg msgs[16];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < 16; i++) {
        if (i < size && copy[i] != 0) continue;
        if (i > start) {
            msgs[n].role = ROLES[(unsigned char)copy[start] & 3];
            msgs[n].content = copy + start + 1;
            n++;
        }
        start = i + 1;
    }
    char small[64];
    for (int t = ORX_CHAT_LLAMA2; t <= ORX_CHAT_VICUNA; t++) {
        for (int add = 0; add < 2; add++) {
            int64_t need = orx_chat_apply((orx_chat_template)t, msgs, n, add, small, sizeof small);
            if (need >= (int64_t)sizeof small && need < (1 << 20)) {
                char *buf = malloc((size_t)need + 1);
                if (buf) {
                    int64_t again = orx_chat_apply((orx_chat_template)t, msgs, n, add, buf, (size_t)need + 1);
                    if (again != need || buf[need] != 0) abort(); /* the two calls must agree */
                    free(buf);
                }
            }
        }
    }
    free(copy);
    return 0;
}
