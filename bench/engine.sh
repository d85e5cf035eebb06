#!/usr/bin/env bash
# bench/engine.sh — reproduce the engine speed table of README "## Performance".
#
# Synthesises random-weight GGUF files with TinyLlama-1.1B shapes (22 layers, dim 2048, 32 heads,
# 4 KV heads, ff 5632, vocab 32000) in the tensor-type mixes llama-quantize uses, then runs
# `openrx bench` with llama-bench's settings (-t 2 -p 128,512 -n 64 -r 3). The models
# (0.6–1.1 GiB each) go to a build folder and are never committed; they are reused if present.
#
#   bash bench/engine.sh [BUILD_DIR]            (default: build)
#   THREADS=4 TYPES="Q4_0 Q4_K_M" JSON=1 bash bench/engine.sh build-e2
#   ISAS="amx avx512 avx2" bash bench/engine.sh   (also the kernels of CPUs without AMX / AVX-512,
#                                                  by capping the dispatch with ORX_ISA)
#   DEPTH=1024 bash bench/engine.sh               (the tests after 1,024 tokens already in the KV
#                                                  cache, llama-bench's -d)
#
# Compare with the llama.cpp table in ../shared/models/README.md (same shapes, same machine
# kind, 2 threads). Machines are shared and noisy: compare ratios measured close in time.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=${OPENRX:-$BUILD/openrx}
MODELS=${MODELS_DIR:-$BUILD/bench-models}
THREADS=${THREADS:-2}
TYPES=${TYPES:-"Q4_0 Q8_0 Q4_K_M"}
ISAS=${ISAS:-best}
DEPTH=${DEPTH:-0}
SHAPE=${SHAPE:-tinyllama}
[ -x "$BIN" ] || { echo "bench/engine.sh: no openrx binary at $BIN (build first)" >&2; exit 2; }
mkdir -p "$MODELS"
# the family's real tokenizer from the reference set when present (else a synthetic vocab)
VOCAB=()
[ -d "$ROOT/../shared/tokenizers" ] && VOCAB=(--vocab-dir "$ROOT/../shared/tokenizers")
for t in $TYPES; do
    f="$MODELS/$SHAPE-$t.gguf"
    [ -f "$f" ] || "$BIN" model synth --shape "$SHAPE" --type "$t" -o "$f" -t "$THREADS" "${VOCAB[@]}"
done
for isa in $ISAS; do
    for t in $TYPES; do
        f="$MODELS/$SHAPE-$t.gguf"
        echo "== $SHAPE $t, kernels: $isa ($(date -u +%H:%M:%SZ), load: $(cut -d' ' -f1-3 /proc/loadavg))"
        if [ "$isa" = best ]; then unset ORX_ISA; else export ORX_ISA=$isa; fi
        if [ -n "${JSON:-}" ]; then
            "$BIN" bench -m "$f" -t "$THREADS" -p 128,512 -n 64 -r 3 -d "$DEPTH" --json
        else
            "$BIN" bench -m "$f" -t "$THREADS" -p 128,512 -n 64 -r 3 -d "$DEPTH"
        fi
    done
done
