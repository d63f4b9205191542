"""A synthetic snapshot of a large Docker host, for the exposure benchmark.

Usage: gen_snapshot.py RULES PORTS > snapshot.json

Docker 20.10 on iptables-nft publishes PORTS ports (one container for every
ten ports, userland proxy on): a DNAT and a filter accept per port, with the
DNAT as iptables-nft's xt target. The rest of the RULES are an admin's:
a blocklist chain of single addresses jumped from input and forward (as
fail2ban-style tools write them), and per-port input rules.
"""
import json
import sys

rules_total, ports = int(sys.argv[1]), int(sys.argv[2])
R = []
handle = [100]


def h():
    handle[0] += 1
    return handle[0]


def table(fam, name):
    R.append({"table": {"family": fam, "name": name, "handle": h()}})


def chain(fam, tbl, name, **base):
    c = {"family": fam, "table": tbl, "name": name, "handle": h()}
    c.update(base)
    R.append({"chain": c})


def rule(fam, tbl, ch, expr):
    R.append({"rule": {"family": fam, "table": tbl, "chain": ch, "handle": h(), "expr": expr}})


def m(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


def payload(p, f):
    return {"payload": {"protocol": p, "field": f}}


meta = lambda k: {"meta": {"key": k}}
R.append({"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}})
containers, sockets = [], []
ctr_ip = lambda i: f"172.17.{(i // 10) // 250}.{(i // 10) % 250 + 2}"

table("ip", "nat")
chain("ip", "nat", "PREROUTING", type="nat", hook="prerouting", prio=-100, policy="accept")
chain("ip", "nat", "OUTPUT", type="nat", hook="output", prio=-100, policy="accept")
chain("ip", "nat", "DOCKER")
xt_local = {"xt": {"type": "match", "name": "addrtype", "revision": 1, "decoded": True,
                   "params": {"dst_type": "LOCAL", "dst_type_invert": False, "limit_iface_in": False,
                              "limit_iface_out": False}, "text": " --dst-type LOCAL"}}
rule("ip", "nat", "PREROUTING", [xt_local, {"jump": {"target": "DOCKER"}}])
rule("ip", "nat", "OUTPUT", [m(payload("ip", "daddr"), {"prefix": {"addr": "127.0.0.0", "len": 8}}, "!="), xt_local,
                             {"jump": {"target": "DOCKER"}}])
rule("ip", "nat", "DOCKER", [m(meta("iifname"), "docker0"), {"return": None}])
for i in range(ports):
    port = 10000 + i
    rule("ip", "nat", "DOCKER", [m(meta("iifname"), "docker0", "!="), m(payload("tcp", "dport"), port),
                                 {"xt": {"type": "target", "name": "DNAT", "revision": 2, "decoded": True,
                                         "params": {"to_destination": f"{ctr_ip(i)}:80"},
                                         "text": f" --to-destination {ctr_ip(i)}:80"}}])
table("ip", "filter")
chain("ip", "filter", "FORWARD", type="filter", hook="forward", prio=0, policy="drop")
chain("ip", "filter", "DOCKER")
chain("ip", "filter", "DOCKER-USER")
rule("ip", "filter", "FORWARD", [{"jump": {"target": "DOCKER-USER"}}])
rule("ip", "filter", "FORWARD", [m(meta("oifname"), "docker0"), m({"ct": {"key": "state"}}, ["established", "related"], "in"),
                                 {"accept": None}])
rule("ip", "filter", "FORWARD", [m(meta("oifname"), "docker0"), {"jump": {"target": "DOCKER"}}])
rule("ip", "filter", "FORWARD", [m(meta("iifname"), "docker0"), {"accept": None}])
rule("ip", "filter", "DOCKER-USER", [{"return": None}])
for i in range(ports):
    rule("ip", "filter", "DOCKER", [m(meta("iifname"), "docker0", "!="), m(meta("oifname"), "docker0"),
                                    m(payload("ip", "daddr"), ctr_ip(i)), m(payload("tcp", "dport"), 80),
                                    {"accept": None}])
table("inet", "admin")
chain("inet", "admin", "input", type="filter", hook="input", prio=0, policy="accept")
chain("inet", "admin", "forward", type="filter", hook="forward", prio=-10, policy="accept")
chain("inet", "admin", "blocklist")
rule("inet", "admin", "input", [m({"ct": {"key": "state"}}, ["established", "related"], "in"), {"accept": None}])
rule("inet", "admin", "input", [{"jump": {"target": "blocklist"}}])
rule("inet", "admin", "forward", [m({"ct": {"key": "state"}}, ["established", "related"], "in"), {"accept": None}])
rule("inet", "admin", "forward", [{"jump": {"target": "blocklist"}}])
rest = max(0, rules_total - 2 * ports - 12)
per_port = min(rest // 10, 2000)
for i in range(per_port):
    rule("inet", "admin", "input", [m(payload("tcp", "dport"), 20000 + i), m(payload("ip", "saddr"),
                                     {"prefix": {"addr": f"10.{i // 256 % 256}.{i % 256}.0", "len": 24}}),
                                     {"accept": None}])
for i in range(rest - per_port):
    rule("inet", "admin", "blocklist", [m(payload("ip", "saddr"), f"100.{64 + i // 65536 % 64}.{i // 256 % 256}.{i % 256}"),
                                        {"drop": None}])

for c in range(max(1, ports // 10)):
    ports_of = []
    for i in range(c * 10, min(ports, c * 10 + 10)):
        for hip in ("0.0.0.0", "::"):
            ports_of.append({"container_port": 80, "protocol": "tcp", "host_ip": hip, "host_port": 10000 + i})
            sockets.append({"protocol": "tcp", "family": 6 if hip == "::" else 4, "address": hip, "port": 10000 + i,
                            "inode": 1, "uid": 0, "pid": 1000 + i, "process": "docker-proxy"})
    containers.append({"id": f"{c:064x}", "name": f"app{c}", "image": "app", "state": "running", "running": True,
                       "pid": 1, "labels": {}, "compose_project": "", "compose_service": "", "network_mode": "default",
                       "networks": [{"network": "bridge", "network_id": "n", "ipv4": ctr_ip(c * 10), "ipv4_prefix_len": 16,
                                     "ipv6": "", "ipv6_prefix_len": 0, "gateway": "172.17.0.1", "ipv6_gateway": "",
                                     "aliases": []}],
                       "ports": ports_of, "ports_requested": ports_of, "publish_all": False})

iface = lambda idx, name, addrs, **k: dict({"index": idx, "name": name, "up": True, "loopback": name == "lo", "kind": "",
                                             "master": "", "addresses": addrs}, **k)
addr = lambda fam, a, l, sc="global": {"family": fam, "address": a, "prefix_len": l, "scope": sc}
route = lambda fam, table, typ, dst, dev, gw="": {"family": fam, "table": table, "type": typ, "dst": dst, "gateway": gw,
                                                  "dev": dev, "prefsrc": "", "metric": 0}
snap = {
    "schema_version": 1, "tool": {"name": "dockfw-audit", "version": "bench"}, "collected_at": "2026-01-01T00:00:00Z",
    "collectors": {k: {"status": "ok", "reason": ""} for k in ("host", "nftables", "docker_config", "docker_api")} |
                  {"iptables_legacy": {"status": "absent", "reason": "none"}},
    "host": {"hostname": "bench", "kernel": "6.18", "netns": "net:[1]",
             "interfaces": [iface(1, "lo", [addr(4, "127.0.0.1", 8, "host"), addr(6, "::1", 128, "host")]),
                            iface(2, "eth0", [addr(4, "203.0.113.1", 24), addr(6, "2001:db8:1::1", 64)]),
                            iface(3, "eth1", [addr(4, "198.51.100.1", 24)]),
                            iface(4, "docker0", [addr(4, "172.17.0.1", 16)], kind="bridge")],
             "routes": [route(4, "main", "unicast", "0.0.0.0/0", "eth0", "203.0.113.254"),
                        route(4, "main", "unicast", "203.0.113.0/24", "eth0"),
                        route(4, "main", "unicast", "198.51.100.0/24", "eth1"),
                        route(4, "main", "unicast", "172.17.0.0/16", "docker0"),
                        route(6, "main", "unicast", "2001:db8:1::/64", "eth0"),
                        route(6, "main", "unicast", "::/0", "eth0", "2001:db8:1::fffe")],
             "policy_rules": [],
             "sysctls": {"net/ipv4/ip_forward": "1", "net/ipv6/conf/all/forwarding": "0",
                         "net/bridge/bridge-nf-call-iptables": "1", "net/bridge/bridge-nf-call-ip6tables": "1"},
             "listening_sockets": sockets, "socket_owners_complete": True,
             "nftables_config": {"path": "/etc/nftables.conf", "present": False}},
    "nftables": {"version": "1.0.6", "json_schema_version": 1, "generation": 1, "ruleset": R, "undecoded_xt": []},
    "iptables_legacy": {"ipv4": {"status": "absent", "tables": []}, "ipv6": {"status": "absent", "tables": []}},
    "docker_config": {"dockerd": None, "dockerd_in_other_namespaces": 0,
                      "daemon_json": {"path": "/etc/docker/daemon.json", "source": "default", "present": False}},
    "docker_api": {"endpoint": "unix:///var/run/docker.sock", "engine_version": "20.10.24", "api_version": "1.41",
                   "os": "linux", "arch": "amd64", "containers": containers,
                   "networks": [{"id": "n", "name": "bridge", "driver": "bridge", "scope": "local", "internal": False,
                                 "enable_ipv6": False, "bridge": "docker0",
                                 "subnets": [{"subnet": "172.17.0.0/16", "gateway": "172.17.0.1"}], "options": {},
                                 "labels": {}, "compose_project": "", "enable_icc": True,
                                 "enable_ip_masquerade": True, "host_binding_ipv4": "", "gateway_mode_ipv4": "",
                                 "gateway_mode_ipv6": ""}]},
}
rules = sum(1 for o in R if "rule" in o)
print(json.dumps(snap))
print(f"{rules} rules, {ports} published ports", file=sys.stderr)
