#!/usr/bin/env bash
# Collector benchmark (issue: "at most 1.5x nft -j list ruleset plus
# iptables-legacy-save and ip6tables-legacy-save"). Builds, in a throwaway
# namespace, 10,000 nftables rules (8,000 native, 2,000 through iptables-nft
# with xt matches and DNAT targets) and 5,000 iptables-legacy rules (2,500
# IPv4, 2,500 IPv6), then times both sides. Usage: collect_bench.sh BINARY [RUNS]
set -euo pipefail
bin=${1:?usage: collect_bench.sh BINARY [RUNS]}
runs=${2:-7}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 77; }
ns=dfabench$$
work=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$work"' EXIT
ip netns add "$ns"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
with open(f"{w}/native.nft", "w") as f:
    f.write("table inet bench {\n")
    f.write(" set nets { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.0/24 } }\n")
    for c in range(8):
        hook = f" type filter hook forward priority {c - 4}; policy accept;" if c < 2 else ""
        f.write(f" chain c{c} {{{hook}\n")
        for i in range(1000):
            n = c * 1000 + i
            f.write(f"  ip saddr 10.{n // 256 % 256}.{n % 256}.0/24 tcp dport {1024 + n % 60000} ct state new counter accept\n")
        f.write(" }\n")
    f.write("}\n")
with open(f"{w}/compat.rules", "w") as f:
    f.write("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n")
    f.write("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n")
    for i in range(999):
        f.write(f"-A DOCKER ! -i docker0 -p tcp -m tcp --dport {20000 + i} -j DNAT --to-destination 172.17.{i // 250}.{i % 250 + 2}:80\n")
    f.write("COMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n")
    for i in range(1000):
        f.write(f"-A DOCKER -d 172.17.{i // 250}.{i % 250 + 2}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT\n")
    f.write("COMMIT\n")
for fam, addr in ((4, lambda i: f"198.51.{i // 250}.{i % 250}/32"), (6, lambda i: f"2001:db8:{i:x}::/64")):
    with open(f"{w}/legacy{fam}.rules", "w") as f:
        f.write("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n")
        for i in range(2500):
            f.write(f"-A USER -s {addr(i)} -p tcp -m multiport --dports 80,443,{1000 + i} -m comment --comment r{i} -j ACCEPT\n")
        f.write("COMMIT\n")
PY
ip netns exec "$ns" nft -f "$work/native.nft"
ip netns exec "$ns" iptables-nft-restore <"$work/compat.rules"
ip netns exec "$ns" iptables-legacy-restore <"$work/legacy4.rules"
ip netns exec "$ns" ip6tables-legacy-restore <"$work/legacy6.rules"
nft_rules=$(ip netns exec "$ns" nft -a list ruleset | grep -c '# handle' || true)
legacy_rules=$( (ip netns exec "$ns" iptables-legacy-save; ip netns exec "$ns" ip6tables-legacy-save) | grep -c '^-A')
python3 - "$ns" "$bin" "$runs" "$nft_rules" "$legacy_rules" <<'PY'
import os, resource, statistics, subprocess, sys, time
ns, binary, runs, nft_rules, legacy_rules = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def run(cmds):
    t = time.perf_counter()
    for c in cmds:
        subprocess.run(["ip", "netns", "exec", ns] + c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
ours = [["sh", "-c", f"{binary} collect --docker-host unix:///nonexistent.sock -o /dev/null"]]
base = [["nft", "-j", "list", "ruleset"], ["iptables-legacy-save"], ["ip6tables-legacy-save"]]
run(ours); run(base)  # warm up
a, b = [], []
for _ in range(runs):
    a.append(run(ours)); b.append(run(base))
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
ma, mb = statistics.median(a), statistics.median(b)
print(f"rules: {nft_rules} nftables (incl. 2,000 iptables-nft), {legacy_rules} iptables-legacy")
print(f"dockfw-audit collect: median {ma*1000:.0f} ms over {runs} runs")
print(f"nft -j list ruleset + iptables-legacy-save + ip6tables-legacy-save: median {mb*1000:.0f} ms")
print(f"ratio: {ma/mb:.2f} (goal <= 1.5)")
print(f"peak RSS of any child: {rss/1024:.0f} MiB")
PY
