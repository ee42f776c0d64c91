#!/usr/bin/env bash
# Scan worker containment through a real Postfix: emogate_testhooks (the CLI
# plus a test-only detector, tests/hooks/poison_detector.cpp) runs the
# milter; messages whose attachment makes the parser abort, segfault, spin
# or allocate without end are sent together with ordinary ones. Checks: the
# daemon keeps answering (same pid), every ordinary message is delivered,
# each poisoned one is held with a limit_exceeded finding naming the cause
# (log line, JSON, worker death line with the queue id, metrics), nothing is
# lost (sent = delivered + held + rejected + tempfailed), and a 1M-header
# message leaves the daemon's RSS within 20 MB of its level before.
# Needs root (Postfix's master must start as root): exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
HOOKS_BIN=${EMOGATE_TESTHOOKS_BIN:?EMOGATE_TESTHOOKS_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
SEND="python3 $HERE/lib/smtp_send.py"
T=$(mktemp -d /tmp/emogate-wc.XXXXXX)
PF_SMTP_PORT=${PF_SMTP_PORT:-2735}
PF_SINK_PORT=${PF_SINK_PORT:-2736}
METRICS_PORT=${METRICS_PORT:-2737}
. "$HERE/lib/postfix_env.sh"

. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix

SOCK=$T/run/emogate.sock
mkdir -p "$T/run"; chmod 755 "$T"
cat >"$T/emogate.toml" <<CFG
[limits]
temp_dir = "/tmp"
# Also the ordinary messages' wait for a free worker: long enough for a
# loaded machine (2 cores shared with builds), while poisoned messages hold
# workers and crashed ones are replaced.
scan_timeout_ms = 10000
worker_memory = "128M"
[rules]
paths = []
[actions]
clean = "tag"
suspicious = "hold"
malicious = "reject"
on_error = "tempfail"
[milter]
socket = "unix:$SOCK"
user = "nobody"
group = "postfix"
workers = 4
[quarantine]
dir = "$T/quarantine"
[log]
to_stderr = true
json_path = "$T/emogate.jsonl"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
CFG
"$HOOKS_BIN" milter --config "$T/emogate.toml" --foreground >>"$T/emogate.log" 2>&1 &
MILTER_PID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { cat "$T/emogate.log"; bad "emogate did not start"; exit 1; }
pf_configure "unix:$SOCK" tempfail
pf_start || { bad "postfix did not start"; exit 1; }
metrics() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())"; }
check "workers are children of the daemon, running as nobody" \
    bash -c "[ \$(ps -o user= --ppid $MILTER_PID | grep -c nobody) = 4 ]"

# --- poisoned and ordinary messages, all at once
POISONS="crash:CRASH:worker_crash segv:SEGV:worker_crash spin:SPIN:scan_timeout_ms alloc:ALLOC:worker_memory"
SENT=0
PIDS=()
for p in $POISONS; do
    IFS=: read -r id marker cause <<<"$p"
    $SEND --port "$PF_SMTP_PORT" --id "p-$id" --attach "$id.bin" --content "EMOGATE-TEST-$marker" >"$T/reply.p-$id" &
    PIDS+=($!)
    SENT=$((SENT + 1))
done
for i in $(seq 1 12); do
    $SEND --port "$PF_SMTP_PORT" --id "c-$i" --attach "report$i.pdf" --size 20000 >"$T/reply.c-$i" &
    PIDS+=($!)
    SENT=$((SENT + 1))
done
wait "${PIDS[@]}"
accepted=0; rejected=0; tempfailed=0
for f in "$T"/reply.*; do
    case $(cut -c1 "$f") in 2) accepted=$((accepted + 1)) ;; 5) rejected=$((rejected + 1)) ;; 4) tempfailed=$((tempfailed + 1)) ;; esac
done
# Delivery is asynchronous: sink_file waits (up to 20 s each) for each copy.
delivered=0
for i in $(seq 1 12); do sink_file "c-$i" >/dev/null && delivered=$((delivered + 1)); done
held=$(pf_queue_json | grep -c '"queue_name": *"hold"')
check "daemon never died (pid $MILTER_PID alive)" [ -d "/proc/$MILTER_PID" ]
check "ordinary messages: all 12 delivered" [ "$delivered" = 12 ]
check "poisoned messages: all 4 held" [ "$held" = 4 ]
check "nothing lost: sent $SENT = delivered $delivered + held $held + rejected $rejected + tempfailed $tempfailed" \
    [ "$SENT" = $((delivered + held + rejected + tempfailed)) ]
for p in $POISONS; do
    IFS=: read -r id marker cause <<<"$p"
    qid=$(grep -o "[0-9A-Za-z]*: message-id=<p-$id@it.emogate.test>" "$PF_LOG" | head -1 | cut -d: -f1)
    check "$id: 250 at client (held)" grep -q "^250" "$T/reply.p-$id"
    check "$id: log line for $qid: held, limit_exceeded, failure=content cause=$cause" \
        grep -Eq "^emogate: $qid: verdict=suspicious action=hold findings=limit_exceeded@\(message\) .* failure=content cause=$cause" "$T/emogate.log"
    check "$id: JSON line says failure content / $cause" \
        bash -c "grep '\"queue_id\":\"$qid\"' '$T/emogate.jsonl' | grep '\"failure\":\"content\"' | grep -q '\"failure_cause\":\"$cause\"'"
    check "$id: a worker death line names $qid" grep -Eq "^emogate: $qid: warning: scan worker [0-9]+ .*\(cause $cause\).* while scanning this message; replaced" "$T/emogate.log"
done
check "crash: the death line names SIGABRT" grep -q "killed by signal 6 (SIGABRT) (cause worker_crash)" "$T/emogate.log"
m=$(metrics)
check "metrics: 4 workers alive" grep -q '^emogate_workers 4$' <<<"$m"
check "metrics: restarts by cause worker_crash (>= 4)" grep -Eq '^emogate_worker_restarts_total\{cause="worker_crash"\} ([4-9]|[1-9][0-9])$' <<<"$m"
check "metrics: no fork failed" grep -q '^emogate_worker_fork_failures_total 0$' <<<"$m"
check "metrics: kills by limit scan_timeout_ms (2)" grep -q '^emogate_worker_kills_total{limit="scan_timeout_ms"} 2$' <<<"$m"
check "metrics: content failures counted" grep -q '^emogate_scan_failures_total{class="content",cause="worker_crash"} 2$' <<<"$m"

# --- after all that, service as usual
r=$($SEND --port "$PF_SMTP_PORT" --id after1)
check "after: 250 ($r)" grep -q "^250" <<<"$r"
f=$(sink_file after1) && check "after: delivered tagged clean" grep -q "^X-Emogate-Verdict: clean" "$f" || bad "after: not delivered"

# --- a 1M-header message: the daemon only buffers it (in a memfd)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$MILTER_PID/status"; }
before=$(rss)
r=$($SEND --port "$PF_SMTP_PORT" --id flood1 --headers 1000000)
after=$(rss)
echo "# daemon RSS before ${before} kB, after the 1M-header message ${after} kB ($r)"
check "flood: answered ($r)" grep -q "^[245]" <<<"$r"
check "flood: daemon RSS within 20 MB of before (${before} -> ${after} kB)" [ $((after - before)) -lt 20480 ]

echo "--- emogate log (last lines)"; tail -15 "$T/emogate.log"
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
