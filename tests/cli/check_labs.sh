#!/usr/bin/env bash
# check_labs.sh — `openrx check` on the demo patient for the lab-aware, indication-aware and
# pharmacogenomic rules: apixaban 5 mg BID (major, two-of-three quoted, INR switching statement),
# dabigatran 150 mg BID at CrCl 22 (one dose finding), rivaroxaban for atrial fibrillation never
# quoting the DVT-treatment sentence (but --indication "treatment of DVT" does), metformin as a
# continuation, warfarin genotype range, SMX/TMP combination strength + sulfa allergy, potassium
# tiers at K 5.4 vs 4.2, --indication / --bench / JSON parts. Usage: bash check_labs.sh /path/to/openrx
set -u
BIN=${1:?usage: check_labs.sh /path/to/openrx}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
P="$HERE/examples/patients/demo-patient.json"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# run NAME WANT_RC PATTERN [!NOT_PATTERN] -- args...
run() {
    local name=$1 want=$2 pattern=$3 not=""
    shift 3
    if [ "${1:-}" != "--" ]; then not=$1; shift; fi
    shift
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc (want $want); stderr: $(head -c 400 "$T/err")"; fails=$((fails + 1)); return
    fi
    if ! cat "$T/out" "$T/err" | tr '\n' ' ' | grep -qE -- "$pattern"; then
        echo "FAIL $name: output does not match /$pattern/: $(head -c 600 "$T/out")"; fails=$((fails + 1)); return
    fi
    if [ -n "$not" ] && cat "$T/out" "$T/err" | grep -qE -- "$not"; then
        echo "FAIL $name: output matches /$not/ and must not"; fails=$((fails + 1)); return
    fi
    echo "ok   $name"
}
CK=(check --patient "$P" --as-of 2026-01-01)

run apixaban-two-of-three 3 '\[MAJOR\] \(interruptive\) dose: apixaban .*above the label.s dose .*2\.5 mg twice daily.*any 2 of the following characteristics' -- \
    "${CK[@]}" --drug "apixaban 5 mg twice daily" --fail-on major
run apixaban-inr-switch 0 'switching: apixaban \+ warfarin +Wait before starting apixaban.*INR is 2\.6.*is below 2\.0' -- \
    "${CK[@]}" --drug "apixaban 5 mg twice daily"
run dabigatran-band 0 'dose: dabigatran .*75 mg twice daily' '\[(MINOR|MODERATE|MAJOR)\] .*renal: dabigatran' -- \
    "${CK[@]}" --drug "dabigatran 150 mg twice daily"
run rivaroxaban-af 0 'dose: rivaroxaban .*15 mg once daily' 'due to an expected increase in rivaroxaban exposure' -- \
    "${CK[@]}" --drug "rivaroxaban 20 mg once daily" --indication "atrial fibrillation"
run rivaroxaban-dvt 0 'renal: rivaroxaban .*Treatment of Deep Vein Thrombosis.*due to an expected increase in rivaroxaban exposure' -- \
    "${CK[@]}" --drug "rivaroxaban 15 mg twice daily" --indication "treatment of DVT"
run metformin-continuation 0 '\[MODERATE\] renal: metformin .*continuing' 'Initiation is not recommended' -- "${CK[@]}"
run metformin-initiation 0 '\[MAJOR\] \(interruptive\) renal: metformin .*Initiation is not recommended' -- \
    "${CK[@]}" --drug "metformin 500 mg twice daily"
run warfarin-pgx 0 'pgx: warfarin .*CYP2C9 \*1/\*3 with VKORC1 -1639 AG .*3-4 mg a day.*cpicpgx' -- "${CK[@]}"
run smx-tmp 0 'sulfamethoxazole / trimethoprim; dose 800 mg \+ 160 mg; twice daily.*allergy' -- \
    "${CK[@]}" --drug "sulfamethoxazole/trimethoprim 800 mg/160 mg twice daily"
run smx-tmp-dash 0 'dose 800 mg \+ 160 mg' -- "${CK[@]}" --drug "sulfamethoxazole-trimethoprim 800-160 mg twice daily"
run single-reversed 2 'reversed' -- "${CK[@]}" --drug "ibuprofen 800-160 mg"
run nitrofurantoin 0 'renal: nitrofurantoin .*NOT assessed.*no label in the shipped corpus' -- \
    "${CK[@]}" --drug "nitrofurantoin 100 mg twice daily"
run indication-needs-drug 2 '--indication applies to proposed drugs' -- "${CK[@]}" --indication "atrial fibrillation"
run bench 0 'bench: per proposed drug: p50 .* ms' -- "${CK[@]}" --drug "apixaban 5 mg twice daily" --bench 50

# potassium: ACE inhibitor proposed with spironolactone on the list, K with a reference range
kpat() {
    cat >"$T/k.json" <<JSON
{"openrx_patient": 1, "id": "k", "birthDate": "1959-06-01", "sex": "male",
 "labs": [{"kind": "weight", "value": 80, "unit": "kg", "date": "2025-12-01"},
          {"kind": "scr", "value": 1.0, "unit": "mg/dL", "date": "2025-12-01"},
          {"kind": "potassium", "value": $1, "unit": "mmol/L", "date": "2025-12-20",
           "reference_range": {"low": 3.5, "high": 5.1}}],
 "medications": [{"text": "spironolactone 25 mg", "dose": "25 mg by mouth once daily"}]}
JSON
}
kpat 5.4
"$BIN" check --patient "$T/k.json" --as-of 2026-01-01 --drug "lisinopril 10 mg daily" --json >"$T/k54.json"
kpat 4.2
"$BIN" check --patient "$T/k.json" --as-of 2026-01-01 --drug "lisinopril 10 mg daily" --json >"$T/k42.json"
if python3 - "$T/k54.json" "$T/k42.json" <<'PY' 2>"$T/perr"
import json, sys
tiers = ["info", "minor", "moderate", "major", "contraindicated"]
def lab(p):
    d = json.load(open(p))
    fs = [f for f in d["findings"] if f["kind"] == "lab" and "spironolactone" in f["drugs"]]
    assert fs, "no lab finding naming both drugs in " + p
    return max(tiers.index(f["severity"]) for f in fs), fs[0]
hi, f = lab(sys.argv[1])
lo, _ = lab(sys.argv[2])
assert hi > lo and hi >= 3, (hi, lo)
assert "5.4 mmol/L on 2025-12-20" in f["trigger"] and f["quote"], f
PY
then echo "ok   potassium-tiers"; else echo "FAIL potassium-tiers: $(cat "$T/perr")"; fails=$((fails + 1)); fi

"$BIN" check "${CK[@]:1}" --drug "sulfamethoxazole-trimethoprim 800-160 mg twice daily" --indication "urinary tract infection" --json >"$T/j.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["proposed"][0]; assert p["dose"]["parts"]==[800.0,160.0]; assert p["indication"]=="urinary tract infection"' "$T/j.json" 2>"$T/perr"; then
    echo "ok   json-parts"
else
    echo "FAIL json-parts: $(cat "$T/perr")"; fails=$((fails + 1))
fi

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all passed"
