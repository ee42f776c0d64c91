# PPAP mail pairs for the integration tests and the load benchmark: mail 1
# carries an AES-256 ZIP (made by 7-Zip), or an encrypted Office document
# (made by the test tool emogate_office_encrypt, tests/tools), and no
# password; mail 2 is the Japanese follow-up with the password on a
# 「パスワード：…」 line, in ISO-2022-JP as such mail is sent. Needs 7z
# (p7zip-full) for ZIPs, iconv, and python3 for the workbook.
#
#   ppap_require        skip the test (77) without 7z
#   ppap_pair DIR TAG FROM TO PASSWORD
#       writes DIR/TAG-zip.eml (X-Test-Id: TAG-zip, To: TO) and
#       DIR/TAG-pw.eml (X-Test-Id: TAG-pw, To: TO and one more recipient)
#   ppap_office_require skip the test (77) without emogate_office_encrypt
#   ppap_office_pair DIR TAG FROM TO PASSWORD [agile|standard] [xlsx|docx]
#       the same with a macro-free workbook encrypted with agile (default,
#       spinCount 100,000) or standard encryption, named mitsumori-TAG.xlsx
#       (or .docx): DIR/TAG-xlsx.eml (or TAG-docx.eml) and DIR/TAG-pw.eml

# ppap_require: in a test, exits 77 (skip, saying why) without 7z.
ppap_require() {
    command -v 7z >/dev/null || { echo "SKIP: 7z (p7zip-full) not installed, needed to make AES ZIPs"; exit 77; }
}

PPAP_OFFICE_ENCRYPT=${EMOGATE_OFFICE_ENCRYPT_BIN:-${EMOGATE_BUILD_DIR:-}/emogate_office_encrypt}
ppap_office_require() {
    [ -x "$PPAP_OFFICE_ENCRYPT" ] || { echo "SKIP: emogate_office_encrypt (tests/tools) not built"; exit 77; }
}

ppap_jis() { iconv -f UTF-8 -t ISO-2022-JP; }
ppap_subject() { printf '=?ISO-2022-JP?B?%s?=' "$(printf '%s' "$1" | ppap_jis | base64 -w0)"; }

# ppap_mails DIR TAG FROM TO PASSWORD FILE MIME KIND: the pair around FILE
# (DIR/TAG-KIND.eml) and its password mail (DIR/TAG-pw.eml).
ppap_mails() {
    local dir=$1 tag=$2 from=$3 to=$4 pw=$5 file=$6 mime=$7 kind=$8 name
    name=$(basename "$file")
    {
        printf 'From: Tanaka <%s>\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$(ppap_subject 'お見積書の送付')"
        printf 'Message-ID: <%s-%s@it.emogate.test>\r\nX-Test-Id: %s-%s\r\nMIME-Version: 1.0\r\n' "$tag" "$kind" "$tag" "$kind"
        printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        printf 'お見積書を送付いたします。\nパスワードは別途お送りします。\n' | ppap_jis
        printf '\r\n--b1\r\nContent-Type: %s; name="%s"\r\n' "$mime" "$name"
        printf 'Content-Disposition: attachment; filename="%s"\r\n' "$name"
        printf 'Content-Transfer-Encoding: base64\r\n\r\n'
        base64 "$file"
        printf '\r\n--b1--\r\n'
    } >"$dir/$tag-$kind.eml"
    {
        printf 'From: Tanaka <%s>\r\nTo: %s, sato@rcpt.emogate.test\r\n' "$from" "$to"
        printf 'Subject: %s\r\n' "$(ppap_subject '【パスワード通知】お見積書の送付')"
        printf 'Message-ID: <%s-pw@it.emogate.test>\r\nX-Test-Id: %s-pw\r\nMIME-Version: 1.0\r\n' "$tag" "$tag"
        printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        printf 'お世話になっております。\n先ほどお送りしたファイルのパスワードをお知らせします。\n\nパスワード：%s\n\nよろしくお願いいたします。\n' "$pw" | ppap_jis
    } >"$dir/$tag-pw.eml"
}

ppap_pair() {
    local dir=$1 tag=$2 from=$3 to=$4 pw=$5 work
    work=$(mktemp -d "$dir/zip.XXXXXX")
    printf 'item,qty,unit_price\r\nA-100,12,4800\r\nB-220,3,15000\r\n' >"$work/mitsumori-$tag.csv"
    (cd "$work" && 7z a -tzip -mem=AES256 "-p$pw" "mitsumori-$tag.zip" "mitsumori-$tag.csv" >/dev/null) || return 1
    ppap_mails "$dir" "$tag" "$from" "$to" "$pw" "$work/mitsumori-$tag.zip" application/zip zip
    rm -rf "$work"
}

# ppap_xlsx OUT: a macro-free workbook package (one sheet, a few cells).
ppap_xlsx() {
    python3 - "$1" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="見積" sheetId="1"/></sheets></workbook>')
    z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>A-100</t></is></c><c r="B1"><v>4800</v></c></row></sheetData></worksheet>')
PY
}

ppap_office_pair() {
    local dir=$1 tag=$2 from=$3 to=$4 pw=$5 scheme=${6:-agile} kind=${7:-xlsx} work mime
    work=$(mktemp -d "$dir/doc.XXXXXX")
    ppap_xlsx "$work/plain.xlsx" && "$PPAP_OFFICE_ENCRYPT" "$scheme" "$pw" "$work/plain.xlsx" "$work/mitsumori-$tag.$kind" || return 1
    mime=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    [ "$kind" = docx ] && mime=application/vnd.openxmlformats-officedocument.wordprocessingml.document
    ppap_mails "$dir" "$tag" "$from" "$to" "$pw" "$work/mitsumori-$tag.$kind" "$mime" "$kind"
    rm -rf "$work"
}
