#!/usr/bin/env bash
# End-to-end PPAP for an encrypted Office document through a real Postfix
# on 127.0.0.1 with one emogate daemon and its SQLite state store (private
# instances under a temp dir, started and stopped here: lib/mail_hosts.sh).
# The fixture is generated (lib/ppap_mail.sh): a macro-free .xlsx encrypted
# with ECMA-376 agile encryption (SHA-512, AES-256, spinCount 100,000, as
# Office writes it) by the test tool emogate_office_encrypt (tests/tools).
#  - mail 1 (the encrypted .xlsx, no password) is held: 250 to the client,
#    not delivered, listed as awaiting-password, encrypted_document logged;
#  - a password mail from another sender unlocks nothing;
#  - the password mail (ISO-2022-JP, 「パスワード：…」) from the same sender:
#    delivered tagged `X-Emogate-PPAP: password for <queue id of mail 1>`,
#    and mail 1 reaches the sink once, clean, with one X-Emogate-PPAP header
#    naming the password mail's queue id (the password itself never shown).
# Needs root (Postfix's master must start as root): exits 77 otherwise.
set -uo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start a private Postfix instance"; exit 77; }
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/ppap_mail.sh"
ppap_office_require
T=$(mktemp -d /tmp/emogate-ppap-office.XXXXXX)
. "$HERE/lib/postfix_env.sh"
. "$HERE/lib/checks.sh"  # skips (77) without Postfix, nobody or group postfix
. "$HERE/lib/mail_hosts.sh"   # hosts, test_cleanup

STATE=$(printf '[state]\nbackend = "sqlite"\npath = "%s"' "$T/a/state/state.db")
host_setup a "$STATE" "$(printf '[ppap]\nwindow = "10m"')" || { bad "host did not start"; exit 1; }

FROM=tanaka@sender.emogate.test
RCPT=bob@rcpt.emogate.test
PASSWORD=Hq4-mT9zK
mkdir -p "$T/fx"
ppap_office_pair "$T/fx" x1 "$FROM" "$RCPT" "$PASSWORD" agile xlsx || { bad "fixtures: encrypting the workbook failed"; exit 1; }
ppap_office_pair "$T/fx" o1 attacker@evil.example "$RCPT" "$PASSWORD" agile xlsx || { bad "fixtures failed"; exit 1; }

# --- mail 1: held
r=$(host_send a --eml "$T/fx/x1-xlsx.eml" --from "$FROM" --to "$RCPT")
check "mail 1: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q1=$(qid_of "$r")
check "mail 1: logged held" wait_log a "^emogate: $Q1: ppap=held id="
check "mail 1: the message line names encrypted_document" \
    grep -q "^emogate: $Q1: verdict=suspicious action=discard findings=encrypted_document@mitsumori-x1.xlsx" "$(host_log a)"
sleep 2
check "mail 1: not delivered while waiting" [ "$(sink_count x1-xlsx)" = 0 ]
check "mail 1: listed as awaiting-password" grep -q "awaiting-password  queue_id=$Q1" <<<"$(host_list a)"

# --- a password mail from another sender unlocks nothing
r=$(host_send a --eml "$T/fx/o1-pw.eml" --from attacker@evil.example --to "$RCPT")
check "other sender: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
f=$(sink_file o1-pw) && check "other sender: delivered without X-Emogate-PPAP" bash -c "! grep -q '^X-Emogate-PPAP' '$f'" ||
    bad "other sender: not delivered"
sleep 2
check "other sender: mail 1 still not delivered" [ "$(sink_count x1-xlsx)" = 0 ]
check "other sender: mail 1 still awaiting" grep -q "awaiting-password  queue_id=$Q1" <<<"$(host_list a)"

# --- the password mail: mail 1 released once, tagged
r=$(host_send a --eml "$T/fx/x1-pw.eml" --from "$FROM" --to "$RCPT")
check "password mail: 250 at client ($r)" [ "$(code_of "$r")" = 250 ]
Q2=$(qid_of "$r")
f=$(sink_file x1-pw) && check "password mail: tagged 'password for $Q1'" grep -q "^X-Emogate-PPAP: password for $Q1\$" "$f" ||
    bad "password mail: not delivered"
f=$(sink_file x1-xlsx) && {
    check "mail 1: one X-Emogate-PPAP header" [ "$(grep -c '^X-Emogate-PPAP:' "$f")" = 1 ]
    hdr=$(python3 -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["X-Emogate-PPAP"].replace("\r","").replace("\n",""))' "$f")
    check "mail 1: it names the password mail $Q2 ($hdr)" grep -Eq "^released by password mail $Q2 \(password found in text/plain part 1, line [0-9]+, " <<<"$hdr"
    check "mail 1: tagged clean" grep -q "^X-Emogate-Verdict: clean" "$f"
    check "mail 1: password not shown" bash -c "! grep -q '$PASSWORD' '$f'"
} || bad "mail 1: not released"
check "log: released with both queue ids" wait_log a "^emogate: $Q1: ppap=released id=[^ ]* password_mail=$Q2 "
sleep 3
check "mail 1: delivered exactly once" [ "$(sink_count x1-xlsx)" = 1 ]
check "log: password never logged" bash -c "! grep -q '$PASSWORD' '$(host_log a)'"
check "list: released-by-ppap with the password mail" grep -q "released-by-ppap  queue_id=$Q1  password_mail=$Q2" <<<"$(host_list a)"

echo "--- emogate log (ppap lines)"; grep ppap "$(host_log a)" | tail -8
[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
