#!/usr/bin/env bash
# bench/draft.sh — decode time of the answer with jump-forward + speculative drafts vs one token
# per pass, per output schema the project sends (recommend's grounded schema with the demo's
# evidence, its free schema under --no-rag, eval's multiple choice), same model, same seed, runs alternating. Random-weight models cannot write a
# realistic answer, so the local model's choices replay a realistic one in the tokenizer's own encoding (`--replay`,
# bench/answers/*.json: label-derived text, the grounded answer citing the demo's evidence); the
# engine evaluates every token as it would for a model that wrote it. Prints one markdown row per
# schema: prompt tokens, prefill seconds, answer tokens, forced tokens, passes, decode seconds and
# total seconds (medians) with and without drafting, the reduction, and whether the texts were
# identical.
#
#   bash bench/draft.sh MODEL.gguf [BUILD_DIR]        ROUNDS=3 THREADS=2
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:?usage: bench/draft.sh MODEL.gguf [BUILD_DIR]}
BUILD=${2:-$ROOT/build}
BIN=$BUILD/openrx
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
KB=$BUILD/kb.sqlite
[ -x "$BIN" ] || { echo "bench/draft.sh: no openrx at $BIN (build first)" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "bench/draft.sh: $MODEL: model file not found" >&2; exit 2; }
[ -f "$KB" ] || "$BIN" kb build --from "$ROOT/data/labels" --out "$KB" >&2
OUT=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$OUT"' EXIT
ANS=$ROOT/bench/answers
REC=(recommend --patient "$ROOT/examples/patients/demo-patient.json" --as-of 2026-01-01
     --indication "atrial fibrillation, stroke prevention" -m "$MODEL" -t "$THREADS" --no-reask
     --no-audit --no-prefix-cache --format json)

run_recommend() {  # SCHEMA MODE ROUND
    local extra=()
    if [ "$1" = grounded ]; then extra=(--kb "$KB"); else extra=(--no-rag); fi
    [ "$2" = step ] && extra+=(--no-draft)
    "$BIN" "${REC[@]}" --replay "$ANS/$1.json" "${extra[@]}" > "$OUT/$1.$2.$3.json" 2>/dev/null
}

# multiple choice: eval's schema through the chat route of `openrx serve` (the question quotes the
# ELIQUIS label's indication sentence)
MC_REQ='{"model":"m","temperature":0,"max_tokens":16,"messages":[{"role":"system","content":"You answer multiple-choice questions. Reply with the key of the right option."},{"role":"user","content":"ELIQUIS (apixaban) is indicated to reduce the risk of stroke and systemic embolism in patients with nonvalvular atrial fibrillation. Which ingredient does this sentence name?\nA. apixaban\nB. warfarin\nC. dabigatran\nD. rivaroxaban"}],"response_format":{"type":"json_schema","json_schema":{"name":"mc","schema":{"type":"object","properties":{"answer":{"type":"string","enum":["A","B","C","D"]}},"required":["answer"],"additionalProperties":false}}}}'
run_mc() {  # MODE ROUND
    local extra=()
    [ "$1" = step ] && extra=(--no-draft)
    "$BIN" serve -m "$MODEL" -t "$THREADS" --port 0 --audit none --no-prefix-cache --replay "$ANS/mc.json" "${extra[@]}" \
        > "$OUT/serve.out" 2> "$OUT/serve.err" &
    PID=$!
    for _ in $(seq 600); do grep -q "ready on" "$OUT/serve.out" 2>/dev/null && break; sleep 0.1; done
    local port
    port=$(sed -n 's/.*ready on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$OUT/serve.out")
    [ -n "$port" ] || { echo "bench/draft.sh: server did not start: $(cat "$OUT/serve.err")" >&2; exit 1; }
    curl -s -m 600 -H 'Content-Type: application/json' --data "$MC_REQ" \
        "http://127.0.0.1:$port/v1/chat/completions" > "$OUT/mc.$1.$2.json"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

for r in $(seq 1 "$ROUNDS"); do
    for s in grounded free; do run_recommend "$s" draft "$r"; run_recommend "$s" step "$r"; done
    run_mc draft "$r"; run_mc step "$r"
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def rec(schema, mode, r):
    d = json.load(open(f"{out}/{schema}.{mode}.{r}.json"))
    if schema == "mc":
        t = d["timings"]
        return (d["choices"][0]["message"]["content"], d["usage"]["completion_tokens"], t["forced_tokens"], t["decode_passes"],
                t["decode_ms"] / 1e3, d["usage"]["prompt_tokens"], t["first_token_ms"] / 1e3, (t["first_token_ms"] + t["decode_ms"]) / 1e3)
    t = d["timing"]
    return (d["raw_output"], t["completion_tokens"], t["forced_tokens"], t["decode_passes"], t["generate_s"] - t["first_token_s"],
            t["prompt_tokens"], t["first_token_s"], t["total_s"])
print("| schema | prompt tokens | prefill s | answer tokens | forced | passes drafted / step | decode s drafted / step (median) | decode time saved | total s drafted / step | identical text |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s in ("grounded", "free", "mc"):
    a = [rec(s, "draft", r) for r in range(1, rounds + 1)]
    b = [rec(s, "step", r) for r in range(1, rounds + 1)]
    same = all(x[0] == y[0] for x in a for y in b)
    ta, tb = statistics.median(x[4] for x in a), statistics.median(x[4] for x in b)
    pa = statistics.median(x[6] for x in a + b)
    ea, eb = statistics.median(x[7] for x in a), statistics.median(x[7] for x in b)
    print(f"| {s} | {a[0][5]} | {pa:.2f} | {a[0][1]} | {a[0][2]} | {a[0][3]} / {b[0][3]} | {ta:.2f} / {tb:.2f} | {100 * (1 - ta / tb):.0f} % | {ea:.2f} / {eb:.2f} | {'yes' if same else 'NO'} |")
PY
