/*
 * fuzz_tokenizer.c — text → token ids → text for every tokenizer kind (SentencePiece with byte
 * fallback, byte-level BPE under each pre-tokenizer's regexes, WordPiece). The first byte picks
 * the tokenizer and the add_special / parse_special flags; the rest is the text. The same bytes
 * read as token ids (any value, in or out of range) are then turned back into pieces.
 */
#include "fuzz.h"
#include "vocab.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size || size > 8192) return 0;
    orx_tokenizer **toks;
    int n = orx_fuzz_tokenizers(&toks);
    const orx_tokenizer *t = toks[(data[0] >> 2) % n];
    bool add_special = data[0] & 1, parse_special = data[0] & 2;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int32_t ids[1024];
    int32_t k = orx_tokenize(t, text, len, add_special, parse_special, ids, 1024);
    if (k > 1024) {
        int32_t *big = malloc((size_t)k * sizeof *big);
        if (big) {
            orx_tokenize(t, text, len, add_special, parse_special, big, k);
            free(big);
        }
        k = 1024;
    }
    char out[4096];
    if (k > 0) orx_detokenize(t, ids, k, data[0] & 4, out, sizeof out);
    /* arbitrary ids */
    int32_t raw[256];
    size_t nr = len / 4 < 256 ? len / 4 : 256;
    memcpy(raw, text, nr * 4);
    orx_detokenize(t, raw, (int32_t)nr, data[0] & 8, out, sizeof out);
    for (size_t i = 0; i < nr && i < 16; i++) {
        char piece[64];
        orx_token_to_piece_ex(t, raw[i], true, piece, sizeof piece);
        orx_tokenizer_is_eog(t, raw[i]);
    }
    return 0;
}
