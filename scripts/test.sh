#!/usr/bin/env bash
# Builds and runs every test: the release build's test suite (unit tests,
# CLI tests, package-consumer tests), a clang-format check, and the asan+ubsan
# build's test suite. Set CARBONKUBE_TEST_SANITIZERS=0 to skip the sanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
ctest --preset release --parallel "$(nproc)"
bash scripts/format.sh --check
if [ "${CARBONKUBE_TEST_SANITIZERS:-1}" != 0 ]; then
  bash scripts/build.sh asan
  ctest --preset asan --parallel "$(nproc)" --label-exclude package
fi
echo "all tests passed"
