"""Plans the probe matrix of a lab scenario from its snapshot, and merges and
normalizes results.

  matrix.py plan SNAPSHOT          -> {"SOURCE": [targets]} on stdout
  matrix.py merge DIR              -> observed.json from DIR/result-SOURCE.json
  matrix.py normalize SNAPSHOT LAB_DIR -> the snapshot with what legitimately
                                       varies from run to run replaced

Sources: wan and lan (outside hosts; lan routes the Docker subnets to the
host, a neighbour doing direct routing), host (the Docker host itself), and
one container per Docker network (container:NAME). Containers also probe the
outside hosts (egress: wan and lan answer on tcp 80 with their name), in each
family their network has.
"""
import json
import re
import sys

WAN = {"v4": ["203.0.113.1"], "v6": ["2001:db8:1::1"]}
# Outside hosts as egress targets: (address, family); each answers on tcp 80.
OUTSIDE = [("203.0.113.2", 4), ("198.51.100.2", 4), ("2001:db8:1::2", 6), ("2001:db8:2::2", 6)]
HOST_V4 = ["203.0.113.1", "198.51.100.1", "127.0.0.1"]
HOST_V6 = ["2001:db8:1::1", "2001:db8:2::1", "::1"]
EXTRA_PORTS = [("tcp", 80), ("tcp", 443)]  # every lab web server listens there


def plan(snap):
    api = snap.get("docker_api") or {"containers": [], "networks": []}
    running = [c for c in api["containers"] if c["running"]]
    published = set()
    for c in running:
        for p in c["ports"]:
            for port in range(p["host_port"], p.get("host_port_end", p["host_port"]) + 1):
                published.add((p["protocol"], port, p["host_ip"]))
    # Host-address targets: every published port on every host address of
    # both families, whatever address it was bound to: what is closed is as
    # much part of the truth as what is open.
    host_targets = set()
    for proto, port, _ in published:
        for a in HOST_V4 + HOST_V6:
            host_targets.add((a, port, proto))
    # Host sockets that are not Docker's (docker-proxy is covered above).
    for so in (snap.get("host") or {}).get("listening_sockets", []):
        if so.get("process") in ("docker-proxy", "dockerd", "containerd") or so["port"] == 0:
            continue
        if so["address"] in ("0.0.0.0", "::"):
            addrs = HOST_V4 + HOST_V6 if so["address"] == "::" else HOST_V4
        else:
            addrs = [so["address"]] + (HOST_V4 if so["family"] == 4 else HOST_V6)
        for a in addrs:
            host_targets.add((a, so["port"], so["protocol"]))
    # Container-address targets: each container address, its published
    # container ports and the unpublished ones the lab servers listen on.
    direct = set()
    for c in running:
        ports = {(p["protocol"], p["container_port"]) for p in c["ports"]} | set(EXTRA_PORTS)
        for n in c["networks"]:
            for a in (n["ipv4"], n["ipv6"]):
                if a:
                    for proto, port in ports:
                        direct.add((a, port, proto))

    def targets(addrs):
        return [{"dst": a, "port": p, "proto": pr} for a, p, pr in sorted(addrs)]

    loopback = {"127.0.0.1", "::1"}
    out = {
        "wan": targets({t for t in host_targets if t[0] not in loopback}),
        # lan also sends to 127.0.0.1 through the host (remote loopback, moby#45610).
        "lan": targets({t for t in host_targets if t[0] != "::1"} | direct),
        "host": targets(host_targets | direct),
    }
    seen = set()
    for c in sorted(running, key=lambda c: c["name"]):
        for n in c["networks"]:
            if n["network"] in seen or not n["ipv4"]:
                continue
            seen.add(n["network"])
            families = {4} | ({6} if n.get("ipv6") else set())
            egress = {(a, 80, "tcp") for a, fam in OUTSIDE if fam in families}
            out[f"container:{c['name']}"] = targets({t for t in host_targets if t[0] not in loopback} | direct | egress)
    return out


def merge(d):
    import glob
    import os
    rows = []
    for f in sorted(glob.glob(os.path.join(d, "result-*.json"))):
        source = os.path.basename(f)[len("result-"):-len(".json")]
        for r in json.load(open(f)):
            rows.append({"source": source, "family": 6 if ":" in r["dst"] else 4, "dst": r["dst"],
                         "port": r["port"], "proto": r["proto"], "result": r["result"], "answer": r["answer"]})
    rows.sort(key=lambda r: (r["source"], r["family"], r["dst"], r["proto"], r["port"]))
    return {"schema_version": 1, "observations": rows}


VOLATILE = {"collected_at", "handle", "counters", "pid", "inode", "id", "network_id", "netns", "generation",
            "hostname", "kernel", "uid", "candidates", "dockerd_in_other_namespaces", "raw", "packets", "bytes",
            "services"}  # the recording machine's systemd units, not the lab's


def normalize(snap, lab_dir):
    def walk(x, path=()):
        if isinstance(x, dict):
            return {k: walk(v, path + (k,)) for k, v in x.items()
                    if k not in VOLATILE and not (k == "index" and "interfaces" in path)}
        if isinstance(x, list):
            return [walk(v, path) for v in x]
        return x
    s = walk(snap)
    # IPv6 link-local addresses (and their local routes) appear whenever the
    # kernel's address configuration gets to them: not part of the scenario.
    host = s.get("host") or {}
    # No ufw in the lab host: the same as a snapshot from before ufw was read.
    if not (host.get("ufw") or {}).get("present", True):
        del host["ufw"]
    # Likewise no firewalld: the same as a snapshot from before its files were read.
    if not (host.get("firewalld") or {}).get("present", True):
        del host["firewalld"]
    host["routes"] = [r for r in host.get("routes", []) if not r["dst"].startswith(("fe80:", "ff00:"))]
    # Regular chains are listed in the order they were made, and rules
    # grouped by chain in that order. firewalld makes a policy's chains and
    # Docker's zone's in whichever order the two get to it. Neither order
    # changes a packet's path (base chains, which run by hook and priority,
    # keep their places; rules keep their order within a chain).
    ruleset = (s.get("nftables") or {}).get("ruleset")
    if isinstance(ruleset, list):
        def key(o, kind):
            x = o[kind]
            return (x.get("family", ""), x.get("table", ""), x.get("name" if kind == "chain" else "chain", ""))
        # Only firewalld's table: elsewhere chain names hold bridge ids that
        # differ between runs, and the order there is Docker's own.
        def firewalld(o, kind):
            return kind in o and isinstance(o[kind], dict) and o[kind].get("table") == "firewalld"
        def regular(o):
            return firewalld(o, "chain") and "hook" not in o["chain"]
        slots = [i for i, o in enumerate(ruleset) if regular(o)]
        for i, o in zip(slots, sorted((ruleset[i] for i in slots), key=lambda o: key(o, "chain"))):
            ruleset[i] = o
        slots = [i for i, o in enumerate(ruleset) if firewalld(o, "rule")]
        for i, o in zip(slots, sorted((ruleset[i] for i in slots), key=lambda o: key(o, "rule"))):
            ruleset[i] = o
    for i in host.get("interfaces", []):
        i["addresses"] = [a for a in i["addresses"] if not a["address"].startswith("fe80:")]
    text = json.dumps(s, sort_keys=True, indent=1)
    text = text.replace(lab_dir, "$LAB")
    text = re.sub(r"br-[0-9a-f]{12}", "br-ID", text)
    text = re.sub(r"veth[0-9a-f]{7}", "vethID", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "ID", text)
    text = re.sub(r'"[0-9a-f]{12}"', '"SHORTID"', text)
    text = re.sub(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b", "MAC", text)
    text = re.sub(r"fe80::[0-9a-f:]+", "fe80::LL", text)
    text = re.sub(r'"net:\[\d+\]"', '"NETNS"', text)
    return text


cmd = sys.argv[1]
if cmd == "plan":
    print(json.dumps(plan(json.load(open(sys.argv[2])))))
elif cmd == "merge":
    print(json.dumps(merge(sys.argv[2]), indent=1))
elif cmd == "normalize":
    print(normalize(json.load(open(sys.argv[2])), sys.argv[3]))
