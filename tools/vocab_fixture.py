#!/usr/bin/env python3
"""vocab_fixture.py — write the small tokenizer-only GGUF files the engine's architecture goldens
use (tests/fixtures/engine/vocab-*.gguf), derived from the vocabularies in ../shared/tokenizers.

Real Gemma and Qwen3 vocabularies have 256k and 152k tokens: a random-weight model with one of them
would be tens of MB. These fixtures keep the tokenizer *algorithm* of each family with 2,048
tokens, so a test model is a few hundred KB:

  gemma-mini  SentencePiece-style (tokenizer.ggml.model = llama) laid out like Gemma's vocabulary:
              <pad> 0, <eos> 1, <bos> 2, <unk> 3, <start_of_turn> 4, <end_of_turn> 5 (control
              tokens), the 256 byte-fallback tokens <0x00>..<0xFF>, then the highest-scoring pieces
              of ggml-vocab-llama-spm.gguf with their scores; no space prefix (Gemma's tokenizer
              adds none); BOS added.
  qwen3-mini  byte-level BPE (gpt2, pre-tokenizer qwen2) from ggml-vocab-qwen2.gguf: its first
              2,043 tokens (the 256 byte symbols, then merge results in rank order), the merges
              whose two parts and result are all kept, then Qwen's control tokens <|endoftext|>,
              <|im_start|>, <|im_end|> and the user-defined <think>, </think>; EOS <|im_end|>,
              no BOS added.

Each file carries a chat template written here in that family's turn format (not the models'
own template text) so that the engine recognises the family. Deterministic: same input, same
bytes. Usage: python3 tools/vocab_fixture.py [SHARED_DIR] [OUT_DIR]
(defaults ../shared and tests/fixtures/engine, relative to the repository).
"""
import os
import struct
import sys

N_VOCAB = 2048

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f', BOOL: '<?',
          U64: '<Q', I64: '<q', F64: '<d'}


def read_gguf_kv(path):
    """The key/values of a GGUF v2/v3 file, as {key: (type, value)} (arrays: (ARR, (etype, list)))."""
    data = open(path, 'rb').read()
    if data[:4] != b'GGUF':
        raise SystemExit(f'{path}: not a GGUF file')
    version, n_tensors, n_kv = struct.unpack_from('<IQQ', data, 4)
    if version not in (2, 3):
        raise SystemExit(f'{path}: GGUF version {version} not supported')
    off = 24

    def rd_str(o):
        (n,) = struct.unpack_from('<Q', data, o)
        return data[o + 8:o + 8 + n].decode('utf-8'), o + 8 + n

    def rd_val(t, o):
        if t == STR:
            return rd_str(o)
        if t == ARR:
            et, n = struct.unpack_from('<IQ', data, o)
            o += 12
            out = []
            for _ in range(n):
                v, o = rd_val(et, o)
                out.append(v)
            return (et, out), o
        fmt = SCALAR[t]
        return struct.unpack_from(fmt, data, o)[0], o + struct.calcsize(fmt)

    kv = {}
    for _ in range(n_kv):
        key, off = rd_str(off)
        (t,) = struct.unpack_from('<I', data, off)
        off += 4
        val, off = rd_val(t, off)
        kv[key] = (t, val)
    return kv


def write_gguf_kv(path, kv):
    """A GGUF v3 file with these key/values and no tensors, written whole (temp + rename)."""
    out = bytearray(b'GGUF')
    out += struct.pack('<IQQ', 3, 0, len(kv))

    def wr_str(s):
        b = s.encode('utf-8')
        out.extend(struct.pack('<Q', len(b)) + b)

    def wr_val(t, v):
        if t == STR:
            wr_str(v)
        elif t == ARR:
            et, items = v
            out.extend(struct.pack('<IQ', et, len(items)))
            for x in items:
                wr_val(et, x)
        else:
            out.extend(struct.pack(SCALAR[t], v))

    for key, (t, v) in kv.items():
        wr_str(key)
        out.extend(struct.pack('<I', t))
        wr_val(t, v)
    while len(out) % 32:
        out.append(0)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(out)
    os.replace(tmp, path)


GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>"
    "{% if m['role'] == 'assistant' %}model{% else %}{{ m['role'] }}{% endif %}\n"
    "{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")

QWEN3_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}")


def model_keys(kv, name):
    """general.* and <arch>.* keys of the source (llama.cpp's tools need them to open a vocab file)."""
    arch = kv['general.architecture'][1]
    out = {}
    for k, v in kv.items():
        if k.startswith('general.') or k.startswith(arch + '.'):
            out[k] = v
    out['general.name'] = (STR, name)
    if arch + '.vocab_size' in out:
        out[arch + '.vocab_size'] = (U32, N_VOCAB)
    return out


def gemma_mini(src):
    kv = read_gguf_kv(src)
    toks = kv['tokenizer.ggml.tokens'][1][1]
    scores = kv['tokenizer.ggml.scores'][1][1]
    types = kv['tokenizer.ggml.token_type'][1][1]
    specials = ['<pad>', '<eos>', '<bos>', '<unk>', '<start_of_turn>', '<end_of_turn>']
    out_t = list(specials)
    out_s = [0.0] * len(specials)
    out_ty = [3, 3, 3, 2, 3, 3]
    for b in range(256):
        out_t.append('<0x%02X>' % b)
        out_s.append(0.0)
        out_ty.append(6)
    for t, sc, ty in zip(toks, scores, types):
        if len(out_t) == N_VOCAB:
            break
        if ty != 1:  # normal pieces only (the source's own specials and bytes are replaced above)
            continue
        out_t.append(t)
        out_s.append(sc)
        out_ty.append(1)
    return {
        **model_keys(kv, 'gemma-mini'),
        'tokenizer.ggml.model': (STR, 'llama'),
        'tokenizer.ggml.tokens': (ARR, (STR, out_t)),
        'tokenizer.ggml.scores': (ARR, (F32, out_s)),
        'tokenizer.ggml.token_type': (ARR, (I32, out_ty)),
        'tokenizer.ggml.bos_token_id': (U32, 2),
        'tokenizer.ggml.eos_token_id': (U32, 1),
        'tokenizer.ggml.unknown_token_id': (U32, 3),
        'tokenizer.ggml.padding_token_id': (U32, 0),
        'tokenizer.ggml.add_bos_token': (BOOL, True),
        'tokenizer.ggml.add_eos_token': (BOOL, False),
        'tokenizer.ggml.add_space_prefix': (BOOL, False),
        'tokenizer.chat_template': (STR, GEMMA_TEMPLATE),
    }


def qwen3_mini(src):
    kv = read_gguf_kv(src)
    toks = kv['tokenizer.ggml.tokens'][1][1]
    merges = kv['tokenizer.ggml.merges'][1][1]
    specials = [('<|endoftext|>', 3), ('<|im_start|>', 3), ('<|im_end|>', 3), ('<think>', 4), ('</think>', 4)]
    keep = N_VOCAB - len(specials)
    out_t = list(toks[:keep])
    kept = set(out_t)
    out_m = []
    for m in merges:
        a, b = m.split(' ', 1)
        if a in kept and b in kept and a + b in kept:
            out_m.append(m)
    out_ty = [1] * keep
    for t, ty in specials:
        out_t.append(t)
        out_ty.append(ty)
    ids = {t: i for i, t in enumerate(out_t)}
    return {
        **model_keys(kv, 'qwen3-mini'),
        'tokenizer.ggml.model': (STR, 'gpt2'),
        'tokenizer.ggml.pre': (STR, 'qwen2'),
        'tokenizer.ggml.tokens': (ARR, (STR, out_t)),
        'tokenizer.ggml.token_type': (ARR, (I32, out_ty)),
        'tokenizer.ggml.merges': (ARR, (STR, out_m)),
        'tokenizer.ggml.bos_token_id': (U32, ids['<|endoftext|>']),
        'tokenizer.ggml.eos_token_id': (U32, ids['<|im_end|>']),
        'tokenizer.ggml.padding_token_id': (U32, ids['<|endoftext|>']),
        'tokenizer.ggml.add_bos_token': (BOOL, False),
        'tokenizer.chat_template': (STR, QWEN3_TEMPLATE),
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '..', 'shared')
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, 'tests', 'fixtures', 'engine')
    tk = os.path.join(shared, 'tokenizers')
    for name, fn, src in (('gemma-mini', gemma_mini, 'ggml-vocab-llama-spm.gguf'),
                          ('qwen3-mini', qwen3_mini, 'ggml-vocab-qwen2.gguf')):
        kv = fn(os.path.join(tk, src))
        path = os.path.join(out, f'vocab-{name}.gguf')
        write_gguf_kv(path, kv)
        n = len(kv['tokenizer.ggml.tokens'][1][1])
        extra = f", {len(kv['tokenizer.ggml.merges'][1][1])} merges" if 'tokenizer.ggml.merges' in kv else ''
        print(f'wrote {path}: {n} tokens{extra} (from {src})')


if __name__ == '__main__':
    main()
