#!/usr/bin/env bash
# Counts agree across text, JSON, SARIF and HTML; the HTML report renders its
# matrix in headless Chromium (tests/cli/report_views.py).
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
command -v chromium > /dev/null || dfa_skip "chromium is not installed (ci/install-deps.sh installs it)"
/usr/bin/python3 -c "import PIL" 2>/dev/null || dfa_skip "python3-pil is not installed (ci/install-deps.sh installs it)"
dfa_tmpdir tmp
/usr/bin/python3 "$DFA_SRC/tests/cli/report_views.py" "$DFA_BIN" "$DFA_SRC" "$tmp"
