#!/usr/bin/env bash
# Run every libFuzzer harness of a fuzz build, one after another, at the lowest CPU priority.
#
#   bash fuzz/run.sh BUILD_DIR [SECONDS_PER_HARNESS] [HARNESS...]
#   FUZZ_RUNS=10000000 bash fuzz/run.sh build-fuzz 3600      # stop at 10 M executions or 1 h
#   FUZZ_APPEND=1 bash fuzz/run.sh build-fuzz 1800 model      # add to the previous summary
#   FUZZ_SEED=1 ...                                           # fixed random seed (CI)
#
# Each harness starts from the committed seeds (fuzz/corpus/<name>) plus what earlier runs found
# (BUILD_DIR/fuzz-corpus/<name>, kept between runs; the committed corpus is never written).
# A crash or leak leaves its input in BUILD_DIR/fuzz-crashes/<name>/ — copy it to
# fuzz/regress/<name>/ with the fix, so `fuzz_replay_<name>` (ctest) keeps it fixed.
# Prints one line per harness (executions, executions/s, new corpus size, crashes) and writes them
# to BUILD_DIR/fuzz-summary.tsv. Exit status 1 if any harness crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS] [HARNESS...]}
T=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do n=$(basename "$f" .c); names+=("${n#fuzz_}"); done
fi
export ORX_SOURCE_DIR=$PWD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary="$B/fuzz-summary.tsv"
# FUZZ_APPEND=1 adds to the summary of an earlier call (several calls with different budgets)
if [ -z "${FUZZ_APPEND:-}" ] || [ ! -f "$summary" ]; then
  printf 'harness\texecutions\texec_per_s\tseconds\tcorpus\tcrashes\n' > "$summary"
fi
failed=0
for n in "${names[@]}"; do
  bin="$B/fuzz_$n"
  [ -x "$bin" ] || { echo "fuzz: $bin missing (build with: make fuzz-build)" >&2; failed=1; continue; }
  work="$B/fuzz-corpus/$n"; crashes="$B/fuzz-crashes/$n"
  mkdir -p "$work" "$crashes"
  dict=(); [ -f "fuzz/dict/$n.dict" ] && dict=(-dict="fuzz/dict/$n.dict")
  runs=(); [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
  [ -n "${FUZZ_SEED:-}" ] && runs+=(-seed="$FUZZ_SEED")
  log="$B/fuzz-$n.log"
  touch "$log.start"
  t0=$(date +%s)
  nice -n 19 "$bin" -max_total_time="$T" "${runs[@]}" -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
      -artifact_prefix="$crashes/" "${dict[@]}" "$work" "fuzz/corpus/$n" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  ncorp=$(ls "$work" | wc -l)
  # crash-, leak-, timeout-, oom- inputs are failures; slow-unit- ones (over 10 s, e.g. while the
  # machine was busy) are kept for a look but are not
  ncrash=$(find "$crashes" -type f ! -name 'slow-unit-*' -newer "$log.start" | wc -l)
  [ $rc -ne 0 ] && [ "$ncrash" -eq 0 ] && ncrash="rc=$rc"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${execs:-?}" "${rate:-?}" "$secs" "$ncorp" "$ncrash" >> "$summary"
  printf 'fuzz %-14s %12s execs %8s/s %5ss corpus %5s crashes %s\n' "$n" "${execs:-?}" "${rate:-?}" "$secs" "$ncorp" "$ncrash"
  if [ $rc -ne 0 ] || [ "$ncrash" != 0 ]; then
    failed=1
    echo "fuzz: $n failed (log: $log); last lines:" >&2
    tail -25 "$log" >&2
  fi
done
exit $failed
