#!/usr/bin/env python3
"""Load generator for bench/milter_load.sh: sends a deterministic
business-mail mix through SMTP with N parallel sessions (one message per
session), bounded by a message count and a deadline, and prints one JSON
object: accepted/tempfail/rejected/errors, msgs/s, p50/p95/p99/max latency
(connect to the reply after DATA). Standard library only.

Mix (by message index): 55% plain text (2-20 KB, some with HTML
alternative), 15% PDF-like attachment (50-500 KB), 15% zip of 3-6 text/csv
members, 10% .docx-like zip, 5% executable attachment (flagged).
--big-mb N replaces the mix with N-MB attachments (memory bound test).
--ppap-pairs FILE --ppap-every N: every N-th message of the mix becomes a
PPAP pair sent in one session slot, one after the other: an encrypted ZIP
with no password, then its password mail (FILE: tab-separated zip mail,
password mail, envelope sender, recipient; one line per pair, made by
tests/integration/lib/ppap_mail.sh); both count as messages.
"""
import argparse, io, json, random, smtplib, sys, threading, time, zipfile
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

WORDS = ("invoice quarterly figures meeting agenda contract delivery shipment order payment "
         "schedule review budget forecast customer supplier project milestone report").split()


def text(rnd, n):
    out, size = [], 0
    while size < n:
        line = " ".join(rnd.choice(WORDS) for _ in range(12)).capitalize() + "."
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) + "\n"


def make(i, big_mb):
    rnd = random.Random(20261125 + i)
    m = EmailMessage()
    m["From"] = "sender%d@partner.example" % (i % 17)
    m["To"] = "user%d@corp.example" % (i % 23)
    m["Subject"] = "%s %d" % (rnd.choice(WORDS).capitalize(), i)
    m["Message-ID"] = "<load-%d@bench.emogate.test>" % i
    body = text(rnd, rnd.randint(2000, 20000))
    m.set_content(body)
    kind = "big" if big_mb else ["plain"] * 11 + ["pdf"] * 3 + ["zip"] * 3 + ["docx"] * 2 + ["exe"]
    if not big_mb:
        kind = kind[i % 20]
    if kind == "plain" and i % 3 == 0:
        m.add_alternative("<html><body><p>%s</p></body></html>" % body.replace("\n", "<br>"), subtype="html")
    elif kind == "pdf":
        n = rnd.randint(50_000, 500_000)
        data = b"%PDF-1.4\n1 0 obj<<>>endobj\nstream\n" + rnd.randbytes(n) + b"\nendstream\n%%EOF\n"
        m.add_attachment(data, maintype="application", subtype="pdf", filename="report%d.pdf" % i)
    elif kind in ("zip", "docx"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            if kind == "docx":
                z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
                z.writestr("word/document.xml", "<w:document>%s</w:document>" % text(rnd, 20000))
            else:
                for k in range(rnd.randint(3, 6)):
                    z.writestr("data%d.csv" % k, text(rnd, rnd.randint(5000, 60000)))
        name = "offer%d.%s" % (i, kind)
        m.add_attachment(buf.getvalue(), maintype="application", subtype="octet-stream", filename=name)
    elif kind == "exe":
        m.add_attachment(b"MZ\x90\x00" + rnd.randbytes(30000), maintype="application",
                         subtype="octet-stream", filename="setup%d.exe" % i)
    elif kind == "big":
        m.add_attachment(rnd.randbytes(big_mb << 20), maintype="application", subtype="octet-stream",
                         filename="archive%d.bin" % i)
    return m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send(host, port, timeout, msg, sender, rcpt):
    t0 = time.monotonic()
    try:
        s = smtplib.SMTP(host, port, local_hostname="load.emogate.test", timeout=timeout)
        s.ehlo()
        s.mail(sender)
        s.rcpt(rcpt)
        try:
            code, _ = s.data(msg)
        except smtplib.SMTPDataError as e:
            code = e.smtp_code
        try:
            s.quit()
        except Exception:
            pass
    except (OSError, smtplib.SMTPException):
        code = 0
    return code, (time.monotonic() - t0) * 1000.0


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--deadline", type=float, default=300.0, help="start no message after this many seconds")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--big-mb", type=int, default=0)
    ap.add_argument("--ppap-pairs")
    ap.add_argument("--ppap-every", type=int, default=0)
    a = ap.parse_args()
    sessions = max(1, min(a.sessions, 200))
    msgs = [make(i, a.big_mb) for i in range(a.count)] if not a.big_mb else None
    pairs = []
    if a.ppap_pairs and a.ppap_every > 0:
        for line in open(a.ppap_pairs):
            zip_eml, pw_eml, sender, rcpt = line.rstrip("\n").split("\t")
            crlf = lambda path: open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            pairs.append((crlf(zip_eml), crlf(pw_eml), sender, rcpt))
    results, lock = [], threading.Lock()
    sent_pairs = [0]
    start = time.monotonic()

    def job(i):
        if time.monotonic() - start > a.deadline:
            return
        k = i // a.ppap_every if pairs else 0
        if pairs and i % a.ppap_every == a.ppap_every // 2 and k < len(pairs):
            zip_msg, pw_msg, sender, rcpt = pairs[k]
            r1 = send(a.host, a.port, a.timeout, zip_msg, sender, rcpt)
            r2 = send(a.host, a.port, a.timeout, pw_msg, sender, rcpt)
            with lock:
                results.extend([(r1[0], r1[1], len(zip_msg), True), (r2[0], r2[1], len(pw_msg), True)])
                sent_pairs[0] += 1
            return
        msg = msgs[i] if msgs else make(i, a.big_mb)
        r = send(a.host, a.port, a.timeout, msg, "sender%d@partner.example" % (i % 17), "user%d@corp.example" % (i % 23))
        with lock:
            results.append((r[0], r[1], len(msg), False))

    with ThreadPoolExecutor(max_workers=sessions) as ex:
        list(ex.map(job, range(a.count)))
    wall = time.monotonic() - start
    ok = [r for r in results if r[0] == 250]
    lat = [r[1] for r in ok]
    out = {
        "sessions": sessions, "sent": len(results), "accepted": len(ok), "ppap_pairs": sent_pairs[0],
        "tempfail": sum(1 for r in results if 400 <= r[0] < 500),
        "rejected": sum(1 for r in results if 500 <= r[0] < 600),
        "errors": sum(1 for r in results if r[0] == 0),
        "wall_s": round(wall, 2), "msgs_per_s": round(len(ok) / wall, 1) if wall else 0,
        "MB": round(sum(r[2] for r in results) / 1e6, 1),
        "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
        "max_ms": round(max(lat), 1) if lat else None,
        # The mix's own messages alone, without the PPAP pairs' (null when none).
        "mix_p50_ms": pct([r[1] for r in ok if not r[3]], 50),
        "pair_p50_ms": pct([r[1] for r in ok if r[3]], 50),
    }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    sys.exit(main())
