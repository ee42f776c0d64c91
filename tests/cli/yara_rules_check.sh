#!/usr/bin/env bash
# The admin's flow for an extra rule file: a broken file is named with its
# line by `emogate check` (exit non-zero) and skipped by scans; once fixed,
# check passes and the next matching message is flagged with the rule name.
# Also: a URL from the configured URLhaus file in a message is flagged.
set -euo pipefail
bin="${EMOGATE_BIN:?}"
src="${EMOGATE_SOURCE_DIR:?}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/rules"
cp "$src"/rules/*.yar "$tmp/rules/"
cat > "$tmp/urlhaus.csv" <<'CSV'
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"2100001","2022-03-15 09:58:02","http://shop.example.com/wp-admin/Zx1/","online","","malware_download","emotet,epoch4","https://urlhaus.abuse.ch/url/2100001/","x"
CSV
cat > "$tmp/emogate.toml" <<TOML
[rules]
paths = ["$tmp/rules"]
[intel]
urlhaus_path = "$tmp/urlhaus.csv"
[milter]
user = "$(id -un)"
group = "$(id -gn)"
[quarantine]
dir = "$tmp/q"
TOML
printf 'rule Local_Marker {\n  meta:\n    description = "site rule"\n  strings:\n    $a = "ACME-INDICATOR-42"\n  condition:\n    $a and $missing\n}\n' > "$tmp/rules/local.yar"

if "$bin" check --config "$tmp/emogate.toml" 2> "$tmp/check.err"; then
  echo "FAIL: check accepted a broken rule file"; exit 1
fi
grep -Eq "$tmp/rules/local.yar:[0-9]+: .*[$]missing" "$tmp/check.err" || { echo "FAIL: no file:line:message"; cat "$tmp/check.err"; exit 1; }

sed -i 's/ and \$missing//' "$tmp/rules/local.yar"
"$bin" check --config "$tmp/emogate.toml" > /dev/null

printf 'From: a@example.org\r\nTo: b@example.net\r\nSubject: order\r\nContent-Type: text/plain\r\n\r\nref ACME-INDICATOR-42 see hxxp://shop[.]example[.]com/wp-admin/Zx1/\r\n' > "$tmp/m.eml"
out="$("$bin" scan --json --config "$tmp/emogate.toml" "$tmp/m.eml" || true)"
echo "$out" | grep -q '"type":"yara"' || { echo "FAIL: no yara finding: $out"; exit 1; }
echo "$out" | grep -q 'Local_Marker' || { echo "FAIL: rule name missing: $out"; exit 1; }
echo "$out" | grep -q '"type":"url_blocklisted"' || { echo "FAIL: URLhaus URL not flagged: $out"; exit 1; }
echo "$out" | grep -q '"urls":\["http://shop.example.com/wp-admin/Zx1/"\]' || { echo "FAIL: URL not listed: $out"; exit 1; }
echo OK
