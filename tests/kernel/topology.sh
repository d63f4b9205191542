# A small host without Docker for kernel-level analyzer tests (the
# differential test and the edge cases). Source after tests/lib.sh.
#
#   wan 203.0.113.2 2001:db8:1::2 --- eth0 host (203.0.113.1 2001:db8:1::1)
#                                      docker0 172.17.0.1 fd00:d0c::1 --- ctr 172.17.0.2 fd00:d0c::2
# The host answers on tcp 22, 80, 8080, 9000 ("host:PORT"); ctr on 80, 5432
# ("ctr:PORT"); wan routes 172.17.0.0/16 and fd00:d0c::/64 to the host.
# topo_up sets TOPO_H, TOPO_W, TOPO_C; topo_reset empties every firewall.

topo_up() {
  TOPO_H=$(dfa_netns_new dfth); dfa_on_exit "ip netns pids $TOPO_H | xargs -r kill -9; ip netns del $TOPO_H"
  TOPO_W=$(dfa_netns_new dftw); dfa_on_exit "ip netns del $TOPO_W"
  TOPO_C=$(dfa_netns_new dftc); dfa_on_exit "ip netns pids $TOPO_C | xargs -r kill -9; ip netns del $TOPO_C"
  local H=$TOPO_H W=$TOPO_W C=$TOPO_C
  ip link add eth0 netns "$H" type veth peer name eth0 netns "$W"
  ip link add veth0 netns "$H" type veth peer name eth0 netns "$C"
  ip -n "$H" link add docker0 type bridge
  ip -n "$H" link set veth0 master docker0
  for l in eth0 veth0 docker0; do ip -n "$H" link set "$l" up; done
  ip -n "$W" link set eth0 up
  ip -n "$C" link set eth0 up
  ip -n "$H" addr add 203.0.113.1/24 dev eth0
  ip -n "$H" addr add 2001:db8:1::1/64 dev eth0 nodad
  ip -n "$H" addr add 172.17.0.1/16 dev docker0
  ip -n "$H" addr add fd00:d0c::1/64 dev docker0 nodad
  ip -n "$W" addr add 203.0.113.2/24 dev eth0
  ip -n "$W" addr add 2001:db8:1::2/64 dev eth0 nodad
  ip -n "$W" route add 172.17.0.0/16 via 203.0.113.1
  ip -n "$W" -6 route add fd00:d0c::/64 via 2001:db8:1::1
  ip -n "$C" addr add 172.17.0.2/16 dev eth0
  ip -n "$C" addr add fd00:d0c::2/64 dev eth0 nodad
  ip -n "$C" route add default via 172.17.0.1
  ip -n "$C" -6 route add default via fd00:d0c::1
  ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ip netns exec "$H" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
  ip netns exec "$H" python3 "$DFA_SRC/tests/lab/tcp_answer.py" host 22 80 8080 9000 &
  ip netns exec "$C" python3 "$DFA_SRC/tests/lab/tcp_answer.py" ctr 80 5432 &
  sleep 0.5
}

topo_reset() {
  local H=$TOPO_H t
  ip netns exec "$H" nft flush ruleset
  for t in filter nat raw mangle; do
    ip netns exec "$H" iptables-legacy -t $t -F 2>/dev/null || true
    ip netns exec "$H" iptables-legacy -t $t -X 2>/dev/null || true
    ip netns exec "$H" ip6tables-legacy -t $t -F 2>/dev/null || true
    ip netns exec "$H" ip6tables-legacy -t $t -X 2>/dev/null || true
  done
  ip netns exec "$H" iptables-legacy -P FORWARD ACCEPT 2>/dev/null || true
  ip netns exec "$H" ip6tables-legacy -P FORWARD ACCEPT 2>/dev/null || true
  ip netns exec "$H" sysctl -qw net.ipv4.conf.all.route_localnet=0 net.ipv4.conf.eth0.route_localnet=0
  ip netns exec "$H" sysctl -qw net.ipv4.conf.all.rp_filter=0
  ip -n "$H" route del 203.0.113.2/32 2>/dev/null || true
  ip netns exec "$H" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
  # A case whose rules dropped neighbour discovery leaves FAILED neighbour
  # entries behind; the next case must start from an empty cache, as the
  # analyzer assumes nothing about it.
  # Policy routing of the cases: their rules (preferences 100-109) and table 100.
  local pref fam
  for fam in -4 -6; do
    for pref in $(seq 100 109); do ip -n "$H" $fam rule del pref "$pref" 2>/dev/null || true; done
    ip -n "$H" $fam route flush table 100 2>/dev/null || true
  done
  local ns
  for ns in "$TOPO_H" "$TOPO_W" "$TOPO_C"; do ip -n "$ns" neigh flush all 2>/dev/null || true; done
}
