#!/usr/bin/env bash
# Issue 3 benchmark: a ZIP holding a Word document zero-padded to 600 MB
# (Emotet 2023). Generates the ZIP by streaming deflate (a few hundred KB on
# disk, never 600 MB in memory), scans it with `emogate scan`, and prints
# wall time and peak RSS from /usr/bin/time -v.
# Usage: bench/padded_doc.sh [path/to/emogate] [padding MiB, default 600]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/emogate}"
mib="${2:-600}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work/padded.zip" "$mib" <<'PY'
import struct, sys, zlib
path, mib = sys.argv[1], int(sys.argv[2])
doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + b"".join(b"WordDocument body text %d" % i for i in range(3000))
comp = zlib.compressobj(9, zlib.DEFLATED, -15)
data = comp.compress(doc) + comp.flush(zlib.Z_FULL_FLUSH)
block = comp.compress(bytes(1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)  # dictionary reset: repeatable
crc = zlib.crc32(doc)
zero_mib = bytes(1 << 20)
parts = [data]
for _ in range(mib):
    parts.append(block)
    crc = zlib.crc32(zero_mib, crc)
parts.append(comp.flush(zlib.Z_FINISH))
data = b"".join(parts)
usize = len(doc) + (mib << 20)
name = b"invoice.doc"
common = struct.pack("<HHHHIII", 0, 8, 0, 0x21, crc, len(data), usize & 0xFFFFFFFF)
local = struct.pack("<IH", 0x04034B50, 20) + common + struct.pack("<HH", len(name), 0) + name
central = struct.pack("<IHH", 0x02014B50, 20, 20) + common + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0) + name
end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
with open(path, "wb") as f:
    f.write(local + data + central + end)
PY
echo "zip: $(stat -c %s "$work/padded.zip") bytes, member declares $(( mib )) MiB of padding"
set +e
/usr/bin/time -v "$bin" scan --json --file "$work/padded.zip" >"$work/report.json" 2>"$work/time.txt"
rc=$?
set -e
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/time.txt"
echo "exit: $rc (1 = flagged)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("verdict:", r["verdict"]); [print(" ", f["type"], f["path"], f["detail"]) for f in r["findings"]]; [print("  object", o["path"], o["type"], o["size"]) for o in r["objects"]]' "$work/report.json"
