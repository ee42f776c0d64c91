#!/usr/bin/env python3
"""A minimal milter protocol (v6) client for bench/header_flood.sh: sends
messages to emogate's milter socket the way an MTA would (MAIL, RCPT,
headers, body, end of message) and prints how many got each final reply.
Standard library only.

  milter_client.py SOCKET_PATH --normal N [--flood-headers H] [--flood-first]
"""
import argparse, socket, struct, sys

NR_HDR, NOEOH, NR_MAIL, NR_RCPT, NR_EOH, NR_BODY = 0x80, 0x40, 0x4000, 0x8000, 0x40000, 0x80000


class Milter:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.out = []
        self.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
        cmd, data = self.read()
        assert cmd == b"O", cmd
        _, _, self.proto = struct.unpack(">III", data[:12])

    def send(self, cmd, data=b""):
        self.out.append(struct.pack(">I", len(data) + 1) + cmd + data)
        if len(self.out) >= 256 or cmd in b"OMRNBEQ":
            self.s.sendall(b"".join(self.out))
            self.out = []

    def read(self):
        head = self._exact(5)
        n = struct.unpack(">I", head[:4])[0]
        return head[4:5], self._exact(n - 1)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("milter closed the connection")
            buf += chunk
        return buf

    def step(self, cmd, data, no_reply_flag):
        self.send(cmd, data)
        if not (self.proto & no_reply_flag):
            return self.read()[0]
        return b"c"

    def message(self, qid, headers, body):
        self.send(b"D", b"M" + b"i\0" + qid.encode() + b"\0{client_addr}\0" + b"192.0.2.10\0")
        if self.step(b"M", b"<a@example.org>\0", NR_MAIL) != b"c":
            return "tempfail-at-mail"
        self.step(b"R", b"<b@example.com>\0", NR_RCPT)
        for name, value in headers:
            r = self.step(b"L", name.encode() + b"\0" + value.encode() + b"\0", NR_HDR)
        if not (self.proto & NOEOH):
            self.step(b"N", b"", NR_EOH)
        for i in range(0, len(body), 65535):
            if self.step(b"B", body[i:i + 65535], NR_BODY) == b"s":
                break
        self.send(b"E")
        while True:
            cmd, _ = self.read()
            if cmd in b"acrty":
                return {b"a": "accept", b"c": "continue", b"r": "reject", b"t": "tempfail", b"y": "reply"}[cmd]

    def close(self):
        self.send(b"Q")
        self.s.close()


def normal(i):
    headers = [("From", "alice@example.org"), ("To", "bob@example.com"), ("Subject", "figures %d" % i),
               ("Message-ID", "<%d@example.org>" % i), ("MIME-Version", "1.0"),
               ("Content-Type", "text/plain; charset=utf-8")]
    body = ("Hello Bob,\r\nthe quarterly figures for week %d are in the wiki.\r\n" % i) * 40
    return headers, body.encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--normal", type=int, default=1000)
    ap.add_argument("--flood-headers", type=int, default=0)
    a = ap.parse_args()
    counts = {}
    m = Milter(a.socket)
    if a.flood_headers:
        hs = [("From", "a@example.org"), ("Subject", "flood")] + [("X-H", str(i % 10)) for i in range(a.flood_headers)]
        r = m.message("FLOOD", hs, b"hello\r\n")
        counts["flood:" + r] = 1
    for i in range(a.normal):
        r = m.message("N%05d" % i, *normal(i))
        counts[r] = counts.get(r, 0) + 1
    m.close()
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    sys.exit(main())
