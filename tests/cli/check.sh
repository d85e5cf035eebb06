#!/usr/bin/env bash
# check.sh — `openrx check` and `openrx lexicon` from the command line: findings printed with exit
# 0, --fail-on exit 3, bad usage / bad dose exit 2, unknown drug reported (never silent), JSON
# output parses. Usage: bash check.sh /path/to/openrx
set -u
BIN=${1:?usage: check.sh /path/to/openrx}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# run NAME WANT_RC PATTERN(stdout+stderr) args...
run() {
    local name=$1 want=$2 pattern=$3
    shift 3
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc (want $want); stderr: $(head -c 400 "$T/err")"; fails=$((fails + 1)); return
    fi
    if ! cat "$T/out" "$T/err" | grep -qE -- "$pattern"; then
        echo "FAIL $name: output does not match /$pattern/: $(head -c 400 "$T/out") $(head -c 200 "$T/err")"
        fails=$((fails + 1)); return
    fi
    echo "ok   $name"
}

cat >"$T/pt.json" <<'JSON'
{"openrx_patient": 1, "id": "cli-1", "birthDate": "1950-02-03", "sex": "female",
 "medications": [{"text": "warfarin sodium 5 MG Oral Tablet", "rxnorm": "855332", "dose": "5 mg orally once daily"},
                 {"text": "Advil 200 mg"}],
 "allergies": [{"text": "naproxen", "category": "medication", "criticality": "high"}]}
JSON

run help 0 'Usage: openrx check' check --help
run no-patient 2 'patient FILE is required' check --drug ibuprofen
run bad-tier 2 "unknown tier 'severe'" check --patient "$T/pt.json" --fail-on severe
run missing-file 2 'nosuch.json' check --patient "$T/nosuch.json"
run proposed 0 '\[MAJOR\] \(interruptive\) interaction: ibuprofen \+ warfarin' \
    check --patient "$T/pt.json" --drug "ibuprofen 400 mg orally every 6 hours" --as-of 2026-01-01
run proposed-parsed 0 'ibuprofen; dose 400 mg; route oral; q6h' \
    check --patient "$T/pt.json" --drug "ibuprofen 400 mg orally every 6 hours" --as-of 2026-01-01
run fail-on-major 3 'PDDI-CDS' \
    check --patient "$T/pt.json" --drug "ketorolac 10 mg orally every 6 hours" --fail-on major --as-of 2026-01-01
run fail-on-not-reached 0 'Findings:' \
    check --patient "$T/pt.json" --drug "metformin 500 mg orally twice daily" --fail-on contraindicated --as-of 2026-01-01
run allergy 3 '\[CONTRAINDICATED\].*allergy' \
    check --patient "$T/pt.json" --drug "Aleve 220 mg orally twice daily" --fail-on contraindicated --as-of 2026-01-01
run unknown-drug 0 'unrecognised: zorkamycin' \
    check --patient "$T/pt.json" --drug "zorkamycin 5 mg orally daily" --as-of 2026-01-01
run bad-dose 2 'amount 400 has no unit' \
    check --patient "$T/pt.json" --drug "ibuprofen 400 orally" --as-of 2026-01-01
run contradictory-units 2 "contradictory units 'mg' and 'ml'" \
    check --patient "$T/pt.json" --drug "ibuprofen 400 mg ml orally" --as-of 2026-01-01
run current-list 0 'interaction: ibuprofen \+ warfarin|interaction: warfarin \+ ibuprofen' \
    check --patient "$T/pt.json" --as-of 2026-01-01
run rxcui 0 'interaction: digoxin \+ cyclosporine|interaction: cyclosporine \+ digoxin' \
    check --patient "$T/pt.json" --drug 197604 --drug "cyclosporine 100 mg orally twice daily" --as-of 2026-01-01

"$BIN" check --patient "$T/pt.json" --drug "ibuprofen 400 mg orally every 6 hours" --json --as-of 2026-01-01 >"$T/j.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["counts"]["major"] >= 1; assert any(f["kind"]=="interaction" and f["citation"] for f in d["findings"]); assert d["proposed"][0]["dose"]["frequency"]=="q6h"' "$T/j.json" 2>"$T/perr"; then
    echo "ok   json"
else
    echo "FAIL json: $(cat "$T/perr")"; fails=$((fails + 1))
fi

run lex-brand 0 'warfarin \[RxCUI 11289\]' lexicon lookup Coumadin
run lex-scd 0 'warfarin' lexicon lookup "warfarin sodium 5 MG Oral Tablet"
run lex-rxcui 0 '"ingredient": "warfarin"' lexicon lookup 855332 --json
run lex-unknown 1 'not recognised' lexicon lookup zorkamycin
run lex-usage 2 'unknown sub-command' lexicon frobnicate
run lex-stats 0 'ingredients [0-9]+' lexicon stats

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all passed"
