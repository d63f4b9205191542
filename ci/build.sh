#!/usr/bin/env bash
# Configures and builds dockfw-audit with warnings as errors.
# Usage: ci/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DDFA_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
