#!/usr/bin/env bash
# Differential test: random rulesets (tests/kernel/diffgen.py) loaded into a
# host namespace, real packets from an outside host, and the analyzer's
# explain on a snapshot of the same host. Every disagreement is a failure;
# the summary counts agreements. DFA_DIFF_CASES (default 40) and
# DFA_DIFF_SEED (default 1) choose the cases; a failure names its seed.
#
#   wan 203.0.113.2 2001:db8:1::2 --- eth0 host (203.0.113.1 2001:db8:1::1)
#                                      docker0 172.17.0.1 fd00:d0c::1 --- ctr 172.17.0.2 fd00:d0c::2
# The host answers on tcp 22, 80, 8080, 9000 ("host"); ctr on 80, 5432 ("ctr");
# wan routes 172.17.0.0/16 and fd00:d0c::/64 to the host (direct routing).
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_require_netns
cases=${DFA_DIFF_CASES:-40}
seed0=${DFA_DIFF_SEED:-1}
dfa_tmpdir tmp
H=$(dfa_netns_new dfdh); dfa_on_exit "ip netns pids $H | xargs -r kill -9; ip netns del $H"
W=$(dfa_netns_new dfdw); dfa_on_exit "ip netns del $W"
C=$(dfa_netns_new dfdc); dfa_on_exit "ip netns pids $C | xargs -r kill -9; ip netns del $C"
ip link add eth0 netns "$H" type veth peer name eth0 netns "$W"
ip link add veth0 netns "$H" type veth peer name eth0 netns "$C"
ip -n "$H" link add docker0 type bridge
ip -n "$H" link set veth0 master docker0
for l in eth0 veth0 docker0; do ip -n "$H" link set "$l" up; done
ip -n "$W" link set eth0 up
ip -n "$C" link set eth0 up
ip -n "$H" addr add 203.0.113.1/24 dev eth0
ip -n "$H" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$H" addr add 172.17.0.1/16 dev docker0
ip -n "$H" addr add fd00:d0c::1/64 dev docker0 nodad
ip -n "$W" addr add 203.0.113.2/24 dev eth0
ip -n "$W" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$W" route add 172.17.0.0/16 via 203.0.113.1
ip -n "$W" -6 route add fd00:d0c::/64 via 2001:db8:1::1
ip -n "$C" addr add 172.17.0.2/16 dev eth0
ip -n "$C" addr add fd00:d0c::2/64 dev eth0 nodad
ip -n "$C" route add default via 172.17.0.1
ip -n "$C" -6 route add default via fd00:d0c::1
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec "$H" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
ip netns exec "$H" python3 "$DFA_SRC/tests/lab/tcp_answer.py" host 22 80 8080 9000 &
ip netns exec "$C" python3 "$DFA_SRC/tests/lab/tcp_answer.py" ctr 80 5432 &
sleep 0.5

python3 - "$tmp/targets.json" <<'PY'
import json, sys
t = []
for dst in ("203.0.113.1", "2001:db8:1::1"):
    t += [{"dst": dst, "port": p, "proto": "tcp"} for p in (22, 80, 8080, 9000)]
for dst in ("172.17.0.2", "fd00:d0c::2"):
    t += [{"dst": dst, "port": p, "proto": "tcp"} for p in (80, 5432)]
json.dump(t, open(sys.argv[1], "w"))
PY

agree=0 disagree=0 uncertain=0
for ((n = 0; n < cases; n++)); do
  seed=$((seed0 + n))
  case_dir="$tmp/case$seed"
  mkdir -p "$case_dir"
  python3 "$DFA_SRC/tests/kernel/diffgen.py" "$seed" "$case_dir"
  ip netns exec "$H" nft flush ruleset
  for t in filter nat; do
    ip netns exec "$H" iptables-legacy -t $t -F 2>/dev/null || true
    ip netns exec "$H" iptables-legacy -t $t -X 2>/dev/null || true
    ip netns exec "$H" ip6tables-legacy -t $t -F 2>/dev/null || true
    ip netns exec "$H" ip6tables-legacy -t $t -X 2>/dev/null || true
  done
  ip netns exec "$H" iptables-legacy -P FORWARD ACCEPT 2>/dev/null || true
  ip netns exec "$H" ip6tables-legacy -P FORWARD ACCEPT 2>/dev/null || true
  ip netns exec "$H" conntrack -F >/dev/null 2>&1 || true
  ip netns exec "$H" nft -f "$case_dir/ruleset.nft"
  [ -s "$case_dir/legacy4.rules" ] && ip netns exec "$H" iptables-legacy-restore <"$case_dir/legacy4.rules"
  [ -s "$case_dir/legacy6.rules" ] && ip netns exec "$H" ip6tables-legacy-restore <"$case_dir/legacy6.rules"
  ip netns exec "$H" "$DFA_BIN" collect --docker-host unix:///nonexistent -o "$case_dir/snap.json" 2>/dev/null
  ip netns exec "$W" python3 "$DFA_SRC/tests/lab/probe.py" "$tmp/targets.json" >"$case_dir/observed.json"
  result=$(python3 - "$case_dir" "$DFA_BIN" <<'PY'
import json, subprocess, sys
d, binary = sys.argv[1], sys.argv[2]
out = []
for o in json.load(open(f"{d}/observed.json")):
    fam6 = ":" in o["dst"]
    src = "2001:db8:1::2" if fam6 else "203.0.113.2"
    to = (f"[{o['dst']}]" if fam6 else o["dst"]) + f":{o['port']}/tcp"
    e = json.loads(subprocess.run([binary, "explain", "--snapshot", f"{d}/snap.json", "--from", src, "--to", to,
                                   "--format", "json"], capture_output=True, text=True, check=True).stdout)
    want = "delivered" if o["result"] == "open" else "dropped"
    status = "agree" if e["outcome"] == want else ("uncertain" if e["outcome"] == "uncertain" else "DISAGREE")
    out.append(f"{status} {src} -> {to}: observed {o['result']} {o['answer']}, explain {e['outcome']} {e['target']} {e['decided_by']}")
print("\n".join(out))
PY
)
  a=$(grep -c '^agree' <<<"$result" || true)
  u=$(grep -c '^uncertain' <<<"$result" || true)
  x=$(grep -c '^DISAGREE' <<<"$result" || true)
  agree=$((agree + a)) uncertain=$((uncertain + u)) disagree=$((disagree + x))
  if [ "$x" != 0 ]; then
    echo "== seed $seed: $x disagreements"
    grep '^DISAGREE' <<<"$result"
    echo "-- ruleset.nft:"; cat "$case_dir/ruleset.nft"
    [ -s "$case_dir/legacy4.rules" ] && { echo "-- legacy4.rules:"; cat "$case_dir/legacy4.rules"; }
    [ -s "$case_dir/legacy6.rules" ] && { echo "-- legacy6.rules:"; cat "$case_dir/legacy6.rules"; }
  fi
done
opened=$(cat "$tmp"/case*/observed.json | grep -o '"result": "open"' | wc -l)
echo "differential: $cases rulesets, $((agree + disagree + uncertain)) packets ($opened open): $agree agree, $uncertain uncertain, $disagree disagree"
[ "$disagree" = 0 ]
