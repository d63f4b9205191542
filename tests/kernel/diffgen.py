"""Random rulesets for the differential test (tests/kernel/differential.sh).

Usage: diffgen.py SEED OUTDIR  -> OUTDIR/ruleset.nft, legacy4.rules, legacy6.rules, routing.sh

Several nftables tables and base chains with random priorities on
prerouting, input and forward, user chains reached by jump and goto, accept,
drop and return, DNAT in nat chains, prefixes, ports, sets and interface
matches, both families; and iptables-legacy filter and nat rules of the same
kinds. Most filter base chains start by accepting established traffic, some
do not: then replies meet the same rules, and the analyzer must follow the
reply direction too.

The constructs of "uncertain, never wrong" (docs/analyzer.md) are drawn as
well: notrack, payload rewrites of the destination port, sets filled from
the packet path and their lookups, packet marks, TCP flags tests (on SYN,
SYN|ACK and later ACKs), chains on every hook at priorities around
conntrack's (-200) and NAT chains competing at nearby priorities, netdev
ingress chains, bridge-family chains, Docker 29's nftables shapes (verdict
maps keyed by interface, fib-local jumps into DNAT, raw drops of direct
access), and policy routing (routing.sh: ip
rules by destination, input device and mark; blackhole, unreachable and
lookups of a table of their own).
"""
import random
import sys
from pathlib import Path

seed, out = int(sys.argv[1]), Path(sys.argv[2])
r = random.Random(seed)
PORTS = [22, 80, 8080, 9000]
CPORTS = [80, 5432]


def nft_match(fam):
    kinds = ["iif", "saddr", "dport", "dportset", "dportrange", "fiblocal", "daddr", "ctnew", "none",
             "flags", "mark", "dyn"]
    k = r.choice(kinds)
    if k == "iif":
        return f'iifname {r.choice(["", "!= "])}"{r.choice(["eth0", "eth*", "docker0"])}"'
    if k == "saddr":
        if fam == "ip6":
            return f'ip6 saddr {r.choice(["", "!= "])}{r.choice(["2001:db8:1::/64", "2001:db8:1::2", "2001:db8:9::/48"])}'
        return f'ip saddr {r.choice(["", "!= "])}{r.choice(["203.0.113.0/24", "203.0.113.2", "198.51.100.0/24"])}'
    if k == "daddr":
        if fam == "ip6":
            return f'ip6 daddr {r.choice(["fd00:d0c::/64", "2001:db8:1::1", "fd00:d0c::2"])}'
        return f'ip daddr {r.choice(["172.17.0.0/16", "203.0.113.1", "172.17.0.2"])}'
    if k == "dport":
        return f"tcp dport {r.choice(['', '!= '])}{r.choice(PORTS + CPORTS)}"
    if k == "dportset":
        return "tcp dport { " + ", ".join(str(p) for p in sorted(r.sample(PORTS + CPORTS, 2))) + " }"
    if k == "dportrange":
        return f"tcp dport {r.choice(['22-80', '8000-9000', '5000-8080'])}"
    if k == "fiblocal":
        return f"fib {r.choice(['daddr', 'saddr'])} type {r.choice(['local', '!= local'])}"
    if k == "ctnew":
        return r.choice(["ct state new", "ct state untracked", "ct state invalid"])
    if k == "flags":
        return r.choice(["tcp flags syn", "tcp flags & (syn | ack) == syn | ack", "tcp flags & (syn | ack) == ack",
                         "tcp flags & (syn | ack) == syn", "tcp flags != syn"])
    if k == "mark":
        return f"meta mark {r.choice(['', '!= '])}0x1"
    if k == "dyn":
        return f"{'ip6' if fam == 'ip6' else 'ip'} saddr @dyn"
    return ""


def nft_statement(fam):
    """A statement that changes the packet or the state, before a verdict."""
    return r.choice(["notrack", f"tcp dport set {r.choice(PORTS + CPORTS)}", "meta mark set 0x1",
                     f"update @dyn {{ {'ip6' if fam == 'ip6' else 'ip'} saddr }}", "ct mark set 0x1"])


def nft_rule(fam, chains, allow_jump):
    ms = [m for m in (nft_match(fam), nft_match(fam)) if m]
    verdicts = ["accept", "drop", "drop", "return", "counter"]
    if allow_jump and chains:
        verdicts += [f"jump {r.choice(chains)}", f"goto {r.choice(chains)}"]
    st = [nft_statement(fam)] if r.random() < 0.2 else []
    return " ".join(ms + st + [r.choice(verdicts)])


lines = []
for t in range(r.randint(1, 3)):
    fam = r.choice(["inet", "ip", "ip6"])
    name = f"t{t}"
    user = [f"u{t}_{i}" for i in range(r.randint(0, 2))]
    lines.append(f"table {fam} {name} {{")
    rfam = "ip6" if fam == "ip6" else ("ip" if fam == "ip" else r.choice(["ip", "ip6"]))
    lines.append(f"\tset dyn {{ type {'ipv6_addr' if rfam == 'ip6' else 'ipv4_addr'}; flags dynamic; }}")
    for u in user:
        lines.append(f"\tchain {u} {{")
        for _ in range(r.randint(1, 3)):
            lines.append("\t\t" + nft_rule(rfam, [], False))
        lines.append("\t}")
    for c in range(r.randint(1, 3)):
        hook = r.choice(["prerouting", "input", "forward", "forward", "input", "postrouting", "output"])
        prio = r.choice([-300, -250, -201, -200, -199, -150, -10, 0, 0, 10, 50, 200])
        policy = r.choice(["accept", "accept", "accept", "drop"])
        lines.append(f"\tchain b{c} {{")
        lines.append(f"\t\ttype filter hook {hook} priority {prio}; policy {policy};")
        if r.random() < 0.6:
            lines.append("\t\tct state established,related accept")
        if policy == "drop":
            lines.append('\t\tiifname "lo" accept')
        for _ in range(r.randint(1, 4)):
            lines.append("\t\t" + nft_rule(rfam, user, True))
        lines.append("\t}")
    if fam in ("ip", "ip6") and r.random() < 0.5:
        # One or two nat chains at nearby priorities: which binds first decides.
        for n in range(r.choice([1, 1, 2])):
            prio = r.choice([-150, -110, -101, -100, -99, -90, 0])
            lines.append(f"\tchain nat_pre{n} {{")
            lines.append(f"\t\ttype nat hook prerouting priority {prio}; policy accept;")
            port = r.choice(PORTS)
            dest = "[fd00:d0c::2]" if fam == "ip6" else "172.17.0.2"
            cond = nft_match(rfam) or 'iifname "eth0"'
            lines.append(f"\t\t{cond} tcp dport {port} dnat to {dest}:{r.choice(CPORTS)}")
            lines.append("\t}")
    lines.append("}")
if r.random() < 0.25:
    # A netdev ingress chain on the outside interface: before prerouting, conntrack and NAT.
    lines.append("table netdev nd {")
    lines.append(f'\tchain ing {{ type filter hook ingress device "eth0" priority {r.choice([-500, 0, 10])}; '
                 f"policy accept;")
    for _ in range(r.randint(1, 2)):
        m = r.choice([f"tcp dport {r.choice(PORTS + CPORTS)}", "ip saddr 203.0.113.2", "ip6 saddr 2001:db8:1::2",
                      "ip daddr 172.17.0.2", "tcp flags syn"])
        lines.append(f"\t\t{m} {r.choice(['drop', 'accept', 'counter'])}")
    lines.append("\t}")
    lines.append("}")
if r.random() < 0.1:
    # A bridge-family chain: its frames are not walked, so paths through docker0 are uncertain.
    lines.append("table bridge br {")
    lines.append(f"\tchain c {{ type filter hook {r.choice(['forward', 'output', 'input', 'prerouting'])} priority 0; "
                 "policy accept;")
    lines.append(f"\t\ttcp dport {r.choice(PORTS + CPORTS)} drop")
    lines.append("\t}")
    lines.append("}")
if r.random() < 0.35:
    # Docker 29's shapes (firewall-backend nftables, docs/lab.md): a forward
    # base chain that jumps through a verdict map keyed by interface name
    # (named or anonymous), a prerouting NAT chain that jumps on fib local
    # into a DNAT chain, and Docker 28/29's raw drop of direct access.
    fam, dest = r.choice([("ip", "172.17.0.2"), ("ip6", "[fd00:d0c::2]")])
    lines.append(f"table {fam} dk {{")
    lines.append(f"\tset dyn {{ type {'ipv6_addr' if fam == 'ip6' else 'ipv4_addr'}; flags dynamic; }}")
    named = r.random() < 0.5
    if named:
        lines.append("\tmap fwd_in { type ifname : verdict; elements = { \"docker0\" : jump d_in } }")
    lines.append("\tchain d_in {")
    if r.random() < 0.7:
        lines.append("\t\tct state established,related accept")
    for _ in range(r.randint(1, 3)):
        lines.append("\t\t" + nft_rule(fam, [], False))
    if r.random() < 0.7:
        lines.append("\t\tdrop")
    lines.append("\t}")
    lines.append("\tchain d_fwd {")
    lines.append("\t\ttype filter hook forward priority filter; policy accept;")
    lines.append("\t\toifname vmap @fwd_in" if named else
                 f'\t\toifname vmap {{ "docker0" : jump d_in, "eth0" : {r.choice(["accept", "drop", "continue"])} }}')
    lines.append("\t}")
    if r.random() < 0.6:
        lines.append("\tchain d_pao {")
        lines.append(f'\t\tiifname != "docker0" tcp dport {r.choice(PORTS)} dnat to {dest}:{r.choice(CPORTS)}')
        lines.append("\t}")
        lines.append("\tchain d_pre {")
        lines.append("\t\ttype nat hook prerouting priority dstnat; policy accept;")
        lines.append("\t\tfib daddr type local jump d_pao")
        lines.append("\t}")
    if r.random() < 0.5:
        addr = dest.strip("[]")
        lines.append("\tchain d_raw {")
        lines.append("\t\ttype filter hook prerouting priority raw; policy accept;")
        lines.append(f'\t\t{fam} daddr {addr} iifname != "docker0" drop')
        lines.append("\t}")
    lines.append("}")
(out / "ruleset.nft").write_text("\n".join(lines) + "\n")


def legacy(fam):
    src = ["203.0.113.0/24", "198.51.100.0/24"] if fam == 4 else ["2001:db8:1::/64", "2001:db8:9::/48"]
    dst_c = "172.17.0.2" if fam == 4 else "fd00:d0c::2"
    out_lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                 ":POSTROUTING ACCEPT [0:0]"]
    if r.random() < 0.5:
        port = r.choice(PORTS)
        d = f"[{dst_c}]" if fam == 6 else dst_c
        out_lines.append(f"-A PREROUTING -i eth0 -p tcp -m tcp --dport {port} -j DNAT --to-destination {d}:{r.choice(CPORTS)}")
    out_lines.append("COMMIT")
    if r.random() < 0.3:
        out_lines += ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                      f"-A PREROUTING -p tcp -m tcp --dport {r.choice(PORTS)} -j CT --notrack", "COMMIT"]
    fpol = r.choice(["ACCEPT", "ACCEPT", "DROP"])
    out_lines += ["*filter", ":INPUT ACCEPT [0:0]", f":FORWARD {fpol} [0:0]", ":OUTPUT ACCEPT [0:0]", ":CHK - [0:0]"]
    if r.random() < 0.6:
        out_lines += ["-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                      "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for chain in ("INPUT", "FORWARD", "CHK"):
        for _ in range(r.randint(0, 3)):
            parts = [f"-A {chain}"]
            if r.random() < 0.4:
                parts.append(f"{r.choice(['', '! '])}-s {r.choice(src)}")
            if r.random() < 0.3:
                parts.append(f"{r.choice(['', '! '])}-i {r.choice(['eth0', 'eth+', 'docker0'])}")
            if r.random() < 0.6:
                parts.append(r.choice([f"-p tcp -m tcp --dport {r.choice(PORTS + CPORTS)}",
                                       f"-p tcp -m multiport --dports {','.join(map(str, r.sample(PORTS + CPORTS, 2)))}",
                                       "-m conntrack --ctstate NEW",
                                       "-m conntrack --ctstate UNTRACKED",
                                       r.choice(["-p tcp --syn", "-p tcp ! --syn", "-p tcp --tcp-flags SYN,ACK SYN,ACK",
                                                 "-p tcp --tcp-flags SYN,ACK ACK"]),
                                       "-m addrtype --dst-type LOCAL",
                                       f"-m conntrack --ctorigdstport {r.choice(PORTS)}"]))
            targets = ["ACCEPT", "DROP", "RETURN"] + (["CHK"] if chain != "CHK" else [])
            parts.append(f"-j {r.choice(targets)}")
            out_lines.append(" ".join(parts))
    out_lines.append("COMMIT")
    return "\n".join(out_lines) + "\n"


(out / "legacy4.rules").write_text(legacy(4) if r.random() < 0.6 else "")
(out / "legacy6.rules").write_text(legacy(6) if r.random() < 0.4 else "")

# Policy routing (preferences 100-109 and table 100, which topo_reset removes).
routing = []
if r.random() < 0.3:
    for pref in range(100, 100 + r.randint(1, 2)):
        fam = r.choice(["-4", "-6"])
        c = "172.17.0.2" if fam == "-4" else "fd00:d0c::2"
        sel = r.choice([f"to {c}", "iif eth0", "fwmark 0x1", "from all"])
        act = r.choice(["blackhole", "unreachable", "lookup 100", "lookup 100"])
        routing.append(f"ip {fam} rule add pref {pref} {sel} {act}")
    for fam, net, dev in (("-4", "172.17.0.0/16", "docker0"), ("-6", "fd00:d0c::/64", "docker0")):
        routing.append(r.choice([f"ip {fam} route add blackhole {net} table 100",
                                 f"ip {fam} route add {net} dev {dev} table 100",
                                 f"ip {fam} route add throw {net} table 100"]))
(out / "routing.sh").write_text("\n".join(routing) + "\n")
