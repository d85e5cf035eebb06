#!/usr/bin/env bash
# patient_show.sh — `openrx patient show` on the example patient and a committed Synthea fixture:
# summary content, --json shape, --help. Usage: bash patient_show.sh /path/to/openrx
set -u
BIN=${1:?usage: patient_show.sh /path/to/openrx}
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
check() { # name, command output file, grep pattern
    if grep -qE -- "$3" "$2"; then echo "ok   $1"; else echo "FAIL $1: no /$3/"; fails=$((fails + 1)); fi
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$BIN" patient show "$SRC/examples/patients/demo-patient.json" --as-of 2026-01-01 >"$T/demo.txt"
rc=$?; [ $rc -eq 0 ] || { echo "FAIL demo exit $rc"; fails=$((fails + 1)); }
check demo-age "$T/demo.txt" 'age 82 years \(geriatric\)'
check demo-warfarin "$T/demo.txt" 'warfarin sodium 5 MG Oral Tablet  \[RxNorm 855332\]'
check demo-allergy "$T/demo.txt" 'penicillin G'
check demo-scr-converted "$T/demo.txt" 'Serum creatinine +1\.595 mg/dL \(recorded 141 umol/L\)'
check demo-crcl "$T/demo.txt" 'Creatinine clearance +22\.5 mL/min .*Cockcroft-Gault.*ideal weight'
check demo-egfr "$T/demo.txt" 'eGFR \(computed\) +32\.1 .*CKD-EPI 2021'
check demo-band "$T/demo.txt" 'Renal function +severe'
check demo-pgx "$T/demo.txt" 'CYP2C9 .*Intermediate Metabolizer'

"$BIN" patient show "$SRC/examples/patients/demo-patient.json" --as-of 2026-01-01 --json >"$T/demo.json"
rc=$?; [ $rc -eq 0 ] || { echo "FAIL json exit $rc"; fails=$((fails + 1)); }
check json-crcl "$T/demo.json" '"weight_choice": "ideal"'
check json-band "$T/demo.json" '"renal_band": "severe"'
check json-rxnorm "$T/demo.json" '"rxnorm": "855332"'
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert abs(d["derived"]["crcl"]["value"]-22.49)<0.1' "$T/demo.json" \
        && echo "ok   json-valid" || { echo "FAIL json-valid"; fails=$((fails + 1)); }
fi

"$BIN" patient show "$SRC/tests/fixtures/clinical/synthea-kermit-trantow.json" --as-of 2026-01-01 >"$T/k.txt"
rc=$?; [ $rc -eq 0 ] || { echo "FAIL synthea exit $rc"; fails=$((fails + 1)); }
check synthea-allergies "$T/k.txt" 'Allergies and intolerances \(3\)'
check synthea-format "$T/k.txt" 'fhir-r4'

"$BIN" patient show "$SRC/tests/fixtures/clinical/synthea-stephen-mclaughlin.json" --as-of 2026-01-01 >"$T/s.txt"
check synthea-absent-crcl "$T/s.txt" 'Creatinine clearance +absent: no serum creatinine recorded'
check synthea-reported-egfr "$T/s.txt" 'Renal function +normal +\[reported eGFR'

"$BIN" patient --help >"$T/help.txt"; rc=$?
[ $rc -eq 0 ] && check help "$T/help.txt" 'Usage: openrx patient show' || { echo "FAIL help exit $rc"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] && echo "all patient show checks passed" || echo "$fails failure(s)"
exit $((fails > 0))
