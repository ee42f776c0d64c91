#!/usr/bin/env bash
# Protocol-level test: miltertest (Debian package miltertest) drives
# emogate's milter socket directly with tests/integration/miltertest.lua:
# negotiation, macros, header removal and tagging, reject, abort + reuse.
# Needs no root and no MTA.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v miltertest >/dev/null || { echo "SKIP: miltertest not installed (apt-get install miltertest)"; exit 77; }
. "$HERE/lib/local_milter.sh"
local_milter_setup emogate-mt
local_milter_start ""
EMOGATE_SOCK="unix:$T/emogate.sock" miltertest -s "$HERE/miltertest.lua"
rc=$?
cat "$T/log"
[ $rc = 0 ] || { echo "miltertest failed ($rc)"; exit 1; }
grep -q "^emogate: MTQ0001: verdict=clean action=tag .*client=192.0.2.10" "$T/log" || { echo "no log line for MTQ0001"; exit 1; }
grep -q "^emogate: MTQ0002: verdict=malicious action=reject findings=dangerous_type@invoice.exe" "$T/log" || { echo "no reject line"; exit 1; }
! grep -q "MTQ0003" "$T/log" || { echo "aborted message was logged as scanned"; exit 1; }
echo "miltertest: ok"
