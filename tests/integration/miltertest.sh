#!/usr/bin/env bash
# Protocol-level test: miltertest (Debian package miltertest) drives
# emogate's milter socket directly with tests/integration/miltertest.lua:
# negotiation, macros, header removal and tagging, reject, abort + reuse.
# Needs no root and no MTA.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v miltertest >/dev/null || { echo "SKIP: miltertest not installed (apt-get install miltertest)"; exit 77; }
T=$(mktemp -d /tmp/emogate-mt.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat >"$T/emogate.toml" <<CFG
[rules]
paths = []
[milter]
socket = "unix:$T/emogate.sock"
user = ""
group = ""
[quarantine]
dir = "$T/quarantine"
[log]
to_stderr = true
CFG
"$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >"$T/log" 2>&1 &
PID=$!
for i in $(seq 1 100); do [ -S "$T/emogate.sock" ] && break; sleep 0.1; done
EMOGATE_SOCK="unix:$T/emogate.sock" miltertest -s "$HERE/miltertest.lua"
rc=$?
cat "$T/log"
[ $rc = 0 ] || { echo "miltertest failed ($rc)"; exit 1; }
grep -q "^emogate: MTQ0001: verdict=clean action=tag .*client=192.0.2.10" "$T/log" || { echo "no log line for MTQ0001"; exit 1; }
grep -q "^emogate: MTQ0002: verdict=malicious action=reject findings=dangerous_type@invoice.exe" "$T/log" || { echo "no reject line"; exit 1; }
! grep -q "MTQ0003" "$T/log" || { echo "aborted message was logged as scanned"; exit 1; }
echo "miltertest: ok"
