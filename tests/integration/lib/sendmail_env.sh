# Helpers for the Sendmail integration test: Debian's sendmail-bin run from
# its unpacked .deb (the package conflicts with postfix, its files do not),
# a private sendmail.cf built with the unpacked m4 and cf files, and the
# daemon in the foreground on loopback, relaying everything to the
# smtp-sink of postfix_env.sh.
# Source it after postfix_env.sh (wait_port) with T (an absolute temp dir),
# SM_SMTP_PORT and PF_SINK_PORT set. Nothing here touches /etc/mail or
# installs a package; the .debs are cached in $SM_DEB_CACHE.
#
# The traps this works around, on Debian 12 test machines:
# - the unpacked sendmail is setgid smmsp, so glibc ignores LD_LIBRARY_PATH
#   (needed for the unpacked libwrap0): a non-setgid copy runs as root;
# - the container's host name has no dot and does not resolve, so every
#   sendmail command sleeps 60 s looking for its canonical name: each runs
#   in its own UTS namespace (unshare --uts) named mx.emogate.test;
# - "[127.0.0.1]" as smart host counts as this host: relay:[127.0.0.1];
# - the aliases file under /tmp (sticky) needs DontBlameSendmail=TrustStickyBit;
# - this build refuses bare LF in SMTP: the test client sends CRLF.

SM_DEB_CACHE=${SM_DEB_CACHE:-/var/cache/emogate-test/sendmail}
SM_ROOT=$T/sm/root
SM_DIR=$T/sm
SM_CF=$SM_DIR/sendmail.cf
SM_BIN=$SM_DIR/sendmail
SM_QUEUE=$SM_DIR/mqueue
SM_HOSTNAME=mx.emogate.test

# sm_fetch: the four .debs, downloaded once into $SM_DEB_CACHE (outside the
# checkout, kept across runs); returns 1 when apt cannot get them.
sm_fetch() {
    local pkgs=(sendmail-bin sendmail-cf m4 libwrap0) missing=() p
    mkdir -p "$SM_DEB_CACHE"
    for p in "${pkgs[@]}"; do
        compgen -G "$SM_DEB_CACHE/${p}_*.deb" >/dev/null || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    (cd "$SM_DEB_CACHE" && apt-get download "${missing[@]}" >/dev/null 2>&1) ||
        { apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 &&
          (cd "$SM_DEB_CACHE" && apt-get download "${missing[@]}" >/dev/null 2>&1); } || return 1
    for p in "${pkgs[@]}"; do compgen -G "$SM_DEB_CACHE/${p}_*.deb" >/dev/null || return 1; done
}

# sm_unpack: the .debs into $SM_ROOT, and the non-setgid copy of the binary.
sm_unpack() {
    local d
    mkdir -p "$SM_ROOT" "$SM_QUEUE"
    chmod 700 "$SM_QUEUE"
    for d in "$SM_DEB_CACHE"/sendmail-bin_*.deb "$SM_DEB_CACHE"/sendmail-cf_*.deb \
             "$SM_DEB_CACHE"/m4_*.deb "$SM_DEB_CACHE"/libwrap0_*.deb; do
        dpkg-deb -x "$d" "$SM_ROOT" || return 1
    done
    install -m 0755 "$SM_ROOT/usr/libexec/sendmail/sendmail" "$SM_BIN"
    export LD_LIBRARY_PATH="$SM_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# sm_configure MILTER_LINE: sendmail.mc -> sendmail.cf with the unpacked m4.
# MILTER_LINE is the second argument of INPUT_MAIL_FILTER(`emogate', ...).
sm_configure() {
    local q="'" milter=$1
    printf 'postmaster: root\n' >"$SM_DIR/aliases"
    printf 'hosts files\naliases files\n' >"$SM_DIR/service.switch"
    printf '127.0.0.1 localhost %s\n' "$SM_HOSTNAME" >"$SM_DIR/hosts"
    : >"$SM_DIR/helpfile"
    cat >"$SM_DIR/sendmail.mc" <<MC
divert(-1)
divert(0)dnl
include(\`$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4$q)dnl
VERSIONID(\`emogate integration test$q)dnl
OSTYPE(\`linux$q)dnl
define(\`confDONT_BLAME_SENDMAIL$q, \`TrustStickyBit$q)dnl
define(\`ALIAS_FILE$q, \`$SM_DIR/aliases$q)dnl
define(\`QUEUE_DIR$q, \`$SM_QUEUE$q)dnl
define(\`STATUS_FILE$q, \`$SM_DIR/sendmail.st$q)dnl
define(\`HELP_FILE$q, \`$SM_DIR/helpfile$q)dnl
define(\`confPID_FILE$q, \`$SM_DIR/sendmail.pid$q)dnl
define(\`confSERVICE_SWITCH_FILE$q, \`$SM_DIR/service.switch$q)dnl
define(\`confHOSTS_FILE$q, \`$SM_DIR/hosts$q)dnl
define(\`confDEAD_LETTER_DROP$q, \`$SM_DIR/dead.letter$q)dnl
define(\`SMART_HOST$q, \`relay:[127.0.0.1]$q)dnl
define(\`RELAY_MAILER_ARGS$q, \`TCP \$h $PF_SINK_PORT$q)dnl
define(\`confDELIVERY_MODE$q, \`background$q)dnl
define(\`confMILTER_LOG_LEVEL$q, \`6$q)dnl
define(\`confTO_IDENT$q, \`0s$q)dnl
FEATURE(\`nocanonify$q)dnl
FEATURE(\`accept_unresolvable_domains$q)dnl
FEATURE(\`promiscuous_relay$q)dnl
DAEMON_OPTIONS(\`Port=$SM_SMTP_PORT, Addr=127.0.0.1, Name=MTA$q)dnl
INPUT_MAIL_FILTER(\`emogate$q, \`$milter$q)dnl
MAILER(\`smtp$q)dnl
MC
    "$SM_ROOT/usr/bin/m4" "$SM_DIR/sendmail.mc" >"$SM_CF" 2>"$SM_DIR/m4.log" || { cat "$SM_DIR/m4.log" >&2; return 1; }
    sm -bi >/dev/null 2>&1  # aliases.db
}

# sm ARGS: one sendmail command with this config, in its own UTS namespace.
sm() {
    unshare --uts sh -c 'hostname "$0" && exec "$@"' "$SM_HOSTNAME" "$SM_BIN" -C "$SM_CF" "$@"
}

# sm_start: the daemon in the foreground (-bD), pid in SM_PID.
sm_start() {
    # Not through sm(): $! must be sendmail itself (unshare and sh exec it).
    unshare --uts sh -c 'hostname "$0" && exec "$@"' "$SM_HOSTNAME" "$SM_BIN" -C "$SM_CF" -bD \
        >"$SM_DIR/daemon.log" 2>&1 </dev/null &
    SM_PID=$!
    wait_port "$SM_SMTP_PORT"
}

sm_stop() {
    [ -n "${SM_PID:-}" ] || return 0
    kill "$SM_PID" 2>/dev/null
    local i; for i in $(seq 1 50); do [ -d "/proc/$SM_PID" ] || break; sleep 0.1; done
    kill -9 "$SM_PID" 2>/dev/null
    SM_PID=
}

# sm_queue_file PREFIX QID: the queue file (qf, hf, df) of QID, if present.
sm_queue_file() { [ -f "$SM_QUEUE/$1$2" ] && echo "$SM_QUEUE/$1$2"; }
