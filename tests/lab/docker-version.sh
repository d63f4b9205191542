#!/usr/bin/env bash
# Docker versions for the lab, from Debian's own packages.
#
#   docker-version.sh bindir VERSION   prints a directory to put first on PATH
#                                      for dockerd VERSION (fetching it once)
#   docker-version.sh list             the versions the lab knows
#
# 20.10 is Debian 12's docker.io, installed by ci/install-deps.sh. The newer
# ones are downloaded from their suite and unpacked, never installed, by
# debian-pkg.sh (private apt lists and status, the machine's own mirror) into
# the cache ($DFA_DOCKER_CACHE, default /var/cache/dfa-lab/docker) and run on
# Debian 12: their dockerd, containerd, shim and docker-proxy do; unstable's
# runc needs a newer glibc, so the directory holds a link to Debian 12's runc,
# found before theirs.
set -euo pipefail

cache=${DFA_DOCKER_CACHE:-/var/cache/dfa-lab/docker}

suite_of() {
  case $1 in
    20.10) echo bookworm ;;
    26.1) echo trixie ;;
    28.5) echo sid ;;
    *) echo "docker-version.sh: unknown Docker version '$1' (known: 20.10 26.1 28.5)" >&2; return 1 ;;
  esac
}

fetch() { # VERSION SUITE DIR
  local version=$1 suite=$2 dir=$3
  bash "$(dirname "${BASH_SOURCE[0]}")/debian-pkg.sh" unpack "$suite" "$dir.new" docker.io containerd
  local got
  got=$(dpkg-deb -f "$dir.new/debs"/docker.io_*.deb Version)
  case $got in
    "$version".*) ;;
    *) echo "docker-version.sh: $suite now carries docker.io $got, not $version" >&2; return 1 ;;
  esac
  mkdir -p "$dir.new/bin"
  # The links name the final directory (they resolve once it is moved there).
  # docker-init links to tini-static, which is not fetched: no link for it.
  local b p
  for b in dockerd docker-proxy containerd containerd-shim-runc-v2 ctr; do
    for p in usr/sbin/$b usr/bin/$b; do
      [ -e "$dir.new/root/$p" ] && ln -sf "$dir/root/$p" "$dir.new/bin/$b" && break
    done
  done
  ln -sf "$(command -v runc)" "$dir.new/bin/runc"
  echo "$got" >"$dir.new/version"
  rm -rf "$dir" && mv "$dir.new" "$dir"
}

case ${1:-} in
  list) echo "20.10 26.1 28.5" ;;
  bindir)
    version=${2:?usage: docker-version.sh bindir VERSION}
    suite=$(suite_of "$version")
    if [ "$version" = 20.10 ]; then
      v=$(dockerd --version 2>/dev/null || true)
      case $v in *" 20.10."*) ;; *) echo "docker-version.sh: dockerd on PATH is not 20.10: $v" >&2; exit 1 ;; esac
      echo /usr/sbin
      exit 0
    fi
    dir=$cache/$version
    if [ ! -x "$dir/bin/dockerd" ]; then
      mkdir -p "$cache"
      exec 9>"$cache/.lock"
      flock 9
      [ -x "$dir/bin/dockerd" ] || fetch "$version" "$suite" "$dir"
    fi
    echo "$dir/bin"
    ;;
  *) echo "usage: docker-version.sh bindir VERSION | list" >&2; exit 2 ;;
esac
