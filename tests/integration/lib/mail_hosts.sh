# Several mail hosts on loopback for the integration tests and the load
# benchmark: each host is a private Postfix instance (postfix_env.sh's
# pf_use NAME) with its own emogate daemon as milter (config, socket,
# quarantine, state and logs under $T/NAME; started as root, dropping to
# nobody), all relaying to the one smtp-sink; plus a private redis-server
# the daemons can share (127.0.0.1, a free port, its own folder under
# $T/redis, append-only file so a stop and start keeps what was stored).
# Source it after postfix_env.sh (and checks.sh in a test) with EMOGATE_BIN
# and T set. Trusts its caller; touches nothing outside $T.
#
#   reinject_sendmail DIR PORT  DIR/sendmail: re-injects by SMTP to PORT
#   host_setup NAME STATE_TOML [EXTRA_TOML]
#                          writes $T/NAME/emogate.toml ([state] section from
#                          STATE_TOML, EXTRA_TOML: further whole sections),
#                          starts the daemon and the Postfix instance on a
#                          free port; HOST_PORT[NAME], HOST_METRICS[NAME];
#                          a release re-injects into the same instance
#   host_start NAME        (re)starts the daemon; HOST_PID[NAME]
#   host_kill NAME [SIG]   signals the daemon (default SIGKILL) and waits for it
#   host_send NAME ARGS... smtp_send.py against the host's SMTP port
#   host_log NAME          the daemon's log file
#   host_metrics NAME      its Prometheus text
#   host_list NAME         `emogate quarantine list` with the host's config
#   wait_log NAME REGEX    up to 20 s for a line in the daemon's log
#   qid_of REPLY           the Postfix queue id in an SMTP reply
#   hosts_stop             every daemon and Postfix instance (not the sink)
#   redis_start / redis_stop [SIG] / redis_cli ARGS...   REDIS_PORT, REDIS_PID
#   test_cleanup           hosts_stop and redis_stop (checks.sh's exit trap calls it)
# The sink listens on PF_SINK_PORT, a free port unless set.

[ -n "${PF_SINK_PORT:-}" ] || PF_SINK_PORT=$(free_port)
declare -A HOST_PID HOST_PORT HOST_METRICS HOST_REINJECT
HOST_NAMES=()
REDIS_PID=
REDIS_PORT=
MAIL_HOSTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# reinject_sendmail DIR PORT: DIR/sendmail, the [quarantine] sendmail through
# which a release re-injects: by SMTP to 127.0.0.1:PORT, an smtpd without
# milters (sendmail_smtp.py: Postfix's sendmail refuses a private config
# directory to the daemon's user nobody).
reinject_sendmail() {
    cp "$MAIL_HOSTS_LIB/sendmail_smtp.py" "$1/sendmail_smtp.py"
    printf '#!/bin/sh\nexec python3 %s --port %s "$@"\n' "$1/sendmail_smtp.py" "$2" >"$1/sendmail"
    chmod 755 "$1/sendmail" "$1/sendmail_smtp.py"
}

host_setup() {
    local name=$1 state=$2 extra=${3:-} dir=$T/$1
    HOST_NAMES+=("$name")
    HOST_PORT[$name]=$(free_port)
    HOST_METRICS[$name]=$(free_port)
    mkdir -p "$dir/run" "$dir/state"
    chmod 755 "$T" "$dir" "$dir/run"
    chown nobody:postfix "$dir/state"; chmod 700 "$dir/state"
    HOST_REINJECT[$name]=$(free_port)
    pf_use "$name" "${HOST_PORT[$name]}"
    reinject_sendmail "$dir" "${HOST_REINJECT[$name]}"
    cat >"$dir/emogate.toml" <<CFG
[limits]
temp_dir = "/tmp"
[rules]
paths = []
[actions]
clean = "tag"
suspicious = "hold"
malicious = "quarantine"
on_error = "tempfail"
[milter]
socket = "unix:$dir/run/emogate.sock"
user = "nobody"
group = "postfix"
workers = 1
pid_file = "$dir/run/emogate.pid"
[quarantine]
dir = "$dir/quarantine"
after = "discard"
sendmail = "$dir/sendmail"
[log]
to_stderr = true
json_path = "$dir/emogate.jsonl"
[metrics]
listen = "127.0.0.1:${HOST_METRICS[$name]}"
$state
$extra
CFG
    host_start "$name" || { tail -20 "$dir/emogate.log" >&2; return 1; }
    pf_configure "unix:$dir/run/emogate.sock" tempfail
    echo "127.0.0.1:${HOST_REINJECT[$name]} inet n - n - - smtpd -o smtpd_milters=" >>"$PF_CONF/master.cf"
    pf_start
}

host_start() {
    local dir=$T/$1 i
    rm -f "$dir/run/emogate.sock"
    "$EMOGATE_BIN" milter --config "$dir/emogate.toml" --foreground >>"$dir/emogate.log" 2>&1 &
    HOST_PID[$1]=$!
    for i in $(seq 1 100); do [ -S "$dir/run/emogate.sock" ] && return 0; sleep 0.1; done
    return 1
}

host_kill() {
    local pid=${HOST_PID[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "-${2:-KILL}" "$pid" 2>/dev/null
    for i in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    HOST_PID[$1]=
}

host_send() { local name=$1; shift; python3 "$MAIL_HOSTS_LIB/smtp_send.py" --port "${HOST_PORT[$name]}" "$@"; }
host_log() { echo "$T/$1/emogate.log"; }
host_metrics() {
    python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:${HOST_METRICS[$1]}/metrics', timeout=5).read().decode())"
}

host_list() { "$EMOGATE_BIN" quarantine --config "$T/$1/emogate.toml" list; }
wait_log() {
    local i
    for i in $(seq 1 200); do grep -Eq "$2" "$T/$1/emogate.log" && return 0; sleep 0.1; done
    return 1
}
qid_of() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1"; }

hosts_stop() {
    local name
    for name in "${HOST_NAMES[@]}"; do
        host_kill "$name" TERM
        pf_use "$name" "${HOST_PORT[$name]}"
        pf_stop_mta
    done
}

test_cleanup() { hosts_stop; redis_stop; }

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_start() {  # on REDIS_PORT when set (a restart), else on a free port
    [ -n "$REDIS_PORT" ] || REDIS_PORT=$(free_port)
    mkdir -p "$T/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save "" \
        --appendonly yes --appendfsync always --daemonize no --logfile "$T/redis/redis.log" </dev/null &
    REDIS_PID=$!
    local i
    for i in $(seq 1 100); do
        [ "$(redis_cli ping 2>/dev/null)" = PONG ] && return 0
        [ -d "/proc/$REDIS_PID" ] || break
        sleep 0.1
    done
    tail -5 "$T/redis/redis.log" >&2
    return 1
}

redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    kill "-${1:-TERM}" "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}
