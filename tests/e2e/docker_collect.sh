#!/usr/bin/env bash
# End to end: a real dockerd (Debian's docker.io) in a lab namespace, with
# containers on the default bridge and a user-defined network, a 127.0.0.1
# binding, a UDP port and a port range. `dockfw-audit collect` inside the
# host namespace must report the containers, bindings, bridges, Docker's DNAT
# rules with their destinations (whichever iptables backend Docker drove),
# and the docker-proxy sockets.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
source "$DFA_SRC/tests/lab/lab.sh"
dfa_require_netns
command -v dockerd >/dev/null || dfa_skip "dockerd is not installed"
LAB_BACKEND=${DFA_BACKEND:-nft}
dfa_tmpdir tmp
dfa_on_exit lab_down
lab_up e2e || dfa_fail "lab did not come up"

lab_docker network create front >/dev/null
lab_docker network create back >/dev/null
lab_run_web web -p 8080:80
lab_run_web app --network front -p 8443:443
lab_run_web local -p 127.0.0.1:9090:80
lab_run_web ranged -p 7000-7002:7000-7002
lab_run_web pick -p 7100-7105:80
lab_run_udp_echo dns 53 -p 5353:53/udp
lab_docker run -d --name both --network front dfa-busybox:latest sleep 100000 >/dev/null
lab_docker network connect back both

# The lab is real: the published port answers an outside host.
body=$(lab_wan curl -s -m 5 http://203.0.113.1:8080/) || dfa_fail "wan cannot reach the published port"
[ "$body" = web ] || dfa_fail "unexpected answer from :8080: $body"
reply=$(lab_udp_probe "$LAB_WAN" 203.0.113.1 5353)
[ "$reply" = dns ] || dfa_fail "wan gets no UDP answer from :5353 (got '$reply')"

lab_host "$DFA_BIN" collect --docker-host "unix://$LAB_DIR/docker.sock" -o "$tmp/snap.json" 2>"$tmp/collect.err" ||
  dfa_fail "collect failed: $(cat "$tmp/collect.err")"
lab_host "$DFA_BIN" summary --snapshot "$tmp/snap.json" >"$tmp/summary.txt"
lab_host ip -j addr >"$tmp/addr.json"
python3 "$DFA_SRC/tests/e2e/check_docker_snapshot.py" "$tmp/snap.json" "$LAB_BACKEND" "$LAB_DIR/daemon.json" ||
  { cat "$tmp/summary.txt"; exit 1; }

# scan on the live host (it collects itself): published ports open to any
# address are high findings, so the default --fail-on high exits 1, and the
# SARIF names them.
rc=0
lab_host "$DFA_BIN" scan --docker-host "unix://$LAB_DIR/docker.sock" --nftables-config "$LAB_DIR/nftables.conf" \
  --format sarif -o "$tmp/scan.sarif" 2>"$tmp/scan.err" || rc=$?
[ "$rc" = 1 ] || dfa_fail "live scan exited $rc, want 1: $(cat "$tmp/scan.err")"
python3 - "$tmp/scan.sarif" <<'PY' || dfa_fail "live scan SARIF lacks the expected findings"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["results"]
ids = {x["ruleId"] for x in r}
assert {"DFA003", "DFA005", "DFA006"} <= ids, ids  # open ports, direct access, the 127.0.0.1 binding
PY
