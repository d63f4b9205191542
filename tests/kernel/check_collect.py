"""Compares a dockfw-audit snapshot with what the kernel's own tools print.

Usage: check_collect.py DIR, where DIR holds snap.json, nft.json (nft -j -a
list ruleset), legacy{4,6}.save and nft{4,6}.save (iptables-*-save output).
Every mismatch is printed; the exit status is the number of mismatches.
"""
import json
import sys
from pathlib import Path

errors = []


def fail(msg):
    errors.append(msg)
    print("MISMATCH:", msg)


def parse_save(path):
    """{table: {"policies": {chain: policy}, "chains": [names], "rules": {chain: [lines]}}}"""
    tables, cur = {}, None
    for line in Path(path).read_text().splitlines():
        if line.startswith("*"):
            cur = tables.setdefault(line[1:], {"policies": {}, "chains": [], "rules": {}})
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            cur["chains"].append(name)
            cur["policies"][name] = policy
            cur["rules"].setdefault(name, [])
        elif line.startswith("-A "):
            chain = line.split()[1]
            cur["rules"].setdefault(chain, []).append(line)
    return tables


d = Path(sys.argv[1])
snap = json.loads((d / "snap.json").read_text())

# Collector statuses.
for name in ("host", "nftables", "iptables_legacy"):
    st = snap["collectors"][name]["status"]
    if st != "ok":
        fail(f"collector {name} is {st}: {snap['collectors'][name]['reason']}")

# --- iptables-legacy: chains, policies and every rule, in order, exactly as iptables-save.
for fam, save_file in (("ipv4", "legacy4.save"), ("ipv6", "legacy6.save")):
    save = parse_save(d / save_file)
    mine = {t["name"]: t for t in snap["iptables_legacy"][fam]["tables"]}
    if set(mine) != set(save):
        fail(f"legacy {fam} tables {sorted(mine)} != {sorted(save)}")
    for tname, st in save.items():
        t = mine.get(tname)
        if not t:
            continue
        chains = {c["name"]: c for c in t["chains"]}
        if set(chains) != set(st["chains"]):
            fail(f"legacy {fam} {tname} chains {sorted(chains)} != {sorted(st['chains'])}")
        for cname, policy in st["policies"].items():
            c = chains.get(cname)
            if not c:
                continue
            want = None if policy == "-" else policy
            if c["policy"] != want:
                fail(f"legacy {fam} {tname} {cname} policy {c['policy']} != {want}")
            got = [r["text"] for r in c["rules"]]
            if got != st["rules"].get(cname, []):
                fail(f"legacy {fam} {tname} {cname} rules differ:\n  ours: {got}\n  save: {st['rules'].get(cname)}")
            for r in c["rules"]:
                for m in r["matches"] + [r["target"]]:
                    if not m.get("decoded", True):
                        fail(f"legacy {fam} {tname} {cname}: undecoded {m['name']}")

# --- nftables: the ruleset equals nft's own JSON, once our additions to xt
# expressions are removed.
OURS = {"revision", "decoded", "params", "text", "raw", "reason", "save_name"}


def strip(ruleset):
    out = []
    for o in ruleset:
        o = json.loads(json.dumps(o))
        if "chain" in o and o["chain"].get("hook") in ("ingress", "egress"):
            # Our addition where nft's JSON has no device (checked below).
            o["chain"].pop("dev", None)
        if "rule" in o:
            for e in o["rule"].get("expr", []):
                if "xt" in e:
                    for k in OURS:
                        e["xt"].pop(k, None)
        out.append(o)
    return out


nft = json.loads((d / "nft.json").read_text())["nftables"]
for o in nft:
    if "chain" in o and o["chain"].get("hook") in ("ingress", "egress"):
        o["chain"].pop("dev", None)
ingress = [o["chain"] for o in snap["nftables"]["ruleset"] if "chain" in o and o["chain"].get("hook") == "ingress"]
if not ingress or any(c.get("dev") != "lo" for c in ingress):
    fail(f"ingress chains without their device: {ingress}")
if strip(snap["nftables"]["ruleset"]) != nft:
    fail("nftables ruleset in the snapshot differs from nft -j list ruleset")

objs = snap["nftables"]["ruleset"]
chains = {(o["chain"]["family"], o["chain"]["table"], o["chain"]["name"]): o["chain"] for o in objs if "chain" in o}
inp = chains.get(("inet", "dfa_host", "input"), {})
if (inp.get("hook"), inp.get("prio"), inp.get("policy")) != ("input", 0, "drop"):
    fail(f"inet dfa_host input chain: {inp}")
fwd = chains.get(("inet", "dfa_host", "forward"), {})
if fwd.get("prio") != -10:
    fail(f"inet dfa_host forward priority: {fwd}")
nat = chains.get(("ip", "dfa_nat", "prerouting"), {})
if (nat.get("type"), nat.get("prio")) != ("nat", -110):
    fail(f"ip dfa_nat prerouting: {nat}")
sets = {o["set"]["name"]: o["set"] for o in objs if "set" in o}
if len(sets.get("admin_nets", {}).get("elem", [])) != 2:
    fail(f"set admin_nets elements: {sets.get('admin_nets')}")
maps = {o["map"]["name"]: o["map"] for o in objs if "map" in o}
if len(maps.get("port_policy", {}).get("elem", [])) != 2:
    fail(f"map port_policy elements: {maps.get('port_policy')}")

# --- iptables-nft: every xt expression decoded, and its text is what
# iptables-nft-save prints for the same rule (matched by table, chain, position).
dnat_seen = 0
for fam, save_file in (("ip", "nft4.save"), ("ip6", "nft6.save")):
    save = parse_save(d / save_file)
    position = {}
    for o in objs:
        r = o.get("rule")
        if not r or r["family"] != fam or r["table"] not in save:
            continue
        key = (r["table"], r["chain"])
        i = position.get(key, 0)
        position[key] = i + 1
        lines = save[r["table"]]["rules"].get(r["chain"], [])
        if i >= len(lines):
            fail(f"{fam} {key}: more nft rules than iptables-nft-save lines")
            continue
        line = lines[i]
        for e in r["expr"]:
            x = e.get("xt")
            if not x:
                continue
            if not x.get("decoded"):
                fail(f"{fam} {key} #{i}: {x['name']} not decoded: {x.get('reason')}")
                continue
            if x["type"] == "match":
                want = f"-m {x.get('save_name', x['name'])}{x['text']}"
            else:
                want = f"-j {x['name']}{x['text']}"
            if want not in line:
                fail(f"{fam} {key} #{i}: '{want}' not in '{line}'")
            if x["name"] == "DNAT":
                dnat_seen += 1
                dest = line.split("--to-destination ")[1].split()[0]
                if x["params"].get("to_destination") != dest:
                    fail(f"{fam} {key} #{i}: DNAT destination {x['params']} != {dest}")
    for t, st in save.items():
        for c, lines in st["rules"].items():
            if position.get((t, c), 0) != len(lines):
                fail(f"{fam} {t} {c}: {position.get((t, c), 0)} nft rules vs {len(lines)} save lines")

want_dnats = sum(l.count("-j DNAT") for f in ("nft4.save", "nft6.save") for l in (d / f).read_text().splitlines())
if dnat_seen != want_dnats or want_dnats < 4:
    fail(f"iptables-nft DNAT rules with destinations: {dnat_seen} of {want_dnats}")
if snap["nftables"]["undecoded_xt"]:
    fail(f"undecoded xt: {snap['nftables']['undecoded_xt']}")

print(f"{len(errors)} mismatches")
sys.exit(min(len(errors), 100))
