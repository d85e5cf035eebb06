#!/usr/bin/env bash
# bench/options.sh — the indication options and the evidence, measured (issue 14's numbers):
#   1. the dev set (bench/indications_dev.tsv, built from the labels' own indication text by
#      bench/indications_dev.py): evidence holds an indicated drug's label, candidate recall,
#      share of evidence from the options' labels / interactions, retrieval + screening latency;
#      with a 55-year-old man on no medicines and with the demo patient (82 y, CrCl 22, 7 medicines);
#   2. every non-empty Synthea patient in ../shared: options for each active problem.
# Usage: bash bench/options.sh build/openrx [KB]   (writes to $OUT, default /tmp/openrx-options)
set -euo pipefail
BIN=${1:-build/openrx}
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/openrx-options}
mkdir -p "$OUT"
KB=${2:-$OUT/kb.sqlite}
[ -f "$KB" ] || "$BIN" kb build --from "$SRC/data/labels" --out "$KB" --quiet
python3 "$SRC/bench/indications_dev.py" "$KB" "$OUT/indications_dev.tsv" >/dev/null
if ! cmp -s <(grep -v '^#' "$OUT/indications_dev.tsv") <(grep -v '^#' "$SRC/bench/indications_dev.tsv"); then
    echo "note: the dev set built from $KB differs from bench/indications_dev.tsv (a different corpus?); using the rebuilt one"
fi
grep -v '^#' "$OUT/indications_dev.tsv" | cut -f1 > "$OUT/queries.txt"
echo "== dev set: $(wc -l < "$OUT/queries.txt") queries; patient: 55-year-old man, no medicines"
"$BIN" recommend --patient "$SRC/bench/patients/adult-55-male.json" --as-of 2026-01-01 --kb "$KB" \
    --batch "$OUT/queries.txt" > "$OUT/dev-adult.jsonl"
python3 "$SRC/bench/options_eval.py" "$OUT/indications_dev.tsv" "$OUT/dev-adult.jsonl" --by-kind
echo
echo "== dev set; patient: examples/patients/demo-patient.json (82 y, CrCl 22 mL/min, 7 medicines)"
"$BIN" recommend --patient "$SRC/examples/patients/demo-patient.json" --as-of 2026-01-01 --kb "$KB" \
    --batch "$OUT/queries.txt" > "$OUT/dev-demo.jsonl"
python3 "$SRC/bench/options_eval.py" "$OUT/indications_dev.tsv" "$OUT/dev-demo.jsonl" --by-kind
echo
SYN=${ORX_SHARED:-$SRC/../shared}/data/synthea-r4-smart-sample/bundles
if [ -d "$SYN" ]; then
    echo "== Synthea: options for each active problem ($SYN)"
    : > "$OUT/synthea.jsonl"
    for f in "$SYN"/*.json; do
        "$BIN" recommend --patient "$f" --each-problem --kb "$KB" >> "$OUT/synthea.jsonl"
    done
    python3 "$SRC/bench/options_synthea.py" "$OUT/synthea.jsonl"
else
    echo "SKIPPED Synthea: $SYN not found"
fi
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
