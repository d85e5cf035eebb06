#!/usr/bin/env bash
# tests/cli/recommend.sh — `openrx recommend` from the command line: evidence mode, formats,
# exit codes and messages for bad input, the audit record. Usage: recommend.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "rc $rc != $want: $*: $(head -c 300 "$T/err")"; }
has() { grep -q -- "$2" "$1" && ok || bad "'$2' not in $1: $(head -c 300 "$1")"; }

"$BIN" kb build --from "$SRC/data/labels" --out "$T/kb.sqlite" >/dev/null 2>&1 || { echo "kb build failed"; exit 1; }
P="$SRC/examples/patients/demo-patient.json"
COMMON=(--patient "$P" --as-of 2026-01-01 --indication "atrial fibrillation, stroke prevention" --kb "$T/kb.sqlite")

# evidence mode (no model): labelled, with evidence and findings; audit record appended
expect_rc 0 "$BIN" recommend "${COMMON[@]}" --audit "$T/audit.jsonl"
has "$T/out" "EVIDENCE MODE"
has "$T/out" "DRAFT for clinician review"
has "$T/out" "\[S1\]"
[ "$(wc -l < "$T/audit.jsonl")" -eq 1 ] && ok || bad "audit should have 1 record"
has "$T/audit.jsonl" '"mode":"evidence"'
# the options table: the label-indicated drugs with their sentences, the label dose, findings by tier
has "$T/out" "drug(s) whose FDA label states this indication"
has "$T/out" ". apixaban"
has "$T/out" "indication: \"ELIQUIS"
has "$T/out" "label dose: \""
has "$T/out" "channel: dosing"
# JSON and FHIR
expect_rc 0 "$BIN" recommend "${COMMON[@]}" --no-audit --format json
has "$T/out" '"options": {'
has "$T/out" '"label_dose": {'
has "$T/out" '"channel": "interaction"' 
has "$T/out" '"mode": "evidence"'
has "$T/out" '"evidence": \['
expect_rc 0 "$BIN" recommend "${COMMON[@]}" --no-audit --format fhir
has "$T/out" '"resourceType": "Bundle"'
keep_fhir() { [ -n "${ORX_FHIR_OUT:-}" ] && mkdir -p "$ORX_FHIR_OUT" && cp "$T/out" "$ORX_FHIR_OUT/cli_recommend-$1.json"; }
keep_fhir demo-af
# more FHIR Bundles for the schema validation: Synthea patients, a patient form without an id
for pi in "synthea-kermit-trantow:hypertension" "synthea-stephen-mclaughlin:type 2 diabetes"; do
    expect_rc 0 "$BIN" recommend --patient "$SRC/tests/fixtures/clinical/${pi%%:*}.json" --as-of 2026-01-01 \
        --indication "${pi#*:}" --kb "$T/kb.sqlite" --no-audit --format fhir
    has "$T/out" '"resourceType": "Provenance"'
    keep_fhir "${pi%%:*}"
done
printf '{"openrx_patient": 1, "birthDate": "1948-05-01", "sex": "male", "medications": [{"text": "simvastatin 40 mg"}, {"text": "clarithromycin 500 mg"}]}' >"$T/noid.json"
expect_rc 0 "$BIN" recommend --patient "$T/noid.json" --as-of 2026-01-01 --indication "hypertension" --kb "$T/kb.sqlite" --no-audit --format fhir
has "$T/out" '"resourceType": "Patient"'
keep_fhir no-id-form
has "$T/out" '"DetectedIssue"'
has "$T/out" '"intent": "option"'

# --fail-on: the demo patient's current metformin gets the label's continuation statement
# ("assess the benefit and risk of continuing", moderate) at eGFR 32, not the initiation one
expect_rc 3 "$BIN" recommend "${COMMON[@]}" --no-audit --fail-on moderate
expect_rc 0 "$BIN" recommend "${COMMON[@]}" --no-audit --fail-on major
# bad usage and input
expect_rc 2 "$BIN" recommend --patient "$P" --kb "$T/kb.sqlite"
has "$T/err" "indication"
expect_rc 2 "$BIN" recommend --patient "$P" --kb "$T/kb.sqlite" --indication "   " --no-audit
has "$T/err" "only spaces"
expect_rc 2 "$BIN" recommend "${COMMON[@]}" --no-audit --max-options 0
expect_rc 2 "$BIN" recommend "${COMMON[@]}" --no-audit --ctx 12
expect_rc 2 "$BIN" recommend --patient "$P" --kb "$T/kb.sqlite" --batch "$T/q.txt" --each-problem
# batch and each-problem: one JSON line per indication / active problem (evidence mode)
printf 'hypertension\n\n# a comment\nGERD\nmajor depressive disorder\n' > "$T/q.txt"
expect_rc 0 "$BIN" recommend --patient "$P" --as-of 2026-01-01 --kb "$T/kb.sqlite" --batch "$T/q.txt"
[ "$(wc -l < "$T/out")" -eq 3 ] && ok || bad "--batch: want 3 JSON lines, got $(wc -l < "$T/out")"
has "$T/out" '"indication":"GERD"'
expect_rc 0 "$BIN" recommend --patient "$P" --as-of 2026-01-01 --kb "$T/kb.sqlite" --each-problem
[ "$(wc -l < "$T/out")" -eq 7 ] && ok || bad "--each-problem: want 7 JSON lines (the demo's active problems), got $(wc -l < "$T/out")"
has "$T/out" '"problem":"Essential hypertension"'
# kb indications: the labels that state an indication, quoted
expect_rc 0 "$BIN" kb indications --kb "$T/kb.sqlite" "AF"
has "$T/out" "warfarin"
has "$T/out" "#34067-9"
expect_rc 2 "$BIN" kb indications --kb "$T/kb.sqlite" "  "
expect_rc 2 "$BIN" recommend "${COMMON[@]}" --no-audit --format xml
expect_rc 2 "$BIN" recommend "${COMMON[@]}" --no-audit -m "$T/missing.gguf"
has "$T/err" "missing.gguf"
expect_rc 2 "$BIN" recommend --patient "$T/nope.json" --indication x --no-audit
# a local model: the audit record names the model file by its SHA-256 (read only when auditing);
# this synthetic 512-token model cannot hold the prompt, so both runs stop with exit 2
"$BIN" model synth --shape mini --type Q8_0 -o "$T/mini.gguf" >/dev/null 2>&1 || bad "model synth mini"
expect_rc 2 "$BIN" recommend "${COMMON[@]}" -m "$T/mini.gguf" -t 1 --audit "$T/audit-model.jsonl"
has "$T/err" "context of 512 tokens"
want=$(sha256sum "$T/mini.gguf" | cut -d' ' -f1)
has "$T/audit-model.jsonl" "\"model_sha256\":\"$want\""
cd "$T" && expect_rc 2 "$BIN" recommend "${COMMON[@]}" -m "$T/mini.gguf" -t 1 --no-audit; cd - >/dev/null
[ ! -e "$T/openrx-audit.jsonl" ] && ok || bad "--no-audit wrote openrx-audit.jsonl"
echo '{"resourceType": "Bundle", "entry": [' > "$T/trunc.json"
expect_rc 2 "$BIN" recommend --patient "$T/trunc.json" --indication x --no-audit
has "$T/err" "trunc.json:"
# an unreachable server: runtime failure (1), and the audit log says what happened
expect_rc 1 "$BIN" recommend "${COMMON[@]}" --audit "$T/audit2.jsonl" --backend openai --base-url http://127.0.0.1:1/v1 --model-name x --timeout 3
has "$T/audit2.jsonl" '"status":"network error"'
# the API key comes from a named environment variable, never the command line
expect_rc 2 "$BIN" recommend "${COMMON[@]}" --no-audit --backend openai --base-url http://127.0.0.1:1/v1 --model-name x --api-key-env ORX_TEST_UNSET_KEY_VAR
has "$T/err" "ORX_TEST_UNSET_KEY_VAR"
expect_rc 0 "$BIN" recommend --help
has "$T/out" "EVIDENCE MODE"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
