#!/usr/bin/env bash
# check.sh — speed of `openrx check` on the demo patient: the checker alone (patient loaded and
# checker created once, then `--bench N` timed runs of drug resolution + orx_check_proposed), per proposed drug, for the
# drugs of the demo-patient list and for all of them together; plus one whole command (process
# start, lexicon and table loading included). Goal (issue 15): <= 5 ms per proposed drug.
# Usage: bash bench/check.sh build/openrx [N]
set -eu
BIN=${1:?usage: bench/check.sh /path/to/openrx [repeats]}
N=${2:-2000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
P="$HERE/examples/patients/demo-patient.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
DRUGS=("apixaban 5 mg twice daily" "dabigatran 150 mg twice daily" "rivaroxaban 20 mg once daily"
       "warfarin 5 mg once daily" "metformin 500 mg twice daily" "nitrofurantoin 100 mg twice daily"
       "sulfamethoxazole/trimethoprim 800 mg/160 mg twice daily" "lisinopril 10 mg once daily")
for d in "${DRUGS[@]}"; do
    printf '%-58s ' "$d"
    "$BIN" check --patient "$P" --as-of 2026-01-01 --drug "$d" --bench "$N" 2>/dev/null | grep "^bench: per\|^bench: CPU" | sed 's/^bench: //' | tr '\n' ' '; echo
done
ARGS=()
for d in "${DRUGS[@]}"; do ARGS+=(--drug "$d"); done
printf '%-58s ' "all ${#DRUGS[@]} together"
"$BIN" check --patient "$P" --as-of 2026-01-01 "${ARGS[@]}" --bench "$((N / 4))" 2>/dev/null | grep "^bench: per\|^bench: CPU" | sed 's/^bench: //' | tr '\n' ' '; echo
printf '%-58s ' "current list (7 medicines, pairwise)"
"$BIN" check --patient "$P" --as-of 2026-01-01 --bench "$((N / 4))" 2>/dev/null | grep "^bench: per\|^bench: CPU" | sed 's/^bench: //' | tr '\n' ' '; echo
"$BIN" check --patient "$P" --as-of 2026-01-01 --drug x --bench 1 2>/dev/null | grep -o "checker load .*"
S=$(date +%s.%N)
for i in 1 2 3 4 5; do "$BIN" check --patient "$P" --as-of 2026-01-01 "${ARGS[@]}" >/dev/null; done
E=$(date +%s.%N)
echo "whole command (process start, lexicon + tables loaded, 8 drugs), mean of 5: $(echo "($E - $S) * 1000 / 5" | bc -l | cut -c1-6) ms"
