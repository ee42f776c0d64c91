#!/usr/bin/env bash
# End-to-end inbound sender checks through a real Postfix on 127.0.0.1 with
# emogate's SQLite state store and [outbound] local_domains = example.co.jp
# (private instances under a temp dir, started and stopped here):
#  - our own domain in From, from outside without authentication: delivered
#    with spoofed_sender@From in X-Emogate-Findings; mail from a partner: not;
#  - a bounce (RFC 3464, null sender) for a Message-ID we never sent is
#    counted as backscatter for taro@example.co.jp (`emogate incident report
#    --json`); one for a Message-ID in the outbound log is not;
#  - a reply to a message in the outbound log from a third address with a
#    ZIP: spoofed_sender@In-Reply-To; from the original recipient: nothing;
#  - the metrics count backscatter and the tricks.
# The outbound log is seeded through the store API by the unit-test binary's
# SenderGateSeed step, so this test needs no submission service;
# outbound_freeze.sh runs the same checks on mail the milter itself logged. Needs root (Postfix's master must start as root): exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
TESTS_BIN=${EMOGATE_BUILD_DIR:?EMOGATE_BUILD_DIR not set}/emogate_tests
[ -x "$TESTS_BIN" ] || { echo "FAIL: $TESTS_BIN (the seeding step) is not built"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
SEND="python3 $HERE/lib/smtp_send.py"
T=$(mktemp -d /tmp/emogate-sender.XXXXXX)
PF_SMTP_PORT=${PF_SMTP_PORT:-2791}
PF_SINK_PORT=${PF_SINK_PORT:-2792}
METRICS_PORT=${METRICS_PORT:-2793}
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/sender_mail.sh"

SOCK=$T/run/emogate.sock
mkdir -p "$T/run" "$T/state" "$T/fx"
chmod 755 "$T"
chown nobody "$T/state"; chmod 700 "$T/state"
cat >"$T/emogate.toml" <<CFG
[limits]
temp_dir = "/tmp"
[rules]
paths = []
[actions]
clean = "tag"
suspicious = "tag"
malicious = "reject"
on_error = "tempfail"
[milter]
socket = "unix:$SOCK"
user = "nobody"
group = "postfix"
workers = 2
[quarantine]
dir = "$T/quarantine"
[state]
backend = "sqlite"
path = "$T/state/state.db"
[outbound]
local_domains = ["example.co.jp"]
[log]
to_stderr = true
json_path = "$T/emogate.jsonl"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
CFG

seed() {  # seed MESSAGE_ID RECIPIENT: one message taro "sent"
    EMOGATE_SEED_CONFIG=$T/emogate.toml EMOGATE_SEED_MESSAGE_ID=$1 EMOGATE_SEED_ACCOUNT=taro@example.co.jp \
        EMOGATE_SEED_RECIPIENT=$2 "$TESTS_BIN" --gtest_filter=SenderGateSeed.* >"$T/seed.log" 2>&1 &&
        grep -q "\[       OK \] SenderGateSeed" "$T/seed.log"
}
# Seeded before the daemon starts, then handed to the daemon's user.
check "outbound log seeded with <sent-1@example.co.jp>" seed sent-1@example.co.jp partner@partner.example
chown -R nobody "$T/state"
"$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >>"$T/emogate.log" 2>&1 &
MILTER_PID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { cat "$T/emogate.log"; bad "emogate did not start"; exit 1; }
pf_configure "unix:$SOCK" tempfail
pf_start || { bad "postfix did not start"; exit 1; }

sender_dsn dsnforged forged-1@example.co.jp taro@example.co.jp >"$T/fx/dsnforged.eml"
sender_dsn dsnsent sent-1@example.co.jp taro@example.co.jp >"$T/fx/dsnsent.eml"
sender_reply hijack 'Partner <attacker@evil.example>' taro@example.co.jp sent-1@example.co.jp >"$T/fx/hijack.eml"
sender_reply answer 'Partner <partner@partner.example>' taro@example.co.jp sent-1@example.co.jp >"$T/fx/answer.eml"

findings_of() { grep -i "^X-Emogate-Findings:" "$1" || true; }

# --- our own domain from outside
r=$($SEND --port "$PF_SMTP_PORT" --id spoof1 --from taro@example.co.jp --to hanako@example.co.jp)
check "own domain from outside: 250 ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file spoof1) && {
    check "own domain from outside: spoofed_sender@From" grep -q "^X-Emogate-Findings: spoofed_sender@From" "$f"
    check "own domain from outside: verdict suspicious" grep -q "^X-Emogate-Verdict: suspicious" "$f"
} || bad "own domain from outside: not delivered"
r=$($SEND --port "$PF_SMTP_PORT" --id partner1 --from someone@partner.example --to hanako@example.co.jp)
f=$(sink_file partner1) && check "partner's mail: no finding" bash -c "! grep -qi '^X-Emogate-Findings' '$f'" ||
    bad "partner's mail: not delivered"

# --- bounces
r=$($SEND --port "$PF_SMTP_PORT" --eml "$T/fx/dsnforged.eml" --from "" --to taro@example.co.jp)
check "bounce of a never-sent message: 250 ($r)" [ "$(code_of "$r")" = 250 ]
sink_file dsnforged >/dev/null || bad "bounce of a never-sent message: not delivered"
r=$($SEND --port "$PF_SMTP_PORT" --eml "$T/fx/dsnsent.eml" --from "" --to taro@example.co.jp)
check "bounce of our message: 250 ($r)" [ "$(code_of "$r")" = 250 ]
sink_file dsnsent >/dev/null || bad "bounce of our message: not delivered"
count_of() {  # count_of EVENT ADDRESS: from `emogate incident report --json`
    "$EMOGATE_BIN" incident --config "$T/emogate.toml" report --json 2>"$T/report.err" | python3 -c 'import json,sys
r=json.load(sys.stdin)
print(sum(a["count"] for a in r["addresses"] if a["event"]==sys.argv[1] and a["address"]==sys.argv[2]))' "$1" "$2"
}
check "backscatter counted once for taro (the never-sent one only): $(count_of backscatter taro@example.co.jp)" \
    [ "$(count_of backscatter taro@example.co.jp)" = 1 ]
check "spoofed_sender counted for taro: $(count_of spoofed_sender taro@example.co.jp)" \
    [ "$(count_of spoofed_sender taro@example.co.jp)" = 1 ]
check "log: backscatter line" grep -q "backscatter for taro@example.co.jp: a bounce of <forged-1@example.co.jp>" "$T/emogate.log"
check "log: our bounce not backscatter" grep -q "bounce of our message <sent-1@example.co.jp> for taro@example.co.jp" "$T/emogate.log"

# The report (root, another process) beside the running daemon: the
# daemon's next count still lands.
r=$($SEND --port "$PF_SMTP_PORT" --id spoof2 --from taro@example.co.jp --to hanako@example.co.jp)
sink_file spoof2 >/dev/null || bad "second own-domain mail: not delivered"
check "spoofed_sender counted again after the report ran: $(count_of spoofed_sender taro@example.co.jp)" \
    [ "$(count_of spoofed_sender taro@example.co.jp)" = 2 ]

# --- thread hijack
r=$($SEND --port "$PF_SMTP_PORT" --eml "$T/fx/hijack.eml" --from attacker@evil.example --to taro@example.co.jp)
check "thread hijack: 250 ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file hijack) && {
    check "thread hijack: spoofed_sender@In-Reply-To ($(findings_of "$f"))" grep -q "^X-Emogate-Findings: .*spoofed_sender@In-Reply-To" "$f"
} || bad "thread hijack: not delivered"
r=$($SEND --port "$PF_SMTP_PORT" --eml "$T/fx/answer.eml" --from partner@partner.example --to taro@example.co.jp)
f=$(sink_file answer) && check "the recipient's answer: no spoofed_sender ($(findings_of "$f"))" \
    bash -c "! grep -q 'spoofed_sender' '$f'" || bad "the recipient's answer: not delivered"
check "JSON log: trick thread_hijack with the claimed Message-ID" \
    bash -c "grep '\"trick\":\"thread_hijack\"' '$T/emogate.jsonl' | grep -q '\"claimed\":\"sent-1@example.co.jp\"'"

# --- metrics
m=$(python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())")
check "metrics: backscatter 1" grep -q '^emogate_backscatter_total 1$' <<<"$m"
check "metrics: own_domain_unauthenticated 2" grep -q '^emogate_spoofed_sender_total{trick="own_domain_unauthenticated"} 2$' <<<"$m"
check "metrics: thread_hijack 1" grep -q '^emogate_spoofed_sender_total{trick="thread_hijack"} 1$' <<<"$m"

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; cat "$T/emogate.log" | tail -40; exit 1; }
echo "all checks passed"
