#!/usr/bin/env bash
# Debian packages for the lab, unpacked and never installed.
#
#   debian-pkg.sh unpack SUITE DIR PKG...   downloads PKG... from SUITE and
#                                           unpacks them into DIR/root
#
# apt-get downloads through a private sources list that names SUITE on the
# machine's own Debian mirror (read from its apt sources), with private
# lists, cache and status: the system's package lists and installed packages
# stay untouched, and no maintainer script runs. DIR/debs keeps the .deb
# files (their versions: dpkg-deb -f DIR/debs/PKG_*.deb Version).
set -euo pipefail

# The first Debian mirror the machine's apt sources name (one-line or deb822).
mirror() {
  local m
  m=$(grep -hoE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^[:space:]]+' | grep -v security | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

unpack() { # SUITE DIR PKG...
  local suite=$1 dir=$2 work deb
  shift 2
  work=$(mktemp -d "${TMPDIR:-/tmp}/dfa-pkg-fetch.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  : >"$work/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) $suite main" >"$work/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::State::Status=$work/status"
    -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq)
  apt-get "${opts[@]}" update >&2
  (cd "$work/debs" && apt-get "${opts[@]}" download "$@" >&2)
  rm -rf "$dir" && mkdir -p "$dir/root"
  for deb in "$work/debs"/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  mv "$work/debs" "$dir/debs"
}

case ${1:-} in
  unpack)
    shift
    [ $# -ge 3 ] || { echo "usage: debian-pkg.sh unpack SUITE DIR PKG..." >&2; exit 2; }
    unpack "$@"
    ;;
  *) echo "usage: debian-pkg.sh unpack SUITE DIR PKG..." >&2; exit 2 ;;
esac
