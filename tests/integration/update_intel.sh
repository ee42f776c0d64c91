#!/usr/bin/env bash
# `emogate update-intel` against a local HTTP server (python3 http.server on
# 127.0.0.1) serving good, truncated and garbage lists, with a running
# daemon: a good list replaces the file and the daemon reloads (its log and
# emogate_intel_age_seconds say so); a truncated, a garbage or a missing
# download keeps the current file, exits 1 and does not reload; the same
# content again changes nothing. Rules: an update_command that adds a good
# rule file is kept and reloaded; one that breaks a rule, or fails, is
# rolled back.
# No root, no MTA: the daemon stays as the current user on a unix socket.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/local_milter.sh"
local_milter_setup emogate-ui
. "$HERE/lib/postfix_env.sh"   # wait_port (nothing here starts Postfix)
HTTP_PORT=${HTTP_PORT:-2741}
METRICS_PORT=${METRICS_PORT:-2742}
FAILS=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

mkdir -p "$T/www" "$T/intel" "$T/rules" "$T/shipped"
# A second rule folder no command touches (as the packaged rules): never rewritten.
printf 'rule Shipped { strings: $s = "SHIPPED-MARKER" condition: $s }\n' >"$T/shipped/s.yar"
touch -d '1 day ago' "$T/shipped/s.yar"
shipped_stamp=$(stat -c '%i %Y' "$T/shipped/s.yar")
# URLhaus CSV export lines (comment header, then id,dateadded,url,...).
urlhaus_csv() {  # urlhaus_csv FIRST LAST
    echo '# abuse.ch URLhaus Database Dump (CSV - recent URLs)'
    echo '# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter'
    local i
    for i in $(seq "$1" "$2"); do
        printf '"%d","2026-12-01 10:%02d:00","http://203.0.113.%d/bins/x%d.exe","online","2026-12-01 11:00:00","malware_download","exe,emotet","https://urlhaus.abuse.ch/url/%d/","tester"\r\n' \
            "$i" $((i % 60)) $((i % 250 + 1)) "$i" "$i"
    done
}
feodo_csv() {  # feodo_csv N
    echo '# Feodo Tracker Botnet C2 IP Blocklist (CSV)'
    echo '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"'
    local i; for i in $(seq 1 "$1"); do printf '"2026-11-30 08:00:00","198.51.100.%d","443","online","2026-12-01","Emotet"\n' "$i"; done
}
urlhaus_csv 1 40 >"$T/intel/urlhaus.csv"
feodo_csv 12 >"$T/intel/feodo.csv"
touch -d '2 hours ago' "$T/intel/urlhaus.csv" "$T/intel/feodo.csv"
urlhaus_csv 1 60 >"$T/www/good.csv"
urlhaus_csv 1 60 | head -c 900 >"$T/www/truncated.csv"          # a download cut short: a few lines
printf '<html><head><title>502 Bad Gateway</title></head>\n<body>try again</body></html>\n' >"$T/www/garbage.csv"
feodo_csv 12 >"$T/www/feodo.csv"

python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" >"$T/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill "$HTTP_PID" 2>/dev/null; if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; fi; wait 2>/dev/null; if [ "$FAILS" = 0 ]; then rm -rf "$T"; else echo "kept $T"; fi' EXIT
wait_port "$HTTP_PORT" || { echo "FAIL: http server did not start"; exit 1; }

config() {  # config URLHAUS_FILE [UPDATE_COMMAND]
    local_milter_config "\"$T/rules\", \"$T/shipped\"" "[intel]
urlhaus_path = \"$T/intel/urlhaus.csv\"
feodo_path = \"$T/intel/feodo.csv\"
urlhaus_url = \"http://127.0.0.1:$HTTP_PORT/$1\"
feodo_url = \"http://127.0.0.1:$HTTP_PORT/feodo.csv\"
min_entries = 5
min_ratio = 0.5
[metrics]
listen = \"127.0.0.1:$METRICS_PORT\""
    if [ -n "${2:-}" ]; then
        sed -i "s|^\[rules\]$|[rules]\nupdate_command = \"$2\"|" "$T/emogate.toml"
    fi
}
reloads() { grep -c "reloaded configuration" "$T/log" 2>/dev/null || true; }
wait_reloads() {  # wait_reloads N: until the log has N reload lines (5 s)
    local i; for i in $(seq 1 50); do [ "$(reloads)" -ge "$1" ] && return 0; sleep 0.1; done; return 1
}
metrics() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())"; }
age() { metrics | awk -v l="emogate_intel_age_seconds{list=\"$1\"}" '$1 == l {print $2}'; }
update() { TMPDIR="$T" "$EMOGATE_BIN" update-intel --config "$T/emogate.toml" >"$T/out" 2>"$T/err"; echo $?; }

config good.csv
"$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do [ -S "$T/emogate.sock" ] && break; sleep 0.1; done
wait_port "$METRICS_PORT" || { cat "$T/log"; echo "FAIL: daemon did not start"; exit 1; }
a=$(age urlhaus)
check "metrics: urlhaus list 2 hours old at start ($a)" [ "${a:-0}" -ge 7000 ]
check "metrics: feodo list age exported" [ -n "$(age feodo)" ]

# --- good: replaces, reloads
r=$(update)
check "good: exit 0 ($r: $(cat "$T/err"))" [ "$r" = 0 ]
check "good: urlhaus.csv is the download" cmp -s "$T/www/good.csv" "$T/intel/urlhaus.csv"
check "good: reported 60 entries (was 40)" grep -q "urlhaus: .* replaced: 60 entries (was 40)" "$T/out"
check "good: file mode 0644" [ "$(stat -c %a "$T/intel/urlhaus.csv")" = 644 ]
check "good: feodo unchanged (same bytes)" grep -q "feodo: .* unchanged" "$T/out"
check "good: daemon reloaded" wait_reloads 1
a=$(age urlhaus)
check "good: emogate_intel_age_seconds{list=urlhaus} fresh ($a)" [ "${a:-99999}" -lt 60 ]
check "good: feodo age still old" [ "$(age feodo)" -ge 7000 ]

# --- truncated: refused by min_ratio, file kept, no reload
config truncated.csv
r=$(update)
check "truncated: exit 1 ($r)" [ "$r" = 1 ]
check "truncated: error names min_ratio" grep -q "urlhaus: download from .*truncated.csv refused: .* fewer than \[intel\] min_ratio .* kept $T/intel/urlhaus.csv" "$T/err"
check "truncated: urlhaus.csv kept" cmp -s "$T/www/good.csv" "$T/intel/urlhaus.csv"
sleep 0.5
check "truncated: no reload" [ "$(reloads)" = 1 ]

# --- garbage: refused by min_entries
config garbage.csv
r=$(update)
check "garbage: exit 1 ($r)" [ "$r" = 1 ]
check "garbage: error names min_entries" grep -q "refused: 0 entries (.* unparsable lines), fewer than \[intel\] min_entries 5" "$T/err"
check "garbage: urlhaus.csv kept" cmp -s "$T/www/good.csv" "$T/intel/urlhaus.csv"

# --- missing (HTTP 404)
config missing.csv
r=$(update)
check "404: exit 1 ($r)" [ "$r" = 1 ]
check "404: download failure reported" grep -q "download from .*missing.csv failed" "$T/err"
check "404: urlhaus.csv kept" cmp -s "$T/www/good.csv" "$T/intel/urlhaus.csv"

# --- the same list again: nothing to do
config good.csv
r=$(update)
check "same: exit 0 ($r)" [ "$r" = 0 ]
check "same: unchanged" grep -q "urlhaus: .* unchanged" "$T/out"
sleep 0.5
check "same: no reload" [ "$(reloads)" = 1 ]
check "no temp files left" [ -z "$(ls -A "$T/intel" | grep -v '^urlhaus.csv$\|^feodo.csv$')" ]

# --- rules: a command adding a good rule: kept, checked, reloaded
printf 'rule Site_A { strings: $a = "SITE-A-MARKER" condition: $a }\n' >"$T/rules/a.yar"
printf 'rule Site_B { strings: $b = "SITE-B-MARKER-NEW" condition: $b }\n' >"$T/www/b.yar"
config good.csv "cp $T/www/b.yar $T/rules/b.yar"
r=$(update)
check "rules good: exit 0 ($r: $(cat "$T/err"))" [ "$r" = 0 ]
check "rules good: new file kept" [ -f "$T/rules/b.yar" ]
check "rules good: daemon reloaded" wait_reloads 2

# --- rules: a command that breaks a rule file: rolled back
cp "$T/rules/a.yar" "$T/a.yar.orig"
config good.csv "printf 'rule Broken { condition: no_such_identifier }' > $T/rules/c.yar; echo changed >> $T/rules/a.yar"
r=$(update)
check "rules broken: exit 1 ($r)" [ "$r" = 1 ]
check "rules broken: check failure reported" grep -q "rules: the updated rules fail emogate check" "$T/err"
check "rules broken: check names the file" grep -q "c.yar:[0-9]*:" "$T/err"
check "rules broken: new file removed" [ ! -e "$T/rules/c.yar" ]
check "rules broken: changed file restored" cmp -s "$T/a.yar.orig" "$T/rules/a.yar"
check "rules broken: b.yar still there" [ -f "$T/rules/b.yar" ]
sleep 0.5
check "rules broken: no reload" [ "$(reloads)" = 2 ]

# --- rules: a failing command: rolled back
config good.csv "rm -f $T/rules/a.yar; exit 3"
r=$(update)
check "rules failing: exit 1 ($r)" [ "$r" = 1 ]
check "rules failing: exit status reported" grep -q "update_command .* failed: exit status 3; restored" "$T/err"
check "rules failing: a.yar restored" cmp -s "$T/a.yar.orig" "$T/rules/a.yar"
check "rollbacks left the untouched rule folder alone" [ "$(stat -c '%i %Y' "$T/shipped/s.yar")" = "$shipped_stamp" ]
check "no rollback copies left in TMPDIR" [ -z "$(ls -A "$T" | grep emogate-rules-rollback)" ]

# --- no pid file configured: the update happens, the missing reload is an error
config good.csv
sed -i '/^pid_file = /d' "$T/emogate.toml"
urlhaus_csv 1 70 >"$T/www/good.csv"
r=$(update)
check "no pid_file: exit 1 ($r)" [ "$r" = 1 ]
check "no pid_file: list replaced anyway" grep -q "replaced: 70 entries (was 60)" "$T/out"
check "no pid_file: says how to reload" grep -q "not reloaded: \[milter\] pid_file is not set" "$T/err"

[ "$FAILS" = 0 ] || { echo "--- daemon log"; tail -20 "$T/log"; echo "--- last stderr"; cat "$T/err"; echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
