#!/usr/bin/env python3
"""Writes the nftables tables Docker 29 writes with "firewall-backend":
"nftables" (ip docker-bridges, ip6 docker-bridges) for the networks and
containers a lab Docker daemon holds.

Docker 29 has no Debian package yet. The lab runs Debian's 28.5 dockerd with
"iptables": false and "ip6tables": false, so that it creates bridges,
containers and docker-proxy but no rules, and loads these tables in their
place. Their shape follows moby's own generated documentation of them
(integration/network/bridge/nftablesdoc/generated/: new-daemon,
usernet-portmap, -lo, -noproxy, -noicc, -natunprot, -internal); docs/lab.md
says how that was checked and what is not covered (routed gateway mode,
swarm, --bridge-accept-fwmark).

  docker29.py NETWORKS.json CONTAINERS.json DAEMON.json > tables.nft

NETWORKS.json is `docker network inspect` of every network, CONTAINERS.json
`docker inspect` of every running container. The output replaces both
tables atomically (nft -f).
"""
import ipaddress
import json
import sys

MAPS = ("filter-forward-in-jumps", "filter-forward-out-jumps", "nat-postrouting-in-jumps", "nat-postrouting-out-jumps")


def bridge_name(net):
    opts = net.get("Options") or {}
    if opts.get("com.docker.network.bridge.name"):
        return opts["com.docker.network.bridge.name"]
    return "docker0" if net["Name"] == "bridge" else "br-" + net["Id"][:12]


def opt_bool(net, key, default):
    v = (net.get("Options") or {}).get(key)
    return default if v is None else v == "true"


def render(networks, containers, daemon):
    proxy = daemon.get("userland-proxy", True)
    out = []
    for fam, kw, lo, ver in (("ip", "ip", "127.0.0.0/8", 4), ("ip6", "ip6", "::1", 6)):
        nets = []
        for n in networks:
            if n.get("Driver") != "bridge":
                continue
            subnets = [c["Subnet"] for c in (n.get("IPAM") or {}).get("Config") or []
                       if ipaddress.ip_network(c["Subnet"], strict=False).version == ver]
            if not subnets or (ver == 6 and not n.get("EnableIPv6")):
                continue
            mode = (n.get("Options") or {}).get(f"com.docker.network.bridge.gateway_mode_ipv{ver}", "nat")
            if mode not in ("nat", "nat-unprotected"):
                sys.exit(f"docker29.py: gateway mode {mode} of network {n['Name']} is not replayed")
            # The default bridge takes icc and ip-masq from the daemon (28.5
            # with "iptables": false marks its masquerade off; Docker 29 does not).
            default = n["Name"] == "bridge"
            nets.append({
                "name": n["Name"], "bridge": bridge_name(n), "subnets": subnets, "mode": mode,
                "internal": bool(n.get("Internal")),
                "icc": daemon.get("icc", True) if default else opt_bool(n, "com.docker.network.bridge.enable_icc", True),
                "masq": daemon.get("ip-masq", True) if default
                else opt_bool(n, "com.docker.network.bridge.enable_ip_masquerade", True),
                "endpoints": [],
            })
        by_name = {n["name"]: n for n in nets}
        for c in containers:
            if not c["State"]["Running"]:
                continue
            for net_name, ep in (c["NetworkSettings"].get("Networks") or {}).items():
                n = by_name.get(net_name)
                addr = ep.get("IPAddress") if ver == 4 else ep.get("GlobalIPv6Address")
                if n and addr:
                    n["endpoints"].append((c, addr))

        def bindings(c):
            for spec, hosts in sorted((c["NetworkSettings"].get("Ports") or {}).items()):
                port, proto = spec.split("/")
                for h in hosts or []:
                    yield int(port), proto, h.get("HostIp", ""), int(h["HostPort"])

        dnat, raw = [], []
        chains = []
        for n in nets:
            b = n["bridge"]
            fwd_in = ["ct state established,related counter accept"]
            if n["internal"]:
                fwd_in.append(f'iifname != "{b}" counter drop comment "INTERNAL NETWORK INGRESS"')
                fwd_in.append(f'counter {"accept" if n["icc"] else "drop"} comment "ICC"')
            else:
                fwd_in.append(f'iifname "{b}" counter {"accept" if n["icc"] else "drop"} comment "ICC"')
            post_in = []
            if not proxy and not n["internal"]:
                post_in.append('fib saddr type local counter masquerade comment "MASQUERADE FROM HOST"')
            for c, addr in n["endpoints"]:
                # As 28.5 does (scenario 19): no raw drop for an internal network's endpoints.
                if n["mode"] == "nat" and not n["internal"]:
                    raw.append(f'{kw} daddr {addr} iifname != "{b}" counter drop comment "DROP DIRECT ACCESS"')
                if n["internal"]:
                    continue
                for cport, proto, hip, hport in bindings(c):
                    # A binding of the other family is docker-proxy's alone
                    # (an IPv6 binding to a container without IPv6).
                    if hip and ipaddress.ip_address(hip).version != ver:
                        continue
                    if n["mode"] == "nat":
                        fwd_in.append(f"{kw} daddr {addr} {proto} dport {cport} counter accept")
                    daddr = "" if not hip or ipaddress.ip_address(hip).is_unspecified else f"{kw} daddr {hip} "
                    to = f"{addr}:{cport}" if ver == 4 else f"[{addr}]:{cport}"
                    iif = f'iifname != "{b}" ' if proxy else ""
                    dnat.append(f'{iif}{daddr}{proto} dport {hport} counter dnat to {to} comment "DNAT"')
                    if hip and ipaddress.ip_address(hip).is_loopback:
                        raw.append(f'iifname != "lo" {daddr}{proto} dport {hport} counter drop comment "DROP REMOTE LOOPBACK"')
                    if not proxy:
                        post_in.append(f"{kw} saddr {addr} {kw} daddr {addr} {proto} dport {cport} counter masquerade "
                                       'comment "MASQ TO OWN PORT"')
            if not n["internal"]:
                fwd_in.append('counter accept comment "UNPROTECTED"' if n["mode"] == "nat-unprotected"
                              else 'counter drop comment "UNPUBLISHED PORT DROP"')
            fwd_out = ["ct state established,related counter accept",
                       f'oifname != "{b}" counter drop comment "INTERNAL NETWORK EGRESS"' if n["internal"]
                       else 'counter accept comment "OUTGOING"']
            post_out = []
            if n["masq"] and not n["internal"]:
                for sub in n["subnets"]:
                    post_out.append(f'oifname != "{b}" {kw} saddr {sub} counter masquerade comment "MASQUERADE"')
            chains += [(f"filter-forward-in__{b}", fwd_in), (f"filter-forward-out__{b}", fwd_out),
                       (f"nat-postrouting-in__{b}", post_in), (f"nat-postrouting-out__{b}", post_out)]

        t = f"{fam} docker-bridges"
        out.append(f"add table {t}\ndelete table {t}\ntable {t} {{")
        for m in MAPS:
            kind = m.split("-jumps")[0]
            elems = ", ".join(f'"{n["bridge"]}" : jump {kind}__{n["bridge"]}' for n in nets)
            out.append(f"\tmap {m} {{\n\t\ttype ifname : verdict\n" +
                       (f"\t\telements = {{ {elems} }}\n" if elems else "") + "\t}")

        def chain(name, rules, base=""):
            body = "".join(f"\t\t{r}\n" for r in rules)
            out.append(f"\tchain {name} {{\n" + (f"\t\t{base}\n" if base else "") + body + "\t}")

        out_cond = "" if not proxy else f"{kw} daddr != {lo} "
        chain("filter-FORWARD", ["oifname vmap @filter-forward-in-jumps", "iifname vmap @filter-forward-out-jumps"],
              "type filter hook forward priority filter; policy accept;")
        chain("nat-OUTPUT", [f"{out_cond}fib daddr type local counter jump nat-prerouting-and-output"],
              # dstnat, which Debian 12's nft (1.0.6) does not name on this hook.
              "type nat hook output priority -100; policy accept;")
        chain("nat-POSTROUTING", ["iifname vmap @nat-postrouting-out-jumps", "oifname vmap @nat-postrouting-in-jumps"],
              "type nat hook postrouting priority srcnat; policy accept;")
        chain("nat-PREROUTING", ["fib daddr type local counter jump nat-prerouting-and-output"],
              "type nat hook prerouting priority dstnat; policy accept;")
        chain("nat-prerouting-and-output", dnat)
        chain("raw-PREROUTING", raw, "type filter hook prerouting priority raw; policy accept;")
        for name, rules in chains:
            chain(name, rules)
        out.append("}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    nets = json.load(open(sys.argv[1]))
    ctrs = json.load(open(sys.argv[2]))
    daemon = json.load(open(sys.argv[3]))
    sys.stdout.write(render(nets, ctrs, daemon))
