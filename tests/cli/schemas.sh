#!/usr/bin/env bash
# JSON outputs against docs/schemas (tests/cli/schemas.py says what is checked).
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
python3 -c "import jsonschema" 2>/dev/null || dfa_skip "python3-jsonschema is not installed (ci/install-deps.sh installs it)"
dfa_tmpdir tmp
python3 "$DFA_SRC/tests/cli/schemas.py" "$DFA_BIN" "$DFA_SRC" "$tmp"
