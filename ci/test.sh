#!/usr/bin/env bash
# The one test command (README, .ci/run): install, build with warnings as
# errors, run every test; then the unit and kernel tests again under ASan and
# UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh build
(cd build && ctest --output-on-failure -j2)
bash ci/build.sh build-asan -DDFA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure -j2 -L 'unit|kernel')
