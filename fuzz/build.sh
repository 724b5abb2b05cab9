#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan + UBSan) into build-fuzzers/bin/.
# Usage: fuzz/build.sh [BUILD_DIR] (default: <repo>/build-fuzzers).
# CARBONKUBE_FUZZ_JOBS sets the parallel jobs (default 2). Compiles through
# ccache when it is installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build-fuzzers}"

"$here/setup.sh"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  "${launcher[@]}" -DCMAKE_BUILD_TYPE= >/dev/null
cmake --build "$build" -j "${CARBONKUBE_FUZZ_JOBS:-2}"
