#!/usr/bin/env bash
# PPAP across two mail hosts: two private Postfix instances on loopback
# (hosts a and b, own ports and queues), each with its own emogate daemon as
# milter, both relaying to one smtp-sink, the daemons sharing one private
# redis-server ([state] backend = "redis"), all started and stopped here.
#  - mail 1 (AES ZIP, no password) to a, the password mail
#    (「パスワード：…」, ISO-2022-JP, same sender, a shared recipient) to b:
#    b sees a's waiting entry and mail 1 reaches the sink exactly once,
#    with X-Emogate-PPAP naming b's password mail;
#  - a's daemon killed (SIGKILL) between the two mails: b still releases
#    mail 1, exactly once, and a restarted a releases nothing more;
#  - the password mail delivered to both hosts at once: one release;
#  - Redis stopped: mail to either host gets on_error (4xx tempfail),
#    nothing is delivered or queued; Redis back (its append-only file keeps
#    the waiting entry) and the sending MTA's retry: handled, once.
# Needs root (Postfix's master starts as root), 7z and redis-server:
# exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start private Postfix instances"; exit 77; }
command -v redis-server >/dev/null || { echo "SKIP: redis-server not installed (scripts/deps.sh installs it)"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/ppap_mail.sh"
ppap_require
T=$(mktemp -d /tmp/emogate-ppap-hosts.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"   # hosts, redis-server, test_cleanup

redis_start || { bad "redis-server did not start"; exit 1; }
STATE=$(printf '[state]\nbackend = "redis"\nredis = "127.0.0.1:%s"\nredis_prefix = "it:"' "$REDIS_PORT")
PPAP=$(printf '[ppap]\nwindow = "30m"\non_timeout = "keep"')
host_setup a "$STATE" "$PPAP" || { bad "host a did not start"; exit 1; }
host_setup b "$STATE" "$PPAP" || { bad "host b did not start"; exit 1; }

FROM=tanaka@sender.emogate.test
mkdir -p "$T/fx"
# once TEST_ID: delivered, and after 3 s more still exactly one copy
once() { sink_file "$1" >/dev/null && sleep 3 && [ "$(sink_count "$1")" = 1 ]; }
none() { sleep 2; [ "$(sink_count "$1")" = 0 ]; }
queues_empty() {
    local n
    for n in a b; do
        [ -z "$(postqueue -c "$T/pf-$n/etc" -j 2>/dev/null)" ] || return 1
    done
}

# --- 1. mail 1 to a, password mail to b
ppap_pair "$T/fx" p1 "$FROM" bob@rcpt.emogate.test Pw1kQ7mZ
r=$(host_send a --eml "$T/fx/p1-zip.eml" --from "$FROM" --to bob@rcpt.emogate.test)
check "1: mail 1 to host a: 250 ($r)" [ "$(code_of "$r")" = 250 ]
Q1=$(qid_of "$r")
check "1: host a held it ($Q1)" wait_log a "^emogate: $Q1: ppap=held id="
check "1: not delivered while waiting" none p1-zip
check "1: host b lists a's waiting entry" grep -q "awaiting-password  queue_id=$Q1" <<<"$(host_list b)"
r=$(host_send b --eml "$T/fx/p1-pw.eml" --from "$FROM" --to bob@rcpt.emogate.test --to sato@rcpt.emogate.test)
check "1: password mail to host b: 250 ($r)" [ "$(code_of "$r")" = 250 ]
Q2=$(qid_of "$r")
f=$(sink_file p1-pw) && check "1: password mail tagged 'password for $Q1'" grep -q "^X-Emogate-PPAP: password for $Q1\$" "$f" ||
    bad "1: password mail not delivered"
f=$(sink_file p1-zip) && {
    check "1: mail 1 carries X-Emogate-PPAP naming b's password mail $Q2" grep -q "^X-Emogate-PPAP: released by password mail $Q2" "$f"
    check "1: password not shown" bash -c "! grep -q Pw1kQ7mZ '$f'"
} || bad "1: mail 1 not released"
check "1: mail 1 delivered exactly once" once p1-zip
check "1: host b released it" grep -q "^emogate: $Q1: ppap=released id=[^ ]* password_mail=$Q2" "$(host_log b)"
check "1: host a did not" bash -c "! grep -q '^emogate: $Q1: ppap=released' '$(host_log a)'"

# --- 2. host a's daemon killed between the two mails
ppap_pair "$T/fx" p2 "$FROM" carol@rcpt.emogate.test Pw2kQ7mZ
r=$(host_send a --eml "$T/fx/p2-zip.eml" --from "$FROM" --to carol@rcpt.emogate.test)
check "2: mail 1 to host a: 250 ($r)" [ "$(code_of "$r")" = 250 ]
Q1=$(qid_of "$r")
check "2: host a held it" wait_log a "^emogate: $Q1: ppap=held id="
host_kill a KILL
r=$(host_send b --eml "$T/fx/p2-pw.eml" --from "$FROM" --to carol@rcpt.emogate.test)
check "2: password mail to host b: 250 ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file p2-zip) && check "2: mail 1 released by b with X-Emogate-PPAP" grep -q "^X-Emogate-PPAP: released by password mail $(qid_of "$r")" "$f" ||
    bad "2: mail 1 not released with host a down"
check "2: restart host a" host_start a
check "2: mail 1 delivered exactly once (a back)" once p2-zip

# --- 3. the password mail reaches both hosts at once: one claim wins
ppap_pair "$T/fx" p3 "$FROM" dave@rcpt.emogate.test Pw3kQ7mZ
r=$(host_send a --eml "$T/fx/p3-zip.eml" --from "$FROM" --to dave@rcpt.emogate.test)
Q1=$(qid_of "$r")
check "3: host a held mail 1" wait_log a "^emogate: $Q1: ppap=held id="
host_send a --eml "$T/fx/p3-pw.eml" --from "$FROM" --to dave@rcpt.emogate.test >"$T/p3a.reply" & pa=$!
host_send b --eml "$T/fx/p3-pw.eml" --from "$FROM" --to dave@rcpt.emogate.test >"$T/p3b.reply" & pb=$!
wait "$pa" "$pb"
check "3: both took the password mail ($(cat "$T/p3a.reply") / $(cat "$T/p3b.reply"))" \
    bash -c "grep -q ^250 '$T/p3a.reply' && grep -q ^250 '$T/p3b.reply'"
check "3: mail 1 delivered exactly once" once p3-zip
check "3: one release logged over both hosts" \
    [ "$(cat "$(host_log a)" "$(host_log b)" | grep -c "^emogate: $Q1: ppap=released")" = 1 ]

# --- 4. Redis stopped: on_error, nothing lost
ppap_pair "$T/fx" p4 "$FROM" erin@rcpt.emogate.test Pw4kQ7mZ
r=$(host_send a --eml "$T/fx/p4-zip.eml" --from "$FROM" --to erin@rcpt.emogate.test)
Q1=$(qid_of "$r")
check "4: host a held mail 1" wait_log a "^emogate: $Q1: ppap=held id="
redis_stop TERM
r=$(host_send b --eml "$T/fx/p4-pw.eml" --from "$FROM" --to erin@rcpt.emogate.test)
check "4: Redis down: password mail to b gets 4xx ($r)" grep -q "^4" <<<"$r"
r=$(host_send a --id plain4 --from "$FROM" --to erin@rcpt.emogate.test)
check "4: Redis down: ordinary mail to a gets 4xx ($r)" grep -q "^4" <<<"$r"
check "4: Redis down: nothing delivered" bash -c "sleep 2; [ \$(grep -l -s -E '^X-Test-Id: (p4-zip|p4-pw|plain4)' '$SINK_DIR'/* | wc -l) = 0 ]"
check "4: Redis down: nothing queued at either host" queues_empty
check "4: logged as a state store error" grep -q "state store" "$(host_log b)"
redis_start || bad "4: redis-server did not start again"
# The sending MTA retries after its 4xx.
for i in $(seq 1 20); do
    r=$(host_send b --eml "$T/fx/p4-pw.eml" --from "$FROM" --to erin@rcpt.emogate.test)
    [ "$(code_of "$r")" = 250 ] && break; sleep 0.5
done
check "4: Redis back: the retried password mail is taken ($r)" [ "$(code_of "$r")" = 250 ]
r=$(host_send a --id plain4 --from "$FROM" --to erin@rcpt.emogate.test)
check "4: Redis back: ordinary mail taken ($r)" [ "$(code_of "$r")" = 250 ]
check "4: mail 1 kept in Redis and released exactly once" once p4-zip
check "4: password mail delivered once" once p4-pw
check "4: ordinary mail delivered once" once plain4

m=$(host_metrics b)
check "metrics: host b counted its releases" grep -Eq '^emogate_ppap_released_total [3-4]$' <<<"$m"
check "nothing left waiting" bash -c "! grep -q awaiting-password <<<\"\$('$EMOGATE_BIN' quarantine --config '$T/a/emogate.toml' list)\""

for n in a b; do echo "--- host $n: ppap lines"; grep ppap "$(host_log "$n")" | tail -8; done
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
