#!/usr/bin/env bash
# `emogate scan` over a directory with poisonous files in the middle (the
# test-only emogate_testhooks binary: its detector aborts or spins on marked
# files). Each poisonous file gets an error line naming the cause, the other
# files are scanned, the exit status is 2. In-process the same batch dies at
# the first poisonous file, which shows what the workers buy.
set -uo pipefail
bin=${EMOGATE_TESTHOOKS_BIN:?}; src=${EMOGATE_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if [[ "$2" != "$3" ]]; then echo "FAIL: $1: expected '$3', got '$2'"; fail=1; else echo "ok: $1"; fi; }
mkdir "$tmp/batch"
cp "$src/samples/clean.eml" "$tmp/batch/a-clean.eml"
printf 'EMOGATE-TEST-CRASH' >"$tmp/batch/b-crash.bin"
cp "$src/samples/invoice-zip-exe.eml" "$tmp/batch/c-flagged.eml"
printf 'EMOGATE-TEST-SPIN' >"$tmp/batch/d-spin.bin"
printf 'hello\n' >"$tmp/batch/e-text.txt"
printf '[rules]\npaths = []\n[limits]\nscan_timeout_ms = 500\n' >"$tmp/proc.toml"
printf '[rules]\npaths = []\n[limits]\nscan_timeout_ms = 500\nisolation = "inprocess"\n' >"$tmp/inproc.toml"

"$bin" scan --config "$tmp/proc.toml" "$tmp/batch" >"$tmp/out" 2>"$tmp/err"; check "batch exit" $? 2
grep -q "a-clean.eml: clean" "$tmp/out"; check "file before the crash scanned" $? 0
grep -q "b-crash.bin: ERROR content failure (worker_crash): the scan worker killed by signal 6 (SIGABRT), twice" "$tmp/out"
check "crash: error line with the cause" $? 0
grep -q "c-flagged.eml: malicious" "$tmp/out"; check "file after the crash scanned" $? 0
grep -q "d-spin.bin: ERROR content failure (scan_timeout_ms)" "$tmp/out"; check "spin: error line with the cause" $? 0
grep -q "e-text.txt: clean" "$tmp/out"; check "file after the spin scanned" $? 0
check "one result line per input" "$(grep -c "^$tmp/batch/" "$tmp/out")" 5

"$bin" scan --json --config "$tmp/proc.toml" "$tmp/batch/b-crash.bin" >"$tmp/out"
grep -q '"failure":"content","failure_cause":"worker_crash"' "$tmp/out"; check "JSON error line" $? 0

# The same batch in-process: the abort takes the whole run with it.
"$bin" scan --config "$tmp/inproc.toml" "$tmp/batch" >"$tmp/out" 2>/dev/null; rc=$?
check "in-process: killed by SIGABRT" "$rc" 134
check "in-process: nothing after the crash" "$(grep -c "c-flagged" "$tmp/out")" 0
exit $fail
