#!/usr/bin/env python3
"""Send one test message by SMTP and print the server's final reply as
"CODE TEXT" (exit 0 whatever the code; 3 on a connection error).

Used by tests/integration/*.sh and bench/milter_load.sh. Standard library only.
  --attach NAME        add an attachment called NAME
  --exe                its content is a PE header (an executable)
  --size N             its content is N pseudo-random bytes
  --zip-members N      its content is a zip of N text files of 33 KB
  --content TEXT       its content is TEXT
  --headers N          add N tiny extra headers (a header flood)
  --forge              add a forged 'X-Emogate-Verdict: forged-clean' header
  --kill-pid PID       send half the message, SIGKILL PID, then finish DATA
  --eml FILE           send FILE as the message instead (line ends made CRLF;
                       --from and --to give the envelope, --id is not added)
  --auth USER:PASSWORD SMTP AUTH (PLAIN) before MAIL FROM; a refused login
                       prints its reply
"""
import argparse, os, random, signal, smtplib, socket, sys, time
from email.message import EmailMessage


def build(a):
    if a.eml:
        with open(a.eml, "rb") as f:
            return f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    m = EmailMessage()
    m["From"] = a.sender
    m["To"] = ", ".join(a.rcpt)
    m["Subject"] = a.subject
    m["Message-ID"] = "<%s@it.emogate.test>" % a.id
    m["X-Test-Id"] = a.id
    if a.forge:
        m["X-Emogate-Verdict"] = "forged-clean"
    m.set_content("Hello,\n\nthis is test message %s.\n" % a.id + "Regards\n" * 20)
    if a.attach:
        if a.zip_members:
            import io, zipfile
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(a.zip_members):
                    # 33 KB of text each (N=3000: 100 MB to analyse from an
                    # 800 KB zip), so the scan is long on any machine.
                    z.writestr("f%05d.txt" % i, ("line %d of a report, see http://intranet.example/r/%d\n" % (i, i)) * 600)
            data = buf.getvalue()
        elif a.content is not None:
            data = a.content.encode()
        elif a.exe:
            data = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
        else:
            rnd = random.Random(a.id)
            data = bytes(rnd.getrandbits(8) for _ in range(a.size or 1000))
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=a.attach)
    raw = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if a.headers:
        raw = b"".join(b"X-F%d: y\r\n" % i for i in range(a.headers)) + raw
    return raw


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--from", dest="sender", default="alice@sender.emogate.test")
    p.add_argument("--to", dest="rcpt", action="append", default=[])
    p.add_argument("--id")
    p.add_argument("--subject", default="quarterly figures")
    p.add_argument("--attach")
    p.add_argument("--exe", action="store_true")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--zip-members", type=int, default=0)
    p.add_argument("--content")
    p.add_argument("--headers", type=int, default=0)
    p.add_argument("--forge", action="store_true")
    p.add_argument("--kill-pid", type=int)
    p.add_argument("--eml")
    p.add_argument("--auth")
    a = p.parse_args()
    if not a.id and not a.eml:
        p.error("--id or --eml is required")
    if not a.rcpt:
        a.rcpt = ["bob@rcpt.emogate.test"]
    msg = build(a)
    try:
        s = smtplib.SMTP(a.host, a.port, local_hostname="client.emogate.test", timeout=60)
        s.ehlo()
        if a.auth:
            user, _, password = a.auth.partition(":")
            try:
                s.login(user, password)
            except smtplib.SMTPAuthenticationError as e:
                print(e.smtp_code, e.smtp_error.decode(errors="replace")); return 0
        code, text = s.mail(a.sender)
        if code >= 400:
            print(code, text.decode(errors="replace")); return 0
        for r in a.rcpt:
            code, text = s.rcpt(r)
            if code >= 400:
                print(code, text.decode(errors="replace")); return 0
        if a.kill_pid is None:
            try:
                code, text = s.data(msg)  # smtplib does the dot-stuffing
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
        else:
            code, text = s.docmd("DATA")
            if code != 354:
                print(code, text.decode(errors="replace")); return 0
            half = len(msg) // 2
            s.send(msg[:half])
            time.sleep(0.3)  # let the MTA pass the first part to the milter
            os.kill(a.kill_pid, signal.SIGKILL)
            time.sleep(0.3)
            s.send(msg[half:] + b"\r\n.\r\n")
            code, text = s.getreply()
        print(code, text.decode(errors="replace") if isinstance(text, bytes) else text)
        try:
            s.quit()
        except Exception:
            pass
        return 0
    except (OSError, smtplib.SMTPException) as e:
        print("000 connection error: %s" % e)
        return 3


if __name__ == "__main__":
    sys.exit(main())
