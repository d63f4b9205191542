#!/usr/bin/env bash
# cmake --install into a scratch prefix: the binary, and units and the cron
# example that name the binary where this prefix puts it (not /usr/local).
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_tmpdir tmp
build=${DFA_BUILD_DIR:?}
cmake --install "$build" --prefix "$tmp/usr" >"$tmp/log" 2>&1 || dfa_fail "cmake --install failed: $(tail -5 "$tmp/log")"
[ -x "$tmp/usr/sbin/dockfw-audit" ] || dfa_fail "no $tmp/usr/sbin/dockfw-audit"
unit=$tmp/usr/lib/systemd/system/dockfw-audit-drift.service
grep -q "^ExecStart=$tmp/usr/sbin/dockfw-audit drift " "$unit" || dfa_fail "the unit's ExecStart: $(grep ExecStart "$unit")"
grep -q "$tmp/usr/sbin/dockfw-audit drift" "$tmp/usr/share/doc/dockfw-audit/examples/dockfw-audit" ||
  dfa_fail "the cron example does not name the installed binary"
! grep -rq /usr/local/sbin "$tmp/usr/lib/systemd/system" || dfa_fail "a unit still names /usr/local/sbin"
cmp -s <(sed "s#$tmp/usr/sbin#/usr/local/sbin#g" "$unit") "$DFA_SRC/packaging/systemd/dockfw-audit-drift.service" ||
  dfa_fail "the installed unit differs from packaging/ beyond the binary's path"
"$tmp/usr/sbin/dockfw-audit" --version | grep -q "^dockfw-audit " || dfa_fail "the installed binary does not run"
echo "ok install: binary, units and cron example under $tmp/usr"
