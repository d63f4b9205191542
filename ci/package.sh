#!/usr/bin/env bash
# Builds the Debian package from this tree (docs/packaging.md), checks it with
# lintian (no error, no warning) and installs it into this root: the binary
# runs, the man page and completions are where man and the shells look, and
# the units are known to systemd's paths. Then removes it again.
# Usage: ci/package.sh [OUTDIR]   (default: dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")
export DEBIAN_FRONTEND=noninteractive
need=(debhelper dpkg-dev lintian file man-db)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# dpkg-buildpackage writes beside the tree: build in a copy of the tracked
# files so neither the checkout nor its parent is touched.
work=$(mktemp -d /tmp/dfa-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/dockfw-audit"
git ls-files -co --exclude-standard | grep -v -E '^(build[^/]*|dist)/' | tar -cf - -T - | tar -xf - -C "$work/dockfw-audit"
# The tests run on this tree before (ci/test.sh): nocheck builds none of them.
(cd "$work/dockfw-audit" &&
  DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) || {
  tail -40 "$work/build.log"
  echo "package: dpkg-buildpackage failed" >&2
  exit 1
}
mkdir -p "$out"
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
changes=$(ls "$out"/dockfw-audit_*.changes | tail -1)
deb=$(ls "$out"/dockfw-audit_*_"$(dpkg --print-architecture)".deb | tail -1)

# lintian: errors and warnings fail; overrides are in debian/*.lintian-overrides.
lintian --fail-on error,warning --tag-display-limit 0 "$changes"

# Installed into this root (no container needed), then removed.
dpkg -i "$deb" >/dev/null
trap 'dpkg --purge dockfw-audit >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
dockfw-audit --version | grep -q "^dockfw-audit " || { echo "package: the installed binary does not run" >&2; exit 1; }
man -w dockfw-audit | grep -q "/usr/share/man/man8/dockfw-audit.8" || { echo "package: man -w finds no page" >&2; exit 1; }
[ -f /usr/share/bash-completion/completions/dockfw-audit ] || { echo "package: no bash completion" >&2; exit 1; }
[ -f /usr/share/zsh/vendor-completions/_dockfw-audit ] || { echo "package: no zsh completion" >&2; exit 1; }
grep -q "^ExecStart=/usr/sbin/dockfw-audit drift " /lib/systemd/system/dockfw-audit-drift.service ||
  { echo "package: the unit does not name /usr/sbin/dockfw-audit" >&2; exit 1; }
file -L /usr/sbin/dockfw-audit | grep -q "stripped" && ! file -L /usr/sbin/dockfw-audit | grep -q "not stripped" ||
  { echo "package: the binary is not stripped" >&2; exit 1; }
ls "$out"/dockfw-audit-dbgsym_*.deb >/dev/null || { echo "package: no debug symbols package" >&2; exit 1; }
echo "ok package: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB), lintian clean, installs and runs"
