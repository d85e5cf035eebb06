#!/usr/bin/env bash
# tests/cli/audit.sh — `openrx audit verify|show` on logs written by recommend and by serve (CDS
# Hooks feedback): an intact chain exits 0; an edited record exits 1 naming its line; a log cut
# at the end passes the chain but fails the anchor kept from before; bad usage and an unreadable
# file exit 2. Usage: audit.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "rc $rc != $want: $*: $(head -c 300 "$T/err")"; }
has() { grep -q -- "$2" "$1" && ok || bad "'$2' not in $1: $(head -c 300 "$1")"; }

P="$SRC/examples/patients/demo-patient.json"
L="$T/audit.jsonl"
for ind in "atrial fibrillation" "hypertension" "type 2 diabetes"; do
  expect_rc 0 "$BIN" recommend --patient "$P" --as-of 2026-01-01 --indication "$ind" --audit "$L"
done
# serve appends CDS Hooks feedback to the same chain
"$BIN" serve --port 0 --audit "$L" >"$T/serve.out" 2>"$T/serve.err" &
SRV=$!
for _ in $(seq 100); do grep -q "ready on" "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*ready on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$T/serve.out")
curl -s -o /dev/null -H 'Content-Type: application/json' \
  -d '{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-01-01T00:00:00Z"}]}' \
  "http://127.0.0.1:$PORT/cds-services/openrx-order-sign/feedback" && ok || bad "feedback POST"
kill -TERM "$SRV"; wait "$SRV" 2>/dev/null; SRV=
[ "$(wc -l < "$L")" -eq 4 ] && ok || bad "expected 4 records, got $(wc -l < "$L")"
[ "$(stat -c %a "$L")" = 600 ] && ok || bad "audit log mode $(stat -c %a "$L") is not 600"

expect_rc 0 "$BIN" audit verify "$L"
has "$T/out" "chain intact: 4 records"
expect_rc 0 "$BIN" audit verify --json "$L"
HEAD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["head_sha256"])' "$T/out")
[ ${#HEAD} -eq 64 ] && ok || bad "no head hash"
expect_rc 0 "$BIN" audit show "$L"
has "$T/out" "hypertension"
has "$T/out" "cds-feedback"
expect_rc 0 "$BIN" audit show --json --last 2 "$L"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")" = 2 ] && ok || bad "--last 2"
expect_rc 0 "$BIN" audit show --seq 2 "$L"
has "$T/out" '"seq": 2'

# an edited record: exit 1, the first broken record named
cp "$L" "$T/edited.jsonl"
sed -i '2s/hypertension/hypotension/' "$T/edited.jsonl"
expect_rc 1 "$BIN" audit verify "$T/edited.jsonl"
has "$T/err" "edited.jsonl:2: BROKEN"
has "$T/out" "first broken record: line 2"
expect_rc 1 "$BIN" audit verify --json "$T/edited.jsonl"
has "$T/out" '"line": 2'
# a deleted record
sed '3d' "$L" > "$T/deleted.jsonl"
expect_rc 1 "$BIN" audit verify "$T/deleted.jsonl"
has "$T/err" "deleted.jsonl:3: BROKEN"
# cut at the end: the chain holds, the anchor does not
head -2 "$L" > "$T/cut.jsonl"
expect_rc 0 "$BIN" audit verify "$T/cut.jsonl"
expect_rc 1 "$BIN" audit verify --anchor "$HEAD" "$T/cut.jsonl"
expect_rc 0 "$BIN" audit verify --anchor "$HEAD" "$L"
# usage and unreadable
expect_rc 2 "$BIN" audit verify "$T/missing.jsonl"
expect_rc 2 "$BIN" audit verify --anchor nothex "$L"
expect_rc 2 "$BIN" audit frobnicate "$L"
expect_rc 2 "$BIN" audit verify

echo "audit.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
