#!/usr/bin/env bash
# The live hosting node (issue #18): a real dockerd (Debian unstable's 28.5,
# in the lab's namespaces) with CONTAINERS busybox containers publishing
# five ports each, and the host ruleset of bench/gen_hostfw.py (a blocklist
# set of BLOCKLIST entries, a verdict map of 400 service ports, TENANTS
# tenant chains) loaded into the lab host with nft. Times, median of RUNS
# (default 3), `collect` + `scan` (the main job end to end, as a cron job
# runs it) against `docker ps` + `nft -j list ruleset` on the same host.
# Usage: live_bench.sh BINARY [CONTAINERS [BLOCKLIST [TENANTS [RUNS]]]]
# The userland proxy is off ("userland-proxy": false): with it, 1,000 ports
# are 2,000 docker-proxy processes, a cost of the lab rather than the tool.
set -euo pipefail
DFA_BIN=$(readlink -f "${1:?usage: live_bench.sh BINARY [CONTAINERS [BLOCKLIST [TENANTS [RUNS]]]]}")
containers=${2:-200} blocklist=${3:-100000} tenants=${4:-200} runs=${5:-3}
DFA_SRC=$(cd "$(dirname "$0")/.." && pwd)
export DFA_BIN DFA_SRC
source "$DFA_SRC/tests/lib.sh"
source "$DFA_SRC/tests/lab/lab.sh"
dfa_require_netns
dfa_tmpdir work
export LAB_DOCKER=28.5 LAB_DAEMON_JSON='{"userland-proxy": false}'
dfa_on_exit lab_down
lab_up dfalive || dfa_fail "the lab did not start"

# The admin's table from gen_hostfw.py's snapshot, as nft -j -f reads it.
python3 "$DFA_SRC/bench/gen_hostfw.py" "$blocklist" 10 "$tenants" >"$work/gen.json" 2>/dev/null
python3 - "$work/gen.json" >"$work/hostfw.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))["nftables"]["ruleset"]
out = []
for o in objs:
    (kind, body), = o.items()
    if body.get("table", body.get("name")) != "hostfw" or body.get("family") != "inet":
        continue
    body = {k: v for k, v in body.items() if k != "handle"}
    out.append({"add": {kind: body}})
print(json.dumps({"nftables": out}))
PY
lab_host nft -j -f "$work/hostfw.json" || dfa_fail "the host ruleset did not load"

t0=$(date +%s)
for i in $(seq 0 $((containers - 1))); do
  p=$((20000 + 5 * i))
  lab_docker run -d --name "c$i" -p "$p:80" -p "$((p + 1)):443" -p "$((p + 2)):7000" -p "$((p + 3)):7001" \
    -p "$((p + 4)):7002" dfa-busybox:latest sh -c 'for p in 80 443 7000 7001 7002; do httpd -p $p -h /; done; exec sleep 100000' \
    >/dev/null || dfa_fail "container c$i did not start"
done
lab_settle
echo "started $containers containers ($((5 * containers)) published ports) in $(($(date +%s) - t0)) s"
lab_host nft list ruleset 2>/dev/null | grep -c . | xargs echo "ruleset lines:"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
clock() { python3 -c 'import time; print(time.perf_counter())'; }
# DFA_BENCH_OTHER=BINARY times a second build in the same lab, run by run
# alternating with the first, so a comparison does not ride on this
# machine's hour-to-hour speed (docs/benchmarks.md).
bins=("$DFA_BIN")
[ -z "${DFA_BENCH_OTHER:-}" ] || bins+=("$(readlink -f "$DFA_BENCH_OTHER")")
declare -A ours theirs peaks alone
for r in $(seq 1 "$runs"); do
  for k in "${!bins[@]}"; do
    bin=${bins[$k]}
    a=$(clock)
    lab_host "$bin" collect --docker-host "unix://$LAB_DIR/docker.sock" --nftables-config "$LAB_DIR/nftables.conf" \
      -o "$work/snap$k.json" 2>/dev/null
    DFA_TIMING=1 "$bin" scan --snapshot "$work/snap$k.json" --format json --fail-on none -o "$work/scan$k.json" 2>"$work/timing$k.txt"
    b=$(clock)
    lab_docker ps >/dev/null
    lab_host nft -j list ruleset >/dev/null
    c=$(clock)
    ours[$k]+="$(python3 -c "print($b - $a)") "
    theirs[$k]+="$(python3 -c "print($c - $b)") "
    peaks[$k]+="$(grep -o 'peak [0-9]*' "$work/timing$k.txt" | awk '{print $2}' | sort -n | tail -1) "
    a=$(clock)
    lab_host env DFA_TIMING=1 "$bin" collect --docker-host "unix://$LAB_DIR/docker.sock" -o /dev/null 2>"$work/collect$k.txt"
    b=$(clock)
    alone[$k]+="$(python3 -c "print($b - $a)") "
  done
done
# The snapshot, for a closer look (DFA_BENCH_KEEP=FILE).
[ -z "${DFA_BENCH_KEEP:-}" ] || cp "$work/snap0.json" "$DFA_BENCH_KEEP"
for k in "${!bins[@]}"; do
  # Each build's own files: their sizes differ when the JSON schema does.
  classes=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['exposure']['source_classes']))" "$work/scan$k.json")
  o=$(printf '%s\n' ${ours[$k]} | median) t=$(printf '%s\n' ${theirs[$k]} | median)
  p=$(printf '%s\n' ${peaks[$k]} | median) c=$(printf '%s\n' ${alone[$k]} | median)
  echo "${bins[$k]}:"
  # The last run's phases: scan's, then each collector's.
  grep 'timing: ' "$work/timing$k.txt" | grep -v ' check ' | sed 's/^dockfw-audit: /  scan /'
  grep 'timing: ' "$work/collect$k.txt" | sed 's/^dockfw-audit: /  collect /'
  printf '  collect alone %.2f s\n' "$c"
  printf '  collect + scan %.2f s (scan peak %s MiB, %s source classes, snapshot %s MB, scan JSON %s MB); docker ps + nft -j list ruleset %.2f s; ratio %.2f\n' \
    "$o" "$p" "$classes" "$(($(stat -c %s "$work/snap$k.json") / 1000000))" "$(($(stat -c %s "$work/scan$k.json") / 1000000))" "$t" \
    "$(python3 -c "print($o / $t)")"
done
