/* vocab.h — small tokenizers of every kind for the harnesses (see vocab.c). */
#ifndef ORX_FUZZ_VOCAB_H
#define ORX_FUZZ_VOCAB_H
#include "engine/tokenizer/tokenizer.h"
/* Every tokenizer built (SPM, byte-level BPE under each pre-tokenizer family, WordPiece); returns
 * the count. Built on the first call. */
int orx_fuzz_tokenizers(orx_tokenizer ***out);
#endif
