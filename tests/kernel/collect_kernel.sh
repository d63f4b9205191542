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

# 2. A namespace with everything loaded.
ns=$(dfa_netns_new dfak)
dfa_on_exit "ip netns del $ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns nft -f "$fx/ruleset.nft"
in_ns iptables-legacy-restore <"$fx/legacy-v4.rules"
in_ns ip6tables-legacy-restore <"$fx/legacy-v6.rules"
in_ns iptables-nft-restore <"$fx/nft-compat-v4.rules"
in_ns ip6tables-nft-restore <"$fx/nft-compat-v6.rules"

before_nft=$(in_ns nft list ruleset)
before_legacy=$(in_ns iptables-legacy-save | grep -v '^#'; in_ns ip6tables-legacy-save | grep -v '^#')
in_ns "$DFA_BIN" collect -o "$tmp/snap.json"
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
