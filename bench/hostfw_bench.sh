#!/usr/bin/env bash
# The main job at the size of real hosts (issue #18): every command on the
# hosting-node shapes of bench/gen_hostfw.py (a named interval blocklist,
# a verdict map of 400 service ports, tenant chains jumped by prefix).
# Per size and command: wall time and peak RSS (VmHWM, DFA_TIMING) of the
# median of 3 runs, the output size, and the source classes of the exposure.
# Usage: hostfw_bench.sh BINARY [BLOCKLIST:PORTS:TENANTS ...]
# (default: blocklists of 1,000 / 10,000 / 100,000 with 100 and 1,000 ports
# and 200 tenants). COMMANDS="exposure scan" limits the commands.
set -euo pipefail
# The goals of these benchmarks are on one core: one analysis thread unless
# DFA_THREADS says otherwise (live_bench.sh uses every CPU, as a host would).
export DFA_THREADS=${DFA_THREADS:-1}
bin=${1:?usage: hostfw_bench.sh BINARY [BLOCKLIST:PORTS:TENANTS ...]}
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(1000:100:200 10000:100:200 100000:100:200 1000:1000:200 10000:1000:200 100000:1000:200)
commands=${COMMANDS:-exposure scan baseline drift remediate}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for s in "${sizes[@]}"; do
  IFS=: read -r blocklist ports tenants <<<"$s"
  python3 "$here/gen_hostfw.py" "$blocklist" "$ports" "$tenants" >"$work/snap.json" 2>"$work/gen.txt"
  rules=$(grep -o '^[0-9]* rules' "$work/gen.txt")
  "$bin" baseline save "$work/base.json" --snapshot "$work/snap.json" >/dev/null 2>&1 || true
  python3 - "$bin" "$work" "$s" "$rules" "$commands" <<'PY'
import json, os, subprocess, sys, time
binary, work, size, rules, commands = sys.argv[1:6]
snap = os.path.join(work, "snap.json")
args = {
    "exposure": ["exposure", "--snapshot", snap, "--format", "json"],
    "scan": ["scan", "--snapshot", snap, "--format", "json", "--fail-on", "none"],
    "baseline": ["baseline", "save", os.path.join(work, "b2.json"), "--snapshot", snap],
    "drift": ["drift", "--baseline", os.path.join(work, "base.json"), "--snapshot", snap],
    "remediate": ["remediate", "--snapshot", snap],
}
blocklist, ports, tenants = size.split(":")
line = [f"blocklist {int(blocklist):,}, {int(ports):,} ports, {tenants} tenants ({rules}):"]
for cmd in commands.split():
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        p = subprocess.run([binary] + args[cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                           env=dict(os.environ, DFA_TIMING="1"))
        dt = time.perf_counter() - t
        err = p.stderr.decode(errors="replace")
        peaks = [int(l.rsplit("peak ", 1)[1].split()[0]) for l in err.splitlines() if "timing: " in l and "peak " in l]
        out = len(p.stdout) if cmd != "baseline" else os.path.getsize(args[cmd][2])
        classes = ""
        if cmd == "exposure":
            classes = f", {len(json.loads(p.stdout)['source_classes']):,} classes"
        runs.append((dt, max(peaks) if peaks else 0, out, classes, p.returncode))
        del p
    dt, peak, out, classes, rc = sorted(runs)[1]
    line.append(f"  {cmd} {dt:.2f} s, {peak} MiB, {out / 1e6:.1f} MB out{classes} (exit {rc})")
print("\n".join(line), flush=True)
PY
done
