#!/usr/bin/env bash
# SARIF from scan on every lab scenario, from drift and with suppressions must pass Microsoft's SARIF multitool
# (npm @microsoft/sarif-multitool) with no errors. Skips (77) without npm.
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
  --fail-on none -o "$tmp/drift-07-to-01.sarif"
printf '{"schema_version": 1, "suppressions": [{"rule": "DFA003", "match": "web", "justification": "lab"}]}' >"$tmp/sup.json"
"$DFA_BIN" scan --snapshot "$scenarios/01-bypass-nft/snapshot.json" --format sarif --fail-on none \
  --suppressions "$tmp/sup.json" -o "$tmp/suppressed-01.sarif"
grep -q '"suppressions"' "$tmp/suppressed-01.sarif" || { echo "FAIL suppressed-01: no suppressions in the SARIF"; exit 1; }
# Every recording of every Docker version (NAME/ and NAME/docker-VERSION/).
for snap in "$scenarios"/*/snapshot.json "$scenarios"/*/docker-*/snapshot.json; do
  rel=${snap#"$scenarios"/}
  rel=${rel%/snapshot.json}
  "$DFA_BIN" scan --snapshot "$snap" --format sarif --fail-on none -o "$tmp/${rel//\//_}.sarif"
done
for f in "$tmp"/*.sarif; do
  name=$(basename "$f" .sarif)
  if ! out=$(cd "$tool_dir" && npx --no-install sarif-multitool validate "$f" 2>&1); then
    echo "FAIL $name: the multitool did not run: $out"
    failures=$((failures + 1))
  elif grep -qE ': error |error SARIF|ERROR' <<<"$out"; then
    echo "FAIL $name:"
    grep -E 'error' <<<"$out"
    failures=$((failures + 1))
  else
    echo "ok   $name ($(grep -c 'warning' <<<"$out" || true) warnings)"
  fi
done
echo "sarif: $failures failures"
[ "$failures" = 0 ]
