#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan + UBSan) into build-fuzzers/bin/.
# Usage: fuzz/build.sh [BUILD_DIR] (default: <repo>/build-fuzzers).
# CARBONKUBE_FUZZ_JOBS sets the parallel jobs (default 2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build-fuzzers}"

"$here/setup.sh"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE= >/dev/null
cmake --build "$build" -j "${CARBONKUBE_FUZZ_JOBS:-2}"
