#!/usr/bin/env bash
# SARIF from scan on every lab scenario, from drift and with suppressions must pass Microsoft's SARIF multitool
# (npm @microsoft/sarif-multitool) with no errors, its GitHub rule kind (Ghas) enabled; and, written with
# --artifact and --sarif-root as a CI job would, at least 90% of the results must have a file location
# that code scanning shows: a relative URI to a file that exists, at a line it has. Skips (77) without npm.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
command -v npm >/dev/null || dfa_skip "npm is not installed"
tool_dir=${DFA_SARIF_TOOL_DIR:-$DFA_SRC/build/sarif-multitool}
if [ ! -x "$tool_dir/node_modules/.bin/sarif-multitool" ]; then
  mkdir -p "$tool_dir"
  # Pinned: 4.x aborts on start as an npm package; 5.7.0 is the one checked here.
  (cd "$tool_dir" && timeout 600 npm install --no-audit --no-fund --silent @microsoft/sarif-multitool@5.7.0 >/dev/null) ||
    dfa_skip "could not install @microsoft/sarif-multitool from npm"
fi
# npm may refuse the package's postinstall script that makes the tool executable.
find "$tool_dir/node_modules/@microsoft" -name Sarif.Multitool -type f -exec chmod u+x {} + 2>/dev/null || true
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
dfa_tmpdir tmp
failures=0
# Besides every scenario's scan: a drift report (scenario 7 as the baseline,
# scenario 1 now) and a scan with suppressions (SARIF results[].suppressions).
scenarios=$DFA_SRC/fixtures/scenarios
"$DFA_BIN" baseline save "$tmp/base.json" --snapshot "$scenarios/07-forward-guard/snapshot.json"
"$DFA_BIN" drift --baseline "$tmp/base.json" --snapshot "$scenarios/01-bypass-nft/snapshot.json" --format sarif \
  --fail-on none -o "$tmp/drift-07-to-01.sarif" --artifact "$tmp/drift-07-to-01.host.txt" --sarif-root "$tmp"
printf '{"schema_version": 1, "suppressions": [{"rule": "DFA003", "match": "web", "justification": "lab"}]}' >"$tmp/sup.json"
"$DFA_BIN" scan --snapshot "$scenarios/01-bypass-nft/snapshot.json" --format sarif --fail-on none \
  --suppressions "$tmp/sup.json" -o "$tmp/suppressed-01.sarif"
grep -q '"suppressions"' "$tmp/suppressed-01.sarif" || { echo "FAIL suppressed-01: no suppressions in the SARIF"; exit 1; }
mkdir -p "$tmp/artifacts"
# Every recording of every Docker version (NAME/ and NAME/docker-VERSION/).
for snap in "$scenarios"/*/snapshot.json "$scenarios"/*/docker-*/snapshot.json; do
  rel=${snap#"$scenarios"/}
  rel=${rel%/snapshot.json}
  (cd "$tmp" && "$DFA_BIN" scan --snapshot "$snap" --format sarif --fail-on none -o "${rel//\//_}.sarif" \
    --artifact "artifacts/${rel//\//_}.txt" --sarif-root .)
done
# Where code scanning can show a result (GitHub's GH1001/GH1005: a physical
# location whose URI is relative to the repository).
python3 - "$tmp" <<'PY' || failures=$((failures + 1))
import json, os, sys
root = sys.argv[1]
total = shown = 0
for name in sorted(os.listdir(root)):
    if not name.endswith(".sarif") or name.startswith("suppressed"):
        continue
    for res in json.load(open(os.path.join(root, name)))["runs"][0]["results"]:
        total += 1
        phys = res["locations"][0].get("physicalLocation")
        if not phys:
            continue
        uri = phys["artifactLocation"]["uri"]
        if uri.startswith("file:") or uri.startswith("/"):
            continue
        path = os.path.join(root, uri)
        if not os.path.isfile(path):
            sys.exit(f"FAIL {name}: {uri} does not exist")
        line = phys.get("region", {}).get("startLine", 1)
        with open(path) as f:
            n = sum(1 for _ in f)
        if not 1 <= line <= n:
            sys.exit(f"FAIL {name}: {uri} has {n} lines, the result points at {line}")
        shown += 1
share = shown / total if total else 0
print(f"sarif locations: {shown} of {total} results ({share:.0%}) point at a line of a file beside the report")
if total == 0 or share < 0.9:
    sys.exit("FAIL fewer than 90% of SARIF results have a file location")
PY
# One run of the multitool over every file: it starts in about 1.5 s, which
# per file was most of this test's five minutes. Its lines name the file.
sarifs=("$tmp"/*.sarif)
if ! out=$(cd "$tool_dir" && npx --no-install sarif-multitool validate --rule-kind '"Ghas;Sarif"' "${sarifs[@]}" 2>&1); then
  echo "FAIL the multitool did not run: $out"
  failures=$((failures + 1))
elif ! grep -qxF "Done. ${#sarifs[@]} files scanned." <<<"$out"; then
  echo "FAIL the multitool did not scan all ${#sarifs[@]} files: $out"
  failures=$((failures + 1))
elif grep -E ': error |error SARIF|ERROR' <<<"$out"; then
  failures=$((failures + $(grep -cE ': error |error SARIF|ERROR' <<<"$out")))
else
  echo "ok   ${#sarifs[@]} SARIF files ($(grep -c 'warning' <<<"$out" || true) warnings)"
fi
echo "sarif: $failures failures"
[ "$failures" = 0 ]
