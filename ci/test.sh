#!/usr/bin/env bash
# The one test command (README, .ci/run): install, build with warnings as
# errors, run every test; then the unit and kernel tests again under ASan and
# UBSan; then every reader under libFuzzer for a short while (clang). The
# Debian package is built, checked by lintian and installed in between.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh build
(cd build && ctest --output-on-failure -j2)
bash ci/package.sh build/dist
bash ci/build.sh build-asan -DDFA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure -j2 -L 'unit|kernel')
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DDFA_WERROR=ON -DDFA_FUZZ=ON -DDFA_FUZZ_SECONDS="${DFA_FUZZ_SECONDS:-20}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzzers
(cd build-fuzz && ctest --output-on-failure -L fuzz)
