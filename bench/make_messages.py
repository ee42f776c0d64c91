#!/usr/bin/env python3
"""Generates the scan benchmark's inputs, deterministically from a seed:
big.eml — one message with a 25 MB base64 attachment (incompressible), and
mixed/ — 200 business-like messages: plain and HTML text, PDFs-like binaries,
ZIPs (some nested), Office-like OOXML packages and a few executables in ZIPs."""
import base64, io, os, random, sys, zipfile

def b64(data):
    return base64.encodebytes(data).decode()

def message(subject, parts, boundary="=_bench_"):
    out = [f"From: sender@example.co.jp\r\nTo: rcpt@example.jp\r\nSubject: {subject}\r\n"
           f"Date: Tue, 25 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"]
    for headers, body in parts:
        out.append(f"--{boundary}\r\n{headers}\r\n\r\n{body}\r\n")
    out.append(f"--{boundary}--\r\n")
    return "".join(out).replace("\r\n", "\n").replace("\n", "\r\n").encode()

def text_part(rng, n):
    words = ["invoice", "meeting", "schedule", "請求書", "ご確認", "お願いします", "report",
             "quarterly", "attached", "delivery", "order", "見積書", "payment"]
    body = " ".join(rng.choice(words) for _ in range(n))
    return ("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64",
            b64(body.encode()))

def attach(name, data, ctype="application/octet-stream"):
    return (f"Content-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; "
            f"filename=\"{name}\"\r\nContent-Transfer-Encoding: base64", b64(data))

def make_zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            z.writestr(zipfile.ZipInfo(n, (2026, 11, 25, 10, 0, 0)), d)
    return buf.getvalue()

def pdf_like(rng, size):
    return b"%PDF-1.4\n" + rng.randbytes(size) + b"\n%%EOF\n"

def docx_like(rng):
    return make_zip([("[Content_Types].xml", b"<Types/>"),
                     ("word/document.xml", b"<w:document>" + b"<w:p>text</w:p>" * rng.randint(100, 2000) + b"</w:document>"),
                     ("word/media/image1.png", rng.randbytes(rng.randint(10_000, 200_000)))])

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/emogate-scan-bench"
    seed = int(os.environ.get("SEED", "20261125"))
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "mixed"), exist_ok=True)
    big = rng.randbytes(25 * 1024 * 1024)
    with open(os.path.join(out, "big.eml"), "wb") as f:
        f.write(message("big attachment", [text_part(rng, 50), attach("data.bin", big)]))
    for i in range(200):
        kind = rng.random()
        parts = [text_part(rng, rng.randint(50, 2000))]
        if kind < 0.4:
            pass
        elif kind < 0.65:
            parts.append(attach(f"report{i}.pdf", pdf_like(rng, rng.randint(50_000, 1_500_000)), "application/pdf"))
        elif kind < 0.85:
            members = [(f"file{k}.csv", ("a,b,c\n" * rng.randint(100, 20000)).encode()) for k in range(rng.randint(2, 6))]
            if rng.random() < 0.3:
                members.append(("inner.zip", make_zip([("doc.pdf", pdf_like(rng, 100_000))])))
            parts.append(attach(f"archive{i}.zip", make_zip(members), "application/zip"))
        elif kind < 0.97:
            parts.append(attach(f"document{i}.docx", docx_like(rng),
                                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
        else:
            parts.append(attach(f"invoice{i}.zip", make_zip([("invoice.exe", b"MZ" + rng.randbytes(30_000))])))
        with open(os.path.join(out, "mixed", f"msg{i:03d}.eml"), "wb") as f:
            f.write(message(f"message {i}", parts))

if __name__ == "__main__":
    main()
