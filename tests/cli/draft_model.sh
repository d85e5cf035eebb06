#!/usr/bin/env bash
# tests/cli/draft_model.sh — `openrx generate --draft FILE`: the same text with and without a draft
# model (greedy and at temperature 0.9; a quantisation of the same model, and the model itself as
# its own draft, whose greedy proposals are all kept), the draft-model counts in --json, and a draft
# with another vocabulary refused with an error naming both files (exit 2). Uses ../shared's random
# models (skipped loudly without them).
# Usage: draft_model.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
M=${ORX_SHARED_DIR:-$SRC/../shared}/models/random
if [ ! -f "$M/rand-llama-256-Q8_0.gguf" ]; then echo "SKIP (loud): $M not found (../shared absent): draft_model.sh skipped"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
P="The patient is a 72 year old woman with atrial fibrillation and a creatinine clearance of 28 mL/min."
gen() {  # gen OUT TEMP [args]
    local out=$1 temp=$2; shift 2
    "$BIN" generate -m "$M/rand-llama-256-Q8_0.gguf" -p "$P" -n 48 --temp "$temp" --seed 3 -t 1 --ignore-eos --json "$@" >"$out" 2>"$out.err"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }
for temp in 0 0.9; do
    gen "$T/plain.$temp" "$temp" || bad "temp $temp without a draft: $(cat "$T/plain.$temp.err")"
    for d in rand-llama-256-Q4_0.gguf rand-llama-256-Q8_0.gguf; do
        gen "$T/d.$temp.$d" "$temp" --draft "$M/$d" --draft-max 6 || bad "temp $temp draft $d: $(cat "$T/d.$temp.$d.err")"
        [ "$(field "$T/d.$temp.$d" "d['tokens']")" = "$(field "$T/plain.$temp" "d['tokens']")" ] && ok \
            || bad "temp $temp draft $d: the tokens differ from generation without a draft"
        n=$(field "$T/d.$temp.$d" "d['stats']['draft_model_drafted']")
        [ -n "$n" ] && [ "$n" -gt 0 ] && ok || bad "temp $temp draft $d: no draft-model tokens in --json ($n)"
    done
done
self=$T/d.0.rand-llama-256-Q8_0.gguf
[ "$(field "$self" "d['stats']['draft_model_accepted'] == d['stats']['draft_model_drafted'] and d['stats']['decode_passes'] < 16")" = True ] \
    && ok || bad "self-draft, greedy: not every proposal kept ($(field "$self" "d['stats']"))"
"$BIN" generate -m "$M/rand-llama-256-Q8_0.gguf" -p "$P" -n 4 --draft "$M/rand-qwen2-gpt2-f32.gguf" >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 2 ] && ok || bad "another vocabulary: exit $rc, want 2"
grep -q "rand-qwen2-gpt2-f32.gguf" "$T/e" && grep -q "rand-llama-256-Q8_0.gguf" "$T/e" && ok \
    || bad "another vocabulary: the error does not name both files: $(cat "$T/e")"
"$BIN" generate -m "$M/rand-llama-256-Q8_0.gguf" -p "$P" --draft-max 0 >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--draft-max 0 accepted"
"$BIN" generate --help | grep -q -- "--draft FILE" && ok || bad "--draft missing from generate --help"
"$BIN" recommend --help | grep -q -- "--draft FILE" && ok || bad "--draft missing from recommend --help"
"$BIN" serve --help | grep -q -- "--draft FILE" && ok || bad "--draft missing from serve --help"
echo "draft_model.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
