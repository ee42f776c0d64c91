#!/usr/bin/env python3
"""A sendmail stand-in for the integration tests: `sendmail_smtp.py --port N
-i -f SENDER -- RCPT...` reads a message on stdin and hands it by SMTP to
127.0.0.1:N (a Postfix smtpd without milters). Postfix's own sendmail
refuses a private config directory to a non-root user (it reads the
default main.cf's alternate_config_directories), so a daemon running as
nobody re-injects through this. Exit 0 when the server took the message,
75 (EX_TEMPFAIL) otherwise. Standard library only."""
import smtplib, sys


def main():
    args = sys.argv[1:]
    port, sender, rcpts = None, None, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--port":
            port = int(args[i + 1]); i += 2; continue
        if a == "-f":
            sender = args[i + 1]; i += 2; continue
        if a == "--":
            rcpts = args[i + 1:]; break
        i += 1  # -i and other flags sendmail would take
    if port is None or not rcpts:
        print("usage: sendmail_smtp.py --port N [-i] -f SENDER -- RCPT...", file=sys.stderr)
        return 64
    data = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if sender in (None, "<>"):
        sender = ""
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="reinject.emogate.test", timeout=60)
        s.sendmail(sender, rcpts, data)
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        print("sendmail_smtp: %s" % e, file=sys.stderr)
        return 75
    return 0


if __name__ == "__main__":
    sys.exit(main())
