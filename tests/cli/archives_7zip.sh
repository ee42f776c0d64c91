#!/usr/bin/env bash
# Issue 3 with archives made by a real archiver (7-Zip, package p7zip-full):
#  - the README scenario: an ISO-2022-JP mail saying 解凍パスワードは Ab3dEf9 です
#    with an AES-256 ZIP attached -> archive_decrypted (masked password, where
#    it was found) and the inner file's own finding;
#  - encrypted 7z with visible names -> encrypted_archive listing them;
#  - 7z with encrypted headers -> encrypted_archive (names hidden).
set -euo pipefail
command -v 7z >/dev/null || { echo "7z (p7zip-full) not installed"; exit 77; }
bin="${EMOGATE_BIN:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'MZ\x90\x00fake executable' > invoice.exe
echo "hello" > note.txt
7z a -tzip -mem=AES256 -pAb3dEf9 invoice.zip invoice.exe >/dev/null
7z a -pAb3dEf9 -mhe=off names.7z invoice.exe note.txt >/dev/null
7z a -pAb3dEf9 -mhe=on hidden.7z invoice.exe >/dev/null

{
  printf 'From: a@example.jp\r\nTo: b@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCQDFKOD1xGyhC?=\r\n'
  printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
  printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
  printf '請求書を送付いたします。\n解凍パスワードは Ab3dEf9 です\n' | iconv -f UTF-8 -t ISO-2022-JP
  printf '\r\n--b1\r\nContent-Type: application/zip; name="invoice.zip"\r\n'
  printf 'Content-Disposition: attachment; filename="invoice.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  base64 invoice.zip
  printf '\r\n--b1--\r\n'
} > mail.eml

run() { "$bin" scan --json "$@" || true; }
fail() { echo "$1"; cat "$2"; exit 1; }
run mail.eml > mail.json
grep -q '"type":"archive_decrypted"' mail.json || fail "no archive_decrypted" mail.json
grep -q 'AES-256' mail.json || fail "cipher not named" mail.json
grep -q 'Ab\*\*\*\*\*' mail.json || fail "password not masked" mail.json
if grep -q 'Ab3dEf9' mail.json; then fail "clear-text password in report" mail.json; fi
grep -q 'text/plain part 1, line 2, after \\"解凍パスワード\\"' mail.json || fail "password source missing" mail.json
grep -q '"type":"dangerous_type"' mail.json || fail "inner file not analysed" mail.json

run --file names.7z > names.json
grep -q 'encrypted_archive' names.json || fail "7z: no encrypted_archive" names.json
grep -q 'invoice.exe (19 bytes), note.txt (6 bytes)' names.json || fail "7z: names not listed" names.json

run --file hidden.7z > hidden.json
grep -q 'names hidden' hidden.json || fail "7z with encrypted headers not reported" hidden.json
echo ok
