#!/usr/bin/env bash
# Runs one lab scenario (fixtures/scenarios/NAME/scenario.sh): brings up the
# lab, applies the scenario, collects a snapshot inside the Docker host, and
# probes every cell of the matrix (tests/lab/matrix.py) with real packets.
#
#   scenario.sh record NAME   write fixtures/scenarios/NAME/{snapshot,observed}.json
#   scenario.sh check NAME    run afresh and compare with the committed files
#
# DFA_LAB_DOCKER=VERSION (20.10, 26.1, 28.5; tests/lab/docker-version.sh; 29,
# a replay of its nftables tables on 28.5, lab.sh)
# runs the scenario on that Docker; its files are then in NAME/docker-VERSION/
# (20.10's, the first recorded, stay in NAME/).
#
# A scenario file sets SCENARIO_BACKEND (nft|legacy), SCENARIO_DAEMON_JSON
# and defines scenario_setup, which uses the lab functions (docs/lab.md).
set -eEuo pipefail
# A command that ends the run under errexit says which (a failure in CI once
# left no output at all).
trap 'echo "scenario.sh: exit $? at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
mode=${1:?usage: scenario.sh record|check NAME}
name=${2:?usage: scenario.sh record|check NAME}
: "${DFA_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DFA_BIN:=$DFA_SRC/build/dockfw-audit}"
export DFA_SRC DFA_BIN
source "$DFA_SRC/tests/lib.sh"
source "$DFA_SRC/tests/lab/lab.sh"
dir="$DFA_SRC/fixtures/scenarios/$name"
[ -f "$dir/scenario.sh" ] || dfa_fail "no scenario $dir/scenario.sh"
docker_version=${DFA_LAB_DOCKER:-20.10}
out_dir=$dir
[ "$docker_version" = 20.10 ] || out_dir=$dir/docker-$docker_version
dfa_require_netns
command -v dockerd >/dev/null || dfa_skip "dockerd is not installed"
SCENARIO_BACKEND=nft
SCENARIO_DAEMON_JSON='{}'
SCENARIO_DOCKER_VERSIONS=""
source "$dir/scenario.sh"
# A scenario of features older Dockers lack names the versions it runs on;
# Docker 29's replay (lab.sh) runs only where a scenario names it.
if [[ " ${SCENARIO_DOCKER_VERSIONS:-20.10 26.1 28.5} " != *" $docker_version "* ]]; then
  dfa_skip "scenario $name runs on Docker ${SCENARIO_DOCKER_VERSIONS:-20.10 26.1 28.5} only"
fi
dfa_tmpdir tmp
root_before=$(lab_root_fingerprint)
dfa_on_exit lab_down
# Set for the whole run, not for lab_up alone: later lab functions read them.
LAB_DOCKER=$docker_version LAB_BACKEND=$SCENARIO_BACKEND LAB_DAEMON_JSON=$SCENARIO_DAEMON_JSON
lab_up sc || dfa_fail "lab did not come up"
scenario_setup
lab_settle # docker-proxy, late rules, IPv6 duplicate address detection

# The lab host's own nftables.conf and ufw (a scenario may set them up), not the machine's.
lab_host "$DFA_BIN" collect --pretty --docker-host "unix://$LAB_DIR/docker.sock" $(lab_config_options) \
  -o "$tmp/snapshot.json" 2>"$tmp/collect.err" ||
  dfa_fail "collect failed: $(cat "$tmp/collect.err")"
python3 "$DFA_SRC/tests/lab/matrix.py" plan "$tmp/snapshot.json" >"$tmp/plan.json"
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
for source, targets in json.load(open(f"{d}/plan.json")).items():
    json.dump(targets, open(f"{d}/targets-{source.replace(':', '_')}.json", "w"))
PY
probe=$DFA_SRC/tests/lab/probe.py
# The outside hosts answer containers' egress probes (matrix.py); in a
# subshell, so that lab_down's kill makes no job notice.
(lab_wan python3 "$DFA_SRC/tests/lab/tcp_answer.py" wan 80 >/dev/null 2>&1 &)
(lab_lan python3 "$DFA_SRC/tests/lab/tcp_answer.py" lan 80 >/dev/null 2>&1 &)
for i in $(seq 1 50); do
  lab_wan python3 -c 'import socket; socket.create_connection(("203.0.113.2", 80), 1)' 2>/dev/null &&
    lab_lan python3 -c 'import socket; socket.create_connection(("198.51.100.2", 80), 1)' 2>/dev/null && break
  sleep 0.1
done
pids=()
for f in "$tmp"/targets-*.json; do
  src=$(basename "$f" .json)
  src=${src#targets-}
  out="$tmp/result-${src/_/:}.json"
  case $src in
    wan) lab_wan python3 "$probe" "$f" >"$out" & ;;
    lan) lab_lan python3 "$probe" "$f" >"$out" & ;;
    host) lab_host python3 "$probe" "$f" >"$out" & ;;
    container_*)
      pid=$(lab_docker inspect -f '{{.State.Pid}}' "${src#container_}")
      nsenter --net="/proc/$pid/ns/net" python3 "$probe" "$f" >"$out" &
      ;;
  esac
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || dfa_fail "a probe run failed"; done
python3 "$DFA_SRC/tests/lab/matrix.py" merge "$tmp" >"$tmp/observed.json"
# The snapshot names the lab's temporary directory; fixtures use one fixed path.
sed -i "s#$LAB_DIR#/run/dfa-lab#g" "$tmp/snapshot.json"

# Nothing of the machine's own firewall, sysctls or configuration changed.
[ "$(lab_root_fingerprint)" = "$root_before" ] || dfa_fail "the root namespace's firewall, sysctls or ufw/firewalld files changed during $name"

case $mode in
  record)
    mkdir -p "$out_dir"
    cp "$tmp/snapshot.json" "$tmp/observed.json" "$out_dir/"
    echo "recorded $name on Docker $docker_version: $(grep -c '"result": "open"' "$out_dir/observed.json") open of $(grep -c '"result"' "$out_dir/observed.json") cells"
    ;;
  check)
    rc=0
    if ! diff -u "$out_dir/observed.json" "$tmp/observed.json" >"$tmp/observed.diff"; then
      echo "FAIL $name: observed reachability differs from the committed matrix:"
      head -60 "$tmp/observed.diff"
      rc=1
    fi
    python3 "$DFA_SRC/tests/lab/matrix.py" normalize "$out_dir/snapshot.json" /run/dfa-lab >"$tmp/want.norm"
    python3 "$DFA_SRC/tests/lab/matrix.py" normalize "$tmp/snapshot.json" /run/dfa-lab >"$tmp/got.norm"
    if ! diff -u "$tmp/want.norm" "$tmp/got.norm" >"$tmp/snapshot.diff"; then
      echo "FAIL $name: the snapshot differs from the committed one (after normalizing):"
      head -60 "$tmp/snapshot.diff"
      rc=1
    fi
    [ $rc = 0 ] && echo "ok $name on Docker $docker_version: $(grep -c '"result"' "$tmp/observed.json") cells as committed"
    exit $rc
    ;;
  *) dfa_fail "unknown mode $mode" ;;
esac
