#!/usr/bin/env bash
# End-to-end through a real Sendmail (Debian's sendmail-bin, unpacked from
# its .deb into a temp dir: see lib/sendmail_env.sh) on 127.0.0.1, with the
# INPUT_MAIL_FILTER line the README gives, relaying to Postfix's smtp-sink;
# `emogate check` reads the sendmail.cf its m4 built ([milter] sendmail_config).
# Checks at Sendmail's side: clean mail delivered tagged, with Sendmail's
# queue id (macro i) in emogate's log line; forged X-Emogate-* replaced; a
# malicious message rejected at end of DATA; hold (the hf queue file
# carries the reason) and its release with sendmail -qQ; emogate down with
# F=T -> 4xx.
# Needs root (the unpacked sendmail runs as root, unshare) and the .debs
# (downloaded once into /var/cache/emogate-test/sendmail): exits 77 without.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run Sendmail"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) missing"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
SEND="python3 $HERE/lib/smtp_send.py"
T=$(mktemp -d /tmp/emogate-sm.XXXXXX)
SM_SMTP_PORT=${SM_SMTP_PORT:-2735}
PF_SINK_PORT=${PF_SINK_PORT:-2736}
MILTER_PORT=${MILTER_PORT:-2737}
. "$HERE/lib/postfix_env.sh"    # smtp-sink, sink_file, wait_port
. "$HERE/lib/sendmail_env.sh"
. "$HERE/lib/checks.sh"         # skips (77) without Postfix (smtp-sink), nobody or group postfix
test_cleanup() { sm_stop; }

sm_fetch || { echo "SKIP: apt-get download sendmail-bin sendmail-cf m4 libwrap0 failed (no Debian mirror?)"; exit 77; }
sm_unpack || { bad "unpacking the sendmail .debs"; exit 1; }

# The line README's Sendmail section gives, with a loopback TCP socket.
MILTER_LINE="S=inet:$MILTER_PORT@127.0.0.1, F=T, T=C:10s;S:10s;R:10s;E:5m"
check "README documents this INPUT_MAIL_FILTER line" \
    grep -qF "INPUT_MAIL_FILTER(\`emogate', \`S=unix:/run/emogate/emogate.sock, F=T, T=C:10s;S:10s;R:10s;E:5m')" \
    "${EMOGATE_SOURCE_DIR:-$HERE/../..}/README.md"
sm_configure "$MILTER_LINE" || { bad "building sendmail.cf"; exit 1; }
check "sendmail.cf has the filter" grep -qF "Xemogate, $MILTER_LINE" "$SM_CF"

# --- emogate on loopback TCP, started as root, drops to nobody
write_config() {  # write_config SUSPICIOUS_ACTION MALICIOUS_ACTION
    cat >"$T/emogate.toml.new" <<CFG
[limits]
temp_dir = "/tmp"
[rules]
paths = []
[actions]
clean = "tag"
suspicious = "$1"
malicious = "$2"
on_error = "tempfail"
reject_text = "Message rejected: content policy (emogate test)"
[milter]
socket = "inet:$MILTER_PORT@127.0.0.1"
user = "nobody"
group = "postfix"
workers = 2
[quarantine]
dir = "$T/quarantine"
[log]
to_stderr = true
json_path = "$T/emogate.jsonl"
CFG
    mv "$T/emogate.toml.new" "$T/emogate.toml"
}
start_milter() {
    "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >>"$T/emogate.log" 2>&1 &
    MILTER_PID=$!
    wait_port "$MILTER_PORT"
}
reload_with() {  # reload_with SUSPICIOUS MALICIOUS: SIGHUP and wait for it
    local before; before=$(grep -c "reloaded configuration" "$T/emogate.log")
    write_config "$@"
    kill -HUP "$MILTER_PID"
    local i; for i in $(seq 1 50); do
        [ "$(grep -c "reloaded configuration" "$T/emogate.log")" -gt "$before" ] && return 0; sleep 0.1
    done
    return 1
}
chmod 755 "$T"
write_config hold reject

# --- `emogate check` reads the sendmail.cf that Sendmail's m4 built
sed "s|^\[milter\]\$|[milter]\nsendmail_config = \"$SM_CF\"|" "$T/emogate.toml" >"$T/emogate-check.toml"
sm_check() { "$EMOGATE_BIN" check --config "$1" 2>/dev/null | sed -n '/^sendmail /,$p'; }
out=$(sm_check "$T/emogate-check.toml")
check "check: Sendmail's filter reaches emogate, no warning ($out)" \
    grep -qx "sendmail $SM_CF: 1 mail filter in use, 1 reaching emogate, 0 warnings" <<<"$out"
sed 's/^\(Xemogate, .*\)F=T, /\1/' "$SM_CF" >"$T/sendmail-no-f.cf"
line=$(grep -n '^Xemogate, ' "$T/sendmail-no-f.cf" | cut -d: -f1)
sed "s|^sendmail_config = .*|sendmail_config = \"$T/sendmail-no-f.cf\"|" "$T/emogate-check.toml" >"$T/emogate-check-no-f.toml"
out=$(sm_check "$T/emogate-check-no-f.toml")
check "check: the filter without F=T named at sendmail.cf:$line ($out)" \
    grep -q "^  warning: $T/sendmail-no-f.cf:$line: mail filter \"emogate\" .*passes mail unscanned" <<<"$out"
start_milter || { cat "$T/emogate.log"; bad "emogate did not start"; exit 1; }
sink_start || { bad "smtp-sink did not start"; exit 1; }
sm_start || { cat "$SM_DIR/daemon.log"; bad "sendmail did not start"; exit 1; }

reply() { $SEND --port "$SM_SMTP_PORT" "$@"; }
# The queue id of the last message in emogate's JSON log.
last_qid() { tail -1 "$T/emogate.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("queue_id",""))'; }

# --- clean, with forged X-Emogate-* headers from outside
r=$(reply --id clean1 --forge)
check "clean: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file clean1) && {
    check "clean: delivered with X-Emogate-Verdict: clean" grep -q "^X-Emogate-Verdict: clean" "$f"
    check "clean: forged X-Emogate-Verdict removed" bash -c "! grep -q forged-clean '$f'"
    check "clean: exactly one X-Emogate-Verdict" [ "$(grep -c '^X-Emogate-Verdict:' "$f")" = 1 ]
    # Sendmail's queue id, as it told the client ("250 2.0.0 <id> Message accepted").
    smqid=$(awk '{print $3}' <<<"$r")
    check "clean: Sendmail's Received: names $smqid" grep -q "by $SM_HOSTNAME .* id $smqid" "$f"
    check "clean: Sendmail queue id ($smqid) in emogate's log line" \
        grep -Eq "^emogate: $smqid: verdict=clean action=tag findings=- size=[0-9]+ scan_ms=[0-9.]+ from=<alice@sender.emogate.test> nrcpt=1 client=127.0.0.1" "$T/emogate.log"
} || bad "clean: not delivered"

# --- malicious: rejected at end of DATA (MAIL and RCPT were accepted)
r=$(reply --id reject1 --attach invoice.exe --exe)
check "reject: 550 5.7.1 after DATA ($r)" grep -q "^550 5.7.1 Message rejected: content policy (emogate test)" <<<"$r"
check "reject: not delivered" bash -c "sleep 1; ! grep -l -s 'X-Test-Id: reject1' '$SINK_DIR'/* >/dev/null"
check "reject: logged with a queue id" grep -Eq "^emogate: [0-9A-Za-z]{8,}: verdict=malicious action=reject findings=dangerous_type@invoice.exe" "$T/emogate.log"

# --- hold: smfi_quarantine -> Sendmail's hf queue file with the reason
check "reload to hold" reload_with hold hold
r=$(reply --id hold1 --attach invoice.exe --exe)
check "hold: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
qid=$(last_qid)
check "hold: emogate logged action=hold for $qid" grep -q "^emogate: $qid: verdict=malicious action=hold findings=dangerous_type@invoice.exe" "$T/emogate.log"
hf=$(sm_queue_file hf "$qid")
check "hold: queue file hf$qid exists" [ -n "$hf" ]
check "hold: hf$qid carries the reason" grep -q "^qemogate: .*dangerous_type@invoice.exe" "${hf:-/dev/null}"
q=$(sm -bp -qQ 2>&1)
check "hold: mailq -qQ lists $qid" grep -q "^$qid " <<<"$q"
check "hold: mailq -qQ shows the reason" grep -q "QUARANTINE: emogate: .*dangerous_type@invoice.exe" <<<"$q"
check "hold: not delivered" bash -c "sleep 1; ! grep -l -s 'X-Test-Id: hold1' '$SINK_DIR'/* >/dev/null"
# Release: -qQ -Q with no reason clears the quarantine, then run that entry.
sm -qQ -Q -qI"$qid" >/dev/null 2>&1
check "release: hf$qid is gone" [ ! -e "$SM_QUEUE/hf$qid" ]
sm -qI"$qid" >/dev/null 2>&1
f=$(sink_file hold1) && {
    check "release: delivered with X-Emogate-Verdict: malicious" grep -q "^X-Emogate-Verdict: malicious" "$f"
} || bad "release: held message not delivered"

# --- emogate down, F=T: Sendmail answers 4xx and keeps nothing
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=
r=$(reply --id down1)
check "down: 4xx at client ($r)" grep -q "^4" <<<"$r"
check "down: not delivered" bash -c "sleep 1; ! grep -l -s 'X-Test-Id: down1' '$SINK_DIR'/* >/dev/null"

echo "--- emogate log (last lines)"; tail -8 "$T/emogate.log"
[ "$FAILS" = 0 ] || { echo "--- sendmail"; tail -20 "$SM_DIR/daemon.log"; echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
