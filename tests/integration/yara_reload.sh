#!/usr/bin/env bash
# SIGHUP picks up a new rule file: the daemon accepts a message, the admin
# drops a rule matching it into the rules folder and sends SIGHUP, the same
# message is then rejected naming the rule. A broken file added next is
# logged with file:line and the running rules stay in force. The same
# SIGHUP reopens the JSON log, which logrotate has moved away meanwhile: the
# next message's line is in a new file at [log] json_path, not the old one.
# Needs miltertest (Debian package miltertest); no root, no MTA.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
command -v miltertest >/dev/null || { echo "SKIP: miltertest not installed (apt-get install miltertest)"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/local_milter.sh"
local_milter_setup emogate-yr
mkdir "$T/rules"
# One message; the expected reply is given by EXPECT (accept or reject).
cat >"$T/send.lua" <<'LUA'
local conn = mt.connect(os.getenv("EMOGATE_SOCK"), 40, 0.25)
assert(conn, "cannot connect")
assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
mt.macro(conn, SMFIC_MAIL, "i", os.getenv("QID"), "{client_addr}", "192.0.2.10")
assert(mt.mailfrom(conn, "<a@example.org>") == nil, "mailfrom failed")
assert(mt.rcptto(conn, "<b@example.com>") == nil, "rcptto failed")
mt.header(conn, "From", "a@example.org")
mt.header(conn, "Content-Type", "text/plain")
mt.header(conn, "Subject", "order")
mt.bodystring(conn, "please process ACME-ORDER-MARKER-4711 today\r\n")
assert(mt.eom(conn) == nil, "eom failed")
local want = os.getenv("EXPECT") == "reject" and SMFIR_REPLYCODE or SMFIR_ACCEPT
assert(mt.getreply(conn) == want, "unexpected reply, wanted " .. os.getenv("EXPECT"))
mt.disconnect(conn)
LUA
send() { EMOGATE_SOCK="unix:$T/emogate.sock" QID="$1" EXPECT="$2" miltertest -s "$T/send.lua" || { cat "$T/log"; echo "FAIL: $1 not $2"; exit 1; }; }
wait_log() { for i in $(seq 1 100); do grep -q "$1" "$T/log" && return 0; sleep 0.1; done; cat "$T/log"; echo "FAIL: no log line '$1'"; exit 1; }

# The extra line lands in local_milter.sh's [log] section.
local_milter_start "\"$T/rules\"" "json_path = \"$T/emogate.json\""
send YRQ0001 accept
mv "$T/emogate.json" "$T/emogate.json.1"

cat >"$T/rules/site.yar" <<'YAR'
rule Site_Order_Marker { meta: description = "site rule" strings: $m = "ACME-ORDER-MARKER-4711" condition: $m }
YAR
kill -HUP "$PID"
wait_log "reloaded configuration"
send YRQ0002 reject
grep -q "YRQ0002: verdict=malicious action=reject findings=yara@" "$T/log" || { cat "$T/log"; echo "FAIL: no reject log line"; exit 1; }
grep -q '"queue_id":"YRQ0002"' "$T/emogate.json" 2>/dev/null || { cat "$T/log"; echo "FAIL: the JSON line after SIGHUP is not in the new file"; exit 1; }
grep -q '"queue_id":"YRQ0001"' "$T/emogate.json.1" && ! grep -q '"queue_id":"YRQ0002"' "$T/emogate.json.1" ||
    { echo "FAIL: the rotated JSON file should hold YRQ0001 only"; exit 1; }

printf 'rule Broken {\n  condition: $nothing\n}\n' >"$T/rules/broken.yar"
kill -HUP "$PID"
wait_log "broken.yar:[0-9]*: "
send YRQ0003 reject
echo "yara reload: ok"
