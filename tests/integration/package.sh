#!/usr/bin/env bash
# The Debian package, end to end: scripts/package builds it from HEAD,
# lintian finds no error in it, `apt-get install ./emogate_*.deb` installs
# it (user, directories and modes, conffile, rules, unit, man pages,
# logrotate), `emogate check` passes on the installed config, the unit's
# ExecStartPre/ExecStart lines start the daemon as user emogate (no systemd
# as PID 1 here: the lines are run as the unit says), a private Postfix on
# loopback sends mail through it, an edited config survives a reinstall,
# `apt-get remove` keeps config and data and `apt-get purge` removes them.
# The package is purged on any exit (trap). Needs root; runs alone
# (RUN_SERIAL): while it is installed, /etc/emogate/emogate.toml exists.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to install a package"; exit 77; }
SRC=${EMOGATE_SOURCE_DIR:?EMOGATE_SOURCE_DIR not set}
BUILD=${EMOGATE_BUILD_DIR:?EMOGATE_BUILD_DIR not set}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null ||
    { echo "SKIP: needs dpkg-dev, debhelper and lintian (scripts/deps.sh installs them)"; exit 77; }
git -C "$SRC" rev-parse HEAD >/dev/null 2>&1 || { echo "SKIP: $SRC is not a git checkout (scripts/package exports HEAD)"; exit 77; }
if dpkg-query -W -f='${Status}' emogate 2>/dev/null | grep -qv "not-installed"; then
    echo "SKIP: package emogate is already on this machine (dpkg -l emogate); not touching it"; exit 77
fi
[ -e /etc/emogate ] && { echo "SKIP: /etc/emogate exists (an installation from source?); not touching it"; exit 77; }

SEND="python3 $HERE/lib/smtp_send.py"
T=$(mktemp -d /tmp/emogate-pkg.XXXXXX)
chmod 755 "$T"
PF_SMTP_PORT=${PF_SMTP_PORT:-2765}
PF_SINK_PORT=${PF_SINK_PORT:-2766}
. "$HERE/lib/postfix_env.sh"
APT="apt-get -o DPkg::Lock::Timeout=300 -q -y"
export DEBIAN_FRONTEND=noninteractive

# checks.sh: skips without Postfix; ok/bad/check; its trap stops Postfix.
. "$HERE/lib/checks.sh"
had_user=0
getent passwd emogate >/dev/null && had_user=1
cleanup_package() {
    if [ -n "$MILTER_PID" ]; then kill "$MILTER_PID" 2>/dev/null; sleep 1; kill -9 "$MILTER_PID" 2>/dev/null; fi
    MILTER_PID=
    if dpkg-query -W -f='${Status}' emogate 2>/dev/null | grep -qv "not-installed"; then
        $APT purge emogate >>"$T/apt.log" 2>&1 || echo "cleanup: apt-get purge emogate failed (see $T/apt.log)"
    fi
    if [ "$had_user" = 0 ] && getent passwd emogate >/dev/null; then
        deluser --quiet --system emogate >/dev/null 2>&1 || userdel emogate
    fi
    cleanup
}
trap cleanup_package EXIT

# --- build (the export of HEAD compiles once more; ccache when set up)
start=$(date +%s)
DEB=$(bash "$SRC/scripts/package" "$BUILD/package") || { bad "scripts/package failed"; exit 1; }
echo "package built in $(( $(date +%s) - start )) s: $DEB"
check "package is named emogate_<version>_amd64.deb" \
    [ "$(basename "$DEB")" = "emogate_$(sed -n 's/^project(emogate VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")_$(dpkg --print-architecture).deb" ]

# --- lintian: no errors; warnings are listed (README: Known limitations)
lintian --fail-on error --tag-display-limit 0 "$DEB" >"$T/lintian.txt" 2>&1
lint_rc=$?
cat "$T/lintian.txt"
check "lintian reports no error" [ "$lint_rc" = 0 ]

# --- install
$APT install "$DEB" >"$T/apt.log" 2>&1
if dpkg-query -W -f='${Status}\n' emogate 2>/dev/null | grep -q "install ok installed"; then
    ok "apt-get install ./$(basename "$DEB")"
else
    bad "apt-get install ./$(basename "$DEB")"; tail -30 "$T/apt.log"; exit 1
fi
check "/usr/sbin/emogate runs" /usr/sbin/emogate version
check "config is a conffile" grep -qx /etc/emogate/emogate.toml /var/lib/dpkg/info/emogate.conffiles
check "logrotate file is a conffile" grep -qx /etc/logrotate.d/emogate /var/lib/dpkg/info/emogate.conffiles
check "config reads rules from /usr/share/emogate/rules and /etc/emogate/rules.d" \
    grep -qx 'paths = \["/usr/share/emogate/rules", "/etc/emogate/rules.d"\]' /etc/emogate/emogate.toml
check "shipped rules in /usr/share/emogate/rules" bash -c 'ls /usr/share/emogate/rules/*.yar >/dev/null'
check "/etc/emogate/rules.d exists" [ -d /etc/emogate/rules.d ]
check "systemd unit installed, ExecStart /usr/sbin/emogate" grep -q '^ExecStart=/usr/sbin/emogate milter' /lib/systemd/system/emogate.service
check "web view unit installed, ExecStart /usr/sbin/emogate web" grep -q '^ExecStart=/usr/sbin/emogate web' /lib/systemd/system/emogate-web.service
check "web view unit not enabled by the package" [ ! -e /etc/systemd/system/multi-user.target.wants/emogate-web.service ]
check "man emogate finds emogate(8)" bash -c '[ "$(man -w emogate)" = /usr/share/man/man8/emogate.8.gz ]'
check "man emogate.toml renders" bash -c 'MANWIDTH=80 man 5 emogate.toml 2>/dev/null | grep -q "max_extracted_bytes = 512M"'
check "man emogate renders" bash -c 'MANWIDTH=80 man 8 emogate 2>/dev/null | grep -q "EXIT STATUS"'
check "user emogate is a system user" bash -c '[ "$(id -u emogate)" -lt 1000 ]'
check "user emogate is in group postfix" bash -c 'id -nG emogate | tr " " "\n" | grep -qx postfix'
# NoNewPrivileges=yes ignores postdrop's set-group-ID bit: re-injection
# (quarantine release, PPAP) needs the group itself.
check "user emogate is in group postdrop" bash -c 'id -nG emogate | tr " " "\n" | grep -qx postdrop'
check "/var/lib/emogate emogate 0700" [ "$(stat -c '%U %a' /var/lib/emogate)" = "emogate 700" ]
check "/var/lib/emogate/quarantine emogate 0700" [ "$(stat -c '%U %a' /var/lib/emogate/quarantine)" = "emogate 700" ]
check "/var/log/emogate emogate 0750" [ "$(stat -c '%U %a' /var/log/emogate)" = "emogate 750" ]
if command -v logrotate >/dev/null; then
    check "logrotate accepts /etc/logrotate.d/emogate" bash -c "logrotate -d /etc/logrotate.d/emogate >'$T/logrotate.txt' 2>&1"
fi

# --- the unit, without systemd as PID 1
UNIT=/lib/systemd/system/emogate.service
check "systemd-analyze verify emogate.service" systemd-analyze verify "$UNIT"
check "systemd-analyze verify emogate-web.service" systemd-analyze verify /lib/systemd/system/emogate-web.service
systemd-analyze security --offline=yes "$UNIT" >"$T/security.txt" 2>&1
exposure=$(grep -o 'Overall exposure level for emogate.service: .*' "$T/security.txt")
echo "systemd-analyze security: ${exposure:-$(tail -3 "$T/security.txt")}"
check "systemd-analyze security gives an exposure level" [ -n "$exposure" ]

# Runs one Exec line as the unit would: '+' as root, otherwise as User=
# with UMask=0077; '-' ignores a failure.
unit_user=$(sed -n 's/^User=//p' "$UNIT")
exec_line() {  # exec_line VALUE [background]
    local v=$1 root=0 ignore=0
    while [[ $v == [-+@:!]* ]]; do
        case ${v:0:1} in +) root=1 ;; -) ignore=1 ;; esac
        v=${v:1}
    done
    local -a argv
    read -r -a argv <<<"$v"
    if [ "$root" = 1 ]; then
        "${argv[@]}"
    elif [ "${2:-}" = background ]; then
        setpriv --reuid "$unit_user" --regid "$unit_user" --init-groups -- \
            sh -c 'umask 0077; exec "$@"' sh "${argv[@]}" >>"$T/emogate.log" 2>&1 &
        MILTER_PID=$!
        return 0
    else
        setpriv --reuid "$unit_user" --regid "$unit_user" --init-groups -- \
            sh -c 'umask 0077; exec "$@"' sh "${argv[@]}"
    fi
    local rc=$?
    [ "$ignore" = 1 ] || return $rc
}
check "emogate check on the installed config (as root)" /usr/sbin/emogate check --config /etc/emogate/emogate.toml
check "emogate check reads Postfix's /etc/postfix" bash -c \
    "/usr/sbin/emogate check --config /etc/emogate/emogate.toml 2>/dev/null | grep -q '^postfix /etc/postfix: '"
while IFS= read -r pre; do
    check "ExecStartPre=$pre" exec_line "$pre"
done < <(sed -n 's/^ExecStartPre=//p' "$UNIT")
start_line=$(sed -n 's/^ExecStart=//p' "$UNIT")
exec_line "$start_line" background
SOCK=/var/spool/postfix/emogate/emogate.sock
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "daemon up: socket $SOCK" [ -S "$SOCK" ]
[ -S "$SOCK" ] || { cat "$T/emogate.log"; exit 1; }
# setpriv and sh both exec: the pid is the daemon's.
check "daemon runs as $unit_user" [ "$(stat -c %U /proc/$MILTER_PID)" = "$unit_user" ]
check "daemon has group postfix (SupplementaryGroups)" bash -c "ps -o supgrp= -p $MILTER_PID | tr ',' '\n' | grep -qx postfix"
check "daemon has group postdrop (for sendmail under NoNewPrivileges)" bash -c "ps -o supgrp= -p $MILTER_PID | tr ',' '\n' | grep -qx postdrop"
check "socket emogate:postfix 0660" [ "$(stat -c '%U:%G %a' "$SOCK")" = "emogate:postfix 660" ]

# --- mail through Postfix to the packaged daemon
pf_configure "unix:$SOCK" tempfail
pf_start || { bad "postfix did not start"; exit 1; }
r=$($SEND --port "$PF_SMTP_PORT" --id pkgclean1)
check "clean mail: 250 ($r)" grep -q "^250" <<<"$r"
f=$(sink_file pkgclean1) && check "clean mail delivered with X-Emogate-Verdict: clean" grep -q "^X-Emogate-Verdict: clean" "$f" ||
    bad "clean mail not delivered"
r=$($SEND --port "$PF_SMTP_PORT" --id pkgexe1 --attach invoice.exe --exe)
check "executable attachment rejected: 550 ($r)" grep -q "^550 5.7.1" <<<"$r"
check "JSON log written to /var/log/emogate/emogate.json" grep -q '"verdict": *"malicious"' /var/log/emogate/emogate.json
check "JSON log owned by emogate, 0600" [ "$(stat -c '%U %a' /var/log/emogate/emogate.json)" = "emogate 600" ]
reload_line=$(sed -n 's/^ExecReload=//p' "$UNIT" | sed "s/\$MAINPID/$MILTER_PID/")
exec_line "+$reload_line"
for i in $(seq 1 50); do grep -q "reloaded configuration" "$T/emogate.log" && break; sleep 0.1; done
check "ExecReload (SIGHUP) reloads" grep -q "reloaded configuration" "$T/emogate.log"
kill -TERM "$MILTER_PID"
for i in $(seq 1 100); do [ -d "/proc/$MILTER_PID" ] || break; sleep 0.1; done
check "SIGTERM stops the daemon" bash -c "[ ! -d /proc/$MILTER_PID ]"
MILTER_PID=
pf_stop

# --- an edited config survives a reinstall and a remove
echo "# edited by the package test" >>/etc/emogate/emogate.toml
touch /var/lib/emogate/quarantine/kept-by-remove /etc/emogate/rules.d/local.yar
$APT install --reinstall "$DEB" >>"$T/apt.log" 2>&1
check "reinstall keeps the edited config" grep -q "edited by the package test" /etc/emogate/emogate.toml
check "no .dpkg-new/.dpkg-dist left" bash -c '! ls /etc/emogate/*.dpkg-* 2>/dev/null'
$APT remove emogate >>"$T/apt.log" 2>&1
check "remove: package in state rc" bash -c "dpkg -l emogate | grep -q '^rc'"
check "remove: /usr/sbin/emogate gone" [ ! -e /usr/sbin/emogate ]
check "remove: edited config kept" grep -q "edited by the package test" /etc/emogate/emogate.toml
check "remove: local rules kept" [ -e /etc/emogate/rules.d/local.yar ]
check "remove: quarantine kept" [ -e /var/lib/emogate/quarantine/kept-by-remove ]
check "remove: JSON log kept" [ -s /var/log/emogate/emogate.json ]

# --- purge
rm -f /etc/emogate/rules.d/local.yar
$APT purge emogate >>"$T/apt.log" 2>&1
check "purge: package gone" bash -c "! dpkg-query -W -f='\${Status}' emogate 2>/dev/null | grep -qv not-installed"
for p in /etc/emogate /var/lib/emogate /var/log/emogate /var/spool/postfix/emogate /usr/share/emogate \
         /lib/systemd/system/emogate.service /lib/systemd/system/emogate-web.service /etc/logrotate.d/emogate /usr/share/man/man8/emogate.8.gz \
         /etc/systemd/system/multi-user.target.wants/emogate.service; do
    check "purge: $p removed" [ ! -e "$p" ]
done
check "purge: the system user stays (Debian practice; README)" getent passwd emogate

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; echo "--- apt log"; tail -40 "$T/apt.log"; exit 1; }
echo "all checks passed"
