#!/usr/bin/env bash
# End-to-end: a real Postfix on 127.0.0.1 (private instance under a temp
# dir, started and stopped here) with smtpd_milters pointing at emogate.
# Checks, at Postfix's side: clean delivered with X-Emogate-Verdict, forged
# header removed, tag (+subject prefix), hold (postqueue -j), reject (5xx),
# tempfail (4xx), discard, quarantine + release, scan deadline -> tempfail,
# SIGHUP reload between phases, SIGKILL mid-session -> milter_default_action
# and nothing lost, restart -> service resumes; `emogate check` reads the
# instance's main.cf and master.cf ([milter] postfix_config).
# Needs root (Postfix's master must start as root): exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
SEND="python3 $HERE/lib/smtp_send.py"
T=$(mktemp -d /tmp/emogate-it.XXXXXX)
PF_SMTP_PORT=${PF_SMTP_PORT:-2725}
PF_SINK_PORT=${PF_SINK_PORT:-2726}
METRICS_PORT=${METRICS_PORT:-2727}
. "$HERE/lib/postfix_env.sh"

. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix

# --- emogate, started as root, drops to nobody; socket nobody:postfix 0660
SOCK=$T/run/emogate.sock
write_config() {  # write_config MALICIOUS_ACTION [EXTRA TOML for [limits]] [EXTRA for [milter]]
    cat >"$T/emogate.toml.new" <<CFG
[limits]
temp_dir = "/tmp"
${2:-}
[rules]
paths = []
[[rules.set]]
name = "it"
paths = ["$T/rules-it"]
[actions]
clean = "tag"
suspicious = "hold"
malicious = "$1"
on_error = "tempfail"
subject_prefix_malicious = "[MALICIOUS]"
reject_text = "Message rejected: content policy (emogate test)"
[milter]
socket = "unix:$SOCK"
user = "nobody"
group = "postfix"
workers = 2
${3:-}
[quarantine]
dir = "$T/quarantine"
after = "discard"
sendmail = "$T/sendmail"
[log]
to_stderr = true
json_path = "$T/emogate.jsonl"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
CFG
    mv "$T/emogate.toml.new" "$T/emogate.toml"
}
start_milter() {
    "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >>"$T/emogate.log" 2>&1 &
    MILTER_PID=$!
    local i; for i in $(seq 1 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
    return 1
}
reloads() { grep -c "reloaded configuration" "$T/emogate.log" 2>/dev/null || true; }
reload_with() {  # reload_with MALICIOUS_ACTION [EXTRA]: SIGHUP and wait for it
    local before; before=$(reloads)
    write_config "$@"
    kill -HUP "$MILTER_PID"
    local i; for i in $(seq 1 50); do [ "$(reloads)" -gt "$before" ] && return 0; sleep 0.1; done
    return 1
}
# The release path injects through this instance's sendmail.
printf '#!/bin/sh\nexec /usr/sbin/sendmail -C %s "$@"\n' "$PF_CONF" >"$T/sendmail"; chmod 755 "$T/sendmail"

mkdir -p "$T/run" "$T/rules-it"
chmod 755 "$T"
# A third-party set that matches nothing here: its use shows in the metrics.
echo 'rule It_Never { strings: $a = "emogate-it-never-matches-7f3a" condition: $a }' >"$T/rules-it/it.yar"
write_config reject
start_milter || { cat "$T/emogate.log"; bad "emogate did not start"; exit 1; }
check "socket is nobody:postfix 0660" [ "$(stat -c '%U:%G %a' "$SOCK")" = "nobody:postfix 660" ]
check "milter runs as nobody" [ "$(stat -c %U /proc/$MILTER_PID)" = nobody ]
pf_configure "unix:$SOCK" tempfail
pf_start || { bad "postfix did not start"; exit 1; }

# --- `emogate check` reads this instance's main.cf and master.cf (postconf edits)
sed "s|^\[milter\]\$|[milter]\npostfix_config = \"$PF_CONF\"|" "$T/emogate.toml" >"$T/emogate-check.toml"
pf_check() { "$EMOGATE_BIN" check --config "$T/emogate-check.toml" 2>/dev/null | sed -n '/^postfix /,$p'; }
out=$(pf_check)
check "check: Postfix's smtpd reaches emogate, no warning ($out)" \
    grep -qx "postfix $PF_CONF: 1 smtpd service with milters, 1 reaching emogate, 0 warnings" <<<"$out"
postconf -c "$PF_CONF" -e 'milter_default_action = accept'
line=$(grep -n '^milter_default_action = accept$' "$PF_CONF/main.cf" | cut -d: -f1)
out=$(pf_check)
check "check: milter_default_action = accept named at main.cf:$line ($out)" \
    grep -q "^  warning: $PF_CONF/main.cf:$line: milter_default_action = accept: " <<<"$out"
# The daemon logs the same when it reloads (and starts) with the key set.
check "reload with [milter] postfix_config" reload_with reject "" "postfix_config = \"$PF_CONF\""
check "daemon log: the warning at main.cf:$line" \
    grep -q "warning: reload: $PF_CONF/main.cf:$line: milter_default_action = accept: " "$T/emogate.log"
postconf -c "$PF_CONF" -e 'milter_default_action = tempfail'
check "reload without it" reload_with reject

reply() { $SEND --port "$PF_SMTP_PORT" "$@"; }

# --- clean, with a forged verdict header from outside
r=$(reply --id clean1 --forge)
check "clean: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file clean1) && {
    check "clean: delivered with X-Emogate-Verdict: clean" grep -q "^X-Emogate-Verdict: clean" "$f"
    check "clean: forged X-Emogate-Verdict removed" bash -c "! grep -q forged-clean '$f'"
} || bad "clean: not delivered"
check "clean: syslog-style line with queue id" grep -Eq "^emogate: [0-9A-Za-z]+: verdict=clean action=tag findings=- size=[0-9]+ scan_ms=[0-9.]+ from=<alice@sender.emogate.test> nrcpt=1 client=127.0.0.1" "$T/emogate.log"

# --- reject (the default for malicious)
r=$(reply --id reject1 --attach invoice.exe --exe)
check "reject: 550 5.7.1 at client ($r)" grep -q "^550 5.7.1 Message rejected: content policy (emogate test)" <<<"$r"

# --- Prometheus metrics on loopback
metrics() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())"; }
m=$(metrics)
check "metrics: clean/tag counted" grep -q 'emogate_messages_total{verdict="clean",action="tag"} 1' <<<"$m"
check "metrics: malicious/reject counted" grep -q 'emogate_messages_total{verdict="malicious",action="reject"} 1' <<<"$m"
check "metrics: finding type counted" grep -q 'emogate_findings_total{type="dangerous_type"} 1' <<<"$m"
check "metrics: the rule set's objects counted" grep -Eq '^emogate_rule_set_objects_total\{set="it"\} [1-9]' <<<"$m"
check "metrics: the rule set's bytes counted" grep -Eq '^emogate_rule_set_bytes_total\{set="it"\} [1-9]' <<<"$m"

# --- tag with subject prefix (SIGHUP reload, same daemon)
check "reload to tag" reload_with tag
r=$(reply --id tag1 --attach invoice.exe --exe --subject "invoice 42")
check "tag: 250 at client" [ "$(code_of "$r")" = 250 ]
f=$(sink_file tag1) && {
    check "tag: X-Emogate-Verdict: malicious" grep -q "^X-Emogate-Verdict: malicious" "$f"
    check "tag: X-Emogate-Findings names the attachment" grep -q "^X-Emogate-Findings: dangerous_type@invoice.exe" "$f"
    check "tag: subject prefixed" grep -q "^Subject: \[MALICIOUS\] invoice 42" "$f"
} || bad "tag: not delivered"

# --- hold: Postfix's hold queue, with the reason
check "reload to hold" reload_with hold
r=$(reply --id hold1 --attach invoice.exe --exe)
check "hold: 250 at client" [ "$(code_of "$r")" = 250 ]
sleep 0.5
qid=$(grep -o '"queue_id": *"[^"]*"' <(tail -1 "$T/emogate.jsonl") | sed 's/.*"\([^"]*\)"$/\1/')
check "hold: postqueue -j shows $qid held" bash -c "postqueue -c '$PF_CONF' -j | grep '\"queue_id\": *\"$qid\"' | grep -q '\"queue_name\": *\"hold\"'"
check "hold: Postfix logged milter-hold for $qid" grep -q "$qid: milter-hold: END-OF-MESSAGE" "$PF_LOG"
check "hold: emogate logged action=hold for $qid" grep -q "^emogate: $qid: verdict=malicious action=hold findings=dangerous_type@invoice.exe" "$T/emogate.log"

# --- tempfail
check "reload to tempfail" reload_with tempfail
r=$(reply --id tempfail1 --attach invoice.exe --exe)
check "tempfail: 451 4.7.1 at client ($r)" grep -q "^451 4.7.1" <<<"$r"

# --- discard
check "reload to discard" reload_with discard
r=$(reply --id discard1 --attach invoice.exe --exe)
check "discard: 250 at client" [ "$(code_of "$r")" = 250 ]
check "discard: Postfix logged milter-discard" bash -c "sleep 0.5; grep -q 'milter-discard' '$PF_LOG'"

# --- quarantine (then discard), list, release through sendmail
check "reload to quarantine" reload_with quarantine
r=$(reply --id quar1 --attach invoice.exe --exe --to carol@rcpt.emogate.test --to dave@rcpt.emogate.test)
check "quarantine: 250 at client" [ "$(code_of "$r")" = 250 ]
list=$("$EMOGATE_BIN" quarantine --config "$T/emogate.toml" list)
qent=$(awk '{print $1}' <<<"$list" | head -1)
check "quarantine: listed ($list)" grep -q "<alice@sender.emogate.test>  carol@rcpt.emogate.test,dave@rcpt.emogate.test  malicious  dangerous_type@invoice.exe" <<<"$list"
check "quarantine: files 0600 owned by nobody" bash -c "[ \"\$(stat -c '%U %a' '$T/quarantine/$qent/message.eml')\" = 'nobody 600' ]"
check "quarantine: not delivered" bash -c "! grep -l -s 'X-Test-Id: quar1' '$SINK_DIR'/* >/dev/null"
check "quarantine: show has the report" bash -c "'$EMOGATE_BIN' quarantine --config '$T/emogate.toml' show '$qent' | grep -q '\"verdict\": \"malicious\"'"
check "quarantine: release" "$EMOGATE_BIN" quarantine --config "$T/emogate.toml" release "$qent" --by postmaster
f=$(sink_file quar1) && {
    check "release: copy carries X-Emogate-Released" grep -q "^X-Emogate-Released: by postmaster at .* from quarantine $qent" "$f"
} || bad "release: released copy did not arrive"
check "release: entry removed" bash -c "[ -z \"\$('$EMOGATE_BIN' quarantine --config '$T/emogate.toml' list)\" ]"

# --- a scan that passes its deadline: caused by the content, so it is
# retried once in a fresh worker and then held with limit_exceeded (never a
# tempfail loop). 3000 archive members (100 MB of text) take about a second
# of CPU, ten times the 100 ms minimum deadline.
check "reload with a 100 ms scan deadline" reload_with reject "scan_timeout_ms = 100"
r=$(reply --id slow1 --attach reports.zip --zip-members 3000)
check "deadline: 250 at client, held ($r)" grep -q "^250" <<<"$r"
check "deadline: logged as a content failure with queue id" grep -Eq "^emogate: [0-9A-Za-z]+: verdict=suspicious action=hold findings=.*limit_exceeded@.* failure=content cause=scan_timeout_ms" "$T/emogate.log"

# --- [milter] max_message_size (read per message, so a reload applies it)
check "reload with max_message_size 100K" reload_with reject "" 'max_message_size = "100K"'
r=$(reply --id big1 --attach data.bin --size 300000)
check "too big: 552 5.3.4 at client ($r)" grep -q "^552 5.3.4" <<<"$r"
check "reload back to normal" reload_with reject

# --- SIGKILL in the middle of DATA: Postfix applies milter_default_action
r=$(reply --id killed1 --attach data.bin --size 200000 --kill-pid "$MILTER_PID")
MILTER_PID=
check "kill: client got 4xx, message stays with the sender ($r)" grep -q "^4" <<<"$r"
check "kill: nothing queued" bash -c "[ -z \"\$(postqueue -c '$PF_CONF' -j | grep -v '\"queue_name\": *\"hold\"')\" ]"
check "kill: not delivered" bash -c "! grep -l -s 'X-Test-Id: killed1' '$SINK_DIR'/* >/dev/null"

# --- restart: service resumes
start_milter || bad "restart failed"
r=$(reply --id after1)
check "restart: 250 at client" [ "$(code_of "$r")" = 250 ]
f=$(sink_file after1) && check "restart: delivered tagged clean" grep -q "^X-Emogate-Verdict: clean" "$f" || bad "restart: not delivered"

# --- SIGTERM while a scan runs: the scan finishes, its message is delivered
reply --id drain1 --attach reports.zip --zip-members 3000 >"$T/drain1.reply" &
SENDER=$!
# Wait until the scan is running (the queue depth gauge says so).
for i in $(seq 1 200); do metrics | grep -q '^emogate_scan_queue_depth [1-9]' && break; sleep 0.05; done
kill -TERM "$MILTER_PID"
wait "$SENDER"
r=$(cat "$T/drain1.reply")
check "SIGTERM: running scan finished, 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
for i in $(seq 1 200); do [ -d "/proc/$MILTER_PID" ] || break; sleep 0.1; done
check "SIGTERM: milter exited" bash -c "[ ! -d /proc/$MILTER_PID ]"
check "SIGTERM: came while the message was in flight" grep -q "stopping: new messages get 4xx, finishing [1-9] message" "$T/emogate.log"
check "SIGTERM: logged stop" grep -q "emogate: stopped" "$T/emogate.log"
MILTER_PID=

echo "--- emogate log (last lines)"; tail -20 "$T/emogate.log"
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
