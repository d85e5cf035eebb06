#!/usr/bin/env bash
# models.sh — `openrx models` exit codes and messages (no network: refusals happen before any
# download, and the one transfer attempted goes to a closed loopback port).
# Usage: bash models.sh /path/to/openrx
set -u
BIN=${1:?usage: models.sh /path/to/openrx}
SRC=${ORX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export ORX_MODELS_JSON="$SRC/data/models.json" ORX_NO_PROGRESS=1 no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

# expect RC CMD... : run CMD, capture stdout+stderr in $OUT, check the exit code
expect() {
    local want=$1; shift
    OUT=$("$@" 2>&1); local rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: '$*' exited $rc, expected $want"; echo "$OUT" | head -5; fail=1
    fi
}
# has TEXT : $OUT contains TEXT
has() { case "$OUT" in *"$1"*) ;; *) echo "FAIL: output lacks '$1'"; echo "$OUT" | head -5; fail=1 ;; esac; }

expect 0 "$BIN" models --help;                         has "models pull"
expect 2 "$BIN" models;                                has "Usage"
expect 2 "$BIN" models frobnicate;                     has "unknown sub-command"

expect 0 "$BIN" models list;                           has "biomistral-7b"; has "Runnable architectures"
expect 0 "$BIN" models list --task imaging;            has "medsam"
case "$OUT" in *meditron-7b*) echo "FAIL: --task imaging listed meditron-7b"; fail=1 ;; esac
expect 0 "$BIN" models list --licence apache --json;   has '"name": "biomistral-7b"'; has '"runnable"'
case "$OUT" in *'"name": "meditron-7b"'*) echo "FAIL: --licence apache listed meditron-7b"; fail=1 ;; esac
expect 0 "$BIN" models list --runnable
case "$OUT" in *medsam*) echo "FAIL: --runnable listed medsam"; fail=1 ;; esac
expect 2 "$BIN" models list --task astrology;          has "unknown task category"
expect 2 "$BIN" models list --bogus;                   has "unknown or incomplete option"

expect 0 "$BIN" models show meditron-7b;               has "https://huggingface.co/epfl-llm/meditron-7b"; has "Llama-2-7B"
expect 0 "$BIN" models show medsam;                    has "unknown"
expect 0 "$BIN" models show BioMistral-7B --json;      has '"source": "https://huggingface.co/BioMistral/BioMistral-7B"'
expect 2 "$BIN" models show no-such-model;             has "no model named"
expect 2 "$BIN" models show;                           has "exactly one"

# Licence gate: refused with the terms link, nothing created.
expect 2 "$BIN" models pull meditron-70b --dir "$TMP/m"; has "--accept-licence"; has "https://"
[ -e "$TMP/m" ] && [ -n "$(ls -A "$TMP/m")" ] && { echo "FAIL: refused pull left files"; fail=1; }
expect 2 "$BIN" models pull biomistral-7b --quant Q9_X --dir "$TMP/m"; has "published:"
expect 2 "$BIN" models pull meditron-7b --accept-licence --dir "$TMP/m"; has "file names are not recorded"
expect 2 "$BIN" models pull biomistral-7b --sha256 xyz;  has "64 hex"
expect 2 "$BIN" models pull "ftp://example.org/x.gguf" --dir "$TMP/m"; has "no model named"
expect 2 "$BIN" models pull "http://127.0.0.1:1/" --dir "$TMP/m"; has "file name"

# A transfer that cannot connect: runtime failure, exit 1.
expect 1 "$BIN" models pull "http://127.0.0.1:1/x.gguf" --dir "$TMP/m"; has "network error"

# A broken catalog: clear error with a location, exit 2.
printf '{\n "models": [\n' > "$TMP/bad.json"
expect 2 "$BIN" models list --catalog "$TMP/bad.json";  has "bad.json:"

[ $fail = 0 ] && echo "models.sh: all checks passed"
exit $fail
