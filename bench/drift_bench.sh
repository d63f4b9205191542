#!/usr/bin/env bash
# Drift versus scan (issue: "a drift run is as fast as a scan"). On a lab
# scenario snapshot and on a synthetic one (bench/gen_snapshot.py), times
# `scan` and `drift` against a baseline of the same snapshot, best of 3, and
# prints the ratio. Usage: drift_bench.sh BINARY [RULES:PORTS ...] (default 300:30)
set -euo pipefail
# The goals of these benchmarks are on one core: one analysis thread unless
# DFA_THREADS says otherwise (live_bench.sh uses every CPU, as a host would).
export DFA_THREADS=${DFA_THREADS:-1}
bin=${1:?usage: drift_bench.sh BINARY [RULES:PORTS ...]}
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(300:30)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
snaps=("$here/../fixtures/scenarios/05-compose-networks/snapshot.json")
for s in "${sizes[@]}"; do
  python3 "$here/gen_snapshot.py" "${s%%:*}" "${s##*:}" >"$work/synthetic-$s.json" 2>/dev/null
  snaps+=("$work/synthetic-$s.json")
done
for snap in "${snaps[@]}"; do
  "$bin" baseline save "$work/base.json" --snapshot "$snap"
  python3 - "$bin" "$snap" "$work/base.json" <<'PY'
import os, subprocess, sys, time
binary, snap, base = sys.argv[1:4]
def best(args):
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([binary] + args, stdout=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return min(times)
scan = best(["scan", "--snapshot", snap, "--fail-on", "none"])
drift = best(["drift", "--baseline", base, "--snapshot", snap])
print(f"{os.path.basename(snap)}: scan {scan:.3f} s, drift {drift:.3f} s, drift/scan {drift / scan:.2f}, "
      f"baseline {os.path.getsize(base) / 1e6:.2f} MB")
PY
done
