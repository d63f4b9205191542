#!/usr/bin/env bash
# Kernel test: load a known nftables ruleset, iptables-legacy rules and
# iptables-nft rules (IPv4 and IPv6) into a throwaway network namespace,
# collect, and check that the snapshot holds exactly what the kernel holds,
# by comparing with nft's own JSON and with iptables-save from both backends.
# Also checks that collecting changes nothing and instantiates no table.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_require_netns
fx="$DFA_SRC/fixtures/kernel"
dfa_tmpdir tmp

# 1. A namespace with no legacy tables: collecting must not create any.
empty=$(dfa_netns_new dfak)
dfa_on_exit "ip netns del $empty"
ip netns exec "$empty" "$DFA_BIN" collect -o "$tmp/empty.json" 2>"$tmp/empty.err"
for f in ip_tables_names ip6_tables_names; do
  [ -z "$(ip netns exec "$empty" cat /proc/net/$f)" ] || dfa_fail "collect instantiated a legacy table ($f)"
done
python3 - "$tmp/empty.json" <<'PY' || dfa_fail "empty namespace: wrong iptables_legacy report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["collectors"]["iptables_legacy"]["status"] == "absent", d["collectors"]["iptables_legacy"]
assert d["iptables_legacy"]["ipv4"]["tables"] == [] and d["iptables_legacy"]["ipv6"]["tables"] == []
PY

# dockerd's children are "dockerd" too until they exec (`runc --version`
# while it answers the API, which collect asks at the same time): collect
# must take the daemon, not a child whose command line is already another
# program's, even when the child has the lower pid. Two copies of sleep
# named dockerd stand for them.
cp "$(command -v sleep)" "$tmp/dockerd"
ip netns exec "$empty" bash -c "exec -a runc '$tmp/dockerd' 60" &
child=$!
dfa_on_exit "kill $child"
sleep 0.3
ip netns exec "$empty" "$tmp/dockerd" 61 &
daemon=$!
dfa_on_exit "kill $daemon"
sleep 0.3
ip netns exec "$empty" "$DFA_BIN" collect -o "$tmp/fake.json" 2>/dev/null || true
python3 - "$tmp/fake.json" "$tmp/dockerd" <<'PY' || dfa_fail "collect took a dockerd child that had become runc for the daemon"
import json, sys
d = json.load(open(sys.argv[1]))["docker_config"]["dockerd"]
assert d and d["argv"] == [sys.argv[2], "61"] and d["candidates"] == 1, d
PY
kill "$child" "$daemon" 2>/dev/null || true

# 2. A namespace with everything loaded.
ns=$(dfa_netns_new dfak)
dfa_on_exit "ip netns del $ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns nft -f "$fx/ruleset.nft"
in_ns iptables-legacy-restore <"$fx/legacy-v4.rules"
in_ns ip6tables-legacy-restore <"$fx/legacy-v6.rules"
in_ns iptables-nft-restore <"$fx/nft-compat-v4.rules"
in_ns ip6tables-nft-restore <"$fx/nft-compat-v6.rules"

# Named sets of every shape collect reads from the kernel's own elements
# rather than through libnftables (interval and plain, IPv4 and IPv6, an
# interval up to the last address, one from the first, adjacent intervals,
# 2,000 random intervals), and ones it must leave to libnftables (a timeout,
# element comments, counters, ports): the whole listing must equal nft's.
python3 - >"$tmp/sets.nft" <<'PY'
import ipaddress, random
rnd = random.Random(18)
def intervals(bits, n):
    pts = sorted({rnd.randrange(1, 2**bits - 1) for _ in range(2 * n)})
    pts = pts[:len(pts) // 2 * 2]
    out = []
    for lo, hi in zip(pts[0::2], pts[1::2]):
        kind = rnd.choice(["single", "prefix", "range"])
        if kind == "single":
            out.append((lo, lo))
        elif kind == "prefix":
            size = 1 << rnd.randrange(1, 12)
            base = (lo + size - 1) // size * size
            out.append((base, base + size - 1) if base + size - 1 < hi else (lo, hi))
        else:
            out.append((lo, hi))
    return out
def text(lo, hi, cls):
    return str(cls(lo)) if lo == hi else f"{cls(lo)}-{cls(hi)}"
v4 = ", ".join(text(lo, hi, ipaddress.IPv4Address) for lo, hi in intervals(32, 2000))
v6 = ", ".join(text(lo, hi, ipaddress.IPv6Address) for lo, hi in intervals(128, 300))
print(f"""table inet dfa_sets {{
  set random4 {{ type ipv4_addr; flags interval; elements = {{ {v4} }}; }}
  set random6 {{ type ipv6_addr; flags interval; elements = {{ {v6} }}; }}
  set edges4 {{ type ipv4_addr; flags interval; elements = {{ 0.0.0.0/8, 10.0.0.0-10.0.0.255, 10.0.1.0/24, 10.0.2.7, 224.0.0.0-255.255.255.255 }}; }}
  set all4 {{ type ipv4_addr; flags interval; elements = {{ 0.0.0.0/0 }}; }}
  set edges6 {{ type ipv6_addr; flags interval; elements = {{ ::/16, 2001:db8::1, 2001:db8::2-2001:db8::ffff, ff00::/8 }}; }}
  set plain4 {{ type ipv4_addr; elements = {{ 203.0.113.9, 10.0.0.1, 198.51.100.7, 0.0.0.0, 255.255.255.255 }}; }}
  set plain6 {{ type ipv6_addr; elements = {{ 2001:db8::9, ::1, fe80::1 }}; }}
  set empty4 {{ type ipv4_addr; flags interval; }}
  set constant4 {{ type ipv4_addr; flags constant, interval; elements = {{ 192.0.2.0/24 }}; }}
  set timeouts {{ type ipv4_addr; flags timeout; elements = {{ 192.0.2.1 }}; }}
  set comments {{ type ipv4_addr; elements = {{ 192.0.2.2 comment "a host" }}; }}
  set counters {{ type ipv4_addr; counter; elements = {{ 192.0.2.3 }}; }}
  set ports {{ type inet_service; flags interval; elements = {{ 22, 8000-8999 }}; }}
}}""")
PY
in_ns nft -f "$tmp/sets.nft"

before_nft=$(in_ns nft list ruleset)
before_legacy=$(in_ns iptables-legacy-save | grep -v '^#'; in_ns ip6tables-legacy-save | grep -v '^#')
# DFA_NFT_ELEMENTS=kernel: an address set whose elements the kernel hands
# over plain must be decoded by dockfw-audit itself, never quietly left to
# libnftables, so the comparison below tests that decoding.
in_ns env DFA_NFT_ELEMENTS=kernel "$DFA_BIN" collect -o "$tmp/snap.json"
after_nft=$(in_ns nft list ruleset)
after_legacy=$(in_ns iptables-legacy-save | grep -v '^#'; in_ns ip6tables-legacy-save | grep -v '^#')
[ "$before_nft" = "$after_nft" ] || dfa_fail "collect changed the nftables ruleset"
[ "$before_legacy" = "$after_legacy" ] || dfa_fail "collect changed the legacy tables"

in_ns nft -j -a list ruleset >"$tmp/nft.json"
in_ns iptables-legacy-save >"$tmp/legacy4.save"
in_ns ip6tables-legacy-save >"$tmp/legacy6.save"
in_ns iptables-nft-save >"$tmp/nft4.save"
in_ns ip6tables-nft-save >"$tmp/nft6.save"
python3 "$DFA_SRC/tests/kernel/check_collect.py" "$tmp"
