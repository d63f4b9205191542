"""Checks a snapshot collected in the e2e lab (tests/e2e/docker_collect.sh).

Usage: check_docker_snapshot.py SNAPSHOT BACKEND DAEMON_JSON
"""
import json
import re
import sys

snap = json.load(open(sys.argv[1]))
backend, daemon_json = sys.argv[2], sys.argv[3]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
        print("FAIL:", msg)


for c in ("host", "nftables", "docker_config", "docker_api"):
    check(snap["collectors"][c]["status"] == "ok", f"collector {c}: {snap['collectors'][c]}")

api = snap["docker_api"]
containers = {c["name"]: c for c in api["containers"]}
check(set(containers) == {"web", "app", "local", "ranged", "pick", "dns", "both"}, f"containers: {sorted(containers)}")
nets = {n["name"]: n for n in api["networks"]}
check({"bridge", "front", "back", "host", "none"} <= set(nets), f"networks: {sorted(nets)}")
check(nets["bridge"]["bridge"] == "docker0", "default bridge device")
check(nets["front"]["bridge"].startswith("br-") and nets["front"]["subnets"], f"front: {nets['front']}")
check([n["network"] for n in containers["both"]["networks"]] == ["back", "front"], "container on two networks")


def ports(name):
    return {(p["host_ip"], p["host_port"], p["container_port"], p["protocol"]) for p in containers[name]["ports"]}


check(("0.0.0.0", 8080, 80, "tcp") in ports("web") and ("::", 8080, 80, "tcp") in ports("web"), f"web: {ports('web')}")
check(("0.0.0.0", 8443, 443, "tcp") in ports("app"), f"app: {ports('app')}")
check(ports("local") == {("127.0.0.1", 9090, 80, "tcp")}, f"local: {ports('local')}")
check(("0.0.0.0", 5353, 53, "udp") in ports("dns"), f"dns: {ports('dns')}")
check({("0.0.0.0", p, p, "tcp") for p in (7000, 7001, 7002)} <= ports("ranged"), f"ranged: {ports('ranged')}")
# A host range for one container port: Docker picks one; the request keeps the range.
req = containers["pick"]["ports_requested"]
check(len(req) == 1 and req[0]["host_port"] == 7100 and req[0].get("host_port_end") == 7105, f"pick requested: {req}")
check(all(7100 <= p[1] <= 7105 for p in ports("pick")) and ports("pick"), f"pick: {ports('pick')}")

# Bridges are on the host with their gateway addresses.
ifaces = {i["name"]: i for i in snap["host"]["interfaces"]}
for br in ("docker0", nets["front"]["bridge"], nets["back"]["bridge"]):
    check(br in ifaces and ifaces[br]["kind"] == "bridge", f"bridge {br} on the host")
check(any(a["address"] == "172.17.0.1" for a in ifaces.get("docker0", {}).get("addresses", [])), "docker0 address")
check(any(r["table"] == "local" and r["dst"] == "203.0.113.1/32" for r in snap["host"]["routes"]), "local route")

# Docker's DNAT rules, with destinations, from whichever backend it drove.
ip_of = {n: c["networks"][0]["ipv4"] for n, c in containers.items() if c["networks"]}
dnats = []  # (dport text, destination)
if backend == "legacy":
    check(snap["collectors"]["iptables_legacy"]["status"] == "ok", "legacy collector")
    for t in snap["iptables_legacy"]["ipv4"]["tables"]:
        for ch in t["chains"]:
            for r in ch["rules"]:
                if r["target"]["name"] == "DNAT":
                    dport = next((m["params"].get("dport") for m in r["matches"] if "dport" in m["params"]), None)
                    dnats.append((dport, r["target"]["params"].get("to_destination")))
    check(not any("xt" in e for o in snap["nftables"]["ruleset"] if "rule" in o for e in o["rule"]["expr"]),
          "legacy backend: no iptables-nft rules expected")
else:
    check(snap["collectors"]["iptables_legacy"]["status"] == "absent", "nft backend: no legacy tables")
    for o in snap["nftables"]["ruleset"]:
        r = o.get("rule")
        if not r:
            continue
        dport = None
        for e in r["expr"]:
            m = e.get("match")
            if m and isinstance(m["left"], dict) and m["left"].get("payload", {}).get("field") == "dport":
                right = m["right"]
                dport = f"{right['range'][0]}:{right['range'][1]}" if isinstance(right, dict) and "range" in right else str(right)
            x = e.get("xt")
            if x and x["name"] == "DNAT":
                check(x.get("decoded"), f"undecoded DNAT in {r['chain']}")
                dnats.append((dport, x["params"].get("to_destination")))
want = {
    ("8080", f"{ip_of['web']}:80"),
    ("8443", f"{ip_of['app']}:443"),
    ("9090", f"{ip_of['local']}:80"),
    ("5353", f"{ip_of['dns']}:53"),
    # Docker 20.10 expands a range into one DNAT per port.
    ("7000", f"{ip_of['ranged']}:7000"),
    ("7002", f"{ip_of['ranged']}:7002"),
}
check(want <= set(dnats), f"DNAT rules {sorted(dnats)} lack {sorted(want - set(dnats))}")
check(all(d for _, d in dnats), f"every DNAT has its destination: {dnats}")

# docker-proxy listens for each published port.
socks = {(s["protocol"], s["address"], s["port"]) for s in snap["host"]["listening_sockets"] if s["process"] == "docker-proxy"}
for s in [("tcp", "0.0.0.0", 8080), ("tcp", "::", 8080), ("tcp", "0.0.0.0", 8443), ("tcp", "127.0.0.1", 9090),
          ("udp", "0.0.0.0", 5353), ("tcp", "0.0.0.0", 7000), ("tcp", "0.0.0.0", 7002)]:
    check(s in socks, f"docker-proxy socket {s} (have {sorted(socks)})")

# The dockerd of this namespace, and the daemon.json it reads.
cfg = snap["docker_config"]
check(cfg["dockerd"] and cfg["dockerd"]["candidates"] == 1, "one dockerd in the namespace")
check(cfg["daemon_json"]["path"] == daemon_json and cfg["daemon_json"]["source"] == "dockerd --config-file",
      f"daemon.json: {cfg['daemon_json']}")

print(f"{len(errors)} failures ({backend} backend, {len(dnats)} DNAT rules)")
sys.exit(1 if errors else 0)
