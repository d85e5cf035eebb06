#!/usr/bin/env bash
# tests/cli/serve_slots.sh — `openrx serve --slots N`: the local backend keeps N prompt-prefix KV
# caches across requests. Prompts A, B, A: with two slots the second A finds its whole prompt in
# a slot (usage.prompt_tokens_details.cached_tokens == prompt_tokens); with one slot B evicted A,
# so the second A re-evaluates what it does not share with B. Answers are the same either way
# (greedy). Uses the random Llama model from ../shared (skipped loudly without it).
# Usage: serve_slots.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MODEL=${ORX_SHARED_DIR:-$SRC/../shared}/models/random/rand-llama-256-Q8_0.gguf
if [ ! -f "$MODEL" ]; then echo "SKIP (loud): $MODEL not found (../shared absent): serve_slots.sh skipped"; exit 77; fi
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

start() {  # start SLOTS: serve on a free port, PORT set
    "$BIN" serve -m "$MODEL" -t 1 --slots "$1" --port 0 --audit none >"$T/out" 2>"$T/err" &
    PID=$!
    for _ in $(seq 300); do grep -q "ready on" "$T/out" 2>/dev/null && break; sleep 0.1; done
    PORT=$(sed -n 's/.*ready on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$T/out")
    [ -n "$PORT" ] || { bad "server did not start: $(cat "$T/err")"; exit 1; }
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
ask() {  # ask TEXT OUTFILE
    printf '{"model":"m","temperature":0,"max_tokens":8,"messages":[{"role":"user","content":"%s"}]}' "$1" >"$T/req"
    curl -s -m 60 -H 'Content-Type: application/json' --data @"$T/req" "http://127.0.0.1:$PORT/v1/chat/completions" >"$2"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

A="apixaban dose for an 82 year old woman with atrial fibrillation, weight 58 kg, serum creatinine 1.6 mg/dL"
B="metformin and contrast media: when to stop before an iodinated contrast study in chronic kidney disease"
for slots in 2 1; do
    start "$slots"
    ask "$A" "$T/a1.$slots"; ask "$B" "$T/b.$slots"; ask "$A" "$T/a2.$slots"
    stop
    for f in a1 b a2; do
        field "$T/$f.$slots" "d['usage']['prompt_tokens']" >/dev/null 2>&1 && ok || bad "slots $slots $f: no usage: $(head -c 300 "$T/$f.$slots")"
    done
done
p=$(field "$T/a2.2" "d['usage']['prompt_tokens']")
c2=$(field "$T/a2.2" "d['usage']['prompt_tokens_details']['cached_tokens']")
c1=$(field "$T/a2.1" "d['usage']['prompt_tokens_details']['cached_tokens']")
[ "$c2" = "$p" ] && ok || bad "two slots: second A cached $c2 of $p prompt tokens"
[ "$c1" -lt "$p" ] && ok || bad "one slot: second A cached $c1 of $p although B came between"
for s in 1 2; do
    [ "$(field "$T/a1.$s" "d['choices'][0]['message']['content']")" = "$(field "$T/a2.$s" "d['choices'][0]['message']['content']")" ] \
        && ok || bad "slots $s: the cached answer differs from the first"
done
[ "$(field "$T/a2.1" "d['choices'][0]['message']['content']")" = "$(field "$T/a2.2" "d['choices'][0]['message']['content']")" ] \
    && ok || bad "one slot and two slots give different answers"
echo "serve_slots.sh: prompt $p tokens; second A cached $c2 (2 slots) / $c1 (1 slot)"
echo "serve_slots.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
