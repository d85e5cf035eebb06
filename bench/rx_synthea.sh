#!/usr/bin/env bash
# bench/rx_synthea.sh — the recommend pipeline with a local model over every Synthea patient in
# ../shared: how many answers are schema-valid JSON, whether every citation names a retrieved id,
# and the time per recommendation. Machinery, not medical quality (random weights).
#   bash bench/rx_synthea.sh [openrx-binary] [model.gguf] [max-tokens]
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/openrx}
MODEL=${2:-../shared/models/random/rand-llama-256-Q8_0.gguf}
MAXTOK=${3:-300}
DIR=../shared/data/synthea-r4-smart-sample/bundles
[ -d "$DIR" ] || { echo "SKIPPED: $DIR absent"; exit 0; }
OUT=$(mktemp -d)
"$BIN" kb build --from data/labels --out "$OUT/kb.sqlite" >/dev/null 2>&1
n=0 valid=0 badcite=0 failed=0
for f in "$DIR"/*.json; do
  [ -s "$f" ] || continue
  n=$((n + 1))
  if ! "$BIN" recommend --patient "$f" --indication "hypertension" --kb "$OUT/kb.sqlite" -m "$MODEL" \
        --max-tokens "$MAXTOK" --seed "$n" --temp 0.7 --no-audit --no-reask --format json -t 2 > "$OUT/r.json" 2>"$OUT/err"; then
    failed=$((failed + 1)); echo "failed: $f: $(head -c 200 "$OUT/err")"; continue
  fi
  python3 - "$OUT/r.json" <<'PY' && valid=$((valid + 1)) || true
import json, sys
r = json.load(open(sys.argv[1]))
ids = {e["id"] for e in r["evidence"]}
ok = r["schema_valid"]
for c in r.get("candidates", []):
    for ci in c["citations"]:
        if ci["id"] not in ids: print("citation not retrieved:", ci["id"]); ok = False
t = r["timing"]
print(f'{sys.argv[1]}: valid={r["schema_valid"]} cands={len(r.get("candidates", []))} prompt={t["prompt_tokens"]} gen={t["completion_tokens"]} total={t["total_s"]:.2f}s')
sys.exit(0 if ok else 1)
PY
done
echo "patients: $n, schema-valid with retrieved-only citations: $valid, failed runs: $failed"
rm -rf "$OUT"
