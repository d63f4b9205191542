# Shared helpers for shell tests: unique names, cleanup on any exit, skips.
# Source it; then use dfa_netns_new, dfa_on_exit, dfa_skip, dfa_fail.

: "${DFA_BIN:?DFA_BIN must point at the dockfw-audit binary}"
: "${DFA_SRC:?DFA_SRC must point at the source tree}"

dfa_cleanups=()
dfa_on_exit() { dfa_cleanups+=("$*"); }
dfa_run_cleanups() {
  local i
  for ((i = ${#dfa_cleanups[@]} - 1; i >= 0; i--)); do eval "${dfa_cleanups[$i]}" >/dev/null 2>&1 || true; done
}
trap dfa_run_cleanups EXIT

dfa_skip() { echo "SKIP: $*"; exit 77; }
dfa_fail() { echo "FAIL: $*" >&2; exit 1; }

# A unique, short name (interface and netns names are limited to 15 chars).
dfa_name() { printf '%s%04x%04x' "$1" $$ $((RANDOM)); }

# Creates a throwaway network namespace, removed on exit; prints its name.
dfa_netns_new() {
  local ns
  ns=$(dfa_name "${1:-dfa}")
  ip netns add "$ns" 2>/dev/null || return 1
  ip -n "$ns" link set lo up
  echo "$ns"
}

dfa_require_netns() {
  [ "$(id -u)" = 0 ] || dfa_skip "needs root to create network namespaces"
  local probe
  probe=$(dfa_netns_new probe) || dfa_skip "cannot create network namespaces here"
  ip netns del "$probe"
}

# Sets the variable named $1 to a fresh directory, removed on exit. (Not
# $(...): cleanups registered in a subshell would be lost.)
dfa_tmpdir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/dfa-test.XXXXXX")
  dfa_on_exit "rm -rf '$d'"
  printf -v "$1" '%s' "$d"
}
