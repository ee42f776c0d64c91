#!/usr/bin/env bash
# Configures and builds emogate into build/ (release) or build-asan/
# (clang, ASan+UBSan, libFuzzer targets) when called with "asan".
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if [[ "${1:-}" == "asan" ]]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DEMOGATE_SANITIZE=ON -DEMOGATE_FUZZ=ON -DEMOGATE_FUZZ_SECONDS="${EMOGATE_FUZZ_SECONDS:-10}" >/dev/null
  cmake --build build-asan -j"$jobs"
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$jobs"
fi
