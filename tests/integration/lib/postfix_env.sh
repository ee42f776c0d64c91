# Helpers for the integration tests and the load benchmark: a private,
# loopback-only Postfix instance (own config_directory, queue_directory and
# data_directory under $T/pf) relaying everything to Postfix's smtp-sink,
# which keeps each delivered message as a file under $T/sink.
# Source it with T (an absolute temp dir), PF_SMTP_PORT and PF_SINK_PORT set.
# Nothing here touches /etc/postfix or the system instance.
# Several instances (mail hosts) can run side by side, each with its own
# directories, master and SMTP port, all relaying to the one sink:
# `pf_use NAME PORT` makes NAME the instance the pf_* functions act on
# (`pf_use "" PORT` is the default instance under $T/pf).

# pf_use NAME SMTP_PORT
pf_use() {
    PF_NAME=$1 PF_SMTP_PORT=$2
    PF_CONF=$T/pf${1:+-$1}/etc
    PF_QUEUE=$T/pf${1:+-$1}/spool
    PF_DATA=$T/pf${1:+-$1}/data
    PF_LOG=$T/pf${1:+-$1}/maillog
}
pf_use "" "${PF_SMTP_PORT:-}"
SINK_DIR=$T/sink

pf_install() {  # returns 1 when Postfix cannot be installed
    command -v postfix >/dev/null 2>&1 && [ -x /usr/sbin/smtp-sink ] && return 0
    debconf-set-selections <<'DEB' 2>/dev/null || true
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string test.emogate.test
DEB
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends postfix >/dev/null 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends postfix >/dev/null 2>&1; } || return 1
    command -v postfix >/dev/null 2>&1
}

# pf_configure MILTER [DEFAULT_ACTION]
pf_configure() {
    local milter=$1 default_action=${2:-tempfail}
    mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" "$SINK_DIR"
    chmod 755 "$T" "$(dirname "$PF_CONF")" "$PF_CONF"
    chown root:root "$PF_QUEUE"; chmod 755 "$PF_QUEUE"
    chown postfix:postfix "$PF_DATA"; chmod 700 "$PF_DATA"
    chown postfix "$SINK_DIR"
    cat >"$PF_CONF/main.cf" <<CF
compatibility_level = 3.6
config_directory = $PF_CONF
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
myhostname = mx${PF_NAME:+-$PF_NAME}.emogate.test
syslog_name = postfix${PF_NAME:+-$PF_NAME}
mydomain = emogate.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
relay_domains =
alias_maps =
alias_database =
local_transport = error:local delivery disabled
relayhost = [127.0.0.1]:$PF_SINK_PORT
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtputf8_enable = no
biff = no
notify_classes =
message_size_limit = 52428800
in_flow_delay = 0s
default_process_limit = 100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
maillog_file = $PF_LOG
maillog_file_prefixes = $T
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = $default_action
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 300s
CF
    cat >"$PF_CONF/master.cf" <<CF
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
    postfix -c "$PF_CONF" check >/dev/null 2>&1 || true
}

wait_port() {  # wait_port PORT: up to 10 s
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

free_port() {  # prints a TCP port on 127.0.0.1 that nothing listens on now
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sink_start: Postfix's smtp-sink on $PF_SINK_PORT, one file per message
# under $SINK_DIR (also the relay target of the Sendmail test).
sink_start() {
    mkdir -p "$SINK_DIR"
    chown postfix "$SINK_DIR"
    /usr/sbin/smtp-sink -4 -u postfix -h sink.emogate.test -m 200 -d "$SINK_DIR/%H%M%S." \
        "inet:127.0.0.1:$PF_SINK_PORT" 256 >"$T/smtp-sink.log" 2>&1 </dev/null &
    echo $! >"$T/smtp-sink.pid"
    wait_port "$PF_SINK_PORT"
}

sink_running() { [ -f "$T/smtp-sink.pid" ] && [ -d "/proc/$(cat "$T/smtp-sink.pid")" ]; }

sink_stop() {
    if [ -f "$T/smtp-sink.pid" ]; then
        kill "$(cat "$T/smtp-sink.pid")" 2>/dev/null || true
        rm -f "$T/smtp-sink.pid"
    fi
}

pf_start() {  # the current instance, and the sink unless it runs already
    sink_running || sink_start || return 1
    postfix -c "$PF_CONF" start >/dev/null 2>&1 || { tail -20 "$PF_LOG" >&2; return 1; }
    wait_port "$PF_SMTP_PORT"
}

pf_reload() { postfix -c "$PF_CONF" reload >/dev/null 2>&1; }

pf_stop_mta() {  # the current instance only
    postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
    local i mp
    mp=$(tr -d ' \n' 2>/dev/null <"$PF_QUEUE/pid/master.pid" || true)
    for i in $(seq 1 50); do [ -n "$mp" ] && [ -d "/proc/$mp" ] || break; sleep 0.1; done
    [ -n "$mp" ] && [ -d "/proc/$mp" ] && postfix -c "$PF_CONF" abort >/dev/null 2>&1
    return 0
}

pf_stop() { pf_stop_mta; sink_stop; }

# sink_file ID [TIMEOUT_S]: prints the sink file holding X-Test-Id: ID.
sink_file() {
    local id=$1 n=$(( ${2:-20} * 10 )) i f
    for i in $(seq 1 "$n"); do
        f=$(grep -l -s "^X-Test-Id: ${id}[[:space:]]*$" "$SINK_DIR"/* 2>/dev/null | head -1 || true)
        [ -n "$f" ] && { echo "$f"; return 0; }
        [ $((i % 20)) = 0 ] && postqueue -c "$PF_CONF" -f >/dev/null 2>&1
        sleep 0.1
    done
    return 1
}

# sink_count ID: how many sink files hold X-Test-Id: ID (a copy delivered twice counts 2).
sink_count() { grep -l -s "^X-Test-Id: ${1}[[:space:]]*$" "$SINK_DIR"/* 2>/dev/null | wc -l; }

code_of() { cut -c1-3 <<<"$1"; }  # the SMTP code of smtp_send.py's reply line

pf_queue_json() { postqueue -c "$PF_CONF" -j 2>/dev/null; }
