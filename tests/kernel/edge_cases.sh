#!/usr/bin/env bash
# Edge cases of the packet-path semantics (fixtures/edge-cases/*.case, from
# ../shared/NETFILTER.md section 11): each expected outcome is checked against
# dockfw-audit explain on a snapshot of the host and against a real packet.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_require_netns
dfa_tmpdir tmp
source "$DFA_SRC/tests/kernel/topology.sh"
topo_up
failures=0 checks=0
for f in "$DFA_SRC"/fixtures/edge-cases/*.case; do
  name=$(basename "$f" .case)
  CASE_NFT='' CASE_LEGACY4='' CASE_SYSCTLS='' CASE_SETUP=''
  CASE_PROBES=()
  source "$f"
  topo_reset
  [ -n "$CASE_NFT" ] && ip netns exec "$TOPO_H" nft -f - <<<"$CASE_NFT"
  [ -n "$CASE_LEGACY4" ] && ip netns exec "$TOPO_H" iptables-legacy-restore <<<"$CASE_LEGACY4"
  [ -n "$CASE_SYSCTLS" ] && ip netns exec "$TOPO_H" sysctl -qw $CASE_SYSCTLS
  [ -n "$CASE_SETUP" ] && ip netns exec "$TOPO_H" sh -ec "$CASE_SETUP"
  ip netns exec "$TOPO_H" "$DFA_BIN" collect --docker-host unix:///nonexistent -o "$tmp/snap.json" 2>/dev/null
  for probe in "${CASE_PROBES[@]}"; do
    read -r src dst want answer <<<"$probe"
    checks=$((checks + 1))
    got=$("$DFA_BIN" explain --snapshot "$tmp/snap.json" --from "$src" --iif eth0 --to "$dst" --format json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["outcome"])')
    if [ "$got" != "$want" ]; then
      echo "FAIL $name: explain $src -> $dst: $got, want $want"
      "$DFA_BIN" explain --snapshot "$tmp/snap.json" --from "$src" --iif eth0 --to "$dst" | sed 's/^/    /'
      failures=$((failures + 1))
      continue
    fi
    addr=${dst%:*}
    addr=${addr#[}
    addr=${addr%]}
    port=${dst##*:}
    port=${port%/*}
    printf '[{"dst": "%s", "port": %s, "proto": "tcp"}]' "$addr" "$port" >"$tmp/t.json"
    real=$(ip netns exec "$TOPO_W" python3 "$DFA_SRC/tests/lab/probe.py" "$tmp/t.json" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["result"], r["answer"])')
    if [ "$want" = uncertain ]; then
      # Not judged (the outcome depends on what no snapshot shows); the real
      # packet's answer is printed so a reader sees what the kernel did.
      echo "ok   $name: $src -> $dst uncertain (a real packet: $real)"
    elif [ "$want" = delivered ] && [ "$real" != "open $answer" ]; then
      echo "FAIL $name: real packet $src -> $dst: $real, want open $answer"
      failures=$((failures + 1))
    elif [ "$want" = dropped ] && [ "${real%% *}" != closed ]; then
      echo "FAIL $name: real packet $src -> $dst: $real, want closed"
      failures=$((failures + 1))
    else
      echo "ok   $name: $src -> $dst $want ${answer:-}"
    fi
  done
done
echo "edge cases: $checks probes, $failures failures"
[ "$failures" = 0 ]
