/*
 * fuzz_gguf.c — the GGUF reader over hostile bytes: open (every count, length, offset and type
 * checked), then read back every key, array element and tensor record, and the parts of the
 * engine that read metadata only: tokenizer vocabulary load and chat-template detection.
 */
#include "fuzz.h"
#include "gguf/gguf.h"
#include "engine/engine.h"
#include "engine/tokenizer/tokenizer.h"
#include <string.h>

static void touch_arrays(const orx_gguf *g, int64_t k) {
    const char *key = orx_gguf_key_at(g, k);
    orx_gguf_vtype et;
    uint64_t n;
    if (!key || !orx_gguf_get_arr(g, key, &et, &n)) return;
    uint64_t lim = n < 64 ? n : 64;
    for (uint64_t i = 0; i < lim; i++) {
        const char *s;
        uint64_t len;
        float f;
        int64_t v;
        if (orx_gguf_karr_str(g, k, i, &s, &len) && len) (void)s[len - 1];
        orx_gguf_karr_f32(g, k, i, &f);
        orx_gguf_karr_i64(g, k, i, &v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    orx_gguf *g = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_gguf_open_memory(data, size, &g, &err) != ORX_OK) return 0;
    for (int64_t k = 0; k < orx_gguf_n_kv(g); k++) {
        const char *key = orx_gguf_key_at(g, k);
        if (!key) continue;
        uint32_t u;
        int64_t i;
        float f;
        bool b;
        const char *s;
        uint64_t len;
        orx_gguf_get_u32(g, key, &u);
        orx_gguf_get_i64(g, key, &i);
        orx_gguf_get_f32(g, key, &f);
        orx_gguf_get_bool(g, key, &b);
        if (orx_gguf_get_str(g, key, &s, &len) && len) (void)s[len - 1];
        touch_arrays(g, k);
    }
    for (int64_t t = 0; t < orx_gguf_n_tensors(g); t++) {
        const orx_gguf_tensor *ti = orx_gguf_tensor_at(g, t);
        if (ti && ti->nbytes) (void)((const volatile uint8_t *)ti->data)[ti->nbytes - 1];
    }
    orx_tokenizer *tok = NULL;
    if (orx_tokenizer_load(g, &tok, &err) == ORX_OK) {
        int32_t ids[64];
        orx_tokenize(tok, "Hello world <|im_start|> \xe2\x96\x81x", 29, true, true, ids, 64);
        char piece[64];
        for (int32_t id = 0; id < orx_tokenizer_n_vocab(tok) && id < 64; id++)
            orx_token_to_piece_ex(tok, id, true, piece, sizeof piece);
        orx_tokenizer_free(tok);
    }
    orx_chat_template ct;
    orx_chat_template_of(g, &ct, &err);
    orx_gguf_close(g);
    return 0;
}
