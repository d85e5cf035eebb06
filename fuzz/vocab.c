/*
 * vocab.c — small in-memory vocabularies of each tokenizer kind for the harnesses that need
 * a tokenizer (fuzz_tokenizer, fuzz_schema): a SentencePiece vocab with byte fallback and control
 * tokens, byte-level BPE vocabs with merges under every pre-tokenizer family, and a WordPiece
 * vocab. Built once; immutable afterwards.
 */
#include "vocab.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 600

typedef struct vocab {
    char   *tok[MAXV];  /* token texts (malloc'd) */
    float   score[MAXV];/* SPM scores */
    int32_t type[MAXV]; /* GGUF token types */
    int32_t n;          /* tokens */
} vocab;

static void add(vocab *v, const char *s, size_t len, float score, int32_t type) {
    if (v->n >= MAXV) return;
    v->tok[v->n] = malloc(len + 1);
    memcpy(v->tok[v->n], s, len);
    v->tok[v->n][len] = 0;
    v->score[v->n] = score;
    v->type[v->n] = type;
    v->n++;
}
static void adds(vocab *v, const char *s, float score, int32_t type) { add(v, s, strlen(s), score, type); }

/* GPT-2 byte-to-unicode: printable bytes map to themselves, the rest to U+0100 + n. */
static void byte_char(int b, char out[4]) {
    static int map[256];
    static int ready;
    if (!ready) {
        int n = 0;
        for (int i = 0; i < 256; i++) {
            bool keep = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            map[i] = keep ? i : 256 + n++;
        }
        ready = 1;
    }
    int cp = map[b];
    if (cp < 0x80) { out[0] = (char)cp; out[1] = 0; }
    else { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); out[2] = 0; }
}

static orx_tokenizer *make(const char *model, const char *pre, vocab *v, const char *const *merges,
                           int32_t n_merges) {
    orx_tokenizer_spec sp = orx_tokenizer_default_spec();
    sp.model = model;
    sp.pre = pre;
    sp.n_vocab = v->n;
    sp.tokens = (const char *const *)v->tok;
    sp.scores = v->score;
    sp.types = v->type;
    sp.merges = merges;
    sp.n_merges = n_merges;
    if (!strcmp(model, "bert")) { sp.unk = 1; sp.bos = 2; sp.sep = 3; sp.pad = 0; sp.eos = 3; }
    orx_tokenizer *t = NULL;
    orx_error err = ORX_ERROR_INIT;
    if (orx_tokenizer_create(&sp, &t, &err) != ORX_OK) {
        fprintf(stderr, "fuzz vocab: %s/%s: %s\n", model, pre ? pre : "-", err.msg);
        abort();
    }
    return t;
}

static orx_tokenizer *make_spm(void) {
    static vocab v;
    adds(&v, "<unk>", 0, 2);
    adds(&v, "<s>", 0, 3);
    adds(&v, "</s>", 0, 3);
    for (int b = 0; b < 256; b++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", b);
        adds(&v, s, 0, 6);
    }
    const char *pieces[] = {"\xe2\x96\x81", "\xe2\x96\x81t", "\xe2\x96\x81th", "\xe2\x96\x81the", "h", "e", "l", "o",
                            "he", "ll", "llo", "hello", "\xe2\x96\x81hello", "w", "r", "d", "or", "world",
                            "\xe2\x96\x81mg", "m", "g", "1", "0", "\xc3\xa9", "\xe4\xb8\xad"};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) adds(&v, pieces[i], -(float)i, 1);
    adds(&v, "<|im_start|>", 0, 3);
    adds(&v, "<|user|>", 0, 4);
    return make("llama", NULL, &v, NULL, 0);
}

static vocab g_bpe;
static const char *g_merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "l l", "he ll", "hell o", "\xc4\xa0 w",
                                 "o r", "\xc4\xa0w or", "l d", "\xc4\xa0wor ld", "m g", "1 0", "\xc4\xa0 1"};

static void build_bpe_vocab(void) {
    if (g_bpe.n) return;
    for (int b = 0; b < 256; b++) {
        char s[4];
        byte_char(b, s);
        adds(&g_bpe, s, 0, 1);
    }
    const char *merged[] = {"\xc4\xa0t", "he", "\xc4\xa0the", "ll", "hell", "hello", "\xc4\xa0w", "or",
                            "\xc4\xa0wor", "ld", "\xc4\xa0world", "mg", "10", ("\xc4\xa0" "1")};
    for (size_t i = 0; i < sizeof merged / sizeof merged[0]; i++) adds(&g_bpe, merged[i], 0, 1);
    adds(&g_bpe, "<|endoftext|>", 0, 3);
    adds(&g_bpe, "<|im_start|>", 0, 3);
    adds(&g_bpe, "<|im_end|>", 0, 3);
    adds(&g_bpe, "<tool>", 0, 4);
}

static orx_tokenizer *make_bert(void) {
    static vocab v;
    const char *t[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) adds(&v, t[i], 0, i == 1 ? 2 : 3);
    for (int c = 'a'; c <= 'z'; c++) { char s[2] = {(char)c, 0}; adds(&v, s, 0, 1); }
    for (int c = 'a'; c <= 'z'; c++) { char s[4] = {'#', '#', (char)c, 0}; adds(&v, s, 0, 1); }
    const char *w[] = {"hello", "world", "warfarin", "##arin", "mg", ".", ",", "!", "0", "1", "##0"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) adds(&v, w[i], 0, 1);
    return make("bert", NULL, &v, NULL, 0);
}

static const char *const PRES[] = {"default", "llama3", "dbrx", "deepseek-llm", "deepseek-coder",
                                   "falcon", "starcoder", "gpt-2", "qwen2"};

int orx_fuzz_tokenizers(orx_tokenizer ***out) {
    static orx_tokenizer *all[16];
    static int n;
    if (!n) {
        all[n++] = make_spm();
        build_bpe_vocab();
        for (size_t i = 0; i < sizeof PRES / sizeof PRES[0]; i++)
            all[n++] = make("gpt2", PRES[i], &g_bpe, g_merges, (int32_t)(sizeof g_merges / sizeof g_merges[0]));
        all[n++] = make_bert();
    }
    *out = all;
    return n;
}
