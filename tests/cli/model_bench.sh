#!/usr/bin/env bash
# model_bench.sh — `openrx model synth` and `openrx bench`: usage errors, a small synthetic model
# (the family's real vocab from ../shared/tokenizers when present, synthetic otherwise) that loads
# and benchmarks; without --vocab/--vocab-dir the vocabulary is synthetic wherever it runs.
# Usage: bash model_bench.sh /path/to/openrx
set -u
BIN=${1:?usage: model_bench.sh /path/to/openrx}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export ORX_NO_PROGRESS=1
fail=0
expect() {
    local want=$1; shift
    OUT=$("$@" 2>&1); local rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: '$*' exited $rc, expected $want"; echo "$OUT" | head -5; fail=1
    fi
}
has() { case "$OUT" in *"$1"*) ;; *) echo "FAIL: output lacks '$1'"; echo "$OUT" | head -5; fail=1 ;; esac; }

expect 0 "$BIN" model synth --help;                                   has "--shape"
expect 0 "$BIN" bench --help;                                         has "-p, --prompt"
expect 2 "$BIN" model;                                                has "missing sub-command"
expect 2 "$BIN" model frob;                                           has "unknown sub-command"
expect 2 "$BIN" model synth --shape nope --type Q4_0 -o "$TMP/x.gguf"; has "unknown --shape"
expect 2 "$BIN" model synth --shape mini --type Q3 -o "$TMP/x.gguf";   has "unknown --type"
expect 2 "$BIN" model synth --shape mini --type Q4_0;                  has "required"
expect 2 "$BIN" bench;                                                has "missing -m"
expect 2 "$BIN" bench -m "$TMP/x.gguf" -p 12,abc;                     has "bad -p"
expect 2 "$BIN" bench -m "$TMP/missing.gguf" -p 8 -n 0;               has "missing.gguf"
expect 2 "$BIN" model synth --shape mini --type Q4_0 -o "$TMP/x.gguf" --vocab a.gguf --vocab-dir b
has "not both"
expect 2 "$BIN" model synth --shape mini --type Q4_0 -o "$TMP/x.gguf" --vocab-dir "$TMP/novocab"
has "novocab/ggml-vocab-llama-spm.gguf"
[ -e "$TMP/x.gguf" ] && { echo "FAIL: a refused synth left a file"; fail=1; }
SHARED_VOCAB="${ORX_SHARED_DIR:-${ORX_SOURCE_DIR:-$(dirname "$0")/../..}/../shared}/tokenizers"
VOCAB=()
if [ -d "$SHARED_VOCAB" ]; then VOCAB=(--vocab-dir "$SHARED_VOCAB"); else
    echo "SKIPPED (real vocab): ../shared/tokenizers is absent; the mini models use a synthetic vocab"; fi

# a real-vocab (or synthetic-vocab) mini model per type, then a tiny bench with JSON output
for t in Q4_K_M Q8_0; do
    expect 0 "$BIN" model synth --shape mini --type $t -o "$TMP/mini-$t.gguf" -t 2 "${VOCAB[@]}"
    has "wrote"; [ ${#VOCAB[@]} -gt 0 ] && has "ggml-vocab-llama-spm.gguf"
    expect 0 "$BIN" bench -m "$TMP/mini-$t.gguf" -t 2 -p 16 -n 4 -r 1 --bw-mib 8 --json
    has '"test": "pp16"'; has '"test": "tg4"'; has '"bandwidth_gb_s"'
    has '"prefetch_one_token": "off (not measured' # a few MiB of weights stay in cache
done
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 1 -p 8 -n 2 -r 2 --bw-mib 0
has " tg2 |"; has "time to first token (pp8)"; has "one-token prefetch: off (not measured"
ORX_PREFETCH=1 expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 1 -p 8 -n 2 -r 1 --bw-mib 0
has "one-token prefetch: on (ORX_PREFETCH)"
# at a context depth (llama-bench's -d), F32 and F16 caches, the file map
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 2 -p 8 -n 2 -r 1 -d 24 --bw-mib 0 --attn f32
has "pp8 @ d24"; has "tg2 @ d24"; has "weights: resident copy"
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 2 -p 8 -n 2 -r 1 -d 24 --bw-mib 0 --attn f16-flash --mmap --json
has '"test": "tg2 @ d24"'; has '"weights_resident_bytes": 0'
has '"weights_repack": false'
# the resident copy in the file's layout (--no-repack), and JSON saying whether repacking was allowed
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 2 -p 8 -n 2 -r 1 --bw-mib 0 --no-repack
has "the file's layout (--no-repack)"
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 2 -p 8 -n 2 -r 1 --bw-mib 0 --json
has '"weights_repack": true'
# verification passes (-v): one pass of K rows with every row's logits, the cost of each extra row
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 2 -p 0 -n 0 -v 1,4 -r 2 -d 24 --bw-mib 0
has " v4 @ d24 |"; has "verification pass (v1 @ d24): "; has "per row beyond the first"
expect 0 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -t 1 -p 0 -n 0 -v 3 -r 1 --bw-mib 0 --json
has '"test": "v3"'; has '"pass_ms"'
expect 2 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -p 0 -n 0 -v 2,x;      has "bad -v"
expect 2 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -p 8 -n 2 --attn f8;   has "bad --attn"
expect 2 "$BIN" bench -m "$TMP/mini-Q8_0.gguf" -p 8 -n 2 -d -3;      has "bad -d"
# synthetic vocabulary when no vocab GGUF is named (../shared is never looked for)
expect 0 "$BIN" model synth --shape mini --type F16 -o "$TMP/syn.gguf"
has "vocab synthetic"
expect 0 "$BIN" bench -m "$TMP/syn.gguf" -p 8 -n 2 -r 1 --bw-mib 0
exit $fail
