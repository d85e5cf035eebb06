#!/usr/bin/env bash
# bench/kb.sh — knowledge-base benchmarks: ingest throughput (default corpus and a synthetic openFDA
# bulk file made from the real shipped sections), dev-set recall, and query latency p50/p95 on the
# real corpus and on synthetic 100k-, 1M- and 2M-chunk corpora (copies of the real chunks, in /tmp):
# the impact index (default) and FTS5 alone (--fts), planned and exhaustive queries, each run
# checking that the impact index's top-10 equals FTS5's for every distinct query (--compare).
# Runs under nice; the load average is printed with every number.
# Usage: bench/kb.sh [path/to/openrx] [--no-1m|--no-2m]
set -euo pipefail
BIN=$(realpath "${1:-build/openrx}")
nice_run() { nice -n 10 /usr/bin/time -f "  (%e s, peak RSS %M KiB)" "$@"; }
cd "$(dirname "$0")/.."
T=${ORX_BENCH_DIR:-/tmp/openrx-kb-bench}
mkdir -p "$T"
export ORX_NO_PROGRESS=1
echo "== ingest: default corpus (data/labels)"
"$BIN" kb build --quiet --from data/labels --out "$T/kb.sqlite"
echo "== ingest: synthetic openFDA bulk JSON (~200 MB) built from data/labels sections"
python3 - "$T/openfda_bulk.json" <<'PY'
import json, sys, glob
FIELD = {'34066-1': 'boxed_warning', '34067-9': 'indications_and_usage', '34068-7': 'dosage_and_administration',
         '34070-3': 'contraindications', '43685-7': 'warnings_and_cautions', '34071-1': 'warnings',
         '42232-9': 'precautions', '34073-7': 'drug_interactions', '34084-4': 'adverse_reactions',
         '43684-0': 'use_in_specific_populations', '34090-1': 'clinical_pharmacology', '34088-5': 'overdosage'}
labels = []
for f in sorted(glob.glob('data/labels/*/labels_sections.jsonl')):
    for line in open(f, encoding='utf-8'):
        d = json.loads(line)
        o = {FIELD[s['section_code']]: [s['text']] for s in d['sections'] if s['section_code'] in FIELD}
        if o:
            o['openfda'] = {'generic_name': d.get('generic_names') or [], 'brand_name': d.get('brand_names') or []}
            labels.append((d['setid'] or 'x', o))
with open(sys.argv[1], 'w', encoding='utf-8') as out:
    out.write('{"meta": {"note": "synthetic benchmark file"}, "results": [\n')
    n, size, first = 0, 0, True
    while size < 200e6:
        sid, o = labels[n % len(labels)]
        o = dict(o, set_id='%s~%d' % (sid, n), version='1')
        s = json.dumps(o, ensure_ascii=False)
        out.write(('' if first else ',\n') + s)
        first = False
        size += len(s) + 2
        n += 1
    out.write('\n]}\n')
PY
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "peak RSS %M KiB" "$BIN" kb build --quiet --from "$T/openfda_bulk.json" --out "$T/openfda.sqlite"
else
  "$BIN" kb build --quiet --from "$T/openfda_bulk.json" --out "$T/openfda.sqlite"
fi
rm -f "$T/openfda_bulk.json" "$T/openfda.sqlite"
echo "== recall (dev set tests/fixtures/kb/ddi_questions.tsv)"
"$BIN" kb eval --kb "$T/kb.sqlite"
"$BIN" kb eval --kb "$T/kb.sqlite" --exhaustive
echo "== latency: real corpus"
"$BIN" kb bench --kb "$T/kb.sqlite" -n 3000 --compare
"$BIN" kb bench --kb "$T/kb.sqlite" -n 3000 --exhaustive --compare
"$BIN" kb bench --kb "$T/kb.sqlite" -n 3000 --fts
"$BIN" kb bench --kb "$T/kb.sqlite" -n 3000 --all-copies
SIZES="100000 1000000 2000000"
[ "${2:-}" = "--no-2m" ] && SIZES="100000 1000000"
[ "${2:-}" = "--no-1m" ] && SIZES="100000"
for N in $SIZES; do
  echo "== synthetic $N chunks: build (synth + FTS index + impact index), latency"
  nice_run "$BIN" kb synth --kb "$T/kb.sqlite" --chunks "$N" --out "$T/kb$N.sqlite"
  ls -l "$T/kb$N.sqlite" "$T/kb$N.sqlite".impact-*
  nice -n 10 "$BIN" kb bench --kb "$T/kb$N.sqlite" -n 2000 --compare
  nice -n 10 "$BIN" kb bench --kb "$T/kb$N.sqlite" -n 2000 --exhaustive --compare
  nice -n 10 "$BIN" kb bench --kb "$T/kb$N.sqlite" -n 1000 --fts
  nice -n 10 "$BIN" kb bench --kb "$T/kb$N.sqlite" -n 1000 --fts --exhaustive
  nice -n 10 "$BIN" kb bench --kb "$T/kb$N.sqlite" -n 2000 --all-copies
  rm -f "$T/kb$N.sqlite"*
done
