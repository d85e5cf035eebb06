#!/usr/bin/env bash
# tests/cli/remote_ctx.sh — a remote backend's context is respected: `openrx recommend -k 6`
# against llama.cpp's llama-server started with -c 2048 (the reference build in ../shared/tools,
# a random Qwen2-shaped model from ../shared/models) must not overflow the server's context
# (it was an HTTP 400): openrx reads n_ctx from /v1/models, counts tokens with /tokenize and
# drops evidence until prompt + max_tokens fit. Skips loudly when the binary, the model or the
# CPU it needs are not here. Usage: remote_ctx.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SH=${ORX_SHARED_DIR:-$SRC/../shared}
LS=$SH/tools/llama.cpp/llama-server
MODEL=$SH/models/random/rand-qwen2-gpt2-f32.gguf
if [ ! -x "$LS" ] || [ ! -f "$MODEL" ]; then echo "SKIPPED: $LS or $MODEL not found"; exit 0; fi
if ! "$LS" --version >/dev/null 2>&1; then echo "SKIPPED: llama-server does not run on this CPU (it needs AVX-512 BF16/VNNI)"; exit 0; fi
T=$(mktemp -d)
LPID=
cleanup() { [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

PORT=
for try in 1 2 3 4 5; do
    p=$((20000 + (RANDOM % 30000)))
    "$LS" -m "$MODEL" -t 1 -c 2048 --host 127.0.0.1 --port "$p" >"$T/ls.log" 2>&1 &
    LPID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$p/health" >/dev/null 2>&1 && { PORT=$p; break; }
        kill -0 "$LPID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$PORT" ] && break
    kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=
done
[ -n "$PORT" ] || { echo "FAIL: llama-server did not start: $(tail -3 "$T/ls.log")"; exit 1; }

"$BIN" kb build --from "$SRC/data/labels" --out "$T/kb.sqlite" --quiet >/dev/null 2>&1 || { echo "FAIL: kb build"; exit 1; }
P="$SRC/examples/patients/demo-patient.json"
run() { "$BIN" recommend --patient "$P" --as-of 2026-01-01 --indication "atrial fibrillation, stroke prevention" \
          --kb "$T/kb.sqlite" --no-audit --backend openai --base-url "http://127.0.0.1:$PORT/v1" --model-name rand \
          --format json "$@" >"$T/out.json" 2>"$T/err"; }
# the server's context (2048) from /v1/models; -k 6 and the default 512-token answer must fit
run -k 6
rc=$?
[ $rc -eq 0 ] && ok || bad "recommend -k 6 against llama-server -c 2048: rc $rc: $(head -c 300 "$T/err")"
fit=$(python3 -c "import json,sys; d=json.load(open('$T/out.json')); t=d['timing']; print(t['prompt_tokens'], len(d['evidence']))" 2>/dev/null)
set -- $fit
if [ -n "${1:-}" ] && [ "$1" -gt 0 ] && [ $(( $1 + 512 )) -le 2048 ]; then ok; echo "ok   prompt $1 tokens + 512 <= 2048 ($2 evidence items kept)"
else bad "prompt tokens '${1:-?}' + 512 exceed 2048"; fi
# --ctx N below the server's: less evidence kept
run -k 6 --ctx 1700 --max-tokens 256
[ $? -eq 0 ] && ok || bad "--ctx 1700: $(head -c 300 "$T/err")"
n2=$(python3 -c "import json; d=json.load(open('$T/out.json')); print(d['timing']['prompt_tokens'])" 2>/dev/null || echo 0)
[ "$n2" -gt 0 ] && [ $(( n2 + 256 )) -le 1700 ] && ok || bad "--ctx 1700: prompt $n2 + 256 > 1700"
# a context too small even without evidence: a clear usage error (exit 2), not an HTTP 400
run -k 6 --ctx 600
rc=$?
[ $rc -eq 2 ] && grep -q "do not fit the model's context of 600 tokens" "$T/err" && ok || bad "--ctx 600: rc $rc: $(head -c 300 "$T/err")"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
