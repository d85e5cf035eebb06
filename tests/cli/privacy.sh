#!/usr/bin/env bash
# tests/cli/privacy.sh — what leaves the machine (README "Privacy"):
#   - a backend host that is not loopback is refused without --allow-remote (recommend, serve,
#     eval run): exit 2, the message names the host and not the URL's credentials, nothing runs;
#   - with consent the patient summary goes de-identified (a 93-year-old as "90 or older", a
#     phone number in a problem text redacted, doses kept) and the audit record holds the
#     endpoint without credentials, remote/consent, the SHA-256 of the body (= sha256 of the body
#     kept by --audit-full); `openrx audit verify` still passes;
#   - the eval report marks a remote arm;
#   - with the random Llama model from ../shared: `openrx serve` as the model server reached as
#     http://0.0.0.0:PORT — not a loopback address (RFC 1122 forbids it as a destination; Linux
#     connects it to this machine), so openrx treats it as remote: the stand-in for a remote
#     host — recommend and a second server's /v1/recommend say a remote model was used.
# Usage: privacy.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MODEL=${ORX_SHARED_DIR:-$SRC/../shared}/models/random/rand-llama-256-Q8_0.gguf
T=$(mktemp -d)
# servers are started inside $(start ...), a subshell: their pids go to a file
cleanup() {
    [ -f "$T/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done < "$T/pids"
    rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "rc $rc != $want: $*: $(head -c 300 "$T/err")"; }
has() { grep -q -- "$2" "$1" && ok || bad "'$2' not in $1: $(head -c 400 "$1")"; }
lacks() { grep -q -- "$2" "$1" && bad "'$2' should not be in $1" || ok; }

cat >"$T/p.json" <<'EOF'
{"openrx_patient": 1, "id": "pt-7731", "name": "Evelyn Hartwell", "birthDate": "1932-05-01", "sex": "female",
 "labs": [{"kind": "weight", "value": 51, "unit": "kg", "date": "2025-12-15"},
          {"kind": "height", "value": 155, "unit": "cm", "date": "2025-12-15"},
          {"kind": "scr", "value": 1.4, "unit": "mg/dL", "date": "2025-12-15"}],
 "conditions": [{"text": "Atrial fibrillation; daughter 555-201-7788"}],
 "medications": [{"text": "sulfamethoxazole/trimethoprim 800 mg/160 mg tablet", "dose": "1 tablet every 12 hours"}],
 "allergies": [{"text": "penicillin G"}]}
EOF
P="$T/p.json"
REC=(recommend --patient "$P" --as-of 2026-01-01 --indication "atrial fibrillation" --backend openai --model-name m)

# ---- no consent: refused, exit 2, the host named, no key shown --------------------------------
expect_rc 2 "$BIN" "${REC[@]}" --base-url "https://user:s3cret@llm.example.com/v1" --audit "$T/a0.jsonl"
has "$T/err" "refusing to send patient data to llm.example.com"
has "$T/err" "--allow-remote"
lacks "$T/err" "s3cret"
[ ! -s "$T/a0.jsonl" ] && ok || bad "a refused request wrote an audit record"
expect_rc 2 "$BIN" serve --port 0 --audit none --backend openai --base-url "http://10.1.2.3:8000/v1" --model-name m
has "$T/err" "refusing to send patient data to 10.1.2.3"
expect_rc 2 "$BIN" eval run --cases "$SRC/data/cases/smoke.jsonl" --out "$T/ev0" --limit 1 --rag off \
    --backend "openai:https://llm.example.com/v1,m"
has "$T/err" "llm.example.com"
[ ! -e "$T/ev0/results.jsonl" ] && ok || bad "eval ran a unit of a refused remote arm"
# loopback hosts need no consent (an unreachable port: a network error, exit 1, not a refusal)
expect_rc 1 "$BIN" "${REC[@]}" --base-url "http://localhost:1/v1" --timeout 0.5 --ctx 8192 --no-audit
lacks "$T/err" "refusing"

# ---- consent given (an unreachable TEST-NET-1 address, RFC 5737): what would have been sent ----
expect_rc 1 "$BIN" "${REC[@]}" --base-url "http://user:s3cret@192.0.2.1:9/v1" --allow-remote --timeout 0.5 \
    --ctx 8192 --audit "$T/a1.jsonl" --audit-full
lacks "$T/err" "refusing"
python3 - "$T/a1.jsonl" >"$T/check" 2>&1 <<'EOF'
import hashlib, json, sys
rec = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert rec["endpoint"] == "http://192.0.2.1:9/v1", rec["endpoint"]
assert rec["remote"] is True and rec["consent"] is True and rec["deidentified"] is True
assert rec["redactions"].get("age") == 1 and rec["redactions"].get("phone") == 1, rec["redactions"]
q = rec["requests"][0]
body = q["body"]
assert hashlib.sha256(body.encode()).hexdigest() == q["sha256"], "sha256 of the body"
assert len(body.encode()) == q["bytes"]
user = json.loads(body)["messages"][1]["content"]
assert "age 90 or older" in user and "93 years" not in user, user
assert "555-201-7788" not in user and "[redacted: phone]" in user
assert "800 mg/160 mg" in user and "Hartwell" not in user
assert "s3cret" not in open(sys.argv[1]).read()
print("audit ok")
EOF
has "$T/check" "audit ok"
expect_rc 0 "$BIN" audit verify "$T/a1.jsonl"

# ---- the eval report marks a remote arm ---------------------------------------------------------
"$BIN" eval run --cases "$SRC/data/cases/smoke.jsonl" --out "$T/ev1" --limit 1 --rag off --timeout 0.5 \
    --allow-remote --backend "openai:http://192.0.2.1:9/v1,m" >"$T/out" 2>"$T/err"
has "$T/ev1/results.jsonl" '"remote":true'
expect_rc 0 "$BIN" eval report "$T/ev1"
has "$T/ev1/report.html" "(remote: 192.0.2.1)"
python3 -c "import json,sys; a=json.load(open(sys.argv[1]))['arms'][0]; assert a['remote'] and a['remote_host']=='192.0.2.1'; print('arm ok')" \
    "$T/ev1/report.json" >"$T/check" 2>&1
has "$T/check" "arm ok"

# ---- a model server reached as a remote host ------------------------------------------------------
if [ ! -f "$MODEL" ]; then
    echo "SKIP (loud): $MODEL not found (../shared absent): the served-model part of privacy.sh skipped"
    echo "$pass passed, $fail failed"
    [ $fail -eq 0 ]
    exit
fi
start() { # start LOG ARGS...: openrx serve in the background; echoes its port
    local log=$1; shift
    "$BIN" serve --port 0 "$@" >"$log" 2>&1 &
    echo $! >> "$T/pids"
    for _ in $(seq 1 300); do
        p=$(grep -o 'ready on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.1
    done
}
M=$(start "$T/m.log" -m "$MODEL" -t 1 --audit none)
[ -n "$M" ] || { bad "model server did not start: $(head -c 300 "$T/m.log")"; echo "$pass passed, $fail failed"; exit 1; }
expect_rc 0 "$BIN" "${REC[@]}" --base-url "http://0.0.0.0:$M/v1" --allow-remote --max-tokens 160 --format json \
    --audit "$T/a2.jsonl"
has "$T/out" '"remote": true'
has "$T/out" '"deidentified": true'
expect_rc 0 "$BIN" "${REC[@]}" --base-url "http://0.0.0.0:$M/v1" --allow-remote --max-tokens 160
has "$T/out" "REMOTE MODEL at 0.0.0.0"
# loopback: full detail, not marked remote
expect_rc 0 "$BIN" "${REC[@]}" --base-url "http://127.0.0.1:$M/v1" --max-tokens 160 --format json --audit "$T/a2.jsonl"
has "$T/out" '"remote": false'
has "$T/out" '"deidentified": false'
expect_rc 0 "$BIN" audit verify "$T/a2.jsonl"
# a server whose backend is remote: /v1/recommend says so
S=$(start "$T/s.log" --audit "$T/a3.jsonl" --backend openai --base-url "http://0.0.0.0:$M/v1" --model-name m --allow-remote)
if [ -z "$S" ]; then bad "proxy server did not start: $(head -c 300 "$T/s.log")"
else
    has "$T/s.log" "REMOTE model at 0.0.0.0"
    python3 -c "import json,sys; print(json.dumps({'patient': json.load(open(sys.argv[1])), 'indication': 'atrial fibrillation', 'max_tokens': 160}))" \
        "$P" >"$T/req.json"
    curl -s -H 'Content-Type: application/json' --data-binary @"$T/req.json" "http://127.0.0.1:$S/v1/recommend" >"$T/resp.json"
    python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['privacy']; assert p['remote'] and p['host']=='0.0.0.0' and p['deidentified'] and p['redactions']>=2, p; print('api ok')" \
        "$T/resp.json" >"$T/check" 2>&1
    has "$T/check" "api ok"
    has "$T/a3.jsonl" '"consent":true'
    expect_rc 0 "$BIN" audit verify "$T/a3.jsonl"
    # the clinician page says so (headless Chromium, when installed)
    CHROME=${ORX_CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
    if [ -z "$CHROME" ]; then echo "SKIP (loud): chromium not installed: the page's remote notice not checked"
    else
        FR=$(base64 -w0 <"$T/req.json" | tr '+/' '-_')
        timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T/profile" \
            --virtual-time-budget=30000 --dump-dom "http://127.0.0.1:$S/#autorun=$FR" >"$T/dom.html" 2>/dev/null
        has "$T/dom.html" 'data-state="done"'
        has "$T/dom.html" "Remote model in use (0.0.0.0)"
        grep -q 'id="result-remote" hidden' "$T/dom.html" && bad "the remote notice is hidden" || ok
    fi
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
