#!/usr/bin/env bash
# cds_fhir_server.sh — CDS Hooks requests without prefetch, answered from the EHR's FHIR server
# (`fhirServer` + `fhirAuthorization` bearer token), against a real third-party FHIR R4 server:
# Medplum's FHIR router with its in-memory repository (npm @medplum/fhir-router 3.2.24, pinned by
# tests/fhir-server/package-lock.json, served by tests/fhir-server/server.js), loaded with three
# Synthea patient bundles (transactions) from ../shared/data/synthea-r4-smart-sample.
#   - order-sign and order-select without prefetch give the same cards as the same requests with
#     the prefetch an EHR builds from GET /cds-services' templates on that server, and the cards
#     show what only the record holds (Malik Ward's warfarin: a major interaction with ibuprofen);
#   - the bearer token is enforced by the server (401 without it): every request openrx made
#     carried it; a wrong token gives a clear 502 naming the 401 and never the token;
#   - paging: the server returns at most 2 entries a page; openrx follows "next" (_offset) links;
#   - an unreachable server, a silent one (the --fhir-timeout deadline), truncated JSON, a
#     non-Bundle search answer, a next-link loop (page cap), a next link to another host, HTTP 500
#     and entries without resources give clear errors (502/504, code fhir_server_*), never a
#     crash; bad fhirServer / patientId / token_type give 400; neither prefetch nor fhirServer 412.
# Installs the server with `npm ci` in tests/fhir-server when missing. Skips (exit 77) without
# ../shared, node/npm, or the npm registry.
# Usage: cds_fhir_server.sh /path/to/openrx
set -u
BIN=$1
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${ORX_SHARED_DIR:-$SRC/../shared}
BUNDLES=$SHARED/data/synthea-r4-smart-sample/bundles
DIR=$SRC/tests/fhir-server
if [ ! -d "$BUNDLES" ]; then echo "SKIPPED: $BUNDLES not found (../shared): CDS Hooks fhirServer reads NOT tested"; exit 77; fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: node/npm not installed (scripts/install-deps installs nodejs npm): CDS Hooks fhirServer reads NOT tested"; exit 77
fi
if [ ! -f "$DIR/node_modules/@medplum/fhir-router/package.json" ]; then
    if ! (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) >/tmp/orx-npm-fs.$$ 2>&1; then
        echo "SKIPPED: npm ci in tests/fhir-server failed (offline?): CDS Hooks fhirServer reads NOT tested"
        tail -5 /tmp/orx-npm-fs.$$; rm -f /tmp/orx-npm-fs.$$
        exit 77
    fi
    rm -f /tmp/orx-npm-fs.$$
fi
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
has() { grep -q -- "$2" "$1" && ok || bad "'$2' not in $1: $(head -c 400 "$1")"; }
lacks() { grep -q -- "$2" "$1" && bad "'$2' should not be in $1: $(head -c 400 "$1")" || ok; }
# wait_line FILE PID REGEX: the first match of a sed -n 's/REGEX/\1/p' in FILE (30 s at most)
wait_line() {
    local v=
    for _ in $(seq 1 300); do
        v=$(sed -n "$3" "$1" | head -1)
        [ -n "$v" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "$v"
}
TOKEN="tok-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"

# ---- the FHIR server, loaded with three Synthea patients --------------------------------------
node "$DIR/server.js" --token "$TOKEN" --max-count 2 --log "$T/fhir.log" >"$T/fhir.out" 2>"$T/fhir.err" &
PIDS+=($!)
FHIR=$(wait_line "$T/fhir.out" $! 's/^listening \(http:[^ ]*\)$/\1/p')
[ -n "$FHIR" ] || { echo "FAIL: the FHIR server did not start: $(tail -5 "$T/fhir.err")"; exit 1; }
node "$DIR/misbehave.js" >"$T/bad.out" 2>"$T/bad.err" &
PIDS+=($!)
BAD=$(wait_line "$T/bad.out" $! 's/^listening \(http:[^ ]*\)$/\1/p')
[ -n "$BAD" ] || { echo "FAIL: misbehave.js did not start: $(tail -5 "$T/bad.err")"; exit 1; }
declare -A PID_OF
for who in Malik_Ward Gayla_Ferry Reyna_Ziemann; do
    f=$(ls "$BUNDLES"/"$who"_*.json 2>/dev/null | head -1)
    [ -n "$f" ] || { echo "SKIPPED: $who's bundle not in $BUNDLES"; exit 77; }
    code=$(curl -s -o "$T/tx-$who.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/fhir+json' --data-binary @"$f" "$FHIR/")
    # the server's id for the patient: the Patient entry's location ("Patient/<id>") in the response
    id=$(node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
        const e=(b.entry||[]).find(e=>/^Patient\//.test(e.response&&e.response.location||""));
        if(e) console.log(e.response.location.split("/")[1]);' "$T/tx-$who.json")
    [ "$code" = 200 ] && [ -n "$id" ] && ok || { bad "loading $who: HTTP $code $(head -c 300 "$T/tx-$who.json")"; continue; }
    PID_OF[$who]=$id
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$FHIR/Patient/${PID_OF[Malik_Ward]}")
[ "$code" = 401 ] && ok || bad "the FHIR server answered $code without the token (should enforce it: 401)"

# ---- openrx ----------------------------------------------------------------------------------
"$BIN" serve --port 0 --data "$SRC/data" --audit none --fhir-timeout 20 >"$T/serve.out" 2>"$T/serve.err" &
PIDS+=($!)
PORT=$(wait_line "$T/serve.out" $! 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
[ -n "$PORT" ] || { echo "FAIL: serve did not start: $(cat "$T/serve.err")"; exit 1; }
URL="http://127.0.0.1:$PORT"
# a second one with a 1 s deadline for the silent server
"$BIN" serve --port 0 --data "$SRC/data" --audit none --fhir-timeout 1 >"$T/serve1.out" 2>"$T/serve1.err" &
PIDS+=($!)
PORT1=$(wait_line "$T/serve1.out" $! 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
[ -n "$PORT1" ] || { echo "FAIL: serve --fhir-timeout 1 did not start: $(cat "$T/serve1.err")"; exit 1; }
curl -s "$URL/cds-services" >"$T/disc.json"
for key in patient medications conditions allergies scr weight height potassium inr alt ast; do
    node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
        process.exit(d.services.every(s=>s.prefetch&&s.prefetch[process.argv[2]])?0:1)' "$T/disc.json" "$key" \
        && ok || bad "discovery: no prefetch template '$key'"
done

# request HOOK PATIENT-ID DRAFTS(JSON array of drug texts) [FHIRSERVER TOKEN|-] [PREFETCH-FILE]
request() {
    node -e '
const [hook, pid, drugs, server, token, pf] = process.argv.slice(1);
const drafts = JSON.parse(drugs).map((t, i) => ({resourceType: "MedicationRequest", id: "draft-" + (i + 1), status: "draft",
  intent: "order", subject: {reference: "Patient/" + pid}, medicationCodeableConcept: {text: t}}));
const ctx = {userId: "Practitioner/example", patientId: pid, draftOrders: {resourceType: "Bundle", type: "collection",
  entry: drafts.map((r) => ({resource: r}))}};
if (hook === "order-select") ctx.selections = ["MedicationRequest/draft-1"];
const req = {hook, hookInstance: "5f3c2a10-8a6e-4c1e-9d4b-7a1e0c3b2d11", context: ctx};
if (server && server !== "-") {
  req.fhirServer = server;
  if (token && token !== "-") req.fhirAuthorization = {access_token: token, token_type: "Bearer", expires_in: 300,
    scope: "patient/Patient.read patient/MedicationRequest.read patient/Condition.read patient/AllergyIntolerance.read patient/Observation.read",
    subject: "openrx"};
}
if (pf) req.prefetch = JSON.parse(require("fs").readFileSync(pf, "utf8"));
process.stdout.write(JSON.stringify(req));' "$@"
}
# post SERVICE BODY-FILE OUT → HTTP status
post() { curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$2" "${POST_URL:-$URL}/cds-services/$1"; }
# the cards of a response, one JSON line each, sorted (same hookInstance → same card uuids)
cards() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    for (const c of (r.cards||[]).map(c=>JSON.stringify(c)).sort()) console.log(c);' "$1"; }

# ---- without prefetch == with prefetch, per patient and hook -----------------------------------
check_same() { # NAME HOOK WHO DRUGS
    local name=$1 hook=$2 who=$3 drugs=$4 pid=${PID_OF[$3]:-}
    [ -n "$pid" ] || { bad "$name: $who not loaded"; return; }
    request "$hook" "$pid" "$drugs" "$FHIR" "$TOKEN" >"$T/$name-fetch.req"
    : >"$T/fhir.log"
    local s1 s2
    s1=$(post "openrx-$hook" "$T/$name-fetch.req" "$T/$name-fetch.json")
    cp "$T/fhir.log" "$T/$name-fetch.log"
    node "$DIR/prefetch.js" "$T/disc.json" "openrx-$hook" "$FHIR" "$TOKEN" "$pid" >"$T/$name.prefetch" 2>"$T/$name.pferr" \
        || { bad "$name: prefetch.js: $(cat "$T/$name.pferr")"; return; }
    request "$hook" "$pid" "$drugs" - - "$T/$name.prefetch" >"$T/$name-prefetch.req"
    s2=$(post "openrx-$hook" "$T/$name-prefetch.req" "$T/$name-prefetch.json")
    [ "$s1" = 200 ] && ok || bad "$name without prefetch: HTTP $s1 $(head -c 400 "$T/$name-fetch.json")"
    [ "$s2" = 200 ] && ok || bad "$name with prefetch: HTTP $s2 $(head -c 400 "$T/$name-prefetch.json")"
    cards "$T/$name-fetch.json" >"$T/$name-fetch.cards"
    cards "$T/$name-prefetch.json" >"$T/$name-prefetch.cards"
    local n
    n=$(wc -l <"$T/$name-fetch.cards")
    [ "$n" -gt 0 ] && ok || bad "$name: no cards from the fetched record"
    cmp -s "$T/$name-fetch.cards" "$T/$name-prefetch.cards" && ok \
        || bad "$name: cards differ (fetched vs prefetched): $(diff "$T/$name-fetch.cards" "$T/$name-prefetch.cards" | head -c 600)"
    # every request openrx made carried the bearer token
    local reqs
    reqs=$(grep -c '^GET ' "$T/$name-fetch.log")
    [ "$reqs" -ge 5 ] && ok || bad "$name: only $reqs GETs reached the FHIR server"
    grep -v ' auth=ok$' "$T/$name-fetch.log" >"$T/$name-noauth.log"
    [ ! -s "$T/$name-noauth.log" ] && ok || bad "$name: requests without the token: $(head -3 "$T/$name-noauth.log")"
    echo "ok   $name: $n card(s), fetched = prefetched, $reqs FHIR requests, all with the bearer token"
}
check_same malik-sign order-sign Malik_Ward '["ibuprofen 400 MG Oral Tablet", "clarithromycin 500 MG Oral Tablet"]'
check_same gayla-sign order-sign Gayla_Ferry '["ibuprofen 400 MG Oral Tablet", "warfarin sodium 5 MG Oral Tablet"]'
check_same reyna-select order-select Reyna_Ziemann '["clarithromycin 500 MG Oral Tablet", "ibuprofen 400 MG Oral Tablet"]'
# the fetched record is the patient's: Malik Ward's warfarin (in MedicationRequests, 2 a page)
has "$T/malik-sign-fetch.json" '"indicator":"critical"'
grep -i 'warfarin' "$T/malik-sign-fetch.cards" | grep -qi 'ibuprofen' && ok || bad "no ibuprofen + warfarin card for Malik Ward"
# paging: the active MedicationRequests (4) came in pages of 2, the second by the "next" link
grep -q '^GET /MedicationRequest?.*_offset=2.* auth=ok$' "$T/malik-sign-fetch.log" && ok \
    || bad "the second page of MedicationRequests was not read: $(grep MedicationRequest "$T/malik-sign-fetch.log")"
# the latest Observation only: one page of _count=1, sorted by date descending
grep -q '^GET /Observation?.*code=http://loinc.org%7C29463-7.*_sort=-date.*_count=1' "$T/malik-sign-fetch.log" && ok \
    || bad "no latest-weight query: $(grep Observation "$T/malik-sign-fetch.log" | head -3)"
grep '^GET /Observation?.*29463-7' "$T/malik-sign-fetch.log" | grep -q '_offset=[1-9]' \
    && bad "a latest-only Observation query was paged" || ok
# the same request with only the Patient prefetched (no fhirServer) misses the warfarin card
node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.stdout.write(JSON.stringify({patient:p.patient}))' \
    "$T/malik-sign.prefetch" >"$T/patient-only.prefetch"
request order-sign "${PID_OF[Malik_Ward]}" '["ibuprofen 400 MG Oral Tablet"]' - - "$T/patient-only.prefetch" >"$T/po.req"
[ "$(post openrx-order-sign "$T/po.req" "$T/po.json")" = 200 ] && ok || bad "patient-only prefetch: $(head -c 300 "$T/po.json")"
lacks "$T/po.json" 'warfarin'
# an incomplete prefetch (Patient only) plus fhirServer: the rest is read from the server
request order-sign "${PID_OF[Malik_Ward]}" '["ibuprofen 400 MG Oral Tablet"]' "$FHIR" "$TOKEN" "$T/patient-only.prefetch" >"$T/pi.req"
: >"$T/fhir.log"
[ "$(post openrx-order-sign "$T/pi.req" "$T/pi.json")" = 200 ] && ok || bad "incomplete prefetch: $(head -c 300 "$T/pi.json")"
has "$T/pi.json" 'warfarin'
grep -q '^GET /Patient/' "$T/fhir.log" && bad "the prefetched Patient was read again" || ok

# ---- the token: a wrong one is refused by the server, and never shown -------------------------
request order-sign "${PID_OF[Malik_Ward]}" '["ibuprofen 400 MG Oral Tablet"]' "$FHIR" "wrong-$TOKEN" >"$T/wt.req"
[ "$(post openrx-order-sign "$T/wt.req" "$T/wt.json")" = 502 ] && ok || bad "wrong token: $(head -c 300 "$T/wt.json")"
has "$T/wt.json" 'HTTP 401'
has "$T/wt.json" 'access token was not accepted'
has "$T/wt.json" '"code":"fhir_server_error"'
lacks "$T/wt.json" "$TOKEN"
request order-sign "${PID_OF[Malik_Ward]}" '["ibuprofen 400 MG Oral Tablet"]' "$FHIR" - >"$T/nt.req"
[ "$(post openrx-order-sign "$T/nt.req" "$T/nt.json")" = 502 ] && ok || bad "no token: $(head -c 300 "$T/nt.json")"
has "$T/nt.json" 'HTTP 401'

# ---- broken servers: clear errors, within the deadline, the service still up -------------------
expect() { # NAME BASE STATUS CODE TEXT
    request order-sign p1 '["ibuprofen 400 MG Oral Tablet"]' "$2" "$TOKEN" >"$T/$1.req"
    local t0 t1 s
    t0=$(date +%s%N)
    s=$(post openrx-order-sign "$T/$1.req" "$T/$1.json")
    t1=$(date +%s%N)
    [ "$s" = "$3" ] && ok || bad "$1: HTTP $s, want $3: $(head -c 300 "$T/$1.json")"
    [ -z "$4" ] || has "$T/$1.json" "\"code\":\"$4\""
    has "$T/$1.json" "$5"
    lacks "$T/$1.json" "$TOKEN"
    echo "ok   $1: HTTP $s in $(( (t1 - t0) / 1000000 )) ms: $(node -e 'try{console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).error.message.slice(0,150))}catch(e){console.log("?")}' "$T/$1.json")"
    LAST_MS=$(( (t1 - t0) / 1000000 ))
}
expect unreachable "http://127.0.0.1:1" 502 fhir_server_error 'fhirServer GET Patient/p1'
POST_URL="http://127.0.0.1:$PORT1" expect slow "$BAD/slow" 504 fhir_server_timeout 'deadline (1 s'
[ "$LAST_MS" -lt 3000 ] && ok || bad "the silent server held the request ${LAST_MS} ms (deadline 1 s)"
expect garbage "$BAD/garbage" 502 fhir_server_error 'invalid JSON'
expect notbundle "$BAD/notbundle" 502 fhir_server_error 'expected a'
expect loop "$BAD/loop" 502 fhir_server_error 'page cap'
expect foreign "$BAD/foreign" 502 fhir_server_error 'leaves fhirServer'
expect error500 "$BAD/error500" 502 fhir_server_error 'HTTP 500: database unavailable'
expect badentry "$BAD/badentry" 502 fhir_server_error 'has no resource object'
expect ftp "ftp://127.0.0.1/fhir" 400 "" 'http:// or https://'
expect spaces "http://127.0.0.1/a b" 400 "" 'not allowed in a FHIR base URL'
request order-sign '../Patient/x' '["ibuprofen 400 MG Oral Tablet"]' "$FHIR" "$TOKEN" >"$T/badpid.req"
[ "$(post openrx-order-sign "$T/badpid.req" "$T/badpid.json")" = 400 ] && ok || bad "bad patientId: $(head -c 300 "$T/badpid.json")"
has "$T/badpid.json" 'context.patientId'
node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); r.fhirAuthorization.token_type="MAC";
    process.stdout.write(JSON.stringify(r))' "$T/malik-sign-fetch.req" >"$T/mac.req"
[ "$(post openrx-order-sign "$T/mac.req" "$T/mac.json")" = 400 ] && ok || bad "token_type MAC: $(head -c 300 "$T/mac.json")"
has "$T/mac.json" 'Bearer'
# neither prefetch nor fhirServer: 412 as before
request order-sign p1 '["ibuprofen 400 MG Oral Tablet"]' >"$T/none.req"
[ "$(post openrx-order-sign "$T/none.req" "$T/none.json")" = 412 ] && ok || bad "no prefetch, no fhirServer: $(head -c 300 "$T/none.json")"
has "$T/none.json" '"code":"prefetch_missing"'
# ---- a silent FHIR server holds worker threads, never the event loops ---------------------------
# two event-loop threads and four requests hanging on misbehave.js's silent server (deadline 4 s):
# /health and a fully prefetched CDS request are still answered at once
"$BIN" serve --port 0 --data "$SRC/data" --audit none --http-threads 2 --fhir-timeout 4 >"$T/serve3.out" 2>"$T/serve3.err" &
PIDS+=($!)
PORT3=$(wait_line "$T/serve3.out" $! 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
[ -n "$PORT3" ] || { echo "FAIL: serve --http-threads 2 did not start: $(cat "$T/serve3.err")"; exit 1; }
request order-sign p1 '["ibuprofen 400 MG Oral Tablet"]' "$BAD/slow" "$TOKEN" >"$T/hang.req"
HANG=()
for i in 1 2 3 4; do
    curl -s -o "$T/hang$i.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/hang.req" \
        "http://127.0.0.1:$PORT3/cds-services/openrx-order-sign" >"$T/hang$i.code" &
    HANG+=($!)
done
sleep 0.5
code=$(curl -s -o "$T/h3.json" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT3/health")
[ "$code" = 200 ] && ok || bad "/health while four CDS requests wait on a silent FHIR server: HTTP $code (the event loops are held)"
code=$(curl -s -o "$T/pf3.json" -w '%{http_code}' --max-time 2 -H 'Content-Type: application/json' \
    --data-binary @"$T/malik-sign-prefetch.req" "http://127.0.0.1:$PORT3/cds-services/openrx-order-sign")
[ "$code" = 200 ] && ok || bad "a prefetched CDS request while four wait on a silent FHIR server: HTTP $code"
cmp -s <(cards "$T/pf3.json") "$T/malik-sign-prefetch.cards" && ok || bad "its cards differ from the same request's before"
wait "${HANG[@]}"
for i in 1 2 3 4; do
    [ "$(cat "$T/hang$i.code")" = 504 ] && ok || bad "request $i on the silent server: HTTP $(cat "$T/hang$i.code"), want 504"
done
has "$T/hang1.json" '"code":"fhir_server_timeout"'

# ---- --fhir-allow: only the named FHIR server is read; others get 403 before any request -------
"$BIN" serve --port 0 --data "$SRC/data" --audit none --fhir-allow "$FHIR/" >"$T/serve2.out" 2>"$T/serve2.err" &
PIDS+=($!)
PORT2=$(wait_line "$T/serve2.out" $! 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
[ -n "$PORT2" ] || { echo "FAIL: serve --fhir-allow did not start: $(cat "$T/serve2.err")"; exit 1; }
# misbehave.js's garbage would be a 502 had it been read
POST_URL="http://127.0.0.1:$PORT2" expect notallowed "$BAD/garbage" 403 fhir_server_not_allowed 'not one of the FHIR servers'
POST_URL="http://127.0.0.1:$PORT2" expect dotdot "$FHIR/../x" 403 fhir_server_not_allowed '--fhir-allow'
: >"$T/fhir.log"
[ "$(POST_URL="http://127.0.0.1:$PORT2" post openrx-order-sign "$T/malik-sign-fetch.req" "$T/allowed.json")" = 200 ] && ok \
    || bad "--fhir-allow \$FHIR: the allowed server: $(head -c 300 "$T/allowed.json")"
has "$T/allowed.json" 'warfarin'
grep -q '^GET /Patient/' "$T/fhir.log" && ok || bad "--fhir-allow: the allowed server was not read"
grep -q 'may name any fhirServer' "$T/serve.err" && ok || bad "serve without --fhir-allow did not say that any fhirServer is read"
grep -q 'may name any fhirServer' "$T/serve2.err" && bad "serve --fhir-allow still says any fhirServer is read" || ok
"$BIN" serve --port 0 --audit none --fhir-allow "ftp://ehr/fhir" >/dev/null 2>"$T/allow-bad.err"
[ $? -eq 2 ] && grep -q -- "--fhir-allow: 'ftp://ehr/fhir'" "$T/allow-bad.err" && ok \
    || bad "--fhir-allow ftp://: want exit 2 and a message: $(cat "$T/allow-bad.err")"
# the service is still up, and never printed the token
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && ok || bad "/health after the broken servers"
lacks "$T/serve.err" "$TOKEN"
lacks "$T/serve.out" "$TOKEN"
kill -0 "${PIDS[2]}" 2>/dev/null && kill -0 "${PIDS[3]}" 2>/dev/null && ok || bad "openrx serve died"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
