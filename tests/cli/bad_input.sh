#!/usr/bin/env bash
# Bad input and hostile environments: each case gives a clear message that
# names the file and position where there is one, the documented exit code,
# and no crash.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_require_netns
dfa_tmpdir tmp
ns=$(dfa_netns_new dfab)
dfa_on_exit "ip netns del $ns"
in_ns() { ip netns exec "$ns" "$@"; }

failures=0
# expect NAME WANT_EXIT STDERR_PATTERN -- CMD...
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local rc=0
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, want $want; stderr: $(cat "$tmp/err")"
    failures=$((failures + 1))
  elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/err"; then
    echo "FAIL $name: stderr lacks /$pattern/: $(cat "$tmp/err")"
    failures=$((failures + 1))
  elif [ "$rc" -ge 128 ]; then
    echo "FAIL $name: crashed (exit $rc)"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
snapshot_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# daemon.json with a syntax error: collected as an error with its position;
# --strict turns it into exit 3, and the snapshot is still written.
printf '{\n  "iptables": false,\n  "ipv6": true\n  "userland-proxy": false\n}\n' >"$tmp/broken.json"
nosock="unix://$tmp/none.sock"
expect daemon-json-syntax 0 "docker_config: error: $tmp/broken.json:4:3: " -- \
  in_ns "$DFA_BIN" collect --daemon-config "$tmp/broken.json" --docker-host "$nosock" -o "$tmp/s1.json"
[ "$(snapshot_field "$tmp/s1.json" "d['collectors']['docker_config']['status']")" = error ] ||
  { echo "FAIL daemon-json-syntax: status not error"; failures=$((failures + 1)); }
expect daemon-json-strict 3 "--strict" -- \
  in_ns "$DFA_BIN" collect --strict --daemon-config "$tmp/broken.json" --docker-host "$nosock" -o "$tmp/s2.json"
[ -s "$tmp/s2.json" ] || { echo "FAIL daemon-json-strict: no snapshot written"; failures=$((failures + 1)); }
printf '{ "iptables": "false" }\n' >"$tmp/typed.json"
expect daemon-json-type 0 "$tmp/typed.json:1:15: \"iptables\" must be a boolean" -- \
  in_ns "$DFA_BIN" collect --daemon-config "$tmp/typed.json" --docker-host "$nosock" -o "$tmp/s3.json"
expect daemon-json-missing 0 "docker_config: error: $tmp/nope.json: cannot open" -- \
  in_ns "$DFA_BIN" collect --daemon-config "$tmp/nope.json" --docker-host "$nosock" -o "$tmp/s4.json"

# Docker socket: absent, refusing, unsupported scheme.
expect docker-absent 0 "docker_api: absent: no Docker socket at $tmp/none.sock" -- \
  in_ns "$DFA_BIN" collect --docker-host "$nosock" -o "$tmp/s5.json"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$tmp/dead.sock"
expect docker-refused 0 "docker_api: error: cannot reach the Docker API at unix://$tmp/dead.sock: Connection refused \(is dockerd running\?\)" -- \
  in_ns "$DFA_BIN" collect --docker-host "unix://$tmp/dead.sock" -o "$tmp/s6.json"
expect docker-host-env 0 "unsupported Docker host \"ssh://somewhere\"" -- \
  env DOCKER_HOST=ssh://somewhere ip netns exec "$ns" "$DFA_BIN" collect -o "$tmp/s7.json"

# Without CAP_NET_ADMIN: the firewall collectors say denied and why.
expect no-cap-net-admin 0 "nftables: denied: listing the nftables ruleset needs CAP_NET_ADMIN" -- \
  in_ns setpriv --bounding-set -net_admin --inh-caps -net_admin "$DFA_BIN" collect --docker-host "$nosock" -o "$tmp/s8.json"
grep -q "iptables_legacy: denied" "$tmp/err" || { echo "FAIL no-cap-net-admin: legacy not denied"; failures=$((failures + 1)); }

# Snapshots: malformed, newer schema, structurally wrong, missing.
printf '{\n  "schema_version": 1,\n  "collectors": {\n    "host": {"status": "ok"},,\n  }\n}\n' >"$tmp/bad-syntax.json"
expect snapshot-syntax 2 "$tmp/bad-syntax.json:4:30: syntax error" -- "$DFA_BIN" summary --snapshot "$tmp/bad-syntax.json"
printf '{"schema_version": 7, "collectors": {}}\n' >"$tmp/newer.json"
expect snapshot-newer 2 "snapshot schema 7 is newer than this dockfw-audit supports" -- "$DFA_BIN" summary --snapshot "$tmp/newer.json"
printf '{"schema_version": 1, "collectors": {"nftables": {"status": "ok"}}, "nftables": {"ruleset": {}}}\n' >"$tmp/shape.json"
expect snapshot-shape 2 "$tmp/shape.json: /nftables/ruleset: expected an array, found object" -- "$DFA_BIN" summary --snapshot "$tmp/shape.json"
expect snapshot-missing 2 "$tmp/absent.json: cannot open: No such file or directory" -- "$DFA_BIN" summary --snapshot "$tmp/absent.json"

# Hostile inputs: each refused at once with exit 2, within a bounded time
# (timeout fails the case with 124) and memory (ulimit -v: 2 GiB).
bounded() { (ulimit -v 2097152; timeout 20 "$@"); }
mkfifo "$tmp/fifo"
expect snapshot-fifo 2 "$tmp/fifo: a FIFO, not a regular file; name a file, or - for standard input" -- \
  bounded "$DFA_BIN" scan --snapshot "$tmp/fifo"
expect snapshot-dev-zero 2 "/dev/zero: a character device, not a regular file" -- bounded "$DFA_BIN" scan --snapshot /dev/zero
expect baseline-fifo 2 "$tmp/fifo: a FIFO" -- bounded "$DFA_BIN" drift --baseline "$tmp/fifo" --snapshot "$tmp/fifo"
expect suppressions-dev-zero 2 "/dev/zero: a character device" -- \
  bounded "$DFA_BIN" scan --snapshot "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" --suppressions /dev/zero
expect policy-fifo 2 "$tmp/fifo: a FIFO" -- \
  bounded "$DFA_BIN" remediate --snapshot "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" --policy "$tmp/fifo"
python3 -c 'import sys; sys.stdout.write("[" * 200000000)' >"$tmp/brackets.json"
expect snapshot-200mb-brackets 2 "$tmp/brackets.json:1:257: nested deeper than 256 levels" -- \
  bounded "$DFA_BIN" summary --snapshot "$tmp/brackets.json"
rm -f "$tmp/brackets.json"
python3 -c 'import sys; sys.stdout.write("{\"schema_version\": 1, \"collectors\": {}, \"x\": " + "[" * 100000 + "]" * 100000 + "}")' >"$tmp/deep.json"
expect snapshot-deep 2 "$tmp/deep.json:1:" -- bounded "$DFA_BIN" summary --snapshot "$tmp/deep.json"
printf '{"schema_version": 1, "collectors": {}, "collected_at": 1e309}\n' >"$tmp/huge-number.json"
expect snapshot-number-range 2 "$tmp/huge-number.json:1:57: number 1e309 is out of range" -- \
  bounded "$DFA_BIN" summary --snapshot "$tmp/huge-number.json"
printf '{\n  "iptables": %s true %s\n}\n' "$(printf '[%.0s' $(seq 1 300))" "$(printf ']%.0s' $(seq 1 300))" >"$tmp/deep-daemon.json"
expect daemon-json-deep 0 "docker_config: error: $tmp/deep-daemon.json:2:" -- \
  bounded ip netns exec "$ns" "$DFA_BIN" collect --daemon-config "$tmp/deep-daemon.json" --docker-host "$nosock" -o "$tmp/s-deep.json"
expect daemon-json-fifo 0 "docker_config: error: $tmp/fifo: a FIFO" -- \
  bounded ip netns exec "$ns" "$DFA_BIN" collect --daemon-config "$tmp/fifo" --docker-host "$nosock" -o "$tmp/s-fifo.json"
python3 - "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" "$tmp/typo.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["host"]["listening_sockets"][1]["port"] = "8080"
json.dump(s, open(sys.argv[2], "w"))
PY
expect snapshot-member-type 2 "$tmp/typo.json: /host/listening_sockets/1/port: expected a whole number from 0, found string" -- \
  "$DFA_BIN" scan --snapshot "$tmp/typo.json"
# The snapshot from standard input.
expect snapshot-stdin 1 "" -- sh -c "\"\$0\" scan --snapshot - <\"\$1\" >/dev/null" "$DFA_BIN" "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json"

# A Docker API that answers in shapes Docker never uses: that collector is
# an error saying so, and collection goes on (exit 0, snapshot written).
fake_docker() {  # fake_docker SOCKET VERSION_BODY CONTAINERS_BODY INSPECT_BODY
  python3 - "$@" >/dev/null 2>&1 <<'PY' &
import http.server, socketserver, sys, os
sock, version, containers, inspect = sys.argv[1:5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = version if self.path.endswith("/version") else containers if "/containers/json" in self.path \
            else inspect if self.path.startswith("/containers/") else "[]"
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body.encode())
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    def get_request(self): return self.socket.accept()[0], ("local", 0)
S(sock, H).serve_forever()
PY
  local pid=$!
  for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
  echo "$pid"
}
# docker_case NAME STDERR_PATTERN VERSION_BODY CONTAINERS_BODY INSPECT_BODY: collect
# against a fake Docker answering so; the host collector must still be ok.
docker_case() {
  local name=$1 pattern=$2 pid
  pid=$(fake_docker "$tmp/$name.sock" "$3" "$4" "$5")
  dfa_on_exit "kill $pid"
  expect "$name" 0 "$pattern" -- in_ns "$DFA_BIN" collect --docker-host "unix://$tmp/$name.sock" -o "$tmp/$name.json"
  [ "$(snapshot_field "$tmp/$name.json" "d['collectors']['host']['status']")" = ok ] ||
    { echo "FAIL $name: collection did not go on"; failures=$((failures + 1)); }
  kill "$pid"
}
docker_case docker-api-version-shape "docker_api: error: Docker API /version: expected an object" '"a string"' '[]' '{}'
docker_case docker-api-inspect-shape "docker_api: error: Docker API /containers/abc/json: expected an object with \"Name\"" \
  '{"Version": "28.5.2"}' '[{"Id": "abc"}]' '{"Name": 5, "State": [], "NetworkSettings": 7}'
docker_case docker-api-version-type "docker_api: error: the Docker API answered in a shape" '{"Version": 5}' '[]' '{}'
docker_case docker-api-bad-id "docker_api: error: Docker API /containers/json: an entry without a valid Id" \
  '{"Version": "28.5.2"}' '[{"Id": "../../version"}]' '{}'

# Output: a device is written to, never replaced; a planted link under the
# old temporary name is never followed.
expect output-dev-null 1 "" -- "$DFA_BIN" scan --snapshot "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" -o /dev/null
[ -c /dev/null ] || { echo "FAIL output-dev-null: /dev/null is no longer a character device"; failures=$((failures + 1)); }
ln -s "$tmp/victim" "$tmp/report.txt.tmp"
expect output-planted-link 1 "" -- "$DFA_BIN" scan --snapshot "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" -o "$tmp/report.txt"
[ ! -e "$tmp/victim" ] && [ -s "$tmp/report.txt" ] ||
  { echo "FAIL output-planted-link: the report went through the link"; failures=$((failures + 1)); }

# explain: malformed destinations and sources are usage errors.
snap1="$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json"
expect explain-no-port 2 "expected ADDR:PORT/PROTO" -- "$DFA_BIN" explain --snapshot "$snap1" --from 203.0.113.2 --to 203.0.113.1
expect explain-v6-brackets 2 "IPv6 as \[ADDR\]:PORT/PROTO" -- "$DFA_BIN" explain --snapshot "$snap1" --from 2001:db8:1::2 --to 2001:db8:1::1:8080/tcp
expect explain-proto 2 "protocol must be tcp or udp" -- "$DFA_BIN" explain --snapshot "$snap1" --from 203.0.113.2 --to 203.0.113.1:8080/sctp
expect explain-port 2 "port must be 1-65535" -- "$DFA_BIN" explain --snapshot "$snap1" --from 203.0.113.2 --to 203.0.113.1:70000/tcp
expect explain-family 2 "same address family" -- "$DFA_BIN" explain --snapshot "$snap1" --from 203.0.113.2 --to '[2001:db8:1::1]:8080/tcp'
expect explain-source 2 "expected an address, host, host:ADDR or container:NAME" -- "$DFA_BIN" explain --snapshot "$snap1" --from wan --to 203.0.113.1:8080/tcp
expect explain-no-container 2 "no such container in the snapshot \(web\)" -- "$DFA_BIN" explain --snapshot "$snap1" --from container:nope --to 203.0.113.1:8080/tcp
expect explain-bad-snapshot 2 "$tmp/bad-syntax.json:4:30" -- "$DFA_BIN" explain --snapshot "$tmp/bad-syntax.json" --from 203.0.113.2 --to 203.0.113.1:8080/tcp

# scan: exit codes follow --fail-on (scenario 1 has high findings, no critical).
expect scan-fail-high 1 "" -- "$DFA_BIN" scan --snapshot "$snap1" -o "$tmp/scan.txt"
expect scan-fail-critical 0 "" -- "$DFA_BIN" scan --snapshot "$snap1" --fail-on critical -o "$tmp/scan.txt"
expect scan-fail-none 0 "" -- "$DFA_BIN" scan --snapshot "$snap1" --fail-on none --format sarif -o "$tmp/scan.sarif"
expect scan-fail-bogus 2 "fail-on" -- "$DFA_BIN" scan --snapshot "$snap1" --fail-on severe
expect scan-jsonl 0 "" -- "$DFA_BIN" scan --snapshot "$snap1" --format jsonl --fail-on none -o "$tmp/scan.jsonl"
"$DFA_BIN" scan --snapshot "$snap1" --format json --fail-on none -o "$tmp/scan-whole.json"
if python3 - "$tmp/scan.jsonl" "$tmp/scan-whole.json" <<'PY'; then echo "ok   scan-jsonl-lines"; else echo "FAIL scan-jsonl-lines"; failures=$((failures + 1)); fi
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
whole = json.load(open(sys.argv[2]))
assert len(lines) == len(whole["findings"]) > 0, (len(lines), len(whole["findings"]))
for l, f in zip(lines, whole["findings"]):
    assert l["command"] == "scan" and l["host"] == whole["host"], l
    # The whole report names each step once (steps) and a path by indexes.
    f = dict(f, path=[whole["steps"][i] for i in f["path"]])
    assert {k: v for k, v in l.items() if k not in ("command", "host")} == f, l["rule_id"]
PY
expect scan-fail-uppercase 0 "" -- "$DFA_BIN" scan --snapshot "$snap1" --fail-on CRITICAL -o "$tmp/scan.txt"
expect command-mistyped 2 'unknown command "scna" \(did you mean "scan"\?\)' -- "$DFA_BIN" scna --snapshot "$snap1"
expect command-unknown 2 'unknown command "frobnicate"; the commands are: scan, collect' -- "$DFA_BIN" frobnicate
expect scan-format-bogus 2 "format" -- "$DFA_BIN" scan --snapshot "$snap1" --format xml
expect scan-unwritable 4 "$tmp/nope/r.txt: cannot write" -- "$DFA_BIN" scan --snapshot "$snap1" -o "$tmp/nope/r.txt"
expect scan-bad-snapshot 2 "$tmp/newer.json: /schema_version" -- "$DFA_BIN" scan --snapshot "$tmp/newer.json"

# baseline and drift: a run with no change prints nothing and exits 0; a
# change exits 1 (--fail-on info by default); broken baselines and
# suppression files name the file and position and exit 2.
snap7="$DFA_SRC/fixtures/scenarios/07-forward-guard/snapshot.json"
expect baseline-save 0 "" -- "$DFA_BIN" baseline save "$tmp/base.json" --snapshot "$snap1"
expect drift-none 0 "" -- "$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$snap1"
[ ! -s "$tmp/out" ] || { echo "FAIL drift-none printed: $(head -3 "$tmp/out")"; failures=$((failures + 1)); }
expect drift-change 1 "" -- "$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$snap7"
grep -q '^dockfw-audit drift since the baseline of' "$tmp/out" || { echo "FAIL drift-change printed no report"; failures=$((failures + 1)); }
expect drift-fail-critical 0 "" -- "$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$snap7" --fail-on critical
expect drift-sarif 1 "" -- "$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$snap7" --format sarif -o "$tmp/drift.sarif"
expect baseline-missing 2 "$tmp/nobase.json: " -- "$DFA_BIN" drift --baseline "$tmp/nobase.json" --snapshot "$snap1"
sed -E 's/"schema_version": ?[0-9]+/"schema_version":7/' "$tmp/base.json" >"$tmp/base-newer.json"
expect baseline-newer 2 "$tmp/base-newer.json: /schema_version: baseline schema 7 is newer" -- \
  "$DFA_BIN" drift --baseline "$tmp/base-newer.json" --snapshot "$snap1"
head -c 300 "$tmp/base.json" >"$tmp/base-cut.json"
expect baseline-corrupt 2 "$tmp/base-cut.json:[0-9]+:[0-9]+: " -- "$DFA_BIN" drift --baseline "$tmp/base-cut.json" --snapshot "$snap1"
expect baseline-is-snapshot 2 "$snap1: /kind: not a dockfw-audit baseline" -- "$DFA_BIN" drift --baseline "$snap1" --snapshot "$snap1"
expect baseline-unwritable 4 "cannot write" -- "$DFA_BIN" baseline save "$tmp/nope/base.json" --snapshot "$snap1"
expect baseline-no-file 2 "" -- "$DFA_BIN" baseline save --snapshot "$snap1"
printf '{\n  "schema_version": 1,\n  "suppressions": [\n    {"rule": "DFA003" "justification": "x"}\n  ]\n}\n' >"$tmp/sup-syntax.json"
printf '{"schema_version": 1, "suppressions": [{"rule": "DFA003", "justification": "x", "expires": "2027-02-31"}]}\n' >"$tmp/sup-date.json"
expect suppressions-no-such-day 2 'must be a date YYYY-MM-DD, found "2027-02-31"' -- "$DFA_BIN" scan --snapshot "$snap1" --suppressions "$tmp/sup-date.json"
expect suppressions-syntax 2 "$tmp/sup-syntax.json:4:23: " -- "$DFA_BIN" scan --snapshot "$snap1" --suppressions "$tmp/sup-syntax.json"
printf '{"schema_version": 1, "suppressions": [\n  {"rule": "DFA003", "justification": ""}]}\n' >"$tmp/sup-empty.json"
expect suppressions-no-justification 2 "$tmp/sup-empty.json:2:3: suppression 1: \"justification\" is required" -- \
  "$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$snap1" --suppressions "$tmp/sup-empty.json"
# Every finding of scenario 1 suppressed: the scan passes its gate.
printf '{"schema_version": 1, "suppressions": [{"rule": "*", "match": "", "fingerprint": "", "justification": "x"}]}' >"$tmp/sup-all.json"
expect suppressions-match-required 2 "needs a \"fingerprint\" or a \"match\"" -- "$DFA_BIN" scan --snapshot "$snap1" --suppressions "$tmp/sup-all.json"
printf '{"schema_version": 1, "suppressions": [{"rule": "*", "match": "web", "justification": "lab"}, {"rule": "*", "match": " ", "justification": "lab"}]}' >"$tmp/sup-all.json"
expect suppressions-all 0 "" -- "$DFA_BIN" scan --snapshot "$snap1" --suppressions "$tmp/sup-all.json" -o "$tmp/scan-sup.txt"
grep -q 'suppressed' "$tmp/scan-sup.txt" || { echo "FAIL suppressions-all: report does not say suppressed"; failures=$((failures + 1)); }
expect prometheus-unwritable 4 "cannot write" -- "$DFA_BIN" scan --snapshot "$snap1" --fail-on none -o "$tmp/s.txt" --prometheus "$tmp/nope/x.prom"

# remediate: the script on stdout (exit 0 when no hole remains), a policy
# that keeps the bypassed port open leaves a hole (exit 1, named), broken
# policy files and the owner style on a host where Docker writes its own
# rules are input errors (exit 2), an unwritable output exit 4.
expect remediate-ok 0 "" -- "$DFA_BIN" remediate --snapshot "$snap1"
grep -q '^table inet dockfw_guard {' "$tmp/out" || { echo "FAIL remediate-ok: no table in the script"; failures=$((failures + 1)); }
printf '{"schema_version": 1, "published": [{"port": "8080/tcp", "allow": ["any"]}]}' >"$tmp/policy-open.json"
expect remediate-hole-left 1 "hole\(s\) remain" -- "$DFA_BIN" remediate --snapshot "$snap1" --policy "$tmp/policy-open.json"
printf '{"schema_version": 1, "published": [{"port": "http", "allow": []}]}' >"$tmp/policy-bad.json"
expect remediate-policy-bad 2 "$tmp/policy-bad.json: /published/0/port: expected PORT/tcp" -- \
  "$DFA_BIN" remediate --snapshot "$snap1" --policy "$tmp/policy-bad.json"
printf '{"schema_version": 1,\n "published": [\n' >"$tmp/policy-cut.json"
expect remediate-policy-syntax 2 "$tmp/policy-cut.json:[0-9]+:[0-9]+: " -- \
  "$DFA_BIN" remediate --snapshot "$snap1" --policy "$tmp/policy-cut.json"
expect remediate-owner-refused 2 "use --style guard" -- "$DFA_BIN" remediate --snapshot "$snap1" --style owner
expect remediate-style-bogus 2 "style" -- "$DFA_BIN" remediate --snapshot "$snap1" --style firewall
# The ufw and firewalld styles: refused without their manager (exit 2) and
# where ufw and Docker are on different backends; a script sh can read.
expect remediate-ufw-refused 2 "is ufw enabled\?" -- "$DFA_BIN" remediate --snapshot "$snap1" --style ufw
expect remediate-ufw-backends 2 "DFA016" -- "$DFA_BIN" remediate --style ufw \
  --snapshot "$DFA_SRC/fixtures/scenarios/24-ufw-legacy-docker-nft/snapshot.json"
expect remediate-firewalld-refused 2 "is firewalld running" -- "$DFA_BIN" remediate --snapshot "$snap1" --style firewalld
expect remediate-ufw-ok 0 "" -- "$DFA_BIN" remediate --style ufw \
  --snapshot "$DFA_SRC/fixtures/scenarios/22-ufw-default-deny/snapshot.json"
grep -q '^-I DOCKER-USER 1 -j dockfw-guard$' "$tmp/out" || { echo "FAIL remediate-ufw-ok: no jump"; failures=$((failures + 1)); }
expect remediate-firewalld-ok 0 "" -- "$DFA_BIN" remediate --style firewalld \
  --snapshot "$DFA_SRC/fixtures/scenarios/25-firewalld-public/snapshot.json" -o "$tmp/fw.sh"
sh -n "$tmp/fw.sh" || { echo "FAIL remediate-firewalld-ok: sh cannot read the script"; failures=$((failures + 1)); }
# Docker 20.10 DNATs IPv6 without an IPv6 DOCKER-USER: the hole stays, and says so.
expect remediate-firewalld-ipv6-left 1 "hole\(s\) remain" -- "$DFA_BIN" remediate --style firewalld \
  --snapshot "$DFA_SRC/fixtures/scenarios/27-firewalld-ipv6/snapshot.json"
expect remediate-unwritable 4 "cannot write" -- "$DFA_BIN" remediate --snapshot "$snap1" -o "$tmp/nope/g.nft"

# Usage errors and an unwritable output.
expect unknown-command 2 "" -- "$DFA_BIN" frobnicate
expect unknown-option 2 "" -- "$DFA_BIN" collect --frobnicate
expect output-unwritable 4 "$tmp/no/such/dir/s.json: cannot write" -- \
  in_ns "$DFA_BIN" collect --docker-host "$nosock" -o "$tmp/no/such/dir/s.json"
# Standard output that cannot be written (a full disk): exit 4, never 0.
to_full() { "$@" >/dev/full; }
for cmd in "exposure" "exposure --format json" "summary" "explain --from 203.0.113.2 --to 203.0.113.1:8080/tcp" \
  "scan --fail-on none" "scan --fail-on none --format json"; do
  # shellcheck disable=SC2086 # cmd is a list of words
  expect "stdout-full ${cmd%% *}" 4 "standard output: write failed: No space left on device" -- \
    to_full "$DFA_BIN" $cmd --snapshot "$snap1"
done

echo "$failures failures"
[ "$failures" = 0 ]
