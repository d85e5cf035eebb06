#!/usr/bin/env bash
# bench/vs_llamacpp.sh — openrx vs llama.cpp's own llama-bench, side by side on the same GGUF
# files, same threads, runs alternating (openrx, llama.cpp, openrx, ...) so that both see the
# same load on a shared machine. Prints one markdown row per type: median prompt (ppP) and
# decode (tgN) speed of each, their ratios, decode as a share of openrx's bandwidth probe
# (measured in the same openrx run), the CPU share openrx obtained (under ~95 % the machine was
# busy and the figures are not speed claims) and the load average around the runs.
#
#   bash bench/vs_llamacpp.sh [BUILD_DIR]         (default: build)
#   ROUNDS=5 TYPES="Q4_0 Q8_0 Q4_K_M" SHAPE=tinyllama P=128 N=64 bash bench/vs_llamacpp.sh
#
# Models are synthesised with `openrx model synth` into BUILD_DIR/bench-models (never
# committed; reused if present). llama-bench comes from ../shared/tools/llama.cpp (LLAMA_BENCH
# overrides). Ratios are the result; absolute numbers depend on the machine's load.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=${OPENRX:-$BUILD/openrx}
LB=${LLAMA_BENCH:-$ROOT/../shared/tools/llama.cpp/llama-bench}
MODELS=${MODELS_DIR:-$BUILD/bench-models}
THREADS=${THREADS:-2}
TYPES=${TYPES:-"Q4_0 Q8_0 Q4_K_M"}
SHAPE=${SHAPE:-tinyllama}
ROUNDS=${ROUNDS:-3}
P=${P:-128}
N=${N:-64}
[ -x "$BIN" ] || { echo "bench/vs_llamacpp.sh: no openrx binary at $BIN (build first)" >&2; exit 2; }
[ -x "$LB" ] || { echo "bench/vs_llamacpp.sh: no llama-bench at $LB" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$MODELS"
for t in $TYPES; do
    f="$MODELS/$SHAPE-$t.gguf"
    [ -f "$f" ] || "$BIN" model synth --shape "$SHAPE" --type "$t" -o "$f" -t "$THREADS" >&2
done
for t in $TYPES; do
    f="$MODELS/$SHAPE-$t.gguf"
    cut -d' ' -f1 /proc/loadavg > "$OUT/$t.load0"
    for r in $(seq 1 "$ROUNDS"); do
        "$BIN" bench -m "$f" -t "$THREADS" -p "$P" -n "$N" -r 1 --bw-mib 512 --json > "$OUT/$t.orx.$r.json"
        "$LB" -m "$f" -t "$THREADS" -p "$P" -n "$N" -r 1 -o json > "$OUT/$t.lcpp.$r.json" 2>/dev/null
    done
    cut -d' ' -f1 /proc/loadavg > "$OUT/$t.load1"
done
python3 - "$OUT" "$P" "$N" $TYPES <<'EOF'
import json, os, statistics, sys
out, P, N, types = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
print(f"| type | pp{P} openrx / llama.cpp t/s | ratio | tg{N} openrx / llama.cpp t/s | ratio | decode / probe | openrx CPU share | load avg |")
print("|---|---|---|---|---|---|---|---|")
for t in types:
    opp, otg, lpp, ltg, frac, share = [], [], [], [], [], []
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if name.startswith(t + ".orx."):
            d = json.load(open(path))
            for r in d["results"]:
                (opp if r["test"].startswith("pp") else otg).append(r["t_s"])
                share.append(r.get("cpu_share", 0))
            if d.get("decode_fraction_of_bandwidth"): frac.append(d["decode_fraction_of_bandwidth"])
        elif name.startswith(t + ".lcpp."):
            for r in json.load(open(path)):
                (lpp if r["n_gen"] == 0 else ltg).append(r["avg_ts"])
    m = statistics.median
    l0, l1 = open(os.path.join(out, t + ".load0")).read().strip(), open(os.path.join(out, t + ".load1")).read().strip()
    print(f"| {t} | {m(opp):.1f} / {m(lpp):.1f} | {m(opp)/m(lpp):.2f}x | {m(otg):.1f} / {m(ltg):.1f} | "
          f"{m(otg)/m(ltg):.2f}x | {100*m(frac):.0f} % | {100*min(share):.0f}-{100*max(share):.0f} % | {l0} -> {l1} |")
EOF
