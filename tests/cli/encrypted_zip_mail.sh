#!/usr/bin/env bash
# Issue 3 from the command line: an ISO-2022-JP mail whose body gives the
# password of the attached ZipCrypto ZIP. `emogate scan --json` must report
# archive_decrypted with the masked password and where it was found, then
# the inner executable's own finding; without the password line it must
# report encrypted_archive instead.
set -euo pipefail
command -v zip >/dev/null || { echo "zip(1) not installed"; exit 77; }
bin="${EMOGATE_BIN:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'MZ\x90\x00fake executable' > invoice.exe
zip -q -X -P 'Ab3dEf9' invoice.zip invoice.exe

mail() {  # $1 = body text (UTF-8)
  printf 'From: a@example.jp\r\nTo: b@example.jp\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n'
  printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
  printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
  printf '%s\n' "$1" | iconv -f UTF-8 -t ISO-2022-JP
  printf '\r\n--b1\r\nContent-Type: application/zip; name="invoice.zip"\r\n'
  printf 'Content-Disposition: attachment; filename="invoice.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  base64 invoice.zip
  printf '\r\n--b1--\r\n'
}

mail "請求書を送付します。
解凍パスワードは Ab3dEf9 です" > with.eml
mail "請求書を送付します。" > without.eml

set +e
"$bin" scan --json with.eml > with.json
"$bin" scan --json without.eml > without.json
set -e
grep -q '"type":"archive_decrypted"' with.json || { echo "no archive_decrypted:"; cat with.json; exit 1; }
grep -q 'Ab\*\*\*\*\*' with.json || { echo "password not masked:"; cat with.json; exit 1; }
if grep -q 'Ab3dEf9' with.json; then echo "clear-text password in report"; exit 1; fi
grep -q 'line 2, after \\"解凍パスワード\\"' with.json || { echo "source missing:"; cat with.json; exit 1; }
grep -q '"type":"dangerous_type"' with.json || { echo "inner file not analysed:"; cat with.json; exit 1; }
grep -q '"type":"encrypted_archive"' without.json || { echo "no encrypted_archive:"; cat without.json; exit 1; }
grep -q 'invoice.exe (19 bytes, ZipCrypto)' without.json || { echo "member list missing:"; cat without.json; exit 1; }
echo ok
