#!/usr/bin/env bash
# `emogate scan` and `emogate check` from the outside: exit codes, human and
# JSON output, on the bundled samples and generated inputs.
set -uo pipefail
bin=${EMOGATE_BIN:?}; src=${EMOGATE_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if [[ "$2" != "$3" ]]; then echo "FAIL: $1: expected '$3', got '$2'"; fail=1; else echo "ok: $1"; fi; }
cfg="$src/config/emogate.toml"

"$bin" scan --config "$cfg" "$src/samples/clean.eml" >"$tmp/out"; check "clean exit" $? 0
grep -q "clean.eml: clean" "$tmp/out"; check "clean line" $? 0

"$bin" scan --config "$cfg" "$src/samples/invoice-zip-exe.eml" >"$tmp/out"; check "flagged exit" $? 1
grep -q "dangerous_type \[malicious\] 請求書.zip/請求書.exe" "$tmp/out"; check "exe path in zip" $? 0

"$bin" scan --config "$cfg" "$src/samples/broken.eml" >"$tmp/out"; check "broken exit" $? 1
grep -q "malformed" "$tmp/out"; check "malformed finding" $? 0

"$bin" scan --config "$cfg" /nonexistent.eml >"$tmp/out"; check "unreadable exit" $? 2

printf '[limits]\nmax_dpeth = 3\n' >"$tmp/bad.toml"
"$bin" scan --config "$tmp/bad.toml" "$src/samples/clean.eml" >/dev/null 2>"$tmp/err"; check "bad config scan exit" $? 2
"$bin" check --config "$tmp/bad.toml" 2>"$tmp/err"; check "bad config check exit" $? 1
grep -q "bad.toml:2: unknown key 'max_dpeth' in \[limits\]" "$tmp/err"; check "check names file and line" $? 0
# The example config on this machine: its user, rules and a store it may create.
sed -e "s|^user = .*|user = \"$(id -un)\"|" -e "s|^group = .*|group = \"$(id -gn)\"|" \
    -e "s|^paths = .*|paths = [\"$src/rules\"]|" -e "s|^dir = .*|dir = \"$tmp/q\"|" "$cfg" >"$tmp/example.toml"
"$bin" check --config "$tmp/example.toml" >/dev/null 2>"$tmp/err"; check "example config passes check" $? 0
[[ -s "$tmp/err" ]] && cat "$tmp/err"

"$bin" scan --json --config "$cfg" "$src"/samples/*.eml >"$tmp/json"; check "json exit" $? 1
lines=$(wc -l <"$tmp/json"); check "one JSON line per input" "$lines" "$(ls "$src"/samples/*.eml | wc -l)"
python3 - "$tmp/json" <<'PY' ; check "json fields" $? 0
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
by = {r["input"].rsplit("/", 1)[-1]: r for r in rows}
assert by["clean.eml"]["verdict"] == "clean"
f = [x for x in by["invoice-zip-exe.eml"]["findings"] if x["type"] == "dangerous_type"]
assert f and f[0]["path"] == "請求書.zip/請求書.exe", f
assert any(o["path"] == "請求書.zip" and o["type"] == "zip" for o in by["invoice-zip-exe.eml"]["objects"])
enc = by["encrypted-zip-password.eml"]
assert enc["verdict"] == "malicious", enc
d = [x for x in enc["findings"] if x["type"] == "archive_decrypted"]
assert d and "Ab*****" in d[0]["detail"] and "Ab3dEf9" not in d[0]["detail"] and "解凍パスワード" in d[0]["detail"], d
assert any(x["type"] == "dangerous_type" and x["path"] == "請求書.zip/請求書.exe" for x in enc["findings"])
assert [x["type"] for x in enc["findings"]] == ["dangerous_type", "archive_decrypted"], "opened: no encrypted_archive"
assert [x["type"] for x in by["encrypted-zip-no-password.eml"]["findings"]] == ["encrypted_archive"]
PY

# Any non-.eml file is one attachment; stdin is a message.
printf 'MZ\x90\x00' >"$tmp/report.pdf"
"$bin" scan --config "$cfg" "$tmp/report.pdf" >"$tmp/out"; check "pe named pdf" $? 1
"$bin" scan --config "$cfg" - <"$src/samples/clean.eml" >/dev/null; check "stdin" $? 0
exit $fail
