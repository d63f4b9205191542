#!/usr/bin/env bash
# Exposure benchmark (issue: 1,000 / 10,000 / 100,000 rules with 100 and 1,000
# published ports; goal: 100,000 rules in under 1 s on one core, under 500 MB).
# Synthetic snapshots from bench/gen_snapshot.py; prints wall time and peak
# RSS per size, median of 3 runs, and the phases of the median run
# (DFA_TIMING). Usage: exposure_bench.sh BINARY [RULES:PORTS ...]
# (default: every size of the issue, 1,000 to 100,000 rules with 100 and
# 1,000 ports).
set -euo pipefail
# The goals of these benchmarks are on one core: one analysis thread unless
# DFA_THREADS says otherwise (live_bench.sh uses every CPU, as a host would).
export DFA_THREADS=${DFA_THREADS:-1}
bin=${1:?usage: exposure_bench.sh BINARY [RULES:PORTS ...]}
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(1000:100 10000:100 100000:100 1000:1000 10000:1000 100000:1000)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for s in "${sizes[@]}"; do
  python3 "$here/gen_snapshot.py" "${s%%:*}" "${s##*:}" >"$work/snap.json" 2>/dev/null
  python3 - "$bin" "$work/snap.json" "$s" <<'PY'
import os, subprocess, sys, time
binary, snap, size = sys.argv[1:4]
runs = []
for _ in range(3):
    t = time.perf_counter()
    p = subprocess.run([binary, "exposure", "--snapshot", snap, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=True, env=dict(os.environ, DFA_TIMING="1"))
    dt = time.perf_counter() - t
    phases = " ".join(l.split("timing: ")[1].split(",")[0].replace(" ms", "ms") for l in p.stderr.decode().splitlines()
                      if "timing: " in l and "start" not in l)
    # Peak RSS as the process itself saw it (VmHWM): a child's ru_maxrss
    # can include the Python process it was forked from.
    peak = max(int(l.rsplit("peak ", 1)[1].split()[0]) for l in p.stderr.decode().splitlines() if "peak " in l)
    runs.append((dt, len(p.stdout), phases, peak))
    del p
dt, out, phases, rss = sorted(runs)[1]
rules, ports = size.split(":")
print(f"{rules} rules, {ports} ports: {dt:.2f} s, peak RSS {rss:.0f} MiB, {out / 1e6:.1f} MB of JSON ({phases})")
PY
done
