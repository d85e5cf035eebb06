/* chat_template.c — recognise a model's chat template (tokenizer.chat_template, Jinja) by its
 * distinctive substrings, and render messages in that family's format. BOS is left to the
 * tokenizer (add_special). Formats follow each family's published template. Gemma 1/2/3 share
 * one turn format (a system message goes into the first user turn); Qwen3 is ChatML whose
 * template knows <think>: rendered with thinking off (its enable_thinking=false form), since
 * openrx asks for direct, often schema-constrained answers. */
#include "engine/engine.h"
#include "util/util.h"
#include <stdio.h>
#include <string.h>

/* ============================================================================================
 * Names and detection
 * ========================================================================================== */
static const char *const NAMES[] = {"unknown", "llama2", "llama3", "mistral", "chatml",
                                    "gemma",   "phi3",   "zephyr", "vicuna",  "qwen3"};
#define CHOICES "llama2, llama3, mistral, chatml, gemma, phi3, zephyr, vicuna, qwen3"

const char *orx_chat_template_name(orx_chat_template t) {
    return (unsigned)t < sizeof NAMES / sizeof NAMES[0] ? NAMES[t] : "unknown";
}

orx_chat_template orx_chat_template_by_name(const char *name) {
    if (!name) return ORX_CHAT_UNKNOWN;
    for (unsigned i = 1; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (orx_str_ieq(name, NAMES[i])) return (orx_chat_template)i;
    if (orx_str_ieq(name, "qwen") || orx_str_ieq(name, "qwen2")) return ORX_CHAT_CHATML;
    if (orx_str_ieq(name, "inst") || orx_str_ieq(name, "[inst]")) return ORX_CHAT_MISTRAL;
    if (orx_str_ieq(name, "phi-3")) return ORX_CHAT_PHI3;
    return ORX_CHAT_UNKNOWN;
}

static bool has(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (s[i] == needle[0] && !memcmp(s + i, needle, m)) return true;
    return false;
}

orx_chat_template orx_chat_template_detect(const char *t, size_t n) {
    if (!t) return ORX_CHAT_UNKNOWN;
    if (has(t, n, "<|im_start|>")) return has(t, n, "<think>") ? ORX_CHAT_QWEN3 : ORX_CHAT_CHATML;
    if (has(t, n, "<|start_header_id|>") && has(t, n, "<|end_header_id|>")) return ORX_CHAT_LLAMA3;
    if (has(t, n, "<start_of_turn>")) return ORX_CHAT_GEMMA;
    if (has(t, n, "<|assistant|>") && has(t, n, "<|end|>")) return ORX_CHAT_PHI3;
    if (has(t, n, "<|user|>")) return ORX_CHAT_ZEPHYR;
    if (has(t, n, "[INST]")) return has(t, n, "<<SYS>>") ? ORX_CHAT_LLAMA2 : ORX_CHAT_MISTRAL;
    if (has(t, n, "USER: ") && has(t, n, "ASSISTANT")) return ORX_CHAT_VICUNA;
    return ORX_CHAT_UNKNOWN;
}

orx_status orx_chat_template_of(const orx_gguf *g, orx_chat_template *out, orx_error *err) {
    const char *s;
    uint64_t len;
    *out = ORX_CHAT_UNKNOWN;
    if (!orx_gguf_get_str(g, "tokenizer.chat_template", &s, &len))
        return orx_fail(err, ORX_ERR_UNSUPPORTED,
                        "the model has no tokenizer.chat_template; choose one with --chat-template NAME "
                        "(" CHOICES ")");
    *out = orx_chat_template_detect(s, (size_t)len);
    if (*out == ORX_CHAT_UNKNOWN)
        return orx_fail(err, ORX_ERR_UNSUPPORTED,
                        "the model's chat template (%.*s...) is not one the engine recognises; choose one "
                        "with --chat-template NAME (" CHOICES ")",
                        (int)(len < 60 ? len : 60), s); /* s points into the file: not NUL-terminated */
    return ORX_OK;
}

/* ============================================================================================
 * Rendering
 * ========================================================================================== */
typedef struct out {
    char  *buf;  /* caller's buffer */
    size_t cap;  /* its size */
    size_t len;  /* bytes needed so far */
} out;

static void emit(out *o, const char *s) {
    size_t n = strlen(s);
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static bool is(const orx_chat_msg *m, const char *role) { return m->role && !strcmp(m->role, role); }

static void render_llama2(out *o, const orx_chat_msg *m, size_t n, bool add, bool sys_block) {
    const char *sys = NULL;
    bool first_user = true;
    for (size_t i = 0; i < n; i++) {
        if (is(&m[i], "system")) {
            sys = m[i].content;
            continue;
        }
        if (is(&m[i], "user")) {
            emit(o, first_user ? "[INST] " : "<s>[INST] ");
            if (sys && first_user) {
                if (sys_block) {
                    emit(o, "<<SYS>>\n"), emit(o, sys), emit(o, "\n<</SYS>>\n\n");
                } else {
                    emit(o, sys), emit(o, "\n\n");
                }
            }
            emit(o, m[i].content);
            emit(o, " [/INST]");
            first_user = false;
        } else {
            emit(o, " "), emit(o, m[i].content), emit(o, "</s>");
        }
    }
    (void)add; /* the assistant turn starts right after [/INST] */
}

static void render_tagged(out *o, const orx_chat_msg *m, size_t n, bool add, orx_chat_template t) {
    const char *sys_pending = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *role = m[i].role ? m[i].role : "user";
        switch (t) {
        case ORX_CHAT_LLAMA3:
            emit(o, "<|start_header_id|>"), emit(o, role), emit(o, "<|end_header_id|>\n\n");
            emit(o, m[i].content), emit(o, "<|eot_id|>");
            break;
        case ORX_CHAT_CHATML:
        case ORX_CHAT_QWEN3:
            emit(o, "<|im_start|>"), emit(o, role), emit(o, "\n"), emit(o, m[i].content), emit(o, "<|im_end|>\n");
            break;
        case ORX_CHAT_GEMMA: /* no system role: it is prepended to the first user turn */
            if (is(&m[i], "system")) {
                sys_pending = m[i].content;
                break;
            }
            emit(o, "<start_of_turn>"), emit(o, is(&m[i], "assistant") ? "model" : role), emit(o, "\n");
            if (sys_pending) emit(o, sys_pending), emit(o, "\n\n"), sys_pending = NULL;
            emit(o, m[i].content), emit(o, "<end_of_turn>\n");
            break;
        case ORX_CHAT_PHI3:
            emit(o, "<|"), emit(o, role), emit(o, "|>\n"), emit(o, m[i].content), emit(o, "<|end|>\n");
            break;
        case ORX_CHAT_ZEPHYR:
            emit(o, "<|"), emit(o, role), emit(o, "|>\n"), emit(o, m[i].content), emit(o, "</s>\n");
            break;
        case ORX_CHAT_VICUNA:
            if (is(&m[i], "system")) emit(o, m[i].content), emit(o, "\n\n");
            else if (is(&m[i], "user")) emit(o, "USER: "), emit(o, m[i].content), emit(o, "\n");
            else emit(o, "ASSISTANT: "), emit(o, m[i].content), emit(o, "</s>\n");
            break;
        default: break;
        }
    }
    if (!add) return;
    switch (t) {
    case ORX_CHAT_LLAMA3: emit(o, "<|start_header_id|>assistant<|end_header_id|>\n\n"); break;
    case ORX_CHAT_CHATML: emit(o, "<|im_start|>assistant\n"); break;
    case ORX_CHAT_QWEN3: emit(o, "<|im_start|>assistant\n<think>\n\n</think>\n\n"); break;
    case ORX_CHAT_GEMMA: emit(o, "<start_of_turn>model\n"); break;
    case ORX_CHAT_PHI3: emit(o, "<|assistant|>\n"); break;
    case ORX_CHAT_ZEPHYR: emit(o, "<|assistant|>\n"); break;
    case ORX_CHAT_VICUNA: emit(o, "ASSISTANT:"); break;
    default: break;
    }
}

int64_t orx_chat_apply(orx_chat_template t, const orx_chat_msg *msgs, size_t n, bool add_assistant,
                       char *buf, size_t cap) {
    out o = {buf, cap, 0};
    switch (t) {
    case ORX_CHAT_LLAMA2: render_llama2(&o, msgs, n, add_assistant, true); break;
    case ORX_CHAT_MISTRAL: render_llama2(&o, msgs, n, add_assistant, false); break;
    case ORX_CHAT_UNKNOWN: return -1;
    default: render_tagged(&o, msgs, n, add_assistant, t); break;
    }
    if (buf && cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return (int64_t)o.len;
}
