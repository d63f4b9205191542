"""Random rulesets for the differential test (tests/kernel/differential.sh).

Usage: diffgen.py SEED OUTDIR  -> OUTDIR/ruleset.nft, legacy4.rules, legacy6.rules

Several nftables tables and base chains with random priorities on
prerouting, input and forward, user chains reached by jump and goto, accept,
drop and return, DNAT in nat chains, prefixes, ports, sets and interface
matches, both families; and iptables-legacy filter and nat rules of the same
kinds. Most filter base chains start by accepting established traffic, some
do not: then replies meet the same rules, and the analyzer must follow the
reply direction too.
"""
import random
import sys
from pathlib import Path

seed, out = int(sys.argv[1]), Path(sys.argv[2])
r = random.Random(seed)
PORTS = [22, 80, 8080, 9000]
CPORTS = [80, 5432]


def nft_match(fam):
    kinds = ["iif", "saddr", "dport", "dportset", "dportrange", "fiblocal", "daddr", "ctnew", "none"]
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
        return f"fib daddr type {r.choice(['local', '!= local'])}"
    if k == "ctnew":
        return "ct state new"
    return ""


def nft_rule(fam, chains, allow_jump):
    ms = [m for m in (nft_match(fam), nft_match(fam)) if m]
    verdicts = ["accept", "drop", "drop", "return", "counter"]
    if allow_jump and chains:
        verdicts += [f"jump {r.choice(chains)}", f"goto {r.choice(chains)}"]
    return " ".join(ms + [r.choice(verdicts)])


lines = []
for t in range(r.randint(1, 3)):
    fam = r.choice(["inet", "ip", "ip6"])
    name = f"t{t}"
    user = [f"u{t}_{i}" for i in range(r.randint(0, 2))]
    lines.append(f"table {fam} {name} {{")
    rfam = "ip6" if fam == "ip6" else ("ip" if fam == "ip" else r.choice(["ip", "ip6"]))
    for u in user:
        lines.append(f"\tchain {u} {{")
        for _ in range(r.randint(1, 3)):
            lines.append("\t\t" + nft_rule(rfam, [], False))
        lines.append("\t}")
    for c in range(r.randint(1, 3)):
        hook = r.choice(["prerouting", "input", "forward", "forward", "input"])
        prio = r.choice([-300, -150, -10, 0, 0, 10, 50, 200])
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
        prio = r.choice([-150, -110, -90, 0])
        lines.append("\tchain nat_pre {")
        lines.append(f"\t\ttype nat hook prerouting priority {prio}; policy accept;")
        port = r.choice(PORTS)
        dest = "[fd00:d0c::2]" if fam == "ip6" else "172.17.0.2"
        cond = nft_match(rfam) or 'iifname "eth0"'
        lines.append(f"\t\t{cond} tcp dport {port} dnat to {dest}:{r.choice(CPORTS)}")
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
                                       "-m addrtype --dst-type LOCAL",
                                       f"-m conntrack --ctorigdstport {r.choice(PORTS)}"]))
            targets = ["ACCEPT", "DROP", "RETURN"] + (["CHK"] if chain != "CHK" else [])
            parts.append(f"-j {r.choice(targets)}")
            out_lines.append(" ".join(parts))
    out_lines.append("COMMIT")
    return "\n".join(out_lines) + "\n"


(out / "legacy4.rules").write_text(legacy(4) if r.random() < 0.6 else "")
(out / "legacy6.rules").write_text(legacy(6) if r.random() < 0.4 else "")
