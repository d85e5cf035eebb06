#!/usr/bin/env bash
# engine.sh — `openrx gguf info` and `openrx generate` from the command line: help exits 0, bad
# usage and damaged files exit 2 with a message naming the byte offset, greedy generation is
# exact against llama2.c's stories260K output, seeded sampling repeats, --json parses.
# Usage: bash engine.sh /path/to/openrx
set -u
BIN=${1:?usage: engine.sh /path/to/openrx}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
SHARED=${ORX_SHARED_DIR:-${ORX_SOURCE_DIR:-$(dirname "$0")/../..}/../shared}

# run NAME WANT_RC PATTERN(stdout+stderr) args...
run() {
    local name=$1 want=$2 pattern=$3
    shift 3
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc (want $want); stderr: $(head -c 400 "$T/err")"; fails=$((fails + 1)); return
    fi
    if ! cat "$T/out" "$T/err" | grep -qE -- "$pattern"; then
        echo "FAIL $name: output does not match /$pattern/: $(head -c 400 "$T/out") $(head -c 200 "$T/err")"
        fails=$((fails + 1)); return
    fi
    echo "ok   $name"
}

run gguf-help 0 "gguf info FILE" gguf --help
run generate-help 0 "--top-p" generate --help
run gguf-no-verb 2 "missing sub-command" gguf
run gguf-bad-verb 2 "unknown sub-command" gguf dump x
run gguf-missing 2 "No such file|cannot|not found" gguf info "$T/none.gguf"
printf 'GGML\003\000\000\000' >"$T/bad.gguf"
run gguf-bad-magic 2 "byte 0: bad magic" gguf info "$T/bad.gguf"
printf 'GGUF\003\000\000\000\001\000\000\000' >"$T/short.gguf"
run gguf-truncated 2 "truncated" gguf info "$T/short.gguf"
run generate-no-model 2 "missing -m" generate -p hi
run generate-bad-temp 2 "bad value" generate -m x -p hi --temp abc
run generate-bad-template 2 "unknown chat template" generate -m x -p hi --chat-template nope

if [ -d "$SHARED/models/real" ]; then
    M=$SHARED/models/real/stories260K.gguf
    run gguf-info 0 "tensors \(48\)" gguf info "$M"
    run gguf-json 0 '"architecture": "llama"' gguf info "$M" --json
    run generate-greedy 0 "^, there was a little girl named Lily. She loved to play outside in the park." \
        generate -m "$M" -p "Once upon a time" -n 40 --temp 0
    run generate-stats 0 "prompt: [0-9]+ tokens.*generated: 10 tokens" generate -m "$M" -p "Once" -n 10 --temp 0 --ignore-eos
    "$BIN" generate -m "$M" -p "Once" -n 30 --seed 5 >"$T/a" 2>/dev/null
    "$BIN" generate -m "$M" -p "Once" -n 30 --seed 5 >"$T/b" 2>/dev/null
    if cmp -s "$T/a" "$T/b" && [ -s "$T/a" ]; then echo "ok   generate-seeded-repeat"; else echo "FAIL generate-seeded-repeat"; fails=$((fails + 1)); fi
    run generate-json 0 '"n_gen": 5' generate -m "$M" -p "Once" -n 5 --temp 0 --ignore-eos --json
    run generate-chat-no-template 2 "no tokenizer.chat_template" generate -m "$M" -p "hi" --chat
    run generate-chat-override 0 "generated" generate -m "$M" -p "hi" --chat-template chatml -n 3
    run generate-attn-bad 2 "bad value" generate -m "$M" -p "hi" --attn f8
    run generate-repeat-bad 2 "bad value" generate -m "$M" -p "hi" --repeat 0
    # prefix cache (BOS + 10 prompt tokens): runs 2 and 3 evaluate 1 prompt token and reuse the rest
    run generate-prefix-cache 0 "prefix cache: 10 of 11 prompt tokens reused" \
        generate -m "$M" -p "Once upon a time there was a big dog" -n 8 --temp 0 --repeat 3
    if [ "$(grep -c 'prefix cache: 10 of 11' "$T/err")" -ne 2 ]; then echo "FAIL generate-prefix-cache-runs"; fails=$((fails + 1)); fi
    run generate-no-prefix-cache 0 "prompt: 11 tokens evaluated," \
        generate -m "$M" -p "Once upon a time there was a big dog" -n 8 --temp 0 --repeat 2 --no-prefix-cache
    if grep -q "prefix cache:" "$T/err"; then echo "FAIL generate-no-prefix-cache-reuse"; fails=$((fails + 1)); fi
    run generate-repeat-json 0 '"n_reused": 10' generate -m "$M" -p "Once upon a time there was a big dog" -n 4 --temp 0 --repeat 2 --json
    run generate-attn-f16 0 "^, there was a little girl named Lily" generate -m "$M" -p "Once upon a time" -n 20 --temp 0 --attn f16-flash
else
    echo "SKIPPED: $SHARED/models absent (reference data not available)"
fi
[ "$fails" -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
