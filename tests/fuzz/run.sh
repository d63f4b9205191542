#!/usr/bin/env bash
# Runs the libFuzzer targets of a DFA_FUZZ build, each seeded from fixtures/.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
# CI runs a short pass (ci/test.sh); docs/fuzzing.md has the long command.
# A crash leaves its input in BUILD_DIR/fuzz-artifacts/ and fails the run.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
secs=$2
shift 2
targets=("$@")
((${#targets[@]})) || targets=(snapshot baseline suppressions policy daemon_json proc docker xt)
work="$build/fuzz-work"
mkdir -p "$work" "$build/fuzz-artifacts"
seed() {  # seed TARGET CORPUS_DIR: the fixtures that are valid inputs of TARGET
  local t=$1 dir=$2
  mkdir -p "$dir"
  case $t in
    snapshot) for f in "$src"/fixtures/scenarios/*/snapshot.json "$src"/fixtures/scenarios/*/docker-*/snapshot.json; do
        r=${f#"$src"/fixtures/scenarios/}; r=${r%/snapshot.json}; cp "$f" "$dir/${r//\//_}.json"; done ;;
    baseline)
      for s in 01-bypass-nft 07-forward-guard 10-ipv6-ip6tables; do
        "$build/dockfw-audit" baseline save "$dir/$s.json" --snapshot "$src/fixtures/scenarios/$s/snapshot.json"
      done ;;
    suppressions)
      printf '{"schema_version": 1, "suppressions": [{"rule": "DFA001", "match": "web", "justification": "x", "expires": "2027-01-31"}]}' >"$dir/one.json"
      printf '{"schema_version": 1, "suppressions": [{"rule": "*", "fingerprint": "abc", "justification": "x"}]}' >"$dir/any.json" ;;
    policy)
      printf '{"schema_version": 1, "published": [{"port": "8080/tcp", "allow": ["198.51.100.0/24", "any"]}], "direct_routing": "deny"}' >"$dir/p.json"
      printf '{"schema_version": 1, "published": [{"port": "*", "allow": []}], "remote_loopback": "allow"}' >"$dir/q.json" ;;
    daemon_json) cp "$src"/fixtures/daemon-json/*.json "$dir/" ;;
    proc) cp "$src"/fixtures/proc/* "$src"/fixtures/firewalld/*.xml "$dir/" ;;
    docker) cp "$src"/fixtures/docker/*.json "$dir/" ;;
    xt) python3 - "$src/fixtures/xt/payloads.json" "$dir" <<'PY' ;;
import json, sys, os
names = ["tcp", "udp", "addrtype", "conntrack", "state", "physdev", "mark", "set", "comment", "multiport", "iprange",
         "limit", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "MARK", "CONNMARK", "REJECT", "LOG", "icmp", "icmp6",
         "pkttype", "connmark"]
def walk(v, out):
    if isinstance(v, dict):
        if isinstance(v.get("raw"), str) and v.get("name") in names:
            out.append(v)
        for x in v.values(): walk(x, out)
    elif isinstance(v, list):
        for x in v: walk(x, out)
found = []
walk(json.load(open(sys.argv[1])), found)
for i, e in enumerate(found):
    head = bytes([6 if e.get("family") in (6, "ipv6") else 4, 1 if e.get("kind") == "target" or e["name"].isupper() else 0,
                  names.index(e["name"]), int(e.get("revision", 0))])
    open(os.path.join(sys.argv[2], f"{i}.bin"), "wb").write(head + bytes.fromhex(e["raw"]))
PY
  esac
}
failed=0
for t in "${targets[@]}"; do
  corpus="$work/corpus-$t"
  seed "$t" "$corpus"
  echo "fuzz_$t: $secs s from $(find "$corpus" -type f | wc -l) seeds"
  if ! "$build/tests/fuzz_$t" -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 -timeout=20 \
      -artifact_prefix="$build/fuzz-artifacts/$t-" -print_final_stats=1 "$corpus" >"$work/$t.log" 2>&1; then
    echo "FAIL fuzz_$t: see $work/$t.log and $build/fuzz-artifacts/"
    tail -40 "$work/$t.log"
    failed=$((failed + 1))
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/$t.log" | tr '\n' ' '
    echo
  fi
done
echo "$((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" = 0 ]
