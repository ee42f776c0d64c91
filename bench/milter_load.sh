#!/usr/bin/env bash
# Load benchmark for the emogate milter: a private Postfix on loopback,
# N parallel SMTP sessions (bounded count and deadline, self-stopping),
# first with no milter (the floor) and then with emogate in smtpd_milters.
# Reports msgs/s, p50/p95/p99 latency, emogate CPU per message (perf
# task-clock of every thread when perf can count, else /proc ticks), peak RSS
# (both summed over the daemon and its scan worker processes),
# and the ratio to the floor. Needs root (Postfix's master starts as root).
#
#   bench/milter_load.sh                   MODE=auto: the shared harness
#                                          (../shared/bench/run_bench.sh) when
#                                          present, else the built-in one
#   MODE=self SESSIONS="1 4" COUNT=200 bench/milter_load.sh
#   MODE=self SESSIONS=50 COUNT=100 BIG_MB=10 bench/milter_load.sh   # RSS bound
#   ISOLATION="inprocess process" ROUNDS=3 SESSIONS=4 bench/milter_load.sh
#                                          in-process scans against worker
#                                          processes, alternating, per round
#                                          (shared harness); medians at the end
#   PPAP_EVERY=10 ROUNDS=3 SESSIONS=4 bench/milter_load.sh
#                                          PPAP pair mix (self mode): every 10th
#                                          message becomes an encrypted ZIP plus
#                                          its password mail; passes per round:
#                                          Postfix alone, emogate on today's mix,
#                                          then the pair mix with [state] sqlite
#                                          and redis (a private redis-server);
#                                          medians at the end
#   OUTBOUND=1 ISO=inprocess ROUNDS=3 SESSIONS=4 bench/milter_load.sh
#                                          outbound watch (self mode): the mix
#                                          sent through Postfix with
#                                          milter_macro_daemon_name=submission,
#                                          so every message is outbound; passes
#                                          per round: Postfix alone, emogate
#                                          with [outbound] enabled = false, then
#                                          enabled with [state] sqlite and redis
#                                          (no freezes: the mix's executables
#                                          would freeze its senders); medians
#                                          and the CPU per message against
#                                          out-off at the end, and the watch's
#                                          own thread CPU per message (its
#                                          metric) against the daemon's in the
#                                          same pass. The shipped rules are
#                                          loaded (MIX_RULES). ISO=inprocess
#                                          ([limits] isolation) keeps the scans
#                                          in the daemon, whose CPU is measured
#   ROUNDS=3 (shared harness, no ISOLATION): a fresh daemon per round, so
#                                          every round is first sight (the
#                                          workers' verdict caches empty);
#                                          ratios per round and medians, and
#                                          each process's VmHWM and the PSS of
#                                          daemon + workers at the end of each
#                                          round. WARM_ROUNDS=1: one daemon
#                                          for all rounds, as before (rounds 2+
#                                          then hit the caches)
#   RULES=generated VARIANTS="none clamav under_test" ROUNDS=3 SESSIONS=4 bench/milter_load.sh
#                                          "realistic rules": bench/make_rules.py's
#                                          5,900-rule set (build/bench-rules, made
#                                          when absent) loaded next to the bench's
#                                          rules; RULE_SET=dir loads another folder
#                                          (a third-party set) instead
#
# Env: EMOGATE_BIN (build/emogate), SESSIONS ("1 4"), COUNT (200), BIG_MB (0),
#      DEADLINE_S (300), WORKERS (0 = cores), SHARED_BENCH (../shared/bench),
#      ROUNDS (1, shared mode), WARM_ROUNDS (0), ISOLATION (shared mode), LOAD_DIR (/tmp/emogate-load),
#      BENCH_DIR (/tmp/emogate-bench-milter, shared mode; ports 2535/2536),
#      RULES (bench: the shipped bench rules only; generated: plus the big set),
#      RULE_SET (the big set's folder), RULES_AS_SET (1: load the big set as its
#      own [[rules.set]] with scope RULES_SCOPE, "files" unless given, instead
#      of in [rules] paths),
#      MILTER_INET_PORT (unset: emogate listens on a unix socket; a port: on
#      TCP, inet:PORT@127.0.0.1, to compare the two),
#      PPAP_EVERY (0 = off), PPAP_VARIANTS ("none plain ppap-sqlite ppap-redis";
#      with OUTBOUND=1: "none out-off out-sqlite out-redis"), MIX_RULES
#      (shipped with OUTBOUND=1, else none: the rules of the self-mode mix).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_LIB=$SRC/bench  # bench_rows.py, for the summaries below
EMOGATE_BIN=${EMOGATE_BIN:-$SRC/build/emogate}
SESSIONS=${SESSIONS:-"1 4"}
COUNT=${COUNT:-200}
BIG_MB=${BIG_MB:-0}
DEADLINE_S=${DEADLINE_S:-300}
WORKERS=${WORKERS:-0}
SHARED_BENCH=${SHARED_BENCH:-$SRC/../shared/bench}
MODE=${MODE:-auto}
log() { printf '[milter_load] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root"; exit 77; }
[ -x "$EMOGATE_BIN" ] || { log "no emogate binary at $EMOGATE_BIN (build first)"; exit 1; }
# RULES=generated: the "realistic rules" variant, a signature-base-sized set.
GEN_RULES=
if [ "${RULES:-bench}" = generated ]; then
    GEN_RULES=${RULE_SET:-$SRC/build/bench-rules}
    if [ ! -d "$GEN_RULES" ]; then
        python3 "$SRC/bench/make_rules.py" --out "$GEN_RULES" >&2
        chmod -R a+rX "$GEN_RULES"  # a reload runs as the daemon's unprivileged user
    fi
    log "extra rule set: $GEN_RULES"
fi
PPAP_EVERY=${PPAP_EVERY:-0}
OUTBOUND=${OUTBOUND:-0}
# The rules the self-mode emogate loads: with OUTBOUND=1 the shipped rules by
# default (what the package's configuration loads, so CPU per message is that
# of an installed daemon); MIX_RULES=none loads none (the figures before).
MIX_RULES=${MIX_RULES:-$([ "$OUTBOUND" = 1 ] && echo shipped || echo none)}
case $MIX_RULES in shipped) MIX_RULE_PATHS="\"$SRC/rules\"" ;; none) MIX_RULE_PATHS= ;;
    *) log "MIX_RULES: shipped or none"; exit 1 ;; esac
if [ "$MODE" = auto ]; then
    if [ -x "$SHARED_BENCH/run_bench.sh" ] && [ "$BIG_MB" = 0 ] && [ "$PPAP_EVERY" = 0 ] && [ "$OUTBOUND" = 0 ]; then MODE=shared; else MODE=self; fi
fi

# milter_address SOCKET [postfix]: where emogate listens ([milter] socket
# form), or Postfix's form of it.
milter_address() {
    if [ -z "${MILTER_INET_PORT:-}" ]; then echo "unix:$1"
    elif [ "${2:-}" = postfix ]; then echo "inet:127.0.0.1:$MILTER_INET_PORT"
    else echo "inet:$MILTER_INET_PORT@127.0.0.1"; fi
}
milter_ready() {
    if [ -n "${MILTER_INET_PORT:-}" ]; then (exec 3<>"/dev/tcp/127.0.0.1/$MILTER_INET_PORT") 2>/dev/null; else [ -S "$1" ]; fi
}

MILTER_PID=
stop_milter() {
    if [ -n "$MILTER_PID" ]; then
        kill "$MILTER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do [ -d "/proc/$MILTER_PID" ] || break; sleep 0.1; done
        MILTER_PID=
    fi
}
# start_milter DIR SOCKET [EXTRA TOML]: emogate as root -> nobody, socket for group postfix
start_milter() {
    local dir=$1 sock=$2
    mkdir -p "$dir"; chmod 755 "$dir"
    local paths=${3:-} extra_set=
    if [ -n "$GEN_RULES" ] && [ "${RULES_AS_SET:-0}" = 1 ]; then
        # For the per-set configuration: a third-party set, scoped by RULES_SCOPE.
        extra_set=$(printf '[[rules.set]]\nname = "generated"\npaths = ["%s"]\nscope = "%s"\n' "$GEN_RULES" "${RULES_SCOPE:-files}")
    elif [ -n "$GEN_RULES" ]; then
        paths="${paths:+$paths, }\"$GEN_RULES\""
    fi
    cat >"$dir/emogate.toml" <<CFG
[rules]
paths = [$paths]
$extra_set
[actions]
clean = "tag"
suspicious = "hold"
malicious = "hold"
[limits]
isolation = "${ISO:-process}"
[milter]
socket = "$(milter_address "$sock")"
user = "nobody"
group = "postfix"
workers = $WORKERS
pid_file = "$dir/emogate.pid"
[quarantine]
dir = "$dir/quarantine"
${QUARANTINE_EXTRA:-}
[log]
# The default logging (syslog); --foreground adds stderr for emogate.log.
facility = "mail"
${MILTER_EXTRA:-}
CFG
    "$EMOGATE_BIN" milter --config "$dir/emogate.toml" --foreground >"$dir/emogate.log" 2>&1 &
    MILTER_PID=$!
    # A large rule set takes seconds to compile on a busy machine.
    for _ in $(seq 1 600); do milter_ready "$sock" && return 0; sleep 0.1; done
    cat "$dir/emogate.log" >&2
    return 1
}

if [ "$MODE" = shared ]; then
    # The shared harness: Postfix alone and emogate, side by side on its corpus.
    # Own directory and ports, so a concurrent run of the shared harness
    # (default /tmp/emogate-bench, 2525/2526) is left alone.
    BENCH_DIR=${BENCH_DIR:-/tmp/emogate-bench-milter}
    SMTP_PORT=${SMTP_PORT:-2535}
    SINK_PORT=${SINK_PORT:-2536}
    export BENCH_DIR SMTP_PORT SINK_PORT
    trap stop_milter EXIT
    if [ ! -f "$BENCH_DIR/corpus/manifest.tsv" ]; then
        log "generating the shared corpus"
        python3 "$SHARED_BENCH/make_corpus.py" --out "$BENCH_DIR/corpus" >/dev/null
    fi
    "$SHARED_BENCH/setup_postfix.sh" install
    rules=""
    [ -f "$BENCH_DIR/corpus/rules/emogate-bench.yar" ] && rules="\"$BENCH_DIR/corpus/rules/emogate-bench.yar\""
    if [ -n "${ISOLATION:-}" ]; then
        # The same daemon with [limits] isolation switched, one pass each per
        # round; CPU and RSS are summed over the daemon and its workers.
        : >"$BENCH_DIR/isolation.list"
        for round in $(seq 1 "${ROUNDS:-1}"); do
            for ISO in $ISOLATION; do
                start_milter "$BENCH_DIR/emogate" "$BENCH_DIR/emogate.sock" "$rules"
                sleep 1
                pids=$MILTER_PID; for w in $(pgrep -P "$MILTER_PID"); do pids="$pids,$w"; done
                touch "$BENCH_DIR/isolation.mark"
                MILTER_UNDER_TEST=$(milter_address "$BENCH_DIR/emogate.sock" postfix) MILTER_UNDER_TEST_PIDS=$pids \
                    VARIANTS=under_test ROUNDS=1 SCAN_RATE=0 CONCURRENCY="$SESSIONS" \
                    "$SHARED_BENCH/run_bench.sh" >&2
                [ "$BENCH_DIR/results.tsv" -nt "$BENCH_DIR/isolation.mark" ] &&
                    head -1 "$BENCH_DIR/results.tsv" >"$BENCH_DIR/isolation.head" &&
                    tail -n +2 "$BENCH_DIR/results.tsv" | sed "s|^|$ISO\t$round\t|" >>"$BENCH_DIR/isolation.list"
                stop_milter
            done
        done
        python3 - "$BENCH_DIR/isolation.head" "$BENCH_DIR/isolation.list" <<'PY'
import os, statistics, sys
sys.path.insert(0, os.environ["BENCH_LIB"])
from bench_rows import columns, num
cols = columns(sys.argv[1])
rows = {}
for line in open(sys.argv[2]):
    iso, rnd, *vals = line.rstrip("\n").split("\t")
    d = {k: num(v) for k, v in zip(cols, vals)}
    rows.setdefault((iso, int(d["concurrency"])), []).append(d)
med = lambda xs: statistics.median(xs) if xs else float("nan")
keys = ("msgs_per_s", "p50_ms", "eod_p50_ms", "p95_ms", "milter_cpu_ms_per_msg", "milter_peak_rss_mb")
print("| isolation | sessions | msgs/s per round | msgs/s (median) | p50 ms | end-of-data p50 ms | p95 ms | CPU ms/msg (daemon+workers) | peak RSS MB (daemon+workers) | delivered+held / lost |")
print("|---|---|---|---|---|---|---|---|---|---|")
base = {}
for (iso, c), ds in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0] != "inprocess")):
    m = {k: med([d[k] for d in ds if d.get(k) is not None]) for k in keys}
    per = ", ".join("%.1f" % d["msgs_per_s"] for d in ds)
    kept = ",".join("%d/%d" % ((d["delivered"] or 0) + (d["held"] or 0), d["missing"] or 0) for d in ds)
    print("| %s | %s | %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.1f | %s |" % (
        iso, c, per, m["msgs_per_s"], m["p50_ms"], m["eod_p50_ms"], m["p95_ms"], m["milter_cpu_ms_per_msg"],
        m["milter_peak_rss_mb"], kept))
    if iso == "inprocess":
        base[c] = (m, ds)
    elif c in base:
        bm, bds = base[c]
        pairs = ["x%.3f" % (d["msgs_per_s"] / b["msgs_per_s"]) for d, b in zip(ds, bds)]
        print("\nsessions %s, process against inprocess: throughput x%.3f (medians; per round %s), "
              "p50 %+.2f ms, end-of-data p50 %+.2f ms, CPU %+.2f ms/msg" % (
                  c, m["msgs_per_s"] / bm["msgs_per_s"], ", ".join(pairs), m["p50_ms"] - bm["p50_ms"],
                  m["eod_p50_ms"] - bm["eod_p50_ms"], m["milter_cpu_ms_per_msg"] - bm["milter_cpu_ms_per_msg"]))
PY
        exit 0
    fi
    if [ "${ROUNDS:-1}" -gt 1 ] && [ "${WARM_ROUNDS:-0}" != 1 ]; then
        # First sight in every round: a fresh daemon per round (its workers'
        # verdict caches empty), as clamav-milter and clamd are restarted
        # before each of their passes. One harness run per round; the daemon
        # is up, its workers forked and ready, before the round starts. After
        # each round, every emogate process's VmHWM and PSS (the rules that
        # the workers share with the daemon counted once) go to memory.list.
        : >"$BENCH_DIR/fresh.list"; : >"$BENCH_DIR/memory.list"; : >"$BENCH_DIR/rulesets.list"
        # The daemon's metrics: what each rule set cost in the round.
        METRICS_PORT=${BENCH_METRICS_PORT:-2537}
        MILTER_EXTRA="${MILTER_EXTRA:-}$(printf '\n[metrics]\nlisten = "127.0.0.1:%s"' "$METRICS_PORT")"
        want=$([ "$WORKERS" -gt 0 ] && echo "$WORKERS" || nproc)
        [ "${ISO:-process}" = process ] || want=0
        for round in $(seq 1 "$ROUNDS"); do
            start_milter "$BENCH_DIR/emogate" "$BENCH_DIR/emogate.sock" "$rules"
            for _ in $(seq 1 600); do [ "$(pgrep -c -P "$MILTER_PID" || true)" -ge "$want" ] && break; sleep 0.1; done
            pids=$MILTER_PID; for w in $(pgrep -P "$MILTER_PID"); do pids="$pids,$w"; done
            log "round $round: fresh emogate, pids $pids (daemon, then workers)"
            touch "$BENCH_DIR/fresh.mark"
            MILTER_UNDER_TEST=$(milter_address "$BENCH_DIR/emogate.sock" postfix) MILTER_UNDER_TEST_PIDS=$pids \
                VARIANTS=${VARIANTS:-"none under_test"} ROUNDS=1 SCAN_RATE=0 CONCURRENCY="$SESSIONS" \
                "$SHARED_BENCH/run_bench.sh" >&2 || log "round $round: the harness failed (its output above); round left out"
            [ "$BENCH_DIR/results.tsv" -nt "$BENCH_DIR/fresh.mark" ] &&
                head -1 "$BENCH_DIR/results.tsv" >"$BENCH_DIR/fresh.head" &&
                tail -n +2 "$BENCH_DIR/results.tsv" | sed "s|^|$round\t|" >>"$BENCH_DIR/fresh.list"
            for p in ${pids//,/ }; do
                hwm=$(awk '/VmHWM/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
                pss=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
                printf '%s\t%s\t%s\t%s\n' "$round" "$([ "$p" = "$MILTER_PID" ] && echo daemon || echo worker)" \
                    "${hwm:-0}" "${pss:-0}" >>"$BENCH_DIR/memory.list"
            done
            python3 - "$METRICS_PORT" "$round" >>"$BENCH_DIR/rulesets.list" <<'PY' || log "round $round: no metrics"
import re, sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
msgs, sets = 0, {}
for l in text.splitlines():
    if l.startswith("emogate_messages_total{"):
        msgs += float(l.split()[-1])
    m = re.match(r'emogate_rule_set_(\w+)_total\{set="([^"]*)"\} (\S+)$', l)
    if m:
        sets.setdefault(m.group(2), {})[m.group(1)] = m.group(3)
for name, v in sets.items():
    print("\t".join([sys.argv[2], name, "%d" % msgs] +
                    [v.get(k, "0") for k in ("objects", "cache_hits", "passes", "bytes", "cpu_seconds")]))
PY
            stop_milter
        done
        python3 - "$BENCH_DIR/fresh.head" "$BENCH_DIR/fresh.list" "$BENCH_DIR/memory.list" "$(uptime)" \
            "$BENCH_DIR/rulesets.list" <<'PY'
import os, statistics, sys
sys.path.insert(0, os.environ["BENCH_LIB"])
from bench_rows import columns, num
cols = columns(sys.argv[1])
rows = {}
for line in open(sys.argv[2]):
    rnd, *vals = line.rstrip("\n").split("\t")
    d = {k: num(v) for k, v in zip(cols, vals)}
    rows.setdefault((int(d["concurrency"]), vals[0]), {})[int(rnd)] = d
med = statistics.median
print("| sessions | variant | msgs/s per round | msgs/s (median) | CPU ms/msg (median) | flagged / false pos / lost (per round) |")
print("|---|---|---|---|---|---|")
for (c, v), by in sorted(rows.items()):
    ds = [by[r] for r in sorted(by)]
    cpu = [d["milter_cpu_ms_per_msg"] for d in ds if d.get("milter_cpu_ms_per_msg") is not None]
    print("| %d | %s | %s | %.1f | %s | %s |" % (
        c, v, ", ".join("%.1f" % d["msgs_per_s"] for d in ds), med(d["msgs_per_s"] for d in ds),
        "%.2f" % med(cpu) if cpu else "-",
        ", ".join("%d/%d/%d" % (d["flagged"] or 0, d["false_pos"] or 0, d["missing"] or 0) for d in ds)))
for c in sorted({c for c, _ in rows}):
    ut = rows.get((c, "under_test"), {})
    for other, label in (("none", "the floor (Postfix alone)"), ("clamav", "clamav-milter")):
        o = rows.get((c, other), {})
        rs = [r for r in sorted(ut) if r in o and o[r]["msgs_per_s"]]
        if rs:
            per = [ut[r]["msgs_per_s"] / o[r]["msgs_per_s"] for r in rs]
            print("sessions %d, emogate against %s: x%.2f median of rounds (%s); medians' ratio x%.2f" % (
                c, label, med(per), ", ".join("x%.2f" % x for x in per),
                med(ut[r]["msgs_per_s"] for r in rs) / med(o[r]["msgs_per_s"] for r in rs)))
mem = [l.rstrip("\n").split("\t") for l in open(sys.argv[3])]
for kind in ("daemon", "worker"):
    hwm = [int(m[2]) for m in mem if m[1] == kind]
    if hwm:
        print("%s VmHWM after each round, highest: %.1f MB (%.1f MiB)" % (kind, max(hwm) * 1024 / 1e6, max(hwm) / 1024))
by_round = {}
for m in mem:
    by_round[m[0]] = by_round.get(m[0], 0) + int(m[3])
if by_round:
    print("PSS of daemon + workers after each round: " + ", ".join("%.1f MB" % (v * 1024 / 1e6) for v in by_round.values()))
# Each rule set's libyara passes in the milter (its metrics), per message handled.
sets = {}
for l in open(sys.argv[5]):
    rnd, name, msgs, objects, hits, passes, nbytes, secs = l.rstrip("\n").split("\t")
    if float(msgs) > 0:
        sets.setdefault(name, []).append((float(secs) * 1000 / float(msgs), float(nbytes) / 1e6 / float(msgs),
                                         float(objects) / float(msgs), float(hits) / max(float(objects), 1)))
for name, rs in sorted(sets.items()):
    print("rule set %s in the milter, per message: libyara %.2f ms CPU (rounds %s), %.2f MB read, %.1f objects, "
          "%.0f%% answered by its cache" % (name, med(r[0] for r in rs), ", ".join("%.2f" % r[0] for r in rs),
                                           med(r[1] for r in rs), med(r[2] for r in rs), 100 * med(r[3] for r in rs)))
print("load average at the end: " + sys.argv[4].split("load average:")[1].strip())
PY
        exit 0
    fi
    start_milter "$BENCH_DIR/emogate" "$BENCH_DIR/emogate.sock" "$rules"
    # CPU and RSS of the daemon and of its scan workers (isolation
    # "process"), which do the scanning: the harness measures the pids it is
    # given, so wait until the workers are up (a large rule set is compiled
    # first). They live through the run (worker_max_scans is far above it).
    want=$([ "$WORKERS" -gt 0 ] && echo "$WORKERS" || nproc)
    [ "${ISO:-process}" = process ] || want=0
    for _ in $(seq 1 600); do [ "$(pgrep -c -P "$MILTER_PID" || true)" -ge "$want" ] && break; sleep 0.1; done
    pids=$MILTER_PID; for w in $(pgrep -P "$MILTER_PID"); do pids="$pids,$w"; done
    log "measuring emogate pids $pids (daemon, then workers)"
    MILTER_UNDER_TEST=$(milter_address "$BENCH_DIR/emogate.sock" postfix) MILTER_UNDER_TEST_PIDS=$pids \
        VARIANTS=${VARIANTS:-"none under_test"} SCAN_RATE=${SCAN_RATE:-0} CONCURRENCY="$SESSIONS" \
        "$SHARED_BENCH/run_bench.sh"
    exit $?
fi

# ------------------------------------------------------------------ self mode
T=${LOAD_DIR:-/tmp/emogate-load}
case $T in /tmp/*) rm -rf "$T" ;; esac
mkdir -p "$T"
PF_SMTP_PORT=${PF_SMTP_PORT:-2825}
PF_SINK_PORT=${PF_SINK_PORT:-2826}
. "$SRC/tests/integration/lib/postfix_env.sh"
pf_install || { log "cannot install postfix"; exit 1; }
trap 'stop_milter; pf_stop' EXIT
SOCK=$T/emogate/emogate.sock
CLK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The daemon's CPU per pass: perf's task-clock (ns, every thread) when perf
# can count here, else /proc ticks (10 ms each: 5% of a 200-message pass).
PERF_CPU=0
perf stat -e task-clock -x, -o /dev/null true >/dev/null 2>&1 && PERF_CPU=1
drain() {  # wait until nothing is left in incoming/active/deferred (max 120 s)
    for _ in $(seq 1 240); do
        pf_queue_json | grep -q -E '"queue_name": *"(incoming|active|deferred)"' || return 0
        postqueue -c "$PF_CONF" -f >/dev/null 2>&1 || true
        sleep 0.5
    done
}

printf '%-12s %8s %8s %8s %8s %8s %8s %12s %10s %8s %6s %6s %6s %6s\n' \
    variant sessions msgs/s p50_ms p95_ms p99_ms max_ms cpu_ms/msg peak_rssMB accepted tmpf rej err lost
declare -A FLOOR
# The daemon's emogate_outbound_cpu_seconds_total ([metrics] on METRICS_PORT).
outbound_cpu_s() {
    python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode().splitlines():
    if l.startswith("emogate_outbound_cpu_seconds_total "): print(l.split()[1])' "$METRICS_PORT" 2>/dev/null || true
}
# run_pass VARIANT SESSIONS: one pass of the mix; with PASS_PAIRS set, the
# PPAP pair mix from that pairs file (waits up to 60 s for the releases);
# with ROWS set, appends a tab-separated line for the medians.
run_pass() {
    local variant=$1 n=$2
    local ppap_args=()
    [ -n "${PASS_PAIRS:-}" ] && ppap_args=(--ppap-pairs "$PASS_PAIRS" --ppap-every "$PPAP_EVERY")
    local pid=${MILTER_PID:-} rss_file=$T/rss.$1.$2 sampler=
    rm -rf "$SINK_DIR"/*; postsuper -c "$PF_CONF" -d ALL hold >/dev/null 2>&1 || true
    local c0=0 perf_pid= perf_out=$T/task-clock.$1.$2
    [ -n "$pid" ] && c0=$(cpu_ticks "$pid")
    if [ -n "$pid" ] && [ "$PERF_CPU" = 1 ]; then
        rm -f "$perf_out"
        perf stat -e task-clock -x, -o "$perf_out" -p "$pid" & perf_pid=$!
        sleep 0.3  # attached before the first message
    fi
    if [ -n "$pid" ]; then
        ( peak=0; while [ -d "/proc/$pid" ]; do
              r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
              [ "${r:-0}" -gt "$peak" ] && { peak=$r; echo "$peak" >"$rss_file"; }
              sleep 0.1; done ) & sampler=$!
    fi
    local ob0=; [ -n "${METRICS_PORT:-}" ] && ob0=$(outbound_cpu_s)
    local out; out=$(python3 "$SRC/bench/milter_load.py" --port "$PF_SMTP_PORT" --count "$COUNT" \
        --sessions "$n" --deadline "$DEADLINE_S" --big-mb "$BIG_MB" "${ppap_args[@]}")
    local c1=0; [ -n "$pid" ] && c1=$(cpu_ticks "$pid")
    local task_ms=
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
        task_ms=$(awk -F, '$3 ~ /task-clock/ {print $1}' "$perf_out" 2>/dev/null || true)
    fi
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
    if [ -n "$ob0" ] && [ -n "$task_ms" ]; then
        # The watch's own thread CPU (emogate_outbound_cpu_seconds_total),
        # against the daemon's task-clock of the same pass.
        python3 - "$variant" "${ROUND:-1}" "$ob0" "$(outbound_cpu_s)" "$task_ms" "$COUNT" >>"$T/outbound_cpu.tsv" <<'PY'
import sys
v, rnd, a, b, task_ms, count = sys.argv[1:]
ms = (float(b) - float(a)) * 1000.0
# Against the rest of the daemon's CPU: what the watch adds to it.
over = 100.0 * ms / max(float(task_ms) - ms, 1e-9)
sys.stderr.write("[milter_load] %s: outbound watch %.3f ms CPU/msg, +%.1f%% over the rest of the daemon's\n" % (
    v, ms / int(count), over))
print("%s\t%s\t%.4f\t%.2f" % (v, rnd, ms / int(count), over))
PY
    fi
    drain
    local delivered held pairs released=0
    pairs=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ppap_pairs'])" "$out")
    for _ in $(seq 1 120); do  # mail 1 of each pair, released and re-injected
        released=$( (grep -l -s -E '^X-Test-Id: ppap[0-9]+-zip' "$SINK_DIR"/* || true) | wc -l)
        [ "$released" -ge "$pairs" ] && break
        sleep 0.5
    done
    drain
    delivered=$(ls "$SINK_DIR" 2>/dev/null | wc -l)
    held=$(pf_queue_json | grep -c '"queue_name": *"hold"' || true)
    python3 - "$variant" "$n" "$out" "$c0" "$c1" "$CLK" "$(cat "$rss_file" 2>/dev/null || echo 0)" \
        "$delivered" "$held" "${FLOOR[$n]:-}" "$released" "${ROWS:-}" "${ROUND:-1}" "$task_ms" <<'PY'
import json, sys
v, n, out, c0, c1, clk, rss, delivered, held, floor, released, rows, rnd, task_ms = sys.argv[1:]
# The RSS sampler may be stopped between truncating its file and writing it.
rss = rss.strip() or "0"
c0, c1 = c0.strip() or "0", c1.strip() or "0"
o = json.loads(out)
acc = o["accepted"]
try:
    task_ms = float(task_ms)
except ValueError:
    task_ms = None
cpu = None
if acc and v != "none":
    cpu = task_ms / acc if task_ms else (int(c1) - int(c0)) * 1000.0 / int(clk) / acc
    if task_ms:
        sys.stderr.write("[milter_load] %s: CPU %.3f ms/msg (task-clock), %.2f (/proc ticks)\n" % (
            v, cpu, (int(c1) - int(c0)) * 1000.0 / int(clk) / acc))
lost = acc - int(delivered) - int(held)
fmt = lambda x: "-" if x is None else str(x)
ratio = " (x%.2f of floor)" % (o["msgs_per_s"] / float(floor)) if floor else ""
pairs = " ppap pairs %d, released %s" % (o["ppap_pairs"], released) if o["ppap_pairs"] else ""
print("%-12s %8s %8s %8s %8s %8s %8s %12s %10s %8s %6s %6s %6s %6s%s%s" % (
    v, n, o["msgs_per_s"], fmt(o["p50_ms"]), fmt(o["p95_ms"]), fmt(o["p99_ms"]), fmt(o["max_ms"]),
    fmt(None if cpu is None else round(cpu, 2)), fmt(round(int(rss) / 1024.0, 1) if v != "none" else None),
    acc, o["tempfail"], o["rejected"], o["errors"], lost, ratio, pairs))
if rows:
    with open(rows, "a") as f:
        f.write("\t".join(str(x) for x in (v, n, rnd, o["msgs_per_s"], o["p50_ms"], o["p95_ms"],
                                           -1 if cpu is None else round(cpu, 3), acc, o["tempfail"], lost,
                                           o["ppap_pairs"], released, o["mix_p50_ms"], o["pair_p50_ms"] or -1)) + "\n")
PY
    if [ "$variant" = none ]; then FLOOR[$n]=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['msgs_per_s'])" "$out"); fi
}

if [ "$PPAP_EVERY" -gt 0 ] || [ "$OUTBOUND" = 1 ]; then
    # The PPAP pair mix against today's mix, per round: Postfix alone,
    # emogate on today's mix, and on the pair mix with each state store
    # (fresh each pass). Releases re-inject through a second smtpd without
    # milters, as `emogate quarantine release` would through sendmail.
    . "$SRC/tests/integration/lib/mail_hosts.sh"   # redis_start, redis_stop, redis_cli
    . "$SRC/tests/integration/lib/ppap_mail.sh"
    trap 'stop_milter; redis_stop; pf_stop' EXIT
    redis_start || { log "redis-server did not start"; exit 1; }
    mkdir -p "$T/ppap"
    : >"$T/ppap/pairs.tsv"
    [ "$PPAP_EVERY" -gt 0 ] && for k in $(seq 0 $((COUNT / PPAP_EVERY))); do
        ppap_pair "$T/ppap" "ppap$k" "ppap$k@partner.example" "user$((k % 23))@corp.example" "Pw${k}xQ7mZ" ||
            { log "cannot make PPAP pairs (7z)"; exit 1; }
        printf '%s\t%s\t%s\t%s\n' "$T/ppap/ppap$k-zip.eml" "$T/ppap/ppap$k-pw.eml" "ppap$k@partner.example" \
            "user$((k % 23))@corp.example" >>"$T/ppap/pairs.tsv"
    done
    REINJECT_PORT=$(free_port)
    # The sendmail a release runs: Postfix's smtp-source (10 ms of CPU), not
    # the tests' Python stand-in (100-500 ms per start here, which would be
    # measured instead of emogate). One transaction per recipient; it adds
    # blank lines at the end, which the bench does not look at.
    cat >"$T/sendmail" <<SH
#!/bin/sh
f=\$(mktemp) || exit 75
trap 'rm -f "\$f"' EXIT
cat >"\$f"
s=
while [ \$# -gt 0 ]; do case \$1 in -f) s=\$2; shift 2 ;; --) shift; break ;; *) shift ;; esac; done
for r in "\$@"; do /usr/sbin/smtp-source -F "\$f" -f "\$s" -t "\$r" 127.0.0.1:$REINJECT_PORT || exit 75; done
SH
    chmod 755 "$T" "$T/sendmail"
    QUARANTINE_EXTRA="sendmail = \"$T/sendmail\""
    ROWS=$T/rows.tsv
    : >"$ROWS"; : >"$T/outbound_cpu.tsv"
    pf_configure "" tempfail
    pf_start || { log "postfix did not start"; exit 1; }
    for ROUND in $(seq 1 "${ROUNDS:-1}"); do
    variants="none plain ppap-sqlite ppap-redis"
    [ "$OUTBOUND" = 1 ] && variants="none out-off out-sqlite out-redis"
        for v in ${PPAP_VARIANTS:-$variants}; do
            PASS_PAIRS=
            case $v in
                none) pf_configure "" tempfail; FLOOR=() ;;
                plain | ppap-sqlite | ppap-redis | out-off | out-sqlite | out-redis)
                    rm -rf "$T/emogate"; mkdir -p "$T/emogate/state"; chown nobody "$T/emogate/state"
                    redis_cli flushall >/dev/null
                    if [ "$v" = ppap-redis ] || [ "$v" = out-redis ]; then
                        MILTER_EXTRA=$(printf '[state]\nbackend = "redis"\nredis = "127.0.0.1:%s"' "$REDIS_PORT")
                    else
                        MILTER_EXTRA=$(printf '[state]\nbackend = "sqlite"\npath = "%s"' "$T/emogate/state/state.db")
                    fi
                    case $v in ppap-*) PASS_PAIRS=$T/ppap/pairs.tsv ;; esac
                    METRICS_PORT=
                    case $v in out-*)
                        MILTER_EXTRA+=$(printf '\n[outbound]\nenabled = %s\nsubmission_daemons = ["submission"]\nfreeze_after_malicious = 0\nfreeze_after_suspicious = 0' \
                            "$([ "$v" = out-off ] && echo false || echo true)")
                        [ "$v" = out-off ] || { METRICS_PORT=$(free_port)
                            MILTER_EXTRA+=$(printf '\n[metrics]\nlisten = "127.0.0.1:%s"' "$METRICS_PORT"); } ;;
                    esac
                    start_milter "$T/emogate" "$SOCK" "$MIX_RULE_PATHS" || { log "emogate did not start"; exit 1; }
                    pf_configure "$(milter_address "$SOCK" postfix)" tempfail
                    case $v in out-*) echo "milter_macro_daemon_name = submission" >>"$PF_CONF/main.cf" ;; esac ;;
                *) log "unknown PPAP variant $v"; exit 1 ;;
            esac
            echo "127.0.0.1:$REINJECT_PORT inet n - n - - smtpd -o smtpd_milters=" >>"$PF_CONF/master.cf"
            pf_reload; sleep 1
            for n in $SESSIONS; do run_pass "$v" "$n"; done
            stop_milter
            if [ "$v" = out-sqlite ]; then
                # Every message that went out has its record once the daemon
                # stopped (records share commits while others are in progress).
                sent=$(grep 'dir=out' "$T/emogate/emogate.log" | grep -cE ' action=(accept|tag|hold) ' || true)
                logged=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbound_log").fetchone()[0])' \
                    "$T/emogate/state/state.db")
                log "out-sqlite: $logged outbound log records for $sent messages sent"
                [ "$logged" = "$sent" ] || { log "out-sqlite: outbound log records lost"; exit 1; }
            fi
        done
    done
    python3 - "$ROWS" "$T/outbound_cpu.tsv" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    v, n, rnd, mps, p50, p95, cpu, acc, tmpf, lost, pairs, released, mix_p50, pair_p50 = line.rstrip("\n").split("\t")
    rows.setdefault((int(n), v), []).append(dict(mps=float(mps), p50=float(p50), p95=float(p95), cpu=float(cpu),
                                                 acc=int(acc), tmpf=int(tmpf), lost=int(lost), pairs=int(pairs),
                                                 released=int(released), mix_p50=float(mix_p50),
                                                 pair_p50=float(pair_p50)))
order = {"none": 0, "plain": 1, "ppap-sqlite": 2, "ppap-redis": 3, "out-off": 4, "out-sqlite": 5, "out-redis": 6}
med = lambda ds, k: statistics.median(d[k] for d in ds)
print("\n| variant | sessions | msgs/s per round | msgs/s (median) | x floor | x plain (PPAP) or out-off | p50 ms | p50 ms, the mix alone "
      "| p50 ms, pairs alone | p95 ms | daemon CPU ms/msg | pairs released / sent | lost | tempfail |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (n, v), ds in sorted(rows.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
    rel = lambda b: "%.2f" % (med(ds, "mps") / med(rows[(n, b)], "mps")) if (n, b) in rows else "-"
    base = "out-off" if v.startswith("out-") else "plain"
    pairs = sum(d["pairs"] for d in ds)
    print("| %s | %d | %s | %.1f | %s | %s | %.1f | %.1f | %s | %.1f | %s | %s | %d | %d |" % (
        v, n, ", ".join("%.1f" % d["mps"] for d in ds), med(ds, "mps"), rel("none"), rel(base),
        med(ds, "p50"), med(ds, "mix_p50"), "%.1f" % med(ds, "pair_p50") if pairs else "-", med(ds, "p95"),
        "-" if v == "none" else "%.2f" % med(ds, "cpu"),
        "%d / %d" % (sum(d["released"] for d in ds), pairs) if pairs else "-",
        sum(d["lost"] for d in ds), sum(d["tmpf"] for d in ds)))
    if v in ("out-sqlite", "out-redis") and (n, "out-off") in rows:
        off = [d["cpu"] for d in rows[(n, "out-off")]]
        on = [d["cpu"] for d in ds]
        per = ", ".join("%+.1f%%" % (100.0 * (a / b - 1)) for a, b in zip(on, off))
        print("|  | | CPU per message against out-off: %+.1f%% (medians; per round %s) |" % (
            100.0 * (statistics.median(on) / statistics.median(off) - 1), per))
own = {}
for line in open(sys.argv[2]):
    v, rnd, ms, pct = line.rstrip("\n").split("\t")
    own.setdefault(v, []).append((float(ms), float(pct)))
for v in sorted(own):
    print("|  | | %s, the watch's own thread CPU (emogate_outbound_cpu_seconds_total): %.3f ms/msg, +%.1f%% over the "
          "rest of the daemon's CPU in the same pass (medians; per round %s) |" % (v, statistics.median(m for m, _ in own[v]),
                                                   statistics.median(p for _, p in own[v]),
                                                   ", ".join("+%.1f%%" % p for _, p in own[v])))
PY
    log "emogate log: $T/emogate/emogate.log; Postfix log: $PF_LOG"
    exit 0
fi

pf_configure "" tempfail
pf_start || { log "postfix did not start"; exit 1; }
for n in $SESSIONS; do run_pass none "$n"; done
start_milter "$T/emogate" "$SOCK" || { log "emogate did not start"; exit 1; }
pf_configure "$(milter_address "$SOCK" postfix)" tempfail
pf_reload; sleep 1
for n in $SESSIONS; do run_pass emogate "$n"; done
log "emogate log: $T/emogate/emogate.log; Postfix log: $PF_LOG"
