#!/usr/bin/env bash
# `emogate check` with [[rules.set]] lists: per set it prints files, rules,
# skipped files with file:line, warnings and compile time. A set with only
# compiler warnings passes (exit 0, warnings printed); a set with a broken
# file fails (exit 1, file:line); a bad key in a set fails with file:line.
set -uo pipefail
bin=${EMOGATE_BIN:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p "$tmp/own" "$tmp/sb" "$tmp/broken"
printf 'rule Own { strings: $a = "own-marker" condition: $a }\n' >"$tmp/own/own.yar"
printf 'rule Slow {\n  meta:\n    score = 40\n  strings:\n    $a = /a.*b/\n  condition:\n    $a\n}\n' >"$tmp/sb/slow.yar"
printf 'rule Fine { strings: $a = "fine" condition: $a and filetype == "EXE" }\n' >"$tmp/sb/fine.yar"
printf 'rule Good { strings: $a = "good-string" condition: $a }\n' >"$tmp/broken/good.yar"
printf 'rule Bad {\n  condition:\n    $missing\n}\n' >"$tmp/broken/bad.yar"
# The config with the [[rules.set]] text $1 after the default set.
cfg() {
  printf '[rules]\npaths = ["%s/own"]\n%s\n[milter]\nuser = "%s"\ngroup = "%s"\n[quarantine]\ndir = "%s/q"\n' \
    "$tmp" "$1" "$(id -un)" "$(id -gn)" "$tmp"
}
sb_set() { printf '[[rules.set]]\nname = "sigbase"\npaths = ["%s/sb"]\nmax_action = "tag"\n' "$tmp"; }

# Warnings only: exit 0, the per-set lines and the warning with file:line.
cfg "$(sb_set)" >"$tmp/c.toml"
"$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 0 ]]; then echo "FAIL: warnings-only set: exit $rc"; cat "$tmp/out" "$tmp/err"; fail=1
elif ! grep -Eq '^rule set "default": 1 file, 1 rule, 0 skipped, 0 warnings, compiled in [0-9]+ ms \(scope all\)$' "$tmp/out"; then
  echo "FAIL: no default set line"; cat "$tmp/out"; fail=1
elif ! grep -Eq '^rule set "sigbase": 2 files, 2 rules, 0 skipped, 2 warnings, compiled in [0-9]+ ms \(scope files, max_action tag\)$' "$tmp/out"; then
  echo "FAIL: no sigbase set line"; cat "$tmp/out"; fail=1
elif ! grep -Eq "^  warning: $tmp/sb/slow.yar:[0-9]+: .*slow" "$tmp/out"; then
  echo "FAIL: warning not printed under its set"; cat "$tmp/out"; fail=1
else echo "ok: warnings-only set passes and is described"; fi

# A broken file: exit 1, skipped with file:line under its set.
cfg "$(printf '[[rules.set]]\nname = "yr"\npaths = ["%s/broken"]' "$tmp")" >"$tmp/c.toml"
"$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 1 ]]; then echo "FAIL: broken file in a set: exit $rc"; cat "$tmp/out" "$tmp/err"; fail=1
elif ! grep -Eq '^rule set "yr": 1 file, 1 rule, 1 skipped, 0 warnings' "$tmp/out" ||
     ! grep -Eq "^  skipped: $tmp/broken/bad.yar:[0-9]+: .*missing" "$tmp/out"; then
  echo "FAIL: skipped file not described"; cat "$tmp/out"; fail=1
else echo "ok: broken file named with its line"; fi

# A bad key inside a set: the config error names the file and line.
cfg "$(sb_set; printf 'scope = "attachments"')" >"$tmp/c.toml"
line=$(grep -n '^scope = "attachments"' "$tmp/c.toml" | cut -d: -f1)
"$bin" check --config "$tmp/c.toml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 1 ]] || ! grep -q "^$tmp/c.toml:$line: rules.set\[1\].scope" "$tmp/err"; then
  echo "FAIL: bad scope: exit $rc"; cat "$tmp/err"; fail=1
else echo "ok: bad key in a set named with file:line"; fi
exit $fail
