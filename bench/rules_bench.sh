#!/usr/bin/env bash
# "Realistic rules" offline benchmark: what a large third-party YARA set costs.
# The set is bench/make_rules.py's (about 5,900 rules in 740 files, shaped like
# a public LOKI-style set; generated into build/bench-rules, outside git),
# loaded next to the shipped rules. Side by side in one run, ROUNDS rounds
# (default 3), alternating, medians:
#   1. rule load: `emogate check` wall time, CPU and peak RSS (VmHWM, in MB
#      of 10^6 bytes and MiB) with the shipped rules
#      alone, with the big set, and with the big set plus one broken file
#      sorted mid-way (make_rules.py --broken 1);
#   2. a 20 MB message (a 14.6 MB random attachment, base64): engine MB/s
#      (from the report's scan_ms) without and with the big set, in a fresh
#      process; and in steady state: five copies in one process with the
#      verdict cache off (so each is scanned), the median scan_ms of copies
#      2-5 (for CPU per message in one process, see build/bench_messages
#      with EMOGATE_BENCH_SET: the CPU of a whole process less its rule
#      load varies too much with the machine's load);
#   3. the shared corpus (../shared/corpus, skipped when absent), every file
#      in one `emogate scan` process: engine MB/s without and with the big set,
#      and how many of its objects the big set flagged (it must be none).
# Usage: [ROUNDS=3] [RULE_SET=dir] [RULES_AS_SET=1] bench/rules_bench.sh [BUILD_DIR]
#   RULE_SET: another folder of rules instead of the generated one (e.g. a
#   third-party set you have), loaded the same way.
#   RULES_AS_SET=1: load the folder as its own [[rules.set]], scope "files"
#   (for the per-set configuration), instead of through [rules] paths.
# Reads only files it generates, the shipped rules and the shared corpus.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
bin="$build/emogate"
work="${BENCH_DIR:-/tmp/emogate-rules-bench}"
rounds="${ROUNDS:-3}"
corpus="${EMOGATE_SHARED:-$root/../shared}/corpus"
[[ -x "$bin" ]] || { echo "build first: scripts/build.sh" >&2; exit 2; }
mkdir -p "$work"

set_dir="${RULE_SET:-$build/bench-rules}"
broken_dir="$build/bench-rules-broken"
if [[ -z "${RULE_SET:-}" ]]; then
  [[ -d "$set_dir" ]] || python3 "$root/bench/make_rules.py" --out "$set_dir" >&2
  [[ -d "$broken_dir" ]] || python3 "$root/bench/make_rules.py" --out "$broken_dir" --broken 1 >&2
else
  broken_dir="$work/set-broken"
  rm -rf "$broken_dir" && cp -r "$set_dir" "$broken_dir"
  printf 'rule BrokenOnPurpose {\n  condition:\n    undefined_identifier_0\n}\n' >"$broken_dir/mal_zz_broken_0.yar"
fi

# The milter user need not exist here; only [rules] differs between configs.
# RULES_AS_SET=1 (once [[rules.set]] exists): the extra folder becomes its own
# set with scope "files", as a third-party set is meant to be loaded.
write_cfg() {  # write_cfg NAME [EXTRA_FOLDER] [MORE [rules] LINES]
  local name=$1 extra=${2:-} more=${3:-} list="\"$root/rules\"" set=""
  if [[ -n "$extra" && "${RULES_AS_SET:-0}" == 1 ]]; then
    set=$(printf '[[rules.set]]\nname = "generated"\npaths = ["%s"]\nscope = "files"\n' "$extra")
  elif [[ -n "$extra" ]]; then
    list="$list, \"$extra\""
  fi
  printf '[rules]\npaths = [%s]\n%s\n%s\n[milter]\nuser = "nobody"\n' "$list" "$more" "$set" >"$work/$name.toml"
}
write_cfg shipped
write_cfg big "$set_dir"
write_cfg broken "$broken_dir"
write_cfg shipped.nocache "" "cache_bytes = 0"
write_cfg big.nocache "$set_dir" "cache_bytes = 0"

[[ -f "$work/m20.eml" ]] || python3 - "$root/bench" "$work/m20.eml" <<'PY'
import random, sys
sys.path.insert(0, sys.argv[1])
from make_messages import attach, message, text_part
rng = random.Random(20261204)
data = rng.randbytes(14_600_000)  # base64 with line breaks: 20 MB on the wire
with open(sys.argv[2], "wb") as f:
    f.write(message("20 MB attachment", [text_part(rng, 50), attach("data.bin", data)]))
PY

corpus_files=()
if [[ -d "$corpus" ]]; then
  while IFS= read -r -d '' f; do corpus_files+=("$f"); done \
    < <(find "$corpus" -type f ! -name MANIFEST.tsv -print0 | sort -z)
else
  echo "note: $corpus absent, corpus rows skipped" >&2
fi

cpu_s() { python3 -c "import sys; u, s = sys.argv[1:3]; print(round(float(u) + float(s), 2))" $(tail -1 "$work/time.txt"); }
uptime_before=$(uptime)
res="$work/results.tsv"
: >"$res"
for round in $(seq 1 "$rounds"); do
  for cfg in shipped big broken; do
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$bin" check --config "$work/$cfg.toml" \
      >"$work/check.$cfg.txt" 2>&1 || true  # exits 1 on the broken file: it says so
    read -r wall rss user sys < <(tail -1 "$work/time.txt")
    printf 'load\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$round" "$wall" "$rss" "$(python3 -c "print(round($user + $sys, 2))")" >>"$res"
  done
  for cfg in shipped big; do
    /usr/bin/time -f "%U %S" -o "$work/time.txt" \
      "$bin" scan --json --config "$work/$cfg.toml" "$work/m20.eml" >"$work/m20.$cfg.json" || true
    ms=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['scan_ms'])" "$work/m20.$cfg.json")
    printf 'm20\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$round" "$ms" "$(stat -c %s "$work/m20.eml")" "$(cpu_s)" >>"$res"
    "$bin" scan --json --config "$work/$cfg.nocache.toml" \
      "$work/m20.eml" "$work/m20.eml" "$work/m20.eml" "$work/m20.eml" "$work/m20.eml" >"$work/m20x5.$cfg.json" || true
    python3 - "$work/m20x5.$cfg.json" "$cfg" "$round" "$(stat -c %s "$work/m20.eml")" >>"$res" <<'PY'
import json, statistics, sys
ms = [json.loads(l)["scan_ms"] for l in open(sys.argv[1], encoding="utf-8")]
print(f"m20x5\t{sys.argv[2]}\t{sys.argv[3]}\t{statistics.median(ms[1:])}\t{sys.argv[4]}")
PY
    if ((${#corpus_files[@]})); then
      /usr/bin/time -f "%U %S" -o "$work/time.txt" \
        "$bin" scan --json --config "$work/$cfg.toml" "${corpus_files[@]}" >"$work/corpus.$cfg.json" || true
      python3 - "$work/corpus.$cfg.json" "$cfg" "$round" "$(cpu_s)" "$set_dir" "$broken_dir" "${corpus_files[@]}" >>"$res" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
size = sum(os.path.getsize(f) for f in sys.argv[7:])
ms = sum(r["scan_ms"] for r in rows)
hits = sum(1 for r in rows for f in r["findings"] if f["type"] == "yara"
           and any(d in f.get("detail", "") for d in sys.argv[5:7]))
print(f"corpus\t{sys.argv[2]}\t{sys.argv[3]}\t{ms}\t{size}\t{sys.argv[4]}\t{hits}\t{len(rows)}")
PY
    fi
  done
done

python3 - "$res" "$(uptime)" "$uptime_before" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
med = statistics.median
def pick(kind, cfg):
    return [r for r in rows if r[0] == kind and r[1] == cfg]
print(f"load average before: {sys.argv[3].split('load average:')[1].strip()}")
print(f"load average at the end: {sys.argv[2].split('load average:')[1].strip()}")
print("| measure | shipped rules | + generated set | + generated set, one broken file |")
print("|---|---|---|---|")
load = {c: pick("load", c) for c in ("shipped", "big", "broken")}
fmt = lambda c, i, f: (f % med(float(r[i]) for r in load[c])) + " (" + ", ".join(r[i] for r in load[c]) + ")"
print("| `emogate check` wall s, median (rounds) | %s | %s | %s |" % tuple(fmt(c, 3, "%.2f") for c in load))
print("| `emogate check` CPU s (user+sys), median (rounds) | %s | %s | %s |" % tuple(fmt(c, 5, "%.2f") for c in load))
# GNU time's %M is the process's VmHWM in KiB; the target is in MB (10^6).
print("| peak RSS of `emogate check` (VmHWM), MB (MiB) | %s |" % " | ".join(
    "%.1f (%.1f)" % (med(float(r[4]) for r in load[c]) * 1024 / 1e6, med(float(r[4]) for r in load[c]) / 1024)
    for c in load))
for i, what in ((3, "wall"), (5, "CPU")):
    b, s = med(float(r[i]) for r in load["broken"]), med(float(r[i]) for r in load["big"])
    print(f"broken-file load against the same set without it: x{b / s:.2f} (emogate check {what}, medians)")
def mbs(kind, cfg):
    rs = pick(kind, cfg)
    vals = [int(r[4]) / 1e6 / (float(r[3]) / 1000) for r in rs if float(r[3]) > 0]
    return vals
for kind, label in (("m20", "20 MB message, engine MB/s"), ("corpus", "shared corpus, engine MB/s")):
    if not pick(kind, "shipped"):
        continue
    cells = []
    for cfg in ("shipped", "big"):
        v = mbs(kind, cfg)
        cells.append("%.1f (%s)" % (med(v), ", ".join("%.1f" % x for x in v)))
    print(f"| {label}, median (rounds) | {cells[0]} | {cells[1]} | |")
    # Less sensitive to a busy machine: the scan process's CPU less the
    # median CPU of `emogate check` with the same rules (start-up, rule load).
    cells = []
    for cfg in ("shipped", "big"):
        base = med(float(r[5]) for r in load[cfg])
        v = [int(r[4]) / 1e6 / max(float(r[5]) - base, 0.01) for r in pick(kind, cfg)]
        cells.append("%.1f (%s)" % (med(v), ", ".join("%.1f" % x for x in v)))
    print(f"| {label.replace('engine', 'per CPU-second, less start-up:')}, median (rounds) | {cells[0]} | {cells[1]} | |")
for cfg_i, cfg in enumerate(("shipped", "big")):
    rs = pick("m20x5", cfg)
    if not rs:
        continue
    if cfg_i == 0:
        print("| 20 MB message in steady state (5 copies, one process, cache off) | engine MB/s, scan_ms of copies 2-5, median (rounds) |")
        print("|---|---|")
    wall = [int(r[4]) / 1e6 / (float(r[3]) / 1000) for r in rs]
    print("| %s | %.1f (%s) |" % (cfg, med(wall), ", ".join("%.1f" % x for x in wall)))
c = pick("corpus", "big")
if c:
    print(f"\ncorpus: {c[0][7]} files, {int(c[0][4]) / 1e6:.1f} MB; objects the generated set flagged: "
          + ", ".join(r[6] for r in c))
PY
