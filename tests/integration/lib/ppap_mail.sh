# PPAP mail pairs for the integration tests and the load benchmark: mail 1
# carries an AES-256 ZIP (made by 7-Zip) and no password, mail 2 is the
# Japanese follow-up with the password on a 「パスワード：…」 line, in
# ISO-2022-JP as such mail is sent. Needs 7z (p7zip-full) and iconv.
#
#   ppap_require        skip the test (77) without 7z
#   ppap_pair DIR TAG FROM TO PASSWORD
#       writes DIR/TAG-zip.eml (X-Test-Id: TAG-zip, To: TO) and
#       DIR/TAG-pw.eml (X-Test-Id: TAG-pw, To: TO and one more recipient)

# ppap_require: in a test, exits 77 (skip, saying why) without 7z.
ppap_require() {
    command -v 7z >/dev/null || { echo "SKIP: 7z (p7zip-full) not installed, needed to make AES ZIPs"; exit 77; }
}

ppap_jis() { iconv -f UTF-8 -t ISO-2022-JP; }
ppap_subject() { printf '=?ISO-2022-JP?B?%s?=' "$(printf '%s' "$1" | ppap_jis | base64 -w0)"; }

ppap_pair() {
    local dir=$1 tag=$2 from=$3 to=$4 pw=$5 work
    work=$(mktemp -d "$dir/zip.XXXXXX")
    printf 'item,qty,unit_price\r\nA-100,12,4800\r\nB-220,3,15000\r\n' >"$work/mitsumori-$tag.csv"
    (cd "$work" && 7z a -tzip -mem=AES256 "-p$pw" "mitsumori-$tag.zip" "mitsumori-$tag.csv" >/dev/null) || return 1
    {
        printf 'From: Tanaka <%s>\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$(ppap_subject 'お見積書の送付')"
        printf 'Message-ID: <%s-zip@it.emogate.test>\r\nX-Test-Id: %s-zip\r\nMIME-Version: 1.0\r\n' "$tag" "$tag"
        printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        printf 'お見積書を送付いたします。\nパスワードは別途お送りします。\n' | ppap_jis
        printf '\r\n--b1\r\nContent-Type: application/zip; name="mitsumori-%s.zip"\r\n' "$tag"
        printf 'Content-Disposition: attachment; filename="mitsumori-%s.zip"\r\n' "$tag"
        printf 'Content-Transfer-Encoding: base64\r\n\r\n'
        base64 "$work/mitsumori-$tag.zip"
        printf '\r\n--b1--\r\n'
    } >"$dir/$tag-zip.eml"
    {
        printf 'From: Tanaka <%s>\r\nTo: %s, sato@rcpt.emogate.test\r\n' "$from" "$to"
        printf 'Subject: %s\r\n' "$(ppap_subject '【パスワード通知】お見積書の送付')"
        printf 'Message-ID: <%s-pw@it.emogate.test>\r\nX-Test-Id: %s-pw\r\nMIME-Version: 1.0\r\n' "$tag" "$tag"
        printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        printf 'お世話になっております。\n先ほどお送りしたファイルのパスワードをお知らせします。\n\nパスワード：%s\n\nよろしくお願いいたします。\n' "$pw" | ppap_jis
    } >"$dir/$tag-pw.eml"
    rm -rf "$work"
}
