#!/usr/bin/env bash
# eval.sh — end-to-end evaluation harness (machinery, not medical quality):
#   validate the shipped case sets; `eval run` with the random-weight Llama model (local backend,
#   real Llama-2 vocab) on data/cases/smoke.jsonl, killed with kill -9 mid-run and resumed
#   (nothing lost, nothing duplicated, an incomplete last line dropped); report (report.html and
#   report.json; checked in headless Chromium when installed: DOM has the tables, screenshot in the
#   build dir); blinded review packet + review-import with two reviewers (agreement in the report);
#   the multiple-choice mode on the synthetic machinery set; and the openai backend against our
#   own `openrx serve` (same answer as the local backend for the same model and seed).
# Usage: bash eval.sh /path/to/openrx
set -u
BIN=${1:?usage: eval.sh /path/to/openrx}
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=$(cd "$(dirname "$BIN")" && pwd)
MODEL=${ORX_SHARED_DIR:-$SRC/../shared}/models/random/rand-llama-256-Q8_0.gguf
T=$(mktemp -d)
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# ---- validation (no model needed) -------------------------------------------------------------
for s in cpic onc renal smoke; do
    if "$BIN" eval validate "$SRC/data/cases/$s.jsonl" >"$T/out" 2>&1; then ok "validate $s: $(cat "$T/out")"
    else fail "validate $s: $(cat "$T/out")"; fi
done
printf '{"id":"x","indication":"y","patient":{},"truth":{"acceptable":["a"]}}\n' >"$T/bad.jsonl"
"$BIN" eval validate "$T/bad.jsonl" >"$T/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "bad.jsonl:1: source.citation" "$T/out"; then ok "bad case file: exit 2, file:line: field"
else fail "bad case file: rc $rc $(cat "$T/out")"; fi
"$BIN" eval run --cases "$SRC/data/cases/smoke.jsonl" >"$T/out" 2>&1; rc=$?
[ $rc -eq 2 ] && ok "run without --out: exit 2" || fail "run without --out: rc $rc"

if [ ! -f "$MODEL" ]; then
    echo "SKIP (loud): $MODEL not found (../shared absent): model runs of eval.sh skipped"
    [ $fails -eq 0 ] && exit 0 || exit 1
fi

# ---- a small knowledge base for the RAG arm ---------------------------------------------------
"$BIN" kb build --from "$SRC/tests/fixtures/kb/openfda_labels.json" --from "$SRC/tests/fixtures/kb/spl_small.xml" \
    --out "$T/kb.sqlite" >/dev/null 2>&1 || fail "kb build"

# ---- run, kill -9 mid-run, resume -------------------------------------------------------------
RUN=("$BIN" eval run --cases "$SRC/data/cases/smoke.jsonl" --model "$MODEL" --kb "$T/kb.sqlite"
     --out "$T/run" --max-tokens 110 -t 1 --seed 3 --json)
"${RUN[@]}" >"$T/run1.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    [ -s "$T/run/results.jsonl" ] && break
    sleep 0.1
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
n1=$(wc -l <"$T/run/results.jsonl")
echo "     killed after $n1 of 6 records"
cp "$T/run/results.jsonl" "$T/before.jsonl"
printf '{"key":"partial record of a killed writ' >>"$T/run/results.jsonl" # as if killed mid-write
"${RUN[@]}" >"$T/run2.out" 2>"$T/run2.err"; rc=$?
n2=$(wc -l <"$T/run/results.jsonl")
uniq_keys=$(grep -o '"key":"[^"]*"' "$T/run/results.jsonl" | sort -u | wc -l)
if [ $rc -eq 0 ] && [ "$n2" -eq 6 ] && [ "$uniq_keys" -eq 6 ] && grep -q "\"skipped\":$n1," "$T/run2.out" \
   && grep -q '"dropped_partial":1' "$T/run2.out" && cmp -s "$T/before.jsonl" <(head -n "$n1" "$T/run/results.jsonl"); then
    ok "resume after kill -9: $n1 kept byte-identical, $((6 - n1)) run, 6 unique records, partial line dropped"
else
    fail "resume: rc $rc n1 $n1 n2 $n2 uniq $uniq_keys: $(cat "$T/run2.out" "$T/run2.err" | head -c 600)"
fi
"${RUN[@]}" >"$T/run3.out" 2>&1
grep -q '"skipped":6,"done":0' "$T/run3.out" && ok "third run: nothing redone" || fail "third run: $(cat "$T/run3.out")"
grep -q '"status":"ok"' "$T/run/results.jsonl" && ok "records have status ok" || fail "no ok record"
grep -q '"arm":"rand-llama-256-Q8_0.gguf \[rag\]"' "$T/run/results.jsonl" && grep -q '\[no-rag\]' "$T/run/results.jsonl" \
    && ok "both RAG arms recorded" || fail "arms missing"

# ---- report -----------------------------------------------------------------------------------
if "$BIN" eval report "$T/run" >"$T/out" 2>&1 && [ -s "$T/run/report.html" ] && grep -q '"pairs"' "$T/run/report.json"; then
    ok "report: $(cat "$T/out")"
else fail "report: $(cat "$T/out")"; fi
if command -v chromium >/dev/null 2>&1; then
    timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$T/run/report.html" >"$T/dom.html" 2>/dev/null
    timeout 120 chromium --headless --no-sandbox --disable-gpu --window-size=1200,1800 \
        --screenshot="$BUILD/eval-report.png" "file://$T/run/report.html" >/dev/null 2>&1
    if grep -q '<table id="arms">' "$T/dom.html" && grep -q '<table id="pairs">' "$T/dom.html" \
       && grep -q 'id="chart-accuracy"' "$T/dom.html" && grep -q 'id="chart-latency"' "$T/dom.html" \
       && [ -s "$BUILD/eval-report.png" ]; then
        ok "chromium: DOM has the tables and charts; screenshot $BUILD/eval-report.png"
    else fail "chromium: tables/charts missing in the rendered DOM or no screenshot"; fi
else
    echo "SKIP (loud): chromium not installed (scripts/install-deps): report not checked in a browser"
fi

# ---- blinded review packet, import from two reviewers -----------------------------------------
if "$BIN" eval review "$T/run" --out "$T/packet.html" --seed 11 >"$T/out" 2>&1 && grep -q "Answer 2" "$T/packet.html" \
   && ! grep -q "rand-llama" "$T/packet.html" && grep -q "localStorage" "$T/packet.html"; then
    ok "review packet: blinded (no arm names), rubric in localStorage"
else fail "review packet: $(cat "$T/out")"; fi
items=$(grep -o '"[^"]*#[0-9]*"' "$T/run/review_key.json" | tr -d '"')
{
    echo "reviewer,item,correctness,safety,personalisation,completeness,clarity,comment"
    i=0
    for it in $items; do i=$((i + 1)); echo "ann,$it,$((i % 5 + 1)),3,2,4,5,\"ok, fine\""; done
    i=0
    for it in $items; do i=$((i + 1)); echo "bob,$it,$(((i + 1) % 5 + 1)),3,2,4,4,"; done
} >"$T/scores.csv"
if "$BIN" eval review-import "$T/run" "$T/scores.csv" >"$T/out" 2>&1 && grep -q '"kappa_quadratic"' "$T/run/report.json" \
   && grep -q '<table id="reviews">' "$T/run/report.html"; then
    ok "review-import: $(cat "$T/out")"
else fail "review-import: $(cat "$T/out")"; fi
printf 'reviewer,item,correctness,safety,personalisation,completeness,clarity,comment\nann,nope#1,1,1,1,1,1,\n' >"$T/bad.csv"
"$BIN" eval review-import "$T/run" "$T/bad.csv" >"$T/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "bad.csv:2: item" "$T/out" && ok "review-import unknown item: exit 2" || fail "bad csv: rc $rc $(cat "$T/out")"

# ---- multiple choice (synthetic machinery set) ------------------------------------------------
# (ORX_KB points at the test's KB so that a stale kb.sqlite in the working directory is never used)
export ORX_KB="$T/kb.sqlite"
if "$BIN" eval run --cases "$SRC/tests/fixtures/eval/mcq_machinery.jsonl" --model "$MODEL" --rag off --max-tokens 16 -t 1 \
       --out "$T/mcq" --json >"$T/out" 2>&1 && grep -q '"done":3' "$T/out" && grep -q '"kind":"mcq"' "$T/mcq/results.jsonl" \
   && "$BIN" eval report "$T/mcq" >/dev/null 2>&1; then
    ok "multiple-choice machinery run + report"
else fail "mcq: $(cat "$T/out")"; fi

# ---- openai backend against our own server ----------------------------------------------------
"$BIN" serve -m "$MODEL" --port 0 -t 1 --audit none >"$T/serve.log" 2>&1 &
SERVER_PID=$!
port=
for _ in $(seq 1 300); do
    port=$(grep -o 'ready on http://127.0.0.1:[0-9]*' "$T/serve.log" | grep -o '[0-9]*$')
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    fail "server did not start: $(head -c 300 "$T/serve.log")"
else
    "$BIN" eval run --cases "$SRC/data/cases/smoke.jsonl" --backend "openai:http://127.0.0.1:$port/v1,rand-llama-256-Q8_0.gguf" \
        --limit 1 --rag off --max-tokens 110 --seed 3 --out "$T/api" --json >"$T/out" 2>&1
    if grep -q '"errors":0' "$T/out" && grep -q '"backend":"openai"' "$T/api/results.jsonl"; then
        ok "openai backend against openrx serve"
        a=$(grep '\[no-rag\]' "$T/api/results.jsonl" | head -1 | grep -o '"raw_output":"[^"]*"')
        b=$(grep 'cpic-clopidogrel-cyp2c19|rand-llama-256-Q8_0.gguf \[no-rag\]' "$T/run/results.jsonl" | grep -o '"raw_output":"[^"]*"')
        [ -n "$a" ] && [ "$a" = "$b" ] && ok "server answer == local answer (same model, seed)" || fail "server vs local differ: $a // $b"
    else fail "openai run: $(cat "$T/out") $(tail -c 400 "$T/api/results.jsonl" 2>/dev/null)"; fi
    kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
fi

[ $fails -eq 0 ] && echo "eval.sh: all passed" && exit 0
echo "eval.sh: $fails failed"; exit 1
