#!/usr/bin/env python3
"""Runs `emogate scan --json` over every file of ../shared/corpus/*/MANIFEST.tsv.

Always: every file must get a verdict (no crash, no exit status 2, one JSON
object each). Then, for the columns has_vba, has_xlm and encrypted, compares
what emogate found with what the manifest states and prints recall and
precision per column ('unknown' rows are not counted). With --strict COLS,
any miss or false alarm in those columns fails the test, except rows listed
in tests/corpus/known_misses.tsv (path, column, reason), which the README
explains.
"""
import argparse, json, os, subprocess, sys
from collections import defaultdict

def load_manifests(corpus):
    rows = []
    for src in sorted(os.listdir(corpus)):
        man = os.path.join(corpus, src, "MANIFEST.tsv")
        if not os.path.isfile(man):
            continue
        with open(man, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            for line in f:
                cols = line.rstrip("\n").split("\t")
                row = dict(zip(header, cols))
                row["file"] = os.path.join(corpus, src, row["path"])
                row["id"] = src + "/" + row["path"]
                rows.append(row)
    return rows

def scan(binary, config, files, message):
    out = {}
    if not files:
        return out
    cmd = [binary, "scan", "--json", "--config", config, "--message" if message else "--file"] + files
    p = subprocess.run(cmd, capture_output=True, timeout=600)
    if p.returncode not in (0, 1):
        print(f"FAIL: emogate exited {p.returncode} on a batch:\n{p.stderr.decode(errors='replace')[-2000:]}")
        sys.exit(1)
    for line in p.stdout.decode("utf-8", errors="replace").splitlines():
        j = json.loads(line)
        out[j["input"]] = j
    return out

def predicted(report, column):
    types = {f["type"] for f in report["findings"]}
    if column == "has_vba":
        return "vba_macro" in types
    if column == "has_xlm":
        return "xlm_macro" in types
    if column == "encrypted":
        # The manifest says whether a file is encrypted, not whether emogate
        # opened it: encrypted_archive (locked) and archive_decrypted (opened
        # with a password) both mean "encrypted".
        return bool(types & {"encrypted_document", "encrypted_archive", "archive_decrypted"})
    raise ValueError(column)

def expected(row, column):
    v = row.get(column, "unknown")
    if column == "encrypted":
        return None if v == "unknown" else v != "no"
    return {"yes": True, "no": False}.get(v)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--strict", default="", help="comma-separated columns that must be exact")
    ap.add_argument("--known", default="")
    a = ap.parse_args()
    rows = load_manifests(a.corpus)
    msgs = [r["file"] for r in rows if r["kind"] == "eml"]
    files = [r["file"] for r in rows if r["kind"] != "eml"]
    reports = scan(a.bin, a.config, msgs, True)
    reports.update(scan(a.bin, a.config, files, False))
    missing = [r["id"] for r in rows if r["file"] not in reports]
    if missing:
        print("FAIL: no verdict for", missing)
        return 1
    errors = [(r["id"], reports[r["file"]]["errors"]) for r in rows if reports[r["file"]]["errors"]]
    print(f"corpus: {len(rows)} files, all got a verdict; {len(errors)} with scan errors")
    for e in errors:
        print("  scan error:", e[0], e[1][:3])

    known = {}
    if a.known and os.path.exists(a.known):
        for line in open(a.known, encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                p, col, why = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                known[(p, col)] = why
    strict = [c for c in a.strict.split(",") if c]
    status = 0
    for col in ("has_vba", "has_xlm", "encrypted"):
        tp = fp = fn = tn = 0
        misses = []
        for r in rows:
            exp = expected(r, col)
            if exp is None:
                continue
            got = predicted(reports[r["file"]], col)
            if exp and got: tp += 1
            elif exp and not got: fn += 1; misses.append(("missed", r["id"]))
            elif got and not exp: fp += 1; misses.append(("false alarm", r["id"]))
            else: tn += 1
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"{col}: recall {recall:.1%} ({tp}/{tp+fn}), precision {precision:.1%} ({tp}/{tp+fp}), "
              f"true negatives {tn}")
        for kind, rid in misses:
            note = known.get((rid, col))
            print(f"  {kind}: {rid}" + (f"  [known: {note}]" if note else ""))
            if col in strict and not note:
                status = 1
    return status

if __name__ == "__main__":
    sys.exit(main())
