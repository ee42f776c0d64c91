#!/usr/bin/env bash
# `emogate web` and `emogate web-user` from the command line: `check` names
# the file and line of a [web] section with no way to log in, and of a
# non-loopback listen without TLS, and `web` refuses both; [web] at its
# defaults (the packaged file) passes `check`; `web-user add`
# writes a 0600 Argon2id file from stdin; `web` serves on loopback (run as
# root it would drop to [milter] user), answers with the security headers, logs
# in with that account, and stops on SIGTERM. ([milter] user is the caller
# here, so there is no drop to test.)
# Trusted input: the build tree.
set -uo pipefail
bin="${EMOGATE_BIN:?}"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
work="$(mktemp -d /tmp/emogate-web-cli.XXXXXX)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
FAILS=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
chmod 0755 "$work"

# A config the CLI can load anywhere: no rules, a private quarantine and state.
mkdir "$work/rules"
base() {
  cat <<EOF
[rules]
paths = ["$work/rules"]
[quarantine]
dir = "$work/q"
[state]
path = "$work/state/state.db"
[milter]
user = "$(id -un)"
group = "$(id -gn)"
EOF
}

{ base; printf '[web]\nlisten = "127.0.0.1:9359"\n'; } >"$work/noauth.toml"
out=$("$bin" check --config "$work/noauth.toml" 2>&1)
echo "$out" | grep -q "noauth.toml:.*no way to log in" && ok "check: [web] without a login is a problem" ||
  bad "check did not report the missing login: $out"
{ base; printf '[web]\nlisten = "127.0.0.1:9358"\nusers_file = ""\n'; } >"$work/defaults.toml"
"$bin" check --config "$work/defaults.toml" >/dev/null 2>&1 && ok "check: [web] at its defaults is no problem" ||
  bad "check fails on [web] at its defaults: $("$bin" check --config "$work/defaults.toml" 2>&1 | tail -3)"
"$bin" web --config "$work/noauth.toml" >/dev/null 2>"$work/err"; rc=$?
[ "$rc" = 2 ] && grep -q "no default password" "$work/err" && ok "web refuses to start without a login (exit 2)" ||
  bad "web without a login: rc=$rc $(cat "$work/err")"

{ base; printf '[web]\nusers_file = "%s"\n\nlisten = "0.0.0.0:9358"\n' "$work/users"; } >"$work/open.toml"
line=$(grep -n '^listen = "0.0.0.0' "$work/open.toml" | cut -d: -f1)
out=$("$bin" check --config "$work/open.toml" 2>&1)
echo "$out" | grep -q "open.toml:$line: web.listen: .*without TLS" && ok "check: non-loopback listen without TLS at line $line" ||
  bad "check did not name the listen line: $out"
"$bin" web --config "$work/open.toml" >/dev/null 2>&1 && bad "web started on 0.0.0.0 without TLS" ||
  ok "web refuses a non-loopback listen without TLS"

# Accounts.
port=$((20000 + RANDOM % 20000))
{ base; printf '[web]\nusers_file = "%s"\nlisten = "127.0.0.1:%s"\n' "$work/users" "$port"; } >"$work/web.toml"
echo "s3cret pass" | "$bin" web-user --config "$work/web.toml" add alice >/dev/null &&
  [ "$(stat -c %a "$work/users")" = 600 ] && grep -q '^alice:\$argon2id\$' "$work/users" &&
  ! grep -q "s3cret" "$work/users" && ok "web-user add writes a 0600 Argon2id file" || bad "web-user add"
echo "x" | "$bin" web-user --config "$work/web.toml" add "bad name" >/dev/null 2>&1 &&
  bad "web-user took a bad name" || ok "web-user refuses a bad name"
"$bin" check --config "$work/web.toml" >/dev/null 2>&1 && ok "check passes with an account" ||
  bad "check fails with an account: $("$bin" check --config "$work/web.toml" 2>&1 | tail -3)"

# Serve, log in, stop.
"$bin" web --config "$work/web.toml" >"$work/web.out" 2>"$work/web.err" &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.2; done
hdr=$(curl -s -D - -o "$work/login.html" "http://127.0.0.1:$port/login")
echo "$hdr" | grep -qi "^content-security-policy: default-src 'none'" && echo "$hdr" | grep -qi '^x-content-type-options: nosniff' &&
  ok "GET /login answers with the security headers" || bad "security headers missing: $hdr $(cat "$work/web.err")"
token=$(echo "$hdr" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: emogate_login=\([0-9a-f]*\);.*/\1/p')
res=$(curl -s -D - -o /dev/null -b "emogate_login=$token" --data-urlencode "csrf=$token" --data-urlencode "user=alice" \
  --data-urlencode "password=s3cret pass" "http://127.0.0.1:$port/login" | tr -d '\r')
sid=$(echo "$res" | sed -n 's/^[Ss]et-[Cc]ookie: emogate_session=\([0-9a-f]*\);.*/\1/p')
[ ${#sid} = 64 ] && echo "$res" | grep -q "HttpOnly; SameSite=Strict" && ok "login over HTTP gives a session cookie" ||
  bad "login failed: $res"
code=$(curl -s -o "$work/status.html" -w '%{http_code}' -b "emogate_session=$sid" "http://127.0.0.1:$port/status")
[ "$code" = 200 ] && grep -q "0.1" "$work/status.html" && ok "the status page opens for the operator" || bad "status: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "emogate_session=$sid" --data "x=1" "http://127.0.0.1:$port/logout")
[ "$code" = 403 ] && ok "a POST without the CSRF token is refused (403)" || bad "POST without token: $code"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && bad "web did not stop on SIGTERM" || { wait "$pid"; rc=$?; [ "$rc" = 0 ] &&
  ok "web stops on SIGTERM (exit 0)" || bad "web exit $rc: $(cat "$work/web.err")"; }
pid=""

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
