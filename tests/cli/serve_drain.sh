#!/usr/bin/env bash
# tests/cli/serve_drain.sh — `openrx serve` stopped by SIGTERM while a model request runs: the
# request finishes (200) and its audit record is written and chained before the process exits 0;
# no new connection is accepted once the drain began. Needs the random-weight Llama-2-vocabulary
# model from ../shared (skipped loudly without it). Usage: serve_drain.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MODEL=${ORX_SHARED_DIR:-$SRC/../shared}/models/random/rand-llama-256-Q8_0.gguf
if [ ! -f "$MODEL" ]; then echo "SKIP (loud): $MODEL not found (../shared absent): serve_drain.sh skipped"; exit 0; fi
T=$(mktemp -d)
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$BIN" serve -m "$MODEL" -t 1 --port 0 --audit "$T/audit.jsonl" --drain-timeout 120 >"$T/out" 2>"$T/err" &
SRV=$!
for _ in $(seq 300); do grep -q "ready on" "$T/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*ready on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$T/out")
[ -n "$PORT" ] && ok || { bad "server did not start: $(cat "$T/err")"; exit 1; }
U="http://127.0.0.1:$PORT"

# a recommendation through the model queue, in the background
curl -s -o "$T/rec.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"patient\": $(cat "$SRC/examples/patients/demo-patient.json"), \"indication\": \"atrial fibrillation\", \"max_tokens\": 200, \"seed\": 1}" \
  "$U/v1/recommend" >"$T/rec.code" 2>/dev/null &
CURL=$!
for _ in $(seq 300); do curl -s "$U/health" | grep -q '"running":1' && break; sleep 0.05; done
curl -s "$U/health" >"$T/health.json"
grep -q '"running":1' "$T/health.json" && ok || bad "the request is not running: $(cat "$T/health.json")"

kill -TERM "$SRV"
sleep 0.3
# draining: no new connections
curl -s -m 2 -o /dev/null "$U/health"; rc=$?
[ $rc -ne 0 ] && ok || bad "a new connection was served during the drain"
wait "$CURL"
[ "$(cat "$T/rec.code")" = 200 ] && ok || bad "the running request got $(cat "$T/rec.code"): $(head -c 300 "$T/rec.json")"
wait "$SRV"; rc=$?; SRV=
[ $rc -eq 0 ] && ok || bad "serve exited $rc"
grep -q "drained" "$T/err" && ok || bad "no 'drained' in: $(tail -3 "$T/err")"
[ "$(wc -l < "$T/audit.jsonl")" -eq 1 ] && ok || bad "expected 1 audit record"
"$BIN" audit verify "$T/audit.jsonl" >/dev/null && ok || bad "audit chain does not verify"

echo "serve_drain.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
