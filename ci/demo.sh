#!/usr/bin/env bash
# The built-in demo (README, first command): installs what is needed, builds
# dockfw-audit, brings up a lab Docker host in network namespaces showing the
# classic bypass, proves it with real packets, and runs dockfw-audit on it.
# Touches nothing outside the namespaces it creates, and removes them on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the lab creates network namespaces" >&2; exit 2; }
bash ci/install-deps.sh
bash ci/build.sh build >/dev/null
bin=$PWD/build/dockfw-audit
source tests/lab/lab.sh
trap lab_down EXIT

echo "== Bringing up a lab Docker host (dockerd $(dockerd --version | cut -d' ' -f3 | tr -d ,), iptables-nft) in network namespaces"
scenario=fixtures/scenarios/01-bypass-nft/scenario.sh
source "$scenario"
LAB_BACKEND=$SCENARIO_BACKEND LAB_DAEMON_JSON=$SCENARIO_DAEMON_JSON lab_up demo >/dev/null
scenario_setup
echo "   lab scenario $scenario: container 'web' publishes -p 8080:80"
echo "== The admin's nftables firewall drops tcp dport 8080 in an input chain:"
lab_host nft list table inet filter | sed 's/^/   /'

probe() { # LABEL URL
  if out=$(lab_wan curl -s -m 3 "$2"); then
    printf '   %-46s OPEN   (answered: %s)\n' "$1" "$out"
  else
    printf '   %-46s closed\n' "$1"
  fi
}
echo "== Real packets from an outside host (wan, 203.0.113.2 / 2001:db8:1::2):"
probe "IPv4 http://203.0.113.1:8080/" "http://203.0.113.1:8080/"
probe "IPv6 http://[2001:db8:1::1]:8080/" "http://[2001:db8:1::1]:8080/"
cat <<'TXT'
   IPv4 reaches the container although the input chain drops 8080: Docker's
   DNAT in nat PREROUTING turns the packet into forwarded traffic, so the
   input hook never sees it. IPv6 has no DNAT here; it goes to docker-proxy
   through the input hook, and the drop applies.
TXT

echo "== dockfw-audit collect, then scan, run inside the lab host:"
snap=$LAB_DIR/snapshot.json
lab_host "$bin" collect --docker-host "unix://$LAB_DIR/docker.sock" --nftables-config "$LAB_DIR/nftables.conf" \
  -o "$snap" 2>/dev/null
lab_host "$bin" scan --snapshot "$snap" --fail-on none | sed 's/^/   /'
echo "== dockfw-audit explain: why does IPv4 from the WAN reach the container?"
lab_host "$bin" explain --snapshot "$snap" --from 203.0.113.2 --to 203.0.113.1:8080/tcp | sed 's/^/   /'
echo "== ... and why is IPv6 blocked?"
lab_host "$bin" explain --snapshot "$snap" --from 2001:db8:1::2 --to '[2001:db8:1::1]:8080/tcp' | sed 's/^/   /'
echo "== dockfw-audit remediate: an nftables table that closes the hole (written, never loaded by the tool):"
lab_host "$bin" remediate --snapshot "$snap" -o "$LAB_DIR/guard.nft"
sed 's/^/   /' "$LAB_DIR/guard.nft"
echo "== The admin loads it in the lab host (nft -c first), and the outside host tries again:"
lab_host nft -c -f "$LAB_DIR/guard.nft" && lab_host nft -f "$LAB_DIR/guard.nft"
probe "IPv4 http://203.0.113.1:8080/" "http://203.0.113.1:8080/"
probe "IPv6 http://[2001:db8:1::1]:8080/" "http://[2001:db8:1::1]:8080/"
echo "== Snapshot and script written under $LAB_DIR (removed with the lab). Done."
