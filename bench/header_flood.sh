#!/usr/bin/env bash
# Header flood memory benchmark: the milter daemon's RSS after 1,000 normal
# messages, and after one message of FLOOD (1,000,000) one-line headers
# followed by the same 1,000 normal messages, each in a fresh daemon, side
# by side for ROUNDS (3) rounds; prints each round and the medians. RSS is
# summed over the daemon and its child processes. Also the peak RSS of
# `emogate scan` on the flood message. No root and no MTA needed.
#
#   bench/header_flood.sh            Env: EMOGATE_BIN, ROUNDS, FLOOD, NORMAL
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
EMOGATE_BIN=${EMOGATE_BIN:-$SRC/build/emogate}
ROUNDS=${ROUNDS:-3}
FLOOD=${FLOOD:-1000000}
NORMAL=${NORMAL:-1000}
T=$(mktemp -d /tmp/emogate-flood.XXXXXX)
PID=
trap 'if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; rm -rf "$T"' EXIT

cat >"$T/emogate.toml" <<CFG
[rules]
paths = ["$SRC/rules"]
[milter]
socket = "unix:$T/emogate.sock"
user = ""
group = ""
max_message_size = "64M"
[quarantine]
dir = "$T/quarantine"
[state]
path = "$T/state.db"
[actions]
suspicious = "tag"
CFG

rss_kb() {  # VmRSS of $1 and its children, in kB
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

run() {  # run EXTRA_ARGS...: prints the daemon's RSS (kB) after the messages
  rm -f "$T/emogate.sock"
  "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >"$T/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do [ -S "$T/emogate.sock" ] && break; sleep 0.1; done
  python3 "$SRC/bench/milter_client.py" "$T/emogate.sock" --normal "$NORMAL" "$@" >"$T/replies"
  sleep 0.5
  rss_kb "$PID"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$T/a"; : >"$T/b"
for r in $(seq 1 "$ROUNDS"); do
  a=$(run); ra=$(cat "$T/replies")
  b=$(run --flood-headers "$FLOOD"); rb=$(cat "$T/replies")
  echo "$a" >>"$T/a"; echo "$b" >>"$T/b"
  printf 'round %d: %d normal: %6d kB   flood + %d normal: %6d kB   difference %6d kB   (%s | %s)\n' \
    "$r" "$NORMAL" "$a" "$NORMAL" "$b" $((b - a)) "$ra" "$rb"
done
ma=$(median <"$T/a"); mb=$(median <"$T/b")
printf 'median: %d normal: %d kB; flood + %d normal: %d kB; difference %d kB (bound 20480 kB)\n' \
  "$NORMAL" "$ma" "$NORMAL" "$mb" $((mb - ma))

python3 - "$T/flood.eml" "$FLOOD" <<'PY'
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("From: a@example.org\r\nSubject: flood\r\n")
    f.write("X-H: 1\r\n" * int(sys.argv[2]))
    f.write("\r\nhello\r\n")
PY
/usr/bin/time -f '%M' -o "$T/peak" "$EMOGATE_BIN" scan --config "$T/emogate.toml" "$T/flood.eml" >"$T/scan" 2>&1 || true
printf 'emogate scan of the flood message (%d bytes): peak RSS %d kB; %s\n' \
  "$(stat -c %s "$T/flood.eml")" "$(tail -1 "$T/peak")" "$(head -1 "$T/scan")"
