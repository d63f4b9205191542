#!/usr/bin/env bash
# explain --format dot|mermaid against explain's JSON (tests/cli/graph.py).
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
command -v dot > /dev/null || dfa_skip "graphviz is not installed (ci/install-deps.sh installs it)"
python3 "$DFA_SRC/tests/cli/graph.py" "$DFA_BIN" "$DFA_SRC"
