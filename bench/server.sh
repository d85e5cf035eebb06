#!/usr/bin/env bash
# bench/server.sh — `openrx serve` under hostile and heavy load.
#
# Hostile (bench/flood.py, one client address 127.0.0.2; the legitimate client is 127.0.0.1):
#   1. 5,000 slow connections (slowloris: a header byte every 3 s, re-opened when closed) against
#      the default limits, then with the per-address limit off so all 5,000 are held by the event
#      loop: /health and a legitimate POST /v1/check are timed once a second meanwhile, and the
#      server's threads, open connections and memory are read;
#   2. 300 connections sending 960 KiB bodies with a wrong API key: the server's memory (VmRSS
#      and its peak VmHWM) before and during.
# Load (wrk, Debian's; installed here if missing, never in CI): C concurrent keep-alive
# connections for D on
#   POST /v1/check                       (checker: warfarin patient + proposed ibuprofen → 1 major finding)
#   GET  /cds-services                   (CDS Hooks discovery)
#   POST /cds-services/openrx-order-sign (CDS Hooks: prefetch with warfarin, draft ibuprofen → 1 card)
# printing requests/s, p50/p99 latency, socket errors and non-2xx answers per endpoint.
# Goals (issues 9, 17): 0 errors and p99 < 50 ms for the checker at 200 connections for 60 s;
# /health and /v1/check within 1 s during the flood; unauthenticated bodies cost no memory.
# Usage: bench/server.sh [path/to/openrx] [-d 60s] [-c 200] [-t WRK_THREADS] [--flood-seconds 30]
#                        [--no-hostile | --hostile-only]
# ORX_SERVE_OPTS="--http-threads 4" passes options to every server the script starts.
set -euo pipefail
BIN=$(realpath "${1:-build/openrx}")
[ $# -gt 0 ] && shift
DUR=60s CONN=200 WT=2 FLOOD_S=30 HOSTILE=1 LOAD=1
while [ $# -gt 0 ]; do
    case "$1" in
    -d) DUR=$2; shift 2 ;;
    -c) CONN=$2; shift 2 ;;
    -t) WT=$2; shift 2 ;;
    --flood-seconds) FLOOD_S=$2; shift 2 ;;
    --no-hostile) HOSTILE=0; shift ;;
    --hostile-only) LOAD=0; shift ;;
    *) echo "usage: bench/server.sh [openrx] [-d 60s] [-c 200] [-t threads] [--flood-seconds S] [--no-hostile|--hostile-only]" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "bench/server.sh: installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 4096 2>/dev/null || true
T=$(mktemp -d)
SPID= FPID=
cleanup() {
    [ -n "$FPID" ] && kill "$FPID" 2>/dev/null
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT

start_server() { # extra serve options...
    [ -n "$SPID" ] && { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; }
    : >"$T/serve.out"
    # shellcheck disable=SC2086 # ORX_SERVE_OPTS: extra serve options for every server started here
    "$BIN" serve --port 0 --data data --audit none ${ORX_SERVE_OPTS:-} "$@" >"$T/serve.out" 2>"$T/serve.err" &
    SPID=$!
    PORT=
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/^openrx: ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/serve.out")
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    [ -n "$PORT" ] || { echo "server did not start: $(cat "$T/serve.err")" >&2; exit 1; }
    URL="http://127.0.0.1:$PORT"
}
proc_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SPID/status"; } # VmRSS / VmHWM in kB
start_server

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

# ---- hostile clients -------------------------------------------------------------------------------
# probe NAME: times /health and a legitimate /v1/check from 127.0.0.1 once a second while a flood
# runs; prints the worst and median time and any answer that was not 200.
probe() {
    local n=$(( FLOOD_S - 8 )) i
    [ $n -lt 3 ] && n=3
    : >"$T/probe"
    sleep 5 # the flood is at full strength
    for i in $(seq "$n"); do
        curl -s -o /dev/null -m 10 -w 'health %{http_code} %{time_total}\n' "$URL/health" >>"$T/probe" || echo "health 000 10" >>"$T/probe"
        curl -s -o /dev/null -m 10 -w 'check %{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
             -d "$CHECK" "$URL/v1/check" >>"$T/probe" || echo "check 000 10" >>"$T/probe"
        [ "$i" = 3 ] && { grep -E '^Threads' "/proc/$SPID/status" | awk '{print $2}' >"$T/threads"; proc_kb VmRSS >"$T/rss";
                          curl -s -m 5 "$URL/health" >"$T/health.json"; }
        sleep 1
    done
    for what in health check; do
        awk -v w="$what" '$1 == w { print $3 * 1000, $2 }' "$T/probe" | sort -n |
        awk -v w="$what" -v name="$1" '{ n++; t[n] = $1; if ($2 != 200) bad++ }
            END { printf "  %-52s %-7s n=%-3d max %7.1f ms  median %6.1f ms  non-200 %d\n", name, w, n, t[n], t[int((n + 1) / 2)], bad + 0 }'
    done
    printf '  %-52s server threads %s, RSS %s MB, /health says %s\n' "" "$(cat "$T/threads")" \
           "$(( $(cat "$T/rss") / 1024 ))" "$(grep -o '"connections":[0-9]*' "$T/health.json")"
}

flood() { # N MODE SECONDS → runs bench/flood.py in the background (FPID)
    python3 bench/flood.py 127.0.0.1 "$PORT" "$1" 127.0.0.2 "$2" "$3" >"$T/flood.out" 2>&1 &
    FPID=$!
}

if [ "$HOSTILE" = 1 ]; then
    echo "hostile clients (flood from 127.0.0.2 for ${FLOOD_S}s; probes from 127.0.0.1)"
    start_server
    flood 5000 slowloris "$FLOOD_S"; probe "5,000 slowloris connections, default limits"
    wait "$FPID"; FPID=; printf '  %-52s %s\n' "" "$(cat "$T/flood.out")"
    start_server --max-conn 10000 --max-conn-per-ip 0
    flood 5000 slowloris "$FLOOD_S"; probe "5,000 slowloris, per-address limit off (all held)"
    wait "$FPID"; FPID=; printf '  %-52s %s\n' "" "$(cat "$T/flood.out")"
    start_server --max-conn 10000 --max-conn-per-ip 0
    flood 5000 idle "$FLOOD_S"; probe "5,000 idle connections, per-address limit off"
    wait "$FPID"; FPID=; printf '  %-52s %s\n' "" "$(cat "$T/flood.out")"
    # unauthenticated bodies: memory before and at the flood's peak
    echo "bench-key-$$" >"$T/key"
    start_server --api-key-file "$T/key" --max-conn-per-ip 0
    sleep 1
    rss0=$(proc_kb VmRSS)
    flood 300 body 20; sleep 10
    rss1=$(proc_kb VmRSS); hwm=$(proc_kb VmHWM)
    wait "$FPID"; FPID=
    printf '  %-52s RSS %d MB before, %d MB during, peak %d MB (%s)\n' "300 x 960 KiB bodies with a wrong key" \
           $((rss0 / 1024)) $((rss1 / 1024)) $((hwm / 1024)) "$(cat "$T/flood.out")"
    start_server
    echo
fi

# ---- runs ------------------------------------------------------------------------------------------
to_ms() { # wrk latency "1.23ms" / "456.00us" / "1.02s" → ms
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
[ "$LOAD" = 1 ] && printf '\n%-40s %10s %9s %9s %9s %8s %8s\n' "endpoint ($CONN conns, $DUR, wrk -t$WT)" "req/s" "p50 ms" "p99 ms" "max ms" "sockerr" "non-2xx"
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
if [ "$LOAD" = 1 ]; then
    run "POST /v1/check" /v1/check "$T/check.lua"
    run "GET /cds-services" /cds-services "$T/get.lua"
    run "POST /cds-services/openrx-order-sign" /cds-services/openrx-order-sign "$T/cds.lua"
fi
kill -0 "$SPID" 2>/dev/null && echo "server still running after the load" || { echo "SERVER DIED: $(tail -5 "$T/serve.err")"; exit 1; }
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
