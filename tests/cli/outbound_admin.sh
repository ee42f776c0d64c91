#!/usr/bin/env bash
# `emogate account` and `emogate incident` through the real binary on a
# fresh SQLite state store: the commands are dispatched, read [state], say
# when there is nothing, refuse bad arguments with exit 2, and `unfreeze`
# of an account that is not frozen exits 1. (The counts of a scripted
# incident are checked in tests/unit/test_outbound_state.cpp, both backends.)
# Trusted input: the build tree.
set -uo pipefail
bin=${EMOGATE_BIN:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
printf '[state]\npath = "%s/state/state.db"\n[outbound]\nlocal_domains = ["example.jp"]\n' "$tmp" >"$tmp/c.toml"
# expect NAME RC PATTERN COMMAND...: exit status RC and stdout+stderr matching PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3; shift 3
  "$bin" "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc -ne $want ]]; then echo "FAIL: $name: exit $rc (want $want)"; cat "$tmp/out"; fail=1; return; fi
  if ! grep -Eq -- "$pattern" "$tmp/out"; then echo "FAIL: $name: no '$pattern'"; cat "$tmp/out"; fail=1; return; fi
  echo "ok: $name"
}
expect "account list, none frozen" 0 '^no frozen accounts$' account --config "$tmp/c.toml" list
[[ -f "$tmp/state/state.db" ]] && echo "ok: the store was created" || { echo "FAIL: no state.db"; fail=1; }
expect "unfreeze of an account not frozen" 1 'alice is not frozen' account --config "$tmp/c.toml" unfreeze Alice
expect "account usage" 2 'usage: emogate account' account --config "$tmp/c.toml" thaw alice
expect "incident report, text" 0 '^No outbound incidents\.$' incident --config "$tmp/c.toml" report
expect "incident report, Japanese" 0 '送信メールのインシデントはありません' incident --config "$tmp/c.toml" report --lang ja
expect "incident report, JSON" 0 '"flagged_messages": 0' incident --config "$tmp/c.toml" report --json --since 7d
expect "incident bad --since" 2 'since' incident --config "$tmp/c.toml" report --since soon
expect "incident usage" 2 'usage: emogate incident' incident --config "$tmp/c.toml" summary
printf '[state]\npath = "%s/state/state.db"\n[outbound]\nclient_networks = ["10.0.0.1/8"]\n' "$tmp" >"$tmp/bad.toml"
expect "a bad network names the line" 2 'bad.toml:4: outbound.client_networks' account --config "$tmp/bad.toml" list
exit $fail
