#!/usr/bin/env bash
# `emogate check` predicts the daemon: each config below is one the daemon
# refuses or runs badly with, and check must fail with file:line naming the
# key, never crash. A rule set with only compiler warnings passes unless
# [rules] strict is set.
set -uo pipefail
bin=${EMOGATE_BIN:?}; src=${EMOGATE_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir "$tmp/rules" "$tmp/tmpdir"
: >"$tmp/file"
# A base that passes on this machine; each case appends one section.
base() {
  cat <<TOML
[rules]
paths = ["$tmp/rules"]
[milter]
user = "$(id -un)"
group = "$(id -gn)"
TOML
}
# expect_error NAME LINE-PATTERN: the config in $tmp/c.toml fails with it.
expect_error() {
  "$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne 1 ]]; then echo "FAIL: $1: exit $rc (want 1)"; cat "$tmp/err"; fail=1; return; fi
  if ! grep -Eq "^$tmp/c.toml:$2" "$tmp/err"; then echo "FAIL: $1: no '$2'"; cat "$tmp/err"; fail=1; return; fi
  echo "ok: $1"
}
case_limits() { { base; printf '[limits]\n%s\n' "$1"; } >"$tmp/c.toml"; }

case_limits 'max_object_size = "17179869185G"'; expect_error "wrapping size" "[0-9]+: limits.max_object_size: number too large"
case_limits 'max_object_size = "-1"'; expect_error "negative size string" "[0-9]+: limits.max_object_size"
case_limits 'max_object_size = -5'; expect_error "negative size" "[0-9]+: limits.max_object_size"
case_limits 'max_object_size = " 16M"'; expect_error "leading space" "[0-9]+: limits.max_object_size"
case_limits 'max_compression_ratio = nan'; expect_error "nan ratio" "[0-9]+: limits.max_compression_ratio"
case_limits 'max_compression_ratio = inf'; expect_error "inf ratio" "[0-9]+: limits.max_compression_ratio"
case_limits "temp_dir = \"$tmp/missing\""; expect_error "missing temp_dir" "[0-9]+: limits.temp_dir: .*does not exist"
case_limits "temp_dir = \"$tmp/file\""; expect_error "temp_dir is a file" "[0-9]+: limits.temp_dir: .*not a directory"

{ base; printf '[quarantine]\ndir = "%s/file/q"\n' "$tmp"; } >"$tmp/c.toml"
expect_error "quarantine dir under a file" "[0-9]+: quarantine.dir"
{ base; printf '[quarantine]\ndir = "%s/file"\n' "$tmp"; } >"$tmp/c.toml"
expect_error "quarantine dir is a file" "[0-9]+: quarantine.dir: .*not a directory"
{ base; printf '[quarantine]\nsendmail = "%s/no-sendmail"\n' "$tmp"; } >"$tmp/c.toml"
expect_error "missing sendmail" "[0-9]+: quarantine.sendmail"
{ base; printf '[quarantine]\nsendmail = "sendmail"\n'; } >"$tmp/c.toml"
expect_error "relative sendmail" "[0-9]+: quarantine.sendmail: must be an absolute path"

for listen in 0.0.0.0:9357 192.0.2.1:9357 127.0.0.1:99999 127.0.0.1:http localhost:9357 127.0.0.1; do
  { base; printf '[metrics]\nlisten = "%s"\n' "$listen"; } >"$tmp/c.toml"
  expect_error "metrics listen $listen" "[0-9]+: metrics.listen"
done
for sock in garbage:xyz inet:99999@127.0.0.1 inet:abc unix:relative/path "" ; do
  sed "s|^\[milter\]|[milter]\nsocket = \"$sock\"|" <(base) >"$tmp/c.toml"
  expect_error "socket '$sock'" "[0-9]+: milter.socket"
done
sed "s|^user = .*|user = \"no-such-user-emogate\"|" <(base) >"$tmp/c.toml"
expect_error "missing user" "[0-9]+: milter.user: no user"

# [state]: a bad value, a file that is not a state store, a Redis that
# does not answer; a fresh SQLite path passes and is not created by check.
case_state() { { base; printf '[state]\n%s\n' "$1"; } >"$tmp/c.toml"; }
case_state 'backend = "memcached"'; expect_error "state backend" "[0-9]+: state.backend"
case_state "path = \"$tmp/file\""; expect_error "state file not a store" "[0-9]+: state.path: .*not an emogate state store"
case_state "backend = \"redis\"
redis = \"unix:$tmp/no-redis.sock\""; expect_error "redis unreachable" "[0-9]+: state.redis: redis unix:"
case_state "path = \"$tmp/new/state.db\""
if "$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err" && [[ ! -e "$tmp/new" ]]; then echo "ok: fresh state path"
else echo "FAIL: fresh state path"; cat "$tmp/err"; fail=1; fi

# 10,000 nested arrays: an error with a line, not a crash.
{ base; printf '[limits]\nx = '; head -c 10000 /dev/zero | tr '\0' '['; echo; } >"$tmp/c.toml"
expect_error "deep nesting" "[0-9]+: arrays or tables nested deeper"

# A rule with a slow string only warns: exit 0, the warning printed.
printf 'rule Slow {\n  strings:\n    $a = /a.*b/\n  condition:\n    $a\n}\n' >"$tmp/rules/slow.yar"
base >"$tmp/c.toml"
"$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 0 ]] || ! grep -q "slow.yar:[0-9]*: .*slow" "$tmp/err"; then
  echo "FAIL: warnings-only rule set: exit $rc"; cat "$tmp/err"; fail=1
else echo "ok: warnings-only rule set passes"; fi
sed "s|^\[rules\]|[rules]\nstrict = true|" <(base) >"$tmp/c.toml"
"$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 1 ]]; then echo "FAIL: strict with a warning: exit $rc"; fail=1; else echo "ok: strict fails on a warning"; fi
exit $fail
