#!/usr/bin/env bash
# web.sh — the clinician page in Debian's headless Chromium: `openrx serve` on a random loopback
# port with a KB built from data/labels, the page loaded with an #autorun fragment carrying a
# (trimmed) Synthea FHIR bundle, the rendered DOM checked for the result, and a screenshot saved
# to <build dir>/test-output/web-synthea.png. Also: an openrx-form patient whose medicines
# interact (a coloured finding), and a malformed patient (the error is shown, not a crash).
# Skips loudly (exit 0, "SKIPPED") when chromium is not installed.
# Usage: bash web.sh /path/to/openrx
set -u
BIN=${1:?usage: web.sh /path/to/openrx}
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# ORX_CHROMIUM overrides the browser ("" = pretend it is absent)
CHROME=${ORX_CHROMIUM-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROME" ]; then
    echo "SKIPPED: chromium not installed (apt-get install chromium; scripts/install-deps does)"
    exit 0
fi
T=$(mktemp -d)
OUTDIR="$(cd "$(dirname "$BIN")" && pwd)/test-output"
mkdir -p "$OUTDIR"
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# ---- knowledge base + server ----------------------------------------------------------------
"$BIN" kb build --from "$SRC/data/labels" --out "$T/kb.sqlite" --quiet >/dev/null 2>"$T/kb.err" \
    || { echo "FAIL kb build: $(tail -3 "$T/kb.err")"; exit 1; }
"$BIN" serve --port 0 --kb "$T/kb.sqlite" --data "$SRC/data" --audit none >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
PORT=
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/serve.out")
    [ -n "$PORT" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL serve did not start: $(cat "$T/serve.err")"; exit 1; }
URL="http://127.0.0.1:$PORT"

# ---- the page's files -------------------------------------------------------------------------
for f in /:text/html /index.html:text/html /app.js:text/javascript /app.css:text/css; do
    path=${f%%:*} want=${f#*:}
    ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$URL$path")
    case "$ct" in "200 $want"*) ok "GET $path ($ct)" ;; *) fail "GET $path: '$ct' (want 200 $want)" ;; esac
done
if cmp -s "$T/body" "$SRC/web/app.css"; then ok "embedded app.css = web/app.css"; else fail "embedded app.css differs from web/app.css (rebuild?)"; fi
if grep -qiE 'https?://' "$SRC/web/index.html" "$SRC/web/app.js" "$SRC/web/app.css"; then
    fail "the page refers to an external URL (must work offline): $(grep -oiE 'https?://[^ "]*' "$SRC/web/"* | head -3)"
else ok "no external URLs in web/"; fi

# ---- browser runs -----------------------------------------------------------------------------
# autorun PATIENT_FILE INDICATION → fragment value (base64url of the request JSON)
autorun() { printf '{"patient":%s,"indication":"%s"}' "$(cat "$1")" "$2" | base64 -w0 | tr '+/' '-_'; }
chrome() { # chrome OUT_FLAG URL
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check \
        --hide-scrollbars --user-data-dir="$T/profile" --window-size=1280,1700 \
        --virtual-time-budget=15000 "$1" "$2" 2>>"$T/chrome.err"
}
has() { grep -qF -- "$2" "$1"; }

# 1. Synthea patient (FHIR R4 bundle, evidence mode: no model loaded)
FR=$(autorun "$SRC/tests/fixtures/web/synthea-gayla-ferry.json" "hypertension")
chrome --dump-dom "$URL/#autorun=$FR" >"$T/dom1.html"
if has "$T/dom1.html" 'data-state="done"'; then ok "synthea: page reached state done"
else fail "synthea: state is $(grep -o 'data-state="[a-z]*"' "$T/dom1.html" | head -1); error: $(grep -o 'id="error"[^<]*<' "$T/dom1.html")"; fi
has "$T/dom1.html" "Evidence and safety check — hypertension" && ok "synthea: result title shown" || fail "synthea: no result title"
has "$T/dom1.html" "DRAFT for clinician review - not an order" && ok "synthea: draft notice from the server shown" || fail "synthea: no draft notice"
has "$T/dom1.html" 'id="ev-S1"' && ok "synthea: evidence list rendered" || fail "synthea: no evidence S1"
if tr '\n' ' ' <"$T/dom1.html" | grep -qE 'id="options-table".*<tr data-drug="[^"]+">.*<q>[^<]*[Hh]ypertension[^<]*</q>'; then
    ok "synthea: options table with a drug whose label sentence states hypertension"
else fail "synthea: no options table with a hypertension label sentence"; fi
has "$T/dom1.html" "On the current medicines (" && ok "synthea: findings section rendered" || fail "synthea: no findings section"
has "$T/dom1.html" "7 MedicationRequest" && ok "synthea: bundle summary counts the medicines" || fail "synthea: no bundle summary"
if tr '\n' ' ' <"$T/dom1.html" | grep -qE 'id="fhir-text"[^>]*>\{ *"resourceType": "Bundle".*"resourceType": "DetectedIssue"'; then
    ok "synthea: FHIR Bundle (for Copy as FHIR) present with a DetectedIssue"
else fail "synthea: no FHIR Bundle in the page"; fi
# the Bundle the page copies ("Copy as FHIR"), kept for the FHIR schema validation (fhir_validate.sh)
if [ -n "${ORX_FHIR_OUT:-}" ] && mkdir -p "$ORX_FHIR_OUT"; then
    perl -0777 -ne 'if (m{id="fhir-text"[^>]*>(.*?)</pre>}s) { my $t = $1; $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g;
        $t =~ s/&quot;/"/g; $t =~ s/&#39;/\x27/g; $t =~ s/&nbsp;/ /g; $t =~ s/&amp;/&/g; print $t }' \
        "$T/dom1.html" >"$ORX_FHIR_OUT/cli_web-page-copy-as-fhir.json"
    grep -q '"resourceType": "Bundle"' "$ORX_FHIR_OUT/cli_web-page-copy-as-fhir.json" \
        && ok "synthea: page Bundle saved for validation" || fail "synthea: page Bundle not extracted"
    # the page shows the Bundle /v1/recommend gives for the same request: the same resources
    # (type, medicine, finding text); ids and times are per request
    printf '{"patient":%s,"indication":"hypertension","format":"fhir"}' "$(cat "$SRC/tests/fixtures/web/synthea-gayla-ferry.json")" >"$T/fr.json"
    curl -s -H 'Content-Type: application/json' --data-binary @"$T/fr.json" "$URL/v1/recommend" >"$T/api-fhir.json"
    cp "$T/api-fhir.json" "$ORX_FHIR_OUT/cli_web-v1-recommend-format-fhir.json"
    if command -v node >/dev/null 2>&1; then
        sig='const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
             console.log(b.entry.map(e=>{const r=e.resource;return [r.resourceType,(r.medicationCodeableConcept||{}).text||"",r.detail||"",r.description||""].join("|")}).sort().join("\n"))'
        if [ "$(node -e "$sig" "$ORX_FHIR_OUT/cli_web-page-copy-as-fhir.json")" = "$(node -e "$sig" "$T/api-fhir.json")" ] \
           && [ "$(grep -c '"resourceType"' "$T/api-fhir.json")" -gt 3 ]; then
            ok "synthea: the page's Bundle has the resources of /v1/recommend \"format\":\"fhir\" ($(grep -c '"resourceType"' "$T/api-fhir.json") resources)"
        else fail "synthea: the page's Bundle differs from /v1/recommend's"; fi
    else echo "SKIPPED (loud): node not installed: page Bundle not compared with /v1/recommend's"; fi
fi
chrome --screenshot="$OUTDIR/web-synthea.png" "$URL/#autorun=$FR" >/dev/null
if [ -s "$OUTDIR/web-synthea.png" ] && [ "$(head -c 8 "$OUTDIR/web-synthea.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    ok "screenshot $OUTDIR/web-synthea.png ($(wc -c <"$OUTDIR/web-synthea.png") bytes)"
else fail "no screenshot"; fi

# 2. openrx form patient with interacting medicines → a coloured (tiered) finding
cat >"$T/form.json" <<'JSON'
{"openrx_patient": 1, "id": "web-form-1", "birthDate": "1950-02-03", "sex": "female",
 "labs": [{"kind": "weight", "value": 60, "unit": "kg", "date": "2025-12-01"},
          {"kind": "scr", "value": 1.1, "unit": "mg/dL", "date": "2025-12-01"}],
 "medications": [{"text": "warfarin sodium 5 MG Oral Tablet", "rxnorm": "855332"}, {"text": "ibuprofen 400 mg"}],
 "allergies": [{"text": "penicillin G", "category": "medication"}]}
JSON
chrome --dump-dom "$URL/#autorun=$(autorun "$T/form.json" "atrial fibrillation")" >"$T/dom2.html"
has "$T/dom2.html" 'data-state="done"' && ok "form patient: state done" || fail "form patient: not done"
if grep -qE '<tr data-drug="(apixaban|rivaroxaban|dabigatran etexilate)">' "$T/dom2.html"; then
    ok "form patient: atrial fibrillation options include a label-indicated anticoagulant"
else fail "form patient: no apixaban/rivaroxaban/dabigatran row in the options table"; fi
if grep -qE 'class="finding sev-(major|contraindicated)"' "$T/dom2.html" && grep -qiE 'ibuprofen \+ warfarin|warfarin \+ ibuprofen' "$T/dom2.html"; then
    ok "form patient: warfarin + ibuprofen shown as a major/contraindicated finding"
else fail "form patient: no major warfarin/ibuprofen finding in the page"; fi

# 3. a label-derived finding: clicking its citation (&cite=0) opens the label's own sentence
cat >"$T/renal.json" <<'JSON'
{"openrx_patient": 1, "id": "web-renal-1", "birthDate": "1950-02-03", "sex": "female",
 "labs": [{"kind": "egfr", "value": 32, "unit": "mL/min/{1.73_m2}", "date": "2025-12-01"}],
 "medications": [{"text": "metformin 500 mg"}]}
JSON
chrome --dump-dom "$URL/#autorun=$(autorun "$T/renal.json" "type 2 diabetes")&cite=0" | tr '\n' ' ' >"$T/dom4.html"
quote=$(grep -oE '<div id="quote-text" class="quote">[^<]*' "$T/dom4.html" | sed 's/.*class="quote">//')
if grep -qE '<dialog id="quote-dialog" open' "$T/dom4.html" && [[ "$quote" == *eGFR* ]]; then
    ok "renal finding: citation click shows the label sentence ('${quote:0:60}...')"
else fail "renal finding: citation dialog not open or without the label sentence: '$quote'"; fi

# 4. the short form (age, sex, weight, height, creatinine, medicines, allergies) → openrx patient JSON
FORM='{"form":{"age":"76","sex":"male","weight":"70","height":"175","scr":"1.2","scr_unit":"mg/dL","meds":["warfarin 5 mg orally once daily","ibuprofen 400 mg"],"allergies":["penicillin"]},"indication":"pain"}'
chrome --dump-dom "$URL/#autorun=$(printf '%s' "$FORM" | base64 -w0 | tr '+/' '-_')" | tr '\n' ' ' >"$T/dom5.html"
if has "$T/dom5.html" 'data-state="done"' && has "$T/dom5.html" "Patient form-patient" && \
   grep -qE 'class="finding sev-(major|contraindicated)"' "$T/dom5.html"; then
    ok "short form: submitted as an openrx patient, major finding shown"
else fail "short form: $(grep -o 'data-state="[a-z]*"' "$T/dom5.html" | head -1) $(grep -oE 'id="error"[^<]*<' "$T/dom5.html")"; fi

# 5. malformed patient → the server's 400 message shown in the page
printf '{"openrx_patient": 1, "labs": [{"kind": "weight", "value": -3, "unit": "kg"}]}' >"$T/bad.json"
chrome --dump-dom "$URL/#autorun=$(autorun "$T/bad.json" "pain")" >"$T/dom3.html"
if has "$T/dom3.html" 'data-state="error"' && has "$T/dom3.html" "HTTP 400"; then ok "bad patient: HTTP 400 shown as an error"
else fail "bad patient: no error shown ($(grep -o 'data-state="[a-z]*"' "$T/dom3.html" | head -1))"; fi
kill -0 "$SPID" 2>/dev/null && ok "server still running" || fail "server died: $(tail -5 "$T/serve.err")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s); chrome log tail:"; tail -5 "$T/chrome.err"; exit 1; }
echo "all web checks passed"
