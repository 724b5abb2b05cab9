#!/usr/bin/env bash
# Builds and runs every test: the release build's test suite (unit tests,
# CLI tests, C ABI tests from C and Go, package-consumer tests, the reference
# host's tests, and the host against a real kube-apiserver), the Python
# package's pytest suite, a clang-format check, the asan+ubsan
# build's test suite (all but the package tests, which rebuild the library,
# and the kube-apiserver scenarios)
# and the concurrency test under TSan. CARBONKUBE_TEST_SANITIZERS=0 skips the
# two sanitizer builds. Then the fuzz targets, briefly (fuzz/ci.sh;
# CARBONKUBE_TEST_FUZZ=0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
ctest --preset release --parallel "$(nproc)" --label-exclude kube
# carbonkube-host against a real kube-apiserver + etcd built from the Go module
# proxy (tests/kube, docs/kube-integration.md): on its own, since its
# leader-election and restart scenarios measure time.
ctest --preset release --label-regex kube
# The Python package, installed into .venv/ (scripts/python.sh), and its tests.
bash scripts/python.sh
.venv/bin/python -m pytest -q
bash scripts/format.sh --check
if [ "${CARBONKUBE_TEST_SANITIZERS:-1}" != 0 ]; then
  bash scripts/build.sh asan
  ctest --preset asan --parallel "$(nproc)" --label-exclude 'package|kube'
  bash scripts/build.sh tsan
  ctest --preset tsan --label-regex concurrency
fi
# Every fuzz target for a short bounded run from the committed corpus (about
# 5.5 minutes with the clang build); CARBONKUBE_TEST_FUZZ=0 skips it.
bash fuzz/ci.sh
echo "all tests passed"
