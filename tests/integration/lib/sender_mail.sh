# Mails for the inbound sender checks, written to stdout (CRLF): a bounce of
# one of our messages and a reply with a ZIP inside a thread. Sourced by the
# integration scripts; needs python3.

# sender_dsn TEST_ID MESSAGE_ID LOCAL: a Postfix-style RFC 3464 bounce to
# LOCAL of the message MESSAGE_ID that LOCAL sent to nobody@partner.example.
sender_dsn() {
    printf 'From: MAILER-DAEMON@mx.partner.example (Mail Delivery System)\r\nTo: %s\r\n' "$3"
    printf 'Subject: Undelivered Mail Returned to Sender\r\nX-Test-Id: %s\r\nMIME-Version: 1.0\r\n' "$1"
    printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
    printf -- '--BB\r\nContent-Type: text/plain\r\n\r\n<nobody@partner.example>: User unknown\r\n\r\n'
    printf -- '--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.partner.example\r\n\r\n'
    printf 'Final-Recipient: rfc822; nobody@partner.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n'
    printf -- '--BB\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: <%s>\r\n' "$3"
    printf 'To: nobody@partner.example\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\n--BB--\r\n' "$2"
}

# sender_reply TEST_ID FROM TO MESSAGE_ID: FROM's reply to our MESSAGE_ID,
# addressed to TO, carrying a small (clean) ZIP.
sender_reply() {
    printf 'From: %s\r\nTo: %s\r\nSubject: Re: hello\r\nX-Test-Id: %s\r\n' "$2" "$3" "$1"
    printf 'Message-ID: <%s@partner.example>\r\nIn-Reply-To: <%s>\r\n' "$1" "$4"
    printf 'References: <%s>\r\nMIME-Version: 1.0\r\n' "$4"
    printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n'
    printf -- '--b1\r\nContent-Type: application/zip; name="invoice.zip"\r\nContent-Transfer-Encoding: base64\r\n'
    printf 'Content-Disposition: attachment; filename="invoice.zip"\r\n\r\n'
    python3 -c 'import io,zipfile,base64,sys
b=io.BytesIO()
with zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED) as z: z.writestr("invoice.txt","total: 100 yen\n")
sys.stdout.write(base64.encodebytes(b.getvalue()).decode())'
    printf '\r\n--b1--\r\n'
}
