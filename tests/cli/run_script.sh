#!/usr/bin/env bash
# `scripts/run scan samples/*.eml` from a checkout scans with the repository's
# config and its shipped rules (no "rules path does not exist"). The checkout
# is mirrored in a temp dir with deps.sh/build.sh stubbed out, so the test
# neither installs nor rebuilds anything.
set -uo pipefail
bin=${EMOGATE_BIN:?}; src=${EMOGATE_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/build"
cp "$src/scripts/run" "$tmp/scripts/run"
printf '#!/bin/sh\nexit 0\n' >"$tmp/scripts/deps.sh"
cp "$tmp/scripts/deps.sh" "$tmp/scripts/build.sh"
chmod +x "$tmp/scripts/"*
ln -s "$bin" "$tmp/build/emogate"
for d in config rules samples; do ln -s "$src/$d" "$tmp/$d"; done
cd "$tmp"
scripts/run scan samples/*.eml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -ne 1 ]]; then echo "FAIL: exit $rc (samples include flagged ones)"; cat "$tmp/err"; exit 1; fi
if grep -q "warning" "$tmp/err"; then echo "FAIL: warnings:"; cat "$tmp/err"; exit 1; fi
grep -q "samples/clean.eml: clean" "$tmp/out" || { echo "FAIL: no clean line"; cat "$tmp/out"; exit 1; }
# An explicit --config is passed through unchanged.
printf '[rules]\npaths = ["/nonexistent-rules"]\n' >"$tmp/own.toml"
scripts/run scan --config "$tmp/own.toml" samples/clean.eml >/dev/null 2>"$tmp/err2"
grep -q "/nonexistent-rules:0: rules path does not exist" "$tmp/err2" || { echo "FAIL: --config not honoured"; cat "$tmp/err2"; exit 1; }
echo OK
