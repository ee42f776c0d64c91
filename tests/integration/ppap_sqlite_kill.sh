#!/usr/bin/env bash
# PPAP with the embedded SQLite state store survives a crash: a private
# Postfix on loopback with one emogate daemon ([state] backend = "sqlite",
# WAL), mail 1 (AES ZIP, no password) held, the daemon killed with SIGKILL
# right after it answered (nothing checkpointed, no clean close), started
# again: the entry is still listed as waiting, and the password mail
# (「パスワード：…」, ISO-2022-JP) releases mail 1 exactly once. A second
# crash just after the release: the restarted daemon releases nothing again.
# Needs root (Postfix's master starts as root) and 7z: exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/ppap_mail.sh"
ppap_require
T=$(mktemp -d /tmp/emogate-ppap-kill.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"   # hosts, redis-server, test_cleanup

DB=$T/a/state/state.db
STATE=$(printf '[state]\nbackend = "sqlite"\npath = "%s"' "$DB")
host_setup a "$STATE" "$(printf '[ppap]\nwindow = "30m"')" || { bad "host did not start"; exit 1; }

FROM=tanaka@sender.emogate.test
RCPT=bob@rcpt.emogate.test
mkdir -p "$T/fx"
ppap_pair "$T/fx" k1 "$FROM" "$RCPT" Kx9pQ2mZ

r=$(host_send a --eml "$T/fx/k1-zip.eml" --from "$FROM" --to "$RCPT")
check "mail 1: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q1=$(qid_of "$r")
check "mail 1: logged held" wait_log a "^emogate: $Q1: ppap=held id="
host_kill a KILL
check "kill -9: WAL file left behind (no clean close)" [ -s "$DB-wal" ]
check "restart" host_start a
check "after the crash: still awaiting-password" grep -q "awaiting-password  queue_id=$Q1" <<<"$(host_list a)"
check "after the crash: not delivered" bash -c "sleep 1; [ \$(grep -l -s '^X-Test-Id: k1-zip' '$SINK_DIR'/* | wc -l) = 0 ]"

r=$(host_send a --eml "$T/fx/k1-pw.eml" --from "$FROM" --to "$RCPT")
check "password mail: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q2=$(qid_of "$r")
f=$(sink_file k1-pw) && check "password mail: tagged 'password for $Q1'" grep -q "^X-Emogate-PPAP: password for $Q1\$" "$f" ||
    bad "password mail: not delivered"
f=$(sink_file k1-zip) && check "mail 1: released with X-Emogate-PPAP naming $Q2" grep -q "^X-Emogate-PPAP: released by password mail $Q2" "$f" ||
    bad "mail 1: not released after the crash"
wait_log a "^emogate: $Q1: ppap=released" || bad "release not logged"
host_kill a KILL
check "second restart" host_start a
sleep 3
check "mail 1: delivered exactly once" [ "$(sink_count k1-zip)" = 1 ]
check "list: released-by-ppap" grep -q "released-by-ppap  queue_id=$Q1  password_mail=$Q2" <<<"$(host_list a)"

echo "--- emogate log (ppap lines)"; grep ppap "$(host_log a)" | tail -8
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
