#!/usr/bin/env bash
# bench/server.sh — load on `openrx serve` with wrk (Debian's; installed here if missing, never
# in CI): C concurrent keep-alive connections for D on
#   POST /v1/check                       (checker: warfarin patient + proposed ibuprofen → 1 major finding)
#   GET  /cds-services                   (CDS Hooks discovery)
#   POST /cds-services/openrx-order-sign (CDS Hooks: prefetch with warfarin, draft ibuprofen → 1 card)
# and prints requests/s, p50/p99 latency, socket errors and non-2xx answers per endpoint.
# Goal (issue 9): 0 errors, p99 < 50 ms for the checker at 200 connections for 60 s.
# Usage: bench/server.sh [path/to/openrx] [-d 60s] [-c 200] [-t WRK_THREADS]
set -euo pipefail
BIN=$(realpath "${1:-build/openrx}")
[ $# -gt 0 ] && shift
DUR=60s CONN=200 WT=2
while [ $# -gt 0 ]; do
    case "$1" in
    -d) DUR=$2; shift 2 ;;
    -c) CONN=$2; shift 2 ;;
    -t) WT=$2; shift 2 ;;
    *) echo "usage: bench/server.sh [openrx] [-d 60s] [-c 200] [-t threads]" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "bench/server.sh: installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null || true
T=$(mktemp -d)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

"$BIN" serve --port 0 --data data --audit none >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
PORT=
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/serve.out")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start: $(cat "$T/serve.err")" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"

# ---- request bodies (wrk Lua scripts) ------------------------------------------------------------
CHECK='{"patient":{"openrx_patient":1,"id":"bench-1","birthDate":"1950-01-01","sex":"female","labs":[{"kind":"weight","value":60,"unit":"kg","date":"2025-12-01"},{"kind":"scr","value":1.1,"unit":"mg/dL","date":"2025-12-01"}],"medications":[{"text":"warfarin sodium 5 MG Oral Tablet","rxnorm":"855332"}]},"drugs":["ibuprofen 400 mg orally every 6 hours"]}'
CDS='{"hook":"order-sign","hookInstance":"bench","context":{"userId":"Practitioner/1","patientId":"p1","draftOrders":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","id":"d1","status":"draft","intent":"order","medicationCodeableConcept":{"text":"ibuprofen 400 MG Oral Tablet"}}}]}},"prefetch":{"patient":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-01"},"medications":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"855332","display":"warfarin sodium 5 MG Oral Tablet"}]}}}]}}}'
lua_post() { # FILE BODY
    local esc=${2//\\/\\\\}
    esc=${esc//\"/\\\"}
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = "%s"\n' "$esc" >"$1"
}
lua_post "$T/check.lua" "$CHECK"
lua_post "$T/cds.lua" "$CDS"
printf 'wrk.method = "GET"\n' >"$T/get.lua"

# sanity: each request answers 200 with the expected content before loading
curl -sf -H 'Content-Type: application/json' -d "$CHECK" "$URL/v1/check" | grep -q '"major"' \
    || { echo "/v1/check did not answer the expected major finding" >&2; exit 1; }
curl -sf "$URL/cds-services" | grep -q openrx-order-sign || { echo "/cds-services failed" >&2; exit 1; }
curl -sf -H 'Content-Type: application/json' -d "$CDS" "$URL/cds-services/openrx-order-sign" | grep -q '"critical"' \
    || { echo "order-sign did not answer a critical card" >&2; exit 1; }

# ---- runs ------------------------------------------------------------------------------------------
to_ms() { # wrk latency "1.23ms" / "456.00us" / "1.02s" → ms
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
printf '\n%-40s %10s %9s %9s %9s %8s %8s\n' "endpoint ($CONN conns, $DUR, wrk -t$WT)" "req/s" "p50 ms" "p99 ms" "max ms" "sockerr" "non-2xx"
run() { # NAME PATH LUA
    wrk -t"$WT" -c"$CONN" -d"$DUR" --timeout 10s --latency -s "$3" "$URL$2" >"$T/wrk.out" 2>&1 || true
    local rps p50 p99 max serr non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$T/wrk.out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$T/wrk.out")")
    max=$(to_ms "$(awk '$1 == "Latency" {print $4; exit}' "$T/wrk.out")")
    serr=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$T/wrk.out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$T/wrk.out")
    printf '%-40s %10s %9s %9s %9s %8s %8s\n' "$1" "${rps:-?}" "$p50" "$p99" "$max" "${serr:-0}" "${non2xx:-0}"
    [ -n "${ORX_BENCH_VERBOSE:-}" ] && cat "$T/wrk.out"
    return 0
}
run "POST /v1/check" /v1/check "$T/check.lua"
run "GET /cds-services" /cds-services "$T/get.lua"
run "POST /cds-services/openrx-order-sign" /cds-services/openrx-order-sign "$T/cds.lua"
kill -0 "$SPID" 2>/dev/null && echo "server still running after the load" || { echo "SERVER DIED: $(tail -5 "$T/serve.err")"; exit 1; }
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
