#!/usr/bin/env bash
# patient_errors.sh — `openrx patient show` on bad input: each a clear message on stderr and
# exit 2, never a crash. Usage: bash patient_errors.sh /path/to/openrx
set -u
BIN=${1:?usage: patient_errors.sh /path/to/openrx}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# expect_fail NAME PATTERN FILE [extra args...]: exit 2 and stderr matching PATTERN
expect_fail() {
    local name=$1 pattern=$2 file=$3
    shift 3
    "$BIN" patient show "$file" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL $name: exit $rc (want 2); stderr: $(cat "$T/err")"; fails=$((fails + 1)); return
    fi
    if ! grep -qE -- "$pattern" "$T/err"; then
        echo "FAIL $name: stderr does not match /$pattern/: $(cat "$T/err")"; fails=$((fails + 1)); return
    fi
    echo "ok   $name: $(head -c 200 "$T/err")"
}

PAT='{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"x","gender":"male","birthDate":"1950-01-01"}}'
obs() { # value unit-code
    printf ',{"resource":{"resourceType":"Observation","id":"w","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":%s,"code":"%s"}}}' "$1" "$2"
}

printf '{\n  "resourceType": "Bundle",\n  "entry": [ {"resource": {' >"$T/truncated.json"
expect_fail truncated '^openrx: .*truncated\.json:3:[0-9]+: invalid JSON' "$T/truncated.json"

echo '{"resourceType":"Patient","id":"x"}' >"$T/wrongtype.json"
expect_fail wrong-resourceType "resourceType is 'Patient'" "$T/wrongtype.json"

{ printf '%s' "$PAT"; obs 11 '[stone_av]'; printf ']}'; } >"$T/unit.json"
expect_fail unknown-unit "unknown unit '\[stone_av\]'.*Body weight" "$T/unit.json"

{ printf '%s' "$PAT"; obs -70 kg; printf ']}'; } >"$T/negweight.json"
expect_fail negative-weight 'Body weight must be positive' "$T/negweight.json"

echo '{"openrx_patient":1,"birthDate":"2030-05-01","sex":"female"}' >"$T/future.json"
expect_fail future-birthDate 'birthDate 2030-05-01 is after the as-of date 2026-01-01' "$T/future.json" --as-of 2026-01-01

truncate -s 50M "$T/big.json"
expect_fail 50MB-file 'too large for a patient record' "$T/big.json"

expect_fail missing-file 'cannot open' "$T/nope.json"
expect_fail bad-as-of 'as-of date' "$T/future.json" --as-of 2026-02-30

# usage errors
"$BIN" patient >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && echo "ok   no-subcommand" || { echo "FAIL no-subcommand: exit $rc"; fails=$((fails + 1)); }
"$BIN" patient show >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && echo "ok   no-file" || { echo "FAIL no-file: exit $rc"; fails=$((fails + 1)); }
"$BIN" patient show --bogus x >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && echo "ok   bad-option" || { echo "FAIL bad-option: exit $rc"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] && echo "all patient error cases passed" || echo "$fails failure(s)"
exit $((fails > 0))
