#!/usr/bin/env bash
# Configures (once) and builds a CMake preset: release (build/, the default),
# debug, asan or tsan (build-<preset>/).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
bash scripts/setup.sh
dir=build
[ "$preset" = release ] || dir="build-$preset"
[ -f "$dir/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$(nproc)"
