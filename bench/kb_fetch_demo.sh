#!/usr/bin/env bash
# bench/kb_fetch_demo.sh — the README's worked example of `kb fetch` / `kb update`, offline: a local
# HTTP server (python3 -m http.server on 127.0.0.1) serves an openFDA-style release made from the
# shipped label sections of the two .jsonl sets (download.json + zipped JSON parts), applied to a
# KB built from the two .txt sets; then a second release that raises one label's version, adds one
# and drops one. Everything is written under /tmp.
# Usage: bench/kb_fetch_demo.sh [path/to/openrx]
set -euo pipefail
BIN=$(realpath "${1:-build/openrx}")
cd "$(dirname "$0")/.."
T=${ORX_BENCH_DIR:-/tmp/openrx-fetch-demo}
rm -rf "$T" && mkdir -p "$T/www"
export ORX_NO_PROGRESS=1 no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
PORT=$((20000 + RANDOM % 20000))
# release(dir, date, first label, n labels, version bump set id index or -1)
python3 - "$T/www" "$PORT" <<'PY'
import json, glob, sys, zipfile, os
www, port = sys.argv[1], sys.argv[2]
FIELD = {'34066-1': 'boxed_warning', '34067-9': 'indications_and_usage', '34068-7': 'dosage_and_administration',
         '34070-3': 'contraindications', '34073-7': 'drug_interactions', '34084-4': 'adverse_reactions',
         '43685-7': 'warnings_and_cautions', '34071-1': 'warnings', '42232-9': 'precautions'}
labels = []
for f in sorted(glob.glob('data/labels/*/labels_sections.jsonl')):
    for line in open(f, encoding='utf-8'):
        d = json.loads(line)
        o = {FIELD[s['section_code']]: [s['text']] for s in d['sections'] if s['section_code'] in FIELD}
        if o and d.get('setid'):
            o['openfda'] = {'generic_name': d.get('generic_names') or [], 'brand_name': d.get('brand_names') or []}
            o.update(set_id=d['setid'], version=str(d.get('version') or ''), effective_time=d.get('effective_time') or '')
            labels.append(o)
def release(name, date, ls):
    os.makedirs(f'{www}/{name}', exist_ok=True)
    parts, half = [], (len(ls) + 1) // 2
    for p, chunk in enumerate([ls[:half], ls[half:]]):
        fn = f'drug-label-000{p+1}-of-0002.json'
        with zipfile.ZipFile(f'{www}/{name}/{fn}.zip', 'w', zipfile.ZIP_DEFLATED) as z:
            z.writestr(fn, json.dumps({'meta': {'note': 'demo release'}, 'results': chunk}))
        size = os.path.getsize(f'{www}/{name}/{fn}.zip')
        parts.append({'display_name': f'/drug/label (part {p+1} of 2)', 'size_mb': '%.2f' % (size / 1e6),
                      'records': len(chunk), 'file': f'http://127.0.0.1:{port}/{name}/{fn}.zip'})
    idx = {'results': {'drug': {'label': {'export_date': date, 'total_records': len(ls), 'partitions': parts}}}}
    json.dump(idx, open(f'{www}/{name}/download.json', 'w'))
release('r1', '2026-10-03', labels[:-1])
changed = [dict(l) for l in labels[1:]]          # first label dropped, last one added
changed[0] = dict(changed[0], version=str(int(changed[0]['version'] or 0) + 1), effective_time='20261001')
release('r2', '2026-11-07', changed)
PY
(cd "$T/www" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
sleep 1
set -x
"$BIN" kb build --quiet --from data/labels/2014-nlm-ddi-corpus --from data/labels/2018-fda-ars-100-labels --out "$T/kb.sqlite"
"$BIN" kb fetch openfda --index "http://127.0.0.1:$PORT/r1/download.json" --dir "$T/openfda"
"$BIN" kb update "$T/openfda" --kb "$T/kb.sqlite" --quiet
"$BIN" kb fetch openfda --index "http://127.0.0.1:$PORT/r1/download.json" --dir "$T/openfda"
"$BIN" kb fetch openfda --index "http://127.0.0.1:$PORT/r2/download.json" --dir "$T/openfda" --quiet
"$BIN" kb update "$T/openfda" --kb "$T/kb.sqlite"
"$BIN" kb stats --kb "$T/kb.sqlite" | sed -n '1,12p'
