"""A synthetic snapshot of a hosting node: the rule shapes real internet-facing
Docker hosts carry, for the benchmarks of issue #18.

Usage: gen_hostfw.py BLOCKLIST PORTS TENANTS > snapshot.json

Docker's part is gen_snapshot.py's (PORTS published ports on iptables-nft,
userland proxy on). The admin's table `inet hostfw` is written the way such
hosts carry it:
- a named interval set `blocklist` of BLOCKLIST entries (addresses, /24s and
  ranges, the shape of a fail2ban or crowdsec list) and `blocklist6`,
  dropped at input and forward (prio -10, so before Docker's forward);
- a verdict map `services` of 400 service ports (accept or jump);
- TENANTS chains jumped by source prefix, each with a port set, per-source
  accepts, a rate-limited log, a mark and a reject;
- ct state, loopback, ICMP and IPv6 rules, a rate-limited log and a drop.
"""
import json
import os
import subprocess
import sys

blocklist, ports, tenants = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
here = os.path.dirname(os.path.abspath(__file__))
# Docker's rules only: RULES = 2 * PORTS + 12 leaves no admin rules there.
snap = json.loads(subprocess.run([sys.executable, os.path.join(here, "gen_snapshot.py"), str(2 * ports + 12), str(ports)],
                                 check=True, capture_output=True, text=True).stdout)
R = snap["nftables"]["ruleset"]
handle = [100000]
F, T = "inet", "hostfw"


def h():
    handle[0] += 1
    return handle[0]


def chain(name, **base):
    c = {"family": F, "table": T, "name": name, "handle": h()}
    c.update(base)
    R.append({"chain": c})


def rule(ch, *expr):
    R.append({"rule": {"family": F, "table": T, "chain": ch, "handle": h(), "expr": list(expr)}})


def m(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


payload = lambda p, f: {"payload": {"protocol": p, "field": f}}
meta = lambda k: {"meta": {"key": k}}
ct_state = lambda *s: m({"ct": {"key": "state"}}, list(s), "in")
pfx = lambda a, n: {"prefix": {"addr": a, "len": n}}
limit = {"limit": {"rate": 5, "burst": 5, "per": "minute"}}
log = lambda p: {"log": {"prefix": p}}


def block_elem(i):
    # Mostly single addresses, every fifth a /24, every 50th a short range.
    a, b, c = 1 + i // 65536 % 223, i // 256 % 256, i % 256
    if a in (10, 127, 172, 192, 198, 203):
        a += 1
    if i % 50 == 7:
        return {"range": [f"{a}.{b}.{c}.10", f"{a}.{b}.{c}.20"]}
    if i % 5 == 0:
        return pfx(f"{a}.{b}.{c}.0", 24)
    return f"{a}.{b}.{c}.{1 + i % 200}"


R.append({"table": {"family": F, "name": T, "handle": h()}})
R.append({"set": {"family": F, "name": "blocklist", "table": T, "type": "ipv4_addr", "handle": h(),
                  "flags": ["interval"], "elem": [block_elem(i) for i in range(blocklist)]}})
R.append({"set": {"family": F, "name": "blocklist6", "table": T, "type": "ipv6_addr", "handle": h(),
                  "flags": ["interval"],
                  "elem": [pfx(f"2a0{1 + i % 8}:{i // 256:x}:{i % 256:x}::", 48) for i in range(max(1, blocklist // 10))]}})
chain("input", type="filter", hook="input", prio=0, policy="drop")
chain("forward", type="filter", hook="forward", prio=-10, policy="accept")
chain("web")
services = []
for i in range(400):
    p = 30000 + i
    services.append([p, {"jump": {"target": "web"}} if i % 4 == 0 else {"accept": None}])
R.append({"map": {"family": F, "name": "services", "table": T, "type": "inet_service", "handle": h(), "map": "verdict",
                  "elem": services}})
rule("input", ct_state("established", "related"), {"accept": None})
rule("input", ct_state("invalid"), {"drop": None})
rule("input", m(meta("iifname"), "lo"), {"accept": None})
rule("input", m(payload("ip", "saddr"), "@blocklist"), {"counter": {"packets": 0, "bytes": 0}}, {"drop": None})
rule("input", m(payload("ip6", "saddr"), "@blocklist6"), {"drop": None})
rule("input", m(meta("l4proto"), "icmp"), {"accept": None})
rule("input", m(meta("l4proto"), "ipv6-icmp"), {"accept": None})
rule("input", m(payload("tcp", "dport"), 22), m(payload("ip", "saddr"), pfx("198.51.100.0", 24)), {"accept": None})
rule("input", {"vmap": {"key": payload("tcp", "dport"), "data": "@services"}})
rule("web", m(payload("ip", "saddr"), pfx("100.64.0.0", 10)), {"drop": None})
rule("web", {"mangle": {"key": meta("mark"), "value": 7}})
rule("web", {"accept": None})
rule("forward", ct_state("established", "related"), {"accept": None})
rule("forward", m(payload("ip", "saddr"), "@blocklist"), {"drop": None})
rule("forward", m(payload("ip6", "saddr"), "@blocklist6"), {"drop": None})
for t in range(tenants):
    name = f"tenant{t}"
    net = f"10.{100 + t // 256}.{t % 256}.0"
    chain(name)
    rule("input", m(payload("ip", "saddr"), pfx(net, 24)), {"jump": {"target": name}})
    rule(name, m(payload("tcp", "dport"), {"set": [40000 + 3 * t, 40001 + 3 * t, 40002 + 3 * t]}), {"accept": None})
    rule(name, m(payload("ip", "saddr"), f"10.{100 + t // 256}.{t % 256}.7"), m(payload("tcp", "dport"), 2200 + t),
         {"accept": None})
    rule(name, m(payload("ip", "saddr"), f"10.{100 + t // 256}.{t % 256}.8"), {"mangle": {"key": meta("mark"), "value": t + 1}})
    rule(name, limit, log(f"tenant{t}: "))
    rule(name, m(meta("l4proto"), "tcp"), {"reject": {"type": "tcp reset"}})
rule("input", m(payload("ip6", "saddr"), pfx("2001:db8:1::", 64)), m(payload("tcp", "dport"), 22), {"accept": None})
rule("input", limit, log("hostfw drop: "))

rules = sum(1 for o in R if "rule" in o)
print(json.dumps(snap))
print(f"{rules} rules, blocklist {blocklist}, {ports} published ports, {tenants} tenants", file=sys.stderr)
