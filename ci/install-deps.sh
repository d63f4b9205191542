#!/usr/bin/env bash
# Installs everything dockfw-audit needs to build, test and run its lab on a
# fresh Debian 12 machine. Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake pkg-config
  libnftables-dev libnftnl-dev libmnl-dev libiptc-dev libfmt-dev nlohmann-json3-dev
  libcli11-dev libcurl4-openssl-dev doctest-dev libsimdjson-dev libxml2-dev
  nftables iptables iproute2 util-linux procps curl python3 conntrack
  docker.io busybox-static
  dbus-daemon python3-dbus python3-gi
  clang libclang-rt-14-dev
  zsh man-db groff-base graphviz
  chromium fonts-dejavu-core python3-pil
  prometheus ansible-core python3-yaml python3-jsonschema
)
# npm runs Microsoft's SARIF validator in the tests; use the machine's own
# Node.js where there is one, Debian's otherwise.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # policy-rc.d keeps the package scripts from starting dockerd/containerd in
  # the root namespace: the lab starts its own daemons inside namespaces.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi
