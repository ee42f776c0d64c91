#!/usr/bin/env bash
# The web view in a real browser: a private Postfix instance on loopback with
# emogate as its milter (mail_hosts.sh) quarantines four macro droppers
# (lib/web_mail.py), one of them from an attacker whose Subject (an RFC 2047
# encoded word and raw text) and attachment names carry <script> and
# "onload= payloads; `emogate web` serves the quarantine to a local account
# made with `emogate web-user add`, and headless Chromium, driven through
# chromedriver (lib/webdriver.py, lib/web_browser.py), logs in, filters the
# list by sender, opens the payload message (nothing of it runs or becomes
# markup: DOM and console checked), releases a message to one recipient (it
# reaches the smtp-sink with X-Emogate-Released), deletes one (gone from the
# list and the store) and logs out. With curl: the Content-Security-Policy
# header, a POST without (or with a wrong) CSRF token gets 403 and changes
# nothing, the raw download is an attachment.
# Screenshots: $EMOGATE_BUILD_DIR/artifacts/web-*.png.
# Needs root (Postfix's master starts as root; Chromium then runs with
# --no-sandbox) and Debian's chromium and chromium-driver, installed here
# with apt when missing: exits 77 when they cannot be.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
ARTIFACTS=${EMOGATE_BUILD_DIR:-$(dirname "$EMOGATE_BIN")}/artifacts
T=$(mktemp -d /tmp/emogate-web.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"

# Debian's browser and its WebDriver; the CJK fonts so the screenshots show
# the Japanese subjects.
browser_install() {
    command -v chromium >/dev/null && command -v chromedriver >/dev/null && return 0
    local pkgs=(chromium chromium-driver fonts-noto-cjk)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; }
    command -v chromium >/dev/null && command -v chromedriver >/dev/null
}
browser_install || { echo "SKIP: chromium and chromium-driver could not be installed (apt-get install chromium chromium-driver)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

WEB_PID=
BROWSER_PID=
test_cleanup() {
    [ -n "$BROWSER_PID" ] && kill -- "-$BROWSER_PID" 2>/dev/null
    [ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
    hosts_stop; redis_stop
}

WEB_PORT=$(free_port)
WEB_USER=helpdesk
WEB_PW='c0rrect-horse-battery'
STATE=$(printf '[state]\nbackend = "sqlite"\npath = "%s/a/state/state.db"' "$T")
WEB=$(printf '[web]\nlisten = "127.0.0.1:%s"\nusers_file = "%s/a/web-users"' "$WEB_PORT" "$T")
host_setup a "$STATE" "$WEB" || { bad "host a did not start"; exit 1; }
# emogate's commands as the daemon's user: the store and the state stay its own.
cmd() { runuser -u nobody -- "$EMOGATE_BIN" "$@" --config "$T/a/emogate.toml"; }

# --- the quarantine: four droppers through Postfix and the milter
python3 "$HERE/lib/web_mail.py" "$T" || { bad "could not write the messages"; exit 1; }
for m in invoice1 invoice2 other payload; do
    to=carol@rcpt.emogate.test; from=tanaka@partner.emogate.test
    case $m in invoice1) to2=dave@rcpt.emogate.test;; *) to2=;; esac
    case $m in other) from=bob@other.emogate.test to=dave@rcpt.emogate.test;; payload) from=evil@attacker.emogate.test;; esac
    r=$(host_send a --eml "$T/$m.eml" --from "$from" --to "$to" ${to2:+--to "$to2"})
    check "$m: accepted ($r)" [ "$(code_of "$r")" = 250 ]
    check "$m: quarantined as xlm_macro" wait_log a "^emogate: $(qid_of "$r"): verdict=malicious action=quarantine findings=xlm_macro@"
done
list=$(cmd quarantine list)
id_of() { awk -v s="<$1>" '$0 ~ s {print $1}' <<<"$list"; }
P=$(id_of evil@attacker.emogate.test)
read -r I1 I2 <<<"$(id_of tanaka@partner.emogate.test | tr '\n' ' ')"
O=$(id_of bob@other.emogate.test)
# Which of tanaka's two is invoice1 (two recipients): release that one.
grep -q "^$I1 .*dave@rcpt" <<<"$list" || { x=$I1; I1=$I2; I2=$x; }
all_set() { local v; for v in "$@"; do [ -n "$v" ] || return 1; done; }
has() { grep -qF -- "$2" <<<"$1"; }
check "four entries in the store ($P $I1 $I2 $O)" all_set "$P" "$I1" "$I2" "$O"
check "the payload entry's finding names its file" has "$(grep "^$P " <<<"$list")" 'xlm_macro@<script>window.__pwned=1</script>.xls'

# --- the web view, with one local account; both started as root, as an
# administrator would (the server drops to the [milter] user itself).
printf '%s\n' "$WEB_PW" | "$EMOGATE_BIN" web-user --config "$T/a/emogate.toml" add "$WEB_USER" >"$T/web-user.log" 2>&1
check "web-user add: account made" grep -q "^$WEB_USER:" "$T/a/web-users"
check "web-user add: no password in clear in the file" bash -c "! grep -qF '$WEB_PW' '$T/a/web-users'"
"$EMOGATE_BIN" web --config "$T/a/emogate.toml" >"$T/web.log" 2>&1 &
WEB_PID=$!
wait_port "$WEB_PORT" || { cat "$T/web.log"; bad "emogate web did not listen on 127.0.0.1:$WEB_PORT"; exit 1; }
BASE=http://127.0.0.1:$WEB_PORT

# --- with curl: headers, CSRF, raw download
hdr=$(curl -s -D - -o /dev/null "$BASE/login")
csp=$(grep -i '^content-security-policy:' <<<"$hdr" | tr -d '\r')
check "CSP header on /login ($csp)" [ -n "$csp" ]
check "CSP: no inline script allowed" bash -c 'grep -qiE "script-src|default-src" <<<"$1" && ! grep -qiE "unsafe-inline|unsafe-eval" <<<"$1"' _ "$csp"
check "nosniff header" grep -qi '^x-content-type-options: *nosniff' <<<"$hdr"
JAR=$T/cookies
# curl_login PASSWORD: logs in the way the form does (a fresh login page, its
# hidden fields, then user and password); prints the HTTP code.
curl_login() {
    local page hidden
    page=$(curl -s -c "$JAR" -b "$JAR" "$BASE/login")
    hidden=$(python3 -c '
import re, sys, urllib.parse
f = re.search(r"<form[^>]*>(.*?)</form>", sys.stdin.read(), re.S)
pairs = re.findall(r"<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]*)\"[^>]*value=\"([^\"]*)\"", f.group(1) if f else "")
print("&".join("%s=%s" % (n, urllib.parse.quote(v)) for n, v in pairs))' <<<"$page")
    curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" \
        --data "${hidden:+$hidden&}user=$WEB_USER" --data-urlencode "password=$1" "$BASE/login"
}
code=$(curl_login wrong)
code2=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "$BASE/quarantine")
check "curl: a wrong password does not log in ($code, then /quarantine $code2)" [ "$code2" != 200 ]
code=$(curl_login "$WEB_PW")
check "curl: login answers a redirect ($code)" grep -qE '^30[23]$' <<<"$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "$BASE/quarantine")
check "curl: logged in, /quarantine is 200 ($code)" [ "$code" = 200 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" --data "x=1" "$BASE/quarantine/$I2/delete")
check "curl: POST delete without CSRF token: 403 ($code)" [ "$code" = 403 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" --data "csrf=forged" "$BASE/quarantine/$I2/release")
check "curl: POST release with a wrong CSRF token: 403 ($code)" [ "$code" = 403 ]
check "curl: both refused as CSRF (logged)" [ "$(grep -c 'action=csrf_refused' "$T/web.log")" = 2 ]
check "curl: the entry is still there" [ -d "$T/a/quarantine/$I2" ]
sleep 1
check "curl: and nothing released" [ "$(sink_count invoice2)" = 0 ]
raw=$(curl -s -D "$T/raw.hdr" -o "$T/raw.eml" -w '%{http_code} %{content_type}' -b "$JAR" "$BASE/quarantine/$P/raw")
check "raw download: 200, not HTML ($raw)" bash -c '[[ $1 == "200 "* && $1 != *html* ]]' _ "$raw"
check "raw download: Content-Disposition attachment" grep -qi '^content-disposition: *attachment' "$T/raw.hdr"
check "raw download: the message as stored" cmp -s "$T/raw.eml" "$T/a/quarantine/$P/message.eml"
page=$(curl -s -b "$JAR" "$BASE/quarantine/$P")
check "curl: the payload page shows the payload escaped" has "$page" '&lt;script&gt;window.__pwned=1&lt;/script&gt;'
check "curl: no raw <script> of the payload in it" bash -c '! grep -qF "<script>window.__pwned" <<<"$1"' _ "$page"
check "curl: nor an unescaped \"onload=" bash -c '! grep -qF "\"onload=" <<<"$1"' _ "$page"

# --- in the browser
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/web-*.png
# In its own process group (setsid), so the exit trap can end chromedriver
# and Chromium with it whatever happens to the script.
setsid python3 -B "$HERE/lib/web_browser.py" --base "$BASE" --user "$WEB_USER" --password "$WEB_PW" \
    --artifacts "$ARTIFACTS" --payload "$P" --sender tanaka@partner.emogate.test --sender-ids "$I1,$I2" \
    --release "$I1" --release-rcpt carol@rcpt.emogate.test --delete "$O" --all-ids "$P,$I1,$I2,$O" \
    --log-dir "$T" >"$T/browser.out" 2>&1 &
BROWSER_PID=$!
wait "$BROWSER_PID"
kill -- "-$BROWSER_PID" 2>/dev/null  # anything of its group still there
BROWSER_PID=
cat "$T/browser.out"
FAILS=$((FAILS + $(grep -c '^FAIL' "$T/browser.out")))
grep -q '^ok .*console: no errors' "$T/browser.out" || grep -q '^FAIL' "$T/browser.out" || bad "the browser steps did not finish"

# --- what the browser did, seen from the sink, the store and the log
f=$(sink_file invoice1) && {
    check "release: the copy carries X-Emogate-Released by $WEB_USER" grep -q "^X-Emogate-Released: by $WEB_USER .*$I1" "$f"
    check "release: to carol only (the sink's envelope)" \
        [ "$(grep -o '^X-Rcpt-Args: <[^>]*>' "$f")" = "X-Rcpt-Args: <carol@rcpt.emogate.test>" ]
} || bad "release: the released copy did not reach the sink"
check "release: delivered once" [ "$(sink_count invoice1)" = 1 ]
check "release: the entry stays for dave" test -d "$T/a/quarantine/$I1"
check "delete: gone from the store" [ ! -e "$T/a/quarantine/$O" ]
not_listed() { ! cmd quarantine list | grep -q "^$1 "; }
check "delete: gone from \`emogate quarantine list\`" not_listed "$O"
check "the others are kept" test -d "$T/a/quarantine/$P" -a -d "$T/a/quarantine/$I2"
check "nothing else reached the sink" [ "$(sink_count payload)$(sink_count invoice2)$(sink_count other)" = 000 ]
check "actions logged with the operator's name" grep -q "operator=$WEB_USER .*action=delete .*$O" "$T/web.log"
check "web view still running" [ -d "/proc/$WEB_PID" ]
ls -l "$ARTIFACTS"/web-*.png 2>/dev/null

echo "--- emogate web log (last lines)"; tail -20 "$T/web.log"
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
