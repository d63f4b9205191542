#!/usr/bin/env bash
# Exposure benchmark (issue: 1,000 / 10,000 / 100,000 rules with 100 and 1,000
# published ports; goal: 100,000 rules in under 1 s on one core, under 500 MB).
# Synthetic snapshots from bench/gen_snapshot.py; prints wall time and peak
# RSS per size. Usage: exposure_bench.sh BINARY [RULES:PORTS ...]
# (default 1000:100; the larger sizes take far longer today: docs/benchmarks.md).
set -euo pipefail
bin=${1:?usage: exposure_bench.sh BINARY [RULES:PORTS ...]}
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(1000:100)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for s in "${sizes[@]}"; do
  python3 "$here/gen_snapshot.py" "${s%%:*}" "${s##*:}" >"$work/snap.json" 2>/dev/null
  python3 - "$bin" "$work/snap.json" "$s" <<'PY'
import resource, subprocess, sys, time
binary, snap, size = sys.argv[1:4]
t = time.perf_counter()
out = subprocess.run([binary, "exposure", "--snapshot", snap, "--format", "json"], stdout=subprocess.PIPE, check=True).stdout
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
rules, ports = size.split(":")
print(f"{rules} rules, {ports} ports: {dt:.2f} s, peak RSS {rss:.0f} MiB, {len(out) / 1e6:.1f} MB of JSON")
PY
done
