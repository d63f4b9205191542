#!/usr/bin/env bash
# SARIF from scan on every lab scenario must pass Microsoft's SARIF multitool
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
for dir in "$DFA_SRC"/fixtures/scenarios/*/; do
  name=$(basename "$dir")
  "$DFA_BIN" scan --snapshot "$dir/snapshot.json" --format sarif --fail-on none -o "$tmp/$name.sarif"
  if ! out=$(cd "$tool_dir" && npx --no-install sarif-multitool validate "$tmp/$name.sarif" 2>&1); then
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
