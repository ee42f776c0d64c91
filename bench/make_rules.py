#!/usr/bin/env python3
"""Generates a YARA rule set shaped like a large public set written for the LOKI
scanner (about 5,900 rules over 740 files), for the "realistic rules" benchmarks.
Deterministic from --seed. Nothing here is a real signature: every string is
built from random-looking tokens, so the set matches no ordinary file, yet it
costs libyara what such a set costs: many atoms, hex strings with jumps and
alternatives, regexes, wide/nocase strings, filesize and uint16(0) header checks,
pe-module conditions, the LOKI externals (filename, filepath, extension with its
dot, filetype, owner), score metas, and private and global rules.

Usage: bench/make_rules.py [--out build/bench-rules] [--files 740] [--rules 5900]
                           [--seed 20261204] [--broken N]
--broken N adds N files that do not compile (an undefined identifier on a known
line), for the load benchmarks. The output folder is emptied first; keep it out
of git (build/ is ignored)."""
import argparse, os, random, shutil, string

PREFIXES = ["apt", "crime", "gen", "expl", "hktl", "mal", "susp", "vuln", "webshell", "thor"]
ALNUM = string.ascii_letters + string.digits
SCORES = [40] * 2 + [60] * 4 + [75] * 3 + [100] * 3
PE_DLLS = ["kernel32.dll", "advapi32.dll", "ws2_32.dll", "wininet.dll", "user32.dll", "ntdll.dll"]
EXTS = [".exe", ".dll", ".ps1", ".vbs", ".js", ".hta", ".bat", ".lnk", ".jsp", ".php", ".aspx"]
FILETYPES = ["EXE", "DOC", "ZIP", "RAR", "PDF", "JPG"]


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def token(self, lo=6, hi=14):
        # Mixed case and digits, at least one digit: no dictionary word survives.
        r = self.rng
        t = [r.choice(ALNUM) for _ in range(r.randint(lo, hi))]
        t[r.randrange(len(t))] = r.choice(string.digits)
        return "".join(t)

    def text_string(self):
        r = self.rng
        kind = r.random()
        if kind < 0.35:
            body = self.token()
        elif kind < 0.55:
            body = "\\\\" + self.token(4, 8) + "\\\\" + self.token(4, 9) + r.choice(EXTS)
        elif kind < 0.7:
            body = "http://" + self.token(5, 10).lower() + "." + r.choice(["ru", "cn", "top", "xyz"]) + "/" + self.token(4, 8)
        elif kind < 0.85:
            body = self.token(4, 7) + " /" + r.choice("cqeks") + " " + self.token(5, 10)
        else:
            body = self.token(3, 6) + "_" + self.token(3, 6) + "::" + self.token(4, 8)
        # As in signature-base's files: mostly "fullword ascii" and "ascii"
        # (yarGen's output), some wide, nocase rare.
        mods = r.choices(["fullword ascii", "ascii", "wide", "fullword wide", "ascii wide", "", "nocase",
                          "ascii wide nocase"], weights=[35, 25, 10, 5, 10, 10, 3, 2])[0]
        return f'"{body}" {mods}'.rstrip()

    def hex_bytes(self, n):
        return " ".join("%02X" % self.rng.randrange(256) for _ in range(n))

    def hex_string(self):
        r = self.rng
        parts = [self.hex_bytes(r.randint(4, 8))]
        for _ in range(r.randint(1, 4)):
            k = r.random()
            if k < 0.35:
                lo = r.randint(0, 4)
                parts.append(f"[{lo}-{lo + r.randint(1, 8)}]")
            elif k < 0.55:
                parts.append("?? " * r.randint(1, 3))
            elif k < 0.8:
                parts.append(f"( {self.hex_bytes(2)} | {self.hex_bytes(2)} )")
            else:
                parts.append(self.hex_bytes(1)[0] + "?")
            parts.append(self.hex_bytes(r.randint(3, 6)))
        return "{ " + " ".join(p.strip() for p in parts) + " }"

    def regex(self):
        r = self.rng
        a, b = self.token(4, 7), self.token(4, 7)
        shape = r.choice([
            f"/{a}[0-9a-f]{{8,16}}{b}/",
            f"/{a}\\.(exe|dll|dat){b[:3]}/",
            f"/{a}[A-Za-z]{{2,6}}\\/{b}/ nocase",
            f"/\\x00{a}\\s{{1,3}}{b}/",
            f"/({a}|{b})[_-]{self.token(3, 5)}/",
        ])
        return shape


def external_clause(g):
    r = g.rng
    k = r.random()
    if k < 0.3:
        return f'extension == "{r.choice(EXTS)}"'
    if k < 0.5:
        return f'filename == "{g.token(5, 9).lower()}{r.choice(EXTS)}"'
    if k < 0.65:
        return f'filepath contains "\\\\{g.token(4, 8)}\\\\"'
    if k < 0.85:
        return f'filetype == "{r.choice(FILETYPES)}"'
    if k < 0.95:
        return 'not filetype == "EXE"'
    return f'owner == "{g.token(5, 8)}"'


def pe_clause(g):
    r = g.rng
    return r.choice([
        f'pe.imphash() == "{"".join(r.choice("0123456789abcdef") for _ in range(32))}"',
        f'pe.exports("{g.token(6, 12)}")',
        f'pe.imports("{r.choice(PE_DLLS)}", "{g.token(8, 14)}")',
        "pe.number_of_signatures == 0",
        f"pe.number_of_sections > {r.randint(3, 7)}",
        f'for any i in (0 .. pe.number_of_sections - 1) : ( pe.sections[i].name == ".{g.token(3, 6).lower()}" )',
    ])


def rule_text(g, name, uses_pe, private_gate, uses_externals):
    r = g.rng
    strings = []
    nx = r.randint(0, 3)
    ns = r.randint(1, 9)
    for i in range(nx):
        strings.append((f"$x{i + 1}", g.text_string()))
    for i in range(ns):
        k = r.random()
        val = g.text_string() if k < 0.6 else g.hex_string() if k < 0.85 else g.regex()
        strings.append((f"$s{i + 1}", val))
    if r.random() < 0.25:
        strings.append(("$op1", g.hex_string()))
    have_ops = strings[-1][0] == "$op1"

    score = r.choice(SCORES)
    lines = [f"rule {name}", "{", "   meta:",
             f'      description = "Generated benchmark rule {name}"',
             '      author = "make_rules.py"',
             f'      reference = "https://example.invalid/{g.token(6, 10)}"',
             f'      date = "20{r.randint(15, 26)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"',
             f'      hash1 = "{"".join(r.choice("0123456789abcdef") for _ in range(64))}"',
             f"      score = {score}",
             "   strings:"]
    for ident, val in strings:
        lines.append(f"      {ident} = {val}")

    conds = []
    header = r.random()
    if header < 0.55:
        conds.append("uint16(0) == 0x5a4d")
    elif header < 0.65:
        conds.append("uint32(0) == 0xe011cfd0")
    elif header < 0.72:
        conds.append("uint16(0) == 0x4b50")
    if r.random() < 0.7:
        conds.append(f"filesize < {r.choice([100, 200, 500, 800, 1000, 2000, 3000, 5000])}KB")
    if private_gate and r.random() < 0.6:
        conds.append(private_gate)
    # pe fields are only defined for a PE: the real sets check the header too.
    if uses_pe and header < 0.55 and r.random() < 0.5:
        conds.append(pe_clause(g))
    if uses_externals and r.random() < 0.5:
        conds.append(external_clause(g))
    # The string part always needs at least one of our random strings.
    if nx:
        str_cond = f"( 1 of ($x*) or {min(ns, r.randint(2, 4))} of ($s*) )"
    else:
        str_cond = f"{min(ns, r.randint(1, 4))} of ($s*)" if ns > 1 else "$s1"
    if have_ops:
        str_cond = f"( {str_cond} or all of ($op*) )"
    conds.append(str_cond)
    lines.append("   condition:")
    lines.append("      " + " and ".join(conds))
    lines.append("}")
    return "\n".join(lines)


def split_counts(rng, total, files):
    # A long tail as in the real sets: most files hold a few rules, some many.
    weights = [rng.lognormvariate(0, 1.1) for _ in range(files)]
    s = sum(weights)
    counts = [max(1, round(total * w / s)) for w in weights]
    while sum(counts) > total:
        i = rng.randrange(files)
        if counts[i] > 1:
            counts[i] -= 1
    while sum(counts) < total:
        counts[rng.randrange(files)] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench-rules"))
    ap.add_argument("--files", type=int, default=740)
    ap.add_argument("--rules", type=int, default=5900)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--broken", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    g = Gen(rng)
    out = os.path.abspath(a.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    counts = split_counts(rng, a.rules, a.files)
    names = set()
    stats = {"rules": 0, "private": 0, "global": 0, "pe_files": 0}
    for fi, n in enumerate(counts):
        while True:
            fname = f"{rng.choice(PREFIXES)}_{g.token(5, 10).lower()}.yar"
            if fname not in names:
                names.add(fname)
                break
        uses_pe = rng.random() < 0.35
        # The LOKI externals appear in a few files (anomaly and renamed-tool
        # rules), not spread over the whole set.
        uses_externals = rng.random() < 0.06
        body = []
        if uses_pe:
            body.append('import "pe"\n')
            stats["pe_files"] += 1
        if rng.random() < 0.04:
            body.append(f"global private rule G_{g.token(5, 8)} {{\n   condition:\n      filesize < 20MB\n}}\n")
            stats["global"] += 1
        gate = None
        if rng.random() < 0.1:
            gate = f"P_{g.token(5, 8)}"
            body.append(f"private rule {gate} {{\n   condition:\n      uint16(0) == 0x5a4d and "
                        f"uint32(uint32(0x3C)) == 0x00004550\n}}\n")
            stats["private"] += 1
        used = set()
        for ri in range(n):
            while True:
                rname = f"{fname.split('_')[0].upper()}_{g.token(4, 10)}_{ri}"
                if rname not in used:
                    used.add(rname)
                    break
            body.append(rule_text(g, rname, uses_pe, gate, uses_externals) + "\n")
            stats["rules"] += 1
        with open(os.path.join(out, fname), "w") as f:
            f.write("\n".join(body))
    for bi in range(a.broken):
        # Sorted into the middle of the set (names start with "m"), as a real
        # broken file would usually be; the error is on line 6.
        with open(os.path.join(out, f"mal_zz_broken_{bi}.yar"), "w") as f:
            f.write(f"rule Broken_{bi}\n{{\n   strings:\n      $a = \"{g.token()}\"\n"
                    f"   condition:\n      $a and undefined_identifier_{bi}\n}}\n")
    print(f"{out}: {len(counts)} files, {stats['rules']} rules ({stats['private']} private gates, "
          f"{stats['global']} global, {stats['pe_files']} files import pe), {a.broken} broken")


if __name__ == "__main__":
    main()
