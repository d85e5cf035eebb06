/*
 * seedgen.c — writes the binary seed files of fuzz/corpus/ (GGUF models and vocabularies) with
 * our GGUF writer, deterministically, so the committed seeds can be regenerated:
 *
 *     build-fuzz/fuzz_seedgen fuzz/corpus
 *
 * model/: tiny random-weight models (hidden size 32, one or two layers, 64-token vocabulary) of
 * each architecture the engine runs (llama, qwen2 with biases, phi3 fused, gemma) in F32, F16,
 * Q8_0 and Q4_0; gguf/: vocabulary-only files of each tokenizer kind with a chat template.
 */
#include "gguf/gguf.h"
#include "engine/cpu/quant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { E = 32, V = 64, NH = 4, NKV = 2, HD = E / NH, KD = NKV * HD, FF = 64 };

static uint64_t g_rng = 17;
static float urand(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((g_rng >> 40) / 16777216.0 - 0.5);
}

static void die(const char *what, const orx_error *e) {
    fprintf(stderr, "seedgen: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* one tensor of random values, stored as type (rows of ne0 values) */
static void tensor(orx_gguf_writer *w, const char *name, uint32_t type, int64_t ne0, int64_t ne1) {
    orx_error e = ORX_ERROR_INIT;
    int64_t ne[2] = {ne0, ne1};
    float *f = malloc(sizeof(float) * (size_t)(ne0 * ne1));
    for (int64_t i = 0; i < ne0 * ne1; i++) f[i] = urand() * (ne1 == 1 ? 0.2f : 0.5f) + (ne1 == 1 ? 1.0f : 0.0f);
    int64_t bv;
    size_t bb;
    if (ne1 == 1) type = 0; /* norms and biases stay F32 */
    if (!orx_gguf_type_size(type, &bv, &bb) || ne0 % bv) die("type", NULL);
    size_t row = (size_t)(ne0 / bv) * bb;
    uint8_t *q = malloc(row * (size_t)ne1);
    for (int64_t r = 0; r < ne1; r++) orx_quantize_row(type, f + r * ne0, q + (size_t)r * row, ne0);
    if (orx_gguf_writer_add_tensor(w, name, type, ne1 > 1 ? 2 : 1, ne, q, true, &e) != ORX_OK) die(name, &e);
    free(q);
    free(f);
}

static void u32(orx_gguf_writer *w, const char *arch, const char *k, uint32_t v) {
    char key[128];
    orx_error e = ORX_ERROR_INIT;
    snprintf(key, sizeof key, "%s.%s", arch, k);
    if (orx_gguf_writer_set_u32(w, key, v, &e) != ORX_OK) die(key, &e);
}

static void write_file(orx_gguf_writer *w, const char *dir, const char *name) {
    char path[4096];
    orx_error e = ORX_ERROR_INIT;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (orx_gguf_writer_write(w, path, NULL, NULL, &e) != ORX_OK) die(path, &e);
    orx_gguf_writer_free(w);
}

static void model(const char *dir, const char *arch, uint32_t type, int layers, const char *name) {
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    bool fused = !strcmp(arch, "phi3"), biases = !strcmp(arch, "qwen2"), tied = !strcmp(arch, "gemma");
    if (orx_gguf_writer_set_str(w, "general.architecture", arch, &e) != ORX_OK) die("arch", &e);
    u32(w, arch, "embedding_length", E);
    u32(w, arch, "block_count", (uint32_t)layers);
    u32(w, arch, "feed_forward_length", FF);
    u32(w, arch, "attention.head_count", NH);
    u32(w, arch, "attention.head_count_kv", NKV);
    u32(w, arch, "context_length", 64);
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    orx_gguf_writer_set_f32(w, key, 1e-5f, &e);
    tensor(w, "token_embd.weight", type, E, V);
    if (!tied) tensor(w, "output.weight", type, E, V);
    tensor(w, "output_norm.weight", 0, E, 1);
    for (int l = 0; l < layers; l++) {
        char n[64];
#define T(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
        tensor(w, T("attn_norm.weight"), 0, E, 1);
        tensor(w, T("ffn_norm.weight"), 0, E, 1);
        tensor(w, T("attn_output.weight"), type, E, E);
        tensor(w, T("ffn_down.weight"), type, FF, E);
        if (fused) {
            tensor(w, T("attn_qkv.weight"), type, E, E + 2 * KD);
            tensor(w, T("ffn_up.weight"), type, E, 2 * FF);
        } else {
            tensor(w, T("attn_q.weight"), type, E, E);
            tensor(w, T("attn_k.weight"), type, E, KD);
            tensor(w, T("attn_v.weight"), type, E, KD);
            tensor(w, T("ffn_gate.weight"), type, E, FF);
            tensor(w, T("ffn_up.weight"), type, E, FF);
        }
        if (biases) {
            tensor(w, T("attn_q.bias"), 0, E, 1);
            tensor(w, T("attn_k.bias"), 0, KD, 1);
            tensor(w, T("attn_v.bias"), 0, KD, 1);
        }
#undef T
    }
    write_file(w, dir, name);
}

static void vocab(const char *dir, const char *kind, const char *pre, const char *tmpl, const char *name) {
    orx_error e = ORX_ERROR_INIT;
    orx_gguf_writer *w = orx_gguf_writer_create();
    orx_gguf_writer_set_str(w, "general.architecture", "llama", &e);
    orx_gguf_writer_set_str(w, "tokenizer.ggml.model", kind, &e);
    if (pre) orx_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, &e);
    const char *toks[16] = {"<unk>", "<s>", "</s>", "a", "b", "ab", ("\xe2\x96\x81" "a"), "<0x41>",
                            "\xc4\xa0", ("\xc4\xa0" "a"), "[CLS]", "[SEP]", "##b", "<|im_start|>", "<|im_end|>", "x"};
    float scores[16];
    int32_t types[16];
    for (int i = 0; i < 16; i++) {
        scores[i] = -(float)i;
        types[i] = i < 3 ? (i ? 3 : 2) : i == 7 ? 6 : i >= 13 && i <= 14 ? 3 : 1;
    }
    orx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, 16, &e);
    orx_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ORX_GGUF_FLOAT32, scores, 16, &e);
    orx_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ORX_GGUF_INT32, types, 16, &e);
    if (!strcmp(kind, "gpt2")) {
        const char *merges[2] = {"a b", "\xc4\xa0 a"};
        orx_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, NULL, 2, &e);
    }
    orx_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, &e);
    orx_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, &e);
    orx_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true, &e);
    if (tmpl) orx_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl, &e);
    if (e.code != ORX_OK) die(name, &e);
    write_file(w, dir, name);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: fuzz_seedgen CORPUS_DIR (writes CORPUS_DIR/model and CORPUS_DIR/gguf)\n"); return 2; }
    char mdir[4096], gdir[4096];
    snprintf(mdir, sizeof mdir, "%s/model", argv[1]);
    snprintf(gdir, sizeof gdir, "%s/gguf", argv[1]);
    mkdir(argv[1], 0755);
    mkdir(mdir, 0755);
    mkdir(gdir, 0755);
    model(mdir, "llama", 8 /* Q8_0 */, 2, "llama-q8_0.gguf");
    model(mdir, "llama", 2 /* Q4_0 */, 1, "llama-q4_0.gguf");
    model(mdir, "qwen2", 1 /* F16 */, 1, "qwen2-f16.gguf");
    model(mdir, "phi3", 8, 1, "phi3-q8_0.gguf");
    model(mdir, "gemma", 0 /* F32 */, 1, "gemma-f32.gguf");
    vocab(gdir, "llama", NULL, "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", "spm.gguf");
    vocab(gdir, "gpt2", "qwen2", "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>{% endfor %}", "bpe-qwen2.gguf");
    vocab(gdir, "gpt2", "llama3", "<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>", "bpe-llama3.gguf");
    vocab(gdir, "bert", NULL, NULL, "wpm.gguf");
    printf("seedgen: wrote %s and %s\n", mdir, gdir);
    return 0;
}
