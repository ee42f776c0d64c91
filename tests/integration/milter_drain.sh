#!/usr/bin/env bash
# SIGTERM drain: while a message is still in flight, a new connection is
# served and its MAIL FROM gets a 4xx at once (README: "new messages get
# 4xx"), instead of waiting unanswered until the MTA's milter timeout.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v miltertest >/dev/null || { echo "SKIP: miltertest not installed (apt-get install miltertest)"; exit 77; }
. "$HERE/lib/local_milter.sh"
local_milter_setup emogate-drain
local_milter_start ""
export EMOGATE_SOCK="unix:$T/emogate.sock" DRAIN_HOLD_S=10
DRAIN_ROLE=hold miltertest -s "$HERE/lib/drain.lua" >"$T/hold.out" 2>&1 &
HOLD=$!
sleep 1.5  # the held message has had its MAIL FROM
kill -TERM "$PID"
for _ in $(seq 1 50); do grep -q "stopping: new messages get 4xx" "$T/log" && break; sleep 0.1; done
sleep 1
start=$(date +%s%N)
DRAIN_ROLE=new miltertest -s "$HERE/lib/drain.lua" >"$T/new.out" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$HOLD" 2>/dev/null
cat "$T/hold.out"
wait "$PID" 2>/dev/null; PID=
cat "$T/log" "$T/new.out"
[ $rc = 0 ] || { echo "FAIL: new connection during the drain: miltertest exit $rc after $ms ms"; exit 1; }
[ "$ms" -lt 3000 ] || { echo "FAIL: the 4xx took $ms ms"; exit 1; }
grep -q "stopping: new messages get 4xx, finishing 1 message" "$T/log" || { echo "FAIL: the drain had no message in flight"; exit 1; }
echo "milter drain: 4xx after $ms ms: ok"
