#!/usr/bin/env bash
# kb.sh — `openrx kb` from the command line: build from fixtures, search with citations and
# snippets (text and JSON), filters, stats, exit codes for bad usage / bad input / missing KB.
# Usage: bash kb.sh /path/to/openrx
set -u
BIN=${1:?usage: kb.sh /path/to/openrx}
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FX=$SRC/tests/fixtures/kb
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ORX_NO_PROGRESS=1
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
        echo "FAIL $name: output does not match /$pattern/: $(head -c 400 "$T/out") $(head -c 300 "$T/err")"
        fails=$((fails + 1)); return
    fi
    echo "ok   $name"
}

KB=$T/kb.sqlite
run help 0 "kb <build\|search" kb --help
run build 0 "built .*: 2 labels, .* 2 duplicate versions dropped" kb build --from "$FX/openfda_labels.json" --from "$FX/spl_small.xml" --out "$KB"
run build-note 0 "duplicate set id d2f6d2d0-1b32-4caf-9fce-6b798c94204b: kept version 7" kb build "$FX/openfda_labels.json" --out "$T/kb2.sqlite"
run search 0 "cite: 01b14603-8f29-4fa3-8d7e-9d523f802e0b#34073-7" kb search --kb "$KB" omeprazole
run search-snippet 0 '\*\*omeprazole\*\*' kb search --kb "$KB" omeprazole -k 1
run search-json 0 '"citation": "01b14603-8f29-4fa3-8d7e-9d523f802e0b#34070-3"' kb search --kb "$KB" --json --drug plavix --section contraindications bleeding
# every result is from the requested section
if grep -q '"section_code"' "$T/out" && ! grep '"section_code"' "$T/out" | grep -vq '"34070-3"'; then
    echo "ok   search-json-section-filter"
else
    echo "FAIL search-json-section-filter: $(head -c 300 "$T/out")"; fails=$((fails + 1))
fi
run stats 0 "labels: 2" kb stats --kb "$KB"
run stats-json 0 '"duplicates_dropped": 2' kb stats --kb "$KB" --json
run no-results 0 "no results" kb search --kb "$KB" zzyzxqwv
# bad usage and bad input
run bad-verb 2 "unknown verb" kb frobnicate
run no-query 2 "missing QUERY" kb search --kb "$KB"
run bad-k 2 "-k must be" kb search --kb "$KB" -k 0 warfarin
run bad-section 2 "unknown section" kb search --kb "$KB" --section nonsense warfarin
run stopwords-only 2 "no searchable words" kb search --kb "$KB" the of and
run missing-kb 2 "no knowledge base" kb search --kb "$T/none.sqlite" warfarin
printf '{"results": [{"set_id": "a", "warnings": ["x"]},\n {"set_id": "b", "warnings": ["y" "z"]}]}' >"$T/bad.json"
run bad-json 2 "bad.json:2:" kb build "$T/bad.json" --out "$KB"
printf '<document>\n<title>t</titl>\n</document>' >"$T/bad.xml"
run bad-xml 2 "bad.xml:2:9: mismatched end tag" kb build "$T/bad.xml" --out "$KB"
run old-kb-kept 0 "labels: 2" kb stats --kb "$KB"
run missing-input 2 "no such file" kb build "$T/nothing-here" --out "$KB"

# fetch / update / index
run stats-impact 0 "impact index: yes" kb stats --kb "$KB"
run stats-releases 0 "local +build +2016-01-01" kb stats --kb "$KB"
run search-copies 0 "cite: " kb search --kb "$KB" --all-copies warfarin
run fetch-help 0 "download.json" kb fetch --help
run fetch-no-source 2 "name a source" kb fetch
run fetch-bad-source 2 "unknown source 'fda'" kb fetch fda
run fetch-bad-index 1 "(Could not|Couldn't|refused|connect)" kb fetch openfda --dir "$T/dl" --index http://127.0.0.1:9/download.json --retries 0 --quiet
run update-help 0 "one transaction" kb update --help
run update-no-input 2 "name a fetch directory" kb update --kb "$KB"
run update-missing 2 "no such file" kb update --kb "$KB" "$T/nowhere"
run update-dry 0 "dry run, nothing changed .* 0 labels added, 0 replaced.* 3 unchanged" kb update --kb "$KB" --dry-run "$FX/openfda_labels.json"
run update-json 0 '"unchanged": 3' kb update --kb "$KB" --json --quiet "$FX/openfda_labels.json"
run index 0 "indexed .*kb.sqlite" kb index --kb "$KB" --quiet
run index-missing 2 "no knowledge base" kb index --kb "$T/none.sqlite"
run search-after-index 0 "cite: 01b14603-8f29-4fa3-8d7e-9d523f802e0b#34073-7" kb search --kb "$KB" omeprazole

[ "$fails" -eq 0 ] && echo "all kb CLI checks passed" || echo "$fails kb CLI check(s) failed"
exit $((fails > 0))
