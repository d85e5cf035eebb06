#!/usr/bin/env bash
# rules.sh — `openrx rules ddi|pair|pairs`, `openrx lexicon lookup --stdin` and `openrx check --bench`
# from the command line: rules from a piece of label text (TSV and JSON), a pair's grouped finding
# with its quote, bad input with file:line and exit 2, an unwritable --out, and the bench lines.
# Usage: bash rules.sh /path/to/openrx
set -u
BIN=${1:?usage: rules.sh /path/to/openrx}
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

run "ddi --text: a rule row" 0 $'^rule\twarfarin\tfluconazole\tfluconazole\t\tmoderate\tmonitor' \
    rules ddi --label warfarin --text "Closely monitor INR when fluconazole is started."
run "ddi --text: negation, no row" 0 '^#kind' \
    rules ddi --label warfarin --text "Fluconazole did not alter the pharmacokinetics of warfarin."
if grep -q $'^rule' "$T/out"; then echo "FAIL negation gave a rule"; fails=$((fails + 1)); fi
run "ddi --text --json" 0 '"other": "role:cyp3a4:inhibitor:strong"' \
    rules ddi --label simvastatin --section 34070-3 --json \
    --text "Concomitant administration of strong CYP3A4 inhibitors (e.g., itraconazole, ketoconazole)."
run "ddi --text without --label" 2 "go together" rules ddi --text "x"
run "pair: grouped finding with the label sentence" 0 'quote: ".*fluconazole' rules pair warfarin fluconazole
run "pair: json" 0 '"also":' rules pair warfarin apixaban --json
run "pair: unknown drug" 2 "not recognised" rules pair warfarin zorkamycin
printf 'warfarin\tapixaban\nwarfarin\tmetformin\n' >"$T/pairs.tsv"
run "pairs: tiers" 0 $'warfarin\tapixaban\tmajor\tduplicate' rules pairs "$T/pairs.tsv"
grep -q $'warfarin\tmetformin\tnone' "$T/out" || { echo "FAIL pairs: metformin not 'none'"; fails=$((fails + 1)); }
printf 'warfarin apixaban\n' >"$T/bad.tsv"
run "pairs: malformed line" 2 "bad.tsv:1:1: expected DRUG_A<TAB>DRUG_B" rules pairs "$T/bad.tsv"
run "ddi: missing --from" 2 "nosuch: no such file" rules ddi --from "$T/nosuch" --out "$T/x.tsv"
run "ddi: unwritable --out" 1 "." rules ddi --from "$ORX_SOURCE_DIR/data/labels/2024-openfda-spl-xml" --out "$T/no/dir/x.tsv"
run "ddi: small corpus" 0 "wrote .*rules" rules ddi --from "$ORX_SOURCE_DIR/data/labels/2024-openfda-spl-xml" --out "$T/x.tsv"
head -1 "$T/x.tsv" | grep -q '^#openrx-label-ddi' || { echo "FAIL ddi: table header"; fails=$((fails + 1)); }
run "unknown sub-command" 2 "unknown sub-command" rules frob
printf 'Coumadin\nzorkamycin\n' | "$BIN" lexicon lookup --stdin >"$T/lk" 2>&1
grep -q $'^Coumadin\twarfarin$' "$T/lk" && grep -q $'^zorkamycin\t$' "$T/lk" \
    && echo "ok   lexicon lookup --stdin" || { echo "FAIL lexicon --stdin: $(cat "$T/lk")"; fails=$((fails + 1)); }
run "check --bench" 0 "bench: per proposed drug: p50 [0-9.]+ ms" check --patient \
    "$ORX_SOURCE_DIR/examples/patients/demo-patient.json" --as-of 2026-01-01 --drug apixaban --bench 5
run "check --bench bad count" 2 "expected a count" check --patient \
    "$ORX_SOURCE_DIR/examples/patients/demo-patient.json" --drug apixaban --bench 0

echo "rules.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
