#!/usr/bin/env bash
# Drift end to end, run the way the scheduled unit runs it: the ExecStart line
# of packaging/systemd/dockfw-audit-drift.service (with this test's paths) on
# the lab host of scenario 1. Each change a host goes through is made for real
# (a new published port, a dockerd restart, a flush and reload of the
# nftables configuration, a daemon.json edit) and must show up with its rule
# and severity; reachability claims are checked with real packets; after each
# change is undone a run must print nothing and exit 0.
set -euo pipefail
: "${DFA_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DFA_BIN:=$DFA_SRC/build/dockfw-audit}"
export DFA_SRC DFA_BIN
source "$DFA_SRC/tests/lib.sh"
source "$DFA_SRC/tests/lab/lab.sh"
dfa_require_netns
command -v dockerd >/dev/null || dfa_skip "dockerd is not installed"
dfa_tmpdir tmp
dfa_on_exit lab_down
source "$DFA_SRC/fixtures/scenarios/01-bypass-nft/scenario.sh"
LAB_BACKEND=$SCENARIO_BACKEND LAB_DAEMON_JSON=$SCENARIO_DAEMON_JSON lab_up dr || dfa_fail "lab did not come up"
scenario_setup
# The admin's nftables.conf holds the same input chain, Debian style (it
# starts with flush ruleset; DFA009 reports it where nftables.service is
# enabled or its state cannot be read).
cat >"$LAB_DIR/nftables.conf" <<'NFT'
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 8080 drop
	}
}
NFT
sleep 0.5
export DOCKER_HOST="unix://$LAB_DIR/docker.sock"
common="--nftables-config $LAB_DIR/nftables.conf"
lab_host "$DFA_BIN" baseline save "$tmp/baseline.json" $common || dfa_fail "baseline save failed"

# The unit's command, with its environment set the way systemd would.
unit=$DFA_SRC/packaging/systemd/dockfw-audit-drift.service
cmdline=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$cmdline" ] || dfa_fail "no ExecStart in $unit"
cmdline=${cmdline//\/usr\/local\/sbin\/dockfw-audit/\"\$DFA_BIN\"}
export DFA_BASELINE=$tmp/baseline.json DFA_PROM=$tmp/dockfw_audit.prom
failures=0
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
# ... and with only the capabilities the unit keeps (CapabilityBoundingSet):
# a capability it needs and lacks would make a collector "denied" and the
# run noisy, so every quiet run below checks the set too.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
[ -n "$caps" ] || dfa_fail "no CapabilityBoundingSet in $unit"
# run_unit [EXTRA OPTIONS]: sets rc; standard output in $tmp/out.
run_unit() {
  rc=0
  DFA_OPTIONS="$common $*" lab_host setpriv --bounding-set "-all,$caps" --inh-caps=-all \
    bash -c "$cmdline" >"$tmp/out" 2>"$tmp/err" || rc=$?
}
quiet() {
  run_unit
  # Nothing on either stream: a timer's journal and cron's mail take both.
  if [ "$rc" != 0 ] || [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
    fail "$1: want no output and exit 0, got exit $rc:"
    head -20 "$tmp/out" "$tmp/err"
  else
    echo "ok   $1: quiet, exit 0"
  fi
}
# changed STEP RULE SEVERITY TEXT...: a change of RULE with SEVERITY whose
# message contains every TEXT (in the JSON report of the last run_unit).
changed() {
  local got
  got=$(python3 - "$tmp/out" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rule, sev, texts = sys.argv[3], sys.argv[4], sys.argv[5:]
hits = [c for c in doc["changes"] if c["rule_id"] == rule and all(t in c["message"] for t in texts)]
print("ok" if hits and all(c["severity"] == sev for c in hits) else
      "no change %s (%s) containing %r among: %s" % (rule, sev, texts,
      "; ".join(c["rule_id"] + " " + c["message"][:200] for c in doc["changes"])))
PY
  )
  if [ "$got" = ok ]; then echo "ok   $1: $2 $3 \"${*:4}\""; else fail "$1: $got"; fi
}
# probe FROM ADDR PORT: "open ANSWER" or "closed", from a real TCP connection.
probe() {
  printf '[{"dst": "%s", "port": %s, "proto": "tcp"}]' "$2" "$3" >"$tmp/t.json"
  "lab_$1" python3 "$DFA_SRC/tests/lab/probe.py" "$tmp/t.json" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print((r["result"] + " " + r["answer"]).strip())'
}
expect_probe() { # STEP FROM ADDR PORT WANT
  local got
  got=$(probe "$2" "$3" "$4")
  if [ "$got" = "$5" ]; then echo "ok   $1: real packet $2 -> $3:$4: $got"; else fail "$1: real packet $2 -> $3:$4: $got, want $5"; fi
}

# 0. Nothing changed: quiet, and the metrics say when it ran.
quiet "unchanged"
expect_probe "unchanged" wan 172.17.0.2 443 "closed"
grep -qE '^dockfw_audit_last_success_timestamp_seconds\{command="drift"\} [0-9]{10}$' "$DFA_PROM" ||
  fail "unchanged: no last-success time in $DFA_PROM"
grep -qE '^dockfw_audit_findings\{command="drift",severity="high"\} 0$' "$DFA_PROM" || fail "unchanged: metrics count changes"

# 1. docker compose up, in effect: a new container publishes 9090.
lab_run_web db -p 9090:80
sleep 0.5
run_unit --format json
[ "$rc" = 1 ] || fail "new port: exit $rc, want 1"
changed "new port" DFA101 high "db 0.0.0.0:9090->80/tcp is now open at" "203.0.113.1:9090/tcp" "203.0.113.0/24 on eth0" \
  "(at the baseline: not there)"
changed "new port" DFA107 low "container db appeared"
expect_probe "new port" wan 203.0.113.1 9090 "open db"
grep -qE '^dockfw_audit_findings\{command="drift",severity="high"\} [1-9]' "$DFA_PROM" || fail "new port: metrics show no high change"
run_unit
[ "$rc" = 1 ] && grep -q 'DFA101' "$tmp/out" || fail "new port: the text report (exit $rc) does not name DFA101"
lab_docker rm -f db >/dev/null
sleep 0.5
quiet "new port removed"

# 2. dockerd restarts: containers without a restart policy stay stopped.
lab_dockerd_restart || dfa_fail "dockerd did not restart"
sleep 0.5
run_unit --format json
[ "$rc" = 1 ] || fail "dockerd restart: exit $rc, want 1"
changed "dockerd restart" DFA102 info "web 0.0.0.0:8080->80/tcp was open at" "203.0.113.1:8080/tcp"
changed "dockerd restart" DFA107 low "container web stopped"
changed "dockerd restart" DFA108 info "no longer found: DFA001"
expect_probe "dockerd restart" wan 203.0.113.1 8080 "closed"
lab_docker start web >/dev/null
sleep 0.5
quiet "web started again"

# 3. The firewall is reloaded from nftables.conf: flush ruleset takes
# Docker's iptables-nft rules with it.
lab_host nft -f "$LAB_DIR/nftables.conf"
run_unit --format json
[ "$rc" = 1 ] || fail "nftables reload: exit $rc, want 1"
changed "nftables reload" DFA102 info "web 0.0.0.0:8080->80/tcp was open at" "203.0.113.1:8080/tcp"
changed "nftables reload" DFA104 low "nft ip nat chain DOCKER: is gone"
expect_probe "nftables reload" wan 203.0.113.1 8080 "closed"
# Restarting Docker brings its rules back, but not all of them: Docker 20.10
# sets the FORWARD policy to drop only when it turns ip_forward on itself,
# and forwarding is already on. Containers are now reachable directly.
lab_dockerd_restart || dfa_fail "dockerd did not restart"
lab_docker start web >/dev/null
sleep 0.5
run_unit --format json
[ "$rc" = 1 ] || fail "Docker restarted after the reload: exit $rc, want 1"
changed "Docker restarted after the reload" DFA104 low "nft ip filter chain FORWARD:" "policy drop ->" "policy accept"
changed "Docker restarted after the reload" DFA005 high "new since the baseline: container web is reachable directly at 172.17.0.2:* (unpublished ports)"
expect_probe "Docker restarted after the reload" wan 203.0.113.1 8080 "open web"
expect_probe "Docker restarted after the reload" wan 172.17.0.2 443 "open web"
lab_host iptables-nft -P FORWARD DROP
quiet "FORWARD policy restored"
expect_probe "FORWARD policy restored" wan 172.17.0.2 443 "closed"

# 4. daemon.json is edited (dockerd applies it at its next start).
printf '{\n  "userland-proxy": false\n}\n' >"$LAB_DIR/daemon.json"
run_unit --format json
[ "$rc" = 1 ] || fail "daemon.json: exit $rc, want 1"
changed "daemon.json" DFA105 medium "\"userland-proxy\": (unset) -> false"
python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["changes"] if c["rule_id"]=="DFA105"][0]; sys.exit(0 if c["location"]["file"]==sys.argv[2] and c["location"]["line"]==2 else 1)' \
  "$tmp/out" "$LAB_DIR/daemon.json" || fail "daemon.json: the change does not point at $LAB_DIR/daemon.json:2"
run_unit --fail-on high
[ "$rc" = 0 ] || fail "daemon.json: --fail-on high exit $rc, want 0 (the change is medium)"
printf '{}\n' >"$LAB_DIR/daemon.json"
quiet "daemon.json restored"

# The cron entry runs the same command.
cron=$(grep -E '^[0-9*]' "$DFA_SRC/packaging/cron/dockfw-audit" | cut -d' ' -f7-)
cron=${cron//\/usr\/local\/sbin\/dockfw-audit/\"\$DFA_BIN\"}
cron=${cron//\/var\/lib\/dockfw-audit\/baseline.json/\$DFA_BASELINE}
cron=${cron//\/var\/lib\/prometheus\/node-exporter\/dockfw_audit.prom/\$DFA_PROM}
rc=0
lab_host bash -c "$cron $common" >"$tmp/out" 2>"$tmp/err" || rc=$?
# Quiet means nothing on either stream: cron mails standard error too.
{ [ "$rc" = 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; } && echo "ok   cron entry: quiet, exit 0" || fail "cron entry: exit $rc: $(head -5 "$tmp/out" "$tmp/err")"

# The unit files themselves are valid for systemd (with the binary's real path).
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/units"
  sed "s|/usr/local/sbin/dockfw-audit|$DFA_BIN|" "$unit" >"$tmp/units/dockfw-audit-drift.service"
  cp "$DFA_SRC/packaging/systemd/dockfw-audit-drift.timer" "$DFA_SRC/packaging/systemd/dockfw-audit-alert@.service" "$tmp/units/"
  if out=$(cd "$tmp/units" && systemd-analyze verify --man=no ./dockfw-audit-drift.service ./dockfw-audit-drift.timer \
    ./dockfw-audit-alert@.service 2>&1) && [ -z "$out" ]; then
    echo "ok   systemd-analyze verify"
  else
    fail "systemd-analyze verify: $out"
  fi
  # Hardened: systemd's own exposure rating of the service below 4 ("OK").
  level=$(cd "$tmp/units" && systemd-analyze security --offline=true ./dockfw-audit-drift.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l < 4) }'; then
    echo "ok   systemd-analyze security: $level"
  else
    fail "systemd-analyze security: exposure ${level:-unknown}, want below 4"
  fi
fi
echo "drift: $failures failures"
[ "$failures" = 0 ]
